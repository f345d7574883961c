#!/usr/bin/env bash
# (65) Fault test 7: TTL expiry while the device is away. The device goes offline;
# pushes with ttl_seconds=1, with an absolute expires_at 1 s ahead and with ttl 0 ("now or
# never") are queued for it, plus one with the default TTL. The short ones expire by the
# database's clock while it is away: the ledger says expired (with the reason), and when the
# device comes back it displays only the long-lived push. A push whose TTL runs out while
# xpushd itself is down is never fanned out ("expired before fan-out", no ledger row).
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "$0")/lib.sh"

create_test_db
new_user tom
# A fast periodic scan: the sweep that ends expired rows runs with scans (at most once a second).
write_xpushd_config scan_interval_ms=300
start_xpushd xpushd
await_xpushd_ready xpushd
start_device phone tom tom-phone
await_device_online phone tom tom-phone
to=(app="$T_APP" to_jid="${USER_JID[tom]}")

first=$(notify "${to[@]}" title="while here" ttl_seconds=60)
expect tom-phone "$first"
wait_for 15 "notification $first acked" acked 1 "$first"

stop_proc phone TERM
wait_for 10 "device offline" device_offline tom tom-phone
mapfile -t short < <(notify_many 5 "${to[@]}" title="ttl 1" ttl_seconds=1)
abs=$(sql "INSERT INTO push.notifications (app, to_jid, title, expires_at)
	VALUES ('$T_APP', '${USER_JID[tom]}', 'expires_at', now() + interval '1 second') RETURNING id")
zero=$(notify "${to[@]}" title="now or never" ttl_seconds=0)
long=$(notify "${to[@]}" title="default ttl")
expect tom-phone "${short[@]}" "$abs" "$zero" "$long"
list="$(IFS=,; echo "${short[*]}"),$abs"

wait_for 10 "the ttl 0 push for the offline device expired at fan-out" \
	sql_is "expired offline at send time (ttl 0)" \
	"SELECT state || ' ' || last_error FROM push.deliveries WHERE notification_id = $zero"
wait_for 15 "the short-lived pushes to expire while the device is away" \
	sql_is 6 "SELECT count(*) FROM push.deliveries WHERE notification_id IN ($list) AND state = 'expired'"
assert_eq "expired before delivery|6" \
	"$(sql "SELECT last_error, count(*) FROM push.deliveries WHERE notification_id IN ($list) GROUP BY 1")" \
	"reason of the expired rows"
# Expired by the database's clock, not early: never before the expiry.
assert_eq 0 "$(sql "SELECT count(*) FROM push.deliveries d JOIN push.notifications n ON n.id = d.notification_id
	WHERE d.notification_id IN ($list) AND d.updated_at < push.expiry(n.created_at, n.ttl_seconds, n.expires_at)")" \
	"rows expired before their expiry"
assert_eq "queued" "$(sql "SELECT state FROM push.deliveries WHERE notification_id = $long")" \
	"the default-TTL push while the device is away"

# xpushd down while a 1 s push ages out: it is never fanned out.
stop_proc xpushd TERM
gone=$(notify "${to[@]}" title="expires before fan-out" ttl_seconds=1)
wait_for 10 "the database clock to pass its expiry" \
	sql_is t "SELECT now() > push.expiry(created_at, ttl_seconds, expires_at) FROM push.notifications WHERE id = $gone"
start_xpushd xpushd
await_xpushd_ready xpushd 2
wait_for 10 "notification $gone handled by fan-out" \
	sql_is "0|expired before fan-out" "SELECT target_count || '|' || fanout_note FROM push.notifications WHERE id = $gone AND fanned_out_at IS NOT NULL"
assert_eq 0 "$(ledger_count "notification_id = $gone")" "ledger rows of a push that expired before fan-out"

start_device phone tom tom-phone
await_device_online phone tom tom-phone
wait_for 15 "the default-TTL push $long acked" acked 1 "$long"
check_oracle tom-phone=phone
assert_eq 2 "$(grep -c '^notification ' "$T_DIR/phone.out")" "notifications displayed (the first and the long-lived one)"
[[ $ORACLE_COUNTS == *" expired=7 delivered=2" ]] || fail "oracle: expected expired=7 delivered=2, got $ORACLE_COUNTS"
assert_eq 7 "$(sql "SELECT expired FROM push.queue_health")" "push.queue_health.expired"
log "pass"
