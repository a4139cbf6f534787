/* What the LNS protocol engine (tunnel.c, session.c) needs from the process
 * around it: settings, time-independent callbacks, randomness, and the PPP
 * endpoint each established session is attached to. Tests supply fakes; the
 * worker supplies libuv/Redis-backed ones. */
#ifndef TANDEM_LNS_H
#define TANDEM_LNS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "l2tp_msg.h"
#include "transport.h"

struct tunnel;
struct session;

struct lns_cfg {
	const char *hostname;	   /* our Host Name AVP */
	struct l2tp_secret secret; /* tunnel secret; len 0 = no tunnel auth */
	bool hide_avps; /* hide the AVPs RFC 2661 allows (needs secret) */
	struct transport_cfg tx;    /* windows and retransmission timers */
	uint32_t hello_interval_ms; /* idle time before a HELLO; 0 = never */
	uint32_t hold_ms;	    /* RFC 2661 5.7 state kept after StopCCN */
	uint32_t max_sessions;	    /* per tunnel; more get CDN result 4 */
};

/* The PPP side of a session (pppd on a pty: ppp_pppd.c; a frame counter:
 * ppp_count.c). open: 0, or -errno to refuse the call with a CDN (-ENODEV
 * and other permanent causes: result 5, -EAGAIN/-ENOMEM/-EMFILE/-ENFILE/
 * -ENOSPC/-EBUSY: result 4). close: the session ended. detach (optional,
 * else close): the session lives on in the state store but leaves this
 * process (shard lost, handed off, worker stopping), so what it owns
 * cluster-wide (its PPP addresses) must be kept. */
struct ppp_backend {
	int (*open)(void *ctx, struct session *s);
	void (*close)(void *ctx, struct session *s);
	void (*frame)(void *ctx, struct session *s, const uint8_t *frame,
		      size_t len);
	void (*detach)(void *ctx, struct session *s);
	void *ctx; /* first argument of the callbacks */
};

struct lns_env {
	const struct lns_cfg *cfg;
	struct ppp_backend ppp;
	/* Bytes for the wire, to peer of tunnel t (held by the worker until the
	 * tunnel's checkpoint is written). Valid only during the call. */
	void (*output)(void *ctx, struct tunnel *t, const uint8_t *pkt,
		       size_t len);
	/* A data message (PPP from our side) for the peer of tunnel t: sent
	 * at once, no checkpoint guards it. Valid only during the call; may
	 * be NULL (data is then dropped). */
	void (*output_data)(void *ctx, struct tunnel *t, const uint8_t *pkt,
			    size_t len);
	/* Tunnel or session state changed: it needs a checkpoint. */
	void (*dirty)(void *ctx, struct tunnel *t);
	/* Fill buf with unpredictable bytes (challenges, random vectors). */
	void (*random)(void *ctx, uint8_t *buf, size_t len);
	void *ctx; /* first argument of the callbacks */
};

/* Counters of one tunnel (the worker sums them for clusterctl). */
struct lns_stats {
	uint64_t rx_control;   /* control messages decoded */
	uint64_t rx_data;      /* data messages for an established session */
	uint64_t rx_data_drop; /* data messages with no established session */
	uint64_t rejected
		[L2TP_REJ__COUNT]; /* control messages refused, by reason */
	uint64_t fsm_errors;	   /* messages not valid in the current state */
	uint64_t auth_failures;	   /* wrong or missing challenge response */
	uint64_t sessions_refused; /* ICRQ answered with CDN */
};

#endif
