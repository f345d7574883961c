/* test_heartbeat: ping scheduling from the last traffic, the idle time each
 * ping tests, and dead-link detection (client/heartbeat.c). */
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

static void test_disabled(void)
{
	struct hb h;

	hb_start(&h, 0, 200, 0);
	CHECK_INT(hb_next_wake(&h), HB_NEVER);
	CHECK_INT(hb_poll(&h, 1000000), HB_NONE);
	hb_activity(&h, 7); /* traffic schedules nothing either */
	CHECK_INT(hb_next_wake(&h), HB_NEVER);
	CHECK_INT(hb_pong(&h, 8), 0); /* no ping is ever outstanding */
	hb_stop(&h);
	CHECK_INT(hb_next_wake(&h), HB_NEVER);
}

/* Traffic postpones the next ping; each scheduled ping tests a full interval. */
static void test_activity_and_tested(void)
{
	struct hb h;

	hb_start(&h, 1000, 200, 0);
	hb_activity(&h, 600); /* a notification arrived */
	CHECK_INT(hb_next_wake(&h), 1600);
	CHECK_INT(hb_poll(&h, 1599), HB_NONE);
	CHECK_INT(hb_poll(&h, 1610), HB_PING); /* timer a little late */
	hb_activity(&h, 1650);                 /* traffic while the ping is out */
	CHECK_INT(hb_next_wake(&h), 1810);     /* the deadline stays */
	CHECK_INT(hb_pong(&h, 1700), 1010);    /* tested 1010 ms of idleness */
	CHECK_INT(hb_next_wake(&h), 2700);
	/* a dead ping reports what it tested */
	CHECK_INT(hb_poll(&h, 2750), HB_PING);
	CHECK_INT(hb_poll(&h, 2949), HB_NONE);
	CHECK_INT(hb_poll(&h, 2950), HB_DEAD);
	CHECK_INT(hb_dead_tested(&h), 1050);
}

static void test_set_interval(void)
{
	struct hb h;

	hb_start(&h, 1000, 200, 0);
	hb_set_interval(&h, 3000, 500);
	CHECK_INT(hb_next_wake(&h), 3000); /* from the last traffic, not from now */
	hb_set_interval(&h, 200, 500);
	CHECK_INT(hb_next_wake(&h), 500);  /* already overdue: now */
	CHECK_INT(hb_poll(&h, 500), HB_PING);
	hb_set_interval(&h, 5000, 600);    /* a ping is out: the deadline stays */
	CHECK_INT(hb_next_wake(&h), 700);
	CHECK_INT(hb_pong(&h, 650), 500);
	CHECK_INT(hb_next_wake(&h), 5650);
}

TEST_MAIN(T(test_schedule), T(test_pong_without_ping), T(test_disabled),
          T(test_activity_and_tested), T(test_set_interval))
