#!/usr/bin/env bash
# (76) Postgres failover managed by Patroni (Debian's patroni 3.0 with one etcd 3.4, v3 API): two
# members in synchronous_mode (Patroni names the replica in synchronous_standby_names and
# promotes only a synchronous standby), leader ttl 10 s. xpushd and keyed producers use one
# multi-host conninfo (target_session_attrs=read-write, the replica first); devices ack
# throughout. The leader's host "dies": its Patroni is SIGKILLed and its Postgres stopped at once
# (pg_ctl stop -m immediate). Patroni promotes the replica when the leader key expires; every
# push a producer was given an id for exists afterwards with its key, and the oracle says lost=0
# displayed_twice=0 unexpected=0. The failover time is logged.
# 75_pg_failover does the same with the test promoting the standby itself, plus the asynchronous
# negative control. Bootstrap ~20 s, failover ~10 s (the leader ttl): about 45 s in all.
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "$0")/lib.sh"
# shellcheck source-path=SCRIPTDIR source=pg_lib.sh
source "$(dirname "$0")/pg_lib.sh"
only_on prosody "Postgres failover does not depend on the XMPP server (74 and 77 run on ejabberd)"
if ! command -v patroni >/dev/null || ! command -v etcd >/dev/null; then
	fail "patroni and etcd-server are not installed"
fi

N=${XPUSH_76_PUSHES:-60} # per producer
PYTHON=/usr/bin/python3 # Debian's, which has Patroni's modules
dir=$(pg_own_dir patroni)
read -r EC EP P1 P2 R1 R2 < <(stack_free_ports 6)
declare -A PGPORT=([pg1]=$P1 [pg2]=$P2) REST=([pg1]=$R1 [pg2]=$R2)
PAIR_ALL+=("$dir/pg1" "$dir/pg2") # pg_lib's cleanup stops a Postgres its Patroni left running

setpriv --reuid=postgres --regid=postgres --init-groups -- etcd --name e1 --data-dir "$dir/etcd" \
	--listen-client-urls "http://127.0.0.1:$EC" --advertise-client-urls "http://127.0.0.1:$EC" \
	--listen-peer-urls "http://127.0.0.1:$EP" --initial-advertise-peer-urls "http://127.0.0.1:$EP" \
	--initial-cluster "e1=http://127.0.0.1:$EP" </dev/null >>"$T_DIR/etcd.log" 2>&1 &
T_PIDS[etcd]=$!
wait_for 20 "etcd on :$EC" curl -sf "http://127.0.0.1:$EC/health"

member_config() { # member_config NAME
	cat <<EOF
scope: xpush_$T_UID
name: $1
restapi:
  listen: 127.0.0.1:${REST[$1]}
  connect_address: 127.0.0.1:${REST[$1]}
etcd3:
  host: 127.0.0.1:$EC
bootstrap:
  dcs:
    ttl: 10
    loop_wait: 1
    retry_timeout: 3
    synchronous_mode: true
    postgresql:
      use_pg_rewind: false
      parameters:
        max_connections: 60
        shared_buffers: 32MB
        wal_keep_size: 128MB
  initdb:
    - encoding: UTF8
    - locale: C
    - auth: trust
  pg_hba:
    - host all all 127.0.0.1/32 trust
    - host replication all 127.0.0.1/32 trust
postgresql:
  listen: 127.0.0.1:${PGPORT[$1]}
  connect_address: 127.0.0.1:${PGPORT[$1]}
  data_dir: $dir/$1
  bin_dir: $XPUSH_PGBIN
  pgpass: $dir/$1.pgpass
  authentication:
    superuser:
      username: postgres
    replication:
      username: postgres
  parameters:
    unix_socket_directories: ''
    timezone: UTC
EOF
}
start_member() {
	member_config "$1" >"$dir/$1.yml"
	chown postgres:postgres "$dir/$1.yml"
	setpriv --reuid=postgres --regid=postgres --init-groups -- "$PYTHON" /usr/bin/patroni "$dir/$1.yml" \
		</dev/null >>"$T_DIR/$1.log" 2>&1 &
	T_PIDS[$1]=$!
}
role_is() { curl -sf -o /dev/null "http://127.0.0.1:${REST[$1]}/$2"; } # role_is MEMBER primary|sync|replica

start_member pg1
wait_for 60 "pg1 bootstrapped and leading" role_is pg1 primary
start_member pg2
wait_for 60 "pg2 streaming as the synchronous standby" role_is pg2 sync
"$XPUSH_PGBIN/psql" -X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$P1" -U postgres -d postgres \
	-c "CREATE ROLE xpush SUPERUSER LOGIN" -c "CREATE DATABASE \"$T_DB\" OWNER xpush" >/dev/null ||
	fail "could not create role and database on the leader"
log "Patroni: pg1 leads on :$P1, pg2 is the synchronous standby on :$P2"

CI="host=127.0.0.1,127.0.0.1 port=$P2,$P1 user=xpush dbname=$T_DB target_session_attrs=read-write connect_timeout=2"
psql_new() { psql_at "$CI" "$@"; }
new_user u
write_xpushd_config pg_conninfo="$CI" reconnect_min_ms=100 reconnect_max_ms=1000 ack_timeout_ms=2000 \
	scan_interval_ms=2000
start_xpushd xpushd
await_xpushd_ready xpushd
start_device a u dev-a --json
start_device b u dev-b --json
both_online() { [[ $(psql_new -c "SELECT count(*) FROM push.devices WHERE online") == 2 ]]; }
wait_for 20 "both devices online" both_online

for p in 1 2; do
	produce_keyed "$CI" "pat$p" "$N" "${USER_JID[u]}" dev-a dev-b >"$T_DIR/prod.$p" &
	T_PIDS[prod$p]=$!
done
lines_at_least() { (($(cat "$T_DIR"/prod.[12] | wc -l) >= $1)); }
wait_for 60 "the producers to have enqueued $((2 * N / 3))" lines_at_least $((2 * N / 3))
t0=$(now_ms)
kill -KILL "$(pid_of pg1)"
wait_for 10 "pg1's Patroni to exit" exited pg1
unset "T_PIDS[pg1]"
runuser -u postgres -- "$XPUSH_PGBIN/pg_ctl" -D "$dir/pg1" -m immediate -w -t 30 stop >/dev/null ||
	fail "could not stop pg1's Postgres"
log "pg1's host died (Patroni SIGKILL, Postgres immediate stop) with $(cat "$T_DIR"/prod.[12] | wc -l) pushes enqueued"
wait_for 60 "Patroni to promote pg2" role_is pg2 primary
log "pg2 promoted by Patroni $(($(now_ms) - t0)) ms after the leader died (leader ttl 10 s)"

wait_for 120 "the producers to finish" exited prod1
wait_for 60 "the producers to finish" exited prod2
reap prod1
reap prod2
cat "$T_DIR"/prod.[12] >"$T_DIR/producers"
! grep -q '^gaveup ' "$T_DIR/producers" || fail "a producer gave up"
settle_dedup "$T_DIR/producers" "$CI"
assert_eq $((2 * N)) "$(grep -c '^ok ' "$T_DIR/producers")" "pushes with an id"
missing=$(awk '{ print $2, $4 }' "$T_DIR/producers" | psql_new \
	-c "CREATE TEMP TABLE k (id bigint, key text);" -c "\copy k FROM pstdin WITH (DELIMITER ' ')" \
	-c "SELECT count(*) FROM k LEFT JOIN push.notifications n ON n.id = k.id AND n.dedup_key = k.key
		WHERE n.id IS NULL")
assert_eq 0 "$missing" "acknowledged commits missing after Patroni's failover"
log "producers: $(grep -c ' retried$' "$T_DIR/producers" || true) retried and created then, $(grep -c ' dedup$' "$T_DIR/producers" || true) found their key committed"
awk '{ print $2, $3 }' "$T_DIR/producers" >"$T_EXPECTED"
settled() {
	[[ $(psql_new -c "SELECT count(*) FROM push.deliveries WHERE state <> 'acked'") == 0 &&
		$(psql_new -c "SELECT count(*) FROM push.deliveries") == $((2 * N)) ]]
}
wait_for 60 "every push acked on pg2" settled
psql_new -F ' ' -c "SELECT d.notification_id, v.device, d.state FROM push.deliveries d
	JOIN push.devices v ON v.id = d.device_id ORDER BY 1, 2" >"$T_DIR/ledger"
out=$(python3 "$E2E_ROOT/tests/e2e/oracle.py" --expected "$T_EXPECTED" --ledger "$T_DIR/ledger" \
	dev-a="$T_DIR/a.out" dev-b="$T_DIR/b.out") || fail "oracle: $out"
log "ok: oracle $(head -n 1 <<<"$out")"
log "pass"
