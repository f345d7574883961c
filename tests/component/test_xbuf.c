/* test_xbuf: buffer growth and ownership, and the escaper's two promises:
 * the output is exact (table below) and invalid text is refused whole. */
#include "utf8.h"
#include "xbuf.h"
#include "test.h"

#define S(lit) lit, sizeof(lit) - 1

static void test_append_grow(void)
{
	struct xbuf b = XBUF_INIT;

	CHECK_INT(xbuf_append(&b, "", 0), 0);
	CHECK(b.data != NULL);
	CHECK_STR(b.data, "");
	for (int i = 0; i < 1000; i++)
		CHECK_INT(xbuf_puts(&b, "0123456789"), 0);
	CHECK_INT(b.len, 10000);
	CHECK(b.cap > b.len);
	CHECK_INT(b.data[b.len], '\0');
	CHECK(memcmp(b.data + 9990, "0123456789", 10) == 0);
	xbuf_free(&b);
	CHECK(b.data == NULL);
	CHECK_INT(b.len, 0);
	CHECK_INT(b.cap, 0);
}

static void test_append_binary(void)
{
	struct xbuf b = XBUF_INIT;

	CHECK_INT(xbuf_append(&b, S("a\0b")), 0);
	CHECK_INT(b.len, 3);
	CHECK(memcmp(b.data, "a\0b", 4) == 0);
	xbuf_free(&b);
}

static void test_printf(void)
{
	struct xbuf b = XBUF_INIT;
	char big[300];

	CHECK_INT(xbuf_printf(&b, "%d-%s", 42, "x"), 0);
	CHECK_STR(b.data, "42-x");
	/* Longer than the first allocation: takes the second vsnprintf. */
	memset(big, 'z', sizeof big - 1);
	big[sizeof big - 1] = '\0';
	CHECK_INT(xbuf_printf(&b, "[%s]", big), 0);
	CHECK_INT(b.len, 4 + 2 + 299);
	CHECK_INT(b.data[b.len - 1], ']');
	CHECK_INT(b.data[b.len], '\0');
	xbuf_free(&b);
}

static void test_consume_reset_truncate(void)
{
	struct xbuf b = XBUF_INIT;

	xbuf_consume(&b, 3);  /* empty: no-op */
	xbuf_reset(&b);
	CHECK_INT(xbuf_puts(&b, "hello world"), 0);
	xbuf_consume(&b, 6);
	CHECK_STR(b.data, "world");
	xbuf_truncate(&b, 3);
	CHECK_STR(b.data, "wor");
	xbuf_truncate(&b, 10);
	CHECK_STR(b.data, "wor");
	xbuf_consume(&b, 99);
	CHECK_INT(b.len, 0);
	CHECK_STR(b.data, "");
	CHECK_INT(xbuf_puts(&b, "again"), 0);
	xbuf_reset(&b);
	CHECK_INT(b.len, 0);
	CHECK(b.cap > 0);
	CHECK_STR(b.data, "");
	xbuf_free(&b);
}

static void test_escape_table(void)
{
	static const struct { const char *in; size_t n; const char *out; } cases[] = {
		{ S(""), "" },
		{ S("plain"), "plain" },
		{ S("&"), "&amp;" },
		{ S("<"), "&lt;" },
		{ S(">"), "&gt;" },
		{ S("\""), "&quot;" },
		{ S("'"), "&apos;" },
		{ S("]]>"), "]]&gt;" },
		{ S("&amp;"), "&amp;amp;" },
		{ S("a\tb\nc\rd"), "a&#9;b&#10;c&#13;d" },
		{ S("<a href=\"x\">"), "&lt;a href=&quot;x&quot;&gt;" },
		/* Non-ASCII passes through untouched, including C1 and DEL. */
		{ S("\xc3\xbc \xe6\x97\xa5\xe6\x9c\xac \xf0\x9f\x98\x80"),
		  "\xc3\xbc \xe6\x97\xa5\xe6\x9c\xac \xf0\x9f\x98\x80" },
		{ S("\x7f\xc2\x85"), "\x7f\xc2\x85" },
		{ S("\xef\xbf\xbd\xf4\x8f\xbf\xbf"), "\xef\xbf\xbd\xf4\x8f\xbf\xbf" },
		{ S("\xee\x80\x80\xed\x9f\xbf"), "\xee\x80\x80\xed\x9f\xbf" },
	};

	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		struct xbuf b = XBUF_INIT;

		CHECK_INT(utf8_xml_valid(cases[i].in, cases[i].n), 1);
		CHECK_INT(xbuf_escape(&b, cases[i].in, cases[i].n), 0);
		CHECK_STR(b.data, cases[i].out);
		CHECK_INT(b.len, strlen(cases[i].out));
		xbuf_free(&b);
	}
}

static void test_escape_rejects(void)
{
	static const struct { const char *why; const char *in; size_t n; } cases[] = {
		{ "NUL", S("a\0b") },
		{ "SOH", S("\x01") },
		{ "ESC", S("x\x1b[0m") },
		{ "US", S("\x1f") },
		{ "FF", S("\x0c") },
		{ "lone continuation", S("\x80") },
		{ "0xff", S("\xff") },
		{ "0xfe", S("\xfe") },
		{ "overlong NUL", S("\xc0\x80") },
		{ "overlong 2", S("\xc1\xbf") },
		{ "overlong 3", S("\xe0\x80\xaf") },
		{ "overlong 4", S("\xf0\x80\x80\xaf") },
		{ "surrogate high", S("\xed\xa0\x80") },
		{ "surrogate low", S("\xed\xbf\xbf") },
		{ "U+FFFE", S("\xef\xbf\xbe") },
		{ "U+FFFF", S("\xef\xbf\xbf") },
		{ "past U+10FFFF", S("\xf4\x90\x80\x80") },
		{ "F5 lead", S("\xf5\x80\x80\x80") },
		{ "truncated 3", S("\xe6\x97") },
		{ "truncated 4", S("ok\xf0\x9f\x98") },
		{ "bad continuation", S("\xe6\x41\xa5") },
	};

	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		struct xbuf b = XBUF_INIT;
		int rc;

		CHECK_INT(xbuf_puts(&b, "keep"), 0);
		rc = xbuf_escape(&b, cases[i].in, cases[i].n);
		if (rc != -2)
			fprintf(stderr, "  case: %s\n", cases[i].why);
		CHECK_INT(rc, -2);
		CHECK_INT(utf8_xml_valid(cases[i].in, cases[i].n), 0);
		CHECK_STR(b.data, "keep");
		CHECK_INT(b.len, 4);
		xbuf_free(&b);
	}
}

TEST_MAIN(
	T(test_append_grow),
	T(test_append_binary),
	T(test_printf),
	T(test_consume_reset_truncate),
	T(test_escape_table),
	T(test_escape_rejects),
)
