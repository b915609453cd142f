#!/usr/bin/env bash
# `make run` (after the build): private services, migrations, platform admin,
# a demo tenant, then `billow serve` in the foreground until Ctrl-C/SIGTERM.
#
# DATABASE_URL / REDIS_URL, when set, point at outside services and the
# matching private one is not started. BILLOW_PORT (default 8080) is the HTTP
# port. BILLOW_ADMIN_EMAIL + BILLOW_ADMIN_PASSWORD create (or update) that
# platform admin; without them admin@billow.local is created once with a
# random password printed on that first run. The demo tenant is registered
# once (var/demo.json holds the response, with its API keys). `make stop`
# stops the private PostgreSQL and Redis; this script leaves them running.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)
cd "$ROOT"

VAR=var
BIN=build/billow
CONF=conf/billow.conf
PGPORT=54329
REDISPORT=63799
PORT=${BILLOW_PORT:-8080}
BASE=http://127.0.0.1:$PORT
WAIT_S=30

say() { printf 'run: %s\n' "$*"; }
die() { printf 'run: error: %s\n' "$*" >&2; exit 1; }

[ -x "$BIN" ] || die "$BIN is missing: build it with 'make' (or use 'make run')"
command -v openssl >/dev/null || die "openssl is missing (scripts/deps.sh)"
mkdir -p "$VAR"

# --- services ----------------------------------------------------------------

pg=-
redis=-
if [ -z "${DATABASE_URL:-}" ]; then
	pg=$PGPORT
	export DATABASE_URL="postgresql://billow@127.0.0.1:$PGPORT/billow"
else
	say "using DATABASE_URL from the environment"
fi
if [ -z "${REDIS_URL:-}" ]; then
	redis=$REDISPORT
	export REDIS_URL="redis://127.0.0.1:$REDISPORT/0"
else
	say "using REDIS_URL from the environment"
fi
if [ "$pg" != - ] || [ "$redis" != - ]; then
	scripts/services.sh start "$VAR" "$pg" "$redis"
fi

# --- schema and platform admin -----------------------------------------------

say "migrating"
"$BIN" migrate -c "$CONF"

admin_line=
if [ -n "${BILLOW_ADMIN_EMAIL:-}" ] && [ -n "${BILLOW_ADMIN_PASSWORD:-}" ]; then
	say "platform admin $BILLOW_ADMIN_EMAIL (from the environment)"
	"$BIN" admin create --email "$BILLOW_ADMIN_EMAIL" -c "$CONF"
else
	if [ -n "${BILLOW_ADMIN_EMAIL:-}${BILLOW_ADMIN_PASSWORD:-}" ]; then
		say "warning: set both BILLOW_ADMIN_EMAIL and BILLOW_ADMIN_PASSWORD; ignoring the one set"
		unset BILLOW_ADMIN_EMAIL BILLOW_ADMIN_PASSWORD
	fi
	if [ ! -e "$VAR/admin.created" ]; then
		admin_email=admin@billow.local
		admin_pw=$(openssl rand -base64 18)
		say "creating platform admin $admin_email"
		BILLOW_ADMIN_PASSWORD=$admin_pw \
		    "$BIN" admin create --email "$admin_email" -c "$CONF"
		# Marker only: the password is shown once and stored nowhere.
		printf '%s created %s\n' "$admin_email" "$(date -u +%FT%TZ)" \
		    >"$VAR/admin.created"
		admin_line="platform admin:  $admin_email / $admin_pw  (shown once)"
		say "$admin_line"
	fi
fi

# --- server ------------------------------------------------------------------

server_pid=
stopping=0

# Ctrl-C / SIGTERM / SIGHUP: ask the server to stop (it forwards SIGTERM to
# Kore and its workers); the wait loop below bounds how long that may take.
# shellcheck disable=SC2317 # called by the trap
on_signal() {
	stopping=1
	if [ -n "$server_pid" ]; then
		kill -TERM "$server_pid" 2>/dev/null || true
	fi
}
trap on_signal INT TERM HUP

# Kills whatever is left of the server's process group.
reap_group() {
	if [ -n "$server_pid" ]; then
		kill -TERM -- "-$server_pid" 2>/dev/null || true
	fi
}
trap reap_group EXIT

say "starting $BIN serve -c $CONF"
# Own session and process group: only this script signals the server, and
# everything it started can be found again by its group id.
setsid "$BIN" serve -c "$CONF" </dev/null &
server_pid=$!

i=0
until curl -fsS -o /dev/null --max-time 2 "$BASE/healthz" 2>/dev/null; do
	if ! kill -0 "$server_pid" 2>/dev/null; then
		rc=0
		wait "$server_pid" || rc=$?
		server_pid=
		die "the server exited (status $rc) before answering $BASE/healthz"
	fi
	if [ "$stopping" = 1 ]; then
		break
	fi
	i=$((i + 1))
	if [ "$i" -gt $((WAIT_S * 5)) ]; then
		kill -TERM "$server_pid" 2>/dev/null || true
		die "no answer from $BASE/healthz within ${WAIT_S}s"
	fi
	sleep 0.2
done

# Prints the first string value of KEY in a JSON file (no jq on a fresh box;
# Billow's values here never contain quotes).
json_str() {
	grep -o "\"$1\"[[:space:]]*:[[:space:]]*\"[^\"]*\"" "$2" |
	    sed -n '1s/^.*:[[:space:]]*"\(.*\)"$/\1/p' || true
}

demo_lines=()
if [ "$stopping" = 0 ] && [ ! -s "$VAR/demo.json" ]; then
	demo_email=demo@billow.local
	demo_pw=$(openssl rand -base64 18)
	tmp=$(mktemp "$VAR/demo.json.XXXXXX") # mode 600
	say "registering the demo tenant (Demo SaaS, $demo_email)"
	if curl -sS --fail-with-body --max-time 30 -o "$tmp" \
	    -H 'Content-Type: application/json' \
	    --data "{\"company_name\":\"Demo SaaS\",\"email\":\"$demo_email\",\"password\":\"$demo_pw\"}" \
	    "$BASE/api/v1/auth/tenants/register"; then
		chmod 600 "$tmp"
		mv -f "$tmp" "$VAR/demo.json"
		demo_lines=(
		    "demo login:      $demo_email / $demo_pw  (shown once)"
		    "test keys:       $(json_str api_key_test_public "$VAR/demo.json")  $(json_str api_key_test_secret "$VAR/demo.json")"
		    "live keys:       $(json_str api_key_public "$VAR/demo.json")  $(json_str api_key_secret "$VAR/demo.json")"
		    "                 (the registration response is in $VAR/demo.json)"
		)
	else
		say "warning: demo registration failed; the server keeps running:"
		cat "$tmp" >&2 2>/dev/null || true
		echo >&2
		rm -f "$tmp"
	fi
fi

if [ "$stopping" = 0 ]; then
	echo
	echo "  Billow is running: $BASE"
	if [ -n "$admin_line" ]; then
		echo "  $admin_line"
	fi
	for line in "${demo_lines[@]}"; do
		echo "  $line"
	done
	echo "  Ctrl-C stops the server; 'make stop' stops PostgreSQL and Redis."
	echo
fi

# Wait for the server. A trapped signal interrupts `wait`; keep waiting, and
# if the server takes more than 15 s to stop, kill its process group.
rc=
deadline=
while [ -z "$rc" ]; do
	if [ "$stopping" = 1 ] && kill -0 "$server_pid" 2>/dev/null; then
		if [ -z "$deadline" ]; then
			deadline=$((SECONDS + 15))
		elif [ "$SECONDS" -ge "$deadline" ]; then
			say "the server did not stop within 15 s; killing it"
			kill -KILL -- "-$server_pid" 2>/dev/null || true
		fi
		sleep 0.2
		continue
	fi
	if wait "$server_pid"; then
		rc=0
	else
		rc=$?
		if kill -0 "$server_pid" 2>/dev/null; then
			rc= # interrupted by a trapped signal, not the exit
		fi
	fi
done
reap_group
server_pid=
if [ "$stopping" = 1 ]; then
	say "stopped"
	exit 0
fi
say "the server exited with status $rc"
exit "$rc"
