-- 010_apps: applications as rows. Each app says who may register a device for it (its
-- registration policy, enforced by xpushd when a device sends <register/>) and which producer
-- roles may enqueue pushes for it (enforced here, by row-level security).
--
-- Policies (docs/apps.md):
--   open   any account of xpushd's user_domains may register a device (the behaviour before
--          this migration: for a server that serves one app)
--   acl    only the bare JIDs and domains listed in acl
--   token  only a device that presents a registration token minted with the app's secret:
--          HMAC-SHA256 over the bare JID, app, device and expiry (docs/apps.md has the format)
-- An app without a row is refused unless xpushd runs with unknown_apps = open.
--
-- Existing deployments keep working: every app found in push.devices or push.notifications
-- becomes an `open` row that every producer (xpush_producer) may enqueue for. The migration
-- says so, one warning per app, in xpushd's log.

-- An access list: every entry a bare JID (alice@example.org) or a domain (example.org), in the
-- form of push.bare_jid_ok (schema 006), no duplicates.
CREATE FUNCTION push.acl_ok(acl text[]) RETURNS boolean
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT acl IS NOT NULL AND cardinality(acl) <= 10000 AND NOT EXISTS (
        SELECT 1 FROM unnest(acl) e WHERE e IS NULL OR NOT push.bare_jid_ok(e))
       AND cardinality(acl) = (SELECT count(DISTINCT lower(e)) FROM unnest(acl) e)
$$;

CREATE TABLE push.apps (
    app         text PRIMARY KEY CONSTRAINT apps_app_form CHECK (push.app_id_ok(app)),
    policy      text NOT NULL
                CONSTRAINT apps_policy CHECK (policy IN ('open', 'acl', 'token')),
    acl         text[] NOT NULL DEFAULT '{}' CONSTRAINT apps_acl_form CHECK (push.acl_ok(acl)),
    -- The HMAC key of registration tokens: its bytes as written (printable ASCII, no space).
    secret      text CONSTRAINT apps_secret_form
                CHECK (secret ~ '^[!-~]+$' AND octet_length(secret) BETWEEN 32 AND 256),
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT apps_token_needs_secret CHECK (policy <> 'token' OR secret IS NOT NULL)
);

-- Which producer roles may enqueue for an app. A row names a role: its members (direct or
-- through other roles) may enqueue; the row (app, 'xpush_producer') lets every producer.
CREATE TABLE push.app_producers (
    app         text NOT NULL REFERENCES push.apps ON DELETE CASCADE ON UPDATE CASCADE,
    producer    name NOT NULL,
    granted_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (app, producer)
);

-- May the session's role enqueue for app? Reads the grants with the owner's rights (producers
-- cannot read push.app_producers); a grant to a role that no longer exists grants nothing.
CREATE FUNCTION push.producer_may(for_app text) RETURNS boolean
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, push AS $$
    SELECT EXISTS (
        SELECT 1 FROM push.app_producers g JOIN pg_roles r ON r.rolname = g.producer
        WHERE g.app = for_app AND pg_has_role(session_user, r.oid, 'MEMBER'))
$$;

-- A producer's INSERT must be for an app granted to it. RESTRICTIVE: it narrows producer_own
-- (schema 003), and Postgres names it in the error:
--   new row violates row-level security policy "producer_app_granted" for table "notifications"
CREATE POLICY producer_app_granted ON push.notifications AS RESTRICTIVE FOR INSERT
    TO xpush_producer WITH CHECK (push.producer_may(app));

-- ---- existing deployments: the apps in use become open rows ---------------------------------
DO $$
DECLARE
    a record;
BEGIN
    FOR a IN
        SELECT app FROM (SELECT app FROM push.devices UNION SELECT app FROM push.notifications) x
        ORDER BY app
    LOOP
        IF NOT push.app_id_ok(a.app) THEN
            RAISE WARNING 'app %: not a reverse-DNS app id, left without a row: its devices cannot register',
                quote_literal(a.app);
            CONTINUE;
        END IF;
        INSERT INTO push.apps (app, policy) VALUES (a.app, 'open');
        INSERT INTO push.app_producers (app, producer) VALUES (a.app, 'xpush_producer');
        RAISE WARNING 'app %: registration policy open (any account may register) and every producer may enqueue; see xpushctl app policy, grant, revoke',
            a.app;
    END LOOP;
END $$;

-- ---- privileges ---------------------------------------------------------------------------
REVOKE ALL ON push.apps, push.app_producers FROM PUBLIC;
REVOKE ALL ON FUNCTION push.acl_ok(text[]), push.producer_may(text) FROM PUBLIC;
-- xpushd reads the policy (and the secret, to verify tokens) when a device registers.
GRANT SELECT ON push.apps TO xpush_daemon;
-- The policy above runs push.producer_may with the producer's rights.
GRANT EXECUTE ON FUNCTION push.producer_may(text) TO xpush_producer;
GRANT EXECUTE ON FUNCTION push.acl_ok(text[]) TO xpush_daemon;
