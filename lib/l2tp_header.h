/* L2TPv2 header codec (RFC 2661 section 3.1): flags, version, Length, tunnel and
 * session IDs, Ns/Nr and offset padding. Pure: bytes in, struct out. */
#ifndef TANDEM_L2TP_HEADER_H
#define TANDEM_L2TP_HEADER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "l2tp_reject.h"

#define L2TP_CONTROL_HDR_LEN 12	   /* T, L and S set, no offset */
#define L2TP_MAX_HDR_LEN     16	   /* every optional field present */
#define L2TP_MAX_DATAGRAM    65535 /* Length is a 16-bit field */

struct l2tp_header {
	uint16_t
		flags; /* first 16 bits as received: T L x x S x O P x x x x Ver */
	uint8_t version; /* Ver field (always 2 after a successful decode) */
	bool control;	 /* T bit: control message */
	bool has_length; /* L bit */
	bool has_seq;	 /* S bit: ns and nr are valid */
	bool has_offset; /* O bit: offset_size is valid */
	bool priority;	 /* P bit (data messages) */
	uint16_t
		length; /* Length field, or the datagram length when L is clear */
	uint16_t tunnel_id;  /* receiver's tunnel ID */
	uint16_t session_id; /* receiver's session ID, 0 for the tunnel */
	uint16_t ns;	     /* sequence number of this message */
	uint16_t nr; /* next sequence number expected from the receiver */
	uint16_t offset_size; /* bytes of offset padding after the header */
	uint16_t
		payload_off; /* where AVPs (control) or the PPP frame (data) begin */
	uint16_t
		payload_len; /* bytes from payload_off to the end of the message */
};

/* Decode the header of one datagram. Returns 0, or -EBADMSG with *rej filled (rej may be NULL)
 * (scope DROP: RFC 2661 gives no answer to a packet whose header is bad). */
int l2tp_header_decode(const uint8_t *p, size_t len, struct l2tp_header *h,
		       struct l2tp_reject *rej);

/* Options for l2tp_header_encode_data; zero-initialised = no optional field. */
struct l2tp_data_opts {
	bool with_length; /* set L and the Length field */
	bool with_seq;	  /* set S and the ns/nr fields */
	bool priority;	  /* set P */
	uint16_t ns, nr;  /* with_seq only */
	bool with_offset; /* set O and the Offset Size field */
	uint16_t
		offset_size; /* zero bytes of padding written after the header */
};

/* Write a data message header for a payload of payload_len bytes into buf.
 * Returns the header length (including offset padding) or -ENOSPC when cap is
 * too small, -EMSGSIZE when header + payload exceeds 65535 bytes. */
int l2tp_header_encode_data(uint8_t *buf, size_t cap, uint16_t tunnel_id,
			    uint16_t session_id, const struct l2tp_data_opts *o,
			    size_t payload_len);

/* Cheap look at a datagram for routing (frontend): tunnel ID and T bit. Returns
 * 0 or -EBADMSG when the datagram cannot hold the fields (no other check). */
int l2tp_header_peek(const uint8_t *p, size_t len, uint16_t *tunnel_id,
		     bool *control);

#endif
