/* Address pools in Redis (statestore/SCHEMA.md, "Address pools"): one sorted
 * set of free addresses per pool, filled on first use, and two hashes saying
 * who holds what; allocation and release are each one Lua script. */
#include "ppp_pool.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <hiredis/hiredis.h>

/* KEYS: free zset, holder hash (addr -> owner), owner hash (owner -> addr),
 * init marker. ARGV: first, last (integers), owner. The lowest free address
 * goes (ZPOPMIN: the same answer on replicas). Returns the address as an
 * integer, or -1 when the pool is exhausted. */
static const char ppp_pool_lua_alloc[] =
	"local have = redis.call('HGET', KEYS[3], ARGV[3])\n"
	"local function txt(a) return string.format('%d.%d.%d.%d',\n"
	"  math.floor(a / 16777216) % 256, math.floor(a / 65536) % 256,\n"
	"  math.floor(a / 256) % 256, a % 256) end\n"
	"local function num(t) local a, b, c, d = string.match(t,\n"
	"  '(%d+)%.(%d+)%.(%d+)%.(%d+)')\n"
	"  return ((tonumber(a) * 256 + tonumber(b)) * 256 + tonumber(c)) * "
	"256 + tonumber(d) end\n"
	"if have then return num(have) end\n"
	"if redis.call('EXISTS', KEYS[4]) == 0 then\n"
	"  local batch = {}\n"
	"  for a = tonumber(ARGV[1]), tonumber(ARGV[2]) do\n"
	"    local t = txt(a)\n"
	"    if redis.call('HEXISTS', KEYS[2], t) == 0 then\n"
	"      batch[#batch + 1] = a batch[#batch + 1] = t end\n"
	"    if #batch >= 1000 then redis.call('ZADD', KEYS[1], "
	"unpack(batch))\n"
	"      batch = {} end\n"
	"  end\n"
	"  if #batch > 0 then redis.call('ZADD', KEYS[1], unpack(batch)) end\n"
	"  redis.call('SET', KEYS[4], '1 first=' .. txt(tonumber(ARGV[1])) ..\n"
	"    ' last=' .. txt(tonumber(ARGV[2])))\n"
	"end\n"
	"local got = redis.call('ZPOPMIN', KEYS[1])\n"
	"if #got == 0 then return -1 end\n"
	"redis.call('HSET', KEYS[2], got[1], ARGV[3])\n"
	"redis.call('HSET', KEYS[3], ARGV[3], got[1])\n"
	"return num(got[1])\n";

/* KEYS: as above. ARGV: address text, owner, address integer. Returns 1 when
 * released, 0 when owner did not hold it. */
static const char ppp_pool_lua_release[] =
	"if redis.call('HGET', KEYS[2], ARGV[1]) ~= ARGV[2] then return 0 "
	"end\n"
	"redis.call('HDEL', KEYS[2], ARGV[1])\n"
	"redis.call('HDEL', KEYS[3], ARGV[2])\n"
	"redis.call('ZADD', KEYS[1], ARGV[3], ARGV[1])\n"
	"return 1\n";

void ppp_pool_addr_text(uint32_t addr, char *buf, size_t len)
{
	snprintf(buf, len, "%u.%u.%u.%u", addr >> 24, (addr >> 16) & 0xff,
		 (addr >> 8) & 0xff, addr & 0xff);
}

int ppp_pool_parse(const char *text, struct ppp_pool *p, char *err,
		   size_t errlen)
{
	char host[32];
	const char *slash = strchr(text, '/');
	struct in_addr in;
	char *end;
	memset(p, 0, sizeof(*p));
	if (!slash || (size_t)(slash - text) >= sizeof(host))
		goto bad;
	memcpy(host, text, (size_t)(slash - text));
	host[slash - text] = '\0';
	long len = strtol(slash + 1, &end, 10);
	if (*end || end == slash + 1 || inet_pton(AF_INET, host, &in) != 1)
		goto bad;
	if (len < 8 || len > 30) {
		snprintf(err, errlen,
			 "ppp_pool: \"%s\": prefix length must be 8..30", text);
		return -EINVAL;
	}
	uint32_t net = ntohl(in.s_addr);
	uint32_t mask = ~0u << (32 - len);
	if (net & ~mask) {
		snprintf(err, errlen,
			 "ppp_pool: \"%s\": host bits set (network address "
			 "expected)",
			 text);
		return -EINVAL;
	}
	snprintf(p->name, sizeof(p->name), "%s", text);
	p->local = net + 1;
	p->first = net + 2;
	p->last = (net | ~mask) - 1;
	return 0;
bad:
	snprintf(err, errlen, "ppp_pool: \"%s\" is not A.B.C.D/LEN", text);
	return -EINVAL;
}

/* Redis keys of pool p: free, holder, owner, init. */
static void ppp_pool_keys(const struct statestore *ss, const struct ppp_pool *p,
			  char keys[4][STATESTORE_KEY_MAX])
{
	static const char *const what[4] = {"free", "holder", "owner", "init"};
	for (int i = 0; i < 4; i++)
		statestore_key(ss, keys[i], STATESTORE_KEY_MAX, "pool:%s:%s",
			       p->name, what[i]);
}

/* One allocation in flight. */
struct ppp_pool_req {
	ppp_pool_cb cb;
	void *arg;
};

static void ppp_pool_alloc_reply(void *arg, const struct redisReply *r)
{
	struct ppp_pool_req *q = arg;
	if (!r || r->type != REDIS_REPLY_INTEGER)
		q->cb(q->arg, -EIO, 0);
	else if (r->integer < 0 || r->integer > UINT32_MAX)
		q->cb(q->arg, -ENOSPC, 0);
	else
		q->cb(q->arg, 0, (uint32_t)r->integer);
	free(q);
}

int ppp_pool_alloc(struct statestore *ss, const struct ppp_pool *p,
		   const char *owner, ppp_pool_cb cb, void *arg)
{
	char keys[4][STATESTORE_KEY_MAX], first[16], last[16];
	struct ppp_pool_req *q = malloc(sizeof(*q));
	if (!q)
		return -ENOMEM;
	q->cb = cb;
	q->arg = arg;
	ppp_pool_keys(ss, p, keys);
	snprintf(first, sizeof(first), "%u", p->first);
	snprintf(last, sizeof(last), "%u", p->last);
	const char *argv[] = {"EVAL",  ppp_pool_lua_alloc,
			      "4",     keys[0],
			      keys[1], keys[2],
			      keys[3], first,
			      last,    owner};
	int rc = statestore_query(ss, ppp_pool_alloc_reply, q, 10, argv, NULL);
	if (rc < 0)
		free(q); /* statestore_send freed its own request */
	return rc;
}

int ppp_pool_release(struct statestore *ss, const struct ppp_pool *p,
		     uint32_t addr, const char *owner)
{
	char keys[4][STATESTORE_KEY_MAX], txt[16], num[16];
	ppp_pool_keys(ss, p, keys);
	ppp_pool_addr_text(addr, txt, sizeof(txt));
	snprintf(num, sizeof(num), "%u", addr);
	const char *argv[] = {"EVAL",  ppp_pool_lua_release,
			      "4",     keys[0],
			      keys[1], keys[2],
			      keys[3], txt,
			      owner,   num};
	return statestore_command(ss, NULL, NULL, 10, argv, NULL);
}
