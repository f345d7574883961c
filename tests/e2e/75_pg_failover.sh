#!/usr/bin/env bash
# (75) Postgres failover: a primary and a streaming standby of their own (pg_basebackup), the
# standby promoted by the test (pg_ctl promote) after an immediate stop of the primary
# (pg_ctl stop -m immediate: every process quits at once, as in a crash). xpushd and the
# producers use multi-host conninfos with target_session_attrs=read-write, the standby listed
# first (after a failover the first host is often the old primary come back as a standby: libpq
# must skip a read-only server, and xpushd must follow libpq's socket as it moves from host to
# host). xpushd's lists, before them, a host that never answers (a vanished machine: its SYNs
# are dropped), with tcp_user_timeout: its connections are asynchronous, which libpq's
# connect_timeout does not bound. (The producers' blocking connects honour connect_timeout, but
# would pay it on every INSERT of this test: their list leaves the dead host out.)
# Two producers enqueue keyed pushes (one autocommit INSERT each, retried with the same
# dedup_key when the outcome is unknown) and two devices ack throughout.
# The fault: the primary's WAL sender is frozen (SIGSTOP: a standby that falls behind), then the
# primary stops at once (the sender dies without sending more) and the standby is promoted.
#  sync   the standby is synchronous: commits wait for it while it is frozen, so no producer is
#         told "committed" for a push the standby lacks. Every push a producer was given an id for
#         exists after the promotion with its key, and the oracle says lost=0
#         displayed_twice=0 unexpected=0.
#  async  the negative control (XPUSH_75_ASYNC=0 leaves it out): commits go on while the standby
#         is frozen, and the promotion loses them: at least one push a producer was told was
#         committed does not exist afterwards (docs/scaling.md says what asynchronous
#         replication can lose). The counts are logged, nothing else is asserted.
# Patroni (with one etcd) instead of the test's promotion: 76_patroni_failover.
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "$0")/lib.sh"
# shellcheck source-path=SCRIPTDIR source=pg_lib.sh
source "$(dirname "$0")/pg_lib.sh"
only_on prosody "Postgres failover does not depend on the XMPP server (74 and 77 run on ejabberd)"

N=${XPUSH_75_PUSHES:-40} # per producer and phase

# On the pair's current primary (the standby, once promoted).
NEWP=standby
psql_new() { pair_psql "$PAIR" "$NEWP" "$@"; }
pair_all_acked() {
	local want got
	want=$(sort -u "$T_EXPECTED" | wc -l)
	got=$(sort -u "$T_EXPECTED" | psql_new -c "CREATE TEMP TABLE e (nid bigint, dev text);" \
		-c "\copy e FROM pstdin WITH (DELIMITER ' ')" -c "SELECT count(*) FROM e
		JOIN push.devices v ON v.device = e.dev
		JOIN push.deliveries d ON d.notification_id = e.nid AND d.device_id = v.id
		WHERE d.state = 'acked'") || return 1
	[[ $got == "$want" ]]
}
pair_oracle() {
	local out rc=0
	psql_new -F ' ' -c "SELECT d.notification_id, v.device, d.state FROM push.deliveries d
		JOIN push.devices v ON v.id = d.device_id ORDER BY 1, 2" >"$T_DIR/ledger.$MODE"
	out=$(python3 "$E2E_ROOT/tests/e2e/oracle.py" --expected "$T_EXPECTED" --ledger "$T_DIR/ledger.$MODE" \
		"$@") || rc=$?
	ORACLE_COUNTS=$(head -n 1 <<<"$out")
	echo "oracle ($MODE): $out" >&2
	return "$rc"
}
lines() { cat "$T_DIR"/prod."$MODE".[12] 2>/dev/null | wc -l; }
lines_at_least() { (($(lines) >= $1)); }
syncrep_waiters() {
	(($(pair_psql "$PAIR" primary -c "SELECT count(*) FROM pg_stat_activity WHERE wait_event = 'SyncRep'") >= $1))
}

phase() {
	MODE=$1 PAIR=pg$1 T_EXPECTED=$T_DIR/expected.$1
	: >"$T_EXPECTED"
	log "---- phase $MODE"
	pgpair_start "$PAIR" "$MODE"
	local ci wr t0 missing
	dead_host_start "$PAIR"
	ci=$(pair_conninfo "$PAIR" standby primary)
	new_user "u$MODE"
	write_xpushd_config pg_conninfo="$(pair_conninfo "$PAIR" dead standby primary)" reconnect_min_ms=100 reconnect_max_ms=1000 \
		ack_timeout_ms=2000 scan_interval_ms=2000 instance_id="${T_UID}_$MODE"
	start_xpushd "xpushd.$MODE"
	await_xpushd_ready "xpushd.$MODE"
	# Past the dead host within tcp_user_timeout, not the kernel's two minutes of SYN retries.
	wait_for 15 "xpushd's main session connected past the dead host" \
		log_has "xpushd.$MODE" 'msg="postgres ready" session=main'
	start_device "a.$MODE" "u$MODE" "$MODE-a" --json
	start_device "b.$MODE" "u$MODE" "$MODE-b" --json
	wait_for 20 "both devices online" pair_psql_is "$PAIR" primary 2 \
		"SELECT count(*) FROM push.devices WHERE online"

	for p in 1 2; do
		produce_keyed "$ci" "$MODE$p" "$N" "${USER_JID[u$MODE]}" "$MODE-a" "$MODE-b" >"$T_DIR/prod.$MODE.$p" &
		T_PIDS[prod.$MODE.$p]=$!
	done
	wait_for 60 "the producers to have enqueued $((2 * N / 3))" lines_at_least $((2 * N / 3))
	wr=$(pair_walsender "$PAIR")
	[[ $wr =~ ^[0-9]+$ ]] || fail "no WAL sender on the primary"
	kill -STOP "$wr"
	local before
	before=$(lines)
	if [[ $MODE == sync ]]; then
		# Commits wait for the frozen synchronous standby: the producers are stuck.
		wait_for 20 "two commits waiting for the synchronous standby" syncrep_waiters 2
	else
		wait_for 30 "20 more commits acknowledged while the standby is frozen" lines_at_least $((before + 20))
	fi
	log "primary's WAL sender (pid $wr) frozen; producers at $before, now $(lines); immediate stop of the primary"
	t0=$(now_ms)
	pair_crash_frozen "$PAIR" "$wr"
	pair_promote "$PAIR" standby
	log "standby promoted $(($(now_ms) - t0)) ms after the primary stopped"

	wait_for 120 "the producers to finish" exited "prod.$MODE.1"
	wait_for 60 "the producers to finish" exited "prod.$MODE.2"
	reap "prod.$MODE.1"
	reap "prod.$MODE.2"
	cat "$T_DIR"/prod."$MODE".[12] >"$T_DIR/producers.$MODE"
	! grep -q '^gaveup ' "$T_DIR/producers.$MODE" || fail "a producer gave up ($MODE)"
	settle_dedup "$T_DIR/producers.$MODE" "$ci"
	assert_eq $((2 * N)) "$(grep -c '^ok ' "$T_DIR/producers.$MODE")" "pushes with an id ($MODE)"
	log "producers ($MODE): $(grep -c ' retried$' "$T_DIR/producers.$MODE" || true) retried after an error and created then, $(grep -c ' dedup$' "$T_DIR/producers.$MODE" || true) found their key committed"
	# Told "committed" (an id), but absent after the promotion (or the id now names another push).
	missing=$(awk '{ print $2, $4 }' "$T_DIR/producers.$MODE" | psql_new \
		-c "CREATE TEMP TABLE k (id bigint, key text);" -c "\copy k FROM pstdin WITH (DELIMITER ' ')" \
		-c "SELECT count(*) FROM k LEFT JOIN push.notifications n ON n.id = k.id AND n.dedup_key = k.key
			WHERE n.id IS NULL")
	log "$MODE: $missing of $((2 * N)) pushes acknowledged as committed are missing after the promotion"
	local devs=("$MODE-a=$T_DIR/a.$MODE.out" "$MODE-b=$T_DIR/b.$MODE.out")
	if [[ $MODE == sync ]]; then
		assert_eq 0 "$missing" "acknowledged commits missing after failover (synchronous standby)"
		awk '{ print $2, $3 }' "$T_DIR/producers.$MODE" >>"$T_EXPECTED"
		wait_for 60 "every push acked on the promoted standby" pair_all_acked
		assert_eq 0 "$(psql_new -c "SELECT count(*) FROM push.deliveries WHERE state <> 'acked'")" \
			"ledger rows not acked"
		pair_oracle "${devs[@]}" || fail "oracle ($MODE): $ORACLE_COUNTS"
		log "ok: oracle ($MODE) $ORACLE_COUNTS"
	else
		((missing > 0)) || fail "asynchronous replication lost no acknowledged commit: the control shows nothing"
		# What the devices saw of the pushes that survived (ids the lost ones used may be reused).
		awk '{ print $2, $3 }' "$T_DIR/producers.$MODE" >>"$T_EXPECTED"
		wait_for 30 "the ledger of the promoted standby settled" pair_psql_is "$PAIR" standby 0 \
			"SELECT count(*) FROM push.deliveries WHERE state IN ('queued', 'sent')"
		pair_oracle "${devs[@]}" || true
		# The promoted standby's id sequence is behind what the old primary handed out: ids of
		# lost pushes are handed out again, and a device that showed the lost push acks the new
		# one as a duplicate without showing it.
		local reused dups
		reused=$(awk '{ print $2 }' "$T_DIR/producers.$MODE" | sort | uniq -d | wc -l)
		dups=$(($(event_count "a.$MODE" duplicate) + $(event_count "b.$MODE" duplicate)))
		log "async control: $missing acknowledged commits lost; $reused ids handed out twice; devices acked $dups pushes as duplicates without showing them; oracle over the acknowledged pushes: $ORACLE_COUNTS"
	fi
	stop_proc "xpushd.$MODE"
	stop_proc "a.$MODE"
	stop_proc "b.$MODE"
	pair_stop "$PAIR" standby fast
}

phase sync
[[ ${XPUSH_75_ASYNC:-1} == 0 ]] || phase async
log "pass"
