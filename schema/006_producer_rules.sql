-- 006_producer_rules: what a producer may enqueue and what one producer's push may do to
-- another's.
--
-- 1. push.retract: a queued row that was sent before (attempts > 0: a push displayed whose ack
--    was lost, then requeued when the device went offline) may be on the device's screen. It
--    was turned `retracted` with no <retract/> to send. Now it gets retract_state 'queued', as a
--    sent row does, and xpushd sends the retract once the device is online (store_sql.h
--    S_CLAIM_RETRACT). So do `expired` and `failed` rows that were sent (a lost ack before the
--    TTL ran out or before the row failed): they too may be on screen. A `failed` row becomes
--    `retracted`: a new session of the device (schema 007's REVIVE_FAILED) must not bring a
--    retracted push back to the queue.
-- 2. Collapse and ttl 0: a ttl-0 push expires at once for devices offline at fan-out, yet it
--    superseded their older push with the same key, so such a device came back to nothing. A
--    push supersedes only where its own row is queued (ttl 0: devices online at fan-out).
-- 3. Producers are kept apart: the idempotency key is unique per (producer, app, dedup_key),
--    not per (app, dedup_key). With row-level security a producer whose key another producer
--    had used got "no row back" from INSERT ... ON CONFLICT DO NOTHING RETURNING id and took
--    its push for enqueued. The retry statement's conflict target becomes
--    (producer, app, dedup_key) (docs/delivery.md, promise 4; docs/schema.md). A collapse key
--    supersedes only pushes of the same producer.
-- 4. Identifiers have a documented form (docs/schema.md "Forms"), checked by named constraints:
--    to_jid a bare JID, app a reverse-DNS id, aliases, device ids and tags free of control and
--    bidirectional-formatting characters (a U+202E in an alias is shown reversed in listings).
--    xpushd checks the same forms when a device registers (component/stanza_decode.c).
-- 5. expires_at is bounded like ttl_seconds: at most 28 days after created_at, so a device's
--    de-duplication store never has to remember an id longer than that.
--
-- Rows that exist when this migration runs may break the new forms. The constraints are added
-- NOT VALID (existing rows are not checked, the migration cannot fail on them) and exempt the
-- rows that existed (id at most the highest id at migration time, written into each
-- constraint): Postgres checks even a NOT VALID constraint on every new row version, an UPDATE
-- of another column included, so without the exemption xpushd's fan-out of an old pending
-- push, push.retract of an old push, or a presence update of an old device row would fail.

-- ---- forms --------------------------------------------------------------------------------------

-- True if s holds no control character (C0, DEL, C1) and no bidirectional formatting character
-- (U+061C, U+200E, U+200F, U+202A-U+202E, U+2066-U+2069).
CREATE FUNCTION push.ident_ok(s text) RETURNS boolean
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
    SELECT s !~ '[\x01-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]'
$$;

-- True if every element is a non-NULL push.ident_ok string (NULL array: true).
CREATE FUNCTION push.idents_ok(a text[]) RETURNS boolean
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT a IS NULL OR NOT EXISTS (
        SELECT 1 FROM unnest(a) t WHERE t IS NULL OR NOT push.ident_ok(t))
$$;

-- An application id: reverse-DNS style, 1-128 bytes of A-Z a-z 0-9 . _ - (no spaces).
CREATE FUNCTION push.app_id_ok(s text) RETURNS boolean
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
    SELECT s ~ '^[A-Za-z0-9._-]+$' AND octet_length(s) <= 128
$$;

-- A bare JID as xpushd and the device library split it (common/jid.c jid_split, the one
-- rule of both): `localpart@domain` or `domain`; no '/', at most one '@', both parts
-- non-empty and at most 1023 bytes; no whitespace, control or bidirectional-formatting
-- character; the domain is dot-separated non-empty labels of letters, digits and '-' (letters
-- beyond ASCII allowed: internationalised domains as the server stamps them).
CREATE FUNCTION push.bare_jid_ok(j text) RETURNS boolean
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
    SELECT j ~ '^([^@/]+@)?[-A-Za-z0-9\u00a1-\U0010ffff]+(\.[-A-Za-z0-9\u00a1-\U0010ffff]+)*$'
       AND j !~ '[\x01-\x20\x7f-\xa0\u061c\u1680\u2000-\u200f\u2028-\u202f\u205f-\u206f\u3000\ufeff\ufffe\uffff]'
       AND octet_length(substring(j from '[^@]*$')) <= 1023
       AND coalesce(octet_length(substring(j from '^([^@]*)@')), 0) <= 1023
$$;

DO $$
DECLARE
    n_max bigint := (SELECT coalesce(max(id), 0) FROM push.notifications);
    d_max bigint := (SELECT coalesce(max(id), 0) FROM push.devices);
BEGIN
    EXECUTE format($sql$
        ALTER TABLE push.notifications
            ADD CONSTRAINT notifications_to_jid_form
                CHECK (id <= %1$s OR push.bare_jid_ok(to_jid)) NOT VALID,
            ADD CONSTRAINT notifications_app_form
                CHECK (id <= %1$s OR push.app_id_ok(app)) NOT VALID,
            ADD CONSTRAINT notifications_device_form
                CHECK (id <= %1$s OR push.ident_ok(to_device)) NOT VALID,
            ADD CONSTRAINT notifications_alias_form
                CHECK (id <= %1$s OR push.ident_ok(to_alias)) NOT VALID,
            ADD CONSTRAINT notifications_tags_form
                CHECK (id <= %1$s OR (push.idents_ok(tags_any) AND push.idents_ok(tags_all)
                                      AND push.idents_ok(tags_none))) NOT VALID,
            ADD CONSTRAINT notifications_expires_range
                CHECK (id <= %1$s OR expires_at <= created_at + interval '2419200 seconds')
                NOT VALID
    $sql$, n_max);
    EXECUTE format($sql$
        ALTER TABLE push.devices
            ADD CONSTRAINT devices_app_form CHECK (id <= %1$s OR push.app_id_ok(app)) NOT VALID,
            ADD CONSTRAINT devices_device_form CHECK (id <= %1$s OR push.ident_ok(device)) NOT VALID,
            ADD CONSTRAINT devices_alias_form CHECK (id <= %1$s OR push.ident_ok(alias)) NOT VALID,
            ADD CONSTRAINT devices_tags_form CHECK (id <= %1$s OR push.idents_ok(tags)) NOT VALID
    $sql$, d_max);
END $$;

-- ---- idempotency per producer ---------------------------------------------------------------
-- The old index was stricter (per app), so every existing row satisfies the new one.
DROP INDEX push.notifications_dedup;
CREATE UNIQUE INDEX notifications_dedup ON push.notifications (producer, app, dedup_key)
    WHERE dedup_key IS NOT NULL;

-- ---- fan-out: collapse within one producer, and only where the new push is queued -----------
-- push.fanout_devices of 005 with two conditions added to the collapse (sup); nothing else
-- changes.
CREATE OR REPLACE FUNCTION push.fanout_devices(lim integer, chunk integer,
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

    -- One JID (optionally one device, alias, tags), no collapse key: the whole batch at once.
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
    -- more), one notification at a time.
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
        -- Collapse: an older push of the same producer, app and key is superseded on the
        -- devices where this one is queued (ttl 0: only those online now; where its own row is
        -- expired at once the older one stays).
        sup AS (
            UPDATE push.deliveries o SET state = 'superseded',
                last_error = 'superseded by notification ' || n.id,
                lease_owner = NULL, lease_until = NULL, updated_at = now()
            FROM push.notifications p, f
            WHERE n.collapse_key IS NOT NULL AND p.id = o.notification_id AND p.app = n.app
              AND p.producer = n.producer
              AND p.collapse_key = n.collapse_key AND p.id < n.id AND o.device_id = f.id
              AND o.state IN ('queued', 'sent')
              AND (n.ttl_seconds IS DISTINCT FROM 0 OR f.online)
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

-- ---- retract: every row that may be on a screen gets a <retract/> ----------------------------
-- Same signature, owner and grants (CREATE OR REPLACE keeps them); SECURITY DEFINER and the
-- search_path of 003 are restated because CREATE OR REPLACE resets what it does not say.
-- Producers call it through push.retract_own (003), which checks the notification is theirs.
CREATE OR REPLACE FUNCTION push.retract(notification bigint) RETURNS integer
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, push AS $$
DECLARE
    cancelled integer;
    recalled integer;
BEGIN
    UPDATE push.notifications SET retracted_at = now()
    WHERE id = notification AND retracted_at IS NULL;
    -- Never sent: cancelled, nothing to tell the device.
    UPDATE push.deliveries SET state = 'retracted',
        last_error = CASE WHEN state = 'queued' THEN 'retracted before delivery'
                          ELSE 'retracted after it failed: ' || coalesce(last_error, '?') END,
        lease_owner = NULL, lease_until = NULL, updated_at = now()
    WHERE notification_id = notification AND state IN ('queued', 'failed') AND attempts = 0;
    GET DIAGNOSTICS cancelled = ROW_COUNT;
    -- Sent at least once (in flight, acked, or requeued, expired or failed after a send whose
    -- ack never came): it may be on screen. Rows not acked or expired end retracted; the
    -- device is told.
    UPDATE push.deliveries SET
        state = CASE WHEN state IN ('sent', 'queued', 'failed') THEN 'retracted' ELSE state END,
        last_error = CASE
            WHEN state = 'queued' THEN 'retracted after ' || attempts || ' send(s) without an ack'
            WHEN state = 'failed' THEN 'retracted after it failed: ' || coalesce(last_error, '?')
            ELSE last_error END,
        retract_state = 'queued', updated_at = now()
    WHERE notification_id = notification AND retract_state IS NULL
      AND (state IN ('sent', 'acked')
           OR (state IN ('queued', 'expired', 'failed') AND attempts > 0));
    GET DIAGNOSTICS recalled = ROW_COUNT;
    IF recalled > 0 THEN
        PERFORM pg_notify('xpush', '');
    END IF;
    RETURN cancelled + recalled;
END $$;

-- ---- privileges ----------------------------------------------------------------------------------
-- New functions: nothing for PUBLIC (003's default privileges already revoke EXECUTE; said
-- again so the rule does not depend on who runs the migration). The constraints run the form
-- functions with the rights of whoever writes the row.
REVOKE ALL ON FUNCTION push.ident_ok(text), push.idents_ok(text[]), push.app_id_ok(text),
    push.bare_jid_ok(text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION push.ident_ok(text), push.idents_ok(text[]), push.app_id_ok(text),
    push.bare_jid_ok(text) TO xpush_producer, xpush_daemon;
REVOKE ALL ON FUNCTION push.retract(bigint) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION push.retract(bigint) TO xpush_daemon;
