/*
 * Subscription changes mid-period and the upcoming invoice (API.md
 * "Subscriptions", "Invoices"; BILLING.md "Changes mid-period"), driven
 * through test clocks against a server that loads the proration plugin:
 * the exact proration lines of an upgrade, a quantity change and a
 * downgrade, the three proration behaviors, an interval change, the
 * validation and state errors, and GET /invoices/upcoming previewing,
 * line for line, the invoice the clock then creates, without writing.
 *
 * Every expected value is worked out by hand in the comments. January
 * 2024 is the period of most tests: s = 2024-01-01T00:00:00Z, e =
 * 2024-02-01T00:00:00Z, e - s = 31 days = 2,678,400 s.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fixtures.h"

#define JAN1	"2024-01-01T00:00:00Z"
#define MONTH	2678400LL	/* January 2024 */

/* UNIX seconds of the RFC 3339 UTC time S. */
static long long
ts(const char *s)
{
	json_t		*j = json_pack("{s:s}", "t", s);
	long long	 t = fx_time(j, "t");

	json_decref(j);
	return t;
}

static json_t *
sub_get(const char *auth, const char *sub)
{
	return fx_get(auth, "/api/v1/subscriptions/%s", sub);
}

static struct resp *
sub_patch(const char *auth, const char *sub, const char *json)
{
	char	path[200];

	snprintf(path, sizeof(path), "/api/v1/subscriptions/%s", sub);
	return api_patch(path, auth, json, NULL);
}

/* PATCH that must answer 200; the subscription (decref). */
static json_t *
sub_patch_ok(const char *auth, const char *sub, const char *json)
{
	struct resp	*r = sub_patch(auth, sub, json);
	json_t		*j;

	assert_status(r, 200);
	j = json_incref(r->json);
	resp_free(r);
	return j;
}

/* GET /invoices/upcoming?subscription_id=SUB plus "&..." QUERY. */
static struct resp *
upcoming(const char *auth, const char *sub, const char *query)
{
	char	path[512];

	snprintf(path, sizeof(path), "/api/v1/invoices/upcoming?"
	    "subscription_id=%s%s", sub, query);
	return api_get(path, auth, NULL);
}

static json_t *
upcoming_ok(const char *auth, const char *sub, const char *query)
{
	struct resp	*r = upcoming(auth, sub, query);
	json_t		*j;

	assert_status(r, 200);
	j = json_incref(r->json);
	resp_free(r);
	return j;
}

/* Asserts line I of invoice INV, all of it. */
#define assert_line(inv, i, kind, desc, amount, unit, qty, start, end) \
	assert_line_at((inv), (i), (kind), (desc), (amount), (unit),	\
	    (qty), (start), (end), __LINE__)

static void
assert_line_at(json_t *inv, size_t i, const char *kind, const char *desc,
    long long amount, long long unit, long long qty, long long start,
    long long end, int line)
{
	json_t	*l = json_array_get(json_object_get(inv, "lines"), i);

	ck_assert_msg(l != NULL, "line %d: no line %zu", line, i);
	ck_assert_msg(strcmp(jstr(l, "kind"), kind) == 0, "line %d: kind %s",
	    line, jstr(l, "kind"));
	ck_assert_msg(strcmp(jstr(l, "description"), desc) == 0,
	    "line %d: description %s", line, jstr(l, "description"));
	ck_assert_msg(fx_int(l, "amount") == amount, "line %d: amount %lld, "
	    "want %lld", line, fx_int(l, "amount"), amount);
	ck_assert_msg(fx_int(l, "unit_amount") == unit, "line %d: unit %lld",
	    line, fx_int(l, "unit_amount"));
	ck_assert_msg(fx_int(l, "quantity") == qty, "line %d: quantity %lld",
	    line, fx_int(l, "quantity"));
	ck_assert_msg(fx_time(l, "period_start") == start, "line %d: start",
	    line);
	ck_assert_msg(fx_time(l, "period_end") == end, "line %d: end", line);
}

static size_t
nlines(json_t *inv)
{
	return json_array_size(json_object_get(inv, "lines"));
}

static size_t
ninvoices(const char *auth, const char *sub)
{
	json_t	*invs = fx_sub_invoices(auth, sub);
	size_t	 n = json_array_size(invs);

	json_decref(invs);
	return n;
}

/* How many of the tenant's objects GET PATH lists (at most 100). */
static size_t
count_list(const char *auth, const char *path)
{
	json_t	*l = fx_get(auth, "%s", path);
	size_t	 n = json_array_size(json_object_get(l, "data"));

	json_decref(l);
	return n;
}

/* A plan named NAME in CURRENCY with the members EXTRA; its id (free). */
static char *
plan_new(const char *auth, const char *name, const char *currency,
    const char *extra)
{
	struct resp	*r;
	char		 body[512], *id;

	snprintf(body, sizeof(body), "{\"name\":\"%s\",\"currency\":\"%s\","
	    "%s}", name, currency, extra);
	r = api_post("/api/v1/plans", auth, body, NULL);
	assert_status(r, 201);
	id = strdup(jstr(r->json, "id"));
	resp_free(r);
	return id;
}

/* A tenant's January set-up: a clock at Jan 1, a customer and plans. */
struct fx {
	struct tenant	 t;
	char		*clock;
	char		*cus;
	char		*basic;		/* 1999 a month */
	char		*pro;		/* 4999 a month */
};

static void
fx_setup(struct fx *f, const char *pm)
{
	tenant_register(&f->t, NULL);
	f->clock = fx_clock_new(f->t.sk_test, JAN1);
	f->cus = fx_customer_new(f->t.sk_test, pm, f->clock);
	f->basic = plan_new(f->t.sk_test, "Basic", "usd", "\"amount\":1999,"
	    "\"interval\":\"month\"");
	f->pro = plan_new(f->t.sk_test, "Pro", "usd", "\"amount\":4999,"
	    "\"interval\":\"month\"");
}

static void
fx_teardown(struct fx *f)
{
	free(f->clock);
	free(f->cus);
	free(f->basic);
	free(f->pro);
	tenant_free(&f->t);
}

/* {"plan_id":PLAN,...REST} into BUF. */
static const char *
body_plan(char *buf, size_t len, const char *plan, const char *rest)
{
	snprintf(buf, len, "{\"plan_id\":\"%s\"%s}", plan, rest);
	return buf;
}

/*
 * An upgrade from Basic 1000 × 3 to Pro 4999 × 5 at t =
 * 2024-01-17T05:58:48Z, which leaves e - t = 1,274,472 s of 2,678,400.
 * Credit: 3000 × 1,274,472 / 2,678,400 = 3,823,416,000 / 2,678,400 =
 * 1427.5 exactly: -round(1427.5) = -1428 (the negation of a rounded
 * positive value, never round(-1427.5) = -1427).
 * Charge: 24,995 × 1,274,472 = 31,855,427,640; / 2,678,400 = 11,893.45…
 * → 11,893.
 * With create_prorations both become pending items: no invoice now; at
 * e the renewal bills Pro × 5 = 24,995 for [Feb 1, Mar 1) and then the
 * two lines: 24,995 - 1,428 + 11,893 = 35,460.
 */
START_TEST(changes_upgrade_prorates_exactly)
{
	struct fx	 f;
	json_t		*sub, *invs, *inv, *evs;
	char		*basic1000, *id, body[256];
	long long	 t = ts("2024-01-17T05:58:48Z");
	long long	 e = ts("2024-02-01T00:00:00Z");

	fx_setup(&f, "pm_card_visa");
	basic1000 = plan_new(f.t.sk_test, "Basic", "usd", "\"amount\":1000,"
	    "\"interval\":\"month\"");
	id = fx_sub_new(f.t.sk_test, f.cus, basic1000, "\"quantity\":3");
	ck_assert_int_eq(e - t, 1274472);
	fx_clock_to(f.t.sk_test, f.clock, t);

	sub = sub_patch_ok(f.t.sk_test, id, body_plan(body, sizeof(body),
	    f.pro, ",\"quantity\":5"));
	assert_jstr(sub, "plan_id", f.pro);
	ck_assert_int_eq(fx_int(sub, "quantity"), 5);
	assert_jstr(sub, "status", "active");
	/* The period is unchanged by a change within the same interval. */
	ck_assert_int_eq(fx_time(sub, "current_period_start"), ts(JAN1));
	ck_assert_int_eq(fx_time(sub, "current_period_end"), e);
	json_decref(sub);
	/* create_prorations invoices nothing now. */
	ck_assert_int_eq(ninvoices(f.t.sk_test, id), 1);
	evs = fx_events(f.t.sk_test, "subscription.updated", id);
	ck_assert_int_eq(json_array_size(evs), 1);
	assert_jstr(json_array_get(evs, 0), "data.previous_attributes.plan_id",
	    basic1000);
	ck_assert_int_eq(fx_int(json_array_get(evs, 0),
	    "data.previous_attributes.quantity"), 3);
	ck_assert_int_eq(fx_time(json_array_get(evs, 0), "created"), t);
	json_decref(evs);

	/*
	 * A preview naming always_invoice but no change: PATCH would invoice
	 * nothing now, so the next invoice is still the renewal at e.
	 */
	inv = upcoming_ok(f.t.sk_test, id,
	    "&proration_behavior=always_invoice");
	ck_assert_int_eq(nlines(inv), 3);
	assert_jstr(inv, "lines.0.kind", "plan");
	ck_assert_int_eq(fx_time(inv, "created"), e);
	json_decref(inv);

	fx_clock_to(f.t.sk_test, f.clock, e);
	invs = fx_sub_invoices(f.t.sk_test, id);
	ck_assert_int_eq(json_array_size(invs), 2);
	inv = json_array_get(invs, 1);
	ck_assert_int_eq(nlines(inv), 3);
	assert_line(inv, 0, "plan", "Pro \xc3\x97 5", 24995, 4999, 5, e,
	    ts("2024-03-01T00:00:00Z"));
	assert_line(inv, 1, "proration", "Unused time on Basic \xc3\x97 3",
	    -1428, 1000, 3, t, e);
	assert_line(inv, 2, "proration", "Remaining time on Pro \xc3\x97 5",
	    11893, 4999, 5, t, e);
	ck_assert_int_eq(fx_int(inv, "total"), 35460);
	ck_assert_int_eq(fx_int(inv, "amount_paid"), 35460);
	assert_jstr(inv, "status", "paid");
	/* The period spans every line: [t, Mar 1). */
	ck_assert_int_eq(fx_time(inv, "period_start"), t);
	json_decref(invs);

	free(basic1000);
	free(id);
	fx_teardown(&f);
}
END_TEST

/*
 * A quantity change only, Basic 1999 × 3 → × 7 at t =
 * 2024-01-25T23:59:59Z: e - t = 518,401 s.
 * Credit: 5997 × 518,401 = 3,108,850,797; / 2,678,400 = 1160.71… → -1161.
 * Charge: 13,993 × 518,401 = 7,253,985,193; / 2,678,400 = 2708.33… →
 * 2708. The upcoming invoice shows them after the plan line 13,993:
 * 13,993 - 1,161 + 2,708 = 15,540.
 */
START_TEST(changes_quantity_only)
{
	struct fx	 f;
	json_t		*sub, *inv;
	char		*id;
	long long	 t = ts("2024-01-25T23:59:59Z");
	long long	 e = ts("2024-02-01T00:00:00Z");

	fx_setup(&f, "pm_card_visa");
	id = fx_sub_new(f.t.sk_test, f.cus, f.basic, "\"quantity\":3");
	fx_clock_to(f.t.sk_test, f.clock, t);
	sub = sub_patch_ok(f.t.sk_test, id, "{\"quantity\":7}");
	assert_jstr(sub, "plan_id", f.basic);
	ck_assert_int_eq(fx_int(sub, "quantity"), 7);
	json_decref(sub);

	inv = upcoming_ok(f.t.sk_test, id, "");
	ck_assert_int_eq(nlines(inv), 3);
	assert_line(inv, 0, "plan", "Basic \xc3\x97 7", 13993, 1999, 7, e,
	    ts("2024-03-01T00:00:00Z"));
	assert_line(inv, 1, "proration", "Unused time on Basic \xc3\x97 3",
	    -1161, 1999, 3, t, e);
	assert_line(inv, 2, "proration", "Remaining time on Basic \xc3\x97 7",
	    2708, 1999, 7, t, e);
	ck_assert_int_eq(fx_int(inv, "total"), 15540);
	json_decref(inv);
	free(id);
	fx_teardown(&f);
}
END_TEST

/*
 * A change in the period's very first second, then the renewal. Basic
 * 1999 × 1 from s = Jan 1 00:00:00; at t = s the quantity becomes 2 with
 * create_prorations: e - t = e - s, so the credit is the whole period,
 * -1999 × 1, and the charge 1999 × 2 = 3998, both pending items for [s, e).
 * At e the renewal bills 3998 for [Feb 1, Mar 1) with those two lines:
 * 3998 - 1999 + 3998 = 5997. Its earliest line starts at s, the first
 * invoice's start too: the no-double-billing guard keys on the plan
 * line's period, so this is a second invoice, not a conflict.
 */
START_TEST(changes_at_period_start_then_renewal)
{
	struct fx	 f;
	json_t		*sub, *invs, *inv;
	char		*id;
	long long	 s = ts(JAN1), e = ts("2024-02-01T00:00:00Z");

	fx_setup(&f, "pm_card_visa");
	id = fx_sub_new(f.t.sk_test, f.cus, f.basic, "");
	sub = sub_patch_ok(f.t.sk_test, id, "{\"quantity\":2}");
	ck_assert_int_eq(fx_int(sub, "quantity"), 2);
	json_decref(sub);
	fx_clock_to(f.t.sk_test, f.clock, e);

	invs = fx_sub_invoices(f.t.sk_test, id);
	ck_assert_int_eq(json_array_size(invs), 2);
	inv = json_array_get(invs, 0);
	ck_assert_int_eq(fx_int(inv, "total"), 1999);
	inv = json_array_get(invs, 1);
	assert_jstr(inv, "status", "paid");
	ck_assert_int_eq(fx_int(inv, "total"), 5997);
	ck_assert_int_eq(nlines(inv), 3);
	assert_line(inv, 0, "plan", "Basic \xc3\x97 2", 3998, 1999, 2, e,
	    ts("2024-03-01T00:00:00Z"));
	ck_assert_int_eq(fx_time(json_array_get(json_object_get(inv, "lines"),
	    1), "period_start"), s);
	json_decref(invs);
	free(id);
	fx_teardown(&f);
}
END_TEST

/*
 * always_invoice: Basic 1999 × 3 → Pro 4999 × 3 at t =
 * 2024-01-10T07:00:01Z, e - t = 1,875,599 s.
 * Credit: 5997 × 1,875,599 = 11,247,967,203; / 2,678,400 = 4199.51… →
 * -4200. Charge: 14,997 × 1,875,599 = 28,128,358,203; / 2,678,400 =
 * 10,501.93… → 10,502. An invoice now (billing time t) of 6302, collected
 * at once by the card.
 */
START_TEST(changes_always_invoice_collects_now)
{
	struct fx	 f;
	json_t		*sub, *invs, *inv;
	char		*id, body[256];
	long long	 t = ts("2024-01-10T07:00:01Z");
	long long	 e = ts("2024-02-01T00:00:00Z");

	fx_setup(&f, "pm_card_visa");
	id = fx_sub_new(f.t.sk_test, f.cus, f.basic, "\"quantity\":3");
	fx_clock_to(f.t.sk_test, f.clock, t);
	sub = sub_patch_ok(f.t.sk_test, id, body_plan(body, sizeof(body),
	    f.pro, ",\"proration_behavior\":\"always_invoice\""));
	assert_jstr(sub, "status", "active");

	invs = fx_sub_invoices(f.t.sk_test, id);
	ck_assert_int_eq(json_array_size(invs), 2);
	inv = json_array_get(invs, 1);
	assert_jstr(sub, "latest_invoice_id", jstr(inv, "id"));
	ck_assert_int_eq(nlines(inv), 2);
	assert_line(inv, 0, "proration", "Unused time on Basic \xc3\x97 3",
	    -4200, 1999, 3, t, e);
	assert_line(inv, 1, "proration", "Remaining time on Pro \xc3\x97 3",
	    10502, 4999, 3, t, e);
	ck_assert_int_eq(fx_int(inv, "total"), 6302);
	assert_jstr(inv, "status", "paid");
	ck_assert_int_eq(fx_int(inv, "amount_paid"), 6302);
	ck_assert_int_eq(fx_int(inv, "attempt_count"), 1);
	ck_assert_int_eq(fx_time(inv, "created"), t);
	json_decref(invs);
	json_decref(sub);

	/* Nothing is left pending: the renewal bills Pro × 3 alone. */
	fx_clock_to(f.t.sk_test, f.clock, e);
	invs = fx_sub_invoices(f.t.sk_test, id);
	ck_assert_int_eq(json_array_size(invs), 3);
	inv = json_array_get(invs, 2);
	ck_assert_int_eq(nlines(inv), 1);
	assert_line(inv, 0, "plan", "Pro \xc3\x97 3", 14997, 4999, 3, e,
	    ts("2024-03-01T00:00:00Z"));
	json_decref(invs);
	free(id);
	fx_teardown(&f);
}
END_TEST

/*
 * The same always_invoice change with a card that now declines: the
 * 6302 invoice stays open after one failed attempt, enters dunning (the
 * first retry one day after the failure, 2024-01-11T07:00:01Z) and the
 * subscription becomes past_due, which the one subscription.updated
 * names next to the plan.
 */
START_TEST(changes_always_invoice_declined_past_due)
{
	struct fx	 f;
	struct resp	*r;
	json_t		*sub, *invs, *inv, *evs, *ev;
	char		*id, body[256], path[200];
	long long	 t = ts("2024-01-10T07:00:01Z");

	fx_setup(&f, "pm_card_visa");
	id = fx_sub_new(f.t.sk_test, f.cus, f.basic, "\"quantity\":3");
	snprintf(path, sizeof(path), "/api/v1/customers/%s", f.cus);
	r = api_patch(path, f.t.sk_test, "{\"payment_method\":"
	    "\"pm_card_chargeDeclined\"}", NULL);
	assert_status(r, 200);
	resp_free(r);
	fx_clock_to(f.t.sk_test, f.clock, t);

	sub = sub_patch_ok(f.t.sk_test, id, body_plan(body, sizeof(body),
	    f.pro, ",\"proration_behavior\":\"always_invoice\""));
	assert_jstr(sub, "status", "past_due");
	invs = fx_sub_invoices(f.t.sk_test, id);
	ck_assert_int_eq(json_array_size(invs), 2);
	inv = json_array_get(invs, 1);
	assert_jstr(inv, "status", "open");
	ck_assert_int_eq(fx_int(inv, "amount_due"), 6302);
	ck_assert_int_eq(fx_int(inv, "attempt_count"), 1);
	ck_assert_int_eq(fx_time(inv, "next_payment_attempt"),
	    ts("2024-01-11T07:00:01Z"));
	assert_jstr(sub, "latest_invoice_id", jstr(inv, "id"));
	json_decref(invs);
	json_decref(sub);

	evs = fx_events(f.t.sk_test, "subscription.updated", id);
	ck_assert_int_eq(json_array_size(evs), 1);
	ev = json_array_get(evs, 0);
	assert_jstr(ev, "data.previous_attributes.status", "active");
	assert_jstr(ev, "data.previous_attributes.plan_id", f.basic);
	assert_jstr(ev, "data.object.status", "past_due");
	json_decref(evs);

	/*
	 * A change while past_due prorates the same way: Pro 4999 × 3 → × 4
	 * at t as well (no time has passed), create_prorations:
	 * credit -round(14,997 × 1,875,599 / 2,678,400) = -round(10,501.93…)
	 * = -10,502, charge round(19,996 × 1,875,599 / 2,678,400) =
	 * round(37,504,477,604 / 2,678,400 = 14,002.57…) = 14,003.
	 */
	sub = sub_patch_ok(f.t.sk_test, id, "{\"quantity\":4}");
	assert_jstr(sub, "status", "past_due");
	json_decref(sub);
	inv = upcoming_ok(f.t.sk_test, id, "");
	ck_assert_int_eq(nlines(inv), 3);
	ck_assert_int_eq(fx_int(inv, "lines.1.amount"), -10502);
	ck_assert_int_eq(fx_int(inv, "lines.2.amount"), 14003);
	json_decref(inv);
	free(id);
	fx_teardown(&f);
}
END_TEST

/*
 * none: Basic 1999 × 3 → Pro 4999 × 3 mid-January owes nothing now; the
 * renewal at Feb 1 bills Pro × 3 = 14,997 and nothing else.
 */
START_TEST(changes_none_from_next_period)
{
	struct fx	 f;
	json_t		*sub, *invs, *inv;
	char		*id, body[256];
	long long	 e = ts("2024-02-01T00:00:00Z");

	fx_setup(&f, "pm_card_visa");
	id = fx_sub_new(f.t.sk_test, f.cus, f.basic, "\"quantity\":3");
	fx_clock_to(f.t.sk_test, f.clock, ts("2024-01-13T13:13:13Z"));
	sub = sub_patch_ok(f.t.sk_test, id, body_plan(body, sizeof(body),
	    f.pro, ",\"proration_behavior\":\"none\""));
	assert_jstr(sub, "plan_id", f.pro);
	json_decref(sub);
	ck_assert_int_eq(ninvoices(f.t.sk_test, id), 1);

	fx_clock_to(f.t.sk_test, f.clock, e);
	invs = fx_sub_invoices(f.t.sk_test, id);
	ck_assert_int_eq(json_array_size(invs), 2);
	inv = json_array_get(invs, 1);
	ck_assert_int_eq(nlines(inv), 1);
	assert_line(inv, 0, "plan", "Pro \xc3\x97 3", 14997, 4999, 3, e,
	    ts("2024-03-01T00:00:00Z"));
	ck_assert_int_eq(fx_int(inv, "total"), 14997);
	json_decref(invs);
	free(id);
	fx_teardown(&f);
}
END_TEST

/*
 * A downgrade with always_invoice, Pro 4999 × 3 → Basic 1999 × 1 at t =
 * 2024-01-04T16:20:33Z, e - t = 2,360,367 s.
 * Credit: 14,997 × 2,360,367 = 35,398,423,899; / 2,678,400 = 13,216.26…
 * → -13,216. Charge: 1999 × 2,360,367 = 4,718,373,633; / 2,678,400 =
 * 1761.64… → 1762. Total -11,454 <= 0: amount_due 0, paid at once with
 * no payment, and the balance becomes 0 + (-11,454) = -11,454.
 * At Feb 1 the renewal (Basic × 1 = 1999) uses min(11,454, 1999) = 1999
 * of it: amount_due 0, balance -11,454 + 1999 = -9455.
 */
START_TEST(changes_downgrade_credit_becomes_balance)
{
	struct fx	 f;
	json_t		*invs, *inv, *cus, *sub;
	char		*id, body[256];
	long long	 t = ts("2024-01-04T16:20:33Z");
	long long	 e = ts("2024-02-01T00:00:00Z");

	fx_setup(&f, "pm_card_visa");
	id = fx_sub_new(f.t.sk_test, f.cus, f.pro, "\"quantity\":3");
	fx_clock_to(f.t.sk_test, f.clock, t);
	sub = sub_patch_ok(f.t.sk_test, id, body_plan(body, sizeof(body),
	    f.basic, ",\"quantity\":1,\"proration_behavior\":"
	    "\"always_invoice\""));
	json_decref(sub);

	invs = fx_sub_invoices(f.t.sk_test, id);
	ck_assert_int_eq(json_array_size(invs), 2);
	inv = json_array_get(invs, 1);
	assert_line(inv, 0, "proration", "Unused time on Pro \xc3\x97 3",
	    -13216, 4999, 3, t, e);
	assert_line(inv, 1, "proration", "Remaining time on Basic \xc3\x97 1",
	    1762, 1999, 1, t, e);
	ck_assert_int_eq(fx_int(inv, "total"), -11454);
	ck_assert_int_eq(fx_int(inv, "amount_due"), 0);
	ck_assert_int_eq(fx_int(inv, "starting_balance"), 0);
	ck_assert_int_eq(fx_int(inv, "ending_balance"), -11454);
	ck_assert_int_eq(fx_int(inv, "attempt_count"), 0);
	assert_jstr(inv, "status", "paid");
	json_decref(invs);
	cus = fx_get(f.t.sk_test, "/api/v1/customers/%s", f.cus);
	ck_assert_int_eq(fx_int(cus, "balance"), -11454);
	json_decref(cus);

	/* The preview applies that balance as finalization will. */
	inv = upcoming_ok(f.t.sk_test, id, "");
	ck_assert_int_eq(fx_int(inv, "total"), 1999);
	ck_assert_int_eq(fx_int(inv, "starting_balance"), -11454);
	ck_assert_int_eq(fx_int(inv, "amount_due"), 0);
	ck_assert_int_eq(fx_int(inv, "ending_balance"), -9455);
	json_decref(inv);

	fx_clock_to(f.t.sk_test, f.clock, e);
	invs = fx_sub_invoices(f.t.sk_test, id);
	inv = json_array_get(invs, 2);
	ck_assert_int_eq(fx_int(inv, "total"), 1999);
	ck_assert_int_eq(fx_int(inv, "amount_due"), 0);
	ck_assert_int_eq(fx_int(inv, "ending_balance"), -9455);
	json_decref(invs);
	cus = fx_get(f.t.sk_test, "/api/v1/customers/%s", f.cus);
	ck_assert_int_eq(fx_int(cus, "balance"), -9455);
	json_decref(cus);
	free(id);
	fx_teardown(&f);
}
END_TEST

/*
 * Month → year. Basic 1999 × 3 from Jan 1; at t1 = 2024-01-10T07:00:01Z
 * quantity 4 with create_prorations leaves two pending items:
 * -round(5997 × 1,875,599 / 2,678,400) = -round(4199.51…) = -4200 and
 * round(7996 × 1,875,599 / 2,678,400) = round(14,997,289,604 / 2,678,400
 * = 5599.35…) = 5599.
 * At t2 = 2024-01-20T12:00:00Z (e - t2 = 993,600 s) the plan becomes
 * Annual (19,999 a year) with proration_behavior none, which an interval
 * change ignores: the unused time is credited, -round(7996 × 993,600 /
 * 2,678,400) = -round(7,944,825,600 / 2,678,400 = 2966.26…) = -2966, and
 * a new period [t2, 2025-01-20T12:00:00Z) anchored at t2 is invoiced at
 * once: Annual × 4 = 79,996, the credit, then the pending items:
 * 79,996 - 2,966 - 4,200 + 5,599 = 78,429.
 */
START_TEST(changes_interval_month_to_year)
{
	struct fx	 f;
	json_t		*sub, *invs, *inv, *evs, *prev;
	char		*annual, *id, body[256];
	long long	 t1 = ts("2024-01-10T07:00:01Z");
	long long	 t2 = ts("2024-01-20T12:00:00Z");
	long long	 e = ts("2024-02-01T00:00:00Z");
	long long	 y = ts("2025-01-20T12:00:00Z");

	fx_setup(&f, "pm_card_visa");
	annual = plan_new(f.t.sk_test, "Annual", "usd", "\"amount\":19999,"
	    "\"interval\":\"year\"");
	id = fx_sub_new(f.t.sk_test, f.cus, f.basic, "\"quantity\":3");
	fx_clock_to(f.t.sk_test, f.clock, t1);
	json_decref(sub_patch_ok(f.t.sk_test, id, "{\"quantity\":4}"));
	fx_clock_to(f.t.sk_test, f.clock, t2);

	sub = sub_patch_ok(f.t.sk_test, id, body_plan(body, sizeof(body),
	    annual, ",\"proration_behavior\":\"none\""));
	ck_assert_int_eq(fx_time(sub, "current_period_start"), t2);
	ck_assert_int_eq(fx_time(sub, "current_period_end"), y);
	ck_assert_int_eq(fx_time(sub, "billing_cycle_anchor"), t2);
	assert_jstr(sub, "plan_id", annual);
	ck_assert_int_eq(fx_int(sub, "quantity"), 4);
	assert_jstr(sub, "status", "active");

	invs = fx_sub_invoices(f.t.sk_test, id);
	ck_assert_int_eq(json_array_size(invs), 2);
	inv = json_array_get(invs, 1);
	assert_jstr(sub, "latest_invoice_id", jstr(inv, "id"));
	ck_assert_int_eq(nlines(inv), 4);
	assert_line(inv, 0, "plan", "Annual \xc3\x97 4", 79996, 19999, 4, t2,
	    y);
	assert_line(inv, 1, "proration", "Unused time on Basic \xc3\x97 4",
	    -2966, 1999, 4, t2, e);
	assert_line(inv, 2, "proration", "Unused time on Basic \xc3\x97 3",
	    -4200, 1999, 3, t1, e);
	assert_line(inv, 3, "proration", "Remaining time on Basic \xc3\x97 4",
	    5599, 1999, 4, t1, e);
	ck_assert_int_eq(fx_int(inv, "total"), 78429);
	assert_jstr(inv, "status", "paid");
	ck_assert_int_eq(fx_int(inv, "amount_paid"), 78429);
	ck_assert_int_eq(fx_time(inv, "period_start"), t1);
	ck_assert_int_eq(fx_time(inv, "period_end"), y);
	json_decref(invs);
	json_decref(sub);

	evs = fx_events(f.t.sk_test, "subscription.updated", id);
	ck_assert_int_eq(json_array_size(evs), 2);
	prev = jget(json_array_get(evs, 1), "data.previous_attributes");
	ck_assert_int_eq(fx_time(prev, "current_period_start"), ts(JAN1));
	ck_assert_int_eq(fx_time(prev, "current_period_end"), e);
	ck_assert_int_eq(fx_time(prev, "billing_cycle_anchor"), ts(JAN1));
	assert_jstr(prev, "plan_id", f.basic);
	json_decref(evs);

	/* The old period end passes quietly; the next renewal is at y. */
	fx_clock_to(f.t.sk_test, f.clock, e);
	ck_assert_int_eq(ninvoices(f.t.sk_test, id), 2);
	fx_clock_to(f.t.sk_test, f.clock, y);
	invs = fx_sub_invoices(f.t.sk_test, id);
	ck_assert_int_eq(json_array_size(invs), 3);
	assert_line(json_array_get(invs, 2), 0, "plan",
	    "Annual \xc3\x97 4", 79996, 19999, 4, y,
	    ts("2026-01-20T12:00:00Z"));
	json_decref(invs);
	free(annual);
	free(id);
	fx_teardown(&f);
}
END_TEST

/*
 * The preview equals the invoice the clock then creates, line for line.
 * Basic 1999 × 3 from Jan 1; at t1 = 2024-01-10T07:00:01Z quantity 4
 * (pending: -4200 and +5599, worked out above). At t2 =
 * 2024-01-25T23:59:59Z (e - t2 = 518,401 s) the preview of Pro × 2 adds
 * the change's prorations: -round(7996 × 518,401 / 2,678,400) =
 * -round(4,145,134,396 / 2,678,400 = 1547.62…) = -1548 and
 * round(9998 × 518,401 / 2,678,400) = round(5,182,973,198 / 2,678,400 =
 * 1935.10…) = 1935. The renewal at Feb 1: Pro × 2 = 9998 for [Feb 1,
 * Mar 1), then the four items: 9998 - 4200 + 5599 - 1548 + 1935 =
 * 11,784, paid by the card.
 */
START_TEST(changes_upcoming_matches_renewal)
{
	struct fx	 f;
	json_t		*pre, *invs, *inv, *a, *b;
	char		*id, q[200], body[256];
	const char	*keys[] = { "kind", "description", "amount",
	    "unit_amount", "quantity", "period_start", "period_end",
	    "amount_decimal" };
	const char	*tops[] = { "subtotal", "total", "starting_balance",
	    "ending_balance", "amount_due", "period_start", "period_end",
	    "currency", "customer_id", "subscription_id", "created" };
	long long	 t1 = ts("2024-01-10T07:00:01Z");
	long long	 t2 = ts("2024-01-25T23:59:59Z");
	long long	 e = ts("2024-02-01T00:00:00Z");
	size_t		 i, k;

	fx_setup(&f, "pm_card_visa");
	id = fx_sub_new(f.t.sk_test, f.cus, f.basic, "\"quantity\":3");
	fx_clock_to(f.t.sk_test, f.clock, t1);
	json_decref(sub_patch_ok(f.t.sk_test, id, "{\"quantity\":4}"));
	fx_clock_to(f.t.sk_test, f.clock, t2);

	snprintf(q, sizeof(q), "&plan_id=%s&quantity=2", f.pro);
	pre = upcoming_ok(f.t.sk_test, id, q);
	assert_jstr(pre, "object", "invoice");
	ck_assert(fx_is_null(pre, "id"));
	ck_assert(fx_is_null(pre, "number"));
	assert_jstr(pre, "status", "draft");
	ck_assert_int_eq(nlines(pre), 5);
	ck_assert(fx_is_null(pre, "lines.0.id"));
	assert_line(pre, 0, "plan", "Pro \xc3\x97 2", 9998, 4999, 2, e,
	    ts("2024-03-01T00:00:00Z"));
	assert_line(pre, 1, "proration", "Unused time on Basic \xc3\x97 3",
	    -4200, 1999, 3, t1, e);
	assert_line(pre, 2, "proration", "Remaining time on Basic \xc3\x97 4",
	    5599, 1999, 4, t1, e);
	assert_line(pre, 3, "proration", "Unused time on Basic \xc3\x97 4",
	    -1548, 1999, 4, t2, e);
	assert_line(pre, 4, "proration", "Remaining time on Pro \xc3\x97 2",
	    1935, 4999, 2, t2, e);
	ck_assert_int_eq(fx_int(pre, "total"), 11784);
	ck_assert_int_eq(fx_int(pre, "amount_due"), 11784);
	ck_assert_int_eq(fx_time(pre, "created"), e);

	/* Now do it, and let the clock reach the period end. */
	json_decref(sub_patch_ok(f.t.sk_test, id, body_plan(body,
	    sizeof(body), f.pro, ",\"quantity\":2")));
	fx_clock_to(f.t.sk_test, f.clock, e);
	invs = fx_sub_invoices(f.t.sk_test, id);
	ck_assert_int_eq(json_array_size(invs), 2);
	inv = json_array_get(invs, 1);
	ck_assert_int_eq(nlines(inv), nlines(pre));
	for (i = 0; i < nlines(pre); i++) {
		a = json_array_get(json_object_get(pre, "lines"), i);
		b = json_array_get(json_object_get(inv, "lines"), i);
		for (k = 0; k < sizeof(keys) / sizeof(keys[0]); k++)
			ck_assert_msg(json_equal(json_object_get(a, keys[k]),
			    json_object_get(b, keys[k])), "line %zu: %s "
			    "differs", i, keys[k]);
	}
	for (k = 0; k < sizeof(tops) / sizeof(tops[0]); k++)
		ck_assert_msg(json_equal(json_object_get(pre, tops[k]),
		    json_object_get(inv, tops[k])), "%s differs", tops[k]);
	assert_jstr(inv, "status", "paid");
	json_decref(invs);
	json_decref(pre);
	free(id);
	fx_teardown(&f);
}
END_TEST

/*
 * A preview writes nothing: the tenant's invoices and events are the same
 * before and after previews with every option, and a plain preview
 * afterwards shows no proration (none was made pending). Any dashboard
 * role may read it.
 */
START_TEST(changes_upcoming_writes_nothing)
{
	struct fx	 f;
	json_t		*inv;
	char		*id, q[200], email[128], *dev, *tok;
	size_t		 ninv, nev;
	const char	*behaviors[] = { "create_prorations",
	    "always_invoice", "none" };
	size_t		 i;

	fx_setup(&f, "pm_card_visa");
	id = fx_sub_new(f.t.sk_test, f.cus, f.basic, "\"quantity\":3");
	fx_clock_to(f.t.sk_test, f.clock, ts("2024-01-09T09:09:09Z"));
	ninv = count_list(f.t.sk_test, "/api/v1/invoices?limit=100");
	nev = count_list(f.t.sk_test, "/api/v1/events?limit=100");
	ck_assert_int_eq(ninv, 1);
	ck_assert_int_gt(nev, 0);

	for (i = 0; i < 3; i++) {
		snprintf(q, sizeof(q), "&plan_id=%s&quantity=9"
		    "&proration_behavior=%s", f.pro, behaviors[i]);
		inv = upcoming_ok(f.t.sk_test, id, q);
		/* always_invoice previews the invoice it would make now. */
		ck_assert_int_eq(nlines(inv), i == 1 ? 2 : i == 0 ? 3 : 1);
		json_decref(inv);
	}
	ck_assert_int_eq(count_list(f.t.sk_test, "/api/v1/invoices?limit=100"),
	    ninv);
	ck_assert_int_eq(count_list(f.t.sk_test, "/api/v1/events?limit=100"),
	    nev);

	/* Nothing became pending: the plain preview is the plan line. */
	inv = upcoming_ok(f.t.sk_test, id, "");
	ck_assert_int_eq(nlines(inv), 1);
	assert_line(inv, 0, "plan", "Basic \xc3\x97 3", 5997, 1999, 3,
	    ts("2024-02-01T00:00:00Z"), ts("2024-03-01T00:00:00Z"));
	ck_assert_int_eq(fx_int(inv, "starting_balance"), 0);
	ck_assert_int_eq(fx_int(inv, "amount_due"), 5997);
	json_decref(inv);

	/* A developer (read-only) dashboard token may read it. */
	dev = team_add(f.t.access, "developer", email, sizeof(email),
	    "dev-pass-1234");
	tok = login_access(email, "dev-pass-1234");
	inv = upcoming_ok(tok, id, "");
	ck_assert_int_eq(fx_int(inv, "total"), 5997);
	json_decref(inv);
	free(tok);
	free(dev);
	free(id);
	fx_teardown(&f);
}
END_TEST

/*
 * A trial billed nothing: a plan change during it makes no proration and
 * no invoice, and the upcoming invoice is the trial-end one for the new
 * plan: [trial_end, trial_end + 1 month). 14-day trial from Jan 1: ends
 * Jan 15, so the line is Pro × 2 = 9998 for [Jan 15, Feb 15).
 */
START_TEST(changes_trial_just_changes_plan)
{
	struct fx	 f;
	json_t		*sub, *inv;
	char		*id, body[256];
	long long	 te = ts("2024-01-15T00:00:00Z");

	fx_setup(&f, "pm_card_visa");
	id = fx_sub_new(f.t.sk_test, f.cus, f.basic,
	    "\"trial_period_days\":14");
	fx_clock_to(f.t.sk_test, f.clock, ts("2024-01-05T05:05:05Z"));
	sub = sub_patch_ok(f.t.sk_test, id, body_plan(body, sizeof(body),
	    f.pro, ",\"quantity\":2,\"proration_behavior\":"
	    "\"always_invoice\""));
	assert_jstr(sub, "status", "trial");
	assert_jstr(sub, "plan_id", f.pro);
	json_decref(sub);
	ck_assert_int_eq(ninvoices(f.t.sk_test, id), 0);

	inv = upcoming_ok(f.t.sk_test, id, "");
	ck_assert_int_eq(nlines(inv), 1);
	assert_line(inv, 0, "plan", "Pro \xc3\x97 2", 9998, 4999, 2, te,
	    ts("2024-02-15T00:00:00Z"));
	ck_assert_int_eq(fx_time(inv, "created"), te);
	json_decref(inv);

	/* The trial ends as previewed. */
	fx_clock_to(f.t.sk_test, f.clock, te);
	inv = fx_sub_invoices(f.t.sk_test, id);
	ck_assert_int_eq(json_array_size(inv), 1);
	assert_line(json_array_get(inv, 0), 0, "plan", "Pro \xc3\x97 2", 9998,
	    4999, 2, te, ts("2024-02-15T00:00:00Z"));
	json_decref(inv);
	free(id);
	fx_teardown(&f);
}
END_TEST

/*
 * cancel_at_period_end and metadata alone change just those, with one
 * event naming the old values; the same PATCH again (and an empty one)
 * changes nothing and writes no event. With the cancel waiting, the
 * upcoming invoice is the final one.
 */
START_TEST(changes_flags_and_metadata_only)
{
	struct fx	 f;
	struct resp	*r;
	json_t		*sub, *evs, *ev, *pre, *invs, *inv;
	char		*id;
	long long	 s = ts(JAN1), e = ts("2024-02-01T00:00:00Z");

	fx_setup(&f, "pm_card_visa");
	id = fx_sub_new(f.t.sk_test, f.cus, f.basic, "\"metadata\":"
	    "{\"team\":\"a\"}");
	sub = sub_patch_ok(f.t.sk_test, id, "{\"cancel_at_period_end\":true,"
	    "\"metadata\":{\"team\":\"b\",\"tier\":\"gold\"}}");
	ck_assert(json_is_true(jget(sub, "cancel_at_period_end")));
	assert_jstr(sub, "metadata.team", "b");
	assert_jstr(sub, "metadata.tier", "gold");
	assert_jstr(sub, "plan_id", f.basic);
	json_decref(sub);
	evs = fx_events(f.t.sk_test, "subscription.updated", id);
	ck_assert_int_eq(json_array_size(evs), 1);
	ev = json_array_get(evs, 0);
	ck_assert(json_is_false(jget(ev,
	    "data.previous_attributes.cancel_at_period_end")));
	assert_jstr(ev, "data.previous_attributes.metadata.team", "a");
	ck_assert(fx_is_null(ev, "data.previous_attributes.metadata.tier"));
	ck_assert(jget(ev, "data.previous_attributes.plan_id") == NULL);
	json_decref(evs);
	ck_assert_int_eq(ninvoices(f.t.sk_test, id), 1);

	json_decref(sub_patch_ok(f.t.sk_test, id,
	    "{\"cancel_at_period_end\":true,\"metadata\":{\"team\":\"b\"}}"));
	json_decref(sub_patch_ok(f.t.sk_test, id, "{}"));
	/* The same plan and quantity are no change either. */
	sub = sub_patch_ok(f.t.sk_test, id, "{\"quantity\":1}");
	json_decref(sub);
	evs = fx_events(f.t.sk_test, "subscription.updated", id);
	ck_assert_int_eq(json_array_size(evs), 1);
	json_decref(evs);

	/* "" removes a key. */
	sub = sub_patch_ok(f.t.sk_test, id, "{\"metadata\":{\"tier\":\"\"}}");
	ck_assert(jget(sub, "metadata.tier") == NULL);
	assert_jstr(sub, "metadata.team", "b");
	json_decref(sub);

	/* Ending at e with nothing to bill: no upcoming invoice. */
	r = upcoming(f.t.sk_test, id, "");
	assert_error(r, 409, "invalid_request_error", "invalid_state", NULL);
	resp_free(r);
	/*
	 * Quantity 1 → 2 at t = s (the clock has not moved): the whole
	 * period is left, credit -1999 and charge 3998 for [Jan 1, Feb 1),
	 * pending. They ride the final invoice at e (no plan line): 1999.
	 */
	json_decref(sub_patch_ok(f.t.sk_test, id, "{\"quantity\":2}"));
	pre = upcoming_ok(f.t.sk_test, id, "");
	ck_assert_int_eq(nlines(pre), 2);
	assert_line(pre, 0, "proration", "Unused time on Basic \xc3\x97 1",
	    -1999, 1999, 1, s, e);
	assert_line(pre, 1, "proration", "Remaining time on Basic \xc3\x97 2",
	    3998, 1999, 2, s, e);
	ck_assert_int_eq(fx_int(pre, "total"), 1999);
	ck_assert_int_eq(fx_time(pre, "created"), e);
	fx_clock_to(f.t.sk_test, f.clock, e);
	sub = sub_get(f.t.sk_test, id);
	assert_jstr(sub, "status", "canceled");
	json_decref(sub);
	invs = fx_sub_invoices(f.t.sk_test, id);
	ck_assert_int_eq(json_array_size(invs), 2);
	inv = json_array_get(invs, 1);
	ck_assert_int_eq(nlines(inv), 2);
	ck_assert(json_equal(jget(inv, "lines.0.amount"),
	    jget(pre, "lines.0.amount")));
	ck_assert(json_equal(jget(inv, "lines.1.description"),
	    jget(pre, "lines.1.description")));
	ck_assert_int_eq(fx_int(inv, "total"), 1999);
	json_decref(invs);
	json_decref(pre);
	free(id);
	fx_teardown(&f);
}
END_TEST

/* A plan in another currency: 400 currency_mismatch naming plan_id. */
START_TEST(changes_currency_mismatch)
{
	struct fx	 f;
	struct resp	*r;
	char		*eur, *id, body[256], q[200];

	fx_setup(&f, "pm_card_visa");
	eur = plan_new(f.t.sk_test, "Euro", "eur", "\"amount\":1999,"
	    "\"interval\":\"month\"");
	id = fx_sub_new(f.t.sk_test, f.cus, f.basic, "");
	r = sub_patch(f.t.sk_test, id, body_plan(body, sizeof(body), eur, ""));
	assert_error(r, 400, "invalid_request_error", "currency_mismatch",
	    "plan_id");
	resp_free(r);
	snprintf(q, sizeof(q), "&plan_id=%s", eur);
	r = upcoming(f.t.sk_test, id, q);
	assert_error(r, 400, "invalid_request_error", "currency_mismatch",
	    "plan_id");
	resp_free(r);
	/* Nothing changed. */
	ck_assert_int_eq(ninvoices(f.t.sk_test, id), 1);
	free(eur);
	free(id);
	fx_teardown(&f);
}
END_TEST

START_TEST(changes_validation_errors)
{
	struct fx	 f;
	struct resp	*r;
	json_t		*sub;
	char		*id, *onetime, *archived, body[256], path[200];
	size_t		 i;
	static const struct {
		const char	*body;
		const char	*code;
		const char	*param;
	} bad[] = {
		{ "{\"plan\":\"x\"}", "parameter_unknown", "plan" },
		{ "{\"quantity\":\"3\"}", "parameter_invalid", "quantity" },
		{ "{\"quantity\":0}", "parameter_invalid", "quantity" },
		{ "{\"quantity\":1000001}", "parameter_invalid", "quantity" },
		{ "{\"quantity\":2.5}", "parameter_invalid", "quantity" },
		{ "{\"plan_id\":42}", "parameter_invalid", "plan_id" },
		{ "{\"plan_id\":\"plan_nope\"}", "resource_missing",
		  "plan_id" },
		{ "{\"proration_behavior\":\"sometimes\"}",
		  "parameter_invalid", "proration_behavior" },
		{ "{\"cancel_at_period_end\":\"yes\"}", "parameter_invalid",
		  "cancel_at_period_end" },
		{ "{\"metadata\":[1]}", "parameter_invalid", "metadata" },
	};

	fx_setup(&f, "pm_card_visa");
	id = fx_sub_new(f.t.sk_test, f.cus, f.basic, "");
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		r = sub_patch(f.t.sk_test, id, bad[i].body);
		assert_error(r, 400, "invalid_request_error", bad[i].code,
		    bad[i].param);
		resp_free(r);
	}

	/* A one-time plan, and an archived one: not active recurring. */
	onetime = fx_plan_new(f.t.sk_test, "\"amount\":500,\"type\":"
	    "\"one_time\"");
	r = sub_patch(f.t.sk_test, id, body_plan(body, sizeof(body), onetime,
	    ""));
	assert_error(r, 400, "invalid_request_error", "parameter_invalid",
	    "plan_id");
	resp_free(r);
	archived = fx_plan_new(f.t.sk_test, "\"amount\":500,\"interval\":"
	    "\"month\"");
	snprintf(path, sizeof(path), "/api/v1/plans/%s", archived);
	r = api_patch(path, f.t.sk_test, "{\"is_active\":false}", NULL);
	assert_status(r, 200);
	resp_free(r);
	r = sub_patch(f.t.sk_test, id, body_plan(body, sizeof(body), archived,
	    ""));
	assert_error(r, 400, "invalid_request_error", "parameter_invalid",
	    "plan_id");
	resp_free(r);

	/* Unknown subscription: 404. */
	r = sub_patch(f.t.sk_test, "sub_nope", "{\"quantity\":2}");
	assert_error(r, 404, "invalid_request_error", NULL, NULL);
	resp_free(r);
	/* Publishable keys may not write. */
	r = sub_patch(f.t.pk_test, id, "{\"quantity\":2}");
	ck_assert_int_eq(r->status, 403);
	resp_free(r);

	/* The upcoming preview's own inputs. */
	r = api_get("/api/v1/invoices/upcoming", f.t.sk_test, NULL);
	assert_error(r, 400, "invalid_request_error", "parameter_missing",
	    "subscription_id");
	resp_free(r);
	r = upcoming(f.t.sk_test, id, "&quantity=abc");
	assert_error(r, 400, "invalid_request_error", "parameter_invalid",
	    "quantity");
	resp_free(r);
	r = upcoming(f.t.sk_test, id, "&quantity=0");
	assert_error(r, 400, "invalid_request_error", "parameter_invalid",
	    "quantity");
	resp_free(r);
	r = upcoming(f.t.sk_test, id, "&proration_behavior=later");
	assert_error(r, 400, "invalid_request_error", "parameter_invalid",
	    "proration_behavior");
	resp_free(r);
	r = upcoming(f.t.sk_test, id, "&plan_id=plan_nope");
	assert_error(r, 400, "invalid_request_error", "resource_missing",
	    "plan_id");
	resp_free(r);
	r = upcoming(f.t.sk_test, "sub_nope", "");
	assert_error(r, 404, "invalid_request_error", NULL, NULL);
	resp_free(r);

	/* None of it changed the subscription. */
	sub = sub_get(f.t.sk_test, id);
	assert_jstr(sub, "plan_id", f.basic);
	ck_assert_int_eq(fx_int(sub, "quantity"), 1);
	json_decref(sub);
	free(onetime);
	free(archived);
	free(id);
	fx_teardown(&f);
}
END_TEST

/*
 * Canceled: no PATCH at all and no upcoming invoice (409 invalid_state).
 * Paused: no plan or quantity change (409), but metadata may change.
 */
START_TEST(changes_canceled_and_paused_conflict)
{
	struct fx	 f;
	struct resp	*r;
	json_t		*sub;
	char		*id, *id2, path[200];

	fx_setup(&f, "pm_card_visa");
	id = fx_sub_new(f.t.sk_test, f.cus, f.basic, "");
	snprintf(path, sizeof(path), "/api/v1/subscriptions/%s/cancel", id);
	r = api_post(path, f.t.sk_test, "{}", NULL);
	assert_status(r, 200);
	resp_free(r);
	r = sub_patch(f.t.sk_test, id, "{\"quantity\":2}");
	assert_error(r, 409, "invalid_request_error", "invalid_state", NULL);
	resp_free(r);
	r = sub_patch(f.t.sk_test, id, "{\"metadata\":{\"a\":\"b\"}}");
	assert_error(r, 409, "invalid_request_error", "invalid_state", NULL);
	resp_free(r);
	r = upcoming(f.t.sk_test, id, "");
	assert_error(r, 409, "invalid_request_error", "invalid_state", NULL);
	resp_free(r);

	id2 = fx_sub_new(f.t.sk_test, f.cus, f.basic, "");
	snprintf(path, sizeof(path), "/api/v1/subscriptions/%s/pause", id2);
	r = api_post(path, f.t.sk_test, "{}", NULL);
	assert_status(r, 200);
	resp_free(r);
	r = sub_patch(f.t.sk_test, id2, "{\"quantity\":2}");
	assert_error(r, 409, "invalid_request_error", "invalid_state", NULL);
	resp_free(r);
	sub = sub_patch_ok(f.t.sk_test, id2, "{\"metadata\":{\"a\":\"b\"}}");
	assert_jstr(sub, "status", "paused");
	assert_jstr(sub, "metadata.a", "b");
	ck_assert_int_eq(fx_int(sub, "quantity"), 1);
	json_decref(sub);
	free(id);
	free(id2);
	fx_teardown(&f);
}
END_TEST

/* Another tenant's subscription does not exist for this one: 404. */
START_TEST(changes_isolation)
{
	struct fx	 f;
	struct tenant	 other;
	struct resp	*r;
	json_t		*sub;
	char		*id;

	fx_setup(&f, "pm_card_visa");
	id = fx_sub_new(f.t.sk_test, f.cus, f.basic, "");
	tenant_register(&other, NULL);
	r = sub_patch(other.sk_test, id, "{\"quantity\":2}");
	assert_error(r, 404, "invalid_request_error", NULL, NULL);
	resp_free(r);
	r = upcoming(other.sk_test, id, "");
	assert_error(r, 404, "invalid_request_error", NULL, NULL);
	resp_free(r);
	/* Nor does the test-mode one for live keys. */
	r = upcoming(f.t.sk_live, id, "");
	assert_error(r, 404, "invalid_request_error", NULL, NULL);
	resp_free(r);
	sub = sub_get(f.t.sk_test, id);
	ck_assert_int_eq(fx_int(sub, "quantity"), 1);
	json_decref(sub);
	tenant_free(&other);
	free(id);
	fx_teardown(&f);
}
END_TEST

Suite *
suite_changes(void)
{
	Suite	*s = suite_create("changes");
	TCase	*tc = api_tcase("prorations");

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, changes_upgrade_prorates_exactly);
	tcase_add_test(tc, changes_quantity_only);
	tcase_add_test(tc, changes_at_period_start_then_renewal);
	tcase_add_test(tc, changes_always_invoice_collects_now);
	tcase_add_test(tc, changes_always_invoice_declined_past_due);
	tcase_add_test(tc, changes_none_from_next_period);
	tcase_add_test(tc, changes_downgrade_credit_becomes_balance);
	tcase_add_test(tc, changes_interval_month_to_year);
	tcase_add_test(tc, changes_trial_just_changes_plan);
	tcase_add_test(tc, changes_flags_and_metadata_only);
	suite_add_tcase(s, tc);
	tc = api_tcase("upcoming");
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, changes_upcoming_matches_renewal);
	tcase_add_test(tc, changes_upcoming_writes_nothing);
	suite_add_tcase(s, tc);
	tc = api_tcase("errors");
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, changes_currency_mismatch);
	tcase_add_test(tc, changes_validation_errors);
	tcase_add_test(tc, changes_canceled_and_paused_conflict);
	tcase_add_test(tc, changes_isolation);
	suite_add_tcase(s, tc);
	return s;
}
