/* Reliable delivery of one tunnel's control messages, RFC 2661 section 5.8:
 * Ns/Nr, the peer's receive window, retransmission with capped exponential
 * back-off, delayed ZLB acknowledgements, duplicates and out-of-order messages.
 * Pure: the caller passes the time in and asks for the next deadline; packets
 * leave through an output callback so the worker can hold them until their
 * checkpoint is in Redis (DESIGN.md invariants 1 and 2). */
#ifndef TANDEM_TRANSPORT_H
#define TANDEM_TRANSPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "l2tp_header.h"

struct transport_cfg {
	uint16_t our_rws; /* messages we hold out of order (our RWS) */
	uint32_t retransmit_initial_ms; /* first retransmission timeout */
	uint32_t retransmit_max_ms;	/* back-off cap */
	uint32_t max_retries;  /* retransmissions before the peer is dead */
	uint32_t ack_delay_ms; /* wait for a piggyback before sending a ZLB */
};

/* Called for every packet the transport wants on the wire (new messages,
 * retransmissions, ZLBs). The bytes are valid only during the call. */
typedef void (*transport_output_fn)(void *arg, const uint8_t *pkt, size_t len);
/* Called for each control message delivered in sequence (never a ZLB). */
typedef void (*transport_deliver_fn)(void *arg, const uint8_t *pkt, size_t len);

/* One queued message: sent (in flight) or waiting for window space. */
struct transport_msg {
	struct transport_msg *next; /* queue order = Ns order */
	uint16_t ns;		    /* Ns baked into the bytes */
	bool sent;		    /* has been on the wire at least once */
	uint32_t retries;	    /* retransmissions so far */
	uint64_t deadline_ms;	    /* next retransmission, when sent */
	uint32_t timeout_ms;	    /* current back-off step */
	size_t len;		    /* bytes in pkt */
	uint8_t pkt[]; /* the encoded message (Nr patched on send) */
};

/* A message that arrived ahead of sequence, held until the gap fills. */
struct transport_held {
	uint16_t ns;  /* its Ns */
	size_t len;   /* bytes in pkt, 0 = slot empty */
	uint8_t *pkt; /* owned copy */
};

struct transport_stats {
	uint64_t sent;		 /* new messages put on the wire */
	uint64_t retransmitted;	 /* retransmissions */
	uint64_t zlb_sent;	 /* ZLB acknowledgements sent */
	uint64_t delivered;	 /* messages delivered in sequence */
	uint64_t duplicates;	 /* messages received again (re-acknowledged) */
	uint64_t out_of_order;	 /* messages held ahead of sequence */
	uint64_t outside_window; /* messages beyond our window, dropped */
	uint64_t bad_nr;	 /* Nr acknowledging what we never sent */
	uint64_t repaired;	 /* sequence repairs after a takeover */
};

struct transport {
	struct transport_cfg cfg; /* timers and windows */
	uint16_t peer_tunnel_id;  /* tunnel ID written in our headers */
	uint16_t peer_rws; /* the peer's window: max messages in flight */
	uint16_t ns_next;  /* Ns of the next message we queue */
	uint16_t nr;	   /* next Ns expected from the peer */
	uint16_t acked;	   /* oldest Ns the peer has not acknowledged */
	uint16_t nr_sent;  /* the Nr we last put on the wire */
	uint16_t cwnd;	   /* congestion window (RFC 2661 appendix A) */
	uint16_t ssthresh; /* slow start below it, congestion avoidance above */
	uint16_t cwnd_acks; /* acks counted towards the next cwnd step */
	struct transport_msg *head; /* queue, oldest first */
	struct transport_msg *tail; /* last queued */
	unsigned n_queued;	    /* messages in the queue */
	struct transport_held
		*held;	     /* our_rws slots for out-of-order messages */
	bool ack_pending;    /* a ZLB is owed at ack_due_ms */
	uint16_t zlb_sid;    /* Session ID for that ZLB: the peer's ID of the
				session whose message it acknowledges (0 =
				tunnel). RFC 2661 leaves it open; xl2tpd only
				finishes closing a call when its CDN's ack
				names the call. */
	uint64_t ack_due_ms; /* when the owed ZLB goes out */
	bool dead;	     /* max retries exhausted */
	bool repair;	     /* restored from a checkpoint that may be stale:
				trust the peer's view of Ns/Nr (see
				transport_recv) until a message arrives in
				sequence */
	transport_output_fn output;   /* where packets go */
	void *arg;		      /* first argument of the callbacks */
	struct transport_stats stats; /* counters */
};

/* Set up t (caller-owned memory). peer_rws 0 means the RFC default of 4.
 * What goes in flight is min(peer_rws, cwnd): cwnd starts at 1, grows by
 * one per acknowledged message up to ssthresh (= peer_rws at first), then
 * by one per window; a retransmission halves ssthresh and restarts at 1
 * (appendix A), so a burst of replies does not flood a small LAC.
 * Returns 0 or -ENOMEM. Free with transport_free. */
int transport_init(struct transport *t, const struct transport_cfg *cfg,
		   uint16_t peer_tunnel_id, uint16_t peer_rws,
		   transport_output_fn output, void *arg);
void transport_free(struct transport *t);

/* Queue an encoded control message (header included; its Ns and Nr are
 * written here). Sends it at once if the peer's window allows. The bytes are
 * copied. Returns the Ns assigned, or -ENOMEM / -EPIPE (tunnel dead). */
int transport_send(struct transport *t, uint8_t *pkt, size_t len,
		   uint64_t now_ms);

/* Process a received control message (h decoded from pkt). Acknowledges what
 * its Nr covers, then delivers it and any held successors in sequence
 * through `deliver`. A ZLB only acknowledges. */
void transport_recv(struct transport *t, const struct l2tp_header *h,
		    const uint8_t *pkt, size_t len, uint64_t now_ms,
		    transport_deliver_fn deliver, void *deliver_arg);

/* Run timers that are due: retransmissions (marks the tunnel dead after
 * max_retries) and the delayed ZLB. */
void transport_tick(struct transport *t, uint64_t now_ms);

/* Earliest time transport_tick has work, or UINT64_MAX for none. */
uint64_t transport_next_deadline(const struct transport *t);

/* After a takeover: put every unacknowledged message on the wire now and
 * restart its back-off. */
void transport_retransmit_all(struct transport *t, uint64_t now_ms);

/* Send a ZLB now if one is owed (e.g. before the tunnel is freed). */
void transport_flush_ack(struct transport *t);

/* Restore sequence state from a checkpoint: next Ns, expected Nr, oldest
 * unacknowledged Ns. Queue the unacked messages with transport_restore_msg
 * in Ns order afterwards. The checkpoint may be older than what the peer saw
 * (Redis lost its last writes in a failover): until a message arrives in
 * sequence, the transport repairs itself from the peer's Ns and Nr. */
void transport_restore(struct transport *t, uint16_t ns_next, uint16_t nr,
		       uint16_t acked);
int transport_restore_msg(struct transport *t, const uint8_t *pkt, size_t len);

static inline bool transport_idle(const struct transport *t)
{
	return t->n_queued == 0 && !t->ack_pending;
}

#endif
