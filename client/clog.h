/* clog: the library's one log path. Formats key=value lines and hands them
 * to the application's callback; never prints, never allocates. */
#ifndef XPUSH_CLOG_H
#define XPUSH_CLOG_H

#include <stddef.h>
#include "xpush.h"

struct clog {
	xpush_log_cb cb;
	void *userdata;
	enum xpush_log_level level;
};

static inline int clog_enabled(const struct clog *l, enum xpush_log_level lvl)
{
	return l && l->cb && lvl >= l->level;
}

/* Format and deliver one line (truncated to 1 KiB with "..."). */
void clog_printf(const struct clog *l, enum xpush_log_level lvl, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Quote s for a log value: "..." with \" \\ \n \r \t and \xHH for other
 * control bytes; truncated with ... to fit buf. Returns buf. NULL -> "-". */
const char *clog_quote(char *buf, size_t len, const char *s);

#endif
