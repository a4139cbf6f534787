/* tandem-worker: the LNS control plane process. Usage:
 *   tandem-worker -c FILE --id NAME [--metrics ADDR:PORT] */
#include <getopt.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "worker.h"
#include "worker_metrics.h"

static void usage(FILE *f)
{
	fprintf(f, "usage: tandem-worker -c FILE [--id NAME] [--metrics "
		   "ADDR:PORT]\n"
		   "  -c, --config FILE  tandem configuration (see "
		   "deploy/tandem.conf.example)\n"
		   "  -i, --id NAME      worker ID, unique in the cluster "
		   "(default: <hostname>-<pid>)\n"
		   "  -m, --metrics ADDR:PORT  serve /metrics there instead "
		   "of at metrics_listen\n"
		   "  -V, --version      print the build's version\n"
		   "  -h, --help         this text\n");
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{"config", required_argument, NULL, 'c'},
		{"id", required_argument, NULL, 'i'},
		{"metrics", required_argument, NULL, 'm'},
		{"help", no_argument, NULL, 'h'},
		{"version", no_argument, NULL, 'V'},
		{NULL, 0, NULL, 0},
	};
	const char *path = NULL, *metrics = NULL;
	char id[64] = "";
	int c;
	while ((c = getopt_long(argc, argv, "c:i:m:hV", opts, NULL)) != -1) {
		switch (c) {
		case 'c':
			path = optarg;
			break;
		case 'i':
			snprintf(id, sizeof(id), "%s", optarg);
			break;
		case 'm':
			metrics = optarg;
			break;
		case 'h':
			usage(stdout);
			return 0;
		case 'V':
			printf("%s %s\n", "tandem-worker", TANDEM_VERSION);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (!path || optind != argc) {
		usage(stderr);
		return 2;
	}
	if (!id[0]) {
		char host[48] = "worker";
		gethostname(host, sizeof(host) - 1);
		snprintf(id, sizeof(id), "%s-%d", host, (int)getpid());
	}
	if (strchr(id, ' ') || strchr(id, ':')) {
		fprintf(stderr, "tandem-worker: --id must not contain spaces "
				"or ':'\n");
		return 2;
	}
	static struct config cfg;
	char err[512];
	if (config_load(path, &cfg, err, sizeof(err)) < 0) {
		fprintf(stderr, "tandem-worker: %s\n", err);
		return 2;
	}
	struct config_addr maddr = cfg.metrics_listen;
	if (metrics && metrics_http_parse("--metrics", metrics, &maddr, err,
					  sizeof(err)) < 0) {
		fprintf(stderr, "tandem-worker: %s\n", err);
		return 2;
	}
	log_set_component("worker");
	log_set_level((enum log_level)cfg.log_level);
	static struct worker w;
	/* Memory freed stays with the process for reuse: a takeover or a
	 * burst of call setups allocates and frees megabytes per loop
	 * iteration (Redis pipelines, adopted tunnels), and memory given
	 * back to the kernel must be faulted in again, page by page. */
	mallopt(M_MMAP_THRESHOLD, 32 << 20);
	mallopt(M_TRIM_THRESHOLD, 256 << 20);
	uv_loop_t *loop = uv_default_loop();
	int rc = worker_init(&w, loop, path, &cfg, id);
	if (rc < 0) {
		log_error("worker start failed", "err=%s",
			  LOG_Q(uv_strerror(rc)));
		return 1;
	}
	if (worker_metrics_start(&w, &maddr, err, sizeof(err)) < 0) {
		log_error("worker start failed", "err=%s", LOG_Q(err));
		worker_stop(&w); /* unregisters: nothing stays behind */
		uv_run(loop, UV_RUN_DEFAULT);
		return 1;
	}
	uv_run(loop, UV_RUN_DEFAULT);
	worker_metrics_stop(&w);
	worker_log_stats(&w, LOG_LEVEL_INFO);
	log_info("worker stopped", "id=%s", LOG_Q(id));
	return 0;
}
