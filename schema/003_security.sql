-- 003_security: limits on what a producer can enqueue (each a named CHECK constraint, so the
-- error names the limit), text that XML 1.0 cannot carry refused at enqueue, and three
-- separate roles: xpush_producer (enqueue and read the status of its own notifications),
-- xpush_daemon (what xpushd needs) and the owner that migrates. Nothing is granted to PUBLIC.

-- True if s holds no character XML 1.0 forbids (C0 controls other than TAB, LF, CR, and
-- U+FFFE/U+FFFF; NUL and invalid UTF-8 never reach a UTF8 database).
CREATE FUNCTION push.xml_text_ok(s text) RETURNS boolean
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
    SELECT s !~ '[\x01-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]'
$$;

-- True if every tag is non-empty, at most maxlen bytes, and XML-safe.
CREATE FUNCTION push.tags_ok(tags text[], maxlen integer) RETURNS boolean
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT tags IS NULL OR NOT EXISTS (
        SELECT 1 FROM unnest(tags) t
        WHERE t IS NULL OR t = '' OR octet_length(t) > maxlen OR NOT push.xml_text_ok(t))
$$;

ALTER TABLE push.notifications
    ADD COLUMN producer name NOT NULL DEFAULT session_user,
    ADD CONSTRAINT notifications_xml_text CHECK (
        push.xml_text_ok(coalesce(title, '')) AND push.xml_text_ok(coalesce(body, ''))
        AND push.xml_text_ok(coalesce(uri, '')) AND push.xml_text_ok(coalesce(payload, ''))
        AND push.xml_text_ok(app) AND push.xml_text_ok(coalesce(to_alias, ''))
        AND push.xml_text_ok(coalesce(collapse_key, ''))),
    ADD CONSTRAINT notifications_app_bytes CHECK (octet_length(app) <= 128);

-- The adjustable limits. push.set_limit() replaces one of these constraints.
CREATE TABLE push.limits (
    name        text PRIMARY KEY,
    value       integer NOT NULL CHECK (value > 0),
    constraint_name text NOT NULL,
    check_sql   text NOT NULL,       -- format() template, %s = the value
    description text NOT NULL
);
INSERT INTO push.limits VALUES
 ('payload_bytes', 4096, 'notifications_payload_bytes', 'octet_length(payload) <= %s',
  'bytes of payload'),
 ('title_bytes', 256, 'notifications_title_bytes', 'octet_length(title) <= %s',
  'bytes of title'),
 ('body_bytes', 4096, 'notifications_body_bytes', 'octet_length(body) <= %s',
  'bytes of body'),
 ('uri_bytes', 2048, 'notifications_uri_bytes', 'octet_length(uri) <= %s', 'bytes of uri'),
 ('alias_bytes', 128, 'notifications_alias_bytes', 'octet_length(to_alias) <= %s',
  'bytes of to_alias'),
 ('tag_count', 64, 'notifications_tag_count',
  'coalesce(cardinality(tags_any), 0) <= %1$s AND coalesce(cardinality(tags_all), 0) <= %1$s'
  ' AND coalesce(cardinality(tags_none), 0) <= %1$s', 'tags in each of tags_any/all/none'),
 ('tag_bytes', 64, 'notifications_tag_bytes',
  'push.tags_ok(tags_any, %1$s) AND push.tags_ok(tags_all, %1$s) AND push.tags_ok(tags_none, %1$s)',
  'bytes of one tag'),
 ('collapse_key_bytes', 128, 'notifications_collapse_key_bytes',
  'octet_length(collapse_key) <= %s', 'bytes of collapse_key'),
 ('dedup_key_bytes', 256, 'notifications_dedup_key_bytes', 'octet_length(dedup_key) <= %s',
  'bytes of dedup_key');

-- Change a limit: SELECT push.set_limit('payload_bytes', 8192). Only names from push.limits
-- and integer values are accepted; the constraint is replaced NOT VALID (existing rows are
-- not re-checked). Returns the previous value.
CREATE FUNCTION push.set_limit(limit_name text, new_value integer) RETURNS integer
LANGUAGE plpgsql SET search_path = pg_catalog, push AS $$
DECLARE
    l push.limits%ROWTYPE;
BEGIN
    SELECT * INTO l FROM push.limits WHERE name = limit_name FOR UPDATE;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'push.set_limit: unknown limit %', limit_name
            USING HINT = 'SELECT name FROM push.limits';
    END IF;
    IF new_value IS NULL OR new_value <= 0 THEN
        RAISE EXCEPTION 'push.set_limit: % must be a positive integer', limit_name;
    END IF;
    EXECUTE format('ALTER TABLE push.notifications DROP CONSTRAINT IF EXISTS %I',
                   l.constraint_name);
    EXECUTE format('ALTER TABLE push.notifications ADD CONSTRAINT %I CHECK (%s) NOT VALID',
                   l.constraint_name, format(l.check_sql, new_value::integer));
    UPDATE push.limits SET value = new_value WHERE name = limit_name;
    RETURN l.value;
END $$;

DO $$
DECLARE
    l record;
BEGIN
    FOR l IN SELECT * FROM push.limits LOOP
        EXECUTE format('ALTER TABLE push.notifications ADD CONSTRAINT %I CHECK (%s) NOT VALID',
                       l.constraint_name, format(l.check_sql, l.value));
    END LOOP;
END $$;

-- Roles. Cluster-wide, so created only if missing (the migrating role needs CREATEROLE, or
-- an administrator creates them first). Grant them to login roles:
--   CREATE ROLE shop LOGIN PASSWORD '...' IN ROLE xpush_producer;
--   CREATE ROLE xpushd LOGIN PASSWORD '...' IN ROLE xpush_daemon;
DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'xpush_producer') THEN
        CREATE ROLE xpush_producer NOLOGIN;
    END IF;
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'xpush_daemon') THEN
        CREATE ROLE xpush_daemon NOLOGIN;
    END IF;
END $$;

REVOKE ALL ON SCHEMA push FROM PUBLIC;
REVOKE ALL ON ALL TABLES IN SCHEMA push FROM PUBLIC;
REVOKE ALL ON ALL SEQUENCES IN SCHEMA push FROM PUBLIC;
REVOKE ALL ON ALL FUNCTIONS IN SCHEMA push FROM PUBLIC;
ALTER DEFAULT PRIVILEGES IN SCHEMA push REVOKE EXECUTE ON FUNCTIONS FROM PUBLIC;

-- The producer: enqueue, and read (only) its own notifications and their ledger rows.
GRANT USAGE ON SCHEMA push TO xpush_producer;
GRANT INSERT (app, to_jid, to_device, to_alias, tags_any, tags_all, tags_none, broadcast,
              title, body, uri, payload, priority, ttl_seconds, expires_at, not_before,
              collapse_key, dedup_key)
    ON push.notifications TO xpush_producer;
GRANT SELECT ON push.notifications, push.deliveries TO xpush_producer;
GRANT SELECT ON push.limits TO xpush_producer;
GRANT EXECUTE ON FUNCTION push.expiry(timestamptz, integer, timestamptz),
    push.xml_text_ok(text), push.tags_ok(text[], integer), push.notify_new()
    TO xpush_producer;
GRANT SELECT ON push.wakeup TO xpush_producer;   -- read by the enqueue trigger

ALTER TABLE push.notifications ENABLE ROW LEVEL SECURITY;
ALTER TABLE push.deliveries ENABLE ROW LEVEL SECURITY;
CREATE POLICY producer_own ON push.notifications TO xpush_producer
    USING (producer = session_user) WITH CHECK (producer = session_user);
CREATE POLICY producer_own ON push.deliveries TO xpush_producer
    USING (EXISTS (SELECT 1 FROM push.notifications n
                   WHERE n.id = notification_id AND n.producer = session_user));
CREATE POLICY daemon_all ON push.notifications TO xpush_daemon USING (true) WITH CHECK (true);
CREATE POLICY daemon_all ON push.deliveries TO xpush_daemon USING (true) WITH CHECK (true);
-- The views read through the caller's rights, so a producer sees only its own rows.
ALTER VIEW push.notification_progress SET (security_invoker = true);
GRANT SELECT ON push.notification_progress TO xpush_producer;

-- Retract, for producers too, but only their own notifications (the daemon and the owner
-- may retract any). Runs with the owner's rights after that check.
ALTER FUNCTION push.retract(bigint) SECURITY DEFINER SET search_path = pg_catalog, push;
CREATE OR REPLACE FUNCTION push.retract_allowed(notification bigint) RETURNS boolean
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, push AS $$
    SELECT pg_has_role(session_user, 'xpush_daemon', 'MEMBER')
        OR NOT pg_has_role(session_user, 'xpush_producer', 'MEMBER')
        OR EXISTS (SELECT 1 FROM push.notifications
                   WHERE id = notification AND producer = session_user)
$$;
CREATE FUNCTION push.retract_own(notification bigint) RETURNS integer
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, push AS $$
BEGIN
    IF NOT push.retract_allowed(notification) THEN
        RAISE EXCEPTION 'push.retract: notification % is not yours', notification
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    RETURN push.retract(notification);
END $$;
REVOKE ALL ON FUNCTION push.retract(bigint), push.retract_own(bigint),
    push.retract_allowed(bigint), push.set_limit(text, integer) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION push.retract_own(bigint) TO xpush_producer, xpush_daemon;
GRANT EXECUTE ON FUNCTION push.retract(bigint) TO xpush_daemon;

-- xpushd: everything it runs (component/store_sql.h), nothing more.
GRANT USAGE ON SCHEMA push TO xpush_daemon;
GRANT SELECT, INSERT, UPDATE ON push.devices, push.notifications, push.deliveries
    TO xpush_daemon;
GRANT SELECT, UPDATE ON push.wakeup TO xpush_daemon;
GRANT SELECT ON push.limits, push.notification_progress, push.queue_health,
    push.schema_version TO xpush_daemon;
GRANT USAGE ON ALL SEQUENCES IN SCHEMA push TO xpush_daemon;
GRANT EXECUTE ON FUNCTION push.fanout(integer, integer),
    push.fanout_targets(push.notifications, integer), push.expiry(timestamptz, integer, timestamptz),
    push.xml_text_ok(text), push.tags_ok(text[], integer), push.notify_new()
    TO xpush_daemon;
