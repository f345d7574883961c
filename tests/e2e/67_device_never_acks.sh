#!/usr/bin/env bash
# (67) Sessions that stay connected and never ack, beside a real device that receives 10 pushes
# of its own. Scripted sessions (tests/e2e/xmpp.py: log in, register, send the directed presence,
# print what they get):
#  - sam's session answers pings but never acks: it is demonstrably alive, so each unacked send
#    is a strike against the push. Its window fills (never more than device_window = 4 of its rows
#    in flight); each row is sent max_attempts (3) times, a probe (XEP-0199 ping, id xq.*) after
#    each lease runs out, and ends 'failed' with "no ack after 3 sends to a live session"; the
#    views count them;
#  - tom's session answers nothing (a phone whose radio died without a FIN): one send, one
#    unanswered probe, and the device goes silent (offline, rows back to 'queued', no strike, no
#    failure); nothing but another probe (every 4 x ack_timeout_ms) is sent into that session.
#    When tom comes back with a real device
#    (a new session, same install id), every push arrives, once;
#  - the other device is unaffected: all its pushes acked at the first attempt.
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

new_user tom
scripted_device silent sam sam-silent --answer-pings
wait_for 15 "the scripted device sam-silent online" device_online sam sam-silent
scripted_device mute tom tom-mute
wait_for 15 "the scripted device tom-mute online" device_online tom tom-mute
mapfile -t sids < <(notify_many 10 app="$T_APP" to_jid="${USER_JID[sam]}" title="unanswered")
mapfile -t rids < <(notify_many 10 app="$T_APP" to_jid="${USER_JID[rob]}" title="for rob")
mapfile -t tids < <(notify_many 4 app="$T_APP" to_jid="${USER_JID[tom]}" title="for tom")
expect tom-mute "${tids[@]}"
tlist=$(IFS=,; echo "${tids[*]}")
expect sam-silent "${sids[@]}"
expect rob-phone "${rids[@]}"
slist=$(IFS=,; echo "${sids[*]}")
rlist=$(IFS=,; echo "${rids[*]}")

MAXSEEN=0
# window_then EXPECTED QUERY: records a violation if the silent device ever has more than 4
# rows sent (every sent row fills a slot until it is acked or judged); true once QUERY prints
# EXPECTED (or on a violation).
window_then() {
	local inflight
	inflight=$(ledger_count "notification_id IN ($slist) AND state = 'sent'")
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
wait_for 60 "every silent row to end failed after 3 sends" \
	window_then 10 "SELECT count(*) FROM push.deliveries WHERE notification_id IN ($slist) AND state = 'failed'"
window_kept
log "largest window seen: $MAXSEEN rows in flight"
((MAXSEEN == 4)) || fail "the silent device's window never filled (largest seen: $MAXSEEN)"

assert_eq "failed|3|3|0|no ack after 3 sends to a live session|10" \
	"$(sql "SELECT state, attempts, strikes, acks, last_error, count(*) FROM push.deliveries
		WHERE notification_id IN ($slist) GROUP BY 1, 2, 3, 4, 5")" "silent device's ledger rows"
np=$(grep -c "id=\"xq\." "$T_DIR/silent.out" || true)
((np >= 3)) || fail "the live session was probed $np times, expected at least 3 (one per round)"
log "the live session answered $np probes"
# Each was on the wire three times.
for id in "${sids[@]}"; do
	n=$(grep -c "id=\"xp\.$id\." "$T_DIR/silent.out" || true)
	((n == 3)) || fail "notification $id reached the silent session $n times, not 3"
done
assert_eq "10" "$(sql "SELECT count(*) FROM push.notification_progress WHERE id IN ($slist) AND failed = 1 AND acked = 0")" \
	"push.notification_progress: failed = 1 for each silent push"
# tom's mute session: one send each, one probe, then silent: offline, queued, no strike.
wait_for 20 "tom's mute device silent" sql_is "f|t" \
	"SELECT online, silent_since IS NOT NULL FROM push.devices WHERE device = 'tom-mute'"
assert_eq "queued|1|0|4" "$(sql "SELECT state, attempts, strikes, count(*) FROM push.deliveries
	WHERE notification_id IN ($tlist) GROUP BY 1, 2, 3")" "the mute session's rows: back to queued, no strike"
log_has xpushd "devices silent: no answer to a probe" || fail "xpushd did not log the silent device"
# A silent session is probed again (every 4 x ack_timeout_ms), and only probed.
_reprobed() { (($(grep -c 'id="xq\.' "$T_DIR/mute.out") >= 2)); }
wait_for 15 "the silent session probed again" _reprobed
for id in "${tids[@]}"; do
	n=$(grep -c "id=\"xp\.$id\." "$T_DIR/mute.out" || true)
	((n == 1)) || fail "notification $id reached the mute session $n times, not once"
done
assert_eq "10|4|0|0|1" "$(sql "SELECT failed, queued, in_flight, stuck, devices_silent FROM push.queue_health")" \
	"push.queue_health failed, queued, in_flight, stuck, devices_silent"
# tom comes back: the old session ends, a real device with the same install id logs in.
stop_proc mute
start_device phone2 tom tom-mute
wait_for 20 "tom's pushes acked on his new session" sql_is 4 \
	"SELECT count(*) FROM push.deliveries WHERE notification_id IN ($tlist) AND state = 'acked'"
assert_eq "acked|2|0|4" "$(sql "SELECT state, attempts, strikes, count(*) FROM push.deliveries
	WHERE notification_id IN ($tlist) GROUP BY 1, 2, 3")" "tom's rows: acked on the second send, no strike"
assert_eq "acked|1|10" "$(sql "SELECT state, attempts, count(*) FROM push.deliveries
	WHERE notification_id IN ($rlist) GROUP BY 1, 2")" "the other device's rows: acked at the first attempt"
touch "$T_DIR/silent-display.out"
check_oracle rob-phone=phone sam-silent=silent-display tom-mute=phone2
[[ $ORACLE_COUNTS == *" expired=10 delivered=14" ]] || fail "oracle: expected expired(failed)=10 delivered=14, got $ORACLE_COUNTS"
log "pass"
