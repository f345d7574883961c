#!/usr/bin/env bash
# (9) The device refuses to run blind: a wrong password exits 3 with event=auth_failed, and a
# server certificate that does not chain to --ca-file exits 4 with event=tls_failed (mandatory
# TLS with verification), each within a bounded time and without displaying anything.
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "$0")/lib.sh"

create_test_db
new_user heidi
write_xpushd_config
start_xpushd xpushd
await_xpushd_ready xpushd

# Wrong password.
printf '%s' "not-the-password" >"$T_DIR/wrong.pass"
need_bin "$XPUSH_CLIENT"
"$XPUSH_CLIENT" --jid "${USER_JID[heidi]}" --host 127.0.0.1 --port "$XPUSH_C2S_PORT" \
	--ca-file "$XPUSH_CA_FILE" --component "$XPUSH_COMPONENT_JID" --app "$T_APP" \
	--device heidi-1 --state-dir "$T_DIR/badpass.state" --password-file "$T_DIR/wrong.pass" \
	</dev/null >"$T_DIR/badpass.out" 2>"$T_DIR/badpass.err" &
T_PIDS[badpass]=$!
wait_for 20 "xpush-client with a wrong password to exit" exited badpass
reap badpass
cat "$T_DIR/badpass.err" >&2
assert_eq 3 "$PROC_RC" "xpush-client exit status on a wrong password"
assert_eq 1 "$(event_count badpass auth_failed)" "event=auth_failed lines"
assert_eq 0 "$(event_count badpass online)" "event=online lines"
assert_eq 0 "$(sql "SELECT count(*) FROM push.devices")" "roster rows after a failed login"

# A CA that did not sign the server's certificate.
openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj "/CN=some other CA" \
	-keyout "$T_DIR/other-ca.key" -out "$T_DIR/other-ca.pem" >/dev/null 2>&1
"$XPUSH_CLIENT" --jid "${USER_JID[heidi]}" --host 127.0.0.1 --port "$XPUSH_C2S_PORT" \
	--ca-file "$T_DIR/other-ca.pem" --component "$XPUSH_COMPONENT_JID" --app "$T_APP" \
	--device heidi-1 --state-dir "$T_DIR/badca.state" --password-file "$T_DIR/heidi.pass" \
	</dev/null >"$T_DIR/badca.out" 2>"$T_DIR/badca.err" &
T_PIDS[badca]=$!
wait_for 20 "xpush-client with an untrusted server certificate to exit" exited badca
reap badca
cat "$T_DIR/badca.err" >&2
assert_eq 4 "$PROC_RC" "xpush-client exit status on an unverifiable server certificate"
assert_eq 1 "$(event_count badca tls_failed)" "event=tls_failed lines"
assert_eq 0 "$(event_count badca connected)" "event=connected lines"
assert_eq 0 "$(sql "SELECT count(*) FROM push.devices")" "roster rows after a refused TLS handshake"
assert_eq 0 "$(cat "$T_DIR/badpass.out" "$T_DIR/badca.out" | wc -l)" "lines displayed"
log "pass"
