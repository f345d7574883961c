/* console_pages: the web console's pages, rendered on the server from the
 * push schema: queue health, notification progress, device search, one
 * device's deliveries, one notification's ledger, the send form and the
 * actions (send, retract). Runs on the console's thread with its own
 * blocking libpq session (console.c); every value is a query parameter and
 * every text written is HTML-escaped. docs/console.md. */
#ifndef XPUSH_CONSOLE_PAGES_H
#define XPUSH_CONSOLE_PAGES_H

#include <libpq-fe.h>

#include "xbuf.h"

enum console_role { CONSOLE_NOBODY = 0, CONSOLE_VIEWER, CONSOLE_ADMIN };

/* Who is looking: the role decides whether forms are shown; csrf goes into
 * every form. */
struct console_view {
	enum console_role role;
	const char *csrf;
	const char *note; /* a one-line message at the top (NULL: none) */
};

/* Each renders a whole HTML page into o: 0, or -1 (out of memory). A
 * database error is shown on the page. */
int console_pages_login(struct xbuf *o, const char *error);
int console_pages_message(struct xbuf *o, const char *title, const char *text);
int console_pages_dashboard(PGconn *db, const struct console_view *v, struct xbuf *o);
int console_pages_devices(PGconn *db, const struct console_view *v, const char *q, const char *app,
                          const char *online, struct xbuf *o);
int console_pages_device(PGconn *db, const struct console_view *v, const char *id, struct xbuf *o);
int console_pages_notification(PGconn *db, const struct console_view *v, const char *id,
                               struct xbuf *o);

/* The send form's fields (NULL or "" when empty). */
struct console_send {
	const char *app, *target, *value, *title, *body, *ttl;
};
/* INSERT the notification: its id, or -1 with a one-line reason in err. */
long long console_pages_send(PGconn *db, const struct console_send *s, char *err, size_t errlen);
/* push.retract_own(id): 0, or -1 with a reason in err. */
int console_pages_retract(PGconn *db, const char *id, char *err, size_t errlen);

#endif
