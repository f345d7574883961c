/* fault: named crash points for the fault tests (nothing lost under
 * crashes). Compiled in only when XPUSH_FAULTS is defined, which meson does
 * for the test binary xpushd-faults and never for xpushd. At run time,
 * XPUSH_FAULT=name[:n] makes the n-th hit (default 1st) of that point kill
 * the process with SIGKILL: no cleanup, no flush, as a real crash.
 * FAULT_FIRES(name) is an injected failure instead: true at that n-th hit
 * (the caller then fails as the real fault would), false otherwise. */
#ifndef XPUSH_FAULT_H
#define XPUSH_FAULT_H

#ifdef XPUSH_FAULTS
void fault_point(const char *name);
int fault_fires(const char *name);
#define FAULT_POINT(name) fault_point(name)
#define FAULT_FIRES(name) fault_fires(name)
#else
#define FAULT_POINT(name) ((void)0)
#define FAULT_FIRES(name) 0
#endif

#endif
