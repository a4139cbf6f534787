/* Redis (statestore/SCHEMA.md): a command link reads P:shardmap, P:workers
 * and keeps our P:frontends entry; a subscriber link on P:events keeps the map
 * fresh. Redis away: route with the last map, reconnect with back-off. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <hiredis/async.h>
#include <hiredis/hiredis.h>

#include "frontend.h"
#include "redis_uv.h"

#ifndef TANDEM_VERSION
#define TANDEM_VERSION "dev"
#endif

#define FRONTEND_REDIS_RETRY_MIN_MS 100
#define FRONTEND_REDIS_RETRY_MAX_MS 5000
/* Following Sentinel a lost link most likely means a failover: ask again
 * soon (statestore.c does the same). */
#define FRONTEND_REDIS_RETRY_MAX_SENTINEL_MS 250
#define FRONTEND_REDIS_WATCHDOG_MS	     100
#define FRONTEND_REDIS_KEY_MAX		     (CONFIG_STR_MAX + FRONTEND_ID_MAX + 32)

typedef void frontend_redis_cb(struct frontend *fe, const redisReply *r,
			       void *arg);

struct frontend_redis_req {
	struct frontend_redis_req *prev; /* older */
	struct frontend_redis_req *next; /* newer */
	struct frontend *fe;		 /* owner */
	uint64_t sent_ms;		 /* loop time it was sent */
	frontend_redis_cb *cb;		 /* may be NULL; reply NULL = lost */
	void *arg;			 /* its argument */
};

static void frontend_redis_connect(struct frontend *fe,
				   struct frontend_redis_conn *c);

static int frontend_redis_key(const struct frontend *fe, char *buf, size_t len,
			      const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static int frontend_redis_key(const struct frontend *fe, char *buf, size_t len,
			      const char *fmt, ...)
{
	va_list ap;
	int n = snprintf(buf, len, "%s:", fe->cfg.redis_prefix);
	if (n < 0 || (size_t)n >= len)
		return -ENAMETOOLONG;
	va_start(ap, fmt);
	int m = vsnprintf(buf + n, len - (size_t)n, fmt, ap);
	va_end(ap);
	return (m < 0 || (size_t)(n + m) >= len) ? -ENAMETOOLONG : 0;
}

/* ---- link state: one log line per change ---- */

static void frontend_redis_up(struct frontend *fe)
{
	struct frontend_redis *r = &fe->redis;
	if (!r->cmd.connected || !r->sub.ready || r->state == 1)
		return;
	r->state = 1;
	r->reconnects++;
	log_info("redis connected", "redis=%s", LOG_Q(r->where.primary.text));
}

static void frontend_redis_down(struct frontend *fe, const char *why)
{
	if (fe->redis.state == 0 || fe->stopping)
		return;
	fe->redis.state = 0;
	log_warn("redis unreachable: routing with the last shard map",
		 "redis=%s err=%s shards_owned=%u",
		 LOG_Q(fe->redis.where.primary.text), LOG_Q(why),
		 frontend_map_owned(&fe->map));
}

/* ---- connections ---- */

static struct frontend_redis_conn *
frontend_redis_conn_of(struct frontend *fe, const redisAsyncContext *ac)
{
	if (ac && ac == fe->redis.cmd.ac)
		return &fe->redis.cmd;
	if (ac && ac == fe->redis.sub.ac)
		return &fe->redis.sub;
	return NULL; /* a context we already dropped */
}

static void frontend_redis_retry_cb(uv_timer_t *t)
{
	struct frontend_redis_conn *c = t->data;
	frontend_redis_connect(c->fe, c);
}

static void frontend_redis_retry(struct frontend *fe,
				 struct frontend_redis_conn *c)
{
	if (fe->stopping)
		return;
	c->retry_ms =
		c->retry_ms ? c->retry_ms * 2 : FRONTEND_REDIS_RETRY_MIN_MS;
	uint32_t max = redis_locator_follows(&fe->redis.where)
			       ? FRONTEND_REDIS_RETRY_MAX_SENTINEL_MS
			       : FRONTEND_REDIS_RETRY_MAX_MS;
	if (c->retry_ms > max)
		c->retry_ms = max;
	uv_timer_start(&c->retry, frontend_redis_retry_cb, c->retry_ms, 0);
}

/* Forget c's context and free it (pending callbacks run with a NULL reply;
 * inside one of its own callbacks hiredis defers the free). */
static void frontend_redis_drop(struct frontend *fe,
				struct frontend_redis_conn *c, const char *why)
{
	redisAsyncContext *ac = c->ac;
	if (!ac)
		return;
	c->ac = NULL;
	c->connected = false;
	c->ready = false;
	fe->redis.located = false;
	redisAsyncFree(ac);
	if (!fe->stopping) {
		frontend_redis_down(fe, why);
		frontend_redis_retry(fe, c);
	}
}

static void frontend_redis_on_disconnect(const redisAsyncContext *ac,
					 int status)
{
	struct frontend *fe = ac->data;
	struct frontend_redis_conn *c = frontend_redis_conn_of(fe, ac);
	(void)status;
	if (!c)
		return;
	c->ac = NULL; /* hiredis frees it after this callback */
	c->connected = false;
	c->ready = false;
	fe->redis.located = false;
	if (fe->stopping)
		return;
	frontend_redis_down(fe,
			    ac->errstr[0] ? ac->errstr : "connection closed");
	frontend_redis_retry(fe, c);
}

/* ---- commands on the command connection ---- */

static void frontend_redis_unlink(struct frontend *fe,
				  struct frontend_redis_req *q)
{
	if (q->prev)
		q->prev->next = q->next;
	else
		fe->redis.head = q->next;
	if (q->next)
		q->next->prev = q->prev;
	else
		fe->redis.tail = q->prev;
}

/* The command connection reaches a replica (a stale Sentinel answer, or a
 * demoted primary): drop both links, find the primary again. */
static void frontend_redis_not_primary(struct frontend *fe, const char *why)
{
	LOG_RL(LOG_LEVEL_WARN, "redis is not the primary: looking again",
	       "redis=%s why=%s", fe->redis.where.primary.text, LOG_Q(why));
	frontend_redis_drop(fe, &fe->redis.cmd, "not the primary");
	frontend_redis_drop(fe, &fe->redis.sub, "not the primary");
}

static void frontend_redis_role(redisAsyncContext *ac, void *r, void *priv)
{
	struct frontend *fe = priv;
	if (r && ac == fe->redis.cmd.ac && !redis_role_is_master(r))
		frontend_redis_not_primary(fe, "ROLE is not master");
}

static void frontend_redis_reply(redisAsyncContext *ac, void *r, void *priv)
{
	struct frontend_redis_req *q = priv;
	struct frontend *fe = q->fe;
	const redisReply *reply = r;
	(void)ac;
	frontend_redis_unlink(fe, q);
	if (reply) /* Redis answers: back-off starts afresh next time */
		fe->redis.cmd.retry_ms = 0;
	if (reply && reply->type == REDIS_REPLY_ERROR)
		LOG_RL(LOG_LEVEL_WARN, "redis error reply", "err=%s",
		       LOG_Q(reply->str ? reply->str : ""));
	if (q->cb)
		q->cb(fe, reply, q->arg);
	free(q);
	if (reply && reply->type == REDIS_REPLY_ERROR && reply->str &&
	    !strncmp(reply->str, "READONLY", 8) && ac == fe->redis.cmd.ac)
		frontend_redis_not_primary(fe, reply->str);
}

/* Send argv on the command connection; replies come in order, so the list
 * of unanswered commands is a FIFO whose head the watchdog times. */
static int frontend_redis_send(struct frontend *fe, frontend_redis_cb *cb,
			       void *arg, int argc, const char **argv)
{
	struct frontend_redis_conn *c = &fe->redis.cmd;
	if (!c->ac || !c->connected)
		return -ENOTCONN;
	struct frontend_redis_req *q = calloc(1, sizeof(*q));
	if (!q)
		return -ENOMEM;
	q->fe = fe;
	q->sent_ms = uv_now(fe->loop);
	q->cb = cb;
	q->arg = arg;
	q->prev = fe->redis.tail;
	if (fe->redis.tail)
		fe->redis.tail->next = q;
	else
		fe->redis.head = q;
	fe->redis.tail = q;
	if (redisAsyncCommandArgv(c->ac, frontend_redis_reply, q, argc, argv,
				  NULL) != REDIS_OK) {
		frontend_redis_unlink(fe, q);
		free(q);
		return -EIO;
	}
	return 0;
}

/* Pointers to the (field, value) strings of an HGETALL reply; pairs that
 * are not two strings are skipped. Returns the pair count; *fields and
 * *values are one allocation (free *fields). */
static size_t frontend_redis_pairs(const redisReply *r, const char ***fields,
				   const char ***values)
{
	size_t n = 0, max = r->elements / 2;
	const char **f = calloc(max ? 2 * max : 1, sizeof(*f));
	*fields = f;
	*values = f ? f + max : NULL;
	for (size_t i = 0; f && i < max; i++) {
		const redisReply *k = r->element[2 * i];
		const redisReply *v = r->element[2 * i + 1];
		if (k->type != REDIS_REPLY_STRING ||
		    v->type != REDIS_REPLY_STRING)
			continue;
		f[n] = k->str;
		f[max + n] = v->str;
		n++;
	}
	return f ? n : 0;
}

static void frontend_redis_fetch_shards(struct frontend *fe);
static void frontend_redis_fetch_workers(struct frontend *fe);

static void frontend_redis_shards_reply(struct frontend *fe,
					const redisReply *r, void *arg)
{
	struct frontend_redis_fetch *f = &fe->redis.shards;
	const char **fields, **values;
	(void)arg;
	f->in_flight = false;
	if (fe->stopping)
		return;
	if (r && r->type == REDIS_REPLY_ARRAY) {
		size_t n = frontend_redis_pairs(r, &fields, &values);
		size_t refused =
			frontend_map_load_shards(&fe->map, n, fields, values);
		free(fields);
		if (refused)
			LOG_RL(LOG_LEVEL_WARN, "shard map entries refused",
			       "refused=%zu", refused);
		if (!fe->redis.map_loaded)
			log_info("shard map loaded",
				 "entries=%zu owned=%u "
				 "shards=%u workers=%u",
				 n, frontend_map_owned(&fe->map),
				 fe->map.shard_count,
				 frontend_map_listed(&fe->map));
		else
			log_debug("shard map reloaded", "entries=%zu owned=%u",
				  n, frontend_map_owned(&fe->map));
		fe->redis.map_loaded = true;
	}
	/* An event raced this read: the map may be older than the event. */
	if (f->again)
		frontend_redis_fetch_shards(fe);
}

static void frontend_redis_fetch_shards(struct frontend *fe)
{
	struct frontend_redis_fetch *f = &fe->redis.shards;
	char key[FRONTEND_REDIS_KEY_MAX];
	if (f->in_flight) {
		f->again = true;
		return;
	}
	frontend_redis_key(fe, key, sizeof(key), "shardmap");
	const char *argv[] = {"HGETALL", key};
	f->again = false;
	if (frontend_redis_send(fe, frontend_redis_shards_reply, NULL, 2,
				argv) == 0)
		f->in_flight = true;
}

static void frontend_redis_workers_reply(struct frontend *fe,
					 const redisReply *r, void *arg)
{
	struct frontend_redis_fetch *f = &fe->redis.workers;
	const char **ids, **values;
	(void)arg;
	f->in_flight = false;
	if (fe->stopping)
		return;
	if (r && r->type == REDIS_REPLY_ARRAY) {
		size_t n = frontend_redis_pairs(r, &ids, &values);
		size_t refused =
			frontend_map_load_workers(&fe->map, n, ids, values);
		free(ids);
		if (refused)
			LOG_RL(LOG_LEVEL_WARN, "worker entries refused",
			       "refused=%zu", refused);
		log_debug("workers loaded", "entries=%zu listed=%u", n,
			  frontend_map_listed(&fe->map));
	}
	if (f->again)
		frontend_redis_fetch_workers(fe);
}

static void frontend_redis_fetch_workers(struct frontend *fe)
{
	struct frontend_redis_fetch *f = &fe->redis.workers;
	char key[FRONTEND_REDIS_KEY_MAX];
	if (f->in_flight) {
		f->again = true;
		return;
	}
	frontend_redis_key(fe, key, sizeof(key), "workers");
	const char *argv[] = {"HGETALL", key};
	f->again = false;
	if (frontend_redis_send(fe, frontend_redis_workers_reply, NULL, 2,
				argv) == 0)
		f->in_flight = true;
}

/* HSET P:frontends and SET P:frontend:<id>:alive; with announce, also
 * PUBLISH `1 frontend=<id> up`. */
static void frontend_redis_register(struct frontend *fe, bool announce)
{
	char key[FRONTEND_REDIS_KEY_MAX], alive[FRONTEND_REDIS_KEY_MAX],
		chan[FRONTEND_REDIS_KEY_MAX], val[768],
		ev[FRONTEND_ID_MAX + 32], ttl[16];
	frontend_redis_key(fe, key, sizeof(key), "frontends");
	frontend_redis_key(fe, alive, sizeof(alive), "frontend:%s:alive",
			   fe->id);
	frontend_redis_key(fe, chan, sizeof(chan), "events");
	char host[64] = "";
	gethostname(host, sizeof(host) - 1);
	snprintf(val, sizeof(val),
		 "1 endpoint=%s wire=%d listen=%s pid=%d host=%s version=%s "
		 "started=%lld",
		 fe->endpoint, WIRE_VERSION, fe->listen_text, (int)getpid(),
		 host, TANDEM_VERSION, (long long)fe->started_unix);
	snprintf(ttl, sizeof(ttl), "%d", FRONTEND_ALIVE_TTL_MS);
	snprintf(ev, sizeof(ev), "1 frontend=%s up", fe->id);
	const char *hset[] = {"HSET", key, fe->id, val};
	const char *set[] = {"SET", alive, "1", "PX", ttl};
	const char *pub[] = {"PUBLISH", chan, ev};
	frontend_redis_send(fe, NULL, NULL, 4, hset);
	frontend_redis_send(fe, NULL, NULL, 5, set);
	if (announce)
		frontend_redis_send(fe, NULL, NULL, 3, pub);
}

void frontend_redis_tick(struct frontend *fe)
{
	if (fe->redis.cmd.connected && !fe->stopping)
		frontend_redis_register(fe, false);
}

/* ---- events on the subscriber connection ---- */

static void frontend_redis_event(struct frontend *fe, const char *text)
{
	struct frontend_event ev;
	int rc = frontend_map_event_parse(text, &ev);
	if (rc < 0) {
		LOG_RL(LOG_LEVEL_WARN, "event ignored", "event=%s err=%s",
		       LOG_Q(text),
		       rc == -EPROTO ? "unknown version" : "malformed");
		return;
	}
	fe->redis.events++;
	switch (ev.kind) {
	case FRONTEND_EVENT_SHARD:
		if (fe->redis.shards.in_flight)
			fe->redis.shards.again = true;
		rc = frontend_map_set_shard(&fe->map, ev.shard, ev.owner,
					    ev.epoch);
		if (rc < 0)
			LOG_RL(LOG_LEVEL_WARN,
			       "shard event refused (shard_count differs "
			       "between processes?)",
			       "shard=%u owner=%s shard_count=%u err=%s",
			       ev.shard, LOG_Q(ev.owner), fe->map.shard_count,
			       LOG_Q(strerror(-rc)));
		else if (rc > 0)
			log_debug("shard owner changed",
				  "shard=%u owner=%s epoch=%llu", ev.shard,
				  LOG_Q(ev.owner[0] ? ev.owner : "-"),
				  (unsigned long long)ev.epoch);
		break;
	case FRONTEND_EVENT_WORKER:
		log_info(ev.up ? "worker up" : "worker down", "worker=%s",
			 LOG_Q(ev.id));
		if (ev.up) {
			frontend_redis_fetch_workers(fe);
			break;
		}
		if (fe->redis.workers.in_flight)
			fe->redis.workers.again = true;
		frontend_map_worker_down(&fe->map, ev.id);
		break;
	case FRONTEND_EVENT_FRONTEND:
		log_debug(ev.up ? "frontend up" : "frontend down",
			  "frontend=%s", LOG_Q(ev.id));
		break;
	}
}

static void frontend_redis_on_message(redisAsyncContext *ac, void *r,
				      void *priv)
{
	struct frontend *fe = priv;
	const redisReply *reply = r;
	(void)ac;
	if (!reply || fe->stopping || reply->type != REDIS_REPLY_ARRAY ||
	    reply->elements < 3 ||
	    reply->element[0]->type != REDIS_REPLY_STRING)
		return;
	const char *kind = reply->element[0]->str;
	if (!strcmp(kind, "subscribe")) {
		fe->redis.sub.ready = true;
		fe->redis.sub.retry_ms = 0;
		/* Events published while we were not listening are lost
		 * (pub/sub keeps nothing): read the whole map again. */
		frontend_redis_fetch_workers(fe);
		frontend_redis_fetch_shards(fe);
		frontend_redis_up(fe);
		return;
	}
	if (!strcmp(kind, "message") &&
	    reply->element[2]->type == REDIS_REPLY_STRING)
		frontend_redis_event(fe, reply->element[2]->str);
}

/* ---- connect ---- */

static void frontend_redis_auth_reply(redisAsyncContext *ac, void *r,
				      void *priv)
{
	struct frontend *fe = ac->data;
	struct frontend_redis_conn *c = priv;
	const redisReply *reply = r;
	if (!reply || reply->type != REDIS_REPLY_ERROR || c->ac != ac)
		return;
	log_error("redis AUTH refused", "redis=%s err=%s",
		  LOG_Q(fe->redis.where.primary.text), LOG_Q(reply->str));
	frontend_redis_drop(fe, c, "AUTH refused");
}

static void frontend_redis_on_connect(const redisAsyncContext *cac, int status)
{
	struct frontend *fe = cac->data;
	struct frontend_redis_conn *c = frontend_redis_conn_of(fe, cac);
	if (!c)
		return;
	if (status != REDIS_OK) {
		c->ac = NULL; /* hiredis frees it after this callback */
		fe->redis.located = false;
		frontend_redis_down(fe, cac->errstr);
		frontend_redis_retry(fe, c);
		return;
	}
	redisAsyncContext *ac = c->ac; /* the same context, not const */
	/* The back-off is reset only when Redis answers: a hung server
	 * still accepts TCP connections. */
	c->connected = true;
	/* A silently dead peer is noticed even on the subscriber
	 * connection, which sends nothing. */
	redisEnableKeepAlive(&ac->c);
	if (fe->cfg.redis_password[0])
		redisAsyncCommand(ac, frontend_redis_auth_reply, c, "AUTH %s",
				  fe->cfg.redis_password);
	if (c == &fe->redis.sub) {
		char chan[FRONTEND_REDIS_KEY_MAX];
		frontend_redis_key(fe, chan, sizeof(chan), "events");
		redisAsyncCommand(ac, frontend_redis_on_message, fe,
				  "SUBSCRIBE %s", chan);
		return;
	}
	fe->redis.map_loaded = false;
	fe->redis.shards = (struct frontend_redis_fetch){0};
	fe->redis.workers = (struct frontend_redis_fetch){0};
	redisAsyncCommand(ac, frontend_redis_role, fe, "ROLE");
	frontend_redis_fetch_workers(fe);
	frontend_redis_fetch_shards(fe);
	frontend_redis_register(fe, true);
	frontend_redis_up(fe);
}

static void frontend_redis_dial(struct frontend *fe,
				struct frontend_redis_conn *c)
{
	const struct redis_primary *p = &fe->redis.where.primary;
	c->want = false;
	redisAsyncContext *ac = redisAsyncConnect(p->host, p->port);
	if (!ac || ac->err) {
		frontend_redis_down(fe, ac ? ac->errstr : "out of memory");
		if (ac)
			redisAsyncFree(ac);
		frontend_redis_retry(fe, c);
		return;
	}
	ac->data = fe;
	if (redis_uv_attach(ac, fe->loop) < 0) {
		redisAsyncFree(ac);
		frontend_redis_retry(fe, c);
		return;
	}
	redisAsyncSetConnectCallback(ac, frontend_redis_on_connect);
	redisAsyncSetDisconnectCallback(ac, frontend_redis_on_disconnect);
	c->ac = ac;
	c->connected = false;
	c->ready = false;
	c->started_ms = uv_now(fe->loop);
}

static void frontend_redis_located(void *arg, int status)
{
	struct frontend *fe = arg;
	struct frontend_redis *r = &fe->redis;
	struct frontend_redis_conn *conns[] = {&r->cmd, &r->sub};
	if (fe->stopping)
		return;
	if (status < 0)
		frontend_redis_down(fe, r->where.err);
	else
		r->located = true;
	for (int i = 0; i < 2; i++) {
		if (!conns[i]->want || conns[i]->ac)
			continue;
		if (status < 0) {
			conns[i]->want = false;
			if (status == -EAGAIN) /* a failover: look again soon */
				conns[i]->retry_ms = 0;
			frontend_redis_retry(fe, conns[i]);
		} else {
			frontend_redis_dial(fe, conns[i]);
		}
	}
}

/* Connect c to the primary, asking the Sentinels first unless the other
 * connection just did. */
static void frontend_redis_connect(struct frontend *fe,
				   struct frontend_redis_conn *c)
{
	if (fe->stopping || c->ac)
		return;
	if (fe->redis.located) {
		frontend_redis_dial(fe, c);
		return;
	}
	c->want = true;
	if (!fe->redis.where.busy &&
	    redis_locator_find(&fe->redis.where, frontend_redis_located, fe) <
		    0) {
		c->want = false;
		frontend_redis_retry(fe, c);
	}
}

/* hiredis 0.14 has no command time-outs: a command unanswered for
 * redis_timeout, a connect or SUBSCRIBE not done by then, counts as Redis
 * down. A stuck command link takes the subscriber with it (both are
 * probably half-open; reconnecting reads the map afresh anyway). */
static void frontend_redis_watchdog(uv_timer_t *t)
{
	struct frontend *fe = t->data;
	struct frontend_redis *r = &fe->redis;
	uint64_t now = uv_now(fe->loop);
	uint64_t limit = fe->cfg.redis_timeout_ms;
	if (limit < FRONTEND_REDIS_WATCHDOG_MS)
		limit = FRONTEND_REDIS_WATCHDOG_MS;
	if (r->head && now - r->head->sent_ms > limit) {
		frontend_redis_drop(fe, &r->cmd, "command timed out");
		frontend_redis_drop(fe, &r->sub, "command timed out");
		return;
	}
	if (r->cmd.ac && !r->cmd.connected && now - r->cmd.started_ms > limit)
		frontend_redis_drop(fe, &r->cmd, "connect timed out");
	if (r->sub.ac && !r->sub.ready && now - r->sub.started_ms > limit)
		frontend_redis_drop(fe, &r->sub, "subscribe timed out");
}

int frontend_redis_init(struct frontend *fe)
{
	struct frontend_redis *r = &fe->redis;
	r->state = -1;
	r->cmd.name = "command";
	r->sub.name = "subscriber";
	r->cmd.fe = fe;
	r->sub.fe = fe;
	uv_timer_init(fe->loop, &r->cmd.retry);
	uv_timer_init(fe->loop, &r->sub.retry);
	r->cmd.retry.data = &r->cmd;
	r->sub.retry.data = &r->sub;
	uv_timer_init(fe->loop, &r->watchdog);
	r->watchdog.data = fe;
	uv_timer_start(&r->watchdog, frontend_redis_watchdog,
		       FRONTEND_REDIS_WATCHDOG_MS, FRONTEND_REDIS_WATCHDOG_MS);
	redis_locator_init(&r->where, fe->loop, &fe->cfg,
			   fe->cfg.redis_timeout_ms);
	frontend_redis_connect(fe, &r->cmd);
	frontend_redis_connect(fe, &r->sub);
	return 0;
}

static void frontend_redis_unregistered(struct frontend *fe,
					const redisReply *r, void *arg)
{
	(void)r;
	(void)arg;
	if (fe->redis.stop_done)
		fe->redis.stop_done(fe->redis.stop_arg);
}

void frontend_redis_unregister(struct frontend *fe, void (*done)(void *),
			       void *arg)
{
	char key[FRONTEND_REDIS_KEY_MAX], alive[FRONTEND_REDIS_KEY_MAX],
		chan[FRONTEND_REDIS_KEY_MAX], ev[FRONTEND_ID_MAX + 32];
	fe->redis.stop_done = done;
	fe->redis.stop_arg = arg;
	frontend_redis_key(fe, key, sizeof(key), "frontends");
	frontend_redis_key(fe, alive, sizeof(alive), "frontend:%s:alive",
			   fe->id);
	frontend_redis_key(fe, chan, sizeof(chan), "events");
	snprintf(ev, sizeof(ev), "1 frontend=%s down", fe->id);
	const char *hdel[] = {"HDEL", key, fe->id};
	const char *del[] = {"DEL", alive};
	const char *pub[] = {"PUBLISH", chan, ev};
	/* Replies come in order: the PUBLISH answer means all three ran. */
	if (frontend_redis_send(fe, NULL, NULL, 3, hdel) < 0 ||
	    frontend_redis_send(fe, NULL, NULL, 2, del) < 0 ||
	    frontend_redis_send(fe, frontend_redis_unregistered, NULL, 3, pub) <
		    0)
		done(arg);
}

void frontend_redis_close(struct frontend *fe)
{
	struct frontend_redis *r = &fe->redis;
	r->stop_done = NULL;
	r->where.closing = true;
	uv_timer_stop(&r->watchdog);
	uv_close((uv_handle_t *)&r->watchdog, NULL);
	uv_timer_stop(&r->cmd.retry);
	uv_close((uv_handle_t *)&r->cmd.retry, NULL);
	uv_timer_stop(&r->sub.retry);
	uv_close((uv_handle_t *)&r->sub.retry, NULL);
	frontend_redis_drop(fe, &r->cmd, "closing");
	frontend_redis_drop(fe, &r->sub, "closing");
}
