/* Handing running pppds to a successor on the same host: the pty master of
 * each session crosses a Unix socket (SCM_RIGHTS) when its shard is handed
 * off, so the successor relays for the same pppd and PPP never notices.
 * Each worker listens on an abstract socket named after the cluster prefix
 * and its worker ID (no file, no setting; same network namespace only). */
#ifndef TANDEM_PPP_HANDOVER_H
#define TANDEM_PPP_HANDOVER_H

#include <stdbool.h>
#include <stdint.h>

#include <uv.h>

#define PPP_HANDOVER_CONNS   8	   /* senders served at once */
#define PPP_HANDOVER_KEEP_MS 15000 /* an unclaimed pty is closed after */

/* A pty received and not yet claimed by a session. */
struct ppp_handover_entry {
	uint16_t tid, sid;   /* the session it belongs to */
	int pid;	     /* its pppd */
	int fd;		     /* the pty master */
	uint64_t expires_ms; /* closed then (pppd hangs up) */
};

struct ppp_handover {
	uv_loop_t *loop;		     /* the worker's loop */
	int lfd;			     /* listening socket, -1: off */
	uv_poll_t lpoll;		     /* its readiness */
	int cfd[PPP_HANDOVER_CONNS];	     /* accepted senders, -1: free */
	uv_poll_t cpoll[PPP_HANDOVER_CONNS]; /* their readiness */
	struct ppp_handover_entry *entries;  /* received, unclaimed */
	unsigned n_entries, cap_entries;     /* used, allocated */
	uv_timer_t sweep;		     /* expires entries */
	uint64_t received, claimed, expired; /* counters */
	/* Set by the owner: true when an entry can never be claimed because
	 * its session already runs another pppd here (the one the session's
	 * owner started wins; the handed one is closed at once). NULL: none. */
	bool (*stale)(void *ctx, const struct ppp_handover_entry *e);
	void *stale_ctx;
	uint64_t superseded; /* entries closed as stale */
};

/* Listen as worker `id` of the cluster with key prefix `prefix`. 0 or
 * -errno (the worker runs on without hand-over). Handles are unref'd: they
 * do not keep the loop alive. */
int ppp_handover_listen(struct ppp_handover *h, uv_loop_t *loop,
			const char *prefix, const char *id);
/* Stop listening; unclaimed ptys are closed (their pppds hang up). The
 * loop must run once more to finish closing the handles. */
void ppp_handover_close(struct ppp_handover *h);
/* Connect to worker `to` on this host: a socket, or -errno (not here). */
int ppp_handover_connect(const char *prefix, const char *to);
/* Send one session's pty master (fd stays ours). 0 or -errno. */
int ppp_handover_send(int sock, uint16_t tid, uint16_t sid, int pid, int fd);
/* The pty received for (tid, sid): its fd (now the caller's) and *pid, or
 * -ENOENT. */
int ppp_handover_take(struct ppp_handover *h, uint16_t tid, uint16_t sid,
		      int *pid);

#endif
