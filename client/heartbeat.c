/* heartbeat: fixed-interval ping scheduling with a reply deadline. Half-open
 * TCP keeps accepting writes for ~15 minutes, so only a ping that must be
 * answered detects a silently dead link. */
#include "heartbeat.h"

void hb_start(struct hb *h, uint32_t interval_ms, uint32_t timeout_ms, uint64_t now_ms)
{
	h->interval_ms = interval_ms;
	h->timeout_ms = timeout_ms;
	h->next_ping_ms = interval_ms ? now_ms + interval_ms : HB_NEVER;
	h->deadline_ms = HB_NEVER;
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
		h->deadline_ms = now_ms + h->timeout_ms;
		h->next_ping_ms = HB_NEVER;
		return HB_PING;
	}
	return HB_NONE;
}

void hb_pong(struct hb *h, uint64_t now_ms)
{
	if (h->deadline_ms == HB_NEVER)
		return;
	h->deadline_ms = HB_NEVER;
	h->next_ping_ms = h->interval_ms ? now_ms + h->interval_ms : HB_NEVER;
}

void hb_kick(struct hb *h, uint64_t now_ms)
{
	if (h->deadline_ms == HB_NEVER)
		h->next_ping_ms = now_ms;
}

uint64_t hb_next_wake(const struct hb *h)
{
	return h->deadline_ms != HB_NEVER ? h->deadline_ms : h->next_ping_ms;
}
