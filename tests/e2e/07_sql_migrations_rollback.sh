#!/usr/bin/env bash
# (7) SQL: migrations apply to an empty database and a second --migrate is a no-op; a
# rolled-back INSERT creates no notification and no delivery, with xpushd running and a device
# online (a later committed push's ack is the barrier).
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "$0")/lib.sh"

need_bin "$XPUSHD"
create_test_db
write_xpushd_config
assert_eq 0 "$(sql "SELECT count(*) FROM pg_namespace WHERE nspname = 'push'")" "push schema before --migrate"

"$XPUSHD" -c "$T_DIR/xpushd.conf" --migrate >>"$T_DIR/migrate.log" 2>&1 || fail "xpushd --migrate on an empty database exited $? (see $T_DIR/migrate.log)"
for t in devices notifications deliveries schema_version; do
	assert_eq 1 "$(sql "SELECT count(*) FROM pg_tables WHERE schemaname = 'push' AND tablename = '$t'")" "table push.$t exists"
done
v1=$(sql "SELECT * FROM push.schema_version ORDER BY 1")
[[ -n $v1 ]] || fail "push.schema_version is empty after --migrate"
log "schema_version after the first --migrate: $v1"

"$XPUSHD" -c "$T_DIR/xpushd.conf" --migrate >>"$T_DIR/migrate.log" 2>&1 || fail "second xpushd --migrate exited $? (see $T_DIR/migrate.log)"
assert_eq "$v1" "$(sql "SELECT * FROM push.schema_version ORDER BY 1")" "push.schema_version after a second --migrate"

new_user frank
start_xpushd xpushd
await_xpushd_ready xpushd
start_device phone frank frank-phone
await_device_online phone frank frank-phone

sql_script -v jid="${USER_JID[frank]}" -v app="$T_APP" <<'SQL' >/dev/null
BEGIN;
INSERT INTO push.notifications (app, to_jid, to_device, title, body)
VALUES (:'app', :'jid', 'frank-phone', 'rolled back', 'must never arrive');
ROLLBACK;
SQL
barrier=$(notify app="$T_APP" to_jid="${USER_JID[frank]}" to_device=frank-phone title="barrier" body="committed")
wait_for 15 "barrier notification $barrier acked" acked 1 "$barrier"
wait_for 5 "device to print notification $barrier" grep -qF "notification id=$barrier " "$T_DIR/phone.out"

assert_eq 0 "$(sql "SELECT count(*) FROM push.notifications WHERE title = 'rolled back'")" "notifications from the rolled-back INSERT"
assert_eq 1 "$(sql "SELECT count(*) FROM push.notifications")" "notifications in the database"
assert_eq 1 "$(sql "SELECT count(*) FROM push.deliveries")" "deliveries in the database"
assert_eq 0 "$(count_in "$T_DIR/phone.out" "rolled back")" "lines printed for the rolled-back notification"
assert_eq 1 "$(wc -l <"$T_DIR/phone.out")" "lines on the device's stdout"
log "pass"
