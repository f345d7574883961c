/* seen_file: the line format of seen-<jid>.log and the file I/O under it
 * (see seen_file.h; the format is in seen.h). Owns no file: seen.c opens,
 * locks and names them. Must stay free of the in-memory set and of any
 * clock. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "seen_file.h"
#include "xpush.h"

/* 1..18 decimal digits. 0 ok, -1 not a number. */
static int parse_num(const char *f, int64_t *v)
{
	int64_t x = 0;
	size_t i = 0;

	for (; f[i]; i++) {
		if (f[i] < '0' || f[i] > '9' || i >= 18)
			return -1;
		x = x * 10 + (f[i] - '0');
	}
	if (i == 0)
		return -1;
	*v = x;
	return 0;
}

static int parse_flags(const char *f, unsigned *flags)
{
	*flags = 0;
	for (; *f; f++) {
		if (*f == 'n')
			*flags |= SEEN_NOTIFIED;
		else if (*f == 'p')
			*flags |= SEEN_PENDING;
		else if (*f == 'r')
			*flags |= SEEN_RETRACTED;
		else
			return -1;
	}
	return *flags ? 0 : -1;
}

int seen_file_parse(char *line, size_t len, struct seen_rec *r)
{
	char *f[6], *p = line, *sp;
	size_t n = 0;

	line[len] = '\0';
	memset(r, 0, sizeof *r);
	for (;;) {
		if (n == 6)
			return -1;
		f[n++] = p;
		if (!(sp = strchr(p, ' ')))
			break;
		*sp = '\0';
		p = sp + 1;
	}
	if (n == 2 && strcmp(f[0], "S") == 0) {
		r->is_clock = 1;
		return parse_num(f[1], &r->srv);
	}
	if ((n != 2 && n != 3 && n != 5) || parse_num(f[0], &r->ts))
		return -1;
	r->flags = SEEN_NOTIFIED;
	if (n >= 3 && parse_flags(f[2], &r->flags))
		return -1;
	if (n == 5 && (parse_num(f[3], &r->exp) || parse_num(f[4], &r->srv)))
		return -1;
	r->id = f[1];
	return 0;
}

/* The flag field of a line: one letter per bit. */
static void flag_letters(unsigned flags, char out[4])
{
	size_t n = 0;

	if (flags & SEEN_NOTIFIED)
		out[n++] = 'n';
	if (flags & SEEN_PENDING)
		out[n++] = 'p';
	if (flags & SEEN_RETRACTED)
		out[n++] = 'r';
	out[n] = '\0';
}

int seen_file_record(char *buf, size_t len, int64_t ts, const char *id, unsigned flags, int64_t exp,
                     int64_t srv)
{
	char letters[4];

	flag_letters(flags, letters);
	return snprintf(buf, len, "%" PRId64 " %s %s %" PRId64 " %" PRId64 "\n", ts, id, letters,
	                exp, srv);
}

int seen_file_clock(char *buf, size_t len, int64_t srv)
{
	return snprintf(buf, len, "S %" PRId64 "\n", srv);
}

int seen_file_read(int fd, const char *path, char **out, size_t *outlen, char *err, size_t errlen)
{
	struct stat st;
	char *buf = NULL;
	size_t len = 0;

	*out = NULL;
	*outlen = 0;
	if (fstat(fd, &st) < 0) {
		snprintf(err, errlen, "stat %s: %s", path, strerror(errno));
		return XPUSH_EIO;
	}
	if (st.st_size == 0)
		return XPUSH_OK;
	if (!(buf = malloc((size_t)st.st_size + 1)))
		return XPUSH_ENOMEM;
	while (len < (size_t)st.st_size) {
		ssize_t n = pread(fd, buf + len, (size_t)st.st_size - len, (off_t)len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			snprintf(err, errlen, "read %s: %s", path, strerror(errno));
			free(buf);
			return XPUSH_EIO;
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	*out = buf;
	*outlen = len;
	return XPUSH_OK;
}

int seen_file_write_all(int fd, const char *buf, size_t len)
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

void seen_file_fsync_parent(const char *dir)
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

char *seen_file_join(const char *a, const char *b, const char *c)
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
