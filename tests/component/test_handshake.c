/* test_handshake: the XEP-0114 digest against vectors computed independently
 * (`printf '%s' 'idsecret' | sha1sum`), and the exact opening bytes. */
#include "handshake.h"
#include "stream.h"
#include "test.h"

static void test_digest_vectors(void)
{
	static const struct { const char *id, *secret, *hex; } cases[] = {
		{ "id", "secret", "2555325ab8349486fb4f5bb190bf753b87a5bbc8" },
		{ "3BF96D32", "secret", "b09ea9b3b7f586be8a08d0a3dd7466f110aeb136" },
		{ "abc", "secret", "de0a408ef519cd62e7379039634152874895c50c" },
		{ "", "", "da39a3ee5e6b4b0d3255bfef95601890afd80709" },
		/* The id arrives unescaped from the parser: hash those bytes. */
		{ "x-1&<2>\xe6\x97\xa5\xe6\x9c\xac", "s3cr3t",
		  "abee69d32a3379790e92268b5b0cc8e0b2b210b7" },
	};

	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		char out[41];

		memset(out, 'X', sizeof out);
		CHECK_INT(handshake_digest(cases[i].id, cases[i].secret, out), 0);
		CHECK_STR(out, cases[i].hex);
	}
}

static void test_digest_null(void)
{
	char out[41];

	CHECK_INT(handshake_digest(NULL, "s", out), -1);
	CHECK_INT(handshake_digest("id", NULL, out), -1);
}

static void test_stream_header(void)
{
	struct xbuf b = XBUF_INIT;

	CHECK_INT(handshake_stream_header(&b, "push.example.org"), 0);
	CHECK_STR(b.data, "<?xml version='1.0'?><stream:stream xmlns='jabber:component:accept'"
	          " xmlns:stream='http://etherx.jabber.org/streams' to='push.example.org'>");
	xbuf_reset(&b);
	CHECK_INT(handshake_stream_header(&b, "a'b"), 0);
	CHECK(strstr(b.data, "to='a&apos;b'>") != NULL);
	xbuf_free(&b);
}

static void test_stream_header_invalid(void)
{
	struct xbuf b = XBUF_INIT;

	CHECK_INT(xbuf_puts(&b, "keep"), 0);
	CHECK_INT(handshake_stream_header(&b, "bad\x01jid"), -2);
	CHECK_INT(handshake_stream_header(&b, "bad\xffjid"), -2);
	CHECK_INT(handshake_stream_header(&b, NULL), -2);
	CHECK_STR(b.data, "keep");
	CHECK_INT(b.len, 4);
	xbuf_free(&b);
}

static void test_handshake_element(void)
{
	struct xbuf b = XBUF_INIT;

	CHECK_INT(xbuf_puts(&b, "x"), 0);
	CHECK_INT(handshake_element(&b, "id", "secret"), 0);
	CHECK_STR(b.data, "x<handshake>2555325ab8349486fb4f5bb190bf753b87a5bbc8</handshake>");
	xbuf_free(&b);
}

static int opened;
static void on_open(void *ud, const char *id, const char *from)
{
	opened++;
}

/* What we send must be a stream header our own parser would accept. */
static void test_header_parses(void)
{
	struct xbuf b = XBUF_INIT;
	struct stream_callbacks cb = { .on_open = on_open };
	struct stream_parser *p = stream_parser_new(NULL, &cb, NULL);

	CHECK(p != NULL);
	CHECK_INT(handshake_stream_header(&b, "push.example.org"), 0);
	CHECK_INT(handshake_element(&b, "id", "secret"), 0);
	opened = 0;
	CHECK_INT(stream_parser_feed(p, b.data, b.len), 0);
	CHECK_INT(opened, 1);
	stream_parser_free(p);
	xbuf_free(&b);
}

TEST_MAIN(
	T(test_digest_vectors),
	T(test_digest_null),
	T(test_stream_header),
	T(test_stream_header_invalid),
	T(test_handshake_element),
	T(test_header_parses),
)
