/* cli_format: how xpush-client prints a notification on stdout. Pure (no
 * I/O): human "key=value" lines with C-style escapes, or one JSON object per
 * line. Part of the xpush-client program, not of libxpush. */
#ifndef XPUSH_CLI_FORMAT_H
#define XPUSH_CLI_FORMAT_H

#include <stddef.h>
#include "xpush.h"

/* Growable string; oom is set (and the content frozen) on allocation failure. */
struct cbuf {
	char *p;
	size_t len, cap;
	int oom;
};

void cbuf_free(struct cbuf *b);
void cbuf_putn(struct cbuf *b, const char *s, size_t n);
void cbuf_puts(struct cbuf *b, const char *s);

/* "..." with \" \\ \n \r \t \a \b \f \v and \xHH for other control bytes
 * (and DEL); other bytes, UTF-8 included, pass through. */
void cli_quote_c(struct cbuf *b, const char *s);

/* A JSON string: " \\ escaped, control bytes as \u00XX, valid UTF-8 passes
 * through, each byte of an invalid sequence becomes \ufffd. */
void cli_quote_json(struct cbuf *b, const char *s);

/* One line, with the trailing newline:
 * notification id=42 app=com.example title="..." body="..." uri="..." collapse=KEY
 * (absent fields omitted; collapse last). */
void cli_format_human(struct cbuf *b, const struct xpush_notification *n);

/* One line, with the trailing newline:
 * {"id":"42","app":"..","priority":"..","collapse":"..","title":"..","body":"..",
 *  "uri":"..","payload":".."} (absent fields omitted; never an "event" key). */
void cli_format_json(struct cbuf *b, const struct xpush_notification *n);

/* A retract, one line with the trailing newline: "retract id=42", or in
 * JSON {"event":"retract","id":"42"} (the "event" key tells it apart from
 * a notification object). */
void cli_format_retract_human(struct cbuf *b, const struct xpush_retract *r);
void cli_format_retract_json(struct cbuf *b, const struct xpush_retract *r);

#endif
