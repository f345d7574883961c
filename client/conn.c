/* conn.c: the libstrophe connection of a client. Owns the TLS policy
 * (mandatory STARTTLS, or direct TLS with direct_tls; certificate verification
 * against the system store plus ca_file, never TRUST_TLS), socket options, the
 * bridge from libstrophe's log to ours (with secrets redacted), and the
 * classification of a disconnect into transient / authentication failure /
 * TLS failure.
 *
 * libstrophe 0.12 facts this file works around (seen with Debian 12's libstrophe):
 *  - XMPP_CONN_FAIL never fires; a wrong password is a plain disconnect with
 *    error 0 after TLS, before the session. We also watch libstrophe's log for
 *    "Cannot authenticate with known methods" to be sure.
 *  - The certfail handler gets no userdata, and the sockopt callback none we
 *    control, so the client currently running the loop is kept in a
 *    thread-local (callbacks always run inside our own call on that thread).
 *  - xmpp_conn_is_secured() is already 0 when the DISCONNECT callback runs
 *    (the TLS object is freed first), so whether TLS came up is polled after
 *    every loop turn: a SASL failure needs several round trips after the
 *    handshake, each one a separate xmpp_run_once().
 *  - With MANDATORY_TLS and no STARTTLS offered (or a TLS context that could
 *    not be built, e.g. an unreadable CA file) libstrophe only logs "TLS is not
 *    supported, but set as mandatory" and closes.
 *  - A STARTTLS <failure/> reaches no user handler (they fire only after
 *    authentication): libstrophe logs "handle proceedtls called for failure"
 *    and waits for the server to close. We take it from the log, end the
 *    connection ourselves and fail for good, as for a stripped STARTTLS.
 *  - direct_tls = XMPP_CONN_FLAG_LEGACY_SSL: libstrophe runs the TLS handshake
 *    (same SSL_CTX, CA file, host name check and certfail handler as after
 *    STARTTLS) as soon as TCP is up, before it sends or parses any XML; with
 *    a host given it connects there, else to the JID's domain (no SRV
 *    lookup). A failed handshake is only logged ("Couldn't start TLS! error
 *    %d tls_error %d", OpenSSL's reasons before it) and reported as a
 *    DISCONNECT whose error is the SSL_ERROR_* code, not an errno.
 *    Raw connections (account.c) skip it: they call xmpp_conn_tls_start(). */
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "client_impl.h"

static __thread struct xpush_client *current;

void conn_set_current(struct xpush_client *c)
{
	current = c;
}

void conn_poll_tls(struct xpush_client *c)
{
	if (c->conn && !c->at.tls_up && xmpp_conn_is_secured(c->conn))
		c->at.tls_up = 1;
}

static int certfail_cb(const xmpp_tlscert_t *cert, const char *errormsg)
{
	struct xpush_client *c = current;
	const char *subject = cert ? xmpp_tlscert_get_string(cert, XMPP_CERT_SUBJECT) : NULL;

	if (c && !c->at.cert_failed) {
		c->at.cert_failed = 1;
		snprintf(c->at.tls_reason, sizeof c->at.tls_reason,
		         "certificate verification failed: %s (subject %s)",
		         errormsg ? errormsg : "unknown error", subject ? subject : "?");
	}
	return 0; /* reject: never connect to an unverified server */
}

static int sockopt_cb(xmpp_conn_t *conn, void *sock)
{
	struct xpush_client *c = current;
	int fd = *(int *)sock;

	if (c) {
		if (conn == c->conn)
			c->at.sock_fd = fd;
		hbnet_sockopts(c, fd); /* TCP_USER_TIMEOUT, keepalive */
		/* bound the attempt from outside libstrophe's blocking calls */
		wd_arm(&c->wd, fd, c->at.attempt_deadline_ms);
	}
	return 0;
}

void conn_abort(struct xpush_client *c, const char *reason)
{
	if (!c->at.we_closed)
		snprintf(c->at.close_reason, sizeof c->at.close_reason, "%s", reason);
	c->at.we_closed = 1;
	/* No </stream:stream>: on a dead link it would only wait for libstrophe's
	 * 2 s disconnect timeout, and a clean close ends a resumable session. */
	if (c->at.sock_fd >= 0)
		(void)shutdown(c->at.sock_fd, SHUT_RDWR);
	else
		xmpp_disconnect(c->conn);
}

void conn_apply_tls(struct xpush_client *c, xmpp_conn_t *conn)
{
	long flags = XMPP_CONN_FLAG_MANDATORY_TLS; /* never XMPP_CONN_FLAG_TRUST_TLS */

	if (c->cfg.direct_tls)
		flags |= XMPP_CONN_FLAG_LEGACY_SSL;
	xmpp_conn_set_flags(conn, flags);
	if (c->cfg.ca_file)
		xmpp_conn_set_cafile(conn, c->cfg.ca_file);
	xmpp_conn_set_certfail_handler(conn, certfail_cb);
	xmpp_conn_set_sockopt_callback(conn, sockopt_cb);
}

int conn_setup(struct xpush_client *c)
{
	if (!(c->conn = xmpp_conn_new(c->ctx)))
		return XPUSH_ENOMEM;
	conn_apply_tls(c, c->conn);
	xmpp_conn_set_jid(c->conn, c->cfg.jid);
	xmpp_conn_set_pass(c->conn, c->cfg.password);
	return XPUSH_OK;
}

static const char *const stream_errors[] = {
	[XMPP_SE_BAD_FORMAT] = "bad-format",
	[XMPP_SE_BAD_NS_PREFIX] = "bad-namespace-prefix",
	[XMPP_SE_CONFLICT] = "conflict",
	[XMPP_SE_CONN_TIMEOUT] = "connection-timeout",
	[XMPP_SE_HOST_GONE] = "host-gone",
	[XMPP_SE_HOST_UNKNOWN] = "host-unknown",
	[XMPP_SE_IMPROPER_ADDR] = "improper-addressing",
	[XMPP_SE_INTERNAL_SERVER_ERROR] = "internal-server-error",
	[XMPP_SE_INVALID_FROM] = "invalid-from",
	[XMPP_SE_INVALID_ID] = "invalid-id",
	[XMPP_SE_INVALID_NS] = "invalid-namespace",
	[XMPP_SE_INVALID_XML] = "invalid-xml",
	[XMPP_SE_NOT_AUTHORIZED] = "not-authorized",
	[XMPP_SE_POLICY_VIOLATION] = "policy-violation",
	[XMPP_SE_REMOTE_CONN_FAILED] = "remote-connection-failed",
	[XMPP_SE_RESOURCE_CONSTRAINT] = "resource-constraint",
	[XMPP_SE_RESTRICTED_XML] = "restricted-xml",
	[XMPP_SE_SEE_OTHER_HOST] = "see-other-host",
	[XMPP_SE_SYSTEM_SHUTDOWN] = "system-shutdown",
	[XMPP_SE_UNDEFINED_CONDITION] = "undefined-condition",
	[XMPP_SE_UNSUPPORTED_ENCODING] = "unsupported-encoding",
	[XMPP_SE_UNSUPPORTED_STANZA_TYPE] = "unsupported-stanza-type",
	[XMPP_SE_UNSUPPORTED_VERSION] = "unsupported-version",
	[XMPP_SE_XML_NOT_WELL_FORMED] = "xml-not-well-formed",
};

static const char *stream_error_name(xmpp_error_type_t t)
{
	if ((unsigned)t < sizeof stream_errors / sizeof stream_errors[0] && stream_errors[t])
		return stream_errors[t];
	return "undefined-condition";
}

enum close_cause conn_tls_start_cause(const struct xpush_client *c, char *reason, size_t len)
{
	const char *how = c->cfg.direct_tls ? "direct TLS handshake" : "TLS handshake";
	const char *d = c->at.tls_detail;

	if (c->at.tls_reason[0]) { /* the TLS context could not be built (CA file) */
		snprintf(reason, len, "%s", c->at.tls_reason);
		return CLOSE_TLS;
	}
	if (wd_fired(&c->wd)) /* we shut the socket down mid-handshake: not the peer's TLS */
		return conn_watchdog_cause(c, reason, len);
	/* SSL_ERROR_SSL: the peer does not speak TLS (a plaintext server or a
	 * STARTTLS port), sent an alert, or offered nothing acceptable: retrying
	 * cannot help. OpenSSL 3 also reports a plain EOF this way. */
	if (c->at.tls_start_error == 1 && !strstr(d, "unexpected eof")) {
		snprintf(reason, len, "%s with %.120s:%u failed: %s%s", how,
		         c->cfg.host ? c->cfg.host : c->domain, (unsigned)cfg_port(&c->cfg),
		         d[0] ? d : "protocol error",
		         c->cfg.direct_tls ? " (is it the server's direct-TLS port?)" : "");
		return CLOSE_TLS;
	}
	snprintf(reason, len, "%s interrupted: connection closed%s%s", how, d[0] ? ": " : "", d);
	return CLOSE_TRANSIENT;
}

/* The watchdog shut the attempt's socket down (watchdog.c): a stalled peer
 * (or a stop), never the server's verdict on TLS or credentials. */
enum close_cause conn_watchdog_cause(const struct xpush_client *c, char *reason, size_t len)
{
	const char *phase;

	if (wd_fired(&c->wd) == WD_FIRED_STOP) {
		snprintf(reason, len, "stopped during the connection attempt");
		return CLOSE_TRANSIENT;
	}
	if (c->at.tls_start_failed && !c->at.tls_up)
		phase = c->cfg.direct_tls ? "direct TLS handshake stalled"
		                          : "TLS handshake stalled";
	else if (!c->at.tls_up)
		phase = "before TLS";
	else
		phase = "after TLS";
	snprintf(reason, len, "no session within connect_timeout_ms=%u (%s)",
	         (unsigned)c->cfg.connect_timeout_ms, phase);
	return CLOSE_TRANSIENT;
}

/* Decide why the connection ended. Called once per DISCONNECT. */
static enum close_cause classify(struct xpush_client *c, int error, const xmpp_stream_error_t *se,
                                 char *reason, size_t len)
{
	int secured = c->at.tls_up;

	if (c->at.cert_failed) {
		snprintf(reason, len, "%s", c->at.tls_reason);
		return CLOSE_TLS;
	}
	if (c->at.no_starttls) {
		snprintf(reason, len, "%s",
		         c->at.tls_reason[0] ? c->at.tls_reason
		                             : "server did not offer STARTTLS (TLS is mandatory)");
		return CLOSE_TLS;
	}
	if (c->at.starttls_refused) {
		snprintf(reason, len, "server refused STARTTLS (<failure/>); TLS is mandatory");
		return CLOSE_TLS;
	}
	if (wd_fired(&c->wd))
		return conn_watchdog_cause(
			c, reason, len); /* before: a shut-down socket looks like a refusal */
	if (c->at.tls_start_failed && !secured)
		return conn_tls_start_cause(c, reason, len);
	/* A disconnect after TLS came up and before the session was established
	 * that neither we nor the network caused is the server refusing our
	 * credentials (libstrophe 0.12 reports it as a clean close, error 0). */
	if (!c->at.session_up && !c->at.we_closed &&
	    (c->at.auth_rejected ||
	     (secured && error == 0 && (!se || se->type == XMPP_SE_NOT_AUTHORIZED)))) {
		snprintf(reason, len, "authentication failed");
		return CLOSE_AUTH;
	}
	if (c->at.we_closed)
		snprintf(reason, len, "%s", c->at.close_reason);
	else if (se && se->text)
		snprintf(reason, len, "stream error %s: %s", stream_error_name(se->type), se->text);
	else if (se)
		snprintf(reason, len, "stream error %s", stream_error_name(se->type));
	else if (!secured && !c->at.session_up)
		snprintf(reason, len, "could not connect%s%s", error ? ": " : "",
		         error ? strerror(error) : " (refused, unreachable or closed before TLS)");
	else if (secured && error == 6) /* SSL_ERROR_ZERO_RETURN */
		snprintf(reason, len, "TLS connection closed by server");
	else if (secured && (error == 1 || error == 5)) /* SSL_ERROR_SSL, _SYSCALL */
		snprintf(reason, len, "TLS connection lost (%s)",
		         error == 1 ? "protocol error" : "socket error");
	else if (error)
		snprintf(reason, len, "connection lost: %s", strerror(error));
	else
		snprintf(reason, len, "connection closed by server");
	return CLOSE_TRANSIENT;
}

static void conn_cb(xmpp_conn_t *conn, xmpp_conn_event_t ev, int error, xmpp_stream_error_t *se,
                    void *userdata)
{
	struct xpush_client *c = userdata;
	char reason[CLIENT_REASON_MAX];
	struct client_event lost;

	if (c->freeing)
		return;
	if (ev != XMPP_CONN_CONNECT && ev != XMPP_CONN_RAW_CONNECT)
		c->at.sock_fd = -1; /* libstrophe has closed it */
	switch (ev) {
	case XMPP_CONN_CONNECT:
		wd_disarm(&c->wd); /* session up: from here the loop's own timers bound it */
		c->at.session_up = 1;
		c->at.tls_up = xmpp_conn_is_secured(conn);
		client_report(c, CLIENT_EV_SESSION_UP, NULL);
		return;
	case XMPP_CONN_RAW_CONNECT:
		return;
	case XMPP_CONN_DISCONNECT:
	case XMPP_CONN_FAIL:
	default:
		break;
	}
	lost.type = CLIENT_EV_LOST;
	lost.cause = classify(c, error, se, reason, sizeof reason);
	lost.reason = reason;
	wd_disarm(&c->wd); /* libstrophe closed its descriptor: drop ours, the socket goes */
	clog_printf(
		&c->log, XPUSH_LOG_DEBUG,
		"topic=conn msg=disconnect error=%d tls_up=%d session=%d we_closed=%d auth_log=%d "
		"cause=%d",
		error, c->at.tls_up, c->at.session_up, c->at.we_closed, c->at.auth_rejected,
		(int)lost.cause);
	c->report(c, &lost);
}

void conn_attempt_reset(struct xpush_client *c, uint64_t deadline_ms)
{
	memset(&c->at, 0, sizeof c->at);
	c->at.sock_fd = -1;
	c->at.connect_deadline_ms = CLIENT_NEVER;
	c->at.close_deadline_ms = CLIENT_NEVER;
	c->at.attempt_deadline_ms = deadline_ms;
}

int conn_start(struct xpush_client *c, uint64_t deadline_ms)
{
	int rc;

	conn_attempt_reset(c, deadline_ms);
	c->at.connect_deadline_ms = deadline_ms;
	rc = xmpp_connect_client(c->conn, c->cfg.host, (unsigned short)cfg_port(&c->cfg), conn_cb,
	                         c);
	if (rc != XMPP_EOK) {
		wd_disarm(&c->wd);
		snprintf(c->reason, sizeof c->reason,
		         "could not connect to %.160s:%u (lookup or socket failed)",
		         c->cfg.host ? c->cfg.host : c->domain, (unsigned)cfg_port(&c->cfg));
		return XPUSH_ECONN;
	}
	return XPUSH_OK;
}

/* What libstrophe only says in debug lines (see the top of this file). */
static void note_tls_debug(struct xpush_client *c, const char *area, const char *msg)
{
	static const char refused[] = "handle proceedtls called for ";
	static const char start[] = "Couldn't start TLS! ";
	const char *p;
	int rc, tls_error;

	if (strcmp(area, "xmpp") == 0 && strncmp(msg, refused, sizeof refused - 1) == 0 &&
	    strcmp(msg + sizeof refused - 1, "proceed") != 0) {
		c->at.starttls_refused = 1;
	} else if (strcmp(area, "conn") == 0 && strncmp(msg, start, sizeof start - 1) == 0) {
		c->at.tls_start_failed = 1;
		c->at.tls_start_error = -1;
		if (sscanf(msg + sizeof start - 1, "error %d tls_error %d", &rc, &tls_error) == 2)
			c->at.tls_start_error = tls_error;
	} else if (strcmp(area, "tls") == 0 && strncmp(msg, "error:", 6) == 0 &&
	           !c->at.tls_detail[0] && (p = strrchr(msg, ':')) && p[1]) {
		/* OpenSSL's "error:CODE:LIB:FUNC:REASON": keep the first REASON */
		snprintf(c->at.tls_detail, sizeof c->at.tls_detail, "%s", p + 1);
		for (char *s = c->at.tls_detail; *s; s++)
			if ((unsigned char)*s < 0x20 || *s == '"' || *s == '\\')
				*s = ' ';
	}
}

void conn_tick(struct xpush_client *c)
{
	/* a <failure/> to our <starttls/>: RFC 6120 has the server close the
	 * stream, but a hostile one may not; never wait in plaintext */
	if (c->at.starttls_refused && !c->at.we_closed && c->state == XPUSH_STATE_CONNECTING)
		conn_abort(c, "server refused STARTTLS");
}

/* Never let authentication material reach a log callback. */
static int secret_bearing(const char *msg)
{
	return strstr(msg, "xmpp-sasl") || strstr(msg, "jabber:iq:register") ||
	       strstr(msg, "<auth") || strstr(msg, "<response") || strstr(msg, "<success") ||
	       strstr(msg, "<challenge") || strstr(msg, "assword");
}

void conn_strophe_log(void *userdata, xmpp_log_level_t level, const char *area, const char *msg)
{
	struct xpush_client *c = userdata;
	char q[1024];

	if (!c || !msg)
		return;
	if (level == XMPP_LEVEL_ERROR && strstr(msg, "TLS is not supported, but set as mandatory"))
		c->at.no_starttls = 1;
	if (level == XMPP_LEVEL_ERROR && strstr(msg, "SSL_CTX_load_verify_locations"))
		snprintf(c->at.tls_reason, sizeof c->at.tls_reason, "cannot load CA file %s",
		         c->cfg.ca_file ? c->cfg.ca_file : "");
	if (level == XMPP_LEVEL_ERROR && strstr(msg, "Cannot authenticate with known methods"))
		c->at.auth_rejected = 1;
	if (level == XMPP_LEVEL_DEBUG && area)
		note_tls_debug(c, area, msg);
	if (!clog_enabled(&c->log, XPUSH_LOG_DEBUG))
		return;
	clog_printf(&c->log, XPUSH_LOG_DEBUG, "topic=strophe area=%s level=%d msg=%s",
	            area ? area : "-", (int)level,
	            secret_bearing(msg) ? "\"[redacted: authentication data]\""
	                                : clog_quote(q, sizeof q, msg));
}
