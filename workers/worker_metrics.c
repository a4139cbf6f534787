/* The worker's /metrics: the hooks that record what only exists at event
 * time, and the scrape, which reads struct worker, its statestore and every
 * tunnel in memory (tunnels and sessions by state, the tunnels' counters plus
 * those of tunnels already freed, so that counters never go down). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "byteio.h"
#include "log.h"
#include "worker.h"
#include "worker_metrics.h"

#ifndef TANDEM_VERSION
#define TANDEM_VERSION "dev"
#endif

#define WM_COUNT(...) +1
enum {
	WM_TUNNEL_STATES = 0 TUNNEL_STATES(WM_COUNT),
	WM_SESSION_STATES = 0 SESSION_STATES(WM_COUNT),
};
#undef WM_COUNT

/* Bucket bounds. Checkpoints: a local Redis answers in well under a
 * millisecond, a replicated one (redis_wait_replicas) in a few. */
static const double wm_ckpt_bounds[] = {0.0001, 0.00025, 0.0005, 0.001,
					0.0025, 0.005,	 0.01,	 0.025,
					0.05,	0.1,	 0.25,	 1};
static const double wm_batch_bounds[] = {1,  2,	  4,   8,   16,	  32,
					 64, 128, 256, 512, 1024, 4096};
static const double wm_takeover_bounds[] = {0.005, 0.01, 0.025, 0.05, 0.1, 0.25,
					    0.5,   1,	 2.5,	5,    10};

/* Loop lag: a healthy loop stays in the first buckets; at lease_ttl minus
 * lease_renew (400 ms by default) a heartbeat comes too late. */
static const double wm_lag_bounds[] = {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
				       0.1,   0.2,    0.4,   0.6,  1,	  2.5};

/* ---- hooks ------------------------------------------------------------- */

void worker_metrics_rx_control(struct worker *w, const uint8_t *p,
			       const struct l2tp_header *h)
{
	struct worker_metrics *m = w->metrics;
	if (!m)
		return;
	/* RFC 2661 4.1: Message Type is the first AVP, 8 bytes, never
	 * hidden; a message without AVPs is a ZLB. The codec checks the rest
	 * later (tunnel.c): this only sorts what arrived. */
	unsigned type = WORKER_METRICS_OTHER_TYPE;
	const uint8_t *a = p + h->payload_off;
	if (h->payload_len == 0)
		type = L2TP_MSG_ZLB;
	else if (h->payload_len >= 8 &&
		 (byteio_load_u16(a) & ~L2TP_AVP_M) == 8 &&
		 byteio_load_u16(a + 2) == L2TP_VENDOR_IETF &&
		 byteio_load_u16(a + 4) == L2TP_AVP_MESSAGE_TYPE) {
		unsigned v = byteio_load_u16(a + 6);
		if (v && v <= L2TP_MSG_TYPE_MAX &&
		    strcmp(l2tp_msg_type_name(v), "unknown") != 0)
			type = v;
	}
	m->rx_by_type[type]++;
}

void worker_metrics_ckpt_sent(struct worker *w)
{
	if (w->metrics)
		w->metrics->round_ckpts++;
}

void worker_metrics_ckpt_done(struct worker *w, uint64_t sent_ns)
{
	if (w->metrics)
		metrics_histogram_observe(&w->metrics->ckpt_seconds,
					  (double)(uv_hrtime() - sent_ns) /
						  1e9);
}

void worker_metrics_round_end(struct worker *w)
{
	struct worker_metrics *m = w->metrics;
	if (!m || !m->round_ckpts)
		return;
	metrics_histogram_observe(&m->ckpt_batch, m->round_ckpts);
	m->round_ckpts = 0;
}

void worker_metrics_takeover(struct worker *w, uint64_t ms)
{
	if (w->metrics)
		metrics_histogram_observe(&w->metrics->takeover_seconds,
					  (double)ms / 1e3);
}

void worker_metrics_loop_lag(struct worker *w, double seconds)
{
	if (w->metrics)
		metrics_histogram_observe(&w->metrics->loop_lag_seconds,
					  seconds);
}

static void wm_add_lns(struct lns_stats *d, const struct lns_stats *s)
{
	d->rx_control += s->rx_control;
	d->rx_data += s->rx_data;
	d->rx_data_drop += s->rx_data_drop;
	for (unsigned i = 0; i < L2TP_REJ__COUNT; i++)
		d->rejected[i] += s->rejected[i];
	d->fsm_errors += s->fsm_errors;
	d->auth_failures += s->auth_failures;
	d->sessions_refused += s->sessions_refused;
}

static void wm_add_tx(struct transport_stats *d,
		      const struct transport_stats *s)
{
	d->sent += s->sent;
	d->retransmitted += s->retransmitted;
	d->zlb_sent += s->zlb_sent;
	d->delivered += s->delivered;
	d->duplicates += s->duplicates;
	d->out_of_order += s->out_of_order;
	d->outside_window += s->outside_window;
	d->bad_nr += s->bad_nr;
	d->repaired += s->repaired;
}

void worker_metrics_tunnel_gone(struct worker *w, const struct tunnel *t)
{
	if (!w->metrics)
		return;
	wm_add_lns(&w->metrics->gone, &t->stats);
	wm_add_tx(&w->metrics->gone_tx, &t->tx.stats);
}

/* ---- scrape ------------------------------------------------------------ */

/* What a walk over the tunnels in memory finds. */
struct wm_walk {
	unsigned tunnels[WM_TUNNEL_STATES];   /* by state */
	unsigned sessions[WM_SESSION_STATES]; /* by state */
	struct lns_stats st;		      /* live + gone */
	struct transport_stats tx;	      /* live + gone */
};

static void wm_walk(const struct worker *w, struct wm_walk *k)
{
	memset(k, 0, sizeof(*k));
	k->st = w->metrics->gone;
	k->tx = w->metrics->gone_tx;
	for (unsigned tid = 1; tid < 65536; tid++) {
		const struct worker_tunnel *wt = w->tunnels[tid];
		if (!wt)
			continue;
		const struct tunnel *t = &wt->t;
		if ((unsigned)t->state < WM_TUNNEL_STATES)
			k->tunnels[t->state]++;
		wm_add_lns(&k->st, &t->stats);
		wm_add_tx(&k->tx, &t->tx.stats);
		for (unsigned b = 0; b < t->n_buckets; b++)
			for (const struct session *s = t->buckets[b]; s;
			     s = s->next)
				if ((unsigned)s->state < WM_SESSION_STATES)
					k->sessions[s->state]++;
	}
}

static void wm_one(struct metrics *m, const char *name, enum metrics_type type,
		   const char *help, double v)
{
	metrics_add(metrics_family(m, name, type, help), v, NULL, 0);
}

static void wm_counter(struct metrics *m, const char *name, const char *help,
		       uint64_t v)
{
	wm_one(m, name, METRICS_COUNTER, help, (double)v);
}

static void wm_gauge(struct metrics *m, const char *name, const char *help,
		     double v)
{
	wm_one(m, name, METRICS_GAUGE, help, v);
}

static void wm_packets(const struct worker *w, struct metrics *m,
		       const struct wm_walk *k)
{
	const struct worker_stats *s = &w->stats;
	struct metrics_family *f;
	char r[48];
	wm_counter(m, "tandem_worker_packets_received_total",
		   "Datagrams received from frontends", s->rx_packets);
	wm_counter(m, "tandem_worker_packets_sent_total",
		   "Datagrams handed to frontends", s->tx_packets);
	f = metrics_family(m, "tandem_worker_packets_dropped_total",
			   METRICS_COUNTER,
			   "Datagrams dropped: for a tunnel not held here, "
			   "parked too long for a loading shard, a copy of "
			   "one parked already, or with no frontend to take "
			   "them");
	metrics_add1(f, (double)s->unknown_tunnel, "reason", "unknown_tunnel");
	metrics_add1(f, (double)s->park_expired, "reason", "park_expired");
	metrics_add1(f, (double)s->park_duplicates, "reason", "park_duplicate");
	metrics_add1(f, (double)s->tx_dropped, "reason", "no_frontend");
	wm_counter(m, "tandem_worker_bad_batches_total",
		   "ZeroMQ messages from frontends that did not decode",
		   s->rx_bad_batches);
	f = metrics_family(m, "tandem_worker_malformed_total", METRICS_COUNTER,
			   "Malformed L2TP messages: header = bad header (or "
			   "not an SCCRQ for tunnel 0); other reasons = "
			   "control messages the codec refused in a tunnel");
	metrics_add1(f, (double)s->rx_bad_header, "reason", "header");
	for (unsigned i = 1; i < L2TP_REJ__COUNT; i++)
		metrics_add1(f, (double)k->st.rejected[i], "reason",
			     metrics_label_lower(l2tp_reject_reason_name(i), r,
						 sizeof(r)));
	f = metrics_family(m, "tandem_worker_control_received_total",
			   METRICS_COUNTER,
			   "Control messages given to a tunnel (or to SCCRQ "
			   "handling), by Message Type; retransmissions "
			   "included, ZLB = no AVPs");
	for (unsigned t = 0; t <= L2TP_MSG_TYPE_MAX; t++)
		if (strcmp(l2tp_msg_type_name(t), "unknown") != 0)
			metrics_add1(f, (double)w->metrics->rx_by_type[t],
				     "type", l2tp_msg_type_name(t));
	metrics_add1(f,
		     (double)w->metrics->rx_by_type[WORKER_METRICS_OTHER_TYPE],
		     "type", "unknown");
	wm_counter(m, "tandem_worker_control_sent_total",
		   "New control messages sent (not counting retransmissions "
		   "and ZLBs)",
		   k->tx.sent);
	wm_counter(m, "tandem_worker_retransmissions_total",
		   "Control messages retransmitted (RFC 2661 5.8)",
		   k->tx.retransmitted);
	wm_counter(m, "tandem_worker_zlb_sent_total",
		   "ZLB acknowledgements sent", k->tx.zlb_sent);
	f = metrics_family(m, "tandem_worker_sequence_anomalies_total",
			   METRICS_COUNTER,
			   "Control messages out of the expected sequence, and "
			   "sequence repairs after a takeover");
	metrics_add1(f, (double)k->tx.duplicates, "kind", "duplicate");
	metrics_add1(f, (double)k->tx.out_of_order, "kind", "out_of_order");
	metrics_add1(f, (double)k->tx.outside_window, "kind", "outside_window");
	metrics_add1(f, (double)k->tx.bad_nr, "kind", "bad_nr");
	metrics_add1(f, (double)k->tx.repaired, "kind", "repaired");
	wm_counter(m, "tandem_worker_data_received_total",
		   "Data messages for an established session", k->st.rx_data);
	wm_counter(m, "tandem_worker_data_dropped_total",
		   "Data messages with no established session",
		   k->st.rx_data_drop);
	wm_counter(m, "tandem_worker_fsm_errors_total",
		   "Control messages not valid in the tunnel's or session's "
		   "state",
		   k->st.fsm_errors);
	wm_counter(m, "tandem_worker_auth_failures_total",
		   "Tunnel authentication failures (RFC 2661 5.1.1)",
		   k->st.auth_failures);
}

static void wm_tunnels(const struct worker *w, struct metrics *m,
		       const struct wm_walk *k)
{
	const struct worker_stats *s = &w->stats;
	struct metrics_family *f;
	f = metrics_family(m, "tandem_worker_tunnels", METRICS_GAUGE,
			   "Tunnels in memory, by state (RFC 2661 7.2.1)");
	for (unsigned i = 0; i < WM_TUNNEL_STATES; i++)
		metrics_add1(f, k->tunnels[i], "state", tunnel_state_name(i));
	f = metrics_family(m, "tandem_worker_sessions", METRICS_GAUGE,
			   "Sessions in memory, by state (RFC 2661 7.4.2)");
	for (unsigned i = 0; i < WM_SESSION_STATES; i++)
		metrics_add1(f, k->sessions[i], "state", session_state_name(i));
	wm_counter(m, "tandem_worker_tunnels_created_total",
		   "SCCRQs that made a tunnel", s->tunnels_created);
	wm_counter(m, "tandem_worker_sccrq_duplicates_total",
		   "SCCRQs for a tunnel already held (retransmissions)",
		   s->sccrq_duplicate);
	f = metrics_family(m, "tandem_worker_tunnels_refused_total",
			   METRICS_COUNTER,
			   "New tunnels refused with StopCCN: Redis "
			   "unreachable, or no tunnel ID free (max_tunnels)");
	metrics_add1(f, (double)s->refused_no_redis, "reason", "no_redis");
	metrics_add1(f, (double)s->refused_no_tid, "reason", "no_tid");
	wm_counter(m, "tandem_worker_sessions_refused_total",
		   "ICRQs answered with CDN", k->st.sessions_refused);
}

static void wm_checkpoints(const struct worker *w, struct metrics *m)
{
	const struct worker_stats *s = &w->stats;
	const struct statestore_stats *r = &w->ss.stats;
	struct metrics_family *f;
	f = metrics_family(m, "tandem_worker_checkpoints_total",
			   METRICS_COUNTER,
			   "Tunnel checkpoints: written, lost to a Redis error "
			   "(sent unprotected), or fenced (lease lost)");
	metrics_add1(f, (double)s->checkpoints, "result", "ok");
	metrics_add1(f, (double)s->ckpt_failed, "result", "failed");
	metrics_add1(f, (double)s->fenced, "result", "fenced");
	wm_counter(m, "tandem_worker_checkpoint_rounds_total",
		   "Loop iterations that sent checkpoints (one pipelined "
		   "Redis round trip each)",
		   s->ckpt_rounds);
	metrics_add_histogram(
		metrics_family(m, "tandem_worker_checkpoint_latency_seconds",
			       METRICS_HISTOGRAM,
			       "Checkpoint sent to Redis until its reply "
			       "(written)"),
		&w->metrics->ckpt_seconds, NULL, 0);
	metrics_add_histogram(
		metrics_family(m, "tandem_worker_checkpoint_batch_size",
			       METRICS_HISTOGRAM,
			       "Checkpoints per round (group commit)"),
		&w->metrics->ckpt_batch, NULL, 0);
	wm_counter(m, "tandem_worker_redis_commands_total",
		   "Redis commands sent", r->commands);
	wm_counter(m, "tandem_worker_redis_errors_total",
		   "Redis error replies and lost replies", r->errors);
	wm_counter(m, "tandem_worker_redis_reconnects_total",
		   "Redis (re)connections", r->reconnects);
	wm_counter(m, "tandem_worker_redis_timeouts_total",
		   "Redis connections dropped for not answering", r->timeouts);
	wm_gauge(m, "tandem_worker_redis_up",
		 "1 when connected to Redis with the scripts loaded", w->ss.up);
	wm_counter(m, "tandem_worker_redis_not_primary_total",
		   "Redis connections dropped: the server was a replica",
		   r->not_primary);
	wm_counter(m, "tandem_worker_checkpoint_wait_short_total",
		   "WAITs (redis_wait_replicas) answered by too few replicas",
		   w->stats.wait_short);
	wm_gauge(m, "tandem_worker_replication_degraded",
		 "1 while checkpoints go on without waiting for replicas",
		 w->wait_degraded);
	wm_gauge(m, "tandem_worker_protected",
		 "1 when checkpoints reach Redis (0: serving from memory)",
		 w->protected_mode);
}

static void wm_cluster(const struct worker *w, struct metrics *m)
{
	const struct worker_stats *s = &w->stats;
	unsigned owned = 0, loading = 0, confirming = 0, handing = 0, fe = 0;
	for (unsigned i = 0; i < (unsigned)w->cfg.shard_count; i++) {
		const struct worker_shard *sh = &w->shards[i];
		owned += sh->owned;
		loading += sh->owned && sh->loading;
		confirming += sh->confirming;
		handing += sh->handing;
	}
	for (unsigned i = 0; i < w->n_fe; i++)
		fe += w->fe[i].live;
	struct metrics_family *f = metrics_family(
		m, "tandem_worker_shards", METRICS_GAUGE,
		"Shards: owned (lease held), loading (owned, tunnels still "
		"being read), confirming (lease lapsed, output held), "
		"handing (hand-off in flight)");
	metrics_add1(f, owned, "state", "owned");
	metrics_add1(f, loading, "state", "loading");
	metrics_add1(f, confirming, "state", "confirming");
	metrics_add1(f, handing, "state", "handing");
	wm_counter(m, "tandem_worker_lease_renewals_total",
		   "Shard leases renewed (each heartbeat renews every lease "
		   "held)",
		   s->lease_renewals);
	wm_counter(m, "tandem_worker_lease_lost_total",
		   "Shard leases that lapsed while held (renewal refused, "
		   "checkpoint fenced, Redis lost)",
		   s->lease_lost);
	wm_counter(m, "tandem_worker_takeovers_total",
		   "Shards loaded with tunnels another owner checkpointed",
		   s->takeovers);
	wm_counter(m, "tandem_worker_handoffs_total",
		   "Shards handed to a successor", s->handoffs);
	metrics_add_histogram(
		metrics_family(m, "tandem_worker_takeover_duration_seconds",
			       METRICS_HISTOGRAM,
			       "Shard became ours until its tunnels were all "
			       "loaded (takeovers only)"),
		&w->metrics->takeover_seconds, NULL, 0);
	metrics_add_histogram(
		metrics_family(m, "tandem_worker_loop_lag_seconds",
			       METRICS_HISTOGRAM,
			       "How late a timer due every 25 ms fired: the "
			       "event loop's lag"),
		&w->metrics->loop_lag_seconds, NULL, 0);
	wm_gauge(m, "tandem_worker_loop_lag_max_seconds",
		 "Worst loop lag since start", (double)w->lag.max_ms / 1e3);
	wm_gauge(m, "tandem_worker_loop_lag_recent_seconds",
		 "Worst loop lag in the last 10-20 s",
		 (double)w->lag.window_max_ms / 1e3);
	wm_counter(m, "tandem_worker_peer_exits_total",
		   "Peer workers on this host seen exiting without "
		   "deregistering, whose liveness was ended at once",
		   w->stats.peer_exits);
	wm_counter(m, "tandem_worker_liveness_lapsed_total",
		   "Heartbeats that found the worker's liveness key expired "
		   "(its loop or host stalled past lease_ttl)",
		   w->stats.liveness_lapsed);
	wm_counter(m, "tandem_worker_checkpoint_deferred_total",
		   "Flushes that left tunnels for the next iteration (budget "
		   "of 4,096 checkpoints per iteration)",
		   w->stats.ckpt_deferred);
	wm_counter(m, "tandem_worker_checkpoint_skipped_total",
		   "Packets that left without a checkpoint of their own: the "
		   "tunnel record was the one Redis has or is being sent",
		   w->stats.ckpt_skipped);
	wm_counter(m, "tandem_worker_receive_deferred_total",
		   "Receive rounds cut short by the per-iteration budget",
		   w->stats.rx_deferred);
	wm_gauge(m, "tandem_worker_parked", "Datagrams parked now",
		 w->n_parked);
	wm_counter(m, "tandem_worker_parked_total",
		   "Datagrams parked for a shard being loaded", s->parked);
	f = metrics_family(m, "tandem_worker_batches_total", METRICS_COUNTER,
			   "PACKET_OUT batches to frontends: sent, or refused "
			   "by ZeroMQ (queue full or not connected)");
	metrics_add1(f, (double)s->tx_batches, "result", "sent");
	metrics_add1(f, (double)s->tx_batches_dropped, "result", "dropped");
	wm_gauge(m, "tandem_worker_frontends", "Frontends known to be live",
		 fe);
	wm_gauge(m, "tandem_worker_peers",
		 "Other live workers seen in the last claim round", w->n_peers);
	wm_gauge(m, "tandem_worker_draining", "1 while handing shards away",
		 w->draining);
}

static void wm_ppp(const struct worker *w, struct metrics *m)
{
	struct metrics_family *f = metrics_family(
		m, "tandem_worker_ppp_reports_total", METRICS_COUNTER,
		"Address reports from pppd's ip-up hook (ppp_backend pppd): "
		"learned or unchanged, else why they were dropped");
	for (unsigned i = 0; i < PPP_REPORT__COUNT; i++)
		metrics_add1(f, (double)w->pppd.rep.results[i], "result",
			     ppp_report_result_name(i));
}

static void worker_metrics_collect(void *arg, struct metrics *m)
{
	const struct worker *w = arg;
	struct wm_walk k;
	struct metrics_label info[] = {{"id", w->id},
				       {"version", TANDEM_VERSION}};
	metrics_add(metrics_family(m, "tandem_worker_info", METRICS_GAUGE,
				   "Always 1: the worker's ID and version"),
		    1, info, 2);
	wm_walk(w, &k);
	wm_packets(w, m, &k);
	wm_tunnels(w, m, &k);
	wm_checkpoints(w, m);
	wm_cluster(w, m);
	wm_ppp(w, m);
}

int worker_metrics_start(struct worker *w, const struct config_addr *addr,
			 char *err, size_t errlen)
{
	struct worker_metrics *wm;
	if (!addr->text[0])
		return 0;
	wm = calloc(1, sizeof(*wm));
	if (!wm) {
		snprintf(err, errlen, "metrics: out of memory");
		return -ENOMEM;
	}
	metrics_histogram_init(&wm->ckpt_seconds, wm_ckpt_bounds,
			       sizeof(wm_ckpt_bounds) / sizeof(double));
	metrics_histogram_init(&wm->ckpt_batch, wm_batch_bounds,
			       sizeof(wm_batch_bounds) / sizeof(double));
	metrics_histogram_init(&wm->takeover_seconds, wm_takeover_bounds,
			       sizeof(wm_takeover_bounds) / sizeof(double));
	metrics_histogram_init(&wm->loop_lag_seconds, wm_lag_bounds,
			       sizeof(wm_lag_bounds) / sizeof(double));
	int rc = metrics_http_start(&wm->http, w->loop, addr,
				    worker_metrics_collect, w, err, errlen);
	if (rc < 0) {
		free(wm);
		return rc;
	}
	w->metrics = wm;
	log_info("metrics served", "url=http://%s/metrics",
		 wm->http.listen_text);
	return 0;
}

void worker_metrics_stop(struct worker *w)
{
	if (!w->metrics)
		return;
	metrics_http_close(&w->metrics->http);
	uv_run(w->loop, UV_RUN_NOWAIT); /* the handles' close completes */
	free(w->metrics);
	w->metrics = NULL;
}
