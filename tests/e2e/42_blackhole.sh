#!/usr/bin/env bash
# (42) A radio dead zone (the relay stops forwarding; bytes wait and then arrive, as TCP
# retransmits them). Shorter than the heartbeat deadline (400 ms < 600 ms): no reconnect,
# nothing lost. Longer (4 s): the dead link is noticed within interval + deadline (1000 +
# 600 ms), the device reconnects at once and resumes its stream-management session
# (XEP-0198, Prosody mod_smacks): the pushes sent into the dead zone arrive once.
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "$0")/lib.sh"
# shellcheck source-path=SCRIPTDIR source=hb_lib.sh
source "$(dirname "$0")/hb_lib.sh"
hb_own_prosody_only

prosody_start px 'modules_enabled = { "roster", "saslauth", "tls", "disco", "ping", "register", "smacks" }' \
	'network_settings = { read_timeout = 5 }' 'smacks_hibernation_time = 10'
create_test_db
prosody_user px erin
write_xpushd_config server_port="${PROSODY_COMP[px]}" ack_timeout_ms=3000 scan_interval_ms=1000 \
	reconnect_min_ms=100 reconnect_max_ms=1000
start_xpushd xpushd
await_xpushd_ready xpushd
relay_start bh "${PROSODY_C2S[px]}"
# shellcheck disable=SC2046
start_device phone erin phone-42 --port "${RELAY_PORT[bh]}" $(hb_set 400 4000 250 2 600) \
	--set heartbeat_adaptive=false --set heartbeat_ms=1000
await_device_online phone erin phone-42
jid1=$(grep -m1 'event=online' "$T_DIR/phone.err" | sed -n 's/.* jid=\([^ ]*\).*/\1/p')

# ---- short dead zones: shorter than the deadline, never a reconnect ----
ids=()
for i in 1 2 3 4 5 6; do
	relay bh blackhole all 400 >/dev/null
	ids+=("$(notify app="$T_APP" to_jid="${USER_JID[erin]}" title="short $i" body="dead zone < deadline")")
	sleep "0.$((RANDOM % 5 + 5))"
done
for id in "${ids[@]}"; do
	wait_for 10 "notification $id acked" acked 1 "$id"
done
all_once phone "${ids[@]}"
assert_eq 1 "$(relay_accepted bh)" "relay connections after 6 short dead zones"
assert_eq 0 "$(event_count phone disconnected)" "disconnects after short dead zones"

# ---- a long dead zone: detected within interval + deadline, resumed, nothing lost ----
t_bh=$(now_ms)
relay bh blackhole all 4000 >/dev/null
lids=()
for i in 1 2; do
	lids+=("$(notify app="$T_APP" to_jid="${USER_JID[erin]}" title="long $i" body="dead zone > deadline")")
done
_two() { (($(relay_accepted bh) >= 2)); }
wait_for 10 "the device to reconnect after the long dead zone" _two
t_acc=$(relay_log_ms bh 'accept id=2 ' | head -n 1)
det=$((t_acc - t_bh))
log "long dead zone: new connection $det ms after it began (bound: interval 1000 + deadline 600 + reconnect 200 + 400 slack)"
((det <= 2200)) || fail "dead link noticed after $det ms, more than interval + deadline + reconnect (2200 ms)"
((det >= 600)) || fail "reconnected after only $det ms: before the deadline could have passed"
for id in "${lids[@]}"; do
	wait_for 15 "notification $id acked after the long dead zone" acked 1 "$id"
done
all_once phone "${ids[@]}" "${lids[@]}"
_online2() { (($(event_count phone online) >= 2)); }
wait_for 10 "event=online after the reconnect" _online2
jid2=$(grep 'event=online' "$T_DIR/phone.err" | tail -n 1 | sed -n 's/.* jid=\([^ ]*\).*/\1/p')
if [[ $jid1 == "$jid2" ]]; then
	log "stream management: the session was resumed ($jid2)"
else
	fail "the session was not resumed: $jid1 then $jid2 (mod_smacks is on)"
fi
grep -q 'msg=dead_link' "$T_DIR/phone.err" || fail "no dead_link line: the reconnect had another cause"
proc_alive "$(pid_of phone)" || fail "the device exited"
log "pass"
