/* Replays saved inputs through a fuzz target without libFuzzer: each file
 * argument, and each regular file inside a directory argument (recursively),
 * is read into an exact-size buffer and passed to LLVMFuzzerTestOneInput. */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "fuzz.h"

static unsigned long n_ran;

/* Read the whole file into a malloc'd buffer of exactly its size (ASan
 * then flags a target reading one byte too far). */
static int read_file(const char *path, uint8_t **out, size_t *len)
{
	FILE *f = fopen(path, "rb");
	uint8_t *buf = NULL;
	size_t cap = 0, n = 0;
	int rc = 0;

	if (!f)
		return -errno;
	for (;;) {
		if (n == cap) {
			cap = cap ? cap * 2 : 4096;
			uint8_t *nb = realloc(buf, cap);
			if (!nb) {
				rc = -ENOMEM;
				goto fail;
			}
			buf = nb;
		}
		size_t got = fread(buf + n, 1, cap - n, f);
		n += got;
		if (got == 0)
			break;
	}
	if (ferror(f)) {
		rc = -EIO;
		goto fail;
	}
	fclose(f);
	/* Shrink to the exact size; a zero-length input still gets a
	 * (one-byte, unreadable by contract) buffer. */
	*out = malloc(n ? n : 1);
	if (!*out) {
		free(buf);
		return -ENOMEM;
	}
	if (n)
		memcpy(*out, buf, n);
	free(buf);
	*len = n;
	return 0;
fail:
	free(buf);
	fclose(f);
	return rc;
}

static int run_file(const char *path)
{
	uint8_t *data = NULL;
	size_t len = 0;
	int rc = read_file(path, &data, &len);
	if (rc < 0) {
		fprintf(stderr, "%s: %s\n", path, strerror(-rc));
		return rc;
	}
	LLVMFuzzerTestOneInput(data, len);
	free(data);
	n_ran++;
	return 0;
}

static int compare_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int run_path(const char *path);

/* Every entry of a directory, in name order so runs are reproducible. */
static int run_dir(const char *path)
{
	DIR *d = opendir(path);
	char **names = NULL;
	size_t n = 0, cap = 0;
	int rc = 0;

	if (!d) {
		fprintf(stderr, "%s: %s\n", path, strerror(errno));
		return -errno;
	}
	struct dirent *e;
	while ((e = readdir(d)) != NULL) {
		if (e->d_name[0] == '.')
			continue; /* ., .. and hidden files (.gitkeep) */
		if (n == cap) {
			cap = cap ? cap * 2 : 64;
			char **nn = realloc(names, cap * sizeof(*names));
			if (!nn) {
				rc = -ENOMEM;
				goto out;
			}
			names = nn;
		}
		size_t sz = strlen(path) + 1 + strlen(e->d_name) + 1;
		names[n] = malloc(sz);
		if (!names[n]) {
			rc = -ENOMEM;
			goto out;
		}
		snprintf(names[n], sz, "%s/%s", path, e->d_name);
		n++;
	}
	qsort(names, n, sizeof(*names), compare_names);
	for (size_t i = 0; i < n; i++) {
		int r = run_path(names[i]);
		if (r < 0)
			rc = r;
	}
out:
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	free(names);
	closedir(d);
	return rc;
}

static int run_path(const char *path)
{
	struct stat st;
	if (stat(path, &st) < 0) {
		fprintf(stderr, "%s: %s\n", path, strerror(errno));
		return -errno;
	}
	if (S_ISDIR(st.st_mode))
		return run_dir(path);
	if (S_ISREG(st.st_mode))
		return run_file(path);
	return 0; /* sockets, fifos: not inputs */
}

int main(int argc, char **argv)
{
	int rc = 0;

	if (argc < 2) {
		fprintf(stderr, "usage: %s FILE|DIR...\n", argv[0]);
		return 2;
	}
	for (int i = 1; i < argc; i++)
		if (run_path(argv[i]) < 0)
			rc = 1;
	printf("%s: %lu inputs ran\n", argv[0], n_ran);
	return rc;
}
