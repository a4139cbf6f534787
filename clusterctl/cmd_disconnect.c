/* `clusterctl disconnect tunnel T` and `disconnect session T/S`: find the
 * worker whose lease covers shard(T) and ask it, over its control socket,
 * to clear the tunnel with StopCCN or the call with CDN (RFC 2661 4.4.2
 * result codes; defaults in docs/CLUSTERCTL.md). */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clusterctl.h"

static const char cmd_disconnect_usage[] =
	"disconnect tunnel T | session T/S [--result N] [--timeout SECONDS]";

struct cmd_disconnect {
	bool session;	     /* session T/S, else tunnel T */
	uint16_t tid, sid;   /* what */
	long result;	     /* --result, 0 = the worker's default */
	uint32_t timeout_ms; /* wait for the answer */
};

static void cmd_disconnect_out(struct cc *cc, const struct cmd_disconnect *d,
			       const char *worker, const char *reply)
{
	char name[32] = "";
	int64_t result = cc_ctl_field_int(reply, "result");
	int64_t sessions = cc_ctl_field_int(reply, "sessions");
	cc_ctl_field(reply, "name", name, sizeof(name));
	if (cc->json) {
		struct cc_json j;
		cc_json_init(&j, stdout);
		cc_json_obj_begin(&j, NULL);
		cc_json_str(&j, "worker", worker);
		cc_json_u64(&j, "tunnel_id", d->tid);
		if (d->session)
			cc_json_u64(&j, "session_id", d->sid);
		cc_json_str(&j, "message", d->session ? "CDN" : "StopCCN");
		cc_json_opt(&j, "result", result);
		cc_json_str(&j, "result_name", name[0] ? name : NULL);
		if (!d->session)
			cc_json_opt(&j, "sessions", sessions);
		cc_json_obj_end(&j);
		cc_json_finish(&j);
	} else if (d->session) {
		printf("session %u/%u: CDN result %lld (%s) sent by %s\n",
		       d->tid, d->sid, (long long)result, name, worker);
	} else {
		printf("tunnel %u: StopCCN result %lld (%s) sent by %s, %lld "
		       "sessions cleared with it\n",
		       d->tid, (long long)result, name, worker,
		       (long long)sessions);
	}
}

static int cmd_disconnect_run(struct cc *cc, const struct cmd_disconnect *d)
{
	char reply[CC_CTL_MAX], res[24] = "";
	unsigned shard = d->tid / (65536u / (unsigned)cc->cfg.shard_count);
	struct cc_proc w;
	if (d->result > 0)
		snprintf(res, sizeof(res), " %ld", d->result);
	/* A second try when the shard moved between the lease read and the
	 * request (hand-off, takeover). */
	for (int attempt = 0;; attempt++) {
		int rc = cc_ctl_owner(cc, shard, &w);
		if (rc < 0)
			return rc;
		if (d->session)
			rc = cc_ctl_ask(cc, &w, d->timeout_ms, reply,
					sizeof(reply),
					"disconnect-session %u %u%s", d->tid,
					d->sid, res);
		else
			rc = cc_ctl_ask(cc, &w, d->timeout_ms, reply,
					sizeof(reply), "disconnect-tunnel %u%s",
					d->tid, res);
		if (rc == -EPROTO && cc_ctl_err_is(reply, "not-owner") &&
		    attempt == 0)
			continue;
		if (rc == -EPROTO)
			cc_ctl_say_err(w.id, reply);
		if (rc < 0)
			return rc;
		cmd_disconnect_out(cc, d, w.id, reply);
		return 0;
	}
}

int cmd_disconnect(struct cc *cc, int argc, char **argv)
{
	static const struct option longs[] = {
		{"result", required_argument, NULL, 'r'},
		{"timeout", required_argument, NULL, 't'},
		{NULL, 0, NULL, 0},
	};
	struct cmd_disconnect d = {.timeout_ms = CC_CTL_ANSWER_MS};
	char *end;
	int c;
	while ((c = cc_getopt(cc, argc, argv, longs, cmd_disconnect_usage)) !=
	       -1) {
		if (c == 't' && cc_parse_seconds(optarg, &d.timeout_ms) == 0)
			continue;
		if (c == 'r') {
			d.result = strtol(optarg, &end, 10);
			if (!*end && d.result >= 1 && d.result <= 65535)
				continue;
		}
		if (c == 't' || c == 'r')
			cc_err("disconnect: bad %s %s",
			       c == 't' ? "--timeout" : "--result", optarg);
		return c == 'h' ? CC_EXIT_OK : CC_EXIT_USAGE;
	}
	const char *what = optind < argc ? argv[optind] : "";
	const char *id = optind + 1 < argc ? argv[optind + 1] : NULL;
	if (optind + 2 != argc ||
	    (strcmp(what, "tunnel") != 0 && strcmp(what, "session") != 0)) {
		cc_err("usage: clusterctl -c FILE [--json] %s",
		       cmd_disconnect_usage);
		return CC_EXIT_USAGE;
	}
	d.session = strcmp(what, "session") == 0;
	if (!d.session && cc_parse_id(id, &d.tid) < 0) {
		cc_err("disconnect tunnel: %s is not a tunnel ID (1-65535)",
		       id);
		return CC_EXIT_USAGE;
	}
	if (d.session && cc_parse_pair(id, &d.tid, &d.sid) < 0) {
		cc_err("disconnect session: %s is not TUNNEL/SESSION (e.g. "
		       "4097/3)",
		       id);
		return CC_EXIT_USAGE;
	}
	int rc = cc_redis_connect(cc);
	if (rc == 0)
		rc = cmd_disconnect_run(cc, &d);
	return cc_exit_for(rc);
}
