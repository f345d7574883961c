#!/usr/bin/env bash
# (70) Two xpushd instances on ONE ejabberd and one database, both connected as the same
# component JID (push.xpush.test, different instance_id). ejabberd accepts both connections
# and spreads what devices send to the component (registrations, presence, acks) randomly per
# stanza, so an ack often reaches the instance that did not send the push: the ledger in
# Postgres is the shared state, and every push must still be delivered, displayed once and
# acked exactly once.
# 1. Deterministic cross-instance acks: instance B is frozen (SIGSTOP; its connection stays
#    open, ejabberd keeps routing to it and the kernel buffers) while A sends every push of a
#    batch; the acks ejabberd routed to B are recorded only after SIGCONT. So B, which sent
#    nothing, records acks for pushes A sent: every row acked, attempts=1, acks=1.
# 2. Both instances live and claiming (FOR UPDATE SKIP LOCKED) while pushes arrive in several
#    INSERTs for three devices of two accounts; then one instance is stopped and the other
#    carries on alone. The oracle (tests/e2e/oracle.py): lost=0 displayed_twice=0
#    unexpected=0; the ledger: every row acked, acks=1 wherever attempts=1.
# Observations (sent/acked per instance, how registrations and acks were spread) are logged;
# docs/servers.md summarises them.
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "$0")/lib.sh"

only_on ejabberd "Prosody keeps one connection per component JID (a second one gets conflict)"

create_test_db
new_user alice
new_user bob
# ack_timeout_ms: long, so no redelivery hides a lost ack; scan_interval_ms: a second instance
# that is not listening (push.wakeup says someone is busy) still scans every second.
write_xpushd_config ack_timeout_ms=60000 scan_interval_ms=1000
start_xpushd xa -o instance_id="${T_UID}_a"
await_xpushd_ready xa
start_xpushd xb -o instance_id="${T_UID}_b"
await_xpushd_ready xb
log "two instances connected as $XPUSH_COMPONENT_JID"

start_device a1 alice alice-phone --json
start_device a2 alice alice-tablet --json
start_device b1 bob bob-phone --json
await_device_online a1 alice alice-phone
await_device_online a2 alice alice-tablet
await_device_online b1 bob bob-phone

: >"$T_DIR/expected"
# expect ID DEVICE...: the push ID was committed for these devices.
expect() {
	local id=$1 dev
	shift
	for dev in "$@"; do echo "$id $dev" >>"$T_DIR/expected"; done
}

# sent_by NAME: "notification sent" lines in instance NAME's log.
sent_by() { count_in "$T_DIR/$1.log" 'msg="notification sent"'; }

# ---- 1. B frozen: A sends, some acks wait in B's socket ----
kill -STOP "$(pid_of xb)"
log "xb (pid $(pid_of xb)) frozen with SIGSTOP"
sent_b_before=$(sent_by xb)
ids1=()
for i in $(seq 1 20); do
	id=$(notify app="$T_APP" to_jid="${USER_JID[bob]}" to_device=bob-phone title="phase1 $i" body="sent by A")
	ids1+=("$id")
	expect "$id" bob-phone
done
first=${ids1[0]} last=${ids1[-1]}
in1="notification_id BETWEEN $first AND $last"
wait_for 20 "instance A to send all 20 pushes of phase 1" \
	sql_is 20 "SELECT count(*) FROM push.deliveries WHERE $in1 AND state IN ('sent', 'acked')"
# Every push was displayed by the device (so its ack is on the way, to A or to B).
_shown1() { (($(grep -c '"id"' "$T_DIR/b1.out") >= 20)); }
wait_for 20 "bob's device to display the 20 pushes of phase 1" _shown1
# Acks that reached A are recorded; the others wait in frozen B's socket.
sleep 1
acked_by_a=$(sql "SELECT count(*) FROM push.deliveries WHERE $in1 AND state = 'acked'")
log "phase 1: $acked_by_a of 20 acks recorded while B was frozen (the rest were routed to B)"
assert_eq "$sent_b_before" "$(sent_by xb)" "pushes sent by the frozen instance B"
kill -CONT "$(pid_of xb)"
log "xb resumed with SIGCONT"
wait_for 20 "all 20 pushes of phase 1 acked after B resumed" \
	sql_is 20 "SELECT count(*) FROM push.deliveries WHERE $in1 AND state = 'acked'"
acked_by_b=$((20 - acked_by_a))
((acked_by_b > 0)) || fail "every phase-1 ack was routed to A: nothing crossed to the other instance (ejabberd did not spread?)"
log "phase 1: B recorded $acked_by_b acks for pushes that A sent"
assert_eq "20" "$(sql "SELECT count(*) FROM push.deliveries WHERE $in1 AND attempts = 1 AND acks = 1")" \
	"phase-1 rows with attempts=1 acks=1"

# ---- 2. both live, several INSERTs, three devices; then A stops and B carries on ----
ids2=()
for batch in 1 2 3 4 5; do
	for i in $(seq 1 8); do
		id=$(notify app="$T_APP" to_jid="${USER_JID[alice]}" title="phase2 $batch.$i" body="to both of alice's devices")
		ids2+=("$id")
		expect "$id" alice-phone alice-tablet
		id=$(notify app="$T_APP" to_jid="${USER_JID[bob]}" title="phase2 $batch.$i" body="to bob")
		ids2+=("$id")
		expect "$id" bob-phone
	done
	sleep 0.2
done
n2=$(wc -l <"$T_DIR/expected")
wait_for 40 "every phase-2 ledger row acked" \
	sql_is "$n2" "SELECT count(*) FROM push.deliveries WHERE state = 'acked'"

stop_proc xa TERM
log "xa stopped: $(grep 'msg="shutting down"' "$T_DIR/xa.log" | tail -n 1)"
ids3=()
for i in $(seq 1 5); do
	id=$(notify app="$T_APP" to_jid="${USER_JID[alice]}" title="phase3 $i" body="B alone")
	ids3+=("$id")
	expect "$id" alice-phone alice-tablet
done
total=$(wc -l <"$T_DIR/expected")
wait_for 20 "the pushes inserted after A stopped acked by B alone" \
	sql_is "$total" "SELECT count(*) FROM push.deliveries WHERE state = 'acked'"
stop_proc xb TERM
log "xb stopped: $(grep 'msg="shutting down"' "$T_DIR/xb.log" | tail -n 1)"

# ---- the ledger and the oracle ----
sql_script -F ' ' <<<"SELECT x.notification_id, v.device, x.state FROM push.deliveries x JOIN push.devices v ON v.id = x.device_id ORDER BY 1, 2" >"$T_DIR/ledger"
python3 "$(dirname "$0")/oracle.py" --expected "$T_DIR/expected" --ledger "$T_DIR/ledger" \
	alice-phone="$T_DIR/a1.out" alice-tablet="$T_DIR/a2.out" bob-phone="$T_DIR/b1.out" \
	>"$T_DIR/oracle.out" || { cat "$T_DIR/oracle.out" >&2; fail "oracle: $(head -n 1 "$T_DIR/oracle.out")"; }
log "oracle: $(head -n 1 "$T_DIR/oracle.out")"
grep -q '^lost=0 displayed_twice=0 unexpected=0 expired=0 ' "$T_DIR/oracle.out" ||
	fail "oracle: $(head -n 1 "$T_DIR/oracle.out")"
assert_eq "$total" "$(sql "SELECT count(*) FROM push.deliveries")" "ledger rows"
assert_eq "$total" "$(sql "SELECT count(*) FROM push.deliveries WHERE state = 'acked' AND acks >= 1")" "acked ledger rows"
assert_eq 0 "$(sql "SELECT count(*) FROM push.deliveries WHERE attempts = 1 AND acks <> 1")" \
	"rows sent once but not acked exactly once"
redelivered=$(sql "SELECT count(*) FROM push.deliveries WHERE attempts > 1")
log "rows sent more than once (a redelivery, allowed): $redelivered"
for d in a1 a2 b1; do
	assert_eq 0 "$(event_count "$d" duplicate)" "duplicates seen by device $d"
done

# ---- what ejabberd's balancing looked like ----
sent_a=$(sent_by xa) sent_b=$(sent_by xb)
acks_a=$(sed -n 's/.*msg="shutting down".* acked=\([0-9]*\).*/\1/p' "$T_DIR/xa.log" | tail -n 1)
acks_b=$(sed -n 's/.*msg="shutting down".* acked=\([0-9]*\).*/\1/p' "$T_DIR/xb.log" | tail -n 1)
reg_a=$(count_in "$T_DIR/xa.log" 'msg="device registered"')
reg_b=$(count_in "$T_DIR/xb.log" 'msg="device registered"')
log "balancing: sent A=$sent_a B=$sent_b; acks recorded A=$acks_a B=$acks_b; registrations A=$reg_a B=$reg_b"
assert_eq "$total" "$((acks_a + acks_b))" "acks recorded by A and B together"
((sent_a > 0 && sent_b > 0)) || log "note: one instance claimed every push of phase 2"
log "pass"
