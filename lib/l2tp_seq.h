/* Wrap-aware comparison of 16-bit L2TP sequence numbers (RFC 2661 section 5.8):
 * a value precedes another when it lies within the 32767 values before it. */
#ifndef TANDEM_L2TP_SEQ_H
#define TANDEM_L2TP_SEQ_H

#include <stdbool.h>
#include <stdint.h>

/* Signed distance from b to a in [-32768, 32767]: > 0 when a is after b. */
static inline int l2tp_seq_diff(uint16_t a, uint16_t b)
{
	int d = (int)(uint16_t)(a - b);
	return d >= 32768 ? d - 65536 : d;
}

static inline bool l2tp_seq_lt(uint16_t a, uint16_t b)
{
	return l2tp_seq_diff(a, b) < 0;
}

static inline bool l2tp_seq_le(uint16_t a, uint16_t b)
{
	return l2tp_seq_diff(a, b) <= 0;
}

/* True when a lies in [lo, lo + n) modulo 2^16 (n <= 32768). */
static inline bool l2tp_seq_in_window(uint16_t a, uint16_t lo, unsigned n)
{
	return (unsigned)(uint16_t)(a - lo) < n;
}

static inline uint16_t l2tp_seq_next(uint16_t a)
{
	return (uint16_t)(a + 1u);
}

#endif
