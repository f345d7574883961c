/* notify: decoding of <notification xmlns='urn:xpush:0'/> (protocol.md).
 * Separate from the delivery path so it can be tested on stanzas built from
 * strings, without a connection. */
#ifndef XPUSH_NOTIFY_H
#define XPUSH_NOTIFY_H

#include <strophe.h>

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

#endif
