/* scan: the ledger to the wire. A scan runs fan-out (notifications ->
 * ledger rows), then claims (ledger rows -> stanzas), retracts and the idle
 * flag, one query at a time on the main store. It runs when its owner asks
 * (NOTIFY, a connection coming up, a device online) and on its own timers
 * (the periodic scan, leases running out, scheduled pushes). Stanzas go out
 * through the sink it was given: the scan knows nothing of the connection. */
#ifndef XPUSH_SCAN_H
#define XPUSH_SCAN_H

#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "loop.h"
#include "metrics.h"
#include "store.h"

struct scan;

/* Where the scan's stanzas go. Called only from inside scan calls and the
 * scan's timers and store callbacks. */
struct scan_sink {
	/* One encoded stanza (borrowed for the call). Not connected: dropped;
	 * the row's lease brings it back. */
	void (*send)(void *ud, const char *data, size_t len);
	/* 1 while stanzas can go out: a scan starts only then. */
	int (*ready)(void *ud);
	/* Bytes sent but not yet written to the server: from max_outbuf_bytes
	 * on, the scan pauses its claims until they drain (backpressure). */
	size_t (*queued)(void *ud);
	void *ud;
};

/* What a request asks for (or'ed). Each one is kept until a scan has done
 * it: a request made while a scan runs makes one more scan when it ends; one
 * made while the store or the sink is down waits for the next request. */
enum {
	SCAN_NEW = 0,              /* fan-out, then claims for the devices it gave rows */
	SCAN_RETRACTS = 1 << 0,    /* also claim queued retracts */
	SCAN_ALL_DEVICES = 1 << 1, /* also claim for every online device */
	SCAN_RECLAIM = 1 << 2,     /* first requeue what this instance had sent (a reconnect) */
	SCAN_THIS_TURN = 1 << 3,   /* start from the loop's timers, after this turn's events */
	SCAN_FULL = SCAN_RETRACTS | SCAN_ALL_DEVICES,
};

/* l, st, cfg and stats are borrowed and must outlive the scan; the sink is
 * copied. The first scan (when asked for) reclaims and is full. Arms the
 * periodic scan. NULL on OOM. */
struct scan *scan_new(struct loop *l, struct store *st, const struct config *cfg,
                      struct xp_stats *stats, const struct scan_sink *sink);
/* Removes the scan's timers. Free the store first: its pending callbacks
 * must never run. NULL is a no-op. */
void scan_free(struct scan *sc);

/* Ask for a scan (SCAN_* or'ed). */
void scan_request(struct scan *sc, unsigned what);
/* The store's connection is lost (its requests have failed): the running
 * scan is over, and what the idle flag says is no longer known. */
void scan_store_down(struct scan *sc);
/* Acks freed slots in these devices' windows: claim for them now, without a
 * scan (a scan probes every online device). devices is copied. */
void scan_refill(struct scan *sc, const int64_t *devices, size_t n);

#endif
