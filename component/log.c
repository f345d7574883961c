/* log: formatting and level filtering for xpushd's key=value log lines.
 * Writes each line with one write(2) so lines never interleave. */
#include "log.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static enum log_level log_min = LOG_INFO;
static const char *const level_names[] = { "debug", "info", "warn", "error" };

void log_set_level(enum log_level level)
{
	log_min = level;
}
int log_enabled(enum log_level level)
{
	return level >= log_min;
}
const char *log_level_name(enum log_level level)
{
	return level_names[level];
}

int log_level_parse(const char *name, enum log_level *out)
{
	for (int i = 0; i < 4; i++) {
		if (strcmp(name, level_names[i]) == 0) {
			*out = (enum log_level)i;
			return 0;
		}
	}
	return -1;
}

const char *log_q(const char *s)
{
	static char bufs[8][256];
	static unsigned next;
	char *out = bufs[next++ % 8];
	size_t o = 0;

	if (!s)
		s = "";
	out[o++] = '"';
	for (size_t i = 0; s[i] && o < 200; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c == '"' || c == '\\') {
			out[o++] = '\\';
			out[o++] = (char)c;
		} else if (c < 0x20 || c == 0x7f) {
			o += (size_t)snprintf(out + o, 8, "\\x%02x", c);
		} else {
			out[o++] = (char)c;
		}
	}
	out[o++] = '"';
	out[o] = '\0';
	return out;
}

void log_msg(enum log_level level, const char *msg, const char *fields, ...)
{
	char line[2048];
	int n;
	va_list ap;

	if (level < log_min)
		return;
	n = snprintf(line, sizeof line, "xpushd level=%s msg=%s", level_names[level], log_q(msg));
	if (fields && n > 0 && (size_t)n < sizeof line - 2) {
		line[n++] = ' ';
		va_start(ap, fields);
		int m = vsnprintf(line + n, sizeof line - (size_t)n, fields, ap);
		va_end(ap);
		if (m > 0)
			n += m;
	}
	if (n < 0)
		return;
	if ((size_t)n > sizeof line - 2)
		n = (int)sizeof line - 2;
	line[n++] = '\n';
	ssize_t w = write(STDERR_FILENO, line, (size_t)n);
	(void)w;
}
