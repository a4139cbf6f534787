/* Drives statestore.c against a real redis-server (port in argv[1]) through
 * one scripted scenario and prints one "ok"/"FAIL" line per step: lease
 * acquire/renew/release, a fenced checkpoint after another worker took the
 * shard, and the records the checkpoint script writes. Exit 0 = all ok. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <hiredis/hiredis.h>
#include <uv.h>

#include "statestore.h"

static struct statestore a, b;
static uv_loop_t *loop;
static int failures, step;
static int last_status;
static int64_t last_value;
static long last_renew; /* 1/0 from the renew reply array */
static bool got;

static void expect(const char *what, bool cond)
{
	printf("%s: %s\n", cond ? "ok" : "FAIL", what);
	failures += !cond;
}

static void on_status(void *arg, int status, int64_t value)
{
	(void)arg;
	last_status = status;
	last_value = value;
	got = true;
}

/* The outlook of a heartbeat or watch reply: ms until the next other
 * worker's liveness expires (0: one has, -1: none), and the heartbeat's
 * "had" (-1 for a watch). */
static long last_next_ms, last_had;

static void on_outlook(void *arg, const redisReply *r)
{
	(void)arg;
	last_next_ms = last_had = -9;
	if (r && r->type == REDIS_REPLY_ARRAY &&
	    (r->elements == 2 || r->elements == 3)) {
		last_next_ms = (long)r->element[r->elements - 1]->integer;
		last_had = r->elements == 3 ? (long)r->element[0]->integer : -1;
	}
	got = true;
}

static void on_renew(void *arg, const redisReply *r)
{
	(void)arg;
	last_renew = (r && r->type == REDIS_REPLY_ARRAY && r->elements == 1)
			     ? r->element[0]->integer
			     : -1;
	got = true;
}

/* Run the loop until the callback fired (bounded: 2 s). */
static bool run_until_got(void)
{
	got = false;
	for (int i = 0; i < 2000 && !got; i++)
		uv_run(loop, UV_RUN_NOWAIT), uv_sleep(1);
	return got;
}

static bool wait_up(struct statestore *ss)
{
	for (int i = 0; i < 2000 && !ss->up; i++)
		uv_run(loop, UV_RUN_NOWAIT), uv_sleep(1);
	return ss->up;
}

/* The claim round's bookkeeping of P:alive (prefix "clm", 8 shards): a
 * worker "wz" registered, holding shards 0-3, whose zset entry is due while
 * its alive key still exists (here: a key without expiry; in the field:
 * the last millisecond of its TTL, where PTTL says 0). The round must keep
 * it in the zset and leave its shards; once the key is gone, the watch must
 * say so and the next round take them. */
static long last_taken, last_ours, last_shard2; /* shard 2's tunnels */

static void on_claim(void *arg, const redisReply *r)
{
	(void)arg;
	last_taken = last_ours = last_shard2 = -1;
	if (r && r->type == REDIS_REPLY_ARRAY && r->elements == 4) {
		last_taken = (long)r->element[0]->elements / 3;
		last_ours = (long)r->element[1]->elements / 3;
		const redisReply *tk = r->element[0];
		for (size_t i = 0; i + 2 < tk->elements; i += 3)
			if (tk->element[i]->integer == 2)
				last_shard2 = (long)tk->element[i + 2]->integer;
	}
	got = true;
}

static void claim_check(struct config *cfg, uint16_t port)
{
	redisContext *rc = redisConnect("127.0.0.1", port);
	redisReply *t = rc && !rc->err ? redisCommand(rc, "TIME") : NULL;
	long long now = t && t->type == REDIS_REPLY_ARRAY && t->elements == 2
				? atoll(t->element[0]->str) * 1000 +
					  atoll(t->element[1]->str) / 1000
				: 0;
	freeReplyObject(t);
	expect("claim: a sync connection reads Redis's clock", now > 0);
	if (!now) {
		if (rc)
			redisFree(rc);
		return;
	}
	static const char *const setup[] = {
		"HSET clm:workers wz %s",    "HSET clm:workers wc %s",
		"SET clm:worker:wz:alive 1", "SET clm:lease:0 %s",
		"SET clm:lease:1 %s",	     "SET clm:lease:2 %s",
		"SET clm:lease:3 %s",
	};
	const char *reg = "1 pid=1 host=elsewhere leases=2";
	const char *lease = "1 owner=wz epoch=1";
	for (size_t i = 0; i < sizeof(setup) / sizeof(setup[0]); i++)
		freeReplyObject(
			redisCommand(rc, setup[i], i < 2 ? reg : lease));
	freeReplyObject(redisCommand(rc, "ZADD clm:alive %lld wz", now - 5));

	struct statestore c;
	snprintf(cfg->redis_prefix, sizeof(cfg->redis_prefix), "clm");
	statestore_init(&c, loop, cfg, "wc", NULL);
	expect("claim: C connects", wait_up(&c));
	statestore_heartbeat(&c, 5000, "1", on_outlook, NULL);
	run_until_got();
	expect("claim: C's heartbeat sees wz's entry due (0)",
	       last_next_ms == 0);
	statestore_claim(&c, 8, 5000, "spread", false, on_claim, NULL);
	run_until_got();
	expect("claim: C takes its half (4), wz alive keeps shards 0-3",
	       last_taken == 4 && last_ours == 0);
	redisReply *z = redisCommand(rc, "ZSCORE clm:alive wz");
	expect("claim: wz stays in P:alive while its alive key exists",
	       z && z->type == REDIS_REPLY_STRING);
	freeReplyObject(z);
	/* wz's last heartbeat, with a TTL of 50 ms (what tandem-worker
	 * writes), then nothing: after 100 ms its key is gone */
	freeReplyObject(redisCommand(rc, "SET clm:worker:wz:alive 1 PX 50"));
	freeReplyObject(redisCommand(rc, "ZADD clm:alive %lld wz", now + 50));
	uv_sleep(100);
	statestore_watch(&c, on_outlook, NULL);
	run_until_got();
	expect("claim: with wz's key gone, the watch says one expired (0)",
	       last_next_ms == 0);
	/* wz had checkpointed two tunnels in shard 2 */
	freeReplyObject(redisCommand(rc, "SADD clm:shard:2:tunnels 41 42"));
	statestore_claim(&c, 8, 5000, "spread", false, on_claim, NULL);
	run_until_got();
	expect("claim: the next round takes wz's 4 shards",
	       last_taken == 4 && last_ours == 4);
	expect("claim: ... and says shard 2 holds 2 tunnels (to load)",
	       last_shard2 == 2);
	z = redisCommand(rc, "ZSCORE clm:alive wz");
	expect("claim: and forgets wz in P:alive",
	       z && z->type == REDIS_REPLY_NIL);
	freeReplyObject(z);
	statestore_close(&c);
	redisFree(rc);
}

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: statestore_check REDIS_PORT\n");
		return 2;
	}
	uint16_t port = (uint16_t)atoi(argv[1]);
	loop = uv_default_loop();
	struct config cfg;
	config_defaults(&cfg);
	cfg.redis.port = port;
	snprintf(cfg.redis.host, sizeof(cfg.redis.host), "127.0.0.1");
	snprintf(cfg.redis_prefix, sizeof(cfg.redis_prefix), "chk");
	cfg.redis_timeout_ms = 1000;
	statestore_init(&a, loop, &cfg, "wa", NULL);
	statestore_init(&b, loop, &cfg, "wb", NULL);
	expect("both clients connect and load the scripts",
	       wait_up(&a) && wait_up(&b));

	/* Leases hang on their owner's liveness key (SCHEMA.md). */
	statestore_heartbeat(&a, 300, "1", on_outlook, NULL);
	run_until_got();
	expect("A's first heartbeat finds no liveness key, no other worker",
	       last_had == 0 && last_next_ms == -1);
	statestore_heartbeat(&b, 300, "1", on_outlook, NULL);
	run_until_got();
	expect("B's heartbeat: A's liveness expires within 300 ms",
	       last_had == 0 && last_next_ms > 0 && last_next_ms <= 300);
	statestore_lease_acquire(&a, 3, 0, on_status, NULL);
	run_until_got();
	expect("A acquires shard 3 with epoch 1",
	       last_status == 0 && last_value == 1);
	int64_t epoch_a = last_value;
	statestore_lease_acquire(&b, 3, 0, on_status, NULL);
	run_until_got();
	expect("B is refused while A is alive", last_status == -EBUSY);

	static const uint8_t rec[] = {1, 0, 7, 0xff, 0x00, 'x'};
	struct statestore_blob sess = {.sid = 9, .data = rec, .len = 4};
	statestore_checkpoint(&a, 3, (uint64_t)epoch_a, 777, rec, sizeof(rec),
			      &sess, 1, NULL, 0, on_status, NULL);
	run_until_got();
	expect("A's checkpoint is accepted", last_status == 0);

	statestore_heartbeat(&a, 300, "1", on_outlook, NULL);
	run_until_got();
	expect("A's heartbeat finds its liveness key (1)", last_had == 1);
	statestore_watch(&a, on_outlook, NULL);
	run_until_got();
	expect("the watch sees nobody dead yet", last_next_ms > 0);

	/* A stops its heartbeat (paused); its liveness runs out; B, alive,
	 * takes over. */
	uv_sleep(200);
	statestore_heartbeat(&b, 300, "1", on_outlook, NULL);
	run_until_got();
	uv_sleep(200);
	statestore_watch(&b, on_outlook, NULL);
	run_until_got();
	expect("the watch sees a worker's liveness expired (0)",
	       last_next_ms == 0);
	statestore_lease_acquire(&b, 3, 0, on_status, NULL);
	run_until_got();
	expect("after A's liveness TTL, B acquires with a higher epoch",
	       last_status == 0 && last_value == epoch_a + 1);

	statestore_checkpoint(&a, 3, (uint64_t)epoch_a, 777, rec, 2, NULL, 0,
			      NULL, 0, on_status, NULL);
	run_until_got();
	expect("A's late checkpoint is fenced (not written)",
	       last_status == -ESTALE);
	statestore_heartbeat(&a, 300, "1", on_outlook, NULL);
	run_until_got();
	expect("A's late heartbeat says its liveness had lapsed (0)",
	       last_had == 0);

	/* Beside an older build: a lease with its own TTL, renewed per
	 * lease (statestore_lease_renew). */
	unsigned sh = 4;
	statestore_lease_acquire(&a, 4, 300, on_status, NULL);
	run_until_got();
	uint64_t ep = (uint64_t)last_value;
	expect("A acquires shard 4 with a TTL'd lease", last_status == 0);
	statestore_lease_renew(&a, &sh, &ep, 1, 300, on_renew, NULL);
	run_until_got();
	expect("A renews that lease", last_renew == 1);
	ep++;
	statestore_lease_renew(&a, &sh, &ep, 1, 300, on_renew, NULL);
	run_until_got();
	expect("a renewal at the wrong epoch reports the lease lost",
	       last_renew == 0);

	uint16_t del = 9;
	statestore_checkpoint(&b, 3, (uint64_t)epoch_a + 1, 777, rec, 3, NULL,
			      0, &del, 1, on_status, NULL);
	run_until_got();
	expect("B's checkpoint (session 9 deleted) is accepted",
	       last_status == 0);
	statestore_lease_release(&b, 3, (uint64_t)epoch_a + 1, on_status, NULL);
	run_until_got();
	expect("B releases the shard", last_status == 0 && last_value == 1);
	statestore_lease_acquire(&a, 3, 0, on_status, NULL);
	run_until_got();
	expect("A can take it again at once, epoch 3",
	       last_status == 0 && last_value == epoch_a + 2);
	statestore_checkpoint(&a, 3, (uint64_t)epoch_a + 2, 777, NULL, 0, NULL,
			      0, NULL, 0, on_status, NULL);
	run_until_got();
	expect("deleting the tunnel's records is accepted", last_status == 0);
	/* Session 5 ended and its ID went to a new call before the next
	 * checkpoint: that one deletes 5 and writes 5; the new call stays
	 * (test_statestore.sh checks chk:s:778 holds session 5). */
	struct statestore_blob reused = {.sid = 5, .data = rec, .len = 5};
	uint16_t ended = 5;
	statestore_checkpoint(&a, 3, (uint64_t)epoch_a + 2, 778, rec, 2,
			      &reused, 1, &ended, 1, on_status, NULL);
	run_until_got();
	expect("a checkpoint that ends and reuses Session ID 5 is accepted",
	       last_status == 0);
	claim_check(&cfg, port);
	(void)step;
	statestore_close(&a);
	statestore_close(&b);
	uv_run(loop, UV_RUN_DEFAULT);
	printf("statestore: %d failed\n", failures);
	return failures ? 1 : 0;
}
