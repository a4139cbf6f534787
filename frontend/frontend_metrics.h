/* A frontend's Prometheus metrics (docs/METRICS.md): every counter of struct
 * frontend_stats, the datagrams each worker got, the shard map's state. Read
 * when /metrics is scraped, on the loop thread; nothing recorded elsewhere. */
#ifndef TANDEM_FRONTEND_METRICS_H
#define TANDEM_FRONTEND_METRICS_H

#include <stddef.h>

#include "config.h"
#include "frontend.h"
#include "metrics.h"
#include "metrics_http.h"

/* Fill m with fe's metrics (metrics_collect_fn; arg is the frontend). */
void frontend_metrics_collect(void *arg, struct metrics *m);

/* Serve fe's metrics on addr (addr->text "" = off: h stays idle). Returns
 * 0 or -errno with err saying why. metrics_http_close stops it. */
int frontend_metrics_start(struct metrics_http *h, struct frontend *fe,
			   const struct config_addr *addr, char *err,
			   size_t errlen);

#endif
