/* scan: the ledger to the wire. A scan (on start, on every component or
 * Postgres (re)connect, on NOTIFY, on a device coming online, on timers) runs
 * fan-out (notifications -> ledger rows) then claims (ledger rows -> stanzas).
 * Only one scan runs at a time; a request during a scan sets scan_again. */
#include "daemon_int.h"

#include <stdlib.h>
#include <string.h>

#include "component.h"
#include "fault.h"
#include "log.h"

/* --- scanning -------------------------------------------------------------
 * One scan is a chain of queries, one in flight at a time:
 *   reclaim (after a restart or reconnect) -> sweep (at most 1/s) -> probes
 *   (pings to sessions whose sends went unacked) -> fan-out -> claim
 *   (repeated while batches come back full) -> retracts -> wake flag -> next
 *   scheduled push, lease or probe deadline.
 * Each callback records what it found and calls scan_advance(). */

static void scan_advance(struct daemon *d);

static void scan_abort(struct daemon *d)
{
	/* A query failed (the store logs why and reconnects; on_store_ready rescans). */
	d->step = SC_IDLE;
}

static void scan_finish(struct daemon *d)
{
	d->step = SC_IDLE;
	if (d->backpressure) {
		/* The server reads slower than Postgres claims: let the socket drain. */
		d->backpressure = 0;
		loop_timer_arm_min(&d->soon, 20);
	} else if (d->found_work || d->scan_again) {
		loop_timer_arm_min(&d->soon, 0);
	}
	d->scan_again = 0;
}

static void send_notification(struct daemon *d, const struct claim_row *r)
{
	struct notif_out o = {
		.from = d->cfg->component_jid, .to = r->full_jid,
		.notif_id = r->notif_id, .device_row = r->device_row, .token = r->token,
		.app = r->app, .priority = r->priority, .created = r->created,
		.expires = r->expires, .collapse = r->collapse,
		.title = r->title, .body = r->body, .uri = r->uri, .payload = r->payload,
	};
	int rc;

	xbuf_reset(&d->out);
	rc = stanza_encode_notification(&d->out, &o);
	if (rc == -2) {
		/* Text XML cannot carry: retrying would never succeed. */
		log_error("notification cannot be encoded", "notif=%lld device=%lld",
		          (long long)r->notif_id, (long long)r->device_row);
		if (store_fail(d->store, r->notif_id, r->device_row, r->token,
		               "text holds characters XML cannot carry", NULL, NULL) < 0)
			log_warn("could not mark failed", "notif=%lld", (long long)r->notif_id);
		return;
	}
	if (rc < 0) {
		log_error("out of memory encoding notification", NULL);
		return;
	}
	log_debug("notification sent", "notif=%lld device=%lld attempt=%d token=%lld to=%s",
	          (long long)r->notif_id, (long long)r->device_row, r->attempts,
	          (long long)r->token, log_q(r->full_jid));
	send_buf(d);
	d->st.sent++;
	if (r->attempts > 1)
		d->st.retried++;
}

static void send_claimed(struct daemon *d, const struct claim_row *rows, size_t n)
{
	if (n > 0)
		FAULT_POINT("after_claim");      /* claimed (sent in SQL), nothing on the wire */
	for (size_t i = 0; i < n; i++) {
		send_notification(d, &rows[i]);
		FAULT_POINT("after_send");       /* on the wire, ack not yet seen */
	}
	if (n > 0)
		loop_timer_arm_min(&d->lease, d->cfg->ack_timeout_ms + 50);
}

/* The refill of the devices whose acks were just recorded (outside the scan). */
void scan_on_refilled(void *ud, int err, const struct claim_row *rows, size_t n)
{
	struct daemon *d = ud;

	if (err)
		return;  /* the store logs why; the next scan claims those rows */
	send_claimed(d, rows, n);
	if (n == d->cfg->batch_size)
		scan_full(d);  /* more devices freed slots than one claim takes */
}

static void on_claimed(void *ud, int err, const struct claim_row *rows, size_t n)
{
	struct daemon *d = ud;

	if (err) {
		scan_abort(d);
		return;
	}
	/* Claimed rows alone are no reason to scan again: what a partial batch
	 * left behind is waiting for acks, and each ack batch refills its own
	 * devices (on_refilled). Rescanning here probed every online device after
	 * every ack batch. */
	send_claimed(d, rows, n);
	if (n == d->cfg->batch_size && component_is_ready(d->comp)) {
		/* More may be waiting than one claim takes: go on with the full claim. */
		if (!d->claim_full)
			d->full_want++;
		d->fan_n = 0;
		if (component_outbuf_len(d->comp) < d->cfg->max_outbuf_bytes) {
			scan_advance(d);  /* stay on SC_CLAIM: claim the next batch */
			return;
		}
		d->backpressure = 1;
	} else if (d->claim_full) {
		d->full_have = d->full_started;  /* a complete pass over the online devices */
	}
	d->step = SC_RETRACT;
	scan_advance(d);
}

/* One IQ of our own for a claimed row: a retract, or a probe (an XEP-0199
 * ping to the device's session; notif_id 0). 1 if it went on the wire. */
static int send_row_iq(struct daemon *d, const struct claim_row *r, int probe)
{
	int rc;

	xbuf_reset(&d->out);
	rc = probe ? stanza_encode_probe(&d->out, d->cfg->component_jid, r->full_jid,
	                                 r->device_row, r->token)
	           : stanza_encode_retract(&d->out, d->cfg->component_jid, r->full_jid,
	                                   r->notif_id, r->device_row, r->token);
	if (rc != 0) {
		xbuf_reset(&d->out);
		return 0;
	}
	if (probe)
		log_info("probing a session with unacked sends", "device=%lld to=%s token=%lld",
		         (long long)r->device_row, log_q(r->full_jid), (long long)r->token);
	else
		log_debug("retract sent", "notif=%lld device=%lld", (long long)r->notif_id,
		          (long long)r->device_row);
	send_buf(d);
	return 1;
}

static void on_retracts_claimed(void *ud, int err, const struct claim_row *rows, size_t n)
{
	struct daemon *d = ud;

	if (err) {
		scan_abort(d);
		return;
	}
	for (size_t i = 0; i < n; i++)
		d->st.retracts += (uint64_t)send_row_iq(d, &rows[i], 0);
	if (n > 0) {
		d->found_work = 1;
		loop_timer_arm_min(&d->lease, d->cfg->ack_timeout_ms + 50);
	}
	if (n < d->cfg->batch_size)
		d->retract_have = d->retract_started;
	d->step = SC_WAKE;
	scan_advance(d);
}

static void on_scan_count(void *ud, int err, long n)
{
	struct daemon *d = ud;

	if (err) {
		scan_abort(d);
		return;
	}
	switch (d->step) {
	case SC_RECLAIM:
		d->need_reclaim = 0;
		if (n > 0)
			log_info("requeued deliveries sent before a restart or reconnect", "rows=%ld", n);
		d->step = SC_SWEEP;
		break;
	case SC_WAKE:
		d->listening = !d->found_work;
		/* Set the flag, then look once more: a producer that read the old
		 * flag may have committed just before it changed. */
		if (d->listening)
			d->scan_again = 1;
		d->step = SC_DUE;
		break;
	case SC_DUE:
		/* A scheduled push or a lease running out: the full claim then. */
		if (n >= 0)
			loop_timer_arm_min(&d->lease, (uint64_t)n + 5);
		scan_finish(d);
		return;
	default:
		scan_abort(d);
		return;
	}
	scan_advance(d);
}

static void on_fanned(void *ud, int err, long touched, const int64_t *dev, size_t n)
{
	struct daemon *d = ud;

	if (err) {
		scan_abort(d);
		return;
	}
	if (touched > 0) {
		log_debug("fanned out", "notifications=%ld online_devices=%zu", touched, n);
		d->found_work = 1;
	}
	d->fan_n = 0;
	if (n > d->cfg->batch_size) {
		d->full_want++;  /* more devices than one claim takes: visit them all */
	} else if (n > 0) {
		if (n > d->fan_cap) {
			int64_t *p = realloc(d->fan_dev, n * sizeof *p);
			if (!p) {
				d->full_want++;
				n = 0;
			} else {
				d->fan_dev = p;
				d->fan_cap = n;
			}
		}
		if (n > 0)
			memcpy(d->fan_dev, dev, n * sizeof *dev);
		d->fan_n = n;
	}
	d->step = SC_CLAIM;
	scan_advance(d);
}

static void on_swept(void *ud, int err, const int64_t *v, size_t n)
{
	struct daemon *d = ud;

	if (err || n < 4) {
		scan_abort(d);
		return;
	}
	if (v[0] > 0)
		log_info("deliveries expired", "rows=%lld", (long long)v[0]);
	if (v[1] > 0)
		log_info("unacked sends requeued: device offline, silent or on a new session",
		         "rows=%lld", (long long)v[1]);
	if (v[2] > 0)
		log_info("devices silent: no answer to a probe; nothing is sent to them until they"
		         " show life", "devices=%lld", (long long)v[2]);
	d->st.expired += (uint64_t)v[0];
	d->st.requeued += (uint64_t)v[1];
	d->st.silenced += (uint64_t)v[2];
	if (v[1] > 0)
		d->full_want++;  /* requeued rows of online devices (a newer session) */
	d->step = v[3] > 0 ? SC_PROBE : SC_FANOUT;
	scan_advance(d);
}

/* Probes: one ping per device whose sends ran out of lease unacked. */
static void on_probed(void *ud, int err, const struct claim_row *rows, size_t n)
{
	struct daemon *d = ud;

	if (err) {
		scan_abort(d);
		return;
	}
	for (size_t i = 0; i < n; i++)
		d->st.probes += (uint64_t)send_row_iq(d, &rows[i], 1);
	if (n > 0)
		loop_timer_arm_min(&d->lease, d->cfg->ack_timeout_ms + 50);
	if (n < d->cfg->batch_size)
		d->step = SC_FANOUT;
	scan_advance(d);
}

static void scan_advance(struct daemon *d)
{
	const struct config *c = d->cfg;
	int rc = 0;

	for (;;) {
		switch (d->step) {
		case SC_IDLE:
			return;
		case SC_RECLAIM:
			rc = store_reclaim(d->store, c->instance_id, on_scan_count, d);
			break;
		case SC_SWEEP:
			if (monotime_ms() - d->last_sweep_ms < 1000) {
				/* A lease or probe that ran out is judged by the next sweep. */
				if (d->sweep_pending)
					loop_timer_arm_min(&d->lease,
					                   1000 - (monotime_ms() - d->last_sweep_ms) + 1);
				d->step = SC_FANOUT;
				continue;
			}
			d->last_sweep_ms = monotime_ms();
			d->sweep_pending = 0;
			rc = store_sweep(d->store, c->ack_timeout_ms, on_swept, d);
			break;
		case SC_PROBE:
			rc = store_probe(d->store, c->instance_id, c->batch_size, c->ack_timeout_ms,
			                 on_probed, d);
			break;
		case SC_FANOUT:
			rc = store_fanout(d->store, c->batch_size, c->fanout_chunk, on_fanned, d);
			break;
		case SC_CLAIM:
			d->claim_full = d->full_want != d->full_have;
			if (d->claim_full) {
				d->full_started = d->full_want;
				rc = store_claim(d->store, c->instance_id, c->batch_size, c->ack_timeout_ms,
				                 c->device_window, on_claimed, d);
			} else if (d->fan_n > 0) {
				rc = store_claim_devices(d->store, c->instance_id, c->batch_size,
				                         c->ack_timeout_ms, c->device_window,
				                         d->fan_dev, d->fan_n, on_claimed, d);
			} else {
				d->step = SC_RETRACT;
				continue;
			}
			break;
		case SC_RETRACT:
			if (d->retract_want == d->retract_have) {
				d->step = SC_WAKE;
				continue;
			}
			d->retract_started = d->retract_want;
			rc = store_claim_retracts(d->store, c->instance_id, c->batch_size,
			                          c->ack_timeout_ms, on_retracts_claimed, d);
			break;
		case SC_WAKE:
			/* Idle: renew the lease well before it runs out (the periodic
			 * scan comes every scan_interval_ms; the lease is three of them). */
			if (d->listening == !d->found_work &&
			    !(d->listening && monotime_ms() - d->wake_ms >= c->scan_interval_ms / 2)) {
				d->step = SC_DUE;
				continue;
			}
			d->wake_ms = monotime_ms();
			rc = store_wake(d->store, !d->found_work, 3 * c->scan_interval_ms, on_scan_count, d);
			break;
		case SC_DUE:
			if (d->found_work) {
				scan_finish(d);
				return;
			}
			rc = store_next_due(d->store, on_scan_count, d);
			break;
		}
		if (rc < 0)
			scan_abort(d);
		return;
	}
}

void scan(struct daemon *d)
{
	if (!store_is_ready(d->store) || !component_is_ready(d->comp))
		return;
	if (d->step != SC_IDLE) {
		d->scan_again = 1;
		return;
	}
	d->found_work = 0;
	d->step = d->need_reclaim ? SC_RECLAIM : SC_SWEEP;
	scan_advance(d);
}

void scan_full(struct daemon *d)
{
	d->full_want++;
	d->retract_want++;
	scan(d);
}

void scan_on_tick(struct loop_timer *t)
{
	struct daemon *d = t->ud;

	loop_timer_arm(&d->tick, d->cfg->scan_interval_ms);
	scan_full(d);
}

/* "Scan again now" (new work, backpressure): fan-out and its devices. */
void scan_on_soon(struct loop_timer *t)
{
	scan(t->ud);
}

/* Leases and probes running out, scheduled pushes: the sweep, then every
 * online device. */
void scan_on_lease(struct loop_timer *t)
{
	struct daemon *d = t->ud;

	d->sweep_pending = 1;
	scan_full(d);
}
