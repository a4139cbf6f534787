/* Log-linear latency histogram (lac_hist.h): values below 16 us have a bucket
 * each; above, each power of two is split into 16 equal buckets. */
#include "lac_hist.h"

#include <math.h>
#include <string.h>

static unsigned lac_hist_index(uint64_t v)
{
	if (v < LAC_HIST_SUB)
		return (unsigned)v;
	unsigned msb = 63u - (unsigned)__builtin_clzll(v);
	unsigned shift = msb - 4u;
	unsigned sub = (unsigned)(v >> shift) & (LAC_HIST_SUB - 1u);
	return (shift + 1u) * LAC_HIST_SUB + sub;
}

/* Lowest value of bucket i and the bucket's width. */
static void lac_hist_bounds(unsigned i, uint64_t *lo, uint64_t *width)
{
	if (i < LAC_HIST_SUB) {
		*lo = i;
		*width = 1;
		return;
	}
	unsigned shift = i / LAC_HIST_SUB - 1u;
	uint64_t sub = i % LAC_HIST_SUB;
	*lo = (LAC_HIST_SUB + sub) << shift;
	*width = (uint64_t)1 << shift;
}

void lac_hist_init(struct lac_hist *h)
{
	memset(h, 0, sizeof(*h));
}

void lac_hist_record(struct lac_hist *h, uint64_t us)
{
	if (h->count == 0 || us < h->min_us)
		h->min_us = us;
	if (us > h->max_us)
		h->max_us = us;
	h->count++;
	h->sum_us += us;
	h->bucket[lac_hist_index(us)]++;
}

void lac_hist_merge(struct lac_hist *dst, const struct lac_hist *src)
{
	if (!src->count)
		return;
	if (dst->count == 0 || src->min_us < dst->min_us)
		dst->min_us = src->min_us;
	if (src->max_us > dst->max_us)
		dst->max_us = src->max_us;
	dst->count += src->count;
	dst->sum_us += src->sum_us;
	for (unsigned i = 0; i < LAC_HIST_BUCKETS; i++)
		dst->bucket[i] += src->bucket[i];
}

uint64_t lac_hist_percentile_us(const struct lac_hist *h, double q)
{
	if (!h->count)
		return 0;
	if (q < 0)
		q = 0;
	if (q > 1)
		q = 1;
	/* Rank of the wanted value, 1-based: the smallest value with at
	 * least q of all values at or below it. */
	uint64_t rank = (uint64_t)ceil(q * (double)h->count);
	if (rank < 1)
		rank = 1;
	uint64_t seen = 0;
	for (unsigned i = 0; i < LAC_HIST_BUCKETS; i++) {
		seen += h->bucket[i];
		if (seen < rank)
			continue;
		uint64_t lo, width;
		lac_hist_bounds(i, &lo, &width);
		uint64_t v = lo + width / 2;
		if (v < h->min_us)
			v = h->min_us;
		if (v > h->max_us)
			v = h->max_us;
		return v;
	}
	return h->max_us;
}
