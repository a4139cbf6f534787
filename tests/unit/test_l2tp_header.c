/* L2TPv2 header decode/encode (RFC 2661 section 3.1): golden bytes for data
 * and control headers and every header rejection path. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "golden.h"
#include "l2tp_header.h"

static void test_data_minimal(void **state)
{
	(void)state;
	/* T=0 L=0 S=0 O=0: flags 0x0002, tunnel 7, session 9, PPP bytes */
	static const uint8_t p[] = {0x00, 0x02, B2(7), B2(9),
				    0xff, 0x03, 0xc0,  0x21};
	struct l2tp_header h;
	struct l2tp_reject rej;
	assert_int_equal(l2tp_header_decode(p, sizeof(p), &h, &rej), 0);
	assert_false(h.control);
	assert_false(h.has_length);
	assert_false(h.has_seq);
	assert_int_equal(h.tunnel_id, 7);
	assert_int_equal(h.session_id, 9);
	assert_int_equal(h.length, sizeof(p));
	assert_int_equal(h.payload_off, 6);
	assert_int_equal(h.payload_len, 4);
}

static void test_data_all_fields(void **state)
{
	(void)state;
	/* L S O P: 0x4b02, Length 20, tunnel 1, session 2, Ns 3, Nr 4,
	 * Offset Size 2 with two pad bytes, then 2 payload bytes */
	static const uint8_t p[] = {0x4b,  0x02,  B2(20), B2(1), B2(2), B2(3),
				    B2(4), B2(2), 0xee,	  0xee,	 0xff,	0x03};
	static const uint8_t want_hdr[] = {0x4b,  0x02,	 B2(20), B2(1), B2(2),
					   B2(3), B2(4), B2(2),	 0,	0};
	struct l2tp_header h;
	struct l2tp_reject rej;
	assert_int_equal(l2tp_header_decode(p, sizeof(p) + 0, &h, &rej),
			 -EBADMSG);
	assert_int_equal(rej.reason, L2TP_REJ_LENGTH_BEYOND); /* 20 > 18 */

	uint8_t q[20];
	memcpy(q, p, sizeof(p));
	q[18] = 0x12;
	q[19] = 0x34;
	q[3] = 20;
	assert_int_equal(l2tp_header_decode(q, 20, &h, &rej), 0);
	assert_true(h.has_length && h.has_seq && h.has_offset && h.priority);
	assert_int_equal(h.ns, 3);
	assert_int_equal(h.nr, 4);
	assert_int_equal(h.offset_size, 2);
	assert_int_equal(h.payload_off, 16);
	assert_int_equal(h.payload_len, 4);

	/* encoder writes the same header (pad as zeros) */
	struct l2tp_data_opts o = {.with_length = true,
				   .with_seq = true,
				   .priority = true,
				   .ns = 3,
				   .nr = 4,
				   .with_offset = true,
				   .offset_size = 2};
	uint8_t out[32];
	assert_int_equal(l2tp_header_encode_data(out, sizeof(out), 1, 2, &o, 4),
			 16);
	assert_memory_equal(out, want_hdr, 16);
	assert_int_equal(l2tp_header_encode_data(out, 15, 1, 2, &o, 4),
			 -ENOSPC);
	assert_int_equal(
		l2tp_header_encode_data(out, sizeof(out), 1, 2, &o, 65530),
		-EMSGSIZE);
	assert_int_equal(
		l2tp_header_encode_data(out, sizeof(out), 1, 2, NULL, 4), 6);
}

static void test_control_header(void **state)
{
	(void)state;
	static const uint8_t p[] = {CTL(12, 0x1234, 0, 10, 6)};
	struct l2tp_header h;
	struct l2tp_reject rej;
	assert_int_equal(l2tp_header_decode(p, sizeof(p), &h, &rej), 0);
	assert_true(h.control);
	assert_int_equal(h.tunnel_id, 0x1234);
	assert_int_equal(h.ns, 10);
	assert_int_equal(h.nr, 6);
	assert_int_equal(h.payload_len, 0);

	uint16_t tid;
	bool ctl;
	assert_int_equal(l2tp_header_peek(p, sizeof(p), &tid, &ctl), 0);
	assert_int_equal(tid, 0x1234);
	assert_true(ctl);
	static const uint8_t d[] = {0x00, 0x02, B2(77), B2(1)};
	assert_int_equal(l2tp_header_peek(d, sizeof(d), &tid, &ctl), 0);
	assert_int_equal(tid, 77);
	assert_false(ctl);
	assert_int_equal(l2tp_header_peek(d, 5, &tid, &ctl), -EBADMSG);
}

struct bad_case {
	const char *what;
	uint8_t bytes[16];
	size_t len;
	enum l2tp_reject_reason reason;
};

static const struct bad_case bad_cases[] = {
	{"empty", {0}, 0, L2TP_REJ_SHORT_HEADER},
	{"one byte", {0xc8}, 1, L2TP_REJ_SHORT_HEADER},
	{"version 1 (L2F)", {0xc8, 0x01, B2(12)}, 4, L2TP_REJ_BAD_VERSION},
	{"version 3", {0xc8, 0x03, B2(12), 0, 0, 0, 1}, 8, L2TP_REJ_VERSION3},
	{"version 0", {0x00, 0x00, 0, 1, 0, 1}, 6, L2TP_REJ_BAD_VERSION},
	{"control without L",
	 {0x88, 0x02, B2(1), B2(0), B2(0), B2(0)},
	 10,
	 L2TP_REJ_CONTROL_FLAGS},
	{"control without S",
	 {0xc0, 0x02, B2(8), B2(1), B2(0)},
	 8,
	 L2TP_REJ_CONTROL_FLAGS},
	{"control with O",
	 {0xca, 0x02, B2(14), B2(1), B2(0), B2(0), B2(0), B2(0)},
	 14,
	 L2TP_REJ_CONTROL_FLAGS},
	{"truncated tunnel id",
	 {0xc8, 0x02, B2(12), 0x00},
	 5,
	 L2TP_REJ_SHORT_HEADER},
	{"truncated Ns/Nr",
	 {0xc8, 0x02, B2(12), B2(1), B2(0), 0x00},
	 9,
	 L2TP_REJ_SHORT_HEADER},
	{"truncated offset size",
	 {0x0a, 0x02, B2(1), B2(1), B2(0), B2(0), 0x00},
	 11,
	 L2TP_REJ_SHORT_HEADER},
	{"data truncated session id",
	 {0x00, 0x02, B2(1), 0x00},
	 5,
	 L2TP_REJ_SHORT_HEADER},
	{"length beyond packet",
	 {CTL(13, 1, 0, 0, 0)},
	 12,
	 L2TP_REJ_LENGTH_BEYOND},
	{"length below header",
	 {CTL(8, 1, 0, 0, 0)},
	 12,
	 L2TP_REJ_LENGTH_SHORT},
	{"length shorter than datagram",
	 {CTL(12, 1, 0, 0, 0), 0, 0},
	 14,
	 L2TP_REJ_LENGTH_TRAILING},
	{"offset beyond packet",
	 {0x02, 0x02, B2(1), B2(1), B2(5), 0xee},
	 9,
	 L2TP_REJ_OFFSET_BEYOND},
};

static void test_header_rejects(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(bad_cases) / sizeof(bad_cases[0]); i++) {
		const struct bad_case *c = &bad_cases[i];
		struct l2tp_header h;
		struct l2tp_reject rej;
		print_message("%s\n", c->what);
		assert_int_equal(l2tp_header_decode(c->bytes, c->len, &h, &rej),
				 -EBADMSG);
		assert_int_equal(rej.reason, c->reason);
		assert_int_equal(rej.scope, L2TP_SCOPE_DROP);
		assert_string_not_equal(l2tp_reject_reason_name(rej.reason),
					"unknown");
	}
}

static void test_reserved_bits_ignored(void **state)
{
	(void)state;
	/* RFC 2661 3.1: x bits are ignored on receipt */
	static const uint8_t p[] = {0xfc,  0xf2,  B2(12), B2(5),
				    B2(0), B2(1), B2(2)};
	struct l2tp_header h;
	struct l2tp_reject rej;
	assert_int_equal(l2tp_header_decode(p, sizeof(p), &h, &rej), 0);
	assert_true(h.control);
	assert_int_equal(h.tunnel_id, 5);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_data_minimal),
		cmocka_unit_test(test_data_all_fields),
		cmocka_unit_test(test_control_header),
		cmocka_unit_test(test_header_rejects),
		cmocka_unit_test(test_reserved_bits_ignored),
	};
	return cmocka_run_group_tests_name("l2tp_header", tests, NULL, NULL);
}
