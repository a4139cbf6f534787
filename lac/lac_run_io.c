/* tandem-lac's sockets and timers: one UDP socket (own port) per
 * --tunnels-per-socket tunnels (one each by default) and one timer per
 * tunnel; datagrams in to the engine of the tunnel they name, the engines'
 * packets out. */
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "l2tp_header.h"
#include "lac_run_int.h"
#include "log.h"

static uint8_t lac_run_io_rxbuf[L2TP_MAX_DATAGRAM]; /* one read at a time */
static uint8_t lac_run_io_txbuf[L2TP_MAX_DATAGRAM]; /* one send at a time */

static void lac_run_io_send_done(uv_udp_send_t *req, int status)
{
	(void)status;
	free(req);
}

void lac_run_io_output(void *ctx, struct lac_tunnel *t, const uint8_t *pkt,
		       size_t len)
{
	struct lac_run *run = ctx;
	struct lac_conn *c = t->owner;
	const struct sockaddr *to = (const struct sockaddr *)&c->peer;
	if (!c->handles_open || run->finished || len > sizeof(lac_run_io_txbuf))
		return;
	/* uv_buf_t wants a mutable pointer: send from a copy. */
	memcpy(lac_run_io_txbuf, pkt, len);
	uv_buf_t b = uv_buf_init((char *)lac_run_io_txbuf, (unsigned)len);
	int rc = uv_udp_try_send(&c->sock->udp, &b, 1, to);
	if (rc >= 0)
		return;
	if (rc == UV_EAGAIN || rc == UV_ENOBUFS) {
		/* Socket buffer full (or sends queued): queue behind them,
		 * with a copy that lives until the send completes. */
		uv_udp_send_t *req = malloc(sizeof(*req) + len);
		if (!req) {
			rc = UV_ENOMEM;
		} else {
			uint8_t *copy = (uint8_t *)(req + 1);
			memcpy(copy, pkt, len);
			b = uv_buf_init((char *)copy, (unsigned)len);
			rc = uv_udp_send(req, &c->sock->udp, &b, 1, to,
					 lac_run_io_send_done);
			if (rc == 0)
				return;
			free(req);
		}
	}
	run->stats.tx_errors++;
	LOG_RL(LOG_LEVEL_WARN, "send failed", "tid=%u err=%s", t->tid,
	       uv_strerror(rc));
}

void lac_run_io_random(void *ctx, uint8_t *buf, size_t len)
{
	(void)ctx;
	size_t got = 0;
	while (got < len) {
		ssize_t n = getrandom(buf + got, len - got, 0);
		if (n <= 0)
			break;
		got += (size_t)n;
	}
	for (; got < len; got++) /* getrandom cannot fail after boot */
		buf[got] = (uint8_t)random();
}

static void lac_run_io_timer_cb(uv_timer_t *h)
{
	struct lac_conn *c = h->data;
	c->timer_due_ms = UINT64_MAX;
	lac_tunnel_tick(&c->t, uv_now(&c->run->loop));
	lac_run_io_after(c);
	lac_run_after(c->run);
}

/* Point the tunnel's timer at the engine's next deadline and note when the
 * tunnel has finished (and whether its probe HELLO was answered). */
void lac_run_io_after(struct lac_conn *c)
{
	struct lac_run *run = c->run;
	lac_run_probe_check(c);
	if (c->opened && !c->done && lac_tunnel_finished(&c->t)) {
		c->done = true;
		run->n_done++;
		if (c->closing) {
			c->closing = false;
			run->n_closing--;
		}
	}
	if (!run->stopping)
		lac_run_admit_ready(run, c);
	if (!c->handles_open || run->finished)
		return;
	uint64_t due = lac_tunnel_next_deadline(&c->t);
	if (due == c->timer_due_ms)
		return;
	c->timer_due_ms = due;
	if (due == UINT64_MAX) {
		uv_timer_stop(&c->timer);
		return;
	}
	uint64_t now = uv_now(&run->loop);
	uv_timer_start(&c->timer, lac_run_io_timer_cb,
		       due > now ? due - now : 0, 0);
}

static void lac_run_io_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
	(void)h;
	(void)suggested;
	*buf = uv_buf_init((char *)lac_run_io_rxbuf, sizeof(lac_run_io_rxbuf));
}

static socklen_t lac_run_io_addr_len(const struct sockaddr *a)
{
	return a->sa_family == AF_INET6 ? sizeof(struct sockaddr_in6)
					: sizeof(struct sockaddr_in);
}

/* The tunnel on socket k that a datagram for Tunnel ID tid is for, or
 * NULL. Tunnel IDs run consecutively from first_tid (skipping 0), so the
 * index is their distance. ID 0 (a StopCCN from an LNS that could not read
 * our Assigned Tunnel ID) belongs to a socket's only tunnel; on a shared
 * socket it cannot be told whose it is. */
static struct lac_conn *lac_run_io_conn(struct lac_sock *k, uint16_t tid)
{
	struct lac_run *run = k->run;
	unsigned i;
	if (tid == 0) {
		if (run->per_sock != 1)
			return NULL;
		i = (unsigned)(k - run->socks);
	} else {
		i = ((unsigned)tid + 65535u - run->first_tid) % 65535u;
	}
	if (i >= run->n_conns || run->conns[i].sock != k ||
	    !run->conns[i].handles_open)
		return NULL;
	return &run->conns[i];
}

static void lac_run_io_recv(uv_udp_t *h, ssize_t nread, const uv_buf_t *buf,
			    const struct sockaddr *addr, unsigned flags)
{
	struct lac_sock *k = h->data;
	struct lac_run *run = k->run;
	struct lac_conn *c;
	struct l2tp_header hdr;
	struct l2tp_reject rej;
	const uint8_t *pkt = (const uint8_t *)buf->base;

	if (nread < 0) {
		LOG_RL(LOG_LEVEL_WARN, "receive failed", "port=%u err=%s",
		       k->local_port, uv_strerror((int)nread));
		return;
	}
	if (nread == 0 || !addr || run->finished)
		return;
	run->stats.rx_datagrams++;
	if ((flags & UV_UDP_PARTIAL) ||
	    l2tp_header_decode(pkt, (size_t)nread, &hdr, &rej) < 0 ||
	    !hdr.control || !(c = lac_run_io_conn(k, hdr.tunnel_id))) {
		/* Data messages too: we run no PPP. */
		run->stats.rx_dropped++;
		return;
	}
	/* RFC 2661 8.1: the LNS may answer from another port; from its first
	 * reply on, that is where we send. */
	if (c->t.state == LAC_TUNNEL_WAIT_CTL_REPLY)
		memcpy(&c->peer, addr, lac_run_io_addr_len(addr));
	lac_tunnel_rx(&c->t, &hdr, pkt, (size_t)nread, uv_now(&run->loop));
	lac_run_io_after(c);
	lac_run_after(run);
}

/* Bind socket k on --bind with a port of its own, once, for its first
 * tunnel; a failure is kept and answered to the socket's other tunnels. */
static int lac_run_io_open_sock(struct lac_run *run, struct lac_sock *k)
{
	struct sockaddr_storage local;
	int len = sizeof(local);
	int rc;

	if (k->open || k->err)
		return k->err;
	rc = uv_udp_init(&run->loop, &k->udp);
	if (rc < 0)
		return k->err = rc;
	k->udp.data = k;
	k->open = true;
	rc = uv_udp_bind(&k->udp, (const struct sockaddr *)&run->opts->bind, 0);
	if (rc == 0)
		rc = uv_udp_getsockname(&k->udp, (struct sockaddr *)&local,
					&len);
	if (rc == 0) {
		k->local_port = ntohs(
			local.ss_family == AF_INET6
				? ((struct sockaddr_in6 *)&local)->sin6_port
				: ((struct sockaddr_in *)&local)->sin_port);
		if (run->per_sock > 1) {
			/* Several tunnels' replies queue here: a bigger
			 * buffer, as far as net.core.rmem_max lets us. */
			int size = 1 << 20;
			uv_recv_buffer_size((uv_handle_t *)&k->udp, &size);
		}
		rc = uv_udp_recv_start(&k->udp, lac_run_io_alloc,
				       lac_run_io_recv);
	}
	if (rc < 0)
		k->err = rc;
	return rc;
}

/* The tunnel's socket (bound with its first tunnel) and its timer. */
static int lac_run_io_open_handles(struct lac_conn *c)
{
	struct lac_run *run = c->run;
	int rc = lac_run_io_open_sock(run, c->sock);
	if (rc < 0)
		return rc;
	uv_timer_init(&run->loop, &c->timer);
	c->timer.data = c;
	c->timer_due_ms = UINT64_MAX;
	c->handles_open = true;
	c->local_port = c->sock->local_port;
	return 0;
}

void lac_run_io_open_tunnel(struct lac_run *run, struct lac_conn *c)
{
	uint64_t now = uv_now(&run->loop);
	int rc;

	c->opened = true;
	run->n_opened++;
	run->stats.tunnels_opened++;
	rc = lac_run_io_open_handles(c);
	if (rc < 0) {
		LOG_RL(LOG_LEVEL_ERROR, "cannot open tunnel socket",
		       "tid=%u bind=%s err=%s", c->t.tid, run->opts->bind_text,
		       uv_strerror(rc));
		run->stats.tunnel_fail[LAC_WHY_SOCKET]++;
		run->stats.session_fail[LAC_WHY_TUNNEL_FAILED] +=
			run->cfg.sessions;
		c->done = true;
		run->n_done++;
		return;
	}
	c->opened_ns = uv_hrtime();
	c->in_flight = true;
	lac_sched_start(&run->sched);
	rc = lac_tunnel_open(&c->t, now);
	if (rc < 0) {
		c->in_flight = false;
		lac_sched_done(&run->sched);
		run->stats.tunnel_fail[LAC_WHY_SEND_ERROR]++;
		run->stats.session_fail[LAC_WHY_TUNNEL_FAILED] +=
			run->cfg.sessions;
		c->done = true;
		run->n_done++;
		return;
	}
	lac_run_io_after(c);
}
