#!/usr/bin/env bash
# (73) Acks have a session of their own: they are recorded while the main session is blocked
# and its queue is full (max_db_queue). A producer's transaction holds an EXCLUSIVE lock on
# push.notifications (reads go on, fan-out waits), xpushd's main session waits behind it, an
# account fills the main queue with registrations until xpushd answers "max_db_queue"; then a
# device that had a push on the wire reads it and acks: the ack is recorded at once, not
# refused and left for a resend after the lock is gone.
# Then the acks session breaks while a batch is being handed to it (xpushd-faults,
# ack_send_fails): the batch is written again on the new session and every later ack is too.
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "$0")/lib.sh"

create_test_db
new_user ann
new_user flo
write_xpushd_config max_db_queue=100 ack_timeout_ms=60000 scan_interval_ms=60000 \
	rate_per_jid=100000 rate_burst=100000 max_devices_per_jid=1000
start_xpushd xpushd
await_xpushd_ready xpushd

scripted_device ann ann ann-phone --ack
wait_for 15 "ann's device online" device_online ann ann-phone

# The device stops reading; a push goes on the wire to it.
kill -STOP "${T_PIDS[ann]}"
p=$(notify app="$T_APP" to_jid="${USER_JID[ann]}" title="acked while the main session is busy")
wait_for 15 "push $p on the wire" sql_is sent "SELECT state FROM push.deliveries WHERE notification_id = $p"

# A producer's transaction locks push.notifications against writes for 30 s.
PGAPPNAME=xpush-test-locker "$XPUSH_PGBIN/psql" -X -q -h "$XPUSH_PGHOST" -p "$XPUSH_PGPORT" -U xpush -d "$T_DB" \
	-c "BEGIN; LOCK TABLE push.notifications IN EXCLUSIVE MODE; SELECT pg_sleep(30); COMMIT;" \
	>/dev/null 2>"$T_DIR/locker.err" </dev/null &
T_PIDS[locker]=$!
wait_for 10 "the producer's lock" sql_is 1 "SELECT count(*) FROM pg_locks l JOIN pg_class c ON c.oid = l.relation
	WHERE c.relname = 'notifications' AND l.mode = 'ExclusiveLock' AND l.granted"
# xpushd's main session runs into it (a rescan: fan-out locks due notifications).
kill -HUP "${T_PIDS[xpushd]}"
wait_for 10 "xpushd's main session waiting for the lock" sql_is 1 \
	"SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()
	 AND wait_event_type = 'Lock' AND application_name <> 'xpushd-acks' AND query LIKE '%fanout%'"

# Fill the main queue: registrations queue behind the fan-out until xpushd refuses them.
sends=()
for i in $(seq 1 130); do
	sends+=(--send "<iq type='set' id='f$i' to='$XPUSH_COMPONENT_JID'><register xmlns='urn:xpush:0' app='$T_APP' device='flo-$i'/></iq>")
done
out=$(python3 "$E2E_ROOT/tests/e2e/xmpp.py" --jid "${USER_JID[flo]}" --password-file "$T_DIR/flo.pass" \
	--port "$XPUSH_C2S_PORT" --ca-file "$XPUSH_CA_FILE" --resource flood "${sends[@]}" \
	--await-id f130 --timeout 15 </dev/null) || fail "no answer to the 130th registration"
[[ $out == *max_db_queue* ]] || fail "the main queue never filled: $(tail -n 1 <<<"$out")"
log "ok: the main queue is full (xpushd answers max_db_queue)"

# The device reads its push and acks: recorded while the lock still holds the main session.
kill -CONT "${T_PIDS[ann]}"
wait_for 10 "push $p acked while the main session is blocked" acked 1 "$p"
proc_alive "${T_PIDS[locker]}" || fail "the lock was released before the ack was recorded"
assert_eq "1|1" "$(sql "SELECT attempts, acks FROM push.deliveries WHERE notification_id = $p")" \
	"the push's row (attempts|acks)"
log_has xpushd "ack not recorded" && fail "xpushd dropped an ack"
# The lock ends with its backend (pg_sleep does not notice a client that went away).
sql "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'xpush-test-locker'" >/dev/null
wait_for 10 "the producer's lock to end" exited locker
reap locker
stop_proc ann
stop_proc xpushd

# ---- the acks session breaks while a batch is handed over ----------------------------------
new_user bea
write_xpushd_config ack_timeout_ms=60000 scan_interval_ms=60000 reconnect_min_ms=100 \
	reconnect_max_ms=500
start_xpushd_faults xpushd2 ack_send_fails:1
await_xpushd_ready xpushd2
scripted_device bea bea bea-phone --ack
wait_for 15 "bea's device online" device_online bea bea-phone
b1=$(notify app="$T_APP" to_jid="${USER_JID[bea]}" title="its ack batch fails on the way")
wait_for 15 "the injected failure" log_has xpushd2 "fault injected"
wait_for 15 "push $b1 acked: its batch written again on the new acks session" acked 1 "$b1"
log_has xpushd2 "acks not recorded: written again" || fail "xpushd did not keep the failed batch"
mapfile -t bs < <(notify_many 3 app="$T_APP" to_jid="${USER_JID[bea]}" title="later acks")
for id in "${bs[@]}"; do
	wait_for 15 "later push $id acked" acked 1 "$id"
done
assert_eq 4 "$(sql "SELECT count(*) FROM push.deliveries d JOIN push.devices v ON v.id = d.device_id
	WHERE v.device = 'bea-phone' AND d.state = 'acked' AND d.attempts = 1")" "bea's pushes acked at their first send"
log "pass"
