#!/usr/bin/env bash
# (68) What producers get, by plain SQL (docs/schema.md), checked end to end:
#  - broadcast to 10,000 registered devices (rows inserted directly in SQL): the INSERT returns
#    as fast as a one-device INSERT (fan-out is not in the producer's transaction: no ledger row
#    exists at commit), then xpushd fans it out fanout_chunk devices at a time;
#  - targets: alias, tags_any / tags_all / tags_none, broadcast (with tags), and combinations:
#    exactly the matching devices get a ledger row, and each displays it once;
#  - priority: high before normal for one device (device_window=1 makes the order observable);
#  - not_before: not fanned out nor sent before it (database clock);
#  - dedup_key: a second INSERT is refused by notifications_dedup, ON CONFLICT DO NOTHING
#    returns nothing, one push is delivered;
#  - collapse: newer pushes with the same key supersede older undelivered ones per device;
#  - retract: of a pending row (retracted, nothing to send) and of an acked one (retract_state
#    queued -> sent -> acked, the device is told);
#  - views: push.notification_progress and push.queue_health along the way.
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "$0")/lib.sh"

BULK=$T_APP.bulk
NBULK=10000
create_test_db
write_xpushd_config device_window=1 fanout_chunk=1000 scan_interval_ms=500
start_xpushd xpushd
await_xpushd_ready xpushd
stop_proc xpushd TERM   # schema migrated; xpushd stays down for the producer-side timing

# ---- broadcast to 10,000 devices: the INSERT's cost ----------------------------------------------
sql "INSERT INTO push.devices (jid, app, device, online)
	SELECT 'bulk' || i || '@$XPUSH_DOMAIN', '$BULK', 'b' || i, false FROM generate_series(1, $NBULK) i" >/dev/null
sql "ANALYZE push.devices" >/dev/null
# timed_insert SQL: the server round trip of one INSERT as psql's \timing reports it, in µs.
timed_insert() {
	local out
	out=$(sql_script <<<"\\timing on
$1") || fail "INSERT failed: $1"
	awk '/^Time: / { printf "%d\n", $2 * 1000 }' <<<"$out"
}
singles=() broads=()
for i in 1 2 3 4 5; do
	singles+=("$(timed_insert "INSERT INTO push.notifications (app, to_jid, title) VALUES ('$BULK', 'bulk$i@$XPUSH_DOMAIN', 'one device $i');")")
	broads+=("$(timed_insert "INSERT INTO push.notifications (app, broadcast, title) VALUES ('$BULK', true, 'broadcast $i');")")
done
median() { printf '%s\n' "$@" | sort -n | sed -n 3p; }
ms=$(median "${singles[@]}")
mb=$(median "${broads[@]}")
log "INSERT round trip, median of 5 (µs): one device $ms, broadcast to $NBULK devices $mb (all: ${singles[*]} / ${broads[*]})"
((mb <= 5 * ms + 20000)) || fail "the broadcast INSERT took ${mb} µs, more than 5x a one-device INSERT (${ms} µs) + 20 ms"
assert_eq 0 "$(ledger_count true)" "ledger rows at commit (fan-out is xpushd's, later)"
assert_eq 10 "$(sql "SELECT awaiting_fanout FROM push.queue_health")" "queue_health.awaiting_fanout"

# One fan-out step, as xpushd runs it: each broadcast gets one chunk of 1000, not all 10,000.
sql "SELECT push.fanout(100, 1000)" >/dev/null
assert_eq "5|1000|" "$(sql "SELECT count(*), min(target_count), max(fanned_out_at)::text FROM push.notifications
	WHERE app = '$BULK' AND broadcast AND target_count = 1000 AND fanout_cursor > 0")" \
	"broadcasts after one fan-out step (1000 devices each, not finished)"

start_xpushd xpushd
await_xpushd_ready xpushd 2
wait_for 60 "xpushd to finish fanning out the broadcasts" \
	sql_is "5|$NBULK" "SELECT count(*), min(target_count) FROM push.notifications WHERE app = '$BULK' AND broadcast AND fanned_out_at IS NOT NULL"
assert_eq $((5 * NBULK + 5)) "$(ledger_count "state = 'queued'")" "queued ledger rows (devices offline)"
assert_eq "5" "$(sql "SELECT count(*) FROM push.notification_progress WHERE app = '$BULK' AND target_count = $NBULK
	AND queued = $NBULK AND sent + acked + expired + superseded + retracted + failed = 0")" \
	"notification_progress of the broadcasts (all queued)"
assert_eq "0|$((5 * NBULK + 5))|0|0|$NBULK" \
	"$(sql "SELECT awaiting_fanout, queued, in_flight, devices_online, devices_registered FROM push.queue_health")" \
	"queue_health after the fan-out"
# Done with the bulk app (keeps the claims below small).
# (Its devices stay: deleting 10,000 devices would cascade into the ledger by device_id.)
sql "DELETE FROM push.notifications WHERE app = '$BULK'" >/dev/null

# ---- targets ---------------------------------------------------------------------------------------
new_user ua
new_user ub
new_user uc
start_device a1 ua a1 --alias alice --tag sports --tag news
start_device a2 ua a2 --alias alice --tag sports
start_device b ub b --alias bob --tag news
start_device c uc c --tag weather
await_device_online a1 ua a1
await_device_online a2 ua a2
await_device_online b ub b
await_device_online c uc c

# target EXPECTED_DEVICES col=value...: one push; its ledger rows must be exactly these devices.
declare -a TARGETED=()
target() {
	local want=$1 id got
	shift
	id=$(notify app="$T_APP" "$@")
	wait_for 10 "notification $id fanned out" \
		sql_is 1 "SELECT count(*) FROM push.notifications WHERE id = $id AND fanned_out_at IS NOT NULL"
	got=$(sql "SELECT string_agg(v.device, ' ' ORDER BY v.device) FROM push.deliveries d
		JOIN push.devices v ON v.id = d.device_id WHERE d.notification_id = $id")
	assert_eq "$want" "$got" "devices targeted by $*"
	assert_eq "$(wc -w <<<"$want")" "$(sql "SELECT target_count FROM push.notifications WHERE id = $id")" \
		"target_count of $*"
	for dev in $want; do expect "$dev" "$id"; done
	TARGETED+=("$id")
}
target "a1 a2" to_alias=alice title="alias"
target "a1 b" tags_any="{news}" title="tags_any news"
target "a1" tags_all="{sports,news}" title="tags_all sports+news"
target "b c" broadcast=true tags_none="{sports}" title="broadcast, tags_none sports"
target "a1 a2 b c" broadcast=true title="broadcast"
target "a2" tags_any="{sports}" tags_none="{news}" title="sports, not news"
target "a1" to_alias=alice tags_all="{news}" title="alias alice with news"
target "a1 a2" to_jid="${USER_JID[ua]}" title="every device of ua"
target "a2" to_jid="${USER_JID[ua]}" to_device=a2 title="one device"
wait_for 20 "every targeted push acked" all_acked

# ---- priority, not_before, dedup, collapse, retract: device c offline, then back -------------
stop_proc c TERM
wait_for 10 "device c offline" device_offline uc c
toc=(app="$T_APP" to_jid="${USER_JID[uc]}")
n1=$(notify "${toc[@]}" title="normal 1")
n2=$(notify "${toc[@]}" title="normal 2")
h1=$(notify "${toc[@]}" title="high 1" priority=high)
n3=$(notify "${toc[@]}" title="normal 3")
h2=$(notify "${toc[@]}" title="high 2" priority=high)
expect c "$n1" "$n2" "$h1" "$n3" "$h2"
# dedup
k1=$(notify "${toc[@]}" title="dedup first" dedup_key=order-77)
expect c "$k1"
if out=$(notify "${toc[@]}" title="dedup second" dedup_key=order-77 2>&1); then
	fail "a second INSERT with the same dedup_key succeeded: $out"
fi
[[ $out == *notifications_dedup* ]] || fail "the duplicate INSERT's error does not name notifications_dedup: $out"
again=$(sql_script -v app="$T_APP" -v jid="${USER_JID[uc]}" <<<"INSERT INTO push.notifications (app, to_jid, title, dedup_key)
	VALUES (:'app', :'jid', 'dedup retry', 'order-77') ON CONFLICT (producer, app, dedup_key) WHERE dedup_key IS NOT NULL DO NOTHING RETURNING id;")
assert_eq "" "$again" "ON CONFLICT DO NOTHING retry of dedup_key order-77 (no second push)"
# collapse
c1=$(notify "${toc[@]}" title="score 1-0" collapse_key=score)
c2=$(notify "${toc[@]}" title="score 2-0" collapse_key=score)
c3=$(notify "${toc[@]}" title="score 2-1" collapse_key=score)
expect c "$c1" "$c2" "$c3"
# retract of a pending row
r1=$(notify "${toc[@]}" title="withdrawn before delivery")
expect c "$r1"
wait_for 10 "the pending pushes queued for c" \
	sql_is 1 "SELECT count(*) FROM push.deliveries WHERE notification_id = $r1 AND state = 'queued'"
assert_eq 1 "$(sql "SELECT push.retract($r1)")" "push.retract of a pending push (rows affected)"
assert_eq "retracted|" "$(sql "SELECT state || '|' || coalesce(retract_state, '') FROM push.deliveries WHERE notification_id = $r1")" \
	"ledger row of a push retracted while pending"
assert_eq 0 "$(sql "SELECT push.retract($r1)")" "push.retract again (harmless)"
wait_for 10 "older collapse-key pushes superseded" \
	sql_is 2 "SELECT count(*) FROM push.deliveries WHERE notification_id IN ($c1, $c2) AND state = 'superseded'"
assert_eq "$c1 superseded by notification $c2,$c2 superseded by notification $c3" \
	"$(sql "SELECT string_agg(notification_id || ' ' || last_error, ',' ORDER BY notification_id) FROM push.deliveries WHERE notification_id IN ($c1, $c2)")" \
	"reasons of the superseded rows"
# not_before
sched=$(sql "INSERT INTO push.notifications (app, to_jid, title, not_before)
	VALUES ('$T_APP', '${USER_JID[uc]}', 'scheduled', now() + interval '5 seconds') RETURNING id")
expect c "$sched"
assert_eq "|0" "$(sql "SELECT coalesce(fanned_out_at::text, '') || '|' || (SELECT count(*) FROM push.deliveries WHERE notification_id = $sched)
	FROM push.notifications WHERE id = $sched AND now() < not_before")" "scheduled push before its not_before: not fanned out, no ledger row"

start_device c uc c
await_device_online c uc c
wait_for 20 "device c's pushes acked" \
	sql_is 7 "SELECT count(*) FROM push.deliveries WHERE notification_id IN ($n1, $n2, $h1, $n3, $h2, $k1, $c3) AND state = 'acked'"
order=$(grep '^notification ' "$T_DIR/c.out" | sed -n 's/.*title="\([^"]*\)".*/\1/p' | grep -v -e '^broadcast' -e '^tags_' | tr '\n' ',')
assert_eq "high 1,high 2,normal 1,normal 2,normal 3,dedup first,score 2-1," "$order" \
	"display order on device c (high first, then by id; superseded and retracted not shown)"
wait_for 15 "the scheduled push acked" acked 1 "$sched"
assert_eq t "$(sql "SELECT n.fanned_out_at >= n.not_before AND d.sent_at >= n.not_before
	FROM push.notifications n JOIN push.deliveries d ON d.notification_id = n.id WHERE n.id = $sched")" \
	"scheduled push fanned out and sent at or after its not_before"

# retract of an acked (displayed) push
assert_eq 1 "$(sql "SELECT push.retract($h1)")" "push.retract of an acked push (rows affected)"
wait_for 15 "the retract of $h1 acked by the device" \
	sql_is "acked|acked" "SELECT state || '|' || retract_state FROM push.deliveries WHERE notification_id = $h1"
wait_for 5 "device c to print 'retract id=$h1'" grep -qxF "retract id=$h1" "$T_DIR/c.out"

assert_eq "0|0|0" "$(sql "SELECT awaiting_fanout, queued, in_flight FROM push.queue_health")" \
	"queue_health at the end (nothing pending)"
assert_eq "0|0|0|1|0" "$(sql "SELECT queued, sent, acked, retracted, superseded FROM push.notification_progress WHERE id = $r1")" \
	"notification_progress of the push retracted while pending"
assert_eq "0|1|0" "$(sql "SELECT acked, superseded, queued FROM push.notification_progress WHERE id = $c1")" \
	"notification_progress of a superseded push"
check_oracle a1=a1 a2=a2 b=b c=c
log "pass"
