/* hbstore: the per-network learned heartbeat table and its file (format and
 * guarantees in hbstore.h). Owns STATE_DIR/heartbeat.tab and its temporary
 * files, nothing else. Small by design: a linear table of at most 64 rows. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "hbstore.h"

struct hb_row {
	char key[HBSTORE_KEY_MAX + 1];
	struct nl_state st;
	int64_t updated_s;
};

struct hbstore {
	char *dir, *path;
	struct hb_row rows[HBSTORE_MAX];
	size_t n, damaged;
};

static int key_ok(const char *k)
{
	size_t n = strlen(k);

	if (!n || n > HBSTORE_KEY_MAX)
		return 0;
	for (const unsigned char *p = (const unsigned char *)k; *p; p++)
		if (*p < 0x20 || *p == 0x7f)
			return 0;
	return 1;
}

static struct hb_row *find(const struct hbstore *s, const char *key)
{
	for (size_t i = 0; i < s->n; i++)
		if (strcmp(s->rows[i].key, key) == 0)
			return (struct hb_row *)&s->rows[i];
	return NULL;
}

/* A row for key: the existing one, a free one, or the least recently updated. */
static struct hb_row *slot(struct hbstore *s, const char *key)
{
	struct hb_row *r = find(s, key);
	size_t old = 0;

	if (r)
		return r;
	if (s->n < HBSTORE_MAX) {
		r = &s->rows[s->n++];
	} else {
		for (size_t i = 1; i < s->n; i++)
			if (s->rows[i].updated_s < s->rows[old].updated_s)
				old = i;
		r = &s->rows[old];
	}
	memset(r, 0, sizeof *r);
	snprintf(r->key, sizeof r->key, "%s", key);
	return r;
}

static void parse_line(struct hbstore *s, char *line)
{
	char *t1 = strchr(line, '\t'), *t2, *end;
	struct nl_state st;
	long long ts;

	if (!t1 || !(t2 = strchr(t1 + 1, '\t')))
		goto bad;
	*t1 = '\0';
	*t2 = '\0';
	if (!key_ok(line) || nl_parse(t1 + 1, &st))
		goto bad;
	errno = 0;
	ts = strtoll(t2 + 1, &end, 10);
	if (errno || end == t2 + 1 || *end)
		goto bad;
	{
		struct hb_row *r = slot(s, line);
		r->st = st;
		r->updated_s = ts;
	}
	return;
bad:
	s->damaged++;
}

int hbstore_open(const char *dir, struct hbstore **out, char *err, size_t errlen)
{
	struct hbstore *s = calloc(1, sizeof *s);
	size_t dl = strlen(dir);
	char line[512];
	FILE *f;

	*out = NULL;
	if (!s || !(s->dir = strdup(dir)) || !(s->path = malloc(dl + sizeof HBSTORE_FILE + 1))) {
		snprintf(err, errlen, "out of memory");
		hbstore_close(s);
		return -1;
	}
	snprintf(s->path, dl + sizeof HBSTORE_FILE + 1, "%s/%s", dir, HBSTORE_FILE);
	if (!(f = fopen(s->path, "re"))) {
		if (errno == ENOENT) {
			*out = s;
			return 0;
		}
		snprintf(err, errlen, "open %s: %s", s->path, strerror(errno));
		hbstore_close(s);
		return -1;
	}
	while (fgets(line, sizeof line, f)) {
		size_t n = strlen(line);
		if (!n || line[n - 1] != '\n') {
			/* a torn last line, or longer than any valid one */
			s->damaged++;
			if (n == sizeof line - 1) {
				int ch;
				while ((ch = fgetc(f)) != EOF && ch != '\n')
					;
			}
			continue;
		}
		line[n - 1] = '\0';
		parse_line(s, line);
	}
	fclose(f);
	*out = s;
	return 0;
}

void hbstore_close(struct hbstore *s)
{
	if (!s)
		return;
	free(s->dir);
	free(s->path);
	free(s);
}

int hbstore_get(const struct hbstore *s, const char *key, struct nl_state *st)
{
	const struct hb_row *r = find(s, key);

	if (!r)
		return 0;
	*st = r->st;
	return 1;
}

static int write_all(int fd, const char *p, size_t len)
{
	while (len) {
		ssize_t n = write(fd, p, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

static int save(struct hbstore *s, char *err, size_t errlen)
{
	size_t dl = strlen(s->dir);
	char tmp[4200], buf[HBSTORE_MAX * 300], st[200];
	size_t len = 0;
	int fd, dfd;

	for (size_t i = 0; i < s->n; i++) {
		int n;
		if (nl_format(&s->rows[i].st, st, sizeof st) < 0)
			continue;
		n = snprintf(buf + len, sizeof buf - len, "%s\t%s\t%lld\n", s->rows[i].key, st,
		             (long long)s->rows[i].updated_s);
		if (n < 0 || (size_t)n >= sizeof buf - len)
			break;
		len += (size_t)n;
	}
	if (dl + 32 > sizeof tmp) {
		snprintf(err, errlen, "state directory path too long");
		return -1;
	}
	snprintf(tmp, sizeof tmp, "%s/." HBSTORE_FILE ".XXXXXX", s->dir);
	if ((fd = mkostemp(tmp, O_CLOEXEC)) < 0) {
		snprintf(err, errlen, "create %s: %s", tmp, strerror(errno));
		return -1;
	}
	if (write_all(fd, buf, len) < 0 || fsync(fd) < 0) {
		snprintf(err, errlen, "write %s: %s", tmp, strerror(errno));
		close(fd);
		unlink(tmp);
		return -1;
	}
	close(fd);
	if (rename(tmp, s->path) < 0) {
		snprintf(err, errlen, "rename to %s: %s", s->path, strerror(errno));
		unlink(tmp);
		return -1;
	}
	/* the rename itself must survive a crash */
	if ((dfd = open(s->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) >= 0) {
		(void)fsync(dfd);
		close(dfd);
	}
	return 0;
}

int hbstore_put(struct hbstore *s, const char *key, const struct nl_state *st, int64_t now_s,
                char *err, size_t errlen)
{
	struct hb_row *r;

	if (!key_ok(key)) {
		snprintf(err, errlen, "invalid network key");
		return -1;
	}
	r = slot(s, key);
	r->st = *st;
	r->updated_s = now_s;
	return save(s, err, errlen);
}

size_t hbstore_count(const struct hbstore *s)
{
	return s->n;
}

size_t hbstore_damaged(const struct hbstore *s)
{
	return s->damaged;
}
