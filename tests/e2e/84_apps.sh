#!/usr/bin/env bash
# (84) Who may register for an app (docs/apps.md). A database at schema 007 with devices and
# pushes of two apps is upgraded by xpushd: both become open apps granted to every producer, and
# the migration logs one warning per app. With the default unknown_apps = refuse, a device of an
# app without a row is refused (item-not-found). Policy open admits anyone; acl admits the listed
# JID and the listed domain and refuses another account with forbidden; token refuses a device
# without a token, with a token minted for another JID (a replay), with a wrong secret and with
# an expired one (not-authorized, each with its own text), and admits tokens minted by xpushctl
# and by the Python of docs/apps.md; an enrolled device registers again without one. libxpush
# (xpush-client --register-token) comes online with a token and receives a push, and stops with
# the refusal's text without one. A producer role enqueues only for apps granted to it.
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "$0")/lib.sh"

XPUSHCTL=${XPUSHCTL:-$XPUSH_BUILD/tools/xpushctl}
need_bin "$XPUSHCTL"
need_bin "$XPUSHD"
create_test_db
new_user alice
new_user bob
new_user carol
ALICE=${USER_JID[alice]} BOB=${USER_JID[bob]} CAROL=${USER_JID[carol]}
XPUSH_DB=$(stack_conninfo "$T_DB")
export XPUSH_DB

# ---- an existing deployment at schema 007 is upgraded -----------------------------------------

sql "CREATE SCHEMA push; CREATE TABLE push.schema_version (version integer PRIMARY KEY,
	name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())" >/dev/null
for f in "$E2E_ROOT"/schema/00[1-7]_*.sql; do
	base=$(basename "$f" .sql)
	sql_script -1 -f "$f" >/dev/null 2>&1 || fail "could not apply $base by hand"
	sql "INSERT INTO push.schema_version (version, name) VALUES (${base%%_*}, '${base#*_}')"
done
sql "INSERT INTO push.devices (jid, app, device) VALUES ('$ALICE', 'com.example.legacy', 'old-1');
	INSERT INTO push.notifications (app, broadcast, title) VALUES ('com.example.legacy2', true, 'x')" \
	>/dev/null
# A producer login role (cluster-wide: a unique name, dropped at exit; schema 003 made the group).
SHOP=shop_$T_UID
stack_psql postgres -c "CREATE ROLE $SHOP LOGIN IN ROLE xpush_producer" >/dev/null ||
	fail "could not create role $SHOP"
_apps_cleanup() {
	local rc=$?
	for name in "${!T_PIDS[@]}"; do kill -TERM "${T_PIDS[$name]}" 2>/dev/null || true; done
	for name in "${!T_PIDS[@]}"; do wait_for 10 "$name to exit" exited "$name"; done
	stack_psql postgres -c "DROP DATABASE IF EXISTS \"$T_DB\" WITH (FORCE)" >/dev/null 2>&1 || true
	stack_psql postgres -c "DROP ROLE IF EXISTS $SHOP" >/dev/null 2>&1 || true
	(exit "$rc")
	_e2e_cleanup
}
trap _apps_cleanup EXIT

write_xpushd_config unknown_apps=refuse
"$XPUSHD" -c "$T_DIR/xpushd.conf" --migrate >"$T_DIR/migrate.log" 2>&1 ||
	fail "xpushd --migrate from schema 007 failed: $(cat "$T_DIR/migrate.log")"
assert_eq "com.example.legacy:open:xpush_producer com.example.legacy2:open:xpush_producer" \
	"$(sql "SELECT string_agg(a.app || ':' || a.policy || ':' || p.producer, ' ' ORDER BY a.app)
		FROM push.apps a JOIN push.app_producers p USING (app)")" "apps made by the upgrade"
for a in com.example.legacy com.example.legacy2; do
	grep -F 'msg="migration"' "$T_DIR/migrate.log" | grep -qF "app $a: registration policy open" ||
		fail "the upgrade did not log that $a is open: $(cat "$T_DIR/migrate.log")"
done
log "ok: the upgrade logged: $(grep -F 'msg="migration"' "$T_DIR/migrate.log" | head -n 1)"

start_xpushd xpushd
await_xpushd_ready xpushd

# ---- registrations -----------------------------------------------------------------------------

# reg USER APP DEVICE [TOKEN]: one <register/> from USER's account (tests/e2e/xmpp.py); sets
# REPLY to "TYPE CONDITION FROM TEXT" of xpushd's answer (iq_reply).
REG_N=0
reg() {
	local user=$1 app=$2 device=$3 token=${4:-} body="" out
	REG_N=$((REG_N + 1))
	out=$T_DIR/reg$REG_N.out
	[[ -z $token ]] || body="<token>$token</token>"
	python3 "$E2E_ROOT/tests/e2e/xmpp.py" --jid "${USER_JID[$user]}" \
		--password-file "$T_DIR/$user.pass" --port "$XPUSH_C2S_PORT" --ca-file "$XPUSH_CA_FILE" \
		--resource "r$REG_N" --await-id "reg$REG_N" --timeout 15 \
		--send "<iq type='set' id='reg$REG_N' to='$XPUSH_COMPONENT_JID'><register xmlns='urn:xpush:0' app='$app' device='$device'>$body</register></iq>" \
		>"$out" 2>"$T_DIR/reg$REG_N.err" || fail "no answer to register $REG_N ($user $app $device): $(cat "$T_DIR/reg$REG_N.err")"
	REPLY=$(iq_reply "$out" "reg$REG_N")
}

# admitted USER APP DEVICE [TOKEN]: registered, and the roster has the device.
admitted() {
	reg "$@"
	[[ $REPLY == "result "* ]] || fail "register $1 $2 $3 was refused: $REPLY"
	assert_eq 1 "$(sql "SELECT count(*) FROM push.devices WHERE jid = '${USER_JID[$1]}' AND app = '$2'
		AND device = '$3' AND unregistered_at IS NULL")" "$1 registered $3 for $2"
}

# refused USER APP DEVICE TOKEN EXPECTED: refused with EXPECTED ("TYPE CONDITION FROM TEXT"
# prefix); nothing written to the roster.
refused() {
	local want=$5
	reg "$1" "$2" "$3" "$4"
	[[ $REPLY == "$want"* ]] || fail "register $1 $2 $3: expected [$want...], got [$REPLY]"
	assert_eq 0 "$(sql "SELECT count(*) FROM push.devices WHERE jid = '${USER_JID[$1]}' AND app = '$2'
		AND device = '$3' AND unregistered_at IS NULL")" "$1's refused $3 for $2 not in the roster"
}
C=$XPUSH_COMPONENT_JID

refused alice com.example.unknown a1 "" \
	"error item-not-found $C unknown app com.example.unknown: this push service does not serve it"
admitted bob com.example.legacy b1

"$XPUSHCTL" app add com.example.open --policy open >/dev/null || fail "app add open"
admitted carol com.example.open c1

"$XPUSHCTL" app add com.example.acl --policy acl --acl "$ALICE" >/dev/null || fail "app add acl"
admitted alice com.example.acl a1
refused bob com.example.acl b1 "" \
	"error forbidden $C $BOB may not register for app com.example.acl (not on its access list)"
"$XPUSHCTL" app policy com.example.acl acl --acl "$XPUSH_DOMAIN" >/dev/null || fail "app policy acl"
admitted bob com.example.acl b1

# token: the secret printed by app add, tokens from xpushctl and from docs/apps.md's Python.
"$XPUSHCTL" app add com.example.tok --json >"$T_DIR/add.json" || fail "app add token"
SECRET=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["secret"])' "$T_DIR/add.json")
[[ $SECRET =~ ^[0-9a-f]{64}$ ]] || fail "app add printed no 64-hex secret: $(cat "$T_DIR/add.json")"
awk '/^```python$/ { on = 1; next } /^```$/ { on = 0 } on' "$E2E_ROOT/docs/apps.md" >"$T_DIR/mint_token.py"
grep -q 'def mint_token' "$T_DIR/mint_token.py" || fail "docs/apps.md has no mint_token example"
pymint() { # SECRET JID DEVICE TTL
	python3 -c 'import sys; sys.path.insert(0, sys.argv[1]); from mint_token import mint_token
print(mint_token(sys.argv[2], sys.argv[3], "com.example.tok", sys.argv[4], int(sys.argv[5])))' \
		"$T_DIR" "$@"
}
TOK_A=$("$XPUSHCTL" app token com.example.tok --jid "$ALICE" --device a1 --ttl 600) || fail "app token"
[[ $TOK_A =~ ^v1\.[0-9]+\.[0-9a-f]{64}$ ]] || fail "app token printed [$TOK_A]"
T_REFUSED="error not-authorized $C"
refused alice com.example.tok a1 "" "$T_REFUSED app com.example.tok requires a registration token"
refused bob com.example.tok a1 "$TOK_A" \
	"$T_REFUSED registration token not valid for this account, app and device (wrong secret, or minted for another JID or device)"
refused alice com.example.tok a2 "$TOK_A" "$T_REFUSED registration token not valid"
refused alice com.example.tok a1 "$(pymint "wrong-secret-wrong-secret-wrong-secret" "$ALICE" a1 600)" \
	"$T_REFUSED registration token not valid"
refused carol com.example.tok c1 "$(pymint "$SECRET" "$CAROL" c1 -60)" "$T_REFUSED registration token expired at 20"
refused carol com.example.tok c1 "v1.12.zz" "$T_REFUSED registration token malformed"
admitted alice com.example.tok a1 "$TOK_A"
admitted alice com.example.tok a1 # enrolled: no token needed to register again
UPPER=$(tr 'a-z' 'A-Z' <<<"${CAROL%@*}")@${CAROL#*@}
admitted carol com.example.tok c1 "$(pymint "$SECRET" "$UPPER" c1 600)"
log "ok: a token minted by docs/apps.md's Python (from the JID in upper case) admitted carol"
grep -qF 'msg="registration refused"' "$T_DIR/xpushd.log" || fail "xpushd logged no refusal"

# A rotated secret: old tokens no longer enrol anyone.
TOK_B=$("$XPUSHCTL" app token com.example.tok --jid "$BOB" --device b9 --ttl 600) || fail "app token bob"
"$XPUSHCTL" app policy com.example.tok token --rotate-secret --json >"$T_DIR/rot.json" || fail "rotate"
[[ $(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["new_secret"] or "")' "$T_DIR/rot.json") != "$SECRET" ]] ||
	fail "--rotate-secret printed no new secret: $(cat "$T_DIR/rot.json")"
refused bob com.example.tok b9 "$TOK_B" "$T_REFUSED registration token not valid"

# ---- libxpush with --register-token ---------------------------------------------------------------

TOK_D=$("$XPUSHCTL" app token com.example.tok --jid "$BOB" --device lib-1 --ttl 600) || fail "app token"
T_APP=com.example.tok
start_device phone bob lib-1 --register-token "$TOK_D"
await_device_online phone bob lib-1
id=$(notify app=com.example.tok to_jid="$BOB" title="tokened")
wait_for 15 "the tokened device to print notification $id" grep -qF "notification id=$id " "$T_DIR/phone.out"
log "ok: xpush-client --register-token registered and received notification $id"
start_device stranger carol lib-2
wait_for 15 "xpush-client without a token to stop" exited stranger
reap stranger
((PROC_RC != 0)) || fail "xpush-client without a token exited 0"
grep -qF "registration refused: not-authorized: app com.example.tok requires a registration token" \
	"$T_DIR/stranger.err" || fail "xpush-client did not say why: $(tail -n 5 "$T_DIR/stranger.err")"
log "ok: xpush-client without a token stopped (exit $PROC_RC) with the refusal's text"

# ---- producers per app -----------------------------------------------------------------------------

as_shop() {
	"$XPUSH_PGBIN/psql" -X -A -t -q -v ON_ERROR_STOP=1 -h "$XPUSH_PGHOST" -p "$XPUSH_PGPORT" \
		-U "$SHOP" -d "$T_DB" -c "INSERT INTO push.notifications (app, broadcast, title)
		VALUES ('$1', true, 'from shop') RETURNING id" 2>&1
}
out=$(as_shop com.example.tok) && fail "a producer enqueued for an app not granted to it: $out"
[[ $out == *'row-level security policy "producer_app_granted"'* ]] || fail "unexpected error: $out"
log "ok: refused: $out"
as_shop com.example.legacy >/dev/null || fail "the upgrade's grant to xpush_producer did not let $SHOP enqueue"
"$XPUSHCTL" app grant com.example.tok "$SHOP" >/dev/null || fail "app grant"
as_shop com.example.tok >/dev/null || fail "$SHOP could not enqueue after app grant"
"$XPUSHCTL" app revoke com.example.tok "$SHOP" >/dev/null || fail "app revoke"
out=$(as_shop com.example.tok) && fail "$SHOP enqueued after app revoke"
log "ok: a producer enqueues only for the apps granted to it (grant, revoke)"
