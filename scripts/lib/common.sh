# shellcheck shell=bash
# scripts/lib/common.sh: what scripts/demo and scripts/test share: install missing Debian
# packages and build with meson/ninja. Sourced, not run.

# Debian 12 packages the build, the stack and the tests need. gcc/libc6-dev: a fresh minimal
# image may have no C compiler; runuser (util-linux) is essential and always there. ejabberd:
# the second XMPP server of the e2e matrix (Debian's 23.01).
XPUSH_PACKAGES=(libstrophe-dev libexpat1-dev libssl-dev libpq-dev libmicrohttpd-dev postgresql prosody
	ejabberd meson ninja-build pkg-config python3 openssl curl faketime gcc libc6-dev groff-base man-db
	clang-format) # clang-format: the layout check of the unit tests (tests/structure)
XPUSH_PACKAGES+=(default-jdk-headless) # javac + jni.h: the JNI binding and its host test (client/jni/)
# The Debian packages (debian/) and their test (tests/e2e/25_deb.sh): build, check, clone.
XPUSH_PACKAGES+=(debhelper dpkg-dev lintian git)
# The independent UnifiedPush distributor of the Web Push tests (tests/e2e/up_distributor.py);
# their app server runs on node and npm (tests/package.json, installed by the test).
XPUSH_PACKAGES+=(python3-slixmpp)
# node and npm: the machine's own when it has them, else Debian's.
command -v node >/dev/null 2>&1 && command -v npm >/dev/null 2>&1 || XPUSH_PACKAGES+=(nodejs npm)
# The web console's end-to-end test drives headless Chromium through WebDriver (tests/e2e/86_console.sh).
XPUSH_PACKAGES+=(chromium chromium-driver python3-selenium)
# pgbouncer: producers through a transaction pool (e2e 74); patroni + etcd-server: Postgres failover
# managed by Patroni (e2e 76); haproxy: the balancer in front of the ejabberd cluster
# (e2e 77). None of them runs as a system service: each test starts its own.
XPUSH_PACKAGES+=(pgbouncer patroni etcd-server haproxy)

xpush_die() {
	echo "xpush: error: $*" >&2
	exit 1
}

# Install whatever of XPUSH_PACKAGES is missing (apt-get update first); nothing if all are there.
#
# Installing starts no system service: the stack runs its own Postgres, Prosody and ejabberd
# on free ports, and a system ejabberd/Prosody/Postgres (5222, 5269, 5280, 5432, epmd 4369)
# would only hold ports and burn CPU. Unless the machine already has /usr/sbin/policy-rc.d
# (Docker images ship one that denies every start), one that answers 101 ("action forbidden")
# is put there for the apt-get install and removed after it; invoke-rc.d and
# deb-systemd-invoke, which the maintainer scripts use, honour it. The packages stay
# configured (ejabberd's postinst still creates its user and a self-signed
# /etc/ejabberd/ejabberd.pem; systemd units are only enabled), so nothing needs stopping.
XPUSH_POLICY_RC=/usr/sbin/policy-rc.d
XPUSH_POLICY_MARK="# xpush: no service starts while packages install (scripts/lib/common.sh)"
xpush_ensure_packages() {
	local p missing=()
	command -v dpkg-query >/dev/null || { echo "xpush: dpkg-query not found: not a Debian system, install ${XPUSH_PACKAGES[*]} by hand" >&2; return 0; }
	for p in "${XPUSH_PACKAGES[@]}"; do
		if [[ $(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null) != installed ]]; then
			missing+=("$p")
		fi
	done
	((${#missing[@]} == 0)) && return 0
	echo "xpush: installing missing packages: ${missing[*]}" >&2
	local sudo=()
	if [[ $(id -u) != 0 ]]; then
		command -v sudo >/dev/null || { echo "xpush: error: missing packages ${missing[*]} and not root (no sudo)" >&2; return 1; }
		sudo=(sudo)
	fi
	"${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -q >/dev/null ||
		{ echo "xpush: error: apt-get update failed" >&2; return 1; }
	local ours="" rc=0
	if [[ ! -e $XPUSH_POLICY_RC ]] || grep -qxF "$XPUSH_POLICY_MARK" "$XPUSH_POLICY_RC" 2>/dev/null; then
		printf '#!/bin/sh\n%s\nexit 101\n' "$XPUSH_POLICY_MARK" |
			"${sudo[@]}" sh -c "cat >$XPUSH_POLICY_RC && chmod 755 $XPUSH_POLICY_RC" && ours=1
	fi
	"${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${missing[@]}" >/dev/null || rc=1
	if [[ -n $ours ]] && grep -qxF "$XPUSH_POLICY_MARK" "$XPUSH_POLICY_RC" 2>/dev/null; then
		"${sudo[@]}" rm -f "$XPUSH_POLICY_RC"
	fi
	((rc == 0)) || { echo "xpush: error: apt-get install ${missing[*]} failed" >&2; return 1; }
}

# xpush_build ROOT BUILD_DIR: configure once (with -Dwerror=true when CI=true), then ninja.
xpush_build() {
	local root=$1 build=$2 opts=()
	[[ ${CI:-} == true ]] && opts=(-Dwerror=true)
	if [[ ! -f $build/build.ninja ]]; then
		(cd "$root" && meson setup "$build" "${opts[@]}") || { echo "xpush: error: meson setup failed" >&2; return 1; }
	elif ((${#opts[@]})); then
		meson configure "$build" "${opts[@]}" || { echo "xpush: error: meson configure failed" >&2; return 1; }
	fi
	ninja -C "$build" || { echo "xpush: error: build failed (ninja -C $build)" >&2; return 1; }
}
