#!/usr/bin/env bash
# Private PostgreSQL 15 and Redis 7 for `make run` and `make test`.
#
#   scripts/services.sh start DIR PGPORT REDISPORT
#   scripts/services.sh stop DIR
#   scripts/services.sh purge DIR     stop, then delete DIR and all its data
#
# Both listen on 127.0.0.1 only. PostgreSQL: a cluster in DIR/pg (user
# `billow`, trust auth, database `billow`), log in DIR/pg.log. Redis: data in
# DIR/redis (append-only, fsync every second, no RDB snapshots), pid in
# DIR/redis.pid, log in DIR/redis.log. A PGPORT or REDISPORT of "-" skips
# that service. BILLOW_FAST_PG=1 turns off fsync and friends (tests only).
#
# `start` reuses instances that are already running and waits (at most
# ~30 s each) until they answer. `stop` never fails because something isn't
# running.
#
# PostgreSQL refuses to run as root. As root, the cluster is owned by and run
# as the `postgres` system user (from the postgresql package), DIR is made
# traversable, and the Unix socket goes to DIR/pgsock (postgres-owned)
# instead of DIR. If `postgres` still can't reach DIR (say DIR is under
# /root), the cluster lives in /var/lib/postgresql/billow/<hash of DIR> and
# DIR/pg and DIR/pg.log are symlinks to it. A socket directory whose path is
# too long for a Unix socket is replaced by one made with mktemp under /tmp,
# recorded in DIR/pg.sockdir.
set -euo pipefail

PGBIN=/usr/lib/postgresql/15/bin
WAIT_S=30
POLL_S=0.2

say() { printf 'services: %s\n' "$*"; }
die() { printf 'services: error: %s\n' "$*" >&2; exit 1; }

usage() {
	cat >&2 <<'EOF'
usage: services.sh start DIR PGPORT REDISPORT
       services.sh stop DIR
       services.sh purge DIR
EOF
	exit 2
}

is_root() { [ "$(id -u)" -eq 0 ]; }

# Runs a command as the user who owns the cluster.
as_pg() {
	if is_root; then
		# From / so that a working directory postgres can't read is moot.
		(cd / && runuser -u postgres -- "$@")
	else
		"$@"
	fi
}

check_port() {
	case $1 in
	-) return 0 ;;
	'' | *[!0-9]*) die "bad port: '$1'" ;;
	esac
	if [ "$1" -lt 1 ] || [ "$1" -gt 65535 ]; then
		die "bad port: $1"
	fi
}

# Prints the last lines of a log file to stderr, if there is one.
show_log() {
	if [ -r "$1" ]; then
		printf -- '--- last lines of %s ---\n' "$1" >&2
		tail -n 30 "$1" >&2 || true
	fi
}

# Sets PGDATA, PGLOG, SOCKREC and (for a fresh start) PGBASE for DIR.
pg_paths() {
	SOCKREC=$DIR/pg.sockdir
	if [ -L "$DIR/pg" ]; then
		# Relocated cluster (see the header).
		PGDATA=$(readlink -f "$DIR/pg")
		PGBASE=$(dirname "$PGDATA")
	else
		PGDATA=$DIR/pg
		PGBASE=$DIR
	fi
	PGLOG=$PGBASE/pg.log
}

# --- PostgreSQL --------------------------------------------------------------

pg_running() {
	[ -f "$PGDATA/PG_VERSION" ] &&
	    as_pg "$PGBIN/pg_ctl" status -D "$PGDATA" >/dev/null 2>&1
}

pg_ready() {
	"$PGBIN/pg_isready" -q -h 127.0.0.1 -p "$1" -U billow -d postgres \
	    -t 2 >/dev/null 2>&1
}

# Chooses where the cluster lives when it is first created (as root).
pg_place() {
	local hash
	PGBASE=$DIR
	if is_root; then
		chmod a+x "$DIR"
		if ! runuser -u postgres -- test -x "$DIR"; then
			hash=$(printf '%s' "$DIR" | sha256sum | cut -c1-16)
			PGBASE=/var/lib/postgresql/billow/$hash
			say "postgres can't reach $DIR; cluster goes to $PGBASE"
			install -d -o postgres -g postgres -m 700 \
			    /var/lib/postgresql/billow "$PGBASE"
			ln -sfn "$PGBASE/pg" "$DIR/pg"
			ln -sfn "$PGBASE/pg.log" "$DIR/pg.log"
		fi
	fi
	PGDATA=$PGBASE/pg
	PGLOG=$PGBASE/pg.log
}

pg_init() {
	local locale=C
	if [ -f "$PGDATA/PG_VERSION" ]; then
		return 0
	fi
	# No PG_VERSION: nothing usable here (an interrupted initdb at most).
	rm -rf "$PGDATA"
	if is_root; then
		install -d -o postgres -g postgres -m 700 "$PGDATA"
	else
		install -d -m 700 "$PGDATA"
	fi
	if locale -a 2>/dev/null | grep -qiE '^c\.utf-?8$'; then
		locale=C.UTF-8
	fi
	say "initdb $PGDATA (locale $locale)"
	if ! as_pg "$PGBIN/initdb" -D "$PGDATA" -U billow --auth=trust \
	    -E UTF8 --locale="$locale" --no-instructions \
	    >"$DIR/initdb.log" 2>&1; then
		show_log "$DIR/initdb.log"
		rm -rf "$PGDATA"
		die "initdb failed"
	fi
	printf "\n# Billow: per-start settings written by scripts/services.sh\n%s\n" \
	    "include_if_exists = 'billow.conf'" >>"$PGDATA/postgresql.conf"
}

# Prints the socket directory to use, creating it if needed.
pg_sockdir() {
	local dir old
	if [ "$PGBASE" != "$DIR" ]; then
		dir=$PGBASE
	elif is_root; then
		dir=$DIR/pgsock
	else
		dir=$DIR
	fi
	# sun_path holds 107 bytes; "/.s.PGSQL.NNNNN.lock" needs 20 of them.
	if [ "${#dir}" -gt 80 ]; then
		old=$(cat "$SOCKREC" 2>/dev/null || true)
		if [ -n "$old" ] && [ -d "$old" ]; then
			dir=$old
		else
			dir=$(mktemp -d /tmp/billow-pg.XXXXXX)
			printf '%s\n' "$dir" >"$SOCKREC"
		fi
	fi
	if [ "$dir" != "$DIR" ] && [ "$dir" != "$PGBASE" ]; then
		mkdir -p "$dir"
	fi
	if is_root; then
		chown postgres:postgres "$dir"
	fi
	printf '%s\n' "$dir"
}

pg_start() {
	local port=$1 sock conf i
	pg_paths
	if [ ! -e "$DIR/pg" ]; then
		pg_place
	fi
	if pg_running; then
		say "postgresql already running ($PGDATA)"
	else
		pg_init
		sock=$(pg_sockdir)
		conf="listen_addresses = '127.0.0.1'
port = $port
unix_socket_directories = '${sock//\'/\'\'}'"
		if [ "${BILLOW_FAST_PG:-0}" = 1 ]; then
			conf+="
fsync = off
synchronous_commit = off
full_page_writes = off"
		fi
		printf '%s\n' "$conf" >"$PGDATA/billow.conf"
		if is_root; then
			chown postgres:postgres "$PGDATA/billow.conf"
			touch "$PGLOG"
			chown postgres:postgres "$PGLOG"
		fi
		say "starting postgresql on 127.0.0.1:$port (log $DIR/pg.log)"
		# -w: pg_ctl polls until the server accepts connections and
		# notices at once if the postmaster dies.
		if ! as_pg "$PGBIN/pg_ctl" start -w -t "$WAIT_S" -D "$PGDATA" \
		    -l "$PGLOG" >/dev/null; then
			show_log "$PGLOG"
			die "pg_ctl start failed"
		fi
	fi
	i=0
	until pg_ready "$port"; do
		i=$((i + 1))
		if [ "$i" -gt $((WAIT_S * 5)) ] || ! pg_running; then
			show_log "$PGLOG"
			die "postgresql did not come up on 127.0.0.1:$port"
		fi
		sleep "$POLL_S"
	done
	say "postgresql ready on 127.0.0.1:$port"
	if [ "$("$PGBIN/psql" -h 127.0.0.1 -p "$port" -U billow -d postgres \
	    -XtAq -c "SELECT 1 FROM pg_database WHERE datname = 'billow'")" \
	    != 1 ]; then
		say "creating database billow"
		"$PGBIN/createdb" -h 127.0.0.1 -p "$port" -U billow billow
	fi
}

pg_stop() {
	local sock
	pg_paths
	if pg_running; then
		say "stopping postgresql ($PGDATA)"
		as_pg "$PGBIN/pg_ctl" stop -D "$PGDATA" -m fast -t "$WAIT_S" \
		    >/dev/null 2>&1 || say "warning: pg_ctl stop failed"
	else
		say "postgresql not running"
	fi
	sock=$(cat "$SOCKREC" 2>/dev/null || true)
	if [ -n "$sock" ]; then
		case $sock in
		/tmp/billow-pg.*) rm -rf "$sock" ;;
		esac
		rm -f "$SOCKREC"
	fi
}

# --- Redis -------------------------------------------------------------------

redis_pid() {
	local pid
	pid=$(cat "$DIR/redis.pid" 2>/dev/null || true)
	case $pid in
	'' | *[!0-9]*) return 1 ;;
	esac
	# Only a live redis-server counts (a stale pid may have been reused).
	grep -q '^redis-server' "/proc/$pid/comm" 2>/dev/null || return 1
	printf '%s\n' "$pid"
}

redis_ready() {
	[ "$(redis-cli -h 127.0.0.1 -p "$1" ping 2>/dev/null)" = PONG ]
}

redis_start() {
	local port=$1 i
	if redis_ready "$port"; then
		if redis_pid >/dev/null; then
			say "redis already running on 127.0.0.1:$port"
		else
			say "warning: reusing a redis on 127.0.0.1:$port not started from $DIR"
		fi
		return 0
	fi
	mkdir -p "$DIR/redis"
	say "starting redis on 127.0.0.1:$port (log $DIR/redis.log)"
	if ! redis-server --port "$port" --bind 127.0.0.1 --daemonize yes \
	    --dir "$DIR/redis" --appendonly yes --appendfsync everysec \
	    --pidfile "$DIR/redis.pid" --logfile "$DIR/redis.log" \
	    --save ''; then
		show_log "$DIR/redis.log"
		die "redis-server failed to start"
	fi
	i=0
	until redis_ready "$port"; do
		i=$((i + 1))
		if [ "$i" -gt $((WAIT_S * 5)) ]; then
			show_log "$DIR/redis.log"
			die "redis did not come up on 127.0.0.1:$port"
		fi
		sleep "$POLL_S"
	done
	say "redis ready on 127.0.0.1:$port"
}

redis_stop() {
	local pid i=0
	if ! pid=$(redis_pid); then
		say "redis not running"
		rm -f "$DIR/redis.pid"
		return 0
	fi
	say "stopping redis (pid $pid)"
	# SIGTERM: Redis flushes the append-only file and exits.
	kill -TERM "$pid" 2>/dev/null || true
	while kill -0 "$pid" 2>/dev/null; do
		i=$((i + 1))
		if [ "$i" -gt $((WAIT_S * 5)) ]; then
			say "warning: redis did not exit; killing it"
			kill -KILL "$pid" 2>/dev/null || true
			break
		fi
		sleep "$POLL_S"
	done
	rm -f "$DIR/redis.pid"
}

# --- main --------------------------------------------------------------------

[ $# -ge 2 ] || usage
cmd=$1
DIR=$2

case $cmd in
start)
	[ $# -eq 4 ] || usage
	check_port "$3"
	check_port "$4"
	mkdir -p "$DIR"
	DIR=$(cd "$DIR" && pwd -P)
	[ -x "$PGBIN/initdb" ] || die "PostgreSQL 15 not found in $PGBIN (run scripts/deps.sh)"
	if [ "$3" != - ]; then
		pg_start "$3"
	fi
	if [ "$4" != - ]; then
		redis_start "$4"
	fi
	;;
stop | purge)
	[ $# -eq 2 ] || usage
	if [ ! -d "$DIR" ]; then
		say "nothing to stop in $DIR"
		exit 0
	fi
	DIR=$(cd "$DIR" && pwd -P)
	pg_stop
	redis_stop
	if [ "$cmd" = purge ]; then
		say "removing $DIR"
		if [ -L "$DIR/pg" ]; then
			case $PGBASE in
			/var/lib/postgresql/billow/*) rm -rf "$PGBASE" ;;
			esac
		fi
		rm -rf "$DIR"
	fi
	;;
*)
	usage
	;;
esac
