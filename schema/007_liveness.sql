-- 007_liveness: a send into a silent session is not evidence against the push.
--
-- Until now every send counted: the claim re-sent a row whose lease ran out, `attempts` grew,
-- and the sweep marked it `failed` after max_attempts sends, while a requeued row with
-- attempts >= max_attempts was never claimed again. A phone that loses its radio without a FIN
-- keeps its server session for many minutes (the server notices only at its own read timeout),
-- so max_attempts x ack_timeout_ms of silence failed every push on its way to it, and a few
-- xpushd restarts, component reconnects or device flaps stranded a push for its whole TTL.
--
-- Now:
-- * `attempts` counts sends (for the ledger's reader and the ttl-0 rule) and limits nothing.
--   `strikes` counts sends that a *live* session did not ack: only those can fail a push.
-- * A lease that runs out is judged by the sweep (xpushd, component/store_sql.c S_SWEEP):
--   - the device is offline, unregistered, or the row went to an earlier session of it
--     (sent before `session_at`): back to `queued`, no strike;
--   - the device is online: xpushd probes the session with an XEP-0199 ping to its full JID
--     (S_PROBE sets probe_token/probe_at/probe_until; nothing more is sent to the device while
--     the probe runs). The answer decides (S_PROBE_ALIVE): a result proves the session alive
--     and in-order, so it received the rows sent before the ping and did not ack them: each gets
--     a strike and goes back to `queued`, or becomes `failed` at max_attempts strikes. An error
--     (S_PROBE_GONE: a bounce, or a client without XEP-0199) requeues them without a strike; a
--     gone session bounces the next send. No answer by probe_until: the session is silent: the
--     device goes offline (`silent_since`) and its rows back to `queued`, no strike, until it
--     shows life (a new session's presence or register, an ack, an answer to this probe or to
--     the ones xpushd sends a silent device every 4 x ack_timeout_ms).
-- * A new session of the device (presence or register) sets `session_at` and brings back what
--   a live session failed (`failed` with strikes, not expired): strikes start again at 0.
-- * push.queue_health counts `stuck`: rows queued for an online device that has nothing in
--   flight and no probe running, due, unexpired, waiting for more than a minute. It must stay 0 (the soak's oracle checks it).

ALTER TABLE push.deliveries ADD COLUMN strikes integer NOT NULL DEFAULT 0;

ALTER TABLE push.devices
    ADD COLUMN session_at   timestamptz,   -- the current session announced itself
    ADD COLUMN probe_token  bigint,        -- the ping in flight (its IQ id: xq.<id>.<token>)
    ADD COLUMN probe_at     timestamptz,   -- when it was sent
    ADD COLUMN probe_until  timestamptz,   -- answer awaited until (NULL: no probe running)
    ADD COLUMN probe_owner  text,          -- the instance that sent it (forgets it on restart)
    ADD COLUMN silent_since timestamptz;   -- offline because a probe went unanswered

CREATE INDEX devices_probing ON push.devices (probe_until) WHERE probe_until IS NOT NULL;
CREATE INDEX devices_silent ON push.devices (probe_at) WHERE silent_since IS NOT NULL;
-- What a new session of a device brings back (failed by strikes).
CREATE INDEX deliveries_struck ON push.deliveries (device_id) WHERE state = 'failed' AND strikes > 0;

-- Rows a live session failed before this migration stay failed; rows stranded by the old
-- attempt limit (queued with attempts >= max_attempts) are claimable again as they are.

CREATE OR REPLACE VIEW push.queue_health AS
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
    (SELECT count(*) FROM push.devices WHERE unregistered_at IS NULL) AS devices_registered,
    -- No dead ends: an online device with nothing in flight and no probe running claims its
    -- due, unexpired queued rows within a scan; one still waiting after a minute is a defect.
    (SELECT count(*) FROM push.deliveries d
       JOIN push.devices v ON v.id = d.device_id
       JOIN push.notifications n ON n.id = d.notification_id
      WHERE d.state = 'queued'
        AND greatest(d.updated_at, v.last_seen) < now() - interval '1 minute'
        AND v.online AND v.full_jid IS NOT NULL AND v.unregistered_at IS NULL
        AND v.probe_until IS NULL
        AND NOT EXISTS (SELECT 1 FROM push.deliveries s
                        WHERE s.device_id = v.id AND s.state = 'sent')
        AND (n.not_before IS NULL OR n.not_before <= now())
        AND CASE WHEN n.ttl_seconds = 0 THEN d.attempts = 0
            ELSE push.expiry(n.created_at, n.ttl_seconds, n.expires_at) > now() END) AS stuck,
    (SELECT count(*) FROM push.devices WHERE silent_since IS NOT NULL) AS devices_silent;
