/* test_stream: the XEP-0114 stream parser. Every document is fed in one
 * block, one byte at a time and in 7-byte slices, and the three runs must
 * produce the same events and trees (or the same error). Refused stanzas
 * (over the size or depth limit) are events too: they must be reported once,
 * with their head, and cost nothing else. */
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

static void cb_refused(void *ud, const struct stanza_head *h, const char *reason)
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
		stream_parser_mem(r->p, &r->mem);
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
		/* A stanza being skipped is still checked by expat: the server
		 * sent broken XML, and that ends the stream. */
		{ "malformed in a too-deep stanza", HDR "<a><b><c><d><e>\xff</e></d></c></b></a>",
		  "not well-formed", &small, 0 },
		{ "mismatched tag in a too-deep stanza", HDR "<a><b><c><d><e></x></d></c></b></a>",
		  "mismatched tag", &small, 0 },
		{ "malformed in a too-large stanza", HDR "<a/><m>"
		  "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
		  "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
		  "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
		  "<x a='1' a='2'/></m>", "duplicate attribute", &small, 1 },
		{ "undefined entity in a too-large stanza", HDR "<m>"
		  "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
		  "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
		  "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
		  "&foo;</m>", "undefined entity", &small, 0 },
		{ "oversize header", "<stream:stream xmlns:stream='" STREAM_NS "' id='"
		  "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
		  "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
		  "'>", "stream header larger than 200 bytes", &small, 0 },
		{ "oversize comment between stanzas", HDR "<a/><!--"
		  "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
		  "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
		  "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
		  "--><b/>", "stanza larger than 200 bytes", &small, 1 },
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
		CHECK_INT(r.refused, 0);
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
	CHECK_INT(r.rc, 0);
	CHECK_STR(r.err, "");
	CHECK_INT(r.stanzas, 0);
	CHECK_INT(r.refused, 1);
	CHECK(strstr(r.log.data, "refused (jabber:component:accept|m) from=(null) to=(null) id=(null)"
	             " type=(null) bytes=301: stanza larger than 300 bytes\n") != NULL);
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
	CHECK_INT(r.rc, 0);
	CHECK_STR(r.err, "");
	CHECK_INT(r.stanzas, 0);
	CHECK_INT(r.refused, 1);
	CHECK(strstr(r.log.data, "refused (jabber:component:accept|a) from=(null) to=(null) id=(null)"
	             " type=(null) bytes=25: stanza nested deeper than 3 elements\n") != NULL);
	run_free(&r);
}

/* --- refused stanzas ----------------------------------------------------- */

#define USER "u@example.org/r"
#define GOOD1 "<iq type='get' id='g1' from='" USER "' to='push.example.org'>" \
	"<ping xmlns='urn:xmpp:ping'/></iq>"
#define GOOD2 "<presence from='" USER "'/>"
#define GOOD1_LOG "(jabber:component:accept|iq [type]=[get] [id]=[g1] [from]=[" USER "]" \
	" [to]=[push.example.org] text0:(urn:xmpp:ping|ping text0:))\n"
#define GOOD2_LOG "(jabber:component:accept|presence [from]=[" USER "] text0:)\n"
#define IQ_SET(id) "<iq type='set' id='" id "' from='" USER "' to='push.example.org'"

static void repeat(struct xbuf *b, const char *s, size_t times)
{
	for (size_t i = 0; i < times; i++)
		must(xbuf_puts(b, s));
}

/* GOOD1, bad, GOOD2 and the stream's end, in every slicing: both good
 * stanzas are delivered, bad is reported once with `head` (name and
 * attributes as cb_refused prints them), its size and `reason`, and the
 * stream is not ended. Returns the block run's memory. */
static struct stream_mem refused_case(const char *why, const struct xbuf *bad,
                                      const struct stream_limits *lim, const char *head,
                                      const char *reason)
{
	struct xbuf doc = XBUF_INIT, log = XBUF_INIT;
	struct stream_mem mem;
	struct run r;

	must(xbuf_puts(&doc, HDR GOOD1));
	must(xbuf_append(&doc, bad->data, bad->len));
	must(xbuf_puts(&doc, GOOD2 END));
	must(xbuf_puts(&log, "open id=abc from=push.example.org\n" GOOD1_LOG));
	must(xbuf_printf(&log, "refused %s bytes=%zu: %s\n", head, bad->len, reason));
	must(xbuf_puts(&log, GOOD2_LOG "close\n"));
	run_all(&r, doc.data, doc.len, lim);
	CHECK_INT(r.rc, 0);
	CHECK_STR(r.err, "");
	CHECK_INT(r.stanzas, 2);
	CHECK_INT(r.refused, 1);
	CHECK_INT(r.closes, 1);
	CHECK_STR(r.log.data, log.data);
	mem = r.mem;
	if (getenv("TEST_VERBOSE") || r.rc != 0 || r.refused != 1)
		fprintf(stderr, "  case %s: %zu bytes, expat peak %zu, tree peak %zu, held peak %zu\n",
		        why, bad->len, mem.expat_peak, mem.tree_peak, mem.held_peak);
	run_free(&r);
	xbuf_free(&doc);
	xbuf_free(&log);
	return mem;
}

/* Too deep, too many children, one huge text, one huge attribute (on a
 * child and on the stanza's own start tag): each costs its stanza only. */
static void test_refused_between_good(void)
{
	static const struct stream_limits small = { 1024, 0 };
	struct xbuf bad = XBUF_INIT;
	struct stream_mem m0, m1, m2;
#define HEAD(id) "(jabber:component:accept|iq) from=" USER " to=push.example.org id=" id " type=set"
	const char *big = "stanza larger than 65536 bytes", *big_small = "stanza larger than 1024 bytes";

	/* An IQ nested 40 deep. */
	must(xbuf_puts(&bad, IQ_SET("deep") ">"));
	repeat(&bad, "<a>", 39);
	repeat(&bad, "</a>", 39);
	must(xbuf_puts(&bad, "</iq>"));
	refused_case("40 deep", &bad, NULL, HEAD("deep"), "stanza nested deeper than 32 elements");

	/* A register with 5,000 tags, then with 50,000: what the parser builds
	 * and holds does not grow with the stanza. */
	xbuf_reset(&bad);
	must(xbuf_puts(&bad, IQ_SET("tags") "><register xmlns='urn:xpush:0' app='a' device='d'>"));
	for (int i = 0; i < 5000; i++)
		must(xbuf_printf(&bad, "<tag>t%d</tag>", i));
	must(xbuf_puts(&bad, "</register></iq>"));
	m0 = refused_case("5,000 tags", &bad, NULL, HEAD("tags"), big);
	xbuf_reset(&bad);
	must(xbuf_puts(&bad, IQ_SET("tags") "><register xmlns='urn:xpush:0' app='a' device='d'>"));
	for (int i = 0; i < 50000; i++)
		must(xbuf_printf(&bad, "<tag>t%d</tag>", i));
	must(xbuf_puts(&bad, "</register></iq>"));
	m1 = refused_case("50,000 tags", &bad, NULL, HEAD("tags"), big);
	CHECK(m0.tree_peak == m1.tree_peak);
	CHECK(m1.tree_peak < 16 * 65536);
	CHECK(m1.expat_peak <= m0.expat_peak + 4096);
	CHECK(m1.expat_peak < 64 * 1024);

	/* One huge text: streamed through, never accumulated. */
	xbuf_reset(&bad);
	must(xbuf_puts(&bad, IQ_SET("text") "><register xmlns='urn:xpush:0' app='a' device='d'>"
	               "<alias>"));
	repeat(&bad, "0123456789abcdef", 100000 / 16);
	must(xbuf_puts(&bad, "</alias></register></iq>"));
	m0 = refused_case("100 kB text", &bad, NULL, HEAD("text"), big);
	xbuf_reset(&bad);
	must(xbuf_puts(&bad, IQ_SET("text") "><register xmlns='urn:xpush:0' app='a' device='d'>"
	               "<alias>"));
	repeat(&bad, "0123456789abcdef", 1000000 / 16);
	must(xbuf_puts(&bad, "</alias></register></iq>"));
	m1 = refused_case("1 MB text", &bad, NULL, HEAD("text"), big);
	CHECK(m1.expat_peak <= m0.expat_peak + 4096);
	CHECK(m1.expat_peak < 64 * 1024);
	CHECK(m1.tree_peak < 2 * 65536);

	/* One huge attribute, on a child and on the stanza itself (its head is
	 * then taken from the start tag being refused). Expat must hold a start
	 * tag whole; the small limit keeps the one-byte runs quick. */
	xbuf_reset(&bad);
	must(xbuf_puts(&bad, IQ_SET("attr") "><register xmlns='urn:xpush:0' app='"));
	repeat(&bad, "a", 3000);
	must(xbuf_puts(&bad, "' device='d'/></iq>"));
	m2 = refused_case("3 kB attribute on a child", &bad, &small, HEAD("attr"), big_small);
	CHECK(m2.tree_peak < 1024);
	xbuf_reset(&bad);
	must(xbuf_puts(&bad, IQ_SET("top") " pad='"));
	repeat(&bad, "p", 3000);
	must(xbuf_puts(&bad, "'><ping xmlns='urn:xmpp:ping'/></iq>"));
	m2 = refused_case("3 kB attribute on the stanza", &bad, &small, HEAD("top"), big_small);
	CHECK(m2.tree_peak < 1024);  /* GOOD1's tree: nothing of this one was built */
	xbuf_free(&bad);
#undef HEAD
}

/* The head: namespace and name of the top element; an attribute too long to
 * be a JID or a usable id is left out rather than cut. */
static void test_refused_head(void)
{
	static const struct stream_limits small = { 200, 2 };
	struct xbuf bad = XBUF_INIT, want = XBUF_INIT;

	must(xbuf_puts(&bad, "<x:q xmlns:x='urn:x' type='get' to='push.example.org' id='"));
	repeat(&bad, "i", STREAM_HEAD_ATTR_MAX + 1);
	must(xbuf_puts(&bad, "' from='" USER "'><a><b/></a></x:q>"));
	refused_case("long id", &bad, &small, "(urn:x|q) from=" USER " to=push.example.org"
	             " id=(null) type=get", "stanza larger than 200 bytes");
	xbuf_reset(&bad);
	must(xbuf_puts(&bad, "<x:q xmlns:x='urn:x' id='"));
	repeat(&bad, "i", STREAM_HEAD_ATTR_MAX);
	must(xbuf_puts(&bad, "'/>"));
	must(xbuf_puts(&want, "(urn:x|q) from=(null) to=(null) id="));
	repeat(&want, "i", STREAM_HEAD_ATTR_MAX);
	must(xbuf_puts(&want, " type=(null)"));
	refused_case("id at the limit", &bad, &small, want.data, "stanza larger than 200 bytes");
	xbuf_free(&bad);
	xbuf_free(&want);
}

static void test_refused_callback_frees_parser(void)
{
	static const struct stream_limits small = { 0, 2 };
	static const char doc[] = HDR "<a/><b><c><d/></c></b><e/>" END;
	struct run r;

	for (size_t c = 0; c < NCHUNKS; c++) {
		memset(&r, 0, sizeof r);
		r.free_on_refused = 1;
		run_doc(&r, doc, sizeof doc - 1, chunks[c], &small);
		CHECK_INT(r.rc, -1);
		CHECK(r.p == NULL);
		CHECK_INT(r.stanzas, 1);
		CHECK_INT(r.refused, 1);
		CHECK_INT(r.closes, 0);
		run_free(&r);
	}
}

/* Feed `open` and then endless copies of `fill` in 4 KiB reads until the
 * parser gives up; it must, after no more than the hard bound and a read
 * or two. */
static void unfinished(const char *open, char fill, const struct stream_limits *lim,
                       size_t hard, struct stream_mem *mem, char *err, size_t errlen)
{
	struct stream_parser *p;
	struct run r;
	char chunk[4096];
	int rc = 0;
	size_t fed = 0;

	memset(&r, 0, sizeof r);
	p = stream_parser_new(lim, &callbacks, &r);
	r.p = p;
	CHECK_INT(stream_parser_feed(p, HDR, sizeof HDR - 1), 0);
	CHECK_INT(stream_parser_feed(p, open, strlen(open)), 0);
	memset(chunk, fill, sizeof chunk);
	while (rc == 0 && fed < 4 * hard) {
		rc = stream_parser_feed(p, chunk, sizeof chunk);
		fed += sizeof chunk;
	}
	CHECK_INT(rc, -1);
	CHECK(fed <= hard + 2 * sizeof chunk);
	CHECK_INT(r.stanzas, 0);
	CHECK_INT(r.refused, 0);
	snprintf(err, errlen, "%s", stream_parser_error(p));
	stream_parser_mem(p, mem);
	if (getenv("TEST_VERBOSE"))
		fprintf(stderr, "  unfinished %.20s: fed %zu, expat peak %zu, held peak %zu: %s\n",
		        open, fed, mem->expat_peak, mem->held_peak, err);
	stream_parser_free(p);
	run_free(&r);
}

/* Expat must not be left to buffer an endless token (a start tag whose
 * attribute never ends, on a stanza or inside one): past the hard bound the
 * stream ends. Meanwhile expat holds the token (its buffer grows by doubling
 * and is copied: up to 3 times the next power of two) and the parser holds
 * back at most the hard bound (HOLD_MIN). */
static void test_unfinished_token_bounded(void)
{
	static const struct stream_limits lim = { 1000, 0 };
	const size_t hard = STREAM_HARD_MIN_BYTES;
	struct stream_mem mem;
	char err[200], want[200];

	snprintf(want, sizeof want, "stanza larger than %zu bytes (hard bound)", hard);
	unfinished("<m a='", 'x', &lim, hard, &mem, err, sizeof err);
	CHECK_STR(err, want);
	CHECK(mem.expat_peak <= 4 * hard);
	CHECK(mem.held_peak <= hard);
	CHECK(mem.held_peak > 0);
	unfinished("<iq><query><m a='", 'x', NULL, hard, &mem, err, sizeof err);
	CHECK_STR(err, want);
	CHECK(mem.expat_peak <= 4 * hard);
	CHECK(mem.held_peak <= hard);
	CHECK(mem.tree_peak < 1024);
	/* The bound follows a raised max_stanza_bytes. */
	{
		static const struct stream_limits big = { 1 << 20, 0 };

		snprintf(want, sizeof want, "stanza larger than %zu bytes (hard bound)",
		         (size_t)STREAM_HARD_FACTOR << 20);
		unfinished("<iq><m a='", 'x', &big, (size_t)STREAM_HARD_FACTOR << 20, &mem, err,
		           sizeof err);
		CHECK_STR(err, want);
		CHECK(mem.expat_peak <= (size_t)4 * STREAM_HARD_FACTOR << 20);
	}
	/* A header is the server's own: its limit is max_stanza_bytes. */
	{
		struct stream_parser *p = stream_parser_new(&lim, &callbacks, NULL);
		char chunk[4096];
		int rc = 0;

		memset(chunk, 'x', sizeof chunk);
		CHECK_INT(stream_parser_feed(p, "<stream:stream xmlns:stream='" STREAM_NS "' a='", 45), 0);
		for (int i = 0; rc == 0 && i < 10; i++)
			rc = stream_parser_feed(p, chunk, sizeof chunk);
		CHECK_INT(rc, -1);
		CHECK_STR(stream_parser_error(p), "stream header larger than 1000 bytes");
		stream_parser_free(p);
	}
}

/* A text node in a skipped stanza is streamed, never held: an endless one
 * ends the stream at the hard bound with expat holding a few kilobytes. */
static void test_skipped_text_streams(void)
{
	struct stream_mem mem;
	char err[200], want[200];

	snprintf(want, sizeof want, "stanza larger than %zu bytes (hard bound)",
	         STREAM_HARD_MIN_BYTES);
	unfinished("<message from='" USER "'><body>", 'x', NULL, STREAM_HARD_MIN_BYTES, &mem, err,
	           sizeof err);
	CHECK_STR(err, want);
	CHECK(mem.expat_peak < 64 * 1024);
	CHECK_INT(mem.held_peak, 0);
	CHECK(mem.tree_peak < 2 * 65536);
}

/* Nesting in a skipped stanza is counted to its end; expat keeps every open
 * element, so past STREAM_HARD_DEPTH the stream ends. */
static void test_skipped_depth_bounded(void)
{
	struct stream_parser *p;
	struct stream_mem mem;
	struct xbuf doc = XBUF_INIT;
	struct run r;
	int rc;

	memset(&r, 0, sizeof r);
	p = stream_parser_new(NULL, &callbacks, &r);
	r.p = p;
	must(xbuf_puts(&doc, HDR "<iq>"));
	repeat(&doc, "<a>", STREAM_HARD_DEPTH - 1);
	repeat(&doc, "</a>", STREAM_HARD_DEPTH - 1);
	must(xbuf_puts(&doc, "</iq>" GOOD2));
	CHECK_INT(stream_parser_feed(p, doc.data, doc.len), 0);
	CHECK_INT(r.stanzas, 1);
	CHECK_INT(r.refused, 1);
	stream_parser_mem(p, &mem);
	if (getenv("TEST_VERBOSE"))
		fprintf(stderr, "  %u deep: expat peak %zu\n", STREAM_HARD_DEPTH, mem.expat_peak);
	CHECK(mem.expat_peak < 32u << 20);
	xbuf_reset(&doc);
	must(xbuf_puts(&doc, "<iq>"));
	repeat(&doc, "<a>", 40);
	rc = stream_parser_feed(p, doc.data, doc.len);
	CHECK_INT(rc, 0);
	CHECK_INT(r.refused, 1);  /* reported at its end tag, not before */
	xbuf_reset(&doc);
	repeat(&doc, "<a>", STREAM_HARD_DEPTH);
	rc = stream_parser_feed(p, doc.data, doc.len);
	CHECK_INT(rc, -1);
	{
		char want[100];

		snprintf(want, sizeof want, "stanza nested deeper than %u elements (hard bound)",
		         STREAM_HARD_DEPTH);
		CHECK_STR(stream_parser_error(p), want);
	}
	stream_parser_free(p);
	run_free(&r);
	xbuf_free(&doc);
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
	T(test_refused_between_good),
	T(test_refused_head),
	T(test_refused_callback_frees_parser),
	T(test_unfinished_token_bounded),
	T(test_skipped_text_streams),
	T(test_skipped_depth_bounded),
	T(test_keepalives_do_not_count),
	T(test_after_close_ignored),
	T(test_error_is_sticky),
	T(test_no_callbacks),
	T(test_callback_frees_parser),
	T(test_callback_reenters),
)
