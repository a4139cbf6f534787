/* `clusterctl move shard N --to WORKER`: ask the worker holding shard N's
 * lease to hand it to WORKER (the same hand-off a drain uses: its pending
 * checkpoints first, then the lease moves with a new epoch), then wait until
 * the lease in Redis names WORKER. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clusterctl.h"

static const char cmd_move_usage[] =
	"move shard N --to WORKER [--timeout SECONDS]";

/* Check that `to` can take a shard: registered, alive, not draining. */
static int cmd_move_target(struct cc *cc, const char *to)
{
	struct cc_proc t;
	int rc = cc_ctl_worker(cc, to, &t);
	if (rc < 0)
		return rc;
	if (!t.alive || t.draining) {
		cc_err("worker %s cannot take a shard: %s", to,
		       !t.alive ? "its alive key is gone" : "it is draining");
		return -EINVAL;
	}
	return 0;
}

static int cmd_move_run(struct cc *cc, unsigned shard, const char *to,
			uint32_t timeout_ms)
{
	struct cc_shard lease;
	struct cc_proc from;
	char reply[CC_CTL_MAX], secs[32];
	int rc = cc_ctl_owner(cc, shard, &from);
	if (rc < 0)
		return rc;
	if (strcmp(from.id, to) == 0) {
		cc_err("shard %u is already owned by %s", shard, to);
		return 0;
	}
	if ((rc = cmd_move_target(cc, to)) < 0)
		return rc;
	uint64_t t0 = cc_now_ms();
	rc = cc_ctl_ask(cc, &from, timeout_ms, reply, sizeof(reply),
			"move-shard %u %s", shard, to);
	if (rc == -EPROTO)
		cc_ctl_say_err(from.id, reply);
	if (rc < 0)
		return rc;
	int64_t tunnels = cc_ctl_field_int(reply, "tunnels");
	for (;;) {
		if ((rc = cc_cluster_lease(cc, shard, &lease)) < 0)
			return rc;
		uint64_t elapsed = cc_now_ms() - t0;
		if (strcmp(lease.owner, to) == 0)
			break;
		if (elapsed >= timeout_ms) {
			cc_err("shard %u: the lease names %s, not %s, %s after "
			       "%s accepted the move",
			       shard, lease.owner[0] ? lease.owner : "nobody",
			       to, cc_fmt_s(timeout_ms, secs, sizeof(secs)),
			       from.id);
			return -ETIME;
		}
		uint64_t left = timeout_ms - elapsed;
		cc_sleep_ms(left < 50 ? (uint32_t)left : 50);
	}
	if (cc->json) {
		struct cc_json j;
		cc_json_init(&j, stdout);
		cc_json_obj_begin(&j, NULL);
		cc_json_u64(&j, "shard", shard);
		cc_json_str(&j, "from", from.id);
		cc_json_str(&j, "to", to);
		cc_json_u64(&j, "epoch", lease.epoch);
		cc_json_opt(&j, "tunnels", tunnels);
		cc_json_obj_end(&j);
		cc_json_finish(&j);
	} else {
		printf("shard %u moved from %s to %s (epoch %llu, %lld "
		       "tunnels)\n",
		       shard, from.id, to, (unsigned long long)lease.epoch,
		       (long long)tunnels);
	}
	return 0;
}

int cmd_move(struct cc *cc, int argc, char **argv)
{
	static const struct option longs[] = {
		{"to", required_argument, NULL, 'T'},
		{"timeout", required_argument, NULL, 't'},
		{NULL, 0, NULL, 0},
	};
	uint32_t timeout_ms = CC_CTL_ANSWER_MS;
	const char *to = NULL;
	char *end;
	int c;
	while ((c = cc_getopt(cc, argc, argv, longs, cmd_move_usage)) != -1) {
		if (c == 'T') {
			to = optarg;
			continue;
		}
		if (c == 't' && cc_parse_seconds(optarg, &timeout_ms) == 0)
			continue;
		if (c == 't')
			cc_err("move: bad --timeout %s", optarg);
		return c == 'h' ? CC_EXIT_OK : CC_EXIT_USAGE;
	}
	const char *n = optind + 1 < argc ? argv[optind + 1] : "";
	unsigned long shard = strtoul(n, &end, 10);
	if (optind + 2 != argc || strcmp(argv[optind], "shard") != 0) {
		cc_err("usage: clusterctl -c FILE [--json] %s", cmd_move_usage);
		return CC_EXIT_USAGE;
	}
	if (!to || !to[0]) {
		cc_err("move shard: --to WORKER is required");
		return CC_EXIT_USAGE;
	}
	if (*n < '0' || *n > '9' || *end ||
	    shard >= (unsigned long)cc->cfg.shard_count) {
		cc_err("move shard: %s is not a shard (0-%d)", n,
		       cc->cfg.shard_count - 1);
		return CC_EXIT_USAGE;
	}
	int rc = cc_redis_connect(cc);
	if (rc == 0)
		rc = cmd_move_run(cc, (unsigned)shard, to, timeout_ms);
	return cc_exit_for(rc);
}
