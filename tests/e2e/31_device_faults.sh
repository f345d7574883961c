#!/usr/bin/env bash
# (31) The device crashes (fault test 6), with xpush-client-faults (devfault.h):
# - XPUSH_FAULT=after_receive / after_record / after_display SIGKILLs the device at that point
#   of its first notification; restarted on the same state dir it ends with the notification
#   displayed exactly once and acked in the ledger (after_display: printed before the crash,
#   then redelivered and acked as a duplicate; after_record: redelivered and displayed, marked
#   redisplay because the pending record was there);
# - XPUSH_FAULT=drop_ack:1 loses the first ack: xpushd resends after ack_timeout_ms, the device
#   acks the duplicate; the ledger says attempts=2, acks>=1, and it was displayed once.
# The oracle (oracle.py) then classifies every notification: lost=0, displayed_twice=0.
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "$0")/lib.sh"

FAULTS_BIN=$XPUSH_BUILD/cli/xpush-client-faults
need_bin "$FAULTS_BIN"
PLAIN_BIN=$XPUSH_CLIENT

create_test_db
new_user kim
# Short ack timeout so a lost ack is resent quickly; attempts are counted, so keep the limit
# far away from what a slow machine could reach.
write_xpushd_config ack_timeout_ms=500 max_attempts=50
start_xpushd xpushd
await_xpushd_ready xpushd

: >"$T_DIR/expected"
oracle_args=()

# start_faulty NAME DEVICE FAULT: the fault-point build with XPUSH_FAULT=FAULT.
start_faulty() {
	XPUSH_CLIENT=$FAULTS_BIN
	export XPUSH_FAULT=$3
	start_device "$1" kim "$2"
	unset XPUSH_FAULT
	XPUSH_CLIENT=$PLAIN_BIN
}

ledger() {
	sql "SELECT state || ' attempts=' || attempts || ' acks=' || acks FROM push.deliveries WHERE notification_id = $1"
}

for point in after_receive after_record after_display; do
	name=dev_$point device=dev-$point
	start_faulty "$name" "$device" "$point"
	await_device_online "$name" kim "$device"
	id=$(notify app="$T_APP" to_jid="${USER_JID[kim]}" to_device="$device" title="fault $point")
	echo "$id $device" >>"$T_DIR/expected"
	oracle_args+=("$device=$T_DIR/$name.out")
	log "notification $id for $device (XPUSH_FAULT=$point)"
	wait_for 15 "$name to die at $point" exited "$name"
	reap "$name"
	assert_eq 137 "$PROC_RC" "$name exit status (SIGKILL)"
	grep -q "msg=fault_point_reached point=$point hit=1" "$T_DIR/$name.err" ||
		fail "$name did not log the fault point $point"
	acked 1 "$id" && fail "notification $id is acked although $name died before acking"
	case $point in
	after_display) want_before=1 ;;
	*) want_before=0 ;;
	esac
	assert_eq "$want_before" "$(count_in "$T_DIR/$name.out" "notification id=$id ")" \
		"lines printed for $id before the crash at $point"

	start_device "$name" kim "$device"
	await_device_online "$name" kim "$device"
	wait_for 15 "notification $id acked after $name restarted" acked 1 "$id"
	wait_for 5 "$name to log event=acked id=$id" event_seen "$name" acked "$id"
	assert_eq 1 "$(count_in "$T_DIR/$name.out" "notification id=$id ")" \
		"lines printed for $id in all (fault $point)"
	case $point in
	after_display)
		assert_eq 1 "$(event_count "$name" duplicate "$id")" "event=duplicate id=$id after the restart"
		;;
	after_record)
		assert_eq 0 "$(event_count "$name" duplicate "$id")" "event=duplicate id=$id"
		assert_eq 1 "$(event_count "$name" redisplay "$id")" "event=redisplay id=$id (pending record found)"
		;;
	*)
		assert_eq 0 "$(event_count "$name" duplicate "$id")" "event=duplicate id=$id"
		assert_eq 0 "$(event_count "$name" redisplay "$id")" "event=redisplay id=$id"
		;;
	esac
	[[ $(ledger "$id") =~ ^acked\ attempts=([0-9]+)\ acks=([0-9]+)$ ]] ||
		fail "ledger row of $id: $(ledger "$id")"
	((BASH_REMATCH[1] >= 2)) || fail "ledger row of $id: want attempts >= 2 (sent before and after the crash): $(ledger "$id")"
	log "ok: $point: $(ledger "$id")"
	stop_proc "$name" TERM
done

# ---- one ack dropped on the way back ----------------------------------------------------------
start_faulty dev_drop dev-drop drop_ack:1
await_device_online dev_drop kim dev-drop
id=$(notify app="$T_APP" to_jid="${USER_JID[kim]}" to_device=dev-drop title="lost ack")
echo "$id dev-drop" >>"$T_DIR/expected"
oracle_args+=("dev-drop=$T_DIR/dev_drop.out")
wait_for 15 "notification $id acked after the resend" acked 1 "$id"
wait_for 5 "dev_drop to log event=duplicate id=$id" event_seen dev_drop duplicate "$id"
grep -q "msg=fault_point_reached point=drop_ack hit=1" "$T_DIR/dev_drop.err" ||
	fail "dev_drop did not log the dropped ack"
[[ $(ledger "$id") =~ ^acked\ attempts=2\ acks=([0-9]+)$ ]] ||
	fail "ledger row of $id: want acked attempts=2: $(ledger "$id")"
((BASH_REMATCH[1] >= 1)) || fail "ledger row of $id: want acks >= 1: $(ledger "$id")"
log "ok: drop_ack: $(ledger "$id")"
assert_eq 1 "$(count_in "$T_DIR/dev_drop.out" "notification id=$id ")" "lines printed for $id (drop_ack)"
proc_alive "$(pid_of dev_drop)" || fail "dev_drop exited (drop_ack is not fatal)"

# ---- the oracle over everything sent ----------------------------------------------------------
sql "SELECT l.notification_id || ' ' || d.device || ' ' || l.state FROM push.deliveries l JOIN push.devices d ON d.id = l.device_id" >"$T_DIR/ledger"
python3 "$E2E_ROOT/tests/e2e/oracle.py" --expected "$T_DIR/expected" --ledger "$T_DIR/ledger" \
	"${oracle_args[@]}" >"$T_DIR/oracle.out" || fail "oracle: $(cat "$T_DIR/oracle.out")"
log "oracle: $(head -n 1 "$T_DIR/oracle.out")"
assert_eq "lost=0 displayed_twice=0 unexpected=0 expired=0 delivered=4" "$(head -n 1 "$T_DIR/oracle.out")" "oracle counts"
log "pass"
