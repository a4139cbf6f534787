/* One L2TP tunnel (control connection) on the LNS side, RFC 2661 section
 * 7.2.1: its state machine, the handling of every control message, the
 * sessions it carries and the data messages addressed to them. */
#ifndef TANDEM_TUNNEL_H
#define TANDEM_TUNNEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lns.h"
#include "session.h"
#include "transport.h"

/* X(name) */
#define TUNNEL_STATES(X)                                                       \
	X(IDLE)                                                                \
	X(WAIT_CTL_CONN)                                                       \
	X(ESTABLISHED)                                                         \
	X(CLOSING)                                                             \
	X(HOLD)                                                                \
	X(DEAD)

enum tunnel_state {
#define TUNNEL_X(name) TUNNEL_##name,
	TUNNEL_STATES(TUNNEL_X)
#undef TUNNEL_X
};

#define TUNNEL_EVENTS(X)                                                       \
	X(RX_SCCRQ_OK)                                                         \
	X(RX_SCCRQ_BAD)                                                        \
	X(RX_SCCCN_OK)                                                         \
	X(RX_SCCCN_BAD)                                                        \
	X(RX_STOPCCN)                                                          \
	X(LOCAL_CLOSE)                                                         \
	X(STOPCCN_ACKED)                                                       \
	X(HOLD_EXPIRED)                                                        \
	X(PEER_DEAD)

enum tunnel_event {
#define TUNNEL_X(name) TUNNEL_EV_##name,
	TUNNEL_EVENTS(TUNNEL_X)
#undef TUNNEL_X
};

/* The session table grows with the calls (a LAC may put thousands in one
 * tunnel): lookups stay O(1), chains at most 2 long on average. */
#define TUNNEL_SESSION_BUCKETS_MIN 16
#define TUNNEL_SESSION_BUCKETS_MAX 32768
#define TUNNEL_NAME_MAX		   64

struct tunnel {
	uint16_t tid;		 /* our Tunnel ID (inside one of our shards) */
	uint16_t peer_tid;	 /* the LAC's Assigned Tunnel ID */
	enum tunnel_state state; /* RFC 2661 7.2.1 */
	const struct lns_env *env;	     /* settings and callbacks */
	struct transport tx;		     /* Ns/Nr, window, retransmission */
	char peer_hostname[TUNNEL_NAME_MAX]; /* Host Name AVP, truncated */
	char peer_vendor[TUNNEL_NAME_MAX];   /* Vendor Name AVP, truncated */
	uint32_t peer_framing_caps;	     /* Framing Capabilities */
	uint32_t peer_bearer_caps;	     /* Bearer Capabilities */
	uint16_t peer_firmware;		     /* Firmware Revision */
	bool has_tie_breaker;	  /* the SCCRQ carried a Tie Breaker */
	uint64_t tie_breaker;	  /* its value (kept for duplicate checks) */
	uint8_t challenge[16];	  /* our challenge in SCCRP (tunnel auth) */
	bool auth_pending;	  /* SCCCN must answer our challenge */
	uint64_t last_rx_ms;	  /* last control message from the peer */
	uint64_t hold_until_ms;	  /* HOLD ends (RFC 2661 5.7) */
	uint16_t close_result;	  /* result code that ended the tunnel */
	uint16_t close_error;	  /* its error code */
	struct session **buckets; /* sessions by sid, n_buckets chains */
	unsigned n_buckets;	  /* a power of two, 0 until the first call */
	unsigned n_sessions;	  /* sessions in buckets */
	struct session *dirty_sessions; /* changed since the last checkpoint */
	unsigned n_dirty;		/* sessions on that list */
	uint16_t next_sid;	/* where Session ID allocation resumes */
	uint16_t *ended;	/* sessions ended since the last checkpoint */
	unsigned n_ended;	/* entries used in ended */
	unsigned cap_ended;	/* entries allocated */
	struct lns_stats stats; /* counters */
	void *owner;		/* the worker's per-tunnel record */
};

const char *tunnel_state_name(enum tunnel_state s);
const char *tunnel_event_name(enum tunnel_event e);

/* Apply event e per the RFC 2661 7.2.1 table. 0, or -EPROTO (unchanged). */
int tunnel_fsm_step(struct tunnel *t, enum tunnel_event e);
extern void (*tunnel_fsm_trace)(const struct tunnel *t, enum tunnel_state from,
				enum tunnel_state to, enum tunnel_event e);

/* A new tunnel in IDLE with our Tunnel ID tid; the first message it gets is
 * the peer's SCCRQ. Returns 0 or -ENOMEM. */
int tunnel_init(struct tunnel *t, const struct lns_env *env, uint16_t tid,
		uint64_t now_ms);
/* Frees sessions (closing their PPP endpoints) and queued messages. */
void tunnel_free(struct tunnel *t);
/* After a takeover (record_*_restore): give every established session a
 * PPP endpoint again; one that cannot have it is cleared with a CDN. */
void tunnel_reattach(struct tunnel *t, uint64_t now_ms);

/* A control message (decoded header h) from the peer. */
void tunnel_rx_control(struct tunnel *t, const struct l2tp_header *h,
		       const uint8_t *pkt, size_t len, uint64_t now_ms);
/* A data message for one of this tunnel's sessions. */
void tunnel_rx_data(struct tunnel *t, const struct l2tp_header *h,
		    const uint8_t *pkt, size_t len);

/* Clear the tunnel with StopCCN (result, error, optional message). */
void tunnel_close(struct tunnel *t, uint16_t result, uint16_t error,
		  const char *message, uint64_t now_ms);
/* Clear one session with CDN. */
void tunnel_session_close(struct tunnel *t, struct session *s, uint16_t result,
			  uint16_t error, uint64_t now_ms);

/* A PPP frame from our side (pppd) as a data message on session s, through
 * env->output_data at once. 0, or -ENOTCONN (tunnel or session not
 * established), -EMSGSIZE, -ENOTSUP (no output_data). */
int tunnel_send_data(struct tunnel *t, struct session *s, const uint8_t *frame,
		     size_t len);
/* Something outside the engine changed session s (its PPP addresses): it
 * goes into the next checkpoint. */
void tunnel_session_changed(struct tunnel *t, struct session *s);

void tunnel_tick(struct tunnel *t, uint64_t now_ms);
uint64_t tunnel_next_deadline(const struct tunnel *t);

struct session *tunnel_session_find(const struct tunnel *t, uint16_t sid);
/* Insert a session with our Session ID sid (restoring a checkpoint). NULL
 * when sid is 0 or taken, or on allocation failure. */
struct session *tunnel_session_add(struct tunnel *t, uint16_t sid);
/* The session's changes are in a checkpoint: off the dirty list. */
void tunnel_session_clean(struct tunnel *t, struct session *s);

static inline bool tunnel_is_dead(const struct tunnel *t)
{
	return t->state == TUNNEL_DEAD;
}

#endif
