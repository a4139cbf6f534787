/* Test helper for the tshark cross-check: encodes one control message of every
 * RFC 2661 type (every AVP section 6 allows, distinctive values), hidden-AVP
 * messages and data messages into a classic pcap, and writes the values it
 * encoded as one key=value line per frame (the tandem-l2tpdump vocabulary). */
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "l2tp_avp.h"
#include "l2tp_const.h"
#include "l2tp_header.h"
#include "l2tp_msg.h"
#include "pcapgen_rfc.h"

#define PCAPGEN_MAX_FRAME 2048
#define PCAPGEN_POOL_LEN  8192
#define PCAPGEN_LINE_LEN  8192
#define PCAPGEN_TS_BASE	  1700000000u /* fixed capture time: stable output */

/* Part of an expected line: space-separated key=value pairs. */
struct pcapgen_line {
	char buf[PCAPGEN_LINE_LEN]; /* NUL-terminated text */
	size_t len;		    /* bytes used in buf */
};

struct pcapgen {
	FILE *pcap;			/* output capture */
	FILE *exp;			/* output expected-values file */
	unsigned linktype;		/* LINKTYPE_* of the capture */
	bool ipv6;			/* ::1 instead of 127.0.0.1 */
	bool big_endian;		/* big-endian nanosecond pcap variant */
	bool edge;			/* edge values: empty strings, short
					   Result Code, vendor AVPs */
	struct l2tp_secret secret;	/* for the hidden-AVP messages */
	unsigned frame;			/* frames written so far */
	struct pcapgen_line hdr;	/* addressing and header keys */
	struct pcapgen_line avp;	/* message and AVP keys */
	uint8_t pool[PCAPGEN_POOL_LEN]; /* AVP byte values of this message */
	size_t pool_len;		/* bytes used in pool */
};

static void pcapgen_kv(struct pcapgen_line *l, const char *key, const char *fmt,
		       ...) __attribute__((format(printf, 3, 4)));

/* Append " key=value" to l. */
static void pcapgen_kv(struct pcapgen_line *l, const char *key, const char *fmt,
		       ...)
{
	va_list ap;
	size_t cap = sizeof(l->buf) - l->len;
	int n = snprintf(l->buf + l->len, cap, "%s%s=", l->len ? " " : "", key);
	if (n < 0 || (size_t)n >= cap)
		goto overflow;
	l->len += (size_t)n;
	cap -= (size_t)n;
	va_start(ap, fmt);
	n = vsnprintf(l->buf + l->len, cap, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= cap)
		goto overflow;
	l->len += (size_t)n;
	return;
overflow:
	fprintf(stderr, "pcapgen: expected line overflow at key %s\n", key);
	exit(1);
}

/* Copy len bytes into the message pool; the bytes live until the next
 * message, which is long enough for l2tp_msg_encode. */
static struct l2tp_bytes pcapgen_pool_put(struct pcapgen *g, const void *p,
					  size_t len)
{
	struct l2tp_bytes b = {NULL, 0};
	if (g->pool_len + len > sizeof(g->pool)) {
		fprintf(stderr, "pcapgen: value pool exhausted\n");
		exit(1);
	}
	if (len) {
		memcpy(g->pool + g->pool_len, p, len);
		b.p = g->pool + g->pool_len;
		b.len = (uint16_t)len;
		g->pool_len += len;
	}
	return b;
}

/* A printable text value: quoted in the expected line (no escapes needed
 * since the generator only uses letters, digits, space, '-', '@' and '.'). */
static struct l2tp_bytes pcapgen_text(struct pcapgen *g, const char *key,
				      const char *fmt, unsigned salt)
{
	char s[128];
	int n = snprintf(s, sizeof(s), fmt, salt);
	pcapgen_kv(&g->avp, key, "\"%s\"", s);
	return pcapgen_pool_put(g, s, (size_t)n);
}

/* An opaque value: hex in the expected line. */
static struct l2tp_bytes pcapgen_octets(struct pcapgen *g, const char *key,
					const uint8_t *p, size_t len)
{
	char hex[2 * 64 + 1];
	for (size_t i = 0; i < len && i < 64; i++)
		snprintf(hex + 2 * i, 3, "%02x", p[i]);
	hex[2 * (len < 64 ? len : 64)] = '\0';
	pcapgen_kv(&g->avp, key, "%s", hex);
	return pcapgen_pool_put(g, p, len);
}

/* n bytes counting up from `first`: distinctive and easy to spot. */
static struct l2tp_bytes pcapgen_ramp(struct pcapgen *g, const char *key,
				      uint8_t first, size_t n)
{
	uint8_t b[64];
	for (size_t i = 0; i < n && i < sizeof(b); i++)
		b[i] = (uint8_t)(first + i);
	return pcapgen_octets(g, key, b, n < sizeof(b) ? n : sizeof(b));
}

/* How pcapgen_fill_avp makes a value. */
enum pcapgen_how {
	PCAPGEN_FIXED,	/* integer `base` (bitmaps: bits tshark shows) */
	PCAPGEN_SALTED, /* integer `base` + salt */
	PCAPGEN_TEXT,	/* text from the `text` format and the salt */
	PCAPGEN_RAMP,	/* 16 bytes counting up from `base` + salt */
};

/* Values of the AVPs with a single integer, text or octet-string value; the
 * others are written out in pcapgen_fill_avp. */
static const struct pcapgen_value {
	uint8_t type;	  /* AVP type */
	uint8_t how;	  /* enum pcapgen_how */
	uint32_t base;	  /* integer value, or first byte of a ramp */
	const char *text; /* printf format of a text value, %u is the salt */
} pcapgen_values[] = {
	{L2TP_AVP_FRAMING_CAPABILITIES, PCAPGEN_FIXED, 3, NULL},
	{L2TP_AVP_BEARER_CAPABILITIES, PCAPGEN_FIXED, 2, NULL},
	{L2TP_AVP_FIRMWARE_REVISION, PCAPGEN_SALTED, 0x0a00, NULL},
	{L2TP_AVP_HOST_NAME, PCAPGEN_TEXT, 0, "lac-%u.example"},
	{L2TP_AVP_VENDOR_NAME, PCAPGEN_TEXT, 0, "tandem vendor %u"},
	{L2TP_AVP_ASSIGNED_TUNNEL_ID, PCAPGEN_SALTED, 0x1200, NULL},
	{L2TP_AVP_RECEIVE_WINDOW_SIZE, PCAPGEN_SALTED, 8, NULL},
	{L2TP_AVP_CHALLENGE_RESPONSE, PCAPGEN_RAMP, 0x30, NULL},
	{L2TP_AVP_ASSIGNED_SESSION_ID, PCAPGEN_SALTED, 0x3300, NULL},
	{L2TP_AVP_CALL_SERIAL_NUMBER, PCAPGEN_SALTED, 0xdead0000u, NULL},
	{L2TP_AVP_MINIMUM_BPS, PCAPGEN_SALTED, 9600, NULL},
	{L2TP_AVP_MAXIMUM_BPS, PCAPGEN_SALTED, 100000000, NULL},
	{L2TP_AVP_BEARER_TYPE, PCAPGEN_FIXED, 1, NULL},
	{L2TP_AVP_FRAMING_TYPE, PCAPGEN_FIXED, 2, NULL},
	{L2TP_AVP_CALLED_NUMBER, PCAPGEN_TEXT, 0, "555010%u"},
	{L2TP_AVP_CALLING_NUMBER, PCAPGEN_TEXT, 0, "555020%u"},
	{L2TP_AVP_SUB_ADDRESS, PCAPGEN_TEXT, 0, "sub-%u"},
	{L2TP_AVP_TX_CONNECT_SPEED, PCAPGEN_SALTED, 56000, NULL},
	{L2TP_AVP_PHYSICAL_CHANNEL_ID, PCAPGEN_SALTED, 0x00c0ff00, NULL},
	{L2TP_AVP_PROXY_AUTHEN_TYPE, PCAPGEN_FIXED, 2, NULL}, /* PPP CHAP */
	{L2TP_AVP_PROXY_AUTHEN_NAME, PCAPGEN_TEXT, 0, "user%u@realm.example"},
	{L2TP_AVP_PROXY_AUTHEN_CHALLENGE, PCAPGEN_RAMP, 0x60, NULL},
	/* reserved octet 0, then the ID octet (RFC 2661 4.4.5) */
	{L2TP_AVP_PROXY_AUTHEN_ID, PCAPGEN_SALTED, 0x40, NULL},
	{L2TP_AVP_PROXY_AUTHEN_RESPONSE, PCAPGEN_RAMP, 0x90, NULL},
	{L2TP_AVP_RANDOM_VECTOR, PCAPGEN_RAMP, 0xe0, NULL},
	{L2TP_AVP_RX_CONNECT_SPEED, PCAPGEN_SALTED, 33600, NULL},
};

/* The expected-file key of an AVP: its l2tp_const.h name in lower case. */
static const char *pcapgen_key(unsigned type)
{
	static char key[64];
	const char *name = l2tp_avp_type_name(type);
	size_t i;
	for (i = 0; name[i] && i + 1 < sizeof(key); i++)
		key[i] = (char)(name[i] >= 'A' && name[i] <= 'Z'
					? name[i] - 'A' + 'a'
					: name[i]);
	key[i] = '\0';
	return key;
}

/* Fill a pcapgen_values[] AVP; false when `type` has no entry. */
static bool pcapgen_fill_value(struct pcapgen *g, struct l2tp_msg *m,
			       const struct l2tp_avp_info *ai, unsigned salt)
{
	void *field = (uint8_t *)m + ai->field_off;
	const char *key = pcapgen_key(ai->type);
	const struct pcapgen_value *v = NULL;

	for (size_t i = 0; i < sizeof(pcapgen_values) / sizeof(*v); i++)
		if (pcapgen_values[i].type == ai->type)
			v = &pcapgen_values[i];
	if (!v)
		return false;
	if (v->how == PCAPGEN_TEXT) {
		*(struct l2tp_bytes *)field =
			pcapgen_text(g, key, v->text, salt);
	} else if (v->how == PCAPGEN_RAMP) {
		*(struct l2tp_bytes *)field =
			pcapgen_ramp(g, key, (uint8_t)(v->base + salt), 16);
	} else {
		uint32_t n = v->base + (v->how == PCAPGEN_SALTED ? salt : 0);
		if (ai->kind == L2TP_KIND_U16)
			*(uint16_t *)field = (uint16_t)n;
		else
			*(uint32_t *)field = n;
		pcapgen_kv(&g->avp, key, "%u", n);
	}
	return true;
}

/* Fill AVP `type` of m with a value derived from salt (the message type, so
 * every message carries different numbers) and record it as expected. LCP
 * CONFREQ values are well-formed LCP options because tshark dissects them
 * (RFC 2661 4.4.5: the value starts at the first option). */
static void pcapgen_fill_avp(struct pcapgen *g, struct l2tp_msg *m,
			     unsigned type, unsigned salt)
{
	static const uint8_t lcp_initial[] = {0x01, 0x04, 0x05, 0xdc, 0x05,
					      0x06, 0x11, 0x22, 0x33, 0x44};
	static const uint8_t lcp_sent[] = {0x03, 0x05, 0xc2, 0x23, 0x05, 0x05,
					   0x06, 0x55, 0x66, 0x77, 0x88};
	static const uint8_t lcp_recv[] = {0x02, 0x06, 0x00, 0x00, 0x00,
					   0x00, 0x07, 0x02, 0x08, 0x02};
	static const uint8_t group[] = {'g', 'r', 'p', 0x00, 0x7f, 0xfe};
	const struct l2tp_avp_info *ai = l2tp_avp_info_get(type);
	struct l2tp_call_errors *ce = &m->call_errors;

	if (!ai) {
		fprintf(stderr, "pcapgen: no AVP type %u\n", type);
		exit(1);
	}
	l2tp_msg_set(m, type);
	if (g->edge && ai->kind == L2TP_KIND_BYTES && ai->min_len == 0) {
		/* Edge case: an empty value where RFC 2661 allows one; the
		 * field stays {NULL, 0}. */
		bool text = type == L2TP_AVP_VENDOR_NAME ||
			    type == L2TP_AVP_CALLED_NUMBER ||
			    type == L2TP_AVP_CALLING_NUMBER ||
			    type == L2TP_AVP_SUB_ADDRESS ||
			    type == L2TP_AVP_PROXY_AUTHEN_NAME;
		pcapgen_kv(&g->avp, pcapgen_key(type), "%s",
			   text ? "\"\"" : "");
		return;
	}
	if (pcapgen_fill_value(g, m, ai, salt))
		return;

	switch (type) {
	case L2TP_AVP_MESSAGE_TYPE:
		break; /* m->type, written by the caller */
	case L2TP_AVP_RESULT_CODE:
		m->result_code.result = m->type == L2TP_MSG_STOPCCN
						? L2TP_STOPCCN_GENERAL_ERROR
						: L2TP_CDN_ADMIN;
		m->result_code.has_error = true;
		m->result_code.error = m->type == L2TP_MSG_STOPCCN
					       ? L2TP_ERR_VENDOR
					       : L2TP_ERR_TRY_ANOTHER;
		pcapgen_kv(&g->avp, "result", "%u", m->result_code.result);
		/* Edge: StopCCN with the result code alone, CDN without the
		 * error message (RFC 2661 4.4.2: both optional). */
		if (g->edge && m->type == L2TP_MSG_STOPCCN) {
			m->result_code.has_error = false;
			break;
		}
		pcapgen_kv(&g->avp, "error", "%u", m->result_code.error);
		if (!g->edge)
			m->result_code.message = pcapgen_text(
				g, "error_msg", "error text %u", salt);
		break;
	case L2TP_AVP_PROTOCOL_VERSION:
		m->protocol_version = 0x0100; /* RFC 2661 4.4.3: 1.0 */
		pcapgen_kv(&g->avp, "protocol_version", "1");
		pcapgen_kv(&g->avp, "protocol_revision", "0");
		break;
	case L2TP_AVP_TIE_BREAKER:
		m->tie_breaker = 0x0123456789abcdefull + salt;
		pcapgen_kv(&g->avp, "tie_breaker", "0x%016llx",
			   (unsigned long long)m->tie_breaker);
		break;
	case L2TP_AVP_CHALLENGE: /* odd lengths too: 16 + salt bytes */
		m->challenge = pcapgen_ramp(g, "challenge",
					    (uint8_t)(0xc0 + salt), 16 + salt);
		break;
	case L2TP_AVP_Q931_CAUSE_CODE:
		m->q931_cause.cause = (uint16_t)(0x0110 + salt);
		m->q931_cause.msg = 0x5a;
		pcapgen_kv(&g->avp, "q931_cause", "%u", m->q931_cause.cause);
		pcapgen_kv(&g->avp, "q931_msg", "%u", m->q931_cause.msg);
		if (!g->edge) /* edge: no advisory message */
			m->q931_cause.advisory = pcapgen_text(
				g, "q931_advisory", "advisory %u", salt);
		break;
	case L2TP_AVP_INITIAL_RECEIVED_LCP_CONFREQ:
		m->initial_received_lcp_confreq = pcapgen_octets(
			g, pcapgen_key(type), lcp_initial, sizeof(lcp_initial));
		break;
	case L2TP_AVP_LAST_SENT_LCP_CONFREQ:
		m->last_sent_lcp_confreq = pcapgen_octets(
			g, pcapgen_key(type), lcp_sent, sizeof(lcp_sent));
		break;
	case L2TP_AVP_LAST_RECEIVED_LCP_CONFREQ:
		m->last_received_lcp_confreq = pcapgen_octets(
			g, pcapgen_key(type), lcp_recv, sizeof(lcp_recv));
		break;
	case L2TP_AVP_CALL_ERRORS:
		ce->crc_errors = 1000001u + salt;
		ce->framing_errors = 2000002u + salt;
		ce->hardware_overruns = 3000003u + salt;
		ce->buffer_overruns = 4000004u + salt;
		ce->timeout_errors = 5000005u + salt;
		ce->alignment_errors = 0xfffffff0u + salt;
		pcapgen_kv(&g->avp, "crc_errors", "%u", ce->crc_errors);
		pcapgen_kv(&g->avp, "framing_errors", "%u", ce->framing_errors);
		pcapgen_kv(&g->avp, "hardware_overruns", "%u",
			   ce->hardware_overruns);
		pcapgen_kv(&g->avp, "buffer_overruns", "%u",
			   ce->buffer_overruns);
		pcapgen_kv(&g->avp, "timeout_errors", "%u", ce->timeout_errors);
		pcapgen_kv(&g->avp, "alignment_errors", "%u",
			   ce->alignment_errors);
		break;
	case L2TP_AVP_ACCM:
		m->accm.send = 0x000a0000u + salt;
		m->accm.recv = 0xa0000000u + salt;
		pcapgen_kv(&g->avp, "send_accm", "%u", m->accm.send);
		pcapgen_kv(&g->avp, "receive_accm", "%u", m->accm.recv);
		break;
	case L2TP_AVP_PRIVATE_GROUP_ID:
		m->private_group_id = pcapgen_octets(g, "private_group_id",
						     group, sizeof(group));
		break;
	case L2TP_AVP_SEQUENCING_REQUIRED:
		break; /* presence only: listed in avps= */
	default:
		fprintf(stderr, "pcapgen: no value for AVP type %u\n", type);
		exit(1);
	}
}

/* "0,2,7" for the AVP bits in mask. */
static void pcapgen_kv_types(struct pcapgen_line *l, const char *key,
			     uint64_t mask)
{
	char s[256];
	size_t n = 0;
	s[0] = '\0';
	for (unsigned t = 0; t < 64; t++)
		if (mask & l2tp_avp_bit(t))
			n += (size_t)snprintf(s + n, sizeof(s) - n, "%s%u",
					      n ? "," : "", t);
	pcapgen_kv(l, key, "%s", s);
}

static uint16_t pcapgen_csum_add(uint32_t sum, const uint8_t *p, size_t len)
{
	for (size_t i = 0; i + 1 < len; i += 2)
		sum += (uint32_t)(p[i] << 8 | p[i + 1]);
	if (len & 1)
		sum += (uint32_t)p[len - 1] << 8;
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)sum;
}

static void pcapgen_put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

/* Store a pcap header field in the file's byte order. */
static void pcapgen_put_file32(const struct pcapgen *g, uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(g->big_endian ? v >> (24 - 8 * i)
					       : v >> (8 * i));
}

static int pcapgen_write(struct pcapgen *g, const void *p, size_t len)
{
	if (fwrite(p, 1, len, g->pcap) != len)
		return -EIO;
	return 0;
}

static int pcapgen_write_file_header(struct pcapgen *g)
{
	uint8_t h[24];
	/* a1b2c3d4: microseconds; a1b23c4d: nanoseconds */
	pcapgen_put_file32(g, h, g->big_endian ? 0xa1b23c4du : 0xa1b2c3d4u);
	h[4 + (g->big_endian ? 1 : 0)] = 2; /* version 2.4 */
	h[4 + (g->big_endian ? 0 : 1)] = 0;
	h[6 + (g->big_endian ? 1 : 0)] = 4;
	h[6 + (g->big_endian ? 0 : 1)] = 0;
	pcapgen_put_file32(g, h + 8, 0);      /* thiszone */
	pcapgen_put_file32(g, h + 12, 0);     /* sigfigs */
	pcapgen_put_file32(g, h + 16, 65535); /* snaplen */
	pcapgen_put_file32(g, h + 20, g->linktype);
	return pcapgen_write(g, h, sizeof(h));
}

/* Link-layer header for an IPv4 or IPv6 packet; returns its length. */
static size_t pcapgen_link_header(const struct pcapgen *g, uint8_t *p)
{
	uint16_t ethertype = g->ipv6 ? 0x86dd : 0x0800;
	switch (g->linktype) {
	case 0: /* BSD loopback: address family in the file's byte order */
		pcapgen_put_file32(g, p, g->ipv6 ? 24 : 2);
		return 4;
	case 1: /* Ethernet II, locally administered MACs */
		memcpy(p, "\x02\x00\x00\x00\x00\x02\x02\x00\x00\x00\x00\x01",
		       12);
		pcapgen_put16(p + 12, ethertype);
		return 14;
	case 113: /* Linux cooked v1 */
		memset(p, 0, 16);
		pcapgen_put16(p, 4);	   /* sent by us */
		pcapgen_put16(p + 2, 772); /* ARPHRD_LOOPBACK */
		pcapgen_put16(p + 14, ethertype);
		return 16;
	case 276: /* Linux cooked v2 */
		memset(p, 0, 20);
		pcapgen_put16(p, ethertype);
		p[7] = 1;		   /* interface index 1 */
		pcapgen_put16(p + 8, 772); /* ARPHRD_LOOPBACK */
		p[10] = 4;		   /* sent by us */
		return 20;
	default: /* 101 raw IP, 228 raw IPv4 */
		return 0;
	}
}

/* Wrap an L2TP datagram in link/IP/UDP (127.0.0.1 or ::1, port 1701 both
 * ways, valid IPv4 and UDP checksums) and append it to the capture. */
static int pcapgen_frame(struct pcapgen *g, const uint8_t *l2tp, size_t len)
{
	uint8_t f[PCAPGEN_MAX_FRAME + 80];
	size_t off = pcapgen_link_header(g, f);
	uint8_t *ip = f + off;
	size_t ip_len = (g->ipv6 ? 40 : 20) + 8 + len;
	uint8_t *udp = ip + (g->ipv6 ? 40 : 20);
	uint32_t sum = 17 + (uint32_t)(8 + len); /* pseudo header: proto, len */

	if (len > PCAPGEN_MAX_FRAME)
		return -EMSGSIZE;
	memset(ip, 0, ip_len - len);
	if (g->ipv6) {
		ip[0] = 0x60;
		pcapgen_put16(ip + 4, (uint16_t)(8 + len));
		ip[6] = 17;
		ip[7] = 64;
		ip[23] = 1; /* ::1 */
		ip[39] = 1;
		sum = pcapgen_csum_add(sum, ip + 8, 32);
	} else {
		ip[0] = 0x45;
		pcapgen_put16(ip + 2, (uint16_t)ip_len);
		pcapgen_put16(ip + 4, (uint16_t)g->frame);
		ip[6] = 0x40; /* DF */
		ip[8] = 64;
		ip[9] = 17;
		memcpy(ip + 12, "\x7f\x00\x00\x01\x7f\x00\x00\x01", 8);
		pcapgen_put16(ip + 10, (uint16_t)~pcapgen_csum_add(0, ip, 20));
		sum = pcapgen_csum_add(sum, ip + 12, 8);
	}
	pcapgen_put16(udp, L2TP_UDP_PORT);
	pcapgen_put16(udp + 2, L2TP_UDP_PORT);
	pcapgen_put16(udp + 4, (uint16_t)(8 + len));
	memcpy(udp + 8, l2tp, len);
	uint16_t c = (uint16_t)~pcapgen_csum_add(sum, udp, 8 + len);
	pcapgen_put16(udp + 6, c ? c : 0xffff);

	size_t caplen = off + ip_len;
	uint8_t rec[16];
	g->frame++;
	pcapgen_put_file32(g, rec, PCAPGEN_TS_BASE);
	pcapgen_put_file32(g, rec + 4,
			   g->frame * (g->big_endian ? 1000000u : 1000u));
	pcapgen_put_file32(g, rec + 8, (uint32_t)caplen);
	pcapgen_put_file32(g, rec + 12, (uint32_t)caplen);
	if (pcapgen_write(g, rec, sizeof(rec)) < 0 ||
	    pcapgen_write(g, f, caplen) < 0)
		return -EIO;
	return 0;
}

/* Start the expected line of the next frame with the addressing keys. */
static void pcapgen_line_start(struct pcapgen *g)
{
	const char *a = g->ipv6 ? "[::1]" : "127.0.0.1";
	g->hdr.len = 0;
	g->hdr.buf[0] = '\0';
	pcapgen_kv(&g->hdr, "frame", "%u", g->frame + 1);
	pcapgen_kv(&g->hdr, "src", "%s:%u", a, L2TP_UDP_PORT);
	pcapgen_kv(&g->hdr, "dst", "%s:%u", a, L2TP_UDP_PORT);
}

/* Forget the AVP keys and values of the previous message. */
static void pcapgen_avp_reset(struct pcapgen *g)
{
	g->avp.len = 0;
	g->avp.buf[0] = '\0';
	g->pool_len = 0;
}

static int pcapgen_line_end(struct pcapgen *g)
{
	if (fprintf(g->exp, "%s%s%s\n", g->hdr.buf, g->avp.len ? " " : "",
		    g->avp.buf) < 0)
		return -EIO;
	return 0;
}

static void pcapgen_kv_control_header(struct pcapgen *g, size_t len,
				      uint16_t tid, uint16_t sid, uint16_t ns,
				      uint16_t nr)
{
	struct pcapgen_line *l = &g->hdr;
	pcapgen_kv(l, "t", "1");
	pcapgen_kv(l, "l", "1");
	pcapgen_kv(l, "s", "1");
	pcapgen_kv(l, "o", "0");
	pcapgen_kv(l, "p", "0");
	pcapgen_kv(l, "ver", "2");
	pcapgen_kv(l, "len", "%zu", len);
	pcapgen_kv(l, "tid", "%u", tid);
	pcapgen_kv(l, "sid", "%u", sid);
	pcapgen_kv(l, "ns", "%u", ns);
	pcapgen_kv(l, "nr", "%u", nr);
}

/* One control message of the RFC table entry `s`, every AVP it may carry
 * filled; `hide` names the AVPs to hide (with a Random Vector and hide_pad
 * bytes of padding each). */
static int pcapgen_control(struct pcapgen *g, const struct pcapgen_rfc_spec *s,
			   uint64_t hide, uint16_t hide_pad)
{
	static struct l2tp_msg m;
	uint8_t buf[PCAPGEN_MAX_FRAME];
	uint64_t avps = s->required | s->optional;
	unsigned salt = s->type + (hide ? 20u : 0u) + (g->edge ? 40u : 0u);
	struct l2tp_encode_opts opts = {.secret = g->secret,
					.hide_pad = hide_pad};
	/* Call-management messages after the peer assigned a session ID. */
	bool in_session = s->type >= L2TP_MSG_OCRQ &&
			  s->type != L2TP_MSG_OCRQ && s->type != L2TP_MSG_ICRQ;

	memset(&m, 0, sizeof(m));
	m.type = s->type;
	m.hdr.tunnel_id =
		s->type == L2TP_MSG_SCCRQ ? 0 : (uint16_t)(0x0700 + salt);
	m.hdr.session_id = in_session ? (uint16_t)(0x0900 + salt) : 0;
	m.hdr.ns = (uint16_t)(salt * 3);
	m.hdr.nr = (uint16_t)(salt * 5 + 1);
	m.hidden = hide;

	pcapgen_avp_reset(g);
	pcapgen_kv(&g->avp, "msg", "%s", l2tp_msg_type_name(s->type));
	/* On the wire: the AVPs filled below, plus opts' vector if hiding. */
	uint64_t wire = avps | (hide ? B(RANDOM_VECTOR) : 0);
	pcapgen_kv_types(&g->avp, "avps", wire);
	if (hide)
		pcapgen_kv_types(&g->avp, "hidden", hide);
	pcapgen_kv_types(&g->avp, "mandatory", wire & pcapgen_rfc_mandatory);
	for (unsigned t = 0; t <= L2TP_AVP_TYPE_MAX; t++)
		if (avps & l2tp_avp_bit(t))
			pcapgen_fill_avp(g, &m, t, salt);
	if (g->edge && s->type == L2TP_MSG_HELLO) {
		/* Vendor AVPs (RFC 2661 4.1: M bit clear), one without value;
		 * 32766 is not a registered enterprise, 311 is Microsoft. */
		static const uint8_t v1[] = {'t', 'a', 'n', 'd', 'e', 'm'};
		m.vendor[0] = (struct l2tp_vendor_avp){
			.vendor = 32766, .type = 1, .value = {v1, sizeof(v1)}};
		m.vendor[1] =
			(struct l2tp_vendor_avp){.vendor = 311, .type = 7};
		m.n_vendor = 2;
		pcapgen_kv(&g->avp, "vendor", "32766:1:74616e64656d,311:7:");
	}
	if (hide) {
		uint8_t rv[16];
		for (size_t i = 0; i < sizeof(rv); i++)
			rv[i] = (uint8_t)(0xa5 ^ (i * 7 + salt));
		opts.random_vector =
			pcapgen_octets(g, "random_vector", rv, sizeof(rv));
	}
	/* Byte values point into g->pool, untouched until the next message. */
	int n = l2tp_msg_encode(&m, hide ? &opts : NULL, buf, sizeof(buf));
	if (n < 0) {
		fprintf(stderr, "pcapgen: l2tp_msg_encode %s hide=%#llx: %s\n",
			l2tp_msg_type_name(s->type), (unsigned long long)hide,
			strerror(-n));
		return n;
	}
	pcapgen_line_start(g);
	pcapgen_kv_control_header(g, (size_t)n, m.hdr.tunnel_id,
				  m.hdr.session_id, m.hdr.ns, m.hdr.nr);
	if (pcapgen_frame(g, buf, (size_t)n) < 0)
		return -EIO;
	return pcapgen_line_end(g);
}

static int pcapgen_zlb(struct pcapgen *g)
{
	uint8_t buf[L2TP_CONTROL_HDR_LEN];
	int n = l2tp_msg_encode_zlb(0x0777, 0, 0x1234, 0xfedc, buf,
				    sizeof(buf));
	if (n < 0) {
		fprintf(stderr, "pcapgen: l2tp_msg_encode_zlb: %s\n",
			strerror(-n));
		return n;
	}
	pcapgen_avp_reset(g);
	pcapgen_kv(&g->avp, "msg", "ZLB");
	pcapgen_line_start(g);
	pcapgen_kv_control_header(g, (size_t)n, 0x0777, 0, 0x1234, 0xfedc);
	if (pcapgen_frame(g, buf, (size_t)n) < 0)
		return -EIO;
	return pcapgen_line_end(g);
}

/* A data message carrying an LCP Echo-Request in HDLC-like framing (what
 * tshark's PPP dissector expects after an L2TPv2 data header). */
static int pcapgen_data(struct pcapgen *g, const struct l2tp_data_opts *o,
			uint16_t tid, uint16_t sid)
{
	static const uint8_t ppp[] = {0xff, 0x03, 0xc0, 0x21, 0x09, 0x07,
				      0x00, 0x08, 0x5e, 0xed, 0xbe, 0xef};
	uint8_t buf[PCAPGEN_MAX_FRAME];
	int n = l2tp_header_encode_data(buf, sizeof(buf), tid, sid, o,
					sizeof(ppp));
	if (n < 0) {
		fprintf(stderr, "pcapgen: l2tp_header_encode_data: %s\n",
			strerror(-n));
		return n;
	}
	memcpy(buf + n, ppp, sizeof(ppp));
	pcapgen_avp_reset(g);
	pcapgen_line_start(g);
	struct pcapgen_line *l = &g->hdr;
	pcapgen_kv(l, "t", "0");
	pcapgen_kv(l, "l", "%d", o->with_length);
	pcapgen_kv(l, "s", "%d", o->with_seq);
	pcapgen_kv(l, "o", "%d", o->with_offset);
	pcapgen_kv(l, "p", "%d", o->priority);
	pcapgen_kv(l, "ver", "2");
	if (o->with_length)
		pcapgen_kv(l, "len", "%zu", (size_t)n + sizeof(ppp));
	pcapgen_kv(l, "tid", "%u", tid);
	pcapgen_kv(l, "sid", "%u", sid);
	if (o->with_seq) {
		pcapgen_kv(l, "ns", "%u", o->ns);
		pcapgen_kv(l, "nr", "%u", o->nr);
	}
	if (o->with_offset)
		pcapgen_kv(l, "offset", "%u", o->offset_size);
	pcapgen_kv(l, "payload_len", "%zu", sizeof(ppp));
	if (pcapgen_frame(g, buf, (size_t)n + sizeof(ppp)) < 0)
		return -EIO;
	return pcapgen_line_end(g);
}

/* Compare the codec's per-message spec with the RFC table above; returns
 * the number of differences (each printed). */
static int pcapgen_check_spec(void)
{
	int bad = 0;
	for (size_t i = 0; i < sizeof(pcapgen_rfc) / sizeof(pcapgen_rfc[0]);
	     i++) {
		const struct pcapgen_rfc_spec *r = &pcapgen_rfc[i];
		const struct l2tp_msg_spec *s = l2tp_msg_spec_get(r->type);
		uint64_t rv = B(RANDOM_VECTOR);
		if (!s) {
			fprintf(stderr,
				"pcapgen: spec mismatch: no codec spec for "
				"%s\n",
				l2tp_msg_type_name(r->type));
			bad++;
			continue;
		}
		if ((s->required & ~rv) != r->required ||
		    (s->optional & ~rv) != r->optional) {
			fprintf(stderr,
				"pcapgen: spec mismatch %s: codec "
				"required=%#llx optional=%#llx, RFC 2661 "
				"section 6 required=%#llx optional=%#llx\n",
				l2tp_msg_type_name(r->type),
				(unsigned long long)s->required,
				(unsigned long long)s->optional,
				(unsigned long long)r->required,
				(unsigned long long)r->optional);
			bad++;
		}
	}
	return bad;
}

static int pcapgen_all(struct pcapgen *g)
{
	const size_t n_rfc = sizeof(pcapgen_rfc) / sizeof(pcapgen_rfc[0]);
	int rc;

	for (size_t i = 0; i < n_rfc; i++)
		if ((rc = pcapgen_control(g, &pcapgen_rfc[i], 0, 0)) < 0)
			return rc;
	if ((rc = pcapgen_zlb(g)) < 0)
		return rc;

	/* Hidden AVPs (RFC 2661 4.3): every hideable AVP of SCCRQ (no
	 * padding) and of ICRQ and ICCN (with padding). */
	static const uint16_t hide_types[] = {L2TP_MSG_SCCRQ, L2TP_MSG_ICRQ,
					      L2TP_MSG_ICCN};
	for (size_t h = 0; h < sizeof(hide_types) / sizeof(hide_types[0]);
	     h++) {
		for (size_t i = 0; i < n_rfc; i++) {
			const struct pcapgen_rfc_spec *s = &pcapgen_rfc[i];
			uint64_t hide = 0;
			if (s->type != hide_types[h])
				continue;
			for (unsigned t = 0; t <= L2TP_AVP_TYPE_MAX; t++) {
				const struct l2tp_avp_info *ai =
					l2tp_avp_info_get(t);
				if (ai && ai->hideable &&
				    ((s->required | s->optional) &
				     l2tp_avp_bit(t)))
					hide |= l2tp_avp_bit(t);
			}
			rc = pcapgen_control(g, s, hide,
					     (uint16_t)(h == 0 ? 0 : 3 * h));
			if (rc < 0)
				return rc;
		}
	}

	/* Edge values, in the clear and hidden (empty hidden values). */
	static const uint16_t edge_types[] = {L2TP_MSG_SCCRQ, L2TP_MSG_STOPCCN,
					      L2TP_MSG_HELLO, L2TP_MSG_ICRQ,
					      L2TP_MSG_ICCN,  L2TP_MSG_CDN};
	g->edge = true;
	for (size_t e = 0; e < sizeof(edge_types) / sizeof(edge_types[0]);
	     e++) {
		for (size_t i = 0; i < n_rfc; i++) {
			const struct pcapgen_rfc_spec *s = &pcapgen_rfc[i];
			if (s->type != edge_types[e])
				continue;
			if ((rc = pcapgen_control(g, s, 0, 0)) < 0)
				return rc;
			if (s->type != L2TP_MSG_ICRQ)
				continue;
			uint64_t hide = B(CALLED_NUMBER) | B(CALLING_NUMBER) |
					B(SUB_ADDRESS);
			if ((rc = pcapgen_control(g, s, hide, 0)) < 0)
				return rc;
		}
	}
	g->edge = false;

	/* Data messages: no optional field, then L, S, O, and all with P. */
	static const struct l2tp_data_opts data[] = {
		{0},
		{.with_length = true},
		{.with_seq = true, .ns = 0x0102, .nr = 0x0304},
		{.with_offset = true, .offset_size = 4},
		{.with_length = true,
		 .with_seq = true,
		 .priority = true,
		 .ns = 65535,
		 .nr = 7,
		 .with_offset = true,
		 .offset_size = 3},
		{.with_length = true, .with_offset = true, .offset_size = 0},
	};
	for (size_t i = 0; i < sizeof(data) / sizeof(data[0]); i++)
		if ((rc = pcapgen_data(g, &data[i], (uint16_t)(0x0a00 + i),
				       (uint16_t)(0x0b00 + i))) < 0)
			return rc;
	return 0;
}

static void pcapgen_usage(FILE *f)
{
	fprintf(f, "usage: pcapgen -o OUT.pcap -e EXPECTED.txt -s SECRET [-l "
		   "LINKTYPE] [-6] [-B]\n"
		   "  Encodes every L2TPv2 control message type, hidden-AVP "
		   "messages and\n"
		   "  data messages with the tandem codec into a classic pcap "
		   "and writes\n"
		   "  the encoded values, one key=value line per frame.\n"
		   "  -l LINKTYPE  0 (BSD loopback), 1 (Ethernet, default), "
		   "101 (raw IP),\n"
		   "               113 (Linux SLL), 228 (raw IPv4), 276 (Linux "
		   "SLL2)\n"
		   "  -6           IPv6 (::1) instead of IPv4 (127.0.0.1)\n"
		   "  -B           big-endian file with nanosecond timestamps\n"
		   "  exit: 0 ok, 1 encode or I/O error, 2 usage, 3 codec spec "
		   "differs\n"
		   "        from RFC 2661 section 6\n");
}

int main(int argc, char **argv)
{
	static struct pcapgen g;
	const char *out = NULL, *exp = NULL, *secret = NULL;
	int c, rc = 1;

	g.linktype = 1;
	while ((c = getopt(argc, argv, "o:e:s:l:6Bh")) != -1) {
		switch (c) {
		case 'o':
			out = optarg;
			break;
		case 'e':
			exp = optarg;
			break;
		case 's':
			secret = optarg;
			break;
		case 'l':
			g.linktype = (unsigned)strtoul(optarg, NULL, 10);
			break;
		case '6':
			g.ipv6 = true;
			break;
		case 'B':
			g.big_endian = true;
			break;
		case 'h':
			pcapgen_usage(stdout);
			return 0;
		default:
			pcapgen_usage(stderr);
			return 2;
		}
	}
	if (!out || !exp || !secret || !*secret || optind != argc ||
	    (g.linktype != 0 && g.linktype != 1 && g.linktype != 101 &&
	     g.linktype != 113 && g.linktype != 228 && g.linktype != 276) ||
	    (g.linktype == 228 && g.ipv6)) {
		pcapgen_usage(stderr);
		return 2;
	}
	if (pcapgen_check_spec() > 0)
		return 3;
	g.secret.p = (const uint8_t *)secret;
	g.secret.len = strlen(secret);
	g.pcap = fopen(out, "wb");
	if (!g.pcap) {
		fprintf(stderr, "pcapgen: %s: %s\n", out, strerror(errno));
		return 1;
	}
	g.exp = fopen(exp, "w");
	if (!g.exp) {
		fprintf(stderr, "pcapgen: %s: %s\n", exp, strerror(errno));
		goto fail;
	}
	if (pcapgen_write_file_header(&g) < 0 || pcapgen_all(&g) < 0)
		goto fail;
	rc = 0;
fail:
	if (g.exp && fclose(g.exp) != 0)
		rc = 1;
	if (fclose(g.pcap) != 0)
		rc = 1;
	if (rc)
		fprintf(stderr, "pcapgen: failed writing %s / %s\n", out,
			exp ? exp : "-");
	return rc;
}
