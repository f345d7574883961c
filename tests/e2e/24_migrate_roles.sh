#!/usr/bin/env bash
# (24) Least-privilege roles and upgrades: the login roles of docs/operations.md (its SQL, run as
# written with this test's names), a database left at the previous release's schema (migrations
# 001..006 applied by the owner), then the upgrade with the daemon role only at runtime:
# - xpushd as the daemon role with migrate_conninfo set refuses to start on the old schema,
#   naming the missing migrations and changing nothing;
# - without migrate_conninfo, the daemon role cannot apply them: a clear error with the hint;
# - xpushd --migrate uses migrate_conninfo (the owner) and applies exactly the missing ones;
# - then xpushd runs as the daemon role (no session as the owner) and delivers a push that the
#   producer role enqueued, for the app the owner added and granted it (xpushctl app add).
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "$0")/lib.sh"

create_test_db
new_user vera

# ---- the roles, with docs/operations.md's SQL --------------------------------------------------
OWNER=o_$T_UID DAEMON=d_$T_UID PRODUCER=p_$T_UID
_roles_cleanup() {
	local rc=$? name
	for name in "${!T_PIDS[@]}"; do kill -TERM "${T_PIDS[$name]}" 2>/dev/null || true; done
	for name in "${!T_PIDS[@]}"; do wait "${T_PIDS[$name]}" 2>/dev/null || true; done
	stack_psql postgres -c "DROP DATABASE IF EXISTS \"$T_DB\" WITH (FORCE)" >/dev/null 2>&1 || true
	stack_psql postgres -c "DROP ROLE IF EXISTS $OWNER, $DAEMON, $PRODUCER" >/dev/null 2>&1 || true
	(exit "$rc")
	_e2e_cleanup
}
trap _roles_cleanup EXIT

# The block between "<!-- roles.sql -->" and the end of its code fence, with this test's names
# for the login roles, and the database this test created instead of CREATE DATABASE.
sed -n '/<!-- roles.sql -->/,/^```$/p' "$E2E_ROOT/docs/operations.md" | sed '1,2d;$d' >"$T_DIR/roles.sql"
[[ -s $T_DIR/roles.sql ]] || fail "docs/operations.md has no roles.sql block"
sed -E -e "s/\bxpush_owner\b/$OWNER/g" -e "s/\bxpushd\b/$DAEMON/g" -e "s/\bshop\b/$PRODUCER/g" \
	-e "s/^CREATE DATABASE xpush OWNER .*;/ALTER DATABASE \"$T_DB\" OWNER TO $OWNER;/" \
	"$T_DIR/roles.sql" >"$T_DIR/roles.test.sql"
grep -q "ALTER DATABASE" "$T_DIR/roles.test.sql" || fail "the roles.sql block does not create the database"
stack_psql postgres -v ON_ERROR_STOP=1 -f "$T_DIR/roles.test.sql" >"$T_DIR/roles.out" 2>&1 ||
	fail "the SQL of docs/operations.md failed: $(cat "$T_DIR/roles.out")"
for r in "$OWNER" "$DAEMON" "$PRODUCER"; do
	assert_eq f "$(sql "SELECT rolsuper OR rolcreaterole OR rolcreatedb FROM pg_roles WHERE rolname = '$r'")" \
		"$r is neither superuser nor may create roles or databases"
done

# as ROLE [psql args]: psql as ROLE in this test's database.
as() {
	local role=$1
	shift
	"$XPUSH_PGBIN/psql" -X -A -t -q -v ON_ERROR_STOP=1 -h "$XPUSH_PGHOST" -p "$XPUSH_PGPORT" \
		-U "$role" -d "$T_DB" "$@"
}

# ---- the previous release: migrations 001..006, applied by the owner as xpushd --migrate does -----
prev=()
for f in "$E2E_ROOT"/schema/00[1-6]_*.sql; do
	prev+=("$f")
done
assert_eq 6 "${#prev[@]}" "migrations of the previous release"
for f in "${prev[@]}"; do
	b=$(basename "$f" .sql)
	{
		echo "BEGIN;"
		echo "CREATE SCHEMA IF NOT EXISTS push;"
		echo "CREATE TABLE IF NOT EXISTS push.schema_version (version integer PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now());"
		cat "$f"
		echo "INSERT INTO push.schema_version (version, name) VALUES (${b%%_*}::int, '${b#*_}');"
		echo "COMMIT;"
	} | as "$OWNER" -v ON_ERROR_STOP=1 >"$T_DIR/prev.out" 2>&1 || fail "applying $b as $OWNER: $(cat "$T_DIR/prev.out")"
done
assert_eq 6 "$(sql "SELECT max(version) FROM push.schema_version")" "schema version of the previous release"
latest=$(find "$E2E_ROOT/schema" -name '[0-9][0-9][0-9]_*.sql' | wc -l)
missing=$((latest - 6))
((missing >= 1)) || fail "no migration after 006 to upgrade with"

# ---- the daemon role alone does not upgrade --------------------------------------------------------
DAEMON_CI="host=$XPUSH_PGHOST port=$XPUSH_PGPORT user=$DAEMON dbname=$T_DB"
OWNER_CI="host=$XPUSH_PGHOST port=$XPUSH_PGPORT user=$OWNER dbname=$T_DB"
write_xpushd_config pg_conninfo="$DAEMON_CI" migrate_conninfo="$OWNER_CI"
rc=0
"$XPUSHD" -c "$T_DIR/xpushd.conf" </dev/null >"$T_DIR/refused.log" 2>&1 || rc=$?
assert_eq 1 "$rc" "exit status of xpushd (daemon role, migrate_conninfo set) on the old schema"
grep -q 'msg="migration failed" error="the schema is not up to date: missing migration 007_liveness' "$T_DIR/refused.log" ||
	fail "no clear error naming the missing migrations: $(cat "$T_DIR/refused.log")"
grep -qF 'run xpushd --migrate as the schema owner (migrate_conninfo)' "$T_DIR/refused.log" ||
	fail "the error does not say how to migrate: $(cat "$T_DIR/refused.log")"
assert_eq 6 "$(sql "SELECT max(version) FROM push.schema_version")" "schema version after the refused start"

write_xpushd_config "$T_DIR/daemon-only.conf" pg_conninfo="$DAEMON_CI"
rc=0
"$XPUSHD" -c "$T_DIR/daemon-only.conf" --migrate </dev/null >"$T_DIR/daemon-migrate.log" 2>&1 || rc=$?
assert_eq 1 "$rc" "exit status of xpushd --migrate as the daemon role"
grep -q 'migration 007_liveness: ERROR: .*(this role may not change the schema: run xpushd --migrate with migrate_conninfo naming the schema owner)' \
	"$T_DIR/daemon-migrate.log" || fail "no privilege hint: $(cat "$T_DIR/daemon-migrate.log")"
assert_eq 6 "$(sql "SELECT max(version) FROM push.schema_version")" "schema version after the daemon's attempt"

# ---- the owner upgrades (migrate_conninfo), then the daemon role runs --------------------------------
out=$("$XPUSHD" -c "$T_DIR/xpushd.conf" --migrate 2>&1) || fail "xpushd --migrate (owner) failed: $out"
assert_eq "xpushd: schema up to date ($missing migration$( ((missing == 1)) || echo s) applied)" "$out" "xpushd --migrate output"
assert_eq "$latest" "$(sql "SELECT count(*) FROM push.schema_version")" "migrations recorded"
assert_eq "$OWNER" "$(sql "SELECT tableowner FROM pg_tables WHERE schemaname = 'push' AND tablename = 'deliveries'")" \
	"owner of push.deliveries"
out=$("$XPUSHD" -c "$T_DIR/xpushd.conf" --migrate 2>&1) || fail "second xpushd --migrate failed: $out"
assert_eq "xpushd: schema up to date (0 migrations applied)" "$out" "a second xpushd --migrate"

# The app, as docs/operations.md says: added by the owner and granted to the producer role.
XPUSHCTL=${XPUSHCTL:-$XPUSH_BUILD/tools/xpushctl}
XPUSH_DB="$OWNER_CI" "$XPUSHCTL" app add "$T_APP" --policy open --producer "$PRODUCER" >"$T_DIR/app.out" 2>&1 ||
	fail "xpushctl app add as the owner failed: $(cat "$T_DIR/app.out")"
start_xpushd xpushd
await_xpushd_ready xpushd
start_device phone vera vera-phone
await_device_online phone vera vera-phone
id=$(as "$PRODUCER" -v app="$T_APP" -v jid="${USER_JID[vera]}" \
	<<<"INSERT INTO push.notifications (app, to_jid, title) VALUES (:'app', :'jid', 'upgraded') RETURNING id") ||
	fail "the producer role could not enqueue"
wait_for 15 "notification $id acked" acked 1 "$id"
assert_eq "$DAEMON" "$(sql "SELECT string_agg(DISTINCT usename, ',') FROM pg_stat_activity
	WHERE datname = '$T_DB' AND application_name <> 'psql' AND backend_type = 'client backend'")" \
	"roles of xpushd's Postgres sessions"
assert_eq 0 "$(count_in "$T_DIR/xpushd.log" 'level=error')" "error lines in xpushd's log"
log "pass"
