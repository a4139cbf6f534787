/* Where the Redis primary is: the `redis` address, or, with redis_sentinels
 * set, whatever the Sentinels say the primary of redis_master_name is right
 * now. Asking a Sentinel is a blocking round trip, so the event-loop side
 * (redis_locator) runs it on libuv's thread pool. */
#ifndef TANDEM_REDIS_LOCATE_H
#define TANDEM_REDIS_LOCATE_H

#include <stdbool.h>
#include <stdint.h>

#include <uv.h>

#include "config.h"

#define REDIS_LOCATE_ERR_MAX 320

/* The primary as found: host (IP or name) and port, plus "host:port" for
 * logs. */
struct redis_primary {
	char host[CONFIG_ADDR_MAX];
	uint16_t port;
	char text[CONFIG_ADDR_MAX];
};

/* Ask cfg's Sentinels in turn, starting with *first (updated to the one
 * that answered; NULL: start with the first), each within timeout_ms, for
 * the primary. Without Sentinels: cfg->redis. While a quorum of Sentinels
 * has the primary down, the replica being promoted once it answers ROLE
 * "master", before Sentinel names it. Returns 0 with *out set, or
 * -EHOSTUNREACH (no Sentinel answered), -ENOENT (they do not know the
 * name), -EAGAIN (the primary is down and no replica promoted yet: ask
 * again soon) with err naming each Sentinel and what went wrong. Blocking. */
int redis_locate(const struct config *cfg, uint32_t timeout_ms, unsigned *first,
		 struct redis_primary *out, char *err, size_t errlen);

/* Does a ROLE reply say "master"? (hiredis reply; const void * keeps
 * hiredis out of this header.) */
bool redis_role_is_master(const void *role_reply);

typedef void redis_locator_cb(void *arg, int status);

/* The loop side: one lookup at a time on the thread pool. */
struct redis_locator {
	uv_loop_t *loop;
	struct config cfg; /* copy: the pool thread reads it */
	uint32_t timeout_ms;
	unsigned first;			/* Sentinel that answered last */
	bool busy;			/* a lookup runs */
	bool closing;			/* owner is going away: no callback */
	uv_work_t work;			/* the lookup */
	redis_locator_cb *cb;		/* called on the loop thread */
	void *arg;			/* its argument */
	int status;			/* 0 or -errno of the last lookup */
	struct redis_primary primary;	/* the last answer (status 0) */
	struct redis_primary next;	/* being filled by the lookup */
	char err[REDIS_LOCATE_ERR_MAX]; /* why the last lookup failed */
};

void redis_locator_init(struct redis_locator *l, uv_loop_t *loop,
			const struct config *cfg, uint32_t timeout_ms);

/* Find the primary, then cb(arg, status) on the loop. Without Sentinels the
 * answer (cfg->redis) is immediate: cb runs before this returns. Returns
 * -EBUSY while a lookup runs (its callback comes). */
int redis_locator_find(struct redis_locator *l, redis_locator_cb *cb,
		       void *arg);

/* Are there Sentinels to follow? */
static inline bool redis_locator_follows(const struct redis_locator *l)
{
	return l->cfg.redis_sentinels.n > 0;
}

#endif
