#!/usr/bin/env bash
# (69) Fault test 10: a bounded soak. 50 devices (xpush-client processes, 25 accounts
# with two devices each, aliases and tags) receive thousands of pushes with mixed targets (jid,
# one device, alias, tags any/all/none, broadcast; some with a short ttl or ttl 0, collapse
# keys, high priority, and some retracted soon after) from a producer (a psql call per batch of
# 50 autocommit INSERTs), while xpushd, the XMPP server and Postgres are killed at random:
# xpushd and Prosody with SIGKILL, Postgres with pg_ctl stop -m immediate (every process quits
# at once, crash recovery at the next start). Then everything drains, and the oracle classifies
# each (push, device): lost=0 and displayed_twice=0 are required; the counts are printed.
#
# What is promised: a push is expected when its INSERT committed: every push of a batch whose
# psql call succeeded (each must exist: no false success), and every push of a failed batch that
# exists after all (its commit outcome was unknown to the producer). Its devices are computed
# from the target and the roster (not read back from the ledger). Collapse, retract, ttl and
# ttl 0 legitimately prevent some displays: the ledger then says superseded, retracted or
# expired, and the oracle counts those pairs as ended ("expired=").
#
# Length: XPUSH_SOAK_SECONDS of faults (default 60: the test then takes about 2-2.5 minutes);
# longer runs also need a larger XPUSH_E2E_TIMEOUT, e.g.
#   XPUSH_SOAK_SECONDS=900 XPUSH_E2E_TIMEOUT=1200 scripts/test e2e prosody/69
# XPUSH_SOAK_SEED fixes the random choices (default: the pid). Prosody only: ejabberd restarts
# take seconds each, which a CI-length soak cannot afford (tests 60-64 and 68 cover it).
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "$0")/lib.sh"
only_on prosody "the CI-length soak restarts Prosody (ejabberd's restarts are too slow for its time budget)"

SOAK_S=${XPUSH_SOAK_SECONDS:-60}
SEED=${XPUSH_SOAK_SEED:-$$}
NUSERS=25
BATCH=50                                # pushes per psql call
PACE=${XPUSH_SOAK_PACE:-0.5}            # seconds between the producer's batches
log "soak: ${SOAK_S}s of faults, seed $SEED, $((NUSERS * 2)) devices"
RANDOM=$SEED

create_test_db
write_xpushd_config reconnect_min_ms=100 reconnect_max_ms=1000 ack_timeout_ms=3000 \
	scan_interval_ms=2000 max_attempts=3 log_level=info
start_xpushd xpushd
await_xpushd_ready xpushd
ready=1

# ---- the roster: user i has devices u<i>a (tags g<i%5>, even|odd) and u<i>b (g<i%5>, mobile),
# both with alias al<i>.
DEVS=()
declare -A DEV_ARGS=()   # what each device is started with (again, after it vanished)
for ((i = 0; i < NUSERS; i++)); do
	new_user "u$i"
	par=$([[ $((i % 2)) == 0 ]] && echo even || echo odd)
	DEV_ARGS[u${i}a]="u$i u${i}a --alias al$i --tag g$((i % 5)) --tag $par"
	DEV_ARGS[u${i}b]="u$i u${i}b --alias al$i --tag g$((i % 5)) --tag mobile"
	for d in "u${i}a" "u${i}b"; do
		# shellcheck disable=SC2086  # DEV_ARGS holds words without spaces
		start_device "$d" ${DEV_ARGS[$d]} --set reconnect_base_ms=200 --set reconnect_cap_ms=2000 \
			--log-level warn
		DEVS+=("$d")
	done
done
all_online() {
	sql_is $((NUSERS * 2)) "SELECT count(*) FROM push.devices WHERE online AND app = '$T_APP'"
}
wait_for 60 "all $((NUSERS * 2)) devices online" all_online
for ((i = 0; i < NUSERS; i++)); do echo "u$i ${USER_JID[u$i]}"; done >"$T_DIR/users"

# ---- the plan: every push, its SQL and its devices (python, seeded) --------------------------
NPUSH=$(( (SOAK_S + 15) * 2 * BATCH ))
python3 - "$SEED" "$NPUSH" "$T_APP" "$T_DIR/users" >"$T_DIR/plan" <<'PY'
import random, sys
seed, n, app, users_file = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3], sys.argv[4]
rnd = random.Random(seed)
jid = dict(l.split() for l in open(users_file))
U = len(jid)
devs = {}
for i in range(U):
    g = "g%d" % (i % 5)
    devs["u%da" % i] = {"user": i, "tags": {g, "even" if i % 2 == 0 else "odd"}}
    devs["u%db" % i] = {"user": i, "tags": {g, "mobile"}}
def arr(tags):
    return "'{" + ",".join(sorted(tags)) + "}'"
for seq in range(1, n + 1):
    cols = {"app": "'%s'" % app, "title": "'soak %d'" % seq}
    r = rnd.random()
    i = rnd.randrange(U)
    k = "g%d" % rnd.randrange(5)
    if r < 0.30:
        cols["to_jid"] = "'%s'" % jid["u%d" % i]
        target = [d for d, v in devs.items() if v["user"] == i]
    elif r < 0.50:
        d = "u%d%s" % (i, rnd.choice("ab"))
        cols["to_jid"] = "'%s'" % jid["u%d" % i]
        cols["to_device"] = "'%s'" % d
        target = [d]
    elif r < 0.65:
        cols["to_alias"] = "'al%d'" % i
        target = [d for d, v in devs.items() if v["user"] == i]
    elif r < 0.78:
        cols["tags_any"] = arr({k})
        target = [d for d, v in devs.items() if k in v["tags"]]
    elif r < 0.86:
        cols["tags_all"] = arr({k, "mobile"})
        target = [d for d, v in devs.items() if {k, "mobile"} <= v["tags"]]
    elif r < 0.94:
        cols["tags_any"] = arr({k})
        cols["tags_none"] = arr({"mobile"})
        target = [d for d, v in devs.items() if k in v["tags"] and "mobile" not in v["tags"]]
    elif r < 0.97:
        cols["broadcast"] = "true"
        cols["tags_none"] = arr({"even"})
        target = [d for d, v in devs.items() if "even" not in v["tags"]]
    else:
        cols["broadcast"] = "true"
        target = list(devs)
    o = rnd.random()
    if o < 0.04:
        cols["ttl_seconds"] = "3"
    elif o < 0.06:
        cols["ttl_seconds"] = "0"
    elif o < 0.16:
        cols["collapse_key"] = "'ck%d'" % rnd.randrange(4)
    elif o < 0.26:
        cols["priority"] = "'high'"
    sql = "INSERT INTO push.notifications (%s) VALUES (%s);" % (
        ", ".join(cols), ", ".join(cols.values()))
    retract = 1 if rnd.random() < 0.03 else 0
    print("%d\t%d\t%s\t%s" % (seq, retract, sql, " ".join(sorted(target))))
PY
log "plan: $(wc -l <"$T_DIR/plan") pushes"

# ---- the producer ------------------------------------------------------------------------------
# Batches of $BATCH autocommit INSERTs in one psql call (ON_ERROR_STOP). Log lines:
#   ok FIRST LAST     psql exited 0: all committed
#   err FIRST LAST    psql failed: outcomes unknown (settled at the end by looking them up)
# Pushes marked for retract are retracted by a later batch (a producer changing its mind).
producer() {
	local first=1 last seq r sqltext f p pend=()
	while ((first <= NPUSH)) && [[ ! -e $T_DIR/stop ]]; do
		last=$((first + BATCH - 1))
		((last > NPUSH)) && last=$NPUSH
		f=$T_DIR/batch.sql
		: >"$f"
		for p in "${pend[@]}"; do
			echo "SELECT push.retract(id) FROM push.notifications WHERE app = '$T_APP' AND title = 'soak $p';" >>"$f"
		done
		pend=()
		while IFS=$'\t' read -r seq r sqltext _; do
			echo "$sqltext" >>"$f"
			((r == 1)) && pend+=("$seq")
		done < <(sed -n "${first},${last}p" "$T_DIR/plan")
		if sql_script -f "$f" >/dev/null 2>>"$T_DIR/producer.err"; then
			echo "ok $first $last"
		else
			echo "err $first $last"
		fi
		first=$((last + 1))
		sleep "$PACE"   # pace: a producer's rate, not a synchronisation
	done
}
producer >"$T_DIR/producer.log" &
T_PIDS[producer]=$!

# ---- faults ------------------------------------------------------------------------------------
# Besides crashes: phones that vanish without a FIN (SIGSTOP) for longer than max_attempts x
# ack_timeout_ms (3 x 3 s), then come back: the same session resumes (SIGCONT), or the old one
# dies and a new one begins (SIGKILL, then the device starts again on its own state).
declare -A VANISHED=()
STUCK_MAX=0
resume_vanished() {  # resume_vanished MIN_MS: devices vanished for at least MIN_MS
	local d
	for d in "${!VANISHED[@]}"; do
		(($(now_ms) - VANISHED[$d] >= $1)) || continue
		if ((RANDOM % 2)); then
			log "fault end: $d resumes its session"
			kill -CONT "${T_PIDS[$d]}"
		else
			log "fault end: $d's old session dies; it starts again"
			kill -CONT "${T_PIDS[$d]}"
			stop_proc "$d" KILL
			# shellcheck disable=SC2086
			start_device "$d" ${DEV_ARGS[$d]} --set reconnect_base_ms=200 --set reconnect_cap_ms=2000 \
				--log-level warn
		fi
		unset "VANISHED[$d]"
	done
}
# No dead ends: queue_health.stuck (queued rows an idle online device has waited a minute for).
sample_stuck() {
	local n
	n=$(sql "SELECT stuck FROM push.queue_health" 2>/dev/null) || return 0
	((n > STUCK_MAX)) && STUCK_MAX=$n
	return 0
}
end=$(($(now_ms) + SOAK_S * 1000))
kills=()
while (($(now_ms) < end)); do
	sleep "$((3 + RANDOM % 6))"   # time between faults (chaos pacing)
	resume_vanished 10000
	sample_stuck
	case $((RANDOM % 4)) in
	3)
		d=${DEVS[RANDOM % ${#DEVS[@]}]}
		if [[ -z ${VANISHED[$d]:-} ]]; then
			log "fault: $d vanishes (SIGSTOP: no FIN)"
			kills+=("vanish:$d")
			kill -STOP "${T_PIDS[$d]}"
			VANISHED[$d]=$(now_ms)
		fi
		;;
	0)
		log "fault: SIGKILL xpushd"
		kills+=(xpushd)
		stop_proc xpushd KILL
		start_xpushd xpushd
		ready=$((ready + 1))
		await_xpushd_ready xpushd "$ready"
		;;
	1)
		log "fault: SIGKILL Prosody"
		kills+=(prosody)
		stack_server_down KILL || fail "could not kill the server"
		stack_server_up || fail "could not restart the server"
		ready=$((ready + 1))
		await_xpushd_ready xpushd "$ready"
		;;
	2)
		log "fault: Postgres immediate stop (crash) and start"
		kills+=(postgres)
		stack_pg_crash_restart || fail "could not crash-restart Postgres"
		;;
	esac
done
touch "$T_DIR/stop"
resume_vanished 0
wait_for 30 "the producer to stop" exited producer
reap producer
log "faults: ${#kills[@]} (${kills[*]})"

# ---- accounting --------------------------------------------------------------------------------
sql_rows "SELECT id, substr(title, 6) FROM push.notifications WHERE app = '$T_APP'" >"$T_DIR/ids"
python3 - "$T_DIR/plan" "$T_DIR/producer.log" "$T_DIR/ids" "$T_EXPECTED" <<'PY' || fail "accounting failed (see above)"
import sys
plan_f, log_f, ids_f, exp_f = sys.argv[1:]
plan = {}
for l in open(plan_f):
    seq, _, _, devs = l.rstrip("\n").split("\t")
    plan[int(seq)] = devs.split()
ids = {}
for l in open(ids_f):
    nid, seq = l.split()
    ids[int(seq)] = int(nid)
ok = err = unknown_exist = 0
false_success = []
attempted = set()
with open(exp_f, "a") as out:
    for l in open(log_f):
        kind, a, b = l.split()
        for seq in range(int(a), int(b) + 1):
            attempted.add(seq)
            if kind == "ok":
                ok += 1
                if seq not in ids:
                    false_success.append(seq)
                    continue
            else:
                err += 1
                if seq not in ids:
                    continue
                unknown_exist += 1
            for d in plan[seq]:
                out.write("%d %s\n" % (ids[seq], d))
stray = sorted(set(ids) - attempted)
print("producer: committed (psql ok) %d, failed batches' pushes %d of which %d exist" % (ok, err, unknown_exist))
if false_success:
    sys.exit("false success: psql succeeded but these pushes do not exist: %s" % false_success[:20])
if stray:
    sys.exit("pushes exist that were never attempted: %s" % stray[:20])
PY
log "expected (push, device) pairs: $(wc -l <"$T_EXPECTED")"

# ---- drain ------------------------------------------------------------------------------------
wait_for 60 "all devices online again" all_online
wait_for 120 "the ledger to settle (nothing queued or sent, everything fanned out)" ledger_settled
log "ledger: $(sql "SELECT string_agg(state || '=' || c, ' ') FROM (SELECT state, count(*) c FROM push.deliveries GROUP BY 1 ORDER BY 1) s")"
log "queue_health: $(sql_rows "SELECT * FROM push.queue_health")"
sample_stuck
assert_eq 0 "$STUCK_MAX" "largest queue_health.stuck sampled during the soak (no dead ends)"
assert_eq 0 "$(ledger_count "state = 'failed'")" "failed rows (every device acks)"
# Every ledger row is one the plan predicted (fan-out matched the roster exactly).
# (Pushes that expired or were retracted before their fan-out have no rows: fanout_note.)
sql "SELECT id FROM push.notifications WHERE fanout_note IS NOT NULL" >"$T_DIR/unfanned"
log "pushes ended before fan-out (fanout_note): $(wc -l <"$T_DIR/unfanned")"
awk 'FILENAME == ARGV[1] { skip[$1] = 1; next } !($1 in skip) { print $1, $2 }' \
	"$T_DIR/unfanned" "$T_EXPECTED" | sort -u >"$T_DIR/expected.sorted"
sql_rows "SELECT d.notification_id, v.device FROM push.deliveries d JOIN push.devices v ON v.id = d.device_id" |
	sort -u >"$T_DIR/ledger.pairs"
comm -3 "$T_DIR/expected.sorted" "$T_DIR/ledger.pairs" >"$T_DIR/pairs.diff" || true
[[ ! -s $T_DIR/pairs.diff ]] ||
	fail "ledger rows and expected pairs differ ($(wc -l <"$T_DIR/pairs.diff") lines; $T_DIR/pairs.diff)"
args=()
for d in "${DEVS[@]}"; do args+=("$d=$d"); done
check_oracle "${args[@]}"
echo "soak oracle (${SOAK_S}s, seed $SEED, faults ${#kills[@]}): $ORACLE_COUNTS"
log "pass"
