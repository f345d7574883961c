/* notify.c: one incoming notification, from stanza to ack.
 *
 * Order matters (the "nothing lost, displayed once" promise): check the
 * sender, decode, look the id up in the durable seen-store; an id displayed
 * (or retracted) before is acked without display. Otherwise the id is
 * recorded as pending and fsync'ed, displayed through the app's callback,
 * recorded as displayed (fsync'ed), then acked:
 *   crash before the pending record     redelivered, displayed
 *   crash after it, before the display  redelivered, displayed (maybe_shown=1)
 *   crash inside the callback           redelivered, displayed again with
 *                                       maybe_shown=1 (the app replaces it by id)
 *   crash after the displayed record    redelivered, acked, not displayed
 * If the pending record cannot be written we do not display, answer
 * resource-constraint (the component keeps the delivery pending) and report
 * it to client.c, which closes the stream and reconnects with backoff,
 * rather than risk an unrecorded display. An id whose retract came first
 * (retract.c records it in the same store) counts as known: a late copy is
 * acked and never displayed.
 * The DEVFAULT_* points are empty outside the fault-test build. */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "client_impl.h"
#include "devfault.h"
#include "notify.h"
#include "xjid.h"
#include "xstanza.h"

static int child_text(xmpp_stanza_t *n, const char *name, char **out)
{
	xmpp_stanza_t *ch = xmpp_stanza_get_child_by_name(n, name);
	char *t;

	*out = NULL;
	if (!ch)
		return 0;
	t = xmpp_stanza_get_text(ch);
	*out = strdup(t ? t : "");
	if (t)
		xmpp_free(xmpp_stanza_get_context(ch), t);
	return *out ? 0 : -1;
}

void notify_fields_free(struct notify_fields *f)
{
	free(f->title);
	free(f->body);
	free(f->uri);
	free(f->payload);
	memset(f, 0, sizeof *f);
}

int notify_parse(xmpp_stanza_t *n, struct notify_fields *f, const char **err)
{
	memset(f, 0, sizeof *f);
	f->id = xmpp_stanza_get_attribute(n, "id");
	if (!f->id) {
		*err = "notification without id";
		return -1;
	}
	if (!seen_id_valid(f->id)) {
		*err = "notification id must be 1..128 printable ASCII bytes without spaces";
		return -1;
	}
	f->app = xmpp_stanza_get_attribute(n, "app");
	f->priority = xmpp_stanza_get_attribute(n, "priority");
	f->collapse = xmpp_stanza_get_attribute(n, "collapse");
	f->expires = xmpp_stanza_get_attribute(n, "expires");
	f->created = xmpp_stanza_get_attribute(n, "created");
	if (child_text(n, "title", &f->title) || child_text(n, "body", &f->body) ||
	    child_text(n, "uri", &f->uri) || child_text(n, "payload", &f->payload)) {
		notify_fields_free(f);
		*err = "out of memory";
		return -1;
	}
	return 0;
}

void notify_send_ack(struct xpush_client *c, const char *to, const char *iq_id)
{
	if (DEVFAULT_SKIP(c, "drop_ack"))
		return;
	xstanza_send_result(c->conn, to, iq_id);
}

void notify_seen_maintain(struct xpush_client *c)
{
	struct seen_stats st;
	char err[512], q[600];

	if (!seen_needs_compact(c->seen))
		return;
	if (seen_compact(c->seen, (int64_t)time(NULL), err, sizeof err) != XPUSH_OK) {
		clog_printf(&c->log, XPUSH_LOG_WARN, "topic=seen msg=compact_failed reason=%s",
		            clog_quote(q, sizeof q, err));
		return;
	}
	seen_stats(c->seen, &st);
	clog_printf(&c->log, XPUSH_LOG_DEBUG,
	            "topic=seen msg=compacted live=%zu expired=%zu server_clock=%lld", st.live,
	            st.last_dropped, (long long)st.clock);
	if (st.last_evicted)
		clog_printf(
			&c->log, XPUSH_LOG_WARN,
			"topic=seen msg=evicted count=%zu seen_max_ids=%u latest_expiry=%lld "
			"server_clock=%lld (ids evicted before their expiry: a redelivery of one "
			"would be shown again)",
			st.last_evicted, (unsigned)c->cfg.seen_max_ids,
			(long long)st.last_evicted_exp, (long long)st.clock);
}

int notify_from_component(struct xpush_client *c, xmpp_stanza_t *iq, xmpp_stanza_t *payload,
                          const char *topic)
{
	const char *from = xmpp_stanza_get_from(iq), *id;
	char qf[300];

	if (xjid_is_component(from, c->cfg.component))
		return 1;
	id = xmpp_stanza_get_attribute(payload, "id");
	clog_printf(&c->log, XPUSH_LOG_WARN,
	            "topic=%s msg=refused reason=\"sender is not the component\" from=%s", topic,
	            clog_quote(qf, sizeof qf, from));
	xstanza_send_error(c->conn, iq, "cancel", "service-unavailable", NULL);
	cevent_delivery(c, XPUSH_EVENT_REFUSED, id && seen_id_valid(id) ? id : NULL,
	                from ? from : "", 0, 0);
	return 0;
}

void notify_handle(struct xpush_client *c, xmpp_stanza_t *iq, xmpp_stanza_t *n)
{
	const char *from = xmpp_stanza_get_from(iq), *iq_id = xmpp_stanza_get_id(iq);
	struct notify_fields f;
	struct xpush_notification pub;
	const char *perr;
	char err[512], q[600], qf[300];
	unsigned known;
	int64_t created, expires;
	int rc;

	if (!iq_id)
		return; /* malformed IQ: cannot even answer it */
	if (!notify_from_component(c, iq, n, "notify"))
		return;
	if (notify_parse(n, &f, &perr)) {
		clog_printf(&c->log, XPUSH_LOG_WARN,
		            "topic=notify msg=bad_notification iq=%s reason=%s",
		            clog_quote(qf, sizeof qf, iq_id), clog_quote(q, sizeof q, perr));
		xstanza_send_error(c->conn, iq, "modify", "bad-request", perr);
		return;
	}
	DEVFAULT_CRASH(c, "after_receive");
	/* server time (UTC, the server's clock): what the store keeps runs on it */
	if (!f.created || seen_parse_time(f.created, &created))
		created = 0;
	if (!f.expires || seen_parse_time(f.expires, &expires))
		expires = 0;
	known = seen_flags(c->seen, f.id);
	if (known & (SEEN_NOTIFIED | SEEN_RETRACTED)) {
		int late = (known & SEEN_RETRACTED) != 0;
		if (late)
			clog_printf(
				&c->log, XPUSH_LOG_INFO,
				"topic=notify msg=late_copy_after_retract id=%s (acked, not displayed)",
				f.id);
		seen_observe(c->seen, created);
		cevent_delivery(c, XPUSH_EVENT_DUPLICATE, f.id, from, 1, late);
		notify_send_ack(c, from, iq_id);
		cevent_delivery(c, XPUSH_EVENT_ACKED, f.id, from, 1, 0);
		notify_fields_free(&f);
		return;
	}
	/* pending: known as PENDING only when an earlier run died before it
	 * recorded the display (after_record .. after the callback) */
	rc = seen_mark_at(c->seen, f.id, SEEN_PENDING, (int64_t)time(NULL), created, expires, err,
	                  sizeof err);
	if (rc != XPUSH_OK) {
		clog_printf(
			&c->log, XPUSH_LOG_ERROR,
			"topic=seen msg=record_failed id=%s reason=%s (not displayed, not acked)",
			f.id, clog_quote(q, sizeof q, err));
		xstanza_send_error(c->conn, iq, "wait", "resource-constraint",
		                   "cannot record the id durably");
		notify_fields_free(&f);
		/* The component now holds the delivery (and thinks us offline):
		 * reconnect with backoff, so it is redelivered once the store works. */
		client_report(c, CLIENT_EV_STORE_FAILED,
		              "cannot record notification ids in the state directory");
		return;
	}
	notify_seen_maintain(c);
	DEVFAULT_CRASH(c, "after_record");

	memset(&pub, 0, sizeof pub);
	pub.id = f.id;
	pub.app = f.app;
	pub.priority = f.priority;
	pub.collapse = f.collapse;
	pub.expires = f.expires;
	pub.created = f.created;
	pub.title = f.title;
	pub.body = f.body;
	pub.uri = f.uri;
	pub.payload = f.payload;
	pub.from = from;
	pub.iq_id = iq_id;
	pub.maybe_shown = (known & SEEN_PENDING) != 0;
	clog_printf(&c->log, pub.maybe_shown ? XPUSH_LOG_INFO : XPUSH_LOG_DEBUG,
	            "topic=notify msg=display id=%s iq=%s maybe_shown=%d", f.id,
	            clog_quote(qf, sizeof qf, iq_id), pub.maybe_shown);
	if (c->cfg.notify_cb)
		c->cfg.notify_cb(c->cfg.userdata, &pub);
	/* displayed: from now on a redelivery is a duplicate. If this cannot be
	 * recorded the display still happened: ack it (nothing is lost), and
	 * say that a redelivery could show it again. */
	if (seen_mark_at(c->seen, f.id, SEEN_NOTIFIED, (int64_t)time(NULL), created, expires, err,
	                 sizeof err) != XPUSH_OK)
		clog_printf(&c->log, XPUSH_LOG_ERROR,
		            "topic=seen msg=record_failed id=%s reason=%s (displayed and acked; "
		            "a redelivery would show it again)",
		            f.id, clog_quote(q, sizeof q, err));
	DEVFAULT_CRASH(c, "after_display");
	notify_send_ack(c, from, iq_id);
	cevent_delivery(c, XPUSH_EVENT_ACKED, f.id, from, 0, 0);
	notify_fields_free(&f);
}
