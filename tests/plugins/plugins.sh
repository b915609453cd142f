#!/usr/bin/env bash
# Plugin host tests (issue: plugin host), run by scripts/test.sh with the
# services it started. Environment: B (build dir), SAN (sanitizer flags),
# DATABASE_URL, REDIS_URL, DIR (scratch), PRELOAD (libasan path or "").
# Starts its own server on 127.0.0.1:18085 with test plugins. Last line:
# "N passed, N failed".
set -uo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd -P)
cd "$ROOT" || exit 1
: "${B:?}" "${DIR:?}" "${DATABASE_URL:?}" "${REDIS_URL:?}"
SAN=${SAN:-}
PRELOAD=${PRELOAD:-}
PORT=18085
URL=http://127.0.0.1:$PORT
WORK=$DIR/plugins-test
mkdir -p "$WORK"

passed=0
failed=0
pass() { echo "PASS: $1"; passed=$((passed + 1)); }
fail() { echo "FAIL: $1"; failed=$((failed + 1)); }
now_ms() { date +%s%3N; }

base_conf() {
	sed -e "s#^paths {.*#paths { var $WORK/var; assets assets; lua lua; migrations migrations }#" \
	    conf/billow.test.conf
}

# --- start-up refusals ----------------------------------------------------

check_refusal() {
	local name=$1 want=$2 conf=$WORK/$1.conf out
	{ base_conf; echo "plugin $name { path $B/test-plugins/$name.so }"; } >"$conf"
	out=$("$B/billow" check-config "$conf" 2>&1)
	if [ $? -ne 0 ] && printf '%s' "$out" | grep -q "plugin $name" &&
	    printf '%s' "$out" | grep -q "$want"; then
		pass "check-config refuses $name: $(printf '%s' "$out" | tail -n1)"
	else
		fail "check-config on $name said: $out"
	fi
	# billow serve stops at once, with the same reason.
	out=$(BILLOW_PORT=$PORT timeout 20 "$B/billow" serve -c "$conf" 2>&1)
	if [ $? -ne 0 ] && printf '%s' "$out" | grep -q "plugin $name"; then
		pass "serve refuses to start with $name"
	else
		fail "serve with $name said: $out"
	fi
}
export ASAN_OPTIONS=detect_leaks=0:abort_on_error=0
check_refusal badabi "ABI 99.0"
check_refusal initfail "init failed"
{ base_conf; echo "plugin ghost { path $WORK/nope.so }"; } >"$WORK/ghost.conf"
out=$("$B/billow" check-config "$WORK/ghost.conf" 2>&1)
if [ $? -ne 0 ] && printf '%s' "$out" | grep -q "plugin ghost.*cannot open"; then
	pass "check-config refuses a missing plugin file"
else
	fail "missing plugin file: $out"
fi

# --- make plugin NAME=hello, in a scratch copy of the build files ----------

SCAF=$WORK/scaffold
mkdir -p "$SCAF/scripts"
cp -r Makefile include "$SCAF/"
cp -r scripts/new-plugin.sh scripts/templates "$SCAF/scripts/"
if (cd "$SCAF" && make --no-print-directory plugin NAME=hello >/dev/null &&
    make --no-print-directory BUILD=build SAN="$SAN" plugins >/dev/null) &&
    [ -f "$SCAF/build/plugins/hello.so" ]; then
	pass "make plugin NAME=hello scaffolds a plugin that builds"
else
	fail "make plugin NAME=hello did not build"
fi

# --- a server with crashy and hello ----------------------------------------

CONF=$WORK/server.conf
{
	base_conf
	echo "plugin crashy { path $B/test-plugins/crashy.so }"
	echo "plugin hello { path $SCAF/build/plugins/hello.so; greeting \"hi there\" }"
} >"$CONF"
setsid env BILLOW_PORT=$PORT BILLOW_RATE_LIMIT_TEST_RPS=0 \
    BILLOW_RATE_LIMIT_LIVE_RPS=0 BILLOW_AUTH_RATE_PER_MIN=0 \
    ASAN_OPTIONS=detect_leaks=0:abort_on_error=0:halt_on_error=1 \
    ${PRELOAD:+LD_PRELOAD=$PRELOAD} \
    "$B/billow" serve -c "$CONF" </dev/null >"$DIR/plugins-server.log" 2>&1 &
SERVER=$!
trap 'kill -TERM -- -$SERVER 2>/dev/null; wait $SERVER 2>/dev/null' EXIT
up=0
for _ in $(seq 1 150); do
	if curl -fs -o /dev/null "$URL/healthz"; then up=1; break; fi
	sleep 0.2
done
if [ "$up" != 1 ]; then
	fail "plugin server did not start"
	tail -n 30 "$DIR/plugins-server.log"
	echo "plugins: $passed passed, $failed failed"
	echo "$passed passed, $failed failed"
	exit 1
fi
KEY=$(curl -fsS -X POST "$URL/api/v1/auth/tenants/register" \
	-H 'Content-Type: application/json' \
	-d "{\"company_name\":\"Plugins\",\"email\":\"plugins-$RANDOM$RANDOM@test.local\",\"password\":\"plugins-password-1\"}" |
	python3 -c 'import json,sys; print(json.load(sys.stdin)["tenant"]["api_key_test_secret"])')
get() { curl -s --max-time 5 -H "Authorization: Bearer $KEY" "$URL$1"; }
code() { curl -s -o /dev/null -w '%{http_code}' --max-time 5 -H "Authorization: Bearer $KEY" "$URL$1"; }

body=$(get /api/v1/hello)
if printf '%s' "$body" | grep -q '"message":"hi there"'; then
	pass "the scaffolded plugin serves GET /api/v1/hello with its setting"
else
	fail "GET /api/v1/hello answered $body"
fi
if [ "$(curl -s -o /dev/null -w '%{http_code}' "$URL/api/v1/hello")" = 401 ]; then
	pass "plugin routes get the core's authentication (401 without a key)"
else
	fail "plugin route without a key was not 401"
fi
if get /api/v1/crashy/ok | grep -q '"answer":"one"'; then
	pass "crashy plugin answers"
else
	fail "crashy plugin did not answer"
fi

# Hooks: http.request can veto a request; event.created sees events
# written through the host table, in the same request.
if [ "$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $KEY" \
    -H 'X-Crashy-Reject: yes' "$URL/api/v1/auth/tenants/details")" = 403 ] &&
    [ "$(code /api/v1/auth/tenants/details)" = 200 ]; then
	pass "an http.request hook rejected a core route's request (403), others pass"
else
	fail "http.request hook did not reject"
fi
emit=$(curl -s -X POST -H "Authorization: Bearer $KEY" -H 'Content-Type: application/json' -d '{}' "$URL/api/v1/crashy/emit")
if printf '%s' "$emit" | grep -q '"hook_saw_it":true' &&
    printf '%s' "$emit" | grep -q '"type":"crashy.emitted"'; then
	pass "event_emit fired event.created in the same request"
else
	fail "event.created: $emit"
fi

# Tasks: enqueued by a request into the outbox, relayed to the Redis queue
# after it committed, run by billow worker in the request's tenant context;
# the first run asks for a retry (its writes commit), the second finishes.
tenant=$(curl -s -H "Authorization: Bearer $KEY" "$URL/api/v1/auth/tenants/verify" |
    python3 -c 'import json,sys; print(json.load(sys.stdin)["tenant"]["id"])')
tcode=$(curl -s -o /dev/null -w '%{http_code}' -X POST -H "Authorization: Bearer $KEY" \
    -H 'Content-Type: application/json' -d '{}' "$URL/api/v1/crashy/task")
ran=0
for _ in $(seq 1 50); do
	n=$(psql "$DATABASE_URL" -Atc "SELECT count(*) FROM events WHERE tenant_id = '$tenant' AND type = 'crashy.task_ran' AND NOT livemode AND data->>'attempt' = '2'")
	if [ "${n:-0}" -ge 1 ]; then ran=1; break; fi
	sleep 0.1
done
retried=$(psql "$DATABASE_URL" -Atc "SELECT count(*) FROM events WHERE tenant_id = '$tenant' AND type = 'crashy.task_retry' AND NOT livemode AND data->>'attempt' = '1'")
if [ "$tcode" = 202 ] && [ "$ran" = 1 ] && [ "$retried" = 1 ]; then
	pass "a queued plugin task ran in billow worker, in its tenant and mode, retried once as it asked"
else
	fail "task: status $tcode, ran=$ran, retried=$retried"
fi

# event.relayed: the emitted event above came back through the outbox
# relay and the queue, exactly once, in its tenant and mode.
relayed=0 unrelayed=1
for _ in $(seq 1 50); do
	relayed=$(psql "$DATABASE_URL" -Atc "SELECT count(*) FROM events r JOIN events e ON e.tenant_id = r.tenant_id AND e.id = r.data->'object'->>'event_id' WHERE r.tenant_id = '$tenant' AND r.type = 'crashy.relayed' AND e.type = 'crashy.emitted' AND NOT r.livemode")
	unrelayed=$(psql "$DATABASE_URL" -Atc "SELECT count(*) FROM events WHERE tenant_id = '$tenant' AND type = 'crashy.emitted' AND relayed_at IS NULL")
	if [ "${relayed:-0}" -ge 1 ] && [ "$unrelayed" = 0 ]; then break; fi
	sleep 0.1
done
if [ "$relayed" = 1 ] && [ "$unrelayed" = 0 ]; then
	pass "event.relayed saw the committed event once, after the relay marked it"
else
	fail "event.relayed: relayed=$relayed unrelayed=$unrelayed"
fi

# A crash in a plugin handler costs one Kore worker; Kore replaces it and
# other requests keep succeeding.
kore_parent=$(pgrep -P "$SERVER" -x kore | head -n1)
before=$(pgrep -P "$kore_parent" | sort | tr '\n' ' ')
boom=$(code /api/v1/crashy/boom)
ok=0
for _ in $(seq 1 40); do
	[ "$(code /api/v1/crashy/ok)" = 200 ] && ok=$((ok + 1))
done
after=$(pgrep -P "$kore_parent" | sort | tr '\n' ' ')
if [ "$boom" != 200 ] && [ "$ok" = 40 ] && [ "$before" != "$after" ] &&
    [ "$(printf '%s' "$after" | wc -w)" = "$(printf '%s' "$before" | wc -w)" ]; then
	pass "a crashing plugin route (status $boom) cost one worker; 40/40 later requests succeeded"
else
	fail "crash: boom=$boom ok=$ok/40 workers before [$before] after [$after]"
fi

# SIGHUP with a rebuilt plugin: the new behaviour, and zero failed
# requests for a client running through the swap.
make --no-print-directory -B BUILD="$B" SAN="$SAN" \
    PLUGIN_EXTRA='-DCRASHY_ANSWER=\"two\"' "$B/test-plugins/crashy.so" >/dev/null
python3 - "$URL" "$KEY" "$SERVER" >"$WORK/reload.txt" <<'PY'
import http.client, os, signal, sys, time
url, key, server = sys.argv[1], sys.argv[2], int(sys.argv[3])
host, port = url[len("http://"):].split(":")
conn = http.client.HTTPConnection(host, int(port), timeout=5)
ok = errors = 0
answers = set()
t0 = time.time()
sent_hup = False
while time.time() - t0 < 4:
    if not sent_hup and time.time() - t0 > 1:
        os.kill(server, signal.SIGHUP)
        sent_hup = True
    try:
        conn.request("GET", "/api/v1/crashy/ok",
                     headers={"Authorization": "Bearer " + key})
        r = conn.getresponse()
        body = r.read().decode()
        if r.status == 200:
            ok += 1
            answers.add(body)
        else:
            errors += 1
    except Exception as e:
        errors += 1
        conn.close()
        conn = http.client.HTTPConnection(host, int(port), timeout=5)
print(ok, errors, "two" in "".join(answers))
PY
read -r r_ok r_err r_two <"$WORK/reload.txt"
new=0
for _ in $(seq 1 50); do
	if get /api/v1/crashy/ok | grep -q '"answer":"two"'; then new=1; break; fi
	sleep 0.1
done
if [ "${r_err:-1}" = 0 ] && [ "$new" = 1 ]; then
	pass "SIGHUP swapped in the rebuilt plugin; $r_ok requests through the reload, 0 failed"
else
	fail "reload: ok=$r_ok errors=$r_err new behaviour=$new"
fi
# billow worker reopened its plugins on the same SIGHUP.
wreload=0
for _ in $(seq 1 50); do
	if grep -q 'worker [0-9]* reloaded 2 plugins' "$DIR/plugins-server.log"; then
		wreload=1
		break
	fi
	sleep 0.1
done
if [ "$wreload" = 1 ]; then
	pass "billow worker reloaded its plugins on SIGHUP"
else
	fail "billow worker did not report a plugin reload"
fi
# Put the default build back for later runs.
make --no-print-directory -B BUILD="$B" SAN="$SAN" "$B/test-plugins/crashy.so" >/dev/null

# Sanitizer reports in this server's log, but for the deliberate crash.
kill -TERM -- -"$SERVER" 2>/dev/null
wait "$SERVER" 2>/dev/null
trap - EXIT
others=$(grep -E 'ERROR: AddressSanitizer|runtime error:' "$DIR/plugins-server.log" |
    grep -v 'crashy.c:' || true)
if [ -z "$others" ]; then
	pass "no sanitizer report in the plugin server's log but the deliberate crash"
else
	fail "sanitizer reports: $others"
fi

echo "plugins: $passed passed, $failed failed"
echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
