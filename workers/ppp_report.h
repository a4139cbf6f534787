/* The worker's end of pppd's ip-up hook: a Unix datagram socket in the
 * abstract namespace, @tandem-ppp-report/<prefix>/<worker-id>, on which
 * bin/tandem-ip-up reports the addresses IPCP negotiated
 * (lib/ppp_report_msg.h). Each report is checked here (sender's uid, the
 * format) and by the owner's callback (the session, its pppd), counted by
 * result, answered, and logged when refused (rate-limited). */
#ifndef TANDEM_PPP_REPORT_H
#define TANDEM_PPP_REPORT_H

#include <stdbool.h>
#include <stdint.h>

#include <uv.h>

#include "ppp_report_msg.h"

/* X(name, label): what became of a report; label is the metric's. */
#define PPP_REPORT_RESULTS(X)                                                  \
	X(LEARNED, "learned")		      /* addresses recorded */         \
	X(UNCHANGED, "unchanged")	      /* the session had them */       \
	X(MALFORMED, "malformed")	      /* did not decode */             \
	X(DENIED, "denied")		      /* sender not root, not us */    \
	X(UNKNOWN_SESSION, "unknown_session") /* not a session held here */    \
	X(WRONG_PID, "wrong_pid")	      /* not its pppd */               \
	X(HELD, "held") /* its shard is loading: applied once it is loaded */

enum ppp_report_result {
#define PPP_REPORT_X(name, label) PPP_REPORT_##name,
	PPP_REPORT_RESULTS(PPP_REPORT_X)
#undef PPP_REPORT_X
		PPP_REPORT__COUNT
};

/* A report that decoded, from an allowed sender: the owner applies it and
 * says what became of it (LEARNED, UNCHANGED, UNKNOWN_SESSION, WRONG_PID). */
typedef enum ppp_report_result (*ppp_report_cb)(void *ctx,
						const struct ppp_report_msg *m);

struct ppp_report {
	uv_loop_t *loop;		     /* the worker's loop */
	int fd;				     /* the socket, -1: off */
	uv_poll_t poll;			     /* its readiness */
	ppp_report_cb cb;		     /* applies a report */
	void *ctx;			     /* cb's */
	char name[112];			     /* "@tandem-ppp-report/..." */
	uint64_t results[PPP_REPORT__COUNT]; /* reports by result */
};

/* Listen as worker `id` of the cluster with key prefix `prefix`. 0 or
 * -errno (no learning: pppd's addresses stay unknown unless a pool gave
 * them). The handle is unref'd: it does not keep the loop alive. */
int ppp_report_listen(struct ppp_report *r, uv_loop_t *loop, const char *prefix,
		      const char *id, ppp_report_cb cb, void *ctx);
/* Stop listening (the loop must run once more to close the handle). */
void ppp_report_close(struct ppp_report *r);
/* "learned", "wrong_pid", ... */
const char *ppp_report_result_name(enum ppp_report_result res);

#endif
