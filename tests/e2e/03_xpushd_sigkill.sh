#!/usr/bin/env bash
# (3) xpushd killed with SIGKILL and restarted while the device stays online: pushes inserted
# while xpushd was down arrive without the device reconnecting.
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "$0")/lib.sh"

create_test_db
new_user carol
write_xpushd_config
start_xpushd xpushd
await_xpushd_ready xpushd
start_device phone carol phone-3
await_device_online phone carol phone-3

first=$(notify app="$T_APP" to_jid="${USER_JID[carol]}" title="before" body="xpushd is up")
wait_for 15 "notification $first acked" acked 1 "$first"

stop_proc xpushd KILL
log "xpushd killed with SIGKILL"
ids=()
for i in 1 2 3; do
	ids+=("$(notify app="$T_APP" to_jid="${USER_JID[carol]}" to_device=phone-3 \
		title="while down $i" body="inserted while xpushd was dead")")
done
log "inserted ${ids[*]} while xpushd was down"
assert_eq 0 "$(sql "SELECT count(*) FROM push.deliveries WHERE state = 'acked' AND notification_id IN (${ids[0]}, ${ids[1]}, ${ids[2]})")" \
	"acked rows among the pushes inserted while xpushd was down"

start_xpushd xpushd
await_xpushd_ready xpushd 2
for id in "${ids[@]}"; do
	wait_for 20 "notification $id acked after xpushd restarted" acked 1 "$id"
done
for id in "$first" "${ids[@]}"; do
	wait_for 5 "device to print notification $id" grep -qF "notification id=$id " "$T_DIR/phone.out"
	assert_eq 1 "$(count_in "$T_DIR/phone.out" "id=$id ")" "lines printed for notification $id"
done
proc_alive "$(pid_of phone)" || fail "the device exited"
assert_eq 1 "$(event_count phone connected)" "event=connected lines (the device must not reconnect)"
log "pass"
