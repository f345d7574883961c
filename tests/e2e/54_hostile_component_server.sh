#!/usr/bin/env bash
# (54) xpushd against a hostile XEP-0114 server (tests/fake/fake_component_server.py), one
# scenario per connection: a DOCTYPE with a billion-laughs tree, an undefined entity, a 32 MiB
# stanza (skipped once over max_stanza_bytes, then past the 4 MiB hard bound, which no server
# forwards: the server's fault), XML cut mid-stanza then closed, bytes that are not UTF-8, a
# retryable stream error (conflict) and finally a refused handshake (not-authorized). For each:
# one clear log line naming the problem, then a reconnect after a backoff delay (no hot loop);
# the last one is final: exit status 3, as documented. Memory stays bounded (VmHWM grows by less
# than 16 MiB across the 32 MiB stanza) and so does CPU (the billion laughs are never expanded).
# The real XMPP server plays no part: Prosody only.
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "$0")/lib.sh"
only_on prosody "the server here is a scripted fake, not the stack's XMPP server"

create_test_db
read -r FPORT < <(stack_free_ports 1)
SCEN=doctype,entity,ok,big,cut,badutf8,conflict,notauth
python3 "$E2E_ROOT/tests/fake/fake_component_server.py" --port "$FPORT" --scenarios "$SCEN" \
	--log "$T_DIR/fake.jsonl" --hold 1.5 >"$T_DIR/fake.out" 2>&1 &
T_PIDS[fake]=$!
# (Not a probe connection: it would use up the first scenario.)
wait_for 5 "the fake server to listen" grep -q '^listening' "$T_DIR/fake.out"
write_xpushd_config server_port="$FPORT" reconnect_min_ms=100 reconnect_max_ms=400
start_xpushd xpushd
XP=$(pid_of xpushd)

# Sample xpushd's memory high-water mark until it exits (VmHWM only grows).
( while [[ -r /proc/$XP/status ]]; do
	awk '/^VmHWM/ { print $2 }' "/proc/$XP/status" 2>/dev/null
	awk '{ print "cpu", $14 + $15 }' "/proc/$XP/stat" 2>/dev/null
	sleep 0.05
done >"$T_DIR/samples.txt" 2>/dev/null ) &
T_PIDS[sampler]=$!

await_xpushd_ready xpushd
hwm_ready=$(awk '/^VmHWM/ { print $2 }' "/proc/$XP/status")
log "VmHWM when ready: $hwm_ready kB"
wait_for 40 "xpushd to exit after not-authorized" exited xpushd
reap xpushd
assert_eq 3 "$PROC_RC" "xpushd exit status after a refused handshake"
wait_for 10 "the fake server to finish" exited fake
cat "$T_DIR/fake.jsonl" >&2

hwm_end=$(grep -v '^cpu' "$T_DIR/samples.txt" | sort -n | tail -n 1)
ticks=$(awk '$1 == "cpu" { c = $2 } END { print c + 0 }' "$T_DIR/samples.txt")
hz=$(getconf CLK_TCK)
log "VmHWM at the end: $hwm_end kB (ready: $hwm_ready kB); CPU: $ticks ticks at $hz Hz"
((hwm_end - hwm_ready < 16384)) || fail "VmHWM grew by $((hwm_end - hwm_ready)) kB across the hostile scenarios (32 MiB stanza)"
((ticks < 3 * hz)) || fail "xpushd used $((ticks / hz)) s of CPU in the hostile scenarios (billion laughs expanded?)"

# One clear line per scenario, in order.
expect_line() {
	grep -F -- "$1" "$T_DIR/xpushd.log" >/dev/null || fail "xpushd's log has no line with [$1] (scenario $2)"
	log "ok: $2: $(grep -m1 -F -- "$1" "$T_DIR/xpushd.log" | cut -c1-200)"
}
expect_line 'reason="bad XML from server: DOCTYPE is not allowed in an XMPP stream"' doctype
expect_line 'undefined entity"' entity
expect_line 'reason="bad XML from server: stanza larger than 4194304 bytes (hard bound)"' big
expect_line 'reason="connection closed by server"' cut
expect_line 'not well-formed (invalid token)"' badutf8
expect_line 'condition=conflict reason="stream error from server"' conflict
expect_line 'msg="component connection refused" condition=not-authorized' notauth
assert_eq 5 "$(ready_count xpushd)" "handshakes accepted (entity, ok, big, cut, badutf8)"

# Backoff: every scenario got exactly one connection (no hot loop, nothing skipped), each
# retry delay within reconnect_min_ms..reconnect_max_ms (jittered: above 0, at most the cap).
assert_eq 8 "$(grep -c '"event": "accepted"' "$T_DIR/fake.jsonl")" "connections the fake server accepted"
assert_eq 0 "$(grep -c '"event": "no_connection"' "$T_DIR/fake.jsonl" || true)" "scenarios that never got a connection"
n_lost=$(grep -c 'msg="component connection lost"' "$T_DIR/xpushd.log" || true)
assert_eq 7 "$n_lost" "'component connection lost' lines (one per retryable scenario)"
grep -o 'msg="component connection lost".*retry_ms=[0-9]*' "$T_DIR/xpushd.log" | sed 's/.*retry_ms=//' >"$T_DIR/retries.txt"
while read -r ms; do
	((ms >= 1 && ms <= 400)) || fail "retry delay $ms ms outside 1..reconnect_max_ms (400)"
done <"$T_DIR/retries.txt"
log "retry delays (ms): $(tr '\n' ' ' <"$T_DIR/retries.txt")"
# The big stanza was refused after a bounded read, long before 32 MiB reached xpushd.
sent=$(python3 -c 'import json,sys
for l in open(sys.argv[1]):
    e = json.loads(l)
    if e["scenario"] == "big" and "sent" in e: print(e["sent"]); break' "$T_DIR/fake.jsonl")
log "the fake server got $sent bytes of the 32 MiB stanza out before xpushd closed"
assert_eq 0 "$(grep -c 'level=error' "$T_DIR/xpushd.log" | awk '{print ($1 > 1)}')" "more than one error line (only the final refusal)"
log "pass"
