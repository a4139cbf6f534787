/* Metrics in the Prometheus text exposition format (version 0.0.4): a
 * registry of families (counter, gauge, histogram with fixed buckets), each
 * with help text and series told apart by labels, rendered in one go. Pure:
 * no I/O, no clock; processes fill a registry from their counters when they
 * are scraped (lib/metrics_http.c) and free it after rendering. */
#ifndef TANDEM_METRICS_H
#define TANDEM_METRICS_H

#include <stddef.h>
#include <stdint.h>

#define METRICS_MAX_BUCKETS 16 /* finite histogram bounds at most */

enum metrics_type {
	METRICS_COUNTER,   /* only goes up (resets when the process does) */
	METRICS_GAUGE,	   /* any value, read at scrape time */
	METRICS_HISTOGRAM, /* observations counted in fixed buckets */
};

/* Observations of one quantity. Plain data: updated where the events happen,
 * copied into a registry at scrape time. */
struct metrics_histogram {
	unsigned n_bounds;			  /* finite upper bounds used */
	double bounds[METRICS_MAX_BUCKETS];	  /* ascending "le" bounds */
	uint64_t counts[METRICS_MAX_BUCKETS + 1]; /* per bucket (not
						     cumulative); the last
						     is above every bound */
	uint64_t count;				  /* observations */
	double sum;				  /* their sum */
};

/* n finite, strictly ascending bounds (at most METRICS_MAX_BUCKETS); counts
 * start at zero. Returns 0 or -EINVAL (h untouched). */
int metrics_histogram_init(struct metrics_histogram *h, const double *bounds,
			   unsigned n);
/* Count v in the first bucket whose bound is >= v (Prometheus "le"). */
void metrics_histogram_observe(struct metrics_histogram *h, double v);

/* One label of a series: name="value". Both are copied. */
struct metrics_label {
	const char *name;  /* [a-zA-Z_][a-zA-Z0-9_]*, not "__..." */
	const char *value; /* any UTF-8 text; escaped when rendered */
};

struct metrics_family; /* metrics.c */

/* A registry. The first error met (-EINVAL, -EEXIST, -ENOMEM) is kept in
 * error and makes metrics_render refuse, so callers may add a whole set of
 * series and check once. */
struct metrics {
	struct metrics_family *head; /* families in declaration order */
	struct metrics_family *tail; /* last declared */
	int error;		     /* 0, or the first error */
};

void metrics_init(struct metrics *m);
/* Frees every family and series; m can be used again after metrics_init. */
void metrics_free(struct metrics *m);

/* Declare a family: name matches [a-zA-Z_:][a-zA-Z0-9_:]* and is not taken;
 * help is one line of text (escaped when rendered). Returns the family (owned
 * by m), or NULL with m->error set. A family without series renders its
 * HELP and TYPE lines only. */
struct metrics_family *metrics_family(struct metrics *m, const char *name,
				      enum metrics_type type, const char *help);

/* Add a series of a counter or gauge family: value with n labels (no two
 * series of a family may have the same labels). f may be NULL (an earlier
 * metrics_family failed): nothing happens. Returns 0 or -errno, also kept in
 * the registry's error. */
int metrics_add(struct metrics_family *f, double value,
		const struct metrics_label *labels, size_t n);
/* The same with one label, or none when lname is NULL. */
int metrics_add1(struct metrics_family *f, double value, const char *lname,
		 const char *lvalue);
/* Add a series of a histogram family: a copy of h, with n labels ("le" is
 * reserved). Rendered as cumulative _bucket lines, then _sum and _count. */
int metrics_add_histogram(struct metrics_family *f,
			  const struct metrics_histogram *h,
			  const struct metrics_label *labels, size_t n);

/* The registry as Prometheus text into a malloc'd, NUL-terminated buffer
 * (*out, caller frees with free(); *len excludes the NUL). Returns 0, the
 * registry's error, or -ENOMEM. */
int metrics_render(const struct metrics *m, char **out, size_t *len);

/* A label value from a table name: "SHORT_HEADER" -> "short_header" (into
 * buf, truncated to len - 1 bytes). */
const char *metrics_label_lower(const char *s, char *buf, size_t len);

#endif
