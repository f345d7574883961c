/* retract.c: one incoming <retract xmlns='urn:xpush:0' id='N'/> (protocol.md
 * "Retract"), from stanza to ack.
 *
 * Order: check the sender (only the component may retract), validate the id;
 * a retract already handled is acked without telling the app again;
 * otherwise tell the app (retract callback) FIRST, then record the id as
 * retracted durably in the seen-store, then ack. Telling the app before
 * recording makes the callback at-least-once: a crash in between means the
 * retract is redelivered and the app is told again (cancelling twice is
 * harmless), whereas recording first could lose the cancel. Once recorded,
 * a late copy of notification N is acked but never displayed (notify.c).
 * If the id cannot be recorded we answer resource-constraint and reconnect,
 * as notify.c does. */
#include <stdint.h>
#include <string.h>
#include <time.h>

#include "client_impl.h"
#include "notify.h"
#include "xstanza.h"

void retract_handle(struct xpush_client *c, xmpp_stanza_t *iq, xmpp_stanza_t *r)
{
	const char *from = xmpp_stanza_get_from(iq), *iq_id = xmpp_stanza_get_id(iq);
	const char *id = xmpp_stanza_get_attribute(r, "id");
	struct xpush_retract pub;
	char err[512], q[600], qf[300];
	unsigned known;

	if (!iq_id)
		return; /* malformed IQ: cannot even answer it */
	if (!notify_from_component(c, iq, r, "retract"))
		return;
	if (!seen_id_valid(id)) {
		const char *why =
			id ? "retract id must be 1..128 printable ASCII bytes without spaces"
			   : "retract without id";
		clog_printf(&c->log, XPUSH_LOG_WARN,
		            "topic=retract msg=bad_retract iq=%s reason=\"%s\"",
		            clog_quote(qf, sizeof qf, iq_id), why);
		xstanza_send_error(c->conn, iq, "modify", "bad-request", why);
		return;
	}
	known = seen_flags(c->seen, id);
	if (known & SEEN_RETRACTED) {
		clog_printf(&c->log, XPUSH_LOG_DEBUG, "topic=retract msg=duplicate id=%s", id);
		notify_send_ack(c, from, iq_id);
		cevent_delivery(c, XPUSH_EVENT_RETRACT_ACKED, id, from, 1, 0);
		return;
	}
	memset(&pub, 0, sizeof pub);
	pub.id = id;
	pub.from = from;
	pub.iq_id = iq_id;
	pub.seen = (known & (SEEN_NOTIFIED | SEEN_PENDING)) != 0;
	clog_printf(&c->log, XPUSH_LOG_DEBUG, "topic=retract msg=retract id=%s seen=%d iq=%s", id,
	            pub.seen, clog_quote(qf, sizeof qf, iq_id));
	if (c->cfg.retract_cb)
		c->cfg.retract_cb(c->cfg.userdata, &pub);
	if (seen_mark(c->seen, id, SEEN_RETRACTED, (int64_t)time(NULL), err, sizeof err) !=
	    XPUSH_OK) {
		clog_printf(&c->log, XPUSH_LOG_ERROR,
		            "topic=seen msg=record_failed id=%s reason=%s (retract not acked)", id,
		            clog_quote(q, sizeof q, err));
		xstanza_send_error(c->conn, iq, "wait", "resource-constraint",
		                   "cannot record the id durably");
		client_report(c, CLIENT_EV_STORE_FAILED,
		              "cannot record retracted ids in the state directory");
		return;
	}
	notify_seen_maintain(c);
	notify_send_ack(c, from, iq_id);
	cevent_delivery(c, XPUSH_EVENT_RETRACT_ACKED, id, from, 0, 0);
}
