#!/usr/bin/env bash
# (8) Hostile text arrives byte-exact: markup characters, a CDATA terminator, quotes, emoji and
# non-ASCII in title, body, uri and payload, compared field by field from --json output.
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "$0")/lib.sh"

create_test_db
new_user grace
write_xpushd_config
start_xpushd xpushd
await_xpushd_ready xpushd
start_device phone grace grace-phone --json
await_device_online phone grace grace-phone

title=$'<b>Tom & "Jerry"</b> ]]> \'quoted\' &amp; &#x3C; 🎉'
body=$'Grüße aus Köln, 東京, Ελλάδα, naïve café ☕ — 👩‍👩‍👧 <![CDATA[x]]> </iq></stream:stream>\n2nd line\ttab'
uri=$'https://example.org/a?b=1&c=<2>&d="3"#ü'
payload=$'{"match":9,"text":"<&>\\"\'","emoji":"😀"}'
printf '%s' "$title" >"$T_DIR/want.title"
printf '%s' "$body" >"$T_DIR/want.body"
printf '%s' "$uri" >"$T_DIR/want.uri"
printf '%s' "$payload" >"$T_DIR/want.payload"

id=$(notify app="$T_APP" to_jid="${USER_JID[grace]}" to_device=grace-phone \
	title="$title" body="$body" uri="$uri" payload="$payload")
log "inserted notification $id"
# What Postgres stored is what we meant (guards the test itself).
for f in title body uri payload; do
	sql "SELECT encode(convert_to($f, 'UTF8'), 'hex') FROM push.notifications WHERE id = $id" >"$T_DIR/db.$f.hex"
	assert_eq "$(od -An -tx1 -v "$T_DIR/want.$f" | tr -d ' \n')" "$(tr -d '\n' <"$T_DIR/db.$f.hex")" "bytes of $f in push.notifications"
done

wait_for 15 "notification $id acked" acked 1 "$id"
wait_for 5 "device to print notification $id" grep -q '"id"' "$T_DIR/phone.out"
assert_eq 1 "$(wc -l <"$T_DIR/phone.out")" "lines on the device's stdout"

python3 - "$T_DIR" "$id" "$T_APP" <<'PY' || fail "--json output differs from what was inserted (see above)"
import json, sys
d, want_id, app = sys.argv[1], sys.argv[2], sys.argv[3]
with open(f"{d}/phone.out", "rb") as f:
    raw = f.read()
try:
    line = raw.decode("utf-8", "strict")
except UnicodeDecodeError as e:
    sys.exit(f"device stdout is not valid UTF-8: {e}")
obj = json.loads(line)
bad = []
if str(obj.get("id")) != want_id:
    bad.append(f"id: want {want_id!r} got {obj.get('id')!r}")
if obj.get("app") != app:
    bad.append(f"app: want {app!r} got {obj.get('app')!r}")
for k in ("title", "body", "uri", "payload"):
    with open(f"{d}/want.{k}", "rb") as f:
        want = f.read()
    got = obj.get(k)
    got_b = got.encode("utf-8") if isinstance(got, str) else None
    if got_b != want:
        bad.append(f"{k}: want {want!r} got {got_b!r}")
for b in bad:
    print("mismatch", b, file=sys.stderr)
sys.exit(1 if bad else 0)
PY
log "pass"
