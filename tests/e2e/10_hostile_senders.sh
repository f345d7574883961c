#!/usr/bin/env bash
# (10) Other accounts cannot push or ack: a notification IQ sent to a device by another user
# (not the component) is refused and not displayed; a forged ack from another user for a
# pending delivery does not mark it acked (the real device still receives it and acks it once).
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "$0")/lib.sh"

create_test_db
new_user ivan
new_user judy
new_user mallory
write_xpushd_config
start_xpushd xpushd
await_xpushd_ready xpushd

# mallory: a scripted XMPP client (tests/e2e/xmpp.py) that sends raw stanzas.
mallory() {
	python3 "$(dirname "$0")/xmpp.py" --jid "${USER_JID[mallory]}" --password-file "$T_DIR/mallory.pass" \
		--port "$XPUSH_C2S_PORT" --ca-file "$XPUSH_CA_FILE" --resource evil "$@"
}

# 1. A forged notification straight to ivan's device.
start_device phone ivan ivan-phone
await_device_online phone ivan ivan-phone
full=$(sql "SELECT full_jid FROM push.devices WHERE jid = '${USER_JID[ivan]}' AND device = 'ivan-phone'")
[[ $full == "${USER_JID[ivan]}/"* ]] || fail "push.devices.full_jid is [$full], not a full JID of ${USER_JID[ivan]}"
mallory --send "<iq type='set' to='$full' id='forged1'><notification xmlns='urn:xpush:0' id='424242' app='$T_APP'><title>FORGED</title><body>from mallory</body></notification></iq>" \
	--await-id forged1 >"$T_DIR/mallory1.out" || fail "no reply to the forged notification (see $T_DIR/mallory1.out)"
cat "$T_DIR/mallory1.out" >&2
grep -F 'id="forged1"' "$T_DIR/mallory1.out" | grep -qF 'type="error"' ||
	fail "the device did not answer the forged notification with an IQ error"
id=$(notify app="$T_APP" to_jid="${USER_JID[ivan]}" to_device=ivan-phone title="genuine" body="from the component")
wait_for 15 "genuine notification $id acked" acked 1 "$id"
wait_for 5 "device to print notification $id" grep -qF "notification id=$id " "$T_DIR/phone.out"
assert_eq 0 "$(count_in "$T_DIR/phone.out" FORGED)" "lines displayed for the forged notification"
assert_eq 0 "$(event_count phone acked 424242)" "acks of the forged notification"
assert_eq 1 "$(wc -l <"$T_DIR/phone.out")" "lines on ivan's device"

# 2. A forged ack for a delivery pending to judy's (offline) device.
start_device tablet judy judy-tablet
await_device_online tablet judy judy-tablet
stop_proc tablet TERM
wait_for 10 "judy-tablet offline" device_offline judy judy-tablet
nid=$(notify app="$T_APP" to_jid="${USER_JID[judy]}" to_device=judy-tablet title="for judy" body="only judy may ack")
wait_for 15 "notification $nid fanned out" sql_is 1 "SELECT count(*) FROM push.deliveries WHERE notification_id = $nid"
drow=$(sql "SELECT device_id FROM push.deliveries WHERE notification_id = $nid")
mallory --send "<iq type='result' to='$XPUSH_COMPONENT_JID' id='xp.$nid.$drow'/>" \
	--send "<iq type='get' to='$XPUSH_COMPONENT_JID' id='ping1'><ping xmlns='urn:xmpp:ping'/></iq>" \
	--await-id ping1 >"$T_DIR/mallory2.out" || fail "the component did not answer mallory's ping"
state=$(sql "SELECT state || ' ' || acks FROM push.deliveries WHERE notification_id = $nid")
[[ $state != acked* && $state == *" 0" ]] || fail "a forged ack from mallory changed the ledger: $state"
start_device tablet judy judy-tablet
wait_for 20 "notification $nid acked by judy's device" acked 1 "$nid"
wait_for 5 "judy's device to print notification $nid" grep -qF "notification id=$nid " "$T_DIR/tablet.out"
assert_eq "acked 1" "$(delivery_rows "$nid")" "ledger row of notification $nid"
log "pass"
