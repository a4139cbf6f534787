/* `clusterctl status`: the whole cluster at a glance (frontends, workers,
 * shards, Redis role and replication, totals) and the list of what needs
 * attention; the exit status is 1 when that list is not empty. */
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <hiredis/hiredis.h>

#include "clusterctl.h"

#define CMD_STATUS_PROBLEMS 32 /* listed; more are counted */
#define CMD_STATUS_REPLICAS 16 /* replicas listed */
#define CMD_STATUS_RANGES   8  /* unowned shard ranges spelt out */

static const char cmd_status_usage[] = "status";

/* Redis role and replication, from INFO replication. */
struct cmd_status_redis {
	char role[16];		/* master / slave */
	int connected_replicas; /* connected_slaves */
	int online_replicas;	/* of those, state=online */
	char master[96];	/* replica: master_host:master_port */
	char link[16];		/* replica: master_link_status */
	struct {
		char addr[96];	/* ip:port */
		char state[24]; /* online, wait_bgsave, ... */
		int64_t lag_s;	/* lag= */
	} replicas[CMD_STATUS_REPLICAS];
	unsigned n_replicas; /* entries in replicas */
};

struct cmd_status_problems {
	char text[CMD_STATUS_PROBLEMS][256]; /* one line each */
	unsigned n;			     /* found (may exceed listed) */
};

static void cmd_status_problem(struct cmd_status_problems *p, const char *fmt,
			       ...) __attribute__((format(printf, 2, 3)));
static void cmd_status_problem(struct cmd_status_problems *p, const char *fmt,
			       ...)
{
	va_list ap;
	if (p->n < CMD_STATUS_PROBLEMS) {
		va_start(ap, fmt);
		vsnprintf(p->text[p->n], sizeof(p->text[0]), fmt, ap);
		va_end(ap);
	}
	p->n++;
}

/* "key:value" line of INFO text into out. */
static void cmd_status_info(const char *info, const char *key, char *out,
			    size_t cap)
{
	size_t klen = strlen(key);
	for (const char *p = info; p; p = strchr(p, '\n')) {
		p += *p == '\n';
		if (strncmp(p, key, klen) == 0 && p[klen] == ':') {
			size_t n = strcspn(p + klen + 1, "\r\n");
			if (n >= cap)
				n = cap - 1;
			memcpy(out, p + klen + 1, n);
			out[n] = '\0';
			return;
		}
	}
	if (cap)
		out[0] = '\0';
}

/* A "slaveN:ip=...,port=...,state=...,offset=...,lag=..." value's field. */
static void cmd_status_sub(const char *v, const char *key, char *out,
			   size_t cap)
{
	size_t klen = strlen(key);
	out[0] = '\0';
	for (const char *p = v; p; p = strchr(p, ',')) {
		p += *p == ',';
		if (strncmp(p, key, klen) == 0 && p[klen] == '=') {
			size_t n = strcspn(p + klen + 1, ",");
			if (n >= cap)
				n = cap - 1;
			memcpy(out, p + klen + 1, n);
			out[n] = '\0';
			return;
		}
	}
}

static int cmd_status_replication(struct cc *cc, struct cmd_status_redis *rd)
{
	const char *argv[] = {"INFO", "replication"};
	char v[256], host[64], port[16], tmp[24], key[24];
	redisReply *r = cc_redis_cmd(cc, 2, argv);
	int rc = cc_redis_check(cc, r);
	memset(rd, 0, sizeof(*rd));
	if (rc < 0 || !cc_reply_str(r, NULL)) {
		if (rc == 0)
			cc_err("Redis at %s: unexpected INFO reply",
			       cc->cfg.redis.text);
		cc_redis_free(r);
		return -EIO;
	}
	const char *info = r->str;
	cmd_status_info(info, "role", rd->role, sizeof(rd->role));
	cmd_status_info(info, "connected_slaves", v, sizeof(v));
	rd->connected_replicas = atoi(v);
	cmd_status_info(info, "master_host", host, sizeof(host));
	cmd_status_info(info, "master_port", port, sizeof(port));
	if (host[0])
		snprintf(rd->master, sizeof(rd->master), "%s:%s", host, port);
	cmd_status_info(info, "master_link_status", rd->link, sizeof(rd->link));
	for (int i = 0; i < rd->connected_replicas; i++) {
		snprintf(key, sizeof(key), "slave%d", i);
		cmd_status_info(info, key, v, sizeof(v));
		if (!v[0])
			continue;
		cmd_status_sub(v, "state", tmp, sizeof(tmp));
		rd->online_replicas += strcmp(tmp, "online") == 0;
		if (rd->n_replicas == CMD_STATUS_REPLICAS)
			continue;
		unsigned k = rd->n_replicas++;
		snprintf(rd->replicas[k].state, sizeof(rd->replicas[k].state),
			 "%s", tmp);
		cmd_status_sub(v, "ip", host, sizeof(host));
		cmd_status_sub(v, "port", port, sizeof(port));
		snprintf(rd->replicas[k].addr, sizeof(rd->replicas[k].addr),
			 "%s:%s", host, port);
		cmd_status_sub(v, "lag", tmp, sizeof(tmp));
		rd->replicas[k].lag_s = tmp[0] ? atoll(tmp) : -1;
	}
	cc_redis_free(r);
	return 0;
}

/* "0-99,120,130-255" for the first few runs of unowned shards. */
static unsigned cmd_status_unowned(const struct cc_cluster *cl, char *buf,
				   size_t len)
{
	unsigned n = 0, runs = 0;
	size_t k = 0;
	buf[0] = '\0';
	for (unsigned s = 0; s < cl->shard_count; s++) {
		if (cl->shards[s].owner[0])
			continue;
		unsigned e = s;
		while (e + 1 < cl->shard_count && !cl->shards[e + 1].owner[0])
			e++;
		n += e - s + 1;
		if (runs++ < CMD_STATUS_RANGES && k < len) {
			int w = e > s ? snprintf(buf + k, len - k, "%s%u-%u",
						 k ? "," : "", s, e)
				      : snprintf(buf + k, len - k, "%s%u",
						 k ? "," : "", s);
			k += w > 0 ? (size_t)w : 0;
		} else if (runs == CMD_STATUS_RANGES + 1 && k < len) {
			snprintf(buf + k, len - k, ",...");
			k += 4;
		}
		s = e;
	}
	return n;
}

static void cmd_status_check(const struct cc *cc, const struct cc_cluster *cl,
			     const struct cmd_status_redis *rd,
			     struct cmd_status_problems *p, unsigned *unowned,
			     unsigned *unprotected)
{
	char ranges[160];
	*unowned = cmd_status_unowned(cl, ranges, sizeof(ranges));
	*unprotected = 0;
	for (unsigned s = 0; s < cl->shard_count; s++)
		*unprotected += cl->shards[s].unprotected;
	if (*unowned)
		cmd_status_problem(p, "%u of %u shards have no owner (%s)",
				   *unowned, cl->shard_count, ranges);
	for (size_t i = 0; i < cl->n_workers; i++) {
		const struct cc_proc *w = &cl->workers[i];
		if (!w->alive)
			cmd_status_problem(p,
					   "worker %s is registered but its "
					   "alive key is gone",
					   w->id);
		else if (w->protected_state == 0)
			cmd_status_problem(p,
					   "worker %s is unprotected "
					   "(protected=0): %u shards without "
					   "checkpoints",
					   w->id, w->shards);
	}
	unsigned fe_alive = 0;
	for (size_t i = 0; i < cl->n_frontends; i++) {
		fe_alive += cl->frontends[i].alive;
		if (!cl->frontends[i].alive)
			cmd_status_problem(p,
					   "frontend %s is registered but its "
					   "alive key is gone",
					   cl->frontends[i].id);
	}
	if (!fe_alive)
		cmd_status_problem(p, "no live frontend: nothing routes L2TP");
	if (strcmp(rd->role, "master") != 0)
		cmd_status_problem(p,
				   "Redis at %s is a replica (role %s), not "
				   "the primary: workers cannot checkpoint",
				   cc->cfg.redis.text,
				   rd->role[0] ? rd->role : "?");
	if (rd->master[0] && strcmp(rd->link, "up") != 0)
		cmd_status_problem(p, "replication link to %s is %s",
				   rd->master, rd->link[0] ? rd->link : "?");
	for (unsigned i = 0; i < rd->n_replicas; i++)
		if (strcmp(rd->replicas[i].state, "online") != 0)
			cmd_status_problem(p, "replica %s is %s",
					   rd->replicas[i].addr,
					   rd->replicas[i].state);
	if (rd->online_replicas < cc->cfg.redis_wait_replicas)
		cmd_status_problem(p,
				   "redis_wait_replicas is %d but %d "
				   "replicas are online",
				   cc->cfg.redis_wait_replicas,
				   rd->online_replicas);
}

static void cmd_status_json(const struct cc *cc, const struct cc_cluster *cl,
			    const struct cmd_status_redis *rd,
			    const struct cmd_status_problems *p,
			    unsigned unowned, unsigned unprotected)
{
	struct cc_json j;
	cc_json_init(&j, stdout);
	cc_json_obj_begin(&j, NULL);
	cc_json_bool(&j, "healthy", p->n == 0);
	cc_json_arr_begin(&j, "problems");
	for (unsigned i = 0; i < p->n && i < CMD_STATUS_PROBLEMS; i++)
		cc_json_str(&j, NULL, p->text[i]);
	cc_json_arr_end(&j);
	cc_json_u64(&j, "problems_total", p->n);
	cc_json_obj_begin(&j, "redis");
	cc_json_str(&j, "address", cc->cfg.redis.text);
	cc_json_str(&j, "prefix", cc->cfg.redis_prefix);
	cc_json_str(&j, "role", rd->role);
	cc_json_u64(&j, "connected_replicas", (uint64_t)rd->connected_replicas);
	cc_json_u64(&j, "online_replicas", (uint64_t)rd->online_replicas);
	cc_json_u64(&j, "wait_replicas", (uint64_t)cc->cfg.redis_wait_replicas);
	cc_json_str(&j, "master", rd->master[0] ? rd->master : NULL);
	cc_json_str(&j, "master_link_status", rd->link[0] ? rd->link : NULL);
	cc_json_arr_begin(&j, "replicas");
	for (unsigned i = 0; i < rd->n_replicas; i++) {
		cc_json_obj_begin(&j, NULL);
		cc_json_str(&j, "address", rd->replicas[i].addr);
		cc_json_str(&j, "state", rd->replicas[i].state);
		cc_json_opt(&j, "lag_s", rd->replicas[i].lag_s);
		cc_json_obj_end(&j);
	}
	cc_json_arr_end(&j);
	cc_json_obj_end(&j);
	cc_json_arr_begin(&j, "frontends");
	for (size_t i = 0; i < cl->n_frontends; i++) {
		const struct cc_proc *f = &cl->frontends[i];
		cc_json_obj_begin(&j, NULL);
		cc_json_str(&j, "id", f->id);
		cc_json_str(&j, "host", f->host[0] ? f->host : NULL);
		cc_json_str(&j, "version", f->version[0] ? f->version : NULL);
		cc_json_opt(&j, "uptime_s", cc_proc_uptime(f));
		cc_json_str(&j, "listen", f->listen[0] ? f->listen : NULL);
		cc_json_str(&j, "endpoint",
			    f->endpoint[0] ? f->endpoint : NULL);
		cc_json_opt(&j, "wire", f->wire);
		cc_json_opt(&j, "pid", f->pid);
		cc_json_bool(&j, "alive", f->alive);
		cc_json_opt(&j, "alive_ttl_ms", f->alive_ttl_ms);
		cc_json_obj_end(&j);
	}
	cc_json_arr_end(&j);
	cmd_workers_json(&j, cl);
	cc_json_obj_begin(&j, "shards");
	cc_json_u64(&j, "total", cl->shard_count);
	cc_json_u64(&j, "owned", cl->shard_count - unowned);
	cc_json_u64(&j, "unowned", unowned);
	cc_json_u64(&j, "unprotected", unprotected);
	cc_json_arr_begin(&j, "unowned_list");
	for (unsigned s = 0; s < cl->shard_count; s++)
		if (!cl->shards[s].owner[0])
			cc_json_u64(&j, NULL, s);
	cc_json_arr_end(&j);
	cc_json_obj_end(&j);
	cc_json_obj_begin(&j, "totals");
	cc_json_u64(&j, "tunnels", cl->n_tids);
	cc_json_u64(&j, "sessions", cl->total_sessions);
	cc_json_obj_end(&j);
	cc_json_obj_end(&j);
	cc_json_finish(&j);
}

static int cmd_status_text(const struct cc *cc, const struct cc_cluster *cl,
			   const struct cmd_status_redis *rd,
			   const struct cmd_status_problems *p,
			   unsigned unowned, unsigned unprotected)
{
	static const char *const fe_heads[] = {
		"ID",  "HOST",	 "VERSION", "LISTEN",	 "WIRE",
		"PID", "UPTIME", "ALIVE",   "ALIVE-TTL", "ENDPOINT"};
	struct cc_table t;
	char ttl[32];
	unsigned alive = 0;
	int rc;
	printf("Redis      %s  prefix=%s  role=%s  replicas=%d online=%d",
	       cc->cfg.redis.text, cc->cfg.redis_prefix, rd->role,
	       rd->connected_replicas, rd->online_replicas);
	if (rd->master[0])
		printf("  primary=%s link=%s", rd->master, rd->link);
	printf("\n");
	for (unsigned i = 0; i < rd->n_replicas; i++)
		printf("  replica %s %s lag=%llds\n", rd->replicas[i].addr,
		       rd->replicas[i].state, (long long)rd->replicas[i].lag_s);
	for (size_t i = 0; i < cl->n_frontends; i++)
		alive += cl->frontends[i].alive;
	printf("Frontends  %zu registered, %u alive\n", cl->n_frontends, alive);
	cc_table_init(&t, 10, fe_heads);
	for (size_t i = 0; i < cl->n_frontends; i++) {
		const struct cc_proc *f = &cl->frontends[i];
		int64_t up = cc_proc_uptime(f);
		cc_fmt_ms(f->alive_ttl_ms, ttl, sizeof(ttl));
		cc_table_add_text(&t, f->id);
		cc_table_add_text(&t, f->host);
		cc_table_add_text(&t, f->version);
		cc_table_add_text(&t, f->listen);
		cc_table_add_opt(&t, f->wire);
		cc_table_add_opt(&t, f->pid);
		char upt[32];
		cc_fmt_ms(up < 0 ? -1 : up * 1000, upt, sizeof(upt));
		cc_table_add(&t, "%s", upt);
		cc_table_add(&t, "%s", f->alive ? "yes" : "NO");
		cc_table_add(&t, "%s", ttl);
		cc_table_add_text(&t, f->endpoint);
	}
	rc = cl->n_frontends ? cc_table_print(&t, stdout, 2) : 0;
	cc_table_free(&t);
	alive = 0;
	for (size_t i = 0; i < cl->n_workers; i++)
		alive += cl->workers[i].alive;
	printf("Workers    %zu registered, %u alive\n", cl->n_workers, alive);
	cmd_workers_rows(cl, &t, false);
	if (rc == 0 && cl->n_workers)
		rc = cc_table_print(&t, stdout, 2);
	cc_table_free(&t);
	printf("Shards     %u: %u owned, %u unowned, %u unprotected\n",
	       cl->shard_count, cl->shard_count - unowned, unowned,
	       unprotected);
	printf("Totals     %zu tunnels, %llu sessions\n", cl->n_tids,
	       (unsigned long long)cl->total_sessions);
	if (!p->n) {
		printf("Health     ok\n");
		return rc;
	}
	printf("Health     ATTENTION (%u)\n", p->n);
	for (unsigned i = 0; i < p->n && i < CMD_STATUS_PROBLEMS; i++)
		printf("  - %s\n", p->text[i]);
	if (p->n > CMD_STATUS_PROBLEMS)
		printf("  - ... and %u more\n", p->n - CMD_STATUS_PROBLEMS);
	return rc;
}

int cmd_status(struct cc *cc, int argc, char **argv)
{
	struct cc_cluster cl = {0};
	struct cmd_status_redis rd;
	static struct cmd_status_problems p;
	unsigned unowned = 0, unprotected = 0;
	int c;
	while ((c = cc_getopt(cc, argc, argv, NULL, cmd_status_usage)) != -1)
		return c == 'h' ? CC_EXIT_OK : CC_EXIT_USAGE;
	if (optind != argc) {
		cc_err("status: unexpected argument %s", argv[optind]);
		return CC_EXIT_USAGE;
	}
	int rc = cc_redis_connect(cc);
	if (rc == 0)
		rc = cmd_status_replication(cc, &rd);
	if (rc == 0)
		rc = cc_cluster_load(cc, &cl,
				     CC_LOAD_SHARDS | CC_LOAD_PROCS |
					     CC_LOAD_SESSIONS);
	if (rc == 0) {
		cmd_status_check(cc, &cl, &rd, &p, &unowned, &unprotected);
		if (cc->json)
			cmd_status_json(cc, &cl, &rd, &p, unowned, unprotected);
		else
			rc = cmd_status_text(cc, &cl, &rd, &p, unowned,
					     unprotected);
	}
	cc_cluster_free(&cl);
	if (rc < 0)
		return cc_exit_for(rc);
	return p.n ? CC_EXIT_ATTENTION : CC_EXIT_OK;
}
