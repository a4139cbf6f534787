/* Binary checkpoint records of tunnels and sessions (statestore/SCHEMA.md):
 * encoded field by field with a leading format version, decoded with bounds
 * checks and no trailing bytes. A decoded tunnel can be rebuilt in memory by a
 * new owner (takeover) with record_tunnel_restore. */
#ifndef TANDEM_RECORD_H
#define TANDEM_RECORD_H

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

#endif
