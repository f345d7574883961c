#!/usr/bin/env bash
# (32) The JNI binding on the host JVM: org.xpush.XPushClient (client/jni/) runs a
# device through libxpush-jni against the real stack. The Java test program
# (client/jni/test/.../XPushJniTest.java) registers, receives a push inserted with psql (title
# with characters outside the BMP, compared byte-exact), acks it (ledger acked), sees its
# retract (ledger retract_state acked), follows networkChanged() from another thread (it
# reconnects, and the next push still arrives), and stops cleanly on stop(). Every listener call
# must come from the library's loop thread. Skips (77) only when there is no JDK.
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "$0")/lib.sh"

command -v java >/dev/null && command -v javac >/dev/null ||
	skip "no JDK (java and javac): apt-get install default-jdk-headless"
JNI_DIR=${XPUSH_JNI_DIR:-$XPUSH_BUILD/client/jni} # XPUSH_JNI_DIR: try another build of the binding
for f in xpush.jar xpush-jni-test.jar libxpush-jni.so; do
	[[ -f $JNI_DIR/$f ]] ||
		fail "a JDK is installed but $JNI_DIR/$f is not built (meson found no JDK at setup: rm -rf $XPUSH_BUILD and build again)"
done

create_test_db
new_user lea
write_xpushd_config
start_xpushd xpushd
await_xpushd_ready xpushd

OUT=$T_DIR/jni.out
mkfifo "$T_DIR/jni.in"
# Held open read-write by this shell, so the JVM sees no end of input until we say stop.
exec 3<>"$T_DIR/jni.in"
echo "---- start $(date +%T.%3N)" >>"$T_DIR/jni.err"
java -Djava.library.path="$JNI_DIR" -cp "$JNI_DIR/xpush.jar:$JNI_DIR/xpush-jni-test.jar" \
	org.xpush.test.XPushJniTest --password-file "$T_DIR/lea.pass" \
	--set jid="${USER_JID[lea]}" --set host=127.0.0.1 --set port="$XPUSH_C2S_PORT" \
	--set ca_file="$XPUSH_CA_FILE" --set component="$XPUSH_COMPONENT_JID" --set app="$T_APP" \
	--set device=lea-jvm --set state_dir="$T_DIR/jni.state" --set platform=jvm \
	--set network=eth:test --set reconnect_base_ms=200 \
	<"$T_DIR/jni.in" >"$OUT" 2>>"$T_DIR/jni.err" &
T_PIDS[jni]=$!
log "started the Java device pid ${T_PIDS[jni]}"

_jni_online() {
	proc_alive "${T_PIDS[jni]}" || { reap jni; fail "the Java device exited with $PROC_RC (see $T_DIR/jni.err, $OUT)"; }
	device_online lea lea-jvm
}
wait_for 30 "the Java device online in push.devices" _jni_online
grep -qx "config_error port: must be an integer in 1..65535" "$OUT" ||
	fail "XPushClient did not refuse port=0 with the library's reason: $(head -n 3 "$OUT")"
grep -q "^state online error=0" "$OUT" || wait_for 5 "state online from the listener" grep -q "^state online error=0" "$OUT"

# ---- a push, byte-exact through JNI, acked -----------------------------------------------------
title=$'Goal \xe2\x9a\xbd 2-1 \xf0\x9f\x98\x80 "q" \\ \xe6\x9d\xb1'
want_hex=$(printf '%s' "$title" | od -An -tx1 -v | tr -d ' \n')
id=$(notify app="$T_APP" to_jid="${USER_JID[lea]}" to_device=lea-jvm title="$title" body=b \
	collapse_key=score)
wait_for 15 "notification $id acked in the ledger" acked 1 "$id"
wait_for 5 "the Java listener to print notification $id" grep -q "^notification id=$id " "$OUT"
line=$(grep "^notification id=$id " "$OUT")
[[ $line == *" collapse=score maybe_shown=false title_hex=$want_hex "* ]] ||
	fail "notification $id reached Java altered: $line (want title_hex=$want_hex collapse=score)"
log "ok: notification $id reached Java byte-exact (title_hex=$want_hex)"
wait_for 5 "onAcked for $id" grep -qx "acked id=$id duplicate=false" "$OUT"

# ---- its retract --------------------------------------------------------------------------------
sql "SELECT push.retract($id)" >/dev/null
wait_for 15 "the retract of $id acked in the ledger" \
	sql_is acked "SELECT retract_state FROM push.deliveries WHERE notification_id = $id"
wait_for 5 "onRetract for $id" grep -qx "retract id=$id seen=true" "$OUT"
assert_eq "acked" "$(sql "SELECT state FROM push.deliveries WHERE notification_id = $id")" \
	"ledger state of $id after its retract"

# ---- networkChanged from the main thread: reconnect, then the next push arrives ----------------
online_count() {
	grep -c "^state online " "$OUT" || true
}
_online_again() {
	(($(online_count) > online_before))
}
online_before=$(online_count)
echo "network wifi:xpush-test" >&3
wait_for 15 "the Java device back online after networkChanged" _online_again
grep -q "^state disconnected " "$OUT" || fail "networkChanged did not drop the old connection"
wait_for 15 "device online in push.devices again" device_online lea lea-jvm
id2=$(notify app="$T_APP" to_jid="${USER_JID[lea]}" to_device=lea-jvm title="after the switch")
wait_for 15 "notification $id2 acked" acked 1 "$id2"
wait_for 5 "the Java listener to print notification $id2" grep -q "^notification id=$id2 " "$OUT"

# ---- stop from the main thread ------------------------------------------------------------------
echo stop >&3
wait_for 20 "the Java device to exit after stop" exited jni
reap jni
assert_eq 0 "$PROC_RC" "Java test exit status"
grep -qx "exit result=0" "$OUT" || fail "no 'exit result=0' line: $(tail -n 3 "$OUT")"
grep -q "^state stopped error=0" "$OUT" || fail "the listener never saw state stopped"
! grep -q "^violation" "$OUT" || fail "$(grep "^violation" "$OUT" | head -n 3)"
assert_eq 1 "$(grep -c "^notification id=$id " "$OUT")" "notification lines for $id"
wait_for 10 "device offline after stop" device_offline lea lea-jvm
log "pass"
