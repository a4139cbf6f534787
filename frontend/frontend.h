/* tandem-frontend, the stateless L2TP front door: types and functions of
 * every frontend/ file (each section names its file). Routes each datagram by
 * tunnel ID to the worker owning its shard; sends workers' replies out. */
#ifndef TANDEM_FRONTEND_H
#define TANDEM_FRONTEND_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <uv.h>

#include "config.h"
#include "l2tp_msg.h"
#include "l2tp_reject.h"
#include "log.h"
#include "redis_locate.h"
#include "wire.h"

#define FRONTEND_ID_MAX	      128 /* frontend and worker IDs, NUL included */
#define FRONTEND_ENDPOINT_MAX (WIRE_MAX_ORIGIN + 1) /* ZeroMQ endpoint text */
#define FRONTEND_MAX_WORKERS  256		    /* worker table slots */
#define FRONTEND_ALIVE_TTL_MS 3000  /* P:frontend:<id>:alive lifetime */
#define FRONTEND_TICK_MS      1000  /* registration refresh period */
#define FRONTEND_STATS_MS     10000 /* debug counters period */
#define FRONTEND_SCRATCH_LEN  65536 /* l2tp_msg_decode scratch: any datagram */

/* Why the frontend dropped a datagram. X(name, word, description) */
#define FRONTEND_DROPS(X)                                                      \
	X(MALFORMED, "malformed", "the L2TP codec refused it (see rej_*)")     \
	X(TRUNCATED, "truncated", "larger than the receive buffer")            \
	X(DATA_TID0, "data_tid0", "data message for tunnel ID 0")              \
	X(NO_OWNER, "no_owner", "its shard has no owner in the shard map")     \
	X(NO_WORKER, "no_worker", "the owner's endpoint is unknown or down")   \
	X(ZMQ, "zmq_drop", "zmq_send refused the batch (HWM or not connected)")

enum frontend_drop {
#define FRONTEND_X(name, word, desc) FRONTEND_DROP_##name,
	FRONTEND_DROPS(FRONTEND_X)
#undef FRONTEND_X
		FRONTEND_DROP__COUNT
};

/* "no_owner" etc.; "?" past the end (frontend.c). */
const char *frontend_drop_name(enum frontend_drop d);

/* Files: frontend.c (lifecycle, signals, counters), frontend_map.c (shard map
 * and worker table, no I/O), frontend_route.c (one datagram to one worker),
 * frontend_udp.c (socket, recvmmsg in, sendmmsg out), frontend_zmq.c (PULL
 * in, PUSH per worker), frontend_redis.c (map, events, registration). */

/* ---- frontend_map.c: shard map and worker table (no I/O) ---- */

/* A worker named by the shard map or listed in P:workers. */
struct frontend_worker {
	bool in_use;		  /* slot holds a worker */
	char id[FRONTEND_ID_MAX]; /* worker ID */
	char endpoint
		[FRONTEND_ENDPOINT_MAX]; /* its PULL endpoint, "" unknown */
	unsigned wire;			 /* wire version it announced */
	bool listed;			 /* in P:workers, not announced down */
	bool stale;	 /* listed, but absent from the last P:workers read */
	uint32_t shards; /* shards naming it as owner */
	void *push;	 /* ZeroMQ PUSH socket or NULL */
	char push_endpoint[FRONTEND_ENDPOINT_MAX]; /* what push connects to */
	uint8_t *batch;	       /* PACKET_IN batch being filled */
	struct wire_writer wr; /* writer over batch */
	bool open;	       /* wr has a batch begun */
	uint64_t sent;	       /* datagrams handed to zmq_send */
	uint64_t dropped;      /* datagrams zmq_send refused */
};

/* One shard's owner as last learnt. */
struct frontend_shard {
	int32_t worker; /* index in workers[], -1 = no owner */
	uint64_t epoch; /* fencing epoch of that ownership */
	bool released;	/* the owner released it at that epoch */
};

/* Called when a worker's reachability (listed, endpoint) changed or its slot
 * is being freed (in_use false): the ZeroMQ side reconciles its socket. */
typedef void frontend_map_hook(void *arg, struct frontend_worker *w);

struct frontend_map {
	unsigned shard_count;		 /* power of two */
	uint32_t ids_per_shard;		 /* 65536 / shard_count */
	struct frontend_shard *shards;	 /* shard_count entries */
	struct frontend_worker *workers; /* FRONTEND_MAX_WORKERS slots */
	frontend_map_hook *hook;	 /* may be NULL */
	void *hook_arg;			 /* its argument */
};

/* What one P:events message says. */
enum frontend_event_kind {
	FRONTEND_EVENT_SHARD,	 /* shard owner changed */
	FRONTEND_EVENT_WORKER,	 /* worker up or down */
	FRONTEND_EVENT_FRONTEND, /* a frontend up or down (ignored) */
};

struct frontend_event {
	enum frontend_event_kind kind; /* which of the forms below */
	unsigned shard;		       /* SHARD */
	char owner[FRONTEND_ID_MAX];   /* SHARD: worker ID, "" = released */
	uint64_t epoch;		       /* SHARD */
	char id[FRONTEND_ID_MAX];      /* WORKER, FRONTEND */
	bool up;		       /* WORKER, FRONTEND */
};

/* Allocate the tables. shard_count must be a power of two in 1..65536.
 * Returns 0, -EINVAL or -ENOMEM; frontend_map_free releases. */
int frontend_map_init(struct frontend_map *m, unsigned shard_count,
		      frontend_map_hook *hook, void *hook_arg);
/* Frees the tables; the hook runs for every slot still in use. */
void frontend_map_free(struct frontend_map *m);

/* shard(tid) = tid / (65536 / shard_count) (statestore/SCHEMA.md). */
unsigned frontend_map_shard_of_tid(const struct frontend_map *m, uint16_t tid);
/* 32-bit FNV-1a of family | address (4 or 16 bytes) | port (big-endian) |
 * peer's Assigned Tunnel ID (big-endian): every frontend computes the same
 * value, so a retransmitted SCCRQ reaches the same worker. */
uint32_t frontend_map_peer_hash(const struct wire_addr *peer,
				uint16_t peer_tid);
/* The shard an SCCRQ (tunnel ID 0) is routed by: hash mod shard_count. */
unsigned frontend_map_shard_of_peer(const struct frontend_map *m,
				    const struct wire_addr *peer,
				    uint16_t peer_tid);

/* The shard's owner, or NULL (no owner). */
struct frontend_worker *frontend_map_owner(const struct frontend_map *m,
					   unsigned shard);

/* Copy the value of the word `key=value` in a record (space-separated words
 * after the version word) into out. Returns 0, -ENOENT (absent) or
 * -ENAMETOOLONG (does not fit out). */
int frontend_map_word(const char *rec, const char *key, char *out,
		      size_t outlen);

/* Parse one P:events payload. Returns 0, or -EPROTO for a version other than
 * 1, -EINVAL for anything malformed. */
int frontend_map_event_parse(const char *text, struct frontend_event *ev);

/* An event: applied as it comes (P:events delivers them in the order Redis
 * ran the scripts; epochs restart when Redis loses its data). A snapshot read
 * that raced an event is read again by frontend_redis.c. Returns 1 when the
 * owner changed, 0 when nothing changed, -EINVAL (bad shard), -ENOSPC (worker
 * table full). */
int frontend_map_set_shard(struct frontend_map *m, unsigned shard,
			   const char *owner, uint64_t epoch);
/* HGETALL P:shardmap: every entry read is taken as is (no epoch test: the
 * Redis behind us may be a new one). A shard absent from it (a Redis that
 * lost its data; releases are stored as owner=-) keeps its last owner as the
 * best guess, with epoch 0 so that the next event wins. Returns how many
 * entries were refused. */
size_t frontend_map_load_shards(struct frontend_map *m, size_t n,
				const char *const *fields,
				const char *const *values);
/* HGETALL P:workers: n (id, value) pairs are the listed workers. One absent
 * from it is unlisted, unless it still owns shards (a Redis that lost its
 * data): then it stays reachable, marked stale, until its shards move or it
 * is announced down. Returns how many entries were refused. */
size_t frontend_map_load_workers(struct frontend_map *m, size_t n,
				 const char *const *ids,
				 const char *const *values);
/* `1 worker=<id> down`: unlist it at once. */
void frontend_map_worker_down(struct frontend_map *m, const char *id);

/* Shards with an owner; workers listed. */
unsigned frontend_map_owned(const struct frontend_map *m);
unsigned frontend_map_listed(const struct frontend_map *m);

/* ---- the process ---- */

struct frontend_stats {
	uint64_t rx;			     /* datagrams received */
	uint64_t rx_bytes;		     /* their bytes */
	uint64_t rx_errors;		     /* recvmmsg errors */
	uint64_t routed;		     /* datagrams a worker got */
	uint64_t by_peer_hash;		     /* of those: tunnel ID 0 */
	uint64_t batches;		     /* PACKET_IN batches sent */
	uint64_t drop[FRONTEND_DROP__COUNT]; /* dropped, by reason */
	uint64_t rejected[L2TP_REJ__COUNT];  /* malformed, by codec reason */
	uint64_t out_batches;		     /* PACKET_OUT batches received */
	uint64_t out_bad;		     /* undecodable ZeroMQ messages */
	uint64_t tx;			     /* datagrams sent out */
	uint64_t tx_errors;		     /* refused by the kernel */
	uint64_t tx_dropped;		     /* send buffer full (EAGAIN) */
	uint64_t tx_bad_addr;		     /* peer family the socket lacks */
};

/* A command sent on the Redis command connection, awaiting its reply. */
struct frontend_redis_req;

/* One hiredis async connection with its own reconnect back-off. */
struct frontend_redis_conn {
	struct frontend *fe;	      /* owner */
	struct redisAsyncContext *ac; /* NULL while disconnected */
	const char *name;	      /* "command" or "subscriber" */
	bool connected;		      /* TCP connected */
	bool ready;		      /* subscriber: SUBSCRIBE confirmed */
	bool want;		      /* waits for the primary's address */
	uint64_t started_ms;	      /* when the connect began (loop time) */
	uv_timer_t retry;	      /* reconnect back-off */
	uint32_t retry_ms;	      /* current back-off */
};

/* A snapshot read (HGETALL) and whether an event raced it. */
struct frontend_redis_fetch {
	bool in_flight; /* HGETALL sent, reply pending */
	bool again;	/* an event arrived meanwhile: read again */
};

struct frontend_redis {
	struct frontend_redis_conn cmd;	 /* commands, snapshots, registration */
	struct frontend_redis_conn sub;	 /* SUBSCRIBE P:events */
	struct frontend_redis_req *head; /* oldest unanswered command */
	struct frontend_redis_req *tail; /* newest */
	struct frontend_redis_fetch shards;  /* P:shardmap */
	struct frontend_redis_fetch workers; /* P:workers */
	int state;		    /* -1 unknown, 0 down, 1 up (logged) */
	bool map_loaded;	    /* a shard map was read at least once */
	struct redis_locator where; /* the primary, via Sentinel */
	bool located;		    /* where.primary is fresh */
	uv_timer_t watchdog;	    /* command and connect time-outs */
	uint64_t reconnects;	    /* times the link came up */
	uint64_t events;	    /* P:events messages applied */
	void (*stop_done)(void *);  /* unregister finished */
	void *stop_arg;		    /* its argument */
};

struct frontend {
	uv_loop_t *loop;		      /* the one loop */
	const char *config_path;	      /* for SIGHUP */
	struct config cfg;		      /* live settings */
	char id[FRONTEND_ID_MAX];	      /* --id */
	char endpoint[FRONTEND_ENDPOINT_MAX]; /* our PULL endpoint (resolved) */
	char listen_text[80];		      /* addr:port actually bound */
	int64_t started_unix;		      /* start time (registration) */
	bool stopping;			      /* SIGTERM/SIGINT seen */
	bool finished;			      /* every handle is closing */
	struct l2tp_secret *secret_p;	      /* &secret or NULL (no secret) */
	struct frontend_map map;	      /* shard map, worker table */
	struct frontend_stats stats;	      /* counters */

	/* UDP (frontend_udp.c) */
	uv_udp_t udp;	  /* the L2TP socket */
	int udp_family;	  /* AF_INET or AF_INET6 */
	uint8_t *rxbuf;	  /* recvmmsg chunks */
	size_t rxbuf_len; /* its size */
	uint8_t *scratch; /* l2tp_msg_decode scratch, FRONTEND_SCRATCH_LEN */
	void *txv;	  /* sendmmsg vectors (frontend_udp.c) */

	/* ZeroMQ (frontend_zmq.c) */
	void *zctx;	     /* context */
	void *pull;	     /* PULL socket for PACKET_OUT */
	uv_poll_t pull_poll; /* on its ZMQ_FD */
	uv_idle_t pull_more; /* drain capped: continue next iteration */

	struct frontend_redis redis; /* Redis (frontend_redis.c) */

	/* lifecycle (frontend.c) */
	uv_check_t flush;	   /* end of iteration: send the batches */
	uv_timer_t tick;	   /* registration refresh */
	uv_timer_t stats_timer;	   /* debug counters */
	uv_timer_t stop_timer;	   /* bounded clean stop */
	uv_signal_t sig_term;	   /* SIGTERM */
	uv_signal_t sig_int;	   /* SIGINT */
	uv_signal_t sig_hup;	   /* SIGHUP */
	struct l2tp_secret secret; /* cfg.secret as bytes */
};

/* frontend.c */
/* Start everything on loop. cfg is copied. Returns 0 or -errno (logged). */
int frontend_init(struct frontend *fe, uv_loop_t *loop, const char *path,
		  const struct config *cfg, const char *id);
/* Clean stop: unregister, close every handle; uv_run then returns. */
void frontend_stop(struct frontend *fe);
/* After uv_run returned: free the tables. */
void frontend_free(struct frontend *fe);
/* One key=value line of every counter at level. */
void frontend_log_stats(const struct frontend *fe, enum log_level level);

/* frontend_route.c: one received datagram to a worker's batch (or a drop). */
void frontend_route_datagram(struct frontend *fe, const uint8_t *p, size_t len,
			     const struct wire_addr *peer);
/* "192.0.2.1:1701" or "[2001:db8::1]:1701" into buf; returns buf. */
const char *frontend_route_peer_text(const struct wire_addr *a, char *buf,
				     size_t len);

/* frontend_udp.c */
int frontend_udp_init(struct frontend *fe);
/* Send every datagram of a validated PACKET_OUT batch (sendmmsg). */
void frontend_udp_send_batch(struct frontend *fe, struct wire_reader *r);
void frontend_udp_stop(struct frontend *fe);
void frontend_udp_close(struct frontend *fe);

/* frontend_zmq.c */
int frontend_zmq_init(struct frontend *fe);
/* Map hook: open, reconnect or close w's PUSH socket. */
void frontend_zmq_worker_sync(void *arg, struct frontend_worker *w);
/* Append one datagram to w's PACKET_IN batch (sent now if full). */
void frontend_zmq_queue(struct frontend *fe, struct frontend_worker *w,
			const struct wire_packet *p);
/* Send every open batch (end of a loop iteration). */
void frontend_zmq_flush(struct frontend *fe);
/* Read PACKET_OUT batches while ZMQ_EVENTS says POLLIN (capped). */
void frontend_zmq_drain(struct frontend *fe);
void frontend_zmq_close(struct frontend *fe);

/* frontend_redis.c */
int frontend_redis_init(struct frontend *fe);
/* Refresh P:frontends and the alive key (every FRONTEND_TICK_MS). */
void frontend_redis_tick(struct frontend *fe);
/* Unregister and publish `down`; done runs (from a timer-safe context
 * decided by the caller) once the replies came or at once when Redis is
 * down. */
void frontend_redis_unregister(struct frontend *fe, void (*done)(void *),
			       void *arg);
void frontend_redis_close(struct frontend *fe);

#endif
