#!/usr/bin/env bash
# (60) Fault test 1: xpushd-faults is SIGKILLed at each of its crash points while it
# delivers a batch of pushes to an online device, then restarted with the same instance_id:
#   after_fanout_sent  rows fanned out straight to 'sent' in SQL, nothing on the wire
#   after_claim        rows claimed ('sent' in SQL) but nothing on the wire
#   after_send         some notifications on the wire, their acks not yet seen
#   before_ack_commit  the device acked, the ledger was not yet told
#   after_ack_commit   the ack committed, the process dies right after
# After each restart the rows the dead instance had on the wire are requeued (its reclaim: same
# instance_id), every push ends acked, and the device displays each once (redeliveries are
# acked as duplicates). The oracle ends with lost=0 displayed_twice=0.
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "$0")/lib.sh"

N=24   # per crash point; with device_window=8, a batch needs several claims
create_test_db
new_user olga
write_xpushd_config device_window=8 reconnect_min_ms=100 reconnect_max_ms=500
start_device phone olga olga-phone --set reconnect_base_ms=100 --set reconnect_cap_ms=1000
ready=0   # 'component ready' lines so far in xpushd.log (one log for every run)

in_list() { local IFS=,; echo "$*"; }
no_xpushd_backend() {
	sql_is 0 "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()
		AND backend_type = 'client backend' AND application_name <> 'psql' AND pid <> pg_backend_pid()"
}
# dups_in ID...: how many of these ids the device logged as event=duplicate.
dups_in() {
	local id n=0
	for id in "$@"; do
		(($(event_count phone duplicate "$id") > 0)) && n=$((n + 1))
	done
	echo "$n"
}

for point in after_fanout_sent:1 after_claim:1 after_send:5 before_ack_commit:5 after_ack_commit:5; do
	name=${point%%:*}
	log "---- crash point $point"
	start_xpushd_faults xpushd "$point"
	ready=$((ready + 1))
	await_xpushd_ready xpushd "$ready"
	await_device_online phone olga olga-phone

	mapfile -t ids < <(notify_many "$N" app="$T_APP" to_jid="${USER_JID[olga]}" to_device=olga-phone \
		title="$name")
	((${#ids[@]} == N)) || fail "inserted ${#ids[@]} of $N notifications"
	expect olga-phone "${ids[@]}"
	list=$(in_list "${ids[@]}")

	wait_for 30 "xpushd-faults to die at $point" exited xpushd
	reap xpushd
	# A query it had already sent may still commit in its backend: count once that is gone.
	wait_for 15 "the dead instance's Postgres session to end" no_xpushd_backend
	log_has xpushd "fault point reached: SIGKILL\" point=$name" ||
		fail "xpushd died, but not at the crash point $name (see $T_DIR/xpushd.log)"
	sent=$(ledger_count "notification_id IN ($list) AND state = 'sent' AND lease_owner = '$T_UID'")
	acked_at_kill=$(ledger_count "notification_id IN ($list) AND state = 'acked'")
	log "killed at $point: $sent rows sent (leased by $T_UID), $acked_at_kill acked"
	case $name in
	after_fanout_sent)
		# The device is online with nothing queued: the fan-out sends one window at once.
		assert_eq 8 "$sent" "rows fanned out as sent (one window) and left 'sent' by the crash"
		assert_eq 0 "$acked_at_kill" "acked rows (nothing reached the wire)" ;;
	after_claim)
		# The first window went out with the fan-out and was acked; the crash is at the claim
		# that refills the window from the queued rest.
		((sent >= 1)) || fail "no row was left 'sent' by a crash at $name"
		((acked_at_kill >= 1)) || fail "no ack committed before the refill claim at $name" ;;
	after_send | before_ack_commit)
		((sent > 0)) || fail "no row was left 'sent' by a crash at $name" ;;
	after_ack_commit)
		((acked_at_kill >= 5)) || fail "only $acked_at_kill acks committed before the crash at $name" ;;
	esac

	# Restart: the production binary, same config and instance_id.
	start_xpushd xpushd
	ready=$((ready + 1))
	await_xpushd_ready xpushd "$ready"
	wait_for 30 "every push of batch $name acked after the restart" \
		sql_is "$N" "SELECT count(*) FROM push.deliveries WHERE notification_id IN ($list) AND state = 'acked'"
	assert_eq "$N" "$(ledger_count "notification_id IN ($list)")" "ledger rows of batch $name"
	if ((sent > 0)); then
		log_has xpushd "requeued deliveries sent before a restart or reconnect\" rows=$sent" ||
			fail "the restarted xpushd did not log requeuing the $sent rows of the dead instance"
		resent=$(ledger_count "notification_id IN ($list) AND attempts >= 2")
		((resent >= sent)) || fail "only $resent rows were sent again, $sent had been in flight"
	fi
	dups=$(dups_in "${ids[@]}")
	log "redeliveries acked as duplicates by the device in batch $name: $dups"
	case $name in
	before_ack_commit)
		# The 5th ack reached xpushd, so the device had displayed at least 5: the acks died with
		# xpushd (none was committed, or a few), and those came again and were not displayed again.
		((dups >= 5)) || fail "only $dups redeliveries acked as duplicates after the crash at $name" ;;
	after_send)
		((dups >= 1)) || fail "no redelivery acked as a duplicate after the crash at $name" ;;
	after_fanout_sent)
		assert_eq 0 "$dups" "duplicates (nothing had reached the device)" ;;
	after_claim)
		# The claimed rows had not reached the device; the first window's rows whose acks were
		# not yet committed had, and come back as duplicates.
		((dups < sent)) || fail "$dups duplicates for $sent rows in flight: the claimed ones were not on the wire" ;;
	esac
	stop_proc xpushd TERM
	assert_eq 0 "$PROC_RC" "xpushd exit status on SIGTERM"
done

assert_eq 0 "$(ledger_count "state <> 'acked'")" "ledger rows not acked"
proc_alive "$(pid_of phone)" || fail "the device exited"
check_oracle olga-phone=phone
log "pass"
