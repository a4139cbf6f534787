/* ZeroMQ: one PULL socket for workers' PACKET_OUT batches, driven from the
 * loop through its edge-triggered ZMQ_FD, and one PUSH socket per worker for
 * PACKET_IN batches, filled during a loop iteration and sent at its end. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <zmq.h>

#include "frontend.h"

#define FRONTEND_ZMQ_HWM	    1000 /* batches queued per socket */
#define FRONTEND_ZMQ_DRAIN_MAX	    256 /* messages per drain before yielding */
#define FRONTEND_ZMQ_STOP_LINGER_MS 200 /* last batches on a clean stop */

static void frontend_zmq_readable(uv_poll_t *h, int status, int events)
{
	(void)status;
	(void)events;
	frontend_zmq_drain(h->data);
}

static void frontend_zmq_more(uv_idle_t *h)
{
	frontend_zmq_drain(h->data);
}

int frontend_zmq_init(struct frontend *fe)
{
	int hwm = FRONTEND_ZMQ_HWM, linger = 0, fd, rc;
	size_t len;
	fe->zctx = zmq_ctx_new();
	if (!fe->zctx)
		return -errno;
	fe->pull = zmq_socket(fe->zctx, ZMQ_PULL);
	if (!fe->pull)
		return -errno;
	zmq_setsockopt(fe->pull, ZMQ_RCVHWM, &hwm, sizeof(hwm));
	zmq_setsockopt(fe->pull, ZMQ_LINGER, &linger, sizeof(linger));
	if (zmq_bind(fe->pull, fe->cfg.frontend_endpoint) < 0) {
		rc = -errno;
		log_error("cannot bind frontend_endpoint", "endpoint=%s err=%s",
			  LOG_Q(fe->cfg.frontend_endpoint),
			  LOG_Q(zmq_strerror(-rc)));
		return rc;
	}
	/* "tcp://127.0.0.1:*" binds a free port: workers need the real one. */
	len = sizeof(fe->endpoint);
	if (zmq_getsockopt(fe->pull, ZMQ_LAST_ENDPOINT, fe->endpoint, &len) < 0)
		return -errno;
	if (strstr(fe->endpoint, "://0.0.0.0:") ||
	    strstr(fe->endpoint, "://[::]:"))
		log_warn("frontend_endpoint is a wildcard address: workers "
			 "on other hosts cannot reach it as announced",
			 "endpoint=%s", LOG_Q(fe->endpoint));
	len = sizeof(fd);
	if (zmq_getsockopt(fe->pull, ZMQ_FD, &fd, &len) < 0)
		return -errno;
	rc = uv_poll_init(fe->loop, &fe->pull_poll, fd);
	if (rc < 0)
		return rc;
	fe->pull_poll.data = fe;
	uv_idle_init(fe->loop, &fe->pull_more);
	fe->pull_more.data = fe;
	rc = uv_poll_start(&fe->pull_poll, UV_READABLE, frontend_zmq_readable);
	if (rc < 0)
		return rc;
	/* The fd only signals edges: whatever is already queued is read now. */
	frontend_zmq_drain(fe);
	return 0;
}

/* One PACKET_OUT batch: checked whole first (a bad record refuses the batch,
 * nothing half-sent), then sent from the UDP socket. */
static void frontend_zmq_packet_out(struct frontend *fe, const uint8_t *p,
				    size_t len)
{
	struct wire_reader r, check;
	struct wire_packet pkt;
	int rc;
	fe->stats.out_batches++;
	rc = wire_reader_begin(&r, p, len);
	if (rc == 0 && r.type != WIRE_PACKET_OUT)
		rc = -EBADMSG;
	if (rc == 0) {
		check = r;
		while ((rc = wire_reader_next(&check, &pkt)) == 1)
			;
	}
	if (rc < 0) {
		fe->stats.out_bad++;
		LOG_RL(LOG_LEVEL_WARN, "bad batch from worker",
		       "origin=%s version=%u type=%s bytes=%zu",
		       LOG_Q(r.origin), r.version, wire_type_name(r.type), len);
		return;
	}
	frontend_udp_send_batch(fe, &r);
}

void frontend_zmq_drain(struct frontend *fe)
{
	if (!fe->pull)
		return;
	for (unsigned i = 0; i < FRONTEND_ZMQ_DRAIN_MAX; i++) {
		int events = 0;
		size_t elen = sizeof(events);
		/* ZMQ_EVENTS, not the fd, says whether a message waits. */
		if (zmq_getsockopt(fe->pull, ZMQ_EVENTS, &events, &elen) < 0 ||
		    !(events & ZMQ_POLLIN)) {
			uv_idle_stop(&fe->pull_more);
			return;
		}
		zmq_msg_t msg;
		zmq_msg_init(&msg);
		if (zmq_msg_recv(&msg, fe->pull, ZMQ_DONTWAIT) < 0) {
			zmq_msg_close(&msg);
			uv_idle_stop(&fe->pull_more);
			return;
		}
		frontend_zmq_packet_out(fe, zmq_msg_data(&msg),
					zmq_msg_size(&msg));
		zmq_msg_close(&msg);
	}
	/* Capped so a busy worker cannot starve UDP input. The fd will not
	 * signal again for messages already queued: continue next iteration
	 * from an idle handle (which stops once nothing is left). */
	uv_idle_start(&fe->pull_more, frontend_zmq_more);
}

static void frontend_zmq_send_batch(struct frontend *fe,
				    struct frontend_worker *w)
{
	size_t len = wire_writer_finish(&w->wr);
	unsigned n = w->wr.count;
	w->open = false;
	if (!w->push) {
		fe->stats.drop[FRONTEND_DROP_NO_WORKER] += n;
		return;
	}
	if (zmq_send(w->push, w->batch, len, ZMQ_DONTWAIT) < 0) {
		fe->stats.drop[FRONTEND_DROP_ZMQ] += n;
		w->dropped += n;
		LOG_RL(LOG_LEVEL_WARN, "worker not accepting packets",
		       "reason=%s worker=%s endpoint=%s err=%s dropped=%u",
		       frontend_drop_name(FRONTEND_DROP_ZMQ), LOG_Q(w->id),
		       LOG_Q(w->push_endpoint), LOG_Q(zmq_strerror(errno)), n);
	} else {
		fe->stats.routed += n;
		fe->stats.batches++;
		w->sent += n;
	}
	/* Any ZeroMQ call may consume the PULL socket's fd edge: look at
	 * ZMQ_EVENTS after every send. */
	frontend_zmq_drain(fe);
}

void frontend_zmq_queue(struct frontend *fe, struct frontend_worker *w,
			const struct wire_packet *p)
{
	if (!w->batch && !(w->batch = malloc(WIRE_MAX_MSG))) {
		fe->stats.drop[FRONTEND_DROP_ZMQ]++;
		return;
	}
	for (int attempt = 0; attempt < 2; attempt++) {
		if (!w->open) {
			wire_writer_begin(&w->wr, w->batch, WIRE_MAX_MSG,
					  WIRE_PACKET_IN, fe->endpoint);
			w->open = true;
		}
		if (wire_writer_add(&w->wr, p) == 0)
			return;
		frontend_zmq_send_batch(fe, w); /* full: send, begin another */
	}
	fe->stats.drop[FRONTEND_DROP_ZMQ]++; /* cannot happen: 64 KiB fits */
}

void frontend_zmq_flush(struct frontend *fe)
{
	for (unsigned i = 0; fe->map.workers && i < FRONTEND_MAX_WORKERS; i++) {
		struct frontend_worker *w = &fe->map.workers[i];
		if (w->in_use && w->open)
			frontend_zmq_send_batch(fe, w);
	}
}

void frontend_zmq_worker_sync(void *arg, struct frontend_worker *w)
{
	struct frontend *fe = arg;
	bool want = w->in_use && w->listed && w->endpoint[0] && fe->zctx &&
		    !fe->stopping;
	if (w->push && (!want || strcmp(w->push_endpoint, w->endpoint))) {
		zmq_close(w->push);
		w->push = NULL;
		log_info("worker socket closed", "worker=%s endpoint=%s",
			 LOG_Q(w->id), LOG_Q(w->push_endpoint));
	}
	if (!want) {
		if (w->open) /* nowhere to send what was batched */
			fe->stats.drop[FRONTEND_DROP_NO_WORKER] += w->wr.count;
		w->open = false;
		if (!w->in_use) {
			free(w->batch);
			w->batch = NULL;
		}
		return;
	}
	if (w->push)
		return;
	int hwm = FRONTEND_ZMQ_HWM, linger = 0, immediate = 1;
	void *s = zmq_socket(fe->zctx, ZMQ_PUSH);
	if (!s)
		goto fail;
	zmq_setsockopt(s, ZMQ_SNDHWM, &hwm, sizeof(hwm));
	zmq_setsockopt(s, ZMQ_LINGER, &linger, sizeof(linger));
	/* Queue only to a live connection: while a worker is unreachable
	 * zmq_send fails at once and the drop is counted. */
	zmq_setsockopt(s, ZMQ_IMMEDIATE, &immediate, sizeof(immediate));
	if (zmq_connect(s, w->endpoint) < 0)
		goto fail;
	w->push = s;
	snprintf(w->push_endpoint, sizeof(w->push_endpoint), "%s", w->endpoint);
	log_info("worker socket connecting", "worker=%s endpoint=%s wire=%u",
		 LOG_Q(w->id), LOG_Q(w->endpoint), w->wire);
	return;
fail:
	LOG_RL(LOG_LEVEL_WARN, "cannot connect to worker",
	       "worker=%s endpoint=%s err=%s", LOG_Q(w->id), LOG_Q(w->endpoint),
	       LOG_Q(zmq_strerror(errno)));
	if (s)
		zmq_close(s);
}

void frontend_zmq_close(struct frontend *fe)
{
	if (!fe->zctx)
		return;
	if (fe->pull) {
		uv_poll_stop(&fe->pull_poll);
		uv_close((uv_handle_t *)&fe->pull_poll, NULL);
		uv_idle_stop(&fe->pull_more);
		uv_close((uv_handle_t *)&fe->pull_more, NULL);
		zmq_close(fe->pull);
		fe->pull = NULL;
	}
	for (unsigned i = 0; fe->map.workers && i < FRONTEND_MAX_WORKERS; i++) {
		struct frontend_worker *w = &fe->map.workers[i];
		if (!w->push)
			continue;
		/* A clean stop gives the batches flushed last a moment to
		 * leave (zmq_ctx_term waits at most this long). */
		int linger = FRONTEND_ZMQ_STOP_LINGER_MS;
		zmq_setsockopt(w->push, ZMQ_LINGER, &linger, sizeof(linger));
		zmq_close(w->push);
		w->push = NULL;
	}
	zmq_ctx_term(fe->zctx);
	fe->zctx = NULL;
}
