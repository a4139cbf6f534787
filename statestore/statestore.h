/* The only code that talks to Redis about shards, leases, workers, tunnels
 * and sessions (schema in statestore/SCHEMA.md). hiredis async on the caller's
 * libuv loop; every lease and checkpoint operation is one Lua script, so it is
 * atomic and fenced by the shard's epoch. Commands issued in one loop
 * iteration travel pipelined on one connection. */
#ifndef TANDEM_STATESTORE_H
#define TANDEM_STATESTORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <uv.h>

#include "redis_locate.h"

struct redisAsyncContext;

#define STATESTORE_KEY_MAX 160

enum statestore_script {
	STATESTORE_ACQUIRE,
	STATESTORE_RENEW,
	STATESTORE_RELEASE,
	STATESTORE_CHECKPOINT,
	STATESTORE_CLAIM,
	STATESTORE_HANDOFF,
	STATESTORE_HEARTBEAT,
	STATESTORE_WATCH,
	STATESTORE_LOAD,
	STATESTORE__SCRIPTS
};

/* Completion of one operation: status 0 (ok, value meaningful), -ESTALE
 * (fenced: the lease is no longer ours), -EBUSY (lease held by another),
 * -EIO (Redis unreachable or error reply). */
typedef void (*statestore_cb)(void *arg, int status, int64_t value);

struct statestore_ops {
	void (*up)(void *ctx);	 /* connected and scripts loaded */
	void (*down)(void *ctx); /* connection lost (reconnecting) */
	void *ctx;
};

struct statestore_stats {
	uint64_t commands;    /* commands sent */
	uint64_t fenced;      /* checkpoints refused for a stale epoch */
	uint64_t errors;      /* error replies and lost replies */
	uint64_t reconnects;  /* successful (re)connections */
	uint64_t timeouts;    /* connections dropped for not answering */
	uint64_t not_primary; /* connections dropped: not the primary */
};

struct statestore {
	uv_loop_t *loop;		   /* caller's loop */
	struct redisAsyncContext *ac;	   /* NULL while disconnected */
	struct redis_locator where;	   /* the primary, via Sentinel */
	char password[256];		   /* AUTH, "" = none */
	char prefix[CONFIG_STR_MAX];	   /* key prefix */
	char worker_id[64];		   /* who we are (lease owner) */
	bool up;			   /* connected, scripts loaded */
	bool stopping;			   /* statestore_close called */
	unsigned scripts_pending;	   /* SCRIPT LOADs not yet answered */
	char sha[STATESTORE__SCRIPTS][41]; /* loaded script digests */
	uv_timer_t retry;		   /* reconnect back-off timer */
	uv_timer_t watchdog;	   /* notices a Redis that stopped answering */
	uv_check_t pump;	   /* reads on what one read left unread */
	uint32_t timeout_ms;	   /* no reply for this long = lost */
	unsigned in_flight;	   /* commands awaiting a reply */
	uint64_t last_progress_ms; /* last reply, or first send after idle */
	uint64_t last_watchdog_ms; /* when the watchdog last ran */
	uint64_t connect_started_ms;   /* when the current attempt began */
	uint32_t retry_ms;	       /* current back-off */
	struct statestore_ops ops;     /* up/down notifications */
	struct statestore_stats stats; /* counters */
};

/* Prepare ss and start connecting to cfg's Redis (`redis`, or the primary
 * the redis_sentinels name) as worker_id, with cfg's password, prefix and
 * redis_timeout. A command unanswered for redis_timeout drops
 * the connection (every pending callback gets -EIO) and reconnects: a hung
 * Redis is treated like a dead one. Returns 0 or -errno. */
int statestore_init(struct statestore *ss, uv_loop_t *loop,
		    const struct config *cfg, const char *worker_id,
		    const struct statestore_ops *ops);
/* Disconnect (pending callbacks get -EIO) and stop reconnecting. */
void statestore_close(struct statestore *ss);
/* Drop the connection now (e.g. a command timed out); reconnects. */
void statestore_reset(struct statestore *ss);

/* Key helpers (prefix applied): "P:<what>". */
int statestore_key(const struct statestore *ss, char *buf, size_t len,
		   const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/* Any command whose reply the caller reads itself (HGETALL of P:frontends,
 * loading a shard). reply is NULL when Redis was lost; it is freed after cb. */
struct redisReply;
typedef void (*statestore_reply_cb)(void *arg, const struct redisReply *reply);

/* Leases hang on their owner's liveness key (SCHEMA.md); ttl_ms 0 gives a
 * lease no expiry of its own, > 0 one of ttl_ms (beside builds that renew
 * each lease). acquire -> value = epoch (-EBUSY: a live worker holds it). */
int statestore_lease_acquire(struct statestore *ss, unsigned shard,
			     uint32_t ttl_ms, statestore_cb cb, void *arg);
/* The liveness key P:worker:<id>:alive (value `value`, TTL ttl_ms) and its
 * entry in P:alive. The reply is {1, or 0 when the key had lapsed before
 * this; P:gen; ms until the next other worker's liveness expires (<= 0:
 * one has, -1: no other worker)}. */
int statestore_heartbeat(struct statestore *ss, uint32_t ttl_ms,
			 const char *value, statestore_reply_cb cb, void *arg);
/* Every tunnel of a shard with its sessions, in one reply (a takeover's
 * load): flat (tid, tunnel record, {sid, record, ...}) triples. */
int statestore_load_shard(struct statestore *ss, unsigned shard,
			  statestore_reply_cb cb, void *arg);
/* The cheap look between heartbeats: the reply is {P:gen, ms until the
 * next other worker's liveness expires} as in statestore_heartbeat. */
int statestore_watch(struct statestore *ss, statestore_reply_cb cb, void *arg);
/* Renew n leases in one script call; the reply is an array of integers,
 * 1 = renewed, 0 = lost (fenced), in the order given. */
int statestore_lease_renew(struct statestore *ss, const unsigned *shards,
			   const uint64_t *epochs, size_t n, uint32_t ttl_ms,
			   statestore_reply_cb cb, void *arg);
/* release -> value unused. */
int statestore_lease_release(struct statestore *ss, unsigned shard,
			     uint64_t epoch, statestore_cb cb, void *arg);

/* One claim round (see statestore_lua_claim): take free shards as the
 * policy allows. The reply is {taken, ours, peers, {gen, legacy}}, the
 * first three flat arrays: (shard, epoch, tunnels) triples for the first
 * two (tunnels: how many the shard holds in Redis), (worker, shards)
 * pairs. policy is "spread" or "active-standby". */
int statestore_claim(struct statestore *ss, unsigned shard_count,
		     uint32_t ttl_ms, const char *policy, bool draining,
		     statestore_reply_cb cb, void *arg);
/* Hand our lease (at epoch) to successor: value = its epoch, -EBUSY when
 * the lease was no longer ours. */
int statestore_lease_handoff(struct statestore *ss, unsigned shard,
			     uint64_t epoch, const char *successor,
			     uint32_t ttl_ms, statestore_cb cb, void *arg);

/* One tunnel's checkpoint, fenced by (shard, epoch). record NULL deletes the
 * tunnel and its sessions. sessions: n_set (sid, record) pairs to write and
 * n_del sids to delete. */
struct statestore_blob {
	uint16_t sid;	     /* session ID (sessions only) */
	const uint8_t *data; /* record bytes */
	size_t len;	     /* their length */
};
int statestore_checkpoint(struct statestore *ss, unsigned shard, uint64_t epoch,
			  uint16_t tid, const uint8_t *record,
			  size_t record_len, const struct statestore_blob *set,
			  size_t n_set, const uint16_t *del, size_t n_del,
			  statestore_cb cb, void *arg);

/* WAIT n timeout_ms after what was sent: value = replicas reached. */
int statestore_wait(struct statestore *ss, int replicas, uint32_t timeout_ms,
		    statestore_cb cb, void *arg);

/* Plain command (argv style), reply ignored except for errors; for
 * registrations and events. */
int statestore_command(struct statestore *ss, statestore_cb cb, void *arg,
		       int argc, const char **argv, const size_t *argvlen);

int statestore_query(struct statestore *ss, statestore_reply_cb cb, void *arg,
		     int argc, const char **argv, const size_t *argvlen);

#endif
