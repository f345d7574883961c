#!/usr/bin/env bash
# (41) A carrier NAT that silently forgets a mapping idle for T = 1500 ms (the relay): the
# adaptive heartbeat (time-scaled: min 400 ms, step 250 ms) learns an interval in [0.8 T, T),
# persists it, and from then on the link survives: pushes at random times all arrive, once,
# without another reconnect. A device with a fixed interval above T (2000 ms) loses its
# mapping at every idle period: each push still arrives, after detection and reconnect
# (a fresh session: the stack's Prosody has no stream management; xpushd redelivers).
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "$0")/lib.sh"
# shellcheck source-path=SCRIPTDIR source=hb_lib.sh
source "$(dirname "$0")/hb_lib.sh"

T=1500
create_test_db
new_user dana
write_xpushd_config ack_timeout_ms=1500 scan_interval_ms=1000
start_xpushd xpushd
await_xpushd_ready xpushd
relay_start nat "$XPUSH_C2S_PORT"
relay nat nat new "$T" >/dev/null

# ---- adaptive: learn, then hold ----
# shellcheck disable=SC2046
start_device phone dana phone-41 --port "${RELAY_PORT[nat]}" --network cell:test $(hb_set 400 4000 250 2 300)
await_device_online phone dana phone-41
t_start=$(now_ms)
_settled() { grep -q 'topic=heartbeat msg=interval .*change=fall_back' "$T_DIR/phone.err"; }
wait_for 40 "the learner to overshoot T once and fall back" _settled
learned=$(learned_interval phone)
log "learned interval ${learned} ms after $(($(now_ms) - t_start)) ms (T=$T)"
((learned >= T * 8 / 10 && learned < T)) || fail "learned interval $learned not in [0.8 T, T) = [$((T * 8 / 10)), $T)"
# the overshoot cost exactly one dead link (detected by the heartbeat deadline)
assert_eq 1 "$(count_in "$T_DIR/phone.err" 'msg=dead_link')" "dead links while learning"
_online_again() { (($(event_count phone online) >= 2)); }
wait_for 10 "the device online again after the dead link" _online_again
conns=$(relay_accepted nat)
assert_eq 2 "$conns" "relay connections after learning (one reconnect)"
grep -q "^cell:test	v1 $learned " "$T_DIR/phone.state/heartbeat.tab" ||
	fail "heartbeat.tab does not hold the learned $learned for cell:test: $(cat "$T_DIR/phone.state/heartbeat.tab")"

# steady state: pushes at random moments over several intervals, nothing lost, no reconnect
ids=()
for i in 1 2 3 4 5 6; do
	sleep "0.$((RANDOM % 9 + 1))$((RANDOM % 10))"
	ids+=("$(notify app="$T_APP" to_jid="${USER_JID[dana]}" title="steady $i" body="adaptive")")
done
sleep 2 # idle well past T: heartbeats must keep the mapping
ids+=("$(notify app="$T_APP" to_jid="${USER_JID[dana]}" title="after idle" body="adaptive")")
for id in "${ids[@]}"; do
	wait_for 10 "notification $id acked" acked 1 "$id"
done
all_once phone "${ids[@]}"
assert_eq 2 "$(relay_accepted nat)" "relay connections after settling (no reconnect while holding)"
assert_eq 1 "$(count_in "$T_DIR/phone.err" 'msg=dead_link')" "dead links after settling"
expired=$(relay nat list | grep -c 'state=expired' || true)
log "relay: $(relay nat stats | tail -n 1); expired mappings $expired"
stop_proc phone

# ---- fixed interval above T: every idle period kills the mapping ----
# shellcheck disable=SC2046
start_device fixed dana fixed-41 --port "${RELAY_PORT[nat]}" $(hb_set 400 4000 250 2 300) \
	--set heartbeat_adaptive=false --set heartbeat_ms=2000
await_device_online fixed dana fixed-41
fids=()
for i in 1 2 3 4; do
	sleep 2.2 # idle past T: the mapping is gone before this push
	fids+=("$(notify app="$T_APP" to_jid="${USER_JID[dana]}" to_device=fixed-41 title="fixed $i" body="above T")")
done
for id in "${fids[@]}"; do
	wait_for 15 "notification $id acked despite the dead mappings" acked 1 "$id"
done
all_once fixed "${fids[@]}"
dead=$(count_in "$T_DIR/fixed.err" 'msg=dead_link')
log "fixed 2000 ms > T: $dead dead links detected, $(count_in "$T_DIR/fixed.err" 'event=online') sessions"
((dead >= 2)) || fail "expected the fixed interval above T to lose its mapping repeatedly (dead links: $dead)"
proc_alive "$(pid_of fixed)" || fail "the fixed-interval device exited"
log "pass"
