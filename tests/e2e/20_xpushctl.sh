#!/usr/bin/env bash
# (20) xpushctl against a running xpushd and device: `send` reaches the online device and
# `status --json` shows the ledger row acked; text survives JSON byte-exact; a dedup key sent
# twice gives the same id and one notification; usage errors exit 2 with one stderr line and
# change nothing; unknown ids exit 3; a violated constraint is named (exit 1); `devices`
# filters; `stats --json` has exactly the documented keys; `retract` of an unknown id exits 3
# and of a known one records the retract; every subcommand has --help.
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "$0")/lib.sh"

XPUSHCTL=${XPUSHCTL:-$XPUSH_BUILD/tools/xpushctl}
need_bin "$XPUSHCTL"

create_test_db
new_user alice
XPUSH_DB=$(stack_conninfo "$T_DB")
export XPUSH_DB
write_xpushd_config
start_xpushd xpushd
await_xpushd_ready xpushd
start_device phone alice phone-1 --alias alice-phone --tag news --tag e2e
await_device_online phone alice phone-1
ALICE=${USER_JID[alice]}

# shellcheck source-path=SCRIPTDIR source=ctl_lib.sh
source "$(dirname "$0")/ctl_lib.sh"

notifications() {
	sql "SELECT count(*) FROM push.notifications"
}

# ---- send to an online device, status shows it acked -------------------------------------

ctl_ok send --app "$T_APP" --jid "$ALICE" --device phone-1 --title "Hello" --body "from xpushctl"
id=$(<"$T_DIR/ctl.out")
[[ $id =~ ^[0-9]+$ ]] || fail "send printed [$id], not an id"
log "sent notification $id"
wait_for 15 "device to print notification $id" grep -qF "notification id=$id " "$T_DIR/phone.out"
line=$(grep -F "notification id=$id " "$T_DIR/phone.out")
[[ $line == *'title="Hello"'* && $line == *'body="from xpushctl"'* ]] ||
	fail "device printed the wrong notification: $line"

status_state() {
	ctl status "$1" --json
	((CTL_RC == 0)) && [[ $(js 'd["deliveries"][0]["state"] if d["deliveries"] else ""') == "$2" ]]
}
wait_for 15 "xpushctl status $id --json to show the row acked" status_state "$id" acked
assert_eq "$id" "$(js 'd["notification"]["id"]')" "status: notification.id"
assert_eq 1 "$(js 'd["notification"]["acked"]')" "status: notification.acked"
assert_eq 1 "$(js 'd["notification"]["target_count"]')" "status: notification.target_count"
assert_eq 1 "$(js 'len(d["deliveries"])')" "status: ledger rows"
assert_eq "$ALICE phone-1" "$(js 'd["deliveries"][0]["jid"] + " " + d["deliveries"][0]["device"]')" \
	"status: ledger row's device"
assert_eq true "$(js 'd["deliveries"][0]["acks"] >= 1 and d["deliveries"][0]["attempts"] >= 1')" \
	"status: acks and attempts counted"
assert_eq true "$(js 'd["deliveries"][0]["acked_at"] is not None and d["deliveries"][0]["last_error"] is None')" \
	"status: acked_at set, no last_error"
ctl_ok status "$id"
grep -q 'phone-1.*acked' "$T_DIR/ctl.out" ||
	fail "text status lacks the acked ledger row: $(cat "$T_DIR/ctl.out")"

# ---- text goes through byte-exact, JSON is escaped properly ------------------------------

export E2E_TITLE=$'quote " backslash \\ tab\t newline\n slash / \xc3\xa9 \xe2\x9c\x93 \xf0\x9f\x98\x80'
printf '{"k": "v\\n", "n": 1}\n' >"$T_DIR/payload.json"
ctl_ok send --app "$T_APP" --jid "$ALICE" --title "$E2E_TITLE" --payload-file "$T_DIR/payload.json" \
	--priority high --ttl 600 --collapse e2e-c --json
hid=$(js 'd["id"]')
assert_eq true "$(js 'd["created"]')" "send --json: created"
wait_for 15 "notification $hid acked" acked 1 "$hid"
ctl_ok status "$hid" --json
python3 - "$T_DIR/ctl.out" "$T_DIR/payload.json" <<'EOF' || fail "status --json did not round-trip the text"
import json, os, sys
n = json.load(open(sys.argv[1]))["notification"]
assert n["title"] == os.environ["E2E_TITLE"], (n["title"], os.environ["E2E_TITLE"])
assert n["payload"] == open(sys.argv[2]).read(), n["payload"]
assert n["priority"] == "high" and n["ttl_seconds"] == 600 and n["collapse_key"] == "e2e-c", n
EOF
log "ok: title, payload, priority, ttl and collapse key round-trip through status --json"

# ---- dedup key: same id, one notification -------------------------------------------------

before=$(notifications)
ctl_ok send --app "$T_APP" --jid "$ALICE" --title "dedup" --dedup order-17 --json
did=$(js 'd["id"]')
assert_eq true "$(js 'd["created"]')" "first send with dedup key: created"
ctl_ok send --app "$T_APP" --jid "$ALICE" --title "dedup again" --dedup order-17 --json
assert_eq "$did" "$(js 'd["id"]')" "second send with the same dedup key: id"
assert_eq false "$(js 'd["created"]')" "second send with the same dedup key: created"
grep -qF "already used by notification $did" "$T_DIR/ctl.err" ||
	fail "second send did not say the dedup key was used: $(cat "$T_DIR/ctl.err")"
ctl_ok send --app "$T_APP" --jid "$ALICE" --title "dedup text" --dedup order-17
assert_eq "$did" "$(<"$T_DIR/ctl.out")" "third send (text): prints the existing id"
assert_eq $((before + 1)) "$(notifications)" "notifications after three sends with one dedup key"
assert_eq 1 "$(sql "SELECT count(*) FROM push.notifications WHERE dedup_key = 'order-17'")" \
	"notifications with dedup key order-17"
wait_for 15 "notification $did acked" acked 1 "$did"
wait_for 5 "device to print notification $did" grep -qF "notification id=$did " "$T_DIR/phone.out"
assert_eq 1 "$(count_in "$T_DIR/phone.out" "id=$did ")" "lines printed for notification $did"

# ---- usage errors: exit 2, one line, nothing done -----------------------------------------

before=$(notifications)
expect_error 2 "xpushctl: send: --ttl: '-5' is not a whole number in 0..2419200" \
	send --app "$T_APP" --jid "$ALICE" --ttl -5
expect_error 2 "xpushctl: send: --ttl: '2419201' is not a whole number in 0..2419200" \
	send --app "$T_APP" --jid "$ALICE" --ttl 2419201
expect_error 2 "xpushctl: send: --app is required" send --jid "$ALICE"
expect_error 2 "xpushctl: send: no target" send --app "$T_APP" --title x
expect_error 2 "xpushctl: send: --broadcast cannot be combined" send --app "$T_APP" --broadcast --jid "$ALICE"
expect_error 2 "xpushctl: send: --device needs --jid" send --app "$T_APP" --alias a --device d
expect_error 2 "xpushctl: send: --ttl and --expires exclude each other" \
	send --app "$T_APP" --broadcast --ttl 5 --expires 2030-01-01T00:00Z
expect_error 2 "xpushctl: send: --expires: 'soon' is not an ISO 8601 time" \
	send --app "$T_APP" --broadcast --expires soon
expect_error 2 "xpushctl: send: --priority: 'urgent' is not normal or high" \
	send --app "$T_APP" --broadcast --priority urgent
expect_error 2 "xpushctl: send: --title: the value contains a control character" \
	send --app "$T_APP" --broadcast --title $'bell\a'
expect_error 2 "xpushctl: send: unknown or malformed option '--frobnicate'" \
	send --app "$T_APP" --broadcast --frobnicate
expect_error 2 "xpushctl: send: --payload-file: $T_DIR/missing.json: No such file or directory" \
	send --app "$T_APP" --broadcast --payload-file "$T_DIR/missing.json"
expect_error 2 "xpushctl: status: missing notification id" status
expect_error 2 "xpushctl: status: 'abc' is not a notification id" status abc
expect_error 2 "xpushctl: retract: unexpected argument '2'" retract 1 2
expect_error 2 "xpushctl: devices: --online and --offline exclude each other" devices --online --offline
expect_error 2 "xpushctl: devices: --limit: 'many' is not a whole number" devices --limit many
expect_error 2 "xpushctl: unknown subcommand 'frob'" frob
expect_error 2 "xpushctl: missing subcommand" --json
assert_eq "$before" "$(notifications)" "notifications after the usage errors"

# ---- runtime errors: exit 1, one line -------------------------------------------------------

expect_error 1 "xpushctl: stats: cannot connect to the database:" \
	-d "$(stack_conninfo "${T_DB}_does_not_exist")" stats
sql "ALTER TABLE push.notifications ADD CONSTRAINT e2e_title_short CHECK (length(title) < 40) NOT VALID"
expect_error 1 "xpushctl: send: database error: new row for relation \"notifications\" violates check constraint \"e2e_title_short\"" \
	send --app "$T_APP" --jid "$ALICE" --title "a title that is longer than forty characters"
grep -qF '(SQLSTATE 23514, constraint e2e_title_short)' "$T_DIR/ctl.err" ||
	fail "the SQL error does not name SQLSTATE and constraint: $(cat "$T_DIR/ctl.err")"
sql "ALTER TABLE push.notifications DROP CONSTRAINT e2e_title_short"
assert_eq "$before" "$(notifications)" "notifications after the failed INSERT"

# ---- unknown ids: exit 3 ---------------------------------------------------------------------

expect_error 3 "xpushctl: status: no notification with id 999999999" status 999999999
expect_error 3 "xpushctl: status: no notification with id 999999999" status 999999999 --json
expect_error 3 "xpushctl: retract: no notification with id 999999999" retract 999999999

# ---- devices ----------------------------------------------------------------------------------

ctl_ok devices --online --json
assert_eq true "$(js '[x["device"] for x in d["devices"] if x["jid"] == "'"$ALICE"'"] == ["phone-1"]')" \
	"devices --online --json lists phone-1"
assert_eq true "$(js '[(x["online"], x["alias"], "news" in x["tags"], x["app"]) for x in d["devices"]][0] == (True, "alice-phone", True, "'"$T_APP"'")')" \
	"devices --online --json: online, alias, tags, app"
ctl_ok devices --jid "${ALICE^^}" --tag news --alias alice-phone --app "$T_APP" --json
assert_eq 1 "$(js 'len(d["devices"])')" "devices filtered by JID (any case), tag, alias and app"
ctl_ok devices --offline --json
assert_eq 0 "$(js 'len([x for x in d["devices"] if x["device"] == "phone-1"])')" "devices --offline lists phone-1"
ctl_ok devices --tag no-such-tag --json
assert_eq '{"devices": []}' "$(js 'd')" "devices --tag no-such-tag --json"
ctl_ok devices
grep -q 'phone-1' "$T_DIR/ctl.out" || fail "text devices lacks phone-1: $(cat "$T_DIR/ctl.out")"

# ---- stats ------------------------------------------------------------------------------------

ctl_ok stats --json
assert_eq "acked_last_hour acked_last_minute awaiting_fanout devices_online devices_registered expired failed failed_last_hour failed_last_minute in_flight oldest_queued_age_s queued" \
	"$(js '" ".join(sorted(d))')" "stats --json keys"
assert_eq true "$(js 'all(isinstance(v, int) for k, v in d.items() if k != "oldest_queued_age_s")')" \
	"stats --json: counts are integers"
assert_eq true "$(js 'd["acked_last_minute"] >= 3 and d["acked_last_hour"] >= d["acked_last_minute"]')" \
	"stats --json: acks of the last minute and hour"
assert_eq true "$(js 'd["devices_online"] >= 1 and d["devices_registered"] >= 1')" "stats --json: devices"
ctl_ok stats
grep -q '^acked_last_minute ' "$T_DIR/ctl.out" || fail "text stats lacks acked_last_minute"

# ---- retract ----------------------------------------------------------------------------------

ctl_ok retract "$id" --json
assert_eq 1 "$(js 'd["affected"]')" "retract $id: ledger rows affected"
assert_eq false "$(js 'd["already_retracted"]')" "retract $id: already_retracted"
ctl_ok status "$id" --json
assert_eq true "$(js 'd["notification"]["retracted_at"] is not None')" "status after retract: retracted_at set"
assert_eq true "$(js 'd["deliveries"][0]["retract_state"] in ("queued", "sent", "acked")')" \
	"status after retract: the device's row has a retract"
ctl_ok retract "$id" --json
assert_eq true "$(js 'd["already_retracted"]')" "second retract $id: already_retracted"
# A scheduled notification retracted before its fan-out never reaches anyone.
later=$(date -u -d '+1 day' +%Y-%m-%dT%H:%M:%SZ)
ctl_ok send --app "$T_APP" --jid "$ALICE" --title "scheduled" --not-before "$later"
sid=$(<"$T_DIR/ctl.out")
ctl_ok retract "$sid"
assert_eq "notification $sid retracted: 0 ledger rows affected" "$(<"$T_DIR/ctl.out")" "retract $sid (text)"
ctl_ok status "$sid" --json
assert_eq "true 0" "$(js '("true" if d["notification"]["retracted_at"] else "false") + " " + str(len(d["deliveries"]))')" \
	"status of the retracted scheduled notification"

# ---- help and version -------------------------------------------------------------------------

for sub in send status devices stats retract; do
	ctl_ok "$sub" --help
	[[ $(head -n 1 "$T_DIR/ctl.out") == "Usage: xpushctl $sub"* ]] ||
		fail "xpushctl $sub --help does not start with its usage: $(head -n 1 "$T_DIR/ctl.out")"
	grep -q '^Exit status: 0 ok, 1 database or runtime error, 2 usage error' "$T_DIR/ctl.out" ||
		fail "xpushctl $sub --help does not document the exit status"
	ctl_ok help "$sub"
done
ctl_ok --help
grep -q '^  retract ID' "$T_DIR/ctl.out" || fail "xpushctl --help does not list retract"
ctl_ok --version
[[ $(<"$T_DIR/ctl.out") == "xpushctl "[0-9]* ]] || fail "xpushctl --version: $(cat "$T_DIR/ctl.out")"

stop_proc phone TERM
stop_proc xpushd TERM
assert_eq 0 "$PROC_RC" "xpushd exit status on SIGTERM"
log "pass"
