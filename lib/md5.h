/* MD5 (RFC 1321), needed by L2TP tunnel authentication and hidden AVPs. Our own
 * small implementation keeps the codec free of external dependencies. */
#ifndef TANDEM_MD5_H
#define TANDEM_MD5_H

#include <stddef.h>
#include <stdint.h>

#define MD5_DIGEST_LEN 16

struct md5_ctx {
	uint32_t state[4]; /* A, B, C, D */
	uint64_t n_bytes;  /* message length so far */
	uint8_t block[64]; /* pending input */
	size_t block_len;  /* bytes pending in block */
};

void md5_init(struct md5_ctx *c);
void md5_update(struct md5_ctx *c, const void *data, size_t len);
void md5_final(struct md5_ctx *c, uint8_t out[MD5_DIGEST_LEN]);

#endif
