/* "1 key=value ..." texts (kv_text.h). */
#include "kv_text.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

int kv_text_field(const char *text, const char *key, char *out, size_t cap)
{
	size_t klen = strlen(key);
	if (!text || strncmp(text, "1", 1) != 0 || (text[1] && text[1] != ' '))
		return -ENOENT; /* a format version we do not know */
	for (const char *p = text + 1; *p;) {
		while (*p == ' ')
			p++;
		size_t n = strcspn(p, " ");
		if (n > klen && strncmp(p, key, klen) == 0 && p[klen] == '=') {
			size_t v = n - klen - 1;
			if (cap) {
				if (v >= cap)
					v = cap - 1;
				memcpy(out, p + klen + 1, v);
				out[v] = '\0';
			}
			return 0;
		}
		p += n;
	}
	return -ENOENT;
}

int64_t kv_text_int(const char *text, const char *key)
{
	char v[32], *end;
	if (kv_text_field(text, key, v, sizeof(v)) < 0 || !v[0])
		return -1;
	long long n = strtoll(v, &end, 10);
	return *end || n < 0 ? -1 : n;
}
