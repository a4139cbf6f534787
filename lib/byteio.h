/* Bounds-checked big-endian read cursor and unchecked writers for callers that
 * have already sized their buffer. Every protocol decoder reads through these. */
#ifndef TANDEM_BYTEIO_H
#define TANDEM_BYTEIO_H

#include <stddef.h>
#include <stdint.h>

struct byteio_rd {
	const uint8_t *p; /* start of the buffer */
	size_t len;	  /* bytes in the buffer */
	size_t off;	  /* next byte to read */
};

static inline size_t byteio_left(const struct byteio_rd *r)
{
	return r->len - r->off;
}

static inline int byteio_get_u8(struct byteio_rd *r, uint8_t *v)
{
	if (byteio_left(r) < 1)
		return -1;
	*v = r->p[r->off++];
	return 0;
}

static inline int byteio_get_u16(struct byteio_rd *r, uint16_t *v)
{
	if (byteio_left(r) < 2)
		return -1;
	*v = (uint16_t)(r->p[r->off] << 8 | r->p[r->off + 1]);
	r->off += 2;
	return 0;
}

static inline int byteio_get_u32(struct byteio_rd *r, uint32_t *v)
{
	if (byteio_left(r) < 4)
		return -1;
	const uint8_t *q = r->p + r->off;
	*v = (uint32_t)q[0] << 24 | (uint32_t)q[1] << 16 | (uint32_t)q[2] << 8 |
	     q[3];
	r->off += 4;
	return 0;
}

static inline int byteio_get_u64(struct byteio_rd *r, uint64_t *v)
{
	uint32_t hi = 0, lo = 0;
	if (byteio_left(r) < 8)
		return -1;
	byteio_get_u32(r, &hi);
	byteio_get_u32(r, &lo);
	*v = (uint64_t)hi << 32 | lo;
	return 0;
}

static inline int byteio_skip(struct byteio_rd *r, size_t n)
{
	if (byteio_left(r) < n)
		return -1;
	r->off += n;
	return 0;
}

static inline uint16_t byteio_load_u16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static inline void byteio_put_u16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static inline void byteio_put_u32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

static inline void byteio_put_u64(uint8_t *p, uint64_t v)
{
	byteio_put_u32(p, (uint32_t)(v >> 32));
	byteio_put_u32(p + 4, (uint32_t)v);
}

#endif
