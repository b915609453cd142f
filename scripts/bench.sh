#!/usr/bin/env bash
# make bench: starts throwaway PostgreSQL/Redis, Billow (release build) and
# nginx serving a fixed 200 on another loopback port, then drives each with
# wrk (2 threads, 64 connections, 15 s) and prints requests/s, p50/p99 and
# the Billow/nginx ratio. Everything it starts is stopped on exit.
set -euo pipefail

cd "$(dirname "$0")/.."
ROOT=$(pwd)
DURATION=${BENCH_DURATION:-15s}
CONNS=${BENCH_CONNECTIONS:-64}
PGPORT=54379
REDISPORT=63879
PORT=18081
NGINXPORT=18082

DIR=$(mktemp -d /tmp/billow-bench.XXXXXX)
SERVER_PID=
NGINX_PID=
RECV_PID=

cleanup() {
	[ -z "$RECV_PID" ] || kill "$RECV_PID" 2>/dev/null || true
	if [ -n "$SERVER_PID" ]; then
		kill -TERM "$SERVER_PID" 2>/dev/null || true
		wait "$SERVER_PID" 2>/dev/null || true
	fi
	if [ -n "$NGINX_PID" ]; then
		kill -TERM "$NGINX_PID" 2>/dev/null || true
		wait "$NGINX_PID" 2>/dev/null || true
	fi
	scripts/services.sh stop "$DIR" >/dev/null 2>&1 || true
	rm -rf "$DIR"
}
trap cleanup EXIT

echo "bench: starting services in $DIR"
scripts/services.sh start "$DIR" "$PGPORT" "$REDISPORT"
export DATABASE_URL="postgresql://billow@127.0.0.1:$PGPORT/billow"
export REDIS_URL="redis://127.0.0.1:$REDISPORT/0"
export BILLOW_PORT=$PORT
export BILLOW_RATE_LIMIT_TEST_RPS=0 BILLOW_RATE_LIMIT_LIVE_RPS=0
export BILLOW_AUTH_RATE_PER_MIN=0
build/billow migrate -c conf/billow.test.conf >/dev/null

build/billow serve -c conf/billow.test.conf >"$DIR/server.log" 2>&1 &
SERVER_PID=$!

cat >"$DIR/nginx.conf" <<EOF
worker_processes 2;
pid $DIR/nginx.pid;
error_log $DIR/nginx-error.log;
events { worker_connections 1024; }
http {
	access_log off;
	server {
		listen 127.0.0.1:$NGINXPORT;
		location / {
			default_type application/json;
			return 200 '{"ok":true}';
		}
	}
}
EOF
nginx -p "$DIR" -c "$DIR/nginx.conf" -g 'daemon off;' &
NGINX_PID=$!

for _ in $(seq 1 100); do
	if curl -fs "http://127.0.0.1:$PORT/healthz" >/dev/null &&
	    curl -fs "http://127.0.0.1:$NGINXPORT/" >/dev/null; then
		break
	fi
	sleep 0.1
done

REG=$(curl -fsS -X POST "http://127.0.0.1:$PORT/api/v1/auth/tenants/register" \
	-H 'Content-Type: application/json' \
	-d '{"company_name":"Bench","email":"bench@billow.local","password":"bench-password-1"}')
KEY=$(printf '%s' "$REG" | python3 -c 'import json,sys; print(json.load(sys.stdin)["tenant"]["api_key_test_secret"])')

# run NAME URL [HEADER [SCRIPT]] -> "rps p50_ms p99_ms non2xx"
run() {
	local out
	if [ $# -ge 4 ]; then
		out=$(BENCH_KEY=$KEY wrk -t2 -c"$CONNS" -d"$DURATION" --latency \
		    -s "$4" -H "$3" "$2")
	elif [ $# -ge 3 ]; then
		out=$(wrk -t2 -c"$CONNS" -d"$DURATION" --latency -H "$3" "$2")
	else
		out=$(wrk -t2 -c"$CONNS" -d"$DURATION" --latency "$2")
	fi
	printf '%s\n' "$out" >"$DIR/wrk-$1.txt"
	# A run wrk could not measure (no request completed) shows as 0 with
	# its raw output on stderr, instead of stopping the whole bench.
	printf '%s\n' "$out" | python3 -c '
import re, sys
t = sys.stdin.read()
def ms(pat):
    m = re.search(pat + r"\s+([\d.]+)(us|ms|s|m)\b", t)
    if m is None:
        return None
    return float(m.group(1)) * {"us": 0.001, "ms": 1, "s": 1000,
        "m": 60000}[m.group(2)]
rps = re.search(r"Requests/sec:\s+([\d.]+)", t)
p50, p99 = ms("50%"), ms("99%")
if rps is None or p50 is None or p99 is None:
    sys.stderr.write("bench: could not read this wrk run:\n" + t + "\n")
    print("0 0 0 unreadable")
    sys.exit(0)
errs = re.search(r"Non-2xx or 3xx responses: (\d+)", t)
print(f"{float(rps.group(1)):.0f} {p50:.2f} {p99:.2f} "
      f"{errs.group(1) if errs else 0}")'
}

echo "bench: wrk -t2 -c$CONNS -d$DURATION against each (sequentially)"
read -r N_RPS N_P50 N_P99 N_ERR < <(run nginx "http://127.0.0.1:$NGINXPORT/")
read -r V_RPS V_P50 V_P99 V_ERR < <(run verify \
	"http://127.0.0.1:$PORT/api/v1/auth/tenants/verify" "Authorization: Bearer $KEY")
read -r D_RPS D_P50 D_P99 D_ERR < <(run details \
	"http://127.0.0.1:$PORT/api/v1/auth/tenants/details" "Authorization: Bearer $KEY")

# 10,000 customers for the list benchmark, written straight to the table,
# then ANALYZE (as autovacuum would soon): with stale statistics the
# planner scans every row instead of walking the index backwards.
TENANT=$(printf '%s' "$REG" | python3 -c 'import json,sys; print(json.load(sys.stdin)["tenant"]["id"])')
psql "$DATABASE_URL" -q -c "INSERT INTO customers (tenant_id, livemode, id, email, name)
    SELECT '$TENANT', false, 'cus_bench' || lpad(g::text, 17, '0'),
    'seed' || g || '@example.com', 'Seed ' || g FROM generate_series(1, 10000) g;
    ANALYZE customers"
read -r L_RPS L_P50 L_P99 L_ERR < <(run list \
	"http://127.0.0.1:$PORT/api/v1/customers?limit=20" "Authorization: Bearer $KEY")
read -r C_RPS C_P50 C_P99 C_ERR < <(run create \
	"http://127.0.0.1:$PORT/api/v1/customers" "Authorization: Bearer $KEY" \
	scripts/bench-post-customer.lua)

# The billing run (issue 11): BENCH_RENEWALS monthly subscriptions
# (default 100,000) on one test clock, written straight to the tables as
# if created at T0, then one advance of the clock to T0 + 1 month renews
# every one of them through the scheduler's own unit of work: a renewal
# invoice (plan line, usage, pending items), finalized with a number,
# paid by the test card, and its events. Reported as renewals per second.
RENEWALS=${BENCH_RENEWALS:-100000}
PLAN=$(curl -fsS -X POST "http://127.0.0.1:$PORT/api/v1/plans" \
	-H "Authorization: Bearer $KEY" -H 'Content-Type: application/json' \
	-d '{"name":"Bench","currency":"usd","amount":1000,"interval":"month"}' |
	python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])')
echo "bench: seeding $RENEWALS subscriptions on a test clock"
psql "$DATABASE_URL" -q -v ON_ERROR_STOP=1 <<SQL
INSERT INTO test_clocks (tenant_id, livemode, id, name, frozen_time)
    VALUES ('$TENANT', false, 'clock_bench', 'bench', '2030-01-01T00:00:00Z');
INSERT INTO customers (tenant_id, livemode, id, email, payment_method,
    test_clock_id)
    SELECT '$TENANT', false, 'cus_renew' || lpad(g::text, 16, '0'),
    'renew' || g || '@example.com', 'pm_card_visa', 'clock_bench'
    FROM generate_series(1, $RENEWALS) g;
INSERT INTO subscriptions (tenant_id, livemode, id, customer_id, plan_id,
    status, quantity, current_period_start, current_period_end,
    billing_cycle_anchor, started_at, usage_billed_until, created,
    test_clock_id)
    SELECT '$TENANT', false, 'sub_renew' || lpad(g::text, 16, '0'),
    'cus_renew' || lpad(g::text, 16, '0'), '$PLAN', 'active', 1,
    '2030-01-01T00:00:00Z', '2030-02-01T00:00:00Z', '2030-01-01T00:00:00Z',
    '2030-01-01T00:00:00Z', '2030-01-01T00:00:00Z', '2030-01-01T00:00:00Z',
    'clock_bench' FROM generate_series(1, $RENEWALS) g;
-- Each subscription's first invoice, paid, as POST /subscriptions made it:
-- the tables hold what a running system holds, and the planner knows it.
INSERT INTO invoices (tenant_id, livemode, id, number, customer_id,
    subscription_id, status, currency, subtotal, total, amount_due,
    amount_paid, period_start, period_end, attempt_count, billing_reason,
    created, finalized_at, paid_at)
    SELECT '$TENANT', false, 'in_renew' || lpad(g::text, 16, '0'),
    'BENCH-' || lpad(g::text, 7, '0'), 'cus_renew' || lpad(g::text, 16, '0'),
    'sub_renew' || lpad(g::text, 16, '0'), 'paid', 'USD', 1000, 1000, 1000,
    1000, '2030-01-01T00:00:00Z', '2030-02-01T00:00:00Z', 1,
    'subscription_create', '2030-01-01T00:00:00Z', '2030-01-01T00:00:00Z',
    '2030-01-01T00:00:00Z' FROM generate_series(1, $RENEWALS) g;
INSERT INTO invoice_lines (tenant_id, livemode, id, invoice_id, position,
    kind, description, amount, unit_amount, quantity, period_start,
    period_end)
    SELECT '$TENANT', false, 'il_renew' || lpad(g::text, 16, '0'),
    'in_renew' || lpad(g::text, 16, '0'), 0, 'plan', 'Bench × 1', 1000, 1000,
    1, '2030-01-01T00:00:00Z', '2030-02-01T00:00:00Z'
    FROM generate_series(1, $RENEWALS) g;
INSERT INTO payments (tenant_id, livemode, id, invoice_id, subscription_id,
    customer_id, amount, currency, status, application_fee_amount,
    net_amount, payment_method, provider, created)
    SELECT '$TENANT', false, 'pay_renew' || lpad(g::text, 16, '0'),
    'in_renew' || lpad(g::text, 16, '0'), 'sub_renew' || lpad(g::text, 16, '0'),
    'cus_renew' || lpad(g::text, 16, '0'), 1000, 'USD', 'succeeded', 150, 850,
    'pm_card_visa', 'simulator', '2030-01-01T00:00:00Z'
    FROM generate_series(1, $RENEWALS) g;
UPDATE subscriptions SET latest_invoice_id = 'in_renew' || substr(id, 10)
    WHERE tenant_id = '$TENANT' AND id LIKE 'sub_renew%';
VACUUM ANALYZE;
SQL
R_START=$(date +%s.%N)
curl -fsS -o "$DIR/advance.json" --max-time 3600 -X POST \
	"http://127.0.0.1:$PORT/api/v1/test_clocks/clock_bench/advance" \
	-H "Authorization: Bearer $KEY" -H 'Content-Type: application/json' \
	-d '{"frozen_time":"2030-02-01T00:00:00Z"}'
R_END=$(date +%s.%N)
R_DONE=$(psql "$DATABASE_URL" -Atq -c "SELECT count(*) FROM invoices
    WHERE tenant_id = '$TENANT' AND billing_reason = 'subscription_cycle'
    AND status = 'paid'")
[ "$R_DONE" = "$RENEWALS" ] || {
	echo "bench: expected $RENEWALS paid renewals, found $R_DONE" >&2
	exit 1
}
R_RATE=$(python3 -c "print(f'{$RENEWALS / ($R_END - $R_START):.0f}')")
R_SECS=$(python3 -c "print(f'{$R_END - $R_START:.1f}')")

# Webhook deliveries (issue 12): the server again, now with the webhooks
# plugin, an endpoint for customer.created on a local receiver that
# answers 200 at once, and DELIVERIES events committed in one transaction
# straight into the outbox. Reported: deliveries per second (first to last
# arrival) and each event's delay from the commit to its arrival. The
# backlog the runs above left (their events) is marked relayed first: it
# is not part of this measurement.
DELIVERIES=${BENCH_DELIVERIES:-1000}
RECV_PORT=18087
kill -TERM "$SERVER_PID" 2>/dev/null || true
wait "$SERVER_PID" 2>/dev/null || true
SERVER_PID=
WCONF=$DIR/webhooks.conf
{ cat conf/billow.test.conf; echo "plugin webhooks { path build/plugins/webhooks.so }"; } >"$WCONF"
build/billow migrate -c "$WCONF" >/dev/null
psql "$DATABASE_URL" -q -c "UPDATE events SET relayed_at = now() WHERE relayed_at IS NULL"
redis-cli -p "$REDISPORT" DEL billow:q:events billow:q:tasks >/dev/null
build/billow serve -c "$WCONF" >"$DIR/server-webhooks.log" 2>&1 &
SERVER_PID=$!
python3 tests/faults/receiver.py "$RECV_PORT" "$DIR/received.txt" &
RECV_PID=$!
for _ in $(seq 1 100); do
	curl -fs "http://127.0.0.1:$PORT/healthz" >/dev/null && break
	sleep 0.1
done
curl -fsS -o /dev/null -X POST "http://127.0.0.1:$PORT/api/v1/webhook_endpoints" \
	-H "Authorization: Bearer $KEY" -H 'Content-Type: application/json' \
	-d "{\"url\":\"http://127.0.0.1:$RECV_PORT/hook\",\"enabled_events\":[\"customer.created\"]}"
: >"$DIR/received.txt"
psql "$DATABASE_URL" -q -c "INSERT INTO events (tenant_id, livemode, id, type, data)
    SELECT '$TENANT', false, 'evt_bench' || lpad(g::text, 17, '0'),
    'customer.created', jsonb_build_object('object', jsonb_build_object(
    'id', 'cus_wh' || g, 'object', 'customer')) FROM generate_series(1, $DELIVERIES) g"
W_COMMIT=$(date +%s%3N)
for _ in $(seq 1 1200); do
	[ "$(cut -d' ' -f1 "$DIR/received.txt" | sort -u | grep -c evt_bench)" -ge "$DELIVERIES" ] && break
	sleep 0.1
done
kill "$RECV_PID" 2>/dev/null || true
read -r W_GOT W_RATE W_P50 W_P99 < <(python3 - "$DIR/received.txt" "$W_COMMIT" <<'EOF'
import sys
commit = int(sys.argv[2])
first = {}
for line in open(sys.argv[1]):
    eid, ms = line.split()
    if eid.startswith("evt_bench") and eid not in first:
        first[eid] = int(ms)
t = sorted(first.values())
if not t:
    print("0 0 0 0")
    sys.exit(0)
span = max(t[-1] - t[0], 1) / 1000
d = sorted(x - commit for x in t)
print(len(t), f"{len(t) / span:.0f}", d[len(d) // 2], d[min(len(d) - 1, (len(d) * 99) // 100)])
EOF
)

ratio() { python3 -c "print(f'{$1 / $2:.2f}' if $2 > 0 else 'n/a')"; }
printf '\n%-34s %10s %9s %9s %7s %8s\n' endpoint req/s p50_ms p99_ms non2xx vs_nginx
printf '%-34s %10s %9s %9s %7s %8s\n' "nginx fixed 200" "$N_RPS" "$N_P50" "$N_P99" "$N_ERR" 1.00
printf '%-34s %10s %9s %9s %7s %8s\n' "GET /auth/tenants/verify (sk)" "$V_RPS" "$V_P50" "$V_P99" "$V_ERR" "$(ratio "$V_RPS" "$N_RPS")"
printf '%-34s %10s %9s %9s %7s %8s\n' "GET /auth/tenants/details (sk)" "$D_RPS" "$D_P50" "$D_P99" "$D_ERR" "$(ratio "$D_RPS" "$N_RPS")"
printf '%-34s %10s %9s %9s %7s %8s\n' "GET /customers?limit=20 (10k)" "$L_RPS" "$L_P50" "$L_P99" "$L_ERR" "$(ratio "$L_RPS" "$N_RPS")"
printf '%-34s %10s %9s %9s %7s %8s\n' "POST /customers" "$C_RPS" "$C_P50" "$C_P99" "$C_ERR" "$(ratio "$C_RPS" "$N_RPS")"
printf '\n%-34s %10s renewals/s (%s renewals in %s s, one test-clock advance)\n' \
    "billing run" "$R_RATE" "$RENEWALS" "$R_SECS"
printf '%-34s %10s deliveries/s (%s of %s delivered; from commit p50 %s ms, p99 %s ms)\n' \
    "webhook deliveries" "$W_RATE" "$W_GOT" "$DELIVERIES" "$W_P50" "$W_P99"
echo "bench: raw wrk output kept until exit in $DIR; root $ROOT"
