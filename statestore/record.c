/* Tunnel and session checkpoint records, version 1 (layout in SCHEMA.md). */
#include "record.h"

#include <errno.h>
#include <string.h>

#include "byteio.h"

struct record_out {
	uint8_t *p;    /* buffer */
	size_t cap;    /* its size */
	size_t len;    /* written so far */
	bool overflow; /* something did not fit */
};

static uint8_t *record_need(struct record_out *o, size_t n)
{
	if (o->overflow || o->cap - o->len < n) {
		o->overflow = true;
		return NULL;
	}
	uint8_t *q = o->p + o->len;
	o->len += n;
	return q;
}

static void record_u8(struct record_out *o, uint8_t v)
{
	uint8_t *q = record_need(o, 1);
	if (q)
		*q = v;
}

static void record_u16(struct record_out *o, uint16_t v)
{
	uint8_t *q = record_need(o, 2);
	if (q)
		byteio_put_u16(q, v);
}

static void record_u32(struct record_out *o, uint32_t v)
{
	uint8_t *q = record_need(o, 4);
	if (q)
		byteio_put_u32(q, v);
}

static void record_u64(struct record_out *o, uint64_t v)
{
	uint8_t *q = record_need(o, 8);
	if (q)
		byteio_put_u64(q, v);
}

static void record_raw(struct record_out *o, const void *v, size_t n)
{
	uint8_t *q = record_need(o, n);
	if (q && n)
		memcpy(q, v, n);
}

static void record_str(struct record_out *o, const char *s)
{
	size_t n = strlen(s);
	if (n > 255)
		n = 255;
	record_u8(o, (uint8_t)n);
	record_raw(o, s, n);
}

int record_tunnel_encode(const struct tunnel *t, const struct record_peer *peer,
			 uint8_t *buf, size_t cap)
{
	struct record_out o = {.p = buf, .cap = cap};
	record_u8(&o, RECORD_VERSION);
	record_u16(&o, t->tid);
	record_u16(&o, t->peer_tid);
	record_u8(&o, peer->addr.family);
	record_raw(&o, peer->addr.addr, 16);
	record_u16(&o, peer->addr.port);
	record_u8(&o, (uint8_t)t->state);
	record_u16(&o, t->tx.ns_next);
	record_u16(&o, t->tx.nr);
	record_u16(&o, t->tx.acked);
	record_u16(&o, t->tx.peer_rws);
	record_u16(&o, t->tx.cfg.our_rws);
	record_u8(&o, (uint8_t)((t->auth_pending ? 1 : 0) |
				(t->has_tie_breaker ? 2 : 0)));
	record_u64(&o, t->tie_breaker);
	record_raw(&o, t->challenge, sizeof(t->challenge));
	record_str(&o, t->peer_hostname);
	record_str(&o, t->peer_vendor);
	record_u32(&o, t->peer_framing_caps);
	record_u32(&o, t->peer_bearer_caps);
	record_u16(&o, t->peer_firmware);
	record_u64(&o, t->hold_until_ms);
	record_u16(&o, (uint16_t)t->tx.n_queued);
	for (const struct transport_msg *m = t->tx.head; m; m = m->next) {
		record_u16(&o, (uint16_t)m->len);
		record_raw(&o, m->pkt, m->len);
	}
	return o.overflow ? -ENOSPC : (int)o.len;
}

int record_session_encode(const struct session *s, uint8_t *buf, size_t cap)
{
	struct record_out o = {.p = buf, .cap = cap};
	static const uint8_t zero[16];
	record_u8(&o, RECORD_VERSION);
	record_u16(&o, s->sid);
	record_u16(&o, s->peer_sid);
	record_u8(&o, (uint8_t)s->state);
	record_u32(&o, s->call_serial);
	record_u32(&o, s->bearer_type);
	record_u32(&o, s->framing_type);
	record_u32(&o, s->tx_connect_bps);
	record_u32(&o, s->rx_connect_bps);
	record_u8(&o, s->sequencing_required ? 1 : 0);
	record_str(&o, s->calling_number);
	record_str(&o, s->called_number);
	/* PPP addresses: zero until the backend assigned them (ppp_pppd.c);
	 * a new owner restarts pppd with the same ones. */
	record_u8(&o, s->ppp_family);
	record_raw(&o, s->ppp_family ? s->ppp_local : zero, 16);
	record_raw(&o, s->ppp_family ? s->ppp_remote : zero, 16);
	return o.overflow ? -ENOSPC : (int)o.len;
}

static int record_get_str(struct byteio_rd *r, char *dst, size_t cap)
{
	uint8_t n;
	if (byteio_get_u8(r, &n) < 0 || byteio_left(r) < n)
		return -1;
	size_t keep = n < cap - 1 ? n : cap - 1;
	memcpy(dst, r->p + r->off, keep);
	dst[keep] = '\0';
	return byteio_skip(r, n);
}

static int record_get_raw(struct byteio_rd *r, void *dst, size_t n)
{
	if (byteio_left(r) < n)
		return -1;
	memcpy(dst, r->p + r->off, n);
	return byteio_skip(r, n);
}

int record_tunnel_restore(struct tunnel *t, struct record_peer *peer,
			  const uint8_t *p, size_t len)
{
	struct byteio_rd r = {.p = p, .len = len};
	uint8_t version, state, flags;
	uint16_t tid, ns_next, nr, acked, peer_rws, our_rws, n_unacked;
	memset(peer, 0, sizeof(*peer));
	if (byteio_get_u8(&r, &version) < 0 || version != RECORD_VERSION ||
	    byteio_get_u16(&r, &tid) < 0 || tid != t->tid ||
	    byteio_get_u16(&r, &t->peer_tid) < 0 ||
	    byteio_get_u8(&r, &peer->addr.family) < 0 ||
	    record_get_raw(&r, peer->addr.addr, 16) < 0 ||
	    byteio_get_u16(&r, &peer->addr.port) < 0 ||
	    byteio_get_u8(&r, &state) < 0 || state > TUNNEL_DEAD ||
	    byteio_get_u16(&r, &ns_next) < 0 || byteio_get_u16(&r, &nr) < 0 ||
	    byteio_get_u16(&r, &acked) < 0 ||
	    byteio_get_u16(&r, &peer_rws) < 0 ||
	    byteio_get_u16(&r, &our_rws) < 0 || byteio_get_u8(&r, &flags) < 0 ||
	    byteio_get_u64(&r, &t->tie_breaker) < 0 ||
	    record_get_raw(&r, t->challenge, sizeof(t->challenge)) < 0 ||
	    record_get_str(&r, t->peer_hostname, sizeof(t->peer_hostname)) <
		    0 ||
	    record_get_str(&r, t->peer_vendor, sizeof(t->peer_vendor)) < 0 ||
	    byteio_get_u32(&r, &t->peer_framing_caps) < 0 ||
	    byteio_get_u32(&r, &t->peer_bearer_caps) < 0 ||
	    byteio_get_u16(&r, &t->peer_firmware) < 0 ||
	    byteio_get_u64(&r, &t->hold_until_ms) < 0 ||
	    byteio_get_u16(&r, &n_unacked) < 0)
		return -EBADMSG;
	(void)our_rws; /* ours comes from the current configuration */
	t->state = (enum tunnel_state)state;
	t->auth_pending = flags & 1;
	t->has_tie_breaker = flags & 2;
	t->tx.peer_tunnel_id = t->peer_tid;
	t->tx.peer_rws = peer_rws ? peer_rws : 4;
	transport_restore(&t->tx, ns_next, nr, acked);
	for (unsigned i = 0; i < n_unacked; i++) {
		uint16_t mlen;
		if (byteio_get_u16(&r, &mlen) < 0 || byteio_left(&r) < mlen ||
		    mlen < L2TP_CONTROL_HDR_LEN)
			return -EBADMSG;
		if (transport_restore_msg(&t->tx, p + r.off, mlen) < 0)
			return -ENOMEM;
		byteio_skip(&r, mlen);
	}
	return byteio_left(&r) == 0 ? 0 : -EBADMSG;
}

int record_session_restore(struct tunnel *t, const uint8_t *p, size_t len)
{
	struct byteio_rd r = {.p = p, .len = len};
	struct session tmp;
	uint8_t version, state, flags, family;
	uint8_t addrs[32];
	memset(&tmp, 0, sizeof(tmp));
	if (byteio_get_u8(&r, &version) < 0 || version != RECORD_VERSION ||
	    byteio_get_u16(&r, &tmp.sid) < 0 ||
	    byteio_get_u16(&r, &tmp.peer_sid) < 0 ||
	    byteio_get_u8(&r, &state) < 0 || state > SESSION_CLOSED ||
	    byteio_get_u32(&r, &tmp.call_serial) < 0 ||
	    byteio_get_u32(&r, &tmp.bearer_type) < 0 ||
	    byteio_get_u32(&r, &tmp.framing_type) < 0 ||
	    byteio_get_u32(&r, &tmp.tx_connect_bps) < 0 ||
	    byteio_get_u32(&r, &tmp.rx_connect_bps) < 0 ||
	    byteio_get_u8(&r, &flags) < 0 ||
	    record_get_str(&r, tmp.calling_number, sizeof(tmp.calling_number)) <
		    0 ||
	    record_get_str(&r, tmp.called_number, sizeof(tmp.called_number)) <
		    0 ||
	    byteio_get_u8(&r, &family) < 0 ||
	    record_get_raw(&r, addrs, sizeof(addrs)) < 0 ||
	    byteio_left(&r) != 0)
		return -EBADMSG;
	struct session *s = tunnel_session_add(t, tmp.sid);
	if (!s)
		return tunnel_session_find(t, tmp.sid) ? -EBADMSG : -ENOMEM;
	/* New calls get IDs above the restored ones, not the lowest free:
	 * a just-cleared call's late CDN or data must not reach a new call
	 * that took its ID right after a takeover. */
	if (tmp.sid >= t->next_sid)
		t->next_sid = (uint16_t)(tmp.sid + 1);
	struct session *keep_next = s->next;
	*s = tmp;
	s->next = keep_next;
	s->tunnel = t;
	s->state = (enum session_state)state;
	s->sequencing_required = flags & 1;
	if (family == 4 || family == 6) {
		s->ppp_family = family;
		memcpy(s->ppp_local, addrs, 16);
		memcpy(s->ppp_remote, addrs + 16, 16);
	}
	return 0;
}

int record_tunnel_decode(const uint8_t *p, size_t len,
			 struct record_tunnel_info *ti)
{
	struct byteio_rd r = {.p = p, .len = len};
	uint8_t version, flags;
	memset(ti, 0, sizeof(*ti));
	if (byteio_get_u8(&r, &version) < 0 || version != RECORD_VERSION ||
	    byteio_get_u16(&r, &ti->tid) < 0 ||
	    byteio_get_u16(&r, &ti->peer_tid) < 0 ||
	    byteio_get_u8(&r, &ti->peer.family) < 0 ||
	    record_get_raw(&r, ti->peer.addr, 16) < 0 ||
	    byteio_get_u16(&r, &ti->peer.port) < 0 ||
	    byteio_get_u8(&r, &ti->state) < 0 || ti->state > TUNNEL_DEAD ||
	    byteio_get_u16(&r, &ti->ns_next) < 0 ||
	    byteio_get_u16(&r, &ti->nr) < 0 ||
	    byteio_get_u16(&r, &ti->acked) < 0 ||
	    byteio_get_u16(&r, &ti->peer_rws) < 0 ||
	    byteio_get_u16(&r, &ti->our_rws) < 0 ||
	    byteio_get_u8(&r, &flags) < 0 ||
	    byteio_get_u64(&r, &ti->tie_breaker) < 0 ||
	    record_get_raw(&r, ti->challenge, sizeof(ti->challenge)) < 0 ||
	    record_get_str(&r, ti->peer_hostname, sizeof(ti->peer_hostname)) <
		    0 ||
	    record_get_str(&r, ti->peer_vendor, sizeof(ti->peer_vendor)) < 0 ||
	    byteio_get_u32(&r, &ti->framing_caps) < 0 ||
	    byteio_get_u32(&r, &ti->bearer_caps) < 0 ||
	    byteio_get_u16(&r, &ti->firmware) < 0 ||
	    byteio_get_u64(&r, &ti->hold_until_ms) < 0 ||
	    byteio_get_u16(&r, &ti->n_unacked) < 0)
		return -EBADMSG;
	ti->auth_pending = flags & 1;
	ti->has_tie_breaker = flags & 2;
	ti->unacked = p + r.off;
	for (unsigned i = 0; i < ti->n_unacked; i++) {
		uint16_t mlen;
		if (byteio_get_u16(&r, &mlen) < 0 ||
		    mlen < L2TP_CONTROL_HDR_LEN || byteio_skip(&r, mlen) < 0)
			return -EBADMSG;
	}
	ti->unacked_len = (size_t)(p + r.off - ti->unacked);
	return byteio_left(&r) == 0 ? 0 : -EBADMSG;
}

int record_tunnel_unacked_next(const struct record_tunnel_info *ti, size_t *off,
			       const uint8_t **msg, size_t *len)
{
	struct byteio_rd r = {
		.p = ti->unacked, .len = ti->unacked_len, .off = *off};
	uint16_t mlen;
	if (*off >= ti->unacked_len || byteio_get_u16(&r, &mlen) < 0 ||
	    byteio_left(&r) < mlen)
		return 0;
	*msg = r.p + r.off;
	*len = mlen;
	*off = r.off + mlen;
	return 1;
}

int record_session_decode(const uint8_t *p, size_t len,
			  struct record_session_info *si)
{
	struct byteio_rd r = {.p = p, .len = len};
	uint8_t version, flags;
	memset(si, 0, sizeof(*si));
	if (byteio_get_u8(&r, &version) < 0 || version != RECORD_VERSION ||
	    byteio_get_u16(&r, &si->sid) < 0 ||
	    byteio_get_u16(&r, &si->peer_sid) < 0 ||
	    byteio_get_u8(&r, &si->state) < 0 || si->state > SESSION_CLOSED ||
	    byteio_get_u32(&r, &si->call_serial) < 0 ||
	    byteio_get_u32(&r, &si->bearer_type) < 0 ||
	    byteio_get_u32(&r, &si->framing_type) < 0 ||
	    byteio_get_u32(&r, &si->tx_bps) < 0 ||
	    byteio_get_u32(&r, &si->rx_bps) < 0 ||
	    byteio_get_u8(&r, &flags) < 0 ||
	    record_get_str(&r, si->calling, sizeof(si->calling)) < 0 ||
	    record_get_str(&r, si->called, sizeof(si->called)) < 0 ||
	    byteio_get_u8(&r, &si->ppp_family) < 0 ||
	    record_get_raw(&r, si->ppp_local, sizeof(si->ppp_local)) < 0 ||
	    record_get_raw(&r, si->ppp_remote, sizeof(si->ppp_remote)) < 0 ||
	    byteio_left(&r) != 0)
		return -EBADMSG;
	si->sequencing_required = flags & 1;
	return 0;
}
