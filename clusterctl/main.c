/* clusterctl: the operator's CLI of a tandem cluster. Usage:
 *   clusterctl -c FILE [--json] SUBCOMMAND [ARGS...]
 * Reads the processes' configuration file for the Redis address and key
 * prefix, then runs one subcommand from the table below: the read-only ones
 * read Redis, the actions ask the owning worker over its control socket. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clusterctl.h"

static const struct {
	const char *name;  /* as typed */
	cc_cmd_fn *run;	   /* cmd_<name>.c */
	const char *args;  /* its arguments, for usage */
	const char *about; /* one line */
} cc_cmds[] = {
	{"status", cmd_status, "",
	 "frontends, workers, shards and Redis; exit 1 if something needs "
	 "attention"},
	{"shards", cmd_shards, "",
	 "each shard's owner, epoch, lease and tunnels"},
	{"workers", cmd_workers, "",
	 "registered workers: liveness, shards, tunnels, sessions"},
	{"tunnels", cmd_tunnels, "[--worker W] [--peer ADDR] [--state S]",
	 "checkpointed tunnels"},
	{"sessions", cmd_sessions, "[--tunnel T] [--user U] [--ip ADDR]",
	 "checkpointed sessions"},
	{"show", cmd_show, "tunnel T | session T/S",
	 "every stored field of one tunnel or session"},
	{"drain", cmd_drain, "WORKER [--timeout SECONDS]",
	 "hand every shard of WORKER to its peers, wait until it has left"},
	{"disconnect", cmd_disconnect,
	 "tunnel T | session T/S [--result N] [--timeout SECONDS]",
	 "clear a tunnel (StopCCN) or a call (CDN) through its worker"},
	{"move", cmd_move, "shard N --to WORKER [--timeout SECONDS]",
	 "hand one shard to another live worker"},
};

#define CC_N_CMDS (sizeof(cc_cmds) / sizeof(cc_cmds[0]))

static void usage(FILE *f)
{
	fprintf(f, "usage: clusterctl -c FILE [--json] SUBCOMMAND [ARGS...]\n"
		   "  -c, --config FILE  the cluster's tandem configuration "
		   "(Redis address, prefix, shards)\n"
		   "  -j, --json         JSON output (field names: "
		   "docs/CLUSTERCTL.md)\n"
		   "  -V, --version      print the build's version\n"
		   "  -h, --help         this text\n"
		   "subcommands:\n");
	for (size_t i = 0; i < CC_N_CMDS; i++)
		fprintf(f, "  %s %s\n      %s\n", cc_cmds[i].name,
			cc_cmds[i].args, cc_cmds[i].about);
	fprintf(f, "exit status: 0 ok, 1 attention needed (status), not "
		   "found, refused or timed out,\n"
		   "  2 usage, 3 Redis unreachable, 4 a worker did not "
		   "answer\n");
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{"config", required_argument, NULL, 'c'},
		{"json", no_argument, NULL, 'j'},
		{"help", no_argument, NULL, 'h'},
		{"version", no_argument, NULL, 'V'},
		{NULL, 0, NULL, 0},
	};
	static struct cc cc;
	static char outbuf[1 << 16];
	const char *path = NULL;
	char err[512];
	int c;
	setvbuf(stdout, outbuf, _IOFBF, sizeof(outbuf));
	while ((c = getopt_long(argc, argv, "+c:jhV", opts, NULL)) != -1) {
		switch (c) {
		case 'c':
			path = optarg;
			break;
		case 'j':
			cc.json = true;
			break;
		case 'h':
			usage(stdout);
			return CC_EXIT_OK;
		case 'V':
			printf("clusterctl %s\n", TANDEM_VERSION);
			return CC_EXIT_OK;
		default:
			usage(stderr);
			return CC_EXIT_USAGE;
		}
	}
	if (optind < argc && strcmp(argv[optind], "help") == 0) {
		usage(stdout);
		return CC_EXIT_OK;
	}
	if (!path || optind >= argc) {
		cc_err("%s", !path ? "-c FILE is required"
				   : "a subcommand is required");
		usage(stderr);
		return CC_EXIT_USAGE;
	}
	size_t i = 0;
	while (i < CC_N_CMDS && strcmp(cc_cmds[i].name, argv[optind]) != 0)
		i++;
	if (i == CC_N_CMDS) {
		cc_err("unknown subcommand %s", argv[optind]);
		usage(stderr);
		return CC_EXIT_USAGE;
	}
	if (config_load(path, &cc.cfg, err, sizeof(err)) < 0) {
		cc_err("%s", err);
		return CC_EXIT_USAGE;
	}
	int sub_argc = argc - optind;
	char **sub_argv = argv + optind;
	optind = 0; /* the subcommand parses its own options */
	int rc = cc_cmds[i].run(&cc, sub_argc, sub_argv);
	cc_redis_close(&cc);
	if (fflush(stdout) != 0 || ferror(stdout)) {
		cc_err("cannot write the output");
		return rc ? rc : CC_EXIT_ATTENTION;
	}
	return rc;
}
