/* fuzz_msg's second view of its input: H-bit AVP values written in clear
 * sub-format are hidden first, so mutations get past the MD5 hiding (RFC 2661
 * section 4.3) that a fuzzer could otherwise almost never satisfy. */
#ifndef TANDEM_FUZZ_HIDE_CLEAR_H
#define TANDEM_FUZZ_HIDE_CLEAR_H

#include <stddef.h>
#include <stdint.h>

#include "fuzz.h"
#include "l2tp_const.h"
#include "l2tp_header.h"
#include "l2tp_hidden.h"

/* Hide (hiding = 1) or unhide (0) in place, with FUZZ_SECRET and the last
 * Random Vector before it, every H-bit AVP value of the control message p,
 * walking the AVPs as the decoder does; gen_corpus unhides to write seeds.
 * Stops quietly at the first malformed AVP. Returns how many it changed. */
static inline unsigned fuzz_hide_clear(uint8_t *p, size_t len, int hiding)
{
	struct l2tp_header h;
	struct l2tp_reject rej;
	const uint8_t *rv = NULL;
	size_t rv_len = 0;
	unsigned n = 0;

	if (l2tp_header_decode(p, len, &h, &rej) < 0 || !h.control)
		return 0;
	for (size_t off = h.payload_off; len - off >= L2TP_AVP_HDR_LEN;) {
		uint16_t word = (uint16_t)(p[off] << 8 | p[off + 1]);
		uint16_t vendor = (uint16_t)(p[off + 2] << 8 | p[off + 3]);
		uint16_t type = (uint16_t)(p[off + 4] << 8 | p[off + 5]);
		size_t alen = word & L2TP_AVP_LEN_MASK;
		if (alen < L2TP_AVP_HDR_LEN || alen > len - off)
			break;
		uint8_t *v = p + off + L2TP_AVP_HDR_LEN;
		size_t vlen = alen - L2TP_AVP_HDR_LEN;
		if (word & L2TP_AVP_H) {
			if (rv) {
				l2tp_hidden_xor(type,
						(const uint8_t *)FUZZ_SECRET,
						FUZZ_SECRET_LEN, rv, rv_len, v,
						vlen, hiding);
				n++;
			}
		} else if (vendor == L2TP_VENDOR_IETF &&
			   type == L2TP_AVP_RANDOM_VECTOR &&
			   !(word & L2TP_AVP_RESERVED) && vlen > 0) {
			rv = v;
			rv_len = vlen;
		}
		off += alen;
	}
	return n;
}

#endif
