/* The "1 key=value key=value ..." texts the cluster keeps in Redis
 * (registrations in P:workers and P:frontends, lease values; SCHEMA.md):
 * version 1, then space-separated pairs whose values hold no space. */
#ifndef TANDEM_KV_TEXT_H
#define TANDEM_KV_TEXT_H

#include <stddef.h>
#include <stdint.h>

/* The value of key in text, into out (cap bytes, cut to fit; cap 0: only
 * whether it is there). Returns 0, or -ENOENT (absent, or not version 1). */
int kv_text_field(const char *text, const char *key, char *out, size_t cap);

/* The value of key as a non-negative decimal integer, or -1 when it is
 * absent, empty, negative or not a number. */
int64_t kv_text_int(const char *text, const char *key);

#endif
