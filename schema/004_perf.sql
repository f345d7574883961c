-- 004_perf: fan-out in set-based statements (measured with scripts/bench).
--
-- push.fanout() (002) expands each due notification on its own: per notification a target
-- query, an INSERT, a collapse UPDATE and an UPDATE of the notification. Every statement pays
-- its executor start-up (the UPDATE of push.notifications re-prepares ~20 CHECK constraints
-- each time, ~0.3 ms), so fan-out ran at ~1,200 notifications/s and held the one libpq
-- connection for ~200 ms per batch of 256: B1 reached 0.1-0.2 of the baseline.
--
-- Now the common case, a notification for one JID (or one device of it) without a collapse
-- key, is expanded for the whole batch at once: one INSERT of all ledger rows and one UPDATE
-- of all the notifications. Everything else (alias, tags, broadcast, collapse keys, a JID with
-- `chunk` devices or more) goes through the per-notification loop of 002, unchanged, in id
-- order. Retracted and expired notifications are closed in one statement. The results are
-- the rows 002 writes: same states, notes, target_count, fanout_cursor and fanned_out_at.
-- Collapse stays exact because only notifications with a key supersede, and they all take
-- the loop in id order.

CREATE OR REPLACE FUNCTION push.fanout(lim integer, chunk integer) RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE
    n push.notifications%ROWTYPE;
    batch bigint[];
    got integer;
    last_dev bigint;
BEGIN
    SELECT array_agg(id ORDER BY id) INTO batch FROM (
        SELECT id FROM push.notifications
        WHERE fanned_out_at IS NULL AND (not_before IS NULL OR not_before <= now())
        ORDER BY id LIMIT lim FOR UPDATE SKIP LOCKED) due;
    IF batch IS NULL THEN
        RETURN 0;
    END IF;

    -- Retracted or expired before fan-out: closed with the reason, nobody targeted.
    UPDATE push.notifications SET fanned_out_at = now(),
        target_count = coalesce(target_count, 0),
        fanout_note = CASE WHEN retracted_at IS NOT NULL THEN 'retracted before fan-out'
                           ELSE 'expired before fan-out' END
    WHERE id = ANY (batch)
      AND (retracted_at IS NOT NULL
           OR (ttl_seconds IS DISTINCT FROM 0
               AND push.expiry(created_at, ttl_seconds, expires_at) <= now()));

    -- One JID (optionally one device, alias, tags), no collapse key: the whole batch at once.
    -- A JID with `chunk` devices or more is left to the loop, which pages through it. f has one
    -- row per (notification, device), or one with dev NULL for a notification nobody matches;
    -- per_n counts its devices. (No join between CTEs: their row estimates are 1, and nested
    -- loops over them made the statement quadratic in the batch.)
    WITH nn AS (
        SELECT * FROM push.notifications
        WHERE id = ANY (batch) AND fanned_out_at IS NULL AND to_jid IS NOT NULL
          AND collapse_key IS NULL),
    f AS (
        SELECT nn.id AS nid, d.id AS dev, d.online, nn.ttl_seconds,
               count(d.id) OVER (PARTITION BY nn.id) AS per_n
        FROM nn LEFT JOIN push.devices d
          ON d.app = nn.app AND lower(d.jid) = lower(nn.to_jid) AND d.unregistered_at IS NULL
         AND d.id > nn.fanout_cursor
         AND (nn.to_device IS NULL OR d.device = nn.to_device)
         AND (nn.to_alias IS NULL OR d.alias = nn.to_alias)
         AND (nn.tags_any IS NULL OR d.tags && nn.tags_any)
         AND (nn.tags_all IS NULL OR d.tags @> nn.tags_all)
         AND (nn.tags_none IS NULL OR NOT d.tags && nn.tags_none)),
    ins AS (
        INSERT INTO push.deliveries (notification_id, device_id, state, last_error)
        SELECT f.nid, f.dev,
               CASE WHEN f.ttl_seconds = 0 AND NOT f.online THEN 'expired' ELSE 'queued' END,
               CASE WHEN f.ttl_seconds = 0 AND NOT f.online THEN 'offline at send time (ttl 0)' END
        FROM f WHERE f.dev IS NOT NULL AND f.per_n < chunk
        ORDER BY f.nid, f.dev
        ON CONFLICT DO NOTHING RETURNING 1),
    agg AS (
        SELECT f.nid, count(f.dev) AS got, max(f.dev) AS last_dev
        FROM f WHERE f.per_n < chunk GROUP BY f.nid)
    UPDATE push.notifications x SET
        target_count = coalesce(x.target_count, 0) + agg.got,
        fanout_cursor = coalesce(agg.last_dev, x.fanout_cursor),
        fanned_out_at = now()
    FROM agg WHERE x.id = agg.nid;

    -- Everything else, one notification at a time, exactly as in 002.
    FOR n IN
        SELECT * FROM push.notifications
        WHERE id = ANY (batch) AND fanned_out_at IS NULL
        ORDER BY id
    LOOP
        WITH f AS (SELECT * FROM push.fanout_targets(n, chunk)),
        ins AS (
            INSERT INTO push.deliveries (notification_id, device_id, state, last_error)
            SELECT n.id, f.id,
                   CASE WHEN n.ttl_seconds = 0 AND NOT f.online THEN 'expired' ELSE 'queued' END,
                   CASE WHEN n.ttl_seconds = 0 AND NOT f.online
                        THEN 'offline at send time (ttl 0)' END
            FROM f ON CONFLICT DO NOTHING RETURNING 1),
        sup AS (
            UPDATE push.deliveries o SET state = 'superseded',
                last_error = 'superseded by notification ' || n.id,
                lease_owner = NULL, lease_until = NULL, updated_at = now()
            FROM push.notifications p, f
            WHERE n.collapse_key IS NOT NULL AND p.id = o.notification_id AND p.app = n.app
              AND p.collapse_key = n.collapse_key AND p.id < n.id AND o.device_id = f.id
              AND o.state IN ('queued', 'sent')
            RETURNING 1)
        SELECT count(*), max(f.id) INTO got, last_dev FROM f;

        UPDATE push.notifications SET
            target_count = coalesce(target_count, 0) + got,
            fanout_cursor = coalesce(last_dev, fanout_cursor),
            fanned_out_at = CASE WHEN got < chunk THEN now() END
        WHERE id = n.id;
    END LOOP;
    RETURN cardinality(batch);
END $$;

-- push.expiry() (002) was declared IMMUTABLE over timestamptz + interval, which is only STABLE:
-- the planner then refuses to inline it and runs it as a SQL function call per row (the sweep
-- over 100k pending rows took ~270 ms instead of ~140 ms, every second). STABLE is what it is;
-- no index or constraint depends on it being IMMUTABLE.
ALTER FUNCTION push.expiry(timestamptz, integer, timestamptz) STABLE;

-- The rows in flight of one device, for the claim's per-device window (component/store_sql.c S_CLAIM):
-- an index probe of at most device_window entries instead of a pass over every pending row.
CREATE INDEX deliveries_sent ON push.deliveries (device_id) WHERE state = 'sent';
