#!/usr/bin/env bash
# (13) Postgres restarts (pg_ctl restart -m fast cuts every session) under a running xpushd:
# xpushd reconnects and listens again, and a push inserted after the restart is delivered well
# before the slow periodic scan (scan_interval_ms stays at its 30 s default) could find it.
# Then three more restarts: each Postgres session's first redial after a healthy session waits at
# most reconnect_min_ms (the backoff starts over once a session is ready; before, it kept growing
# across outages, so the Nth Postgres failover waited up to reconnect_max_ms).
# Restarts the stack's shared Postgres; the env file gets the new pid.
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "$0")/lib.sh"

create_test_db
new_user liam
write_xpushd_config reconnect_min_ms=100 reconnect_max_ms=1000
start_xpushd xpushd
await_xpushd_ready xpushd
start_device phone liam liam-phone
await_device_online phone liam liam-phone

first=$(notify app="$T_APP" to_jid="${USER_JID[liam]}" title="before" body="db up")
wait_for 15 "notification $first acked" acked 1 "$first"

stack_pg_restart || fail "could not restart Postgres"
log "Postgres restarted, pid $XPUSH_PG_PID"
second=$(notify app="$T_APP" to_jid="${USER_JID[liam]}" title="after" body="db restarted")
wait_for 20 "notification $second acked after the Postgres restart" acked 1 "$second"
wait_for 5 "device to print notification $second" grep -qF "notification id=$second " "$T_DIR/phone.out"
assert_eq 1 "$(count_in "$T_DIR/phone.out" "id=$second ")" "lines printed for notification $second"
proc_alive "$(pid_of xpushd)" || fail "xpushd exited"

# And NOTIFY works again, not only the scan on reconnect: a third push, once xpushd has
# certainly reconnected (it acked the second), also arrives promptly.
third=$(notify app="$T_APP" to_jid="${USER_JID[liam]}" title="third" body="listen again")
wait_for 10 "notification $third acked (LISTEN re-established)" acked 1 "$third"
assert_eq 3 "$(wc -l <"$T_DIR/phone.out")" "lines on the device's stdout"

for round in 2 3 4; do
	stack_pg_restart || fail "could not restart Postgres (round $round)"
	n=$(notify app="$T_APP" to_jid="${USER_JID[liam]}" title="round $round" body="restart $round")
	wait_for 20 "notification $n acked after restart $round" acked 1 "$n"
	# Both sessions must be ready again before the next restart cuts them.
	wait_for 10 "both Postgres sessions ready $round times" \
		test "$(grep -c 'msg="postgres ready"' "$T_DIR/xpushd.log")" -ge $((2 * round + 2))
done
# For each session, the first "connection lost" after each "ready": retry_ms <= 100.
first_delays=$(awk '
	/msg="postgres ready"/ { match($0, /session=[a-z]+/); ready[substr($0, RSTART + 8, RLENGTH - 8)] = 1 }
	/msg="postgres connection lost"/ {
		match($0, /session=[a-z]+/); s = substr($0, RSTART + 8, RLENGTH - 8)
		if (ready[s]) { match($0, /retry_ms=[0-9]+/); print s, substr($0, RSTART + 9, RLENGTH - 9); ready[s] = 0 }
	}' "$T_DIR/xpushd.log")
log "first redial delays after a healthy session: $(echo $first_delays)"
assert_eq 8 "$(wc -l <<<"$first_delays")" "first redials after 4 restarts x 2 sessions"
while read -r sess ms; do
	((ms <= 100)) || fail "session $sess waited $ms ms to redial after a healthy session (reconnect_min_ms=100)"
done <<<"$first_delays"
log "pass"
