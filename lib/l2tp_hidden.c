/* Hidden AVP values, RFC 2661 section 4.3. The sub-format (2-byte original
 * length, value, padding) is XORed with b1 = MD5(type || secret || RV),
 * b(i) = MD5(secret || c(i-1)), where c is the hidden (ciphertext) chunk. A
 * last chunk shorter than 16 bytes uses the first bytes of its MD5 block. */
#include "l2tp_hidden.h"

#include <errno.h>
#include <string.h>

#include "byteio.h"
#include "md5.h"

void l2tp_hidden_xor(uint16_t avp_type, const uint8_t *secret,
		     size_t secret_len, const uint8_t *rv, size_t rv_len,
		     uint8_t *buf, size_t len, int hiding)
{
	uint8_t key[MD5_DIGEST_LEN];
	uint8_t prev[MD5_DIGEST_LEN];
	uint8_t type_be[2];
	struct md5_ctx c;

	byteio_put_u16(type_be, avp_type);
	md5_init(&c);
	md5_update(&c, type_be, 2);
	md5_update(&c, secret, secret_len);
	md5_update(&c, rv, rv_len);
	md5_final(&c, key);
	for (size_t off = 0; off < len; off += MD5_DIGEST_LEN) {
		size_t n =
			len - off < MD5_DIGEST_LEN ? len - off : MD5_DIGEST_LEN;
		if (!hiding)
			memcpy(prev, buf + off, n); /* ciphertext feeds on */
		for (size_t i = 0; i < n; i++)
			buf[off + i] ^= key[i];
		if (hiding)
			memcpy(prev, buf + off, n);
		if (n < MD5_DIGEST_LEN)
			break;
		md5_init(&c);
		md5_update(&c, secret, secret_len);
		md5_update(&c, prev, MD5_DIGEST_LEN);
		md5_final(&c, key);
	}
}

int l2tp_hidden_hide(uint16_t avp_type, const uint8_t *secret,
		     size_t secret_len, const uint8_t *rv, size_t rv_len,
		     const uint8_t *value, size_t len, const uint8_t *pad,
		     size_t pad_len, uint8_t *out, size_t cap)
{
	size_t total = 2 + len + pad_len;
	if (len > UINT16_MAX || total > cap)
		return -ENOSPC;
	byteio_put_u16(out, (uint16_t)len);
	if (len)
		memmove(out + 2, value, len);
	if (pad)
		memcpy(out + 2 + len, pad, pad_len);
	else
		memset(out + 2 + len, 0, pad_len);
	l2tp_hidden_xor(avp_type, secret, secret_len, rv, rv_len, out, total,
			1);
	return (int)total;
}

int l2tp_hidden_unhide(uint16_t avp_type, const uint8_t *secret,
		       size_t secret_len, const uint8_t *rv, size_t rv_len,
		       const uint8_t *hidden, size_t hidden_len, uint8_t *out,
		       size_t cap, size_t *value_len)
{
	if (hidden_len < 2 || cap < hidden_len)
		return -EBADMSG;
	memmove(out, hidden, hidden_len);
	l2tp_hidden_xor(avp_type, secret, secret_len, rv, rv_len, out,
			hidden_len, 0);
	size_t orig = byteio_load_u16(out);
	/* The sub-length check after unhiding: the original length must fit
	 * in what was hidden; a wrong secret usually fails here. */
	if (orig > hidden_len - 2)
		return -EBADMSG;
	*value_len = orig;
	return 0;
}
