/* Fuzz target for single AVP values (RFC 2661 section 4.4): accepted exactly
 * when the length fits the type, decoded into the AVP's own field only, and
 * encoded back to the same bytes (reserved octets zeroed). */
#include <errno.h>
#include <stdbool.h>
#include <string.h>

#include "fuzz.h"
#include "l2tp_avp.h"

/* Where each AVP's value lives in struct l2tp_msg, written out from the
 * header independently of l2tp_avp.c's table, to catch a wrong kind or
 * offset there. size 0: no field. */
struct field_ref {
	size_t off;  /* offsetof(struct l2tp_msg, field) */
	size_t size; /* sizeof(field) */
};
#define R(fld)                                                                 \
	{                                                                      \
		offsetof(struct l2tp_msg, fld),                                \
			sizeof(((struct l2tp_msg *)0)->fld)                    \
	}
static const struct field_ref field_refs[L2TP_AVP_TYPE_MAX + 1] = {
	[L2TP_AVP_MESSAGE_TYPE] = R(type),
	[L2TP_AVP_RESULT_CODE] = R(result_code),
	[L2TP_AVP_PROTOCOL_VERSION] = R(protocol_version),
	[L2TP_AVP_FRAMING_CAPABILITIES] = R(framing_capabilities),
	[L2TP_AVP_BEARER_CAPABILITIES] = R(bearer_capabilities),
	[L2TP_AVP_TIE_BREAKER] = R(tie_breaker),
	[L2TP_AVP_FIRMWARE_REVISION] = R(firmware_revision),
	[L2TP_AVP_HOST_NAME] = R(host_name),
	[L2TP_AVP_VENDOR_NAME] = R(vendor_name),
	[L2TP_AVP_ASSIGNED_TUNNEL_ID] = R(assigned_tunnel_id),
	[L2TP_AVP_RECEIVE_WINDOW_SIZE] = R(receive_window_size),
	[L2TP_AVP_CHALLENGE] = R(challenge),
	[L2TP_AVP_Q931_CAUSE_CODE] = R(q931_cause),
	[L2TP_AVP_CHALLENGE_RESPONSE] = R(challenge_response),
	[L2TP_AVP_ASSIGNED_SESSION_ID] = R(assigned_session_id),
	[L2TP_AVP_CALL_SERIAL_NUMBER] = R(call_serial_number),
	[L2TP_AVP_MINIMUM_BPS] = R(minimum_bps),
	[L2TP_AVP_MAXIMUM_BPS] = R(maximum_bps),
	[L2TP_AVP_BEARER_TYPE] = R(bearer_type),
	[L2TP_AVP_FRAMING_TYPE] = R(framing_type),
	[L2TP_AVP_CALLED_NUMBER] = R(called_number),
	[L2TP_AVP_CALLING_NUMBER] = R(calling_number),
	[L2TP_AVP_SUB_ADDRESS] = R(sub_address),
	[L2TP_AVP_TX_CONNECT_SPEED] = R(tx_connect_speed),
	[L2TP_AVP_PHYSICAL_CHANNEL_ID] = R(physical_channel_id),
	[L2TP_AVP_INITIAL_RECEIVED_LCP_CONFREQ] =
		R(initial_received_lcp_confreq),
	[L2TP_AVP_LAST_SENT_LCP_CONFREQ] = R(last_sent_lcp_confreq),
	[L2TP_AVP_LAST_RECEIVED_LCP_CONFREQ] = R(last_received_lcp_confreq),
	[L2TP_AVP_PROXY_AUTHEN_TYPE] = R(proxy_authen_type),
	[L2TP_AVP_PROXY_AUTHEN_NAME] = R(proxy_authen_name),
	[L2TP_AVP_PROXY_AUTHEN_CHALLENGE] = R(proxy_authen_challenge),
	[L2TP_AVP_PROXY_AUTHEN_ID] = R(proxy_authen_id),
	[L2TP_AVP_PROXY_AUTHEN_RESPONSE] = R(proxy_authen_response),
	[L2TP_AVP_CALL_ERRORS] = R(call_errors),
	[L2TP_AVP_ACCM] = R(accm),
	[L2TP_AVP_RANDOM_VECTOR] = R(random_vector),
	[L2TP_AVP_PRIVATE_GROUP_ID] = R(private_group_id),
	[L2TP_AVP_RX_CONNECT_SPEED] = R(rx_connect_speed),
	[L2TP_AVP_SEQUENCING_REQUIRED] = {0, 0},
};
#undef R

/* Size of the field a kind decodes into, and the value lengths it allows. */
static void check_kind(const struct l2tp_avp_info *ai)
{
	size_t size = 0;
	unsigned fixed = 0; /* value length of fixed-size kinds, else 0 */

	switch ((enum l2tp_avp_kind)ai->kind) {
	case L2TP_KIND_U16:
		size = fixed = 2;
		break;
	case L2TP_KIND_U32:
		size = fixed = 4;
		break;
	case L2TP_KIND_U64:
		size = fixed = 8;
		break;
	case L2TP_KIND_BYTES:
		size = sizeof(struct l2tp_bytes);
		break;
	case L2TP_KIND_EMPTY:
		FUZZ_CHECK(ai->min_len == 0 && ai->max_len == 0);
		break;
	case L2TP_KIND_RESULT:
		size = sizeof(struct l2tp_result_code);
		FUZZ_CHECK(ai->min_len >= 2);
		break;
	case L2TP_KIND_Q931:
		size = sizeof(struct l2tp_q931_cause);
		FUZZ_CHECK(ai->min_len >= 3);
		break;
	case L2TP_KIND_CALL_ERRORS:
		size = sizeof(struct l2tp_call_errors);
		fixed = 26; /* section 4.4.6: reserved + six counters */
		break;
	case L2TP_KIND_ACCM:
		size = sizeof(struct l2tp_accm);
		fixed = 10; /* section 4.4.6: reserved + two ACCMs */
		break;
	default:
		FUZZ_CHECK(!"AVP kind out of range");
	}
	const struct field_ref *ref = &field_refs[ai->type];
	FUZZ_CHECK(size == ref->size);
	if (size)
		FUZZ_CHECK(ai->field_off == ref->off);
	if (fixed)
		FUZZ_CHECK(ai->min_len == fixed && ai->max_len == fixed);
	FUZZ_CHECK(ai->min_len <= ai->max_len);
	FUZZ_CHECK(ai->max_len <= L2TP_AVP_MAX_VALUE);
}

static bool accepts(const struct l2tp_avp_info *ai, size_t len)
{
	if (len < ai->min_len || len > ai->max_len)
		return false;
	/* Section 4.4.2: an error code is two octets or absent. */
	return !(ai->kind == L2TP_KIND_RESULT && len == 3);
}

static void check_points_into(struct l2tp_bytes b, const uint8_t *want,
			      size_t len)
{
	FUZZ_CHECK(b.len == len);
	FUZZ_CHECK(b.p == (len ? want : NULL));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct l2tp_msg m, before;

	if (size < FUZZ_AVP_PREFIX)
		return 0;
	unsigned type = data[0];
	size_t len = size - FUZZ_AVP_PREFIX;
	const struct l2tp_avp_info *ai = l2tp_avp_info_get(type);
	/* Section 4.4: types 0-39 except reserved 20. */
	FUZZ_CHECK((ai != NULL) == (type <= L2TP_AVP_TYPE_MAX && type != 20));
	if (!ai)
		return 0;
	FUZZ_CHECK(ai->type == type);
	check_kind(ai);

	/* Exact-size copy: ASan sees any read past the value. */
	uint8_t *v = malloc(len ? len : 1);
	FUZZ_CHECK(v != NULL);
	if (len)
		memcpy(v, data + FUZZ_AVP_PREFIX, len);
	memset(&m, 0xa5, sizeof(m));
	before = m;

	int rc = l2tp_avp_value_decode(ai, v, len, &m);
	FUZZ_CHECK(rc == 0 || rc == -EINVAL);
	FUZZ_CHECK((rc == 0) == accepts(ai, len));
	if (rc < 0) {
		free(v);
		return 0;
	}

	/* Nothing outside the AVP's own field changed. */
	const struct field_ref *ref = &field_refs[type];
	const uint8_t *pm = (const uint8_t *)&m, *pb = (const uint8_t *)&before;
	FUZZ_CHECK(memcmp(pm, pb, ref->off) == 0);
	FUZZ_CHECK(memcmp(pm + ref->off + ref->size, pb + ref->off + ref->size,
			  sizeof(m) - ref->off - ref->size) == 0);

	const void *fld = pm + ref->off;
	switch ((enum l2tp_avp_kind)ai->kind) {
	case L2TP_KIND_BYTES:
		check_points_into(*(const struct l2tp_bytes *)fld, v, len);
		break;
	case L2TP_KIND_RESULT: {
		const struct l2tp_result_code *rc_ = fld;
		FUZZ_CHECK(rc_->result == (v[0] << 8 | v[1]));
		FUZZ_CHECK(rc_->has_error == (len >= 4));
		FUZZ_CHECK(rc_->error == (len >= 4 ? (v[2] << 8 | v[3]) : 0));
		check_points_into(rc_->message, v + 4, len > 4 ? len - 4 : 0);
		break;
	}
	case L2TP_KIND_Q931: {
		const struct l2tp_q931_cause *q = fld;
		FUZZ_CHECK(q->cause == (v[0] << 8 | v[1]) && q->msg == v[2]);
		check_points_into(q->advisory, v + 3, len - 3);
		break;
	}
	default:
		break;
	}

	/* Encode what was decoded: same length, same bytes. */
	FUZZ_CHECK(l2tp_avp_value_len(ai, &m) == (int)len);
	uint8_t *out = malloc(len ? len : 1);
	FUZZ_CHECK(out != NULL);
	l2tp_avp_value_encode(ai, &m, out);
	if (ai->kind == L2TP_KIND_CALL_ERRORS || ai->kind == L2TP_KIND_ACCM) {
		/* Reserved octets are sent as zero. */
		FUZZ_CHECK(out[0] == 0 && out[1] == 0);
		FUZZ_CHECK(memcmp(out + 2, v + 2, len - 2) == 0);
	} else {
		FUZZ_CHECK(len == 0 || memcmp(out, v, len) == 0);
	}
	free(out);
	free(v);
	return 0;
}
