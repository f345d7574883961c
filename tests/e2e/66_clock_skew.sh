#!/usr/bin/env bash
# (66) Fault test 8: clock skew. xpushd runs one hour ahead, then one hour behind,
# and the device one hour ahead (libfaketime, LD_PRELOAD); Postgres keeps the true time. Expiry
# and scheduling follow the database's clock only:
#  - a push with ttl 600 s is delivered (an xpushd that trusted its +1 h clock would think it
#    expired), a push not_before now() + 2 s (database time) is sent only then (neither at once
#    nor an hour late), and a 2 s TTL push for an offline device expires 2 s after it was
#    created by the database's clock (neither at once nor an hour late).
# The device is not run an hour behind: the stack's certificate is minutes old, and a device
# whose clock is before the certificate's notBefore fails TLS verification (exit 4) before
# xpush is involved (docs/delivery.md).
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "$0")/lib.sh"

find_libfaketime() {
	local f
	for f in /usr/lib/*/faketime/libfaketime.so.1; do
		[[ -f $f ]] && { echo "$f"; return 0; }
	done
}
FT_LIB=$(find_libfaketime)
if [[ -z $FT_LIB && $(id -u) == 0 ]] && command -v apt-get >/dev/null; then
	log "installing faketime (libfaketime)"
	{ timeout 300 env DEBIAN_FRONTEND=noninteractive apt-get install -y -q faketime ||
		{ timeout 300 apt-get update -q && timeout 300 env DEBIAN_FRONTEND=noninteractive apt-get install -y -q faketime; }
	} >"$T_DIR/apt.log" 2>&1 || true
	FT_LIB=$(find_libfaketime)
fi
[[ -n $FT_LIB ]] || fail "libfaketime is not installed and could not be (apt-get install faketime; see $T_DIR/apt.log)"
skewed() { LD_PRELOAD=$FT_LIB FAKETIME=$1 FAKETIME_DONT_FAKE_MONOTONIC=1 "${@:2}"; }
d=$(($(skewed +1h date +%s) - $(date +%s)))
((d > 3500 && d < 3700)) || fail "libfaketime does not shift the clock (+1h gave ${d}s)"

create_test_db
new_user una
new_user vic
write_xpushd_config scan_interval_ms=500
ready=0
for skew in +1h -1h; do
	log "---- xpushd at $skew, device at +1h"
	skewed "$skew" start_xpushd xpushd
	ready=$((ready + 1))
	await_xpushd_ready xpushd "$ready"
	[[ $(tr '\0' '\n' <"/proc/$(pid_of xpushd)/environ" | grep -c "^FAKETIME=$skew$") == 1 ]] ||
		fail "xpushd does not run under FAKETIME=$skew"
	if [[ $skew == +1h ]]; then
		# The away device: registered once, then offline for the rest of the test.
		skewed +1h start_device away vic vic-away
		await_device_online away vic vic-away
		stop_proc away TERM
		wait_for 10 "the away device offline" device_offline vic vic-away
		skewed +1h start_device phone una una-phone
	fi
	await_device_online phone una una-phone

	long=$(notify app="$T_APP" to_jid="${USER_JID[una]}" title="ttl 600 at $skew" ttl_seconds=600)
	expect una-phone "$long"
	wait_for 15 "the ttl 600 push acked (xpushd at $skew)" acked 1 "$long"

	sched=$(sql "INSERT INTO push.notifications (app, to_jid, title, not_before)
		VALUES ('$T_APP', '${USER_JID[una]}', 'scheduled at $skew', now() + interval '2 seconds') RETURNING id")
	expect una-phone "$sched"
	short=$(notify app="$T_APP" to_jid="${USER_JID[vic]}" title="ttl 2 at $skew" ttl_seconds=2)
	wait_for 20 "the scheduled push acked (xpushd at $skew)" acked 1 "$sched"
	assert_eq t "$(sql "SELECT d.sent_at >= n.not_before AND d.sent_at < n.not_before + interval '10 seconds'
		FROM push.deliveries d JOIN push.notifications n ON n.id = d.notification_id WHERE n.id = $sched")" \
		"scheduled push sent at its not_before by the database's clock, not before, not an hour late"
	wait_for 20 "the ttl 2 push for the offline device expired (xpushd at $skew)" \
		sql_is expired "SELECT state FROM push.deliveries WHERE notification_id = $short"
	assert_eq t "$(sql "SELECT d.updated_at >= n.created_at + interval '2 seconds'
		AND d.updated_at < n.created_at + interval '15 seconds'
		FROM push.deliveries d JOIN push.notifications n ON n.id = d.notification_id WHERE n.id = $short")" \
		"ttl 2 push expired 2 s after creation by the database's clock"
	stop_proc xpushd TERM
done

check_oracle una-phone=phone
log "pass"
