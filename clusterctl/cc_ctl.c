/* clusterctl's side of the worker control protocol (docs/CLUSTERCTL.md,
 * "Control protocol"): find a worker's control endpoint in P:workers or the
 * owner of a shard, send one request over a ZeroMQ REQ socket and wait for
 * the answer a bounded time (zmq_poll), then read key=value words of it. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <zmq.h>

#include "clusterctl.h"
#include "kv_text.h"

uint64_t cc_now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

void cc_sleep_ms(uint32_t ms)
{
	struct timespec ts = {.tv_sec = ms / 1000,
			      .tv_nsec = (long)(ms % 1000) * 1000000};
	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

int cc_ctl_worker(struct cc *cc, const char *id, struct cc_proc *out)
{
	struct cc_cluster cl;
	int rc = cc_cluster_load(cc, &cl, CC_LOAD_PROCS);
	const struct cc_proc *p = rc == 0 ? cc_cluster_worker(&cl, id) : NULL;
	if (rc == 0 && !p) {
		cc_err("no worker %s in %s:workers", id, cc->cfg.redis_prefix);
		rc = -ENOENT;
	}
	if (p)
		*out = *p;
	cc_cluster_free(&cl);
	return rc;
}

int cc_ctl_owner(struct cc *cc, unsigned shard, struct cc_proc *out)
{
	struct cc_shard lease;
	int rc = cc_cluster_lease(cc, shard, &lease);
	if (rc < 0)
		return rc;
	if (!lease.owner[0]) {
		cc_err("shard %u has no owner now (its lease lapsed: a "
		       "takeover is under way?); try again",
		       shard);
		return -EAGAIN;
	}
	return cc_ctl_worker(cc, lease.owner, out);
}

/* Send body to endpoint and wait up to timeout_ms for one answer. */
static int cc_ctl_exchange(const char *endpoint, const char *body,
			   uint32_t timeout_ms, char *reply, size_t cap)
{
	int rc = -EIO, linger = 0;
	void *ctx = zmq_ctx_new();
	void *s = ctx ? zmq_socket(ctx, ZMQ_REQ) : NULL;
	if (!s)
		goto fail;
	zmq_setsockopt(s, ZMQ_LINGER, &linger, sizeof(linger));
	if (zmq_connect(s, endpoint) < 0 ||
	    zmq_send(s, body, strlen(body), 0) < 0)
		goto fail;
	zmq_pollitem_t item = {.socket = s, .events = ZMQ_POLLIN};
	int n = zmq_poll(&item, 1, (long)timeout_ms);
	if (n == 0) {
		rc = -ETIMEDOUT;
		goto fail;
	}
	int len = n > 0 ? zmq_recv(s, reply, cap - 1, ZMQ_DONTWAIT) : -1;
	if (len < 0)
		goto fail;
	reply[(size_t)len < cap - 1 ? (size_t)len : cap - 1] = '\0';
	rc = 0;
fail:
	if (rc == -EIO)
		cc_err("cannot talk to control endpoint %s: %s", endpoint,
		       zmq_strerror(errno));
	if (s)
		zmq_close(s);
	if (ctx)
		zmq_ctx_term(ctx);
	return rc;
}

int cc_ctl_ask(struct cc *cc, const struct cc_proc *w, uint32_t timeout_ms,
	       char *reply, size_t cap, const char *fmt, ...)
{
	char body[CC_CTL_MAX], raw[CC_CTL_MAX], secs[32];
	va_list ap;
	(void)cc;
	if (!w->control[0] || strcmp(w->control, "-") == 0) {
		cc_err("worker %s has no control socket (control=-): a build "
		       "from before the control protocol?",
		       w->id);
		return -ENOENT;
	}
	int n = snprintf(body, sizeof(body), "%d ", CC_CTL_VERSION);
	va_start(ap, fmt);
	vsnprintf(body + n, sizeof(body) - (size_t)n, fmt, ap);
	va_end(ap);
	int rc =
		cc_ctl_exchange(w->control, body, timeout_ms, raw, sizeof(raw));
	if (rc == -ETIMEDOUT) {
		cc_err("worker %s did not answer within %s (control %s%s)",
		       w->id, cc_fmt_s(timeout_ms, secs, sizeof(secs)),
		       w->control,
		       w->alive ? ""
				: "; its alive key is gone: stopped "
				  "or dead?");
		return rc;
	}
	if (rc < 0)
		return rc;
	if (strncmp(raw, "1 ok", 4) == 0 && (!raw[4] || raw[4] == ' ')) {
		snprintf(reply, cap, "%s", raw[4] ? raw + 5 : "");
		return 0;
	}
	if (strncmp(raw, "1 err ", 6) == 0) {
		snprintf(reply, cap, "%s", raw + 6);
		return -EPROTO;
	}
	cc_err("worker %s answered something this clusterctl does not read: "
	       "%.80s",
	       w->id, raw);
	snprintf(reply, cap, "reply unreadable");
	return -EBADMSG;
}

bool cc_ctl_err_is(const char *reply, const char *code)
{
	size_t n = strlen(code);
	return strncmp(reply, code, n) == 0 &&
	       (reply[n] == ' ' || reply[n] == '\0');
}

void cc_ctl_say_err(const char *worker, const char *reply)
{
	const char *text = strchr(reply, ' ');
	cc_err("worker %s: %s", worker, text ? text + 1 : reply);
}

int cc_ctl_field(const char *reply, const char *key, char *out, size_t cap)
{
	char v[CC_CTL_MAX + 2];
	snprintf(v, sizeof(v), "1 %s", reply);
	return kv_text_field(v, key, out, cap);
}

int64_t cc_ctl_field_int(const char *reply, const char *key)
{
	char v[32], *end;
	if (cc_ctl_field(reply, key, v, sizeof(v)) < 0 || !v[0])
		return -1;
	long long n = strtoll(v, &end, 10);
	return *end || n < 0 ? -1 : n;
}
