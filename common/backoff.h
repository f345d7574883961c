/* backoff: capped exponential backoff with full jitter. Pure: the caller
 * supplies the random value, so tests are deterministic. */
#ifndef XPUSH_BACKOFF_H
#define XPUSH_BACKOFF_H

#include <stdint.h>

struct backoff {
	uint32_t base_ms; /* delay scale of the first retry */
	uint32_t cap_ms;  /* no delay exceeds this */
	uint32_t attempt; /* failures since the last reset */
};

/* Delay before the next attempt: uniform in [base/2, min(cap, base*2^attempt)],
 * using rnd (any 32-bit random value). Increments attempt. */
uint32_t backoff_next(struct backoff *b, uint32_t rnd);

/* Call after a connection has proven healthy. */
void backoff_reset(struct backoff *b);

#endif
