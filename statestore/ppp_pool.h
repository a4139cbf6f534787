/* Subscriber address pools (config key ppp_pool): the pool text, and
 * cluster-wide allocation of its addresses through Redis, so that two workers
 * never hand out the same address and a session keeps its address across a
 * takeover (keys in statestore/SCHEMA.md). IPv4 only. */
#ifndef TANDEM_PPP_POOL_H
#define TANDEM_PPP_POOL_H

#include <stddef.h>
#include <stdint.h>

#include "statestore.h"

/* A parsed pool: "198.51.100.0/24" -> our side .1, subscribers .2-.254. */
struct ppp_pool {
	char name[32];	      /* the CIDR as written: part of the Redis keys */
	uint32_t local;	      /* our PPP address (host byte order) */
	uint32_t first, last; /* subscriber addresses, inclusive */
};

/* Parse "A.B.C.D/len" (len 8..30; host bits must be zero). Returns 0, or
 * -EINVAL with a one-line message in err. */
int ppp_pool_parse(const char *text, struct ppp_pool *p, char *err,
		   size_t errlen);

/* Completion of an allocation: status 0 with addr (host byte order), or
 * -ENOSPC (pool exhausted), -EIO (Redis lost or error). */
typedef void (*ppp_pool_cb)(void *arg, int status, uint32_t addr);

/* Take a free address of pool p for owner (e.g. "<tid>/<sid>"). Idempotent
 * per owner: asking again returns the address the owner already holds, so
 * a new owner after a takeover cannot get a second one. Returns 0 (cb will
 * run) or -errno (cb will not run: Redis not connected). */
int ppp_pool_alloc(struct statestore *ss, const struct ppp_pool *p,
		   const char *owner, ppp_pool_cb cb, void *arg);

/* Give addr back, if owner still holds it. Fire and forget: a release that
 * does not reach Redis leaves the address held until an operator frees it.
 * Returns 0 or -errno. */
int ppp_pool_release(struct statestore *ss, const struct ppp_pool *p,
		     uint32_t addr, const char *owner);

/* "a.b.c.d" of addr (host byte order) into buf (16 bytes suffice). */
void ppp_pool_addr_text(uint32_t addr, char *buf, size_t len);

#endif
