/* The worker's side of the PPP backends: picks one from the configuration
 * (ppp_backend), parses the address pool, sends the data messages pppd
 * produces, clears a session whose pppd ended, and finds the session an
 * ip-up hook reports on. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "worker.h"

/* The ip-up hook's reports name a session: ours while the shard is held
 * and the tunnel alive. Also while its lease is being confirmed: the change
 * goes into memory, and memory is either written whole once the lease is
 * ours again or dropped (with this pppd) if another worker took the shard;
 * either way the report is not lost while we are still its owner. */
static struct session *worker_ppp_find(void *ctx, uint16_t tid, uint16_t sid)
{
	struct worker *w = ctx;
	struct worker_tunnel *wt = w->tunnels[tid];
	if (!wt || wt->freeing || tunnel_is_dead(&wt->t))
		return NULL;
	const struct worker_shard *sh = &w->shards[wt->shard];
	if (!sh->owned && !sh->confirming)
		return NULL;
	return tunnel_session_find(&wt->t, sid);
}

/* A report for a tunnel not in memory yet whose shard is loading here. */
static bool worker_ppp_unsettled(void *ctx, uint16_t tid)
{
	struct worker *w = ctx;
	const struct worker_shard *sh = &w->shards[tid / w->shard_size];
	return sh->loading || sh->acquiring;
}

void worker_ppp_settled(struct worker *w, unsigned shard)
{
	(void)shard; /* held reports are few: retry them all */
	if (w->cfg.ppp_backend == CONFIG_PPP_PPPD && w->pppd.n_held)
		ppp_pppd_settled(&w->pppd);
}

/* bin/tandem-ip-up next to this worker's binary (make install puts every
 * binary in one directory), or "" when it cannot be found. */
static void worker_ppp_hook_path(char *buf, size_t len)
{
	char exe[4096];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	buf[0] = '\0';
	if (n <= 0)
		return;
	exe[n] = '\0';
	char *slash = strrchr(exe, '/');
	if (!slash)
		return;
	*slash = '\0';
	int m = snprintf(buf, len, "%s/tandem-ip-up", exe);
	if (m < 0 || (size_t)m >= len)
		buf[0] = '\0';
}

/* pppd ended: CDN to the LAC, and the tunnel's timer re-armed for it. */
static void worker_ppp_hangup(void *ctx, struct session *s, uint16_t result,
			      uint16_t error)
{
	struct worker *w = ctx;
	struct tunnel *t = s->tunnel;
	struct worker_tunnel *wt = t->owner;
	if (wt->freeing || tunnel_is_dead(t))
		return;
	tunnel_session_close(t, s, result, error, uv_now(w->loop));
	worker_tunnel_after(w, wt);
}

void worker_ppp_output_data(void *ctx, struct tunnel *t, const uint8_t *pkt,
			    size_t len)
{
	struct worker *w = ctx;
	struct worker_tunnel *wt = t->owner;
	const struct worker_shard *sh = &w->shards[wt->shard];
	/* Data carries no state, but a worker that lost the shard must still
	 * fall silent for it (TAKEOVER.md, fencing). */
	if (!sh->owned || sh->confirming || wt->freeing) {
		w->stats.tx_dropped++;
		return;
	}
	worker_zmq_send(w, wt->frontend, &wt->peer.addr, pkt, len);
}

int worker_ppp_init(struct worker *w, struct ppp_backend *out)
{
	const struct config *c = &w->cfg;
	if (c->ppp_backend != CONFIG_PPP_PPPD) {
		*out = ppp_count_backend(&w->ppp);
		return 0;
	}
	struct ppp_pppd_cfg pc;
	memset(&pc, 0, sizeof(pc));
	snprintf(pc.pppd_path, sizeof(pc.pppd_path), "%s", c->pppd_path);
	snprintf(pc.options_path, sizeof(pc.options_path), "%s",
		 c->pppd_options);
	snprintf(pc.dev_ppp, sizeof(pc.dev_ppp), "/dev/ppp");
	if (c->ppp_pool[0]) {
		char err[256];
		if (ppp_pool_parse(c->ppp_pool, &pc.pool, err, sizeof(err)) <
		    0) {
			log_error("bad configuration", "err=%s", LOG_Q(err));
			return -EINVAL;
		}
		pc.have_pool = true;
	}
	snprintf(pc.handover_prefix, sizeof(pc.handover_prefix), "%s",
		 c->redis_prefix);
	snprintf(pc.handover_id, sizeof(pc.handover_id), "%s", w->id);
	worker_ppp_hook_path(pc.hook_path, sizeof(pc.hook_path));
	struct ppp_pppd_ops ops = {.hangup = worker_ppp_hangup,
				   .find = worker_ppp_find,
				   .unsettled = worker_ppp_unsettled,
				   .ctx = w};
	ppp_pppd_init(&w->pppd, w->loop, &w->ss, &pc, &ops);
	*out = ppp_pppd_backend(&w->pppd);
	log_info("PPP backend pppd", "pppd=%s options=%s pool=%s hook=%s",
		 LOG_Q(pc.pppd_path), LOG_Q(pc.options_path),
		 LOG_Q(pc.have_pool ? pc.pool.name : "-"),
		 LOG_Q(w->pppd.rep_on ? pc.hook_path : "-"));
	return 0;
}

void worker_ppp_handoff(struct worker *w, unsigned shard, const char *to)
{
	int sock = -ENOENT;
	bool tried = false;
	unsigned passed = 0, failed = 0;
	if (w->cfg.ppp_backend != CONFIG_PPP_PPPD)
		return;
	for (unsigned tid = shard * w->shard_size;
	     tid < (shard + 1) * w->shard_size && tid < 65536; tid++) {
		struct worker_tunnel *wt = w->tunnels[tid];
		for (unsigned b = 0; wt && b < wt->t.n_buckets; b++)
			for (struct session *s = wt->t.buckets[b]; s;
			     s = s->next) {
				if (!s->ppp)
					continue;
				if (!tried) {
					/* fails unless `to` runs on this host */
					sock = ppp_handover_connect(
						w->cfg.redis_prefix, to);
					tried = true;
				}
				if (sock < 0)
					return;
				if (ppp_pppd_handover(&w->pppd, sock, s) == 0)
					passed++;
				else
					failed++;
			}
	}
	if (sock >= 0)
		close(sock);
	if (passed || failed)
		log_info("pppd ptys handed to the successor",
			 "shard=%u to=%s sessions=%u failed=%u", shard,
			 LOG_Q(to), passed, failed);
}
