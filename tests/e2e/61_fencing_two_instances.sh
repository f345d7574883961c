#!/usr/bin/env bash
# (61) Two xpushd instances, fencing. Instance A (instance_id a-...) has deliveries on the wire
# when it is frozen with SIGSTOP for longer than ack_timeout_ms; instance B (b-...) takes over
# the component JID and judges A's expired leases: it probes each device's session (a ping)
# instead of sending into it again. The ghost's session answers: B re-claims its row under a new
# lease token (attempts 2). The real device is frozen: B sends it nothing more, and when it
# wakes it acks A's copies (to B) and answers the probe. A is then resumed: its late writes
# must be refused.
#
# Takeover needs A's stream gone. Prosody keeps one connection per component JID and by default
# (component_conflict_resolve = "kick_new") refuses a second one with <conflict/> for as long as
# the first stream is up, and a frozen process keeps its TCP stream up: B would only retry (its
# backoff) until A's stream dies. The stack's failover.<domain> component is configured
# "kick_old": B's handshake closes A's stream (docs/delivery.md). So this test is Prosody's.
#
# Late writes of A that must be refused:
#  - a nack (IQ error) that reached A's socket while it was frozen, for its send under the old
#    token: refused ("stale nack refused"), the row keeps B's lease and token, and the device is
#    not marked offline by it;
#  - its reclaim when it reconnects (same instance_id a-...): rows B re-claimed carry B's name.
# A real device (frozen with SIGSTOP while A sends, so its acks come late) displays each push
# once; a scripted ghost session (tests/e2e/xmpp.py, answers pings, never acks) provides the
# nack.
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "$0")/lib.sh"
only_on prosody "takeover by component_conflict_resolve = kick_old (ejabberd accepts several connections per component: no takeover to test)"

F=failover.$XPUSH_DOMAIN
A_ID=a-$T_UID
B_ID=b-$T_UID
create_test_db
new_user pia
new_user gus
# A: short lease, slow reconnect (so its reconnect after the resume is observable on its own).
write_xpushd_config component_jid="$F" ack_timeout_ms=1000 reconnect_min_ms=2000 \
	reconnect_max_ms=3000 scan_interval_ms=60000
start_xpushd xpushd_a -o instance_id="$A_ID"
await_xpushd_ready xpushd_a
start_device phone pia pia-phone --component "$F"
await_device_online phone pia pia-phone

first=$(notify app="$T_APP" to_jid="${USER_JID[pia]}" title="before")
expect pia-phone "$first"
wait_for 15 "notification $first acked" acked 1 "$first"

# The ghost: registers (no directed presence, so no 'unavailable' when a session ends), then
# stays connected and never answers a notification.
ghost() {
	local name=$1
	shift
	python3 "$E2E_ROOT/tests/e2e/xmpp.py" --jid "${USER_JID[gus]}" --password-file "$T_DIR/gus.pass" \
		--port "$XPUSH_C2S_PORT" --ca-file "$XPUSH_CA_FILE" --resource ghost "$@" \
		>"$T_DIR/$name.out" 2>"$T_DIR/$name.err" </dev/null &
	T_PIDS[$name]=$!
}
ghost s1 --send "<iq type='set' id='r1' to='$F'><register xmlns='urn:xpush:0' app='$T_APP' device='gus-ghost'/></iq>" \
	--await-id never --timeout 120
wait_for 15 "ghost device registered online" device_online gus gus-ghost
grow=$(sql "SELECT id FROM push.devices WHERE device = 'gus-ghost'")

# ---- A sends; nobody acks ---------------------------------------------------------------------
kill -STOP "$(pid_of phone)"
log "device frozen (SIGSTOP)"
mapfile -t ps < <(notify_many 3 app="$T_APP" to_jid="${USER_JID[pia]}" title="in flight")
expect pia-phone "${ps[@]}"
q=$(notify app="$T_APP" to_jid="${USER_JID[gus]}" title="for the ghost")
plist="${ps[0]},${ps[1]},${ps[2]}"
wait_for 15 "A to send all four (sent, leased by $A_ID)" \
	sql_is 4 "SELECT count(*) FROM push.deliveries WHERE notification_id IN ($plist, $q) AND state = 'sent' AND lease_owner = '$A_ID'"
wait_for 10 "the ghost to receive notification $q" grep -qF "id=\"xp.$q.$grow." "$T_DIR/s1.out"
tok_a=$(sql "SELECT lease_token FROM push.deliveries WHERE notification_id = $q")
log "A sent $plist and $q (ghost, token $tok_a)"

kill -STOP "$(pid_of xpushd_a)"
log "instance A frozen (SIGSTOP)"

# The ghost's session ends; a new one at the same full JID answers A's send with an error: it
# waits in A's socket, unread.
kill -TERM "$(pid_of s1)"
wait_for 10 "first ghost session to end" exited s1
reap s1
ghost s2 --send "<iq type='error' id='xp.$q.$grow.$tok_a' to='$F'><error type='cancel'><service-unavailable xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error></iq>" \
	--send "<iq type='get' id='p1' to='$XPUSH_DOMAIN'><ping xmlns='urn:xmpp:ping'/></iq>" \
	--await-id never --timeout 120 --answer-pings
wait_for 10 "the ghost's error routed (its ping answered after it)" grep -qF "id=\"p1\"" "$T_DIR/s2.out"

wait_for 10 "A's leases to run out (ack_timeout_ms)" \
	sql_is 0 "SELECT count(*) FROM push.deliveries WHERE lease_owner = '$A_ID' AND lease_until >= now()"

# ---- B takes over ------------------------------------------------------------------------------
start_xpushd xpushd_b -o instance_id="$B_ID" -o ack_timeout_ms=60000 -o reconnect_min_ms=5000 -o reconnect_max_ms=5000
await_xpushd_ready xpushd_b
wait_for 15 "B to re-claim the ghost's row under a new token after its probe was answered" \
	sql_is 1 "SELECT count(*) FROM push.deliveries WHERE notification_id = $q AND state = 'sent' AND lease_owner = '$B_ID' AND lease_token > $tok_a AND attempts = 2"
wait_for 10 "B to probe the frozen device's session" \
	sql_is 1 "SELECT count(*) FROM push.devices WHERE device = 'pia-phone' AND probe_owner = '$B_ID' AND probe_until IS NOT NULL"
assert_eq 3 "$(ledger_count "notification_id IN ($plist) AND state = 'sent' AND lease_owner = '$A_ID' AND attempts = 1")" \
	"the frozen device's rows: nothing more sent into its session while the probe runs"
tok_b=$(sql "SELECT lease_token FROM push.deliveries WHERE notification_id = $q")
log "B re-claimed; the ghost's row has token $tok_b"
wait_for 10 "the ghost to receive B's copy of $q" grep -qF "id=\"xp.$q.$grow.$tok_b\"" "$T_DIR/s2.out"

# The device wakes: it reads A's copies and B's probe, displays each push once, acks them (the
# acks reach B, the component now) and answers the probe. Acks and probe answers are written on
# two sessions: when the answer is recorded first, the rows take a strike and B sends them again
# (acked as duplicates); the ack clears the strike either way.
kill -CONT "$(pid_of phone)"
log "device resumed"
wait_for 20 "the three pushes acked (A's copies, acked to B)" \
	sql_is 3 "SELECT count(*) FROM push.deliveries WHERE notification_id IN ($plist) AND state = 'acked' AND acks >= 1 AND strikes = 0"
wait_for 10 "the frozen device's probe answered" \
	sql_is 0 "SELECT count(*) FROM push.devices WHERE device = 'pia-phone' AND probe_until IS NOT NULL"

# ---- A resumes: its late writes are refused ----------------------------------------------------
ready_a=$(ready_count xpushd_a)
kill -CONT "$(pid_of xpushd_a)"
log "instance A resumed"
wait_for 10 "A to log its stale nack refused" log_has xpushd_a "stale nack refused"
wait_for 10 "A to see its stream replaced (conflict)" log_has xpushd_a "condition=conflict"
assert_eq "sent $B_ID $tok_b 2" \
	"$(sql "SELECT state || ' ' || lease_owner || ' ' || lease_token || ' ' || attempts FROM push.deliveries WHERE notification_id = $q")" \
	"the ghost's row after A's stale nack (B's lease kept)"
assert_eq t "$(sql "SELECT online FROM push.devices WHERE device = 'gus-ghost'")" \
	"ghost device online after A's stale nack (its session is up)"

# A reconnects (kicking B in turn: B retries in 2.5-5 s) and reclaims what it owns: nothing any
# more. A push inserted now is claimed by A's scan after that reclaim (reclaim, sweep, fan-out,
# claim run in that order): once A holds it, the reclaim has run.
await_xpushd_ready xpushd_a $((ready_a + 1))
x=$(notify app="$T_APP" to_jid="${USER_JID[pia]}" title="via A again")
expect pia-phone "$x"
wait_for 10 "A, reconnected, to send $x (its reclaim ran before)" \
	sql_is 1 "SELECT count(*) FROM push.deliveries WHERE notification_id = $x AND (lease_owner = '$A_ID' OR state = 'acked')"
assert_eq "sent $B_ID $tok_b" \
	"$(sql "SELECT state || ' ' || lease_owner || ' ' || lease_token FROM push.deliveries WHERE notification_id = $q")" \
	"the ghost's row after A's reconnect and reclaim"
assert_eq 0 "$(ledger_count "lease_owner = '$A_ID' AND notification_id <> $x")" "other rows leased by A"
log_has xpushd_a "requeued deliveries" && fail "A's reclaim requeued rows it no longer owned"

# Only B stays. The promised pushes are all acked, once each on screen.
stop_proc xpushd_a TERM
last=$(notify app="$T_APP" to_jid="${USER_JID[pia]}" title="after")
expect pia-phone "$last"
wait_for 30 "notification $last acked by B" acked 1 "$last"
assert_eq 6 "$(ledger_count "notification_id <> $q AND state = 'acked'")" "acked rows of the device"
check_oracle pia-phone=phone
log "pass"
