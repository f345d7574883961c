#!/usr/bin/env bash
# (58) A user's over-limit stanza costs that stanza only. A rogue account sends xpushd, through
# the real server, stanzas well under the server's own c2s limit but over xpushd's:
#   deep  an IQ nested 40 elements deep (xpushd: 32);
#   tags  a <register/> with 5,000 <tag/> children (~80 kB; max_stanza_bytes: 65536);
#   quote an IQ with one 70 kB attribute of quote characters, which the server may re-escape
#         (' -> &apos;) into one start tag of up to ~420 kB: one token expat must hold whole;
# in rounds every 200 ms, each round its own session, while another account's device gets
# pushes. Each refused request gets an IQ error (modify/policy-violation) naming the limit, and
# one "stanza refused" warn line; the component stream is never ended (one "component ready",
# no "bad XML from server", xpush_xmpp_connects_total 1); the device receives and acks pushes
# sent during and after the flood. A stanza the server itself refuses before it reaches xpushd
# (its own limits) is reported as such (SERVER-REFUSED lines), not failed; the stream checks
# hold either way.
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "$0")/lib.sh"

ROUNDS=${XPUSH_E2E_LIMIT_ROUNDS:-4}

create_test_db
new_user ivan
new_user mallory
read -r MPORT < <(stack_free_ports 1)
COMP=$XPUSH_COMPONENT_JID
write_xpushd_config metrics_port="$MPORT"
start_xpushd xpushd
await_xpushd_ready xpushd
start_device phone ivan ivan-phone
await_device_online phone ivan ivan-phone
IVAN=${USER_JID[ivan]}

metric() {
	curl -s "http://127.0.0.1:$MPORT/metrics" | awk -v m="$1" '$1 == m { print $2 }'
}

# The stanzas (each well under 128 KiB: they travel as one command-line argument).
deep() {
	local i
	printf "<iq type='set' to='%s' id='%s'><query xmlns='urn:x:deep'>" "$COMP" "$1"
	for ((i = 0; i < 38; i++)); do printf '<a>'; done
	for ((i = 0; i < 38; i++)); do printf '</a>'; done
	printf '</query></iq>'
}
tags() {
	printf "<iq type='set' to='%s' id='%s'><register xmlns='urn:xpush:0' app='%s' device='m1'>" \
		"$COMP" "$1" "$T_APP"
	seq -f '<tag>tag%05g</tag>' 1 5000 | tr -d '\n'
	printf '</register></iq>'
}
quote() {
	printf "<iq type='get' to='%s' id='%s'><ping xmlns='urn:xmpp:ping' pad=\"" "$COMP" "$1"
	head -c 70000 /dev/zero | tr '\0' "'"
	printf '"/></iq>'
}
DEEP_TEXT="stanza nested deeper than 32 elements"
BIG_TEXT="stanza larger than 65536 bytes"
log "sizes as sent by the rogue: deep $(deep x | wc -c) B, tags $(tags x | wc -c) B, quote $(quote x | wc -c) B"

# rogue KIND ID: one session that sends the stanza, then a ping; waits for the ping's reply.
# Prints "xpushd TEXT" (xpushd's error reply), "server TYPE CONDITION TEXT" (someone else's
# error reply, i.e. the server's own), "closed REASON" (the server ended the session) or
# "none" (no reply to ID before the ping's).
rogue() {
	local kind=$1 id=$2 out=$T_DIR/$2.out err=$T_DIR/$2.err
	if ! python3 "$(dirname "$0")/xmpp.py" --jid "${USER_JID[mallory]}" --password-file "$T_DIR/mallory.pass" \
		--port "$XPUSH_C2S_PORT" --ca-file "$XPUSH_CA_FILE" --resource "r$id" \
		--send "$("$kind" "$id")" \
		--send "<iq type='get' to='$COMP' id='ping-$id'><ping xmlns='urn:xmpp:ping'/></iq>" \
		--await-id "ping-$id" --timeout 20 >"$out" 2>"$err"; then
		echo "closed $(tail -n 1 "$err")"
		return 0
	fi
	local t c f x
	if ! read -r t c f x < <(iq_reply "$out" "$id"); then
		echo none
	elif [[ $f == "$COMP" && $c == policy-violation ]]; then
		echo "xpushd $x"
	else
		echo "server $t $c $x"
	fi
}

declare -A REACHED=() REFUSED_BY_SERVER=()
n1="" n_reached=0
for ((r = 1; r <= ROUNDS; r++)); do
	for kind in deep tags quote; do
		id="$kind$r"
		res=$(rogue "$kind" "$id")
		case $kind in deep) want=$DEEP_TEXT ;; *) want=$BIG_TEXT ;; esac
		case $res in
		"xpushd $want")
			REACHED[$kind]=$((${REACHED[$kind]:-0} + 1))
			n_reached=$((n_reached + 1))
			;;
		xpushd*) fail "$id: xpushd refused it, but not naming the limit [$want]: [$res]" ;;
		none) fail "$id: no reply at all (xpushd must answer a refused request; see $T_DIR/$id.out)" ;;
		*)
			REFUSED_BY_SERVER[$kind]=$res
			log "SERVER-REFUSED $XPUSH_SERVER refused $id itself, before xpushd: $res"
			;;
		esac
	done
	# A push for the real device in the middle of the flood.
	if ((r == 2)); then
		n1=$(notify app="$T_APP" to_jid="$IVAN" to_device=ivan-phone title="during the flood")
		log "inserted notification $n1 during the flood"
	fi
	sleep 0.2
done
n2=$(notify app="$T_APP" to_jid="$IVAN" to_device=ivan-phone title="after the flood")
wait_for 20 "notification $n1 (during the flood) acked" acked 1 "$n1"
wait_for 20 "notification $n2 (after the flood) acked" acked 1 "$n2"
wait_for 5 "the device to print $n1 and $n2" test "$(grep -cE "notification id=($n1|$n2) " "$T_DIR/phone.out")" -eq 2

for kind in deep tags quote; do
	if [[ -n ${REACHED[$kind]:-} ]]; then
		log "ok: $kind: refused by xpushd with an IQ error naming the limit, ${REACHED[$kind]}/$ROUNDS rounds"
	else
		log "SERVER-REFUSED: no $kind stanza reached xpushd on $XPUSH_SERVER: ${REFUSED_BY_SERVER[$kind]}"
	fi
	[[ -z ${REACHED[$kind]:-} || ${REACHED[$kind]} == "$ROUNDS" ]] ||
		fail "$kind reached xpushd in ${REACHED[$kind]} of $ROUNDS rounds (the server was inconsistent?)"
done
# What the server made of the quote stanza, as xpushd received it.
{ grep -F 'msg="stanza refused"' "$T_DIR/xpushd.log" | grep -F 'id="quote1"' || true; } |
	sed 's/.*bytes=/bytes=/' | while read -r l; do log "the quote stanza at the component: $l"; done

# The component stream stayed up throughout.
assert_eq 1 "$(ready_count xpushd)" "'component ready' lines (one connection, never re-established)"
assert_eq 0 "$(count_in "$T_DIR/xpushd.log" 'bad XML from server')" "'bad XML from server' lines"
assert_eq 0 "$(count_in "$T_DIR/xpushd.log" 'msg="component connection lost"')" "'component connection lost' lines"
assert_eq 1 "$(metric xpush_xmpp_connects_total)" "xpush_xmpp_connects_total"
assert_eq 1 "$(metric xpush_xmpp_connected)" "xpush_xmpp_connected"
# One warn line per refused stanza, each naming the sender and the limit.
assert_eq "$n_reached" "$(count_in "$T_DIR/xpushd.log" 'msg="stanza refused"')" "'stanza refused' lines"
if ((n_reached > 0)); then
	line=$(grep -m1 -F 'msg="stanza refused"' "$T_DIR/xpushd.log")
	[[ $line == *"from=\"${USER_JID[mallory]}/r"* && $line == *'reason="stanza '* ]] ||
		fail "the 'stanza refused' line lacks the sender or the limit: $line"
fi
((n_reached <= $(metric xpush_bad_requests_total))) || fail "xpush_bad_requests_total below the refused stanzas ($n_reached)"
assert_eq 0 "$(sql "SELECT count(*) FROM push.devices WHERE jid = '${USER_JID[mallory]}'")" "devices registered by the refused registers"
assert_eq 2 "$(wc -l <"$T_DIR/phone.out")" "lines displayed on ivan's device"
((n_reached > 0)) || log "SERVER-REFUSED: $XPUSH_SERVER let none of the over-limit stanzas through"
stop_proc xpushd TERM
assert_eq 0 "$PROC_RC" "xpushd exit status on SIGTERM"
log "pass ($n_reached refused stanzas reached xpushd on $XPUSH_SERVER)"
