/* Fills a Redis with valid tunnel and session checkpoints, written by the
 * real encoders of statestore/record.c, for clusterctl's tests and its
 * scale measurement. Usage:
 *   statefill REDIS_PORT PREFIX TUNNELS SESSIONS [OWNER SHARD_COUNT]
 * Tunnel IDs are spread over 1..65535. Tunnel 0's slot gets a hostile peer
 * host name (quotes, control and non-UTF-8 bytes) and two unacked HELLOs;
 * every tenth tunnel has an IPv6 peer. Sessions get PPP addresses
 * 100.64.0.0/10 (remote) and 10.255.0.1 (local). With OWNER, shards
 * 0..SHARD_COUNT-1 get a 10-minute lease (epoch 7) naming OWNER, which is
 * registered as a live, protected worker. Exit 0 = all written. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <hiredis/hiredis.h>

#include "record.h"

#define FILL_TTL_MS "600000"

static void fill_output(void *ctx, struct tunnel *t, const uint8_t *p, size_t n)
{
	(void)ctx, (void)t, (void)p, (void)n;
}

static void fill_dirty(void *ctx, struct tunnel *t)
{
	(void)ctx, (void)t;
}

static void fill_random(void *ctx, uint8_t *b, size_t n)
{
	(void)ctx;
	for (size_t i = 0; i < n; i++)
		b[i] = (uint8_t)(i * 37 + 11);
}

static const struct lns_cfg fill_cfg = {
	.hostname = "lns",
	.tx = {.our_rws = 16,
	       .retransmit_initial_ms = 1000,
	       .retransmit_max_ms = 8000,
	       .max_retries = 5,
	       .ack_delay_ms = 50},
	.hold_ms = 31000,
	.max_sessions = 65535,
};

static const struct lns_env fill_env = {.cfg = &fill_cfg,
					.output = fill_output,
					.dirty = fill_dirty,
					.random = fill_random};

static redisContext *rc;
static unsigned pending; /* replies owed */

static void fill_send(int argc, const char **argv, const size_t *lens)
{
	if (redisAppendCommandArgv(rc, argc, argv, lens) != REDIS_OK) {
		fprintf(stderr, "statefill: out of memory\n");
		exit(1);
	}
	pending++;
}

static void fill_drain(void)
{
	for (; pending; pending--) {
		void *v;
		if (redisGetReply(rc, &v) != REDIS_OK) {
			fprintf(stderr, "statefill: redis: %s\n", rc->errstr);
			exit(1);
		}
		const redisReply *r = v;
		if (r->type == REDIS_REPLY_ERROR) {
			fprintf(stderr, "statefill: redis: %s\n", r->str);
			exit(1);
		}
		freeReplyObject(v);
	}
}

/* Tunnel number i (of n) as its worker would checkpoint it. */
static void fill_tunnel(struct tunnel *t, struct record_peer *peer, unsigned i,
			uint16_t tid)
{
	if (tunnel_init(t, &fill_env, tid, 0) < 0) {
		fprintf(stderr, "statefill: out of memory\n");
		exit(1);
	}
	t->state = i % 7 == 3 ? TUNNEL_WAIT_CTL_CONN : TUNNEL_ESTABLISHED;
	t->peer_tid = (uint16_t)(i + 1);
	t->tx.peer_tunnel_id = t->peer_tid;
	t->tx.peer_rws = 8;
	t->peer_framing_caps = 3;
	t->peer_bearer_caps = 3;
	t->peer_firmware = 0x0100;
	snprintf(t->peer_vendor, sizeof(t->peer_vendor), "statefill");
	snprintf(t->peer_hostname, sizeof(t->peer_hostname), "lac-%u", i);
	transport_restore(&t->tx, (uint16_t)(2 + i % 5), (uint16_t)(3 + i % 4),
			  (uint16_t)(2 + i % 5));
	memset(peer, 0, sizeof(*peer));
	peer->addr.port = (uint16_t)(1024 + i % 60000);
	if (i % 10 == 9) {
		static const uint8_t v6[16] = {0x20, 0x01, 0x0d, 0xb8};
		memcpy(peer->addr.addr, v6, 16);
		peer->addr.addr[14] = (uint8_t)(i >> 8);
		peer->addr.addr[15] = (uint8_t)i;
		peer->addr.family = 6;
	} else {
		peer->addr.family = 4;
		peer->addr.addr[0] = 192;
		peer->addr.addr[1] = 0;
		peer->addr.addr[2] = 2;
		peer->addr.addr[3] = (uint8_t)(1 + i % 250);
	}
	if (i != 0)
		return;
	/* The hostile one: what a peer may put in its Host Name AVP. */
	snprintf(t->peer_hostname, sizeof(t->peer_hostname),
		 "evil \"q\" \\ \x01\t\xff\xc3\xa9");
	struct l2tp_msg m;
	uint8_t buf[64];
	memset(&m, 0, sizeof(m));
	m.type = L2TP_MSG_HELLO;
	for (int k = 0; k < 2; k++) {
		int n = l2tp_msg_encode(&m, NULL, buf, sizeof(buf));
		if (n < 0 || transport_send(&t->tx, buf, (size_t)n, 0) < 0) {
			fprintf(stderr, "statefill: cannot queue a HELLO\n");
			exit(1);
		}
	}
}

/* The record's last 33 bytes are the PPP addresses (family, local, remote:
 * statestore/SCHEMA.md); the encoder writes zeros until PPP is attached, so
 * set them here as a PPP layer will. */
static void fill_ppp(uint8_t *rec, int len, unsigned n)
{
	uint8_t *a = rec + len - 33;
	memset(a, 0, 33);
	a[0] = 4;
	a[1] = 10, a[2] = 255, a[3] = 0, a[4] = 1;
	a[17] = 100;
	a[18] = (uint8_t)(64 + (n >> 16));
	a[19] = (uint8_t)(n >> 8);
	a[20] = (uint8_t)n;
}

static void fill_owner(const char *prefix, const char *owner, unsigned shards)
{
	char key[320], val[256], ep[32];
	for (unsigned s = 0; s < shards; s++) {
		snprintf(key, sizeof(key), "%s:lease:%u", prefix, s);
		snprintf(val, sizeof(val), "1 owner=%s epoch=7", owner);
		const char *set[] = {"SET", key, val, "PX", FILL_TTL_MS};
		fill_send(5, set, NULL);
		snprintf(key, sizeof(key), "%s:epoch:%u", prefix, s);
		const char *ep_set[] = {"SET", key, "7"};
		fill_send(3, ep_set, NULL);
		snprintf(key, sizeof(key), "%s:shardmap", prefix);
		snprintf(ep, sizeof(ep), "%u", s);
		const char *map[] = {"HSET", key, ep, val};
		fill_send(4, map, NULL);
	}
	snprintf(key, sizeof(key), "%s:workers", prefix);
	const char *reg[] = {"HSET", key, owner,
			     "1 endpoint=tcp://127.0.0.1:9 control=- wire=1 "
			     "pid=1 host=statefill protected=1"};
	fill_send(4, reg, NULL);
	snprintf(key, sizeof(key), "%s:worker:%s:alive", prefix, owner);
	const char *alive[] = {"SET", key, "1", "PX", FILL_TTL_MS};
	fill_send(5, alive, NULL);
	fill_drain();
}

int main(int argc, char **argv)
{
	if (argc != 5 && argc != 7) {
		fprintf(stderr, "usage: statefill REDIS_PORT PREFIX TUNNELS "
				"SESSIONS [OWNER SHARD_COUNT]\n");
		return 2;
	}
	const char *prefix = argv[2];
	unsigned nt = (unsigned)atoi(argv[3]), ns = (unsigned)atoi(argv[4]);
	if (nt < 1 || nt > 65535 || ns > 65535) {
		fprintf(stderr, "statefill: 1..65535 tunnels, 0..65535 "
				"sessions\n");
		return 2;
	}
	rc = redisConnect("127.0.0.1", atoi(argv[1]));
	if (!rc || rc->err) {
		fprintf(stderr, "statefill: cannot connect to Redis\n");
		return 1;
	}
	static uint8_t rec[RECORD_TUNNEL_MAX];
	static uint8_t srec[65535][RECORD_SESSION_MAX];
	static const char *hset[2 + 2 * 65535];
	static size_t hlen[2 + 2 * 65535];
	static char sids[65535][8];
	unsigned step = 65535 / nt, serial = 0;
	for (unsigned i = 0; i < nt; i++) {
		uint16_t tid = (uint16_t)(1 + i * step);
		struct tunnel t;
		struct record_peer peer;
		char tkey[320], skey[320], setkey[320], tids[8];
		fill_tunnel(&t, &peer, i, tid);
		unsigned shard = tid / (65536u / 256u);
		snprintf(tkey, sizeof(tkey), "%s:t:%u", prefix, tid);
		snprintf(skey, sizeof(skey), "%s:s:%u", prefix, tid);
		snprintf(setkey, sizeof(setkey), "%s:shard:%u:tunnels", prefix,
			 shard);
		snprintf(tids, sizeof(tids), "%u", tid);
		int n = record_tunnel_encode(&t, &peer, rec, sizeof(rec));
		if (n < 0) {
			fprintf(stderr, "statefill: tunnel record too big\n");
			return 1;
		}
		const char *set[] = {"SET", tkey, (const char *)rec};
		const size_t setl[] = {3, strlen(tkey), (size_t)n};
		fill_send(3, set, setl);
		const char *sadd[] = {"SADD", setkey, tids};
		fill_send(3, sadd, NULL);
		hset[0] = "HSET";
		hset[1] = skey;
		hlen[0] = 4;
		hlen[1] = strlen(skey);
		for (unsigned k = 0; k < ns; k++) {
			struct session *s =
				tunnel_session_add(&t, (uint16_t)(k + 1));
			s->peer_sid = (uint16_t)(k + 100);
			s->state = k % 11 == 5 ? SESSION_WAIT_CONNECT
					       : SESSION_ESTABLISHED;
			s->call_serial = ++serial;
			s->bearer_type = 2;
			s->framing_type = 1;
			s->tx_connect_bps = 100000000;
			s->rx_connect_bps = 100000000;
			snprintf(s->calling_number, sizeof(s->calling_number),
				 "0301%07u", serial);
			snprintf(s->called_number, sizeof(s->called_number),
				 "lns");
			int m = record_session_encode(s, srec[k],
						      sizeof(srec[k]));
			fill_ppp(srec[k], m, serial);
			snprintf(sids[k], sizeof(sids[k]), "%u", k + 1);
			hset[2 + 2 * k] = sids[k];
			hlen[2 + 2 * k] = strlen(sids[k]);
			hset[3 + 2 * k] = (const char *)srec[k];
			hlen[3 + 2 * k] = (size_t)m;
		}
		if (ns)
			fill_send((int)(2 + 2 * ns), hset, hlen);
		/* every command's bytes were copied: the buffers are free */
		if (i % 64 == 63)
			fill_drain();
		tunnel_free(&t);
	}
	fill_drain();
	if (argc == 7)
		fill_owner(prefix, argv[5], (unsigned)atoi(argv[6]));
	redisFree(rc);
	printf("statefill: %u tunnels, %u sessions\n", nt, nt * ns);
	return 0;
}
