# shellcheck shell=bash
# scripts/lib/stack.sh: a throwaway xpush stack under one STATE dir, for the demo and the tests.
#
# Sourced, not run. Everything listens on 127.0.0.1 on free ports: a local CA and a certificate
# for xpush.test, an embedded Postgres cluster (initdb in STATE, run as user postgres because
# Postgres refuses root) and Prosody with a generated config (run_as_root, TLS required,
# registration throttle and rate limits off, components push/push2/push3.xpush.test).
# Processes run in the background, are recorded by pid in STATE/env and are stopped only by
# those pids (stack_stop). Nothing here touches a system-wide service or a port it did not pick.
#
#   stack_start STATE [BUILD_DIR]    build the stack, write STATE/env (sourceable)
#   stack_stop STATE                 stop what stack_start started (idempotent)
#   stack_add_user USER PASSWORD     create an XMPP account (needs STATE/env sourced or the vars)
#   stack_create_db NAME             create a database owned by role xpush
#   stack_write_xpushd_config FILE DBNAME [key=value]...
#   stack_free_ports N               print N distinct free TCP ports on 127.0.0.1
#   stack_psql DBNAME [psql args]    psql on the stack as role xpush
#   stack_prosody_down [SIG] / stack_prosody_up / stack_pg_restart   crash and restart tests

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
EOF
	runuser -u postgres -- "$pgbin/pg_ctl" -D "$STACK_PGDATA" -l "$STACK_PGLOG" -w -t 60 start \
		>"$state/pg_ctl.log" 2>&1 ||
		{ stack_die "Postgres did not start (see $state/postgres.log)"; tail -n 20 "$state/postgres.log" >&2; return 1; }
	STACK_PG_PID=$(head -n 1 "$STACK_PGDATA/postmaster.pid")
	"$pgbin/psql" -X -q -v ON_ERROR_STOP=1 -h "$STACK_PGHOST" -p "$port" -U postgres -d postgres \
		-c "CREATE ROLE xpush SUPERUSER LOGIN" -c "CREATE DATABASE xpush OWNER xpush" >/dev/null ||
		{ stack_die "could not create role/database xpush"; return 1; }
}

stack_write_prosody_config() {
	local state=$1 c2s=$2 comp=$3 domain=$4 secret=$5 dir=$1/prosody c
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
component_ports = { $comp }
component_interfaces = { "127.0.0.1" }
-- No federation, no HTTP: nothing listens beyond the two ports above.
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
	} >"$dir/prosody.cfg.lua"
}

stack_start_prosody() {
	local state=$1 c2s=$2 comp=$3 domain=$4 secret=$5 dir=$1/prosody i
	command -v prosody >/dev/null || { stack_die "prosody is not installed"; return 1; }
	mkdir -p "$dir/data"
	chmod 700 "$dir"
	stack_write_prosody_config "$state" "$c2s" "$comp" "$domain" "$secret"
	# -F: stay in the foreground (the 'daemonize' option is deprecated in 0.12).
	prosody --config "$dir/prosody.cfg.lua" -F >"$dir/stdout.log" 2>&1 </dev/null &
	STACK_PROSODY_PID=$!
	for ((i = 0; i < 300; i++)); do
		if ! kill -0 "$STACK_PROSODY_PID" 2>/dev/null; then
			stack_die "Prosody exited during start (see $dir/prosody.log)"
			tail -n 20 "$dir/stdout.log" "$dir/prosody.log" >&2 2>/dev/null
			return 1
		fi
		if stack_port_open "$c2s" && stack_port_open "$comp"; then return 0; fi
		sleep 0.05
	done
	stack_die "Prosody did not open ports $c2s/$comp within 15 s (see $dir/prosody.log)"
	return 1
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
		printf 'export XPUSH_C2S_PORT=%q\n' "$XPUSH_C2S_PORT"
		printf 'export XPUSH_COMPONENT_PORT=%q\n' "$XPUSH_COMPONENT_PORT"
		printf 'export XPUSH_COMPONENT_JID=%q\n' "$XPUSH_COMPONENT_JID"
		printf 'export XPUSH_COMPONENT_JIDS=%q\n' "$XPUSH_COMPONENT_JIDS"
		printf 'export XPUSH_SECRET_FILE=%q\n' "$XPUSH_SECRET_FILE"
		printf 'export XPUSH_CA_FILE=%q\n' "$XPUSH_CA_FILE"
		printf 'export XPUSH_PROSODY_CFG=%q\n' "$XPUSH_PROSODY_CFG"
		printf 'export XPUSH_PROSODY_LOG=%q\n' "$XPUSH_PROSODY_LOG"
		printf 'export XPUSH_PG_PID=%q\n' "$XPUSH_PG_PID"
		printf 'export XPUSH_PROSODY_PID=%q\n' "$XPUSH_PROSODY_PID"
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

	read -r XPUSH_PGPORT XPUSH_C2S_PORT XPUSH_COMPONENT_PORT < <(stack_free_ports 3) ||
		{ stack_die "could not find free ports"; return 1; }
	[[ -n ${XPUSH_COMPONENT_PORT:-} ]] || { stack_die "could not find free ports (python3 missing?)"; return 1; }
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
	stack_start_prosody "$state" "$XPUSH_C2S_PORT" "$XPUSH_COMPONENT_PORT" "$XPUSH_DOMAIN" "$secret" ||
		{ _stack_record; stack_write_env "$state" "$build"; return 1; }
	_stack_record
	stack_write_env "$state" "$build"
	export XPUSH_STATE XPUSH_DOMAIN XPUSH_PGBIN XPUSH_PGDATA XPUSH_PGHOST XPUSH_PGLOG XPUSH_PGPORT XPUSH_PGDB \
		XPUSH_PG_CONNINFO XPUSH_PG_EXTERNAL XPUSH_C2S_PORT XPUSH_COMPONENT_PORT XPUSH_COMPONENT_JID \
		XPUSH_COMPONENT_JIDS XPUSH_SECRET_FILE XPUSH_CA_FILE XPUSH_PROSODY_CFG XPUSH_PROSODY_LOG \
		XPUSH_PG_PID XPUSH_PROSODY_PID
	XPUSH_BUILD=$build
	export XPUSH_BUILD
	stack_log "up in $(python3 -c "import sys; print(f'{float(sys.argv[2]) - float(sys.argv[1]):.1f}')" "$t0" "$(date +%s.%N)") s: Postgres :$XPUSH_PGPORT, Prosody c2s :$XPUSH_C2S_PORT component :$XPUSH_COMPONENT_PORT, state $state"
}

_stack_record() {
	XPUSH_PGDATA=${STACK_PGDATA:-}
	XPUSH_PGHOST=${STACK_PGHOST:-}
	XPUSH_PGLOG=${STACK_PGLOG:-}
	XPUSH_PG_EXTERNAL=${STACK_PG_EXTERNAL:-}
	XPUSH_PG_PID=${STACK_PG_PID:-}
	XPUSH_PROSODY_PID=${STACK_PROSODY_PID:-}
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
		if [[ -n ${XPUSH_PGDATA:-} && -f $XPUSH_PGDATA/postmaster.pid ]]; then
			runuser -u postgres -- "$XPUSH_PGBIN/pg_ctl" -D "$XPUSH_PGDATA" -m fast -w -t 30 stop \
				>/dev/null 2>&1 || stack_kill_pid "${XPUSH_PG_PID:-}" postgres
		fi
	)
}

# stack_destroy STATE: stop, then remove STATE (only if it is a stack dir) and the external pg dir.
stack_destroy() {
	local state=$1 ext=""
	[[ -n $state && -d $state ]] || return 0
	stack_stop "$state"
	if [[ -f $state/env ]]; then
		ext=$(bash -c 'source "$1/env" && echo "${XPUSH_PG_EXTERNAL:-}"' _ "$state")
	fi
	if [[ -n $ext && $ext == /tmp/xpush-pg.* && -d $ext ]]; then rm -rf "$ext"; fi
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
	stack_start_prosody "$XPUSH_STATE" "$XPUSH_C2S_PORT" "$XPUSH_COMPONENT_PORT" "$XPUSH_DOMAIN" "$secret" || return 1
	XPUSH_PROSODY_PID=$STACK_PROSODY_PID
	export XPUSH_PROSODY_PID
	_stack_env_set XPUSH_PROSODY_PID "$XPUSH_PROSODY_PID"
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

stack_add_user() {
	local user=$1 pass=$2 out
	out=$(prosodyctl --config "$XPUSH_PROSODY_CFG" register "$user" "$XPUSH_DOMAIN" "$pass" 2>&1) ||
		{ stack_die "prosodyctl register $user failed: $out"; return 1; }
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
