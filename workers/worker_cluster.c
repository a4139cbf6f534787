/* The worker's place in the cluster, all through statestore.c: registration
 * in P:workers with a TTL'd alive key, shard leases (acquire free shards, renew
 * ours, drop any we lose), the list of frontends, and what happens when Redis
 * goes away (unprotected mode) and comes back (full snapshot). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <hiredis/hiredis.h>

#include "kv_text.h"
#include "log.h"
#include "worker.h"
#include "worker_metrics.h"

#define WORKER_FRONTEND_REFRESH_TICKS 5
#define WORKER_HANDOFF_BATCH	      32 /* shards handed off per claim round */
#define WORKER_CLAIM_MIN_MS	      20 /* early claim rounds at most this often */
#define WORKER_CLAIM_IDLE_MS	      30000 /* a claim round at least this often */
#define WORKER_WATCH_AFTER_MS	      2	    /* look this long after an expiry */
#define WORKER_SETTLE_MS	      10000 /* rebalancing moves newer shards last */

#ifndef TANDEM_VERSION
#define TANDEM_VERSION "dev"
#endif

/* The TTL a lease of ours gets: none (it hangs on our liveness key) unless
 * an older build that renews each lease runs beside us (`legacy`, from the
 * last claim round): then it expires like theirs and we renew it too. */
static uint32_t worker_lease_ttl(const struct worker *w)
{
	return w->legacy_leases ? w->cfg.lease_ttl_ms : 0;
}

struct worker_lease_op {
	struct worker *w;
	unsigned shard;
	uint64_t epoch; /* renew/release: the epoch used */
};

static struct worker_lease_op *worker_lease_op(struct worker *w, unsigned shard,
					       uint64_t epoch)
{
	struct worker_lease_op *op = malloc(sizeof(*op));
	if (op)
		*op = (struct worker_lease_op){w, shard, epoch};
	return op;
}

/* Loading a newly acquired shard: one script call returns every tunnel
 * record of the shard with its sessions (statestore_load_shard). Until it
 * answers, datagrams for the shard are parked; then they are replayed. */
struct worker_load {
	struct worker *w;
	struct worker_load *next; /* waiting for the window */
	unsigned shard;
	uint64_t epoch; /* the ownership this load belongs to */
};

static bool worker_load_current(const struct worker_load *ld)
{
	const struct worker_shard *sh = &ld->w->shards[ld->shard];
	return sh->owned && sh->epoch == ld->epoch && sh->loading;
}

/* Adopt one (tid, record, sessions) triple of a load reply. */
static void worker_load_tunnel(struct worker *w, const redisReply *tid,
			       const redisReply *rec, const redisReply *ss)
{
	if (tid->type != REDIS_REPLY_INTEGER || tid->integer <= 0 ||
	    tid->integer > 65535 || rec->type != REDIS_REPLY_STRING ||
	    ss->type != REDIS_REPLY_ARRAY)
		return;
	size_t n = ss->elements / 2;
	struct statestore_blob *b = calloc(n ? n : 1, sizeof(*b));
	for (size_t i = 0; b && i < n; i++) {
		const redisReply *v = ss->element[2 * i + 1];
		b[i] = (struct statestore_blob){
			.data = (const uint8_t *)v->str,
			.len = v->type == REDIS_REPLY_STRING ? v->len : 0};
	}
	int rc = b ? worker_adopt(w, (uint16_t)tid->integer,
				  (const uint8_t *)rec->str, rec->len, b, n)
		   : -ENOMEM;
	if (rc < 0 && rc != -EEXIST)
		log_warn("cannot take over tunnel", "tid=%lld err=%d",
			 tid->integer, rc);
	free(b);
}

static void worker_load_next(struct worker *w);

/* A shard's tunnels are all in memory (or it had none): it serves, and
 * what was parked or held for it is replayed. */
static void worker_load_settled(struct worker *w, unsigned shard)
{
	struct worker_shard *sh = &w->shards[shard];
	sh->loading = 0;
	uint64_t ms = uv_now(w->loop) - sh->load_started_ms;
	if (sh->tunnels) {
		w->stats.takeovers++;
		worker_metrics_takeover(w, ms);
		log_info("shard loaded",
			 "shard=%u tunnels=%u epoch=%llu "
			 "ms=%llu",
			 shard, sh->tunnels, (unsigned long long)sh->epoch,
			 (unsigned long long)ms);
	} else {
		log_debug("shard loaded", "shard=%u tunnels=0 epoch=%llu",
			  shard, (unsigned long long)sh->epoch);
	}
	w->replay_due = true; /* once per loop iteration, in worker_flush:
				 many shards finish loading in one */
	worker_ppp_settled(w, shard);
}

static void worker_loaded(void *arg, const redisReply *r)
{
	struct worker_load *ld = arg;
	struct worker *w = ld->w;
	struct worker_shard *sh = &w->shards[ld->shard];
	w->loads_in_flight--;
	worker_load_next(w);
	if (!worker_load_current(ld)) {
		free(ld);
		return;
	}
	if (!r || r->type != REDIS_REPLY_ARRAY) {
		/* Redis went away mid-load (the up path asks again), or an
		 * error: ask for the lease again, which reloads. */
		if (r && r->type == REDIS_REPLY_ERROR)
			LOG_RL(LOG_LEVEL_WARN, "shard load refused",
			       "shard=%u err=%s", ld->shard, LOG_Q(r->str));
		sh->loading = 0;
		worker_lease_lapsed(w, ld->shard, "shard load failed");
		free(ld);
		return;
	}
	for (size_t i = 0; i + 3 <= r->elements; i += 3)
		worker_load_tunnel(w, r->element[i], r->element[i + 1],
				   r->element[i + 2]);
	worker_load_settled(w, ld->shard);
	free(ld);
}

/* Send queued loads while the window has room. Redis runs a pipeline's
 * scripts back to back and writes their replies when it has read them all,
 * so 256 loads sent at once would make the first reply wait for the last
 * script: with a few in flight, we adopt one shard's tunnels while Redis
 * reads the next. A load whose ownership ended while it waited is dropped. */
static void worker_load_next(struct worker *w)
{
	while (w->load_head &&
	       (w->stopping || w->loads_in_flight < WORKER_LOAD_WINDOW)) {
		struct worker_load *ld = w->load_head;
		struct worker_shard *sh = &w->shards[ld->shard];
		w->load_head = ld->next;
		if (!w->load_head)
			w->load_tail = NULL;
		if (!worker_load_current(ld) || w->stopping) {
			free(ld);
			continue;
		}
		/* Redis away: the up path asks for every lease again */
		if (statestore_load_shard(&w->ss, ld->shard, worker_loaded,
					  ld) < 0) {
			sh->loading = 0;
			free(ld);
			continue;
		}
		w->loads_in_flight++;
	}
}

/* A shard became ours: adopt the tunnels its previous owner checkpointed.
 * Until every one is in memory, datagrams for it are parked. `tunnels` is
 * how many Redis held when the lease changed hands (-1: not known): an
 * empty shard is settled at once, without a load, so that a takeover's few
 * busy shards do not wait behind the window's round trips for the empty
 * ones (what a slow host makes long). */
static void worker_load_shard(struct worker *w, unsigned shard, uint64_t epoch,
			      long long tunnels)
{
	struct worker_shard *sh = &w->shards[shard];
	sh->load_started_ms = uv_now(w->loop);
	if (tunnels == 0) {
		worker_load_settled(w, shard);
		return;
	}
	struct worker_load *ld = malloc(sizeof(*ld));
	if (!ld)
		return;
	*ld = (struct worker_load){.w = w, .shard = shard, .epoch = epoch};
	sh->loading = 1;
	if (w->load_tail)
		w->load_tail->next = ld;
	else
		w->load_head = ld;
	w->load_tail = ld;
	worker_load_next(w);
}

/* An acquire for a shard whose tunnels we still hold answered with epoch
 * `e`. Our memory stays the truth only if nobody else can have owned the
 * shard since our last write: the epoch moved by exactly one (the lease just
 * lapsed), or not at all, or went backwards (Redis lost its data; memory is
 * all there is). A bigger jump means another worker owned it meanwhile: its
 * checkpoints are newer than our memory, so drop ours and load theirs. */
static void worker_reacquired(struct worker *w, unsigned shard, uint64_t e)
{
	struct worker_shard *sh = &w->shards[shard];
	uint64_t old = sh->epoch;
	sh->confirming = false;
	if (e > old + 1) {
		worker_drop_shard(w, shard,
				  "owned by another worker meanwhile");
		sh->owned = true;
		sh->epoch = e;
		worker_load_shard(w, shard, e, -1);
		return;
	}
	sh->owned = true;
	sh->epoch = e;
	log_info("shard lease regained",
		 "shard=%u tunnels=%u epoch=%llu "
		 "was=%llu",
		 shard, sh->tunnels, (unsigned long long)e,
		 (unsigned long long)old);
	worker_snapshot_shard(w, shard);
	worker_ppp_settled(w, shard);
}

/* Redis says the lease of `shard` names us at epoch `e` (we took it, it was
 * handed to us, or it is one we hold); `tunnels` as for worker_load_shard. */
static void worker_granted(struct worker *w, unsigned shard, uint64_t e,
			   long long tunnels)
{
	struct worker_shard *sh = &w->shards[shard];
	if (sh->handing || w->stopping)
		return; /* our hand-off, queued behind this reply, decides */
	if (sh->confirming || (sh->owned && sh->epoch != e)) {
		worker_reacquired(w, shard, e);
		return;
	}
	if (sh->owned)
		return;
	if (sh->tunnels) /* left over from an ownership that ended */
		worker_free_shard_tunnels(w, shard);
	sh->owned = true;
	sh->epoch = e;
	log_debug("shard acquired", "shard=%u epoch=%llu", shard,
		  (unsigned long long)e);
	worker_load_shard(w, shard, e, tunnels);
}

static void worker_acquired(void *arg, int status, int64_t epoch)
{
	struct worker_lease_op *op = arg;
	struct worker *w = op->w;
	struct worker_shard *sh = &w->shards[op->shard];
	sh->acquiring = false;
	if (status == 0)
		worker_granted(w, op->shard, (uint64_t)epoch, -1);
	else if (status == -EBUSY && (sh->confirming || sh->tunnels))
		/* Someone else owns it now (we were away): theirs. */
		worker_drop_shard(w, op->shard, "owned by another worker");
	free(op);
}

static void worker_acquire(struct worker *w, unsigned shard)
{
	struct worker_shard *sh = &w->shards[shard];
	if (sh->acquiring || !w->ss.up || w->stopping)
		return;
	struct worker_lease_op *op = worker_lease_op(w, shard, 0);
	if (!op)
		return;
	sh->acquiring = true;
	if (statestore_lease_acquire(&w->ss, shard, worker_lease_ttl(w),
				     worker_acquired, op) < 0) {
		sh->acquiring = false;
		free(op);
	}
}

void worker_lease_lapsed(struct worker *w, unsigned shard, const char *why)
{
	struct worker_shard *sh = &w->shards[shard];
	if (!sh->owned)
		return;
	w->stats.lease_lost++;
	sh->owned = false;
	sh->loading = 0;
	if (!sh->tunnels)
		return; /* nothing held: a claim round may take it afresh */
	sh->confirming = true;
	log_warn("shard lease lapsed: output held",
		 "shard=%u tunnels=%u "
		 "why=%s",
		 shard, sh->tunnels, LOG_Q(why));
	worker_acquire(w, shard);
}

/* ---- hand-off: drain and rebalancing ------------------------------------ */

struct worker_handoff {
	struct worker *w;
	unsigned shard;
	char to[64];
};

static void worker_drain_check(struct worker *w);

static void worker_handed(void *arg, int status, int64_t epoch)
{
	struct worker_handoff *ho = arg;
	struct worker *w = ho->w;
	struct worker_shard *sh = &w->shards[ho->shard];
	if (w->handoffs_pending) /* zeroed when Redis went away */
		w->handoffs_pending--;
	sh->handing = false;
	if (status == 0) {
		w->stats.handoffs++;
		log_info("shard handed off",
			 "shard=%u to=%s epoch=%lld "
			 "tunnels=%u",
			 ho->shard, LOG_Q(ho->to), (long long)epoch,
			 sh->tunnels);
		worker_free_shard_tunnels(w, ho->shard);
	} else if (status == -EBUSY) {
		worker_drop_shard(w, ho->shard, "lease was no longer ours");
	} else if (sh->tunnels) {
		/* Unknown outcome: the lease decides when Redis is back. */
		sh->owned = true;
		worker_lease_lapsed(w, ho->shard, "hand-off unanswered");
	}
	free(ho);
	if (w->draining)
		worker_drain_check(w);
}

/* Hand one owned shard to `to`: its pending checkpoints are queued first
 * (same connection, so Redis applies them before the hand-off), and from now
 * on nothing more is sent or written for it here. */
static int worker_handoff(struct worker *w, unsigned shard, const char *to)
{
	struct worker_shard *sh = &w->shards[shard];
	struct worker_handoff *ho = calloc(1, sizeof(*ho));
	if (!ho || !sh->owned || sh->loading) {
		free(ho);
		return -EAGAIN;
	}
	*ho = (struct worker_handoff){.w = w, .shard = shard};
	snprintf(ho->to, sizeof(ho->to), "%s", to);
	worker_flush(w);
	if (statestore_lease_handoff(&w->ss, shard, sh->epoch, to,
				     worker_lease_ttl(w), worker_handed,
				     ho) < 0) {
		free(ho);
		return -EIO;
	}
	sh->owned = false;
	sh->handing = true;
	w->handoffs_pending++;
	worker_ppp_handoff(w, shard, to);
	return 0;
}

/* The live peer that should get the next shard: the one holding fewest
 * (spread), or the first (active-standby: one successor takes all). */
static struct worker_peer *worker_successor(struct worker *w)
{
	struct worker_peer *best = NULL;
	for (unsigned i = 0; i < w->n_peers; i++) {
		struct worker_peer *p = &w->peers[i];
		if (!best || p->shards < best->shards ||
		    (p->shards == best->shards && strcmp(p->id, best->id) < 0))
			best = p;
	}
	if (w->cfg.shard_policy == CONFIG_SHARD_ACTIVE_STANDBY)
		for (unsigned i = 0; i < w->n_peers; i++)
			if (w->peers[i].shards > best->shards)
				best = &w->peers[i]; /* keep them together */
	return best;
}

unsigned worker_owned(const struct worker *w)
{
	unsigned n = 0;
	for (unsigned s = 0; s < (unsigned)w->cfg.shard_count; s++)
		n += w->shards[s].owned;
	return n;
}

/* Spread policy: hand shards above our fair share to peers below theirs.
 * Shards that became ours in the last WORKER_SETTLE_MS go last, so that
 * shards do not bounce: one an operator just moved here (worker_move_shard)
 * stays, and another one evens the count out. */
static void worker_rebalance(struct worker *w)
{
	unsigned n = (unsigned)w->cfg.shard_count, live = w->n_peers + 1;
	unsigned target = (n + live - 1) / live, have = worker_owned(w);
	unsigned budget = WORKER_HANDOFF_BATCH;
	uint64_t now = uv_now(w->loop);
	for (int pass = 0; pass < 2; pass++) {
		for (unsigned s = 0; s < n && have > target && budget; s++) {
			const struct worker_shard *sh = &w->shards[s];
			bool settled =
				now - sh->load_started_ms >= WORKER_SETTLE_MS;
			if (!sh->owned || settled != (pass == 0))
				continue;
			struct worker_peer *p = worker_successor(w);
			if (!p || p->shards + 1 > target)
				return;
			if (worker_handoff(w, s, p->id) < 0)
				continue;
			p->shards++;
			have--;
			budget--;
		}
	}
}

static void worker_drain_check(struct worker *w)
{
	if (w->stopping)
		return;
	bool late = uv_now(w->loop) >= w->drain_deadline_ms;
	bool held = false;
	for (unsigned s = 0; s < (unsigned)w->cfg.shard_count; s++)
		held |= w->shards[s].owned || w->shards[s].confirming;
	if (w->handoffs_pending && !late)
		return;
	if (held && w->n_peers && w->ss.up && !late)
		return; /* the next claim round hands the rest */
	if (held)
		log_warn("drain: no successor took every shard; releasing",
			 "peers=%u redis_up=%d late=%d", w->n_peers, w->ss.up,
			 late);
	else
		log_info("drain complete: every shard is owned elsewhere",
			 "handoffs=%llu",
			 (unsigned long long)w->stats.handoffs);
	worker_stop(w);
}

static void worker_drain_all(struct worker *w)
{
	for (unsigned s = 0; s < (unsigned)w->cfg.shard_count; s++) {
		struct worker_peer *p = worker_successor(w);
		if (!p)
			break;
		if (w->shards[s].owned && worker_handoff(w, s, p->id) == 0)
			p->shards++;
	}
	worker_drain_check(w);
}

int worker_move_shard(struct worker *w, unsigned shard, const char *to)
{
	struct worker_peer *p = NULL;
	for (unsigned i = 0; i < w->n_peers && !p; i++)
		if (!strcmp(w->peers[i].id, to))
			p = &w->peers[i];
	if (!p)
		return -ENOENT;
	int rc = worker_handoff(w, shard, to);
	if (rc == 0)
		p->shards++;
	return rc;
}

/* ---- claim rounds ---------------------------------------------------- */

/* Which shards Redis says are ours: granted now (taken, handed to us, or
 * held), from one (shard, epoch, tunnels) array of a claim reply. A shard
 * in the round's `taken` that we believe we hold had no valid lease a
 * moment ago (Redis lost it, or we were presumed dead): decide what memory
 * is worth as for a lapsed lease, even when the new epoch happens to equal
 * ours. */
static void worker_claimed_grants(struct worker *w, const redisReply *a,
				  uint8_t *ours, bool taken)
{
	for (size_t i = 0; a->type == REDIS_REPLY_ARRAY && i + 2 < a->elements;
	     i += 3) {
		long long s = a->element[i]->integer;
		long long e = a->element[i + 1]->integer;
		long long n = a->element[i + 2]->type == REDIS_REPLY_INTEGER
				      ? a->element[i + 2]->integer
				      : -1;
		if (s < 0 || s >= w->cfg.shard_count || e <= 0)
			continue;
		ours[s] = 1;
		struct worker_shard *sh = &w->shards[s];
		if (taken && sh->owned && sh->loading) {
			/* half loaded under a lease that vanished: start
			 * again under the new one */
			worker_drop_shard(w, (unsigned)s,
					  "lease vanished while loading");
			worker_granted(w, (unsigned)s, (uint64_t)e, n);
		} else if (taken && sh->owned && !sh->handing && !w->stopping)
			worker_reacquired(w, (unsigned)s, (uint64_t)e);
		else
			worker_granted(w, (unsigned)s, (uint64_t)e, n);
	}
}

static void worker_claimed_apply(struct worker *w, const redisReply *r)
{
	if (!r || r->type != REDIS_REPLY_ARRAY || r->elements != 4 ||
	    r->element[3]->type != REDIS_REPLY_ARRAY ||
	    r->element[3]->elements != 2) {
		if (r && r->type == REDIS_REPLY_ERROR)
			LOG_RL(LOG_LEVEL_WARN, "claim round refused", "err=%s",
			       LOG_Q(r->str));
		return;
	}
	uint8_t *ours = calloc((size_t)w->cfg.shard_count, 1);
	if (!ours)
		return;
	w->claim_gen = (uint64_t)r->element[3]->element[0]->integer;
	bool legacy = r->element[3]->element[1]->integer != 0;
	if (legacy != w->legacy_leases)
		log_info(legacy ? "an older build renews each lease: ours "
				  "expire and are renewed like theirs"
				: "every worker hangs its leases on its "
				  "liveness: leases no longer expire",
			 "legacy=%d", legacy);
	w->legacy_leases = legacy;
	for (size_t k = 0; k < 2; k++)
		worker_claimed_grants(w, r->element[k], ours, k == 0);
	/* A shard we think we own whose lease names someone else (we were
	 * slow and it was taken): it is not ours to serve. */
	for (unsigned s = 0; s < (unsigned)w->cfg.shard_count; s++)
		if (w->shards[s].owned && !ours[s])
			worker_lease_lapsed(w, s, "lease names another worker");
	free(ours);
	const redisReply *peers = r->element[2];
	w->n_peers = 0;
	for (size_t i = 0;
	     peers->type == REDIS_REPLY_ARRAY && i + 1 < peers->elements &&
	     w->n_peers < WORKER_MAX_PEERS;
	     i += 2) {
		struct worker_peer *p = &w->peers[w->n_peers++];
		snprintf(p->id, sizeof(p->id), "%s",
			 peers->element[i]->type == REDIS_REPLY_STRING
				 ? peers->element[i]->str
				 : "?");
		p->shards = (unsigned)peers->element[i + 1]->integer;
	}
	if (w->stopping)
		return;
	if (w->draining)
		worker_drain_all(w);
	else if (w->cfg.shard_policy == CONFIG_SHARD_SPREAD)
		worker_rebalance(w);
}

static void worker_claim(struct worker *w);

static void worker_claimed(void *arg, const redisReply *r)
{
	struct worker *w = arg;
	w->claim_in_flight = false;
	worker_claimed_apply(w, r);
	if (w->stopping)
		return;
	if (w->claim_again) {
		w->claim_again = false;
		worker_claim(w);
	}
	/* who else runs on this host, under which pid (a restart bumps gen,
	 * so a claim round follows it) */
	worker_peerwatch_refresh(w);
}

static void worker_claim(struct worker *w)
{
	if (w->claim_in_flight || !w->ss.up || w->stopping)
		return;
	const char *policy = w->cfg.shard_policy == CONFIG_SHARD_ACTIVE_STANDBY
				     ? "active-standby"
				     : "spread";
	if (statestore_claim(&w->ss, (unsigned)w->cfg.shard_count,
			     w->cfg.lease_ttl_ms, policy, w->draining,
			     worker_claimed, w) == 0) {
		w->claim_in_flight = true;
		w->last_claim_ms = uv_now(w->loop);
	}
}

void worker_claim_soon(struct worker *w)
{
	if (uv_now(w->loop) - w->last_claim_ms >= WORKER_CLAIM_MIN_MS)
		worker_claim(w);
}

void worker_claim_again(struct worker *w)
{
	if (w->claim_in_flight)
		w->claim_again = true;
	else
		worker_claim(w);
}

/* What the heartbeat or a watch said: P:gen and how long until the next
 * other worker's liveness expires. A claim round runs only when gen moved
 * (a worker joined, left or began draining, a shard was taken, handed or
 * released) or a liveness has expired; when the next expiry falls before
 * the next heartbeat, a watch is timed to look right after it, so that a
 * death is seen within a few ms of it, with no polling in between. */
static void worker_watch_tick(uv_timer_t *h);

static void worker_outlook(struct worker *w, const redisReply *gen,
			   const redisReply *next)
{
	if (gen->type != REDIS_REPLY_INTEGER ||
	    next->type != REDIS_REPLY_INTEGER || w->stopping)
		return;
	if ((uint64_t)gen->integer != w->claim_gen || next->integer == 0) {
		worker_claim(w);
		return;
	}
	if (next->integer > 0 && next->integer < w->cfg.lease_renew_ms)
		uv_timer_start(&w->claim_timer, worker_watch_tick,
			       (uint64_t)next->integer + WORKER_WATCH_AFTER_MS,
			       0);
}

static void worker_watched(void *arg, const redisReply *r)
{
	struct worker *w = arg;
	w->watch_in_flight = false;
	if (r && r->type == REDIS_REPLY_ARRAY && r->elements == 2)
		worker_outlook(w, r->element[0], r->element[1]);
}

static void worker_watch_tick(uv_timer_t *h)
{
	struct worker *w = h->data;
	/* a claim round in flight looks at everything anyway */
	if (w->watch_in_flight || w->claim_in_flight || !w->ss.up ||
	    w->stopping)
		return;
	if (statestore_watch(&w->ss, worker_watched, w) == 0)
		w->watch_in_flight = true;
}

/* ---- leases ------------------------------------------------------------ */

/* One renewal round: which shards at which epochs, to match the reply. */
struct worker_renew {
	struct worker *w;
	size_t n;
	unsigned *shards;
	uint64_t *epochs;
};

static void worker_renewed(void *arg, const redisReply *r)
{
	struct worker_renew *rn = arg;
	struct worker *w = rn->w;
	if (r && r->type == REDIS_REPLY_ARRAY && r->elements == rn->n) {
		for (size_t i = 0; i < rn->n; i++) {
			struct worker_shard *sh = &w->shards[rn->shards[i]];
			const redisReply *e = r->element[i];
			w->stats.lease_renewals +=
				e->type == REDIS_REPLY_INTEGER &&
				e->integer == 1;
			if (e->type == REDIS_REPLY_INTEGER && e->integer == 0 &&
			    sh->owned && sh->epoch == rn->epochs[i])
				worker_lease_lapsed(w, rn->shards[i],
						    "renewal refused");
		}
	}
	free(rn->shards);
	free(rn->epochs);
	free(rn);
}

static void worker_renew_all(struct worker *w)
{
	struct worker_renew *rn = calloc(1, sizeof(*rn));
	size_t max = (size_t)w->cfg.shard_count;
	if (!rn)
		return;
	rn->w = w;
	rn->shards = malloc(max * sizeof(*rn->shards));
	rn->epochs = malloc(max * sizeof(*rn->epochs));
	for (unsigned s = 0; rn->shards && rn->epochs && s < max; s++) {
		if (!w->shards[s].owned)
			continue;
		rn->shards[rn->n] = s;
		rn->epochs[rn->n++] = w->shards[s].epoch;
	}
	if (!rn->n || !rn->shards || !rn->epochs ||
	    statestore_lease_renew(&w->ss, rn->shards, rn->epochs, rn->n,
				   w->cfg.lease_ttl_ms, worker_renewed,
				   rn) < 0) {
		free(rn->shards);
		free(rn->epochs);
		free(rn);
	}
}

/* P:frontends entries whose alive key still exists, as (id, value) pairs:
 * a frontend killed without deregistering stops counting within its alive
 * TTL, and replies go through the others. */
static const char worker_lua_frontends[] =
	"local out = {}\n"
	"local f = redis.call('HGETALL', KEYS[1])\n"
	"for i = 1, #f, 2 do\n"
	"  if redis.call('EXISTS', ARGV[1] .. ':frontend:' .. f[i] .. ':alive')"
	" == 1 then\n"
	"    out[#out + 1] = f[i] out[#out + 1] = f[i + 1] end\n"
	"end\n"
	"return out\n";

static void worker_frontends_reply(void *arg, const redisReply *r)
{
	struct worker *w = arg;
	if (!r || r->type != REDIS_REPLY_ARRAY)
		return;
	for (unsigned i = 0; i < w->n_fe; i++)
		w->fe[i].live = false;
	for (size_t i = 0; i + 1 < r->elements; i += 2) {
		const redisReply *v = r->element[i + 1];
		char ep[WIRE_MAX_ORIGIN + 1];
		/* not version 1, or no endpoint: a format we do not know */
		if (v->type == REDIS_REPLY_STRING &&
		    kv_text_field(v->str, "endpoint", ep, sizeof(ep)) == 0 &&
		    ep[0])
			worker_zmq_frontend_seen(w, ep, true);
	}
}

static void worker_refresh_frontends(struct worker *w)
{
	char key[STATESTORE_KEY_MAX];
	statestore_key(&w->ss, key, sizeof(key), "frontends");
	const char *argv[] = {"EVAL", worker_lua_frontends, "1", key,
			      w->ss.prefix};
	statestore_query(&w->ss, worker_frontends_reply, w, 5, argv, NULL);
}

/* The heartbeat's answer. Our liveness key may have been gone when it
 * came: the loop was stalled past lease_ttl, or Redis lost it. Peers may
 * have taken shards from us; a claim round now says which are still ours
 * (the others are dropped, their checkpoints fenced meanwhile). */
static void worker_heartbeat_done(void *arg, const redisReply *r)
{
	struct worker *w = arg;
	if (!r || r->type != REDIS_REPLY_ARRAY || r->elements != 3 ||
	    r->element[0]->type != REDIS_REPLY_INTEGER || w->stopping)
		return;
	bool had = r->element[0]->integer != 0;
	if (had) /* every lease we hold hangs on this key */
		w->stats.lease_renewals += worker_owned(w);
	if (!had && worker_owned(w)) {
		w->stats.liveness_lapsed++;
		log_warn("liveness lapsed: checking which shards are still "
			 "ours",
			 "shards=%u lease_ttl_ms=%u loop_lag_max_ms=%llu",
			 worker_owned(w), w->cfg.lease_ttl_ms,
			 (unsigned long long)w->lag.window_max_ms);
		worker_claim(w);
		return;
	}
	worker_outlook(w, r->element[1], r->element[2]);
}

/* Every lease_renew: the one key all our leases hang on. Its value says
 * how late the loop has been (clusterctl status). */
static void worker_heartbeat(struct worker *w)
{
	char val[96];
	snprintf(val, sizeof(val), "1 loop_lag_ms=%llu loop_lag_max_ms=%llu",
		 (unsigned long long)w->lag.window_max_ms,
		 (unsigned long long)w->lag.max_ms);
	statestore_heartbeat(&w->ss, w->cfg.lease_ttl_ms, val,
			     worker_heartbeat_done, w);
}

static void worker_register(struct worker *w)
{
	char key[STATESTORE_KEY_MAX], gen[STATESTORE_KEY_MAX],
		chan[STATESTORE_KEY_MAX], host[64] = "", val[1024], ev[160];
	gethostname(host, sizeof(host) - 1);
	statestore_key(&w->ss, key, sizeof(key), "workers");
	statestore_key(&w->ss, chan, sizeof(chan), "events");
	snprintf(val, sizeof(val),
		 "1 endpoint=%s control=%s wire=%d pid=%d host=%s protected=1 "
		 "version=%s draining=%d started=%lld leases=2",
		 w->endpoint, w->control[0] ? w->control : "-", WIRE_VERSION,
		 (int)getpid(), host, TANDEM_VERSION, w->draining,
		 (long long)w->started_unix);
	snprintf(ev, sizeof(ev), "1 worker=%s up", w->id);
	statestore_key(&w->ss, gen, sizeof(gen), "gen");
	const char *hset[] = {"HSET", key, w->id, val};
	const char *incr[] = {"INCR", gen};
	const char *pub[] = {"PUBLISH", chan, ev};
	statestore_command(&w->ss, NULL, NULL, 4, hset, NULL);
	worker_heartbeat(w);
	/* peers look again: a new worker to share with, or one draining */
	statestore_command(&w->ss, NULL, NULL, 2, incr, NULL);
	if (!w->draining)
		statestore_command(&w->ss, NULL, NULL, 3, pub, NULL);
}

/* Degraded: is the replica back? ROLE lists the connected replicas. */
static void worker_role_reply(void *arg, const redisReply *r)
{
	struct worker *w = arg;
	if (!r || r->type != REDIS_REPLY_ARRAY || r->elements < 3 ||
	    r->element[2]->type != REDIS_REPLY_ARRAY)
		return;
	if ((long long)r->element[2]->elements >= w->cfg.redis_wait_replicas &&
	    w->wait_degraded) {
		w->wait_degraded = false;
		log_info("replicas back: checkpoints wait for them again",
			 "replicas=%zu", r->element[2]->elements);
	}
}

void worker_wait_probe(struct worker *w)
{
	const char *role[] = {"ROLE"};
	if (w->wait_degraded && w->ss.up)
		statestore_query(&w->ss, worker_role_reply, w, 1, role, NULL);
}

/* Every lease_renew. The heartbeat goes first: timers run before I/O in
 * a libuv iteration, and what this tick does is small, so only a loop
 * stalled for longer than lease_ttl - lease_renew makes it late. */
static void worker_lease_tick(uv_timer_t *h)
{
	struct worker *w = h->data;
	if (w->ss.up && !w->stopping) {
		worker_heartbeat(w);
		/* Beside an older build (which moves neither P:gen nor
		 * P:alive), and every WORKER_CLAIM_IDLE_MS regardless: what
		 * no event announces (a lease edited by hand, say). */
		if (w->legacy_leases) {
			worker_renew_all(w);
			worker_claim(w);
		} else if (uv_now(w->loop) - w->last_claim_ms >=
			   WORKER_CLAIM_IDLE_MS) {
			worker_claim(w);
		}
	}
	if (w->n_parked)
		worker_replay_parked(w); /* ages them out */
	if (w->draining)
		worker_drain_check(w);
	if (!w->ss.up || w->stopping)
		return;
	if (w->lease_ticks % WORKER_FRONTEND_REFRESH_TICKS == 0)
		worker_wait_probe(w);
	if (++w->lease_ticks % WORKER_FRONTEND_REFRESH_TICKS == 0)
		worker_refresh_frontends(w);
}

void worker_cluster_start(struct worker *w)
{
	/* claim_timer is the watch timed to a peer's expiry
	 * (worker_outlook); the heartbeat does the rest. */
	uv_timer_init(w->loop, &w->claim_timer);
	w->claim_timer.data = w;
	uv_timer_init(w->loop, &w->lease_timer);
	w->lease_timer.data = w;
	uv_timer_start(&w->lease_timer, worker_lease_tick,
		       w->cfg.lease_renew_ms, w->cfg.lease_renew_ms);
}

void worker_cluster_up(void *ctx)
{
	struct worker *w = ctx;
	bool was_unprotected = !w->protected_mode && w->n_tunnels;
	w->protected_mode = true;
	w->claim_in_flight = false;
	w->watch_in_flight = false;
	worker_register(w);
	worker_refresh_frontends(w);
	if (was_unprotected)
		log_info("redis back: writing a full snapshot", "tunnels=%u",
			 w->n_tunnels);
	/* Our leases may have expired while Redis was away: ask again for
	 * every shard we hold tunnels of; their output waits for the answer,
	 * and a confirmed shard is written whole (the snapshot). */
	for (unsigned s = 0; s < (unsigned)w->cfg.shard_count; s++) {
		struct worker_shard *sh = &w->shards[s];
		sh->handing = false;
		if ((sh->owned || sh->confirming) && sh->tunnels) {
			sh->owned = false;
			sh->confirming = true;
			worker_acquire(w, s);
		} else {
			sh->owned = false;
			sh->loading = 0;
		}
	}
	worker_claim(w);
}

void worker_cluster_down(void *ctx)
{
	struct worker *w = ctx;
	w->protected_mode = false;
	w->claim_in_flight = false;
	w->watch_in_flight = false;
	w->handoffs_pending = 0;
	for (unsigned s = 0; s < (unsigned)w->cfg.shard_count; s++)
		w->shards[s].acquiring = false;
	log_warn("redis unreachable: shards unprotected, serving from memory",
		 "tunnels=%u", w->n_tunnels);
}

/* SIGTERM: say we are draining (peers stop counting us as a successor and
 * frontends keep routing to us until each shard moves), then let the claim
 * rounds hand every shard away. */
void worker_cluster_drain(struct worker *w)
{
	if (!w->ss.up || !worker_owned(w)) {
		worker_stop(w);
		return;
	}
	worker_register(w);
	w->last_claim_ms = 0;
	worker_claim(w);
}

static void worker_cluster_closed(uv_handle_t *h)
{
	(void)h;
}

static void worker_finish_stop(struct worker *w)
{
	statestore_close(&w->ss);
	worker_zmq_close(w);
	uv_check_stop(&w->flush);
	uv_close((uv_handle_t *)&w->flush, worker_cluster_closed);
	uv_idle_stop(&w->flush_more);
	uv_close((uv_handle_t *)&w->flush_more, worker_cluster_closed);
	uv_prepare_stop(&w->flush_timers);
	uv_close((uv_handle_t *)&w->flush_timers, worker_cluster_closed);
}

static void worker_released(void *arg, int status, int64_t value)
{
	struct worker_lease_op *op = arg;
	struct worker *w = op->w;
	(void)status;
	(void)value;
	free(op);
	if (--w->releases_pending == 0)
		worker_finish_stop(w);
}

void worker_cluster_stop(struct worker *w)
{
	char key[STATESTORE_KEY_MAX], alive[STATESTORE_KEY_MAX],
		chan[STATESTORE_KEY_MAX], zset[STATESTORE_KEY_MAX],
		gen[STATESTORE_KEY_MAX], ev[160];
	uv_timer_stop(&w->lease_timer);
	uv_close((uv_handle_t *)&w->lease_timer, worker_cluster_closed);
	uv_timer_stop(&w->claim_timer);
	uv_close((uv_handle_t *)&w->claim_timer, worker_cluster_closed);
	worker_load_next(w); /* stopping: drops the loads still queued */
	worker_peerwatch_stop(w);
	if (!w->ss.up) {
		worker_finish_stop(w);
		return;
	}
	statestore_key(&w->ss, key, sizeof(key), "workers");
	statestore_key(&w->ss, alive, sizeof(alive), "worker:%s:alive", w->id);
	statestore_key(&w->ss, chan, sizeof(chan), "events");
	statestore_key(&w->ss, zset, sizeof(zset), "alive");
	statestore_key(&w->ss, gen, sizeof(gen), "gen");
	snprintf(ev, sizeof(ev), "1 worker=%s down", w->id);
	const char *hdel[] = {"HDEL", key, w->id};
	const char *del[] = {"DEL", alive};
	const char *zrem[] = {"ZREM", zset, w->id};
	const char *incr[] = {"INCR", gen};
	const char *pub[] = {"PUBLISH", chan, ev};
	statestore_command(&w->ss, NULL, NULL, 3, hdel, NULL);
	statestore_command(&w->ss, NULL, NULL, 2, del, NULL);
	statestore_command(&w->ss, NULL, NULL, 3, zrem, NULL);
	statestore_command(&w->ss, NULL, NULL, 2, incr, NULL);
	statestore_command(&w->ss, NULL, NULL, 3, pub, NULL);
	/* Release every lease explicitly so a successor need not wait. */
	w->releases_pending = 1;
	for (unsigned s = 0; s < (unsigned)w->cfg.shard_count; s++) {
		struct worker_shard *sh = &w->shards[s];
		if (!sh->owned)
			continue;
		struct worker_lease_op *op = worker_lease_op(w, s, sh->epoch);
		if (op && statestore_lease_release(&w->ss, s, sh->epoch,
						   worker_released, op) == 0)
			w->releases_pending++;
		else
			free(op);
		sh->owned = false;
	}
	worker_released(worker_lease_op(w, 0, 0), 0, 0);
}
