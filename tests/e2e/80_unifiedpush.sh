#!/usr/bin/env bash
# (80) UnifiedPush and Web Push, with code nobody here wrote on both sides: a distributor on
# slixmpp (tests/e2e/up_distributor.py) registers with xpushd over XMPP; an app server built on
# npm's web-push (RFC 8291 encryption, RFC 8292 VAPID) POSTs to the endpoint; npm's http_ece
# decrypts what the distributor received, byte for byte. Online delivery; the distributor
# offline, then back: the pushes are stored and delivered (a ttl-0 push expires, a DELETEd one
# is never sent); unregister -> 410; unifiedpush_acl; an expired endpoint -> 404 and a new URL
# on renewal; VAPID (401/403 for missing, foreign, wrong-aud and expired tokens); a distributor
# answering item-not-found revokes its endpoint; hostile HTTP requests each get a clear status
# and harm nothing else, and a flood of held connections does not stop delivery.
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "$0")/lib.sh"

SLIX=/usr/bin/python3
"$SLIX" -c 'import slixmpp' 2>/dev/null || fail "python3-slixmpp is not installed (apt-get install -y python3-slixmpp)"
command -v node >/dev/null && command -v npm >/dev/null || fail "node and npm are needed (the Web Push app server)"

# The pinned npm packages of tests/package.json, installed once per build directory.
NPM_DIR=$XPUSH_BUILD/npm-tests
if ! cmp -s "$E2E_ROOT/tests/package.json" "$NPM_DIR/package.json" || [[ ! -d $NPM_DIR/node_modules/web-push ]]; then
	mkdir -p "$NPM_DIR"
	cp "$E2E_ROOT/tests/package.json" "$NPM_DIR/package.json"
	(cd "$NPM_DIR" && npm install --no-audit --no-fund --loglevel=error >"$T_DIR/npm.log" 2>&1) ||
		fail "npm install of tests/package.json failed: $(tail -5 "$T_DIR/npm.log")"
fi
app() { NODE_PATH=$NPM_DIR/node_modules node "$E2E_ROOT/tests/e2e/webpush_app.js" "$@"; }

create_test_db
new_user alice
new_user mallory
read -r HPORT < <(stack_free_ports 1)
write_xpushd_config http_port="$HPORT" http_rate_per_endpoint=2 http_rate_burst=8 http_timeout_s=2 \
	unifiedpush_acl="${USER_JID[alice]}"
# A low descriptor limit, so that the connection flood below meets the endpoint's fd bound
# (half of what is left after 64 for the rest of xpushd) rather than the machine's.
hard_nofile=$(ulimit -Hn)
ulimit -Sn 300
start_xpushd xpushd
ulimit -Sn "$hard_nofile"
await_xpushd_ready xpushd
log_has xpushd 'msg="web push connection limit" max=118' || fail "no connection limit of 118 for 300 descriptors"
log_has xpushd 'msg="web push endpoint listening"' || fail "no 'web push endpoint listening' line"
BASE=http://127.0.0.1:$HPORT

APPID=$(head -c 32 /dev/urandom | base64 -w0)
INST=$(head -c 32 /dev/urandom | base64 -w0)
# distributor NAME [args]: the slixmpp distributor as alice (USER=...) with resource NAME,
# registering (APPID, INST) unless args name others.
distributor() {
	local name=$1 user=${USER:-alice}
	shift
	"$SLIX" "$E2E_ROOT/tests/e2e/up_distributor.py" --jid "${USER_JID[$user]}" \
		--password-file "$T_DIR/$user.pass" --port "$XPUSH_C2S_PORT" --ca-file "$XPUSH_CA_FILE" \
		--component "$XPUSH_COMPONENT_JID" --resource "$name" --application "$APPID" --instance "$INST" \
		"$@" >>"$T_DIR/$name.out" 2>>"$T_DIR/$name.err" </dev/null &
	T_PIDS[$name]=$!
	log "started distributor $name pid ${T_PIDS[$name]}"
}
registered_count() { count_in "$T_DIR/dist.out" "registered endpoint="; }
registered_in() { (($(count_in "$T_DIR/$1.out" "registered endpoint=") >= $2)); }
pushes() { count_in "$T_DIR/dist.out" "push id="; }
registered_n() { (($(registered_count) >= $1)); }
pushes_n() { (($(pushes) >= $1)); }
up_online() { sql_is t "SELECT online FROM push.devices WHERE jid = '${USER_JID[alice]}' AND device = 'unifiedpush'"; }
up_offline() { sql_is f "SELECT online FROM push.devices WHERE jid = '${USER_JID[alice]}' AND device = 'unifiedpush'"; }
# post BODYFILE [TTL [URGENCY [TOPIC]]]: web-push's request to the endpoint; sets POST_OUT.
post() { POST_OUT=$(app send "$ENDPOINT" "$T_DIR/keys.json" "$@"); }
msg_id() { local loc=${POST_OUT#*location=}; loc=${loc%% *}; echo "${loc##*/}"; }
# check_push N BODYFILE: the Nth <push/> the distributor printed decrypts to BODYFILE's bytes.
check_push() {
	local line b64
	line=$(grep -F "push id=" "$T_DIR/dist.out" | sed -n "${1}p")
	[[ $line == *"application=$APPID instance=$INST t="* ]] || fail "push $1 names another registration: $line"
	b64=${line##*body=}
	assert_eq "$(sha256sum <"$2")" "$(app decrypt "$T_DIR/keys.json" "$b64" | base64 -d | sha256sum)" \
		"sha256 of push $1 decrypted by http_ece = the app server's $(wc -c <"$2") bytes"
}

# ---- register, then one push online ----
distributor dist
wait_for 15 "the distributor to print its endpoint" registered_n 1
line=$(grep -F "registered endpoint=" "$T_DIR/dist.out" | head -1)
ENDPOINT=${line#*endpoint=}
ENDPOINT=${ENDPOINT%% *}
[[ $ENDPOINT =~ ^$BASE/up/[A-Za-z0-9_-]{43}$ ]] || fail "endpoint has not the documented form: $ENDPOINT"
[[ $line =~ expiration=[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:]{8}Z ]] || fail "no ISO-8601 expiration: $line"
assert_eq 200 "$(curl -s -o /dev/null -w '%{http_code}' "$ENDPOINT")" "GET on the endpoint (UnifiedPush discovery)"
app keys "$T_DIR/keys.json"

head -c 2000 /dev/urandom >"$T_DIR/body1.bin"
post "$T_DIR/body1.bin" 60 high
[[ $POST_OUT == "status=201 location=$ENDPOINT/"*" ttl=60" ]] || fail "POST online: $POST_OUT"
id1=$(msg_id)
wait_for 15 "the distributor to receive push 1" pushes_n 1
check_push 1 "$T_DIR/body1.bin"
wait_for 10 "push 1 acked in the ledger" acked 1 "$id1"
assert_eq "high base64" "$(sql "SELECT priority || ' ' || payload_encoding FROM push.notifications WHERE id = $id1")" "the push's row"
log "ok: push 1 from POST (INSERT) to the distributor's ack: $(sql "SELECT round(extract(epoch FROM d.acked_at - n.created_at) * 1000) FROM push.deliveries d JOIN push.notifications n ON n.id = d.notification_id WHERE n.id = $id1") ms by the ledger's clock"

# DELETE of a delivered message: the protocol has no retract, so nothing is sent (an error
# answer would read as a bounce) and the registration stays online.
assert_eq 204 "$(curl -s -o /dev/null -w '%{http_code}' -X DELETE "$ENDPOINT/$id1")" "DELETE of a delivered message"
assert_eq "acked -" "$(sql "SELECT state || ' ' || coalesce(retract_state, '-') FROM push.deliveries WHERE notification_id = $id1")" "its ledger row (no retract queued)"

# ---- the distributor offline: stored; back: delivered ----
stop_proc dist TERM
wait_for 15 "the registration offline after the distributor left" up_offline
printf 'plain text push, second\n' >"$T_DIR/body2.bin"
head -c 3990 /dev/urandom >"$T_DIR/body3.bin" # + 103 bytes of RFC 8291 framing: 4093 on the wire
post "$T_DIR/body2.bin" 600 normal news
[[ $POST_OUT == "status=201 "*" ttl=600" ]] || fail "POST offline 2: $POST_OUT"
id2=$(msg_id)
post "$T_DIR/body3.bin" 999999999
[[ $POST_OUT == "status=201 "*" ttl=2419200" ]] || fail "POST offline 3 (TTL kept at 28 days): $POST_OUT"
id3=$(msg_id)
post "$T_DIR/body2.bin" 0
[[ $POST_OUT == "status=201 "*" ttl=0" ]] || fail "POST offline, ttl 0: $POST_OUT"
id0=$(msg_id)
post "$T_DIR/body2.bin" 600
idx=$(msg_id)
assert_eq 204 "$(curl -s -o /dev/null -w '%{http_code}' -X DELETE "$ENDPOINT/$idx")" "DELETE of a pending message"
assert_eq 404 "$(curl -s -o /dev/null -w '%{http_code}' -X DELETE "$ENDPOINT/999999999")" "DELETE of an unknown message"
distributor dist
wait_for 15 "the distributor to register again" registered_n 2
assert_eq "$ENDPOINT" "$(grep -F 'registered endpoint=' "$T_DIR/dist.out" | tail -1 | sed 's/.*endpoint=\([^ ]*\).*/\1/')" "the renewed endpoint (same token)"
wait_for 15 "the two stored pushes delivered after the distributor came back" pushes_n 3
wait_for 10 "pushes 2 and 3 acked" acked 1 "$id2"
wait_for 10 "push 3 acked" acked 1 "$id3"
check_push 2 "$T_DIR/body2.bin"
check_push 3 "$T_DIR/body3.bin"
assert_eq expired "$(sql "SELECT state FROM push.deliveries WHERE notification_id = $id0")" "the ttl-0 push sent while offline"
assert_eq retracted "$(sql "SELECT state FROM push.deliveries WHERE notification_id = $idx")" "the DELETEd push"
assert_eq 3 "$(pushes)" "pushes the distributor received"

# ---- unregister -> 410 ----
distributor unreg --unregister
wait_for 15 "the unregister answered" grep -qF unregistered "$T_DIR/unreg.out"
post "$T_DIR/body2.bin" 60
[[ $POST_OUT == "status=410 "* ]] || fail "POST after unregister: $POST_OUT"
assert_eq 3 "$(pushes)" "pushes the distributor received after unregister"

# ---- who may register: unifiedpush_acl; an expired endpoint: 404, renewed with a new URL ----
USER=mallory distributor mal
wait_for 15 "mallory's registration answered" grep -qF "register-error" "$T_DIR/mal.out"
assert_eq "register-error condition=forbidden" "$(cat "$T_DIR/mal.out")" "mallory (not in unifiedpush_acl) registering"
INST2=$(head -c 32 /dev/urandom | base64 -w0)
distributor second --instance "$INST2"
wait_for 15 "a second registration" grep -qF "registered endpoint=" "$T_DIR/second.out"
EP2=$(sed -n 's/^registered endpoint=\([^ ]*\).*/\1/p' "$T_DIR/second.out" | head -1)
[[ $EP2 != "$ENDPOINT" ]] || fail "two registrations share an endpoint"
sql "UPDATE push.up_registrations SET expires_at = now() - interval '1 second' WHERE token = '${EP2##*/}'" >/dev/null
assert_eq 404 "$(curl -s -o /dev/null -w '%{http_code}' -X POST --data-binary x "$EP2")" "POST to an expired endpoint"
stop_proc second TERM
distributor second --instance "$INST2"
wait_for 15 "the second registration renewed" registered_in second 2
EP3=$(sed -n 's/^registered endpoint=\([^ ]*\).*/\1/p' "$T_DIR/second.out" | tail -1)
[[ $EP3 != "$EP2" ]] || fail "an expired endpoint was renewed with the same URL"
assert_eq 201 "$(curl -s -o /dev/null -w '%{http_code}' -X POST -H 'TTL: 60' --data-binary x "$EP3")" "POST to the renewed endpoint"
stop_proc second TERM

# ---- VAPID (RFC 8292): a registration naming the app server's key takes only its tokens ----
app vapidkeys "$T_DIR/vapid.json"
app vapidkeys "$T_DIR/vapid2.json"
VKEY=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["publicKey"])' "$T_DIR/vapid.json")
INST3=$(head -c 32 /dev/urandom | base64 -w0)
distributor vap --instance "$INST3" --vapid "$VKEY"
wait_for 15 "a registration with a VAPID key" grep -qF "registered endpoint=" "$T_DIR/vap.out"
EPV=$(sed -n 's/^registered endpoint=\([^ ]*\).*/\1/p' "$T_DIR/vap.out" | head -1)
vpost() { POST_OUT=$(app send "$EPV" "$T_DIR/keys.json" "$T_DIR/body2.bin" 60); }
vpost
[[ $POST_OUT == "status=401 "* ]] || fail "POST without a VAPID token to a VAPID endpoint: $POST_OUT"
VAPID_KEYS=$T_DIR/vapid2.json vpost
[[ $POST_OUT == "status=403 "* ]] || fail "POST with another key's VAPID token: $POST_OUT"
VAPID_KEYS=$T_DIR/vapid.json VAPID_AUD=https://evil.example vpost
[[ $POST_OUT == *"aud is not this endpoint's origin"* ]] || fail "POST with a VAPID token for another origin: $POST_OUT"
VAPID_KEYS=$T_DIR/vapid.json VAPID_EXP=$(($(date +%s) - 60)) vpost
[[ $POST_OUT == *"exp is not within the next 24 hours"* ]] || fail "POST with an expired VAPID token: $POST_OUT"
VAPID_KEYS=$T_DIR/vapid.json vpost
[[ $POST_OUT == "status=201 "* ]] || fail "POST with a valid VAPID token: $POST_OUT"
wait_for 15 "the VAPID push delivered" grep -qF "push id=" "$T_DIR/vap.out"
log "ok: VAPID: 401 without a token, 403 for another key, 401 for a wrong aud or an expired token, 201 with a valid one"
stop_proc vap TERM

# ---- a distributor answering item-not-found (the app is gone) revokes its endpoint: 410 ----
INST4=$(head -c 32 /dev/urandom | base64 -w0)
distributor gone --instance "$INST4" --answer item-not-found
wait_for 15 "a registration whose app is gone" grep -qF "registered endpoint=" "$T_DIR/gone.out"
EPG=$(sed -n 's/^registered endpoint=\([^ ]*\).*/\1/p' "$T_DIR/gone.out" | head -1)
assert_eq 201 "$(curl -s -o /dev/null -w '%{http_code}' -X POST -H 'TTL: 60' --data-binary x "$EPG")" "POST to it"
revoked() { [[ $(curl -s -o /dev/null -w '%{http_code}' -X POST -H 'TTL: 60' --data-binary x "$EPG") == 410 ]]; }
wait_for 15 "the endpoint revoked (410) after the distributor's item-not-found" revoked
stop_proc gone TERM

# ---- hostile HTTP: each a clear status, nothing enqueued ----
before=$(sql "SELECT count(*) FROM push.notifications")
code() { curl -s -o "$T_DIR/resp" -w '%{http_code}' "$@"; }
tok404=$BASE/up/$(head -c 32 /dev/urandom | base64 -w0 | tr '+/' '-_' | tr -d '=')
assert_eq 404 "$(code -X POST --data-binary x "$BASE/up/not-a-token")" "POST to a malformed token"
assert_eq 404 "$(code -X POST --data-binary x "$tok404")" "POST to an unknown token"
head -c 5000 /dev/urandom >"$T_DIR/big.bin"
assert_eq 413 "$(code -X POST --data-binary @"$T_DIR/big.bin" "$ENDPOINT")" "POST of 5000 bytes"
assert_eq 413 "$(code -X POST -H 'Transfer-Encoding: chunked' --data-binary @"$T_DIR/big.bin" "$ENDPOINT")" "chunked POST of 5000 bytes"
assert_eq 400 "$(code -X POST -H 'TTL: soon' --data-binary x "$ENDPOINT")" "TTL: soon"
grep -qF "TTL: not a non-negative number of seconds" "$T_DIR/resp" || fail "no one-line reason for a bad TTL: $(cat "$T_DIR/resp")"
assert_eq 400 "$(code -X POST -H 'Urgency: now' --data-binary x "$ENDPOINT")" "Urgency: now"
assert_eq 400 "$(code -X POST -H 'Topic: a/b' --data-binary x "$ENDPOINT")" "Topic: a/b"
assert_eq 405 "$(code -X PUT --data-binary x "$ENDPOINT")" "PUT"
assert_eq "$before" "$(sql "SELECT count(*) FROM push.notifications")" "notifications after hostile requests"
# Past the endpoint's burst: 429 with Retry-After.
n429=0
for _ in $(seq 1 20); do
	c=$(curl -s -D "$T_DIR/hdr" -o /dev/null -w '%{http_code}' -X POST --data-binary x "$tok404")
	[[ $c == 429 ]] && n429=$((n429 + 1)) && grep -qi '^Retry-After: 1' "$T_DIR/hdr"
done
((n429 > 0)) || fail "20 quick POSTs to one endpoint got no 429"
log "ok: $n429 of 20 quick POSTs got 429 with Retry-After"
# A slow request (headers never finished) is closed after http_timeout_s; meanwhile the
# endpoint answers others.
exec 7<>"/dev/tcp/127.0.0.1/$HPORT"
printf 'POST /up/x HTTP/1.1\r\nHost: x\r\n' >&7
assert_eq 404 "$(code -X POST --data-binary x "$BASE/up/not-a-token")" "a request while a slow one hangs"
t0=$(now_ms)
timeout 10 cat <&7 >/dev/null || fail "the slow request was not closed within 10 s"
exec 7>&-
log "ok: slow request closed after $(($(now_ms) - t0)) ms"
# 400 connections held open by trickling header bytes (past the endpoint's 118): meanwhile
# xpushd's loop still delivers (a push enqueued with SQL reaches the distributor), and once
# they are gone the endpoint answers again.
python3 - "$HPORT" "$T_DIR/flood" <<'PY' &
import os, socket, sys, time
port, flag = int(sys.argv[1]), sys.argv[2]
socks = []
for _ in range(400):
    try:
        s = socket.create_connection(("127.0.0.1", port), timeout=2)
        s.sendall(b"POST /up/x HTTP/1.1\r\nHost: x\r\n")
        socks.append(s)
    except OSError:
        pass
open(flag + ".ready", "w").write(str(len(socks)))
deadline = time.time() + 60
while time.time() < deadline and not os.path.exists(flag + ".stop"):
    for s in socks:
        try:
            s.send(b"X")
        except OSError:
            pass
    time.sleep(0.5)
PY
T_PIDS[flood]=$!
wait_for 20 "the connection flood to be up" test -s "$T_DIR/flood.ready"
log "ok: $(cat "$T_DIR/flood.ready") connections opened by the flood"
distributor flooded --instance "$INST2"
wait_for 15 "a registration during the flood" grep -qF "registered endpoint=" "$T_DIR/flooded.out"
EPF=$(sed -n 's/^registered endpoint=\([^ ]*\).*/\1/p' "$T_DIR/flooded.out" | head -1)
sql "SELECT status FROM push.up_enqueue('${EPF##*/}', 'Zmxvb2Q=', 60, 'normal', NULL, NULL)" >/dev/null
wait_for 15 "a push during the flood delivered" grep -qF "body=Zmxvb2Q=" "$T_DIR/flooded.out"
touch "$T_DIR/flood.stop"
wait_for 10 "the flood to end" exited flood
reap flood
ok_after() { [[ $(curl -s -m 2 -o /dev/null -w '%{http_code}' -X POST -H 'TTL: 60' --data-binary x "$EPF") == 201 ]]; }
wait_for 15 "the endpoint to answer again after the flood" ok_after
stop_proc flooded TERM
proc_alive "$(pid_of xpushd)" || fail "xpushd died"

stop_proc xpushd TERM
assert_eq 0 "$PROC_RC" "xpushd exit status on SIGTERM"
log "pass"
