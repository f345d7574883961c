/* upsvc: xpushd's UnifiedPush service: the distributors' register and
 * unregister IQs (docs/unifiedpush.md), the revocation a distributor asks
 * for by answering a push with item-not-found, and the Web Push endpoint's
 * life (webpush.h). The pushes themselves go out with every other delivery
 * (scan.c sends a <push/> to a device whose app is a registration's). */
#ifndef XPUSH_UPSVC_H
#define XPUSH_UPSVC_H

#include <stddef.h>
#include <stdint.h>
#include "config.h"
#include "loop.h"
#include "store.h"
#include "xnode.h"

struct upsvc;

struct upsvc_owner {
	/* bytes for the component connection */
	void (*send)(void *ud, const char *data, size_t len);
	/* n registrations came online (a store_count_fn): their queued pushes
	 * may go now */
	void (*online)(void *ud, int err, long n);
	void *ud;
};

/* cfg is read at each request (a reload may change it). Starts the Web Push
 * endpoint if http_port is set; NULL (with *err) if it cannot listen. */
struct upsvc *upsvc_new(struct loop *l, const struct config *cfg, struct store *store,
                        const struct upsvc_owner *o, const char **err);
void upsvc_free(struct upsvc *u);

/* An <iq/> the urn:xpush:0 decoder did not serve: 1 if it was a UnifiedPush
 * request (answered here, now or when the store replies), else 0. from is
 * the server-stamped sender, bare its bare JID. */
int upsvc_on_iq(struct upsvc *u, const struct xnode *iq, const char *from, const char *bare);
/* A push's IQ error from full_jid: item-not-found or feature-not-implemented
 * revoke the registration (the app is gone); other conditions are the
 * ledger's usual bounce. Rows of native devices are never touched. */
void upsvc_on_nack(struct upsvc *u, int64_t device_row, const char *full_jid,
                   const char *condition);

#endif
