/* The cluster as Redis records it (statestore/SCHEMA.md): shard leases and
 * epochs, the shard map, worker and frontend registrations with their alive
 * keys, and which tunnels and sessions have checkpoints. Everything is read
 * in pipelined rounds; per-worker counts are derived from the leases. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <hiredis/hiredis.h>

#include "clusterctl.h"
#include "kv_text.h"

unsigned cc_cluster_shard_of(const struct cc_cluster *cl, uint16_t tid)
{
	return (unsigned)(tid / (65536u / cl->shard_count));
}

/* ---- leases ---- */

struct cc_lease_load {
	struct cc_shard *out; /* first entry filled */
	unsigned first_shard; /* shard of out[0] */
};

static int cc_lease_build(struct cc *cc, void *arg, size_t i)
{
	struct cc_lease_load *ld = arg;
	unsigned shard = ld->first_shard + (unsigned)i;
	char lease[CC_KEY_MAX], epoch[CC_KEY_MAX];
	cc_redis_key(cc, lease, sizeof(lease), "lease:%u", shard);
	cc_redis_key(cc, epoch, sizeof(epoch), "epoch:%u", shard);
	const char *get[] = {"GET", lease};
	const char *pttl[] = {"PTTL", lease};
	const char *getep[] = {"GET", epoch};
	if (cc_redis_append(cc, 2, get) < 0 ||
	    cc_redis_append(cc, 2, pttl) < 0 ||
	    cc_redis_append(cc, 2, getep) < 0)
		return -ENOMEM;
	return 3;
}

static int cc_lease_done(void *arg, size_t i, unsigned k, const redisReply *r)
{
	struct cc_lease_load *ld = arg;
	struct cc_shard *sh = &ld->out[i];
	const char *v = cc_reply_str(r, NULL);
	char ep[32];
	if (k == 0) {
		memset(sh, 0, sizeof(*sh));
		sh->ttl_ms = -1;
		if (v &&
		    kv_text_field(v, "owner", sh->owner, sizeof(sh->owner)) ==
			    0 &&
		    kv_text_field(v, "epoch", ep, sizeof(ep)) == 0)
			sh->epoch = strtoull(ep, NULL, 10);
		if (strcmp(sh->owner, "-") == 0)
			sh->owner[0] = '\0';
	} else if (k == 1) {
		int64_t t = cc_reply_int(r, -2);
		sh->ttl_ms = sh->owner[0] && t >= 0 ? t : -1;
	} else if (!sh->owner[0]) {
		int64_t e = cc_reply_int(r, 0);
		sh->epoch = e > 0 ? (uint64_t)e : 0;
	}
	return 0;
}

int cc_cluster_lease(struct cc *cc, unsigned shard, struct cc_shard *out)
{
	struct cc_lease_load ld = {.out = out, .first_shard = shard};
	return cc_redis_pipeline(cc, 1, cc_lease_build, cc_lease_done, &ld);
}

static int cc_cluster_load_shards(struct cc *cc, struct cc_cluster *cl)
{
	struct cc_lease_load ld = {.out = cl->shards, .first_shard = 0};
	int rc = cc_redis_pipeline(cc, cl->shard_count, cc_lease_build,
				   cc_lease_done, &ld);
	if (rc < 0)
		return rc;
	char key[CC_KEY_MAX];
	cc_redis_key(cc, key, sizeof(key), "shardmap");
	const char *argv[] = {"HGETALL", key};
	redisReply *r = cc_redis_cmd(cc, 2, argv);
	if ((rc = cc_redis_check(cc, r)) < 0) {
		cc_redis_free(r);
		return rc;
	}
	for (size_t i = 0; r->type == REDIS_REPLY_ARRAY && i + 1 < r->elements;
	     i += 2) {
		const char *f = cc_reply_str(r->element[i], NULL);
		const char *v = cc_reply_str(r->element[i + 1], NULL);
		char *end;
		unsigned long s = f ? strtoul(f, &end, 10) : 0;
		if (!f || *end || s >= cl->shard_count || !v)
			continue;
		kv_text_field(v, "owner", cl->shards[s].map_owner,
			      sizeof(cl->shards[s].map_owner));
	}
	cc_redis_free(r);
	return 0;
}

/* ---- workers and frontends ---- */

static int cc_proc_cmp(const void *a, const void *b)
{
	return strcmp(((const struct cc_proc *)a)->id,
		      ((const struct cc_proc *)b)->id);
}

int64_t cc_proc_uptime(const struct cc_proc *p)
{
	int64_t now = (int64_t)time(NULL);
	return p->started_s >= 0 && now >= p->started_s ? now - p->started_s
							: -1;
}

static void cc_proc_parse(struct cc_proc *p, const char *id, const char *v)
{
	char flag[8];
	memset(p, 0, sizeof(*p));
	snprintf(p->id, sizeof(p->id), "%s", id);
	p->known_format = v[0] == '1' && (!v[1] || v[1] == ' ');
	kv_text_field(v, "endpoint", p->endpoint, sizeof(p->endpoint));
	kv_text_field(v, "control", p->control, sizeof(p->control));
	kv_text_field(v, "listen", p->listen, sizeof(p->listen));
	kv_text_field(v, "host", p->host, sizeof(p->host));
	kv_text_field(v, "version", p->version, sizeof(p->version));
	p->wire = kv_text_int(v, "wire");
	p->pid = kv_text_int(v, "pid");
	p->started_s = kv_text_int(v, "started");
	p->protected_state = -1;
	if (kv_text_field(v, "protected", flag, sizeof(flag)) == 0)
		p->protected_state = strcmp(flag, "0") != 0;
	p->draining = kv_text_field(v, "draining", flag, sizeof(flag)) == 0 &&
		      strcmp(flag, "0") != 0;
	p->alive_ttl_ms = -1;
	p->lease_ttl_min_ms = -1;
	p->loop_lag_ms = -1;
	p->loop_lag_max_ms = -1;
}

/* HGETALL of P:<hash> into a sorted array. */
static int cc_cluster_load_hash(struct cc *cc, const char *hash,
				struct cc_proc **out, size_t *n)
{
	char key[CC_KEY_MAX];
	cc_redis_key(cc, key, sizeof(key), "%s", hash);
	const char *argv[] = {"HGETALL", key};
	redisReply *r = cc_redis_cmd(cc, 2, argv);
	int rc = cc_redis_check(cc, r);
	if (rc < 0)
		goto fail;
	size_t m = r->type == REDIS_REPLY_ARRAY ? r->elements / 2 : 0;
	*out = calloc(m ? m : 1, sizeof(**out));
	if (!*out) {
		rc = -ENOMEM;
		goto fail;
	}
	for (size_t i = 0; i < m; i++) {
		const char *f = cc_reply_str(r->element[2 * i], NULL);
		const char *v = cc_reply_str(r->element[2 * i + 1], NULL);
		if (f && v)
			cc_proc_parse(&(*out)[(*n)++], f, v);
	}
	qsort(*out, *n, sizeof(**out), cc_proc_cmp);
fail:
	cc_redis_free(r);
	return rc;
}

static int cc_alive_build(struct cc *cc, void *arg, size_t i)
{
	struct cc_cluster *cl = arg;
	char key[CC_KEY_MAX];
	if (i < cl->n_workers)
		cc_redis_key(cc, key, sizeof(key), "worker:%s:alive",
			     cl->workers[i].id);
	else
		cc_redis_key(cc, key, sizeof(key), "frontend:%s:alive",
			     cl->frontends[i - cl->n_workers].id);
	const char *argv[] = {"PTTL", key};
	const char *get[] = {"GET", key};
	if (cc_redis_append(cc, 2, argv) < 0)
		return -ENOMEM;
	/* a worker's heartbeat says how late its loop has been */
	if (i >= cl->n_workers)
		return 1;
	return cc_redis_append(cc, 2, get) < 0 ? -ENOMEM : 2;
}

static int cc_alive_done(void *arg, size_t i, unsigned k, const redisReply *r)
{
	struct cc_cluster *cl = arg;
	struct cc_proc *p = i < cl->n_workers
				    ? &cl->workers[i]
				    : &cl->frontends[i - cl->n_workers];
	if (k == 1) { /* "1 loop_lag_ms=<n> loop_lag_max_ms=<n>" */
		const char *v = cc_reply_str(r, NULL);
		if (v) {
			p->loop_lag_ms = kv_text_int(v, "loop_lag_ms");
			p->loop_lag_max_ms = kv_text_int(v, "loop_lag_max_ms");
		}
		return 0;
	}
	int64_t t = cc_reply_int(r, -2);
	p->alive = t >= 0 || t == -1; /* -1: exists without a TTL */
	p->alive_ttl_ms = t >= 0 ? t : -1;
	return 0;
}

static int cc_cluster_load_procs(struct cc *cc, struct cc_cluster *cl)
{
	int rc = cc_cluster_load_hash(cc, "workers", &cl->workers,
				      &cl->n_workers);
	if (rc == 0)
		rc = cc_cluster_load_hash(cc, "frontends", &cl->frontends,
					  &cl->n_frontends);
	if (rc == 0)
		rc = cc_redis_pipeline(cc, cl->n_workers + cl->n_frontends,
				       cc_alive_build, cc_alive_done, cl);
	return rc;
}

static struct cc_proc *cc_cluster_find(struct cc_proc *v, size_t n,
				       const char *id)
{
	struct cc_proc key;
	if (!n || !id[0])
		return NULL;
	snprintf(key.id, sizeof(key.id), "%s", id);
	return bsearch(&key, v, n, sizeof(key), cc_proc_cmp);
}

const struct cc_proc *cc_cluster_worker(const struct cc_cluster *cl,
					const char *id)
{
	return cc_cluster_find(cl->workers, cl->n_workers, id);
}

/* ---- tunnels and their session counts ---- */

struct cc_tid_list {
	uint16_t *v; /* tunnel IDs */
	size_t n;    /* used */
	size_t cap;  /* allocated */
};

static int cc_tid_seen(void *arg, const char *key)
{
	struct cc_tid_list *l = arg;
	uint16_t tid;
	if (strncmp(key, "t:", 2) != 0 || cc_parse_id(key + 2, &tid) < 0)
		return 0; /* not a tunnel record key */
	if (l->n == l->cap) {
		size_t cap = l->cap ? 2 * l->cap : 1024;
		uint16_t *v = realloc(l->v, cap * sizeof(*v));
		if (!v)
			return -ENOMEM;
		l->v = v;
		l->cap = cap;
	}
	l->v[l->n++] = tid;
	return 0;
}

static int cc_tid_cmp(const void *a, const void *b)
{
	return (int)*(const uint16_t *)a - (int)*(const uint16_t *)b;
}

static int cc_cluster_load_tids(struct cc *cc, struct cc_cluster *cl)
{
	struct cc_tid_list l = {0};
	int rc = cc_redis_scan(cc, "t:*", cc_tid_seen, &l);
	if (rc < 0) {
		free(l.v);
		return rc;
	}
	/* SCAN may return a key twice (rehashing): sort and keep one. With
	 * no tunnel, l.v is NULL, which qsort must not be given. */
	if (l.n)
		qsort(l.v, l.n, sizeof(*l.v), cc_tid_cmp);
	size_t n = 0;
	for (size_t i = 0; i < l.n; i++)
		if (!n || l.v[n - 1] != l.v[i])
			l.v[n++] = l.v[i];
	cl->tids = l.v;
	cl->n_tids = n;
	return 0;
}

static int cc_hlen_build(struct cc *cc, void *arg, size_t i)
{
	struct cc_cluster *cl = arg;
	char key[CC_KEY_MAX];
	cc_redis_key(cc, key, sizeof(key), "s:%u", cl->tids[i]);
	const char *argv[] = {"HLEN", key};
	return cc_redis_append(cc, 2, argv) < 0 ? -ENOMEM : 1;
}

static int cc_hlen_done(void *arg, size_t i, unsigned k, const redisReply *r)
{
	struct cc_cluster *cl = arg;
	int64_t n = cc_reply_int(r, 0);
	(void)k;
	cl->sessions[i] = n > 0 ? (uint32_t)n : 0;
	cl->total_sessions += cl->sessions[i];
	return 0;
}

/* Shards, tunnels and sessions of each worker, from the leases. */
static void cc_cluster_count(struct cc_cluster *cl)
{
	for (size_t i = 0; i < cl->n_tids; i++)
		cl->shards[cc_cluster_shard_of(cl, cl->tids[i])].tunnels++;
	for (unsigned s = 0; s < cl->shard_count; s++) {
		struct cc_shard *sh = &cl->shards[s];
		struct cc_proc *w =
			cc_cluster_find(cl->workers, cl->n_workers, sh->owner);
		if (sh->owner[0] && (!w || !w->alive)) {
			/* Its owner's liveness lapsed: the lease is free,
			 * whatever its key still says. */
			sh->owner[0] = '\0';
			sh->ttl_ms = -1;
			continue;
		}
		if (!w)
			continue;
		w->shards++;
		w->tunnels += sh->tunnels;
		sh->unprotected = w->protected_state == 0;
		/* A lease without a TTL hangs on its owner's liveness key
		 * (SCHEMA.md): that is the time it has left. */
		if (sh->ttl_ms < 0 && sh->owner[0])
			sh->ttl_ms = w->alive ? w->alive_ttl_ms : 0;
		if (sh->ttl_ms >= 0 && (w->lease_ttl_min_ms < 0 ||
					sh->ttl_ms < w->lease_ttl_min_ms))
			w->lease_ttl_min_ms = sh->ttl_ms;
	}
	for (size_t i = 0; cl->sessions && i < cl->n_tids; i++) {
		const struct cc_shard *sh =
			&cl->shards[cc_cluster_shard_of(cl, cl->tids[i])];
		struct cc_proc *w =
			cc_cluster_find(cl->workers, cl->n_workers, sh->owner);
		if (w)
			w->sessions += cl->sessions[i];
	}
}

int cc_cluster_load(struct cc *cc, struct cc_cluster *cl, unsigned what)
{
	int rc = 0;
	memset(cl, 0, sizeof(*cl));
	cl->shard_count = (unsigned)cc->cfg.shard_count;
	if (what & CC_LOAD_SESSIONS)
		what |= CC_LOAD_TUNNELS;
	/* a lease is only as good as its owner's alive key (SCHEMA.md) */
	if (what & CC_LOAD_SHARDS)
		what |= CC_LOAD_PROCS;
	cl->shards = calloc(cl->shard_count, sizeof(*cl->shards));
	if (!cl->shards)
		return -ENOMEM;
	if ((what & CC_LOAD_SHARDS) &&
	    (rc = cc_cluster_load_shards(cc, cl)) < 0)
		return rc;
	if ((what & CC_LOAD_PROCS) && (rc = cc_cluster_load_procs(cc, cl)) < 0)
		return rc;
	if ((what & CC_LOAD_TUNNELS) && (rc = cc_cluster_load_tids(cc, cl)) < 0)
		return rc;
	if (what & CC_LOAD_SESSIONS) {
		cl->sessions = calloc(cl->n_tids ? cl->n_tids : 1,
				      sizeof(*cl->sessions));
		if (!cl->sessions)
			return -ENOMEM;
		rc = cc_redis_pipeline(cc, cl->n_tids, cc_hlen_build,
				       cc_hlen_done, cl);
		if (rc < 0)
			return rc;
	}
	cc_cluster_count(cl);
	return 0;
}

void cc_cluster_free(struct cc_cluster *cl)
{
	free(cl->shards);
	free(cl->workers);
	free(cl->frontends);
	free(cl->tids);
	free(cl->sessions);
	memset(cl, 0, sizeof(*cl));
}
