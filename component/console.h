/* console: xpushd's web console (docs/console.md): server-rendered HTML over
 * libmicrohttpd on its own listener and its own thread, with its own
 * blocking Postgres session, so a slow page never stalls the event loop.
 * It shares nothing with the daemon: it copies what it needs of the config
 * at start and talks to the push schema only. Admin and read-only (viewer) logins by
 * token, sessions in an HttpOnly SameSite=Strict cookie, a CSRF token in
 * every form. */
#ifndef XPUSH_CONSOLE_H
#define XPUSH_CONSOLE_H

#include "config.h"

struct console;

/* Start listening on console_address:console_port (what it needs of cfg is
 * copied).
 * NULL with *err set on failure (unreadable or short token file, port in
 * use). */
struct console *console_start(const struct config *cfg, const char **err);
void console_stop(struct console *c); /* NULL is fine */

#endif
