#!/usr/bin/env bash
# (2) A device registered earlier but offline (it ran once, registered, then stopped) gets a
# push that was inserted while it was offline as soon as it logs in again.
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "$0")/lib.sh"

create_test_db
new_user bob
write_xpushd_config
start_xpushd xpushd
await_xpushd_ready xpushd

start_device phone bob tablet-7
await_device_online phone bob tablet-7
stop_proc phone TERM
wait_for 10 "the roster to mark bob/tablet-7 offline after the device stopped" \
	device_offline bob tablet-7

id=$(notify app="$T_APP" to_jid="${USER_JID[bob]}" to_device=tablet-7 \
	title="While you were away" body="offline delivery")
log "inserted notification $id while the device is offline"
wait_for 15 "xpushd to fan notification $id out into the ledger" \
	sql_is 1 "SELECT count(*) FROM push.deliveries WHERE notification_id = $id"
state=$(sql "SELECT state FROM push.deliveries WHERE notification_id = $id")
[[ $state != acked ]] || fail "notification $id is acked although the device is offline"
assert_eq 0 "$(count_in "$T_DIR/phone.out" "id=$id ")" "lines printed while offline"

start_device phone bob tablet-7
wait_for 20 "notification $id acked after the device logged in again" acked 1 "$id"
wait_for 5 "device to print notification $id" grep -qF "notification id=$id " "$T_DIR/phone.out"
assert_eq 1 "$(count_in "$T_DIR/phone.out" "id=$id ")" "lines printed for notification $id"
line=$(grep -F "notification id=$id " "$T_DIR/phone.out")
[[ $line == *'title="While you were away"'* && $line == *'body="offline delivery"'* ]] ||
	fail "printed line has the wrong title/body: $line"
assert_eq 1 "$(sql "SELECT count(*) FROM push.devices WHERE jid = '${USER_JID[bob]}'")" \
	"roster rows for bob (re-login must not register a second device)"
log "pass"
