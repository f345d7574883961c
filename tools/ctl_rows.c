/* ctl_rows: allocation and access of query results copied out of libpq.
 * Owns nothing but memory; no formatting, no libpq. */
#include "ctl_rows.h"

#include <stdlib.h>
#include <string.h>

struct ctl_rows *ctl_rows_new(int ncols, int nrows)
{
	struct ctl_rows *r = calloc(1, sizeof *r);

	if (!r || ncols < 0 || nrows < 0)
		goto oom;
	r->ncols = ncols;
	r->nrows = nrows;
	r->names = calloc((size_t)ncols + 1, sizeof *r->names);
	r->kinds = calloc((size_t)ncols + 1, sizeof *r->kinds);
	r->cells = calloc((size_t)ncols * (size_t)nrows + 1, sizeof *r->cells);
	if (!r->names || !r->kinds || !r->cells)
		goto oom;
	return r;
oom:
	ctl_rows_free(r);
	return NULL;
}

void ctl_rows_free(struct ctl_rows *r)
{
	if (!r)
		return;
	if (r->names)
		for (int i = 0; i < r->ncols; i++)
			free(r->names[i]);
	if (r->cells)
		for (size_t i = 0; i < (size_t)r->ncols * (size_t)r->nrows; i++)
			free(r->cells[i]);
	free(r->names);
	free(r->kinds);
	free(r->cells);
	free(r);
}

const char *ctl_rows_get(const struct ctl_rows *r, int row, int col)
{
	if (!r || row < 0 || row >= r->nrows || col < 0 || col >= r->ncols)
		return NULL;
	return r->cells[(size_t)row * (size_t)r->ncols + (size_t)col];
}

int ctl_rows_col(const struct ctl_rows *r, const char *name)
{
	for (int i = 0; r && i < r->ncols; i++)
		if (r->names[i] && strcmp(r->names[i], name) == 0)
			return i;
	return -1;
}
