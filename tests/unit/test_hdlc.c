/* Async HDLC framing (lib/hdlc.c): golden encodings (computed independently
 * from RFC 1662), the FCS check value, escapes under several ACCMs, frames
 * split at every byte boundary, and every kind of bad frame dropped and
 * counted while the good ones around it survive. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "hdlc.h"

/* LCP Configure-Request (id 1, Magic-Number 0x12345678) with FF 03. */
static const uint8_t lcp_req[] = {0xff, 0x03, 0xc0, 0x21, 0x01, 0x01, 0x00,
				  0x0a, 0x05, 0x06, 0x12, 0x34, 0x56, 0x78};
/* ... framed with every control octet escaped (ACCM ffffffff). */
static const uint8_t lcp_req_all[] = {0x7e, 0xff, 0x7d, 0x23, 0xc0, 0x21, 0x7d,
				      0x21, 0x7d, 0x21, 0x7d, 0x20, 0x7d, 0x2a,
				      0x7d, 0x25, 0x7d, 0x26, 0x7d, 0x32, 0x34,
				      0x56, 0x78, 0x79, 0x7d, 0x20, 0x7e};
/* ... and with ACCM 0: only 7E and 7D would be escaped. */
static const uint8_t lcp_req_none[] = {0x7e, 0xff, 0x03, 0xc0, 0x21, 0x01,
				       0x01, 0x00, 0x0a, 0x05, 0x06, 0x12,
				       0x34, 0x56, 0x78, 0x79, 0x00, 0x7e};
/* An IP frame without FF 03 (ACFC), holding 7E, 7D and 0x11. */
static const uint8_t ip_frame[] = {0x00, 0x21, 0x45, 0x00, 0x7e, 0x7d, 0x11};
/* ... framed with FF 03 added and ACCM 000a0000 (0x11 and 0x13 escaped). */
static const uint8_t ip_frame_enc[] = {0x7e, 0xff, 0x03, 0x00, 0x21, 0x45,
				       0x00, 0x7d, 0x5e, 0x7d, 0x5d, 0x7d,
				       0x31, 0x4c, 0x30, 0x7e};

/* Frames a decoder delivered. */
struct sink {
	unsigned n;	    /* frames */
	uint8_t last[2048]; /* the last one */
	size_t last_len;    /* its length */
	size_t lens[16];    /* lengths of the first 16 */
};

static void sink_frame(void *arg, const uint8_t *frame, size_t len)
{
	struct sink *k = arg;
	assert_true(len <= sizeof(k->last));
	memcpy(k->last, frame, len);
	k->last_len = len;
	if (k->n < 16)
		k->lens[k->n] = len;
	k->n++;
}

static void test_fcs_check_value(void **state)
{
	(void)state;
	/* CRC-16/X-25 of "123456789" is 0x906e: the FCS-16 check value. */
	assert_int_equal(
		hdlc_fcs16(HDLC_FCS_INIT, (const uint8_t *)"123456789", 9) ^
			0xffff,
		0x906e);
	/* A frame followed by its FCS (LSB first) leaves the good value. */
	uint8_t f[16];
	memcpy(f, lcp_req, sizeof(lcp_req));
	uint16_t fcs = hdlc_fcs16(HDLC_FCS_INIT, lcp_req, sizeof(lcp_req));
	fcs ^= 0xffff;
	f[sizeof(lcp_req)] = (uint8_t)(fcs & 0xff);
	f[sizeof(lcp_req) + 1] = (uint8_t)(fcs >> 8);
	assert_int_equal(hdlc_fcs16(HDLC_FCS_INIT, f, sizeof(lcp_req) + 2),
			 HDLC_FCS_GOOD);
}

static void test_encode_golden(void **state)
{
	uint8_t out[HDLC_ENCODED_MAX(64)];
	int n;
	(void)state;
	n = hdlc_encode(lcp_req, sizeof(lcp_req), HDLC_ACCM_ALL, true, out,
			sizeof(out));
	assert_int_equal(n, sizeof(lcp_req_all));
	assert_memory_equal(out, lcp_req_all, sizeof(lcp_req_all));
	n = hdlc_encode(lcp_req, sizeof(lcp_req), 0, true, out, sizeof(out));
	assert_int_equal(n, sizeof(lcp_req_none));
	assert_memory_equal(out, lcp_req_none, sizeof(lcp_req_none));
	/* FF 03 added; 7E, 7D and the ACCM's octets escaped, others not. */
	n = hdlc_encode(ip_frame, sizeof(ip_frame), 0x000a0000, true, out,
			sizeof(out));
	assert_int_equal(n, sizeof(ip_frame_enc));
	assert_memory_equal(out, ip_frame_enc, sizeof(ip_frame_enc));
	/* Without add_acf the frame is sent as given. */
	n = hdlc_encode(ip_frame, sizeof(ip_frame), 0, false, out, sizeof(out));
	assert_true(n > 0);
	assert_int_equal(out[1], 0x00);
}

static void test_encode_no_space(void **state)
{
	uint8_t out[HDLC_ENCODED_MAX(sizeof(lcp_req))];
	(void)state;
	/* The worst case fits; one byte less than needed does not. */
	assert_int_equal(hdlc_encode(lcp_req, sizeof(lcp_req), HDLC_ACCM_ALL,
				     true, out, sizeof(lcp_req_all) - 1),
			 -ENOSPC);
	assert_int_equal(hdlc_encode(lcp_req, sizeof(lcp_req), HDLC_ACCM_ALL,
				     true, out, sizeof(lcp_req_all)),
			 (int)sizeof(lcp_req_all));
	/* Every octet needing an escape stays within HDLC_ENCODED_MAX. */
	uint8_t all7e[32], big[HDLC_ENCODED_MAX(32)];
	memset(all7e, 0x7e, sizeof(all7e));
	int n = hdlc_encode(all7e, sizeof(all7e), HDLC_ACCM_ALL, true, big,
			    sizeof(big));
	assert_true(n > 0 && (size_t)n <= sizeof(big));
	assert_int_equal(hdlc_encode(lcp_req, 0, 0, false, out, 0), -ENOSPC);
}

static void test_decode_golden(void **state)
{
	uint8_t buf[2048];
	struct hdlc_rx rx;
	struct sink k = {0};
	(void)state;
	hdlc_rx_init(&rx, buf, sizeof(buf), 0);
	hdlc_rx_feed(&rx, lcp_req_all, sizeof(lcp_req_all), sink_frame, &k);
	assert_int_equal(k.n, 1);
	assert_int_equal(k.last_len, sizeof(lcp_req));
	assert_memory_equal(k.last, lcp_req, sizeof(lcp_req));
	/* Unescaped control octets are kept when the ACCM is 0. */
	hdlc_rx_feed(&rx, lcp_req_none, sizeof(lcp_req_none), sink_frame, &k);
	assert_int_equal(k.n, 2);
	assert_memory_equal(k.last, lcp_req, sizeof(lcp_req));
	hdlc_rx_feed(&rx, ip_frame_enc, sizeof(ip_frame_enc), sink_frame, &k);
	assert_int_equal(k.n, 3);
	assert_int_equal(k.last_len, sizeof(ip_frame) + 2);
	assert_memory_equal(k.last + 2, ip_frame, sizeof(ip_frame));
	assert_int_equal(rx.stats.frames, 3);
	assert_int_equal(rx.stats.bad_fcs + rx.stats.runts + rx.stats.aborts,
			 0);
}

static void test_decode_accm_discards(void **state)
{
	/* A DCE inserted XON (0x11) and XOFF (0x13) into the stream: with
	 * them in the receive ACCM they vanish and the FCS still checks. */
	uint8_t noisy[sizeof(lcp_req_all) + 2], buf[256];
	struct hdlc_rx rx;
	struct sink k = {0};
	(void)state;
	memcpy(noisy, lcp_req_all, 5);
	noisy[5] = 0x11;
	memcpy(noisy + 6, lcp_req_all + 5, 10);
	noisy[16] = 0x13;
	memcpy(noisy + 17, lcp_req_all + 15, sizeof(lcp_req_all) - 15);
	hdlc_rx_init(&rx, buf, sizeof(buf), 0x000a0000);
	hdlc_rx_feed(&rx, noisy, sizeof(noisy), sink_frame, &k);
	assert_int_equal(k.n, 1);
	assert_memory_equal(k.last, lcp_req, sizeof(lcp_req));
	/* With ACCM 0 they are data, and the FCS no longer checks. */
	hdlc_rx_init(&rx, buf, sizeof(buf), 0);
	hdlc_rx_feed(&rx, noisy, sizeof(noisy), sink_frame, &k);
	assert_int_equal(k.n, 1);
	assert_int_equal(rx.stats.bad_fcs, 1);
}

static void test_decode_split_reads(void **state)
{
	/* Two frames back to back sharing one flag, fed in every split. */
	uint8_t stream[64], buf[256];
	size_t n = 0;
	(void)state;
	memcpy(stream, lcp_req_all, sizeof(lcp_req_all));
	n = sizeof(lcp_req_all);
	memcpy(stream + n, ip_frame_enc + 1, sizeof(ip_frame_enc) - 1);
	n += sizeof(ip_frame_enc) - 1;
	for (size_t cut = 0; cut <= n; cut++) {
		struct hdlc_rx rx;
		struct sink k = {0};
		hdlc_rx_init(&rx, buf, sizeof(buf), 0);
		hdlc_rx_feed(&rx, stream, cut, sink_frame, &k);
		hdlc_rx_feed(&rx, stream + cut, n - cut, sink_frame, &k);
		assert_int_equal(k.n, 2);
		assert_int_equal(k.lens[0], sizeof(lcp_req));
		assert_int_equal(k.lens[1], sizeof(ip_frame) + 2);
	}
	/* One byte at a time. */
	struct hdlc_rx rx;
	struct sink k = {0};
	hdlc_rx_init(&rx, buf, sizeof(buf), 0);
	for (size_t i = 0; i < n; i++)
		hdlc_rx_feed(&rx, stream + i, 1, sink_frame, &k);
	assert_int_equal(k.n, 2);
}

static void test_decode_bad_frames(void **state)
{
	uint8_t buf[32], bad[sizeof(lcp_req_all)];
	struct hdlc_rx rx;
	struct sink k = {0};
	(void)state;
	hdlc_rx_init(&rx, buf, sizeof(buf), 0);
	/* A flipped bit: bad FCS, dropped and counted. */
	memcpy(bad, lcp_req_all, sizeof(bad));
	bad[20] ^= 0x01;
	hdlc_rx_feed(&rx, bad, sizeof(bad), sink_frame, &k);
	assert_int_equal(k.n, 0);
	assert_int_equal(rx.stats.bad_fcs, 1);
	/* A runt (under 4 octets with the FCS). */
	static const uint8_t runt[] = {0x7e, 0xff, 0x03, 0x01, 0x7e};
	hdlc_rx_feed(&rx, runt, sizeof(runt), sink_frame, &k);
	assert_int_equal(rx.stats.runts, 1);
	/* An abort (7D 7E) ends a frame without delivering it. */
	static const uint8_t abrt[] = {0x7e, 0xff, 0x03, 0xc0,
				       0x21, 0x7d, 0x7e};
	hdlc_rx_feed(&rx, abrt, sizeof(abrt), sink_frame, &k);
	assert_int_equal(rx.stats.aborts, 1);
	/* Longer than the buffer: skipped up to the next flag, once. */
	uint8_t longf[80];
	memset(longf, 0x55, sizeof(longf));
	longf[0] = 0x7e;
	longf[sizeof(longf) - 1] = 0x7e;
	hdlc_rx_feed(&rx, longf, sizeof(longf), sink_frame, &k);
	assert_int_equal(rx.stats.too_long, 1);
	assert_int_equal(k.n, 0);
	/* Empty frames (flag fill) are not errors; a good frame still gets
	 * through after all of the above. */
	static const uint8_t fill[] = {0x7e, 0x7e, 0x7e};
	hdlc_rx_feed(&rx, fill, sizeof(fill), sink_frame, &k);
	hdlc_rx_feed(&rx, lcp_req_all, sizeof(lcp_req_all), sink_frame, &k);
	assert_int_equal(k.n, 1);
	assert_memory_equal(k.last, lcp_req, sizeof(lcp_req));
	assert_int_equal(rx.stats.bad_fcs, 1);
	assert_int_equal(rx.stats.runts, 1);
	assert_int_equal(rx.stats.frames, 1);
}

static void test_roundtrip_all_octets(void **state)
{
	/* Every octet value, under both extreme ACCMs, survives the trip. */
	uint8_t frame[258], enc[HDLC_ENCODED_MAX(258)], buf[300];
	(void)state;
	frame[0] = 0xff;
	frame[1] = 0x03;
	for (int i = 0; i < 256; i++)
		frame[2 + i] = (uint8_t)i;
	const uint32_t accms[] = {0, HDLC_ACCM_ALL, 0xa5a5a5a5u};
	for (size_t a = 0; a < 3; a++) {
		struct hdlc_rx rx;
		struct sink k = {0};
		int n = hdlc_encode(frame, sizeof(frame), accms[a], true, enc,
				    sizeof(enc));
		assert_true(n > 0);
		for (int i = 1; i < n - 1; i++) {
			assert_int_not_equal(enc[i], HDLC_FLAG);
			if (enc[i] < 0x20 && enc[i - 1] != HDLC_ESC)
				assert_false(accms[a] & (1u << enc[i]));
		}
		hdlc_rx_init(&rx, buf, sizeof(buf), 0);
		hdlc_rx_feed(&rx, enc, (size_t)n, sink_frame, &k);
		assert_int_equal(k.n, 1);
		assert_int_equal(k.last_len, sizeof(frame));
		assert_memory_equal(k.last, frame, sizeof(frame));
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fcs_check_value),
		cmocka_unit_test(test_encode_golden),
		cmocka_unit_test(test_encode_no_space),
		cmocka_unit_test(test_decode_golden),
		cmocka_unit_test(test_decode_accm_discards),
		cmocka_unit_test(test_decode_split_reads),
		cmocka_unit_test(test_decode_bad_frames),
		cmocka_unit_test(test_roundtrip_all_octets),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
