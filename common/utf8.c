/* utf8: the one UTF-8 decoder and the one check of XML 1.0 characters
 * (utf8.h), for the escaper of xpushd, the JID rules of both sides and the
 * text checks of libxpush, xpush-client and xpushctl. It only reads: it must
 * not repair, replace or copy text. */
#include "utf8.h"

size_t utf8_decode(const char *text, size_t avail, uint32_t *cp)
{
	const unsigned char *s = (const unsigned char *)text;
	uint32_t c, min;
	size_t len;

	if (avail == 0)
		return 0;
	c = s[0];
	if (c < 0x80) {
		*cp = c;
		return 1;
	}
	if (c >= 0xc2 && c <= 0xdf) {
		len = 2;
		c &= 0x1f;
		min = 0x80;
	} else if (c >= 0xe0 && c <= 0xef) {
		len = 3;
		c &= 0x0f;
		min = 0x800;
	} else if (c >= 0xf0 && c <= 0xf4) {
		len = 4;
		c &= 0x07;
		min = 0x10000;
	} else {
		return 0;
	}
	if (avail < len)
		return 0;
	for (size_t i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		c = (c << 6) | (s[i] & 0x3f);
	}
	if (c < min || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff))
		return 0;
	*cp = c;
	return len;
}

/* XML 1.0 Char production (section 2.2). */
static int xml_char_ok(uint32_t c)
{
	if (c < 0x20)
		return c == 0x9 || c == 0xa || c == 0xd;
	if (c <= 0xd7ff)
		return 1;
	if (c >= 0xe000 && c <= 0xfffd)
		return 1;
	return c >= 0x10000 && c <= 0x10ffff;
}

int utf8_xml_valid(const char *s, size_t n)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t i = 0;

	while (i < n) {
		uint32_t cp;
		size_t len = utf8_decode((const char *)u + i, n - i, &cp);

		if (!len || !xml_char_ok(cp))
			return 0;
		i += len;
	}
	return 1;
}
