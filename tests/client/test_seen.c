/* test_seen: the durable de-duplication store (client/seen.c) on real files
 * in a temp dir: reopen, torn last line, corrupt lines, retention on the
 * server's clock (device clock jumps change nothing), the first version's
 * format, compaction, the max_ids cap, locking, file naming. */
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
	struct seen_opts o = { retention, max_lines, 1000000 };
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
	CHECK_STR(read_file("seen-push.example.org.log"), "1000 42 n 0 0\n1001 43 n 0 0\n");

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
	CHECK_STR(read_file("seen-push.example.org.log"), "100 a\n100 b\n201 d n 0 0\n");

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

/* A server time in 2033: far from any device clock used below. */
#define T0 2000000000LL

/* Expiry is learned from the records' server stamps when loading: an id whose
 * expiry the store's server clock has passed is not loaded; the device clock
 * passed to seen_open plays no part. */
static void test_expiry_at_load(void)
{
	struct seen *s;
	struct seen_stats st;

	fresh_dir();
	write_file("seen-push.example.org.log",
		   "5 old n 1000 900\n"                  /* expired at 1000 (server time) */
		   "5 young n 900000 900\n"              /* expires long after the clock */
		   "5 clock n 0 20000\n");               /* the newest created: clock 20000 */
	s = open_store(1000000000, 100, 100);
	seen_stats(s, &st);
	CHECK_INT(st.clock, 20000);
	CHECK_INT(st.expired, 1);
	CHECK_INT(st.live, 2);
	CHECK(!seen_contains(s, "old"));
	CHECK(seen_contains(s, "young"));
	CHECK(seen_contains(s, "clock")); /* exp = its created + retention = 20100 */
	seen_close(s);
}

/* Compaction drops what the server clock passed (not what the device clock
 * says is old), keeps the rest, and the appends go to the new file. */
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
		CHECK_INT(seen_mark_at(s, id, SEEN_NOTIFIED, 1000, T0, T0 + 100, err, sizeof err),
			  XPUSH_OK);
	}
	/* device clock far behind: irrelevant; server clock past old*'s expiry */
	for (int i = 0; i < 5; i++) {
		snprintf(id, sizeof id, "new%d", i);
		CHECK_INT(seen_mark_at(s, id, SEEN_NOTIFIED, 5, T0 + 100 + SEEN_GRACE_S + 1, 0, err,
				       sizeof err), XPUSH_OK);
	}
	CHECK(seen_needs_compact(s));
	CHECK_INT(seen_compact(s, 5, err, sizeof err), XPUSH_OK);
	CHECK(!seen_needs_compact(s));
	seen_stats(s, &st);
	CHECK_INT(st.live, 5);
	CHECK_INT(st.lines, 6); /* the S line + 5 */
	CHECK_INT(st.last_dropped, 20);
	CHECK_INT(st.last_evicted, 0);
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
	CHECK_INT(st.lines, 7);
	CHECK_INT(st.clock, T0 + 100 + SEEN_GRACE_S + 1);
	CHECK(seen_contains(s, "after"));
	CHECK(seen_contains(s, "new0"));
	CHECK(!seen_contains(s, "old0"));
	seen_close(s);
}

static void test_parse_time(void)
{
	int64_t t = -1;

	CHECK_INT(seen_parse_time("1970-01-01T00:00:00Z", &t), 0);
	CHECK_INT(t, 0);
	CHECK_INT(seen_parse_time("2026-11-26T10:00:00Z", &t), 0);
	CHECK_INT(t, 1795687200);
	CHECK_INT(seen_parse_time("2000-02-29T23:59:59Z", &t), 0);
	CHECK_INT(t, 951868799);
	CHECK_INT(seen_parse_time("2033-05-18T03:33:20.123Z", &t), 0);
	CHECK_INT(t, 2000000000);
	CHECK_INT(seen_parse_time("2033-05-18T03:33:20+00:00", &t), 0);
	CHECK_INT(t, 2000000000);
	CHECK_INT(seen_parse_time("2033-05-18 03:33:20Z", &t), -1);
	CHECK_INT(seen_parse_time("2033-05-18T03:33:20", &t), -1);
	CHECK_INT(seen_parse_time("2033-05-18T03:33:20+02:00", &t), -1);
	CHECK_INT(seen_parse_time("2033-13-18T03:33:20Z", &t), -1);
	CHECK_INT(seen_parse_time("1969-12-31T23:59:59Z", &t), -1);
	CHECK_INT(seen_parse_time("", &t), -1);
	CHECK_INT(seen_parse_time(NULL, &t), -1);
}

/* The device clock at 1970, or ten years ahead, drops nothing: live records
 * survive reopening and compaction with either. */
static void test_device_clock_jumps(void)
{
	const int64_t ten_years = 10LL * 365 * 86400;
	const int64_t devs[] = { 0, 1, T0 + ten_years, T0 + 2 * ten_years };
	struct seen *s;
	struct seen_stats st;

	fresh_dir();
	s = open_store(T0, 16, 86400);
	CHECK_INT(seen_mark_at(s, "a", SEEN_NOTIFIED, T0, T0, T0 + 28 * 86400, err, sizeof err), XPUSH_OK);
	CHECK_INT(seen_mark_at(s, "b", SEEN_PENDING, T0, T0, 0, err, sizeof err), XPUSH_OK); /* ttl 0 */
	CHECK_INT(seen_mark(s, "r", SEEN_RETRACTED, T0, err, sizeof err), XPUSH_OK);
	seen_close(s);
	for (size_t i = 0; i < sizeof devs / sizeof devs[0]; i++) {
		s = open_store(devs[i], 16, 86400);
		seen_stats(s, &st);
		CHECK_INT(st.expired, 0);
		CHECK_INT(st.live, i ? 4 : 3); /* c from the round before */
		CHECK_INT(seen_compact(s, devs[i], err, sizeof err), XPUSH_OK);
		/* and records written with that device clock */
		CHECK_INT(seen_mark_at(s, "c", SEEN_NOTIFIED, devs[i], T0, T0 + 100000, err, sizeof err),
			  XPUSH_OK);
		CHECK_INT(seen_compact(s, devs[i], err, sizeof err), XPUSH_OK);
		seen_stats(s, &st);
		CHECK_INT(st.live, 4);
		CHECK_INT(st.last_dropped, 0);
		CHECK_INT(seen_flags(s, "a"), SEEN_NOTIFIED);
		CHECK_INT(seen_flags(s, "b"), SEEN_PENDING);
		CHECK_INT(seen_flags(s, "r"), SEEN_RETRACTED);
		CHECK_INT(st.clock, T0);
		seen_close(s);
	}
}

/* Records go once the server clock (the newest created recorded) passes
 * their expiry + SEEN_GRACE_S: with expires, at it; ttl 0 (no expires) at
 * created + retention; retracts at the clock when recorded + retention. The
 * clock is monotonic and survives a compaction that drops every record. */
static void test_server_clock_expiry(void)
{
	const int64_t ret = 5000, g = SEEN_GRACE_S;
	struct seen *s;
	struct seen_stats st;

	fresh_dir();
	s = open_store(0, 1000, ret);
	CHECK_INT(seen_mark_at(s, "a", SEEN_NOTIFIED, 0, T0, T0 + 1000, err, sizeof err), XPUSH_OK);
	CHECK_INT(seen_mark_at(s, "b", SEEN_NOTIFIED, 0, T0, 0, err, sizeof err), XPUSH_OK);
	CHECK_INT(seen_mark(s, "r", SEEN_RETRACTED, 0, err, sizeof err), XPUSH_OK); /* T0 + ret */
	/* an older created does not move the clock back */
	CHECK_INT(seen_mark_at(s, "old", SEEN_NOTIFIED, 0, T0 - 500000, T0 + 2000, err, sizeof err),
		  XPUSH_OK);
	seen_stats(s, &st);
	CHECK_INT(st.clock, T0);

	/* at exactly expiry + grace: still kept */
	CHECK_INT(seen_mark_at(s, "c", SEEN_NOTIFIED, 0, T0 + 1000 + g, 0, err, sizeof err), XPUSH_OK);
	CHECK_INT(seen_compact(s, 0, err, sizeof err), XPUSH_OK);
	CHECK(seen_contains(s, "a"));
	/* one second later: a goes, the others stay */
	seen_observe(s, T0 + 1000 + g + 1);
	CHECK_INT(seen_compact(s, 0, err, sizeof err), XPUSH_OK);
	seen_stats(s, &st);
	CHECK_INT(st.last_dropped, 1);
	CHECK(!seen_contains(s, "a"));
	CHECK(seen_contains(s, "b"));
	CHECK(seen_contains(s, "r"));
	CHECK(seen_contains(s, "old"));
	CHECK(seen_contains(s, "c"));
	seen_close(s);

	/* the clock came back from the file (S line), device clock irrelevant */
	s = open_store(T0 * 3, 1000, ret);
	seen_stats(s, &st);
	CHECK_INT(st.clock, T0 + 1000 + g + 1);
	CHECK_INT(st.live, 4);
	/* past b's and r's T0 + ret (+ grace), and old's T0 + 2000: without a
	 * compaction, a reopen drops them when loading */
	CHECK_INT(seen_mark_at(s, "d", SEEN_NOTIFIED, 0, T0 + ret + g + 1, 0, err, sizeof err), XPUSH_OK);
	seen_close(s);
	s = open_store(0, 1000, ret);
	seen_stats(s, &st);
	CHECK_INT(st.expired, 3);
	CHECK(!seen_contains(s, "b"));
	CHECK(!seen_contains(s, "r"));
	CHECK(!seen_contains(s, "old"));
	CHECK(seen_contains(s, "c")); /* created T0 + 1000 + g: until + ret */
	CHECK(seen_contains(s, "d"));
	/* everything passes: the clock alone is kept */
	seen_observe(s, T0 + 100 * ret);
	CHECK_INT(seen_compact(s, 0, err, sizeof err), XPUSH_OK);
	seen_stats(s, &st);
	CHECK_INT(st.live, 0);
	seen_close(s);
	{
		char want[64];
		snprintf(want, sizeof want, "S %lld\n", (long long)(T0 + 100 * ret));
		CHECK_STR(read_file("seen-push.example.org.log"), want);
	}
	s = open_store(0, 1000, ret);
	seen_stats(s, &st);
	CHECK_INT(st.clock, T0 + 100 * ret);
	seen_close(s);
}

/* A store written by the first version ("<dev> <id>[ <flags>]") loads with
 * its flags whatever the device clock says, is kept while the server clock
 * is unknown, then until the clock + retention, and is rewritten in the
 * current format by a compaction. */
static void test_old_format_loads(void)
{
	const int64_t ret = 5000;
	struct seen *s;
	struct seen_stats st;
	char *c;

	fresh_dir();
	write_file("seen-push.example.org.log", "100 a\n200 b p\n300 c nr\n400 d r\n300 b\n");
	s = open_store(T0 * 2, 16, ret); /* device clock decades past those lines */
	seen_stats(s, &st);
	CHECK_INT(st.corrupt, 0);
	CHECK_INT(st.expired, 0);
	CHECK_INT(st.live, 4);
	CHECK_INT(st.clock, 0);
	CHECK_INT(seen_flags(s, "a"), SEEN_NOTIFIED);
	CHECK_INT(seen_flags(s, "b"), SEEN_NOTIFIED | SEEN_PENDING);
	CHECK_INT(seen_flags(s, "c"), SEEN_NOTIFIED | SEEN_RETRACTED);
	CHECK_INT(seen_flags(s, "d"), SEEN_RETRACTED);
	/* no server clock yet: a compaction keeps them (expiry still unknown) */
	CHECK_INT(seen_compact(s, T0 * 2, err, sizeof err), XPUSH_OK);
	CHECK_INT(seen_flags(s, "b"), SEEN_NOTIFIED);
	seen_close(s);
	s = open_store(0, 16, ret);
	CHECK_INT(seen_flags(s, "a"), SEEN_NOTIFIED);
	CHECK_INT(seen_flags(s, "d"), SEEN_RETRACTED);
	/* the first notification brings the clock: the old ids get clock + ret */
	CHECK_INT(seen_mark_at(s, "x", SEEN_NOTIFIED, 0, T0, T0 + 10, err, sizeof err), XPUSH_OK);
	CHECK_INT(seen_compact(s, 0, err, sizeof err), XPUSH_OK);
	seen_close(s);
	c = read_file("seen-push.example.org.log");
	CHECK(c && strncmp(c, "S 2000000000\n", 13) == 0);
	CHECK(c && strstr(c, " a n 2000005000 0\n") != NULL);
	CHECK(c && strstr(c, " d r 2000005000 0\n") != NULL);
	s = open_store(0, 16, ret);
	seen_stats(s, &st);
	CHECK_INT(st.live, 5);
	CHECK_INT(seen_flags(s, "c"), SEEN_NOTIFIED | SEEN_RETRACTED);
	seen_observe(s, T0 + ret + SEEN_GRACE_S + 1);
	CHECK_INT(seen_compact(s, 0, err, sizeof err), XPUSH_OK);
	seen_stats(s, &st);
	CHECK_INT(st.live, 0);
	seen_close(s);
}

/* Past max_ids, compaction evicts the ids with the soonest expiry (unknown
 * expiries last) and says how many and up to which expiry. */
static void test_cap_evicts_by_expiry(void)
{
	struct seen_opts o = { 5000, 1000, 16 };
	struct seen *s = NULL;
	struct seen_stats st;
	char id[32];

	fresh_dir();
	CHECK_INT(seen_open(dir, COMP, &o, 0, &s, err, sizeof err), XPUSH_OK);
	CHECK_INT(seen_mark(s, "unknown", SEEN_RETRACTED, 0, err, sizeof err), XPUSH_OK); /* no clock */
	for (int i = 19; i >= 0; i--) { /* written out of expiry order */
		snprintf(id, sizeof id, "e%d", i);
		CHECK_INT(seen_mark_at(s, id, SEEN_NOTIFIED, 0, T0, T0 + 10 * (i + 1), err, sizeof err),
			  XPUSH_OK);
	}
	CHECK(seen_needs_compact(s)); /* 21 > 16 + 16/8 */
	CHECK_INT(seen_compact(s, 0, err, sizeof err), XPUSH_OK);
	seen_stats(s, &st);
	CHECK_INT(st.live, 16);
	CHECK_INT(st.last_evicted, 5);
	CHECK_INT(st.evicted, 5);
	CHECK_INT(st.last_evicted_exp, T0 + 50);
	CHECK(!seen_needs_compact(s));
	for (int i = 0; i < 20; i++) {
		snprintf(id, sizeof id, "e%d", i);
		CHECK_INT(seen_contains(s, id), i >= 5);
	}
	/* the retract got clock + 5000 at compaction: the latest expiry, kept */
	CHECK(seen_contains(s, "unknown"));
	seen_close(s);
	CHECK_INT(seen_open(dir, COMP, &o, 0, &s, err, sizeof err), XPUSH_OK);
	seen_stats(s, &st);
	CHECK_INT(st.live, 16);
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
	struct seen_opts o = { 3600, 100, 1000000 };
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
	struct seen_opts o = { 3600, 100, 1000000 };
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
	CHECK_STR(read_file("seen-push.example.org.log"), "1000 1 n 0 0\n1000 2 r 0 0\n1001 1 r 0 0\n");

	s = open_store(1100, 16, 3600);
	CHECK_INT(seen_flags(s, "1"), SEEN_NOTIFIED | SEEN_RETRACTED);
	CHECK_INT(seen_flags(s, "2"), SEEN_RETRACTED);
	CHECK_INT(seen_compact(s, 1100, err, sizeof err), XPUSH_OK);
	seen_close(s);
	{
		char *c = read_file("seen-push.example.org.log");
		CHECK(c && (strcmp(c, "1001 1 nr 0 0\n1000 2 r 0 0\n") == 0 ||
			    strcmp(c, "1000 2 r 0 0\n1001 1 nr 0 0\n") == 0));
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
	CHECK_STR(read_file("seen-push.example.org.log"), "1000 5 p 0 0\n1000 6 p 0 0\n1001 5 n 0 0\n");
	s = open_store(1100, 16, 3600);
	CHECK_INT(seen_flags(s, "5"), SEEN_NOTIFIED | SEEN_PENDING);
	CHECK_INT(seen_flags(s, "6"), SEEN_PENDING);
	CHECK_INT(seen_compact(s, 1100, err, sizeof err), XPUSH_OK);
	seen_close(s);
	{
		char *c = read_file("seen-push.example.org.log");
		CHECK(c && (strcmp(c, "1001 5 n 0 0\n1000 6 p 0 0\n") == 0 ||
			    strcmp(c, "1000 6 p 0 0\n1001 5 n 0 0\n") == 0));
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
	  T(test_corrupt_lines), T(test_expiry_at_load), T(test_compaction), T(test_parse_time),
	  T(test_device_clock_jumps), T(test_server_clock_expiry), T(test_old_format_loads),
	  T(test_cap_evicts_by_expiry),
	  T(test_compaction_threshold_grows), T(test_stale_tmp_removed), T(test_lock),
	  T(test_creates_dir_and_names), T(test_retract_flags), T(cleanup))
