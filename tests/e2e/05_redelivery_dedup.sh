#!/usr/bin/env bash
# (5) The same notification delivered twice is displayed once and acked twice: after the first
# ack we inject a redelivery (the row back to queued, as after a lost ack) and wake xpushd.
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "$0")/lib.sh"

create_test_db
new_user erin
write_xpushd_config
start_xpushd xpushd
await_xpushd_ready xpushd
start_device phone erin erin-phone
await_device_online phone erin erin-phone

id=$(notify app="$T_APP" to_jid="${USER_JID[erin]}" to_device=erin-phone title="Once" body="only once")
wait_for 15 "notification $id acked" acked 1 "$id"
assert_eq "acked 1" "$(delivery_rows "$id")" "ledger row after the first delivery"

log "injecting a redelivery of notification $id"
sql "UPDATE push.deliveries SET state = 'queued', lease_owner = NULL, lease_until = NULL, updated_at = now() WHERE notification_id = $id" >/dev/null
sql "SELECT pg_notify('xpush', '')" >/dev/null
wait_for 15 "second ack of notification $id (acks = 2)" \
	sql_is "acked 2" "SELECT state || ' ' || acks FROM push.deliveries WHERE notification_id = $id"
wait_for 5 "device to log event=duplicate id=$id" event_seen phone duplicate "$id"
assert_eq 1 "$(event_count phone duplicate "$id")" "event=duplicate id=$id lines"
assert_eq 1 "$(count_in "$T_DIR/phone.out" "id=$id ")" "lines printed for notification $id"
assert_eq 1 "$(wc -l <"$T_DIR/phone.out")" "lines on the device's stdout"
log "pass"
