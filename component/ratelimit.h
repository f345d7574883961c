/* ratelimit: per-key token buckets (key = a device's bare JID) so one
 * flooding account is throttled while the others are unaffected. Pure: the
 * caller passes now_ms. Memory is bounded by the capacity given at creation;
 * idle buckets (full again) are dropped when the table fills up. */
#ifndef XPUSH_RATELIMIT_H
#define XPUSH_RATELIMIT_H

#include <stddef.h>
#include <stdint.h>

struct ratelimit;

/* rate_per_s tokens per second, at most burst banked. NULL on OOM. */
struct ratelimit *ratelimit_new(size_t capacity, double rate_per_s, double burst);
void ratelimit_free(struct ratelimit *rl);
/* New rate and burst for every key (a reload); the tracked keys stay. */
void ratelimit_set_rate(struct ratelimit *rl, double rate_per_s, double burst);

/* Take one token for key. 1 = allowed, 0 = throttled. If the table is full
 * of active keys, new keys are allowed untracked (fail open: a flood of
 * accounts must not lock out legitimate devices). */
int ratelimit_take(struct ratelimit *rl, const char *key, uint64_t now_ms);
/* 1 if key has a token now (without taking it), else 0. */
int ratelimit_check(struct ratelimit *rl, const char *key, uint64_t now_ms);
size_t ratelimit_tracked(const struct ratelimit *rl);

#endif
