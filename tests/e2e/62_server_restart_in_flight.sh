#!/usr/bin/env bash
# (62) Fault test 3 (issue 3): the XMPP server is killed (SIGKILL), and later restarted
# politely (SIGTERM), each time with many pushes in flight to three devices: rows 'sent' whose
# stanzas or acks die with the server, rows still queued, and more INSERTs while it is down.
# xpushd and the devices reconnect by themselves; xpushd requeues what it had on the wire
# (reclaim after a reconnect), every push ends acked and displayed once (oracle).
# Restarts the stack's shared server (same config and ports).
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "$0")/lib.sh"

N=${XPUSH_62_PUSHES:-200}   # per device and phase
DEVS=(d1 d2 d3)
create_test_db
write_xpushd_config device_window=4 reconnect_min_ms=100 reconnect_max_ms=1000
start_xpushd xpushd
await_xpushd_ready xpushd
for d in "${DEVS[@]}"; do
	new_user "$d"
	start_device "$d" "$d" "$d-dev" --set reconnect_base_ms=100 --set reconnect_cap_ms=1000
done
for d in "${DEVS[@]}"; do
	await_device_online "$d" "$d" "$d-dev"
done

# push_batch COUNT TITLE: COUNT pushes to each device (one INSERT per device), expected.
push_batch() {
	local d ids
	for d in "${DEVS[@]}"; do
		mapfile -t ids < <(notify_many "$1" app="$T_APP" to_jid="${USER_JID[$d]}" title="$2")
		(( ${#ids[@]} == $1 )) || fail "inserted ${#ids[@]} of $1 for $d"
		expect "$d-dev" "${ids[@]}"
	done
}
acked_rows() { ledger_count "state = 'acked'"; }
acked_at_least() { (($(acked_rows) >= $1)); }

ready=1
for sig in KILL TERM; do
	log "---- server down with SIG$sig, pushes in flight"
	base=$(acked_rows)
	push_batch "$N" "phase $sig"
	wait_for 30 "deliveries under way" acked_at_least $((base + 20))
	stack_server_down "$sig" || fail "could not stop the server with SIG$sig"
	pending=$(ledger_count "state IN ('queued', 'sent')")
	unfanned=$(sql "SELECT count(*) FROM push.notifications WHERE fanned_out_at IS NULL")
	log "server down (SIG$sig): $(acked_rows) acked, $pending rows queued or sent, $unfanned not fanned out"
	((pending + unfanned > 0)) || fail "everything was delivered before the server went down: nothing was in flight"
	for d in "${DEVS[@]}"; do
		wait_for 15 "device $d to notice the lost connection" event_seen "$d" disconnected
	done
	push_batch 10 "while down $sig"
	stack_server_up || fail "could not restart the server"
	log "server back, pid $( [[ $XPUSH_SERVER == ejabberd ]] && echo "$XPUSH_EJABBERD_PID" || echo "$XPUSH_PROSODY_PID")"
	ready=$((ready + 1))
	await_xpushd_ready xpushd "$ready"
	wait_for 60 "every push of phase SIG$sig acked" all_acked
done

assert_eq 0 "$(ledger_count "state <> 'acked'")" "ledger rows not acked"
resent=$(ledger_count "attempts >= 2")
log "rows sent more than once (requeued after the server went down): $resent"
((resent > 0)) || fail "no row was sent twice: nothing was on the wire when the server went down"
proc_alive "$(pid_of xpushd)" || fail "xpushd exited"
for d in "${DEVS[@]}"; do
	proc_alive "$(pid_of "$d")" || fail "device $d exited"
done
check_oracle d1-dev=d1 d2-dev=d2 d3-dev=d3
log "pass"
