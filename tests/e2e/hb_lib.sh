# shellcheck shell=bash
# tests/e2e/hb_lib.sh: helpers of the heartbeat / silent-drop / reconnect tests (4N_*.sh),
# sourced after lib.sh.
#
#   relay_start NAME UPSTREAM_PORT    start tests/relay/xrelay in front of UPSTREAM_PORT; sets
#                                     RELAY_PORT[NAME] (devices connect here), RELAY_CTL[NAME]
#   relay NAME COMMAND...             one control command (see xrelay.c); prints its answer
#                                     lines (the final "ok ..." included); fails on "err"
#   relay_accepted NAME               connections the relay accepted so far
#   relay_log_ms NAME ERE             Unix ms (as now_ms) of the relay log lines matching ERE
#   prosody_start NAME [LUA_LINE]...  a private Prosody (own ports and data, the stack's CA and
#                                     component secret) with extra global settings; sets
#                                     PROSODY_C2S[NAME], PROSODY_COMP[NAME], PROSODY_CFG[NAME]
#   prosody_user NAME USER            new_user on that Prosody
#   hb_set ...                        the --set arguments of a time-scaled heartbeat
#
# Everything is started through T_PIDS, so lib.sh's cleanup stops exactly these pids.

XRELAY=${XRELAY:-$XPUSH_BUILD/tests/relay/xrelay}
declare -A RELAY_PORT=() RELAY_CTL=() PROSODY_C2S=() PROSODY_COMP=() PROSODY_CFG=()

relay_start() {
	local name=$1 up=$2 pf=$T_DIR/$1.ports
	need_bin "$XRELAY"
	rm -f "$pf"
	"$XRELAY" --upstream "$up" --ports-file "$pf" --max-conns 1024 </dev/null >/dev/null 2>>"$T_DIR/$name.log" &
	T_PIDS[$name]=$!
	wait_for 5 "relay $name to listen" test -s "$pf"
	RELAY_PORT[$name]=$(sed -n 's/^listen=\([0-9]*\) .*/\1/p' "$pf")
	RELAY_CTL[$name]=$(sed -n 's/.* control=\([0-9]*\)$/\1/p' "$pf")
	log "relay $name: 127.0.0.1:${RELAY_PORT[$name]} -> :$up (control :${RELAY_CTL[$name]})"
}

relay() {
	local name=$1 fd line out=""
	shift
	exec {fd}<>"/dev/tcp/127.0.0.1/${RELAY_CTL[$name]}" || fail "relay $name: control port closed"
	printf '%s\n' "$*" >&"$fd"
	while IFS= read -r -t 5 line <&"$fd"; do
		out+="$line"$'\n'
		[[ $line == ok* || $line == err* ]] && break
	done
	exec {fd}>&-
	[[ $line == ok* ]] || fail "relay $name: '$*' answered '${line:-nothing}'"
	printf '%s' "$out"
}

relay_accepted() {
	relay "$1" stats | sed -n 's/.*accepted=\([0-9]*\).*/\1/p'
}

relay_log_ms() {
	grep -E -- "$2" "$T_DIR/$1.log" | sed -n 's/^xrelay t=[0-9]* ts=\([0-9]*\) .*/\1/p'
}

prosody_start() {
	local name=$1 dir=$T_DIR/$1 c2s comp secret line
	shift
	command -v prosody >/dev/null || skip "prosody is not installed"
	read -r c2s comp < <(stack_free_ports 2)
	mkdir -p "$dir/prosody/data"
	chmod 700 "$dir/prosody"
	ln -sfn "$XPUSH_STATE/ca" "$dir/ca"
	secret=$(<"$XPUSH_SECRET_FILE")
	XPUSH_PROSODY_LOG_LEVEL=${XPUSH_PROSODY_LOG_LEVEL:-debug} \
		stack_write_prosody_config "$dir" "$c2s" "$comp" "$XPUSH_DOMAIN" "$secret"
	# global settings precede the first VirtualHost line; one that the stack sets is replaced
	{
		printf -- '-- heartbeat test settings (tests/e2e/hb_lib.sh)\n'
		for line in "$@"; do printf '%s\n' "$line"; done
	} >"$dir/extra.lua"
	python3 - "$dir/prosody/prosody.cfg.lua" "$dir/extra.lua" <<'EOF'
import re, sys
cfg, extra = sys.argv[1], open(sys.argv[2]).read().splitlines()
text = open(cfg).read()
i = text.index('\nVirtualHost ')
head, tail = text[:i].split('\n'), text[i:]
add = []
for line in extra:
    m = re.match(r'\s*([A-Za-z_][A-Za-z0-9_]*)\s*=', line)
    hit = [k for k, h in enumerate(head) if m and re.match(r'\s*' + m.group(1) + r'\s*=', h)]
    if hit:  # Prosody refuses a duplicate option: replace the stack's line
        head[hit[0]] = line
    else:
        add.append(line)
open(cfg, 'w').write('\n'.join(head + add) + tail)
EOF
	PROSODY_C2S[$name]=$c2s
	PROSODY_COMP[$name]=$comp
	PROSODY_CFG[$name]=$dir/prosody/prosody.cfg.lua
	_prosody_run "$name"
}

_prosody_run() {
	local name=$1 dir=$T_DIR/$1
	echo "---- start $(date +%T.%3N)" >>"$dir/stdout.log"
	prosody --config "${PROSODY_CFG[$name]}" -F >>"$dir/stdout.log" 2>&1 </dev/null &
	T_PIDS[$name]=$!
	wait_for 15 "prosody $name to open its ports" _prosody_up "$name"
	log "prosody $name pid ${T_PIDS[$name]}: c2s :${PROSODY_C2S[$name]} component :${PROSODY_COMP[$name]}"
}

_prosody_up() {
	proc_alive "${T_PIDS[$1]}" || fail "prosody $1 exited (see $T_DIR/$1/stdout.log)"
	stack_port_open "${PROSODY_C2S[$1]}" && stack_port_open "${PROSODY_COMP[$1]}"
}

# prosody_restart NAME: SIGTERM (clients get a system-shutdown stream error), wait, start again.
prosody_restart() {
	stop_proc "$1" TERM
	_prosody_run "$1"
}

prosody_user() {
	XPUSH_PROSODY_CFG=${PROSODY_CFG[$1]} new_user "$2"
}

# hb_set MIN MAX STEP STEP_AFTER TIMEOUT: --set arguments of an adaptive, time-scaled heartbeat
# (no upward probes, fast reconnects) for start_device.
hb_set() {
	echo "--set heartbeat_min_ms=$1 --set heartbeat_max_ms=$2 --set heartbeat_step_ms=$3" \
		"--set heartbeat_step_after=$4 --set heartbeat_timeout_ms=$5 --set heartbeat_probe_after=0" \
		"--set reconnect_base_ms=200 --set reconnect_cap_ms=2000 --set stable_after_ms=3000"
}

# learned_interval NAME: the interval of the device's last "msg=interval" or "msg=network" line.
learned_interval() {
	grep -E 'topic=heartbeat msg=(interval|network) ' "$T_DIR/$1.err" | tail -n 1 |
		sed -n 's/.* interval_ms=\([0-9]*\).*/\1/p'
}

# count_re FILE ERE: lines of FILE matching ERE.
count_re() {
	local n
	n=$(grep -cE -- "$2" "$1" 2>/dev/null) || true
	echo "${n:-0}"
}

# all_once NAME ID...: each id was displayed exactly once by device NAME.
all_once() {
	local name=$1 id n
	shift
	for id in "$@"; do
		n=$(count_in "$T_DIR/$name.out" "notification id=$id ")
		[[ $n == 1 ]] || fail "device $name displayed notification $id $n times (want 1)"
	done
}

# all_acked ID...: every ledger row of each id is acked.
all_acked() {
	local id
	for id in "$@"; do
		acked 1 "$id" || return 1
	done
}

# hb_own_prosody_only: tests that run their own Prosody (with the server settings of
# docs/heartbeat.md) exercise nothing of the stack's server: they run in the Prosody pass only.
hb_own_prosody_only() {
	only_on prosody "runs its own Prosody with the settings of docs/heartbeat.md"
}
