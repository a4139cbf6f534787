/* L2TPv2 header decode and data-header encode, RFC 2661 section 3.1. */
#include "l2tp_header.h"

#include <errno.h>
#include <string.h>

#include "byteio.h"
#include "l2tp_const.h"

static int l2tp_header_reject(struct l2tp_reject *rej,
			      enum l2tp_reject_reason reason, size_t offset)
{
	if (!rej) /* the caller only wants the verdict */
		return -EBADMSG;
	memset(rej, 0, sizeof(*rej));
	rej->reason = reason;
	rej->scope = L2TP_SCOPE_DROP;
	rej->offset = offset;
	return -EBADMSG;
}

int l2tp_header_decode(const uint8_t *p, size_t len, struct l2tp_header *h,
		       struct l2tp_reject *rej)
{
	struct byteio_rd r = {.p = p, .len = len};
	uint16_t flags;

	memset(h, 0, sizeof(*h));
	if (byteio_get_u16(&r, &flags) < 0)
		return l2tp_header_reject(rej, L2TP_REJ_SHORT_HEADER, 0);
	h->flags = flags;
	h->version = flags & L2TP_VER_MASK;
	/* Section 3.1: an unknown Ver MUST be discarded. Version 3 (RFC 3931)
	 * may share the port, so it gets its own reason for the counters. */
	if (h->version == L2TP_VERSION_L2TPV3)
		return l2tp_header_reject(rej, L2TP_REJ_VERSION3, 1);
	if (h->version != L2TP_VERSION)
		return l2tp_header_reject(rej, L2TP_REJ_BAD_VERSION, 1);
	h->control = flags & L2TP_FLAG_T;
	h->has_length = flags & L2TP_FLAG_L;
	h->has_seq = flags & L2TP_FLAG_S;
	h->has_offset = flags & L2TP_FLAG_O;
	h->priority = flags & L2TP_FLAG_P;
	/* Section 3.1: control messages MUST have L and S set and O clear. */
	if (h->control && (!h->has_length || !h->has_seq || h->has_offset))
		return l2tp_header_reject(rej, L2TP_REJ_CONTROL_FLAGS, 0);
	if (len > L2TP_MAX_DATAGRAM)
		return l2tp_header_reject(rej, L2TP_REJ_LENGTH_TRAILING,
					  L2TP_MAX_DATAGRAM);

	if (h->has_length && byteio_get_u16(&r, &h->length) < 0)
		return l2tp_header_reject(rej, L2TP_REJ_SHORT_HEADER, r.off);
	if (byteio_get_u16(&r, &h->tunnel_id) < 0 ||
	    byteio_get_u16(&r, &h->session_id) < 0)
		return l2tp_header_reject(rej, L2TP_REJ_SHORT_HEADER, r.off);
	if (h->has_seq &&
	    (byteio_get_u16(&r, &h->ns) < 0 || byteio_get_u16(&r, &h->nr) < 0))
		return l2tp_header_reject(rej, L2TP_REJ_SHORT_HEADER, r.off);
	if (h->has_offset && byteio_get_u16(&r, &h->offset_size) < 0)
		return l2tp_header_reject(rej, L2TP_REJ_SHORT_HEADER, r.off);

	if (h->has_length) {
		if (h->length > len)
			return l2tp_header_reject(rej, L2TP_REJ_LENGTH_BEYOND,
						  2);
		if (h->length < r.off)
			return l2tp_header_reject(rej, L2TP_REJ_LENGTH_SHORT,
						  2);
		/* UDP delivers the exact datagram, so bytes after Length are
		 * not padding but a malformed or spliced packet. */
		if (h->length < len)
			return l2tp_header_reject(rej, L2TP_REJ_LENGTH_TRAILING,
						  h->length);
	} else {
		h->length = (uint16_t)len;
	}
	if (h->has_offset && h->offset_size > h->length - r.off)
		return l2tp_header_reject(rej, L2TP_REJ_OFFSET_BEYOND, r.off);
	h->payload_off =
		(uint16_t)(r.off + (h->has_offset ? h->offset_size : 0));
	h->payload_len = (uint16_t)(h->length - h->payload_off);
	if (rej)
		memset(rej, 0, sizeof(*rej));
	return 0;
}

int l2tp_header_encode_data(uint8_t *buf, size_t cap, uint16_t tunnel_id,
			    uint16_t session_id, const struct l2tp_data_opts *o,
			    size_t payload_len)
{
	static const struct l2tp_data_opts none;
	if (!o)
		o = &none;
	size_t hlen = 6 + (o->with_length ? 2 : 0) + (o->with_seq ? 4 : 0) +
		      (o->with_offset ? 2u + o->offset_size : 0);
	if (hlen + payload_len > L2TP_MAX_DATAGRAM)
		return -EMSGSIZE;
	if (cap < hlen)
		return -ENOSPC;
	uint16_t flags = L2TP_VERSION;
	flags |= o->with_length ? L2TP_FLAG_L : 0;
	flags |= o->with_seq ? L2TP_FLAG_S : 0;
	flags |= o->with_offset ? L2TP_FLAG_O : 0;
	flags |= o->priority ? L2TP_FLAG_P : 0;
	size_t off = 0;
	byteio_put_u16(buf + off, flags);
	off += 2;
	if (o->with_length) {
		byteio_put_u16(buf + off, (uint16_t)(hlen + payload_len));
		off += 2;
	}
	byteio_put_u16(buf + off, tunnel_id);
	byteio_put_u16(buf + off + 2, session_id);
	off += 4;
	if (o->with_seq) {
		byteio_put_u16(buf + off, o->ns);
		byteio_put_u16(buf + off + 2, o->nr);
		off += 4;
	}
	if (o->with_offset) {
		byteio_put_u16(buf + off, o->offset_size);
		off += 2;
		memset(buf + off, 0, o->offset_size);
		off += o->offset_size;
	}
	return (int)off;
}

int l2tp_header_peek(const uint8_t *p, size_t len, uint16_t *tunnel_id,
		     bool *control)
{
	if (len < 6)
		return -EBADMSG;
	uint16_t flags = byteio_load_u16(p);
	size_t off = (flags & L2TP_FLAG_L) ? 4 : 2;
	if (len < off + 2)
		return -EBADMSG;
	*tunnel_id = byteio_load_u16(p + off);
	*control = flags & L2TP_FLAG_T;
	return 0;
}
