#!/usr/bin/env bash
# (59) Producer rules (schema 006, docs/schema.md "Forms", "Idempotency"):
# - upgrade: a database at schema 005 holding rows that break the new forms (an app with spaces,
#   a to_jid that is no JID, an alias with U+202E, expires_at a year ahead) migrates; the old
#   rows stay usable (xpushd fans the old pending push out, push.retract and a roster UPDATE of
#   them pass), the constraints are NOT VALID;
# - forms at INSERT: a to_jid that is no bare JID, an app id with spaces, bidi/control characters
#   in alias, device and tags, expires_at beyond 28 days: each refused by its named constraint;
# - retract after requeue: a device displays a push and dies before its ack (xpush-client-faults
#   after_display), the row goes back to queued with attempts 1; the retract (xpushctl as the
#   producer role) queues a <retract/>, which reaches the device when it comes back;
# - xpushctl retract as a producer role: its own notification passes, another producer's is
#   refused with "is not yours";
# - collapse + ttl 0: a ttl-0 push with a collapse key does not supersede the older push of a
#   device it does not reach (offline): the device comes back to the older one;
# - producers apart: the same dedup_key used by two producers gives two pushes (conflict target
#   (producer, app, dedup_key)); the old target (app, dedup_key) is refused loudly; a collapse
#   key does not supersede another producer's push.
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "$0")/lib.sh"

XPUSHCTL=${XPUSHCTL:-$XPUSH_BUILD/tools/xpushctl}
FAULTS_BIN=$XPUSH_BUILD/cli/xpush-client-faults
need_bin "$XPUSHCTL"
need_bin "$FAULTS_BIN"

create_test_db
new_user lia
LIA=${USER_JID[lia]}

# ---- a database at schema 005 with rows the new forms refuse ----------------------------------
# As xpushd --migrate would leave it: schema_version, each migration in its own transaction.
sql "CREATE SCHEMA push; CREATE TABLE push.schema_version (version integer PRIMARY KEY,
	name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())" >/dev/null
for f in "$E2E_ROOT"/schema/00[1-5]_*.sql; do
	b=$(basename "$f" .sql)
	sql_script -1 -c "SET client_min_messages = warning" -f "$f" \
		-c "INSERT INTO push.schema_version (version, name) VALUES (${b%%_*}, '${b#*_}')" >/dev/null ||
		fail "could not apply $b"
done
assert_eq 5 "$(sql "SELECT max(version) FROM push.schema_version")" "schema version before the upgrade"
old_dev=$(sql_script <<<"INSERT INTO push.devices (jid, app, device, alias, tags)
	VALUES ('old@$XPUSH_DOMAIN', ' org.example ', 'old-1', E'ali\\u202Ece', ARRAY[E'x\\u2066y']) RETURNING id")
old_n1=$(sql_script <<<"INSERT INTO push.notifications (app, to_jid, title)
	VALUES (' org.example ', 'not a jid@@', 'old pending') RETURNING id")
old_n2=$(sql_script -v jid="$LIA" -v app="$T_APP" <<<"INSERT INTO push.notifications (app, to_jid, title, expires_at)
	VALUES (:'app', :'jid', 'old, a year', now() + interval '1 year') RETURNING id")
sql "UPDATE push.notifications SET fanned_out_at = now(), target_count = 0 WHERE id = $old_n2" >/dev/null

write_xpushd_config
start_xpushd xpushd
await_xpushd_ready xpushd
assert_eq t "$(sql "SELECT max(version) >= 6 FROM push.schema_version")" "schema 006 applied by xpushd's start"
assert_eq "notifications_alias_form false,notifications_app_form false,notifications_device_form false,notifications_expires_range false,notifications_tags_form false,notifications_to_jid_form false" \
	"$(sql "SELECT string_agg(conname || ' ' || convalidated, ',' ORDER BY conname) FROM pg_constraint
		WHERE conrelid = 'push.notifications'::regclass AND (conname LIKE '%\_form' OR conname = 'notifications_expires_range')")" \
	"the new constraints of push.notifications (NOT VALID)"
assert_eq "devices_alias_form,devices_app_form,devices_device_form,devices_tags_form" \
	"$(sql "SELECT string_agg(conname, ',' ORDER BY conname) FROM pg_constraint
		WHERE conrelid = 'push.devices'::regclass AND conname LIKE '%\_form'")" "the new constraints of push.devices"
wait_for 15 "the old pending push $old_n1 fanned out by xpushd" \
	sql_is "true 0" "SELECT (fanned_out_at IS NOT NULL) || ' ' || target_count FROM push.notifications WHERE id = $old_n1"
assert_eq 0 "$(sql "SELECT push.retract($old_n2)")" "push.retract of an old row that breaks the forms"
sql "UPDATE push.devices SET online = false, last_seen = now() WHERE id = $old_dev" >/dev/null ||
	fail "an UPDATE of an old roster row that breaks the forms failed"
log "ok: the old rows stay usable after the upgrade"

# ---- forms at INSERT ---------------------------------------------------------------------------

# refused NAME CONSTRAINT [-v k=v]... <<<SQL: the statement fails naming CONSTRAINT.
refused() {
	local name=$1 needle=$2 out rc=0
	shift 2
	out=$(sql_script "$@" 2>&1 >/dev/null) || rc=$?
	((rc != 0)) || fail "$name: accepted"
	[[ $out == *"\"$needle\""* ]] || fail "$name: the error does not name $needle: $out"
	log "ok: $name refused by $needle"
}
base=(-v app="$T_APP" -v jid="$LIA")
for bad in 'not a jid@@' 'a@b@c' '@xpush.test' 'lia@' 'lia @xpush.test' 'lia@xpush..test' 'lia@xpush_test' $'lia\xe2\x80\xae@xpush.test' $'lia@xpush.test\t'; do
	refused "to_jid [$bad]" notifications_to_jid_form "${base[@]}" -v v="$bad" \
		<<<"INSERT INTO push.notifications (app, to_jid) VALUES (:'app', :'v')"
done
# A full JID: refused by 001's check (notifications_to_jid_check), as before.
out=$(sql_script "${base[@]}" -v v="$LIA/phone" <<<"INSERT INTO push.notifications (app, to_jid) VALUES (:'app', :'v')" 2>&1) &&
	fail "a full JID as to_jid was accepted"
log "ok: full JID refused: $(head -n 1 <<<"$out")"
for bad in ' org.example ' 'org example' 'org/example' $'org.\xc3\xa9xample'; do
	refused "app [$bad]" notifications_app_form -v jid="$LIA" -v v="$bad" \
		<<<"INSERT INTO push.notifications (app, to_jid) VALUES (:'v', :'jid')"
done
refused "to_alias U+202E" notifications_alias_form "${base[@]}" -v v=$'evil\xe2\x80\xaegnp.exe' \
	<<<"INSERT INTO push.notifications (app, to_alias) VALUES (:'app', :'v')"
refused "to_alias U+0085" notifications_alias_form "${base[@]}" -v v=$'a\xc2\x85b' \
	<<<"INSERT INTO push.notifications (app, to_alias) VALUES (:'app', :'v')"
refused "to_device U+200F" notifications_device_form "${base[@]}" -v v=$'d\xe2\x80\x8f' \
	<<<"INSERT INTO push.notifications (app, to_jid, to_device) VALUES (:'app', :'jid', :'v')"
refused "tags_any U+2066" notifications_tags_form "${base[@]}" -v v=$'t\xe2\x81\xa6' \
	<<<"INSERT INTO push.notifications (app, broadcast, tags_any) VALUES (:'app', true, ARRAY[:'v'])"
refused "tags_none U+061C" notifications_tags_form "${base[@]}" -v v=$'t\xd8\x9c' \
	<<<"INSERT INTO push.notifications (app, broadcast, tags_none) VALUES (:'app', true, ARRAY[:'v'])"
# The array rules check every element: a NULL element (the first of the two constraints that
# refuse it, by name, reports it), a bad character in the second dimension, an empty tag, a tag
# over the tag_bytes limit (64).
refused "tags_all with a NULL element" notifications_tag_bytes "${base[@]}" \
	<<<"INSERT INTO push.notifications (app, broadcast, tags_all) VALUES (:'app', true, ARRAY['a', NULL])"
refused "tags_any 2-D, U+202E in [2][2]" notifications_tags_form "${base[@]}" -v v=$'t\xe2\x80\xae' \
	<<<"INSERT INTO push.notifications (app, broadcast, tags_any) VALUES (:'app', true, ARRAY[['a', 'b'], ['c', :'v']])"
refused "tags_none with an empty tag" notifications_tag_bytes "${base[@]}" \
	<<<"INSERT INTO push.notifications (app, broadcast, tags_none) VALUES (:'app', true, ARRAY['a', ''])"
refused "tags_any with a 65-byte tag" notifications_tag_bytes "${base[@]}" \
	<<<"INSERT INTO push.notifications (app, broadcast, tags_any) VALUES (:'app', true, ARRAY['a', repeat('x', 65)])"
refused "roster tags with a NULL element" devices_tags_form \
	<<<"INSERT INTO push.devices (jid, app, device, tags) VALUES ('x@xpush.test', 'org.example', 'x1', ARRAY['a', NULL])"
refused "expires_at in 29 days" notifications_expires_range "${base[@]}" \
	<<<"INSERT INTO push.notifications (app, to_jid, expires_at) VALUES (:'app', :'jid', now() + interval '29 days')"
refused "roster alias U+202E" devices_alias_form -v v=$'ali\xe2\x80\xaece' \
	<<<"INSERT INTO push.devices (jid, app, device, alias) VALUES ('x@xpush.test', 'org.example', 'x1', :'v')"
refused "roster app with spaces" devices_app_form \
	<<<"INSERT INTO push.devices (jid, app, device) VALUES ('x@xpush.test', ' org.example ', 'x1')"
# Accepted: the forms' edges (they target nobody here; fanned out with target_count 0).
ok_ids=$(sql_script -v app="$T_APP" <<<"INSERT INTO push.notifications (app, to_jid, to_alias, expires_at, title) VALUES
	(:'app', 'xpush.test', NULL, NULL, 'domain JID'),
	(:'app', E'M\\u00fcller@b\\u00fccher.example', NULL, NULL, 'IDN'),
	(:'app', 'a_b.c+d@10.0.0.1', NULL, NULL, 'IPv4 domain'),
	(:'app', NULL, E'\\u05d0\\u05d1 \\u65e5 x''; -- <&>', now() + interval '28 days' - interval '1 second', 'alias')
	RETURNING id") || fail "valid forms were refused"
assert_eq 4 "$(wc -l <<<"$ok_ids")" "notifications with valid forms accepted"
# Tags: a comma, spaces and non-ASCII letters are legal, and a 64-byte tag is at the limit.
tag_ids=$(sql_script -v app="$T_APP" <<<"INSERT INTO push.notifications (app, broadcast, tags_any, tags_all) VALUES
	(:'app', true, ARRAY['a,b', 'c d', E'\\u00e9t\\u00e9'], ARRAY[repeat('x', 64)])
	RETURNING id") || fail "valid tags were refused"
assert_eq 1 "$(wc -l <<<"$tag_ids")" "notification with valid tags accepted"

# ---- producer roles ----------------------------------------------------------------------------

P1=p1_$T_UID P2=p2_$T_UID
stack_psql postgres -c "CREATE ROLE $P1 LOGIN IN ROLE xpush_producer" \
	-c "CREATE ROLE $P2 LOGIN IN ROLE xpush_producer" >/dev/null || fail "could not create the producer roles"
_roles_cleanup() {
	local rc=$?
	for name in "${!T_PIDS[@]}"; do kill -TERM "${T_PIDS[$name]}" 2>/dev/null || true; done
	sleep 0.3
	stack_psql postgres -c "DROP DATABASE IF EXISTS \"$T_DB\" WITH (FORCE)" >/dev/null 2>&1 || true
	stack_psql postgres -c "DROP ROLE IF EXISTS $P1, $P2" >/dev/null 2>&1 || true
	(exit "$rc")
	_e2e_cleanup
}
trap _roles_cleanup EXIT
conninfo_of() { echo "host=$XPUSH_PGHOST port=$XPUSH_PGPORT user=$1 dbname=$T_DB"; }
# as ROLE [psql args] <<<SQL
as() {
	local role=$1
	shift
	"$XPUSH_PGBIN/psql" -X -A -t -q -v ON_ERROR_STOP=1 -h "$XPUSH_PGHOST" -p "$XPUSH_PGPORT" \
		-U "$role" -d "$T_DB" "$@"
}
# ins ROLE [col=value]...: INSERT as ROLE for lia's devices; prints the id.
ins() {
	local role=$1 kv cols=(app to_jid) vals=(":'app'" ":'jid'") args=(-v app="$T_APP" -v jid="$LIA")
	shift
	for kv in "$@"; do
		cols+=("${kv%%=*}")
		vals+=(":'${kv%%=*}'")
		args+=(-v "${kv%%=*}=${kv#*=}")
	done
	local IFS=,
	as "$role" "${args[@]}" <<<"INSERT INTO push.notifications (${cols[*]}) VALUES (${vals[*]}) RETURNING id;"
}
CTL_RC=0
# ctl ROLE ARGS...: xpushctl as ROLE; stdout ctl.out, stderr ctl.err, status CTL_RC.
ctl() {
	local role=$1
	shift
	CTL_RC=0
	"$XPUSHCTL" -d "$(conninfo_of "$role")" "$@" >"$T_DIR/ctl.out" 2>"$T_DIR/ctl.err" </dev/null || CTL_RC=$?
}

# ---- retract after requeue ---------------------------------------------------------------------

row() {
	sql "SELECT state || ' ' || coalesce(retract_state, '-') || ' ' || attempts FROM push.deliveries WHERE notification_id = $1"
}
row_is() { [[ $(row "$1") == "$2" ]]; }

XPUSH_CLIENT_PLAIN=$XPUSH_CLIENT
XPUSH_CLIENT=$FAULTS_BIN
export XPUSH_FAULT=after_display:1
start_device phone lia lia-phone
unset XPUSH_FAULT
XPUSH_CLIENT=$XPUSH_CLIENT_PLAIN
await_device_online phone lia lia-phone
r=$(ins "$P1" title="shown, ack lost" to_device=lia-phone) || fail "$P1 could not enqueue"
wait_for 15 "the device to die after displaying $r" exited phone
reap phone
assert_eq 137 "$PROC_RC" "the device's exit status (SIGKILL after display)"
assert_eq 1 "$(count_in "$T_DIR/phone.out" "notification id=$r ")" "lines displayed for $r before the crash"
wait_for 15 "notification $r back to queued after the device went offline" row_is "$r" "queued - 1"
device_offline lia lia-phone || fail "the device is not offline in the roster"

ctl "$P2" retract "$r"
((CTL_RC == 1)) || fail "xpushctl retract of $P1's $r as $P2: exit $CTL_RC ($(cat "$T_DIR/ctl.err"))"
grep -qF "xpushctl: retract: notification $r is not yours" "$T_DIR/ctl.err" ||
	fail "xpushctl retract as another producer: $(cat "$T_DIR/ctl.err")"
assert_eq "queued - 1" "$(row "$r")" "ledger row of $r after another producer's retract"
ctl "$P1" retract "$r" --json
((CTL_RC == 0)) || fail "xpushctl retract $r as its producer $P1: exit $CTL_RC ($(cat "$T_DIR/ctl.err"))"
assert_eq '{"id":'"$r"',"affected":1,"already_retracted":false}' "$(cat "$T_DIR/ctl.out")" "xpushctl retract --json as $P1"
assert_eq "retracted queued 1" "$(row "$r")" "ledger row of $r after the retract: a <retract/> is queued"

# ---- collapse + ttl 0, the device offline ------------------------------------------------------

c1=$(ins "$P1" title="score 1-0" collapse_key=score-ttl0)
wait_for 15 "$c1 queued" row_is "$c1" "queued - 0"
c2=$(ins "$P1" title="score 2-0 (now or never)" collapse_key=score-ttl0 ttl_seconds=0)
wait_for 15 "$c2 expired for the offline device" row_is "$c2" "expired - 0"
assert_eq "queued - 0" "$(row "$c1")" "ledger row of $c1 after a ttl-0 push with its key missed the device"

# ---- producers apart: collapse and dedup --------------------------------------------------------

x1=$(ins "$P1" title="p1 weather" collapse_key=weather)
wait_for 15 "$x1 queued" row_is "$x1" "queued - 0"
x2=$(ins "$P2" title="p2 weather" collapse_key=weather)
wait_for 15 "$x2 queued" row_is "$x2" "queued - 0"
assert_eq "queued - 0" "$(row "$x1")" "ledger row of $P1's $x1 after $P2's push with the same collapse key"

RETRY="INSERT INTO push.notifications (app, to_jid, title, dedup_key) VALUES (:'app', :'jid', :'t', 'order-1')
	ON CONFLICT (producer, app, dedup_key) WHERE dedup_key IS NOT NULL DO NOTHING RETURNING id"
d1=$(as "$P1" -v app="$T_APP" -v jid="$LIA" -v t="p1 order-1" <<<"$RETRY")
[[ $d1 =~ ^[0-9]+$ ]] || fail "$P1's first dedup INSERT returned [$d1]"
d2=$(as "$P2" -v app="$T_APP" -v jid="$LIA" -v t="p2 order-1" <<<"$RETRY")
[[ $d2 =~ ^[0-9]+$ ]] || fail "$P2's INSERT with the dedup_key $P1 used returned [$d2]: its push would be lost"
assert_eq "" "$(as "$P1" -v app="$T_APP" -v jid="$LIA" -v t="p1 retry" <<<"$RETRY")" "$P1's retry (no row back: it exists)"
assert_eq "" "$(as "$P2" -v app="$T_APP" -v jid="$LIA" -v t="p2 retry" <<<"$RETRY")" "$P2's retry"
out=$(as "$P2" -v app="$T_APP" -v jid="$LIA" <<<"INSERT INTO push.notifications (app, to_jid, dedup_key) VALUES (:'app', :'jid', 'order-1')
	ON CONFLICT (app, dedup_key) WHERE dedup_key IS NOT NULL DO NOTHING RETURNING id" 2>&1) &&
	fail "the old conflict target (app, dedup_key) was accepted: $out"
[[ $out == *"no unique or exclusion constraint matching the ON CONFLICT specification"* ]] ||
	fail "the old conflict target failed otherwise: $out"
log "ok: the old conflict target is refused loudly"
assert_eq "" "$(as "$P2" -v app="$T_APP" -v jid="$LIA" <<<"INSERT INTO push.notifications (app, to_jid, dedup_key)
	VALUES (:'app', :'jid', 'order-1') ON CONFLICT DO NOTHING RETURNING id")" "$P2's retry without a conflict target"
ctl "$P2" send --app "$T_APP" --jid "$LIA" --title "p2 order-1 via xpushctl" --dedup order-1 --json
((CTL_RC == 0)) || fail "xpushctl send --dedup as $P2: exit $CTL_RC ($(cat "$T_DIR/ctl.err"))"
assert_eq '{"id":'"$d2"',"created":false,"dedup_key":"order-1"}' "$(cat "$T_DIR/ctl.out")" "xpushctl send --dedup order-1 as $P2 (its own earlier push)"
ctl "$P1" send --app "$T_APP" --jid "$LIA" --title "p1 order-2 via xpushctl" --dedup order-2 --json
((CTL_RC == 0)) || fail "xpushctl send --dedup order-2 as $P1: exit $CTL_RC ($(cat "$T_DIR/ctl.err"))"
e1=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["id"])' "$T_DIR/ctl.out")
ctl "$P2" send --app "$T_APP" --jid "$LIA" --title "p2 order-2 via xpushctl" --dedup order-2 --json
((CTL_RC == 0)) || fail "xpushctl send --dedup order-2 as $P2: exit $CTL_RC ($(cat "$T_DIR/ctl.err"))"
e2=$(python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(d["id"] if d["created"] else "")' "$T_DIR/ctl.out")
[[ -n $e2 && $e2 != "$e1" ]] || fail "xpushctl send --dedup order-2 as $P2 did not create its own push: $(cat "$T_DIR/ctl.out")"
assert_eq 2 "$(sql "SELECT count(*) FROM push.notifications WHERE dedup_key = 'order-1'")" "pushes with dedup_key order-1 (one per producer)"

# ---- the device comes back -------------------------------------------------------------------------

start_device phone lia lia-phone
await_device_online phone lia lia-phone
OUT=$T_DIR/phone.out
wait_for 15 "the device to print 'retract id=$r'" grep -qxF "retract id=$r" "$OUT"
wait_for 15 "the retract of $r acked in the ledger" row_is "$r" "retracted acked 1"
grep -qE "event=retract id=$r seen=1( |$)" "$T_DIR/phone.err" ||
	fail "the device did not log event=retract id=$r seen=1 (it had displayed $r)"
for id in "$c1" "$x1" "$x2" "$d1" "$d2" "$e1" "$e2"; do
	wait_for 15 "notification $id acked" acked 1 "$id"
	wait_for 5 "the device to print notification $id" grep -qF "notification id=$id " "$OUT"
done
assert_eq 1 "$(count_in "$OUT" "notification id=$r ")" "lines displayed for $r"
assert_eq 0 "$(count_in "$OUT" "notification id=$c2 ")" "lines displayed for the ttl-0 $c2"
assert_eq "expired - 0" "$(row "$c2")" "ledger row of $c2 at the end"
assert_eq 0 "$(count_in "$T_DIR/xpushd.log" 'level=error')" "error lines in xpushd's log"

# ---- the ledger follows deletes (statement triggers in place of foreign keys) ------------------
stop_proc phone TERM
assert_eq 1 "$(sql "SELECT count(*) FROM push.deliveries WHERE notification_id = $d1")" "ledger rows of $d1 before"
sql "DELETE FROM push.notifications WHERE id = $d1" >/dev/null || fail "DELETE of notification $d1 failed"
assert_eq 0 "$(sql "SELECT count(*) FROM push.deliveries WHERE notification_id = $d1")" "ledger rows of deleted $d1"
dev=$(sql "SELECT device_id FROM push.deliveries WHERE notification_id = $d2")
[[ -n $dev ]] || fail "no ledger row for $d2"
left=$(sql "SELECT count(*) FROM push.deliveries WHERE device_id <> $dev")
sql "DELETE FROM push.devices WHERE id = $dev" >/dev/null || fail "DELETE of device $dev failed"
assert_eq 0 "$(sql "SELECT count(*) FROM push.deliveries WHERE device_id = $dev")" "ledger rows of deleted device $dev"
assert_eq "$left" "$(sql "SELECT count(*) FROM push.deliveries")" "other devices' ledger rows kept"
sql "TRUNCATE push.notifications" >/dev/null || fail "TRUNCATE push.notifications failed"
assert_eq 0 "$(sql "SELECT count(*) FROM push.deliveries")" "ledger rows after TRUNCATE push.notifications"
log "pass"
