/* migrate: applies the embedded schema/NNN_name.sql migrations with a blocking libpq
 * connection. Each migration runs in its own transaction under an advisory
 * lock (so two xpushd starting together do not race) and is recorded in
 * push.schema_version; an applied migration is never run again. */
#include "migrate.h"

#include <libpq-fe.h>
#include <stdio.h>
#include <string.h>

#include "log.h"
#include "migrations.h"

#define MIGRATE_LOCK "7867000001" /* arbitrary advisory lock key for xpush */

static int exec_ok(PGconn *c, const char *sql, char *err, size_t errlen, const char *what)
{
	PGresult *r = PQexec(c, sql);
	ExecStatusType s = PQresultStatus(r);
	int ok = s == PGRES_COMMAND_OK || s == PGRES_TUPLES_OK;

	if (!ok) {
		const char *state = PQresultErrorField(r, PG_DIAG_SQLSTATE);
		size_t n;
		snprintf(err, errlen, "%s: %s", what, PQresultErrorMessage(r));
		n = strlen(err);
		while (n && (err[n - 1] == '\n' || err[n - 1] == ' '))
			err[--n] = '\0';
		/* 42501 insufficient_privilege ("permission denied", "must be
		 * owner"): a runtime role, not the schema's owner. */
		if (state && strcmp(state, "42501") == 0)
			snprintf(err + n, errlen - n,
			         " (this role may not change the schema: run xpushd --migrate with "
			         "migrate_conninfo naming the schema owner)");
	}
	PQclear(r);
	return ok ? 0 : -1;
}

static int applied_version(PGconn *c, int version, int *yes, char *err, size_t errlen)
{
	char v[16];
	const char *params[1] = { v };
	PGresult *r;

	snprintf(v, sizeof v, "%d", version);
	r = PQexecParams(c, "SELECT 1 FROM push.schema_version WHERE version = $1::int", 1, NULL,
	                 params, NULL, NULL, 0);
	if (PQresultStatus(r) != PGRES_TUPLES_OK) {
		snprintf(err, errlen, "schema_version: %s", PQresultErrorMessage(r));
		PQclear(r);
		return -1;
	}
	*yes = PQntuples(r) > 0;
	PQclear(r);
	return 0;
}

/* Read-only: does push.schema_version exist (visible to this role)? */
static int version_table_exists(PGconn *c, int *yes, char *err, size_t errlen)
{
	PGresult *r = PQexec(c, "SELECT to_regclass('push.schema_version') IS NOT NULL");

	if (PQresultStatus(r) != PGRES_TUPLES_OK || PQntuples(r) != 1) {
		snprintf(err, errlen, "schema_version: %s", PQresultErrorMessage(r));
		PQclear(r);
		return -1;
	}
	*yes = strcmp(PQgetvalue(r, 0, 0), "t") == 0;
	PQclear(r);
	return 0;
}

static int record_version(PGconn *c, const struct migration *m, char *err, size_t errlen)
{
	char v[16];
	const char *params[2] = { v, m->name };
	PGresult *r;
	int ok;

	snprintf(v, sizeof v, "%d", m->version);
	r = PQexecParams(c, "INSERT INTO push.schema_version (version, name) VALUES ($1::int, $2)",
	                 2, NULL, params, NULL, NULL, 0);
	ok = PQresultStatus(r) == PGRES_COMMAND_OK;
	if (!ok)
		snprintf(err, errlen, "schema_version: %s", PQresultErrorMessage(r));
	PQclear(r);
	return ok ? 0 : -1;
}

/* A migration's RAISE WARNING (schema 010 names the apps it made open): one
 * log line each, without libpq's "WARNING:" prefix and trailing newline. */
static void on_notice(void *arg, const char *msg)
{
	char text[1024];
	const char *p = strncmp(msg, "WARNING:  ", 10) == 0 ? msg + 10 : msg;
	size_t n;

	(void)arg;
	snprintf(text, sizeof text, "%s", p);
	n = strlen(text);
	while (n && text[n - 1] == '\n')
		text[--n] = '\0';
	log_warn("migration", "text=%s", log_q(text));
}

int migrate_apply(const char *conninfo, int check_only, int *applied, char *err, size_t errlen)
{
	PGconn *c = PQconnectdb(conninfo);
	int rc = MIGRATE_FAILED, missing = 0;
	size_t at = 0;

	*applied = 0;
	if (PQstatus(c) != CONNECTION_OK) {
		snprintf(err, errlen, "pg_conninfo: cannot connect: %s", PQerrorMessage(c));
		rc = MIGRATE_UNREACHABLE;
		goto out;
	}
	PQsetNoticeProcessor(c, on_notice, NULL);
	if (exec_ok(c, "SET client_min_messages = warning", err, errlen, "session") < 0)
		goto out;
	for (unsigned i = 0; i < migrations_count; i++) {
		const struct migration *m = &migrations[i];
		int done = 0, have_table = 0;
		char what[96];

		snprintf(what, sizeof what, "migration %03d_%s", m->version, m->name);
		if (exec_ok(c, "BEGIN", err, errlen, what) < 0 ||
		    exec_ok(c, "SELECT pg_advisory_xact_lock(" MIGRATE_LOCK ")", err, errlen,
		            what) < 0 ||
		    version_table_exists(c, &have_table, err, errlen) < 0 ||
		    (have_table && applied_version(c, m->version, &done, err, errlen) < 0))
			goto rollback;
		if (!done && check_only) {
			/* Name what is missing, then look at the next one. */
			if (!missing++)
				at = (size_t)snprintf(
					err, errlen,
					"the schema is not up to date: missing migration");
			if (at < errlen)
				at += (size_t)snprintf(err + at, errlen - at, " %03d_%s",
				                       m->version, m->name);
			PQclear(PQexec(c, "ROLLBACK"));
			continue;
		}
		/* Only DDL when there is something to apply: CREATE SCHEMA IF NOT
		 * EXISTS needs CREATE on the database even when the schema is there,
		 * and xpushd may run as xpush_daemon, which has no such right. */
		if (!done && (exec_ok(c,
		                      "CREATE SCHEMA IF NOT EXISTS push; "
		                      "CREATE TABLE IF NOT EXISTS push.schema_version ("
		                      " version integer PRIMARY KEY, name text NOT NULL,"
		                      " applied_at timestamptz NOT NULL DEFAULT now())",
		                      err, errlen, what) < 0 ||
		              applied_version(c, m->version, &done, err, errlen) < 0))
			goto rollback;
		if (!done) {
			/* Our own embedded SQL, not input: executed as a script. */
			if (exec_ok(c, m->sql, err, errlen, what) < 0 ||
			    record_version(c, m, err, errlen) < 0)
				goto rollback;
		}
		if (exec_ok(c, "COMMIT", err, errlen, what) < 0)
			goto out;
		if (!done)
			(*applied)++;
	}
	if (missing) {
		if (at < errlen)
			snprintf(err + at, errlen - at,
			         "; run xpushd --migrate as the schema owner (migrate_conninfo)");
		rc = MIGRATE_OUTDATED;
		goto out;
	}
	rc = MIGRATE_OK;
	goto out;
rollback:
	PQclear(PQexec(c, "ROLLBACK"));
out:
	PQfinish(c);
	return rc;
}
