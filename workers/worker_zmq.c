/* The worker's ZeroMQ sockets: one PULL socket bound on worker_endpoint that
 * frontends push PACKET_IN batches to, driven from the libuv loop through
 * ZMQ_FD (edge-triggered: drained until ZMQ_EVENTS shows nothing), and one
 * PUSH socket per frontend for PACKET_OUT batches, filled during a loop
 * iteration and sent once at its end. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <zmq.h>

#include "log.h"
#include "worker.h"

#define WORKER_ZMQ_BATCH 65536 /* bytes per PACKET_OUT batch */
#define WORKER_ZMQ_HWM	 100000

/* Datagrams taken from the PULL socket per loop iteration at most: a flood
 * (or 10,000 tunnels retransmitting at once after a takeover) must not keep
 * the loop from its timers, the heartbeat among them. */
#define WORKER_ZMQ_RX_BUDGET 4096

static void worker_zmq_more(uv_idle_t *h);

/* Take batches until the socket is empty or the budget is spent; in that
 * case an idle handle brings us back next iteration (ZMQ_FD is
 * edge-triggered: it will not wake the loop again for what is queued). */
static void worker_zmq_drain(struct worker *w)
{
	uint64_t before = w->stats.rx_packets;
	for (;;) {
		int events = 0;
		size_t elen = sizeof(events);
		if (w->stats.rx_packets - before >= WORKER_ZMQ_RX_BUDGET) {
			w->stats.rx_deferred++;
			uv_idle_start(&w->pull_more, worker_zmq_more);
			return;
		}
		if (zmq_getsockopt(w->pull, ZMQ_EVENTS, &events, &elen) < 0 ||
		    !(events & ZMQ_POLLIN)) {
			uv_idle_stop(&w->pull_more);
			return;
		}
		zmq_msg_t msg;
		zmq_msg_init(&msg);
		if (zmq_msg_recv(&msg, w->pull, ZMQ_DONTWAIT) < 0) {
			zmq_msg_close(&msg);
			return;
		}
		struct wire_reader r;
		struct wire_packet p;
		int rc = wire_reader_begin(&r, zmq_msg_data(&msg),
					   zmq_msg_size(&msg));
		if (rc == 0 && r.type == WIRE_PACKET_IN) {
			while ((rc = wire_reader_next(&r, &p)) == 1)
				worker_packet(w, r.origin, &p);
		}
		if (rc < 0 || r.type != WIRE_PACKET_IN) {
			w->stats.rx_bad_batches++;
			LOG_RL(LOG_LEVEL_WARN, "bad batch from frontend",
			       "origin=%s version=%u", LOG_Q(r.origin),
			       r.version);
		}
		zmq_msg_close(&msg);
	}
}

static void worker_zmq_more(uv_idle_t *h)
{
	worker_zmq_drain(h->data);
}

static void worker_zmq_readable(uv_poll_t *h, int status, int events)
{
	(void)status;
	(void)events;
	worker_zmq_drain(h->data);
}

int worker_zmq_init(struct worker *w)
{
	int hwm = WORKER_ZMQ_HWM, linger = 0;
	w->zctx = zmq_ctx_new();
	if (!w->zctx)
		return -errno;
	w->pull = zmq_socket(w->zctx, ZMQ_PULL);
	if (!w->pull)
		return -errno;
	zmq_setsockopt(w->pull, ZMQ_RCVHWM, &hwm, sizeof(hwm));
	zmq_setsockopt(w->pull, ZMQ_LINGER, &linger, sizeof(linger));
	if (zmq_bind(w->pull, w->cfg.worker_endpoint) < 0) {
		int e = errno;
		log_error("cannot bind worker_endpoint", "endpoint=%s err=%s",
			  LOG_Q(w->cfg.worker_endpoint),
			  LOG_Q(zmq_strerror(e)));
		return -e;
	}
	size_t len = sizeof(w->endpoint);
	zmq_getsockopt(w->pull, ZMQ_LAST_ENDPOINT, w->endpoint, &len);
	int fd;
	size_t fdlen = sizeof(fd);
	if (zmq_getsockopt(w->pull, ZMQ_FD, &fd, &fdlen) < 0)
		return -errno;
	int rc = uv_poll_init(w->loop, &w->pull_poll, fd);
	if (rc < 0)
		return rc;
	w->pull_poll.data = w;
	uv_idle_init(w->loop, &w->pull_more);
	w->pull_more.data = w;
	rc = uv_poll_start(&w->pull_poll, UV_READABLE, worker_zmq_readable);
	return rc < 0 ? rc : worker_ctl_init(w);
}

static struct worker_frontend *worker_zmq_find(struct worker *w,
					       const char *endpoint)
{
	for (unsigned i = 0; i < w->n_fe; i++)
		if (!strcmp(w->fe[i].endpoint, endpoint))
			return &w->fe[i];
	return NULL;
}

void worker_zmq_frontend_seen(struct worker *w, const char *endpoint, bool live)
{
	struct worker_frontend *f = worker_zmq_find(w, endpoint);
	if (f) {
		f->live = live;
		return;
	}
	if (!live || !endpoint[0])
		return;
	if (w->n_fe == WORKER_MAX_FRONTENDS) {
		/* Full (frontends restarted on new endpoints): reuse the slot
		 * of one that is gone. */
		for (unsigned i = 0; i < w->n_fe && !f; i++)
			if (!w->fe[i].live)
				f = &w->fe[i];
		if (!f)
			return;
		zmq_close(f->sock);
		free(f->batch);
		log_info("frontend forgotten", "endpoint=%s",
			 LOG_Q(f->endpoint));
		w->n_fe--;
		*f = w->fe[w->n_fe]; /* keep the table dense */
		f = &w->fe[w->n_fe];
	} else {
		f = &w->fe[w->n_fe];
	}
	memset(f, 0, sizeof(*f));
	snprintf(f->endpoint, sizeof(f->endpoint), "%s", endpoint);
	f->sock = zmq_socket(w->zctx, ZMQ_PUSH);
	f->batch = malloc(WORKER_ZMQ_BATCH);
	if (!f->sock || !f->batch) {
		if (f->sock)
			zmq_close(f->sock);
		free(f->batch);
		return;
	}
	/* No ZMQ_IMMEDIATE: a frontend we just learnt of is alive (it sent us
	 * packets, or is registered), so queue for it while the connection
	 * completes instead of dropping the first answers. */
	int hwm = WORKER_ZMQ_HWM, linger = 0;
	zmq_setsockopt(f->sock, ZMQ_SNDHWM, &hwm, sizeof(hwm));
	zmq_setsockopt(f->sock, ZMQ_LINGER, &linger, sizeof(linger));
	if (zmq_connect(f->sock, endpoint) < 0) {
		LOG_RL(LOG_LEVEL_WARN, "cannot connect to frontend",
		       "endpoint=%s err=%s", LOG_Q(endpoint),
		       LOG_Q(zmq_strerror(errno)));
		zmq_close(f->sock);
		free(f->batch);
		return;
	}
	f->live = true;
	w->n_fe++;
	log_info("frontend connected", "endpoint=%s", LOG_Q(endpoint));
}

static bool worker_zmq_send_batch(struct worker *w, struct worker_frontend *f)
{
	size_t len = wire_writer_finish(&f->wr);
	unsigned n = f->wr.count;
	f->open = false;
	if (zmq_send(f->sock, f->batch, len, ZMQ_DONTWAIT) < 0) {
		w->stats.tx_dropped += n;
		w->stats.tx_batches_dropped++;
		f->live = false; /* until P:frontends lists it again */
		LOG_RL(LOG_LEVEL_WARN, "frontend not accepting packets",
		       "endpoint=%s err=%s dropped=%u", LOG_Q(f->endpoint),
		       LOG_Q(zmq_strerror(errno)), n);
		return false;
	}
	w->stats.tx_packets += n;
	w->stats.tx_batches++;
	return true;
}

/* The frontend a tunnel's packets came from, else any live one. */
static struct worker_frontend *worker_zmq_pick(struct worker *w,
					       const char *frontend)
{
	struct worker_frontend *f =
		frontend ? worker_zmq_find(w, frontend) : NULL;
	if (f && f->live)
		return f;
	for (unsigned i = 0; i < w->n_fe; i++)
		if (w->fe[i].live)
			return &w->fe[i];
	return NULL;
}

void worker_zmq_send(struct worker *w, const char *frontend,
		     const struct wire_addr *peer, const uint8_t *pkt,
		     size_t len)
{
	struct worker_frontend *f = worker_zmq_pick(w, frontend);
	if (!f) {
		w->stats.tx_dropped++;
		LOG_RL(LOG_LEVEL_WARN, "no live frontend to send through", "%s",
		       "");
		return;
	}
	struct wire_packet p = {
		.peer = *peer, .data = pkt, .len = (uint16_t)len};
	for (int attempt = 0; attempt < 2; attempt++) {
		if (!f->open) {
			wire_writer_begin(&f->wr, f->batch, WORKER_ZMQ_BATCH,
					  WIRE_PACKET_OUT, w->endpoint);
			f->open = true;
		}
		if (wire_writer_add(&f->wr, &p) == 0)
			return;
		worker_zmq_send_batch(w, f); /* full: send, start another */
	}
	w->stats.tx_dropped++;
}

void worker_zmq_flush(struct worker *w)
{
	for (unsigned i = 0; i < w->n_fe; i++)
		if (w->fe[i].open)
			worker_zmq_send_batch(w, &w->fe[i]);
}

void worker_zmq_close(struct worker *w)
{
	worker_ctl_close(w);
	uv_poll_stop(&w->pull_poll);
	uv_close((uv_handle_t *)&w->pull_poll, NULL);
	uv_idle_stop(&w->pull_more);
	uv_close((uv_handle_t *)&w->pull_more, NULL);
	for (unsigned i = 0; i < w->n_fe; i++) {
		zmq_close(w->fe[i].sock);
		free(w->fe[i].batch);
	}
	w->n_fe = 0;
	zmq_close(w->pull);
	zmq_ctx_term(w->zctx);
}
