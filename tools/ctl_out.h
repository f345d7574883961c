/* ctl_out: how xpushctl writes results: JSON (escaped per RFC 8259, one
 * document per command) and text for a terminal (aligned tables and
 * "key value" records, control characters escaped so that a hostile title
 * cannot drive the terminal). Writes only to the FILE it is given. */
#ifndef XPUSH_CTL_OUT_H
#define XPUSH_CTL_OUT_H

#include <stdio.h>

#include "ctl_rows.h"

/* A JSON string literal, quotes included (s NULL: null). */
void ctl_out_json_str(FILE *f, const char *s);
/* One cell as JSON according to its column's kind (SQL NULL: null). */
void ctl_out_json_cell(FILE *f, const struct ctl_rows *r, int row, int col);
/* Row `row` as a JSON object {"column": value, ...}. */
void ctl_out_json_object(FILE *f, const struct ctl_rows *r, int row);
/* Every row as a JSON array of objects. */
void ctl_out_json_array(FILE *f, const struct ctl_rows *r);

/* Text with control characters escaped (\n, \t, \xNN, \u0080..\u009f). */
void ctl_out_text(FILE *f, const char *s);
/* Row `row` as "column  value" lines, columns aligned, NULL cells left out. */
void ctl_out_record(FILE *f, const struct ctl_rows *r, int row);
/* All rows as an aligned table with an upper-case header; NULL shows as "-". */
void ctl_out_table(FILE *f, const struct ctl_rows *r);

#endif
