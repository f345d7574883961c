#!/usr/bin/env bash
# (47) 200 devices (10 accounts x 20) through the relay; Prosody restarts while pushes are
# inserted. Every device comes back (xpushd sees all 200 online again), every push is acked
# and displayed exactly once per device, and the reconnect attempts are spread by the full
# jitter of the backoff (base 1 s, cap 8 s): the relay timestamps every attempt; the test
# reports their spread and fails on a stampede (all within 300 ms) or a retry storm.
# XPUSH_E2E_DEVICES (default 200) changes the fleet size.
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "$0")/lib.sh"
# shellcheck source-path=SCRIPTDIR source=hb_lib.sh
source "$(dirname "$0")/hb_lib.sh"
hb_own_prosody_only

N=${XPUSH_E2E_DEVICES:-200}
USERS=10
PER=$((N / USERS))
# default_iteration_count: accounts made for this test get a cheap SCRAM hash, so that 200
# logins on a 2-core box measure the reconnect logic rather than PBKDF2 (10000 rounds each)
XPUSH_PROSODY_LOG_LEVEL=info prosody_start p200 'default_iteration_count = 256'
create_test_db
for ((u = 0; u < USERS; u++)); do prosody_user p200 "u$u"; done
write_xpushd_config server_port="${PROSODY_COMP[p200]}" ack_timeout_ms=3000 scan_interval_ms=1000 \
	reconnect_min_ms=100 reconnect_max_ms=1000 max_devices_per_jid="$PER" rate_per_jid=10000 rate_burst=10000
start_xpushd xpushd
await_xpushd_ready xpushd
relay_start fleet "${PROSODY_C2S[p200]}"
t_start=$(now_ms)
for ((u = 0; u < USERS; u++)); do
	for ((d = 0; d < PER; d++)); do
		start_device "d${u}_$d" "u$u" "dev-$u-$d" --port "${RELAY_PORT[fleet]}" --log-level info \
			--set reconnect_base_ms=1000 --set reconnect_cap_ms=8000 --set stable_after_ms=60000 \
			--set heartbeat_ms=0 2>/dev/null
	done
done
online_count() { sql "SELECT count(*) FROM push.devices WHERE online"; }
_all_online() { (($(online_count) == N)); }
wait_for 90 "all $N devices online" _all_online
log "$N devices online after $(($(now_ms) - t_start)) ms"

ids=()
for ((u = 0; u < USERS; u++)); do
	ids+=("$(notify app="$T_APP" to_jid="${USER_JID[u$u]}" title="before restart" body="u$u")")
done
_acked_all() {
	local id
	for id in "${ids[@]}"; do
		sql_is "$PER" "SELECT count(*) FROM push.deliveries WHERE notification_id = $id AND state = 'acked'" || return 1
	done
}
wait_for 60 "the pushes before the restart acked" _acked_all

t_db=$(sql "SELECT now()")
t_down=$(now_ms)
stop_proc p200 TERM
for ((u = 0; u < USERS; u++)); do
	for k in 1 2; do
		ids+=("$(notify app="$T_APP" to_jid="${USER_JID[u$u]}" title="while down $k" body="u$u")")
	done
done
_prosody_run p200
t_up=$(now_ms)
log "Prosody down for $((t_up - t_down)) ms"
_all_back() { sql_is "$N" "SELECT count(*) FROM push.devices WHERE online AND last_seen > '$t_db'"; }
wait_for 90 "all $N devices back online" _all_back
t_back=$(now_ms)
log "all $N devices back $((t_back - t_up)) ms after Prosody was up again"
wait_for 60 "every push acked by every device" _acked_all

# displayed once each: 3 notifications per device
bad=$(for f in "$T_DIR"/d*.out; do
	awk -v f="$f" '/^notification id=/ { split($2, a, "="); n[a[2]]++ }
		END { c = 0; for (k in n) { c++; if (n[k] != 1) print f, k, n[k] } if (c != 3) print f, "count", c }' "$f"
done)
[[ -z $bad ]] || fail "devices that did not display each notification exactly once: $(head -n 5 <<<"$bad")"

# the spread of the reconnect attempts (relay accepts after Prosody went down)
relay_log_ms fleet 'accept id=' | python3 -c '
import sys
down, up, back, n = (int(x) for x in sys.argv[1:5])
ts = sorted(int(l) - down for l in sys.stdin if int(l) >= down)
if not ts:
    print("REPORT no attempts seen"); sys.exit(1)
def pct(p): return ts[min(len(ts) - 1, int(p / 100 * len(ts)))]
hist = {}
for t in ts: hist[t // 500] = hist.get(t // 500, 0) + 1
print(f"REPORT reconnect attempts={len(ts)} for {n} devices ({len(ts)/n:.2f} per device); ms after Prosody went down: "
      f"first={ts[0]} p10={pct(10)} p50={pct(50)} p90={pct(90)} last={ts[-1]}; Prosody up at {up-down}, all back at {back-down}")
print("REPORT per 500 ms: " + " ".join(f"{k*500}:{hist[k]}" for k in sorted(hist)))
if pct(90) - pct(10) < 300: print("STAMPEDE"); sys.exit(2)
if len(ts) > 6 * n: print("STORM"); sys.exit(3)
' "$t_down" "$t_up" "$t_back" "$N" >"$T_DIR/spread.txt" || { cat "$T_DIR/spread.txt" >&2; fail "reconnect attempts not spread: $(tail -n 1 "$T_DIR/spread.txt")"; }
sed 's/^REPORT /    /' "$T_DIR/spread.txt" >&2
log "pass"
