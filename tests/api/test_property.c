/*
 * Property test of the billing core (issue 11): thousands of random
 * subscription life cycles through the API — plans of every interval,
 * trials, good and failing cards, card changes, clock advances of an hour
 * to two months, cancels (now, prorated, at period end), pauses and
 * resumes, plan and quantity changes, manual payments and refunds — then
 * invariants checked straight in the database for every tenant:
 *
 *   1. a paid invoice's amount_paid is the sum of its payments whose
 *      attempt succeeded; an invoice paid with nothing due has no payment
 *      and attempt_count 0;
 *   2. every payment's fee is round_half_up(amount x 15.00%) and its net
 *      amount the rest; a refund never exceeds the payment;
 *   3. no subscription period is billed twice: one plan line per period
 *      start, and two plan lines of one subscription overlap only where a
 *      proration credit gave the unused time back (a pause and resume, an
 *      interval change) or the plan is free;
 *   4. customer balances are <= 0 and equal the sum of what finalized
 *      invoices moved (every negative total became balance);
 *   5. an invoice's total is the sum of its lines, and amount_due follows
 *      the balance rule;
 *   6. nothing billable is dropped: a canceled subscription has no
 *      unbilled pending item with a non-zero amount;
 *   7. events exist for every change: each invoice has invoice.created,
 *      each payment its payment.succeeded or payment.failed, each canceled
 *      subscription subscription.canceled, each refund payment.refunded.
 *
 * BILLOW_PROPERTY_CYCLES (default 2000) life cycles are shared by
 * BILLOW_PROPERTY_CLIENTS (default 4) forked clients, each with its own
 * tenant; BILLOW_PROPERTY_SEED fixes the random choices (printed on
 * failure, so a failure can be replayed).
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <libpq-fe.h>

#include "fixtures.h"

#define DAY		86400LL
#define PROP_START	1704067200LL	/* 2024-01-01T00:00:00Z */

static unsigned long long	prop_state;

/* splitmix64: small, fast and good enough to pick test actions. */
static unsigned long long
prop_next(void)
{
	unsigned long long	z = (prop_state += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

/* A uniform integer in [0, n). */
static long long
prop_pick(long long n)
{
	return (long long)(prop_next() % (unsigned long long)n);
}

static long
env_long(const char *name, long def)
{
	const char	*v = getenv(name);

	return v != NULL && *v != '\0' ? strtol(v, NULL, 10) : def;
}

static const char *const prop_cards[] = { "pm_card_visa", "pm_card_visa",
    "pm_card_mastercard", "pm_card_chargeDeclined",
    "pm_card_insufficientFunds", "pm_card_expired" };

/* The plans a client picks from: intervals, counts, trials. */
static const char *const prop_plans[] = {
	"\"amount\":2999,\"interval\":\"month\"",
	"\"amount\":1001,\"interval\":\"month\",\"interval_count\":3",
	"\"amount\":99999,\"interval\":\"year\"",
	"\"amount\":777,\"interval\":\"week\"",
	"\"amount\":133,\"interval\":\"day\",\"interval_count\":7",
	"\"amount\":4500,\"interval\":\"month\",\"trial_period_days\":14",
	"\"amount\":0,\"interval\":\"month\"",
	"\"amount\":12345,\"interval\":\"month\"",
};
#define PROP_NSTATIC	(sizeof(prop_plans) / sizeof(prop_plans[0]))

/*
 * Plans with a usage charge on the client's count meter "calls" (%s: its
 * id): standard prices, no free units, so a usage line's quantity is the
 * number of events it bills.
 */
static const char *const prop_usage_plans[] = {
	"\"amount\":1500,\"interval\":\"month\",\"charges\":[{\"meter_id\":"
	"\"%s\",\"model\":\"standard\",\"unit_amount\":7}]",
	"\"amount\":500,\"interval\":\"week\",\"trial_period_days\":5,"
	"\"charges\":[{\"meter_id\":\"%s\",\"model\":\"standard\","
	"\"unit_amount_decimal\":\"0.5\"}]",
};
#define PROP_NPLANS	(PROP_NSTATIC + \
	sizeof(prop_usage_plans) / sizeof(prop_usage_plans[0]))

/* POST PATH with BODY; any status but 5xx is fine (random actions). */
static long
prop_post(const char *auth, const char *path, const char *body)
{
	struct resp	*r;
	long		 st;

	r = api_post(path, auth, body, NULL);
	st = r->status;
	ck_assert_msg(st < 500, "POST %s %s: %ld %.300s", path, body, st,
	    r->body);
	resp_free(r);
	return st;
}

/* The newest payment of SUB that can be refunded, or NULL. */
static char *
prop_refundable(const char *auth, const char *sub, long long *left)
{
	json_t	*l, *p;
	char	*id = NULL;
	size_t	 i;

	l = fx_get(auth, "/api/v1/payments?subscription_id=%s&limit=100", sub);
	json_array_foreach(json_object_get(l, "data"), i, p) {
		if (strcmp(jstr(p, "status"), "failed") == 0 ||
		    fx_int(p, "amount_refunded") >= fx_int(p, "amount"))
			continue;
		id = strdup(jstr(p, "id"));
		*left = fx_int(p, "amount") - fx_int(p, "amount_refunded");
		break;
	}
	json_decref(l);
	return id;
}

/* One random life cycle of a subscription on its own clock. */
static void
prop_cycle(const char *auth, char *const *plans)
{
	char		 path[256], body[512], *clock, *cus, *sub, *pay;
	long long	 now = PROP_START + prop_pick(365) * DAY +
	    prop_pick(DAY), left;
	int		 step, nsteps;
	char		 ts[32];

	clock = fx_clock_new(auth, fx_rfc3339(now, ts));
	cus = fx_customer_new(auth, prop_cards[prop_pick(6)], clock);
	snprintf(body, sizeof(body), "\"quantity\":%lld%s",
	    1 + prop_pick(prop_pick(4) == 0 ? 1000 : 3),
	    prop_pick(5) == 0 ? ",\"trial_period_days\":3" : "");
	/* A third start on a usage plan, so the usage invariant has work. */
	sub = fx_sub_new(auth, cus, prop_pick(3) == 0 ?
	    plans[PROP_NSTATIC + prop_pick(PROP_NPLANS - PROP_NSTATIC)] :
	    plans[prop_pick(PROP_NPLANS)], body);

	nsteps = 2 + (int)prop_pick(6);
	for (step = 0; step < nsteps; step++) {
		switch (prop_pick(12)) {
		case 0: case 1: case 2: case 3:
			/* An hour to two months on. */
			now += 3600 + prop_pick(60 * DAY);
			fx_clock_to(auth, clock, now);
			break;
		case 4:
			snprintf(path, sizeof(path),
			    "/api/v1/subscriptions/%s/cancel", sub);
			prop_post(auth, path, prop_pick(2) ?
			    "{\"at_period_end\":true}" : prop_pick(2) ?
			    "{\"prorate\":true}" : "{}");
			break;
		case 5:
			snprintf(path, sizeof(path),
			    "/api/v1/subscriptions/%s/%s", sub, prop_pick(2) ?
			    "pause" : "resume");
			prop_post(auth, path, "{}");
			break;
		case 6: {
			struct resp	*r;

			snprintf(path, sizeof(path), "/api/v1/customers/%s",
			    cus);
			snprintf(body, sizeof(body), "{\"payment_method\":"
			    "\"%s\"}", prop_cards[prop_pick(6)]);
			r = api_patch(path, auth, body, NULL);
			assert_status(r, 200);
			resp_free(r);
			break;
		}
		case 7: {
			struct resp	*r;

			/* A plan or quantity change, any behaviour. */
			snprintf(path, sizeof(path), "/api/v1/subscriptions/%s",
			    sub);
			snprintf(body, sizeof(body), "{\"%s\":\"%s\","
			    "\"proration_behavior\":\"%s\"}",
			    "plan_id", plans[prop_pick(PROP_NPLANS)],
			    prop_pick(3) == 0 ? "always_invoice" :
			    prop_pick(2) ? "create_prorations" : "none");
			if (prop_pick(2))
				snprintf(body, sizeof(body), "{\"quantity\":"
				    "%lld}", 1 + prop_pick(5));
			r = api_patch(path, auth, body, NULL);
			ck_assert_msg(r->status < 500, "PATCH %s: %ld %.300s",
			    body, r->status, r->body);
			resp_free(r);
			break;
		}
		case 8: {
			json_t	*s = fx_get(auth, "/api/v1/subscriptions/%s",
			    sub);

			/* Pay the latest invoice by hand (402 is fine). */
			if (!fx_is_null(s, "latest_invoice_id")) {
				snprintf(path, sizeof(path),
				    "/api/v1/invoices/%s/pay",
				    jstr(s, "latest_invoice_id"));
				prop_post(auth, path, "{}");
			}
			json_decref(s);
			break;
		}
		case 10: case 11: {
			json_t		*evs = json_array();
			char		*b;
			long long	 j, m = 1 + prop_pick(3);

			/* Usage now, on the clock (any plan: uncovered is kept). */
			for (j = 0; j < m; j++) {
				snprintf(body, sizeof(body), "%s-%d-%lld", sub,
				    step, j);
				json_array_append_new(evs, json_pack("{s:s, s:s, "
				    "s:s}", "event_id", body, "customer_id", cus,
				    "meter", "calls"));
			}
			b = json_dumps(json_pack("{s:o}", "events", evs),
			    JSON_COMPACT);
			ck_assert_int_eq(prop_post(auth, "/api/v1/usage/events",
			    b), 202);
			free(b);
			break;
		}
		default:
			if ((pay = prop_refundable(auth, sub, &left)) == NULL)
				break;
			snprintf(path, sizeof(path),
			    "/api/v1/payments/%s/refund", pay);
			if (prop_pick(2))
				snprintf(body, sizeof(body), "{\"amount\":"
				    "%lld}", 1 + prop_pick(left));
			else
				snprintf(body, sizeof(body), "{}");
			ck_assert_int_eq(prop_post(auth, path, body), 201);
			free(pay);
			break;
		}
	}
	/* Then long enough for renewals, retries and period ends. */
	now += prop_pick(90 * DAY);
	fx_clock_to(auth, clock, now);
	free(clock);
	free(cus);
	free(sub);
}

/* A client: its own tenant, N life cycles. Exits 0 when all went well. */
static void
prop_client(int k, long n, unsigned long long seed, const char *tenant_file)
{
	struct tenant	 t;
	struct resp	*r;
	char		*plans[PROP_NPLANS], body[512];
	FILE		*f;
	size_t		 i;
	long		 c;

	prop_state = seed + (unsigned long long)k * 0x1000193ULL;
	tenant_register(&t, NULL);
	if ((f = fopen(tenant_file, "w")) != NULL) {
		fprintf(f, "%s\n", t.id);
		fclose(f);
	}
	for (i = 0; i < PROP_NSTATIC; i++)
		plans[i] = fx_plan_new(t.sk_test, prop_plans[i]);
	r = api_post("/api/v1/meters", t.sk_test, "{\"code\":\"calls\","
	    "\"name\":\"API calls\",\"aggregation\":\"count\"}", NULL);
	assert_status(r, 201);
	for (; i < PROP_NPLANS; i++) {
		snprintf(body, sizeof(body), prop_usage_plans[i - PROP_NSTATIC],
		    jstr(r->json, "id"));
		plans[i] = fx_plan_new(t.sk_test, body);
	}
	resp_free(r);
	for (c = 0; c < n; c++)
		prop_cycle(t.sk_test, plans);
	for (i = 0; i < PROP_NPLANS; i++)
		free(plans[i]);
	tenant_free(&t);
}

/* One invariant: SQL counts the violations for tenant $1; 0 expected. */
struct prop_check {
	const char	*what;
	const char	*sql;
};

static const struct prop_check prop_checks[] = {
	{ "amount_paid is the sum of the succeeded payments",
	  "SELECT count(*) FROM invoices i WHERE i.tenant_id = $1 AND "
	  "i.status = 'paid' AND i.amount_paid <> (SELECT coalesce(sum("
	  "p.amount), 0) FROM payments p WHERE p.tenant_id = i.tenant_id AND "
	  "p.invoice_id = i.id AND p.status <> 'failed')" },
	{ "paid with nothing due: no payment, attempt_count 0",
	  "SELECT count(*) FROM invoices i WHERE i.tenant_id = $1 AND "
	  "i.status = 'paid' AND i.amount_due = 0 AND (i.attempt_count <> 0 "
	  "OR EXISTS (SELECT 1 FROM payments p WHERE p.tenant_id = "
	  "i.tenant_id AND p.invoice_id = i.id))" },
	{ "fee = round_half_up(amount x 15.00%), net the rest",
	  "SELECT count(*) FROM payments WHERE tenant_id = $1 AND "
	  "(application_fee_amount <> (amount * 1500 + 5000) / 10000 OR "
	  "net_amount <> amount - application_fee_amount)" },
	{ "refunds within the payment",
	  "SELECT count(*) FROM payments p WHERE p.tenant_id = $1 AND "
	  "p.amount_refunded <> (SELECT coalesce(sum(r.amount), 0) FROM "
	  "refunds r WHERE r.tenant_id = p.tenant_id AND r.payment_id = p.id)" },
	{ "no period billed twice (plan lines never overlap uncredited)",
	  "WITH pl AS (SELECT i.subscription_id AS sub, l.period_start AS s, "
	  "l.period_end AS e, lag(l.period_end) OVER w AS prev_e, "
	  "lag(l.amount) OVER w AS prev_amount FROM invoice_lines l JOIN "
	  "invoices i ON i.tenant_id = l.tenant_id AND i.id = l.invoice_id "
	  "WHERE l.tenant_id = $1 AND l.kind = 'plan' AND i.status <> 'void' "
	  "WINDOW w AS (PARTITION BY i.subscription_id ORDER BY "
	  "l.period_start, l.id)) SELECT count(*) FROM pl WHERE prev_e > s "
	  "AND prev_amount <> 0 AND NOT EXISTS (SELECT 1 FROM invoice_lines c "
	  "JOIN invoices ic ON ic.tenant_id = c.tenant_id AND ic.id = "
	  "c.invoice_id WHERE c.tenant_id = $1 AND ic.subscription_id = "
	  "pl.sub AND c.kind = 'proration' AND c.amount < 0 AND "
	  "c.period_start <= pl.s AND c.period_end >= least(pl.prev_e, pl.e)) "
	  /*
	   * BILLING.md: a credit prorates the price in effect at its time. A
	   * change with proration_behavior none to the free plan leaves a
	   * price of 0 in effect, so the interval change after it credits
	   * nothing, rightly.
	   */
	  "AND NOT EXISTS (SELECT 1 FROM events ev JOIN plans op ON "
	  "op.tenant_id = ev.tenant_id AND op.id = ev.data->"
	  "'previous_attributes'->>'plan_id' WHERE ev.tenant_id = $1 AND "
	  "ev.type = 'subscription.updated' AND ev.data->'object'->>'id' = "
	  "pl.sub AND ev.created = pl.s AND op.amount = 0)" },
	{ "one first or renewal invoice per subscription period",
	  "SELECT count(*) FROM (SELECT i.subscription_id, l.period_start "
	  "FROM invoice_lines l JOIN invoices i ON i.tenant_id = l.tenant_id "
	  "AND i.id = l.invoice_id WHERE l.tenant_id = $1 AND l.kind = "
	  "'plan' AND i.billing_reason IN ('subscription_create', "
	  "'subscription_cycle') GROUP BY 1, 2 HAVING count(*) > 1) x" },
	{ "balances are <= 0",
	  "SELECT count(*) FROM customers WHERE tenant_id = $1 AND "
	  "balance > 0" },
	{ "balance = what finalized invoices moved",
	  "SELECT count(*) FROM customers c WHERE c.tenant_id = $1 AND "
	  "c.balance <> (SELECT coalesce(sum(i.ending_balance - "
	  "i.starting_balance), 0) FROM invoices i WHERE i.tenant_id = "
	  "c.tenant_id AND i.customer_id = c.id AND i.number IS NOT NULL)" },
	{ "a negative total became balance",
	  "SELECT count(*) FROM invoices WHERE tenant_id = $1 AND number IS "
	  "NOT NULL AND total <= 0 AND (amount_due <> 0 OR ending_balance <> "
	  "starting_balance + total)" },
	{ "amount_due follows the balance rule",
	  "SELECT count(*) FROM invoices WHERE tenant_id = $1 AND number IS "
	  "NOT NULL AND total > 0 AND (amount_due <> total - least("
	  "-starting_balance, total) OR ending_balance <> starting_balance + "
	  "least(-starting_balance, total))" },
	{ "total is the sum of the lines",
	  "SELECT count(*) FROM invoices i WHERE i.tenant_id = $1 AND "
	  "(i.total <> i.subtotal OR i.subtotal <> (SELECT coalesce(sum("
	  "l.amount), 0) FROM invoice_lines l WHERE l.tenant_id = i.tenant_id "
	  "AND l.invoice_id = i.id))" },
	{ "nothing billable dropped when a subscription ends",
	  "SELECT count(*) FROM subscription_pending_items p JOIN "
	  "subscriptions s ON s.tenant_id = p.tenant_id AND s.id = "
	  "p.subscription_id WHERE p.tenant_id = $1 AND s.status = "
	  "'canceled' AND p.invoice_id IS NULL AND p.amount <> 0" },
	{ "usage billed once, all of it, when a subscription ends",
	  /*
	   * A canceled subscription that kept its usage plan: its usage
	   * lines bill exactly its customer's events from the end of any
	   * trial (free) to the cancel; paused time took no events.
	   */
	  "SELECT count(*) FROM subscriptions s JOIN plans p ON p.tenant_id "
	  "= s.tenant_id AND p.id = s.plan_id WHERE s.tenant_id = $1 AND "
	  "s.status = 'canceled' AND jsonb_array_length(p.charges) > 0 AND "
	  "NOT EXISTS (SELECT 1 FROM events e WHERE e.tenant_id = s.tenant_id "
	  "AND e.type = 'subscription.updated' AND e.data->'object'->>'id' = "
	  "s.id AND e.data->'previous_attributes' ? 'plan_id') AND "
	  "(SELECT coalesce(sum(l.quantity), 0) FROM invoice_lines l JOIN "
	  "invoices i ON i.tenant_id = l.tenant_id AND i.id = l.invoice_id "
	  "WHERE l.tenant_id = s.tenant_id AND i.subscription_id = s.id AND "
	  "l.kind = 'usage') <> (SELECT count(*) FROM usage_events u WHERE "
	  "u.tenant_id = s.tenant_id AND u.livemode = s.livemode AND "
	  "u.customer_id = s.customer_id AND u.timestamp >= "
	  "greatest(s.started_at, coalesce(s.trial_end, s.started_at)) AND "
	  "u.timestamp < s.canceled_at)" },
	{ "invoice.created for each invoice",
	  "SELECT count(*) FROM invoices i WHERE i.tenant_id = $1 AND NOT "
	  "EXISTS (SELECT 1 FROM events e WHERE e.tenant_id = i.tenant_id AND "
	  "e.type = 'invoice.created' AND e.data->'object'->>'id' = i.id)" },
	{ "payment.succeeded or payment.failed for each payment",
	  "SELECT count(*) FROM payments p WHERE p.tenant_id = $1 AND NOT "
	  "EXISTS (SELECT 1 FROM events e WHERE e.tenant_id = p.tenant_id AND "
	  "e.type IN ('payment.succeeded', 'payment.failed') AND "
	  "e.data->'object'->>'id' = p.id)" },
	{ "subscription.canceled for each canceled subscription",
	  "SELECT count(*) FROM subscriptions s WHERE s.tenant_id = $1 AND "
	  "s.status = 'canceled' AND NOT EXISTS (SELECT 1 FROM events e WHERE "
	  "e.tenant_id = s.tenant_id AND e.type = 'subscription.canceled' AND "
	  "e.data->'object'->>'id' = s.id)" },
	{ "payment.refunded for each refund",
	  "SELECT count(*) FROM refunds r WHERE r.tenant_id = $1 AND "
	  "(SELECT count(*) FROM events e WHERE e.tenant_id = r.tenant_id AND "
	  "e.type = 'payment.refunded' AND e.data->'object'->>'id' = "
	  "r.payment_id) < 1" },
	{ "no open invoice is retried for a canceled subscription",
	  "SELECT count(*) FROM invoices i JOIN subscriptions s ON "
	  "s.tenant_id = i.tenant_id AND s.id = i.subscription_id WHERE "
	  "i.tenant_id = $1 AND s.status = 'canceled' AND i.status = 'open' "
	  "AND i.next_payment_attempt IS NOT NULL" },
};

START_TEST(property_life_cycles)
{
	const char	*url = getenv("DATABASE_URL"), *dir;
	long		 n = env_long("BILLOW_PROPERTY_CYCLES", 2000);
	long		 clients = env_long("BILLOW_PROPERTY_CLIENTS", 4);
	unsigned long long seed = (unsigned long long)env_long(
	    "BILLOW_PROPERTY_SEED", (long)time(NULL));
	char		 file[8][512], tid[128];
	const char	*p[1];
	pid_t		 pid[8];
	PGconn		*c;
	PGresult	*res;
	FILE		*f;
	long		 k, fails = 0, checked = 0;
	size_t		 i;
	int		 status;

	ck_assert_msg(url != NULL && *url != '\0', "DATABASE_URL must name "
	    "the test database for this test");
	if (clients < 1 || clients > 8)
		clients = 4;
	dir = getenv("BILLOW_TEST_DIR") != NULL ? getenv("BILLOW_TEST_DIR") :
	    "/tmp";
	printf("property: %ld life cycles, %ld clients, seed %llu\n", n,
	    clients, seed);
	fflush(stdout);
	for (k = 0; k < clients; k++) {
		snprintf(file[k], sizeof(file[k]), "%s/property-%d-%ld",
		    dir, (int)getpid(), k);
		pid[k] = fork();
		ck_assert(pid[k] >= 0);
		if (pid[k] == 0) {
			/* A failed check exits the child non-zero. */
			prop_client((int)k, n / clients + (k < n % clients),
			    seed, file[k]);
			_exit(0);
		}
	}
	for (k = 0; k < clients; k++) {
		ck_assert(waitpid(pid[k], &status, 0) == pid[k]);
		if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
			fails++;
	}
	ck_assert_msg(fails == 0, "%ld of %ld clients failed (seed %llu)",
	    fails, clients, seed);

	c = PQconnectdb(url);
	ck_assert_msg(PQstatus(c) == CONNECTION_OK, "cannot connect: %s",
	    PQerrorMessage(c));
	for (k = 0; k < clients; k++) {
		f = fopen(file[k], "r");
		ck_assert_msg(f != NULL && fgets(tid, sizeof(tid), f) != NULL,
		    "client %ld wrote no tenant", k);
		fclose(f);
		unlink(file[k]);
		tid[strcspn(tid, "\n")] = '\0';
		p[0] = tid;
		for (i = 0; i < sizeof(prop_checks) / sizeof(prop_checks[0]);
		    i++) {
			res = PQexecParams(c, prop_checks[i].sql, 1, NULL, p,
			    NULL, NULL, 0);
			ck_assert_msg(PQresultStatus(res) == PGRES_TUPLES_OK,
			    "%s: %s", prop_checks[i].what, PQerrorMessage(c));
			ck_assert_msg(strcmp(PQgetvalue(res, 0, 0), "0") == 0,
			    "invariant broken (seed %llu, tenant %s): %s: %s "
			    "violations", seed, tid, prop_checks[i].what,
			    PQgetvalue(res, 0, 0));
			PQclear(res);
			checked++;
		}
		/* Something happened at all: invoices and payments exist. */
		res = PQexecParams(c, "SELECT (SELECT count(*) FROM invoices "
		    "WHERE tenant_id = $1), (SELECT count(*) FROM payments "
		    "WHERE tenant_id = $1)", 1, NULL, p, NULL, NULL, 0);
		ck_assert(PQresultStatus(res) == PGRES_TUPLES_OK);
		ck_assert_msg(atol(PQgetvalue(res, 0, 0)) > 0 &&
		    atol(PQgetvalue(res, 0, 1)) > 0, "tenant %s billed nothing",
		    tid);
		printf("property: tenant %s: %s invoices, %s payments, all "
		    "invariants hold\n", tid, PQgetvalue(res, 0, 0),
		    PQgetvalue(res, 0, 1));
		PQclear(res);
	}
	PQfinish(c);
	ck_assert_int_gt(checked, 0);
}
END_TEST

Suite *
suite_property(void)
{
	Suite	*s = suite_create("property");
	TCase	*tc = tcase_create("property");

	/* Thousands of life cycles: minutes, not seconds. */
	tcase_set_timeout(tc, 900);
	tcase_add_test(tc, property_life_cycles);
	suite_add_tcase(s, tc);
	return s;
}
