#!/usr/bin/env bash
# bench/up_compare.sh: xpushd and Prosody's mod_unified_push (Debian prosody-modules) side by
# side, as UnifiedPush providers on the same Prosody, with the same independent distributor
# (tests/e2e/up_distributor.py, slixmpp) registered with both and the same pushes POSTed to
# both: delivered / lost with the distributor online, then offline for OFF_S seconds and
# reconnecting; p50 / p99 from POST to the distributor's receipt while online.
# Not part of scripts/test. Prints a markdown table.
#
#   bench/up_compare.sh            N=20 pushes per phase, OFF_S=30
#   N=50 OFF_S=10 bench/up_compare.sh
#   KEEP=1 bench/up_compare.sh     keep the stopped stack and the logs
#
# Environment: XPUSH_BUILD (default build/). Runs as root on Debian 12 (stack.sh), with
# prosody-modules and python3-slixmpp installed. Stops exactly what it started.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck source-path=SCRIPTDIR source=../scripts/lib/stack.sh
source "$ROOT/scripts/lib/stack.sh"
N=${N:-20}
OFF_S=${OFF_S:-30}
BUILD=${XPUSH_BUILD:-$ROOT/build}
SLIX=/usr/bin/python3
[[ -f /usr/lib/prosody/modules/mod_unified_push/mod_unified_push.lua ]] ||
	{ echo "up_compare: apt-get install -y prosody-modules" >&2; exit 2; }
"$SLIX" -c 'import slixmpp' || { echo "up_compare: apt-get install -y python3-slixmpp" >&2; exit 2; }

STATE=$(mktemp -d /tmp/xpush-upcmp.XXXXXX)
rmdir "$STATE"
declare -A PIDS=()
cleanup() {
	local n
	for n in "${!PIDS[@]}"; do kill "${PIDS[$n]}" 2>/dev/null || true; done
	for n in "${!PIDS[@]}"; do wait "${PIDS[$n]}" 2>/dev/null || true; done
	if [[ -n ${KEEP:-} ]]; then
		stack_stop "$STATE" >/dev/null 2>&1 || true
		echo "up_compare: state and logs kept in $STATE" >&2
	elif [[ -f $STATE/env ]]; then
		stack_destroy "$STATE" >/dev/null 2>&1 || true
	fi
}
trap cleanup EXIT

now_ms() { local t=${EPOCHREALTIME/./}; echo $((t / 1000)); }
await() { # await TIMEOUT_S CMD...: poll CMD every 50 ms; 1 on timeout
	local deadline=$(($(now_ms) + $1 * 1000))
	shift
	until "$@" >/dev/null 2>&1; do
		(($(now_ms) < deadline)) || return 1
		sleep 0.05
	done
}

STACK_QUIET=1 stack_start "$STATE" "$BUILD" >/dev/null
# shellcheck disable=SC1091
source "$STATE/env"
read -r PHTTP XHTTP < <(stack_free_ports 2)
stack_prosody_down TERM >/dev/null 2>&1 || true
await 10 bash -c "! kill -0 $XPUSH_PROSODY_PID 2>/dev/null" || true
XPUSH_PROSODY_EXTRA_GLOBAL="http_ports = { $PHTTP }
http_interfaces = { \"127.0.0.1\" }
https_ports = { }
http_external_url = \"http://127.0.0.1:$PHTTP/\"
http_default_host = \"up.$XPUSH_DOMAIN\"" \
	XPUSH_PROSODY_EXTRA="Component \"up.$XPUSH_DOMAIN\" \"unified_push\"" stack_prosody_up
await 10 stack_port_open "$PHTTP" || { echo "up_compare: mod_unified_push's HTTP port did not open" >&2; exit 1; }

PASS=$(openssl rand -hex 12)
printf '%s' "$PASS" >"$STATE/alice.pass"
stack_add_user alice "$PASS"
stack_write_xpushd_config "$STATE/xpushd.conf" "$XPUSH_PGDB" instance_id=upcmp log_level=info \
	http_port="$XHTTP"
"$BUILD/component/xpushd" -c "$STATE/xpushd.conf" >"$STATE/xpushd.log" 2>&1 </dev/null &
PIDS[xpushd]=$!
await 15 grep -q 'msg="component ready"' "$STATE/xpushd.log" || { echo "xpushd not ready" >&2; exit 1; }

APPID=$(head -c 32 /dev/urandom | base64 -w0)
declare -A COMP=([xpushd]=$XPUSH_COMPONENT_JID [mod_unified_push]=up.$XPUSH_DOMAIN)
declare -A INST=([xpushd]=$(head -c 32 /dev/urandom | base64 -w0) [mod_unified_push]=$(head -c 32 /dev/urandom | base64 -w0))
PROVIDERS=(xpushd mod_unified_push)
dist() { # dist PROVIDER: the distributor for PROVIDER (its own resource), appending to PROVIDER.out
	"$SLIX" "$ROOT/tests/e2e/up_distributor.py" --jid "alice@$XPUSH_DOMAIN" --password-file "$STATE/alice.pass" \
		--port "$XPUSH_C2S_PORT" --ca-file "$XPUSH_CA_FILE" --component "${COMP[$1]}" --resource "$1" \
		--application "$APPID" --instance "${INST[$1]}" >>"$STATE/$1.out" 2>>"$STATE/$1.err" </dev/null &
	PIDS[$1]=$!
}
tally() { tr ' ' '\n' <<<"$1" | grep . | sort | uniq -c | awk '{printf "%s%s x%s", s, $2, $1; s=", "}'; }
count() { grep -c "${2:-push id=}" "$STATE/$1.out" 2>/dev/null || true; }
at_least() { (($(count "$1" "$3") >= $2)); }
endpoint() { sed -n 's/^registered endpoint=\([^ ]*\).*/\1/p' "$STATE/$1.out" | tail -1; }
post() { # post PROVIDER SEQ: one push, body "PROVIDER-SEQ" + random bytes; prints the HTTP status
	local t
	t=$(now_ms)
	echo "$2 $t" >>"$STATE/$1.posts"
	{ printf '%s-%s ' "$1" "$2"; head -c 200 /dev/urandom; } |
		curl -s -o /dev/null -w '%{http_code}' -X POST -H 'TTL: 3600' -H 'Content-Encoding: aes128gcm' \
			--data-binary @- "$(endpoint "$1")"
}

for p in "${PROVIDERS[@]}"; do
	dist "$p"
	await 15 at_least "$p" 1 "registered endpoint=" || { echo "$p: no endpoint ($(cat "$STATE/$p.out" "$STATE/$p.err"))" >&2; exit 1; }
done

# ---- online ----
declare -A ON_OK=() ON_GOT=() OFF_OK=() OFF_GOT=() P50=() P99=()
for p in "${PROVIDERS[@]}"; do
	ok=0 codes=""
	for ((i = 1; i <= N; i++)); do
		c=$(post "$p" "$i")
		codes+="$c "
		[[ $c == 201 ]] && ok=$((ok + 1))
	done
	ON_OK[$p]="$ok ($(tally "$codes"))"
	await 20 at_least "$p" "$N" "push id=" || true
	ON_GOT[$p]=$(count "$p")
	# Latency: the ith push received (in order) against the ith POST.
	read -r P50["$p"] P99["$p"] < <(python3 - "$STATE/$p.posts" "$STATE/$p.out" <<'PY'
import sys
posts = [int(l.split()[1]) for l in open(sys.argv[1])]
got = [int(l.split(" t=")[1].split()[0]) for l in open(sys.argv[2]) if l.startswith("push id=")]
lat = sorted(g - p for p, g in zip(posts, got))
if not lat:
    print("- -")
else:
    print(lat[len(lat) // 2], lat[min(len(lat) - 1, int(len(lat) * 0.99))])
PY
)
done

# ---- offline for OFF_S s: the same pushes to both, then the distributor comes back ----
for p in "${PROVIDERS[@]}"; do kill "${PIDS[$p]}"; done
for p in "${PROVIDERS[@]}"; do wait "${PIDS[$p]}" 2>/dev/null || true; unset "PIDS[$p]"; done
t_off=$(now_ms)
for p in "${PROVIDERS[@]}"; do
	before=$(count "$p")
	ok=0 codes=""
	for ((i = 1; i <= N; i++)); do
		c=$(post "$p" "off$i")
		codes+="$c "
		[[ $c == 201 ]] && ok=$((ok + 1))
	done
	OFF_OK[$p]="$ok ($(tally "$codes"))"
	echo "$before" >"$STATE/$p.before"
done
rest=$((t_off + OFF_S * 1000 - $(now_ms)))
((rest > 0)) && sleep "$((rest / 1000)).$(printf '%03d' $((rest % 1000)))" # the offline period itself, not a synchronisation
for p in "${PROVIDERS[@]}"; do dist "$p"; done
for p in "${PROVIDERS[@]}"; do
	await 15 at_least "$p" 2 "registered endpoint=" || true
	b=$(<"$STATE/$p.before")
	await 20 at_least "$p" $((b + N)) "push id=" || true
	OFF_GOT[$p]=$(($(count "$p") - b))
done

echo "UnifiedPush providers on Prosody $(dpkg-query -W -f='${Version}' prosody) with prosody-modules $(dpkg-query -W -f='${Version}' prosody-modules), one slixmpp distributor, $N pushes per phase (bench/up_compare.sh, N=$N OFF_S=$OFF_S):"
echo
echo "| provider | online: 201 / delivered | online p50 / p99 POST to receipt | offline ${OFF_S} s: HTTP answers | delivered after reconnecting |"
echo "|---|---|---|---|---|"
for p in "${PROVIDERS[@]}"; do
	echo "| $p | ${ON_OK[$p]} / ${ON_GOT[$p]} of $N | ${P50[$p]} ms / ${P99[$p]} ms | ${OFF_OK[$p]} | ${OFF_GOT[$p]} of $N |"
done
