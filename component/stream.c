/* stream: the XEP-0114 stream parser. It owns the expat parser, the stanza
 * being built, and the limits that keep a hostile or broken server from
 * costing us unbounded memory or CPU (DOCTYPE and entity declarations are
 * refused outright; stanza bytes and depth are bounded). It must not do I/O
 * or log: the first error is kept as one line for the caller to report.
 *
 * Who pays for a limit: a stanza over max_stanza_bytes or max_depth is some
 * user's, relayed by the server, so only that stanza is refused: its tree is
 * freed, the rest of it is read with nothing built (expat still checks that
 * it is well-formed and keeps the open elements), and on_refused reports it
 * once at its end tag. What is the server's own doing ends the stream. */
#include "stream.h"

#include <expat.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "stream_head.h"
#include "xbuf.h"
#include "xmem.h"

/* Expat reports "uri<SEP>local" for namespaced names. A space cannot occur
 * in an XML local name, and expat >= 2.4.5 refuses namespace URIs that
 * contain the separator, so splitting at the last space is unambiguous. */
#define NS_SEP ' '
#define STREAM_ROOT STREAM_NS " stream"

/* Bytes handed to expat per XML_Parse call. The size bounds are checked
 * between slices as well as at every event, so expat never buffers more than
 * the bound + one slice of an unfinished token. While a token is unfinished
 * (no event for more than a slice) the slice grows with it, so that expat's
 * rescans of the token from its start add up to a few times its size instead
 * of its size squared over FEED_SLICE. */
#define FEED_SLICE 4096

/* Across feeds the same holds: expat rescans an unfinished token on every
 * call. Once one is bigger than this, new bytes are held back until they
 * could finish it (they hold a '>', which ends every tag, comment, PI and
 * CDATA section) or are as many as it already is. Holding never delays the
 * end of a stanza or of the stream, none of which comes without a '>'; it
 * may delay the report of an error inside the token. */
#define HOLD_MIN 65536

struct frame {
	struct xnode *node;
	struct xnode *last_child; /* append point, keeps children in order */
	size_t text_cap;
};

struct stream_parser {
	XML_Parser xp;
	struct stream_limits lim;
	struct stream_callbacks cb;
	void *ud;

	unsigned depth;         /* 0 outside the root, 1 inside <stream:stream> */
	struct frame *stack;    /* frames of the stanza being built, lim.max_depth deep */
	XML_Index fed;          /* bytes given to expat so far */
	XML_Index mark;         /* end of the last thing we fully consumed */
	XML_Index stanza_start; /* offset of the current stanza's start tag */
	XML_Index last_ev;      /* end of the last event expat reported */
	size_t hard_bytes;      /* hard bound of a stanza, skipped or not */

	/* The stanza being skipped (refused): why, and its head. */
	int skipping;
	char skip_reason[96];
	struct stream_head head;

	struct xbuf hold; /* bytes held back from expat (HOLD_MIN) */

	struct stream_mem mem;       /* what stream_parser_mem reports, */
	struct xmem_count expat_mem; /* but expat's bytes, counted by xmem.c */

	int failed;
	int closed;       /* </stream:stream> seen: ignore the rest */
	int feeding;      /* inside stream_parser_feed: callbacks may run */
	int free_pending; /* stream_parser_free called from a callback */
	char err[160];
};

static void fail(struct stream_parser *p, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* Keep the first error only: later ones are consequences of it. */
static void fail(struct stream_parser *p, const char *fmt, ...)
{
	va_list ap;

	if (p->failed)
		return;
	p->failed = 1;
	va_start(ap, fmt);
	vsnprintf(p->err, sizeof p->err, fmt, ap);
	va_end(ap);
	/* Names and URIs in the message come from the peer; a character
	 * reference can put a newline in a namespace URI. Keep it one line. */
	for (char *c = p->err; *c; c++)
		if ((unsigned char)*c < 0x20 || *c == 0x7f)
			*c = '?';
	XML_StopParser(p->xp, XML_FALSE);
}

/* --- memory accounting ---------------------------------------------------- */

/* Bytes of the stanza tree being built. */
static void tree_add(struct stream_parser *p, size_t n)
{
	p->mem.tree += n;
	if (p->mem.tree > p->mem.tree_peak)
		p->mem.tree_peak = p->mem.tree;
}

/* Expat's "uri<SEP>local" as a namespace (*nslen bytes from qname; 0 when
 * there is none) and the local name it returns. */
static const char *local_name(const char *qname, size_t *nslen)
{
	const char *sep = strrchr(qname, NS_SEP);

	*nslen = sep ? (size_t)(sep - qname) : 0;
	return sep ? sep + 1 : qname;
}

/* --- expat handlers ------------------------------------------------------ */

static XML_Index event_end(struct stream_parser *p)
{
	return XML_GetCurrentByteIndex(p->xp) + XML_GetCurrentByteCount(p->xp);
}

static void note_event(struct stream_parser *p)
{
	p->last_ev = event_end(p);
}

#define HARD_SIZE_FMT "stanza larger than %zu bytes (hard bound)"

/* Bytes outside any stanza since the last thing we consumed: the prolog
 * and header, or comments and PIs between stanzas. Same bound as a stanza,
 * checked at the event so a feed in one block agrees with one in slices.
 * Servers send neither, so this is the server's fault: the stream ends. */
static int outside_too_big(struct stream_parser *p)
{
	XML_Index used = event_end(p) - p->mark;

	if (used < 0 || (size_t)used <= p->lim.max_stanza_bytes)
		return 0;
	fail(p, "%s larger than %zu bytes", p->depth ? "stanza" : "stream header",
	     p->lim.max_stanza_bytes);
	return 1;
}

/* Bytes of the current stanza up to the end of the current event: beyond
 * the hard bound the stream ends (-1); beyond the limit the stanza is
 * refused (1). */
static int stanza_size(struct stream_parser *p)
{
	XML_Index used = event_end(p) - p->stanza_start;

	if (used < 0)
		return 0;
	if ((size_t)used > p->hard_bytes) {
		fail(p, HARD_SIZE_FMT, p->hard_bytes);
		return -1;
	}
	return (size_t)used > p->lim.max_stanza_bytes;
}

/* Refuse the current stanza: keep its head, free what was built of it, and
 * build nothing more until its end tag. qname/atts: the top element's start
 * tag when that is the event at hand (nothing is built yet); otherwise the
 * head comes from the tree. */
static void begin_skip(struct stream_parser *p, const char *qname, const char **atts,
                       const char *fmt, ...) __attribute__((format(printf, 4, 5)));

static void begin_skip(struct stream_parser *p, const char *qname, const char **atts,
                       const char *fmt, ...)
{
	va_list ap;
	struct xnode *top = p->stack[0].node;

	if (p->skipping)
		return;
	p->skipping = 1;
	va_start(ap, fmt);
	vsnprintf(p->skip_reason, sizeof p->skip_reason, fmt, ap);
	va_end(ap);
	if (qname) {
		size_t nslen;
		const char *name = local_name(qname, &nslen);

		stream_head_set(&p->head, qname, nslen, name, atts);
	} else if (top) {
		stream_head_set(&p->head, top->ns, strlen(top->ns), top->name,
		                (const char *const *)top->attrs);
	}
	xnode_free(top);
	p->stack[0].node = NULL;
	p->mem.tree = 0;
}

/* The refused stanza's end tag: report it once, then back to normal. */
static void end_skip(struct stream_parser *p)
{
	struct stanza_head h = stream_head_view(&p->head, (size_t)(event_end(p) - p->stanza_start));

	p->skipping = 0;
	p->mark = event_end(p);
	if (p->cb.on_refused)
		p->cb.on_refused(p->ud, &h, p->skip_reason);
	/* A callback that freed the parser deferred the free: p is still ours. */
	stream_head_clear(&p->head);
}

static void on_start(void *ud, const XML_Char *qname, const XML_Char **atts)
{
	struct stream_parser *p = ud;
	struct xnode *n;
	struct frame *f;
	const char *name;
	size_t bytes = 0, nslen;
	int size;

	if (p->failed)
		return;
	note_event(p);
	if (p->depth == 0) {
		if (strcmp(qname, STREAM_ROOT) != 0) {
			const char *sep = strrchr(qname, NS_SEP);
			int shown = sep && sep - qname < 60 ? (int)(sep - qname) : 60;

			if (sep)
				fail(p,
				     "stream root is <%.40s> in namespace '%.*s', expected "
				     "<stream:stream>",
				     sep + 1, shown, qname);
			else
				fail(p, "stream root is <%.40s>, expected <stream:stream>", qname);
			return;
		}
		if (outside_too_big(p))
			return;
		p->depth = 1;
		p->mark = event_end(p);
		if (p->cb.on_open) {
			const char *id = NULL, *from = NULL;

			for (const char **a = atts; a[0]; a += 2) {
				if (strcmp(a[0], "id") == 0)
					id = a[1];
				else if (strcmp(a[0], "from") == 0)
					from = a[1];
			}
			p->cb.on_open(p->ud, id, from);
		}
		return;
	}
	if (p->depth == 1) {
		p->stanza_start = XML_GetCurrentByteIndex(p->xp);
		p->skipping = 0;
	}
	size = stanza_size(p);
	if (size < 0)
		return;
	if (p->skipping) {
		if (p->depth - 1 >= STREAM_HARD_DEPTH) {
			fail(p, "stanza nested deeper than %u elements (hard bound)",
			     STREAM_HARD_DEPTH);
			return;
		}
		p->depth++;
		return;
	}
	if (size) {
		begin_skip(p, p->depth == 1 ? qname : NULL, atts, "stanza larger than %zu bytes",
		           p->lim.max_stanza_bytes);
		p->depth++;
		return;
	}
	if (p->depth - 1 >= p->lim.max_depth) {
		begin_skip(p, NULL, NULL, "stanza nested deeper than %u elements",
		           p->lim.max_depth);
		p->depth++;
		return;
	}
	name = local_name(qname, &nslen);
	n = xnode_new(qname, nslen, name, atts, &bytes);
	if (!n) {
		fail(p, "out of memory");
		return;
	}
	if (p->depth == 1)
		p->mem.tree = 0;
	tree_add(p, bytes);
	if (p->depth > 1) {
		struct frame *parent = &p->stack[p->depth - 2];

		if (parent->last_child)
			parent->last_child->next = n;
		else
			parent->node->children = n;
		parent->last_child = n;
	}
	f = &p->stack[p->depth - 1];
	f->node = n;
	f->last_child = NULL;
	f->text_cap = 0;
	p->depth++;
}

static void on_end(void *ud, const XML_Char *qname)
{
	struct stream_parser *p = ud;
	struct frame *f;
	struct xnode *st;
	int size;

	if (p->failed)
		return;
	note_event(p);
	if (p->depth == 1) {
		/* Only </stream:stream> can close depth 1; expat checked the name.
		 * The stream is over: whatever follows is not ours to judge. */
		p->depth = 0;
		p->mark = event_end(p);
		p->closed = 1;
		XML_StopParser(p->xp, XML_FALSE);
		if (p->cb.on_close)
			p->cb.on_close(p->ud);
		return;
	}
	size = stanza_size(p);
	if (size < 0)
		return;
	if (size && !p->skipping)
		begin_skip(p, NULL, NULL, "stanza larger than %zu bytes", p->lim.max_stanza_bytes);
	if (p->skipping) {
		p->depth--;
		if (p->depth == 1)
			end_skip(p);
		return;
	}
	f = &p->stack[p->depth - 2];
	if (!f->node->text) {
		/* Callers get "" for an empty element, never NULL. */
		if (xnode_append_text(f->node, &f->text_cap, "", 0) < 0) {
			fail(p, "out of memory");
			return;
		}
		tree_add(p, f->text_cap);
	}
	p->depth--;
	if (p->depth > 1)
		return;
	/* Detach before the callback: it owns the tree from here on, and
	 * nothing in our state may point into it if it frees it at once. */
	st = p->stack[0].node;
	p->stack[0].node = NULL;
	p->mem.tree = 0;
	p->mark = event_end(p);
	if (p->cb.on_stanza)
		p->cb.on_stanza(p->ud, st);
	else
		xnode_free(st);
}

static void on_text(void *ud, const XML_Char *s, int len)
{
	struct stream_parser *p = ud;
	struct frame *f;
	size_t cap;
	int size;

	if (p->failed || len <= 0)
		return;
	note_event(p);
	if (p->depth <= 1) {
		/* Whitespace keepalives between stanzas. Text that is not
		 * whitespace directly in the stream is dropped as XEP-0114
		 * servers never send it; it still counts as consumed so a
		 * long run of keepalives does not trip the size limit. */
		p->mark = event_end(p);
		return;
	}
	size = stanza_size(p);
	if (size < 0)
		return;
	if (size)
		begin_skip(p, NULL, NULL, "stanza larger than %zu bytes", p->lim.max_stanza_bytes);
	if (p->skipping)
		return;
	f = &p->stack[p->depth - 2];
	cap = f->text_cap;
	if (xnode_append_text(f->node, &f->text_cap, s, (size_t)len) < 0) {
		fail(p, "out of memory");
		return;
	}
	tree_add(p, f->text_cap - cap);
}

/* Comments and processing instructions carry nothing for us. Between
 * stanzas they still advance the consumed mark. */
static void on_comment(void *ud, const XML_Char *data)
{
	struct stream_parser *p = ud;

	if (p->failed)
		return;
	note_event(p);
	if (p->depth > 1 || outside_too_big(p))
		return;
	p->mark = event_end(p);
}

static void on_pi(void *ud, const XML_Char *target, const XML_Char *data)
{
	on_comment(ud, NULL);
}

/* A DTD is how billion-laughs and external-entity attacks start; XMPP
 * forbids it (RFC 6120 section 11.1), so its first sign ends the stream. */
static void on_doctype(void *ud, const XML_Char *name, const XML_Char *sysid, const XML_Char *pubid,
                       int has_internal_subset)
{
	fail(ud, "DOCTYPE is not allowed in an XMPP stream");
}

static void on_entity_decl(void *ud, const XML_Char *name, int is_param, const XML_Char *value,
                           int value_len, const XML_Char *base, const XML_Char *sysid,
                           const XML_Char *pubid, const XML_Char *notation)
{
	fail(ud, "entity declarations are not allowed in an XMPP stream");
}

/* Without a DTD only the five predefined entities exist; anything else is
 * already an expat error. This catches an undeclared reference in case a
 * future expat lets one through. */
static void on_skipped_entity(void *ud, const XML_Char *name, int is_param)
{
	fail(ud, "undefined entity reference");
}

/* --- public -------------------------------------------------------------- */

struct stream_parser *stream_parser_new(const struct stream_limits *lim,
                                        const struct stream_callbacks *cb, void *ud)
{
	struct stream_parser *p = calloc(1, sizeof *p);

	if (!p)
		return NULL;
	if (lim)
		p->lim = *lim;
	if (!p->lim.max_stanza_bytes)
		p->lim.max_stanza_bytes = 65536;
	if (!p->lim.max_depth)
		p->lim.max_depth = 32;
	if (cb)
		p->cb = *cb;
	p->ud = ud;
	p->hard_bytes = p->lim.max_stanza_bytes > STREAM_HARD_MIN_BYTES / STREAM_HARD_FACTOR
	                        ? STREAM_HARD_FACTOR * p->lim.max_stanza_bytes
	                        : STREAM_HARD_MIN_BYTES;
	p->stack = calloc(p->lim.max_depth, sizeof *p->stack);
	/* Forcing UTF-8 overrides any encoding declaration: RFC 6120 allows
	 * only UTF-8, and it keeps the escaper's byte-exactness promise. */
	{
		static const XML_Char sep[] = { NS_SEP, '\0' };
		struct xmem_count *prev = xmem_charge(&p->expat_mem);

		p->xp = XML_ParserCreate_MM("UTF-8", &xmem_suite, sep);
		xmem_charge(prev);
	}
	if (!p->stack || !p->xp) {
		stream_parser_free(p);
		return NULL;
	}
	XML_SetUserData(p->xp, p);
	XML_SetElementHandler(p->xp, on_start, on_end);
	XML_SetCharacterDataHandler(p->xp, on_text);
	XML_SetCommentHandler(p->xp, on_comment);
	XML_SetProcessingInstructionHandler(p->xp, on_pi);
	XML_SetStartDoctypeDeclHandler(p->xp, on_doctype);
	XML_SetEntityDeclHandler(p->xp, on_entity_decl);
	XML_SetSkippedEntityHandler(p->xp, on_skipped_entity);
	XML_SetParamEntityParsing(p->xp, XML_PARAM_ENTITY_PARSING_NEVER);
#if XML_MAJOR_VERSION > 2 || (XML_MAJOR_VERSION == 2 && XML_MINOR_VERSION >= 6)
	/* Reparse deferral (expat 2.6) can hold back the last stanza of a
	 * read until more bytes arrive; on a stream that can be forever. */
	XML_SetReparseDeferralEnabled(p->xp, XML_FALSE);
#endif
	return p;
}

static void destroy(struct stream_parser *p)
{
	if (p->stack)
		xnode_free(p->stack[0].node);
	free(p->stack);
	xbuf_free(&p->hold);
	stream_head_clear(&p->head);
	if (p->xp) {
		struct xmem_count *prev = xmem_charge(&p->expat_mem);

		XML_ParserFree(p->xp);
		xmem_charge(prev);
	}
	free(p);
}

/* Where the bytes not yet accounted for began, and how many the stream may
 * hold there before it ends: the header; between stanzas (a top-level start
 * tag not yet complete); inside a stanza. */
static XML_Index pending_base(const struct stream_parser *p)
{
	return p->depth >= 2 ? p->stanza_start : p->mark;
}

static size_t pending_bound(const struct stream_parser *p)
{
	return p->depth == 0 ? p->lim.max_stanza_bytes : p->hard_bytes;
}

/* The next slice for expat: FEED_SLICE, or as much as the unfinished token
 * already is (so its rescans stay linear), never running more than one
 * FEED_SLICE past the bound that the check after the slice enforces. */
static size_t next_slice(const struct stream_parser *p, size_t left)
{
	size_t len = FEED_SLICE, used = (size_t)(p->fed - pending_base(p));
	size_t bound = pending_bound(p), room = used < bound ? bound - used : 0;
	XML_Index pending = p->fed - p->last_ev;

	if (p->depth > 0 && pending > FEED_SLICE)
		len = (size_t)pending;
	if (len > room)
		len = room > FEED_SLICE ? room : FEED_SLICE;
	return len < left ? len : left;
}

/* After a slice: bytes of an unfinished header, top-level tag or stanza
 * beyond their bound. Checked here too so that expat is never left to
 * buffer an endless token; the same checks run at every event. */
static void check_pending(struct stream_parser *p)
{
	size_t used = (size_t)(p->fed - pending_base(p));

	if (p->depth == 0) {
		if (used > p->lim.max_stanza_bytes)
			fail(p, "stream header larger than %zu bytes", p->lim.max_stanza_bytes);
	} else if (used > p->hard_bytes) {
		fail(p, HARD_SIZE_FMT, p->hard_bytes);
	} else if (p->depth >= 2 && used > p->lim.max_stanza_bytes) {
		begin_skip(p, NULL, NULL, "stanza larger than %zu bytes", p->lim.max_stanza_bytes);
	}
}

/* Hand buf to expat in slices, checking the bounds after each. */
static void feed_slices(struct stream_parser *p, const char *buf, size_t n)
{
	size_t off = 0;

	while (off < n && !p->failed && !p->closed && !p->free_pending) {
		size_t len = next_slice(p, n - off);

		if (XML_Parse(p->xp, buf + off, (int)len, XML_FALSE) != XML_STATUS_OK &&
		    !p->failed && !p->closed && !p->free_pending) {
			enum XML_Error e = XML_GetErrorCode(p->xp);

			fail(p, "XML error at line %lu column %lu: %s",
			     (unsigned long)XML_GetCurrentLineNumber(p->xp),
			     (unsigned long)XML_GetCurrentColumnNumber(p->xp) + 1,
			     XML_ErrorString(e));
		}
		off += len;
		p->fed += (XML_Index)len;
		if (!p->failed && !p->closed)
			check_pending(p);
	}
}

/* 1 if buf was kept back (see HOLD_MIN), 0 if it is to be parsed now. */
static int hold_back(struct stream_parser *p, const char *buf, size_t n)
{
	size_t pending = (size_t)(p->fed - p->last_ev);
	size_t need = p->mem.held + n;
	size_t used = (size_t)(p->fed - pending_base(p));

	/* Held bytes count towards the bound: past it they go to expat, and
	 * the check after the slice ends the stream. */
	if (p->depth == 0 || pending <= HOLD_MIN || need >= pending || memchr(buf, '>', n) ||
	    used + need > pending_bound(p))
		return 0;
	if (xbuf_append(&p->hold, buf, n) < 0)
		return 0; /* parse it now: slower, not wrong */
	p->mem.held = need;
	if (need > p->mem.held_peak)
		p->mem.held_peak = need;
	return 1;
}

int stream_parser_feed(struct stream_parser *p, const char *buf, size_t n)
{
	struct xmem_count *prev;

	if (p->failed)
		return -1;
	if (p->closed)
		return 0;
	if (p->feeding) {
		fail(p, "stream_parser_feed called from a stream callback");
		return -1;
	}
	if (n == 0 || hold_back(p, buf, n))
		return 0;
	p->feeding = 1;
	prev = xmem_charge(&p->expat_mem);
	if (p->mem.held) {
		size_t held = p->mem.held;

		p->mem.held = 0;
		feed_slices(p, p->hold.data, held);
		xbuf_reset(&p->hold);
	}
	feed_slices(p, buf, n);
	xmem_charge(prev);
	p->feeding = 0;
	if (p->free_pending) {
		destroy(p);
		return -1;
	}
	return p->failed ? -1 : 0;
}

const char *stream_parser_error(const struct stream_parser *p)
{
	return p->failed ? p->err : "";
}

void stream_parser_mem(const struct stream_parser *p, struct stream_mem *out)
{
	*out = p->mem;
	out->expat = p->expat_mem.now;
	out->expat_peak = p->expat_mem.peak;
}

void stream_parser_free(struct stream_parser *p)
{
	if (!p)
		return;
	if (p->feeding) {
		/* Called from a callback: expat is on the stack. Stop it and
		 * let stream_parser_feed free everything on its way out. */
		p->free_pending = 1;
		p->failed = 1; /* handlers expat still runs become no-ops */
		XML_StopParser(p->xp, XML_FALSE);
		return;
	}
	destroy(p);
}
