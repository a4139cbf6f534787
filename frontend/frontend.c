/* The frontend's lifecycle on one libuv loop: start every part, send each
 * iteration's batches from a uv_check handle, timers, counters, SIGHUP
 * reload, and the clean stop on SIGTERM/SIGINT. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "frontend.h"

#define FRONTEND_STOP_MS 1000 /* unregistering waits at most this long */

static const char *const frontend_drop_names[] = {
#define FRONTEND_X(name, word, desc) word,
	FRONTEND_DROPS(FRONTEND_X)
#undef FRONTEND_X
};

const char *frontend_drop_name(enum frontend_drop d)
{
	return (unsigned)d < FRONTEND_DROP__COUNT ? frontend_drop_names[d]
						  : "?";
}

/* After poll, once per loop iteration: whatever this iteration's datagrams
 * put in batches goes out, one zmq_send per worker (more only when a batch
 * filled up). */
static void frontend_flush_cb(uv_check_t *h)
{
	frontend_zmq_flush(h->data);
}

static void frontend_tick_cb(uv_timer_t *t)
{
	frontend_redis_tick(t->data);
}

static void frontend_stats_cb(uv_timer_t *t)
{
	if (log_enabled(LOG_LEVEL_DEBUG))
		frontend_log_stats(t->data, LOG_LEVEL_DEBUG);
}

void frontend_log_stats(const struct frontend *fe, enum log_level level)
{
	const struct frontend_stats *s = &fe->stats;
	char buf[LOG_LINE_MAX];
	size_t off = 0;
	uint64_t dropped = 0;
	for (unsigned i = 0; i < FRONTEND_DROP__COUNT; i++)
		dropped += s->drop[i];
#define FRONTEND_PUT(...)                                                      \
	do {                                                                   \
		int n_ = snprintf(buf + off, sizeof(buf) - off, __VA_ARGS__);  \
		if (n_ > 0 && (size_t)n_ < sizeof(buf) - off)                  \
			off += (size_t)n_;                                     \
	} while (0)
	FRONTEND_PUT(
		"id=%s rx=%llu rx_bytes=%llu routed=%llu by_peer_hash=%llu "
		"batches=%llu dropped=%llu",
		fe->id, (unsigned long long)s->rx,
		(unsigned long long)s->rx_bytes, (unsigned long long)s->routed,
		(unsigned long long)s->by_peer_hash,
		(unsigned long long)s->batches, (unsigned long long)dropped);
	for (unsigned i = 0; i < FRONTEND_DROP__COUNT; i++)
		FRONTEND_PUT(" %s=%llu", frontend_drop_name(i),
			     (unsigned long long)s->drop[i]);
	for (unsigned i = 1; i < L2TP_REJ__COUNT; i++)
		if (s->rejected[i])
			FRONTEND_PUT(" rej_%s=%llu", l2tp_reject_reason_name(i),
				     (unsigned long long)s->rejected[i]);
	FRONTEND_PUT(" rx_errors=%llu out_batches=%llu out_bad=%llu tx=%llu "
		     "tx_errors=%llu tx_dropped=%llu tx_bad_addr=%llu "
		     "redis=%s events=%llu owned_shards=%u workers=%u",
		     (unsigned long long)s->rx_errors,
		     (unsigned long long)s->out_batches,
		     (unsigned long long)s->out_bad, (unsigned long long)s->tx,
		     (unsigned long long)s->tx_errors,
		     (unsigned long long)s->tx_dropped,
		     (unsigned long long)s->tx_bad_addr,
		     fe->redis.state == 1 ? "up" : "down",
		     (unsigned long long)fe->redis.events,
		     fe->map.shards ? frontend_map_owned(&fe->map) : 0,
		     fe->map.workers ? frontend_map_listed(&fe->map) : 0);
#undef FRONTEND_PUT
	log_msg(level, "counters", "%s", buf);
}

static void frontend_config_changed(const struct config_key_info *key,
				    bool applied, const char *old_text,
				    const char *new_text, void *arg)
{
	(void)arg;
	if (applied)
		log_info("config changed", "key=%s old=%s new=%s", key->name,
			 LOG_Q(old_text), LOG_Q(new_text));
	else
		log_warn("config change needs a restart",
			 "key=%s old=%s new=%s", key->name, LOG_Q(old_text),
			 LOG_Q(new_text));
}

static void frontend_sighup_cb(uv_signal_t *h, int sig)
{
	struct frontend *fe = h->data;
	char err[512];
	(void)sig;
	int rc = config_reload(fe->config_path, &fe->cfg,
			       frontend_config_changed, fe, err, sizeof(err));
	if (rc < 0) {
		log_error("config reload refused: keeping the running values",
			  "err=%s", LOG_Q(err));
		return;
	}
	log_set_level((enum log_level)fe->cfg.log_level);
	log_info("config reloaded", "path=%s restart_needed=%d",
		 LOG_Q(fe->config_path), rc);
}

static void frontend_stop_sig_cb(uv_signal_t *h, int sig)
{
	struct frontend *fe = h->data;
	log_info("signal: stopping", "signal=%s",
		 sig == SIGINT ? "INT" : "TERM");
	frontend_stop(fe);
}

static void frontend_finish(struct frontend *fe)
{
	if (fe->finished)
		return;
	fe->finished = true;
	frontend_redis_close(fe);
	frontend_zmq_close(fe);
	frontend_udp_close(fe);
	uv_check_stop(&fe->flush);
	uv_close((uv_handle_t *)&fe->flush, NULL);
	uv_close((uv_handle_t *)&fe->tick, NULL);
	uv_close((uv_handle_t *)&fe->stats_timer, NULL);
	uv_close((uv_handle_t *)&fe->stop_timer, NULL);
	uv_close((uv_handle_t *)&fe->sig_term, NULL);
	uv_close((uv_handle_t *)&fe->sig_int, NULL);
	uv_close((uv_handle_t *)&fe->sig_hup, NULL);
}

void frontend_free(struct frontend *fe)
{
	frontend_map_free(&fe->map); /* frees the batches */
	free(fe->scratch);
	fe->scratch = NULL;
}

static void frontend_finish_cb(uv_timer_t *t)
{
	frontend_finish(t->data);
}

/* Runs inside a hiredis callback: finish from a timer instead. */
static void frontend_unregistered(void *arg)
{
	struct frontend *fe = arg;
	if (!fe->finished)
		uv_timer_start(&fe->stop_timer, frontend_finish_cb, 0, 0);
}

void frontend_stop(struct frontend *fe)
{
	if (fe->stopping)
		return;
	frontend_udp_stop(fe);	/* no more input */
	frontend_zmq_flush(fe); /* what this iteration batched still goes */
	fe->stopping = true;
	uv_timer_stop(&fe->tick);
	uv_timer_stop(&fe->stats_timer);
	/* Bounded: a Redis that does not answer does not hold us up. */
	uv_timer_start(&fe->stop_timer, frontend_finish_cb, FRONTEND_STOP_MS,
		       0);
	frontend_redis_unregister(fe, frontend_unregistered, fe);
}

int frontend_init(struct frontend *fe, uv_loop_t *loop, const char *path,
		  const struct config *cfg, const char *id)
{
	int rc;
	memset(fe, 0, sizeof(*fe));
	fe->loop = loop;
	fe->config_path = path;
	fe->cfg = *cfg;
	snprintf(fe->id, sizeof(fe->id), "%s", id);
	fe->started_unix = (int64_t)time(NULL);
	/* secret is not reloadable, so the bytes stay put. */
	if (fe->cfg.secret[0]) {
		fe->secret.p = (const uint8_t *)fe->cfg.secret;
		fe->secret.len = strlen(fe->cfg.secret);
		fe->secret_p = &fe->secret;
	}
	fe->scratch = malloc(FRONTEND_SCRATCH_LEN);
	if (!fe->scratch)
		return -ENOMEM;
	rc = frontend_map_init(&fe->map, (unsigned)cfg->shard_count,
			       frontend_zmq_worker_sync, fe);
	if (rc < 0)
		return rc;
	rc = frontend_zmq_init(fe);
	if (rc < 0)
		return rc;
	rc = frontend_udp_init(fe);
	if (rc < 0)
		return rc;

	uv_check_init(loop, &fe->flush);
	fe->flush.data = fe;
	uv_check_start(&fe->flush, frontend_flush_cb);
	uv_timer_init(loop, &fe->tick);
	fe->tick.data = fe;
	uv_timer_start(&fe->tick, frontend_tick_cb, FRONTEND_TICK_MS,
		       FRONTEND_TICK_MS);
	uv_timer_init(loop, &fe->stats_timer);
	fe->stats_timer.data = fe;
	uv_timer_start(&fe->stats_timer, frontend_stats_cb, FRONTEND_STATS_MS,
		       FRONTEND_STATS_MS);
	uv_timer_init(loop, &fe->stop_timer);
	fe->stop_timer.data = fe;
	uv_signal_init(loop, &fe->sig_term);
	uv_signal_init(loop, &fe->sig_int);
	uv_signal_init(loop, &fe->sig_hup);
	fe->sig_term.data = fe->sig_int.data = fe->sig_hup.data = fe;
	uv_signal_start(&fe->sig_term, frontend_stop_sig_cb, SIGTERM);
	uv_signal_start(&fe->sig_int, frontend_stop_sig_cb, SIGINT);
	uv_signal_start(&fe->sig_hup, frontend_sighup_cb, SIGHUP);

	rc = frontend_redis_init(fe);
	if (rc < 0)
		return rc;
	log_info("frontend started",
		 "id=%s listen=%s endpoint=%s shards=%u redis=%s wire=%d",
		 LOG_Q(fe->id), fe->listen_text, LOG_Q(fe->endpoint),
		 fe->map.shard_count,
		 LOG_Q(fe->cfg.redis_sentinels.n ? fe->cfg.redis_sentinels.text
						 : fe->cfg.redis.text),
		 WIRE_VERSION);
	return 0;
}
