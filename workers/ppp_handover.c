/* pty hand-over between workers on one host (see ppp_handover.h). Messages
 * are SOCK_SEQPACKET datagrams `1 tid=<tid> sid=<sid> pid=<pid>` carrying
 * one descriptor; only a sender with our uid is served. */
#include "ppp_handover.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "log.h"

static socklen_t ppp_handover_addr(struct sockaddr_un *a, const char *prefix,
				   const char *id)
{
	memset(a, 0, sizeof(*a));
	a->sun_family = AF_UNIX;
	/* abstract namespace: sun_path[0] = 0, no file to clean up */
	int n = snprintf(a->sun_path + 1, sizeof(a->sun_path) - 1,
			 "tandem-ppp/%s/%s", prefix, id);
	if (n < 0 || (size_t)n >= sizeof(a->sun_path) - 1)
		n = (int)sizeof(a->sun_path) - 2;
	return (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 +
			   (size_t)n);
}

static void ppp_handover_drop(struct ppp_handover *h, unsigned i)
{
	close(h->entries[i].fd);
	h->entries[i] = h->entries[--h->n_entries];
}

/* An entry whose session already has its own pppd here: close it now
 * rather than after PPP_HANDOVER_KEEP_MS, so that a hand-over that raced a
 * lease flap leaves one pppd per session, the owner's. */
static bool ppp_handover_superseded(struct ppp_handover *h, unsigned i)
{
	const struct ppp_handover_entry *e = &h->entries[i];
	if (!h->stale || !h->stale(h->stale_ctx, e))
		return false;
	log_warn("handed-over pty superseded: the session runs another pppd "
		 "here; closing it",
		 "tid=%u sid=%u pid=%d", e->tid, e->sid, e->pid);
	h->superseded++;
	ppp_handover_drop(h, i);
	return true;
}

static void ppp_handover_sweep(uv_timer_t *t)
{
	struct ppp_handover *h = t->data;
	uint64_t now = uv_now(h->loop);
	for (unsigned i = 0; i < h->n_entries;) {
		if (ppp_handover_superseded(h, i))
			continue;
		if (h->entries[i].expires_ms > now) {
			i++;
			continue;
		}
		log_warn("handed-over pty never claimed: closing it",
			 "tid=%u sid=%u pid=%d", h->entries[i].tid,
			 h->entries[i].sid, h->entries[i].pid);
		h->expired++;
		ppp_handover_drop(h, i);
	}
}

static void ppp_handover_store(struct ppp_handover *h, uint16_t tid,
			       uint16_t sid, int pid, int fd)
{
	if (h->n_entries == h->cap_entries) {
		unsigned cap = h->cap_entries ? 2 * h->cap_entries : 16;
		struct ppp_handover_entry *e =
			realloc(h->entries, cap * sizeof(*e));
		if (!e) {
			close(fd);
			return;
		}
		h->entries = e;
		h->cap_entries = cap;
	}
	h->entries[h->n_entries++] = (struct ppp_handover_entry){
		.tid = tid,
		.sid = sid,
		.pid = pid,
		.fd = fd,
		.expires_ms = uv_now(h->loop) + PPP_HANDOVER_KEEP_MS};
	h->received++;
	log_debug("pty handed over to us", "tid=%u sid=%u pid=%d", tid, sid,
		  pid);
	ppp_handover_superseded(h, h->n_entries - 1);
}

static void ppp_handover_conn_closed(uv_handle_t *hd)
{
	struct ppp_handover *h = hd->data;
	h->cfd[(uv_poll_t *)hd - h->cpoll] = -1; /* the slot is free now */
}

static void ppp_handover_conn_close(struct ppp_handover *h, unsigned i)
{
	uv_poll_stop(&h->cpoll[i]);
	uv_close((uv_handle_t *)&h->cpoll[i], ppp_handover_conn_closed);
	close(h->cfd[i]);
	h->cfd[i] = -2; /* closing */
}

static void ppp_handover_readable(uv_poll_t *p, int status, int events)
{
	struct ppp_handover *h = p->data;
	unsigned i = (unsigned)(p - h->cpoll);
	(void)events;
	while (status == 0) {
		char text[64];
		union {
			struct cmsghdr h;
			char buf[CMSG_SPACE(sizeof(int))];
		} ctl;
		struct iovec iov = {text, sizeof(text) - 1};
		struct msghdr m = {.msg_iov = &iov,
				   .msg_iovlen = 1,
				   .msg_control = ctl.buf,
				   .msg_controllen = sizeof(ctl.buf)};
		ssize_t n =
			recvmsg(h->cfd[i], &m, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			return;
		if (n <= 0)
			break;
		text[n] = '\0';
		int fd = -1;
		struct cmsghdr *c = CMSG_FIRSTHDR(&m);
		if (c && c->cmsg_level == SOL_SOCKET &&
		    c->cmsg_type == SCM_RIGHTS &&
		    c->cmsg_len == CMSG_LEN(sizeof(int)))
			memcpy(&fd, CMSG_DATA(c), sizeof(int));
		unsigned tid, sid;
		int pid;
		if (fd >= 0 &&
		    sscanf(text, "1 tid=%u sid=%u pid=%d", &tid, &sid, &pid) ==
			    3 &&
		    tid < 65536 && sid < 65536)
			ppp_handover_store(h, (uint16_t)tid, (uint16_t)sid, pid,
					   fd);
		else if (fd >= 0)
			close(fd);
	}
	ppp_handover_conn_close(h, i);
}

static void ppp_handover_accept(uv_poll_t *p, int status, int events)
{
	struct ppp_handover *h = p->data;
	(void)events;
	if (status < 0)
		return;
	for (;;) {
		int fd = accept4(h->lfd, NULL, NULL,
				 SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0)
			return;
		struct ucred cr;
		socklen_t crl = sizeof(cr);
		unsigned i = 0;
		while (i < PPP_HANDOVER_CONNS && h->cfd[i] != -1)
			i++;
		if (i == PPP_HANDOVER_CONNS ||
		    getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cr, &crl) < 0 ||
		    cr.uid != getuid()) {
			close(fd);
			continue;
		}
		h->cfd[i] = fd;
		uv_poll_init(h->loop, &h->cpoll[i], fd);
		h->cpoll[i].data = h;
		uv_unref((uv_handle_t *)&h->cpoll[i]);
		uv_poll_start(&h->cpoll[i], UV_READABLE, ppp_handover_readable);
	}
}

int ppp_handover_listen(struct ppp_handover *h, uv_loop_t *loop,
			const char *prefix, const char *id)
{
	struct sockaddr_un a;
	socklen_t alen = ppp_handover_addr(&a, prefix, id);
	memset(h, 0, sizeof(*h));
	h->loop = loop;
	for (unsigned i = 0; i < PPP_HANDOVER_CONNS; i++)
		h->cfd[i] = -1;
	h->lfd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_NONBLOCK | SOCK_CLOEXEC,
			0);
	if (h->lfd < 0)
		return -errno;
	if (bind(h->lfd, (struct sockaddr *)&a, alen) < 0 ||
	    listen(h->lfd, 16) < 0) {
		int e = errno;
		close(h->lfd);
		h->lfd = -1;
		return -e;
	}
	uv_poll_init(loop, &h->lpoll, h->lfd);
	h->lpoll.data = h;
	uv_unref((uv_handle_t *)&h->lpoll);
	uv_poll_start(&h->lpoll, UV_READABLE, ppp_handover_accept);
	uv_timer_init(loop, &h->sweep);
	h->sweep.data = h;
	uv_unref((uv_handle_t *)&h->sweep);
	uv_timer_start(&h->sweep, ppp_handover_sweep, 1000, 1000);
	return 0;
}

int ppp_handover_connect(const char *prefix, const char *to)
{
	struct sockaddr_un a;
	socklen_t alen = ppp_handover_addr(&a, prefix, to);
	int fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (connect(fd, (struct sockaddr *)&a, alen) < 0) {
		int e = errno;
		close(fd);
		return -e;
	}
	return fd;
}

int ppp_handover_send(int sock, uint16_t tid, uint16_t sid, int pid, int fd)
{
	char text[64];
	union {
		struct cmsghdr h;
		char buf[CMSG_SPACE(sizeof(int))];
	} ctl;
	int n = snprintf(text, sizeof(text), "1 tid=%u sid=%u pid=%d", tid, sid,
			 pid);
	struct iovec iov = {text, (size_t)n};
	struct msghdr m = {.msg_iov = &iov,
			   .msg_iovlen = 1,
			   .msg_control = ctl.buf,
			   .msg_controllen = sizeof(ctl.buf)};
	memset(ctl.buf, 0, sizeof(ctl.buf));
	struct cmsghdr *c = CMSG_FIRSTHDR(&m);
	c->cmsg_level = SOL_SOCKET;
	c->cmsg_type = SCM_RIGHTS;
	c->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(c), &fd, sizeof(int));
	/* Blocking on a local socket: the receiver's buffer holds hundreds
	 * of these; a hand-off is rare and must not lose one. */
	return sendmsg(sock, &m, MSG_NOSIGNAL) == n ? 0 : -errno;
}

int ppp_handover_take(struct ppp_handover *h, uint16_t tid, uint16_t sid,
		      int *pid)
{
	for (unsigned i = 0; i < h->n_entries; i++) {
		struct ppp_handover_entry *e = &h->entries[i];
		if (e->tid != tid || e->sid != sid)
			continue;
		int fd = e->fd;
		*pid = e->pid;
		h->entries[i] = h->entries[--h->n_entries];
		h->claimed++;
		return fd;
	}
	return -ENOENT;
}

void ppp_handover_close(struct ppp_handover *h)
{
	if (h->lfd < 0)
		return;
	uv_poll_stop(&h->lpoll);
	uv_close((uv_handle_t *)&h->lpoll, NULL);
	close(h->lfd);
	h->lfd = -1;
	for (unsigned i = 0; i < PPP_HANDOVER_CONNS; i++)
		if (h->cfd[i] >= 0)
			ppp_handover_conn_close(h, i);
	uv_timer_stop(&h->sweep);
	uv_close((uv_handle_t *)&h->sweep, NULL);
	while (h->n_entries)
		ppp_handover_drop(h, 0);
	free(h->entries);
	h->entries = NULL;
	h->cap_entries = 0;
}
