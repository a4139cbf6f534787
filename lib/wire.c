/* Frontend <-> worker batch codec. Layout (all big-endian):
 *   magic u16 | version u8 | type u8 | count u16 | origin_len u8 | origin
 *   then count records: family u8 | addr 4 or 16 | port u16 | len u16 | data */
#include "wire.h"

#include <errno.h>
#include <string.h>

#include "byteio.h"

#define WIRE_HDR_FIXED 7

const char *wire_type_name(unsigned type)
{
	switch (type) {
#define WIRE_X(name, val, desc)                                                \
	case val:                                                              \
		return #name;
		WIRE_TYPES(WIRE_X)
#undef WIRE_X
	}
	return "unknown";
}

int wire_writer_begin(struct wire_writer *w, uint8_t *buf, size_t cap,
		      enum wire_type type, const char *origin)
{
	size_t olen = origin ? strlen(origin) : 0;
	if (olen > WIRE_MAX_ORIGIN)
		return -EINVAL;
	if (cap < WIRE_HDR_FIXED + olen)
		return -ENOSPC;
	w->buf = buf;
	w->cap = cap > WIRE_MAX_MSG ? WIRE_MAX_MSG : cap;
	w->count = 0;
	byteio_put_u16(buf, WIRE_MAGIC);
	buf[2] = WIRE_VERSION;
	buf[3] = (uint8_t)type;
	byteio_put_u16(buf + 4, 0);
	buf[6] = (uint8_t)olen;
	if (olen)
		memcpy(buf + WIRE_HDR_FIXED, origin, olen);
	w->len = WIRE_HDR_FIXED + olen;
	return 0;
}

int wire_writer_add(struct wire_writer *w, const struct wire_packet *p)
{
	size_t alen;
	if (p->peer.family == 4)
		alen = 4;
	else if (p->peer.family == 6)
		alen = 16;
	else
		return -EINVAL;
	size_t need = 1 + alen + 2 + 2 + p->len;
	if (w->count == UINT16_MAX || w->cap - w->len < need)
		return -ENOSPC;
	uint8_t *q = w->buf + w->len;
	*q++ = p->peer.family;
	memcpy(q, p->peer.addr, alen);
	q += alen;
	byteio_put_u16(q, p->peer.port);
	byteio_put_u16(q + 2, p->len);
	if (p->len)
		memcpy(q + 4, p->data, p->len);
	w->len += need;
	w->count++;
	return 0;
}

size_t wire_writer_finish(struct wire_writer *w)
{
	byteio_put_u16(w->buf + 4, w->count);
	return w->len;
}

int wire_reader_begin(struct wire_reader *r, const uint8_t *p, size_t len)
{
	struct byteio_rd rd = {.p = p, .len = len};
	uint16_t magic;
	uint8_t olen;
	memset(r, 0, sizeof(*r));
	if (byteio_get_u16(&rd, &magic) < 0 || magic != WIRE_MAGIC ||
	    byteio_get_u8(&rd, &r->version) < 0 ||
	    byteio_get_u8(&rd, &r->type) < 0 ||
	    byteio_get_u16(&rd, &r->count) < 0 ||
	    byteio_get_u8(&rd, &olen) < 0 || byteio_left(&rd) < olen)
		return -EBADMSG;
	/* A newer sender must speak our version during a rolling upgrade. */
	if (r->version != WIRE_VERSION)
		return -EBADMSG;
	if (!strcmp(wire_type_name(r->type), "unknown"))
		return -EBADMSG;
	memcpy(r->origin, p + rd.off, olen);
	r->origin[olen] = '\0';
	if (memchr(r->origin, '\0', olen))
		return -EBADMSG;
	r->p = p;
	r->len = len;
	r->off = rd.off + olen;
	return 0;
}

int wire_reader_next(struct wire_reader *r, struct wire_packet *out)
{
	struct byteio_rd rd = {.p = r->p, .len = r->len, .off = r->off};
	if (r->seen == r->count)
		return byteio_left(&rd) == 0 ? 0 : -EBADMSG;
	memset(out, 0, sizeof(*out));
	if (byteio_get_u8(&rd, &out->peer.family) < 0)
		return -EBADMSG;
	size_t alen = out->peer.family == 4   ? 4
		      : out->peer.family == 6 ? 16
					      : 0;
	if (!alen || byteio_left(&rd) < alen)
		return -EBADMSG;
	memcpy(out->peer.addr, r->p + rd.off, alen);
	byteio_skip(&rd, alen);
	if (byteio_get_u16(&rd, &out->peer.port) < 0 ||
	    byteio_get_u16(&rd, &out->len) < 0 || byteio_left(&rd) < out->len)
		return -EBADMSG;
	out->data = r->p + rd.off;
	byteio_skip(&rd, out->len);
	r->off = rd.off;
	r->seen++;
	return 1;
}

#define WIRE_FNV1A_OFFSET 2166136261u
#define WIRE_FNV1A_PRIME  16777619u

static uint32_t wire_fnv1a(uint32_t h, const uint8_t *p, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		h ^= p[i];
		h *= WIRE_FNV1A_PRIME;
	}
	return h;
}

uint32_t wire_peer_hash(const struct wire_addr *peer, uint16_t peer_tid)
{
	uint8_t tail[4] = {(uint8_t)(peer->port >> 8), (uint8_t)peer->port,
			   (uint8_t)(peer_tid >> 8), (uint8_t)peer_tid};
	uint32_t h = wire_fnv1a(WIRE_FNV1A_OFFSET, &peer->family, 1);
	h = wire_fnv1a(h, peer->addr, peer->family == 4 ? 4 : 16);
	return wire_fnv1a(h, tail, sizeof(tail));
}
