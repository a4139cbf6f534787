/* Checkpoint records (statestore/record.c): a tunnel with sessions and unacked
 * messages survives encode -> restore; damaged records are refused. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

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
	memset(b, 7, n);
}

static const struct lns_cfg cfg = {
	.hostname = "lns",
	.tx = {.our_rws = 4,
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

static void make_tunnel(struct tunnel *t)
{
	assert_int_equal(tunnel_init(t, &env, 0x0203, 0), 0);
	t->state = TUNNEL_ESTABLISHED;
	t->peer_tid = 0x0909;
	t->tx.peer_tunnel_id = 0x0909;
	t->tx.peer_rws = 8;
	t->has_tie_breaker = true;
	t->tie_breaker = 0xfeedfacecafebeefull;
	strcpy(t->peer_hostname, "lac-7");
	strcpy(t->peer_vendor, "xelerance");
	t->peer_framing_caps = 3;
	transport_restore(&t->tx, 10, 20, 10);
	struct l2tp_msg m;
	memset(&m, 0, sizeof(m));
	m.type = L2TP_MSG_HELLO;
	uint8_t buf[64];
	for (int i = 0; i < 2; i++) {
		int n = l2tp_msg_encode(&m, NULL, buf, sizeof(buf));
		assert_int_equal(transport_send(&t->tx, buf, (size_t)n, 0),
				 10 + i);
	}
	struct session *s = tunnel_session_add(t, 5);
	s->peer_sid = 55;
	s->state = SESSION_ESTABLISHED;
	s->call_serial = 777;
	s->tx_connect_bps = 1000000;
	s->sequencing_required = true;
	strcpy(s->calling_number, "0301234");
	s = tunnel_session_add(t, 6);
	s->peer_sid = 66;
	s->state = SESSION_WAIT_CONNECT;
}

static void test_round_trip(void **state)
{
	(void)state;
	struct tunnel t, back;
	struct record_peer peer = {
		.addr = {.family = 4, .addr = {192, 0, 2, 9}, .port = 1701}};
	struct record_peer peer2;
	static uint8_t buf[RECORD_TUNNEL_MAX];
	make_tunnel(&t);
	int n = record_tunnel_encode(&t, &peer, buf, sizeof(buf));
	assert_true(n > 0);
	assert_int_equal(buf[0], RECORD_VERSION);
	assert_int_equal(tunnel_init(&back, &env, 0x0203, 0), 0);
	assert_int_equal(record_tunnel_restore(&back, &peer2, buf, (size_t)n),
			 0);
	assert_int_equal(back.state, TUNNEL_ESTABLISHED);
	assert_int_equal(back.peer_tid, 0x0909);
	assert_int_equal(back.tx.ns_next, 12);
	assert_int_equal(back.tx.nr, 20);
	assert_int_equal(back.tx.peer_rws, 8);
	assert_int_equal(back.tx.n_queued, 2);
	assert_int_equal(back.tx.head->ns, 10);
	assert_int_equal(back.tie_breaker, 0xfeedfacecafebeefull);
	assert_string_equal(back.peer_hostname, "lac-7");
	assert_string_equal(back.peer_vendor, "xelerance");
	assert_int_equal(peer2.addr.port, 1701);
	assert_memory_equal(peer2.addr.addr, peer.addr.addr, 4);

	uint8_t sbuf[RECORD_SESSION_MAX];
	for (uint16_t sid = 5; sid <= 6; sid++) {
		int sn = record_session_encode(tunnel_session_find(&t, sid),
					       sbuf, sizeof(sbuf));
		assert_true(sn > 0);
		assert_int_equal(
			record_session_restore(&back, sbuf, (size_t)sn), 0);
		/* the same session twice is refused */
		assert_int_equal(
			record_session_restore(&back, sbuf, (size_t)sn),
			-EBADMSG);
	}
	/* new calls after the restore get IDs above the restored ones */
	assert_int_equal(back.next_sid, 7);
	struct session *s = tunnel_session_find(&back, 5);
	assert_non_null(s);
	assert_int_equal(s->peer_sid, 55);
	assert_int_equal(s->state, SESSION_ESTABLISHED);
	assert_int_equal(s->call_serial, 777);
	assert_true(s->sequencing_required);
	assert_string_equal(s->calling_number, "0301234");
	assert_int_equal(tunnel_session_find(&back, 6)->state,
			 SESSION_WAIT_CONNECT);
	assert_int_equal(back.n_sessions, 2);
	tunnel_free(&back);
	tunnel_free(&t);
}

static void test_damaged_records(void **state)
{
	(void)state;
	struct tunnel t, back;
	struct record_peer peer = {.addr = {.family = 4}}, p2;
	static uint8_t buf[RECORD_TUNNEL_MAX];
	make_tunnel(&t);
	int n = record_tunnel_encode(&t, &peer, buf, sizeof(buf));
	for (int cut = 0; cut < n; cut++) {
		assert_int_equal(tunnel_init(&back, &env, 0x0203, 0), 0);
		assert_int_equal(
			record_tunnel_restore(&back, &p2, buf, (size_t)cut),
			-EBADMSG);
		tunnel_free(&back);
	}
	assert_int_equal(tunnel_init(&back, &env, 0x0203, 0), 0);
	buf[n] = 0; /* trailing byte */
	assert_int_equal(record_tunnel_restore(&back, &p2, buf, (size_t)n + 1),
			 -EBADMSG);
	tunnel_free(&back);
	buf[0] = 2; /* future version */
	assert_int_equal(tunnel_init(&back, &env, 0x0203, 0), 0);
	assert_int_equal(record_tunnel_restore(&back, &p2, buf, (size_t)n),
			 -EBADMSG);
	tunnel_free(&back);
	buf[0] = 1; /* record of another tunnel */
	assert_int_equal(tunnel_init(&back, &env, 0x0204, 0), 0);
	assert_int_equal(record_tunnel_restore(&back, &p2, buf, (size_t)n),
			 -EBADMSG);
	tunnel_free(&back);
	assert_int_equal(record_tunnel_encode(&t, &peer, buf, 20), -ENOSPC);
	tunnel_free(&t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_damaged_records),
	};
	return cmocka_run_group_tests_name("record", tests, NULL, NULL);
}
