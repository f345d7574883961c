# shellcheck shell=bash
# ctl_lib.sh: running xpushctl in an end-to-end test (sourced after lib.sh; XPUSHCTL names the
# binary).

# ctl ARGS...: run xpushctl; stdout in ctl.out, stderr in ctl.err, exit status in CTL_RC;
# every run is appended to ctl.log.
CTL_RC=0
ctl() {
	CTL_RC=0
	"$XPUSHCTL" "$@" >"$T_DIR/ctl.out" 2>"$T_DIR/ctl.err" </dev/null || CTL_RC=$?
	{
		printf '$ xpushctl'
		printf ' %q' "$@"
		echo
		cat "$T_DIR/ctl.out" "$T_DIR/ctl.err"
		echo "(exit $CTL_RC)"
	} >>"$T_DIR/ctl.log"
}

ctl_ok() {
	ctl "$@"
	((CTL_RC == 0)) || fail "xpushctl $* exited $CTL_RC: $(cat "$T_DIR/ctl.err")"
}

# js EXPR: a Python expression over the JSON document xpushctl printed (bound to d); strings
# print as they are, anything else as JSON.
js() {
	python3 - "$T_DIR/ctl.out" "$1" <<'EOF'
import json, sys
with open(sys.argv[1]) as f:
    d = json.load(f)
v = eval(sys.argv[2], {"d": d, "json": json})
print(v if isinstance(v, str) else json.dumps(v))
EOF
}

# expect_error CODE MESSAGE ARGS...: xpushctl exits CODE, prints nothing on stdout and exactly
# one stderr line that starts with MESSAGE.
expect_error() {
	local code=$1 msg=$2 line
	shift 2
	ctl "$@"
	((CTL_RC == code)) || fail "xpushctl $*: exit $CTL_RC, expected $code ($(cat "$T_DIR/ctl.err"))"
	[[ ! -s $T_DIR/ctl.out ]] || fail "xpushctl $*: printed on stdout: $(cat "$T_DIR/ctl.out")"
	(($(wc -l <"$T_DIR/ctl.err") == 1)) ||
		fail "xpushctl $*: expected one stderr line, got: $(cat "$T_DIR/ctl.err")"
	line=$(<"$T_DIR/ctl.err")
	[[ $line == "$msg"* ]] || fail "xpushctl $*: stderr [$line] does not start with [$msg]"
	log "ok: exit $code: $line"
}
