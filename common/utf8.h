/* utf8: is a byte string text that XML 1.0 can carry? Valid UTF-8 (no
 * overlong form, no surrogate, nothing past U+10FFFF, no truncated tail)
 * made only of XML 1.0 characters. xpushd's escaper refuses anything else,
 * and a JID must be such text. Pure. */
#ifndef XPUSH_UTF8_H
#define XPUSH_UTF8_H

#include <stddef.h>
#include <stdint.h>

/* Decode the UTF-8 sequence at s (avail bytes). Its length (1..4) and the
 * code point in *cp, or 0 if the bytes are not well-formed UTF-8: overlong
 * forms, surrogates, values past U+10FFFF and truncated tails all fail, and
 * so does avail == 0. */
size_t utf8_decode(const char *s, size_t avail, uint32_t *cp);

/* 1 if s (n bytes) is valid UTF-8 made only of XML 1.0 characters (no NUL,
 * no C0 control but TAB, LF and CR, no U+FFFE or U+FFFF), else 0. n == 0
 * is valid text (s may then be NULL). */
int utf8_xml_valid(const char *s, size_t n);

#endif
