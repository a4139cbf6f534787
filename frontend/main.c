/* tandem-frontend: the stateless L2TP front door (frontend.h). Usage:
 *   tandem-frontend -c FILE [--id NAME] [--metrics ADDR:PORT] */
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "frontend.h"
#include "frontend_metrics.h"

static void usage(FILE *f)
{
	fprintf(f, "usage: tandem-frontend -c FILE [--id NAME] "
		   "[--metrics ADDR:PORT]\n"
		   "  -c, --config FILE  tandem configuration (see "
		   "deploy/tandem.conf.example)\n"
		   "  -i, --id NAME      frontend ID, unique in the cluster "
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
	char id[FRONTEND_ID_MAX] = "";
	int c;
	while ((c = getopt_long(argc, argv, "c:i:m:hV", opts, NULL)) != -1) {
		switch (c) {
		case 'c':
			path = optarg;
			break;
		case 'i':
			if (strlen(optarg) >= sizeof(id)) {
				fprintf(stderr, "tandem-frontend: --id is "
						"too long\n");
				return 2;
			}
			snprintf(id, sizeof(id), "%s", optarg);
			break;
		case 'm':
			metrics = optarg;
			break;
		case 'h':
			usage(stdout);
			return 0;
		case 'V':
			printf("%s %s\n", "tandem-frontend", TANDEM_VERSION);
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
		char host[64] = "frontend";
		gethostname(host, sizeof(host) - 1);
		snprintf(id, sizeof(id), "%s-%d", host, (int)getpid());
	}
	/* The ID is a word in Redis records and part of a key name. */
	if (strpbrk(id, " \t\r\n:=")) {
		fprintf(stderr, "tandem-frontend: --id must not contain "
				"spaces, ':' or '='\n");
		return 2;
	}
	static struct config cfg;
	char err[512];
	if (config_load(path, &cfg, err, sizeof(err)) < 0) {
		fprintf(stderr, "tandem-frontend: %s\n", err);
		return 2;
	}
	struct config_addr maddr = cfg.metrics_listen;
	if (metrics && metrics_http_parse("--metrics", metrics, &maddr, err,
					  sizeof(err)) < 0) {
		fprintf(stderr, "tandem-frontend: %s\n", err);
		return 2;
	}
	/* A Redis connection closed under a write must not kill us. */
	signal(SIGPIPE, SIG_IGN);
	log_set_component("frontend");
	log_set_level((enum log_level)cfg.log_level);

	static struct frontend fe;
	uv_loop_t *loop = uv_default_loop();
	int rc = frontend_init(&fe, loop, path, &cfg, id);
	if (rc < 0) {
		log_error("frontend start failed", "id=%s err=%s", LOG_Q(id),
			  LOG_Q(uv_strerror(rc)));
		return 1;
	}
	static struct metrics_http mh;
	if (frontend_metrics_start(&mh, &fe, &maddr, err, sizeof(err)) < 0) {
		log_error("frontend start failed", "id=%s err=%s", LOG_Q(id),
			  LOG_Q(err));
		frontend_stop(&fe); /* unregisters: nothing stays behind */
		uv_run(loop, UV_RUN_DEFAULT);
		frontend_free(&fe);
		return 1;
	}
	uv_run(loop, UV_RUN_DEFAULT);
	metrics_http_close(&mh);
	uv_run(loop, UV_RUN_NOWAIT); /* its handles' close completes */
	frontend_log_stats(&fe, LOG_LEVEL_INFO);
	frontend_free(&fe);
	log_info("frontend stopped", "id=%s", LOG_Q(id));
	uv_loop_close(loop);
	return 0;
}
