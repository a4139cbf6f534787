/* One tandem-lac run on a libuv loop: a UDP socket (own port) and a timer per
 * tunnel, admission of new setups (rate, concurrency), holding and churning
 * calls, the end of the run (CDN, StopCCN, bounded wait for their acks) and
 * the counters that make the report. */
#ifndef TANDEM_LAC_RUN_H
#define TANDEM_LAC_RUN_H

#include "lac_opts.h"
#include "lac_probe.h"
#include "lac_report.h"

/* What a run leaves behind for the report. Free with lac_run_out_free. */
struct lac_run_out {
	struct lac_stats stats;		     /* counters */
	struct lac_report_tunnel *tunnels;   /* one per --tunnels, in order */
	unsigned n_tunnels;		     /* entries in tunnels */
	struct lac_report_session *sessions; /* storage tunnels[i] point into */
	const char *ended_by;		     /* "done", "duration", "signal" */
	struct lac_probe probe;		     /* --probe rounds */
};

/* Run until the work is done, --duration passes or a signal arrives, then
 * tear down (unless --no-teardown). Returns 0 with *out filled (whatever the
 * verdict), or -errno when the run could not start (*out untouched). */
int lac_run(const struct lac_opts *o, struct lac_run_out *out);

void lac_run_out_free(struct lac_run_out *out);

#endif
