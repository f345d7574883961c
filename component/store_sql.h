/* store_sql: the table of every statement xpushd prepares. Included only by
 * store.c; kept apart so the SQL reads as one document. */
#ifndef XPUSH_STORE_SQL_H
#define XPUSH_STORE_SQL_H

enum stmt_id {
	S_FANOUT, S_CLAIM, S_RECLAIM, S_ACK, S_NACK, S_REGISTER, S_UNREGISTER,
	S_PRESENCE_DEV, S_PRESENCE_JID, S_UNAVAILABLE, S_FAIL, S_COUNT
};

/* How a statement's result becomes the callback's n. */
enum res_mode { RES_ROWS, RES_FIRST, RES_CMD };

struct stmt_def {
	const char *name;
	int nparams;
	enum res_mode mode;
	const char *sql;
};

static const struct stmt_def stmts[S_COUNT] = {
	[S_FANOUT] = { "xp_fanout", 1, RES_ROWS,
	"WITH n AS ("
	"  SELECT id, app, to_jid, to_device FROM push.notifications"
	"  WHERE fanned_out_at IS NULL ORDER BY id LIMIT $1::int FOR UPDATE SKIP LOCKED),"
	" ins AS ("
	"  INSERT INTO push.deliveries (notification_id, device_id)"
	"  SELECT n.id, d.id FROM n JOIN push.devices d"
	"    ON d.app = n.app AND lower(d.jid) = lower(n.to_jid)"
	"   AND (n.to_device IS NULL OR d.device = n.to_device)"
	"   AND d.unregistered_at IS NULL"
	"  ON CONFLICT DO NOTHING RETURNING notification_id),"
	" cnt AS (SELECT notification_id, count(*) AS c FROM ins GROUP BY notification_id)"
	" UPDATE push.notifications p SET fanned_out_at = now(), target_count = coalesce(cnt.c, 0)"
	" FROM n LEFT JOIN cnt ON cnt.notification_id = n.id"
	" WHERE p.id = n.id RETURNING p.id" },

	[S_CLAIM] = { "xp_claim", 3, RES_ROWS,
	"WITH c AS ("
	"  SELECT d.notification_id, d.device_id FROM push.deliveries d"
	"  JOIN push.devices v ON v.id = d.device_id"
	"  WHERE (d.state = 'queued' OR (d.state = 'sent' AND d.lease_until < now()))"
	"    AND v.online AND v.full_jid IS NOT NULL AND v.unregistered_at IS NULL"
	"  ORDER BY d.notification_id LIMIT $2::int"
	"  FOR UPDATE OF d SKIP LOCKED)"
	" UPDATE push.deliveries d SET state = 'sent', attempts = d.attempts + 1,"
	"  sent_at = now(), updated_at = now(), lease_owner = $1,"
	"  lease_until = now() + make_interval(secs => $3::double precision / 1000)"
	" FROM c, push.devices v, push.notifications n"
	" WHERE d.notification_id = c.notification_id AND d.device_id = c.device_id"
	"   AND v.id = d.device_id AND n.id = d.notification_id"
	" RETURNING d.notification_id, d.device_id, v.full_jid, n.app, n.priority,"
	"  to_char(n.created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'),"
	"  n.title, n.body, n.uri, n.payload, d.attempts" },

	[S_RECLAIM] = { "xp_reclaim", 1, RES_CMD,
	"UPDATE push.deliveries SET state = 'queued', lease_owner = NULL, lease_until = NULL,"
	" updated_at = now() WHERE state = 'sent' AND lease_owner = $1" },

	[S_ACK] = { "xp_ack", 3, RES_ROWS,
	"UPDATE push.deliveries d SET state = 'acked', acks = d.acks + 1,"
	" acked_at = coalesce(d.acked_at, now()), lease_owner = NULL, lease_until = NULL,"
	" last_error = NULL, updated_at = now()"
	" FROM push.devices v"
	" WHERE d.notification_id = $1::bigint AND d.device_id = $2::bigint"
	"   AND v.id = d.device_id AND lower(v.jid) = lower($3)"
	" RETURNING d.notification_id" },

	[S_NACK] = { "xp_nack", 4, RES_ROWS,
	"WITH off AS (UPDATE push.devices SET online = false, last_seen = now()"
	"  WHERE id = $2::bigint AND full_jid = $3 RETURNING id)"
	" UPDATE push.deliveries d SET state = 'queued', lease_owner = NULL, lease_until = NULL,"
	"  last_error = $4, updated_at = now()"
	" FROM push.devices v"
	" WHERE d.notification_id = $1::bigint AND d.device_id = $2::bigint AND d.state = 'sent'"
	"   AND v.id = d.device_id AND v.full_jid = $3"
	" RETURNING d.notification_id" },

	[S_REGISTER] = { "xp_register", 7, RES_FIRST,
	"INSERT INTO push.devices (jid, app, device, alias, tags, platform, full_jid, online, last_seen)"
	" VALUES ($1, $2, $3, $4, $5::text[], $6, $7, true, now())"
	" ON CONFLICT (jid, app, device) DO UPDATE SET alias = EXCLUDED.alias,"
	"  tags = EXCLUDED.tags, platform = EXCLUDED.platform, full_jid = EXCLUDED.full_jid,"
	"  online = true, last_seen = now(), unregistered_at = NULL"
	" RETURNING id" },

	[S_UNREGISTER] = { "xp_unregister", 3, RES_FIRST,
	"WITH u AS (UPDATE push.devices SET unregistered_at = now(), online = false"
	"  WHERE jid = $1 AND app = $2 AND device = $3 AND unregistered_at IS NULL RETURNING id),"
	" x AS (UPDATE push.deliveries d SET last_error = 'device unregistered', updated_at = now()"
	"  FROM u WHERE d.device_id = u.id AND d.state <> 'acked' RETURNING 1)"
	" SELECT count(*) FROM u" },

	[S_PRESENCE_DEV] = { "xp_presence_dev", 4, RES_ROWS,
	"UPDATE push.devices SET online = true, full_jid = $2, last_seen = now()"
	" WHERE jid = $1 AND app = $3 AND device = $4 AND unregistered_at IS NULL RETURNING id" },

	[S_PRESENCE_JID] = { "xp_presence_jid", 2, RES_ROWS,
	"UPDATE push.devices SET online = true, last_seen = now()"
	" WHERE jid = $1 AND full_jid = $2 AND unregistered_at IS NULL RETURNING id" },

	[S_UNAVAILABLE] = { "xp_unavailable", 1, RES_FIRST,
	"WITH off AS (UPDATE push.devices SET online = false, last_seen = now()"
	"  WHERE full_jid = $1 AND online RETURNING id),"
	" rq AS (UPDATE push.deliveries d SET state = 'queued', lease_owner = NULL,"
	"  lease_until = NULL, last_error = 'device went offline', updated_at = now()"
	"  FROM off WHERE d.device_id = off.id AND d.state = 'sent' RETURNING 1)"
	" SELECT count(*) FROM off" },

	[S_FAIL] = { "xp_fail", 3, RES_ROWS,
	"UPDATE push.deliveries SET state = 'failed', lease_owner = NULL, lease_until = NULL,"
	" last_error = $3, updated_at = now()"
	" WHERE notification_id = $1::bigint AND device_id = $2::bigint AND state <> 'acked'"
	" RETURNING notification_id" },
};

#endif
