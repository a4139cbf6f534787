/* The takeover probe on the run's loop (--probe): SIGUSR1 arrives through a
 * uv_signal_t (libuv's own handler only wakes the loop, so nothing here runs
 * in signal context), begins a round and sends a HELLO on every established
 * tunnel; after every event on a tunnel, its HELLO's acknowledgement is
 * looked for. The rounds themselves are lac_probe.c. */
#include <signal.h>
#include <string.h>

#include "l2tp_seq.h"
#include "lac_run_int.h"
#include "log.h"

static void lac_run_probe_signal_cb(uv_signal_t *h, int signum)
{
	struct lac_run *run = h->data;
	uint64_t t0_ns = uv_hrtime();
	unsigned hellos = 0;
	int rc;

	(void)signum;
	if (run->stopping) {
		log_warn("probe ignored: the run is ending", "rounds=%u",
			 run->probe.n_rounds);
		return;
	}
	rc = lac_probe_round_new(&run->probe, t0_ns,
				 (t0_ns - run->start_ns) / 1000000u,
				 run->n_conns);
	if (rc < 0) {
		log_error("probe ignored", "err=%s", strerror(-rc));
		return;
	}
	/* Retransmission deadlines count from now, not from when this loop
	 * iteration began. */
	uv_update_time(&run->loop);
	uint64_t now = uv_now(&run->loop);
	for (unsigned i = 0; i < run->n_conns; i++) {
		struct lac_conn *c = &run->conns[i];
		if (!c->handles_open || c->t.state != LAC_TUNNEL_ESTABLISHED)
			continue;
		if (!lac_probe_join(&run->probe, &c->probe))
			continue; /* its HELLO of the last round is still out */
		rc = lac_tunnel_hello(&c->t, now);
		if (rc < 0)
			continue; /* counted, and unanswered */
		lac_probe_sent(&run->probe, &c->probe, (uint16_t)rc);
		hellos++;
		lac_run_io_after(c); /* arms the retransmission timer */
	}
	const struct lac_probe_round *r =
		&run->probe.rounds[run->probe.n_rounds - 1];
	log_info("probe round", "round=%u at_ms=%llu tunnels=%u hellos=%u",
		 run->probe.n_rounds, (unsigned long long)r->at_ms, r->tunnels,
		 hellos);
	lac_run_after(run);
}

void lac_run_probe_start(struct lac_run *run)
{
	lac_probe_init(&run->probe);
	if (!run->opts->probe)
		return; /* SIGUSR1 keeps its default action */
	uv_signal_init(&run->loop, &run->sig_usr1);
	run->sig_usr1.data = run;
	uv_signal_start(&run->sig_usr1, lac_run_probe_signal_cb, SIGUSR1);
}

void lac_run_probe_check(struct lac_conn *c)
{
	struct lac_probe_tunnel *pt = &c->probe;
	if (!pt->pending)
		return;
	/* Acknowledged by a ZLB or by the Nr of any message (RFC 2661 5.8). */
	if (l2tp_seq_lt(pt->ns, c->t.tx.acked))
		lac_probe_acked(&c->run->probe, pt, uv_hrtime());
	else if (lac_tunnel_finished(&c->t))
		lac_probe_cancel(pt);
}

void lac_run_probe_stop(struct lac_run *run)
{
	sigset_t set;
	if (!run->opts->probe)
		return;
	/* Closing the uv_signal_t restores SIGUSR1's default action, which
	 * kills: a late probe signal must not cost the report. Blocked, it
	 * stays pending until exit. */
	sigemptyset(&set);
	sigaddset(&set, SIGUSR1);
	sigprocmask(SIG_BLOCK, &set, NULL);
}
