/* One tandem-lac run (lac_run.h): set-up, the libuv loop, the decision
 * after every event, signals and --duration, and the results. The other
 * lac_run_*.c files hold the parts (see lac_run_int.h). */
#include "lac_run.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include "lac_run_int.h"
#include "log.h"

#define LAC_RUN_FD_SPARE     64	  /* descriptors kept for everything else */
#define LAC_RUN_STOP_HOLD_MS 2000 /* 5.7 hold after the LNS's StopCCN */
#define LAC_RUN_ACK_DELAY_MS 20	  /* wait for a piggyback before a ZLB */

/* After every event: admit new setups, then see whether the run is over. */
void lac_run_after(struct lac_run *run)
{
	if (run->finished)
		return;
	if (!run->stopping) {
		lac_run_admit(run);
		bool all_started = run->next_open == run->n_conns &&
				   !run->n_pending && run->sched.in_flight == 0;
		if (all_started && run->n_done == run->n_opened) {
			lac_run_end_stop(run, "done"); /* nothing left alive */
		} else if (all_started && !run->opts->duration_ms &&
			   (!run->opts->hold_ms || run->sessions_up == 0)) {
			/* Every setup (and with --hold every call) is over;
			 * with --duration the calls stay up until it ends. */
			lac_run_end_stop(run, "done");
		}
		if (all_started)
			lac_run_data_maybe_start(run);
	}
	if (!run->stopping || run->finished)
		return;
	lac_run_end_close_more(run);
	if (run->n_done == run->n_opened)
		lac_run_end_finish(run);
}

static void lac_run_duration_cb(uv_timer_t *h)
{
	struct lac_run *run = h->data;
	lac_run_end_stop(run, "duration");
	lac_run_after(run);
}

static void lac_run_signal_cb(uv_signal_t *h, int signum)
{
	struct lac_run *run = h->data;
	log_warn("signal", "signum=%d", signum);
	if (run->stopping) {
		lac_run_end_finish(run); /* second signal: do not wait */
		return;
	}
	lac_run_end_stop(run, "signal");
	lac_run_after(run);
}

/* One descriptor per socket: raise the limit as far as allowed (the hard
 * limit too when we may, CAP_SYS_RESOURCE). Returns the descriptors there
 * are for sockets. */
static rlim_t lac_run_raise_nofile(unsigned sockets)
{
	struct rlimit rl;
	rlim_t need = (rlim_t)sockets + LAC_RUN_FD_SPARE;
	if (getrlimit(RLIMIT_NOFILE, &rl) < 0)
		return sockets; /* cannot tell: try */
	if (rl.rlim_cur < need && rl.rlim_max != RLIM_INFINITY &&
	    rl.rlim_max < need) {
		struct rlimit up = {need, need};
		if (setrlimit(RLIMIT_NOFILE, &up) == 0)
			rl = up;
	}
	if (rl.rlim_cur < need) {
		rl.rlim_cur = rl.rlim_max == RLIM_INFINITY || rl.rlim_max > need
				      ? need
				      : rl.rlim_max;
		if (setrlimit(RLIMIT_NOFILE, &rl) < 0)
			getrlimit(RLIMIT_NOFILE, &rl);
	}
	return rl.rlim_cur > LAC_RUN_FD_SPARE ? rl.rlim_cur - LAC_RUN_FD_SPARE
					      : 1;
}

/* Ports the kernel hands out for bind(port 0): net.ipv4.ip_local_port_range
 * (IPv6 uses it too), less a tenth for other sockets on the address. */
static unsigned lac_run_ephemeral_ports(void)
{
	unsigned lo = 32768, hi = 60999; /* Linux's default */
	FILE *f = fopen("/proc/sys/net/ipv4/ip_local_port_range", "r");
	if (f) {
		if (fscanf(f, "%u %u", &lo, &hi) != 2 || hi < lo)
			lo = 32768, hi = 60999;
		fclose(f);
	}
	unsigned n = hi - lo + 1;
	return n - n / 10 > 0 ? n - n / 10 : 1;
}

/* Tunnels per socket: --tunnels-per-socket, else one each when the
 * descriptors and the ephemeral ports go round, else as few as fit. */
static unsigned lac_run_per_socket(const struct lac_opts *o)
{
	unsigned n = o->tunnels;
	if (o->per_socket) {
		lac_run_raise_nofile((n + o->per_socket - 1) / o->per_socket);
		return o->per_socket;
	}
	rlim_t fds = lac_run_raise_nofile(n);
	unsigned room = lac_run_ephemeral_ports();
	if (fds < room)
		room = (unsigned)fds;
	if (n <= room)
		return 1;
	unsigned per = (n + room - 1) / room;
	log_warn("tunnels share sockets",
		 "tunnels=%u sockets=%u per_socket=%u descriptors=%llu "
		 "ephemeral_ports=%u",
		 n, (n + per - 1) / per, per, (unsigned long long)fds,
		 lac_run_ephemeral_ports());
	return per;
}

static void lac_run_config(struct lac_run *run)
{
	const struct lac_opts *o = run->opts;
	struct lac_cfg *cfg = &run->cfg;

	cfg->hostname = o->hostname;
	if (o->secret)
		cfg->secret = (struct l2tp_secret){(const uint8_t *)o->secret,
						   strlen(o->secret)};
	cfg->hide_avps = o->hide;
	cfg->hide_sccrq = o->hide_sccrq;
	cfg->tx.our_rws = (uint16_t)o->window;
	cfg->tx.retransmit_initial_ms = (uint32_t)o->retransmit_ms;
	cfg->tx.retransmit_max_ms = (uint32_t)o->retransmit_max_ms;
	cfg->tx.max_retries = o->retries;
	cfg->tx.ack_delay_ms = LAC_RUN_ACK_DELAY_MS;
	cfg->hello_interval_ms = (uint32_t)o->hello_ms;
	cfg->stop_hold_ms = LAC_RUN_STOP_HOLD_MS;
	cfg->setup_timeout_ms = (uint32_t)o->setup_timeout_ms;
	cfg->session_hold_ms = (uint32_t)o->hold_ms;
	cfg->sessions = (uint16_t)o->sessions;

	run->env = (struct lac_env){
		.cfg = cfg,
		.output = lac_run_io_output,
		.random = lac_run_io_random,
		.tunnel_up = lac_run_count_tunnel_up,
		.tunnel_down = lac_run_count_tunnel_down,
		.session_up = lac_run_count_session_up,
		.session_down = lac_run_count_session_down,
		.ctx = run,
	};
}

/* Sum the engines' counters and fill the report's tunnel records. */
static int lac_run_collect(struct lac_run *run, struct lac_run_out *out)
{
	struct lac_stats *st = &run->stats;

	out->tunnels =
		calloc(run->n_conns ? run->n_conns : 1, sizeof(*out->tunnels));
	if (!out->tunnels)
		return -ENOMEM;
	for (unsigned i = 0; i < run->n_conns; i++) {
		struct lac_conn *c = &run->conns[i];
		struct lac_tunnel *t = &c->t;
		struct lac_report_tunnel *r = &out->tunnels[i];
		st->tx_messages += t->tx.stats.sent;
		st->tx_retransmits += t->tx.stats.retransmitted;
		st->tx_zlb += t->tx.stats.zlb_sent;
		st->rx_delivered += t->tx.stats.delivered;
		st->rx_duplicates += t->tx.stats.duplicates;
		st->rx_rejected += t->stats.rx_rejected;
		st->rx_unexpected += t->stats.rx_unexpected;
		st->hello_sent += t->stats.hello_sent;
		st->hello_received += t->stats.hello_rx;
		st->icrp_received += t->stats.icrp_rx;
		st->tx_errors += t->stats.send_errors;
		r->lac_tid = t->tid;
		r->lns_tid = t->peer_tid;
		r->local_port = c->local_port;
		r->ns = t->tx.ns_next;
		r->nr = t->tx.nr;
		r->unacked = t->tx.n_queued;
		r->state = lac_tunnel_fsm_state_name(t->state);
		r->stop_received = t->stop_received;
		r->stop_result = t->stop_result;
		r->sessions = c->snap;
		r->n_sessions = c->n_snap;
	}
	out->n_tunnels = run->n_conns;
	out->sessions = run->pool;
	run->pool = NULL;
	out->ended_by = run->ended_by ? run->ended_by : "done";
	out->probe = run->probe;
	lac_probe_init(&run->probe); /* now out's */
	st->elapsed_ms = (uv_hrtime() - run->start_ns) / 1000000u;
	out->stats = *st;
	return 0;
}

static void lac_run_free(struct lac_run *run)
{
	for (unsigned i = 0; i < run->n_conns; i++)
		lac_tunnel_free(&run->conns[i].t);
	free(run->conns);
	free(run->socks);
	free(run->pool);
	lac_probe_free(&run->probe);
	free(run);
}

int lac_run(const struct lac_opts *o, struct lac_run_out *out)
{
	struct lac_run *run = calloc(1, sizeof(*run));
	int rc;

	if (!run)
		return -ENOMEM;
	run->opts = o;
	run->start_ns = uv_hrtime();
	lac_run_config(run);
	run->per_sock = lac_run_per_socket(o);
	run->n_socks = (o->tunnels + run->per_sock - 1) / run->per_sock;
	run->socks = calloc(run->n_socks, sizeof(*run->socks));
	run->n_conns = o->tunnels;
	run->conns = calloc(o->tunnels, sizeof(*run->conns));
	run->pool_cap = (size_t)o->tunnels * o->sessions;
	run->pool =
		calloc(run->pool_cap ? run->pool_cap : 1, sizeof(*run->pool));
	if (!run->conns || !run->pool || !run->socks) {
		run->n_conns = 0; /* none initialised yet */
		rc = -ENOMEM;
		goto fail;
	}
	unsigned first_tid = o->first_tid;
	if (!first_tid) {
		uint8_t r[2];
		lac_run_io_random(run, r, sizeof(r));
		first_tid = (unsigned)(r[0] << 8 | r[1]) % 65535u + 1u;
	}
	run->first_tid = (uint16_t)first_tid;
	for (unsigned i = 0; i < run->n_socks; i++)
		run->socks[i].run = run;
	for (unsigned i = 0; i < run->n_conns; i++) {
		struct lac_conn *c = &run->conns[i];
		c->run = run;
		c->sock = &run->socks[i / run->per_sock];
		memcpy(&c->peer, &o->lns, sizeof(c->peer));
		/* Consecutive Tunnel IDs from a random start, skipping 0, so
		 * that a second run does not reuse the IDs of the first: an
		 * LNS still holding those tunnels could take our SCCRQs for
		 * retransmissions. */
		uint16_t tid = (uint16_t)((first_tid - 1u + i) % 65535u + 1u);
		rc = lac_tunnel_init(&c->t, &run->env, tid);
		if (rc < 0) {
			run->n_conns = i; /* free only those initialised */
			goto fail;
		}
		c->t.owner = c;
	}
	run->stats.tunnels_requested = o->tunnels;
	run->stats.sessions_requested = (uint64_t)o->tunnels * o->sessions;
	lac_hist_init(&run->stats.setup_latency);
	lac_hist_init(&run->stats.tunnel_latency);

	rc = uv_loop_init(&run->loop);
	if (rc < 0)
		goto fail;
	lac_sched_init(&run->sched, o->rate_per_s, o->concurrency,
		       uv_now(&run->loop));
	uv_timer_init(&run->loop, &run->admit_timer);
	run->admit_timer.data = run;
	uv_timer_init(&run->loop, &run->duration_timer);
	run->duration_timer.data = run;
	uv_timer_init(&run->loop, &run->close_timer);
	run->close_timer.data = run;
	uv_signal_init(&run->loop, &run->sig_int);
	run->sig_int.data = run;
	uv_signal_start(&run->sig_int, lac_run_signal_cb, SIGINT);
	uv_signal_init(&run->loop, &run->sig_term);
	run->sig_term.data = run;
	uv_signal_start(&run->sig_term, lac_run_signal_cb, SIGTERM);
	lac_run_probe_start(run);
	uv_idle_init(&run->loop, &run->data_idle);
	run->data_idle.data = run;
	if (o->duration_ms)
		uv_timer_start(&run->duration_timer, lac_run_duration_cb,
			       o->duration_ms, 0);

	lac_run_after(run);
	uv_run(&run->loop, UV_RUN_DEFAULT);
	uv_loop_close(&run->loop);

	rc = lac_run_collect(run, out);
	if (rc < 0)
		goto fail;
	lac_run_free(run);
	return 0;
fail:
	lac_run_free(run);
	return rc;
}

void lac_run_out_free(struct lac_run_out *out)
{
	free(out->tunnels);
	free(out->sessions);
	lac_probe_free(&out->probe);
	memset(out, 0, sizeof(*out));
}
