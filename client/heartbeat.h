/* heartbeat: when to ping the server and when a missing pong means the link
 * is dead. Pure (time passed in). A ping is due interval_ms after the last
 * traffic on the link (any stanza received, or our previous ping), because a
 * NAT forgets a mapping only after that much idle time: so every answered
 * ping proves the link survives interval_ms of silence, which is what the
 * per-network learner (netlearn.h, driven by hbnet.c) needs to know. */
#ifndef XPUSH_HEARTBEAT_H
#define XPUSH_HEARTBEAT_H

#include <stdint.h>

#define HB_NEVER UINT64_MAX

struct hb {
	uint32_t interval_ms; /* 0 = no periodic pings */
	uint32_t timeout_ms;  /* a pong must arrive within this */
	uint64_t next_ping_ms;
	uint64_t deadline_ms; /* HB_NEVER when no ping is outstanding */
	uint64_t last_activity_ms;
	uint32_t tested_ms; /* idle time before the outstanding/last ping */
};

enum hb_action {
	HB_NONE = 0,
	HB_PING, /* send a ping now (the deadline is armed) */
	HB_DEAD, /* the outstanding ping was not answered in time */
};

void hb_start(struct hb *h, uint32_t interval_ms, uint32_t timeout_ms, uint64_t now_ms);
void hb_stop(struct hb *h);
enum hb_action hb_poll(struct hb *h, uint64_t now_ms);
/* A pong (any reply to the ping) arrived. Returns the idle time the ping
 * tested (>= interval_ms), or 0 if no ping was outstanding. */
uint32_t hb_pong(struct hb *h, uint64_t now_ms);
/* Traffic on the link (a stanza arrived): the NAT mapping is fresh, so the
 * next ping moves to now + interval. An outstanding ping keeps its deadline. */
void hb_activity(struct hb *h, uint64_t now_ms);
/* Use a new interval from now on (counted from the last traffic). */
void hb_set_interval(struct hb *h, uint32_t interval_ms, uint64_t now_ms);
/* Idle time tested by the ping that just went unanswered (after HB_DEAD). */
uint32_t hb_dead_tested(const struct hb *h);
/* Next time hb_poll has something to do, or HB_NEVER. */
uint64_t hb_next_wake(const struct hb *h);

#endif
