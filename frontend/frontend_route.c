/* Where one received datagram goes: L2TP header only (RFC 2661 3.1), tunnel
 * ID -> shard -> owner; tunnel ID 0 by a hash of the peer and its Assigned
 * Tunnel ID, so a retransmitted SCCRQ reaches the same worker. No state. */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <sys/socket.h>

#include "frontend.h"
#include "l2tp_const.h"
#include "l2tp_msg.h"

const char *frontend_route_peer_text(const struct wire_addr *a, char *buf,
				     size_t len)
{
	char ip[INET6_ADDRSTRLEN] = "?";
	inet_ntop(a->family == 4 ? AF_INET : AF_INET6, a->addr, ip, sizeof(ip));
	snprintf(buf, len, a->family == 4 ? "%s:%u" : "[%s]:%u", ip, a->port);
	return buf;
}

static void frontend_route_drop(struct frontend *fe, enum frontend_drop why,
				const struct wire_addr *peer, uint16_t tid,
				unsigned shard)
{
	char pt[64];
	fe->stats.drop[why]++;
	/* One bucket per reason: a flood of one kind does not hide another. */
	switch (why) {
	case FRONTEND_DROP_NO_OWNER:
		LOG_RL(LOG_LEVEL_WARN, "datagram dropped: shard has no owner",
		       "reason=%s peer=%s tid=%u shard=%u",
		       frontend_drop_name(why),
		       frontend_route_peer_text(peer, pt, sizeof(pt)), tid,
		       shard);
		break;
	case FRONTEND_DROP_NO_WORKER:
		LOG_RL(LOG_LEVEL_WARN,
		       "datagram dropped: owner worker not reachable",
		       "reason=%s peer=%s tid=%u shard=%u",
		       frontend_drop_name(why),
		       frontend_route_peer_text(peer, pt, sizeof(pt)), tid,
		       shard);
		break;
	default:
		LOG_RL(LOG_LEVEL_WARN, "datagram dropped",
		       "reason=%s peer=%s tid=%u", frontend_drop_name(why),
		       frontend_route_peer_text(peer, pt, sizeof(pt)), tid);
		break;
	}
}

static void frontend_route_reject(struct frontend *fe,
				  const struct l2tp_reject *rej,
				  const struct wire_addr *peer)
{
	char pt[64];
	unsigned r = rej->reason < L2TP_REJ__COUNT ? rej->reason : 0;
	fe->stats.drop[FRONTEND_DROP_MALFORMED]++;
	fe->stats.rejected[r]++;
	LOG_RL(LOG_LEVEL_WARN, "datagram dropped: malformed",
	       "reason=malformed rej=%s offset=%zu peer=%s",
	       l2tp_reject_reason_name(rej->reason), rej->offset,
	       frontend_route_peer_text(peer, pt, sizeof(pt)));
}

/* Tunnel ID 0: decode the message (the Assigned Tunnel ID may be hidden, RFC
 * 2661 4.3) and pick the shard by peer hash. A message the codec would only
 * answer (unknown M-bit AVP and the like) still goes to a worker so that it
 * can send the StopCCN RFC 2661 asks for; the hash input is then whatever
 * was decoded, which is the same for every retransmission. Returns 0 with
 * *shard set, or -EBADMSG (counted and dropped). */
static int frontend_route_tid0(struct frontend *fe, const uint8_t *p,
			       size_t len, const struct wire_addr *peer,
			       unsigned *shard)
{
	struct l2tp_msg m;
	struct l2tp_reject rej;
	if (l2tp_msg_decode(p, len, fe->secret_p, fe->scratch,
			    FRONTEND_SCRATCH_LEN, &m, &rej) < 0 &&
	    rej.scope == L2TP_SCOPE_DROP) {
		frontend_route_reject(fe, &rej, peer);
		return -EBADMSG;
	}
	uint16_t peer_tid = l2tp_msg_has(&m, L2TP_AVP_ASSIGNED_TUNNEL_ID)
				    ? m.assigned_tunnel_id
				    : 0;
	*shard = frontend_map_shard_of_peer(&fe->map, peer, peer_tid);
	fe->stats.by_peer_hash++;
	return 0;
}

void frontend_route_datagram(struct frontend *fe, const uint8_t *p, size_t len,
			     const struct wire_addr *peer)
{
	struct l2tp_header h;
	struct l2tp_reject rej;
	unsigned shard;

	fe->stats.rx++;
	fe->stats.rx_bytes += len;
	if (l2tp_header_decode(p, len, &h, &rej) < 0) {
		frontend_route_reject(fe, &rej, peer);
		return;
	}
	if (h.tunnel_id) {
		shard = frontend_map_shard_of_tid(&fe->map, h.tunnel_id);
	} else if (!h.control) {
		frontend_route_drop(fe, FRONTEND_DROP_DATA_TID0, peer, 0, 0);
		return;
	} else if (frontend_route_tid0(fe, p, len, peer, &shard) < 0) {
		return;
	}
	struct frontend_worker *w = frontend_map_owner(&fe->map, shard);
	if (!w) {
		frontend_route_drop(fe, FRONTEND_DROP_NO_OWNER, peer,
				    h.tunnel_id, shard);
		return;
	}
	if (!w->listed || !w->push) {
		frontend_route_drop(fe, FRONTEND_DROP_NO_WORKER, peer,
				    h.tunnel_id, shard);
		return;
	}
	struct wire_packet pkt = {
		.peer = *peer, .data = p, .len = (uint16_t)len};
	frontend_zmq_queue(fe, w, &pkt);
}
