/* bench_util: what the benchmark tools share (devsim, basesend, producer):
 * a growable byte buffer, XML attribute escaping, clocks, a control FIFO and
 * atomic status files. No sockets, no XML parsing; benchmark code only. */
#ifndef XPUSH_BENCH_UTIL_H
#define XPUSH_BENCH_UTIL_H

#include <stddef.h>
#include <stdint.h>

struct bbuf {
	char *data;
	size_t len, cap;
};

/* Append; the process exits on OOM (a benchmark tool, not a library). */
void bbuf_put(struct bbuf *b, const char *s, size_t n);
void bbuf_puts(struct bbuf *b, const char *s);
void bbuf_printf(struct bbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Append s with & < > ' " escaped (attribute- and text-safe). */
void bbuf_put_esc(struct bbuf *b, const char *s);
void bbuf_consume(struct bbuf *b, size_t n);
void bbuf_free(struct bbuf *b);

int64_t now_real_ns(void);   /* CLOCK_REALTIME: comparable across processes and Postgres */
int64_t now_mono_ms(void);

/* Base64 of n bytes into out (NUL-terminated); out needs 4*((n+2)/3)+1 bytes. */
void b64_encode(const unsigned char *in, size_t n, char *out);

/* Write text to path atomically (path.tmp + rename). 0 or -1. */
int write_file_atomic(const char *path, const char *text, size_t n);

/* Open a FIFO for reading without ever seeing EOF (we hold a writer too).
 * Returns the read fd (non-blocking) or -1. */
int ctl_open(const char *path);
/* Read complete lines from the control fd; calls fn for each line (NUL-terminated,
 * no newline). Returns 0, or -1 on a read error. */
int ctl_read(int fd, struct bbuf *pending, void (*fn)(void *ud, char *line), void *ud);

/* Raise RLIMIT_NOFILE's soft limit to the hard limit; returns the new soft limit. */
long raise_nofile(void);

#endif
