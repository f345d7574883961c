/* Unit tests for component/scan: every step of a scan, driven through a
 * stand-in store (fake_store.c: the test answers each query) and a real
 * loop, with a sink that records what would go to the XMPP server. No
 * sockets, no Postgres. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fake_store.h"
#include "scan.h"
#include "test.h"

#define MAX_SENT 64
#define BATCH 4

struct fx {
	struct fake_loop fl;
	struct store *st;
	struct scan *sc;
	struct config cfg;
	struct xp_stats stats;
	int ready;                   /* the sink's connection */
	size_t queued;               /* bytes the sink says wait to be written */
	char *sent[MAX_SENT];
	size_t nsent;
	int sweeps;                  /* sweeps answered by drain() */
	int last_listening;          /* the flag of the last wake drain() answered */
};

static void sink_send(void *ud, const char *data, size_t len)
{
	struct fx *f = ud;

	if (f->nsent < MAX_SENT)
		f->sent[f->nsent++] = strndup(data, len);
}

static int sink_ready(void *ud)
{
	return ((struct fx *)ud)->ready;
}

static size_t sink_queued(void *ud)
{
	return ((struct fx *)ud)->queued;
}

static struct fx *fx_new(uint32_t ack_timeout_ms, uint32_t scan_interval_ms)
{
	struct fx *f = calloc(1, sizeof *f);
	struct scan_sink sink = { sink_send, sink_ready, sink_queued, NULL };

	if (!f || fake_loop_init(&f->fl) < 0)
		abort();
	sink.ud = f;
	f->cfg.component_jid = "push.example.org";
	f->cfg.instance_id = "test";
	f->cfg.scan_interval_ms = scan_interval_ms;
	f->cfg.ack_timeout_ms = ack_timeout_ms;
	f->cfg.batch_size = BATCH;
	f->cfg.fanout_chunk = 100;
	f->cfg.device_window = 2;
	f->cfg.max_outbuf_bytes = 1000;
	f->ready = 1;
	f->last_listening = -1;
	metrics_stats_init(&f->stats);
	f->st = fake_store_new();
	f->sc = f->st ? scan_new(f->fl.l, f->st, &f->cfg, &f->stats, &sink) : NULL;
	if (!f->sc)
		abort();
	return f;
}

/* Most tests: leases and the periodic scan far beyond the test's time. */
static struct fx *fx_default(void)
{
	return fx_new(60000, 600000);
}

static void fx_free(struct fx *f)
{
	fake_store_free(f->st);
	scan_free(f->sc);
	fake_loop_free(&f->fl);
	for (size_t i = 0; i < f->nsent; i++)
		free(f->sent[i]);
	free(f);
}

static int sent_has(const struct fx *f, size_t i, const char *needle)
{
	return i < f->nsent && strstr(f->sent[i], needle) != NULL;
}

static struct claim_row row(int64_t notif, int64_t dev, int64_t token)
{
	struct claim_row r = {
		.notif_id = notif, .device_row = dev, .token = token,
		.full_jid = "alice@example.org/phone", .app = "com.example.news",
		.title = "Goal!", .attempts = 1,
	};
	return r;
}

/* n notifications 100, 101, ... for device dev, tokens 50, 51, ... */
static void fill(struct claim_row *rows, int n, int64_t dev)
{
	for (int i = 0; i < n; i++)
		rows[i] = row(100 + i, dev, 50 + i);
}

static const char *op_name(enum fake_op op)
{
	static const char *const names[] = {
		[FS_RECLAIM] = "reclaim", [FS_SWEEP] = "sweep", [FS_PROBE] = "probe",
		[FS_FANOUT] = "fanout", [FS_CLAIM] = "claim", [FS_CLAIM_DEVICES] = "claim_devices",
		[FS_CLAIM_RETRACTS] = "retracts", [FS_WAKE] = "wake", [FS_NEXT_DUE] = "due",
		[FS_FAIL] = "fail", [FS_ACK_BATCH] = "acks",
	};
	return names[op];
}

/* Answer every pending request with "nothing there" (no rows, zero counts,
 * no scheduled push) until none is left; the ops answered, space-separated.
 * Sweeps are counted in f->sweeps, not listed: whether one runs depends on
 * the time since the last (at most one a second). */
static const char *drain(struct fx *f)
{
	static char ops[512];
	static const int64_t zeros[4];
	size_t len = 0;

	ops[0] = '\0';
	for (int guard = 0; guard < 100 && fake_head(f->st); guard++) {
		const struct fake_req *r = fake_head(f->st);
		enum fake_op op = r->op;
		if (op == FS_SWEEP) {
			f->sweeps++;
			(void)fake_reply_nums(f->st, op, zeros, 4);
			continue;
		}
		len += (size_t)snprintf(ops + len, sizeof ops - len, "%s%s", len ? " " : "",
		                        op_name(op));
		if (op == FS_WAKE)
			f->last_listening = r->listening;
		if (op == FS_FANOUT)
			(void)fake_reply_fanout(f->st, 0, NULL, 0);
		else if (op == FS_PROBE || op == FS_CLAIM || op == FS_CLAIM_DEVICES ||
		         op == FS_CLAIM_RETRACTS)
			(void)fake_reply_claim(f->st, op, NULL, 0);
		else
			(void)fake_reply_count(f->st, op, op == FS_NEXT_DUE ? -1 : 0);
	}
	return ops;
}

/* A first scan with nothing to do, and the look it takes after setting the
 * idle flag: the scan is idle and listening afterwards. */
static void settle(struct fx *f)
{
	scan_request(f->sc, SCAN_FULL | SCAN_RECLAIM);
	CHECK_STR(drain(f), "reclaim fanout claim retracts wake due");
	fake_loop_run_ms(&f->fl, 0);
	CHECK_STR(drain(f), "fanout due");
}

/* settle(), then a scan asked for `what` whose fan-out finds nothing. */
static void settle_then_ask(struct fx *f, unsigned what)
{
	settle(f);
	scan_request(f->sc, what);
	CHECK_INT(fake_reply_fanout(f->st, 0, NULL, 0), 0);
}

static void first_scan_runs_every_step(void)
{
	struct fx *f = fx_default();
	const int64_t swept[4] = { 2, 1, 1, 1 };  /* expired, requeued, silenced, to probe */
	const int64_t fanned[1] = { 7 };
	struct claim_row probe = row(0, 9, 40), notif = row(100, 7, 41), retract = row(90, 7, 42);
	const struct fake_req *r;

	fake_loop_run_ms(&f->fl, 0);
	CHECK_INT(fake_submits(f->st), 0);  /* nothing before it is asked */
	scan_request(f->sc, SCAN_FULL | SCAN_RECLAIM);
	CHECK_INT(fake_reply_count(f->st, FS_RECLAIM, 3), 0);
	CHECK_INT(fake_reply_nums(f->st, FS_SWEEP, swept, 4), 0);
	CHECK_INT(f->stats.expired, 2);
	CHECK_INT(f->stats.requeued, 1);
	CHECK_INT(f->stats.silenced, 1);
	CHECK_INT(fake_reply_claim(f->st, FS_PROBE, &probe, 1), 0);
	CHECK_INT(f->stats.probes, 1);
	CHECK(sent_has(f, 0, "urn:xmpp:ping"));
	CHECK_INT(fake_reply_fanout(f->st, 1, fanned, 1), 0);
	/* The full claim was asked for: every online device, not only device 7. */
	CHECK_INT(fake_reply_claim(f->st, FS_CLAIM, &notif, 1), 0);
	CHECK(sent_has(f, 1, "xp.100.7.41"));
	CHECK_INT(f->stats.sent, 1);
	CHECK_INT(fake_reply_claim(f->st, FS_CLAIM_RETRACTS, &retract, 1), 0);
	CHECK(sent_has(f, 2, "<retract"));
	CHECK_INT(f->stats.retracts, 1);
	r = fake_head(f->st);
	CHECK(r && r->op == FS_WAKE && r->listening == 0 && r->ms == 3 * f->cfg.scan_interval_ms);
	CHECK_INT(fake_reply_count(f->st, FS_WAKE, 1), 0);
	/* Work was found: no look for scheduled pushes; the next scan runs this
	 * turn, then one more after the flag says idle. */
	CHECK_INT(fake_pending(f->st), 0);
	fake_loop_run_ms(&f->fl, 0);
	CHECK_STR(drain(f), "fanout wake due");
	CHECK_INT(f->last_listening, 1);
	fake_loop_run_ms(&f->fl, 0);
	CHECK_STR(drain(f), "fanout due");
	fake_loop_run_ms(&f->fl, 0);
	CHECK_INT(fake_pending(f->st), 0);  /* idle: nothing more until asked */
	CHECK_INT(f->nsent, 3);
	fx_free(f);
}

static void new_work_claims_its_devices_only(void)
{
	struct fx *f = fx_default();
	const int64_t fanned[2] = { 7, 8 };
	int64_t many[BATCH + 1] = { 1, 2, 3, 4, 5 };
	const struct fake_req *r;

	settle(f);
	scan_request(f->sc, SCAN_NEW);
	CHECK_INT(fake_reply_fanout(f->st, 2, fanned, 2), 0);
	r = fake_head(f->st);
	CHECK(r && r->op == FS_CLAIM_DEVICES && r->n == 2 && r->ids[0] == 7 && r->ids[1] == 8);
	CHECK_STR(drain(f), "claim_devices wake");
	CHECK_INT(f->last_listening, 0);
	/* More devices than one claim takes: the full claim visits them all. */
	fake_loop_run_ms(&f->fl, 0);
	CHECK_INT(fake_reply_fanout(f->st, 1, many, BATCH + 1), 0);
	CHECK_STR(drain(f), "claim");
	fx_free(f);
}

/* Rows the fan-out sent at once go on the wire from its answer; with no
 * device named there is no claim, and their lease (100 ms) brings a full
 * scan when it runs out. */
static void fanout_sends_what_it_marked_sent(void)
{
	struct fx *f = fx_new(100, 600000);
	struct claim_row sent[2];
	uint64_t sent_at;

	fill(sent, 2, 7);
	settle(f);
	scan_request(f->sc, SCAN_NEW);
	sent_at = monotime_ms();
	CHECK_INT(fake_reply_fanout_sent(f->st, 2, NULL, 0, sent, 2), 0);
	CHECK_INT(f->nsent, 2);
	CHECK(sent_has(f, 0, "xp.100.7.50"));
	CHECK(sent_has(f, 1, "xp.101.7.51"));
	CHECK_INT(f->stats.sent, 2);
	CHECK_STR(drain(f), "wake");
	fake_loop_run_ms(&f->fl, 0);
	CHECK_STR(drain(f), "fanout wake due");
	fake_loop_run_ms(&f->fl, 0);
	CHECK_STR(drain(f), "fanout due");
	fake_loop_run_until(&f->fl, f->st, 2000);
	CHECK(monotime_ms() - sent_at >= 100);
	CHECK_STR(drain(f), "fanout claim retracts due");
	fx_free(f);
}

static void full_request_during_full_claim_is_kept(void)
{
	struct fx *f = fx_default();
	struct claim_row one[1];

	fill(one, 1, 7);
	settle_then_ask(f, SCAN_ALL_DEVICES);
	CHECK(fake_head(f->st) && fake_head(f->st)->op == FS_CLAIM);
	/* Asked again while that claim runs: it must not count as done by it. */
	scan_request(f->sc, SCAN_ALL_DEVICES);
	CHECK_INT(fake_pending(f->st), 1);
	CHECK_INT(fake_reply_claim(f->st, FS_CLAIM, one, 1), 0);
	CHECK_STR(drain(f), "due");
	fake_loop_run_ms(&f->fl, 0);
	CHECK_STR(drain(f), "fanout claim due");
	fake_loop_run_ms(&f->fl, 0);
	CHECK_INT(fake_pending(f->st), 0);
	fx_free(f);
}

static void full_batches_claim_again(void)
{
	struct fx *f = fx_default();
	struct claim_row rows[BATCH];
	const int64_t fanned[1] = { 7 };

	fill(rows, BATCH, 7);
	settle_then_ask(f, SCAN_ALL_DEVICES);
	CHECK_INT(fake_reply_claim(f->st, FS_CLAIM, rows, BATCH), 0);
	CHECK_INT(fake_reply_claim(f->st, FS_CLAIM, rows, BATCH), 0);
	CHECK_STR(drain(f), "claim due");
	CHECK_INT(f->stats.sent, 2 * BATCH);
	/* A full batch for the fanned devices: more may wait, for anyone. */
	scan_request(f->sc, SCAN_NEW);
	CHECK_INT(fake_reply_fanout(f->st, 1, fanned, 1), 0);
	CHECK_INT(fake_reply_claim(f->st, FS_CLAIM_DEVICES, rows, BATCH), 0);
	CHECK_STR(drain(f), "claim wake");
	fx_free(f);
}

static void backpressure_pauses_the_claims(void)
{
	struct fx *f = fx_default();
	struct claim_row rows[BATCH];
	uint64_t t0;

	fill(rows, BATCH, 7);
	settle(f);
	f->queued = f->cfg.max_outbuf_bytes;  /* the server reads slowly */
	scan_request(f->sc, SCAN_ALL_DEVICES);
	CHECK_INT(fake_reply_fanout(f->st, 0, NULL, 0), 0);
	CHECK_INT(fake_reply_claim(f->st, FS_CLAIM, rows, BATCH), 0);
	/* No second claim into a full buffer: the scan ends... */
	t0 = monotime_ms();
	CHECK_INT(fake_reply_count(f->st, FS_NEXT_DUE, -1), 0);
	f->queued = 0;
	/* ...and comes back by itself after the drain delay (scan.c, 20 ms). */
	fake_loop_run_until(&f->fl, f->st, 1000);
	CHECK(monotime_ms() - t0 >= 20);
	CHECK_INT(fake_reply_fanout(f->st, 0, NULL, 0), 0);
	CHECK_INT(fake_reply_claim(f->st, FS_CLAIM, rows, 1), 0);  /* the rest, then done */
	CHECK_STR(drain(f), "due");
	fx_free(f);
}

static void store_down_mid_scan_and_back(void)
{
	struct fx *f = fx_default();
	unsigned long before;

	settle(f);
	CHECK_INT(f->last_listening, 1);
	scan_request(f->sc, SCAN_NEW);
	CHECK(fake_head(f->st) && fake_head(f->st)->op == FS_FANOUT);
	fake_store_drop(f->st);   /* the fan-out fails through its callback */
	scan_store_down(f->sc);
	CHECK_INT(fake_pending(f->st), 0);
	before = fake_submits(f->st);
	scan_request(f->sc, SCAN_NEW);
	fake_loop_run_ms(&f->fl, 0);
	CHECK_INT(fake_submits(f->st), before);  /* nothing while it is down */
	fake_store_set_ready(f->st, 1);
	scan_request(f->sc, SCAN_FULL);
	/* What the idle flag says is unknown after a reconnect: written again. */
	CHECK_STR(drain(f), "fanout claim retracts wake due");
	/* A query failing mid-scan ends that scan: the next request starts anew. */
	fake_loop_run_ms(&f->fl, 0);
	CHECK_STR(drain(f), "fanout due");
	scan_request(f->sc, SCAN_ALL_DEVICES);
	CHECK_INT(fake_reply_fanout(f->st, 0, NULL, 0), 0);
	CHECK_INT(fake_reply_error(f->st, FS_CLAIM), 0);
	CHECK_INT(fake_pending(f->st), 0);
	/* So does a query the store refuses to queue. */
	scan_request(f->sc, SCAN_NEW);
	fake_store_refuse(f->st, 1);
	CHECK_INT(fake_reply_fanout(f->st, 0, NULL, 0), 0);
	CHECK_INT(fake_pending(f->st), 0);
	scan_request(f->sc, SCAN_NEW);
	CHECK_STR(drain(f), "fanout claim due");  /* the full claim is still owed */
	fx_free(f);
}

static void refill_after_acks(void)
{
	struct fx *f = fx_default();
	const int64_t devs[2] = { 3, 4 };
	struct claim_row rows[BATCH];
	const struct fake_req *r;

	fill(rows, BATCH, 3);
	settle(f);
	scan_refill(f->sc, devs, 2);
	r = fake_head(f->st);
	CHECK(r && r->op == FS_CLAIM_DEVICES && r->n == 2 && r->ids[0] == 3 && r->ids[1] == 4);
	CHECK_INT(fake_reply_claim(f->st, FS_CLAIM_DEVICES, rows, 1), 0);
	CHECK_INT(f->stats.sent, 1);
	CHECK(sent_has(f, 0, "xp.100.3.50"));
	CHECK_INT(fake_pending(f->st), 0);  /* a refill is no scan */
	/* A full refill: more devices freed slots than one claim takes. */
	scan_refill(f->sc, devs, 1);
	CHECK_INT(fake_reply_claim(f->st, FS_CLAIM_DEVICES, rows, BATCH), 0);
	CHECK_STR(drain(f), "fanout claim retracts due");
	/* A refill the store refuses falls back on a full scan. */
	fake_store_refuse(f->st, 1);
	scan_refill(f->sc, devs, 2);
	CHECK_STR(drain(f), "fanout claim retracts due");
	fx_free(f);
}

static void probes_repeat_while_full(void)
{
	struct fx *f = fx_default();
	const int64_t probe_all[4] = { 0, 0, 0, BATCH + 1 };
	struct claim_row p[BATCH];

	for (int i = 0; i < BATCH; i++)
		p[i] = row(0, 10 + i, 60 + i);
	scan_request(f->sc, SCAN_RECLAIM);
	CHECK_INT(fake_reply_count(f->st, FS_RECLAIM, 0), 0);
	CHECK_INT(fake_reply_nums(f->st, FS_SWEEP, probe_all, 4), 0);
	CHECK_INT(fake_reply_claim(f->st, FS_PROBE, p, BATCH), 0);
	CHECK_INT(fake_reply_claim(f->st, FS_PROBE, p, 1), 0);
	CHECK_INT(f->stats.probes, BATCH + 1);
	CHECK(sent_has(f, BATCH, "urn:xmpp:ping"));
	CHECK_STR(drain(f), "fanout claim retracts wake due");
	fx_free(f);
}

static void retracts_when_notified(void)
{
	struct fx *f = fx_default();
	struct claim_row retract = row(90, 7, 42);

	settle_then_ask(f, SCAN_RETRACTS);
	CHECK_INT(fake_reply_claim(f->st, FS_CLAIM_RETRACTS, &retract, 1), 0);
	CHECK(sent_has(f, 0, "<retract"));
	CHECK_INT(f->stats.retracts, 1);
	CHECK_STR(drain(f), "wake");
	/* Done: the next scan does not claim retracts again. */
	fake_loop_run_ms(&f->fl, 0);
	CHECK_STR(drain(f), "fanout wake due");
	fx_free(f);
}

static void scheduled_push_wakes_a_full_scan(void)
{
	struct fx *f = fx_default();
	uint64_t t0;

	settle_then_ask(f, SCAN_NEW);
	t0 = monotime_ms();
	CHECK_INT(fake_reply_count(f->st, FS_NEXT_DUE, 30), 0);  /* due in 30 ms */
	CHECK_INT(fake_pending(f->st), 0);
	fake_loop_run_until(&f->fl, f->st, 2000);
	CHECK(monotime_ms() - t0 >= 30);
	CHECK_INT(fake_pending(f->st), 1);
	CHECK_STR(drain(f), "fanout claim retracts due");
	fx_free(f);
}

/* A lease running out brings a full scan; its sweep waits for the second
 * since the last one. */
static void lease_runs_out_sweep_once_a_second(void)
{
	struct fx *f = fx_new(100, 600000);
	struct claim_row one = row(100, 7, 41);
	const int64_t zeros[4] = { 0 };
	uint64_t swept_at, sent_at;

	scan_request(f->sc, SCAN_FULL);
	CHECK_INT(fake_reply_count(f->st, FS_RECLAIM, 0), 0);
	swept_at = monotime_ms();
	CHECK_INT(fake_reply_nums(f->st, FS_SWEEP, zeros, 4), 0);
	CHECK_INT(fake_reply_fanout(f->st, 0, NULL, 0), 0);
	sent_at = monotime_ms();
	CHECK_INT(fake_reply_claim(f->st, FS_CLAIM, &one, 1), 0);  /* a lease of 100 ms */
	CHECK_STR(drain(f), "retracts wake due");
	fake_loop_run_ms(&f->fl, 0);
	CHECK_STR(drain(f), "fanout due");
	fake_loop_run_until(&f->fl, f->st, 2000);
	CHECK(monotime_ms() - sent_at >= 100);
	CHECK_STR(drain(f), "fanout claim retracts due");
	CHECK_INT(f->sweeps, 0);  /* too soon after the last sweep */
	fake_loop_run_until(&f->fl, f->st, 3000);
	CHECK_STR(drain(f), "fanout claim retracts due");
	CHECK_INT(f->sweeps, 1);
	CHECK(monotime_ms() - swept_at >= 1000);
	fx_free(f);
}

/* Rows the sweep requeued may be an online device's (a newer session): the
 * scan that swept them claims for every online device. */
static void requeued_rows_bring_the_full_claim(void)
{
	struct fx *f = fx_default();
	const int64_t requeued[4] = { 0, 1, 0, 0 };

	settle(f);
	fake_loop_run_ms(&f->fl, 1000);  /* a sweep is due again */
	scan_request(f->sc, SCAN_NEW);
	CHECK_INT(fake_reply_nums(f->st, FS_SWEEP, requeued, 4), 0);
	CHECK_INT(f->stats.requeued, 1);
	CHECK_STR(drain(f), "fanout claim due");
	fx_free(f);
}

static void periodic_scan_is_full(void)
{
	uint64_t t0 = monotime_ms();
	struct fx *f = fx_new(60000, 200);

	settle(f);
	fake_loop_run_until(&f->fl, f->st, 3000);
	CHECK(monotime_ms() - t0 >= 200);
	CHECK_STR(drain(f), "fanout claim retracts wake due");
	fx_free(f);
}

static void requests_wait_for_the_connection(void)
{
	struct fx *f = fx_default();

	f->ready = 0;
	scan_request(f->sc, SCAN_FULL | SCAN_RECLAIM);
	fake_loop_run_ms(&f->fl, 0);
	CHECK_INT(fake_submits(f->st), 0);
	f->ready = 1;
	scan_request(f->sc, SCAN_NEW);  /* what was asked before is still owed */
	CHECK_STR(drain(f), "reclaim fanout claim retracts wake due");
	/* SCAN_THIS_TURN: not from inside the call, from the loop's timers. */
	fake_loop_run_ms(&f->fl, 0);
	CHECK_STR(drain(f), "fanout due");
	scan_request(f->sc, SCAN_THIS_TURN);
	CHECK_INT(fake_pending(f->st), 0);
	fake_loop_run_ms(&f->fl, 0);
	CHECK_STR(drain(f), "fanout due");
	fx_free(f);
}

static void unencodable_row_is_failed_not_sent(void)
{
	struct fx *f = fx_default();
	struct claim_row bad = row(100, 7, 41);
	const struct fake_req *r;

	bad.title = "bell \x07 in the title";
	settle_then_ask(f, SCAN_ALL_DEVICES);
	CHECK_INT(fake_reply_claim(f->st, FS_CLAIM, &bad, 1), 0);
	r = fake_head(f->st);
	CHECK(r && r->op == FS_FAIL && r->ids[0] == 100);
	CHECK_INT(f->nsent, 0);
	CHECK_INT(f->stats.sent, 0);
	fx_free(f);
}

TEST_MAIN(T(first_scan_runs_every_step), T(new_work_claims_its_devices_only),
          T(fanout_sends_what_it_marked_sent),
          T(full_request_during_full_claim_is_kept), T(full_batches_claim_again),
          T(backpressure_pauses_the_claims), T(store_down_mid_scan_and_back),
          T(refill_after_acks), T(probes_repeat_while_full), T(retracts_when_notified),
          T(scheduled_push_wakes_a_full_scan), T(lease_runs_out_sweep_once_a_second),
          T(requeued_rows_bring_the_full_claim),
          T(periodic_scan_is_full), T(requests_wait_for_the_connection),
          T(unencodable_row_is_failed_not_sent))
