/* --data: once every call asked for is up, data messages (RFC 2661 5, T=0)
 * on the established calls in turn for --data seconds, as fast as the
 * sockets take them: one tunnel at a time, LAC_DATA_BURST datagrams per
 * sendmmsg, at most LAC_DATA_ROUND per loop iteration, so that control
 * messages (acknowledgements, HELLOs) still go in between. With --data-to
 * they go to that address instead of the LNS, from the same sockets: a plain
 * UDP receiver there shows what this sender reaches on the machine. Each
 * message carries a PPP frame (address and control, protocol 0x0021) with
 * --data-size bytes of payload. */
#include <errno.h>
#include <string.h>
#include <sys/socket.h>

#include "l2tp_header.h"
#include "lac_run_int.h"
#include "log.h"

#define LAC_DATA_BURST 64   /* datagrams per sendmmsg */
#define LAC_DATA_ROUND 1024 /* datagrams per loop iteration, at most */
#define LAC_DATA_PPP   4    /* ff 03 00 21 */
#define LAC_DATA_MAX   1600 /* header, PPP and the largest --data-size */

static uint8_t lac_data_buf[LAC_DATA_BURST][LAC_DATA_MAX];

/* Up to n datagrams for calls of c into lac_data_buf, from its slot cursor
 * on; their lengths in len[]. Returns how many (0: no call up). */
static unsigned lac_data_fill(struct lac_run *run, struct lac_conn *c,
			      size_t *len, unsigned n)
{
	unsigned slots = run->cfg.sessions, got = 0, looked = 0;
	size_t payload = LAC_DATA_PPP + run->opts->data_size;
	if (!slots)
		return 0;
	while (got < n && looked < slots) {
		struct lac_session *s = &c->t.sessions[c->data_slot];
		c->data_slot = (c->data_slot + 1) % slots;
		looked++;
		if (s->state != LAC_SESSION_ESTABLISHED || !s->peer_sid)
			continue;
		looked = 0; /* found one: the cursor goes on from there */
		uint8_t *b = lac_data_buf[got];
		struct l2tp_data_opts o = {0};
		int h = l2tp_header_encode_data(b, LAC_DATA_MAX, c->t.peer_tid,
						s->peer_sid, &o, payload);
		if (h < 0)
			return got;
		static const uint8_t ppp[LAC_DATA_PPP] = {0xff, 0x03, 0x00,
							  0x21};
		memcpy(b + h, ppp, sizeof(ppp));
		memset(b + h + LAC_DATA_PPP, 0x5a, run->opts->data_size);
		len[got++] = (size_t)h + payload;
	}
	return got;
}

static void lac_data_end(struct lac_run *run, uint64_t now_ns)
{
	uv_idle_stop(&run->data_idle);
	run->stats.data_elapsed_us = (now_ns - run->data_start_ns) / 1000;
	double s = (double)run->stats.data_elapsed_us / 1e6;
	log_info("data sent",
		 "messages=%llu seconds=%.3f per_s=%.0f "
		 "blocked=%llu errors=%llu",
		 (unsigned long long)run->stats.data_sent, s,
		 s > 0 ? (double)run->stats.data_sent / s : 0.0,
		 (unsigned long long)run->stats.data_blocked,
		 (unsigned long long)run->stats.data_errors);
}

static void lac_data_cb(uv_idle_t *h)
{
	struct lac_run *run = h->data;
	uint64_t now = uv_hrtime();
	if (run->stopping ||
	    now - run->data_start_ns >= run->opts->data_ms * 1000000ull) {
		lac_data_end(run, now);
		return;
	}
	bool elsewhere = run->opts->data_to_text[0] != 0; /* --data-to */
	socklen_t tolen = run->opts->lns.ss_family == AF_INET6
				  ? sizeof(struct sockaddr_in6)
				  : sizeof(struct sockaddr_in);
	unsigned sent = 0, idle_conns = 0;
	while (sent < LAC_DATA_ROUND && idle_conns < run->n_conns) {
		struct lac_conn *c = &run->conns[run->data_conn];
		run->data_conn = (run->data_conn + 1) % run->n_conns;
		size_t len[LAC_DATA_BURST];
		unsigned n = 0;
		if (c->handles_open && !c->close_started &&
		    c->t.state == LAC_TUNNEL_ESTABLISHED)
			n = lac_data_fill(run, c, len, LAC_DATA_BURST);
		if (!n) {
			idle_conns++;
			continue;
		}
		idle_conns = 0;
		struct sockaddr_storage dst =
			elsewhere ? run->opts->data_to : c->peer;
		struct mmsghdr m[LAC_DATA_BURST];
		struct iovec iov[LAC_DATA_BURST];
		memset(m, 0, sizeof(m[0]) * n);
		for (unsigned i = 0; i < n; i++) {
			iov[i] = (struct iovec){lac_data_buf[i], len[i]};
			m[i].msg_hdr.msg_iov = &iov[i];
			m[i].msg_hdr.msg_iovlen = 1;
			m[i].msg_hdr.msg_name = &dst;
			m[i].msg_hdr.msg_namelen = tolen;
		}
		uv_os_fd_t fd;
		if (uv_fileno((uv_handle_t *)&c->sock->udp, &fd) < 0)
			continue;
		int k = sendmmsg(fd, m, n, MSG_DONTWAIT);
		if (k < 0) {
			if (errno == EAGAIN || errno == ENOBUFS) {
				run->stats.data_blocked++;
				break; /* the socket is full: next iteration */
			}
			run->stats.data_errors++;
			LOG_RL(LOG_LEVEL_WARN, "data send failed", "err=%s",
			       strerror(errno));
			break;
		}
		for (int i = 0; i < k; i++)
			run->stats.data_bytes += len[i];
		run->stats.data_sent += (unsigned)k;
		sent += (unsigned)k;
	}
	if (idle_conns >= run->n_conns) /* no call up any more */
		lac_data_end(run, uv_hrtime());
}

void lac_run_data_maybe_start(struct lac_run *run)
{
	if (!run->opts->data_ms || run->data_started || run->stopping ||
	    run->sessions_up < run->stats.sessions_requested ||
	    !run->stats.sessions_requested)
		return;
	run->data_started = true;
	run->data_start_ns = uv_hrtime();
	log_info("every call up: data messages begin",
		 "calls=%llu seconds=%.3f",
		 (unsigned long long)run->sessions_up,
		 (double)run->opts->data_ms / 1000.0);
	uv_idle_start(&run->data_idle, lac_data_cb);
}
