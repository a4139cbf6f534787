/* The metrics registry and its rendering as Prometheus text (exposition
 * format 0.0.4): name and label checks, escaping of help text and label
 * values, numbers as the shortest text that reads back the same. */
#include "metrics.h"

#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* One series: its labels already rendered as `a="x",b="y"`. */
struct metrics_series {
	struct metrics_series *next;   /* insertion order */
	char *labels;		       /* rendered labels, "" for none */
	double value;		       /* counter, gauge */
	struct metrics_histogram hist; /* histogram */
};

struct metrics_family {
	struct metrics_family *next; /* declaration order */
	struct metrics *m;	     /* registry (for its error) */
	char *name;		     /* metric name */
	char *help;		     /* help text, unescaped */
	enum metrics_type type;	     /* counter, gauge, histogram */
	struct metrics_series *head; /* series in insertion order */
	struct metrics_series *tail; /* last added */
};

static const char *const metrics_type_names[] = {
	[METRICS_COUNTER] = "counter",
	[METRICS_GAUGE] = "gauge",
	[METRICS_HISTOGRAM] = "histogram",
};

int metrics_histogram_init(struct metrics_histogram *h, const double *bounds,
			   unsigned n)
{
	if (n > METRICS_MAX_BUCKETS)
		return -EINVAL;
	for (unsigned i = 0; i < n; i++) {
		if (!isfinite(bounds[i]))
			return -EINVAL;
		if (i && !(bounds[i] > bounds[i - 1]))
			return -EINVAL;
	}
	memset(h, 0, sizeof(*h));
	h->n_bounds = n;
	if (n) /* bounds may be NULL then */
		memcpy(h->bounds, bounds, n * sizeof(*bounds));
	return 0;
}

void metrics_histogram_observe(struct metrics_histogram *h, double v)
{
	unsigned i = 0;
	while (i < h->n_bounds && !(v <= h->bounds[i]))
		i++;
	h->counts[i]++;
	h->count++;
	h->sum += v;
}

void metrics_init(struct metrics *m)
{
	memset(m, 0, sizeof(*m));
}

void metrics_free(struct metrics *m)
{
	struct metrics_family *f = m->head;
	while (f) {
		struct metrics_family *fn = f->next;
		struct metrics_series *s = f->head;
		while (s) {
			struct metrics_series *sn = s->next;
			free(s->labels);
			free(s);
			s = sn;
		}
		free(f->name);
		free(f->help);
		free(f);
		f = fn;
	}
	memset(m, 0, sizeof(*m));
}

static int metrics_fail(struct metrics *m, int err)
{
	if (!m->error)
		m->error = err;
	return err;
}

static bool metrics_name_ok(const char *s, bool colon)
{
	if (!s || !*s || (*s >= '0' && *s <= '9'))
		return false;
	for (; *s; s++) {
		char c = *s;
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		      (c >= '0' && c <= '9') || c == '_' ||
		      (colon && c == ':')))
			return false;
	}
	return true;
}

struct metrics_family *metrics_family(struct metrics *m, const char *name,
				      enum metrics_type type, const char *help)
{
	if (!metrics_name_ok(name, true) || !help ||
	    (unsigned)type > METRICS_HISTOGRAM) {
		metrics_fail(m, -EINVAL);
		return NULL;
	}
	for (struct metrics_family *f = m->head; f; f = f->next)
		if (strcmp(f->name, name) == 0) {
			metrics_fail(m, -EEXIST);
			return NULL;
		}
	struct metrics_family *f = calloc(1, sizeof(*f));
	if (f) {
		f->name = strdup(name);
		f->help = strdup(help);
	}
	if (!f || !f->name || !f->help) {
		if (f) {
			free(f->name);
			free(f->help);
		}
		free(f);
		metrics_fail(m, -ENOMEM);
		return NULL;
	}
	f->m = m;
	f->type = type;
	if (m->tail)
		m->tail->next = f;
	else
		m->head = f;
	m->tail = f;
	return f;
}

/* ---- text buffer ------------------------------------------------------- */

/* A growing output buffer; oom sticks once an allocation failed. */
struct metrics_buf {
	char *p;    /* text, NUL-terminated while not oom */
	size_t len; /* bytes used */
	size_t cap; /* bytes allocated */
	bool oom;   /* an allocation failed */
};

static bool metrics_reserve(struct metrics_buf *b, size_t more)
{
	if (b->oom)
		return false;
	if (b->len + more + 1 <= b->cap)
		return true;
	size_t cap = b->cap ? b->cap : 64;
	while (cap < b->len + more + 1)
		cap *= 2;
	char *p = realloc(b->p, cap);
	if (!p) {
		b->oom = true;
		return false;
	}
	b->p = p;
	b->cap = cap;
	b->p[b->len] = '\0';
	return true;
}

static void metrics_put(struct metrics_buf *b, const char *s, size_t n)
{
	if (!metrics_reserve(b, n))
		return;
	memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = '\0';
}

static void metrics_puts(struct metrics_buf *b, const char *s)
{
	metrics_put(b, s, strlen(s));
}

/* s with `\` and newline escaped, and `"` too when quote (label values). */
static void metrics_put_escaped(struct metrics_buf *b, const char *s,
				bool quote)
{
	for (; *s; s++) {
		if (*s == '\\')
			metrics_put(b, "\\\\", 2);
		else if (*s == '\n')
			metrics_put(b, "\\n", 2);
		else if (*s == '"' && quote)
			metrics_put(b, "\\\"", 2);
		else
			metrics_put(b, s, 1);
	}
}

/* A sample value: integers exactly, NaN and infinities as Prometheus spells
 * them, other numbers as the shortest %g text that reads back the same. */
static void metrics_num_text(char *t, size_t len, double v)
{
	if (isnan(v))
		snprintf(t, len, "NaN");
	else if (isinf(v))
		snprintf(t, len, v > 0 ? "+Inf" : "-Inf");
	else if (v > -9007199254740992.0 && v < 9007199254740992.0 &&
		 v == (double)(long long)v)
		snprintf(t, len, "%lld", (long long)v);
	else if (snprintf(t, len, "%.15g", v) > 0 && strtod(t, NULL) != v)
		snprintf(t, len, "%.17g", v);
}

static void metrics_put_num(struct metrics_buf *b, double v)
{
	char t[40];
	metrics_num_text(t, sizeof(t), v);
	metrics_puts(b, t);
}

/* ---- series ------------------------------------------------------------ */

static int metrics_labels_text(const struct metrics_family *f,
			       const struct metrics_label *labels, size_t n,
			       char **out)
{
	struct metrics_buf b = {0};
	metrics_reserve(&b, 0);
	for (size_t i = 0; i < n; i++) {
		const char *ln = labels[i].name;
		if (!metrics_name_ok(ln, false) || strncmp(ln, "__", 2) == 0 ||
		    !labels[i].value ||
		    (f->type == METRICS_HISTOGRAM && strcmp(ln, "le") == 0)) {
			free(b.p);
			return -EINVAL;
		}
		for (size_t j = 0; j < i; j++)
			if (strcmp(labels[j].name, ln) == 0) {
				free(b.p);
				return -EINVAL;
			}
		if (i)
			metrics_put(&b, ",", 1);
		metrics_puts(&b, ln);
		metrics_put(&b, "=\"", 2);
		metrics_put_escaped(&b, labels[i].value, true);
		metrics_put(&b, "\"", 1);
	}
	if (b.oom) {
		free(b.p);
		return -ENOMEM;
	}
	*out = b.p;
	return 0;
}

static struct metrics_series *
metrics_series_new(struct metrics_family *f, enum metrics_type want,
		   const struct metrics_label *labels, size_t n, int *rc)
{
	struct metrics_series *s;
	char *text = NULL;
	*rc = (want == METRICS_HISTOGRAM) == (f->type == METRICS_HISTOGRAM)
		      ? 0
		      : -EINVAL;
	if (*rc == 0 && n && !labels)
		*rc = -EINVAL;
	if (*rc == 0)
		*rc = metrics_labels_text(f, labels, n, &text);
	for (s = f->head; *rc == 0 && s; s = s->next)
		if (strcmp(s->labels, text) == 0)
			*rc = -EEXIST;
	s = *rc == 0 ? calloc(1, sizeof(*s)) : NULL;
	if (*rc == 0 && !s)
		*rc = -ENOMEM;
	if (*rc < 0) {
		free(text);
		metrics_fail(f->m, *rc);
		return NULL;
	}
	s->labels = text;
	if (f->tail)
		f->tail->next = s;
	else
		f->head = s;
	f->tail = s;
	return s;
}

int metrics_add(struct metrics_family *f, double value,
		const struct metrics_label *labels, size_t n)
{
	int rc;
	if (!f)
		return -EINVAL;
	struct metrics_series *s =
		metrics_series_new(f, METRICS_COUNTER, labels, n, &rc);
	if (s)
		s->value = value;
	return rc;
}

int metrics_add1(struct metrics_family *f, double value, const char *lname,
		 const char *lvalue)
{
	struct metrics_label l = {lname, lvalue};
	return metrics_add(f, value, lname ? &l : NULL, lname ? 1 : 0);
}

int metrics_add_histogram(struct metrics_family *f,
			  const struct metrics_histogram *h,
			  const struct metrics_label *labels, size_t n)
{
	int rc;
	if (!f)
		return -EINVAL;
	if (h->n_bounds > METRICS_MAX_BUCKETS)
		return metrics_fail(f->m, -EINVAL);
	struct metrics_series *s =
		metrics_series_new(f, METRICS_HISTOGRAM, labels, n, &rc);
	if (s)
		s->hist = *h;
	return rc;
}

/* ---- rendering --------------------------------------------------------- */

/* name[suffix]{labels[,le="bound"]} */
static void metrics_put_name(struct metrics_buf *b, const char *name,
			     const char *suffix, const char *labels,
			     const char *le)
{
	metrics_puts(b, name);
	metrics_puts(b, suffix);
	if (!*labels && !le)
		return;
	metrics_put(b, "{", 1);
	metrics_puts(b, labels);
	if (le) {
		if (*labels)
			metrics_put(b, ",", 1);
		metrics_put(b, "le=\"", 4);
		metrics_puts(b, le);
		metrics_put(b, "\"", 1);
	}
	metrics_put(b, "}", 1);
}

static void metrics_put_histogram(struct metrics_buf *b, const char *name,
				  const struct metrics_series *s)
{
	const struct metrics_histogram *h = &s->hist;
	uint64_t cum = 0;
	for (unsigned i = 0; i <= h->n_bounds; i++) {
		char le[40] = "+Inf";
		cum += h->counts[i];
		if (i < h->n_bounds)
			metrics_num_text(le, sizeof(le), h->bounds[i]);
		metrics_put_name(b, name, "_bucket", s->labels, le);
		metrics_put(b, " ", 1);
		metrics_put_num(b, (double)cum);
		metrics_put(b, "\n", 1);
	}
	metrics_put_name(b, name, "_sum", s->labels, NULL);
	metrics_put(b, " ", 1);
	metrics_put_num(b, h->sum);
	metrics_put(b, "\n", 1);
	metrics_put_name(b, name, "_count", s->labels, NULL);
	metrics_put(b, " ", 1);
	metrics_put_num(b, (double)h->count);
	metrics_put(b, "\n", 1);
}

int metrics_render(const struct metrics *m, char **out, size_t *len)
{
	struct metrics_buf b = {0};
	if (m->error)
		return m->error;
	metrics_reserve(&b, 0);
	for (const struct metrics_family *f = m->head; f; f = f->next) {
		metrics_puts(&b, "# HELP ");
		metrics_puts(&b, f->name);
		metrics_put(&b, " ", 1);
		metrics_put_escaped(&b, f->help, false);
		metrics_puts(&b, "\n# TYPE ");
		metrics_puts(&b, f->name);
		metrics_put(&b, " ", 1);
		metrics_puts(&b, metrics_type_names[f->type]);
		metrics_put(&b, "\n", 1);
		for (const struct metrics_series *s = f->head; s; s = s->next) {
			if (f->type == METRICS_HISTOGRAM) {
				metrics_put_histogram(&b, f->name, s);
				continue;
			}
			metrics_put_name(&b, f->name, "", s->labels, NULL);
			metrics_put(&b, " ", 1);
			metrics_put_num(&b, s->value);
			metrics_put(&b, "\n", 1);
		}
	}
	if (b.oom) {
		free(b.p);
		return -ENOMEM;
	}
	*out = b.p;
	*len = b.len;
	return 0;
}

const char *metrics_label_lower(const char *s, char *buf, size_t len)
{
	size_t i = 0;
	for (; s[i] && i + 1 < len; i++)
		buf[i] = (s[i] >= 'A' && s[i] <= 'Z') ? (char)(s[i] + 'a' - 'A')
						      : s[i];
	buf[i] = '\0';
	return buf;
}
