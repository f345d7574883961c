#!/usr/bin/env bash
# (55) The device (xpush-client) against a hostile network or server (tests/fake/
# fake_c2s_server.py records every byte the device sends, decrypted after TLS):
#   - STARTTLS stripped (features offer only SASL PLAIN): exit 4, event=tls_failed;
#   - STARTTLS answered <failure/>: exit 4, event=tls_failed saying the server refused STARTTLS
#     (final, as for a stripped STARTTLS: never going on in clear, no reconnect loop);
#   - TLS with a certificate signed by the device's CA but for another host: exit 4,
#     event=tls_failed naming the verification failure;
#   - a billion-laughs DOCTYPE in the plaintext stream header (before STARTTLS, injectable by
#     anyone on the path): nothing displayed, no credentials sent. KNOWN GAP (docs/security.md):
#     libstrophe expands the entities (42 s of CPU measured on an idle machine, SIGTERM not
#     handled meanwhile); the CPU the device burns in a 4 s window is measured and logged, and
#     fails the test only with XPUSH_STRICT_GAPS=1. The remedy is direct TLS (--direct-tls):
#     e2e 57 proves the same bomb on a direct-TLS port costs nothing (strict there).
#   - a peer silent inside the TLS handshake (STARTTLS answered <proceed/>, then nothing; and a
#     direct-TLS port that accepts and never answers the ClientHello): the device gives each
#     attempt up within connect_timeout_ms (+ 1.5 s), reconnects (>= 2 attempts, each given up),
#     and SIGTERM ends a device stuck in such a handshake in < 2 s (exit 0) even with the default
#     connect_timeout_ms of 30 s (libstrophe's handshake loop has no deadline of its own: the
#     client's watchdog shuts the socket down).
# In every case the password and any <auth/> never reach the fake server, and nothing is
# displayed. The stack's XMPP server plays no part: Prosody only.
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "$0")/lib.sh"
only_on prosody "the server here is a scripted fake, not the stack's XMPP server"
need_bin "$XPUSH_CLIENT"

PASS_TEXT="pw-$(openssl rand -hex 8)"
printf '%s' "$PASS_TEXT" >"$T_DIR/dev.pass"
PASS_B64=$(printf '\0dev\0%s' "$PASS_TEXT" | base64 -w0)

# A certificate from the stack's CA for a host the device does not connect to.
openssl req -new -newkey rsa:2048 -nodes -subj "/CN=evil.test" -keyout "$T_DIR/evil.key" \
	-out "$T_DIR/evil.csr" >/dev/null 2>&1
printf 'subjectAltName=DNS:evil.test\nextendedKeyUsage=serverAuth\n' >"$T_DIR/evil.ext"
openssl x509 -req -in "$T_DIR/evil.csr" -CA "$XPUSH_STATE/ca/ca.pem" -CAkey "$XPUSH_STATE/ca/ca.key" \
	-CAcreateserial -CAserial "$T_DIR/evil.srl" -days 1 -extfile "$T_DIR/evil.ext" -out "$T_DIR/evil.crt" >/dev/null 2>&1 ||
	fail "could not sign the wrong-host certificate"

# run_case NAME SCENARIO WAIT_S [server args]: fake server + device; the device runs until it
# exits or WAIT_S seconds pass (then it is stopped). Sets CASE_RC (exit status or "running")
# and CASE_CPU (CPU ticks the device used).
run_case() {
	local name=$1 scen=$2 wait_s=$3 port dpid deadline ticks=0
	shift 3
	read -r port < <(stack_free_ports 1)
	python3 "$E2E_ROOT/tests/fake/fake_c2s_server.py" --port "$port" --scenario "$scen" \
		--record "$T_DIR/$name.rec" --hold $((wait_s + 5)) "$@" >"$T_DIR/$name.fake" 2>&1 &
	T_PIDS[fake_$name]=$!
	wait_for 15 "fake server ($name) to listen" grep -q '^listening' "$T_DIR/$name.fake"
	"$XPUSH_CLIENT" --jid "dev@$XPUSH_DOMAIN" --host 127.0.0.1 --port "$port" --ca-file "$XPUSH_CA_FILE" \
		--component "$XPUSH_COMPONENT_JID" --app "$T_APP" --device dev-1 --state-dir "$T_DIR/$name.state" \
		--password-file "$T_DIR/dev.pass" </dev/null >"$T_DIR/$name.out" 2>"$T_DIR/$name.err" &
	T_PIDS[$name]=$!
	dpid=$!
	deadline=$(($(now_ms) + wait_s * 1000))
	while proc_alive "$dpid" && (($(now_ms) < deadline)); do
		ticks=$(awk '{ print $14 + $15 }' "/proc/$dpid/stat" 2>/dev/null || echo "$ticks")
		sleep 0.05
	done
	CASE_CPU=$ticks
	if proc_alive "$dpid"; then
		CASE_RC=running
		kill -KILL "$dpid" 2>/dev/null || true
		wait "$dpid" 2>/dev/null || true
		unset "T_PIDS[$name]"
	else
		reap "$name"
		CASE_RC=$PROC_RC
	fi
	wait_for 10 "fake server ($name) to finish" exited "fake_$name"
	reap "fake_$name"
	# Nothing secret left the device, nothing was displayed.
	if grep -qaF -- "$PASS_TEXT" "$T_DIR/$name.rec" || grep -qaF -- "$PASS_B64" "$T_DIR/$name.rec"; then
		fail "$name: the password reached the fake server (see $T_DIR/$name.rec)"
	fi
	if grep -qa '<auth' "$T_DIR/$name.rec"; then fail "$name: the device sent <auth/> to the fake server"; fi
	assert_eq 0 "$(wc -c <"$T_DIR/$name.out")" "$name: bytes displayed on stdout"
	log "$name: device exit=$CASE_RC cpu_ticks=$CASE_CPU, received by the server: $(tr -c '[:print:]' ' ' <"$T_DIR/$name.rec" | cut -c1-160)"
}

run_case strip strip 15
assert_eq 4 "$CASE_RC" "strip: exit status (TLS is mandatory)"
assert_eq 1 "$(event_count strip tls_failed)" "strip: event=tls_failed lines"
log "strip: $(grep -m1 'event=tls_failed' "$T_DIR/strip.err")"

run_case tlsfail tlsfail 15
assert_eq 4 "$CASE_RC" "tlsfail: exit status (a refused STARTTLS is final, like a stripped one)"
assert_eq 1 "$(event_count tlsfail tls_failed)" "tlsfail: event=tls_failed lines"
grep -m1 'event=tls_failed' "$T_DIR/tlsfail.err" | grep -q 'refused STARTTLS' ||
	fail "tlsfail: the tls_failed reason does not say STARTTLS was refused: $(grep -m1 tls_failed "$T_DIR/tlsfail.err")"
assert_eq 0 "$(event_count tlsfail reconnecting)" "tlsfail: event=reconnecting lines"
assert_eq 0 "$(event_count tlsfail connected)" "tlsfail: event=connected lines"
log "tlsfail: $(grep -m1 'event=tls_failed' "$T_DIR/tlsfail.err")"

run_case wronghost wronghost 15 --cert "$T_DIR/evil.crt" --key "$T_DIR/evil.key"
assert_eq 4 "$CASE_RC" "wronghost: exit status"
assert_eq 1 "$(event_count wronghost tls_failed)" "wronghost: event=tls_failed lines"
grep -m1 'event=tls_failed' "$T_DIR/wronghost.err" | grep -qi 'verif\|host\|name' ||
	fail "wronghost: the tls_failed reason does not say why: $(grep -m1 tls_failed "$T_DIR/wronghost.err")"
log "wronghost: $(grep -m1 'event=tls_failed' "$T_DIR/wronghost.err")"

run_case laughs laughs 4
hz=$(getconf CLK_TCK)
assert_eq 0 "$(event_count laughs connected)" "laughs: event=connected lines"
# An idle or refusing device uses a few ticks in 4 s; half a second of CPU means it is parsing.
if ((CASE_CPU >= hz / 2)); then
	msg="KNOWN GAP: a pre-TLS billion-laughs DOCTYPE kept the device busy: $((CASE_CPU / hz)) s of CPU in a 4 s window (exit: $CASE_RC); libstrophe expands entities (docs/security.md); direct TLS (--direct-tls) is immune (e2e 57)"
	[[ -n ${XPUSH_STRICT_GAPS:-} ]] && fail "$msg"
	log "$msg"
else
	log "laughs: device used $CASE_CPU ticks (exit $CASE_RC): entity expansion bounded"
fi
# silent_case NAME SCENARIO [device args]: a fake server that goes silent in the TLS handshake,
# for up to 3 connections; the device (connect_timeout_ms=2000, fast reconnects) must give up
# the first two attempts itself, each within the timeout + margin, and log them as transient.
# Then (on a fresh fake server, default connect_timeout_ms of 30 s) SIGTERM while the device
# waits inside the handshake must end it in < 2 s.
silent_case() {
	local name=$1 scen=$2 port dpid t0 elapsed n after
	shift 2
	read -r port < <(stack_free_ports 1)
	python3 "$E2E_ROOT/tests/fake/fake_c2s_server.py" --port "$port" --scenario "$scen" \
		--record "$T_DIR/$name.rec" --hold 25 --connections 3 >"$T_DIR/$name.fake" 2>&1 &
	T_PIDS[fake_$name]=$!
	wait_for 15 "fake server ($name) to listen" grep -q '^listening' "$T_DIR/$name.fake"
	"$XPUSH_CLIENT" --jid "dev@$XPUSH_DOMAIN" --host 127.0.0.1 --port "$port" --ca-file "$XPUSH_CA_FILE" \
		--component "$XPUSH_COMPONENT_JID" --app "$T_APP" --device dev-1 --state-dir "$T_DIR/$name.state" \
		--password-file "$T_DIR/dev.pass" --set connect_timeout_ms=2000 --set reconnect_base_ms=200 \
		--set reconnect_cap_ms=400 "$@" </dev/null >"$T_DIR/$name.out" 2>"$T_DIR/$name.err" &
	T_PIDS[$name]=$!
	# Two attempts, each stuck in the handshake and closed by the device. Before the watchdog the
	# first attempt stayed until the fake server's 25 s hold ran out.
	wait_for 15 "$name: the device to give up two silent handshakes (see $T_DIR/$name.fake)" \
		grep -q '^closed 2 ' "$T_DIR/$name.fake"
	for n in 1 2; do
		grep -q "^hello $n " "$T_DIR/$name.fake" || fail "$name: attempt $n never reached the handshake"
		after=$(awk -v n="$n" '$1 == "closed" && $2 == n { sub("after_ms=", "", $3); print $3 }' "$T_DIR/$name.fake")
		((after <= 2000 + 1500)) ||
			fail "$name: attempt $n was given up after $after ms (connect_timeout_ms=2000)"
		log "$name: attempt $n given up after $after ms"
	done
	proc_alive "$(pid_of "$name")" || fail "$name: the device exited instead of reconnecting: $(tail -3 "$T_DIR/$name.err")"
	(($(event_count "$name" reconnecting) >= 2)) || fail "$name: fewer than 2 event=reconnecting lines"
	grep -q 'event=disconnected reason="no session within connect_timeout_ms=2000 (.*TLS handshake stalled)' \
		"$T_DIR/$name.err" || fail "$name: no disconnect naming the stalled handshake: $(grep -m2 disconnected "$T_DIR/$name.err")"
	assert_eq 0 "$(event_count "$name" tls_failed)" "$name: event=tls_failed lines (a stall is transient)"
	kill -TERM "$(pid_of "$name")"
	wait_for 5 "$name: the device to stop" exited "$name"
	reap "$name"
	assert_eq 0 "$PROC_RC" "$name: exit status after SIGTERM"
	wait_for 30 "fake server ($name) to finish" exited "fake_$name"
	reap "fake_$name"

	# SIGTERM inside a stalled handshake, with the default connect_timeout_ms (30 s).
	read -r port < <(stack_free_ports 1)
	python3 "$E2E_ROOT/tests/fake/fake_c2s_server.py" --port "$port" --scenario "$scen" \
		--record "$T_DIR/$name-stop.rec" --hold 20 >"$T_DIR/$name-stop.fake" 2>&1 &
	T_PIDS[fake_$name-stop]=$!
	wait_for 15 "fake server ($name-stop) to listen" grep -q '^listening' "$T_DIR/$name-stop.fake"
	"$XPUSH_CLIENT" --jid "dev@$XPUSH_DOMAIN" --host 127.0.0.1 --port "$port" --ca-file "$XPUSH_CA_FILE" \
		--component "$XPUSH_COMPONENT_JID" --app "$T_APP" --device dev-1 --state-dir "$T_DIR/$name-stop.state" \
		--password-file "$T_DIR/dev.pass" "$@" </dev/null >"$T_DIR/$name-stop.out" 2>"$T_DIR/$name-stop.err" &
	T_PIDS[$name-stop]=$!
	dpid=$!
	wait_for 10 "$name-stop: the device's ClientHello" grep -q '^hello 1 ' "$T_DIR/$name-stop.fake"
	t0=$(now_ms)
	kill -TERM "$dpid"
	while proc_alive "$dpid" && (($(now_ms) - t0 < 10000)); do sleep 0.02; done
	elapsed=$(($(now_ms) - t0))
	proc_alive "$dpid" && fail "$name-stop: SIGTERM not handled within 10 s while the handshake stalled"
	reap "$name-stop"
	((elapsed < 2000)) || fail "$name-stop: SIGTERM took $elapsed ms to end a stalled handshake"
	assert_eq 0 "$PROC_RC" "$name-stop: exit status after SIGTERM"
	assert_eq 1 "$(event_count "$name-stop" stopped)" "$name-stop: event=stopped lines"
	log "$name-stop: SIGTERM inside the stalled handshake handled in $elapsed ms"
	wait_for 25 "fake server ($name-stop) to finish" exited "fake_$name-stop"
	reap "fake_$name-stop"
	for r in "$T_DIR/$name.rec" "$T_DIR/$name-stop.rec"; do
		if grep -qaF -- "$PASS_TEXT" "$r" || grep -qaF -- "$PASS_B64" "$r" || grep -qa '<auth' "$r"; then
			fail "$name: credentials reached the silent server ($r)"
		fi
	done
	assert_eq 0 "$(cat "$T_DIR/$name.out" "$T_DIR/$name-stop.out" | wc -c)" "$name: bytes displayed on stdout"
}

silent_case silent_starttls silent_tls
silent_case silent_direct silent --direct-tls
log "pass"
