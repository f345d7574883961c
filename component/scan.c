/* scan: the ledger to the wire (scan.h). Owns the scan's step, its timers
 * and what has been asked of it; sends through its sink and never calls
 * back into its owner. Only one scan runs at a time; a request during a
 * scan sets scan_again. */
#include "scan.h"

#include <stdlib.h>
#include <string.h>

#include "fault.h"
#include "log.h"
#include "stanza.h"
#include "unifiedpush.h"
#include "xbuf.h"

/* Wake this long after a lease or probe deadline, so that the database's
 * clock, which judges it, agrees it has passed. */
#define SCAN_LEASE_SLACK_MS 50
/* The same for a scheduled push coming due (not_before). */
#define SCAN_DUE_SLACK_MS 5
/* Backpressure: how long the server's socket gets to drain before the next
 * claim (the server reads slower than Postgres claims). */
#define SCAN_DRAIN_MS 20
/* The sweep judges leases and probes at most this often: it visits every
 * sent row whose lease ran out. */
#define SCAN_SWEEP_EVERY_MS 1000
/* The idle flag (push.wakeup) is leased for this many periodic scans and
 * renewed after half of one: the flag of an xpushd that died runs out. */
#define SCAN_WAKE_LEASE_SCANS 3

/* One scan is a chain of queries, one in flight at a time:
 *   reclaim (after a restart or reconnect) -> sweep (at most 1/s) -> probes
 *   (pings to sessions whose sends went unacked) -> fan-out -> claim
 *   (repeated while batches come back full) -> retracts -> wake flag -> next
 *   scheduled push, lease or probe deadline.
 * Each callback records what it found and calls scan_advance(). */
enum scan_step {
	SC_IDLE,
	SC_RECLAIM,
	SC_SWEEP,
	SC_PROBE,
	SC_FANOUT,
	SC_CLAIM,
	SC_RETRACT,
	SC_WAKE,
	SC_DUE
};

static const char *const step_names[] = {
	[SC_IDLE] = "idle",       [SC_RECLAIM] = "reclaim", [SC_SWEEP] = "sweep",
	[SC_PROBE] = "probe",     [SC_FANOUT] = "fanout",   [SC_CLAIM] = "claim",
	[SC_RETRACT] = "retract", [SC_WAKE] = "wake",       [SC_DUE] = "due",
};

#define B(s) (1u << (s))
/* Allowed moves: allowed[from] is a bit set of destinations. Every step may
 * end the scan (a failed query, the store going down). */
static const unsigned allowed[] = {
	[SC_IDLE] = B(SC_RECLAIM) | B(SC_SWEEP),
	[SC_RECLAIM] = B(SC_IDLE) | B(SC_SWEEP),
	[SC_SWEEP] = B(SC_IDLE) | B(SC_PROBE) | B(SC_FANOUT),
	[SC_PROBE] = B(SC_IDLE) | B(SC_FANOUT),
	[SC_FANOUT] = B(SC_IDLE) | B(SC_CLAIM),
	[SC_CLAIM] = B(SC_IDLE) | B(SC_RETRACT),
	[SC_RETRACT] = B(SC_IDLE) | B(SC_WAKE),
	[SC_WAKE] = B(SC_IDLE) | B(SC_DUE),
	[SC_DUE] = B(SC_IDLE),
};

struct scan {
	const struct config *cfg;
	struct loop *loop;
	struct store *store;
	struct xp_stats *st;
	struct scan_sink sink;
	struct loop_timer tick;  /* slow periodic scan */
	struct loop_timer soon;  /* "scan again now" */
	struct loop_timer lease; /* leases and probes running out, scheduled pushes */
	enum scan_step step;
	int scan_again, need_reclaim, found_work, backpressure;
	/* The claim over every online device runs when asked for since the last
	 * complete one (start, reconnect, presence, leases running out, the
	 * periodic scan); otherwise a scan claims for the devices its fan-out
	 * just gave rows (fan_dev). Counters, so a request made while a full
	 * claim is running is not lost when it completes. */
	uint64_t full_want, full_have, full_started;
	int claim_full; /* the claim in flight is the full one */
	/* Retracts are claimed when asked for: by NOTIFY (push.retract sends one
	 * whatever the flag) and by every full scan (leases of sent retracts). */
	uint64_t retract_want, retract_have, retract_started;
	int64_t *fan_dev; /* online devices with new rows (this scan) */
	size_t fan_n, fan_cap;
	int listening;    /* what push.wakeup says: -1 unknown */
	uint64_t wake_ms; /* when the idle lease was last written */
	uint64_t last_sweep_ms;
	int sweep_pending; /* a lease or probe ran out: sweep as soon as allowed */
	struct xbuf out;   /* scratch for encoding one stanza */
};

static void scan_advance(struct scan *sc);

/* The one place the step changes. An impossible move is a bug: it is logged
 * and ends the scan instead (the next request starts a new one). */
static void scan_enter(struct scan *sc, enum scan_step to)
{
	enum scan_step from = sc->step;

	if (from == to)
		return;
	if (!(allowed[from] & B(to))) {
		log_error("impossible scan step refused: scan ended", "from=%s to=%s",
		          step_names[from], step_names[to]);
		to = SC_IDLE;
	}
	sc->step = to;
	log_debug("scan step", "from=%s to=%s", step_names[from], step_names[to]);
}

static void scan_abort(struct scan *sc)
{
	/* A query failed (the store logs why and reconnects; its owner rescans). */
	scan_enter(sc, SC_IDLE);
}

/* The scan a query's callback belongs to, or NULL if the query failed:
 * the scan is then over. */
static struct scan *answered(void *ud, int failed)
{
	struct scan *sc = ud;

	if (failed) {
		scan_abort(sc);
		return NULL;
	}
	return sc;
}

static void scan_finish(struct scan *sc)
{
	scan_enter(sc, SC_IDLE);
	if (sc->backpressure) {
		/* The server reads slower than Postgres claims: let the socket drain. */
		sc->backpressure = 0;
		loop_timer_arm_min(&sc->soon, SCAN_DRAIN_MS);
	} else if (sc->found_work || sc->scan_again) {
		loop_timer_arm_min(&sc->soon, 0);
	}
	sc->scan_again = 0;
}

/* sc->out to the sink, then empty. */
static void scan_send(struct scan *sc)
{
	if (sc->out.len)
		sc->sink.send(sc->sink.ud, sc->out.data, sc->out.len);
	xbuf_reset(&sc->out);
}

/* Sends went out: look again when their leases run out. */
static void arm_lease(struct scan *sc)
{
	loop_timer_arm_min(&sc->lease, sc->cfg->ack_timeout_ms + SCAN_LEASE_SLACK_MS);
}

static void send_notification(struct scan *sc, const struct claim_row *r)
{
	struct notif_out o = {
		.from = sc->cfg->component_jid,
		.to = r->full_jid,
		.notif_id = r->notif_id,
		.device_row = r->device_row,
		.token = r->token,
		.app = r->app,
		.priority = r->priority,
		.created = r->created,
		.expires = r->expires,
		.collapse = r->collapse,
		.title = r->title,
		.body = r->body,
		.uri = r->uri,
		.payload = r->payload,
	};
	int rc;

	xbuf_reset(&sc->out);
	/* A UnifiedPush registration's row goes out in that protocol. */
	rc = strncmp(r->app, "up.", 3) == 0 && strlen(r->app) == UP_APP_LEN
	             ? up_encode_push(&sc->out, o.from, o.to, o.notif_id, o.device_row, o.token,
	                              r->app, r->payload)
	             : stanza_encode_notification(&sc->out, &o);
	if (rc == -2) {
		/* Text XML cannot carry: retrying would never succeed. */
		log_error("notification cannot be encoded", "notif=%lld device=%lld",
		          (long long)r->notif_id, (long long)r->device_row);
		xbuf_reset(&sc->out);
		if (store_fail(sc->store, r->notif_id, r->device_row, r->token,
		               "text holds characters XML cannot carry", NULL, NULL) < 0)
			log_warn("could not mark failed", "notif=%lld", (long long)r->notif_id);
		return;
	}
	if (rc < 0) {
		log_error("out of memory encoding notification", NULL);
		xbuf_reset(&sc->out);
		return;
	}
	log_debug("notification sent", "notif=%lld device=%lld attempt=%d token=%lld to=%s",
	          (long long)r->notif_id, (long long)r->device_row, r->attempts,
	          (long long)r->token, log_q(r->full_jid));
	scan_send(sc);
	sc->st->sent++;
	if (r->attempts > 1)
		sc->st->retried++;
}

static void send_claimed(struct scan *sc, const struct claim_row *rows, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		send_notification(sc, &rows[i]);
		FAULT_POINT("after_send"); /* on the wire, ack not yet seen */
	}
	if (n > 0)
		arm_lease(sc);
}

/* The refill of the devices whose acks were just recorded (outside the scan). */
static void on_refilled(void *ud, int err, const struct claim_row *rows, size_t n)
{
	struct scan *sc = ud;

	if (err)
		return; /* the store logs why; the next scan claims those rows */
	if (n > 0)
		FAULT_POINT("after_claim"); /* claimed (sent in SQL), nothing on the wire */
	send_claimed(sc, rows, n);
	if (n == sc->cfg->batch_size)
		scan_request(sc, SCAN_FULL); /* more devices freed slots than one claim takes */
}

void scan_refill(struct scan *sc, const int64_t *devices, size_t n)
{
	const struct config *c = sc->cfg;

	if (n == 0)
		return;
	if (store_claim_devices(sc->store, c->instance_id, c->batch_size, c->ack_timeout_ms,
	                        c->device_window, devices, n, on_refilled, sc) < 0)
		scan_request(sc, SCAN_FULL);
}

static void on_claimed(void *ud, int err, const struct claim_row *rows, size_t n)
{
	struct scan *sc = answered(ud, err);

	if (!sc)
		return;
	/* Claimed rows alone are no reason to scan again: what a partial batch
	 * left behind is waiting for acks, and each ack batch refills its own
	 * devices (scan_refill). Rescanning here probed every online device after
	 * every ack batch. */
	if (n > 0)
		FAULT_POINT("after_claim"); /* claimed (sent in SQL), nothing on the wire */
	send_claimed(sc, rows, n);
	if (n == sc->cfg->batch_size && sc->sink.ready(sc->sink.ud)) {
		/* More may be waiting than one claim takes: go on with the full claim. */
		if (!sc->claim_full)
			sc->full_want++;
		sc->fan_n = 0;
		if (sc->sink.queued(sc->sink.ud) < sc->cfg->max_outbuf_bytes) {
			scan_advance(sc); /* stay on SC_CLAIM: claim the next batch */
			return;
		}
		sc->backpressure = 1;
	} else if (sc->claim_full) {
		sc->full_have = sc->full_started; /* a complete pass over the online devices */
	}
	scan_enter(sc, SC_RETRACT);
	scan_advance(sc);
}

/* One IQ of our own for a claimed row: a retract, or a probe (an XEP-0199
 * ping to the device's session; notif_id 0). 1 if it went on the wire. */
static int send_row_iq(struct scan *sc, const struct claim_row *r, int probe)
{
	const char *me = sc->cfg->component_jid;
	int rc;

	xbuf_reset(&sc->out);
	rc = probe ? stanza_encode_probe(&sc->out, me, r->full_jid, r->device_row, r->token)
	           : stanza_encode_retract(&sc->out, me, r->full_jid, r->notif_id, r->device_row,
	                                   r->token);
	if (rc != 0) {
		xbuf_reset(&sc->out);
		return 0;
	}
	if (probe)
		log_info("probing a session with unacked sends", "device=%lld to=%s token=%lld",
		         (long long)r->device_row, log_q(r->full_jid), (long long)r->token);
	else
		log_debug("retract sent", "notif=%lld device=%lld", (long long)r->notif_id,
		          (long long)r->device_row);
	scan_send(sc);
	return 1;
}

/* send_row_iq() for each row; the number that went on the wire. */
static uint64_t send_row_iqs(struct scan *sc, const struct claim_row *rows, size_t n, int probe)
{
	uint64_t sent = 0;

	for (size_t i = 0; i < n; i++)
		sent += (uint64_t)send_row_iq(sc, &rows[i], probe);
	if (n > 0)
		arm_lease(sc);
	return sent;
}

static void on_retracts_claimed(void *ud, int err, const struct claim_row *rows, size_t n)
{
	struct scan *sc = answered(ud, err);

	if (!sc)
		return;
	sc->st->retracts += send_row_iqs(sc, rows, n, 0);
	if (n > 0)
		sc->found_work = 1;
	if (n < sc->cfg->batch_size)
		sc->retract_have = sc->retract_started;
	scan_enter(sc, SC_WAKE);
	scan_advance(sc);
}

static void on_scan_count(void *ud, int err, long n)
{
	struct scan *sc = answered(ud, err);

	if (!sc)
		return;
	switch (sc->step) {
	case SC_RECLAIM:
		sc->need_reclaim = 0;
		if (n > 0)
			log_info("requeued deliveries sent before a restart or reconnect",
			         "rows=%ld", n);
		scan_enter(sc, SC_SWEEP);
		break;
	case SC_WAKE:
		sc->listening = !sc->found_work;
		/* Set the flag, then look once more: a producer that read the old
		 * flag may have committed just before it changed. */
		if (sc->listening)
			sc->scan_again = 1;
		scan_enter(sc, SC_DUE);
		break;
	case SC_DUE:
		/* A scheduled push or a lease running out: the full claim then. */
		if (n >= 0) /* not STORE_NEXT_DUE_NONE */
			loop_timer_arm_min(&sc->lease, (uint64_t)n + SCAN_DUE_SLACK_MS);
		scan_finish(sc);
		return;
	default:
		scan_abort(sc);
		return;
	}
	scan_advance(sc);
}

/* Keep the n online devices the fan-out gave rows, for this scan's claim. */
static void keep_fanned(struct scan *sc, const int64_t *dev, size_t n)
{
	sc->fan_n = 0;
	if (n > sc->cfg->batch_size) {
		sc->full_want++; /* more devices than one claim takes: visit them all */
		return;
	}
	if (n > sc->fan_cap) {
		int64_t *p = realloc(sc->fan_dev, n * sizeof *p);
		if (!p) {
			sc->full_want++;
			return;
		}
		sc->fan_dev = p;
		sc->fan_cap = n;
	}
	if (n > 0)
		memcpy(sc->fan_dev, dev, n * sizeof *dev);
	sc->fan_n = n;
}

static void on_fanned(void *ud, int err, long touched, const int64_t *dev, size_t n,
                      const struct claim_row *sent, size_t nsent)
{
	struct scan *sc = answered(ud, err);

	if (!sc)
		return;
	if (touched > 0) {
		log_debug("fanned out", "notifications=%ld sent=%zu devices_to_claim=%zu", touched,
		          nsent, n);
		sc->found_work = 1;
	}
	/* Fanned out as sent in SQL, nothing on the wire yet. */
	if (nsent > 0)
		FAULT_POINT("after_fanout_sent");
	send_claimed(sc, sent, nsent);
	keep_fanned(sc, dev, n);
	scan_enter(sc, SC_CLAIM);
	scan_advance(sc);
}

/* The numbers store_sweep() answers, in order. */
enum { SWEPT_EXPIRED, SWEPT_REQUEUED, SWEPT_SILENCED, SWEPT_TO_PROBE, SWEPT_N };

static void on_swept(void *ud, int err, const int64_t *v, size_t n)
{
	struct scan *sc = answered(ud, err || n < SWEPT_N);

	if (!sc)
		return;
	if (v[SWEPT_EXPIRED] > 0)
		log_info("deliveries expired", "rows=%lld", (long long)v[SWEPT_EXPIRED]);
	if (v[SWEPT_REQUEUED] > 0)
		log_info("unacked sends requeued: device offline, silent or on a new session",
		         "rows=%lld", (long long)v[SWEPT_REQUEUED]);
	if (v[SWEPT_SILENCED] > 0)
		log_info("devices silent: no answer to a probe; nothing is sent to them until they"
		         " show life",
		         "devices=%lld", (long long)v[SWEPT_SILENCED]);
	sc->st->expired += (uint64_t)v[SWEPT_EXPIRED];
	sc->st->requeued += (uint64_t)v[SWEPT_REQUEUED];
	sc->st->silenced += (uint64_t)v[SWEPT_SILENCED];
	if (v[SWEPT_REQUEUED] > 0)
		sc->full_want++; /* requeued rows of online devices (a newer session) */
	scan_enter(sc, v[SWEPT_TO_PROBE] > 0 ? SC_PROBE : SC_FANOUT);
	scan_advance(sc);
}

/* Probes: one ping per device whose sends ran out of lease unacked. */
static void on_probed(void *ud, int err, const struct claim_row *rows, size_t n)
{
	struct scan *sc = answered(ud, err);

	if (!sc)
		return;
	sc->st->probes += send_row_iqs(sc, rows, n, 1);
	if (n < sc->cfg->batch_size)
		scan_enter(sc, SC_FANOUT);
	scan_advance(sc);
}

/* What submitting a step's query did. */
enum submitted {
	SUBMIT_FAILED = -1, /* the store refused it: the callback never comes */
	SUBMIT_QUEUED = 0,  /* its callback goes on with the scan */
	SUBMIT_NOTHING = 1, /* nothing to ask at this step: on to the next */
};

static enum submitted queued(int rc)
{
	return rc == STORE_QUEUED ? SUBMIT_QUEUED : SUBMIT_FAILED;
}

static enum submitted submit_reclaim(struct scan *sc)
{
	return queued(store_reclaim(sc->store, sc->cfg->instance_id, on_scan_count, sc));
}

/* The sweep, unless the last one was less than SCAN_SWEEP_EVERY_MS ago. */
static enum submitted submit_sweep(struct scan *sc)
{
	uint64_t since = monotime_ms() - sc->last_sweep_ms;

	if (since < SCAN_SWEEP_EVERY_MS) {
		/* A lease or probe that ran out is judged by the next sweep. */
		if (sc->sweep_pending)
			loop_timer_arm_min(&sc->lease, SCAN_SWEEP_EVERY_MS - since + 1);
		return SUBMIT_NOTHING;
	}
	sc->last_sweep_ms = monotime_ms();
	sc->sweep_pending = 0;
	return queued(store_sweep(sc->store, sc->cfg->ack_timeout_ms, on_swept, sc));
}

static enum submitted submit_probe(struct scan *sc)
{
	const struct config *c = sc->cfg;

	return queued(store_probe(sc->store, c->instance_id, c->batch_size, c->ack_timeout_ms,
	                          on_probed, sc));
}

static enum submitted submit_fanout(struct scan *sc)
{
	const struct config *c = sc->cfg;

	return queued(store_fanout(sc->store, c->batch_size, c->fanout_chunk, c->instance_id,
	                           c->ack_timeout_ms, c->device_window, on_fanned, sc));
}

/* The claim: the full one if asked for, else for the devices the fan-out
 * named, if any. */
static enum submitted submit_claim(struct scan *sc)
{
	const struct config *c = sc->cfg;

	sc->claim_full = sc->full_want != sc->full_have;
	if (sc->claim_full) {
		sc->full_started = sc->full_want;
		return queued(store_claim(sc->store, c->instance_id, c->batch_size,
		                          c->ack_timeout_ms, c->device_window, on_claimed, sc));
	}
	if (sc->fan_n == 0)
		return SUBMIT_NOTHING;
	return queued(store_claim_devices(sc->store, c->instance_id, c->batch_size,
	                                  c->ack_timeout_ms, c->device_window, sc->fan_dev,
	                                  sc->fan_n, on_claimed, sc));
}

static enum submitted submit_retracts(struct scan *sc)
{
	const struct config *c = sc->cfg;

	if (sc->retract_want == sc->retract_have)
		return SUBMIT_NOTHING;
	sc->retract_started = sc->retract_want;
	return queued(store_claim_retracts(sc->store, c->instance_id, c->batch_size,
	                                   c->ack_timeout_ms, on_retracts_claimed, sc));
}

/* The idle flag: written when it changes, and renewed while idle well
 * before its lease runs out. */
static enum submitted submit_wake(struct scan *sc)
{
	uint32_t every = sc->cfg->scan_interval_ms;

	if (sc->listening == !sc->found_work &&
	    !(sc->listening && monotime_ms() - sc->wake_ms >= every / 2))
		return SUBMIT_NOTHING;
	sc->wake_ms = monotime_ms();
	return queued(store_wake(sc->store, !sc->found_work, SCAN_WAKE_LEASE_SCANS * every,
	                         on_scan_count, sc));
}

/* The next scheduled push, lease or probe deadline; none to look for when
 * work was found (the scan runs again at once). */
static enum submitted submit_due(struct scan *sc)
{
	if (sc->found_work) {
		scan_finish(sc);
		return SUBMIT_NOTHING; /* the scan is over */
	}
	return queued(store_next_due(sc->store, on_scan_count, sc));
}

/* Each step's query, and the step after it when it has nothing to ask. */
static const struct {
	enum submitted (*submit)(struct scan *sc);
	enum scan_step next;
} steps[] = {
	[SC_RECLAIM] = { submit_reclaim, SC_SWEEP }, [SC_SWEEP] = { submit_sweep, SC_FANOUT },
	[SC_PROBE] = { submit_probe, SC_FANOUT },    [SC_FANOUT] = { submit_fanout, SC_CLAIM },
	[SC_CLAIM] = { submit_claim, SC_RETRACT },   [SC_RETRACT] = { submit_retracts, SC_WAKE },
	[SC_WAKE] = { submit_wake, SC_DUE },         [SC_DUE] = { submit_due, SC_IDLE },
};

/* Submit the query of the current step, or move past steps with nothing to
 * ask, until one is in the store or the scan is over. */
static void scan_advance(struct scan *sc)
{
	while (sc->step != SC_IDLE) {
		enum scan_step next = steps[sc->step].next;
		enum submitted rc = steps[sc->step].submit(sc);
		if (rc == SUBMIT_QUEUED)
			return;
		if (rc == SUBMIT_FAILED) {
			scan_abort(sc);
			return;
		}
		scan_enter(sc, next);
	}
}

/* Start a scan if none is running and the store and the sink are ready. */
static void scan_start(struct scan *sc)
{
	if (!store_is_ready(sc->store) || !sc->sink.ready(sc->sink.ud))
		return;
	if (sc->step != SC_IDLE) {
		sc->scan_again = 1;
		return;
	}
	sc->found_work = 0;
	scan_enter(sc, sc->need_reclaim ? SC_RECLAIM : SC_SWEEP);
	scan_advance(sc);
}

void scan_request(struct scan *sc, unsigned what)
{
	if (what & SCAN_ALL_DEVICES)
		sc->full_want++;
	if (what & SCAN_RETRACTS)
		sc->retract_want++;
	if (what & SCAN_RECLAIM)
		sc->need_reclaim = 1;
	if (what & SCAN_THIS_TURN)
		loop_timer_arm_min(&sc->soon, 0);
	else
		scan_start(sc);
}

void scan_store_down(struct scan *sc)
{
	/* Queries of the running scan failed through their callbacks. */
	scan_enter(sc, SC_IDLE);
	sc->listening = -1;
}

/* The periodic scan: full. */
static void on_tick(struct loop_timer *t)
{
	struct scan *sc = t->ud;

	loop_timer_arm(&sc->tick, sc->cfg->scan_interval_ms);
	scan_request(sc, SCAN_FULL);
}

/* "Scan again now" (new work, backpressure): fan-out and its devices. */
static void on_soon(struct loop_timer *t)
{
	scan_start(t->ud);
}

/* Leases and probes running out, scheduled pushes: the sweep, then every
 * online device. */
static void on_lease(struct loop_timer *t)
{
	struct scan *sc = t->ud;

	sc->sweep_pending = 1;
	scan_request(sc, SCAN_FULL);
}

struct scan *scan_new(struct loop *l, struct store *st, const struct config *cfg,
                      struct xp_stats *stats, const struct scan_sink *sink)
{
	struct scan *sc = calloc(1, sizeof *sc);

	if (!sc)
		return NULL;
	sc->cfg = cfg;
	sc->loop = l;
	sc->store = st;
	sc->st = stats;
	sc->sink = *sink;
	sc->step = SC_IDLE;
	/* A start is a restart: requeue what a previous run had on the wire,
	 * then claim for everyone. */
	sc->need_reclaim = 1;
	sc->full_want = 1;
	sc->retract_want = 1;
	sc->listening = -1;
	loop_timer_init(l, &sc->tick, on_tick, sc);
	loop_timer_init(l, &sc->soon, on_soon, sc);
	loop_timer_init(l, &sc->lease, on_lease, sc);
	loop_timer_arm(&sc->tick, cfg->scan_interval_ms);
	return sc;
}

void scan_free(struct scan *sc)
{
	if (!sc)
		return;
	xbuf_free(&sc->out);
	free(sc->fan_dev);
	loop_timer_remove(sc->loop, &sc->tick);
	loop_timer_remove(sc->loop, &sc->soon);
	loop_timer_remove(sc->loop, &sc->lease);
	free(sc);
}
