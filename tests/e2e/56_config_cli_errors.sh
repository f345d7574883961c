#!/usr/bin/env bash
# (56) Hostile or broken configuration and command lines (extends e2e 11 and 20): xpushd,
# xpush-client and xpushctl each answer an unknown key or option, a bad value or an unusable
# file with ONE stderr line naming the problem and a non-zero exit status (2 = usage/config),
# never print the secret, and never start half-configured. Includes the regressions found by
# fuzz_config: control bytes in a value stay on one line, a directory as config file is an error.
# The XMPP server plays no part: Prosody only.
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "$0")/lib.sh"
only_on prosody "command-line and config parsing do not depend on the XMPP server"

XPUSHCTL=${XPUSHCTL:-$XPUSH_BUILD/tools/xpushctl}
need_bin "$XPUSHD"
need_bin "$XPUSH_CLIENT"
need_bin "$XPUSHCTL"
secret=$(cat "$XPUSH_SECRET_FILE")
write_xpushd_config "$T_DIR/good.conf"

# expect NAME STATUS NEEDLE CMD...: CMD exits STATUS within 10 s, prints nothing on stdout and
# exactly one stderr line containing NEEDLE; the secret appears nowhere.
expect() {
	local name=$1 want=$2 needle=$3 rc=0
	shift 3
	timeout 10 "$@" </dev/null >"$T_DIR/$name.out" 2>"$T_DIR/$name.err" || rc=$?
	assert_eq "$want" "$rc" "$name: exit status"
	assert_eq 1 "$(wc -l <"$T_DIR/$name.err")" "$name: stderr lines ($(head -c 300 "$T_DIR/$name.err"))"
	[[ ! -s $T_DIR/$name.out ]] || fail "$name: printed on stdout: $(head -c 200 "$T_DIR/$name.out")"
	grep -qF -- "$needle" "$T_DIR/$name.err" || fail "$name: the error does not say [$needle]: $(cat "$T_DIR/$name.err")"
	if grep -qF -- "$secret" "$T_DIR/$name.out" "$T_DIR/$name.err"; then fail "$name: the secret was printed"; fi
	log "ok: $name: $(cat "$T_DIR/$name.err")"
}

# ---- xpushd ------------------------------------------------------------------------------------

cp "$T_DIR/good.conf" "$T_DIR/unknown.conf"; echo "max_stanza_byte = 1" >>"$T_DIR/unknown.conf"
expect xd_unknown_key 2 "max_stanza_byte: unknown key" "$XPUSHD" -c "$T_DIR/unknown.conf" --check-config
cp "$T_DIR/good.conf" "$T_DIR/inline.conf"; echo "component_secret = $secret" >>"$T_DIR/inline.conf"
expect xd_inline_secret 2 "component_secret: not accepted inline" "$XPUSHD" -c "$T_DIR/inline.conf" --check-config
for kv in "max_stanza_bytes=16777217" "rate_per_jid=0" "max_tags=-1" "server_port=0x50" \
	"max_devices_per_jid=4294967296" "log_level=verbose" "batch_size= " "reconnect_max_ms=1"; do
	k=${kv%%=*}
	expect "xd_bad_$k" 2 "$k" "$XPUSHD" -c "$T_DIR/good.conf" -o "$kv" --check-config
done
expect xd_no_equals 2 "expected key=value" "$XPUSHD" -c "$T_DIR/good.conf" -o "max_tags" --check-config
expect xd_value_newline 2 "server_port: '1?2'" "$XPUSHD" -c "$T_DIR/good.conf" -o $'server_port=1\n2' --check-config
expect xd_value_escape 2 "log_level: '?[2J'" "$XPUSHD" -c "$T_DIR/good.conf" -o $'log_level=\e[2J' --check-config
expect xd_missing_file 2 "$T_DIR/nope.conf: No such file or directory" "$XPUSHD" -c "$T_DIR/nope.conf" --check-config
expect xd_dir_as_file 2 "$T_DIR: Is a directory" "$XPUSHD" -c "$T_DIR" --check-config
printf 'component_jid = %s\n' "$(head -c 5000 /dev/zero | tr '\0' a)" >"$T_DIR/long.conf"
expect xd_long_line 2 "line too long" "$XPUSHD" -c "$T_DIR/long.conf" --check-config
printf 'component_jid = push.xpush.test\n\x00\x01garbage\n' >"$T_DIR/binary.conf"
expect xd_binary 2 "binary.conf:2" "$XPUSHD" -c "$T_DIR/binary.conf" --check-config
printf 'short' >"$T_DIR/short.secret"
expect xd_short_secret 2 "at least 16 bytes" "$XPUSHD" -c "$T_DIR/good.conf" -o component_secret_file="$T_DIR/short.secret" --check-config
expect xd_secret_dir 2 "component_secret_file" "$XPUSHD" -c "$T_DIR/good.conf" -o component_secret_file="$T_DIR" --check-config
expect xd_unknown_option 2 "unknown or malformed option '--frobnicate'" "$XPUSHD" --frobnicate
expect xd_extra_argument 2 "unexpected argument 'extra'" "$XPUSHD" -c "$T_DIR/good.conf" extra

# ---- xpush-client --------------------------------------------------------------------------------

printf 'pw' >"$T_DIR/pw"
dev=(--jid "dev@$XPUSH_DOMAIN" --host 127.0.0.1 --port "$XPUSH_C2S_PORT" --ca-file "$XPUSH_CA_FILE"
	--component "$XPUSH_COMPONENT_JID" --app "$T_APP" --device d1 --state-dir "$T_DIR/dev.state" --password-file "$T_DIR/pw")
expect xc_unknown_option 2 "unknown option --frob" "$XPUSH_CLIENT" "${dev[@]}" --frob
expect xc_bad_port 2 "invalid --port" "$XPUSH_CLIENT" "${dev[@]}" --port 70000
expect xc_set_unknown 2 'unknown key "nope"' "$XPUSH_CLIENT" "${dev[@]}" --set nope=1
expect xc_set_bad_value 2 "heartbeat_ms" "$XPUSH_CLIENT" "${dev[@]}" --set heartbeat_ms=soon
expect xc_count 2 "--count" "$XPUSH_CLIENT" "${dev[@]}" --count many
expect xc_log_level 2 "--log-level" "$XPUSH_CLIENT" "${dev[@]}" --log-level chatty
expect xc_missing_jid 2 "--jid" "$XPUSH_CLIENT" --component "$XPUSH_COMPONENT_JID" --app a --device d --state-dir "$T_DIR/x"
expect xc_password_missing 2 "--password-file" "$XPUSH_CLIENT" "${dev[@]}" --password-file "$T_DIR/nope.pass"
expect xc_password_dir 2 "--password-file: $T_DIR is a directory" "$XPUSH_CLIENT" "${dev[@]}" --password-file "$T_DIR"
touch "$T_DIR/plainfile"
expect xc_state_not_dir 1 "$T_DIR/plainfile" "$XPUSH_CLIENT" "${dev[@]}" --state-dir "$T_DIR/plainfile"
expect xc_ca_missing 2 "--ca-file" "$XPUSH_CLIENT" "${dev[@]}" --ca-file "$T_DIR/nope.pem"

# ---- xpushctl -----------------------------------------------------------------------------------

expect ctl_unknown_global 2 "unknown or malformed option" "$XPUSHCTL" --frobnicate stats
expect ctl_bad_conninfo 1 "cannot connect to the database" "$XPUSHCTL" -d "host=/nonexistent dbname=x connect_timeout=2" stats
expect ctl_payload_dir 2 "--payload-file" "$XPUSHCTL" -d "$(stack_conninfo postgres)" send --app a --broadcast --payload-file "$T_DIR"
expect ctl_title_escape 2 "control character" "$XPUSHCTL" -d "$(stack_conninfo postgres)" send --app a --broadcast --title $'\e]0;pwned\a'
log "pass"
