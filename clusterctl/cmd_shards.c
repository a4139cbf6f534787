/* `clusterctl shards`: every shard's lease (owner, epoch, time left), where
 * the frontends' shard map routes it, and how many tunnels it holds. */
#include <getopt.h>
#include <stdio.h>

#include "clusterctl.h"

static const char cmd_shards_usage[] = "shards";

static void cmd_shards_json(const struct cc_cluster *cl)
{
	struct cc_json j;
	cc_json_init(&j, stdout);
	cc_json_obj_begin(&j, NULL);
	cc_json_u64(&j, "shard_count", cl->shard_count);
	cc_json_arr_begin(&j, "shards");
	for (unsigned s = 0; s < cl->shard_count; s++) {
		const struct cc_shard *sh = &cl->shards[s];
		bool map_set = sh->map_owner[0] && sh->map_owner[0] != '-';
		cc_json_obj_begin(&j, NULL);
		cc_json_u64(&j, "shard", s);
		cc_json_str(&j, "owner", sh->owner[0] ? sh->owner : NULL);
		cc_json_u64(&j, "epoch", sh->epoch);
		cc_json_opt(&j, "lease_ttl_ms", sh->ttl_ms);
		cc_json_str(&j, "map_owner", map_set ? sh->map_owner : NULL);
		cc_json_u64(&j, "tunnels", sh->tunnels);
		cc_json_bool(&j, "protected", !sh->unprotected);
		cc_json_obj_end(&j);
	}
	cc_json_arr_end(&j);
	cc_json_obj_end(&j);
	cc_json_finish(&j);
}

static int cmd_shards_table(const struct cc_cluster *cl)
{
	static const char *const heads[] = {"SHARD",	 "OWNER",   "EPOCH",
					    "LEASE-TTL", "TUNNELS", "ROUTED-TO",
					    "PROTECTED"};
	struct cc_table t;
	char ttl[32];
	cc_table_init(&t, 7, heads);
	for (unsigned s = 0; s < cl->shard_count; s++) {
		const struct cc_shard *sh = &cl->shards[s];
		cc_fmt_ms(sh->ttl_ms, ttl, sizeof(ttl));
		cc_table_add(&t, "%u", s);
		cc_table_add_text(&t, sh->owner);
		cc_table_add(&t, "%llu", (unsigned long long)sh->epoch);
		cc_table_add(&t, "%s", ttl);
		cc_table_add(&t, "%u", sh->tunnels);
		cc_table_add_text(&t, sh->map_owner);
		cc_table_add(&t, "%s",
			     !sh->owner[0]     ? "-"
			     : sh->unprotected ? "no"
					       : "yes");
	}
	int rc = cc_table_print(&t, stdout, 0);
	cc_table_free(&t);
	return rc;
}

int cmd_shards(struct cc *cc, int argc, char **argv)
{
	struct cc_cluster cl = {0};
	int c;
	while ((c = cc_getopt(cc, argc, argv, NULL, cmd_shards_usage)) != -1)
		return c == 'h' ? CC_EXIT_OK : CC_EXIT_USAGE;
	if (optind != argc) {
		cc_err("shards: unexpected argument %s", argv[optind]);
		return CC_EXIT_USAGE;
	}
	int rc = cc_redis_connect(cc);
	if (rc == 0)
		rc = cc_cluster_load(cc, &cl,
				     CC_LOAD_SHARDS | CC_LOAD_PROCS |
					     CC_LOAD_TUNNELS);
	if (rc == 0) {
		if (cc->json)
			cmd_shards_json(&cl);
		else
			rc = cmd_shards_table(&cl);
	}
	cc_cluster_free(&cl);
	return cc_exit_for(rc);
}
