/* fault: the crash-point switch of xpushd-faults (see fault.h). In a
 * production build this file compiles to nothing. */
#include "fault.h"

#ifdef XPUSH_FAULTS
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

void fault_point(const char *name)
{
	static long hits;
	const char *want = getenv("XPUSH_FAULT");
	size_t n = strlen(name);
	long at = 1;

	if (!want || strncmp(want, name, n) != 0 || (want[n] != '\0' && want[n] != ':'))
		return;
	if (want[n] == ':')
		at = strtol(want + n + 1, NULL, 10);
	if (++hits < at)
		return;
	fprintf(stderr, "xpushd level=warn msg=\"fault point reached: SIGKILL\" point=%s hit=%ld\n",
	        name, hits);
	kill(getpid(), SIGKILL);
}
#else
typedef int fault_unused;  /* ISO C forbids an empty translation unit */
#endif
