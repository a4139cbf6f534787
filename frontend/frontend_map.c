/* The routing table: shard -> owner worker -> endpoint, from P:shardmap,
 * P:workers and P:events texts (statestore/SCHEMA.md). No I/O: a hook tells
 * the ZeroMQ side when a worker's reachability changes. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "frontend.h"

#define FRONTEND_MAP_EVENT_MAX 512 /* longest P:events payload we parse */

int frontend_map_init(struct frontend_map *m, unsigned shard_count,
		      frontend_map_hook *hook, void *hook_arg)
{
	memset(m, 0, sizeof(*m));
	if (shard_count == 0 || shard_count > 65536 ||
	    (shard_count & (shard_count - 1)))
		return -EINVAL;
	m->shard_count = shard_count;
	m->ids_per_shard = 65536u / shard_count;
	m->hook = hook;
	m->hook_arg = hook_arg;
	m->shards = calloc(shard_count, sizeof(*m->shards));
	m->workers = calloc(FRONTEND_MAX_WORKERS, sizeof(*m->workers));
	if (!m->shards || !m->workers) {
		free(m->shards);
		free(m->workers);
		m->shards = NULL;
		m->workers = NULL;
		return -ENOMEM;
	}
	for (unsigned s = 0; s < shard_count; s++)
		m->shards[s].worker = -1;
	return 0;
}

static void frontend_map_notify(struct frontend_map *m,
				struct frontend_worker *w)
{
	if (m->hook)
		m->hook(m->hook_arg, w);
}

void frontend_map_free(struct frontend_map *m)
{
	for (unsigned i = 0; m->workers && i < FRONTEND_MAX_WORKERS; i++) {
		struct frontend_worker *w = &m->workers[i];
		if (!w->in_use)
			continue;
		w->in_use = false;
		w->listed = false;
		frontend_map_notify(m, w);
	}
	free(m->shards);
	free(m->workers);
	m->shards = NULL;
	m->workers = NULL;
}

unsigned frontend_map_shard_of_tid(const struct frontend_map *m, uint16_t tid)
{
	return tid / m->ids_per_shard;
}

uint32_t frontend_map_peer_hash(const struct wire_addr *peer, uint16_t peer_tid)
{
	return wire_peer_hash(peer, peer_tid);
}

unsigned frontend_map_shard_of_peer(const struct frontend_map *m,
				    const struct wire_addr *peer,
				    uint16_t peer_tid)
{
	return frontend_map_peer_hash(peer, peer_tid) & (m->shard_count - 1);
}

struct frontend_worker *frontend_map_owner(const struct frontend_map *m,
					   unsigned shard)
{
	if (shard >= m->shard_count || m->shards[shard].worker < 0)
		return NULL;
	return &m->workers[m->shards[shard].worker];
}

/* Decimal without sign, spaces or overflow. */
static int frontend_map_u64(const char *s, uint64_t max, uint64_t *out)
{
	uint64_t v = 0;
	if (!*s)
		return -EINVAL;
	for (; *s; s++) {
		if (*s < '0' || *s > '9')
			return -EINVAL;
		unsigned d = (unsigned)(*s - '0');
		if (v > (max - d) / 10)
			return -EINVAL;
		v = v * 10 + d;
	}
	*out = v;
	return 0;
}

/* The first word of rec is the format version; only "1" is known. */
static bool frontend_map_version1(const char *rec)
{
	return rec[0] == '1' && (rec[1] == ' ' || rec[1] == '\0');
}

int frontend_map_word(const char *rec, const char *key, char *out,
		      size_t outlen)
{
	size_t klen = strlen(key);
	const char *p = strchr(rec, ' '); /* skip the version word */
	while (p) {
		while (*p == ' ')
			p++;
		size_t wlen = strcspn(p, " ");
		if (wlen > klen && !strncmp(p, key, klen) && p[klen] == '=') {
			size_t vlen = wlen - klen - 1;
			if (vlen >= outlen)
				return -ENAMETOOLONG;
			memcpy(out, p + klen + 1, vlen);
			out[vlen] = '\0';
			return 0;
		}
		p = p[wlen] ? p + wlen : NULL;
	}
	return -ENOENT;
}

/* True when rec's last word is `word`. */
static bool frontend_map_last_word(const char *rec, const char *word)
{
	const char *sp = strrchr(rec, ' ');
	return sp && !strcmp(sp + 1, word);
}

int frontend_map_event_parse(const char *text, struct frontend_event *ev)
{
	char num[24];
	uint64_t v;
	memset(ev, 0, sizeof(*ev));
	if (strlen(text) > FRONTEND_MAP_EVENT_MAX)
		return -EINVAL;
	if (!frontend_map_version1(text))
		return -EPROTO;
	if (frontend_map_word(text, "shard", num, sizeof(num)) == 0) {
		ev->kind = FRONTEND_EVENT_SHARD;
		if (frontend_map_u64(num, 65535, &v) < 0)
			return -EINVAL;
		ev->shard = (unsigned)v;
		if (frontend_map_word(text, "owner", ev->owner,
				      sizeof(ev->owner)) < 0 ||
		    !ev->owner[0] ||
		    frontend_map_word(text, "epoch", num, sizeof(num)) < 0 ||
		    frontend_map_u64(num, UINT64_MAX, &ev->epoch) < 0)
			return -EINVAL;
		if (!strcmp(ev->owner, "-"))
			ev->owner[0] = '\0';
		return 0;
	}
	if (frontend_map_word(text, "worker", ev->id, sizeof(ev->id)) == 0)
		ev->kind = FRONTEND_EVENT_WORKER;
	else if (frontend_map_word(text, "frontend", ev->id, sizeof(ev->id)) ==
		 0)
		ev->kind = FRONTEND_EVENT_FRONTEND;
	else
		return -EINVAL;
	if (!ev->id[0])
		return -EINVAL;
	if (frontend_map_last_word(text, "up"))
		ev->up = true;
	else if (!frontend_map_last_word(text, "down"))
		return -EINVAL;
	return 0;
}

static int frontend_map_find(const struct frontend_map *m, const char *id)
{
	for (int i = 0; i < FRONTEND_MAX_WORKERS; i++)
		if (m->workers[i].in_use && !strcmp(m->workers[i].id, id))
			return i;
	return -1;
}

/* The slot of worker id, created (unlisted, no endpoint) when new. */
static int frontend_map_get(struct frontend_map *m, const char *id)
{
	int i = frontend_map_find(m, id);
	if (i >= 0)
		return i;
	if (strlen(id) >= FRONTEND_ID_MAX)
		return -ENAMETOOLONG;
	for (i = 0; i < FRONTEND_MAX_WORKERS; i++) {
		struct frontend_worker *w = &m->workers[i];
		if (w->in_use)
			continue;
		memset(w, 0, sizeof(*w));
		w->in_use = true;
		strcpy(w->id, id);
		return i;
	}
	return -ENOSPC;
}

static void frontend_map_list(struct frontend_map *m, struct frontend_worker *w,
			      bool listed, const char *endpoint, unsigned wire);

/* Unlist stale workers that no longer own a shard, then free the slots no
 * shard names and P:workers does not list. */
static void frontend_map_gc(struct frontend_map *m)
{
	for (unsigned i = 0; i < FRONTEND_MAX_WORKERS; i++) {
		struct frontend_worker *w = &m->workers[i];
		if (w->in_use && w->stale && !w->shards)
			frontend_map_list(m, w, false, "", 0);
		if (!w->in_use || w->listed || w->shards)
			continue;
		w->in_use = false;
		frontend_map_notify(m, w); /* closes its socket, frees batch */
		memset(w, 0, sizeof(*w));
	}
}

static void frontend_map_assign(struct frontend_map *m, unsigned shard,
				int worker, uint64_t epoch, bool released)
{
	struct frontend_shard *sh = &m->shards[shard];
	if (sh->worker >= 0)
		m->workers[sh->worker].shards--;
	sh->worker = worker;
	sh->epoch = epoch;
	sh->released = released;
	if (worker >= 0)
		m->workers[worker].shards++;
}

int frontend_map_set_shard(struct frontend_map *m, unsigned shard,
			   const char *owner, uint64_t epoch)
{
	if (shard >= m->shard_count)
		return -EINVAL;
	struct frontend_shard *sh = &m->shards[shard];
	bool release = !owner[0];
	/* Events arrive in the order Redis ran the scripts, so the latest is
	 * the truth even when its epoch is lower: after Redis lost data (a
	 * restart, a failover to a replica that missed the last writes) the
	 * epoch counters start again, and an epoch rule would keep routing to
	 * a dead owner. A full map read racing an event is read again
	 * (frontend_redis.c), so that race needs no epoch either. */
	if (epoch == sh->epoch && release == sh->released && release)
		return 0;
	int idx = -1;
	if (!release) {
		idx = frontend_map_get(m, owner);
		if (idx < 0)
			return idx == -ENAMETOOLONG ? -EINVAL : idx;
	}
	if (epoch == sh->epoch && !release && !sh->released &&
	    idx == sh->worker)
		return 0;
	bool changed = sh->worker != idx;
	frontend_map_assign(m, shard, idx, epoch, release);
	frontend_map_gc(m);
	return changed ? 1 : 0;
}

/* Parse one P:shardmap entry: field "<shard>", value "1 owner=<id>
 * epoch=<n>" (owner "-" = released). Returns 0 or -EINVAL. */
static int frontend_map_shard_entry(const struct frontend_map *m,
				    const char *field, const char *value,
				    unsigned *shard, char *owner, size_t olen,
				    uint64_t *epoch)
{
	char num[24];
	uint64_t v;
	if (frontend_map_u64(field, m->shard_count - 1, &v) < 0 ||
	    !frontend_map_version1(value) ||
	    frontend_map_word(value, "owner", owner, olen) < 0 || !owner[0] ||
	    frontend_map_word(value, "epoch", num, sizeof(num)) < 0 ||
	    frontend_map_u64(num, UINT64_MAX, epoch) < 0)
		return -EINVAL;
	*shard = (unsigned)v;
	if (!strcmp(owner, "-"))
		owner[0] = '\0';
	return 0;
}

size_t frontend_map_load_shards(struct frontend_map *m, size_t n,
				const char *const *fields,
				const char *const *values)
{
	size_t refused = 0;
	uint8_t *seen = calloc(m->shard_count, 1);
	if (!seen)
		return n;
	for (size_t i = 0; i < n; i++) {
		char owner[FRONTEND_ID_MAX];
		unsigned shard;
		uint64_t epoch;
		int idx = -1;
		if (frontend_map_shard_entry(m, fields[i], values[i], &shard,
					     owner, sizeof(owner),
					     &epoch) < 0 ||
		    (owner[0] && (idx = frontend_map_get(m, owner)) < 0)) {
			refused++;
			continue;
		}
		frontend_map_assign(m, shard, idx, epoch, !owner[0]);
		seen[shard] = 1;
	}
	for (unsigned s = 0; s < m->shard_count; s++)
		if (!seen[s]) /* unknown to this Redis: keep the owner */
			frontend_map_assign(m, s, m->shards[s].worker, 0,
					    false);
	free(seen);
	frontend_map_gc(m);
	return refused;
}

/* Mark w listed at endpoint (or unlisted) and tell the hook if that changes
 * where its packets go. */
static void frontend_map_list(struct frontend_map *m, struct frontend_worker *w,
			      bool listed, const char *endpoint, unsigned wire)
{
	bool changed = w->listed != listed ||
		       (listed && strcmp(w->endpoint, endpoint));
	w->listed = listed;
	w->stale = false;
	if (listed) {
		snprintf(w->endpoint, sizeof(w->endpoint), "%s", endpoint);
		w->wire = wire;
	}
	if (changed)
		frontend_map_notify(m, w);
}

size_t frontend_map_load_workers(struct frontend_map *m, size_t n,
				 const char *const *ids,
				 const char *const *values)
{
	bool seen[FRONTEND_MAX_WORKERS] = {0};
	size_t refused = 0;
	for (size_t i = 0; i < n; i++) {
		char ep[FRONTEND_ENDPOINT_MAX], num[24];
		uint64_t wire = WIRE_VERSION;
		int idx;
		if (!frontend_map_version1(values[i]) ||
		    frontend_map_word(values[i], "endpoint", ep, sizeof(ep)) <
			    0 ||
		    !ep[0] ||
		    (frontend_map_word(values[i], "wire", num, sizeof(num)) ==
			     0 &&
		     frontend_map_u64(num, 255, &wire) < 0) ||
		    (idx = frontend_map_get(m, ids[i])) < 0) {
			refused++;
			continue;
		}
		seen[idx] = true;
		frontend_map_list(m, &m->workers[idx], true, ep,
				  (unsigned)wire);
	}
	for (unsigned i = 0; i < FRONTEND_MAX_WORKERS; i++) {
		struct frontend_worker *w = &m->workers[i];
		if (!w->in_use || seen[i] || !w->listed)
			continue;
		if (w->shards)
			w->stale = true; /* gc unlists it once it owns none */
		else
			frontend_map_list(m, w, false, "", 0);
	}
	frontend_map_gc(m);
	return refused;
}

void frontend_map_worker_down(struct frontend_map *m, const char *id)
{
	int i = frontend_map_find(m, id);
	if (i < 0)
		return;
	frontend_map_list(m, &m->workers[i], false, "", 0);
	frontend_map_gc(m);
}

unsigned frontend_map_owned(const struct frontend_map *m)
{
	unsigned n = 0;
	for (unsigned s = 0; s < m->shard_count; s++)
		n += m->shards[s].worker >= 0;
	return n;
}

unsigned frontend_map_listed(const struct frontend_map *m)
{
	unsigned n = 0;
	for (unsigned i = 0; i < FRONTEND_MAX_WORKERS; i++)
		n += m->workers[i].in_use && m->workers[i].listed;
	return n;
}
