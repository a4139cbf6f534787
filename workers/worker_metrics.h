/* A worker's Prometheus metrics (docs/METRICS.md). What only exists when it
 * happens -- checkpoint latency, group-commit sizes, takeover durations,
 * control messages by type, the counters of tunnels already freed -- is
 * recorded through the hooks below; everything else is read from struct
 * worker when /metrics is scraped, on the loop thread. */
#ifndef TANDEM_WORKER_METRICS_H
#define TANDEM_WORKER_METRICS_H

#include <stdint.h>

#include "l2tp_const.h"
#include "l2tp_header.h"
#include "lns.h"
#include "metrics.h"
#include "metrics_http.h"
#include "transport.h"

struct worker;
struct tunnel;

/* rx_by_type slots: message types 0 (ZLB) .. L2TP_MSG_TYPE_MAX, then one for
 * a first AVP that is not a readable Message Type. */
#define WORKER_METRICS_OTHER_TYPE (L2TP_MSG_TYPE_MAX + 1)

struct worker_metrics {
	struct metrics_http http;		   /* the /metrics endpoint */
	struct metrics_histogram ckpt_seconds;	   /* send -> Redis reply */
	struct metrics_histogram ckpt_batch;	   /* checkpoints per round */
	struct metrics_histogram takeover_seconds; /* shard load time */
	struct metrics_histogram loop_lag_seconds; /* worker_lag.c ticks */
	unsigned round_ckpts; /* checkpoints sent this loop iteration */
	uint64_t rx_by_type[WORKER_METRICS_OTHER_TYPE + 1]; /* control
							       messages */
	struct lns_stats gone;		/* summed counters of freed tunnels */
	struct transport_stats gone_tx; /* the same for their transports */
};

/* Serve /metrics on addr (addr->text "" = off: w->metrics stays NULL).
 * Returns 0 or -errno with err saying why (the process should not start). */
int worker_metrics_start(struct worker *w, const struct config_addr *addr,
			 char *err, size_t errlen);
/* After uv_run returned: stop serving, free w->metrics. */
void worker_metrics_stop(struct worker *w);

/* Hooks, each a no-op while w->metrics is NULL. */
/* A control message (header h decoded from datagram p) arrived. */
void worker_metrics_rx_control(struct worker *w, const uint8_t *p,
			       const struct l2tp_header *h);
/* One tunnel checkpoint was handed to Redis in this loop iteration. */
void worker_metrics_ckpt_sent(struct worker *w);
/* Redis acknowledged a checkpoint sent at uv_hrtime() sent_ns. */
void worker_metrics_ckpt_done(struct worker *w, uint64_t sent_ns);
/* End of a flush: the iteration's checkpoints formed one pipelined round. */
void worker_metrics_round_end(struct worker *w);
/* A shard with tunnels finished loading ms after it became ours. */
void worker_metrics_takeover(struct worker *w, uint64_t ms);
/* The loop-lag timer fired `seconds` late (worker_lag.c). */
void worker_metrics_loop_lag(struct worker *w, double seconds);
/* Tunnel t is about to be freed: keep its counters in the totals. */
void worker_metrics_tunnel_gone(struct worker *w, const struct tunnel *t);

#endif
