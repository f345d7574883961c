# shellcheck shell=bash
# scripts/lib/stack.sh: a throwaway xpush stack under one STATE dir, for the demo and the tests.
#
# Sourced, not run. Everything listens on 127.0.0.1 on free ports: a local CA and a certificate
# for xpush.test, an embedded Postgres cluster (initdb in STATE, run as user postgres because
# Postgres refuses root) and Prosody with a generated config (run_as_root, TLS required,
# registration throttle and rate limits off, components push/push2/push3.xpush.test), and, when
# XPUSH_STACK_SERVERS names it, ejabberd as a second XMPP server (own config, node name, cookie,
# spool and log dir under STATE/ejabberd; the same domain, CA, component JIDs and secret).
# Processes run in the background, are recorded by pid in STATE/env and are stopped only by
# those pids (stack_stop). Nothing here touches a system-wide service or a port it did not pick.
#
# Servers: XPUSH_STACK_SERVERS="prosody ejabberd" (default "prosody") at stack_start says which
# run. Whoever sources STATE/env with XPUSH_SERVER=prosody|ejabberd (default: the first one
# started) gets XPUSH_C2S_PORT, XPUSH_C2S_TLS_PORT (direct TLS, XEP-0368: TLS from the first byte)
# and XPUSH_COMPONENT_PORT of that server; XPUSH_PROSODY_* and
# XPUSH_EJABBERD_* name each server's own ports, config, log and pid, and stack_add_user,
# stack_server_down/up act on the selected server. So one e2e test runs against either.
# XPUSH_PG_EXTRA_CONF: more lines for postgresql.conf (scripts/bench loads pg_stat_statements).
#
#   stack_start STATE [BUILD_DIR]    build the stack, write STATE/env (sourceable)
#   stack_stop STATE                 stop what stack_start started (idempotent)
#   stack_add_user USER PASSWORD     create an XMPP account (needs STATE/env sourced or the vars)
#   stack_create_db NAME             create a database owned by role xpush
#   stack_write_xpushd_config FILE DBNAME [key=value]...
#   stack_free_ports N               print N distinct free TCP ports on 127.0.0.1
#   stack_psql DBNAME [psql args]    psql on the stack as role xpush
#   stack_prosody_down [SIG] / stack_prosody_up / stack_pg_restart   crash and restart tests
#   stack_ejabberd_down [SIG] / stack_ejabberd_up                     the same for ejabberd
#   stack_server_down [SIG] / stack_server_up     the selected server ($XPUSH_SERVER)
#   stack_ejabberdctl ARGS...        ejabberdctl on the stack's ejabberd node

XPUSH_DOMAIN_DEFAULT=xpush.test
STACK_COMPONENTS=(push.xpush.test push2.xpush.test push3.xpush.test)

stack_die() {
	echo "xpush stack: error: $*" >&2
	return 1
}

stack_log() {
	[[ -n ${STACK_QUIET:-} ]] || echo "xpush stack: $*" >&2
}

# The newest installed Postgres server binaries (Debian keeps them off PATH).
stack_pg_bin() {
	local d best=""
	for d in /usr/lib/postgresql/*/bin; do
		[[ -x $d/initdb ]] || continue
		if [[ -z $best ]] || (( ${d//[^0-9]/} > ${best//[^0-9]/} )); then best=$d; fi
	done
	[[ -n $best ]] || { stack_die "no Postgres server binaries under /usr/lib/postgresql/*/bin (install postgresql)"; return 1; }
	echo "$best"
}

stack_free_ports() {
	python3 - "$1" <<'EOF'
import socket, sys
socks = []
for _ in range(int(sys.argv[1])):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.bind(("127.0.0.1", 0))
    socks.append(s)
print(" ".join(str(s.getsockname()[1]) for s in socks))
EOF
}

stack_port_open() {
	(exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

# True if PID is alive and its command line contains WORD (guards against reused pids).
stack_pid_is() {
	local pid=$1 word=$2 cmd
	[[ -n $pid && $pid =~ ^[0-9]+$ ]] || return 1
	[[ -r /proc/$pid/cmdline ]] || return 1
	cmd=$(tr '\0' ' ' 2>/dev/null <"/proc/$pid/cmdline") || return 1
	[[ $cmd == *"$word"* ]]
}

stack_make_ca() {
	local state=$1 domain=$2 ca=$1/ca
	mkdir -p "$ca"
	chmod 755 "$ca"
	openssl req -x509 -newkey rsa:2048 -nodes -days 30 -sha256 \
		-keyout "$ca/ca.key" -out "$ca/ca.pem" -subj "/CN=xpush test CA" \
		-addext "basicConstraints=critical,CA:TRUE" \
		-addext "keyUsage=critical,keyCertSign,cRLSign" >/dev/null 2>&1 ||
		{ stack_die "openssl could not create the CA in $ca"; return 1; }
	openssl req -new -newkey rsa:2048 -nodes -sha256 \
		-keyout "$ca/server.key" -out "$ca/server.csr" -subj "/CN=$domain" >/dev/null 2>&1 ||
		{ stack_die "openssl could not create the server key"; return 1; }
	cat >"$ca/server.ext" <<EOF
basicConstraints=critical,CA:FALSE
keyUsage=critical,digitalSignature,keyEncipherment
extendedKeyUsage=serverAuth
subjectAltName=DNS:$domain,DNS:*.$domain
EOF
	openssl x509 -req -in "$ca/server.csr" -CA "$ca/ca.pem" -CAkey "$ca/ca.key" \
		-CAcreateserial -days 30 -sha256 -extfile "$ca/server.ext" -out "$ca/server.crt" >/dev/null 2>&1 ||
		{ stack_die "openssl could not sign the server certificate"; return 1; }
	chmod 600 "$ca/ca.key" "$ca/server.key"
	chmod 644 "$ca/ca.pem" "$ca/server.crt"
}

# Postgres needs a data dir and a socket dir that user postgres can reach. STATE may sit
# under a directory postgres cannot traverse (e.g. /root), and a unix socket path must stay
# under ~107 bytes: then the cluster lives in a /tmp dir of its own and STATE/pg links to it.
_stack_pg_dirs() {
	local state=$1 port=$2
	STACK_PG_EXTERNAL=""
	mkdir -p "$state/pg"
	chown postgres:postgres "$state/pg"
	chmod 700 "$state/pg"
	local sock="$state/pgrun/.s.PGSQL.$port"
	if ! runuser -u postgres -- test -w "$state/pg" 2>/dev/null || (( ${#sock} > 100 )); then
		rmdir "$state/pg"
		STACK_PG_EXTERNAL=$(mktemp -d /tmp/xpush-pg.XXXXXX)
		chmod 755 "$STACK_PG_EXTERNAL"
		mkdir -p "$STACK_PG_EXTERNAL/pg" "$STACK_PG_EXTERNAL/run"
		chown postgres:postgres "$STACK_PG_EXTERNAL/pg" "$STACK_PG_EXTERNAL/run"
		chmod 700 "$STACK_PG_EXTERNAL/pg"
		touch "$STACK_PG_EXTERNAL/postgres.log"
		ln -s "$STACK_PG_EXTERNAL/pg" "$state/pg"
		ln -s "$STACK_PG_EXTERNAL/run" "$state/pgrun"
		ln -s "$STACK_PG_EXTERNAL/postgres.log" "$state/postgres.log"
		STACK_PGDATA=$STACK_PG_EXTERNAL/pg
		STACK_PGHOST=$STACK_PG_EXTERNAL/run
		STACK_PGLOG=$STACK_PG_EXTERNAL/postgres.log
	else
		mkdir -p "$state/pgrun"
		chown postgres:postgres "$state/pgrun"
		STACK_PGDATA=$state/pg
		STACK_PGHOST=$state/pgrun
		STACK_PGLOG=$state/postgres.log
		touch "$STACK_PGLOG"
	fi
	chown postgres:postgres "$STACK_PGLOG"
	runuser -u postgres -- test -w "$STACK_PGLOG" 2>/dev/null ||
		{ stack_die "user postgres cannot write $STACK_PGLOG"; return 1; }
}

stack_start_pg() {
	local state=$1 port=$2 pgbin
	pgbin=$(stack_pg_bin) || return 1
	id postgres >/dev/null 2>&1 || { stack_die "no user postgres (install postgresql)"; return 1; }
	_stack_pg_dirs "$state" "$port" || return 1
	runuser -u postgres -- "$pgbin/initdb" -D "$STACK_PGDATA" -U postgres --auth=trust \
		-E UTF8 --locale=C --no-sync >"$state/initdb.log" 2>&1 ||
		{ stack_die "initdb failed (see $state/initdb.log)"; tail -n 20 "$state/initdb.log" >&2; return 1; }
	cat >>"$STACK_PGDATA/postgresql.conf" <<EOF

# xpush stack (scripts/lib/stack.sh)
listen_addresses = '127.0.0.1'
port = $port
unix_socket_directories = '$STACK_PGHOST'
max_connections = 200
shared_buffers = 64MB
timezone = 'UTC'
log_timezone = 'UTC'
log_min_messages = warning
${XPUSH_PG_EXTRA_CONF:-}
EOF
	runuser -u postgres -- "$pgbin/pg_ctl" -D "$STACK_PGDATA" -l "$STACK_PGLOG" -w -t 60 start \
		>"$state/pg_ctl.log" 2>&1 ||
		{ stack_die "Postgres did not start (see $state/postgres.log)"; tail -n 20 "$state/postgres.log" >&2; return 1; }
	STACK_PG_PID=$(head -n 1 "$STACK_PGDATA/postmaster.pid")
	"$pgbin/psql" -X -q -v ON_ERROR_STOP=1 -h "$STACK_PGHOST" -p "$port" -U postgres -d postgres \
		-c "CREATE ROLE xpush SUPERUSER LOGIN" -c "CREATE DATABASE xpush OWNER xpush" >/dev/null ||
		{ stack_die "could not create role/database xpush"; return 1; }
}

# stack_write_prosody_config STATE C2S COMPONENT DOMAIN SECRET [C2S_TLS]: C2S_TLS adds a
# direct-TLS c2s port (c2s_direct_tls_ports).
stack_write_prosody_config() {
	local state=$1 c2s=$2 comp=$3 domain=$4 secret=$5 dir=$1/prosody c direct=""
	[[ -z ${6:-} ]] || direct="c2s_direct_tls_ports = { $6 }
c2s_direct_tls_interfaces = { \"127.0.0.1\" }"
	local level=${XPUSH_PROSODY_LOG_LEVEL:-info}
	{
		cat <<EOF
-- Generated by scripts/lib/stack.sh for a throwaway xpush stack. Do not edit.
run_as_root = true            -- scripts and CI run as root (Prosody refuses otherwise)
pidfile = "$dir/prosody.pid"
data_path = "$dir/data"
log = {
	{ levels = { min = "$level" }, to = "file", filename = "$dir/prosody.log" };
}
interfaces = { "127.0.0.1" }
c2s_ports = { $c2s }
c2s_interfaces = { "127.0.0.1" }
$direct
component_ports = { $comp }
component_interfaces = { "127.0.0.1" }
${XPUSH_PROSODY_EXTRA_GLOBAL:-}
-- No federation, no HTTP: nothing listens beyond the two ports above (unless a comparison adds
-- one through XPUSH_PROSODY_EXTRA_GLOBAL / XPUSH_PROSODY_EXTRA: bench/up_compare.sh).
modules_disabled = { "s2s", "s2s_auth_certs" }
modules_enabled = { "roster", "saslauth", "tls", "disco", "ping", "register" }
-- Tests register and log in quickly and often from one IP: no throttle, no rate limits.
-- (127.0.0.1 is allowlisted, so the registration throttle is skipped entirely; mod_limits
-- is not loaded, and limits = {} documents that nothing is limited.)
registration_allowlist = { "127.0.0.1", "::1" }
min_seconds_between_registrations = 0
limits = {}
allow_registration = true
authentication = "internal_hashed"
c2s_require_encryption = true
certificates = "$state/ca"
ssl = {
	certificate = "$state/ca/server.crt";
	key = "$state/ca/server.key";
}

VirtualHost "$domain"
	ssl = {
		certificate = "$state/ca/server.crt";
		key = "$state/ca/server.key";
	}
EOF
		for c in "${STACK_COMPONENTS[@]}"; do
			printf '\nComponent "%s"\n\tcomponent_secret = "%s"\n' "$c" "$secret"
		done
		# Failover (tests/e2e/61): a second xpushd connecting with this JID replaces the first
		# (Prosody's default, kick_new, refuses it while the first one's stream is up).
		printf '\nComponent "%s"\n\tcomponent_secret = "%s"\n\tcomponent_conflict_resolve = "kick_old"\n' \
			"failover.$domain" "$secret"
		[[ -z ${XPUSH_PROSODY_EXTRA:-} ]] || printf '\n%s\n' "$XPUSH_PROSODY_EXTRA"
	} >"$dir/prosody.cfg.lua"
}

stack_start_prosody() {
	local state=$1 c2s=$2 comp=$3 domain=$4 secret=$5 tls=${6:-} dir=$1/prosody i
	command -v prosody >/dev/null || { stack_die "prosody is not installed"; return 1; }
	mkdir -p "$dir/data"
	chmod 700 "$dir"
	stack_write_prosody_config "$state" "$c2s" "$comp" "$domain" "$secret" "$tls"
	# -F: stay in the foreground (the 'daemonize' option is deprecated in 0.12).
	# setsid: its own session, so a test's timeout (which signals its process group) spares it.
	setsid prosody --config "$dir/prosody.cfg.lua" -F >"$dir/stdout.log" 2>&1 </dev/null &
	STACK_PROSODY_PID=$!
	for ((i = 0; i < 300; i++)); do
		if ! kill -0 "$STACK_PROSODY_PID" 2>/dev/null; then
			stack_die "Prosody exited during start (see $dir/prosody.log)"
			tail -n 20 "$dir/stdout.log" "$dir/prosody.log" >&2 2>/dev/null
			return 1
		fi
		if stack_port_open "$c2s" && stack_port_open "$comp" && { [[ -z $tls ]] || stack_port_open "$tls"; }; then
			return 0
		fi
		sleep 0.05
	done
	stack_die "Prosody did not open ports $c2s/$comp within 15 s (see $dir/prosody.log)"
	return 1
}

# ---- ejabberd (Debian's 23.01) -------------------------------------------------------------
# ejabberdctl as root re-runs itself (su) as user ejabberd, which must own the spool, log and
# config dirs and the PEM file. /etc/ejabberd/ejabberdctl.cfg (= /etc/default/ejabberd) sets
# EJABBERD_CONFIG_PATH and would silently win over --config, so we always pass our own
# --ctl-config and --config-dir (vm.args and inetrc are read from there too). ERL_DIST_PORT
# makes the node listen for ejabberdctl on that port (127.0.0.1 only, see vm.args) without
# epmd; the node name and the cookie are ours. Settings for tests: nothing shaped or limited,
# in-band registration from loopback without the per-IP timeout, and bounded unavailability
# of a silent client: mod_ping pings after XPUSH_EJABBERD_PING_INTERVAL s idle (default 30) and
# kills the session after XPUSH_EJABBERD_PING_ACK_TIMEOUT s without a reply (default 10);
# mod_stream_mgmt holds a dropped session XPUSH_EJABBERD_RESUME_TIMEOUT s (default 5, not 300)
# before the component hears `unavailable`. See docs/servers.md.

stack_write_ejabberd_config() {
	local state=$1 c2s=$2 comp=$3 dist=$4 domain=$5 secret=$6 node=$7 dir=${STACK_EJABBERD_DIR:-$1/ejabberd} c
	local conf=$dir/conf
	local level=${XPUSH_EJABBERD_LOG_LEVEL:-info}
	# STACK_EJABBERD_TLS_PORT: a direct-TLS c2s listener (tls: true), listed first so that it is
	# up once the c2s and component ports are.
	local direct=""
	[[ -z ${STACK_EJABBERD_TLS_PORT:-} ]] || direct="  - port: $STACK_EJABBERD_TLS_PORT
    ip: \"127.0.0.1\"
    module: ejabberd_c2s
    tls: true
    max_stanza_size: 262144
    backlog: 1024
    shaper: none
    access: all"
	{
		cat <<EOF
# Generated by scripts/lib/stack.sh for a throwaway xpush stack. Do not edit.
hosts: ["$domain"]
loglevel: $level
log_rotate_count: 0
log_rotate_size: infinity
certfiles: ["$conf/server.pem"]
# Tests create accounts quickly and often from one IP (XEP-0077 is only an option of the client).
registration_timeout: infinity
auth_method: internal
auth_password_format: scram
listen:
$direct
  - port: $c2s
    ip: "127.0.0.1"
    module: ejabberd_c2s
    starttls_required: true
    max_stanza_size: 262144
    backlog: 1024
    shaper: none
    access: all
  - port: $comp
    ip: "127.0.0.1"
    module: ejabberd_service
    backlog: 128
    shaper: none
    hosts:
EOF
		# failover.DOMAIN: as in Prosody's config (e2e 61); ejabberd accepts several
		# connections of one component anyway, so it is only a name here.
		for c in "${STACK_COMPONENTS[@]}" "failover.$domain"; do
			printf '      "%s":\n        password: "%s"\n' "$c" "$secret"
		done
		cat <<EOF
acl:
  loopback:
    ip: ["127.0.0.0/8", "::1/128"]
access_rules:
  register_from_loopback:
    allow: loopback
shaper_rules:
  max_user_sessions: 1000
  max_user_offline_messages: 100
api_permissions:
  "console commands":
    from: [ejabberd_ctl]
    who: all
    what: "*"
modules:
  mod_disco: {}
  mod_roster: {}
  mod_register:
    access: all  # any user name (the rule is matched on the JID, where an IP ACL never matches)
    ip_access: register_from_loopback
  mod_ping:
    send_pings: true
    ping_interval: ${XPUSH_EJABBERD_PING_INTERVAL:-30}
    ping_ack_timeout: ${XPUSH_EJABBERD_PING_ACK_TIMEOUT:-10}
    timeout_action: kill
  mod_stream_mgmt:
    resume_timeout: ${XPUSH_EJABBERD_RESUME_TIMEOUT:-5}
    max_ack_queue: 5000
EOF
	} >"$conf/ejabberd.yml"
	cat >"$conf/ejabberdctl.cfg" <<EOF
# Generated by scripts/lib/stack.sh: replaces /etc/ejabberd/ejabberdctl.cfg for this node.
ERLANG_NODE=$node
ERL_DIST_PORT=$dist
EJABBERD_CONFIG_PATH=$conf/ejabberd.yml
EJABBERD_BYPASS_WARNINGS=true
ERL_OPTIONS="-env ERL_CRASH_DUMP_BYTES 0"
EOF
	# Read by the server and by every ejabberdctl call (--config-dir): cookie, loopback only.
	printf -- '-setcookie %s\n-kernel inet_dist_use_interface {127,0,0,1}\n' \
		"$(openssl rand -hex 16)" >"$conf/vm.args"
	printf '{lookup,["file","native"]}.\n{host,{127,0,0,1}, ["localhost"]}.\n' >"$conf/inetrc"
}

# The dir ejabberd works in: STATE/ejabberd, or (when user ejabberd cannot reach STATE, e.g.
# under /root) a /tmp dir of its own that STATE/ejabberd links to.
_stack_ejabberd_dir() {
	local state=$1
	STACK_EJABBERD_EXTERNAL=""
	[[ -e $state/ejabberd ]] && return 0
	if runuser -u ejabberd -- test -x "$state" 2>/dev/null; then
		mkdir -p "$state/ejabberd"
	else
		STACK_EJABBERD_EXTERNAL=$(mktemp -d /tmp/xpush-ejabberd.XXXXXX)
		ln -s "$STACK_EJABBERD_EXTERNAL" "$state/ejabberd"
	fi
}

# _stack_beam_pid ROOT_PID NODE: the beam.smp of NODE among ROOT_PID's descendants.
_stack_beam_pid() {
	python3 - "$1" "$2" <<'EOF'
import os, sys
root, node = int(sys.argv[1]), sys.argv[2].encode()
kids = {}
for p in os.listdir("/proc"):
    if not p.isdigit():
        continue
    try:
        with open(f"/proc/{p}/stat") as f:
            ppid = int(f.read().rsplit(")", 1)[1].split()[1])
        with open(f"/proc/{p}/cmdline", "rb") as f:
            argv = f.read().split(b"\0")
    except (OSError, ValueError, IndexError):
        continue
    kids.setdefault(ppid, []).append((int(p), argv))
todo = [root]
while todo:
    for pid, argv in kids.get(todo.pop(), []):
        if argv[0].endswith(b"beam.smp") and node in argv:
            print(pid)
            sys.exit(0)
        todo.append(pid)
sys.exit(1)
EOF
}

# stack_start_ejabberd STATE C2S COMPONENT DIST DOMAIN SECRET [YAML]: configure (first time) and
# start ejabberd in the foreground in the background; sets STACK_EJABBERD_PID (the beam.smp),
# STACK_EJABBERD_NODE. Waits until both ports accept connections. YAML: an ejabberd.yml to use
# instead of the generated one (its certfiles may name STATE/ejabberd/conf/server.pem).
stack_start_ejabberd() {
	local state=$1 c2s=$2 comp=$3 dist=$4 domain=$5 secret=$6 yaml=${7:-} dir conf wrapper i
	command -v ejabberdctl >/dev/null || { stack_die "ejabberd is not installed"; return 1; }
	id ejabberd >/dev/null 2>&1 || { stack_die "no user ejabberd (install ejabberd)"; return 1; }
	STACK_EJABBERD_NODE=${STACK_EJABBERD_NODE:-xpush_$dist@localhost}
	if [[ ! -f $state/ejabberd/conf/ejabberd.yml ]]; then
		_stack_ejabberd_dir "$state" || return 1
	fi
	# The real path: user ejabberd may not be able to follow STATE/ejabberd (a link into /tmp).
	dir=$(cd "$state/ejabberd" && pwd -P) || { stack_die "no dir $state/ejabberd"; return 1; }
	STACK_EJABBERD_DIR=$dir
	conf=$dir/conf
	if [[ ! -f $conf/ejabberd.yml ]]; then
		mkdir -p "$conf" "$dir/spool" "$dir/log"
		cat "$state/ca/server.crt" "$state/ca/server.key" >"$conf/server.pem"
		stack_write_ejabberd_config "$state" "$c2s" "$comp" "$dist" "$domain" "$secret" "$STACK_EJABBERD_NODE"
		[[ -z $yaml ]] || cp "$yaml" "$conf/ejabberd.yml"
		chown -R ejabberd:ejabberd "$dir/"
		chmod 700 "$dir/" "$dir/spool"
		chmod 600 "$conf/server.pem" "$conf/vm.args" "$conf/ejabberd.yml"
	fi
	# setsid: its own session, so a test's timeout (which signals its process group) spares it.
	setsid ejabberdctl --config-dir "$conf" --ctl-config "$conf/ejabberdctl.cfg" --config "$conf/ejabberd.yml" \
		--logs "$dir/log" --spool "$dir/spool" --node "$STACK_EJABBERD_NODE" foreground \
		>>"$dir/stdout.log" 2>&1 </dev/null &
	wrapper=$!
	STACK_EJABBERD_PID=""
	for ((i = 0; i < 600; i++)); do
		[[ -n $STACK_EJABBERD_PID ]] || STACK_EJABBERD_PID=$(_stack_beam_pid "$wrapper" "$STACK_EJABBERD_NODE") || true
		if ! kill -0 "$wrapper" 2>/dev/null; then
			stack_die "ejabberd exited during start (see $dir/log/ejabberd.log, $dir/stdout.log)"
			tail -n 20 "$dir/stdout.log" "$dir/log/error.log" >&2 2>/dev/null
			return 1
		fi
		if [[ -n $STACK_EJABBERD_PID ]] && stack_port_open "$c2s" && stack_port_open "$comp"; then
			return 0
		fi
		sleep 0.05
	done
	stack_die "ejabberd did not open ports $c2s/$comp within 30 s (see $dir/log/ejabberd.log)"
	[[ -n $STACK_EJABBERD_PID ]] && stack_kill_pid "$STACK_EJABBERD_PID" "$STACK_EJABBERD_NODE"
	return 1
}

# stack_ejabberdctl ARGS...: ejabberdctl against the stack's node (needs the stack's env).
stack_ejabberdctl() {
	local dir=$XPUSH_EJABBERD_DIR
	ejabberdctl --config-dir "$dir/conf" --ctl-config "$dir/conf/ejabberdctl.cfg" \
		--config "$dir/conf/ejabberd.yml" --logs "$dir/log" --spool "$dir/spool" \
		--node "$XPUSH_EJABBERD_NODE" "$@"
}

# stack_stop_ejabberd PID NODE: TERM the beam (ejabberd stops in ~1 s), KILL after 10 s, then
# make sure nothing of that node is left (erl_child_setup follows its beam).
stack_stop_ejabberd() {
	local pid=$1 node=$2 i
	[[ -n $pid ]] || return 0
	stack_kill_pid "$pid" "$node"
	for ((i = 0; i < 100; i++)); do
		stack_pid_is "$pid" "$node" || return 0
		sleep 0.05
	done
	stack_die "ejabberd (pid $pid, node $node) is still running"
}

stack_write_env() {
	local f=$1/env
	{
		echo "# xpush stack environment (scripts/lib/stack.sh); source this file."
		printf 'export XPUSH_STATE=%q\n' "$1"
		printf 'export XPUSH_BUILD=%q\n' "$2"
		printf 'export XPUSH_DOMAIN=%q\n' "$XPUSH_DOMAIN"
		printf 'export XPUSH_PGBIN=%q\n' "$XPUSH_PGBIN"
		printf 'export XPUSH_PGDATA=%q\n' "$XPUSH_PGDATA"
		printf 'export XPUSH_PGHOST=%q\n' "$XPUSH_PGHOST"
		printf 'export XPUSH_PGLOG=%q\n' "$XPUSH_PGLOG"
		printf 'export XPUSH_PGPORT=%q\n' "$XPUSH_PGPORT"
		printf 'export XPUSH_PGDB=%q\n' "$XPUSH_PGDB"
		printf 'export XPUSH_PG_CONNINFO=%q\n' "$XPUSH_PG_CONNINFO"
		printf 'export XPUSH_PG_EXTERNAL=%q\n' "$XPUSH_PG_EXTERNAL"
		printf 'export XPUSH_SERVERS=%q\n' "$XPUSH_SERVERS"
		printf 'export XPUSH_PROSODY_C2S_PORT=%q\n' "$XPUSH_PROSODY_C2S_PORT"
		printf 'export XPUSH_PROSODY_COMPONENT_PORT=%q\n' "$XPUSH_PROSODY_COMPONENT_PORT"
		printf 'export XPUSH_EJABBERD_C2S_PORT=%q\n' "$XPUSH_EJABBERD_C2S_PORT"
		printf 'export XPUSH_EJABBERD_COMPONENT_PORT=%q\n' "$XPUSH_EJABBERD_COMPONENT_PORT"
		printf 'export XPUSH_EJABBERD_DIST_PORT=%q\n' "$XPUSH_EJABBERD_DIST_PORT"
		printf 'export XPUSH_PROSODY_C2S_TLS_PORT=%q\n' "$XPUSH_PROSODY_C2S_TLS_PORT"
		printf 'export XPUSH_EJABBERD_C2S_TLS_PORT=%q\n' "$XPUSH_EJABBERD_C2S_TLS_PORT"
		printf 'export XPUSH_COMPONENT_JID=%q\n' "$XPUSH_COMPONENT_JID"
		printf 'export XPUSH_COMPONENT_JIDS=%q\n' "$XPUSH_COMPONENT_JIDS"
		printf 'export XPUSH_SECRET_FILE=%q\n' "$XPUSH_SECRET_FILE"
		printf 'export XPUSH_CA_FILE=%q\n' "$XPUSH_CA_FILE"
		printf 'export XPUSH_PROSODY_CFG=%q\n' "$XPUSH_PROSODY_CFG"
		printf 'export XPUSH_PROSODY_LOG=%q\n' "$XPUSH_PROSODY_LOG"
		printf 'export XPUSH_PG_PID=%q\n' "$XPUSH_PG_PID"
		printf 'export XPUSH_PROSODY_PID=%q\n' "$XPUSH_PROSODY_PID"
		printf 'export XPUSH_EJABBERD_DIR=%q\n' "$XPUSH_EJABBERD_DIR"
		printf 'export XPUSH_EJABBERD_CFG=%q\n' "$XPUSH_EJABBERD_CFG"
		printf 'export XPUSH_EJABBERD_LOG=%q\n' "$XPUSH_EJABBERD_LOG"
		printf 'export XPUSH_EJABBERD_NODE=%q\n' "$XPUSH_EJABBERD_NODE"
		printf 'export XPUSH_EJABBERD_EXTERNAL=%q\n' "$XPUSH_EJABBERD_EXTERNAL"
		printf 'export XPUSH_EJABBERD_PID=%q\n' "$XPUSH_EJABBERD_PID"
		cat <<'EOF'
# XPUSH_SERVER (prosody|ejabberd; default: the first of XPUSH_SERVERS) picks the ports below.
: "${XPUSH_SERVER:=${XPUSH_SERVERS%% *}}"
case $XPUSH_SERVER in
ejabberd) XPUSH_C2S_PORT=$XPUSH_EJABBERD_C2S_PORT XPUSH_COMPONENT_PORT=$XPUSH_EJABBERD_COMPONENT_PORT
	XPUSH_C2S_TLS_PORT=$XPUSH_EJABBERD_C2S_TLS_PORT ;;
*) XPUSH_C2S_PORT=$XPUSH_PROSODY_C2S_PORT XPUSH_COMPONENT_PORT=$XPUSH_PROSODY_COMPONENT_PORT
	XPUSH_C2S_TLS_PORT=$XPUSH_PROSODY_C2S_TLS_PORT ;;
esac
export XPUSH_SERVER XPUSH_C2S_PORT XPUSH_C2S_TLS_PORT XPUSH_COMPONENT_PORT
EOF
	} >"$f.tmp"
	mv "$f.tmp" "$f"
}

# stack_start STATE [BUILD_DIR]: STATE must be empty or not exist.
stack_start() {
	local state=$1 build=${2:-} t0 secret
	[[ -n $state ]] || { stack_die "stack_start: no state dir given"; return 1; }
	[[ $(id -u) == 0 ]] || { stack_die "the stack runs Postgres via runuser and needs root"; return 1; }
	if [[ -e $state && -n $(ls -A "$state" 2>/dev/null) ]]; then
		stack_die "state dir $state is not empty"; return 1
	fi
	t0=$(date +%s.%N)
	mkdir -p "$state"
	state=$(cd "$state" && pwd)
	chmod 755 "$state"
	touch "$state/.xpush-state"

	local srv up=""
	XPUSH_SERVERS=${XPUSH_STACK_SERVERS:-prosody}
	for srv in $XPUSH_SERVERS; do
		[[ $srv == prosody || $srv == ejabberd ]] ||
			{ stack_die "XPUSH_STACK_SERVERS: unknown server '$srv' (prosody, ejabberd)"; return 1; }
	done
	read -r XPUSH_PGPORT XPUSH_PROSODY_C2S_PORT XPUSH_PROSODY_COMPONENT_PORT XPUSH_EJABBERD_C2S_PORT \
		XPUSH_EJABBERD_COMPONENT_PORT XPUSH_EJABBERD_DIST_PORT XPUSH_PROSODY_C2S_TLS_PORT \
		XPUSH_EJABBERD_C2S_TLS_PORT < <(stack_free_ports 8) ||
		{ stack_die "could not find free ports"; return 1; }
	[[ -n ${XPUSH_EJABBERD_C2S_TLS_PORT:-} ]] || { stack_die "could not find free ports (python3 missing?)"; return 1; }
	XPUSH_SERVER=${XPUSH_SERVER:-${XPUSH_SERVERS%% *}}
	if [[ $XPUSH_SERVER == ejabberd ]]; then
		XPUSH_C2S_PORT=$XPUSH_EJABBERD_C2S_PORT XPUSH_COMPONENT_PORT=$XPUSH_EJABBERD_COMPONENT_PORT
		XPUSH_C2S_TLS_PORT=$XPUSH_EJABBERD_C2S_TLS_PORT
	else
		XPUSH_C2S_PORT=$XPUSH_PROSODY_C2S_PORT XPUSH_COMPONENT_PORT=$XPUSH_PROSODY_COMPONENT_PORT
		XPUSH_C2S_TLS_PORT=$XPUSH_PROSODY_C2S_TLS_PORT
	fi
	STACK_EJABBERD_TLS_PORT=$XPUSH_EJABBERD_C2S_TLS_PORT # read by stack_write_ejabberd_config
	XPUSH_STATE=$state
	XPUSH_DOMAIN=$XPUSH_DOMAIN_DEFAULT
	XPUSH_COMPONENT_JID=${STACK_COMPONENTS[0]}
	XPUSH_COMPONENT_JIDS="${STACK_COMPONENTS[*]}"
	XPUSH_CA_FILE=$state/ca/ca.pem
	XPUSH_SECRET_FILE=$state/secret
	XPUSH_PROSODY_CFG=$state/prosody/prosody.cfg.lua
	XPUSH_PROSODY_LOG=$state/prosody/prosody.log
	XPUSH_PGBIN=$(stack_pg_bin) || return 1
	XPUSH_PGDB=xpush
	XPUSH_PG_PID="" XPUSH_PROSODY_PID="" XPUSH_PG_EXTERNAL="" XPUSH_PGDATA="" XPUSH_PGHOST=""
	XPUSH_PG_CONNINFO="" XPUSH_PGLOG=""
	XPUSH_EJABBERD_DIR=$state/ejabberd
	XPUSH_EJABBERD_CFG=$XPUSH_EJABBERD_DIR/conf/ejabberd.yml
	XPUSH_EJABBERD_LOG=$XPUSH_EJABBERD_DIR/log/ejabberd.log
	XPUSH_EJABBERD_NODE=xpush_$XPUSH_EJABBERD_DIST_PORT@localhost
	XPUSH_EJABBERD_PID="" XPUSH_EJABBERD_EXTERNAL=""
	STACK_PROSODY_PID="" STACK_EJABBERD_PID="" STACK_EJABBERD_EXTERNAL="" STACK_EJABBERD_DIR=""
	STACK_EJABBERD_NODE=$XPUSH_EJABBERD_NODE

	(umask 077 && openssl rand -hex 16 >"$XPUSH_SECRET_FILE") ||
		{ stack_die "could not write $XPUSH_SECRET_FILE"; return 1; }
	chmod 600 "$XPUSH_SECRET_FILE"
	secret=$(<"$XPUSH_SECRET_FILE")

	stack_make_ca "$state" "$XPUSH_DOMAIN" || return 1
	# Write env early (and again below) so stack_stop can clean up a half-started stack.
	stack_write_env "$state" "$build"
	stack_start_pg "$state" "$XPUSH_PGPORT" || { _stack_record; stack_write_env "$state" "$build"; return 1; }
	_stack_record
	stack_write_env "$state" "$build"
	for srv in $XPUSH_SERVERS; do
		case $srv in
		prosody)
			stack_start_prosody "$state" "$XPUSH_PROSODY_C2S_PORT" "$XPUSH_PROSODY_COMPONENT_PORT" \
				"$XPUSH_DOMAIN" "$secret" "$XPUSH_PROSODY_C2S_TLS_PORT" ||
				{ _stack_record; stack_write_env "$state" "$build"; return 1; }
			up+=", Prosody c2s :$XPUSH_PROSODY_C2S_PORT (direct TLS :$XPUSH_PROSODY_C2S_TLS_PORT) component :$XPUSH_PROSODY_COMPONENT_PORT"
			;;
		ejabberd)
			stack_start_ejabberd "$state" "$XPUSH_EJABBERD_C2S_PORT" "$XPUSH_EJABBERD_COMPONENT_PORT" \
				"$XPUSH_EJABBERD_DIST_PORT" "$XPUSH_DOMAIN" "$secret" ||
				{ _stack_record; stack_write_env "$state" "$build"; return 1; }
			up+=", ejabberd c2s :$XPUSH_EJABBERD_C2S_PORT (direct TLS :$XPUSH_EJABBERD_C2S_TLS_PORT) component :$XPUSH_EJABBERD_COMPONENT_PORT"
			;;
		esac
		_stack_record
		stack_write_env "$state" "$build"
	done
	export XPUSH_STATE XPUSH_DOMAIN XPUSH_PGBIN XPUSH_PGDATA XPUSH_PGHOST XPUSH_PGLOG XPUSH_PGPORT XPUSH_PGDB \
		XPUSH_PG_CONNINFO XPUSH_PG_EXTERNAL XPUSH_C2S_PORT XPUSH_COMPONENT_PORT XPUSH_COMPONENT_JID \
		XPUSH_COMPONENT_JIDS XPUSH_SECRET_FILE XPUSH_CA_FILE XPUSH_PROSODY_CFG XPUSH_PROSODY_LOG \
		XPUSH_PG_PID XPUSH_PROSODY_PID XPUSH_SERVERS XPUSH_SERVER XPUSH_PROSODY_C2S_PORT \
		XPUSH_PROSODY_COMPONENT_PORT XPUSH_EJABBERD_C2S_PORT XPUSH_EJABBERD_COMPONENT_PORT \
		XPUSH_EJABBERD_DIST_PORT XPUSH_EJABBERD_DIR XPUSH_EJABBERD_CFG XPUSH_EJABBERD_LOG \
		XPUSH_EJABBERD_NODE XPUSH_EJABBERD_EXTERNAL XPUSH_EJABBERD_PID XPUSH_C2S_TLS_PORT \
		XPUSH_PROSODY_C2S_TLS_PORT XPUSH_EJABBERD_C2S_TLS_PORT
	XPUSH_BUILD=$build
	export XPUSH_BUILD
	stack_log "up in $(python3 -c "import sys; print(f'{float(sys.argv[2]) - float(sys.argv[1]):.1f}')" "$t0" "$(date +%s.%N)") s: Postgres :$XPUSH_PGPORT$up, state $state"
}

_stack_record() {
	XPUSH_PGDATA=${STACK_PGDATA:-}
	XPUSH_PGHOST=${STACK_PGHOST:-}
	XPUSH_PGLOG=${STACK_PGLOG:-}
	XPUSH_PG_EXTERNAL=${STACK_PG_EXTERNAL:-}
	XPUSH_PG_PID=${STACK_PG_PID:-}
	XPUSH_PROSODY_PID=${STACK_PROSODY_PID:-}
	XPUSH_EJABBERD_PID=${STACK_EJABBERD_PID:-}
	XPUSH_EJABBERD_EXTERNAL=${STACK_EJABBERD_EXTERNAL:-}
	if [[ -n ${STACK_EJABBERD_DIR:-} ]]; then
		XPUSH_EJABBERD_DIR=$STACK_EJABBERD_DIR
		XPUSH_EJABBERD_CFG=$XPUSH_EJABBERD_DIR/conf/ejabberd.yml
		XPUSH_EJABBERD_LOG=$XPUSH_EJABBERD_DIR/log/ejabberd.log
	fi
	XPUSH_PG_CONNINFO="host=$XPUSH_PGHOST port=$XPUSH_PGPORT user=xpush dbname=$XPUSH_PGDB"
}

# Stop one pid we started: TERM, bounded wait, then KILL. Only if it is still the same program.
stack_kill_pid() {
	local pid=$1 word=$2 i
	stack_pid_is "$pid" "$word" || return 0
	kill -TERM "$pid" 2>/dev/null || return 0
	for ((i = 0; i < 200; i++)); do
		stack_pid_is "$pid" "$word" || return 0
		sleep 0.05
	done
	stack_log "pid $pid ($word) ignored SIGTERM for 10 s; sending SIGKILL"
	kill -KILL "$pid" 2>/dev/null || true
}

stack_stop() {
	local state=${1:-${XPUSH_STATE:-}}
	[[ -n $state && -f $state/env ]] || return 0
	(
		# shellcheck disable=SC1091
		source "$state/env"
		stack_kill_pid "${XPUSH_PROSODY_PID:-}" prosody
		stack_stop_ejabberd "${XPUSH_EJABBERD_PID:-}" "${XPUSH_EJABBERD_NODE:-}" || true
		if [[ -n ${XPUSH_PGDATA:-} && -f $XPUSH_PGDATA/postmaster.pid ]]; then
			runuser -u postgres -- "$XPUSH_PGBIN/pg_ctl" -D "$XPUSH_PGDATA" -m fast -w -t 30 stop \
				>/dev/null 2>&1 || stack_kill_pid "${XPUSH_PG_PID:-}" postgres
		fi
	)
}

# stack_destroy STATE: stop, then remove STATE (only if it is a stack dir) and the external pg
# and ejabberd dirs.
stack_destroy() {
	local state=$1 ext="" ejext=""
	[[ -n $state && -d $state ]] || return 0
	stack_stop "$state"
	if [[ -f $state/env ]]; then
		ext=$(bash -c 'source "$1/env" && echo "${XPUSH_PG_EXTERNAL:-}"' _ "$state")
		ejext=$(bash -c 'source "$1/env" && echo "${XPUSH_EJABBERD_EXTERNAL:-}"' _ "$state")
	fi
	if [[ -n $ext && $ext == /tmp/xpush-pg.* && -d $ext ]]; then rm -rf "$ext"; fi
	if [[ -n $ejext && $ejext == /tmp/xpush-ejabberd.* && -d $ejext ]]; then rm -rf "$ejext"; fi
	if [[ -f $state/.xpush-state ]]; then rm -rf "$state"; fi
}

# _stack_env_set KEY VALUE: rewrite one export line of $XPUSH_STATE/env (after a restart).
_stack_env_set() {
	local f=$XPUSH_STATE/env
	python3 - "$f" "$1" "$2" <<'EOF2'
import os, shlex, sys
path, key, value = sys.argv[1:]
with open(path) as f:
    lines = f.read().splitlines()
lines = [f"export {key}={shlex.quote(value)}" if l.startswith(f"export {key}=") else l for l in lines]
with open(path + ".tmp", "w") as f:
    f.write("\n".join(lines) + "\n")
os.replace(path + ".tmp", path)
EOF2
}

# stack_prosody_down [SIGNAL]: stop the stack's Prosody (default TERM; KILL for a crash).
# Needs the stack's env in the environment. The env file keeps the old pid until stack_prosody_up.
stack_prosody_down() {
	local sig=${1:-TERM} i
	stack_pid_is "$XPUSH_PROSODY_PID" prosody || { stack_die "Prosody (pid $XPUSH_PROSODY_PID) is not running"; return 1; }
	kill -"$sig" "$XPUSH_PROSODY_PID"
	for ((i = 0; i < 200; i++)); do
		stack_pid_is "$XPUSH_PROSODY_PID" prosody || return 0
		sleep 0.05
	done
	stack_die "Prosody (pid $XPUSH_PROSODY_PID) still runs 10 s after SIG$sig"
}

# stack_prosody_up: start Prosody again with the same config and ports; records the new pid.
stack_prosody_up() {
	local secret
	secret=$(<"$XPUSH_SECRET_FILE")
	stack_start_prosody "$XPUSH_STATE" "${XPUSH_PROSODY_C2S_PORT:-$XPUSH_C2S_PORT}" \
		"${XPUSH_PROSODY_COMPONENT_PORT:-$XPUSH_COMPONENT_PORT}" "$XPUSH_DOMAIN" "$secret" \
		"${XPUSH_PROSODY_C2S_TLS_PORT:-}" || return 1
	XPUSH_PROSODY_PID=$STACK_PROSODY_PID
	export XPUSH_PROSODY_PID
	_stack_env_set XPUSH_PROSODY_PID "$XPUSH_PROSODY_PID"
}

# stack_ejabberd_down [SIGNAL]: stop the stack's ejabberd (its beam.smp; default TERM, a clean
# stop in ~1 s; KILL for a crash). The env file keeps the old pid until stack_ejabberd_up.
# A crash test crashes the server, not the accounts it set up: before any signal, the accounts
# stack_add_user created are waited for on disk (mnesia logs commits asynchronously, ~2 s;
# see stack_account_durable), so a SIGKILL right after new_user does not lose them.
stack_ejabberd_down() {
	local sig=${1:-TERM} pid=$XPUSH_EJABBERD_PID node=$XPUSH_EJABBERD_NODE i u
	local fresh=$XPUSH_EJABBERD_DIR/accounts.new
	stack_pid_is "$pid" "$node" || { stack_die "ejabberd (pid $pid) is not running"; return 1; }
	if [[ -s $fresh ]]; then
		while IFS= read -r u; do
			for ((i = 0; i < 100; i++)); do
				grep -rqF -- "$u" "$XPUSH_EJABBERD_DIR/spool" 2>/dev/null && break
				sleep 0.05
			done
		done <"$fresh"
		rm -f "$fresh"
	fi
	kill -"$sig" "$pid"
	for ((i = 0; i < 200; i++)); do
		stack_pid_is "$pid" "$node" || return 0
		sleep 0.05
	done
	stack_die "ejabberd (pid $pid) still runs 10 s after SIG$sig"
}

# stack_ejabberd_up: start ejabberd again (same config, spool, node and ports); records the pid.
stack_ejabberd_up() {
	local secret
	secret=$(<"$XPUSH_SECRET_FILE")
	STACK_EJABBERD_NODE=$XPUSH_EJABBERD_NODE
	stack_start_ejabberd "$XPUSH_STATE" "$XPUSH_EJABBERD_C2S_PORT" "$XPUSH_EJABBERD_COMPONENT_PORT" \
		"$XPUSH_EJABBERD_DIST_PORT" "$XPUSH_DOMAIN" "$secret" || return 1
	XPUSH_EJABBERD_PID=$STACK_EJABBERD_PID
	export XPUSH_EJABBERD_PID
	_stack_env_set XPUSH_EJABBERD_PID "$XPUSH_EJABBERD_PID"
}

# stack_server_down [SIGNAL] / stack_server_up: the same for the selected server ($XPUSH_SERVER).
stack_server_down() {
	case ${XPUSH_SERVER:-prosody} in
	ejabberd) stack_ejabberd_down "$@" ;;
	*) stack_prosody_down "$@" ;;
	esac
}

stack_server_up() {
	case ${XPUSH_SERVER:-prosody} in
	ejabberd) stack_ejabberd_up ;;
	*) stack_prosody_up ;;
	esac
}

# stack_server_log: the log file of the selected server.
stack_server_log() {
	case ${XPUSH_SERVER:-prosody} in
	ejabberd) echo "$XPUSH_EJABBERD_LOG" ;;
	*) echo "$XPUSH_PROSODY_LOG" ;;
	esac
}

# stack_pg_restart: pg_ctl restart -m fast (every session is cut); records the new pid.
stack_pg_restart() {
	runuser -u postgres -- "$XPUSH_PGBIN/pg_ctl" -D "$XPUSH_PGDATA" -l "$XPUSH_PGLOG" \
		-m fast -w -t 60 restart >>"$XPUSH_STATE/pg_ctl.log" 2>&1 ||
		{ stack_die "pg_ctl restart failed (see $XPUSH_STATE/postgres.log)"; return 1; }
	XPUSH_PG_PID=$(head -n 1 "$XPUSH_PGDATA/postmaster.pid")
	export XPUSH_PG_PID
	_stack_env_set XPUSH_PG_PID "$XPUSH_PG_PID"
}

stack_psql() {
	local db=$1
	shift
	"$XPUSH_PGBIN/psql" -X -q -v ON_ERROR_STOP=1 -h "$XPUSH_PGHOST" -p "$XPUSH_PGPORT" -U xpush -d "$db" "$@"
}

stack_conninfo() {
	echo "host=$XPUSH_PGHOST port=$XPUSH_PGPORT user=xpush dbname=$1"
}

stack_create_db() {
	stack_psql postgres -c "CREATE DATABASE \"$1\" OWNER xpush" >/dev/null ||
		{ stack_die "could not create database $1"; return 1; }
}

# stack_add_user USER PASSWORD: an account on the selected server ($XPUSH_SERVER). A caller
# that points XPUSH_PROSODY_CFG at a Prosody of its own gets the account there, whatever the server.
stack_add_user() {
	local user=$1 pass=$2 out
	if [[ ${XPUSH_SERVER:-prosody} == ejabberd && ${XPUSH_PROSODY_CFG:-} == "${XPUSH_STATE:-}/prosody/prosody.cfg.lua" ]]; then
		out=$(stack_ejabberdctl register "$user" "$XPUSH_DOMAIN" "$pass" 2>&1) ||
			{ stack_die "ejabberdctl register $user failed: $out"; return 1; }
		echo "$user" >>"$XPUSH_EJABBERD_DIR/accounts.new" # waited for by stack_ejabberd_down
		return 0
	fi
	out=$(prosodyctl --config "$XPUSH_PROSODY_CFG" register "$user" "$XPUSH_DOMAIN" "$pass" 2>&1) ||
		{ stack_die "prosodyctl register $user failed: $out"; return 1; }
}

# stack_account_durable USER: USER's account would survive a SIGKILL of the selected server.
# Prosody writes an account file at once. ejabberd logs a mnesia commit asynchronously (the
# disk_log cache reaches LATEST.LOG within ~2 s), and an account created just before a crash is
# gone after it: crash tests wait until the spool holds the name.
stack_account_durable() {
	[[ ${XPUSH_SERVER:-prosody} == ejabberd ]] || return 0
	grep -rqF -- "$1" "$XPUSH_EJABBERD_DIR/spool" 2>/dev/null
}

# stack_write_xpushd_config FILE DBNAME [key=value]...: a pair replaces the default of its key
# (component_jid, component_secret_file, server_host, server_port, pg_conninfo) or is appended.
stack_write_xpushd_config() {
	local file=$1 db=$2 kv k
	shift 2
	local -a keys=(component_jid component_secret_file server_host server_port pg_conninfo)
	local -A val=(
		[component_jid]=$XPUSH_COMPONENT_JID
		[component_secret_file]=$XPUSH_SECRET_FILE
		[server_host]=127.0.0.1
		[server_port]=$XPUSH_COMPONENT_PORT
		[pg_conninfo]=$(stack_conninfo "$db")
	)
	for kv in "$@"; do
		k=${kv%%=*}
		[[ -v "val[$k]" ]] || keys+=("$k")
		val[$k]=${kv#*=}
	done
	{
		echo "# xpushd config written by scripts/lib/stack.sh"
		for k in "${keys[@]}"; do
			echo "$k = ${val[$k]}"
		done
	} >"$file"
}

# ---- fault tests (tests/e2e/6*_*.sh) -------------------------------------------------------------

# stack_pg_crash_restart: Postgres stopped with pg_ctl -m immediate (every process quits at
# once, no shutdown checkpoint: the next start runs crash recovery, as after a power cut), then
# started again on the same port; records the new pid.
stack_pg_crash_restart() {
	runuser -u postgres -- "$XPUSH_PGBIN/pg_ctl" -D "$XPUSH_PGDATA" -m immediate -w -t 60 stop \
		>>"$XPUSH_STATE/pg_ctl.log" 2>&1 ||
		{ stack_die "pg_ctl stop -m immediate failed (see $XPUSH_STATE/pg_ctl.log)"; return 1; }
	runuser -u postgres -- "$XPUSH_PGBIN/pg_ctl" -D "$XPUSH_PGDATA" -l "$XPUSH_PGLOG" -w -t 60 start \
		>>"$XPUSH_STATE/pg_ctl.log" 2>&1 ||
		{ stack_die "Postgres did not start after an immediate stop (see $XPUSH_PGLOG)"; return 1; }
	XPUSH_PG_PID=$(head -n 1 "$XPUSH_PGDATA/postmaster.pid")
	export XPUSH_PG_PID
	_stack_env_set XPUSH_PG_PID "$XPUSH_PG_PID"
}
