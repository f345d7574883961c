# shellcheck shell=bash
# tests/e2e/pg_lib.sh: helpers of the tests that put something between producers and Postgres or
# run more than one Postgres (pgbouncer, streaming replication and failover), sourced after lib.sh.
#
#   pg_own_dir NAME                  print a fresh dir user postgres may write (T_DIR/NAME, or a
#                                    /tmp dir of its own when postgres cannot reach T_DIR)
#   pgbouncer_start NAME MODE [DB_HOST DB_PORT] [ini line]...
#                                    Debian's pgbouncer as user postgres on a free port in front
#                                    of the stack's Postgres (or DB_HOST:DB_PORT), pool_mode MODE,
#                                    auth trust (the stack's Postgres trusts loopback); sets
#                                    PGB_PORT[NAME]
#   pgb_conninfo NAME                the conninfo of this test's database through that pgbouncer
#   pgb_admin NAME COMMAND           a pgbouncer console command (SHOW POOLS, ...), rows by '|'
#   produce_keyed CONNINFO PREFIX N DEV_JID DEVICE...
#                                    a producer: N pushes, each one autocommit INSERT with a
#                                    dedup_key through CONNINFO, retried after an error with the
#                                    same key (ON CONFLICT ... DO NOTHING); one line per push:
#                                      ok ID DEVICE KEY [retried]  committed, with its id
#                                      dedup KEY DEVICE            a retry found the key committed
#                                                               (look the id up after the test)
#                                      gaveup KEY               no success within XPUSH_RETRY_S (60 s)
#   settle_dedup FILE CONNINFO       turn FILE's "dedup KEY DEVICE" lines into "ok ID DEVICE"
#   psql_at CONNINFO [psql args]     psql on any conninfo (unaligned, tuples only)
#
# Processes go through T_PIDS, so lib.sh's cleanup stops exactly these pids.

declare -A PGB_PORT=()
PG_OWN_DIRS=()

pg_own_dir() {
	local d=$T_DIR/$1
	mkdir -p "$d"
	chown postgres:postgres "$d"
	chmod 700 "$d"
	if ! runuser -u postgres -- test -w "$d" 2>/dev/null; then
		rmdir "$d"
		d=$(mktemp -d "/tmp/xpush-e2e-$1.XXXXXX")
		chown postgres:postgres "$d"
		chmod 700 "$d"
		ln -s "$d" "$T_DIR/$1"
		PG_OWN_DIRS+=("$d")
	fi
	echo "$d"
}

pgbouncer_start() {
	local name=$1 mode=$2 host=127.0.0.1 port=$XPUSH_PGPORT dir line
	shift 2
	if [[ ${1:-} != *=* && $# -ge 2 ]]; then
		host=$1 port=$2
		shift 2
	fi
	command -v pgbouncer >/dev/null || fail "pgbouncer is not installed (apt-get install pgbouncer)"
	dir=$(pg_own_dir "$name")
	PGB_PORT[$name]=$(stack_free_ports 1)
	printf '"xpush" ""\n' >"$dir/userlist.txt"
	{
		echo "[databases]"
		echo "* = host=$host port=$port"
		echo "[pgbouncer]"
		echo "listen_addr = 127.0.0.1"
		echo "listen_port = ${PGB_PORT[$name]}"
		echo "unix_socket_dir ="
		echo "auth_type = trust"
		echo "auth_file = $dir/userlist.txt"
		echo "admin_users = xpush"
		echo "pool_mode = $mode"
		echo "max_client_conn = 500"
		echo "logfile = $dir/pgbouncer.log"
		echo "pidfile ="
		for line in "$@"; do echo "$line"; done
	} >"$dir/pgbouncer.ini"
	chown postgres:postgres "$dir"/*
	# setpriv execs pgbouncer (it refuses to run as root), so the pid is pgbouncer's own.
	setpriv --reuid=postgres --regid=postgres --init-groups -- \
		pgbouncer "$dir/pgbouncer.ini" </dev/null >>"$T_DIR/$name.log" 2>&1 &
	T_PIDS[$name]=$!
	wait_for 10 "pgbouncer $name to listen on ${PGB_PORT[$name]}" stack_port_open "${PGB_PORT[$name]}"
	log "pgbouncer $name (pool_mode $mode) on :${PGB_PORT[$name]} in front of $host:$port, pid ${T_PIDS[$name]}"
}

pgb_conninfo() {
	echo "host=127.0.0.1 port=${PGB_PORT[$1]} user=xpush dbname=$T_DB"
}

pgb_admin() {
	"$XPUSH_PGBIN/psql" -X -A -t -q -h 127.0.0.1 -p "${PGB_PORT[$1]}" -U xpush -d pgbouncer -c "$2"
}

# psql_at CONNINFO [psql args]: psql on any conninfo (unaligned, tuples only, stop on error).
psql_at() {
	local ci=$1
	shift
	"$XPUSH_PGBIN/psql" -X -A -t -q -v ON_ERROR_STOP=1 -d "$ci" "$@"
}

_keyed_insert() {
	psql_at "$1" -v app="$T_APP" -v jid="$2" -v dev="$3" -v title="$4" -v key="$4" <<'SQL'
INSERT INTO push.notifications (app, to_jid, to_device, title, dedup_key)
VALUES (:'app', :'jid', :'dev', :'title', :'key')
ON CONFLICT (producer, app, dedup_key) WHERE dedup_key IS NOT NULL DO NOTHING RETURNING id;
SQL
}

produce_keyed() {
	local ci=$1 prefix=$2 n=$3 jid=$4 i dev rc id key
	shift 4
	local devs=("$@")
	for ((i = 1; i <= n; i++)); do
		dev=${devs[i % ${#devs[@]}]}
		key="$prefix-$i"
		rc=0
		id=$(PGCONNECT_TIMEOUT=3 _keyed_insert "$ci" "$jid" "$dev" "$key" 2>>"$T_DIR/$prefix.err") || rc=$?
		if ((rc == 0)) && [[ $id =~ ^[0-9]+$ ]]; then
			echo "ok $id $dev $key"
			continue
		fi
		# The outcome is unknown (the connection died around the commit): the same key again.
		local deadline=$(($(now_ms) + ${XPUSH_RETRY_S:-60} * 1000))
		while (($(now_ms) < deadline)); do
			rc=0
			id=$(PGCONNECT_TIMEOUT=3 _keyed_insert "$ci" "$jid" "$dev" "$key" 2>>"$T_DIR/$prefix.err") || rc=$?
			if ((rc == 0)); then
				if [[ -n $id ]]; then echo "ok $id $dev $key retried"; else echo "dedup $key $dev"; fi
				break
			fi
			sleep 0.1 # a producer's retry pace while the database is away, not synchronisation
		done
		((rc == 0)) || echo "gaveup $key"
	done
}

settle_dedup() {
	local f=$1 ci=$2 kind a dev rest id
	while read -r kind a dev rest; do
		if [[ $kind == dedup ]]; then
			id=$(psql_at "$ci" -c "SELECT id FROM push.notifications WHERE app = '$T_APP' AND dedup_key = '$a'")
			[[ -n $id ]] || fail "dedup key $a: a retry said it was committed, but no push has it"
			echo "ok $id $dev $a dedup"
		else
			echo "$kind $a $dev $rest"
		fi
	done <"$f" >"$f.settled"
	mv "$f.settled" "$f"
}

_pg_lib_cleanup() {
	local d
	for d in "${PG_OWN_DIRS[@]}"; do
		[[ $d == /tmp/xpush-e2e-* && -d $d ]] && rm -rf "$d"
	done
	return 0
}
E2E_CLEANUP+=(_pg_lib_cleanup)

# ---- a primary and a streaming standby (failover tests) ------------------------------------------
#   pgpair_start NAME MODE          a primary and a standby (pg_basebackup, streaming) of their
#                                   own, TCP on 127.0.0.1 only; MODE sync: the standby is
#                                   synchronous (synchronous_standby_names, synchronous_commit on),
#                                   async: it is not. Role xpush and this test's database exist on
#                                   both. Sets PAIR_PORT[NAME.primary], PAIR_PORT[NAME.standby],
#                                   PAIR_DATA[...] the same way.
#   pair_conninfo NAME ORDER...     a multi-host conninfo over the listed members (primary,
#                                   standby, and "dead": a host that never answers, see
#                                   dead_host_start) with target_session_attrs=read-write,
#                                   connect_timeout=2 and tcp_user_timeout=2000
#   dead_host_start NAME            a port whose listen queue is full, so that a connection
#                                   attempt gets no answer at all (its SYNs are dropped), like a
#                                   host that vanished; sets PAIR_PORT[NAME.dead]
#   pair_psql NAME MEMBER [args]    psql as xpush on one member's copy of this test's database
#   pair_stop NAME MEMBER MODE      pg_ctl stop -m MODE (immediate: a crash, no checkpoint)
#   pair_promote NAME MEMBER        pg_ctl promote -w (the standby becomes a primary)
#   pair_walsender NAME             the pid of the primary's WAL sender to the standby (SIGSTOP
#                                   freezes replication: a standby that falls behind)
#   pair_crash_frozen NAME PID      immediate stop of the primary whose WAL sender PID is frozen:
#                                   the stop is asked for first, then PID resumes only to die of
#                                   it, so nothing more reaches the standby
declare -A PAIR_PORT=() PAIR_DATA=()
PAIR_ALL=()

_pair_ctl() {
	runuser -u postgres -- "$XPUSH_PGBIN/pg_ctl" "$@"
}

pgpair_start() {
	local name=$1 mode=$2 dir p s
	dir=$(pg_own_dir "$name")
	read -r p s < <(stack_free_ports 2)
	PAIR_PORT[$name.primary]=$p PAIR_PORT[$name.standby]=$s
	PAIR_DATA[$name.primary]=$dir/primary PAIR_DATA[$name.standby]=$dir/standby
	runuser -u postgres -- "$XPUSH_PGBIN/initdb" -D "$dir/primary" -U postgres --auth=trust -E UTF8 \
		--locale=C --no-sync >"$T_DIR/$name.initdb.log" 2>&1 || fail "initdb failed ($T_DIR/$name.initdb.log)"
	cat >>"$dir/primary/postgresql.conf" <<CONF
listen_addresses = '127.0.0.1'
port = $p
unix_socket_directories = ''
max_connections = 60
shared_buffers = 32MB
max_wal_senders = 4
wal_keep_size = 128MB
synchronous_commit = on
log_min_messages = warning
timezone = 'UTC'
CONF
	PAIR_ALL+=("$dir/primary")
	_pair_ctl -D "$dir/primary" -l "$dir/primary.log" -w -t 60 start >/dev/null ||
		fail "the primary did not start ($dir/primary.log)"
	"$XPUSH_PGBIN/psql" -X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$p" -U postgres -d postgres \
		-c "CREATE ROLE xpush SUPERUSER LOGIN" -c "CREATE DATABASE \"$T_DB\" OWNER xpush" >/dev/null ||
		fail "could not create role and database on the primary"
	runuser -u postgres -- "$XPUSH_PGBIN/pg_basebackup" -h 127.0.0.1 -p "$p" -U postgres \
		-D "$dir/standby" -X stream --checkpoint=fast >"$T_DIR/$name.basebackup.log" 2>&1 ||
		fail "pg_basebackup failed ($T_DIR/$name.basebackup.log)"
	cat >>"$dir/standby/postgresql.conf" <<CONF
port = $s
primary_conninfo = 'host=127.0.0.1 port=$p user=postgres application_name=standby'
CONF
	runuser -u postgres -- touch "$dir/standby/standby.signal"
	PAIR_ALL+=("$dir/standby")
	_pair_ctl -D "$dir/standby" -l "$dir/standby.log" -w -t 60 start >/dev/null ||
		fail "the standby did not start ($dir/standby.log)"
	local want=async
	if [[ $mode == sync ]]; then
		# Only now: with a synchronous standby named, every commit waits for it.
		want=sync
		"$XPUSH_PGBIN/psql" -X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$p" -U postgres -d postgres \
			-c "ALTER SYSTEM SET synchronous_standby_names = 'standby'" -c "SELECT pg_reload_conf()" >/dev/null ||
			fail "could not make the standby synchronous"
	fi
	wait_for 30 "the standby streaming ($want) from the primary" pair_psql_is "$name" primary "$want" \
		"SELECT sync_state FROM pg_stat_replication WHERE application_name = 'standby' AND state = 'streaming'"
	log "pair $name ($mode): primary :$p, standby :$s"
}

pair_conninfo() {
	local name=$1 m hosts=() ports=()
	shift
	for m in "$@"; do
		hosts+=(127.0.0.1)
		ports+=("${PAIR_PORT[$name.$m]}")
	done
	local IFS=,
	# tcp_user_timeout: libpq's connect_timeout binds only blocking connects; xpushd connects
	# asynchronously, and without it an unanswered host holds each attempt for the kernel's SYN
	# retries (about two minutes) before libpq tries the next host.
	echo "host=${hosts[*]} port=${ports[*]} user=xpush dbname=$T_DB target_session_attrs=read-write connect_timeout=2 tcp_user_timeout=2000"
}

dead_host_start() {
	local name=$1
	python3 -c '
import socket, sys, time
s = socket.socket()
s.bind(("127.0.0.1", 0))
s.listen(0)
port = s.getsockname()[1]
held = []
for _ in range(3):  # fill the accept queue: later SYNs are dropped, unanswered
    c = socket.socket()
    c.setblocking(False)
    c.connect_ex(("127.0.0.1", port))
    held.append(c)
print(port, flush=True)
time.sleep(3600)
' >"$T_DIR/$name.dead.port" </dev/null &
	T_PIDS[$name.dead]=$!
	wait_for 5 "the dead host's port" test -s "$T_DIR/$name.dead.port"
	PAIR_PORT[$name.dead]=$(<"$T_DIR/$name.dead.port")
}

pair_psql() {
	local name=$1 m=$2
	shift 2
	"$XPUSH_PGBIN/psql" -X -A -t -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "${PAIR_PORT[$name.$m]}" -U xpush \
		-d "$T_DB" "$@"
}

pair_psql_is() {
	local out
	out=$(pair_psql "$1" "$2" -c "$4" 2>/dev/null) || return 1
	[[ $out == "$3" ]]
}

pair_stop() {
	_pair_ctl -D "${PAIR_DATA[$1.$2]}" -m "$3" -w -t 60 stop >/dev/null || fail "pg_ctl stop -m $3 of $1 $2 failed"
}

pair_promote() {
	_pair_ctl -D "${PAIR_DATA[$1.$2]}" -w -t 60 promote >/dev/null || fail "pg_ctl promote of $1 $2 failed"
}

pair_walsender() {
	pair_psql "$1" primary -c "SELECT pid FROM pg_stat_replication WHERE application_name = 'standby'"
}

pair_crash_frozen() {
	local name=$1 pid=$2 ctl
	_pair_ctl -D "${PAIR_DATA[$name.primary]}" -m immediate -w -t 60 stop >/dev/null 2>&1 &
	ctl=$!
	wait_for 10 "the primary to take the immediate stop" \
		grep -q 'received immediate shutdown request' "${PAIR_DATA[$name.primary]}.log"
	kill -CONT "$pid"
	wait "$ctl" || fail "pg_ctl stop -m immediate of the $name primary failed"
}

_pair_cleanup() {
	local d
	for d in "${PAIR_ALL[@]}"; do
		[[ -f $d/postmaster.pid ]] || continue
		_pair_ctl -D "$d" -m immediate -w -t 30 stop >/dev/null 2>&1 || true
	done
	return 0
}
E2E_CLEANUP=(_pair_cleanup "${E2E_CLEANUP[@]}")
