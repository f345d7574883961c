/* devfault: the fault-point switch of xpush-client-faults (see devfault.h).
 * In a production build this file compiles to nothing. Hit counters are per
 * process, as the fault tests run one client per process. */
#include "devfault.h"

#ifdef XPUSH_FAULTS
#include <signal.h>
#include <unistd.h>

#include "client_impl.h"
#include "faultsel.h"

/* 1 when XPUSH_FAULT selects this hit of this point (logged). */
static int selected(struct xpush_client *c, const char *name)
{
	long hit = faultsel_hit(name);

	if (hit)
		clog_printf(&c->log, XPUSH_LOG_WARN,
		            "topic=fault msg=fault_point_reached point=%s hit=%ld", name, hit);
	return hit != 0;
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
