/* store_sql: the table of every statement xpushd prepares, with the shape of
 * its result (store_sql.h). SQL only: no libpq, no decoding (store_result.c
 * turns each result kind into its callback). */
#include "store_sql.h"

/* clang-format off: SQL laid out by hand, a clause a line */
/* The last step of a session's set-up, run after the PREPAREs: the main
 * session LISTENs for producers' NOTIFY; the acks session only takes its name
 * (pg_stat_activity shows which session is which). */
const char *const store_sql_session_setup[2] = {
	"LISTEN xpush",
	"SET application_name = 'xpushd-acks'",
};

/* The claim after its device list pd(id): each device online, not being
 * probed (schema 007: nothing more goes into a session that may be dead until
 * it answers), with a free slot gives its due, unexpired queued rows, at most
 * its free slots of the window $4, high priority first, then by id; $2 rows
 * at most. Every row still `sent` fills a slot, whether its lease runs or ran
 * out (the sweep judges those: requeue, probe, strike). Candidates are chosen
 * without locks, then locked by their row address (a TID scan: joined by key,
 * the planner once scanned every pending row per candidate) with SKIP LOCKED
 * and re-checked, so two instances never send the same row under the same
 * lease (a row updated meanwhile has moved: skipped). One fencing token per
 * claim. How many sends a row had (`attempts`) limits nothing but ttl 0. */
/* A candidate row's notification is due and unexpired (ttl 0: first attempt only). */
#define CLAIM_DUE \
	"     AND (n.not_before IS NULL OR n.not_before <= now())" \
	"     AND CASE WHEN n.ttl_seconds = 0 THEN d.attempts = 0" \
	"         ELSE push.expiry(n.created_at, n.ttl_seconds, n.expires_at) > now() END"

/* Each step is driven from the device list, one index probe per device (the
 * LIMIT 1 keeps the planner from joining push.devices another way: on stale
 * statistics it compared every online device with every listed one). A
 * device's next rows come from its queue in claim order (deliveries_queue,
 * schema 005: high priority first, then by id): only the rows taken are read. */
#define CLAIM_FROM_PD \
	" tok AS (SELECT nextval('push.lease_tokens') AS t)," \
	" cand AS (SELECT c.tid FROM pd" \
	"  CROSS JOIN LATERAL (SELECT v.id FROM push.devices v WHERE v.id = pd.id" \
	"   AND v.online AND v.full_jid IS NOT NULL AND v.unregistered_at IS NULL" \
	"   AND v.probe_until IS NULL LIMIT 1) v" \
	"  CROSS JOIN LATERAL (SELECT count(*)::int AS n FROM push.deliveries s" \
	"   WHERE s.device_id = v.id AND s.state = 'sent') b" \
	"  CROSS JOIN LATERAL (SELECT d.ctid AS tid FROM push.deliveries d" \
	"   JOIN push.notifications n ON n.id = d.notification_id" \
	"   WHERE d.device_id = v.id AND d.state = 'queued'" CLAIM_DUE \
	"   ORDER BY d.high DESC, d.notification_id LIMIT $4::int - b.n) c" \
	"  WHERE b.n < $4::int" \
	"  LIMIT $2::int)," \
	" locked AS (SELECT d.notification_id, d.device_id FROM push.deliveries d" \
	"  WHERE d.ctid = ANY (ARRAY(SELECT tid FROM cand)) AND d.state = 'queued'" \
	"  FOR UPDATE OF d SKIP LOCKED)" \
	" UPDATE push.deliveries d SET state = 'sent', attempts = d.attempts + 1," \
	"  sent_at = now(), updated_at = now(), lease_owner = $1, lease_token = tok.t," \
	"  lease_until = now() + make_interval(secs => $3::double precision / 1000)" \
	" FROM locked l, tok, push.devices v, push.notifications n" \
	" WHERE d.notification_id = l.notification_id AND d.device_id = l.device_id" \
	"   AND v.id = d.device_id AND n.id = d.notification_id" \
	" RETURNING d.notification_id, d.device_id, v.full_jid, n.app, n.priority," \
	"  to_char(n.created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')," \
	"  n.title, n.body, n.uri, n.payload, d.attempts, d.lease_token, n.collapse_key," \
	"  CASE WHEN n.ttl_seconds = 0 THEN NULL ELSE" \
	"   to_char(push.expiry(n.created_at, n.ttl_seconds, n.expires_at) AT TIME ZONE 'UTC'," \
	"   'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"') END"

/* A silent device is probed again four probe timeouts (param `ms`, the
 * ack_timeout_ms) after its last probe. */
#define SILENT_REPROBE(ms) \
	"silent_since IS NOT NULL AND probe_until IS NULL AND full_jid IS NOT NULL" \
	" AND unregistered_at IS NULL" \
	" AND probe_at < now() - make_interval(secs => 4 * " ms "::double precision / 1000)"

/* A CTE for statements that start a device's session: its rows that a live
 * session failed (strikes, schema 007) and that have not expired go back to
 * the queue with their strikes cleared. `src` is a CTE of device ids. */
#define REVIVE_FAILED(src) \
	" revive AS (UPDATE push.deliveries d SET state = 'queued', strikes = 0," \
	"  last_error = 'failed on an earlier session; queued again for a new one'," \
	"  updated_at = now()" \
	"  FROM " src " x, push.notifications n" \
	"  WHERE d.device_id = x.id AND d.state = 'failed' AND d.strikes > 0" \
	"   AND n.id = d.notification_id AND n.ttl_seconds IS DISTINCT FROM 0" \
	"   AND push.expiry(n.created_at, n.ttl_seconds, n.expires_at) > now() RETURNING 1)"

const struct stmt_def store_sql_stmts[S_COUNT] = {
	/* Expansion into ledger rows lives in SQL (push.fanout_send, schema
	 * 008): rows whose device can take them now are inserted `sent` under
	 * this instance's lease ($3, $4 ms, window $5) and returned like a
	 * claim's; a last row carries the number of notifications taken and the
	 * online devices that got queued rows, as a bigint[] (claimed for those). */
	[S_FANOUT] = { "xp_fanout", 5, RES_FANOUT, 16,
	               "SELECT * FROM push.fanout_send($1::int, $2::int, $3,"
	               " $4::double precision, $5::int)" },

	/* Claim deliveries for online devices: due, unexpired, at most $4 in
	 * flight per device, high priority first, then by id.
	 * The work grows with the online devices (one index probe each for its
	 * oldest pending row), not with the backlog: devices with pending rows are
	 * taken oldest first, and each gives at most its free slots, until $2
	 * rows. (Ranking every pending row of the ledger in each claim drained a
	 * 100k backlog at ~150/s.) */
	[S_CLAIM] = { "xp_claim", 4, RES_CLAIM, 14,
	              "WITH pd(id) AS (SELECT v.id FROM push.devices v"
	              "  CROSS JOIN LATERAL (SELECT q.notification_id FROM push.deliveries q"
	              "   WHERE q.device_id = v.id AND q.state = 'queued'"
	              "   ORDER BY q.notification_id LIMIT 1) o"
	              "  WHERE v.online AND v.full_jid IS NOT NULL AND v.unregistered_at IS NULL"
	              "   AND v.probe_until IS NULL"
	              "  ORDER BY o.notification_id)," CLAIM_FROM_PD },

	/* The same for the devices in $5 only: the ones whose acks just freed
	 * slots in their windows (refill after an ack batch, no enumeration). */
	[S_CLAIM_DEVICES] = { "xp_claim_devices", 5, RES_CLAIM, 14,
	                      "WITH pd(id) AS (SELECT DISTINCT unnest($5::bigint[]))," CLAIM_FROM_PD },

	/* Retracts to send: devices online, retract queued or its lease expired. */
	[S_CLAIM_RETRACT] = { "xp_claim_retract", 3, RES_CLAIM_IDS, 4,
	                      "WITH tok AS (SELECT nextval('push.lease_tokens') AS t),"
	                      " c AS (SELECT d.notification_id, d.device_id FROM push.deliveries d"
	                      "  JOIN push.devices v ON v.id = d.device_id"
	                      "  WHERE (d.retract_state = 'queued' OR (d.retract_state = 'sent' AND d.lease_until < now()))"
	                      "    AND v.online AND v.full_jid IS NOT NULL AND v.unregistered_at IS NULL"
	                      "  ORDER BY d.notification_id LIMIT $2::int FOR UPDATE OF d SKIP LOCKED)"
	                      " UPDATE push.deliveries d SET retract_state = 'sent', lease_owner = $1,"
	                      "  lease_token = tok.t, updated_at = now(),"
	                      "  lease_until = now() + make_interval(secs => $3::double precision / 1000)"
	                      " FROM c, tok, push.devices v"
	                      " WHERE d.notification_id = c.notification_id AND d.device_id = c.device_id"
	                      "   AND v.id = d.device_id"
	                      " RETURNING d.notification_id, d.device_id, v.full_jid, d.lease_token" },

	/* Everything this instance had on the wire goes back to the queue: after a
	 * restart or a new XMPP connection those acks can no longer arrive. Rows
	 * another instance has re-claimed carry its name, so they are not touched.
	 * Its probes are forgotten too: their answers may be lost with the old
	 * connection, and a lost answer must not make a live device silent. No
	 * strike: a send cut short by our own restart says nothing about the push. */
	[S_RECLAIM] = { "xp_reclaim", 1, RES_COUNT_FIRST, 1,
	                "WITH pr AS (UPDATE push.devices SET probe_until = NULL"
	                "  WHERE probe_owner = $1 AND probe_until IS NOT NULL RETURNING 1),"
	                " rq AS (UPDATE push.deliveries d SET"
	                "  state = CASE WHEN d.state <> 'sent' THEN d.state"
	                "   WHEN n.ttl_seconds = 0 THEN 'expired' ELSE 'queued' END,"
	                "  last_error = CASE WHEN d.state = 'sent' AND n.ttl_seconds = 0"
	                "   THEN 'not acked in its one attempt (ttl 0)' ELSE d.last_error END,"
	                "  retract_state = CASE WHEN d.retract_state = 'sent' THEN 'queued' ELSE d.retract_state END,"
	                "  lease_owner = NULL, lease_until = NULL, updated_at = now()"
	                " FROM push.notifications n"
	                " WHERE n.id = d.notification_id AND d.lease_owner = $1"
	                "   AND (d.state = 'sent' OR d.retract_state = 'sent') RETURNING 1)"
	                " SELECT count(*) FROM rq" },

	/* The device's IQ result: the truth, whichever instance or lease sent it.
	 * Its strikes go (an answer to a probe, which follows the ack on the wire,
	 * may have been recorded first: acks are written on their own session).
	 * Returns the delivery latency (INSERT to now) in ms; no row = refused
	 * (STORE_ACK_REFUSED). */
	[S_ACK] = { "xp_ack", 3, RES_COUNT_FIRST, 1,
	            "UPDATE push.deliveries d SET state = 'acked', acks = d.acks + 1, strikes = 0,"
	            " acked_at = coalesce(d.acked_at, now()), last_error = NULL, updated_at = now(),"
	            " lease_owner = CASE WHEN d.retract_state = 'sent' THEN d.lease_owner END,"
	            " lease_until = CASE WHEN d.retract_state = 'sent' THEN d.lease_until END"
	            " FROM push.devices v, push.notifications n"
	            " WHERE d.notification_id = $1::bigint AND d.device_id = $2::bigint"
	            "   AND v.id = d.device_id AND lower(v.jid) = lower($3) AND n.id = d.notification_id"
	            " RETURNING (extract(epoch FROM clock_timestamp() - n.created_at) * 1000)::bigint" },

	/* Many acks in one statement, one commit (store_ack_batch): S_ACK for
	 * each element of the arrays. One row per element, in order: its latency
	 * in ms, or -1 if refused, and whether the device has queued rows (its
	 * refill is claimed only then). Duplicates count as acks (acks + count). */
	[S_ACK_BATCH] = { "xp_ack_batch", 3, RES_ROWS, 2,
	                  "WITH a AS (SELECT * FROM unnest($1::bigint[], $2::bigint[], $3::text[])"
	                  "  WITH ORDINALITY AS a(nid, dev, jid, i)),"
	                  " g AS (SELECT nid, dev, lower(jid) AS ljid, count(*)::int AS c FROM a GROUP BY 1, 2, 3),"
	                  " u AS (UPDATE push.deliveries d SET state = 'acked', acks = d.acks + g.c, strikes = 0,"
	                  "  acked_at = coalesce(d.acked_at, now()), last_error = NULL, updated_at = now(),"
	                  "  lease_owner = CASE WHEN d.retract_state = 'sent' THEN d.lease_owner END,"
	                  "  lease_until = CASE WHEN d.retract_state = 'sent' THEN d.lease_until END"
	                  "  FROM g, push.devices v, push.notifications n"
	                  "  WHERE d.notification_id = g.nid AND d.device_id = g.dev AND v.id = d.device_id"
	                  "   AND lower(v.jid) = g.ljid AND n.id = d.notification_id"
	                  "  RETURNING d.notification_id, d.device_id, g.ljid,"
	                  "   (extract(epoch FROM clock_timestamp() - n.created_at) * 1000)::bigint AS ms),"
	                  /* An ack is a sign of life: it ends a probe of its device (rows still
	 * unacked are probed again by the next sweep), and a device made silent
	 * by an unanswered probe (a client slower than ack_timeout_ms, or one
	 * that does not answer pings) is online again. Written only for those. */
	                  " rv AS (UPDATE push.devices v SET online = true, silent_since = NULL, probe_until = NULL"
	                  "  FROM (SELECT DISTINCT device_id FROM u) x"
	                  "  WHERE v.id = x.device_id AND (v.silent_since IS NOT NULL OR v.probe_until IS NOT NULL)"
	                  "  RETURNING 1)"
	                  " SELECT coalesce(u.ms, -1),"
	                  "  EXISTS (SELECT 1 FROM push.deliveries q WHERE q.device_id = a.dev AND q.state = 'queued')::int"
	                  " FROM a LEFT JOIN u ON u.notification_id = a.nid"
	                  "  AND u.device_id = a.dev AND u.ljid = lower(a.jid) ORDER BY a.i" },

	[S_RETRACT_ACK] = { "xp_retract_ack", 3, RES_COUNT_FIRST, 1,
	                    "UPDATE push.deliveries d SET retract_state = 'acked', lease_owner = NULL,"
	                    " lease_until = NULL, updated_at = now()"
	                    " FROM push.devices v"
	                    " WHERE d.notification_id = $1::bigint AND d.device_id = $2::bigint"
	                    "   AND d.retract_state IS NOT NULL AND v.id = d.device_id AND lower(v.jid) = lower($3)"
	                    " RETURNING 0" },

	/* An IQ error from the device's full JID (the server bounces an IQ to a
	 * session that is gone): the device is offline; the row goes back to the
	 * queue, but only under the lease that sent it (a stale sender's late
	 * bounce must not requeue a newer send, nor mark offline a session that
	 * is up at that full JID now). */
	[S_NACK] = { "xp_nack", 5, RES_COUNT_ROWS, 1,
	             "WITH cur AS (UPDATE push.deliveries d SET"
	             "  state = CASE WHEN n.ttl_seconds = 0 THEN 'expired' ELSE 'queued' END,"
	             "  last_error = $4, lease_owner = NULL, lease_until = NULL, updated_at = now()"
	             " FROM push.devices v, push.notifications n"
	             " WHERE d.notification_id = $1::bigint AND d.device_id = $2::bigint AND d.state = 'sent'"
	             "   AND d.lease_token = $5::bigint AND v.id = d.device_id AND v.full_jid = $3"
	             "   AND n.id = d.notification_id"
	             " RETURNING d.notification_id),"
	             /* Offline only on a current nack: a stale one (its send was re-claimed, by this
	 * or another instance) says nothing about the session now at that full JID. */
	             " off AS (UPDATE push.devices SET online = false, last_seen = now()"
	             "  WHERE id = $2::bigint AND full_jid = $3 AND EXISTS (SELECT 1 FROM cur) RETURNING id)"
	             " SELECT notification_id FROM cur" },

	[S_RETRACT_NACK] = { "xp_retract_nack", 5, RES_COUNT_ROWS, 1,
	                     "WITH cur AS (UPDATE push.deliveries d SET retract_state = 'queued', last_error = $4,"
	                     "  lease_owner = NULL, lease_until = NULL, updated_at = now()"
	                     " FROM push.devices v"
	                     " WHERE d.notification_id = $1::bigint AND d.device_id = $2::bigint"
	                     "   AND d.retract_state = 'sent' AND d.lease_token = $5::bigint"
	                     "   AND v.id = d.device_id AND v.full_jid = $3"
	                     " RETURNING d.notification_id),"
	                     " off AS (UPDATE push.devices SET online = false, last_seen = now()"
	                     "  WHERE id = $2::bigint AND full_jid = $3 AND EXISTS (SELECT 1 FROM cur) RETURNING id)"
	                     " SELECT notification_id FROM cur" },

	/* Upsert the device; n = its row id, -1 (STORE_REGISTER_OVER_MAX) if the
	 * JID already has $8 other devices, -2 (STORE_REGISTER_ALIAS_TAKEN) if
	 * another account's devices use this alias for this app (an alias names
	 * one user). A device registered already may always register again (the
	 * limit is for new devices: one over it must still come online).
	 * Concurrent registrations may overshoot the device limit by a few: it
	 * bounds abuse, it is not an invariant. A register starts a session (see
	 * S_PRESENCE_DEV). */
	[S_REGISTER] = { "xp_register", 8, RES_COUNT_FIRST, 1,
	                 "WITH chk AS (SELECT"
	                 "  (SELECT count(*) FROM push.devices WHERE jid = $1 AND unregistered_at IS NULL"
	                 "    AND NOT (app = $2 AND device = $3)) AS others,"
	                 "  EXISTS (SELECT 1 FROM push.devices WHERE jid = $1 AND app = $2 AND device = $3"
	                 "    AND unregistered_at IS NULL) AS known,"
	                 "  EXISTS (SELECT 1 FROM push.devices WHERE app = $2 AND alias = $4 AND jid <> $1"
	                 "    AND unregistered_at IS NULL) AS alias_taken),"
	                 " ins AS (INSERT INTO push.devices"
	                 "  (jid, app, device, alias, tags, platform, full_jid, online, last_seen, session_at)"
	                 "  SELECT $1, $2, $3, $4, $5::text[], $6, $7, true, now(), now() FROM chk"
	                 "  WHERE (chk.others < $8::int OR chk.known) AND NOT chk.alias_taken"
	                 "  ON CONFLICT (jid, app, device) DO UPDATE SET alias = EXCLUDED.alias,"
	                 "   tags = EXCLUDED.tags, platform = EXCLUDED.platform, full_jid = EXCLUDED.full_jid,"
	                 "   online = true, last_seen = now(), unregistered_at = NULL, session_at = now(),"
	                 "   silent_since = NULL, probe_until = NULL"
	                 "  RETURNING id)," REVIVE_FAILED(
				 "ins") " SELECT coalesce((SELECT id FROM ins),"
	                                "  CASE WHEN (SELECT alias_taken FROM chk) THEN -2 ELSE -1 END)" },

	[S_UNREGISTER] = { "xp_unregister", 3, RES_COUNT_FIRST, 1,
	                   "WITH u AS (UPDATE push.devices SET unregistered_at = now(), online = false"
	                   "  WHERE jid = $1 AND app = $2 AND device = $3 AND unregistered_at IS NULL RETURNING id),"
	                   " x AS (UPDATE push.deliveries d SET last_error = 'device unregistered', updated_at = now()"
	                   "  FROM u WHERE d.device_id = u.id AND d.state <> 'acked' RETURNING 1)"
	                   " SELECT count(*) FROM u" },

	/* A device's presence starts a session (schema 007): rows sent before it
	 * went to an earlier one (no strike when their leases run out), a probe
	 * or silence of the old session is forgotten, and what a live session
	 * failed is tried again on this one. */
	[S_PRESENCE_DEV] = { "xp_presence_dev", 4, RES_COUNT_ROWS, 1,
	                     "WITH v AS (UPDATE push.devices SET online = true, full_jid = $2, last_seen = now(),"
	                     "  session_at = now(), silent_since = NULL, probe_until = NULL"
	                     "  WHERE jid = $1 AND app = $3 AND device = $4 AND unregistered_at IS NULL RETURNING id)," REVIVE_FAILED(
				     "v") " SELECT id FROM v" },

	[S_PRESENCE_JID] = { "xp_presence_jid", 2, RES_COUNT_ROWS, 1,
	                     "WITH v AS (UPDATE push.devices SET online = true, last_seen = now(),"
	                     "  session_at = now(), silent_since = NULL, probe_until = NULL"
	                     "  WHERE jid = $1 AND full_jid = $2 AND unregistered_at IS NULL RETURNING id)," REVIVE_FAILED(
				     "v") " SELECT id FROM v" },

	[S_UNAVAILABLE] = { "xp_unavailable", 1, RES_COUNT_FIRST, 1,
	                    "WITH off AS (UPDATE push.devices SET online = false, last_seen = now(),"
	                    "  silent_since = NULL, probe_until = NULL"
	                    "  WHERE full_jid = $1 AND (online OR silent_since IS NOT NULL) RETURNING id),"
	                    " rq AS (UPDATE push.deliveries d SET"
	                    "  state = CASE WHEN d.state <> 'sent' THEN d.state"
	                    "   WHEN n.ttl_seconds = 0 THEN 'expired' ELSE 'queued' END,"
	                    "  retract_state = CASE WHEN d.retract_state = 'sent' THEN 'queued' ELSE d.retract_state END,"
	                    "  last_error = 'device went offline', lease_owner = NULL, lease_until = NULL,"
	                    "  updated_at = now()"
	                    "  FROM off, push.notifications n WHERE d.device_id = off.id AND n.id = d.notification_id"
	                    "   AND (d.state = 'sent' OR d.retract_state = 'sent') RETURNING 1)"
	                    " SELECT count(*) FROM off" },

	/* A row that can never be delivered; fenced by the lease token. */
	[S_FAIL] = { "xp_fail", 4, RES_COUNT_ROWS, 1,
	             "UPDATE push.deliveries SET state = 'failed', lease_owner = NULL, lease_until = NULL,"
	             " last_error = $3, updated_at = now()"
	             " WHERE notification_id = $1::bigint AND device_id = $2::bigint AND state = 'sent'"
	             "   AND lease_token = $4::bigint"
	             " RETURNING notification_id" },

	/* Once a second, by the database's clock (schema 007): probes unanswered
	 * by their deadline make their devices silent (offline until they show
	 * life); rows whose TTL passed (or a ttl-0 push that missed its one
	 * chance) end `expired`; a sent row whose lease ran out goes back to the
	 * queue without a strike when its device is offline, silent, unregistered
	 * or on a newer session than the send; the others (online devices) wait
	 * for a probe (S_PROBE), as do silent devices due for another probe
	 * (four probe timeouts of $1 ms after the last). v = {expired, requeued,
	 * silenced, to probe}. */
	[S_SWEEP] = { "xp_sweep", 1, RES_NUMS, 4,
	              "WITH sil AS (UPDATE push.devices SET online = false, silent_since = now(),"
	              "  probe_until = NULL, last_seen = now()"
	              "  WHERE probe_until < now() RETURNING id),"
	              " c AS (SELECT d.notification_id AS nid, d.device_id AS dev, n.ttl_seconds = 0 AS ttl0,"
	              "  sil.id IS NOT NULL AS silent,"
	              "  CASE WHEN CASE WHEN n.ttl_seconds = 0 THEN d.attempts > 0 OR NOT v.online"
	              "             ELSE push.expiry(n.created_at, n.ttl_seconds, n.expires_at) <= now() END"
	              "   THEN 'expired'"
	              "   WHEN d.state = 'queued' THEN 'keep'"
	              "   WHEN sil.id IS NOT NULL OR NOT v.online OR v.full_jid IS NULL"
	              "    OR v.unregistered_at IS NOT NULL OR d.sent_at < v.session_at THEN 'requeue'"
	              "   ELSE 'probe' END AS verdict"
	              "  FROM push.deliveries d JOIN push.notifications n ON n.id = d.notification_id"
	              "  JOIN push.devices v ON v.id = d.device_id LEFT JOIN sil ON sil.id = d.device_id"
	              "  WHERE d.state = 'queued' OR (d.state = 'sent' AND d.lease_until < now())),"
	              " u AS (UPDATE push.deliveries d SET"
	              "  state = CASE WHEN c.verdict = 'expired' THEN 'expired' ELSE 'queued' END,"
	              "  last_error = CASE WHEN c.verdict = 'expired' THEN"
	              "    CASE WHEN c.ttl0 THEN 'not delivered at send time (ttl 0)'"
	              "    ELSE 'expired before delivery' END"
	              "   WHEN c.silent THEN 'device silent (no answer to a ping): waits for it to show life'"
	              "   ELSE d.last_error END,"
	              "  lease_owner = NULL, lease_until = NULL, updated_at = now()"
	              "  FROM c WHERE d.notification_id = c.nid AND d.device_id = c.dev"
	              "   AND c.verdict IN ('expired', 'requeue')"
	              "  RETURNING c.verdict)"
	              " SELECT (SELECT count(*) FROM u WHERE verdict = 'expired'),"
	              "  (SELECT count(*) FROM u WHERE verdict = 'requeue'), (SELECT count(*) FROM sil),"
	              "  (SELECT count(*) FROM c WHERE verdict = 'probe')"
	              "  + (SELECT count(*) FROM push.devices WHERE " SILENT_REPROBE("$1") ")" },

	/* Probe the sessions of online devices that have a sent row whose lease
	 * ran out and no probe running, and again those of silent devices (an
	 * answer lost with an instance that died must not leave a live device
	 * silent until it reconnects): $2 devices at most, answer awaited for $3
	 * ms. Rows: 0, device id, full JID, probe token (the ping's IQ id is
	 * xq.<device>.<token>). Nothing more is claimed for them meanwhile. */
	[S_PROBE] = { "xp_probe", 3, RES_CLAIM_IDS, 4,
	              "WITH tok AS (SELECT nextval('push.lease_tokens') AS t),"
	              " p AS (SELECT DISTINCT s.device_id AS id FROM push.deliveries s"
	              "  WHERE s.state = 'sent' AND s.lease_until < now()),"
	              " c1 AS (SELECT v.id FROM push.devices v JOIN p ON p.id = v.id"
	              "  WHERE v.online AND v.full_jid IS NOT NULL AND v.unregistered_at IS NULL"
	              "   AND v.probe_until IS NULL"
	              "  LIMIT $2::int FOR UPDATE OF v SKIP LOCKED),"
	              " c2 AS (SELECT v.id FROM push.devices v WHERE " SILENT_REPROBE(
			      "$3") "  LIMIT $2::int FOR UPDATE OF v SKIP LOCKED),"
	                            " c AS (SELECT id FROM c1 UNION SELECT id FROM c2)"
	                            " UPDATE push.devices v SET probe_token = tok.t, probe_at = now(), probe_owner = $1,"
	                            "  probe_until = now() + make_interval(secs => $3::double precision / 1000)"
	                            " FROM c, tok WHERE v.id = c.id"
	                            " RETURNING 0::bigint, v.id, v.full_jid, v.probe_token" },

	/* The session at $2 answered a ping: it is alive and reads in order, so
	 * the rows sent to it before the current probe ($3) whose leases ran out
	 * reached it and were not acked: each takes a strike, and at $4 strikes
	 * it is `failed` (a push this device will not take; a new session tries
	 * again). Any answer of the device's current full JID ends its silence.
	 * v = {devices matched (0: not this device's session), rows failed}. */
	[S_PROBE_ALIVE] = { "xp_probe_alive", 4, RES_NUMS, 2,
	                    "WITH o AS (SELECT v.id, v.probe_until IS NOT NULL AND v.probe_token = $3::bigint AS cur,"
	                    "  v.probe_at, v.session_at FROM push.devices v"
	                    "  WHERE v.id = $1::bigint AND v.full_jid = $2 AND v.unregistered_at IS NULL),"
	                    " dv AS (UPDATE push.devices v SET"
	                    "  probe_until = CASE WHEN o.cur THEN NULL ELSE v.probe_until END,"
	                    "  online = v.online OR v.silent_since IS NOT NULL, silent_since = NULL"
	                    "  FROM o WHERE v.id = o.id RETURNING v.id),"
	                    " st AS (UPDATE push.deliveries d SET strikes = d.strikes + 1,"
	                    "  state = CASE WHEN d.strikes + 1 >= $4::int THEN 'failed' ELSE 'queued' END,"
	                    "  last_error = CASE WHEN d.strikes + 1 >= $4::int"
	                    "   THEN 'no ack after ' || (d.strikes + 1) || ' sends to a live session'"
	                    "   ELSE 'not acked by a live session (it answered a ping)' END,"
	                    "  lease_owner = NULL, lease_until = NULL, updated_at = now()"
	                    "  FROM o WHERE o.cur AND d.device_id = o.id AND d.state = 'sent'"
	                    "   AND d.lease_until < now() AND d.sent_at <= o.probe_at"
	                    "   AND d.sent_at >= coalesce(o.session_at, '-infinity')"
	                    "  RETURNING d.state)"
	                    " SELECT (SELECT count(*) FROM dv), (SELECT count(*) FROM st WHERE state = 'failed')" },

	/* An error answered the probe ($3): the server's bounce (the session is
	 * gone) or a client without XEP-0199 (alive), which look alike. Neither
	 * judges the push: the rows sent before the probe whose leases ran out go
	 * back to the queue without a strike, and the device stays online (a
	 * silent one is online again): a live client gets them again, a gone
	 * session bounces the next send, which marks the device offline (S_NACK).
	 * n = devices (0: stale or not its session). */
	[S_PROBE_GONE] = { "xp_probe_gone", 4, RES_COUNT_FIRST, 1,
	                   "WITH o AS (UPDATE push.devices v SET probe_until = NULL,"
	                   "  online = v.online OR v.silent_since IS NOT NULL, silent_since = NULL"
	                   "  FROM (SELECT id, probe_at FROM push.devices WHERE id = $1::bigint AND full_jid = $2"
	                   "   AND probe_token = $3::bigint AND unregistered_at IS NULL) p"
	                   "  WHERE v.id = p.id RETURNING v.id, p.probe_at),"
	                   " rq AS (UPDATE push.deliveries d SET"
	                   "  state = CASE WHEN n.ttl_seconds = 0 THEN 'expired' ELSE 'queued' END,"
	                   "  last_error = $4, lease_owner = NULL, lease_until = NULL, updated_at = now()"
	                   "  FROM o, push.notifications n WHERE d.device_id = o.id AND n.id = d.notification_id"
	                   "   AND d.state = 'sent' AND d.lease_until < now() AND d.sent_at <= o.probe_at RETURNING 1)"
	                   " SELECT count(*) FROM o" },

	/* UnifiedPush (schema 011): register or renew (push.up_register), and
	 * revoke. Rows shaped like RES_CLAIM_IDS: device id (-1: over
	 * max_devices_per_jid), 0, the endpoint token, its expiry in Unix
	 * seconds; a revoke's rows are the devices revoked. */
	[S_UP_REGISTER] = { "xp_up_register", 7, RES_CLAIM_IDS, 4,
	                    "SELECT device_id, 0::bigint, token, expires FROM push.up_register("
	                    "$1, $2, $3, $4, $5::int, $6::int, $7)" },
	[S_UP_REVOKE] = { "xp_up_revoke", 5, RES_CLAIM_IDS, 4,
	                  "SELECT r, 0::bigint, NULL::text, 0::bigint FROM push.up_revoke("
	                  "$1::bigint, $2, $3, $4, $5) r" },

	/* Producers' trigger NOTIFYs only while xpushd says it is idle. */
	/* Idle (NOTIFY me) under a lease of $2 ms that xpushd renews, or busy. A
	 * stopped xpushd's lease runs out and producers stop NOTIFYing (005). */
	[S_WAKE] = { "xp_wake", 2, RES_COUNT_CMD, 0,
	             "UPDATE push.wakeup SET listening = $1::boolean,"
	             " listening_until = CASE WHEN $1::boolean"
	             "  THEN now() + make_interval(secs => $2::double precision / 1000) END" },

	/* Milliseconds until the next scheduled notification is due, the next
	 * lease on the wire (a notification or a retract, of any instance) runs
	 * out and its row is judged, or a probe's answer is due; -1 if none. The lease timer alone
	 * fires once, at the earliest lease of this instance: a later lease would
	 * otherwise wait for the periodic scan. */
	[S_NEXT_DUE] = { "xp_next_due", 0, RES_COUNT_FIRST, 1,
	                 "SELECT coalesce(ceil(extract(epoch FROM least("
	                 "  (SELECT min(not_before) FROM push.notifications"
	                 "    WHERE fanned_out_at IS NULL AND not_before > now()),"
	                 "  (SELECT min(lease_until) FROM push.deliveries"
	                 "    WHERE (state = 'sent' OR retract_state = 'sent') AND lease_until > now()),"
	                 "  (SELECT min(probe_until) FROM push.devices WHERE probe_until > now())"
	                 " ) - now()) * 1000)::bigint, -1)" },

	/* Gauges for /metrics. They are the database's, not this instance's:
	 * only the instance holding the session advisory lock (7867, 2) exports
	 * them (the first column), so a sum over instances counts them once. The
	 * lock is taken once per session (CASE keeps the order: a second
	 * pg_try_advisory_lock would stack) and ends with the session. */
	[S_HEALTH] = { "xp_health", 0, RES_NUMS, 11,
	               "SELECT (CASE WHEN EXISTS (SELECT 1 FROM pg_locks"
	               "   WHERE locktype = 'advisory' AND pid = pg_backend_pid()"
	               "     AND classid = 7867 AND objid = 2 AND objsubid = 2)"
	               "  THEN true ELSE pg_try_advisory_lock(7867, 2) END)::int,"
	               " awaiting_fanout, queued, in_flight, failed, expired, devices_online,"
	               " devices_registered, coalesce(extract(epoch FROM oldest_queued_age)::bigint, 0),"
	               " stuck, devices_silent"
	               " FROM push.queue_health" },

	/* The registration policy of app $2 (schema 010; no row: found false) and
	 * whether device ($1, $2, $3) is registered: a token is needed only to
	 * enrol (component/apppolicy.h). ACL entries cannot hold a line feed. */
	[S_APP] = { "xp_app", 3, RES_APP, 5,
	            "SELECT a.app IS NOT NULL, a.policy, array_to_string(a.acl, E'\\n'), a.secret,"
	            " EXISTS (SELECT 1 FROM push.devices WHERE jid = $1 AND app = $2 AND device = $3"
	            "   AND unregistered_at IS NULL)"
	            " FROM (SELECT 1) one LEFT JOIN push.apps a ON a.app = $2" },
};
/* clang-format on */
