/* console: the web console's HTTP side. Owns the listener (libmicrohttpd,
 * one internal thread: requests are handled one at a time, so the sessions
 * and the Postgres session below need no lock), the login sessions, the
 * CSRF tokens, the parsing of forms and the routes. The pages themselves
 * are console_pages.c's. Nothing here touches the daemon's loop or state;
 * it logs with single whole-line writes of its own (log.c is the loop's). */
#include "console.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <microhttpd.h>
#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include "console_pages.h"
#include "xbuf.h"

#define SESSIONS 64
#define SESSION_TTL_S (12 * 3600)
#define TOKEN_MIN 16
#define TOKEN_MAX 256
#define BODY_MAX 16384
#define FIELDS_MAX 16
#define COOKIE "xpush_console"
/* Failed logins: at most this many a minute, then 429 until the minute ends. */
#define LOGIN_FAILS_MAX 10

struct csession {
	char sid[65], csrf[65];
	enum console_role role;
	time_t expires;
};

struct console {
	struct MHD_Daemon *mhd;
	char *conninfo; /* a copy: the configuration is the loop's */
	char admin[TOKEN_MAX + 1], viewer[TOKEN_MAX + 1]; /* viewer "" = no viewer login */
	PGconn *db;                                       /* the console thread's own session */
	struct csession sess[SESSIONS];
	time_t fail_minute; /* the minute of the failed logins counted */
	unsigned fails;
};

/* One request: its body (a form) as it arrives, then parsed. */
struct creq {
	struct xbuf body;
	int too_big;
	size_t nf;
	char *name[FIELDS_MAX], *value[FIELDS_MAX];
};

static void clog_line(const char *level, const char *msg, const char *detail)
{
	fprintf(stderr, "xpushd level=%s msg=\"%s\" %s\n", level, msg, detail);
}

static int random_hex(char out[65])
{
	unsigned char b[32];

	if (getrandom(b, sizeof b, 0) != (ssize_t)sizeof b)
		return -1;
	for (int i = 0; i < 32; i++)
		snprintf(out + 2 * i, 3, "%02x", b[i]);
	return 0;
}

/* Equal, in time that does not depend on where they differ. */
static int same(const char *a, const char *b)
{
	size_t n = strlen(a);
	return n == strlen(b) && CRYPTO_memcmp(a, b, n) == 0;
}

/* ---- forms -------------------------------------------------------------- */

static int hexv(int c)
{
	return isdigit(c) ? c - '0' : isxdigit(c) ? (tolower(c) - 'a' + 10) : -1;
}

/* application/x-www-form-urlencoded, decoded in place into q's fields. */
static void parse_form(struct creq *q)
{
	char *p = q->body.data;

	while (p && *p && q->nf < FIELDS_MAX) {
		char *amp = strchr(p, '&'), *eq, *w, *r;
		if (amp)
			*amp = '\0';
		eq = strchr(p, '=');
		if (eq) {
			*eq = '\0';
			q->name[q->nf] = p;
			q->value[q->nf] = eq + 1;
			for (int k = 0; k < 2; k++) {
				w = r = k ? eq + 1 : p;
				for (; *r; r++) {
					if (*r == '+') {
						*w++ = ' ';
					} else if (*r == '%' && hexv(r[1]) >= 0 &&
					           hexv(r[2]) >= 0) {
						*w++ = (char)(hexv(r[1]) * 16 + hexv(r[2]));
						r += 2;
					} else {
						*w++ = *r;
					}
				}
				*w = '\0';
			}
			q->nf++;
		}
		p = amp ? amp + 1 : NULL;
	}
}

static const char *field(const struct creq *q, const char *name)
{
	for (size_t i = 0; i < q->nf; i++)
		if (strcmp(q->name[i], name) == 0)
			return q->value[i];
	return NULL;
}

static int all_digits(const char *s)
{
	return s && *s && strlen(s) <= 19 && strspn(s, "0123456789") == strlen(s);
}

/* ---- responses ---------------------------------------------------------- */

static enum MHD_Result respond(struct MHD_Connection *conn, unsigned status,
                               const struct xbuf *body, const char *location, const char *cookie)
{
	struct MHD_Response *r = MHD_create_response_from_buffer(
		body ? body->len : 0, body ? body->data : (void *)"", MHD_RESPMEM_MUST_COPY);
	enum MHD_Result rc;

	if (!r)
		return MHD_NO;
	MHD_add_response_header(r, "Content-Type", "text/html; charset=utf-8");
	MHD_add_response_header(r, "Cache-Control", "no-store");
	MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
	MHD_add_response_header(r, "Referrer-Policy", "no-referrer");
	MHD_add_response_header(r, "X-Frame-Options", "DENY");
	MHD_add_response_header(
		r, "Content-Security-Policy",
		"default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; "
		"frame-ancestors 'none'; base-uri 'none'");
	if (location)
		MHD_add_response_header(r, "Location", location);
	if (cookie)
		MHD_add_response_header(r, "Set-Cookie", cookie);
	rc = MHD_queue_response(conn, status, r);
	MHD_destroy_response(r);
	return rc;
}

static enum MHD_Result redirect(struct MHD_Connection *conn, const char *to, const char *cookie)
{
	return respond(conn, MHD_HTTP_SEE_OTHER, NULL, to, cookie);
}

static enum MHD_Result message(struct MHD_Connection *conn, unsigned status, const char *title,
                               const char *text)
{
	struct xbuf o = XBUF_INIT;
	enum MHD_Result rc;

	if (console_pages_message(&o, title, text) < 0) {
		xbuf_free(&o);
		return MHD_NO;
	}
	rc = respond(conn, status, &o, NULL, NULL);
	xbuf_free(&o);
	return rc;
}

/* ---- sessions ----------------------------------------------------------- */

static struct csession *session_of(struct console *c, struct MHD_Connection *conn)
{
	const char *sid = MHD_lookup_connection_value(conn, MHD_COOKIE_KIND, COOKIE);
	time_t now = time(NULL);

	if (!sid || strlen(sid) != 64)
		return NULL;
	for (int i = 0; i < SESSIONS; i++) {
		struct csession *s = &c->sess[i];
		if (s->role != CONSOLE_NOBODY && s->expires > now && same(s->sid, sid))
			return s;
	}
	return NULL;
}

/* A new session in a free slot, or the one closest to expiry. */
static struct csession *session_new(struct console *c, enum console_role role)
{
	struct csession *s = &c->sess[0];
	time_t now = time(NULL);

	for (int i = 0; i < SESSIONS; i++) {
		struct csession *t = &c->sess[i];
		if (t->role == CONSOLE_NOBODY || t->expires <= now) {
			s = t;
			break;
		}
		if (t->expires < s->expires)
			s = t;
	}
	if (random_hex(s->sid) < 0 || random_hex(s->csrf) < 0)
		return NULL;
	s->role = role;
	s->expires = now + SESSION_TTL_S;
	return s;
}

/* ---- the database --------------------------------------------------------- */

static PGconn *db_of(struct console *c)
{
	const char *keys[] = { "dbname", "application_name", "options", NULL };
	const char *vals[] = { c->conninfo, "xpushd-console", "-c statement_timeout=5000", NULL };

	if (c->db && PQstatus(c->db) == CONNECTION_OK)
		return c->db;
	if (c->db)
		PQfinish(c->db);
	c->db = PQconnectdbParams(keys, vals, 1);
	return c->db;
}

/* ---- routes --------------------------------------------------------------- */

static enum MHD_Result page(struct MHD_Connection *conn, unsigned status, struct xbuf *o, int rc)
{
	enum MHD_Result r = rc < 0 ? MHD_NO : respond(conn, status, o, NULL, NULL);
	xbuf_free(o);
	return r;
}

static enum MHD_Result do_login(struct console *c, struct MHD_Connection *conn,
                                const struct creq *q)
{
	const char *token = field(q, "token");
	enum console_role role = CONSOLE_NOBODY;
	struct csession *s;
	char cookie[160];
	time_t minute = time(NULL) / 60;

	if (c->fail_minute != minute) {
		c->fail_minute = minute;
		c->fails = 0;
	}
	if (c->fails >= LOGIN_FAILS_MAX)
		return message(conn, MHD_HTTP_TOO_MANY_REQUESTS, "Refused",
		               "too many failed logins: try again in a minute");
	if (token && same(token, c->admin))
		role = CONSOLE_ADMIN;
	else if (token && *c->viewer && same(token, c->viewer))
		role = CONSOLE_VIEWER;
	if (role == CONSOLE_NOBODY) {
		struct xbuf o = XBUF_INIT;
		c->fails++;
		clog_line("warn", "console login refused", "reason=\"wrong token\"");
		return page(conn, MHD_HTTP_FORBIDDEN, &o, console_pages_login(&o, "wrong token"));
	}
	if (!(s = session_new(c, role)))
		return message(conn, MHD_HTTP_INTERNAL_SERVER_ERROR, "Error", "no random bytes");
	clog_line("info", "console login", role == CONSOLE_ADMIN ? "role=admin" : "role=viewer");
	snprintf(cookie, sizeof cookie, COOKIE "=%s; Path=/; HttpOnly; SameSite=Strict; Max-Age=%d",
	         s->sid, SESSION_TTL_S);
	return redirect(conn, "/", cookie);
}

static enum MHD_Result do_post(struct console *c, struct MHD_Connection *conn, const char *url,
                               struct csession *s, const struct creq *q)
{
	const char *csrf = field(q, "csrf");
	char err[512] = "", to[96];
	PGconn *db;

	if (!csrf || !same(csrf, s->csrf))
		return message(conn, MHD_HTTP_FORBIDDEN, "Refused", "missing or wrong CSRF token");
	if (strcmp(url, "/logout") == 0) {
		s->role = CONSOLE_NOBODY;
		return redirect(conn, "/login",
		                COOKIE "=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0");
	}
	if (strcmp(url, "/send") != 0 && strcmp(url, "/retract") != 0)
		return message(conn, MHD_HTTP_NOT_FOUND, "Not found", "no such page");
	if (s->role != CONSOLE_ADMIN)
		return message(conn, MHD_HTTP_FORBIDDEN, "Refused",
		               "read-only login: the viewer role cannot send or retract");
	db = db_of(c);
	if (strcmp(url, "/send") == 0) {
		struct console_send f = { field(q, "app"),   field(q, "target"), field(q, "value"),
			                  field(q, "title"), field(q, "body"),   field(q, "ttl") };
		long long id = PQstatus(db) == CONNECTION_OK
		                       ? console_pages_send(db, &f, err, sizeof err)
		                       : -1;
		if (id < 0) {
			char text[600];
			snprintf(text, sizeof text, "send refused: %s",
			         *err ? err : PQerrorMessage(db));
			return message(conn, MHD_HTTP_BAD_REQUEST, "Not sent", text);
		}
		snprintf(to, sizeof to, "/notification?id=%lld&done=sent", id);
		return redirect(conn, to, NULL);
	}
	if (!all_digits(field(q, "id")))
		return message(conn, MHD_HTTP_BAD_REQUEST, "Refused", "id: not a notification id");
	if (PQstatus(db) != CONNECTION_OK ||
	    console_pages_retract(db, field(q, "id"), err, sizeof err) < 0)
		return message(conn, MHD_HTTP_BAD_REQUEST, "Not retracted",
		               *err ? err : PQerrorMessage(db));
	snprintf(to, sizeof to, "/notification?id=%s&done=retracted", field(q, "id"));
	return redirect(conn, to, NULL);
}

static enum MHD_Result do_get(struct console *c, struct MHD_Connection *conn, const char *url,
                              struct csession *s)
{
	struct console_view v = { s->role, s->csrf, NULL };
	struct xbuf o = XBUF_INIT;
	const char *id = MHD_lookup_connection_value(conn, MHD_GET_ARGUMENT_KIND, "id");
	const char *done = MHD_lookup_connection_value(conn, MHD_GET_ARGUMENT_KIND, "done");
	char note[96];
	PGconn *db = db_of(c);

	if (PQstatus(db) != CONNECTION_OK)
		return message(conn, MHD_HTTP_SERVICE_UNAVAILABLE, "Database unavailable",
		               PQerrorMessage(db));
	if (strcmp(url, "/") == 0)
		return page(conn, MHD_HTTP_OK, &o, console_pages_dashboard(db, &v, &o));
	if (strcmp(url, "/devices") == 0)
		return page(
			conn, MHD_HTTP_OK, &o,
			console_pages_devices(
				db, &v,
				MHD_lookup_connection_value(conn, MHD_GET_ARGUMENT_KIND, "q"),
				MHD_lookup_connection_value(conn, MHD_GET_ARGUMENT_KIND, "app"),
				MHD_lookup_connection_value(conn, MHD_GET_ARGUMENT_KIND, "online"),
				&o));
	if (strcmp(url, "/device") != 0 && strcmp(url, "/notification") != 0)
		return message(conn, MHD_HTTP_NOT_FOUND, "Not found", "no such page");
	if (!all_digits(id))
		return message(conn, MHD_HTTP_BAD_REQUEST, "Bad request", "id: a whole number");
	if (strcmp(url, "/device") == 0)
		return page(conn, MHD_HTTP_OK, &o, console_pages_device(db, &v, id, &o));
	if (done && (strcmp(done, "sent") == 0 || strcmp(done, "retracted") == 0)) {
		snprintf(note, sizeof note, "notification %s %s", id,
		         done[0] == 's' ? "enqueued" : "retracted");
		v.note = note;
	}
	return page(conn, MHD_HTTP_OK, &o, console_pages_notification(db, &v, id, &o));
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
                                  const char *method, const char *version, const char *upload,
                                  size_t *upload_size, void **con_cls)
{
	struct console *c = cls;
	struct creq *q = *con_cls;
	struct csession *s;
	int post = strcmp(method, "POST") == 0;

	(void)version;
	if (!q) {
		if (!(q = calloc(1, sizeof *q)))
			return MHD_NO;
		*con_cls = q;
		return MHD_YES;
	}
	if (*upload_size) {
		if (q->body.len + *upload_size > BODY_MAX)
			q->too_big = 1;
		else if (xbuf_append(&q->body, upload, *upload_size) < 0)
			return MHD_NO;
		*upload_size = 0;
		return MHD_YES;
	}
	if (!post && strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0)
		return message(conn, MHD_HTTP_METHOD_NOT_ALLOWED, "Refused", "GET or POST only");
	if (q->too_big)
		return message(conn, 413, "Refused", "form larger than 16 KiB");
	if (post)
		parse_form(q);
	if (strcmp(url, "/login") == 0) {
		struct xbuf o = XBUF_INIT;
		if (post)
			return do_login(c, conn, q);
		return page(conn, MHD_HTTP_OK, &o, console_pages_login(&o, NULL));
	}
	s = session_of(c, conn);
	if (!s) {
		if (post)
			return message(conn, MHD_HTTP_FORBIDDEN, "Refused",
			               "not logged in: log in with the console token");
		return redirect(conn, "/login", NULL);
	}
	return post ? do_post(c, conn, url, s, q) : do_get(c, conn, url, s);
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
	struct creq *q = *con_cls;

	(void)cls;
	(void)conn;
	(void)toe;
	if (q) {
		xbuf_free(&q->body);
		free(q);
		*con_cls = NULL;
	}
}

/* The first line of path: a token of TOKEN_MIN..TOKEN_MAX printable bytes. */
static int read_token(const char *path, char *out, const char **err)
{
	FILE *f = fopen(path, "r");
	size_t n;

	if (!f) {
		*err = "console token file: cannot open it";
		return -1;
	}
	if (!fgets(out, TOKEN_MAX + 1, f))
		out[0] = '\0';
	fclose(f);
	n = strcspn(out, "\r\n");
	out[n] = '\0';
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)out[i] <= ' ' || (unsigned char)out[i] == 0x7f)
			n = 0;
	if (n < TOKEN_MIN) {
		*err = "console token file: the first line must be 16..256 printable bytes";
		return -1;
	}
	return 0;
}

struct console *console_start(const struct config *cfg, const char **err)
{
	struct console *c = calloc(1, sizeof *c);
	struct sockaddr_in sin = { .sin_family = AF_INET,
		                   .sin_port = htons((uint16_t)cfg->console_port) };

	*err = "out of memory";
	if (!c)
		return NULL;
	if (!(c->conninfo = strdup(cfg->pg_conninfo))) {
		free(c);
		return NULL;
	}
	if (read_token(cfg->console_token_file, c->admin, err) < 0 ||
	    (*cfg->console_viewer_token_file &&
	     read_token(cfg->console_viewer_token_file, c->viewer, err) < 0)) {
		console_stop(c);
		return NULL;
	}
	if (inet_pton(AF_INET, cfg->console_address, &sin.sin_addr) != 1) {
		*err = "console_address: not an IPv4 address";
		console_stop(c);
		return NULL;
	}
	c->mhd = MHD_start_daemon(
		MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ERROR_LOG, (uint16_t)cfg->console_port,
		NULL, NULL, on_request, c, MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&sin,
		MHD_OPTION_CONNECTION_LIMIT, (unsigned)16, MHD_OPTION_CONNECTION_TIMEOUT,
		(unsigned)10, MHD_OPTION_NOTIFY_COMPLETED, on_completed, c, MHD_OPTION_END);
	if (!c->mhd) {
		*err = "cannot listen on console_address:console_port";
		console_stop(c);
		return NULL;
	}
	return c;
}

void console_stop(struct console *c)
{
	if (!c)
		return;
	if (c->mhd)
		MHD_stop_daemon(c->mhd); /* joins the console's thread */
	if (c->db)
		PQfinish(c->db);
	explicit_bzero(c->admin, sizeof c->admin);
	explicit_bzero(c->viewer, sizeof c->viewer);
	free(c->conninfo);
	free(c);
}
