/* log: the daemon's one logging module. Lines go to stderr as
 *   xpushd level=info msg="component ready" jid=push.example.org
 * (journald-friendly key=value). Secrets are never passed here. */
#ifndef XPUSH_LOG_H
#define XPUSH_LOG_H

enum log_level { LOG_DEBUG = 0, LOG_INFO, LOG_WARN, LOG_ERROR };

void log_set_level(enum log_level level);
int log_enabled(enum log_level level);
/* 0 and *out set, or -1 if name is not debug|info|warn|error. */
int log_level_parse(const char *name, enum log_level *out);
const char *log_level_name(enum log_level level);

/* msg is a fixed human phrase; fields is a printf format for the key=value
 * tail (may be NULL). Values that can hold spaces or come from the network
 * must go through log_q(). */
__attribute__((format(printf, 3, 4))) void log_msg(enum log_level level, const char *msg,
                                                   const char *fields, ...);

/* Quote and sanitise s for a field value: "..." with \" \\ and control bytes
 * escaped, cut at 200 bytes. Returns one of 8 rotating static buffers, so up
 * to 8 log_q() results may appear in one log_msg() call. */
const char *log_q(const char *s);

#define log_debug(msg, ...) \
	do { \
		if (log_enabled(LOG_DEBUG)) \
			log_msg(LOG_DEBUG, msg, __VA_ARGS__); \
	} while (0)
#define log_info(msg, ...) log_msg(LOG_INFO, msg, __VA_ARGS__)
#define log_warn(msg, ...) log_msg(LOG_WARN, msg, __VA_ARGS__)
#define log_error(msg, ...) log_msg(LOG_ERROR, msg, __VA_ARGS__)

#endif
