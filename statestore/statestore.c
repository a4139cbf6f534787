/* Redis access for the worker: connection with back-off, script loading,
 * leases and fenced checkpoints (statestore/SCHEMA.md). */
#include "statestore.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>

#include <hiredis/async.h>
#include <hiredis/hiredis.h>

#include "log.h"
#include "redis_uv.h"

#define STATESTORE_RETRY_MIN_MS 100
#define STATESTORE_RETRY_MAX_MS 2000
/* Following Sentinel, a failover is what a lost link most likely means:
 * ask again soon, the new primary is usually there within a second. */
#define STATESTORE_RETRY_MAX_SENTINEL_MS 250

/* Shard leases hang on their owner's liveness (statestore/SCHEMA.md): a
 * lease key names `owner=<id> epoch=<n>` and is free when it is absent or
 * when P:worker:<owner>:alive has expired. A ttl of "0" leaves the lease
 * without expiry of its own; a positive ttl (mixed with builds that renew
 * each lease) gives it one. */
#define STATESTORE_LUA_SET_LEASE                                               \
	"local function set_lease(k, v, ttl)\n"                                \
	"  if tonumber(ttl) > 0 then redis.call('SET', k, v, 'PX', ttl)\n"     \
	"  else redis.call('SET', k, v) end\n"                                 \
	"end\n"
#define STATESTORE_LUA_FREE                                                    \
	"local function owner_of(v)\n"                                         \
	"  return string.match(v, 'owner=(%S+) epoch=(%d+)')\n"                \
	"end\n"                                                                \
	"local function owner_alive(pfx, o)\n"                                 \
	"  return o and redis.call('EXISTS', pfx .. ':worker:' .. o .. "       \
	"':alive') == 1\n"                                                     \
	"end\n"

/* KEYS: lease, epoch, shardmap, gen. ARGV: owner, ttl_ms, shard, channel,
 * prefix. Returns the epoch, or -1 when another live worker holds it. */
static const char statestore_lua_acquire[] =
	STATESTORE_LUA_SET_LEASE STATESTORE_LUA_FREE
	"local cur = redis.call('GET', KEYS[1])\n"
	"if cur then\n"
	"  local owner, ep = owner_of(cur)\n"
	"  if owner == ARGV[1] then\n"
	"    if tonumber(ARGV[2]) > 0 then redis.call('PEXPIRE', KEYS[1], "
	"ARGV[2])\n"
	"    else redis.call('PERSIST', KEYS[1]) end\n"
	"    return tonumber(ep) end\n"
	"  if owner_alive(ARGV[5], owner) then return -1 end\n"
	"end\n"
	"local ep = redis.call('INCR', KEYS[2])\n"
	"local v = '1 owner=' .. ARGV[1] .. ' epoch=' .. ep\n"
	"set_lease(KEYS[1], v, ARGV[2])\n"
	"redis.call('HSET', KEYS[3], ARGV[3], v)\n"
	"redis.call('INCR', KEYS[4])\n"
	"redis.call('PUBLISH', ARGV[4], '1 shard=' .. ARGV[3] .. ' owner=' .. "
	"ARGV[1] .. ' epoch=' .. ep)\n"
	"return ep\n";

/* What a worker needs to know to run a claim round only when one is due:
 * P:gen, and how long until the next other worker's liveness expires (its
 * score in P:alive, Redis clock), -1 when there is no other worker. 0
 * means one has expired; a value in the future says when to
 * look again, so that a death is noticed the moment it happens without
 * polling in between. KEYS[2]: alive zset, KEYS[3]: gen; ARGV[1]: me. */
#define STATESTORE_LUA_OUTLOOK                                                 \
	"local function outlook(now)\n"                                        \
	"  local nxt = -1\n"                                                   \
	"  local z = redis.call('ZRANGE', KEYS[2], 0, 1, 'WITHSCORES')\n"      \
	"  for i = 1, #z, 2 do\n"                                              \
	"    if z[i] ~= ARGV[1] then\n"                                        \
	"      nxt = math.max(0, tonumber(z[i + 1]) - now) break end\n"        \
	"  end\n"                                                              \
	"  return {tonumber(redis.call('GET', KEYS[3]) or '0'), nxt}\n"        \
	"end\n"                                                                \
	"local t = redis.call('TIME')\n"                                       \
	"local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / "     \
	"1000)\n"

/* A worker's heartbeat, every lease_renew: its one liveness key, which all
 * its leases hang on. KEYS: alive key, alive zset, gen. ARGV: id, ttl_ms,
 * value. The zset scores each worker with its expiry, so that noticing a
 * dead worker is a look at the lowest score, not at every lease. Returns
 * {1, or 0 when the key had lapsed; gen; next expiry (see outlook)}. */
static const char statestore_lua_heartbeat[] = STATESTORE_LUA_OUTLOOK
	"local had = redis.call('EXISTS', KEYS[1])\n"
	"redis.call('SET', KEYS[1], ARGV[3], 'PX', ARGV[2])\n"
	"redis.call('ZADD', KEYS[2], now + tonumber(ARGV[2]), ARGV[1])\n"
	"local o = outlook(now)\n"
	"return {had, o[1], o[2]}\n";

/* The look between heartbeats, when a peer's expiry falls before the next
 * one. KEYS: (unused), alive zset, gen. ARGV: id. Returns {gen, next
 * expiry}. */
static const char statestore_lua_watch[] =
	STATESTORE_LUA_OUTLOOK "return outlook(now)\n";

/* KEYS: leases. ARGV: ttl_ms, then the expected value of each lease.
 * Returns an array: 1 = renewed, 0 = lost, one per key. */
static const char statestore_lua_renew[] =
	"local out = {}\n"
	"for i, k in ipairs(KEYS) do\n"
	"  if redis.call('GET', k) == ARGV[i + 1] then\n"
	"    out[i] = redis.call('PEXPIRE', k, ARGV[1])\n"
	"  else out[i] = 0 end\n"
	"end\n"
	"return out\n";

/* KEYS: lease, shardmap, gen. ARGV: expected value, shard, channel, epoch. */
static const char statestore_lua_release[] =
	"if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end\n"
	"redis.call('DEL', KEYS[1])\n"
	"redis.call('HSET', KEYS[2], ARGV[2], '1 owner=- epoch=' .. ARGV[4])\n"
	"redis.call('INCR', KEYS[3])\n"
	"redis.call('PUBLISH', ARGV[3], '1 shard=' .. ARGV[2] .. ' owner=- "
	"epoch=' .. ARGV[4])\n"
	"return 1\n";

/* KEYS: lease, tunnel, sessions, shard set. ARGV: expected lease value, tid,
 * tunnel record ('' = delete), n_set, n_set (sid, record) pairs, sids to
 * delete. Refuses with FENCED unless the lease is still the writer's.
 * Deletes go first: a Session ID can end and be given to a new call within
 * one checkpoint (the set then holds the new call, which must stay). */
static const char statestore_lua_checkpoint[] =
	"if redis.call('GET', KEYS[1]) ~= ARGV[1] then\n"
	"  return redis.error_reply('FENCED') end\n"
	"if ARGV[3] == '' then\n"
	"  redis.call('DEL', KEYS[2], KEYS[3])\n"
	"  redis.call('SREM', KEYS[4], ARGV[2]) return 0 end\n"
	"redis.call('SET', KEYS[2], ARGV[3])\n"
	"redis.call('SADD', KEYS[4], ARGV[2])\n"
	"local n = tonumber(ARGV[4])\n"
	"for i = 5 + 2 * n, #ARGV do redis.call('HDEL', KEYS[3], ARGV[i]) "
	"end\n"
	"for i = 5, 4 + 2 * n, 2 do\n"
	"  redis.call('HSET', KEYS[3], ARGV[i], ARGV[i + 1]) end\n"
	"return 1\n";

/* One worker's claim round: run when statestore_lua_watch shows a change
 * (a worker died, joined, left or started draining; a shard was taken,
 * handed or released), and every few seconds regardless.
 * KEYS: workers hash, shard map, alive zset, gen. ARGV: prefix, me, ttl_ms,
 * shard_count, policy ("spread" | "active-standby"), draining ("0" | "1"),
 * channel.
 * Live workers are those registered whose alive key exists and who are not
 * draining; a registered live worker without `leases=2` is an older build
 * that renews each lease with a TTL ("legacy": then so do we). A lease is
 * free when absent or when its owner's alive key has expired. Takes free
 * shards up to what the policy allows `me`:
 *   spread: ceil(shard_count / live workers) in all;
 *   active-standby: everything, unless another live worker holds shards and
 *   `me` holds none (then `me` is the standby and takes nothing).
 * Forgets dead workers' zset entries, and bumps gen when it did anything, so
 * that the other workers look again (for the free shards left over). A
 * worker leaves the zset only by the same test that frees its leases (its
 * alive key is gone): PTTL says 0 in the last millisecond of a key that
 * still exists, and a round run then used to forget a worker whose shards
 * it could not take yet, after which no watch looked at it again. A live
 * entry whose time has come is scored again from its key's PTTL (at least
 * 1 ms ahead; ttl_ms for a key without expiry).
 * Returns { {shard, epoch, tunnels, ...} taken now, {shard, epoch, tunnels,
 * ...} whose lease names `me` (handed over, or ours), {id, shards, ...}
 * other live workers, {gen, legacy} }; tunnels is the size of the shard's
 * tunnel set as the lease changed hands (nothing older can be written to it
 * after that: the previous owner is fenced), so that an empty shard needs
 * no load. Keys are built from the prefix: one Redis, not a
 * cluster. */
static const char statestore_lua_claim[] =
	STATESTORE_LUA_SET_LEASE STATESTORE_LUA_FREE
	"local pfx, me, n = ARGV[1], ARGV[2], tonumber(ARGV[4])\n"
	"local function tunnels(s)\n"
	"  return redis.call('SCARD', pfx .. ':shard:' .. s .. ':tunnels')\n"
	"end\n"
	"local live, nlive, legacy, alive = {}, 0, 0, {}\n"
	"local function is_alive(o)\n"
	"  if alive[o] == nil then alive[o] = owner_alive(pfx, o) end\n"
	"  return alive[o]\n"
	"end\n"
	"local w = redis.call('HGETALL', KEYS[1])\n"
	"for i = 1, #w, 2 do\n"
	"  if is_alive(w[i]) then\n"
	"    if not string.find(w[i + 1], ' leases=2', 1, true) then legacy = "
	"1 "
	"end\n"
	"    if not string.find(w[i + 1], ' draining=1', 1, true) then\n"
	"      live[w[i]] = 0 nlive = nlive + 1 end\n"
	"  end\n"
	"end\n"
	"if ARGV[6] ~= '1' and live[me] == nil then live[me] = 0 nlive = nlive "
	"+ 1 end\n"
	"local ttl = legacy == 1 and ARGV[3] or '0'\n"
	"local changed = false\n"
	"local t = redis.call('TIME')\n"
	"local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / "
	"1000)\n"
	"for _, id in ipairs(redis.call('ZRANGEBYSCORE', KEYS[3], '-inf', "
	"now)) do\n"
	"  if is_alive(id) then\n"
	"    local left = redis.call('PTTL', pfx .. ':worker:' .. id .. "
	"':alive')\n"
	"    if left < 0 then left = tonumber(ARGV[3]) end\n"
	"    redis.call('ZADD', KEYS[3], now + math.max(left, 1), id)\n"
	"  else redis.call('ZREM', KEYS[3], id) changed = true end\n"
	"end\n"
	"local free, mine, have = {}, {}, 0\n"
	"for s = 0, n - 1 do\n"
	"  local k = pfx .. ':lease:' .. s\n"
	"  local v = redis.call('GET', k)\n"
	"  local o, ep\n"
	"  if v then o, ep = owner_of(v) end\n"
	"  if o == me then\n"
	"    mine[#mine + 1] = s mine[#mine + 1] = tonumber(ep)\n"
	"    mine[#mine + 1] = tunnels(s) have = have + 1\n"
	"    if legacy == 1 then redis.call('PEXPIRE', k, ARGV[3])\n"
	"    elseif redis.call('PTTL', k) >= 0 then redis.call('PERSIST', k) "
	"end\n"
	"  elseif o and is_alive(o) then\n"
	"    if live[o] then live[o] = live[o] + 1 end\n"
	"  else free[#free + 1] = s end\n"
	"end\n"
	"local allow = 0\n"
	"if ARGV[6] ~= '1' then\n"
	"  if ARGV[5] == 'spread' then allow = math.ceil(n / nlive) - have\n"
	"  else\n"
	"    local others = 0\n"
	"    for id, c in pairs(live) do if id ~= me then others = others + c "
	"end end\n"
	"    if have > 0 or others == 0 then allow = n end\n"
	"  end\n"
	"end\n"
	"local got = {}\n"
	"for i = 1, math.min(allow, #free) do\n"
	"  local s = free[i]\n"
	"  local ep = redis.call('INCR', pfx .. ':epoch:' .. s)\n"
	"  local v = '1 owner=' .. me .. ' epoch=' .. ep\n"
	"  set_lease(pfx .. ':lease:' .. s, v, ttl)\n"
	"  redis.call('HSET', KEYS[2], s, v)\n"
	"  redis.call('PUBLISH', ARGV[7], '1 shard=' .. s .. ' owner=' .. me "
	".. "
	"' epoch=' .. ep)\n"
	"  got[#got + 1] = s got[#got + 1] = ep\n"
	"  got[#got + 1] = tunnels(s)\n"
	"end\n"
	"local gen\n"
	"if changed or #got > 0 then gen = redis.call('INCR', KEYS[4])\n"
	"else gen = tonumber(redis.call('GET', KEYS[4]) or '0') end\n"
	"local peers = {}\n"
	"for id, c in pairs(live) do\n"
	"  if id ~= me then peers[#peers + 1] = id peers[#peers + 1] = c end\n"
	"end\n"
	"return {got, mine, peers, {gen, legacy}}\n";

/* Hand a lease straight to a successor (drain, rebalancing): no TTL wait.
 * KEYS: lease, epoch, shard map, gen. ARGV: our lease value, successor,
 * ttl_ms ("0": none, see set_lease), shard, channel. Returns the
 * successor's epoch, or -1 if not ours. */
static const char statestore_lua_handoff[] = STATESTORE_LUA_SET_LEASE
	"if redis.call('GET', KEYS[1]) ~= ARGV[1] then return -1 end\n"
	"local ep = redis.call('INCR', KEYS[2])\n"
	"local v = '1 owner=' .. ARGV[2] .. ' epoch=' .. ep\n"
	"set_lease(KEYS[1], v, ARGV[3])\n"
	"redis.call('HSET', KEYS[3], ARGV[4], v)\n"
	"redis.call('INCR', KEYS[4])\n"
	"redis.call('PUBLISH', ARGV[5], '1 shard=' .. ARGV[4] .. ' owner=' .. "
	"ARGV[2] .. ' epoch=' .. ep)\n"
	"return ep\n";

/* A new owner's load of one shard in one call: every tunnel record of the
 * shard with its sessions. KEYS: the shard's tunnel set. ARGV: prefix.
 * Returns a flat array of (tid, tunnel record, {sid, record, ...}) triples;
 * a tid in the set without a record is left out. */
static const char statestore_lua_load[] =
	"local out = {}\n"
	"for _, tid in ipairs(redis.call('SMEMBERS', KEYS[1])) do\n"
	"  local rec = redis.call('GET', ARGV[1] .. ':t:' .. tid)\n"
	"  if rec then\n"
	"    out[#out + 1] = tonumber(tid) out[#out + 1] = rec\n"
	"    out[#out + 1] = redis.call('HGETALL', ARGV[1] .. ':s:' .. tid)\n"
	"  end\n"
	"end\n"
	"return out\n";

static const char *const statestore_lua[STATESTORE__SCRIPTS] = {
	[STATESTORE_ACQUIRE] = statestore_lua_acquire,
	[STATESTORE_RENEW] = statestore_lua_renew,
	[STATESTORE_RELEASE] = statestore_lua_release,
	[STATESTORE_CHECKPOINT] = statestore_lua_checkpoint,
	[STATESTORE_CLAIM] = statestore_lua_claim,
	[STATESTORE_HANDOFF] = statestore_lua_handoff,
	[STATESTORE_HEARTBEAT] = statestore_lua_heartbeat,
	[STATESTORE_WATCH] = statestore_lua_watch,
	[STATESTORE_LOAD] = statestore_lua_load,
};

/* One outstanding command's completion. */
struct statestore_req {
	struct statestore *ss;
	statestore_cb cb;	 /* status callback, or */
	statestore_reply_cb rcb; /* raw reply callback */
	void *arg;
	int kind; /* 0 status, 1 integer epoch, 2 fenced */
};

static void statestore_connect(struct statestore *ss);

int statestore_key(const struct statestore *ss, char *buf, size_t len,
		   const char *fmt, ...)
{
	va_list ap;
	int n = snprintf(buf, len, "%s:", ss->prefix);
	if (n < 0 || (size_t)n >= len)
		return -ENAMETOOLONG;
	va_start(ap, fmt);
	int m = vsnprintf(buf + n, len - (size_t)n, fmt, ap);
	va_end(ap);
	return (m < 0 || (size_t)(n + m) >= len) ? -ENAMETOOLONG : n + m;
}

static void statestore_retry_cb(uv_timer_t *t)
{
	statestore_connect(t->data);
}

static void statestore_schedule_retry(struct statestore *ss)
{
	if (ss->stopping)
		return;
	ss->retry_ms =
		ss->retry_ms ? ss->retry_ms * 2 : STATESTORE_RETRY_MIN_MS;
	uint32_t max = redis_locator_follows(&ss->where)
			       ? STATESTORE_RETRY_MAX_SENTINEL_MS
			       : STATESTORE_RETRY_MAX_MS;
	if (ss->retry_ms > max)
		ss->retry_ms = max;
	uv_timer_start(&ss->retry, statestore_retry_cb, ss->retry_ms, 0);
}

static void statestore_lost(struct statestore *ss)
{
	bool was_up = ss->up;
	ss->ac = NULL;
	ss->in_flight = 0;
	ss->up = false;
	if (was_up && ss->ops.down)
		ss->ops.down(ss->ops.ctx);
	statestore_schedule_retry(ss);
}

static void statestore_on_disconnect(const redisAsyncContext *ac, int status)
{
	struct statestore *ss = ac->data;
	(void)status;
	if (!ss)
		return; /* abandoned by the watchdog */
	if (ss->stopping) {
		ss->ac = NULL;
		ss->up = false;
		return;
	}
	log_warn("redis connection lost", "redis=%s", ss->where.primary.text);
	statestore_lost(ss);
}

static void statestore_script_loaded(redisAsyncContext *ac, void *r, void *priv)
{
	struct statestore *ss = ac->data;
	redisReply *reply = r;
	intptr_t which = (intptr_t)priv;
	if (!ss)
		return; /* abandoned connection */
	if (!reply || reply->type != REDIS_REPLY_STRING || reply->len != 40) {
		log_error("redis SCRIPT LOAD failed", "redis=%s err=%s",
			  ss->where.primary.text,
			  LOG_Q(reply && reply->str ? reply->str : "no reply"));
		return; /* the connection is reset by the caller's timeout */
	}
	memcpy(ss->sha[which], reply->str, 40);
	ss->sha[which][40] = '\0';
	if (--ss->scripts_pending == 0) {
		ss->up = true;
		ss->retry_ms = 0;
		ss->stats.reconnects++;
		log_info("redis connected", "redis=%s", ss->where.primary.text);
		if (ss->ops.up)
			ss->ops.up(ss->ops.ctx);
	}
}

static void statestore_abandon(struct statestore *ss);

/* The server we talk to is not (or no longer) the primary: drop it and ask
 * the Sentinels again. */
static void statestore_not_primary(struct statestore *ss, const char *why)
{
	ss->stats.not_primary++;
	LOG_RL(LOG_LEVEL_WARN, "redis is not the primary: looking again",
	       "redis=%s why=%s sentinels=%d", ss->where.primary.text,
	       LOG_Q(why), redis_locator_follows(&ss->where));
	statestore_abandon(ss);
}

static void statestore_role(redisAsyncContext *ac, void *r, void *priv)
{
	struct statestore *ss = ac->data;
	(void)priv;
	if (!ss || ac != ss->ac || !r)
		return; /* abandoned, or lost: the lost path handles it */
	if (!redis_role_is_master(r))
		statestore_not_primary(ss, "ROLE is not master");
}

static void statestore_on_connect(const redisAsyncContext *cac, int status)
{
	struct statestore *ss = cac->data;
	if (!ss)
		return;			/* abandoned connection */
	redisAsyncContext *ac = ss->ac; /* the same context, not const */
	if (status != REDIS_OK) {
		LOG_RL(LOG_LEVEL_WARN, "redis connect failed",
		       "redis=%s err=%s", ss->where.primary.text,
		       LOG_Q(ac->errstr));
		statestore_lost(ss);
		return;
	}
	if (ss->password[0])
		redisAsyncCommand(ac, NULL, NULL, "AUTH %s", ss->password);
	if (ss->worker_id[0]) /* CLIENT LIST and MONITOR then say who it is */
		redisAsyncCommand(ac, NULL, NULL, "CLIENT SETNAME tandem-%s",
				  ss->worker_id);
	/* A Sentinel's answer can be stale and `redis` can name a replica:
	 * only the primary takes our writes. */
	redisAsyncCommand(ac, statestore_role, NULL, "ROLE");
	ss->scripts_pending = STATESTORE__SCRIPTS;
	for (intptr_t i = 0; i < STATESTORE__SCRIPTS; i++)
		redisAsyncCommand(ac, statestore_script_loaded, (void *)i,
				  "SCRIPT LOAD %s", statestore_lua[i]);
}

static void statestore_dial(struct statestore *ss)
{
	const struct redis_primary *p = &ss->where.primary;
	redisAsyncContext *ac = redisAsyncConnect(p->host, p->port);
	log_debug("redis connecting", "redis=%s err=%s", p->text,
		  LOG_Q(ac && ac->err ? ac->errstr : "none"));
	if (!ac || ac->err) {
		if (ac)
			redisAsyncFree(ac);
		statestore_schedule_retry(ss);
		return;
	}
	/* hiredis 0.14 does not ask for close-on-exec: a pppd the worker
	 * starts would otherwise hold the Redis connection open. */
	fcntl(ac->c.fd, F_SETFD, FD_CLOEXEC);
	ac->data = ss;
	ss->ac = ac;
	ss->connect_started_ms = uv_now(ss->loop);
	if (redis_uv_attach(ac, ss->loop) < 0) {
		redisAsyncFree(ac);
		ss->ac = NULL;
		statestore_schedule_retry(ss);
		return;
	}
	redisAsyncSetConnectCallback(ac, statestore_on_connect);
	redisAsyncSetDisconnectCallback(ac, statestore_on_disconnect);
}

static void statestore_located(void *arg, int status)
{
	struct statestore *ss = arg;
	if (ss->stopping || ss->ac)
		return;
	if (status == -EAGAIN) {
		/* Sentinel is promoting a replica: look again soon. */
		LOG_RL(LOG_LEVEL_WARN, "redis primary down: failover under way",
		       "name=%s sentinel=%s",
		       LOG_Q(ss->where.cfg.redis_master_name),
		       LOG_Q(ss->where.err));
		ss->retry_ms = 0;
		statestore_schedule_retry(ss);
		return;
	}
	if (status < 0) {
		LOG_RL(LOG_LEVEL_WARN,
		       "redis primary unknown: no Sentinel "
		       "answered",
		       "name=%s err=%s", LOG_Q(ss->where.cfg.redis_master_name),
		       LOG_Q(ss->where.err));
		statestore_schedule_retry(ss);
		return;
	}
	statestore_dial(ss);
}

static void statestore_connect(struct statestore *ss)
{
	if (ss->stopping || ss->ac || ss->where.busy)
		return;
	if (redis_locator_find(&ss->where, statestore_located, ss) < 0)
		statestore_schedule_retry(ss);
}

/* Give up on the current connection: its pending replies complete with
 * -EIO, its callbacks see data NULL and do nothing, and we reconnect. Freed
 * rather than disconnected: a hung server would never let a graceful
 * disconnect finish. */
static void statestore_abandon(struct statestore *ss)
{
	redisAsyncContext *ac = ss->ac;
	if (!ac)
		return;
	ss->ac = NULL;
	ac->data = NULL;
	redisAsyncFree(ac);
	statestore_lost(ss);
}

static void statestore_watchdog_cb(uv_timer_t *t)
{
	struct statestore *ss = t->data;
	uint64_t now = uv_now(ss->loop);
	uint64_t every = ss->timeout_ms / 4 ? ss->timeout_ms / 4 : 1;
	bool stalled = ss->last_watchdog_ms &&
		       now - ss->last_watchdog_ms > 2 * every + every / 2;
	ss->last_watchdog_ms = now;
	if (stalled) {
		/* Our own loop was late (timers run before I/O: replies may be
		 * waiting in the socket unread). A stall of ours is not
		 * Redis's: give it a full time-out from now. */
		ss->last_progress_ms = now;
		ss->connect_started_ms = now;
		return;
	}
	if (ss->ac && !ss->up &&
	    now - ss->connect_started_ms >= ss->timeout_ms) {
		/* Not up in time (hiredis 0.14's libuv adapter drops poll
		 * errors, so a refused connection never reports back; a hung
		 * server never answers SCRIPT LOAD). */
		statestore_abandon(ss);
		return;
	}
	if (!ss->ac || !ss->in_flight ||
	    now - ss->last_progress_ms < ss->timeout_ms)
		return;
	ss->stats.timeouts++;
	log_warn("redis not answering: dropping the connection",
		 "redis=%s pending=%u timeout_ms=%u", ss->where.primary.text,
		 ss->in_flight, ss->timeout_ms);
	statestore_abandon(ss);
}

/* hiredis's libuv adapter reads 16 KB per readable event, one event per
 * loop iteration: a takeover's load replies (megabytes) would then take
 * hundreds of iterations, each also busy with the datagrams that arrive
 * meanwhile. After each iteration's I/O this reads on while the socket has
 * data, up to STATESTORE_PUMP_READS reads (bounded work per iteration). */
#define STATESTORE_PUMP_READS 64

static void statestore_pump_cb(uv_check_t *h)
{
	struct statestore *ss = h->data;
	for (int i = 0; i < STATESTORE_PUMP_READS && ss->ac && ss->up; i++) {
		int avail = 0;
		redisAsyncContext *ac = ss->ac;
		if (ioctl(ac->c.fd, FIONREAD, &avail) < 0 || avail <= 0)
			break;
		redisAsyncHandleRead(ac);
		if (ss->ac != ac) /* lost or abandoned in a callback */
			break;
	}
}

int statestore_init(struct statestore *ss, uv_loop_t *loop,
		    const struct config *cfg, const char *worker_id,
		    const struct statestore_ops *ops)
{
	uint32_t timeout_ms = cfg->redis_timeout_ms;
	memset(ss, 0, sizeof(*ss));
	ss->loop = loop;
	redis_locator_init(&ss->where, loop, cfg, timeout_ms);
	snprintf(ss->password, sizeof(ss->password), "%s", cfg->redis_password);
	snprintf(ss->prefix, sizeof(ss->prefix), "%s", cfg->redis_prefix);
	snprintf(ss->worker_id, sizeof(ss->worker_id), "%s", worker_id);
	if (ops)
		ss->ops = *ops;
	int rc = uv_timer_init(loop, &ss->retry);
	if (rc < 0)
		return rc;
	ss->retry.data = ss;
	ss->timeout_ms = timeout_ms ? timeout_ms : 1000;
	uv_timer_init(loop, &ss->watchdog);
	ss->watchdog.data = ss;
	uint32_t every = ss->timeout_ms / 4 ? ss->timeout_ms / 4 : 1;
	uv_timer_start(&ss->watchdog, statestore_watchdog_cb, every, every);
	uv_unref((uv_handle_t *)&ss->watchdog);
	uv_check_init(loop, &ss->pump);
	ss->pump.data = ss;
	uv_check_start(&ss->pump, statestore_pump_cb);
	uv_unref((uv_handle_t *)&ss->pump);
	statestore_connect(ss);
	return 0;
}

void statestore_close(struct statestore *ss)
{
	ss->stopping = true;
	ss->where.closing = true;
	uv_timer_stop(&ss->retry);
	uv_close((uv_handle_t *)&ss->retry, NULL);
	uv_timer_stop(&ss->watchdog);
	uv_close((uv_handle_t *)&ss->watchdog, NULL);
	uv_check_stop(&ss->pump);
	uv_close((uv_handle_t *)&ss->pump, NULL);
	if (ss->ac)
		redisAsyncDisconnect(ss->ac);
}

void statestore_reset(struct statestore *ss)
{
	statestore_abandon(ss);
}

static void statestore_reply(redisAsyncContext *ac, void *r, void *priv)
{
	struct statestore_req *req = priv;
	redisReply *reply = r;
	if (req->ss->in_flight)
		req->ss->in_flight--;
	req->ss->last_progress_ms = uv_now(req->ss->loop);
	if (req->rcb) {
		req->rcb(req->arg, reply);
		free(req);
		return;
	}
	int status = 0;
	int64_t value = 0;
	if (!reply) {
		status = -EIO;
	} else if (reply->type == REDIS_REPLY_ERROR) {
		if (reply->str && strstr(reply->str, "FENCED")) {
			status = -ESTALE;
			req->ss->stats.fenced++;
		} else {
			status = -EIO;
			LOG_RL(LOG_LEVEL_WARN, "redis error reply", "err=%s",
			       LOG_Q(reply->str ? reply->str : ""));
			if (reply->str && !strncmp(reply->str, "READONLY", 8) &&
			    ac == req->ss->ac)
				statestore_not_primary(req->ss, reply->str);
		}
	} else if (reply->type == REDIS_REPLY_INTEGER) {
		value = reply->integer;
		if (req->kind == 1 && value < 0)
			status = -EBUSY;
		else if (req->kind == 2 && value == 0)
			status = -ESTALE;
	}
	if (status == -EIO)
		req->ss->stats.errors++;
	if (req->cb)
		req->cb(req->arg, status, value);
	free(req);
}

static int statestore_send(struct statestore *ss, struct statestore_req *req,
			   int argc, const char **argv, const size_t *argvlen)
{
	if (!ss->ac || !ss->up) {
		free(req);
		return -ENOTCONN;
	}
	if (redisAsyncCommandArgv(ss->ac, statestore_reply, req, argc, argv,
				  argvlen) != REDIS_OK) {
		free(req);
		return -EIO;
	}
	ss->stats.commands++;
	if (ss->in_flight++ == 0)
		ss->last_progress_ms = uv_now(ss->loop);
	return 0;
}

static struct statestore_req *
statestore_req(struct statestore *ss, statestore_cb cb, void *arg, int kind)
{
	struct statestore_req *req = calloc(1, sizeof(*req));
	if (req) {
		req->ss = ss;
		req->cb = cb;
		req->arg = arg;
		req->kind = kind;
	}
	return req;
}

int statestore_command(struct statestore *ss, statestore_cb cb, void *arg,
		       int argc, const char **argv, const size_t *argvlen)
{
	struct statestore_req *req = statestore_req(ss, cb, arg, 0);
	return req ? statestore_send(ss, req, argc, argv, argvlen) : -ENOMEM;
}

int statestore_query(struct statestore *ss, statestore_reply_cb cb, void *arg,
		     int argc, const char **argv, const size_t *argvlen)
{
	struct statestore_req *req = statestore_req(ss, NULL, arg, 0);
	if (!req)
		return -ENOMEM;
	req->rcb = cb;
	return statestore_send(ss, req, argc, argv, argvlen);
}

/* "1 owner=<id> epoch=<n>": the lease value a holder's writes must match. */
static void statestore_lease_value(const struct statestore *ss, uint64_t epoch,
				   char *buf, size_t len)
{
	snprintf(buf, len, "1 owner=%s epoch=%llu", ss->worker_id,
		 (unsigned long long)epoch);
}

int statestore_lease_acquire(struct statestore *ss, unsigned shard,
			     uint32_t ttl_ms, statestore_cb cb, void *arg)
{
	char lease[STATESTORE_KEY_MAX], epoch[STATESTORE_KEY_MAX],
		map[STATESTORE_KEY_MAX], chan[STATESTORE_KEY_MAX],
		gen[STATESTORE_KEY_MAX];
	char ttl[16], sh[16];
	statestore_key(ss, lease, sizeof(lease), "lease:%u", shard);
	statestore_key(ss, epoch, sizeof(epoch), "epoch:%u", shard);
	statestore_key(ss, map, sizeof(map), "shardmap");
	statestore_key(ss, chan, sizeof(chan), "events");
	statestore_key(ss, gen, sizeof(gen), "gen");
	snprintf(ttl, sizeof(ttl), "%u", ttl_ms);
	snprintf(sh, sizeof(sh), "%u", shard);
	const char *argv[] = {"EVALSHA", ss->sha[STATESTORE_ACQUIRE],
			      "4",	 lease,
			      epoch,	 map,
			      gen,	 ss->worker_id,
			      ttl,	 sh,
			      chan,	 ss->prefix};
	struct statestore_req *req = statestore_req(ss, cb, arg, 1);
	return req ? statestore_send(ss, req, 12, argv, NULL) : -ENOMEM;
}

int statestore_heartbeat(struct statestore *ss, uint32_t ttl_ms,
			 const char *value, statestore_reply_cb cb, void *arg)
{
	char alive[STATESTORE_KEY_MAX], zset[STATESTORE_KEY_MAX],
		gen[STATESTORE_KEY_MAX], ttl[16];
	statestore_key(ss, alive, sizeof(alive), "worker:%s:alive",
		       ss->worker_id);
	statestore_key(ss, zset, sizeof(zset), "alive");
	statestore_key(ss, gen, sizeof(gen), "gen");
	snprintf(ttl, sizeof(ttl), "%u", ttl_ms);
	const char *argv[] = {"EVALSHA",     ss->sha[STATESTORE_HEARTBEAT],
			      "3",	     alive,
			      zset,	     gen,
			      ss->worker_id, ttl,
			      value};
	return statestore_query(ss, cb, arg, 9, argv, NULL);
}

int statestore_load_shard(struct statestore *ss, unsigned shard,
			  statestore_reply_cb cb, void *arg)
{
	char set[STATESTORE_KEY_MAX];
	statestore_key(ss, set, sizeof(set), "shard:%u:tunnels", shard);
	const char *argv[] = {"EVALSHA", ss->sha[STATESTORE_LOAD], "1", set,
			      ss->prefix};
	return statestore_query(ss, cb, arg, 5, argv, NULL);
}

int statestore_watch(struct statestore *ss, statestore_reply_cb cb, void *arg)
{
	char zset[STATESTORE_KEY_MAX], gen[STATESTORE_KEY_MAX];
	statestore_key(ss, zset, sizeof(zset), "alive");
	statestore_key(ss, gen, sizeof(gen), "gen");
	const char *argv[] = {
		"EVALSHA",    ss->sha[STATESTORE_WATCH], "3", zset, zset, gen,
		ss->worker_id};
	return statestore_query(ss, cb, arg, 7, argv, NULL);
}

int statestore_lease_renew(struct statestore *ss, const unsigned *shards,
			   const uint64_t *epochs, size_t n, uint32_t ttl_ms,
			   statestore_reply_cb cb, void *arg)
{
	size_t argc = 4 + 2 * n;
	const char **argv = malloc(argc * sizeof(*argv));
	char(*keys)[STATESTORE_KEY_MAX] = malloc((n + 1) * sizeof(*keys));
	char(*vals)[128] = malloc((n + 1) * sizeof(*vals));
	char nkeys[16], ttl[16];
	int rc = -ENOMEM;
	if (!argv || !keys || !vals)
		goto fail;
	snprintf(nkeys, sizeof(nkeys), "%zu", n);
	snprintf(ttl, sizeof(ttl), "%u", ttl_ms);
	argv[0] = "EVALSHA";
	argv[1] = ss->sha[STATESTORE_RENEW];
	argv[2] = nkeys;
	for (size_t i = 0; i < n; i++) {
		statestore_key(ss, keys[i], sizeof(keys[i]), "lease:%u",
			       shards[i]);
		statestore_lease_value(ss, epochs[i], vals[i], sizeof(vals[i]));
		argv[3 + i] = keys[i];
		argv[4 + n + i] = vals[i];
	}
	argv[3 + n] = ttl;
	rc = statestore_query(ss, cb, arg, (int)argc, argv, NULL);
fail:
	free(argv);
	free(keys);
	free(vals);
	return rc;
}

int statestore_lease_release(struct statestore *ss, unsigned shard,
			     uint64_t epoch, statestore_cb cb, void *arg)
{
	char lease[STATESTORE_KEY_MAX], map[STATESTORE_KEY_MAX],
		chan[STATESTORE_KEY_MAX], gen[STATESTORE_KEY_MAX], value[128],
		sh[16], ep[24];
	statestore_key(ss, lease, sizeof(lease), "lease:%u", shard);
	statestore_key(ss, map, sizeof(map), "shardmap");
	statestore_key(ss, chan, sizeof(chan), "events");
	statestore_key(ss, gen, sizeof(gen), "gen");
	statestore_lease_value(ss, epoch, value, sizeof(value));
	snprintf(sh, sizeof(sh), "%u", shard);
	snprintf(ep, sizeof(ep), "%llu", (unsigned long long)epoch);
	const char *argv[] = {"EVALSHA", ss->sha[STATESTORE_RELEASE],
			      "3",	 lease,
			      map,	 gen,
			      value,	 sh,
			      chan,	 ep};
	struct statestore_req *req = statestore_req(ss, cb, arg, 2);
	return req ? statestore_send(ss, req, 10, argv, NULL) : -ENOMEM;
}

int statestore_checkpoint(struct statestore *ss, unsigned shard, uint64_t epoch,
			  uint16_t tid, const uint8_t *record,
			  size_t record_len, const struct statestore_blob *set,
			  size_t n_set, const uint16_t *del, size_t n_del,
			  statestore_cb cb, void *arg)
{
	char lease[STATESTORE_KEY_MAX], tkey[STATESTORE_KEY_MAX],
		skey[STATESTORE_KEY_MAX], setkey[STATESTORE_KEY_MAX];
	char value[128], tids[8], nset[16];
	size_t argc = 11 + 2 * n_set + n_del;
	const char **argv = malloc(argc * sizeof(*argv));
	size_t *lens = malloc(argc * sizeof(*lens));
	char(*sids)[8] = malloc((n_set + n_del + 1) * sizeof(*sids));
	int rc = -ENOMEM;
	if (!argv || !lens || !sids)
		goto fail;
	statestore_key(ss, lease, sizeof(lease), "lease:%u", shard);
	statestore_key(ss, tkey, sizeof(tkey), "t:%u", tid);
	statestore_key(ss, skey, sizeof(skey), "s:%u", tid);
	statestore_key(ss, setkey, sizeof(setkey), "shard:%u:tunnels", shard);
	statestore_lease_value(ss, epoch, value, sizeof(value));
	snprintf(tids, sizeof(tids), "%u", tid);
	snprintf(nset, sizeof(nset), "%zu", record ? n_set : 0);
	size_t i = 0;
	argv[i++] = "EVALSHA";
	argv[i++] = ss->sha[STATESTORE_CHECKPOINT];
	argv[i++] = "4";
	argv[i++] = lease;
	argv[i++] = tkey;
	argv[i++] = skey;
	argv[i++] = setkey;
	argv[i++] = value;
	argv[i++] = tids;
	for (size_t k = 0; k < i; k++)
		lens[k] = strlen(argv[k]);
	argv[i] = record ? (const char *)record : "";
	lens[i++] = record ? record_len : 0;
	argv[i] = nset;
	lens[i] = strlen(nset);
	i++;
	for (size_t k = 0; record && k < n_set; k++) {
		snprintf(sids[k], sizeof(sids[k]), "%u", set[k].sid);
		argv[i] = sids[k];
		lens[i++] = strlen(sids[k]);
		argv[i] = (const char *)set[k].data;
		lens[i++] = set[k].len;
	}
	for (size_t k = 0; record && k < n_del; k++) {
		snprintf(sids[n_set + k], sizeof(sids[0]), "%u", del[k]);
		argv[i] = sids[n_set + k];
		lens[i] = strlen(sids[n_set + k]);
		i++;
	}
	struct statestore_req *req = statestore_req(ss, cb, arg, 0);
	rc = req ? statestore_send(ss, req, (int)i, argv, lens) : -ENOMEM;
fail:
	free(argv);
	free(lens);
	free(sids);
	return rc;
}

int statestore_wait(struct statestore *ss, int replicas, uint32_t timeout_ms,
		    statestore_cb cb, void *arg)
{
	char n[16], t[16];
	snprintf(n, sizeof(n), "%d", replicas);
	snprintf(t, sizeof(t), "%u", timeout_ms);
	const char *argv[] = {"WAIT", n, t};
	struct statestore_req *req = statestore_req(ss, cb, arg, 0);
	return req ? statestore_send(ss, req, 3, argv, NULL) : -ENOMEM;
}

int statestore_claim(struct statestore *ss, unsigned shard_count,
		     uint32_t ttl_ms, const char *policy, bool draining,
		     statestore_reply_cb cb, void *arg)
{
	char workers[STATESTORE_KEY_MAX], map[STATESTORE_KEY_MAX],
		chan[STATESTORE_KEY_MAX], zset[STATESTORE_KEY_MAX],
		gen[STATESTORE_KEY_MAX], ttl[16], n[16];
	statestore_key(ss, workers, sizeof(workers), "workers");
	statestore_key(ss, map, sizeof(map), "shardmap");
	statestore_key(ss, chan, sizeof(chan), "events");
	statestore_key(ss, zset, sizeof(zset), "alive");
	statestore_key(ss, gen, sizeof(gen), "gen");
	snprintf(ttl, sizeof(ttl), "%u", ttl_ms);
	snprintf(n, sizeof(n), "%u", shard_count);
	const char *argv[] = {"EVALSHA",
			      ss->sha[STATESTORE_CLAIM],
			      "4",
			      workers,
			      map,
			      zset,
			      gen,
			      ss->prefix,
			      ss->worker_id,
			      ttl,
			      n,
			      policy,
			      draining ? "1" : "0",
			      chan};
	return statestore_query(ss, cb, arg, 14, argv, NULL);
}

int statestore_lease_handoff(struct statestore *ss, unsigned shard,
			     uint64_t epoch, const char *successor,
			     uint32_t ttl_ms, statestore_cb cb, void *arg)
{
	char lease[STATESTORE_KEY_MAX], ekey[STATESTORE_KEY_MAX],
		map[STATESTORE_KEY_MAX], chan[STATESTORE_KEY_MAX],
		gen[STATESTORE_KEY_MAX], value[128], sh[16], ttl[16];
	statestore_key(ss, lease, sizeof(lease), "lease:%u", shard);
	statestore_key(ss, ekey, sizeof(ekey), "epoch:%u", shard);
	statestore_key(ss, map, sizeof(map), "shardmap");
	statestore_key(ss, chan, sizeof(chan), "events");
	statestore_key(ss, gen, sizeof(gen), "gen");
	statestore_lease_value(ss, epoch, value, sizeof(value));
	snprintf(sh, sizeof(sh), "%u", shard);
	snprintf(ttl, sizeof(ttl), "%u", ttl_ms);
	const char *argv[] = {"EVALSHA", ss->sha[STATESTORE_HANDOFF],
			      "4",	 lease,
			      ekey,	 map,
			      gen,	 value,
			      successor, ttl,
			      sh,	 chan};
	struct statestore_req *req = statestore_req(ss, cb, arg, 1);
	return req ? statestore_send(ss, req, 12, argv, NULL) : -ENOMEM;
}
