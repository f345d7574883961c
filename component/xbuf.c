/* xbuf: the growable output buffer and the only XML escaper in xpushd.
 * It owns the rule that every byte we put on the wire is valid UTF-8 made of
 * XML 1.0 characters and round-trips byte-exact through a conforming parser.
 * Pure: no I/O, no logging; callers decide what a -1 or -2 means. */
#include "xbuf.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Make room for n more bytes plus the NUL. Never shrinks, never moves data
 * on failure, so a failed append leaves the buffer as it was. */
static int reserve(struct xbuf *b, size_t n)
{
	size_t need, cap;
	char *p;

	if (n > SIZE_MAX - b->len - 1)
		return -1;
	need = b->len + n + 1;
	if (need <= b->cap)
		return 0;
	cap = b->cap ? b->cap : 64;
	while (cap < need)
		cap = cap > SIZE_MAX / 2 ? need : cap * 2;
	p = realloc(b->data, cap);
	if (!p)
		return -1;
	b->data = p;
	b->cap = cap;
	return 0;
}

int xbuf_append(struct xbuf *b, const char *s, size_t n)
{
	if (reserve(b, n) < 0)
		return -1;
	if (n)
		memcpy(b->data + b->len, s, n);
	b->len += n;
	b->data[b->len] = '\0';
	return 0;
}

int xbuf_puts(struct xbuf *b, const char *s)
{
	return xbuf_append(b, s, strlen(s));
}

int xbuf_printf(struct xbuf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	/* First try whatever room is left; most stanza fragments fit. */
	if (reserve(b, 0) < 0)
		return -1;
	va_start(ap, fmt);
	n = vsnprintf(b->data + b->len, b->cap - b->len, fmt, ap);
	va_end(ap);
	if (n < 0) {
		b->data[b->len] = '\0';
		return -1;
	}
	if ((size_t)n >= b->cap - b->len) {
		if (reserve(b, (size_t)n) < 0) {
			b->data[b->len] = '\0';
			return -1;
		}
		va_start(ap, fmt);
		n = vsnprintf(b->data + b->len, b->cap - b->len, fmt, ap);
		va_end(ap);
		if (n < 0) {
			b->data[b->len] = '\0';
			return -1;
		}
	}
	b->len += (size_t)n;
	return 0;
}

/* Decode one UTF-8 sequence at s (avail bytes). Returns its length and the
 * code point in *cp, or 0 if the bytes are not well-formed UTF-8 (overlong
 * forms, surrogates, values past U+10FFFF and truncated tails all fail). */
static size_t utf8_decode(const unsigned char *s, size_t avail, uint32_t *cp)
{
	uint32_t c = s[0], min;
	size_t len;

	if (c < 0x80) {
		*cp = c;
		return 1;
	}
	if (c >= 0xc2 && c <= 0xdf) {
		len = 2; c &= 0x1f; min = 0x80;
	} else if (c >= 0xe0 && c <= 0xef) {
		len = 3; c &= 0x0f; min = 0x800;
	} else if (c >= 0xf0 && c <= 0xf4) {
		len = 4; c &= 0x07; min = 0x10000;
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

int xml_text_valid(const char *s, size_t n)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t i = 0;

	while (i < n) {
		uint32_t cp;
		size_t len = utf8_decode(u + i, n - i, &cp);

		if (!len || !xml_char_ok(cp))
			return 0;
		i += len;
	}
	return 1;
}

/* The replacement for one byte, or NULL to copy it as is. TAB, LF and CR
 * become character references because the same escaper serves attribute
 * values, where a parser would normalise them to spaces, and character
 * data, where CR would be folded into LF: a reference survives both. */
static const char *escape_of(unsigned char c)
{
	switch (c) {
	case '&': return "&amp;";
	case '<': return "&lt;";
	case '>': return "&gt;";
	case '"': return "&quot;";
	case '\'': return "&apos;";
	case '\t': return "&#9;";
	case '\n': return "&#10;";
	case '\r': return "&#13;";
	default: return NULL;
	}
}

int xbuf_escape(struct xbuf *b, const char *s, size_t n)
{
	size_t out = 0, start;

	if (!xml_text_valid(s, n))
		return -2;
	/* Size the result first so the append below cannot fail half-way. */
	for (size_t i = 0; i < n; i++) {
		const char *e = escape_of((unsigned char)s[i]);
		size_t add = e ? strlen(e) : 1;

		if (out > SIZE_MAX - add)
			return -1;
		out += add;
	}
	if (reserve(b, out) < 0)
		return -1;
	start = 0;
	for (size_t i = 0; i < n; i++) {
		const char *e = escape_of((unsigned char)s[i]);

		if (!e)
			continue;
		memcpy(b->data + b->len, s + start, i - start);
		b->len += i - start;
		memcpy(b->data + b->len, e, strlen(e));
		b->len += strlen(e);
		start = i + 1;
	}
	memcpy(b->data + b->len, s + start, n - start);
	b->len += n - start;
	b->data[b->len] = '\0';
	return 0;
}

void xbuf_truncate(struct xbuf *b, size_t len)
{
	if (!b->data || len >= b->len)
		return;
	b->len = len;
	b->data[len] = '\0';
}

void xbuf_consume(struct xbuf *b, size_t n)
{
	if (!b->data)
		return;
	if (n >= b->len) {
		xbuf_reset(b);
		return;
	}
	memmove(b->data, b->data + n, b->len - n);
	b->len -= n;
	b->data[b->len] = '\0';
}

void xbuf_reset(struct xbuf *b)
{
	b->len = 0;
	if (b->data)
		b->data[0] = '\0';
}

void xbuf_free(struct xbuf *b)
{
	free(b->data);
	b->data = NULL;
	b->len = 0;
	b->cap = 0;
}
