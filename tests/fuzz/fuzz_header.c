/* Fuzz target for the L2TP header decoder (RFC 2661 section 3.1): decode and
 * peek must agree, a decoded header must describe the datagram exactly, and a
 * data header re-encoded from what was decoded must decode to the same. */
#include <errno.h>
#include <stdbool.h>
#include <string.h>

#include "fuzz.h"
#include "l2tp_const.h"
#include "l2tp_header.h"

#define KNOWN_FLAGS                                                            \
	(L2TP_FLAG_T | L2TP_FLAG_L | L2TP_FLAG_S | L2TP_FLAG_O | L2TP_FLAG_P | \
	 L2TP_VER_MASK)

static void check_reject(const struct l2tp_reject *rej, size_t size)
{
	FUZZ_CHECK(rej->reason != L2TP_REJ_NONE);
	FUZZ_CHECK((unsigned)rej->reason < L2TP_REJ__COUNT);
	/* Section 3.1: nothing answers a packet whose header is bad. */
	FUZZ_CHECK(rej->scope == L2TP_SCOPE_DROP);
	FUZZ_CHECK(rej->offset <= size);
	FUZZ_CHECK(rej->result_code == 0 && rej->error_code == 0);
}

/* Fields every successful decode must satisfy, whatever the bytes were. */
static void check_header(const struct l2tp_header *h, const uint8_t *data,
			 size_t size)
{
	uint16_t flags = (uint16_t)(data[0] << 8 | data[1]);
	FUZZ_CHECK(h->flags == flags);
	FUZZ_CHECK(h->version == L2TP_VERSION);
	FUZZ_CHECK(h->control == !!(flags & L2TP_FLAG_T));
	FUZZ_CHECK(h->has_length == !!(flags & L2TP_FLAG_L));
	FUZZ_CHECK(h->has_seq == !!(flags & L2TP_FLAG_S));
	FUZZ_CHECK(h->has_offset == !!(flags & L2TP_FLAG_O));
	FUZZ_CHECK(h->priority == !!(flags & L2TP_FLAG_P));
	if (h->control)
		FUZZ_CHECK(h->has_length && h->has_seq && !h->has_offset);

	/* The datagram is exactly one message: no trailing bytes. */
	FUZZ_CHECK(h->length == size);
	size_t fixed = 6u + (h->has_length ? 2u : 0u) + (h->has_seq ? 4u : 0u) +
		       (h->has_offset ? 2u : 0u);
	FUZZ_CHECK(size >= fixed);
	size_t off = 2;
	if (h->has_length) {
		FUZZ_CHECK(h->length == (data[off] << 8 | data[off + 1]));
		off += 2;
	}
	FUZZ_CHECK(h->tunnel_id == (data[off] << 8 | data[off + 1]));
	FUZZ_CHECK(h->session_id == (data[off + 2] << 8 | data[off + 3]));
	off += 4;
	if (h->has_seq) {
		FUZZ_CHECK(h->ns == (data[off] << 8 | data[off + 1]));
		FUZZ_CHECK(h->nr == (data[off + 2] << 8 | data[off + 3]));
		off += 4;
	} else {
		FUZZ_CHECK(h->ns == 0 && h->nr == 0);
	}
	if (h->has_offset) {
		FUZZ_CHECK(h->offset_size == (data[off] << 8 | data[off + 1]));
		off += 2;
	} else {
		FUZZ_CHECK(h->offset_size == 0);
	}
	FUZZ_CHECK(off == fixed);
	FUZZ_CHECK(h->payload_off == fixed + h->offset_size);
	FUZZ_CHECK((size_t)h->payload_off + h->payload_len == size);
}

/* Re-encode a data header from the decoded one, append the payload, decode. */
static void check_data_roundtrip(const struct l2tp_header *h,
				 const uint8_t *data, size_t size)
{
	struct l2tp_data_opts o = {
		.with_length = h->has_length,
		.with_seq = h->has_seq,
		.priority = h->priority,
		.ns = h->ns,
		.nr = h->nr,
		.with_offset = h->has_offset,
		.offset_size = h->offset_size,
	};
	uint8_t *buf = malloc(size);
	FUZZ_CHECK(buf != NULL);

	/* One byte short of the header must refuse without writing (ASan
	 * watches the exact-size buffer). */
	int n = l2tp_header_encode_data(buf, h->payload_off - 1u, h->tunnel_id,
					h->session_id, &o, h->payload_len);
	FUZZ_CHECK(n == -ENOSPC);
	n = l2tp_header_encode_data(buf, size, h->tunnel_id, h->session_id, &o,
				    h->payload_len);
	FUZZ_CHECK(n == h->payload_off);
	memcpy(buf + n, data + n, h->payload_len);
	/* Everything but the reserved flag bits and the offset padding (which
	 * the encoder zeroes) is byte-identical. */
	size_t pad_at = h->payload_off - h->offset_size;
	FUZZ_CHECK(memcmp(buf + 2, data + 2, pad_at - 2) == 0);
	FUZZ_CHECK((unsigned)(buf[0] << 8 | buf[1]) ==
		   (h->flags & KNOWN_FLAGS));

	struct l2tp_header h2;
	struct l2tp_reject rej;
	FUZZ_CHECK(l2tp_header_decode(buf, size, &h2, &rej) == 0);
	FUZZ_CHECK(rej.reason == L2TP_REJ_NONE);
	FUZZ_CHECK(h2.flags == (h->flags & KNOWN_FLAGS));
	FUZZ_CHECK(h2.control == h->control && h2.has_length == h->has_length &&
		   h2.has_seq == h->has_seq && h2.has_offset == h->has_offset &&
		   h2.priority == h->priority);
	FUZZ_CHECK(h2.length == h->length && h2.tunnel_id == h->tunnel_id &&
		   h2.session_id == h->session_id && h2.ns == h->ns &&
		   h2.nr == h->nr && h2.offset_size == h->offset_size &&
		   h2.payload_off == h->payload_off &&
		   h2.payload_len == h->payload_len);
	free(buf);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct l2tp_header h;
	struct l2tp_reject rej;
	uint16_t peek_tid = 0;
	bool peek_control = false;

	int rc = l2tp_header_decode(data, size, &h, &rej);
	int prc = l2tp_header_peek(data, size, &peek_tid, &peek_control);
	FUZZ_CHECK(rc == 0 || rc == -EBADMSG);
	FUZZ_CHECK(prc == 0 || prc == -EBADMSG);
	FUZZ_CHECK(l2tp_reject_reason_name(rej.reason) != NULL);

	if (prc == 0) {
		/* Peek reads only what the flags say is there. */
		uint16_t flags = (uint16_t)(data[0] << 8 | data[1]);
		size_t at = (flags & L2TP_FLAG_L) ? 4 : 2;
		FUZZ_CHECK(size >= at + 2);
		FUZZ_CHECK(peek_tid == (data[at] << 8 | data[at + 1]));
		FUZZ_CHECK(peek_control == !!(flags & L2TP_FLAG_T));
	}
	if (rc < 0) {
		check_reject(&rej, size);
		return 0;
	}
	FUZZ_CHECK(rej.reason == L2TP_REJ_NONE);
	check_header(&h, data, size);
	/* The frontend routes on peek: it must agree with the full decode. */
	FUZZ_CHECK(prc == 0);
	FUZZ_CHECK(peek_tid == h.tunnel_id && peek_control == h.control);
	if (!h.control)
		check_data_roundtrip(&h, data, size);
	return 0;
}
