#!/usr/bin/env bash
# (12) The XMPP server crashes (SIGKILL) with xpushd and a device connected; pushes inserted
# while it is down are delivered, once each, after it comes back: xpushd and the device
# reconnect on their own (short reconnect delays configured), nobody exits.
# Restarts the stack's shared server under test (Prosody: the lua process; ejabberd: its
# beam.smp; same config, spool and ports); the env file gets the new pid.
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "$0")/lib.sh"

create_test_db
new_user kate
write_xpushd_config reconnect_min_ms=100 reconnect_max_ms=1000
start_xpushd xpushd
await_xpushd_ready xpushd
start_device phone kate kate-phone --set reconnect_base_ms=100 --set reconnect_cap_ms=1000
await_device_online phone kate kate-phone

first=$(notify app="$T_APP" to_jid="${USER_JID[kate]}" title="before" body="server up")
wait_for 15 "notification $first acked" acked 1 "$first"

# The account must outlive the crash (ejabberd's mnesia writes it to disk within ~2 s).
wait_for 10 "kate's account on $XPUSH_SERVER's disk" stack_account_durable "${USER_JID[kate]%@*}"
stack_server_down KILL || fail "could not kill $XPUSH_SERVER"
log "$XPUSH_SERVER killed with SIGKILL"
wait_for 15 "the device to notice the lost connection" event_seen phone disconnected
ids=()
for i in 1 2; do
	ids+=("$(notify app="$T_APP" to_jid="${USER_JID[kate]}" title="while down $i" body="server down")")
done
log "inserted ${ids[*]} while $XPUSH_SERVER was down"

stack_server_up || fail "could not restart $XPUSH_SERVER"
log "$XPUSH_SERVER restarted"
await_xpushd_ready xpushd 2
for id in "${ids[@]}"; do
	wait_for 30 "notification $id acked after $XPUSH_SERVER came back" acked 1 "$id"
done
for id in "$first" "${ids[@]}"; do
	wait_for 5 "device to print notification $id" grep -qF "notification id=$id " "$T_DIR/phone.out"
	assert_eq 1 "$(count_in "$T_DIR/phone.out" "id=$id ")" "lines printed for notification $id"
done
proc_alive "$(pid_of xpushd)" || fail "xpushd exited"
proc_alive "$(pid_of phone)" || fail "the device exited"
(($(event_count phone connected) >= 2)) || fail "the device did not log a second event=connected"
log "pass"
