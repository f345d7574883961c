#!/usr/bin/env bash
# (85) xpushctl's app, device, watch and multi-JID send against xpushd and two devices: `app
# add/policy/list/grant/revoke/token` write and show push.apps (JSON and text) and refuse an
# unknown app or role (exit 3) and bad usage (exit 2); `send` with two --jid enqueues one
# notification per JID, each acked by its device; `watch` prints the ledger's changes live as
# JSON Lines (acked rows of both), `watch --id` the current state, and exits 4 when --count is
# not reached within --timeout; `device unregister` takes a device off the roster (a push to it
# then targets nobody); a producer role sends and retracts its own push with xpushctl and is
# refused another's.
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "$0")/lib.sh"

XPUSHCTL=${XPUSHCTL:-$XPUSH_BUILD/tools/xpushctl}
need_bin "$XPUSHCTL"
create_test_db
new_user alice
new_user bob
ALICE=${USER_JID[alice]} BOB=${USER_JID[bob]}
XPUSH_DB=$(stack_conninfo "$T_DB")
export XPUSH_DB
write_xpushd_config unknown_apps=refuse
start_xpushd xpushd
await_xpushd_ready xpushd

# A producer login role (cluster-wide: a unique name, dropped at exit).
SHOP=shop_$T_UID
stack_psql postgres -c "CREATE ROLE $SHOP LOGIN IN ROLE xpush_producer" >/dev/null ||
	fail "could not create role $SHOP"
_ctl_cleanup() {
	local rc=$?
	for name in "${!T_PIDS[@]}"; do kill -TERM "${T_PIDS[$name]}" 2>/dev/null || true; done
	for name in "${!T_PIDS[@]}"; do wait_for 10 "$name to exit" exited "$name"; done
	stack_psql postgres -c "DROP DATABASE IF EXISTS \"$T_DB\" WITH (FORCE)" >/dev/null 2>&1 || true
	stack_psql postgres -c "DROP ROLE IF EXISTS $SHOP" >/dev/null 2>&1 || true
	(exit "$rc")
	_e2e_cleanup
}
trap _ctl_cleanup EXIT

# shellcheck source-path=SCRIPTDIR source=ctl_lib.sh
source "$(dirname "$0")/ctl_lib.sh"

# ---- app -----------------------------------------------------------------------------------------

ctl_ok app add "$T_APP" --policy acl --acl "$ALICE" --acl "$BOB" --producer "$SHOP" --json
assert_eq "$T_APP acl" "$(js 'd["app"] + " " + d["policy"]')" "app add --json: app and policy"
assert_eq "[\"$ALICE\", \"$BOB\"]" "$(js 'd["acl"]')" "app add --json: acl"
assert_eq null "$(js 'd["secret"]')" "app add: no secret for an acl app"
start_device phone alice phone-1
start_device tablet bob tablet-1
await_device_online phone alice phone-1
await_device_online tablet bob tablet-1

ctl_ok app list --json
a0='d["apps"][0]'
assert_eq "$T_APP acl 2 [\"$SHOP\"] null" \
	"$(js "${a0}[\"app\"] + ' ' + ${a0}[\"policy\"] + ' ' + str(${a0}[\"devices_registered\"]) + ' ' + json.dumps(${a0}[\"producers\"]) + ' ' + json.dumps(${a0}[\"secret\"])")" \
	"app list --json: the app, its policy, devices, producers, no secret"
ctl_ok app list
grep -q "^$T_APP *acl" "$T_DIR/ctl.out" || fail "app list (text) lacks the app: $(cat "$T_DIR/ctl.out")"
ctl_ok app add com.example.other --json
[[ $(js 'd["secret"]') =~ ^[0-9a-f]{64}$ ]] || fail "app add (token) printed no secret"
ctl_ok app list --show-secret --json
[[ $(js '[a["secret"] for a in d["apps"] if a["app"] == "com.example.other"][0]') =~ ^[0-9a-f]{64}$ ]] ||
	fail "app list --show-secret shows no secret"
ctl_ok app policy com.example.other open --json
assert_eq "open null" "$(js 'd["policy"] + " " + json.dumps(d["new_secret"])')" "app policy open: no new secret"
ctl_ok app token com.example.other --jid "$ALICE" --device phone-1
grep -q "its devices need no token" "$T_DIR/ctl.err" || fail "app token on an open app gave no note"
expect_error 1 "xpushctl: app token: app $T_APP has no secret (policy acl)" \
	app token "$T_APP" --jid "$ALICE" --device phone-1
ctl_ok app token com.example.other --jid "$ALICE" --device x --expires 2099-01-01T00:00:00Z --json
assert_eq 4070908800 "$(js 'd["expires"]')" "app token --expires: the expiry"

expect_error 3 "xpushctl: app policy: no app com.example.nosuch" app policy com.example.nosuch open
expect_error 3 "xpushctl: app token: no app com.example.nosuch" app token com.example.nosuch --jid "$ALICE" --device d
expect_error 3 "xpushctl: app grant: no role nosuch_$T_UID" app grant "$T_APP" "nosuch_$T_UID"
expect_error 1 "xpushctl: app add: database error: duplicate key value" app add "$T_APP" --policy open
expect_error 1 "xpushctl: app add: database error: new row for relation \"apps\" violates check constraint \"apps_acl_form\"" \
	app add com.example.bad --policy acl --acl 'not a jid'
expect_error 2 "xpushctl: app add: --acl needs --policy acl" app add com.example.x --acl "$ALICE"
expect_error 2 "xpushctl: app policy: 'never' is not a policy: open, acl or token" app policy "$T_APP" never
expect_error 2 "xpushctl: app: unknown action 'remove'" app remove "$T_APP"
expect_error 2 "xpushctl: app token: --ttl: '0' is not a whole number in 1..31536000" \
	app token "$T_APP" --jid "$ALICE" --device d --ttl 0
expect_error 2 "xpushctl: watch: option '--acl' does not apply here" watch --acl x
expect_error 2 "xpushctl: send: --dedup needs exactly one --jid" send --app "$T_APP" --jid "$ALICE" --jid "$BOB" --dedup k

# ---- send to two JIDs, watched live -------------------------------------------------------------

"$XPUSHCTL" watch --json --count 1000 --timeout 60 >"$T_DIR/watch.out" 2>"$T_DIR/watch.err" </dev/null &
T_PIDS[watch]=$!
# It follows what is enqueued after it has read where "now" is; it says so on stderr.
wait_for 10 "watch to start" grep -qE "^xpushctl: watch: following notifications from id [0-9]+$" "$T_DIR/watch.err"
ctl_ok send --app "$T_APP" --jid "$ALICE" --jid "$BOB" --title "to both" --json
ida=$(js 'd["notifications"][0]["id"]') idb=$(js 'd["notifications"][1]["id"]')
assert_eq "$ALICE $BOB" "$(js 'd["notifications"][0]["jid"] + " " + d["notifications"][1]["jid"]')" \
	"send with two --jid: one notification per JID, in order"
wait_for 15 "notification $ida acked" acked 1 "$ida"
wait_for 15 "notification $idb acked" acked 1 "$idb"
watched() {
	python3 - "$T_DIR/watch.out" "$@" <<'EOF'
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
want = {(int(i), j) for i, j in zip(sys.argv[2::2], sys.argv[3::2])}
got = {(r["id"], r["jid"]) for r in rows if r["state"] == "acked" and r["acks"] >= 1}
assert want <= got, (want, got)
assert all(set(r) == {"at", "id", "app", "jid", "device", "state", "attempts", "acks",
                      "retract_state", "last_error"} for r in rows), rows
EOF
}
wait_for 15 "watch to print both acked rows" watched "$ida" "$ALICE" "$idb" "$BOB"
log "ok: watch printed: $(tr '\n' ' ' <"$T_DIR/watch.out" | cut -c1-300)"
stop_proc watch

ctl_ok watch --id "$ida" --count 1 --timeout 10
[[ $(<"$T_DIR/ctl.out") == *" id=$ida app=$T_APP jid=$ALICE device=phone-1 state=acked attempts=1 acks=1"* ]] ||
	fail "watch --id printed [$(cat "$T_DIR/ctl.out")]"
expect_error 4 "xpushctl: watch: timed out after 1s with 0 of 5 changes" watch --from-id 1000000 --count 5 --timeout 1
ctl_ok send --app "$T_APP" --jid "$ALICE" --jid "$BOB"
assert_eq 2 "$(wc -l <"$T_DIR/ctl.out")" "send with two --jid (text): two ids"

# ---- device unregister ------------------------------------------------------------------------------

ctl_ok device unregister --app "$T_APP" --jid "$BOB" --device tablet-1 --json
assert_eq "$BOB tablet-1" "$(js 'd["unregistered"][0]["jid"] + " " + d["unregistered"][0]["device"]')" \
	"device unregister: the device"
ctl_ok device unregister --app "$T_APP" --jid "$BOB"
grep -qF "no registered device matches" "$T_DIR/ctl.out" || fail "a second unregister did not say so"
id=$(notify app="$T_APP" to_jid="$BOB" title="after unregister")
wait_for 15 "notification $id fanned out" sql_is 0 "SELECT target_count FROM push.notifications WHERE id = $id AND fanned_out_at IS NOT NULL"
log "ok: a push to the unregistered device targets nobody"

# ---- a producer: send and retract its own ----------------------------------------------------------

SHOPDB="$XPUSH_DB user=$SHOP"
ctl_ok -d "$SHOPDB" send --app "$T_APP" --jid "$ALICE" --title "from the shop" --ttl 600
sid=$(<"$T_DIR/ctl.out")
wait_for 15 "notification $sid acked" acked 1 "$sid"
ctl_ok -d "$SHOPDB" retract "$sid" --json
assert_eq "false" "$(js 'd["already_retracted"]')" "a producer retracts its own push"
wait_for 15 "the retract of $sid acked" sql_is acked "SELECT retract_state FROM push.deliveries WHERE notification_id = $sid"
expect_error 1 "xpushctl: retract: notification $ida is not yours" -d "$SHOPDB" retract "$ida"
ctl_ok app revoke "$T_APP" "$SHOP"
expect_error 1 "xpushctl: send: database error: new row violates row-level security policy \"producer_app_granted\"" \
	-d "$SHOPDB" send --app "$T_APP" --jid "$ALICE"
