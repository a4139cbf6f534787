/* The RFC 2661 AVP table (sections 4.4.1-4.4.6) and the typed decode/encode of a
 * single AVP value. Message-level rules (ordering, hiding, required AVPs) live
 * in l2tp_msg.c; this file knows only what one value looks like. */
#include "l2tp_avp.h"

#include <errno.h>
#include <string.h>

#include "byteio.h"

#define MAXV	 L2TP_AVP_MAX_VALUE
#define F(field) offsetof(struct l2tp_msg, field)

/* type, kind, M bit on send, may be hidden, min and max value length, field.
 * The M and H columns follow the "This AVP MAY/MUST NOT be hidden" and M-bit
 * sentences of each AVP's definition in RFC 2661 section 4.4. */
static const struct l2tp_avp_info l2tp_avp_table[L2TP_AVP_TYPE_MAX + 1] = {
#define A(t, k, m, h, mn, mx, fld)                                             \
	[L2TP_AVP_##t] = {L2TP_AVP_##t, L2TP_KIND_##k, m, h, mn, mx, F(fld)}
	A(MESSAGE_TYPE, U16, 1, 0, 2, 2, type),
	A(RESULT_CODE, RESULT, 1, 0, 2, MAXV, result_code),
	A(PROTOCOL_VERSION, U16, 1, 0, 2, 2, protocol_version),
	A(FRAMING_CAPABILITIES, U32, 1, 1, 4, 4, framing_capabilities),
	A(BEARER_CAPABILITIES, U32, 1, 1, 4, 4, bearer_capabilities),
	A(TIE_BREAKER, U64, 0, 0, 8, 8, tie_breaker),
	A(FIRMWARE_REVISION, U16, 0, 1, 2, 2, firmware_revision),
	A(HOST_NAME, BYTES, 1, 0, 1, MAXV, host_name),
	A(VENDOR_NAME, BYTES, 0, 1, 0, MAXV, vendor_name),
	A(ASSIGNED_TUNNEL_ID, U16, 1, 1, 2, 2, assigned_tunnel_id),
	A(RECEIVE_WINDOW_SIZE, U16, 1, 0, 2, 2, receive_window_size),
	A(CHALLENGE, BYTES, 1, 1, 1, MAXV, challenge),
	A(Q931_CAUSE_CODE, Q931, 1, 0, 3, MAXV, q931_cause),
	A(CHALLENGE_RESPONSE, BYTES, 1, 1, 16, 16, challenge_response),
	A(ASSIGNED_SESSION_ID, U16, 1, 1, 2, 2, assigned_session_id),
	A(CALL_SERIAL_NUMBER, U32, 1, 1, 4, 4, call_serial_number),
	A(MINIMUM_BPS, U32, 1, 1, 4, 4, minimum_bps),
	A(MAXIMUM_BPS, U32, 1, 1, 4, 4, maximum_bps),
	A(BEARER_TYPE, U32, 1, 1, 4, 4, bearer_type),
	A(FRAMING_TYPE, U32, 1, 1, 4, 4, framing_type),
	A(CALLED_NUMBER, BYTES, 1, 1, 0, MAXV, called_number),
	A(CALLING_NUMBER, BYTES, 1, 1, 0, MAXV, calling_number),
	A(SUB_ADDRESS, BYTES, 1, 1, 0, MAXV, sub_address),
	A(TX_CONNECT_SPEED, U32, 1, 1, 4, 4, tx_connect_speed),
	A(PHYSICAL_CHANNEL_ID, U32, 0, 1, 4, 4, physical_channel_id),
	A(INITIAL_RECEIVED_LCP_CONFREQ, BYTES, 0, 1, 0, MAXV,
	  initial_received_lcp_confreq),
	A(LAST_SENT_LCP_CONFREQ, BYTES, 0, 1, 0, MAXV, last_sent_lcp_confreq),
	A(LAST_RECEIVED_LCP_CONFREQ, BYTES, 0, 1, 0, MAXV,
	  last_received_lcp_confreq),
	A(PROXY_AUTHEN_TYPE, U16, 0, 1, 2, 2, proxy_authen_type),
	A(PROXY_AUTHEN_NAME, BYTES, 0, 1, 0, MAXV, proxy_authen_name),
	A(PROXY_AUTHEN_CHALLENGE, BYTES, 0, 1, 1, MAXV, proxy_authen_challenge),
	A(PROXY_AUTHEN_ID, U16, 0, 1, 2, 2, proxy_authen_id),
	A(PROXY_AUTHEN_RESPONSE, BYTES, 0, 1, 0, MAXV, proxy_authen_response),
	A(CALL_ERRORS, CALL_ERRORS, 1, 1, 26, 26, call_errors),
	A(ACCM, ACCM, 1, 1, 10, 10, accm),
	A(RANDOM_VECTOR, BYTES, 1, 0, 1, MAXV, random_vector),
	A(PRIVATE_GROUP_ID, BYTES, 0, 1, 0, MAXV, private_group_id),
	A(RX_CONNECT_SPEED, U32, 0, 1, 4, 4, rx_connect_speed),
#undef A
	/* No value, so no field: presence in m->present is all it carries. */
	[L2TP_AVP_SEQUENCING_REQUIRED] = {L2TP_AVP_SEQUENCING_REQUIRED,
					  L2TP_KIND_EMPTY, 1, 0, 0, 0, 0},
};

const struct l2tp_avp_info *l2tp_avp_info_get(unsigned type)
{
	if (type > L2TP_AVP_TYPE_MAX)
		return NULL;
	const struct l2tp_avp_info *ai = &l2tp_avp_table[type];
	/* Entry 0 is Message Type; a zeroed entry with type 0 elsewhere marks
	 * a value RFC 2661 leaves reserved (20). */
	return (type != 0 && ai->type == 0) ? NULL : ai;
}

int l2tp_avp_value_decode(const struct l2tp_avp_info *ai, const uint8_t *v,
			  size_t len, struct l2tp_msg *m)
{
	struct byteio_rd r = {.p = v, .len = len};
	void *field = (uint8_t *)m + ai->field_off;

	if (len < ai->min_len || len > ai->max_len)
		return -EINVAL;
	switch ((enum l2tp_avp_kind)ai->kind) {
	case L2TP_KIND_U16:
		byteio_get_u16(&r, field);
		break;
	case L2TP_KIND_U32:
		byteio_get_u32(&r, field);
		break;
	case L2TP_KIND_U64:
		byteio_get_u64(&r, field);
		break;
	case L2TP_KIND_BYTES: {
		struct l2tp_bytes *b = field;
		b->p = len ? v : NULL;
		b->len = (uint16_t)len;
		break;
	}
	case L2TP_KIND_EMPTY:
		break;
	case L2TP_KIND_RESULT: {
		/* Section 4.4.2: result code, then an optional error code,
		 * then an optional message that requires the error code. */
		struct l2tp_result_code *rc = field;
		memset(rc, 0, sizeof(*rc));
		byteio_get_u16(&r, &rc->result);
		if (len == 3)
			return -EINVAL; /* half an error code */
		if (len >= 4) {
			rc->has_error = true;
			byteio_get_u16(&r, &rc->error);
		}
		if (len > 4) {
			rc->message.p = v + 4;
			rc->message.len = (uint16_t)(len - 4);
		}
		break;
	}
	case L2TP_KIND_Q931: {
		struct l2tp_q931_cause *q = field;
		memset(q, 0, sizeof(*q));
		byteio_get_u16(&r, &q->cause);
		byteio_get_u8(&r, &q->msg);
		if (len > 3) {
			q->advisory.p = v + 3;
			q->advisory.len = (uint16_t)(len - 3);
		}
		break;
	}
	case L2TP_KIND_CALL_ERRORS: {
		struct l2tp_call_errors *ce = field;
		byteio_skip(&r, 2); /* reserved */
		byteio_get_u32(&r, &ce->crc_errors);
		byteio_get_u32(&r, &ce->framing_errors);
		byteio_get_u32(&r, &ce->hardware_overruns);
		byteio_get_u32(&r, &ce->buffer_overruns);
		byteio_get_u32(&r, &ce->timeout_errors);
		byteio_get_u32(&r, &ce->alignment_errors);
		break;
	}
	case L2TP_KIND_ACCM: {
		struct l2tp_accm *a = field;
		byteio_skip(&r, 2); /* reserved */
		byteio_get_u32(&r, &a->send);
		byteio_get_u32(&r, &a->recv);
		break;
	}
	}
	return 0;
}

int l2tp_avp_value_len(const struct l2tp_avp_info *ai, const struct l2tp_msg *m)
{
	const void *field = (const uint8_t *)m + ai->field_off;
	size_t len;

	switch ((enum l2tp_avp_kind)ai->kind) {
	case L2TP_KIND_BYTES:
		len = ((const struct l2tp_bytes *)field)->len;
		break;
	case L2TP_KIND_RESULT: {
		const struct l2tp_result_code *rc = field;
		if (rc->message.len && !rc->has_error)
			return -EINVAL;
		len = 2 + (rc->has_error ? 2u : 0u) + rc->message.len;
		break;
	}
	case L2TP_KIND_Q931:
		len = 3u +
		      ((const struct l2tp_q931_cause *)field)->advisory.len;
		break;
	default:
		len = ai->min_len; /* fixed-size kinds */
		break;
	}
	if (len < ai->min_len || len > ai->max_len)
		return -EINVAL;
	return (int)len;
}

static uint8_t *l2tp_avp_put_bytes(uint8_t *out, struct l2tp_bytes b)
{
	if (b.len)
		memcpy(out, b.p, b.len);
	return out + b.len;
}

void l2tp_avp_value_encode(const struct l2tp_avp_info *ai,
			   const struct l2tp_msg *m, uint8_t *out)
{
	const void *field = (const uint8_t *)m + ai->field_off;

	switch ((enum l2tp_avp_kind)ai->kind) {
	case L2TP_KIND_U16:
		byteio_put_u16(out, *(const uint16_t *)field);
		break;
	case L2TP_KIND_U32:
		byteio_put_u32(out, *(const uint32_t *)field);
		break;
	case L2TP_KIND_U64:
		byteio_put_u64(out, *(const uint64_t *)field);
		break;
	case L2TP_KIND_BYTES:
		l2tp_avp_put_bytes(out, *(const struct l2tp_bytes *)field);
		break;
	case L2TP_KIND_EMPTY:
		break;
	case L2TP_KIND_RESULT: {
		const struct l2tp_result_code *rc = field;
		byteio_put_u16(out, rc->result);
		if (rc->has_error) {
			byteio_put_u16(out + 2, rc->error);
			l2tp_avp_put_bytes(out + 4, rc->message);
		}
		break;
	}
	case L2TP_KIND_Q931: {
		const struct l2tp_q931_cause *q = field;
		byteio_put_u16(out, q->cause);
		out[2] = q->msg;
		l2tp_avp_put_bytes(out + 3, q->advisory);
		break;
	}
	case L2TP_KIND_CALL_ERRORS: {
		const struct l2tp_call_errors *ce = field;
		byteio_put_u16(out, 0);
		byteio_put_u32(out + 2, ce->crc_errors);
		byteio_put_u32(out + 6, ce->framing_errors);
		byteio_put_u32(out + 10, ce->hardware_overruns);
		byteio_put_u32(out + 14, ce->buffer_overruns);
		byteio_put_u32(out + 18, ce->timeout_errors);
		byteio_put_u32(out + 22, ce->alignment_errors);
		break;
	}
	case L2TP_KIND_ACCM: {
		const struct l2tp_accm *a = field;
		byteio_put_u16(out, 0);
		byteio_put_u32(out + 2, a->send);
		byteio_put_u32(out + 6, a->recv);
		break;
	}
	}
}
