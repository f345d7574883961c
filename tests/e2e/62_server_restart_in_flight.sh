#!/usr/bin/env bash
# (62) Fault test 3: the XMPP server is killed (SIGKILL), and later restarted
# politely (SIGTERM), each time with many pushes in flight to three devices: rows 'sent' whose
# stanzas or acks die with the server, rows still queued, and more INSERTs while it is down.
# xpushd and the devices reconnect by themselves; xpushd requeues what it had on the wire
# (reclaim after a reconnect), every push ends acked and displayed once (oracle). One device
# is frozen (SIGSTOP) across each outage so that rows are on the wire whatever the speed.
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

d3_sent() { sql_is 4 "SELECT count(*) FROM push.deliveries d JOIN push.devices v ON v.id = d.device_id
	WHERE v.device = 'd3-dev' AND d.state = 'sent'"; }
d1_disconnected_since() { (($(event_count d1 disconnected) > $1)); }
ready=1
for sig in KILL TERM; do
	log "---- server down with SIG$sig, pushes in flight"
	base=$(acked_rows)
	# d3 is frozen for the outage: its window (4 sent, unacked) is certainly on the wire when
	# the server goes down, however fast the others are served. It resumes after the restart,
	# finds the notifications in its socket, displays them, and its acks die with the old
	# connection: xpushd sends them again.
	kill -STOP "$(pid_of d3)"
	push_batch "$N" "phase $sig"
	wait_for 30 "deliveries under way" acked_at_least $((base + 20))
	wait_for 30 "d3's window on the wire" d3_sent
	onwire=$(sql "SELECT string_agg(d.notification_id::text, ',') FROM push.deliveries d
		JOIN push.devices v ON v.id = d.device_id WHERE v.device = 'd3-dev' AND d.state = 'sent'")
	disc=$(event_count d1 disconnected)
	# Nothing may fail between down and up: the server is shared with the next tests.
	stack_server_down "$sig" || fail "could not stop the server with SIG$sig"
	pending=$(ledger_count "state IN ('queued', 'sent')" || echo 0)
	push_batch 10 "while down $sig"
	stack_server_up || fail "could not restart the server"
	kill -CONT "$(pid_of d3)"
	log "server back: at the outage $pending rows were queued or sent; d3 had $onwire on the wire"
	wait_for 15 "device d1 to notice the lost connection" d1_disconnected_since "$disc"
	ready=$((ready + 1))
	await_xpushd_ready xpushd "$ready"
	wait_for 60 "every push of phase SIG$sig acked" all_acked
	# What was on the wire to d3 went out again (requeued by xpushd's reclaim after its
	# reconnect, or by the server's 'unavailable' on a polite shutdown) and was acked.
	assert_eq 4 "$(ledger_count "notification_id IN ($onwire) AND state = 'acked' AND attempts >= 2")" \
		"d3's in-flight rows sent again and acked"
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
