/* Why the L2TP codec refused a datagram, and what RFC 2661 says to do about it.
 * Every decoder fills one struct l2tp_reject; callers count by reason and act by
 * scope (drop silently, or clear the session or tunnel with the given codes). */
#ifndef TANDEM_L2TP_REJECT_H
#define TANDEM_L2TP_REJECT_H

#include <stddef.h>
#include <stdint.h>

/* X(name, description) */
#define L2TP_REJECT_REASONS(X)                                                 \
	X(NONE, "no error")                                                    \
	X(SHORT_HEADER, "datagram shorter than the header its flags announce") \
	X(BAD_VERSION, "version field is not 2")                               \
	X(VERSION3, "L2TPv3 packet (version 3) on an L2TPv2 port")             \
	X(LENGTH_BEYOND, "Length field exceeds the datagram")                  \
	X(LENGTH_TRAILING, "datagram carries bytes after the declared Length") \
	X(LENGTH_SHORT, "Length field is smaller than the header")             \
	X(CONTROL_FLAGS,                                                       \
	  "control message without the L and S bits, or with the O bit")       \
	X(OFFSET_BEYOND, "offset padding runs past the end of the message")    \
	X(NOT_CONTROL, "data message where a control message was expected")    \
	X(AVP_TRUNCATED, "fewer than 6 bytes left for an AVP header")          \
	X(AVP_LENGTH_SHORT, "AVP length below 6")                              \
	X(AVP_LENGTH_BEYOND, "AVP length runs past the end of the message")    \
	X(AVP_VALUE_LENGTH, "AVP value length not allowed for its type")       \
	X(AVP_UNKNOWN_MANDATORY, "unrecognised AVP with the M bit set")        \
	X(AVP_DUPLICATE, "AVP present twice")                                  \
	X(HIDDEN_NOT_ALLOWED, "AVP that cannot be hidden has the H bit set")   \
	X(HIDDEN_NO_VECTOR, "hidden AVP without a preceding Random Vector")    \
	X(HIDDEN_NO_SECRET, "hidden AVP but no shared secret is configured")   \
	X(HIDDEN_BAD_LENGTH,                                                   \
	  "hidden AVP original length does not fit after unhiding")            \
	X(FIRST_NOT_MESSAGE_TYPE, "first AVP is not Message Type")             \
	X(UNKNOWN_MESSAGE_TYPE, "unrecognised Message Type")                   \
	X(MISSING_AVP, "a required AVP is missing")                            \
	X(SCRATCH_TOO_SMALL,                                                   \
	  "caller's scratch buffer is smaller than the message")

enum l2tp_reject_reason {
#define L2TP_X(name, desc) L2TP_REJ_##name,
	L2TP_REJECT_REASONS(L2TP_X)
#undef L2TP_X
		L2TP_REJ__COUNT
};

/* What the receiver does, RFC 2661 sections 3.1, 4.1 and 4.4. */
enum l2tp_reject_scope {
	L2TP_SCOPE_DROP,   /* discard silently (untrustworthy framing) */
	L2TP_SCOPE_IGNORE, /* ignore the message (unknown type, M bit clear) */
	L2TP_SCOPE_CLEAR_SESSION, /* send CDN with result_code/error_code */
	L2TP_SCOPE_CLEAR_TUNNEL,  /* send StopCCN with result_code/error_code */
};

struct l2tp_reject {
	enum l2tp_reject_reason reason; /* L2TP_REJ_NONE after success */
	enum l2tp_reject_scope
		scope;	      /* what RFC 2661 asks the receiver to do */
	size_t offset;	      /* byte offset of the problem in the datagram */
	uint16_t msg_type;    /* message type if already known, else 0 */
	uint16_t avp_vendor;  /* vendor of the AVP concerned (AVP reasons) */
	uint16_t avp_type;    /* type of the AVP concerned (AVP reasons) */
	uint16_t result_code; /* for the StopCCN/CDN when clearing */
	uint16_t error_code;  /* general error code (RFC 2661 4.4.2) */
};

const char *
l2tp_reject_reason_name(enum l2tp_reject_reason r); /* "AVP_LENGTH_SHORT" */
const char *
l2tp_reject_reason_desc(enum l2tp_reject_reason r); /* human sentence */
const char *l2tp_reject_scope_name(enum l2tp_reject_scope s);

#endif
