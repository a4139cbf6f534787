/* Fuzz target for the async HDLC decoder (lib/hdlc.c), the bytes a pppd
 * writes on its pty: a delivered frame fits the buffer and its FCS checked;
 * it re-encodes under the input's ACCM without a raw flag or a raw octet the
 * ACCM covers, and that encoding decodes to the same frame; feeding the
 * stream in two pieces delivers the same frames as in one. Input: 4 bytes of
 * ACCM, 1 byte split point, then the stream. */
#include <string.h>

#include "fuzz.h"
#include "hdlc.h"

#define FRAME_CAP 256 /* small, so over-long frames are reached */

/* What one decode run delivered. */
struct seen {
	unsigned n;	     /* frames */
	uint32_t digest;     /* FNV-1a over lengths and bytes, in order */
	uint32_t accm;	     /* ACCM of the re-encode check */
	const uint8_t *want; /* roundtrip: the frame expected, else NULL */
	size_t want_len;     /* its length */
};

static void digest(struct seen *k, const uint8_t *p, size_t len)
{
	k->digest = (k->digest ^ (uint32_t)len) * 16777619u;
	for (size_t i = 0; i < len; i++)
		k->digest = (k->digest ^ p[i]) * 16777619u;
}

static void got_back(void *arg, const uint8_t *frame, size_t len)
{
	struct seen *k = arg;
	k->n++;
	FUZZ_CHECK(len == k->want_len);
	FUZZ_CHECK(memcmp(frame, k->want, len) == 0);
}

static void roundtrip(const uint8_t *frame, size_t len, uint32_t accm)
{
	static uint8_t enc[HDLC_ENCODED_MAX(FRAME_CAP)];
	static uint8_t buf[FRAME_CAP + 2];
	int n = hdlc_encode(frame, len, accm, false, enc, sizeof(enc));
	FUZZ_CHECK(n > 0 && (size_t)n <= HDLC_ENCODED_MAX(len));
	FUZZ_CHECK(enc[0] == HDLC_FLAG && enc[n - 1] == HDLC_FLAG);
	for (int i = 1; i < n - 1; i++) {
		FUZZ_CHECK(enc[i] != HDLC_FLAG);
		if (enc[i] < 0x20 && enc[i - 1] != HDLC_ESC)
			FUZZ_CHECK(!(accm & (1u << enc[i])));
	}
	struct hdlc_rx rx;
	struct seen k = {.want = frame, .want_len = len};
	/* the receiver discards what the ACCM covers: it was all escaped */
	hdlc_rx_init(&rx, buf, sizeof(buf), accm);
	hdlc_rx_feed(&rx, enc, (size_t)n, got_back, &k);
	FUZZ_CHECK(k.n == 1);
}

static void got(void *arg, const uint8_t *frame, size_t len)
{
	struct seen *k = arg;
	FUZZ_CHECK(len + 2 <= FRAME_CAP + 2);
	FUZZ_CHECK(len >= 2); /* 4 octets at least, FCS removed */
	FUZZ_CHECK(hdlc_fcs16(HDLC_FCS_INIT, frame, len + 2) == HDLC_FCS_GOOD);
	k->n++;
	digest(k, frame, len);
	if (k->accm != 1) /* 1: the second pass, already checked */
		roundtrip(frame, len, k->accm);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t buf1[FRAME_CAP + 2], buf2[FRAME_CAP + 2];
	if (size < 5)
		return 0;
	uint32_t accm = (uint32_t)data[0] << 24 | (uint32_t)data[1] << 16 |
			(uint32_t)data[2] << 8 | data[3];
	if (accm == 1)
		accm = 0; /* 1 marks the second pass below */
	size_t cut = data[4];
	data += 5;
	size -= 5;
	if (cut > size)
		cut = size;

	struct hdlc_rx a, b;
	struct seen ka = {.digest = 2166136261u, .accm = accm};
	struct seen kb = {.digest = 2166136261u, .accm = 1};
	hdlc_rx_init(&a, buf1, sizeof(buf1), 0);
	hdlc_rx_feed(&a, data, size, got, &ka);
	hdlc_rx_init(&b, buf2, sizeof(buf2), 0);
	hdlc_rx_feed(&b, data, cut, got, &kb);
	hdlc_rx_feed(&b, data + cut, size - cut, got, &kb);
	FUZZ_CHECK(ka.n == kb.n && ka.digest == kb.digest);
	FUZZ_CHECK(memcmp(&a.stats, &b.stats, sizeof(a.stats)) == 0);
	FUZZ_CHECK(a.stats.frames == ka.n);
	return 0;
}
