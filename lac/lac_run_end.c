/* The end of a run: calls never placed are counted, tunnels are torn down in
 * turn (CDN per call, then StopCCN) within --close-wait, the calls up at the
 * end are kept for the report, and every handle is closed. */
#include "lac_run_int.h"
#include "log.h"

static void lac_run_end_close_cb(uv_handle_t *h)
{
	(void)h;
}

static void lac_run_end_close_walk(uv_handle_t *h, void *arg)
{
	(void)arg;
	if (!uv_is_closing(h))
		uv_close(h, lac_run_end_close_cb);
}

/* Keep the calls that are up, for the report: what the LNS should hold for
 * this tunnel when the run ends, before any teardown. */
static void lac_run_end_snapshot(struct lac_run *run, struct lac_conn *c)
{
	if (c->snapped)
		return;
	c->snapped = true;
	c->snap = run->pool + run->pool_used;
	c->n_snap = 0;
	for (struct lac_session *s = c->t.up.head;
	     s && run->pool_used < run->pool_cap; s = s->next) {
		c->snap[c->n_snap].lns_sid = s->peer_sid;
		c->snap[c->n_snap].lac_sid = s->sid;
		c->n_snap++;
		run->pool_used++;
	}
	run->stats.sessions_up_at_end += c->n_snap;
}

/* A tunnel left as it is (--no-teardown, or the close wait ran out before
 * its turn): count what was mid-setup, without touching the wire. */
static void lac_run_end_abandon(struct lac_run *run, struct lac_conn *c)
{
	struct lac_tunnel *t = &c->t;
	if (lac_tunnel_in_setup(t)) {
		run->stats.tunnel_fail[LAC_WHY_UNFINISHED]++;
		run->stats.session_fail[LAC_WHY_NOT_STARTED] +=
			run->cfg.sessions;
		return;
	}
	for (struct lac_session *s = t->setup.head; s; s = s->next) {
		if (run->opts->churn)
			run->stats.sessions_aborted++;
		else
			run->stats.session_fail[LAC_WHY_UNFINISHED]++;
	}
}

/* Everything is over: last acks out, every handle closed; uv_run returns. */
void lac_run_end_finish(struct lac_run *run)
{
	if (run->finished)
		return;
	for (unsigned i = 0; i < run->n_conns; i++) {
		struct lac_conn *c = &run->conns[i];
		if (!c->handles_open)
			continue;
		lac_run_end_snapshot(run, c);
		if (!c->close_started) {
			/* Its turn to close never came. */
			if (!run->opts->no_teardown &&
			    lac_tunnel_is_live(&c->t)) {
				lac_run_end_abandon(run, c);
				run->stats.tunnels_close_unacked++;
			}
		} else if (c->t.stop_sent && !c->t.close_acked &&
			   !c->t.stop_received) {
			run->stats.tunnels_close_unacked++;
		}
		transport_flush_ack(&c->t.tx);
	}
	run->finished = true;
	lac_run_probe_stop(run);
	uv_walk(&run->loop, lac_run_end_close_walk, NULL);
}

static void lac_run_end_timer_cb(uv_timer_t *h)
{
	struct lac_run *run = h->data;
	log_warn("close wait over", "tunnels_open=%u",
		 run->n_opened - run->n_done);
	lac_run_end_finish(run);
}

/* Tear tunnels down in turn, at most --concurrency at once, so that the
 * end of a big run does not drown the LNS in CDNs and StopCCNs. */
void lac_run_end_close_more(struct lac_run *run)
{
	unsigned limit = run->opts->concurrency;
	uint64_t now = uv_now(&run->loop);

	while (run->close_next < run->n_conns &&
	       (!limit || run->n_closing < limit)) {
		struct lac_conn *c = &run->conns[run->close_next++];
		if (!c->handles_open || c->done)
			continue;
		lac_run_end_snapshot(run, c);
		c->close_started = true;
		lac_tunnel_shutdown(&c->t, now);
		lac_run_io_after(c);
		if (!c->done) {
			c->closing = true;
			run->n_closing++;
		}
	}
}

void lac_run_end_stop(struct lac_run *run, const char *why)
{
	if (run->stopping)
		return;
	run->stopping = true;
	run->ended_by = why;
	log_info("run ending", "why=%s tunnels_open=%u sessions_up=%llu", why,
		 run->n_opened - run->n_done,
		 (unsigned long long)run->sessions_up);
	uv_timer_stop(&run->admit_timer);
	uv_timer_stop(&run->duration_timer);
	/* Tunnels never opened and calls never placed. */
	for (; run->next_open < run->n_conns; run->next_open++) {
		run->stats.tunnel_fail[LAC_WHY_NOT_STARTED]++;
		run->stats.session_fail[LAC_WHY_NOT_STARTED] +=
			run->cfg.sessions;
	}
	while (lac_run_admit_pop(run))
		;
	for (unsigned i = 0; i < run->n_conns; i++) {
		struct lac_conn *c = &run->conns[i];
		while (lac_run_admit_dequeue(run, c)) {
			if (run->opts->churn)
				continue;
			run->stats.session_fail
				[c->t.state == LAC_TUNNEL_ESTABLISHED
					 ? LAC_WHY_NOT_STARTED
					 : LAC_WHY_TUNNEL_DOWN]++;
		}
	}
	if (run->opts->no_teardown) {
		for (unsigned i = 0; i < run->n_conns; i++) {
			struct lac_conn *c = &run->conns[i];
			if (!c->handles_open)
				continue;
			lac_run_end_snapshot(run, c);
			lac_run_end_abandon(run, c);
		}
		lac_run_end_finish(run);
		return;
	}
	uv_timer_start(&run->close_timer, lac_run_end_timer_cb,
		       run->opts->close_wait_ms, 0);
	/* lac_run_after starts the teardowns. */
}
