/* Logging: the exact line format and escaping, log_quote, level filtering,
 * output to a FILE* and to an fd, truncation, and per-site rate limiting
 * driven by a fake monotonic clock. */
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

#include "log.h"

/* 2026-11-24T09:30:01.123Z */
#define FAKE_REALTIME_MS 1795512601123LL
#define TS		 "ts=2026-11-24T09:30:01.123Z "

static uint64_t fake_mono_ms;
static int64_t fake_real_ms = FAKE_REALTIME_MS;

static uint64_t fake_monotonic(void)
{
	return fake_mono_ms;
}

static int64_t fake_realtime(void)
{
	return fake_real_ms;
}

/* Everything logged during one test. */
static FILE *cap;
static char *cap_buf;
static size_t cap_len;

static int setup(void **state)
{
	(void)state;
	cap = open_memstream(&cap_buf, &cap_len);
	if (!cap)
		return -1;
	log_set_file(cap);
	log_set_clock(fake_monotonic, fake_realtime);
	log_set_component("worker");
	log_set_level(LOG_LEVEL_INFO);
	fake_mono_ms = 0;
	fake_real_ms = FAKE_REALTIME_MS;
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	log_set_file(NULL);
	log_set_clock(NULL, NULL);
	log_set_component(NULL);
	fclose(cap);
	free(cap_buf);
	cap_buf = NULL;
	return 0;
}

static const char *out(void)
{
	fflush(cap);
	return cap_buf ? cap_buf : "";
}

static int out_lines(void)
{
	int n = 0;
	for (const char *p = out(); *p; p++)
		n += *p == '\n';
	return n;
}

/* The last complete line logged (newline included). */
static const char *last_line(void)
{
	const char *s = out();
	size_t len = strlen(s);
	if (len < 2)
		return s;
	for (size_t i = len - 1; i > 0; i--)
		if (s[i - 1] == '\n')
			return s + i;
	return s;
}

static void test_format(void **state)
{
	(void)state;
	log_msg(LOG_LEVEL_WARN, "bad AVP length", "tid=%u sid=%u peer=%s", 12u,
		3u, "192.0.2.1:1701");
	assert_string_equal(out(), TS "level=warn comp=worker "
				      "msg=\"bad AVP length\" tid=12 sid=3 "
				      "peer=192.0.2.1:1701\n");
}

static void test_no_tail(void **state)
{
	(void)state;
	log_msg(LOG_LEVEL_INFO, "started", NULL);
	log_msg(LOG_LEVEL_ERROR, "", NULL);
	assert_string_equal(out(),
			    TS "level=info comp=worker msg=\"started\"\n" TS
			       "level=error comp=worker msg=\"\"\n");
}

static void test_msg_escaping(void **state)
{
	(void)state;
	log_msg(LOG_LEVEL_INFO, "say \"hi\" \\ now\n\t\r\x01\x7f\xc3\xa9",
		NULL);
	assert_string_equal(out(),
			    TS "level=info comp=worker msg=\"say \\\"hi\\\" "
			       "\\\\ now\\n\\t\\r\\x01\\x7f\\xc3\\xa9\"\n");
}

static void test_timestamp(void **state)
{
	(void)state;
	fake_real_ms = 0;
	log_msg(LOG_LEVEL_INFO, "x", NULL);
	fake_real_ms = 951782400007LL; /* 2000-02-29T00:00:00.007Z */
	log_msg(LOG_LEVEL_INFO, "y", NULL);
	assert_non_null(strstr(out(), "ts=1970-01-01T00:00:00.000Z level"));
	assert_non_null(strstr(out(), "ts=2000-02-29T00:00:00.007Z level"));
}

static void test_quote(void **state)
{
	char b[64];
	(void)state;
	assert_string_equal(log_quote(b, sizeof(b), "lac-1.example"),
			    "lac-1.example");
	assert_string_equal(log_quote(b, sizeof(b), ""), "\"\"");
	assert_string_equal(log_quote(b, sizeof(b), NULL), "");
	assert_string_equal(log_quote(b, sizeof(b), "my lac"), "\"my lac\"");
	assert_string_equal(log_quote(b, sizeof(b), "a=b"), "\"a=b\"");
	assert_string_equal(log_quote(b, sizeof(b), "x\"y\\z"),
			    "\"x\\\"y\\\\z\"");
	assert_string_equal(log_quote(b, sizeof(b), "nl\nend"), "\"nl\\nend\"");
	assert_string_equal(log_quote(b, sizeof(b), "\xff"), "\"\\xff\"");
	/* too long: cut, still one well-formed quoted value */
	assert_string_equal(log_quote(b, 12, "abcdefghijklmnop"),
			    "\"abcdef...\"");
	assert_string_equal(log_quote(b, 12, "abcdefghijk"), "abcdefghijk");
	assert_string_equal(log_quote(b, 12, "abcdefghijkl"), "\"abcdef...\"");
	assert_string_equal(log_quote(b, 12, "a b"), "\"a b\"");
	assert_string_equal(log_quote(b, 12, "\n\n\n\n\n"), "\"\\n\\n\\n...\"");
	/* through LOG_Q inside a log call */
	log_msg(LOG_LEVEL_INFO, "login", "user=%s host=%s", LOG_Q("bob smith"),
		LOG_Q("lns1"));
	assert_string_equal(out(), TS "level=info comp=worker msg=\"login\" "
				      "user=\"bob smith\" host=lns1\n");
}

static int evaluated;

static int count_eval(void)
{
	return ++evaluated;
}

static void test_levels(void **state)
{
	(void)state;
	assert_string_equal(log_level_name(LOG_LEVEL_ERROR), "error");
	assert_string_equal(log_level_name(LOG_LEVEL_WARN), "warn");
	assert_string_equal(log_level_name(LOG_LEVEL_INFO), "info");
	assert_string_equal(log_level_name(LOG_LEVEL_DEBUG), "debug");
	assert_string_equal(log_level_name((enum log_level)7), "?");
	assert_int_equal(log_level_parse("debug"), LOG_LEVEL_DEBUG);
	assert_int_equal(log_level_parse("warn"), LOG_LEVEL_WARN);
	assert_int_equal(log_level_parse("WARN"), -EINVAL);
	assert_int_equal(log_level_parse(NULL), -EINVAL);

	/* threshold info: debug dropped, and its arguments not evaluated */
	log_debug("dropped", "n=%d", count_eval());
	log_info("kept", "n=%d", count_eval());
	assert_int_equal(evaluated, 1);
	assert_int_equal(out_lines(), 1);
	assert_true(log_enabled(LOG_LEVEL_INFO));
	assert_false(log_enabled(LOG_LEVEL_DEBUG));

	log_set_level(LOG_LEVEL_DEBUG); /* e.g. after SIGHUP */
	assert_int_equal(log_get_level(), LOG_LEVEL_DEBUG);
	log_debug("now kept", NULL);
	assert_int_equal(out_lines(), 2);
	assert_string_equal(last_line(),
			    TS "level=debug comp=worker msg=\"now kept\"\n");

	log_set_level(LOG_LEVEL_ERROR);
	log_warn("dropped", NULL);
	log_info("dropped", NULL);
	log_msg(LOG_LEVEL_DEBUG, "dropped", NULL);
	log_error("kept", "err=%d", 5);
	assert_int_equal(out_lines(), 3);
	assert_string_equal(last_line(),
			    TS "level=error comp=worker msg=\"kept\" err=5\n");
}

static void test_component(void **state)
{
	(void)state;
	log_set_component("frontend");
	log_msg(LOG_LEVEL_INFO, "a", NULL);
	log_set_component(NULL);
	log_msg(LOG_LEVEL_INFO, "b", NULL);
	assert_string_equal(out(), TS "level=info comp=frontend msg=\"a\"\n" TS
				      "level=info comp=tandem msg=\"b\"\n");
}

static void test_fd_output(void **state)
{
	int p[2];
	char buf[256];
	ssize_t n;
	(void)state;
	assert_int_equal(pipe(p), 0);
	log_set_fd(p[1]);
	log_msg(LOG_LEVEL_WARN, "via fd", "tid=%d", 7);
	n = read(p[0], buf, sizeof(buf) - 1);
	assert_true(n > 0);
	buf[n] = '\0';
	assert_string_equal(buf,
			    TS "level=warn comp=worker msg=\"via fd\" tid=7\n");
	log_set_file(cap);
	close(p[0]);
	close(p[1]);
	assert_string_equal(out(), "");
}

static void test_truncation(void **state)
{
	char big[3000];
	const char *line;
	(void)state;
	memset(big, 'v', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	log_msg(LOG_LEVEL_INFO, "big", "k=%s", big);
	line = out();
	assert_int_equal(out_lines(), 1);
	assert_true(strlen(line) <= LOG_LINE_MAX - 1);
	assert_non_null(strstr(line, "msg=\"big\" k=vvvv"));
	assert_non_null(strstr(line, "v truncated=1\n"));

	/* a huge msg is cut inside its quotes, which stay closed */
	log_msg(LOG_LEVEL_INFO, big, "never=1");
	line = last_line();
	assert_true(strlen(line) <= LOG_LINE_MAX - 1);
	assert_non_null(strstr(line, "vvv...\" truncated=1\n"));
	assert_null(strstr(line, "never=1"));
}

static void test_ratelimit_bucket(void **state)
{
	struct log_ratelimit rl = LOG_RATELIMIT_INIT(3, 1000);
	(void)state;
	/* burst */
	assert_true(log_ratelimit_allow(&rl, 100));
	assert_true(log_ratelimit_allow(&rl, 100));
	assert_true(log_ratelimit_allow(&rl, 100));
	assert_false(log_ratelimit_allow(&rl, 100));
	assert_false(log_ratelimit_allow(&rl, 1099));
	assert_int_equal(rl.suppressed, 2);
	/* one token per interval */
	assert_true(log_ratelimit_allow(&rl, 1100));
	assert_false(log_ratelimit_allow(&rl, 1100));
	/* a partly waited interval counts: 2600 gives one (last = 2100), 3100
	 * the next */
	assert_true(log_ratelimit_allow(&rl, 2600));
	assert_false(log_ratelimit_allow(&rl, 3099));
	assert_true(log_ratelimit_allow(&rl, 3100));
	/* a long quiet spell refills to the burst, not beyond */
	for (int i = 0; i < 3; i++)
		assert_true(log_ratelimit_allow(&rl, 60000));
	assert_false(log_ratelimit_allow(&rl, 60000));
	assert_int_equal(rl.suppressed, 5);
	/* a clock that steps back adds nothing */
	assert_false(log_ratelimit_allow(&rl, 100));
	/* burst 0: nothing passes */
	struct log_ratelimit none = LOG_RATELIMIT_INIT(0, 1000);
	assert_false(log_ratelimit_allow(&none, 0));
	assert_false(log_ratelimit_allow(&none, 5000));
}

/* One call site, as a worker's packet path would have it. */
static void bad_packet(unsigned tid)
{
	LOG_RL(LOG_LEVEL_WARN, "bad packet", "tid=%u", tid);
}

static void test_log_rl_default(void **state)
{
	(void)state;
	fake_mono_ms = 5000;
	for (unsigned i = 0; i < 15; i++)
		bad_packet(i);
	assert_int_equal(out_lines(), LOG_RL_BURST);
	assert_string_equal(
		last_line(),
		TS "level=warn comp=worker msg=\"bad packet\" tid=9\n");
	/* a second later one more line, carrying the count of dropped ones */
	fake_mono_ms += 999;
	bad_packet(15);
	assert_int_equal(out_lines(), LOG_RL_BURST);
	fake_mono_ms += 1;
	bad_packet(16);
	assert_int_equal(out_lines(), LOG_RL_BURST + 1);
	assert_string_equal(last_line(), TS "level=warn comp=worker msg=\"bad "
					    "packet\" tid=16 suppressed=6\n");
	/* the count restarts */
	bad_packet(17);
	fake_mono_ms += 1000;
	bad_packet(18);
	assert_string_equal(last_line(), TS "level=warn comp=worker msg=\"bad "
					    "packet\" tid=18 suppressed=1\n");
	fake_mono_ms += 1000;
	bad_packet(19);
	assert_string_equal(
		last_line(),
		TS "level=warn comp=worker msg=\"bad packet\" tid=19\n");
}

static void sccrq_flood(int n)
{
	LOG_RL_N(2, 500, LOG_LEVEL_INFO, "SCCRQ", "n=%d", n);
}

static void debug_site(int n)
{
	LOG_RL(LOG_LEVEL_DEBUG, "detail", "n=%d", n);
}

static void test_log_rl_custom_and_level(void **state)
{
	(void)state;
	fake_mono_ms = 100;
	for (int i = 0; i < 5; i++)
		sccrq_flood(i);
	assert_int_equal(out_lines(), 2);
	fake_mono_ms += 500;
	sccrq_flood(5);
	assert_int_equal(out_lines(), 3);
	assert_non_null(strstr(last_line(), "n=5 suppressed=3\n"));

	/* below the threshold: no line, no token taken, nothing counted */
	for (int i = 0; i < 50; i++)
		debug_site(i);
	assert_int_equal(out_lines(), 3);
	log_set_level(LOG_LEVEL_DEBUG);
	for (int i = 0; i < LOG_RL_BURST; i++)
		debug_site(i);
	assert_int_equal(out_lines(), 3 + LOG_RL_BURST);
	assert_null(strstr(out(), "suppressed=50"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_format, setup, teardown),
		cmocka_unit_test_setup_teardown(test_no_tail, setup, teardown),
		cmocka_unit_test_setup_teardown(test_msg_escaping, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_timestamp, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_quote, setup, teardown),
		cmocka_unit_test_setup_teardown(test_levels, setup, teardown),
		cmocka_unit_test_setup_teardown(test_component, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_fd_output, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_truncation, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_ratelimit_bucket, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_log_rl_default, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_log_rl_custom_and_level,
						setup, teardown),
	};
	return cmocka_run_group_tests_name("log", tests, NULL, NULL);
}
