/* backoff: capped exponential backoff with jitter ("full jitter" with a floor
 * of half the base so that a reconnect storm never retries at 0 ms). */
#include "backoff.h"

uint32_t backoff_next(struct backoff *b, uint32_t rnd)
{
	uint64_t ceil = b->base_ms ? b->base_ms : 1;
	uint32_t floor;

	for (uint32_t i = 0; i < b->attempt && ceil < b->cap_ms; i++)
		ceil *= 2;
	if (ceil > b->cap_ms)
		ceil = b->cap_ms;
	floor = b->base_ms / 2;
	if (floor > ceil)
		floor = (uint32_t)ceil;
	if (b->attempt < UINT32_MAX)
		b->attempt++;
	return floor + (uint32_t)(rnd % ((uint32_t)ceil - floor + 1));
}

void backoff_reset(struct backoff *b)
{
	b->attempt = 0;
}
