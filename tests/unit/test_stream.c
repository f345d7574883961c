/* test_stream: the XEP-0114 stream parser. Every document is fed in one
 * block, one byte at a time and in 7-byte slices, and the three runs must
 * produce the same events and trees (or the same error). */
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
	int opens, closes, stanzas;
	struct xnode *keep[MAX_KEEP];
	int rc;
	char err[200];
	/* misbehaving-callback switches */
	int free_on_stanza, free_on_open, free_on_close, feed_on_stanza;
	int inner_rc;
};

static void must(int rc)
{
	if (rc) {
		fprintf(stderr, "allocation failed in test\n");
		abort();
	}
}

static void dump(struct xbuf *b, const struct xnode *n)
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

static void cb_open(void *ud, const char *id, const char *from)
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

static void cb_stanza(void *ud, struct xnode *st)
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

static void cb_close(void *ud)
{
	struct run *r = ud;

	r->closes++;
	must(xbuf_puts(&r->log, "close\n"));
	if (r->free_on_close) {
		stream_parser_free(r->p);
		r->p = NULL;
	}
}

static const struct stream_callbacks callbacks = { cb_open, cb_stanza, cb_close };

/* Feed doc in slices of `chunk` bytes (0: all at once). */
static void run_doc(struct run *r, const char *doc, size_t n, size_t chunk,
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
		stream_parser_free(r->p);
		r->p = NULL;
	}
}

static void run_free(struct run *r)
{
	for (int i = 0; i < r->stanzas && i < MAX_KEEP; i++)
		xnode_free(r->keep[i]);
	xbuf_free(&r->log);
	memset(r, 0, sizeof *r);
}

static const size_t chunks[] = { 0, 1, 7 };
#define NCHUNKS (sizeof chunks / sizeof chunks[0])

/* Run doc in every mode; all runs must agree. Returns the block run. */
static void run_all(struct run *block, const char *doc, size_t n, const struct stream_limits *lim)
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

static void test_header_and_close(void)
{
	struct run r;
	static const char doc[] = HDR END;

	run_all(&r, doc, sizeof doc - 1, NULL);
	CHECK_INT(r.rc, 0);
	CHECK_INT(r.opens, 1);
	CHECK_INT(r.closes, 1);
	CHECK_INT(r.stanzas, 0);
	CHECK_STR(r.log.data, "open id=abc from=push.example.org\nclose\n");
	run_free(&r);
}

static void test_header_without_attrs(void)
{
	struct run r;
	static const char doc[] = "<stream:stream xmlns:stream='" STREAM_NS "'>";

	run_all(&r, doc, sizeof doc - 1, NULL);
	CHECK_INT(r.rc, 0);
	CHECK_STR(r.log.data, "open id=(null) from=(null)\n");
	run_free(&r);
}

/* Documents that must parse identically in every mode; the expected log of
 * the stanzas only (after the open line). */
static void test_trees_table(void)
{
	static const struct { const char *doc; const char *log; } cases[] = {
		{ HDR "<handshake/>",
		  "(jabber:component:accept|handshake text0:)\n" },
		{ HDR " \n\t<iq type='get' id='p1'><ping xmlns='urn:xmpp:ping'/></iq>  ",
		  "(jabber:component:accept|iq [type]=[get] [id]=[p1] text0:"
		  "(urn:xmpp:ping|ping text0:))\n" },
		{ HDR "<message><body>a&lt;&amp;&#x65E5;&#26412;<![CDATA[<x>]]>b</body></message>",
		  "(jabber:component:accept|message text0:(jabber:component:accept|body text13:"
		  "a<&\xe6\x97\xa5\xe6\x9c\xac<x>b))\n" },
		{ HDR "<message><body>a<!--c--><?pi x?>b</body></message>",
		  "(jabber:component:accept|message text0:(jabber:component:accept|body text2:ab))\n" },
		{ HDR "<iq xmlns:x='urn:x' x:foo='1' xml:lang='en' a=\"&quot;'\"/>",
		  "(jabber:component:accept|iq [urn:x foo]=[1]"
		  " [http://www.w3.org/XML/1998/namespace lang]=[en] [a]=[\"'] text0:)\n" },
		{ HDR "<a/><b/><c><d/><e/><f>t</f></c>",
		  "(jabber:component:accept|a text0:)\n(jabber:component:accept|b text0:)\n"
		  "(jabber:component:accept|c text0:(jabber:component:accept|d text0:)"
		  "(jabber:component:accept|e text0:)(jabber:component:accept|f text1:t))\n" },
		{ HDR "<stream:error><conflict xmlns='urn:ietf:params:xml:ns:xmpp-streams'/>"
		  "</stream:error>" END,
		  "(http://etherx.jabber.org/streams|error text0:"
		  "(urn:ietf:params:xml:ns:xmpp-streams|conflict text0:))\nclose\n" },
		{ HDR "<x xmlns=''/>", "(|x text0:)\n" },
		/* A CR in character data is line-end normalised; &#13; is not. */
		{ HDR "<m>a\r\nb&#13;</m>", "(jabber:component:accept|m text4:a\nb\r)\n" },
	};

	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		struct run r;
		struct xbuf want = XBUF_INIT;

		run_all(&r, cases[i].doc, strlen(cases[i].doc), NULL);
		CHECK_INT(r.rc, 0);
		CHECK_STR(r.err, "");
		must(xbuf_puts(&want, "open id=abc from=push.example.org\n"));
		must(xbuf_puts(&want, cases[i].log));
		CHECK_STR(r.log.data, want.data);
		xbuf_free(&want);
		run_free(&r);
	}
}

static void test_xnode_accessors(void)
{
	struct run r;
	static const char doc[] = HDR "<iq type='set' id='r1'><register xmlns='urn:xpush:0'"
		" app='a'><alias>al</alias><tag/></register></iq>";
	const struct xnode *st, *reg;

	run_all(&r, doc, sizeof doc - 1, NULL);
	CHECK_INT(r.stanzas, 1);
	st = r.keep[0];
	CHECK_STR(xnode_attr(st, "type"), "set");
	CHECK(xnode_attr(st, "nope") == NULL);
	reg = xnode_child(st, "register", "urn:xpush:0");
	CHECK(reg != NULL);
	CHECK(xnode_child(st, "register", NULL) == reg);
	CHECK(xnode_child(st, "register", "urn:other") == NULL);
	CHECK(xnode_child(NULL, "register", NULL) == NULL);
	CHECK_STR(xnode_child_text(reg, "alias"), "al");
	CHECK_STR(xnode_child_text(reg, "tag"), "");
	CHECK(xnode_child_text(reg, "platform") == NULL);
	CHECK(xnode_attr(NULL, "x") == NULL);
	xnode_free(NULL);
	run_free(&r);
}

static void test_many_stanzas_one_block(void)
{
	struct xbuf doc = XBUF_INIT;
	struct run r;

	must(xbuf_puts(&doc, HDR));
	for (int i = 0; i < 500; i++)
		must(xbuf_printf(&doc, "<presence from='u%d@example.org/r'/> ", i));
	must(xbuf_puts(&doc, END));
	run_all(&r, doc.data, doc.len, NULL);
	CHECK_INT(r.rc, 0);
	CHECK_INT(r.stanzas, 500);
	CHECK_INT(r.closes, 1);
	CHECK_STR(xnode_attr(r.keep[3], "from"), "u3@example.org/r");
	run_free(&r);
	xbuf_free(&doc);
}

/* Documents every mode must refuse, with the error naming the cause. */
static void test_refused_table(void)
{
	static const struct stream_limits small = { 200, 4 };
	static const struct {
		const char *why, *doc, *err;
		const struct stream_limits *lim;
		int stanzas_before;
	} cases[] = {
		{ "doctype", "<?xml version='1.0'?><!DOCTYPE stream:stream>" HDR,
		  "DOCTYPE is not allowed in an XMPP stream", NULL, 0 },
		{ "billion laughs", "<?xml version='1.0'?><!DOCTYPE lolz ["
		  "<!ENTITY lol 'lol'>"
		  "<!ENTITY lol2 '&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;'>"
		  "<!ENTITY lol3 '&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;'>"
		  "<!ENTITY lol4 '&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;'>"
		  "<!ENTITY lol5 '&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;'>"
		  "<!ENTITY lol6 '&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;'>"
		  "<!ENTITY lol7 '&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;'>"
		  "<!ENTITY lol8 '&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;'>"
		  "<!ENTITY lol9 '&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;'>"
		  "]>" HDR "<message><body>&lol9;</body></message>",
		  "DOCTYPE is not allowed in an XMPP stream", NULL, 0 },
		{ "external entity", "<!DOCTYPE s [<!ENTITY x SYSTEM 'file:///etc/passwd'>]>"
		  HDR "<m>&x;</m>", "DOCTYPE is not allowed in an XMPP stream", NULL, 0 },
		{ "doctype mid-stream", HDR "<a/><!DOCTYPE x>", "XML error at line 1 column ",
		  NULL, 1 },
		{ "undefined entity", HDR "<m>&foo;</m>", "undefined entity", NULL, 0 },
		{ "http garbage", "GET / HTTP/1.1\r\nHost: x\r\n\r\n",
		  "XML error at line 1 column 1: syntax error", NULL, 0 },
		{ "binary garbage", "\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03",
		  "XML error at line 1 column 1: ", NULL, 0 },
		{ "stanza before header", "<iq type='get'/>",
		  "stream root is <iq>, expected <stream:stream>", NULL, 0 },
		{ "wrong stream ns", "<stream:stream xmlns:stream='jabber:client'>",
		  "stream root is <stream> in namespace 'jabber:client', expected <stream:stream>",
		  NULL, 0 },
		{ "newline in ns", "<s:stream xmlns:s='a&#10;b'>",
		  "stream root is <stream> in namespace 'a?b', expected <stream:stream>", NULL, 0 },
		{ "mismatched tag", HDR "<iq></message>", "mismatched tag", NULL, 0 },
		{ "unbound prefix", HDR "<x:iq/>", "unbound prefix", NULL, 0 },
		{ "NUL byte", HDR "<m>a\0b</m>", "not well-formed", NULL, 0 },
		{ "control char", HDR "<m>a\x01</m>", "not well-formed", NULL, 0 },
		{ "control char ref", HDR "<m>&#1;</m>", "reference to invalid character", NULL, 0 },
		{ "invalid utf-8", HDR "<m>\xc3\x28</m>", "not well-formed", NULL, 0 },
		{ "surrogate", HDR "<m>\xed\xa0\x80</m>", "not well-formed", NULL, 0 },
		/* UTF-8 is forced: a Latin-1 declaration does not make 0xfc legal. */
		{ "latin-1 declared", "<?xml version='1.0' encoding='ISO-8859-1'?>"
		  "<stream:stream xmlns:stream='" STREAM_NS "'><m>\xfc</m>",
		  "not well-formed", NULL, 0 },
		{ "too deep", HDR "<a><b><c><d><e/></d></c></b></a>",
		  "stanza nested deeper than 4 elements", &small, 0 },
		{ "oversize", HDR "<a/><m>"
		  "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
		  "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
		  "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
		  "</m>", "stanza larger than 200 bytes", &small, 1 },
		{ "oversize header", "<stream:stream xmlns:stream='" STREAM_NS "' id='"
		  "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
		  "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
		  "'>", "stream header larger than 200 bytes", &small, 0 },
		{ "oversize comment between stanzas", HDR "<a/><!--"
		  "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
		  "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
		  "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
		  "--><b/>", "stanza larger than 200 bytes", &small, 1 },
		{ "oversize attribute", HDR "<m a='"
		  "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
		  "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
		  "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
		  "'/>", "stanza larger than 200 bytes", &small, 0 },
	};

	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		struct run r;
		/* sizeof would stop at an embedded NUL with strlen. */
		size_t n = strlen(cases[i].doc);

		if (strcmp(cases[i].why, "NUL byte") == 0)
			n += 1 + strlen(cases[i].doc + n + 1);
		run_all(&r, cases[i].doc, n, cases[i].lim);
		CHECK_INT(r.rc, -1);
		CHECK(strstr(r.err, cases[i].err) != NULL);
		CHECK(strchr(r.err, '\n') == NULL);
		CHECK_INT(r.stanzas, cases[i].stanzas_before);
		if (getenv("TEST_VERBOSE") || r.rc != -1 || !strstr(r.err, cases[i].err))
			fprintf(stderr, "  case %s: rc=%d err=%s\n", cases[i].why, r.rc, r.err);
		run_free(&r);
	}
}

/* Build HDR + <m>xxx</m> whose stanza is exactly `size` bytes. */
static void sized_doc(struct xbuf *doc, size_t size)
{
	must(xbuf_puts(doc, HDR "<m>"));
	for (size_t i = 0; i < size - 7; i++)
		must(xbuf_puts(doc, "x"));
	must(xbuf_puts(doc, "</m>"));
}

static void test_size_limit_exact(void)
{
	static const struct stream_limits lim = { 300, 0 };
	struct xbuf doc = XBUF_INIT;
	struct run r;

	sized_doc(&doc, 300);
	run_all(&r, doc.data, doc.len, &lim);
	CHECK_INT(r.rc, 0);
	CHECK_INT(r.stanzas, 1);
	run_free(&r);
	xbuf_reset(&doc);
	sized_doc(&doc, 301);
	run_all(&r, doc.data, doc.len, &lim);
	CHECK_INT(r.rc, -1);
	CHECK_STR(r.err, "stanza larger than 300 bytes");
	CHECK_INT(r.stanzas, 0);
	run_free(&r);
	xbuf_free(&doc);
}

static void test_depth_limit_exact(void)
{
	static const struct stream_limits lim = { 0, 3 };
	static const char ok[] = HDR "<a><b><c/></b></a>";
	static const char deep[] = HDR "<a><b><c><d/></c></b></a>";
	struct run r;

	run_all(&r, ok, sizeof ok - 1, &lim);
	CHECK_INT(r.rc, 0);
	CHECK_INT(r.stanzas, 1);
	run_free(&r);
	run_all(&r, deep, sizeof deep - 1, &lim);
	CHECK_INT(r.rc, -1);
	CHECK_STR(r.err, "stanza nested deeper than 3 elements");
	run_free(&r);
}

/* Expat must not be left to buffer an endless unfinished stanza: the feed
 * fails long before the megabyte is in. */
static void test_unfinished_stanza_bounded(void)
{
	static const struct stream_limits lim = { 1000, 0 };
	struct stream_parser *p;
	struct run r;
	char chunk[4096];
	int rc = 0;
	size_t fed = 0;

	memset(&r, 0, sizeof r);
	p = stream_parser_new(&lim, &callbacks, &r);
	r.p = p;
	CHECK_INT(stream_parser_feed(p, HDR "<m a='", sizeof HDR + 5), 0);
	memset(chunk, 'x', sizeof chunk);
	while (rc == 0 && fed < (1 << 20)) {
		rc = stream_parser_feed(p, chunk, sizeof chunk);
		fed += sizeof chunk;
	}
	CHECK_INT(rc, -1);
	CHECK(fed <= 2 * sizeof chunk);
	CHECK_STR(stream_parser_error(p), "stanza larger than 1000 bytes");
	stream_parser_free(p);
	run_free(&r);
}

/* Whitespace keepalives are not part of any stanza. (The limit also bounds
 * the stream header, which is 156 bytes here.) */
static void test_keepalives_do_not_count(void)
{
	static const struct stream_limits lim = { 200, 0 };
	struct stream_parser *p;
	struct run r;
	char spaces[1000];

	memset(&r, 0, sizeof r);
	memset(spaces, ' ', sizeof spaces);
	p = stream_parser_new(&lim, &callbacks, &r);
	r.p = p;
	CHECK_INT(stream_parser_feed(p, HDR, sizeof HDR - 1), 0);
	for (int i = 0; i < 200; i++)
		CHECK_INT(stream_parser_feed(p, spaces, (i % 2) ? sizeof spaces : 1), 0);
	CHECK_INT(stream_parser_feed(p, "<a/><!-- c --> ", 15), 0);
	for (int i = 0; i < 200; i++)
		CHECK_INT(stream_parser_feed(p, " ", 1), 0);
	CHECK_INT(stream_parser_feed(p, "<b/>", 4), 0);
	CHECK_INT(r.stanzas, 2);
	CHECK_STR(stream_parser_error(p), "");
	stream_parser_free(p);
	run_free(&r);
}

/* After </stream:stream> the stream is over: nothing later is parsed, not
 * even a stanza in the same read. */
static void test_after_close_ignored(void)
{
	static const char doc[] = HDR "<a/>" END "<iq/>junk\x01";
	struct run r;

	run_all(&r, doc, sizeof doc - 1, NULL);
	CHECK_INT(r.rc, 0);
	CHECK_INT(r.stanzas, 1);
	CHECK_INT(r.closes, 1);
	CHECK_STR(r.err, "");
	run_free(&r);
}

static void test_error_is_sticky(void)
{
	struct stream_parser *p = stream_parser_new(NULL, NULL, NULL);
	char first[200];

	CHECK(p != NULL);
	CHECK_INT(stream_parser_feed(p, "<bad", 4), 0);
	CHECK_INT(stream_parser_feed(p, " </x>", 5), -1);
	snprintf(first, sizeof first, "%s", stream_parser_error(p));
	CHECK(first[0] != '\0');
	CHECK_INT(stream_parser_feed(p, HDR, sizeof HDR - 1), -1);
	CHECK_STR(stream_parser_error(p), first);
	stream_parser_free(p);
	stream_parser_free(NULL);
}

/* No callbacks at all: stanzas are freed by the parser (leak-checked). */
static void test_no_callbacks(void)
{
	struct stream_parser *p = stream_parser_new(NULL, NULL, NULL);
	static const char doc[] = HDR "<iq><q a='1'>t</q></iq><m/>" END;

	CHECK_INT(stream_parser_feed(p, doc, sizeof doc - 1), 0);
	stream_parser_free(p);
	/* Freed mid-stanza: the half-built tree goes too. */
	p = stream_parser_new(NULL, NULL, NULL);
	CHECK_INT(stream_parser_feed(p, HDR "<iq><q a='1'>te", sizeof HDR + 14), 0);
	stream_parser_free(p);
}

/* A callback that frees the parser must not make the feed touch freed
 * memory (ASan/valgrind check this), and no further event may fire. */
static void test_callback_frees_parser(void)
{
	static const char doc[] = HDR "<a/><b/><c/>" END;
	struct run r;

	for (size_t c = 0; c < NCHUNKS; c++) {
		memset(&r, 0, sizeof r);
		r.free_on_stanza = 1;
		run_doc(&r, doc, sizeof doc - 1, chunks[c], NULL);
		CHECK_INT(r.rc, -1);
		CHECK(r.p == NULL);
		CHECK_INT(r.stanzas, 1);
		CHECK_INT(r.closes, 0);
		run_free(&r);

		memset(&r, 0, sizeof r);
		r.free_on_open = 1;
		run_doc(&r, doc, sizeof doc - 1, chunks[c], NULL);
		CHECK_INT(r.rc, -1);
		CHECK_INT(r.opens, 1);
		CHECK_INT(r.stanzas, 0);
		run_free(&r);

		memset(&r, 0, sizeof r);
		r.free_on_close = 1;
		run_doc(&r, doc, sizeof doc - 1, chunks[c], NULL);
		CHECK_INT(r.rc, -1);
		CHECK_INT(r.stanzas, 3);
		CHECK_INT(r.closes, 1);
		run_free(&r);
	}
}

static void test_callback_reenters(void)
{
	static const char doc[] = HDR "<a/><b/>";
	struct run r;

	memset(&r, 0, sizeof r);
	r.feed_on_stanza = 1;
	run_doc(&r, doc, sizeof doc - 1, 0, NULL);
	CHECK_INT(r.inner_rc, -1);
	CHECK_INT(r.rc, -1);
	CHECK_INT(r.stanzas, 1);
	CHECK_STR(r.err, "stream_parser_feed called from a stream callback");
	run_free(&r);
}

TEST_MAIN(
	T(test_header_and_close),
	T(test_header_without_attrs),
	T(test_trees_table),
	T(test_xnode_accessors),
	T(test_many_stanzas_one_block),
	T(test_refused_table),
	T(test_size_limit_exact),
	T(test_depth_limit_exact),
	T(test_unfinished_stanza_bounded),
	T(test_keepalives_do_not_count),
	T(test_after_close_ignored),
	T(test_error_is_sticky),
	T(test_no_callbacks),
	T(test_callback_frees_parser),
	T(test_callback_reenters),
)
