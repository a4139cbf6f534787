/* tandem-lac: an L2TPv2 LAC emulator built on tandem's codec and reliable
 * transport, for tests, load and probing an LNS. Parses the command line,
 * runs (lac_run.c), writes the report, and turns the verdict into the exit
 * status. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "lac_opts.h"
#include "lac_report.h"
#include "lac_run.h"
#include "log.h"

int main(int argc, char **argv)
{
	struct lac_opts o;
	struct lac_run_out out;
	char err[512];
	FILE *report = stdout;
	int rc;

	rc = lac_opts_parse(argc, argv, &o, err, sizeof(err), stdout);
	if (rc == 1)
		return LAC_EXIT_OK;
	if (rc < 0) {
		fprintf(stderr, "tandem-lac: %s (see --help)\n", err);
		return LAC_EXIT_USAGE;
	}
	log_set_component("lac");
	log_set_level((enum log_level)o.log_level);
	signal(SIGPIPE, SIG_IGN);
	if (o.report_file) {
		/* Opened first: a bad path is found before the run, not after. */
		report = fopen(o.report_file, "w");
		if (!report) {
			fprintf(stderr, "tandem-lac: cannot write %s: %s\n",
				o.report_file, strerror(errno));
			return LAC_EXIT_USAGE;
		}
	}
	rc = lac_run(&o, &out);
	if (rc < 0) {
		fprintf(stderr, "tandem-lac: cannot run: %s\n", strerror(-rc));
		if (report != stdout)
			fclose(report);
		return LAC_EXIT_FAIL;
	}
	struct lac_report r = {
		.opts = &o,
		.stats = &out.stats,
		.tunnels = out.tunnels,
		.n_tunnels = out.n_tunnels,
		.ended_by = out.ended_by,
		.probe = &out.probe,
	};
	bool ok = lac_report_ok(&o, &out.stats);
	if (lac_report_write(report, &r) < 0) {
		fprintf(stderr, "tandem-lac: cannot write the report\n");
		ok = false;
	}
	if (report != stdout && fclose(report) != 0)
		ok = false;
	lac_run_out_free(&out);
	return ok ? LAC_EXIT_OK : LAC_EXIT_FAIL;
}
