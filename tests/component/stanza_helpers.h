/* stanza_helpers: what test_stanza_decode and test_stanza_encode share: the
 * stream header, a device's from/to, and parse(), which runs real bytes
 * through the stream parser and returns the first stanza. */
#ifndef XPUSH_STANZA_HELPERS_H
#define XPUSH_STANZA_HELPERS_H

#include "stanza.h"
#include "stream.h"
#include "test.h"

#include <inttypes.h>
#include <stdlib.h>

#define HDR "<stream:stream xmlns:stream='http://etherx.jabber.org/streams'" \
	" xmlns='jabber:component:accept' from='push.example.org' id='abc'>"
#define DEV "from='alice@example.org/phone' to='push.example.org'"

struct collect {
	struct xnode *st[8];
	int n;
};

static inline void on_stanza(void *ud, struct xnode *st)
{
	struct collect *c = ud;

	if (c->n < 8)
		c->st[c->n++] = st;
	else
		xnode_free(st);
}

/* Parse HDR + xml (fed in slices of `chunk` bytes; 0 = at once) and return
 * the first stanza, or NULL. The caller frees it. */
static inline struct xnode *parse_chunked(const char *hdr, const char *xml, size_t n,
                                          size_t chunk)
{
	struct stream_callbacks cb = { .on_stanza = on_stanza };
	struct collect c = { .n = 0 };
	struct stream_parser *p = stream_parser_new(NULL, &cb, &c);
	int rc = 0;

	rc = stream_parser_feed(p, hdr, strlen(hdr));
	for (size_t off = 0; rc == 0 && off < n;) {
		size_t len = chunk && n - off > chunk ? chunk : n - off;

		rc = stream_parser_feed(p, xml + off, len);
		off += len;
	}
	if (rc)
		fprintf(stderr, "  parse error: %s\n", stream_parser_error(p));
	stream_parser_free(p);
	for (int i = 1; i < c.n; i++)
		xnode_free(c.st[i]);
	return c.n ? c.st[0] : NULL;
}

static inline struct xnode *parse(const char *xml)
{
	return parse_chunked(HDR, xml, strlen(xml), 0);
}

#endif
