/* The counting PPP backend: accepts every session and counts the frames the
 * LAC sends it. It stands in for pppd where none is attached (the control-plane
 * tests, load tests, and hosts without /dev/ppp until pppd support lands). */
#ifndef TANDEM_PPP_COUNT_H
#define TANDEM_PPP_COUNT_H

#include <stdint.h>

#include "lns.h"

struct ppp_count {
	uint64_t open;	  /* sessions currently attached */
	uint64_t opened;  /* sessions ever attached */
	uint64_t closed;  /* sessions detached */
	uint64_t frames;  /* PPP frames received */
	uint64_t bytes;	  /* their bytes */
	int refuse_errno; /* when non-zero, open fails with -refuse_errno */
};

/* A backend whose ctx is c. */
struct ppp_backend ppp_count_backend(struct ppp_count *c);

#endif
