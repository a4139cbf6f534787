/* Admission control for new setups: at most `concurrency` in flight and, for
 * sessions, a token bucket of `rate` per second. Pure: time is passed in. */
#ifndef TANDEM_LAC_SCHED_H
#define TANDEM_LAC_SCHED_H

#include <stdbool.h>
#include <stdint.h>

struct lac_sched {
	double rate_per_s;    /* tokens added per second; 0 = no rate limit */
	double burst;	      /* bucket size in tokens */
	double tokens;	      /* tokens available at last_ms */
	uint64_t last_ms;     /* when tokens was computed */
	unsigned concurrency; /* setups allowed in flight; 0 = no limit */
	unsigned in_flight;   /* setups started and not finished */
};

/* Bucket size: 20 ms worth of tokens, at least one. Starts full. */
void lac_sched_init(struct lac_sched *s, double rate_per_s,
		    unsigned concurrency, uint64_t now_ms);

/* True when one more setup may be in flight (tunnels only check this). */
bool lac_sched_has_room(const struct lac_sched *s);

/* Take a session setup slot and a token at now_ms: true when both were
 * available (in_flight is then incremented). */
bool lac_sched_take_session(struct lac_sched *s, uint64_t now_ms);

/* Count a tunnel setup as started (no token needed). */
void lac_sched_start(struct lac_sched *s);
/* A setup finished (up or failed). */
void lac_sched_done(struct lac_sched *s);

/* Milliseconds from now_ms until a token is available (0 = now). */
uint64_t lac_sched_wait_ms(struct lac_sched *s, uint64_t now_ms);

#endif
