/* Aligned text tables and a streaming JSON writer (cc_out.h). */
#include "cc_out.h"

#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

/* ---- tables ---- */

void cc_table_init(struct cc_table *t, unsigned ncols, const char *const *heads)
{
	memset(t, 0, sizeof(*t));
	t->ncols = ncols;
	t->heads = heads;
}

/* Room for one more cell of up to need bytes (NUL included). */
static bool cc_table_reserve(struct cc_table *t, size_t need)
{
	if (t->failed)
		return false;
	if (t->ncells == t->cap_cells) {
		size_t cap = t->cap_cells ? 2 * t->cap_cells : 256;
		size_t *c = realloc(t->cells, cap * sizeof(*c));
		if (!c)
			goto fail;
		t->cells = c;
		t->cap_cells = cap;
	}
	if (t->text_cap - t->text_len < need) {
		size_t cap = t->text_cap ? t->text_cap : 4096;
		while (cap - t->text_len < need)
			cap *= 2;
		char *x = realloc(t->text, cap);
		if (!x)
			goto fail;
		t->text = x;
		t->text_cap = cap;
	}
	return true;
fail:
	t->failed = true;
	return false;
}

void cc_table_add(struct cc_table *t, const char *fmt, ...)
{
	va_list ap;
	char small[128];
	va_start(ap, fmt);
	int n = vsnprintf(small, sizeof(small), fmt, ap);
	va_end(ap);
	if (n < 0)
		n = 0;
	if (!cc_table_reserve(t, (size_t)n + 1))
		return;
	va_start(ap, fmt);
	vsnprintf(t->text + t->text_len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	t->cells[t->ncells++] = t->text_len;
	t->text_len += (size_t)n + 1;
}

void cc_table_add_text(struct cc_table *t, const char *s)
{
	if (!s || !*s) {
		cc_table_add(t, "-");
		return;
	}
	size_t n = strlen(s);
	if (!cc_table_reserve(t, 4 * n + 1))
		return;
	char *o = t->text + t->text_len;
	size_t k = 0;
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if (*p > ' ' && *p < 0x7f && *p != '\\')
			o[k++] = (char)*p;
		else
			k += (size_t)sprintf(o + k, "\\x%02x", *p);
	}
	o[k] = '\0';
	t->cells[t->ncells++] = t->text_len;
	t->text_len += k + 1;
}

void cc_table_add_opt(struct cc_table *t, int64_t v)
{
	if (v < 0)
		cc_table_add(t, "-");
	else
		cc_table_add(t, "%" PRId64, v);
}

size_t cc_table_rows(const struct cc_table *t)
{
	return t->ncols ? t->ncells / t->ncols : 0;
}

static void cc_table_line(FILE *f, unsigned indent, const size_t *width,
			  unsigned ncols, const char *const *cell)
{
	fprintf(f, "%*s", (int)indent, "");
	for (unsigned c = 0; c < ncols; c++) {
		if (c + 1 < ncols)
			fprintf(f, "%-*s  ", (int)width[c], cell[c]);
		else
			fputs(cell[c], f);
	}
	fputc('\n', f);
}

int cc_table_print(const struct cc_table *t, FILE *f, unsigned indent)
{
	if (t->failed)
		return -ENOMEM;
	size_t *width = calloc(t->ncols ? t->ncols : 1, sizeof(*width));
	const char **row = calloc(t->ncols ? t->ncols : 1, sizeof(*row));
	if (!width || !row) {
		free(width);
		free(row);
		return -ENOMEM;
	}
	size_t rows = cc_table_rows(t);
	for (unsigned c = 0; t->heads && c < t->ncols; c++)
		width[c] = strlen(t->heads[c]);
	for (size_t i = 0; i < rows * t->ncols; i++) {
		size_t n = strlen(t->text + t->cells[i]);
		if (n > width[i % t->ncols])
			width[i % t->ncols] = n;
	}
	if (t->heads)
		cc_table_line(f, indent, width, t->ncols, t->heads);
	for (size_t r = 0; r < rows; r++) {
		for (unsigned c = 0; c < t->ncols; c++)
			row[c] = t->text + t->cells[r * t->ncols + c];
		cc_table_line(f, indent, width, t->ncols, row);
	}
	free(width);
	free(row);
	return 0;
}

void cc_table_free(struct cc_table *t)
{
	free(t->cells);
	free(t->text);
	memset(t, 0, sizeof(*t));
}

/* ---- JSON ---- */

void cc_json_init(struct cc_json *j, FILE *f)
{
	memset(j, 0, sizeof(*j));
	j->f = f;
	j->first[0] = true;
}

static void cc_json_quote(FILE *f, const char *s, size_t n);

/* Separator, line break and key before the next value at this depth.
 * Outside one-line records, object members, strings and containers each
 * start a line; numbers in an array (a shard list) run on. */
static void cc_json_member(struct cc_json *j, const char *key, bool brk)
{
	unsigned d = j->depth;
	if (!d)
		return;
	if (!j->first[d])
		fputc(',', j->f);
	if (!j->inline_at[d] && (brk || j->object_at[d])) {
		fprintf(j->f, "\n%*s", (int)(2 * d), "");
		j->broke[d] = true;
	} else if (!j->first[d]) {
		fputc(' ', j->f);
	}
	j->first[d] = false;
	if (key && j->object_at[d]) {
		cc_json_quote(j->f, key, strlen(key));
		fputs(": ", j->f);
	}
}

static void cc_json_open(struct cc_json *j, const char *key, bool object)
{
	cc_json_member(j, key, true);
	fputc(object ? '{' : '[', j->f);
	if (j->depth + 1 >= CC_JSON_DEPTH)
		return; /* callers nest far less; never reached */
	bool in_array = j->depth && !j->object_at[j->depth];
	unsigned d = ++j->depth;
	j->first[d] = true;
	j->broke[d] = false;
	j->object_at[d] = object;
	/* One record per line: an object in an array and all it holds. */
	j->inline_at[d] = j->inline_at[d - 1] || (object && in_array);
}

static void cc_json_close(struct cc_json *j, bool object)
{
	unsigned d = j->depth;
	if (d && j->broke[d])
		fprintf(j->f, "\n%*s", (int)(2 * (d - 1)), "");
	fputc(object ? '}' : ']', j->f);
	if (d)
		j->depth--;
}

void cc_json_obj_begin(struct cc_json *j, const char *key)
{
	cc_json_open(j, key, true);
}

void cc_json_obj_end(struct cc_json *j)
{
	cc_json_close(j, true);
}

void cc_json_arr_begin(struct cc_json *j, const char *key)
{
	cc_json_open(j, key, false);
}

void cc_json_arr_end(struct cc_json *j)
{
	cc_json_close(j, false);
}

/* Length of the valid UTF-8 sequence at p (RFC 3629: no overlongs, no
 * surrogates, nothing above U+10FFFF), or 0. */
static size_t cc_utf8_len(const unsigned char *p, size_t n)
{
	unsigned char b = p[0], lo = 0x80, hi = 0xbf;
	size_t len;
	if (b >= 0xc2 && b <= 0xdf)
		len = 2;
	else if (b >= 0xe0 && b <= 0xef)
		len = 3;
	else if (b >= 0xf0 && b <= 0xf4)
		len = 4;
	else
		return 0;
	if (b == 0xe0)
		lo = 0xa0;
	else if (b == 0xed)
		hi = 0x9f;
	else if (b == 0xf0)
		lo = 0x90;
	else if (b == 0xf4)
		hi = 0x8f;
	if (n < len || p[1] < lo || p[1] > hi)
		return 0;
	for (size_t i = 2; i < len; i++)
		if (p[i] < 0x80 || p[i] > 0xbf)
			return 0;
	return len;
}

/* A quoted, escaped JSON string (RFC 8259 section 7). */
static void cc_json_quote(FILE *f, const char *s, size_t n)
{
	const unsigned char *p = (const unsigned char *)s;
	fputc('"', f);
	for (size_t i = 0; i < n;) {
		unsigned char c = p[i];
		size_t u;
		if (c == '"' || c == '\\') {
			fputc('\\', f);
			fputc(c, f);
		} else if (c == '\n') {
			fputs("\\n", f);
		} else if (c == '\t') {
			fputs("\\t", f);
		} else if (c == '\r') {
			fputs("\\r", f);
		} else if (c < 0x20) {
			fprintf(f, "\\u%04x", c);
		} else if (c < 0x80) {
			fputc(c, f);
		} else if ((u = cc_utf8_len(p + i, n - i)) > 0) {
			fwrite(p + i, 1, u, f);
			i += u;
			continue;
		} else {
			fputs("\\ufffd", f); /* not UTF-8: replaced */
		}
		i++;
	}
	fputc('"', f);
}

void cc_json_strn(struct cc_json *j, const char *key, const char *s, size_t n)
{
	cc_json_member(j, key, true);
	cc_json_quote(j->f, s, n);
}

void cc_json_str(struct cc_json *j, const char *key, const char *s)
{
	if (!s) {
		cc_json_null(j, key);
		return;
	}
	cc_json_strn(j, key, s, strlen(s));
}

void cc_json_u64(struct cc_json *j, const char *key, uint64_t v)
{
	cc_json_member(j, key, false);
	fprintf(j->f, "%" PRIu64, v);
}

void cc_json_i64(struct cc_json *j, const char *key, int64_t v)
{
	cc_json_member(j, key, false);
	fprintf(j->f, "%" PRId64, v);
}

void cc_json_opt(struct cc_json *j, const char *key, int64_t v)
{
	if (v < 0)
		cc_json_null(j, key);
	else
		cc_json_i64(j, key, v);
}

void cc_json_bool(struct cc_json *j, const char *key, bool v)
{
	cc_json_member(j, key, false);
	fputs(v ? "true" : "false", j->f);
}

void cc_json_null(struct cc_json *j, const char *key)
{
	cc_json_member(j, key, false);
	fputs("null", j->f);
}

void cc_json_finish(struct cc_json *j)
{
	fputc('\n', j->f);
}

/* ---- formatters ---- */

void cc_fmt_addr(uint8_t family, const uint8_t *addr, char *buf, size_t len)
{
	if (!len)
		return;
	buf[0] = '\0';
	if (family == 4)
		inet_ntop(AF_INET, addr, buf, (socklen_t)len);
	else if (family == 6)
		inet_ntop(AF_INET6, addr, buf, (socklen_t)len);
}

void cc_fmt_addr_port(uint8_t family, const uint8_t *addr, uint16_t port,
		      char *buf, size_t len)
{
	char a[64];
	cc_fmt_addr(family, addr, a, sizeof(a));
	if (!a[0])
		snprintf(buf, len, "-");
	else if (family == 6)
		snprintf(buf, len, "[%s]:%u", a, port);
	else
		snprintf(buf, len, "%s:%u", a, port);
}

void cc_fmt_hex(const uint8_t *p, size_t n, char *buf, size_t len)
{
	static const char digits[] = "0123456789abcdef";
	size_t k = 0;
	for (size_t i = 0; i < n && k + 2 < len; i++) {
		buf[k++] = digits[p[i] >> 4];
		buf[k++] = digits[p[i] & 15];
	}
	if (len)
		buf[k] = '\0';
}

void cc_fmt_ms(int64_t ms, char *buf, size_t len)
{
	int64_t s = ms / 1000;
	if (ms < 0)
		snprintf(buf, len, "-");
	else if (ms < 1000)
		snprintf(buf, len, "%" PRId64 "ms", ms);
	else if (s < 60)
		snprintf(buf, len, "%" PRId64 ".%" PRId64 "s", s,
			 (ms % 1000) / 100);
	else if (s < 3600)
		snprintf(buf, len, "%" PRId64 "m%02" PRId64 "s", s / 60,
			 s % 60);
	else if (s < 86400)
		snprintf(buf, len, "%" PRId64 "h%02" PRId64 "m", s / 3600,
			 (s / 60) % 60);
	else
		snprintf(buf, len, "%" PRId64 "d%02" PRId64 "h", s / 86400,
			 (s / 3600) % 24);
}

void cc_listing_begin(bool json, struct cc_json *j, struct cc_table *t,
		      const char *key, unsigned ncols, const char *const *heads)
{
	if (!json) {
		cc_table_init(t, ncols, heads);
		return;
	}
	cc_json_init(j, stdout);
	cc_json_obj_begin(j, NULL);
	cc_json_arr_begin(j, key);
}

int cc_listing_end(bool json, struct cc_json *j, const struct cc_table *t,
		   uint64_t rows)
{
	if (!json)
		return cc_table_print(t, stdout, 0);
	cc_json_arr_end(j);
	cc_json_u64(j, "count", rows);
	cc_json_obj_end(j);
	cc_json_finish(j);
	return 0;
}
