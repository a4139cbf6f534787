/* The worker's event-loop lag: how late a timer due every WORKER_LAG_TICK_MS
 * fires. A late tick means the loop was busy (or the host starved it), and
 * the heartbeat that keeps our leases waits just as long: docs/TAKEOVER.md
 * says how lease_ttl relates to it. Exported in /metrics and, through the
 * heartbeat's value, in clusterctl status. */
#include "log.h"
#include "worker.h"
#include "worker_metrics.h"

#define WORKER_LAG_TICK_MS 25
#define WORKER_LAG_WINDOW_MS                                                   \
	10000 /* heartbeat's worst: this window and the
				      previous one */
/* A lag this long is logged (rate-limited): a third of what a heartbeat
 * may be late before the lease lapses, at the default settings. */
#define WORKER_LAG_WARN_MS 150

static void worker_lag_tick(uv_timer_t *t)
{
	struct worker *w = t->data;
	struct worker_lag *l = &w->lag;
	uint64_t now_ns = uv_hrtime();
	uint64_t due_ns = l->armed_ns + (uint64_t)WORKER_LAG_TICK_MS * 1000000;
	uint64_t lag_ns = now_ns > due_ns ? now_ns - due_ns : 0;
	uint64_t lag_ms = lag_ns / 1000000;
	worker_metrics_loop_lag(w, (double)lag_ns / 1e9);
	if (lag_ms > l->max_ms)
		l->max_ms = lag_ms;
	if (lag_ms > l->cur_ms)
		l->cur_ms = lag_ms;
	uint64_t now_ms = now_ns / 1000000;
	if (now_ms - l->window_started_ms >= WORKER_LAG_WINDOW_MS) {
		l->prev_ms = l->cur_ms;
		l->cur_ms = 0;
		l->window_started_ms = now_ms;
	}
	l->window_max_ms = l->prev_ms > l->cur_ms ? l->prev_ms : l->cur_ms;
	if (lag_ms >= WORKER_LAG_WARN_MS)
		LOG_RL(LOG_LEVEL_WARN, "event loop was late",
		       "lag_ms=%llu lease_ttl_ms=%u lease_renew_ms=%u",
		       (unsigned long long)lag_ms, w->cfg.lease_ttl_ms,
		       w->cfg.lease_renew_ms);
	l->armed_ns = now_ns;
	uv_timer_start(t, worker_lag_tick, WORKER_LAG_TICK_MS, 0);
}

void worker_lag_start(struct worker *w)
{
	struct worker_lag *l = &w->lag;
	uv_timer_init(w->loop, &l->timer);
	l->timer.data = w;
	l->armed_ns = uv_hrtime();
	l->window_started_ms = l->armed_ns / 1000000;
	/* libuv computes the due time from the loop's cached clock, which
	 * may be behind armed_ns: a tick that comes early counts as 0. */
	uv_timer_start(&l->timer, worker_lag_tick, WORKER_LAG_TICK_MS, 0);
	uv_unref((uv_handle_t *)&l->timer);
}

void worker_lag_stop(struct worker *w)
{
	uv_timer_stop(&w->lag.timer);
	uv_close((uv_handle_t *)&w->lag.timer, NULL);
}
