/* clusterctl: the operator's view of a tandem cluster, read straight from
 * Redis (statestore/SCHEMA.md) with synchronous hiredis, and its actions,
 * asked of the owning worker over its control socket. This header holds
 * what the subcommands (cmd_<name>.c) share: the context, exit statuses,
 * Redis access (cc_redis.c), the cluster model (cc_cluster.c) and the
 * control protocol client (cc_ctl.c). */
#ifndef TANDEM_CLUSTERCTL_H
#define TANDEM_CLUSTERCTL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cc_out.h"
#include "config.h"

struct redisContext;
struct redisReply;

/* Exit statuses (docs/CLUSTERCTL.md). */
enum cc_exit {
	CC_EXIT_OK = 0,		 /* done; status: nothing needs attention */
	CC_EXIT_ATTENTION = 1,	 /* status: a problem; show: no such object */
	CC_EXIT_USAGE = 2,	 /* bad command line or configuration file */
	CC_EXIT_UNREACHABLE = 3, /* Redis unreachable, lost or refusing us */
	CC_EXIT_NO_ANSWER = 4,	 /* a worker's control socket did not answer */
};

#define CC_KEY_MAX	  (CONFIG_STR_MAX + 64) /* prefix + ":" + the rest */
#define CC_ID_MAX	  64			/* worker and frontend IDs */
#define CC_BATCH	  512  /* commands per pipeline round */
#define CC_SCAN_COUNT	  1000 /* SCAN COUNT hint */
#define CC_MIN_TIMEOUT_MS 1000 /* see cc_redis_connect */

struct cc {
	struct config cfg;	 /* the cluster's configuration file */
	struct redisContext *rc; /* NULL until cc_redis_connect */
	bool json;		 /* --json */
	uint32_t timeout_ms;	 /* connect and reply time-out */
};

/* A subcommand: parses its own arguments (argv[0] is its name), connects,
 * prints, and returns an enum cc_exit. */
typedef int cc_cmd_fn(struct cc *cc, int argc, char **argv);
cc_cmd_fn cmd_status, cmd_shards, cmd_workers, cmd_tunnels, cmd_sessions,
	cmd_show, cmd_drain, cmd_disconnect, cmd_move;

/* Worker rows shared by `workers` and `status`: wide adds draining and the
 * endpoints. cmd_workers_rows initialises t; the caller prints and frees
 * it. cmd_workers_json writes the "workers" array member. */
struct cc_cluster;
void cmd_workers_rows(const struct cc_cluster *cl, struct cc_table *t,
		      bool wide);
void cmd_workers_json(struct cc_json *j, const struct cc_cluster *cl);

/* The tunnel state called name (any case), or -1. */
int cmd_tunnels_state(const char *name);
/* The members that `tunnels` and `show tunnel` share; sessions < 0: not
 * known (null). sh is the lease of shard. */
struct record_tunnel_info;
struct cc_shard;
void cmd_tunnels_json_fields(struct cc_json *j,
			     const struct record_tunnel_info *ti,
			     const struct cc_shard *sh, unsigned shard,
			     int64_t sessions);
/* The same for one session of tunnel tid (`sessions`, `show session`). */
struct record_session_info;
void cmd_sessions_json_fields(struct cc_json *j, uint16_t tid,
			      const struct record_session_info *si,
			      const struct cc_shard *sh);

/* Internal results: 0, -EIO (Redis lost or an error reply; already said on
 * stderr), -ENOENT (no such object), -ENOMEM, -ETIMEDOUT (a worker did not
 * answer), -EPROTO (a worker refused). The exit status for rc. */
int cc_exit_for(int rc);
/* "clusterctl: <message>\n" on stderr. */
void cc_err(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* A stored record (len bytes at v) that does not decode, named e.g.
 * "tunnel 5": said on stderr with its version byte. */
void cc_err_record(const char *name, const char *v, size_t len);
/* Parse the options of a subcommand: --json (-j) and --help (-h) are
 * handled here; the rest as getopt_long with longs (NULL-terminated, may be
 * NULL) gives them. Returns the option character, -1 at the end, or '?' for
 * an error (already reported). */
struct option;
int cc_getopt(struct cc *cc, int argc, char **argv, const struct option *longs,
	      const char *usage);
/* A Tunnel or Session ID: decimal 1..65535. */
int cc_parse_id(const char *s, uint16_t *out);
/* "T/S": a Tunnel ID and a Session ID. 0 or -EINVAL. */
int cc_parse_pair(const char *arg, uint16_t *tid, uint16_t *sid);
/* Seconds, with a fraction, more than 0 and at most CC_CTL_MAX_WAIT_S, into
 * milliseconds. 0 or -EINVAL. */
int cc_parse_seconds(const char *s, uint32_t *ms);
/* "3 s", "0.5 s". Returns buf. */
const char *cc_fmt_s(uint32_t ms, char *buf, size_t len);
/* "192.0.2.1", "192.0.2.1:1701", "2001:db8::1" or "[2001:db8::1]:1701"
 * into a (family 4 or 6, port when given). 0 or -EINVAL. */
struct wire_addr;
int cc_parse_addr(const char *s, struct wire_addr *a, bool *has_port);

/* ---- Redis (cc_redis.c) ---- */

/* Connect to cfg.redis (AUTH when a password is set). The time-out is
 * redis_timeout but at least CC_MIN_TIMEOUT_MS: a busy host should not make
 * a one-shot command fail where a worker would merely retry. Returns 0 or
 * -EIO with a message naming the address. */
int cc_redis_connect(struct cc *cc);
void cc_redis_close(struct cc *cc);
/* "<prefix>:<fmt...>" into buf. */
void cc_redis_key(const struct cc *cc, char *buf, size_t len, const char *fmt,
		  ...) __attribute__((format(printf, 4, 5)));
/* One command (argv of NUL-terminated words), its reply or NULL when Redis
 * was lost (said on stderr). An error reply is returned as such. The caller
 * frees it with cc_redis_free. */
struct redisReply *cc_redis_cmd(struct cc *cc, int argc, const char **argv);
void cc_redis_free(struct redisReply *r);
/* 0 for a reply that is not an error; NULL or an error reply is said on
 * stderr and gives -EIO. */
int cc_redis_check(struct cc *cc, const struct redisReply *r);
/* Queue one command of a pipeline (inside a cc_redis_build_fn). */
int cc_redis_append(struct cc *cc, int argc, const char **argv);

/* Pipelines: build(i) queues item i's commands with cc_redis_append and
 * returns how many (0 is fine); done(i, k, reply) sees the reply to item
 * i's k-th command, in order. Items go in rounds of about CC_BATCH commands.
 * An error reply stops the pipeline with -EIO (said on stderr), as does a
 * lost connection; a non-zero return from either callback stops it with
 * that value. */
typedef int cc_redis_build_fn(struct cc *cc, void *arg, size_t i);
typedef int cc_redis_done_fn(void *arg, size_t i, unsigned k,
			     const struct redisReply *r);
int cc_redis_pipeline(struct cc *cc, size_t n, cc_redis_build_fn *build,
		      cc_redis_done_fn *done, void *arg);

/* SCAN every key matching "<prefix>:<pattern>" (the prefix's glob
 * characters escaped); each(key without the prefix and ':'). */
typedef int cc_redis_key_fn(void *arg, const char *key);
int cc_redis_scan(struct cc *cc, const char *pattern, cc_redis_key_fn *each,
		  void *arg);

/* Reply helpers: the string of a string reply (else NULL); an integer
 * reply's value or a decimal string's (else dflt). */
const char *cc_reply_str(const struct redisReply *r, size_t *len);
int64_t cc_reply_int(const struct redisReply *r, int64_t dflt);

/* ---- the cluster model (cc_cluster.c) ---- */

struct cc_shard {
	char owner[CC_ID_MAX];	   /* lease owner, "" = unowned */
	uint64_t epoch;		   /* lease epoch; unowned: last issued */
	int64_t ttl_ms;		   /* lease time left, -1 = no lease */
	char map_owner[CC_ID_MAX]; /* P:shardmap (frontends' routing) */
	unsigned tunnels;	   /* tunnel records in the shard */
	bool unprotected;	   /* owner registered with protected=0 */
};

/* One entry of P:workers or P:frontends and what Redis says about it. */
struct cc_proc {
	char id[CC_ID_MAX];	       /* hash field */
	bool known_format;	       /* value starts with version word 1 */
	char endpoint[CONFIG_STR_MAX]; /* endpoint=: where packets go */
	char control[CONFIG_STR_MAX];  /* control=: worker control socket */
	char listen[CONFIG_ADDR_MAX];  /* listen=: frontend UDP address */
	char host[CONFIG_STR_MAX];     /* host=: worker's host name */
	char version[CC_ID_MAX];       /* version=: build, when recorded */
	int64_t wire;		       /* wire=, -1 = absent */
	int64_t pid;		       /* pid=, -1 = absent */
	int64_t started_s;	       /* started= (unix s), -1 = absent */
	int protected_state;	       /* protected=: 1, 0, -1 = absent */
	bool draining;		       /* draining=1 */
	bool alive;		       /* its alive key exists */
	int64_t alive_ttl_ms;	       /* alive key's time left, -1 = none */
	unsigned shards;	       /* shard leases it holds */
	unsigned tunnels;	       /* tunnel records in those shards */
	uint64_t sessions;	       /* session records of those tunnels */
	int64_t lease_ttl_min_ms;      /* least time left on its leases */
	int64_t loop_lag_ms;	       /* worst loop lag, last 10-20 s; -1 */
	int64_t loop_lag_max_ms;       /* worst since start; -1 = unknown */
};

struct cc_cluster {
	unsigned shard_count;	   /* from the configuration */
	struct cc_shard *shards;   /* shard_count entries */
	struct cc_proc *workers;   /* sorted by ID */
	size_t n_workers;	   /* entries in workers */
	struct cc_proc *frontends; /* sorted by ID */
	size_t n_frontends;	   /* entries in frontends */
	uint16_t *tids;		   /* tunnel records found, sorted */
	size_t n_tids;		   /* entries in tids */
	uint32_t *sessions;	   /* HLEN of each tid's sessions, or NULL */
	uint64_t total_sessions;   /* sum of sessions */
};

#define CC_LOAD_SHARDS	 0x1u /* leases, epochs, shard map */
#define CC_LOAD_PROCS	 0x2u /* workers and frontends, alive keys */
#define CC_LOAD_TUNNELS	 0x4u /* SCAN of tunnel records */
#define CC_LOAD_SESSIONS 0x8u /* HLEN per tunnel (implies TUNNELS) */

/* Read what `what` asks for; per-worker counts are filled when shards and
 * procs (and tunnels, sessions) are loaded. Free with cc_cluster_free even
 * on failure. Returns 0, -EIO or -ENOMEM. */
int cc_cluster_load(struct cc *cc, struct cc_cluster *cl, unsigned what);
void cc_cluster_free(struct cc_cluster *cl);
/* shard(tid) = tid / (65536 / shard_count) (SCHEMA.md). */
unsigned cc_cluster_shard_of(const struct cc_cluster *cl, uint16_t tid);
/* The worker registered as id, or NULL. */
/* Seconds since the process registered started=, -1 when unknown. */
int64_t cc_proc_uptime(const struct cc_proc *p);
const struct cc_proc *cc_cluster_worker(const struct cc_cluster *cl,
					const char *id);
/* Owner and epoch of one shard (GET and PTTL of its lease, else the epoch
 * counter). Returns 0 or -EIO. */
int cc_cluster_lease(struct cc *cc, unsigned shard, struct cc_shard *out);

/* ---- the worker control protocol (cc_ctl.c) ---- */

#define CC_CTL_VERSION	  1	/* control protocol version we speak */
#define CC_CTL_MAX	  512	/* bytes of a request or reply */
#define CC_CTL_ANSWER_MS  3000	/* default wait for a worker's answer */
#define CC_CTL_POLL_MS	  200	/* Redis polled this often while waiting */
#define CC_CTL_MAX_WAIT_S 86400 /* longest --timeout */

/* Monotonic milliseconds; sleeping ms (resumed after a signal). */
uint64_t cc_now_ms(void);
void cc_sleep_ms(uint32_t ms);
/* The worker registered as id (its control endpoint, alive key). 0,
 * -ENOENT (not registered; said), -EIO. */
int cc_ctl_worker(struct cc *cc, const char *id, struct cc_proc *out);
/* The worker whose lease covers shard. 0, -EAGAIN (no lease now; said),
 * -ENOENT, -EIO. */
int cc_ctl_owner(struct cc *cc, unsigned shard, struct cc_proc *out);
/* Ask worker w "<version> <fmt...>" and wait up to timeout_ms. 0 with the
 * words after "1 ok " in reply; -EPROTO with "<code> <text>" after "1 err "
 * in reply (not said: see cc_ctl_say_err); -ETIMEDOUT ("worker w1 did not
 * answer within 3 s"), -ENOENT (no control socket), -EBADMSG or -EIO, said
 * on stderr. */
int cc_ctl_ask(struct cc *cc, const struct cc_proc *w, uint32_t timeout_ms,
	       char *reply, size_t cap, const char *fmt, ...)
	__attribute__((format(printf, 6, 7)));
/* An error reply's code is `code` (not-owner, no-tunnel, ...). */
bool cc_ctl_err_is(const char *reply, const char *code);
/* "clusterctl: worker <id>: <text>" for an error reply. */
void cc_ctl_say_err(const char *worker, const char *reply);
/* The value of key= in a reply; 0 or -ENOENT. The _int form: -1 when
 * absent or not a number. */
int cc_ctl_field(const char *reply, const char *key, char *out, size_t cap);
int64_t cc_ctl_field_int(const char *reply, const char *key);

#endif
