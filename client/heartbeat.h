/* heartbeat: when to ping the server and when a missing pong means the link
 * is dead. Pure (time passed in). Fixed interval for now; this is the seam
 * where the adaptive per-network learner (Mars-style) will plug in: it only
 * has to choose interval_ms from the outcomes hb_pong / HB_DEAD report. */
#ifndef XPUSH_HEARTBEAT_H
#define XPUSH_HEARTBEAT_H

#include <stdint.h>

#define HB_NEVER UINT64_MAX

struct hb {
	uint32_t interval_ms; /* 0 = no periodic pings */
	uint32_t timeout_ms;  /* a pong must arrive within this */
	uint64_t next_ping_ms;
	uint64_t deadline_ms; /* HB_NEVER when no ping is outstanding */
};

enum hb_action {
	HB_NONE = 0,
	HB_PING, /* send a ping now (the deadline is armed) */
	HB_DEAD, /* the outstanding ping was not answered in time */
};

void hb_start(struct hb *h, uint32_t interval_ms, uint32_t timeout_ms, uint64_t now_ms);
void hb_stop(struct hb *h);
enum hb_action hb_poll(struct hb *h, uint64_t now_ms);
/* A pong (any reply to the ping) arrived. */
void hb_pong(struct hb *h, uint64_t now_ms);
/* Ping as soon as possible (network changed), even with interval 0. */
void hb_kick(struct hb *h, uint64_t now_ms);
/* Next time hb_poll has something to do, or HB_NEVER. */
uint64_t hb_next_wake(const struct hb *h);

#endif
