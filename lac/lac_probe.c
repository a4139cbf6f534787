/* Takeover probe rounds (lac_probe.h): which tunnels each round counts, and
 * when each round's HELLOs were acknowledged, kept exactly (one entry per
 * answered tunnel) so that the percentiles are exact too. */
#include "lac_probe.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"

void lac_probe_init(struct lac_probe *p)
{
	memset(p, 0, sizeof(*p));
}

void lac_probe_free(struct lac_probe *p)
{
	for (unsigned i = 0; i < p->n_rounds; i++)
		free(p->rounds[i].latency_us);
	free(p->rounds);
	memset(p, 0, sizeof(*p));
}

int lac_probe_round_new(struct lac_probe *p, uint64_t t0_ns, uint64_t at_ms,
			unsigned max_tunnels)
{
	if (p->n_rounds == p->cap) {
		unsigned cap = p->cap ? 2 * p->cap : 4;
		struct lac_probe_round *r =
			realloc(p->rounds, (size_t)cap * sizeof(*r));
		if (!r)
			return -ENOMEM;
		p->rounds = r;
		p->cap = cap;
	}
	struct lac_probe_round *r = &p->rounds[p->n_rounds];
	memset(r, 0, sizeof(*r));
	r->latency_us =
		calloc(max_tunnels ? max_tunnels : 1, sizeof(*r->latency_us));
	if (!r->latency_us)
		return -ENOMEM;
	r->t0_ns = t0_ns;
	r->at_ms = at_ms;
	r->cap = max_tunnels;
	p->n_rounds++;
	return 0;
}

bool lac_probe_join(struct lac_probe *p, struct lac_probe_tunnel *pt)
{
	if (!p->n_rounds)
		return false;
	unsigned cur = p->n_rounds - 1;
	struct lac_probe_round *r = &p->rounds[cur];
	if (r->tunnels == r->cap)
		return false; /* more tunnels than the round was begun for */
	r->tunnels++;
	/* The pending HELLO answers this round too, unless the tunnel sat a
	 * round out: then the rounds it was in cannot be told apart from
	 * the one it missed, so it starts afresh. */
	if (pt->pending && pt->last_round + 1 == cur) {
		pt->last_round = cur;
		return false;
	}
	pt->pending = false;
	return true;
}

void lac_probe_sent(struct lac_probe *p, struct lac_probe_tunnel *pt,
		    uint16_t ns)
{
	if (!p->n_rounds)
		return;
	pt->pending = true;
	pt->ns = ns;
	pt->first_round = pt->last_round = p->n_rounds - 1;
}

void lac_probe_acked(struct lac_probe *p, struct lac_probe_tunnel *pt,
		     uint64_t now_ns)
{
	if (!pt->pending)
		return;
	pt->pending = false;
	for (unsigned i = pt->first_round;
	     i <= pt->last_round && i < p->n_rounds; i++) {
		struct lac_probe_round *r = &p->rounds[i];
		if (r->answered == r->tunnels)
			continue; /* cannot happen: pt joined r */
		uint64_t us =
			now_ns > r->t0_ns ? (now_ns - r->t0_ns) / 1000u : 0;
		r->latency_us[r->answered++] = us;
		if (r->answered == r->tunnels)
			log_info("probe round answered",
				 "round=%u tunnels=%u max_ms=%.3f", i + 1,
				 r->tunnels, (double)us / 1000.0);
	}
}

void lac_probe_cancel(struct lac_probe_tunnel *pt)
{
	pt->pending = false;
}

uint64_t lac_probe_percentile_us(const struct lac_probe_round *r, double q)
{
	if (!r->answered)
		return 0;
	/* Nearest rank: the smallest value with at least q of them at or
	 * below it. The latencies are in ascending order already. */
	double want = ceil(q * (double)r->answered - 1e-9);
	unsigned rank = want < 1 ? 1 : (unsigned)want;
	if (rank > r->answered)
		rank = r->answered;
	return r->latency_us[rank - 1];
}
