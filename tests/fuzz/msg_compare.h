/* Field-by-field comparison of decoded control messages, shared by the
 * fuzz targets that check a decode against an encode. */
#ifndef TANDEM_FUZZ_MSG_COMPARE_H
#define TANDEM_FUZZ_MSG_COMPARE_H

#include <string.h>

#include "fuzz.h"
#include "l2tp_avp.h"
#include "l2tp_msg.h"

static inline const void *avp_field(const struct l2tp_msg *m,
				    const struct l2tp_avp_info *ai)
{
	return (const uint8_t *)m + ai->field_off;
}

static inline void check_same_bytes(struct l2tp_bytes a, struct l2tp_bytes b)
{
	FUZZ_CHECK(a.len == b.len);
	FUZZ_CHECK(a.len == 0 || memcmp(a.p, b.p, a.len) == 0);
}

static inline void check_same_value(const struct l2tp_avp_info *ai,
				    const struct l2tp_msg *a,
				    const struct l2tp_msg *b)
{
	const void *fa = avp_field(a, ai), *fb = avp_field(b, ai);

	switch ((enum l2tp_avp_kind)ai->kind) {
	case L2TP_KIND_U16:
		FUZZ_CHECK(memcmp(fa, fb, sizeof(uint16_t)) == 0);
		break;
	case L2TP_KIND_U32:
		FUZZ_CHECK(memcmp(fa, fb, sizeof(uint32_t)) == 0);
		break;
	case L2TP_KIND_U64:
		FUZZ_CHECK(memcmp(fa, fb, sizeof(uint64_t)) == 0);
		break;
	case L2TP_KIND_BYTES:
		check_same_bytes(*(const struct l2tp_bytes *)fa,
				 *(const struct l2tp_bytes *)fb);
		break;
	case L2TP_KIND_EMPTY:
		break;
	case L2TP_KIND_RESULT: {
		const struct l2tp_result_code *ra = fa, *rb = fb;
		FUZZ_CHECK(ra->result == rb->result);
		FUZZ_CHECK(ra->has_error == rb->has_error);
		/* error is meaningful only with has_error. */
		FUZZ_CHECK(!ra->has_error || ra->error == rb->error);
		check_same_bytes(ra->message, rb->message);
		break;
	}
	case L2TP_KIND_Q931: {
		const struct l2tp_q931_cause *qa = fa, *qb = fb;
		FUZZ_CHECK(qa->cause == qb->cause && qa->msg == qb->msg);
		check_same_bytes(qa->advisory, qb->advisory);
		break;
	}
	case L2TP_KIND_CALL_ERRORS: {
		const struct l2tp_call_errors *ca = fa, *cb = fb;
		FUZZ_CHECK(ca->crc_errors == cb->crc_errors &&
			   ca->framing_errors == cb->framing_errors &&
			   ca->hardware_overruns == cb->hardware_overruns &&
			   ca->buffer_overruns == cb->buffer_overruns &&
			   ca->timeout_errors == cb->timeout_errors &&
			   ca->alignment_errors == cb->alignment_errors);
		break;
	}
	case L2TP_KIND_ACCM: {
		const struct l2tp_accm *aa = fa, *ab = fb;
		FUZZ_CHECK(aa->send == ab->send && aa->recv == ab->recv);
		break;
	}
	default:
		FUZZ_CHECK(!"AVP kind out of range");
	}
}

static inline int popcount64(uint64_t v)
{
	int n = 0;
	for (; v; v &= v - 1)
		n++;
	return n;
}

#endif
