/* utf8: is a byte string text that XML 1.0 can carry? Valid UTF-8 (no
 * overlong form, no surrogate, nothing past U+10FFFF, no truncated tail)
 * made only of XML 1.0 characters. xpushd's escaper refuses anything else,
 * and a JID must be such text. Pure. */
#ifndef XPUSH_UTF8_H
#define XPUSH_UTF8_H

#include <stddef.h>

/* 1 if s (n bytes) is valid UTF-8 made only of XML 1.0 characters (no NUL,
 * no C0 control but TAB, LF and CR, no U+FFFE or U+FFFF), else 0. n == 0
 * is valid text (s may then be NULL). */
int utf8_xml_valid(const char *s, size_t n);

#endif
