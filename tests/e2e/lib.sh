# shellcheck shell=bash
# tests/e2e/lib.sh: sourced by every end-to-end test (tests/e2e/NN_name.sh).
#
# A test runs against the stack that scripts/test started (Postgres + Prosody and/or ejabberd,
# described by the sourceable file $XPUSH_ENV) and against the XMPP server that XPUSH_SERVER
# names (prosody or ejabberd; scripts/test runs every test once per server): XPUSH_C2S_PORT,
# XPUSH_COMPONENT_PORT, new_user and stack_server_down/up follow it. A test that cannot run on
# a server says so with only_on SERVER REASON (a skip with the reason, never a silent drop).
# It gets its own database, its own XMPP accounts and a log dir ($XPUSH_TEST_DIR, or a temp
# dir), starts xpushd and devices in the background, synchronises
# only by bounded polling of observable state (wait_for), and on exit stops exactly the pids it
# started. Exit 0 = pass, 77 = skip, anything else = fail (the message says why).
#
# Run one by hand against a running stack:
#   XPUSH_ENV=.xpush-demo/env bash tests/e2e/01_online.sh
#   XPUSH_SERVER=ejabberd XPUSH_ENV=/tmp/xpush-test.XXXXXX/env bash tests/e2e/01_online.sh

set -euo pipefail

E2E_NAME=$(basename "$0" .sh)
E2E_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)

if [[ -z ${XPUSH_ENV:-} || ! -f ${XPUSH_ENV:-} ]]; then
	echo "FAIL $E2E_NAME: XPUSH_ENV does not name a stack env file (start one with scripts/test)" >&2
	exit 1
fi
# shellcheck disable=SC1090
source "$XPUSH_ENV"
if [[ " ${XPUSH_SERVERS:-prosody} " != *" ${XPUSH_SERVER:-prosody} "* ]]; then
	echo "FAIL $E2E_NAME: XPUSH_SERVER=${XPUSH_SERVER:-} but the stack runs: ${XPUSH_SERVERS:-prosody}" >&2
	exit 1
fi
XPUSH_SERVER=${XPUSH_SERVER:-prosody}
# shellcheck source-path=SCRIPTDIR source=../../scripts/lib/stack.sh
source "$E2E_ROOT/scripts/lib/stack.sh"

XPUSH_BUILD=${XPUSH_BUILD:-$E2E_ROOT/build}
XPUSHD=${XPUSHD:-$XPUSH_BUILD/component/xpushd}
XPUSH_CLIENT=${XPUSH_CLIENT:-$XPUSH_BUILD/cli/xpush-client}

T_DIR=${XPUSH_TEST_DIR:-}
if [[ -z $T_DIR ]]; then
	T_DIR=$(mktemp -d "${TMPDIR:-/tmp}/xpush-e2e-$E2E_NAME.XXXXXX")
fi
mkdir -p "$T_DIR"
T_SLUG=$(echo "$E2E_NAME" | tr -c 'a-z0-9\n' '_' | tr -d '\n')
T_UID="${T_SLUG}_$$"
T_DB="t_$T_UID"
T_APP=com.example.xpush.e2e

declare -A T_PIDS=()
T_DB_CREATED=""
E2E_CLEANUP=() # functions a helper library adds; run at exit after T_PIDS are stopped

log() {
	echo "[$(date +%H:%M:%S.%3N)] $E2E_NAME: $*" >&2
}

fail() {
	echo "FAIL $E2E_NAME: $*" >&2
	exit 1
}

skip() {
	echo "SKIP $E2E_NAME: $*" >&2
	exit 77
}

# only_on SERVER REASON: skip (77) with REASON unless this run is against SERVER.
only_on() {
	[[ $XPUSH_SERVER == "$1" ]] || skip "$1 only ($XPUSH_SERVER run): $2"
}

now_ms() {
	local t=${EPOCHREALTIME/./}
	echo $((t / 1000))
}

# wait_for TIMEOUT_S DESCRIPTION CMD...: run CMD every 50 ms until it succeeds; fail with
# DESCRIPTION after TIMEOUT_S seconds. CMD runs in this shell (it may call fail to stop early).
# XPUSH_WAIT_SCALE (default 1) multiplies every timeout, for slow builds (sanitizers).
wait_for() {
	local timeout_s=$(($1 * ${XPUSH_WAIT_SCALE:-1})) desc=$2 deadline
	shift 2
	deadline=$(($(now_ms) + timeout_s * 1000))
	while true; do
		if "$@" >/dev/null 2>&1; then
			return 0
		fi
		if (($(now_ms) > deadline)); then
			fail "timed out after ${timeout_s}s waiting for: $desc"
		fi
		sleep 0.05
	done
}

assert_eq() {
	local expected=$1 actual=$2 desc=$3
	[[ $expected == "$actual" ]] || fail "$desc: expected [$expected], got [$actual]"
	log "ok: $desc ($actual)"
}

# ---- SQL -------------------------------------------------------------------------------------

# sql QUERY: run QUERY in this test's database, print unaligned tuples only.
sql() {
	"$XPUSH_PGBIN/psql" -X -A -t -q -v ON_ERROR_STOP=1 -h "$XPUSH_PGHOST" -p "$XPUSH_PGPORT" \
		-U xpush -d "$T_DB" -c "$1"
}

# sql_is EXPECTED QUERY: true if the query prints exactly EXPECTED.
sql_is() {
	local out
	out=$(sql "$2") || return 1
	[[ $out == "$1" ]]
}

# sql_script [-v name=value]...: read SQL from stdin (psql interpolates :'name' there, never in -c).
sql_script() {
	"$XPUSH_PGBIN/psql" -X -A -t -q -v ON_ERROR_STOP=1 -h "$XPUSH_PGHOST" -p "$XPUSH_PGPORT" \
		-U xpush -d "$T_DB" "$@"
}

create_test_db() {
	stack_create_db "$T_DB" || fail "could not create database $T_DB"
	T_DB_CREATED=1
}

# notify col=value...: INSERT one notification (values passed as psql variables, never spliced
# into SQL text) and print its id.
notify() {
	local kv cols=() vals=() args=()
	for kv in "$@"; do
		cols+=("${kv%%=*}")
		vals+=(":'${kv%%=*}'")
		args+=(-v "${kv%%=*}=${kv#*=}")
	done
	local IFS=,
	sql_script "${args[@]}" <<<"INSERT INTO push.notifications (${cols[*]}) VALUES (${vals[*]}) RETURNING id;"
}

# ---- accounts --------------------------------------------------------------------------------

# new_user NAME: create account NAME_<test>_<pid>@xpush.test, password in $T_DIR/NAME.pass.
# Sets USER_JID[NAME].
declare -A USER_JID=()
new_user() {
	local name=$1 local_part="${1}_$T_UID" pass
	pass=$(openssl rand -hex 12)
	(umask 077 && printf '%s' "$pass" >"$T_DIR/$name.pass")
	stack_add_user "$local_part" "$pass" || fail "could not create XMPP account $local_part"
	USER_JID[$name]="$local_part@$XPUSH_DOMAIN"
	log "account ${USER_JID[$name]}"
}

# ---- processes -------------------------------------------------------------------------------

# proc_alive PID: running (a zombie, exited but not yet reaped, counts as dead).
proc_alive() {
	local _pid _comm st
	[[ -n $1 ]] || return 1
	read -r _pid _comm st _ 2>/dev/null <"/proc/$1/stat" || return 1
	[[ -n $st && $st != Z ]]
}

# exited NAME: the process this test started under NAME is no longer running.
exited() {
	! proc_alive "${T_PIDS[$1]}"
}

# The pid of a process this test started under NAME.
pid_of() {
	echo "${T_PIDS[$1]:-}"
}

# stop_proc NAME [SIGNAL]: signal it (default TERM), wait up to 10 s, reap it, set PROC_RC.
PROC_RC=""
stop_proc() {
	local name=$1 sig=${2:-TERM} pid
	pid=${T_PIDS[$name]:-}
	[[ -n $pid ]] || fail "stop_proc: no process named $name"
	kill -"$sig" "$pid" 2>/dev/null || true
	wait_for 10 "$name (pid $pid) to exit after SIG$sig" exited "$name"
	reap "$name"
}

# reap NAME: collect the exit status of an exited process into PROC_RC.
reap() {
	local pid=${T_PIDS[$1]}
	PROC_RC=0
	wait "$pid" 2>/dev/null || PROC_RC=$?
	unset "T_PIDS[$1]"
}

need_bin() {
	[[ -x $1 ]] || fail "$1 is not built (run ninja -C $XPUSH_BUILD)"
}

# write_xpushd_config [FILE] [key=value]...: config for this test's database. FILE defaults to
# $T_DIR/xpushd.conf; the first argument is taken as FILE if it has no '='.
# shellcheck disable=SC2120
write_xpushd_config() {
	local file=$T_DIR/xpushd.conf
	if (($#)) && [[ $1 != *=* ]]; then
		file=$1
		shift
	fi
	# Tests of other features register devices for their own app ids without adding apps
	# (schema 010): unknown apps are open here. 84_apps tests the default (refuse).
	local -a extra=(log_level=debug instance_id="$T_UID" unknown_apps=open)
	stack_write_xpushd_config "$file" "$T_DB" "${extra[@]}" "$@"
}

# start_xpushd NAME [xpushd args]: start xpushd -c $T_DIR/xpushd.conf in the background, log to
# $T_DIR/NAME.log (appended); does not wait (see await_xpushd_ready).
start_xpushd() {
	local name=$1
	shift
	need_bin "$XPUSHD"
	local conf=$T_DIR/xpushd.conf
	[[ -f $conf ]] || write_xpushd_config
	echo "---- start $(date +%T.%3N)" >>"$T_DIR/$name.log"
	"$XPUSHD" -c "$conf" "$@" </dev/null >>"$T_DIR/$name.log" 2>&1 &
	T_PIDS[$name]=$!
	log "started $name pid ${T_PIDS[$name]}"
}

# ready_count NAME: how many 'component ready' lines NAME's log has (one per connection).
ready_count() {
	local n
	n=$(grep -c 'msg="component ready"' "$T_DIR/$1.log" 2>/dev/null) || true
	echo "${n:-0}"
}

_xpushd_ready() {
	local name=$1 want=$2 pid=${T_PIDS[$1]}
	if ! proc_alive "$pid"; then
		reap "$name"
		fail "$name exited with status $PROC_RC before it was ready (log: $T_DIR/$name.log)"
	fi
	(($(ready_count "$name") >= want))
}

# await_xpushd_ready NAME [N]: wait for the Nth 'component ready' line (default: 1).
await_xpushd_ready() {
	local name=$1 want=${2:-1}
	wait_for 15 "$name to log msg=\"component ready\"" _xpushd_ready "$name" "$want"
}

# start_device NAME USER DEVICE [xpush-client args]: run xpush-client as USER's account with
# install id DEVICE, state dir $T_DIR/NAME.state, stdout $T_DIR/NAME.out, stderr
# $T_DIR/NAME.err (both appended, so a restarted device keeps one history).
start_device() {
	local name=$1 user=$2 device=$3
	shift 3
	need_bin "$XPUSH_CLIENT"
	[[ -n ${USER_JID[$user]:-} ]] || fail "start_device: unknown user $user"
	mkdir -p "$T_DIR/$name.state"
	echo "---- start $(date +%T.%3N)" >>"$T_DIR/$name.err"
	"$XPUSH_CLIENT" --jid "${USER_JID[$user]}" --host 127.0.0.1 --port "$XPUSH_C2S_PORT" \
		--ca-file "$XPUSH_CA_FILE" --component "$XPUSH_COMPONENT_JID" --app "$T_APP" \
		--device "$device" --state-dir "$T_DIR/$name.state" --password-file "$T_DIR/$user.pass" \
		"$@" </dev/null >>"$T_DIR/$name.out" 2>>"$T_DIR/$name.err" &
	T_PIDS[$name]=$!
	log "started device $name ($user/$device) pid ${T_PIDS[$name]}"
}

# scripted_device NAME USER DEVICE [xmpp.py args]: an independent XMPP device (tests/e2e/xmpp.py,
# not libxpush) as USER with resource NAME that registers DEVICE and sends its directed presence,
# then runs until its --timeout (120 s), a signal or the server closing the stream; what it
# receives goes to $T_DIR/NAME.out (appended). xmpp.py's --ack, --drop-first and --answer-pings
# make it ack and answer pings. Does not wait (see device_online).
scripted_device() {
	local name=$1 user=$2 device=$3
	shift 3
	python3 "$E2E_ROOT/tests/e2e/xmpp.py" --jid "${USER_JID[$user]}" --password-file "$T_DIR/$user.pass" \
		--port "$XPUSH_C2S_PORT" --ca-file "$XPUSH_CA_FILE" --resource "$name" \
		--send "<iq type='set' id='r1' to='$XPUSH_COMPONENT_JID'><register xmlns='urn:xpush:0' app='$T_APP' device='$device'/></iq>" \
		--send "<presence to='$XPUSH_COMPONENT_JID'><device xmlns='urn:xpush:0' app='$T_APP' device='$device'/></presence>" \
		--await-id never --timeout 120 "$@" >>"$T_DIR/$name.out" 2>>"$T_DIR/$name.err" </dev/null &
	T_PIDS[$name]=$!
	log "started scripted device $name ($user/$device) pid ${T_PIDS[$name]}"
}

# iq_reply FILE ID: "TYPE CONDITION FROM TEXT" of the last stanza with id ID in FILE (the output
# of tests/e2e/xmpp.py, one stanza a line); "-" for a missing condition, sender or text; nothing
# if no stanza has that id.
iq_reply() {
	python3 - "$1" "$2" <<'PY'
import sys, xml.etree.ElementTree as ET
out = ""
for line in open(sys.argv[1], encoding="utf-8"):
    e = ET.fromstring(line)
    if e.get("id") != sys.argv[2]:
        continue
    cond = text = "-"
    err = next((c for c in e if c.tag.endswith("}error")), None)
    if err is not None:
        for c in err:
            name = c.tag.rsplit("}", 1)[-1]
            if name == "text":
                text = c.text or ""
            else:
                cond = name
    out = "%s %s %s %s" % (e.get("type"), cond, e.get("from") or "-", text)
if out:
    print(out)
PY
}

# device_online USER DEVICE: xpushd's roster says the device is online.
device_online() {
	sql_is t "SELECT online FROM push.devices WHERE jid = '${USER_JID[$1]}' AND app = '$T_APP' AND device = '$2'"
}

device_offline() {
	sql_is f "SELECT online FROM push.devices WHERE jid = '${USER_JID[$1]}' AND app = '$T_APP' AND device = '$2'"
}

_device_ready() {
	local name=$1 user=$2 device=$3 pid=${T_PIDS[$1]}
	if ! proc_alive "$pid"; then
		reap "$name"
		fail "device $name exited with status $PROC_RC before it was online (log: $T_DIR/$name.err)"
	fi
	device_online "$user" "$device"
}

# await_device_online NAME USER DEVICE: the client is running and the roster row says online.
await_device_online() {
	wait_for 15 "device $1 ($2/$3) online in push.devices" _device_ready "$@"
}

# delivery_state NOTIF_ID: "state acks" of each ledger row for that notification, one per line.
delivery_rows() {
	sql "SELECT state || ' ' || acks FROM push.deliveries WHERE notification_id = $1 ORDER BY device_id"
}

# acked N NOTIF_ID: exactly N ledger rows for it, all acked.
acked() {
	sql_is "$1" "SELECT count(*) FROM push.deliveries WHERE notification_id = $2 AND state = 'acked'" &&
		sql_is "$1" "SELECT count(*) FROM push.deliveries WHERE notification_id = $2"
}

# count_in FILE PATTERN: number of lines of FILE matching the fixed string PATTERN.
count_in() {
	local n
	n=$(grep -cF -- "$2" "$1" 2>/dev/null) || true
	echo "${n:-0}"
}

# event_count NAME EVENT [ID]: how many lines of device NAME's stderr have the field
# event=EVENT (and the field id=ID or id="ID").
event_count() {
	awk -v ev="event=$2" -v id="${3:-}" '
		{
			e = 0; i = (id == "")
			for (k = 1; k <= NF; k++) {
				if ($k == ev) e = 1
				if (id != "" && ($k == "id=" id || $k == "id=\"" id "\"")) i = 1
			}
			if (e && i) n++
		}
		END { print n + 0 }' "$T_DIR/$1.err" 2>/dev/null || echo 0
}

# event_seen NAME EVENT [ID]: device NAME logged it at least once.
event_seen() {
	(($(event_count "$@") >= 1))
}

# ---- cleanup ---------------------------------------------------------------------------------

_e2e_cleanup() {
	local rc=$? name pid i
	trap - EXIT
	for name in "${!T_PIDS[@]}"; do
		pid=${T_PIDS[$name]}
		proc_alive "$pid" && kill -TERM "$pid" 2>/dev/null
	done
	for ((i = 0; i < 100; i++)); do
		local any=""
		for name in "${!T_PIDS[@]}"; do
			proc_alive "${T_PIDS[$name]}" && any=1
		done
		[[ -z $any ]] && break
		sleep 0.05
	done
	for name in "${!T_PIDS[@]}"; do
		pid=${T_PIDS[$name]}
		if proc_alive "$pid"; then
			echo "$E2E_NAME: $name (pid $pid) ignored SIGTERM for 5 s; SIGKILL" >&2
			kill -KILL "$pid" 2>/dev/null
		fi
		wait "$pid" 2>/dev/null || true
	done
	for name in "${E2E_CLEANUP[@]}"; do
		"$name" || true
	done
	if [[ -n $T_DB_CREATED && -z ${XPUSH_KEEP_DB:-} ]]; then
		stack_psql postgres -c "DROP DATABASE IF EXISTS \"$T_DB\" WITH (FORCE)" >/dev/null 2>&1 || true
	fi
	exit "$rc"
}
trap _e2e_cleanup EXIT
trap 'exit 143' TERM
trap 'exit 130' INT

log "test dir $T_DIR, database $T_DB, server $XPUSH_SERVER"

# ---- fault tests (tests/e2e/6*_*.sh): the oracle and many pushes -------------------------------
# A fault test records which pushes were promised (their INSERT committed) in $T_DIR/expected,
# lines "NOTIF_ID DEVICE", and ends with check_oracle, which dumps the ledger and runs
# tests/e2e/oracle.py over the devices' stdout: it fails unless lost=0 displayed_twice=0
# unexpected=0, and leaves the counts line in ORACLE_COUNTS.

XPUSHD_FAULTS=${XPUSHD_FAULTS:-$XPUSH_BUILD/component/xpushd-faults}
T_EXPECTED=$T_DIR/expected

# sql_rows QUERY: like sql, but columns separated by one space (for files the oracle reads).
sql_rows() {
	"$XPUSH_PGBIN/psql" -X -A -t -q -F ' ' -v ON_ERROR_STOP=1 -h "$XPUSH_PGHOST" \
		-p "$XPUSH_PGPORT" -U xpush -d "$T_DB" -c "$1"
}

# notify_many N col=value...: one INSERT of N notifications (title "<title> <i>" if a title is
# given, else "push <i>"); prints their ids, one a line. Values are psql variables, as in notify.
notify_many() {
	local n=$1 kv cols=() vals=() args=() title="push"
	shift
	args=(-v "n=$n")
	for kv in "$@"; do
		if [[ ${kv%%=*} == title ]]; then
			title=${kv#*=}
			continue
		fi
		cols+=("${kv%%=*}")
		vals+=(":'${kv%%=*}'")
		args+=(-v "${kv%%=*}=${kv#*=}")
	done
	args+=(-v "title=$title")
	cols+=(title)
	vals+=(":'title' || ' ' || i")
	local IFS=,
	sql_script "${args[@]}" <<<"INSERT INTO push.notifications (${cols[*]})
		SELECT ${vals[*]} FROM generate_series(1, :n) i RETURNING id;"
}

# expect DEVICE ID...: these committed pushes target DEVICE (appended to $T_EXPECTED).
expect() {
	local dev=$1 id
	shift
	for id in "$@"; do
		echo "$id $dev" >>"$T_EXPECTED"
	done
}

# ledger_count WHERE: ledger rows of this test's database matching the SQL condition.
ledger_count() {
	sql "SELECT count(*) FROM push.deliveries WHERE $1"
}

# ledger_settled: every ledger row has left queued/sent and every notification is fanned out.
ledger_settled() {
	sql_is 0 "SELECT (SELECT count(*) FROM push.deliveries WHERE state IN ('queued', 'sent'))
		+ (SELECT count(*) FROM push.notifications WHERE fanned_out_at IS NULL)"
}

# all_acked: every expected push has an acked ledger row (by device install id).
all_acked() {
	[[ -s $T_EXPECTED ]] || return 1
	local want got
	want=$(sort -u "$T_EXPECTED" | wc -l)
	got=$(sort -u "$T_EXPECTED" | sql_script -c "
		CREATE TEMP TABLE e (nid bigint, dev text);" -c "\copy e FROM pstdin WITH (DELIMITER ' ')" -c "
		SELECT count(*) FROM e JOIN push.devices v ON v.device = e.dev
		JOIN push.deliveries d ON d.notification_id = e.nid AND d.device_id = v.id
		WHERE d.state = 'acked'") || return 1
	[[ $got == "$want" ]]
}

# check_oracle DEVICE=NAME...: run the oracle over the named devices' stdout ($T_DIR/NAME.out)
# against $T_EXPECTED and the ledger now; print its report; fail unless it passes.
ORACLE_COUNTS=""
check_oracle() {
	local arg args=() rc=0 out
	for arg in "$@"; do
		args+=("${arg%%=*}=$T_DIR/${arg#*=}.out")
		touch "$T_DIR/${arg#*=}.out"
	done
	touch "$T_EXPECTED"
	sql_rows "SELECT d.notification_id, v.device, d.state FROM push.deliveries d
		JOIN push.devices v ON v.id = d.device_id ORDER BY 1, 2" >"$T_DIR/ledger" ||
		fail "could not dump the ledger"
	# A push that expired or was retracted before its fan-out has no ledger row: its own row
	# says so (fanout_note), and that ends each of its expected pairs.
	sql_rows "SELECT id, CASE WHEN fanout_note LIKE 'retracted%' THEN 'retracted' ELSE 'expired' END
		FROM push.notifications WHERE fanout_note IS NOT NULL" >"$T_DIR/ended_before_fanout" ||
		fail "could not read push.notifications"
	awk 'FILENAME == ARGV[1] { ended[$1] = $2; next }
		FILENAME == ARGV[2] { have[$1 " " $2] = 1; next }
		($1 in ended) && !(($1 " " $2) in have) { print $1, $2, ended[$1] }' \
		"$T_DIR/ended_before_fanout" "$T_DIR/ledger" "$T_EXPECTED" | sort -u >"$T_DIR/ledger.ended"
	cat "$T_DIR/ledger.ended" >>"$T_DIR/ledger"
	out=$(python3 "$E2E_ROOT/tests/e2e/oracle.py" --expected "$T_EXPECTED" \
		--ledger "$T_DIR/ledger" "${args[@]}") || rc=$?
	ORACLE_COUNTS=$(head -n 1 <<<"$out")
	echo "oracle: $out" >&2
	((rc == 0)) || fail "oracle: $ORACLE_COUNTS (details above; expected $T_EXPECTED, ledger $T_DIR/ledger)"
	log "ok: oracle $ORACLE_COUNTS"
}

# start_xpushd_faults NAME FAULT [xpushd args]: like start_xpushd, with the crash points compiled
# in (build/component/xpushd-faults) and XPUSH_FAULT=FAULT (e.g. after_send:3).
start_xpushd_faults() {
	local name=$1 fault=$2
	shift 2
	need_bin "$XPUSHD_FAULTS"
	XPUSHD=$XPUSHD_FAULTS XPUSH_FAULT=$fault start_xpushd "$name" "$@"
}

# log_has NAME TEXT: the log $T_DIR/NAME.log contains the fixed string TEXT.
log_has() {
	grep -qF -- "$2" "$T_DIR/$1.log" 2>/dev/null
}
