/* Engine callbacks that count: every requested tunnel and call ends up
 * counted once as established or failed with a reason, then (when it was up)
 * once more by how it ended. Also frees concurrency and queues churn. */
#include "lac_run_int.h"

void lac_run_count_tunnel_up(void *ctx, struct lac_tunnel *t)
{
	struct lac_run *run = ctx;
	struct lac_conn *c = t->owner;
	run->stats.tunnels_established++;
	lac_hist_record(&run->stats.tunnel_latency,
			(uv_hrtime() - c->opened_ns) / 1000u);
	if (c->in_flight) {
		c->in_flight = false;
		lac_sched_done(&run->sched);
	}
	for (unsigned i = 0; i < run->cfg.sessions; i++)
		lac_run_admit_enqueue(run, &t->sessions[i]);
}

void lac_run_count_tunnel_down(void *ctx, struct lac_tunnel *t, bool was_up,
			       enum lac_why why, uint16_t code)
{
	struct lac_run *run = ctx;
	struct lac_conn *c = t->owner;
	struct lac_stats *st = &run->stats;

	if (c->in_flight) {
		c->in_flight = false;
		lac_sched_done(&run->sched);
	}
	if (!was_up) {
		if (run->stopping && why == LAC_WHY_LOCAL)
			why = LAC_WHY_UNFINISHED;
		st->tunnel_fail[why]++;
		if (why == LAC_WHY_STOPCCN)
			st->tunnel_fail_stopccn[lac_report_code_slot(code)]++;
		/* Its calls were never placed. */
		st->session_fail[why == LAC_WHY_UNFINISHED
					 ? LAC_WHY_NOT_STARTED
					 : LAC_WHY_TUNNEL_FAILED] +=
			run->cfg.sessions;
		return;
	}
	if (why == LAC_WHY_STOPCCN) {
		st->tunnels_torn_down++;
		st->torn_down_stopccn[lac_report_code_slot(code)]++;
	} else if (why == LAC_WHY_LOCAL) {
		st->tunnels_closed++;
	} else {
		st->tunnel_lost[why]++;
	}
}

void lac_run_count_session_up(void *ctx, struct lac_tunnel *t,
			      struct lac_session *s)
{
	struct lac_run *run = ctx;
	(void)t;
	lac_sched_done(&run->sched);
	run->stats.sessions_established++;
	run->sessions_up++;
	lac_hist_record(&run->stats.setup_latency,
			(uv_hrtime() - s->started_ns) / 1000u);
}

void lac_run_count_session_down(void *ctx, struct lac_tunnel *t,
				struct lac_session *s, bool was_up,
				enum lac_why why, uint16_t code)
{
	struct lac_run *run = ctx;
	struct lac_stats *st = &run->stats;

	if (!was_up) {
		lac_sched_done(&run->sched);
		if (run->stopping && why == LAC_WHY_LOCAL) {
			if (run->opts->churn)
				st->sessions_aborted++;
			else
				st->session_fail[LAC_WHY_UNFINISHED]++;
		} else {
			st->session_fail[why]++;
			if (why == LAC_WHY_CDN)
				st->session_fail_cdn[lac_report_code_slot(
					code)]++;
		}
	} else {
		run->sessions_up--;
		if (why == LAC_WHY_CDN) {
			st->sessions_cleared_by_lns++;
			st->cleared_cdn[lac_report_code_slot(code)]++;
		} else if (why == LAC_WHY_LOCAL) {
			st->sessions_closed++;
		} else if (why == LAC_WHY_TUNNEL_DOWN) {
			st->sessions_lost_with_tunnel++;
		} else {
			st->session_fail[why]++;
		}
	}
	if (run->opts->churn && !run->stopping &&
	    t->state == LAC_TUNNEL_ESTABLISHED)
		lac_run_admit_enqueue(run, s);
}
