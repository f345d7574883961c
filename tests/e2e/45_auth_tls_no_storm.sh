#!/usr/bin/env bash
# (45) Final failures are final even with aggressive reconnect settings (base 50 ms): a wrong
# password and an untrusted server certificate each make exactly one connection attempt
# (counted by the relay), tell the app (event=auth_failed / tls_failed, exit 3 / 4), and stop.
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "$0")/lib.sh"
# shellcheck source-path=SCRIPTDIR source=hb_lib.sh
source "$(dirname "$0")/hb_lib.sh"

create_test_db
new_user hana
relay_start r "$XPUSH_C2S_PORT"
need_bin "$XPUSH_CLIENT"
fast=(--set reconnect_base_ms=50 --set reconnect_cap_ms=100 --set heartbeat_timeout_ms=300)

printf '%s' "not-the-password" >"$T_DIR/wrong.pass"
t0=$(now_ms)
"$XPUSH_CLIENT" --jid "${USER_JID[hana]}" --host 127.0.0.1 --port "${RELAY_PORT[r]}" \
	--ca-file "$XPUSH_CA_FILE" --component "$XPUSH_COMPONENT_JID" --app "$T_APP" \
	--device hana-1 --state-dir "$T_DIR/badpass.state" --password-file "$T_DIR/wrong.pass" \
	"${fast[@]}" </dev/null >"$T_DIR/badpass.out" 2>"$T_DIR/badpass.err" &
T_PIDS[badpass]=$!
wait_for 20 "the client with a wrong password to exit" exited badpass
reap badpass
log "wrong password: exit $PROC_RC after $(($(now_ms) - t0)) ms"
assert_eq 3 "$PROC_RC" "exit status on a wrong password"
assert_eq 1 "$(event_count badpass auth_failed)" "event=auth_failed lines"
sleep 0.5 # a storm would show up here
assert_eq 1 "$(relay_accepted r)" "connection attempts with a wrong password"

openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj "/CN=some other CA" \
	-keyout "$T_DIR/other-ca.key" -out "$T_DIR/other-ca.pem" >/dev/null 2>&1
t0=$(now_ms)
"$XPUSH_CLIENT" --jid "${USER_JID[hana]}" --host 127.0.0.1 --port "${RELAY_PORT[r]}" \
	--ca-file "$T_DIR/other-ca.pem" --component "$XPUSH_COMPONENT_JID" --app "$T_APP" \
	--device hana-1 --state-dir "$T_DIR/badca.state" --password-file "$T_DIR/hana.pass" \
	"${fast[@]}" </dev/null >"$T_DIR/badca.out" 2>"$T_DIR/badca.err" &
T_PIDS[badca]=$!
wait_for 20 "the client with an untrusted certificate to exit" exited badca
reap badca
log "untrusted certificate: exit $PROC_RC after $(($(now_ms) - t0)) ms"
assert_eq 4 "$PROC_RC" "exit status on an untrusted certificate"
assert_eq 1 "$(event_count badca tls_failed)" "event=tls_failed lines"
grep -q 'reason="certificate verification failed' "$T_DIR/badca.err" || fail "the app was not told why"
sleep 0.5
assert_eq 2 "$(relay_accepted r)" "connection attempts in total (one per client)"
log "pass"
