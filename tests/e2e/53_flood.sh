#!/usr/bin/env bash
# (53) A flood of 10,000 IQs in one second from one account (tests/fake/xmpp_flood.py) while a
# device of another account waits for a push: xpushd throttles the flooder (rate_per_jid,
# rate_burst; xpush_throttled_total on /metrics, at most one 'throttled' log line a second),
# answers every IQ (a result within the burst, resource-constraint naming rate_per_jid beyond),
# stays responsive, and the other account's push is delivered promptly, displayed once, and
# the ledger is exact.
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "$0")/lib.sh"

create_test_db
new_user victor
new_user mallory
read -r MPORT < <(stack_free_ports 1)
COMP=$XPUSH_COMPONENT_JID
write_xpushd_config metrics_port="$MPORT" log_level=info
start_xpushd xpushd
await_xpushd_ready xpushd
start_device phone victor victor-phone --json
await_device_online phone victor victor-phone
metric() {
	curl -s "http://127.0.0.1:$MPORT/metrics" | awk -v m="$1" '$1 == m { print $2 }'
}
throttled0=$(metric xpush_throttled_total)
[[ -n $throttled0 ]] || fail "/metrics has no xpush_throttled_total"

python3 "$E2E_ROOT/tests/fake/xmpp_flood.py" --jid "${USER_JID[mallory]}" --password-file "$T_DIR/mallory.pass" \
	--port "$XPUSH_C2S_PORT" --ca-file "$XPUSH_CA_FILE" --to "$COMP" --count 10000 --rate 10000 --timeout 30 \
	>"$T_DIR/flood.json" 2>"$T_DIR/flood.err" &
T_PIDS[flood]=$!
# While the flood runs (xpushd has begun throttling it): a push to victor, timed from INSERT to
# the device's ack in the ledger.
flood_started() { (($(metric xpush_throttled_total) > throttled0)); }
wait_for 15 "xpushd to start throttling the flood" flood_started
id=$(notify app="$T_APP" to_jid="${USER_JID[victor]}" title="during the flood")
wait_for 10 "notification $id acked during the flood" acked 1 "$id"
lat=$(sql "SELECT round(extract(epoch FROM acked_at - n.created_at) * 1000) FROM push.deliveries d JOIN push.notifications n ON n.id = d.notification_id WHERE d.notification_id = $id")
log "victor's push: INSERT to ack ${lat} ms during the flood"
# A generous bound (a regression guard, not a benchmark), scaled on slow builds (sanitizers).
bound=$((3000 * ${XPUSH_WAIT_SCALE:-1}))
((lat < bound)) || fail "victor's push took ${lat} ms from INSERT to ack during the flood (want < $bound)"
# xpushd answers a ping from a third party at once while the flood is being answered.
t0=$(now_ms)
python3 "$(dirname "$0")/xmpp.py" --jid "${USER_JID[victor]}" --password-file "$T_DIR/victor.pass" \
	--port "$XPUSH_C2S_PORT" --ca-file "$XPUSH_CA_FILE" --resource probe \
	--send "<iq type='get' to='$COMP' id='probe1'><ping xmlns='urn:xmpp:ping'/></iq>" \
	--await-id probe1 --timeout 10 >"$T_DIR/probe.out" 2>&1 || fail "xpushd did not answer victor's ping during the flood"
grep -F 'id="probe1"' "$T_DIR/probe.out" | grep -qF 'type="result"' || fail "victor's ping was not answered with a result: $(cat "$T_DIR/probe.out")"
log "victor's ping answered in $(($(now_ms) - t0)) ms (login included)"

wait_for 60 "the flood to end" exited flood
reap flood
cat "$T_DIR/flood.json" "$T_DIR/flood.err" >&2
assert_eq 0 "$PROC_RC" "flooder's exit status (every IQ answered)"
read -r sent results throttled unanswered secs < <(python3 -c '
import json, sys
s = json.load(open(sys.argv[1]))
print(s["sent"], s["results"], s["errors"].get("resource-constraint", 0), s["unanswered"], s["send_seconds"])' "$T_DIR/flood.json")
log "flood: sent $sent in ${secs}s, $results results, $throttled resource-constraint, $unanswered unanswered"
assert_eq 10000 "$sent" "IQs sent"
assert_eq 10000 "$((results + throttled))" "IQs answered with a result or resource-constraint"
((results >= 100 && results <= 1000)) || fail "$results IQs passed the limiter (burst 100 + 20/s over the flood)"
((throttled >= 9000)) || fail "only $throttled IQs were throttled"
throttled1=$(metric xpush_throttled_total)
((throttled1 - throttled0 >= throttled)) || fail "xpush_throttled_total rose by $((throttled1 - throttled0)), fewer than the $throttled refusals"
lines=$(grep -c 'msg="throttled"' "$T_DIR/xpushd.log" || true)
((lines >= 1)) || fail "xpushd did not log a throttled line"
((lines <= 1 + ${secs%.*} + 2)) || fail "xpushd logged $lines throttled lines for a ${secs}s flood (at most one a second)"
grep -m1 'msg="throttled"' "$T_DIR/xpushd.log" | grep -q 'limit=rate_per_jid' || fail "the throttled line does not name rate_per_jid"

# Nothing harmed: another push after the flood, the ledger exact.
id2=$(notify app="$T_APP" to_jid="${USER_JID[victor]}" title="after the flood")
wait_for 10 "notification $id2 acked" acked 1 "$id2"
wait_for 5 "the device to print $id2" grep -qF "\"id\":\"$id2\"" "$T_DIR/phone.out"
assert_eq 2 "$(wc -l <"$T_DIR/phone.out")" "lines displayed by victor's device"
assert_eq "acked 1" "$(delivery_rows "$id")" "ledger row of the push sent during the flood"
assert_eq 2 "$(sql "SELECT count(*) FROM push.deliveries")" "ledger rows"
kill -0 "$(pid_of xpushd)" || fail "xpushd died"
log "pass"
