/* Unit tests for common/backoff: bounds, growth, cap, reset. */
#include <stdint.h>

#include "backoff.h"
#include "test.h"

static void grows_and_caps(void)
{
	struct backoff b = { 100, 5000, 0 };
	/* With the maximal random value the delay is the ceiling itself. */
	uint32_t want[] = { 100, 200, 400, 800, 1600, 3200, 5000, 5000, 5000 };

	for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
		struct backoff probe = b;
		uint32_t ceil_delay = backoff_next(&probe, UINT32_MAX - (UINT32_MAX % (want[i] - 50 + 1)) - 1);
		CHECK(ceil_delay <= want[i]);
		CHECK(ceil_delay >= 50);
		(void)backoff_next(&b, 0);
	}
	CHECK_INT(b.attempt, 9);
}

static void jitter_stays_in_range(void)
{
	for (uint32_t seed = 0; seed < 5000; seed++) {
		struct backoff b = { 500, 30000, 0 };
		uint32_t rnd = seed * 2654435761u;
		for (int i = 0; i < 20; i++) {
			uint32_t d = backoff_next(&b, rnd);
			rnd = rnd * 1103515245u + 12345u;
			CHECK(d >= 250);
			CHECK(d <= 30000);
		}
	}
}

static void floor_is_half_base(void)
{
	struct backoff b = { 1000, 60000, 0 };

	CHECK_INT(backoff_next(&b, 0), 500);
	CHECK_INT(backoff_next(&b, 0), 500);
}

static void reset_starts_over(void)
{
	struct backoff b = { 100, 10000, 0 };

	for (int i = 0; i < 10; i++)
		(void)backoff_next(&b, 7);
	backoff_reset(&b);
	CHECK_INT(b.attempt, 0);
	CHECK(backoff_next(&b, UINT32_MAX) <= 100);
}

static void no_overflow_after_many_attempts(void)
{
	struct backoff b = { 500, 30000, UINT32_MAX - 1 };

	CHECK(backoff_next(&b, 12345) <= 30000);
	CHECK(backoff_next(&b, 12345) <= 30000);
	CHECK_INT(b.attempt, UINT32_MAX);
}

TEST_MAIN(T(grows_and_caps), T(jitter_stays_in_range), T(floor_is_half_base),
          T(reset_starts_over), T(no_overflow_after_many_attempts))
