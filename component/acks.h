/* acks: device acks written to the ledger in batches, on a store session of
 * their own. On the main session they waited behind fan-out and claims; and
 * one statement and one commit per batch (store_ack_batch) instead of one
 * each, because a commit per ack capped throughput at the WAL flush rate.
 * At most one batch is in the store; acks arriving meanwhile form the next
 * one. What a written batch found goes back to the owner. */
#ifndef XPUSH_ACKS_H
#define XPUSH_ACKS_H

#include <stddef.h>
#include <stdint.h>

#include "loop.h"
#include "metrics.h"
#include "store.h"

struct acks;

/* What one recorded batch found; every pointer borrowed for the call. */
struct acks_result {
	size_t acked;          /* acks recorded (counted in the stats) */
	const int64_t *refill; /* devices with queued rows behind those acks */
	size_t nrefill;
	const char *const *refused; /* senders (bare JIDs) of acks the ledger refused */
	size_t nrefused;
};

struct acks_owner {
	/* Called from the loop after each batch the ledger recorded. */
	void (*on_written)(void *ud, const struct acks_result *r);
	void *ud;
};

/* l, st and stats are borrowed and must outlive the acks; the owner is
 * copied. NULL on OOM. */
struct acks *acks_new(struct loop *l, struct store *st, struct xp_stats *stats,
                      const struct acks_owner *owner);
/* Frees every batch, the one in the store too: free the store first (its
 * pending callbacks must never run). NULL is a no-op. */
void acks_free(struct acks *a);

/* Queue the ack of (notif, device_row) from bare_jid (copied) for the next
 * batch, written this loop turn. 0, or -1 if it cannot be kept (out of
 * memory, too many waiting): the push is then sent again after its lease. */
__attribute__((warn_unused_result)) int acks_add(struct acks *a, int64_t notif, int64_t device_row,
                                                 const char *bare_jid);
/* A store session came back: write what waited for it, this loop turn. */
void acks_store_ready(struct acks *a);

#endif
