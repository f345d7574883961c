/* ctl_sql: every SQL statement of xpushctl, behind typed functions. All
 * statements are constant text run with PQexecParams; user input travels only
 * as parameters. PGresult and PGconn never leave ctl_sql.c: results come back
 * as ctl_rows (caller frees with ctl_rows_free) or plain values. Errors are
 * one line in the caller's buffer: Postgres' message, SQLSTATE and, when
 * there is one, the constraint name. */
#ifndef XPUSH_CTL_SQL_H
#define XPUSH_CTL_SQL_H

#include <stddef.h>

#include "ctl_args.h"
#include "ctl_rows.h"

enum {
	CTL_SQL_OK = 0,
	CTL_SQL_ERROR = -1,     /* connection or statement failed; err says why */
	CTL_SQL_NOT_FOUND = -2, /* no notification with that id */
	CTL_SQL_REFUSED = -3,   /* not this role's to change; err says why */
};

struct ctl_db;

/* Connect with conninfo (a key=value string or a postgresql:// URI; NULL or
 * "" uses libpq's PG* environment and defaults). The session's client
 * encoding is UTF8. *out is the caller's, to close with ctl_db_close. */
CTL_WUR int ctl_db_open(const char *conninfo, struct ctl_db **out, char *err, size_t errlen);
void ctl_db_close(struct ctl_db *db);

/* Run one constant statement (text: SQL of the caller's own, never built from
 * input) with n parameters (NULL = SQL NULL); *out gets its rows (a command
 * without rows: zero columns). The other statement tables of the tool
 * (ctl_appsql.c) run through this. */
CTL_WUR int ctl_sql_query(struct ctl_db *db, const char *text, int n, const char *const *params,
                          struct ctl_rows **out, char *err, size_t errlen);

struct ctl_send_result {
	long long id;
	int created; /* 0: the dedup key was already used by notification id */
};

/* INSERT one notification. With a dedup key this producer (the session's
 * role) already used for app, nothing is inserted and *res names the
 * existing notification. */
CTL_WUR int ctl_sql_send(struct ctl_db *db, const struct ctl_send *s, struct ctl_send_result *res,
                         char *err, size_t errlen);

/* One notification (one row: its target, content, progress counts) and its
 * ledger (one row per device, at most limit rows, 0 = all), read in one
 * snapshot. CTL_SQL_NOT_FOUND if there is no such id. */
CTL_WUR int ctl_sql_status(struct ctl_db *db, long long id, long long limit,
                           struct ctl_rows **notification, struct ctl_rows **deliveries, char *err,
                           size_t errlen);

/* Devices matching every given filter, in id order. */
CTL_WUR int ctl_sql_devices(struct ctl_db *db, const struct ctl_devices *f, struct ctl_rows **out,
                            char *err, size_t errlen);

/* One row: push.queue_health and acked/failed counts of the last minute/hour. */
CTL_WUR int ctl_sql_stats(struct ctl_db *db, struct ctl_rows **out, char *err, size_t errlen);

/* push.retract_own(id): *affected ledger rows changed, *already 1 if it had
 * been retracted before. CTL_SQL_NOT_FOUND if there is no such id,
 * CTL_SQL_REFUSED if it is another producer's (the session's role is a
 * producer). */
CTL_WUR int ctl_sql_retract(struct ctl_db *db, long long id, long long *affected, int *already,
                            char *err, size_t errlen);

#endif
