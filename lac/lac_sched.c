/* Concurrency limit and session token bucket (lac_sched.h). The bucket is
 * small (20 ms of tokens) so that a stall, e.g. while the concurrency limit
 * holds setups back, is not followed by a burst far above the asked rate. */
#include "lac_sched.h"

#include <math.h>

#define LAC_SCHED_BURST_MS 20.0

void lac_sched_init(struct lac_sched *s, double rate_per_s,
		    unsigned concurrency, uint64_t now_ms)
{
	s->rate_per_s = rate_per_s > 0 ? rate_per_s : 0;
	s->burst = s->rate_per_s * LAC_SCHED_BURST_MS / 1000.0;
	if (s->burst < 1)
		s->burst = 1;
	s->tokens = s->burst;
	s->last_ms = now_ms;
	s->concurrency = concurrency;
	s->in_flight = 0;
}

static void lac_sched_refill(struct lac_sched *s, uint64_t now_ms)
{
	if (now_ms <= s->last_ms)
		return;
	s->tokens += (double)(now_ms - s->last_ms) * s->rate_per_s / 1000.0;
	if (s->tokens > s->burst)
		s->tokens = s->burst;
	s->last_ms = now_ms;
}

bool lac_sched_has_room(const struct lac_sched *s)
{
	return s->concurrency == 0 || s->in_flight < s->concurrency;
}

bool lac_sched_take_session(struct lac_sched *s, uint64_t now_ms)
{
	if (!lac_sched_has_room(s))
		return false;
	if (s->rate_per_s > 0) {
		lac_sched_refill(s, now_ms);
		if (s->tokens < 1)
			return false;
		s->tokens -= 1;
	}
	s->in_flight++;
	return true;
}

void lac_sched_start(struct lac_sched *s)
{
	s->in_flight++;
}

void lac_sched_done(struct lac_sched *s)
{
	if (s->in_flight)
		s->in_flight--;
}

uint64_t lac_sched_wait_ms(struct lac_sched *s, uint64_t now_ms)
{
	if (s->rate_per_s <= 0)
		return 0;
	lac_sched_refill(s, now_ms);
	if (s->tokens >= 1)
		return 0;
	return (uint64_t)ceil((1 - s->tokens) * 1000.0 / s->rate_per_s);
}
