/* test_heartbeat: ping scheduling and dead-link detection (client/heartbeat.c). */
#include "heartbeat.h"
#include "test.h"

static void test_schedule(void)
{
	struct hb h;

	hb_start(&h, 1000, 200, 10000);
	CHECK_INT(hb_next_wake(&h), 11000);
	CHECK_INT(hb_poll(&h, 10999), HB_NONE);
	CHECK_INT(hb_poll(&h, 11000), HB_PING);
	CHECK_INT(hb_next_wake(&h), 11200); /* the reply deadline */
	CHECK_INT(hb_poll(&h, 11100), HB_NONE);
	hb_pong(&h, 11150);
	CHECK_INT(hb_next_wake(&h), 12150); /* next interval counts from the pong */
	CHECK_INT(hb_poll(&h, 12150), HB_PING);
	CHECK_INT(hb_poll(&h, 12349), HB_NONE);
	CHECK_INT(hb_poll(&h, 12350), HB_DEAD);
	CHECK_INT(hb_next_wake(&h), HB_NEVER); /* dead: nothing until restarted */
	CHECK_INT(hb_poll(&h, 99999), HB_NONE);
}

static void test_pong_without_ping(void)
{
	struct hb h;

	hb_start(&h, 1000, 200, 0);
	hb_pong(&h, 500); /* stray: ignored */
	CHECK_INT(hb_next_wake(&h), 1000);
}

static void test_kick(void)
{
	struct hb h;

	hb_start(&h, 60000, 200, 0);
	hb_kick(&h, 5);
	CHECK_INT(hb_next_wake(&h), 5);
	CHECK_INT(hb_poll(&h, 5), HB_PING);
	hb_kick(&h, 10); /* a ping is outstanding: keep its deadline */
	CHECK_INT(hb_next_wake(&h), 205);
}

static void test_disabled(void)
{
	struct hb h;

	hb_start(&h, 0, 200, 0);
	CHECK_INT(hb_next_wake(&h), HB_NEVER);
	CHECK_INT(hb_poll(&h, 1000000), HB_NONE);
	hb_kick(&h, 7); /* network change still probes once */
	CHECK_INT(hb_poll(&h, 7), HB_PING);
	hb_pong(&h, 8);
	CHECK_INT(hb_next_wake(&h), HB_NEVER);
	hb_stop(&h);
	CHECK_INT(hb_next_wake(&h), HB_NEVER);
}

TEST_MAIN(T(test_schedule), T(test_pong_without_ping), T(test_kick), T(test_disabled))
