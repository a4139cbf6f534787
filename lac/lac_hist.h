/* Latency histogram with fixed memory: log-linear buckets (16 per power of
 * two) over microseconds, so every percentile is within ~6% of the truth. */
#ifndef TANDEM_LAC_HIST_H
#define TANDEM_LAC_HIST_H

#include <stdint.h>

#define LAC_HIST_SUB	 16 /* buckets per power of two (and exact below) */
#define LAC_HIST_BUCKETS ((64 - 4) * LAC_HIST_SUB + LAC_HIST_SUB)

struct lac_hist {
	uint64_t count;	 /* values recorded */
	uint64_t sum_us; /* their sum, for the mean */
	uint64_t min_us; /* smallest value (valid when count) */
	uint64_t max_us; /* largest value */
	uint64_t bucket[LAC_HIST_BUCKETS]; /* values per bucket */
};

void lac_hist_init(struct lac_hist *h);
void lac_hist_record(struct lac_hist *h, uint64_t us);
/* Add every value of src to dst. */
void lac_hist_merge(struct lac_hist *dst, const struct lac_hist *src);
/* The value below which a fraction q (0..1) of the values lie: the middle of
 * the bucket holding it, clamped to [min, max]. 0 when empty. */
uint64_t lac_hist_percentile_us(const struct lac_hist *h, double q);

#endif
