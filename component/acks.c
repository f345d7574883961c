/* acks: the batches of device acks (acks.h). Owns the batch being filled,
 * the one in the store and one whose write failed, and the timer that
 * writes them; knows the acks session only, and reports what each written
 * batch found to its owner instead of acting on it. */
#include "acks.h"

#include <stdlib.h>
#include <string.h>

#include "fault.h"
#include "log.h"

/* Acks waiting for their batch beyond this are dropped (the pushes are sent
 * again after ack_timeout_ms): device windows bound them far below it. */
#define ACK_PENDING_MAX 65536
/* The first allocation of a batch, in acks; it doubles from there. */
#define ACK_BATCH_MIN 64
/* A batch whose write failed (Postgres restarting, the acks session ended)
 * is written again when the session is back, this many times in all: an ack
 * lost here would be sent again and, worse, judged as unacked by a live
 * session (a strike) if its device answers the probe that follows. */
#define ACK_TRIES 3
/* How soon a failed batch is tried again while its session still answers;
 * a session that comes back flushes it at once (acks_store_ready). */
#define ACK_RETRY_MS 100

/* The columns of store_ack_batch()'s row for each ack. */
enum { ACKED_LATENCY_MS, ACKED_QUEUED };

struct ack_batch {
	struct acks *a;
	int tries; /* writes that failed (kept for ACK_TRIES) */
	size_t n, cap;
	int64_t *notif, *dev;
	char **bare;
};

struct acks {
	struct loop *loop;
	struct store *store;
	struct xp_stats *st;
	struct acks_owner owner;
	struct loop_timer flush; /* write the acks of this loop turn */
	struct ack_batch *next;  /* acks waiting for the next batch */
	struct ack_batch *sent;  /* the batch in the store (one at a time) */
	struct ack_batch *retry; /* a batch whose write failed: written again first */
};

static void batch_free(struct ack_batch *b)
{
	if (!b)
		return;
	for (size_t i = 0; i < b->n; i++)
		free(b->bare[i]);
	free(b->notif);
	free(b->dev);
	free(b->bare);
	free(b);
}

/* Room for one more ack in b. 0 or -1. */
static int batch_grow(struct ack_batch *b)
{
	size_t cap = b->cap ? 2 * b->cap : ACK_BATCH_MIN;
	int64_t *n1, *n2;
	char **n3;

	if (b->n < b->cap)
		return 0;
	if (b->n >= ACK_PENDING_MAX)
		return -1;
	if (!(n1 = realloc(b->notif, cap * sizeof *n1)))
		return -1;
	b->notif = n1;
	if (!(n2 = realloc(b->dev, cap * sizeof *n2)))
		return -1;
	b->dev = n2;
	if (!(n3 = realloc(b->bare, cap * sizeof *n3)))
		return -1;
	b->bare = n3;
	b->cap = cap;
	return 0;
}

int acks_add(struct acks *a, int64_t notif, int64_t device_row, const char *bare_jid)
{
	struct ack_batch *b = a->next;

	if (!b && !(b = a->next = calloc(1, sizeof *b)))
		return -1;
	b->a = a;
	if (batch_grow(b) < 0 || !(b->bare[b->n] = strdup(bare_jid)))
		return -1;
	b->notif[b->n] = notif;
	b->dev[b->n] = device_row;
	b->n++;
	if (!a->sent)
		loop_timer_arm_min(&a->flush, 0);
	return 0;
}

/* Count what the ledger said of each ack of b ({latency in ms or -1 if
 * refused, 1 if the device has queued rows} per ack) and tell the owner.
 * b's arrays are reordered: refill devices and refused senders first. */
static void report(struct acks *a, struct ack_batch *b, const int64_t *v, size_t nrows,
                   size_t ncols)
{
	struct acks_result r = { .refill = b->dev, .refused = (const char *const *)b->bare };

	for (size_t i = 0; i < b->n; i++) {
		const int64_t *row = i < nrows && ncols ? &v[i * ncols] : NULL;
		int64_t ms = row ? row[ACKED_LATENCY_MS] : STORE_ACK_REFUSED;
		if (ms >= 0) {
			a->st->acked++;
			r.acked++;
			metrics_observe_latency(a->st, ms);
			/* The devices to refill: those with rows waiting (an empty
			 * queue gets new rows from fan-out, which claims for them). */
			if (ncols <= ACKED_QUEUED || row[ACKED_QUEUED] != 0)
				b->dev[r.nrefill++] = b->dev[i];
		} else {
			char *s = b->bare[i];
			a->st->acks_refused++;
			b->bare[i] = b->bare[r.nrefused]; /* kept: every string is freed with b */
			b->bare[r.nrefused++] = s;
		}
	}
	if (r.acked > 0)
		FAULT_POINT("after_ack_commit");
	if (a->owner.on_written)
		a->owner.on_written(a->owner.ud, &r);
}

static void on_batch_done(void *ud, int err, const int64_t *v, size_t nrows, size_t ncols)
{
	struct ack_batch *b = ud;
	struct acks *a = b->a;

	a->sent = NULL;
	if (err && ++b->tries < ACK_TRIES && !a->retry) {
		log_warn("acks not recorded: written again when the database answers",
		         "count=%zu try=%d", b->n, b->tries);
		a->retry = b;
		loop_timer_arm_min(&a->flush, ACK_RETRY_MS);
		return;
	}
	if (err)
		log_warn("acks not recorded: the pushes will be resent", "count=%zu", b->n);
	else
		report(a, b, v, nrows, ncols);
	batch_free(b);
	if (a->retry || (a->next && a->next->n))
		loop_timer_arm_min(&a->flush, 0);
}

static void on_flush(struct loop_timer *t)
{
	struct acks *a = t->ud;
	struct ack_batch *b = a->retry ? a->retry : a->next;

	if (a->sent || !b || !b->n || !store_is_ready(a->store))
		return; /* the batch in flight, or acks_store_ready, flushes again */
	if (store_ack_batch(a->store, b->notif, b->dev, (const char *const *)b->bare, b->n,
	                    on_batch_done, b) < 0) {
		/* Kept where it was: the next ack or acks_store_ready flushes again. */
		log_warn("acks not written yet: database unavailable", "count=%zu", b->n);
		return;
	}
	if (b == a->retry)
		a->retry = NULL;
	else
		a->next = NULL;
	a->sent = b;
}

void acks_store_ready(struct acks *a)
{
	loop_timer_arm_min(&a->flush, 0);
}

struct acks *acks_new(struct loop *l, struct store *st, struct xp_stats *stats,
                      const struct acks_owner *owner)
{
	struct acks *a = malloc(sizeof *a);

	if (!a)
		return NULL;
	*a = (struct acks){ .loop = l, .store = st, .st = stats, .owner = *owner };
	loop_timer_init(l, &a->flush, on_flush, a);
	return a;
}

void acks_free(struct acks *a)
{
	if (!a)
		return;
	loop_timer_remove(a->loop, &a->flush);
	/* The store does not call back once freed: the batch it held is ours. */
	batch_free(a->sent);
	batch_free(a->retry);
	batch_free(a->next);
	free(a);
}
