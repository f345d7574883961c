/* test_stream: the XEP-0114 stream parser. Every document is fed in one
 * block, one byte at a time and in 7-byte slices, and the three runs must
 * produce the same events and trees (or the same error). Limits and refused
 * stanzas: test_stream_limits. */
#include "stream_helpers.h"

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
	T(test_after_close_ignored),
	T(test_error_is_sticky),
	T(test_no_callbacks),
	T(test_callback_frees_parser),
	T(test_callback_reenters),
)
