/* One L2TP tunnel on the LAC side with its incoming calls (RFC 2661 sections
 * 5, 6, 7.2.1 and 7.4.1): SCCRQ/SCCRP/SCCCN with tunnel authentication,
 * ICRQ/ICRP/ICCN, CDN and StopCCN both ways, HELLO. Pure like the LNS engine:
 * time is passed in, packets leave through env->output, reliable delivery is
 * workers/transport.c. */
#ifndef TANDEM_LAC_TUNNEL_H
#define TANDEM_LAC_TUNNEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "l2tp_msg.h"
#include "lac_why.h"
#include "transport.h"

/* Control connection, initiator side (RFC 2661 7.2.1). WAIT_SCCCN_ACK is
 * 7.2.1's "established" until the LNS acknowledges our SCCCN: we place no
 * call before, so a refused SCCCN (bad Challenge Response) costs none. */
#define LAC_TUNNEL_STATES(X)                                                   \
	X(IDLE)                                                                \
	X(WAIT_CTL_REPLY)                                                      \
	X(WAIT_SCCCN_ACK)                                                      \
	X(ESTABLISHED)                                                         \
	X(CLOSING)                                                             \
	X(HOLD)                                                                \
	X(DEAD)

enum lac_tunnel_state {
#define LAC_X(name) LAC_TUNNEL_##name,
	LAC_TUNNEL_STATES(LAC_X)
#undef LAC_X
};

#define LAC_TUNNEL_EVENTS(X)                                                   \
	X(OPEN)                                                                \
	X(RX_SCCRP_OK)                                                         \
	X(RX_SCCRP_BAD)                                                        \
	X(SCCCN_ACKED)                                                         \
	X(RX_STOPCCN)                                                          \
	X(LOCAL_CLOSE)                                                         \
	X(STOPCCN_ACKED)                                                       \
	X(HOLD_EXPIRED)                                                        \
	X(PEER_DEAD)

enum lac_tunnel_event {
#define LAC_X(name) LAC_TUNNEL_EV_##name,
	LAC_TUNNEL_EVENTS(LAC_X)
#undef LAC_X
};

/* Incoming call, LAC side (RFC 2661 7.4.1). WAIT_ICCN_ACK is 7.4.1's
 * "established" until our ICCN is acknowledged: the setup latency we report
 * runs from ICRQ sent to that acknowledgement. */
#define LAC_SESSION_STATES(X)                                                  \
	X(IDLE)                                                                \
	X(WAIT_REPLY)                                                          \
	X(WAIT_ICCN_ACK)                                                       \
	X(ESTABLISHED)

enum lac_session_state {
#define LAC_X(name) LAC_SESSION_##name,
	LAC_SESSION_STATES(LAC_X)
#undef LAC_X
};

#define LAC_SESSION_EVENTS(X)                                                  \
	X(OPEN)                                                                \
	X(RX_ICRP_OK)                                                          \
	X(RX_ICRP_BAD)                                                         \
	X(ICCN_ACKED)                                                          \
	X(RX_CDN)                                                              \
	X(LOCAL_CLOSE)                                                         \
	X(TUNNEL_DOWN)

enum lac_session_event {
#define LAC_X(name) LAC_SESSION_EV_##name,
	LAC_SESSION_EVENTS(LAC_X)
#undef LAC_X
};

struct lac_tunnel;

/* One call slot of a tunnel; reused for the next call when it ends. */
struct lac_session {
	struct lac_session *prev;  /* in the tunnel's setup or up list */
	struct lac_session *next;  /* in the tunnel's setup or up list */
	struct lac_session *qnext; /* the driver's queue of calls to place */
	struct lac_tunnel *tunnel; /* owner */
	uint64_t deadline_ms;	   /* setup timeout, or end of hold when up */
	uint64_t started_ns;	   /* the driver's clock when ICRQ was sent */
	uint16_t sid;		   /* our Session ID, 0 while IDLE */
	uint16_t peer_sid; /* the LNS's Assigned Session ID, 0 until ICRP */
	uint16_t gen;	   /* calls placed on this slot so far */
	uint16_t iccn_ns;  /* Ns of our ICCN (up once acknowledged) */
	uint8_t state;	   /* enum lac_session_state */
	uint8_t list;	   /* LAC_LIST_NONE / _SETUP / _UP */
	bool queued;	   /* on the driver's queue */
};

/* Sessions of one tunnel ordered by deadline. Every session in a list has the
 * same timeout added to the time it entered, so appending keeps the order. */
struct lac_session_list {
	struct lac_session *head; /* oldest, earliest deadline */
	struct lac_session *tail; /* newest */
	unsigned n;		  /* entries */
};

enum { LAC_LIST_NONE, LAC_LIST_SETUP, LAC_LIST_UP };

struct lac_cfg {
	const char *hostname;	   /* our Host Name AVP */
	struct l2tp_secret secret; /* tunnel secret; len 0 = no tunnel auth */
	bool hide_avps;	 /* hide every AVP RFC 2661 allows (needs secret) */
	bool hide_sccrq; /* ... in SCCRQ too (the LNS may not know yet
				       which secret applies; xl2tpd does not) */
	struct transport_cfg tx;    /* our window and retransmission timers */
	uint32_t hello_interval_ms; /* idle time before a HELLO; 0 = never */
	uint32_t stop_hold_ms;	    /* RFC 2661 5.7 state kept after StopCCN */
	uint32_t setup_timeout_ms;  /* SCCRQ to SCCCN acked, else StopCCN, and
				       ICRQ to ICCN acked, else CDN; 0 = none */
	uint32_t session_hold_ms; /* an up session is closed after; 0 = never */
	uint16_t sessions;	  /* call slots per tunnel */
};

struct lac_env {
	const struct lac_cfg *cfg; /* settings */
	/* Bytes for the wire to the LNS of t; valid only during the call. */
	void (*output)(void *ctx, struct lac_tunnel *t, const uint8_t *pkt,
		       size_t len);
	/* Fill buf with unpredictable bytes (challenges, random vectors). */
	void (*random)(void *ctx, uint8_t *buf, size_t len);
	/* Our SCCCN was acknowledged: calls may be placed. */
	void (*tunnel_up)(void *ctx, struct lac_tunnel *t);
	/* The tunnel left the live states (once per open): was_up says whether
	 * tunnel_up had been called; code is the StopCCN result for STOPCCN. */
	void (*tunnel_down)(void *ctx, struct lac_tunnel *t, bool was_up,
			    enum lac_why why, uint16_t code);
	/* Our ICCN was acknowledged. */
	void (*session_up)(void *ctx, struct lac_tunnel *t,
			   struct lac_session *s);
	/* The call ended (once per placed call); its slot is IDLE again when
	 * this runs. code is the CDN result for CDN. */
	void (*session_down)(void *ctx, struct lac_tunnel *t,
			     struct lac_session *s, bool was_up,
			     enum lac_why why, uint16_t code);
	void *ctx; /* first argument of the callbacks */
};

struct lac_tunnel_stats {
	uint64_t rx_control;	/* control messages delivered in sequence */
	uint64_t rx_rejected;	/* control messages the codec refused */
	uint64_t rx_unexpected; /* messages not valid in their state */
	uint64_t hello_sent;	/* HELLOs we sent */
	uint64_t hello_rx;	/* HELLOs the LNS sent */
	uint64_t sli_rx;	/* Set-Link-Info from the LNS */
	uint64_t icrp_rx;	/* ICRPs accepted (calls answered) */
	uint64_t send_errors;	/* messages we could not encode or queue */
};

#define LAC_TUNNEL_NAME_MAX 64

struct lac_tunnel {
	uint16_t tid;	   /* our Tunnel ID */
	uint16_t peer_tid; /* the LNS's Assigned Tunnel ID, 0 until SCCRP */
	enum lac_tunnel_state state; /* RFC 2661 7.2.1 */
	const struct lac_env *env;   /* settings and callbacks */
	struct transport tx;	     /* Ns/Nr, window, retransmission */
	uint8_t challenge[16];	/* our Challenge in SCCRQ (with a secret) */
	uint16_t scccn_ns;	/* Ns of our SCCCN */
	uint64_t now_ms;	/* time of the call being handled */
	uint64_t last_rx_ms;	/* last message from the LNS (HELLO timer) */
	uint64_t hold_until_ms; /* end of the 5.7 hold */
	uint64_t setup_deadline_ms;    /* must be ESTABLISHED by then */
	bool stop_received;	       /* the LNS sent StopCCN */
	uint16_t stop_result;	       /* its result code */
	uint16_t stop_error;	       /* its error code */
	bool stop_sent;		       /* we sent StopCCN */
	bool close_acked;	       /* our StopCCN was acknowledged */
	struct lac_session *sessions;  /* cfg->sessions call slots */
	struct lac_session_list setup; /* calls being placed, oldest first */
	struct lac_session_list up;    /* established calls, oldest first */
	uint32_t next_serial;	       /* Call Serial Number of the next ICRQ */
	char peer_hostname[LAC_TUNNEL_NAME_MAX]; /* LNS Host Name, truncated */
	struct lac_tunnel_stats stats;		 /* counters */
	void *owner; /* the driver's per-tunnel record */
};

const char *lac_tunnel_fsm_state_name(enum lac_tunnel_state s);
const char *lac_tunnel_fsm_event_name(enum lac_tunnel_event e);
/* Apply e per the RFC 2661 7.2.1 table; logs old -> new at debug level.
 * 0, or -EPROTO when (state, e) is not in the table (state unchanged). */
int lac_tunnel_fsm_step(struct lac_tunnel *t, enum lac_tunnel_event e);

const char *lac_session_fsm_state_name(enum lac_session_state s);
const char *lac_session_fsm_event_name(enum lac_session_event e);
/* Apply e per the RFC 2661 7.4.1 table; logs old -> new at debug level. */
int lac_session_fsm_step(struct lac_tunnel *t, struct lac_session *s,
			 enum lac_session_event e);

/* A tunnel in IDLE with our Tunnel ID tid (non-zero). Allocates the call slots
 * and the transport. Returns 0 or -ENOMEM; free with lac_tunnel_free. */
int lac_tunnel_init(struct lac_tunnel *t, const struct lac_env *env,
		    uint16_t tid);
void lac_tunnel_free(struct lac_tunnel *t);

/* IDLE -> WAIT_CTL_REPLY: send SCCRQ. 0 or -errno (then nothing was sent). */
int lac_tunnel_open(struct lac_tunnel *t, uint64_t now_ms);

/* A control datagram for this tunnel (header h already decoded). */
void lac_tunnel_rx(struct lac_tunnel *t, const struct l2tp_header *h,
		   const uint8_t *pkt, size_t len, uint64_t now_ms);

/* Place a call on an IDLE slot of an ESTABLISHED tunnel: send ICRQ. 0, or
 * -ENOTCONN (tunnel not established), -EBUSY (slot in use), -errno. */
int lac_tunnel_call(struct lac_tunnel *t, struct lac_session *s,
		    uint64_t now_ms);

/* End of run: CDN (result 3, administrative) for every call in progress, then
 * StopCCN (result 1). Calls end with why LOCAL; the tunnel ends with LOCAL. */
void lac_tunnel_shutdown(struct lac_tunnel *t, uint64_t now_ms);

/* HELLO now (RFC 2661 6.5), through reliable delivery like every message:
 * retransmitted until acknowledged. Returns its Ns, -ENOTCONN (tunnel not
 * established) or -errno. */
int lac_tunnel_hello(struct lac_tunnel *t, uint64_t now_ms);

/* Timers: retransmission and delayed ack, HELLO, call setup timeouts, hold
 * ends, the 5.7 hold. */
void lac_tunnel_tick(struct lac_tunnel *t, uint64_t now_ms);
/* Earliest time lac_tunnel_tick has work, UINT64_MAX for none. */
uint64_t lac_tunnel_next_deadline(const struct lac_tunnel *t);

/* The slot whose current call has our Session ID sid, or NULL. */
struct lac_session *lac_tunnel_session_find(const struct lac_tunnel *t,
					    uint16_t sid);

/* Being set up: SCCRQ sent, SCCCN not acknowledged yet. */
static inline bool lac_tunnel_in_setup(const struct lac_tunnel *t)
{
	return t->state == LAC_TUNNEL_WAIT_CTL_REPLY ||
	       t->state == LAC_TUNNEL_WAIT_SCCCN_ACK;
}

/* Being set up or established: not closing, held or dead. */
static inline bool lac_tunnel_is_live(const struct lac_tunnel *t)
{
	return lac_tunnel_in_setup(t) || t->state == LAC_TUNNEL_ESTABLISHED;
}

/* Nothing more will happen: DEAD, or HOLD after the LNS's StopCCN. */
static inline bool lac_tunnel_finished(const struct lac_tunnel *t)
{
	return t->state == LAC_TUNNEL_DEAD || t->state == LAC_TUNNEL_HOLD;
}

#endif
