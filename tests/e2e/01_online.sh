#!/usr/bin/env bash
# (1) An online device gets an INSERTed push: it prints it exactly once with the right title
# and body, and the ledger row turns acked; xpushd then exits 0 on SIGTERM.
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "$0")/lib.sh"

create_test_db
new_user alice
write_xpushd_config
start_xpushd xpushd
await_xpushd_ready xpushd
start_device phone alice phone-1
await_device_online phone alice phone-1

id=$(notify app="$T_APP" to_jid="${USER_JID[alice]}" to_device=phone-1 \
	title="Goal!" body="2-1 in the 89th minute")
log "inserted notification $id"

wait_for 15 "notification $id acked in push.deliveries" acked 1 "$id"
wait_for 5 "device to print notification $id" grep -qF "notification id=$id " "$T_DIR/phone.out"

assert_eq "acked 1" "$(delivery_rows "$id")" "ledger row of notification $id"
assert_eq 1 "$(count_in "$T_DIR/phone.out" "id=$id ")" "lines printed for notification $id"
line=$(grep -F "notification id=$id " "$T_DIR/phone.out")
[[ $line == *"app=$T_APP"* ]] || fail "printed line lacks app=$T_APP: $line"
[[ $line == *'title="Goal!"'* ]] || fail "printed line lacks title=\"Goal!\": $line"
[[ $line == *'body="2-1 in the 89th minute"'* ]] || fail "printed line lacks the body: $line"
wait_for 5 "device to log event=acked id=$id" event_seen phone acked "$id"
assert_eq 1 "$(event_count phone acked "$id")" "event=acked id=$id lines from the device"
assert_eq 0 "$(event_count phone duplicate "$id")" "event=duplicate id=$id lines from the device"
assert_eq 1 "$(wc -l <"$T_DIR/phone.out")" "lines on the device's stdout"

stop_proc xpushd TERM
assert_eq 0 "$PROC_RC" "xpushd exit status on SIGTERM"
log "pass"
