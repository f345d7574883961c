/* fuzz_stream: libFuzzer target for everything a server's bytes reach in
 * xpushd before any I/O decision: the stream parser, stanza_decode (and
 * stanza_decode_stream_error) and the JID helpers, plus the escaper's
 * round-trip promise. Besides crashes and sanitizer reports it traps on
 * broken properties:
 *   - the same bytes fed in one block and in slices give the same events;
 *   - a decode error is one non-empty line, only for REGISTER/UNREGISTER/
 *     PRESENCE, and can be sent back in an error reply;
 *   - an ack id that parses re-encodes to the same string;
 *   - any text or attribute the parser produced can be encoded and parses
 *     back byte-exact; xbuf_escape accepts exactly what utf8_xml_valid does.
 *
 * The first input byte picks the mode (low 2 bits) and the slice size. */
#include "jid.h"
#include "stanza.h"
#include "stream.h"
#include "utf8.h"
#include "xbuf.h"

#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define HDR "<?xml version='1.0'?><stream:stream xmlns:stream='http://etherx.jabber.org/streams'" \
	" xmlns='jabber:component:accept' from='push.example.org' id='abc'>"

#define ASSERT(c) do { if (!(c)) { \
	fprintf(stderr, "property failed: %s (%s:%d)\n", #c, __FILE__, __LINE__); \
	abort(); } } while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

enum { MODE_RAW, MODE_HEADER, MODE_ESCAPE, MODE_HEADER_TIGHT };

static const size_t slices[8] = { 0, 1, 2, 3, 7, 64, 4096, 0 };
static const struct stream_limits tight_stream = { 512, 4 };
static const struct stanza_limits tight_stanza = { 4, 2, 3, 5, 5, 3 };

struct run {
	struct xbuf log;
	int decode;  /* run the stanza checks on each stanza */
};

static void must(int rc)
{
	ASSERT(rc == 0);
}

static void dump(struct xbuf *b, const struct xnode *n)
{
	must(xbuf_printf(b, "(%s|%s", n->ns, n->name));
	for (char **a = n->attrs; *a; a += 2)
		must(xbuf_printf(b, " [%s]=[%s]", a[0], a[1]));
	must(xbuf_printf(b, " %zu:", n->text_len));
	must(xbuf_append(b, n->text, n->text_len));
	for (const struct xnode *c = n->children; c; c = c->next)
		dump(b, c);
	must(xbuf_puts(b, ")"));
}

struct rt_collect {
	struct xnode *st;
};

static void rt_on_stanza(void *ud, struct xnode *st)
{
	struct rt_collect *c = ud;

	if (c->st)
		xnode_free(st);
	else
		c->st = st;
}

/* Encode s as a notification title and collapse attribute, parse the bytes
 * back and demand the same bytes. */
static void round_trip(const char *s, size_t n)
{
	struct stream_callbacks cb = { .on_stanza = rt_on_stanza };
	struct rt_collect c = { NULL };
	struct notif_out no = { .from = "push.example.org", .to = "a@b/c", .notif_id = 1,
	                        .device_row = 2 };
	struct xbuf b = XBUF_INIT;
	struct stream_parser *p;
	const struct xnode *el, *title;
	int rc;

	if (strlen(s) != n)
		return;  /* embedded NUL: not a C string, encoders never see it */
	no.title = s;
	no.collapse = s;
	rc = stanza_encode_notification(&b, &no);
	ASSERT(rc == (utf8_xml_valid(s, n) ? 0 : -2));
	if (rc) {
		ASSERT(b.len == 0);
		xbuf_free(&b);
		return;
	}
	p = stream_parser_new(NULL, &cb, &c);
	ASSERT(p);
	ASSERT(stream_parser_feed(p, HDR, sizeof HDR - 1) == 0);
	rc = stream_parser_feed(p, b.data, b.len);
	if (rc)
		fprintf(stderr, "round trip parse failed: %s\n", stream_parser_error(p));
	/* What we encode always parses; only the 64 KiB default stanza limit
	 * may refuse it, and that costs the stanza, not the stream. */
	ASSERT(rc == 0);
	ASSERT(c.st || b.len > 65536);
	stream_parser_free(p);
	if (c.st) {
		ASSERT(c.st);
		el = xnode_child(c.st, "notification", XPUSH_NS);
		ASSERT(el);
		title = xnode_child(el, "title", XPUSH_NS);
		ASSERT(title && title->text_len == n && memcmp(title->text, s, n) == 0);
		ASSERT(strcmp(xnode_attr(el, "collapse"), s) == 0);
	}
	xnode_free(c.st);
	xbuf_free(&b);
}

static void check_tree_round_trip(const struct xnode *n, int *budget)
{
	for (; n && *budget > 0; n = n->next) {
		round_trip(n->text, n->text_len);
		(*budget)--;
		for (char **a = n->attrs; *a && *budget > 0; a += 2, (*budget)--)
			round_trip(a[1], strlen(a[1]));
		check_tree_round_trip(n->children, budget);
	}
}

static void check_decoded(const struct xnode *st, const struct stanza_limits *lim)
{
	struct stanza_in in;
	char err[128];
	struct xbuf b = XBUF_INIT;
	int rc = stanza_decode(st, lim, &in, err, sizeof err);

	ASSERT(rc == 0 || rc == -1);
	if (rc == -1) {
		ASSERT(in.kind == STANZA_REGISTER || in.kind == STANZA_UNREGISTER
		       || in.kind == STANZA_PRESENCE);
		ASSERT(err[0] && !strchr(err, '\n') && !strchr(err, '\r'));
		ASSERT(!in.app && !in.device && !in.alias && !in.platform && !in.ntags);
		/* The reason must be sendable as the <text/> of the reply. */
		ASSERT(stanza_encode_iq_error(&b, in.to, in.from, in.id, "modify", "bad-request",
		                              err) == 0);
	} else {
		ASSERT(err[0] == '\0');
	}
	if (rc == 0 && (in.kind == STANZA_REGISTER || in.kind == STANZA_UNREGISTER)) {
		ASSERT(in.app && in.device && in.from);
		ASSERT(stanza_encode_registered(&b, in.to, in.from, in.id, in.app, in.device,
		                                in.kind == STANZA_UNREGISTER) == 0);
	}
	if (in.kind == STANZA_REGISTER && rc == 0) {
		ASSERT(in.ntags <= STANZA_MAX_TAGS);
		for (size_t i = 0; i < in.ntags; i++)
			for (size_t j = i + 1; j < in.ntags; j++)
				ASSERT(strcmp(in.tags[i], in.tags[j]) != 0);
	}
	{
		const char *cond, *text;
		int is = stanza_decode_stream_error(st, &cond, &text);

		/* One reading of a stream error, whoever asks. */
		ASSERT(is == (in.kind == STANZA_STREAM_ERROR));
		if (in.kind == STANZA_STREAM_ERROR)
			ASSERT(cond == in.error_condition && text == in.error_text);
	}
	if (in.kind == STANZA_ACK || in.kind == STANZA_NACK) {
		char id[64];

		ASSERT(in.notif_id >= 0 && in.device_row >= 0);
		if (in.token || strchr(in.id + 3, '.') != strrchr(in.id + 3, '.'))
			snprintf(id, sizeof id, "%s.%" PRId64 ".%" PRId64 ".%" PRId64,
			         in.retract ? "xr" : "xp", in.notif_id, in.device_row, in.token);
		else
			snprintf(id, sizeof id, "%s.%" PRId64 ".%" PRId64, in.retract ? "xr" : "xp",
			         in.notif_id, in.device_row);
		ASSERT(strcmp(id, in.id) == 0);
	}
	if (in.kind == STANZA_PING || in.kind == STANZA_DISCO_INFO || in.kind == STANZA_IQ_UNKNOWN) {
		ASSERT(stanza_encode_iq_result(&b, in.to, in.from, in.id) == 0);
		ASSERT(stanza_encode_disco_info(&b, in.to, in.from, in.id) == 0);
	}
	if (in.from) {
		char bare[4096], dom[4096];

		if (jid_bare(in.from, bare, sizeof bare) == 0) {
			ASSERT(strncmp(bare, in.from, strlen(bare)) == 0);
			ASSERT(jid_domain(in.from, dom, sizeof dom) == 0);
			ASSERT(strstr(bare, dom) != NULL);
		} else {
			ASSERT(jid_domain(in.from, dom, sizeof dom) == -1);
		}
	}
	xbuf_free(&b);
}

static void on_open(void *ud, const char *id, const char *from)
{
	struct run *r = ud;

	must(xbuf_printf(&r->log, "open %s %s\n", id ? id : "-", from ? from : "-"));
}

static void on_stanza(void *ud, struct xnode *st)
{
	struct run *r = ud;

	dump(&r->log, st);
	must(xbuf_puts(&r->log, "\n"));
	if (r->decode) {
		int budget = 8;

		check_decoded(st, NULL);
		check_decoded(st, &tight_stanza);
		check_tree_round_trip(st, &budget);
	}
	xnode_free(st);
}

static void on_close(void *ud)
{
	struct run *r = ud;

	must(xbuf_puts(&r->log, "close\n"));
}

/* A refused stanza is an event like any other: the same whatever the
 * slicing, and its head must make a sendable error reply. */
static void on_refused(void *ud, const struct stanza_head *h, const char *reason)
{
	struct run *r = ud;
	struct xbuf b = XBUF_INIT;

	ASSERT(h->name && h->ns && reason[0] && !strchr(reason, '\n'));
	must(xbuf_printf(&r->log, "refused %s %s %s %s %s %s %zu %s\n", h->ns, h->name,
	                 h->from ? h->from : "-", h->to ? h->to : "-", h->id ? h->id : "-",
	                 h->type ? h->type : "-", h->bytes, reason));
	if (h->from && h->id && utf8_xml_valid(h->from, strlen(h->from))
	    && utf8_xml_valid(h->id, strlen(h->id)))
		ASSERT(stanza_encode_iq_error(&b, h->to, h->from, h->id, "modify", "policy-violation",
		                              reason) == 0);
	xbuf_free(&b);
}

static int feed(struct run *r, const struct stream_limits *lim, int header,
                const uint8_t *data, size_t size, size_t slice, char *err, size_t errlen)
{
	static const struct stream_callbacks cb = { on_open, on_stanza, on_close, on_refused };
	struct stream_parser *p = stream_parser_new(lim, &cb, r);
	struct stream_mem mem;
	int rc = 0;

	ASSERT(p);
	if (header)
		ASSERT(stream_parser_feed(p, HDR, sizeof HDR - 1) == 0);
	for (size_t off = 0; rc == 0 && off < size;) {
		size_t len = slice && size - off > slice ? slice : size - off;

		rc = stream_parser_feed(p, (const char *)data + off, len);
		off += len;
	}
	ASSERT(rc == 0 || rc == -1);
	snprintf(err, errlen, "%s", stream_parser_error(p));
	ASSERT((rc == 0) == (err[0] == '\0'));
	ASSERT(!strchr(err, '\n'));
	if (rc == -1)
		ASSERT(stream_parser_feed(p, "<a/>", 4) == -1);
	/* Whatever the input, expat's memory stays within the bound of
	 * stream.h (4 times the hard bound) and nothing is held back below
	 * HOLD_MIN (64 KiB). */
	stream_parser_mem(p, &mem);
	ASSERT(mem.expat_peak <= 4 * STREAM_HARD_MIN_BYTES);
	ASSERT(size > 65536 || mem.held_peak == 0);
	stream_parser_free(p);
	return rc;
}

static int is_expat_error(const char *err)
{
	return strncmp(err, "XML error at ", 13) == 0;
}

static void fuzz_stream(const uint8_t *data, size_t size, int header,
                        const struct stream_limits *lim, size_t slice)
{
	struct run a = { XBUF_INIT, 1 }, b = { XBUF_INIT, 0 };
	char ea[256], eb[256];
	int ra, rb;

	ra = feed(&a, lim, header, data, size, 0, ea, sizeof ea);
	rb = feed(&b, lim, header, data, size, slice ? slice : 1, eb, sizeof eb);
	/* Same events however the bytes are sliced: that is what lets the
	 * daemon read whatever the socket gives it. Expat itself is not fully
	 * slice-independent at document start: fed a few bytes of garbage in
	 * one call it may defer judging them (status OK) where the same bytes
	 * fed one by one are refused, and its error code and column for
	 * garbage can differ with slicing. Those are allowed only before the
	 * stream opened and only for expat's own errors; our checks (DOCTYPE,
	 * root, depth, ...) must agree exactly. The size bound is also checked
	 * between slices, so it may fire before expat judges a token. */
	ASSERT(a.log.len == b.log.len);
	ASSERT(a.log.len == 0 || memcmp(a.log.data, b.log.data, a.log.len) == 0);
	if (ra != rb) {
		ASSERT(is_expat_error(ra ? ea : eb));
		ASSERT(a.log.len == 0);
	} else if (strcmp(ea, eb) != 0 && !(is_expat_error(ea) && is_expat_error(eb))) {
		fprintf(stderr, "block: %s\nslice %zu: %s\n", ea, slice ? slice : 1, eb);
		ASSERT(strstr(ea, "larger than") || strstr(eb, "larger than")
		       || (a.log.len == 0 && (is_expat_error(ea) || is_expat_error(eb))));
	}
	xbuf_free(&a.log);
	xbuf_free(&b.log);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t mode;
	size_t slice;

	if (size < 1)
		return 0;
	mode = data[0];
	slice = slices[(mode >> 2) & 7];
	data++;
	size--;
	switch (mode & 3) {
	case MODE_RAW:
		fuzz_stream(data, size, 0, NULL, slice);
		break;
	case MODE_HEADER:
		fuzz_stream(data, size, 1, NULL, slice);
		break;
	case MODE_HEADER_TIGHT:
		fuzz_stream(data, size, 1, &tight_stream, slice);
		break;
	case MODE_ESCAPE: {
		struct xbuf b = XBUF_INIT;
		int valid = utf8_xml_valid((const char *)data, size);
		int rc;

		must(xbuf_puts(&b, "x"));
		rc = xbuf_escape(&b, (const char *)data, size);
		ASSERT(rc == (valid ? 0 : -2));
		ASSERT(rc == 0 || (b.len == 1 && strcmp(b.data, "x") == 0));
		xbuf_free(&b);
		if (memchr(data, '\0', size) == NULL) {
			char *s = strndup((const char *)data, size);

			ASSERT(s);
			round_trip(s, size);
			free(s);
		}
		break;
	}
	}
	return 0;
}
