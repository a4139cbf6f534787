/* LNS handling of every control message (RFC 2661 sections 5 and 6) for one
 * tunnel and its sessions: SCCRQ/SCCRP/SCCCN with optional tunnel
 * authentication, HELLO, StopCCN both ways with the 5.7 hold, ICRQ/ICRP/ICCN,
 * CDN both ways, WEN and SLI, and data messages to the PPP endpoint. */
#include "tunnel.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "l2tp_auth.h"
#include "l2tp_avp.h"
#include "l2tp_seq.h"
#include "log.h"

#define TUNNEL_MSG_MAX	2048 /* our messages are small; StopCCN text is cut */
#define TUNNEL_FIRMWARE 0x0100
#define TUNNEL_VENDOR	"tandem"

/* Decode scratch: unhidden AVP values. The worker is one thread and every
 * decode finishes before the next begins. */
static uint8_t tunnel_scratch[L2TP_MAX_DATAGRAM];

static void tunnel_output(void *arg, const uint8_t *pkt, size_t len)
{
	struct tunnel *t = arg;
	t->env->output(t->env->ctx, t, pkt, len);
}

static void tunnel_dirty(struct tunnel *t)
{
	t->env->dirty(t->env->ctx, t);
}

int tunnel_init(struct tunnel *t, const struct lns_env *env, uint16_t tid,
		uint64_t now_ms)
{
	memset(t, 0, sizeof(*t));
	t->tid = tid;
	t->env = env;
	t->state = TUNNEL_IDLE;
	t->last_rx_ms = now_ms;
	t->next_sid = 1;
	return transport_init(&t->tx, &env->cfg->tx, 0, 0, tunnel_output, t);
}

static unsigned tunnel_bucket(const struct tunnel *t, uint16_t sid)
{
	return sid & (t->n_buckets - 1);
}

struct session *tunnel_session_find(const struct tunnel *t, uint16_t sid)
{
	if (!t->n_buckets)
		return NULL;
	for (struct session *s = t->buckets[tunnel_bucket(t, sid)]; s;
	     s = s->next)
		if (s->sid == sid)
			return s;
	return NULL;
}

/* Rare (a CDN from a LAC that never learnt our Session ID): a walk. */
static struct session *tunnel_session_by_peer(const struct tunnel *t,
					      uint16_t peer_sid)
{
	for (unsigned b = 0; b < t->n_buckets; b++)
		for (struct session *s = t->buckets[b]; s; s = s->next)
			if (s->peer_sid == peer_sid)
				return s;
	return NULL;
}

/* Double the table (or make the first one) when the chains would average
 * more than 2. Session IDs are given out in sequence, so the low bits
 * spread them evenly. -ENOMEM leaves the old table, still correct. */
static int tunnel_buckets_grow(struct tunnel *t)
{
	if (t->n_buckets && (t->n_sessions < 2 * t->n_buckets ||
			     t->n_buckets >= TUNNEL_SESSION_BUCKETS_MAX))
		return 0;
	unsigned n =
		t->n_buckets ? 2 * t->n_buckets : TUNNEL_SESSION_BUCKETS_MIN;
	struct session **nb = calloc(n, sizeof(*nb));
	if (!nb)
		return t->n_buckets ? 0 : -ENOMEM;
	for (unsigned b = 0; b < t->n_buckets; b++)
		while (t->buckets[b]) {
			struct session *s = t->buckets[b];
			t->buckets[b] = s->next;
			s->next = nb[s->sid & (n - 1)];
			nb[s->sid & (n - 1)] = s;
		}
	free(t->buckets);
	t->buckets = nb;
	t->n_buckets = n;
	return 0;
}

struct session *tunnel_session_add(struct tunnel *t, uint16_t sid)
{
	if (sid == 0 || tunnel_session_find(t, sid) ||
	    tunnel_buckets_grow(t) < 0)
		return NULL;
	struct session *s = calloc(1, sizeof(*s));
	if (!s)
		return NULL;
	s->sid = sid;
	s->tunnel = t;
	unsigned b = tunnel_bucket(t, sid);
	s->next = t->buckets[b];
	t->buckets[b] = s;
	t->n_sessions++;
	return s;
}

/* Session IDs: the next free non-zero value after the last one given. */
static struct session *tunnel_session_new(struct tunnel *t)
{
	if (t->n_sessions >= 65535)
		return NULL;
	while (t->next_sid == 0 || tunnel_session_find(t, t->next_sid))
		t->next_sid++;
	return tunnel_session_add(t, t->next_sid++);
}

/* A session changed: checkpoint it with the tunnel. The checkpoint writes
 * only the sessions on the dirty list, so its cost is the calls that
 * changed, not the calls on the tunnel. */
static void tunnel_session_touch(struct tunnel *t, struct session *s)
{
	if (!s->dirty) {
		s->dirty = true;
		s->dirty_next = t->dirty_sessions;
		if (s->dirty_next)
			s->dirty_next->dirty_pprev = &s->dirty_next;
		s->dirty_pprev = &t->dirty_sessions;
		t->dirty_sessions = s;
		t->n_dirty++;
	}
	tunnel_dirty(t);
}

void tunnel_session_clean(struct tunnel *t, struct session *s)
{
	if (!s->dirty)
		return;
	*s->dirty_pprev = s->dirty_next;
	if (s->dirty_next)
		s->dirty_next->dirty_pprev = s->dirty_pprev;
	s->dirty = false;
	s->dirty_next = NULL;
	s->dirty_pprev = NULL;
	t->n_dirty--;
}

static void tunnel_session_free(struct tunnel *t, struct session *s)
{
	/* Remember the ID so the next checkpoint deletes its record; if the
	 * list cannot grow, the record lingers until the tunnel's is deleted. */
	if (t->n_ended == t->cap_ended) {
		unsigned cap = t->cap_ended ? 2 * t->cap_ended : 8;
		uint16_t *n = realloc(t->ended, cap * sizeof(*n));
		if (n) {
			t->ended = n;
			t->cap_ended = cap;
		}
	}
	if (t->n_ended < t->cap_ended)
		t->ended[t->n_ended++] = s->sid;
	tunnel_session_clean(t, s);
	struct session **pp = &t->buckets[tunnel_bucket(t, s->sid)];
	while (*pp && *pp != s)
		pp = &(*pp)->next;
	if (*pp)
		*pp = s->next;
	t->n_sessions--;
	free(s);
}

/* The session leaves ESTABLISHED or WAIT_CONNECT: for good, or (detach)
 * only this process's memory while its record lives on for a new owner. */
static void tunnel_session_end_how(struct tunnel *t, struct session *s,
				   enum session_event ev, bool detach)
{
	const struct ppp_backend *ppp = &t->env->ppp;
	bool had_ppp = s->state == SESSION_ESTABLISHED;
	session_fsm_step(s, ev);
	if (had_ppp && detach && ppp->detach)
		ppp->detach(ppp->ctx, s);
	else if (had_ppp && ppp->close)
		ppp->close(ppp->ctx, s);
	tunnel_session_free(t, s);
	tunnel_dirty(t);
}

static void tunnel_session_end(struct tunnel *t, struct session *s,
			       enum session_event ev)
{
	tunnel_session_end_how(t, s, ev, false);
}

void tunnel_free(struct tunnel *t)
{
	/* Sessions that really ended were removed when they did; those left
	 * go with the memory only (their records stay for a new owner). */
	for (unsigned b = 0; b < t->n_buckets; b++)
		while (t->buckets[b])
			tunnel_session_end_how(t, t->buckets[b],
					       SESSION_EV_TUNNEL_DOWN, true);
	free(t->buckets);
	t->buckets = NULL;
	t->n_buckets = 0;
	transport_free(&t->tx);
	free(t->ended);
	t->ended = NULL;
}

static void tunnel_copy_str(char *dst, size_t cap, struct l2tp_bytes b)
{
	size_t n = b.len < cap - 1 ? b.len : cap - 1;
	if (n)
		memcpy(dst, b.p, n);
	dst[n] = '\0';
}

/* Encode m (header IDs filled here) and hand it to reliable delivery. */
static int tunnel_send(struct tunnel *t, struct l2tp_msg *m, uint16_t peer_sid,
		       uint64_t now_ms)
{
	const struct lns_cfg *cfg = t->env->cfg;
	uint8_t buf[TUNNEL_MSG_MAX];
	uint8_t rv[16];
	struct l2tp_encode_opts opts = {.secret = cfg->secret};

	m->hdr.tunnel_id = t->peer_tid;
	m->hdr.session_id = peer_sid;
	m->hidden = 0;
	if (cfg->hide_avps && cfg->secret.len) {
		for (unsigned a = 1; a <= L2TP_AVP_TYPE_MAX; a++) {
			const struct l2tp_avp_info *ai = l2tp_avp_info_get(a);
			if (ai && ai->hideable && l2tp_msg_has(m, a))
				m->hidden |= l2tp_avp_bit(a);
		}
		t->env->random(t->env->ctx, rv, sizeof(rv));
		opts.random_vector = (struct l2tp_bytes){rv, sizeof(rv)};
	}
	int n = l2tp_msg_encode(m, m->hidden ? &opts : NULL, buf, sizeof(buf));
	if (n < 0)
		return n;
	tunnel_dirty(t);
	return transport_send(&t->tx, buf, (size_t)n, now_ms);
}

static void tunnel_send_stopccn(struct tunnel *t, uint16_t result,
				uint16_t error, const char *message,
				uint64_t now_ms)
{
	struct l2tp_msg m;
	memset(&m, 0, sizeof(m));
	m.type = L2TP_MSG_STOPCCN;
	l2tp_msg_set(&m, L2TP_AVP_ASSIGNED_TUNNEL_ID);
	l2tp_msg_set(&m, L2TP_AVP_RESULT_CODE);
	m.assigned_tunnel_id = t->tid;
	m.result_code.result = result;
	if (error || message) {
		m.result_code.has_error = true;
		m.result_code.error = error;
	}
	if (message) {
		size_t len = strlen(message);
		m.result_code.message =
			(struct l2tp_bytes){(const uint8_t *)message,
					    (uint16_t)(len > 200 ? 200 : len)};
	}
	t->close_result = result;
	t->close_error = error;
	tunnel_send(t, &m, 0, now_ms);
}

static void tunnel_all_sessions_down(struct tunnel *t)
{
	for (unsigned b = 0; b < t->n_buckets; b++)
		while (t->buckets[b])
			tunnel_session_end(t, t->buckets[b],
					   SESSION_EV_TUNNEL_DOWN);
}

void tunnel_close(struct tunnel *t, uint16_t result, uint16_t error,
		  const char *message, uint64_t now_ms)
{
	if (tunnel_fsm_step(t, TUNNEL_EV_LOCAL_CLOSE) < 0)
		return; /* already closing, holding or dead */
	/* RFC 2661 5.7: StopCCN clears every session; no CDNs needed. */
	tunnel_all_sessions_down(t);
	tunnel_send_stopccn(t, result, error, message, now_ms);
}

static void tunnel_send_cdn(struct tunnel *t, struct session *s,
			    uint16_t result, uint16_t error, uint64_t now_ms)
{
	struct l2tp_msg m;
	memset(&m, 0, sizeof(m));
	m.type = L2TP_MSG_CDN;
	l2tp_msg_set(&m, L2TP_AVP_RESULT_CODE);
	l2tp_msg_set(&m, L2TP_AVP_ASSIGNED_SESSION_ID);
	m.result_code.result = result;
	m.result_code.has_error = error != 0;
	m.result_code.error = error;
	m.assigned_session_id = s->sid;
	tunnel_send(t, &m, s->peer_sid, now_ms);
}

void tunnel_session_close(struct tunnel *t, struct session *s, uint16_t result,
			  uint16_t error, uint64_t now_ms)
{
	tunnel_send_cdn(t, s, result, error, now_ms);
	tunnel_session_end(t, s, SESSION_EV_LOCAL_CLOSE);
}

/* RFC 2661 4.4.2: a cause that will pass (no memory, descriptors, pool
 * addresses now) is result 4, anything else result 5. */
static uint16_t tunnel_open_refusal(int rc)
{
	switch (rc) {
	case -EAGAIN:
	case -ENOMEM:
	case -EMFILE:
	case -ENFILE:
	case -ENOSPC:
	case -EBUSY:
		return L2TP_CDN_NO_FACILITIES_TEMP;
	default:
		return L2TP_CDN_NO_FACILITIES_PERM;
	}
}

void tunnel_session_changed(struct tunnel *t, struct session *s)
{
	tunnel_session_touch(t, s);
}

int tunnel_send_data(struct tunnel *t, struct session *s, const uint8_t *frame,
		     size_t len)
{
	static uint8_t buf[L2TP_MAX_DATAGRAM];
	struct l2tp_data_opts o = {.with_length = true};
	if (t->state != TUNNEL_ESTABLISHED || s->state != SESSION_ESTABLISHED)
		return -ENOTCONN;
	if (s->sequencing_required) {
		/* 5.8: data Ns counts per session; Nr is reserved (0). */
		o.with_seq = true;
		o.ns = s->data_ns++;
	}
	int n = l2tp_header_encode_data(buf, sizeof(buf), t->peer_tid,
					s->peer_sid, &o, len);
	if (n < 0)
		return n;
	if ((size_t)n + len > sizeof(buf))
		return -EMSGSIZE;
	memcpy(buf + n, frame, len);
	if (!t->env->output_data)
		return -ENOTSUP;
	s->tx_frames++;
	t->env->output_data(t->env->ctx, t, buf, (size_t)n + len);
	return 0;
}

void tunnel_reattach(struct tunnel *t, uint64_t now_ms)
{
	for (unsigned b = 0; b < t->n_buckets; b++) {
		struct session *s = t->buckets[b];
		while (s) {
			struct session *next = s->next;
			int rc = 0;
			if (s->state == SESSION_ESTABLISHED && t->env->ppp.open)
				rc = t->env->ppp.open(t->env->ppp.ctx, s);
			if (rc < 0) {
				t->stats.sessions_refused++;
				tunnel_send_cdn(t, s, tunnel_open_refusal(rc),
						0, now_ms);
				/* never attached here: nothing to close */
				session_fsm_step(s, SESSION_EV_LOCAL_CLOSE);
				tunnel_session_free(t, s);
				tunnel_dirty(t);
			}
			s = next;
		}
	}
}

/* SCCRQ in IDLE: accept (SCCRP) or refuse (StopCCN), RFC 2661 6.1, 5.1.1. */
static void tunnel_on_sccrq(struct tunnel *t, const struct l2tp_msg *m,
			    uint64_t now_ms)
{
	const struct lns_cfg *cfg = t->env->cfg;
	t->peer_tid = m->assigned_tunnel_id;
	t->tx.peer_tunnel_id = m->assigned_tunnel_id;
	if (l2tp_msg_has(m, L2TP_AVP_RECEIVE_WINDOW_SIZE) &&
	    m->receive_window_size)
		t->tx.peer_rws = t->tx.ssthresh = m->receive_window_size;
	tunnel_copy_str(t->peer_hostname, sizeof(t->peer_hostname),
			m->host_name);
	tunnel_copy_str(t->peer_vendor, sizeof(t->peer_vendor), m->vendor_name);
	t->peer_framing_caps = m->framing_capabilities;
	t->peer_bearer_caps = m->bearer_capabilities;
	t->peer_firmware = m->firmware_revision;
	/* Tie Breaker (5.1): an LNS never sends SCCRQ, so there is never a
	 * collision to break; the value is kept for the records. */
	t->has_tie_breaker = l2tp_msg_has(m, L2TP_AVP_TIE_BREAKER);
	t->tie_breaker = m->tie_breaker;

	uint16_t result = 0, error = 0;
	const char *why = NULL;
	if (m->protocol_version != 0x0100) {
		result = L2TP_STOPCCN_BAD_VERSION;
		why = "protocol version 1.0 required";
	} else if (l2tp_msg_has(m, L2TP_AVP_CHALLENGE) && !cfg->secret.len) {
		result = L2TP_STOPCCN_NOT_AUTHORIZED;
		why = "challenge received but no tunnel secret configured";
	}
	if (result) {
		t->stats.auth_failures += result == L2TP_STOPCCN_NOT_AUTHORIZED;
		tunnel_fsm_step(t, TUNNEL_EV_RX_SCCRQ_BAD);
		tunnel_send_stopccn(t, result, error, why, now_ms);
		return;
	}

	struct l2tp_msg r;
	uint8_t response[L2TP_AUTH_RESPONSE_LEN];
	memset(&r, 0, sizeof(r));
	r.type = L2TP_MSG_SCCRP;
	l2tp_msg_set(&r, L2TP_AVP_PROTOCOL_VERSION);
	l2tp_msg_set(&r, L2TP_AVP_FRAMING_CAPABILITIES);
	l2tp_msg_set(&r, L2TP_AVP_BEARER_CAPABILITIES);
	l2tp_msg_set(&r, L2TP_AVP_FIRMWARE_REVISION);
	l2tp_msg_set(&r, L2TP_AVP_HOST_NAME);
	l2tp_msg_set(&r, L2TP_AVP_VENDOR_NAME);
	l2tp_msg_set(&r, L2TP_AVP_ASSIGNED_TUNNEL_ID);
	l2tp_msg_set(&r, L2TP_AVP_RECEIVE_WINDOW_SIZE);
	r.protocol_version = 0x0100;
	r.framing_capabilities = 3; /* sync and async */
	r.bearer_capabilities = 0;  /* an LNS places no calls */
	r.firmware_revision = TUNNEL_FIRMWARE;
	r.host_name = (struct l2tp_bytes){(const uint8_t *)cfg->hostname,
					  (uint16_t)strlen(cfg->hostname)};
	r.vendor_name = (struct l2tp_bytes){(const uint8_t *)TUNNEL_VENDOR,
					    sizeof(TUNNEL_VENDOR) - 1};
	r.assigned_tunnel_id = t->tid;
	r.receive_window_size = t->tx.cfg.our_rws;
	if (cfg->secret.len) {
		/* 5.1.1: we challenge the LAC; it answers in SCCCN. */
		t->env->random(t->env->ctx, t->challenge, sizeof(t->challenge));
		t->auth_pending = true;
		l2tp_msg_set(&r, L2TP_AVP_CHALLENGE);
		r.challenge =
			(struct l2tp_bytes){t->challenge, sizeof(t->challenge)};
		if (l2tp_msg_has(m, L2TP_AVP_CHALLENGE)) {
			l2tp_auth_response(L2TP_MSG_SCCRP, cfg->secret.p,
					   cfg->secret.len, m->challenge.p,
					   m->challenge.len, response);
			l2tp_msg_set(&r, L2TP_AVP_CHALLENGE_RESPONSE);
			r.challenge_response =
				(struct l2tp_bytes){response, sizeof(response)};
		}
	}
	tunnel_fsm_step(t, TUNNEL_EV_RX_SCCRQ_OK);
	tunnel_send(t, &r, 0, now_ms);
}

static void tunnel_on_scccn(struct tunnel *t, const struct l2tp_msg *m,
			    uint64_t now_ms)
{
	const struct lns_cfg *cfg = t->env->cfg;
	if (t->auth_pending &&
	    (!l2tp_msg_has(m, L2TP_AVP_CHALLENGE_RESPONSE) ||
	     !l2tp_auth_verify(L2TP_MSG_SCCCN, cfg->secret.p, cfg->secret.len,
			       t->challenge, sizeof(t->challenge),
			       m->challenge_response.p,
			       m->challenge_response.len))) {
		t->stats.auth_failures++;
		tunnel_fsm_step(t, TUNNEL_EV_RX_SCCCN_BAD);
		tunnel_send_stopccn(t, L2TP_STOPCCN_NOT_AUTHORIZED, 0,
				    "tunnel authentication failed", now_ms);
		return;
	}
	t->auth_pending = false;
	tunnel_fsm_step(t, TUNNEL_EV_RX_SCCCN_OK);
	tunnel_dirty(t);
}

static void tunnel_on_stopccn(struct tunnel *t, const struct l2tp_msg *m,
			      uint64_t now_ms)
{
	t->close_result = m->result_code.result;
	t->close_error = m->result_code.error;
	tunnel_all_sessions_down(t);
	if (tunnel_fsm_step(t, TUNNEL_EV_RX_STOPCCN) == 0) {
		t->hold_until_ms = now_ms + t->env->cfg->hold_ms;
		tunnel_dirty(t);
	}
}

static void tunnel_copy_number(char *dst, size_t cap, struct l2tp_bytes b)
{
	tunnel_copy_str(dst, cap, b);
}

/* ICRQ: a new incoming call, RFC 2661 6.10 / 7.4.2. */
static void tunnel_on_icrq(struct tunnel *t, const struct l2tp_msg *m,
			   uint64_t now_ms)
{
	struct session *s = NULL;
	if (t->n_sessions < t->env->cfg->max_sessions)
		s = tunnel_session_new(t);
	if (!s) {
		/* No session to keep: answer CDN to the LAC's session ID. */
		struct l2tp_msg c;
		memset(&c, 0, sizeof(c));
		c.type = L2TP_MSG_CDN;
		l2tp_msg_set(&c, L2TP_AVP_RESULT_CODE);
		l2tp_msg_set(&c, L2TP_AVP_ASSIGNED_SESSION_ID);
		c.result_code.result = L2TP_CDN_NO_FACILITIES_TEMP;
		c.result_code.has_error = true;
		c.result_code.error = L2TP_ERR_NO_RESOURCES;
		c.assigned_session_id = 0;
		t->stats.sessions_refused++;
		tunnel_send(t, &c, m->assigned_session_id, now_ms);
		return;
	}
	s->peer_sid = m->assigned_session_id;
	s->call_serial = m->call_serial_number;
	s->bearer_type = m->bearer_type;
	tunnel_copy_number(s->calling_number, sizeof(s->calling_number),
			   m->calling_number);
	tunnel_copy_number(s->called_number, sizeof(s->called_number),
			   m->called_number);
	session_fsm_step(s, SESSION_EV_RX_ICRQ_OK);
	tunnel_session_touch(t, s);
	struct l2tp_msg r;
	memset(&r, 0, sizeof(r));
	r.type = L2TP_MSG_ICRP;
	l2tp_msg_set(&r, L2TP_AVP_ASSIGNED_SESSION_ID);
	r.assigned_session_id = s->sid;
	tunnel_send(t, &r, s->peer_sid, now_ms);
}

static void tunnel_on_iccn(struct tunnel *t, struct session *s,
			   const struct l2tp_msg *m, uint64_t now_ms)
{
	s->framing_type = m->framing_type;
	s->tx_connect_bps = m->tx_connect_speed;
	s->rx_connect_bps = l2tp_msg_has(m, L2TP_AVP_RX_CONNECT_SPEED)
				    ? m->rx_connect_speed
				    : m->tx_connect_speed;
	s->sequencing_required = l2tp_msg_has(m, L2TP_AVP_SEQUENCING_REQUIRED);
	int rc = t->env->ppp.open ? t->env->ppp.open(t->env->ppp.ctx, s) : 0;
	if (rc < 0) {
		t->stats.sessions_refused++;
		tunnel_send_cdn(t, s, tunnel_open_refusal(rc), 0, now_ms);
		tunnel_session_end(t, s, SESSION_EV_RX_ICCN_BAD);
		return;
	}
	session_fsm_step(s, SESSION_EV_RX_ICCN_OK);
	tunnel_session_touch(t, s);
}

/* Find the session a call-management message is about: our Session ID in
 * the header, or for a CDN sent before the LAC learnt it, its own ID. */
static struct session *tunnel_msg_session(const struct tunnel *t,
					  const struct l2tp_msg *m)
{
	if (m->hdr.session_id)
		return tunnel_session_find(t, m->hdr.session_id);
	if (m->type == L2TP_MSG_CDN)
		return tunnel_session_by_peer(t, m->assigned_session_id);
	return NULL;
}

static void tunnel_fsm_error(struct tunnel *t, uint64_t now_ms)
{
	t->stats.fsm_errors++;
	tunnel_close(t, L2TP_STOPCCN_FSM_ERROR, 0, "unexpected message",
		     now_ms);
}

/* A session message that does not fit its session's state, or names no
 * session of ours: counted; a known session is cleared (RFC 2661 7.4). */
static void tunnel_session_error(struct tunnel *t, struct session *s,
				 const struct l2tp_msg *m, uint64_t now_ms)
{
	t->stats.fsm_errors++;
	LOG_RL(LOG_LEVEL_WARN, "call message out of place",
	       "tid=%u peer_tid=%u sid=%u msg=%s state=%s ns=%u action=%s",
	       t->tid, t->peer_tid, m->hdr.session_id,
	       l2tp_msg_type_name(m->type),
	       s ? session_state_name(s->state) : "unknown", m->hdr.ns,
	       s ? "cleared" : "ignored");
	if (s)
		tunnel_session_close(t, s, L2TP_CDN_GENERAL_ERROR,
				     L2TP_ERR_BAD_SESSION_ID, now_ms);
}

static void tunnel_dispatch(struct tunnel *t, const struct l2tp_msg *m,
			    uint64_t now_ms)
{
	struct session *s;
	switch (m->type) {
	case L2TP_MSG_SCCRQ:
		if (t->state != TUNNEL_IDLE)
			return tunnel_fsm_error(t, now_ms);
		return tunnel_on_sccrq(t, m, now_ms);
	case L2TP_MSG_SCCCN:
		if (t->state != TUNNEL_WAIT_CTL_CONN)
			return tunnel_fsm_error(t, now_ms);
		return tunnel_on_scccn(t, m, now_ms);
	case L2TP_MSG_STOPCCN:
		return tunnel_on_stopccn(t, m, now_ms);
	case L2TP_MSG_HELLO:
		return; /* the transport acknowledges it */
	case L2TP_MSG_SCCRP:
		return tunnel_fsm_error(t, now_ms); /* we never send SCCRQ */
	default:
		break;
	}
	/* Call management needs an established tunnel (7.2.1). */
	if (t->state != TUNNEL_ESTABLISHED) {
		if (t->state == TUNNEL_WAIT_CTL_CONN || t->state == TUNNEL_IDLE)
			tunnel_fsm_error(t, now_ms);
		return;
	}
	s = tunnel_msg_session(t, m);
	switch (m->type) {
	case L2TP_MSG_ICRQ:
		return tunnel_on_icrq(t, m, now_ms);
	case L2TP_MSG_ICCN:
		if (!s || s->state != SESSION_WAIT_CONNECT)
			return tunnel_session_error(t, s, m, now_ms);
		return tunnel_on_iccn(t, s, m, now_ms);
	case L2TP_MSG_CDN:
		if (!s)
			return tunnel_session_error(t, NULL, m, now_ms);
		return tunnel_session_end(t, s, SESSION_EV_RX_CDN);
	case L2TP_MSG_WEN:
		if (!s || s->state != SESSION_ESTABLISHED)
			return tunnel_session_error(t, s, m, now_ms);
		s->call_errors = m->call_errors;
		return tunnel_session_touch(t, s);
	case L2TP_MSG_SLI:
		if (!s || s->state != SESSION_ESTABLISHED)
			return tunnel_session_error(t, s, m, now_ms);
		s->accm = m->accm;
		return tunnel_session_touch(t, s);
	case L2TP_MSG_OCRQ: {
		/* Outgoing calls are placed by an LNS, not requested of it:
		 * refuse with "no facilities (permanent)" to the LAC's ID. */
		struct l2tp_msg c;
		memset(&c, 0, sizeof(c));
		c.type = L2TP_MSG_CDN;
		l2tp_msg_set(&c, L2TP_AVP_RESULT_CODE);
		l2tp_msg_set(&c, L2TP_AVP_ASSIGNED_SESSION_ID);
		c.result_code.result = L2TP_CDN_NO_FACILITIES_PERM;
		t->stats.sessions_refused++;
		tunnel_send(t, &c, m->assigned_session_id, now_ms);
		return;
	}
	default: /* OCRP, OCCN: we never sent an OCRQ */
		return tunnel_session_error(t, s, m, now_ms);
	}
}

/* Transport delivers messages in sequence; decode and act on each. */
static void tunnel_deliver(void *arg, const uint8_t *pkt, size_t len)
{
	struct tunnel *t = arg;
	const struct lns_cfg *cfg = t->env->cfg;
	struct l2tp_msg m;
	struct l2tp_reject rej;
	uint64_t now_ms = t->last_rx_ms; /* set by tunnel_rx_control */

	if (l2tp_msg_decode(pkt, len, &cfg->secret, tunnel_scratch,
			    sizeof(tunnel_scratch), &m, &rej) < 0) {
		t->stats.rejected[rej.reason]++;
		if (rej.scope == L2TP_SCOPE_CLEAR_TUNNEL) {
			tunnel_close(t, rej.result_code, rej.error_code,
				     l2tp_reject_reason_desc(rej.reason),
				     now_ms);
		} else if (rej.scope == L2TP_SCOPE_CLEAR_SESSION) {
			struct session *s =
				tunnel_session_find(t, m.hdr.session_id);
			LOG_RL(LOG_LEVEL_WARN, "call message rejected",
			       "tid=%u sid=%u why=%s action=%s", t->tid,
			       m.hdr.session_id,
			       LOG_Q(l2tp_reject_reason_desc(rej.reason)),
			       s ? "cleared" : "ignored");
			if (s)
				tunnel_session_close(t, s, rej.result_code,
						     rej.error_code, now_ms);
		}
		return;
	}
	t->stats.rx_control++;
	struct session *s = m.hdr.session_id
				    ? tunnel_session_find(t, m.hdr.session_id)
				    : NULL;
	t->tx.zlb_sid = s ? s->peer_sid : 0;
	tunnel_dispatch(t, &m, now_ms);
}

void tunnel_rx_control(struct tunnel *t, const struct l2tp_header *h,
		       const uint8_t *pkt, size_t len, uint64_t now_ms)
{
	struct l2tp_msg m;
	struct l2tp_reject rej;
	if (t->state == TUNNEL_DEAD)
		return;
	/* Framing that cannot be trusted is dropped before it is
	 * acknowledged, so the peer retransmits it. */
	if (l2tp_msg_decode(pkt, len, &t->env->cfg->secret, tunnel_scratch,
			    sizeof(tunnel_scratch), &m, &rej) < 0 &&
	    rej.scope == L2TP_SCOPE_DROP) {
		t->stats.rejected[rej.reason]++;
		return;
	}
	t->last_rx_ms = now_ms;
	transport_recv(&t->tx, h, pkt, len, now_ms, tunnel_deliver, t);
	if (t->state == TUNNEL_CLOSING && t->tx.n_queued == 0)
		tunnel_fsm_step(t, TUNNEL_EV_STOPCCN_ACKED);
	tunnel_dirty(t);
}

void tunnel_rx_data(struct tunnel *t, const struct l2tp_header *h,
		    const uint8_t *pkt, size_t len)
{
	(void)len;
	struct session *s = tunnel_session_find(t, h->session_id);
	if (!s || s->state != SESSION_ESTABLISHED ||
	    t->state != TUNNEL_ESTABLISHED) {
		t->stats.rx_data_drop++;
		return;
	}
	if (h->has_seq) {
		/* 5.8: data Ns only orders; late or repeated frames go. */
		if (l2tp_seq_lt(h->ns, s->data_nr)) {
			s->rx_frames_dropped++;
			return;
		}
		s->data_nr = l2tp_seq_next(h->ns);
	} else if (s->sequencing_required) {
		s->rx_frames_dropped++;
		return;
	}
	t->stats.rx_data++;
	s->rx_frames++;
	if (t->env->ppp.frame)
		t->env->ppp.frame(t->env->ppp.ctx, s, pkt + h->payload_off,
				  h->payload_len);
}

static void tunnel_send_hello(struct tunnel *t, uint64_t now_ms)
{
	struct l2tp_msg m;
	memset(&m, 0, sizeof(m));
	m.type = L2TP_MSG_HELLO;
	tunnel_send(t, &m, 0, now_ms);
}

static uint64_t tunnel_hello_due(const struct tunnel *t)
{
	uint32_t iv = t->env->cfg->hello_interval_ms;
	if (!iv || t->state != TUNNEL_ESTABLISHED || t->tx.n_queued)
		return UINT64_MAX;
	return t->last_rx_ms + iv;
}

void tunnel_tick(struct tunnel *t, uint64_t now_ms)
{
	if (t->state == TUNNEL_DEAD)
		return;
	transport_tick(&t->tx, now_ms);
	if (t->tx.dead) {
		/* 5.8: the peer stopped acknowledging; clear everything. */
		tunnel_all_sessions_down(t);
		tunnel_fsm_step(t, TUNNEL_EV_PEER_DEAD);
		tunnel_dirty(t);
		return;
	}
	if (t->state == TUNNEL_HOLD && now_ms >= t->hold_until_ms) {
		transport_flush_ack(&t->tx);
		tunnel_fsm_step(t, TUNNEL_EV_HOLD_EXPIRED);
		tunnel_dirty(t);
		return;
	}
	if (now_ms >= tunnel_hello_due(t)) {
		t->last_rx_ms = now_ms; /* next HELLO one interval later */
		tunnel_send_hello(t, now_ms);
	}
}

uint64_t tunnel_next_deadline(const struct tunnel *t)
{
	if (t->state == TUNNEL_DEAD)
		return UINT64_MAX;
	uint64_t next = transport_next_deadline(&t->tx);
	uint64_t hello = tunnel_hello_due(t);
	if (hello < next)
		next = hello;
	if (t->state == TUNNEL_HOLD && t->hold_until_ms < next)
		next = t->hold_until_ms;
	return next;
}
