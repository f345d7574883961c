/* devfault: the fault-point switch of xpush-client-faults (see devfault.h).
 * In a production build this file compiles to nothing. Hit counters are per
 * process, as the fault tests run one client per process. */
#include "devfault.h"

#ifdef XPUSH_FAULTS
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "client_impl.h"

/* 1 when XPUSH_FAULT names this point and this is its selected hit. */
static int selected(struct xpush_client *c, const char *name)
{
	static long hits;
	const char *want = getenv("XPUSH_FAULT");
	size_t n = strlen(name);
	long at = 1;

	if (!want || strncmp(want, name, n) != 0 || (want[n] != '\0' && want[n] != ':'))
		return 0;
	if (want[n] == ':')
		at = strtol(want + n + 1, NULL, 10);
	if (++hits != at)
		return 0;
	clog_printf(&c->log, XPUSH_LOG_WARN, "topic=fault msg=fault_point_reached point=%s hit=%ld",
		    name, hits);
	return 1;
}

void devfault_crash(struct xpush_client *c, const char *name)
{
	if (selected(c, name))
		kill(getpid(), SIGKILL);
}

int devfault_skip(struct xpush_client *c, const char *name)
{
	return selected(c, name);
}
#else
typedef int devfault_unused; /* ISO C forbids an empty translation unit */
#endif
