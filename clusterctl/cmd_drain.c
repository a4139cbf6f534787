/* `clusterctl drain WORKER`: ask the worker over its control socket to drain
 * (what SIGTERM does: hand every shard to a live peer, deregister, exit),
 * then follow it in Redis every CC_CTL_POLL_MS until it owns no shard and
 * has deregistered, or --timeout passes. */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>

#include "clusterctl.h"

static const char cmd_drain_usage[] = "drain WORKER [--timeout SECONDS]";

#define CMD_DRAIN_TIMEOUT_MS 30000 /* default --timeout */

/* Where the drain stands, as Redis says. */
struct cmd_drain_state {
	unsigned shards; /* leases naming the worker */
	bool registered; /* in P:workers with the pid we asked */
	bool replaced;	 /* in P:workers with another pid (restarted) */
	bool alive;	 /* its alive key exists */
	unsigned others; /* other live workers, not draining */
};

static int cmd_drain_poll(struct cc *cc, const char *id, int64_t pid,
			  struct cmd_drain_state *st)
{
	struct cc_cluster cl;
	int rc = cc_cluster_load(cc, &cl, CC_LOAD_SHARDS | CC_LOAD_PROCS);
	memset(st, 0, sizeof(*st));
	for (unsigned s = 0; rc == 0 && s < cl.shard_count; s++)
		st->shards += strcmp(cl.shards[s].owner, id) == 0;
	for (size_t i = 0; rc == 0 && i < cl.n_workers; i++) {
		const struct cc_proc *p = &cl.workers[i];
		if (strcmp(p->id, id) != 0) {
			st->others += p->alive && !p->draining;
			continue;
		}
		st->registered = pid < 0 || p->pid == pid;
		st->replaced = !st->registered;
		st->alive = p->alive;
	}
	cc_cluster_free(&cl);
	return rc;
}

static void cmd_drain_report(struct cc *cc, const char *id, bool done,
			     int64_t at_start, const struct cmd_drain_state *st,
			     uint64_t elapsed_ms)
{
	char secs[32];
	if (cc->json) {
		struct cc_json j;
		cc_json_init(&j, stdout);
		cc_json_obj_begin(&j, NULL);
		cc_json_str(&j, "worker", id);
		cc_json_bool(&j, "drained", done);
		cc_json_opt(&j, "shards_at_start", at_start);
		cc_json_u64(&j, "shards_left", st->shards);
		cc_json_bool(&j, "registered", st->registered);
		cc_json_u64(&j, "elapsed_ms", elapsed_ms);
		cc_json_obj_end(&j);
		cc_json_finish(&j);
		return;
	}
	cc_fmt_s((uint32_t)elapsed_ms, secs, sizeof(secs));
	if (done)
		printf("%s drained in %s: it owns no shard and has "
		       "deregistered%s\n",
		       id, secs,
		       st->replaced ? " (a new process registered as it "
				      "since)"
				    : "");
}

static int cmd_drain_run(struct cc *cc, const char *id, uint32_t timeout_ms)
{
	struct cmd_drain_state st;
	struct cc_proc w;
	char reply[CC_CTL_MAX], secs[32];
	uint64_t t0 = cc_now_ms(), elapsed = 0;
	int rc = cc_ctl_worker(cc, id, &w);
	if (rc == 0)
		rc = cmd_drain_poll(cc, id, w.pid, &st);
	if (rc < 0)
		return rc;
	if (st.others == 0)
		cc_err("no other live worker: %s will release its shards and "
		       "their tunnels wait in Redis for the next worker",
		       id);
	uint32_t answer_ms =
		timeout_ms < CC_CTL_ANSWER_MS ? timeout_ms : CC_CTL_ANSWER_MS;
	rc = cc_ctl_ask(cc, &w, answer_ms, reply, sizeof(reply), "drain");
	if (rc == -EPROTO)
		cc_ctl_say_err(id, reply);
	if (rc < 0)
		return rc;
	int64_t at_start = cc_ctl_field_int(reply, "shards");
	if (!cc->json) {
		printf("%s: draining, %lld shards to hand off\n", id,
		       (long long)at_start);
		fflush(stdout);
	}
	unsigned last = UINT_MAX;
	bool done = false;
	for (;;) {
		if ((rc = cmd_drain_poll(cc, id, w.pid, &st)) < 0)
			return rc;
		done = !st.registered && (st.replaced || st.shards == 0);
		elapsed = cc_now_ms() - t0;
		if (!cc->json && st.shards != last) {
			printf("shards left: %u\n", st.shards);
			fflush(stdout);
			last = st.shards;
		}
		if (done || elapsed >= timeout_ms)
			break;
		uint64_t left = timeout_ms - elapsed;
		cc_sleep_ms(left < CC_CTL_POLL_MS ? (uint32_t)left
						  : CC_CTL_POLL_MS);
	}
	cmd_drain_report(cc, id, done, at_start, &st, elapsed);
	if (done)
		return 0;
	cc_err("%s did not finish draining within %s: %u shards left, %s", id,
	       cc_fmt_s(timeout_ms, secs, sizeof(secs)), st.shards,
	       !st.registered ? "deregistered"
	       : st.alive     ? "still registered"
			      : "still registered but its alive key is gone "
				"(it died?)");
	return -ETIME;
}

int cmd_drain(struct cc *cc, int argc, char **argv)
{
	static const struct option longs[] = {
		{"timeout", required_argument, NULL, 't'},
		{NULL, 0, NULL, 0},
	};
	uint32_t timeout_ms = CMD_DRAIN_TIMEOUT_MS;
	int c;
	while ((c = cc_getopt(cc, argc, argv, longs, cmd_drain_usage)) != -1) {
		if (c == 't' && cc_parse_seconds(optarg, &timeout_ms) == 0)
			continue;
		if (c == 't')
			cc_err("drain: --timeout %s is not a number of "
			       "seconds",
			       optarg);
		return c == 'h' ? CC_EXIT_OK : CC_EXIT_USAGE;
	}
	if (optind + 1 != argc) {
		cc_err("usage: clusterctl -c FILE [--json] %s",
		       cmd_drain_usage);
		return CC_EXIT_USAGE;
	}
	int rc = cc_redis_connect(cc);
	if (rc == 0)
		rc = cmd_drain_run(cc, argv[optind], timeout_ms);
	return cc_exit_for(rc);
}
