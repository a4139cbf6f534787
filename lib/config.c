/* The config key table (the one place a key is defined), the `key value` line
 * parser with FILE:LINE messages, value syntax per type, cross-key rules, and
 * SIGHUP reload of the keys marked reloadable. */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "log.h"

#define MS_S 1000
#define MS_M (60 * MS_S)
#define MS_H (60 * MS_M)

static const char *const config_shard_policies[] = {"spread", "active-standby",
						    NULL};
static const char *const config_ppp_backends[] = {"count", "pppd", NULL};
/* Same order as enum log_level, so the stored index is the level. */
static const char *const config_log_levels[] = {"error", "warn", "info",
						"debug", NULL};
_Static_assert(LOG_LEVEL_ERROR == 0 && LOG_LEVEL_WARN == 1 &&
		       LOG_LEVEL_INFO == 2 && LOG_LEVEL_DEBUG == 3,
	       "config_log_levels follows enum log_level");
_Static_assert(sizeof(struct config_addr) == 2 * CONFIG_ADDR_MAX + 2,
	       "struct config_addr has no padding (compared with memcmp)");

/* offsetof(struct config, field), refusing to compile unless the field has
 * the C type the key's value type stores (clang-format mangles _Generic). */
/* clang-format off */
#define CONFIG_FIELD(field, ctype)                                             \
	_Generic(((struct config *)0)->field,                                  \
		 ctype: offsetof(struct config, field))
/* clang-format on */

#define KEY(n, f, ctype, t, d, lo, hi, ch, fl, h)                              \
	{                                                                      \
		.name = #n, .type = t, .def = d, .min = lo, .max = hi,         \
		.choices = ch, .flags = fl, .help = h,                         \
		.offset = CONFIG_FIELD(f, ctype),                              \
		.size = sizeof(((struct config *)0)->f)                        \
	}
#define KEY_STR(n, d, fl, h)                                                   \
	KEY(n, n, char *, CONFIG_STRING, d, 0, 0, NULL, fl, h)
#define KEY_ZMQ(n, d, fl, h) KEY(n, n, char *, CONFIG_ZMQ, d, 0, 0, NULL, fl, h)
#define KEY_ADDR(n, d, fl, h)                                                  \
	KEY(n, n, struct config_addr, CONFIG_ADDR, d, 0, 0, NULL, fl, h)
#define KEY_ADDRS(n, d, fl, h)                                                 \
	KEY(n, n, struct config_addrs, CONFIG_ADDRS, d, 0, 0, NULL, fl, h)
#define KEY_INT(n, d, lo, hi, fl, h)                                           \
	KEY(n, n, int, CONFIG_INT, d, lo, hi, NULL, fl, h)
#define KEY_BOOL(n, d, fl, h) KEY(n, n, bool, CONFIG_BOOL, d, 0, 1, NULL, fl, h)
#define KEY_DUR(n, d, lo, hi, fl, h)                                           \
	KEY(n, n##_ms, uint32_t, CONFIG_DURATION, d, lo, hi, NULL, fl, h)
#define KEY_ENUM(n, ch, d, fl, h)                                              \
	KEY(n, n, int, CONFIG_ENUM, d, 0, 0, ch, fl, h)

#define RELOAD CONFIG_RELOADABLE

/* Every key of every process. Durations' min/max are in milliseconds. */
static const struct config_key_info config_keys[] = {
	KEY_ADDR(redis, "127.0.0.1:6379", 0,
		 "Redis server: checkpoints, shard leases, shard map"),
	KEY_ADDRS(redis_sentinels, "", 0,
		  "Redis Sentinels (a,b,c): follow their primary; else redis"),
	KEY_STR(redis_master_name, "tandem", CONFIG_NONEMPTY,
		"Name the Sentinels monitor the primary under"),
	KEY_STR(redis_prefix, "tandem", CONFIG_NONEMPTY,
		"Prefix of every Redis key (clusters can share a Redis)"),
	KEY_STR(redis_password, "", CONFIG_SECRET,
		"Redis AUTH password; empty: no AUTH"),
	KEY_INT(redis_wait_replicas, "0", 0, 16, 0,
		"Replicas that must ack each checkpoint (WAIT n); 0: none"),
	KEY_DUR(redis_timeout, "200ms", 1, 60 * MS_S, 0,
		"Redis command time-out; after it the link counts as down"),
	KEY_ADDR(listen, "0.0.0.0:1701", 0,
		 "Frontend: L2TP UDP address (RFC 2661 uses port 1701)"),
	KEY_ZMQ(frontend_endpoint, "tcp://127.0.0.1:*", 0,
		"ZeroMQ endpoint a frontend binds for packets from workers"),
	KEY_ZMQ(worker_endpoint, "tcp://127.0.0.1:*", 0,
		"ZeroMQ endpoint a worker binds for packets from frontends"),
	KEY_ZMQ(control_endpoint, "tcp://127.0.0.1:*", 0,
		"ZeroMQ endpoint of a worker's control socket (clusterctl)"),
	KEY_STR(hostname, "tandem", CONFIG_NONEMPTY,
		"Host Name AVP we send (RFC 2661 4.4.3)"),
	KEY_STR(secret, "", CONFIG_SECRET,
		"Tunnel secret (RFC 2661 4.3, 5.1.1); empty: no tunnel auth"),
	KEY_BOOL(hide_avps, "no", 0,
		 "Hide the AVPs RFC 2661 lets us hide (needs secret)"),
	KEY_DUR(hello_interval, "60s", 0, MS_H, RELOAD,
		"Idle time before a Hello (RFC 2661 6.5); 0: no Hellos"),
	KEY_INT(receive_window, "16", 1, 1024, 0,
		"Receive Window Size AVP we announce (RFC 2661 5.8)"),
	KEY_DUR(retransmit_initial, "1s", 10, 60 * MS_S, RELOAD,
		"First retransmission time-out (RFC 2661 5.8)"),
	KEY_DUR(retransmit_max, "8s", 10, 10 * MS_M, RELOAD,
		"Cap of the doubling time-out; >= retransmit_initial"),
	KEY_INT(retransmit_retries, "5", 1, 100, RELOAD,
		"Retransmissions before the tunnel is torn down"),
	KEY_DUR(ack_delay, "50ms", 0, 5 * MS_S, 0,
		"Wait for a reply to carry an ack; never past half a window"),
	KEY_INT(shard_count, "256", 1, 65536, CONFIG_POW2,
		"Shards of the tunnel-ID space; same on every process"),
	KEY_DUR(lease_ttl, "600ms", 10, 60 * MS_S, 0,
		"Shard lease lifetime; keep under the peer's 1s retry"),
	KEY_DUR(lease_renew, "200ms", 5, 60 * MS_S, 0,
		"How often a worker renews its leases; < lease_ttl"),
	KEY_ENUM(shard_policy, config_shard_policies, "spread", 0,
		 "spread: over all workers; active-standby: one owns all"),
	KEY_INT(max_tunnels, "65535", 1, 65535, 0,
		"Tunnels one worker accepts before refusing SCCRQs"),
	KEY_INT(max_sessions_per_tunnel, "65535", 1, 65535, 0,
		"Sessions one tunnel accepts before refusing ICRQs"),
	KEY_ENUM(ppp_backend, config_ppp_backends, "count", 0,
		 "count: count PPP frames only; pppd: one pppd per session"),
	KEY_STR(pppd_path, "/usr/sbin/pppd", CONFIG_NONEMPTY,
		"pppd binary the pppd backend starts for each session"),
	KEY_STR(pppd_options, "", 0,
		"Options file pppd reads (`file`): auth, DNS; empty: none"),
	KEY_STR(ppp_pool, "", 0,
		"Subscriber IPv4 pool A.B.C.D/LEN (we are .1); empty: none"),
	KEY_ADDR(metrics_listen, "", CONFIG_OPTIONAL,
		 "HTTP address serving GET /metrics (Prometheus); empty: off"),
	KEY_ENUM(log_level, config_log_levels, "info", RELOAD,
		 "Lines below this level are not logged"),
};

#define CONFIG_N_KEYS	    (sizeof(config_keys) / sizeof(config_keys[0]))
#define CONFIG_KEY_NAME_MAX 40	 /* longer names cannot be 2 edits from a key */
#define CONFIG_VALUE_MAX    1024 /* longest value text on a line */

/* Pairs of duration keys that must keep an order. */
static const struct config_rule {
	const char *a; /* smaller key */
	const char *b; /* larger key */
	bool strict;   /* a < b; else a <= b */
} config_rules[] = {
	{"lease_renew", "lease_ttl", true},
	{"retransmit_initial", "retransmit_max", false},
};

/* State of one parse. */
struct config_parse {
	const char *name;		/* file name for messages */
	unsigned line;			/* current line, from 1 */
	char *err;			/* caller's message buffer */
	size_t errlen;			/* its size */
	unsigned set_on[CONFIG_N_KEYS]; /* line of each key; 0: default */
};

/* printf into buf (if any); returns -EINVAL for the caller to pass on. */
static int config_msg(char *buf, size_t len, const char *fmt, ...)
{
	va_list ap;

	if (buf && len) {
		va_start(ap, fmt);
		vsnprintf(buf, len, fmt, ap);
		va_end(ap);
	}
	return -EINVAL;
}

/* "name:line: <fmt>"; returns -EINVAL. */
static int config_fail(struct config_parse *p, unsigned line, const char *fmt,
		       ...)
{
	va_list ap;
	int n;

	if (!p->err || !p->errlen)
		return -EINVAL;
	n = snprintf(p->err, p->errlen, "%s:%u: ", p->name, line);
	if (n >= 0 && (size_t)n < p->errlen) {
		va_start(ap, fmt);
		vsnprintf(p->err + n, p->errlen - (size_t)n, fmt, ap);
		va_end(ap);
	}
	return -EINVAL;
}

static void *config_field(struct config *c, const struct config_key_info *k)
{
	return (char *)c + k->offset;
}

static const void *config_cfield(const struct config *c,
				 const struct config_key_info *k)
{
	return (const char *)c + k->offset;
}

int config_duration_text(uint64_t ms, char *buf, size_t len)
{
	unsigned long long v = (unsigned long long)ms;

	if (ms && ms % MS_H == 0)
		return snprintf(buf, len, "%lluh", v / MS_H);
	if (ms && ms % MS_M == 0)
		return snprintf(buf, len, "%llum", v / MS_M);
	if (ms % MS_S == 0)
		return snprintf(buf, len, "%llus", v / MS_S);
	return snprintf(buf, len, "%llums", v);
}

/* "1..1024" or, for durations, "0s..1h". */
static void config_range_text(const struct config_key_info *k, char *buf,
			      size_t len)
{
	char lo[24], hi[24];

	if (k->type == CONFIG_DURATION) {
		config_duration_text((uint64_t)k->min, lo, sizeof(lo));
		config_duration_text((uint64_t)k->max, hi, sizeof(hi));
	} else {
		snprintf(lo, sizeof(lo), "%lld", (long long)k->min);
		snprintf(hi, sizeof(hi), "%lld", (long long)k->max);
	}
	snprintf(buf, len, "%s..%s", lo, hi);
}

/* The decimal digits at s (at least one) into *v, *end past all of them.
 * -EINVAL: no digit; -ERANGE: above UINT64_MAX. */
static int config_digits(const char *s, const char **end, uint64_t *v)
{
	const char *q = s;
	bool over = false;
	uint64_t n = 0;

	for (; *q >= '0' && *q <= '9'; q++) {
		unsigned d = (unsigned)(*q - '0');
		over |= n > (UINT64_MAX - d) / 10;
		n = n * 10 + d;
	}
	*end = q;
	*v = n;
	return q == s ? -EINVAL : over ? -ERANGE : 0;
}

/* "<digits>[ms|s|m|h]" (plain number: seconds) into milliseconds. */
static int config_parse_ms(const char *s, uint64_t *ms)
{
	static const struct {
		const char *unit; /* suffix */
		uint64_t ms;	  /* milliseconds per unit */
	} units[] = {
		{"", MS_S}, {"ms", 1}, {"s", MS_S}, {"m", MS_M}, {"h", MS_H}};
	const char *end;
	uint64_t n;
	int rc = config_digits(s, &end, &n);

	for (size_t i = 0; rc != -EINVAL && i < sizeof(units) / sizeof(*units);
	     i++) {
		if (strcmp(end, units[i].unit) != 0)
			continue;
		if (rc < 0 || n > UINT64_MAX / units[i].ms)
			return -ERANGE;
		*ms = n * units[i].ms;
		return 0;
	}
	return -EINVAL;
}

#define CONFIG_ADDR_EXAMPLES "127.0.0.1:6379, [::1]:6379, localhost:6379"

static int config_parse_addr(const char *v, struct config_addr *a, char *msg,
			     size_t msglen)
{
	char host[CONFIG_ADDR_MAX];
	unsigned char bin[16];
	const char *port, *sep, *end;
	size_t hlen;
	uint64_t pn;
	int rc;
	bool ok, v6 = v[0] == '[';

	if (strlen(v) >= CONFIG_ADDR_MAX)
		return config_msg(msg, msglen,
				  "address is too long (at most %d bytes)",
				  CONFIG_ADDR_MAX - 1);
	sep = v6 ? strchr(v, ']') : strrchr(v, ':');
	if (!sep || (v6 && sep[1] != ':'))
		goto bad;
	hlen = (size_t)(sep - v) - v6;
	port = sep + 1 + v6;
	if (!v6 && memchr(v, ':', hlen))
		return config_msg(msg, msglen,
				  "\"%s\": an IPv6 address needs brackets, "
				  "e.g. [::1]:6379",
				  v);
	memcpy(host, v + v6, hlen);
	host[hlen] = '\0';
	if (v6)
		ok = inet_pton(AF_INET6, host, bin) == 1;
	else
		ok = strcmp(host, "localhost") == 0 ||
		     inet_pton(AF_INET, host, bin) == 1;
	if (!ok && hlen)
		return config_msg(msg, msglen, "\"%s\" is not an %s", host,
				  v6 ? "IPv6 address"
				     : "IPv4 address or localhost");
	rc = config_digits(port, &end, &pn);
	if (!ok || rc == -EINVAL || *end)
		goto bad;
	if (rc < 0 || pn > 65535)
		return config_msg(msg, msglen,
				  "port %s is out of range (0..65535)", port);
	memset(a, 0, sizeof(*a));
	strcpy(a->text, v);
	strcpy(a->host, host);
	a->port = (uint16_t)pn;
	return 0;
bad:
	return config_msg(msg, msglen, "\"%s\" is not host:port (examples: %s)",
			  v, CONFIG_ADDR_EXAMPLES);
}

/* "a:1,b:2, c:3": each item an address; "" is the empty list. */
static int config_parse_addrs(const char *v, struct config_addrs *l, char *msg,
			      size_t msglen)
{
	struct config_addrs out;
	char item[CONFIG_ADDR_MAX + 1];

	memset(&out, 0, sizeof(out));
	if (strlen(v) >= sizeof(out.text))
		return config_msg(msg, msglen,
				  "list is too long (at most %zu bytes)",
				  sizeof(out.text) - 1);
	strcpy(out.text, v);
	for (const char *s = v; *s;) {
		while (*s == ' ' || *s == '\t')
			s++;
		size_t n = strcspn(s, ", \t");
		if (n == 0 || n >= sizeof(item))
			return config_msg(msg, msglen,
					  n ? "an address in the list is too "
					      "long"
					    : "empty item in the address list "
					      "(write a,b,c)");
		if (out.n == CONFIG_ADDRS_MAX)
			return config_msg(msg, msglen, "more than %d addresses",
					  CONFIG_ADDRS_MAX);
		memcpy(item, s, n);
		item[n] = '\0';
		int rc = config_parse_addr(item, &out.addr[out.n], msg, msglen);
		if (rc < 0)
			return rc;
		out.n++;
		s += n;
		while (*s == ' ' || *s == '\t')
			s++;
		if (*s == ',' && !*++s)
			return config_msg(msg, msglen,
					  "the address list ends with a comma");
		else if (*s && s[-1] != ',')
			return config_msg(msg, msglen,
					  "separate the addresses with commas");
	}
	*l = out;
	return 0;
}

static bool config_is_zmq(const char *v)
{
	static const char *const schemes[] = {"tcp://", "ipc://", "inproc://"};

	for (size_t i = 0; i < sizeof(schemes) / sizeof(schemes[0]); i++) {
		size_t n = strlen(schemes[i]);
		if (strncmp(v, schemes[i], n) == 0 && v[n] &&
		    !strpbrk(v, " \t"))
			return true;
	}
	return false;
}

static int config_parse_bool(const char *v, bool *b)
{
	static const char *const words[] = {"no",  "yes", "false", "true",
					    "off", "on",  "0",	   "1"};

	for (size_t i = 0; i < sizeof(words) / sizeof(words[0]); i++) {
		if (strcasecmp(v, words[i]) == 0) {
			*b = i & 1;
			return 0;
		}
	}
	return -EINVAL;
}

/* The choices of an enum key joined with sep: "spread, active-standby". */
static void config_choices_text(const char *const *ch, const char *sep,
				char *buf, size_t len)
{
	size_t used = 0;

	buf[0] = '\0';
	for (size_t i = 0; ch[i] && used < len; i++)
		used += (size_t)snprintf(buf + used, len - used, "%s%s",
					 i ? sep : "", ch[i]);
}

/* Parse text v as key k's value into c. Returns 0, or -EINVAL with msg set
 * (without the file, line or key). */
static int config_set(struct config *c, const struct config_key_info *k,
		      const char *v, char *msg, size_t msglen)
{
	void *f = config_field(c, k);
	char text[128];
	const char *end;
	uint64_t u;
	int64_t n;
	int rc;

	switch (k->type) {
	case CONFIG_STRING:
	case CONFIG_ZMQ:
		if (strlen(v) >= k->size)
			return config_msg(msg, msglen,
					  "value is too long (%zu bytes, at "
					  "most %zu)",
					  strlen(v), k->size - 1);
		if (k->type == CONFIG_ZMQ && !config_is_zmq(v))
			return config_msg(msg, msglen,
					  "\"%s\" is not a ZeroMQ endpoint (it "
					  "must start with tcp://, ipc:// or "
					  "inproc://)",
					  v);
		if ((k->flags & CONFIG_NONEMPTY) && !*v)
			return config_msg(msg, msglen, "must not be empty");
		memset(f, 0, k->size);
		memcpy(f, v, strlen(v));
		return 0;
	case CONFIG_INT:
		rc = config_digits(v + (*v == '-' || *v == '+'), &end, &u);
		if (rc == -EINVAL || *end)
			return config_msg(msg, msglen,
					  "\"%s\" is not an integer", v);
		n = rc < 0 || u > INT32_MAX ? INT64_MAX : (int64_t)u;
		n = *v == '-' ? -n : n;
		if (n < k->min || n > k->max)
			goto range;
		if ((k->flags & CONFIG_POW2) && (u & (u - 1)))
			return config_msg(msg, msglen,
					  "%s is not a power of two (e.g. 64, "
					  "128, 256)",
					  v);
		*(int *)f = (int)n;
		return 0;
	case CONFIG_BOOL:
		if (config_parse_bool(v, f) < 0)
			return config_msg(msg, msglen,
					  "\"%s\" is not a boolean (yes/no, "
					  "true/false, on/off, 1/0)",
					  v);
		return 0;
	case CONFIG_DURATION:
		rc = config_parse_ms(v, &u);
		if (rc == -EINVAL)
			return config_msg(msg, msglen,
					  "\"%s\" is not a duration (examples: "
					  "60s, 500ms)",
					  v);
		if (rc < 0 || u < (uint64_t)k->min || u > (uint64_t)k->max)
			goto range;
		*(uint32_t *)f = (uint32_t)u;
		return 0;
	case CONFIG_ADDR:
		if (!*v && (k->flags & CONFIG_OPTIONAL)) {
			memset(f, 0, k->size);
			return 0;
		}
		return config_parse_addr(v, f, msg, msglen);
	case CONFIG_ADDRS:
		return config_parse_addrs(v, f, msg, msglen);
	case CONFIG_ENUM:
		for (int i = 0; k->choices[i]; i++) {
			if (strcmp(v, k->choices[i]) == 0) {
				*(int *)f = i;
				return 0;
			}
		}
		config_choices_text(k->choices, ", ", text, sizeof(text));
		return config_msg(msg, msglen, "\"%s\" is not one of: %s", v,
				  text);
	}
	return config_msg(msg, msglen, "unknown value type");
range:
	config_range_text(k, text, sizeof(text));
	return config_msg(msg, msglen, "%s is out of range (%s)", v, text);
}

void config_defaults(struct config *c)
{
	char msg[160];

	memset(c, 0, sizeof(*c));
	for (size_t i = 0; i < CONFIG_N_KEYS; i++)
		if (config_set(c, &config_keys[i], config_keys[i].def, msg,
			       sizeof(msg)) < 0)
			abort(); /* a default the table itself refuses */
}

static const struct config_key_info *config_key_findn(const char *s, size_t n)
{
	for (size_t i = 0; i < CONFIG_N_KEYS; i++)
		if (strlen(config_keys[i].name) == n &&
		    memcmp(config_keys[i].name, s, n) == 0)
			return &config_keys[i];
	return NULL;
}

/* The line key `name` was set on in this parse; 0 if it kept its default. */
static unsigned config_line_of(const struct config_parse *p, const char *name)
{
	return p->set_on[config_key_find(name) - config_keys];
}

/* Optimal string alignment distance (insert, delete, substitute, swap two
 * neighbours), or UINT_MAX for names too long to be a typo of a key. */
static unsigned config_edit_distance(const char *a, size_t la, const char *b,
				     size_t lb)
{
	unsigned d[CONFIG_KEY_NAME_MAX + 1][CONFIG_KEY_NAME_MAX + 1];

	if (la > CONFIG_KEY_NAME_MAX || lb > CONFIG_KEY_NAME_MAX)
		return ~0u;
	for (size_t i = 0; i <= la; i++)
		d[i][0] = (unsigned)i;
	for (size_t j = 0; j <= lb; j++)
		d[0][j] = (unsigned)j;
	for (size_t i = 1; i <= la; i++) {
		for (size_t j = 1; j <= lb; j++) {
			unsigned v = d[i - 1][j - 1] + (a[i - 1] != b[j - 1]);
			if (d[i - 1][j] + 1 < v)
				v = d[i - 1][j] + 1;
			if (d[i][j - 1] + 1 < v)
				v = d[i][j - 1] + 1;
			if (i > 1 && j > 1 && a[i - 1] == b[j - 2] &&
			    a[i - 2] == b[j - 1] && d[i - 2][j - 2] + 1 < v)
				v = d[i - 2][j - 2] + 1;
			d[i][j] = v;
		}
	}
	return d[la][lb];
}

static int config_unknown_key(struct config_parse *p, const char *key, size_t n)
{
	const struct config_key_info *best = NULL;
	unsigned best_d = 3; /* suggest only keys 1-2 edits away */
	int shown = (int)(n > 64 ? 64 : n);

	if (memchr(key, '=', n))
		return config_fail(p, p->line,
				   "unknown key \"%.*s\" (write \"key value\", "
				   "without \"=\")",
				   shown, key);
	for (size_t i = 0; i < CONFIG_N_KEYS; i++) {
		const char *name = config_keys[i].name;
		unsigned d = config_edit_distance(key, n, name, strlen(name));
		if (d < best_d) {
			best_d = d;
			best = &config_keys[i];
		}
	}
	if (best)
		return config_fail(
			p, p->line,
			"unknown key \"%.*s\" (did you mean \"%s\"?)", shown,
			key, best->name);
	return config_fail(p, p->line, "unknown key \"%.*s\"", shown, key);
}

static bool config_space(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f';
}

/* The value part of a line [s, e) into val: a "quoted" value (\" and \\
 * escapes) or the rest of the line up to a '#' after whitespace, trimmed.
 * Returns 0, or -EINVAL after reporting. */
static int config_value(struct config_parse *p, const char *key, const char *s,
			const char *e, char *val, size_t cap)
{
	size_t n = 0;

	if (s < e && *s == '"') {
		for (s++; s < e && *s != '"'; s++) {
			if (*s == '\\' && s + 1 < e &&
			    (s[1] == '"' || s[1] == '\\'))
				s++;
			if (n + 1 >= cap)
				return config_fail(p, p->line,
						   "%s: value is too long",
						   key);
			val[n++] = *s;
		}
		if (s == e)
			return config_fail(p, p->line,
					   "%s: missing closing quote", key);
		for (s++; s < e && config_space(*s); s++)
			;
		if (s < e && *s != '#')
			return config_fail(
				p, p->line,
				"%s: unexpected text after the closing quote",
				key);
		val[n] = '\0';
		return 0;
	}
	for (const char *q = s; q < e; q++)
		if (*q == '#' && (q == s || config_space(q[-1])))
			e = q;
	while (e > s && config_space(e[-1]))
		e--;
	if (s == e)
		return config_fail(p, p->line, "%s: missing value", key);
	if ((size_t)(e - s) >= cap)
		return config_fail(p, p->line, "%s: value is too long", key);
	memcpy(val, s, (size_t)(e - s));
	val[e - s] = '\0';
	return 0;
}

/* One line [s, e), without its newline. */
static int config_line(struct config_parse *p, struct config *c, const char *s,
		       const char *e)
{
	const struct config_key_info *k;
	char val[CONFIG_VALUE_MAX], msg[256];
	const char *ks;
	size_t i;

	if (memchr(s, '\0', (size_t)(e - s)))
		return config_fail(p, p->line, "NUL byte in line");
	while (s < e && config_space(*s))
		s++;
	if (s == e || *s == '#')
		return 0;
	for (ks = s; s < e && !config_space(*s); s++)
		;
	k = config_key_findn(ks, (size_t)(s - ks));
	if (!k)
		return config_unknown_key(p, ks, (size_t)(s - ks));
	i = (size_t)(k - config_keys);
	if (p->set_on[i])
		return config_fail(p, p->line, "\"%s\" already set on line %u",
				   k->name, p->set_on[i]);
	while (s < e && config_space(*s))
		s++;
	if (config_value(p, k->name, s, e, val, sizeof(val)) < 0)
		return -EINVAL;
	if (config_set(c, k, val, msg, sizeof(msg)) < 0)
		return config_fail(p, p->line, "%s: %s", k->name, msg);
	p->set_on[i] = p->line;
	return 0;
}

/* Cross-key rules, reported on the line of whichever key came later. */
static int config_check(struct config_parse *p, const struct config *c)
{
	for (size_t i = 0; i < sizeof(config_rules) / sizeof(config_rules[0]);
	     i++) {
		const struct config_rule *r = &config_rules[i];
		const struct config_key_info *ka = config_key_find(r->a);
		const struct config_key_info *kb = config_key_find(r->b);
		uint32_t a = *(const uint32_t *)config_cfield(c, ka);
		uint32_t b = *(const uint32_t *)config_cfield(c, kb);
		unsigned la = config_line_of(p, r->a),
			 lb = config_line_of(p, r->b);
		bool a_later = la >= lb;
		char ta[24], tb[24], where[24] = "the default";

		if (r->strict ? a < b : a <= b)
			continue;
		config_duration_text(a, ta, sizeof(ta));
		config_duration_text(b, tb, sizeof(tb));
		if (a_later ? lb : la)
			snprintf(where, sizeof(where), "line %u",
				 a_later ? lb : la);
		if (a_later)
			return config_fail(
				p, la, "%s: %s must be %s %s (%s, %s)", r->a,
				ta, r->strict ? "less than" : "at most", r->b,
				tb, where);
		return config_fail(p, lb, "%s: %s must be %s %s (%s, %s)", r->b,
				   tb, r->strict ? "greater than" : "at least",
				   r->a, ta, where);
	}
	if (c->hide_avps && !c->secret[0]) { /* it encrypts hidden AVPs */
		unsigned lh = config_line_of(p, "hide_avps");
		unsigned ls = config_line_of(p, "secret");
		return config_fail(p, lh > ls ? lh : ls,
				   "%s: hide_avps needs a non-empty secret",
				   lh > ls ? "hide_avps" : "secret");
	}
	return 0;
}

int config_parse_buf(const char *name, const char *text, size_t len,
		     struct config *out, char *err, size_t errlen)
{
	struct config_parse p = {.name = name, .err = err, .errlen = errlen};
	struct config c;
	const char *s = text, *end = text + len;

	config_defaults(&c);
	if (err && errlen)
		err[0] = '\0';
	while (s < end) {
		const char *nl = memchr(s, '\n', (size_t)(end - s));
		const char *e = nl ? nl : end;
		p.line++;
		if (config_line(&p, &c, s, e) < 0)
			return -EINVAL;
		s = nl ? nl + 1 : end;
	}
	if (config_check(&p, &c) < 0)
		return -EINVAL;
	*out = c;
	return 0;
}

int config_load(const char *path, struct config *out, char *err, size_t errlen)
{
	/* one byte past the limit tells a file that is too big apart */
	char *buf = malloc(CONFIG_FILE_MAX + 1);
	size_t len = 0;
	int fd = -1, rc;
	ssize_t n;

	rc = buf ? 0 : -ENOMEM;
	if (rc == 0) {
		fd = open(path, O_RDONLY | O_CLOEXEC);
		rc = fd < 0 ? -errno : 0;
	}
	while (rc == 0 && len <= CONFIG_FILE_MAX) {
		n = read(fd, buf + len, CONFIG_FILE_MAX + 1 - len);
		if (n == 0)
			break;
		if (n < 0 && errno != EINTR)
			rc = -errno;
		if (n > 0)
			len += (size_t)n;
	}
	if (rc < 0) {
		config_msg(err, errlen, "%s: %s", path, strerror(-rc));
		goto fail;
	}
	if (len > CONFIG_FILE_MAX) {
		config_msg(err, errlen, "%s: bigger than %d bytes", path,
			   CONFIG_FILE_MAX);
		rc = -EFBIG;
		goto fail;
	}
	rc = config_parse_buf(path, buf, len, out, err, errlen);
fail:
	if (fd >= 0)
		close(fd);
	free(buf);
	return rc;
}

int config_apply(struct config *live, const struct config *fresh,
		 config_change_fn *fn, void *arg)
{
	char old_text[2 * CONFIG_STR_MAX + 8], new_text[2 * CONFIG_STR_MAX + 8];
	int restart = 0;

	for (size_t i = 0; i < CONFIG_N_KEYS; i++) {
		const struct config_key_info *k = &config_keys[i];
		bool reload = k->flags & CONFIG_RELOADABLE;

		if (memcmp(config_cfield(live, k), config_cfield(fresh, k),
			   k->size) == 0)
			continue;
		config_value_text(live, k, old_text, sizeof(old_text));
		config_value_text(fresh, k, new_text, sizeof(new_text));
		if (reload)
			memcpy(config_field(live, k), config_cfield(fresh, k),
			       k->size);
		else
			restart++;
		if (fn)
			fn(k, reload, old_text, new_text, arg);
	}
	return restart;
}

int config_reload(const char *path, struct config *live, config_change_fn *fn,
		  void *arg, char *err, size_t errlen)
{
	struct config fresh;
	int rc = config_load(path, &fresh, err, errlen);

	return rc < 0 ? rc : config_apply(live, &fresh, fn, arg);
}

const struct config_key_info *config_key_at(size_t i)
{
	return i < CONFIG_N_KEYS ? &config_keys[i] : NULL;
}

const struct config_key_info *config_key_find(const char *name)
{
	return name ? config_key_findn(name, strlen(name)) : NULL;
}

const char *config_type_name(enum config_type t)
{
	static const char *const names[] = {
		[CONFIG_STRING] = "string", [CONFIG_INT] = "integer",
		[CONFIG_BOOL] = "boolean",  [CONFIG_DURATION] = "duration",
		[CONFIG_ADDR] = "address",  [CONFIG_ZMQ] = "zmq endpoint",
		[CONFIG_ENUM] = "enum",	    [CONFIG_ADDRS] = "address list",
	};

	return (unsigned)t < sizeof(names) / sizeof(names[0]) ? names[t] : "?";
}

int config_key_describe(const struct config_key_info *k, char *buf, size_t len)
{
	char type[128], range[96] = "", text[48];

	if (k->type == CONFIG_ENUM) {
		config_choices_text(k->choices, "|", text, sizeof(text));
		snprintf(type, sizeof(type), "one of %s", text);
	} else {
		snprintf(type, sizeof(type), "%s", config_type_name(k->type));
	}
	if (k->type == CONFIG_INT || k->type == CONFIG_DURATION) {
		config_range_text(k, text, sizeof(text));
		snprintf(range, sizeof(range), ", range %s%s", text,
			 k->flags & CONFIG_POW2 ? ", power of two" : "");
	}
	return snprintf(buf, len, "%s, default %s%s, %s", type,
			*k->def ? k->def : "empty", range,
			k->flags & CONFIG_RELOADABLE ? "SIGHUP reloads"
						     : "restart to change");
}

/* Append c to buf (room len) at *o, counting what does not fit. */
static void config_putc(char *buf, size_t len, size_t *o, char c)
{
	if (*o + 1 < len)
		buf[*o] = c;
	(*o)++;
}

/* A string as a config value: bare unless it would not read back the same,
 * else "quoted" with \" and \\. Returns the length snprintf would have. */
static int config_quote(const char *s, char *buf, size_t len)
{
	size_t n = strlen(s), o = 0;

	if (n > 0 && !config_space(s[0]) && !config_space(s[n - 1]) &&
	    s[0] != '"' && !strchr(s, '#'))
		return snprintf(buf, len, "%s", s);
	config_putc(buf, len, &o, '"');
	for (size_t i = 0; i < n; i++) {
		if (s[i] == '"' || s[i] == '\\')
			config_putc(buf, len, &o, '\\');
		config_putc(buf, len, &o, s[i]);
	}
	config_putc(buf, len, &o, '"');
	if (len)
		buf[o < len ? o : len - 1] = '\0';
	return (int)o;
}

int config_value_text(const struct config *c, const struct config_key_info *k,
		      char *buf, size_t len)
{
	const void *f = config_cfield(c, k);
	int v;

	switch (k->type) {
	case CONFIG_STRING:
		if (k->flags & CONFIG_SECRET)
			return snprintf(buf, len, "%s",
					*(const char *)f ? "(set)" : "\"\"");
		return config_quote(f, buf, len);
	case CONFIG_ZMQ:
		return snprintf(buf, len, "%s", (const char *)f);
	case CONFIG_INT:
		return snprintf(buf, len, "%d", *(const int *)f);
	case CONFIG_BOOL:
		return snprintf(buf, len, "%s",
				*(const bool *)f ? "yes" : "no");
	case CONFIG_DURATION:
		return config_duration_text(*(const uint32_t *)f, buf, len);
	case CONFIG_ADDR: /* "" (CONFIG_OPTIONAL) must read back */
		return snprintf(buf, len, "%s",
				*(const char *)f ? (const char *)f : "\"\"");
	case CONFIG_ADDRS:
		return config_quote(((const struct config_addrs *)f)->text, buf,
				    len);
	case CONFIG_ENUM:
		v = *(const int *)f;
		for (int i = 0; k->choices[i]; i++)
			if (i == v)
				return snprintf(buf, len, "%s", k->choices[i]);
		break;
	}
	return snprintf(buf, len, "?");
}
