/* faultsel.c: XPUSH_FAULT=name[:n] (faultsel.h). */
#include "faultsel.h"

#include <stdlib.h>
#include <string.h>

long faultsel_hit(const char *name)
{
	static long hits;
	const char *want = getenv("XPUSH_FAULT");
	size_t n = strlen(name);
	long at = 1;

	if (!want || strncmp(want, name, n) != 0 || (want[n] != '\0' && want[n] != ':'))
		return 0;
	if (want[n] == ':')
		at = strtol(want + n + 1, NULL, 10);
	return ++hits == at ? hits : 0;
}
