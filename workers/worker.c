/* Worker core: tunnels by ID, SCCRQ de-duplication, the engine's callbacks,
 * per-tunnel timers, and the checkpoint gate: packets a tunnel produces in one
 * loop iteration wait in its outbox; at the end of the iteration every changed
 * tunnel is checkpointed (pipelined, fenced by its shard's epoch) and its
 * packets leave when Redis has answered (DESIGN.md invariants 1-4). */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include "log.h"
#include "worker.h"
#include "worker_metrics.h"

static uint64_t worker_now(const struct worker *w)
{
	return uv_now(w->loop);
}

static unsigned worker_shard_of(const struct worker *w, uint16_t tid)
{
	return tid / w->shard_size;
}

/* ---- checkpoint gate ---------------------------------------------------- */

/* Packets of one tunnel waiting for one checkpoint reply. */
struct worker_ckpt {
	struct worker *w;
	struct worker_pkt *pkts;	    /* released on success */
	struct wire_addr peer;		    /* where they go */
	char frontend[WIRE_MAX_ORIGIN + 1]; /* through which frontend */
	unsigned shard;			    /* for fencing */
	uint64_t epoch;			    /* the epoch we wrote with */
	uint64_t sent_ns;		    /* uv_hrtime() at send (metrics) */
	struct worker_round *round;	    /* its WAIT, if it has one */
	struct worker_ckpt *next;	    /* round->held */
	uint16_t tid;			    /* whose */
};

/* Checkpoints under redis_wait_replicas: answered checkpoints keep their
 * packets until WAIT says the replicas have them, so a failover to a
 * replica never loses state a peer has already seen. One WAIT at a time:
 * WAIT blocks the connection (up to its time-out when a replica is
 * missing), so the loop iterations that checkpoint while one is out join
 * one round (w->wait_next) whose WAIT goes when the first answers; it
 * covers every write sent before it. */
struct worker_round {
	struct worker *w;
	struct worker_ckpt *held; /* answered, waiting for WAIT */
	unsigned n;		  /* checkpoints in the round */
	int asked;		  /* replicas its WAIT asked for */
};

static void worker_send_list(struct worker *w, struct worker_pkt *p,
			     const struct wire_addr *peer, const char *frontend)
{
	while (p) {
		struct worker_pkt *next = p->next;
		worker_zmq_send(w, frontend, peer, p->data, p->len);
		free(p);
		p = next;
	}
}

static void worker_free_list(struct worker_pkt *p)
{
	while (p) {
		struct worker_pkt *next = p->next;
		free(p);
		p = next;
	}
}

/* A checkpoint's packets went (or were dropped): later packets of its
 * tunnel no longer wait for it. */
static void worker_ckpt_free(struct worker *w, struct worker_ckpt *c)
{
	struct worker_tunnel *wt = w->tunnels[c->tid];
	if (wt && wt->ckpt_last == c)
		wt->ckpt_last = NULL;
	free(c);
}

/* What Redis holds of the tunnel is no longer known (a write failed). */
static void worker_ckpt_forget(struct worker *w, uint16_t tid)
{
	struct worker_tunnel *wt = w->tunnels[tid];
	if (wt)
		wt->last_rec_len = 0;
}

static void worker_ckpt_done(void *arg, int status, int64_t value)
{
	struct worker_ckpt *c = arg;
	struct worker *w = c->w;
	(void)value;
	if (status == 0) {
		w->stats.checkpoints++;
		worker_metrics_ckpt_done(w, c->sent_ns);
		if (c->round) { /* its round's WAIT answer comes next */
			c->next = c->round->held;
			c->round->held = c;
			return;
		}
		worker_send_list(w, c->pkts, &c->peer, c->frontend);
	} else if (status == -ESTALE) {
		/* Invariant 3: fenced -> not one more packet for this shard. */
		w->stats.fenced++;
		worker_ckpt_forget(w, c->tid);
		worker_free_list(c->pkts);
		if (w->shards[c->shard].owned &&
		    w->shards[c->shard].epoch == c->epoch)
			worker_lease_lapsed(w, c->shard, "checkpoint fenced");
	} else {
		/* Redis lost mid-flight: serve from memory (unprotected);
		 * a full snapshot follows when it returns. */
		w->stats.ckpt_failed++;
		worker_ckpt_forget(w, c->tid);
		worker_send_list(w, c->pkts, &c->peer, c->frontend);
	}
	worker_ckpt_free(w, c);
}

static void worker_tunnel_take_outbox(struct worker_tunnel *wt,
				      struct worker_pkt **out)
{
	*out = wt->out_head;
	wt->out_head = wt->out_tail = NULL;
}

/* One session's record into the checkpoint being built (set[*n], its
 * bytes at sbuf + *n * RECORD_SESSION_MAX); off the dirty list either way
 * (a session that cannot be encoded would never encode). */
static void worker_ckpt_session(struct tunnel *t, struct session *s,
				struct statestore_blob *set, uint8_t *sbuf,
				size_t *n)
{
	uint8_t *q = sbuf + *n * RECORD_SESSION_MAX;
	int sl = record_session_encode(s, q, RECORD_SESSION_MAX);
	tunnel_session_clean(t, s);
	if (sl < 0)
		return;
	set[(*n)++] = (struct statestore_blob){
		.sid = s->sid, .data = q, .len = (size_t)sl};
}

/* Keep the record just written, to know when the next one would be the
 * same. */
static void worker_ckpt_remember(struct worker_tunnel *wt, const uint8_t *rec,
				 int n)
{
	wt->last_rec_len = 0;
	if (n <= 0)
		return;
	uint8_t *p = realloc(wt->last_rec, (size_t)n);
	if (!p)
		return; /* unknown: the next checkpoint writes */
	memcpy(p, rec, (size_t)n);
	wt->last_rec = p;
	wt->last_rec_len = (size_t)n;
}

/* Nothing to write: the record (n bytes at rec) is the one Redis has or is
 * being sent, no session changed or ended, no snapshot is due. Then the
 * outbox does not need a write of its own: it waits for the tunnel's newest
 * checkpoint in flight (whose state it may carry: an Nr that checkpoint
 * records), or goes now when none is. Returns whether it was handled. */
static bool worker_ckpt_unchanged(struct worker *w, struct worker_tunnel *wt,
				  const uint8_t *rec, int n)
{
	const struct tunnel *t = &wt->t;
	struct worker_ckpt *last = wt->ckpt_last;
	if (n <= 0 || wt->snapshot || !w->protected_mode ||
	    !w->shards[wt->shard].owned || t->n_dirty || t->n_ended ||
	    (size_t)n != wt->last_rec_len ||
	    memcmp(rec, wt->last_rec, (size_t)n))
		return false;
	/* The packets of the one in flight go to where the tunnel's went
	 * then; if that changed, a write of its own keeps the order. */
	if (last && (!wire_addr_equal(&last->peer, &wt->peer.addr) ||
		     strcmp(last->frontend, wt->frontend)))
		return false;
	struct worker_pkt *pkts;
	worker_tunnel_take_outbox(wt, &pkts);
	w->stats.ckpt_skipped++;
	if (last) {
		struct worker_pkt **pp = &last->pkts;
		while (*pp)
			pp = &(*pp)->next;
		*pp = pkts;
	} else {
		worker_send_list(w, pkts, &wt->peer.addr, wt->frontend);
	}
	return true;
}

/* Checkpoint one tunnel (or delete it when dead); its outbox rides along. */
static void worker_checkpoint(struct worker *w, struct worker_tunnel *wt)
{
	static uint8_t rec[RECORD_TUNNEL_MAX];
	struct worker_shard *sh = &w->shards[wt->shard];
	if (sh->confirming && w->protected_mode) {
		/* Held back, whole, until the lease question is answered. */
		wt->snapshot = true;
		return;
	}
	struct tunnel *t = &wt->t;
	int n = 0;
	if (!tunnel_is_dead(t)) {
		n = record_tunnel_encode(t, &wt->peer, rec, sizeof(rec));
		if (worker_ckpt_unchanged(w, wt, rec, n))
			return;
	}
	struct worker_ckpt *c = calloc(1, sizeof(*c));
	struct worker_pkt *pkts;
	worker_tunnel_take_outbox(wt, &pkts);
	if (!c || !w->protected_mode || !sh->owned) {
		free(c);
		wt->last_rec_len = 0; /* not written */
		if (!sh->owned && w->protected_mode) {
			worker_free_list(pkts); /* lost the shard: silence */
			return;
		}
		worker_send_list(w, pkts, &wt->peer.addr, wt->frontend);
		return;
	}
	c->w = w;
	c->pkts = pkts;
	c->peer = wt->peer.addr;
	memcpy(c->frontend, wt->frontend, sizeof(c->frontend));
	c->shard = wt->shard;
	c->epoch = sh->epoch;
	c->sent_ns = uv_hrtime();
	c->tid = t->tid;

	struct statestore_blob *set = NULL;
	uint8_t *sbuf = NULL;
	size_t n_set = 0;
	if (!tunnel_is_dead(t)) {
		/* a snapshot writes every session; otherwise only the ones
		 * that changed (the dirty list): O(changed), not O(calls) */
		size_t max = wt->snapshot ? t->n_sessions : t->n_dirty;
		set = calloc(max ? max : 1, sizeof(*set));
		sbuf = malloc((max ? max : 1) * RECORD_SESSION_MAX);
		if (set && sbuf && wt->snapshot) {
			for (unsigned b = 0; b < t->n_buckets; b++)
				for (struct session *s = t->buckets[b]; s;
				     s = s->next)
					worker_ckpt_session(t, s, set, sbuf,
							    &n_set);
		} else if (set && sbuf) {
			while (t->dirty_sessions)
				worker_ckpt_session(t, t->dirty_sessions, set,
						    sbuf, &n_set);
		}
	}
	int rc = -ENOMEM;
	if (n >= 0 && (tunnel_is_dead(t) || (set && sbuf)))
		rc = statestore_checkpoint(&w->ss, wt->shard, sh->epoch, t->tid,
					   tunnel_is_dead(t) ? NULL : rec,
					   (size_t)n, set, n_set, t->ended,
					   t->n_ended, worker_ckpt_done, c);
	if (rc >= 0 && w->round) { /* replies never come synchronously */
		c->round = w->round;
		w->round->n++;
	}
	free(set);
	free(sbuf);
	if (rc < 0) {
		/* Not even queued: same as a lost reply. */
		worker_ckpt_done(c, -EIO, 0);
		wt->snapshot = true;
		return;
	}
	t->n_ended = 0;
	wt->snapshot = false;
	wt->ckpt_last = c;
	worker_ckpt_remember(wt, rec, n);
	worker_metrics_ckpt_sent(w);
}

/* ---- tunnels ----------------------------------------------------------- */

static void worker_tunnel_closed(uv_handle_t *h)
{
	free(h->data);
}

static unsigned worker_sccrq_bucket(const struct wire_addr *a, uint16_t ptid)
{
	return (a->port ^ ptid ^ a->addr[3]) % WORKER_SCCRQ_BUCKETS;
}

static void worker_tunnel_unlink(struct worker *w, struct worker_tunnel *wt)
{
	w->tunnels[wt->t.tid] = NULL;
	w->n_tunnels--;
	w->shards[wt->shard].tunnels--;
	unsigned b = worker_sccrq_bucket(&wt->peer.addr, wt->t.peer_tid);
	for (struct worker_tunnel **pp = &w->sccrq[b]; *pp;
	     pp = &(*pp)->sccrq_next)
		if (*pp == wt) {
			*pp = wt->sccrq_next;
			break;
		}
	struct worker_tunnel *prev = NULL;
	for (struct worker_tunnel **pp = &w->dirty_head; wt->dirty && *pp;
	     prev = *pp, pp = &(*pp)->dirty_next)
		if (*pp == wt) {
			*pp = wt->dirty_next;
			if (w->dirty_tail == wt)
				w->dirty_tail = prev;
			break;
		}
}

/* Free the tunnel's memory (its Redis record is handled by the caller). */
static void worker_tunnel_free(struct worker *w, struct worker_tunnel *wt)
{
	wt->freeing = true;
	worker_tunnel_unlink(w, wt);
	worker_metrics_tunnel_gone(w, &wt->t);
	tunnel_free(&wt->t);
	worker_free_list(wt->out_head);
	free(wt->last_rec);
	wt->last_rec = NULL;
	wt->ckpt_last = NULL;
	uv_timer_stop(&wt->timer);
	wt->timer.data = wt;
	uv_close((uv_handle_t *)&wt->timer, worker_tunnel_closed);
}

static void worker_mark_dirty(struct worker *w, struct worker_tunnel *wt)
{
	if (wt->dirty || wt->freeing)
		return;
	wt->dirty = true;
	wt->dirty_next = NULL; /* FIFO: what waits longest goes first */
	if (w->dirty_tail)
		w->dirty_tail->dirty_next = wt;
	else
		w->dirty_head = wt;
	w->dirty_tail = wt;
}

static void worker_tunnel_timer(uv_timer_t *h);

static void worker_tunnel_arm(struct worker *w, struct worker_tunnel *wt)
{
	uint64_t next = tunnel_next_deadline(&wt->t);
	if (next == UINT64_MAX) {
		uv_timer_stop(&wt->timer);
		return;
	}
	uint64_t now = worker_now(w);
	uv_timer_start(&wt->timer, worker_tunnel_timer,
		       next > now ? next - now : 0, 0);
}

/* After the engine ran: dead tunnels get their record deleted and go. */
void worker_tunnel_after(struct worker *w, struct worker_tunnel *wt)
{
	if (tunnel_is_dead(&wt->t)) {
		log_info("tunnel closed",
			 "tid=%u peer_tid=%u result=%u error=%u", wt->t.tid,
			 wt->t.peer_tid, wt->t.close_result, wt->t.close_error);
		worker_checkpoint(w, wt); /* deletes the record */
		worker_tunnel_free(w, wt);
		return;
	}
	if (wt->t.tx.stats.repaired != wt->repaired_seen) {
		/* The checkpoint we took over was older than the peer's view
		 * (transport.c): say so, and write the repaired state. */
		wt->repaired_seen = wt->t.tx.stats.repaired;
		log_warn("sequence repaired after takeover",
			 "tid=%u peer_tid=%u ns_next=%u nr=%u", wt->t.tid,
			 wt->t.peer_tid, wt->t.tx.ns_next, wt->t.tx.nr);
		worker_mark_dirty(w, wt);
	}
	worker_tunnel_arm(w, wt);
}

static void worker_tunnel_timer(uv_timer_t *h)
{
	struct worker_tunnel *wt = h->data;
	tunnel_tick(&wt->t, worker_now(wt->w));
	worker_tunnel_after(wt->w, wt);
}

static struct worker_tunnel *
worker_sccrq_find(struct worker *w, const struct wire_addr *a, uint16_t ptid)
{
	for (struct worker_tunnel *wt = w->sccrq[worker_sccrq_bucket(a, ptid)];
	     wt; wt = wt->sccrq_next)
		if (wt->t.peer_tid == ptid &&
		    wire_addr_equal(&wt->peer.addr, a))
			return wt;
	return NULL;
}

/* Make wt (tunnel_init'ed, peer and peer_tid set) findable by ID and by
 * (peer, peer's tunnel ID), with its timer ready. */
static void worker_tunnel_insert(struct worker *w, struct worker_tunnel *wt)
{
	uint16_t tid = wt->t.tid;
	wt->w = w;
	wt->t.owner = wt;
	wt->shard = worker_shard_of(w, tid);
	uv_timer_init(w->loop, &wt->timer);
	wt->timer.data = wt;
	w->tunnels[tid] = wt;
	w->n_tunnels++;
	w->shards[wt->shard].tunnels++;
	unsigned b = worker_sccrq_bucket(&wt->peer.addr, wt->t.peer_tid);
	wt->sccrq_next = w->sccrq[b];
	w->sccrq[b] = wt;
}

/* Take over a tunnel from its checkpoint (a shard we just acquired): rebuild
 * it, then put every unacknowledged message back on the wire at once. */
int worker_adopt(struct worker *w, uint16_t tid, const uint8_t *rec, size_t len,
		 const struct statestore_blob *sessions, size_t n)
{
	if (w->tunnels[tid])
		return -EEXIST; /* ours in memory already: memory is newer */
	struct worker_tunnel *wt = calloc(1, sizeof(*wt));
	uint64_t now = worker_now(w);
	if (!wt)
		return -ENOMEM;
	int rc = tunnel_init(&wt->t, &w->env, tid, now);
	if (rc == 0)
		rc = record_tunnel_restore(&wt->t, &wt->peer, rec, len);
	for (size_t i = 0; rc == 0 && i < n; i++)
		rc = record_session_restore(&wt->t, sessions[i].data,
					    sessions[i].len);
	if (rc < 0) {
		tunnel_free(&wt->t);
		free(wt);
		return rc;
	}
	/* Times in the record belonged to the old owner's clock. */
	wt->t.last_rx_ms = now;
	if (wt->t.state == TUNNEL_HOLD)
		wt->t.hold_until_ms = now + w->lns.hold_ms;
	worker_tunnel_insert(w, wt);
	worker_ckpt_remember(wt, rec, (int)len); /* what Redis has */
	tunnel_reattach(&wt->t, now);
	/* What goes out now (retransmissions, a CDN for a call we cannot
	 * attach) marks the tunnel dirty and leaves through the checkpoint
	 * gate; a tunnel with nothing to send is as its record says, and
	 * writing it again would cost a Redis command per tunnel in the
	 * middle of the takeover. */
	transport_retransmit_all(&wt->t.tx, now);
	worker_tunnel_after(w, wt);
	return 0;
}

/* A free tunnel ID for a new tunnel, or 0: inside `shard` (the one the
 * frontends routed its SCCRQ by) when we own it, so tunnels spread over the
 * shards as peers do; else in any shard we own. The start point is random
 * (RFC 2661 5.4: IDs should not be predictable). */
static uint16_t worker_alloc_tid(struct worker *w, unsigned shard)
{
	w->tid_rand ^= w->tid_rand << 13;
	w->tid_rand ^= w->tid_rand >> 17;
	w->tid_rand ^= w->tid_rand << 5;
	unsigned size = w->shard_size, start = w->tid_rand % size;
	if (w->shards[shard].owned && !w->shards[shard].loading)
		for (unsigned n = 0; n < size; n++) {
			unsigned tid = shard * size + (start + n) % size;
			if (tid && tid < 65536 && !w->tunnels[tid])
				return (uint16_t)tid;
		}
	for (unsigned n = 0; n < 65536; n++) {
		uint16_t tid = w->next_tid++;
		if (tid == 0 || w->tunnels[tid])
			continue;
		const struct worker_shard *sh =
			&w->shards[worker_shard_of(w, tid)];
		if (sh->owned && !sh->loading)
			return tid;
	}
	return 0;
}

/* Answer an SCCRQ we cannot take without creating any state: StopCCN
 * result 2 / error 4 (insufficient resources), RFC 2661 4.4.2. */
static void worker_refuse_sccrq(struct worker *w, const char *origin,
				const struct wire_addr *peer, uint16_t peer_tid,
				const char *why)
{
	struct l2tp_msg m;
	uint8_t buf[256];
	memset(&m, 0, sizeof(m));
	m.type = L2TP_MSG_STOPCCN;
	m.hdr.tunnel_id = peer_tid;
	m.hdr.nr = 1;
	l2tp_msg_set(&m, L2TP_AVP_ASSIGNED_TUNNEL_ID);
	l2tp_msg_set(&m, L2TP_AVP_RESULT_CODE);
	m.assigned_tunnel_id = 0;
	m.result_code.result = L2TP_STOPCCN_GENERAL_ERROR;
	m.result_code.has_error = true;
	m.result_code.error = L2TP_ERR_NO_RESOURCES;
	m.result_code.message = (struct l2tp_bytes){(const uint8_t *)why,
						    (uint16_t)strlen(why)};
	int n = l2tp_msg_encode(&m, NULL, buf, sizeof(buf));
	if (n > 0)
		worker_zmq_send(w, origin, peer, buf, (size_t)n);
	LOG_RL(LOG_LEVEL_WARN, "new tunnel refused", "peer_tid=%u why=%s",
	       peer_tid, LOG_Q(why));
}

static void worker_sccrq(struct worker *w, const char *origin,
			 const struct wire_packet *p,
			 const struct l2tp_header *h)
{
	static uint8_t scratch[L2TP_MAX_DATAGRAM];
	struct l2tp_msg m;
	struct l2tp_reject rej;
	worker_metrics_rx_control(w, p->data, h);
	if (l2tp_msg_decode(p->data, p->len, &w->lns.secret, scratch,
			    sizeof(scratch), &m, &rej) < 0 ||
	    m.type != L2TP_MSG_SCCRQ) {
		w->stats.rx_bad_header++;
		LOG_RL(LOG_LEVEL_WARN, "bad message for tunnel 0",
		       "reason=%s type=%u", l2tp_reject_reason_name(rej.reason),
		       m.type);
		return;
	}
	struct worker_tunnel *wt =
		worker_sccrq_find(w, &p->peer, m.assigned_tunnel_id);
	if (wt) {
		/* A retransmitted SCCRQ: the tunnel's transport re-acks it. */
		w->stats.sccrq_duplicate++;
		tunnel_rx_control(&wt->t, h, p->data, p->len, worker_now(w));
		worker_tunnel_after(w, wt);
		return;
	}
	if (w->draining) {
		/* Left unanswered: the peer retransmits it to the successor
		 * that owns the shard by then. */
		LOG_RL(LOG_LEVEL_INFO, "draining: SCCRQ left to the successor",
		       "peer_tid=%u", m.assigned_tunnel_id);
		return;
	}
	if (!w->protected_mode) {
		w->stats.refused_no_redis++;
		worker_refuse_sccrq(w, origin, &p->peer, m.assigned_tunnel_id,
				    "state store unreachable");
		return;
	}
	unsigned shard = wire_peer_hash(&p->peer, m.assigned_tunnel_id) &
			 (unsigned)(w->cfg.shard_count - 1);
	uint16_t tid = (int)w->n_tunnels < w->cfg.max_tunnels
			       ? worker_alloc_tid(w, shard)
			       : 0;
	wt = tid ? calloc(1, sizeof(*wt)) : NULL;
	if (!wt || tunnel_init(&wt->t, &w->env, tid, worker_now(w)) < 0) {
		free(wt);
		w->stats.refused_no_tid++;
		worker_refuse_sccrq(w, origin, &p->peer, m.assigned_tunnel_id,
				    "no tunnel ID available");
		return;
	}
	wt->peer.addr = p->peer;
	wt->t.peer_tid = m.assigned_tunnel_id; /* hash key until SCCRQ runs */
	worker_tunnel_insert(w, wt);
	w->stats.tunnels_created++;
	snprintf(wt->frontend, sizeof(wt->frontend), "%s", origin);
	tunnel_rx_control(&wt->t, h, p->data, p->len, worker_now(w));
	log_debug("tunnel created", "tid=%u peer_tid=%u", tid,
		  m.assigned_tunnel_id);
	worker_tunnel_after(w, wt);
}

static void worker_park(struct worker *w, const char *origin,
			const struct wire_packet *p, uint16_t tid)
{
	struct worker_parked *k = w->park_last[tid];
	if (k && k->len == p->len && !memcmp(k->data, p->data, p->len) &&
	    wire_addr_equal(&k->peer, &p->peer)) {
		/* the peer retransmitted while the shard loads: the copy
		 * parked already answers it */
		w->stats.park_duplicates++;
		return;
	}
	k = NULL;
	if (w->n_parked < WORKER_PARK_MAX &&
	    w->park_bytes + p->len <= WORKER_PARK_BYTES)
		k = malloc(sizeof(*k) + p->len);
	if (!k) {
		w->stats.park_expired++;
		return;
	}
	struct worker_shard *sh = &w->shards[worker_shard_of(w, tid)];
	k->next = NULL;
	k->at_ms = uv_now(w->loop);
	k->peer = p->peer;
	k->tid = tid;
	snprintf(k->origin, sizeof(k->origin), "%s", origin);
	k->len = p->len;
	memcpy(k->data, p->data, p->len);
	if (sh->park_tail)
		sh->park_tail->next = k;
	else
		sh->park_head = k;
	sh->park_tail = k;
	w->park_last[tid] = k;
	w->n_parked++;
	w->park_bytes += p->len;
	w->stats.parked++;
}

/* Give the datagrams parked for shards that are now loaded to their
 * tunnels; drop those too old to matter (the peer has retransmitted them by
 * now). Each shard keeps its own list, oldest first, so this costs the
 * shards plus what it replays or drops, not everything still parked. */
void worker_replay_parked(struct worker *w)
{
	uint64_t now = uv_now(w->loop);
	for (unsigned s = 0; s < (unsigned)w->cfg.shard_count && w->n_parked;
	     s++) {
		struct worker_shard *sh = &w->shards[s];
		bool ready = sh->owned && !sh->loading && !w->stopping;
		/* A datagram replayed here may be parked again (its shard
		 * went away meanwhile): take the list first. */
		struct worker_parked *k = sh->park_head;
		while (k && (ready || w->stopping ||
			     now - k->at_ms > WORKER_PARK_MS)) {
			sh->park_head = k->next;
			if (!sh->park_head)
				sh->park_tail = NULL;
			w->n_parked--;
			w->park_bytes -= k->len;
			if (w->park_last[k->tid] == k)
				w->park_last[k->tid] = NULL;
			if (ready && now - k->at_ms <= WORKER_PARK_MS) {
				struct wire_packet p = {.peer = k->peer,
							.data = k->data,
							.len = k->len};
				w->stats.rx_packets--; /* counted on arrival */
				worker_packet(w, k->origin, &p);
			} else {
				w->stats.park_expired++;
			}
			free(k);
			k = sh->park_head;
			ready = sh->owned && !sh->loading && !w->stopping;
		}
	}
}

void worker_packet(struct worker *w, const char *origin,
		   const struct wire_packet *p)
{
	struct l2tp_header h;
	struct l2tp_reject rej;
	w->stats.rx_packets++;
	worker_zmq_frontend_seen(w, origin, true);
	if (l2tp_header_decode(p->data, p->len, &h, &rej) < 0) {
		w->stats.rx_bad_header++;
		LOG_RL(LOG_LEVEL_WARN, "bad L2TP header", "reason=%s",
		       l2tp_reject_reason_name(rej.reason));
		return;
	}
	if (h.tunnel_id == 0) {
		if (h.control)
			worker_sccrq(w, origin, p, &h);
		return;
	}
	struct worker_tunnel *wt = w->tunnels[h.tunnel_id];
	struct worker_shard *sh = &w->shards[worker_shard_of(w, h.tunnel_id)];
	if (!wt && (sh->loading || (!sh->owned && !sh->handing &&
				    !sh->confirming && !w->draining))) {
		/* Its shard is loading, or may just have been handed to us:
		 * keep it until we know. */
		worker_park(w, origin, p, h.tunnel_id);
		if (!sh->owned)
			worker_claim_soon(w);
		return;
	}
	if (!wt || !(sh->owned || sh->confirming)) {
		w->stats.unknown_tunnel++;
		LOG_RL(LOG_LEVEL_WARN, "packet for a tunnel not held here",
		       "tid=%u", h.tunnel_id);
		return;
	}
	snprintf(wt->frontend, sizeof(wt->frontend), "%s", origin);
	if (!h.control) {
		tunnel_rx_data(&wt->t, &h, p->data, p->len);
		return;
	}
	w->stats.control_msgs++;
	worker_metrics_rx_control(w, p->data, &h);
	tunnel_rx_control(&wt->t, &h, p->data, p->len, worker_now(w));
	worker_tunnel_after(w, wt);
}

/* ---- engine callbacks -------------------------------------------------- */

static void worker_env_output(void *ctx, struct tunnel *t, const uint8_t *pkt,
			      size_t len)
{
	struct worker *w = ctx;
	struct worker_tunnel *wt = t->owner;
	struct worker_pkt *p = malloc(sizeof(*p) + len);
	if (!p)
		return; /* the peer retransmits; the message stays queued */
	p->next = NULL;
	p->len = (uint16_t)len;
	memcpy(p->data, pkt, len);
	if (wt->out_tail)
		wt->out_tail->next = p;
	else
		wt->out_head = p;
	wt->out_tail = p;
	worker_mark_dirty(w, wt);
}

static void worker_env_dirty(void *ctx, struct tunnel *t)
{
	worker_mark_dirty(ctx, t->owner);
}

static void worker_env_random(void *ctx, uint8_t *buf, size_t len)
{
	(void)ctx;
	while (len) {
		ssize_t n = getrandom(buf, len, 0);
		if (n <= 0)
			continue;
		buf += n;
		len -= (size_t)n;
	}
}

/* WAIT answered (or the link was lost, like a lost checkpoint): what the
 * round held may go. Fewer replicas than asked: the primary has lost its
 * replica; go on unreplicated rather than stop, and say so. */
static void worker_wait_send(struct worker *w, struct worker_round *rd);

static void worker_waited(void *arg, int status, int64_t value)
{
	struct worker_round *rd = arg;
	struct worker *w = rd->w;
	w->wait_in_flight = false;
	if (status == 0 && rd->asked > 0 && value < rd->asked) {
		w->stats.wait_short++;
		if (!w->wait_degraded)
			log_warn("checkpoints not replicated: too few replicas "
				 "answer WAIT; going on without",
				 "replicas=%lld wanted=%d", (long long)value,
				 w->cfg.redis_wait_replicas);
		w->wait_degraded = true;
	}
	while (rd->held) {
		struct worker_ckpt *c = rd->held;
		rd->held = c->next;
		worker_send_list(w, c->pkts, &c->peer, c->frontend);
		worker_ckpt_free(w, c);
	}
	free(rd);
	/* The iterations that checkpointed meanwhile: their WAIT now. */
	struct worker_round *next = w->wait_next;
	w->wait_next = NULL;
	if (next)
		worker_wait_send(w, next);
}

/* WAIT for round rd (which has checkpoints in flight). Degraded: WAIT 0,
 * answered at once, only to release what rd holds in order. */
static void worker_wait_send(struct worker *w, struct worker_round *rd)
{
	/* Half the command time-out: a missing replica must not look like a
	 * hung Redis to the statestore's watchdog. */
	uint32_t ms = w->cfg.redis_timeout_ms / 2;
	rd->asked = w->wait_degraded ? 0 : w->cfg.redis_wait_replicas;
	w->wait_in_flight = true;
	if (statestore_wait(&w->ss, rd->asked, ms ? ms : 1, worker_waited, rd) <
	    0)
		worker_waited(rd, -EIO, 0);
}

static void worker_flush_more_cb(uv_idle_t *h);

/* Checkpoint what changed (at most `budget` tunnels), send what may go. */
static void worker_flush_some(struct worker *w, unsigned budget)
{
	if (w->replay_due) {
		w->replay_due = false;
		worker_replay_parked(w);
	}
	struct worker_tunnel *wt = w->dirty_head, *tail = w->dirty_tail;
	w->dirty_head = w->dirty_tail = NULL;
	/* Bounded work per iteration: at most WORKER_CKPT_BUDGET tunnels
	 * (a full snapshot after Redis returns is 65,535 of them); the rest
	 * stay dirty, and an idle handle brings the loop straight back. */
	struct worker_tunnel *rest = wt;
	for (unsigned n = 0; rest && n < budget; n++)
		rest = rest->dirty_next;
	if (rest) {
		struct worker_tunnel *last = wt;
		while (last->dirty_next != rest)
			last = last->dirty_next;
		last->dirty_next = NULL;
		w->dirty_head = rest; /* before what this flush makes dirty */
		w->dirty_tail = tail;
		w->stats.ckpt_deferred++;
		uv_idle_start(&w->flush_more, worker_flush_more_cb);
	} else {
		uv_idle_stop(&w->flush_more);
	}
	if (wt && w->protected_mode)
		w->stats.ckpt_rounds++;
	if (wt && w->protected_mode && w->cfg.redis_wait_replicas > 0 &&
	    (!w->wait_degraded || w->wait_next)) {
		/* a WAIT is out: join the round that waits for the next one */
		w->round = w->wait_next ? w->wait_next
					: calloc(1, sizeof(*w->round));
		w->wait_next = NULL;
		if (w->round)
			w->round->w = w;
	}
	while (wt) {
		struct worker_tunnel *next = wt->dirty_next;
		wt->dirty = false;
		wt->dirty_next = NULL;
		worker_checkpoint(w, wt);
		wt = next;
	}
	if (w->round) {
		struct worker_round *rd = w->round;
		w->round = NULL;
		if (rd->n == 0)
			free(rd);
		else if (w->wait_in_flight)
			w->wait_next =
				rd; /* its WAIT goes when that one answers */
		else
			worker_wait_send(w, rd);
	}
	worker_metrics_round_end(w);
	worker_zmq_flush(w);
}

/* Everything, now: before a hand-off (its checkpoints must reach Redis
 * ahead of it) and at stop. */
void worker_flush(struct worker *w)
{
	worker_flush_some(w, UINT_MAX);
}

/* End of a loop iteration: bounded, the rest in the next one. */
static void worker_flush_cb(uv_check_t *h)
{
	worker_flush_some(h->data, WORKER_CKPT_BUDGET);
}

/* Only keeps the loop from blocking while dirty tunnels remain: the check
 * handle flushes the next batch in this very iteration. */
static void worker_flush_more_cb(uv_idle_t *h)
{
	(void)h;
}

/* Timers run before the poll phase: without this, what they produce (a
 * delayed ZLB, a retransmission) would wait for the next I/O wakeup. */
static void worker_flush_timers_cb(uv_prepare_t *h)
{
	worker_flush_some(h->data, WORKER_CKPT_BUDGET);
}

/* Lost a shard (fenced, or its renewal failed): forget its tunnels without
 * sending a single packet for them; the new owner has them from Redis. */
/* Forget a shard's tunnels without sending anything more for them. */
void worker_free_shard_tunnels(struct worker *w, unsigned shard)
{
	for (unsigned tid = shard * w->shard_size;
	     tid < (shard + 1) * w->shard_size && tid < 65536; tid++) {
		struct worker_tunnel *wt = w->tunnels[tid];
		if (!wt)
			continue;
		worker_free_list(wt->out_head);
		wt->out_head = wt->out_tail = NULL;
		worker_tunnel_free(w, wt);
	}
}

void worker_drop_shard(struct worker *w, unsigned shard, const char *why)
{
	struct worker_shard *sh = &w->shards[shard];
	unsigned held = sh->tunnels;
	sh->owned = false;
	sh->confirming = false;
	sh->loading = 0;
	worker_free_shard_tunnels(w, shard);
	log_warn("shard dropped", "shard=%u tunnels=%u why=%s", shard, held,
		 LOG_Q(why));
}

/* Redis is back: the next checkpoint of every tunnel writes it whole. */
/* The shard's lease is back in our hands and our memory is still the truth
 * (nobody else owned it meanwhile): write all of it, release what waited. */
void worker_snapshot_shard(struct worker *w, unsigned shard)
{
	for (unsigned tid = shard * w->shard_size;
	     tid < (shard + 1) * w->shard_size && tid < 65536; tid++) {
		struct worker_tunnel *wt = w->tunnels[tid];
		if (!wt)
			continue;
		wt->snapshot = true;
		worker_mark_dirty(w, wt);
	}
}

static void worker_lns_cfg(struct worker *w)
{
	const struct config *c = &w->cfg;
	w->lns = (struct lns_cfg){
		.hostname = c->hostname,
		.secret = {(const uint8_t *)c->secret, strlen(c->secret)},
		.hide_avps = c->hide_avps,
		.tx = {.our_rws = (uint16_t)c->receive_window,
		       .retransmit_initial_ms = c->retransmit_initial_ms,
		       .retransmit_max_ms = c->retransmit_max_ms,
		       .max_retries = (uint32_t)c->retransmit_retries,
		       .ack_delay_ms = c->ack_delay_ms},
		.hello_interval_ms = c->hello_interval_ms,
		.hold_ms = 31000,
		.max_sessions = (uint32_t)c->max_sessions_per_tunnel,
	};
}

static void worker_on_signal(uv_signal_t *h, int signum)
{
	struct worker *w = h->data;
	if (signum == SIGHUP) {
		char err[512];
		if (config_reload(w->cfg_path, &w->cfg, NULL, NULL, err,
				  sizeof(err)) < 0) {
			log_error("config reload failed, keeping the old one",
				  "err=%s", LOG_Q(err));
			return;
		}
		log_set_level((enum log_level)w->cfg.log_level);
		worker_lns_cfg(w);
		log_info("config reloaded", "file=%s", LOG_Q(w->cfg_path));
		return;
	}
	if (w->draining) {
		log_warn(
			"second signal: stopping without waiting for the drain",
			"signal=%d", signum);
		worker_stop(w);
		return;
	}
	worker_drain(w);
}

/* SIGTERM: the rolling-upgrade path. New tunnels are left to successors,
 * every shard is handed to a live worker explicitly (no lease expiry to
 * wait for), and the worker stops once none is left (worker_cluster.c). */
void worker_drain(struct worker *w)
{
	if (w->draining || w->stopping)
		return;
	w->draining = true;
	w->drain_deadline_ms = uv_now(w->loop) + WORKER_DRAIN_MAX_MS;
	log_info("worker draining", "id=%s tunnels=%u", LOG_Q(w->id),
		 w->n_tunnels);
	worker_flush(w);
	worker_cluster_drain(w);
}

void worker_log_stats(const struct worker *w, enum log_level level)
{
	const struct worker_stats *s = &w->stats;
	if (!log_enabled(level))
		return;
	log_msg(level, "worker stats",
		"tunnels=%u sessions_open=%llu rx=%llu tx=%llu control=%llu "
		"checkpoints=%llu ckpt_rounds=%llu redis_cmds=%llu fenced=%llu "
		"ckpt_failed=%llu "
		"unknown_tunnel=%llu bad_header=%llu refused_no_redis=%llu "
		"tx_dropped=%llu protected=%d",
		w->n_tunnels, (unsigned long long)w->ppp.open,
		(unsigned long long)s->rx_packets,
		(unsigned long long)s->tx_packets,
		(unsigned long long)s->control_msgs,
		(unsigned long long)s->checkpoints,
		(unsigned long long)s->ckpt_rounds,
		(unsigned long long)w->ss.stats.commands,
		(unsigned long long)s->fenced,
		(unsigned long long)s->ckpt_failed,
		(unsigned long long)s->unknown_tunnel,
		(unsigned long long)s->rx_bad_header,
		(unsigned long long)s->refused_no_redis,
		(unsigned long long)s->tx_dropped, w->protected_mode);
}

static void worker_stats_cb(uv_timer_t *h)
{
	worker_log_stats(h->data, LOG_LEVEL_DEBUG);
}

int worker_init(struct worker *w, uv_loop_t *loop, const char *cfg_path,
		const struct config *cfg, const char *id)
{
	memset(w, 0, sizeof(*w));
	w->loop = loop;
	w->cfg = *cfg;
	snprintf(w->cfg_path, sizeof(w->cfg_path), "%s", cfg_path);
	snprintf(w->id, sizeof(w->id), "%s", id);
	w->started_unix = (int64_t)time(NULL);
	w->shard_size = 65536u / (unsigned)cfg->shard_count;
	w->shards = calloc((size_t)cfg->shard_count, sizeof(*w->shards));
	w->tunnels = calloc(65536, sizeof(*w->tunnels));
	w->park_last = calloc(65536, sizeof(*w->park_last));
	if (!w->shards || !w->tunnels || !w->park_last)
		return -ENOMEM;
	uint16_t start;
	worker_env_random(NULL, (uint8_t *)&start, sizeof(start));
	w->next_tid = start ? start : 1;
	worker_env_random(NULL, (uint8_t *)&w->tid_rand, sizeof(w->tid_rand));
	w->tid_rand |= 1; /* xorshift must not start at 0 */
	worker_lns_cfg(w);
	struct ppp_backend ppp;
	int rc = worker_ppp_init(w, &ppp);
	if (rc < 0)
		return rc;
	w->env = (struct lns_env){.cfg = &w->lns,
				  .ppp = ppp,
				  .output = worker_env_output,
				  .output_data = worker_ppp_output_data,
				  .dirty = worker_env_dirty,
				  .random = worker_env_random,
				  .ctx = w};
	rc = worker_zmq_init(w);
	if (rc < 0)
		return rc;
	uv_check_init(loop, &w->flush);
	w->flush.data = w;
	uv_check_start(&w->flush, worker_flush_cb);
	uv_idle_init(loop, &w->flush_more);
	w->flush_more.data = w;
	uv_prepare_init(loop, &w->flush_timers);
	w->flush_timers.data = w;
	uv_prepare_start(&w->flush_timers, worker_flush_timers_cb);
	uv_timer_init(loop, &w->stats_timer);
	w->stats_timer.data = w;
	uv_timer_start(&w->stats_timer, worker_stats_cb, 10000, 10000);
	uv_unref((uv_handle_t *)&w->stats_timer);
	uv_signal_t *sigs[] = {&w->sig_term, &w->sig_int, &w->sig_hup};
	int signums[] = {SIGTERM, SIGINT, SIGHUP};
	for (int i = 0; i < 3; i++) {
		uv_signal_init(loop, sigs[i]);
		sigs[i]->data = w;
		uv_signal_start(sigs[i], worker_on_signal, signums[i]);
	}
	struct statestore_ops ops = {
		.up = worker_cluster_up, .down = worker_cluster_down, .ctx = w};
	rc = statestore_init(&w->ss, loop, cfg, id, &ops);
	if (rc < 0)
		return rc;
	worker_cluster_start(w);
	worker_lag_start(w);
	log_info("worker started", "id=%s endpoint=%s shards=%d", LOG_Q(id),
		 LOG_Q(w->endpoint), cfg->shard_count);
	return 0;
}

static void worker_close_cb(uv_handle_t *h)
{
	(void)h;
}

/* SIGTERM: flush, release leases (a successor can take over at once),
 * unregister, then let the loop end. Tunnels stay in Redis. */
void worker_stop(struct worker *w)
{
	if (w->stopping)
		return;
	w->stopping = true;
	log_info("worker stopping", "id=%s tunnels=%u", LOG_Q(w->id),
		 w->n_tunnels);
	worker_flush(w);
	/* Their checkpoints stay in Redis for whoever takes the shards; the
	 * memory and the timers go, so the loop can end. */
	for (unsigned tid = 1; tid < 65536; tid++)
		if (w->tunnels[tid])
			worker_tunnel_free(w, w->tunnels[tid]);
	worker_replay_parked(w); /* frees them all: stopping */
	worker_cluster_stop(w);
	uv_signal_stop(&w->sig_term);
	uv_signal_stop(&w->sig_int);
	uv_signal_stop(&w->sig_hup);
	uv_close((uv_handle_t *)&w->sig_term, worker_close_cb);
	uv_close((uv_handle_t *)&w->sig_int, worker_close_cb);
	uv_close((uv_handle_t *)&w->sig_hup, worker_close_cb);
	uv_timer_stop(&w->stats_timer);
	uv_close((uv_handle_t *)&w->stats_timer, worker_close_cb);
	worker_lag_stop(w);
}
