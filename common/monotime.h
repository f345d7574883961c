/* monotime: the one monotonic clock of xpushd, libxpush and their tools.
 * Milliseconds since an arbitrary start (CLOCK_MONOTONIC): for deadlines and
 * intervals only, never for wall time. */
#ifndef XPUSH_MONOTIME_H
#define XPUSH_MONOTIME_H

#include <stdint.h>

uint64_t monotime_ms(void);

#endif
