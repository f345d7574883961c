/* ctl_appsql: the SQL of `xpushctl app`, `device unregister` and `watch`
 * (schema 010's push.apps and push.app_producers, the roster, the ledger).
 * Owns these statements; they are constant text run through ctl_sql_query
 * with every value a parameter. */
#include "ctl_appsql.h"

#include <stdio.h>
#include <string.h>

#define TS(x) "(to_json(" x ")#>>'{}')"

/* clang-format off: SQL laid out by hand, a clause a line */
static const char add_sql[] = "INSERT INTO push.apps (app, policy, acl, secret)"
			      " VALUES ($1, $2, coalesce($3::text[], '{}'), $4)"
			      " RETURNING app, policy, array_to_json(acl) AS acl, secret";

/* The secret is replaced when a new one is given and either asked for
 * (--rotate-secret) or missing; new_secret is set only when it changed. */
static const char policy_sql[] =
	"UPDATE push.apps a SET policy = $2, acl = coalesce($3::text[], a.acl),"
	"  secret = CASE WHEN $4::text IS NOT NULL AND ($5::boolean OR a.secret IS NULL)"
	"   THEN $4 ELSE a.secret END, updated_at = now()"
	" FROM (SELECT app, secret AS old_secret FROM push.apps WHERE app = $1) o"
	" WHERE a.app = $1 AND o.app = a.app"
	" RETURNING a.app, a.policy, array_to_json(a.acl) AS acl,"
	"  CASE WHEN a.secret IS DISTINCT FROM o.old_secret THEN a.secret END AS new_secret,"
	"  (SELECT count(*) FROM push.devices d WHERE d.app = a.app AND d.unregistered_at IS NULL)"
	"  AS devices_registered";

static const char secret_sql[] = "SELECT policy, secret FROM push.apps WHERE app = $1";

static const char list_sql[] =
	"SELECT a.app, a.policy, array_to_json(a.acl) AS acl,"
	" coalesce((SELECT json_agg(p.producer ORDER BY p.producer) FROM push.app_producers p"
	"  WHERE p.app = a.app), '[]'::json) AS producers,"
	" (SELECT count(*) FROM push.devices d WHERE d.app = a.app AND d.unregistered_at IS NULL)"
	"  AS devices_registered,"
	" CASE WHEN $1::boolean THEN a.secret END AS secret,"
	" " TS("a.created_at") " AS created_at, " TS(
		"a.updated_at") " AS updated_at"
				" FROM push.apps a ORDER BY a.app";

static const char grant_sql[] =
	"WITH ins AS (INSERT INTO push.app_producers (app, producer)"
	"  SELECT a.app, r.rolname FROM push.apps a, pg_roles r WHERE a.app = $1 AND r.rolname = $2"
	"  ON CONFLICT DO NOTHING RETURNING 1)"
	" SELECT EXISTS (SELECT 1 FROM push.apps WHERE app = $1) AS app_exists,"
	"  EXISTS (SELECT 1 FROM pg_roles WHERE rolname = $2) AS role_exists,"
	"  (SELECT count(*) FROM ins) AS changed";

static const char revoke_sql[] =
	"WITH del AS (DELETE FROM push.app_producers WHERE app = $1 AND producer = $2 RETURNING 1)"
	" SELECT EXISTS (SELECT 1 FROM push.apps WHERE app = $1) AS app_exists, true AS role_exists,"
	"  (SELECT count(*) FROM del) AS changed";

/* As xpushd's <unregister/> (component/store_sql.c S_UNREGISTER), for one
 * device or every device of the JID (any case) for the app. */
static const char unregister_sql[] =
	"WITH u AS (UPDATE push.devices SET unregistered_at = now(), online = false"
	"  WHERE app = $1 AND lower(jid) = lower($2) AND ($3::text IS NULL OR device = $3)"
	"   AND unregistered_at IS NULL RETURNING id, jid, device),"
	" x AS (UPDATE push.deliveries d SET last_error = 'device unregistered', updated_at = now()"
	"  FROM u WHERE d.device_id = u.id AND d.state <> 'acked' RETURNING 1)"
	" SELECT u.id, u.jid, u.device FROM u ORDER BY u.id";

static const char next_id_sql[] =
	"SELECT coalesce(max(id), 0) + 1 AS next_id FROM push.notifications";

/* Ledger rows changed since $5 (the primary key bounds the scan to the
 * notifications watched). epoch orders and prunes; at is printed. */
static const char watch_sql[] = "SELECT " TS(
	"d.updated_at") " AS at, d.notification_id AS id, n.app, v.jid, v.device,"
			" d.state, d.attempts, d.acks, d.retract_state, d.last_error,"
			" d.device_id, extract(epoch FROM d.updated_at)::text AS epoch"
			" FROM push.deliveries d JOIN push.devices v ON v.id = d.device_id"
			" JOIN push.notifications n ON n.id = d.notification_id"
			" WHERE d.notification_id >= $1::bigint AND ($2::bigint IS NULL OR d.notification_id = $2::bigint)"
			"  AND ($3::text IS NULL OR n.app = $3) AND ($4::text IS NULL OR lower(v.jid) = lower($4))"
			"  AND d.updated_at >= to_timestamp($5::double precision)"
			" ORDER BY d.updated_at, d.notification_id, d.device_id";
/* clang-format on */

/* {"a","b\"c"} of strv, into buf; NULL (SQL NULL) when not given. */
static const char *array_of(const struct ctl_strv *sv, int given, char *buf, size_t len)
{
	size_t n = 0;

	if (!given)
		return NULL;
	n += (size_t)snprintf(buf + n, len - n, "{");
	for (size_t i = 0; i < sv->n && n < len; i++) {
		n += (size_t)snprintf(buf + n, len - n, "%s\"", i ? "," : "");
		for (const char *p = sv->v[i]; *p && n + 2 < len; p++) {
			if (*p == '"' || *p == '\\')
				buf[n++] = '\\';
			buf[n++] = *p;
		}
		if (n < len)
			n += (size_t)snprintf(buf + n, len - n, "\"");
	}
	if (n < len)
		snprintf(buf + n, len - n, "}");
	return n + 1 < len ? buf : NULL;
}

int ctl_appsql_add(struct ctl_db *db, const struct ctl_app *a, const char *secret,
                   struct ctl_rows **out, char *err, size_t errlen)
{
	static char acl[65536];
	const char *p[] = { a->app, a->policy, array_of(&a->acl, 1, acl, sizeof acl), secret };

	if (!p[2]) {
		snprintf(err, errlen, "--acl: the list is too long");
		return CTL_SQL_ERROR;
	}
	return ctl_sql_query(db, add_sql, 4, p, out, err, errlen);
}

int ctl_appsql_policy(struct ctl_db *db, const struct ctl_app *a, const char *secret,
                      struct ctl_rows **out, char *err, size_t errlen)
{
	static char acl[65536];
	const char *p[] = { a->app, a->policy, array_of(&a->acl, a->acl_given, acl, sizeof acl),
		            secret, a->rotate ? "true" : "false" };

	if (a->acl_given && !p[2]) {
		snprintf(err, errlen, "--acl: the list is too long");
		return CTL_SQL_ERROR;
	}
	return ctl_sql_query(db, policy_sql, 5, p, out, err, errlen);
}

int ctl_appsql_secret(struct ctl_db *db, const char *app, struct ctl_rows **out, char *err,
                      size_t errlen)
{
	const char *p[] = { app };
	return ctl_sql_query(db, secret_sql, 1, p, out, err, errlen);
}

int ctl_appsql_list(struct ctl_db *db, int show_secret, struct ctl_rows **out, char *err,
                    size_t errlen)
{
	const char *p[] = { show_secret ? "true" : "false" };
	return ctl_sql_query(db, list_sql, 1, p, out, err, errlen);
}

int ctl_appsql_grant(struct ctl_db *db, const char *app, const char *role, int revoke,
                     struct ctl_rows **out, char *err, size_t errlen)
{
	const char *p[] = { app, role };
	return ctl_sql_query(db, revoke ? revoke_sql : grant_sql, 2, p, out, err, errlen);
}

int ctl_appsql_unregister(struct ctl_db *db, const struct ctl_device *d, struct ctl_rows **out,
                          char *err, size_t errlen)
{
	const char *p[] = { d->app, d->jid, d->device };
	return ctl_sql_query(db, unregister_sql, 3, p, out, err, errlen);
}

int ctl_appsql_next_id(struct ctl_db *db, struct ctl_rows **out, char *err, size_t errlen)
{
	return ctl_sql_query(db, next_id_sql, 0, NULL, out, err, errlen);
}

int ctl_appsql_watch(struct ctl_db *db, long long from_id, const struct ctl_watch *w, double since,
                     struct ctl_rows **out, char *err, size_t errlen)
{
	char from[24], id[24], t[40];
	const char *p[] = { from, w->id ? id : NULL, w->app, w->jid, t };

	snprintf(from, sizeof from, "%lld", from_id);
	snprintf(id, sizeof id, "%lld", w->id);
	snprintf(t, sizeof t, "%.6f", since);
	return ctl_sql_query(db, watch_sql, 5, p, out, err, errlen);
}
