/* The RFC 2661 AVP table: for every IETF AVP type its value shape, allowed value
 * lengths, M bit on send, whether it may be hidden, and where its value lives in
 * struct l2tp_msg. Decode and encode of single AVP values are driven from it. */
#ifndef TANDEM_L2TP_AVP_H
#define TANDEM_L2TP_AVP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "l2tp_msg.h"

enum l2tp_avp_kind {
	L2TP_KIND_U16,	  /* 16-bit big-endian integer */
	L2TP_KIND_U32,	  /* 32-bit big-endian integer */
	L2TP_KIND_U64,	  /* 64-bit big-endian integer */
	L2TP_KIND_BYTES,  /* opaque octets (strings, challenges, LCP frames) */
	L2TP_KIND_EMPTY,  /* no value (Sequencing Required) */
	L2TP_KIND_RESULT, /* result [error [message]] */
	L2TP_KIND_Q931,	  /* cause, msg [advisory] */
	L2TP_KIND_CALL_ERRORS, /* reserved(2) + six 32-bit counters */
	L2TP_KIND_ACCM,	       /* reserved(2) + send ACCM + receive ACCM */
};

struct l2tp_avp_info {
	uint16_t type;	  /* IETF AVP type */
	uint8_t kind;	  /* enum l2tp_avp_kind */
	bool mandatory;	  /* M bit we set when sending */
	bool hideable;	  /* RFC 2661 allows the H bit */
	uint16_t min_len; /* smallest value length (after unhiding) */
	uint16_t max_len; /* largest value length */
	size_t field_off; /* offsetof(struct l2tp_msg, <field>) */
};

/* NULL for a type RFC 2661 does not define (including reserved 20). */
const struct l2tp_avp_info *l2tp_avp_info_get(unsigned type);

/* Decode one value of a known AVP into m. Returns 0 or -EINVAL when the length
 * does not fit the type. */
int l2tp_avp_value_decode(const struct l2tp_avp_info *ai, const uint8_t *v,
			  size_t len, struct l2tp_msg *m);

/* Length the value of AVP ai takes when encoded from m, or -EINVAL when m's
 * value breaks the table's length rule. */
int l2tp_avp_value_len(const struct l2tp_avp_info *ai,
		       const struct l2tp_msg *m);

/* Write the value of AVP ai from m into out (which holds value_len bytes). */
void l2tp_avp_value_encode(const struct l2tp_avp_info *ai,
			   const struct l2tp_msg *m, uint8_t *out);

#endif
