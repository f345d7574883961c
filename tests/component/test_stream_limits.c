/* test_stream_limits: the stream parser's limits. Refused stanzas (over the
 * size or depth limit) are events: they must be reported once, with their
 * head, and cost nothing else; past the hard bounds the stream ends. Every
 * document is fed in one block, one byte at a time and in 7-byte slices. */
#include "stream_helpers.h"

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

TEST_MAIN(
	T(test_size_limit_exact),
	T(test_depth_limit_exact),
	T(test_refused_between_good),
	T(test_refused_head),
	T(test_refused_callback_frees_parser),
	T(test_unfinished_token_bounded),
	T(test_skipped_text_streams),
	T(test_skipped_depth_bounded),
	T(test_keepalives_do_not_count),
)
