/* test_utf8: what counts as text XML 1.0 can carry (common/utf8.c): every
 * code point class boundary on both sides, and the malformed forms of UTF-8
 * (more of them through the escaper: test_xbuf). */
#include "utf8.h"
#include "test.h"

#define S(lit) lit, sizeof(lit) - 1

static void test_classes(void)
{
	static const struct { const char *in; size_t n; int valid; } cases[] = {
		{ S("\x09\x0a\x0d\x20"), 1 },      /* the only C0 characters XML has */
		{ S("\x08"), 0 },
		{ S("\x0b"), 0 },
		{ S("\x7f"), 1 },                  /* DEL is an XML character */
		{ S("\xc2\x80"), 1 },              /* U+0080, the first two-byte form */
		{ S("\xc1\xbf"), 0 },              /* ...and U+007F overlong just below */
		{ S("\xdf\xbf\xe0\xa0\x80"), 1 },  /* U+07FF U+0800 */
		{ S("\xe0\x9f\xbf"), 0 },          /* U+07FF overlong */
		{ S("\xed\x9f\xbf\xee\x80\x80"), 1 },  /* U+D7FF U+E000 around the surrogates */
		{ S("\xed\xa0\x80"), 0 },
		{ S("\xef\xbf\xbd"), 1 },          /* U+FFFD; U+FFFE and U+FFFF are not */
		{ S("\xef\xbf\xbe"), 0 },
		{ S("\xf0\x90\x80\x80\xf4\x8f\xbf\xbf"), 1 },  /* U+10000 U+10FFFF */
		{ S("\xf0\x8f\xbf\xbf"), 0 },      /* U+FFFF overlong */
		{ S("\xf4\x90\x80\x80"), 0 },      /* past U+10FFFF */
		{ S("a\0b"), 0 },
	};

	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		int got = utf8_xml_valid(cases[i].in, cases[i].n);

		if (got != cases[i].valid)
			fprintf(stderr, "  case %zu\n", i);
		CHECK_INT(got, cases[i].valid);
	}
}

/* n bounds what is read, whatever follows. */
static void test_length(void)
{
	CHECK_INT(utf8_xml_valid(NULL, 0), 1);
	CHECK_INT(utf8_xml_valid("", 0), 1);
	CHECK_INT(utf8_xml_valid("ab\xff", 2), 1);
	CHECK_INT(utf8_xml_valid("\xc3\xbc", 1), 0);  /* a sequence cut by n */
	CHECK_INT(utf8_xml_valid("\xf0\x9f\x98\x80", 3), 0);
}

TEST_MAIN(T(test_classes), T(test_length))
