/* seen: durable de-duplication of notification ids (see seen.h for the file
 * format and the guarantees). Owns the files seen-<jid>.log/.lock/.tmp in
 * the state directory and nothing else; their line format and the I/O
 * under it are seen_file.c's. The in-memory set is an open addressing hash
 * table keyed by id (with the SEEN_* bits and the server-time expiry of
 * each); ids are short, so it stays small.
 *
 * Retention runs on the SERVER's clock, never the device's: the store keeps
 * the newest `created` stamp of the notifications it recorded (clock) and
 * forgets an id only once that clock is past the id's expiry, i.e. once the
 * server can no longer resend it (xpushd sends only unexpired notifications,
 * and every created stamp is the server's now at enqueue). A device clock at
 * 1970 or years ahead changes nothing. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "seen.h"
#include "seen_file.h"
#include "xjid.h"
#include "xpush.h"

struct seen_entry {
	char *id;       /* NULL = empty slot */
	int64_t ts;     /* device clock of its newest record (diagnostics only) */
	int64_t exp;    /* server time after which it cannot be resent; 0 = not known yet */
	unsigned flags; /* SEEN_* */
};

struct seen {
	char *dir, *name, *tmp_name, *path;
	int fd, lock_fd, dir_fd;
	off_t size;
	struct seen_entry *tab;
	size_t cap, live;
	size_t lines, corrupt, expired, evicted;
	size_t last_dropped, last_evicted; /* by the last compaction */
	int64_t last_evicted_exp;          /* the latest expiry it evicted */
	int torn;
	size_t threshold;
	int64_t clock; /* newest server time known (max created seen), 0 = none yet */
	struct seen_opts o;
};

int seen_id_valid(const char *id)
{
	size_t n = 0;

	if (!id)
		return 0;
	for (; id[n]; n++) {
		unsigned char ch = (unsigned char)id[n];
		if (ch <= 0x20 || ch >= 0x7f || n >= SEEN_ID_MAX)
			return 0;
	}
	return n > 0;
}

static int digits(const char *p, int n, int *v)
{
	int x = 0;

	for (int i = 0; i < n; i++) {
		if (p[i] < '0' || p[i] > '9')
			return -1;
		x = x * 10 + (p[i] - '0');
	}
	*v = x;
	return 0;
}

int seen_parse_time(const char *t, int64_t *out)
{
	int y, mo, d, h, mi, sec;
	const char *p;
	int64_t yy, era, yoe, doy, doe, days;

	if (!t || strlen(t) < 20 || digits(t, 4, &y) || t[4] != '-' || digits(t + 5, 2, &mo) ||
	    t[7] != '-' || digits(t + 8, 2, &d) || (t[10] != 'T' && t[10] != 't') ||
	    digits(t + 11, 2, &h) || t[13] != ':' || digits(t + 14, 2, &mi) || t[16] != ':' ||
	    digits(t + 17, 2, &sec))
		return -1;
	p = t + 19;
	if (*p == '.') /* fractions of a second: dropped */
		for (p++; *p >= '0' && *p <= '9'; p++)
			;
	if (!((p[0] == 'Z' || p[0] == 'z') && !p[1]) && strcmp(p, "+00:00") != 0 &&
	    strcmp(p, "-00:00") != 0)
		return -1;
	if (y < 1970 || mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || sec > 60)
		return -1;
	/* days from 1970-01-01 in the proleptic Gregorian calendar */
	yy = y - (mo <= 2);
	era = yy / 400;
	yoe = yy - era * 400;
	doy = (153 * (mo + (mo > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	days = era * 146097 + doe - 719468;
	*out = days * 86400 + h * 3600 + mi * 60 + sec;
	return 0;
}

static uint64_t hash_id(const char *s)
{
	uint64_t h = 1469598103934665603ULL;

	for (; *s; s++) {
		h ^= (unsigned char)*s;
		h *= 1099511628211ULL;
	}
	return h;
}

static struct seen_entry *slot_for(struct seen_entry *tab, size_t cap, const char *id)
{
	size_t i = (size_t)hash_id(id) & (cap - 1);

	while (tab[i].id && strcmp(tab[i].id, id) != 0)
		i = (i + 1) & (cap - 1);
	return &tab[i];
}

/* Make room for one more id. */
static int reserve(struct seen *s)
{
	struct seen_entry *nt;
	size_t ncap;

	if (s->cap && (s->live + 1) * 10 < s->cap * 7)
		return 0;
	ncap = s->cap ? s->cap * 2 : 64;
	if (!(nt = calloc(ncap, sizeof *nt)))
		return -1;
	for (size_t i = 0; i < s->cap; i++)
		if (s->tab[i].id)
			*slot_for(nt, ncap, s->tab[i].id) = s->tab[i];
	free(s->tab);
	s->tab = nt;
	s->cap = ncap;
	return 0;
}

/* Insert (taking ownership of id) or add flags, keeping the newest device
 * time and the latest known expiry. 1 new, 0 known. */
static int set_put(struct seen *s, char *id, int64_t ts, int64_t exp, unsigned flags)
{
	struct seen_entry *e = slot_for(s->tab, s->cap, id);

	if (e->id) {
		if (ts > e->ts)
			e->ts = ts;
		if (exp > e->exp)
			e->exp = exp;
		e->flags |= flags;
		free(id);
		return 0;
	}
	e->id = id;
	e->ts = ts;
	e->exp = exp;
	e->flags = flags;
	s->live++;
	return 1;
}

/* The server can no longer resend it: its expiry is known and the server
 * clock is past it (plus a grace for in-flight copies). */
static int gone(const struct seen *s, const struct seen_entry *e)
{
	return e->exp > 0 && s->clock > e->exp + SEEN_GRACE_S;
}

/* An expiry for a record that brings none: the default lifetime counted
 * from its own created stamp, else from the server clock (the newest
 * created seen, which is not later than the server's now), else unknown (0:
 * kept until the server clock is known, then given one). */
static int64_t default_exp(const struct seen *s, int64_t created)
{
	if (created > 0)
		return created + s->o.retention_s;
	if (s->clock > 0)
		return s->clock + s->o.retention_s;
	return 0;
}

static void clock_advance(struct seen *s, int64_t srv)
{
	if (srv > s->clock)
		s->clock = srv;
}

unsigned seen_flags(const struct seen *s, const char *id)
{
	const struct seen_entry *e;

	if (!s || !id || !s->cap)
		return 0;
	e = slot_for(s->tab, s->cap, id);
	return e->id ? e->flags : 0;
}

int seen_contains(const struct seen *s, const char *id)
{
	return seen_flags(s, id) != 0;
}

/* Compaction is due past max_lines lines (or twice the live ids, so a big
 * live set does not compact on every add), or once the live ids exceed
 * max_ids by an eighth (compaction then evicts down to max_ids). */
static void update_threshold(struct seen *s)
{
	s->threshold = s->o.max_lines;
	if (s->threshold < 2 * s->live)
		s->threshold = 2 * s->live;
}

int seen_needs_compact(const struct seen *s)
{
	return s->lines > s->threshold || s->live > s->o.max_ids + s->o.max_ids / 8;
}

/* Mark in keep[] the ids the server can still resend, giving an unknown
 * expiry one once the clock is known. Returns how many were marked. */
static size_t mark_live(struct seen *s, unsigned char *keep)
{
	size_t kept = 0;

	for (size_t i = 0; i < s->cap; i++) {
		struct seen_entry *e = &s->tab[i];
		if (!e->id)
			continue;
		if (!e->exp)
			e->exp = default_exp(s, 0);
		keep[i] = !gone(s, e);
		kept += keep[i];
	}
	return kept;
}

/* Rebuild the table with the kept entries keep[] marks; free the others. */
static int rebuild(struct seen *s, const unsigned char *keep, size_t kept)
{
	struct seen_entry *nt;
	size_t ncap = 64;

	while ((kept + 1) * 10 >= ncap * 7)
		ncap *= 2;
	if (!(nt = calloc(ncap, sizeof *nt)))
		return -1;
	for (size_t i = 0; i < s->cap; i++) {
		struct seen_entry *e = &s->tab[i];
		if (!e->id)
			continue;
		if (keep[i])
			*slot_for(nt, ncap, e->id) = *e;
		else
			free(e->id);
	}
	free(s->tab);
	s->tab = nt;
	s->cap = ncap;
	s->live = kept;
	return 0;
}

/* Read the file into the table: every record first (an id's lines merge,
 * the clock is the newest server time of any line), then what the clock
 * has passed goes. */
static int load(struct seen *s, char *err, size_t errlen)
{
	unsigned char *keep = NULL;
	char *buf;
	size_t len, end, kept;
	int rc;

	if ((rc = seen_file_read(s->fd, s->path, &buf, &len, err, errlen)) != XPUSH_OK)
		return rc;
	rc = XPUSH_EIO;
	/* a torn last line: cut it off so the next append starts clean */
	end = len;
	while (end > 0 && buf[end - 1] != '\n')
		end--;
	if (end != len) {
		s->torn = 1;
		if (ftruncate(s->fd, (off_t)end) < 0 || fdatasync(s->fd) < 0) {
			snprintf(err, errlen, "truncate torn line in %s: %s", s->path,
			         strerror(errno));
			goto out;
		}
	}
	s->size = (off_t)end;
	for (size_t pos = 0; pos < end;) {
		char *nl = memchr(buf + pos, '\n', end - pos);
		size_t ll = (size_t)(nl - (buf + pos));
		struct seen_rec r;

		s->lines++;
		if (seen_file_parse(buf + pos, ll, &r) || (!r.is_clock && !seen_id_valid(r.id))) {
			s->corrupt++;
		} else {
			clock_advance(s, r.srv);
			if (!r.is_clock) {
				char *copy;
				if (reserve(s) || !(copy = strdup(r.id))) {
					rc = XPUSH_ENOMEM;
					goto out;
				}
				/* a record without expiry: its own created, if it has one */
				set_put(s, copy, r.ts,
				        r.exp ? r.exp : (r.srv ? r.srv + s->o.retention_s : 0),
				        r.flags);
			}
		}
		pos += ll + 1;
	}
	if (!(keep = calloc(s->cap ? s->cap : 1, 1))) {
		rc = XPUSH_ENOMEM;
		goto out;
	}
	kept = mark_live(s, keep);
	s->expired = s->live - kept;
	if (rebuild(s, keep, kept)) {
		rc = XPUSH_ENOMEM;
		goto out;
	}
	update_threshold(s);
	rc = XPUSH_OK;
out:
	free(keep);
	free(buf);
	return rc;
}

int seen_open(const char *dir, const char *component_jid, const struct seen_opts *o, int64_t now_s,
              struct seen **out, char *err, size_t errlen)
{
	char san[512];
	char *lock_name = NULL;
	struct seen *s;
	int created = 0, rc = XPUSH_EIO;

	*out = NULL;
	if (!dir || !*dir || xjid_sanitise(component_jid, san, sizeof san)) {
		snprintf(err, errlen, "invalid state dir or component JID");
		return XPUSH_EINVAL;
	}
	if (!(s = calloc(1, sizeof *s)))
		return XPUSH_ENOMEM;
	s->fd = s->lock_fd = s->dir_fd = -1;
	s->o = *o;
	if (s->o.max_lines < 16)
		s->o.max_lines = 16;
	if (s->o.max_ids < 16)
		s->o.max_ids = 16;
	s->dir = strdup(dir);
	s->name = seen_file_join("seen-", san, ".log");
	s->tmp_name = seen_file_join("seen-", san, ".tmp");
	lock_name = seen_file_join("seen-", san, ".lock");
	if (!s->dir || !s->name || !s->tmp_name || !lock_name ||
	    !(s->path = seen_file_join(dir, "/", s->name))) {
		rc = XPUSH_ENOMEM;
		goto fail;
	}
	if (mkdir(dir, 0700) == 0) {
		seen_file_fsync_parent(dir); /* the new directory must survive a crash */
	} else if (errno != EEXIST) {
		snprintf(err, errlen, "create state dir %s: %s", dir, strerror(errno));
		goto fail;
	}
	if ((s->dir_fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0) {
		snprintf(err, errlen, "open state dir %s: %s", dir, strerror(errno));
		goto fail;
	}
	if ((s->lock_fd = openat(s->dir_fd, lock_name, O_RDWR | O_CREAT | O_CLOEXEC, 0600)) < 0) {
		snprintf(err, errlen, "open %s/%s: %s", dir, lock_name, strerror(errno));
		goto fail;
	}
	if (flock(s->lock_fd, LOCK_EX | LOCK_NB) < 0) {
		if (errno == EWOULDBLOCK) {
			snprintf(err, errlen, "%s is in use by another client", s->path);
			rc = XPUSH_EBUSY;
		} else {
			snprintf(err, errlen, "lock %s/%s: %s", dir, lock_name, strerror(errno));
		}
		goto fail;
	}
	s->fd = openat(s->dir_fd, s->name, O_RDWR | O_APPEND | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (s->fd >= 0)
		created = 1;
	else if (errno == EEXIST)
		s->fd = openat(s->dir_fd, s->name, O_RDWR | O_APPEND | O_CLOEXEC);
	if (s->fd < 0) {
		snprintf(err, errlen, "open %s: %s", s->path, strerror(errno));
		goto fail;
	}
	/* the new name must survive a crash too */
	if (created && fsync(s->dir_fd) < 0) {
		snprintf(err, errlen, "fsync %s: %s", dir, strerror(errno));
		goto fail;
	}
	/* left over by a compaction that crashed before its rename */
	(void)unlinkat(s->dir_fd, s->tmp_name, 0);
	(void)now_s; /* the device clock plays no part in what is kept */
	if ((rc = load(s, err, errlen)) != XPUSH_OK)
		goto fail;
	free(lock_name);
	*out = s;
	return XPUSH_OK;
fail:
	free(lock_name);
	seen_close(s);
	return rc;
}

int seen_add(struct seen *s, const char *id, int64_t now_s, char *err, size_t errlen)
{
	if (seen_contains(s, id))
		return seen_id_valid(id) ? XPUSH_OK : XPUSH_EINVAL;
	return seen_mark(s, id, SEEN_NOTIFIED, now_s, err, errlen);
}

int seen_mark(struct seen *s, const char *id, unsigned flags, int64_t now_s, char *err,
              size_t errlen)
{
	return seen_mark_at(s, id, flags, now_s, 0, 0, err, errlen);
}

void seen_observe(struct seen *s, int64_t created)
{
	clock_advance(s, created);
}

int seen_mark_at(struct seen *s, const char *id, unsigned flags, int64_t now_s, int64_t created,
                 int64_t expires, char *err, size_t errlen)
{
	char line[SEEN_FILE_LINE_MAX];
	char *copy;
	int64_t exp;
	int n;

	if (!seen_id_valid(id) || !flags ||
	    (flags & ~(SEEN_NOTIFIED | SEEN_RETRACTED | SEEN_PENDING))) {
		snprintf(err, errlen, "invalid notification id or flags");
		return XPUSH_EINVAL;
	}
	if (created < 0 || created > SEEN_TIME_MAX)
		created = 0;
	if (expires < 0 || expires > SEEN_TIME_MAX)
		expires = 0;
	if ((seen_flags(s, id) & flags) == flags) {
		clock_advance(s, created);
		return XPUSH_OK;
	}
	/* get memory first: once the line is durable the insert must not fail */
	if (reserve(s) || !(copy = strdup(id)))
		return XPUSH_ENOMEM;
	exp = expires > 0 ? expires : default_exp(s, created);
	if (now_s < 0 || now_s > SEEN_TIME_MAX)
		now_s = 0; /* diagnostics only: never let a wild clock corrupt the line */
	n = seen_file_record(line, sizeof line, now_s, id, flags, exp, created);
	if (seen_file_write_all(s->fd, line, (size_t)n) < 0 || fdatasync(s->fd) < 0) {
		int e = errno;
		/* drop a partial line so the file stays line-aligned */
		if (ftruncate(s->fd, s->size) == 0)
			(void)fdatasync(s->fd);
		snprintf(err, errlen, "write %s: %s", s->path, strerror(e));
		free(copy);
		return XPUSH_EIO;
	}
	s->size += n;
	s->lines++;
	set_put(s, copy, now_s, exp, flags);
	clock_advance(s, created);
	return XPUSH_OK;
}

/* Expiry order for eviction: soonest first, unknown (0) last. */
static int by_exp(const void *a, const void *b)
{
	const struct seen_entry *x = *(struct seen_entry *const *)a,
				*y = *(struct seen_entry *const *)b;
	uint64_t ex = x->exp ? (uint64_t)x->exp : UINT64_MAX,
		 ey = y->exp ? (uint64_t)y->exp : UINT64_MAX;

	return ex < ey ? -1 : ex > ey;
}

int seen_compact(struct seen *s, int64_t now_s, char *err, size_t errlen)
{
	unsigned char *keep = NULL;
	struct seen_entry **order = NULL;
	size_t kept = 0, len = 0, bufcap = 0, evict = 0, dropped = 0;
	char *buf = NULL;
	int tfd = -1, rc = XPUSH_EIO;

	(void)now_s; /* the device clock plays no part in what is kept */
	s->last_evicted = 0;
	s->last_dropped = 0;
	if (!(keep = calloc(s->cap ? s->cap : 1, 1))) {
		rc = XPUSH_ENOMEM;
		goto out;
	}
	kept = mark_live(s, keep);
	dropped = s->live - kept;
	if (kept > s->o.max_ids) {
		/* the hard cap: forget the ids the server stops resending first */
		size_t k = 0;
		if (!(order = malloc(kept * sizeof *order))) {
			rc = XPUSH_ENOMEM;
			goto out;
		}
		for (size_t i = 0; i < s->cap; i++)
			if (keep[i])
				order[k++] = &s->tab[i];
		qsort(order, kept, sizeof *order, by_exp);
		evict = kept - s->o.max_ids;
		for (size_t j = 0; j < evict; j++)
			keep[order[j] - s->tab] = 0;
		s->last_evicted_exp = order[evict - 1]->exp;
		kept -= evict;
	}
	bufcap = 24 + kept * (SEEN_ID_MAX + 72) +
	         1; /* clock line; 3 numbers, flags, spaces, newline */
	if (!(buf = malloc(bufcap))) {
		rc = XPUSH_ENOMEM;
		goto out;
	}
	if (s->clock > 0) /* the clock outlives the records that brought it */
		len += (size_t)seen_file_clock(buf + len, bufcap - len, s->clock);
	for (size_t i = 0; i < s->cap; i++) {
		unsigned f = s->tab[i].flags;

		if (!keep[i])
			continue;
		if (f & SEEN_NOTIFIED)
			f &= ~SEEN_PENDING; /* displayed: pending says nothing more */
		len += (size_t)seen_file_record(buf + len, bufcap - len, s->tab[i].ts, s->tab[i].id,
		                                f, s->tab[i].exp, 0);
	}
	/* opened for appending: after the rename this descriptor is the store */
	tfd = openat(s->dir_fd, s->tmp_name, O_RDWR | O_APPEND | O_CREAT | O_TRUNC | O_CLOEXEC,
	             0600);
	if (tfd < 0 || seen_file_write_all(tfd, buf, len) < 0 || fsync(tfd) < 0) {
		snprintf(err, errlen, "write %s/%s: %s", s->dir, s->tmp_name, strerror(errno));
		goto out;
	}
	if (renameat(s->dir_fd, s->tmp_name, s->dir_fd, s->name) < 0) {
		snprintf(err, errlen, "rename to %s: %s", s->path, strerror(errno));
		goto out;
	}
	/* from here on the new file is the truth, even if the dir fsync fails */
	if (fsync(s->dir_fd) < 0)
		snprintf(err, errlen, "fsync %s: %s", s->dir, strerror(errno));
	close(s->fd);
	s->fd = tfd;
	tfd = -1;
	for (size_t i = 0; i < s->cap; i++)
		if (keep[i] && (s->tab[i].flags & SEEN_NOTIFIED))
			s->tab[i].flags &= ~SEEN_PENDING; /* as written */
	if (rebuild(s, keep, kept)) {
		/* the file is right; memory keeps the old table (a superset) */
		rc = XPUSH_OK;
		goto out;
	}
	rc = XPUSH_OK;
out:
	if (rc == XPUSH_OK) {
		s->last_dropped = dropped;
		s->last_evicted = evict;
		s->evicted += evict;
		s->lines = s->live + (s->clock > 0);
		s->size = (off_t)len;
		update_threshold(s);
	}
	if (tfd >= 0)
		close(tfd);
	if (rc != XPUSH_OK)
		(void)unlinkat(s->dir_fd, s->tmp_name, 0);
	free(order);
	free(keep);
	free(buf);
	return rc;
}

void seen_stats(const struct seen *s, struct seen_stats *st)
{
	st->live = s->live;
	st->lines = s->lines;
	st->corrupt = s->corrupt;
	st->expired = s->expired;
	st->torn = s->torn;
	st->evicted = s->evicted;
	st->last_dropped = s->last_dropped;
	st->last_evicted = s->last_evicted;
	st->last_evicted_exp = s->last_evicted_exp;
	st->clock = s->clock;
}

const char *seen_path(const struct seen *s)
{
	return s->path;
}

void seen_close(struct seen *s)
{
	if (!s)
		return;
	for (size_t i = 0; i < s->cap; i++)
		free(s->tab[i].id);
	free(s->tab);
	if (s->fd >= 0)
		close(s->fd);
	if (s->lock_fd >= 0)
		close(s->lock_fd); /* drops the flock */
	if (s->dir_fd >= 0)
		close(s->dir_fd);
	free(s->dir);
	free(s->name);
	free(s->tmp_name);
	free(s->path);
	free(s);
}
