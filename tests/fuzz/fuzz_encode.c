/* Fuzz target for the control message encoder: predicts from RFC 2661 (4, 6)
 * whether l2tp_msg_encode must refuse or run out of room and how long the
 * message is, then decodes what it wrote: every value must come back. */
#include <errno.h>
#include <stdbool.h>
#include <string.h>

#include "fuzz.h"
#include "l2tp_avp.h"
#include "l2tp_msg.h"
#include "msg_compare.h"

/* Reads the input front to back; zeros once it runs out. */
struct reader {
	const uint8_t *p; /* input */
	size_t len;	  /* its length */
	size_t off;	  /* next byte */
};

static uint64_t take(struct reader *r, unsigned n)
{
	uint64_t v = 0;
	for (unsigned i = 0; i < n; i++)
		v = v << 8 | (r->off < r->len ? r->p[r->off++] : 0);
	return v;
}

/* Up to `want` bytes of the input itself (the encoder copies from it). */
static struct l2tp_bytes take_bytes(struct reader *r, size_t want)
{
	size_t left = r->len - r->off;
	size_t n = want < left ? want : left;
	struct l2tp_bytes b = {n ? r->p + r->off : NULL, (uint16_t)n};
	r->off += n;
	return b;
}

/* A value length a little past the 1017-byte AVP limit now and then. */
static size_t take_len(struct reader *r)
{
	uint16_t v = (uint16_t)take(r, 2);
	return (v & 0x8000) ? v % 1100u : v % 24u;
}

static void fill_value(struct reader *r, const struct l2tp_avp_info *ai,
		       struct l2tp_msg *m)
{
	void *f = (uint8_t *)m + ai->field_off;

	switch ((enum l2tp_avp_kind)ai->kind) {
	case L2TP_KIND_U16: {
		uint16_t v = (uint16_t)take(r, 2);
		memcpy(f, &v, sizeof(v));
		break;
	}
	case L2TP_KIND_U32: {
		uint32_t v = (uint32_t)take(r, 4);
		memcpy(f, &v, sizeof(v));
		break;
	}
	case L2TP_KIND_U64: {
		uint64_t v = take(r, 8);
		memcpy(f, &v, sizeof(v));
		break;
	}
	case L2TP_KIND_BYTES:
		*(struct l2tp_bytes *)f = take_bytes(r, take_len(r));
		break;
	case L2TP_KIND_EMPTY:
		break;
	case L2TP_KIND_RESULT: {
		struct l2tp_result_code *rc = f;
		rc->result = (uint16_t)take(r, 2);
		uint8_t shape = (uint8_t)take(r, 1);
		rc->has_error = shape & 1;
		rc->error = (uint16_t)take(r, 2);
		if (shape & 2) /* a message, with or without the error code */
			rc->message = take_bytes(r, take_len(r));
		break;
	}
	case L2TP_KIND_Q931: {
		struct l2tp_q931_cause *q = f;
		q->cause = (uint16_t)take(r, 2);
		q->msg = (uint8_t)take(r, 1);
		q->advisory = take_bytes(r, take_len(r));
		break;
	}
	case L2TP_KIND_CALL_ERRORS: {
		struct l2tp_call_errors *ce = f;
		ce->crc_errors = (uint32_t)take(r, 4);
		ce->framing_errors = (uint32_t)take(r, 4);
		ce->hardware_overruns = (uint32_t)take(r, 4);
		ce->buffer_overruns = (uint32_t)take(r, 4);
		ce->timeout_errors = (uint32_t)take(r, 4);
		ce->alignment_errors = (uint32_t)take(r, 4);
		break;
	}
	case L2TP_KIND_ACCM: {
		struct l2tp_accm *a = f;
		a->send = (uint32_t)take(r, 4);
		a->recv = (uint32_t)take(r, 4);
		break;
	}
	}
}

/* Value length RFC 2661 section 4.4 gives m's value of AVP ai, or -1 when
 * the value cannot be sent (written from the RFC, not from l2tp_avp.c). */
static long expected_value_len(const struct l2tp_avp_info *ai,
			       const struct l2tp_msg *m)
{
	const void *f = (const uint8_t *)m + ai->field_off;
	long len;

	switch ((enum l2tp_avp_kind)ai->kind) {
	case L2TP_KIND_U16:
		return 2;
	case L2TP_KIND_U32:
		return 4;
	case L2TP_KIND_U64:
		return 8;
	case L2TP_KIND_EMPTY:
		return 0;
	case L2TP_KIND_CALL_ERRORS:
		return 26;
	case L2TP_KIND_ACCM:
		return 10;
	case L2TP_KIND_BYTES:
		len = ((const struct l2tp_bytes *)f)->len;
		break;
	case L2TP_KIND_RESULT: {
		const struct l2tp_result_code *rc = f;
		/* Section 4.4.2: the message needs the error code. */
		if (rc->message.len && !rc->has_error)
			return -1;
		len = 2 + (rc->has_error ? 2 : 0) + rc->message.len;
		break;
	}
	case L2TP_KIND_Q931:
		len = 3 + ((const struct l2tp_q931_cause *)f)->advisory.len;
		break;
	default:
		FUZZ_CHECK(!"AVP kind out of range");
		return -1;
	}
	return (len < ai->min_len || len > ai->max_len) ? -1 : len;
}

/* What l2tp_msg_encode must do with m and o. */
struct expect {
	bool valid;	       /* m and o obey RFC 2661 and the API contract */
	size_t len;	       /* message length when valid */
	bool mandatory_vendor; /* a vendor AVP with M: our decoder rejects */
};

static struct expect predict(const struct l2tp_msg *m,
			     const struct l2tp_encode_opts *o)
{
	struct expect e = {.valid = true, .len = L2TP_CONTROL_HDR_LEN};

	if (m->type == L2TP_MSG_ZLB)
		return e; /* header only, whatever else m holds */
	const struct l2tp_msg_spec *spec = l2tp_msg_spec_get(m->type);
	uint64_t present = m->present | l2tp_avp_bit(L2TP_AVP_MESSAGE_TYPE);
	bool hiding = m->hidden != 0;
	if (!spec || (spec->required & ~present))
		e.valid = false;
	if (hiding && (!o->secret.len || !o->random_vector.len ||
		       o->random_vector.len > L2TP_AVP_MAX_VALUE ||
		       (m->hidden & ~present)))
		e.valid = false;
	for (unsigned t = 0; t < 64; t++) {
		if (!(present & l2tp_avp_bit(t)))
			continue;
		const struct l2tp_avp_info *ai = l2tp_avp_info_get(t);
		if (!ai) {
			e.valid = false; /* no such AVP: reserved 20, or > 39 */
			continue;
		}
		if (t == L2TP_AVP_RANDOM_VECTOR && hiding)
			continue; /* the options' vector is sent instead */
		long vlen = expected_value_len(ai, m);
		if (vlen < 0) {
			e.valid = false;
			continue;
		}
		if (m->hidden & l2tp_avp_bit(t)) {
			/* Section 4.3: length, value, padding, in one AVP. */
			size_t hlen = 2 + (size_t)vlen + o->hide_pad;
			if (!ai->hideable || hlen > L2TP_AVP_MAX_VALUE)
				e.valid = false;
			e.len += L2TP_AVP_HDR_LEN + hlen;
		} else {
			e.len += L2TP_AVP_HDR_LEN + (size_t)vlen;
		}
		if (t == L2TP_AVP_MESSAGE_TYPE && hiding)
			e.len += L2TP_AVP_HDR_LEN + o->random_vector.len;
	}
	for (unsigned i = 0; i < m->n_vendor && i < L2TP_MAX_VENDOR_AVPS; i++) {
		const struct l2tp_vendor_avp *va = &m->vendor[i];
		if (va->vendor == L2TP_VENDOR_IETF ||
		    va->value.len > L2TP_AVP_MAX_VALUE)
			e.valid = false;
		e.mandatory_vendor |= va->mandatory;
		e.len += L2TP_AVP_HDR_LEN + va->value.len;
	}
	return e;
}

/* Decode the n bytes buf holds and compare with what was encoded. */
static void check_decode(const struct l2tp_msg *m,
			 const struct l2tp_encode_opts *o, const uint8_t *buf,
			 size_t n, const struct expect *e)
{
	const struct l2tp_secret secret = {o->secret.p, o->secret.len};
	uint8_t *scratch = malloc(n);
	static struct l2tp_msg d;
	struct l2tp_reject rej;
	FUZZ_CHECK(scratch != NULL);

	int rc = l2tp_msg_decode(buf, n, &secret, scratch, n, &d, &rej);
	if (m->type != L2TP_MSG_ZLB && e->mandatory_vendor) {
		/* Section 4.1: the peer (we) cannot know the vendor AVP. */
		FUZZ_CHECK(rc == -EBADMSG &&
			   rej.reason == L2TP_REJ_AVP_UNKNOWN_MANDATORY);
		free(scratch);
		return;
	}
	if (rc != 0)
		fprintf(stderr, "decode of encoded %s: %s at %zu (avp %u)\n",
			l2tp_msg_type_name(m->type),
			l2tp_reject_reason_name(rej.reason), rej.offset,
			rej.avp_type);
	FUZZ_CHECK(rc == 0);
	FUZZ_CHECK(d.hdr.tunnel_id == m->hdr.tunnel_id &&
		   d.hdr.session_id == m->hdr.session_id &&
		   d.hdr.ns == m->hdr.ns && d.hdr.nr == m->hdr.nr);
	FUZZ_CHECK(d.type == m->type);
	if (m->type == L2TP_MSG_ZLB) {
		FUZZ_CHECK(d.present == 0 && n == L2TP_CONTROL_HDR_LEN);
		free(scratch);
		return;
	}

	bool hiding = m->hidden != 0;
	uint64_t present = m->present | l2tp_avp_bit(L2TP_AVP_MESSAGE_TYPE) |
			   (hiding ? l2tp_avp_bit(L2TP_AVP_RANDOM_VECTOR) : 0);
	FUZZ_CHECK(d.present == present);
	FUZZ_CHECK(d.hidden == m->hidden);
	for (unsigned t = 0; t <= L2TP_AVP_TYPE_MAX; t++) {
		if (!(present & l2tp_avp_bit(t)))
			continue;
		if (t == L2TP_AVP_RANDOM_VECTOR && hiding)
			check_same_bytes(d.random_vector, o->random_vector);
		else
			check_same_value(l2tp_avp_info_get(t), m, &d);
	}
	const struct l2tp_msg_spec *spec = l2tp_msg_spec_get(m->type);
	FUZZ_CHECK(d.n_unexpected ==
		   popcount64(present & ~(spec->required | spec->optional)));
	unsigned nv = m->n_vendor < L2TP_MAX_VENDOR_AVPS ? m->n_vendor
							 : L2TP_MAX_VENDOR_AVPS;
	FUZZ_CHECK(d.n_vendor == nv && d.n_vendor_dropped == 0);
	for (unsigned i = 0; i < nv; i++) {
		FUZZ_CHECK(d.vendor[i].vendor == m->vendor[i].vendor &&
			   d.vendor[i].type == m->vendor[i].type &&
			   !d.vendor[i].hidden && !d.vendor[i].mandatory);
		check_same_bytes(d.vendor[i].value, m->vendor[i].value);
	}
	free(scratch);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct reader r = {data, size, 0};
	static struct l2tp_msg m;
	struct l2tp_encode_opts o;

	memset(&m, 0, sizeof(m));
	memset(&o, 0, sizeof(o));
	m.type = (uint16_t)(take(&r, 1) % (L2TP_MSG_TYPE_MAX + 1));
	m.hdr.tunnel_id = (uint16_t)take(&r, 2);
	m.hdr.session_id = (uint16_t)take(&r, 2);
	m.hdr.ns = (uint16_t)take(&r, 2);
	m.hdr.nr = (uint16_t)take(&r, 2);

	/* Mostly what the spec allows (so encode gets far); sometimes any
	 * 64-bit mask, to check unknown and missing AVPs are refused. */
	uint8_t mode = (uint8_t)take(&r, 1);
	const struct l2tp_msg_spec *spec = l2tp_msg_spec_get(m.type);
	uint64_t bits = take(&r, 8);
	if (spec && !(mode & 1))
		m.present = spec->required | (bits & spec->optional);
	else
		m.present = bits;
	uint64_t hbits = take(&r, 8);
	if (!(mode & 2)) {
		uint64_t hideable = 0;
		for (unsigned t = 0; t <= L2TP_AVP_TYPE_MAX; t++) {
			const struct l2tp_avp_info *ai = l2tp_avp_info_get(t);
			if (ai && ai->hideable)
				hideable |= l2tp_avp_bit(t);
		}
		hbits &= m.present & hideable;
	}
	m.hidden = (mode & 4) ? hbits : 0;
	for (unsigned t = 0; t <= L2TP_AVP_TYPE_MAX; t++) {
		const struct l2tp_avp_info *ai = l2tp_avp_info_get(t);
		if (ai && t != L2TP_AVP_MESSAGE_TYPE &&
		    (m.present & l2tp_avp_bit(t)))
			fill_value(&r, ai, &m);
	}

	/* Up to 9 vendor AVPs: the encoder writes at most 8. */
	m.n_vendor = (uint8_t)(take(&r, 1) % (L2TP_MAX_VENDOR_AVPS + 2));
	for (unsigned i = 0; i < m.n_vendor && i < L2TP_MAX_VENDOR_AVPS; i++) {
		struct l2tp_vendor_avp *va = &m.vendor[i];
		va->vendor = (uint16_t)take(&r, 2);
		va->type = (uint16_t)take(&r, 2);
		va->mandatory = (mode & 8) && (take(&r, 1) & 1);
		va->value = take_bytes(&r, take_len(&r));
	}

	o.secret.len = take(&r, 1) % 33;
	struct l2tp_bytes sb = take_bytes(&r, o.secret.len);
	o.secret.p = sb.p;
	o.secret.len = sb.len;
	o.random_vector = take_bytes(&r, take(&r, 1) % 40);
	o.hide_pad = (uint16_t)(take(&r, 1) % 24);
	if (o.hide_pad && (mode & 16)) {
		struct l2tp_bytes pad = take_bytes(&r, o.hide_pad);
		o.pad_bytes = pad.len == o.hide_pad ? pad.p : NULL;
	}
	size_t cap = (size_t)take(&r, 2);
	if (cap == 0)
		cap = L2TP_MAX_DATAGRAM + 100; /* more than a datagram */

	struct expect e = predict(&m, &o);
	uint8_t *buf = malloc(cap); /* exact size: ASan sees overruns */
	FUZZ_CHECK(buf != NULL);
	int n = l2tp_msg_encode(&m, &o, buf, cap);
	size_t room = cap < L2TP_MAX_DATAGRAM ? cap : L2TP_MAX_DATAGRAM;
	if (!e.valid) {
		/* Refused, though running out of room may be noticed first. */
		FUZZ_CHECK(n == -EINVAL || (n == -ENOSPC && e.len > room));
	} else if (e.len > room) {
		FUZZ_CHECK(n == -ENOSPC);
	} else {
		if (n < 0 || (size_t)n != e.len)
			fprintf(stderr, "encode %s: got %d, expected %zu\n",
				l2tp_msg_type_name(m.type), n, e.len);
		FUZZ_CHECK(n >= 0 && (size_t)n == e.len);
		uint8_t *copy = malloc((size_t)n);
		FUZZ_CHECK(copy != NULL);
		memcpy(copy, buf, (size_t)n);
		check_decode(&m, &o, copy, (size_t)n, &e);
		free(copy);
	}
	free(buf);
	return 0;
}
