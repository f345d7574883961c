-- 001_init: the roster, the notifications producers INSERT, and the delivery ledger.
-- Applied by `xpushd --migrate` (and at every xpushd start) inside one transaction and
-- recorded in push.schema_version. Never edit a released migration: add a new one.

CREATE SCHEMA IF NOT EXISTS push;

-- The roster: one row per (bare JID, app, install id).
CREATE TABLE push.devices (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    jid           text NOT NULL CHECK (jid <> '' AND position('/' IN jid) = 0),
    app           text NOT NULL CHECK (app <> ''),
    device        text NOT NULL CHECK (device <> ''),
    alias         text,
    tags          text[] NOT NULL DEFAULT '{}',
    platform      text,
    full_jid      text,                 -- last full JID the device was seen at
    online        boolean NOT NULL DEFAULT false,
    last_seen     timestamptz,
    registered_at timestamptz NOT NULL DEFAULT now(),
    unregistered_at timestamptz,          -- set by <unregister/>; the row and its ledger stay
    UNIQUE (jid, app, device)
);
CREATE INDEX devices_full_jid ON push.devices (full_jid) WHERE full_jid IS NOT NULL;
CREATE INDEX devices_app_jid ON push.devices (app, lower(jid));

-- What a producer INSERTs. Target kinds in v0: one device (to_jid + to_device) or every
-- device of a bare JID (to_jid alone). Later migrations add alias, tags and broadcast.
CREATE TABLE push.notifications (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    app         text NOT NULL CHECK (app <> ''),
    to_jid      text CHECK (to_jid <> '' AND position('/' IN to_jid) = 0),
    to_device   text CHECK (to_device <> ''),
    title       text,
    body        text,
    uri         text,
    payload     text,
    priority    text NOT NULL DEFAULT 'normal' CHECK (priority IN ('normal', 'high')),
    created_at  timestamptz NOT NULL DEFAULT now(),
    -- Set by xpushd when it has expanded the target into deliveries rows.
    fanned_out_at timestamptz,
    target_count  integer,               -- devices matched at fan-out (0: nobody)
    CONSTRAINT notifications_target CHECK (to_jid IS NOT NULL),
    CONSTRAINT notifications_device_needs_jid CHECK (to_device IS NULL OR to_jid IS NOT NULL)
);
CREATE INDEX notifications_pending_fanout ON push.notifications (id) WHERE fanned_out_at IS NULL;

-- The ledger: one row per (notification, device).
CREATE TABLE push.deliveries (
    notification_id bigint NOT NULL REFERENCES push.notifications (id) ON DELETE CASCADE,
    device_id       bigint NOT NULL REFERENCES push.devices (id) ON DELETE CASCADE,
    state           text NOT NULL DEFAULT 'queued' CHECK (state IN ('queued', 'sent', 'acked', 'failed')),
    attempts        integer NOT NULL DEFAULT 0,
    acks            integer NOT NULL DEFAULT 0,   -- acks received (a redelivery is acked again)
    created_at      timestamptz NOT NULL DEFAULT now(),
    sent_at         timestamptz,
    acked_at        timestamptz,
    updated_at      timestamptz NOT NULL DEFAULT now(),
    last_error      text,
    lease_owner     text,                          -- xpushd instance that sent it
    lease_until     timestamptz,                   -- after this, another send may happen
    PRIMARY KEY (notification_id, device_id)
);
CREATE INDEX deliveries_pending ON push.deliveries (device_id, notification_id)
    WHERE state <> 'acked';

-- Wake xpushd after a producer's transaction commits. A statement-level trigger sends one
-- NOTIFY per INSERT statement (NOTIFY de-duplicates identical payloads per transaction).
-- The table stays the truth: xpushd also scans at start, after reconnects and on a timer.
CREATE FUNCTION push.notify_new() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('xpush', '');
    RETURN NULL;
END $$;
CREATE TRIGGER notifications_wake AFTER INSERT ON push.notifications
    FOR EACH STATEMENT EXECUTE FUNCTION push.notify_new();
