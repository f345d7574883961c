#!/usr/bin/env bash
# (4) Two devices of one JID (two xpush-client processes, same account, different --device and
# state dirs) both get a push addressed to the bare JID; each displays it once; two acked rows.
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "$0")/lib.sh"

create_test_db
new_user dave
write_xpushd_config
start_xpushd xpushd
await_xpushd_ready xpushd
start_device phone dave dave-phone
start_device tablet dave dave-tablet
await_device_online phone dave dave-phone
await_device_online tablet dave dave-tablet

id=$(notify app="$T_APP" to_jid="${USER_JID[dave]}" title="Both" body="to every device of dave")
log "inserted notification $id for ${USER_JID[dave]} (no to_device)"
wait_for 15 "two acked ledger rows for notification $id" acked 2 "$id"
assert_eq "acked 1
acked 1" "$(delivery_rows "$id")" "ledger rows of notification $id"
for d in phone tablet; do
	wait_for 5 "device $d to print notification $id" grep -qF "notification id=$id " "$T_DIR/$d.out"
	assert_eq 1 "$(count_in "$T_DIR/$d.out" "id=$id ")" "lines printed by $d for notification $id"
done
assert_eq "dave-phone dave-tablet" \
	"$(sql "SELECT string_agg(d.device, ' ' ORDER BY d.device) FROM push.deliveries x JOIN push.devices d ON d.id = x.device_id WHERE x.notification_id = $id")" \
	"devices in the ledger for notification $id"
log "pass"
