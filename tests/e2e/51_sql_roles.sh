#!/usr/bin/env bash
# (51) Postgres roles (schema 003): a login role IN ROLE xpush_producer can INSERT and see only
# its own notifications and ledger rows, cannot set producer/ledger columns, cannot UPDATE or
# DELETE the ledger or read the roster, cannot change limits, and can push.retract_own only its
# own notifications; xpushd running as a login role IN ROLE xpush_daemon (not superuser, not the
# owner) delivers end to end; nothing in schema push is granted to PUBLIC, and a login role in
# neither group can touch nothing. The XMPP server plays no part: Prosody only.
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "$0")/lib.sh"
only_on prosody "Postgres privileges do not depend on the XMPP server"

create_test_db
new_user rita
# The schema comes from the owner (role xpush, as an operator's migration would).
write_xpushd_config "$T_DIR/owner.conf"
"$XPUSHD" -c "$T_DIR/owner.conf" --migrate >"$T_DIR/migrate.out" 2>&1 || fail "xpushd --migrate as owner failed: $(cat "$T_DIR/migrate.out")"

# Login roles for this test (cluster-wide: unique names, dropped at exit).
P1=p1_$T_UID P2=p2_$T_UID D1=d_$T_UID NOBODY=n_$T_UID
stack_psql postgres -c "CREATE ROLE $P1 LOGIN IN ROLE xpush_producer" \
	-c "CREATE ROLE $P2 LOGIN IN ROLE xpush_producer" -c "CREATE ROLE $D1 LOGIN IN ROLE xpush_daemon" \
	-c "CREATE ROLE $NOBODY LOGIN" >/dev/null || fail "could not create the login roles"
_roles_cleanup() {
	local rc=$?
	# Stop our processes first: xpushd holds a session as $D1.
	for name in "${!T_PIDS[@]}"; do kill -TERM "${T_PIDS[$name]}" 2>/dev/null || true; done
	sleep 0.3
	stack_psql postgres -c "DROP DATABASE IF EXISTS \"$T_DB\" WITH (FORCE)" >/dev/null 2>&1 || true
	stack_psql postgres -c "DROP ROLE IF EXISTS $P1, $P2, $D1, $NOBODY" >/dev/null 2>&1 || true
	(exit "$rc")
	_e2e_cleanup
}
trap _roles_cleanup EXIT

# as ROLE [psql args] <<<SQL: run SQL as ROLE in this test's database.
as() {
	local role=$1
	shift
	"$XPUSH_PGBIN/psql" -X -A -t -q -v ON_ERROR_STOP=1 -h "$XPUSH_PGHOST" -p "$XPUSH_PGPORT" \
		-U "$role" -d "$T_DB" "$@"
}
# denied NAME ROLE NEEDLE <<<SQL: the statement fails with an error containing NEEDLE.
denied() {
	local name=$1 role=$2 needle=$3 out rc=0
	out=$(as "$role" 2>&1 >/dev/null) || rc=$?
	((rc != 0)) || fail "$name: $role was allowed"
	[[ $out == *"$needle"* ]] || fail "$name: expected an error with [$needle], got: $out"
	log "ok: $name denied: $(head -n 1 <<<"$out")"
}

# ---- nothing for PUBLIC ---------------------------------------------------------------------

assert_eq f "$(sql "SELECT has_schema_privilege('public', 'push', 'USAGE')")" "PUBLIC has USAGE on schema push"
assert_eq - "$(sql "SELECT coalesce(string_agg(c.relname || ':' || p, ','), '-') FROM pg_class c
	JOIN pg_namespace n ON n.oid = c.relnamespace
	CROSS JOIN unnest(ARRAY['SELECT','INSERT','UPDATE','DELETE','TRUNCATE','REFERENCES','TRIGGER']) p
	WHERE n.nspname = 'push' AND c.relkind IN ('r','v','m','p','f')
	  AND has_table_privilege('public', c.oid, p)")" "table/view privileges of PUBLIC in push"
out=$(sql "SELECT coalesce(string_agg(c.relname, ','), '-') FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
	WHERE n.nspname = 'push' AND c.relkind = 'S'
	  AND CASE WHEN c.relkind = 'S' THEN has_sequence_privilege('public', c.oid, 'USAGE,SELECT,UPDATE') END") ||
	fail "could not read sequence privileges"
assert_eq - "$out" "sequences of push usable by PUBLIC"
assert_eq - "$(sql "SELECT coalesce(string_agg(p.oid::regprocedure::text, ','), '-') FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
	WHERE n.nspname = 'push' AND has_function_privilege('public', p.oid, 'EXECUTE')")" \
	"functions of push executable by PUBLIC"
assert_eq 0 "$(sql "SELECT count(*) FROM information_schema.role_table_grants WHERE table_schema = 'push' AND grantee = 'PUBLIC'")" \
	"information_schema grants to PUBLIC in push"
denied nobody_select "$NOBODY" "permission denied for schema push" <<<"SELECT count(*) FROM push.notifications"
denied nobody_insert "$NOBODY" "permission denied for schema push" \
	<<<"INSERT INTO push.notifications (app, broadcast) VALUES ('x', true)"

# ---- xpushd as xpush_daemon, a device online ----------------------------------------------------

write_xpushd_config pg_conninfo="host=$XPUSH_PGHOST port=$XPUSH_PGPORT user=$D1 dbname=$T_DB"
start_xpushd xpushd
await_xpushd_ready xpushd
start_device phone rita rita-phone --json
await_device_online phone rita rita-phone
RITA=${USER_JID[rita]}
[[ $(sql "SELECT rolsuper FROM pg_roles WHERE rolname = '$D1'") == f ]] || fail "$D1 is a superuser"
[[ $(sql "SELECT count(*) FROM pg_stat_activity WHERE usename = '$D1' AND datname = '$T_DB'") -ge 1 ]] ||
	fail "xpushd has no session as $D1"

# ---- producers ----------------------------------------------------------------------------------

# The app, open to every producer (schema 010: a producer enqueues only for apps granted to it).
sql "INSERT INTO push.apps (app, policy) VALUES ('$T_APP', 'open');
	INSERT INTO push.app_producers (app, producer) VALUES ('$T_APP', 'xpush_producer')" >/dev/null

ins() { # ins ROLE TITLE: insert as ROLE, print the id
	as "$1" -v app="$T_APP" -v jid="$RITA" -v t="$2" <<<"INSERT INTO push.notifications (app, to_jid, title) VALUES (:'app', :'jid', :'t') RETURNING id"
}
n1=$(ins "$P1" "from p1") || fail "$P1 could not enqueue"
n2=$(ins "$P2" "from p2") || fail "$P2 could not enqueue"
log "p1 enqueued $n1, p2 enqueued $n2"
wait_for 15 "notification $n1 acked (xpushd as $D1)" acked 1 "$n1"
wait_for 15 "notification $n2 acked (xpushd as $D1)" acked 1 "$n2"
wait_for 5 "the device to print both" test "$(wc -l <"$T_DIR/phone.out")" -ge 2
assert_eq "$P1" "$(sql "SELECT producer FROM push.notifications WHERE id = $n1")" "producer column of $n1"

assert_eq "$n1" "$(as "$P1" <<<"SELECT string_agg(id::text, ',') FROM push.notifications")" "notifications p1 sees"
assert_eq "$n2" "$(as "$P2" <<<"SELECT string_agg(id::text, ',') FROM push.notifications")" "notifications p2 sees"
assert_eq "$n1 acked" "$(as "$P1" <<<"SELECT string_agg(notification_id || ' ' || state, ',') FROM push.deliveries")" \
	"ledger rows p1 sees (its own, acked)"
assert_eq 0 "$(as "$P1" <<<"SELECT count(*) FROM push.deliveries WHERE notification_id = $n2")" "p2's ledger rows seen by p1"
assert_eq "$n1" "$(as "$P1" <<<"SELECT string_agg(id::text, ',') FROM push.notification_progress")" \
	"notification_progress rows p1 sees"

denied forge_producer "$P1" "permission denied" <<<"INSERT INTO push.notifications (app, broadcast, producer) VALUES ('$T_APP', true, '$P2')"
denied forge_fanout "$P1" "permission denied" <<<"INSERT INTO push.notifications (app, broadcast, fanned_out_at, target_count) VALUES ('$T_APP', true, now(), 0)"
denied update_notification "$P1" "permission denied" <<<"UPDATE push.notifications SET title = 'changed' WHERE id = $n1"
denied delete_notification "$P1" "permission denied" <<<"DELETE FROM push.notifications WHERE id = $n2"
denied update_ledger "$P1" "permission denied" <<<"UPDATE push.deliveries SET state = 'acked', acks = acks + 1"
denied insert_ledger "$P1" "permission denied" <<<"INSERT INTO push.deliveries (notification_id, device_id) VALUES ($n2, 1)"
denied delete_ledger "$P1" "permission denied" <<<"DELETE FROM push.deliveries"
denied read_devices "$P1" "permission denied" <<<"SELECT jid, full_jid FROM push.devices"
denied write_devices "$P1" "permission denied" <<<"UPDATE push.devices SET online = false"
denied set_limit "$P1" "permission denied" <<<"SELECT push.set_limit('payload_bytes', 100000000)"
denied retract_any "$P1" "permission denied" <<<"SELECT push.retract($n2)"
denied truncate "$P1" "permission denied" <<<"TRUNCATE push.deliveries"
denied alter_table "$P1" "must be owner" <<<"ALTER TABLE push.notifications DROP CONSTRAINT notifications_payload_bytes"
denied retract_own_other "$P1" "is not yours" <<<"SELECT push.retract_own($n2)"
assert_eq "" "$(sql "SELECT retracted_at FROM push.notifications WHERE id = $n2")" "p2's notification after p1's retract attempt"
assert_eq 1 "$(as "$P1" <<<"SELECT push.retract_own($n1)")" "p1 retracts its own notification (ledger rows affected)"
assert_eq t "$(sql "SELECT retracted_at IS NOT NULL FROM push.notifications WHERE id = $n1")" "p1's notification retracted"

# ---- the daemon role: what xpushd needs, nothing more -------------------------------------------

denied daemon_set_limit "$D1" "permission denied" <<<"SELECT push.set_limit('payload_bytes', 100000000)"
denied daemon_delete "$D1" "permission denied" <<<"DELETE FROM push.deliveries"
denied daemon_ddl "$D1" "must be owner" <<<"ALTER TABLE push.notifications DROP CONSTRAINT notifications_payload_bytes"

# ---- nothing harmed: p2 still delivers, the ledger is exact ------------------------------------

n3=$(ins "$P2" "after the attempts") || fail "$P2 could not enqueue"
wait_for 15 "notification $n3 acked" acked 1 "$n3"
assert_eq 3 "$(sql "SELECT count(*) FROM push.deliveries")" "ledger rows"
assert_eq "acked 1" "$(delivery_rows "$n2")" "ledger row of p2's notification"
assert_eq "acked 1" "$(delivery_rows "$n3")" "ledger row of p2's second notification"
retract_shown() { grep -F '"event":"retract"' "$T_DIR/phone.out" | grep -qF "\"id\":\"$1\""; }
wait_for 10 "the device to show the retract of $n1" retract_shown "$n1"
assert_eq 0 "$(count_in "$T_DIR/xpushd.log" 'level=error')" "error lines in xpushd's log"
log "pass"
