/* jitter: random values for backoff delays (see jitter.h). No state. */
#include <sys/random.h>

#include "jitter.h"
#include "monotime.h"

uint32_t jitter_random(const void *salt)
{
	uint32_t r;

	if (getrandom(&r, sizeof r, GRND_NONBLOCK) != (ssize_t)sizeof r)
		r = (uint32_t)monotime_ms() * 2654435761u ^ (uint32_t)(uintptr_t)salt;
	return r;
}
