/* clusterctl's two output forms: aligned text tables for people (cells made
 * safe for a terminal) and a streaming JSON writer for scripts (strings
 * escaped, invalid UTF-8 replaced), plus the value formatters both share. */
#ifndef TANDEM_CC_OUT_H
#define TANDEM_CC_OUT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define CC_JSON_DEPTH 16

/* A table collected row by row, printed with each column as wide as its
 * widest cell. Cells live in one growing text buffer. */
struct cc_table {
	unsigned ncols;		  /* cells per row */
	const char *const *heads; /* ncols headings, or NULL for none */
	size_t *cells;		  /* offset of each cell in text */
	size_t ncells;		  /* cells added so far */
	size_t cap_cells;	  /* entries allocated in cells */
	char *text;		  /* NUL-terminated cells, back to back */
	size_t text_len;	  /* bytes used in text */
	size_t text_cap;	  /* bytes allocated */
	bool failed;		  /* an allocation failed: print refuses */
};

/* heads (may be NULL) must outlive t. Nothing is allocated yet. */
void cc_table_init(struct cc_table *t, unsigned ncols,
		   const char *const *heads);
/* Append the next cell, printf-style (trusted text: numbers, names we
 * made). */
void cc_table_add(struct cc_table *t, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* Append the next cell from untrusted text (a peer's host name): bytes
 * outside printable ASCII become \xNN; NULL or "" prints as "-". */
void cc_table_add_text(struct cc_table *t, const char *s);
/* Append a number cell, "-" when v < 0 (unknown). */
void cc_table_add_opt(struct cc_table *t, int64_t v);
/* Rows added so far. */
size_t cc_table_rows(const struct cc_table *t);
/* Print heading and rows, each line indented by indent spaces, columns two
 * spaces apart. Returns 0 or -ENOMEM (an earlier add failed). */
int cc_table_print(const struct cc_table *t, FILE *f, unsigned indent);
void cc_table_free(struct cc_table *t);

/* Streaming JSON: containers nest up to CC_JSON_DEPTH. Object members,
 * strings and containers go one per line, numbers in an array run on, and an
 * object inside an array stays on one line (one record per line, however
 * long the list). key is the member name inside an object and NULL inside
 * an array or at the top. */
struct cc_json {
	FILE *f;		       /* where it goes */
	unsigned depth;		       /* open containers */
	bool first[CC_JSON_DEPTH];     /* nothing written yet at this level */
	bool inline_at[CC_JSON_DEPTH]; /* this level stays on one line */
	bool object_at[CC_JSON_DEPTH]; /* object (true) or array */
	bool broke[CC_JSON_DEPTH];     /* a member started a new line */
};

void cc_json_init(struct cc_json *j, FILE *f);
void cc_json_obj_begin(struct cc_json *j, const char *key);
void cc_json_obj_end(struct cc_json *j);
void cc_json_arr_begin(struct cc_json *j, const char *key);
void cc_json_arr_end(struct cc_json *j);
/* A string member; s NULL writes null. */
void cc_json_str(struct cc_json *j, const char *key, const char *s);
/* A string of n bytes that may hold anything. */
void cc_json_strn(struct cc_json *j, const char *key, const char *s, size_t n);
void cc_json_u64(struct cc_json *j, const char *key, uint64_t v);
void cc_json_i64(struct cc_json *j, const char *key, int64_t v);
/* v < 0 writes null (TTLs and other "unknown" values). */
void cc_json_opt(struct cc_json *j, const char *key, int64_t v);
void cc_json_bool(struct cc_json *j, const char *key, bool v);
void cc_json_null(struct cc_json *j, const char *key);

/* A listing streamed row by row (tunnels, sessions): with json,
 * {"<key>": [ one object per row ], "count": rows}; else an aligned table
 * of ncols columns under heads. */
void cc_listing_begin(bool json, struct cc_json *j, struct cc_table *t,
		      const char *key, unsigned ncols,
		      const char *const *heads);
/* Close the JSON or print the table. Returns 0 or -ENOMEM. */
int cc_listing_end(bool json, struct cc_json *j, const struct cc_table *t,
		   uint64_t rows);
/* Ends the document with a newline. */
void cc_json_finish(struct cc_json *j);

/* Address formatting: family 4 or 6, 16 address bytes (network order).
 * cc_fmt_addr: "192.0.2.1" / "2001:db8::1", "" for family 0.
 * cc_fmt_addr_port: "192.0.2.1:1701" / "[2001:db8::1]:1701". */
void cc_fmt_addr(uint8_t family, const uint8_t *addr, char *buf, size_t len);
void cc_fmt_addr_port(uint8_t family, const uint8_t *addr, uint16_t port,
		      char *buf, size_t len);
/* n bytes as lowercase hex. */
void cc_fmt_hex(const uint8_t *p, size_t n, char *buf, size_t len);
/* Milliseconds for people: "-" when negative, "850ms", "12.3s", "5m07s",
 * "3h02m", "2d04h". */
void cc_fmt_ms(int64_t ms, char *buf, size_t len);

#endif
