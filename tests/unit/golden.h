/* Golden-byte helpers: spell RFC 2661 wire layouts out literally, so the tables
 * in the tests do not depend on the encoder they check. */
#ifndef TANDEM_TEST_GOLDEN_H
#define TANDEM_TEST_GOLDEN_H

#define B2(v) (uint8_t)(((v) >> 8) & 0xff), (uint8_t)((v)&0xff)
#define B4(v) B2(((v) >> 16) & 0xffff), B2((v)&0xffff)
/* Control header: T=1 L=1 S=1 Ver=2 (0xc802), Length, tunnel, session, Ns, Nr */
#define CTL(len, tid, sid, ns, nr)                                             \
	0xc8, 0x02, B2(len), B2(tid), B2(sid), B2(ns), B2(nr)
/* AVP header with the M bit (AM) or without (AO): flags|length, vendor 0, type */
#define AM(len, type)                                                          \
	(uint8_t)(0x80 | ((len) >> 8)), (uint8_t)((len)&0xff), 0, 0, 0, (type)
#define AO(len, type)                                                          \
	(uint8_t)((len) >> 8), (uint8_t)((len)&0xff), 0, 0, 0, (type)

#endif
