#!/usr/bin/env bash
# (72) Nothing lost when a phone vanishes or xpushd restarts. xpushd at ack_timeout_ms = 1000,
# max_attempts = 3, devices that are not libxpush (tests/e2e/xmpp.py, acking and answering pings
# as any XMPP device may) and libxpush through the fault relay:
#  A. vanish: the device stops reading (SIGSTOP: no FIN) while pushes are sent to it and stays
#     silent for more than max_attempts x ack_timeout_ms; one probe goes unanswered, the device
#     is silent (offline), its rows wait queued without a strike; its old session dies, it logs
#     in with a new one and gets every push once.
#     Another vanishes the same way and resumes the same session (SIGCONT: out of the tunnel):
#     it reads what waited, acks it and answers the probe; it is online again.
#  B. restarts are not attempts: xpushd SIGKILLed and restarted three times, each time with one
#     push on the wire whose ack had not arrived (the device drops its first three acks); the
#     fourth send is acked (attempts 4, strikes 0) instead of the row stranding.
#  C. over max_devices_per_jid (lowered after three devices registered), a registered device may
#     still register again and come online; a new one is refused.
#  E. a client without XEP-0199 (answers the probe with an error) whose first ack is lost: sent
#     again, no strike, still online; a client that acks late and ignores pings: its ack brings
#     it back at once.
#  D. libxpush behind a carrier NAT that drops the mapping silently (relay `expire`) for longer
#     than max_attempts x ack_timeout_ms: the pushes sent into the dead path are delivered once
#     on the device's next connection, none failed.
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "$0")/lib.sh"
# shellcheck source-path=SCRIPTDIR source=hb_lib.sh
source "$(dirname "$0")/hb_lib.sh"

create_test_db

# sends FILE ID: how many times notification ID reached the session that wrote FILE.
sends() {
	local n
	n=$(grep -c "id=\"xp\.$2\." "$T_DIR/$1.out" 2>/dev/null) || true
	echo "${n:-0}"
}
sends_at_least() { (($(sends "$1" "$2") >= $3)); }
rows() {
	sql "SELECT state, attempts, strikes, count(*) FROM push.deliveries
		WHERE notification_id IN ($1) GROUP BY 1, 2, 3 ORDER BY 1, 2, 3"
}

# ---- B: restarts are not attempts ------------------------------------------------------------
new_user rex
write_xpushd_config max_attempts=3 ack_timeout_ms=60000 scan_interval_ms=1000 \
	reconnect_min_ms=100 reconnect_max_ms=500
start_xpushd xpushd
await_xpushd_ready xpushd
scripted_device rex rex rex-phone --ack --answer-pings --drop-first 3
wait_for 15 "rex's device online" device_online rex rex-phone
pb=$(notify app="$T_APP" to_jid="${USER_JID[rex]}" title="through three restarts")
for k in 1 2 3; do
	wait_for 15 "send $k of $pb on the wire" sends_at_least rex "$pb" "$k"
	stop_proc xpushd KILL
	start_xpushd xpushd
	await_xpushd_ready xpushd "$((k + 1))"
done
wait_for 20 "push $pb acked after three restarts" acked 1 "$pb"
assert_eq "acked|4|0|1" "$(rows "$pb")" "the row after three restarts with its ack lost (state|attempts|strikes)"
assert_eq 4 "$(sends rex "$pb")" "sends of $pb"
stop_proc rex
stop_proc xpushd

# ---- C: an existing device registers again over max_devices_per_jid -------------------------
new_user mia
reg() {  # reg DEVICE ID: register DEVICE from mia's session, print the reply
	python3 "$E2E_ROOT/tests/e2e/xmpp.py" --jid "${USER_JID[mia]}" --password-file "$T_DIR/mia.pass" \
		--port "$XPUSH_C2S_PORT" --ca-file "$XPUSH_CA_FILE" --resource "m-$1" \
		--send "<iq type='set' id='$2' to='$XPUSH_COMPONENT_JID'><register xmlns='urn:xpush:0' app='$T_APP' device='$1'/></iq>" \
		--await-id "$2" --timeout 15 </dev/null
}
write_xpushd_config max_attempts=3 ack_timeout_ms=1000 scan_interval_ms=1000 max_devices_per_jid=3 \
	reconnect_min_ms=100 reconnect_max_ms=500
start_xpushd xpushd
await_xpushd_ready xpushd 5
for dv in mia-1 mia-2 mia-3; do
	out=$(reg "$dv" "reg-$dv") || fail "register $dv: no reply"
	[[ $out == *":registered "* ]] || fail "register $dv under the limit: $out"
done
stop_proc xpushd
write_xpushd_config max_attempts=3 ack_timeout_ms=1000 scan_interval_ms=1000 max_devices_per_jid=1 \
	reconnect_min_ms=100 reconnect_max_ms=500
start_xpushd xpushd
await_xpushd_ready xpushd 6
out=$(reg mia-2 again-2) || fail "re-register mia-2: no reply"
[[ $out == *":registered "* ]] || fail "a registered device could not register again over the limit: $out"
out=$(reg mia-4 new-4) || fail "register mia-4: no reply"
[[ $out == *"resource-constraint"* && $out == *max_devices_per_jid* ]] ||
	fail "a new device over the limit was not refused: $out"
log "ok: over max_devices_per_jid a registered device registers again, a new one is refused"

# ---- A: a device vanishes without a FIN and comes back with a new session -------------------
new_user vic
scripted_device vic vic vic-phone --ack --answer-pings
wait_for 15 "vic's device online" device_online vic vic-phone
warm=$(notify app="$T_APP" to_jid="${USER_JID[vic]}" title="before the tunnel")
wait_for 10 "push $warm acked" acked 1 "$warm"
kill -STOP "${T_PIDS[vic]}"
t_stop=$(now_ms)
mapfile -t va < <(notify_many 3 app="$T_APP" to_jid="${USER_JID[vic]}" title="into the tunnel")
expect vic-phone "${va[@]}"
valist=$(IFS=,; echo "${va[*]}")
wait_for 15 "the vanished device silent" sql_is "f|t" \
	"SELECT online, silent_since IS NOT NULL FROM push.devices WHERE device = 'vic-phone'"
log_has xpushd "devices silent: no answer to a probe" || fail "xpushd did not log the silent device"
# Silent for longer than max_attempts x ack_timeout_ms: nothing fails, nothing is resent.
_long_silence() { (($(now_ms) - t_stop >= 4500)); }
wait_for 15 "4.5 s of silence" _long_silence
assert_eq "queued|1|0|3" "$(rows "$valist")" "rows of the vanished device (state|attempts|strikes)"
assert_eq 0 "$(sql "SELECT stuck FROM push.queue_health")" "queue_health.stuck"
# Its old session dies (the process ends: the server sees the socket close), a new one begins.
kill -KILL "${T_PIDS[vic]}"
wait "${T_PIDS[vic]}" 2>/dev/null || true
unset "T_PIDS[vic]"
scripted_device vic2 vic vic-phone --ack --answer-pings
for id in "${va[@]}"; do
	wait_for 20 "push $id acked on the new session" acked 1 "$id"
	assert_eq 1 "$(sends vic2 "$id")" "sends of $id to the new session"
done
assert_eq "acked|2|0|3" "$(rows "$valist")" "rows after the new session (state|attempts|strikes)"
stop_proc vic2

new_user una
scripted_device una una una-phone --ack --answer-pings
wait_for 15 "una's device online" device_online una una-phone
kill -STOP "${T_PIDS[una]}"
mapfile -t ua < <(notify_many 2 app="$T_APP" to_jid="${USER_JID[una]}" title="a short tunnel")
ualist=$(IFS=,; echo "${ua[*]}")
wait_for 15 "una's device silent" sql_is "f|t" \
	"SELECT online, silent_since IS NOT NULL FROM push.devices WHERE device = 'una-phone'"
kill -CONT "${T_PIDS[una]}"
wait_for 15 "una's pushes acked from the resumed session" sql_is 2 \
	"SELECT count(*) FROM push.deliveries WHERE notification_id IN ($ualist) AND state = 'acked' AND strikes = 0"
wait_for 15 "una's device online again (it answered the probe)" sql_is "t|f" \
	"SELECT online, silent_since IS NOT NULL FROM push.devices WHERE device = 'una-phone'"
p=$(notify app="$T_APP" to_jid="${USER_JID[una]}" title="after the tunnel")
wait_for 15 "a new push acked on the resumed session" acked 1 "$p"
stop_proc una

# ---- E: devices that cannot be judged alive by a ping -----------------------------------------
# A client without XEP-0199 answers the probe with an error: its unacked send goes again without
# a strike and the device stays online. A slow client that does not answer pings at all acks
# after the probe ran out: the ack is a sign of life, the device is online again at once.
new_user eve
scripted_device eve eve eve-phone --ack --drop-first 1 --ping-error
wait_for 15 "eve's device online" device_online eve eve-phone
pe=$(notify app="$T_APP" to_jid="${USER_JID[eve]}" title="ack lost, ping refused")
wait_for 15 "push $pe acked after an error answered the probe" acked 1 "$pe"
assert_eq "acked|2|0|1" "$(rows "$pe")" "the row (state|attempts|strikes)"
(($(grep -c 'id="xq\.' "$T_DIR/eve.out") >= 1)) || fail "eve's session was never probed"
assert_eq "t|f" "$(sql "SELECT online, silent_since IS NOT NULL FROM push.devices WHERE device = 'eve-phone'")" \
	"eve's device after the error answer (online|silent)"
stop_proc eve
new_user sid
scripted_device sid sid sid-phone --ack --ack-delay 3
wait_for 15 "sid's device online" device_online sid sid-phone
ps1=$(notify app="$T_APP" to_jid="${USER_JID[sid]}" title="slow ack 1")
wait_for 15 "push $ps1 acked late" acked 1 "$ps1"
wait_for 10 "sid's device online and not probed after its late ack" sql_is "t|f|f" \
	"SELECT online, silent_since IS NOT NULL, probe_until IS NOT NULL FROM push.devices WHERE device = 'sid-phone'"
ps2=$(notify app="$T_APP" to_jid="${USER_JID[sid]}" title="slow ack 2")
wait_for 15 "push $ps2 sent to the slow device" sends_at_least sid "$ps2" 1
wait_for 15 "push $ps2 acked" acked 1 "$ps2"
assert_eq 0 "$(sql "SELECT count(*) FROM push.deliveries WHERE notification_id IN ($ps1, $ps2) AND strikes > 0")" \
	"strikes on the slow device's pushes"
stop_proc sid

# ---- D: libxpush behind a NAT that drops the mapping silently --------------------------------
new_user dan
relay_start nat "$XPUSH_C2S_PORT"
# shellcheck disable=SC2046
start_device dan dan dan-phone --port "${RELAY_PORT[nat]}" $(hb_set 6000 6000 1000 2 1500) \
	--set heartbeat_adaptive=false --set heartbeat_ms=6000
await_device_online dan dan dan-phone
relay nat expire all >/dev/null
t_exp=$(now_ms)
mapfile -t da < <(notify_many 3 app="$T_APP" to_jid="${USER_JID[dan]}" title="into a dead NAT")
expect dan-phone "${da[@]}"
dalist=$(IFS=,; echo "${da[*]}")
for id in "${da[@]}"; do
	wait_for 30 "push $id acked after the device reconnected" acked 1 "$id"
done
(($(relay_accepted nat) >= 2)) || fail "the device never reconnected through the relay"
t_acc=$(relay_log_ms nat 'accept id=2 ' | head -n 1)
silence=$((t_acc - t_exp))
log "dan's pushes acked $(($(now_ms) - t_exp)) ms after the NAT dropped the mapping; silent for $silence ms"
((silence > 3000)) || fail "the device was silent only $silence ms, not longer than max_attempts x ack_timeout_ms"
assert_eq 0 "$(sql "SELECT count(*) FROM push.deliveries WHERE notification_id IN ($dalist) AND strikes > 0")" \
	"strikes on pushes sent into the dead NAT"

touch "$T_DIR/vic-display.out"
# vic's sessions are scripted: the ledger and the sends above are their oracle; dan is libxpush.
grep -v ' vic-phone$' "$T_EXPECTED" >"$T_EXPECTED.libxpush" || true
mv "$T_EXPECTED.libxpush" "$T_EXPECTED"
check_oracle dan-phone=dan
assert_eq 0 "$(sql "SELECT count(*) FROM push.deliveries WHERE state = 'failed'")" "failed rows"
assert_eq 0 "$(sql "SELECT stuck FROM push.queue_health")" "queue_health.stuck"
log "pass"
