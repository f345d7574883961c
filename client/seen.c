/* seen: durable de-duplication of notification ids (see seen.h for the file
 * format and the guarantees). Owns the files seen-<jid>.log/.lock/.tmp in
 * the state directory and nothing else. The in-memory set is an open
 * addressing hash table keyed by id (with the SEEN_* bits of each); ids are
 * short, so it stays small. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "seen.h"
#include "xjid.h"
#include "xpush.h"

struct seen_entry {
	char *id;   /* NULL = empty slot */
	int64_t ts;
	unsigned flags; /* SEEN_* */
};

struct seen {
	char *dir, *name, *tmp_name, *path;
	int fd, lock_fd, dir_fd;
	off_t size;
	struct seen_entry *tab;
	size_t cap, live;
	size_t lines, corrupt, expired;
	int torn;
	size_t threshold;
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

/* Insert (taking ownership of id) or add flags and refresh the timestamp.
 * 1 new, 0 known. */
static int set_put(struct seen *s, char *id, int64_t ts, unsigned flags)
{
	struct seen_entry *e = slot_for(s->tab, s->cap, id);

	if (e->id) {
		if (ts > e->ts)
			e->ts = ts;
		e->flags |= flags;
		free(id);
		return 0;
	}
	e->id = id;
	e->ts = ts;
	e->flags = flags;
	s->live++;
	return 1;
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

/* The optional third field of a line: "" for SEEN_NOTIFIED alone (the
 * original format), else " " and one letter per bit. */
static void flag_suffix(unsigned flags, char out[5])
{
	size_t n = 0;

	if (flags != SEEN_NOTIFIED) {
		out[n++] = ' ';
		if (flags & SEEN_NOTIFIED)
			out[n++] = 'n';
		if (flags & SEEN_PENDING)
			out[n++] = 'p';
		if (flags & SEEN_RETRACTED)
			out[n++] = 'r';
	}
	out[n] = '\0';
}

static void update_threshold(struct seen *s)
{
	s->threshold = s->o.max_lines;
	if (s->threshold < 2 * s->live)
		s->threshold = 2 * s->live;
}

int seen_needs_compact(const struct seen *s)
{
	return s->lines > s->threshold;
}

static int write_all(int fd, const char *buf, size_t len)
{
	while (len) {
		ssize_t n = write(fd, buf, len);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}

/* Parse "<digits> <id>[ <flags>]" (no newline). 0 ok, -1 corrupt. */
static int parse_line(char *line, size_t len, int64_t *ts, char **id, unsigned *flags)
{
	int64_t v = 0;
	size_t i = 0;
	char *sp;

	while (i < len && line[i] >= '0' && line[i] <= '9') {
		if (i >= 18)
			return -1;
		v = v * 10 + (line[i] - '0');
		i++;
	}
	if (i == 0 || i >= len || line[i] != ' ')
		return -1;
	line[len] = '\0';
	*flags = SEEN_NOTIFIED;
	if ((sp = strchr(line + i + 1, ' ')) != NULL) {
		*sp = '\0';
		*flags = 0;
		for (const char *f = sp + 1; *f; f++) {
			if (*f == 'n')
				*flags |= SEEN_NOTIFIED;
			else if (*f == 'p')
				*flags |= SEEN_PENDING;
			else if (*f == 'r')
				*flags |= SEEN_RETRACTED;
			else
				return -1;
		}
		if (!*flags)
			return -1;
	}
	if (!seen_id_valid(line + i + 1))
		return -1;
	*ts = v;
	*id = line + i + 1;
	return 0;
}

static int load(struct seen *s, int64_t now_s, char *err, size_t errlen)
{
	struct stat st;
	char *buf = NULL;
	size_t len = 0, end;
	int rc = XPUSH_EIO;

	if (fstat(s->fd, &st) < 0) {
		snprintf(err, errlen, "stat %s: %s", s->path, strerror(errno));
		return XPUSH_EIO;
	}
	if (st.st_size > 0) {
		if (!(buf = malloc((size_t)st.st_size + 1)))
			return XPUSH_ENOMEM;
		while (len < (size_t)st.st_size) {
			ssize_t n = pread(s->fd, buf + len, (size_t)st.st_size - len, (off_t)len);
			if (n < 0 && errno == EINTR)
				continue;
			if (n < 0) {
				snprintf(err, errlen, "read %s: %s", s->path, strerror(errno));
				goto out;
			}
			if (n == 0)
				break;
			len += (size_t)n;
		}
	}
	/* a torn last line: cut it off so the next append starts clean */
	end = len;
	while (end > 0 && buf[end - 1] != '\n')
		end--;
	if (end != len) {
		s->torn = 1;
		if (ftruncate(s->fd, (off_t)end) < 0 || fdatasync(s->fd) < 0) {
			snprintf(err, errlen, "truncate torn line in %s: %s", s->path, strerror(errno));
			goto out;
		}
	}
	s->size = (off_t)end;
	for (size_t pos = 0; pos < end;) {
		char *nl = memchr(buf + pos, '\n', end - pos);
		size_t ll = (size_t)(nl - (buf + pos));
		int64_t ts;
		char *id;
		unsigned flags;

		s->lines++;
		if (parse_line(buf + pos, ll, &ts, &id, &flags)) {
			s->corrupt++;
		} else if (ts < now_s - s->o.retention_s) {
			s->expired++;
		} else {
			char *copy;
			if (reserve(s) || !(copy = strdup(id))) {
				rc = XPUSH_ENOMEM;
				goto out;
			}
			set_put(s, copy, ts, flags);
		}
		pos += ll + 1;
	}
	update_threshold(s);
	rc = XPUSH_OK;
out:
	free(buf);
	return rc;
}

static void fsync_parent(const char *dir)
{
	char *copy = strdup(dir), *slash;
	size_t n;
	int fd;

	if (!copy)
		return;
	n = strlen(copy);
	while (n > 1 && copy[n - 1] == '/')
		copy[--n] = '\0';
	slash = strrchr(copy, '/');
	if (slash == copy) {
		slash[1] = '\0';
	} else if (slash) {
		*slash = '\0';
	} else {
		copy[0] = '.';
		copy[1] = '\0';
	}
	fd = open(copy, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd >= 0) {
		(void)fsync(fd);
		close(fd);
	}
	free(copy);
}

static char *concat3(const char *a, const char *b, const char *c)
{
	size_t la = strlen(a), lb = strlen(b), lc = strlen(c);
	char *r = malloc(la + lb + lc + 1);

	if (r) {
		memcpy(r, a, la);
		memcpy(r + la, b, lb);
		memcpy(r + la + lb, c, lc + 1);
	}
	return r;
}

int seen_open(const char *dir, const char *component_jid, const struct seen_opts *o,
              int64_t now_s, struct seen **out, char *err, size_t errlen)
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
	s->dir = strdup(dir);
	s->name = concat3("seen-", san, ".log");
	s->tmp_name = concat3("seen-", san, ".tmp");
	lock_name = concat3("seen-", san, ".lock");
	if (!s->dir || !s->name || !s->tmp_name || !lock_name ||
	    !(s->path = concat3(dir, "/", s->name))) {
		rc = XPUSH_ENOMEM;
		goto fail;
	}
	if (mkdir(dir, 0700) == 0) {
		fsync_parent(dir); /* the new directory must survive a crash */
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
	if ((rc = load(s, now_s, err, errlen)) != XPUSH_OK)
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
	char line[SEEN_ID_MAX + 40], suffix[5];
	char *copy;
	int n;

	if (!seen_id_valid(id) || !flags ||
	    (flags & ~(SEEN_NOTIFIED | SEEN_RETRACTED | SEEN_PENDING))) {
		snprintf(err, errlen, "invalid notification id or flags");
		return XPUSH_EINVAL;
	}
	if ((seen_flags(s, id) & flags) == flags)
		return XPUSH_OK;
	/* get memory first: once the line is durable the insert must not fail */
	if (reserve(s) || !(copy = strdup(id)))
		return XPUSH_ENOMEM;
	flag_suffix(flags, suffix);
	n = snprintf(line, sizeof line, "%" PRId64 " %s%s\n", now_s, id, suffix);
	if (write_all(s->fd, line, (size_t)n) < 0 || fdatasync(s->fd) < 0) {
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
	set_put(s, copy, now_s, flags);
	return XPUSH_OK;
}

int seen_compact(struct seen *s, int64_t now_s, char *err, size_t errlen)
{
	struct seen_entry *nt = NULL;
	size_t ncap = 64, kept = 0, len = 0, bufcap = 0;
	char *buf = NULL;
	int tfd = -1, rc = XPUSH_EIO;
	int64_t cutoff = now_s - s->o.retention_s;

	for (size_t i = 0; i < s->cap; i++)
		if (s->tab[i].id && s->tab[i].ts >= cutoff)
			kept++;
	while ((kept + 1) * 10 >= ncap * 7)
		ncap *= 2;
	bufcap = kept * (SEEN_ID_MAX + 28) + 1; /* 19-digit time, spaces, flags, newline */
	if (!(nt = calloc(ncap, sizeof *nt)) || !(buf = malloc(bufcap))) {
		rc = XPUSH_ENOMEM;
		goto out;
	}
	for (size_t i = 0; i < s->cap; i++) {
		char suffix[5];
		unsigned f = s->tab[i].flags;

		if (!s->tab[i].id || s->tab[i].ts < cutoff)
			continue;
		if (f & SEEN_NOTIFIED)
			f &= ~SEEN_PENDING; /* displayed: pending says nothing more */
		flag_suffix(f, suffix);
		len += (size_t)snprintf(buf + len, bufcap - len, "%" PRId64 " %s%s\n",
					s->tab[i].ts, s->tab[i].id, suffix);
	}
	/* opened for appending: after the rename this descriptor is the store */
	tfd = openat(s->dir_fd, s->tmp_name, O_RDWR | O_APPEND | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (tfd < 0 || write_all(tfd, buf, len) < 0 || fsync(tfd) < 0) {
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
	for (size_t i = 0; i < s->cap; i++) {
		if (!s->tab[i].id)
			continue;
		if (s->tab[i].ts >= cutoff)
			*slot_for(nt, ncap, s->tab[i].id) = s->tab[i];
		else
			free(s->tab[i].id);
	}
	free(s->tab);
	s->tab = nt;
	nt = NULL;
	s->cap = ncap;
	s->live = kept;
	s->lines = kept;
	s->size = (off_t)len;
	update_threshold(s);
	rc = XPUSH_OK;
out:
	if (tfd >= 0)
		close(tfd);
	if (rc != XPUSH_OK)
		(void)unlinkat(s->dir_fd, s->tmp_name, 0);
	free(nt);
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
