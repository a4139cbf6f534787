/* `clusterctl sessions`: every session checkpoint (P:s:<tid> hashes),
 * decoded, in tunnel then session order, filtered by tunnel, user or PPP
 * address. Tunnels are fetched in pipelined rounds and printed as they come,
 * so 100,000 sessions take a few round trips, not 100,000. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <hiredis/hiredis.h>

#include "clusterctl.h"
#include "record.h"
#include "session.h"
#include "wire.h"

static const char cmd_sessions_usage[] =
	"sessions [--tunnel T] [--user U] [--ip ADDR]";

struct cmd_sessions {
	struct cc *cc;
	struct cc_cluster cl; /* shards (owners) and tunnel IDs */
	uint16_t tunnel;      /* --tunnel, 0 = all */
	const char *user;     /* --user, or NULL */
	struct wire_addr ip;  /* --ip (family 0 = not given) */
	struct {
		uint16_t sid; /* parsed hash field */
		size_t idx;   /* its value's element index */
	} * order;	      /* one tunnel's sessions, sorted by sid */
	size_t order_cap;     /* entries allocated */
	size_t rows;	      /* sessions printed */
	unsigned unreadable;  /* records that did not decode */
	struct cc_json j;     /* --json */
	struct cc_table t;    /* text */
};

void cmd_sessions_json_fields(struct cc_json *j, uint16_t tid,
			      const struct record_session_info *si,
			      const struct cc_shard *sh)
{
	char local[64], remote[64];
	cc_fmt_addr(si->ppp_family, si->ppp_local, local, sizeof(local));
	cc_fmt_addr(si->ppp_family, si->ppp_remote, remote, sizeof(remote));
	cc_json_u64(j, "tunnel_id", tid);
	cc_json_u64(j, "session_id", si->sid);
	cc_json_u64(j, "peer_session_id", si->peer_sid);
	cc_json_str(j, "state",
		    session_state_name((enum session_state)si->state));
	cc_json_u64(j, "call_serial", si->call_serial);
	cc_json_u64(j, "bearer_type", si->bearer_type);
	cc_json_u64(j, "framing_type", si->framing_type);
	cc_json_u64(j, "tx_connect_bps", si->tx_bps);
	cc_json_u64(j, "rx_connect_bps", si->rx_bps);
	cc_json_bool(j, "sequencing_required", si->sequencing_required);
	cc_json_str(j, "calling_number", si->calling);
	cc_json_str(j, "called_number", si->called);
	cc_json_str(j, "ppp_local_address", local[0] ? local : NULL);
	cc_json_str(j, "ppp_remote_address", remote[0] ? remote : NULL);
	cc_json_str(j, "owner", sh->owner[0] ? sh->owner : NULL);
	cc_json_u64(j, "epoch", sh->epoch);
}

static bool cmd_sessions_match(const struct cmd_sessions *cs,
			       const struct record_session_info *si)
{
	if (cs->user)
		return false; /* records carry no user name (see the docs) */
	if (!cs->ip.family)
		return true;
	return si->ppp_family == cs->ip.family &&
	       memcmp(si->ppp_remote, cs->ip.addr,
		      cs->ip.family == 4 ? 4 : 16) == 0;
}

static void cmd_sessions_row(struct cmd_sessions *cs, uint16_t tid,
			     const struct record_session_info *si)
{
	const struct cc_shard *sh =
		&cs->cl.shards[cc_cluster_shard_of(&cs->cl, tid)];
	char local[64], remote[64];
	cs->rows++;
	if (cs->cc->json) {
		cc_json_obj_begin(&cs->j, NULL);
		cmd_sessions_json_fields(&cs->j, tid, si, sh);
		cc_json_obj_end(&cs->j);
		return;
	}
	cc_fmt_addr(si->ppp_family, si->ppp_local, local, sizeof(local));
	cc_fmt_addr(si->ppp_family, si->ppp_remote, remote, sizeof(remote));
	cc_table_add(&cs->t, "%u", tid);
	cc_table_add(&cs->t, "%u", si->sid);
	cc_table_add(&cs->t, "%u", si->peer_sid);
	cc_table_add(&cs->t, "%s",
		     session_state_name((enum session_state)si->state));
	cc_table_add(&cs->t, "%u", si->call_serial);
	cc_table_add_text(&cs->t, si->calling);
	cc_table_add_text(&cs->t, si->called);
	cc_table_add(&cs->t, "%s", remote[0] ? remote : "-");
	cc_table_add(&cs->t, "%s", local[0] ? local : "-");
	cc_table_add_text(&cs->t, sh->owner);
}

static int cmd_sessions_sid_cmp(const void *a, const void *b)
{
	return (int)*(const uint16_t *)a - (int)*(const uint16_t *)b;
}

static int cmd_sessions_build(struct cc *cc, void *arg, size_t i)
{
	struct cmd_sessions *cs = arg;
	char key[CC_KEY_MAX];
	cc_redis_key(cc, key, sizeof(key), "s:%u", cs->cl.tids[i]);
	const char *argv[] = {"HGETALL", key};
	return cc_redis_append(cc, 2, argv) < 0 ? -ENOMEM : 1;
}

/* One tunnel's HGETALL: sid -> record pairs, printed in sid order. */
static int cmd_sessions_done(void *arg, size_t i, unsigned k,
			     const redisReply *r)
{
	struct cmd_sessions *cs = arg;
	uint16_t tid = cs->cl.tids[i];
	size_t n = r->type == REDIS_REPLY_ARRAY ? r->elements / 2 : 0, m = 0;
	struct record_session_info si;
	(void)k;
	if (n > cs->order_cap) {
		void *o = realloc(cs->order, n * sizeof(*cs->order));
		if (!o)
			return -ENOMEM;
		cs->order = o;
		cs->order_cap = n;
	}
	for (size_t e = 0; e < n; e++) {
		uint16_t sid;
		if (cc_parse_id(cc_reply_str(r->element[2 * e], NULL), &sid) ==
		    0) {
			cs->order[m].sid = sid;
			cs->order[m++].idx = 2 * e + 1;
		}
	}
	qsort(cs->order, m, sizeof(*cs->order), cmd_sessions_sid_cmp);
	for (size_t e = 0; e < m; e++) {
		size_t len;
		const char *v =
			cc_reply_str(r->element[cs->order[e].idx], &len);
		if (!v ||
		    record_session_decode((const uint8_t *)v, len, &si) < 0 ||
		    si.sid != cs->order[e].sid) {
			char name[32];
			snprintf(name, sizeof(name), "session %u/%u", tid,
				 cs->order[e].sid);
			cc_err_record(name, v, v ? len : 0);
			cs->unreadable++;
			continue;
		}
		if (cmd_sessions_match(cs, &si))
			cmd_sessions_row(cs, tid, &si);
	}
	return 0;
}

static int cmd_sessions_options(struct cmd_sessions *cs, int argc, char **argv)
{
	static const struct option longs[] = {
		{"tunnel", required_argument, NULL, 't'},
		{"user", required_argument, NULL, 'u'},
		{"ip", required_argument, NULL, 'i'},
		{NULL, 0, NULL, 0},
	};
	bool has_port;
	int c;
	while ((c = cc_getopt(cs->cc, argc, argv, longs, cmd_sessions_usage)) !=
	       -1) {
		switch (c) {
		case 't':
			if (cc_parse_id(optarg, &cs->tunnel) < 0) {
				cc_err("sessions: --tunnel %s is not a tunnel "
				       "ID (1-65535)",
				       optarg);
				return CC_EXIT_USAGE;
			}
			break;
		case 'u':
			cs->user = optarg;
			break;
		case 'i':
			if (cc_parse_addr(optarg, &cs->ip, &has_port) < 0 ||
			    has_port) {
				cc_err("sessions: --ip %s is not an address",
				       optarg);
				return CC_EXIT_USAGE;
			}
			break;
		case 'h':
			return CC_EXIT_OK;
		default:
			return CC_EXIT_USAGE;
		}
	}
	if (optind != argc) {
		cc_err("sessions: unexpected argument %s", argv[optind]);
		return CC_EXIT_USAGE;
	}
	if (cs->user)
		cc_err("note: session records carry no user name until PPP "
		       "is attached, so --user matches nothing");
	return -1;
}

/* --tunnel T: just T, which must exist (record or sessions). */
static int cmd_sessions_one(struct cmd_sessions *cs)
{
	char t[CC_KEY_MAX], s[CC_KEY_MAX];
	cc_redis_key(cs->cc, t, sizeof(t), "t:%u", cs->tunnel);
	cc_redis_key(cs->cc, s, sizeof(s), "s:%u", cs->tunnel);
	const char *argv[] = {"EXISTS", t, s};
	struct redisReply *r = cc_redis_cmd(cs->cc, 3, argv);
	int rc = cc_redis_check(cs->cc, r);
	int64_t n = rc == 0 ? cc_reply_int(r, 0) : 0;
	cc_redis_free(r);
	if (rc < 0)
		return rc;
	if (n <= 0) {
		cc_err("no tunnel %u in Redis", cs->tunnel);
		return -ENOENT;
	}
	cs->cl.tids = malloc(sizeof(*cs->cl.tids));
	if (!cs->cl.tids)
		return -ENOMEM;
	cs->cl.tids[0] = cs->tunnel;
	cs->cl.n_tids = 1;
	return 0;
}

static int cmd_sessions_run(struct cmd_sessions *cs)
{
	static const char *const heads[] = {
		"TUNNEL",  "SESSION", "PEER-SID",  "STATE",    "SERIAL",
		"CALLING", "CALLED",  "REMOTE-IP", "LOCAL-IP", "OWNER"};
	int rc = cc_cluster_load(cs->cc, &cs->cl,
				 CC_LOAD_SHARDS |
					 (cs->tunnel ? 0 : CC_LOAD_TUNNELS));
	if (rc == 0 && cs->tunnel)
		rc = cmd_sessions_one(cs);
	if (rc < 0)
		return rc;
	cc_listing_begin(cs->cc->json, &cs->j, &cs->t, "sessions", 10, heads);
	rc = cc_redis_pipeline(cs->cc, cs->cl.n_tids, cmd_sessions_build,
			       cmd_sessions_done, cs);
	if (rc == 0)
		rc = cc_listing_end(cs->cc->json, &cs->j, &cs->t, cs->rows);
	if (rc == 0 && cs->unreadable)
		rc = -EBADMSG;
	return rc;
}

int cmd_sessions(struct cc *cc, int argc, char **argv)
{
	static struct cmd_sessions cs;
	cs.cc = cc;
	int rc = cmd_sessions_options(&cs, argc, argv);
	if (rc >= 0)
		return rc;
	rc = cc_redis_connect(cc);
	if (rc == 0)
		rc = cmd_sessions_run(&cs);
	cc_table_free(&cs.t);
	cc_cluster_free(&cs.cl);
	free(cs.order);
	return cc_exit_for(rc);
}
