/* The frontend's /metrics: struct frontend_stats as Prometheus counters, the
 * datagrams routed to each worker (zmq_send accepted or refused), and gauges
 * of the shard map and the Redis link. */
#include <stdio.h>
#include <string.h>

#include "frontend_metrics.h"

#ifndef TANDEM_VERSION
#define TANDEM_VERSION "dev"
#endif

static void fm_counter(struct metrics *m, const char *name, const char *help,
		       uint64_t v)
{
	metrics_add(metrics_family(m, name, METRICS_COUNTER, help), (double)v,
		    NULL, 0);
}

static void fm_gauge(struct metrics *m, const char *name, const char *help,
		     double v)
{
	metrics_add(metrics_family(m, name, METRICS_GAUGE, help), v, NULL, 0);
}

static void fm_datagrams(const struct frontend *fe, struct metrics *m)
{
	const struct frontend_stats *s = &fe->stats;
	struct metrics_family *f;
	char r[48];
	fm_counter(m, "tandem_frontend_datagrams_received_total",
		   "L2TP datagrams received", s->rx);
	fm_counter(m, "tandem_frontend_received_bytes_total",
		   "Bytes of the datagrams received", s->rx_bytes);
	fm_counter(m, "tandem_frontend_receive_errors_total", "recvmmsg errors",
		   s->rx_errors);
	fm_counter(m, "tandem_frontend_datagrams_routed_total",
		   "Datagrams handed to a worker", s->routed);
	fm_counter(m, "tandem_frontend_routed_by_peer_hash_total",
		   "Datagrams for tunnel ID 0 routed by a hash of the peer",
		   s->by_peer_hash);
	f = metrics_family(m, "tandem_frontend_drops_total", METRICS_COUNTER,
			   "Datagrams dropped, by reason");
	for (unsigned i = 0; i < FRONTEND_DROP__COUNT; i++)
		metrics_add1(f, (double)s->drop[i], "reason",
			     frontend_drop_name(i));
	f = metrics_family(m, "tandem_frontend_malformed_total",
			   METRICS_COUNTER,
			   "Datagrams the L2TP codec refused (counted in drops "
			   "as malformed), by codec reason");
	for (unsigned i = 1; i < L2TP_REJ__COUNT; i++)
		metrics_add1(f, (double)s->rejected[i], "reason",
			     metrics_label_lower(l2tp_reject_reason_name(i), r,
						 sizeof(r)));
	fm_counter(m, "tandem_frontend_datagrams_sent_total",
		   "Datagrams sent to peers (the workers' replies)", s->tx);
	f = metrics_family(m, "tandem_frontend_send_errors_total",
			   METRICS_COUNTER,
			   "Replies not sent: refused by the kernel, send "
			   "buffer full, or a peer family the socket lacks");
	metrics_add1(f, (double)s->tx_errors, "reason", "kernel");
	metrics_add1(f, (double)s->tx_dropped, "reason", "buffer_full");
	metrics_add1(f, (double)s->tx_bad_addr, "reason", "bad_family");
	f = metrics_family(m, "tandem_frontend_batches_total", METRICS_COUNTER,
			   "ZeroMQ batches: PACKET_IN sent to workers, "
			   "PACKET_OUT received from them, and received ones "
			   "that did not decode");
	metrics_add1(f, (double)s->batches, "direction", "sent");
	metrics_add1(f, (double)s->out_batches, "direction", "received");
	metrics_add1(f, (double)s->out_bad, "direction", "received_bad");
}

static void fm_workers(const struct frontend *fe, struct metrics *m)
{
	struct metrics_family *f = metrics_family(
		m, "tandem_frontend_worker_datagrams_total", METRICS_COUNTER,
		"Datagrams for each worker in the table: handed to zmq_send, "
		"or refused by it (counted while the worker is known)");
	for (unsigned i = 0; fe->map.workers && i < FRONTEND_MAX_WORKERS; i++) {
		const struct frontend_worker *w = &fe->map.workers[i];
		if (!w->in_use)
			continue;
		struct metrics_label l[] = {{"worker", w->id},
					    {"result", "sent"}};
		metrics_add(f, (double)w->sent, l, 2);
		l[1].value = "dropped";
		metrics_add(f, (double)w->dropped, l, 2);
	}
	fm_gauge(m, "tandem_frontend_shards_owned",
		 "Shards with an owner in the shard map",
		 fe->map.shards ? frontend_map_owned(&fe->map) : 0);
	fm_gauge(m, "tandem_frontend_workers", "Workers listed in P:workers",
		 fe->map.workers ? frontend_map_listed(&fe->map) : 0);
	fm_gauge(m, "tandem_frontend_redis_up", "1 while Redis answers",
		 fe->redis.state == 1);
	fm_counter(m, "tandem_frontend_redis_events_total",
		   "P:events messages applied", fe->redis.events);
	fm_counter(m, "tandem_frontend_redis_reconnects_total",
		   "Times the Redis link came up", fe->redis.reconnects);
}

void frontend_metrics_collect(void *arg, struct metrics *m)
{
	const struct frontend *fe = arg;
	struct metrics_label info[] = {{"id", fe->id},
				       {"version", TANDEM_VERSION}};
	metrics_add(metrics_family(m, "tandem_frontend_info", METRICS_GAUGE,
				   "Always 1: the frontend's ID and version"),
		    1, info, 2);
	fm_datagrams(fe, m);
	fm_workers(fe, m);
}

int frontend_metrics_start(struct metrics_http *h, struct frontend *fe,
			   const struct config_addr *addr, char *err,
			   size_t errlen)
{
	int rc = metrics_http_start(h, fe->loop, addr, frontend_metrics_collect,
				    fe, err, errlen);
	if (rc == 0 && addr->text[0])
		log_info("metrics served", "url=http://%s/metrics",
			 h->listen_text);
	return rc;
}
