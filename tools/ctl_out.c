/* ctl_out: JSON and terminal text for xpushctl's results. Owns escaping and
 * layout only: it never decides what to show (xpushctl.c does) and never
 * sees libpq (ctl_rows carries plain strings). */
#include "ctl_out.h"

#include <stdlib.h>
#include <string.h>

void ctl_out_json_str(FILE *f, const char *s)
{
	const unsigned char *p = (const unsigned char *)s;

	if (!s) {
		fputs("null", f);
		return;
	}
	putc('"', f);
	for (; *p; p++) {
		switch (*p) {
		case '"':
			fputs("\\\"", f);
			break;
		case '\\':
			fputs("\\\\", f);
			break;
		case '\b':
			fputs("\\b", f);
			break;
		case '\f':
			fputs("\\f", f);
			break;
		case '\n':
			fputs("\\n", f);
			break;
		case '\r':
			fputs("\\r", f);
			break;
		case '\t':
			fputs("\\t", f);
			break;
		default:
			if (*p < 0x20 || *p == 0x7f)
				fprintf(f, "\\u%04x", *p);
			else
				putc(*p, f); /* UTF-8 passes through (the session is UTF8) */
		}
	}
	putc('"', f);
}

void ctl_out_json_cell(FILE *f, const struct ctl_rows *r, int row, int col)
{
	const char *v = ctl_rows_get(r, row, col);

	if (!v) {
		fputs("null", f);
		return;
	}
	switch (r->kinds[col]) {
	case CTL_KIND_NUMBER:
	case CTL_KIND_JSON:
		fputs(v, f);
		break;
	case CTL_KIND_BOOL:
		fputs(*v == 't' ? "true" : "false", f);
		break;
	case CTL_KIND_TEXT:
		ctl_out_json_str(f, v);
		break;
	}
}

void ctl_out_json_object(FILE *f, const struct ctl_rows *r, int row)
{
	putc('{', f);
	for (int c = 0; c < r->ncols; c++) {
		if (c)
			putc(',', f);
		ctl_out_json_str(f, r->names[c]);
		putc(':', f);
		ctl_out_json_cell(f, r, row, c);
	}
	putc('}', f);
}

void ctl_out_json_array(FILE *f, const struct ctl_rows *r)
{
	putc('[', f);
	for (int i = 0; i < r->nrows; i++) {
		if (i)
			putc(',', f);
		ctl_out_json_object(f, r, i);
	}
	putc(']', f);
}

/* Writes s escaped (f may be NULL: only measure); returns its width in
 * columns, counting one per code point. */
static size_t text_put(FILE *f, const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t w = 0;
	char esc[8];

	for (; *p; p++) {
		const char *e = NULL;
		if (*p == '\n')
			e = "\\n";
		else if (*p == '\t')
			e = "\\t";
		else if (*p == '\r')
			e = "\\r";
		else if (*p < 0x20 || *p == 0x7f) {
			snprintf(esc, sizeof esc, "\\x%02x", *p);
			e = esc;
		} else if (*p == 0xc2 && p[1] >= 0x80 && p[1] <= 0x9f) {
			/* C1 controls (U+0080..U+009F): CSI and friends. */
			snprintf(esc, sizeof esc, "\\u%04x", p[1]);
			e = esc;
			p++;
		}
		if (e) {
			if (f)
				fputs(e, f);
			w += strlen(e);
			continue;
		}
		if (f)
			putc(*p, f);
		if ((*p & 0xc0) != 0x80)
			w++;
	}
	return w;
}

void ctl_out_text(FILE *f, const char *s)
{
	text_put(f, s);
}

static void pad(FILE *f, size_t n)
{
	while (n--)
		putc(' ', f);
}

void ctl_out_record(FILE *f, const struct ctl_rows *r, int row)
{
	size_t kw = 0;

	for (int c = 0; c < r->ncols; c++)
		if (ctl_rows_get(r, row, c) && strlen(r->names[c]) > kw)
			kw = strlen(r->names[c]);
	for (int c = 0; c < r->ncols; c++) {
		const char *v = ctl_rows_get(r, row, c);
		if (!v)
			continue;
		fputs(r->names[c], f);
		pad(f, kw - strlen(r->names[c]) + 2);
		if (r->kinds[c] == CTL_KIND_BOOL)
			fputs(*v == 't' ? "yes" : "no", f);
		else
			text_put(f, v);
		putc('\n', f);
	}
}

static const char *cell_text(const struct ctl_rows *r, int row, int col)
{
	const char *v = ctl_rows_get(r, row, col);

	if (!v)
		return "-";
	if (r->kinds[col] == CTL_KIND_BOOL)
		return *v == 't' ? "yes" : "no";
	return v;
}

void ctl_out_table(FILE *f, const struct ctl_rows *r)
{
	size_t *w = calloc((size_t)r->ncols + 1, sizeof *w);

	if (!w)
		return;
	for (int c = 0; c < r->ncols; c++) {
		w[c] = strlen(r->names[c]);
		for (int i = 0; i < r->nrows; i++) {
			size_t cw = text_put(NULL, cell_text(r, i, c));
			if (cw > w[c])
				w[c] = cw;
		}
	}
	for (int c = 0; c < r->ncols; c++) {
		for (const char *p = r->names[c]; *p; p++)
			putc(*p >= 'a' && *p <= 'z' ? *p - 'a' + 'A' : *p, f);
		if (c + 1 < r->ncols)
			pad(f, w[c] - strlen(r->names[c]) + 2);
	}
	putc('\n', f);
	for (int i = 0; i < r->nrows; i++) {
		for (int c = 0; c < r->ncols; c++) {
			size_t cw = text_put(f, cell_text(r, i, c));
			if (c + 1 < r->ncols)
				pad(f, w[c] - cw + 2);
		}
		putc('\n', f);
	}
	free(w);
}
