/* MD5, tunnel authentication and hidden AVPs against vectors computed outside
 * this code base (RFC 1321 test suite; Python hashlib for the L2TP ones). */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "l2tp_auth.h"
#include "l2tp_hidden.h"
#include "md5.h"

static void md5_hex(const void *data, size_t len, char out[33])
{
	uint8_t d[16];
	struct md5_ctx c;
	md5_init(&c);
	md5_update(&c, data, len);
	md5_final(&c, d);
	for (int i = 0; i < 16; i++)
		snprintf(out + 2 * i, 3, "%02x", d[i]);
}

static void test_md5_vectors(void **state)
{
	(void)state;
	char hex[33];
	md5_hex("", 0, hex);
	assert_string_equal(hex, "d41d8cd98f00b204e9800998ecf8427e");
	md5_hex("abc", 3, hex);
	assert_string_equal(hex, "900150983cd24fb0d6963f7d28e17f72");
	char a[1000];
	memset(a, 'a', sizeof(a));
	md5_hex(a, sizeof(a), hex);
	assert_string_equal(hex, "cabe45dcc9ae5b66ba86600cca6b8ba8");
	/* same input fed in odd pieces */
	uint8_t d1[16], d2[16];
	struct md5_ctx c;
	md5_init(&c);
	for (size_t off = 0; off < sizeof(a); off += 7)
		md5_update(&c, a + off,
			   sizeof(a) - off < 7 ? sizeof(a) - off : 7);
	md5_final(&c, d1);
	md5_init(&c);
	md5_update(&c, a, sizeof(a));
	md5_final(&c, d2);
	assert_memory_equal(d1, d2, 16);
}

static const uint8_t secret[] = "sesame";
#define SECRET_LEN 6

static void test_auth_response(void **state)
{
	(void)state;
	uint8_t chal[16], out[16];
	for (int i = 0; i < 16; i++)
		chal[i] = (uint8_t)(i + 1);
	/* MD5(0x02 || "sesame" || 01..10), from Python hashlib */
	static const uint8_t want[16] = {0x55, 0xf4, 0xff, 0xe4, 0xc7, 0xcd,
					 0x7e, 0x37, 0xf8, 0x31, 0x9e, 0x15,
					 0xb7, 0x90, 0x30, 0xbb};
	l2tp_auth_response(2, secret, SECRET_LEN, chal, 16, out);
	assert_memory_equal(out, want, 16);
	assert_true(
		l2tp_auth_verify(2, secret, SECRET_LEN, chal, 16, want, 16));
	/* wrong message type, wrong secret, wrong length, one bit off */
	assert_false(
		l2tp_auth_verify(3, secret, SECRET_LEN, chal, 16, want, 16));
	assert_false(l2tp_auth_verify(2, secret, SECRET_LEN - 1, chal, 16, want,
				      16));
	assert_false(
		l2tp_auth_verify(2, secret, SECRET_LEN, chal, 16, want, 15));
	uint8_t bad[16];
	memcpy(bad, want, 16);
	bad[15] ^= 1;
	assert_false(
		l2tp_auth_verify(2, secret, SECRET_LEN, chal, 16, bad, 16));

	static const uint8_t chal3[4] = {0xaa, 0xbb, 0xcc, 0xdd};
	static const uint8_t want3[16] = {0xd3, 0x79, 0xf3, 0x9e, 0x87, 0x04,
					  0xdb, 0xdb, 0x4f, 0xa9, 0x0f, 0x31,
					  0x50, 0x48, 0xb6, 0x8c};
	l2tp_auth_response(3, secret, SECRET_LEN, chal3, 4, out);
	assert_memory_equal(out, want3, 16);
}

static const uint8_t rv[16] = {0xa0, 0xa1, 0xa2, 0xa3, 0xa4, 0xa5, 0xa6, 0xa7,
			       0xa8, 0xa9, 0xaa, 0xab, 0xac, 0xad, 0xae, 0xaf};

static void test_hidden_vectors(void **state)
{
	(void)state;
	uint8_t out[128];
	size_t vlen;
	/* Assigned Tunnel ID 0x1234 hidden, no padding (one short chunk) */
	static const uint8_t h9[] = {0x16, 0x98, 0x52, 0x18};
	static const uint8_t v9[] = {0x12, 0x34};
	assert_int_equal(l2tp_hidden_hide(9, secret, SECRET_LEN, rv, 16, v9, 2,
					  NULL, 0, out, sizeof(out)),
			 4);
	assert_memory_equal(out, h9, 4);
	assert_int_equal(l2tp_hidden_unhide(9, secret, SECRET_LEN, rv, 16, h9,
					    4, out, sizeof(out), &vlen),
			 0);
	assert_int_equal(vlen, 2);
	assert_memory_equal(out + 2, v9, 2);

	/* 40-byte Proxy Authen Name with 5 bytes of 0xee padding: 47 bytes,
	 * three chunks, the last one short, so the MD5 chaining is exercised */
	static const uint8_t h30[] = {
		0x08, 0xa2, 0x2c, 0x49, 0xfb, 0xb0, 0x91, 0x93, 0x4c, 0xff,
		0x86, 0x38, 0x69, 0x0a, 0x0f, 0x7a, 0x57, 0xea, 0xb7, 0xbd,
		0xdd, 0x81, 0xb4, 0x86, 0xd3, 0x68, 0xdc, 0x73, 0xcf, 0x41,
		0x42, 0xd6, 0x64, 0xba, 0xcf, 0xfe, 0xcb, 0x2b, 0xfc, 0x41,
		0x51, 0x4f, 0xe9, 0x21, 0xff, 0xc0, 0xbd};
	uint8_t v30[40], pad[5];
	for (int i = 0; i < 40; i++)
		v30[i] = (uint8_t)i;
	memset(pad, 0xee, sizeof(pad));
	assert_int_equal(l2tp_hidden_hide(30, secret, SECRET_LEN, rv, 16, v30,
					  40, pad, 5, out, sizeof(out)),
			 47);
	assert_memory_equal(out, h30, 47);
	assert_int_equal(l2tp_hidden_unhide(30, secret, SECRET_LEN, rv, 16, h30,
					    47, out, sizeof(out), &vlen),
			 0);
	assert_int_equal(vlen, 40);
	assert_memory_equal(out + 2, v30, 40);
}

static void test_hidden_round_trip_lengths(void **state)
{
	(void)state;
	uint8_t val[300], hid[320], back[320];
	for (size_t i = 0; i < sizeof(val); i++)
		val[i] = (uint8_t)(i * 7 + 3);
	for (size_t len = 0; len <= 260; len++) {
		size_t vlen = 0;
		int n = l2tp_hidden_hide(22, secret, SECRET_LEN, rv, 16, val,
					 len, NULL, len % 3, hid, sizeof(hid));
		assert_int_equal(n, (int)(2 + len + len % 3));
		assert_int_equal(l2tp_hidden_unhide(22, secret, SECRET_LEN, rv,
						    16, hid, (size_t)n, back,
						    sizeof(back), &vlen),
				 0);
		assert_int_equal(vlen, len);
		assert_memory_equal(back + 2, val, len);
	}
}

static void test_hidden_bad_sub_length(void **state)
{
	(void)state;
	uint8_t hid[64], back[64];
	size_t vlen;
	static const uint8_t v[] = {1, 2, 3, 4};
	int n = l2tp_hidden_hide(7, secret, SECRET_LEN, rv, 16, v, 4, NULL, 0,
				 hid, sizeof(hid));
	assert_int_equal(n, 6);
	/* hidden value shorter than the 2-byte original-length field */
	assert_int_equal(l2tp_hidden_unhide(7, secret, SECRET_LEN, rv, 16, hid,
					    1, back, sizeof(back), &vlen),
			 -EBADMSG);
	/* truncated: original length 4 no longer fits in 2 + 3 bytes */
	assert_int_equal(l2tp_hidden_unhide(7, secret, SECRET_LEN, rv, 16, hid,
					    5, back, sizeof(back), &vlen),
			 -EBADMSG);
	/* original length field claims more than present (tampered) */
	hid[0] ^= 0x01; /* adds 256 to the recovered length */
	assert_int_equal(l2tp_hidden_unhide(7, secret, SECRET_LEN, rv, 16, hid,
					    6, back, sizeof(back), &vlen),
			 -EBADMSG);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_md5_vectors),
		cmocka_unit_test(test_auth_response),
		cmocka_unit_test(test_hidden_vectors),
		cmocka_unit_test(test_hidden_round_trip_lengths),
		cmocka_unit_test(test_hidden_bad_sub_length),
	};
	return cmocka_run_group_tests_name("crypto", tests, NULL, NULL);
}
