/* LAC handling of every control message (RFC 2661 sections 5 and 6) for one
 * tunnel and its incoming calls: SCCRQ out, SCCRP checked (5.1.1 tunnel
 * authentication both ways), SCCCN out; ICRQ/ICRP/ICCN per call; CDN and
 * StopCCN both ways; HELLO when idle. */
#include "lac_tunnel.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "l2tp_auth.h"
#include "l2tp_avp.h"
#include "l2tp_seq.h"
#include "log.h"

#define LAC_TUNNEL_MSG_MAX     2048   /* our messages are small */
#define LAC_TUNNEL_PROTOCOL    0x0100 /* version 1, revision 0 (4.4.3) */
#define LAC_TUNNEL_FIRMWARE    0x0100
#define LAC_TUNNEL_VENDOR      "tandem-lac"
#define LAC_TUNNEL_FRAMING_CAP 3u	  /* sync and async (4.4.3) */
#define LAC_TUNNEL_BEARER_CAP  3u	  /* digital and analog (4.4.3) */
#define LAC_TUNNEL_BEARER_TYPE 2u	  /* analog call (4.4.5) */
#define LAC_TUNNEL_FRAMING     1u	  /* synchronous framing (4.4.5) */
#define LAC_TUNNEL_BPS	       100000000u /* (Tx) Connect Speed we report */

/* Decode scratch for unhidden AVP values: one thread, one decode at a time. */
static uint8_t lac_tunnel_scratch[L2TP_MAX_DATAGRAM];

static void lac_tunnel_output(void *arg, const uint8_t *pkt, size_t len)
{
	struct lac_tunnel *t = arg;
	t->env->output(t->env->ctx, t, pkt, len);
}

int lac_tunnel_init(struct lac_tunnel *t, const struct lac_env *env,
		    uint16_t tid)
{
	const struct lac_cfg *cfg = env->cfg;
	int rc;

	memset(t, 0, sizeof(*t));
	t->tid = tid;
	t->env = env;
	t->state = LAC_TUNNEL_IDLE;
	t->next_serial = (uint32_t)tid << 16;
	if (cfg->sessions) {
		t->sessions = calloc(cfg->sessions, sizeof(*t->sessions));
		if (!t->sessions)
			return -ENOMEM;
		for (unsigned i = 0; i < cfg->sessions; i++)
			t->sessions[i].tunnel = t;
	}
	rc = transport_init(&t->tx, &cfg->tx, 0, 0, lac_tunnel_output, t);
	if (rc < 0)
		goto fail;
	return 0;
fail:
	free(t->sessions);
	t->sessions = NULL;
	return rc;
}

void lac_tunnel_free(struct lac_tunnel *t)
{
	transport_free(&t->tx);
	free(t->sessions);
	t->sessions = NULL;
}

/* --- deadline-ordered session lists --- */

static struct lac_session_list *lac_tunnel_list(struct lac_tunnel *t,
						uint8_t which)
{
	return which == LAC_LIST_SETUP ? &t->setup : &t->up;
}

static void lac_tunnel_list_remove(struct lac_tunnel *t, struct lac_session *s)
{
	if (s->list == LAC_LIST_NONE)
		return;
	struct lac_session_list *l = lac_tunnel_list(t, s->list);
	if (s->prev)
		s->prev->next = s->next;
	else
		l->head = s->next;
	if (s->next)
		s->next->prev = s->prev;
	else
		l->tail = s->prev;
	s->prev = s->next = NULL;
	s->list = LAC_LIST_NONE;
	l->n--;
}

static void lac_tunnel_list_append(struct lac_tunnel *t, struct lac_session *s,
				   uint8_t which)
{
	struct lac_session_list *l = lac_tunnel_list(t, which);
	lac_tunnel_list_remove(t, s);
	s->prev = l->tail;
	s->next = NULL;
	if (l->tail)
		l->tail->next = s;
	else
		l->head = s;
	l->tail = s;
	s->list = which;
	l->n++;
}

struct lac_session *lac_tunnel_session_find(const struct lac_tunnel *t,
					    uint16_t sid)
{
	unsigned n = t->env->cfg->sessions;
	if (!sid || !n)
		return NULL;
	/* Session IDs are 1 + slot + n * generation, so the slot is implied. */
	struct lac_session *s = &t->sessions[(unsigned)(sid - 1u) % n];
	return s->state != LAC_SESSION_IDLE && s->sid == sid ? s : NULL;
}

static struct lac_session *
lac_tunnel_session_by_peer(const struct lac_tunnel *t, uint16_t peer_sid)
{
	for (unsigned i = 0; peer_sid && i < t->env->cfg->sessions; i++) {
		struct lac_session *s = &t->sessions[i];
		if (s->state != LAC_SESSION_IDLE && s->peer_sid == peer_sid)
			return s;
	}
	return NULL;
}

/* --- sending --- */

/* Encode m (header IDs filled here, AVPs hidden when configured) and hand it
 * to reliable delivery. Returns the Ns it got, or -errno. */
static int lac_tunnel_send(struct lac_tunnel *t, struct l2tp_msg *m,
			   uint16_t peer_sid)
{
	const struct lac_cfg *cfg = t->env->cfg;
	uint8_t buf[LAC_TUNNEL_MSG_MAX];
	uint8_t rv[16];
	struct l2tp_encode_opts opts = {.secret = cfg->secret};
	int n;

	m->hdr.tunnel_id = t->peer_tid;
	m->hdr.session_id = peer_sid;
	m->hidden = 0;
	if (cfg->hide_avps && cfg->secret.len &&
	    (m->type != L2TP_MSG_SCCRQ || cfg->hide_sccrq)) {
		for (unsigned a = 1; a <= L2TP_AVP_TYPE_MAX; a++) {
			const struct l2tp_avp_info *ai = l2tp_avp_info_get(a);
			if (ai && ai->hideable && l2tp_msg_has(m, a))
				m->hidden |= l2tp_avp_bit(a);
		}
		t->env->random(t->env->ctx, rv, sizeof(rv));
		opts.random_vector = (struct l2tp_bytes){rv, sizeof(rv)};
	}
	n = l2tp_msg_encode(m, m->hidden ? &opts : NULL, buf, sizeof(buf));
	if (n < 0)
		goto fail;
	n = transport_send(&t->tx, buf, (size_t)n, t->now_ms);
	if (n < 0)
		goto fail;
	return n;
fail:
	t->stats.send_errors++;
	LOG_RL(LOG_LEVEL_WARN, "cannot send", "tid=%u msg=%s err=%d", t->tid,
	       l2tp_msg_type_name(m->type), n);
	return n;
}

static void lac_tunnel_send_cdn(struct lac_tunnel *t, struct lac_session *s,
				uint16_t result, uint16_t error)
{
	struct l2tp_msg m;
	memset(&m, 0, sizeof(m));
	m.type = L2TP_MSG_CDN;
	l2tp_msg_set(&m, L2TP_AVP_RESULT_CODE);
	l2tp_msg_set(&m, L2TP_AVP_ASSIGNED_SESSION_ID);
	/* The error field is optional (4.4.2) but xl2tpd refuses a Result Code
	 * shorter than result + error. */
	m.result_code.result = result;
	m.result_code.has_error = true;
	m.result_code.error = error;
	m.assigned_session_id = s->sid;
	lac_tunnel_send(t, &m, s->peer_sid);
}

static void lac_tunnel_send_stopccn(struct lac_tunnel *t, uint16_t result,
				    uint16_t error, const char *message)
{
	struct l2tp_msg m;
	memset(&m, 0, sizeof(m));
	m.type = L2TP_MSG_STOPCCN;
	l2tp_msg_set(&m, L2TP_AVP_ASSIGNED_TUNNEL_ID);
	l2tp_msg_set(&m, L2TP_AVP_RESULT_CODE);
	m.assigned_tunnel_id = t->tid;
	m.result_code.result = result;
	m.result_code.has_error = true; /* see lac_tunnel_send_cdn */
	m.result_code.error = error;
	if (message) {
		size_t len = strlen(message);
		m.result_code.message =
			(struct l2tp_bytes){(const uint8_t *)message,
					    (uint16_t)(len > 200 ? 200 : len)};
	}
	t->stop_sent = true;
	lac_tunnel_send(t, &m, 0);
}

/* --- ending calls and the tunnel --- */

/* The call on slot s ends: its state goes back to IDLE, then the driver hears
 * about it. */
static void lac_tunnel_session_end(struct lac_tunnel *t, struct lac_session *s,
				   enum lac_session_event ev, enum lac_why why,
				   uint16_t code)
{
	bool was_up = s->state == LAC_SESSION_ESTABLISHED;
	lac_tunnel_list_remove(t, s);
	if (lac_session_fsm_step(t, s, ev) < 0)
		return;
	if (t->env->session_down)
		t->env->session_down(t->env->ctx, t, s, was_up, why, code);
}

/* We clear the call: CDN, then end it. */
static void lac_tunnel_session_clear(struct lac_tunnel *t,
				     struct lac_session *s, uint16_t result,
				     uint16_t error, enum lac_why why)
{
	lac_tunnel_send_cdn(t, s, result, error);
	lac_tunnel_session_end(t, s, LAC_SESSION_EV_LOCAL_CLOSE, why, 0);
}

/* Every call ends with the tunnel (RFC 2661 5.7: no CDN needed). */
static void lac_tunnel_all_sessions_down(struct lac_tunnel *t, enum lac_why why)
{
	for (unsigned i = 0; i < t->env->cfg->sessions; i++)
		if (t->sessions[i].state != LAC_SESSION_IDLE)
			lac_tunnel_session_end(t, &t->sessions[i],
					       LAC_SESSION_EV_TUNNEL_DOWN, why,
					       0);
}

/* We clear the tunnel with StopCCN; ev is LOCAL_CLOSE or RX_SCCRP_BAD. */
static void lac_tunnel_close(struct lac_tunnel *t, enum lac_tunnel_event ev,
			     uint16_t result, uint16_t error,
			     const char *message, enum lac_why why)
{
	bool was_up = t->state == LAC_TUNNEL_ESTABLISHED;
	if (lac_tunnel_fsm_step(t, ev) < 0)
		return; /* already closing, holding or dead */
	lac_tunnel_all_sessions_down(t, LAC_WHY_TUNNEL_DOWN);
	lac_tunnel_send_stopccn(t, result, error, message);
	if (why != LAC_WHY_LOCAL)
		LOG_RL(LOG_LEVEL_WARN, "clearing tunnel",
		       "tid=%u peer_tid=%u why=%s result=%u error=%u", t->tid,
		       t->peer_tid, lac_why_name(why), result, error);
	t->env->tunnel_down(t->env->ctx, t, was_up, why, 0);
}

static void lac_tunnel_fsm_error(struct lac_tunnel *t, const struct l2tp_msg *m)
{
	t->stats.rx_unexpected++;
	LOG_RL(LOG_LEVEL_WARN, "unexpected message", "tid=%u state=%s msg=%s",
	       t->tid, lac_tunnel_fsm_state_name(t->state),
	       l2tp_msg_type_name(m->type));
	lac_tunnel_close(t, LAC_TUNNEL_EV_LOCAL_CLOSE, L2TP_STOPCCN_FSM_ERROR,
			 0, "unexpected message", LAC_WHY_FSM_ERROR);
}

/* A call-management message that does not fit its call's state: counted,
 * and the call (when it is one of ours) cleared (RFC 2661 7.4). */
static void lac_tunnel_session_error(struct lac_tunnel *t,
				     struct lac_session *s,
				     const struct l2tp_msg *m)
{
	t->stats.rx_unexpected++;
	LOG_RL(LOG_LEVEL_WARN, "unexpected call message",
	       "tid=%u sid=%u msg=%s", t->tid, m->hdr.session_id,
	       l2tp_msg_type_name(m->type));
	if (s)
		lac_tunnel_session_clear(t, s, L2TP_CDN_GENERAL_ERROR,
					 L2TP_ERR_BAD_SESSION_ID,
					 LAC_WHY_FSM_ERROR);
}

/* --- opening --- */

int lac_tunnel_open(struct lac_tunnel *t, uint64_t now_ms)
{
	const struct lac_cfg *cfg = t->env->cfg;
	struct l2tp_msg m;
	int rc;

	if (t->state != LAC_TUNNEL_IDLE)
		return -EALREADY;
	t->now_ms = now_ms;
	t->last_rx_ms = now_ms;
	t->setup_deadline_ms = cfg->setup_timeout_ms
				       ? now_ms + cfg->setup_timeout_ms
				       : UINT64_MAX;
	memset(&m, 0, sizeof(m));
	m.type = L2TP_MSG_SCCRQ;
	l2tp_msg_set(&m, L2TP_AVP_PROTOCOL_VERSION);
	l2tp_msg_set(&m, L2TP_AVP_HOST_NAME);
	l2tp_msg_set(&m, L2TP_AVP_FRAMING_CAPABILITIES);
	l2tp_msg_set(&m, L2TP_AVP_ASSIGNED_TUNNEL_ID);
	l2tp_msg_set(&m, L2TP_AVP_BEARER_CAPABILITIES);
	l2tp_msg_set(&m, L2TP_AVP_FIRMWARE_REVISION);
	l2tp_msg_set(&m, L2TP_AVP_VENDOR_NAME);
	l2tp_msg_set(&m, L2TP_AVP_RECEIVE_WINDOW_SIZE);
	m.protocol_version = LAC_TUNNEL_PROTOCOL;
	m.host_name = (struct l2tp_bytes){(const uint8_t *)cfg->hostname,
					  (uint16_t)strlen(cfg->hostname)};
	m.framing_capabilities = LAC_TUNNEL_FRAMING_CAP;
	m.bearer_capabilities = LAC_TUNNEL_BEARER_CAP;
	m.assigned_tunnel_id = t->tid;
	m.firmware_revision = LAC_TUNNEL_FIRMWARE;
	m.vendor_name = (struct l2tp_bytes){(const uint8_t *)LAC_TUNNEL_VENDOR,
					    sizeof(LAC_TUNNEL_VENDOR) - 1};
	m.receive_window_size = t->tx.cfg.our_rws;
	if (cfg->secret.len) {
		/* 5.1.1: we challenge the LNS; it answers in SCCRP. */
		t->env->random(t->env->ctx, t->challenge, sizeof(t->challenge));
		l2tp_msg_set(&m, L2TP_AVP_CHALLENGE);
		m.challenge =
			(struct l2tp_bytes){t->challenge, sizeof(t->challenge)};
	}
	rc = lac_tunnel_send(t, &m, 0);
	if (rc < 0)
		return rc;
	lac_tunnel_fsm_step(t, LAC_TUNNEL_EV_OPEN);
	return 0;
}

int lac_tunnel_call(struct lac_tunnel *t, struct lac_session *s,
		    uint64_t now_ms)
{
	const struct lac_cfg *cfg = t->env->cfg;
	struct l2tp_msg m;
	char calling[32];
	int rc;

	if (t->state != LAC_TUNNEL_ESTABLISHED)
		return -ENOTCONN;
	if (s->state != LAC_SESSION_IDLE)
		return -EBUSY;
	t->now_ms = now_ms;
	unsigned n = cfg->sessions;
	unsigned slot = (unsigned)(s - t->sessions);
	unsigned gens = 65535u / n;
	s->gen++;
	s->sid = (uint16_t)(1u + slot + n * (s->gen % gens));
	s->peer_sid = 0;

	memset(&m, 0, sizeof(m));
	m.type = L2TP_MSG_ICRQ;
	l2tp_msg_set(&m, L2TP_AVP_ASSIGNED_SESSION_ID);
	l2tp_msg_set(&m, L2TP_AVP_CALL_SERIAL_NUMBER);
	l2tp_msg_set(&m, L2TP_AVP_BEARER_TYPE);
	l2tp_msg_set(&m, L2TP_AVP_CALLING_NUMBER);
	m.assigned_session_id = s->sid;
	m.call_serial_number = t->next_serial++;
	m.bearer_type = LAC_TUNNEL_BEARER_TYPE;
	int cn = snprintf(calling, sizeof(calling), "lac-%u-%u", t->tid, slot);
	m.calling_number =
		(struct l2tp_bytes){(const uint8_t *)calling, (uint16_t)cn};
	rc = lac_tunnel_send(t, &m, 0);
	if (rc < 0)
		return rc;
	lac_session_fsm_step(t, s, LAC_SESSION_EV_OPEN);
	s->deadline_ms = cfg->setup_timeout_ms ? now_ms + cfg->setup_timeout_ms
					       : UINT64_MAX;
	lac_tunnel_list_append(t, s, LAC_LIST_SETUP);
	return 0;
}

/* --- receiving --- */

static void lac_tunnel_copy_str(char *dst, size_t cap, struct l2tp_bytes b)
{
	size_t n = b.len < cap - 1 ? b.len : cap - 1;
	if (n)
		memcpy(dst, b.p, n);
	dst[n] = '\0';
}

/* SCCRP in WAIT_CTL_REPLY: check it (version, 5.1.1 authentication both
 * ways), then SCCCN (RFC 2661 6.2, 6.3). */
static void lac_tunnel_on_sccrp(struct lac_tunnel *t, const struct l2tp_msg *m)
{
	const struct lac_cfg *cfg = t->env->cfg;
	uint8_t response[L2TP_AUTH_RESPONSE_LEN];
	struct l2tp_msg r;
	uint16_t result = L2TP_STOPCCN_NOT_AUTHORIZED;
	const char *why_text = NULL;
	enum lac_why why = LAC_WHY_AUTH;

	t->peer_tid = m->assigned_tunnel_id;
	t->tx.peer_tunnel_id = m->assigned_tunnel_id;
	if (l2tp_msg_has(m, L2TP_AVP_RECEIVE_WINDOW_SIZE) &&
	    m->receive_window_size)
		t->tx.peer_rws = m->receive_window_size;
	lac_tunnel_copy_str(t->peer_hostname, sizeof(t->peer_hostname),
			    m->host_name);

	if (m->assigned_tunnel_id == 0) {
		result = L2TP_STOPCCN_GENERAL_ERROR;
		why = LAC_WHY_BAD_MESSAGE;
		why_text = "Assigned Tunnel ID 0";
	} else if (m->protocol_version != LAC_TUNNEL_PROTOCOL) {
		result = L2TP_STOPCCN_BAD_VERSION;
		why = LAC_WHY_BAD_VERSION;
		why_text = "protocol version 1.0 required";
	} else if (cfg->secret.len &&
		   (!l2tp_msg_has(m, L2TP_AVP_CHALLENGE_RESPONSE) ||
		    !l2tp_auth_verify(L2TP_MSG_SCCRP, cfg->secret.p,
				      cfg->secret.len, t->challenge,
				      sizeof(t->challenge),
				      m->challenge_response.p,
				      m->challenge_response.len))) {
		why_text = "tunnel authentication failed";
	} else if (l2tp_msg_has(m, L2TP_AVP_CHALLENGE) && !cfg->secret.len) {
		why = LAC_WHY_NO_SECRET;
		why_text = "challenge received but no tunnel secret configured";
	}
	if (why_text) {
		lac_tunnel_close(t, LAC_TUNNEL_EV_RX_SCCRP_BAD, result, 0,
				 why_text, why);
		return;
	}

	memset(&r, 0, sizeof(r));
	r.type = L2TP_MSG_SCCCN;
	if (l2tp_msg_has(m, L2TP_AVP_CHALLENGE)) {
		l2tp_auth_response(L2TP_MSG_SCCCN, cfg->secret.p,
				   cfg->secret.len, m->challenge.p,
				   m->challenge.len, response);
		l2tp_msg_set(&r, L2TP_AVP_CHALLENGE_RESPONSE);
		r.challenge_response =
			(struct l2tp_bytes){response, sizeof(response)};
	}
	lac_tunnel_fsm_step(t, LAC_TUNNEL_EV_RX_SCCRP_OK);
	int ns = lac_tunnel_send(t, &r, 0);
	if (ns < 0) {
		lac_tunnel_close(t, LAC_TUNNEL_EV_LOCAL_CLOSE,
				 L2TP_STOPCCN_GENERAL_ERROR, 0, NULL,
				 LAC_WHY_SEND_ERROR);
		return;
	}
	t->scccn_ns = (uint16_t)ns;
}

/* The LNS's StopCCN (s NULL) or CDN: result, error and message, logged at
 * warn when it refused a setup, else at info. Rate-limited: peer-triggered. */
static void lac_tunnel_log_result(const struct lac_tunnel *t,
				  const struct lac_session *s,
				  const struct l2tp_msg *m)
{
	char text[128];
	bool setup = s ? s->state != LAC_SESSION_ESTABLISHED
		       : t->state != LAC_TUNNEL_ESTABLISHED;
	enum log_level level = setup ? LOG_LEVEL_WARN : LOG_LEVEL_INFO;
	lac_tunnel_copy_str(text, sizeof(text), m->result_code.message);
	if (s)
		LOG_RL(level, "LNS cleared call",
		       "tid=%u sid=%u peer_sid=%u result=%u/%s error=%u "
		       "message=%s",
		       t->tid, s->sid, s->peer_sid, m->result_code.result,
		       l2tp_cdn_result_name(m->result_code.result),
		       m->result_code.error, LOG_Q(text));
	else
		LOG_RL(level, "LNS cleared tunnel",
		       "tid=%u peer_tid=%u result=%u/%s error=%u message=%s",
		       t->tid, t->peer_tid, m->result_code.result,
		       l2tp_stopccn_result_name(m->result_code.result),
		       m->result_code.error, LOG_Q(text));
}

static void lac_tunnel_on_stopccn(struct lac_tunnel *t,
				  const struct l2tp_msg *m)
{
	bool was_live = lac_tunnel_is_live(t);
	bool was_up = t->state == LAC_TUNNEL_ESTABLISHED;

	t->stop_received = true;
	t->stop_result = m->result_code.result;
	t->stop_error = m->result_code.error;
	if (was_live)
		lac_tunnel_log_result(t, NULL, m);
	lac_tunnel_all_sessions_down(t, LAC_WHY_TUNNEL_DOWN);
	if (lac_tunnel_fsm_step(t, LAC_TUNNEL_EV_RX_STOPCCN) < 0)
		return;
	t->hold_until_ms = t->now_ms + t->env->cfg->stop_hold_ms;
	if (was_live)
		t->env->tunnel_down(t->env->ctx, t, was_up, LAC_WHY_STOPCCN,
				    t->stop_result);
}

/* ICRP in WAIT_REPLY: ICCN at once (RFC 2661 6.11, 6.12). */
static void lac_tunnel_on_icrp(struct lac_tunnel *t, struct lac_session *s,
			       const struct l2tp_msg *m)
{
	struct l2tp_msg r;

	if (m->assigned_session_id == 0) {
		lac_tunnel_send_cdn(t, s, L2TP_CDN_GENERAL_ERROR,
				    L2TP_ERR_BAD_VALUE);
		lac_tunnel_session_end(t, s, LAC_SESSION_EV_RX_ICRP_BAD,
				       LAC_WHY_BAD_MESSAGE, 0);
		return;
	}
	s->peer_sid = m->assigned_session_id;
	t->stats.icrp_rx++;
	memset(&r, 0, sizeof(r));
	r.type = L2TP_MSG_ICCN;
	l2tp_msg_set(&r, L2TP_AVP_TX_CONNECT_SPEED);
	l2tp_msg_set(&r, L2TP_AVP_FRAMING_TYPE);
	l2tp_msg_set(&r, L2TP_AVP_RX_CONNECT_SPEED);
	r.tx_connect_speed = LAC_TUNNEL_BPS;
	r.rx_connect_speed = LAC_TUNNEL_BPS;
	r.framing_type = LAC_TUNNEL_FRAMING;
	int ns = lac_tunnel_send(t, &r, s->peer_sid);
	if (ns < 0) {
		lac_tunnel_session_end(t, s, LAC_SESSION_EV_LOCAL_CLOSE,
				       LAC_WHY_SEND_ERROR, 0);
		return;
	}
	s->iccn_ns = (uint16_t)ns;
	lac_session_fsm_step(t, s, LAC_SESSION_EV_RX_ICRP_OK);
}

/* The call a message is about: our Session ID in the header, or for a CDN
 * that does not carry it, the LNS's own ID. */
static struct lac_session *lac_tunnel_msg_session(const struct lac_tunnel *t,
						  const struct l2tp_msg *m)
{
	if (m->hdr.session_id)
		return lac_tunnel_session_find(t, m->hdr.session_id);
	if (m->type == L2TP_MSG_CDN)
		return lac_tunnel_session_by_peer(t, m->assigned_session_id);
	return NULL;
}

static void lac_tunnel_dispatch(struct lac_tunnel *t, const struct l2tp_msg *m)
{
	struct lac_session *s;

	switch (m->type) {
	case L2TP_MSG_SCCRP:
		if (t->state != LAC_TUNNEL_WAIT_CTL_REPLY)
			return lac_tunnel_fsm_error(t, m);
		return lac_tunnel_on_sccrp(t, m);
	case L2TP_MSG_STOPCCN:
		return lac_tunnel_on_stopccn(t, m);
	case L2TP_MSG_HELLO:
		t->stats.hello_rx++;
		return; /* the transport acknowledges it */
	case L2TP_MSG_SCCRQ:
	case L2TP_MSG_SCCCN:
		return lac_tunnel_fsm_error(t, m); /* an LNS sends neither */
	default:
		break;
	}
	/* Call management needs an established tunnel (7.2.1); while we
	 * close, late call messages are moot. */
	if (t->state != LAC_TUNNEL_ESTABLISHED) {
		if (lac_tunnel_is_live(t))
			lac_tunnel_fsm_error(t, m);
		return;
	}
	s = lac_tunnel_msg_session(t, m);
	switch (m->type) {
	case L2TP_MSG_ICRP:
		if (!s || s->state != LAC_SESSION_WAIT_REPLY)
			return lac_tunnel_session_error(t, s, m);
		return lac_tunnel_on_icrp(t, s, m);
	case L2TP_MSG_CDN:
		if (!s) {
			t->stats.rx_unexpected++;
			return; /* a call already over: nothing to clear */
		}
		lac_tunnel_log_result(t, s, m);
		return lac_tunnel_session_end(t, s, LAC_SESSION_EV_RX_CDN,
					      LAC_WHY_CDN,
					      m->result_code.result);
	case L2TP_MSG_SLI:
		/* 6.14: the LNS tells us the PPP ACCM; nothing to apply. */
		if (!s || s->state == LAC_SESSION_WAIT_REPLY)
			return lac_tunnel_session_error(t, s, m);
		t->stats.sli_rx++;
		return;
	default: /* ICRQ, ICCN, OCRQ, OCRP, OCCN, WEN: not for a LAC */
		return lac_tunnel_session_error(t, s, m);
	}
}

static void lac_tunnel_check_acks(struct lac_tunnel *t);

/* Transport delivers messages in sequence; decode and act on each. */
static void lac_tunnel_deliver(void *arg, const uint8_t *pkt, size_t len)
{
	struct lac_tunnel *t = arg;
	const struct lac_cfg *cfg = t->env->cfg;
	struct l2tp_msg m;
	struct l2tp_reject rej;

	/* The transport has applied this message's Nr: an LNS that clears a
	 * call right after ICCN acknowledges the ICCN in the CDN itself, and
	 * the call was up before it was cleared. */
	lac_tunnel_check_acks(t);
	if (l2tp_msg_decode(pkt, len, &cfg->secret, lac_tunnel_scratch,
			    sizeof(lac_tunnel_scratch), &m, &rej) < 0) {
		t->stats.rx_rejected++;
		LOG_RL(LOG_LEVEL_WARN, "message rejected",
		       "tid=%u reason=%s scope=%s offset=%zu", t->tid,
		       l2tp_reject_reason_name(rej.reason),
		       l2tp_reject_scope_name(rej.scope), rej.offset);
		if (rej.scope == L2TP_SCOPE_CLEAR_TUNNEL) {
			lac_tunnel_close(t, LAC_TUNNEL_EV_LOCAL_CLOSE,
					 rej.result_code, rej.error_code,
					 l2tp_reject_reason_desc(rej.reason),
					 LAC_WHY_BAD_MESSAGE);
		} else if (rej.scope == L2TP_SCOPE_CLEAR_SESSION) {
			struct lac_session *s =
				lac_tunnel_session_find(t, m.hdr.session_id);
			if (s)
				lac_tunnel_session_clear(t, s, rej.result_code,
							 rej.error_code,
							 LAC_WHY_BAD_MESSAGE);
		}
		return;
	}
	t->stats.rx_control++;
	lac_tunnel_dispatch(t, &m);
}

/* True once the LNS has acknowledged our message with Ns ns. */
static bool lac_tunnel_acked(const struct lac_tunnel *t, uint16_t ns)
{
	return l2tp_seq_lt(ns, t->tx.acked);
}

/* After the LNS's Nr moved: SCCCN, ICCNs and the closing StopCCN are done
 * once acknowledged. */
static void lac_tunnel_check_acks(struct lac_tunnel *t)
{
	const struct lac_cfg *cfg = t->env->cfg;

	if (t->state == LAC_TUNNEL_WAIT_SCCCN_ACK &&
	    lac_tunnel_acked(t, t->scccn_ns)) {
		lac_tunnel_fsm_step(t, LAC_TUNNEL_EV_SCCCN_ACKED);
		log_info("tunnel up", "tid=%u peer_tid=%u peer=%s", t->tid,
			 t->peer_tid, LOG_Q(t->peer_hostname));
		t->env->tunnel_up(t->env->ctx, t);
	}
	if (t->state == LAC_TUNNEL_ESTABLISHED) {
		struct lac_session *s = t->setup.head, *next;
		for (; s; s = next) {
			next = s->next;
			if (s->state != LAC_SESSION_WAIT_ICCN_ACK ||
			    !lac_tunnel_acked(t, s->iccn_ns))
				continue;
			lac_session_fsm_step(t, s, LAC_SESSION_EV_ICCN_ACKED);
			s->deadline_ms =
				cfg->session_hold_ms
					? t->now_ms + cfg->session_hold_ms
					: UINT64_MAX;
			lac_tunnel_list_append(t, s, LAC_LIST_UP);
			if (t->env->session_up)
				t->env->session_up(t->env->ctx, t, s);
		}
	}
	if (t->state == LAC_TUNNEL_CLOSING && t->tx.n_queued == 0) {
		t->close_acked = true;
		lac_tunnel_fsm_step(t, LAC_TUNNEL_EV_STOPCCN_ACKED);
	}
}

void lac_tunnel_rx(struct lac_tunnel *t, const struct l2tp_header *h,
		   const uint8_t *pkt, size_t len, uint64_t now_ms)
{
	struct l2tp_msg m;
	struct l2tp_reject rej;

	if (t->state == LAC_TUNNEL_IDLE || t->state == LAC_TUNNEL_DEAD)
		return;
	t->now_ms = now_ms;
	/* Framing that cannot be trusted is dropped before it is
	 * acknowledged, so the LNS retransmits it. */
	if (l2tp_msg_decode(pkt, len, &t->env->cfg->secret, lac_tunnel_scratch,
			    sizeof(lac_tunnel_scratch), &m, &rej) < 0 &&
	    rej.scope == L2TP_SCOPE_DROP) {
		t->stats.rx_rejected++;
		LOG_RL(LOG_LEVEL_WARN, "datagram dropped", "tid=%u reason=%s",
		       t->tid, l2tp_reject_reason_name(rej.reason));
		return;
	}
	t->last_rx_ms = now_ms;
	transport_recv(&t->tx, h, pkt, len, now_ms, lac_tunnel_deliver, t);
	lac_tunnel_check_acks(t);
}

/* --- closing and timers --- */

void lac_tunnel_shutdown(struct lac_tunnel *t, uint64_t now_ms)
{
	t->now_ms = now_ms;
	if (t->state == LAC_TUNNEL_ESTABLISHED)
		for (unsigned i = 0; i < t->env->cfg->sessions; i++)
			if (t->sessions[i].state != LAC_SESSION_IDLE)
				lac_tunnel_session_clear(t, &t->sessions[i],
							 L2TP_CDN_ADMIN, 0,
							 LAC_WHY_LOCAL);
	if (lac_tunnel_is_live(t))
		lac_tunnel_close(t, LAC_TUNNEL_EV_LOCAL_CLOSE,
				 L2TP_STOPCCN_CLEAR, 0, NULL, LAC_WHY_LOCAL);
}

static uint64_t lac_tunnel_hello_due(const struct lac_tunnel *t)
{
	uint32_t iv = t->env->cfg->hello_interval_ms;
	if (!iv || t->state != LAC_TUNNEL_ESTABLISHED || t->tx.n_queued)
		return UINT64_MAX;
	return t->last_rx_ms + iv;
}

int lac_tunnel_hello(struct lac_tunnel *t, uint64_t now_ms)
{
	struct l2tp_msg m;
	if (t->state != LAC_TUNNEL_ESTABLISHED)
		return -ENOTCONN;
	t->now_ms = now_ms;
	memset(&m, 0, sizeof(m));
	m.type = L2TP_MSG_HELLO;
	int ns = lac_tunnel_send(t, &m, 0);
	if (ns >= 0)
		t->stats.hello_sent++;
	return ns;
}

void lac_tunnel_tick(struct lac_tunnel *t, uint64_t now_ms)
{
	if (t->state == LAC_TUNNEL_IDLE || t->state == LAC_TUNNEL_DEAD)
		return;
	t->now_ms = now_ms;
	transport_tick(&t->tx, now_ms);
	if (t->tx.dead) {
		/* 5.8: the LNS stopped acknowledging; clear everything. */
		bool was_live = lac_tunnel_is_live(t);
		bool was_up = t->state == LAC_TUNNEL_ESTABLISHED;
		lac_tunnel_all_sessions_down(t, LAC_WHY_TUNNEL_DOWN);
		lac_tunnel_fsm_step(t, LAC_TUNNEL_EV_PEER_DEAD);
		if (was_live) {
			LOG_RL(LOG_LEVEL_WARN, "LNS stopped answering",
			       "tid=%u peer_tid=%u", t->tid, t->peer_tid);
			t->env->tunnel_down(t->env->ctx, t, was_up,
					    LAC_WHY_TIMEOUT, 0);
		}
		return;
	}
	if (t->state == LAC_TUNNEL_HOLD && now_ms >= t->hold_until_ms) {
		transport_flush_ack(&t->tx);
		lac_tunnel_fsm_step(t, LAC_TUNNEL_EV_HOLD_EXPIRED);
		return;
	}
	if (lac_tunnel_in_setup(t) && now_ms >= t->setup_deadline_ms) {
		/* E.g. the LNS acknowledged our SCCRQ but never answered it:
		 * nothing is left to retransmit, so the transport cannot
		 * notice. */
		lac_tunnel_close(t, LAC_TUNNEL_EV_LOCAL_CLOSE,
				 L2TP_STOPCCN_CLEAR, 0, "setup timed out",
				 LAC_WHY_TIMEOUT);
		return;
	}
	while (t->state == LAC_TUNNEL_ESTABLISHED && t->setup.head &&
	       t->setup.head->deadline_ms <= now_ms)
		lac_tunnel_session_clear(t, t->setup.head, L2TP_CDN_TIMEOUT, 0,
					 LAC_WHY_TIMEOUT);
	while (t->state == LAC_TUNNEL_ESTABLISHED && t->up.head &&
	       t->up.head->deadline_ms <= now_ms)
		lac_tunnel_session_clear(t, t->up.head, L2TP_CDN_ADMIN, 0,
					 LAC_WHY_LOCAL);
	if (now_ms >= lac_tunnel_hello_due(t)) {
		t->last_rx_ms = now_ms; /* next HELLO one interval later */
		lac_tunnel_hello(t, now_ms);
	}
}

uint64_t lac_tunnel_next_deadline(const struct lac_tunnel *t)
{
	if (t->state == LAC_TUNNEL_IDLE || t->state == LAC_TUNNEL_DEAD)
		return UINT64_MAX;
	uint64_t next = transport_next_deadline(&t->tx);
	uint64_t v = lac_tunnel_hello_due(t);
	if (v < next)
		next = v;
	if (t->state == LAC_TUNNEL_HOLD && t->hold_until_ms < next)
		next = t->hold_until_ms;
	if (lac_tunnel_in_setup(t) && t->setup_deadline_ms < next)
		next = t->setup_deadline_ms;
	if (t->state == LAC_TUNNEL_ESTABLISHED) {
		if (t->setup.head && t->setup.head->deadline_ms < next)
			next = t->setup.head->deadline_ms;
		if (t->up.head && t->up.head->deadline_ms < next)
			next = t->up.head->deadline_ms;
	}
	return next;
}
