/* clog: format key=value log lines and hand them to the application's
 * callback. The library never prints: without a callback nothing happens.
 * Callers must never pass secrets (password, SASL data) here. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "clog.h"

#define CLOG_LINE_MAX 1024

void clog_printf(const struct clog *l, enum xpush_log_level lvl, const char *fmt, ...)
{
	char line[CLOG_LINE_MAX];
	va_list ap;
	int n;

	if (!clog_enabled(l, lvl))
		return;
	va_start(ap, fmt);
	n = vsnprintf(line, sizeof line, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if ((size_t)n >= sizeof line)
		memcpy(line + sizeof line - 4, "...", 4);
	l->cb(l->userdata, lvl, line);
}

const char *clog_quote(char *buf, size_t len, const char *s)
{
	static const char hex[] = "0123456789abcdef";
	size_t o = 0;

	if (len < 8) {
		if (len)
			buf[0] = '\0';
		return buf;
	}
	if (!s) {
		buf[0] = '-';
		buf[1] = '\0';
		return buf;
	}
	buf[o++] = '"';
	for (; *s; s++) {
		unsigned char ch = (unsigned char)*s;
		char esc[5];
		size_t el = 0;

		if (ch == '"' || ch == '\\') {
			esc[el++] = '\\';
			esc[el++] = (char)ch;
		} else if (ch == '\n') {
			esc[el++] = '\\';
			esc[el++] = 'n';
		} else if (ch == '\r') {
			esc[el++] = '\\';
			esc[el++] = 'r';
		} else if (ch == '\t') {
			esc[el++] = '\\';
			esc[el++] = 't';
		} else if (ch < 0x20 || ch == 0x7f) {
			esc[el++] = '\\';
			esc[el++] = 'x';
			esc[el++] = hex[ch >> 4];
			esc[el++] = hex[ch & 15];
		} else {
			esc[el++] = (char)ch;
		}
		/* keep room for ...", closing quote and NUL */
		if (o + el + 5 > len) {
			memcpy(buf + o, "...", 3);
			o += 3;
			break;
		}
		memcpy(buf + o, esc, el);
		o += el;
	}
	buf[o++] = '"';
	buf[o] = '\0';
	return buf;
}
