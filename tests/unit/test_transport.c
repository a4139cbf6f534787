/* Reliable delivery (workers/transport.c), RFC 2661 section 5.8, driven with
 * a fake clock: window, back-off, ZLB timing, duplicates, reordering, wrap. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "byteio.h"
#include "l2tp_msg.h"
#include "transport.h"

#define MAX_OUT 64

/* What the transport put on the wire and delivered. */
struct rec {
	unsigned n_out;
	uint16_t out_ns[MAX_OUT];
	uint16_t out_nr[MAX_OUT];
	bool out_zlb[MAX_OUT];
	unsigned n_deliv;
	uint16_t deliv_ns[MAX_OUT];
};

static void rec_output(void *arg, const uint8_t *pkt, size_t len)
{
	struct rec *r = arg;
	assert_true(r->n_out < MAX_OUT);
	r->out_ns[r->n_out] = byteio_load_u16(pkt + 8);
	r->out_nr[r->n_out] = byteio_load_u16(pkt + 10);
	r->out_zlb[r->n_out] = len == L2TP_CONTROL_HDR_LEN;
	r->n_out++;
}

static void rec_deliver(void *arg, const uint8_t *pkt, size_t len)
{
	struct rec *r = arg;
	(void)len;
	r->deliv_ns[r->n_deliv++] = byteio_load_u16(pkt + 8);
}

static const struct transport_cfg cfg = {
	.our_rws = 4,
	.retransmit_initial_ms = 1000,
	.retransmit_max_ms = 8000,
	.max_retries = 5,
	.ack_delay_ms = 50,
};

/* A HELLO (or a ZLB when zlb) as the peer would send it. */
static size_t peer_msg(uint8_t *buf, uint16_t ns, uint16_t nr, bool zlb)
{
	struct l2tp_msg m;
	memset(&m, 0, sizeof(m));
	m.type = zlb ? L2TP_MSG_ZLB : L2TP_MSG_HELLO;
	m.hdr.tunnel_id = 9;
	m.hdr.ns = ns;
	m.hdr.nr = nr;
	int n = l2tp_msg_encode(&m, NULL, buf, 64);
	assert_true(n > 0);
	return (size_t)n;
}

static void recv_peer(struct transport *t, struct rec *r, uint16_t ns,
		      uint16_t nr, bool zlb, uint64_t now)
{
	uint8_t buf[64];
	size_t len = peer_msg(buf, ns, nr, zlb);
	struct l2tp_header h;
	struct l2tp_reject rej;
	assert_int_equal(l2tp_header_decode(buf, len, &h, &rej), 0);
	transport_recv(t, &h, buf, len, now, rec_deliver, r);
}

static int send_hello(struct transport *t, uint64_t now)
{
	uint8_t buf[64];
	size_t len = peer_msg(buf, 0, 0, false);
	return transport_send(t, buf, len, now);
}

/* Appendix A slow start: one message at first, one more per message
 * acknowledged, never more than the peer's window. */
static void test_window_limits_flight(void **state)
{
	(void)state;
	struct transport t;
	struct rec r = {0};
	assert_int_equal(transport_init(&t, &cfg, 77, 0, rec_output, &r), 0);
	for (int i = 0; i < 6; i++)
		assert_int_equal(send_hello(&t, 0), i);
	assert_int_equal(r.n_out, 1); /* cwnd 1 */
	assert_int_equal(t.n_queued, 6);
	recv_peer(&t, &r, 0, 1, true, 10); /* ZLB acking Ns 0: cwnd 2 */
	assert_int_equal(r.n_out, 3);
	assert_int_equal(r.out_ns[1], 1);
	assert_int_equal(r.out_ns[2], 2);
	recv_peer(&t, &r, 0, 3, true, 20); /* cwnd 4 = the peer's RWS */
	assert_int_equal(r.n_out, 6);
	assert_int_equal(r.out_ns[5], 5);
	assert_int_equal(t.n_queued, 3);
	assert_int_equal(r.n_deliv, 0); /* a ZLB is never delivered */
	recv_peer(&t, &r, 0, 6, true, 30);
	assert_true(transport_idle(&t));
	assert_int_equal(t.cwnd, 4); /* capped at the default peer RWS 4 */
	for (int i = 0; i < 6; i++)
		send_hello(&t, 40);
	assert_int_equal(r.n_out, 10); /* a full window, no more */
	transport_free(&t);
}

/* A retransmission halves ssthresh and restarts at one message; above
 * ssthresh the window grows by one per window acknowledged. */
static void test_retransmission_restarts_slow_start(void **state)
{
	(void)state;
	struct transport t;
	struct rec r = {0};
	assert_int_equal(transport_init(&t, &cfg, 77, 16, rec_output, &r), 0);
	uint16_t nr = 0;
	for (int i = 0; i < 7; i++) { /* 7 acked: cwnd 1 + 7 = 8 */
		send_hello(&t, 0);
		recv_peer(&t, &r, 0, ++nr, true, 0);
	}
	assert_int_equal(t.cwnd, 8);
	for (int i = 0; i < 8; i++)
		send_hello(&t, 0);
	unsigned before = r.n_out;
	transport_tick(&t, 1000); /* all 8 time out */
	assert_int_equal(t.cwnd, 1);
	assert_int_equal(t.ssthresh, 4);
	assert_int_equal(r.n_out,
			 before + 8); /* what was in flight goes again */
	recv_peer(&t, &r, 0, (uint16_t)(nr + 8), true, 1100);
	nr = (uint16_t)(nr + 8);
	assert_int_equal(t.cwnd, 5);   /* 1 + 3 to ssthresh, then 1 of 4 */
	for (int i = 0; i < 10; i++) { /* 4 more make 6, then 6 make 7 */
		send_hello(&t, 2000);
		recv_peer(&t, &r, 0, ++nr, true, 2000);
	}
	assert_int_equal(t.cwnd, 7);
	transport_free(&t);
}

/* Section 5.8: an ack is never held back for the delay once half the
 * window we offer (RWS 4) waits for it; a reply still carries it. */
static void test_ack_not_withheld_at_half_window(void **state)
{
	(void)state;
	struct transport t;
	struct rec r = {0};
	assert_int_equal(transport_init(&t, &cfg, 77, 4, rec_output, &r), 0);
	recv_peer(&t, &r, 0, 0, false, 100);
	assert_int_equal(transport_next_deadline(&t), 150); /* one: delayed */
	recv_peer(&t, &r, 1, 0, false, 101);
	assert_int_equal(transport_next_deadline(&t), 101); /* two: now */
	transport_tick(&t, 101);
	assert_int_equal(r.n_out, 1);
	assert_true(r.out_zlb[0]);
	assert_int_equal(r.out_nr[0], 2);
	recv_peer(&t, &r, 2, 0, false, 200);
	recv_peer(&t, &r, 3, 0, false, 201);
	assert_int_equal(send_hello(&t, 201), 0); /* before the timer runs */
	assert_int_equal(r.out_nr[1], 4);
	transport_tick(&t, 201);
	assert_int_equal(r.n_out, 2); /* piggybacked: no ZLB */
	assert_int_equal(t.stats.zlb_sent, 1);
	transport_free(&t);
}

static void test_backoff_and_death(void **state)
{
	(void)state;
	struct transport t;
	struct rec r = {0};
	assert_int_equal(transport_init(&t, &cfg, 77, 4, rec_output, &r), 0);
	assert_int_equal(send_hello(&t, 0), 0);
	/* retransmissions at 1, 3, 7, 15, 23 s: doubling, capped at 8 s */
	static const uint64_t at[] = {1000, 3000, 7000, 15000, 23000};
	for (unsigned i = 0; i < 5; i++) {
		assert_int_equal(transport_next_deadline(&t), at[i]);
		transport_tick(&t, at[i] - 1);
		assert_int_equal(r.n_out, 1 + i);
		transport_tick(&t, at[i]);
		assert_int_equal(r.n_out, 2 + i);
		assert_int_equal(r.out_ns[1 + i], 0);
	}
	assert_false(t.dead);
	transport_tick(&t, 31000); /* the sixth expiry: give up */
	assert_true(t.dead);
	assert_int_equal(r.n_out, 6);
	assert_int_equal(t.stats.retransmitted, 5);
	assert_int_equal(send_hello(&t, 31001), -EPIPE);
	assert_int_equal(transport_next_deadline(&t), UINT64_MAX);
	transport_free(&t);
}

static void test_delayed_zlb_and_piggyback(void **state)
{
	(void)state;
	struct transport t;
	struct rec r = {0};
	assert_int_equal(transport_init(&t, &cfg, 77, 4, rec_output, &r), 0);
	recv_peer(&t, &r, 0, 0, false, 100);
	assert_int_equal(r.n_deliv, 1);
	assert_int_equal(t.nr, 1);
	assert_int_equal(transport_next_deadline(&t), 150);
	transport_tick(&t, 149);
	assert_int_equal(r.n_out, 0);
	transport_tick(&t, 150);
	assert_int_equal(r.n_out, 1);
	assert_true(r.out_zlb[0]);
	assert_int_equal(r.out_nr[0], 1);
	assert_int_equal(r.out_ns[0], 0); /* ZLB carries the next Ns, unused */
	/* a reply sent before the delay carries the ack: no ZLB */
	recv_peer(&t, &r, 1, 0, false, 200);
	assert_int_equal(send_hello(&t, 210), 0);
	assert_int_equal(r.out_nr[1], 2);
	transport_tick(&t, 300);
	assert_int_equal(r.n_out, 2);
	assert_int_equal(t.stats.zlb_sent, 1);
	transport_free(&t);
}

static void test_duplicate_reacked_not_delivered(void **state)
{
	(void)state;
	struct transport t;
	struct rec r = {0};
	assert_int_equal(transport_init(&t, &cfg, 77, 4, rec_output, &r), 0);
	recv_peer(&t, &r, 0, 0, false, 0);
	transport_tick(&t, 50);
	assert_int_equal(r.n_out, 1);
	recv_peer(&t, &r, 0, 0, false, 1000); /* our ZLB was lost */
	assert_int_equal(r.n_deliv, 1);
	assert_int_equal(t.stats.duplicates, 1);
	assert_int_equal(transport_next_deadline(&t), 1000); /* ack now */
	transport_tick(&t, 1000);
	assert_int_equal(r.n_out, 2);
	assert_int_equal(r.out_nr[1], 1);
	transport_free(&t);
}

static void test_out_of_order_held(void **state)
{
	(void)state;
	struct transport t;
	struct rec r = {0};
	assert_int_equal(transport_init(&t, &cfg, 77, 4, rec_output, &r), 0);
	recv_peer(&t, &r, 2, 0, false, 0);
	recv_peer(&t, &r, 1, 0, false, 0);
	recv_peer(&t, &r, 1, 0, false, 0); /* held twice: kept once */
	recv_peer(&t, &r, 4, 0, false, 0); /* 0 + RWS 4: outside the window */
	assert_int_equal(r.n_deliv, 0);
	assert_int_equal(t.stats.out_of_order, 2);
	assert_int_equal(t.stats.outside_window, 1);
	recv_peer(&t, &r, 0, 0, false, 0);
	assert_int_equal(r.n_deliv, 3);
	assert_int_equal(r.deliv_ns[0], 0);
	assert_int_equal(r.deliv_ns[1], 1);
	assert_int_equal(r.deliv_ns[2], 2);
	assert_int_equal(t.nr, 3);
	transport_free(&t);
}

static void test_wrap_around(void **state)
{
	(void)state;
	struct transport t;
	struct rec r = {0};
	assert_int_equal(transport_init(&t, &cfg, 77, 8, rec_output, &r), 0);
	transport_restore(&t, 65534, 65535, 65534);
	for (int i = 0; i < 4; i++)
		send_hello(&t, 0);
	assert_int_equal(r.out_ns[0], 65534);
	assert_int_equal(r.out_ns[3], 1);
	/* peer delivers Ns 65535 and 0 across its wrap */
	recv_peer(&t, &r, 65535, 0, false, 1);
	recv_peer(&t, &r, 0, 0, false, 1);
	assert_int_equal(r.n_deliv, 2);
	assert_int_equal(t.nr, 1);
	assert_int_equal(t.n_queued, 2); /* Nr 0 acked 65534 and 65535 */
	recv_peer(&t, &r, 0, 2, true, 2);
	assert_int_equal(t.n_queued, 0);
	transport_free(&t);
}

static void test_bogus_nr_ignored(void **state)
{
	(void)state;
	struct transport t;
	struct rec r = {0};
	assert_int_equal(transport_init(&t, &cfg, 77, 4, rec_output, &r), 0);
	send_hello(&t, 0);
	recv_peer(&t, &r, 0, 500, true, 1); /* acks Ns we never sent */
	assert_int_equal(t.n_queued, 1);
	assert_int_equal(t.stats.bad_nr, 1);
	transport_free(&t);
}

static void test_restore_and_retransmit_all(void **state)
{
	(void)state;
	struct transport t;
	struct rec r = {0};
	uint8_t a[64], b[64];
	size_t la = peer_msg(a, 40, 7, false), lb = peer_msg(b, 41, 7, false);
	assert_int_equal(transport_init(&t, &cfg, 77, 4, rec_output, &r), 0);
	transport_restore(&t, 42, 9, 40);
	assert_int_equal(transport_restore_msg(&t, a, la), 0);
	assert_int_equal(transport_restore_msg(&t, b, lb), 0);
	transport_retransmit_all(&t, 5000);
	assert_int_equal(r.n_out, 2);
	assert_int_equal(r.out_ns[0], 40);
	assert_int_equal(r.out_ns[1], 41);
	assert_int_equal(r.out_nr[0], 9); /* current Nr, not the stale 7 */
	assert_int_equal(transport_next_deadline(&t), 6000);
	assert_int_equal(send_hello(&t, 5001), 42);
	transport_free(&t);
}

/* After a takeover from a checkpoint older than what the peer saw: the peer
 * acknowledges our Ns 10 and 11 that the record missed, and never resends its
 * Ns 20 and 21 that the old owner acknowledged. The transport continues after
 * both instead of holding Ns 22 forever. */
static void test_repair_after_stale_restore(void **state)
{
	(void)state;
	struct transport t;
	struct rec r = {0};
	assert_int_equal(transport_init(&t, &cfg, 77, 4, rec_output, &r), 0);
	transport_restore(&t, 10, 20, 10);
	recv_peer(&t, &r, 22, 12, false, 0);
	assert_int_equal(t.ns_next, 12); /* the peer's Nr wins */
	assert_int_equal(r.n_deliv, 0);	 /* 22 held: 20, 21 may still come */
	recv_peer(&t, &r, 22, 12, false, 1000); /* resent, gap never came */
	assert_int_equal(r.n_deliv, 1);
	assert_int_equal(r.deliv_ns[0], 22);
	assert_int_equal(t.nr, 23);
	assert_int_equal(t.stats.repaired, 2);
	assert_false(t.repair);
	assert_int_equal(send_hello(&t, 1001), 12);
	transport_free(&t);
}

/* The same inputs without a restore are plain reordering and a bogus Nr. */
static void test_no_repair_in_normal_operation(void **state)
{
	(void)state;
	struct transport t;
	struct rec r = {0};
	assert_int_equal(transport_init(&t, &cfg, 77, 4, rec_output, &r), 0);
	t.ns_next = t.acked = 10;
	t.nr = 20;
	recv_peer(&t, &r, 22, 12, false, 0);
	recv_peer(&t, &r, 22, 12, false, 1000);
	assert_int_equal(r.n_deliv, 0);
	assert_int_equal(t.ns_next, 10);
	assert_int_equal(t.stats.bad_nr, 2);
	assert_int_equal(t.stats.repaired, 0);
	recv_peer(&t, &r, 20, 10, false, 1001);
	recv_peer(&t, &r, 21, 10, false, 1001);
	assert_int_equal(r.n_deliv, 3); /* the gap filled: 20, 21, then 22 */
	transport_free(&t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_window_limits_flight),
		cmocka_unit_test(test_retransmission_restarts_slow_start),
		cmocka_unit_test(test_ack_not_withheld_at_half_window),
		cmocka_unit_test(test_backoff_and_death),
		cmocka_unit_test(test_delayed_zlb_and_piggyback),
		cmocka_unit_test(test_duplicate_reacked_not_delivered),
		cmocka_unit_test(test_out_of_order_held),
		cmocka_unit_test(test_wrap_around),
		cmocka_unit_test(test_bogus_nr_ignored),
		cmocka_unit_test(test_restore_and_retransmit_all),
		cmocka_unit_test(test_repair_after_stale_restore),
		cmocka_unit_test(test_no_repair_in_normal_operation),
	};
	return cmocka_run_group_tests_name("transport", tests, NULL, NULL);
}
