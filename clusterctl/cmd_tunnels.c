/* `clusterctl tunnels`: every tunnel with a checkpoint (P:t:<tid>), decoded,
 * with its session count and the worker whose lease covers its shard;
 * filtered by owner, peer address or state. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <hiredis/hiredis.h>

#include "clusterctl.h"
#include "record.h"
#include "tunnel.h"

static const char cmd_tunnels_usage[] =
	"tunnels [--worker W] [--peer ADDR[:PORT]] [--state S]";

struct cmd_tunnels {
	struct cc *cc;
	struct cc_cluster cl;  /* shards (owners) and tunnel IDs */
	uint16_t *tids;	       /* those to fetch (worker filter applied) */
	size_t n;	       /* entries in tids */
	const char *worker;    /* --worker, or NULL */
	struct wire_addr peer; /* --peer */
	bool peer_set;	       /* --peer given */
	bool peer_port;	       /* ... with a port */
	int state;	       /* --state, -1 = any */
	struct record_tunnel_info ti; /* the tunnel being handled */
	bool have;		      /* ti holds a record that passed */
	size_t rows;		      /* tunnels printed */
	unsigned unreadable;	      /* records that did not decode */
	struct cc_json j;	      /* --json */
	struct cc_table t;	      /* text */
};

int cmd_tunnels_state(const char *name)
{
	for (int s = TUNNEL_IDLE; s <= TUNNEL_DEAD; s++)
		if (strcasecmp(name, tunnel_state_name((enum tunnel_state)s)) ==
		    0)
			return s;
	return -1;
}

void cmd_tunnels_json_fields(struct cc_json *j,
			     const struct record_tunnel_info *ti,
			     const struct cc_shard *sh, unsigned shard,
			     int64_t sessions)
{
	char addr[64], peer[80];
	cc_fmt_addr(ti->peer.family, ti->peer.addr, addr, sizeof(addr));
	cc_fmt_addr_port(ti->peer.family, ti->peer.addr, ti->peer.port, peer,
			 sizeof(peer));
	cc_json_u64(j, "tunnel_id", ti->tid);
	cc_json_u64(j, "peer_tunnel_id", ti->peer_tid);
	cc_json_str(j, "peer", peer);
	cc_json_str(j, "peer_address", addr[0] ? addr : NULL);
	cc_json_u64(j, "peer_port", ti->peer.port);
	cc_json_str(j, "peer_hostname", ti->peer_hostname);
	cc_json_str(j, "peer_vendor", ti->peer_vendor);
	cc_json_str(j, "state",
		    tunnel_state_name((enum tunnel_state)ti->state));
	cc_json_opt(j, "sessions", sessions);
	cc_json_u64(j, "ns", ti->ns_next);
	cc_json_u64(j, "nr", ti->nr);
	cc_json_u64(j, "acked", ti->acked);
	cc_json_u64(j, "unacked", ti->n_unacked);
	cc_json_u64(j, "peer_rws", ti->peer_rws);
	cc_json_u64(j, "our_rws", ti->our_rws);
	cc_json_u64(j, "shard", shard);
	cc_json_str(j, "owner", sh->owner[0] ? sh->owner : NULL);
	cc_json_u64(j, "epoch", sh->epoch);
	cc_json_opt(j, "lease_ttl_ms", sh->ttl_ms);
}

static bool cmd_tunnels_match(const struct cmd_tunnels *ct)
{
	const struct record_tunnel_info *ti = &ct->ti;
	if (ct->state >= 0 && ti->state != ct->state)
		return false;
	if (!ct->peer_set)
		return true;
	size_t alen = ct->peer.family == 4 ? 4 : 16;
	return ti->peer.family == ct->peer.family &&
	       memcmp(ti->peer.addr, ct->peer.addr, alen) == 0 &&
	       (!ct->peer_port || ti->peer.port == ct->peer.port);
}

static int cmd_tunnels_build(struct cc *cc, void *arg, size_t i)
{
	struct cmd_tunnels *ct = arg;
	char t[CC_KEY_MAX], s[CC_KEY_MAX];
	cc_redis_key(cc, t, sizeof(t), "t:%u", ct->tids[i]);
	cc_redis_key(cc, s, sizeof(s), "s:%u", ct->tids[i]);
	const char *get[] = {"GET", t};
	const char *hlen[] = {"HLEN", s};
	if (cc_redis_append(cc, 2, get) < 0 || cc_redis_append(cc, 2, hlen) < 0)
		return -ENOMEM;
	return 2;
}

static void cmd_tunnels_row(struct cmd_tunnels *ct, int64_t sessions)
{
	const struct record_tunnel_info *ti = &ct->ti;
	unsigned shard = cc_cluster_shard_of(&ct->cl, ti->tid);
	const struct cc_shard *sh = &ct->cl.shards[shard];
	char peer[80];
	ct->rows++;
	if (ct->cc->json) {
		cc_json_obj_begin(&ct->j, NULL);
		cmd_tunnels_json_fields(&ct->j, ti, sh, shard, sessions);
		cc_json_obj_end(&ct->j);
		return;
	}
	cc_fmt_addr_port(ti->peer.family, ti->peer.addr, ti->peer.port, peer,
			 sizeof(peer));
	cc_table_add(&ct->t, "%u", ti->tid);
	cc_table_add(&ct->t, "%u", ti->peer_tid);
	cc_table_add(&ct->t, "%s", peer);
	cc_table_add_text(&ct->t, ti->peer_hostname);
	cc_table_add(&ct->t, "%s",
		     tunnel_state_name((enum tunnel_state)ti->state));
	cc_table_add(&ct->t, "%lld", (long long)sessions);
	cc_table_add(&ct->t, "%u", ti->ns_next);
	cc_table_add(&ct->t, "%u", ti->nr);
	cc_table_add(&ct->t, "%u", ti->n_unacked);
	cc_table_add(&ct->t, "%u", shard);
	cc_table_add_text(&ct->t, sh->owner);
	cc_table_add(&ct->t, "%llu", (unsigned long long)sh->epoch);
}

static int cmd_tunnels_done(void *arg, size_t i, unsigned k,
			    const redisReply *r)
{
	struct cmd_tunnels *ct = arg;
	size_t len;
	const char *v = cc_reply_str(r, &len);
	if (k == 0) {
		ct->have = false;
		if (!v)
			return 0; /* gone since the SCAN: the tunnel ended */
		if (record_tunnel_decode((const uint8_t *)v, len, &ct->ti) <
			    0 ||
		    ct->ti.tid != ct->tids[i]) {
			char name[32];
			snprintf(name, sizeof(name), "tunnel %u", ct->tids[i]);
			cc_err_record(name, v, len);
			ct->unreadable++;
			return 0;
		}
		ct->have = cmd_tunnels_match(ct);
		return 0;
	}
	if (ct->have)
		cmd_tunnels_row(ct, cc_reply_int(r, 0));
	return 0;
}

static int cmd_tunnels_options(struct cmd_tunnels *ct, int argc, char **argv)
{
	static const struct option longs[] = {
		{"worker", required_argument, NULL, 'w'},
		{"peer", required_argument, NULL, 'p'},
		{"state", required_argument, NULL, 's'},
		{NULL, 0, NULL, 0},
	};
	int c;
	while ((c = cc_getopt(ct->cc, argc, argv, longs, cmd_tunnels_usage)) !=
	       -1) {
		switch (c) {
		case 'w':
			ct->worker = optarg;
			break;
		case 'p':
			if (cc_parse_addr(optarg, &ct->peer, &ct->peer_port) <
			    0) {
				cc_err("tunnels: --peer %s is not an address",
				       optarg);
				return CC_EXIT_USAGE;
			}
			ct->peer_set = true;
			break;
		case 's':
			if ((ct->state = cmd_tunnels_state(optarg)) < 0) {
				cc_err("tunnels: --state %s is not one of "
				       "idle, wait_ctl_conn, established, "
				       "closing, hold, dead",
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
		cc_err("tunnels: unexpected argument %s", argv[optind]);
		return CC_EXIT_USAGE;
	}
	return -1;
}

static int cmd_tunnels_run(struct cmd_tunnels *ct)
{
	static const char *const heads[] = {
		"TUNNEL", "PEER-TID", "PEER",	 "HOST",  "STATE", "SESSIONS",
		"NS",	  "NR",	      "UNACKED", "SHARD", "OWNER", "EPOCH"};
	int rc = cc_cluster_load(ct->cc, &ct->cl,
				 CC_LOAD_SHARDS | CC_LOAD_TUNNELS);
	if (rc < 0)
		return rc;
	ct->tids = calloc(ct->cl.n_tids ? ct->cl.n_tids : 1, sizeof(*ct->tids));
	if (!ct->tids)
		return -ENOMEM;
	for (size_t i = 0; i < ct->cl.n_tids; i++) {
		uint16_t tid = ct->cl.tids[i];
		const char *owner =
			ct->cl.shards[cc_cluster_shard_of(&ct->cl, tid)].owner;
		if (!ct->worker ||
		    strcmp(ct->worker, owner[0] ? owner : "-") == 0)
			ct->tids[ct->n++] = tid;
	}
	cc_listing_begin(ct->cc->json, &ct->j, &ct->t, "tunnels", 12, heads);
	rc = cc_redis_pipeline(ct->cc, ct->n, cmd_tunnels_build,
			       cmd_tunnels_done, ct);
	if (rc == 0)
		rc = cc_listing_end(ct->cc->json, &ct->j, &ct->t, ct->rows);
	if (rc == 0 && ct->unreadable)
		rc = -EBADMSG;
	return rc;
}

int cmd_tunnels(struct cc *cc, int argc, char **argv)
{
	static struct cmd_tunnels ct;
	ct.cc = cc;
	ct.state = -1;
	int rc = cmd_tunnels_options(&ct, argc, argv);
	if (rc >= 0)
		return rc;
	rc = cc_redis_connect(cc);
	if (rc == 0)
		rc = cmd_tunnels_run(&ct);
	cc_table_free(&ct.t);
	cc_cluster_free(&ct.cl);
	free(ct.tids);
	return cc_exit_for(rc);
}
