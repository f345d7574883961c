/* notify: decoding of <notification xmlns='urn:xpush:0'/> (protocol.md),
 * separate from the delivery path so it can be tested on stanzas built from
 * strings, without a connection; plus the ack and the seen-store upkeep
 * that the notification path (notify.c) and the retract path (retract.c)
 * share. */
#ifndef XPUSH_NOTIFY_H
#define XPUSH_NOTIFY_H

#include <strophe.h>

#include "xpush.h"

struct notify_fields {
	/* attributes: borrowed from the stanza */
	const char *id, *app, *priority, *collapse, *expires, *created;
	/* element texts: owned (malloc), NULL when the element is absent,
	 * "" when present and empty */
	char *title, *body, *uri, *payload;
};

/* Decode n. Returns 0, or -1 with *err set to a static one-line reason
 * (missing/invalid id, out of memory). On -1 nothing needs freeing. */
int notify_parse(xmpp_stanza_t *n, struct notify_fields *f, const char **err);
void notify_fields_free(struct notify_fields *f);

struct xpush_client;
/* The ack of a notification or retract: <iq type='result'/> to `to`. */
void notify_send_ack(struct xpush_client *c, const char *to, const char *iq_id);
/* 1 if iq comes from the component. Otherwise refuse it (service-unavailable,
 * a warning with topic, the REFUSED event naming payload's id) and return 0:
 * only the component may notify or retract. */
int notify_from_component(struct xpush_client *c, xmpp_stanza_t *iq, xmpp_stanza_t *payload,
                          const char *topic);
/* Compact the seen store when it is due; log a failure and any evictions
 * (after a record, and once when the client is created). */
void notify_seen_maintain(struct xpush_client *c);

#endif
