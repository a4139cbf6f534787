/* The worker process: owns shards of the tunnel-ID space through Redis
 * leases, runs the LNS engine for their tunnels, and releases every packet
 * only after the checkpoint it depends on is in Redis (DESIGN.md 1-4). Split
 * over worker.c (tunnels, packets, checkpoints), worker_cluster.c (Redis
 * registration, leases, frontends), worker_zmq.c (ZeroMQ in and out) and
 * worker_ctl.c (the control socket clusterctl talks to). */
#ifndef TANDEM_WORKER_H
#define TANDEM_WORKER_H

#include <stdbool.h>
#include <stdint.h>

#include <uv.h>

#include "config.h"
#include "lns.h"
#include "ppp_count.h"
#include "ppp_pppd.h"
#include "record.h"
#include "statestore.h"
#include "tunnel.h"
#include "wire.h"

#define WORKER_MAX_FRONTENDS 32
#define WORKER_SCCRQ_BUCKETS 4096

/* A packet held until its tunnel's checkpoint is written. */
struct worker_pkt {
	struct worker_pkt *next; /* FIFO order */
	uint16_t len;		 /* bytes in data */
	uint8_t data[];		 /* the L2TP message */
};

/* A tunnel plus what the worker keeps around it. */
struct worker_tunnel {
	struct tunnel t;		    /* protocol state */
	struct worker *w;		    /* owner */
	struct record_peer peer;	    /* LAC address */
	char frontend[WIRE_MAX_ORIGIN + 1]; /* where its packets came from */
	unsigned shard;			    /* shard(t.tid) */
	uv_timer_t timer;		    /* tunnel_next_deadline */
	struct worker_tunnel *sccrq_next;   /* chain by (peer, peer_tid) */
	struct worker_tunnel *dirty_next;   /* chain of tunnels to checkpoint */
	bool dirty;			    /* on the dirty chain */
	bool snapshot;		     /* next checkpoint writes everything */
	bool freeing;		     /* being torn down */
	uint64_t repaired_seen;	     /* t.tx.stats.repaired already logged */
	struct worker_pkt *out_head; /* packets awaiting the checkpoint */
	struct worker_pkt *out_tail;
	/* The tunnel record as last sent to Redis (NULL: unknown), and the
	 * newest checkpoint of this tunnel still waiting for its answer: a
	 * packet whose state Redis has, or is about to have, needs no write
	 * of its own (a ZLB, a retransmission, an answer to a duplicate). */
	uint8_t *last_rec;
	size_t last_rec_len;
	struct worker_ckpt *ckpt_last;
};

struct worker_shard {
	bool owned;	  /* we hold its lease */
	bool acquiring;	  /* an acquire is in flight */
	bool confirming;  /* lease lapsed with tunnels held: their output
			     waits for the re-acquire to say whose they are */
	bool handing;	  /* a hand-off to a successor is in flight */
	uint64_t epoch;	  /* fencing epoch of our lease */
	uint32_t tunnels; /* tunnels we hold in it */
	uint32_t loading; /* Redis replies still due to load it (0 = done) */
	uint64_t load_started_ms; /* when it became ours (takeover timing) */
	/* datagrams for it waiting for its load (or for it to become ours),
	 * oldest first */
	struct worker_parked *park_head, *park_tail;
};

/* A datagram for a tunnel not in memory yet, whose shard is being loaded
 * or may be about to become ours (handed over, taken over). */
struct worker_parked {
	struct worker_parked *next;
	uint64_t at_ms;			  /* when it arrived */
	uint16_t tid;			  /* its tunnel ID */
	struct wire_addr peer;		  /* LAC address */
	char origin[WIRE_MAX_ORIGIN + 1]; /* frontend it came through */
	uint16_t len;			  /* bytes in data */
	uint8_t data[];			  /* the datagram */
};

#define WORKER_PARK_MAX	  65536 /* datagrams parked at most (one per tunnel ID) */
#define WORKER_PARK_BYTES (32u << 20) /* and bytes of them at most */
#define WORKER_LOAD_WINDOW                                                     \
	8			 /* shard loads in flight at once: Redis answers
				 the first while it runs the next */
#define WORKER_PARK_MS	    1500 /* then dropped: the peer retransmits anyway */
#define WORKER_MAX_PEERS    64	 /* other live workers we track */
#define WORKER_DRAIN_MAX_MS 10000 /* a drain that takes longer releases */
#define WORKER_CKPT_BUDGET  4096  /* tunnels checkpointed per iteration */

/* Another live worker, as the last claim round saw it. */
struct worker_peer {
	char id[64];	 /* its worker ID */
	unsigned shards; /* shards it holds */
};

/* A ZeroMQ PUSH socket to one frontend. */
struct worker_frontend {
	char endpoint[WIRE_MAX_ORIGIN + 1]; /* its PULL endpoint */
	void *sock;			    /* PUSH socket */
	bool live;			    /* listed in P:frontends */
	uint8_t *batch;			    /* PACKET_OUT batch being filled */
	struct wire_writer wr;		    /* writer over batch */
	bool open;			    /* wr has a batch begun */
};

struct worker_metrics;

/* The event loop's lag (worker_lag.c). */
struct worker_lag {
	uv_timer_t timer;	    /* due every WORKER_LAG_TICK_MS */
	uint64_t armed_ns;	    /* uv_hrtime() when it was armed */
	uint64_t max_ms;	    /* worst since start */
	uint64_t cur_ms;	    /* worst in the current window */
	uint64_t prev_ms;	    /* worst in the previous window */
	uint64_t window_max_ms;	    /* max(cur_ms, prev_ms): heartbeat */
	uint64_t window_started_ms; /* start of the current window */
};

struct worker_stats {
	uint64_t rx_packets;	   /* datagrams received from frontends */
	uint64_t rx_bad_batches;   /* undecodable ZeroMQ messages */
	uint64_t rx_bad_header;	   /* datagrams with a bad L2TP header */
	uint64_t unknown_tunnel;   /* for tunnels not ours */
	uint64_t tunnels_created;  /* SCCRQs that made a tunnel */
	uint64_t sccrq_duplicate;  /* SCCRQs for a tunnel we already have */
	uint64_t refused_no_redis; /* new tunnels refused while unprotected */
	uint64_t wait_short;	   /* WAITs answered by too few replicas */
	uint64_t refused_no_tid;   /* new tunnels refused: no free tunnel ID */
	uint64_t tx_packets;	   /* datagrams handed to frontends */
	uint64_t tx_dropped;	   /* no frontend could take them */
	uint64_t checkpoints;	   /* tunnel checkpoints written */
	uint64_t ckpt_failed;	   /* checkpoints lost (Redis error) */
	uint64_t fenced;	   /* checkpoints refused: lease lost */
	uint64_t control_msgs;	   /* control messages given to tunnels */
	uint64_t ckpt_rounds;	   /* loop iterations that sent checkpoints:
				     one pipelined Redis round trip each */
	uint64_t parked;	   /* datagrams parked for a loading shard */
	uint64_t park_expired;	   /* parked datagrams dropped unreplayed */
	uint64_t park_duplicates;  /* not parked: a copy of the last one */
	uint64_t takeovers;	   /* shards loaded from another owner */
	uint64_t handoffs;	   /* shards handed to a successor */
	uint64_t lease_renewals;   /* shard leases renewed */
	uint64_t lease_lost;	   /* leases that lapsed while held */
	uint64_t peer_exits;	   /* peers on this host seen exiting,
				      whose liveness we ended */
	uint64_t liveness_lapsed;  /* heartbeats that found our liveness
				      key expired */
	uint64_t rx_deferred;	   /* receive rounds cut short (budget) */
	uint64_t ckpt_deferred;	   /* flushes that left tunnels for the next
				      iteration (budget) */
	uint64_t ckpt_skipped;	   /* packets sent without a write: the
				      record was unchanged */
	uint64_t tx_batches;	   /* PACKET_OUT batches sent */
	uint64_t tx_batches_dropped; /* batches zmq_send refused */
};

struct worker {
	uv_loop_t *loop;
	struct config cfg;		/* current configuration */
	char cfg_path[512];		/* for SIGHUP */
	char id[64];			/* worker ID (lease owner) */
	struct lns_cfg lns;		/* engine settings derived from cfg */
	struct lns_env env;		/* engine callbacks */
	struct ppp_count ppp;		/* PPP backend ppp_backend count */
	struct ppp_pppd pppd;		/* PPP backend ppp_backend pppd */
	struct statestore ss;		/* Redis */
	bool protected_mode;		/* checkpoints are reaching Redis */
	bool wait_degraded;		/* WAIT came back short: not waiting */
	struct worker_round *round;	/* this iteration's WAIT round */
	struct worker_round *wait_next; /* rounds waiting for the WAIT out */
	bool wait_in_flight;		/* a WAIT awaits its answer */
	struct worker_shard *shards;	/* cfg.shard_count entries */
	unsigned shard_size;		/* tunnel IDs per shard */
	struct worker_tunnel **tunnels; /* 65536 slots by our tunnel ID */
	unsigned n_tunnels;		/* tunnels in memory */
	uint16_t next_tid;		/* allocation cursor */
	uint32_t tid_rand;		/* xorshift state for tunnel IDs */
	struct worker_tunnel *sccrq[WORKER_SCCRQ_BUCKETS]; /* by peer + id */
	struct worker_tunnel *dirty_head; /* tunnels to checkpoint (FIFO) */
	struct worker_tunnel *dirty_tail; /* its last entry */
	void *zctx;			  /* ZeroMQ context */
	void *pull;			  /* our PULL socket */
	char endpoint[256];		  /* its bound address */
	uv_poll_t pull_poll;		  /* its fd in the loop */
	void *ctl;			  /* control ROUTER; NULL: closed */
	char control[256];		  /* its bound address */
	uv_poll_t ctl_poll;		  /* its fd in the loop */
	struct worker_frontend fe[WORKER_MAX_FRONTENDS]; /* PUSH sockets */
	unsigned n_fe;					 /* entries used */
	uv_check_t flush;	   /* after I/O: checkpoint, send */
	uv_prepare_t flush_timers; /* before blocking: what timers produced */
	uv_timer_t lease_timer;	   /* renew leases, refresh registration */
	uv_timer_t claim_timer;	   /* a watch timed to a peer's expiry */
	uv_timer_t stats_timer;	   /* periodic counters */
	uv_signal_t sig_term, sig_int, sig_hup;
	bool stopping;		    /* shutting down (after any drain) */
	bool draining;		    /* handing every shard to successors */
	int64_t started_unix;	    /* start time (registration: uptime) */
	uint64_t drain_deadline_ms; /* give up handing off after this */
	bool claim_in_flight;	    /* a claim round awaits its reply */
	uint64_t last_claim_ms;	    /* when the last one was sent */
	bool watch_in_flight;	    /* a watch awaits its reply */
	bool claim_again;	    /* another claim round once this one
				       answers (a peer ended meanwhile) */
	struct worker_peerwatch *peerwatch; /* peers on this host
					       (worker_peerwatch.c) */
	uint64_t claim_gen;    /* P:gen as of our last claim round */
	bool legacy_leases;    /* an older build renews each lease: ours
				       get a TTL and are renewed too */
	unsigned lease_ticks;  /* lease_timer ticks so far */
	struct worker_lag lag; /* event-loop lag (worker_lag.c) */
	uv_idle_t pull_more;   /* receive budget spent: go on next
				       iteration (worker_zmq.c) */
	uv_idle_t flush_more;  /* checkpoint budget spent: go on next
				       iteration (worker_flush) */
	struct worker_peer peers[WORKER_MAX_PEERS]; /* other live workers */
	unsigned n_peers;
	unsigned handoffs_pending; /* hand-offs awaiting their reply */
	size_t park_bytes;	   /* what the parked datagrams hold */
	/* by tunnel ID, the last datagram parked for it: a retransmission of
	 * it is not parked twice */
	struct worker_parked **park_last;
	/* shard loads waiting for a place in the window, oldest first */
	struct worker_load *load_head, *load_tail;
	unsigned loads_in_flight;
	unsigned n_parked;
	bool replay_due; /* a shard finished loading: replay what is parked */
	unsigned releases_pending;	/* lease releases in flight at stop */
	struct worker_stats stats;	/* counters */
	struct worker_metrics *metrics; /* worker_metrics.c; NULL: off */
};

/* worker.c */
int worker_init(struct worker *w, uv_loop_t *loop, const char *cfg_path,
		const struct config *cfg, const char *id);
void worker_packet(struct worker *w, const char *origin,
		   const struct wire_packet *p);
void worker_flush(struct worker *w);
int worker_adopt(struct worker *w, uint16_t tid, const uint8_t *rec, size_t len,
		 const struct statestore_blob *sessions, size_t n);
void worker_drop_shard(struct worker *w, unsigned shard, const char *why);
void worker_snapshot_shard(struct worker *w, unsigned shard);
/* Our lease on a shard is no longer what Redis holds (renewal refused, a
 * checkpoint fenced, Redis back after an outage): hold the shard's output
 * and ask for the lease again; worker_cluster.c decides what survives. */
void worker_lease_lapsed(struct worker *w, unsigned shard, const char *why);
void worker_stop(struct worker *w);
/* SIGTERM: hand every shard to a successor, then stop (worker_stop). */
void worker_drain(struct worker *w);
void worker_replay_parked(struct worker *w);
/* While WAIT is short of replicas: ask ROLE whether they are back. */
void worker_wait_probe(struct worker *w);
void worker_free_shard_tunnels(struct worker *w, unsigned shard);
void worker_log_stats(const struct worker *w, enum log_level level);
/* After the engine ran on wt outside a packet or its timer (a control
 * request): re-arm its timer, or delete a tunnel that died. */
void worker_tunnel_after(struct worker *w, struct worker_tunnel *wt);

/* worker_ppp.c: the PPP backend ppp_backend names (0, or -EINVAL for a
 * bad ppp_pool), and the engine's output_data (data messages from pppd). */
int worker_ppp_init(struct worker *w, struct ppp_backend *out);
void worker_ppp_output_data(void *ctx, struct tunnel *t, const uint8_t *pkt,
			    size_t len);
/* Shard handed to `to`: when it runs on this host, pass it the ptys of the
 * shard's pppds so their sessions do not renegotiate PPP. */
void worker_ppp_handoff(struct worker *w, unsigned shard, const char *to);

/* worker_lag.c: measure the loop's lag from start to stop. */
void worker_lag_start(struct worker *w);
void worker_lag_stop(struct worker *w);

/* worker_ppp.c: shard is settled (loaded, or its lease confirmed): apply
 * the ip-up reports held while it was not. */
void worker_ppp_settled(struct worker *w, unsigned shard);

/* worker_cluster.c */
void worker_cluster_start(struct worker *w);
void worker_cluster_up(void *ctx);
void worker_cluster_down(void *ctx);
/* A claim round now (rate-limited): a datagram arrived for a shard that
 * may have just been handed to us. */
void worker_claim_soon(struct worker *w);
/* A claim round now, or right after the one in flight (which may have run
 * before what we just learned). */
void worker_claim_again(struct worker *w);
void worker_cluster_drain(struct worker *w);
void worker_cluster_stop(struct worker *w);
/* Shards whose lease we hold. */
unsigned worker_owned(const struct worker *w);
/* Hand one owned shard to the live peer `to` (clusterctl move): 0,
 * -ENOENT when `to` is not a live peer, -EAGAIN or -EIO (not queued). */
int worker_move_shard(struct worker *w, unsigned shard, const char *to);

/* worker_peerwatch.c: exits of peer workers on this host, seen at once
 * (pidfd) rather than at their lease expiry. Refreshed from P:workers after
 * every claim round; stopped with the cluster. */
void worker_peerwatch_refresh(struct worker *w);
void worker_peerwatch_stop(struct worker *w);

/* worker_zmq.c */
int worker_zmq_init(struct worker *w);
void worker_zmq_send(struct worker *w, const char *frontend,
		     const struct wire_addr *peer, const uint8_t *pkt,
		     size_t len);
void worker_zmq_flush(struct worker *w);
void worker_zmq_frontend_seen(struct worker *w, const char *endpoint,
			      bool live);
void worker_zmq_close(struct worker *w);

/* worker_ctl.c: bound at start-up (after worker_zmq_init: it shares the
 * context), closed before the context is. */
int worker_ctl_init(struct worker *w);
void worker_ctl_close(struct worker *w);

#endif
