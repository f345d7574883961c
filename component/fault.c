/* fault: the crash-point switch of xpushd-faults (see fault.h). In a
 * production build this file compiles to nothing. */
#include "fault.h"

#ifdef XPUSH_FAULTS
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* 1 at the hit XPUSH_FAULT names for this point (only that one). */
static int fault_due(const char *name, long *hit)
{
	static long hits;
	const char *want = getenv("XPUSH_FAULT");
	size_t n = strlen(name);
	long at = 1;

	if (!want || strncmp(want, name, n) != 0 || (want[n] != '\0' && want[n] != ':'))
		return 0;
	if (want[n] == ':')
		at = strtol(want + n + 1, NULL, 10);
	*hit = ++hits;
	return hits == at;
}

void fault_point(const char *name)
{
	long hit;

	if (!fault_due(name, &hit))
		return;
	fprintf(stderr, "xpushd level=warn msg=\"fault point reached: SIGKILL\" point=%s hit=%ld\n",
	        name, hit);
	kill(getpid(), SIGKILL);
}

int fault_fires(const char *name)
{
	long hit;

	if (!fault_due(name, &hit))
		return 0;
	fprintf(stderr, "xpushd level=warn msg=\"fault injected\" point=%s hit=%ld\n", name, hit);
	return 1;
}
#else
typedef int fault_unused;  /* ISO C forbids an empty translation unit */
#endif
