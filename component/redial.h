/* redial: when xpushd dials a lost connection again (the XMPP server, each
 * Postgres session). Capped jittered backoff (common/backoff.h) and the loop
 * timer that calls the owner back when the delay has passed. The owner keeps
 * the struct; nothing is allocated. */
#ifndef XPUSH_REDIAL_H
#define XPUSH_REDIAL_H

#include <stdint.h>

#include "backoff.h"
#include "loop.h"

struct redial {
	struct loop *loop;
	struct backoff bo;
	struct loop_timer timer; /* fires fn(timer) with timer->ud = the owner's ud */
};

/* Register the timer (redial_remove before freeing r). Delays run from
 * min_ms (jittered) and double up to max_ms. */
void redial_init(struct redial *r, struct loop *l, uint32_t min_ms, uint32_t max_ms,
                 loop_timer_fn fn, void *ud);
/* Arm the timer for the next attempt; returns its delay in ms (for the log). */
uint32_t redial_schedule(struct redial *r);
/* The connection proved healthy: the next loss starts from min_ms again. */
void redial_reset(struct redial *r);
void redial_remove(struct redial *r);

#endif
