/* L2TPv2 control messages (RFC 2661 sections 3.2, 4 and 6): one typed struct for
 * every message, decoded from and encoded to wire bytes from the AVP table in
 * l2tp_avp.c and the per-message spec in l2tp_spec.c. Pure: no I/O, no logging,
 * no allocation. */
#ifndef TANDEM_L2TP_MSG_H
#define TANDEM_L2TP_MSG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "l2tp_const.h"
#include "l2tp_header.h"
#include "l2tp_reject.h"

#define L2TP_MAX_VENDOR_AVPS	    8 /* vendor AVPs kept per message (rest counted) */
#define L2TP_AVP_MAX_VALUE	    1017 /* 10-bit AVP length minus the 6-byte header */
#define L2TP_CHALLENGE_RESPONSE_LEN 16

/* A byte string inside the datagram or the caller's scratch buffer: valid as
 * long as both are. Not NUL-terminated. */
struct l2tp_bytes {
	const uint8_t *p; /* first byte, NULL when len is 0 */
	uint16_t len;	  /* number of bytes */
};

struct l2tp_result_code {
	uint16_t result; /* StopCCN or CDN result code */
	bool has_error;	 /* error field present (value length >= 4) */
	uint16_t error;	 /* general error code, when has_error */
	struct l2tp_bytes
		message; /* optional error message (needs has_error) */
};

struct l2tp_q931_cause {
	uint16_t cause;		    /* Q.931 cause code */
	uint8_t msg;		    /* Q.931 message code */
	struct l2tp_bytes advisory; /* optional advisory message */
};

struct l2tp_call_errors {
	uint32_t crc_errors;	    /* CRC errors */
	uint32_t framing_errors;    /* framing errors */
	uint32_t hardware_overruns; /* hardware overruns */
	uint32_t buffer_overruns;   /* buffer overruns */
	uint32_t timeout_errors;    /* time-out errors */
	uint32_t alignment_errors;  /* alignment errors */
};

struct l2tp_accm {
	uint32_t send; /* send ACCM */
	uint32_t recv; /* receive ACCM */
};

struct l2tp_vendor_avp {
	uint16_t vendor; /* SMI network management private enterprise code */
	uint16_t type;	 /* vendor's attribute type */
	bool mandatory;	 /* M bit (always false: an M vendor AVP rejects) */
	bool hidden;	 /* was hidden on the wire (value is unhidden) */
	struct l2tp_bytes value; /* opaque value */
};

/* One control message. On decode every field whose AVP is present is set and
 * its bit is set in `present`; on encode only AVPs whose bit is set are written. */
struct l2tp_msg {
	struct l2tp_header
		hdr;	  /* decode: header as received; encode: tunnel_id,
				   session_id, ns, nr are used */
	uint16_t type;	  /* enum l2tp_msg_type; L2TP_MSG_ZLB: no AVPs */
	uint64_t present; /* bit (1 << AVP type) for each AVP carried */
	uint64_t hidden;  /* decode: AVPs that were hidden; encode: to hide */

	struct l2tp_result_code result_code; /* 1 */
	uint16_t protocol_version;	     /* 2: version << 8 | revision */
	uint32_t framing_capabilities;	     /* 3: bit 0 async, bit 1 sync */
	uint32_t bearer_capabilities;	   /* 4: bit 0 digital, bit 1 analog */
	uint64_t tie_breaker;		   /* 5 */
	uint16_t firmware_revision;	   /* 6 */
	struct l2tp_bytes host_name;	   /* 7 */
	struct l2tp_bytes vendor_name;	   /* 8 */
	uint16_t assigned_tunnel_id;	   /* 9 */
	uint16_t receive_window_size;	   /* 10 */
	struct l2tp_bytes challenge;	   /* 11 */
	struct l2tp_q931_cause q931_cause; /* 12 */
	struct l2tp_bytes challenge_response; /* 13: 16 bytes */
	uint16_t assigned_session_id;	      /* 14 */
	uint32_t call_serial_number;	      /* 15 */
	uint32_t minimum_bps;		      /* 16 */
	uint32_t maximum_bps;		      /* 17 */
	uint32_t bearer_type;		  /* 18: bit 0 digital, bit 1 analog */
	uint32_t framing_type;		  /* 19: bit 0 sync, bit 1 async */
	struct l2tp_bytes called_number;  /* 21 */
	struct l2tp_bytes calling_number; /* 22 */
	struct l2tp_bytes sub_address;	  /* 23 */
	uint32_t tx_connect_speed;	  /* 24: bits per second */
	uint32_t physical_channel_id;	  /* 25 */
	struct l2tp_bytes initial_received_lcp_confreq; /* 26 */
	struct l2tp_bytes last_sent_lcp_confreq;	/* 27 */
	struct l2tp_bytes last_received_lcp_confreq;	/* 28 */
	uint16_t proxy_authen_type;			/* 29 */
	struct l2tp_bytes proxy_authen_name;		/* 30 */
	struct l2tp_bytes proxy_authen_challenge;	/* 31 */
	uint16_t proxy_authen_id; /* 32: reserved byte << 8 | ID */
	struct l2tp_bytes proxy_authen_response; /* 33 */
	struct l2tp_call_errors call_errors;	 /* 34 */
	struct l2tp_accm accm;			 /* 35 */
	struct l2tp_bytes random_vector;	 /* 36: the last one seen */
	struct l2tp_bytes private_group_id;	 /* 37 */
	uint32_t rx_connect_speed;		 /* 38: bits per second */
	/* 39 Sequencing Required has no value: presence only */

	struct l2tp_vendor_avp
		vendor[L2TP_MAX_VENDOR_AVPS]; /* opaque vendor AVPs */
	uint8_t n_vendor;		      /* entries used in vendor[] */
	uint16_t n_vendor_dropped; /* vendor AVPs beyond L2TP_MAX_VENDOR_AVPS */
	uint16_t n_unexpected; /* known AVPs this message type does not list */
};

static inline uint64_t l2tp_avp_bit(unsigned type)
{
	return type < 64 ? (uint64_t)1 << type : 0;
}

static inline bool l2tp_msg_has(const struct l2tp_msg *m, unsigned avp_type)
{
	return (m->present & l2tp_avp_bit(avp_type)) != 0;
}

static inline void l2tp_msg_set(struct l2tp_msg *m, unsigned avp_type)
{
	m->present |= l2tp_avp_bit(avp_type);
}

/* A shared secret (tunnel authentication, hidden AVPs); len 0 = none. */
struct l2tp_secret {
	const uint8_t *p; /* secret bytes, not NUL-terminated */
	size_t len;	  /* number of bytes */
};

/* Decode one control message datagram. `secret` may be NULL (then a hidden
 * AVP rejects the message). Unhidden values are written to `scratch`, which must
 * hold at least `len` bytes; m's byte fields point into p or scratch, so both
 * must outlive m. Returns 0 or -EBADMSG with *rej filled (reason, offset, scope
 * and, where RFC 2661 asks to clear, the result and error codes). */
int l2tp_msg_decode(const uint8_t *p, size_t len,
		    const struct l2tp_secret *secret, uint8_t *scratch,
		    size_t scratch_len, struct l2tp_msg *m,
		    struct l2tp_reject *rej);

/* Options for hiding AVPs on encode (RFC 2661 section 4.3). */
struct l2tp_encode_opts {
	struct l2tp_secret secret; /* needed when m->hidden is not 0 */
	struct l2tp_bytes
		random_vector;	  /* written before the first hidden AVP */
	uint16_t hide_pad;	  /* padding bytes added to each hidden value */
	const uint8_t *pad_bytes; /* hide_pad bytes of padding (NULL: zeros) */
};

/* Encode m as a control message into buf: header with T, L, S set, Message
 * Type first, Random Vector next when hiding, then every present AVP in type
 * order, then vendor AVPs. Returns the message length, -ENOSPC when cap is too
 * small, -EINVAL when m breaks the spec (missing required AVP, value length out
 * of range, hiding an AVP that cannot be hidden, hiding without a secret or
 * random vector). opts may be NULL when nothing is hidden. */
int l2tp_msg_encode(const struct l2tp_msg *m,
		    const struct l2tp_encode_opts *opts, uint8_t *buf,
		    size_t cap);

/* Encode a ZLB acknowledgement (control header only, no AVPs). Returns 12 or
 * -ENOSPC. */
int l2tp_msg_encode_zlb(uint16_t tunnel_id, uint16_t session_id, uint16_t ns,
			uint16_t nr, uint8_t *buf, size_t cap);

/* Per-message AVP spec (RFC 2661 section 6). */
struct l2tp_msg_spec {
	uint16_t type;	    /* message type */
	bool session_scope; /* call-management message: problems clear the session */
	uint64_t required; /* AVP bits that must be present */
	uint64_t optional; /* AVP bits that may be present */
};

/* NULL for an unknown message type. */
const struct l2tp_msg_spec *l2tp_msg_spec_get(unsigned type);

#endif
