#!/usr/bin/env bash
# (44) Two networks with different NAT timeouts (the relay: "cell" 1000 ms, "wifi" 2500 ms).
# The device learns cell, then the app reports a network change (xpush-client: SIGUSR1 with
# the key in --network-file, i.e. xpush_client_set_network()): it reconnects at once and
# starts learning wifi from the floor; back on cell it reconnects at once and uses cell's
# learned interval (no relearning, no dead link); back on wifi, wifi's. The table survives a
# restart of the device.
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "$0")/lib.sh"
# shellcheck source-path=SCRIPTDIR source=hb_lib.sh
source "$(dirname "$0")/hb_lib.sh"

create_test_db
new_user gus
write_xpushd_config ack_timeout_ms=1500 scan_interval_ms=1000
start_xpushd xpushd
await_xpushd_ready xpushd
relay_start net "$XPUSH_C2S_PORT"
relay net nat new 1000 >/dev/null
echo cell >"$T_DIR/network"
HB=$(hb_set 300 4000 200 1 300)
# shellcheck disable=SC2086
start_device phone gus phone-44 --port "${RELAY_PORT[net]}" --network-file "$T_DIR/network" $HB
await_device_online phone gus phone-44
grep -q 'msg=network network="cell" known=0 interval_ms=300' "$T_DIR/phone.err" ||
	fail "the device did not start learning cell at the floor"

# learn cell: 300, 500, 700, 900 answered, 1100 lost -> 900
_fell_back() { (($(count_re "$T_DIR/phone.err" "msg=interval network=\"$1\" change=fall_back") >= 1)); }
wait_for 20 "the learner to settle on cell" _fell_back cell
cell=$(learned_interval phone)
assert_eq 900 "$cell" "interval learned on cell (T=1000)"
_online_n() { (($(event_count phone online) >= $1)); }
wait_for 10 "online again after the overshoot" _online_n 2

# switch: wifi (T=2500, never seen: learning from the floor)
switch_to() {
	local key=$1 nat=$2 before
	before=$(relay_accepted net)
	relay net nat new "$nat" >/dev/null
	echo "$key" >"$T_DIR/network"
	T_SWITCH=$(now_ms)
	kill -USR1 "$(pid_of phone)"
	_more() { (($(relay_accepted net) > before)); }
	wait_for 5 "a new connection after switching to $key" _more
	local acc
	acc=$(relay_log_ms net "accept id=$((before + 1)) " | head -n 1)
	log "switched to $key: new connection $((acc - T_SWITCH)) ms after the signal"
	((acc - T_SWITCH < 1000)) || fail "switching to $key took $((acc - T_SWITCH)) ms (want: at once)"
}
switch_to wifi 2500
wait_for 5 "wifi selected" grep -q 'msg=network network="wifi" known=0 interval_ms=300' "$T_DIR/phone.err"
_wifi_up() { (($(learned_interval phone) >= 1100)) && grep -q 'network="wifi" change=step_up interval_ms=1100' "$T_DIR/phone.err"; }
wait_for 15 "wifi learning to pass cell's interval" _wifi_up
dead_before=$(count_in "$T_DIR/phone.err" msg=dead_link)

# back on cell: the learned 900, not the floor, and no dead link at 900 < 1000
switch_to cell 1000
wait_for 5 "cell selected again" grep -q 'msg=network network="cell" known=1 interval_ms=900 ' "$T_DIR/phone.err"
ids=()
for i in 1 2 3; do
	sleep 1.3 # idle past the interval: heartbeats at 900 ms keep the mapping
	ids+=("$(notify app="$T_APP" to_jid="${USER_JID[gus]}" title="cell $i" body="learned interval")")
done
for id in "${ids[@]}"; do
	wait_for 10 "notification $id acked" acked 1 "$id"
done
all_once phone "${ids[@]}"
assert_eq "$dead_before" "$(count_in "$T_DIR/phone.err" msg=dead_link)" "dead links on cell with the learned interval"

# back on wifi: what wifi had learned so far (not the floor)
switch_to wifi 2500
wifi=$(grep 'msg=network network="wifi" known=1' "$T_DIR/phone.err" | tail -n 1 | sed -n 's/.* interval_ms=\([0-9]*\).*/\1/p')
((${wifi:-0} >= 1100)) || fail "wifi resumed at ${wifi:-?} ms, not at what it had learned (>= 1100)"
log "wifi resumed at $wifi ms"

# the table outlives the process
stop_proc phone
n_on=$(event_count phone online)
grep -q "^cell	v1 900 " "$T_DIR/phone.state/heartbeat.tab" || fail "cell missing from heartbeat.tab"
grep -q "^wifi	v1 " "$T_DIR/phone.state/heartbeat.tab" || fail "wifi missing from heartbeat.tab"
echo cell >"$T_DIR/network"
# shellcheck disable=SC2086
start_device phone gus phone-44 --port "${RELAY_PORT[net]}" --network-file "$T_DIR/network" $HB
wait_for 10 "the restarted device to load cell's interval" \
	grep -q 'msg=network network="cell" known=1 interval_ms=900 ' "$T_DIR/phone.err"
wait_for 10 "the restarted device online" _online_n $((n_on + 1))
log "pass"
