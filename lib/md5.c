/* MD5 message digest (RFC 1321). Only used where RFC 2661 prescribes MD5:
 * tunnel authentication and hidden AVPs. */
#include "md5.h"

#include <string.h>

static uint32_t md5_rotl(uint32_t x, unsigned n)
{
	return (x << n) | (x >> (32 - n));
}

static uint32_t md5_le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	       (uint32_t)p[3] << 24;
}

/* Per-round shift amounts and the sine-derived constants, RFC 1321 3.4. */
static const uint8_t md5_shift[64] = {
	7, 12, 17, 22, 7, 12, 17, 22, 7, 12, 17, 22, 7, 12, 17, 22,
	5, 9,  14, 20, 5, 9,  14, 20, 5, 9,  14, 20, 5, 9,  14, 20,
	4, 11, 16, 23, 4, 11, 16, 23, 4, 11, 16, 23, 4, 11, 16, 23,
	6, 10, 15, 21, 6, 10, 15, 21, 6, 10, 15, 21, 6, 10, 15, 21,
};

static const uint32_t md5_k[64] = {
	0xd76aa478, 0xe8c7b756, 0x242070db, 0xc1bdceee, 0xf57c0faf, 0x4787c62a,
	0xa8304613, 0xfd469501, 0x698098d8, 0x8b44f7af, 0xffff5bb1, 0x895cd7be,
	0x6b901122, 0xfd987193, 0xa679438e, 0x49b40821, 0xf61e2562, 0xc040b340,
	0x265e5a51, 0xe9b6c7aa, 0xd62f105d, 0x02441453, 0xd8a1e681, 0xe7d3fbc8,
	0x21e1cde6, 0xc33707d6, 0xf4d50d87, 0x455a14ed, 0xa9e3e905, 0xfcefa3f8,
	0x676f02d9, 0x8d2a4c8a, 0xfffa3942, 0x8771f681, 0x6d9d6122, 0xfde5380c,
	0xa4beea44, 0x4bdecfa9, 0xf6bb4b60, 0xbebfbc70, 0x289b7ec6, 0xeaa127fa,
	0xd4ef3085, 0x04881d05, 0xd9d4d039, 0xe6db99e5, 0x1fa27cf8, 0xc4ac5665,
	0xf4292244, 0x432aff97, 0xab9423a7, 0xfc93a039, 0x655b59c3, 0x8f0ccc92,
	0xffeff47d, 0x85845dd1, 0x6fa87e4f, 0xfe2ce6e0, 0xa3014314, 0x4e0811a1,
	0xf7537e82, 0xbd3af235, 0x2ad7d2bb, 0xeb86d391,
};

static void md5_block(struct md5_ctx *c, const uint8_t *blk)
{
	uint32_t w[16];
	for (unsigned i = 0; i < 16; i++)
		w[i] = md5_le32(blk + 4 * i);
	uint32_t a = c->state[0], b = c->state[1], cc = c->state[2],
		 d = c->state[3];
	for (unsigned i = 0; i < 64; i++) {
		uint32_t f;
		unsigned g;
		if (i < 16) {
			f = (b & cc) | (~b & d);
			g = i;
		} else if (i < 32) {
			f = (d & b) | (~d & cc);
			g = (5 * i + 1) % 16;
		} else if (i < 48) {
			f = b ^ cc ^ d;
			g = (3 * i + 5) % 16;
		} else {
			f = cc ^ (b | ~d);
			g = (7 * i) % 16;
		}
		uint32_t tmp = d;
		d = cc;
		cc = b;
		b = b + md5_rotl(a + f + md5_k[i] + w[g], md5_shift[i]);
		a = tmp;
	}
	c->state[0] += a;
	c->state[1] += b;
	c->state[2] += cc;
	c->state[3] += d;
}

void md5_init(struct md5_ctx *c)
{
	c->state[0] = 0x67452301;
	c->state[1] = 0xefcdab89;
	c->state[2] = 0x98badcfe;
	c->state[3] = 0x10325476;
	c->n_bytes = 0;
	c->block_len = 0;
}

void md5_update(struct md5_ctx *c, const void *data, size_t len)
{
	const uint8_t *p = data;
	c->n_bytes += len;
	while (len > 0) {
		size_t take = 64 - c->block_len;
		if (take > len)
			take = len;
		memcpy(c->block + c->block_len, p, take);
		c->block_len += take;
		p += take;
		len -= take;
		if (c->block_len == 64) {
			md5_block(c, c->block);
			c->block_len = 0;
		}
	}
}

void md5_final(struct md5_ctx *c, uint8_t out[MD5_DIGEST_LEN])
{
	uint64_t bits = c->n_bytes * 8;
	static const uint8_t pad = 0x80;
	static const uint8_t zero[64];
	md5_update(c, &pad, 1);
	size_t fill =
		(c->block_len <= 56) ? 56 - c->block_len : 120 - c->block_len;
	md5_update(c, zero, fill);
	uint8_t lenb[8];
	for (unsigned i = 0; i < 8; i++)
		lenb[i] = (uint8_t)(bits >> (8 * i));
	md5_update(c, lenb, 8);
	for (unsigned i = 0; i < 4; i++) {
		out[4 * i] = (uint8_t)c->state[i];
		out[4 * i + 1] = (uint8_t)(c->state[i] >> 8);
		out[4 * i + 2] = (uint8_t)(c->state[i] >> 16);
		out[4 * i + 3] = (uint8_t)(c->state[i] >> 24);
	}
}
