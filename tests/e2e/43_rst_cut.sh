#!/usr/bin/env bash
# (43) Abrupt ends: a RST, a stanza cut in half followed by a RST, and a stanza cut in half
# followed by silence (the device's ack is the one cut: only the heartbeat deadline notices).
# Each time the device reconnects, resumes its XEP-0198 session, does not crash, and every
# push is acked and displayed exactly once (a copy redelivered by the server is acked, not
# shown again).
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "$0")/lib.sh"
# shellcheck source-path=SCRIPTDIR source=hb_lib.sh
source "$(dirname "$0")/hb_lib.sh"
hb_own_prosody_only

prosody_start px 'modules_enabled = { "roster", "saslauth", "tls", "disco", "ping", "register", "smacks" }' \
	'network_settings = { read_timeout = 5 }' 'smacks_hibernation_time = 10'
create_test_db
prosody_user px finn
write_xpushd_config server_port="${PROSODY_COMP[px]}" ack_timeout_ms=3000 scan_interval_ms=1000 \
	reconnect_min_ms=100 reconnect_max_ms=1000
start_xpushd xpushd
await_xpushd_ready xpushd
relay_start rc "${PROSODY_C2S[px]}"
# shellcheck disable=SC2046
start_device phone finn phone-43 --port "${RELAY_PORT[rc]}" $(hb_set 400 4000 250 2 600) \
	--set heartbeat_adaptive=false --set heartbeat_ms=1000
await_device_online phone finn phone-43
all=()
push() { all+=("$(notify app="$T_APP" to_jid="${USER_JID[finn]}" title="$1" body="abrupt")"); }
conns_are() { (($(relay_accepted rc) >= $1)); }

push "before"
wait_for 10 "the first push acked" all_acked "${all[@]}"

# 1. RST both ways
relay rc rst last >/dev/null
push "after rst"
wait_for 10 "a new connection after the RST" conns_are 2
wait_for 15 "pushes acked after the RST" all_acked "${all[@]}"

# 2. the next chunk to the device (a push) cut in half, then RST
relay rc cut last down rst >/dev/null
push "cut then rst"
wait_for 10 "a new connection after the cut + RST" conns_are 3
wait_for 15 "pushes acked after the cut + RST" all_acked "${all[@]}"

# 3. the next chunk from the device (its ack of this push) cut in half, then silence
relay rc cut last up hang >/dev/null
push "cut then hang"
wait_for 10 "a new connection after the cut + silence" conns_are 4
wait_for 15 "pushes acked after the cut + silence" all_acked "${all[@]}"
push "at the end"
wait_for 10 "the last push acked" all_acked "${all[@]}"

all_once phone "${all[@]}"
proc_alive "$(pid_of phone)" || fail "the device exited (crash?)"
log "reconnects: $(event_count phone disconnected); duplicates acked but not shown: $(event_count phone duplicate); dead links: $(count_in "$T_DIR/phone.err" msg=dead_link)"

grep -q 'msg=dead_link' "$T_DIR/phone.err" || fail "the silent cut was not detected by the heartbeat deadline"
log "pass"
