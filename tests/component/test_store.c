/* Unit tests for the store without a server: the statement table is
 * consistent (parameters, result shapes), and each result kind's decoder
 * turns a result built in memory (libpq's PQmakeEmptyPGresult) into its
 * callback's arguments. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "store_result.h"
#include "store_sql.h"
#include "test.h"

/* ---- the table --------------------------------------------------------- */

/* The highest $N in sql. */
static int max_param(const char *sql)
{
	int max = 0;

	for (const char *p = strchr(sql, '$'); p; p = strchr(p + 1, '$')) {
		int n = atoi(p + 1);
		if (n > max)
			max = n;
	}
	return max;
}

static void table(void)
{
	for (int i = 0; i < S_COUNT; i++) {
		const struct stmt_def *d = &store_sql_stmts[i];
		CHECK(d->name != NULL && d->sql != NULL);
		if (!d->name || !d->sql)
			continue;
		CHECK(strncmp(d->name, "xp_", 3) == 0);
		for (int j = 0; j < i; j++)
			CHECK(strcmp(d->name, store_sql_stmts[j].name) != 0);
		CHECK(d->nparams >= 0 && d->nparams <= STORE_SQL_MAX_PARAMS);
		if (max_param(d->sql) != d->nparams)
			fprintf(stderr, "%s: $%d in the SQL, %d parameters\n", d->name,
			        max_param(d->sql), d->nparams);
		CHECK_INT(max_param(d->sql), d->nparams);
		switch (d->kind) {
		case RES_COUNT_CMD:
			CHECK_INT(d->ncols, 0);
			break;
		case RES_COUNT_FIRST:
			CHECK_INT(d->ncols, 1);
			break;
		case RES_CLAIM:
			CHECK_INT(d->ncols, 14);
			break;
		case RES_CLAIM_IDS:
			CHECK_INT(d->ncols, 4);
			break;
		case RES_FANOUT:
			CHECK_INT(d->ncols, 16);
			break;
		case RES_APP:
			CHECK_INT(d->ncols, 5);
			break;
		case RES_COUNT_ROWS:
		case RES_NUMS:
		case RES_ROWS:
			CHECK(d->ncols >= 1);
			break;
		case RES_KINDS:
			CHECK(0);
			break;
		}
	}
	CHECK(strstr(store_sql_session_setup[0], "LISTEN") != NULL);
	CHECK(strstr(store_sql_session_setup[1], "LISTEN") == NULL);
}

/* ---- results built in memory ------------------------------------------ */

/* A result of ncols text columns and rows given row-major (NULL = SQL NULL). */
static PGresult *result(int ncols, int nrows, const char *const *cells)
{
	PGresult *res = PQmakeEmptyPGresult(NULL, PGRES_TUPLES_OK);
	PGresAttDesc *att = calloc((size_t)ncols, sizeof *att);

	for (int c = 0; c < ncols; c++) {
		att[c].name = (char *)"c";
		att[c].typlen = -1;
		att[c].atttypmod = -1;
	}
	if (!res || !att || !PQsetResultAttrs(res, ncols, att))
		abort();
	free(att);
	for (int r = 0; r < nrows; r++)
		for (int c = 0; c < ncols; c++) {
			const char *v = cells[r * ncols + c];
			if (!PQsetvalue(res, r, c, (char *)(v ? v : ""), v ? (int)strlen(v) : -1))
				abort();
		}
	return res;
}

/* What a callback saw. */
static struct seen {
	int calls, err;
	long n;
	size_t nv, nrows, ncols;
	int64_t v[32];
	struct claim_row rows[4];
	char titles[4][8];   /* the rows' strings are borrowed for the call only */
	const void *ptr;
} seen;

static void reset(void)
{
	memset(&seen, 0, sizeof seen);
}

static void on_count(void *ud, int err, long n)
{
	seen.calls++;
	seen.err = err;
	seen.n = n;
}

static void on_nums(void *ud, int err, const int64_t *v, size_t n)
{
	seen.calls++;
	seen.err = err;
	seen.nv = n;
	seen.ptr = v;
	for (size_t i = 0; i < n && i < 32; i++)
		seen.v[i] = v[i];
}

static void on_rows(void *ud, int err, const int64_t *v, size_t nrows, size_t ncols)
{
	seen.calls++;
	seen.err = err;
	seen.nrows = nrows;
	seen.ncols = ncols;
	for (size_t i = 0; i < nrows * ncols && i < 32; i++)
		seen.v[i] = v[i];
}

static void on_claim(void *ud, int err, const struct claim_row *rows, size_t n)
{
	seen.calls++;
	seen.err = err;
	seen.nrows = n;
	for (size_t i = 0; i < n && i < 4; i++) {
		seen.rows[i] = rows[i];
		snprintf(seen.titles[i], sizeof seen.titles[i], "%s",
		         rows[i].title ? rows[i].title : "-");
	}
}

static void on_fanout(void *ud, int err, long touched, const int64_t *devices, size_t ndevices,
                      const struct claim_row *sent, size_t nsent)
{
	seen.calls++;
	seen.err = err;
	seen.n = touched;
	seen.nv = ndevices;
	for (size_t i = 0; i < ndevices && i < 32; i++)
		seen.v[i] = devices[i];
	on_claim(ud, err, sent, nsent);
	seen.calls--;
}

#define CB(member, fn) ((union store_cb){ .member = (fn) })

static void counts(void)
{
	static const char *const three[] = { "4", "5", "6" };
	PGresult *res = result(1, 3, three), *none = result(1, 0, NULL);

	reset();
	CHECK_INT(store_result_deliver(RES_COUNT_ROWS, res, CB(count, on_count), NULL), 0);
	CHECK_INT(seen.calls, 1);
	CHECK_INT(seen.n, 3);
	reset();
	CHECK_INT(store_result_deliver(RES_COUNT_FIRST, res, CB(count, on_count), NULL), 0);
	CHECK_INT(seen.n, 4);
	reset();
	CHECK_INT(store_result_deliver(RES_COUNT_FIRST, none, CB(count, on_count), NULL), 0);
	CHECK_INT(seen.calls, 1);
	CHECK_INT(seen.n, -1);  /* no row: STORE_ACK_REFUSED, STORE_NEXT_DUE_NONE */
	CHECK_INT(seen.n, STORE_ACK_REFUSED);
	PQclear(res);
	PQclear(none);
}

/* Every column of a wide row reaches the callback. */
static void nums_of_any_width(void)
{
	const char *cells[20];
	char buf[20][8];
	PGresult *res, *none;

	for (int i = 0; i < 20; i++) {
		snprintf(buf[i], sizeof buf[i], "%d", i * 10);
		cells[i] = buf[i];
	}
	cells[7] = NULL;
	res = result(20, 1, cells);
	reset();
	CHECK_INT(store_result_deliver(RES_NUMS, res, CB(nums, on_nums), NULL), 0);
	CHECK_INT(seen.nv, 20);
	CHECK_INT(seen.v[19], 190);
	CHECK_INT(seen.v[7], -1);
	CHECK_INT(seen.v[16], 160);
	PQclear(res);
	none = result(4, 0, NULL);
	reset();
	CHECK_INT(store_result_deliver(RES_NUMS, none, CB(nums, on_nums), NULL), 0);
	CHECK_INT(seen.calls, 1);
	CHECK_INT(seen.nv, 0);
	CHECK(seen.ptr != NULL);
	PQclear(none);
}

static void rows(void)
{
	static const char *const cells[] = { "12", "1", NULL, "0", "-1", "1" };
	PGresult *res = result(2, 3, cells);

	reset();
	CHECK_INT(store_result_deliver(RES_ROWS, res, CB(rows, on_rows), NULL), 0);
	CHECK_INT(seen.nrows, 3);
	CHECK_INT(seen.ncols, 2);
	CHECK_INT(seen.v[0], 12);
	CHECK_INT(seen.v[2], -1);
	CHECK_INT(seen.v[5], 1);
	PQclear(res);
}

static void claims(void)
{
	/* RETURNING order; the callback gets them by notification, then device. */
	static const char *const full[] = {
		"9", "2", "a@x/r", "app", "high", "2024-01-01T00:00:00Z", "t9", NULL, NULL, NULL,
		"1", "77", NULL, NULL,
		"3", "5", "b@x/r", "app", "normal", "2024-01-01T00:00:00Z", "t1", "b", "u", "{}",
		"2", "77", "k", "2024-01-02T00:00:00Z",
		"3", "4", "c@x/r", "app", "normal", "2024-01-01T00:00:00Z", "t3", NULL, NULL, NULL,
		"1", "77", NULL, NULL,
	};
	static const char *const ids[] = { "0", "8", "d@x/r", "500", "0", "6", "e@x/r", "501" };
	PGresult *res = result(14, 3, full), *res2 = result(4, 2, ids);

	reset();
	CHECK_INT(store_result_deliver(RES_CLAIM, res, CB(claim, on_claim), NULL), 0);
	CHECK_INT(seen.nrows, 3);
	CHECK_INT(seen.rows[0].notif_id, 3);
	CHECK_INT(seen.rows[0].device_row, 4);
	CHECK_INT(seen.rows[1].device_row, 5);
	CHECK_INT(seen.rows[1].attempts, 2);
	CHECK_INT(seen.rows[2].notif_id, 9);
	CHECK_INT(seen.rows[2].token, 77);
	CHECK(seen.rows[2].body == NULL);
	CHECK_STR(seen.titles[0], "t3");
	CHECK_STR(seen.titles[1], "t1");
	CHECK_STR(seen.titles[2], "t9");
	reset();
	CHECK_INT(store_result_deliver(RES_CLAIM_IDS, res2, CB(claim, on_claim), NULL), 0);
	CHECK_INT(seen.nrows, 2);
	CHECK_INT(seen.rows[0].device_row, 6);
	CHECK_INT(seen.rows[0].token, 501);
	CHECK_STR(seen.titles[0], "-");
	PQclear(res);
	PQclear(res2);
}

/* 14 NULL columns, then touched and devices: push.fanout_send's last row. */
#define FANOUT_TAIL(touched, devices)                                                      \
	NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, \
		touched, devices

static void fanout(void)
{
	static const char *const ok[] = { FANOUT_TAIL("3", "{10,11,10}") };
	static const char *const null_devices[] = { FANOUT_TAIL("2", NULL) };
	static const char *const bad[] = { FANOUT_TAIL("1", "{x}") };
	/* Two rows sent at once (out of order), then the summary. */
	static const char *const sent[] = {
		"9", "2", "a@x/r", "app", "high", "2024-01-01T00:00:00Z", "t9", NULL, NULL, NULL,
		"1", "77", NULL, NULL, NULL, NULL,
		"3", "4", "c@x/r", "app", "normal", "2024-01-01T00:00:00Z", "t3", NULL, NULL, NULL,
		"1", "77", NULL, "2024-01-02T00:00:00Z", NULL, NULL,
		FANOUT_TAIL("2", "{5}"),
	};
	PGresult *r1 = result(16, 1, ok), *r2 = result(16, 1, null_devices), *r3 = result(16, 1, bad);
	PGresult *r4 = result(16, 3, sent), *r5 = result(16, 0, ok);

	reset();
	CHECK_INT(store_result_deliver(RES_FANOUT, r1, CB(fanout, on_fanout), NULL), 0);
	CHECK_INT(seen.n, 3);
	CHECK_INT(seen.nv, 3);
	CHECK_INT(seen.v[1], 11);
	CHECK_INT(seen.nrows, 0);
	reset();
	CHECK_INT(store_result_deliver(RES_FANOUT, r2, CB(fanout, on_fanout), NULL), 0);
	CHECK_INT(seen.n, 2);
	CHECK_INT(seen.nv, 0);
	reset();
	CHECK_INT(store_result_deliver(RES_FANOUT, r3, CB(fanout, on_fanout), NULL), -1);
	CHECK_INT(seen.calls, 0); /* the caller fails the request */
	reset();
	CHECK_INT(store_result_deliver(RES_FANOUT, r4, CB(fanout, on_fanout), NULL), 0);
	CHECK_INT(seen.calls, 1);
	CHECK_INT(seen.n, 2);
	CHECK_INT(seen.nv, 1);
	CHECK_INT(seen.v[0], 5);
	CHECK_INT(seen.nrows, 2); /* sorted like a claim: by notification */
	CHECK_INT(seen.rows[0].notif_id, 3);
	CHECK_INT(seen.rows[0].device_row, 4);
	CHECK_STR(seen.rows[0].expires, "2024-01-02T00:00:00Z");
	CHECK_INT(seen.rows[1].notif_id, 9);
	CHECK_INT(seen.rows[1].token, 77);
	CHECK_STR(seen.titles[1], "t9");
	reset();
	/* No summary row (not what the function returns): nothing taken. */
	CHECK_INT(store_result_deliver(RES_FANOUT, r5, CB(fanout, on_fanout), NULL), 0);
	CHECK_INT(seen.n, 0);
	CHECK_INT(seen.nv, 0);
	PQclear(r1);
	PQclear(r2);
	PQclear(r3);
	PQclear(r4);
	PQclear(r5);
}

static char app_seen[3][80];

static void on_app(void *ud, int err, const struct store_app_row *row)
{
	seen.calls++;
	seen.err = err;
	seen.ptr = row;
	if (!row)
		return;
	seen.n = row->found * 10 + row->known;
	snprintf(app_seen[0], sizeof app_seen[0], "%s", row->policy ? row->policy : "(null)");
	snprintf(app_seen[1], sizeof app_seen[1], "%s", row->acl ? row->acl : "(null)");
	snprintf(app_seen[2], sizeof app_seen[2], "%s", row->secret ? row->secret : "(null)");
}

/* push.apps: a row (the ACL joined by line feeds), no row (LEFT JOIN NULLs). */
static void app(void)
{
	static const char *const found[] = { "t", "acl", "a@x.org\nx.org", NULL, "f" };
	static const char *const none[] = { "f", NULL, NULL, NULL, "t" };
	PGresult *r1 = result(5, 1, found), *r2 = result(5, 1, none), *r3 = result(5, 0, NULL);

	reset();
	CHECK_INT(store_result_deliver(RES_APP, r1, CB(app, on_app), NULL), 0);
	CHECK_INT(seen.n, 10);
	CHECK_STR(app_seen[0], "acl");
	CHECK_STR(app_seen[1], "a@x.org\nx.org");
	CHECK_STR(app_seen[2], "(null)");
	reset();
	CHECK_INT(store_result_deliver(RES_APP, r2, CB(app, on_app), NULL), 0);
	CHECK_INT(seen.n, 1);
	CHECK_STR(app_seen[0], "(null)");
	reset();
	CHECK_INT(store_result_deliver(RES_APP, r3, CB(app, on_app), NULL), -1);
	CHECK_INT(seen.calls, 0);
	store_result_fail(RES_APP, CB(app, on_app), NULL);
	CHECK_INT(seen.err, STORE_FAILED);
	CHECK(seen.ptr == NULL);
	PQclear(r1);
	PQclear(r2);
	PQclear(r3);
}

static void failures(void)
{
	static const char *const one[] = { "1" };
	PGresult *res = result(1, 1, one);

	reset();
	store_result_fail(RES_COUNT_CMD, CB(count, on_count), NULL);
	CHECK_INT(seen.calls, 1);
	CHECK_INT(seen.err, STORE_FAILED);
	reset();
	store_result_fail(RES_NUMS, CB(nums, on_nums), NULL);
	CHECK_INT(seen.err, STORE_FAILED);
	reset();
	store_result_fail(RES_ROWS, CB(rows, on_rows), NULL);
	CHECK_INT(seen.err, STORE_FAILED);
	reset();
	store_result_fail(RES_CLAIM_IDS, CB(claim, on_claim), NULL);
	CHECK_INT(seen.err, STORE_FAILED);
	reset();
	store_result_fail(RES_FANOUT, CB(fanout, on_fanout), NULL);
	CHECK_INT(seen.err, STORE_FAILED);
	CHECK_INT(seen.calls, 1);
	/* No callback: the result is dropped, nothing is called. */
	store_result_fail(RES_COUNT_ROWS, CB(count, NULL), NULL);
	CHECK_INT(store_result_deliver(RES_COUNT_ROWS, res, CB(count, NULL), NULL), 0);
	CHECK_INT(seen.calls, 1);
	PQclear(res);
}

TEST_MAIN(T(table), T(counts), T(nums_of_any_width), T(rows), T(claims), T(fanout),
          T(app), T(failures))
