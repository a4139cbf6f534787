/* Shared by the fuzz targets, their standalone replay driver and the seed
 * corpus generator: the libFuzzer entry point and a check that aborts, so the
 * fuzzer reports logic errors as crashes, not only memory errors. */
#ifndef TANDEM_FUZZ_H
#define TANDEM_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

/* Called by libFuzzer, or by standalone.c for each saved input. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The shared secret fuzz_msg decodes with; gen_corpus hides AVPs with it so
 * the seeds reach the code past the unhiding. */
#define FUZZ_SECRET	"tandem-fuzz-secret"
#define FUZZ_SECRET_LEN (sizeof(FUZZ_SECRET) - 1)

/* Input layout of fuzz_hidden: AVP type (2 bytes, big-endian), secret length,
 * Random Vector length, padding length (1 byte each), then the secret, the
 * Random Vector and the rest (the hidden value / the value to hide). */
#define FUZZ_HIDDEN_PREFIX 5

/* Input layout of fuzz_avp: AVP type (1 byte), then the value. */
#define FUZZ_AVP_PREFIX 1

#define FUZZ_CHECK(cond)                                                       \
	do {                                                                   \
		if (!(cond)) {                                                 \
			fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, \
				__LINE__, #cond);                              \
			abort();                                               \
		}                                                              \
	} while (0)

#endif
