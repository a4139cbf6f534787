/* Writes the fuzz targets' seed corpus with the codec's own encoders: every
 * control message type (plain and hidden), ZLB, data headers with every
 * L/S/O/P combination, hidden values, single AVP values, encoder inputs. */

/* Regenerate (the output is deterministic), then commit tests/fuzz/corpus:
 *   make build/libtandem.a
 *   cc -std=c11 -D_GNU_SOURCE -Ilib -o build/gen_corpus \
 *      tests/fuzz/gen_corpus.c build/libtandem.a
 *   build/gen_corpus tests/fuzz/corpus */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "fuzz.h"
#include "hide_clear.h"
#include "l2tp_auth.h"
#include "l2tp_avp.h"
#include "l2tp_header.h"
#include "l2tp_hidden.h"
#include "l2tp_msg.h"

static const char *out_root;
static unsigned n_written;

static void die(const char *what, int err)
{
	fprintf(stderr, "gen_corpus: %s: %s\n", what, strerror(err));
	exit(1);
}

static void write_seed(const char *target, const char *name, const uint8_t *p,
		       size_t len)
{
	char path[4096];
	snprintf(path, sizeof(path), "%s/%s", out_root, target);
	if (mkdir(path, 0755) < 0 && errno != EEXIST)
		die(path, errno);
	snprintf(path, sizeof(path), "%s/%s/%s", out_root, target, name);
	FILE *f = fopen(path, "wb");
	if (!f)
		die(path, errno);
	if (len && fwrite(p, 1, len, f) != len)
		die(path, EIO);
	if (fclose(f) != 0)
		die(path, errno);
	n_written++;
}

static struct l2tp_bytes str(const char *s)
{
	struct l2tp_bytes b = {(const uint8_t *)s, (uint16_t)strlen(s)};
	return b;
}

static struct l2tp_bytes mem(const uint8_t *p, size_t len)
{
	struct l2tp_bytes b = {p, (uint16_t)len};
	return b;
}

static const uint8_t challenge16[16] = {0x01, 0x23, 0x45, 0x67, 0x89, 0xab,
					0xcd, 0xef, 0xfe, 0xdc, 0xba, 0x98,
					0x76, 0x54, 0x32, 0x10};
static const uint8_t random_vector[16] = {0x9a, 0x41, 0x07, 0xc3, 0x55, 0x2e,
					  0xd0, 0x18, 0x6b, 0xf4, 0x30, 0x8d,
					  0x72, 0xe9, 0x1c, 0xa6};
/* LCP Configure-Request: MRU 1400, magic number. */
static const uint8_t lcp_confreq[] = {0x01, 0x01, 0x00, 0x0e, 0x01, 0x04, 0x05,
				      0x78, 0x05, 0x06, 0x12, 0x34, 0x56, 0x78};
static uint8_t response16[L2TP_AUTH_RESPONSE_LEN];

static void init_msg(struct l2tp_msg *m, uint16_t type, uint16_t tunnel_id,
		     uint16_t session_id, uint16_t ns, uint16_t nr)
{
	memset(m, 0, sizeof(*m));
	m->type = type;
	m->hdr.tunnel_id = tunnel_id;
	m->hdr.session_id = session_id;
	m->hdr.ns = ns;
	m->hdr.nr = nr;
}

/* Store a message for fuzz_msg; when it hides AVPs, also store it with the
 * hidden values in clear (hide_clear.h), as fuzz_msg's second view reads it. */
static void write_msg(const char *name, const uint8_t *p, size_t len)
{
	static uint8_t clear[L2TP_MAX_DATAGRAM];
	char cname[64];

	write_seed("fuzz_msg", name, p, len);
	memcpy(clear, p, len);
	if (fuzz_hide_clear(clear, len, 0) > 0) {
		snprintf(cname, sizeof(cname), "%s.clear", name);
		write_seed("fuzz_msg", cname, clear, len);
	}
}

/* Encode m (hiding m->hidden with FUZZ_SECRET, `pad` bytes of padding) and
 * store it for fuzz_msg, and for fuzz_header when `header_too`. */
static size_t emit(const char *name, const struct l2tp_msg *m, uint16_t pad,
		   uint8_t *buf, int header_too)
{
	static const uint8_t pad_bytes[32] = {0x5a, 0x17, 0xc4, 0x3e};
	const struct l2tp_encode_opts opts = {
		.secret = {(const uint8_t *)FUZZ_SECRET, FUZZ_SECRET_LEN},
		.random_vector = mem(random_vector, sizeof(random_vector)),
		.hide_pad = pad,
		.pad_bytes = pad ? pad_bytes : NULL,
	};
	int n = l2tp_msg_encode(m, &opts, buf, L2TP_MAX_DATAGRAM);
	if (n < 0)
		die(name, -n);
	write_msg(name, buf, (size_t)n);
	if (header_too)
		write_seed("fuzz_header", name, buf, (size_t)n);
	return (size_t)n;
}

/* Append one raw AVP to an encoded message and fix the header's Length. */
static size_t append_avp(uint8_t *buf, size_t len, uint16_t flags,
			 uint16_t vendor, uint16_t type, const uint8_t *v,
			 size_t vlen)
{
	size_t alen = L2TP_AVP_HDR_LEN + vlen;
	uint8_t *a = buf + len;
	a[0] = (uint8_t)((flags | alen) >> 8);
	a[1] = (uint8_t)(flags | alen);
	a[2] = (uint8_t)(vendor >> 8);
	a[3] = (uint8_t)vendor;
	a[4] = (uint8_t)(type >> 8);
	a[5] = (uint8_t)type;
	if (vlen)
		memcpy(a + L2TP_AVP_HDR_LEN, v, vlen);
	len += alen;
	buf[2] = (uint8_t)(len >> 8);
	buf[3] = (uint8_t)len;
	return len;
}

static void gen_tunnel_msgs(uint8_t *buf)
{
	struct l2tp_msg m;

	/* 6.1 SCCRQ with every optional AVP. */
	init_msg(&m, L2TP_MSG_SCCRQ, 0, 0, 0, 0);
	m.protocol_version = 0x0100;
	m.framing_capabilities = 3;
	m.bearer_capabilities = 3;
	m.tie_breaker = 0x0123456789abcdefull;
	m.firmware_revision = 0x0680;
	m.host_name = str("lac.example.net");
	m.vendor_name = str("tandem fuzz corpus");
	m.assigned_tunnel_id = 0x1234;
	m.receive_window_size = 8;
	m.challenge = mem(challenge16, sizeof(challenge16));
	m.present = l2tp_avp_bit(L2TP_AVP_PROTOCOL_VERSION) |
		    l2tp_avp_bit(L2TP_AVP_FRAMING_CAPABILITIES) |
		    l2tp_avp_bit(L2TP_AVP_BEARER_CAPABILITIES) |
		    l2tp_avp_bit(L2TP_AVP_TIE_BREAKER) |
		    l2tp_avp_bit(L2TP_AVP_FIRMWARE_REVISION) |
		    l2tp_avp_bit(L2TP_AVP_HOST_NAME) |
		    l2tp_avp_bit(L2TP_AVP_VENDOR_NAME) |
		    l2tp_avp_bit(L2TP_AVP_ASSIGNED_TUNNEL_ID) |
		    l2tp_avp_bit(L2TP_AVP_RECEIVE_WINDOW_SIZE) |
		    l2tp_avp_bit(L2TP_AVP_CHALLENGE);
	emit("sccrq", &m, 0, buf, 1);
	m.hidden = l2tp_avp_bit(L2TP_AVP_ASSIGNED_TUNNEL_ID) |
		   l2tp_avp_bit(L2TP_AVP_CHALLENGE) |
		   l2tp_avp_bit(L2TP_AVP_VENDOR_NAME);
	emit("sccrq-hidden", &m, 0, buf, 0);
	emit("sccrq-hidden-padded", &m, 9, buf, 0);

	/* 6.2 SCCRP answering the challenge, with its own. */
	init_msg(&m, L2TP_MSG_SCCRP, 0x1234, 0, 0, 1);
	l2tp_auth_response(L2TP_MSG_SCCRP, (const uint8_t *)FUZZ_SECRET,
			   FUZZ_SECRET_LEN, challenge16, sizeof(challenge16),
			   response16);
	m.protocol_version = 0x0100;
	m.framing_capabilities = 1;
	m.host_name = str("lns");
	m.assigned_tunnel_id = 0x4321;
	m.challenge = mem(challenge16, 5);
	m.challenge_response = mem(response16, sizeof(response16));
	m.present = l2tp_avp_bit(L2TP_AVP_PROTOCOL_VERSION) |
		    l2tp_avp_bit(L2TP_AVP_FRAMING_CAPABILITIES) |
		    l2tp_avp_bit(L2TP_AVP_HOST_NAME) |
		    l2tp_avp_bit(L2TP_AVP_ASSIGNED_TUNNEL_ID) |
		    l2tp_avp_bit(L2TP_AVP_CHALLENGE) |
		    l2tp_avp_bit(L2TP_AVP_CHALLENGE_RESPONSE);
	emit("sccrp", &m, 0, buf, 0);
	m.hidden = l2tp_avp_bit(L2TP_AVP_CHALLENGE_RESPONSE) |
		   l2tp_avp_bit(L2TP_AVP_FRAMING_CAPABILITIES);
	emit("sccrp-hidden", &m, 3, buf, 0);

	/* 6.3 SCCCN. */
	init_msg(&m, L2TP_MSG_SCCCN, 0x4321, 0, 1, 1);
	m.challenge_response = mem(response16, sizeof(response16));
	m.present = l2tp_avp_bit(L2TP_AVP_CHALLENGE_RESPONSE);
	emit("scccn", &m, 0, buf, 0);

	/* 6.4 StopCCN: result with error code and message. */
	init_msg(&m, L2TP_MSG_STOPCCN, 0x4321, 0, 2, 1);
	m.assigned_tunnel_id = 0x1234;
	m.result_code.result = L2TP_STOPCCN_GENERAL_ERROR;
	m.result_code.has_error = true;
	m.result_code.error = L2TP_ERR_UNKNOWN_M_AVP;
	m.result_code.message = str("unknown mandatory AVP");
	m.present = l2tp_avp_bit(L2TP_AVP_ASSIGNED_TUNNEL_ID) |
		    l2tp_avp_bit(L2TP_AVP_RESULT_CODE);
	emit("stopccn", &m, 0, buf, 1);
	m.result_code.has_error = false;
	m.result_code.message = mem(NULL, 0);
	emit("stopccn-short-result", &m, 0, buf, 0);

	/* 6.5 Hello, then with an unknown AVP and with vendor AVPs. */
	init_msg(&m, L2TP_MSG_HELLO, 0x4321, 0, 3, 2);
	size_t n = emit("hello", &m, 0, buf, 1);
	n = append_avp(buf, n, 0, 0, 99, (const uint8_t *)"??", 2);
	write_seed("fuzz_msg", "hello-unknown-avp", buf, n);
	n = append_avp(buf, n, L2TP_AVP_M, 0, 99, NULL, 0);
	write_seed("fuzz_msg", "hello-unknown-mandatory-avp", buf, n);
	m.vendor[0].vendor = 9;
	m.vendor[0].type = 1;
	m.vendor[0].value = str("cisco-avpair");
	m.vendor[1].vendor = 311;
	m.vendor[1].type = 7;
	m.n_vendor = 2;
	emit("hello-vendor", &m, 0, buf, 0);

	/* ZLB acknowledgement. */
	n = (size_t)l2tp_msg_encode_zlb(0x4321, 0, 4, 3, buf, 64);
	write_seed("fuzz_msg", "zlb", buf, n);
	write_seed("fuzz_header", "zlb", buf, n);
}

static void gen_call_msgs(uint8_t *buf)
{
	struct l2tp_msg m;

	/* 6.7 OCRQ. */
	init_msg(&m, L2TP_MSG_OCRQ, 0x1234, 0, 5, 4);
	m.assigned_session_id = 0x0042;
	m.call_serial_number = 7;
	m.minimum_bps = 9600;
	m.maximum_bps = 100000000;
	m.bearer_type = 1;
	m.framing_type = 1;
	m.called_number = str("5551234");
	m.sub_address = str("7");
	m.present = l2tp_avp_bit(L2TP_AVP_ASSIGNED_SESSION_ID) |
		    l2tp_avp_bit(L2TP_AVP_CALL_SERIAL_NUMBER) |
		    l2tp_avp_bit(L2TP_AVP_MINIMUM_BPS) |
		    l2tp_avp_bit(L2TP_AVP_MAXIMUM_BPS) |
		    l2tp_avp_bit(L2TP_AVP_BEARER_TYPE) |
		    l2tp_avp_bit(L2TP_AVP_FRAMING_TYPE) |
		    l2tp_avp_bit(L2TP_AVP_CALLED_NUMBER) |
		    l2tp_avp_bit(L2TP_AVP_SUB_ADDRESS);
	emit("ocrq", &m, 0, buf, 0);

	/* 6.8 OCRP. */
	init_msg(&m, L2TP_MSG_OCRP, 0x4321, 0x0042, 4, 6);
	m.assigned_session_id = 0x0099;
	m.physical_channel_id = 3;
	m.present = l2tp_avp_bit(L2TP_AVP_ASSIGNED_SESSION_ID) |
		    l2tp_avp_bit(L2TP_AVP_PHYSICAL_CHANNEL_ID);
	emit("ocrp", &m, 0, buf, 0);

	/* 6.9 OCCN. */
	init_msg(&m, L2TP_MSG_OCCN, 0x4321, 0x0042, 5, 6);
	m.tx_connect_speed = 56000;
	m.rx_connect_speed = 33600;
	m.framing_type = 2;
	m.present = l2tp_avp_bit(L2TP_AVP_TX_CONNECT_SPEED) |
		    l2tp_avp_bit(L2TP_AVP_RX_CONNECT_SPEED) |
		    l2tp_avp_bit(L2TP_AVP_FRAMING_TYPE) |
		    l2tp_avp_bit(L2TP_AVP_SEQUENCING_REQUIRED);
	emit("occn", &m, 0, buf, 0);

	/* 6.10 ICRQ, plain and with the numbers hidden and padded. */
	init_msg(&m, L2TP_MSG_ICRQ, 0x4321, 0, 6, 6);
	m.assigned_session_id = 0x0007;
	m.call_serial_number = 0xdeadbeef;
	m.bearer_type = 2;
	m.physical_channel_id = 11;
	m.calling_number = str("+33 1 23 45 67 89");
	m.called_number = str("0800123456");
	m.sub_address = str("");
	m.present = l2tp_avp_bit(L2TP_AVP_ASSIGNED_SESSION_ID) |
		    l2tp_avp_bit(L2TP_AVP_CALL_SERIAL_NUMBER) |
		    l2tp_avp_bit(L2TP_AVP_BEARER_TYPE) |
		    l2tp_avp_bit(L2TP_AVP_PHYSICAL_CHANNEL_ID) |
		    l2tp_avp_bit(L2TP_AVP_CALLING_NUMBER) |
		    l2tp_avp_bit(L2TP_AVP_CALLED_NUMBER) |
		    l2tp_avp_bit(L2TP_AVP_SUB_ADDRESS);
	emit("icrq", &m, 0, buf, 1);
	m.hidden = l2tp_avp_bit(L2TP_AVP_CALLING_NUMBER) |
		   l2tp_avp_bit(L2TP_AVP_CALLED_NUMBER) |
		   l2tp_avp_bit(L2TP_AVP_ASSIGNED_SESSION_ID);
	size_t n = emit("icrq-hidden", &m, 16, buf, 0);
	/* A hidden vendor AVP, keyed with the Random Vector already there. */
	uint8_t hv[64];
	int hn = l2tp_hidden_hide(
		17, (const uint8_t *)FUZZ_SECRET, FUZZ_SECRET_LEN,
		random_vector, sizeof(random_vector),
		(const uint8_t *)"vendor secret", 13, NULL, 4, hv, sizeof(hv));
	if (hn < 0)
		die("hide vendor AVP", -hn);
	n = append_avp(buf, n, L2TP_AVP_H, 9, 17, hv, (size_t)hn);
	write_msg("icrq-hidden-vendor", buf, n);

	/* 6.11 ICRP. */
	init_msg(&m, L2TP_MSG_ICRP, 0x1234, 0x0007, 7, 7);
	m.assigned_session_id = 0x0100;
	m.present = l2tp_avp_bit(L2TP_AVP_ASSIGNED_SESSION_ID);
	emit("icrp", &m, 0, buf, 0);

	/* 6.12 ICCN with proxy LCP and proxy authentication. */
	init_msg(&m, L2TP_MSG_ICCN, 0x4321, 0x0100, 7, 8);
	m.tx_connect_speed = 10000000;
	m.rx_connect_speed = 10000000;
	m.framing_type = 1;
	m.initial_received_lcp_confreq = mem(lcp_confreq, sizeof(lcp_confreq));
	m.last_sent_lcp_confreq = mem(lcp_confreq, sizeof(lcp_confreq));
	m.last_received_lcp_confreq = mem(lcp_confreq, sizeof(lcp_confreq));
	m.proxy_authen_type = 2; /* CHAP */
	m.proxy_authen_name = str("alice@example.net");
	m.proxy_authen_challenge = mem(challenge16, sizeof(challenge16));
	m.proxy_authen_id = 0x0017;
	m.proxy_authen_response = mem(response16, sizeof(response16));
	m.private_group_id = str("grp-1");
	m.present = l2tp_avp_bit(L2TP_AVP_TX_CONNECT_SPEED) |
		    l2tp_avp_bit(L2TP_AVP_RX_CONNECT_SPEED) |
		    l2tp_avp_bit(L2TP_AVP_FRAMING_TYPE) |
		    l2tp_avp_bit(L2TP_AVP_INITIAL_RECEIVED_LCP_CONFREQ) |
		    l2tp_avp_bit(L2TP_AVP_LAST_SENT_LCP_CONFREQ) |
		    l2tp_avp_bit(L2TP_AVP_LAST_RECEIVED_LCP_CONFREQ) |
		    l2tp_avp_bit(L2TP_AVP_PROXY_AUTHEN_TYPE) |
		    l2tp_avp_bit(L2TP_AVP_PROXY_AUTHEN_NAME) |
		    l2tp_avp_bit(L2TP_AVP_PROXY_AUTHEN_CHALLENGE) |
		    l2tp_avp_bit(L2TP_AVP_PROXY_AUTHEN_ID) |
		    l2tp_avp_bit(L2TP_AVP_PROXY_AUTHEN_RESPONSE) |
		    l2tp_avp_bit(L2TP_AVP_PRIVATE_GROUP_ID) |
		    l2tp_avp_bit(L2TP_AVP_SEQUENCING_REQUIRED);
	emit("iccn", &m, 0, buf, 0);
	m.hidden = l2tp_avp_bit(L2TP_AVP_PROXY_AUTHEN_NAME) |
		   l2tp_avp_bit(L2TP_AVP_PROXY_AUTHEN_CHALLENGE) |
		   l2tp_avp_bit(L2TP_AVP_PROXY_AUTHEN_ID) |
		   l2tp_avp_bit(L2TP_AVP_PROXY_AUTHEN_RESPONSE) |
		   l2tp_avp_bit(L2TP_AVP_LAST_SENT_LCP_CONFREQ);
	emit("iccn-hidden", &m, 5, buf, 0);

	/* 6.13 CDN with a Q.931 cause and advisory message. */
	init_msg(&m, L2TP_MSG_CDN, 0x4321, 0x0100, 8, 8);
	m.result_code.result = L2TP_CDN_ADMIN;
	m.result_code.has_error = true;
	m.result_code.error = L2TP_ERR_NONE;
	m.result_code.message = str("operator request");
	m.assigned_session_id = 0x0007;
	m.q931_cause.cause = 16;
	m.q931_cause.msg = 0x45;
	m.q931_cause.advisory = str("normal clearing");
	m.present = l2tp_avp_bit(L2TP_AVP_RESULT_CODE) |
		    l2tp_avp_bit(L2TP_AVP_ASSIGNED_SESSION_ID) |
		    l2tp_avp_bit(L2TP_AVP_Q931_CAUSE_CODE);
	emit("cdn", &m, 0, buf, 1);
	m.present &= ~l2tp_avp_bit(L2TP_AVP_Q931_CAUSE_CODE);
	m.result_code.has_error = false;
	m.result_code.message = mem(NULL, 0);
	emit("cdn-minimal", &m, 0, buf, 0);

	/* 6.14 WEN. */
	init_msg(&m, L2TP_MSG_WEN, 0x4321, 0x0100, 9, 9);
	m.call_errors = (struct l2tp_call_errors){1, 2, 3, 4, 5, 6};
	m.present = l2tp_avp_bit(L2TP_AVP_CALL_ERRORS);
	emit("wen", &m, 0, buf, 0);
	m.hidden = l2tp_avp_bit(L2TP_AVP_CALL_ERRORS);
	emit("wen-hidden", &m, 0, buf, 0);

	/* 6.15 SLI. */
	init_msg(&m, L2TP_MSG_SLI, 0x1234, 0x0007, 9, 10);
	m.accm.send = 0xffffffff;
	m.accm.recv = 0x000a0000;
	m.present = l2tp_avp_bit(L2TP_AVP_ACCM);
	emit("sli", &m, 0, buf, 0);
	m.hidden = l2tp_avp_bit(L2TP_AVP_ACCM);
	emit("sli-hidden", &m, 2, buf, 0);
}

/* Data messages: every combination of the L, S, O and P bits. */
static void gen_data_headers(uint8_t *buf)
{
	/* PPP LCP Echo-Request in HDLC-like framing, as relayed from pppd. */
	static const uint8_t ppp[] = {0xff, 0x03, 0xc0, 0x21, 0x09, 0x01,
				      0x00, 0x08, 0x12, 0x34, 0x56, 0x78};
	for (unsigned bits = 0; bits < 16; bits++) {
		struct l2tp_data_opts o = {
			.with_length = bits & 1,
			.with_seq = (bits & 2) != 0,
			.with_offset = (bits & 4) != 0,
			.priority = (bits & 8) != 0,
			.ns = 0x0102,
			.nr = 0x0304,
			.offset_size = (bits & 4) ? 3 : 0,
		};
		int h = l2tp_header_encode_data(buf, 64, 0x4321, 0x0100, &o,
						sizeof(ppp));
		if (h < 0)
			die("data header", -h);
		memcpy(buf + h, ppp, sizeof(ppp));
		char name[32];
		snprintf(name, sizeof(name), "data-%s%s%s%s",
			 o.with_length ? "L" : "", o.with_seq ? "S" : "",
			 o.with_offset ? "O" : "", o.priority ? "P" : "");
		if (bits == 0)
			snprintf(name, sizeof(name), "data-plain");
		write_seed("fuzz_header", name, buf, (size_t)h + sizeof(ppp));
	}
	/* Offset Size 0 with the O bit set, empty payload. */
	struct l2tp_data_opts o = {.with_length = true, .with_offset = true};
	int h = l2tp_header_encode_data(buf, 64, 1, 2, &o, 0);
	write_seed("fuzz_header", "data-LO-empty", buf, (size_t)h);
}

/* fuzz_hidden input: type, secret length, RV length, pad, secret, RV, body. */
static void hidden_seed(const char *name, uint16_t type, const char *secret,
			size_t rv_len, uint8_t pad, const uint8_t *body,
			size_t body_len)
{
	uint8_t buf[1024];
	size_t sl = strlen(secret), n = FUZZ_HIDDEN_PREFIX;
	buf[0] = (uint8_t)(type >> 8);
	buf[1] = (uint8_t)type;
	buf[2] = (uint8_t)sl;
	buf[3] = (uint8_t)rv_len;
	buf[4] = pad;
	memcpy(buf + n, secret, sl);
	n += sl;
	memcpy(buf + n, random_vector, rv_len);
	n += rv_len;
	memcpy(buf + n, body, body_len);
	n += body_len;
	write_seed("fuzz_hidden", name, buf, n);
}

static void gen_hidden(void)
{
	static const char *const values[] = {
		"", "\x12\x34", "0800123456", "alice@example.net/long-realm",
		"a value spanning three MD5 blocks, really"};
	static const uint8_t pads[] = {0, 0, 4, 13, 1};
	uint8_t hidden[128];
	char name[32];

	for (size_t i = 0; i < sizeof(pads); i++) {
		size_t len = strlen(values[i]);
		int n = l2tp_hidden_hide(
			(uint16_t)(9 + i), (const uint8_t *)FUZZ_SECRET,
			FUZZ_SECRET_LEN, random_vector, sizeof(random_vector),
			(const uint8_t *)values[i], len, NULL, pads[i], hidden,
			sizeof(hidden));
		if (n < 0)
			die("hide", -n);
		snprintf(name, sizeof(name), "valid-%zu", i);
		hidden_seed(name, (uint16_t)(9 + i), FUZZ_SECRET,
			    sizeof(random_vector), pads[i], hidden, (size_t)n);
	}
	/* Wrong secret: unhiding fails the length check (most likely). */
	hidden_seed("wrong-secret", 9, "not the secret", 16, 0, hidden, 20);
	/* No secret, no vector, a one-byte body. */
	hidden_seed("empty-key", 36, "", 0, 2, (const uint8_t *)"x", 1);
}

/* fuzz_avp input: type byte, then one valid value per IETF type. */
static void gen_avp_values(void)
{
	uint8_t buf[64];
	char name[48];

	for (unsigned t = 0; t <= L2TP_AVP_TYPE_MAX; t++) {
		const struct l2tp_avp_info *ai = l2tp_avp_info_get(t);
		if (!ai)
			continue;
		/* Fixed kinds: their size; the others: up to 16 bytes. */
		size_t len = ai->max_len < 16 ? ai->max_len : 16;
		if (len < ai->min_len)
			len = ai->min_len;
		buf[0] = (uint8_t)t;
		for (size_t i = 0; i < len; i++)
			buf[1 + i] = (uint8_t)(0x30 + i + t);
		if (ai->kind == L2TP_KIND_CALL_ERRORS ||
		    ai->kind == L2TP_KIND_ACCM)
			buf[1] = buf[2] = 0; /* reserved */
		snprintf(name, sizeof(name), "%s", l2tp_avp_type_name(t));
		for (char *c = name; *c; c++)
			if (*c >= 'A' && *c <= 'Z')
				*c = (char)(*c - 'A' + 'a');
		write_seed("fuzz_avp", name, buf, 1 + len);
	}
	/* Result Code with only the result (section 4.4.2 short form). */
	buf[0] = L2TP_AVP_RESULT_CODE;
	buf[1] = 0;
	buf[2] = 1;
	write_seed("fuzz_avp", "result_code-short", buf, 3);
}

/* fuzz_encode input (see its LLVMFuzzerTestOneInput): per message type,
 * every AVP the spec allows, once plain and once with the hideable ones
 * hidden; values, vendor AVPs and options come from the filler. */
static void gen_encode(void)
{
	uint8_t buf[512];
	char name[48];

	for (unsigned type = 0; type <= L2TP_MSG_TYPE_MAX; type++) {
		for (unsigned hide = 0; hide < 2; hide++) {
			if (!l2tp_msg_spec_get(type) && (hide || type != 0))
				continue; /* one seed for ZLB */
			size_t n = 0;
			buf[n++] = (uint8_t)type;
			for (int i = 0; i < 8;
			     i++) /* tunnel, session, ns, nr */
				buf[n++] = (uint8_t)(i + 1);
			buf[n++] = hide ? 4 : 0; /* mode: spec-driven */
			memset(buf + n, 0xff,
			       16); /* all optional, all hidden */
			n += 16;
			for (size_t i = 0; n < sizeof(buf); i++)
				buf[n++] = (uint8_t)(0x21 + i % 90);
			snprintf(name, sizeof(name), "%s%s",
				 l2tp_msg_type_name(type),
				 hide ? "-hidden" : "");
			for (char *c = name; *c; c++)
				if (*c >= 'A' && *c <= 'Z')
					*c = (char)(*c - 'A' + 'a');
			write_seed("fuzz_encode", name, buf, sizeof(buf));
		}
	}
}

int main(int argc, char **argv)
{
	static uint8_t buf[L2TP_MAX_DATAGRAM];

	if (argc != 2) {
		fprintf(stderr, "usage: %s OUTDIR (e.g. tests/fuzz/corpus)\n",
			argv[0]);
		return 2;
	}
	out_root = argv[1];
	if (mkdir(out_root, 0755) < 0 && errno != EEXIST)
		die(out_root, errno);
	gen_tunnel_msgs(buf);
	gen_call_msgs(buf);
	gen_data_headers(buf);
	gen_hidden();
	gen_avp_values();
	gen_encode();
	printf("gen_corpus: wrote %u files under %s\n", n_written, out_root);
	return 0;
}
