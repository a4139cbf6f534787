/* tandem-l2tpdump: reads a classic pcap file, picks the L2TP datagrams (UDP
 * port 1701 or -p) and prints each as decoded by the tandem codec, one stable
 * key=value line per packet. Own pcap reader: no libpcap dependency. */
#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "l2tp_auth.h"
#include "l2tp_avp.h"
#include "l2tp_const.h"
#include "l2tp_header.h"
#include "l2tp_msg.h"
#include "l2tp_reject.h"

#define L2TPDUMP_MAX_RECORD 262144 /* largest record we accept (libpcap's) */
#define L2TPDUMP_EXIT_FILE  1	   /* file cannot be opened or is malformed */
#define L2TPDUMP_EXIT_USAGE 2	   /* bad command line */
#define L2TPDUMP_CHALLENGES 16	   /* challenges remembered for auth= */

/* Link types, https://www.tcpdump.org/linktypes.html */
#define L2TPDUMP_LT_NULL     0
#define L2TPDUMP_LT_ETHERNET 1
#define L2TPDUMP_LT_RAW	     101
#define L2TPDUMP_LT_SLL	     113
#define L2TPDUMP_LT_IPV4     228
#define L2TPDUMP_LT_IPV6     229
#define L2TPDUMP_LT_SLL2     276

#define L2TPDUMP_ETH_IPV4    0x0800
#define L2TPDUMP_ETH_IPV6    0x86dd
#define L2TPDUMP_ETH_VLAN    0x8100
#define L2TPDUMP_ETH_QINQ    0x88a8
#define L2TPDUMP_IPPROTO_UDP 17

/* An open capture file. */
struct l2tpdump_file {
	FILE *f;	   /* the file, opened by l2tpdump_file_open */
	const char *path;  /* name used in error messages */
	bool swapped;	   /* file byte order differs from the host's */
	uint32_t linktype; /* LINKTYPE_* (low 16 bits of the header field) */
	unsigned record;   /* 1-based number of the last record read */
	uint8_t *buf;	   /* record data, L2TPDUMP_MAX_RECORD bytes */
	uint32_t caplen;   /* bytes of the last record in buf */
	uint32_t origlen;  /* length of the packet on the wire */
};

/* Command-line settings. */
struct l2tpdump_opts {
	uint16_t port;		   /* UDP port that carries L2TP */
	struct l2tp_secret secret; /* to unhide hidden AVPs; len 0 = none */
};

/* The UDP datagram inside one captured frame. */
struct l2tpdump_udp {
	char src[INET6_ADDRSTRLEN + 2]; /* "a.b.c.d" or "[v6]" */
	char dst[INET6_ADDRSTRLEN + 2];
	uint16_t sport, dport;	/* UDP ports */
	const uint8_t *payload; /* UDP payload */
	size_t len;		/* UDP payload length */
	bool truncated;		/* capture shorter than the datagram */
};

/* A Challenge AVP seen in an SCCRQ or SCCRP, kept to check the Challenge
 * Response that answers it (RFC 2661 section 5.1.1). */
struct l2tpdump_challenge {
	char peer[INET6_ADDRSTRLEN + 8];   /* challenger's "addr:port" */
	uint16_t tunnel_id;		   /* challenger's Assigned Tunnel ID */
	uint16_t len;			   /* challenge length, 0 = unused */
	uint8_t value[L2TP_AVP_MAX_VALUE]; /* the challenge */
};

/* Kind of reason a frame carrying no decodable UDP datagram is skipped. */
enum l2tpdump_skip {
	L2TPDUMP_OK,
	L2TPDUMP_NOT_UDP,   /* not IPv4/IPv6 UDP: silently ignored */
	L2TPDUMP_FRAGMENT,  /* IP fragment: cannot decode alone */
	L2TPDUMP_TRUNCATED, /* headers cut short by the capture */
};

static int l2tpdump_fail(const struct l2tpdump_file *f, int err,
			 const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Report a problem with the file (name and record) and return err. */
static int l2tpdump_fail(const struct l2tpdump_file *f, int err,
			 const char *fmt, ...)
{
	va_list ap;
	fprintf(stderr, "tandem-l2tpdump: %s: ", f->path);
	if (f->record)
		fprintf(stderr, "record %u: ", f->record);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return err;
}

static uint32_t l2tpdump_file_u32(const struct l2tpdump_file *f,
				  const uint8_t *p)
{
	uint32_t v;
	memcpy(&v, p, 4);
	return f->swapped ? __builtin_bswap32(v) : v;
}

static uint16_t l2tpdump_be16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

/* Open path and read the pcap file header. Returns 0 or -errno (message
 * printed); on success the caller closes f->f and frees f->buf. */
static int l2tpdump_file_open(struct l2tpdump_file *f, const char *path)
{
	uint8_t h[24];
	uint32_t magic;
	size_t n;

	memset(f, 0, sizeof(*f));
	f->path = path;
	f->f = fopen(path, "rb");
	if (!f->f)
		return l2tpdump_fail(f, -errno, "%s", strerror(errno));
	n = fread(h, 1, sizeof(h), f->f);
	if (n < 4) {
		l2tpdump_fail(f, -EINVAL, "not a pcap file (%zu bytes)", n);
		goto fail;
	}
	memcpy(&magic, h, 4);
	/* a1b2c3d4: microsecond timestamps, a1b23c4d: nanosecond (unused) */
	if (magic == 0xa1b2c3d4u || magic == 0xa1b23c4du) {
		f->swapped = false;
	} else if (magic == 0xd4c3b2a1u || magic == 0x4d3cb2a1u) {
		f->swapped = true;
	} else if (magic == 0x0a0d0d0au) {
		l2tpdump_fail(f, -EINVAL,
			      "pcapng is not supported; convert it with "
			      "`editcap -F pcap IN OUT`");
		goto fail;
	} else {
		l2tpdump_fail(f, -EINVAL,
			      "not a pcap file (magic %02x%02x%02x%02x)", h[0],
			      h[1], h[2], h[3]);
		goto fail;
	}
	if (n < sizeof(h)) {
		l2tpdump_fail(f, -EINVAL,
			      "truncated file header (%zu of 24 bytes)", n);
		goto fail;
	}
	/* Upper bits carry FCS information (pcap file format draft). */
	f->linktype = l2tpdump_file_u32(f, h + 20) & 0xffff;
	switch (f->linktype) {
	case L2TPDUMP_LT_NULL:
	case L2TPDUMP_LT_ETHERNET:
	case L2TPDUMP_LT_RAW:
	case L2TPDUMP_LT_SLL:
	case L2TPDUMP_LT_IPV4:
	case L2TPDUMP_LT_IPV6:
	case L2TPDUMP_LT_SLL2:
		break;
	default:
		l2tpdump_fail(f, -EINVAL, "unsupported link type %u",
			      f->linktype);
		goto fail;
	}
	f->buf = malloc(L2TPDUMP_MAX_RECORD);
	if (!f->buf) {
		l2tpdump_fail(f, -ENOMEM, "out of memory");
		goto fail;
	}
	return 0;
fail:
	fclose(f->f);
	f->f = NULL;
	return -EINVAL;
}

/* Read the next record into f->buf. Returns 1, 0 at end of file, or -errno
 * (message printed) when the file is truncated or a length is bogus. */
static int l2tpdump_file_next(struct l2tpdump_file *f)
{
	uint8_t h[16];
	size_t n = fread(h, 1, sizeof(h), f->f);

	if (n == 0 && feof(f->f))
		return 0;
	f->record++;
	if (n < sizeof(h))
		return l2tpdump_fail(
			f, -EINVAL, "truncated record header (%zu of 16 bytes)",
			n);
	f->caplen = l2tpdump_file_u32(f, h + 8);
	f->origlen = l2tpdump_file_u32(f, h + 12);
	if (f->caplen > L2TPDUMP_MAX_RECORD)
		return l2tpdump_fail(f, -EINVAL,
				     "captured length %u exceeds %u bytes "
				     "(corrupt file?)",
				     f->caplen, L2TPDUMP_MAX_RECORD);
	n = fread(f->buf, 1, f->caplen, f->f);
	if (n < f->caplen)
		return l2tpdump_fail(f, -EINVAL,
				     "truncated record (%zu of %u bytes)", n,
				     f->caplen);
	return 1;
}

/* Find the network-layer packet in a frame: returns its ethertype-style
 * protocol (0x0800, 0x86dd) and sets *off, or 0 when it is something else. */
static uint16_t l2tpdump_link(const struct l2tpdump_file *f, size_t *off)
{
	const uint8_t *p = f->buf;
	size_t len = f->caplen;
	uint16_t proto;

	switch (f->linktype) {
	case L2TPDUMP_LT_NULL: {
		/* Address family in the capturing host's byte order. */
		if (len < 4)
			return 0;
		uint32_t af = l2tpdump_file_u32(f, p);
		if (af > 0xffff)
			af = __builtin_bswap32(af);
		*off = 4;
		if (af == 2)
			return L2TPDUMP_ETH_IPV4;
		/* AF_INET6: 10 Linux, 24 NetBSD/OpenBSD, 28 FreeBSD, 30 macOS */
		if (af == 10 || af == 24 || af == 28 || af == 30)
			return L2TPDUMP_ETH_IPV6;
		return 0;
	}
	case L2TPDUMP_LT_ETHERNET:
		if (len < 14)
			return 0;
		*off = 14;
		proto = l2tpdump_be16(p + 12);
		/* up to two VLAN tags */
		for (int i = 0; i < 2 && (proto == L2TPDUMP_ETH_VLAN ||
					  proto == L2TPDUMP_ETH_QINQ);
		     i++) {
			if (len < *off + 4)
				return 0;
			proto = l2tpdump_be16(p + *off + 2);
			*off += 4;
		}
		return proto;
	case L2TPDUMP_LT_SLL:
		if (len < 16)
			return 0;
		*off = 16;
		return l2tpdump_be16(p + 14);
	case L2TPDUMP_LT_SLL2:
		if (len < 20)
			return 0;
		*off = 20;
		return l2tpdump_be16(p);
	default: /* raw IP: the version nibble tells */
		*off = 0;
		if (len < 1)
			return 0;
		if (p[0] >> 4 == 4 && f->linktype != L2TPDUMP_LT_IPV6)
			return L2TPDUMP_ETH_IPV4;
		if (p[0] >> 4 == 6 && f->linktype != L2TPDUMP_LT_IPV4)
			return L2TPDUMP_ETH_IPV6;
		return 0;
	}
}

static enum l2tpdump_skip l2tpdump_ipv4(const uint8_t *p, size_t len,
					struct l2tpdump_udp *u,
					const uint8_t **l4, size_t *l4_len)
{
	if (len < 20)
		return L2TPDUMP_TRUNCATED;
	size_t ihl = (size_t)(p[0] & 0x0f) * 4;
	size_t total = l2tpdump_be16(p + 2);
	uint16_t frag = l2tpdump_be16(p + 6);
	if (ihl < 20 || total < ihl || p[9] != L2TPDUMP_IPPROTO_UDP)
		return L2TPDUMP_NOT_UDP;
	/* Only a non-first fragment lacks the UDP header. */
	if (frag & 0x1fff)
		return L2TPDUMP_NOT_UDP;
	if (len < ihl)
		return L2TPDUMP_TRUNCATED;
	inet_ntop(AF_INET, p + 12, u->src, sizeof(u->src));
	inet_ntop(AF_INET, p + 16, u->dst, sizeof(u->dst));
	*l4 = p + ihl;
	*l4_len = (len < total ? len : total) - ihl;
	u->truncated = len < total;
	/* MF set: the first fragment of a datagram we cannot decode alone */
	return (frag & 0x2000) ? L2TPDUMP_FRAGMENT : L2TPDUMP_OK;
}

/* Format an IPv6 address as "[addr]" so ":port" can follow. */
static void l2tpdump_ipv6_addr(const uint8_t *a, char *out, size_t cap)
{
	char s[INET6_ADDRSTRLEN];
	inet_ntop(AF_INET6, a, s, sizeof(s));
	snprintf(out, cap, "[%s]", s);
}

static enum l2tpdump_skip l2tpdump_ipv6(const uint8_t *p, size_t len,
					struct l2tpdump_udp *u,
					const uint8_t **l4, size_t *l4_len)
{
	if (len < 40 || p[0] >> 4 != 6)
		return L2TPDUMP_TRUNCATED;
	size_t total = 40 + (size_t)l2tpdump_be16(p + 4);
	uint8_t next = p[6];
	size_t off = 40;

	l2tpdump_ipv6_addr(p + 8, u->src, sizeof(u->src));
	l2tpdump_ipv6_addr(p + 24, u->dst, sizeof(u->dst));
	/* Skip hop-by-hop (0), routing (43), destination options (60) and
	 * fragment (44) headers; only a first fragment carries UDP. */
	bool fragment = false;
	while (next == 0 || next == 43 || next == 60 || next == 44) {
		if (len < off + 8 || total < off + 8)
			return L2TPDUMP_TRUNCATED;
		if (next == 44) {
			if (l2tpdump_be16(p + off + 2) & 0xfff8)
				return L2TPDUMP_NOT_UDP;
			fragment = true;
			next = p[off];
			off += 8;
			continue;
		}
		next = p[off];
		off += 8 + (size_t)p[off + 1] * 8;
	}
	if (next != L2TPDUMP_IPPROTO_UDP)
		return L2TPDUMP_NOT_UDP;
	if (off > total || off > len)
		return L2TPDUMP_TRUNCATED;
	*l4 = p + off;
	*l4_len = (len < total ? len : total) - off;
	u->truncated = len < total;
	return fragment ? L2TPDUMP_FRAGMENT : L2TPDUMP_OK;
}

/* Find the UDP datagram in the last record read. The ports are set (else
 * left 0) whenever the UDP header was captured, even for a fragment. */
static enum l2tpdump_skip l2tpdump_udp(const struct l2tpdump_file *f,
				       struct l2tpdump_udp *u)
{
	size_t off = 0, l4_len = 0;
	const uint8_t *l4 = NULL;
	enum l2tpdump_skip r;

	memset(u, 0, sizeof(*u));
	uint16_t proto = l2tpdump_link(f, &off);
	if (proto == L2TPDUMP_ETH_IPV4)
		r = l2tpdump_ipv4(f->buf + off, f->caplen - off, u, &l4,
				  &l4_len);
	else if (proto == L2TPDUMP_ETH_IPV6)
		r = l2tpdump_ipv6(f->buf + off, f->caplen - off, u, &l4,
				  &l4_len);
	else
		return L2TPDUMP_NOT_UDP;
	if (!l4)
		return r;
	if (l4_len < 8)
		return L2TPDUMP_TRUNCATED;
	u->sport = l2tpdump_be16(l4);
	u->dport = l2tpdump_be16(l4 + 2);
	if (r != L2TPDUMP_OK)
		return r;
	size_t ulen = l2tpdump_be16(l4 + 4);
	if (ulen < 8)
		return L2TPDUMP_NOT_UDP;
	u->payload = l4 + 8;
	u->len = ulen - 8;
	if (ulen > l4_len) {
		u->truncated = true;
		u->len = l4_len - 8;
	}
	return L2TPDUMP_OK;
}

/* Print a value as "text" with \" \\ and \xHH escapes. */
static void l2tpdump_print_text(const char *key, struct l2tp_bytes b)
{
	printf(" %s=\"", key);
	for (size_t i = 0; i < b.len; i++) {
		uint8_t c = b.p[i];
		if (c == '"' || c == '\\')
			printf("\\%c", c);
		else if (c >= 0x20 && c < 0x7f)
			putchar(c);
		else
			printf("\\x%02x", c);
	}
	putchar('"');
}

static void l2tpdump_print_hex(const char *key, struct l2tp_bytes b)
{
	printf(" %s=", key);
	for (size_t i = 0; i < b.len; i++)
		printf("%02x", b.p[i]);
}

/* "0,2,7": the AVP types whose bits are set. */
static void l2tpdump_print_types(const char *key, uint64_t mask)
{
	const char *sep = "";
	printf(" %s=", key);
	for (unsigned t = 0; t < 64; t++) {
		if (mask & l2tp_avp_bit(t)) {
			printf("%s%u", sep, t);
			sep = ",";
		}
	}
}

/* AVPs whose value RFC 2661 defines as text (printed quoted); the other
 * octet strings are printed in hex. */
static bool l2tpdump_avp_is_text(unsigned type)
{
	switch (type) {
	case L2TP_AVP_HOST_NAME:
	case L2TP_AVP_VENDOR_NAME:
	case L2TP_AVP_CALLED_NUMBER:
	case L2TP_AVP_CALLING_NUMBER:
	case L2TP_AVP_SUB_ADDRESS:
	case L2TP_AVP_PROXY_AUTHEN_NAME:
		return true;
	default:
		return false;
	}
}

/* The key of an AVP: its l2tp_const.h name in lower case. */
static const char *l2tpdump_avp_key(unsigned type)
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

/* Print the typed value of one present IETF AVP, driven by the codec's AVP
 * table (kind and field offset). */
static void l2tpdump_print_avp(const struct l2tp_msg *m, unsigned type)
{
	const struct l2tp_avp_info *ai = l2tp_avp_info_get(type);
	const char *key = l2tpdump_avp_key(type);
	if (!ai || type == L2TP_AVP_MESSAGE_TYPE)
		return;
	const void *field = (const uint8_t *)m + ai->field_off;

	switch ((enum l2tp_avp_kind)ai->kind) {
	case L2TP_KIND_U16:
		if (type == L2TP_AVP_PROTOCOL_VERSION) {
			printf(" protocol_version=%u protocol_revision=%u",
			       m->protocol_version >> 8,
			       m->protocol_version & 0xffu);
			break;
		}
		printf(" %s=%u", key, *(const uint16_t *)field);
		break;
	case L2TP_KIND_U32:
		printf(" %s=%u", key, *(const uint32_t *)field);
		break;
	case L2TP_KIND_U64:
		printf(" %s=0x%016llx", key,
		       (unsigned long long)*(const uint64_t *)field);
		break;
	case L2TP_KIND_BYTES:
		if (l2tpdump_avp_is_text(type))
			l2tpdump_print_text(key,
					    *(const struct l2tp_bytes *)field);
		else
			l2tpdump_print_hex(key,
					   *(const struct l2tp_bytes *)field);
		break;
	case L2TP_KIND_EMPTY:
		break; /* presence is in avps= */
	case L2TP_KIND_RESULT: {
		const struct l2tp_result_code *rc = field;
		printf(" result=%u", rc->result);
		if (rc->has_error)
			printf(" error=%u", rc->error);
		if (rc->message.len)
			l2tpdump_print_text("error_msg", rc->message);
		break;
	}
	case L2TP_KIND_Q931: {
		const struct l2tp_q931_cause *q = field;
		printf(" q931_cause=%u q931_msg=%u", q->cause, q->msg);
		if (q->advisory.len)
			l2tpdump_print_text("q931_advisory", q->advisory);
		break;
	}
	case L2TP_KIND_CALL_ERRORS: {
		const struct l2tp_call_errors *ce = field;
		printf(" crc_errors=%u framing_errors=%u hardware_overruns=%u"
		       " buffer_overruns=%u timeout_errors=%u"
		       " alignment_errors=%u",
		       ce->crc_errors, ce->framing_errors,
		       ce->hardware_overruns, ce->buffer_overruns,
		       ce->timeout_errors, ce->alignment_errors);
		break;
	}
	case L2TP_KIND_ACCM: {
		const struct l2tp_accm *a = field;
		printf(" send_accm=%u receive_accm=%u", a->send, a->recv);
		break;
	}
	}
}

static void l2tpdump_print_header(const struct l2tp_header *h)
{
	printf(" t=%d l=%d s=%d o=%d p=%d ver=%u", h->control, h->has_length,
	       h->has_seq, h->has_offset, h->priority, h->version);
	if (h->has_length)
		printf(" len=%u", h->length);
	printf(" tid=%u sid=%u", h->tunnel_id, h->session_id);
	if (h->has_seq)
		printf(" ns=%u nr=%u", h->ns, h->nr);
	if (h->has_offset)
		printf(" offset=%u", h->offset_size);
}

static void l2tpdump_print_reject(const struct l2tp_reject *rej)
{
	printf(" reject=%s reject_offset=%zu scope=%s",
	       l2tp_reject_reason_name(rej->reason), rej->offset,
	       l2tp_reject_scope_name(rej->scope));
	if (rej->msg_type)
		printf(" reject_msg_type=%u", rej->msg_type);
	if (rej->reason >= L2TP_REJ_AVP_TRUNCATED &&
	    rej->reason <= L2TP_REJ_HIDDEN_BAD_LENGTH)
		printf(" reject_avp=%u:%u", rej->avp_vendor, rej->avp_type);
	if (rej->scope == L2TP_SCOPE_CLEAR_SESSION ||
	    rej->scope == L2TP_SCOPE_CLEAR_TUNNEL)
		printf(" reject_result=%u reject_error=%u", rej->result_code,
		       rej->error_code);
}

static void l2tpdump_print_msg(const struct l2tp_msg *m)
{
	printf(" msg=%s", l2tp_msg_type_name(m->type));
	if (m->type == L2TP_MSG_ZLB)
		return;
	l2tpdump_print_types("avps", m->present);
	if (m->hidden)
		l2tpdump_print_types("hidden", m->hidden);
	for (unsigned t = 0; t <= L2TP_AVP_TYPE_MAX; t++)
		if (l2tp_msg_has(m, t))
			l2tpdump_print_avp(m, t);
	for (unsigned i = 0; i < m->n_vendor; i++) {
		const struct l2tp_vendor_avp *v = &m->vendor[i];
		printf("%s%u:%u:", i ? "," : " vendor=", v->vendor, v->type);
		for (size_t j = 0; j < v->value.len; j++)
			printf("%02x", v->value.p[j]);
		if (v->hidden)
			printf(":hidden");
	}
	if (m->n_vendor_dropped)
		printf(" vendor_dropped=%u", m->n_vendor_dropped);
	if (m->n_unexpected)
		printf(" unexpected=%u", m->n_unexpected);
}

/* With a secret: remember the challenge m carries, and print auth=ok or
 * auth=bad for the response m carries when we saw the challenge it answers
 * (sent by the receiver of m, for the tunnel m is addressed to). */
static void l2tpdump_auth(const struct l2tpdump_opts *o,
			  const struct l2tp_msg *m, const char *src,
			  const char *dst)
{
	static struct l2tpdump_challenge seen[L2TPDUMP_CHALLENGES];
	static unsigned next;

	if (!o->secret.len)
		return;
	if (l2tp_msg_has(m, L2TP_AVP_CHALLENGE_RESPONSE)) {
		for (unsigned i = 0; i < L2TPDUMP_CHALLENGES; i++) {
			const struct l2tpdump_challenge *c = &seen[i];
			if (!c->len || c->tunnel_id != m->hdr.tunnel_id ||
			    strcmp(c->peer, dst) != 0)
				continue;
			bool ok = l2tp_auth_verify(
				(uint8_t)m->type, o->secret.p, o->secret.len,
				c->value, c->len, m->challenge_response.p,
				m->challenge_response.len);
			printf(" auth=%s", ok ? "ok" : "bad");
			break;
		}
	}
	if (l2tp_msg_has(m, L2TP_AVP_CHALLENGE) &&
	    l2tp_msg_has(m, L2TP_AVP_ASSIGNED_TUNNEL_ID)) {
		struct l2tpdump_challenge *c =
			&seen[next++ % L2TPDUMP_CHALLENGES];
		snprintf(c->peer, sizeof(c->peer), "%s", src);
		c->tunnel_id = m->assigned_tunnel_id;
		c->len = m->challenge.len;
		memcpy(c->value, m->challenge.p, c->len);
	}
}

/* Decode and print one L2TP datagram (the rest of the frame's line); src
 * and dst are "addr:port" for the tunnel authentication check. */
static void l2tpdump_decode(const struct l2tpdump_opts *o, const uint8_t *p,
			    size_t len, const char *src, const char *dst)
{
	static uint8_t scratch[L2TP_MAX_DATAGRAM];
	static struct l2tp_msg m;
	struct l2tp_header h;
	struct l2tp_reject rej;

	if (l2tp_header_decode(p, len, &h, &rej) < 0) {
		l2tpdump_print_reject(&rej);
		return;
	}
	l2tpdump_print_header(&h);
	if (!h.control) {
		printf(" payload_len=%u", h.payload_len);
		return;
	}
	if (l2tp_msg_decode(p, len, o->secret.len ? &o->secret : NULL, scratch,
			    sizeof(scratch), &m, &rej) < 0) {
		l2tpdump_print_reject(&rej);
		return;
	}
	l2tpdump_print_msg(&m);
	l2tpdump_auth(o, &m, src, dst);
}

/* Print every L2TP datagram of the capture. Returns 0 or -errno. */
static int l2tpdump_run(const struct l2tpdump_opts *o, const char *path)
{
	struct l2tpdump_file f;
	struct l2tpdump_udp u;
	int rc;

	if ((rc = l2tpdump_file_open(&f, path)) < 0)
		return rc;
	while ((rc = l2tpdump_file_next(&f)) > 0) {
		enum l2tpdump_skip skip = l2tpdump_udp(&f, &u);
		/* Ports stay 0 when the UDP header is missing: not ours. */
		if (skip == L2TPDUMP_NOT_UDP ||
		    (u.sport != o->port && u.dport != o->port))
			continue;
		printf("frame=%u", f.record);
		if (skip == L2TPDUMP_FRAGMENT) {
			printf(" src=%s:%u dst=%s:%u skip=ip-fragment\n", u.src,
			       u.sport, u.dst, u.dport);
			continue;
		}
		if (skip != L2TPDUMP_OK || u.truncated) {
			printf(" src=%s:%u dst=%s:%u skip=truncated caplen=%u"
			       " len=%u\n",
			       u.src, u.sport, u.dst, u.dport, f.caplen,
			       f.origlen);
			continue;
		}
		char src[sizeof(u.src) + 6], dst[sizeof(u.dst) + 6];
		snprintf(src, sizeof(src), "%s:%u", u.src, u.sport);
		snprintf(dst, sizeof(dst), "%s:%u", u.dst, u.dport);
		printf(" src=%s dst=%s", src, dst);
		l2tpdump_decode(o, u.payload, u.len, src, dst);
		putchar('\n');
	}
	free(f.buf);
	fclose(f.f);
	if (fflush(stdout) != 0 || ferror(stdout)) {
		fprintf(stderr, "tandem-l2tpdump: write error: %s\n",
			strerror(errno));
		return -EIO;
	}
	return rc;
}

static void l2tpdump_usage(FILE *out)
{
	fprintf(out,
		"usage: tandem-l2tpdump [-p PORT] [-s SECRET] FILE.pcap\n"
		"\n"
		"Decodes the L2TPv2 packets of a classic pcap capture (not "
		"pcapng)\n"
		"with the tandem codec and prints one line per packet:\n"
		"  frame=N src=ADDR:PORT dst=ADDR:PORT t= l= s= o= p= ver= "
		"[len=]\n"
		"  tid= sid= [ns= nr=] [offset=] then payload_len= (data) or\n"
		"  msg=TYPE avps=LIST [hidden=LIST] and each AVP's fields "
		"(control),\n"
		"  or reject=REASON reject_offset=N scope=SCOPE when the "
		"codec\n"
		"  refuses the packet, or skip=truncated|ip-fragment.\n"
		"Link types: Ethernet, raw IPv4/IPv6, Linux cooked (SLL, "
		"SLL2),\n"
		"BSD loopback. IPv4 and IPv6.\n"
		"\n"
		"  -p PORT    UDP port carrying L2TP (default %u)\n"
		"  -s SECRET  tunnel shared secret: unhides hidden AVPs and "
		"checks\n"
		"             tunnel authentication\n"
		"  -h         this help\n"
		"\n"
		"Exit status: 0 file read to the end, 1 file unreadable or "
		"malformed,\n"
		"2 usage error.\n",
		L2TP_UDP_PORT);
}

int main(int argc, char **argv)
{
	struct l2tpdump_opts o = {.port = L2TP_UDP_PORT};
	int c;

	while ((c = getopt(argc, argv, "p:s:h")) != -1) {
		switch (c) {
		case 'p': {
			char *end;
			unsigned long v = strtoul(optarg, &end, 10);
			if (*optarg == '\0' || *end != '\0' || v == 0 ||
			    v > 65535) {
				fprintf(stderr,
					"tandem-l2tpdump: -p %s: not a UDP "
					"port (1-65535)\n",
					optarg);
				return L2TPDUMP_EXIT_USAGE;
			}
			o.port = (uint16_t)v;
			break;
		}
		case 's':
			o.secret.p = (const uint8_t *)optarg;
			o.secret.len = strlen(optarg);
			break;
		case 'h':
			l2tpdump_usage(stdout);
			return 0;
		default:
			l2tpdump_usage(stderr);
			return L2TPDUMP_EXIT_USAGE;
		}
	}
	if (optind + 1 != argc) {
		l2tpdump_usage(stderr);
		return L2TPDUMP_EXIT_USAGE;
	}
	return l2tpdump_run(&o, argv[optind]) < 0 ? L2TPDUMP_EXIT_FILE : 0;
}
