/* test_seen: the durable de-duplication store (client/seen.c) on real files
 * in a temp dir: reopen, torn last line, corrupt lines, expiry, compaction,
 * locking, file naming. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "seen.h"
#include "test.h"
#include "xjid.h"
#include "xpush.h"

#define COMP "push.example.org"

static char dir[256];
static char err[512];

static void fresh_dir(void)
{
	char cmd[300];

	if (dir[0]) {
		snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
		if (system(cmd) != 0)
			fprintf(stderr, "cleanup of %s failed\n", dir);
	}
	snprintf(dir, sizeof dir, "/tmp/test_seen.XXXXXX");
	if (!mkdtemp(dir)) {
		perror("mkdtemp");
		exit(2);
	}
}

static void write_file(const char *name, const char *content)
{
	char path[400];
	FILE *f;

	snprintf(path, sizeof path, "%s/%s", dir, name);
	f = fopen(path, "w");
	fputs(content, f);
	fclose(f);
}

static char *read_file(const char *name)
{
	static char buf[65536];
	char path[400];
	size_t n;
	FILE *f;

	snprintf(path, sizeof path, "%s/%s", dir, name);
	if (!(f = fopen(path, "r")))
		return NULL;
	n = fread(buf, 1, sizeof buf - 1, f);
	buf[n] = '\0';
	fclose(f);
	return buf;
}

static struct seen *open_store(int64_t now, size_t max_lines, int64_t retention)
{
	struct seen_opts o = { retention, max_lines };
	struct seen *s = NULL;
	int rc = seen_open(dir, COMP, &o, now, &s, err, sizeof err);

	CHECK_INT(rc, XPUSH_OK);
	if (rc)
		fprintf(stderr, "seen_open: %s\n", err);
	return s;
}

static void test_id_valid(void)
{
	char longid[SEEN_ID_MAX + 2];

	CHECK(seen_id_valid("42"));
	CHECK(seen_id_valid("xp.42-abc_DEF"));
	CHECK(!seen_id_valid(""));
	CHECK(!seen_id_valid(NULL));
	CHECK(!seen_id_valid("a b"));
	CHECK(!seen_id_valid("a\nb"));
	CHECK(!seen_id_valid("caf\xc3\xa9"));
	memset(longid, 'x', SEEN_ID_MAX);
	longid[SEEN_ID_MAX] = '\0';
	CHECK(seen_id_valid(longid));
	longid[SEEN_ID_MAX] = 'x';
	longid[SEEN_ID_MAX + 1] = '\0';
	CHECK(!seen_id_valid(longid));
}

static void test_add_and_reopen(void)
{
	struct seen *s;
	struct seen_stats st;

	fresh_dir();
	s = open_store(1000, 100, 3600);
	CHECK(!seen_contains(s, "42"));
	CHECK_INT(seen_add(s, "42", 1000, err, sizeof err), XPUSH_OK);
	CHECK_INT(seen_add(s, "43", 1001, err, sizeof err), XPUSH_OK);
	CHECK_INT(seen_add(s, "42", 1002, err, sizeof err), XPUSH_OK); /* known: no new line */
	CHECK_INT(seen_add(s, "bad id", 1002, err, sizeof err), XPUSH_EINVAL);
	CHECK(seen_contains(s, "42"));
	CHECK(seen_contains(s, "43"));
	CHECK(!seen_contains(s, "44"));
	seen_stats(s, &st);
	CHECK_INT(st.live, 2);
	CHECK_INT(st.lines, 2);
	seen_close(s);
	CHECK_STR(read_file("seen-push.example.org.log"), "1000 42\n1001 43\n");

	s = open_store(2000, 100, 3600);
	CHECK(seen_contains(s, "42"));
	CHECK(seen_contains(s, "43"));
	seen_stats(s, &st);
	CHECK_INT(st.live, 2);
	CHECK_INT(st.corrupt, 0);
	CHECK_INT(st.torn, 0);
	seen_close(s);
}

static void test_torn_last_line(void)
{
	struct seen *s;
	struct seen_stats st;

	fresh_dir();
	write_file("seen-push.example.org.log", "100 a\n100 b\n100 c");
	s = open_store(200, 100, 3600);
	seen_stats(s, &st);
	CHECK_INT(st.torn, 1);
	CHECK_INT(st.live, 2);
	CHECK(seen_contains(s, "a"));
	CHECK(seen_contains(s, "b"));
	CHECK(!seen_contains(s, "c"));
	CHECK_STR(read_file("seen-push.example.org.log"), "100 a\n100 b\n");
	CHECK_INT(seen_add(s, "d", 201, err, sizeof err), XPUSH_OK);
	seen_close(s);
	CHECK_STR(read_file("seen-push.example.org.log"), "100 a\n100 b\n201 d\n");

	/* a file that is only a torn line */
	fresh_dir();
	write_file("seen-push.example.org.log", "12");
	s = open_store(200, 100, 3600);
	seen_stats(s, &st);
	CHECK_INT(st.torn, 1);
	CHECK_INT(st.live, 0);
	seen_close(s);
	CHECK_STR(read_file("seen-push.example.org.log"), "");
}

static void test_corrupt_lines(void)
{
	struct seen *s;
	struct seen_stats st;

	fresh_dir();
	write_file("seen-push.example.org.log",
		   "garbage\n"
		   " 12 x\n"
		   "123\n"
		   "123 \n"
		   "12a3 bad\n"
		   "1234567890123456789012 huge\n"
		   "\n"
		   "150 ok\n"
		   "150 two words\n"
		   "150 ok2\n");
	s = open_store(200, 100, 3600);
	seen_stats(s, &st);
	CHECK_INT(st.live, 2);
	CHECK_INT(st.corrupt, 8);
	CHECK_INT(st.lines, 10);
	CHECK(seen_contains(s, "ok"));
	CHECK(seen_contains(s, "ok2"));
	CHECK(!seen_contains(s, "x"));
	CHECK(!seen_contains(s, "bad"));
	seen_close(s);
}

static void test_expiry_at_load(void)
{
	struct seen *s;
	struct seen_stats st;

	fresh_dir();
	write_file("seen-push.example.org.log", "100 old\n950 young\n2000 future\n");
	s = open_store(1000, 100, 100);
	seen_stats(s, &st);
	CHECK_INT(st.expired, 1);
	CHECK_INT(st.live, 2);
	CHECK(!seen_contains(s, "old"));
	CHECK(seen_contains(s, "young"));
	CHECK(seen_contains(s, "future"));
	seen_close(s);
}

static void test_compaction(void)
{
	struct seen *s;
	struct seen_stats st;
	char id[32];
	struct stat sb;
	char path[400];

	fresh_dir();
	s = open_store(1000, 16, 300);
	for (int i = 0; i < 20; i++) {
		snprintf(id, sizeof id, "old%d", i);
		CHECK_INT(seen_add(s, id, 500, err, sizeof err), XPUSH_OK);
	}
	for (int i = 0; i < 5; i++) {
		snprintf(id, sizeof id, "new%d", i);
		CHECK_INT(seen_add(s, id, 1000, err, sizeof err), XPUSH_OK);
	}
	CHECK(seen_needs_compact(s));
	CHECK_INT(seen_compact(s, 1000, err, sizeof err), XPUSH_OK);
	CHECK(!seen_needs_compact(s));
	seen_stats(s, &st);
	CHECK_INT(st.live, 5);
	CHECK_INT(st.lines, 5);
	CHECK(!seen_contains(s, "old3"));
	CHECK(seen_contains(s, "new3"));
	/* appends go to the new file */
	CHECK_INT(seen_add(s, "after", 1001, err, sizeof err), XPUSH_OK);
	seen_close(s);
	snprintf(path, sizeof path, "%s/seen-push.example.org.tmp", dir);
	CHECK(stat(path, &sb) != 0); /* no temp file left */

	s = open_store(1002, 16, 300);
	seen_stats(s, &st);
	CHECK_INT(st.live, 6);
	CHECK_INT(st.lines, 6);
	CHECK(seen_contains(s, "after"));
	CHECK(seen_contains(s, "new0"));
	CHECK(!seen_contains(s, "old0"));
	seen_close(s);
}

static void test_compaction_threshold_grows(void)
{
	struct seen *s;
	char id[32];

	/* 40 live ids and max_lines 16: compaction cannot shrink below 40, so
	 * the threshold must grow instead of compacting on every add */
	fresh_dir();
	s = open_store(1000, 16, 300);
	for (int i = 0; i < 40; i++) {
		snprintf(id, sizeof id, "n%d", i);
		CHECK_INT(seen_add(s, id, 1000, err, sizeof err), XPUSH_OK);
		if (seen_needs_compact(s))
			CHECK_INT(seen_compact(s, 1000, err, sizeof err), XPUSH_OK);
	}
	CHECK_INT(seen_compact(s, 1000, err, sizeof err), XPUSH_OK);
	CHECK(!seen_needs_compact(s));
	CHECK_INT(seen_add(s, "one-more", 1000, err, sizeof err), XPUSH_OK);
	CHECK(!seen_needs_compact(s));
	for (int i = 0; i < 40; i++) {
		snprintf(id, sizeof id, "n%d", i);
		CHECK(seen_contains(s, id));
	}
	seen_close(s);
}

static void test_stale_tmp_removed(void)
{
	struct seen *s;
	char path[400];
	struct stat sb;

	fresh_dir();
	write_file("seen-push.example.org.tmp", "1 half-written\n");
	s = open_store(10, 100, 3600);
	snprintf(path, sizeof path, "%s/seen-push.example.org.tmp", dir);
	CHECK(stat(path, &sb) != 0);
	CHECK(!seen_contains(s, "half-written"));
	seen_close(s);
}

static void test_lock(void)
{
	struct seen_opts o = { 3600, 100 };
	struct seen *a = NULL, *b = NULL, *c = NULL;

	fresh_dir();
	CHECK_INT(seen_open(dir, COMP, &o, 1, &a, err, sizeof err), XPUSH_OK);
	CHECK_INT(seen_open(dir, COMP, &o, 1, &b, err, sizeof err), XPUSH_EBUSY);
	CHECK(b == NULL);
	CHECK(strstr(err, "in use") != NULL);
	/* another component in the same dir is another store */
	CHECK_INT(seen_open(dir, "push2.example.org", &o, 1, &c, err, sizeof err), XPUSH_OK);
	seen_close(a);
	CHECK_INT(seen_open(dir, COMP, &o, 1, &b, err, sizeof err), XPUSH_OK);
	seen_close(b);
	seen_close(c);
}

static void test_creates_dir_and_names(void)
{
	struct seen_opts o = { 3600, 100 };
	struct seen *s = NULL;
	char sub[400], buf[64];
	struct stat sb;

	fresh_dir();
	snprintf(sub, sizeof sub, "%s/state", dir);
	CHECK_INT(seen_open(sub, "Push.Example.ORG", &o, 1, &s, err, sizeof err), XPUSH_OK);
	CHECK(stat(sub, &sb) == 0 && S_ISDIR(sb.st_mode));
	CHECK_INT(sb.st_mode & 0777, 0700);
	CHECK(strstr(seen_path(s), "/state/seen-push.example.org.log") != NULL);
	seen_close(s);
	CHECK_INT(seen_open("/proc/definitely/not/here", COMP, &o, 1, &s, err, sizeof err), XPUSH_EIO);
	CHECK_INT(seen_open(dir, "", &o, 1, &s, err, sizeof err), XPUSH_EINVAL);

	CHECK_INT(xjid_sanitise("a@B.org", buf, sizeof buf), 0);
	CHECK_STR(buf, "a%40b.org");
	CHECK_INT(xjid_sanitise("x/../y", buf, sizeof buf), 0);
	CHECK_STR(buf, "x%2F..%2Fy");
	CHECK_INT(xjid_sanitise("%", buf, sizeof buf), 0);
	CHECK_STR(buf, "%25");
	CHECK_INT(xjid_sanitise("abcdef", buf, 4), -1);
}

/* Retracted ids (SEEN_RETRACTED) are kept apart from received ones, survive
 * a reopen and a compaction, and a flag field of unknown letters is corrupt. */
static void test_retract_flags(void)
{
	struct seen *s;
	struct seen_stats st;

	fresh_dir();
	s = open_store(1000, 16, 3600);
	CHECK_INT(seen_add(s, "1", 1000, err, sizeof err), XPUSH_OK);
	CHECK_INT(seen_mark(s, "2", SEEN_RETRACTED, 1000, err, sizeof err), XPUSH_OK);
	CHECK_INT(seen_mark(s, "1", SEEN_RETRACTED, 1001, err, sizeof err), XPUSH_OK);
	CHECK_INT(seen_mark(s, "1", SEEN_RETRACTED, 1002, err, sizeof err), XPUSH_OK); /* no line */
	CHECK_INT(seen_add(s, "2", 1003, err, sizeof err), XPUSH_OK); /* known: no line */
	CHECK_INT(seen_mark(s, "3", 0, 1003, err, sizeof err), XPUSH_EINVAL);
	CHECK_INT(seen_mark(s, "3", 8, 1003, err, sizeof err), XPUSH_EINVAL);
	CHECK_INT(seen_flags(s, "1"), SEEN_NOTIFIED | SEEN_RETRACTED);
	CHECK_INT(seen_flags(s, "2"), SEEN_RETRACTED);
	CHECK_INT(seen_flags(s, "3"), 0);
	CHECK(seen_contains(s, "2"));
	seen_close(s);
	CHECK_STR(read_file("seen-push.example.org.log"), "1000 1\n1000 2 r\n1001 1 r\n");

	s = open_store(1100, 16, 3600);
	CHECK_INT(seen_flags(s, "1"), SEEN_NOTIFIED | SEEN_RETRACTED);
	CHECK_INT(seen_flags(s, "2"), SEEN_RETRACTED);
	CHECK_INT(seen_compact(s, 1100, err, sizeof err), XPUSH_OK);
	seen_close(s);
	{
		char *c = read_file("seen-push.example.org.log");
		CHECK(c && (strcmp(c, "1001 1 nr\n1000 2 r\n") == 0 ||
			    strcmp(c, "1000 2 r\n1001 1 nr\n") == 0));
	}
	s = open_store(1200, 16, 3600);
	CHECK_INT(seen_flags(s, "1"), SEEN_NOTIFIED | SEEN_RETRACTED);
	CHECK_INT(seen_flags(s, "2"), SEEN_RETRACTED);
	seen_close(s);

	/* pending, then displayed: compaction keeps one line without the p */
	fresh_dir();
	s = open_store(1000, 16, 3600);
	CHECK_INT(seen_mark(s, "5", SEEN_PENDING, 1000, err, sizeof err), XPUSH_OK);
	CHECK_INT(seen_mark(s, "6", SEEN_PENDING, 1000, err, sizeof err), XPUSH_OK);
	CHECK_INT(seen_flags(s, "5"), SEEN_PENDING);
	CHECK_INT(seen_mark(s, "5", SEEN_NOTIFIED, 1001, err, sizeof err), XPUSH_OK);
	seen_close(s);
	CHECK_STR(read_file("seen-push.example.org.log"), "1000 5 p\n1000 6 p\n1001 5\n");
	s = open_store(1100, 16, 3600);
	CHECK_INT(seen_flags(s, "5"), SEEN_NOTIFIED | SEEN_PENDING);
	CHECK_INT(seen_flags(s, "6"), SEEN_PENDING);
	CHECK_INT(seen_compact(s, 1100, err, sizeof err), XPUSH_OK);
	seen_close(s);
	{
		char *c = read_file("seen-push.example.org.log");
		CHECK(c && (strcmp(c, "1001 5\n1000 6 p\n") == 0 || strcmp(c, "1000 6 p\n1001 5\n") == 0));
	}

	fresh_dir();
	write_file("seen-push.example.org.log", "1000 a x\n1000 b \n1000 c rn\n1000 d n r\n");
	s = open_store(1000, 16, 3600);
	seen_stats(s, &st);
	CHECK_INT(st.corrupt, 3);
	CHECK_INT(seen_flags(s, "c"), SEEN_NOTIFIED | SEEN_RETRACTED);
	CHECK(!seen_contains(s, "a"));
	CHECK(!seen_contains(s, "b"));
	seen_close(s);
}

static void cleanup(void)
{
	char cmd[300];

	if (dir[0]) {
		snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
		if (system(cmd) != 0)
			fprintf(stderr, "cleanup of %s failed\n", dir);
	}
}

TEST_MAIN(T(test_id_valid), T(test_add_and_reopen), T(test_torn_last_line),
	  T(test_corrupt_lines), T(test_expiry_at_load), T(test_compaction),
	  T(test_compaction_threshold_grows), T(test_stale_tmp_removed), T(test_lock),
	  T(test_creates_dir_and_names), T(test_retract_flags), T(cleanup))
