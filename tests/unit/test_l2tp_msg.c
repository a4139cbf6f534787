/* Control message decode/encode rules: every AVP and message-level rejection
 * path (RFC 2661 sections 4.1, 4.3, 4.4.1, 6), vendor and unknown AVPs, hidden
 * AVPs inside messages, and encoder refusals. Packets are assembled here byte
 * by byte (pkt_*), not with the encoder under test. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "l2tp_hidden.h"
#include "l2tp_msg.h"

struct pkt {
	uint8_t b[1024];
	size_t len;
};

static void pkt_start(struct pkt *p, uint16_t tid, uint16_t sid)
{
	static const uint8_t hdr[12] = {0xc8, 0x02, 0, 0, 0, 0,
					0,    0,    0, 0, 0, 0};
	memcpy(p->b, hdr, 12);
	p->b[4] = (uint8_t)(tid >> 8);
	p->b[5] = (uint8_t)tid;
	p->b[6] = (uint8_t)(sid >> 8);
	p->b[7] = (uint8_t)sid;
	p->len = 12;
}

/* flags: high bits of the first AVP word (M 0x8000, H 0x4000, reserved) */
static void pkt_avp_len(struct pkt *p, uint16_t flags, uint16_t vendor,
			uint16_t type, const void *v, size_t vlen, size_t alen)
{
	uint8_t *a = p->b + p->len;
	a[0] = (uint8_t)((flags | alen) >> 8);
	a[1] = (uint8_t)(flags | alen);
	a[2] = (uint8_t)(vendor >> 8);
	a[3] = (uint8_t)vendor;
	a[4] = (uint8_t)(type >> 8);
	a[5] = (uint8_t)type;
	if (vlen)
		memcpy(a + 6, v, vlen);
	p->len += 6 + vlen;
}

static void pkt_avp(struct pkt *p, uint16_t flags, uint16_t vendor,
		    uint16_t type, const void *v, size_t vlen)
{
	pkt_avp_len(p, flags, vendor, type, v, vlen, 6 + vlen);
}

static void pkt_u16(struct pkt *p, uint16_t flags, uint16_t type, uint16_t v)
{
	uint8_t b[2] = {(uint8_t)(v >> 8), (uint8_t)v};
	pkt_avp(p, flags, 0, type, b, 2);
}

static void pkt_u32(struct pkt *p, uint16_t flags, uint16_t type, uint32_t v)
{
	uint8_t b[4] = {(uint8_t)(v >> 24), (uint8_t)(v >> 16),
			(uint8_t)(v >> 8), (uint8_t)v};
	pkt_avp(p, flags, 0, type, b, 4);
}

static void pkt_finish(struct pkt *p)
{
	p->b[2] = (uint8_t)(p->len >> 8);
	p->b[3] = (uint8_t)p->len;
}

#define M 0x8000
#define H 0x4000

/* A valid SCCRQ body after its Message Type AVP. */
static void pkt_sccrq_body(struct pkt *p)
{
	pkt_avp(p, M, 0, L2TP_AVP_PROTOCOL_VERSION, "\x01\x00", 2);
	pkt_avp(p, M, 0, L2TP_AVP_HOST_NAME, "lac", 3);
	pkt_u32(p, M, L2TP_AVP_FRAMING_CAPABILITIES, 3);
	pkt_u16(p, M, L2TP_AVP_ASSIGNED_TUNNEL_ID, 77);
}

static int decode(const struct pkt *p, const struct l2tp_secret *s,
		  struct l2tp_msg *m, struct l2tp_reject *rej)
{
	static uint8_t scratch[2048];
	return l2tp_msg_decode(p->b, p->len, s, scratch, sizeof(scratch), m,
			       rej);
}

static void expect_reject(const struct pkt *p, enum l2tp_reject_reason why,
			  enum l2tp_reject_scope scope)
{
	struct l2tp_msg m;
	struct l2tp_reject rej;
	assert_int_equal(decode(p, NULL, &m, &rej), -EBADMSG);
	assert_string_equal(l2tp_reject_reason_name(rej.reason),
			    l2tp_reject_reason_name(why));
	assert_string_equal(l2tp_reject_scope_name(rej.scope),
			    l2tp_reject_scope_name(scope));
}

static void test_valid_sccrq(void **state)
{
	(void)state;
	struct pkt p;
	struct l2tp_msg m;
	struct l2tp_reject rej;
	pkt_start(&p, 0, 0);
	pkt_u16(&p, M, L2TP_AVP_MESSAGE_TYPE, L2TP_MSG_SCCRQ);
	pkt_sccrq_body(&p);
	pkt_finish(&p);
	assert_int_equal(decode(&p, NULL, &m, &rej), 0);
	assert_int_equal(m.type, L2TP_MSG_SCCRQ);
	assert_int_equal(m.assigned_tunnel_id, 77);
	assert_int_equal(m.host_name.len, 3);
	assert_memory_equal(m.host_name.p, "lac", 3);
}

static void test_avp_length_below_6(void **state)
{
	(void)state;
	struct pkt p;
	pkt_start(&p, 0, 0);
	pkt_u16(&p, M, L2TP_AVP_MESSAGE_TYPE, L2TP_MSG_SCCRQ);
	pkt_avp_len(&p, M, 0, L2TP_AVP_HOST_NAME, "ab", 2, 5); /* length 5 */
	pkt_finish(&p);
	expect_reject(&p, L2TP_REJ_AVP_LENGTH_SHORT, L2TP_SCOPE_DROP);
	/* length 0 must not loop forever either */
	pkt_start(&p, 0, 0);
	pkt_u16(&p, M, L2TP_AVP_MESSAGE_TYPE, L2TP_MSG_SCCRQ);
	pkt_avp_len(&p, 0, 0, 0, NULL, 0, 0);
	pkt_finish(&p);
	expect_reject(&p, L2TP_REJ_AVP_LENGTH_SHORT, L2TP_SCOPE_DROP);
}

static void test_avp_length_beyond(void **state)
{
	(void)state;
	struct pkt p;
	pkt_start(&p, 0, 0);
	pkt_u16(&p, M, L2TP_AVP_MESSAGE_TYPE, L2TP_MSG_SCCRQ);
	pkt_avp_len(&p, M, 0, L2TP_AVP_HOST_NAME, "abc", 3, 40);
	pkt_finish(&p);
	expect_reject(&p, L2TP_REJ_AVP_LENGTH_BEYOND, L2TP_SCOPE_DROP);
}

static void test_avp_truncated_header(void **state)
{
	(void)state;
	struct pkt p;
	pkt_start(&p, 0, 0);
	pkt_u16(&p, M, L2TP_AVP_MESSAGE_TYPE, L2TP_MSG_HELLO);
	p.b[p.len++] = 0x80; /* 3 stray bytes: not even an AVP header */
	p.b[p.len++] = 0x08;
	p.b[p.len++] = 0x00;
	pkt_finish(&p);
	expect_reject(&p, L2TP_REJ_AVP_TRUNCATED, L2TP_SCOPE_DROP);
}

static void test_truncated_fixed_fields(void **state)
{
	(void)state;
	struct pkt p;
	struct l2tp_msg m;
	struct l2tp_reject rej;
	/* Assigned Tunnel ID with one byte of its two */
	pkt_start(&p, 0, 0);
	pkt_u16(&p, M, L2TP_AVP_MESSAGE_TYPE, L2TP_MSG_SCCRQ);
	pkt_avp(&p, M, 0, L2TP_AVP_PROTOCOL_VERSION, "\x01\x00", 2);
	pkt_avp(&p, M, 0, L2TP_AVP_ASSIGNED_TUNNEL_ID, "\x01", 1);
	pkt_finish(&p);
	assert_int_equal(decode(&p, NULL, &m, &rej), -EBADMSG);
	assert_int_equal(rej.reason, L2TP_REJ_AVP_VALUE_LENGTH);
	assert_int_equal(rej.avp_type, L2TP_AVP_ASSIGNED_TUNNEL_ID);
	assert_int_equal(rej.scope, L2TP_SCOPE_CLEAR_TUNNEL);
	assert_int_equal(rej.result_code, L2TP_STOPCCN_GENERAL_ERROR);
	assert_int_equal(rej.error_code, L2TP_ERR_BAD_LENGTH);
	assert_int_equal(rej.offset, 28); /* 12 header + 8 + 8 */
	/* Result Code with half an error code; Call Errors 25 of 26 bytes;
	 * Message Type of 1 byte; Challenge Response of 15 bytes */
	pkt_start(&p, 1, 2);
	pkt_u16(&p, M, L2TP_AVP_MESSAGE_TYPE, L2TP_MSG_CDN);
	pkt_avp(&p, M, 0, L2TP_AVP_RESULT_CODE, "\x00\x01\x00", 3);
	pkt_u16(&p, M, L2TP_AVP_ASSIGNED_SESSION_ID, 5);
	pkt_finish(&p);
	expect_reject(&p, L2TP_REJ_AVP_VALUE_LENGTH, L2TP_SCOPE_CLEAR_SESSION);
	uint8_t ce[25] = {0};
	pkt_start(&p, 1, 2);
	pkt_u16(&p, M, L2TP_AVP_MESSAGE_TYPE, L2TP_MSG_WEN);
	pkt_avp(&p, M, 0, L2TP_AVP_CALL_ERRORS, ce, sizeof(ce));
	pkt_finish(&p);
	expect_reject(&p, L2TP_REJ_AVP_VALUE_LENGTH, L2TP_SCOPE_CLEAR_SESSION);
	pkt_start(&p, 1, 0);
	pkt_avp(&p, M, 0, L2TP_AVP_MESSAGE_TYPE, "\x06", 1);
	pkt_finish(&p);
	expect_reject(&p, L2TP_REJ_AVP_VALUE_LENGTH, L2TP_SCOPE_DROP);
	uint8_t cr[15] = {0};
	pkt_start(&p, 1, 0);
	pkt_u16(&p, M, L2TP_AVP_MESSAGE_TYPE, L2TP_MSG_SCCCN);
	pkt_avp(&p, M, 0, L2TP_AVP_CHALLENGE_RESPONSE, cr, sizeof(cr));
	pkt_finish(&p);
	expect_reject(&p, L2TP_REJ_AVP_VALUE_LENGTH, L2TP_SCOPE_CLEAR_TUNNEL);
}

static void test_first_avp_not_message_type(void **state)
{
	(void)state;
	struct pkt p;
	pkt_start(&p, 0, 0);
	pkt_avp(&p, M, 0, L2TP_AVP_HOST_NAME, "lac", 3);
	pkt_u16(&p, M, L2TP_AVP_MESSAGE_TYPE, L2TP_MSG_SCCRQ);
	pkt_finish(&p);
	expect_reject(&p, L2TP_REJ_FIRST_NOT_MESSAGE_TYPE, L2TP_SCOPE_DROP);
}

static void test_unknown_message_type(void **state)
{
	(void)state;
	struct pkt p;
	struct l2tp_msg m;
	struct l2tp_reject rej;
	pkt_start(&p, 3, 0);
	pkt_u16(&p, M, L2TP_AVP_MESSAGE_TYPE, 5); /* reserved value */
	pkt_finish(&p);
	assert_int_equal(decode(&p, NULL, &m, &rej), -EBADMSG);
	assert_int_equal(rej.reason, L2TP_REJ_UNKNOWN_MESSAGE_TYPE);
	assert_int_equal(rej.msg_type, 5);
	assert_int_equal(rej.scope, L2TP_SCOPE_CLEAR_TUNNEL);
	pkt_start(&p, 3, 0);
	pkt_u16(&p, 0, L2TP_AVP_MESSAGE_TYPE, 200); /* M clear: may ignore */
	pkt_finish(&p);
	expect_reject(&p, L2TP_REJ_UNKNOWN_MESSAGE_TYPE, L2TP_SCOPE_IGNORE);
}

static void test_unknown_mandatory_avp(void **state)
{
	(void)state;
	struct pkt p;
	struct l2tp_msg m;
	struct l2tp_reject rej;
	/* tunnel message: the tunnel is cleared, StopCCN 2/8 */
	pkt_start(&p, 0, 0);
	pkt_u16(&p, M, L2TP_AVP_MESSAGE_TYPE, L2TP_MSG_SCCRQ);
	pkt_sccrq_body(&p);
	pkt_u16(&p, M, 77, 0xbeef);
	pkt_finish(&p);
	assert_int_equal(decode(&p, NULL, &m, &rej), -EBADMSG);
	assert_int_equal(rej.reason, L2TP_REJ_AVP_UNKNOWN_MANDATORY);
	assert_int_equal(rej.avp_type, 77);
	assert_int_equal(rej.avp_vendor, 0);
	assert_int_equal(rej.msg_type, L2TP_MSG_SCCRQ);
	assert_int_equal(rej.scope, L2TP_SCOPE_CLEAR_TUNNEL);
	assert_int_equal(rej.result_code, 2);
	assert_int_equal(rej.error_code, L2TP_ERR_UNKNOWN_M_AVP);
	/* session message: only the session is cleared, CDN 2/8 */
	pkt_start(&p, 9, 0);
	pkt_u16(&p, M, L2TP_AVP_MESSAGE_TYPE, L2TP_MSG_ICRQ);
	pkt_u16(&p, M, L2TP_AVP_ASSIGNED_SESSION_ID, 4);
	pkt_u32(&p, M, L2TP_AVP_CALL_SERIAL_NUMBER, 1);
	pkt_avp(&p, M, 9, 1, "x", 1); /* vendor 9 AVP with M */
	pkt_finish(&p);
	assert_int_equal(decode(&p, NULL, &m, &rej), -EBADMSG);
	assert_int_equal(rej.reason, L2TP_REJ_AVP_UNKNOWN_MANDATORY);
	assert_int_equal(rej.avp_vendor, 9);
	assert_int_equal(rej.scope, L2TP_SCOPE_CLEAR_SESSION);
	assert_int_equal(rej.error_code, L2TP_ERR_UNKNOWN_M_AVP);
	/* reserved bits set with M: also unrecognised (RFC 2661 4.1) */
	pkt_start(&p, 9, 0);
	pkt_u16(&p, M, L2TP_AVP_MESSAGE_TYPE, L2TP_MSG_HELLO);
	pkt_avp(&p, M | 0x0400, 0, L2TP_AVP_HOST_NAME, "a", 1);
	pkt_finish(&p);
	expect_reject(&p, L2TP_REJ_AVP_UNKNOWN_MANDATORY,
		      L2TP_SCOPE_CLEAR_TUNNEL);
	/* reserved type 20 with M */
	pkt_start(&p, 9, 0);
	pkt_u16(&p, M, L2TP_AVP_MESSAGE_TYPE, L2TP_MSG_HELLO);
	pkt_u16(&p, M, 20, 1);
	pkt_finish(&p);
	expect_reject(&p, L2TP_REJ_AVP_UNKNOWN_MANDATORY,
		      L2TP_SCOPE_CLEAR_TUNNEL);
}

static void test_unknown_optional_and_vendor_avps(void **state)
{
	(void)state;
	struct pkt p;
	struct l2tp_msg m;
	struct l2tp_reject rej;
	pkt_start(&p, 9, 0);
	pkt_u16(&p, M, L2TP_AVP_MESSAGE_TYPE, L2TP_MSG_HELLO);
	pkt_u16(&p, 0, 40, 1); /* unknown, M clear */
	pkt_avp(&p, 0x0800, 0, L2TP_AVP_HOST_NAME, "a", 1); /* reserved bit */
	pkt_avp(&p, 0, 9, 0x0102, "\xde\xad", 2);	    /* vendor 9: kept */
	pkt_avp(&p, 0, 3561, 1, "circuit-7", 9);       /* Broadband Forum */
	pkt_avp(&p, M, 0, L2TP_AVP_HOST_NAME, "x", 1); /* known, not in HELLO */
	pkt_finish(&p);
	assert_int_equal(decode(&p, NULL, &m, &rej), 0);
	assert_int_equal(m.type, L2TP_MSG_HELLO);
	assert_int_equal(m.n_unexpected, 3);
	assert_int_equal(m.n_vendor, 2);
	assert_int_equal(m.vendor[0].vendor, 9);
	assert_int_equal(m.vendor[0].type, 0x0102);
	assert_int_equal(m.vendor[0].value.len, 2);
	assert_memory_equal(m.vendor[0].value.p, "\xde\xad", 2);
	assert_int_equal(m.vendor[1].vendor, 3561);
	assert_memory_equal(m.vendor[1].value.p, "circuit-7", 9);
	/* vendor AVPs survive a re-encode */
	uint8_t out[256];
	int n = l2tp_msg_encode(&m, NULL, out, sizeof(out));
	assert_true(n > 0);
	struct l2tp_msg m2;
	uint8_t scratch[256];
	assert_int_equal(l2tp_msg_decode(out, (size_t)n, NULL, scratch,
					 sizeof(scratch), &m2, &rej),
			 0);
	assert_int_equal(m2.n_vendor, 2);
	assert_memory_equal(m2.vendor[1].value.p, "circuit-7", 9);
	/* more vendor AVPs than kept: counted, not an error */
	pkt_start(&p, 9, 0);
	pkt_u16(&p, M, L2TP_AVP_MESSAGE_TYPE, L2TP_MSG_HELLO);
	for (int i = 0; i < L2TP_MAX_VENDOR_AVPS + 3; i++)
		pkt_avp(&p, 0, 9, (uint16_t)i, "v", 1);
	pkt_finish(&p);
	assert_int_equal(decode(&p, NULL, &m, &rej), 0);
	assert_int_equal(m.n_vendor, L2TP_MAX_VENDOR_AVPS);
	assert_int_equal(m.n_vendor_dropped, 3);
}

static void test_missing_required_avp(void **state)
{
	(void)state;
	struct pkt p;
	struct l2tp_msg m;
	struct l2tp_reject rej;
	pkt_start(&p, 0, 0);
	pkt_u16(&p, M, L2TP_AVP_MESSAGE_TYPE, L2TP_MSG_SCCRQ);
	pkt_avp(&p, M, 0, L2TP_AVP_PROTOCOL_VERSION, "\x01\x00", 2);
	pkt_u32(&p, M, L2TP_AVP_FRAMING_CAPABILITIES, 3);
	pkt_u16(&p, M, L2TP_AVP_ASSIGNED_TUNNEL_ID, 77);
	pkt_finish(&p); /* no Host Name */
	assert_int_equal(decode(&p, NULL, &m, &rej), -EBADMSG);
	assert_int_equal(rej.reason, L2TP_REJ_MISSING_AVP);
	assert_int_equal(rej.avp_type, L2TP_AVP_HOST_NAME);
	assert_int_equal(rej.scope, L2TP_SCOPE_CLEAR_TUNNEL);
	/* CDN without Assigned Session ID: session scope */
	pkt_start(&p, 1, 2);
	pkt_u16(&p, M, L2TP_AVP_MESSAGE_TYPE, L2TP_MSG_CDN);
	pkt_u16(&p, M, L2TP_AVP_RESULT_CODE, 3);
	pkt_finish(&p);
	assert_int_equal(decode(&p, NULL, &m, &rej), -EBADMSG);
	assert_int_equal(rej.reason, L2TP_REJ_MISSING_AVP);
	assert_int_equal(rej.avp_type, L2TP_AVP_ASSIGNED_SESSION_ID);
	assert_int_equal(rej.scope, L2TP_SCOPE_CLEAR_SESSION);
}

static void test_duplicate_avp(void **state)
{
	(void)state;
	struct pkt p;
	pkt_start(&p, 0, 0);
	pkt_u16(&p, M, L2TP_AVP_MESSAGE_TYPE, L2TP_MSG_SCCRQ);
	pkt_sccrq_body(&p);
	pkt_u16(&p, M, L2TP_AVP_ASSIGNED_TUNNEL_ID, 78);
	pkt_finish(&p);
	expect_reject(&p, L2TP_REJ_AVP_DUPLICATE, L2TP_SCOPE_CLEAR_TUNNEL);
	pkt_start(&p, 0, 0);
	pkt_u16(&p, M, L2TP_AVP_MESSAGE_TYPE, L2TP_MSG_HELLO);
	pkt_u16(&p, M, L2TP_AVP_MESSAGE_TYPE, L2TP_MSG_HELLO);
	pkt_finish(&p);
	expect_reject(&p, L2TP_REJ_AVP_DUPLICATE, L2TP_SCOPE_CLEAR_TUNNEL);
}

static void test_data_message_and_scratch(void **state)
{
	(void)state;
	static const uint8_t data[] = {0x00, 0x02, 0, 1, 0, 1, 0xff, 0x03};
	struct l2tp_msg m;
	struct l2tp_reject rej;
	uint8_t scratch[64];
	assert_int_equal(l2tp_msg_decode(data, sizeof(data), NULL, scratch,
					 sizeof(scratch), &m, &rej),
			 -EBADMSG);
	assert_int_equal(rej.reason, L2TP_REJ_NOT_CONTROL);
	struct pkt p;
	pkt_start(&p, 0, 0);
	pkt_u16(&p, M, L2TP_AVP_MESSAGE_TYPE, L2TP_MSG_HELLO);
	pkt_finish(&p);
	assert_int_equal(
		l2tp_msg_decode(p.b, p.len, NULL, scratch, p.len - 1, &m, &rej),
		-EBADMSG);
	assert_int_equal(rej.reason, L2TP_REJ_SCRATCH_TOO_SMALL);
	/* rej may be NULL */
	assert_int_equal(l2tp_msg_decode(p.b, p.len, NULL, scratch,
					 sizeof(scratch), &m, NULL),
			 0);
}

static const uint8_t rv16[16] = "0123456789abcdef";
static const struct l2tp_secret sec = {(const uint8_t *)"sesame", 6};

/* A hidden AVP assembled by hand: RV first, then the hidden value. */
static void pkt_hidden(struct pkt *p, uint16_t type, const void *v, size_t vlen,
		       size_t truncate_to)
{
	uint8_t hid[128];
	int n = l2tp_hidden_hide(type, sec.p, sec.len, rv16, 16, v, vlen, NULL,
				 0, hid, sizeof(hid));
	assert_true(n > 0);
	pkt_avp(p, M | H, 0, type, hid, truncate_to ? truncate_to : (size_t)n);
}

static void test_hidden_in_message(void **state)
{
	(void)state;
	struct pkt p;
	struct l2tp_msg m;
	struct l2tp_reject rej;
	pkt_start(&p, 0, 0);
	pkt_u16(&p, M, L2TP_AVP_MESSAGE_TYPE, L2TP_MSG_SCCRQ);
	pkt_avp(&p, M, 0, L2TP_AVP_RANDOM_VECTOR, rv16, 16);
	pkt_avp(&p, M, 0, L2TP_AVP_PROTOCOL_VERSION, "\x01\x00", 2);
	pkt_avp(&p, M, 0, L2TP_AVP_HOST_NAME, "lac", 3);
	pkt_u32(&p, M, L2TP_AVP_FRAMING_CAPABILITIES, 3);
	pkt_hidden(&p, L2TP_AVP_ASSIGNED_TUNNEL_ID, "\x00\x4d", 2, 0);
	pkt_hidden(&p, L2TP_AVP_VENDOR_NAME, "hidden vendor name", 18, 0);
	pkt_finish(&p);
	assert_int_equal(decode(&p, &sec, &m, &rej), 0);
	assert_int_equal(m.assigned_tunnel_id, 77);
	assert_int_equal(m.vendor_name.len, 18);
	assert_memory_equal(m.vendor_name.p, "hidden vendor name", 18);
	assert_int_equal(m.hidden, l2tp_avp_bit(L2TP_AVP_ASSIGNED_TUNNEL_ID) |
					   l2tp_avp_bit(L2TP_AVP_VENDOR_NAME));
	/* no secret configured */
	assert_int_equal(decode(&p, NULL, &m, &rej), -EBADMSG);
	assert_int_equal(rej.reason, L2TP_REJ_HIDDEN_NO_SECRET);
	assert_int_equal(rej.scope, L2TP_SCOPE_CLEAR_TUNNEL);
	/* wrong secret: the sub-length check after unhiding catches it */
	const struct l2tp_secret wrong = {(const uint8_t *)"sesamf", 6};
	assert_int_equal(decode(&p, &wrong, &m, &rej), -EBADMSG);
	assert_int_equal(rej.reason, L2TP_REJ_HIDDEN_BAD_LENGTH);
}

static void test_hidden_bad_sub_length_in_message(void **state)
{
	(void)state;
	struct pkt p;
	struct l2tp_msg m;
	struct l2tp_reject rej;
	/* Host Name "abcdef" hidden, then cut to 5 of its 8 hidden bytes:
	 * the original length (6) no longer fits */
	pkt_start(&p, 0, 0);
	pkt_u16(&p, M, L2TP_AVP_MESSAGE_TYPE, L2TP_MSG_HELLO);
	pkt_avp(&p, M, 0, L2TP_AVP_RANDOM_VECTOR, rv16, 16);
	pkt_hidden(&p, L2TP_AVP_VENDOR_NAME, "abcdef", 6, 5);
	pkt_finish(&p);
	assert_int_equal(decode(&p, &sec, &m, &rej), -EBADMSG);
	assert_int_equal(rej.reason, L2TP_REJ_HIDDEN_BAD_LENGTH);
	assert_int_equal(rej.avp_type, L2TP_AVP_VENDOR_NAME);
	/* hidden value of 1 byte: not even the original-length field */
	pkt_start(&p, 0, 0);
	pkt_u16(&p, M, L2TP_AVP_MESSAGE_TYPE, L2TP_MSG_HELLO);
	pkt_avp(&p, M, 0, L2TP_AVP_RANDOM_VECTOR, rv16, 16);
	pkt_hidden(&p, L2TP_AVP_VENDOR_NAME, "abcdef", 6, 1);
	pkt_finish(&p);
	assert_int_equal(decode(&p, &sec, &m, &rej), -EBADMSG);
	assert_int_equal(rej.reason, L2TP_REJ_HIDDEN_BAD_LENGTH);
	/* unhidden length valid for the hiding but wrong for the type:
	 * Assigned Tunnel ID of 3 bytes */
	pkt_start(&p, 0, 0);
	pkt_u16(&p, M, L2TP_AVP_MESSAGE_TYPE, L2TP_MSG_STOPCCN);
	pkt_avp(&p, M, 0, L2TP_AVP_RANDOM_VECTOR, rv16, 16);
	pkt_u16(&p, M, L2TP_AVP_RESULT_CODE, 1);
	pkt_hidden(&p, L2TP_AVP_ASSIGNED_TUNNEL_ID, "\x00\x01\x02", 3, 0);
	pkt_finish(&p);
	assert_int_equal(decode(&p, &sec, &m, &rej), -EBADMSG);
	assert_int_equal(rej.reason, L2TP_REJ_AVP_VALUE_LENGTH);
}

static void test_hidden_without_vector(void **state)
{
	(void)state;
	struct pkt p;
	struct l2tp_msg m;
	struct l2tp_reject rej;
	pkt_start(&p, 0, 0);
	pkt_u16(&p, M, L2TP_AVP_MESSAGE_TYPE, L2TP_MSG_HELLO);
	pkt_hidden(&p, L2TP_AVP_VENDOR_NAME, "abc", 3, 0);
	pkt_avp(&p, M, 0, L2TP_AVP_RANDOM_VECTOR, rv16, 16); /* too late */
	pkt_finish(&p);
	assert_int_equal(decode(&p, &sec, &m, &rej), -EBADMSG);
	assert_int_equal(rej.reason, L2TP_REJ_HIDDEN_NO_VECTOR);
	/* a hidden Random Vector makes no sense */
	pkt_start(&p, 0, 0);
	pkt_u16(&p, M, L2TP_AVP_MESSAGE_TYPE, L2TP_MSG_HELLO);
	pkt_avp(&p, M | H, 0, L2TP_AVP_RANDOM_VECTOR, rv16, 16);
	pkt_finish(&p);
	assert_int_equal(decode(&p, &sec, &m, &rej), -EBADMSG);
	assert_int_equal(rej.reason, L2TP_REJ_HIDDEN_NOT_ALLOWED);
	/* Host Name, Protocol Version, Tie Breaker, Result Code "MUST NOT be
	 * hidden" (RFC 2661 4.4): refused even with a valid vector */
	static const uint16_t never[] = {
		L2TP_AVP_HOST_NAME, L2TP_AVP_PROTOCOL_VERSION,
		L2TP_AVP_TIE_BREAKER, L2TP_AVP_RESULT_CODE};
	static const uint8_t val8[8] = {1, 0, 0, 0, 0, 0, 0, 1};
	for (size_t i = 0; i < sizeof(never) / sizeof(never[0]); i++) {
		pkt_start(&p, 0, 0);
		pkt_u16(&p, M, L2TP_AVP_MESSAGE_TYPE, L2TP_MSG_STOPCCN);
		pkt_avp(&p, M, 0, L2TP_AVP_RANDOM_VECTOR, rv16, 16);
		pkt_hidden(&p, never[i], val8,
			   never[i] == L2TP_AVP_TIE_BREAKER ? 8 : 2, 0);
		pkt_finish(&p);
		assert_int_equal(decode(&p, &sec, &m, &rej), -EBADMSG);
		assert_int_equal(rej.reason, L2TP_REJ_HIDDEN_NOT_ALLOWED);
		assert_int_equal(rej.avp_type, never[i]);
	}
}

static void test_encode_hidden_round_trip(void **state)
{
	(void)state;
	struct l2tp_msg m, back;
	struct l2tp_reject rej;
	memset(&m, 0, sizeof(m));
	m.type = L2TP_MSG_ICCN;
	m.hdr.tunnel_id = 5;
	m.hdr.session_id = 6;
	l2tp_msg_set(&m, L2TP_AVP_TX_CONNECT_SPEED);
	l2tp_msg_set(&m, L2TP_AVP_FRAMING_TYPE);
	l2tp_msg_set(&m, L2TP_AVP_PROXY_AUTHEN_TYPE);
	l2tp_msg_set(&m, L2TP_AVP_PROXY_AUTHEN_NAME);
	l2tp_msg_set(&m, L2TP_AVP_PROXY_AUTHEN_RESPONSE);
	m.tx_connect_speed = 1234567;
	m.framing_type = 1;
	m.proxy_authen_type = 2;
	m.proxy_authen_name =
		(struct l2tp_bytes){(const uint8_t *)"alice@isp", 9};
	m.proxy_authen_response =
		(struct l2tp_bytes){(const uint8_t *)"0123456789abcdefXYZ", 19};
	m.hidden = l2tp_avp_bit(L2TP_AVP_PROXY_AUTHEN_NAME) |
		   l2tp_avp_bit(L2TP_AVP_PROXY_AUTHEN_RESPONSE) |
		   l2tp_avp_bit(L2TP_AVP_TX_CONNECT_SPEED);
	struct l2tp_encode_opts o = {
		.secret = sec, .random_vector = {rv16, 16}, .hide_pad = 7};
	uint8_t buf[512], scratch[512];
	int n = l2tp_msg_encode(&m, &o, buf, sizeof(buf));
	assert_true(n > 0);
	/* the Random Vector AVP directly follows Message Type */
	assert_int_equal(buf[12 + 8 + 5], L2TP_AVP_RANDOM_VECTOR);
	assert_int_equal(l2tp_msg_decode(buf, (size_t)n, &sec, scratch,
					 sizeof(scratch), &back, &rej),
			 0);
	assert_int_equal(back.hidden, m.hidden);
	assert_int_equal(back.tx_connect_speed, 1234567);
	assert_int_equal(back.proxy_authen_name.len, 9);
	assert_memory_equal(back.proxy_authen_name.p, "alice@isp", 9);
	assert_memory_equal(back.proxy_authen_response.p, "0123456789abcdefXYZ",
			    19);
	/* the plain text is nowhere in the packet */
	assert_null(memmem(buf, (size_t)n, "alice", 5));
}

static void test_encode_refusals(void **state)
{
	(void)state;
	struct l2tp_msg m;
	uint8_t buf[256];
	memset(&m, 0, sizeof(m));
	m.type = L2TP_MSG_SCCRQ; /* nothing else: required AVPs missing */
	assert_int_equal(l2tp_msg_encode(&m, NULL, buf, sizeof(buf)), -EINVAL);
	m.type = 5; /* unknown message type */
	assert_int_equal(l2tp_msg_encode(&m, NULL, buf, sizeof(buf)), -EINVAL);
	/* error message without an error code */
	memset(&m, 0, sizeof(m));
	m.type = L2TP_MSG_STOPCCN;
	l2tp_msg_set(&m, L2TP_AVP_ASSIGNED_TUNNEL_ID);
	l2tp_msg_set(&m, L2TP_AVP_RESULT_CODE);
	m.result_code.result = 1;
	m.result_code.message = (struct l2tp_bytes){(const uint8_t *)"x", 1};
	assert_int_equal(l2tp_msg_encode(&m, NULL, buf, sizeof(buf)), -EINVAL);
	m.result_code.has_error = true;
	assert_true(l2tp_msg_encode(&m, NULL, buf, sizeof(buf)) > 0);
	/* hiding: Result Code may not be hidden; no secret; no vector */
	struct l2tp_encode_opts o = {.secret = sec,
				     .random_vector = {rv16, 16}};
	m.hidden = l2tp_avp_bit(L2TP_AVP_RESULT_CODE);
	assert_int_equal(l2tp_msg_encode(&m, &o, buf, sizeof(buf)), -EINVAL);
	m.hidden = l2tp_avp_bit(L2TP_AVP_ASSIGNED_TUNNEL_ID);
	assert_true(l2tp_msg_encode(&m, &o, buf, sizeof(buf)) > 0);
	assert_int_equal(l2tp_msg_encode(&m, NULL, buf, sizeof(buf)), -EINVAL);
	o.random_vector.len = 0;
	assert_int_equal(l2tp_msg_encode(&m, &o, buf, sizeof(buf)), -EINVAL);
	/* a Challenge Response must be exactly 16 bytes */
	memset(&m, 0, sizeof(m));
	m.type = L2TP_MSG_SCCCN;
	l2tp_msg_set(&m, L2TP_AVP_CHALLENGE_RESPONSE);
	m.challenge_response = (struct l2tp_bytes){rv16, 15};
	assert_int_equal(l2tp_msg_encode(&m, NULL, buf, sizeof(buf)), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_valid_sccrq),
		cmocka_unit_test(test_avp_length_below_6),
		cmocka_unit_test(test_avp_length_beyond),
		cmocka_unit_test(test_avp_truncated_header),
		cmocka_unit_test(test_truncated_fixed_fields),
		cmocka_unit_test(test_first_avp_not_message_type),
		cmocka_unit_test(test_unknown_message_type),
		cmocka_unit_test(test_unknown_mandatory_avp),
		cmocka_unit_test(test_unknown_optional_and_vendor_avps),
		cmocka_unit_test(test_missing_required_avp),
		cmocka_unit_test(test_duplicate_avp),
		cmocka_unit_test(test_data_message_and_scratch),
		cmocka_unit_test(test_hidden_in_message),
		cmocka_unit_test(test_hidden_bad_sub_length_in_message),
		cmocka_unit_test(test_hidden_without_vector),
		cmocka_unit_test(test_encode_hidden_round_trip),
		cmocka_unit_test(test_encode_refusals),
	};
	return cmocka_run_group_tests_name("l2tp_msg", tests, NULL, NULL);
}
