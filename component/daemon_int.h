/* daemon_int: the state shared by daemon.c (stanzas, acks, connection
 * events) and scan.c (fan-out, claims, sending). Internal to xpushd. */
#ifndef XPUSH_DAEMON_INT_H
#define XPUSH_DAEMON_INT_H

#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "loop.h"
#include "metrics.h"
#include "stanza.h"
#include "store.h"
#include "xbuf.h"

struct component;
struct ratelimit;

enum scan_step {
	SC_IDLE, SC_RECLAIM, SC_SWEEP, SC_PROBE, SC_FANOUT, SC_CLAIM, SC_RETRACT, SC_WAKE, SC_DUE
};

struct daemon {
	const struct config *cfg;
	struct loop *loop;
	struct store *store;
	/* Device acks run on a session of their own: on the main one they waited
	 * behind fan-out and claims, ~30% of that session's time in B2. */
	struct store *ackstore;
	struct component *comp;
	struct loop_timer tick;      /* slow periodic scan */
	struct loop_timer soon;      /* "scan again now" and scheduled pushes */
	struct loop_timer lease;     /* re-send what was not acked in time */
	struct loop_timer health;    /* refresh the Postgres gauges of /metrics */
	struct loop_timer ackflush;  /* write the acks of this loop turn */
	struct ack_batch *acks;      /* acks waiting for the next batch */
	struct ack_batch *acks_sent; /* the batch in the store (one at a time) */
	struct ack_batch *acks_retry; /* a batch whose write failed: written again first */
	struct metrics *metrics;
	struct stanza_limits lim;
	struct ratelimit *rl;
	uint64_t throttle_log_ms;    /* last "throttled" log line: at most one a second */
	enum scan_step step;
	int scan_again, need_reclaim, found_work, backpressure;
	/* The claim over every online device runs when asked for since the last
	 * complete one (start, reconnect, presence, leases running out, the
	 * periodic scan); otherwise a scan claims for the devices its fan-out
	 * just gave rows (fan_dev). Counters, so a request made while a full
	 * claim is running is not lost when it completes. */
	uint64_t full_want, full_have, full_started;
	int claim_full;              /* the claim in flight is the full one */
	/* Retracts are claimed when asked for: by NOTIFY (push.retract sends one
	 * whatever the flag) and by every full scan (leases of sent retracts). */
	uint64_t retract_want, retract_have, retract_started;
	int64_t *fan_dev;            /* online devices with new rows (this scan) */
	size_t fan_n, fan_cap;
	int listening;               /* what push.wakeup says: -1 unknown */
	uint64_t wake_ms;            /* when the idle lease was last written */
	uint64_t last_sweep_ms;
	int sweep_pending;           /* a lease or probe ran out: sweep as soon as allowed */
	int exit_code;
	struct xbuf out;             /* scratch for encoding one stanza */
	struct xp_stats st;
};

/* Device acks, written to the ledger in one statement and one commit per
 * batch (store_ack_batch) instead of one each: a commit per ack capped B1 at
 * the WAL flush rate. At most one batch is in the store; acks arriving
 * meanwhile form the next one. */
struct ack_batch {
	struct daemon *d;
	int tries;                   /* writes that failed (kept for ACK_TRIES) */
	size_t n, cap;
	int64_t *notif, *dev;
	char **bare;
};

/* daemon.c */
void send_buf(struct daemon *d);   /* d->out to the component connection */

/* scan.c: ask for a scan (fan-out, then claims for the devices it named); a
 * full one also claims for every online device and for queued retracts. */
void scan(struct daemon *d);
void scan_full(struct daemon *d);
void scan_on_tick(struct loop_timer *t);    /* the periodic scan (full) */
void scan_on_soon(struct loop_timer *t);    /* "scan again now" */
void scan_on_lease(struct loop_timer *t);   /* leases running out, due pushes (full) */
/* store_claim_fn for the refill of the devices whose acks were recorded. */
void scan_on_refilled(void *ud, int err, const struct claim_row *rows, size_t n);

#endif
