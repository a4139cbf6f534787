/* Internals shared by the lac_run*.c files (not for other users): the run
 * and per-tunnel records, and the functions the parts call in each other.
 * lac_run.c drives; lac_run_io.c does sockets and timers; lac_run_admit.c
 * queues and admits new calls; lac_run_count.c turns engine callbacks into
 * counters; lac_run_end.c ends the run; lac_run_probe.c runs --probe. */
#ifndef TANDEM_LAC_RUN_INT_H
#define TANDEM_LAC_RUN_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <uv.h>

#include "lac_opts.h"
#include "lac_probe.h"
#include "lac_report.h"
#include "lac_sched.h"
#include "lac_tunnel.h"

struct lac_run;

/* One UDP socket on --bind, with a port of its own, shared by the
 * --tunnels-per-socket consecutive tunnels that use it (one by default);
 * datagrams are handed to a tunnel by the Tunnel ID in their header. Bound
 * when its first tunnel opens. */
struct lac_sock {
	struct lac_run *run; /* owner */
	uv_udp_t udp;	     /* the socket */
	uint16_t local_port; /* its port */
	bool open;	     /* udp is initialised (closed at the end) */
	int err;	     /* bind failed (libuv error): its tunnels cannot
			      * open; 0 = fine */
};

/* One tunnel: the engine plus its socket and timer. */
struct lac_conn {
	struct lac_run *run;	       /* owner */
	struct lac_tunnel t;	       /* protocol engine */
	struct lac_sock *sock;	       /* our socket (maybe shared) */
	uv_timer_t timer;	       /* fires at the engine's next deadline */
	uint64_t timer_due_ms;	       /* armed deadline, UINT64_MAX = none */
	struct sockaddr_storage peer;  /* where our datagrams go */
	uint64_t opened_ns;	       /* SCCRQ sent (uv_hrtime) */
	uint16_t local_port;	       /* our port, for the report */
	bool handles_open;	       /* socket bound, timer initialised */
	bool opened;		       /* SCCRQ was sent or tried */
	bool in_flight;		       /* counts against the concurrency */
	bool done;		       /* finished: counted in n_done */
	bool close_started;	       /* its end-of-run teardown began */
	bool closing;		       /* counted in the run's n_closing */
	bool snapped;		       /* snap is filled */
	struct lac_session *pend_head; /* call slots waiting to be placed */
	struct lac_session *pend_tail; /* last waiting slot */
	unsigned n_pend;	       /* slots waiting */
	struct lac_conn *rnext;	       /* in the run's ready list */
	bool ready;		       /* on the ready list */
	unsigned n_snap;	       /* calls up when the run ended */
	struct lac_report_session *snap; /* those calls (into the run's pool) */
	struct lac_probe_tunnel probe;	 /* --probe: its outstanding HELLO */
	unsigned data_slot;		 /* --data: the call slot to send on
					    next */
};

struct lac_run {
	const struct lac_opts *opts;	 /* what to do */
	uv_loop_t loop;			 /* the one event loop */
	struct lac_cfg cfg;		 /* engine settings */
	struct lac_env env;		 /* engine callbacks */
	struct lac_conn *conns;		 /* opts->tunnels entries */
	unsigned n_conns;		 /* entries in conns */
	uint16_t first_tid;		 /* conns[i] has Tunnel ID first + i */
	struct lac_sock *socks;		 /* conns[i] uses socks[i / per_sock] */
	unsigned n_socks;		 /* entries in socks */
	unsigned per_sock;		 /* tunnels per socket */
	unsigned next_open;		 /* next tunnel to open */
	unsigned n_opened;		 /* tunnels opened */
	unsigned n_done;		 /* opened tunnels that finished */
	struct lac_conn *ready_head;	 /* tunnels that can place a call now */
	struct lac_conn *ready_tail;	 /* last ready tunnel */
	uint64_t n_pending;		 /* call slots waiting, all tunnels */
	struct lac_sched sched;		 /* concurrency and rate */
	uv_timer_t admit_timer;		 /* wakes admission for the rate */
	uv_timer_t duration_timer;	 /* --duration */
	uv_timer_t close_timer;		 /* --close-wait */
	uv_signal_t sig_int;		 /* SIGINT: stop, twice: quit */
	uv_signal_t sig_term;		 /* SIGTERM: the same */
	uv_signal_t sig_usr1;		 /* --probe: SIGUSR1 begins a round */
	struct lac_probe probe;		 /* --probe rounds */
	bool stopping;			 /* the run is ending */
	unsigned close_next;		 /* next tunnel to tear down */
	unsigned n_closing;		 /* teardowns in progress */
	bool finished;			 /* handles are closing */
	const char *ended_by;		 /* why the run ended */
	uint64_t sessions_up;		 /* calls up now */
	uint64_t start_ns;		 /* uv_hrtime at start */
	struct lac_report_session *pool; /* snapshot storage */
	size_t pool_used;		 /* entries used in pool */
	size_t pool_cap;		 /* entries allocated */
	struct lac_stats stats;		 /* the report's counters */
	uv_idle_t data_idle;		 /* --data: sends while it runs */
	bool data_started;		 /* --data began (once) */
	uint64_t data_start_ns;		 /* uv_hrtime when it began */
	unsigned data_conn;		 /* next tunnel to send on */
};

/* lac_run.c: after every event, admit new setups and see whether the run
 * is over. */
void lac_run_after(struct lac_run *run);

/* lac_run_io.c: engine output and randomness (struct lac_env callbacks). */
void lac_run_io_output(void *ctx, struct lac_tunnel *t, const uint8_t *pkt,
		       size_t len);
void lac_run_io_random(void *ctx, uint8_t *buf, size_t len);
/* After an event on c: rearm its timer, note when it finished, offer it to
 * admission. */
void lac_run_io_after(struct lac_conn *c);
/* Open c's socket and timer and send its SCCRQ (failures are counted). */
void lac_run_io_open_tunnel(struct lac_run *run, struct lac_conn *c);

/* lac_run_admit.c: per-tunnel queues of calls to place, the ready list. */
void lac_run_admit_ready(struct lac_run *run, struct lac_conn *c);
struct lac_conn *lac_run_admit_pop(struct lac_run *run);
void lac_run_admit_enqueue(struct lac_run *run, struct lac_session *s);
struct lac_session *lac_run_admit_dequeue(struct lac_run *run,
					  struct lac_conn *c);
/* Start what the concurrency and the rate allow. */
void lac_run_admit(struct lac_run *run);

/* lac_run_count.c: struct lac_env callbacks. */
void lac_run_count_tunnel_up(void *ctx, struct lac_tunnel *t);
void lac_run_count_tunnel_down(void *ctx, struct lac_tunnel *t, bool was_up,
			       enum lac_why why, uint16_t code);
void lac_run_count_session_up(void *ctx, struct lac_tunnel *t,
			      struct lac_session *s);
void lac_run_count_session_down(void *ctx, struct lac_tunnel *t,
				struct lac_session *s, bool was_up,
				enum lac_why why, uint16_t code);

/* lac_run_end.c: begin the end (why: "done", "duration", "signal"), tear
 * tunnels down in turn, and finish (handles closed, uv_run returns). */
void lac_run_end_stop(struct lac_run *run, const char *why);
void lac_run_end_close_more(struct lac_run *run);
void lac_run_end_finish(struct lac_run *run);

/* lac_run_data.c: --data. Maybe begins it: once every call asked for is
 * up, the first time. */
void lac_run_data_maybe_start(struct lac_run *run);

/* lac_run_probe.c: --probe. Start installs the SIGUSR1 handle (only with
 * --probe); check, after every event on c, counts its probe HELLO answered
 * once acknowledged; stop, before the handles close, keeps a late SIGUSR1
 * from killing the process before the report is written. */
void lac_run_probe_start(struct lac_run *run);
void lac_run_probe_check(struct lac_conn *c);
void lac_run_probe_stop(struct lac_run *run);

#endif
