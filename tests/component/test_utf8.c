/* test_utf8: what counts as text XML 1.0 can carry (common/utf8.c): every
 * code point class boundary, and the malformed forms of UTF-8. The escaper
 * built on it: test_xbuf. */
#include "utf8.h"
#include "test.h"

#define S(lit) lit, sizeof(lit) - 1

static void test_valid_boundaries(void)
{
	CHECK_INT(utf8_xml_valid(S("\x09\x0a\x0d\x20")), 1);
	CHECK_INT(utf8_xml_valid(S("\x08")), 0);
	CHECK_INT(utf8_xml_valid(S("\x0b")), 0);
	CHECK_INT(utf8_xml_valid(S("\x7f")), 1);                 /* DEL is an XML Char */
	CHECK_INT(utf8_xml_valid(S("\xc2\x80")), 1);            /* U+0080 */
	CHECK_INT(utf8_xml_valid(S("\xdf\xbf")), 1);            /* U+07FF */
	CHECK_INT(utf8_xml_valid(S("\xe0\xa0\x80")), 1);        /* U+0800 */
	CHECK_INT(utf8_xml_valid(S("\xed\x9f\xbf")), 1);        /* U+D7FF */
	CHECK_INT(utf8_xml_valid(S("\xee\x80\x80")), 1);        /* U+E000 */
	CHECK_INT(utf8_xml_valid(S("\xef\xbf\xbd")), 1);        /* U+FFFD */
	CHECK_INT(utf8_xml_valid(S("\xf0\x90\x80\x80")), 1);    /* U+10000 */
	CHECK_INT(utf8_xml_valid(S("\xf4\x8f\xbf\xbf")), 1);    /* U+10FFFF */
	CHECK_INT(utf8_xml_valid(NULL, 0), 1);
	CHECK_INT(utf8_xml_valid("", 0), 1);
}

static void test_invalid(void)
{
	static const struct { const char *why; const char *in; size_t n; } cases[] = {
		{ "NUL", S("a\0b") },
		{ "C0", S("\x01") },
		{ "lone continuation", S("\x80") },
		{ "0xff", S("\xff") },
		{ "overlong NUL", S("\xc0\x80") },
		{ "overlong 3", S("\xe0\x80\xaf") },
		{ "overlong 4", S("\xf0\x80\x80\xaf") },
		{ "surrogate high", S("\xed\xa0\x80") },
		{ "surrogate low", S("\xed\xbf\xbf") },
		{ "U+FFFE", S("\xef\xbf\xbe") },
		{ "U+FFFF", S("\xef\xbf\xbf") },
		{ "past U+10FFFF", S("\xf4\x90\x80\x80") },
		{ "truncated", S("ok\xf0\x9f\x98") },
		{ "bad continuation", S("\xe6\x41\xa5") },
	};

	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		if (utf8_xml_valid(cases[i].in, cases[i].n) != 0)
			fprintf(stderr, "  case: %s\n", cases[i].why);
		CHECK_INT(utf8_xml_valid(cases[i].in, cases[i].n), 0);
	}
	/* n bounds what is read: a valid prefix of an invalid string is valid. */
	CHECK_INT(utf8_xml_valid("ab\xff", 2), 1);
	CHECK_INT(utf8_xml_valid("\xc3\xbc", 1), 0);  /* a sequence cut by n */
}

TEST_MAIN(T(test_valid_boundaries), T(test_invalid))
