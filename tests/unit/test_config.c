/* Config: every value type's valid and invalid forms, the exact FILE:LINE
 * messages, comments and quotes, duplicates, unknown-key suggestions, ranges,
 * cross-key rules, reload semantics, and deploy/tandem.conf.example against
 * the key table (tests run from the repository root). */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "config.h"
#include "log.h"

#define EXAMPLE "deploy/tandem.conf.example"

static int parse(const char *text, struct config *c, char *err, size_t errlen)
{
	return config_parse_buf("t.conf", text, strlen(text), c, err, errlen);
}

/* text must parse; returns the result. */
static struct config ok(const char *text)
{
	struct config c;
	char err[512] = "";
	int rc = parse(text, &c, err, sizeof(err));
	if (rc != 0)
		fail_msg("\"%s\" failed: %s", text, err);
	return c;
}

/* text must fail with exactly msg. */
static void bad(const char *text, const char *msg)
{
	struct config c;
	char err[512] = "";
	assert_int_equal(parse(text, &c, err, sizeof(err)), -EINVAL);
	assert_string_equal(err, msg);
}

/* Same value for every key (fields compared as the reload code does). */
static bool same_config(const struct config *a, const struct config *b)
{
	const struct config_key_info *k;
	for (size_t i = 0; (k = config_key_at(i)); i++)
		if (memcmp((const char *)a + k->offset,
			   (const char *)b + k->offset, k->size) != 0)
			return false;
	return true;
}

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	assert_int_equal(fwrite(text, 1, strlen(text), f), strlen(text));
	assert_int_equal(fclose(f), 0);
}

static void test_defaults(void **state)
{
	struct config c, e;
	(void)state;
	config_defaults(&c);
	assert_string_equal(c.redis.text, "127.0.0.1:6379");
	assert_string_equal(c.redis.host, "127.0.0.1");
	assert_int_equal(c.redis.port, 6379);
	assert_string_equal(c.redis_prefix, "tandem");
	assert_string_equal(c.redis_password, "");
	assert_int_equal(c.redis_wait_replicas, 0);
	assert_int_equal(c.redis_timeout_ms, 200);
	assert_string_equal(c.listen.host, "0.0.0.0");
	assert_int_equal(c.listen.port, 1701);
	assert_string_equal(c.frontend_endpoint, "tcp://127.0.0.1:*");
	assert_string_equal(c.worker_endpoint, "tcp://127.0.0.1:*");
	assert_string_equal(c.control_endpoint, "tcp://127.0.0.1:*");
	assert_string_equal(c.hostname, "tandem");
	assert_string_equal(c.secret, "");
	assert_false(c.hide_avps);
	assert_int_equal(c.hello_interval_ms, 60000);
	assert_int_equal(c.receive_window, 16);
	assert_int_equal(c.retransmit_initial_ms, 1000);
	assert_int_equal(c.retransmit_max_ms, 8000);
	assert_int_equal(c.retransmit_retries, 5);
	assert_int_equal(c.ack_delay_ms, 50);
	assert_int_equal(c.shard_count, 256);
	assert_int_equal(c.lease_ttl_ms, 600);
	assert_int_equal(c.lease_renew_ms, 200);
	assert_int_equal(c.shard_policy, CONFIG_SHARD_SPREAD);
	assert_int_equal(c.max_tunnels, 65535);
	assert_int_equal(c.max_sessions_per_tunnel, 65535);
	assert_int_equal(c.log_level, LOG_LEVEL_INFO);
	/* an empty file and a file of comments are the defaults */
	e = ok("");
	assert_true(same_config(&c, &e));
	e = ok("# nothing\n\n   \n");
	assert_true(same_config(&c, &e));
}

static void test_table(void **state)
{
	static const char *const reloadable[] = {
		"hello_interval", "retransmit_initial", "retransmit_max",
		"retransmit_retries", "log_level"};
	const struct config_key_info *k;
	char d[256];
	size_t n = 0;
	(void)state;
	for (size_t i = 0; (k = config_key_at(i)); i++, n++) {
		bool want = false;
		assert_true(strlen(k->help) > 10);
		assert_ptr_equal(config_key_find(k->name), k);
		for (size_t j = 0; j < i; j++)
			assert_string_not_equal(config_key_at(j)->name,
						k->name);
		for (size_t j = 0; j < 5; j++)
			want |= strcmp(reloadable[j], k->name) == 0;
		assert_int_equal(!!(k->flags & CONFIG_RELOADABLE), want);
		config_key_describe(k, d, sizeof(d));
		assert_non_null(strstr(d, want ? ", SIGHUP reloads"
					       : ", restart to change"));
		assert_non_null(strstr(d, "default "));
		assert_true(k->type == CONFIG_ENUM ||
			    strncmp(d, config_type_name(k->type),
				    strlen(config_type_name(k->type))) == 0);
	}
	assert_int_equal(n, 32);
	assert_null(config_key_find("nope"));
	assert_null(config_key_find(NULL));
	/* the two keys of each cross-key rule reload alike, so a reload
	 * cannot leave the live config breaking a rule */
	assert_int_equal(
		config_key_find("lease_ttl")->flags & CONFIG_RELOADABLE,
		config_key_find("lease_renew")->flags & CONFIG_RELOADABLE);
	assert_int_equal(config_key_find("retransmit_max")->flags &
				 CONFIG_RELOADABLE,
			 config_key_find("retransmit_initial")->flags &
				 CONFIG_RELOADABLE);
	assert_int_equal(config_key_find("hide_avps")->flags &
				 CONFIG_RELOADABLE,
			 config_key_find("secret")->flags & CONFIG_RELOADABLE);
	/* log_level's choices are the log module's names, in order */
	k = config_key_find("log_level");
	for (int i = 0; i <= LOG_LEVEL_DEBUG; i++)
		assert_string_equal(k->choices[i],
				    log_level_name((enum log_level)i));
	assert_null(k->choices[LOG_LEVEL_DEBUG + 1]);
	config_key_describe(config_key_find("hello_interval"), d, sizeof(d));
	assert_string_equal(d, "duration, default 60s, range 0s..1h, SIGHUP "
			       "reloads");
	config_key_describe(config_key_find("shard_count"), d, sizeof(d));
	assert_string_equal(d, "integer, default 256, range 1..65536, power of "
			       "two, restart to change");
	config_key_describe(config_key_find("shard_policy"), d, sizeof(d));
	assert_string_equal(d, "one of spread|active-standby, default spread, "
			       "restart to change");
	config_key_describe(config_key_find("secret"), d, sizeof(d));
	assert_string_equal(d, "string, default empty, restart to change");
	assert_string_equal(config_type_name(CONFIG_ZMQ), "zmq endpoint");
	assert_string_equal(config_type_name((enum config_type)99), "?");
}

static void test_syntax(void **state)
{
	struct config c;
	(void)state;
	c = ok("# comment\n"
	       "\n"
	       "   \t\n"
	       "  hostname my lns   # trailing comment\r\n"
	       "redis_prefix tandem#1\n"
	       "secret \"s3cr et # not a comment\"  # comment\n"
	       "redis_password \"a\\\"b\\\\c\\d\"\n"
	       "hello_interval\t30s");
	assert_string_equal(c.hostname, "my lns");
	assert_string_equal(c.redis_prefix, "tandem#1");
	assert_string_equal(c.secret, "s3cr et # not a comment");
	assert_string_equal(c.redis_password, "a\"b\\c\\d");
	assert_int_equal(c.hello_interval_ms, 30000);
	/* quotes around any type, and a quoted string kept verbatim */
	c = ok("receive_window \"32\"\nhostname \"  x  \"\n");
	assert_int_equal(c.receive_window, 32);
	assert_string_equal(c.hostname, "  x  ");
	c = ok("secret \"\"\n");
	assert_string_equal(c.secret, "");

	bad("hostname\n", "t.conf:1: hostname: missing value");
	bad("\n\nsecret   # just a comment\n",
	    "t.conf:3: secret: missing value");
	bad("secret \t\r\n", "t.conf:1: secret: missing value");
	bad("hostname \"abc\n", "t.conf:1: hostname: missing closing quote");
	bad("hostname \"ab\\\"\n", "t.conf:1: hostname: missing closing quote");
	bad("hostname \"abc\" def\n",
	    "t.conf:1: hostname: unexpected text after the closing quote");
	bad("hostname \"\"\n", "t.conf:1: hostname: must not be empty");
	assert_int_equal(
		config_parse_buf("t.conf", "hostname a\0b\n", 13, &c, NULL, 0),
		-EINVAL);
	{
		char err[128];
		assert_int_equal(config_parse_buf("t.conf",
						  "# x\nhostname a\0b\n", 17,
						  &c, err, sizeof(err)),
				 -EINVAL);
		assert_string_equal(err, "t.conf:2: NUL byte in line");
	}
}

static void test_strings(void **state)
{
	char text[1200];
	struct config c;
	(void)state;
	memcpy(text, "hostname ", 9);
	memset(text + 9, 'h', 255);
	strcpy(text + 9 + 255, "\n");
	c = ok(text);
	assert_int_equal(strlen(c.hostname), 255);
	strcpy(text + 9 + 255, "h\n");
	bad(text, "t.conf:1: hostname: value is too long (256 bytes, at most "
		  "255)");
	memset(text + 9, 'h', 1100);
	strcpy(text + 9 + 1100, "\n");
	bad(text, "t.conf:1: hostname: value is too long");
}

static void test_int(void **state)
{
	(void)state;
	assert_int_equal(ok("receive_window 1").receive_window, 1);
	assert_int_equal(ok("receive_window 1024").receive_window, 1024);
	assert_int_equal(ok("receive_window +5").receive_window, 5);
	assert_int_equal(ok("receive_window 007").receive_window, 7);
	assert_int_equal(ok("redis_wait_replicas 16").redis_wait_replicas, 16);
	assert_int_equal(ok("retransmit_retries 100").retransmit_retries, 100);
	assert_int_equal(ok("max_tunnels 1").max_tunnels, 1);
	assert_int_equal(ok("shard_count 1").shard_count, 1);
	assert_int_equal(ok("shard_count 65536").shard_count, 65536);
	bad("receive_window abc",
	    "t.conf:1: receive_window: \"abc\" is not an integer");
	bad("receive_window 12x",
	    "t.conf:1: receive_window: \"12x\" is not an integer");
	bad("receive_window 1.5",
	    "t.conf:1: receive_window: \"1.5\" is not an integer");
	bad("receive_window -",
	    "t.conf:1: receive_window: \"-\" is not an integer");
	bad("receive_window 0",
	    "t.conf:1: receive_window: 0 is out of range (1..1024)");
	bad("receive_window 1025",
	    "t.conf:1: receive_window: 1025 is out of range (1..1024)");
	bad("receive_window -1",
	    "t.conf:1: receive_window: -1 is out of range (1..1024)");
	bad("receive_window 99999999999999999999",
	    "t.conf:1: receive_window: 99999999999999999999 is out of range "
	    "(1..1024)");
	bad("receive_window -99999999999999999999",
	    "t.conf:1: receive_window: -99999999999999999999 is out of range "
	    "(1..1024)");
	bad("redis_wait_replicas 17",
	    "t.conf:1: redis_wait_replicas: 17 is out of range (0..16)");
	bad("retransmit_retries 0",
	    "t.conf:1: retransmit_retries: 0 is out of range (1..100)");
	bad("max_sessions_per_tunnel 65536",
	    "t.conf:1: max_sessions_per_tunnel: 65536 is out of range "
	    "(1..65535)");
	bad("shard_count 100", "t.conf:1: shard_count: 100 is not a power of "
			       "two (e.g. 64, 128, 256)");
	bad("shard_count 0",
	    "t.conf:1: shard_count: 0 is out of range (1..65536)");
	bad("shard_count 131072",
	    "t.conf:1: shard_count: 131072 is out of range (1..65536)");
}

static void test_bool(void **state)
{
	static const char *const yes[] = {"yes", "true", "on",
					  "1",	 "YES",	 "On"};
	static const char *const no[] = {"no", "false", "off", "0", "No"};
	char text[64];
	(void)state;
	for (size_t i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
		snprintf(text, sizeof(text), "secret x\nhide_avps %s", yes[i]);
		assert_true(ok(text).hide_avps);
	}
	for (size_t i = 0; i < sizeof(no) / sizeof(no[0]); i++) {
		snprintf(text, sizeof(text), "hide_avps %s", no[i]);
		assert_false(ok(text).hide_avps);
	}
	bad("hide_avps maybe",
	    "t.conf:1: hide_avps: \"maybe\" is not a boolean "
	    "(yes/no, true/false, on/off, 1/0)");
	bad("hide_avps 2", "t.conf:1: hide_avps: \"2\" is not a boolean "
			   "(yes/no, true/false, on/off, 1/0)");
	bad("hide_avps y", "t.conf:1: hide_avps: \"y\" is not a boolean "
			   "(yes/no, true/false, on/off, 1/0)");
}

static void test_duration(void **state)
{
	(void)state;
	assert_int_equal(ok("hello_interval 500ms").hello_interval_ms, 500);
	assert_int_equal(ok("hello_interval 2s").hello_interval_ms, 2000);
	assert_int_equal(ok("hello_interval 1m").hello_interval_ms, 60000);
	assert_int_equal(ok("hello_interval 1h").hello_interval_ms, 3600000);
	assert_int_equal(ok("hello_interval 30").hello_interval_ms, 30000);
	assert_int_equal(ok("hello_interval 0").hello_interval_ms, 0);
	assert_int_equal(ok("hello_interval 0ms").hello_interval_ms, 0);
	assert_int_equal(ok("ack_delay 0").ack_delay_ms, 0);
	assert_int_equal(ok("redis_timeout 1ms").redis_timeout_ms, 1);
	assert_int_equal(ok("retransmit_max 10m").retransmit_max_ms, 600000);
	bad("\n\n\n\n\n\n\n\n\n\n\nhello_interval 5x",
	    "t.conf:12: hello_interval: \"5x\" is not a duration (examples: "
	    "60s, 500ms)");
	bad("hello_interval -5s", "t.conf:1: hello_interval: \"-5s\" is not a "
				  "duration (examples: 60s, 500ms)");
	bad("hello_interval 1.5s", "t.conf:1: hello_interval: \"1.5s\" is not "
				   "a duration (examples: 60s, 500ms)");
	bad("hello_interval s", "t.conf:1: hello_interval: \"s\" is not a "
				"duration (examples: 60s, 500ms)");
	bad("hello_interval 5 s", "t.conf:1: hello_interval: \"5 s\" is not a "
				  "duration (examples: 60s, 500ms)");
	bad("hello_interval 5S", "t.conf:1: hello_interval: \"5S\" is not a "
				 "duration (examples: 60s, 500ms)");
	bad("hello_interval 5sec", "t.conf:1: hello_interval: \"5sec\" is not "
				   "a duration (examples: 60s, 500ms)");
	bad("hello_interval 99999999999999999999x",
	    "t.conf:1: hello_interval: \"99999999999999999999x\" is not a "
	    "duration (examples: 60s, 500ms)");
	bad("hello_interval 2h",
	    "t.conf:1: hello_interval: 2h is out of range (0s..1h)");
	bad("hello_interval 3601",
	    "t.conf:1: hello_interval: 3601 is out of range (0s..1h)");
	bad("hello_interval 99999999999999999999s",
	    "t.conf:1: hello_interval: 99999999999999999999s is out of range "
	    "(0s..1h)");
	bad("hello_interval 18446744073709551615h",
	    "t.conf:1: hello_interval: 18446744073709551615h is out of range "
	    "(0s..1h)");
	bad("redis_timeout 0",
	    "t.conf:1: redis_timeout: 0 is out of range (1ms..1m)");
	bad("retransmit_initial 5ms",
	    "t.conf:1: retransmit_initial: 5ms is out of range (10ms..1m)");
}

static void test_address(void **state)
{
	struct config c;
	(void)state;
	c = ok("listen 192.0.2.1:1701\nredis [2001:db8::1]:6380\n");
	assert_string_equal(c.listen.text, "192.0.2.1:1701");
	assert_string_equal(c.listen.host, "192.0.2.1");
	assert_int_equal(c.listen.port, 1701);
	assert_string_equal(c.redis.text, "[2001:db8::1]:6380");
	assert_string_equal(c.redis.host, "2001:db8::1");
	assert_int_equal(c.redis.port, 6380);
	c = ok("redis localhost:0\nlisten [::]:65535\n");
	assert_string_equal(c.redis.host, "localhost");
	assert_int_equal(c.redis.port, 0);
	assert_string_equal(c.listen.host, "::");
	assert_int_equal(c.listen.port, 65535);

#define NOT_HOSTPORT(v)                                                        \
	"t.conf:1: redis: \"" v "\" is not host:port (examples: "              \
	"127.0.0.1:6379, [::1]:6379, localhost:6379)"
	bad("redis 192.0.2.1", NOT_HOSTPORT("192.0.2.1"));
	bad("redis 192.0.2.1:", NOT_HOSTPORT("192.0.2.1:"));
	bad("redis 192.0.2.1:http", NOT_HOSTPORT("192.0.2.1:http"));
	bad("redis 192.0.2.1:-1", NOT_HOSTPORT("192.0.2.1:-1"));
	bad("redis :6379", NOT_HOSTPORT(":6379"));
	bad("redis [::1]6379", NOT_HOSTPORT("[::1]6379"));
	bad("redis [::1]", NOT_HOSTPORT("[::1]"));
	bad("redis []:6379", NOT_HOSTPORT("[]:6379"));
	bad("redis 2001:db8::1:6379", "t.conf:1: redis: \"2001:db8::1:6379\": "
				      "an IPv6 address needs brackets, e.g. "
				      "[::1]:6379");
	bad("redis [zz::1]:6379",
	    "t.conf:1: redis: \"zz::1\" is not an IPv6 address");
	bad("redis [192.0.2.1]:6379",
	    "t.conf:1: redis: \"192.0.2.1\" is not an IPv6 address");
	bad("redis example.com:6379", "t.conf:1: redis: \"example.com\" is not "
				      "an IPv4 address or localhost");
	bad("redis 1.2.3:6379",
	    "t.conf:1: redis: \"1.2.3\" is not an IPv4 address or localhost");
	bad("redis 1.2.3.4:65536",
	    "t.conf:1: redis: port 65536 is out of range (0..65535)");
	bad("listen 1.2.3.4:99999999999999999999999",
	    "t.conf:1: listen: port 99999999999999999999999 is out of range "
	    "(0..65535)");
	bad("redis "
	    "1111111111111111111111111111111111111111111111111111111111111"
	    "11111:1",
	    "t.conf:1: redis: address is too long (at most 63 bytes)");
	/* metrics_listen may be empty (no metrics); redis may not */
	c = ok("metrics_listen \"\"\n");
	assert_string_equal(c.metrics_listen.text, "");
	c = ok("metrics_listen 127.0.0.1:9101\n");
	assert_string_equal(c.metrics_listen.host, "127.0.0.1");
	assert_int_equal(c.metrics_listen.port, 9101);
	bad("redis \"\"", NOT_HOSTPORT(""));
	bad("\nmetrics_listen 9101",
	    "t.conf:2: metrics_listen: \"9101\" is not host:port (examples: "
	    "127.0.0.1:6379, [::1]:6379, localhost:6379)");
}

static void test_address_list(void **state)
{
	struct config c;
	(void)state;
	c = ok("redis_sentinels \"\"\n");
	assert_int_equal(c.redis_sentinels.n, 0);
	c = ok("redis_sentinels 192.0.2.11:26379,192.0.2.12:26379, "
	       "[2001:db8::3]:26380\n");
	assert_int_equal(c.redis_sentinels.n, 3);
	assert_string_equal(c.redis_sentinels.addr[0].host, "192.0.2.11");
	assert_int_equal(c.redis_sentinels.addr[1].port, 26379);
	assert_string_equal(c.redis_sentinels.addr[2].host, "2001:db8::3");
	assert_int_equal(c.redis_sentinels.addr[2].port, 26380);
	assert_string_equal(c.redis_sentinels.text,
			    "192.0.2.11:26379,192.0.2.12:26379, "
			    "[2001:db8::3]:26380");
	bad("redis_sentinels 192.0.2.11:26379,,192.0.2.12:26379",
	    "t.conf:1: redis_sentinels: empty item in the address list "
	    "(write a,b,c)");
	bad("redis_sentinels 192.0.2.11:26379,",
	    "t.conf:1: redis_sentinels: the address list ends with a comma");
	bad("redis_sentinels 192.0.2.11:26379 192.0.2.12:26379",
	    "t.conf:1: redis_sentinels: separate the addresses with commas");
	bad("redis_sentinels 192.0.2.11:26379,192.0.2.12",
	    "t.conf:1: redis_sentinels: \"192.0.2.12\" is not host:port "
	    "(examples: 127.0.0.1:6379, [::1]:6379, localhost:6379)");
	bad("redis_sentinels localhost:1,localhost:2,localhost:3,localhost:4,"
	    "localhost:5,localhost:6,localhost:7,localhost:8,localhost:9",
	    "t.conf:1: redis_sentinels: more than 8 addresses");
}

static void test_zmq(void **state)
{
	struct config c;
	(void)state;
	c = ok("frontend_endpoint tcp://*:5555\n"
	       "worker_endpoint ipc:///run/tandem/w1\n"
	       "control_endpoint inproc://control\n");
	assert_string_equal(c.frontend_endpoint, "tcp://*:5555");
	assert_string_equal(c.worker_endpoint, "ipc:///run/tandem/w1");
	assert_string_equal(c.control_endpoint, "inproc://control");
#define NOT_ZMQ(v)                                                             \
	"t.conf:1: worker_endpoint: \"" v "\" is not a ZeroMQ endpoint (it "   \
	"must start with tcp://, ipc:// or inproc://)"
	bad("worker_endpoint udp://1.2.3.4:5", NOT_ZMQ("udp://1.2.3.4:5"));
	bad("worker_endpoint tcp://", NOT_ZMQ("tcp://"));
	bad("worker_endpoint 127.0.0.1:5555", NOT_ZMQ("127.0.0.1:5555"));
	bad("worker_endpoint tcp://a b", NOT_ZMQ("tcp://a b"));
	bad("worker_endpoint TCP://a", NOT_ZMQ("TCP://a"));
}

static void test_enum(void **state)
{
	(void)state;
	assert_int_equal(ok("shard_policy active-standby").shard_policy,
			 CONFIG_SHARD_ACTIVE_STANDBY);
	assert_int_equal(ok("shard_policy spread").shard_policy,
			 CONFIG_SHARD_SPREAD);
	assert_int_equal(ok("log_level debug").log_level, LOG_LEVEL_DEBUG);
	assert_int_equal(ok("log_level error").log_level, LOG_LEVEL_ERROR);
	bad("shard_policy Spread", "t.conf:1: shard_policy: \"Spread\" is not "
				   "one of: spread, active-standby");
	bad("log_level verbose", "t.conf:1: log_level: \"verbose\" is not one "
				 "of: error, warn, info, debug");
}

static void test_unknown_and_duplicate(void **state)
{
	(void)state;
	bad("# c\nhostname a\nhelo_interval 5s\n",
	    "t.conf:3: unknown key \"helo_interval\" (did you mean "
	    "\"hello_interval\"?)");
	bad("lease_tlt 1s", /* swapped letters: one edit */
	    "t.conf:1: unknown key \"lease_tlt\" (did you mean "
	    "\"lease_ttl\"?)");
	bad("hostnm x", /* two edits */
	    "t.conf:1: unknown key \"hostnm\" (did you mean \"hostname\"?)");
	bad("Secret x",
	    "t.conf:1: unknown key \"Secret\" (did you mean \"secret\"?)");
	bad("hostn x", "t.conf:1: unknown key \"hostn\"");
	bad("foo bar", "t.conf:1: unknown key \"foo\"");
	bad("retransmit_retry 3", "t.conf:1: unknown key \"retransmit_retry\"");
	bad("redis=127.0.0.1:6379",
	    "t.conf:1: unknown key \"redis=127.0.0.1:6379\" (write \"key "
	    "value\", without \"=\")");
	bad("a_very_long_key_name_that_is_not_anything_we_know_of x",
	    "t.conf:1: unknown key "
	    "\"a_very_long_key_name_that_is_not_anything_we_know_of\"");
	bad("hostname a\n#\nsecret x\nsecret y\n",
	    "t.conf:4: \"secret\" already set on line 3");
	bad("hostname a\nhostname a\n",
	    "t.conf:2: \"hostname\" already set on line 1");
}

static void test_cross_key(void **state)
{
	struct config c;
	(void)state;
	bad("lease_ttl 600ms\nlease_renew 600ms\n",
	    "t.conf:2: lease_renew: 600ms must be less than lease_ttl (600ms, "
	    "line 1)");
	bad("lease_renew 500ms\n# x\nlease_ttl 400ms\n",
	    "t.conf:3: lease_ttl: 400ms must be greater than lease_renew "
	    "(500ms, line 1)");
	bad("lease_renew 1s\n", "t.conf:1: lease_renew: 1s must be less than "
				"lease_ttl (600ms, the default)");
	bad("lease_ttl 100ms\n", "t.conf:1: lease_ttl: 100ms must be greater "
				 "than lease_renew (200ms, the default)");
	bad("retransmit_max 500ms\n",
	    "t.conf:1: retransmit_max: 500ms must be at least "
	    "retransmit_initial (1s, the default)");
	bad("retransmit_max 4s\nretransmit_initial 5s\n",
	    "t.conf:2: retransmit_initial: 5s must be at most retransmit_max "
	    "(4s, line 1)");
	c = ok("retransmit_initial 2s\nretransmit_max 2s\n");
	assert_int_equal(c.retransmit_max_ms, 2000);
	c = ok("lease_ttl 1s\nlease_renew 999ms\n");
	assert_int_equal(c.lease_renew_ms, 999);
	bad("hide_avps yes\n",
	    "t.conf:1: hide_avps: hide_avps needs a non-empty secret");
	bad("hide_avps yes\nsecret \"\"\n",
	    "t.conf:2: secret: hide_avps needs a non-empty secret");
	bad("secret \"\"\nhide_avps on\n",
	    "t.conf:2: hide_avps: hide_avps needs a non-empty secret");
	assert_true(ok("hide_avps yes\nsecret s\n").hide_avps);
}

static void test_failure_keeps_out(void **state)
{
	struct config c, before;
	char err[16];
	(void)state;
	c = ok("hostname keep\nreceive_window 99\n");
	before = c;
	assert_int_equal(parse("hostname new\nreceive_window 5000\n", &c, err,
			       sizeof(err)),
			 -EINVAL);
	assert_true(same_config(&c, &before));
	/* a short buffer is cut, still terminated; no buffer is fine */
	assert_string_equal(err, "t.conf:2: recei");
	assert_int_equal(parse("x", &c, NULL, 0), -EINVAL);
	assert_int_equal(parse("x", &c, err, 3), -EINVAL);
	assert_string_equal(err, "t.");
	assert_true(same_config(&c, &before));
}

static void test_load(void **state)
{
	char path[] = "/tmp/tandem-test-config-XXXXXX", err[256], want[300];
	struct config c;
	FILE *f;
	int fd;
	(void)state;
	assert_int_equal(
		config_load("/nonexistent/tandem.conf", &c, err, sizeof(err)),
		-ENOENT);
	assert_string_equal(err, "/nonexistent/tandem.conf: No such file or "
				 "directory");
	assert_int_equal(config_load("lib", &c, err, sizeof(err)), -EISDIR);
	assert_string_equal(err, "lib: Is a directory");

	fd = mkstemp(path);
	assert_true(fd >= 0);
	close(fd);
	write_file(path, "hostname lns-a\n\nhello_interval 5x\n");
	assert_int_equal(config_load(path, &c, err, sizeof(err)), -EINVAL);
	snprintf(want, sizeof(want),
		 "%s:3: hello_interval: \"5x\" is not a duration (examples: "
		 "60s, 500ms)",
		 path);
	assert_string_equal(err, want);
	write_file(path, "hostname lns-a\n");
	assert_int_equal(config_load(path, &c, err, sizeof(err)), 0);
	assert_string_equal(c.hostname, "lns-a");

	/* bigger than CONFIG_FILE_MAX, even if every byte is a comment */
	f = fopen(path, "w");
	assert_non_null(f);
	for (int i = 0; i <= CONFIG_FILE_MAX / 64; i++)
		fprintf(f, "# %61d\n", i);
	fclose(f);
	assert_int_equal(config_load(path, &c, err, sizeof(err)), -EFBIG);
	snprintf(want, sizeof(want), "%s: bigger than %d bytes", path,
		 CONFIG_FILE_MAX);
	assert_string_equal(err, want);
	unlink(path);
}

static void test_example_file(void **state)
{
	struct config c, d;
	char err[512] = "", *text, line[600], desc[256];
	const struct config_key_info *k;
	long len;
	FILE *f;
	(void)state;
	if (config_load(EXAMPLE, &c, err, sizeof(err)) != 0)
		fail_msg("%s", err);
	/* it documents the defaults: every value equals the table's */
	config_defaults(&d);
	assert_true(same_config(&c, &d));

	f = fopen(EXAMPLE, "r");
	assert_non_null(f);
	fseek(f, 0, SEEK_END);
	len = ftell(f);
	rewind(f);
	text = calloc(1, (size_t)len + 2);
	assert_non_null(text);
	text[0] = '\n'; /* so every line, the first too, follows a newline */
	assert_int_equal(fread(text + 1, 1, (size_t)len, f), (size_t)len);
	fclose(f);
	/* every key is set on its own line, under its help and description */
	for (size_t i = 0; (k = config_key_at(i)); i++) {
		config_key_describe(k, desc, sizeof(desc));
		snprintf(line, sizeof(line), "\n# %s: %s\n#   %s\n%s ", k->name,
			 k->help, desc, k->name);
		if (!strstr(text, line))
			fail_msg("%s does not document key %s as:%s", EXAMPLE,
				 k->name, line);
	}
	free(text);
}

/* What a reload reported. */
struct changes {
	int n;		/* callbacks */
	char log[1024]; /* "key:applied:old->new;" for each */
};

static void on_change(const struct config_key_info *key, bool applied,
		      const char *old_text, const char *new_text, void *arg)
{
	struct changes *ch = arg;
	size_t used = strlen(ch->log);
	ch->n++;
	snprintf(ch->log + used, sizeof(ch->log) - used, "%s:%d:%s->%s;",
		 key->name, applied, old_text, new_text);
}

static void test_reload(void **state)
{
	char path[] = "/tmp/tandem-test-config-XXXXXX", err[256];
	struct config live, before;
	struct changes ch = {0};
	int fd;
	(void)state;
	fd = mkstemp(path);
	assert_true(fd >= 0);
	close(fd);
	write_file(path, "hostname lns-a\nhello_interval 60s\n");
	assert_int_equal(config_load(path, &live, err, sizeof(err)), 0);

	/* unchanged file: nothing to report */
	assert_int_equal(
		config_reload(path, &live, on_change, &ch, err, sizeof(err)),
		0);
	assert_int_equal(ch.n, 0);

	/* reloadable keys are copied; the others are reported, not applied */
	write_file(path, "hostname lns-b\nhello_interval 30s\n"
			 "log_level debug\nsecret hunter2\n"
			 "listen 192.0.2.1:1701\nretransmit_max 4s\n");
	assert_int_equal(
		config_reload(path, &live, on_change, &ch, err, sizeof(err)),
		3);
	assert_string_equal(ch.log, "listen:0:0.0.0.0:1701->192.0.2.1:1701;"
				    "hostname:0:lns-a->lns-b;"
				    "secret:0:\"\"->(set);"
				    "hello_interval:1:1m->30s;"
				    "retransmit_max:1:8s->4s;"
				    "log_level:1:info->debug;");
	assert_null(strstr(ch.log, "hunter2"));
	assert_int_equal(live.hello_interval_ms, 30000);
	assert_int_equal(live.retransmit_max_ms, 4000);
	assert_int_equal(live.log_level, LOG_LEVEL_DEBUG);
	assert_string_equal(live.hostname, "lns-a");
	assert_string_equal(live.secret, "");
	assert_string_equal(live.listen.text, "0.0.0.0:1701");

	/* an invalid file changes nothing and says where it is wrong */
	before = live;
	ch.n = 0;
	write_file(path, "hello_interval 10s\nlog_level loud\n");
	assert_int_equal(
		config_reload(path, &live, on_change, &ch, err, sizeof(err)),
		-EINVAL);
	assert_non_null(strstr(err, ":2: log_level: \"loud\" is not one of"));
	assert_true(same_config(&live, &before));
	assert_int_equal(ch.n, 0);
	unlink(path);
	assert_int_equal(
		config_reload(path, &live, on_change, &ch, err, sizeof(err)),
		-ENOENT);
	assert_true(same_config(&live, &before));

	/* config_apply without a callback */
	before = ok("hello_interval 5s\nreceive_window 8\n");
	assert_int_equal(config_apply(&live, &before, NULL, NULL), 2);
	assert_int_equal(live.hello_interval_ms, 5000);
	assert_int_equal(live.receive_window, 16);
}

static void test_value_text(void **state)
{
	static const struct {
		uint64_t ms;	  /* input */
		const char *text; /* expected */
	} durations[] = {{0, "0s"},	   {1, "1ms"},	    {500, "500ms"},
			 {1500, "1500ms"}, {1000, "1s"},    {60000, "1m"},
			 {90000, "90s"},   {3600000, "1h"}, {7200000, "2h"},
			 {5400000, "90m"}};
	char buf[600], text[4096] = "";
	const struct config_key_info *k;
	struct config c, back;
	(void)state;
	for (size_t i = 0; i < sizeof(durations) / sizeof(durations[0]); i++) {
		config_duration_text(durations[i].ms, buf, sizeof(buf));
		assert_string_equal(buf, durations[i].text);
	}
	/* every value prints as text that parses back to the same value */
	c = ok("hostname \" lead and trail \"\nredis_prefix \"a#b\\\"c\\\\\"\n"
	       "redis [::1]:7000\nhello_interval 1500ms\nshard_policy "
	       "active-standby\nhide_avps on\nsecret s\nlog_level warn\n");
	for (size_t i = 0; (k = config_key_at(i)); i++) {
		if (k->flags & CONFIG_SECRET)
			continue;
		config_value_text(&c, k, buf, sizeof(buf));
		snprintf(text + strlen(text), sizeof(text) - strlen(text),
			 "%s %s\n", k->name, buf);
	}
	strcat(text, "secret s\n");
	back = ok(text);
	assert_true(same_config(&c, &back));
	config_value_text(&c, config_key_find("hostname"), buf, sizeof(buf));
	assert_string_equal(buf, "\" lead and trail \"");
	config_value_text(&c, config_key_find("redis_prefix"), buf,
			  sizeof(buf));
	assert_string_equal(buf, "\"a#b\\\"c\\\\\"");
	config_value_text(&c, config_key_find("secret"), buf, sizeof(buf));
	assert_string_equal(buf, "(set)");
	/* a short buffer: snprintf's contract */
	assert_int_equal(
		config_value_text(&c, config_key_find("hostname"), buf, 5), 18);
	assert_string_equal(buf, "\" le");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_table),
		cmocka_unit_test(test_syntax),
		cmocka_unit_test(test_strings),
		cmocka_unit_test(test_int),
		cmocka_unit_test(test_bool),
		cmocka_unit_test(test_duration),
		cmocka_unit_test(test_address),
		cmocka_unit_test(test_address_list),
		cmocka_unit_test(test_zmq),
		cmocka_unit_test(test_enum),
		cmocka_unit_test(test_unknown_and_duplicate),
		cmocka_unit_test(test_cross_key),
		cmocka_unit_test(test_failure_keeps_out),
		cmocka_unit_test(test_load),
		cmocka_unit_test(test_example_file),
		cmocka_unit_test(test_reload),
		cmocka_unit_test(test_value_text),
	};
	return cmocka_run_group_tests_name("config", tests, NULL, NULL);
}
