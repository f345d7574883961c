#!/usr/bin/env bash
# The Prometheus endpoint: after one push is delivered and acked, /metrics shows it sent and
# acked, the latency histogram counts it, the gauges come from push.queue_health, only
# GET /metrics is served, and a port already in use is a clear start-up error.
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "$0")/lib.sh"

create_test_db
new_user mia
read -r port < <(stack_free_ports 1)
write_xpushd_config metrics_port="$port" metrics_refresh_ms=1000
start_xpushd xpushd
await_xpushd_ready xpushd
wait_for 10 "xpushd to log the metrics endpoint" grep -qF 'msg="metrics endpoint listening"' "$T_DIR/xpushd.log"
start_device phone mia mia-phone
await_device_online phone mia mia-phone

metric() {  # metric NAME: its value, or empty
	curl -sf "http://127.0.0.1:$port/metrics" | awk -v n="$1" '$1 == n { print $2 }'
}
metric_is() { [[ $(metric "$1") == "$2" ]]; }

assert_eq 0 "$(metric xpush_notifications_sent_total)" "sent before any push"
id=$(notify app="$T_APP" to_jid="${USER_JID[mia]}" title="metered")
wait_for 15 "notification $id acked" acked 1 "$id"
wait_for 5 "xpush_acks_total to reach 1" metric_is xpush_acks_total 1
assert_eq 1 "$(metric xpush_notifications_sent_total)" "xpush_notifications_sent_total"
assert_eq 0 "$(metric xpush_notifications_retried_total)" "xpush_notifications_retried_total"
assert_eq 1 "$(metric xpush_delivery_latency_seconds_count)" "latency histogram count"
assert_eq 1 "$(metric 'xpush_delivery_latency_seconds_bucket{le="+Inf"}')" "latency +Inf bucket"
assert_eq 1 "$(metric xpush_xmpp_connected)" "xpush_xmpp_connected"
assert_eq 1 "$(metric xpush_postgres_connected)" "xpush_postgres_connected"
# Gauges are read from push.queue_health every metrics_refresh_ms.
wait_for 10 "xpush_devices_online gauge = 1" metric_is xpush_devices_online 1
wait_for 10 "xpush_queue_queued gauge = 0" metric_is xpush_queue_queued 0
body=$(curl -sf "http://127.0.0.1:$port/metrics")
grep -q '^# TYPE xpush_delivery_latency_seconds histogram$' <<<"$body" || fail "no histogram TYPE line"
grep -q '^# TYPE xpush_acks_total counter$' <<<"$body" || fail "no counter TYPE line"

assert_eq 404 "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/")" "GET / status"
assert_eq 405 "$(curl -s -o /dev/null -w '%{http_code}' -X POST "http://127.0.0.1:$port/metrics")" "POST status"

# A second instance on the same metrics port: one clear error line, exit 1.
"$XPUSHD" -c "$T_DIR/xpushd.conf" -o instance_id="second-$T_UID" </dev/null >"$T_DIR/second.log" 2>&1 && rc=0 || rc=$?
assert_eq 1 "$rc" "exit status of an xpushd whose metrics port is taken"
grep -q 'msg="metrics endpoint failed" error="metrics_port: cannot listen' "$T_DIR/second.log" ||
	fail "no clear metrics_port error: $(cat "$T_DIR/second.log")"

stop_proc xpushd TERM
assert_eq 0 "$PROC_RC" "xpushd exit status on SIGTERM"
log "pass"
