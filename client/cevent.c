/* cevent: what the application is told through its event callback
 * (struct xpush_event): state changes (from client.c's transition function)
 * and delivery events (notify.c, retract.c). Owns the event record and the
 * JID every event names; decides nothing. Loop thread only. */
#include <string.h>

#include "client_impl.h"

static void emit(struct xpush_client *c, struct xpush_event *ev)
{
	ev->jid = c->bound_jid ? c->bound_jid : c->cfg.jid;
	if (c->cfg.event_cb)
		c->cfg.event_cb(c->cfg.userdata, ev);
}

void cevent_state(struct xpush_client *c, enum xpush_state from, enum xpush_state to, int error,
                  const char *reason, uint32_t delay_ms)
{
	struct xpush_event ev;

	memset(&ev, 0, sizeof ev);
	ev.type = XPUSH_EVENT_STATE;
	ev.state = to;
	ev.old_state = from;
	ev.error = error;
	ev.reason = reason;
	ev.delay_ms = delay_ms;
	emit(c, &ev);
}

void cevent_delivery(struct xpush_client *c, enum xpush_event_type t, const char *id,
                     const char *from, int dup, int retracted)
{
	struct xpush_event ev;

	memset(&ev, 0, sizeof ev);
	ev.type = t;
	ev.state = c->state;
	ev.old_state = c->state;
	ev.id = id;
	ev.from = from;
	ev.duplicate = dup;
	ev.retracted = retracted;
	emit(c, &ev);
}
