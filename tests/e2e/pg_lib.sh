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
#                                      ok ID DEVICE [retried]   committed, with its id
#                                      dedup KEY DEVICE         a retry found the key committed
#                                                               (look the id up after the test)
#                                      gaveup KEY               no success within the retries
#   settle_dedup FILE CONNINFO       turn FILE's "dedup KEY DEVICE" lines into "ok ID DEVICE"
#   psql_at CONNINFO [psql args]     psql on any conninfo (unaligned, tuples only)
#
# Processes go through T_PIDS, so lib.sh's cleanup stops exactly these pids.

declare -A PGB_PORT=() PGB_DIR=()
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
	PGB_DIR[$name]=$dir
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
	local ci=$1 prefix=$2 n=$3 jid=$4 i dev rc id tries key
	shift 4
	local devs=("$@")
	for ((i = 1; i <= n; i++)); do
		dev=${devs[i % ${#devs[@]}]}
		key="$prefix-$i"
		rc=0
		id=$(PGCONNECT_TIMEOUT=3 _keyed_insert "$ci" "$jid" "$dev" "$key" 2>>"$T_DIR/$prefix.err") || rc=$?
		if ((rc == 0)) && [[ $id =~ ^[0-9]+$ ]]; then
			echo "ok $id $dev"
			continue
		fi
		# The outcome is unknown (the connection died around the commit): the same key again.
		for ((tries = 0; tries < 200; tries++)); do
			rc=0
			id=$(PGCONNECT_TIMEOUT=3 _keyed_insert "$ci" "$jid" "$dev" "$key" 2>>"$T_DIR/$prefix.err") || rc=$?
			if ((rc == 0)); then
				if [[ -n $id ]]; then echo "ok $id $dev retried"; else echo "dedup $key $dev"; fi
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
			echo "ok $id $dev dedup"
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
