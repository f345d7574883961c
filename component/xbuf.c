/* xbuf: the growable output buffer and the only XML escaper in xpushd.
 * It holds every byte we put on the wire to the rule of utf8.h (valid UTF-8
 * made of XML 1.0 characters) and makes it round-trip byte-exact through a
 * conforming parser.
 * Pure: no I/O, no logging; callers decide what a -1 or -2 means. */
#include "xbuf.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "utf8.h"

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

	if (reserve(b, 0) < 0)
		return -1;
	/* Whatever room is left first, as most stanza fragments fit; then,
	 * once, exactly the room the first try said it needs. */
	for (;;) {
		va_start(ap, fmt);
		n = vsnprintf(b->data + b->len, b->cap - b->len, fmt, ap);
		va_end(ap);
		if (n < 0 || (size_t)n < b->cap - b->len || reserve(b, (size_t)n) < 0)
			break;
	}
	if (n < 0 || (size_t)n >= b->cap - b->len) {
		b->data[b->len] = '\0';
		return -1;
	}
	b->len += (size_t)n;
	return 0;
}

/* The replacement for one byte, or NULL to copy it as is. TAB, LF and CR
 * become character references because the same escaper serves attribute
 * values, where a parser would normalise them to spaces, and character
 * data, where CR would be folded into LF: a reference survives both. */
static const char *escape_of(unsigned char c)
{
	switch (c) {
	case '&':
		return "&amp;";
	case '<':
		return "&lt;";
	case '>':
		return "&gt;";
	case '"':
		return "&quot;";
	case '\'':
		return "&apos;";
	case '\t':
		return "&#9;";
	case '\n':
		return "&#10;";
	case '\r':
		return "&#13;";
	default:
		return NULL;
	}
}

int xbuf_escape(struct xbuf *b, const char *s, size_t n)
{
	size_t out = 0, start;

	if (!utf8_xml_valid(s, n))
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
