#!/usr/bin/env bash
# (71) docs/servers.md is true: the config snippets marked "xpush-test" (xpushd's, and the one
# of the server of this pass) are cut out of the page, given this machine's names, ports,
# paths and secret, with the silent-session timers scaled from minutes to seconds (nothing
# else changed), and run on a server of the test's own:
# - xpushd connects with the page's xpushd.conf, a device gets a push;
# - a healthy device idle for longer than the server's idle limit stays connected;
# - a device that goes silent (SIGSTOP: its TCP stays up, nothing answers) is declared
#   unavailable to xpushd within the page's bound (Prosody: R + H with a push in flight;
#   ejabberd: ping_interval + ping_ack_timeout + resume_timeout), not before H;
# - the push sent into the silent session is delivered once after the device wakes up
#   (SIGCONT), finds its connection closed and logs in again.
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "$0")/lib.sh"

DOC=$E2E_ROOT/docs/servers.md
[[ -f $DOC ]] || fail "no $DOC"

# The scaled timers (seconds) and the page's bound with them.
R=2 H=1 PI=2 PAT=1
case $XPUSH_SERVER in
prosody) bound=$((R + H + 1)) ;; # +1: Prosody's hibernation watchdog counts whole seconds
ejabberd) bound=$((PI + PAT + H)) ;;
esac
MARGIN=3

# doc_block NAME: the fenced block that follows "<!-- xpush-test: NAME -->" in the page, with
# this stack's names, ports, paths and secret, and the timers scaled.
doc_block() {
	python3 - "$DOC" "$1" "$XPUSH_DOMAIN" "$SECRET" "$C2S" "$COMP" "$XPUSH_STATE/ca" \
		"$SRV_DIR/ejabberd/conf/server.pem" "$XPUSH_SECRET_FILE" "$(stack_conninfo "$T_DB")" \
		"$R" "$H" "$PI" "$PAT" <<'EOF'
import re, sys
doc, name, domain, secret, c2s, comp, ca, pem, secret_file, conninfo, R, H, PI, PAT = sys.argv[1:]
text = open(doc, encoding="utf-8").read()
m = re.search(r"<!-- xpush-test: " + re.escape(name) + r" -->\n```[a-z]*\n(.*?)\n```", text, re.S)
if not m:
    sys.exit(f"docs/servers.md has no block marked xpush-test: {name}")
b = m.group(1)
subs = [
    ("/etc/prosody/certs/example.org.crt", f"{ca}/server.crt"),
    ("/etc/prosody/certs/example.org.key", f"{ca}/server.key"),
    ("/etc/ejabberd/example.org.pem", pem),
    ("/etc/xpush/secret\n", secret_file + "\n"),
    ("REPLACE-WITH-THE-SECRET-IN-/etc/xpush/secret", secret),
    ('ip: "::"', 'ip: "127.0.0.1"'),
    ("example.org", domain),
]
for a, z in subs:
    b = b.replace(a, z)
b = re.sub(r"\b5222\b", c2s, b)
b = re.sub(r"\b5347\b", comp, b)
b = re.sub(r"^pg_conninfo = .*$", "pg_conninfo = " + conninfo, b, flags=re.M)
timers = {"read_timeout": R, "smacks_hibernation_time": H, "resume_timeout": H,
          "ping_interval": PI, "ping_ack_timeout": PAT}
for key, v in timers.items():
    b = re.sub(r"\b(" + key + r"\s*[:=]\s*)\d+", r"\g<1>" + v, b)
print(b)
EOF
}

SECRET=$(<"$XPUSH_SECRET_FILE")
SRV_DIR=$T_DIR/srv
mkdir -p "$SRV_DIR"
chmod 755 "$SRV_DIR"
ln -sfn "$XPUSH_STATE/ca" "$SRV_DIR/ca"
read -r C2S COMP DIST < <(stack_free_ports 3)
create_test_db

case $XPUSH_SERVER in
prosody)
	command -v prosody >/dev/null || fail "prosody is not installed"
	mkdir -p "$SRV_DIR/data"
	{
		cat <<EOF
-- e2e 71: test-only settings first, then the block of docs/servers.md
run_as_root = true
pidfile = "$SRV_DIR/prosody.pid"
data_path = "$SRV_DIR/data"
log = { { levels = { min = "debug" }, to = "file", filename = "$SRV_DIR/prosody.log" } }
interfaces = { "127.0.0.1" }
c2s_ports = { $C2S }
c2s_interfaces = { "127.0.0.1" }
modules_disabled = { "s2s", "s2s_auth_certs" }
EOF
		doc_block prosody || exit 1
	} >"$SRV_DIR/prosody.cfg.lua" || fail "could not build the Prosody config from $DOC"
	setsid prosody --config "$SRV_DIR/prosody.cfg.lua" -F >"$SRV_DIR/stdout.log" 2>&1 </dev/null &
	T_PIDS[server]=$!
	XPUSH_PROSODY_CFG=$SRV_DIR/prosody.cfg.lua
	;;
ejabberd)
	doc_block ejabberd >"$T_DIR/ejabberd.yml" || fail "could not cut the ejabberd block out of $DOC"
	STACK_EJABBERD_NODE=xpush_$DIST@localhost
	stack_start_ejabberd "$SRV_DIR" "$C2S" "$COMP" "$DIST" "$XPUSH_DOMAIN" "$SECRET" "$T_DIR/ejabberd.yml" ||
		fail "ejabberd did not start with the page's config (see $SRV_DIR/ejabberd/log)"
	T_PIDS[server]=$STACK_EJABBERD_PID
	XPUSH_EJABBERD_DIR=$SRV_DIR/ejabberd XPUSH_EJABBERD_NODE=$STACK_EJABBERD_NODE
	;;
esac
_srv_up() {
	proc_alive "${T_PIDS[server]}" || fail "$XPUSH_SERVER exited (see $SRV_DIR)"
	stack_port_open "$C2S" && stack_port_open "$COMP"
}
wait_for 30 "$XPUSH_SERVER (the page's config) to listen on :$C2S and :$COMP" _srv_up
log "$XPUSH_SERVER with the page's config: c2s :$C2S, component :$COMP"
XPUSH_C2S_PORT=$C2S

doc_block xpushd >"$T_DIR/xpushd.conf" || fail "could not cut the xpushd block out of $DOC"
printf 'log_level = debug\ninstance_id = %s\n' "$T_UID" >>"$T_DIR/xpushd.conf"
new_user alice
start_xpushd xpushd
await_xpushd_ready xpushd
# The page's app step, for the test's app id.
app_cmd=$(doc_block app | sed "s/com\.example\.app/$T_APP/") || fail "could not cut the app block out of $DOC"
XPUSH_DB=$(stack_conninfo "$T_DB") bash -c "PATH=$XPUSH_BUILD/tools:\$PATH; $app_cmd" >"$T_DIR/app.out" 2>&1 ||
	fail "the page's app step failed: $(cat "$T_DIR/app.out")"
start_device phone alice alice-phone --set reconnect_base_ms=100 --set reconnect_cap_ms=500
await_device_online phone alice alice-phone

first=$(notify app="$T_APP" to_jid="${USER_JID[alice]}" title="first" body="the page's config")
wait_for 15 "notification $first acked" acked 1 "$first"

# Healthy and idle for longer than the server's idle limit: still there, one connection.
sleep $((2 * (R > PI ? R : PI) + 1))
device_online alice alice-phone || fail "the server dropped a healthy idle device"
assert_eq 1 "$(event_count phone connected)" "connections of the healthy idle device"

# Silent: SIGSTOP, then a push into the silent session.
kill -STOP "$(pid_of phone)"
t_stop=$(now_ms)
second=$(notify app="$T_APP" to_jid="${USER_JID[alice]}" title="second" body="sent while silent")
wait_for $((bound + MARGIN + 5)) "the silent device offline in push.devices" device_offline alice alice-phone
elapsed=$(($(now_ms) - t_stop))
log "silent device declared unavailable after $elapsed ms (page's bound with these timers: ${bound} s)"
((elapsed <= (bound + MARGIN) * 1000)) || fail "unavailable after $elapsed ms, over the bound ${bound} s + ${MARGIN} s"
((elapsed >= H * 1000 - 300)) || fail "unavailable after $elapsed ms, before the hibernation time H = $H s"
acked 1 "$second" && fail "notification $second acked by a stopped device"

kill -CONT "$(pid_of phone)"
log "device resumed (SIGCONT)"
wait_for 20 "notification $second acked after the device logged in again" acked 1 "$second"
for id in "$first" "$second"; do
	wait_for 5 "the device to print notification $id" grep -qF "notification id=$id " "$T_DIR/phone.out"
	assert_eq 1 "$(count_in "$T_DIR/phone.out" "id=$id ")" "lines printed for notification $id"
done
(($(event_count phone connected) >= 2)) || fail "the device did not log in again after the silence"
log "pass"
