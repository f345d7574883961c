/* xbuf: a growable byte buffer and the XML escaper. Pure, no I/O.
 * Every stanza xpushd writes is built here; nothing else escapes XML. */
#ifndef XPUSH_XBUF_H
#define XPUSH_XBUF_H

#include <stddef.h>

struct xbuf {
	char *data; /* owned; always NUL-terminated when non-NULL */
	size_t len;
	size_t cap;
};

#define XBUF_INIT \
	{ \
		NULL, 0, 0 \
	}

/* All return 0, or -1 on allocation failure (buffer unchanged). */
__attribute__((warn_unused_result)) int xbuf_append(struct xbuf *b, const char *s, size_t n);
__attribute__((warn_unused_result)) int xbuf_puts(struct xbuf *b, const char *s);
__attribute__((warn_unused_result, format(printf, 2, 3))) int xbuf_printf(struct xbuf *b,
                                                                          const char *fmt, ...);

/* Append s (n bytes) escaped for XML character data and attribute values
 * (& < > " ' all escaped). Returns -1 on allocation failure and -2 if s is not
 * valid UTF-8 or holds a character XML 1.0 forbids (NUL, C0 controls other
 * than TAB/LF/CR, U+FFFE/U+FFFF, surrogates: utf8_xml_valid in common/utf8.h);
 * the buffer is then unchanged.
 * TAB, LF and CR are written as character references so that the text
 * survives attribute-value and line-end normalisation byte-exact. */
__attribute__((warn_unused_result)) int xbuf_escape(struct xbuf *b, const char *s, size_t n);

/* Cut the buffer back to len bytes (no-op if len >= b->len); encoders use
 * it to leave the buffer unchanged when they fail half-way. */
void xbuf_truncate(struct xbuf *b, size_t len);
/* Drop the first n bytes (after a partial write). */
void xbuf_consume(struct xbuf *b, size_t n);
void xbuf_reset(struct xbuf *b); /* len = 0, keeps memory */
void xbuf_free(struct xbuf *b);  /* frees memory, back to XBUF_INIT */

#endif
