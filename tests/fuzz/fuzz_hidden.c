/* Fuzz target for hidden AVP values (RFC 2661 section 4.3): unhide fails only
 * for the documented reason and re-hides to the same bytes; hide matches an
 * independent MD5-chain implementation and unhides to the value. */
#include <errno.h>
#include <stdbool.h>
#include <string.h>

#include "fuzz.h"
#include "l2tp_hidden.h"
#include "md5.h"

/* RFC 2661 section 4.3 written out plainly: b1 = MD5(type || secret || RV),
 * bi = MD5(secret || c(i-1)), ci = pi xor bi, the last chunk truncated. */
static void reference_hide(uint16_t type, const uint8_t *secret,
			   size_t secret_len, const uint8_t *rv, size_t rv_len,
			   const uint8_t *plain, uint8_t *out, size_t len)
{
	uint8_t b[MD5_DIGEST_LEN];
	const uint8_t type_be[2] = {(uint8_t)(type >> 8), (uint8_t)type};
	struct md5_ctx c;

	for (size_t i = 0; i < len; i++) {
		if (i % MD5_DIGEST_LEN == 0) {
			md5_init(&c);
			if (i == 0) {
				md5_update(&c, type_be, 2);
				md5_update(&c, secret, secret_len);
				md5_update(&c, rv, rv_len);
			} else {
				md5_update(&c, secret, secret_len);
				md5_update(&c, out + i - MD5_DIGEST_LEN,
					   MD5_DIGEST_LEN);
			}
			md5_final(&c, b);
		}
		out[i] = plain[i] ^ b[i % MD5_DIGEST_LEN];
	}
}

/* The same chain read backwards: the key for chunk i comes from hidden
 * (ciphertext) chunk i-1, which the receiver already has. */
static void reference_unhide(uint16_t type, const uint8_t *secret,
			     size_t secret_len, const uint8_t *rv,
			     size_t rv_len, const uint8_t *hidden, uint8_t *out,
			     size_t len)
{
	uint8_t b[MD5_DIGEST_LEN];
	const uint8_t type_be[2] = {(uint8_t)(type >> 8), (uint8_t)type};
	struct md5_ctx c;

	for (size_t i = 0; i < len; i++) {
		if (i % MD5_DIGEST_LEN == 0) {
			md5_init(&c);
			if (i == 0) {
				md5_update(&c, type_be, 2);
				md5_update(&c, secret, secret_len);
				md5_update(&c, rv, rv_len);
			} else {
				md5_update(&c, secret, secret_len);
				md5_update(&c, hidden + i - MD5_DIGEST_LEN,
					   MD5_DIGEST_LEN);
			}
			md5_final(&c, b);
		}
		out[i] = hidden[i] ^ b[i % MD5_DIGEST_LEN];
	}
}

/* Exact-size heap copy of p (zeros when p is NULL), so ASan flags any
 * access outside it. */
static uint8_t *dup_exact(const uint8_t *p, size_t len)
{
	uint8_t *q = calloc(len ? len : 1, 1);
	FUZZ_CHECK(q != NULL);
	if (p && len)
		memcpy(q, p, len);
	return q;
}

struct hidden_input {
	uint16_t type;	       /* AVP type keying the chain */
	const uint8_t *secret; /* shared secret */
	size_t secret_len;
	const uint8_t *rv; /* Random Vector */
	size_t rv_len;
	size_t pad_len;	     /* padding for the hide test */
	const uint8_t *body; /* hidden value / value to hide */
	size_t body_len;
};

static bool parse(const uint8_t *data, size_t size, struct hidden_input *in)
{
	if (size < FUZZ_HIDDEN_PREFIX)
		return false;
	in->type = (uint16_t)(data[0] << 8 | data[1]);
	in->secret_len = data[2];
	in->rv_len = data[3];
	in->pad_len = data[4];
	size_t left = size - FUZZ_HIDDEN_PREFIX;
	if (in->secret_len > left)
		in->secret_len = left;
	left -= in->secret_len;
	if (in->rv_len > left)
		in->rv_len = left;
	left -= in->rv_len;
	in->secret = data + FUZZ_HIDDEN_PREFIX;
	in->rv = in->secret + in->secret_len;
	in->body = in->rv + in->rv_len;
	in->body_len = left;
	return true;
}

/* Unhide the body as if it came off the wire. */
static void check_unhide(const struct hidden_input *in)
{
	size_t hl = in->body_len;
	uint8_t *hidden = dup_exact(in->body, hl);
	uint8_t *out = dup_exact(NULL, hl);
	size_t vlen = (size_t)-1;

	int rc =
		l2tp_hidden_unhide(in->type, in->secret, in->secret_len, in->rv,
				   in->rv_len, hidden, hl, out, hl, &vlen);
	FUZZ_CHECK(rc == 0 || rc == -EBADMSG);
	/* The input is never modified. */
	FUZZ_CHECK(hl == 0 || memcmp(hidden, in->body, hl) == 0);

	/* Work out independently what the plain sub-format is. */
	uint8_t *plain = dup_exact(NULL, hl);
	uint8_t *again = dup_exact(NULL, hl);
	bool fits = false;
	if (hl >= 2) {
		reference_unhide(in->type, in->secret, in->secret_len, in->rv,
				 in->rv_len, hidden, plain, hl);
		fits = (size_t)(plain[0] << 8 | plain[1]) <= hl - 2;
	}
	/* -EBADMSG exactly when too short or the length does not fit. */
	FUZZ_CHECK((rc == 0) == fits);
	if (rc == 0) {
		FUZZ_CHECK(memcmp(out, plain, hl) == 0);
		FUZZ_CHECK(vlen == (size_t)(out[0] << 8 | out[1]));
		FUZZ_CHECK(vlen <= hl - 2);
		/* Re-hiding value + padding gives the wire bytes back. */
		int n = l2tp_hidden_hide(in->type, in->secret, in->secret_len,
					 in->rv, in->rv_len, out + 2, vlen,
					 out + 2 + vlen, hl - 2 - vlen, again,
					 hl);
		FUZZ_CHECK(n >= 0 && (size_t)n == hl);
		FUZZ_CHECK(memcmp(again, hidden, hl) == 0);
	}

	/* In place (out == hidden) gives the same answer. */
	size_t vlen2 = (size_t)-1;
	int rc2 =
		l2tp_hidden_unhide(in->type, in->secret, in->secret_len, in->rv,
				   in->rv_len, hidden, hl, hidden, hl, &vlen2);
	FUZZ_CHECK(rc2 == rc);
	if (rc == 0)
		FUZZ_CHECK(vlen2 == vlen && memcmp(hidden, out, hl) == 0);

	/* An output buffer one byte short is refused untouched. */
	if (hl > 0) {
		uint8_t *small = dup_exact(NULL, hl - 1);
		FUZZ_CHECK(l2tp_hidden_unhide(in->type, in->secret,
					      in->secret_len, in->rv,
					      in->rv_len, in->body, hl, small,
					      hl - 1, &vlen2) == -EBADMSG);
		free(small);
	}
	free(hidden);
	free(out);
	free(plain);
	free(again);
}

/* Hide the body as a value, with padding, and unhide it again. */
static void check_hide(const struct hidden_input *in)
{
	size_t len = in->body_len, pad_len = in->pad_len;
	size_t total = 2 + len + pad_len;
	uint8_t *value = dup_exact(in->body, len);
	/* Padding: the first bytes of the body, or zeros when too short. */
	const uint8_t *pad = pad_len <= len ? in->body : NULL;
	uint8_t *out = dup_exact(NULL, total);

	int n = l2tp_hidden_hide(in->type, in->secret, in->secret_len, in->rv,
				 in->rv_len, value, len, pad, pad_len, out,
				 total);
	FUZZ_CHECK(n >= 0 && (size_t)n == total);
	FUZZ_CHECK(len == 0 || memcmp(value, in->body, len) == 0);

	/* Against the plain reading of section 4.3. */
	uint8_t *plain = dup_exact(NULL, total);
	uint8_t *ref = dup_exact(NULL, total);
	plain[0] = (uint8_t)(len >> 8);
	plain[1] = (uint8_t)len;
	if (len)
		memcpy(plain + 2, value, len);
	if (pad)
		memcpy(plain + 2 + len, pad, pad_len);
	else
		memset(plain + 2 + len, 0, pad_len);
	reference_hide(in->type, in->secret, in->secret_len, in->rv, in->rv_len,
		       plain, ref, total);
	FUZZ_CHECK(memcmp(out, ref, total) == 0);

	/* Unhide gives the value back. */
	uint8_t *back = dup_exact(NULL, total);
	size_t vlen = (size_t)-1;
	FUZZ_CHECK(l2tp_hidden_unhide(in->type, in->secret, in->secret_len,
				      in->rv, in->rv_len, out, total, back,
				      total, &vlen) == 0);
	FUZZ_CHECK(vlen == len);
	FUZZ_CHECK(len == 0 || memcmp(back + 2, value, len) == 0);

	/* In place, as l2tp_msg_encode does (value already at out + 2). */
	uint8_t *inplace = dup_exact(NULL, total);
	if (len)
		memcpy(inplace + 2, value, len);
	n = l2tp_hidden_hide(in->type, in->secret, in->secret_len, in->rv,
			     in->rv_len, inplace + 2, len, pad, pad_len,
			     inplace, total);
	FUZZ_CHECK(n >= 0 && (size_t)n == total);
	FUZZ_CHECK(memcmp(inplace, out, total) == 0);

	/* One byte short: -ENOSPC and nothing written (exact-size buffer). */
	uint8_t *small = dup_exact(NULL, total - 1);
	FUZZ_CHECK(l2tp_hidden_hide(in->type, in->secret, in->secret_len,
				    in->rv, in->rv_len, value, len, pad,
				    pad_len, small, total - 1) == -ENOSPC);
	free(small);
	free(inplace);
	free(back);
	free(ref);
	free(plain);
	free(out);
	free(value);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct hidden_input in;
	if (!parse(data, size, &in))
		return 0;
	check_unhide(&in);
	check_hide(&in);
	return 0;
}
