/* fake_store: the store.h calls of the scan and the acks, recorded for the
 * test to answer (fake_store.h). */
#include "fake_store.h"

#include <stdlib.h>
#include <string.h>

enum cb_shape { CB_COUNT, CB_NUMS, CB_CLAIM, CB_FANOUT, CB_ROWS };

union fake_cb {
	store_count_fn count;
	store_nums_fn nums;
	store_claim_fn claim;
	store_fanout_fn fanout;
	store_rows_fn rows;
};

struct pending {
	struct fake_req r;
	enum cb_shape shape;
	union fake_cb cb;
	void *ud;
	struct pending *next;
};

struct store {
	int ready;
	int refuse;
	unsigned long submits;
	struct pending *head;
	struct pending **last;       /* where the next request goes */
};

/* Free the copies a request holds. */
static void req_clear(struct fake_req *r)
{
	for (size_t i = 0; r->bare && i < r->n; i++)
		free(r->bare[i]);
	free(r->bare);
	free(r->ids);
	free(r->dev);
}

static void pending_free(struct pending *p)
{
	req_clear(&p->r);
	free(p);
}

static int64_t *copy_ids(const int64_t *v, size_t n)
{
	int64_t *c = malloc((n ? n : 1) * sizeof *c);

	if (c && n)
		memcpy(c, v, n * sizeof *c);
	return c;
}

/* Queue r (its copies now the request's) unless the store refuses it, as
 * store.c would: STORE_QUEUED, or STORE_NOT_QUEUED with r's copies freed. */
static int record(struct store *st, struct fake_req r, enum cb_shape shape, union fake_cb cb,
                  void *ud)
{
	struct pending *p = NULL;

	if (st->ready && st->refuse > 0)
		st->refuse--;
	else if (st->ready)
		p = malloc(sizeof *p);
	if (!p) {
		req_clear(&r);
		return STORE_NOT_QUEUED;
	}
	*p = (struct pending){ .r = r, .shape = shape, .cb = cb, .ud = ud };
	*st->last = p;
	st->last = &p->next;
	st->submits++;
	return STORE_QUEUED;
}

/* Unlink the oldest request if it is `op` (and, unless shape is -1, of that
 * callback shape). */
static struct pending *take(struct store *st, enum fake_op op, int shape)
{
	struct pending *p = st->head;

	if (!p || p->r.op != op || (shape >= 0 && p->shape != (enum cb_shape)shape))
		return NULL;
	st->head = p->next;
	if (!st->head)
		st->last = &st->head;
	return p;
}

/* What the test answers; err STORE_FAILED leaves the rest zero. */
struct answer {
	int err;
	long n;                      /* count, or fan-out's notifications taken */
	const int64_t *v;            /* numbers, rows of numbers, fanned devices */
	size_t nv, ncols;
	const struct claim_row *rows;
	size_t nrows; /* CB_FANOUT: rows sent at once */
};

/* Call p's callback with a, in p's shape. */
static void call(struct pending *p, const struct answer *a)
{
	switch (p->shape) {
	case CB_COUNT:
		if (p->cb.count)
			p->cb.count(p->ud, a->err, a->n);
		break;
	case CB_NUMS:
		p->cb.nums(p->ud, a->err, a->v, a->nv);
		break;
	case CB_CLAIM:
		p->cb.claim(p->ud, a->err, a->rows, a->nv);
		break;
	case CB_FANOUT:
		p->cb.fanout(p->ud, a->err, a->n, a->v, a->nv, a->rows, a->nrows);
		break;
	case CB_ROWS:
		p->cb.rows(p->ud, a->err, a->v, a->nv, a->ncols);
		break;
	}
}

static void fail(struct pending *p)
{
	call(p, &(struct answer){ .err = STORE_FAILED });
}

struct store *fake_store_new(void)
{
	struct store *st = calloc(1, sizeof *st);

	if (st) {
		st->ready = 1;
		st->last = &st->head;
	}
	return st;
}

void fake_store_free(struct store *st)
{
	while (st->head) {
		struct pending *p = st->head;
		st->head = p->next;
		pending_free(p);
	}
	free(st);
}

void fake_store_set_ready(struct store *st, int ready)
{
	st->ready = ready;
}

void fake_store_refuse(struct store *st, int n)
{
	st->refuse = n;
}

void fake_store_drop(struct store *st)
{
	struct pending *list = st->head;

	st->head = NULL;
	st->last = &st->head;
	st->ready = 0;
	while (list) {
		struct pending *p = list;
		list = p->next;
		fail(p);
		pending_free(p);
	}
}

size_t fake_pending(const struct store *st)
{
	size_t n = 0;

	for (const struct pending *p = st->head; p; p = p->next)
		n++;
	return n;
}

const struct fake_req *fake_head(const struct store *st)
{
	return st->head ? &st->head->r : NULL;
}

unsigned long fake_submits(const struct store *st)
{
	return st->submits;
}

/* Answer the oldest request if it is `op` of that shape (-1: any shape). */
static int reply(struct store *st, enum fake_op op, int shape, const struct answer *a)
{
	struct pending *p = take(st, op, shape);

	if (!p)
		return -1;
	call(p, a);
	pending_free(p);
	return 0;
}

int fake_reply_count(struct store *st, enum fake_op op, long n)
{
	return reply(st, op, CB_COUNT, &(struct answer){ .n = n });
}

int fake_reply_nums(struct store *st, enum fake_op op, const int64_t *v, size_t n)
{
	return reply(st, op, CB_NUMS, &(struct answer){ .v = v, .nv = n });
}

int fake_reply_claim(struct store *st, enum fake_op op, const struct claim_row *rows, size_t n)
{
	return reply(st, op, CB_CLAIM, &(struct answer){ .rows = rows, .nv = n });
}

int fake_reply_fanout(struct store *st, long touched, const int64_t *dev, size_t n)
{
	return fake_reply_fanout_sent(st, touched, dev, n, NULL, 0);
}

int fake_reply_fanout_sent(struct store *st, long touched, const int64_t *dev, size_t n,
                           const struct claim_row *sent, size_t nsent)
{
	return reply(st, FS_FANOUT, CB_FANOUT,
	             &(struct answer){ .n = touched, .v = dev, .nv = n, .rows = sent, .nrows = nsent });
}

int fake_reply_rows(struct store *st, enum fake_op op, const int64_t *v, size_t nrows,
                    size_t ncols)
{
	return reply(st, op, CB_ROWS, &(struct answer){ .v = v, .nv = nrows, .ncols = ncols });
}

int fake_reply_error(struct store *st, enum fake_op op)
{
	return reply(st, op, -1, &(struct answer){ .err = STORE_FAILED });
}

/* --- the store.h calls ------------------------------------------------- */

#define REQ(...) ((struct fake_req){ __VA_ARGS__ })
#define CB(member, fn) ((union fake_cb){ .member = (fn) })

int store_is_ready(const struct store *st)
{
	return st->ready;
}

int store_reclaim(struct store *st, const char *instance, store_count_fn cb, void *ud)
{
	return record(st, REQ(.op = FS_RECLAIM), CB_COUNT, CB(count, cb), ud);
}

int store_sweep(struct store *st, uint32_t probe_ms, store_nums_fn cb, void *ud)
{
	return record(st, REQ(.op = FS_SWEEP, .ms = probe_ms), CB_NUMS, CB(nums, cb), ud);
}

int store_probe(struct store *st, const char *instance, long limit, uint32_t timeout_ms,
                store_claim_fn cb, void *ud)
{
	return record(st, REQ(.op = FS_PROBE, .limit = limit, .ms = timeout_ms), CB_CLAIM,
	              CB(claim, cb), ud);
}

int store_fanout(struct store *st, long limit, long chunk, const char *instance, uint32_t lease_ms,
                 long window, store_fanout_fn cb, void *ud)
{
	return record(st, REQ(.op = FS_FANOUT, .limit = limit), CB_FANOUT, CB(fanout, cb), ud);
}

int store_claim(struct store *st, const char *instance, long limit, uint32_t lease_ms,
                long window, store_claim_fn cb, void *ud)
{
	return record(st, REQ(.op = FS_CLAIM, .limit = limit, .ms = lease_ms), CB_CLAIM,
	              CB(claim, cb), ud);
}

int store_claim_devices(struct store *st, const char *instance, long limit, uint32_t lease_ms,
                        long window, const int64_t *devices, size_t n,
                        store_claim_fn cb, void *ud)
{
	return record(st, REQ(.op = FS_CLAIM_DEVICES, .limit = limit, .ms = lease_ms,
	                      .ids = copy_ids(devices, n), .n = n),
	              CB_CLAIM, CB(claim, cb), ud);
}

int store_claim_retracts(struct store *st, const char *instance, long limit, uint32_t lease_ms,
                         store_claim_fn cb, void *ud)
{
	return record(st, REQ(.op = FS_CLAIM_RETRACTS, .limit = limit, .ms = lease_ms), CB_CLAIM,
	              CB(claim, cb), ud);
}

int store_wake(struct store *st, int listening, uint32_t lease_ms, store_count_fn cb, void *ud)
{
	return record(st, REQ(.op = FS_WAKE, .listening = listening, .ms = lease_ms), CB_COUNT,
	              CB(count, cb), ud);
}

int store_next_due(struct store *st, store_count_fn cb, void *ud)
{
	return record(st, REQ(.op = FS_NEXT_DUE), CB_COUNT, CB(count, cb), ud);
}

int store_fail(struct store *st, int64_t notif, int64_t device_row, int64_t token,
               const char *reason, store_count_fn cb, void *ud)
{
	return record(st, REQ(.op = FS_FAIL, .ids = copy_ids(&notif, 1), .n = 1), CB_COUNT,
	              CB(count, cb), ud);
}

int store_ack_batch(struct store *st, const int64_t *notif, const int64_t *device_row,
                    const char *const *bare_jid, size_t n, store_rows_fn cb, void *ud)
{
	char **bare = calloc(n ? n : 1, sizeof *bare);

	/* Out of memory in the test itself leaves an incomplete copy: the
	 * test's checks of it fail. */
	for (size_t i = 0; bare && i < n; i++)
		bare[i] = strdup(bare_jid[i]);
	return record(st, REQ(.op = FS_ACK_BATCH, .ids = copy_ids(notif, n),
	                      .dev = copy_ids(device_row, n), .bare = bare, .n = n),
	              CB_ROWS, CB(rows, cb), ud);
}

/* --- the loop driver --------------------------------------------------- */

static void on_stop(struct loop_timer *t)
{
	loop_stop(t->ud);
}

int fake_loop_init(struct fake_loop *fl)
{
	if (!(fl->l = loop_new(NULL, NULL)))
		return -1;
	loop_timer_init(fl->l, &fl->stop, on_stop, fl->l);
	return 0;
}

void fake_loop_free(struct fake_loop *fl)
{
	loop_timer_remove(fl->l, &fl->stop);
	loop_free(fl->l);
}

void fake_loop_run_ms(struct fake_loop *fl, uint64_t ms)
{
	loop_timer_arm(&fl->stop, ms);
	(void)loop_run(fl->l);
}

uint64_t fake_loop_run_until(struct fake_loop *fl, const struct store *st, uint64_t max_ms)
{
	uint64_t t0 = monotime_ms();

	while (!st->head && monotime_ms() - t0 < max_ms)
		fake_loop_run_ms(fl, 1);
	return monotime_ms() - t0;
}
