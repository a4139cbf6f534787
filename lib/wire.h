/* Frontend <-> worker messages over ZeroMQ: the one definition of every message
 * type. Each ZeroMQ message is a batch: a versioned header, then records encoded
 * one field at a time (never a struct memcpy: rolling upgrades run mixed
 * versions), and the decoder rejects unknown versions and trailing bytes. */
#ifndef TANDEM_WIRE_H
#define TANDEM_WIRE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#define WIRE_MAGIC	0x5444u /* "TD" */
#define WIRE_VERSION	1	/* this build speaks version 1 */
#define WIRE_MAX_ORIGIN 255	/* bytes of the sender's endpoint name */
#define WIRE_MAX_MSG	262144	/* a batch never exceeds this */

/* X(name, value, description) */
#define WIRE_TYPES(X)                                                          \
	X(PACKET_IN, 1, "UDP datagrams a frontend received, for a worker")     \
	X(PACKET_OUT, 2, "datagrams a worker wants sent from :1701")

enum wire_type {
#define WIRE_X(name, val, desc) WIRE_##name = val,
	WIRE_TYPES(WIRE_X)
#undef WIRE_X
};

const char *wire_type_name(unsigned type);

struct wire_addr;
/* 32-bit FNV-1a of family | address (4 or 16 bytes) | port (big-endian) |
 * peer's Assigned Tunnel ID (big-endian). An SCCRQ (tunnel ID 0) belongs to
 * shard hash & (shard_count - 1): frontends route it there and the worker
 * gives the new tunnel an ID inside that shard (statestore/SCHEMA.md). */
uint32_t wire_peer_hash(const struct wire_addr *peer, uint16_t peer_tid);

/* A peer's UDP address; IPv4 addresses use the first 4 bytes of addr. */
struct wire_addr {
	uint8_t family;	  /* 4 or 6 */
	uint8_t addr[16]; /* network byte order */
	uint16_t port;	  /* host byte order */
};

/* The same address and port. */
static inline bool wire_addr_equal(const struct wire_addr *a,
				   const struct wire_addr *b)
{
	return a->family == b->family && a->port == b->port &&
	       !memcmp(a->addr, b->addr, sizeof(a->addr));
}

/* One datagram. data points into the decoded batch (decode) or the caller's
 * buffer (encode). */
struct wire_packet {
	struct wire_addr
		peer;	     /* LAC address: source (IN) or destination (OUT) */
	const uint8_t *data; /* L2TP bytes */
	uint16_t len;	     /* their length */
};

/* Batch writer over a caller-owned buffer. */
struct wire_writer {
	uint8_t *buf;	/* output */
	size_t cap;	/* its size */
	size_t len;	/* bytes written */
	uint16_t count; /* records written; patched into the header */
};

/* Start a batch of `type` from `origin` (the sender's reply endpoint, so the
 * receiver knows where answers go). Returns 0, -ENOSPC or -EINVAL. */
int wire_writer_begin(struct wire_writer *w, uint8_t *buf, size_t cap,
		      enum wire_type type, const char *origin);
/* Append one datagram. -ENOSPC when it does not fit (the batch stays valid:
 * send it and begin another). */
int wire_writer_add(struct wire_writer *w, const struct wire_packet *p);
/* Final length of the batch. */
size_t wire_writer_finish(struct wire_writer *w);

struct wire_reader {
	const uint8_t *p; /* the batch */
	size_t len;	  /* its length */
	size_t off;	  /* next record */
	uint8_t version;  /* sender's wire version */
	uint8_t type;	  /* enum wire_type */
	uint16_t count;	  /* records declared */
	uint16_t seen;	  /* records read */
	char origin[WIRE_MAX_ORIGIN +
		    1]; /* sender's endpoint, NUL-terminated */
};

/* Check the batch header. Returns 0 or -EBADMSG (bad magic, unknown version
 * or type, truncated header). */
int wire_reader_begin(struct wire_reader *r, const uint8_t *p, size_t len);
/* Next record: 1 with *out filled, 0 at the end (only when exactly `count`
 * records consumed every byte), -EBADMSG on a truncated record, a bad address
 * family, more or fewer records than declared, or trailing bytes. */
int wire_reader_next(struct wire_reader *r, struct wire_packet *out);

#endif
