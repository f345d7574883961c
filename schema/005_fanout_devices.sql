-- 005_fanout_devices: fan-out names the online devices that got new rows; the wake-up flag
-- is a lease (measured with scripts/bench).
--
-- 1. After each fan-out xpushd claimed for *every* online device (one index probe each, ~6 ms
--    per 1,000 online devices), and a busy xpushd fans out in a loop: at 1,425 INSERTs/s the
--    added latency was ~110 ms (B2) and a broadcast to 100k registered devices probed the 5,000
--    online ones once per chunk of 1,000 (B6: 23 s). push.fanout_devices() returns, beside the
--    number of notifications it took, the online devices that received new queued rows, and
--    xpushd claims for those only (component/store_sql.c S_FANOUT, S_CLAIM_DEVICES). The claim
--    over all online devices still runs on start, reconnect, presence, lease expiry and the
--    periodic scan.
-- 2. The batch was matched with `id = ANY (batch)`: when the plan is a scan of the pending
--    notifications (a generic plan made while the table was small), every row is compared with
--    every id of the batch (perf: ExecEvalScalarArrayOp + int8eq, 30% of the backend's samples
--    in B1). The locked batch is now kept as an array of its rows and never looked up again.
-- 3. push.wakeup.listening_until: the trigger NOTIFYs only while xpushd's lease on "idle" runs.
--    A stopped or crashed xpushd left `listening` true, and every producer commit then took
--    NOTIFY's cluster-wide commit lock (B3: 0.62 of the INSERT rate at 16 producers). xpushd
--    renews the lease while it is idle (component/scan.c). NULL means no lease (listening
--    until changed), the behaviour of 002.
--
-- 4. The claim took a device's next rows by ranking every pending row of the device (join with
--    the notification for its priority, then sort): ~240 us per claimed row in B1, and O(backlog
--    per device). Ledger rows now carry their notification's priority (`high`, set at fan-out)
--    and the queue of a device is an index in claim order (deliveries_queue), so the claim reads
--    only the rows it takes.
--
-- push.fanout() keeps its signature and meaning (the number of notifications taken).

ALTER TABLE push.deliveries ADD COLUMN high boolean NOT NULL DEFAULT false;
UPDATE push.deliveries d SET high = true
FROM push.notifications n
WHERE n.id = d.notification_id AND n.priority = 'high' AND d.state IN ('queued', 'sent');
CREATE INDEX deliveries_queue ON push.deliveries (device_id, high DESC, notification_id)
    WHERE state = 'queued';

CREATE FUNCTION push.fanout_devices(lim integer, chunk integer,
                                    OUT touched integer, OUT devices bigint[])
LANGUAGE plpgsql AS $$
DECLARE
    n push.notifications%ROWTYPE;
    batch push.notifications[];   -- the locked rows themselves: never looked up again
    closed bigint[];
    fast bigint[];                -- taken by the set-based statement
    got integer;
    last_dev bigint;
    more bigint[];
BEGIN
    touched := 0;
    devices := '{}';
    -- The batch, locked, with the rows' contents (they cannot change while locked). Later
    -- statements read this array instead of finding the rows again by id: a join of the ids
    -- with push.notifications was planned, on stale statistics, as a scan of every pending
    -- notification (B1).
    SELECT array_agg(x ORDER BY x.id),
           array_agg(x.id) FILTER (WHERE x.retracted_at IS NOT NULL
               OR (x.ttl_seconds IS DISTINCT FROM 0
                   AND push.expiry(x.created_at, x.ttl_seconds, x.expires_at) <= now()))
    INTO batch, closed FROM (
        SELECT * FROM push.notifications
        WHERE fanned_out_at IS NULL AND (not_before IS NULL OR not_before <= now())
        ORDER BY id LIMIT lim FOR UPDATE SKIP LOCKED) x;
    IF batch IS NULL THEN
        RETURN;
    END IF;
    touched := cardinality(batch);
    closed := coalesce(closed, '{}');

    -- Retracted or expired before fan-out: closed with the reason, nobody targeted.
    IF cardinality(closed) > 0 THEN
        UPDATE push.notifications x SET fanned_out_at = now(),
            target_count = coalesce(x.target_count, 0),
            fanout_note = CASE WHEN x.retracted_at IS NOT NULL THEN 'retracted before fan-out'
                               ELSE 'expired before fan-out' END
        WHERE x.id = ANY (closed);
    END IF;

    -- One JID (optionally one device, alias, tags), no collapse key: the whole batch at once,
    -- as in 004. The devices online at fan-out that got a queued row are returned.
    WITH nn AS (
        SELECT x.* FROM unnest(batch) x
        WHERE x.id <> ALL (closed) AND x.to_jid IS NOT NULL AND x.collapse_key IS NULL),
    f AS (
        SELECT nn.id AS nid, d.id AS dev, d.online, nn.ttl_seconds, nn.priority = 'high' AS high,
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
        INSERT INTO push.deliveries (notification_id, device_id, state, last_error, high)
        SELECT f.nid, f.dev,
               CASE WHEN f.ttl_seconds = 0 AND NOT f.online THEN 'expired' ELSE 'queued' END,
               CASE WHEN f.ttl_seconds = 0 AND NOT f.online THEN 'offline at send time (ttl 0)' END,
               f.high
        FROM f WHERE f.dev IS NOT NULL AND f.per_n < chunk
        ORDER BY f.nid, f.dev
        ON CONFLICT DO NOTHING RETURNING 1),
    agg AS (
        SELECT f.nid, count(f.dev) AS got, max(f.dev) AS last_dev
        FROM f WHERE f.per_n < chunk GROUP BY f.nid),
    upd AS (
        UPDATE push.notifications x SET
            target_count = coalesce(x.target_count, 0) + agg.got,
            fanout_cursor = coalesce(agg.last_dev, x.fanout_cursor),
            fanned_out_at = now()
        FROM agg WHERE x.id = agg.nid
        RETURNING 1)
    SELECT coalesce(array_agg(DISTINCT f.dev) FILTER (WHERE f.dev IS NOT NULL AND f.online), '{}'),
           coalesce(array_agg(DISTINCT f.nid), '{}')
    INTO devices, fast
    FROM f WHERE f.per_n < chunk;

    -- Everything else (alias, tags, broadcast, collapse keys, a JID with `chunk` devices or
    -- more), one notification at a time, exactly as in 002/004.
    FOR n IN
        SELECT x.* FROM unnest(batch) x
        WHERE x.id <> ALL (closed) AND x.id <> ALL (fast)
        ORDER BY x.id
    LOOP
        WITH f AS (SELECT * FROM push.fanout_targets(n, chunk)),
        ins AS (
            INSERT INTO push.deliveries (notification_id, device_id, state, last_error, high)
            SELECT n.id, f.id,
                   CASE WHEN n.ttl_seconds = 0 AND NOT f.online THEN 'expired' ELSE 'queued' END,
                   CASE WHEN n.ttl_seconds = 0 AND NOT f.online
                        THEN 'offline at send time (ttl 0)' END,
                   n.priority = 'high'
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
        SELECT count(*), max(f.id), array_agg(f.id) FILTER (WHERE f.online)
        INTO got, last_dev, more FROM f;
        devices := devices || coalesce(more, '{}');

        UPDATE push.notifications SET
            target_count = coalesce(target_count, 0) + got,
            fanout_cursor = coalesce(last_dev, fanout_cursor),
            fanned_out_at = CASE WHEN got < chunk THEN now() END
        WHERE id = n.id;
    END LOOP;
END $$;

CREATE OR REPLACE FUNCTION push.fanout(lim integer, chunk integer) RETURNS integer
LANGUAGE sql AS $$
    SELECT touched FROM push.fanout_devices(lim, chunk)
$$;

-- The wake-up flag as a lease.
ALTER TABLE push.wakeup ADD COLUMN listening_until timestamptz;

CREATE OR REPLACE FUNCTION push.notify_new() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF (SELECT listening AND (listening_until IS NULL OR listening_until > now())
        FROM push.wakeup) THEN
        PERFORM pg_notify('xpush', '');
    END IF;
    RETURN NULL;
END $$;

REVOKE ALL ON FUNCTION push.fanout_devices(integer, integer) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION push.fanout_devices(integer, integer) TO xpush_daemon;
