/* seen: the durable de-duplication store ("displayed once").
 *
 * One append-only file per component JID in the state directory,
 * seen-<sanitised component JID>.log, one line per notification id and
 * event:
 *   "<dev> <id> <flags> <exp> <srv>\n"
 * flags: one letter per bit, "p" before the notification is handed to the
 * app (pending), "n" once the app displayed it, "r" when its retract was
 * handled (compaction writes one line per id with all its letters, e.g.
 * "nr"); exp: the server time (unix seconds, UTC) after which the server
 * cannot resend the id (0 = not known yet); srv: the notification's created
 * stamp (server time; 0 for none); dev: the device clock when written, for
 * diagnostics only. Compaction also writes "S <srv>\n", the store's server
 * clock. Lines of the first version, "<dev> <id>\n" and "<dev> <id>
 * <flags>\n", still load (as records whose expiry is not known yet), so a
 * store from that version is migrated in place: its lines stay until the
 * next compaction rewrites them in this format. (A first-version client
 * reading this format skips every line as corrupt.)
 *
 * Retention follows the server's clock, never the device's: the store's
 * clock is the newest created stamp it recorded (monotonic, persisted in the
 * records and the S line), and an id is forgotten once that clock is past
 * its exp + SEEN_GRACE_S: the server no longer sends a notification past its
 * expiry, and every created stamp is the server's now when it was enqueued.
 * exp is the notification's expires; without one (ttl 0) its created +
 * retention_s; for a retract (no stamps), or a first-version line, the
 * clock + retention_s once the clock is known, and kept until then. A device
 * clock at 1970 or years ahead changes nothing.
 *
 * Size: the store compacts (temp file, fsync, rename, fsync dir) once the
 * file has more than max(max_lines, 2 x live ids) lines or the live ids
 * exceed max_ids by an eighth; compaction drops what the clock has passed
 * and, if still more than max_ids ids remain, evicts those with the soonest
 * expiry (then the unknown ones last) down to max_ids, counted in
 * seen_stats (the caller logs it). So memory holds at most ~1.125 x max_ids
 * ids and the file at most max(max_lines, 2.25 x max_ids) lines.
 *
 * Each new record is written and fdatasync'ed before seen_add/seen_mark
 * return. A torn last line (crash mid-write) is cut off when opening; a
 * corrupt line is skipped. An exclusive flock on seen-<...>.lock keeps a
 * second client off the same store.
 *
 * Pure of the network; time is passed in. Returns enum xpush_error codes. */
#ifndef XPUSH_SEEN_H
#define XPUSH_SEEN_H

#include <stddef.h>
#include <stdint.h>

#define SEEN_ID_MAX 128
/* Kept this long past its expiry on the server clock (copies in flight). */
#define SEEN_GRACE_S 3600
/* Times above this (year 5138) are treated as absent. */
#define SEEN_TIME_MAX 99999999999LL

/* What the store knows about an id (a bit set). */
#define SEEN_NOTIFIED 1u  /* displayed: the notify callback returned */
#define SEEN_RETRACTED 2u /* its retract was handled: a late copy must not be displayed */
#define SEEN_PENDING \
	4u /* recorded before display: if not NOTIFIED too, the
                             process died before the display was recorded */

struct seen;

struct seen_opts {
	int64_t retention_s; /* server-time lifetime of a record that brings no expiry */
	size_t max_lines;    /* compact when the file has more lines than this */
	size_t max_ids;      /* hard cap on live ids (evicted by expiry order) */
};

struct seen_stats {
	size_t live;              /* ids in memory */
	size_t lines;             /* lines in the file */
	size_t corrupt;           /* lines skipped when loading */
	size_t expired;           /* ids the server clock had passed when loading */
	int torn;                 /* a torn last line was cut off when loading */
	size_t evicted;           /* ids evicted by the max_ids cap since open */
	size_t last_dropped;      /* by the last compaction: ids the server clock passed */
	size_t last_evicted;      /* by the last compaction: ids evicted by the cap */
	int64_t last_evicted_exp; /* the latest expiry among those (0: unknown) */
	int64_t clock;            /* the store's server clock (unix s), 0 = not known yet */
};

/* "YYYY-MM-DDTHH:MM:SS[.frac](Z|+00:00)" (what xpushd sends) to unix
 * seconds. 0 ok, -1 not such a time. */
int seen_parse_time(const char *iso, int64_t *out);

/* An id is 1..SEEN_ID_MAX printable ASCII bytes without spaces. */
int seen_id_valid(const char *id);

/* Open (creating dir and file if needed) the store for component_jid in dir.
 * *out gets the store; err a one-line reason on failure. Returns XPUSH_OK,
 * XPUSH_EINVAL, XPUSH_EIO, XPUSH_EBUSY (locked by another), XPUSH_ENOMEM. */
__attribute__((warn_unused_result)) int seen_open(const char *dir, const char *component_jid,
                                                  const struct seen_opts *o, int64_t now_s,
                                                  struct seen **out, char *err, size_t errlen);

/* 1 if id was recorded in any way (and not yet forgotten), else 0. */
int seen_contains(const struct seen *s, const char *id);

/* The SEEN_* bits recorded for id; 0 if unknown. */
unsigned seen_flags(const struct seen *s, const char *id);

/* Record id as SEEN_NOTIFIED durably (write + fdatasync). XPUSH_OK,
 * XPUSH_EINVAL (bad id), XPUSH_EIO (nothing recorded, the file is as
 * before), XPUSH_ENOMEM. Adding an id already present is XPUSH_OK and writes
 * nothing. */
__attribute__((warn_unused_result)) int seen_add(struct seen *s, const char *id, int64_t now_s,
                                                 char *err, size_t errlen);

/* Add the bits in flags (SEEN_NOTIFIED, _RETRACTED, _PENDING) to id, durably; the
 * same codes as seen_add. Nothing is written when id already has them all. */
__attribute__((warn_unused_result)) int seen_mark(struct seen *s, const char *id, unsigned flags,
                                                  int64_t now_s, char *err, size_t errlen);

/* seen_mark with the notification's server-time stamps (unix seconds, 0 =
 * absent): created advances the store's clock, expires (else created +
 * retention_s) is how long the id is kept. */
__attribute__((warn_unused_result)) int seen_mark_at(struct seen *s, const char *id, unsigned flags,
                                                     int64_t now_s, int64_t created,
                                                     int64_t expires, char *err, size_t errlen);

/* A created stamp seen without a record (a duplicate): advances the clock in
 * memory (persisted with the next record or compaction). */
void seen_observe(struct seen *s, int64_t created);

/* 1 when the file has grown past the compaction threshold. */
int seen_needs_compact(const struct seen *s);

/* Rewrite the file with the ids the server can still resend (at most
 * max_ids) and forget the others. now_s is not used (the device clock plays
 * no part). On failure the old file stays in use. */
__attribute__((warn_unused_result)) int seen_compact(struct seen *s, int64_t now_s, char *err,
                                                     size_t errlen);

void seen_stats(const struct seen *s, struct seen_stats *st);
const char *seen_path(const struct seen *s);

/* Close files, drop the lock, free memory (NULL is fine). */
void seen_close(struct seen *s);

#endif
