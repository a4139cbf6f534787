/* The pppd PPP backend: one pppd per established session, on a pty whose
 * master the worker holds. Frames go between the L2TP data channel and the
 * pty in async HDLC framing (lib/hdlc.c), as xl2tpd does; the subscriber's
 * address comes from a cluster-wide pool (statestore/ppp_pool.c), or pppd
 * negotiates it and its ip-up hook reports it (ppp_report.c); either way it
 * is kept in the session record, so a new owner after a takeover starts
 * pppd again with the same addresses. */
#ifndef TANDEM_PPP_PPPD_H
#define TANDEM_PPP_PPPD_H

#include <stdbool.h>
#include <stdint.h>

#include <uv.h>

#include "lns.h"
#include "ppp_handover.h"
#include "ppp_pool.h"
#include "ppp_report.h"
#include "statestore.h"

#define PPP_PPPD_FRAME_MAX 4096 /* longest PPP frame relayed (MRU) */

struct ppp_pppd_cfg {
	char pppd_path[256];	   /* the pppd binary */
	char options_path[256];	   /* given as `file PATH`; "" = none */
	char dev_ppp[64];	   /* checked at start: "/dev/ppp" */
	char handover_prefix[256]; /* hand-over socket name: cluster prefix */
	char handover_id[64];	   /* and worker ID; "" = no hand-over */
	char hook_path[256];	   /* ip-up hook (tandem-ip-up); "" = none */
	bool have_pool;		   /* pool below is set */
	struct ppp_pool pool;	   /* subscriber addresses */
};

/* What the backend needs from the worker. */
struct ppp_pppd_ops {
	/* pppd ended by itself (or could not be started): clear the session
	 * with a CDN carrying result and error (RFC 2661 4.4.2). The backend's
	 * close runs inside this call. */
	void (*hangup)(void *ctx, struct session *s, uint16_t result,
		       uint16_t error);
	/* The session (tid, sid) if this worker holds it now (shard owned,
	 * tunnel alive), else NULL: for the ip-up hook's reports. */
	struct session *(*find)(void *ctx, uint16_t tid, uint16_t sid);
	/* True while tunnel tid's shard is being loaded here: a report for
	 * it is held and applied by ppp_pppd_settled (NULL: never). */
	bool (*unsettled)(void *ctx, uint16_t tid);
	void *ctx;
};

/* Reports held for a loading shard: at most this many, this long. */
#define PPP_PPPD_HELD_MAX 1024
#define PPP_PPPD_HELD_MS  10000

struct ppp_pppd_stats {
	uint64_t running;	 /* pppd processes alive now */
	uint64_t spawned;	 /* pppd processes started */
	uint64_t exited;	 /* pppd processes reaped */
	uint64_t spawn_failed;	 /* openpty or spawn failures */
	uint64_t refused;	 /* opens refused (no /dev/ppp, Redis down) */
	uint64_t hangups;	 /* sessions cleared because pppd ended */
	uint64_t frames_in;	 /* frames written to pppd */
	uint64_t frames_out;	 /* frames read from pppd and sent */
	uint64_t frames_dropped; /* not written (pty full, pppd not up) */
	uint64_t bad_fcs;	 /* HDLC frames from pppd dropped: FCS */
	uint64_t bad_framing;	 /* ... runts, aborts, too long */
	uint64_t pool_allocs;	 /* addresses taken from the pool */
	uint64_t pool_failed;	 /* allocations that failed */
	uint64_t pool_replaced;	 /* given back: pppd negotiated another */
	uint64_t handed;	 /* ptys passed to a successor */
	uint64_t adopted;	 /* ptys taken over from a predecessor */
};

struct ppp_pppd_sess;

struct ppp_pppd {
	uv_loop_t *loop;		/* the worker's loop */
	struct statestore *ss;		/* for the pool */
	struct ppp_pppd_cfg cfg;	/* settings */
	struct ppp_pppd_ops ops;	/* worker callbacks */
	bool usable;			/* /dev/ppp exists */
	struct ppp_pppd_sess *sessions; /* every live per-session state */
	struct ppp_handover ho;		/* ptys handed to us */
	bool ho_on;			/* ho is listening */
	struct ppp_report rep;		/* the ip-up hook's reports */
	struct ppp_report_msg *held;	/* reports waiting for their shard */
	uint64_t *held_at_ms;		/* when each arrived */
	unsigned n_held;		/* entries used */
	bool rep_on;		     /* rep is listening: pppd gets the hook */
	struct ppp_pppd_stats stats; /* counters */
};

/* Prepare b. Logs an error and makes every open fail with -ENODEV when
 * cfg->dev_ppp is missing (the worker still runs the control plane). */
void ppp_pppd_init(struct ppp_pppd *b, uv_loop_t *loop, struct statestore *ss,
		   const struct ppp_pppd_cfg *cfg,
		   const struct ppp_pppd_ops *ops);
/* Close the hand-over and report sockets (sessions are ended by the
 * tunnels). */
void ppp_pppd_free(struct ppp_pppd *b);
/* A backend whose ctx is b. */
struct ppp_backend ppp_pppd_backend(struct ppp_pppd *b);

/* Shard hand-off to a worker on this host (sock: ppp_handover_connect):
 * pass session s's pty so the successor relays for the same pppd. 0, or
 * -errno (not passed: the session's pppd ends as on a takeover). */
int ppp_pppd_handover(struct ppp_pppd *b, int sock, struct session *s);

/* A shard settled (loaded, or its lease confirmed): apply the reports held
 * for it, drop those held longer than PPP_PPPD_HELD_MS. */
void ppp_pppd_settled(struct ppp_pppd *b);

/* The pid of session s's pppd (ours or adopted), or 0 (none). */
int ppp_pppd_session_pid(const struct session *s);

/* The CDN for a pppd that ended by itself with exit status `status` or by
 * signal `signum` (pppd(8) EXIT STATUS; RFC 2661 4.4.2). */
void ppp_pppd_exit_result(int64_t status, int signum, uint16_t *result,
			  uint16_t *error);

#endif
