#!/usr/bin/env bash
# (64) Fault test 5: xpushd's Postgres backend (the session that LISTENs) is ended
# with pg_terminate_backend, three times, while a producer keeps INSERTing (one psql call per
# push). xpushd reconnects, LISTENs again and rescans: every push is delivered once, and
# promptly: the slow periodic scan is set to 60 s, so only NOTIFY and the rescan after each
# reconnect can deliver within the test's bounds. An ack that arrives while the session is down
# cannot be recorded: that row is sent again after ack_timeout_ms (2 s here), acked as a
# duplicate. xpushd logs why the session ended (the server's message, intact).
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "$0")/lib.sh"

M=${XPUSH_64_PUSHES:-200}
create_test_db
new_user lena
write_xpushd_config reconnect_min_ms=100 reconnect_max_ms=1000 scan_interval_ms=60000 ack_timeout_ms=2000
start_xpushd xpushd
await_xpushd_ready xpushd
start_device phone lena lena-phone
await_device_online phone lena lena-phone

# xpushd's main backend (the one that LISTENs): a client backend on this database that is
# neither a psql session nor xpushd's acks session.
xpushd_backend() {
	sql "SELECT pid FROM pg_stat_activity WHERE datname = current_database()
		AND backend_type = 'client backend' AND application_name NOT IN ('psql', 'xpushd-acks')
		AND pid <> pg_backend_pid()"
}
pg_ready_count() {
	local n
	n=$(grep -c 'msg="postgres ready" session=main' "$T_DIR/xpushd.log" 2>/dev/null) || true
	echo "${n:-0}"
}
pg_ready_at_least() { (($(pg_ready_count) >= $1)); }
one_backend() { [[ $(xpushd_backend | wc -l) == 1 ]]; }

producer() {
	local i id
	for ((i = 1; i <= M; i++)); do
		id=$(notify app="$T_APP" to_jid="${USER_JID[lena]}" title="p $i") || { echo "err $i"; continue; }
		echo "ok $id"
	done
}
producer >"$T_DIR/producer.log" 2>"$T_DIR/producer.err" &
T_PIDS[producer]=$!
inserted() { (($(grep -c '^ok ' "$T_DIR/producer.log") >= $1)); }

for k in 1 2 3; do
	wait_for 60 "the producer to have inserted $((k * M / 4))" inserted $((k * M / 4))
	wait_for 15 "xpushd to have exactly one backend" one_backend
	pid=$(xpushd_backend)
	before=$(pg_ready_count)
	assert_eq t "$(sql "SELECT pg_terminate_backend($pid)")" "pg_terminate_backend of xpushd's backend $pid"
	wait_for 15 "xpushd to reconnect and LISTEN again (termination $k)" pg_ready_at_least $((before + 1))
	# The reason, as libpq said it (it was once read after PQfinish freed it: garbage).
	grep -a 'msg="postgres connection lost".*session=main' "$T_DIR/xpushd.log" | tail -n 1 |
		grep -qE 'error="(server closed the connection|FATAL|terminating connection)' ||
		fail "xpushd did not log a readable reason for the lost session: $(grep -a 'connection lost' "$T_DIR/xpushd.log" | tail -n 1)"
	log "termination $k: xpushd reconnected, $(ledger_count "state = 'acked'") acked so far"
done
wait_for 60 "the producer to finish" exited producer
reap producer
assert_eq 0 "$PROC_RC" "producer exit status"
! grep -q '^err ' "$T_DIR/producer.log" || fail "an INSERT failed (the producer's sessions are not touched)"
awk '$1 == "ok" { print $2, "lena-phone" }' "$T_DIR/producer.log" >>"$T_EXPECTED"
assert_eq "$M" "$(wc -l <"$T_EXPECTED")" "committed pushes"

# NOTIFY works on the new session: one more push arrives well before the 60 s scan.
last=$(notify app="$T_APP" to_jid="${USER_JID[lena]}" title="after the last termination")
expect lena-phone "$last"
wait_for 10 "notification $last acked (LISTEN re-established)" acked 1 "$last"
wait_for 20 "every push acked" all_acked
assert_eq 0 "$(ledger_count "state <> 'acked'")" "ledger rows not acked"
check_oracle lena-phone=phone
log "pass"
