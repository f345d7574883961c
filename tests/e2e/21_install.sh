#!/usr/bin/env bash
# (21) `meson install --destdir` of the tested build yields what an operator needs: xpushd,
# xpushctl, xpush-client, the libxpush shared library, xpush.h and a pkg-config file that
# compile and link a program, the man pages (rendered without warnings), the systemd unit and
# the example config. The docs stay true: every key of `xpushd --help` is in xpushd(8) and in
# the example config (which passes --check-config), every option of `xpush-client --help` is
# in xpush-client(1), and every xpushctl subcommand is in xpushctl(1).
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "$0")/lib.sh"

[[ -f $XPUSH_BUILD/build.ninja ]] || fail "$XPUSH_BUILD is not a meson build directory"
DEST=$T_DIR/dest
rm -rf "$DEST"
meson install -C "$XPUSH_BUILD" --no-rebuild --destdir "$DEST" >"$T_DIR/install.log" 2>&1 ||
	fail "meson install --destdir failed (see $T_DIR/install.log): $(tail -n 3 "$T_DIR/install.log")"
log "installed into $DEST"

# The install directories as this build configured them.
eval "$(meson introspect --buildoptions "$XPUSH_BUILD" | python3 -c '
import json, os, shlex, sys
o = {x["name"]: x["value"] for x in json.load(sys.stdin)}
p = o["prefix"]
for k in ("bindir", "libdir", "includedir", "mandir", "datadir", "sysconfdir"):
    print("%s=%s" % (k.upper(), shlex.quote(os.path.join(p, o[k]))))
print("PREFIX=%s" % shlex.quote(p))
')"
log "prefix $PREFIX, bindir $BINDIR, libdir $LIBDIR"

need_file() {
	[[ -f $1 ]] || fail "not installed: ${1#"$DEST"}"
	log "ok: installed ${1#"$DEST"}"
}

for b in xpushd xpushctl xpush-client; do
	need_file "$DEST$BINDIR/$b"
	[[ -x $DEST$BINDIR/$b ]] || fail "$BINDIR/$b is not executable"
done
hdr=$(find "$DEST$INCLUDEDIR" -name xpush.h -type f | head -n 1) || true
[[ -n $hdr ]] || fail "xpush.h is not installed under $INCLUDEDIR"
log "ok: installed ${hdr#"$DEST"}"
lib=$(find "$DEST$LIBDIR" -maxdepth 1 -name 'libxpush.so.*' -type f | head -n 1)
[[ -n $lib ]] || fail "no libxpush.so.* (the shared library) under $LIBDIR"
log "ok: installed ${lib#"$DEST"}"
[[ -L $DEST$LIBDIR/libxpush.so ]] || fail "no libxpush.so development link under $LIBDIR"
pc=$(find "$DEST$LIBDIR/pkgconfig" "$DEST$PREFIX/share/pkgconfig" -maxdepth 1 -name '*xpush*.pc' 2>/dev/null | head -n 1) || true
[[ -n $pc ]] || fail "no xpush pkg-config file under $LIBDIR/pkgconfig"
log "ok: installed ${pc#"$DEST"}"
need_file "$DEST$MANDIR/man8/xpushd.8"
need_file "$DEST$MANDIR/man1/xpushctl.1"
need_file "$DEST$MANDIR/man1/xpush-client.1"
UNIT=$DEST$PREFIX/lib/systemd/system/xpushd.service
need_file "$UNIT"
need_file "$DEST$DATADIR/doc/xpush/xpushd.conf.example"

# ---- the installed programs run (the client from the installed shared library) -------------

export LD_LIBRARY_PATH=$DEST$LIBDIR${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
for b in xpushd xpushctl xpush-client; do
	v=$("$DEST$BINDIR/$b" --version) || fail "installed $b --version failed"
	log "ok: $v"
done
ldd "$DEST$BINDIR/xpush-client" | grep -F "$DEST$LIBDIR/libxpush.so" >/dev/null ||
	fail "installed xpush-client does not use the installed libxpush: $(ldd "$DEST$BINDIR/xpush-client")"

# ---- header + pkg-config + shared library link a program -------------------------------------

pcname=$(basename "$pc" .pc)
cat >"$T_DIR/use_xpush.c" <<'EOF'
#include <stdio.h>
#include <xpush.h>
int main(void)
{
	xpush_config *cfg = NULL;
	if (xpush_config_new(&cfg) != 0)
		return 1;
	xpush_config_free(cfg);
	printf("libxpush %s\n", xpush_version());
	return 0;
}
EOF
flags=$(PKG_CONFIG_SYSROOT_DIR=$DEST PKG_CONFIG_PATH=$(dirname "$pc") pkg-config --cflags --libs "$pcname") ||
	fail "pkg-config --cflags --libs $pcname failed"
log "pkg-config $pcname: $flags"
# shellcheck disable=SC2086  # flags are words
cc -o "$T_DIR/use_xpush" "$T_DIR/use_xpush.c" $flags >"$T_DIR/cc.log" 2>&1 ||
	fail "a program does not build with the installed header and $pcname.pc: $(head -n 5 "$T_DIR/cc.log")"
out=$("$T_DIR/use_xpush") || fail "the program linked against the installed libxpush failed"
[[ $out == "libxpush "[0-9]* ]] || fail "unexpected output: $out"
log "ok: built and ran a program with the installed header, $pcname.pc and library ($out)"

# ---- the systemd unit --------------------------------------------------------------------------

for want in "Type=notify" "WatchdogSec=" "User=xpushd" "ExecStartPre=+$BINDIR/xpushd -c $SYSCONFDIR/xpush/xpushd.conf --migrate" \
	"ExecReload=/bin/kill -HUP \$MAINPID" \
	"ExecStart=$BINDIR/xpushd -c $SYSCONFDIR/xpush/xpushd.conf" "Restart=on-failure" \
	"RestartPreventExitStatus=2 3" "ProtectSystem=strict" "ProtectHome=yes" "PrivateTmp=yes" \
	"NoNewPrivileges=yes" "CapabilityBoundingSet=" "RestrictAddressFamilies=AF_INET AF_INET6 AF_UNIX" \
	"SystemCallFilter=@system-service" "MemoryDenyWriteExecute=yes" "LoadCredential=xpushd-secret:"; do
	grep -q "^$want" "$UNIT" || fail "xpushd.service lacks a line starting with: $want"
done
! grep -q '@[a-z]*@' "$UNIT" || fail "xpushd.service has unsubstituted @...@ variables"
log "ok: xpushd.service has the hardening and restart policy"
if command -v systemd-analyze >/dev/null; then
	# Verify a copy whose programs point into the destdir (verify wants them to exist).
	sed "s#$BINDIR/#$DEST$BINDIR/#g" "$UNIT" >"$T_DIR/xpushd.service"
	systemd-analyze verify --man=no "$T_DIR/xpushd.service" >"$T_DIR/verify.log" 2>&1 ||
		fail "systemd-analyze verify xpushd.service: $(cat "$T_DIR/verify.log")"
	log "ok: systemd-analyze verify xpushd.service"
fi

# ---- the docs say what the programs do ---------------------------------------------------------

EXAMPLE=$DEST$DATADIR/doc/xpush/xpushd.conf.example
xkeys=$("$DEST$BINDIR/xpushd" --help | sed -n '/^Settings:/,/^$/p' | awk 'NF && $1 != "Settings:" { print $1 }')
[[ -n $xkeys ]] || fail "no settings in xpushd --help"
for k in $xkeys; do
	grep -q "^\.B $k\$" "$DEST$MANDIR/man8/xpushd.8" || fail "xpushd(8) does not document setting $k"
	grep -qE "^#?$k = " "$EXAMPLE" || fail "xpushd.conf.example does not document setting $k"
done
log "ok: every xpushd setting ($(wc -w <<<"$xkeys")) is in xpushd(8) and in the example config"
# The example with every key uncommented is a valid configuration.
sed -E 's/^#([a-z_]+ = )/\1/' "$EXAMPLE" >"$T_DIR/all-keys.conf"
(umask 077 && openssl rand -hex 16 >"$T_DIR/secret")
"$DEST$BINDIR/xpushd" -c "$T_DIR/all-keys.conf" -o component_secret_file="$T_DIR/secret" --check-config \
	>"$T_DIR/check-config.out" 2>&1 ||
	fail "xpushd --check-config rejects the example config: $(cat "$T_DIR/check-config.out")"
log "ok: the example config with every key set passes xpushd --check-config"

opts=$("$DEST$BINDIR/xpush-client" --help | sed -n '/^OPTIONS/,/^[A-Z]/p' | grep -oE '^    --[a-z-]+' | tr -d ' ')
[[ -n $opts ]] || fail "no options in xpush-client --help"
for o in $opts; do
	grep -qF -- "${o//-/\\-}" "$DEST$MANDIR/man1/xpush-client.1" || fail "xpush-client(1) does not document $o"
done
log "ok: every xpush-client option ($(wc -w <<<"$opts")) is in xpush-client(1)"
for sub in send status devices stats retract app device watch; do
	grep -q "^\.SS \"\{0,1\}$sub" "$DEST$MANDIR/man1/xpushctl.1" || fail "xpushctl(1) has no section for $sub"
	"$DEST$BINDIR/xpushctl" "$sub" --help >/dev/null || fail "xpushctl $sub --help failed"
done
log "ok: every xpushctl command is in xpushctl(1)"

# ---- the man pages render without warnings -----------------------------------------------------

if ! command -v groff >/dev/null || ! command -v man >/dev/null; then
	skip "everything installed; man pages not rendered: install groff-base and man-db"
fi
for page in "$DEST$MANDIR/man8/xpushd.8" "$DEST$MANDIR/man1/xpushctl.1" "$DEST$MANDIR/man1/xpush-client.1"; do
	name=$(basename "$page")
	LC_ALL=C.UTF-8 MANWIDTH=80 man --warnings=w -l "$page" >"$T_DIR/$name.txt" 2>"$T_DIR/$name.warn" ||
		fail "man -l $name failed: $(head -n 3 "$T_DIR/$name.warn")"
	[[ ! -s $T_DIR/$name.warn ]] || fail "man -l $name warns: $(head -n 3 "$T_DIR/$name.warn")"
	groff -man -ww -z "$page" 2>"$T_DIR/$name.groff" || fail "groff -man $name failed"
	[[ ! -s $T_DIR/$name.groff ]] || fail "groff -ww warns on $name: $(head -n 3 "$T_DIR/$name.groff")"
	(($(wc -l <"$T_DIR/$name.txt") > 40)) || fail "man -l $name rendered only $(wc -l <"$T_DIR/$name.txt") lines"
	grep -q '^EXIT STATUS' "$T_DIR/$name.txt" || fail "$name has no EXIT STATUS section"
	log "ok: $name renders without warnings ($(wc -l <"$T_DIR/$name.txt") lines)"
done
log "pass"
