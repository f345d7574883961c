/* redial: backoff and timer for dialling a lost connection again (redial.h).
 * Decides when, never how: the owner's callback dials. */
#include "redial.h"

#include <stdlib.h>

void redial_init(struct redial *r, struct loop *l, uint32_t min_ms, uint32_t max_ms,
                 loop_timer_fn fn, void *ud)
{
	r->loop = l;
	r->bo = (struct backoff){ .base_ms = min_ms, .cap_ms = max_ms };
	loop_timer_init(l, &r->timer, fn, ud);
}

uint32_t redial_schedule(struct redial *r)
{
	uint32_t delay = backoff_next(&r->bo, (uint32_t)random());

	loop_timer_arm(&r->timer, delay);
	return delay;
}

void redial_reset(struct redial *r)
{
	backoff_reset(&r->bo);
}

void redial_remove(struct redial *r)
{
	loop_timer_remove(r->loop, &r->timer);
}
