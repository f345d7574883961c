#!/usr/bin/env bash
# (11) xpushd's configuration: a missing or wrong value exits 2 with one error line naming the
# key; --check-config accepts a good file without printing the secret; --help exits 0.
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "$0")/lib.sh"

need_bin "$XPUSHD"
create_test_db
secret=$(cat "$XPUSH_SECRET_FILE")

# expect_config_error NAME KEY CONFIG_FILE [xpushd args]: exit 2, one stderr line naming KEY.
expect_config_error() {
	local name=$1 key=$2 conf=$3 rc=0
	shift 3
	timeout 10 "$XPUSHD" -c "$conf" "$@" </dev/null >"$T_DIR/$name.out" 2>"$T_DIR/$name.err" || rc=$?
	cat "$T_DIR/$name.err" >&2
	assert_eq 2 "$rc" "$name: exit status"
	assert_eq 1 "$(grep -c . "$T_DIR/$name.err" || true)" "$name: stderr lines"
	grep -q -- "$key" "$T_DIR/$name.err" || fail "$name: the error does not name the key $key"
	if grep -qF -- "$secret" "$T_DIR/$name.out" "$T_DIR/$name.err"; then fail "$name: the secret was printed"; fi
}

write_xpushd_config "$T_DIR/good.conf"
grep -v '^component_jid' "$T_DIR/good.conf" >"$T_DIR/no-jid.conf"
expect_config_error missing_jid component_jid "$T_DIR/no-jid.conf"

write_xpushd_config "$T_DIR/bad-port.conf" server_port=banana
expect_config_error bad_port server_port "$T_DIR/bad-port.conf"

write_xpushd_config "$T_DIR/no-secret.conf" component_secret_file="$T_DIR/does-not-exist"
expect_config_error missing_secret_file component_secret_file "$T_DIR/no-secret.conf"

expect_config_error bad_override scan_interval_ms "$T_DIR/good.conf" -o scan_interval_ms=-5

rc=0
timeout 10 "$XPUSHD" -c "$T_DIR/good.conf" --check-config >"$T_DIR/check.out" 2>"$T_DIR/check.err" || rc=$?
assert_eq 0 "$rc" "--check-config on a good file: exit status"
if grep -qF -- "$secret" "$T_DIR/check.out" "$T_DIR/check.err"; then fail "--check-config printed the secret"; fi
grep -q "$XPUSH_COMPONENT_JID" "$T_DIR/check.out" "$T_DIR/check.err" || fail "--check-config did not print the component JID"

rc=0
timeout 10 "$XPUSHD" --help >"$T_DIR/help.out" 2>&1 || rc=$?
assert_eq 0 "$rc" "--help: exit status"
grep -q 'component_jid' "$T_DIR/help.out" || fail "--help does not list the component_jid setting"
log "pass"
