/* What a tandem-lac run counted and how it is reported: the counters, the
 * pass/fail verdict behind the exit status, and the text and JSON reports
 * (per-tunnel Ns/Nr and call IDs included, to compare with an LNS's state). */
#ifndef TANDEM_LAC_REPORT_H
#define TANDEM_LAC_REPORT_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "lac_hist.h"
#include "lac_opts.h"
#include "lac_probe.h"
#include "lac_why.h"

/* Result codes 0..LAC_CODE_SLOTS-2 are counted one by one; the last slot
 * counts every higher code. */
#define LAC_CODE_SLOTS 17

struct lac_stats {
	uint64_t elapsed_ms;		      /* start to report */
	unsigned tunnels_requested;	      /* --tunnels */
	uint64_t tunnels_opened;	      /* SCCRQs sent */
	uint64_t tunnels_established;	      /* SCCCN acknowledged */
	uint64_t tunnel_fail[LAC_WHY__COUNT]; /* never came up, by reason */
	uint64_t
		tunnel_fail_stopccn[LAC_CODE_SLOTS]; /* ... StopCCN by result */
	uint64_t tunnels_torn_down; /* up, then StopCCN from the LNS */
	uint64_t torn_down_stopccn[LAC_CODE_SLOTS]; /* ... by result */
	uint64_t tunnel_lost[LAC_WHY__COUNT]; /* up, then lost otherwise */
	uint64_t tunnels_closed;	      /* up, closed by us at the end */
	uint64_t tunnels_close_unacked; /* our StopCCN never acknowledged */
	uint64_t sessions_requested;	/* --tunnels x --sessions */
	uint64_t sessions_attempted;	/* ICRQs sent */
	uint64_t sessions_established;	/* ICCN acknowledged */
	uint64_t icrp_received;		/* ICRPs accepted */
	uint64_t session_fail[LAC_WHY__COUNT]; /* never came up, by reason */
	uint64_t session_fail_cdn[LAC_CODE_SLOTS]; /* ... CDN by result */
	uint64_t sessions_cleared_by_lns;     /* up, then CDN from the LNS */
	uint64_t cleared_cdn[LAC_CODE_SLOTS]; /* ... by result */
	uint64_t sessions_closed;	    /* up, cleared by us (hold, end) */
	uint64_t sessions_lost_with_tunnel; /* up, then their tunnel went */
	uint64_t sessions_aborted;	    /* --churn: mid-setup at the end */
	uint64_t sessions_up_at_end;	    /* up when the run ended */
	struct lac_hist setup_latency;	    /* ICRQ sent -> ICCN acknowledged */
	struct lac_hist tunnel_latency; /* SCCRQ sent -> SCCCN acknowledged */
	uint64_t tx_messages;		/* control messages sent (first time) */
	uint64_t tx_retransmits;	/* retransmissions */
	uint64_t tx_zlb;		/* ZLB acknowledgements */
	uint64_t tx_errors;		/* datagrams the socket refused */
	uint64_t rx_datagrams;		/* datagrams received */
	uint64_t rx_delivered;		/* control messages in sequence */
	uint64_t rx_duplicates;		/* control messages seen again */
	uint64_t rx_dropped;		/* not L2TP control for the tunnel */
	uint64_t rx_rejected;		/* refused by the codec */
	uint64_t rx_unexpected;		/* not valid in their state */
	uint64_t hello_sent;		/* HELLOs we sent */
	uint64_t hello_received;	/* HELLOs from the LNS */
	uint64_t data_sent;		/* --data: data messages sent */
	uint64_t data_bytes;		/* ... their datagram bytes */
	uint64_t data_blocked;		/* ... sends the socket put off */
	uint64_t data_errors;		/* ... sends refused */
	uint64_t data_elapsed_us;	/* ... first to last send */
};

/* One call up at the end of the run. */
struct lac_report_session {
	uint16_t lns_sid; /* the LNS's Session ID */
	uint16_t lac_sid; /* ours */
};

/* One tunnel: IDs, final sequence numbers (after teardown) and the calls that
 * were up when the run ended (before teardown). */
struct lac_report_tunnel {
	uint16_t lac_tid;     /* our Tunnel ID */
	uint16_t lns_tid;     /* the LNS's, 0 if it never answered */
	uint16_t local_port;  /* our UDP port */
	uint16_t ns;	      /* next Ns we would send */
	uint16_t nr;	      /* next Ns we expect from the LNS */
	unsigned unacked;     /* our messages not acknowledged */
	const char *state;    /* final state name */
	bool stop_received;   /* the LNS sent StopCCN */
	uint16_t stop_result; /* its result code */
	const struct lac_report_session *sessions; /* calls up at the end */
	unsigned n_sessions;			   /* entries in sessions */
};

struct lac_report {
	const struct lac_opts *opts;		 /* what was asked */
	const struct lac_stats *stats;		 /* what happened */
	const struct lac_report_tunnel *tunnels; /* opts->tunnels entries */
	unsigned n_tunnels;			 /* entries in tunnels */
	const char *ended_by;	       /* "done", "duration", "signal" */
	const struct lac_probe *probe; /* --probe rounds (reported with
					  --probe only) */
};

/* Slot for result code c in the by-code arrays. */
static inline unsigned lac_report_code_slot(uint16_t c)
{
	return c < LAC_CODE_SLOTS - 1 ? c : LAC_CODE_SLOTS - 1;
}

/* The exit verdict: every tunnel and call came up, nothing failed, the LNS
 * tore no tunnel down (and cleared no call, unless opts->allow_cdn). */
bool lac_report_ok(const struct lac_opts *o, const struct lac_stats *s);

/* Write the report (JSON when r->opts->json). Returns 0 or -EIO. */
int lac_report_write(FILE *f, const struct lac_report *r);

#endif
