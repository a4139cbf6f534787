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

#include "log.h"
#include "worker.h"

#define WORKER_FRONTEND_REFRESH_TICKS 5

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

/* Loading one tunnel of a newly acquired shard: GET of its record, then
 * HGETALL of its sessions (replies arrive in that order). */
struct worker_load {
	struct worker *w;
	unsigned shard;
	uint64_t epoch; /* the ownership this load belongs to */
	uint16_t tid;
	uint8_t *rec; /* tunnel record copy, NULL if absent */
	size_t rec_len;
};

static void worker_load_sessions(void *arg, const redisReply *r)
{
	struct worker_load *ld = arg;
	struct worker *w = ld->w;
	struct worker_shard *sh = &w->shards[ld->shard];
	if (ld->rec && r && r->type == REDIS_REPLY_ARRAY && sh->owned &&
	    sh->epoch == ld->epoch) {
		size_t n = r->elements / 2;
		struct statestore_blob *b = calloc(n ? n : 1, sizeof(*b));
		for (size_t i = 0; b && i < n; i++) {
			const redisReply *v = r->element[2 * i + 1];
			b[i] = (struct statestore_blob){
				.data = (const uint8_t *)v->str,
				.len = v->type == REDIS_REPLY_STRING ? v->len
								     : 0};
		}
		int rc =
			b ? worker_adopt(w, ld->tid, ld->rec, ld->rec_len, b, n)
			  : -ENOMEM;
		if (rc < 0 && rc != -EEXIST)
			log_warn("cannot take over tunnel", "tid=%u err=%d",
				 ld->tid, rc);
		free(b);
	}
	free(ld->rec);
	free(ld);
}

static void worker_load_record(void *arg, const redisReply *r)
{
	struct worker_load *ld = arg;
	if (r && r->type == REDIS_REPLY_STRING && r->len > 0) {
		ld->rec = malloc(r->len);
		if (ld->rec) {
			memcpy(ld->rec, r->str, r->len);
			ld->rec_len = r->len;
		}
	}
}

static void worker_load_members(void *arg, const redisReply *r)
{
	struct worker_load *base = arg;
	struct worker *w = base->w;
	size_t n = (r && r->type == REDIS_REPLY_ARRAY) ? r->elements : 0;
	for (size_t i = 0; i < n; i++) {
		const redisReply *e = r->element[i];
		long tid = e->type == REDIS_REPLY_STRING
				   ? strtol(e->str, NULL, 10)
				   : 0;
		struct worker_load *ld = malloc(sizeof(*ld));
		if (tid <= 0 || tid > 65535 || !ld) {
			free(ld);
			continue;
		}
		*ld = *base;
		ld->tid = (uint16_t)tid;
		char tkey[STATESTORE_KEY_MAX], skey[STATESTORE_KEY_MAX];
		statestore_key(&w->ss, tkey, sizeof(tkey), "t:%ld", tid);
		statestore_key(&w->ss, skey, sizeof(skey), "s:%ld", tid);
		const char *get[] = {"GET", tkey};
		const char *hgetall[] = {"HGETALL", skey};
		if (statestore_query(&w->ss, worker_load_record, ld, 2, get,
				     NULL) < 0 ||
		    statestore_query(&w->ss, worker_load_sessions, ld, 2,
				     hgetall, NULL) < 0) {
			free(ld); /* Redis went away; the shard is reloaded */
			break;
		}
	}
	if (n)
		log_info("taking over shard", "shard=%u tunnels=%zu epoch=%llu",
			 base->shard, n, (unsigned long long)base->epoch);
	free(base);
}

/* A shard became ours: adopt the tunnels its previous owner checkpointed. */
static void worker_load_shard(struct worker *w, unsigned shard, uint64_t epoch)
{
	char key[STATESTORE_KEY_MAX];
	struct worker_load *base = calloc(1, sizeof(*base));
	if (!base)
		return;
	*base = (struct worker_load){.w = w, .shard = shard, .epoch = epoch};
	statestore_key(&w->ss, key, sizeof(key), "shard:%u:tunnels", shard);
	const char *argv[] = {"SMEMBERS", key};
	if (statestore_query(&w->ss, worker_load_members, base, 2, argv, NULL) <
	    0)
		free(base);
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
		worker_load_shard(w, shard, e);
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
}

static void worker_acquired(void *arg, int status, int64_t epoch)
{
	struct worker_lease_op *op = arg;
	struct worker *w = op->w;
	struct worker_shard *sh = &w->shards[op->shard];
	sh->acquiring = false;
	if (status == 0 && !w->stopping) {
		if (sh->confirming) {
			worker_reacquired(w, op->shard, (uint64_t)epoch);
		} else if (!sh->owned) {
			sh->owned = true;
			sh->epoch = (uint64_t)epoch;
			log_debug("shard acquired", "shard=%u epoch=%lld",
				  op->shard, (long long)epoch);
			worker_load_shard(w, op->shard, sh->epoch);
		}
	} else if (status == -EBUSY && (sh->confirming || sh->tunnels)) {
		/* Someone else owns it now (we were away): theirs. */
		sh->confirming = false;
		worker_drop_shard(w, op->shard, "owned by another worker");
	}
	free(op);
}

void worker_lease_lapsed(struct worker *w, unsigned shard, const char *why)
{
	struct worker_shard *sh = &w->shards[shard];
	if (!sh->owned)
		return;
	sh->owned = false;
	if (!sh->tunnels)
		return; /* nothing held: the next tick may acquire it afresh */
	sh->confirming = true;
	log_warn("shard lease lapsed: output held",
		 "shard=%u tunnels=%u "
		 "why=%s",
		 shard, sh->tunnels, LOG_Q(why));
	if (!sh->acquiring && w->ss.up && !w->stopping) {
		struct worker_lease_op *op = worker_lease_op(w, shard, 0);
		if (!op)
			return;
		sh->acquiring = true;
		if (statestore_lease_acquire(&w->ss, shard, w->cfg.lease_ttl_ms,
					     worker_acquired, op) < 0) {
			sh->acquiring = false;
			free(op);
		}
	}
}

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

static void worker_frontends_reply(void *arg, const redisReply *r)
{
	struct worker *w = arg;
	if (!r || r->type != REDIS_REPLY_ARRAY)
		return;
	for (unsigned i = 0; i < w->n_fe; i++)
		w->fe[i].live = false;
	for (size_t i = 0; i + 1 < r->elements; i += 2) {
		const redisReply *v = r->element[i + 1];
		if (v->type != REDIS_REPLY_STRING || strncmp(v->str, "1 ", 2))
			continue; /* a format we do not know */
		const char *e = strstr(v->str, " endpoint=");
		if (!e)
			continue;
		char ep[WIRE_MAX_ORIGIN + 1];
		if (sscanf(e, " endpoint=%255s", ep) == 1)
			worker_zmq_frontend_seen(w, ep, true);
	}
}

static void worker_refresh_frontends(struct worker *w)
{
	char key[STATESTORE_KEY_MAX];
	statestore_key(&w->ss, key, sizeof(key), "frontends");
	const char *argv[] = {"HGETALL", key};
	statestore_query(&w->ss, worker_frontends_reply, w, 2, argv, NULL);
}

static void worker_register(struct worker *w)
{
	char key[STATESTORE_KEY_MAX], alive[STATESTORE_KEY_MAX],
		chan[STATESTORE_KEY_MAX], host[64] = "", val[640], ev[160],
					  ttl[16];
	gethostname(host, sizeof(host) - 1);
	statestore_key(&w->ss, key, sizeof(key), "workers");
	statestore_key(&w->ss, alive, sizeof(alive), "worker:%s:alive", w->id);
	statestore_key(&w->ss, chan, sizeof(chan), "events");
	snprintf(val, sizeof(val),
		 "1 endpoint=%s control=- wire=%d pid=%d host=%s protected=1",
		 w->endpoint, WIRE_VERSION, (int)getpid(), host);
	snprintf(ev, sizeof(ev), "1 worker=%s up", w->id);
	snprintf(ttl, sizeof(ttl), "%u", w->cfg.lease_ttl_ms);
	const char *hset[] = {"HSET", key, w->id, val};
	const char *set[] = {"SET", alive, "1", "PX", ttl};
	const char *pub[] = {"PUBLISH", chan, ev};
	statestore_command(&w->ss, NULL, NULL, 4, hset, NULL);
	statestore_command(&w->ss, NULL, NULL, 5, set, NULL);
	statestore_command(&w->ss, NULL, NULL, 3, pub, NULL);
}

/* Take every free shard (one worker: all of them; several: the first to
 * ask gets each; the shard policies of the takeover work refine this). */
static void worker_acquire_free(struct worker *w)
{
	for (unsigned s = 0; s < (unsigned)w->cfg.shard_count; s++) {
		struct worker_shard *sh = &w->shards[s];
		if (sh->owned || sh->acquiring)
			continue;
		struct worker_lease_op *op = worker_lease_op(w, s, 0);
		if (!op)
			return;
		sh->acquiring = true;
		if (statestore_lease_acquire(&w->ss, s, w->cfg.lease_ttl_ms,
					     worker_acquired, op) < 0) {
			sh->acquiring = false;
			free(op);
			return;
		}
	}
}

static void worker_lease_tick(uv_timer_t *h)
{
	static unsigned ticks;
	struct worker *w = h->data;
	char alive[STATESTORE_KEY_MAX], ttl[16];
	if (!w->ss.up || w->stopping)
		return;
	worker_renew_all(w);
	statestore_key(&w->ss, alive, sizeof(alive), "worker:%s:alive", w->id);
	snprintf(ttl, sizeof(ttl), "%u", w->cfg.lease_ttl_ms);
	const char *set[] = {"SET", alive, "1", "PX", ttl};
	statestore_command(&w->ss, NULL, NULL, 5, set, NULL);
	worker_acquire_free(w);
	if (++ticks % WORKER_FRONTEND_REFRESH_TICKS == 0)
		worker_refresh_frontends(w);
}

void worker_cluster_start(struct worker *w)
{
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
	worker_register(w);
	worker_refresh_frontends(w);
	/* Our leases may have expired while Redis was away: ask again. An
	 * acquire answers with the epoch we hold or a new one. */
	if (was_unprotected)
		log_info("redis back: writing a full snapshot", "tunnels=%u",
			 w->n_tunnels);
	for (unsigned s = 0; s < (unsigned)w->cfg.shard_count; s++) {
		struct worker_shard *sh = &w->shards[s];
		if (sh->owned && sh->tunnels) {
			sh->owned = false;
			sh->confirming = true; /* snapshot once confirmed */
		} else {
			sh->owned = false;
		}
	}
	worker_acquire_free(w);
}

void worker_cluster_down(void *ctx)
{
	struct worker *w = ctx;
	w->protected_mode = false;
	for (unsigned s = 0; s < (unsigned)w->cfg.shard_count; s++)
		w->shards[s].acquiring = false;
	log_warn("redis unreachable: shards unprotected, serving from memory",
		 "tunnels=%u", w->n_tunnels);
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
		chan[STATESTORE_KEY_MAX], ev[160];
	uv_timer_stop(&w->lease_timer);
	uv_close((uv_handle_t *)&w->lease_timer, worker_cluster_closed);
	if (!w->ss.up) {
		worker_finish_stop(w);
		return;
	}
	statestore_key(&w->ss, key, sizeof(key), "workers");
	statestore_key(&w->ss, alive, sizeof(alive), "worker:%s:alive", w->id);
	statestore_key(&w->ss, chan, sizeof(chan), "events");
	snprintf(ev, sizeof(ev), "1 worker=%s down", w->id);
	const char *hdel[] = {"HDEL", key, w->id};
	const char *del[] = {"DEL", alive};
	const char *pub[] = {"PUBLISH", chan, ev};
	statestore_command(&w->ss, NULL, NULL, 3, hdel, NULL);
	statestore_command(&w->ss, NULL, NULL, 2, del, NULL);
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
