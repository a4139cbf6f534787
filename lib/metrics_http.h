/* GET /metrics over HTTP (libmicrohttpd) on the caller's libuv loop, without
 * threads: MHD runs in external-polling epoll mode, its epoll fd watched by a
 * uv_poll_t and its time-outs by a uv_timer_t, so each request -- and the
 * collect callback that reads the process's counters -- runs on the loop
 * thread and needs no lock. */
#ifndef TANDEM_METRICS_HTTP_H
#define TANDEM_METRICS_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <uv.h>

#include "config.h"
#include "metrics.h"

struct MHD_Daemon;

/* Fill m with the process's metrics (called on the loop thread for each
 * scrape). Errors are kept in m->error, which turns the answer into a 500. */
typedef void metrics_collect_fn(void *arg, struct metrics *m);

struct metrics_http {
	struct MHD_Daemon *daemon;   /* NULL: not serving */
	uv_loop_t *loop;	     /* caller's loop */
	uv_poll_t poll;		     /* MHD's epoll fd */
	uv_timer_t timer;	     /* MHD_get_timeout */
	metrics_collect_fn *collect; /* what a scrape reads */
	void *arg;		     /* its argument */
	char listen_text[80];	     /* address bound, e.g. 127.0.0.1:9101 */
	uint64_t scrapes;	     /* GET /metrics answered 200 */
	uint64_t errors;	     /* answered 500 (collect or render) */
	uint64_t not_found;	     /* other paths (404) and methods (405) */
};

/* Parse an ADDR:PORT given on a command line (--metrics) as the config key
 * metrics_listen would take it ("" = off). Returns 0, or -EINVAL with a
 * message naming opt in err. */
int metrics_http_parse(const char *opt, const char *text,
		       struct config_addr *out, char *err, size_t errlen);

/* Bind addr and serve. The loop handles are unreferenced: serving does not
 * keep uv_run going, and metrics stay readable while a process drains.
 * addr->text "" leaves h idle and returns 0. Returns 0, or -errno (bind
 * refused: -EADDRINUSE and the like) with err saying why. */
int metrics_http_start(struct metrics_http *h, uv_loop_t *loop,
		       const struct config_addr *addr,
		       metrics_collect_fn *collect, void *arg, char *err,
		       size_t errlen);

/* Stop serving: close the handles (their close completes in the next uv_run)
 * and the daemon with its connections. Idempotent. */
void metrics_http_close(struct metrics_http *h);

#endif
