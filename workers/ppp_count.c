/* Counting PPP backend (see ppp_count.h). */
#include "ppp_count.h"

static int ppp_count_open(void *ctx, struct session *s)
{
	struct ppp_count *c = ctx;
	(void)s;
	if (c->refuse_errno)
		return -c->refuse_errno;
	c->open++;
	c->opened++;
	return 0;
}

static void ppp_count_close(void *ctx, struct session *s)
{
	struct ppp_count *c = ctx;
	(void)s;
	c->open--;
	c->closed++;
}

static void ppp_count_frame(void *ctx, struct session *s, const uint8_t *frame,
			    size_t len)
{
	struct ppp_count *c = ctx;
	(void)s;
	(void)frame;
	c->frames++;
	c->bytes += len;
}

struct ppp_backend ppp_count_backend(struct ppp_count *c)
{
	return (struct ppp_backend){.open = ppp_count_open,
				    .close = ppp_count_close,
				    .frame = ppp_count_frame,
				    .ctx = c};
}
