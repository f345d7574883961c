/* account.c: in-band account creation (XEP-0077), the Androidpn way, behind
 * the register_account option. Used once, after the first authentication
 * failure: a separate "raw" libstrophe connection does STARTTLS by hand, or
 * with direct_tls starts TLS itself before the stream opens (libstrophe skips
 * direct TLS on raw conns), with the same CA policy and certificate check
 * as the login, then sends jabber:iq:register with the JID's node and the
 * password. It only reports how that ended (account_tick); client.c decides
 * what follows: created or <conflict/> (it exists) -> log in again at once;
 * refused -> final authentication failure; network trouble -> the normal
 * reconnect path.
 *
 * libstrophe notes: a conn that was ever connected raw stays raw, hence a
 * conn of its own; user handlers fire on raw conns because libstrophe marks
 * them authenticated; the conn is released from the loop, never from inside
 * one of its callbacks. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "client_impl.h"
#include "jid.h"

#define NS_REGISTER "jabber:iq:register"
#define ACCOUNT_IQ_ID "xpacct1"

static const char *const result_names[] = {
	"running", "created", "exists", "refused", "tls_failed", "transient",
};

struct account_reg {
	xmpp_conn_t *conn;
	enum account_result result;
	int done;      /* its DISCONNECT arrived */
	int releasing; /* ignore callbacks from xmpp_conn_release */
	uint64_t deadline_ms;
	char reason[CLIENT_REASON_MAX];
};

static void finish(struct account_reg *a, enum account_result r, const char *reason)
{
	if (a->result != ACCOUNT_RUNNING)
		return;
	a->result = r;
	snprintf(a->reason, sizeof a->reason, "%s", reason);
	xmpp_disconnect(a->conn);
}

/* TLS on the raw conn (after <proceed/>, or at once with direct TLS), then
 * the stream; a failed handshake ends the registration, as a TLS failure
 * (a rejected certificate, a protocol error) or a transient one. */
static void start_tls(struct xpush_client *c, struct account_reg *a, xmpp_conn_t *conn)
{
	char reason[CLIENT_REASON_MAX];

	if (xmpp_conn_tls_start(conn) == XMPP_EOK)
		xmpp_conn_open_stream_default(conn);
	else if (c->at.cert_failed)
		finish(a, ACCOUNT_TLS, c->at.tls_reason);
	else if (conn_tls_start_cause(c, reason, sizeof reason) == CLOSE_TLS)
		finish(a, ACCOUNT_TLS, reason);
	else
		finish(a, ACCOUNT_TRANSIENT, reason);
}

static int features_cb(xmpp_conn_t *conn, xmpp_stanza_t *st, void *userdata)
{
	struct xpush_client *c = userdata;
	struct account_reg *a = c->acct;
	xmpp_stanza_t *iq, *q, *e, *t;
	struct jid_parts p;
	char node[1024];
	int bad = 0;

	if (!a || a->releasing || a->result != ACCOUNT_RUNNING)
		return 1;
	if (!xmpp_conn_is_secured(conn)) {
		if (!xmpp_stanza_get_child_by_name_and_ns(st, "starttls", XMPP_NS_TLS)) {
			finish(a, ACCOUNT_TLS, "server did not offer STARTTLS (TLS is mandatory)");
			return 1;
		}
		if (!(e = xmpp_stanza_new(c->ctx)))
			return 1;
		xmpp_stanza_set_name(e, "starttls");
		xmpp_stanza_set_ns(e, XMPP_NS_TLS);
		xmpp_send(conn, e);
		xmpp_stanza_release(e);
		return 1;
	}
	if (jid_split(c->cfg.jid, &p) || !p.local || p.local_len >= sizeof node) {
		finish(a, ACCOUNT_REFUSED, "jid has no node to register");
		return 1;
	}
	memcpy(node, p.local, p.local_len);
	node[p.local_len] = '\0';
	iq = xmpp_iq_new(c->ctx, "set", ACCOUNT_IQ_ID);
	q = xmpp_stanza_new(c->ctx);
	if (!iq || !q) {
		bad = 1;
		goto out;
	}
	xmpp_stanza_set_to(iq, c->domain);
	xmpp_stanza_set_name(q, "query");
	xmpp_stanza_set_ns(q, NS_REGISTER);
	for (int i = 0; i < 2 && !bad; i++) {
		e = xmpp_stanza_new(c->ctx);
		t = xmpp_stanza_new(c->ctx);
		if (!e || !t) {
			bad = 1;
		} else {
			xmpp_stanza_set_name(e, i == 0 ? "username" : "password");
			xmpp_stanza_set_text(t, i == 0 ? node : c->cfg.password);
			xmpp_stanza_add_child(e, t);
			xmpp_stanza_add_child(q, e);
		}
		if (e)
			xmpp_stanza_release(e);
		if (t)
			xmpp_stanza_release(t);
	}
	if (!bad)
		xmpp_stanza_add_child(iq, q);
out:
	if (q)
		xmpp_stanza_release(q);
	if (bad) {
		if (iq)
			xmpp_stanza_release(iq);
		finish(a, ACCOUNT_TRANSIENT, "out of memory building the registration");
		return 1;
	}
	clog_printf(&c->log, XPUSH_LOG_INFO, "topic=account msg=registering node=%s domain=%s",
	            node, c->domain);
	xmpp_send(conn, iq);
	xmpp_stanza_release(iq);
	return 1;
}

static int tls_cb(xmpp_conn_t *conn, xmpp_stanza_t *st, void *userdata)
{
	struct xpush_client *c = userdata;
	struct account_reg *a = c->acct;
	const char *name = xmpp_stanza_get_name(st);

	if (!a || a->releasing || a->result != ACCOUNT_RUNNING || !name)
		return 1;
	if (strcmp(name, "proceed") == 0) {
		start_tls(c, a, conn);
	} else if (strcmp(name, "failure") == 0) {
		finish(a, ACCOUNT_TLS, "server refused STARTTLS");
	}
	return 1;
}

static int iq_cb(xmpp_conn_t *conn, xmpp_stanza_t *st, void *userdata)
{
	struct xpush_client *c = userdata;
	struct account_reg *a = c->acct;
	const char *id = xmpp_stanza_get_id(st), *type = xmpp_stanza_get_type(st);
	xmpp_stanza_t *err, *ch;
	const char *cond = "undefined-condition";
	char reason[CLIENT_REASON_MAX];

	if (!a || a->releasing || !id || !type || strcmp(id, ACCOUNT_IQ_ID) != 0)
		return 1;
	if (strcmp(type, "result") == 0) {
		finish(a, ACCOUNT_CREATED, "account created");
		return 1;
	}
	if (strcmp(type, "error") != 0)
		return 1;
	if ((err = xmpp_stanza_get_child_by_name(st, "error")))
		for (ch = xmpp_stanza_get_children(err); ch; ch = xmpp_stanza_get_next(ch))
			if (xmpp_stanza_is_tag(ch) && xmpp_stanza_get_name(ch) &&
			    strcmp(xmpp_stanza_get_name(ch), "text") != 0) {
				cond = xmpp_stanza_get_name(ch);
				break;
			}
	if (strcmp(cond, "conflict") == 0) {
		finish(a, ACCOUNT_EXISTS, "account exists");
		return 1;
	}
	snprintf(reason, sizeof reason, "authentication failed; in-band registration refused: %s",
	         cond);
	finish(a, ACCOUNT_REFUSED, reason);
	return 1;
}

static void acct_conn_cb(xmpp_conn_t *conn, xmpp_conn_event_t ev, int error,
                         xmpp_stream_error_t *se, void *userdata)
{
	struct xpush_client *c = userdata;
	struct account_reg *a = c->acct;

	if (c->freeing || !a || a->releasing)
		return;
	if (ev == XMPP_CONN_RAW_CONNECT) {
		/* direct TLS: libstrophe leaves a raw conn in plaintext */
		if (c->cfg.direct_tls)
			start_tls(c, a, conn);
		else
			xmpp_conn_open_stream_default(conn);
		return;
	}
	if (ev == XMPP_CONN_CONNECT)
		return;    /* a stream (re)opened: wait for its features */
	wd_disarm(&c->wd); /* libstrophe closed its descriptor: drop ours */
	if (a->result == ACCOUNT_RUNNING) {
		if (c->at.cert_failed) {
			a->result = ACCOUNT_TLS;
			snprintf(a->reason, sizeof a->reason, "%s", c->at.tls_reason);
		} else if (wd_fired(&c->wd)) {
			a->result = ACCOUNT_TRANSIENT;
			(void)conn_watchdog_cause(c, a->reason, sizeof a->reason);
		} else {
			a->result = ACCOUNT_TRANSIENT;
			snprintf(a->reason, sizeof a->reason,
			         "connection closed during account registration");
		}
	}
	a->done = 1;
}

int account_start(struct xpush_client *c)
{
	struct account_reg *a;

	if (!(a = calloc(1, sizeof *a)))
		return XPUSH_ENOMEM;
	if (!(a->conn = xmpp_conn_new(c->ctx))) {
		free(a);
		return XPUSH_ENOMEM;
	}
	c->acct = a;
	a->deadline_ms = monotime_ms() + c->cfg.connect_timeout_ms;
	conn_attempt_reset(c, a->deadline_ms); /* the watchdog's, armed with the socket */
	conn_apply_tls(c, a->conn);
	xmpp_conn_set_jid(a->conn, c->domain);
	xmpp_handler_add(a->conn, features_cb, XMPP_NS_STREAMS, "features", NULL, c);
	xmpp_handler_add(a->conn, tls_cb, XMPP_NS_TLS, NULL, NULL, c);
	xmpp_handler_add(a->conn, iq_cb, NULL, "iq", NULL, c);
	if (xmpp_connect_raw(a->conn, c->cfg.host, (unsigned short)cfg_port(&c->cfg), acct_conn_cb,
	                     c) != XMPP_EOK) {
		a->result = ACCOUNT_TRANSIENT;
		snprintf(a->reason, sizeof a->reason, "could not connect for account registration");
		a->done = 1;
	}
	return XPUSH_OK;
}

void account_release(struct xpush_client *c)
{
	struct account_reg *a = c->acct;

	if (!a)
		return;
	a->releasing = 1;
	xmpp_conn_release(a->conn); /* fires DISCONNECT into acct_conn_cb: ignored */
	wd_disarm(&c->wd);
	c->acct = NULL;
	free(a);
}

enum account_result account_tick(struct xpush_client *c, uint64_t now, char *reason, size_t len)
{
	struct account_reg *a = c->acct;
	enum account_result r;
	char q[CLIENT_REASON_MAX + 16];

	if (!a)
		return ACCOUNT_RUNNING;
	if (!a->done && now >= a->deadline_ms) {
		if (a->result == ACCOUNT_RUNNING)
			finish(a, ACCOUNT_TRANSIENT, "account registration timed out");
		/* give the close DISCONNECT_TIMEOUT (2 s) and then drop it */
		if (now >= a->deadline_ms + 3000)
			a->done = 1;
	}
	if (!a->done)
		return ACCOUNT_RUNNING;
	r = a->result;
	snprintf(reason, len, "%s", a->reason);
	account_release(c);
	clog_printf(&c->log,
	            r == ACCOUNT_CREATED || r == ACCOUNT_EXISTS ? XPUSH_LOG_INFO : XPUSH_LOG_WARN,
	            "topic=account msg=finished result=%s reason=%s", result_names[r],
	            clog_quote(q, sizeof q, reason));
	return r;
}

uint64_t account_next_wake(const struct xpush_client *c)
{
	if (!c->acct)
		return CLIENT_NEVER;
	if (c->acct->done)
		return 0;
	return c->acct->result == ACCOUNT_RUNNING ? c->acct->deadline_ms
	                                          : c->acct->deadline_ms + 3000;
}
