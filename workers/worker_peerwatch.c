/* Peers on this host: their exit is seen the moment it happens.
 *
 * A worker killed with SIGKILL (or crashed) leaves its liveness key in Redis
 * until lease_ttl runs out, and its shards wait that long. A peer on the
 * same host can do better: it holds a pidfd of every other registered
 * worker of its host, and the kernel makes it readable when that process
 * ends. Then the dead worker's liveness key is deleted (only if its
 * registration still names that pid: a restarted worker is left alone) and
 * a claim round takes its shards at once.
 *
 * Nothing here can fence a live worker: a pidfd is readable only once its
 * process has exited, and the pid is taken only after /proc shows that
 * process started when the registration says. Peers on other hosts (or in
 * another pid namespace) are not watched: their leases expire as before. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <hiredis/hiredis.h>

#include "kv_text.h"
#include "log.h"
#include "worker.h"

/* When the registration's start time may lie after the process's: the
 * worker registers once its configuration is read and Redis answered. */
#define PEERWATCH_START_SLACK_S 120

struct worker_peerwatch {
	struct worker *w;
	struct worker_peerwatch *next;
	uv_poll_t poll;
	int fd; /* pidfd */
	int pid;
	bool seen; /* in the last registration list */
	char id[64];
};

/* ---- is pid the worker that registered at `started`? ---------------- */

static long long peerwatch_boot_time(void)
{
	FILE *f = fopen("/proc/stat", "r");
	char line[256];
	long long bt = -1;
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "btime %lld", &bt) == 1)
			break;
	fclose(f);
	return bt;
}

/* The unix time process `pid` started (1 s resolution), or -1. */
static long long peerwatch_start_time(int pid)
{
	char path[64], buf[1024];
	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	FILE *f = fopen(path, "r");
	if (!f)
		return -1;
	size_t n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = 0;
	/* the command name may hold anything, ')' included: after the last */
	char *p = strrchr(buf, ')');
	if (!p)
		return -1;
	/* fields from 3 (state) on; starttime is field 22 */
	unsigned long long ticks = 0;
	int field = 2;
	for (char *tok = strtok(p + 1, " "); tok; tok = strtok(NULL, " "))
		if (++field == 22) {
			ticks = strtoull(tok, NULL, 10);
			break;
		}
	long hz = sysconf(_SC_CLK_TCK);
	long long bt = peerwatch_boot_time();
	if (field != 22 || hz <= 0 || bt < 0)
		return -1;
	return bt + (long long)(ticks / (unsigned long long)hz);
}

/* ---- a peer ended ------------------------------------------------------ */

/* KEYS: workers hash, the peer's alive key, alive zset, gen. ARGV: peer id,
 * its pid. Ends the peer's liveness when its registration still names that
 * pid; 1 when it did. */
static const char peerwatch_lua_gone[] =
	"local v = redis.call('HGET', KEYS[1], ARGV[1])\n"
	"if not v or not string.find(v, ' pid=' .. ARGV[2] .. ' ', 1, true) "
	"then return 0 end\n"
	"if redis.call('DEL', KEYS[2]) == 0 then return 0 end\n"
	"redis.call('ZREM', KEYS[3], ARGV[1])\n"
	"redis.call('INCR', KEYS[4])\n"
	"return 1\n";

static void peerwatch_closed(uv_handle_t *h)
{
	struct worker_peerwatch *p = h->data;
	close(p->fd);
	free(p);
}

static void peerwatch_free(struct worker_peerwatch *p)
{
	uv_poll_stop(&p->poll);
	uv_close((uv_handle_t *)&p->poll, peerwatch_closed);
}

static void peerwatch_unlink(struct worker *w, struct worker_peerwatch *p)
{
	for (struct worker_peerwatch **pp = &w->peerwatch; *pp;
	     pp = &(*pp)->next)
		if (*pp == p) {
			*pp = p->next;
			return;
		}
}

/* One "gone" script in flight: who it was for. */
struct peerwatch_gone {
	struct worker *w;
	int pid;
	char id[64];
};

static void peerwatch_gone_done(void *arg, const redisReply *r)
{
	struct peerwatch_gone *g = arg;
	struct worker *w = g->w;
	/* 0: it had deregistered (a clean stop), or a new process took its
	 * place, or another peer was quicker */
	if (r && r->type == REDIS_REPLY_INTEGER && r->integer == 1 &&
	    !w->stopping) {
		w->stats.peer_exits++;
		log_warn("peer worker on this host exited without "
			 "deregistering: its liveness ended, claiming its "
			 "shards now",
			 "peer=%s pid=%d", LOG_Q(g->id), g->pid);
		worker_claim_again(w);
	}
	free(g);
}

static void peerwatch_exited(uv_poll_t *h, int status, int events)
{
	struct worker_peerwatch *p = h->data;
	struct worker *w = p->w;
	(void)events;
	peerwatch_unlink(w, p);
	/* A poll error says nothing of the process: believe /proc then (the
	 * lease still covers a peer we stop watching). */
	if (status < 0 && peerwatch_start_time(p->pid) >= 0) {
		log_info("lost the watch on a peer worker: its lease expiry "
			 "will tell",
			 "peer=%s pid=%d err=%s", LOG_Q(p->id), p->pid,
			 LOG_Q(uv_strerror(status)));
		peerwatch_free(p);
		return;
	}
	char hash[STATESTORE_KEY_MAX], alive[STATESTORE_KEY_MAX],
		zset[STATESTORE_KEY_MAX], gen[STATESTORE_KEY_MAX], pid[16];
	statestore_key(&w->ss, hash, sizeof(hash), "workers");
	statestore_key(&w->ss, alive, sizeof(alive), "worker:%s:alive", p->id);
	statestore_key(&w->ss, zset, sizeof(zset), "alive");
	statestore_key(&w->ss, gen, sizeof(gen), "gen");
	snprintf(pid, sizeof(pid), "%d", p->pid);
	struct peerwatch_gone *g = malloc(sizeof(*g));
	if (g) {
		g->w = w;
		g->pid = p->pid;
		snprintf(g->id, sizeof(g->id), "%s", p->id);
		const char *argv[] = {"EVAL", peerwatch_lua_gone,
				      "4",    hash,
				      alive,  zset,
				      gen,    p->id,
				      pid};
		/* Redis away: the lease expiry tells, as without a watch */
		if (statestore_query(&w->ss, peerwatch_gone_done, g, 9, argv,
				     NULL) < 0)
			free(g);
	}
	peerwatch_free(p);
}

/* ---- the list of peers to watch ---------------------------------------- */

static struct worker_peerwatch *peerwatch_find(struct worker *w, const char *id)
{
	for (struct worker_peerwatch *p = w->peerwatch; p; p = p->next)
		if (!strcmp(p->id, id))
			return p;
	return NULL;
}

static void peerwatch_open(struct worker *w, const char *id, int pid,
			   long long started)
{
#ifdef SYS_pidfd_open
	int fd = (int)syscall(SYS_pidfd_open, pid, 0);
	if (fd < 0) {
		if (errno != ESRCH)
			LOG_RL(LOG_LEVEL_INFO,
			       "cannot watch peer workers on this host "
			       "(pidfd): their exits wait for lease_ttl",
			       "err=%s", LOG_Q(strerror(errno)));
		return;
	}
	/* pidfd first, then /proc: if the pid was reused meanwhile, /proc
	 * shows the newcomer's start time, and we do not watch it */
	long long st = peerwatch_start_time(pid);
	struct worker_peerwatch *p = calloc(1, sizeof(*p));
	if (st < 0 || started < st - 1 ||
	    started > st + PEERWATCH_START_SLACK_S || !p ||
	    uv_poll_init(w->loop, &p->poll, fd) < 0) {
		free(p);
		close(fd);
		return;
	}
	p->w = w;
	p->fd = fd;
	p->pid = pid;
	p->seen = true;
	snprintf(p->id, sizeof(p->id), "%s", id);
	p->poll.data = p;
	uv_poll_start(&p->poll, UV_READABLE, peerwatch_exited);
	p->next = w->peerwatch;
	w->peerwatch = p;
	log_debug("watching a peer worker on this host", "peer=%s pid=%d",
		  LOG_Q(id), pid);
#else
	(void)w;
	(void)id;
	(void)pid;
	(void)started;
#endif
}

static void peerwatch_registrations(void *arg, const redisReply *r)
{
	struct worker *w = arg;
	char host[64] = "";
	if (!r || r->type != REDIS_REPLY_ARRAY || w->stopping)
		return;
	gethostname(host, sizeof(host) - 1);
	for (struct worker_peerwatch *p = w->peerwatch; p; p = p->next)
		p->seen = false;
	for (size_t i = 0; i + 1 < r->elements; i += 2) {
		const redisReply *k = r->element[i], *v = r->element[i + 1];
		if (k->type != REDIS_REPLY_STRING ||
		    v->type != REDIS_REPLY_STRING || !strcmp(k->str, w->id))
			continue;
		char h[64];
		int64_t pid = kv_text_int(v->str, "pid"),
			started = kv_text_int(v->str, "started");
		if (kv_text_field(v->str, "host", h, sizeof(h)) < 0 ||
		    pid <= 0 || pid > INT32_MAX || started < 0 ||
		    pid == (int64_t)getpid() || strcmp(h, host))
			continue;
		struct worker_peerwatch *p = peerwatch_find(w, k->str);
		if (p && p->pid == (int)pid) {
			p->seen = true;
			continue;
		}
		if (p) { /* restarted: a new process */
			peerwatch_unlink(w, p);
			peerwatch_free(p);
		}
		peerwatch_open(w, k->str, (int)pid, started);
	}
	/* deregistered (a clean stop): nothing more to watch */
	struct worker_peerwatch **pp = &w->peerwatch;
	while (*pp) {
		struct worker_peerwatch *p = *pp;
		if (p->seen) {
			pp = &p->next;
			continue;
		}
		*pp = p->next;
		peerwatch_free(p);
	}
}

void worker_peerwatch_refresh(struct worker *w)
{
	char key[STATESTORE_KEY_MAX];
	if (!w->ss.up || w->stopping)
		return;
	statestore_key(&w->ss, key, sizeof(key), "workers");
	const char *argv[] = {"HGETALL", key};
	statestore_query(&w->ss, peerwatch_registrations, w, 2, argv, NULL);
}

void worker_peerwatch_stop(struct worker *w)
{
	while (w->peerwatch) {
		struct worker_peerwatch *p = w->peerwatch;
		w->peerwatch = p->next;
		peerwatch_free(p);
	}
}
