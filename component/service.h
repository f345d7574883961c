/* service: what xpushd tells its service manager (systemd's notify
 * protocol, sd_notify(3)) and its health checks. It owns the readiness
 * state: ready once the component stream and the Postgres session are both
 * up (the migrations were checked before the loop started); READY=1 goes to
 * $NOTIFY_SOCKET the first time, STATUS= lines say what is missing, and
 * WATCHDOG=1 is sent from the loop every half $WATCHDOG_USEC. Without
 * NOTIFY_SOCKET nothing is sent. The datagram protocol is spoken here, in a
 * few lines, without libsystemd. */
#ifndef XPUSH_SERVICE_H
#define XPUSH_SERVICE_H

#include <stddef.h>
#include <stdint.h>

#include "loop.h"

/* Send one notification (e.g. "READY=1\nSTATUS=...") to $NOTIFY_SOCKET (a
 * path, or "@name" for the abstract namespace). 1 sent, 0 no socket
 * configured, -1 error (errno set). */
int service_notify(const char *state);
/* Half of $WATCHDOG_USEC in ms when the watchdog is enabled for this process
 * ($WATCHDOG_PID unset or ours), else 0. */
uint64_t service_watchdog_ms(void);

struct service;
struct service *service_new(struct loop *l);
void service_free(struct service *s);
/* The state of the two connections; call on every change. */
void service_update(struct service *s, int xmpp_up, int pg_up);
/* 1 if ready; else 0 and why[] names what is missing ("component not
 * connected; postgres down"). */
int service_ready(const struct service *s, char *why, size_t len);
/* A reload (SIGHUP) starts and ends: RELOADING=1, then READY=1. */
void service_reloading(struct service *s);
void service_reloaded(struct service *s);
/* Shutting down: STOPPING=1. */
void service_stopping(struct service *s);

#endif
