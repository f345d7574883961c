/* pgtext: Postgres array literals, both ways (pgtext.h). */
#include "pgtext.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

char *pgtext_int_array(const int64_t *v, size_t n)
{
	/* 20 characters for the longest bigint, one for its comma. */
	size_t cap = 3 + n * 21, len = 1;
	char *out = malloc(cap);

	if (!out)
		return NULL;
	out[0] = '{';
	for (size_t i = 0; i < n; i++)
		len += (size_t)snprintf(out + len, cap - len, "%s%lld", i ? "," : "",
		                        (long long)v[i]);
	out[len++] = '}';
	out[len] = '\0';
	return out;
}

char *pgtext_text_array(const char *const *v, size_t n)
{
	size_t cap = 3;
	char *out, *o;

	for (size_t i = 0; i < n; i++)
		cap += 2 * strlen(v[i]) + 3;
	out = o = malloc(cap);
	if (!out)
		return NULL;
	*o++ = '{';
	for (size_t i = 0; i < n; i++) {
		if (i)
			*o++ = ',';
		*o++ = '"';
		for (const char *s = v[i]; *s; s++) {
			if (*s == '"' || *s == '\\')
				*o++ = '\\';
			*o++ = *s;
		}
		*o++ = '"';
	}
	*o++ = '}';
	*o = '\0';
	return out;
}

int pgtext_parse_int_array(const char *s, int64_t **out, size_t *n)
{
	size_t cap = 1;
	int64_t *v;

	*out = NULL;
	*n = 0;
	if (*s++ != '{')
		return -1;
	if (*s == '}')
		return 0;
	for (const char *p = s; *p; p++)
		cap += *p == ',';
	v = malloc(cap * sizeof *v);
	if (!v)
		return -1;
	for (;;) {
		char *end;
		errno = 0;
		long long x = strtoll(s, &end, 10);
		if (end == s || errno || *n == cap)
			goto bad;
		v[(*n)++] = x;
		if (*end == '}')
			break;
		if (*end != ',')
			goto bad;
		s = end + 1;
	}
	*out = v;
	return 0;
bad:
	free(v);
	*n = 0;
	return -1;
}
