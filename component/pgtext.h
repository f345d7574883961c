/* pgtext: the text forms of Postgres arrays that the store passes as
 * parameters and reads back (bigint[] and text[]). Pure: no libpq. */
#ifndef XPUSH_PGTEXT_H
#define XPUSH_PGTEXT_H

#include <stddef.h>
#include <stdint.h>

/* "{1,2,3}" ("{}" when n is 0). Caller frees; NULL on OOM. */
char *pgtext_int_array(const int64_t *v, size_t n);
/* {"a","b\"c"}: every element quoted, '"' and '\' escaped. Caller frees;
 * NULL on OOM. */
char *pgtext_text_array(const char *const *v, size_t n);
/* Parse the text form of a bigint[] ("{1,2,3}", "{}"). *out is malloc'd
 * (caller frees; NULL when empty). 0, or -1 on malformed text or OOM (then
 * *out is NULL and *n 0). */
__attribute__((warn_unused_result)) int pgtext_parse_int_array(const char *s, int64_t **out,
                                                               size_t *n);

#endif
