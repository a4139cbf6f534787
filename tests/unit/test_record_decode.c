/* record_tunnel_decode / record_session_decode (statestore/record.c), the
 * readers clusterctl uses: every field the encoders write comes back, the
 * unacked list is walked in order, and damaged records are refused. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "l2tp_header.h"
#include "record.h"

static void nop_output(void *ctx, struct tunnel *t, const uint8_t *p, size_t n)
{
	(void)ctx, (void)t, (void)p, (void)n;
}
static void nop_dirty(void *ctx, struct tunnel *t)
{
	(void)ctx, (void)t;
}
static void nop_random(void *ctx, uint8_t *b, size_t n)
{
	(void)ctx;
	memset(b, 9, n);
}

static const struct lns_cfg cfg = {
	.hostname = "lns",
	.tx = {.our_rws = 12,
	       .retransmit_initial_ms = 1000,
	       .retransmit_max_ms = 8000,
	       .max_retries = 5,
	       .ack_delay_ms = 50},
	.hold_ms = 31000,
	.max_sessions = 100,
};
static const struct lns_env env = {.cfg = &cfg,
				   .output = nop_output,
				   .dirty = nop_dirty,
				   .random = nop_random};

/* A tunnel with three unacked HELLOs (Ns 40..42) and one session. */
static int encode_tunnel(struct tunnel *t, uint8_t *buf, size_t cap)
{
	struct record_peer peer = {
		.addr = {.family = 6,
			 .addr = {0x20, 0x01, 0x0d, 0xb8, [15] = 7},
			 .port = 4242}};
	assert_int_equal(tunnel_init(t, &env, 0x1234, 0), 0);
	t->state = TUNNEL_CLOSING;
	t->peer_tid = 0x4321;
	t->tx.peer_tunnel_id = 0x4321;
	t->tx.peer_rws = 6;
	t->auth_pending = true;
	t->has_tie_breaker = true;
	t->tie_breaker = 0x0102030405060708ull;
	memset(t->challenge, 0xab, sizeof(t->challenge));
	strcpy(t->peer_hostname, "lac \"x\"");
	strcpy(t->peer_vendor, "vendor");
	t->peer_framing_caps = 1;
	t->peer_bearer_caps = 2;
	t->peer_firmware = 0x0305;
	t->hold_until_ms = 987654321;
	transport_restore(&t->tx, 40, 17, 40);
	struct l2tp_msg m;
	uint8_t msg[64];
	memset(&m, 0, sizeof(m));
	m.type = L2TP_MSG_HELLO;
	for (int i = 0; i < 3; i++) {
		int n = l2tp_msg_encode(&m, NULL, msg, sizeof(msg));
		assert_int_equal(transport_send(&t->tx, msg, (size_t)n, 0),
				 40 + i);
	}
	return record_tunnel_encode(t, &peer, buf, cap);
}

static void test_tunnel_fields(void **state)
{
	(void)state;
	static uint8_t buf[RECORD_TUNNEL_MAX];
	struct tunnel t;
	struct record_tunnel_info ti;
	int n = encode_tunnel(&t, buf, sizeof(buf));
	assert_true(n > 0);
	assert_int_equal(record_tunnel_decode(buf, (size_t)n, &ti), 0);
	assert_int_equal(ti.tid, 0x1234);
	assert_int_equal(ti.peer_tid, 0x4321);
	assert_int_equal(ti.peer.family, 6);
	assert_int_equal(ti.peer.addr[15], 7);
	assert_int_equal(ti.peer.port, 4242);
	assert_int_equal(ti.state, TUNNEL_CLOSING);
	assert_int_equal(ti.ns_next, 43);
	assert_int_equal(ti.nr, 17);
	assert_int_equal(ti.acked, 40);
	assert_int_equal(ti.peer_rws, 6);
	assert_int_equal(ti.our_rws, 12);
	assert_true(ti.auth_pending);
	assert_true(ti.has_tie_breaker);
	assert_int_equal(ti.tie_breaker, 0x0102030405060708ull);
	assert_int_equal(ti.challenge[15], 0xab);
	assert_string_equal(ti.peer_hostname, "lac \"x\"");
	assert_string_equal(ti.peer_vendor, "vendor");
	assert_int_equal(ti.framing_caps, 1);
	assert_int_equal(ti.bearer_caps, 2);
	assert_int_equal(ti.firmware, 0x0305);
	assert_int_equal(ti.hold_until_ms, 987654321);
	assert_int_equal(ti.n_unacked, 3);

	size_t off = 0, len;
	const uint8_t *m;
	for (int i = 0; i < 3; i++) {
		struct l2tp_header h;
		assert_int_equal(
			record_tunnel_unacked_next(&ti, &off, &m, &len), 1);
		assert_int_equal(l2tp_header_decode(m, len, &h, NULL), 0);
		assert_int_equal(h.ns, 40 + i);
	}
	assert_int_equal(record_tunnel_unacked_next(&ti, &off, &m, &len), 0);
	tunnel_free(&t);
}

static void test_tunnel_damaged(void **state)
{
	(void)state;
	static uint8_t buf[RECORD_TUNNEL_MAX];
	struct tunnel t;
	struct record_tunnel_info ti;
	int n = encode_tunnel(&t, buf, sizeof(buf));
	for (int cut = 0; cut < n; cut++)
		assert_int_equal(record_tunnel_decode(buf, (size_t)cut, &ti),
				 -EBADMSG);
	buf[n] = 0;
	assert_int_equal(record_tunnel_decode(buf, (size_t)n + 1, &ti),
			 -EBADMSG);
	buf[0] = 2; /* a version this build does not know */
	assert_int_equal(record_tunnel_decode(buf, (size_t)n, &ti), -EBADMSG);
	buf[0] = 1;
	buf[1 + 2 + 2 + 1 + 16 + 2] = TUNNEL_DEAD + 1; /* state byte */
	assert_int_equal(record_tunnel_decode(buf, (size_t)n, &ti), -EBADMSG);
	tunnel_free(&t);
}

static void test_session(void **state)
{
	(void)state;
	struct tunnel t;
	struct record_session_info si;
	uint8_t buf[RECORD_SESSION_MAX];
	assert_int_equal(tunnel_init(&t, &env, 9, 0), 0);
	struct session *s = tunnel_session_add(&t, 77);
	s->peer_sid = 78;
	s->state = SESSION_ESTABLISHED;
	s->call_serial = 123456;
	s->bearer_type = 2;
	s->framing_type = 1;
	s->tx_connect_bps = 1000;
	s->rx_connect_bps = 2000;
	s->sequencing_required = true;
	strcpy(s->calling_number, "0301");
	strcpy(s->called_number, "999");
	int n = record_session_encode(s, buf, sizeof(buf));
	assert_true(n > 0);
	assert_int_equal(record_session_decode(buf, (size_t)n, &si), 0);
	assert_int_equal(si.sid, 77);
	assert_int_equal(si.peer_sid, 78);
	assert_int_equal(si.state, SESSION_ESTABLISHED);
	assert_int_equal(si.call_serial, 123456);
	assert_int_equal(si.bearer_type, 2);
	assert_int_equal(si.framing_type, 1);
	assert_int_equal(si.tx_bps, 1000);
	assert_int_equal(si.rx_bps, 2000);
	assert_true(si.sequencing_required);
	assert_string_equal(si.calling, "0301");
	assert_string_equal(si.called, "999");
	assert_int_equal(si.ppp_family, 0); /* no PPP yet */
	for (int cut = 0; cut < n; cut++)
		assert_int_equal(record_session_decode(buf, (size_t)cut, &si),
				 -EBADMSG);
	buf[n] = 0;
	assert_int_equal(record_session_decode(buf, (size_t)n + 1, &si),
			 -EBADMSG);
	tunnel_free(&t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_tunnel_fields),
		cmocka_unit_test(test_tunnel_damaged),
		cmocka_unit_test(test_session),
	};
	return cmocka_run_group_tests_name("record_decode", tests, NULL, NULL);
}
