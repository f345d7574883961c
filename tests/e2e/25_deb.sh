#!/usr/bin/env bash
# (25) The Debian packages, as an operator gets them: a fresh clone of the repository at HEAD is
# built with dpkg-buildpackage -b; lintian finds no error, and every warning is one that
# docs/operations.md explains; `apt-get install ./*.deb` installs xpushd, xpush-client,
# libxpush0, libxpush-dev and libxpush-jni (system user, conffile, secret, unit); a push is
# delivered by the installed xpushd to the installed xpush-client, and a program builds against
# libxpush-dev; then `apt-get purge` leaves none of their files, no configuration and no package
# state behind (the system user stays, as Debian policy advises; this test removes it after).
# The build takes a minute or two: one run per suite (Prosody), the XMPP server plays no part in
# what is checked here beyond the delivery.
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "$0")/lib.sh"
only_on prosody "the packages do not depend on the XMPP server; built once per run"

PKGS=(xpushd xpush-client libxpush0 libxpush-dev libxpush-jni)
for t in dpkg-buildpackage dh lintian apt-get git; do
	command -v "$t" >/dev/null || skip "$t is not installed (scripts/test installs debhelper, dpkg-dev, lintian)"
done
# pkg_state P: dpkg's state of package P (not-installed if dpkg does not know it).
pkg_state() {
	local st
	st=$(dpkg-query -W -f='${db:Status-Status}' "$1" 2>/dev/null) || st=not-installed
	echo "${st:-not-installed}"
}
for p in "${PKGS[@]}"; do
	[[ $(pkg_state "$p") == not-installed ]] || skip "package $p is already on this machine: not touching it"
done
git -C "$E2E_ROOT" rev-parse --verify -q HEAD >/dev/null || skip "$E2E_ROOT is not a git checkout: nothing to clone"
user_before=""
getent passwd xpushd >/dev/null && user_before=1

# ---- build in a fresh clone ----------------------------------------------------------------------
git clone -q "$E2E_ROOT" "$T_DIR/src" || fail "git clone of $E2E_ROOT failed"
log "building $(git -C "$T_DIR/src" log --oneline -1 | cut -c1-60)"
t0=$(now_ms)
(cd "$T_DIR/src" && DEB_BUILD_OPTIONS="parallel=$(nproc)" dpkg-buildpackage -b -us -uc) \
	>"$T_DIR/build.log" 2>&1 || fail "dpkg-buildpackage failed: $(tail -n 5 "$T_DIR/build.log")"
log "ok: dpkg-buildpackage -b in $((($(now_ms) - t0) / 1000)) s"
debs=()
for p in "${PKGS[@]}"; do
	f=$(ls "$T_DIR"/"${p}"_*.deb 2>/dev/null | head -n 1)
	[[ -n $f ]] || fail "no package $p built"
	debs+=("$f")
done

# ---- lintian: no error, only the warnings docs/operations.md explains ------------------------------
changes=$(ls "$T_DIR"/xpush_*.changes | head -n 1)
rc=0
lintian --fail-on error "$changes" >"$T_DIR/lintian.log" 2>&1 || rc=$?
grep '^E: ' "$T_DIR/lintian.log" && fail "lintian reports errors (see $T_DIR/lintian.log)"
((rc == 0)) || fail "lintian failed ($rc): $(tail -n 3 "$T_DIR/lintian.log")"
while read -r tag; do
	grep -qF "| \`$tag\` |" "$E2E_ROOT/docs/operations.md" ||
		fail "lintian warning $tag is not explained in docs/operations.md: $(grep -F " $tag" "$T_DIR/lintian.log" | head -n 1)"
done < <(awk '$1 == "W:" { print $3 }' "$T_DIR/lintian.log" | sort -u)
log "ok: lintian: no error, $(grep -c '^W: ' "$T_DIR/lintian.log") warning lines, all explained"

# ---- install ---------------------------------------------------------------------------------------
_deb_cleanup() {
	local rc=$? p
	for p in "${PKGS[@]}"; do
		if [[ $(pkg_state "$p") != not-installed ]]; then
			DEBIAN_FRONTEND=noninteractive apt-get purge -y -q -o DPkg::Lock::Timeout=300 "${PKGS[@]}" >/dev/null 2>&1 || true
			break
		fi
	done
	[[ -n $user_before ]] || { getent passwd xpushd >/dev/null && deluser --system --quiet xpushd >/dev/null 2>&1; }
	(exit "$rc")
	_e2e_cleanup
}
trap _deb_cleanup EXIT
DEBIAN_FRONTEND=noninteractive apt-get install -y -q -o DPkg::Lock::Timeout=300 "${debs[@]}" \
	>"$T_DIR/install.log" 2>&1 || fail "apt-get install failed: $(tail -n 5 "$T_DIR/install.log")"
for p in "${PKGS[@]}"; do
	assert_eq installed "$(pkg_state "$p")" "package $p"
	dpkg -L "$p" >"$T_DIR/$p.files"
done
pw=$(getent passwd xpushd) || fail "no system user xpushd"
[[ $pw == *:/nonexistent:/usr/sbin/nologin ]] || fail "system user xpushd has a home or a shell: $pw"
assert_eq "600 root" "$(stat -c '%a %U' /etc/xpush/secret)" "mode and owner of /etc/xpush/secret"
grep -qx '/etc/xpush/xpushd.conf' <(dpkg-query -W -f='${Conffiles}\n' xpushd | awk '{ print $1 }') ||
	fail "/etc/xpush/xpushd.conf is not a conffile"
grep -q '^Type=notify$' /lib/systemd/system/xpushd.service || fail "the installed unit is not Type=notify"
out=$(runuser -u xpushd -- /usr/bin/xpushd --version) || fail "xpushd does not run as user xpushd"
log "ok: installed; $out runs as user xpushd"

# ---- the installed programs deliver a push -----------------------------------------------------------
XPUSHD=/usr/bin/xpushd
XPUSH_CLIENT=/usr/bin/xpush-client
create_test_db
new_user deb
start_xpushd xpushd
await_xpushd_ready xpushd
start_device phone deb deb-phone --json
await_device_online phone deb deb-phone
id=$(notify app="$T_APP" to_jid="${USER_JID[deb]}" title="from the packages")
wait_for 15 "notification $id acked (installed xpushd and xpush-client)" acked 1 "$id"
wait_for 5 "the installed client to print it" grep -qF '"title":"from the packages"' "$T_DIR/phone.out"
# (ldd's output is read whole: grep -q would stop early and pipefail would see SIGPIPE)
deps=$(ldd /usr/bin/xpush-client) || fail "ldd /usr/bin/xpush-client failed"
grep -qE 'libxpush.so.0 => (/usr)?/lib/' <<<"$deps" || fail "xpush-client does not use the packaged libxpush: $deps"
/usr/bin/xpushctl --version >/dev/null || fail "xpushctl --version"
stop_proc phone
stop_proc xpushd

cat >"$T_DIR/use.c" <<'EOF'
#include <stdio.h>
#include <xpush.h>
int main(void) { printf("libxpush %s\n", xpush_version()); return 0; }
EOF
# shellcheck disable=SC2046  # pkg-config's words
cc -o "$T_DIR/use" "$T_DIR/use.c" $(pkg-config --cflags --libs libxpush) 2>"$T_DIR/cc.log" ||
	fail "a program does not build against libxpush-dev: $(head -n 3 "$T_DIR/cc.log")"
[[ $("$T_DIR/use") == "libxpush "* ]] || fail "the program linked against libxpush-dev did not run"
[[ -f /usr/share/java/xpush.jar ]] || fail "no /usr/share/java/xpush.jar"
deps=$(ldd /usr/lib/jni/libxpush-jni.so) || fail "ldd libxpush-jni.so failed"
! grep -q 'not found' <<<"$deps" || fail "libxpush-jni.so has unresolved libraries: $deps"
log "ok: libxpush-dev builds a program; libxpush-jni's library resolves"

# ---- purge leaves nothing --------------------------------------------------------------------------
DEBIAN_FRONTEND=noninteractive apt-get purge -y -q -o DPkg::Lock::Timeout=300 "${PKGS[@]}" \
	>"$T_DIR/purge.log" 2>&1 || fail "apt-get purge failed: $(tail -n 5 "$T_DIR/purge.log")"
for p in "${PKGS[@]}"; do
	assert_eq not-installed "$(pkg_state "$p")" "package state of $p after purge"
done
left=()
while read -r f; do
	[[ -z $f || $f == /. ]] && continue
	if [[ -d $f ]]; then # a directory (or a link to one, such as /lib) may be another package's
		if ! dpkg -S "$f" >/dev/null 2>&1 && [[ -z $(ls -A "$f") ]]; then
			left+=("$f (empty directory of no package)")
		fi
	elif [[ -L $f || -e $f ]]; then
		left+=("$f")
	fi
done < <(for p in "${PKGS[@]}"; do cat "$T_DIR/$p.files"; done | sort -u)
((${#left[@]} == 0)) || fail "left behind by purge: ${left[*]}"
[[ ! -e /etc/xpush ]] || fail "/etc/xpush is left after purge: $(ls -A /etc/xpush)"
getent passwd xpushd >/dev/null || fail "purge removed the system user (Debian policy: keep it)"
log "ok: purge left no file, no /etc/xpush; the system user xpushd stays"
log "pass"
