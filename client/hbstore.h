/* hbstore: the learned heartbeat state of every network the device has been
 * on, persisted in the state directory so that the next connection to the
 * same network starts from what was learned (not from min again).
 *
 * File: STATE_DIR/heartbeat.tab, one line per network:
 *     <network key> TAB <nl_format() text> TAB <unix seconds of the last update>
 * Keys are printable UTF-8 without control characters (so never a TAB or a
 * newline). Damaged lines are skipped (and counted). Every update rewrites
 * the file atomically (temporary file, fsync, rename, fsync of the
 * directory): a crash leaves the old or the new table, never a mix. At most
 * HBSTORE_MAX networks are kept; the least recently updated one goes first. */
#ifndef XPUSH_HBSTORE_H
#define XPUSH_HBSTORE_H

#include <stddef.h>
#include <stdint.h>

#include "netlearn.h"

#define HBSTORE_MAX 64
#define HBSTORE_KEY_MAX 128
#define HBSTORE_FILE "heartbeat.tab"

struct hbstore;

/* Load dir/heartbeat.tab (a missing file is an empty table). *out receives a
 * store to free with hbstore_close(). Returns 0, or -1 with err set (out of
 * memory, or the file exists but cannot be read). */
int hbstore_open(const char *dir, struct hbstore **out, char *err, size_t errlen);
void hbstore_close(struct hbstore *s);

/* 1 and *st filled if key is known, else 0. */
int hbstore_get(const struct hbstore *s, const char *key, struct nl_state *st);

/* Remember st for key (updated at now_s) and rewrite the file. Returns 0, or
 * -1 with err set; the in-memory table is updated either way. */
int hbstore_put(struct hbstore *s, const char *key, const struct nl_state *st, int64_t now_s,
                char *err, size_t errlen);

size_t hbstore_count(const struct hbstore *s);
size_t hbstore_damaged(const struct hbstore *s);

#endif
