/* `clusterctl show tunnel T` and `show session T/S`: every field of one
 * checkpoint record, with the unacked messages a new owner would
 * retransmit, and the worker and epoch of the shard lease covering it. */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <hiredis/hiredis.h>

#include "byteio.h"
#include "clusterctl.h"
#include "l2tp_const.h"
#include "l2tp_header.h"
#include "record.h"
#include "session.h"
#include "tunnel.h"

static const char cmd_show_usage[] = "show tunnel T | show session T/S";

/* What one show needs from Redis. */
struct cmd_show {
	struct cc *cc;
	uint16_t tid;		      /* the tunnel */
	uint16_t sid;		      /* the session (show session) */
	unsigned shard;		      /* shard(tid) */
	struct cc_shard lease;	      /* its lease */
	redisReply *tunnel;	      /* GET P:t:<tid> */
	redisReply *sessions;	      /* HGETALL P:s:<tid> (show tunnel) */
	redisReply *session;	      /* HGET P:s:<tid> <sid> (show session) */
	struct record_tunnel_info ti; /* decoded tunnel */
	bool have_ti;		      /* ti is valid */
	struct cmd_show_sid {
		uint16_t sid; /* hash field */
		size_t idx;   /* element index of its record */
	} * order;	      /* sessions by sid (show tunnel) */
	size_t n_order;	      /* entries in order */
};

static int cmd_show_sid_cmp(const void *a, const void *b)
{
	return (int)((const struct cmd_show_sid *)a)->sid -
	       (int)((const struct cmd_show_sid *)b)->sid;
}

/* The sessions of HGETALL in sid order. */
static int cmd_show_sort(struct cmd_show *s)
{
	size_t n = s->sessions->elements / 2;
	s->order = calloc(n ? n : 1, sizeof(*s->order));
	if (!s->order)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		uint16_t sid;
		const char *f = cc_reply_str(s->sessions->element[2 * i], NULL);
		if (cc_parse_id(f, &sid) == 0)
			s->order[s->n_order++] =
				(struct cmd_show_sid){sid, 2 * i + 1};
	}
	qsort(s->order, s->n_order, sizeof(*s->order), cmd_show_sid_cmp);
	return 0;
}

/* The k-th session in sid order, decoded; false if it does not decode. */
static bool cmd_show_session_at(const struct cmd_show *s, size_t k,
				struct record_session_info *si)
{
	size_t n;
	const char *v = cc_reply_str(s->sessions->element[s->order[k].idx], &n);
	return v && record_session_decode((const uint8_t *)v, n, si) == 0;
}

/* Ns, Nr and message type of one unacked message (type 0: unknown, e.g.
 * a hidden Message Type AVP, which RFC 2661 4.4.1 does not allow). */
static void cmd_show_msg(const uint8_t *m, size_t len, struct l2tp_header *h,
			 unsigned *type)
{
	uint16_t flags_len, vendor, attr, value;
	*type = 0;
	if (l2tp_header_decode(m, len, h, NULL) < 0) {
		memset(h, 0, sizeof(*h));
		return;
	}
	struct byteio_rd r = {.p = m, .len = len, .off = h->payload_off};
	if (byteio_get_u16(&r, &flags_len) == 0 &&
	    byteio_get_u16(&r, &vendor) == 0 &&
	    byteio_get_u16(&r, &attr) == 0 && byteio_get_u16(&r, &value) == 0 &&
	    vendor == L2TP_VENDOR_IETF && attr == L2TP_AVP_MESSAGE_TYPE &&
	    !(flags_len & L2TP_AVP_H))
		*type = value;
}

static void cmd_show_kv(struct cc_table *t, const char *key, const char *fmt,
			...) __attribute__((format(printf, 3, 4)));
static void cmd_show_kv(struct cc_table *t, const char *key, const char *fmt,
			...)
{
	char v[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(v, sizeof(v), fmt, ap);
	va_end(ap);
	cc_table_add(t, "%s", key);
	cc_table_add(t, "%s", v);
}

static void cmd_show_lease_kv(struct cc_table *t, const struct cmd_show *s)
{
	char ttl[32];
	cc_fmt_ms(s->lease.ttl_ms, ttl, sizeof(ttl));
	cmd_show_kv(t, "shard", "%u", s->shard);
	cc_table_add(t, "owner");
	cc_table_add_text(t, s->lease.owner);
	cmd_show_kv(t, "epoch", "%" PRIu64, s->lease.epoch);
	cmd_show_kv(t, "lease-ttl", "%s", ttl);
}

static int cmd_show_tunnel_text(const struct cmd_show *s)
{
	static const char *const mheads[] = {"NS", "NR", "TYPE", "BYTES"};
	static const char *const sheads[] = {"SESSION", "PEER-SID", "STATE",
					     "REMOTE-IP"};
	const struct record_tunnel_info *ti = &s->ti;
	struct cc_table t;
	char peer[80], hex[40];
	int rc;
	cc_fmt_addr_port(ti->peer.family, ti->peer.addr, ti->peer.port, peer,
			 sizeof(peer));
	cc_table_init(&t, 2, NULL);
	cmd_show_kv(&t, "tunnel", "%u", ti->tid);
	cmd_show_kv(&t, "peer-tunnel", "%u", ti->peer_tid);
	cmd_show_kv(&t, "peer", "%s", peer);
	cc_table_add(&t, "peer-hostname");
	cc_table_add_text(&t, ti->peer_hostname);
	cc_table_add(&t, "peer-vendor");
	cc_table_add_text(&t, ti->peer_vendor);
	cmd_show_kv(&t, "state", "%s",
		    tunnel_state_name((enum tunnel_state)ti->state));
	cmd_show_kv(&t, "ns", "%u (next Ns we send)", ti->ns_next);
	cmd_show_kv(&t, "nr", "%u (next Ns expected)", ti->nr);
	cmd_show_kv(&t, "acked", "%u (oldest unacknowledged Ns)", ti->acked);
	cmd_show_kv(&t, "unacked", "%u", ti->n_unacked);
	cmd_show_kv(&t, "peer-rws", "%u", ti->peer_rws);
	cmd_show_kv(&t, "our-rws", "%u", ti->our_rws);
	cmd_show_kv(&t, "auth-pending", "%s", ti->auth_pending ? "yes" : "no");
	if (ti->has_tie_breaker)
		cmd_show_kv(&t, "tie-breaker", "0x%016" PRIx64,
			    ti->tie_breaker);
	else
		cmd_show_kv(&t, "tie-breaker", "-");
	cc_fmt_hex(ti->challenge, sizeof(ti->challenge), hex, sizeof(hex));
	cmd_show_kv(&t, "challenge", "%s", hex);
	cmd_show_kv(&t, "framing-caps", "0x%08" PRIx32, ti->framing_caps);
	cmd_show_kv(&t, "bearer-caps", "0x%08" PRIx32, ti->bearer_caps);
	cmd_show_kv(&t, "firmware", "0x%04x", ti->firmware);
	cmd_show_kv(&t, "hold-until", "%" PRIu64 " ms (writer's clock)",
		    ti->hold_until_ms);
	cmd_show_kv(&t, "sessions", "%zu", s->sessions->elements / 2);
	cmd_show_lease_kv(&t, s);
	cmd_show_kv(&t, "record-bytes", "%zu", s->tunnel->len);
	rc = cc_table_print(&t, stdout, 0);
	cc_table_free(&t);

	cc_table_init(&t, 4, mheads);
	size_t off = 0, len;
	const uint8_t *m;
	while (record_tunnel_unacked_next(ti, &off, &m, &len)) {
		struct l2tp_header h;
		unsigned type;
		cmd_show_msg(m, len, &h, &type);
		cc_table_add(&t, "%u", h.ns);
		cc_table_add(&t, "%u", h.nr);
		cc_table_add(&t, "%s", type ? l2tp_msg_type_name(type) : "?");
		cc_table_add(&t, "%zu", len);
	}
	if (rc == 0 && cc_table_rows(&t)) {
		printf("unacked messages (a new owner retransmits these):\n");
		rc = cc_table_print(&t, stdout, 2);
	}
	cc_table_free(&t);

	cc_table_init(&t, 4, sheads);
	for (size_t k = 0; k < s->n_order; k++) {
		struct record_session_info si;
		char remote[64];
		if (!cmd_show_session_at(s, k, &si))
			continue;
		cc_fmt_addr(si.ppp_family, si.ppp_remote, remote,
			    sizeof(remote));
		cc_table_add(&t, "%u", si.sid);
		cc_table_add(&t, "%u", si.peer_sid);
		cc_table_add(&t, "%s",
			     session_state_name((enum session_state)si.state));
		cc_table_add(&t, "%s", remote[0] ? remote : "-");
	}
	if (rc == 0 && cc_table_rows(&t)) {
		printf("sessions:\n");
		rc = cc_table_print(&t, stdout, 2);
	}
	cc_table_free(&t);
	return rc;
}

static void cmd_show_tunnel_json(const struct cmd_show *s)
{
	const struct record_tunnel_info *ti = &s->ti;
	struct cc_json j;
	char hex[40];
	cc_json_init(&j, stdout);
	cc_json_obj_begin(&j, NULL);
	cmd_tunnels_json_fields(&j, ti, &s->lease, s->shard,
				(int64_t)(s->sessions->elements / 2));
	cc_json_bool(&j, "auth_pending", ti->auth_pending);
	if (ti->has_tie_breaker) {
		snprintf(hex, sizeof(hex), "%016" PRIx64, ti->tie_breaker);
		cc_json_str(&j, "tie_breaker", hex);
	} else {
		cc_json_null(&j, "tie_breaker");
	}
	cc_fmt_hex(ti->challenge, sizeof(ti->challenge), hex, sizeof(hex));
	cc_json_str(&j, "challenge", hex);
	cc_json_u64(&j, "framing_caps", ti->framing_caps);
	cc_json_u64(&j, "bearer_caps", ti->bearer_caps);
	cc_json_u64(&j, "firmware_revision", ti->firmware);
	cc_json_u64(&j, "hold_until_ms", ti->hold_until_ms);
	cc_json_u64(&j, "record_bytes", s->tunnel->len);
	cc_json_arr_begin(&j, "unacked_messages");
	size_t off = 0, len;
	const uint8_t *m;
	while (record_tunnel_unacked_next(ti, &off, &m, &len)) {
		struct l2tp_header h;
		unsigned type;
		cmd_show_msg(m, len, &h, &type);
		cc_json_obj_begin(&j, NULL);
		cc_json_u64(&j, "ns", h.ns);
		cc_json_u64(&j, "nr", h.nr);
		cc_json_str(&j, "type", type ? l2tp_msg_type_name(type) : NULL);
		cc_json_u64(&j, "bytes", len);
		cc_json_obj_end(&j);
	}
	cc_json_arr_end(&j);
	cc_json_arr_begin(&j, "session_list");
	for (size_t k = 0; k < s->n_order; k++) {
		struct record_session_info si;
		if (!cmd_show_session_at(s, k, &si))
			continue;
		cc_json_obj_begin(&j, NULL);
		cc_json_u64(&j, "session_id", si.sid);
		cc_json_u64(&j, "peer_session_id", si.peer_sid);
		cc_json_str(&j, "state",
			    session_state_name((enum session_state)si.state));
		cc_json_obj_end(&j);
	}
	cc_json_arr_end(&j);
	cc_json_obj_end(&j);
	cc_json_finish(&j);
}

static int cmd_show_session_out(const struct cmd_show *s,
				const struct record_session_info *si)
{
	char peer[80] = "-", local[64], remote[64];
	const char *tstate =
		s->have_ti ? tunnel_state_name((enum tunnel_state)s->ti.state)
			   : NULL;
	if (s->have_ti)
		cc_fmt_addr_port(s->ti.peer.family, s->ti.peer.addr,
				 s->ti.peer.port, peer, sizeof(peer));
	if (s->cc->json) {
		struct cc_json j;
		cc_json_init(&j, stdout);
		cc_json_obj_begin(&j, NULL);
		cmd_sessions_json_fields(&j, s->tid, si, &s->lease);
		cc_json_str(&j, "tunnel_peer", s->have_ti ? peer : NULL);
		cc_json_str(&j, "tunnel_state", tstate);
		cc_json_u64(&j, "shard", s->shard);
		cc_json_opt(&j, "lease_ttl_ms", s->lease.ttl_ms);
		cc_json_u64(&j, "record_bytes", s->session->len);
		cc_json_obj_end(&j);
		cc_json_finish(&j);
		return 0;
	}
	struct cc_table t;
	cc_fmt_addr(si->ppp_family, si->ppp_local, local, sizeof(local));
	cc_fmt_addr(si->ppp_family, si->ppp_remote, remote, sizeof(remote));
	cc_table_init(&t, 2, NULL);
	cmd_show_kv(&t, "tunnel", "%u", s->tid);
	cmd_show_kv(&t, "session", "%u", si->sid);
	cmd_show_kv(&t, "peer-session", "%u", si->peer_sid);
	cmd_show_kv(&t, "state", "%s",
		    session_state_name((enum session_state)si->state));
	cmd_show_kv(&t, "call-serial", "%" PRIu32, si->call_serial);
	cmd_show_kv(&t, "bearer-type", "%" PRIu32, si->bearer_type);
	cmd_show_kv(&t, "framing-type", "%" PRIu32, si->framing_type);
	cmd_show_kv(&t, "tx-connect-bps", "%" PRIu32, si->tx_bps);
	cmd_show_kv(&t, "rx-connect-bps", "%" PRIu32, si->rx_bps);
	cmd_show_kv(&t, "sequencing", "%s",
		    si->sequencing_required ? "required" : "no");
	cc_table_add(&t, "calling-number");
	cc_table_add_text(&t, si->calling);
	cc_table_add(&t, "called-number");
	cc_table_add_text(&t, si->called);
	cmd_show_kv(&t, "ppp-local", "%s", local[0] ? local : "- (no PPP yet)");
	cmd_show_kv(&t, "ppp-remote", "%s",
		    remote[0] ? remote : "- (no PPP yet)");
	cmd_show_kv(&t, "tunnel-peer", "%s", peer);
	cmd_show_kv(&t, "tunnel-state", "%s", tstate ? tstate : "-");
	cmd_show_lease_kv(&t, s);
	cmd_show_kv(&t, "record-bytes", "%zu", s->session->len);
	int rc = cc_table_print(&t, stdout, 0);
	cc_table_free(&t);
	return rc;
}

/* Fetch the tunnel record, then sessions (all, or the one sid), then the
 * lease; decode the tunnel. */
static int cmd_show_fetch(struct cmd_show *s)
{
	char t[CC_KEY_MAX], h[CC_KEY_MAX], sid[8];
	struct cc_cluster geo = {.shard_count =
					 (unsigned)s->cc->cfg.shard_count};
	int rc;
	s->shard = cc_cluster_shard_of(&geo, s->tid);
	cc_redis_key(s->cc, t, sizeof(t), "t:%u", s->tid);
	cc_redis_key(s->cc, h, sizeof(h), "s:%u", s->tid);
	snprintf(sid, sizeof(sid), "%u", s->sid);
	const char *get[] = {"GET", t};
	const char *all[] = {"HGETALL", h};
	const char *one[] = {"HGET", h, sid};
	s->tunnel = cc_redis_cmd(s->cc, 2, get);
	if ((rc = cc_redis_check(s->cc, s->tunnel)) < 0)
		return rc;
	if (s->sid)
		s->session = cc_redis_cmd(s->cc, 3, one);
	else
		s->sessions = cc_redis_cmd(s->cc, 2, all);
	if ((rc = cc_redis_check(s->cc, s->sid ? s->session : s->sessions)) <
		    0 ||
	    (rc = cc_cluster_lease(s->cc, s->shard, &s->lease)) < 0)
		return rc;
	size_t len;
	const char *v = cc_reply_str(s->tunnel, &len);
	s->have_ti =
		v && record_tunnel_decode((const uint8_t *)v, len, &s->ti) == 0;
	if (v && !s->have_ti) {
		char name[32];
		snprintf(name, sizeof(name), "tunnel %u", s->tid);
		cc_err_record(name, v, len);
		return -EBADMSG;
	}
	return 0;
}

static int cmd_show_run(struct cmd_show *s)
{
	int rc = cmd_show_fetch(s);
	if (rc < 0)
		return rc;
	if (!s->sid) {
		if (!s->have_ti) {
			cc_err("no tunnel %u in Redis", s->tid);
			return -ENOENT;
		}
		if (s->sessions->type != REDIS_REPLY_ARRAY)
			return -EIO;
		if ((rc = cmd_show_sort(s)) < 0)
			return rc;
		if (!s->cc->json)
			return cmd_show_tunnel_text(s);
		cmd_show_tunnel_json(s);
		return 0;
	}
	struct record_session_info si;
	size_t len;
	const char *v = cc_reply_str(s->session, &len);
	if (!v) {
		if (!s->have_ti)
			cc_err("no tunnel %u in Redis", s->tid);
		else
			cc_err("no session %u/%u in Redis", s->tid, s->sid);
		return -ENOENT;
	}
	if (record_session_decode((const uint8_t *)v, len, &si) < 0) {
		char name[32];
		snprintf(name, sizeof(name), "session %u/%u", s->tid, s->sid);
		cc_err_record(name, v, len);
		return -EBADMSG;
	}
	return cmd_show_session_out(s, &si);
}

int cmd_show(struct cc *cc, int argc, char **argv)
{
	struct cmd_show s = {.cc = cc};
	int c;
	while ((c = cc_getopt(cc, argc, argv, NULL, cmd_show_usage)) != -1)
		return c == 'h' ? CC_EXIT_OK : CC_EXIT_USAGE;
	const char *what = optind < argc ? argv[optind] : "";
	const char *id = optind + 1 < argc ? argv[optind + 1] : NULL;
	if (optind + 2 != argc ||
	    (strcmp(what, "tunnel") != 0 && strcmp(what, "session") != 0)) {
		cc_err("usage: clusterctl -c FILE [--json] %s", cmd_show_usage);
		return CC_EXIT_USAGE;
	}
	if (strcmp(what, "tunnel") == 0 && cc_parse_id(id, &s.tid) < 0) {
		cc_err("show tunnel: %s is not a tunnel ID (1-65535)", id);
		return CC_EXIT_USAGE;
	}
	if (strcmp(what, "session") == 0 &&
	    cc_parse_pair(id, &s.tid, &s.sid) < 0) {
		cc_err("show session: %s is not TUNNEL/SESSION (e.g. 4097/3)",
		       id);
		return CC_EXIT_USAGE;
	}
	int rc = cc_redis_connect(cc);
	if (rc == 0)
		rc = cmd_show_run(&s);
	cc_redis_free(s.tunnel);
	cc_redis_free(s.sessions);
	cc_redis_free(s.session);
	free(s.order);
	return cc_exit_for(rc);
}
