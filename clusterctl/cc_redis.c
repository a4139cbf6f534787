/* clusterctl's Redis access: one synchronous hiredis connection with a
 * time-out, single commands, pipelined rounds of commands, and SCAN (never
 * KEYS: it would stall a Redis that the workers checkpoint into). */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>

#include <hiredis/hiredis.h>

#include "clusterctl.h"
#include "redis_locate.h"

/* The connection broke or timed out: say so once. Returns -EIO. */
static int cc_redis_lost(struct cc *cc)
{
	static bool said;
	const redisContext *c = cc->rc;
	if (said)
		return -EIO;
	said = true;
	if (c && c->err == REDIS_ERR_IO &&
	    (errno == EAGAIN || errno == EWOULDBLOCK))
		cc_err("Redis at %s did not answer within %u ms",
		       cc->cfg.redis.text, cc->timeout_ms);
	else
		cc_err("lost Redis at %s: %s", cc->cfg.redis.text,
		       c && c->err ? c->errstr : "connection closed");
	return -EIO;
}

int cc_redis_connect(struct cc *cc)
{
	uint32_t ms = cc->cfg.redis_timeout_ms;
	if (ms < CC_MIN_TIMEOUT_MS)
		ms = CC_MIN_TIMEOUT_MS;
	cc->timeout_ms = ms;
	struct timeval tv = {.tv_sec = ms / 1000,
			     .tv_usec = (suseconds_t)(ms % 1000) * 1000};
	if (cc->cfg.redis_sentinels.n) {
		/* Ask the Sentinels; from here on `redis` names the primary
		 * they gave, in every message too. */
		struct redis_primary p;
		char err[REDIS_LOCATE_ERR_MAX];
		if (redis_locate(&cc->cfg, ms, NULL, &p, err, sizeof(err)) <
		    0) {
			cc_err("no Redis primary for \"%s\" from the "
			       "Sentinels: %s",
			       cc->cfg.redis_master_name, err);
			return -EIO;
		}
		memset(&cc->cfg.redis, 0, sizeof(cc->cfg.redis));
		snprintf(cc->cfg.redis.host, sizeof(cc->cfg.redis.host), "%s",
			 p.host);
		snprintf(cc->cfg.redis.text, sizeof(cc->cfg.redis.text), "%s",
			 p.text);
		cc->cfg.redis.port = p.port;
	}
	cc->rc = redisConnectWithTimeout(cc->cfg.redis.host,
					 (int)cc->cfg.redis.port, tv);
	if (!cc->rc || cc->rc->err) {
		cc_err("cannot reach Redis at %s: %s", cc->cfg.redis.text,
		       cc->rc ? cc->rc->errstr : "out of memory");
		cc_redis_close(cc);
		return -EIO;
	}
	if (redisSetTimeout(cc->rc, tv) != REDIS_OK) {
		cc_err("cannot set a time-out on the Redis connection");
		cc_redis_close(cc);
		return -EIO;
	}
	if (cc->cfg.redis_password[0]) {
		const char *argv[] = {"AUTH", cc->cfg.redis_password};
		redisReply *r = cc_redis_cmd(cc, 2, argv);
		if (!r)
			return -EIO;
		if (r->type == REDIS_REPLY_ERROR) {
			cc_err("Redis at %s refused AUTH: %s",
			       cc->cfg.redis.text, r->str);
			freeReplyObject(r);
			return -EIO;
		}
		freeReplyObject(r);
	}
	return 0;
}

void cc_redis_close(struct cc *cc)
{
	if (cc->rc)
		redisFree(cc->rc);
	cc->rc = NULL;
}

void cc_redis_key(const struct cc *cc, char *buf, size_t len, const char *fmt,
		  ...)
{
	va_list ap;
	int n = snprintf(buf, len, "%s:", cc->cfg.redis_prefix);
	if (n < 0 || (size_t)n >= len)
		return;
	va_start(ap, fmt);
	vsnprintf(buf + n, len - (size_t)n, fmt, ap);
	va_end(ap);
}

struct redisReply *cc_redis_cmd(struct cc *cc, int argc, const char **argv)
{
	redisReply *r =
		cc->rc ? redisCommandArgv(cc->rc, argc, argv, NULL) : NULL;
	if (!r)
		cc_redis_lost(cc);
	return r;
}

void cc_redis_free(struct redisReply *r)
{
	if (r)
		freeReplyObject(r);
}

int cc_redis_check(struct cc *cc, const struct redisReply *r)
{
	if (!r)
		return -EIO; /* cc_redis_lost said why */
	if (r->type != REDIS_REPLY_ERROR)
		return 0;
	cc_err("Redis at %s answered: %s", cc->cfg.redis.text, r->str);
	return -EIO;
}

int cc_redis_append(struct cc *cc, int argc, const char **argv)
{
	if (!cc->rc)
		return -EIO;
	return redisAppendCommandArgv(cc->rc, argc, argv, NULL) == REDIS_OK
		       ? 0
		       : -ENOMEM;
}

int cc_redis_pipeline(struct cc *cc, size_t n, cc_redis_build_fn *build,
		      cc_redis_done_fn *done, void *arg)
{
	static unsigned counts[CC_BATCH]; /* commands of each item this round */
	int stop = 0;
	for (size_t i = 0; i < n && !stop;) {
		size_t first = i, queued = 0;
		while (i < n && i - first < CC_BATCH && queued < CC_BATCH) {
			int c = build(cc, arg, i);
			if (c < 0) {
				stop = c;
				break;
			}
			counts[i - first] = (unsigned)c;
			queued += (size_t)c;
			i++;
		}
		/* Read every queued reply, even after a stop, so that the
		 * connection stays in step. */
		for (size_t k = first; k < i; k++) {
			for (unsigned m = 0; m < counts[k - first]; m++) {
				void *v = NULL;
				if (redisGetReply(cc->rc, &v) != REDIS_OK)
					return cc_redis_lost(cc);
				int rc = stop ? 0 : cc_redis_check(cc, v);
				if (!rc && !stop && done)
					rc = done(arg, k, m, v);
				freeReplyObject(v);
				if (rc && !stop)
					stop = rc;
			}
		}
	}
	return stop;
}

int cc_redis_scan(struct cc *cc, const char *pattern, cc_redis_key_fn *each,
		  void *arg)
{
	char match[2 * CC_KEY_MAX], cursor[32] = "0", count[16];
	size_t k = 0, plen = strlen(cc->cfg.redis_prefix);
	/* The prefix is literal: escape what SCAN MATCH would read as glob. */
	for (const char *p = cc->cfg.redis_prefix; *p && k + 2 < CC_KEY_MAX;
	     p++) {
		if (strchr("*?[]\\", *p))
			match[k++] = '\\';
		match[k++] = *p;
	}
	snprintf(match + k, sizeof(match) - k, ":%s", pattern);
	snprintf(count, sizeof(count), "%d", CC_SCAN_COUNT);
	do {
		const char *argv[] = {"SCAN", cursor,  "MATCH",
				      match,  "COUNT", count};
		redisReply *r = cc_redis_cmd(cc, 6, argv);
		if (!r)
			return -EIO;
		if (r->type != REDIS_REPLY_ARRAY || r->elements != 2 ||
		    r->element[0]->type != REDIS_REPLY_STRING ||
		    r->element[1]->type != REDIS_REPLY_ARRAY) {
			cc_err("unexpected SCAN reply from Redis: %s",
			       r->type == REDIS_REPLY_ERROR ? r->str : "?");
			freeReplyObject(r);
			return -EIO;
		}
		snprintf(cursor, sizeof(cursor), "%s", r->element[0]->str);
		const redisReply *keys = r->element[1];
		int rc = 0;
		for (size_t i = 0; i < keys->elements && !rc; i++) {
			const redisReply *e = keys->element[i];
			if (e->type == REDIS_REPLY_STRING && e->len > plen + 1)
				rc = each(arg, e->str + plen + 1);
		}
		freeReplyObject(r);
		if (rc)
			return rc;
	} while (strcmp(cursor, "0") != 0);
	return 0;
}

const char *cc_reply_str(const struct redisReply *r, size_t *len)
{
	if (!r || r->type != REDIS_REPLY_STRING)
		return NULL;
	if (len)
		*len = r->len;
	return r->str;
}

int64_t cc_reply_int(const struct redisReply *r, int64_t dflt)
{
	if (r && r->type == REDIS_REPLY_INTEGER)
		return r->integer;
	if (r && r->type == REDIS_REPLY_STRING && r->len > 0) {
		char *end;
		errno = 0;
		long long v = strtoll(r->str, &end, 10);
		if (!errno && *end == '\0')
			return v;
	}
	return dflt;
}
