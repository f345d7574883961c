-- 002_delivery: what producers can ask for (targets, expiry, scheduling, priority, collapse,
-- retract, idempotency) and what xpushd needs to keep every promise (fan-out in chunks outside
-- the producer's transaction, leases with fencing tokens, terminal states with reasons,
-- progress views, and a wake-up that does not serialise producers' commits).

-- Targets, beyond one device / one JID: an alias, tags (any / all / none, as JPush's tag,
-- tag_and, tag_not) and every device of the app. Selectors combine with AND.
ALTER TABLE push.notifications
    ADD COLUMN to_alias      text,
    ADD COLUMN tags_any      text[],
    ADD COLUMN tags_all      text[],
    ADD COLUMN tags_none     text[],
    ADD COLUMN broadcast     boolean NOT NULL DEFAULT false,
    ADD COLUMN ttl_seconds   integer,
    ADD COLUMN expires_at    timestamptz,
    ADD COLUMN not_before    timestamptz,
    ADD COLUMN collapse_key  text,
    ADD COLUMN dedup_key     text,
    ADD COLUMN retracted_at  timestamptz,
    ADD COLUMN fanout_cursor bigint NOT NULL DEFAULT 0,
    ADD COLUMN fanout_note   text;

ALTER TABLE push.notifications DROP CONSTRAINT notifications_target;
ALTER TABLE push.notifications
    ADD CONSTRAINT notifications_target CHECK (
        to_jid IS NOT NULL OR to_alias IS NOT NULL OR tags_any IS NOT NULL
        OR tags_all IS NOT NULL OR broadcast),
    ADD CONSTRAINT notifications_alias_nonempty CHECK (to_alias <> ''),
    ADD CONSTRAINT notifications_tags_nonempty CHECK (
        (tags_any IS NULL OR cardinality(tags_any) > 0)
        AND (tags_all IS NULL OR cardinality(tags_all) > 0)
        AND (tags_none IS NULL OR cardinality(tags_none) > 0)),
    -- 0 = now or never; at most 28 days, as FCM.
    ADD CONSTRAINT notifications_ttl_range CHECK (ttl_seconds BETWEEN 0 AND 2419200),
    ADD CONSTRAINT notifications_ttl_or_expires CHECK (ttl_seconds IS NULL OR expires_at IS NULL),
    ADD CONSTRAINT notifications_collapse_nonempty CHECK (collapse_key <> ''),
    ADD CONSTRAINT notifications_dedup_nonempty CHECK (dedup_key <> '');

-- Publisher idempotency: a retry after an unknown commit outcome cannot create a second push.
CREATE UNIQUE INDEX notifications_dedup ON push.notifications (app, dedup_key)
    WHERE dedup_key IS NOT NULL;
DROP INDEX push.notifications_pending_fanout;
CREATE INDEX notifications_pending_fanout ON push.notifications (id)
    WHERE fanned_out_at IS NULL;
CREATE INDEX notifications_scheduled ON push.notifications (not_before)
    WHERE fanned_out_at IS NULL AND not_before IS NOT NULL;
CREATE INDEX notifications_collapse ON push.notifications (app, collapse_key, id)
    WHERE collapse_key IS NOT NULL;

CREATE INDEX devices_app_alias ON push.devices (app, alias) WHERE alias IS NOT NULL;
CREATE INDEX devices_tags ON push.devices USING gin (tags);
CREATE INDEX devices_app_id ON push.devices (app, id);

-- The effective expiry of a notification (default 4 weeks after creation).
CREATE FUNCTION push.expiry(created timestamptz, ttl integer, expires timestamptz)
RETURNS timestamptz LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT coalesce(expires, created + make_interval(secs => coalesce(ttl, 2419200)))
$$;

-- The ledger's terminal states, fencing tokens and retracts.
ALTER TABLE push.deliveries DROP CONSTRAINT deliveries_state_check;
ALTER TABLE push.deliveries
    ADD CONSTRAINT deliveries_state_check CHECK (state IN
        ('queued', 'sent', 'acked', 'expired', 'superseded', 'retracted', 'failed')),
    ADD COLUMN lease_token   bigint,
    ADD COLUMN retract_state text CHECK (retract_state IN ('queued', 'sent', 'acked'));
CREATE SEQUENCE push.lease_tokens;
DROP INDEX push.deliveries_pending;
CREATE INDEX deliveries_pending ON push.deliveries (device_id, notification_id)
    WHERE state IN ('queued', 'sent');
CREATE INDEX deliveries_retract ON push.deliveries (device_id)
    WHERE retract_state IN ('queued', 'sent');

-- The devices a notification targets, `chunk` at a time after `fanout_cursor` (device id
-- order). One static query per target shape, so each keeps a plan that uses its index.
CREATE FUNCTION push.fanout_targets(n push.notifications, chunk integer)
RETURNS TABLE (id bigint, online boolean) LANGUAGE plpgsql STABLE AS $$
BEGIN
    IF n.to_jid IS NOT NULL THEN
        RETURN QUERY
        SELECT d.id, d.online FROM push.devices d
        WHERE d.app = n.app AND lower(d.jid) = lower(n.to_jid) AND d.unregistered_at IS NULL
          AND d.id > n.fanout_cursor
          AND (n.to_device IS NULL OR d.device = n.to_device)
          AND (n.to_alias IS NULL OR d.alias = n.to_alias)
          AND (n.tags_any IS NULL OR d.tags && n.tags_any)
          AND (n.tags_all IS NULL OR d.tags @> n.tags_all)
          AND (n.tags_none IS NULL OR NOT d.tags && n.tags_none)
        ORDER BY d.id LIMIT chunk;
    ELSIF n.to_alias IS NOT NULL THEN
        RETURN QUERY
        SELECT d.id, d.online FROM push.devices d
        WHERE d.app = n.app AND d.alias = n.to_alias AND d.unregistered_at IS NULL
          AND d.id > n.fanout_cursor
          AND (n.tags_any IS NULL OR d.tags && n.tags_any)
          AND (n.tags_all IS NULL OR d.tags @> n.tags_all)
          AND (n.tags_none IS NULL OR NOT d.tags && n.tags_none)
        ORDER BY d.id LIMIT chunk;
    ELSE
        RETURN QUERY
        SELECT d.id, d.online FROM push.devices d
        WHERE d.app = n.app AND d.unregistered_at IS NULL AND d.id > n.fanout_cursor
          AND (n.tags_any IS NULL OR d.tags && n.tags_any)
          AND (n.tags_all IS NULL OR d.tags @> n.tags_all)
          AND (n.tags_none IS NULL OR NOT d.tags && n.tags_none)
        ORDER BY d.id LIMIT chunk;
    END IF;
END $$;

-- Fan-out: expand due notifications into ledger rows, `chunk` devices per notification per
-- call (a broadcast to 100k devices takes many calls, interleaved with sending). Runs in
-- xpushd's transaction, never the producer's. Returns the number of notifications touched
-- (0: nothing left to do now).
CREATE FUNCTION push.fanout(lim integer, chunk integer) RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE
    n push.notifications%ROWTYPE;
    touched integer := 0;
    got integer;
    last_dev bigint;
BEGIN
    FOR n IN
        SELECT * FROM push.notifications
        WHERE fanned_out_at IS NULL AND (not_before IS NULL OR not_before <= now())
        ORDER BY id LIMIT lim FOR UPDATE SKIP LOCKED
    LOOP
        touched := touched + 1;
        IF n.retracted_at IS NOT NULL THEN
            UPDATE push.notifications SET fanned_out_at = now(),
                target_count = coalesce(target_count, 0), fanout_note = 'retracted before fan-out'
            WHERE id = n.id;
            CONTINUE;
        END IF;
        IF n.ttl_seconds IS DISTINCT FROM 0
           AND push.expiry(n.created_at, n.ttl_seconds, n.expires_at) <= now() THEN
            UPDATE push.notifications SET fanned_out_at = now(),
                target_count = coalesce(target_count, 0), fanout_note = 'expired before fan-out'
            WHERE id = n.id;
            CONTINUE;
        END IF;

        WITH f AS (SELECT * FROM push.fanout_targets(n, chunk)),
        -- ttl 0, "now or never": devices offline at send time are expired at once.
        ins AS (
            INSERT INTO push.deliveries (notification_id, device_id, state, last_error)
            SELECT n.id, f.id,
                   CASE WHEN n.ttl_seconds = 0 AND NOT f.online THEN 'expired' ELSE 'queued' END,
                   CASE WHEN n.ttl_seconds = 0 AND NOT f.online
                        THEN 'offline at send time (ttl 0)' END
            FROM f ON CONFLICT DO NOTHING RETURNING 1),
        -- Collapse: this notification supersedes older undelivered ones with its key.
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
    RETURN touched;
END $$;

-- Retract: cancel what is still pending and queue a retract for devices that may have shown
-- it. Returns the number of ledger rows affected. Safe to call twice.
CREATE FUNCTION push.retract(notification bigint) RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE
    cancelled integer;
    recalled integer;
BEGIN
    UPDATE push.notifications SET retracted_at = now()
    WHERE id = notification AND retracted_at IS NULL;
    UPDATE push.deliveries SET state = 'retracted', last_error = 'retracted before delivery',
        lease_owner = NULL, lease_until = NULL, updated_at = now()
    WHERE notification_id = notification AND state = 'queued';
    GET DIAGNOSTICS cancelled = ROW_COUNT;
    -- A sent row may be on screen already: tell the device.
    UPDATE push.deliveries SET
        state = CASE WHEN state = 'sent' THEN 'retracted' ELSE state END,
        retract_state = 'queued', updated_at = now()
    WHERE notification_id = notification AND state IN ('sent', 'acked')
      AND retract_state IS NULL;
    GET DIAGNOSTICS recalled = ROW_COUNT;
    IF recalled > 0 THEN
        PERFORM pg_notify('xpush', '');
    END IF;
    RETURN cancelled + recalled;
END $$;

-- Wake-up without serialising producers: NOTIFY takes a cluster-wide lock at commit, so the
-- trigger sends it only while xpushd is idle and waiting (listening). A busy xpushd rescans
-- by itself until it finds nothing, then sets listening and rescans once more.
CREATE TABLE push.wakeup (
    one       boolean PRIMARY KEY DEFAULT true CHECK (one),
    listening boolean NOT NULL DEFAULT true
);
INSERT INTO push.wakeup DEFAULT VALUES;

CREATE OR REPLACE FUNCTION push.notify_new() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF (SELECT listening FROM push.wakeup) THEN
        PERFORM pg_notify('xpush', '');
    END IF;
    RETURN NULL;
END $$;

-- Progress of each notification, and the health of the whole queue.
CREATE VIEW push.notification_progress AS
SELECT n.id, n.app, n.created_at, n.fanned_out_at, n.target_count, n.fanout_note,
       n.retracted_at, push.expiry(n.created_at, n.ttl_seconds, n.expires_at) AS expires,
       count(d.*) FILTER (WHERE d.state = 'queued') AS queued,
       count(d.*) FILTER (WHERE d.state = 'sent') AS sent,
       count(d.*) FILTER (WHERE d.state = 'acked') AS acked,
       count(d.*) FILTER (WHERE d.state = 'expired') AS expired,
       count(d.*) FILTER (WHERE d.state = 'superseded') AS superseded,
       count(d.*) FILTER (WHERE d.state = 'retracted') AS retracted,
       count(d.*) FILTER (WHERE d.state = 'failed') AS failed
FROM push.notifications n LEFT JOIN push.deliveries d ON d.notification_id = n.id
GROUP BY n.id;

CREATE VIEW push.queue_health AS
SELECT
    (SELECT count(*) FROM push.notifications WHERE fanned_out_at IS NULL) AS awaiting_fanout,
    (SELECT count(*) FROM push.deliveries WHERE state = 'queued') AS queued,
    (SELECT count(*) FROM push.deliveries WHERE state = 'sent') AS in_flight,
    (SELECT count(*) FROM push.deliveries WHERE state = 'failed') AS failed,
    (SELECT count(*) FROM push.deliveries WHERE state = 'expired') AS expired,
    (SELECT count(*) FROM push.deliveries
      WHERE state = 'acked' AND acked_at > now() - interval '1 minute') AS acked_last_minute,
    (SELECT now() - min(created_at) FROM push.deliveries WHERE state = 'queued') AS oldest_queued_age,
    (SELECT count(*) FROM push.devices WHERE online) AS devices_online,
    (SELECT count(*) FROM push.devices WHERE unregistered_at IS NULL) AS devices_registered;
