/* The LNS tunnel/session engine against a scripted LAC built from the codec:
 * setup with and without tunnel authentication, calls, data, CDN and StopCCN
 * both ways, the hold period, HELLO, peer death, hidden AVPs, bad input. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "l2tp_auth.h"
#include "ppp_count.h"
#include "tunnel.h"

#define MAX_PKTS 32
#define LAC_TID	 0x0abc
#define OUR_TID	 0x0105

/* What the tunnel sent, decoded as the LAC would. */
struct fake {
	unsigned n;
	uint8_t pkt[MAX_PKTS][2048];
	size_t len[MAX_PKTS];
	unsigned dirty;
	struct ppp_count ppp;
	struct lns_cfg cfg;
	struct lns_env env;
	struct tunnel t;
	uint16_t lac_ns; /* next Ns the LAC sends */
	uint64_t now;
};

static void fake_output(void *ctx, struct tunnel *t, const uint8_t *pkt,
			size_t len)
{
	struct fake *f = ctx;
	(void)t;
	assert_true(f->n < MAX_PKTS);
	memcpy(f->pkt[f->n], pkt, len);
	f->len[f->n++] = len;
}

static void fake_dirty(void *ctx, struct tunnel *t)
{
	(void)t;
	((struct fake *)ctx)->dirty++;
}

static void fake_random(void *ctx, uint8_t *buf, size_t len)
{
	(void)ctx;
	for (size_t i = 0; i < len; i++)
		buf[i] = (uint8_t)(0x40 + i);
}

static void fake_setup(struct fake *f, const char *secret, bool hide)
{
	memset(f, 0, sizeof(*f));
	f->cfg = (struct lns_cfg){
		.hostname = "lns-test",
		.secret = {(const uint8_t *)secret,
			   secret ? strlen(secret) : 0},
		.hide_avps = hide,
		.tx = {.our_rws = 8,
		       .retransmit_initial_ms = 1000,
		       .retransmit_max_ms = 8000,
		       .max_retries = 5,
		       .ack_delay_ms = 50},
		.hello_interval_ms = 60000,
		.hold_ms = 31000,
		.max_sessions = 3,
	};
	f->env = (struct lns_env){.cfg = &f->cfg,
				  .ppp = ppp_count_backend(&f->ppp),
				  .output = fake_output,
				  .dirty = fake_dirty,
				  .random = fake_random,
				  .ctx = f};
	f->now = 1000;
	assert_int_equal(tunnel_init(&f->t, &f->env, OUR_TID, f->now), 0);
}

/* Decode sent packet i (with the secret, for hidden AVPs). */
static void sent(struct fake *f, unsigned i, struct l2tp_msg *m)
{
	static uint8_t scratch[4096];
	struct l2tp_reject rej;
	assert_true(i < f->n);
	assert_int_equal(l2tp_msg_decode(f->pkt[i], f->len[i], &f->cfg.secret,
					 scratch, sizeof(scratch), m, &rej),
			 0);
}

/* The LAC sends m (tunnel/session IDs, Ns/Nr filled here). */
static void lac_send(struct fake *f, struct l2tp_msg *m, uint16_t tid,
		     uint16_t sid)
{
	uint8_t buf[2048];
	m->hdr.tunnel_id = tid;
	m->hdr.session_id = sid;
	m->hdr.ns = f->lac_ns;
	m->hdr.nr = f->t.tx.ns_next; /* the LAC has everything we sent */
	int n = l2tp_msg_encode(m, NULL, buf, sizeof(buf));
	assert_true(n > 0);
	if (m->type != L2TP_MSG_ZLB)
		f->lac_ns++;
	struct l2tp_header h;
	struct l2tp_reject rej;
	assert_int_equal(l2tp_header_decode(buf, (size_t)n, &h, &rej), 0);
	tunnel_rx_control(&f->t, &h, buf, (size_t)n, f->now);
}

static void lac_sccrq(struct fake *f, const uint8_t *challenge, size_t clen,
		      uint16_t version)
{
	struct l2tp_msg m;
	memset(&m, 0, sizeof(m));
	m.type = L2TP_MSG_SCCRQ;
	l2tp_msg_set(&m, L2TP_AVP_PROTOCOL_VERSION);
	l2tp_msg_set(&m, L2TP_AVP_HOST_NAME);
	l2tp_msg_set(&m, L2TP_AVP_FRAMING_CAPABILITIES);
	l2tp_msg_set(&m, L2TP_AVP_ASSIGNED_TUNNEL_ID);
	l2tp_msg_set(&m, L2TP_AVP_RECEIVE_WINDOW_SIZE);
	l2tp_msg_set(&m, L2TP_AVP_TIE_BREAKER);
	m.protocol_version = version;
	m.host_name = (struct l2tp_bytes){(const uint8_t *)"lac1", 4};
	m.framing_capabilities = 3;
	m.assigned_tunnel_id = LAC_TID;
	m.receive_window_size = 2;
	m.tie_breaker = 0x1122334455667788ull;
	if (challenge) {
		l2tp_msg_set(&m, L2TP_AVP_CHALLENGE);
		m.challenge = (struct l2tp_bytes){challenge, (uint16_t)clen};
	}
	lac_send(f, &m, 0, 0);
}

static void lac_simple(struct fake *f, uint16_t type, uint16_t sid)
{
	struct l2tp_msg m;
	memset(&m, 0, sizeof(m));
	m.type = type;
	lac_send(f, &m, OUR_TID, sid);
}

static void lac_scccn(struct fake *f, const uint8_t *resp)
{
	struct l2tp_msg m;
	memset(&m, 0, sizeof(m));
	m.type = L2TP_MSG_SCCCN;
	if (resp) {
		l2tp_msg_set(&m, L2TP_AVP_CHALLENGE_RESPONSE);
		m.challenge_response = (struct l2tp_bytes){resp, 16};
	}
	lac_send(f, &m, OUR_TID, 0);
}

static void establish(struct fake *f)
{
	lac_sccrq(f, NULL, 0, 0x0100);
	lac_scccn(f, NULL);
	assert_int_equal(f->t.state, TUNNEL_ESTABLISHED);
}

/* ICRQ + ICCN; returns our Session ID from the ICRP. */
static uint16_t lac_call(struct fake *f, uint16_t lac_sid)
{
	struct l2tp_msg m, r;
	memset(&m, 0, sizeof(m));
	m.type = L2TP_MSG_ICRQ;
	l2tp_msg_set(&m, L2TP_AVP_ASSIGNED_SESSION_ID);
	l2tp_msg_set(&m, L2TP_AVP_CALL_SERIAL_NUMBER);
	l2tp_msg_set(&m, L2TP_AVP_CALLING_NUMBER);
	m.assigned_session_id = lac_sid;
	m.call_serial_number = 1000u + lac_sid;
	m.calling_number = (struct l2tp_bytes){(const uint8_t *)"0301234", 7};
	unsigned before = f->n;
	lac_send(f, &m, OUR_TID, 0);
	assert_int_equal(f->n, before + 1);
	sent(f, before, &r);
	if (r.type != L2TP_MSG_ICRP)
		return 0;
	assert_int_equal(r.hdr.session_id, lac_sid);
	uint16_t sid = r.assigned_session_id;
	memset(&m, 0, sizeof(m));
	m.type = L2TP_MSG_ICCN;
	l2tp_msg_set(&m, L2TP_AVP_TX_CONNECT_SPEED);
	l2tp_msg_set(&m, L2TP_AVP_FRAMING_TYPE);
	m.tx_connect_speed = 100000000;
	m.framing_type = 1;
	lac_send(f, &m, OUR_TID, sid);
	return sid;
}

static void test_setup_call_data_teardown(void **state)
{
	(void)state;
	struct fake f;
	struct l2tp_msg r;
	fake_setup(&f, NULL, false);
	lac_sccrq(&f, NULL, 0, 0x0100);
	assert_int_equal(f.t.state, TUNNEL_WAIT_CTL_CONN);
	assert_int_equal(f.n, 1);
	sent(&f, 0, &r);
	assert_int_equal(r.type, L2TP_MSG_SCCRP);
	assert_int_equal(r.hdr.tunnel_id, LAC_TID);
	assert_int_equal(r.hdr.ns, 0);
	assert_int_equal(r.hdr.nr, 1);
	assert_int_equal(r.assigned_tunnel_id, OUR_TID);
	assert_int_equal(r.protocol_version, 0x0100);
	assert_int_equal(r.receive_window_size, 8);
	assert_memory_equal(r.host_name.p, "lns-test", 8);
	assert_false(l2tp_msg_has(&r, L2TP_AVP_CHALLENGE));
	assert_string_equal(f.t.peer_hostname, "lac1");
	assert_int_equal(f.t.tx.peer_rws, 2);
	assert_true(f.t.has_tie_breaker);

	lac_scccn(&f, NULL);
	assert_int_equal(f.t.state, TUNNEL_ESTABLISHED);
	/* SCCCN is acknowledged by a ZLB after the ack delay */
	f.now += 50;
	tunnel_tick(&f.t, f.now);
	assert_int_equal(f.n, 2);
	assert_int_equal(f.len[1], 12);

	uint16_t sid = lac_call(&f, 0x0777);
	assert_true(sid != 0);
	struct session *s = tunnel_session_find(&f.t, sid);
	assert_non_null(s);
	assert_int_equal(s->state, SESSION_ESTABLISHED);
	assert_int_equal(s->peer_sid, 0x0777);
	assert_int_equal(s->call_serial, 1000 + 0x0777);
	assert_string_equal(s->calling_number, "0301234");
	assert_int_equal(s->tx_connect_bps, 100000000);
	assert_int_equal(f.ppp.open, 1);

	/* data: plain, with L and S, with an offset */
	uint8_t d[64];
	struct l2tp_data_opts opts[3] = {
		{0},
		{.with_length = true, .with_seq = true, .ns = 0},
		{.with_offset = true, .offset_size = 3},
	};
	for (int i = 0; i < 3; i++) {
		int hl = l2tp_header_encode_data(d, sizeof(d), OUR_TID, sid,
						 &opts[i], 4);
		memcpy(d + hl, "\xff\x03\xc0\x21", 4);
		struct l2tp_header h;
		struct l2tp_reject rej;
		assert_int_equal(
			l2tp_header_decode(d, (size_t)hl + 4, &h, &rej), 0);
		tunnel_rx_data(&f.t, &h, d, (size_t)hl + 4);
	}
	assert_int_equal(f.ppp.frames, 3);
	assert_int_equal(f.ppp.bytes, 12);
	/* data for an unknown session is counted and dropped */
	int hl = l2tp_header_encode_data(d, sizeof(d), OUR_TID, 999, NULL, 4);
	struct l2tp_header h;
	struct l2tp_reject rej;
	l2tp_header_decode(d, (size_t)hl + 4, &h, &rej);
	tunnel_rx_data(&f.t, &h, d, (size_t)hl + 4);
	assert_int_equal(f.t.stats.rx_data_drop, 1);

	/* CDN from the LAC ends the call */
	struct l2tp_msg m;
	memset(&m, 0, sizeof(m));
	m.type = L2TP_MSG_CDN;
	l2tp_msg_set(&m, L2TP_AVP_RESULT_CODE);
	l2tp_msg_set(&m, L2TP_AVP_ASSIGNED_SESSION_ID);
	m.result_code.result = L2TP_CDN_ADMIN;
	m.assigned_session_id = 0x0777;
	lac_send(&f, &m, OUR_TID, sid);
	assert_null(tunnel_session_find(&f.t, sid));
	assert_int_equal(f.ppp.open, 0);
	assert_int_equal(f.ppp.closed, 1);

	/* we clear the tunnel: StopCCN, then DEAD once acknowledged */
	unsigned before = f.n;
	tunnel_close(&f.t, L2TP_STOPCCN_SHUTTING_DOWN, 0, NULL, f.now);
	assert_int_equal(f.t.state, TUNNEL_CLOSING);
	sent(&f, before, &r);
	assert_int_equal(r.type, L2TP_MSG_STOPCCN);
	assert_int_equal(r.result_code.result, L2TP_STOPCCN_SHUTTING_DOWN);
	assert_int_equal(r.assigned_tunnel_id, OUR_TID);
	lac_simple(&f, L2TP_MSG_ZLB, 0);
	assert_int_equal(f.t.state, TUNNEL_DEAD);
	tunnel_free(&f.t);
}

static void test_tunnel_auth(void **state)
{
	(void)state;
	struct fake f;
	struct l2tp_msg r;
	static const uint8_t lac_chal[8] = {1, 2, 3, 4, 5, 6, 7, 8};
	uint8_t want[16], resp[16];
	fake_setup(&f, "s3cret", false);
	lac_sccrq(&f, lac_chal, sizeof(lac_chal), 0x0100);
	sent(&f, 0, &r);
	/* SCCRP answers our challenge and carries one of its own */
	l2tp_auth_response(L2TP_MSG_SCCRP, (const uint8_t *)"s3cret", 6,
			   lac_chal, 8, want);
	assert_true(l2tp_msg_has(&r, L2TP_AVP_CHALLENGE_RESPONSE));
	assert_memory_equal(r.challenge_response.p, want, 16);
	assert_true(l2tp_msg_has(&r, L2TP_AVP_CHALLENGE));
	l2tp_auth_response(L2TP_MSG_SCCCN, (const uint8_t *)"s3cret", 6,
			   r.challenge.p, r.challenge.len, resp);
	lac_scccn(&f, resp);
	assert_int_equal(f.t.state, TUNNEL_ESTABLISHED);
	tunnel_free(&f.t);

	/* wrong response: StopCCN "not authorized" */
	fake_setup(&f, "s3cret", false);
	lac_sccrq(&f, NULL, 0, 0x0100);
	memset(resp, 0x5a, sizeof(resp));
	lac_scccn(&f, resp);
	assert_int_equal(f.t.state, TUNNEL_CLOSING);
	assert_int_equal(f.t.stats.auth_failures, 1);
	sent(&f, 1, &r);
	assert_int_equal(r.type, L2TP_MSG_STOPCCN);
	assert_int_equal(r.result_code.result, L2TP_STOPCCN_NOT_AUTHORIZED);
	tunnel_free(&f.t);

	/* missing response: same */
	fake_setup(&f, "s3cret", false);
	lac_sccrq(&f, NULL, 0, 0x0100);
	lac_scccn(&f, NULL);
	assert_int_equal(f.t.state, TUNNEL_CLOSING);
	tunnel_free(&f.t);

	/* the LAC challenges but we have no secret */
	fake_setup(&f, NULL, false);
	lac_sccrq(&f, lac_chal, sizeof(lac_chal), 0x0100);
	sent(&f, 0, &r);
	assert_int_equal(r.type, L2TP_MSG_STOPCCN);
	assert_int_equal(r.result_code.result, L2TP_STOPCCN_NOT_AUTHORIZED);
	tunnel_free(&f.t);
}

static void test_bad_version(void **state)
{
	(void)state;
	struct fake f;
	struct l2tp_msg r;
	fake_setup(&f, NULL, false);
	lac_sccrq(&f, NULL, 0, 0x0200);
	sent(&f, 0, &r);
	assert_int_equal(r.type, L2TP_MSG_STOPCCN);
	assert_int_equal(r.result_code.result, L2TP_STOPCCN_BAD_VERSION);
	assert_int_equal(f.t.state, TUNNEL_CLOSING);
	tunnel_free(&f.t);
}

static void test_stopccn_from_lac_holds(void **state)
{
	(void)state;
	struct fake f;
	fake_setup(&f, NULL, false);
	establish(&f);
	lac_call(&f, 5);
	lac_call(&f, 6);
	assert_int_equal(f.ppp.open, 2);
	struct l2tp_msg m;
	memset(&m, 0, sizeof(m));
	m.type = L2TP_MSG_STOPCCN;
	l2tp_msg_set(&m, L2TP_AVP_RESULT_CODE);
	l2tp_msg_set(&m, L2TP_AVP_ASSIGNED_TUNNEL_ID);
	m.result_code.result = L2TP_STOPCCN_CLEAR;
	m.assigned_tunnel_id = LAC_TID;
	lac_send(&f, &m, OUR_TID, 0);
	assert_int_equal(f.t.state, TUNNEL_HOLD);
	assert_int_equal(f.ppp.open, 0);
	assert_int_equal(f.t.n_sessions, 0);
	assert_int_equal(f.t.close_result, L2TP_STOPCCN_CLEAR);
	/* a ZLB acknowledges the StopCCN; state stays for the hold period */
	unsigned before = f.n;
	f.now += 50;
	tunnel_tick(&f.t, f.now);
	assert_int_equal(f.n, before + 1);
	assert_int_equal(f.len[before], 12);
	assert_int_equal(tunnel_next_deadline(&f.t), 1000 + 31000);
	f.now = 1000 + 31000;
	tunnel_tick(&f.t, f.now);
	assert_int_equal(f.t.state, TUNNEL_DEAD);
	tunnel_free(&f.t);
}

static void test_hello_and_peer_death(void **state)
{
	(void)state;
	struct fake f;
	struct l2tp_msg r;
	fake_setup(&f, NULL, false);
	establish(&f);
	f.now += 50;
	tunnel_tick(&f.t, f.now); /* ZLB for SCCCN */
	unsigned before = f.n;
	assert_int_equal(tunnel_next_deadline(&f.t), 1000 + 60000);
	f.now = 1000 + 60000;
	tunnel_tick(&f.t, f.now);
	sent(&f, before, &r);
	assert_int_equal(r.type, L2TP_MSG_HELLO);
	/* nobody answers: 5 retransmissions, then the tunnel is dead */
	for (int i = 0; i < 10 && f.t.state != TUNNEL_DEAD; i++) {
		f.now = tunnel_next_deadline(&f.t);
		tunnel_tick(&f.t, f.now);
	}
	assert_int_equal(f.t.state, TUNNEL_DEAD);
	assert_int_equal(f.t.tx.stats.retransmitted, 5);
	tunnel_free(&f.t);
}

static void test_session_limits_and_errors(void **state)
{
	(void)state;
	struct fake f;
	struct l2tp_msg r;
	fake_setup(&f, NULL, false);
	establish(&f);
	for (uint16_t i = 1; i <= 3; i++)
		assert_true(lac_call(&f, i) != 0);
	/* max_sessions 3: the fourth call gets CDN "no facilities" */
	assert_int_equal(lac_call(&f, 4), 0);
	sent(&f, f.n - 1, &r);
	assert_int_equal(r.type, L2TP_MSG_CDN);
	assert_int_equal(r.hdr.session_id, 4);
	assert_int_equal(r.result_code.result, L2TP_CDN_NO_FACILITIES_TEMP);
	assert_int_equal(f.t.stats.sessions_refused, 1);
	/* the PPP backend refusing a call: CDN, session gone */
	tunnel_free(&f.t);
	fake_setup(&f, NULL, false);
	f.ppp.refuse_errno = ENODEV;
	establish(&f);
	uint16_t sid = lac_call(&f, 9);
	sent(&f, f.n - 1, &r);
	assert_int_equal(r.type, L2TP_MSG_CDN);
	assert_int_equal(r.result_code.result, L2TP_CDN_NO_FACILITIES_PERM);
	assert_null(tunnel_session_find(&f.t, sid));
	/* an ICRQ before SCCCN is a protocol error: StopCCN FSM error */
	tunnel_free(&f.t);
	fake_setup(&f, NULL, false);
	lac_sccrq(&f, NULL, 0, 0x0100);
	lac_call(&f, 1);
	sent(&f, f.n - 1, &r);
	assert_int_equal(r.type, L2TP_MSG_STOPCCN);
	assert_int_equal(r.result_code.result, L2TP_STOPCCN_FSM_ERROR);
	tunnel_free(&f.t);
}

static void test_unknown_mandatory_avp_clears_tunnel(void **state)
{
	(void)state;
	struct fake f;
	struct l2tp_msg r;
	fake_setup(&f, NULL, false);
	establish(&f);
	/* HELLO with a vendor AVP carrying the M bit */
	uint8_t buf[64] = {0xc8,
			   0x02,
			   0,
			   27,
			   OUR_TID >> 8,
			   OUR_TID & 0xff,
			   0,
			   0,
			   0,
			   2,
			   0,
			   1,
			   0x80,
			   8,
			   0,
			   0,
			   0,
			   0,
			   0,
			   6,
			   0x80,
			   7,
			   0,
			   9,
			   0,
			   1,
			   'x'};
	buf[9] = (uint8_t)f.lac_ns;
	buf[11] = (uint8_t)f.t.tx.ns_next;
	struct l2tp_header h;
	struct l2tp_reject rej;
	assert_int_equal(l2tp_header_decode(buf, 27, &h, &rej), 0);
	unsigned before = f.n;
	tunnel_rx_control(&f.t, &h, buf, 27, f.now);
	assert_int_equal(f.t.state, TUNNEL_CLOSING);
	sent(&f, before, &r);
	assert_int_equal(r.type, L2TP_MSG_STOPCCN);
	assert_int_equal(r.result_code.result, L2TP_STOPCCN_GENERAL_ERROR);
	assert_int_equal(r.result_code.error, L2TP_ERR_UNKNOWN_M_AVP);
	assert_int_equal(f.t.stats.rejected[L2TP_REJ_AVP_UNKNOWN_MANDATORY], 1);
	/* garbage framing is dropped without an acknowledgement */
	buf[13] = 3; /* AVP length 3 */
	tunnel_rx_control(&f.t, &h, buf, 27, f.now);
	assert_int_equal(f.t.stats.rejected[L2TP_REJ_AVP_LENGTH_SHORT], 1);
	tunnel_free(&f.t);
}

static void test_hidden_avps_on_send(void **state)
{
	(void)state;
	struct fake f;
	struct l2tp_msg r;
	fake_setup(&f, "s3cret", true);
	lac_sccrq(&f, NULL, 0, 0x0100);
	sent(&f, 0, &r); /* decodes with the secret */
	assert_int_equal(r.assigned_tunnel_id, OUR_TID);
	assert_true(r.hidden & l2tp_avp_bit(L2TP_AVP_ASSIGNED_TUNNEL_ID));
	assert_false(r.hidden & l2tp_avp_bit(L2TP_AVP_HOST_NAME));
	assert_true(l2tp_msg_has(&r, L2TP_AVP_RANDOM_VECTOR));
	tunnel_free(&f.t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_setup_call_data_teardown),
		cmocka_unit_test(test_tunnel_auth),
		cmocka_unit_test(test_bad_version),
		cmocka_unit_test(test_stopccn_from_lac_holds),
		cmocka_unit_test(test_hello_and_peer_death),
		cmocka_unit_test(test_session_limits_and_errors),
		cmocka_unit_test(test_unknown_mandatory_avp_clears_tunnel),
		cmocka_unit_test(test_hidden_avps_on_send),
	};
	return cmocka_run_group_tests_name("tunnel", tests, NULL, NULL);
}
