/* stream_helpers: what test_stream and test_stream_limits share: a run of the
 * stream parser over one document, its events logged exactly, and run_all,
 * which feeds a document in one block, one byte at a time and in 7-byte
 * slices and checks that the three runs agree. */
#ifndef XPUSH_STREAM_HELPERS_H
#define XPUSH_STREAM_HELPERS_H

#include "stream.h"
#include "xbuf.h"
#include "test.h"

#include <stdlib.h>

#define HDR "<?xml version='1.0'?><stream:stream xmlns:stream='http://etherx.jabber.org/streams'" \
	" xmlns='jabber:component:accept' from='push.example.org' id='abc'>"
#define END "</stream:stream>"
#define MAX_KEEP 16

struct run {
	struct stream_parser *p;
	struct xbuf log;         /* every event, serialised exactly */
	int opens, closes, stanzas, refused;
	struct xnode *keep[MAX_KEEP];
	int rc;
	char err[200];
	/* misbehaving-callback switches */
	int free_on_stanza, free_on_open, free_on_close, feed_on_stanza, free_on_refused;
	int inner_rc;
	struct stream_mem mem;   /* the parser's, just before it was freed */
};

static inline void must(int rc)
{
	if (rc) {
		fprintf(stderr, "allocation failed in test\n");
		abort();
	}
}

static inline void dump(struct xbuf *b, const struct xnode *n)
{
	must(xbuf_printf(b, "(%s|%s", n->ns, n->name));
	for (char **a = n->attrs; a && *a; a += 2)
		must(xbuf_printf(b, " [%s]=[%s]", a[0], a[1]));
	must(xbuf_printf(b, " text%zu:", n->text_len));
	must(xbuf_append(b, n->text, n->text_len));
	for (const struct xnode *c = n->children; c; c = c->next)
		dump(b, c);
	must(xbuf_puts(b, ")"));
}

static inline void cb_open(void *ud, const char *id, const char *from)
{
	struct run *r = ud;

	r->opens++;
	must(xbuf_printf(&r->log, "open id=%s from=%s\n", id ? id : "(null)",
	                 from ? from : "(null)"));
	if (r->free_on_open) {
		stream_parser_free(r->p);
		r->p = NULL;
	}
}

static inline void cb_stanza(void *ud, struct xnode *st)
{
	struct run *r = ud;

	dump(&r->log, st);
	must(xbuf_puts(&r->log, "\n"));
	if (r->stanzas < MAX_KEEP)
		r->keep[r->stanzas] = st;
	else
		xnode_free(st);
	r->stanzas++;
	if (r->feed_on_stanza)
		r->inner_rc = stream_parser_feed(r->p, "<x/>", 4);
	if (r->free_on_stanza && r->p) {
		stream_parser_free(r->p);
		r->p = NULL;
	}
}

static inline void cb_close(void *ud)
{
	struct run *r = ud;

	r->closes++;
	must(xbuf_puts(&r->log, "close\n"));
	if (r->free_on_close) {
		stream_parser_free(r->p);
		r->p = NULL;
	}
}

static inline void cb_refused(void *ud, const struct stanza_head *h, const char *reason)
{
	struct run *r = ud;

	r->refused++;
#define S(x) ((x) ? (x) : "(null)")
	must(xbuf_printf(&r->log, "refused (%s|%s) from=%s to=%s id=%s type=%s bytes=%zu: %s\n",
	                 h->ns, h->name, S(h->from), S(h->to), S(h->id), S(h->type), h->bytes,
	                 reason));
#undef S
	if (r->free_on_refused) {
		stream_parser_free(r->p);
		r->p = NULL;
	}
}

static const struct stream_callbacks callbacks = { cb_open, cb_stanza, cb_close, cb_refused };

/* Feed doc in slices of `chunk` bytes (0: all at once). */
static inline void run_doc(struct run *r, const char *doc, size_t n, size_t chunk,
                           const struct stream_limits *lim)
{
	size_t off = 0;

	r->p = stream_parser_new(lim, &callbacks, r);
	CHECK(r->p != NULL);
	r->rc = 0;
	do {
		size_t len = chunk && n - off > chunk ? chunk : n - off;

		r->rc = stream_parser_feed(r->p, doc + off, len);
		off += len;
	} while (r->rc == 0 && off < n);
	if (r->p) {
		snprintf(r->err, sizeof r->err, "%s", stream_parser_error(r->p));
		stream_parser_mem(r->p, &r->mem);
		stream_parser_free(r->p);
		r->p = NULL;
	}
}

static inline void run_free(struct run *r)
{
	for (int i = 0; i < r->stanzas && i < MAX_KEEP; i++)
		xnode_free(r->keep[i]);
	xbuf_free(&r->log);
	memset(r, 0, sizeof *r);
}

static const size_t chunks[] = { 0, 1, 7 };
#define NCHUNKS (sizeof chunks / sizeof chunks[0])

/* Run doc in every mode; all runs must agree. Returns the block run. */
static inline void run_all(struct run *block, const char *doc, size_t n,
                           const struct stream_limits *lim)
{
	memset(block, 0, sizeof *block);
	run_doc(block, doc, n, 0, lim);
	for (size_t i = 1; i < NCHUNKS; i++) {
		struct run r;

		memset(&r, 0, sizeof r);
		run_doc(&r, doc, n, chunks[i], lim);
		CHECK_INT(r.rc, block->rc);
		CHECK_INT(r.log.len, block->log.len);
		CHECK(r.log.len == block->log.len
		      && (r.log.len == 0 || memcmp(r.log.data, block->log.data, r.log.len) == 0));
		CHECK_STR(r.err, block->err);
		if (r.log.len != block->log.len || strcmp(r.err, block->err) != 0)
			fprintf(stderr, "  chunk %zu: [%s|%s] vs block [%s|%s]\n", chunks[i],
			        r.log.data ? r.log.data : "", r.err,
			        block->log.data ? block->log.data : "", block->err);
		run_free(&r);
	}
}

#endif
