/* Reliable delivery of control messages, RFC 2661 section 5.8 and appendix A:
 * the peer's Receive Window Size (4 when it sends none) bounds what is in
 * flight, and slow start / congestion avoidance bound it further. */
#include "transport.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "byteio.h"
#include "l2tp_msg.h"
#include "l2tp_seq.h"

#define TRANSPORT_DEFAULT_RWS 4 /* RFC 2661 4.4.3: absent RWS means 4 */

int transport_init(struct transport *t, const struct transport_cfg *cfg,
		   uint16_t peer_tunnel_id, uint16_t peer_rws,
		   transport_output_fn output, void *arg)
{
	memset(t, 0, sizeof(*t));
	t->cfg = *cfg;
	if (t->cfg.our_rws == 0)
		t->cfg.our_rws = TRANSPORT_DEFAULT_RWS;
	t->peer_tunnel_id = peer_tunnel_id;
	t->peer_rws = peer_rws ? peer_rws : TRANSPORT_DEFAULT_RWS;
	t->cwnd = 1;
	t->ssthresh = t->peer_rws;
	t->output = output;
	t->arg = arg;
	t->held = calloc(t->cfg.our_rws, sizeof(*t->held));
	return t->held ? 0 : -ENOMEM;
}

void transport_free(struct transport *t)
{
	struct transport_msg *m = t->head;
	while (m) {
		struct transport_msg *next = m->next;
		free(m);
		m = next;
	}
	if (t->held)
		for (unsigned i = 0; i < t->cfg.our_rws; i++)
			free(t->held[i].pkt);
	free(t->held);
	memset(t, 0, sizeof(*t));
}

/* Put one queued message on the wire with the current Nr (section 5.8: a
 * retransmission carries the latest Nr). Any owed ZLB is now piggybacked. */
static void transport_put(struct transport *t, struct transport_msg *m,
			  uint64_t now_ms)
{
	byteio_put_u16(m->pkt + 10, t->nr);
	if (!m->sent) {
		m->sent = true;
		m->retries = 0;
		m->timeout_ms = t->cfg.retransmit_initial_ms;
		t->stats.sent++;
	}
	m->deadline_ms = now_ms + m->timeout_ms;
	t->ack_pending = false;
	t->nr_sent = t->nr;
	t->output(t->arg, m->pkt, m->len);
}

/* What may be in flight now: the peer's window, or less while the
 * congestion window is smaller. */
static unsigned transport_window(const struct transport *t)
{
	return t->cwnd < t->peer_rws ? t->cwnd : t->peer_rws;
}

/* Appendix A: one more message acknowledged. */
static void transport_cwnd_acked(struct transport *t)
{
	if (t->cwnd >= t->peer_rws)
		return;
	if (t->cwnd < t->ssthresh) {
		t->cwnd++; /* slow start: doubles every round trip */
	} else if (++t->cwnd_acks >= t->cwnd) {
		t->cwnd_acks = 0; /* congestion avoidance: one per window */
		t->cwnd++;
	}
}

/* Appendix A: a retransmission timed out. */
static void transport_cwnd_lost(struct transport *t)
{
	t->ssthresh = t->cwnd / 2 ? t->cwnd / 2 : 1;
	t->cwnd = 1;
	t->cwnd_acks = 0;
}

static unsigned transport_in_flight(const struct transport *t)
{
	unsigned n = 0;
	for (const struct transport_msg *m = t->head; m && m->sent; m = m->next)
		n++;
	return n;
}

/* Send queued messages while the peer's window has room. */
static void transport_fill_window(struct transport *t, uint64_t now_ms)
{
	unsigned flight = transport_in_flight(t), window = transport_window(t);
	for (struct transport_msg *m = t->head; m && flight < window;
	     m = m->next) {
		if (m->sent)
			continue;
		transport_put(t, m, now_ms);
		flight++;
	}
}

static struct transport_msg *transport_enqueue(struct transport *t,
					       const uint8_t *pkt, size_t len)
{
	struct transport_msg *m = malloc(sizeof(*m) + len);
	if (!m)
		return NULL;
	memset(m, 0, sizeof(*m));
	memcpy(m->pkt, pkt, len);
	m->len = len;
	m->ns = byteio_load_u16(pkt + 8);
	if (t->tail)
		t->tail->next = m;
	else
		t->head = m;
	t->tail = m;
	t->n_queued++;
	return m;
}

int transport_send(struct transport *t, uint8_t *pkt, size_t len,
		   uint64_t now_ms)
{
	if (t->dead)
		return -EPIPE;
	if (len < L2TP_CONTROL_HDR_LEN)
		return -EINVAL;
	uint16_t ns = t->ns_next;
	byteio_put_u16(pkt + 8, ns);
	byteio_put_u16(pkt + 10, t->nr);
	if (!transport_enqueue(t, pkt, len))
		return -ENOMEM;
	t->ns_next = l2tp_seq_next(ns);
	transport_fill_window(t, now_ms);
	return ns;
}

/* Drop every sent message the peer's Nr acknowledges (Ns < nr). */
static void transport_ack(struct transport *t, uint16_t nr, uint64_t now_ms)
{
	if (l2tp_seq_lt(t->ns_next, nr)) {
		if (!t->repair) {
			/* Past anything we sent: bogus; ignore, free nothing. */
			t->stats.bad_nr++;
			return;
		}
		/* After a takeover from a stale checkpoint: the peer saw
		 * messages the checkpoint missed. Continue after them (what
		 * we still queue is a prefix of those, so acknowledged). */
		t->stats.repaired++;
		t->ns_next = nr;
	}
	while (t->head && l2tp_seq_lt(t->head->ns, nr)) {
		struct transport_msg *m = t->head;
		t->head = m->next;
		if (!t->head)
			t->tail = NULL;
		t->n_queued--;
		if (m->sent)
			transport_cwnd_acked(t);
		free(m);
	}
	if (l2tp_seq_lt(t->acked, nr))
		t->acked = nr;
	transport_fill_window(t, now_ms);
}

static struct transport_held *transport_held_slot(struct transport *t,
						  uint16_t ns)
{
	return &t->held[ns % t->cfg.our_rws];
}

/* Repair: move Nr to the oldest held message, forgetting the gap. */
static void transport_skip_gap(struct transport *t)
{
	for (unsigned d = 1; d < t->cfg.our_rws; d++) {
		uint16_t ns = (uint16_t)(t->nr + d);
		struct transport_held *s = transport_held_slot(t, ns);
		if (s->len && s->ns == ns) {
			t->nr = ns;
			t->stats.repaired++;
			return;
		}
	}
}

static void transport_deliver_held(struct transport *t,
				   transport_deliver_fn deliver,
				   void *deliver_arg);

static void transport_ack_window(struct transport *t, uint64_t now_ms);

static void transport_owe_ack(struct transport *t, uint64_t due_ms)
{
	if (!t->ack_pending || due_ms < t->ack_due_ms)
		t->ack_due_ms = due_ms;
	t->ack_pending = true;
}

void transport_recv(struct transport *t, const struct l2tp_header *h,
		    const uint8_t *pkt, size_t len, uint64_t now_ms,
		    transport_deliver_fn deliver, void *deliver_arg)
{
	transport_ack(t, h->nr, now_ms);
	if (h->payload_len == 0)
		return; /* ZLB: consumes no Ns */
	int d = l2tp_seq_diff(h->ns, t->nr);
	if (d < 0) {
		/* Section 5.8: a duplicate means our ack was lost; ack again
		 * at once, never deliver twice. */
		t->stats.duplicates++;
		transport_owe_ack(t, now_ms);
		return;
	}
	if (d > 0) {
		if ((unsigned)d >= t->cfg.our_rws) {
			t->stats.outside_window++;
			return;
		}
		struct transport_held *s = transport_held_slot(t, h->ns);
		if (s->len && s->ns == h->ns) {
			/* Already held, and retransmitted while the gap before
			 * it never came: after a stale takeover the gap is what
			 * the old owner acknowledged but did not checkpoint, and
			 * the peer will never send it again. Skip it. */
			if (!t->repair)
				return;
			transport_skip_gap(t);
			t->repair = false;
			transport_owe_ack(t, now_ms + t->cfg.ack_delay_ms);
			transport_deliver_held(t, deliver, deliver_arg);
			return;
		} else {
			uint8_t *copy = malloc(len);
			if (!copy)
				return; /* peer retransmits; nothing lost */
			memcpy(copy, pkt, len);
			free(s->pkt);
			s->pkt = copy;
			s->len = len;
			s->ns = h->ns;
			t->stats.out_of_order++;
			return;
		}
	}
	t->repair = false; /* in sequence again: the state is consistent */
	t->nr = l2tp_seq_next(t->nr);
	t->stats.delivered++;
	transport_owe_ack(t, now_ms + t->cfg.ack_delay_ms);
	deliver(deliver_arg, pkt, len);
	transport_deliver_held(t, deliver, deliver_arg);
	transport_ack_window(t, now_ms);
}

/* Section 5.8: an acknowledgement is never withheld to slow the peer. The
 * delay only waits for a reply to carry it; once half of the window we
 * offer is unacknowledged the peer is about to wait for us, so the ZLB
 * goes now (still piggybacked on anything sent before the timer runs). */
static void transport_ack_window(struct transport *t, uint64_t now_ms)
{
	int unacked = l2tp_seq_diff(t->nr, t->nr_sent);
	unsigned half = t->cfg.our_rws / 2 ? t->cfg.our_rws / 2 : 1;
	if (t->ack_pending && unacked > 0 && (unsigned)unacked >= half)
		transport_owe_ack(t, now_ms);
}

/* Deliver held messages that are next in sequence now. */
static void transport_deliver_held(struct transport *t,
				   transport_deliver_fn deliver,
				   void *deliver_arg)
{
	for (;;) {
		struct transport_held *s = transport_held_slot(t, t->nr);
		if (!s->len || s->ns != t->nr)
			break;
		uint8_t *held = s->pkt;
		size_t hlen = s->len;
		s->pkt = NULL;
		s->len = 0;
		t->nr = l2tp_seq_next(t->nr);
		t->stats.delivered++;
		deliver(deliver_arg, held, hlen);
		free(held);
	}
}

static void transport_send_zlb(struct transport *t)
{
	uint8_t zlb[L2TP_CONTROL_HDR_LEN];
	l2tp_msg_encode_zlb(t->peer_tunnel_id, t->zlb_sid, t->ns_next, t->nr,
			    zlb, sizeof(zlb));
	t->zlb_sid = 0;
	t->ack_pending = false;
	t->nr_sent = t->nr;
	t->stats.zlb_sent++;
	t->output(t->arg, zlb, sizeof(zlb));
}

void transport_flush_ack(struct transport *t)
{
	if (t->ack_pending)
		transport_send_zlb(t);
}

void transport_tick(struct transport *t, uint64_t now_ms)
{
	if (t->dead)
		return;
	for (struct transport_msg *m = t->head; m && m->sent; m = m->next) {
		if (m->deadline_ms > now_ms)
			continue;
		if (m->retries >= t->cfg.max_retries) {
			t->dead = true; /* caller clears the tunnel */
			return;
		}
		if (m == t->head)
			transport_cwnd_lost(t);
		m->retries++;
		m->timeout_ms *= 2;
		if (m->timeout_ms > t->cfg.retransmit_max_ms)
			m->timeout_ms = t->cfg.retransmit_max_ms;
		t->stats.retransmitted++;
		transport_put(t, m, now_ms);
	}
	if (t->ack_pending && t->ack_due_ms <= now_ms)
		transport_send_zlb(t);
}

uint64_t transport_next_deadline(const struct transport *t)
{
	uint64_t next = UINT64_MAX;
	if (t->dead)
		return next;
	for (const struct transport_msg *m = t->head; m && m->sent; m = m->next)
		if (m->deadline_ms < next)
			next = m->deadline_ms;
	if (t->ack_pending && t->ack_due_ms < next)
		next = t->ack_due_ms;
	return next;
}

void transport_retransmit_all(struct transport *t, uint64_t now_ms)
{
	unsigned n = 0;
	for (struct transport_msg *m = t->head; m && n < t->peer_rws;
	     m = m->next, n++) {
		if (m->sent) {
			t->stats.retransmitted++;
			m->retries = 0; /* restart the back-off */
			m->timeout_ms = t->cfg.retransmit_initial_ms;
		}
		transport_put(t, m, now_ms);
	}
}

void transport_restore(struct transport *t, uint16_t ns_next, uint16_t nr,
		       uint16_t acked)
{
	t->ns_next = ns_next;
	t->nr = nr;
	t->nr_sent = nr;
	t->acked = acked;
	/* a takeover is no sign of congestion: the window stays open */
	t->cwnd = t->ssthresh = t->peer_rws;
	t->repair = true;
}

int transport_restore_msg(struct transport *t, const uint8_t *pkt, size_t len)
{
	if (len < L2TP_CONTROL_HDR_LEN)
		return -EINVAL;
	return transport_enqueue(t, pkt, len) ? 0 : -ENOMEM;
}
