/* tandem-lac's command line: every option with its default, unit and check,
 * parsed with getopt_long into one plain struct. */
#ifndef TANDEM_LAC_OPTS_H
#define TANDEM_LAC_OPTS_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/socket.h>

#define LAC_OPTS_HOST_MAX 256

struct lac_opts {
	char lns_text[LAC_OPTS_HOST_MAX];  /* --lns as written */
	struct sockaddr_storage lns;	   /* --lns resolved */
	char bind_text[LAC_OPTS_HOST_MAX]; /* --bind as written */
	struct sockaddr_storage bind;	   /* --bind, port 0 */
	unsigned tunnels;		   /* --tunnels: 1..65535 */
	unsigned per_socket;		   /* --tunnels-per-socket, 0 = auto */
	unsigned sessions;		   /* --sessions per tunnel: 0..65535 */
	double rate_per_s; /* --rate: session setups/s, 0 = no limit */
	unsigned
		concurrency; /* --concurrency: setups in flight, 0 = no limit */
	uint64_t hold_ms;    /* --hold: session lifetime, 0 = to the end */
	uint64_t duration_ms;	 /* --duration: run bound, 0 = until done */
	const char *secret;	 /* --secret, NULL = no tunnel auth */
	uint64_t hello_ms;	 /* --hello: idle time before HELLO, 0 = off */
	bool hide;		 /* --hide: hide AVPs with the secret */
	bool hide_sccrq;	 /* --hide-sccrq: in SCCRQ too */
	bool json;		 /* --json: report as JSON */
	bool churn;		 /* --churn: reopen calls as they end */
	const char *report_file; /* --report-file, NULL = stdout */
	const char *hostname;	 /* --hostname: our Host Name AVP */
	unsigned first_tid;	 /* --first-tid: 1..65535, 0 = random */
	unsigned window;	 /* --window: our Receive Window Size */
	unsigned retries;	 /* --retries before the LNS is dead */
	uint64_t retransmit_ms;	 /* --retransmit: first timeout */
	uint64_t retransmit_max_ms; /* --retransmit-max: back-off cap */
	bool probe;		    /* --probe: SIGUSR1 begins a probe round */
	uint64_t setup_timeout_ms;  /* --setup-timeout per call, 0 = none */
	uint64_t close_wait_ms;	    /* --close-wait for StopCCN acks */
	bool no_teardown;   /* --no-teardown: exit without CDN/StopCCN */
	bool allow_cdn;	    /* --allow-cdn: LNS CDN after ICCN is fine */
	int log_level;	    /* --log-level (enum log_level) */
	uint64_t data_ms;   /* --data: data messages for this long once every
			     call is up, 0 = none */
	unsigned data_size; /* --data-size: PPP payload bytes per message */
	char data_to_text[LAC_OPTS_HOST_MAX]; /* --data-to as written, "" =
						 the LNS */
	struct sockaddr_storage data_to;      /* --data-to resolved */
};

/* Exit statuses of tandem-lac. */
#define LAC_EXIT_OK    0 /* every tunnel and call came up, none torn down */
#define LAC_EXIT_FAIL  1 /* anything else */
#define LAC_EXIT_USAGE 2 /* bad command line */

/* Parse argv into o (defaults first). Returns 0, 1 when --help was printed
 * to out, or -EINVAL with a one-line reason in err. */
int lac_opts_parse(int argc, char **argv, struct lac_opts *o, char *err,
		   size_t errlen, FILE *out);

/* The --help text. */
void lac_opts_usage(FILE *f, const char *prog);

#endif
