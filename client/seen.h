/* seen: the durable de-duplication store ("displayed once").
 *
 * One append-only file per component JID in the state directory,
 * seen-<sanitised component JID>.log, one line per notification id and
 * event: "<unix seconds> <id> p\n" before the notification is handed to the
 * app (pending), "<unix seconds> <id>\n" once the app displayed it,
 * "<unix seconds> <id> r\n" when its retract was handled; compaction writes
 * one line per id with all its letters (e.g. "nr").
 * Loaded into an in-memory hash table when opened; each new record is
 * written and fdatasync'ed before seen_add/seen_mark return. A torn last
 * line (crash mid-write) is cut off when opening; a corrupt line is skipped.
 * The file is compacted (temp file, fsync, rename, fsync dir) once it grows
 * past max_lines, keeping ids younger than retention_s. An exclusive flock
 * on seen-<...>.lock keeps a second client off the same store.
 *
 * Pure of the network; time is passed in. Returns enum xpush_error codes. */
#ifndef XPUSH_SEEN_H
#define XPUSH_SEEN_H

#include <stddef.h>
#include <stdint.h>

#define SEEN_ID_MAX 128

/* What the store knows about an id (a bit set). */
#define SEEN_NOTIFIED 1u  /* displayed: the notify callback returned */
#define SEEN_RETRACTED 2u /* its retract was handled: a late copy must not be displayed */
#define SEEN_PENDING 4u   /* recorded before display: if not NOTIFIED too, the
                             process died before the display was recorded */

struct seen;

struct seen_opts {
	int64_t retention_s; /* ids older than this are forgotten at compaction */
	size_t max_lines;    /* compact when the file has more lines than this */
};

struct seen_stats {
	size_t live;      /* ids in memory */
	size_t lines;     /* lines in the file */
	size_t corrupt;   /* lines skipped when loading */
	size_t expired;   /* lines too old when loading */
	int torn;         /* a torn last line was cut off when loading */
};

/* An id is 1..SEEN_ID_MAX printable ASCII bytes without spaces. */
int seen_id_valid(const char *id);

/* Open (creating dir and file if needed) the store for component_jid in dir.
 * *out gets the store; err a one-line reason on failure. Returns XPUSH_OK,
 * XPUSH_EINVAL, XPUSH_EIO, XPUSH_EBUSY (locked by another), XPUSH_ENOMEM. */
__attribute__((warn_unused_result))
int seen_open(const char *dir, const char *component_jid, const struct seen_opts *o,
              int64_t now_s, struct seen **out, char *err, size_t errlen);

/* 1 if id was recorded in any way (and not yet forgotten), else 0. */
int seen_contains(const struct seen *s, const char *id);

/* The SEEN_* bits recorded for id; 0 if unknown. */
unsigned seen_flags(const struct seen *s, const char *id);

/* Record id as SEEN_NOTIFIED durably (write + fdatasync). XPUSH_OK,
 * XPUSH_EINVAL (bad id), XPUSH_EIO (nothing recorded, the file is as
 * before), XPUSH_ENOMEM. Adding an id already present is XPUSH_OK and writes
 * nothing. */
__attribute__((warn_unused_result))
int seen_add(struct seen *s, const char *id, int64_t now_s, char *err, size_t errlen);

/* Add the bits in flags (SEEN_NOTIFIED, _RETRACTED, _PENDING) to id, durably; the
 * same codes as seen_add. Nothing is written when id already has them all. */
__attribute__((warn_unused_result))
int seen_mark(struct seen *s, const char *id, unsigned flags, int64_t now_s, char *err,
              size_t errlen);

/* 1 when the file has grown past the compaction threshold. */
int seen_needs_compact(const struct seen *s);

/* Rewrite the file with the ids younger than retention_s and forget the
 * others. On failure the old file stays in use. */
__attribute__((warn_unused_result))
int seen_compact(struct seen *s, int64_t now_s, char *err, size_t errlen);

void seen_stats(const struct seen *s, struct seen_stats *st);
const char *seen_path(const struct seen *s);

/* Close files, drop the lock, free memory (NULL is fine). */
void seen_close(struct seen *s);

#endif
