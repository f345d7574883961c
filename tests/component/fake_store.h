/* fake_store: a stand-in for component/store.c in unit tests, without
 * Postgres. It implements the store.h calls the scan and the acks make:
 * each submit is recorded with its parameters and callback, in order, and
 * the test answers the oldest one (as the store runs them, one at a time)
 * with the rows or the error it chooses. A callback never runs inside the
 * submit: only when the test answers. */
#ifndef XPUSH_FAKE_STORE_H
#define XPUSH_FAKE_STORE_H

#include <stddef.h>
#include <stdint.h>

#include "loop.h"
#include "store.h"

enum fake_op {
	FS_RECLAIM, FS_SWEEP, FS_PROBE, FS_FANOUT, FS_CLAIM, FS_CLAIM_DEVICES, FS_CLAIM_RETRACTS,
	FS_WAKE, FS_NEXT_DUE, FS_FAIL, FS_ACK_BATCH,
};

/* A recorded request; arrays are copies owned by the fake. */
struct fake_req {
	enum fake_op op;
	long limit;
	uint32_t ms;                 /* lease_ms, probe_ms, timeout_ms */
	int listening;               /* FS_WAKE */
	int64_t *ids;                /* FS_CLAIM_DEVICES: devices; FS_ACK_BATCH: notifications */
	int64_t *dev;                /* FS_ACK_BATCH: device rows */
	char **bare;                 /* FS_ACK_BATCH: senders */
	size_t n;
};

struct store *fake_store_new(void);
void fake_store_free(struct store *st);   /* pending callbacks are not called */
void fake_store_set_ready(struct store *st, int ready);
/* The next n submits fail (return -1) as a store out of memory would. */
void fake_store_refuse(struct store *st, int n);
/* The connection is lost: not ready, every pending request fails (err). */
void fake_store_drop(struct store *st);

size_t fake_pending(const struct store *st);
/* The oldest pending request, or NULL. Valid until it is answered. */
const struct fake_req *fake_head(const struct store *st);
/* Every submit so far, answered or not. */
unsigned long fake_submits(const struct store *st);

/* Answer the oldest request, which must be `op` with a callback of that
 * shape: 0, or -1 (nothing answered) if there is none or it is another. */
int fake_reply_count(struct store *st, enum fake_op op, long n);
int fake_reply_nums(struct store *st, enum fake_op op, const int64_t *v, size_t n);
int fake_reply_claim(struct store *st, enum fake_op op, const struct claim_row *rows, size_t n);
int fake_reply_fanout(struct store *st, long touched, const int64_t *dev, size_t n);
/* The same with rows the fan-out sent at once. */
int fake_reply_fanout_sent(struct store *st, long touched, const int64_t *dev, size_t n,
                           const struct claim_row *sent, size_t nsent);
int fake_reply_rows(struct store *st, enum fake_op op, const int64_t *v, size_t nrows,
                    size_t ncols);
/* Answer the oldest request, which must be `op`, with err = -1. */
int fake_reply_error(struct store *st, enum fake_op op);

/* A real loop for the test to turn: its stop timer is registered first, so
 * that the timers registered after it (the scan's, the acks') that are due
 * in the same turn run before it stops the loop. */
struct fake_loop {
	struct loop *l;
	struct loop_timer stop;
};

int fake_loop_init(struct fake_loop *fl);   /* 0 or -1 */
void fake_loop_free(struct fake_loop *fl);
/* Turn the loop for ms milliseconds: the timers due meanwhile fire. */
void fake_loop_run_ms(struct fake_loop *fl, uint64_t ms);
/* Turn it until st has a request pending or max_ms passed; the ms it took. */
uint64_t fake_loop_run_until(struct fake_loop *fl, const struct store *st, uint64_t max_ms);

#endif
