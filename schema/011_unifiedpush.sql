-- 011_unifiedpush: UnifiedPush distributors (the XMPP protocol
-- http://gultsch.de/xmpp/drafts/unified-push, docs/unifiedpush.md) and the Web Push endpoint
-- (RFC 8030, docs/http.md) on the same ledger as every other push.
--
-- A registration (bare JID, application, instance) is one device row: app
-- 'up.<application>.<instance>' (both base64url without padding: 43 characters each, so the
-- app keeps the form of push.app_id_ok), device 'unifiedpush', full_jid the registering
-- session. Its endpoint token lives in push.up_registrations: 32 random bytes (base64url, 43
-- characters) made by xpushd, renewed (same token, later expiry) by a new registration, revoked
-- by an unregister or by the distributor's item-not-found answer to a push.
--
-- A Web Push message is a notification like any other, with its body in `payload` as base64
-- and payload_encoding 'base64' (the body may be binary: RFC 8291 ciphertext). The payload
-- limit counts the decoded bytes for such rows.

-- A device row of a UnifiedPush registration (its app has this exact form).
CREATE FUNCTION push.up_app_ok(s text) RETURNS boolean
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
    SELECT s ~ '^up\.[A-Za-z0-9_-]{43}\.[A-Za-z0-9_-]{43}$'
$$;

ALTER TABLE push.notifications
    ADD COLUMN payload_encoding text,
    ADD CONSTRAINT notifications_payload_encoding CHECK (
        payload_encoding IS NULL OR (payload_encoding = 'base64' AND payload IS NOT NULL
            AND payload ~ '^[A-Za-z0-9+/]*={0,2}$' AND octet_length(payload) % 4 = 0)) NOT VALID,
    -- A push to a UnifiedPush registration carries its body as base64 (the <push/> element's
    -- text); title, body and uri have no place in that protocol.
    ADD CONSTRAINT notifications_up_base64 CHECK (
        NOT push.up_app_ok(app) OR (payload_encoding = 'base64' AND title IS NULL
            AND body IS NULL AND uri IS NULL)) NOT VALID;

-- payload_bytes counts decoded bytes when the payload is base64 (4096 bytes of body = 5464
-- characters of base64); the constraint is rebuilt at its current value.
UPDATE push.limits SET check_sql =
    'octet_length(payload) <= %1$s OR (payload_encoding IS NOT NULL AND payload_encoding = ''base64'''
    ' AND octet_length(payload) / 4 * 3 - (octet_length(payload) - octet_length(rtrim(payload, ''='')))'
    ' <= %1$s)'
WHERE name = 'payload_bytes';
SELECT push.set_limit('payload_bytes', (SELECT value FROM push.limits WHERE name = 'payload_bytes'));

CREATE TABLE push.up_registrations (
    token       text PRIMARY KEY CHECK (token ~ '^[A-Za-z0-9_-]{43}$'),
    device_id   bigint NOT NULL REFERENCES push.devices (id) ON DELETE CASCADE,
    created_at  timestamptz NOT NULL DEFAULT now(),
    renewed_at  timestamptz NOT NULL DEFAULT now(),
    expires_at  timestamptz NOT NULL,
    revoked_at  timestamptz,                -- unregistered or refused by the distributor
    revoke_reason text,
    -- RFC 8292: the application server key the registration named (base64url P-256 point);
    -- then only requests with a valid VAPID token for it are accepted.
    vapid_key   text CHECK (vapid_key ~ '^[A-Za-z0-9_-]{87}$')
);
-- One live token per registration.
CREATE UNIQUE INDEX up_registrations_live ON push.up_registrations (device_id)
    WHERE revoked_at IS NULL;

-- Register (or renew) from full_jid: the device row online at full_jid, a new session (as a
-- native register), and its token: the live unexpired one with a later expiry, else new_token.
-- Returns the device id (-1: the JID has max_devices other devices), the token and its expiry
-- (Unix seconds).
CREATE FUNCTION push.up_register(bare text, full_jid text, up_app text, new_token text,
                                 lifetime_s integer, max_devices integer, vapid text)
RETURNS TABLE (device_id bigint, token text, expires bigint)
LANGUAGE plpgsql AS $$
DECLARE
    dev bigint;
    others bigint;
    known boolean;
    tok text;
    exp timestamptz := now() + make_interval(secs => lifetime_s);
BEGIN
    SELECT count(*) FILTER (WHERE NOT (d.app = up_app AND d.device = 'unifiedpush')),
           coalesce(bool_or(d.app = up_app AND d.device = 'unifiedpush'), false)
    INTO others, known
    FROM push.devices d WHERE d.jid = bare AND d.unregistered_at IS NULL;
    IF others >= max_devices AND NOT known THEN
        RETURN QUERY SELECT -1::bigint, NULL::text, NULL::bigint;
        RETURN;
    END IF;
    INSERT INTO push.devices AS v (jid, app, device, platform, full_jid, online, last_seen,
                                   session_at)
    VALUES (bare, up_app, 'unifiedpush', 'unifiedpush', full_jid, true, now(), now())
    ON CONFLICT (jid, app, device) DO UPDATE SET full_jid = EXCLUDED.full_jid, online = true,
        last_seen = now(), unregistered_at = NULL, session_at = now(), silent_since = NULL,
        probe_until = NULL
    RETURNING v.id INTO dev;
    UPDATE push.up_registrations r SET expires_at = exp, renewed_at = now(), vapid_key = vapid
    WHERE r.device_id = dev AND r.revoked_at IS NULL AND r.expires_at > now()
    RETURNING r.token INTO tok;
    IF tok IS NULL THEN
        UPDATE push.up_registrations r SET revoked_at = now(), revoke_reason = 'expired'
        WHERE r.device_id = dev AND r.revoked_at IS NULL;
        INSERT INTO push.up_registrations (token, device_id, expires_at, vapid_key)
        VALUES (new_token, dev, exp, vapid);
        tok := new_token;
    END IF;
    RETURN QUERY SELECT dev, tok, extract(epoch FROM exp)::bigint;
END $$;

-- Revoke the registration: by the distributor (jid + app: <unregister/>) or by its answer to a
-- push (device id + the full JID it was sent to: item-not-found). The device is unregistered;
-- its token answers 410 from now on. Returns the device ids revoked.
CREATE FUNCTION push.up_revoke(dev bigint, bare text, up_app text, at_jid text, reason text)
RETURNS SETOF bigint LANGUAGE plpgsql AS $$
BEGIN
    RETURN QUERY
    WITH v AS (UPDATE push.devices d SET unregistered_at = now(), online = false
               WHERE push.up_app_ok(d.app) AND d.unregistered_at IS NULL
                 AND CASE WHEN dev IS NOT NULL THEN d.id = dev AND d.full_jid = at_jid
                          ELSE d.jid = bare AND d.app = up_app END
               RETURNING d.id),
         r AS (UPDATE push.up_registrations g SET revoked_at = now(), revoke_reason = reason
               FROM v WHERE g.device_id = v.id AND g.revoked_at IS NULL RETURNING 1)
    SELECT v.id FROM v;
END $$;

-- The Web Push endpoint's enqueue: the same INSERT as any producer's, to the registration's
-- one device. status 201 (id = the notification), 404 (unknown or expired token), 410
-- (revoked: unregistered), 401 (the registration names a VAPID key and the request carries no
-- valid token: vapid_k NULL), 403 (a valid token for another key). ttl is at most 28 days
-- (the caller clamps); urgency high is priority high. vapid_k is the key of a VAPID token the
-- caller has verified.
CREATE FUNCTION push.up_enqueue(tok text, body_b64 text, ttl integer, prio text, topic text,
                                vapid_k text)
RETURNS TABLE (status integer, id bigint)
LANGUAGE plpgsql AS $$
DECLARE
    r record;
    nid bigint;
BEGIN
    SELECT g.expires_at, g.revoked_at, g.vapid_key, d.jid, d.app INTO r
    FROM push.up_registrations g JOIN push.devices d ON d.id = g.device_id
    WHERE g.token = tok;
    IF NOT FOUND OR (r.revoked_at IS NULL AND r.expires_at <= now()) THEN
        RETURN QUERY SELECT 404, NULL::bigint;
        RETURN;
    END IF;
    IF r.revoked_at IS NOT NULL THEN
        RETURN QUERY SELECT 410, NULL::bigint;
        RETURN;
    END IF;
    IF r.vapid_key IS NOT NULL AND vapid_k IS DISTINCT FROM r.vapid_key THEN
        RETURN QUERY SELECT CASE WHEN vapid_k IS NULL THEN 401 ELSE 403 END, NULL::bigint;
        RETURN;
    END IF;
    INSERT INTO push.notifications (app, to_jid, to_device, payload, payload_encoding,
                                    ttl_seconds, priority, collapse_key)
    VALUES (r.app, r.jid, 'unifiedpush', body_b64, 'base64', ttl, prio, topic)
    RETURNING push.notifications.id INTO nid;
    RETURN QUERY SELECT 201, nid;
END $$;

-- DELETE of a message resource: retract it (push.retract) if it was sent to this token's
-- registration. 204 done, 404 unknown token or message.
CREATE FUNCTION push.up_cancel(tok text, nid bigint) RETURNS integer
LANGUAGE plpgsql AS $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM push.up_registrations g
                   JOIN push.devices d ON d.id = g.device_id
                   JOIN push.notifications n ON n.app = d.app AND n.to_jid = d.jid
                   WHERE g.token = tok AND n.id = nid) THEN
        RETURN 404;
    END IF;
    PERFORM push.retract(nid);
    RETURN 204;
END $$;

-- The protocol has no retract: a push already sent to a registration stays where it is. A
-- retract (push.retract, a DELETE of the message) cancels what is pending and queues no
-- <retract/> for such a device (the distributor would answer it with an error, read as a
-- bounce).
CREATE FUNCTION push.up_no_retract() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF EXISTS (SELECT 1 FROM push.devices d WHERE d.id = NEW.device_id AND push.up_app_ok(d.app)) THEN
        NEW.retract_state := NULL;
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER deliveries_up_no_retract BEFORE UPDATE OF retract_state ON push.deliveries
    FOR EACH ROW WHEN (NEW.retract_state = 'queued' AND OLD.retract_state IS NULL)
    EXECUTE FUNCTION push.up_no_retract();

REVOKE ALL ON FUNCTION push.up_app_ok(text), push.up_no_retract(), push.up_register(text, text, text, text, integer,
    integer, text), push.up_revoke(bigint, text, text, text, text),
    push.up_enqueue(text, text, integer, text, text, text), push.up_cancel(text, bigint) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION push.up_app_ok(text) TO xpush_producer, xpush_daemon;
GRANT EXECUTE ON FUNCTION push.up_register(text, text, text, text, integer, integer, text),
    push.up_revoke(bigint, text, text, text, text),
    push.up_enqueue(text, text, integer, text, text, text), push.up_cancel(text, bigint)
    TO xpush_daemon;
GRANT SELECT, INSERT, UPDATE ON push.up_registrations TO xpush_daemon;
GRANT INSERT (payload_encoding) ON push.notifications TO xpush_producer;
