/* One L2TP session (an incoming call, RFC 2661 section 7.4.2, LNS side): its
 * state machine and the values the LAC reported for it. */
#ifndef TANDEM_SESSION_H
#define TANDEM_SESSION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lns.h"

/* X(name) */
#define SESSION_STATES(X)                                                      \
	X(IDLE)                                                                \
	X(WAIT_CONNECT)                                                        \
	X(ESTABLISHED)                                                         \
	X(CLOSED)

enum session_state {
#define SESSION_X(name) SESSION_##name,
	SESSION_STATES(SESSION_X)
#undef SESSION_X
};

#define SESSION_EVENTS(X)                                                      \
	X(RX_ICRQ_OK)                                                          \
	X(RX_ICRQ_BAD)                                                         \
	X(RX_ICCN_OK)                                                          \
	X(RX_ICCN_BAD)                                                         \
	X(RX_CDN)                                                              \
	X(LOCAL_CLOSE)                                                         \
	X(TUNNEL_DOWN)

enum session_event {
#define SESSION_X(name) SESSION_EV_##name,
	SESSION_EVENTS(SESSION_X)
#undef SESSION_X
};

struct session {
	struct session *next;  /* chain in the tunnel's bucket */
	struct tunnel *tunnel; /* owner */
	uint16_t sid;	   /* our Session ID (the peer puts it in headers) */
	uint16_t peer_sid; /* the LAC's Assigned Session ID */
	enum session_state state; /* RFC 2661 7.4.2 */
	uint32_t call_serial;	  /* Call Serial Number from the ICRQ */
	uint32_t bearer_type;	  /* Bearer Type from the ICRQ */
	uint32_t framing_type;	  /* Framing Type from the ICCN */
	uint32_t tx_connect_bps;  /* (Tx) Connect Speed */
	uint32_t rx_connect_bps;  /* Rx Connect Speed (Tx when absent) */
	bool sequencing_required; /* data messages must carry Ns/Nr */
	uint16_t data_nr;	  /* next data Ns expected when sequencing */
	char calling_number[64]; /* Calling Number, NUL-terminated, truncated */
	char called_number[64];	 /* Called Number, NUL-terminated, truncated */
	struct l2tp_accm accm;	 /* last SLI */
	struct l2tp_call_errors call_errors; /* last WEN */
	uint64_t rx_frames;		     /* data frames delivered to PPP */
	uint64_t rx_frames_dropped; /* data frames dropped (sequence, state) */
	uint64_t tx_frames;	    /* data frames sent for PPP */
	uint16_t data_ns;	/* Ns of our next data message (sequencing) */
	uint8_t ppp_family;	/* 0 until PPP has addresses, then 4 */
	uint8_t ppp_local[16];	/* our PPP address, network byte order */
	uint8_t ppp_remote[16]; /* the subscriber's (kept across takeover) */
	void *ppp;		/* PPP backend's per-session state */
	bool dirty;		/* changed since its last checkpoint */
	struct session *dirty_next;   /* the tunnel's dirty list */
	struct session **dirty_pprev; /* what points at us on it */
};

const char *session_state_name(enum session_state s);
const char *session_event_name(enum session_event e);

/* Apply event e: the RFC 2661 7.4.2 table decides the next state. Returns 0,
 * or -EPROTO when (state, event) is not in the table (state unchanged). Logs
 * "old -> new on event" through the caller's log hook when set. */
int session_fsm_step(struct session *s, enum session_event e);

/* Optional hook that sees every transition (for logs and tests). */
extern void (*session_fsm_trace)(const struct session *s,
				 enum session_state from, enum session_state to,
				 enum session_event e);

#endif
