/* Metrics registry: golden Prometheus text, escaping, histogram buckets, sum
 * and count, number formatting, and every refusal (names, labels, types). */
#include <errno.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "metrics.h"

/* Render m and compare with want; frees the text. */
static void expect_text(const struct metrics *m, const char *want)
{
	char *out = NULL;
	size_t len = 0;
	assert_int_equal(metrics_render(m, &out, &len), 0);
	assert_non_null(out);
	assert_int_equal(len, strlen(out));
	assert_string_equal(out, want);
	free(out);
}

static void test_golden(void **state)
{
	struct metrics m;
	(void)state;
	metrics_init(&m);
	struct metrics_family *rx = metrics_family(
		&m, "tandem_worker_packets_received_total", METRICS_COUNTER,
		"Datagrams received from frontends");
	assert_non_null(rx);
	assert_int_equal(metrics_add(rx, 42, NULL, 0), 0);
	struct metrics_family *st = metrics_family(
		&m, "tandem_worker_tunnels", METRICS_GAUGE, "Tunnels by state");
	assert_int_equal(metrics_add1(st, 3, "state", "ESTABLISHED"), 0);
	assert_int_equal(metrics_add1(st, 0, "state", "CLOSING"), 0);
	struct metrics_label two[] = {{"worker", "w1"}, {"reason", "zmq"}};
	struct metrics_family *dr = metrics_family(
		&m, "tandem_frontend_dropped_total", METRICS_COUNTER, "Drops");
	assert_int_equal(metrics_add(dr, 7, two, 2), 0);
	/* declared, never given a series: HELP and TYPE only */
	assert_non_null(
		metrics_family(&m, "tandem_x", METRICS_GAUGE, "Nothing yet"));
	expect_text(&m, "# HELP tandem_worker_packets_received_total Datagrams "
			"received from frontends\n"
			"# TYPE tandem_worker_packets_received_total counter\n"
			"tandem_worker_packets_received_total 42\n"
			"# HELP tandem_worker_tunnels Tunnels by state\n"
			"# TYPE tandem_worker_tunnels gauge\n"
			"tandem_worker_tunnels{state=\"ESTABLISHED\"} 3\n"
			"tandem_worker_tunnels{state=\"CLOSING\"} 0\n"
			"# HELP tandem_frontend_dropped_total Drops\n"
			"# TYPE tandem_frontend_dropped_total counter\n"
			"tandem_frontend_dropped_total{worker=\"w1\",reason="
			"\"zmq\"} 7\n"
			"# HELP tandem_x Nothing yet\n"
			"# TYPE tandem_x gauge\n");
	metrics_free(&m);
	/* an empty registry renders as empty text */
	metrics_init(&m);
	expect_text(&m, "");
	metrics_free(&m);
}

static void test_escaping(void **state)
{
	struct metrics m;
	(void)state;
	metrics_init(&m);
	/* label values: backslash, double quote and newline; help text:
	 * backslash and newline, a double quote stays as it is */
	struct metrics_family *f = metrics_family(&m, "esc", METRICS_GAUGE,
						  "say \"hi\"\\n\nnext line");
	assert_int_equal(metrics_add1(f, 1, "v", "a\\b\"c\nd"), 0);
	assert_int_equal(metrics_add1(f, 2, "v", ""), 0);
	assert_int_equal(metrics_add1(f, 3, "v", "caf\xc3\xa9 {x=\"y\"}"), 0);
	expect_text(&m, "# HELP esc say \"hi\"\\\\n\\nnext line\n"
			"# TYPE esc gauge\n"
			"esc{v=\"a\\\\b\\\"c\\nd\"} 1\n"
			"esc{v=\"\"} 2\n"
			"esc{v=\"caf\xc3\xa9 {x=\\\"y\\\"}\"} 3\n");
	metrics_free(&m);
}

static void test_numbers(void **state)
{
	struct metrics m;
	(void)state;
	metrics_init(&m);
	struct metrics_family *f =
		metrics_family(&m, "n", METRICS_GAUGE, "numbers");
	const double v[] = {0,
			    -3,
			    0.1,
			    0.25,
			    1e-6,
			    1e20,
			    123456789,
			    NAN,
			    INFINITY,
			    -INFINITY,
			    18446744073709551615.0};
	char lv[8];
	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		snprintf(lv, sizeof(lv), "%zu", i);
		assert_int_equal(metrics_add1(f, v[i], "i", lv), 0);
	}
	expect_text(&m, "# HELP n numbers\n# TYPE n gauge\n"
			"n{i=\"0\"} 0\n"
			"n{i=\"1\"} -3\n"
			"n{i=\"2\"} 0.1\n"
			"n{i=\"3\"} 0.25\n"
			"n{i=\"4\"} 1e-06\n"
			"n{i=\"5\"} 1e+20\n"
			"n{i=\"6\"} 123456789\n"
			"n{i=\"7\"} NaN\n"
			"n{i=\"8\"} +Inf\n"
			"n{i=\"9\"} -Inf\n"
			"n{i=\"10\"} 1.8446744073709552e+19\n");
	metrics_free(&m);
}

static void test_histogram(void **state)
{
	struct metrics m;
	struct metrics_histogram h;
	const double bounds[] = {0.001, 0.01, 0.1, 1};
	(void)state;
	assert_int_equal(metrics_histogram_init(&h, bounds, 4), 0);
	/* on a bound counts in that bucket (le = less or equal) */
	const double obs[] = {0.0005, 0.001, 0.002, 0.05, 0.05, 0.5, 3, 10};
	for (size_t i = 0; i < sizeof(obs) / sizeof(obs[0]); i++)
		metrics_histogram_observe(&h, obs[i]);
	assert_int_equal(h.count, 8);
	assert_int_equal(h.counts[0], 2);
	assert_int_equal(h.counts[1], 1);
	assert_int_equal(h.counts[2], 2);
	assert_int_equal(h.counts[3], 1);
	assert_int_equal(h.counts[4], 2);

	metrics_init(&m);
	struct metrics_family *f =
		metrics_family(&m, "lat_seconds", METRICS_HISTOGRAM, "Latency");
	assert_int_equal(metrics_add_histogram(f, &h, NULL, 0), 0);
	struct metrics_histogram e;
	const double one[] = {8};
	assert_int_equal(metrics_histogram_init(&e, one, 1), 0);
	metrics_histogram_observe(&e, 2);
	struct metrics_label l = {"shard", "7"};
	assert_int_equal(metrics_add_histogram(f, &e, &l, 1), 0);
	/* copied: later observations do not change what was added */
	metrics_histogram_observe(&e, 100);
	expect_text(&m, "# HELP lat_seconds Latency\n"
			"# TYPE lat_seconds histogram\n"
			"lat_seconds_bucket{le=\"0.001\"} 2\n"
			"lat_seconds_bucket{le=\"0.01\"} 3\n"
			"lat_seconds_bucket{le=\"0.1\"} 5\n"
			"lat_seconds_bucket{le=\"1\"} 6\n"
			"lat_seconds_bucket{le=\"+Inf\"} 8\n"
			"lat_seconds_sum 13.6035\n"
			"lat_seconds_count 8\n"
			"lat_seconds_bucket{shard=\"7\",le=\"8\"} 1\n"
			"lat_seconds_bucket{shard=\"7\",le=\"+Inf\"} 1\n"
			"lat_seconds_sum{shard=\"7\"} 2\n"
			"lat_seconds_count{shard=\"7\"} 1\n");
	metrics_free(&m);

	/* no finite bound: everything in +Inf */
	assert_int_equal(metrics_histogram_init(&e, NULL, 0), 0);
	metrics_histogram_observe(&e, -1);
	assert_int_equal(e.counts[0], 1);
	/* bounds must be finite and strictly ascending, and few enough */
	const double bad1[] = {1, 1};
	const double bad2[] = {2, 1};
	const double bad3[] = {1, INFINITY};
	const double bad4[] = {NAN};
	double many[METRICS_MAX_BUCKETS + 1];
	for (unsigned i = 0; i <= METRICS_MAX_BUCKETS; i++)
		many[i] = i;
	assert_int_equal(metrics_histogram_init(&e, bad1, 2), -EINVAL);
	assert_int_equal(metrics_histogram_init(&e, bad2, 2), -EINVAL);
	assert_int_equal(metrics_histogram_init(&e, bad3, 2), -EINVAL);
	assert_int_equal(metrics_histogram_init(&e, bad4, 1), -EINVAL);
	assert_int_equal(
		metrics_histogram_init(&e, many, METRICS_MAX_BUCKETS + 1),
		-EINVAL);
	assert_int_equal(metrics_histogram_init(&e, many, METRICS_MAX_BUCKETS),
			 0);
}

static void test_refusals(void **state)
{
	struct metrics m;
	char *out = NULL;
	size_t len = 0;
	struct metrics_histogram h;
	(void)state;
	assert_int_equal(metrics_histogram_init(&h, NULL, 0), 0);

	const char *bad_names[] = {"", "1abc", "a-b", "a b", "é"};
	for (size_t i = 0; i < sizeof(bad_names) / sizeof(bad_names[0]); i++) {
		metrics_init(&m);
		assert_null(
			metrics_family(&m, bad_names[i], METRICS_GAUGE, "x"));
		assert_int_equal(m.error, -EINVAL);
		assert_int_equal(metrics_render(&m, &out, &len), -EINVAL);
		metrics_free(&m);
	}
	metrics_init(&m);
	assert_non_null(metrics_family(&m, "ns:sub_total", METRICS_COUNTER,
				       "colons are allowed in names"));
	assert_null(metrics_family(&m, "ns:sub_total", METRICS_GAUGE, "x"));
	assert_int_equal(m.error, -EEXIST);
	metrics_free(&m);

	metrics_init(&m);
	struct metrics_family *g = metrics_family(&m, "g", METRICS_GAUGE, "x");
	struct metrics_family *hf =
		metrics_family(&m, "h", METRICS_HISTOGRAM, "x");
	assert_int_equal(m.error, 0);
	/* label names: no colon, no leading digit, not reserved, not twice */
	assert_int_equal(metrics_add1(g, 1, "a:b", "v"), -EINVAL);
	assert_int_equal(metrics_add1(g, 1, "1a", "v"), -EINVAL);
	assert_int_equal(metrics_add1(g, 1, "__name__", "v"), -EINVAL);
	assert_int_equal(metrics_add1(g, 1, "a", NULL), -EINVAL);
	struct metrics_label twice[] = {{"a", "1"}, {"a", "2"}};
	assert_int_equal(metrics_add(g, 1, twice, 2), -EINVAL);
	assert_int_equal(metrics_add(g, 1, NULL, 1), -EINVAL);
	/* the same labels twice in one family */
	assert_int_equal(metrics_add1(g, 1, "a", "1"), 0);
	assert_int_equal(metrics_add1(g, 2, "a", "1"), -EEXIST);
	/* the wrong kind of series for the family */
	assert_int_equal(metrics_add_histogram(g, &h, NULL, 0), -EINVAL);
	assert_int_equal(metrics_add(hf, 1, NULL, 0), -EINVAL);
	/* "le" belongs to histogram buckets; gauges may use it */
	assert_int_equal(metrics_add_histogram(
				 hf, &h, &(struct metrics_label){"le", "1"}, 1),
			 -EINVAL);
	assert_int_equal(metrics_add1(g, 1, "le", "1"), 0);
	/* a NULL family (its declaration failed) is a no-op */
	assert_int_equal(metrics_add(NULL, 1, NULL, 0), -EINVAL);
	/* the first error sticks and rendering refuses */
	assert_int_equal(m.error, -EINVAL);
	assert_int_equal(metrics_render(&m, &out, &len), -EINVAL);
	metrics_free(&m);
	assert_int_equal(m.error, 0);
	assert_null(m.head);
}

/* Many series: the buffer grows, nothing is lost. */
static void test_large(void **state)
{
	struct metrics m;
	char *out = NULL, lv[16];
	size_t len = 0, lines = 0;
	(void)state;
	metrics_init(&m);
	struct metrics_family *f =
		metrics_family(&m, "big", METRICS_COUNTER, "many series");
	for (unsigned i = 0; i < 5000; i++) {
		snprintf(lv, sizeof(lv), "w%u", i);
		assert_int_equal(metrics_add1(f, i, "worker", lv), 0);
	}
	assert_int_equal(metrics_render(&m, &out, &len), 0);
	for (size_t i = 0; i < len; i++)
		lines += out[i] == '\n';
	assert_int_equal(lines, 5002);
	assert_non_null(strstr(out, "\nbig{worker=\"w4999\"} 4999\n"));
	free(out);
	metrics_free(&m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_golden),
		cmocka_unit_test(test_escaping),
		cmocka_unit_test(test_numbers),
		cmocka_unit_test(test_histogram),
		cmocka_unit_test(test_refusals),
		cmocka_unit_test(test_large),
	};
	return cmocka_run_group_tests_name("metrics", tests, NULL, NULL);
}
