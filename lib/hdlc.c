/* Async HDLC-like framing (RFC 1662 section 4 and appendix C): FCS-16,
 * octet stuffing with an ACCM, and a streaming decoder. */
#include "hdlc.h"

#include <errno.h>

/* RFC 1662 C.2 lookup table, generated for the polynomial 0x8408. */
static uint16_t hdlc_fcstab[256];
static bool hdlc_fcstab_ready;

static void hdlc_fcstab_init(void)
{
	for (unsigned b = 0; b < 256; b++) {
		uint16_t v = (uint16_t)b;
		for (int i = 0; i < 8; i++)
			v = (v & 1) ? (uint16_t)((v >> 1) ^ 0x8408)
				    : (uint16_t)(v >> 1);
		hdlc_fcstab[b] = v;
	}
	hdlc_fcstab_ready = true;
}

uint16_t hdlc_fcs16(uint16_t fcs, const uint8_t *p, size_t len)
{
	if (!hdlc_fcstab_ready)
		hdlc_fcstab_init();
	while (len--)
		fcs = (uint16_t)((fcs >> 8) ^ hdlc_fcstab[(fcs ^ *p++) & 0xff]);
	return fcs;
}

static bool hdlc_must_escape(uint8_t c, uint32_t accm)
{
	return c == HDLC_FLAG || c == HDLC_ESC ||
	       (c < 0x20 && (accm & (1u << c)));
}

/* Append c (escaped as needed) at out[*n]; false when it does not fit. */
static bool hdlc_put(uint8_t *out, size_t cap, size_t *n, uint8_t c,
		     uint32_t accm)
{
	if (hdlc_must_escape(c, accm)) {
		if (cap - *n < 2)
			return false;
		out[(*n)++] = HDLC_ESC;
		out[(*n)++] = c ^ HDLC_ESC_XOR;
		return true;
	}
	if (cap - *n < 1)
		return false;
	out[(*n)++] = c;
	return true;
}

int hdlc_encode(const uint8_t *frame, size_t len, uint32_t accm, bool add_acf,
		uint8_t *out, size_t cap)
{
	static const uint8_t acf[2] = {0xff, 0x03};
	size_t n = 0;
	uint16_t fcs = HDLC_FCS_INIT;
	bool ok = cap >= 1;

	if (ok)
		out[n++] = HDLC_FLAG;
	/* RFC 1662 3.2: Address-and-Control may be omitted only after ACFC
	 * was negotiated, and a receiver always accepts them, so a frame from
	 * the LAC without them gets them back. */
	if (add_acf && !(len >= 2 && frame[0] == 0xff && frame[1] == 0x03)) {
		fcs = hdlc_fcs16(fcs, acf, 2);
		for (int i = 0; ok && i < 2; i++)
			ok = hdlc_put(out, cap, &n, acf[i], accm);
	}
	fcs = hdlc_fcs16(fcs, frame, len);
	for (size_t i = 0; ok && i < len; i++)
		ok = hdlc_put(out, cap, &n, frame[i], accm);
	fcs ^= 0xffff; /* sent least significant octet first (C.2) */
	if (ok)
		ok = hdlc_put(out, cap, &n, (uint8_t)(fcs & 0xff), accm);
	if (ok)
		ok = hdlc_put(out, cap, &n, (uint8_t)(fcs >> 8), accm);
	if (ok && cap - n >= 1)
		out[n++] = HDLC_FLAG;
	else
		ok = false;
	return ok ? (int)n : -ENOSPC;
}

void hdlc_rx_init(struct hdlc_rx *rx, uint8_t *buf, size_t cap, uint32_t accm)
{
	*rx = (struct hdlc_rx){.buf = buf, .cap = cap, .accm = accm};
}

/* A flag ended the octets gathered so far. */
static void hdlc_rx_end(struct hdlc_rx *rx, hdlc_frame_fn *fn, void *arg)
{
	size_t len = rx->len;
	bool esc = rx->esc, skip = rx->skip;
	rx->len = 0;
	rx->esc = false;
	rx->skip = false;
	if (skip)
		return; /* counted when it started being skipped */
	if (esc) {
		rx->stats.aborts++; /* 7D 7E: the sender aborted the frame */
		return;
	}
	if (len == 0)
		return; /* back-to-back flags: inter-frame fill */
	if (len < 4) {
		rx->stats.runts++;
		return;
	}
	if (hdlc_fcs16(HDLC_FCS_INIT, rx->buf, len) != HDLC_FCS_GOOD) {
		rx->stats.bad_fcs++;
		return;
	}
	rx->stats.frames++;
	fn(arg, rx->buf, len - 2);
}

void hdlc_rx_feed(struct hdlc_rx *rx, const uint8_t *p, size_t n,
		  hdlc_frame_fn *fn, void *arg)
{
	for (size_t i = 0; i < n; i++) {
		uint8_t c = p[i];
		if (c == HDLC_FLAG) {
			hdlc_rx_end(rx, fn, arg);
			continue;
		}
		if (rx->skip)
			continue;
		if (c < 0x20 && (rx->accm & (1u << c)))
			continue; /* inserted on the way (RFC 1662 7.1) */
		if (c == HDLC_ESC) {
			rx->esc = true;
			continue;
		}
		if (rx->esc) {
			c ^= HDLC_ESC_XOR;
			rx->esc = false;
		}
		if (rx->len == rx->cap) {
			rx->stats.too_long++;
			rx->skip = true;
			continue;
		}
		rx->buf[rx->len++] = c;
	}
}
