/* Frontend <-> worker batch codec: golden bytes, round trip, every rejection. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "wire.h"

static const uint8_t
	golden
		[] =
			{
				0x54, 0x44, 1,	  1,	0,    2,    3,
				'f',  'e',  '1', /* magic, v1, IN, 2, "fe1" */
				4,    192,  0,	  2,	7,    0x06, 0xa5,
				0,    3,    0xc8, 0x02, 0x00, /* 192.0.2.7:1701 */
				6,    0x20, 0x01, 0x0d, 0xb8, 0,    0,
				0,    0,    0,	  0,	0,    0,    0,
				0,    0,    1,	     /* 2001:db8::1 */
				0x12, 0x34, 0,	  0, /* port 0x1234, empty */
};

static void test_golden_round_trip(void **state)
{
	(void)state;
	uint8_t buf[256];
	struct wire_writer w;
	struct wire_packet a = {
		.peer = {.family = 4, .addr = {192, 0, 2, 7}, .port = 1701},
		.data = (const uint8_t *)"\xc8\x02\x00",
		.len = 3};
	struct wire_packet b = {.peer = {.family = 6,
					 .addr = {0x20, 0x01, 0x0d, 0xb8, 0, 0,
						  0, 0, 0, 0, 0, 0, 0, 0, 0, 1},
					 .port = 0x1234}};
	assert_int_equal(
		wire_writer_begin(&w, buf, sizeof(buf), WIRE_PACKET_IN, "fe1"),
		0);
	assert_int_equal(wire_writer_add(&w, &a), 0);
	assert_int_equal(wire_writer_add(&w, &b), 0);
	assert_int_equal(wire_writer_finish(&w), sizeof(golden));
	assert_memory_equal(buf, golden, sizeof(golden));

	struct wire_reader r;
	struct wire_packet p;
	assert_int_equal(wire_reader_begin(&r, golden, sizeof(golden)), 0);
	assert_int_equal(r.type, WIRE_PACKET_IN);
	assert_string_equal(r.origin, "fe1");
	assert_int_equal(wire_reader_next(&r, &p), 1);
	assert_int_equal(p.peer.family, 4);
	assert_int_equal(p.peer.port, 1701);
	assert_int_equal(p.len, 3);
	assert_memory_equal(p.data, "\xc8\x02\x00", 3);
	assert_int_equal(wire_reader_next(&r, &p), 1);
	assert_int_equal(p.peer.family, 6);
	assert_int_equal(p.peer.addr[15], 1);
	assert_int_equal(p.len, 0);
	assert_int_equal(wire_reader_next(&r, &p), 0);
}

static void test_rejects(void **state)
{
	(void)state;
	uint8_t b[sizeof(golden) + 1];
	struct wire_reader r;
	struct wire_packet p;
	/* every truncation fails somewhere, never reads past the end */
	for (size_t n = 0; n < sizeof(golden); n++) {
		int rc = wire_reader_begin(&r, golden, n);
		while (rc == 0 || rc == 1)
			rc = wire_reader_next(&r, &p);
		assert_int_equal(rc, -EBADMSG);
	}
	/* trailing byte */
	memcpy(b, golden, sizeof(golden));
	b[sizeof(golden)] = 0;
	assert_int_equal(wire_reader_begin(&r, b, sizeof(b)), 0);
	assert_int_equal(wire_reader_next(&r, &p), 1);
	assert_int_equal(wire_reader_next(&r, &p), 1);
	assert_int_equal(wire_reader_next(&r, &p), -EBADMSG);
	/* bad magic, future version, unknown type, bad family */
	memcpy(b, golden, sizeof(golden));
	b[0] = 0;
	assert_int_equal(wire_reader_begin(&r, b, sizeof(golden)), -EBADMSG);
	memcpy(b, golden, sizeof(golden));
	b[2] = 2;
	assert_int_equal(wire_reader_begin(&r, b, sizeof(golden)), -EBADMSG);
	memcpy(b, golden, sizeof(golden));
	b[3] = 99;
	assert_int_equal(wire_reader_begin(&r, b, sizeof(golden)), -EBADMSG);
	memcpy(b, golden, sizeof(golden));
	b[10] = 5;
	assert_int_equal(wire_reader_begin(&r, b, sizeof(golden)), 0);
	assert_int_equal(wire_reader_next(&r, &p), -EBADMSG);
	/* writer: full buffer is reported, the batch so far stays valid */
	struct wire_writer w;
	uint8_t small[24];
	struct wire_packet a = {
		.peer = {.family = 4}, .data = small, .len = 10};
	assert_int_equal(wire_writer_begin(&w, small, sizeof(small),
					   WIRE_PACKET_OUT, ""),
			 0);
	assert_int_equal(wire_writer_add(&w, &a), -ENOSPC);
	a.len = 0;
	assert_int_equal(wire_writer_add(&w, &a), 0);
	a.peer.family = 5;
	assert_int_equal(wire_writer_add(&w, &a), -EINVAL);
	size_t n = wire_writer_finish(&w);
	assert_int_equal(wire_reader_begin(&r, small, n), 0);
	assert_int_equal(wire_reader_next(&r, &p), 1);
	assert_int_equal(wire_reader_next(&r, &p), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_golden_round_trip),
		cmocka_unit_test(test_rejects),
	};
	return cmocka_run_group_tests_name("wire", tests, NULL, NULL);
}
