/* Reports from pppd's ip-up hook (see ppp_report.h): one datagram each,
 * with the sender's credentials (SO_PASSCRED), decoded, handed to the
 * owner, counted and answered. Never blocks: replies that do not fit the
 * hook's buffer are dropped (the hook logs a time-out). */
#include "ppp_report.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "log.h"

#define PPP_REPORT_BATCH 32 /* datagrams read per wakeup */

static const char *const ppp_report_names[] = {
#define PPP_REPORT_X(name, label) label,
	PPP_REPORT_RESULTS(PPP_REPORT_X)
#undef PPP_REPORT_X
};

const char *ppp_report_result_name(enum ppp_report_result res)
{
	return (unsigned)res < PPP_REPORT__COUNT ? ppp_report_names[res]
						 : "unknown";
}

/* The sender's uid from SCM_CREDENTIALS; false when none came. */
static bool ppp_report_sender(struct msghdr *m, uid_t *uid)
{
	for (struct cmsghdr *c = CMSG_FIRSTHDR(m); c; c = CMSG_NXTHDR(m, c))
		if (c->cmsg_level == SOL_SOCKET &&
		    c->cmsg_type == SCM_CREDENTIALS &&
		    c->cmsg_len == CMSG_LEN(sizeof(struct ucred))) {
			struct ucred cr;
			memcpy(&cr, CMSG_DATA(c), sizeof(cr));
			*uid = cr.uid;
			return true;
		}
	return false;
}

/* One datagram: decode, apply, count, answer, log. */
static void ppp_report_one(struct ppp_report *r, const uint8_t *buf, size_t n,
			   bool truncated, struct msghdr *m,
			   const struct sockaddr_un *from)
{
	struct ppp_report_msg msg;
	enum ppp_report_result res;
	uid_t uid = (uid_t)-1;
	memset(&msg, 0, sizeof(msg));
	if (!ppp_report_sender(m, &uid) || (uid != 0 && uid != getuid()))
		res = PPP_REPORT_DENIED;
	else if (truncated || ppp_report_msg_decode(buf, n, &msg) < 0)
		res = PPP_REPORT_MALFORMED;
	else
		res = r->cb(r->ctx, &msg);
	r->results[res]++;
	bool ok = res == PPP_REPORT_LEARNED || res == PPP_REPORT_UNCHANGED ||
		  res == PPP_REPORT_HELD;
	if (!ok && res != PPP_REPORT_MALFORMED && res != PPP_REPORT_DENIED)
		LOG_RL(LOG_LEVEL_WARN, "pppd address report dropped",
		       "reason=%s tid=%u sid=%u pid=%d",
		       ppp_report_result_name(res), msg.tid, msg.sid,
		       (int)msg.pid);
	else if (!ok)
		LOG_RL(LOG_LEVEL_WARN, "pppd address report dropped",
		       "reason=%s uid=%ld len=%zu", ppp_report_result_name(res),
		       (long)uid, n);
	/* The hook waits for this to log what happened; an unbound sender
	 * (no name to answer to) gets nothing. */
	if (m->msg_namelen <= offsetof(struct sockaddr_un, sun_path))
		return;
	char reply[48];
	int len = snprintf(reply, sizeof(reply), "%d %s %s",
			   PPP_REPORT_MSG_VERSION, ok ? "ok" : "error",
			   ppp_report_result_name(res));
	(void)sendto(r->fd, reply, (size_t)len, MSG_DONTWAIT | MSG_NOSIGNAL,
		     (const struct sockaddr *)from, m->msg_namelen);
}

static void ppp_report_readable(uv_poll_t *p, int status, int events)
{
	struct ppp_report *r = p->data;
	(void)events;
	if (status < 0)
		return;
	for (int i = 0; i < PPP_REPORT_BATCH; i++) {
		uint8_t buf[PPP_REPORT_MSG_MAX + 1];
		union {
			struct cmsghdr h;
			char buf[CMSG_SPACE(sizeof(struct ucred))];
		} ctl;
		struct sockaddr_un from;
		struct iovec iov = {buf, sizeof(buf)};
		struct msghdr m = {.msg_name = &from,
				   .msg_namelen = sizeof(from),
				   .msg_iov = &iov,
				   .msg_iovlen = 1,
				   .msg_control = ctl.buf,
				   .msg_controllen = sizeof(ctl.buf)};
		ssize_t n = recvmsg(r->fd, &m, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
		if (n < 0)
			return; /* EAGAIN, or nothing we can do about it */
		/* longer than any report: cut, and refused as malformed */
		bool truncated = (m.msg_flags & MSG_TRUNC) ||
				 (size_t)n > PPP_REPORT_MSG_MAX;
		ppp_report_one(r, buf, (size_t)n, truncated, &m, &from);
	}
}

int ppp_report_listen(struct ppp_report *r, uv_loop_t *loop, const char *prefix,
		      const char *id, ppp_report_cb cb, void *ctx)
{
	struct sockaddr_un a;
	socklen_t alen;
	int one = 1, rc;
	memset(r, 0, sizeof(*r));
	r->loop = loop;
	r->cb = cb;
	r->ctx = ctx;
	r->fd = -1;
	int n = snprintf(r->name, sizeof(r->name), "@tandem-ppp-report/%s/%s",
			 prefix, id);
	if (n < 0 || (size_t)n >= sizeof(r->name))
		return -ENAMETOOLONG;
	if ((rc = ppp_report_msg_sockaddr(r->name, &a, &alen)) < 0)
		return rc;
	r->fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (r->fd < 0)
		return -errno;
	if (setsockopt(r->fd, SOL_SOCKET, SO_PASSCRED, &one, sizeof(one)) < 0 ||
	    bind(r->fd, (struct sockaddr *)&a, alen) < 0) {
		rc = -errno;
		goto fail;
	}
	if ((rc = uv_poll_init(loop, &r->poll, r->fd)) < 0)
		goto fail;
	r->poll.data = r;
	uv_unref((uv_handle_t *)&r->poll);
	uv_poll_start(&r->poll, UV_READABLE, ppp_report_readable);
	return 0;
fail:
	close(r->fd);
	r->fd = -1;
	return rc;
}

void ppp_report_close(struct ppp_report *r)
{
	if (r->fd < 0)
		return;
	uv_poll_stop(&r->poll);
	uv_close((uv_handle_t *)&r->poll, NULL);
	close(r->fd);
	r->fd = -1;
}
