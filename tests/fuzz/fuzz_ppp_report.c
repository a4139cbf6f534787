/* Fuzz target for the ip-up hook's report decoder (lib/ppp_report_msg.c),
 * the datagrams a worker reads from its report socket: a refused input
 * leaves the struct zeroed; an accepted one is canonical (encoding the
 * decode gives the input back byte for byte); the hook's argument parsers
 * accept exactly what the decoder accepts in a report. */
#include <string.h>

#include "fuzz.h"
#include "ppp_report_msg.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const struct ppp_report_msg zero;
	struct ppp_report_msg m;
	char buf[PPP_REPORT_MSG_MAX + 1], text[PPP_REPORT_MSG_MAX + 1];
	if (ppp_report_msg_decode(data, size, &m) < 0) {
		FUZZ_CHECK(memcmp(&m, &zero, sizeof(m)) == 0);
	} else {
		int n = ppp_report_msg_encode(&m, buf, sizeof(buf));
		FUZZ_CHECK(n > 0 && (size_t)n == size);
		FUZZ_CHECK(memcmp(buf, data, size) == 0);
	}
	/* the input as one argument (NUL-terminated, cut at the first NUL) */
	size_t len = size < sizeof(text) - 1 ? size : sizeof(text) - 1;
	memcpy(text, data, len);
	text[len] = '\0';
	uint16_t tid, sid;
	uint32_t a;
	if (ppp_report_msg_session(text, &tid, &sid) == 0) {
		int n = snprintf(buf, sizeof(buf), "%u/%u", tid, sid);
		FUZZ_CHECK(tid && sid && strcmp(buf, text) == 0 && n > 0);
	}
	if (ppp_report_msg_ipv4(text, &a) == 0) {
		snprintf(buf, sizeof(buf), "%u.%u.%u.%u", a >> 24,
			 (a >> 16) & 0xff, (a >> 8) & 0xff, a & 0xff);
		FUZZ_CHECK(strcmp(buf, text) == 0);
	}
	return 0;
}
