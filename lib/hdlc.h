/* Async HDLC-like framing of PPP (RFC 1662 section 4): what pppd speaks on a
 * tty. Pure: the encoder writes into the caller's buffer, the decoder keeps
 * its state in the caller's struct and buffer, nothing is allocated. */
#ifndef TANDEM_HDLC_H
#define TANDEM_HDLC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define HDLC_FLAG     0x7e	  /* frame delimiter */
#define HDLC_ESC      0x7d	  /* control escape */
#define HDLC_ESC_XOR  0x20	  /* the escaped octet is XORed with this */
#define HDLC_FCS_INIT 0xffff	  /* RFC 1662 C.2 initial FCS value */
#define HDLC_FCS_GOOD 0xf0b8	  /* FCS over frame + its FCS when intact */
#define HDLC_ACCM_ALL 0xffffffffu /* escape every octet below 0x20 */

/* Bytes hdlc_encode may write for a len-byte frame: every octet (FF 03
 * added, FCS) escaped, plus the two flags. */
#define HDLC_ENCODED_MAX(len) (2 * ((size_t)(len) + 4) + 2)

/* FCS-16 (RFC 1662 C.2) of len bytes, continuing from fcs. */
uint16_t hdlc_fcs16(uint16_t fcs, const uint8_t *p, size_t len);

/* Frame len bytes of PPP (address/control through information, no FCS):
 * opening flag, FF 03 first when add_acf and the frame lacks them, the
 * octets with 7E, 7D and every octet below 0x20 whose bit is set in accm
 * escaped, the FCS (escaped alike), closing flag. Returns the encoded
 * length, or -ENOSPC when cap is too small (nothing useful in out). */
int hdlc_encode(const uint8_t *frame, size_t len, uint32_t accm, bool add_acf,
		uint8_t *out, size_t cap);

/* Counters of one decoder. */
struct hdlc_rx_stats {
	uint64_t frames;   /* frames delivered (FCS good) */
	uint64_t bad_fcs;  /* dropped: FCS did not check */
	uint64_t runts;	   /* dropped: under 4 octets with the FCS */
	uint64_t too_long; /* dropped: longer than the buffer */
	uint64_t aborts;   /* dropped: 7D 7E abort sequence */
};

/* Streaming decoder: bytes may arrive split anywhere. */
struct hdlc_rx {
	uint8_t *buf;		    /* caller's frame buffer */
	size_t cap;		    /* its size (longest frame + 2 FCS) */
	size_t len;		    /* unescaped octets of the current frame */
	uint32_t accm;		    /* unescaped octets < 0x20 to discard */
	bool esc;		    /* last octet was 7D */
	bool skip;		    /* drop everything up to the next flag */
	struct hdlc_rx_stats stats; /* counters */
};

/* Called with each intact frame, FCS removed; valid only during the call. */
typedef void hdlc_frame_fn(void *arg, const uint8_t *frame, size_t len);

/* Start a decoder on buf (cap bytes, owned by the caller). accm: octets
 * below 0x20 that a sender's DCE may insert and that are discarded when they
 * arrive unescaped (RFC 1662 7.1); 0 keeps every octet. */
void hdlc_rx_init(struct hdlc_rx *rx, uint8_t *buf, size_t cap, uint32_t accm);
/* Feed n received bytes; fn runs for every frame they complete. */
void hdlc_rx_feed(struct hdlc_rx *rx, const uint8_t *p, size_t n,
		  hdlc_frame_fn *fn, void *arg);

#endif
