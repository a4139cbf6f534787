/* Admission of new calls: each tunnel queues its call slots; tunnels with
 * window room take turns on a ready list; lac_sched bounds the concurrency
 * and the rate. Tunnels are opened here too, before any call. */
#include "lac_run_int.h"

/* A tunnel may place a call when its transport has window to put the ICRQ
 * on the wire at once: calls queued behind a full window would wait there,
 * their ICCNs behind them, and the setup latency would measure our queue. */
static bool lac_run_admit_room(const struct lac_conn *c)
{
	return c->t.tx.n_queued < c->t.tx.peer_rws;
}

/* Tunnels take turns (round robin) on the ready list: those with waiting
 * calls and window room, or with waiting calls to drop (tunnel gone). */
void lac_run_admit_ready(struct lac_run *run, struct lac_conn *c)
{
	if (c->ready || !c->n_pend)
		return;
	if (c->t.state == LAC_TUNNEL_ESTABLISHED && !lac_run_admit_room(c))
		return; /* back when an acknowledgement frees the window */
	c->ready = true;
	c->rnext = NULL;
	if (run->ready_tail)
		run->ready_tail->rnext = c;
	else
		run->ready_head = c;
	run->ready_tail = c;
}

struct lac_conn *lac_run_admit_pop(struct lac_run *run)
{
	struct lac_conn *c = run->ready_head;
	if (!c)
		return NULL;
	run->ready_head = c->rnext;
	if (!run->ready_head)
		run->ready_tail = NULL;
	c->rnext = NULL;
	c->ready = false;
	return c;
}

static void lac_run_admit_push_front(struct lac_run *run, struct lac_conn *c)
{
	c->ready = true;
	c->rnext = run->ready_head;
	run->ready_head = c;
	if (!run->ready_tail)
		run->ready_tail = c;
}

/* A call slot joins its tunnel's queue of calls to place. */
void lac_run_admit_enqueue(struct lac_run *run, struct lac_session *s)
{
	struct lac_conn *c = s->tunnel->owner;
	if (s->queued)
		return;
	s->queued = true;
	s->qnext = NULL;
	if (c->pend_tail)
		c->pend_tail->qnext = s;
	else
		c->pend_head = s;
	c->pend_tail = s;
	c->n_pend++;
	run->n_pending++;
	lac_run_admit_ready(run, c);
}

struct lac_session *lac_run_admit_dequeue(struct lac_run *run,
					  struct lac_conn *c)
{
	struct lac_session *s = c->pend_head;
	if (!s)
		return NULL;
	c->pend_head = s->qnext;
	if (!c->pend_head)
		c->pend_tail = NULL;
	s->qnext = NULL;
	s->queued = false;
	c->n_pend--;
	run->n_pending--;
	return s;
}

static void lac_run_admit_timer_cb(uv_timer_t *h)
{
	lac_run_after(h->data);
}

/* Start what the concurrency and rate allow: tunnels first, then one call
 * per ready tunnel in turn. */
void lac_run_admit(struct lac_run *run)
{
	uint64_t now = uv_now(&run->loop);
	struct lac_conn *c;

	while (run->next_open < run->n_conns && lac_sched_has_room(&run->sched))
		lac_run_io_open_tunnel(run, &run->conns[run->next_open++]);
	while ((c = lac_run_admit_pop(run))) {
		struct lac_tunnel *t = &c->t;
		if (t->state != LAC_TUNNEL_ESTABLISHED) {
			/* The tunnel went: its waiting calls never start. */
			while (lac_run_admit_dequeue(run, c))
				if (!run->opts->churn)
					run->stats.session_fail
						[LAC_WHY_TUNNEL_DOWN]++;
			continue;
		}
		if (!lac_run_admit_room(c))
			continue;
		if (!lac_sched_take_session(&run->sched, now)) {
			lac_run_admit_push_front(run, c);
			break;
		}
		struct lac_session *s = lac_run_admit_dequeue(run, c);
		s->started_ns = uv_hrtime();
		int rc = lac_tunnel_call(t, s, now);
		if (rc < 0) {
			lac_sched_done(&run->sched);
			run->stats.session_fail[LAC_WHY_SEND_ERROR]++;
		} else {
			run->stats.sessions_attempted++;
		}
		lac_run_io_after(c); /* timer; back on the list's tail */
	}
	if (run->ready_head && lac_sched_has_room(&run->sched)) {
		/* Held back by the rate: come back when a token is due. */
		uint64_t wait = lac_sched_wait_ms(&run->sched, now);
		uv_timer_start(&run->admit_timer, lac_run_admit_timer_cb,
			       wait ? wait : 1, 0);
	}
}
