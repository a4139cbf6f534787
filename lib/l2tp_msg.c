/* Control message decode and encode: the AVP walk with RFC 2661 section 4.1
 * rules (6 <= length <= remaining, always advance by the declared length,
 * unknown M-bit AVPs reject the message, reserved bits make an AVP unknown),
 * hidden AVPs (4.3) and the per-message spec check (6). */
#include "l2tp_msg.h"

#include <errno.h>
#include <string.h>

#include "byteio.h"
#include "l2tp_avp.h"
#include "l2tp_hidden.h"

/* Fill *rej for a problem inside the AVPs. Framing problems (we cannot trust
 * the message) are dropped; semantic ones clear the session or tunnel the
 * message belongs to, with a general error result code. */
static int l2tp_msg_reject(struct l2tp_reject *rej,
			   const struct l2tp_msg_spec *spec,
			   enum l2tp_reject_reason reason, size_t offset,
			   uint16_t vendor, uint16_t type, uint16_t error_code)
{
	rej->reason = reason;
	rej->offset = offset;
	rej->msg_type = spec ? spec->type : 0;
	rej->avp_vendor = vendor;
	rej->avp_type = type;
	if (!spec) {
		rej->scope = L2TP_SCOPE_DROP;
		return -EBADMSG;
	}
	rej->scope = spec->session_scope ? L2TP_SCOPE_CLEAR_SESSION
					 : L2TP_SCOPE_CLEAR_TUNNEL;
	/* StopCCN and CDN both use 2 for "see the error code". */
	rej->result_code = spec->session_scope ? L2TP_CDN_GENERAL_ERROR
					       : L2TP_STOPCCN_GENERAL_ERROR;
	rej->error_code = error_code;
	return -EBADMSG;
}

static int l2tp_msg_drop(struct l2tp_reject *rej, enum l2tp_reject_reason r,
			 size_t offset, uint16_t vendor, uint16_t type)
{
	return l2tp_msg_reject(rej, NULL, r, offset, vendor, type, 0);
}

/* State of one AVP walk. */
struct l2tp_walk {
	const struct l2tp_secret *secret; /* may be NULL */
	struct l2tp_bytes rv;		  /* last Random Vector seen */
	uint8_t *scratch;		  /* unhidden values go here */
	size_t scratch_used;		  /* bytes of scratch taken */
	size_t scratch_len;		  /* bytes of scratch available */
};

/* Unhide the value (v, vlen) into scratch and point v at the result. Returns a reject reason or NONE. */
static enum l2tp_reject_reason l2tp_msg_unhide(struct l2tp_walk *w,
					       uint16_t type, const uint8_t **v,
					       size_t *vlen)
{
	size_t orig;
	if (!w->rv.len)
		return L2TP_REJ_HIDDEN_NO_VECTOR;
	if (!w->secret || !w->secret->len)
		return L2TP_REJ_HIDDEN_NO_SECRET;
	uint8_t *out = w->scratch + w->scratch_used;
	if (l2tp_hidden_unhide(type, w->secret->p, w->secret->len, w->rv.p,
			       w->rv.len, *v, *vlen, out,
			       w->scratch_len - w->scratch_used, &orig) < 0)
		return L2TP_REJ_HIDDEN_BAD_LENGTH;
	w->scratch_used += *vlen;
	*v = out + 2;
	*vlen = orig;
	return L2TP_REJ_NONE;
}

static void l2tp_msg_keep_vendor(struct l2tp_msg *m, uint16_t vendor,
				 uint16_t type, bool hidden, const uint8_t *v,
				 size_t vlen)
{
	if (m->n_vendor >= L2TP_MAX_VENDOR_AVPS) {
		m->n_vendor_dropped++;
		return;
	}
	struct l2tp_vendor_avp *va = &m->vendor[m->n_vendor++];
	va->vendor = vendor;
	va->type = type;
	va->mandatory = false;
	va->hidden = hidden;
	va->value.p = vlen ? v : NULL;
	va->value.len = (uint16_t)vlen;
}

int l2tp_msg_decode(const uint8_t *p, size_t len,
		    const struct l2tp_secret *secret, uint8_t *scratch,
		    size_t scratch_len, struct l2tp_msg *m,
		    struct l2tp_reject *rej)
{
	struct l2tp_reject dummy;
	const struct l2tp_msg_spec *spec = NULL;
	struct l2tp_walk w = {.secret = secret,
			      .scratch = scratch,
			      .scratch_len = scratch_len};
	int rc;

	if (!rej)
		rej = &dummy;
	memset(m, 0, sizeof(*m));
	memset(rej, 0, sizeof(*rej));
	rc = l2tp_header_decode(p, len, &m->hdr, rej);
	if (rc < 0)
		return rc;
	if (!m->hdr.control)
		return l2tp_msg_drop(rej, L2TP_REJ_NOT_CONTROL, 0, 0, 0);
	if (!scratch || scratch_len < len)
		return l2tp_msg_drop(rej, L2TP_REJ_SCRATCH_TOO_SMALL, 0, 0, 0);

	struct byteio_rd r = {
		.p = p, .len = m->hdr.length, .off = m->hdr.payload_off};
	m->type = L2TP_MSG_ZLB; /* stays so when there are no AVPs */
	while (byteio_left(&r) > 0) {
		size_t at = r.off;
		uint16_t word = 0, vendor = 0, type = 0;
		if (byteio_left(&r) < L2TP_AVP_HDR_LEN)
			return l2tp_msg_drop(rej, L2TP_REJ_AVP_TRUNCATED, at, 0,
					     0);
		byteio_get_u16(&r, &word);
		byteio_get_u16(&r, &vendor);
		byteio_get_u16(&r, &type);
		size_t alen = word & L2TP_AVP_LEN_MASK;
		if (alen < L2TP_AVP_HDR_LEN)
			return l2tp_msg_drop(rej, L2TP_REJ_AVP_LENGTH_SHORT, at,
					     vendor, type);
		if (alen - L2TP_AVP_HDR_LEN > byteio_left(&r))
			return l2tp_msg_drop(rej, L2TP_REJ_AVP_LENGTH_BEYOND,
					     at, vendor, type);
		const uint8_t *v = p + r.off;
		size_t vlen = alen - L2TP_AVP_HDR_LEN;
		byteio_skip(&r,
			    vlen); /* always advance by the declared length */
		bool mandatory = word & L2TP_AVP_M;
		bool hidden = word & L2TP_AVP_H;
		bool reserved = word & L2TP_AVP_RESERVED;

		if (!spec) {
			/* Section 4.2: Message Type MUST be the first AVP. */
			if (vendor != L2TP_VENDOR_IETF ||
			    type != L2TP_AVP_MESSAGE_TYPE || hidden || reserved)
				return l2tp_msg_drop(
					rej, L2TP_REJ_FIRST_NOT_MESSAGE_TYPE,
					at, vendor, type);
			if (vlen != 2)
				return l2tp_msg_drop(rej,
						     L2TP_REJ_AVP_VALUE_LENGTH,
						     at, vendor, type);
			m->type = byteio_load_u16(v);
			l2tp_msg_set(m, L2TP_AVP_MESSAGE_TYPE);
			spec = l2tp_msg_spec_get(m->type);
			if (!spec) {
				/* Section 4.4.1: unknown type with M set
				 * clears the tunnel, else it may be ignored. */
				l2tp_msg_drop(rej,
					      L2TP_REJ_UNKNOWN_MESSAGE_TYPE, at,
					      vendor, type);
				rej->msg_type = m->type;
				rej->scope = mandatory ? L2TP_SCOPE_CLEAR_TUNNEL
						       : L2TP_SCOPE_IGNORE;
				rej->result_code =
					mandatory ? L2TP_STOPCCN_GENERAL_ERROR
						  : 0;
				rej->error_code =
					mandatory ? L2TP_ERR_BAD_VALUE : 0;
				return -EBADMSG;
			}
			continue;
		}

		const struct l2tp_avp_info *ai =
			vendor == L2TP_VENDOR_IETF ? l2tp_avp_info_get(type)
						   : NULL;
		/* Section 4.1: an AVP with reserved bits set is treated as
		 * unrecognised; an unrecognised AVP with M set rejects the
		 * message (and clears its session or tunnel). */
		if (!ai || reserved) {
			if (mandatory)
				return l2tp_msg_reject(
					rej, spec,
					L2TP_REJ_AVP_UNKNOWN_MANDATORY, at,
					vendor, type, L2TP_ERR_UNKNOWN_M_AVP);
			if (reserved || vendor == L2TP_VENDOR_IETF) {
				m->n_unexpected++;
				continue;
			}
			if (hidden && l2tp_msg_unhide(&w, type, &v, &vlen) !=
					      L2TP_REJ_NONE) {
				m->n_vendor_dropped++;
				continue;
			}
			l2tp_msg_keep_vendor(m, vendor, type, hidden, v, vlen);
			continue;
		}
		/* RFC 2661 4.4: several AVPs "MUST NOT be hidden". */
		if (type == L2TP_AVP_MESSAGE_TYPE || (hidden && !ai->hideable))
			return l2tp_msg_reject(
				rej, spec,
				type == L2TP_AVP_MESSAGE_TYPE
					? L2TP_REJ_AVP_DUPLICATE
					: L2TP_REJ_HIDDEN_NOT_ALLOWED,
				at, vendor, type, L2TP_ERR_BAD_VALUE);
		if (type != L2TP_AVP_RANDOM_VECTOR && l2tp_msg_has(m, type))
			return l2tp_msg_reject(
				rej, spec, L2TP_REJ_AVP_DUPLICATE, at, vendor,
				type, L2TP_ERR_BAD_VALUE);
		if (hidden) {
			enum l2tp_reject_reason why =
				l2tp_msg_unhide(&w, type, &v, &vlen);
			if (why != L2TP_REJ_NONE)
				return l2tp_msg_reject(rej, spec, why, at,
						       vendor, type,
						       L2TP_ERR_BAD_VALUE);
			m->hidden |= l2tp_avp_bit(type);
		}
		if (l2tp_avp_value_decode(ai, v, vlen, m) < 0)
			return l2tp_msg_reject(
				rej, spec, L2TP_REJ_AVP_VALUE_LENGTH, at,
				vendor, type, L2TP_ERR_BAD_LENGTH);
		if (type == L2TP_AVP_RANDOM_VECTOR)
			w.rv = m->random_vector; /* applies to what follows */
		l2tp_msg_set(m, type);
		if (!((spec->required | spec->optional) & l2tp_avp_bit(type)))
			m->n_unexpected++;
	}
	if (spec) {
		uint64_t missing = spec->required & ~m->present;
		if (missing) {
			unsigned t = 0;
			while (!(missing & l2tp_avp_bit(t)))
				t++;
			return l2tp_msg_reject(rej, spec, L2TP_REJ_MISSING_AVP,
					       m->hdr.payload_off,
					       L2TP_VENDOR_IETF, (uint16_t)t,
					       L2TP_ERR_BAD_VALUE);
		}
	}
	return 0;
}

/* Output cursor for encode; a write past cap sets overflow and writes
 * nothing, so the caller checks once at the end. */
struct l2tp_out {
	uint8_t *buf;  /* output buffer */
	size_t cap;    /* its size */
	size_t len;    /* bytes written */
	bool overflow; /* a write did not fit */
};

/* Reserve an AVP of `vlen` value bytes; returns the value pointer or NULL. */
static uint8_t *l2tp_out_avp(struct l2tp_out *o, uint16_t flags,
			     uint16_t vendor, uint16_t type, size_t vlen)
{
	size_t alen = L2TP_AVP_HDR_LEN + vlen;
	if (o->overflow || o->cap - o->len < alen) {
		o->overflow = true;
		return NULL;
	}
	uint8_t *a = o->buf + o->len;
	byteio_put_u16(a, (uint16_t)(flags | alen));
	byteio_put_u16(a + 2, vendor);
	byteio_put_u16(a + 4, type);
	o->len += alen;
	return a + L2TP_AVP_HDR_LEN;
}

static int l2tp_msg_put_bytes_avp(struct l2tp_out *o, uint16_t flags,
				  uint16_t vendor, uint16_t type,
				  struct l2tp_bytes b)
{
	uint8_t *v = l2tp_out_avp(o, flags, vendor, type, b.len);
	if (v && b.len)
		memcpy(v, b.p, b.len);
	return 0;
}

static void l2tp_msg_put_header(uint8_t *buf, const struct l2tp_msg *m,
				size_t len)
{
	byteio_put_u16(buf,
		       L2TP_FLAG_T | L2TP_FLAG_L | L2TP_FLAG_S | L2TP_VERSION);
	byteio_put_u16(buf + 2, (uint16_t)len);
	byteio_put_u16(buf + 4, m->hdr.tunnel_id);
	byteio_put_u16(buf + 6, m->hdr.session_id);
	byteio_put_u16(buf + 8, m->hdr.ns);
	byteio_put_u16(buf + 10, m->hdr.nr);
}

int l2tp_msg_encode_zlb(uint16_t tunnel_id, uint16_t session_id, uint16_t ns,
			uint16_t nr, uint8_t *buf, size_t cap)
{
	struct l2tp_msg m = {.hdr = {.tunnel_id = tunnel_id,
				     .session_id = session_id,
				     .ns = ns,
				     .nr = nr}};
	if (cap < L2TP_CONTROL_HDR_LEN)
		return -ENOSPC;
	l2tp_msg_put_header(buf, &m, L2TP_CONTROL_HDR_LEN);
	return L2TP_CONTROL_HDR_LEN;
}

int l2tp_msg_encode(const struct l2tp_msg *m,
		    const struct l2tp_encode_opts *opts, uint8_t *buf,
		    size_t cap)
{
	if (m->type == L2TP_MSG_ZLB)
		return l2tp_msg_encode_zlb(m->hdr.tunnel_id, m->hdr.session_id,
					   m->hdr.ns, m->hdr.nr, buf, cap);
	const struct l2tp_msg_spec *spec = l2tp_msg_spec_get(m->type);
	uint64_t present = m->present | l2tp_avp_bit(L2TP_AVP_MESSAGE_TYPE);
	if (!spec || (spec->required & ~present) ||
	    (present >> (L2TP_AVP_TYPE_MAX + 1)))
		return -EINVAL;
	bool hiding = m->hidden != 0;
	if (hiding) {
		if (!opts || !opts->secret.len || !opts->random_vector.len ||
		    opts->random_vector.len > L2TP_AVP_MAX_VALUE ||
		    (m->hidden & ~present) ||
		    (m->hidden & l2tp_avp_bit(L2TP_AVP_RANDOM_VECTOR)))
			return -EINVAL;
	}
	if (cap > L2TP_MAX_DATAGRAM)
		cap = L2TP_MAX_DATAGRAM;
	if (cap < L2TP_CONTROL_HDR_LEN)
		return -ENOSPC;
	struct l2tp_out o = {
		.buf = buf, .cap = cap, .len = L2TP_CONTROL_HDR_LEN};

	for (unsigned t = 0; t <= L2TP_AVP_TYPE_MAX; t++) {
		if (!(present & l2tp_avp_bit(t)))
			continue;
		const struct l2tp_avp_info *ai = l2tp_avp_info_get(t);
		if (!ai)
			return -EINVAL;
		uint16_t flags = ai->mandatory ? L2TP_AVP_M : 0;
		if (t == L2TP_AVP_RANDOM_VECTOR && hiding)
			continue; /* opts' vector was written after type */
		int vlen = l2tp_avp_value_len(ai, m);
		if (vlen < 0)
			return -EINVAL;
		if (!(m->hidden & l2tp_avp_bit(t))) {
			uint8_t *v = l2tp_out_avp(&o, flags, 0, (uint16_t)t,
						  (size_t)vlen);
			if (v)
				l2tp_avp_value_encode(ai, m, v);
		} else {
			size_t hlen = 2u + (size_t)vlen + opts->hide_pad;
			if (!ai->hideable || hlen > L2TP_AVP_MAX_VALUE)
				return -EINVAL;
			uint8_t *v = l2tp_out_avp(&o, flags | L2TP_AVP_H, 0,
						  (uint16_t)t, hlen);
			if (v) {
				l2tp_avp_value_encode(ai, m, v + 2);
				l2tp_hidden_hide((uint16_t)t, opts->secret.p,
						 opts->secret.len,
						 opts->random_vector.p,
						 opts->random_vector.len, v + 2,
						 (size_t)vlen, opts->pad_bytes,
						 opts->hide_pad, v, hlen);
			}
		}
		/* Section 4.3: the Random Vector precedes every hidden AVP. */
		if (t == L2TP_AVP_MESSAGE_TYPE && hiding)
			l2tp_msg_put_bytes_avp(&o, L2TP_AVP_M, 0,
					       L2TP_AVP_RANDOM_VECTOR,
					       opts->random_vector);
	}
	for (unsigned i = 0; i < m->n_vendor && i < L2TP_MAX_VENDOR_AVPS; i++) {
		const struct l2tp_vendor_avp *va = &m->vendor[i];
		if (va->value.len > L2TP_AVP_MAX_VALUE ||
		    va->vendor == L2TP_VENDOR_IETF)
			return -EINVAL;
		l2tp_msg_put_bytes_avp(&o, va->mandatory ? L2TP_AVP_M : 0,
				       va->vendor, va->type, va->value);
	}
	if (o.overflow)
		return -ENOSPC;
	l2tp_msg_put_header(buf, m, o.len);
	return (int)o.len;
}
