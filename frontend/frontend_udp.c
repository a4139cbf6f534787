/* The L2TP UDP socket: SO_REUSEPORT (frontends share a host's :1701), big
 * buffers, datagrams read with libuv's recvmmsg support, and PACKET_OUT
 * datagrams written with sendmmsg on the same fd (same source address). */
#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "frontend.h"

#define FRONTEND_UDP_BUF_BYTES (8 * 1024 * 1024) /* SO_RCVBUF, SO_SNDBUF */
#define FRONTEND_UDP_MMSG      20    /* libuv's recvmmsg width (20 datagrams) */
#define FRONTEND_UDP_CHUNK     65536 /* libuv's slot for one datagram */
#define FRONTEND_UDP_TXV       64    /* datagrams per sendmmsg call */

/* sendmmsg vectors, reused for every batch. */
struct frontend_udp_txv {
	int fd;						 /* the socket */
	struct mmsghdr msgs[FRONTEND_UDP_TXV];		 /* one per datagram */
	struct iovec iov[FRONTEND_UDP_TXV];		 /* its bytes */
	struct sockaddr_storage addrs[FRONTEND_UDP_TXV]; /* its peer */
	struct wire_addr peers[FRONTEND_UDP_TXV];	 /* for log lines */
};

/* A received source address as the wire carries it; IPv4-mapped IPv6
 * addresses (dual-stack socket) become plain IPv4 so that routing hashes and
 * workers see one form. Returns 0 or -EAFNOSUPPORT. */
static int frontend_udp_peer(const struct sockaddr *sa, struct wire_addr *out)
{
	memset(out, 0, sizeof(*out));
	if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *s4 = (const struct sockaddr_in *)sa;
		out->family = 4;
		memcpy(out->addr, &s4->sin_addr, 4);
		out->port = ntohs(s4->sin_port);
		return 0;
	}
	if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)sa;
		if (IN6_IS_ADDR_V4MAPPED(&s6->sin6_addr)) {
			out->family = 4;
			memcpy(out->addr, s6->sin6_addr.s6_addr + 12, 4);
		} else {
			out->family = 6;
			memcpy(out->addr, &s6->sin6_addr, 16);
		}
		out->port = ntohs(s6->sin6_port);
		return 0;
	}
	return -EAFNOSUPPORT;
}

/* The destination for sendmmsg on our socket's family; 0 when the socket
 * cannot reach that family (IPv6 peer on an IPv4 socket). */
static socklen_t frontend_udp_sockaddr(const struct frontend *fe,
				       const struct wire_addr *a,
				       struct sockaddr_storage *ss)
{
	memset(ss, 0, sizeof(*ss));
	if (fe->udp_family == AF_INET) {
		struct sockaddr_in *s4 = (struct sockaddr_in *)ss;
		static const uint8_t mapped[12] = {0, 0, 0, 0, 0,    0,
						   0, 0, 0, 0, 0xff, 0xff};
		s4->sin_family = AF_INET;
		s4->sin_port = htons(a->port);
		if (a->family == 4)
			memcpy(&s4->sin_addr, a->addr, 4);
		else if (!memcmp(a->addr, mapped, sizeof(mapped)))
			memcpy(&s4->sin_addr, a->addr + 12, 4);
		else
			return 0;
		return sizeof(*s4);
	}
	struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)ss;
	s6->sin6_family = AF_INET6;
	s6->sin6_port = htons(a->port);
	if (a->family == 6) {
		memcpy(&s6->sin6_addr, a->addr, 16);
	} else {
		s6->sin6_addr.s6_addr[10] = 0xff;
		s6->sin6_addr.s6_addr[11] = 0xff;
		memcpy(s6->sin6_addr.s6_addr + 12, a->addr, 4);
	}
	return sizeof(*s6);
}

static void frontend_udp_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
	struct frontend *fe = h->data;
	(void)suggested;
	/* One buffer for a whole recvmmsg round: libuv cuts it into 64 KiB
	 * slots. Every datagram is copied into a batch before the next
	 * round, so the buffer is simply reused. */
	*buf = uv_buf_init((char *)fe->rxbuf, (unsigned)fe->rxbuf_len);
}

static void frontend_udp_recv(uv_udp_t *h, ssize_t nread, const uv_buf_t *buf,
			      const struct sockaddr *addr, unsigned flags)
{
	struct frontend *fe = h->data;
	struct wire_addr peer;
	char pt[64];
	if (nread < 0) {
		fe->stats.rx_errors++;
		LOG_RL(LOG_LEVEL_WARN, "udp receive failed", "err=%s",
		       LOG_Q(uv_strerror((int)nread)));
		return;
	}
	/* addr NULL: nothing more this round, or UV_UDP_MMSG_FREE (our
	 * buffer is not freed per round). */
	if (!addr || fe->stopping || frontend_udp_peer(addr, &peer) < 0)
		return;
	if (flags & UV_UDP_PARTIAL) {
		fe->stats.rx++;
		fe->stats.drop[FRONTEND_DROP_TRUNCATED]++;
		LOG_RL(LOG_LEVEL_WARN, "datagram dropped", "reason=%s peer=%s",
		       frontend_drop_name(FRONTEND_DROP_TRUNCATED),
		       frontend_route_peer_text(&peer, pt, sizeof(pt)));
		return;
	}
	frontend_route_datagram(fe, (const uint8_t *)buf->base, (size_t)nread,
				&peer);
}

/* Ask for big buffers; SO_*BUFFORCE passes net.core.*mem_max when we hold
 * CAP_NET_ADMIN. Returns the size the kernel granted. */
static int frontend_udp_bufsize(int fd, int opt, int force_opt)
{
	int want = FRONTEND_UDP_BUF_BYTES, got = 0;
	socklen_t len = sizeof(got);
	if (setsockopt(fd, SOL_SOCKET, force_opt, &want, sizeof(want)) < 0)
		setsockopt(fd, SOL_SOCKET, opt, &want, sizeof(want));
	getsockopt(fd, SOL_SOCKET, opt, &got, &len);
	return got;
}

static void frontend_udp_name(struct frontend *fe, int fd)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);
	char ip[INET6_ADDRSTRLEN] = "?";
	if (getsockname(fd, (struct sockaddr *)&ss, &len) < 0)
		return;
	if (ss.ss_family == AF_INET) {
		const struct sockaddr_in *s4 = (const struct sockaddr_in *)&ss;
		inet_ntop(AF_INET, &s4->sin_addr, ip, sizeof(ip));
		snprintf(fe->listen_text, sizeof(fe->listen_text), "%s:%u", ip,
			 ntohs(s4->sin_port));
	} else {
		const struct sockaddr_in6 *s6 =
			(const struct sockaddr_in6 *)&ss;
		inet_ntop(AF_INET6, &s6->sin6_addr, ip, sizeof(ip));
		snprintf(fe->listen_text, sizeof(fe->listen_text), "[%s]:%u",
			 ip, ntohs(s6->sin6_port));
	}
}

int frontend_udp_init(struct frontend *fe)
{
	struct addrinfo hints = {.ai_family = AF_UNSPEC,
				 .ai_socktype = SOCK_DGRAM,
				 .ai_flags = AI_PASSIVE | AI_NUMERICSERV};
	struct addrinfo *ai = NULL;
	char port[8];
	int fd = -1, one = 1, rc;
	snprintf(port, sizeof(port), "%u", fe->cfg.listen.port);
	rc = getaddrinfo(fe->cfg.listen.host[0] ? fe->cfg.listen.host : NULL,
			 port, &hints, &ai);
	if (rc != 0 || !ai) {
		log_error("cannot resolve listen address", "listen=%s err=%s",
			  LOG_Q(fe->cfg.listen.text), LOG_Q(gai_strerror(rc)));
		return -EINVAL;
	}
	fd = socket(ai->ai_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		rc = -errno;
		goto fail;
	}
	/* Several frontends on one host share :1701; the kernel spreads
	 * peers over them by address hash. */
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one)) < 0) {
		rc = -errno;
		goto fail;
	}
	/* A VRRP virtual IP (deploy/keepalived) is bound on every host of the
	 * pair, held or not: the standby's frontend is then ready the moment
	 * the address moves to it. */
	if (ai->ai_family == AF_INET &&
	    setsockopt(fd, IPPROTO_IP, IP_FREEBIND, &one, sizeof(one)) < 0) {
		rc = -errno;
		goto fail;
	}
	if (ai->ai_family == AF_INET6 &&
	    setsockopt(fd, IPPROTO_IPV6, IPV6_FREEBIND, &one, sizeof(one)) <
		    0) {
		rc = -errno;
		goto fail;
	}
	int rcvbuf = frontend_udp_bufsize(fd, SO_RCVBUF, SO_RCVBUFFORCE);
	int sndbuf = frontend_udp_bufsize(fd, SO_SNDBUF, SO_SNDBUFFORCE);
	if (bind(fd, ai->ai_addr, ai->ai_addrlen) < 0) {
		rc = -errno;
		goto fail;
	}
	frontend_udp_name(fe, fd);
	fe->rxbuf_len = (size_t)FRONTEND_UDP_MMSG * FRONTEND_UDP_CHUNK;
	fe->rxbuf = malloc(fe->rxbuf_len);
	fe->txv = calloc(1, sizeof(struct frontend_udp_txv));
	if (!fe->rxbuf || !fe->txv) {
		rc = -ENOMEM;
		goto fail;
	}
	((struct frontend_udp_txv *)fe->txv)->fd = fd;
	rc = uv_udp_init_ex(fe->loop, &fe->udp, AF_UNSPEC | UV_UDP_RECVMMSG);
	if (rc < 0)
		goto fail;
	fe->udp.data = fe;
	rc = uv_udp_open(&fe->udp, fd);
	if (rc < 0) {
		uv_close((uv_handle_t *)&fe->udp, NULL);
		goto fail;
	}
	fd = -1; /* the handle owns it now */
	rc = uv_udp_recv_start(&fe->udp, frontend_udp_alloc, frontend_udp_recv);
	if (rc < 0) {
		uv_close((uv_handle_t *)&fe->udp, NULL);
		goto fail;
	}
	fe->udp_family = ai->ai_family;
	freeaddrinfo(ai);
	log_info("udp listening", "listen=%s recvmmsg=%d rcvbuf=%d sndbuf=%d",
		 fe->listen_text, uv_udp_using_recvmmsg(&fe->udp), rcvbuf,
		 sndbuf);
	return 0;
fail:
	log_error("cannot open the L2TP socket", "listen=%s err=%s",
		  LOG_Q(fe->cfg.listen.text), LOG_Q(uv_strerror(rc)));
	if (fd >= 0)
		close(fd);
	freeaddrinfo(ai);
	return rc;
}

/* sendmmsg the n prepared datagrams. EAGAIN (send buffer full) drops the
 * rest: the peer retransmits control messages, and data is best effort. */
static void frontend_udp_sendv(struct frontend *fe, unsigned n)
{
	struct frontend_udp_txv *v = fe->txv;
	unsigned off = 0;
	char pt[64];
	while (off < n) {
		int rc = sendmmsg(v->fd, v->msgs + off, n - off, 0);
		if (rc > 0) {
			off += (unsigned)rc;
			fe->stats.tx += (unsigned)rc;
			continue;
		}
		if (rc < 0 && errno == EINTR)
			continue;
		if (rc < 0 && (errno == EAGAIN || errno == EWOULDBLOCK ||
			       errno == ENOBUFS)) {
			fe->stats.tx_dropped += n - off;
			LOG_RL(LOG_LEVEL_WARN, "udp send buffer full",
			       "dropped=%u", n - off);
			return;
		}
		/* This datagram is refused (unreachable, bad address): skip
		 * it, send the rest. */
		fe->stats.tx_errors++;
		LOG_RL(LOG_LEVEL_WARN, "udp send failed", "peer=%s err=%s",
		       frontend_route_peer_text(&v->peers[off], pt, sizeof(pt)),
		       LOG_Q(strerror(rc < 0 ? errno : EIO)));
		off++;
	}
}

void frontend_udp_send_batch(struct frontend *fe, struct wire_reader *r)
{
	struct frontend_udp_txv *v = fe->txv;
	struct wire_packet p;
	unsigned n = 0;
	char pt[64];
	if (!v || fe->udp_family == 0)
		return;
	while (wire_reader_next(r, &p) == 1) {
		socklen_t alen =
			frontend_udp_sockaddr(fe, &p.peer, &v->addrs[n]);
		if (!alen) {
			fe->stats.tx_bad_addr++;
			LOG_RL(LOG_LEVEL_WARN,
			       "cannot send: peer family not on our socket",
			       "peer=%s listen=%s",
			       frontend_route_peer_text(&p.peer, pt,
							sizeof(pt)),
			       fe->listen_text);
			continue;
		}
		v->peers[n] = p.peer;
		/* sendmmsg does not write through iov_base. */
		v->iov[n].iov_base = (void *)(uintptr_t)p.data;
		v->iov[n].iov_len = p.len;
		memset(&v->msgs[n], 0, sizeof(v->msgs[n]));
		v->msgs[n].msg_hdr.msg_name = &v->addrs[n];
		v->msgs[n].msg_hdr.msg_namelen = alen;
		v->msgs[n].msg_hdr.msg_iov = &v->iov[n];
		v->msgs[n].msg_hdr.msg_iovlen = 1;
		if (++n == FRONTEND_UDP_TXV) {
			frontend_udp_sendv(fe, n);
			n = 0;
		}
	}
	if (n)
		frontend_udp_sendv(fe, n);
}

void frontend_udp_stop(struct frontend *fe)
{
	if (fe->udp_family)
		uv_udp_recv_stop(&fe->udp);
}

void frontend_udp_close(struct frontend *fe)
{
	if (fe->udp_family && !uv_is_closing((uv_handle_t *)&fe->udp))
		uv_close((uv_handle_t *)&fe->udp, NULL);
	fe->udp_family = 0;
	free(fe->rxbuf);
	free(fe->txv);
	fe->rxbuf = NULL;
	fe->txv = NULL;
}
