/* test_netlearn: the per-network heartbeat learner (client/netlearn.c), run
 * against a simulated NAT through hundreds of heartbeat cycles per case. */
#include <stdlib.h>

#include "netlearn.h"
#include "test.h"

/* One heartbeat against a NAT that forgets a mapping idle for nat_ms or more. */
static enum nl_change beat(struct nl_state *s, const struct nl_params *p, uint32_t nat_ms)
{
	uint32_t t = s->interval_ms;

	return t < nat_ms ? nl_success(s, p, t) : nl_failure(s, p, t);
}

struct conv_case {
	const char *name;
	struct nl_params p;
	uint32_t nat_ms;
	uint32_t lo, hi;          /* settled interval must be in [lo, hi] */
	unsigned max_failures;    /* over the whole run */
};

static void test_converges(void)
{
	static const struct conv_case cases[] = {
		/* T = 300 s, production defaults: settles at 270 s (0.9 T) */
		{ "defaults T=300s", { 60000, 600000, 30000, 3, 2, 30 }, 300000, 240000, 299999, 8 },
		/* the e2e scale: T = 1.5 s, min 400, step 250: 1400 ms (0.93 T) */
		{ "e2e T=1500ms", { 400, 4000, 250, 2, 2, 0 }, 1500, 1200, 1499, 1 },
		/* T beyond max: settles at max, never fails */
		{ "T above max", { 60000, 600000, 30000, 3, 2, 30 }, 1800000, 600000, 600000, 0 },
		/* T below min: nothing to learn, stays at min (every beat fails) */
		{ "T below min", { 60000, 600000, 30000, 3, 2, 30 }, 45000, 60000, 60000, 1000 },
		/* step = T/5 lands on T exactly: 0.8 T */
		{ "step divides T", { 100, 10000, 200, 1, 2, 0 }, 1000, 800, 999, 1 },
		/* coarse step: still below T, never above */
		{ "coarse step", { 1000, 100000, 7000, 2, 2, 0 }, 30000, 23000, 29999, 1 },
	};

	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		const struct conv_case *k = &cases[i];
		struct nl_state s;
		unsigned failures = 0, late_failures = 0;

		CHECK(nl_params_check(&k->p) == 0);
		nl_init(&s, &k->p);
		CHECK_INT(s.interval_ms, k->p.min_ms);
		for (int n = 0; n < 1000; n++) {
			if (s.interval_ms >= k->nat_ms) {
				failures++;
				if (n >= 500 && s.phase != NL_PROBE)
					late_failures++;
			}
			beat(&s, &k->p, k->nat_ms);
		}
		if (s.phase == NL_PROBE) /* stopped mid-probe: the held value is the answer */
			s.interval_ms = s.held_ms;
		if (s.interval_ms < k->lo || s.interval_ms > k->hi || failures > k->max_failures) {
			fprintf(stderr, "case %s: interval %u (want %u..%u), failures %u (max %u)\n",
				k->name, (unsigned)s.interval_ms, (unsigned)k->lo, (unsigned)k->hi,
				failures, k->max_failures);
			CHECK(0);
		}
		if (k->nat_ms > k->p.min_ms)
			CHECK_INT(late_failures, 0); /* only probes may fail once settled */
	}
}

static void test_sequence(void)
{
	struct nl_params p = { 100, 1000, 100, 2, 2, 3 };
	struct nl_state s;

	nl_init(&s, &p);
	CHECK_INT(nl_success(&s, &p, 100), NL_SAME);
	CHECK_INT(nl_success(&s, &p, 100), NL_STEP_UP);
	CHECK_INT(s.interval_ms, 200);
	CHECK_INT(nl_success(&s, &p, 150), NL_SAME); /* early ping: ignored */
	CHECK_INT(s.ok_streak, 0);
	CHECK_INT(nl_success(&s, &p, 205), NL_SAME); /* a late timer still counts */
	CHECK_INT(nl_success(&s, &p, 200), NL_STEP_UP);
	CHECK_INT(nl_failure(&s, &p, 300), NL_FALL_BACK); /* never answered at 300 */
	CHECK_INT(s.interval_ms, 200);
	CHECK_INT(s.bad_ms, 300);
	CHECK_INT(s.phase, NL_HOLD);
	/* holding: probe after 3 successes */
	CHECK_INT(nl_success(&s, &p, 200), NL_SAME);
	CHECK_INT(nl_success(&s, &p, 200), NL_SAME);
	CHECK_INT(nl_success(&s, &p, 200), NL_PROBE_UP);
	CHECK_INT(s.interval_ms, 300);
	CHECK_INT(nl_failure(&s, &p, 300), NL_FALL_BACK);
	CHECK_INT(s.interval_ms, 200);
	CHECK_INT(s.probe_shift, 1);
	/* the next probe waits twice as long */
	for (int i = 0; i < 5; i++)
		CHECK_INT(nl_success(&s, &p, 200), NL_SAME);
	CHECK_INT(nl_success(&s, &p, 200), NL_PROBE_UP);
	/* the NAT got more lenient: the probe is answered, learning resumes */
	CHECK_INT(nl_success(&s, &p, 300), NL_PROBE_OK);
	CHECK_INT(s.bad_ms, 0);
	CHECK_INT(s.probe_shift, 0);
	CHECK_INT(s.phase, NL_LEARN);
	CHECK_INT(nl_success(&s, &p, 300), NL_SAME);
	CHECK_INT(nl_success(&s, &p, 300), NL_STEP_UP);
	CHECK_INT(s.interval_ms, 400);
	/* a ping that tested less than the interval and failed teaches nothing */
	CHECK_INT(nl_failure(&s, &p, 10), NL_SAME);
	CHECK_INT(s.interval_ms, 400);
}

static void test_proven_blip_and_worse_network(void)
{
	struct nl_params p = { 100, 1000, 100, 1, 2, 0 };
	struct nl_state s;

	nl_init(&s, &p);
	while (s.interval_ms < 500)
		nl_success(&s, &p, s.interval_ms);
	nl_success(&s, &p, 500); /* 500 answered: proven; steps to 600 */
	CHECK_INT(s.interval_ms, 600);
	CHECK_INT(nl_failure(&s, &p, 600), NL_FALL_BACK);
	CHECK_INT(s.interval_ms, 500);
	/* one miss of a proven interval is a blip: keep it */
	CHECK_INT(nl_failure(&s, &p, 500), NL_SAME);
	CHECK_INT(s.interval_ms, 500);
	CHECK_INT(nl_success(&s, &p, 500), NL_SAME); /* resets the failure streak */
	CHECK_INT(nl_failure(&s, &p, 500), NL_SAME);
	/* two in a row: the network got worse, one step down */
	CHECK_INT(nl_failure(&s, &p, 500), NL_STEP_DOWN);
	CHECK_INT(s.interval_ms, 400);
	CHECK_INT(s.bad_ms, 500);
	/* and down again if that fails twice too, never below min */
	for (int i = 0; i < 40; i++)
		nl_failure(&s, &p, s.interval_ms);
	CHECK_INT(s.interval_ms, 100);
}

static void test_nat_shrinks_then_grows(void)
{
	struct nl_params p = { 1000, 20000, 1000, 2, 2, 10 };
	struct nl_state s;
	int n;

	nl_init(&s, &p);
	for (n = 0; n < 200; n++)
		beat(&s, &p, 12500);
	CHECK(s.interval_ms == 12000 || (s.phase == NL_PROBE && s.held_ms == 12000));
	/* the carrier shortens its NAT timeout */
	for (n = 0; n < 200; n++)
		beat(&s, &p, 7500);
	if (s.phase == NL_PROBE)
		s.interval_ms = s.held_ms;
	CHECK(s.interval_ms >= 6000 && s.interval_ms < 7500);
	/* and lengthens it again: the probes find out */
	for (n = 0; n < 400; n++)
		beat(&s, &p, 15500);
	if (s.phase == NL_PROBE)
		s.interval_ms = s.held_ms;
	CHECK(s.interval_ms >= 14000 && s.interval_ms < 15500);
}

static void test_format_parse_clamp(void)
{
	struct nl_params p = { 100, 1000, 100, 2, 2, 3 };
	struct nl_state s, t;
	char buf[200];
	static const char *const bad[] = {
		"", "v2 1 2 3 4 5 6 7 8 hold", "v1 1 2 3 4 5 6 7 hold", "v1 1 2 3 4 5 6 7 8 hover",
		"v1 -1 2 3 4 5 6 7 8 hold", "v1 0 0 0 0 0 0 0 0 learn", "v1 99999999999 0 0 0 0 0 0 0 hold",
		"v1 1 2 3 4 5 6 7 8  hold", "v1 1 2 3 4 5 6 7 8 hold ",
	};

	nl_init(&s, &p);
	for (int i = 0; i < 7; i++)
		beat(&s, &p, 450);
	CHECK(nl_format(&s, buf, sizeof buf) > 0);
	CHECK(nl_parse(buf, &t) == 0);
	CHECK(memcmp(&s, &t, sizeof s) == 0);
	CHECK(nl_format(&s, buf, 10) < 0);
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		t.interval_ms = 77;
		CHECK(nl_parse(bad[i], &t) < 0);
		CHECK_INT(t.interval_ms, 77);
	}
	/* learned under other bounds: clamped into the new ones */
	CHECK(nl_parse("v1 5000 5000 6000 0 1 0 2 9 probe", &t) == 0);
	nl_clamp(&t, &p);
	CHECK_INT(t.interval_ms, 1000);
	CHECK_INT(t.good_ms, 1000);
	CHECK_INT(t.bad_ms, 0);
	CHECK_INT(t.probe_shift, 3);
	CHECK_INT(t.phase, NL_HOLD);
	CHECK_STR(nl_change_name(NL_FALL_BACK), "fall_back");
	CHECK_STR(nl_phase_name(NL_PROBE), "probe");
	{
		struct nl_params bp = { 10, 5, 1, 1, 1, 0 };
		CHECK(nl_params_check(&bp) < 0);
		nl_params_default(&bp);
		CHECK(nl_params_check(&bp) == 0);
	}
}

TEST_MAIN(T(test_converges), T(test_sequence), T(test_proven_blip_and_worse_network),
          T(test_nat_shrinks_then_grows), T(test_format_parse_clamp))
