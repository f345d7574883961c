/* test_hbstore: the learned heartbeat table in the state directory
 * (client/hbstore.c): round trip, several networks, damaged lines, the
 * size bound and an unreadable file. */
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "hbstore.h"
#include "test.h"

static char dir[64];

static void write_file(const char *text)
{
	char path[128];
	FILE *f;

	snprintf(path, sizeof path, "%s/" HBSTORE_FILE, dir);
	f = fopen(path, "w");
	fputs(text, f);
	fclose(f);
}

static void test_round_trip(void)
{
	struct nl_params p;
	struct nl_state a, b, got;
	struct hbstore *s;
	char err[256];

	nl_params_default(&p);
	nl_init(&a, &p);
	nl_init(&b, &p);
	b.interval_ms = 270000;
	b.good_ms = 270000;
	b.bad_ms = 300000;
	b.phase = NL_HOLD;
	CHECK(hbstore_open(dir, &s, err, sizeof err) == 0);
	CHECK_INT(hbstore_count(s), 0);
	CHECK_INT(hbstore_get(s, "wifi:home", &got), 0);
	CHECK(hbstore_put(s, "wifi:home", &a, 100, err, sizeof err) == 0);
	CHECK(hbstore_put(s, "cell:460-00", &b, 200, err, sizeof err) == 0);
	CHECK(hbstore_put(s, "wifi:home", &b, 300, err, sizeof err) == 0); /* replaces */
	CHECK(hbstore_put(s, "bad\tkey", &b, 300, err, sizeof err) < 0);
	CHECK_INT(hbstore_count(s), 2);
	hbstore_close(s);

	CHECK(hbstore_open(dir, &s, err, sizeof err) == 0);
	CHECK_INT(hbstore_count(s), 2);
	CHECK_INT(hbstore_damaged(s), 0);
	CHECK_INT(hbstore_get(s, "cell:460-00", &got), 1);
	CHECK(memcmp(&got, &b, sizeof got) == 0);
	CHECK_INT(hbstore_get(s, "wifi:home", &got), 1);
	CHECK_INT(got.interval_ms, 270000);
	hbstore_close(s);
}

static void test_damaged(void)
{
	struct nl_state got;
	struct hbstore *s;
	char err[256];

	write_file("ok\tv1 5000 5000 0 0 1 0 0 0 hold\t17\n"
		   "no tabs at all\n"
		   "bad\tv1 x 0 0 0 0 0 0 0 hold\t17\n"
		   "badts\tv1 5000 0 0 0 0 0 0 0 hold\tsoon\n"
		   "\tv1 5000 0 0 0 0 0 0 0 hold\t17\n"
		   "torn\tv1 6000 0 0 0 0 0");
	CHECK(hbstore_open(dir, &s, err, sizeof err) == 0);
	CHECK_INT(hbstore_count(s), 1);
	CHECK_INT(hbstore_damaged(s), 5);
	CHECK_INT(hbstore_get(s, "ok", &got), 1);
	CHECK_INT(got.interval_ms, 5000);
	CHECK_INT(hbstore_get(s, "torn", &got), 0);
	/* the next save writes only good rows */
	CHECK(hbstore_put(s, "new", &got, 20, err, sizeof err) == 0);
	hbstore_close(s);
	CHECK(hbstore_open(dir, &s, err, sizeof err) == 0);
	CHECK_INT(hbstore_count(s), 2);
	CHECK_INT(hbstore_damaged(s), 0);
	hbstore_close(s);
}

static void test_bounded(void)
{
	struct nl_params p;
	struct nl_state st, got;
	struct hbstore *s;
	char err[256], key[32];

	write_file("");
	nl_params_default(&p);
	nl_init(&st, &p);
	CHECK(hbstore_open(dir, &s, err, sizeof err) == 0);
	for (int i = 0; i < HBSTORE_MAX + 10; i++) {
		snprintf(key, sizeof key, "net%d", i);
		st.interval_ms = 1000 + (uint32_t)i;
		CHECK(hbstore_put(s, key, &st, 1000 + i, err, sizeof err) == 0);
	}
	CHECK_INT(hbstore_count(s), HBSTORE_MAX);
	CHECK_INT(hbstore_get(s, "net0", &got), 0);  /* the oldest went first */
	CHECK_INT(hbstore_get(s, "net9", &got), 0);
	CHECK_INT(hbstore_get(s, "net10", &got), 1);
	CHECK_INT(hbstore_get(s, "net73", &got), 1);
	CHECK_INT(got.interval_ms, 1073);
	hbstore_close(s);
}

static void test_unreadable(void)
{
	struct hbstore *s;
	char err[256], path[128];

	snprintf(path, sizeof path, "%s/" HBSTORE_FILE, dir);
	unlink(path);
	CHECK(mkdir(path, 0700) == 0); /* a directory where the file should be */
	CHECK(hbstore_open(dir, &s, err, sizeof err) == 0 || err[0]);
	if (s) {
		struct nl_state st;
		struct nl_params p;
		nl_params_default(&p);
		nl_init(&st, &p);
		/* saving cannot replace a directory: an error, no crash */
		CHECK(hbstore_put(s, "k", &st, 1, err, sizeof err) < 0);
		CHECK(err[0] != '\0');
		hbstore_close(s);
	}
	rmdir(path);
}

static void cleanup(void)
{
	char cmd[128];

	snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
	if (system(cmd) != 0)
		fprintf(stderr, "could not remove %s\n", dir);
}

static void setup(void)
{
	snprintf(dir, sizeof dir, "/tmp/xpush-hbstore.XXXXXX");
	if (!mkdtemp(dir)) {
		perror("mkdtemp");
		exit(1);
	}
	atexit(cleanup);
}

TEST_MAIN(T(setup), T(test_round_trip), T(test_damaged), T(test_bounded), T(test_unreadable))
