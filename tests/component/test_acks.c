/* Unit tests for component/acks: acks batched per loop turn, one batch in
 * the store at a time, a failed batch written again, what a written batch
 * found reported to the owner. A stand-in store (fake_store.c) and a real
 * loop; no Postgres. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "acks.h"
#include "fake_store.h"
#include "test.h"

struct fx {
	struct fake_loop fl;
	struct store *st;
	struct acks *a;
	struct xp_stats stats;
	int reports;
	size_t acked;
	int64_t refill[8];
	size_t nrefill;
	char refused[8][64];
	size_t nrefused;
};

static void on_written(void *ud, const struct acks_result *r)
{
	struct fx *f = ud;

	f->reports++;
	f->acked += r->acked;
	for (size_t i = 0; i < r->nrefill && f->nrefill < 8; i++)
		f->refill[f->nrefill++] = r->refill[i];
	for (size_t i = 0; i < r->nrefused && f->nrefused < 8; i++)
		snprintf(f->refused[f->nrefused++], sizeof f->refused[0], "%s", r->refused[i]);
}

static struct fx *fx_new(void)
{
	struct fx *f = calloc(1, sizeof *f);
	struct acks_owner owner = { on_written, NULL };

	if (!f || fake_loop_init(&f->fl) < 0)
		abort();
	owner.ud = f;
	metrics_stats_init(&f->stats);
	f->st = fake_store_new();
	f->a = f->st ? acks_new(f->fl.l, f->st, &f->stats, &owner) : NULL;
	if (!f->a)
		abort();
	return f;
}

static void fx_free(struct fx *f)
{
	fake_store_free(f->st);
	acks_free(f->a);
	fake_loop_free(&f->fl);
	free(f);
}

/* The pending batch holds exactly these notifications, in order. */
static int batch_is(const struct fx *f, const int64_t *notif, size_t n)
{
	const struct fake_req *r = fake_head(f->st);

	if (!r || r->op != FS_ACK_BATCH || r->n != n)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (r->ids[i] != notif[i])
			return 0;
	return 1;
}

static void add(struct fx *f, int64_t notif, int64_t dev, const char *bare)
{
	CHECK_INT(acks_add(f->a, notif, dev, bare), 0);
}

static void one_batch_per_turn_one_at_a_time(void)
{
	struct fx *f = fx_new();
	const int64_t first[3] = { 11, 12, 13 }, second[2] = { 14, 15 };
	/* {latency ms or -1 refused, 1 if the device has queued rows} per ack */
	const int64_t found[6] = { 120, 1, -1, 0, 80, 0 };
	const struct fake_req *r;

	add(f, 11, 1, "a@example.org");
	add(f, 12, 2, "mallory@example.org");
	add(f, 13, 3, "c@example.org");
	CHECK_INT(fake_pending(f->st), 0);  /* not inside the call: at the end of the turn */
	fake_loop_run_ms(&f->fl, 0);
	CHECK(batch_is(f, first, 3));
	r = fake_head(f->st);
	CHECK(r && r->dev[2] == 3 && strcmp(r->bare[1], "mallory@example.org") == 0);
	add(f, 14, 4, "d@example.org");
	add(f, 15, 5, "e@example.org");
	acks_store_ready(f->a);             /* even when asked to flush */
	fake_loop_run_ms(&f->fl, 0);
	CHECK_INT(fake_pending(f->st), 1);  /* one batch in the store at a time */
	CHECK_INT(fake_reply_rows(f->st, FS_ACK_BATCH, found, 3, 2), 0);
	CHECK_INT(f->stats.acked, 2);
	CHECK_INT(f->stats.acks_refused, 1);
	CHECK_INT(f->stats.latency_count, 2);
	CHECK_INT(f->reports, 1);
	CHECK_INT(f->acked, 2);
	CHECK_INT(f->nrefill, 1);           /* only device 1 has rows waiting */
	CHECK_INT(f->refill[0], 1);
	CHECK_INT(f->nrefused, 1);
	CHECK_STR(f->refused[0], "mallory@example.org");
	fake_loop_run_ms(&f->fl, 0);
	CHECK(batch_is(f, second, 2));
	fx_free(f);
}

static void failed_batch_written_again_first(void)
{
	struct fx *f = fx_new();
	const int64_t first[1] = { 21 }, second[1] = { 22 };
	const int64_t ok[2] = { 5, 0 };
	uint64_t t0;

	add(f, 21, 1, "a@example.org");
	fake_loop_run_ms(&f->fl, 0);
	add(f, 22, 2, "b@example.org");   /* waits behind the batch in flight */
	t0 = monotime_ms();
	CHECK_INT(fake_reply_error(f->st, FS_ACK_BATCH), 0);
	fake_loop_run_ms(&f->fl, 0);
	CHECK_INT(fake_pending(f->st), 0);  /* not at once: the database is in trouble */
	fake_loop_run_until(&f->fl, f->st, 2000);
	CHECK(monotime_ms() - t0 >= 100);
	CHECK(batch_is(f, first, 1));       /* the failed one before the newer acks */
	CHECK_INT(fake_reply_rows(f->st, FS_ACK_BATCH, ok, 1, 2), 0);
	fake_loop_run_ms(&f->fl, 0);
	CHECK(batch_is(f, second, 1));
	CHECK_INT(f->reports, 1);
	CHECK_INT(f->stats.acked, 1);
	fx_free(f);
}

static void batch_given_up_after_three_writes(void)
{
	struct fx *f = fx_new();
	const int64_t only[1] = { 31 };

	add(f, 31, 1, "a@example.org");
	fake_loop_run_ms(&f->fl, 0);
	for (int i = 0; i < 3; i++) {
		CHECK(batch_is(f, only, 1));
		CHECK_INT(fake_reply_error(f->st, FS_ACK_BATCH), 0);
		fake_loop_run_until(&f->fl, f->st, 500);
	}
	CHECK_INT(fake_submits(f->st), 3);
	CHECK_INT(fake_pending(f->st), 0);  /* the push is sent again after its lease */
	CHECK_INT(f->reports, 0);
	CHECK_INT(f->stats.acked, 0);
	fx_free(f);
}

static void acks_wait_for_the_store(void)
{
	struct fx *f = fx_new();
	const int64_t both[2] = { 41, 42 };

	fake_store_set_ready(f->st, 0);
	add(f, 41, 1, "a@example.org");
	fake_loop_run_ms(&f->fl, 0);
	CHECK_INT(fake_submits(f->st), 0);
	fake_store_set_ready(f->st, 1);
	fake_store_refuse(f->st, 1);        /* the submit itself fails: the batch is kept */
	acks_store_ready(f->a);
	fake_loop_run_ms(&f->fl, 0);
	CHECK_INT(fake_pending(f->st), 0);
	add(f, 42, 2, "b@example.org");     /* the next ack flushes both */
	fake_loop_run_ms(&f->fl, 0);
	CHECK(batch_is(f, both, 2));
	fx_free(f);
}

TEST_MAIN(T(one_batch_per_turn_one_at_a_time), T(failed_batch_written_again_first),
          T(batch_given_up_after_three_writes), T(acks_wait_for_the_store))
