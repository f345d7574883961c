/* console_pages: HTML of the web console, rendered from SQL results. Owns the
 * console's statements and its markup; holds no state between calls. The
 * statements are constant and parameterised; the text of every result is
 * escaped (esc) before it reaches the page. No script, no external asset:
 * one inline style sheet. */
#include "console_pages.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TRY(x) \
	do { \
		if ((x) < 0) \
			return -1; \
	} while (0)

/* HTML text and attribute values: & < > " ' escaped, control characters
 * other than TAB/LF/CR dropped. */
static int esc(struct xbuf *o, const char *s)
{
	for (; s && *s; s++) {
		const char *r = NULL;
		switch (*s) {
		case '&':
			r = "&amp;";
			break;
		case '<':
			r = "&lt;";
			break;
		case '>':
			r = "&gt;";
			break;
		case '"':
			r = "&quot;";
			break;
		case '\'':
			r = "&#39;";
			break;
		default:
			if ((unsigned char)*s < 0x20 && *s != '\t' && *s != '\n' && *s != '\r')
				continue;
			TRY(xbuf_append(o, s, 1));
			continue;
		}
		TRY(xbuf_puts(o, r));
	}
	return 0;
}

static const char style[] =
	"body{font:14px/1.4 sans-serif;margin:1em 2em;color:#222}"
	"nav a,nav button{margin-right:1em}table{border-collapse:collapse;margin:.5em 0}"
	"td,th{border:1px solid #ccc;padding:2px 6px;text-align:left;vertical-align:top}"
	"th{background:#eee}.note{background:#ffd;padding:4px 8px;border:1px solid #cc9}"
	".err{background:#fdd;padding:4px 8px;border:1px solid #c99}form.inline{display:inline}"
	"fieldset{margin:1em 0}label{display:inline-block;min-width:6em}";

static int head(struct xbuf *o, const char *title, const struct console_view *v)
{
	TRY(xbuf_puts(o, "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>"));
	TRY(esc(o, title));
	TRY(xbuf_printf(o, " - xpush console</title><style>%s</style></head><body>", style));
	if (v) {
		TRY(xbuf_puts(o, "<nav><a href=\"/\">Dashboard</a><a href=\"/devices\">Devices</a>"
		                 "<form class=\"inline\" method=\"post\" action=\"/logout\">"
		                 "<input type=\"hidden\" name=\"csrf\" value=\""));
		TRY(esc(o, v->csrf));
		TRY(xbuf_printf(o,
		                "\"><button type=\"submit\">Log out</button></form> role: %s</nav>",
		                v->role == CONSOLE_ADMIN ? "admin" : "viewer (read-only)"));
		if (v->note) {
			TRY(xbuf_puts(o, "<p class=\"note\" id=\"note\">"));
			TRY(esc(o, v->note));
			TRY(xbuf_puts(o, "</p>"));
		}
	}
	TRY(xbuf_puts(o, "<h1>"));
	TRY(esc(o, title));
	return xbuf_puts(o, "</h1>");
}

static int tail(struct xbuf *o)
{
	return xbuf_puts(o, "</body></html>\n");
}

/* Run a read statement; NULL on error, with the error on the page. */
static PGresult *query(PGconn *db, struct xbuf *o, const char *sql, int n,
                       const char *const *params)
{
	PGresult *r = PQexecParams(db, sql, n, NULL, params, NULL, NULL, 0);

	if (PQresultStatus(r) == PGRES_TUPLES_OK)
		return r;
	if (xbuf_puts(o, "<p class=\"err\">database error: ") < 0 ||
	    esc(o, PQresultErrorMessage(r)) < 0 || xbuf_puts(o, "</p>") < 0)
		xbuf_reset(o); /* out of memory: the page is cut, the caller sees an empty one */
	PQclear(r);
	return NULL;
}

/* A link target for a column: notification ids and device ids. */
static const char *link_of(const char *col)
{
	if (strcmp(col, "notification") == 0 || strcmp(col, "id") == 0)
		return "/notification?id=";
	if (strcmp(col, "device_row") == 0)
		return "/device?id=";
	return NULL;
}

/* Every row of r as a table; cells of id columns link to their page when
 * ids_link names the page of column "id" (NULL: by column name). */
static int table(struct xbuf *o, const PGresult *r, const char *id_link, const char *html_id)
{
	int nc = PQnfields(r), nr = PQntuples(r);

	if (nr == 0)
		return xbuf_puts(o, "<p>(none)</p>");
	TRY(xbuf_printf(o, "<table id=\"%s\"><tr>", html_id));
	for (int c = 0; c < nc; c++) {
		TRY(xbuf_puts(o, "<th>"));
		TRY(esc(o, PQfname(r, c)));
		TRY(xbuf_puts(o, "</th>"));
	}
	TRY(xbuf_puts(o, "</tr>"));
	for (int i = 0; i < nr; i++) {
		TRY(xbuf_puts(o, "<tr>"));
		for (int c = 0; c < nc; c++) {
			const char *name = PQfname(r, c), *v = PQgetvalue(r, i, c);
			const char *link = strcmp(name, "id") == 0 && id_link ? id_link
			                                                      : link_of(name);
			TRY(xbuf_printf(o, "<td class=\"%s\">", name));
			if (PQgetisnull(r, i, c)) {
				TRY(xbuf_puts(o, "-"));
			} else if (link) {
				TRY(xbuf_printf(o, "<a href=\"%s", link));
				TRY(esc(o, v));
				TRY(xbuf_puts(o, "\">"));
				TRY(esc(o, v));
				TRY(xbuf_puts(o, "</a>"));
			} else {
				TRY(esc(o, v));
			}
			TRY(xbuf_puts(o, "</td>"));
		}
		TRY(xbuf_puts(o, "</tr>"));
	}
	return xbuf_puts(o, "</table>");
}

/* Run and show a statement as a table. */
static int shown(PGconn *db, struct xbuf *o, const char *sql, int n, const char *const *p,
                 const char *id_link, const char *html_id)
{
	PGresult *r = query(db, o, sql, n, p);
	int rc;

	if (!r)
		return 0;
	rc = table(o, r, id_link, html_id);
	PQclear(r);
	return rc;
}

int console_pages_message(struct xbuf *o, const char *title, const char *text)
{
	TRY(head(o, title, NULL));
	TRY(xbuf_puts(o, "<p class=\"err\" id=\"message\">"));
	TRY(esc(o, text));
	TRY(xbuf_puts(o, "</p><p><a href=\"/login\">Log in</a></p>"));
	return tail(o);
}

int console_pages_login(struct xbuf *o, const char *error)
{
	TRY(head(o, "Log in", NULL));
	if (error) {
		TRY(xbuf_puts(o, "<p class=\"err\" id=\"message\">"));
		TRY(esc(o, error));
		TRY(xbuf_puts(o, "</p>"));
	}
	TRY(xbuf_puts(o,
	              "<form method=\"post\" action=\"/login\"><label for=\"token\">Token</label>"
	              "<input type=\"password\" id=\"token\" name=\"token\" autocomplete=\"off\" "
	              "autofocus> <button type=\"submit\" id=\"login\">Log in</button></form>"));
	return tail(o);
}

/* clang-format off: SQL laid out by hand */
#define TS(x) "to_char(" x ", 'YYYY-MM-DD HH24:MI:SS')"
static const char health_sql[] =
	"SELECT awaiting_fanout, queued, in_flight, failed, expired, acked_last_minute,"
	" coalesce(extract(epoch FROM oldest_queued_age)::bigint::text || ' s', '-') AS oldest_queued,"
	" devices_online, devices_registered, stuck, devices_silent FROM push.queue_health";
#define PROGRESS_COLS(from) \
	" n.id, n.app, coalesce(n.to_jid, n.to_alias, CASE WHEN n.broadcast THEN '(broadcast)' END," \
	"  '(tags)') AS target, n.title, " TS( \
		"n.created_at") " AS created, n.target_count," \
				" p.queued, p.sent, p.acked, p.expired, p.superseded, p.retracted, p.failed" \
				" FROM" from " n CROSS JOIN LATERAL (SELECT" \
				"  count(*) FILTER (WHERE d.state = 'queued') AS queued," \
				"  count(*) FILTER (WHERE d.state = 'sent') AS sent," \
				"  count(*) FILTER (WHERE d.state = 'acked') AS acked," \
				"  count(*) FILTER (WHERE d.state = 'expired') AS expired," \
				"  count(*) FILTER (WHERE d.state = 'superseded') AS superseded," \
				"  count(*) FILTER (WHERE d.state = 'retracted') AS retracted," \
				"  count(*) FILTER (WHERE d.state = 'failed') AS failed" \
				"  FROM push.deliveries d WHERE d.notification_id = n.id) p"
static const char recent_sql[] = "SELECT" PROGRESS_COLS(
	" (SELECT * FROM push.notifications ORDER BY id DESC LIMIT 20)") " ORDER BY n.id DESC";
static const char one_sql[] = "SELECT" PROGRESS_COLS(
	" (SELECT * FROM push.notifications WHERE id = $1::bigint)");
static const char ledger_sql[] =
	"SELECT d.device_id AS device_row, v.jid, v.device, d.state, d.attempts, d.acks,"
	" " TS("d.sent_at") " AS sent_at, " TS(
		"d.acked_at") " AS acked_at, d.retract_state,"
			      " d.last_error FROM push.deliveries d JOIN push.devices v ON v.id = d.device_id"
			      " WHERE d.notification_id = $1::bigint ORDER BY d.device_id LIMIT 500";
static const char devices_sql[] =
	"SELECT v.id AS device_row, v.jid, v.app, v.device, v.alias, array_to_string(v.tags, ', ') AS tags,"
	" v.online, " TS("v.last_seen") " AS last_seen, " TS(
		"v.unregistered_at") " AS unregistered"
				     " FROM push.devices v"
				     " WHERE ($1 = '' OR v.jid ILIKE '%' || $1 || '%' OR v.alias = $1 OR v.device = $1"
				     "        OR $1 = ANY (v.tags))"
				     "  AND ($2 = '' OR v.app = $2)"
				     "  AND ($3 = '' OR v.online = ($3 = 'online'))"
				     " ORDER BY v.id DESC LIMIT 200";
static const char device_sql[] =
	"SELECT v.id AS device_row, v.jid, v.app, v.device, v.alias, array_to_string(v.tags, ', ') AS tags,"
	" v.platform, v.online, v.full_jid, " TS(
		"v.last_seen") " AS last_seen,"
			       " " TS("v.registered_at") " AS registered, " TS(
				       "v.unregistered_at") " AS unregistered"
							    " FROM push.devices v WHERE v.id = $1::bigint";
static const char device_ledger_sql[] =
	"SELECT d.notification_id AS notification, n.title, d.state, d.attempts, d.acks,"
	" " TS("d.sent_at") " AS sent_at, " TS(
		"d.acked_at") " AS acked_at, d.last_error"
			      " FROM push.deliveries d JOIN push.notifications n ON n.id = d.notification_id"
			      " WHERE d.device_id = $1::bigint ORDER BY d.notification_id DESC LIMIT 50";
static const char send_sql[] =
	"INSERT INTO push.notifications (app, to_jid, to_alias, tags_any, broadcast, title, body,"
	" ttl_seconds) VALUES ($1, CASE WHEN $2 = 'jid' THEN $3 END, CASE WHEN $2 = 'alias' THEN $3 END,"
	" CASE WHEN $2 = 'tag' THEN ARRAY[$3] END, $2 = 'broadcast',"
	" nullif($4, ''), nullif($5, ''), coalesce(nullif($6, '')::integer, 2419200)) RETURNING id";
/* clang-format on */

static int send_form(struct xbuf *o, const struct console_view *v)
{
	TRY(xbuf_puts(o, "<h2>Send</h2><form method=\"post\" action=\"/send\" id=\"send\">"
	                 "<input type=\"hidden\" name=\"csrf\" value=\""));
	TRY(esc(o, v->csrf));
	return xbuf_puts(
		o,
		"\"><p><label for=\"app\">App</label><input id=\"app\" name=\"app\" required></p>"
		"<p><label for=\"target\">To</label><select id=\"target\" name=\"target\">"
		"<option value=\"jid\">JID</option><option value=\"alias\">alias</option>"
		"<option value=\"tag\">tag</option><option value=\"broadcast\">every device of "
		"the app</option></select> <input id=\"value\" name=\"value\" "
		"placeholder=\"alice@example.org\"></p>"
		"<p><label for=\"title\">Title</label><input id=\"title\" name=\"title\"></p>"
		"<p><label for=\"body\">Body</label><textarea id=\"body\" name=\"body\" rows=\"2\" "
		"cols=\"40\"></textarea></p>"
		"<p><label for=\"ttl\">TTL (s)</label><input id=\"ttl\" name=\"ttl\" "
		"placeholder=\"2419200\"></p>"
		"<p><button type=\"submit\" id=\"send-button\">Send</button></p></form>");
}

static int search_form(struct xbuf *o, const char *q, const char *app, const char *online)
{
	TRY(xbuf_puts(
		o, "<form method=\"get\" action=\"/devices\" id=\"search\">"
		   "<label for=\"q\">JID, alias, device or tag</label><input id=\"q\" name=\"q\" "
		   "value=\""));
	TRY(esc(o, q));
	TRY(xbuf_puts(
		o, "\"> <label for=\"sapp\">App</label><input id=\"sapp\" name=\"app\" value=\""));
	TRY(esc(o, app));
	TRY(xbuf_printf(o,
	                "\"> <select name=\"online\"><option value=\"\">online or not</option>"
	                "<option value=\"online\"%s>online</option><option value=\"offline\"%s>"
	                "offline</option></select> <button type=\"submit\">Search</button></form>",
	                online && strcmp(online, "online") == 0 ? " selected" : "",
	                online && strcmp(online, "offline") == 0 ? " selected" : ""));
	return 0;
}

int console_pages_dashboard(PGconn *db, const struct console_view *v, struct xbuf *o)
{
	TRY(head(o, "Dashboard", v));
	TRY(xbuf_puts(o, "<h2>Queue health</h2>"));
	TRY(shown(db, o, health_sql, 0, NULL, NULL, "health"));
	TRY(xbuf_puts(o, "<h2>Recent notifications</h2>"));
	TRY(shown(db, o, recent_sql, 0, NULL, "/notification?id=", "recent"));
	TRY(xbuf_puts(o, "<h2>Devices</h2>"));
	TRY(search_form(o, "", "", ""));
	if (v->role == CONSOLE_ADMIN)
		TRY(send_form(o, v));
	return tail(o);
}

int console_pages_devices(PGconn *db, const struct console_view *v, const char *q, const char *app,
                          const char *online, struct xbuf *o)
{
	const char *p[] = { q ? q : "", app ? app : "", online ? online : "" };

	TRY(head(o, "Devices", v));
	TRY(search_form(o, p[0], p[1], p[2]));
	TRY(shown(db, o, devices_sql, 3, p, NULL, "devices"));
	return tail(o);
}

int console_pages_device(PGconn *db, const struct console_view *v, const char *id, struct xbuf *o)
{
	const char *p[] = { id };

	TRY(head(o, "Device", v));
	TRY(shown(db, o, device_sql, 1, p, NULL, "device"));
	TRY(xbuf_puts(o, "<h2>Recent deliveries</h2>"));
	TRY(shown(db, o, device_ledger_sql, 1, p, NULL, "deliveries"));
	return tail(o);
}

int console_pages_notification(PGconn *db, const struct console_view *v, const char *id,
                               struct xbuf *o)
{
	const char *p[] = { id };

	TRY(head(o, "Notification", v));
	TRY(shown(db, o, one_sql, 1, p, "/notification?id=", "notification"));
	TRY(xbuf_puts(o, "<h2>Ledger</h2>"));
	TRY(shown(db, o, ledger_sql, 1, p, NULL, "ledger"));
	if (v->role == CONSOLE_ADMIN) {
		TRY(xbuf_puts(o, "<form method=\"post\" action=\"/retract\" id=\"retract\">"
		                 "<input type=\"hidden\" name=\"csrf\" value=\""));
		TRY(esc(o, v->csrf));
		TRY(xbuf_puts(o, "\"><input type=\"hidden\" name=\"id\" value=\""));
		TRY(esc(o, id));
		TRY(xbuf_puts(o, "\"><button type=\"submit\" id=\"retract-button\">Retract</button>"
		                 "</form>"));
	}
	return tail(o);
}

static void one_line(const PGresult *r, char *err, size_t errlen)
{
	const char *m = PQresultErrorField(r, PG_DIAG_MESSAGE_PRIMARY);

	snprintf(err, errlen, "%s", m ? m : PQresultErrorMessage(r));
	for (char *p = err; *p; p++)
		if (*p == '\n')
			*p = ' ';
}

long long console_pages_send(PGconn *db, const struct console_send *s, char *err, size_t errlen)
{
	const char *p[] = {
		s->app ? s->app : "",     s->target ? s->target : "", s->value,
		s->title ? s->title : "", s->body ? s->body : "",     s->ttl ? s->ttl : ""
	};
	PGresult *r;
	long long id = -1;

	if (!s->target || (strcmp(s->target, "broadcast") != 0 && (!s->value || !*s->value))) {
		snprintf(err, errlen, "a target is needed: a JID, an alias, a tag or every device");
		return -1;
	}
	if (s->ttl && *s->ttl && strspn(s->ttl, "0123456789") != strlen(s->ttl)) {
		snprintf(err, errlen, "TTL: a whole number of seconds");
		return -1;
	}
	r = PQexecParams(db, send_sql, 6, NULL, p, NULL, NULL, 0);
	if (PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1)
		id = strtoll(PQgetvalue(r, 0, 0), NULL, 10);
	else
		one_line(r, err, errlen);
	PQclear(r);
	return id;
}

int console_pages_retract(PGconn *db, const char *id, char *err, size_t errlen)
{
	const char *p[] = { id };
	PGresult *r = PQexecParams(db, "SELECT push.retract_own($1::bigint)", 1, NULL, p, NULL,
	                           NULL, 0);
	int ok = PQresultStatus(r) == PGRES_TUPLES_OK;

	if (!ok)
		one_line(r, err, errlen);
	PQclear(r);
	return ok ? 0 : -1;
}
