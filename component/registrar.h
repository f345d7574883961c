/* registrar: a device's <register/> and <unregister/>, from the request to
 * the reply. Asks push.apps for the app's registration policy, lets
 * apppolicy decide, writes the roster (store_register) and answers the
 * device. Tells its owner through callbacks: bytes to send to the server,
 * and that a device registered (its deliveries may be claimed now). */
#ifndef XPUSH_REGISTRAR_H
#define XPUSH_REGISTRAR_H

#include <stddef.h>

#include "config.h"
#include "metrics.h"
#include "stanza.h"
#include "store.h"

struct registrar;

struct registrar_owner {
	void (*send)(void *ud, const char *data, size_t len);
	void (*registered)(void *ud);
	void *ud;
};

/* NULL on OOM. cfg, st and stats must outlive it. */
struct registrar *registrar_new(struct store *st, const struct config *cfg, struct xp_stats *stats,
                                const struct registrar_owner *owner);
/* Requests in flight are dropped with the store (store_free first). */
void registrar_free(struct registrar *r);

/* in is a decoded REGISTER or UNREGISTER from a full JID whose bare JID is
 * bare; it is answered (result or error) once the database has spoken. */
void registrar_handle(struct registrar *r, const struct stanza_in *in, const char *bare);

#endif
