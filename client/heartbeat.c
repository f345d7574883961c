/* heartbeat: ping scheduling with a reply deadline. Half-open TCP keeps
 * accepting writes for ~15 minutes, so only a ping that must be answered
 * detects a silently dead link. Pings are scheduled from the last traffic,
 * not from the last ping, so that received notifications (which refresh the
 * NAT mapping too) save heartbeats, and so that each ping tests exactly
 * interval_ms of idleness. */
#include "heartbeat.h"

static void schedule(struct hb *h)
{
	h->next_ping_ms = h->interval_ms ? h->last_activity_ms + h->interval_ms : HB_NEVER;
}

void hb_start(struct hb *h, uint32_t interval_ms, uint32_t timeout_ms, uint64_t now_ms)
{
	h->interval_ms = interval_ms;
	h->timeout_ms = timeout_ms;
	h->last_activity_ms = now_ms;
	h->deadline_ms = HB_NEVER;
	h->tested_ms = 0;
	schedule(h);
}

void hb_stop(struct hb *h)
{
	h->next_ping_ms = HB_NEVER;
	h->deadline_ms = HB_NEVER;
}

enum hb_action hb_poll(struct hb *h, uint64_t now_ms)
{
	if (h->deadline_ms != HB_NEVER) {
		if (now_ms >= h->deadline_ms) {
			hb_stop(h);
			return HB_DEAD;
		}
		return HB_NONE;
	}
	if (h->next_ping_ms != HB_NEVER && now_ms >= h->next_ping_ms) {
		uint64_t idle = now_ms - h->last_activity_ms;

		h->tested_ms = idle > UINT32_MAX ? UINT32_MAX : (uint32_t)idle;
		h->deadline_ms = now_ms + h->timeout_ms;
		h->next_ping_ms = HB_NEVER;
		return HB_PING;
	}
	return HB_NONE;
}

uint32_t hb_pong(struct hb *h, uint64_t now_ms)
{
	if (h->deadline_ms == HB_NEVER)
		return 0;
	h->deadline_ms = HB_NEVER;
	h->last_activity_ms = now_ms;
	schedule(h);
	return h->tested_ms;
}

void hb_activity(struct hb *h, uint64_t now_ms)
{
	if (now_ms > h->last_activity_ms)
		h->last_activity_ms = now_ms;
	if (h->deadline_ms == HB_NEVER && h->next_ping_ms != HB_NEVER)
		schedule(h);
}

void hb_set_interval(struct hb *h, uint32_t interval_ms, uint64_t now_ms)
{
	h->interval_ms = interval_ms;
	if (h->deadline_ms == HB_NEVER) {
		schedule(h);
		if (h->next_ping_ms != HB_NEVER && h->next_ping_ms < now_ms)
			h->next_ping_ms = now_ms;
	}
}

uint32_t hb_dead_tested(const struct hb *h)
{
	return h->tested_ms;
}

uint64_t hb_next_wake(const struct hb *h)
{
	return h->deadline_ms != HB_NEVER ? h->deadline_ms : h->next_ping_ms;
}
