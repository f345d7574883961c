#!/usr/bin/env bash
# (67) Fault test 9 (issue 3): a device that stays connected but never acks. A scripted session
# (tests/e2e/xmpp.py: logs in, registers, sends its directed presence, prints what it gets and
# answers nothing) receives 10 pushes beside a real device that receives 10 of its own.
# (xpush-client-faults' drop_ack drops one chosen ack, not every ack: a session that never
# acks is the scripted one.)
#  - its window fills: never more than device_window (4) of its rows in flight at once;
#  - the other device is unaffected: all its pushes acked while the silent one still waits;
#  - each silent row is sent max_attempts (3) times, one ack_timeout_ms (700 ms) apart, then
#    ends 'failed' with the reason "no ack after 3 attempts"; the views count them.
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "$0")/lib.sh"

create_test_db
new_user sam
new_user rob
write_xpushd_config device_window=4 max_attempts=3 ack_timeout_ms=700 scan_interval_ms=500
start_xpushd xpushd
await_xpushd_ready xpushd
start_device phone rob rob-phone
await_device_online phone rob rob-phone

python3 "$E2E_ROOT/tests/e2e/xmpp.py" --jid "${USER_JID[sam]}" --password-file "$T_DIR/sam.pass" \
	--port "$XPUSH_C2S_PORT" --ca-file "$XPUSH_CA_FILE" --resource silent \
	--send "<iq type='set' id='r1' to='$XPUSH_COMPONENT_JID'><register xmlns='urn:xpush:0' app='$T_APP' device='sam-silent'/></iq>" \
	--send "<presence to='$XPUSH_COMPONENT_JID'><device xmlns='urn:xpush:0' app='$T_APP' device='sam-silent'/></presence>" \
	--await-id never --timeout 90 >"$T_DIR/silent.out" 2>"$T_DIR/silent.err" </dev/null &
T_PIDS[silent]=$!
wait_for 15 "the silent device online" device_online sam sam-silent

mapfile -t sids < <(notify_many 10 app="$T_APP" to_jid="${USER_JID[sam]}" title="unanswered")
mapfile -t rids < <(notify_many 10 app="$T_APP" to_jid="${USER_JID[rob]}" title="for rob")
expect sam-silent "${sids[@]}"
expect rob-phone "${rids[@]}"
slist=$(IFS=,; echo "${sids[*]}")
rlist=$(IFS=,; echo "${rids[*]}")

MAXSEEN=0
# window_then EXPECTED QUERY: records a violation if the silent device ever has more than 4
# rows in flight (sent under a live lease: a row whose last lease ran out waits only for the
# sweep to mark it failed); true once QUERY prints EXPECTED (or on a violation).
window_then() {
	local inflight
	inflight=$(ledger_count "notification_id IN ($slist) AND state = 'sent' AND lease_until >= now()")
	((inflight > MAXSEEN)) && MAXSEEN=$inflight
	if ((inflight > 4)); then
		echo "the silent device had $inflight rows in flight (device_window=4)" >"$T_DIR/window_violation"
		return 0
	fi
	sql_is "$1" "$2"
}
window_kept() {
	[[ ! -s $T_DIR/window_violation ]] || fail "$(cat "$T_DIR/window_violation")"
}
wait_for 15 "the other device's pushes all acked" \
	window_then 10 "SELECT count(*) FROM push.deliveries WHERE notification_id IN ($rlist) AND state = 'acked'"
window_kept
left=$(ledger_count "notification_id IN ($slist) AND state IN ('queued', 'sent')")
log "rob's 10 acked while $left of the silent device's rows are still queued or sent"
((left > 0)) || fail "the silent device's rows ended before the other device was served"
wait_for 40 "every silent row to end failed after 3 attempts" \
	window_then 10 "SELECT count(*) FROM push.deliveries WHERE notification_id IN ($slist) AND state = 'failed'"
window_kept
log "largest window seen: $MAXSEEN rows in flight"
((MAXSEEN == 4)) || fail "the silent device's window never filled (largest seen: $MAXSEEN)"

assert_eq "failed|3|0|no ack after 3 attempts|10" \
	"$(sql "SELECT state, attempts, acks, last_error, count(*) FROM push.deliveries
		WHERE notification_id IN ($slist) GROUP BY 1, 2, 3, 4")" "silent device's ledger rows"
# Each was on the wire three times.
for id in "${sids[@]}"; do
	n=$(grep -c "id=\"xp\.$id\." "$T_DIR/silent.out" || true)
	((n == 3)) || fail "notification $id reached the silent session $n times, not 3"
done
assert_eq "10" "$(sql "SELECT count(*) FROM push.notification_progress WHERE id IN ($slist) AND failed = 1 AND acked = 0")" \
	"push.notification_progress: failed = 1 for each silent push"
assert_eq "10|0|0" "$(sql "SELECT failed, queued, in_flight FROM push.queue_health")" \
	"push.queue_health failed, queued, in_flight"
assert_eq "acked|1|10" "$(sql "SELECT state, attempts, count(*) FROM push.deliveries
	WHERE notification_id IN ($rlist) GROUP BY 1, 2")" "the other device's rows: acked at the first attempt"
touch "$T_DIR/silent-display.out"
check_oracle rob-phone=phone sam-silent=silent-display
[[ $ORACLE_COUNTS == *" expired=10 delivered=10" ]] || fail "oracle: expected expired(failed)=10 delivered=10, got $ORACLE_COUNTS"
log "pass"
