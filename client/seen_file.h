/* seen_file: the seen store's file format and its durable I/O (seen.h
 * describes the format): one line parsed or formatted at a time, the whole
 * file read, writes that reach the disk. It knows nothing of the in-memory
 * set, of retention, or of what makes an id valid (seen.c checks that). */
#ifndef XPUSH_SEEN_FILE_H
#define XPUSH_SEEN_FILE_H

#include <stddef.h>
#include <stdint.h>

#include "seen.h"

/* Room for the longest record line, its newline and a NUL. */
#define SEEN_FILE_LINE_MAX (SEEN_ID_MAX + 80)

/* One parsed line. */
struct seen_rec {
	int is_clock; /* an "S <srv>" line */
	int64_t ts, exp, srv;
	char *id;       /* into the line; not checked with seen_id_valid() */
	unsigned flags; /* SEEN_*; a first-version line is SEEN_NOTIFIED */
};

/* Parse one line (without its newline; line[len] must be writable: the
 * line is cut into fields in place) in any of the formats of seen.h:
 * "<ts> <id>", "<ts> <id> <flags>" (the first version),
 * "<ts> <id> <flags> <exp> <srv>" and "S <srv>". 0, or -1 if corrupt. */
int seen_file_parse(char *line, size_t len, struct seen_rec *r);

/* "<ts> <id> <flags> <exp> <srv>\n" into buf (len >= SEEN_FILE_LINE_MAX
 * for an id of at most SEEN_ID_MAX bytes). Returns its length. */
int seen_file_record(char *buf, size_t len, int64_t ts, const char *id, unsigned flags, int64_t exp,
                     int64_t srv);

/* "S <srv>\n" into buf. Returns its length. */
int seen_file_clock(char *buf, size_t len, int64_t srv);

/* Read all of fd (named path, for err) into *buf (malloc'ed, NULL when the
 * file is empty; caller frees) and *len. XPUSH_OK, XPUSH_EIO or XPUSH_ENOMEM. */
int seen_file_read(int fd, const char *path, char **buf, size_t *len, char *err, size_t errlen);

/* write() all of buf, across short writes and EINTR. 0, or -1 (errno set). */
int seen_file_write_all(int fd, const char *buf, size_t len);

/* fsync the directory that holds dir, so that a new dir survives a crash
 * (best effort). */
void seen_file_fsync_parent(const char *dir);

/* a b c joined into a new string (caller frees), or NULL when out of memory. */
char *seen_file_join(const char *a, const char *b, const char *c);

#endif
