/* pppd PPP backend (see ppp_pppd.h): per session an address (pool or the
 * session record), a pty, pppd spawned through libuv (which reaps it), and
 * the HDLC relay between the L2TP data channel and the pty master. */
#include "ppp_pppd.h"

#include <errno.h>
#include <fcntl.h>
#include <pty.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <termios.h>
#include <unistd.h>

#include "hdlc.h"
#include "l2tp_const.h"
#include "log.h"
#include "tunnel.h"

#define PPP_PPPD_KILL_MS 3000 /* SIGTERM, then SIGKILL after this */
#define PPP_PPPD_READ	 4096 /* bytes per read of the pty master */

/* One session's pppd. Freed when its handles are closed and no pool reply
 * is due; until then it may outlive the session (s == NULL). */
struct ppp_pppd_sess {
	struct ppp_pppd *b;		   /* backend */
	struct ppp_pppd_sess *next, *prev; /* b->sessions */
	struct session *s;		   /* NULL once closed or detached */
	uint16_t tid, sid;		   /* for logs and the pool owner */
	int master;			   /* pty master; -1 when closed */
	uv_poll_t poll;			   /* master readable */
	uv_process_t proc;		   /* pppd */
	uv_timer_t kill_timer;		   /* SIGKILL if SIGTERM is ignored */
	unsigned handles;		   /* initialised, not yet closed */
	bool poll_on;			   /* poll initialised and open */
	bool proc_on;			   /* pppd spawned, not yet reaped */
	bool timer_on;			   /* kill_timer initialised, open */
	bool alloc_pending;		   /* a pool reply is due */
	bool handed;			   /* pty passed to a successor */
	bool adopted;	   /* pppd handed to us: not our child */
	int adopted_pidfd; /* its pidfd; -1: none */
	int adopted_pid;   /* its pid (passed on at the next hand-over) */
	bool release;	   /* give the address back (closed) */
	struct hdlc_rx rx; /* frames from pppd */
	uint8_t rxbuf[PPP_PPPD_FRAME_MAX + 2];
};

/* Encoded frames to pppd and raw reads from it: one loop thread, every use
 * ends before the next begins. */
static uint8_t ppp_pppd_txbuf[HDLC_ENCODED_MAX(PPP_PPPD_FRAME_MAX)];
static uint8_t ppp_pppd_rdbuf[PPP_PPPD_READ];

void ppp_pppd_exit_result(int64_t status, int signum, uint16_t *result,
			  uint16_t *error)
{
	*error = 0;
	if (signum) {
		*result = L2TP_CDN_GENERAL_ERROR; /* killed by someone else */
		*error = L2TP_ERR_VENDOR;
		return;
	}
	switch (status) {
	case 0:	 /* the peer terminated the link */
	case 5:	 /* SIGTERM/SIGINT/SIGHUP received */
	case 12: /* idle timeout */
	case 13: /* connect time limit */
		*result = L2TP_CDN_ADMIN;
		return;
	case 15: /* no LCP echo replies: the subscriber is gone */
	case 16: /* hangup */
		*result = L2TP_CDN_LOST_CARRIER;
		return;
	case 4: /* no kernel PPP support */
		*result = L2TP_CDN_NO_FACILITIES_PERM;
		return;
	default: /* options, negotiation or authentication failed, ... */
		*result = L2TP_CDN_GENERAL_ERROR;
		*error = L2TP_ERR_VENDOR;
		return;
	}
}

static void ppp_pppd_owner(const struct ppp_pppd_sess *ps, char *buf,
			   size_t len)
{
	snprintf(buf, len, "%u/%u", ps->tid, ps->sid);
}

/* A session's IPv4 address field in host byte order. */
static uint32_t ppp_pppd_addr4(const uint8_t *a)
{
	return (uint32_t)a[0] << 24 | (uint32_t)a[1] << 16 |
	       (uint32_t)a[2] << 8 | a[3];
}

static bool ppp_pppd_in_pool(const struct ppp_pppd *b, const struct session *s,
			     uint32_t *remote)
{
	if (!b->cfg.have_pool || s->ppp_family != 4)
		return false;
	*remote = ppp_pppd_addr4(s->ppp_remote);
	return *remote >= b->cfg.pool.first && *remote <= b->cfg.pool.last;
}

static void ppp_pppd_maybe_free(struct ppp_pppd_sess *ps)
{
	if (ps->handles || ps->alloc_pending)
		return;
	struct ppp_pppd *b = ps->b;
	if (ps->prev)
		ps->prev->next = ps->next;
	else
		b->sessions = ps->next;
	if (ps->next)
		ps->next->prev = ps->prev;
	free(ps);
}

static void ppp_pppd_handle_closed(uv_handle_t *h)
{
	struct ppp_pppd_sess *ps = h->data;
	ps->handles--;
	ppp_pppd_maybe_free(ps);
}

static void ppp_pppd_close_handle(struct ppp_pppd_sess *ps, uv_handle_t *h)
{
	h->data = ps;
	uv_close(h, ppp_pppd_handle_closed);
}

/* Stop reading and close the master: pppd sees the line hang up. */
static void ppp_pppd_close_pty(struct ppp_pppd_sess *ps)
{
	if (ps->poll_on) {
		uv_poll_stop(&ps->poll);
		ppp_pppd_close_handle(ps, (uv_handle_t *)&ps->poll);
		ps->poll_on = false;
	}
	if (ps->master >= 0) {
		close(ps->master);
		ps->master = -1;
	}
}

static void ppp_pppd_kill_timer(uv_timer_t *t)
{
	struct ppp_pppd_sess *ps = t->data;
	if (ps->proc_on) {
		log_warn("pppd ignored SIGTERM, killing it",
			 "tid=%u sid=%u pid=%d", ps->tid, ps->sid,
			 ps->proc.pid);
		uv_process_kill(&ps->proc, SIGKILL);
	}
}

/* The session no longer wants this pppd (closed, detached, or pppd gone):
 * hang up the pty, signal pppd, forget the session. Idempotent. */
static void ppp_pppd_stop(struct ppp_pppd_sess *ps)
{
	if (ps->s && ps->s->ppp == ps)
		ps->s->ppp = NULL;
	ps->s = NULL;
	ppp_pppd_close_pty(ps);
	if (ps->adopted && ps->adopted_pidfd >= 0) {
		/* not our child: the hang-up and a signal end it, init reaps */
		syscall(SYS_pidfd_send_signal, ps->adopted_pidfd, SIGTERM, NULL,
			0);
		close(ps->adopted_pidfd);
		ps->adopted_pidfd = -1;
	}
	if (ps->proc_on && ps->handed) {
		/* The successor relays for it now: no signal. It is still our
		 * child, so the handle stays open to reap it when it ends
		 * (closing it left a zombie behind), unref'd so that it does
		 * not keep a draining worker's loop alive. */
		uv_unref((uv_handle_t *)&ps->proc);
	} else if (ps->proc_on && !ps->timer_on) {
		uv_process_kill(&ps->proc, SIGTERM);
		uv_timer_init(ps->b->loop, &ps->kill_timer);
		ps->kill_timer.data = ps;
		ps->handles++;
		ps->timer_on = true;
		uv_timer_start(&ps->kill_timer, ppp_pppd_kill_timer,
			       PPP_PPPD_KILL_MS, 0);
	}
	ppp_pppd_maybe_free(ps);
}

/* The session ends because of its pppd (or a failure to start one). */
static void ppp_pppd_hangup(struct ppp_pppd_sess *ps, uint16_t result,
			    uint16_t error)
{
	struct ppp_pppd *b = ps->b;
	struct session *s = ps->s;
	if (!s)
		return;
	b->stats.hangups++;
	b->ops.hangup(b->ops.ctx, s, result, error); /* runs our close */
	if (ps->s == s)
		ppp_pppd_stop(ps); /* the worker did not close it */
}

static void ppp_pppd_frame_out(void *arg, const uint8_t *frame, size_t len)
{
	struct ppp_pppd_sess *ps = arg;
	if (!ps->s)
		return;
	if (tunnel_send_data(ps->s->tunnel, ps->s, frame, len) == 0)
		ps->b->stats.frames_out++;
	else
		ps->b->stats.frames_dropped++;
}

static void ppp_pppd_readable(uv_poll_t *h, int status, int events)
{
	struct ppp_pppd_sess *ps = h->data;
	struct ppp_pppd *b = ps->b;
	(void)events;
	if (status < 0) {
		ppp_pppd_close_pty(ps);
		return;
	}
	/* Bounded: a pppd that writes without pause cannot hold the loop. */
	for (int i = 0; i < 16 && ps->master >= 0; i++) {
		ssize_t n = read(ps->master, ppp_pppd_rdbuf,
				 sizeof(ppp_pppd_rdbuf));
		if (n > 0) {
			struct hdlc_rx_stats before = ps->rx.stats;
			hdlc_rx_feed(&ps->rx, ppp_pppd_rdbuf, (size_t)n,
				     ppp_pppd_frame_out, ps);
			b->stats.bad_fcs +=
				ps->rx.stats.bad_fcs - before.bad_fcs;
			b->stats.bad_framing +=
				(ps->rx.stats.runts - before.runts) +
				(ps->rx.stats.aborts - before.aborts) +
				(ps->rx.stats.too_long - before.too_long);
			continue;
		}
		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			return;
		/* 0 or EIO: pppd closed its side; its exit is reaped next,
		 * unless it is not our child (handed over to us). */
		ppp_pppd_close_pty(ps);
		if (ps->adopted) {
			log_info("handed-over pppd ended: clearing the session",
				 "tid=%u sid=%u", ps->tid, ps->sid);
			ppp_pppd_hangup(ps, L2TP_CDN_GENERAL_ERROR,
					L2TP_ERR_VENDOR);
		}
		return;
	}
}

static void ppp_pppd_exited(uv_process_t *proc, int64_t status, int signum)
{
	struct ppp_pppd_sess *ps = proc->data;
	struct ppp_pppd *b = ps->b;
	uint16_t result, error;
	bool asked = ps->s == NULL;
	ps->proc_on = false;
	b->stats.running--;
	b->stats.exited++;
	ppp_pppd_close_handle(ps, (uv_handle_t *)proc);
	if (ps->timer_on) {
		uv_timer_stop(&ps->kill_timer);
		ppp_pppd_close_handle(ps, (uv_handle_t *)&ps->kill_timer);
		ps->timer_on = false;
	}
	ppp_pppd_exit_result(status, signum, &result, &error);
	if (asked) {
		log_debug("pppd stopped", "tid=%u sid=%u status=%lld signal=%d",
			  ps->tid, ps->sid, (long long)status, signum);
		ppp_pppd_maybe_free(ps);
		return;
	}
	log_info("pppd exited: clearing the session",
		 "tid=%u sid=%u status=%lld signal=%d result=%u error=%u",
		 ps->tid, ps->sid, (long long)status, signum, result, error);
	ppp_pppd_close_pty(ps);
	ppp_pppd_hangup(ps, result, error);
}

static int ppp_pppd_set_flags(int fd, bool nonblock)
{
	int fl = fcntl(fd, F_GETFD);
	if (fl < 0 || fcntl(fd, F_SETFD, fl | FD_CLOEXEC) < 0)
		return -errno;
	if (!nonblock)
		return 0;
	fl = fcntl(fd, F_GETFL);
	if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0)
		return -errno;
	return 0;
}

/* openpty, spawn pppd on the slave, watch the master. 0 or -errno. */
static int ppp_pppd_start(struct ppp_pppd_sess *ps)
{
	struct ppp_pppd *b = ps->b;
	const struct session *s = ps->s;
	struct termios tio;
	int master = -1, slave = -1, rc;
	char ipparam[16], addrs[40], loc[16], rem[16], report[128];
	const char *argv[24];
	int argc = 0;

	/* Raw from the start (no echo of our frames back to us before pppd
	 * sets its own modes) and a baud rate: pppd refuses a tty at 0. */
	memset(&tio, 0, sizeof(tio));
	cfmakeraw(&tio);
	tio.c_cflag |= CS8 | CREAD | CLOCAL;
	tio.c_cc[VMIN] = 1;
	cfsetispeed(&tio, B115200);
	cfsetospeed(&tio, B115200);
	if (openpty(&master, &slave, NULL, &tio, NULL) < 0) {
		rc = -errno;
		goto fail;
	}
	if ((rc = ppp_pppd_set_flags(master, true)) < 0 ||
	    (rc = ppp_pppd_set_flags(slave, false)) < 0)
		goto fail;
	argv[argc++] = b->cfg.pppd_path;
	if (b->cfg.options_path[0]) {
		argv[argc++] = "file";
		argv[argc++] = b->cfg.options_path;
	}
	/* The tty is stdin (pppd uses it when no device is named). These are
	 * properties of our pty, not policy: no modem lines (local), no
	 * hardware flow control, no UUCP lock, and pppd stays our child so
	 * libuv reaps it. Authentication and the rest come from the options
	 * file. */
	argv[argc++] = "nodetach";
	argv[argc++] = "local";
	argv[argc++] = "nocrtscts";
	argv[argc++] = "nolock";
	snprintf(ipparam, sizeof(ipparam), "%u/%u", ps->tid, ps->sid);
	argv[argc++] = "ipparam";
	argv[argc++] = ipparam;
	if (s->ppp_family == 4) {
		snprintf(loc, sizeof(loc), "%u.%u.%u.%u", s->ppp_local[0],
			 s->ppp_local[1], s->ppp_local[2], s->ppp_local[3]);
		snprintf(rem, sizeof(rem), "%u.%u.%u.%u", s->ppp_remote[0],
			 s->ppp_remote[1], s->ppp_remote[2], s->ppp_remote[3]);
		snprintf(addrs, sizeof(addrs), "%s:%s", loc, rem);
		argv[argc++] = addrs;
	}
	if (s->calling_number[0]) {
		argv[argc++] = "remotenumber";
		argv[argc++] = s->calling_number;
	}
	if (b->rep_on) {
		/* Our hook instead of /etc/ppp/ip-up (which it runs in turn):
		 * it reports what IPCP settled on to the socket named in its
		 * environment. Both are privileged options (we are root), so
		 * no options file can change them. */
		snprintf(report, sizeof(report), "TANDEM_REPORT=%s",
			 b->rep.name);
		argv[argc++] = "ip-up-script";
		argv[argc++] = b->cfg.hook_path;
		argv[argc++] = "set";
		argv[argc++] = report;
	}
	argv[argc] = NULL;

	uv_stdio_container_t stdio[3] = {
		{.flags = UV_INHERIT_FD, .data.fd = slave},
		{.flags = UV_INHERIT_FD, .data.fd = STDERR_FILENO},
		{.flags = UV_INHERIT_FD, .data.fd = STDERR_FILENO},
	};
	uv_process_options_t po = {
		.exit_cb = ppp_pppd_exited,
		.file = b->cfg.pppd_path,
		.args = (char **)(uintptr_t)argv,
		.stdio_count = 3,
		.stdio = stdio,
		.flags = UV_PROCESS_DETACHED, /* own session: the pty can be
						 its controlling tty */
	};
	ps->proc.data = ps;
	rc = uv_spawn(b->loop, &ps->proc, &po);
	if (rc < 0) {
		/* uv_spawn initialised the handle: it must still be closed */
		ps->handles++;
		ppp_pppd_close_handle(ps, (uv_handle_t *)&ps->proc);
		goto fail;
	}
	ps->handles++;
	ps->proc_on = true;
	b->stats.running++;
	b->stats.spawned++;
	close(slave);
	slave = -1;
	ps->master = master;
	rc = uv_poll_init(b->loop, &ps->poll, master);
	if (rc == 0) {
		ps->handles++;
		ps->poll_on = true;
		ps->poll.data = ps;
		rc = uv_poll_start(&ps->poll, UV_READABLE, ppp_pppd_readable);
	}
	if (rc < 0) {
		ppp_pppd_stop(ps);
		return rc;
	}
	log_info("pppd started", "tid=%u sid=%u pid=%d addrs=%s", ps->tid,
		 ps->sid, ps->proc.pid, s->ppp_family == 4 ? addrs : "-");
	return 0;
fail:
	b->stats.spawn_failed++;
	if (master >= 0)
		close(master);
	if (slave >= 0)
		close(slave);
	log_error("cannot start pppd", "tid=%u sid=%u err=%s", ps->tid, ps->sid,
		  LOG_Q(uv_strerror(rc)));
	return rc;
}

/* A running pppd's pty handed to us by the session's previous owner: relay
 * for it; no new pppd, no PPP renegotiation. 0 or -errno (fd closed). */
static int ppp_pppd_adopt(struct ppp_pppd_sess *ps, int fd, int pid)
{
	struct ppp_pppd *b = ps->b;
	int rc = ppp_pppd_set_flags(fd, true);
	if (rc == 0)
		rc = uv_poll_init(b->loop, &ps->poll, fd);
	if (rc < 0) {
		close(fd);
		return rc;
	}
	ps->master = fd;
	ps->handles++;
	ps->poll_on = true;
	ps->poll.data = ps;
	ps->adopted = true;
	ps->adopted_pid = pid;
	ps->adopted_pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
	b->stats.adopted++;
	uv_poll_start(&ps->poll, UV_READABLE, ppp_pppd_readable);
	log_info("pppd adopted from the previous owner", "tid=%u sid=%u pid=%d",
		 ps->tid, ps->sid, pid);
	return 0;
}

int ppp_pppd_handover(struct ppp_pppd *b, int sock, struct session *s)
{
	struct ppp_pppd_sess *ps = s->ppp;
	int pid;
	if (!ps || ps->master < 0 || ps->handed)
		return -ENOENT;
	if (ps->proc_on)
		pid = ps->proc.pid;
	else if (ps->adopted)
		pid = ps->adopted_pid; /* passed on again */
	else
		return -ENOENT;
	int rc = ppp_handover_send(sock, ps->tid, ps->sid, pid, ps->master);
	if (rc < 0)
		return rc;
	/* The descriptor in flight keeps the pty open: ours can go now, and
	 * must (two readers would split pppd's frames). */
	ps->handed = true;
	if (ps->adopted && ps->adopted_pidfd >= 0) {
		close(ps->adopted_pidfd);
		ps->adopted_pidfd = -1;
	}
	ps->adopted = false;
	ppp_pppd_close_pty(ps);
	b->stats.handed++;
	return 0;
}

int ppp_pppd_session_pid(const struct session *s)
{
	const struct ppp_pppd_sess *ps = s->ppp;
	if (!ps || ps->handed)
		return 0;
	if (ps->proc_on)
		return ps->proc.pid;
	return ps->adopted ? ps->adopted_pid : 0;
}

/* A handed-over pty is stale once its session runs a pppd of its own
 * here (started after a takeover that raced the hand-over). */
static bool ppp_pppd_ho_stale(void *ctx, const struct ppp_handover_entry *e)
{
	struct ppp_pppd *b = ctx;
	struct session *s =
		b->ops.find ? b->ops.find(b->ops.ctx, e->tid, e->sid) : NULL;
	int pid = s ? ppp_pppd_session_pid(s) : 0;
	return pid > 0 && pid != e->pid;
}

static void ppp_pppd_set_addrs(struct session *s, uint32_t local,
			       uint32_t remote)
{
	s->ppp_family = 4;
	memset(s->ppp_local, 0, sizeof(s->ppp_local));
	memset(s->ppp_remote, 0, sizeof(s->ppp_remote));
	for (int i = 0; i < 4; i++) {
		s->ppp_local[i] = (uint8_t)(local >> (24 - 8 * i));
		s->ppp_remote[i] = (uint8_t)(remote >> (24 - 8 * i));
	}
}

/* A report for a shard still loading: keep it for ppp_pppd_settled. */
static enum ppp_report_result ppp_pppd_hold(struct ppp_pppd *b,
					    const struct ppp_report_msg *m)
{
	if (!b->held) {
		b->held = calloc(PPP_PPPD_HELD_MAX, sizeof(*b->held));
		b->held_at_ms = calloc(PPP_PPPD_HELD_MAX, sizeof(uint64_t));
	}
	if (!b->held || !b->held_at_ms || b->n_held == PPP_PPPD_HELD_MAX)
		return PPP_REPORT_UNKNOWN_SESSION;
	b->held[b->n_held] = *m;
	b->held_at_ms[b->n_held++] = uv_now(b->loop);
	log_info("pppd address report held: its shard is loading",
		 "tid=%u sid=%u pid=%d", m->tid, m->sid, (int)m->pid);
	return PPP_REPORT_HELD;
}

static enum ppp_report_result ppp_pppd_report(void *ctx,
					      const struct ppp_report_msg *m);

void ppp_pppd_settled(struct ppp_pppd *b)
{
	unsigned n = b->n_held, kept = 0;
	uint64_t now = uv_now(b->loop);
	b->n_held = 0; /* what is still unsettled is held again below */
	for (unsigned i = 0; i < n; i++) {
		struct ppp_report_msg m = b->held[i];
		uint64_t at = b->held_at_ms[i];
		if (now - at > PPP_PPPD_HELD_MS) {
			b->rep.results[PPP_REPORT_UNKNOWN_SESSION]++;
			log_warn("held pppd address report dropped: its shard "
				 "never settled",
				 "tid=%u sid=%u pid=%d", m.tid, m.sid,
				 (int)m.pid);
			continue;
		}
		if (b->ops.unsettled && b->ops.unsettled(b->ops.ctx, m.tid)) {
			b->held[kept] = m;
			b->held_at_ms[kept++] = at;
			continue;
		}
		enum ppp_report_result res = ppp_pppd_report(b, &m);
		b->rep.results[res]++;
		log_info("held pppd address report applied",
			 "tid=%u sid=%u "
			 "result=%s",
			 m.tid, m.sid, ppp_report_result_name(res));
	}
	b->n_held = kept;
}

/* The ip-up hook of session (m->tid, m->sid)'s pppd says what IPCP
 * negotiated: what pppd settled on wins over what we asked for (a radius
 * Framed-IP-Address, say), so it goes into the record, and a pool address
 * it replaces goes back to the pool. */
static enum ppp_report_result ppp_pppd_report(void *ctx,
					      const struct ppp_report_msg *m)
{
	struct ppp_pppd *b = ctx;
	struct session *s =
		b->ops.find ? b->ops.find(b->ops.ctx, m->tid, m->sid) : NULL;
	char loc[16], rem[16], was[16] = "-", owner[16];
	uint32_t old_remote = 0;
	if (!s && b->ops.unsettled && b->ops.unsettled(b->ops.ctx, m->tid))
		return ppp_pppd_hold(b, m);
	if (!s || !s->ppp)
		return PPP_REPORT_UNKNOWN_SESSION;
	/* Only the pppd we run for the session: a late report from one that
	 * ended, or from anything else, must not move its addresses. */
	if (ppp_pppd_session_pid(s) != m->pid)
		return PPP_REPORT_WRONG_PID;
	ppp_pool_addr_text(m->local, loc, sizeof(loc));
	ppp_pool_addr_text(m->remote, rem, sizeof(rem));
	if (s->ppp_family == 4 && ppp_pppd_addr4(s->ppp_local) == m->local &&
	    ppp_pppd_addr4(s->ppp_remote) == m->remote) {
		log_debug("pppd confirmed the PPP addresses",
			  "tid=%u sid=%u local=%s remote=%s ifname=%s", m->tid,
			  m->sid, loc, rem, LOG_Q(m->ifname));
		return PPP_REPORT_UNCHANGED;
	}
	bool pooled = ppp_pppd_in_pool(b, s, &old_remote);
	if (s->ppp_family == 4)
		ppp_pool_addr_text(ppp_pppd_addr4(s->ppp_remote), was,
				   sizeof(was));
	ppp_pppd_set_addrs(s, m->local, m->remote);
	tunnel_session_changed(s->tunnel, s); /* into the next checkpoint */
	log_info("PPP addresses learned from pppd",
		 "tid=%u sid=%u local=%s remote=%s ifname=%s pid=%d was=%s",
		 m->tid, m->sid, loc, rem, LOG_Q(m->ifname), (int)m->pid, was);
	if (pooled && old_remote != m->remote) {
		/* The pool's address is not in use: give it back. */
		snprintf(owner, sizeof(owner), "%u/%u", m->tid, m->sid);
		ppp_pool_release(b->ss, &b->cfg.pool, old_remote, owner);
		b->stats.pool_replaced++;
	}
	uint32_t in;
	if (ppp_pppd_in_pool(b, s, &in) && in != old_remote)
		log_warn("negotiated address lies in ppp_pool: the pool may "
			 "give it to another session",
			 "tid=%u sid=%u remote=%s pool=%s", m->tid, m->sid, rem,
			 LOG_Q(b->cfg.pool.name));
	return PPP_REPORT_LEARNED;
}

/* Refusal causes that pass (RFC 2661 4.4.2 result 4) or not (5). */
static uint16_t ppp_pppd_refusal(int rc)
{
	return rc == -EAGAIN || rc == -ENOMEM || rc == -EMFILE ||
			       rc == -ENFILE || rc == -ENOSPC || rc == -EIO
		       ? L2TP_CDN_NO_FACILITIES_TEMP
		       : L2TP_CDN_NO_FACILITIES_PERM;
}

static void ppp_pppd_alloc_done(void *arg, int status, uint32_t addr)
{
	struct ppp_pppd_sess *ps = arg;
	struct ppp_pppd *b = ps->b;
	struct session *s = ps->s;
	char owner[16], txt[16];
	ppp_pppd_owner(ps, owner, sizeof(owner));
	ppp_pool_addr_text(addr, txt, sizeof(txt));
	if (status == 0)
		b->stats.pool_allocs++;
	else
		b->stats.pool_failed++;
	if (!s) {
		/* Closed meanwhile: give it back; detached: the record's new
		 * owner asks for it again and gets the same one. */
		if (status == 0 && ps->release)
			ppp_pool_release(b->ss, &b->cfg.pool, addr, owner);
	} else if (status < 0) {
		LOG_RL(LOG_LEVEL_WARN, "no PPP address for the session",
		       "tid=%u sid=%u pool=%s err=%s", ps->tid, ps->sid,
		       LOG_Q(b->cfg.pool.name),
		       status == -ENOSPC ? "exhausted" : "redis");
		/* The call was accepted: clear it, "try later" (4.4.2). */
		ppp_pppd_hangup(ps, L2TP_CDN_NO_FACILITIES_TEMP, 0);
	} else {
		ppp_pppd_set_addrs(s, b->cfg.pool.local, addr);
		tunnel_session_changed(s->tunnel, s); /* pinned in Redis */
		log_info("PPP address assigned", "tid=%u sid=%u remote=%s",
			 ps->tid, ps->sid, txt);
		int rc = ppp_pppd_start(ps);
		if (rc < 0)
			ppp_pppd_hangup(ps, ppp_pppd_refusal(rc), 0);
	}
	ps->alloc_pending = false;
	ppp_pppd_maybe_free(ps);
}

static int ppp_pppd_open(void *ctx, struct session *s)
{
	struct ppp_pppd *b = ctx;
	if (!b->usable) {
		b->stats.refused++;
		return -ENODEV;
	}
	struct ppp_pppd_sess *ps = calloc(1, sizeof(*ps));
	if (!ps) {
		b->stats.refused++;
		return -ENOMEM;
	}
	ps->b = b;
	ps->s = s;
	ps->tid = s->tunnel->tid;
	ps->sid = s->sid;
	ps->master = -1;
	hdlc_rx_init(&ps->rx, ps->rxbuf, sizeof(ps->rxbuf), 0);
	ps->next = b->sessions;
	if (b->sessions)
		b->sessions->prev = ps;
	b->sessions = ps;
	s->ppp = ps;
	ps->adopted_pidfd = -1;
	int rc, pid;
	int fd = b->ho_on ? ppp_handover_take(&b->ho, ps->tid, ps->sid, &pid)
			  : -ENOENT;
	if (fd >= 0) {
		rc = ppp_pppd_adopt(ps, fd, pid);
		if (rc == 0)
			return 0;
	} else if (b->cfg.have_pool && s->ppp_family == 0) {
		/* A new session, or one whose address never reached its
		 * record: the pool answers with the owner's address if any. */
		char owner[16];
		ppp_pppd_owner(ps, owner, sizeof(owner));
		rc = ppp_pool_alloc(b->ss, &b->cfg.pool, owner,
				    ppp_pppd_alloc_done, ps);
		if (rc == 0) {
			ps->alloc_pending = true;
			return 0;
		}
		rc = -EAGAIN; /* Redis unreachable: try later */
	} else {
		rc = ppp_pppd_start(ps);
		if (rc == 0)
			return 0;
	}
	/* Refused: the caller clears the session without calling close, so
	 * an address it held goes back here. */
	b->stats.refused++;
	ppp_pppd_stop(ps);
	uint32_t remote;
	if (ppp_pppd_in_pool(b, s, &remote)) {
		char owner[16];
		snprintf(owner, sizeof(owner), "%u/%u", s->tunnel->tid, s->sid);
		ppp_pool_release(b->ss, &b->cfg.pool, remote, owner);
	}
	return rc;
}

static void ppp_pppd_close(void *ctx, struct session *s)
{
	struct ppp_pppd *b = ctx;
	struct ppp_pppd_sess *ps = s->ppp;
	uint32_t remote;
	char owner[16];
	if (ps) {
		ps->release = true;
		ppp_pppd_stop(ps);
	}
	if (ppp_pppd_in_pool(b, s, &remote)) {
		snprintf(owner, sizeof(owner), "%u/%u", s->tunnel->tid, s->sid);
		ppp_pool_release(b->ss, &b->cfg.pool, remote, owner);
	}
}

static void ppp_pppd_detach(void *ctx, struct session *s)
{
	(void)ctx;
	if (s->ppp)
		ppp_pppd_stop(s->ppp);
}

static void ppp_pppd_frame(void *ctx, struct session *s, const uint8_t *frame,
			   size_t len)
{
	struct ppp_pppd *b = ctx;
	struct ppp_pppd_sess *ps = s->ppp;
	if (!ps || ps->master < 0 || len > PPP_PPPD_FRAME_MAX) {
		b->stats.frames_dropped++;
		return;
	}
	/* Every control octet escaped: correct before and after LCP, and a
	 * pty does not care about the extra bytes. */
	int n = hdlc_encode(frame, len, HDLC_ACCM_ALL, true, ppp_pppd_txbuf,
			    sizeof(ppp_pppd_txbuf));
	if (n < 0) {
		b->stats.frames_dropped++;
		return;
	}
	/* A frame that does not fit whole is lost (PPP copes); a partial
	 * write is cut off by the next frame's opening flag. */
	ssize_t w = write(ps->master, ppp_pppd_txbuf, (size_t)n);
	if (w == n)
		b->stats.frames_in++;
	else
		b->stats.frames_dropped++;
}

void ppp_pppd_init(struct ppp_pppd *b, uv_loop_t *loop, struct statestore *ss,
		   const struct ppp_pppd_cfg *cfg,
		   const struct ppp_pppd_ops *ops)
{
	memset(b, 0, sizeof(*b));
	b->loop = loop;
	b->ss = ss;
	b->cfg = *cfg;
	b->ops = *ops;
	b->usable = access(cfg->dev_ppp, R_OK | W_OK) == 0;
	if (!b->usable) {
		log_error("no /dev/ppp: PPP sessions will be refused",
			  "dev=%s err=%s", LOG_Q(cfg->dev_ppp),
			  LOG_Q(strerror(errno)));
		return;
	}
	if (access(cfg->pppd_path, X_OK) != 0)
		log_warn("pppd not executable: sessions will fail",
			 "pppd=%s err=%s", LOG_Q(cfg->pppd_path),
			 LOG_Q(strerror(errno)));
	if (cfg->handover_id[0]) {
		int rc = ppp_handover_listen(&b->ho, loop, cfg->handover_prefix,
					     cfg->handover_id);
		b->ho_on = rc == 0;
		b->ho.stale = ppp_pppd_ho_stale;
		b->ho.stale_ctx = b;
		if (rc < 0)
			log_warn("no pppd hand-over socket: a drain makes PPP "
				 "renegotiate",
				 "err=%s", LOG_Q(strerror(-rc)));
	}
	if (!cfg->handover_id[0] || !cfg->hook_path[0])
		return;
	if (access(cfg->hook_path, X_OK) != 0) {
		log_warn("no pppd ip-up hook: addresses pppd negotiates stay "
			 "unknown",
			 "hook=%s err=%s", LOG_Q(cfg->hook_path),
			 LOG_Q(strerror(errno)));
		return;
	}
	int rc = ppp_report_listen(&b->rep, loop, cfg->handover_prefix,
				   cfg->handover_id, ppp_pppd_report, b);
	b->rep_on = rc == 0;
	if (rc < 0)
		log_warn("no pppd report socket: addresses pppd negotiates "
			 "stay unknown",
			 "err=%s", LOG_Q(strerror(-rc)));
}

void ppp_pppd_free(struct ppp_pppd *b)
{
	if (b->ho_on)
		ppp_handover_close(&b->ho);
	b->ho_on = false;
	if (b->rep_on)
		ppp_report_close(&b->rep);
	b->rep_on = false;
	free(b->held);
	free(b->held_at_ms);
	b->held = NULL;
	b->held_at_ms = NULL;
	b->n_held = 0;
	/* pppds whose ptys we handed on are still our children, watched to
	 * be reaped; we stop now and leave them to init */
	for (struct ppp_pppd_sess *ps = b->sessions, *next; ps; ps = next) {
		next = ps->next;
		if (!ps->proc_on || !ps->handed)
			continue;
		ps->proc_on = false;
		b->stats.running--;
		ppp_pppd_close_handle(ps, (uv_handle_t *)&ps->proc);
	}
}

struct ppp_backend ppp_pppd_backend(struct ppp_pppd *b)
{
	return (struct ppp_backend){.open = ppp_pppd_open,
				    .close = ppp_pppd_close,
				    .frame = ppp_pppd_frame,
				    .detach = ppp_pppd_detach,
				    .ctx = b};
}
