/* Fuzz target for the control message decoder (RFC 2661 sections 3.2, 4, 6):
 * checks what a decoded message promises, then that re-encoding and decoding
 * again keeps every typed value and that the canonical encoding is stable. */
#include <errno.h>
#include <stdbool.h>
#include <string.h>

#include "fuzz.h"
#include "hide_clear.h"
#include "l2tp_avp.h"
#include "l2tp_msg.h"
#include "msg_compare.h"

/* Where a decoded message may point. */
struct bufs {
	const uint8_t *data;	/* the datagram */
	size_t size;		/* its length */
	const uint8_t *scratch; /* unhidden values */
	size_t scratch_len;	/* its length */
};

static bool inside(const uint8_t *p, size_t len, const uint8_t *buf,
		   size_t buf_len)
{
	uintptr_t a = (uintptr_t)p, b = (uintptr_t)buf;
	return a >= b && a - b <= buf_len && len <= buf_len - (a - b);
}

/* A byte string is NULL when empty, else lies wholly in the datagram (plain
 * AVP) or in the scratch buffer (hidden AVP, RFC 2661 section 4.3). */
static void check_bytes(struct l2tp_bytes b, bool hidden, const struct bufs *in)
{
	if (b.len == 0) {
		FUZZ_CHECK(b.p == NULL);
		return;
	}
	FUZZ_CHECK(b.len <= L2TP_AVP_MAX_VALUE);
	if (hidden)
		FUZZ_CHECK(inside(b.p, b.len, in->scratch, in->scratch_len));
	else
		FUZZ_CHECK(inside(b.p, b.len, in->data, in->size));
}

static void check_fields(const struct l2tp_msg *m, const struct bufs *in)
{
	for (unsigned t = 0; t < 64; t++) {
		if (!l2tp_msg_has(m, t))
			continue;
		const struct l2tp_avp_info *ai = l2tp_avp_info_get(t);
		/* Only AVPs RFC 2661 defines are ever marked present. */
		FUZZ_CHECK(ai != NULL);
		FUZZ_CHECK(ai->type == t);
		bool hidden = (m->hidden & l2tp_avp_bit(t)) != 0;
		/* What encode would write back must obey the table. */
		FUZZ_CHECK(l2tp_avp_value_len(ai, m) >= 0);
		switch ((enum l2tp_avp_kind)ai->kind) {
		case L2TP_KIND_BYTES:
			check_bytes(
				*(const struct l2tp_bytes *)avp_field(m, ai),
				hidden, in);
			break;
		case L2TP_KIND_RESULT: {
			const struct l2tp_result_code *rc = avp_field(m, ai);
			check_bytes(rc->message, hidden, in);
			if (rc->message.len)
				FUZZ_CHECK(rc->has_error);
			break;
		}
		case L2TP_KIND_Q931:
			check_bytes(((const struct l2tp_q931_cause *)avp_field(
					     m, ai))
					    ->advisory,
				    hidden, in);
			break;
		default:
			break;
		}
	}
	FUZZ_CHECK(m->n_vendor <= L2TP_MAX_VENDOR_AVPS);
	for (unsigned i = 0; i < m->n_vendor; i++) {
		const struct l2tp_vendor_avp *va = &m->vendor[i];
		FUZZ_CHECK(va->vendor != L2TP_VENDOR_IETF);
		FUZZ_CHECK(!va->mandatory);
		check_bytes(va->value, va->hidden, in);
	}
}

/* Everything a successful decode promises about m. */
static void check_decoded(const struct l2tp_msg *m, const struct bufs *in,
			  bool with_secret)
{
	FUZZ_CHECK(m->hdr.control && m->hdr.has_length && m->hdr.has_seq);
	FUZZ_CHECK(m->hdr.length == in->size);
	if (m->type == L2TP_MSG_ZLB) {
		FUZZ_CHECK(m->hdr.payload_len == 0);
		FUZZ_CHECK(m->present == 0 && m->hidden == 0 &&
			   m->n_vendor == 0 && m->n_vendor_dropped == 0 &&
			   m->n_unexpected == 0);
		return;
	}
	const struct l2tp_msg_spec *spec = l2tp_msg_spec_get(m->type);
	FUZZ_CHECK(spec != NULL && spec->type == m->type);
	FUZZ_CHECK(l2tp_msg_has(m, L2TP_AVP_MESSAGE_TYPE));
	FUZZ_CHECK((spec->required & ~m->present) == 0);
	/* Known AVPs outside the spec are kept but counted. */
	uint64_t allowed = spec->required | spec->optional;
	FUZZ_CHECK(m->n_unexpected >= popcount64(m->present & ~allowed));

	/* Hidden AVPs: only with a secret, only present ones, only those
	 * RFC 2661 section 4.4 allows to be hidden. */
	FUZZ_CHECK((m->hidden & ~m->present) == 0);
	if (!with_secret)
		FUZZ_CHECK(m->hidden == 0);
	if (m->hidden)
		FUZZ_CHECK(l2tp_msg_has(m, L2TP_AVP_RANDOM_VECTOR));
	for (unsigned t = 0; t < 64; t++) {
		if (!(m->hidden & l2tp_avp_bit(t)))
			continue;
		const struct l2tp_avp_info *ai = l2tp_avp_info_get(t);
		FUZZ_CHECK(ai != NULL && ai->hideable);
	}
	for (unsigned i = 0; i < m->n_vendor; i++)
		FUZZ_CHECK(with_secret || !m->vendor[i].hidden);
	check_fields(m, in);
}

static void check_reject(const struct l2tp_reject *rej, size_t size,
			 bool with_secret)
{
	FUZZ_CHECK(rej->reason != L2TP_REJ_NONE);
	FUZZ_CHECK((unsigned)rej->reason < L2TP_REJ__COUNT);
	FUZZ_CHECK(rej->offset <= size);
	if (with_secret)
		FUZZ_CHECK(rej->reason != L2TP_REJ_HIDDEN_NO_SECRET);
	else
		FUZZ_CHECK(rej->reason != L2TP_REJ_HIDDEN_BAD_LENGTH);
	switch (rej->scope) {
	case L2TP_SCOPE_DROP:
		FUZZ_CHECK(rej->result_code == 0 && rej->error_code == 0);
		break;
	case L2TP_SCOPE_IGNORE:
		/* Section 4.4.1: only an unknown Message Type without M. */
		FUZZ_CHECK(rej->reason == L2TP_REJ_UNKNOWN_MESSAGE_TYPE);
		FUZZ_CHECK(rej->result_code == 0 && rej->error_code == 0);
		break;
	case L2TP_SCOPE_CLEAR_SESSION:
	case L2TP_SCOPE_CLEAR_TUNNEL: {
		/* A StopCCN or CDN goes out: it needs codes to carry. */
		FUZZ_CHECK(rej->result_code != 0 && rej->error_code != 0);
		const struct l2tp_msg_spec *spec =
			l2tp_msg_spec_get(rej->msg_type);
		if (rej->scope == L2TP_SCOPE_CLEAR_SESSION)
			FUZZ_CHECK(spec != NULL && spec->session_scope);
		else
			FUZZ_CHECK(spec == NULL || !spec->session_scope);
		break;
	}
	default:
		FUZZ_CHECK(!"reject scope out of range");
	}
}

/* The typed content of two messages is the same: type, header IDs and
 * sequence numbers, every IETF AVP value, and which AVPs were hidden. */
static void check_same_ietf(const struct l2tp_msg *a, const struct l2tp_msg *b)
{
	FUZZ_CHECK(a->type == b->type);
	FUZZ_CHECK(a->present == b->present);
	FUZZ_CHECK(a->hidden == b->hidden);
	FUZZ_CHECK(a->hdr.tunnel_id == b->hdr.tunnel_id &&
		   a->hdr.session_id == b->hdr.session_id &&
		   a->hdr.ns == b->hdr.ns && a->hdr.nr == b->hdr.nr);
	for (unsigned t = 0; t <= L2TP_AVP_TYPE_MAX; t++)
		if (l2tp_msg_has(a, t))
			check_same_value(l2tp_avp_info_get(t), a, b);
}

/* Same, plus the vendor AVPs kept (encode writes them unhidden). */
static void check_same(const struct l2tp_msg *a, const struct l2tp_msg *b)
{
	check_same_ietf(a, b);
	FUZZ_CHECK(a->n_vendor == b->n_vendor);
	for (unsigned i = 0; i < a->n_vendor; i++) {
		const struct l2tp_vendor_avp *va = &a->vendor[i];
		const struct l2tp_vendor_avp *vb = &b->vendor[i];
		FUZZ_CHECK(va->vendor == vb->vendor && va->type == vb->type);
		FUZZ_CHECK(va->mandatory == vb->mandatory);
		FUZZ_CHECK(!vb->hidden);
		check_same_bytes(va->value, vb->value);
	}
}

/* An encoder's output, decoded again from exact-size copies so that ASan
 * sees any read past the message or write past the scratch buffer. */
struct redecoded {
	uint8_t *msg;	   /* copy of the encoded bytes */
	uint8_t *scratch;  /* scratch of the same length */
	struct l2tp_msg m; /* points into msg and scratch */
};

static void redecode(const uint8_t *buf, size_t len, struct redecoded *r)
{
	const struct l2tp_secret secret = {(const uint8_t *)FUZZ_SECRET,
					   FUZZ_SECRET_LEN};
	struct l2tp_reject rej;
	r->msg = malloc(len);
	r->scratch = malloc(len);
	FUZZ_CHECK(r->msg != NULL && r->scratch != NULL);
	memcpy(r->msg, buf, len);
	int rc = l2tp_msg_decode(r->msg, len, &secret, r->scratch, len, &r->m,
				 &rej);
	if (rc != 0)
		fprintf(stderr, "re-decode rejected: %s at %zu (avp %u)\n",
			l2tp_reject_reason_name(rej.reason), rej.offset,
			rej.avp_type);
	FUZZ_CHECK(rc == 0);
	FUZZ_CHECK(rej.reason == L2TP_REJ_NONE);
}

static void redecoded_free(struct redecoded *r)
{
	free(r->msg);
	free(r->scratch);
}

/* Largest value length among the AVPs m hides (0 when none). */
static size_t max_hidden_value_len(const struct l2tp_msg *m)
{
	size_t max = 0;
	for (unsigned t = 0; t <= L2TP_AVP_TYPE_MAX; t++) {
		if (!(m->hidden & l2tp_avp_bit(t)))
			continue;
		int n = l2tp_avp_value_len(l2tp_avp_info_get(t), m);
		if (n > 0 && (size_t)n > max)
			max = (size_t)n;
	}
	return max;
}

/* m was decoded from `size` input bytes: encode it, decode it, compare. */
static void check_roundtrip(const struct l2tp_msg *m, const uint8_t *data,
			    size_t size)
{
	static uint8_t buf[L2TP_MAX_DATAGRAM], buf2[L2TP_MAX_DATAGRAM];
	struct l2tp_encode_opts opts = {
		.secret = {(const uint8_t *)FUZZ_SECRET, FUZZ_SECRET_LEN},
		.random_vector = m->random_vector,
	};
	static struct redecoded r2, r3;

	int n = l2tp_msg_encode(m, &opts, buf, sizeof(buf));
	if (n < 0)
		fprintf(stderr, "re-encode of %s failed: %d\n",
			l2tp_msg_type_name(m->type), n);
	FUZZ_CHECK(n >= L2TP_CONTROL_HDR_LEN);
	/* Canonical form drops padding, repeated Random Vectors, ignored
	 * AVPs: it is never longer than what was received. */
	FUZZ_CHECK((size_t)n <= size);
	/* Too small a buffer is refused, whatever fits. */
	FUZZ_CHECK(l2tp_msg_encode(m, &opts, buf2, (size_t)n - 1) == -ENOSPC);

	redecode(buf, (size_t)n, &r2);
	check_same(m, &r2.m);
	FUZZ_CHECK(r2.m.n_vendor_dropped == 0);
	const struct l2tp_msg_spec *spec = l2tp_msg_spec_get(r2.m.type);
	if (spec)
		FUZZ_CHECK(r2.m.n_unexpected ==
			   popcount64(r2.m.present &
				      ~(spec->required | spec->optional)));

	/* Encoding what was decoded from an encoding gives the same bytes. */
	int n2 = l2tp_msg_encode(&r2.m, &opts, buf2, sizeof(buf2));
	FUZZ_CHECK(n2 == n);
	FUZZ_CHECK(memcmp(buf, buf2, (size_t)n) == 0);
	redecoded_free(&r2);

	if (!m->hidden)
		return;
	/* Hide again with padding (section 4.3) taken from the input: the
	 * decoder must strip it. */
	opts.hide_pad = (uint16_t)(1 + size % 31);
	opts.pad_bytes = size >= opts.hide_pad ? data : NULL;
	n2 = l2tp_msg_encode(m, &opts, buf2, sizeof(buf2));
	if (2 + max_hidden_value_len(m) + opts.hide_pad > L2TP_AVP_MAX_VALUE) {
		FUZZ_CHECK(n2 == -EINVAL);
		return;
	}
	size_t want = (size_t)n + (size_t)popcount64(m->hidden) * opts.hide_pad;
	if (want > L2TP_MAX_DATAGRAM) {
		FUZZ_CHECK(n2 == -ENOSPC);
		return;
	}
	FUZZ_CHECK(n2 >= 0 && (size_t)n2 == want);
	redecode(buf2, (size_t)n2, &r3);
	check_same(m, &r3.m);
	redecoded_free(&r3);
}

/* Decode one datagram both ways and check everything above. */
static void check_datagram(const uint8_t *data, size_t size)
{
	const struct l2tp_secret secret = {(const uint8_t *)FUZZ_SECRET,
					   FUZZ_SECRET_LEN};
	uint8_t *scratch = malloc(size ? size : 1);
	FUZZ_CHECK(scratch != NULL);
	const struct bufs in = {data, size, scratch, size};
	static struct l2tp_msg plain, keyed;
	struct l2tp_reject rej;

	/* Without a secret: hidden AVPs cannot be read. */
	int rc0 =
		l2tp_msg_decode(data, size, NULL, scratch, size, &plain, &rej);
	FUZZ_CHECK(rc0 == 0 || rc0 == -EBADMSG);
	if (rc0 == 0) {
		FUZZ_CHECK(rej.reason == L2TP_REJ_NONE);
		check_decoded(&plain, &in, false);
		check_roundtrip(&plain, data, size);
	} else {
		check_reject(&rej, size, false);
	}

	/* With the secret; the scratch buffer is reused, as a worker would. */
	int rc1 = l2tp_msg_decode(data, size, &secret, scratch, size, &keyed,
				  &rej);
	FUZZ_CHECK(rc1 == 0 || rc1 == -EBADMSG);
	if (rc1 == 0) {
		FUZZ_CHECK(rej.reason == L2TP_REJ_NONE);
		check_decoded(&keyed, &in, true);
		check_roundtrip(&keyed, data, size);
	} else {
		check_reject(&rej, size, true);
	}

	/* A secret only adds what was hidden: a message readable without it
	 * reads the same with it, and each vendor AVP is kept or counted. */
	if (rc0 == 0) {
		FUZZ_CHECK(rc1 == 0);
		check_same_ietf(&plain, &keyed);
		FUZZ_CHECK(plain.n_unexpected == keyed.n_unexpected);
		FUZZ_CHECK(plain.n_vendor + plain.n_vendor_dropped ==
			   keyed.n_vendor + keyed.n_vendor_dropped);
	}

	/* A scratch buffer one byte short is refused before any AVP. */
	if (rc1 == 0) {
		int rc = l2tp_msg_decode(data, size, &secret, scratch, size - 1,
					 &keyed, &rej);
		FUZZ_CHECK(rc == -EBADMSG &&
			   rej.reason == L2TP_REJ_SCRATCH_TOO_SMALL);
	}
	free(scratch);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	check_datagram(data, size);

	/* The same bytes with their H-bit AVPs hidden first (hide_clear.h),
	 * so that mutations reach the code after a successful unhide. */
	uint8_t *copy = malloc(size ? size : 1);
	FUZZ_CHECK(copy != NULL);
	if (size)
		memcpy(copy, data, size);
	if (fuzz_hide_clear(copy, size, 1) > 0)
		check_datagram(copy, size);
	free(copy);
	return 0;
}
