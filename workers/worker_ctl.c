/* The worker's control socket (docs/CLUSTERCTL.md, "Control protocol"): a
 * ZeroMQ ROUTER bound on control_endpoint and driven from the loop like the
 * PULL socket; one versioned text request per message, answered at once:
 * status, drain, disconnect a tunnel or a session, move a shard to a peer. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <zmq.h>

#include "l2tp_const.h"
#include "log.h"
#include "worker.h"

#ifndef TANDEM_VERSION
#define TANDEM_VERSION "dev"
#endif

#define WORKER_CTL_VERSION   1	  /* the protocol version we speak */
#define WORKER_CTL_MAX	     512  /* bytes in one request or reply */
#define WORKER_CTL_FRAMES    8	  /* envelope frames + the body, at most */
#define WORKER_CTL_WORDS     8	  /* words in one request, at most */
#define WORKER_CTL_LINGER_MS 1000 /* a drain's reply outlives the stop */

/* One request being answered. */
struct worker_ctl_req {
	char buf[WORKER_CTL_MAX];     /* the request, NUL-terminated */
	char *word[WORKER_CTL_WORDS]; /* into buf: version, command, args */
	int n;			      /* words used */
	char reply[WORKER_CTL_MAX];   /* "1 ok ..." or "1 err <code> ..." */
	bool drain;		      /* drain once the reply is queued */
};

static void worker_ctl_reply(struct worker_ctl_req *q, const char *kind,
			     const char *fmt, va_list ap)
{
	int n = snprintf(q->reply, sizeof(q->reply), "%d %s ",
			 WORKER_CTL_VERSION, kind);
	vsnprintf(q->reply + n, sizeof(q->reply) - (size_t)n, fmt, ap);
}

static void worker_ctl_ok(struct worker_ctl_req *q, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static void worker_ctl_ok(struct worker_ctl_req *q, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	worker_ctl_reply(q, "ok", fmt, ap);
	va_end(ap);
}

/* code: one word a script can test (version, command, usage, no-tunnel,
 * no-session, not-owner, busy, state, no-peer, draining); then text. */
static void worker_ctl_err(struct worker_ctl_req *q, const char *code,
			   const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void worker_ctl_err(struct worker_ctl_req *q, const char *code,
			   const char *fmt, ...)
{
	va_list ap;
	int n = snprintf(q->reply, sizeof(q->reply), "%d err %s ",
			 WORKER_CTL_VERSION, code);
	va_start(ap, fmt);
	vsnprintf(q->reply + n, sizeof(q->reply) - (size_t)n, fmt, ap);
	va_end(ap);
}

/* A decimal in [min, max]: 0 or -EINVAL. */
static int worker_ctl_num(const char *s, unsigned long min, unsigned long max,
			  unsigned long *out)
{
	char *end;
	if (!s || *s < '0' || *s > '9')
		return -EINVAL;
	errno = 0;
	unsigned long v = strtoul(s, &end, 10);
	if (errno || *end || v < min || v > max)
		return -EINVAL;
	*out = v;
	return 0;
}

/* The tunnel named by word k, if this worker serves it now; else the
 * error is in q->reply. */
static struct worker_tunnel *worker_ctl_tunnel(struct worker *w,
					       struct worker_ctl_req *q, int k)
{
	unsigned long tid;
	if (worker_ctl_num(q->word[k], 1, 65535, &tid) < 0) {
		worker_ctl_err(q, "usage", "bad tunnel ID %s (1-65535)",
			       q->word[k]);
		return NULL;
	}
	unsigned shard = (unsigned)tid / w->shard_size;
	const struct worker_shard *sh = &w->shards[shard];
	struct worker_tunnel *wt = w->tunnels[tid];
	if (!sh->owned && !sh->confirming)
		worker_ctl_err(q, "not-owner",
			       "shard %u of tunnel %lu is not owned here",
			       shard, tid);
	else if (sh->loading && !wt)
		worker_ctl_err(q, "busy", "shard %u is loading, try again",
			       shard);
	else if (!wt || wt->freeing)
		worker_ctl_err(q, "no-tunnel", "no tunnel %lu here", tid);
	else if (sh->confirming)
		worker_ctl_err(q, "busy",
			       "the lease of shard %u is being confirmed, "
			       "try again",
			       shard);
	else
		return wt;
	return NULL;
}

static void worker_ctl_status(struct worker *w, struct worker_ctl_req *q)
{
	unsigned long long sessions = 0;
	for (unsigned tid = 1; tid < 65536; tid++)
		if (w->tunnels[tid])
			sessions += w->tunnels[tid]->t.n_sessions;
	worker_ctl_ok(q,
		      "id=%s shards=%u tunnels=%u sessions=%llu draining=%d "
		      "stopping=%d protected=%d handoffs_pending=%u peers=%u "
		      "parked=%u handoffs=%llu takeovers=%llu version=%s",
		      w->id, worker_owned(w), w->n_tunnels, sessions,
		      w->draining, w->stopping, w->protected_mode,
		      w->handoffs_pending, w->n_peers, w->n_parked,
		      (unsigned long long)w->stats.handoffs,
		      (unsigned long long)w->stats.takeovers, TANDEM_VERSION);
}

/* Same as SIGTERM; the answer goes out before the drain starts, because a
 * worker with nothing to hand off stops at once. */
static void worker_ctl_drain(struct worker *w, struct worker_ctl_req *q)
{
	worker_ctl_ok(q, "draining shards=%u tunnels=%u", worker_owned(w),
		      w->n_tunnels);
	q->drain = true;
}

/* StopCCN. The default result is 1, "general request to clear control
 * connection" (RFC 2661 4.4.2): the LNS goes on serving and the LAC may
 * reconnect; 6, "requester is being shut down", would tell it this LNS is
 * going away, which an operator can still ask for. */
static void worker_ctl_disconnect_tunnel(struct worker *w,
					 struct worker_ctl_req *q)
{
	unsigned long result = L2TP_STOPCCN_CLEAR;
	struct worker_tunnel *wt = worker_ctl_tunnel(w, q, 2);
	if (!wt)
		return;
	if (q->n > 3 && worker_ctl_num(q->word[3], 1, 7, &result) < 0) {
		worker_ctl_err(q, "usage",
			       "bad StopCCN result code %s (1-7, RFC 2661 "
			       "4.4.2)",
			       q->word[3]);
		return;
	}
	struct tunnel *t = &wt->t;
	enum tunnel_state was = t->state;
	unsigned sessions = t->n_sessions;
	tunnel_close(t, (uint16_t)result, 0, "administrative disconnect",
		     uv_now(w->loop));
	if (t->state == was) {
		worker_ctl_err(q, "state", "tunnel %u is %s: nothing to close",
			       t->tid, tunnel_state_name(was));
		return;
	}
	log_info("tunnel disconnected by operator",
		 "tid=%u peer_tid=%u result=%lu sessions=%u", t->tid,
		 t->peer_tid, result, sessions);
	worker_ctl_ok(q, "stopccn tid=%u result=%lu name=%s sessions=%u",
		      t->tid, result, l2tp_stopccn_result_name(result),
		      sessions);
	worker_tunnel_after(w, wt);
}

/* CDN, result 3 by default: "call disconnected for administrative
 * reasons" (RFC 2661 4.4.2). */
static void worker_ctl_disconnect_session(struct worker *w,
					  struct worker_ctl_req *q)
{
	unsigned long sid, result = L2TP_CDN_ADMIN;
	struct worker_tunnel *wt = worker_ctl_tunnel(w, q, 2);
	if (!wt)
		return;
	struct tunnel *t = &wt->t;
	if (worker_ctl_num(q->word[3], 1, 65535, &sid) < 0) {
		worker_ctl_err(q, "usage", "bad session ID %s (1-65535)",
			       q->word[3]);
		return;
	}
	if (q->n > 4 && worker_ctl_num(q->word[4], 1, 11, &result) < 0) {
		worker_ctl_err(q, "usage",
			       "bad CDN result code %s (1-11, RFC 2661 4.4.2)",
			       q->word[4]);
		return;
	}
	struct session *s = tunnel_session_find(t, (uint16_t)sid);
	if (!s) {
		worker_ctl_err(q, "no-session", "no session %u/%lu here",
			       t->tid, sid);
		return;
	}
	if (t->state != TUNNEL_ESTABLISHED ||
	    (s->state != SESSION_ESTABLISHED &&
	     s->state != SESSION_WAIT_CONNECT)) {
		worker_ctl_err(q, "state",
			       "session %u/%lu is %s in a %s tunnel", t->tid,
			       sid, session_state_name(s->state),
			       tunnel_state_name(t->state));
		return;
	}
	uint16_t peer_sid = s->peer_sid;
	tunnel_session_close(t, s, (uint16_t)result, 0, uv_now(w->loop));
	log_info("session disconnected by operator",
		 "tid=%u sid=%lu peer_sid=%u result=%lu", t->tid, sid, peer_sid,
		 result);
	worker_ctl_ok(q, "cdn tid=%u sid=%lu result=%lu name=%s", t->tid, sid,
		      result, l2tp_cdn_result_name(result));
	worker_tunnel_after(w, wt);
}

static void worker_ctl_move_shard(struct worker *w, struct worker_ctl_req *q)
{
	unsigned long shard;
	const char *to = q->word[3];
	if (worker_ctl_num(q->word[2], 0, (unsigned long)w->cfg.shard_count - 1,
			   &shard) < 0) {
		worker_ctl_err(q, "usage", "bad shard %s (0-%d)", q->word[2],
			       w->cfg.shard_count - 1);
		return;
	}
	const struct worker_shard *sh = &w->shards[shard];
	if (w->draining || w->stopping) {
		worker_ctl_err(q, "draining",
			       "this worker is draining: every shard is being "
			       "handed off");
		return;
	}
	if (sh->handing) {
		worker_ctl_err(q, "busy", "shard %lu is being handed off",
			       shard);
		return;
	}
	if (!sh->owned) {
		worker_ctl_err(q, "not-owner", "shard %lu is not owned here",
			       shard);
		return;
	}
	if (sh->loading || sh->confirming) {
		worker_ctl_err(q, "busy", "shard %lu is %s, try again", shard,
			       sh->loading ? "loading" : "being confirmed");
		return;
	}
	if (!strcmp(to, w->id)) {
		worker_ctl_err(q, "usage", "shard %lu is already owned by %s",
			       shard, to);
		return;
	}
	unsigned tunnels = sh->tunnels;
	int rc = worker_move_shard(w, (unsigned)shard, to);
	if (rc == -ENOENT) {
		worker_ctl_err(q, "no-peer",
			       "worker %s is not a live peer (registered, "
			       "alive and not draining)",
			       to);
		return;
	}
	if (rc < 0) {
		worker_ctl_err(q, "busy",
			       "the hand-off of shard %lu could not be queued "
			       "(%s)",
			       shard, strerror(-rc));
		return;
	}
	log_info("shard moved by operator", "shard=%lu to=%s tunnels=%u", shard,
		 LOG_Q(to), tunnels);
	worker_ctl_ok(q, "moving shard=%lu to=%s tunnels=%u", shard, to,
		      tunnels);
}

static const struct {
	const char *name; /* request word 1 */
	int min_args;	  /* words after the name */
	int max_args;
	const char *usage; /* for "err usage" */
	void (*run)(struct worker *w, struct worker_ctl_req *q);
} worker_ctl_cmds[] = {
	{"status", 0, 0, "status", worker_ctl_status},
	{"drain", 0, 0, "drain", worker_ctl_drain},
	{"disconnect-tunnel", 1, 2, "disconnect-tunnel <tid> [result]",
	 worker_ctl_disconnect_tunnel},
	{"disconnect-session", 2, 3, "disconnect-session <tid> <sid> [result]",
	 worker_ctl_disconnect_session},
	{"move-shard", 2, 2, "move-shard <shard> <worker>",
	 worker_ctl_move_shard},
};

#define WORKER_CTL_N_CMDS (sizeof(worker_ctl_cmds) / sizeof(worker_ctl_cmds[0]))

/* Answer one request body of len bytes into q->reply. */
static void worker_ctl_handle(struct worker *w, const char *body, size_t len,
			      struct worker_ctl_req *q)
{
	char *buf = q->buf;
	if (len >= sizeof(q->buf)) {
		worker_ctl_err(q, "usage", "request longer than %zu bytes",
			       sizeof(q->buf) - 1);
		return;
	}
	memcpy(buf, body, len);
	buf[len] = '\0';
	if (strlen(buf) != len) {
		worker_ctl_err(q, "usage", "NUL byte in the request");
		return;
	}
	char *save = NULL;
	for (char *p = strtok_r(buf, " \t\r\n", &save); p;
	     p = strtok_r(NULL, " \t\r\n", &save)) {
		if (q->n == WORKER_CTL_WORDS) {
			worker_ctl_err(q, "usage", "too many words");
			return;
		}
		q->word[q->n++] = p;
	}
	if (q->n == 0 || strcmp(q->word[0], "1") != 0) {
		worker_ctl_err(q, "version",
			       "unsupported protocol version %s (this worker "
			       "speaks %d)",
			       q->n ? q->word[0] : "(none)",
			       WORKER_CTL_VERSION);
		return;
	}
	size_t i = 0;
	while (q->n > 1 && i < WORKER_CTL_N_CMDS &&
	       strcmp(worker_ctl_cmds[i].name, q->word[1]) != 0)
		i++;
	if (q->n < 2 || i == WORKER_CTL_N_CMDS) {
		worker_ctl_err(q, "command",
			       "unknown command %s (status, drain, "
			       "disconnect-tunnel, disconnect-session, "
			       "move-shard)",
			       q->n < 2 ? "(none)" : q->word[1]);
		return;
	}
	int args = q->n - 2;
	if (args < worker_ctl_cmds[i].min_args ||
	    args > worker_ctl_cmds[i].max_args) {
		worker_ctl_err(q, "usage", "usage: %d %s", WORKER_CTL_VERSION,
			       worker_ctl_cmds[i].usage);
		return;
	}
	worker_ctl_cmds[i].run(w, q);
}

/* Send the envelope frames (identity, and the empty delimiter of a REQ
 * client) back with the reply as the last frame. Frames are closed. */
static void worker_ctl_send(struct worker *w, zmq_msg_t *frames, int n,
			    const char *reply)
{
	int i = 0;
	for (; i < n; i++)
		if (zmq_msg_send(&frames[i], w->ctl,
				 ZMQ_SNDMORE | ZMQ_DONTWAIT) < 0)
			break;
	for (int k = i; k < n; k++)
		zmq_msg_close(&frames[k]);
	if (i == n)
		zmq_send(w->ctl, reply, strlen(reply), ZMQ_DONTWAIT);
}

/* One message off the socket, answered: 0, or -EAGAIN when there is none.
 * A message is delivered whole, so every frame of it is there. */
static int worker_ctl_one(struct worker *w)
{
	static struct worker_ctl_req q;
	zmq_msg_t frames[WORKER_CTL_FRAMES], extra;
	int n = 0;
	bool more = true, malformed = false;
	while (more) {
		zmq_msg_t *m = n < WORKER_CTL_FRAMES ? &frames[n] : &extra;
		zmq_msg_init(m);
		if (zmq_msg_recv(m, w->ctl, ZMQ_DONTWAIT) < 0) {
			zmq_msg_close(m);
			malformed = n > 0;
			break;
		}
		more = zmq_msg_more(m);
		if (m == &extra) {
			/* more frames than any client sends: unanswered */
			zmq_msg_close(m);
			malformed = true;
		} else {
			n++;
		}
	}
	if (n == 0)
		return -EAGAIN;
	memset(&q, 0, sizeof(q));
	zmq_msg_t *body = &frames[n - 1];
	if (n < 2 || malformed)
		worker_ctl_err(&q, "usage", "malformed request message");
	else
		worker_ctl_handle(w, zmq_msg_data(body), zmq_msg_size(body),
				  &q);
	if (strncmp(q.reply, "1 ok", 4) != 0 || q.drain)
		LOG_RL(LOG_LEVEL_INFO, "control request answered",
		       "request=%s reply=%s", LOG_Q(q.n > 1 ? q.word[1] : "?"),
		       LOG_Q(q.reply));
	zmq_msg_close(body);
	if (n >= 2 && !malformed) {
		worker_ctl_send(w, frames, n - 1, q.reply);
	} else {
		for (int k = 0; k < n - 1; k++)
			zmq_msg_close(&frames[k]);
	}
	if (q.drain)
		worker_drain(w); /* may stop the worker and close w->ctl */
	return 0;
}

/* ZMQ_FD is edge-triggered: read until ZMQ_EVENTS shows nothing. */
static void worker_ctl_readable(uv_poll_t *h, int status, int events)
{
	struct worker *w = h->data;
	(void)status;
	(void)events;
	while (w->ctl) {
		int ev = 0;
		size_t elen = sizeof(ev);
		if (zmq_getsockopt(w->ctl, ZMQ_EVENTS, &ev, &elen) < 0 ||
		    !(ev & ZMQ_POLLIN) || worker_ctl_one(w) < 0)
			return;
	}
}

int worker_ctl_init(struct worker *w)
{
	int linger = WORKER_CTL_LINGER_MS;
	w->ctl = zmq_socket(w->zctx, ZMQ_ROUTER);
	if (!w->ctl)
		return -errno;
	zmq_setsockopt(w->ctl, ZMQ_LINGER, &linger, sizeof(linger));
	if (zmq_bind(w->ctl, w->cfg.control_endpoint) < 0) {
		int e = errno;
		log_error("cannot bind control_endpoint", "endpoint=%s err=%s",
			  LOG_Q(w->cfg.control_endpoint),
			  LOG_Q(zmq_strerror(e)));
		return -e;
	}
	size_t len = sizeof(w->control);
	zmq_getsockopt(w->ctl, ZMQ_LAST_ENDPOINT, w->control, &len);
	int fd;
	size_t fdlen = sizeof(fd);
	if (zmq_getsockopt(w->ctl, ZMQ_FD, &fd, &fdlen) < 0)
		return -errno;
	int rc = uv_poll_init(w->loop, &w->ctl_poll, fd);
	if (rc < 0)
		return rc;
	w->ctl_poll.data = w;
	return uv_poll_start(&w->ctl_poll, UV_READABLE, worker_ctl_readable);
}

void worker_ctl_close(struct worker *w)
{
	if (!w->ctl)
		return;
	uv_poll_stop(&w->ctl_poll);
	uv_close((uv_handle_t *)&w->ctl_poll, NULL);
	zmq_close(w->ctl);
	w->ctl = NULL;
}
