#!/usr/bin/env bash
# (77) A two-node ejabberd cluster of the test's own (Erlang distribution through a private epmd,
# one cookie, each node its own node name, spool, log and ports; node b joins a with
# join_cluster), one xpushd per node (each on its node's component port, distinct instance_id,
# the same component JID), one Postgres (the stack's). Devices log in through HAProxy (TCP, round
# robin, health checks), as a deployment fronts a cluster with a load balancer or DNS, and are
# spread over both nodes. A producer enqueues mixed pushes (jid, one device, alias, tags
# any/all/none, broadcast) in batches the whole time. Then, mid-stream:
#  1. node a is SIGKILLed: its devices reconnect through the balancer to node b, xpushd b (whose
#     node's routes cover the whole cluster) carries on alone; node a is started again and rejoins
#     the cluster by itself (same node name and spool), xpushd a reconnects to it;
#  2. xpushd b is SIGKILLed with pushes on the wire: xpushd a takes over what b had sent (acks
#     reach a; rows whose ack was lost are judged when their lease runs out and sent again).
# XPUSH_FULL=1 (scripts/test --full) runs three such cycles (XPUSH_77_CYCLES), restarting the
# dead xpushd and swapping the nodes' roles each time.
# Oracle as in the soak: the (push, device) pairs predicted from the plan and the roster equal the
# ledger's rows exactly, and lost=0 displayed_twice=0 unexpected=0.
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "$0")/lib.sh"
# shellcheck source-path=SCRIPTDIR source=cluster_lib.sh
source "$(dirname "$0")/cluster_lib.sh"
only_on ejabberd "a cluster of XMPP nodes is ejabberd's (Prosody does not cluster: docs/scaling.md)"

NUSERS=4 BATCH=10
PACE=${XPUSH_77_PACE:-0.3} # seconds between the producer's batches
CYCLES=${XPUSH_77_CYCLES:-1}
[[ ${XPUSH_FULL:-} != 1 ]] || CYCLES=${XPUSH_77_CYCLES:-3}
create_test_db
ej_epmd_start
ejnode_start a
ejnode_start b
ej_join b a
log "cluster: $(ej_running_nodes a | tr '\n' ' ')"
lb_start lb "${EJ_C2S[a]}" "${EJ_C2S[b]}"

# One xpushd per node. ack_timeout_ms: a lost ack or a send into a dead node is judged after 2 s.
for n in a b; do
	write_xpushd_config server_port="${EJ_COMP[$n]}" instance_id="${T_UID}_$n" \
		reconnect_min_ms=100 reconnect_max_ms=1000 ack_timeout_ms=2000 scan_interval_ms=2000
	start_xpushd "x$n"
	await_xpushd_ready "x$n"
	mv "$T_DIR/xpushd.conf" "$T_DIR/xpushd-$n.conf"
done

# ---- the roster: user i has u<i>a (tags g<i%2>, even|odd) and u<i>b (g<i%2>, mobile), alias al<i>
XPUSH_C2S_PORT=${LB_PORT[lb]} # devices connect through the balancer
DEVS=()
for ((i = 0; i < NUSERS; i++)); do
	ej_user "u$i"
	par=$([[ $((i % 2)) == 0 ]] && echo even || echo odd)
	start_device "u${i}a" "u$i" "u${i}a" --alias "al$i" --tag "g$((i % 2))" --tag "$par" --json \
		--set reconnect_base_ms=200 --set reconnect_cap_ms=2000 --log-level info
	start_device "u${i}b" "u$i" "u${i}b" --alias "al$i" --tag "g$((i % 2))" --tag mobile --json \
		--set reconnect_base_ms=200 --set reconnect_cap_ms=2000 --log-level info
	DEVS+=("u${i}a" "u${i}b")
done
all_online() {
	sql_is "${#DEVS[@]}" "SELECT count(*) FROM push.devices WHERE online AND app = '$T_APP'"
}
wait_for 30 "all ${#DEVS[@]} devices online" all_online
sessions_a=$(ej_sessions a) sessions_b=$(ej_sessions b)
log "sessions: node a $sessions_a, node b $sessions_b"
((sessions_a > 0 && sessions_b > 0)) || fail "the devices are not spread over both nodes (a $sessions_a, b $sessions_b)"
for ((i = 0; i < NUSERS; i++)); do echo "u$i ${USER_JID[u$i]}"; done >"$T_DIR/users"

# ---- the plan (seeded): each push's SQL and its devices --------------------------------------------
NPUSH=$((2000 * CYCLES))
python3 - "${XPUSH_77_SEED:-$$}" "$NPUSH" "$T_APP" "$T_DIR/users" >"$T_DIR/plan" <<'PY'
import random, sys
seed, n, app, users_file = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3], sys.argv[4]
rnd = random.Random(seed)
jid = dict(l.split() for l in open(users_file))
U = len(jid)
devs = {}
for i in range(U):
    g = "g%d" % (i % 2)
    devs["u%da" % i] = {"user": i, "tags": {g, "even" if i % 2 == 0 else "odd"}}
    devs["u%db" % i] = {"user": i, "tags": {g, "mobile"}}
arr = lambda tags: "'{" + ",".join(sorted(tags)) + "}'"
for seq in range(1, n + 1):
    cols = {"app": "'%s'" % app, "title": "'cluster %d'" % seq}
    r, i, k = rnd.random(), rnd.randrange(U), "g%d" % rnd.randrange(2)
    if r < 0.30:
        cols["to_jid"] = "'%s'" % jid["u%d" % i]
        target = [d for d, v in devs.items() if v["user"] == i]
    elif r < 0.50:
        d = "u%d%s" % (i, rnd.choice("ab"))
        cols["to_jid"], cols["to_device"] = "'%s'" % jid["u%d" % i], "'%s'" % d
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
        cols["tags_any"], cols["tags_none"] = arr({k}), arr({"mobile"})
        target = [d for d, v in devs.items() if k in v["tags"] and "mobile" not in v["tags"]]
    else:
        cols["broadcast"] = "true"
        target = list(devs)
    if rnd.random() < 0.2:
        cols["priority"] = "'high'"
    print("%d\tINSERT INTO push.notifications (%s) VALUES (%s);\t%s" % (
        seq, ", ".join(cols), ", ".join(cols.values()), " ".join(sorted(target))))
PY

# ---- the producer: batches of autocommit INSERTs until told to stop ("ok FIRST LAST" / "err ...")
producer() {
	local first=1 last
	while ((first <= NPUSH)) && [[ ! -e $T_DIR/stop ]]; do
		last=$((first + BATCH - 1))
		sed -n "${first},${last}p" "$T_DIR/plan" | cut -f2 >"$T_DIR/batch.sql"
		if sql_script -f "$T_DIR/batch.sql" >/dev/null 2>>"$T_DIR/producer.err"; then
			echo "ok $first $last"
		else
			echo "err $first $last"
		fi
		first=$((last + 1))
		sleep "$PACE" # a producer's rate, not a synchronisation
	done
}
producer >"$T_DIR/producer.log" &
T_PIDS[producer]=$!
acked_at_least() { (($(ledger_count "state = 'acked'") >= $1)); }
progress() { # progress N WHY: N more acked rows than now
	local want=$(($(ledger_count "state = 'acked'") + $1))
	wait_for 60 "$2 ($want acked rows)" acked_at_least "$want"
}
progress 100 "pushes delivered through both nodes"

# ---- node loss: node V dies, its devices move to node O; V restarts and rejoins ---------------------
node_loss() {
	local v=$1 o=$2 t_kill t_up ready_v
	log "SIGKILL ejabberd node $v (pid $(pid_of "$v")); sessions a $(ej_sessions a), b $(ej_sessions b)"
	t_kill=$(now_ms)
	kill -KILL "$(pid_of "$v")"
	wait_for 10 "node $v's beam to exit" exited "$v"
	unset "T_PIDS[$v]"
	wait_for 30 "node $o to see node $v gone" node_alone "$o"
	wait_for 60 "every device reconnected to node $o through the balancer" all_on "$o"
	wait_for 30 "all devices online again" all_online
	log "every device back (on node $o, online for xpushd) $(($(now_ms) - t_kill)) ms after node $v died"
	progress 100 "pushes delivered with node $v down (xpushd $o alone)"
	ready_v=$(ready_count "x$v")
	t_up=$(now_ms)
	ejnode_start "$v"
	wait_for 30 "node $v back in the cluster" _ej_both_running "$o" "$v"
	if ! exited "x$v"; then
		wait_for 30 "xpushd $v connected to node $v again" ready_more "x$v" "$ready_v"
	fi
	log "node $v rejoined $(($(now_ms) - t_up)) ms after its start: $(ej_running_nodes "$o" | tr '\n' ' ')"
	progress 100 "pushes delivered with both nodes up again"
}
node_alone() { [[ $(ej_running_nodes "$1") == "${EJ_NODE[$1]}" ]]; }
all_on() { [[ $(ej_sessions "$1") == "${#DEVS[@]}" ]]; }
ready_more() { (($(ready_count "$1") > $2)); }

# ---- xpushd loss: xpushd K dies with pushes on the wire, xpushd S takes them over -------------------------
inflight_of() { ledger_count "state = 'sent' AND lease_owner = '${T_UID}_$1'"; }
has_inflight() { (($(inflight_of "$1") > 0)); }
none_inflight() { (($(inflight_of "$1") == 0)); }
xpushd_loss() {
	local k=$1 s=$2 held t_kill
	wait_for 30 "xpushd $k to have pushes on the wire" has_inflight "$k"
	held=$(inflight_of "$k")
	t_kill=$(now_ms)
	stop_proc "x$k" KILL
	log "xpushd $k SIGKILLed with $held rows sent and not acked (just before the signal)"
	wait_for 60 "xpushd $s to take over every row xpushd $k had on the wire" none_inflight "$k"
	log "xpushd $s took over xpushd $k's rows within $(($(now_ms) - t_kill)) ms (ack_timeout_ms 2000)"
	progress 100 "pushes delivered by xpushd $s alone"
}

# Cycle 1: node a dies and comes back, then xpushd b dies. Further cycles (XPUSH_FULL=1: three in
# all) restart the dead xpushd and swap the roles of the nodes.
for ((c = 1; c <= CYCLES; c++)); do
	if ((c % 2)); then v=a o=b; else v=b o=a; fi
	log "---- cycle $c of $CYCLES"
	node_loss "$v" "$o"
	xpushd_loss "$o" "$v"
	if ((c < CYCLES)); then
		r=$(ready_count "x$o")
		cp "$T_DIR/xpushd-$o.conf" "$T_DIR/xpushd.conf"
		start_xpushd "x$o"
		await_xpushd_ready "x$o" $((r + 1))
		rm -f "$T_DIR/xpushd.conf"
	fi
done

# ---- drain and account ------------------------------------------------------------------------------
touch "$T_DIR/stop"
wait_for 30 "the producer to stop" exited producer
reap producer
! grep -q '^err ' "$T_DIR/producer.log" || fail "a batch failed: $(head -n 3 "$T_DIR/producer.err")"
sql_rows "SELECT id, substr(title, 9) FROM push.notifications WHERE app = '$T_APP'" >"$T_DIR/ids"
awk -F'\t' 'FILENAME == ARGV[1] { split($0, a, " "); id[a[2]] = a[1]; next }
	FILENAME == ARGV[2] { for (s = $2; s <= $3; s++) done[s] = 1; next }
	($1 in done) { n = split($3, d, " "); for (j = 1; j <= n; j++) print id[$1], d[j] }' \
	"$T_DIR/ids" <(tr ' ' '\t' <"$T_DIR/producer.log") "$T_DIR/plan" >"$T_EXPECTED"
assert_eq "$(wc -l <"$T_DIR/ids")" "$(awk '{ n += $3 - $2 + 1 } END { print n }' "$T_DIR/producer.log")" \
	"pushes in the table (every batch committed)"
wait_for 60 "the ledger to settle" ledger_settled
sort -u "$T_EXPECTED" >"$T_DIR/expected.sorted"
sql_rows "SELECT d.notification_id, v.device FROM push.deliveries d JOIN push.devices v ON v.id = d.device_id" |
	sort -u >"$T_DIR/ledger.pairs"
comm -3 "$T_DIR/expected.sorted" "$T_DIR/ledger.pairs" >"$T_DIR/pairs.diff" || true
[[ ! -s $T_DIR/pairs.diff ]] || fail "ledger rows and predicted pairs differ ($T_DIR/pairs.diff)"
assert_eq 0 "$(ledger_count "state <> 'acked'")" "ledger rows not acked"
args=()
for d in "${DEVS[@]}"; do args+=("$d=$d"); done
check_oracle "${args[@]}"
log "sent by a: $(count_in "$T_DIR/xa.log" 'msg="notification sent"'), by b: $(count_in "$T_DIR/xb.log" 'msg="notification sent"'); resent rows: $(ledger_count "attempts > 1")"
echo "cluster oracle: $ORACLE_COUNTS"
log "pass"
