/* ctl_rows: a query result as plain owned strings, so that PGresult never
 * leaves ctl_sql.c and the output module needs no libpq. */
#ifndef XPUSH_CTL_ROWS_H
#define XPUSH_CTL_ROWS_H

/* How a column is written in JSON (text output escapes every kind alike). */
enum ctl_kind {
	CTL_KIND_TEXT,   /* a JSON string */
	CTL_KIND_NUMBER, /* written as is: Postgres' integer/numeric/float text */
	CTL_KIND_BOOL,   /* "t"/"f" -> true/false */
	CTL_KIND_JSON,   /* already JSON (e.g. a tags array), written as is */
};

struct ctl_rows {
	int ncols, nrows;
	char **names;         /* ncols column names */
	enum ctl_kind *kinds; /* ncols */
	char **cells;         /* nrows * ncols, row-major; NULL = SQL NULL */
};

/* Allocate an empty result of that shape (names, kinds and cells all NULL /
 * CTL_KIND_TEXT). NULL on OOM. Free with ctl_rows_free. */
struct ctl_rows *ctl_rows_new(int ncols, int nrows);
void ctl_rows_free(struct ctl_rows *r);

/* The cell (borrowed; NULL for SQL NULL or out of range). */
const char *ctl_rows_get(const struct ctl_rows *r, int row, int col);
/* The index of a column by name, or -1. */
int ctl_rows_col(const struct ctl_rows *r, const char *name);

#endif
