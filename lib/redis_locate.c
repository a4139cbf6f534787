/* Finding the Redis primary through Sentinel (lib/redis_locate.h). */
#include "redis_locate.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <hiredis/hiredis.h>

static void redis_primary_set(struct redis_primary *p, const char *host,
			      uint16_t port)
{
	snprintf(p->host, sizeof(p->host), "%s", host);
	p->port = port;
	snprintf(p->text, sizeof(p->text),
		 strchr(host, ':') ? "[%s]:%u" : "%s:%u", host, port);
}

/* Append "addr: what; " to err. */
static void redis_locate_note(char *err, size_t errlen, const char *addr,
			      const char *what)
{
	size_t used = strnlen(err, errlen);
	if (used + 1 < errlen)
		snprintf(err + used, errlen - used, "%s%s: %s",
			 used ? "; " : "", addr, what);
}

/* Field `key` of a Sentinel instance reply (a flat array of name, value,
 * name, value...), or NULL. */
static const char *redis_sentinel_field(const redisReply *r, const char *key)
{
	if (!r || r->type != REDIS_REPLY_ARRAY)
		return NULL;
	for (size_t i = 0; i + 1 < r->elements; i += 2)
		if (r->element[i]->type == REDIS_REPLY_STRING &&
		    r->element[i + 1]->type == REDIS_REPLY_STRING &&
		    strcmp(r->element[i]->str, key) == 0)
			return r->element[i + 1]->str;
	return NULL;
}

/* Does the server at host:port answer ROLE "master" within tv? */
static bool redis_says_master(const char *host, int port, struct timeval tv)
{
	redisContext *c = redisConnectWithTimeout(host, port, tv);
	bool yes = false;
	if (c && !c->err) {
		redisSetTimeout(c, tv);
		redisReply *r = redisCommand(c, "ROLE");
		yes = redis_role_is_master(r);
		freeReplyObject(r);
	}
	redisFree(c);
	return yes;
}

/* The primary this Sentinel names is down in its eyes (s_down or o_down):
 * a failover is under way, and Sentinel names the new primary only once
 * its next INFO of the promoted replica confirms the promotion (up to 1 s
 * later). A replica it lists that already answers ROLE "master" is that
 * promoted replica (while its primary is down, nothing else turns a
 * replica into a primary): *out becomes it, and we return 1. A returning
 * old primary that still says "master" is not taken: its Sentinel lists it
 * as the primary, up, or as a replica of a primary that is up. No replica
 * promoted yet: -EAGAIN when a quorum of Sentinels agrees the primary is
 * down (o_down; dialing it would only wait out a time-out), else 0 (one
 * Sentinel's view alone does not keep us from the primary it names). */
static int redis_promoted_replica(redisContext *c, const char *name,
				  struct timeval tv, struct redis_primary *out)
{
	redisReply *m = redisCommand(c, "SENTINEL master %s", name);
	const char *flags = redis_sentinel_field(m, "flags");
	bool quorum = flags && strstr(flags, "o_down");
	bool down = quorum || (flags && strstr(flags, "s_down"));
	freeReplyObject(m);
	if (!down)
		return 0;
	redisReply *rs = redisCommand(c, "SENTINEL replicas %s", name);
	bool found = false;
	for (size_t i = 0;
	     rs && rs->type == REDIS_REPLY_ARRAY && i < rs->elements && !found;
	     i++) {
		const redisReply *e = rs->element[i];
		const char *ip = redis_sentinel_field(e, "ip");
		const char *port = redis_sentinel_field(e, "port");
		const char *f = redis_sentinel_field(e, "flags");
		long p = port ? strtol(port, NULL, 10) : 0;
		if (!ip || p <= 0 || p > 65535 || !f || strstr(f, "s_down") ||
		    strstr(f, "disconnected"))
			continue;
		if (redis_says_master(ip, (int)p, tv)) {
			redis_primary_set(out, ip, (uint16_t)p);
			found = true;
		}
	}
	freeReplyObject(rs);
	if (found)
		return 1;
	return quorum ? -EAGAIN : 0;
}

/* One Sentinel: 0 and *out, or -EHOSTUNREACH / -ENOENT / -EAGAIN with a
 * note. */
static int redis_ask_sentinel(const struct config_addr *a, const char *name,
			      uint32_t timeout_ms, struct redis_primary *out,
			      char *err, size_t errlen)
{
	struct timeval tv = {.tv_sec = timeout_ms / 1000,
			     .tv_usec = (timeout_ms % 1000) * 1000};
	redisContext *c = redisConnectWithTimeout(a->host, a->port, tv);
	if (!c || c->err) {
		redis_locate_note(err, errlen, a->text,
				  c ? c->errstr : "out of memory");
		redisFree(c);
		return -EHOSTUNREACH;
	}
	redisSetTimeout(c, tv);
	int rc = -EHOSTUNREACH;
	redisReply *r =
		redisCommand(c, "SENTINEL get-master-addr-by-name %s", name);
	if (!r) {
		redis_locate_note(err, errlen, a->text, c->errstr);
	} else if (r->type == REDIS_REPLY_ARRAY && r->elements == 2 &&
		   r->element[0]->type == REDIS_REPLY_STRING &&
		   r->element[1]->type == REDIS_REPLY_STRING) {
		long port = strtol(r->element[1]->str, NULL, 10);
		if (port > 0 && port < 65536) {
			redis_primary_set(out, r->element[0]->str,
					  (uint16_t)port);
			rc = 0;
			if (redis_promoted_replica(c, name, tv, out) ==
			    -EAGAIN) {
				redis_locate_note(err, errlen, a->text,
						  "primary down, failover "
						  "under way");
				rc = -EAGAIN;
			}
		} else {
			redis_locate_note(err, errlen, a->text,
					  "answered a bad port");
		}
	} else if (r->type == REDIS_REPLY_NIL) {
		char what[CONFIG_STR_MAX + 32];
		snprintf(what, sizeof(what), "does not monitor \"%s\"", name);
		redis_locate_note(err, errlen, a->text, what);
		rc = -ENOENT;
	} else {
		redis_locate_note(
			err, errlen, a->text,
			r->type == REDIS_REPLY_ERROR
				? r->str
				: "unexpected reply (not a Sentinel?)");
	}
	freeReplyObject(r);
	redisFree(c);
	return rc;
}

int redis_locate(const struct config *cfg, uint32_t timeout_ms, unsigned *first,
		 struct redis_primary *out, char *err, size_t errlen)
{
	const struct config_addrs *s = &cfg->redis_sentinels;
	if (errlen)
		err[0] = '\0';
	if (s->n == 0) {
		redis_primary_set(out, cfg->redis.host, cfg->redis.port);
		return 0;
	}
	unsigned start = first ? *first % s->n : 0;
	int rc = -EHOSTUNREACH;
	for (unsigned i = 0; i < s->n; i++) {
		unsigned k = (start + i) % s->n;
		int r = redis_ask_sentinel(&s->addr[k], cfg->redis_master_name,
					   timeout_ms, out, err, errlen);
		if (r == 0 || r == -EAGAIN) {
			if (first)
				*first = k;
			return r;
		}
		if (r == -ENOENT)
			rc = r;
	}
	return rc;
}

bool redis_role_is_master(const void *role_reply)
{
	const redisReply *r = role_reply;
	return r && r->type == REDIS_REPLY_ARRAY && r->elements > 0 &&
	       r->element[0]->type == REDIS_REPLY_STRING &&
	       strcmp(r->element[0]->str, "master") == 0;
}

/* ---- the loop side ---- */

static void redis_locator_work(uv_work_t *w)
{
	struct redis_locator *l = w->data;
	l->status = redis_locate(&l->cfg, l->timeout_ms, &l->first, &l->next,
				 l->err, sizeof(l->err));
}

static void redis_locator_done(uv_work_t *w, int status)
{
	struct redis_locator *l = w->data;
	l->busy = false;
	if (status < 0) /* cancelled */
		l->status = status;
	else if (l->status == 0)
		l->primary = l->next;
	if (!l->closing && l->cb)
		l->cb(l->arg, l->status);
}

void redis_locator_init(struct redis_locator *l, uv_loop_t *loop,
			const struct config *cfg, uint32_t timeout_ms)
{
	memset(l, 0, sizeof(*l));
	l->loop = loop;
	l->cfg = *cfg;
	l->timeout_ms = timeout_ms;
	l->work.data = l;
	redis_primary_set(&l->primary, cfg->redis.host, cfg->redis.port);
}

int redis_locator_find(struct redis_locator *l, redis_locator_cb *cb, void *arg)
{
	if (l->busy)
		return -EBUSY;
	l->cb = cb;
	l->arg = arg;
	if (!redis_locator_follows(l)) {
		l->status = 0;
		cb(arg, 0);
		return 0;
	}
	l->busy = true;
	int rc = uv_queue_work(l->loop, &l->work, redis_locator_work,
			       redis_locator_done);
	if (rc < 0)
		l->busy = false;
	return rc;
}
