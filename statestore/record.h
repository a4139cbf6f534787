/* Binary checkpoint records of tunnels and sessions (statestore/SCHEMA.md):
 * encoded field by field with a leading format version, decoded with bounds
 * checks and no trailing bytes. A decoded tunnel can be rebuilt in memory by a
 * new owner (takeover) with record_tunnel_restore. */
#ifndef TANDEM_RECORD_H
#define TANDEM_RECORD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tunnel.h"
#include "wire.h"

#define RECORD_VERSION	   1
#define RECORD_TUNNEL_MAX  70000 /* fixed part + a full window of messages */
#define RECORD_SESSION_MAX 256

/* The worker's view of a tunnel beyond the protocol engine: where the peer is. */
struct record_peer {
	struct wire_addr addr; /* LAC address and port */
};

/* Encode tunnel t (with its unacked messages) into buf. Returns the length,
 * or -ENOSPC. */
int record_tunnel_encode(const struct tunnel *t, const struct record_peer *peer,
			 uint8_t *buf, size_t cap);
/* Encode one session. Returns the length or -ENOSPC. */
int record_session_encode(const struct session *s, uint8_t *buf, size_t cap);

/* Rebuild tunnel t (tunnel_init'ed by the caller with env and its tid) from a
 * record: state, peer, sequence numbers and unacked messages. Returns 0,
 * -EBADMSG (truncated, trailing bytes, unknown version, tid mismatch) or
 * -ENOMEM. */
int record_tunnel_restore(struct tunnel *t, struct record_peer *peer,
			  const uint8_t *p, size_t len);
/* Rebuild one session of t from its record. Returns 0, -EBADMSG or -ENOMEM. */
int record_session_restore(struct tunnel *t, const uint8_t *p, size_t len);

/* A decoded record, for readers that do not rebuild a tunnel (clusterctl):
 * every stored field as plain data. */
struct record_tunnel_info {
	uint16_t tid;		 /* our Tunnel ID */
	uint16_t peer_tid;	 /* the LAC's Assigned Tunnel ID */
	struct wire_addr peer;	 /* LAC address and port */
	uint8_t state;		 /* enum tunnel_state */
	uint16_t ns_next;	 /* Ns of our next control message */
	uint16_t nr;		 /* next Ns expected from the peer */
	uint16_t acked;		 /* oldest Ns the peer has not acknowledged */
	uint16_t peer_rws;	 /* the peer's Receive Window Size */
	uint16_t our_rws;	 /* ours, when the record was written */
	bool auth_pending;	 /* SCCCN must answer our challenge */
	bool has_tie_breaker;	 /* the SCCRQ carried a Tie Breaker */
	uint64_t tie_breaker;	 /* its value */
	uint8_t challenge[16];	 /* our challenge in SCCRP */
	char peer_hostname[256]; /* Host Name AVP (NUL-terminated) */
	char peer_vendor[256];	 /* Vendor Name AVP (NUL-terminated) */
	uint32_t framing_caps;	 /* Framing Capabilities */
	uint32_t bearer_caps;	 /* Bearer Capabilities */
	uint16_t firmware;	 /* Firmware Revision */
	uint64_t hold_until_ms;	 /* end of HOLD, on the writer's clock */
	uint16_t n_unacked;	 /* sent, unacknowledged messages */
	const uint8_t
		*unacked;   /* their (u16 len | bytes) list, in the record */
	size_t unacked_len; /* bytes of that list */
};

struct record_session_info {
	uint16_t sid;		  /* our Session ID */
	uint16_t peer_sid;	  /* the LAC's Assigned Session ID */
	uint8_t state;		  /* enum session_state */
	uint32_t call_serial;	  /* Call Serial Number */
	uint32_t bearer_type;	  /* Bearer Type */
	uint32_t framing_type;	  /* Framing Type */
	uint32_t tx_bps;	  /* (Tx) Connect Speed */
	uint32_t rx_bps;	  /* Rx Connect Speed */
	bool sequencing_required; /* data messages carry Ns/Nr */
	char calling[256];	  /* Calling Number (NUL-terminated) */
	char called[256];	  /* Called Number (NUL-terminated) */
	uint8_t ppp_family;	  /* 0 until PPP assigns addresses, 4 or 6 */
	uint8_t ppp_local[16];	  /* our PPP address, network byte order */
	uint8_t ppp_remote[16];	  /* the subscriber's PPP address */
};

/* Decode a tunnel record into *ti without rebuilding a tunnel. The unacked
 * list is checked and left in place: ti->unacked points into p, which must
 * outlive ti. Returns 0 or -EBADMSG (truncated, trailing bytes, unknown
 * version or state). */
int record_tunnel_decode(const uint8_t *p, size_t len,
			 struct record_tunnel_info *ti);
/* The next unacked message of a decoded record, oldest first: *off starts at
 * 0 and is advanced. Returns 1 with *msg and *len set, 0 past the last. */
int record_tunnel_unacked_next(const struct record_tunnel_info *ti, size_t *off,
			       const uint8_t **msg, size_t *len);
/* Decode a session record into *si. Returns 0 or -EBADMSG. */
int record_session_decode(const uint8_t *p, size_t len,
			  struct record_session_info *si);

#endif
