/* What every clusterctl subcommand shares: messages, exit statuses, option
 * parsing with the common --json and --help, and ID parsing. */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clusterctl.h"
#include "record.h"
#include "wire.h"

#define CC_MAX_OPTS 16

void cc_err(const char *fmt, ...)
{
	va_list ap;
	fflush(stdout);
	fputs("clusterctl: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

void cc_err_record(const char *name, const char *v, size_t len)
{
	if (len)
		cc_err("%s: record not readable (%zu bytes, version byte %u; "
		       "this clusterctl reads version %d)",
		       name, len, (unsigned)(uint8_t)v[0], RECORD_VERSION);
	else
		cc_err("%s: record is empty", name);
}

int cc_exit_for(int rc)
{
	switch (rc) {
	case 0:
		return CC_EXIT_OK;
	case -EIO:
		return CC_EXIT_UNREACHABLE;
	case -ENOMEM:
		cc_err("out of memory");
		return CC_EXIT_ATTENTION;
	case -ETIMEDOUT:
		return CC_EXIT_NO_ANSWER;
	default:
		return CC_EXIT_ATTENTION;
	}
}

int cc_getopt(struct cc *cc, int argc, char **argv, const struct option *longs,
	      const char *usage)
{
	static struct option all[CC_MAX_OPTS + 3];
	static char shorts[2 * CC_MAX_OPTS + 8];
	size_t n = 0, k = 0;
	shorts[k++] = ':'; /* report a missing argument as ':' */
	for (; longs && longs[n].name && n < CC_MAX_OPTS; n++) {
		all[n] = longs[n];
		if (longs[n].val > ' ' && longs[n].val < 0x7f) {
			shorts[k++] = (char)longs[n].val;
			if (longs[n].has_arg == required_argument)
				shorts[k++] = ':';
		}
	}
	all[n++] = (struct option){"json", no_argument, NULL, 'j'};
	all[n++] = (struct option){"help", no_argument, NULL, 'h'};
	all[n] = (struct option){NULL, 0, NULL, 0};
	memcpy(shorts + k, "jh", 3);
	opterr = 0;
	for (;;) {
		int c = getopt_long(argc, argv, shorts, all, NULL);
		switch (c) {
		case 'j':
			cc->json = true;
			continue;
		case 'h':
			printf("usage: clusterctl -c FILE [--json] %s\n",
			       usage);
			return 'h';
		case ':':
			cc_err("%s: %s needs a value", argv[0],
			       argv[optind - 1]);
			break;
		case '?':
			if (optopt)
				cc_err("%s: unknown option -%c", argv[0],
				       optopt);
			else
				cc_err("%s: unknown option %s", argv[0],
				       argv[optind - 1]);
			break;
		default:
			return c;
		}
		fprintf(stderr, "usage: clusterctl -c FILE [--json] %s\n",
			usage);
		return '?';
	}
}

int cc_parse_id(const char *s, uint16_t *out)
{
	char *end;
	if (!s || *s < '0' || *s > '9')
		return -EINVAL;
	errno = 0;
	unsigned long v = strtoul(s, &end, 10);
	if (errno || *end || v < 1 || v > 65535)
		return -EINVAL;
	*out = (uint16_t)v;
	return 0;
}

int cc_parse_addr(const char *s, struct wire_addr *a, bool *has_port)
{
	char host[INET6_ADDRSTRLEN + 2];
	const char *port = NULL;
	size_t n;
	memset(a, 0, sizeof(*a));
	*has_port = false;
	if (s[0] == '[') { /* [v6] or [v6]:port */
		const char *e = strchr(s, ']');
		if (!e || (e[1] && e[1] != ':'))
			return -EINVAL;
		n = (size_t)(e - s - 1);
		s++;
		port = e[1] ? e + 2 : NULL;
	} else if (strchr(s, ':') && strchr(s, ':') == strrchr(s, ':')) {
		n = (size_t)(strchr(s, ':') - s); /* v4:port */
		port = s + n + 1;
	} else {
		n = strlen(s); /* v4, or v6 without a port */
	}
	if (n >= sizeof(host))
		return -EINVAL;
	memcpy(host, s, n);
	host[n] = '\0';
	if (inet_pton(AF_INET, host, a->addr) == 1)
		a->family = 4;
	else if (inet_pton(AF_INET6, host, a->addr) == 1)
		a->family = 6;
	else
		return -EINVAL;
	if (port) {
		char *end;
		unsigned long v = strtoul(port, &end, 10);
		if (!*port || *end || v > 65535)
			return -EINVAL;
		a->port = (uint16_t)v;
		*has_port = true;
	}
	return 0;
}

int cc_parse_seconds(const char *s, uint32_t *ms)
{
	char *end;
	if (!s || !*s)
		return -EINVAL;
	errno = 0;
	double v = strtod(s, &end);
	if (errno || *end || !(v > 0) || v > CC_CTL_MAX_WAIT_S)
		return -EINVAL;
	*ms = (uint32_t)(v * 1000 + 0.5);
	if (*ms == 0)
		*ms = 1;
	return 0;
}

int cc_parse_pair(const char *arg, uint16_t *tid, uint16_t *sid)
{
	char t[8];
	const char *slash = arg ? strchr(arg, '/') : NULL;
	size_t n = slash ? (size_t)(slash - arg) : 0;
	if (!slash || n == 0 || n >= sizeof(t))
		return -EINVAL;
	memcpy(t, arg, n);
	t[n] = '\0';
	return cc_parse_id(t, tid) < 0 || cc_parse_id(slash + 1, sid) < 0
		       ? -EINVAL
		       : 0;
}

const char *cc_fmt_s(uint32_t ms, char *buf, size_t len)
{
	snprintf(buf, len, "%g s", ms / 1000.0);
	return buf;
}
