/* stream: the XEP-0114 stream parser. It owns the expat parser, the stanza
 * being built, and the limits that keep a hostile or broken server from
 * costing us unbounded memory or CPU (DOCTYPE and entity declarations are
 * refused outright; stanza bytes and depth are bounded). It must not do I/O
 * or log: the first error is kept as one line for the caller to report. */
#include "stream.h"

#include <expat.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Expat reports "uri<SEP>local" for namespaced names. A space cannot occur
 * in an XML local name, and expat >= 2.4.5 refuses namespace URIs that
 * contain the separator, so splitting at the last space is unambiguous. */
#define NS_SEP ' '
#define STREAM_ROOT STREAM_NS " stream"

/* Bytes handed to expat per XML_Parse call. The size limit is checked
 * between slices, so expat never buffers more than limit + one slice of an
 * unfinished stanza. */
#define FEED_SLICE 4096

struct frame {
	struct xnode *node;
	struct xnode *last_child;  /* append point, keeps children in order */
	size_t text_cap;
};

struct stream_parser {
	XML_Parser xp;
	struct stream_limits lim;
	struct stream_callbacks cb;
	void *ud;

	unsigned depth;            /* 0 outside the root, 1 inside <stream:stream> */
	struct frame *stack;       /* frames of the stanza being built, lim.max_depth deep */
	XML_Index fed;             /* bytes given to expat so far */
	XML_Index mark;            /* end of the last thing we fully consumed */
	XML_Index stanza_start;    /* offset of the current stanza's start tag */

	int failed;
	int closed;                /* </stream:stream> seen: ignore the rest */
	int feeding;               /* inside stream_parser_feed: callbacks may run */
	int free_pending;          /* stream_parser_free called from a callback */
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

/* --- xnode --------------------------------------------------------------- */

const char *xnode_attr(const struct xnode *n, const char *name)
{
	if (!n || !n->attrs)
		return NULL;
	for (char **a = n->attrs; a[0]; a += 2)
		if (strcmp(a[0], name) == 0)
			return a[1];
	return NULL;
}

const struct xnode *xnode_child(const struct xnode *n, const char *name, const char *ns)
{
	if (!n)
		return NULL;
	for (const struct xnode *c = n->children; c; c = c->next)
		if (strcmp(c->name, name) == 0 && (!ns || strcmp(c->ns, ns) == 0))
			return c;
	return NULL;
}

const char *xnode_child_text(const struct xnode *n, const char *name)
{
	const struct xnode *c = xnode_child(n, name, NULL);

	return c ? c->text : NULL;
}

/* Iterative over siblings so a long flat stanza does not recurse; depth is
 * bounded by max_depth. */
void xnode_free(struct xnode *n)
{
	while (n) {
		struct xnode *next = n->next;

		xnode_free(n->children);
		if (n->attrs)
			for (char **a = n->attrs; *a; a++)
				free(*a);
		free(n->attrs);
		free(n->name);
		free(n->ns);
		free(n->text);
		free(n);
		n = next;
	}
}

/* Split expat's "uri local" into two owned strings. */
static int split_name(const char *qname, char **ns, char **local)
{
	const char *sep = strrchr(qname, NS_SEP);

	if (sep) {
		*ns = strndup(qname, (size_t)(sep - qname));
		*local = strdup(sep + 1);
	} else {
		*ns = strdup("");
		*local = strdup(qname);
	}
	if (!*ns || !*local) {
		free(*ns);
		free(*local);
		*ns = *local = NULL;
		return -1;
	}
	return 0;
}

static struct xnode *node_new(const char *qname, const char **atts)
{
	struct xnode *n = calloc(1, sizeof *n);
	size_t count = 0;

	if (!n)
		return NULL;
	if (split_name(qname, &n->ns, &n->name) < 0)
		goto fail;
	while (atts[count])
		count++;
	n->attrs = calloc(count + 1, sizeof *n->attrs);
	if (!n->attrs)
		goto fail;
	for (size_t i = 0; i < count; i++) {
		n->attrs[i] = strdup(atts[i]);
		if (!n->attrs[i])
			goto fail;
	}
	return n;
fail:
	xnode_free(n);
	return NULL;
}

/* --- expat handlers ------------------------------------------------------ */

static XML_Index event_end(struct stream_parser *p)
{
	return XML_GetCurrentByteIndex(p->xp) + XML_GetCurrentByteCount(p->xp);
}

/* Bytes outside any stanza since the last thing we consumed: the prolog
 * and header, or comments and PIs between stanzas. Same bound as a stanza,
 * checked at the event so a feed in one block agrees with one in slices. */
static int outside_too_big(struct stream_parser *p)
{
	XML_Index used = event_end(p) - p->mark;

	if (used < 0 || (size_t)used <= p->lim.max_stanza_bytes)
		return 0;
	fail(p, "%s larger than %zu bytes", p->depth ? "stanza" : "stream header",
	     p->lim.max_stanza_bytes);
	return 1;
}

/* Bytes of the current stanza up to the end of the current event. */
static int stanza_too_big(struct stream_parser *p)
{
	XML_Index used = event_end(p) - p->stanza_start;

	if (used < 0 || (size_t)used <= p->lim.max_stanza_bytes)
		return 0;
	fail(p, "stanza larger than %zu bytes", p->lim.max_stanza_bytes);
	return 1;
}

static void on_start(void *ud, const XML_Char *qname, const XML_Char **atts)
{
	struct stream_parser *p = ud;
	struct xnode *n;
	struct frame *f;

	if (p->failed)
		return;
	if (p->depth == 0) {
		if (strcmp(qname, STREAM_ROOT) != 0) {
			const char *sep = strrchr(qname, NS_SEP);
			int nslen = sep && sep - qname < 60 ? (int)(sep - qname) : 60;

			if (sep)
				fail(p, "stream root is <%.40s> in namespace '%.*s', expected "
				     "<stream:stream>", sep + 1, nslen, qname);
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
	if (p->depth == 1)
		p->stanza_start = XML_GetCurrentByteIndex(p->xp);
	if (stanza_too_big(p))
		return;
	if (p->depth - 1 >= p->lim.max_depth) {
		fail(p, "stanza nested deeper than %u elements", p->lim.max_depth);
		return;
	}
	n = node_new(qname, atts);
	if (!n) {
		fail(p, "out of memory");
		return;
	}
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
	struct xnode *n, *st;

	if (p->failed)
		return;
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
	if (stanza_too_big(p))
		return;
	n = p->stack[p->depth - 2].node;
	if (!n->text) {
		/* Callers get "" for an empty element, never NULL. */
		n->text = calloc(1, 1);
		if (!n->text) {
			fail(p, "out of memory");
			return;
		}
	}
	p->depth--;
	if (p->depth > 1)
		return;
	/* Detach before the callback: it owns the tree from here on, and
	 * nothing in our state may point into it if it frees it at once. */
	st = p->stack[0].node;
	p->stack[0].node = NULL;
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
	struct xnode *n;
	size_t need;

	if (p->failed || len <= 0)
		return;
	if (p->depth <= 1) {
		/* Whitespace keepalives between stanzas. Text that is not
		 * whitespace directly in the stream is dropped as XEP-0114
		 * servers never send it; it still counts as consumed so a
		 * long run of keepalives does not trip the size limit. */
		p->mark = event_end(p);
		return;
	}
	if (stanza_too_big(p))
		return;
	f = &p->stack[p->depth - 2];
	n = f->node;
	need = n->text_len + (size_t)len + 1;
	if (need > f->text_cap) {
		size_t cap = f->text_cap ? f->text_cap : 32;
		char *t;

		while (cap < need)
			cap *= 2;
		t = realloc(n->text, cap);
		if (!t) {
			fail(p, "out of memory");
			return;
		}
		n->text = t;
		f->text_cap = cap;
	}
	memcpy(n->text + n->text_len, s, (size_t)len);
	n->text_len += (size_t)len;
	n->text[n->text_len] = '\0';
}

/* Comments and processing instructions carry nothing for us. Between
 * stanzas they still advance the consumed mark. */
static void on_comment(void *ud, const XML_Char *data)
{
	struct stream_parser *p = ud;

	if (p->failed || p->depth > 1 || outside_too_big(p))
		return;
	p->mark = event_end(p);
}

static void on_pi(void *ud, const XML_Char *target, const XML_Char *data)
{
	on_comment(ud, NULL);
}

/* A DTD is how billion-laughs and external-entity attacks start; XMPP
 * forbids it (RFC 6120 section 11.1), so its first sign ends the stream. */
static void on_doctype(void *ud, const XML_Char *name, const XML_Char *sysid,
                       const XML_Char *pubid, int has_internal_subset)
{
	fail(ud, "DOCTYPE is not allowed in an XMPP stream");
}

static void on_entity_decl(void *ud, const XML_Char *name, int is_param,
                           const XML_Char *value, int value_len, const XML_Char *base,
                           const XML_Char *sysid, const XML_Char *pubid,
                           const XML_Char *notation)
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
	p->stack = calloc(p->lim.max_depth, sizeof *p->stack);
	/* Forcing UTF-8 overrides any encoding declaration: RFC 6120 allows
	 * only UTF-8, and it keeps the escaper's byte-exactness promise. */
	p->xp = XML_ParserCreateNS("UTF-8", NS_SEP);
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
	if (p->xp)
		XML_ParserFree(p->xp);
	free(p);
}

int stream_parser_feed(struct stream_parser *p, const char *buf, size_t n)
{
	size_t off = 0;

	if (p->failed)
		return -1;
	if (p->closed)
		return 0;
	if (p->feeding) {
		fail(p, "stream_parser_feed called from a stream callback");
		return -1;
	}
	p->feeding = 1;
	while (off < n && !p->failed && !p->closed && !p->free_pending) {
		size_t len = n - off < FEED_SLICE ? n - off : FEED_SLICE;

		if (XML_Parse(p->xp, buf + off, (int)len, XML_FALSE) != XML_STATUS_OK
		    && !p->failed && !p->closed && !p->free_pending) {
			enum XML_Error e = XML_GetErrorCode(p->xp);

			fail(p, "XML error at line %lu column %lu: %s",
			     (unsigned long)XML_GetCurrentLineNumber(p->xp),
			     (unsigned long)XML_GetCurrentColumnNumber(p->xp) + 1,
			     XML_ErrorString(e));
		}
		off += len;
		p->fed += (XML_Index)len;
		/* An unfinished stanza (or junk before one) that already
		 * exceeds the limit: refuse it before expat buffers more. */
		if (!p->failed && !p->closed
		    && (size_t)(p->fed - p->mark) > p->lim.max_stanza_bytes)
			fail(p, "%s larger than %zu bytes",
			     p->depth ? "stanza" : "stream header", p->lim.max_stanza_bytes);
	}
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

void stream_parser_free(struct stream_parser *p)
{
	if (!p)
		return;
	if (p->feeding) {
		/* Called from a callback: expat is on the stack. Stop it and
		 * let stream_parser_feed free everything on its way out. */
		p->free_pending = 1;
		p->failed = 1;  /* handlers expat still runs become no-ops */
		XML_StopParser(p->xp, XML_FALSE);
		return;
	}
	destroy(p);
}
