/* tandem-lac command-line parsing (lac_opts.h): getopt_long over one option
 * table, values range-checked, the LNS address resolved once here. */
#include "lac_opts.h"

#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"

#define LAC_OPTS_MAX_SECONDS	(30.0 * 24 * 3600) /* 30 days */
#define LAC_OPTS_RETRANSMIT_MAX 8000   /* default back-off cap, ms (5.8) */
#define LAC_OPTS_RETRANSMIT_CAP 600000 /* highest --retransmit-max, ms */

enum lac_opt {
	LAC_OPT_LNS = 256,
	LAC_OPT_TUNNELS,
	LAC_OPT_SESSIONS,
	LAC_OPT_RATE,
	LAC_OPT_CONCURRENCY,
	LAC_OPT_HOLD,
	LAC_OPT_DURATION,
	LAC_OPT_SECRET,
	LAC_OPT_HELLO,
	LAC_OPT_HIDE,
	LAC_OPT_HIDE_SCCRQ,
	LAC_OPT_BIND,
	LAC_OPT_JSON,
	LAC_OPT_CHURN,
	LAC_OPT_REPORT_FILE,
	LAC_OPT_HOSTNAME,
	LAC_OPT_FIRST_TID,
	LAC_OPT_WINDOW,
	LAC_OPT_RETRIES,
	LAC_OPT_RETRANSMIT,
	LAC_OPT_RETRANSMIT_MAX,
	LAC_OPT_PROBE,
	LAC_OPT_SETUP_TIMEOUT,
	LAC_OPT_CLOSE_WAIT,
	LAC_OPT_NO_TEARDOWN,
	LAC_OPT_ALLOW_CDN,
	LAC_OPT_LOG_LEVEL,
	LAC_OPT_PER_SOCKET,
	LAC_OPT_DATA,
	LAC_OPT_DATA_SIZE,
	LAC_OPT_DATA_TO,
};

static const struct option lac_opts_long[] = {
	{"lns", required_argument, NULL, LAC_OPT_LNS},
	{"tunnels", required_argument, NULL, LAC_OPT_TUNNELS},
	{"sessions", required_argument, NULL, LAC_OPT_SESSIONS},
	{"rate", required_argument, NULL, LAC_OPT_RATE},
	{"concurrency", required_argument, NULL, LAC_OPT_CONCURRENCY},
	{"hold", required_argument, NULL, LAC_OPT_HOLD},
	{"duration", required_argument, NULL, LAC_OPT_DURATION},
	{"secret", required_argument, NULL, LAC_OPT_SECRET},
	{"hello", required_argument, NULL, LAC_OPT_HELLO},
	{"hide", no_argument, NULL, LAC_OPT_HIDE},
	{"hide-sccrq", no_argument, NULL, LAC_OPT_HIDE_SCCRQ},
	{"bind", required_argument, NULL, LAC_OPT_BIND},
	{"json", no_argument, NULL, LAC_OPT_JSON},
	{"churn", no_argument, NULL, LAC_OPT_CHURN},
	{"report-file", required_argument, NULL, LAC_OPT_REPORT_FILE},
	{"hostname", required_argument, NULL, LAC_OPT_HOSTNAME},
	{"first-tid", required_argument, NULL, LAC_OPT_FIRST_TID},
	{"window", required_argument, NULL, LAC_OPT_WINDOW},
	{"retries", required_argument, NULL, LAC_OPT_RETRIES},
	{"retransmit", required_argument, NULL, LAC_OPT_RETRANSMIT},
	{"retransmit-max", required_argument, NULL, LAC_OPT_RETRANSMIT_MAX},
	{"probe", no_argument, NULL, LAC_OPT_PROBE},
	{"setup-timeout", required_argument, NULL, LAC_OPT_SETUP_TIMEOUT},
	{"close-wait", required_argument, NULL, LAC_OPT_CLOSE_WAIT},
	{"no-teardown", no_argument, NULL, LAC_OPT_NO_TEARDOWN},
	{"allow-cdn", no_argument, NULL, LAC_OPT_ALLOW_CDN},
	{"log-level", required_argument, NULL, LAC_OPT_LOG_LEVEL},
	{"tunnels-per-socket", required_argument, NULL, LAC_OPT_PER_SOCKET},
	{"data", required_argument, NULL, LAC_OPT_DATA},
	{"data-size", required_argument, NULL, LAC_OPT_DATA_SIZE},
	{"data-to", required_argument, NULL, LAC_OPT_DATA_TO},
	{"help", no_argument, NULL, 'h'},
	{NULL, 0, NULL, 0},
};

void lac_opts_usage(FILE *f, const char *prog)
{
	fprintf(f,
		"usage: %s --lns HOST:PORT [options]\n"
		"L2TPv2 (RFC 2661) LAC emulator: opens tunnels and incoming "
		"calls to an LNS,\nholds them, closes them, and reports what "
		"happened.\n\n"
		"  --lns HOST:PORT      the LNS (required; [v6addr]:port for "
		"IPv6)\n"
		"  --tunnels N          tunnels to open (1-65535, default 1)\n"
		"  --sessions M         calls per tunnel (0-65535, default 1)\n"
		"  --rate R             new calls per second overall (default "
		"0 = no limit)\n"
		"  --concurrency C      setups (tunnels and calls) in flight "
		"(default 256, 0 = no limit)\n"
		"  --hold SECONDS       each call is cleared (CDN) after this "
		"(default 0 = at the end)\n"
		"  --duration SECONDS   bound on the run, then CDN/StopCCN "
		"everything\n"
		"                       (default 0 = when every call is up, "
		"or cleared with --hold)\n"
		"  --churn              place a new call on each slot whose "
		"call ended, until\n"
		"                       --duration (needs --hold and "
		"--duration)\n"
		"  --secret S           tunnel authentication: challenge the "
		"LNS, answer its challenge\n"
		"  --hide               hide AVPs with the secret (RFC 2661 "
		"4.3; needs --secret),\n"
		"                       except in SCCRQ: an LNS may pick the "
		"secret by Host Name\n"
		"  --hide-sccrq         --hide, and in SCCRQ too\n"
		"  --hello SECONDS      HELLO after this long without a "
		"message (default 60, 0 = off)\n"
		"  --bind ADDR          local address (default 127.0.0.1, ::1 "
		"for an IPv6 LNS);\n"
		"                       each tunnel has its own UDP port\n"
		"                       (see --tunnels-per-socket)\n"
		"  --tunnels-per-socket N  tunnels sharing one UDP socket "
		"and port (0-65535;\n"
		"                       default 0 = one each, or as few per "
		"socket as the\n"
		"                       descriptor limit and the ephemeral "
		"ports allow)\n"
		"  --hostname NAME      our Host Name AVP (default "
		"tandem-lac)\n"
		"  --first-tid N        our first Tunnel ID, the next ones "
		"follow (default random)\n"
		"  --window N           our Receive Window Size (1-32768, "
		"default 16)\n"
		"  --retries N          retransmissions before the LNS is "
		"dead (default 5)\n"
		"  --retransmit SECONDS first retransmission timeout (default "
		"1, doubling up to\n"
		"                       --retransmit-max)\n"
		"  --retransmit-max SECONDS  back-off cap (default 8, or "
		"--retransmit when\n"
		"                       longer; must be >= --retransmit)\n"
		"  --setup-timeout SECONDS  SCCRQ to SCCCN acknowledged, else "
		"StopCCN, and ICRQ to\n"
		"                       ICCN acknowledged, else CDN (default "
		"30, 0 = none)\n"
		"  --close-wait SECONDS wait this long at the end for "
		"StopCCN acknowledgements (default 5)\n"
		"  --no-teardown        at the end exit without CDN or "
		"StopCCN (state stays on the LNS)\n"
		"  --probe              on each SIGUSR1, a HELLO on every "
		"established tunnel and\n"
		"                       the time until each is acknowledged "
		"(p50/p99/max ms per\n"
		"                       round in the report; needs "
		"--duration)\n"
		"  --allow-cdn          a CDN from the LNS after our ICCN was "
		"acknowledged does not fail\n"
		"                       the run (LNSes whose PPP cannot "
		"start, e.g. xl2tpd without /dev/ppp)\n"
		"  --data SECONDS       once every call is up, data messages "
		"on the calls in turn\n"
		"                       for this long, as fast as the "
		"sockets take them (counts\n"
		"                       in the report; needs --duration "
		"longer than the setups)\n"
		"  --data-size BYTES    PPP payload per data message (1-1400, "
		"default 64)\n"
		"  --data-to HOST:PORT  send the data messages there instead "
		"of to the LNS: a\n"
		"                       plain UDP receiver, what the same "
		"sender reaches\n"
		"  --json               write the report as JSON\n"
		"  --report-file PATH   write the report there instead of "
		"stdout\n"
		"  --log-level LEVEL    error, warn (default), info or debug; "
		"logs go to stderr\n"
		"  -h, --help           this text\n\n"
		"SECONDS may have a fraction (0.5). Exit status: 0 when every "
		"tunnel and call came\nup and the LNS tore none down, 1 "
		"otherwise, 2 for a bad command line.\n",
		prog);
}

static int lac_opts_fail(char *err, size_t errlen, const char *fmt, ...)
	LOG_PRINTF(3, 4);

static int lac_opts_fail(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	if (errlen)
		vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return -EINVAL;
}

static int lac_opts_uint(const char *s, unsigned long min, unsigned long max,
			 unsigned *out)
{
	char *end;
	errno = 0;
	if (*s < '0' || *s > '9')
		return -EINVAL;
	unsigned long v = strtoul(s, &end, 10);
	if (errno || *end || v < min || v > max)
		return -EINVAL;
	*out = (unsigned)v;
	return 0;
}

static int lac_opts_double(const char *s, double max, double *out)
{
	char *end;
	errno = 0;
	if (!((*s >= '0' && *s <= '9') || *s == '.'))
		return -EINVAL;
	double v = strtod(s, &end);
	if (errno || *end || !isfinite(v) || v < 0 || v > max)
		return -EINVAL;
	*out = v;
	return 0;
}

static int lac_opts_seconds(const char *s, uint64_t *ms)
{
	double v;
	if (lac_opts_double(s, LAC_OPTS_MAX_SECONDS, &v) < 0)
		return -EINVAL;
	*ms = (uint64_t)llround(v * 1000.0);
	return 0;
}

/* "host:port" or "[v6]:port" -> resolved address. */
static int lac_opts_resolve(const char *text, bool need_port, int family,
			    struct sockaddr_storage *out, char *err,
			    size_t errlen)
{
	char host[LAC_OPTS_HOST_MAX];
	const char *port = NULL;
	struct addrinfo hints, *res = NULL;
	size_t len = strlen(text);

	if (len == 0 || len >= sizeof(host))
		return lac_opts_fail(err, errlen, "bad address '%s'", text);
	if (text[0] == '[') {
		const char *close = strchr(text, ']');
		if (!close)
			return lac_opts_fail(err, errlen,
					     "bad address '%s': no ']'", text);
		memcpy(host, text + 1, (size_t)(close - text - 1));
		host[close - text - 1] = '\0';
		if (close[1] == ':')
			port = close + 2;
		else if (close[1])
			return lac_opts_fail(err, errlen, "bad address '%s'",
					     text);
	} else {
		const char *colon = strrchr(text, ':');
		if (colon && need_port && strchr(text, ':') == colon) {
			memcpy(host, text, (size_t)(colon - text));
			host[colon - text] = '\0';
			port = colon + 1;
		} else {
			memcpy(host, text, len + 1);
		}
	}
	unsigned pnum = 0;
	if (need_port && (!port || lac_opts_uint(port, 1, 65535, &pnum) < 0))
		return lac_opts_fail(err, errlen,
				     "bad address '%s': HOST:PORT expected",
				     text);
	memset(&hints, 0, sizeof(hints));
	hints.ai_socktype = SOCK_DGRAM;
	hints.ai_family = family;
	hints.ai_flags = need_port ? 0 : AI_NUMERICHOST;
	int rc = getaddrinfo(host, NULL, &hints, &res);
	if (rc != 0 || !res)
		return lac_opts_fail(err, errlen, "cannot resolve '%s': %s",
				     host,
				     rc ? gai_strerror(rc) : "no address");
	/* Without a family asked for, IPv4 first (the default --bind). */
	const struct addrinfo *pick = res;
	for (const struct addrinfo *a = res; a; a = a->ai_next)
		if (a->ai_family == AF_INET) {
			pick = a;
			break;
		}
	memset(out, 0, sizeof(*out));
	memcpy(out, pick->ai_addr, pick->ai_addrlen);
	freeaddrinfo(res);
	if (out->ss_family == AF_INET)
		((struct sockaddr_in *)out)->sin_port = htons((uint16_t)pnum);
	else if (out->ss_family == AF_INET6)
		((struct sockaddr_in6 *)out)->sin6_port = htons((uint16_t)pnum);
	else
		return lac_opts_fail(err, errlen, "'%s' is not IPv4 or IPv6",
				     text);
	return 0;
}

static void lac_opts_defaults(struct lac_opts *o)
{
	memset(o, 0, sizeof(*o));
	strcpy(o->bind_text, "127.0.0.1");
	o->tunnels = 1;
	o->sessions = 1;
	o->concurrency = 256;
	o->hello_ms = 60000;
	o->hostname = "tandem-lac";
	o->window = 16;
	o->retries = 5;
	o->retransmit_ms = 1000;
	o->retransmit_max_ms = LAC_OPTS_RETRANSMIT_MAX;
	o->setup_timeout_ms = 30000;
	o->close_wait_ms = 5000;
	o->log_level = LOG_LEVEL_WARN;
	o->data_size = 64;
}

/* One option's value into o. */
static int lac_opts_one(struct lac_opts *o, int c, const char *v, char *err,
			size_t errlen)
{
	int rc = 0;
	switch (c) {
	case LAC_OPT_LNS:
		if (strlen(v) >= sizeof(o->lns_text))
			return lac_opts_fail(err, errlen, "--lns too long");
		strcpy(o->lns_text, v);
		return 0;
	case LAC_OPT_BIND:
		if (strlen(v) >= sizeof(o->bind_text))
			return lac_opts_fail(err, errlen, "--bind too long");
		strcpy(o->bind_text, v);
		return 0;
	case LAC_OPT_TUNNELS:
		rc = lac_opts_uint(v, 1, 65535, &o->tunnels);
		break;
	case LAC_OPT_SESSIONS:
		rc = lac_opts_uint(v, 0, 65535, &o->sessions);
		break;
	case LAC_OPT_RATE:
		rc = lac_opts_double(v, 1e9, &o->rate_per_s);
		break;
	case LAC_OPT_CONCURRENCY:
		rc = lac_opts_uint(v, 0, 100000000, &o->concurrency);
		break;
	case LAC_OPT_HOLD:
		rc = lac_opts_seconds(v, &o->hold_ms);
		break;
	case LAC_OPT_DURATION:
		rc = lac_opts_seconds(v, &o->duration_ms);
		break;
	case LAC_OPT_SECRET:
		if (!*v)
			return lac_opts_fail(err, errlen, "--secret is empty");
		o->secret = v;
		return 0;
	case LAC_OPT_HELLO:
		rc = lac_opts_seconds(v, &o->hello_ms);
		break;
	case LAC_OPT_HOSTNAME:
		if (!*v || strlen(v) > 255)
			return lac_opts_fail(err, errlen,
					     "--hostname: 1-255 bytes");
		o->hostname = v;
		return 0;
	case LAC_OPT_FIRST_TID:
		rc = lac_opts_uint(v, 1, 65535, &o->first_tid);
		break;
	case LAC_OPT_DATA:
		rc = lac_opts_seconds(v, &o->data_ms);
		break;
	case LAC_OPT_DATA_SIZE:
		rc = lac_opts_uint(v, 1, 1400, &o->data_size);
		break;
	case LAC_OPT_DATA_TO:
		if (strlen(v) >= sizeof(o->data_to_text))
			return lac_opts_fail(err, errlen, "--data-to too long");
		strcpy(o->data_to_text, v);
		return 0;
	case LAC_OPT_PER_SOCKET:
		rc = lac_opts_uint(v, 0, 65535, &o->per_socket);
		break;
	case LAC_OPT_WINDOW:
		rc = lac_opts_uint(v, 1, 32768, &o->window);
		break;
	case LAC_OPT_RETRIES:
		rc = lac_opts_uint(v, 0, 100, &o->retries);
		break;
	case LAC_OPT_RETRANSMIT:
		rc = lac_opts_seconds(v, &o->retransmit_ms);
		if (!rc && (o->retransmit_ms < 10 || o->retransmit_ms > 60000))
			rc = -EINVAL;
		break;
	case LAC_OPT_RETRANSMIT_MAX:
		rc = lac_opts_seconds(v, &o->retransmit_max_ms);
		if (rc < 0 || o->retransmit_max_ms == 0 ||
		    o->retransmit_max_ms > LAC_OPTS_RETRANSMIT_CAP)
			return lac_opts_fail(err, errlen,
					     "bad value for --retransmit-max: "
					     "'%s' (seconds, more than 0 and "
					     "at most %u)",
					     v, LAC_OPTS_RETRANSMIT_CAP / 1000);
		return 0;
	case LAC_OPT_SETUP_TIMEOUT:
		rc = lac_opts_seconds(v, &o->setup_timeout_ms);
		break;
	case LAC_OPT_CLOSE_WAIT:
		rc = lac_opts_seconds(v, &o->close_wait_ms);
		break;
	case LAC_OPT_REPORT_FILE:
		o->report_file = v;
		return 0;
	case LAC_OPT_LOG_LEVEL:
		o->log_level = log_level_parse(v);
		rc = o->log_level < 0 ? -EINVAL : 0;
		break;
	case LAC_OPT_HIDE:
		o->hide = true;
		return 0;
	case LAC_OPT_HIDE_SCCRQ:
		o->hide = o->hide_sccrq = true;
		return 0;
	case LAC_OPT_JSON:
		o->json = true;
		return 0;
	case LAC_OPT_CHURN:
		o->churn = true;
		return 0;
	case LAC_OPT_NO_TEARDOWN:
		o->no_teardown = true;
		return 0;
	case LAC_OPT_ALLOW_CDN:
		o->allow_cdn = true;
		return 0;
	case LAC_OPT_PROBE:
		o->probe = true;
		return 0;
	default:
		return lac_opts_fail(err, errlen, "unknown option");
	}
	if (rc < 0) {
		const char *name = "?";
		for (const struct option *lo = lac_opts_long; lo->name; lo++)
			if (lo->val == c)
				name = lo->name;
		return lac_opts_fail(err, errlen, "bad value for --%s: '%s'",
				     name, v);
	}
	return 0;
}

int lac_opts_parse(int argc, char **argv, struct lac_opts *o, char *err,
		   size_t errlen, FILE *out)
{
	int c, rc;
	bool bind_given = false, rtmax_given = false;

	lac_opts_defaults(o);
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":h", lac_opts_long, NULL)) != -1) {
		if (c == 'h') {
			lac_opts_usage(out, argv[0]);
			return 1;
		}
		if (c == '?')
			return lac_opts_fail(err, errlen, "unknown option '%s'",
					     argv[optind - 1]);
		if (c == ':')
			return lac_opts_fail(err, errlen,
					     "option '%s' needs a value",
					     argv[optind - 1]);
		bind_given |= c == LAC_OPT_BIND;
		rtmax_given |= c == LAC_OPT_RETRANSMIT_MAX;
		rc = lac_opts_one(o, c, optarg, err, errlen);
		if (rc < 0)
			return rc;
	}
	if (optind < argc)
		return lac_opts_fail(err, errlen, "unexpected argument '%s'",
				     argv[optind]);
	if (!o->lns_text[0])
		return lac_opts_fail(err, errlen,
				     "--lns HOST:PORT is required");
	if (o->hide && !o->secret)
		return lac_opts_fail(err, errlen, "--hide needs --secret");
	if (o->churn && (!o->hold_ms || !o->duration_ms))
		return lac_opts_fail(err, errlen,
				     "--churn needs --hold and --duration");
	if (o->data_ms && !o->duration_ms)
		return lac_opts_fail(err, errlen,
				     "--data needs --duration (without it the "
				     "run ends once every call is up)");
	if (o->data_to_text[0] && !o->data_ms)
		return lac_opts_fail(err, errlen, "--data-to needs --data");
	if (o->probe && !o->duration_ms)
		return lac_opts_fail(err, errlen,
				     "--probe needs --duration (without it the "
				     "run ends once every call is up)");
	/* The default cap yields to a longer first timeout, as it always
	 * has; a cap given explicitly must not be below it. */
	if (!rtmax_given && o->retransmit_max_ms < o->retransmit_ms)
		o->retransmit_max_ms = o->retransmit_ms;
	if (o->retransmit_max_ms < o->retransmit_ms)
		return lac_opts_fail(err, errlen,
				     "--retransmit-max %g is below "
				     "--retransmit %g (seconds): the cap "
				     "cannot be under the first timeout",
				     (double)o->retransmit_max_ms / 1000.0,
				     (double)o->retransmit_ms / 1000.0);
	if (bind_given) {
		rc = lac_opts_resolve(o->bind_text, false, AF_UNSPEC, &o->bind,
				      err, errlen);
		if (rc < 0)
			return rc;
	}
	rc = lac_opts_resolve(o->lns_text, true,
			      bind_given ? o->bind.ss_family : AF_UNSPEC,
			      &o->lns, err, errlen);
	if (rc < 0)
		return rc;
	if (!bind_given) {
		strcpy(o->bind_text,
		       o->lns.ss_family == AF_INET6 ? "::1" : "127.0.0.1");
		rc = lac_opts_resolve(o->bind_text, false, AF_UNSPEC, &o->bind,
				      err, errlen);
		if (rc < 0)
			return rc;
	}
	if (o->bind.ss_family != o->lns.ss_family)
		return lac_opts_fail(err, errlen,
				     "--bind %s and --lns %s are not the same "
				     "address family",
				     o->bind_text, o->lns_text);
	if (o->data_to_text[0]) {
		rc = lac_opts_resolve(o->data_to_text, true, o->lns.ss_family,
				      &o->data_to, err, errlen);
		if (rc < 0)
			return rc;
	}
	return 0;
}
