#!/usr/bin/env bash
# (74) Producers through pgbouncer in transaction pooling mode (Debian's pgbouncer, two server
# connections for all clients); xpushd connects to Postgres directly (its main session LISTENs
# and keeps prepared statements: it needs a session of its own, docs/delivery.md).
# 1. Eight producers at once, each one psql session of transactions through pgbouncer: the
#    producer's own business row and the push in one transaction, and one transaction per
#    producer rolled back. The slow periodic scan is 60 s, so only the wake-up (the trigger's
#    NOTIFY, sent in whichever server connection the transaction ran on) can deliver within the
#    bounds: every push acked, a last one within 10 s of its COMMIT; never more than two server
#    connections; the pushes carry the producer's own role (session_user through the pool).
# 2. Producers with a dedup_key while pgbouncer's server connections die under them, three
#    times: the test holds a SHARE lock on push.notifications until a producer's INSERT waits
#    for it, then ends that server connection (pg_terminate_backend) in the middle of the INSERT.
#    The producer gets an error from pgbouncer, retries with the same key (ON CONFLICT ... DO
#    NOTHING), and each key is one push; enqueuing every key again through pgbouncer creates
#    nothing.
# The oracle over both devices: lost=0 displayed_twice=0 unexpected=0.
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "$0")/lib.sh"
# shellcheck source-path=SCRIPTDIR source=pg_lib.sh
source "$(dirname "$0")/pg_lib.sh"

P1=${XPUSH_74_PRODUCERS:-8} N1=${XPUSH_74_TX:-20} N2=${XPUSH_74_KEYED:-60}
create_test_db
new_user alice
write_xpushd_config reconnect_min_ms=100 reconnect_max_ms=1000 scan_interval_ms=60000 ack_timeout_ms=2000
start_xpushd xpushd
await_xpushd_ready xpushd
start_device phone alice alice-phone --json
start_device tablet alice alice-tablet --json
await_device_online phone alice alice-phone
await_device_online tablet alice alice-tablet
sql "CREATE TABLE shop_orders (id bigserial PRIMARY KEY, item text NOT NULL)" >/dev/null

pgbouncer_start pgb transaction "default_pool_size = 2" "max_db_connections = 2"
CI=$(pgb_conninfo pgb)
[[ $(psql_at "$CI" -c "SHOW transaction_read_only") == off ]] || fail "no session through pgbouncer"

# Server connections pgbouncer holds to this database (xpushd and the test's psql use the socket).
server_conns() {
	sql "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()
		AND client_addr = '127.0.0.1' AND backend_type = 'client backend'"
}

# ---- 1. transactions through the pool, and the wake-up ----
# tx_producer P: N1 transactions, each a business row and a push; then one rolled back.
tx_producer() {
	local p=$1 i
	{
		for ((i = 1; i <= N1; i++)); do
			echo "BEGIN;"
			echo "INSERT INTO shop_orders (item) VALUES ('order $p.$i');"
			echo "INSERT INTO push.notifications (app, to_jid, title) VALUES (:'app', :'jid', 'order $p.$i shipped') RETURNING id;"
			echo "COMMIT;"
		done
		echo "BEGIN;"
		echo "INSERT INTO push.notifications (app, to_jid, title) VALUES (:'app', :'jid', 'rolled back $p') RETURNING id;"
		echo "ROLLBACK;"
	} | psql_at "$CI" -v app="$T_APP" -v jid="${USER_JID[alice]}" >"$T_DIR/tx$p.ids" 2>"$T_DIR/tx$p.err"
}
for ((p = 1; p <= P1; p++)); do
	tx_producer "$p" &
	T_PIDS[tx$p]=$!
done
max_conns=0
producers_running() {
	local p n
	n=$(server_conns)
	((n > max_conns)) && max_conns=$n
	for ((p = 1; p <= P1; p++)); do
		exited "tx$p" || return 0
	done
	return 1
}
wait_for 60 "the $P1 producers to finish" eval '! producers_running'
for ((p = 1; p <= P1; p++)); do
	reap "tx$p"
	((PROC_RC == 0)) || fail "producer $p failed through pgbouncer: $(head -n 3 "$T_DIR/tx$p.err")"
	# The last id each session printed is the rolled-back one: never promised.
	head -n "$N1" "$T_DIR/tx$p.ids" | while read -r id; do expect alice-phone "$id"; expect alice-tablet "$id"; done
done
assert_eq $((P1 * N1 * 2)) "$(wc -l <"$T_EXPECTED")" "promised (push, device) pairs of phase 1"
assert_eq $((P1 * N1)) "$(sql "SELECT count(*) FROM shop_orders")" "business rows committed with the pushes"
assert_eq 0 "$(sql "SELECT count(*) FROM push.notifications WHERE title LIKE 'rolled back %'")" \
	"pushes of rolled-back transactions"
assert_eq xpush "$(sql "SELECT string_agg(DISTINCT producer, ',') FROM push.notifications")" \
	"producer (session_user) of the pushes enqueued through the pool"
((max_conns <= 2)) || fail "pgbouncer held $max_conns server connections (pool of 2)"
log "ok: $P1 producers shared at most $max_conns server connections"
wait_for 30 "every push of phase 1 acked (the periodic scan is 60 s away)" all_acked

# The wake-up through the pool, timed: xpushd idle again, one more push.
wait_for 40 "xpushd idle and listening" sql_is t "SELECT listening FROM push.wakeup"
t0=$(now_ms)
id=$(psql_at "$CI" -v app="$T_APP" -v jid="${USER_JID[alice]}" <<<"BEGIN;
INSERT INTO push.notifications (app, to_jid, title) VALUES (:'app', :'jid', 'woken') RETURNING id;
COMMIT;")
expect alice-phone "$id"
expect alice-tablet "$id"
wait_for 10 "push $id (enqueued through pgbouncer) acked on both devices" acked 2 "$id"
log "ok: the push enqueued through pgbouncer was acked $(($(now_ms) - t0)) ms after its COMMIT"

# ---- 2. dedup retries while pgbouncer's server connections die ----
for p in 1 2; do
	produce_keyed "$CI" "pb$p" "$N2" "${USER_JID[alice]}" alice-phone alice-tablet >"$T_DIR/pb$p.log" &
	T_PIDS[pb$p]=$!
done
done_lines() { (($(cat "$T_DIR"/pb[12].log | wc -l) >= $1)); }
# Server connections of pgbouncer whose INSERT waits for the test's lock.
waiting_inserts() {
	(($(sql "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()
		AND client_addr = '127.0.0.1' AND wait_event_type = 'Lock'") > 0))
}
for k in 1 2 3; do
	wait_for 60 "the keyed producers to have done $((k * N2 * 2 / 4)) pushes" done_lines $((k * N2 * 2 / 4))
	PGAPPNAME=xpush-locker sql "BEGIN; LOCK TABLE push.notifications IN SHARE MODE; SELECT pg_sleep(60); COMMIT" \
		>/dev/null 2>&1 &
	T_PIDS[locker]=$!
	wait_for 20 "a producer's INSERT waiting for the lock" waiting_inserts
	n=$(sql "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE datname = current_database()
		AND client_addr = '127.0.0.1' AND wait_event_type = 'Lock'")
	sql "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'xpush-locker'" >/dev/null
	wait_for 10 "the lock released" exited locker
	reap locker
	log "ended $n of pgbouncer's server connections in the middle of an INSERT ($k)"
done
wait_for 90 "the keyed producers to finish" exited pb1
wait_for 30 "the keyed producers to finish" exited pb2
reap pb1
reap pb2
cat "$T_DIR"/pb[12].log >"$T_DIR/keyed.log"
! grep -q '^gaveup ' "$T_DIR/keyed.log" || fail "a producer gave up: $(grep -m1 '^gaveup' "$T_DIR/keyed.log")"
errors=$(cat "$T_DIR"/pb[12].err | grep -c . || true)
retried=$(grep -cE ' retried$|^dedup ' "$T_DIR/keyed.log" || true)
log "keyed producers: $errors error lines from psql, $retried pushes needed a retry ($(grep -c '^dedup ' "$T_DIR/keyed.log" || true) of them had committed)"
((errors > 0)) || fail "no INSERT failed: the terminations never reached a producer"
settle_dedup "$T_DIR/keyed.log" "$(stack_conninfo "$T_DB")"
assert_eq $((2 * N2)) "$(grep -c '^ok ' "$T_DIR/keyed.log")" "keyed pushes with an id"
assert_eq $((2 * N2)) "$(sql "SELECT count(*) FROM push.notifications WHERE dedup_key LIKE 'pb%'")" \
	"keyed pushes in the table (one per key)"
missing=$(awk '{ print $2 }' "$T_DIR/keyed.log" | sql_script -c "CREATE TEMP TABLE k (id bigint);" \
	-c "\copy k FROM pstdin" -c "SELECT count(*) FROM k LEFT JOIN push.notifications n USING (id) WHERE n.id IS NULL")
assert_eq 0 "$missing" "ids a producer was given that do not exist"
awk '{ print $2, $3 }' "$T_DIR/keyed.log" >>"$T_EXPECTED"
again=$(psql_at "$CI" -c "WITH x AS (INSERT INTO push.notifications (app, to_jid, to_device, title, dedup_key)
	SELECT app, to_jid, to_device, title, dedup_key FROM push.notifications WHERE dedup_key IS NOT NULL
	ON CONFLICT (producer, app, dedup_key) WHERE dedup_key IS NOT NULL DO NOTHING RETURNING 1)
	SELECT count(*) FROM x")
assert_eq 0 "$again" "pushes created by enqueuing every key again through pgbouncer"

wait_for 60 "every promised push acked" all_acked
wait_for 30 "the ledger settled" ledger_settled
assert_eq 0 "$(ledger_count "state <> 'acked'")" "ledger rows not acked"
check_oracle alice-phone=phone alice-tablet=tablet
log "pass"
