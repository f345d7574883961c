#!/usr/bin/env bash
# (63) Fault test 4: Postgres crashes (pg_ctl stop -m immediate, then started again:
# crash recovery) twice while producers enqueue and xpushd delivers.
# Producers: two bash loops, each INSERT its own psql call (autocommit) with RETURNING id.
#  - psql exit 0 with an id: the COMMIT succeeded. Every such push must exist after recovery (no
#    false success) and be delivered once.
#  - psql failed: it must say so (non-zero exit, an error on stderr). The outcome is unknown:
#    the commit may have happened before the connection died. Half of the pushes carry a
#    dedup_key and are retried after an error with INSERT ... ON CONFLICT (producer, app,
#    dedup_key) WHERE dedup_key IS NOT NULL DO NOTHING RETURNING id (the idempotent path: no row back =
#    the first attempt had committed, look it up); the others are not retried, and may or may
#    not exist: if one exists it is expected like any other, i.e. delivered once.
# An ack that arrives while Postgres is down is not recorded: that row is sent again after
# ack_timeout_ms (2 s here) and acked as a duplicate. Restarts the stack's shared Postgres.
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "$0")/lib.sh"

M=${XPUSH_63_PUSHES:-150}   # per producer
create_test_db
new_user d1
new_user d2
write_xpushd_config reconnect_min_ms=100 reconnect_max_ms=1000 ack_timeout_ms=2000
start_xpushd xpushd
await_xpushd_ready xpushd
start_device d1 d1 d1-dev
start_device d2 d2 d2-dev
await_device_online d1 d1 d1-dev
await_device_online d2 d2 d2-dev

# insert_one TITLE USER [DEDUP_KEY]: one autocommit INSERT; prints the id (empty if ON CONFLICT
# skipped it). Exit status: psql's.
insert_one() {
	if [[ -n ${3:-} ]]; then
		sql_script -v app="$T_APP" -v jid="${USER_JID[$2]}" -v title="$1" -v key="$3" <<'SQL'
INSERT INTO push.notifications (app, to_jid, title, dedup_key) VALUES (:'app', :'jid', :'title', :'key')
ON CONFLICT (producer, app, dedup_key) WHERE dedup_key IS NOT NULL DO NOTHING RETURNING id;
SQL
	else
		sql_script -v app="$T_APP" -v jid="${USER_JID[$2]}" -v title="$1" <<'SQL'
INSERT INTO push.notifications (app, to_jid, title) VALUES (:'app', :'jid', :'title') RETURNING id;
SQL
	fi
}

# producer P: M pushes alternating between d1 and d2; one line per push in $T_DIR/prodP.log:
#   ok ID DEV [retried]  committed (psql said so), with the id
#   unknown TITLE DEV    psql failed (not retried: no dedup key)
#   dedup ID DEV         a retry found its dedup key already committed (first attempt's outcome
#                        was unknown to the producer, but it had committed)
producer() {
	local p=$1 i u title key id rc tries err
	for ((i = 1; i <= M; i++)); do
		u=d$((i % 2 + 1))
		title="prod$p $i"
		key=""
		((i % 2 == 0)) && key="p$p-$i"
		rc=0
		id=$(insert_one "$title" "$u" "$key" 2>"$T_DIR/prod$p.err.last") || rc=$?
		if ((rc == 0)); then
			[[ $id =~ ^[0-9]+$ ]] || { echo "bad $title rc=0 but no id: '$id'"; continue; }
			echo "ok $id $u-dev"
			continue
		fi
		err=$(tr '\n' ' ' <"$T_DIR/prod$p.err.last")
		[[ -n $err ]] || echo "silent $title rc=$rc"
		if [[ -z $key ]]; then
			echo "unknown $title $u-dev"
			continue
		fi
		for ((tries = 0; tries < 300; tries++)); do
			rc=0
			id=$(insert_one "$title" "$u" "$key" 2>/dev/null) || rc=$?
			if ((rc == 0)); then
				if [[ -n $id ]]; then
					echo "ok $id $u-dev retried"
				else
					id=$(sql "SELECT id FROM push.notifications WHERE producer = session_user AND app = '$T_APP' AND dedup_key = '$key'")
					echo "dedup $id $u-dev"
				fi
				break
			fi
			sleep 0.1   # Postgres is down: a producer's retry pace, not synchronisation
		done
		((rc == 0)) || echo "gaveup $title"
	done
}

producer 1 >"$T_DIR/prod1.log" &
T_PIDS[prod1]=$!
producer 2 >"$T_DIR/prod2.log" &
T_PIDS[prod2]=$!
lines() { cat "$T_DIR"/prod[12].log 2>/dev/null | wc -l; }
lines_at_least() { (($(lines) >= $1)); }

for at in $((M / 3)) $((M * 4 / 3)); do
	wait_for 60 "producers to have done $at inserts" lines_at_least "$at"
	log "Postgres crash (immediate stop) after $(lines) inserts, $(ledger_count "state = 'acked'" 2>/dev/null || echo ?) acked"
	stack_pg_crash_restart || fail "could not crash-restart Postgres"
	log "Postgres back, pid $XPUSH_PG_PID"
done
wait_for 90 "producers to finish" exited prod1
wait_for 30 "producers to finish" exited prod2
reap prod1
reap prod2

cat "$T_DIR"/prod[12].log >"$T_DIR/producers.log"
! grep -E '^(bad|silent|gaveup) ' "$T_DIR/producers.log" ||
	fail "a producer saw a success without an id, a failure without an error, or gave up"
okc=$(grep -c '^ok ' "$T_DIR/producers.log" || true)
unk=$(grep -c '^unknown ' "$T_DIR/producers.log" || true)
ded=$(grep -c '^dedup ' "$T_DIR/producers.log" || true)
retried=$(grep -c ' retried$' "$T_DIR/producers.log" || true)
log "producers: ok=$okc (retried after an error: $retried) unknown=$unk dedup-path=$ded"
assert_eq $((2 * M)) "$((okc + unk + ded))" "outcomes recorded"

# No false success: every id a producer was given exists after crash recovery.
awk '$1 == "ok" || $1 == "dedup" { print $2 }' "$T_DIR/producers.log" | sort -n >"$T_DIR/ok_ids"
missing=$(sort -n "$T_DIR/ok_ids" | sql_script -c "CREATE TEMP TABLE k (id bigint);" \
	-c "\copy k FROM pstdin" -c "SELECT string_agg(k.id::text, ' ') FROM k
		LEFT JOIN push.notifications n ON n.id = k.id WHERE n.id IS NULL")
[[ -z $missing ]] || fail "producers were told these committed, but they do not exist: $missing"
log "ok: all $(wc -l <"$T_DIR/ok_ids") acknowledged commits exist after recovery"

awk '$1 == "ok" || $1 == "dedup" { print $2, $3 }' "$T_DIR/producers.log" >>"$T_EXPECTED"
# Unknown outcomes: if the row exists, it is promised like any other.
exist_unknown=0
while read -r _ t1 t2 dev; do
	id=$(sql "SELECT id FROM push.notifications WHERE app = '$T_APP' AND title = '$t1 $t2'")
	if [[ -n $id ]]; then
		expect "$dev" "$id"
		exist_unknown=$((exist_unknown + 1))
	fi
done < <(grep '^unknown ' "$T_DIR/producers.log")
log "pushes whose commit outcome was unknown and which exist: $exist_unknown of $unk"

# The idempotent path, deterministically: every dedup key enqueued again creates nothing.
again=$(sql "WITH x AS (INSERT INTO push.notifications (app, to_jid, title, dedup_key)
	SELECT app, to_jid, title, dedup_key FROM push.notifications WHERE dedup_key IS NOT NULL
	ON CONFLICT (producer, app, dedup_key) WHERE dedup_key IS NOT NULL DO NOTHING RETURNING 1)
	SELECT count(*) FROM x")
assert_eq 0 "$again" "pushes created by enqueuing every dedup key again"
assert_eq "$M" "$(sql "SELECT count(*) FROM push.notifications WHERE dedup_key IS NOT NULL")" \
	"notifications with a dedup key (one per key)"

wait_for 60 "every committed push acked" all_acked
wait_for 30 "the ledger settled" ledger_settled
assert_eq 0 "$(ledger_count "state <> 'acked'")" "ledger rows not acked"
check_oracle d1-dev=d1 d2-dev=d2
log "pass"
