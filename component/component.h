/* component: xpushd's XEP-0114 connection to the XMPP server. Owns the TCP
 * socket, the stream parser, the handshake, the output buffer, a handshake
 * deadline and reconnect with capped jittered backoff. Knows nothing of
 * notifications: it hands stanzas up and writes bytes down. */
#ifndef XPUSH_COMPONENT_H
#define XPUSH_COMPONENT_H

#include <stddef.h>
#include <stdint.h>
#include "loop.h"
#include "stream.h"

struct component;

struct component_events {
	void (*on_ready)(void *ud);                          /* handshake accepted */
	void (*on_stanza)(void *ud, const struct xnode *st); /* borrowed for the call */
	/* Connection gone. final != 0: the server refused us for a reason that
	 * retrying will not fix (condition names it, e.g. not-authorized); no
	 * reconnect is scheduled. Otherwise a reconnect is scheduled. */
	void (*on_down)(void *ud, int final, const char *condition, const char *reason);
	/* A user's stanza over max_stanza_bytes or the depth limit was skipped
	 * unparsed (stream.h); the stream goes on. Only while ready. */
	void (*on_refused)(void *ud, const struct stanza_head *head, const char *reason);
};

struct component_opts {
	const char *jid, *secret, *host;
	uint16_t port;
	uint32_t reconnect_min_ms, reconnect_max_ms;
	uint32_t handshake_timeout_ms; /* TCP, stream and handshake must be done by then */
	size_t max_stanza_bytes;       /* larger stanzas are refused (on_refused), not parsed */
};

/* Starts connecting at once. Strings are copied (the secret is wiped on free).
 * NULL on OOM. */
struct component *component_new(struct loop *l, const struct component_opts *o,
                                const struct component_events *ev, void *ud);
void component_free(struct component *c);
int component_is_ready(const struct component *c);
/* Queue bytes for the server. 0, or -1 if not ready (nothing queued). */
__attribute__((warn_unused_result)) int component_send(struct component *c, const char *data,
                                                       size_t n);
size_t component_outbuf_len(const struct component *c);
/* Send </stream:stream> and close (for shutdown). */
void component_close(struct component *c);

#endif
