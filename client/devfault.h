/* devfault: named fault points of the device library for the fault tests
 * (test 6). Compiled in only when XPUSH_FAULTS is defined, which
 * meson does for the static archive behind the test binary
 * xpush-client-faults and never for libxpush or xpush-client.
 *
 * At run time XPUSH_FAULT=name[:n] selects one point; its n-th hit (default
 * the 1st) in this process:
 *   after_receive  SIGKILL: notification parsed, its id not yet recorded
 *   after_record   SIGKILL: id recorded durably, not yet displayed
 *   after_display  SIGKILL: displayed (notify callback returned), not acked
 *   drop_ack       not fatal: that ack (of a notification or a retract) is
 *                  silently not sent, as if lost on the way back
 * A crash is a real one: SIGKILL, no cleanup, no flush (one warn log line
 * through the log callback first, so the test log says why). */
#ifndef XPUSH_DEVFAULT_H
#define XPUSH_DEVFAULT_H

#ifdef XPUSH_FAULTS
struct xpush_client;
/* SIGKILL the process if this is the selected hit of point name. */
void devfault_crash(struct xpush_client *c, const char *name);
/* 1 if this is the selected hit of point name (skip the action), else 0. */
int devfault_skip(struct xpush_client *c, const char *name);
#define DEVFAULT_CRASH(c, name) devfault_crash((c), (name))
#define DEVFAULT_SKIP(c, name) devfault_skip((c), (name))
#else
#define DEVFAULT_CRASH(c, name) ((void)0)
#define DEVFAULT_SKIP(c, name) 0
#endif

#endif
