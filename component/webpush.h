/* webpush: the Web Push endpoint (RFC 8030, docs/http.md) on its own
 * libmicrohttpd listener and thread, with its own Postgres session: a slow
 * client or a slow database never holds up xpushd's loop. A message is the
 * same INSERT as any producer's (push.up_enqueue, schema 011); the loop
 * hears of it through the producers' NOTIFY like any other push. */
#ifndef XPUSH_WEBPUSH_H
#define XPUSH_WEBPUSH_H

#include "config.h"
#include "loop.h"

struct webpush;

/* Listen on cfg's http_address:http_port; endpoints are base + "/up/<token>".
 * The settings are copied (a reload does not change a running listener).
 * NULL with *err if it cannot. */
struct webpush *webpush_start(struct loop *l, const struct config *cfg, const char *base,
                              const char **err);
void webpush_stop(struct webpush *w);

#endif
