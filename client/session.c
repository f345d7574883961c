/* session.c: the urn:xpush:0 session on top of an authenticated stream.
 *
 * Owns: the device registration IQ and its reply, the directed presence to the
 * component, heartbeats (XEP-0199 pings to our server, with a reply deadline),
 * answering pings, and the IQ dispatcher: notifications go to notify.c,
 * retracts to retract.c, any other get/set is answered service-unavailable
 * (RFC 6120 requires a reply). What the session learns (registered, refused,
 * no reply in time, a dead link) it reports to client.c (client_report),
 * which decides what follows; it never changes the client's state.
 * Wire format: docs/protocol.md. All of it runs on the loop thread. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "client_impl.h"
#include "jitter.h"
#include "xstanza.h"

#define NS_PING "urn:xmpp:ping"

static void next_id(struct xpush_client *c, const char *prefix, char *buf, size_t len)
{
	snprintf(buf, len, "%s%u", prefix, ++c->seq);
}

static void send_register(struct xpush_client *c, uint64_t now)
{
	xmpp_ctx_t *ctx = c->ctx;
	xmpp_stanza_t *iq, *reg;
	int bad = 0;

	next_id(c, "xpr", c->register_id, sizeof c->register_id);
	c->register_deadline_ms = now + c->cfg.register_timeout_ms;
	c->register_retry_ms = CLIENT_NEVER;
	if (!(iq = xmpp_iq_new(ctx, "set", c->register_id)))
		return;
	xmpp_stanza_set_to(iq, c->cfg.component);
	reg = xstanza_elem(ctx, "register", XPUSH_NS);
	if (!reg || xmpp_stanza_set_attribute(reg, "app", c->cfg.app) != XMPP_EOK ||
	    xmpp_stanza_set_attribute(reg, "device", c->cfg.device) != XMPP_EOK)
		bad = 1;
	if (!bad && c->cfg.alias)
		bad = xstanza_add_text(ctx, reg, "alias", NULL, c->cfg.alias);
	for (size_t i = 0; !bad && i < c->cfg.ntags; i++)
		bad = xstanza_add_text(ctx, reg, "tag", NULL, c->cfg.tags[i]);
	if (!bad && c->cfg.platform)
		bad = xstanza_add_text(ctx, reg, "platform", NULL, c->cfg.platform);
	if (!bad && c->cfg.register_token)
		bad = xstanza_add_text(ctx, reg, "token", NULL, c->cfg.register_token);
	if (bad || xstanza_adopt(iq, reg)) {
		if (bad && reg)
			xmpp_stanza_release(reg);
		xmpp_stanza_release(iq);
		clog_printf(&c->log, XPUSH_LOG_ERROR, "topic=session msg=register_build_failed");
		return; /* the register deadline will recycle the connection */
	}
	clog_printf(&c->log, XPUSH_LOG_DEBUG, "topic=session msg=register_sent id=%s component=%s",
	            c->register_id, c->cfg.component);
	xstanza_send(c->conn, iq);
}

void session_send_presence(struct xpush_client *c)
{
	xmpp_stanza_t *p = xmpp_presence_new(c->ctx), *dev;

	if (!p)
		return;
	xmpp_stanza_set_to(p, c->cfg.component);
	dev = xstanza_elem(c->ctx, "device", XPUSH_NS);
	if (!dev || xmpp_stanza_set_attribute(dev, "app", c->cfg.app) != XMPP_EOK ||
	    xmpp_stanza_set_attribute(dev, "device", c->cfg.device) != XMPP_EOK ||
	    xstanza_adopt(p, dev)) {
		xmpp_stanza_release(p);
		return;
	}
	xstanza_send(c->conn, p);
}

void session_send_unavailable(struct xpush_client *c)
{
	xmpp_stanza_t *p = xmpp_presence_new(c->ctx);

	if (!p)
		return;
	xmpp_stanza_set_to(p, c->cfg.component);
	xmpp_stanza_set_type(p, "unavailable");
	xstanza_send(c->conn, p);
}

static void send_ping(struct xpush_client *c)
{
	xmpp_stanza_t *iq;

	next_id(c, "xph", c->ping_id, sizeof c->ping_id);
	if (!(iq = xmpp_iq_new(c->ctx, "get", c->ping_id)))
		return;
	xmpp_stanza_set_to(iq, c->domain);
	if (xstanza_adopt(iq, xstanza_elem(c->ctx, "ping", NS_PING))) {
		xmpp_stanza_release(iq);
		return;
	}
	clog_printf(&c->log, XPUSH_LOG_DEBUG, "topic=heartbeat msg=ping id=%s", c->ping_id);
	xstanza_send(c->conn, iq);
}

/* <error type=..><condition xmlns=stanzas/><text>..</text></error> */
static void error_info(xmpp_stanza_t *iq, const char **etype, const char **cond, char **text)
{
	xmpp_stanza_t *err = xmpp_stanza_get_child_by_name(iq, "error");

	*etype = NULL;
	*cond = "undefined-condition";
	*text = NULL;
	if (!err)
		return;
	*etype = xmpp_stanza_get_type(err);
	for (xmpp_stanza_t *ch = xmpp_stanza_get_children(err); ch; ch = xmpp_stanza_get_next(ch)) {
		const char *name = xmpp_stanza_get_name(ch);
		if (!xmpp_stanza_is_tag(ch) || !name)
			continue;
		if (strcmp(name, "text") == 0)
			*text = xmpp_stanza_get_text(ch);
		else
			*cond = name;
	}
}

static void on_register_reply(struct xpush_client *c, xmpp_stanza_t *iq, const char *type)
{
	uint64_t now = monotime_ms();
	char q[300];

	c->register_id[0] = '\0';
	c->register_deadline_ms = CLIENT_NEVER;
	if (strcmp(type, "result") == 0) {
		if (!xmpp_stanza_get_child_by_name_and_ns(iq, "registered", XPUSH_NS))
			clog_printf(&c->log, XPUSH_LOG_WARN,
			            "topic=session msg=register_result_without_registered_element");
		backoff_reset(&c->reg_backoff);
		client_report(c, CLIENT_EV_REGISTERED, NULL);
		return;
	}
	{
		const char *etype, *cond;
		char *text;
		char reason[CLIENT_REASON_MAX];

		error_info(iq, &etype, &cond, &text);
		snprintf(reason, sizeof reason, "registration refused: %s%s%s", cond,
		         text ? ": " : "", text ? text : "");
		if (text)
			xmpp_free(c->ctx, text);
		if (etype && (strcmp(etype, "modify") == 0 || strcmp(etype, "auth") == 0)) {
			/* our request is wrong (alias too long, not allowed): retrying cannot help */
			clog_printf(&c->log, XPUSH_LOG_ERROR,
			            "topic=session msg=register_rejected reason=%s",
			            clog_quote(q, sizeof q, reason));
			client_report(c, CLIENT_EV_REFUSED, reason);
			return;
		}
		/* typically service-unavailable: the component is down; retry on this stream */
		uint32_t delay = backoff_next(&c->reg_backoff, jitter_random(c));
		c->register_retry_ms = now + delay;
		clog_printf(&c->log, XPUSH_LOG_WARN,
		            "topic=session msg=register_failed reason=%s retry_ms=%u",
		            clog_quote(q, sizeof q, reason), (unsigned)delay);
	}
}

static int iq_cb(xmpp_conn_t *conn, xmpp_stanza_t *st, void *userdata)
{
	struct xpush_client *c = userdata;
	const char *type = xmpp_stanza_get_type(st), *id = xmpp_stanza_get_id(st);
	xmpp_stanza_t *child;

	if (c->freeing || !type)
		return 1;
	if (strcmp(type, "result") == 0 || strcmp(type, "error") == 0) {
		if (!id)
			return 1;
		if (c->register_id[0] && strcmp(id, c->register_id) == 0)
			on_register_reply(c, st, type);
		else if (c->ping_id[0] && strcmp(id, c->ping_id) == 0) {
			c->ping_id[0] = '\0';
			hbnet_pong(c, monotime_ms());
			clog_printf(&c->log, XPUSH_LOG_DEBUG, "topic=heartbeat msg=pong id=%s", id);
		}
		return 1;
	}
	if (strcmp(type, "get") != 0 && strcmp(type, "set") != 0)
		return 1;
	/* the payload is the first element child */
	for (child = xmpp_stanza_get_children(st); child && !xmpp_stanza_is_tag(child);
	     child = xmpp_stanza_get_next(child))
		;
	if (child && strcmp(type, "set") == 0 && xmpp_stanza_get_name(child) &&
	    strcmp(xmpp_stanza_get_name(child), "notification") == 0 && xmpp_stanza_get_ns(child) &&
	    strcmp(xmpp_stanza_get_ns(child), XPUSH_NS) == 0) {
		notify_handle(c, st, child);
		return 1;
	}
	if (child && strcmp(type, "set") == 0 && xmpp_stanza_get_name(child) &&
	    strcmp(xmpp_stanza_get_name(child), "retract") == 0 && xmpp_stanza_get_ns(child) &&
	    strcmp(xmpp_stanza_get_ns(child), XPUSH_NS) == 0) {
		retract_handle(c, st, child);
		return 1;
	}
	if (child && strcmp(type, "get") == 0 && xmpp_stanza_get_name(child) &&
	    strcmp(xmpp_stanza_get_name(child), "ping") == 0 && xmpp_stanza_get_ns(child) &&
	    strcmp(xmpp_stanza_get_ns(child), NS_PING) == 0) {
		xstanza_send_result(c->conn, xmpp_stanza_get_from(st), id);
		return 1;
	}
	xstanza_send_error(c->conn, st, "cancel", "service-unavailable", NULL);
	return 1;
}

/* Every stanza (and stream-management element) refreshes the NAT mapping:
 * the next heartbeat is due a full interval after it. */
static int traffic_cb(xmpp_conn_t *conn, xmpp_stanza_t *st, void *userdata)
{
	struct xpush_client *c = userdata;

	if (!c->freeing)
		hbnet_activity(c, monotime_ms());
	return 1;
}

void session_attach(struct xpush_client *c)
{
	xmpp_handler_add(c->conn, iq_cb, NULL, "iq", NULL, c);
	xmpp_handler_add(c->conn, traffic_cb, NULL, NULL, NULL, c);
}

void session_bind(struct xpush_client *c)
{
	const char *bound = xmpp_conn_get_bound_jid(c->conn);

	free(c->bound_jid);
	c->bound_jid = bound ? strdup(bound) : NULL;
	backoff_reset(&c->reg_backoff);
}

void session_register(struct xpush_client *c, uint64_t now)
{
	send_register(c, now);
}

void session_on_disconnect(struct xpush_client *c)
{
	c->register_id[0] = '\0';
	c->ping_id[0] = '\0';
	c->register_deadline_ms = CLIENT_NEVER;
	c->register_retry_ms = CLIENT_NEVER;
	hb_stop(&c->hb);
}

void session_tick(struct xpush_client *c, uint64_t now)
{
	char r[128];

	if (c->at.we_closed)
		return; /* closing: only the disconnect matters now */
	if (c->state == XPUSH_STATE_CONNECTED) {
		if (now >= c->register_deadline_ms) {
			c->register_deadline_ms = CLIENT_NEVER;
			snprintf(r, sizeof r, "no reply to register within register_timeout_ms=%u",
			         (unsigned)c->cfg.register_timeout_ms);
			client_report(c, CLIENT_EV_REGISTER_TIMEOUT, r);
		} else if (now >= c->register_retry_ms) {
			send_register(c, now);
		}
		return;
	}
	if (c->state != XPUSH_STATE_ONLINE)
		return;
	switch (hb_poll(&c->hb, now)) {
	case HB_PING:
		send_ping(c);
		break;
	case HB_DEAD:
		snprintf(r, sizeof r, "heartbeat timeout: no pong within %u ms",
		         (unsigned)c->cfg.heartbeat_timeout_ms);
		clog_printf(
			&c->log, XPUSH_LOG_WARN,
			"topic=heartbeat msg=dead_link timeout_ms=%u interval_ms=%u tested_ms=%u",
			(unsigned)c->cfg.heartbeat_timeout_ms, (unsigned)hbnet_interval(c),
			(unsigned)hb_dead_tested(&c->hb));
		hbnet_dead(c);
		client_report(c, CLIENT_EV_DEAD_LINK, r);
		break;
	default:
		break;
	}
}

uint64_t session_next_wake(const struct xpush_client *c)
{
	uint64_t w = CLIENT_NEVER;

	if (c->at.we_closed)
		return CLIENT_NEVER;
	if (c->state == XPUSH_STATE_CONNECTED) {
		w = c->register_deadline_ms;
		if (c->register_retry_ms < w)
			w = c->register_retry_ms;
	} else if (c->state == XPUSH_STATE_ONLINE) {
		w = hb_next_wake(&c->hb);
	}
	return w;
}
