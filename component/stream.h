/* stream: the XEP-0114 stream parser on expat. Bytes in, events out; no
 * sockets, no clock, so it is unit-tested and fuzzed directly.
 *
 * It refuses DOCTYPE and entity declarations, bounds the size and depth of
 * each stanza, and turns every top-level child of <stream:stream> into an
 * xnode tree handed to the caller. */
#ifndef XPUSH_STREAM_H
#define XPUSH_STREAM_H

#include <stddef.h>

#define STREAM_NS "http://etherx.jabber.org/streams"
#define COMPONENT_NS "jabber:component:accept"

/* One element. Names are local names; ns is the namespace URI ("" if none).
 * attrs is a NULL-terminated array of name,value pairs (names local; an
 * attribute with a namespace prefix is kept as "nsuri name"). text holds the
 * concatenated character data directly inside this element. */
struct xnode {
	char *name;
	char *ns;
	char **attrs;
	char *text;
	size_t text_len;
	struct xnode *children;  /* first child */
	struct xnode *next;      /* next sibling */
};

/* Borrowed results; NULL if absent. ns NULL matches any namespace. */
const char *xnode_attr(const struct xnode *n, const char *name);
const struct xnode *xnode_child(const struct xnode *n, const char *name, const char *ns);
/* Text of child `name` (any ns), or NULL. */
const char *xnode_child_text(const struct xnode *n, const char *name);
void xnode_free(struct xnode *n);  /* frees the whole tree; NULL is fine */

struct stream_limits {
	size_t max_stanza_bytes;  /* bytes of one top-level stanza; 0 = 65536 */
	unsigned max_depth;       /* element depth inside a stanza; 0 = 32 */
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
};

struct stream_parser;

/* NULL on allocation failure. Limits and callbacks are copied. */
struct stream_parser *stream_parser_new(const struct stream_limits *lim,
                                        const struct stream_callbacks *cb, void *ud);
/* Feed n bytes. Returns 0, or -1 when the stream is broken (malformed XML,
 * DOCTYPE, limit exceeded, a stanza before the header...); then every
 * further call returns -1 and stream_parser_error() says why in one line.
 * Callbacks run inside this call. A callback must not feed the parser (that
 * breaks the stream); if it frees the parser, the free is deferred until this
 * call returns -1, and the parser must not be touched again. */
__attribute__((warn_unused_result)) int stream_parser_feed(struct stream_parser *p, const char *buf, size_t n);
const char *stream_parser_error(const struct stream_parser *p);
void stream_parser_free(struct stream_parser *p);

#endif
