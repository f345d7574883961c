/* Unit tests for component/ratelimit: burst, refill, per-key isolation,
 * bounded memory. */
#include <stdint.h>
#include <stdio.h>

#include "ratelimit.h"
#include "test.h"

static void burst_then_throttle(void)
{
	struct ratelimit *rl = ratelimit_new(64, 10, 5);
	int allowed = 0;

	for (int i = 0; i < 100; i++)
		allowed += ratelimit_take(rl, "rogue@example.org", 1000);
	CHECK_INT(allowed, 5);
	ratelimit_free(rl);
}

static void refills_at_rate(void)
{
	struct ratelimit *rl = ratelimit_new(64, 10, 5);
	int allowed = 0;

	for (int i = 0; i < 5; i++)
		CHECK_INT(ratelimit_take(rl, "a@x", 0), 1);
	CHECK_INT(ratelimit_take(rl, "a@x", 0), 0);
	/* 10/s: one token per 100 ms. Over 1 s at 1 ms steps, 10 more. */
	for (uint64_t t = 1; t <= 1000; t++)
		allowed += ratelimit_take(rl, "a@x", t);
	CHECK_INT(allowed, 10);
	ratelimit_free(rl);
}

static void keys_are_isolated(void)
{
	struct ratelimit *rl = ratelimit_new(64, 1, 3);

	for (int i = 0; i < 1000; i++)
		(void)ratelimit_take(rl, "rogue@x", 5);
	CHECK_INT(ratelimit_take(rl, "rogue@x", 5), 0);
	CHECK_INT(ratelimit_take(rl, "alice@x", 5), 1);
	CHECK_INT(ratelimit_take(rl, "bob@x", 5), 1);
	ratelimit_free(rl);
}

static void memory_is_bounded(void)
{
	struct ratelimit *rl = ratelimit_new(128, 1, 2);
	char key[64];

	/* Many one-off keys over time: idle ones are dropped. */
	for (int i = 0; i < 100000; i++) {
		snprintf(key, sizeof key, "user%d@x", i);
		CHECK_INT(ratelimit_take(rl, key, (uint64_t)i * 10000), 1);
	}
	CHECK(ratelimit_tracked(rl) <= 96);
	/* A table full of active (drained) keys fails open for newcomers. */
	for (int i = 0; i < 200; i++) {
		snprintf(key, sizeof key, "active%d@x", i);
		(void)ratelimit_take(rl, key, 2000000000);
		(void)ratelimit_take(rl, key, 2000000000);
	}
	CHECK(ratelimit_tracked(rl) <= 96);
	CHECK_INT(ratelimit_take(rl, "newcomer@x", 2000000000), 1);
	ratelimit_free(rl);
}

static void check_does_not_consume(void)
{
	struct ratelimit *rl = ratelimit_new(64, 1, 2);

	for (int i = 0; i < 100; i++)
		CHECK_INT(ratelimit_check(rl, "a@x", 0), 1);
	CHECK_INT(ratelimit_take(rl, "a@x", 0), 1);
	CHECK_INT(ratelimit_take(rl, "a@x", 0), 1);
	CHECK_INT(ratelimit_check(rl, "a@x", 0), 0);
	CHECK_INT(ratelimit_check(rl, "a@x", 1000), 1);
	ratelimit_free(rl);
}

/* A reload: the new rate and burst apply to keys already tracked. */
static void set_rate_applies(void)
{
	struct ratelimit *rl = ratelimit_new(64, 1, 2);
	int allowed = 0;

	CHECK_INT(ratelimit_take(rl, "a@x", 0), 1);
	CHECK_INT(ratelimit_take(rl, "a@x", 0), 1);
	CHECK_INT(ratelimit_take(rl, "a@x", 0), 0);
	ratelimit_set_rate(rl, 1000, 5);
	for (int i = 0; i < 10; i++)
		allowed += ratelimit_take(rl, "a@x", 1000);
	CHECK_INT(allowed, 5);                         /* refilled to the new burst, not beyond */
	CHECK_INT(ratelimit_take(rl, "a@x", 1001), 1); /* 1000/s: one per ms */
	ratelimit_free(rl);
}

TEST_MAIN(T(set_rate_applies), T(check_does_not_consume), T(burst_then_throttle),
          T(refills_at_rate), T(keys_are_isolated), T(memory_is_bounded))
