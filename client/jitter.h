/* jitter: the random values that spread the client's backoff delays
 * (reconnect, registration retry), so that devices which lost the same
 * server do not all come back at the same moment. */
#ifndef XPUSH_JITTER_H
#define XPUSH_JITTER_H

#include <stdint.h>

/* A random 32-bit value from getrandom(), or, when that fails, a hash of
 * the monotonic clock and salt (any address, e.g. the client's). */
uint32_t jitter_random(const void *salt);

#endif
