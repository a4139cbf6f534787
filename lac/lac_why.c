/* Names and descriptions of the LAC's end reasons (lac_why.h). */
#include "lac_why.h"

static const struct {
	const char *key;  /* report and log name */
	const char *desc; /* one sentence */
} lac_why_table[LAC_WHY__COUNT] = {
#define LAC_X(name, k, d) [LAC_WHY_##name] = {k, d},
	LAC_WHY_TABLE(LAC_X)
#undef LAC_X
};

const char *lac_why_name(enum lac_why w)
{
	return (unsigned)w < LAC_WHY__COUNT ? lac_why_table[w].key : "unknown";
}

const char *lac_why_desc(enum lac_why w)
{
	return (unsigned)w < LAC_WHY__COUNT ? lac_why_table[w].desc : "unknown";
}
