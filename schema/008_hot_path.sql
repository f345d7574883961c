-- 008_hot_path: less Postgres work per push (measured with scripts/bench, B7).
--
-- 1. The form checks of 003/006 called SQL functions that Postgres could not inline: STRICT
--    functions whose bodies are not strict expressions (AND of regexes), and array checks with
--    a sub-select. Each such call runs the SQL-function executor once per row and per check:
--    about 25 us of every INSERT, paid again by every UPDATE of the row (fan-out rechecks all
--    CHECK constraints). Now:
--    - push.bare_jid_ok, push.app_id_ok, push.ident_ok and push.xml_text_ok are CALLED ON NULL
--      INPUT (their bodies give NULL for NULL anyway, and a CHECK passes on NULL as before), so
--      they inline into the constraint as plain expressions;
--    - push.idents_ok checks the elements joined into one string (',' is a legal character,
--      a NULL element becomes \x01, which the rule refuses): no sub-select, it inlines too.
--      STABLE because array_to_string is (an immutable function must not call it);
--    - the tag_bytes limit (push.tags_ok, which keeps its sub-select) is skipped for a NULL
--      array: the constraint itself says `tags_any IS NULL OR ...`.
--    The rules and the constraint names are unchanged.
--    And a row's content is checked once, when it is inserted: the costly rules (the forms and
--    the XML text rule) pass at once for a row already fanned out (`fanned_out_at IS NOT NULL
--    OR ...`), so xpushd's fan-out UPDATE, which writes only its own columns, does not run
--    them again (about 10 us per push). Producers cannot set fanned_out_at (column grants of
--    003): every INSERT is checked in full.
-- 2. The ledger's foreign keys go: each ledger INSERT ran two lookups with row locks (FOR KEY
--    SHARE on the notification and on the device, the device's a WAL-logged lock), about 10 us
--    per push. The invariant they kept holds by construction: only xpushd inserts ledger rows,
--    for a notification it holds locked and devices it read in the same statement, and neither
--    table's rows are deleted in normal operation. Deleting (or truncating) notifications or
--    devices still takes their ledger rows with them, as ON DELETE CASCADE did, through
--    statement triggers. A device deleted by hand while a fan-out reads it may leave that
--    fan-out's rows for it behind: they are never sent (every claim joins the roster) and
--    change nothing else.
-- 3. push.fanout_send(): the fan-out of push.fanout_devices() that also sends. A queued row
--    became `sent` by a second statement (the claim) a moment later: a second row version, two
--    more index entries and a round trip per push. Now a row whose device is online, not being
--    probed, has nothing queued and a free slot in its window is inserted `sent` under the
--    caller's lease and returned for sending; the rest is queued as before and its online
--    devices are named for the claim. push.fanout_devices() stays for older xpushd binaries.

ALTER FUNCTION push.bare_jid_ok(text) CALLED ON NULL INPUT;
ALTER FUNCTION push.app_id_ok(text) CALLED ON NULL INPUT;
ALTER FUNCTION push.ident_ok(text) CALLED ON NULL INPUT;
ALTER FUNCTION push.xml_text_ok(text) CALLED ON NULL INPUT;

-- True if every element is a non-NULL push.ident_ok string (NULL array: true).
CREATE OR REPLACE FUNCTION push.idents_ok(a text[]) RETURNS boolean
LANGUAGE sql STABLE PARALLEL SAFE AS $$
    SELECT a IS NULL OR push.ident_ok(array_to_string(a, ',', E'\x01'))
$$;

UPDATE push.limits SET check_sql =
    'fanned_out_at IS NOT NULL OR ((tags_any IS NULL OR push.tags_ok(tags_any, %1$s))'
    ' AND (tags_all IS NULL OR push.tags_ok(tags_all, %1$s))'
    ' AND (tags_none IS NULL OR push.tags_ok(tags_none, %1$s)))'
WHERE name = 'tag_bytes';
SELECT push.set_limit('tag_bytes', (SELECT value FROM push.limits WHERE name = 'tag_bytes'));

-- The same guard on the forms and the XML text rule, each rule otherwise as it was (with the
-- exemption of the rows older than 006 that its text carries). NOT VALID: nothing is rescanned.
DO $$
DECLARE
    c record;
BEGIN
    FOR c IN
        SELECT conname, pg_get_expr(conbin, conrelid) AS expr FROM pg_constraint
        WHERE conrelid = 'push.notifications'::regclass AND contype = 'c'
          AND conname IN ('notifications_xml_text', 'notifications_to_jid_form',
                          'notifications_app_form', 'notifications_device_form',
                          'notifications_alias_form', 'notifications_tags_form')
        ORDER BY conname
    LOOP
        EXECUTE format('ALTER TABLE push.notifications DROP CONSTRAINT %I', c.conname);
        EXECUTE format('ALTER TABLE push.notifications ADD CONSTRAINT %I'
                       ' CHECK (fanned_out_at IS NOT NULL OR (%s)) NOT VALID', c.conname, c.expr);
    END LOOP;
END $$;

ALTER TABLE push.deliveries DROP CONSTRAINT deliveries_notification_id_fkey,
                           DROP CONSTRAINT deliveries_device_id_fkey;

CREATE FUNCTION push.ledger_follow_delete() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, push AS $$
BEGIN
    IF TG_TABLE_NAME = 'notifications' THEN
        DELETE FROM push.deliveries d USING gone g WHERE d.notification_id = g.id;
    ELSE
        DELETE FROM push.deliveries d USING gone g WHERE d.device_id = g.id;
    END IF;
    RETURN NULL;
END $$;

CREATE FUNCTION push.ledger_follow_truncate() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, push AS $$
BEGIN
    -- Not TRUNCATE: a TRUNCATE that names push.deliveries too is still using it here.
    DELETE FROM push.deliveries;
    RETURN NULL;
END $$;

CREATE TRIGGER notifications_ledger_delete AFTER DELETE ON push.notifications
    REFERENCING OLD TABLE AS gone FOR EACH STATEMENT EXECUTE FUNCTION push.ledger_follow_delete();
CREATE TRIGGER devices_ledger_delete AFTER DELETE ON push.devices
    REFERENCING OLD TABLE AS gone FOR EACH STATEMENT EXECUTE FUNCTION push.ledger_follow_delete();
CREATE TRIGGER notifications_ledger_truncate AFTER TRUNCATE ON push.notifications
    FOR EACH STATEMENT EXECUTE FUNCTION push.ledger_follow_truncate();
CREATE TRIGGER devices_ledger_truncate AFTER TRUNCATE ON push.devices
    FOR EACH STATEMENT EXECUTE FUNCTION push.ledger_follow_truncate();
REVOKE ALL ON FUNCTION push.ledger_follow_delete(), push.ledger_follow_truncate() FROM PUBLIC;

-- Rows: one per delivery inserted `sent` (the columns of a claim, as xpushd's claim returns
-- them; touched and devices NULL), then one last row with only touched (notifications taken)
-- and devices (online devices that got queued rows: claim for those).
CREATE FUNCTION push.fanout_send(lim integer, chunk integer, owner text, lease_ms double precision,
                                 win integer)
RETURNS TABLE (o_nid bigint, o_dev bigint, o_full_jid text, o_app text, o_priority text,
               o_created text, o_title text, o_body text, o_uri text, o_payload text,
               o_attempts integer, o_token bigint, o_collapse text, o_expires text,
               o_touched integer, o_devices bigint[])
LANGUAGE plpgsql AS $$
#variable_conflict use_column
DECLARE
    n push.notifications%ROWTYPE;
    batch push.notifications[];   -- the locked rows themselves: never looked up again
    closed bigint[];
    fast bigint[];                -- taken by the set-based statement
    got integer;
    last_dev bigint;
    more bigint[];
    devs bigint[] := '{}';
    s_nid bigint[];
    s_dev bigint[];
    tok bigint;
BEGIN
    SELECT array_agg(x ORDER BY x.id),
           array_agg(x.id) FILTER (WHERE x.retracted_at IS NOT NULL
               OR (x.ttl_seconds IS DISTINCT FROM 0
                   AND push.expiry(x.created_at, x.ttl_seconds, x.expires_at) <= now()))
    INTO batch, closed FROM (
        SELECT * FROM push.notifications
        WHERE fanned_out_at IS NULL AND (not_before IS NULL OR not_before <= now())
        ORDER BY id LIMIT lim FOR UPDATE SKIP LOCKED) x;
    IF batch IS NULL THEN
        RETURN QUERY SELECT NULL::bigint, NULL::bigint, NULL::text, NULL::text, NULL::text,
            NULL::text, NULL::text, NULL::text, NULL::text, NULL::text, NULL::integer,
            NULL::bigint, NULL::text, NULL::text, 0, '{}'::bigint[];
        RETURN;
    END IF;
    closed := coalesce(closed, '{}');
    tok := nextval('push.lease_tokens');

    -- Retracted or expired before fan-out: closed with the reason, nobody targeted.
    IF cardinality(closed) > 0 THEN
        UPDATE push.notifications x SET fanned_out_at = now(),
            target_count = coalesce(x.target_count, 0),
            fanout_note = CASE WHEN x.retracted_at IS NOT NULL THEN 'retracted before fan-out'
                               ELSE 'expired before fan-out' END
        WHERE x.id = ANY (closed);
    END IF;

    -- One JID (optionally one device, alias, tags), no collapse key: the whole batch at once.
    -- `now_`: sent at once. The device is online with a session that is not being probed,
    -- nothing of it waits in the queue (older rows go first, through the claim), and the
    -- window has room for this row after the device's sends in flight and its earlier rows of
    -- this batch (in claim order: high priority first, then by id).
    WITH nn AS (
        SELECT x.* FROM unnest(batch) x
        WHERE x.id <> ALL (closed) AND x.to_jid IS NOT NULL AND x.collapse_key IS NULL),
    f AS (
        SELECT nn.id AS nid, d.id AS dev, d.online, nn.ttl_seconds AS ttl,
               nn.priority = 'high' AS hi,
               d.online AND d.full_jid IS NOT NULL AND d.probe_until IS NULL AS can_send,
               count(d.id) OVER (PARTITION BY nn.id) AS per_n
        FROM nn LEFT JOIN push.devices d
          ON d.app = nn.app AND lower(d.jid) = lower(nn.to_jid) AND d.unregistered_at IS NULL
         AND d.id > nn.fanout_cursor
         AND (nn.to_device IS NULL OR d.device = nn.to_device)
         AND (nn.to_alias IS NULL OR d.alias = nn.to_alias)
         AND (nn.tags_any IS NULL OR d.tags && nn.tags_any)
         AND (nn.tags_all IS NULL OR d.tags @> nn.tags_all)
         AND (nn.tags_none IS NULL OR NOT d.tags && nn.tags_none)),
    w AS (
        SELECT f.*, f.can_send
            AND NOT EXISTS (SELECT 1 FROM push.deliveries q
                            WHERE q.device_id = f.dev AND q.state = 'queued')
            AND (SELECT count(*) FROM push.deliveries s
                 WHERE s.device_id = f.dev AND s.state = 'sent')
                + row_number() OVER (PARTITION BY f.dev ORDER BY f.hi DESC, f.nid) <= win
            AS now_
        FROM f WHERE f.dev IS NOT NULL AND f.per_n < chunk),
    ins AS (
        INSERT INTO push.deliveries AS d (notification_id, device_id, state, last_error, high,
                                          attempts, sent_at, lease_owner, lease_token,
                                          lease_until)
        SELECT w.nid, w.dev,
               CASE WHEN w.now_ THEN 'sent'
                    WHEN w.ttl = 0 AND NOT w.online THEN 'expired' ELSE 'queued' END,
               CASE WHEN NOT w.now_ AND w.ttl = 0 AND NOT w.online
                    THEN 'offline at send time (ttl 0)' END,
               w.hi,
               CASE WHEN w.now_ THEN 1 ELSE 0 END,
               CASE WHEN w.now_ THEN now() END,
               CASE WHEN w.now_ THEN owner END,
               CASE WHEN w.now_ THEN tok END,
               CASE WHEN w.now_ THEN now() + make_interval(secs => lease_ms / 1000) END
        FROM w
        ORDER BY w.nid, w.dev
        ON CONFLICT DO NOTHING RETURNING d.notification_id AS nid, d.device_id AS dev,
                                         d.state AS st),
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
    SELECT coalesce((SELECT array_agg(DISTINCT w.dev) FROM w WHERE w.online AND NOT w.now_), '{}'),
           coalesce((SELECT array_agg(DISTINCT f.nid) FROM f WHERE f.per_n < chunk), '{}'),
           (SELECT array_agg(i.nid ORDER BY i.nid, i.dev) FROM ins i WHERE i.st = 'sent'),
           (SELECT array_agg(i.dev ORDER BY i.nid, i.dev) FROM ins i WHERE i.st = 'sent')
    INTO devs, fast, s_nid, s_dev;

    IF s_nid IS NOT NULL THEN
        RETURN QUERY
        SELECT s.nid, s.dev, v.full_jid, x.app, x.priority,
               to_char(x.created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"'),
               x.title, x.body, x.uri, x.payload, 1, tok, x.collapse_key,
               CASE WHEN x.ttl_seconds = 0 THEN NULL ELSE
                   to_char(push.expiry(x.created_at, x.ttl_seconds, x.expires_at)
                           AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"') END,
               NULL::integer, NULL::bigint[]
        FROM unnest(s_nid, s_dev) s(nid, dev)
        JOIN unnest(batch) x ON x.id = s.nid
        JOIN push.devices v ON v.id = s.dev;
    END IF;

    -- Everything else (alias, tags, broadcast, collapse keys, a JID with `chunk` devices or
    -- more), one notification at a time, queued as in push.fanout_devices(), without its ON
    -- CONFLICT: a notification's devices are taken in id order after its fanout_cursor, and the
    -- rows and the new cursor commit together while the notification is locked, so no device
    -- can get a second row (the speculative insertion cost ~3.5 us a row: a broadcast to 1M
    -- devices took 14.1 s with it and 7.5 s without, fanout_chunk 1000).
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
            FROM f RETURNING 1),
        -- Collapse: an older push of the same producer, app and key is superseded on the
        -- devices where this one is queued (ttl 0: only those online now).
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
        devs := devs || coalesce(more, '{}');

        UPDATE push.notifications SET
            target_count = coalesce(target_count, 0) + got,
            fanout_cursor = coalesce(last_dev, fanout_cursor),
            fanned_out_at = CASE WHEN got < chunk THEN now() END
        WHERE id = n.id;
    END LOOP;

    RETURN QUERY SELECT NULL::bigint, NULL::bigint, NULL::text, NULL::text, NULL::text,
        NULL::text, NULL::text, NULL::text, NULL::text, NULL::text, NULL::integer,
        NULL::bigint, NULL::text, NULL::text, cardinality(batch), devs;
END $$;

REVOKE ALL ON FUNCTION push.fanout_send(integer, integer, text, double precision, integer)
    FROM PUBLIC;
GRANT EXECUTE ON FUNCTION push.fanout_send(integer, integer, text, double precision, integer)
    TO xpush_daemon;
