/* stream: the XEP-0114 stream parser on expat. Bytes in, events out; no
 * sockets, no clock, so it is unit-tested and fuzzed directly.
 *
 * It refuses DOCTYPE and entity declarations, bounds the size and depth of
 * each stanza, and turns every top-level child of <stream:stream> into an
 * xnode tree handed to the caller.
 *
 * A stanza over the size or depth limit is a user's doing (the server only
 * relays it), so it costs that stanza only: the parser stops building its
 * tree, skips the rest of it with bounded memory and reports it once through
 * on_refused; the stream goes on. Only what the server itself gets wrong ends
 * the stream: malformed XML, a bad or oversized stream header, too much
 * between stanzas, a stream error, or a stanza beyond the hard bounds below
 * (STREAM_HARD_MIN_BYTES, STREAM_HARD_DEPTH), which no server forwards under
 * its own limits. */
#ifndef XPUSH_STREAM_H
#define XPUSH_STREAM_H

#include <stddef.h>
#include "xnode.h"

#define STREAM_NS "http://etherx.jabber.org/streams"
#define COMPONENT_NS "jabber:component:accept"

struct stream_limits {
	size_t max_stanza_bytes; /* bytes of one top-level stanza; 0 = 65536 */
	unsigned max_depth;      /* element depth inside a stanza; 0 = 32 */
};

/* The hard bounds of a stanza being skipped, beyond which the stream ends:
 * max(STREAM_HARD_MIN_BYTES, STREAM_HARD_FACTOR * max_stanza_bytes) bytes in
 * all (this also bounds what expat must hold of one token, such as a start
 * tag with a huge attribute), and STREAM_HARD_DEPTH elements of nesting
 * (expat keeps the open elements). A server relays at most its own stanza
 * limit (Prosody: 256 KiB from a client, 512 KiB from another server), which
 * re-escaping can grow six times (' becomes &apos;): 3 MiB; and 512 KiB of
 * well-formed XML nests at most 75,000 deep. See docs/security.md. */
#define STREAM_HARD_MIN_BYTES ((size_t)4 << 20)
#define STREAM_HARD_FACTOR 8
#define STREAM_HARD_DEPTH 131072u

/* What a refused stanza was, captured at its start tag: the local name and
 * namespace of the top element and its from/to/id/type attributes (NULL if
 * absent or longer than STREAM_HEAD_ATTR_MAX bytes), and its size in bytes
 * as received. Borrowed for the duration of the callback. */
#define STREAM_HEAD_ATTR_MAX 3071
struct stanza_head {
	const char *name, *ns;
	const char *from, *to, *id, *type;
	size_t bytes;
};

/* What the parser holds, for tests and for the memory bounds above: bytes
 * expat has allocated (now and at most); bytes of the stanza tree being
 * built (now and at most; a tree handed to on_stanza no longer counts);
 * bytes held back from expat while a big token is unfinished (stream.c). */
struct stream_mem {
	size_t expat, expat_peak;
	size_t tree, tree_peak;
	size_t held, held_peak;
};

struct stream_callbacks {
	/* Server's stream header: id and from may be NULL if absent. */
	void (*on_open)(void *ud, const char *id, const char *from);
	/* A complete top-level element (including <handshake/> and
	 * <stream:error/>). The callee takes ownership of st. */
	void (*on_stanza)(void *ud, struct xnode *st);
	/* </stream:stream> seen. Parsing stops there: later bytes are
	 * ignored and feed keeps returning 0. */
	void (*on_close)(void *ud);
	/* A top-level stanza over max_stanza_bytes or max_depth was skipped
	 * (never built, never handed to on_stanza); called once, when its end
	 * tag has been read. reason is one line naming the limit, e.g. "stanza
	 * larger than 65536 bytes" or "stanza nested deeper than 32 elements".
	 * May be NULL: the stanza is skipped all the same. */
	void (*on_refused)(void *ud, const struct stanza_head *head, const char *reason);
};

struct stream_parser;

/* NULL on allocation failure. Limits and callbacks are copied. */
struct stream_parser *stream_parser_new(const struct stream_limits *lim,
                                        const struct stream_callbacks *cb, void *ud);
/* Feed n bytes. Returns 0, or -1 when the stream is broken (malformed XML,
 * DOCTYPE, a hard bound exceeded, a stanza before the header...); then every
 * further call returns -1 and stream_parser_error() says why in one line.
 * Callbacks run inside this call. A callback must not feed the parser (that
 * breaks the stream); if it frees the parser, the free is deferred until this
 * call returns -1, and the parser must not be touched again. */
__attribute__((warn_unused_result)) int stream_parser_feed(struct stream_parser *p, const char *buf,
                                                           size_t n);
const char *stream_parser_error(const struct stream_parser *p);
void stream_parser_mem(const struct stream_parser *p, struct stream_mem *out);
void stream_parser_free(struct stream_parser *p);

#endif
