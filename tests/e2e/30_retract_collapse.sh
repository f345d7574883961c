#!/usr/bin/env bash
# (30) Retract and collapse, end to end (docs/protocol.md "Retract", schema.md).
# - retract of an acked notification: the device prints `retract id=N` (seen=1) once, and the
#   ledger row's retract_state ends acked;
# - retract of a pending notification while the device is offline: the row ends retracted, no
#   retract is sent, and it is never displayed;
# - a late copy after its retract: the device acks it (ledger acked) but does not display it;
# - collapse: two notifications with one collapse key queued for an offline device: only the
#   newer is displayed (with collapse=KEY), the older's row is superseded.
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "$0")/lib.sh"

create_test_db
new_user ivy
write_xpushd_config
start_xpushd xpushd
await_xpushd_ready xpushd
start_device phone ivy ivy-phone
await_device_online phone ivy ivy-phone

to=(app="$T_APP" to_jid="${USER_JID[ivy]}" to_device=ivy-phone)
OUT=$T_DIR/phone.out

# lines LINE: how many stdout lines of the device are exactly LINE.
lines() {
	local n
	n=$(grep -cxF -- "$1" "$OUT" 2>/dev/null) || true
	echo "${n:-0}"
}
printed() {
	grep -qF "notification id=$1 " "$OUT"
}
row() {
	sql "SELECT state || ' ' || coalesce(retract_state, '-') FROM push.deliveries WHERE notification_id = $1"
}
row_is() {
	[[ $(row "$1") == "$2" ]]
}

# ---- retract of an acked (displayed) notification ---------------------------------------------
a=$(notify "${to[@]}" title="Shown, then withdrawn")
wait_for 15 "notification $a acked" acked 1 "$a"
wait_for 5 "device to print notification $a" printed "$a"
sql "SELECT push.retract($a)" >/dev/null
wait_for 15 "retract of $a acked in the ledger" row_is "$a" "acked acked"
wait_for 5 "device to print 'retract id=$a'" grep -qxF "retract id=$a" "$OUT"
assert_eq 1 "$(lines "retract id=$a")" "retract lines for $a"
grep -qE "event=retract id=$a seen=1( |$)" "$T_DIR/phone.err" ||
	fail "device did not log event=retract id=$a seen=1"
assert_eq 1 "$(event_count phone retract_acked "$a")" "event=retract_acked id=$a lines"

# ---- the device goes away; a pending notification is retracted --------------------------------
stop_proc phone TERM
wait_for 10 "device offline in push.devices" device_offline ivy ivy-phone
p=$(notify "${to[@]}" title="Never shown")
wait_for 15 "notification $p queued for the offline device" row_is "$p" "queued -"
sql "SELECT push.retract($p)" >/dev/null
assert_eq "retracted -" "$(row "$p")" "ledger row of $p after push.retract (no retract to send)"

# ---- collapse: two with the same key for the offline device -----------------------------------
c1=$(notify "${to[@]}" collapse_key=score title="1-0")
c2=$(notify "${to[@]}" collapse_key=score title="2-0")
wait_for 15 "notification $c1 superseded by $c2" row_is "$c1" "superseded -"
wait_for 15 "notification $c2 queued" row_is "$c2" "queued -"
assert_eq "superseded by notification $c2" \
	"$(sql "SELECT last_error FROM push.deliveries WHERE notification_id = $c1")" "last_error of $c1"

# ---- a late copy after its retract ------------------------------------------------------------
# The retract reaches the device first (as for a row that was on the wire when push.retract ran),
# then a copy of the notification arrives (a stale resend): acked, never displayed.
l=$(notify "${to[@]}" title="Late copy")
wait_for 15 "notification $l queued" row_is "$l" "queued -"
sql "SELECT push.retract($l)" >/dev/null
sql "UPDATE push.deliveries SET retract_state = 'queued' WHERE notification_id = $l" >/dev/null

start_device phone ivy ivy-phone
await_device_online phone ivy ivy-phone
wait_for 15 "notification $c2 acked" acked 1 "$c2"
wait_for 15 "retract of $l acked in the ledger" row_is "$l" "retracted acked"
wait_for 5 "device to print 'retract id=$l'" grep -qxF "retract id=$l" "$OUT"
grep -qE "event=retract id=$l seen=0( |$)" "$T_DIR/phone.err" ||
	fail "device did not log event=retract id=$l seen=0"

log "injecting a late copy of notification $l"
sql "UPDATE push.deliveries SET state = 'queued', lease_owner = NULL, lease_until = NULL WHERE notification_id = $l" >/dev/null
sql "SELECT pg_notify('xpush', '')" >/dev/null
wait_for 15 "late copy of $l acked" row_is "$l" "acked acked"
wait_for 5 "device to log event=duplicate id=$l" event_seen phone duplicate "$l"
grep -qE "event=duplicate id=$l retracted=1( |$)" "$T_DIR/phone.err" ||
	fail "device did not log event=duplicate id=$l retracted=1"

# A barrier: once it is printed, everything sent before it has been handled.
b=$(notify "${to[@]}" title="Barrier")
wait_for 15 "device to print notification $b" printed "$b"

assert_eq 0 "$(count_in "$OUT" "notification id=$p ")" "lines for the retracted pending $p"
assert_eq 0 "$(count_in "$OUT" "notification id=$l ")" "lines for the late copy $l"
assert_eq 0 "$(count_in "$OUT" "notification id=$c1 ")" "lines for the superseded $c1"
assert_eq 1 "$(count_in "$OUT" "notification id=$c2 ")" "lines for $c2"
line=$(grep -F "notification id=$c2 " "$OUT")
[[ $line == *'title="2-0"'* && $line == *' collapse=score' ]] ||
	fail "the collapsed notification's line lacks title=\"2-0\" or collapse=score: $line"
assert_eq 0 "$(lines "retract id=$p")" "retract lines for $p"
assert_eq 1 "$(lines "retract id=$l")" "retract lines for $l"
assert_eq "acked acked" "$(row "$a")" "ledger row of $a at the end"
assert_eq "retracted -" "$(row "$p")" "ledger row of $p at the end"
assert_eq "superseded -" "$(row "$c1")" "ledger row of $c1 at the end"
# a, c2, b displayed; two retract lines
assert_eq 5 "$(wc -l <"$OUT")" "lines on the device's stdout"
log "pass"
