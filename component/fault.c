/* fault: the crash-point switch of xpushd-faults (see fault.h). In a
 * production build this file compiles to nothing. */
#include "fault.h"

#ifdef XPUSH_FAULTS
#include <signal.h>
#include <stdio.h>
#include <unistd.h>

#include "faultsel.h"

void fault_point(const char *name)
{
	long hit = faultsel_hit(name);

	if (!hit)
		return;
	fprintf(stderr, "xpushd level=warn msg=\"fault point reached: SIGKILL\" point=%s hit=%ld\n",
	        name, hit);
	kill(getpid(), SIGKILL);
}

int fault_fires(const char *name)
{
	long hit = faultsel_hit(name);

	if (!hit)
		return 0;
	fprintf(stderr, "xpushd level=warn msg=\"fault injected\" point=%s hit=%ld\n", name, hit);
	return 1;
}
#else
typedef int fault_unused; /* ISO C forbids an empty translation unit */
#endif
