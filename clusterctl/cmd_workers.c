/* `clusterctl workers`: each registered worker (P:workers) with its alive
 * key, protection, the shards whose leases name it, and the tunnels and
 * sessions checkpointed in those shards. cmd_status prints the same rows. */
#include <getopt.h>
#include <stdio.h>
#include <time.h>

#include "clusterctl.h"

static const char cmd_workers_usage[] = "workers";

static const char *cmd_workers_protected(const struct cc_proc *w)
{
	return w->protected_state < 0 ? "-" : w->protected_state ? "yes" : "no";
}

void cmd_workers_rows(const struct cc_cluster *cl, struct cc_table *t,
		      bool wide)
{
	static const char *const narrow[] = {
		"ID",	   "HOST",     "VERSION",   "WIRE",	 "PID",
		"UPTIME",  "ALIVE",    "ALIVE-TTL", "PROTECTED", "SHARDS",
		"TUNNELS", "SESSIONS", "LEASE-TTL", "LOOP-LAG"};
	static const char *const full[] = {
		"ID",	    "HOST",	"VERSION",   "WIRE",	  "PID",
		"UPTIME",   "ALIVE",	"ALIVE-TTL", "PROTECTED", "SHARDS",
		"TUNNELS",  "SESSIONS", "LEASE-TTL", "LOOP-LAG",  "DRAINING",
		"ENDPOINT", "CONTROL"};
	char a[32], b[32], u[32], lag[32];
	cc_table_init(t, wide ? 17 : 14, wide ? full : narrow);
	for (size_t i = 0; i < cl->n_workers; i++) {
		const struct cc_proc *w = &cl->workers[i];
		int64_t up = cc_proc_uptime(w);
		cc_fmt_ms(w->alive_ttl_ms, a, sizeof(a));
		cc_fmt_ms(w->lease_ttl_min_ms, b, sizeof(b));
		cc_fmt_ms(up < 0 ? -1 : up * 1000, u, sizeof(u));
		cc_table_add_text(t, w->id);
		cc_table_add_text(t, w->host);
		cc_table_add_text(t, w->version);
		cc_table_add_opt(t, w->wire);
		cc_table_add_opt(t, w->pid);
		cc_table_add(t, "%s", u);
		cc_table_add(t, "%s", w->alive ? "yes" : "NO");
		cc_table_add(t, "%s", a);
		cc_table_add(t, "%s", cmd_workers_protected(w));
		cc_table_add(t, "%u", w->shards);
		cc_table_add(t, "%u", w->tunnels);
		cc_table_add(t, "%llu", (unsigned long long)w->sessions);
		cc_table_add(t, "%s", b);
		cc_fmt_ms(w->loop_lag_ms, lag, sizeof(lag));
		cc_table_add(t, "%s", lag);
		if (!wide)
			continue;
		cc_table_add(t, "%s", w->draining ? "yes" : "no");
		cc_table_add_text(t, w->endpoint);
		cc_table_add_text(t, w->control);
	}
}

void cmd_workers_json(struct cc_json *j, const struct cc_cluster *cl)
{
	cc_json_arr_begin(j, "workers");
	for (size_t i = 0; i < cl->n_workers; i++) {
		const struct cc_proc *w = &cl->workers[i];
		cc_json_obj_begin(j, NULL);
		cc_json_str(j, "id", w->id);
		cc_json_str(j, "host", w->host[0] ? w->host : NULL);
		cc_json_str(j, "version", w->version[0] ? w->version : NULL);
		cc_json_opt(j, "wire", w->wire);
		cc_json_opt(j, "pid", w->pid);
		cc_json_opt(j, "started_unix_s", w->started_s);
		cc_json_opt(j, "uptime_s", cc_proc_uptime(w));
		cc_json_str(j, "endpoint", w->endpoint[0] ? w->endpoint : NULL);
		cc_json_str(j, "control",
			    w->control[0] && w->control[0] != '-' ? w->control
								  : NULL);
		cc_json_bool(j, "alive", w->alive);
		cc_json_opt(j, "alive_ttl_ms", w->alive_ttl_ms);
		if (w->protected_state < 0)
			cc_json_null(j, "protected");
		else
			cc_json_bool(j, "protected", w->protected_state);
		cc_json_bool(j, "draining", w->draining);
		cc_json_u64(j, "shards", w->shards);
		cc_json_u64(j, "tunnels", w->tunnels);
		cc_json_u64(j, "sessions", w->sessions);
		cc_json_opt(j, "lease_ttl_min_ms", w->lease_ttl_min_ms);
		cc_json_opt(j, "loop_lag_ms", w->loop_lag_ms);
		cc_json_opt(j, "loop_lag_max_ms", w->loop_lag_max_ms);
		cc_json_bool(j, "known_format", w->known_format);
		cc_json_obj_end(j);
	}
	cc_json_arr_end(j);
}

int cmd_workers(struct cc *cc, int argc, char **argv)
{
	struct cc_cluster cl = {0};
	int c;
	while ((c = cc_getopt(cc, argc, argv, NULL, cmd_workers_usage)) != -1)
		return c == 'h' ? CC_EXIT_OK : CC_EXIT_USAGE;
	if (optind != argc) {
		cc_err("workers: unexpected argument %s", argv[optind]);
		return CC_EXIT_USAGE;
	}
	int rc = cc_redis_connect(cc);
	if (rc == 0)
		rc = cc_cluster_load(cc, &cl,
				     CC_LOAD_SHARDS | CC_LOAD_PROCS |
					     CC_LOAD_SESSIONS);
	if (rc == 0 && cc->json) {
		struct cc_json j;
		cc_json_init(&j, stdout);
		cc_json_obj_begin(&j, NULL);
		cmd_workers_json(&j, &cl);
		cc_json_obj_end(&j);
		cc_json_finish(&j);
	} else if (rc == 0) {
		struct cc_table t;
		cmd_workers_rows(&cl, &t, true);
		rc = cc_table_print(&t, stdout, 0);
		cc_table_free(&t);
	}
	cc_cluster_free(&cl);
	return cc_exit_for(rc);
}
