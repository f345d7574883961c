#!/usr/bin/env bash
# (6) A wrong component secret makes xpushd exit 3 with a clear one-line not-authorized error,
# within a bounded time and without a tight loop.
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "$0")/lib.sh"

create_test_db
(umask 077 && openssl rand -hex 16 >"$T_DIR/wrong-secret")
write_xpushd_config component_secret_file="$T_DIR/wrong-secret" log_level=info
start_xpushd xpushd
t0=$(now_ms)
wait_for 20 "xpushd to exit after the server refused the handshake" exited xpushd
reap xpushd
elapsed=$(($(now_ms) - t0))
log "xpushd exited with status $PROC_RC after ${elapsed} ms"
cat "$T_DIR/xpushd.log" >&2
assert_eq 3 "$PROC_RC" "xpushd exit status on a refused handshake"
n=$(grep -c 'not-authorized' "$T_DIR/xpushd.log") || true
((n >= 1)) || fail "no log line mentions not-authorized"
grep 'not-authorized' "$T_DIR/xpushd.log" | grep -q 'level=error' ||
	fail "the not-authorized line is not an error-level line"
# The interface: a refused handshake logs ONE error line (with condition=not-authorized).
assert_eq 1 "$(grep -c 'level=error' "$T_DIR/xpushd.log" || true)" "error-level lines for one refused handshake"
grep 'level=error' "$T_DIR/xpushd.log" | grep -q 'condition=not-authorized' ||
	fail "the error line lacks condition=not-authorized"
lines=$(grep -vc '^---- start' "$T_DIR/xpushd.log") || true
((lines <= 20)) || fail "xpushd logged $lines lines for one refused handshake (a loop?)"
assert_eq 0 "$(ready_count xpushd)" "component ready lines"
if grep -q 'secret' "$T_DIR/xpushd.log" && grep -qF "$(cat "$T_DIR/wrong-secret")" "$T_DIR/xpushd.log"; then
	fail "xpushd logged the secret"
fi
log "pass"
