#!/usr/bin/env bash
# (86) The web console (docs/console.md) in headless Chromium (Debian chromium, chromium-driver,
# python3-selenium): without a session every page sends the browser to the login form, a wrong
# token is refused; the admin token logs in, the dashboard shows the queue's health; a push
# sent from the form reaches a real device on this stack and its notification page shows the
# ledger row acked (reloaded until then); the device search and the device's page show it;
# retract from the page. Screenshots go to the test dir (console-*.png). Without a browser, by
# HTTP: every write without a session, without the CSRF token or by the read-only role is
# refused (403) and enqueues nothing; pages escape what producers wrote; failed logins are
# capped (429). A console token too short makes xpushd exit 1.
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "$0")/lib.sh"

SYS_PY=/usr/bin/python3 # Debian's python3-selenium lives in the system interpreter
[[ -x /usr/bin/chromedriver && -x /usr/bin/chromium ]] ||
	fail "chromium and chromium-driver are not installed (scripts/lib/common.sh installs them)"
"$SYS_PY" -c 'import selenium' 2>/dev/null || fail "python3-selenium is not installed"

create_test_db
new_user alice
ALICE=${USER_JID[alice]}
read -r PORT < <(stack_free_ports 1)
ADMIN=$(openssl rand -hex 16) VIEWER=$(openssl rand -hex 16)
(umask 077 && echo "$ADMIN" >"$T_DIR/admin.token" && echo "$VIEWER" >"$T_DIR/viewer.token")
# A token too short to be one: xpushd refuses to start the console (and so to start).
echo short >"$T_DIR/short.token"
write_xpushd_config console_port="$PORT" console_token_file="$T_DIR/short.token"
rc=0
"$XPUSHD" -c "$T_DIR/xpushd.conf" >"$T_DIR/short.log" 2>&1 </dev/null || rc=$?
assert_eq 1 "$rc" "xpushd's exit status with a short console token"
grep -qF 'msg="console failed" error="console token file: the first line must be 16..256 printable bytes"' \
	"$T_DIR/short.log" || fail "no console failed line: $(cat "$T_DIR/short.log")"
write_xpushd_config console_port="$PORT" console_token_file="$T_DIR/admin.token" \
	console_viewer_token_file="$T_DIR/viewer.token"
start_xpushd xpushd
await_xpushd_ready xpushd
wait_for 10 "the console to listen" stack_port_open "$PORT"
start_device phone alice phone-1 --alias alice-console
await_device_online phone alice phone-1
URL=http://127.0.0.1:$PORT

# ---- in the browser -------------------------------------------------------------------------------

"$SYS_PY" - "$URL" "$ADMIN" "$T_APP" "$ALICE" "$T_DIR" >"$T_DIR/browser.log" 2>&1 <<'PY' ||
import sys, time
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select

url, token, app, jid, out = sys.argv[1:6]
opts = webdriver.ChromeOptions()
for a in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
          "--window-size=1280,1000", "--user-data-dir=" + out + "/chromium-profile"):
    opts.add_argument(a)
opts.binary_location = "/usr/bin/chromium"
d = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=opts)
d.set_page_load_timeout(20)
shot = lambda name: d.save_screenshot("%s/console-%s.png" % (out, name))

def until(what, cond, seconds=20, reload=False):
    end = time.time() + seconds
    while time.time() < end:
        if cond():
            return
        time.sleep(0.2)
        if reload:
            d.refresh()
    shot("timeout")
    raise SystemExit("timed out waiting for " + what + ": " + d.page_source[:2000])

try:
    d.get(url + "/")
    assert d.current_url.endswith("/login"), d.current_url
    shot("1-login")
    d.find_element(By.ID, "token").send_keys("not-the-token-0123456789")
    d.find_element(By.ID, "login").click()
    assert "wrong token" in d.find_element(By.ID, "message").text
    print("ok: a wrong token is refused")
    d.find_element(By.ID, "token").send_keys(token)
    d.find_element(By.ID, "login").click()
    until("the dashboard", lambda: d.title.startswith("Dashboard"))
    assert d.find_element(By.ID, "health").find_elements(By.CSS_SELECTOR, "td.devices_online")
    shot("2-dashboard")
    print("ok: logged in, queue health shown")

    d.find_element(By.ID, "app").send_keys(app)
    Select(d.find_element(By.ID, "target")).select_by_value("jid")
    d.find_element(By.ID, "value").send_keys(jid)
    d.find_element(By.ID, "title").send_keys("from the console <b>&")
    d.find_element(By.ID, "body").send_keys("sent with the form")
    d.find_element(By.ID, "send-button").click()
    until("the notification page", lambda: d.title.startswith("Notification"))
    nid = d.current_url.split("id=")[1].split("&")[0]
    assert "notification %s enqueued" % nid in d.find_element(By.ID, "note").text
    state = lambda: [td.text for td in d.find_elements(By.CSS_SELECTOR, "#ledger td.state")]
    until("the ledger row acked", lambda: state() == ["acked"], reload=True)
    assert d.find_element(By.CSS_SELECTOR, "#notification td.title").text == "from the console <b>&"
    shot("3-acked")
    print("ok: notification %s sent from the form, acked on the page" % nid)
    open(out + "/console.nid", "w").write(nid)

    d.get(url + "/devices?q=alice-console")
    rows = d.find_elements(By.CSS_SELECTOR, "#devices td.device")
    assert [r.text for r in rows] == ["phone-1"], [r.text for r in rows]
    d.find_element(By.CSS_SELECTOR, "#devices td.device_row a").click()
    until("the device page", lambda: d.title.startswith("Device"))
    assert nid in [a.text for a in d.find_elements(By.CSS_SELECTOR, "#deliveries td.notification a")]
    shot("4-device")
    print("ok: device search and the device's deliveries")

    d.get(url + "/notification?id=" + nid)
    d.find_element(By.ID, "retract-button").click()
    until("retracted", lambda: "retracted" in d.find_element(By.ID, "note").text)
    shot("5-retracted")
    print("ok: retracted from the page")
    d.find_element(By.CSS_SELECTOR, "nav button").click()
    d.get(url + "/")
    assert d.current_url.endswith("/login"), d.current_url
    print("ok: logged out")
finally:
    d.quit()
PY
	fail "the browser session failed: $(tail -n 5 "$T_DIR/browser.log")"
sed 's/^/    browser: /' "$T_DIR/browser.log" >&2
nid=$(<"$T_DIR/console.nid")
assert_eq acked "$(sql "SELECT state FROM push.deliveries WHERE notification_id = $nid")" \
	"the ledger row of the console's push (a retract leaves an acked row acked)"
wait_for 15 "the retract to be acked" sql_is acked "SELECT retract_state FROM push.deliveries WHERE notification_id = $nid"
grep -qF "notification id=$nid " "$T_DIR/phone.out" || fail "the device did not print notification $nid"
ls "$T_DIR"/console-*.png >&2

# ---- by HTTP: refusals ------------------------------------------------------------------------------

# http METHOD PATH [curl args]: prints the status code; body in http.body.
http() {
	local m=$1 p=$2
	shift 2
	curl -s -o "$T_DIR/http.body" -w '%{http_code}' -X "$m" "$@" "$URL$p"
}
before=$(sql "SELECT count(*) FROM push.notifications")
assert_eq 303 "$(http GET /)" "GET / without a session: to the login page"
assert_eq 403 "$(http POST /send --data "app=$T_APP&target=jid&value=$ALICE&title=x")" \
	"POST /send without a session"
# login: the session cookie
login() {
	curl -s -o /dev/null -c "$T_DIR/$1.jar" --data-urlencode "token=$2" "$URL/login"
	csrf=$(curl -s -b "$T_DIR/$1.jar" "$URL/" | grep -o 'name="csrf" value="[0-9a-f]*"' | head -n 1 | cut -d'"' -f4)
	[[ $csrf =~ ^[0-9a-f]{64}$ ]] || fail "no CSRF token on the dashboard after logging in as $1"
	echo "$csrf"
}
ACSRF=$(login admin "$ADMIN")
assert_eq 403 "$(http POST /send -b "$T_DIR/admin.jar" --data "app=$T_APP&target=jid&value=$ALICE&title=x")" \
	"POST /send without the CSRF token"
assert_eq 403 "$(http POST /send -b "$T_DIR/admin.jar" --data "csrf=${ACSRF/a/b}&app=$T_APP&target=jid&value=$ALICE")" \
	"POST /send with a wrong CSRF token"
VCSRF=$(login viewer "$VIEWER")
assert_eq 200 "$(http GET / -b "$T_DIR/viewer.jar")" "the read-only role sees the dashboard"
! grep -q 'id="send"' "$T_DIR/http.body" || fail "the read-only dashboard has a send form"
assert_eq 403 "$(http POST /send -b "$T_DIR/viewer.jar" --data "csrf=$VCSRF&app=$T_APP&target=jid&value=$ALICE")" \
	"POST /send by the read-only role"
assert_eq 403 "$(http POST /retract -b "$T_DIR/viewer.jar" --data "csrf=$VCSRF&id=$nid")" \
	"POST /retract by the read-only role"
assert_eq "$before" "$(sql "SELECT count(*) FROM push.notifications")" "notifications after the refused writes"
assert_eq 400 "$(http POST /send -b "$T_DIR/admin.jar" --data "csrf=$ACSRF&app=bad%20app&target=jid&value=$ALICE")" \
	"POST /send of a malformed app id"
grep -qF "notifications_app_form" "$T_DIR/http.body" || fail "the refusal does not name the constraint"
assert_eq 400 "$(http GET /notification?id=1%27 -b "$T_DIR/admin.jar")" "a non-numeric id"
assert_eq 405 "$(http DELETE / -b "$T_DIR/admin.jar")" "DELETE"
hid=$(notify app="$T_APP" to_jid="$ALICE" title='<script>alert(1)</script>')
assert_eq 200 "$(http GET "/notification?id=$hid" -b "$T_DIR/admin.jar")" "the page of a hostile title"
grep -qF '&lt;script&gt;alert(1)&lt;/script&gt;' "$T_DIR/http.body" && ! grep -qF '<script>' "$T_DIR/http.body" ||
	fail "the hostile title is not escaped"
log "ok: writes need a session, the CSRF token and the admin role; text is escaped"

# Failed logins are bounded: at most 10 a minute, then every login gets 429 for that minute.
got=""
for ((i = 0; i < 12; i++)); do
	code=$(http POST /login --data "token=wrong-token-$i-0123456789")
	[[ $code == 429 ]] && { got=$i; break; }
	assert_eq 403 "$code" "wrong login $i"
done
[[ -n $got ]] || fail "12 wrong logins and no 429"
assert_eq 429 "$(http POST /login --data-urlencode "token=$ADMIN")" "the right token, after too many failures"
log "ok: after too many failed logins (429 at attempt $got) even the right token waits"

