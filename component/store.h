/* store: every SQL statement xpushd runs, as prepared statements on one
 * asynchronous libpq connection driven by the loop. Callers get typed
 * callbacks; PGresult never leaves the store (store.c, store_result.c; the
 * statements are in store_sql.c). Requests queue FIFO and run one at a time;
 * if the connection drops, queued requests fail (err STORE_FAILED) and the
 * store reconnects with backoff. NOTIFY on channel "xpush" calls on_notify;
 * (re)connection calls on_ready. */
#ifndef XPUSH_STORE_H
#define XPUSH_STORE_H

#include <stddef.h>
#include <stdint.h>
#include "loop.h"

struct store;

#define STORE_WUR __attribute__((warn_unused_result))

/* What every submitter (store_fanout ... store_unavailable) returns. */
enum store_submit {
	STORE_QUEUED = 0,
	STORE_NOT_QUEUED = -1, /* not ready, or out of memory: no callback, ever */
};
/* err in every callback. */
enum store_err {
	STORE_OK = 0,
	STORE_FAILED = -1, /* the query failed or the connection dropped; no data */
};
/* store_register's n when the device was not registered. */
enum store_register_refusal {
	STORE_REGISTER_OVER_MAX = -1,    /* the JID has max_devices other devices */
	STORE_REGISTER_ALIAS_TAKEN = -2, /* the alias belongs to another JID */
};
/* store_ack's n, and a row's latency in store_ack_batch: not this JID's row. */
#define STORE_ACK_REFUSED (-1)
/* store_next_due's n when nothing is scheduled. */
#define STORE_NEXT_DUE_NONE (-1)

struct store_events {
	void (*on_ready)(void *ud);  /* connected, statements prepared, LISTENing */
	void (*on_down)(void *ud);   /* connection lost; reconnect scheduled */
	void (*on_notify)(void *ud); /* NOTIFY xpush */
};

struct store_opts {
	const char *conninfo;
	uint32_t reconnect_min_ms, reconnect_max_ms;
	/* 0: the main session (LISTENs, on_notify); 1: a second session for the
	 * device acks (no LISTEN; application_name "xpushd-acks"). */
	int acks_session;
};

/* Connects asynchronously at once. NULL on OOM. Strings are copied. */
struct store *store_new(struct loop *l, const struct store_opts *o, const struct store_events *ev,
                        void *ud);
void store_free(struct store *st); /* pending callbacks are NOT called */
int store_is_ready(const struct store *st);
size_t store_queue_len(const struct store *st);

/* One delivery to send. Strings borrowed for the duration of the callback. */
struct claim_row {
	int64_t notif_id, device_row, token;
	const char *full_jid, *app, *priority, *created, *expires, *collapse;
	const char *title, *body, *uri, *payload; /* NULL if SQL NULL */
	int attempts;
};

struct device_reg {
	const char *jid, *full_jid, *app, *device, *alias, *platform;
	const char *const *tags;
	size_t ntags;
	long max_devices; /* other registered devices allowed for this JID */
};

typedef void (*store_count_fn)(void *ud, int err, long n);
/* A row of numbers (SQL NULL = -1); v is borrowed for the call. */
typedef void (*store_nums_fn)(void *ud, int err, const int64_t *v, size_t n);
typedef void (*store_claim_fn)(void *ud, int err, const struct claim_row *rows, size_t n);
/* Rows of numbers (SQL NULL = -1): v[row * ncols + col]; v is borrowed for the call. */
typedef void (*store_rows_fn)(void *ud, int err, const int64_t *v, size_t nrows, size_t ncols);

/* Each returns STORE_QUEUED, or STORE_NOT_QUEUED if the store is not ready
 * or out of memory: the callback is then never called, so whatever ud holds
 * is still the caller's to free. If the query itself fails or the connection
 * drops, the callback gets err STORE_FAILED and n = 0. A callback is never
 * called from inside the submitting call: always from the loop. cb may be
 * NULL (the result is dropped). */

/* Fan-out result: notifications taken, the online devices that got new
 * queued rows (may repeat), and the rows sent at once, sorted like a
 * claim's (all borrowed for the call). */
typedef void (*store_fanout_fn)(void *ud, int err, long touched, const int64_t *devices,
                                size_t ndevices, const struct claim_row *sent, size_t nsent);
/* Expand due notifications into ledger rows (push.fanout_send): up to
 * `limit` notifications, `chunk` devices each. A row whose device is online,
 * not probed, has nothing queued and a free slot in its window of `window`
 * goes out at once: marked sent under this instance with a fresh fencing
 * token and a lease of lease_ms, as store_claim() does. */
STORE_WUR
int store_fanout(struct store *st, long limit, long chunk, const char *instance, uint32_t lease_ms,
                 long window, store_fanout_fn cb, void *ud);
/* Claim up to `limit` queued deliveries for online devices that no probe
 * is running for, at most `window` sent per device; mark them sent under
 * this instance with a fresh fencing token and a lease of lease_ms. Rows
 * sorted by notification. */
STORE_WUR
int store_claim(struct store *st, const char *instance, long limit, uint32_t lease_ms, long window,
                store_claim_fn cb, void *ud);
/* store_claim() for the n devices in `devices` only (refill after their acks). */
STORE_WUR
int store_claim_devices(struct store *st, const char *instance, long limit, uint32_t lease_ms,
                        long window, const int64_t *devices, size_t n, store_claim_fn cb, void *ud);
/* Claim queued retracts (rows carry only ids, full_jid and token). */
STORE_WUR
int store_claim_retracts(struct store *st, const char *instance, long limit, uint32_t lease_ms,
                         store_claim_fn cb, void *ud);
/* Requeue every sent row (and sent retract) leased by this instance. */
STORE_WUR
int store_reclaim(struct store *st, const char *instance, store_count_fn cb, void *ud);
/* Mark acked (or the retract acked) if the row belongs to a device of
 * bare_jid. n = STORE_ACK_REFUSED if not; else the latency from INSERT to now in ms
 * (0 for a retract). */
STORE_WUR
int store_ack(struct store *st, int64_t notif, int64_t device_row, const char *bare_jid,
              int retract, store_count_fn cb, void *ud);
/* n acks in one statement and one commit: ack i is (notif[i], device_row[i])
 * from bare_jid[i], as store_ack() without retract. The arrays are copied.
 * One row per ack in order: {latency in ms or STORE_ACK_REFUSED, 1 if the
 * device has queued rows}. */
STORE_WUR
int store_ack_batch(struct store *st, const int64_t *notif, const int64_t *device_row,
                    const char *const *bare_jid, size_t n, store_rows_fn cb, void *ud);
/* IQ error from full_jid: device offline; the row (or retract) back to
 * queued with reason, only under the lease `token` that sent it. */
STORE_WUR
int store_nack(struct store *st, int64_t notif, int64_t device_row, int64_t token,
               const char *full_jid, const char *reason, int retract, store_count_fn cb, void *ud);
/* Judge by the database's clock: unanswered probes make devices silent;
 * rows past their TTL expire; sent rows whose lease ran out go back to the
 * queue (device offline, silent, or on a newer session) or wait for a probe;
 * silent devices are probed again 4 x probe_ms after their last probe.
 * v = {expired, requeued, silenced devices, rows and devices to probe}. */
STORE_WUR
int store_sweep(struct store *st, uint32_t probe_ms, store_nums_fn cb, void *ud);
/* Start probes (XEP-0199 pings) of up to `limit` online devices whose sent
 * rows' leases ran out; the answer is awaited for timeout_ms. Rows carry the
 * device id, its full JID and the probe token (notif_id 0). */
STORE_WUR
int store_probe(struct store *st, const char *instance, long limit, uint32_t timeout_ms,
                store_claim_fn cb, void *ud);
/* A probe answered with a result from full_jid: the session is alive; the
 * rows it did not ack take a strike (failed at max_strikes). v = {devices
 * matched, rows failed}. */
STORE_WUR
int store_probe_alive(struct store *st, int64_t device_row, const char *full_jid, int64_t token,
                      long max_strikes, store_nums_fn cb, void *ud);
/* A probe answered with an error (a bounce, or a client without XEP-0199):
 * the rows sent before it whose leases ran out go back to the queue with
 * reason, no strike; the device stays online. n = devices (0: stale). */
STORE_WUR
int store_probe_gone(struct store *st, int64_t device_row, const char *full_jid, int64_t token,
                     const char *reason, store_count_fn cb, void *ud);
/* push.queue_health: v = {exporter, awaiting_fanout, queued, in_flight, failed,
 * expired, devices_online, devices_registered, oldest_queued_s, stuck,
 * devices_silent}; exporter is 1 if this session holds the gauges' advisory
 * lock (taken here if free), else 0. */
STORE_WUR
int store_health(struct store *st, store_nums_fn cb, void *ud);
/* Tell producers' trigger whether to NOTIFY (xpushd idle, for lease_ms unless
 * renewed) or not (busy). */
STORE_WUR
int store_wake(struct store *st, int listening, uint32_t lease_ms, store_count_fn cb, void *ud);
/* n = ms until the next scheduled notification is due, STORE_NEXT_DUE_NONE if none. */
STORE_WUR
int store_next_due(struct store *st, store_count_fn cb, void *ud);
/* The row can never be delivered (e.g. text XML cannot carry): failed, with reason. */
STORE_WUR
int store_fail(struct store *st, int64_t notif, int64_t device_row, int64_t token,
               const char *reason, store_count_fn cb, void *ud);
/* Upsert the device, online at full_jid. n = device row id, or a refusal:
 * STORE_REGISTER_OVER_MAX, STORE_REGISTER_ALIAS_TAKEN. */
STORE_WUR
int store_register(struct store *st, const struct device_reg *r, store_count_fn cb, void *ud);
/* n = devices unregistered (0 if unknown). */
STORE_WUR
int store_unregister(struct store *st, const char *jid, const char *app, const char *device,
                     store_count_fn cb, void *ud);
/* An app's registration policy (push.apps; found 0 if it has no row) and
 * whether (jid, app, device) is registered now. Strings borrowed for the call. */
struct store_app_row {
	int found, known;
	const char *policy, *acl, *secret; /* acl: entries separated by '\n' */
};
typedef void (*store_app_fn)(void *ud, int err, const struct store_app_row *row);
STORE_WUR
int store_app(struct store *st, const char *jid, const char *app, const char *device,
              store_app_fn cb, void *ud);
/* Device online at full_jid. app/device NULL: the devices of jid last at full_jid. */
STORE_WUR
int store_presence(struct store *st, const char *jid, const char *full_jid, const char *app,
                   const char *device, store_count_fn cb, void *ud);
/* Every device at full_jid offline; their sent rows requeued. n = devices. */
STORE_WUR
int store_unavailable(struct store *st, const char *full_jid, store_count_fn cb, void *ud);

/* UnifiedPush (upsvc.c). STORE_UP_REGISTER: p = {bare JID, full JID, app,
 * new token, lifetime s, max devices, VAPID key or NULL}; one row: notif_id = device id (-1:
 * over the limit), full_jid = the token (the live one renewed, or the new),
 * token = its expiry (Unix s). STORE_UP_REVOKE: p = {device id or NULL, bare
 * JID, app, full JID, reason}; a row per device revoked (device id in
 * notif_id). */
enum store_up_op { STORE_UP_REGISTER, STORE_UP_REVOKE };
STORE_WUR
int store_up(struct store *st, enum store_up_op op, const char *const *p, store_claim_fn cb,
             void *ud);

#endif
