#!/usr/bin/env bash
# (46) Server side: with the Prosody settings of docs/heartbeat.md (time-scaled: mod_smacks,
# network_settings.read_timeout R = 2 s > the device's max heartbeat + deadline = 1.3 s,
# smacks_hibernation_time H = 1 s) a healthy idle device is never dropped, and a device that
# goes silent (the relay drops its mapping; the process is stopped so it cannot come back) is
# declared unavailable to xpushd (push.devices.online = false) within 2 R + H when nothing is
# pending, and within R + H when a push is waiting for its ack (each + 1 s of Prosody timer
# granularity + 0.5 s). The pushes sent into the dead
# session are not lost: the device gets them once it is back.
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "$0")/lib.sh"
# shellcheck source-path=SCRIPTDIR source=hb_lib.sh
source "$(dirname "$0")/hb_lib.sh"
hb_own_prosody_only

# MARGIN: Prosody's hibernation watchdog counts whole seconds (up to 1 s late) + 0.5 s to
# reach xpushd and the database
R=2000 H=1000 MARGIN=1500
prosody_start px 'modules_enabled = { "roster", "saslauth", "tls", "disco", "ping", "register", "smacks" }' \
	"network_settings = { read_timeout = $((R / 1000)) }" "smacks_hibernation_time = $((H / 1000))"
create_test_db
prosody_user px iris
write_xpushd_config server_port="${PROSODY_COMP[px]}" ack_timeout_ms=3000 scan_interval_ms=1000 \
	reconnect_min_ms=100 reconnect_max_ms=1000
start_xpushd xpushd
await_xpushd_ready xpushd
relay_start sx "${PROSODY_C2S[px]}"
# shellcheck disable=SC2046
start_device phone iris phone-46 --port "${RELAY_PORT[sx]}" $(hb_set 400 4000 250 2 300) \
	--set heartbeat_adaptive=false --set heartbeat_ms=1000
await_device_online phone iris phone-46

# A. healthy and idle for 3 R: the server's read timeout never fires, nothing is dropped
sleep $((3 * R / 1000))
assert_eq 1 "$(relay_accepted sx)" "connections of a healthy idle device over 3 R"
assert_eq 0 "$(event_count phone disconnected)" "disconnects of a healthy idle device"
device_online iris phone-46 || fail "xpushd lost a healthy idle device"

online_n() { (($(event_count phone online) >= $1)); }
silence() {
	relay sx expire last >/dev/null
	kill -STOP "$(pid_of phone)"
	T_SILENT=$(now_ms)
}
wake() {
	kill -CONT "$(pid_of phone)"
	wait_for 15 "the device back online after it woke up" online_n "$1"
	wait_for 10 "xpushd to see it online" device_online iris phone-46
}

# B. silent with nothing pending: <r/> at R, kicked at 2 R, hibernation H, then unavailable
silence
wait_for 20 "xpushd to declare the silent device offline" device_offline iris phone-46
idle=$(($(now_ms) - T_SILENT))
log "silent idle device declared unavailable after $idle ms (bound 2R + H + margin = $((2 * R + H + MARGIN)) ms)"
((idle <= 2 * R + H + MARGIN)) || fail "offline after $idle ms, beyond 2R + H + margin"
wake 2

# C. silent with a push waiting for its ack: kicked at the first read timeout
silence
id=$(notify app="$T_APP" to_jid="${USER_JID[iris]}" title="into the void" body="sent to a dead session")
wait_for 20 "xpushd to declare the silent device offline (push pending)" device_offline iris phone-46
pend=$(($(now_ms) - T_SILENT))
log "silent device with a push pending declared unavailable after $pend ms (bound R + H + margin = $((R + H + MARGIN)) ms)"
((pend <= R + H + MARGIN)) || fail "offline after $pend ms, beyond R + H + margin"
assert_eq 0 "$(sql "SELECT count(*) FROM push.deliveries WHERE notification_id = $id AND state = 'acked'")" \
	"acks of the push while the device is away"
wake 3
wait_for 15 "the push sent into the dead session acked after the device came back" acked 1 "$id"
all_once phone "$id"
log "pass"
