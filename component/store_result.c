/* store_result: turns each kind of result into its callback (store_result.h).
 * A decoder reads the columns its kind promises; store.c has checked the
 * column count against the statement table before. Values are borrowed
 * from the PGresult or freed after the callback returns. */
#include "store_result.h"

#include <stdlib.h>
#include <string.h>

#include "pgtext.h"

typedef int (*decode_fn)(const PGresult *res, union store_cb cb, void *ud);

static int64_t num(const PGresult *res, int row, int col)
{
	return PQgetisnull(res, row, col) ? -1 : strtoll(PQgetvalue(res, row, col), NULL, 10);
}

static const char *text(const PGresult *res, int row, int col)
{
	return PQgetisnull(res, row, col) ? NULL : PQgetvalue(res, row, col);
}

static int dec_count_rows(const PGresult *res, union store_cb cb, void *ud)
{
	cb.count(ud, 0, PQntuples(res));
	return 0;
}

static int dec_count_first(const PGresult *res, union store_cb cb, void *ud)
{
	cb.count(ud, 0, PQntuples(res) > 0 ? strtol(PQgetvalue(res, 0, 0), NULL, 10) : -1);
	return 0;
}

static int dec_count_cmd(const PGresult *res, union store_cb cb, void *ud)
{
	/* PQcmdTuples only reads, but is declared without const. */
	cb.count(ud, 0, strtol(PQcmdTuples((PGresult *)res), NULL, 10));
	return 0;
}

/* The first nrows rows as numbers, row-major; *v NULL when empty. */
static int numbers(const PGresult *res, size_t nrows, int64_t **v)
{
	size_t nc = (size_t)PQnfields(res);

	*v = NULL;
	if (!nrows || !nc)
		return 0;
	*v = calloc(nrows * nc, sizeof **v);
	if (!*v)
		return -1;
	for (size_t i = 0; i < nrows; i++)
		for (size_t j = 0; j < nc; j++)
			(*v)[i * nc + j] = num(res, (int)i, (int)j);
	return 0;
}

static int dec_nums(const PGresult *res, union store_cb cb, void *ud)
{
	size_t n = PQntuples(res) > 0 ? (size_t)PQnfields(res) : 0;
	int64_t *v, none = 0;

	if (numbers(res, n ? 1 : 0, &v) < 0)
		return -1;
	cb.nums(ud, 0, v ? v : &none, n);
	free(v);
	return 0;
}

static int dec_rows(const PGresult *res, union store_cb cb, void *ud)
{
	size_t nr = (size_t)PQntuples(res), nc = (size_t)PQnfields(res);
	int64_t *v;

	if (numbers(res, nr, &v) < 0)
		return -1;
	cb.rows(ud, 0, v, nr, nc);
	free(v);
	return 0;
}

static int claim_row_cmp(const void *a, const void *b)
{
	const struct claim_row *x = a, *y = b;

	if (x->notif_id != y->notif_id)
		return x->notif_id < y->notif_id ? -1 : 1;
	return (x->device_row > y->device_row) - (x->device_row < y->device_row);
}

/* The columns of S_CLAIM's RETURNING, in order. */
static void fill_claim(struct claim_row *c, const PGresult *res, int i)
{
	c->notif_id = num(res, i, 0);
	c->device_row = num(res, i, 1);
	c->full_jid = text(res, i, 2);
	c->app = text(res, i, 3);
	c->priority = text(res, i, 4);
	c->created = text(res, i, 5);
	c->title = text(res, i, 6);
	c->body = text(res, i, 7);
	c->uri = text(res, i, 8);
	c->payload = text(res, i, 9);
	c->attempts = (int)num(res, i, 10);
	c->token = num(res, i, 11);
	c->collapse = text(res, i, 12);
	c->expires = text(res, i, 13);
}

/* Retracts and probes: ids, the full JID and the token. */
static void fill_claim_ids(struct claim_row *c, const PGresult *res, int i)
{
	c->notif_id = num(res, i, 0);
	c->device_row = num(res, i, 1);
	c->full_jid = text(res, i, 2);
	c->token = num(res, i, 3);
}

static int claims(const PGresult *res, union store_cb cb, void *ud,
                  void (*fill)(struct claim_row *, const PGresult *, int))
{
	int n = PQntuples(res);
	struct claim_row *rows = n ? calloc((size_t)n, sizeof *rows) : NULL;

	if (n && !rows)
		return -1;
	for (int i = 0; i < n; i++)
		fill(&rows[i], res, i);
	/* RETURNING has no order: per device, send by notification id. */
	if (n > 1) /* qsort(NULL, 0, ...) is undefined (UBSan: nonnull) */
		qsort(rows, (size_t)n, sizeof *rows, claim_row_cmp);
	cb.claim(ud, 0, rows, (size_t)n);
	free(rows);
	return 0;
}

static int dec_claim(const PGresult *res, union store_cb cb, void *ud)
{
	return claims(res, cb, ud, fill_claim);
}

static int dec_claim_ids(const PGresult *res, union store_cb cb, void *ud)
{
	return claims(res, cb, ud, fill_claim_ids);
}

/* push.fanout_send: the rows sent at once (a claim's columns), then one row
 * with only the last two columns: notifications taken and the devices to
 * claim for. */
enum { FANOUT_TOUCHED = 14, FANOUT_DEVICES = 15 };

static int dec_fanout(const PGresult *res, union store_cb cb, void *ud)
{
	int n = PQntuples(res), nsent = 0;
	long touched = 0;
	const char *arr = "{}";
	struct claim_row *rows = n ? calloc((size_t)n, sizeof *rows) : NULL;
	int64_t *devs;
	size_t ndev;

	if (n && !rows)
		return -1;
	for (int i = 0; i < n; i++) {
		if (!PQgetisnull(res, i, 0)) {
			fill_claim(&rows[nsent++], res, i);
			continue;
		}
		touched = (long)num(res, i, FANOUT_TOUCHED);
		if (!PQgetisnull(res, i, FANOUT_DEVICES))
			arr = PQgetvalue(res, i, FANOUT_DEVICES);
	}
	if (touched < 0 || pgtext_parse_int_array(arr, &devs, &ndev) < 0) {
		free(rows);
		return -1;
	}
	if (nsent > 1)
		qsort(rows, (size_t)nsent, sizeof *rows, claim_row_cmp);
	cb.fanout(ud, 0, touched, devs, ndev, rows, (size_t)nsent);
	free(devs);
	free(rows);
	return 0;
}

/* One row: found, policy, acl, secret, known (booleans as t/f). */
static int dec_app(const PGresult *res, union store_cb cb, void *ud)
{
	struct store_app_row row = { 0, 0, NULL, NULL, NULL };

	if (PQntuples(res) != 1)
		return -1;
	row.found = strcmp(PQgetvalue(res, 0, 0), "t") == 0;
	row.policy = PQgetisnull(res, 0, 1) ? NULL : PQgetvalue(res, 0, 1);
	row.acl = PQgetisnull(res, 0, 2) ? NULL : PQgetvalue(res, 0, 2);
	row.secret = PQgetisnull(res, 0, 3) ? NULL : PQgetvalue(res, 0, 3);
	row.known = strcmp(PQgetvalue(res, 0, 4), "t") == 0;
	cb.app(ud, 0, &row);
	return 0;
}

static const decode_fn decoders[RES_KINDS] = {
	[RES_COUNT_ROWS] = dec_count_rows,
	[RES_COUNT_FIRST] = dec_count_first,
	[RES_COUNT_CMD] = dec_count_cmd,
	[RES_NUMS] = dec_nums,
	[RES_ROWS] = dec_rows,
	[RES_CLAIM] = dec_claim,
	[RES_CLAIM_IDS] = dec_claim_ids,
	[RES_FANOUT] = dec_fanout,
	[RES_APP] = dec_app,
};

/* A request may have no callback (store_fail's caller may not care). */
static int has_cb(enum res_kind k, union store_cb cb)
{
	switch (k) {
	case RES_COUNT_ROWS:
	case RES_COUNT_FIRST:
	case RES_COUNT_CMD:
		return cb.count != NULL;
	case RES_NUMS:
		return cb.nums != NULL;
	case RES_ROWS:
		return cb.rows != NULL;
	case RES_CLAIM:
	case RES_CLAIM_IDS:
		return cb.claim != NULL;
	case RES_FANOUT:
		return cb.fanout != NULL;
	case RES_APP:
		return cb.app != NULL;
	case RES_KINDS:
		break;
	}
	return 0;
}

int store_result_deliver(enum res_kind k, const PGresult *res, union store_cb cb, void *ud)
{
	return has_cb(k, cb) ? decoders[k](res, cb, ud) : 0;
}

void store_result_fail(enum res_kind k, union store_cb cb, void *ud)
{
	if (!has_cb(k, cb))
		return;
	switch (k) {
	case RES_COUNT_ROWS:
	case RES_COUNT_FIRST:
	case RES_COUNT_CMD:
		cb.count(ud, STORE_FAILED, 0);
		break;
	case RES_NUMS:
		cb.nums(ud, STORE_FAILED, NULL, 0);
		break;
	case RES_ROWS:
		cb.rows(ud, STORE_FAILED, NULL, 0, 0);
		break;
	case RES_CLAIM:
	case RES_CLAIM_IDS:
		cb.claim(ud, STORE_FAILED, NULL, 0);
		break;
	case RES_FANOUT:
		cb.fanout(ud, STORE_FAILED, 0, NULL, 0, NULL, 0);
		break;
	case RES_APP:
		cb.app(ud, STORE_FAILED, NULL);
		break;
	case RES_KINDS:
		break;
	}
}
