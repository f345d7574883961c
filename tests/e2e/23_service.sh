#!/usr/bin/env bash
# (23) xpushd as a service: the sd_notify protocol, /healthz, the database gauges and SIGHUP.
# - A small unix datagram listener stands in for systemd ($NOTIFY_SOCKET, $WATCHDOG_USEC): xpushd
#   sends WATCHDOG=1 from its loop while it waits for the XMPP server, says why it is not ready
#   (STATUS=), and sends READY=1 only once the component is connected (and Postgres up).
# - GET /healthz answers 503 with the reason while the component stream or Postgres is down
#   (each cut with a relay, tests/relay/xrelay, so the stack's servers stay up) and 200 "ready".
# - The database-wide gauges (push.queue_health) come from exactly one of two instances of one
#   database, and from the other one once the first stops.
# - SIGHUP applies live settings (log level, rate limits, device limits: a tag over the new
#   max_tags is refused), names the ones that need a restart, and keeps everything when the
#   file is broken; RELOADING=1 then READY=1 go to the service manager.
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "$0")/lib.sh"

XRELAY=${XRELAY:-$XPUSH_BUILD/tests/relay/xrelay}
need_bin "$XRELAY"
create_test_db
new_user una

# ---- the stand-in service manager ---------------------------------------------------------------
NOTIFY_SOCK=$T_DIR/notify.sock
NOTIFY_LOG=$T_DIR/notify.log
: >"$NOTIFY_LOG"
python3 - "$NOTIFY_SOCK" "$NOTIFY_LOG" <<'PY' &
import os, socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
with open(sys.argv[2], "a", buffering=1) as out:
    while True:
        msg = s.recv(4096).decode("utf-8", "replace")
        out.write(msg.replace("\n", "|") + "\n")
PY
T_PIDS[notify]=$!
wait_for 5 "the notify listener to bind" test -S "$NOTIFY_SOCK"

notified() { grep -qF -- "$1" "$NOTIFY_LOG"; }
notified_count() { count_in "$NOTIFY_LOG" "$1"; }
# at_least N CMD...: CMD prints a number >= N (evaluated at every try of wait_for).
at_least() {
	local n=$1
	shift
	(($("$@") >= n))
}

# relay_up NAME UPSTREAM [LISTEN]: xrelay in front of UPSTREAM, on port LISTEN (so that it can be
# stopped and started again on the same port) or on one it picks; sets RELAY_LISTEN.
relay_up() {
	local pf=$T_DIR/$1.ports
	rm -f "$pf"
	"$XRELAY" --upstream "$2" --listen "${3:-0}" --ports-file "$pf" </dev/null >/dev/null 2>>"$T_DIR/$1.log" &
	T_PIDS[$1]=$!
	wait_for 5 "relay $1 to listen" test -s "$pf"
	RELAY_LISTEN=$(sed -n 's/^listen=\([0-9]*\) .*/\1/p' "$pf")
}

read -r mport mport2 dead_port < <(stack_free_ports 3)
relay_up pgrelay "$XPUSH_PGPORT"
pg_port=$RELAY_LISTEN
# A port for the component relay, which starts later: xpushd first finds nothing there.
relay_up comprelay "$XPUSH_COMPONENT_PORT"
comp_port=$RELAY_LISTEN
stop_proc comprelay
write_xpushd_config server_port="$comp_port" metrics_port="$mport" metrics_refresh_ms=1000 \
	pg_conninfo="host=127.0.0.1 port=$pg_port user=xpush dbname=$T_DB" reconnect_min_ms=100 reconnect_max_ms=300
NOTIFY_SOCKET=$NOTIFY_SOCK WATCHDOG_USEC=400000 start_xpushd xpushd

health() { curl -s -o "$T_DIR/healthz.body" -w '%{http_code}' "http://127.0.0.1:$1/healthz" 2>/dev/null; }
health_is() { [[ $(health "$1") == "$2" ]] && grep -qF -- "$3" "$T_DIR/healthz.body"; }

# ---- not ready while nothing listens on the component port ---------------------------------------
wait_for 10 "xpushd to fail to connect to the component port twice" \
	at_least 2 count_in "$T_DIR/xpushd.log" 'msg="component connection lost"'
wait_for 10 "3 watchdog pings from the loop" at_least 3 notified_count WATCHDOG=1
wait_for 5 "STATUS=not ready: component not connected" notified "STATUS=not ready: component not connected"
wait_for 5 "/healthz 503 component not connected" health_is "$mport" 503 "not ready: component not connected"
assert_eq 0 "$(notified_count READY=1)" "READY=1 before the component is connected"
log "ok: not ready, watchdog running, reason given"

# ---- ready once connected ---------------------------------------------------------------------
relay_up comprelay "$XPUSH_COMPONENT_PORT" "$comp_port"
await_xpushd_ready xpushd
wait_for 10 "READY=1" notified "READY=1"
assert_eq 1 "$(notified_count READY=1)" "READY=1 notifications"
grep -q '^READY=1|STATUS=ready$' "$NOTIFY_LOG" || fail "READY=1 without STATUS=ready: $(cat "$NOTIFY_LOG" | sort -u)"
wait_for 5 "/healthz 200 ready" health_is "$mport" 200 ready
start_device phone una una-phone
await_device_online phone una una-phone
id=$(notify app="$T_APP" to_jid="${USER_JID[una]}" title="through the relays")
wait_for 15 "notification $id acked" acked 1 "$id"

# ---- /healthz follows the component stream and Postgres ------------------------------------------
stop_proc comprelay
wait_for 10 "/healthz 503 component not connected" health_is "$mport" 503 "not ready: component not connected"
wait_for 5 "STATUS=not ready after READY" at_least 2 notified_count 'STATUS=not ready: component not connected'
relay_up comprelay "$XPUSH_COMPONENT_PORT" "$comp_port"
await_xpushd_ready xpushd 2
wait_for 10 "/healthz 200 again" health_is "$mport" 200 ready
stop_proc pgrelay
wait_for 10 "/healthz 503 postgres down" health_is "$mport" 503 "not ready: postgres down"
relay_up pgrelay "$XPUSH_PGPORT" "$pg_port"
wait_for 15 "/healthz 200 after Postgres is back" health_is "$mport" 200 ready
assert_eq 1 "$(notified_count READY=1)" "READY=1 sent once (the start), not on reconnects"
assert_eq 404 "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$mport/healthz/x")" "GET /healthz/x"
assert_eq 405 "$(curl -s -o /dev/null -w '%{http_code}' -X POST "http://127.0.0.1:$mport/healthz")" "POST /healthz"

# ---- the database gauges: one exporter per database -----------------------------------------------
metric() { curl -sf "http://127.0.0.1:$1/metrics" | awk -v n="$2" '$1 == n { print $2 }'; }
exporters() {
	local a b
	a=$(metric "$mport" xpush_database_gauges_exporter) b=$(metric "$mport2" xpush_database_gauges_exporter)
	echo "${a:--}${b:--}"
}
exporters_are() { [[ $(exporters) == "$1" ]]; }
# A second instance of the same database (its component port leads nowhere: Postgres only).
write_xpushd_config "$T_DIR/second.conf" server_port="$dead_port" metrics_port="$mport2" \
	metrics_refresh_ms=1000 instance_id="second-$T_UID" reconnect_min_ms=100 reconnect_max_ms=300
"$XPUSHD" -c "$T_DIR/second.conf" </dev/null >>"$T_DIR/second.log" 2>&1 &
T_PIDS[second]=$!
_known() { [[ $(exporters) =~ ^(10|01)$ ]]; }
wait_for 10 "both instances to know who exports" _known
case $(exporters) in
10) first=$mport other=$mport2 stop=xpushd ;;
01) first=$mport2 other=$mport stop=second ;;
esac
[[ -n $(metric "$first" xpush_queue_queued) ]] || fail "the exporter has no xpush_queue_queued"
[[ -z $(metric "$other" xpush_queue_queued) ]] || fail "the other instance exports xpush_queue_queued too"
[[ -z $(metric "$other" xpush_devices_online) ]] || fail "the other instance exports xpush_devices_online too"
[[ -n $(metric "$other" xpush_notifications_sent_total) ]] || fail "the other instance lacks its own counters"
log "ok: one exporter of the database gauges ($(exporters))"
stop_proc "$stop" TERM
_took_over() { [[ $(metric "$other" xpush_database_gauges_exporter) == 1 ]]; }
wait_for 10 "the other instance to export the database gauges" _took_over
[[ -n $(metric "$other" xpush_queue_queued) ]] || fail "the new exporter has no xpush_queue_queued"
log "ok: the other instance took over"
if [[ $stop == xpushd ]]; then
	# The rest needs the component: start the first instance again.
	NOTIFY_SOCKET=$NOTIFY_SOCK start_xpushd xpushd
	await_xpushd_ready xpushd 3
fi
[[ $stop == second ]] || stop_proc second TERM

# ---- SIGHUP --------------------------------------------------------------------------------------
pid=$(pid_of xpushd)
reloads() { count_in "$T_DIR/xpushd.log" 'msg="reloaded"'; }
r0=$(reloads)
ready0=$(notified_count READY=1)
# Live: log level, rate limits, max_tags; restart: server_port.
write_xpushd_config server_port="$dead_port" metrics_port="$mport" metrics_refresh_ms=1000 \
	pg_conninfo="host=127.0.0.1 port=$pg_port user=xpush dbname=$T_DB" reconnect_min_ms=100 reconnect_max_ms=300 \
	log_level=info rate_burst=50 max_tags=1
kill -HUP "$pid"
wait_for 10 "the reload to be logged" at_least $((r0 + 1)) reloads
log_has xpushd 'msg="setting reloaded" key=log_level was="debug" now="info"' || fail "log_level not reloaded"
log_has xpushd 'msg="setting reloaded" key=rate_burst was="100" now="50"' || fail "rate_burst not reloaded"
log_has xpushd 'msg="setting reloaded" key=max_tags was="64" now="1"' || fail "max_tags not reloaded"
log_has xpushd "msg=\"setting changed: needs a restart\" key=server_port running=\"$comp_port\" file=\"$dead_port\"" ||
	fail "server_port not named as needing a restart"
log_has xpushd 'msg="reloaded" applied=3 need_restart=1' || fail "no reload summary"
wait_for 5 "RELOADING=1 then READY=1" at_least $((ready0 + 1)) notified_count READY=1
notified RELOADING=1 || fail "no RELOADING=1"
# The component stays on its port (server_port needs a restart): a push still goes through.
id=$(notify app="$T_APP" to_jid="${USER_JID[una]}" title="after the reload")
wait_for 15 "notification $id acked after the reload" acked 1 "$id"
# max_tags=1 is live: a device with two tags is refused, naming the limit.
start_device tagged una una-tagged --tag a --tag b
wait_for 15 "the two-tag registration to be refused" log_has xpushd 'reason="more than 1 tags (max_tags)"'
# debug lines stop (log_level=info).
dbg=$(count_in "$T_DIR/xpushd.log" 'level=debug')
id=$(notify app="$T_APP" to_jid="${USER_JID[una]}" title="quiet")
wait_for 15 "notification $id acked" acked 1 "$id"
assert_eq "$dbg" "$(count_in "$T_DIR/xpushd.log" 'level=debug')" "debug lines after log_level=info"

# A broken file changes nothing and stops nothing.
echo "max_tags = lots" >>"$T_DIR/xpushd.conf"
r1=$(reloads)
kill -HUP "$pid"
wait_for 10 "the failed reload to be logged" log_has xpushd 'msg="reload failed: settings unchanged"'
log_has xpushd "max_tags: 'lots' is not a whole number" || fail "the failed reload does not say why"
assert_eq "$r1" "$(reloads)" "reloads counted after a broken file"
id=$(notify app="$T_APP" to_jid="${USER_JID[una]}" title="still running")
wait_for 15 "notification $id acked after a failed reload" acked 1 "$id"
proc_alive "$pid" || fail "xpushd exited after a failed reload"

stop_proc xpushd TERM
assert_eq 0 "$PROC_RC" "xpushd exit status on SIGTERM"
wait_for 5 "STOPPING=1" notified STOPPING=1
log "pass"
