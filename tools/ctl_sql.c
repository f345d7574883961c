/* ctl_sql: xpushctl's libpq connection and the table of its SQL statements.
 * Owns every SQL text of the tool and the conversion of PGresult into
 * ctl_rows / plain values. Statements are constant; every value from the
 * command line is a parameter of PQexecParams, never spliced into SQL. Must
 * not print: errors go to the caller's buffer as one line. */
#include "ctl_sql.h"

#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct ctl_db {
	PGconn *conn;
};

/* Timestamps leave Postgres as ISO 8601 text with an offset, in the session's
 * TimeZone: to_json() writes them that way whatever DateStyle says. */
/* clang-format off: SQL laid out by hand, a clause a line */
#define TS(x) "(to_json(" x ")#>>'{}')"

enum stmt {
	Q_SEND,
	Q_SEND_EXISTING,
	Q_BEGIN_SNAPSHOT,
	Q_COMMIT,
	Q_ROLLBACK,
	Q_STATUS,
	Q_LEDGER,
	Q_DEVICES,
	Q_STATS,
	Q_RETRACT,
};

static const char *const sql[] = {
	[Q_SEND] =
		"INSERT INTO push.notifications (app, to_jid, to_device, to_alias, tags_any, tags_all,"
		" tags_none, broadcast, title, body, uri, payload, ttl_seconds, expires_at, not_before,"
		" priority, collapse_key, dedup_key)"
		" VALUES ($1, $2, $3, $4, $5::text[], $6::text[], $7::text[], $8::boolean, $9, $10, $11,"
		" $12, $13::integer, $14::timestamptz, $15::timestamptz, $16, $17, $18)"
		" ON CONFLICT (producer, app, dedup_key) WHERE dedup_key IS NOT NULL DO NOTHING"
		" RETURNING id",

	/* A new statement, so a new snapshot: it sees the row that made the
	 * INSERT above skip, once that row's transaction committed. Dedup keys
	 * are per producer (schema 006): the producer is this session's role. */
	[Q_SEND_EXISTING] =
		"SELECT id FROM push.notifications WHERE producer = session_user AND app = $1"
		" AND dedup_key = $2",

	[Q_BEGIN_SNAPSHOT] = "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY",
	[Q_COMMIT] = "COMMIT",
	[Q_ROLLBACK] = "ROLLBACK",

	[Q_STATUS] =
		"SELECT n.id, n.app, n.to_jid, n.to_device, n.to_alias,"
		" array_to_json(n.tags_any) AS tags_any, array_to_json(n.tags_all) AS tags_all,"
		" array_to_json(n.tags_none) AS tags_none, n.broadcast, n.priority,"
		" n.title, n.body, n.uri, n.payload, n.collapse_key, n.dedup_key, n.ttl_seconds,"
		" " TS("n.created_at") " AS created_at,"
				       " " TS("n.not_before") " AS not_before,"
							      " " TS("p.expires") " AS expires,"
										  " " TS("p.fanned_out_at") " AS fanned_out_at,"
													    " p.target_count, p.fanout_note,"
													    " " TS("p.retracted_at") " AS retracted_at,"
																     " p.queued + p.sent + p.acked + p.expired + p.superseded + p.retracted + p.failed"
																     " AS deliveries_total,"
																     " p.queued, p.sent, p.acked, p.expired, p.superseded, p.retracted, p.failed"
																     " FROM push.notifications n JOIN push.notification_progress p ON p.id = n.id"
																     " WHERE n.id = $1::bigint",

	[Q_LEDGER] =
		"SELECT l.device_id, d.jid, d.device, d.alias, d.online, l.state, l.attempts, l.acks,"
		" " TS("l.created_at") " AS created_at,"
				       " " TS("l.sent_at") " AS sent_at,"
							   " " TS("l.acked_at") " AS acked_at,"
										" " TS("l.updated_at") " AS updated_at,"
												       " l.retract_state, l.last_error"
												       " FROM push.deliveries l JOIN push.devices d ON d.id = l.device_id"
												       " WHERE l.notification_id = $1::bigint"
												       " ORDER BY l.device_id LIMIT $2::bigint",

	/* NULL parameters are "no filter"; LIMIT NULL is no limit. */
	[Q_DEVICES] =
		"SELECT d.id, d.jid, d.app, d.device, d.alias, array_to_json(d.tags) AS tags, d.platform,"
		" d.online, d.full_jid,"
		" " TS("d.last_seen") " AS last_seen,"
				      " " TS("d.registered_at") " AS registered_at,"
								" " TS("d.unregistered_at") " AS unregistered_at"
											    " FROM push.devices d"
											    " WHERE ($1::text IS NULL OR lower(d.jid) = lower($1::text))"
											    " AND ($2::text IS NULL OR d.alias = $2::text)"
											    " AND ($3::text[] IS NULL OR d.tags && $3::text[])"
											    " AND ($4::boolean IS NULL OR d.online = $4::boolean)"
											    " AND ($5::text IS NULL OR d.app = $5::text)"
											    " AND ($6::boolean OR d.unregistered_at IS NULL)"
											    " ORDER BY d.id LIMIT $7::bigint",

	[Q_STATS] =
		"SELECT h.awaiting_fanout, h.queued, h.in_flight, h.failed, h.expired,"
		" h.acked_last_minute,"
		" (SELECT count(*) FROM push.deliveries"
		"   WHERE state = 'acked' AND acked_at > now() - interval '1 hour') AS acked_last_hour,"
		" (SELECT count(*) FROM push.deliveries"
		"   WHERE state = 'failed' AND updated_at > now() - interval '1 minute') AS failed_last_minute,"
		" (SELECT count(*) FROM push.deliveries"
		"   WHERE state = 'failed' AND updated_at > now() - interval '1 hour') AS failed_last_hour,"
		" round(extract(epoch FROM h.oldest_queued_age)::numeric, 3) AS oldest_queued_age_s,"
		" h.devices_online, h.devices_registered"
		" FROM push.queue_health h",

	/* push.retract_own: what a producer role may run (push.retract is the
	 * daemon's); it refuses another producer's notification (SQLSTATE 42501)
	 * and passes the owner's and the daemon's through. retracted_at is read
	 * from the snapshot taken before it runs; NULL: no such notification (or
	 * one a producer may not see, but then retract_own has refused). */
	[Q_RETRACT] = ("SELECT (SELECT n.retracted_at IS NOT NULL FROM push.notifications n"
	               "  WHERE n.id = $1::bigint) AS already,"
	               " push.retract_own($1::bigint) AS affected"),
};
/* clang-format on */

/* Collapse a multi-line message into one line, in place. */
static void one_line(char *s)
{
	char *w = s;
	int space = 0;

	for (char *r = s; *r; r++) {
		if (*r == '\n' || *r == '\r' || *r == '\t' || *r == ' ') {
			space = 1;
			continue;
		}
		if (space && w != s)
			*w++ = ' ';
		space = 0;
		*w++ = *r;
	}
	*w = '\0';
}

static void pg_error(struct ctl_db *db, const PGresult *res, char *err, size_t errlen)
{
	const char *primary = res ? PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY) : NULL;
	const char *detail = res ? PQresultErrorField(res, PG_DIAG_MESSAGE_DETAIL) : NULL;
	const char *state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
	const char *constraint = res ? PQresultErrorField(res, PG_DIAG_CONSTRAINT_NAME) : NULL;
	const char *hint = "";
	char c[160] = "", d[224] = "";

	if (!primary)
		primary = PQerrorMessage(db->conn);
	if (!primary || !*primary)
		primary = "unknown error";
	if (constraint)
		snprintf(c, sizeof c, ", constraint %s", constraint);
	if (detail) {
		/* "Failing row contains (...)" can hold a whole payload: keep it short,
		 * cut on a UTF-8 character boundary. */
		size_t n = strlen(detail), max = sizeof d - 6;
		if (n > max) {
			n = max;
			while (n > 0 && ((unsigned char)detail[n] & 0xc0) == 0x80)
				n--;
		}
		snprintf(d, sizeof d, "; %.*s%s", (int)n, detail, n < strlen(detail) ? "..." : "");
	}
	/* Missing schema, table, column or function: an old or absent push schema. */
	if (state && (strcmp(state, "3F000") == 0 || strcmp(state, "42P01") == 0 ||
	              strcmp(state, "42703") == 0 || strcmp(state, "42883") == 0))
		hint = "; is the push schema migrated (xpushd --migrate)?";
	snprintf(err, errlen, "database error: %s%s (SQLSTATE %s%s)%s", primary, d,
	         state ? state : "?", c, hint);
	one_line(err);
}

/* Run statement q; on success *out holds the result (caller PQclear()s). */
static int run(struct ctl_db *db, enum stmt q, int n, const char *const *params, PGresult **out,
               char *err, size_t errlen)
{
	PGresult *res = PQexecParams(db->conn, sql[q], n, NULL, params, NULL, NULL, 0);
	ExecStatusType st = res ? PQresultStatus(res) : PGRES_FATAL_ERROR;

	if (st != PGRES_TUPLES_OK && st != PGRES_COMMAND_OK) {
		pg_error(db, res, err, errlen);
		PQclear(res);
		return CTL_SQL_ERROR;
	}
	*out = res;
	return CTL_SQL_OK;
}

static int run_void(struct ctl_db *db, enum stmt q, char *err, size_t errlen)
{
	PGresult *res = NULL;

	if (run(db, q, 0, NULL, &res, err, errlen) < 0)
		return CTL_SQL_ERROR;
	PQclear(res);
	return CTL_SQL_OK;
}

static enum ctl_kind kind_of(Oid type)
{
	switch (type) {
	case 16:
		return CTL_KIND_BOOL; /* bool */
	case 20:
	case 21:
	case 23:
	case 26: /* int8, int2, int4, oid */
	case 700:
	case 701:
	case 1700:
		return CTL_KIND_NUMBER; /* float4/8, numeric */
	case 114:
	case 3802:
		return CTL_KIND_JSON; /* json, jsonb */
	default:
		return CTL_KIND_TEXT;
	}
}

static int to_rows(const PGresult *res, struct ctl_rows **out, char *err, size_t errlen)
{
	int nc = PQnfields(res), nr = PQntuples(res);
	struct ctl_rows *r = ctl_rows_new(nc, nr);

	if (!r)
		goto oom;
	for (int c = 0; c < nc; c++) {
		r->kinds[c] = kind_of(PQftype(res, c));
		if (!(r->names[c] = strdup(PQfname(res, c))))
			goto oom;
	}
	for (int i = 0; i < nr; i++)
		for (int c = 0; c < nc; c++) {
			if (PQgetisnull(res, i, c))
				continue;
			char *v = strdup(PQgetvalue(res, i, c));
			if (!v)
				goto oom;
			r->cells[(size_t)i * (size_t)nc + (size_t)c] = v;
		}
	*out = r;
	return CTL_SQL_OK;
oom:
	ctl_rows_free(r);
	snprintf(err, errlen, "out of memory");
	return CTL_SQL_ERROR;
}

int ctl_sql_query(struct ctl_db *db, const char *text, int n, const char *const *params,
                  struct ctl_rows **out, char *err, size_t errlen)
{
	PGresult *res = PQexecParams(db->conn, text, n, NULL, params, NULL, NULL, 0);
	ExecStatusType st = res ? PQresultStatus(res) : PGRES_FATAL_ERROR;
	int rc;

	*out = NULL;
	if (st != PGRES_TUPLES_OK && st != PGRES_COMMAND_OK) {
		pg_error(db, res, err, errlen);
		PQclear(res);
		return CTL_SQL_ERROR;
	}
	rc = to_rows(res, out, err, errlen);
	PQclear(res);
	return rc;
}

int ctl_db_open(const char *conninfo, struct ctl_db **out, char *err, size_t errlen)
{
	/* dbname is expanded (it may be a whole conninfo string or URI); the
	 * keywords after it override it: JSON output assumes UTF-8. */
	const char *const keys[] = { "fallback_application_name", "dbname", "client_encoding",
		                     NULL };
	const char *const vals[] = { "xpushctl", conninfo ? conninfo : "", "UTF8", NULL };
	struct ctl_db *db = calloc(1, sizeof *db);

	*out = NULL;
	if (!db) {
		snprintf(err, errlen, "out of memory");
		return CTL_SQL_ERROR;
	}
	db->conn = PQconnectdbParams(keys, vals, 1);
	if (!db->conn || PQstatus(db->conn) != CONNECTION_OK) {
		snprintf(err, errlen, "cannot connect to the database: %s",
		         db->conn ? PQerrorMessage(db->conn) : "out of memory");
		one_line(err);
		ctl_db_close(db);
		return CTL_SQL_ERROR;
	}
	*out = db;
	return CTL_SQL_OK;
}

void ctl_db_close(struct ctl_db *db)
{
	if (!db)
		return;
	PQfinish(db->conn);
	free(db);
}

/* A Postgres array literal {"a","b\"c"} of strv (NULL if empty). */
static int array_literal(const struct ctl_strv *sv, char **out)
{
	size_t len = 3;
	char *p;

	*out = NULL;
	if (sv->n == 0)
		return 0;
	for (size_t i = 0; i < sv->n; i++)
		len += 2 * strlen(sv->v[i]) + 3;
	p = *out = malloc(len);
	if (!p)
		return -1;
	*p++ = '{';
	for (size_t i = 0; i < sv->n; i++) {
		if (i)
			*p++ = ',';
		*p++ = '"';
		for (const char *s = sv->v[i]; *s; s++) {
			if (*s == '"' || *s == '\\')
				*p++ = '\\';
			*p++ = *s;
		}
		*p++ = '"';
	}
	*p++ = '}';
	*p = '\0';
	return 0;
}

static long long id_of(const PGresult *res)
{
	return strtoll(PQgetvalue(res, 0, 0), NULL, 10);
}

int ctl_sql_send(struct ctl_db *db, const struct ctl_send *s, struct ctl_send_result *out,
                 char *err, size_t errlen)
{
	char *any = NULL, *all = NULL, *none = NULL, ttl[24] = "";
	PGresult *res = NULL;
	int rc = CTL_SQL_ERROR;

	if (array_literal(&s->tags_any, &any) < 0 || array_literal(&s->tags_all, &all) < 0 ||
	    array_literal(&s->tags_none, &none) < 0) {
		snprintf(err, errlen, "out of memory");
		goto out;
	}
	if (s->ttl >= 0)
		snprintf(ttl, sizeof ttl, "%lld", s->ttl);
	const char *const p[18] = {
		s->app,
		s->jid,
		s->device,
		s->alias,
		any,
		all,
		none,
		s->broadcast ? "t" : "f",
		s->title,
		s->body,
		s->uri,
		s->payload,
		*ttl ? ttl : NULL,
		*s->expires ? s->expires : NULL,
		*s->not_before ? s->not_before : NULL,
		s->priority,
		s->collapse,
		s->dedup,
	};
	/* The dedup row may be rolled back or deleted between the two statements:
	 * then the INSERT is tried again. */
	for (int attempt = 0; attempt < 3; attempt++) {
		if (run(db, Q_SEND, 18, p, &res, err, errlen) < 0)
			goto out;
		if (PQntuples(res) == 1) {
			out->id = id_of(res);
			out->created = 1;
			rc = CTL_SQL_OK;
			goto out;
		}
		PQclear(res);
		res = NULL;
		const char *const q[2] = { s->app, s->dedup };
		if (run(db, Q_SEND_EXISTING, 2, q, &res, err, errlen) < 0)
			goto out;
		if (PQntuples(res) == 1) {
			out->id = id_of(res);
			out->created = 0;
			rc = CTL_SQL_OK;
			goto out;
		}
		PQclear(res);
		res = NULL;
	}
	snprintf(err, errlen,
	         "dedup key '%.100s' conflicts with a notification that keeps "
	         "disappearing; try again",
	         s->dedup ? s->dedup : "");
out:
	PQclear(res);
	free(any);
	free(all);
	free(none);
	return rc;
}

int ctl_sql_status(struct ctl_db *db, long long id, long long limit, struct ctl_rows **notification,
                   struct ctl_rows **deliveries, char *err, size_t errlen)
{
	char ids[24], lim[24];
	const char *const p[2] = { ids, limit > 0 ? lim : NULL };
	PGresult *res = NULL;
	int rc;

	*notification = *deliveries = NULL;
	snprintf(ids, sizeof ids, "%lld", id);
	snprintf(lim, sizeof lim, "%lld", limit);
	if (run_void(db, Q_BEGIN_SNAPSHOT, err, errlen) < 0)
		return CTL_SQL_ERROR;
	rc = run(db, Q_STATUS, 1, p, &res, err, errlen);
	if (rc == CTL_SQL_OK && PQntuples(res) == 0)
		rc = CTL_SQL_NOT_FOUND;
	if (rc == CTL_SQL_OK)
		rc = to_rows(res, notification, err, errlen);
	PQclear(res);
	res = NULL;
	if (rc == CTL_SQL_OK)
		rc = run(db, Q_LEDGER, 2, p, &res, err, errlen);
	if (rc == CTL_SQL_OK)
		rc = to_rows(res, deliveries, err, errlen);
	PQclear(res);
	if (rc == CTL_SQL_OK)
		rc = run_void(db, Q_COMMIT, err, errlen);
	else {
		char ignored[64];
		(void)run_void(db, Q_ROLLBACK, ignored, sizeof ignored);
	}
	if (rc != CTL_SQL_OK) {
		ctl_rows_free(*notification);
		ctl_rows_free(*deliveries);
		*notification = *deliveries = NULL;
	}
	return rc;
}

int ctl_sql_devices(struct ctl_db *db, const struct ctl_devices *f, struct ctl_rows **out,
                    char *err, size_t errlen)
{
	char *tags = NULL, lim[24];
	PGresult *res = NULL;
	int rc = CTL_SQL_ERROR;

	*out = NULL;
	if (array_literal(&f->tags, &tags) < 0) {
		snprintf(err, errlen, "out of memory");
		return CTL_SQL_ERROR;
	}
	snprintf(lim, sizeof lim, "%lld", f->limit);
	const char *const p[7] = {
		f->jid,
		f->alias,
		tags,
		f->online < 0 ? NULL
		: f->online   ? "t"
			      : "f",
		f->app,
		f->all ? "t" : "f",
		f->limit > 0 ? lim : NULL,
	};
	if (run(db, Q_DEVICES, 7, p, &res, err, errlen) == CTL_SQL_OK)
		rc = to_rows(res, out, err, errlen);
	PQclear(res);
	free(tags);
	return rc;
}

int ctl_sql_stats(struct ctl_db *db, struct ctl_rows **out, char *err, size_t errlen)
{
	PGresult *res = NULL;
	int rc;

	*out = NULL;
	rc = run(db, Q_STATS, 0, NULL, &res, err, errlen);
	if (rc == CTL_SQL_OK)
		rc = to_rows(res, out, err, errlen);
	PQclear(res);
	return rc;
}

int ctl_sql_retract(struct ctl_db *db, long long id, long long *affected, int *already, char *err,
                    size_t errlen)
{
	char ids[24];
	const char *const p[1] = { ids };
	PGresult *res = NULL;

	snprintf(ids, sizeof ids, "%lld", id);
	res = PQexecParams(db->conn, sql[Q_RETRACT], 1, NULL, p, NULL, NULL, 0);
	if (PQresultStatus(res) != PGRES_TUPLES_OK) {
		const char *state = PQresultErrorField(res, PG_DIAG_SQLSTATE);
		const char *msg = PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY);

		/* retract_own's refusal, not a missing grant ("permission denied ..."). */
		if (state && strcmp(state, "42501") == 0 && msg && strstr(msg, "is not yours")) {
			snprintf(err, errlen,
			         "notification %lld is not yours: a producer role may "
			         "retract only the notifications it enqueued",
			         id);
			PQclear(res);
			return CTL_SQL_REFUSED;
		}
		pg_error(db, res, err, errlen);
		PQclear(res);
		return CTL_SQL_ERROR;
	}
	if (PQntuples(res) != 1 || PQgetisnull(res, 0, 0)) {
		PQclear(res);
		return CTL_SQL_NOT_FOUND;
	}
	*already = *PQgetvalue(res, 0, 0) == 't';
	*affected = strtoll(PQgetvalue(res, 0, 1), NULL, 10);
	PQclear(res);
	return CTL_SQL_OK;
}
