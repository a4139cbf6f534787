/* Takeover probe rounds (--probe): on each round every established tunnel
 * sends one HELLO, and the time from the round's start to that HELLO's
 * acknowledgement is kept per tunnel. Pure: times are passed in. */
#ifndef TANDEM_LAC_PROBE_H
#define TANDEM_LAC_PROBE_H

#include <stdbool.h>
#include <stdint.h>

/* One round (one SIGUSR1). */
struct lac_probe_round {
	uint64_t t0_ns;	      /* the driver's clock when the round began */
	uint64_t at_ms;	      /* t0 in ms since the run started */
	unsigned tunnels;     /* tunnels probed (established at t0) */
	unsigned answered;    /* of those, HELLO acknowledged */
	unsigned cap;	      /* entries allocated in latency_us */
	uint64_t *latency_us; /* t0 -> ack per answered tunnel, in ack order
				 (hence ascending: the clock is monotonic) */
};

/* Every round of a run. */
struct lac_probe {
	struct lac_probe_round *rounds; /* oldest first; owned */
	unsigned n_rounds;		/* rounds begun */
	unsigned cap;			/* entries allocated in rounds */
};

/* One tunnel's outstanding probe HELLO. It answers every round from
 * first_round to last_round: a tunnel whose HELLO is still unacknowledged
 * when the next round begins keeps it rather than sending another. */
struct lac_probe_tunnel {
	bool pending;	      /* a probe HELLO awaits its acknowledgement */
	uint16_t ns;	      /* its Ns */
	unsigned first_round; /* round it was sent for */
	unsigned last_round;  /* latest round that counts on it */
};

void lac_probe_init(struct lac_probe *p);
/* Frees the rounds and their latencies. */
void lac_probe_free(struct lac_probe *p);

/* Begin a round at t0_ns (at_ms for the report) for at most max_tunnels
 * tunnels. 0, or -ENOMEM (then no round was begun). */
int lac_probe_round_new(struct lac_probe *p, uint64_t t0_ns, uint64_t at_ms,
			unsigned max_tunnels);

/* Count tunnel pt in the current round. True when it must send a HELLO
 * (then lac_probe_sent with its Ns if it could); false when its pending
 * HELLO of the previous round answers this one too. */
bool lac_probe_join(struct lac_probe *p, struct lac_probe_tunnel *pt);
void lac_probe_sent(struct lac_probe *p, struct lac_probe_tunnel *pt,
		    uint16_t ns);

/* pt's HELLO was acknowledged at now_ns: answered in each of its rounds. */
void lac_probe_acked(struct lac_probe *p, struct lac_probe_tunnel *pt,
		     uint64_t now_ns);
/* pt's HELLO will never be acknowledged (tunnel gone): unanswered. */
void lac_probe_cancel(struct lac_probe_tunnel *pt);

/* Nearest-rank percentile q (0..1] of r's latencies; 0 when none. */
uint64_t lac_probe_percentile_us(const struct lac_probe_round *r, double q);

#endif
