/*
 * Subscriptions (API.md "Subscriptions"; BILLING.md "Periods", "Invoices",
 * "Collection and dunning", "Ending, pausing, resuming"): create on a test
 * clock, trials, the first invoice and its payment, declines and dunning,
 * validation, lists, cancel (now, prorated, at the period end), the
 * customer DELETE that cancels, pause and resume.
 */
#include <sys/wait.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <libpq-fe.h>

#include "fixtures.h"

#define SUBS		"/api/v1/subscriptions"
#define CLOCK_TIME	"2028-01-31T00:00:00Z"

static struct resp *
get_path(const char *auth, const char *fmt, const char *id)
{
	char	path[512];

	snprintf(path, sizeof(path), fmt, id);
	return api_get(path, auth, NULL);
}

/* POST /subscriptions for CUS on PLAN with the members EXTRA ("" none). */
static struct resp *
sub_post(const char *auth, const char *cus, const char *plan,
    const char *extra)
{
	char	body[512];

	snprintf(body, sizeof(body), "{\"customer_id\":\"%s\","
	    "\"plan_id\":\"%s\"%s%s}", cus, plan, *extra ? "," : "", extra);
	return api_post(SUBS, auth, body, NULL);
}

/* The newest event of TYPE about object ID, or NULL (caller decrefs). */
static json_t *
event_for(const char *auth, const char *type, const char *id)
{
	struct resp	*r;
	char		 path[200];
	json_t		*v, *e = NULL;
	size_t		 i;

	snprintf(path, sizeof(path), "/api/v1/events?type=%s&limit=100",
	    type);
	r = api_get(path, auth, NULL);
	assert_status(r, 200);
	json_array_foreach(json_object_get(r->json, "data"), i, v) {
		if (jstr(v, "data.object.id") != NULL &&
		    strcmp(jstr(v, "data.object.id"), id) == 0) {
			e = json_incref(v);
			break;
		}
	}
	resp_free(r);
	return e;
}

static size_t
list_size(const struct resp *r)
{
	return json_array_size(json_object_get(r->json, "data"));
}

START_TEST(subs_create_monthly_clock)
{
	struct tenant	 t;
	struct resp	*r, *g;
	json_t		*o, *e;
	char		*clock, *cus, *plan, *sub, *inv;

	tenant_register(&t, NULL);
	clock = fx_clock_new(t.sk_test, CLOCK_TIME);
	cus = fx_customer_new(t.sk_test, "pm_card_visa", clock);
	plan = fx_plan_new(t.sk_test, "\"amount\":2999,\"interval\":\"month\"");
	r = sub_post(t.sk_test, cus, plan, "\"quantity\":3,"
	    "\"metadata\":{\"team\":\"core\",\"gone\":\"\"}");
	assert_status(r, 201);
	o = r->json;
	assert_jstr(o, "object", "subscription");
	ck_assert(strncmp(jstr(o, "id"), "sub_", 4) == 0);
	ck_assert(json_is_false(jget(o, "livemode")));
	ck_assert_ptr_nonnull(jstr(o, "created"));
	assert_jstr(o, "customer_id", cus);
	assert_jstr(o, "plan_id", plan);
	assert_jstr(o, "status", "active");
	ck_assert_int_eq(fx_int(o, "quantity"), 3);
	assert_jstr(o, "current_period_start", CLOCK_TIME);
	/* Jan 31 + 1 month clamps to Feb 29 in the leap year 2028. */
	assert_jstr(o, "current_period_end", "2028-02-29T00:00:00Z");
	assert_jstr(o, "billing_cycle_anchor", CLOCK_TIME);
	ck_assert(fx_is_null(o, "trial_end"));
	ck_assert(json_is_false(jget(o, "cancel_at_period_end")));
	ck_assert(fx_is_null(o, "canceled_at"));
	ck_assert(fx_is_null(o, "paused_at"));
	assert_jstr(o, "metadata.team", "core");
	ck_assert_ptr_null(jget(o, "metadata.gone"));
	ck_assert(strncmp(jstr(o, "latest_invoice_id"), "in_", 3) == 0);
	sub = strdup(jstr(o, "id"));
	inv = strdup(jstr(o, "latest_invoice_id"));

	/* GET answers the same object. */
	g = get_path(t.sk_test, SUBS "/%s", sub);
	assert_status(g, 200);
	ck_assert(json_equal(g->json, o));
	resp_free(g);
	resp_free(r);

	/* The first invoice: billed in advance for the period, paid. */
	r = get_path(t.sk_test, "/api/v1/invoices/%s", inv);
	assert_status(r, 200);
	o = r->json;
	assert_jstr(o, "status", "paid");
	assert_jstr(o, "subscription_id", sub);
	assert_jstr(o, "customer_id", cus);
	assert_jstr(o, "currency", "USD");
	ck_assert_ptr_nonnull(jstr(o, "number"));
	ck_assert_int_eq(fx_int(o, "subtotal"), 8997);
	ck_assert_int_eq(fx_int(o, "total"), 8997);
	ck_assert_int_eq(fx_int(o, "amount_due"), 8997);
	ck_assert_int_eq(fx_int(o, "amount_paid"), 8997);
	ck_assert_int_eq(fx_int(o, "attempt_count"), 1);
	ck_assert(fx_is_null(o, "next_payment_attempt"));
	assert_jstr(o, "period_start", CLOCK_TIME);
	assert_jstr(o, "period_end", "2028-02-29T00:00:00Z");
	ck_assert_int_eq(json_array_size(jget(o, "lines")), 1);
	assert_jstr(o, "lines.0.kind", "plan");
	assert_jstr(o, "lines.0.description", "Pro \xc3\x97 3");
	ck_assert_int_eq(fx_int(o, "lines.0.unit_amount"), 2999);
	ck_assert_int_eq(fx_int(o, "lines.0.quantity"), 3);
	ck_assert_int_eq(fx_int(o, "lines.0.amount"), 8997);
	assert_jstr(o, "lines.0.period_start", CLOCK_TIME);
	assert_jstr(o, "lines.0.period_end", "2028-02-29T00:00:00Z");
	resp_free(r);

	/* One payment; fee round_half_up(8997 x 15%) = 1349.55 -> 1350. */
	r = get_path(t.sk_test, "/api/v1/payments?invoice_id=%s", inv);
	assert_status(r, 200);
	ck_assert_int_eq(list_size(r), 1);
	assert_jstr(r->json, "data.0.status", "succeeded");
	assert_jstr(r->json, "data.0.subscription_id", sub);
	ck_assert_int_eq(fx_int(r->json, "data.0.amount"), 8997);
	ck_assert_int_eq(fx_int(r->json, "data.0.application_fee_amount"), 1350);
	ck_assert_int_eq(fx_int(r->json, "data.0.net_amount"), 7647);
	resp_free(r);

	/* The events of the transaction. */
	e = event_for(t.sk_test, "subscription.created", sub);
	ck_assert_msg(e != NULL, "no subscription.created");
	assert_jstr(e, "data.object.object", "subscription");
	assert_jstr(e, "data.object.status", "active");
	assert_jstr(e, "data.object.latest_invoice_id", inv);
	json_decref(e);
	e = event_for(t.sk_test, "invoice.created", inv);
	ck_assert_msg(e != NULL, "no invoice.created");
	assert_jstr(e, "data.object.status", "draft");
	json_decref(e);
	e = event_for(t.sk_test, "invoice.paid", inv);
	ck_assert_msg(e != NULL, "no invoice.paid");
	json_decref(e);

	free(clock);
	free(cus);
	free(plan);
	free(sub);
	free(inv);
	tenant_free(&t);
}
END_TEST

/* A trial: no invoice, the cycle anchored at trial_end. */
static void
check_trial(const char *auth, const char *cus, struct resp *r)
{
	struct resp	*g;

	assert_status(r, 201);
	assert_jstr(r->json, "status", "trial");
	assert_jstr(r->json, "current_period_start", CLOCK_TIME);
	assert_jstr(r->json, "trial_end", "2028-02-14T00:00:00Z");
	assert_jstr(r->json, "current_period_end", "2028-02-14T00:00:00Z");
	assert_jstr(r->json, "billing_cycle_anchor", "2028-02-14T00:00:00Z");
	ck_assert(fx_is_null(r->json, "latest_invoice_id"));
	g = get_path(auth, "/api/v1/invoices?customer_id=%s", cus);
	assert_status(g, 200);
	ck_assert_int_eq(list_size(g), 0);
	resp_free(g);
	g = get_path(auth, "/api/v1/payments?customer_id=%s", cus);
	assert_status(g, 200);
	ck_assert_int_eq(list_size(g), 0);
	resp_free(g);
}

START_TEST(subs_trial)
{
	struct tenant	 t;
	struct resp	*r;
	char		*clock, *cus, *cus2, *cus3, *plan, *trial_plan;

	tenant_register(&t, NULL);
	clock = fx_clock_new(t.sk_test, CLOCK_TIME);
	cus = fx_customer_new(t.sk_test, "pm_card_visa", clock);
	cus2 = fx_customer_new(t.sk_test, "pm_card_chargeDeclined", clock);
	cus3 = fx_customer_new(t.sk_test, "pm_card_visa", clock);
	plan = fx_plan_new(t.sk_test, "\"amount\":2999,\"interval\":\"month\"");
	trial_plan = fx_plan_new(t.sk_test, "\"amount\":2999,\"interval\":"
	    "\"month\",\"trial_period_days\":14");

	/* The plan's trial; a card that would decline is not charged. */
	r = sub_post(t.sk_test, cus2, trial_plan, "");
	check_trial(t.sk_test, cus2, r);
	resp_free(r);
	/* The request's trial on a plan without one. */
	r = sub_post(t.sk_test, cus, plan, "\"trial_period_days\":14");
	check_trial(t.sk_test, cus, r);
	resp_free(r);
	/* The request's 0 overrides the plan's trial: billed at once. */
	r = sub_post(t.sk_test, cus3, trial_plan, "\"trial_period_days\":0");
	assert_status(r, 201);
	assert_jstr(r->json, "status", "active");
	ck_assert(fx_is_null(r->json, "trial_end"));
	ck_assert_ptr_nonnull(jstr(r->json, "latest_invoice_id"));
	resp_free(r);

	free(clock);
	free(cus);
	free(cus2);
	free(cus3);
	free(plan);
	free(trial_plan);
	tenant_free(&t);
}
END_TEST

START_TEST(subs_declined_past_due)
{
	struct tenant	 t;
	struct resp	*r;
	json_t		*e;
	char		*clock, *cus, *plan, *sub, *inv;

	tenant_register(&t, NULL);
	clock = fx_clock_new(t.sk_test, CLOCK_TIME);
	cus = fx_customer_new(t.sk_test, "pm_card_chargeDeclined", clock);
	plan = fx_plan_new(t.sk_test, "\"amount\":1000,\"interval\":\"week\"");
	r = sub_post(t.sk_test, cus, plan, "");
	assert_status(r, 201);
	assert_jstr(r->json, "status", "past_due");
	assert_jstr(r->json, "current_period_end", "2028-02-07T00:00:00Z");
	sub = strdup(jstr(r->json, "id"));
	inv = strdup(jstr(r->json, "latest_invoice_id"));
	resp_free(r);

	/* Open, one failed attempt, first retry a day after the failure. */
	r = get_path(t.sk_test, "/api/v1/invoices/%s", inv);
	assert_status(r, 200);
	assert_jstr(r->json, "status", "open");
	ck_assert_int_eq(fx_int(r->json, "attempt_count"), 1);
	ck_assert_int_eq(fx_int(r->json, "amount_due"), 1000);
	ck_assert_int_eq(fx_int(r->json, "amount_paid"), 0);
	assert_jstr(r->json, "next_payment_attempt", "2028-02-01T00:00:00Z");
	resp_free(r);
	r = get_path(t.sk_test, "/api/v1/payments?invoice_id=%s", inv);
	assert_status(r, 200);
	ck_assert_int_eq(list_size(r), 1);
	assert_jstr(r->json, "data.0.status", "failed");
	assert_jstr(r->json, "data.0.failure_code", "card_declined");
	resp_free(r);

	e = event_for(t.sk_test, "invoice.payment_failed", inv);
	ck_assert_msg(e != NULL, "no invoice.payment_failed");
	assert_jstr(e, "data.object.next_payment_attempt",
	    "2028-02-01T00:00:00Z");
	json_decref(e);
	e = event_for(t.sk_test, "subscription.created", sub);
	ck_assert_msg(e != NULL, "no subscription.created");
	assert_jstr(e, "data.object.status", "past_due");
	json_decref(e);

	r = get_path(t.sk_test, SUBS "/%s", sub);
	assert_status(r, 200);
	assert_jstr(r->json, "status", "past_due");
	resp_free(r);

	free(clock);
	free(cus);
	free(plan);
	free(sub);
	free(inv);
	tenant_free(&t);
}
END_TEST

/* Nothing due: paid at once, no payment, active even with a bad card. */
START_TEST(subs_free_plan)
{
	struct tenant	 t;
	struct resp	*r;
	char		*cus, *plan, *inv;

	tenant_register(&t, NULL);
	cus = fx_customer_new(t.sk_test, "pm_card_chargeDeclined", NULL);
	plan = fx_plan_new(t.sk_test, "\"amount\":0,\"interval\":\"year\"");
	r = sub_post(t.sk_test, cus, plan, "");
	assert_status(r, 201);
	assert_jstr(r->json, "status", "active");
	inv = strdup(jstr(r->json, "latest_invoice_id"));
	resp_free(r);
	r = get_path(t.sk_test, "/api/v1/invoices/%s", inv);
	assert_jstr(r->json, "status", "paid");
	ck_assert_int_eq(fx_int(r->json, "attempt_count"), 0);
	ck_assert_int_eq(fx_int(r->json, "amount_due"), 0);
	assert_jstr(r->json, "lines.0.kind", "plan");
	resp_free(r);
	r = get_path(t.sk_test, "/api/v1/payments?invoice_id=%s", inv);
	ck_assert_int_eq(list_size(r), 0);
	resp_free(r);
	free(cus);
	free(plan);
	free(inv);
	tenant_free(&t);
}
END_TEST

static void
sub_reject(const char *auth, const char *body, const char *code,
    const char *param)
{
	struct resp	*r;

	r = api_post(SUBS, auth, body, NULL);
	assert_error(r, 400, "invalid_request_error", code, param);
	resp_free(r);
}

START_TEST(subs_create_validation)
{
	struct tenant	 t;
	struct resp	*r;
	char		*cus, *gone, *plan, *once, *off, body[512];

	tenant_register(&t, NULL);
	cus = fx_customer_new(t.sk_test, "pm_card_visa", NULL);
	gone = fx_customer_new(t.sk_test, "pm_card_visa", NULL);
	snprintf(body, sizeof(body), "/api/v1/customers/%s", gone);
	r = api_delete(body, t.sk_test, NULL);
	assert_status(r, 200);
	resp_free(r);
	plan = fx_plan_new(t.sk_test, "\"amount\":100,\"interval\":\"month\"");
	once = fx_plan_new(t.sk_test, "\"amount\":100,\"type\":\"one_time\"");
	off = fx_plan_new(t.sk_test, "\"amount\":100,\"interval\":\"month\"");
	snprintf(body, sizeof(body), "/api/v1/plans/%s", off);
	r = api_patch(body, t.sk_test, "{\"is_active\":false}", NULL);
	assert_status(r, 200);
	resp_free(r);

#define BODY(...) (snprintf(body, sizeof(body), __VA_ARGS__), body)
	sub_reject(t.sk_test, BODY("{\"customer_id\":\"cus_nope\","
	    "\"plan_id\":\"%s\"}", plan), "resource_missing", "customer_id");
	sub_reject(t.sk_test, BODY("{\"customer_id\":\"%s\","
	    "\"plan_id\":\"%s\"}", gone, plan), "resource_missing",
	    "customer_id");
	sub_reject(t.sk_test, BODY("{\"plan_id\":\"%s\"}", plan),
	    "parameter_missing", "customer_id");
	sub_reject(t.sk_test, BODY("{\"customer_id\":\"%s\"}", cus),
	    "parameter_missing", "plan_id");
	sub_reject(t.sk_test, BODY("{\"customer_id\":\"%s\","
	    "\"plan_id\":\"plan_nope\"}", cus), "resource_missing", "plan_id");
	sub_reject(t.sk_test, BODY("{\"customer_id\":\"%s\","
	    "\"plan_id\":\"%s\"}", cus, once), "parameter_invalid", "plan_id");
	sub_reject(t.sk_test, BODY("{\"customer_id\":\"%s\","
	    "\"plan_id\":\"%s\"}", cus, off), "parameter_invalid", "plan_id");
	sub_reject(t.sk_test, BODY("{\"customer_id\":\"%s\","
	    "\"plan_id\":\"%s\",\"quantity\":0}", cus, plan),
	    "parameter_invalid", "quantity");
	sub_reject(t.sk_test, BODY("{\"customer_id\":\"%s\","
	    "\"plan_id\":\"%s\",\"quantity\":1000001}", cus, plan),
	    "parameter_invalid", "quantity");
	sub_reject(t.sk_test, BODY("{\"customer_id\":\"%s\","
	    "\"plan_id\":\"%s\",\"quantity\":\"2\"}", cus, plan),
	    "parameter_invalid", "quantity");
	sub_reject(t.sk_test, BODY("{\"customer_id\":\"%s\","
	    "\"plan_id\":\"%s\",\"trial_period_days\":731}", cus, plan),
	    "parameter_invalid", "trial_period_days");
	sub_reject(t.sk_test, BODY("{\"customer_id\":\"%s\","
	    "\"plan_id\":\"%s\",\"trial_period_days\":-1}", cus, plan),
	    "parameter_invalid", "trial_period_days");
	sub_reject(t.sk_test, BODY("{\"customer_id\":\"%s\","
	    "\"plan_id\":\"%s\",\"status\":\"active\"}", cus, plan),
	    "parameter_unknown", "status");
	sub_reject(t.sk_test, BODY("{\"customer_id\":\"%s\","
	    "\"plan_id\":\"%s\",\"metadata\":{\"a\":1}}", cus, plan),
	    "parameter_invalid", "metadata");
#undef BODY

	/* Nothing was written by the rejected requests. */
	r = api_get(SUBS, t.sk_test, NULL);
	assert_status(r, 200);
	ck_assert_int_eq(list_size(r), 0);
	resp_free(r);
	r = api_get("/api/v1/invoices", t.sk_test, NULL);
	ck_assert_int_eq(list_size(r), 0);
	resp_free(r);

	/* The largest quantity bills to the minor unit. */
	r = sub_post(t.sk_test, cus, plan, "\"quantity\":1000000");
	assert_status(r, 201);
	ck_assert_int_eq(fx_int(r->json, "quantity"), 1000000);
	resp_free(r);

	r = api_get(SUBS "/sub_nope", t.sk_test, NULL);
	assert_error(r, 404, "invalid_request_error", "resource_missing",
	    NULL);
	resp_free(r);
	free(cus);
	free(gone);
	free(plan);
	free(once);
	free(off);
	tenant_free(&t);
}
END_TEST

START_TEST(subs_list_filters)
{
	struct tenant	 t;
	struct resp	*r;
	char		*a, *b, *p1, *p2, *s1, *s2, *s3, path[512];

	tenant_register(&t, NULL);
	a = fx_customer_new(t.sk_test, "pm_card_visa", NULL);
	b = fx_customer_new(t.sk_test, "pm_card_visa", NULL);
	p1 = fx_plan_new(t.sk_test, "\"amount\":100,\"interval\":\"month\"");
	p2 = fx_plan_new(t.sk_test, "\"amount\":200,\"interval\":\"day\"");
	s1 = fx_sub_new(t.sk_test, a, p1, "");
	s2 = fx_sub_new(t.sk_test, a, p2, "\"trial_period_days\":7");
	s3 = fx_sub_new(t.sk_test, b, p1, "");

	r = api_get(SUBS, t.sk_test, NULL);
	assert_status(r, 200);
	assert_jstr(r->json, "object", "list");
	ck_assert_int_eq(list_size(r), 3);
	assert_jstr(r->json, "data.0.id", s3);
	assert_jstr(r->json, "data.2.id", s1);
	resp_free(r);
	r = api_get(SUBS "?limit=2", t.sk_test, NULL);
	ck_assert_int_eq(list_size(r), 2);
	ck_assert(json_is_true(jget(r->json, "has_more")));
	resp_free(r);

	r = api_get(SUBS "?status=trial", t.sk_test, NULL);
	ck_assert_int_eq(list_size(r), 1);
	assert_jstr(r->json, "data.0.id", s2);
	resp_free(r);
	r = api_get(SUBS "?status=canceled", t.sk_test, NULL);
	ck_assert_int_eq(list_size(r), 0);
	resp_free(r);
	r = api_get(SUBS "?status=bogus", t.sk_test, NULL);
	assert_error(r, 400, "invalid_request_error", "parameter_invalid",
	    "status");
	resp_free(r);
	r = get_path(t.sk_test, SUBS "?customer_id=%s", a);
	ck_assert_int_eq(list_size(r), 2);
	assert_jstr(r->json, "data.0.id", s2);
	assert_jstr(r->json, "data.1.id", s1);
	resp_free(r);
	r = get_path(t.sk_test, SUBS "?plan_id=%s", p1);
	ck_assert_int_eq(list_size(r), 2);
	resp_free(r);
	snprintf(path, sizeof(path), SUBS "?plan_id=%s&customer_id=%s"
	    "&status=active", p1, b);
	r = api_get(path, t.sk_test, NULL);
	ck_assert_int_eq(list_size(r), 1);
	assert_jstr(r->json, "data.0.id", s3);
	resp_free(r);

	r = get_path(t.sk_test, "/api/v1/customers/%s/subscriptions", b);
	assert_status(r, 200);
	ck_assert_int_eq(list_size(r), 1);
	assert_jstr(r->json, "data.0.id", s3);
	resp_free(r);
	r = get_path(t.sk_test, "/api/v1/customers/%s/subscriptions", a);
	ck_assert_int_eq(list_size(r), 2);
	resp_free(r);
	r = api_get("/api/v1/customers/cus_nope/subscriptions", t.sk_test,
	    NULL);
	assert_error(r, 404, "invalid_request_error", "resource_missing",
	    NULL);
	resp_free(r);

	free(a);
	free(b);
	free(p1);
	free(p2);
	free(s1);
	free(s2);
	free(s3);
	tenant_free(&t);
}
END_TEST

START_TEST(subs_isolation)
{
	struct tenant	 t, o;
	struct resp	*r;
	char		*cus, *plan, *sub, *ocus;

	tenant_register(&t, NULL);
	tenant_register(&o, NULL);
	cus = fx_customer_new(t.sk_test, "pm_card_visa", NULL);
	plan = fx_plan_new(t.sk_test, "\"amount\":100,\"interval\":\"month\"");
	sub = fx_sub_new(t.sk_test, cus, plan, "");

	r = get_path(o.sk_test, SUBS "/%s", sub);
	assert_status(r, 404);
	resp_free(r);
	r = get_path(t.sk_live, SUBS "/%s", sub);
	assert_status(r, 404);
	resp_free(r);
	r = api_get(SUBS, o.sk_test, NULL);
	assert_status(r, 200);
	ck_assert_int_eq(list_size(r), 0);
	resp_free(r);
	r = get_path(o.sk_test, "/api/v1/customers/%s/subscriptions", cus);
	assert_status(r, 404);
	resp_free(r);
	r = get_path(t.sk_live, "/api/v1/customers/%s/subscriptions", cus);
	assert_status(r, 404);
	resp_free(r);
	/* Another tenant can't subscribe this customer or use this plan. */
	ocus = fx_customer_new(o.sk_test, "pm_card_visa", NULL);
	r = sub_post(o.sk_test, cus, plan, "");
	assert_error(r, 400, "invalid_request_error", "resource_missing",
	    "customer_id");
	resp_free(r);
	r = sub_post(o.sk_test, ocus, plan, "");
	assert_error(r, 400, "invalid_request_error", "resource_missing",
	    "plan_id");
	resp_free(r);

	free(cus);
	free(plan);
	free(sub);
	free(ocus);
	tenant_free(&t);
	tenant_free(&o);
}
END_TEST

/*
 * Lock contention is a retry, not a 500. A cancel with a prorated credit
 * locks the subscription, then its customer; this test's own session
 * holds the customer, waits until the cancel is blocked on it, then asks
 * for the subscription: a deadlock. The cancel started waiting first, so
 * its deadlock check runs first and PostgreSQL aborts it: the client gets
 * 429 lock_timeout with Retry-After, nothing of it is written, and the
 * same cancel then succeeds. Needs DATABASE_URL.
 */
START_TEST(subs_deadlock_is_429)
{
	const char	*url = getenv("DATABASE_URL"), *p[1];
	struct tenant	 t;
	struct resp	*r;
	char		*cus, *plan, *sub, path[200];
	PGconn		*c;
	PGresult	*res;
	pid_t		 pid;
	int		 status, i, waiting = 0;

	ck_assert_msg(url != NULL && *url != '\0', "DATABASE_URL must name "
	    "the test database for this test");
	tenant_register(&t, NULL);
	cus = fx_customer_new(t.sk_test, "pm_card_visa", NULL);
	plan = fx_plan_new(t.sk_test, "\"amount\":3000,\"interval\":\"month\"");
	sub = fx_sub_new(t.sk_test, cus, plan, "");
	snprintf(path, sizeof(path), "/api/v1/subscriptions/%s/cancel", sub);

	c = PQconnectdb(url);
	ck_assert_msg(PQstatus(c) == CONNECTION_OK, "cannot connect: %s",
	    PQerrorMessage(c));
	res = PQexec(c, "BEGIN");
	ck_assert(PQresultStatus(res) == PGRES_COMMAND_OK);
	PQclear(res);
	p[0] = cus;
	res = PQexecParams(c, "SELECT 1 FROM customers WHERE id = $1 FOR "
	    "UPDATE", 1, NULL, p, NULL, NULL, 0);
	ck_assert_int_eq(PQntuples(res), 1);
	PQclear(res);

	pid = fork();
	ck_assert(pid >= 0);
	if (pid == 0) {
		r = api_post(path, t.sk_test, "{\"prorate\":true}", NULL);
		_exit(r->status == 429 && jstr(r->json, "error.code") != NULL &&
		    strcmp(jstr(r->json, "error.code"), "lock_timeout") == 0 &&
		    resp_header(r, "Retry-After") != NULL ? 0 : 1);
	}
	/* Until the cancel waits on the customer's lock (at most 10 s). */
	for (i = 0; i < 1000 && !waiting; i++) {
		res = PQexec(c, "SELECT count(*) FROM pg_stat_activity WHERE "
		    "wait_event_type = 'Lock' AND pid <> pg_backend_pid()");
		waiting = strcmp(PQgetvalue(res, 0, 0), "0") != 0;
		PQclear(res);
		if (!waiting)
			usleep(10000);
	}
	ck_assert_msg(waiting, "the cancel never waited on the customer");
	p[0] = sub;
	res = PQexecParams(c, "SELECT 1 FROM subscriptions WHERE id = $1 FOR "
	    "UPDATE", 1, NULL, p, NULL, NULL, 0);
	ck_assert_msg(PQresultStatus(res) == PGRES_TUPLES_OK, "this session "
	    "was the deadlock victim: %s", PQerrorMessage(c));
	PQclear(res);
	res = PQexec(c, "ROLLBACK");
	PQclear(res);
	PQfinish(c);
	ck_assert(waitpid(pid, &status, 0) == pid);
	ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0,
	    "the deadlocked cancel did not answer 429 lock_timeout");

	/* Nothing of it was written: still active, and the retry works. */
	snprintf(path, sizeof(path), "/api/v1/subscriptions/%s", sub);
	r = api_get(path, t.sk_test, NULL);
	assert_status(r, 200);
	assert_jstr(r->json, "status", "active");
	resp_free(r);
	snprintf(path, sizeof(path), "/api/v1/subscriptions/%s/cancel", sub);
	r = api_post(path, t.sk_test, "{\"prorate\":true}", NULL);
	assert_status(r, 200);
	assert_jstr(r->json, "status", "canceled");
	resp_free(r);
	free(cus);
	free(plan);
	free(sub);
	tenant_free(&t);
}
END_TEST

/*
 * DESIGN: no period billed twice. Straight in PostgreSQL as billow_app in
 * the tenant: a second plan invoice for the same subscription and plan
 * period (plan_period_start, migration 0008) is a unique violation,
 * whatever its billing_reason.
 * Needs DATABASE_URL, as the RLS tests do (scripts/test.sh sets it).
 */
START_TEST(subs_period_billed_once)
{
	static const char *const sql = "INSERT INTO invoices (tenant_id, "
	    "livemode, id, customer_id, subscription_id, currency, "
	    "billing_reason, period_start, period_end, plan_period_start) "
	    "SELECT tenant_id, livemode, $2, customer_id, subscription_id, "
	    "currency, $3, period_start, period_end, plan_period_start "
	    "FROM invoices WHERE id = $1";
	struct tenant	 t;
	struct resp	*r;
	const char	*url = getenv("DATABASE_URL"), *p[3];
	char		*cus, *plan, *inv;
	PGconn		*c;
	PGresult	*res;

	ck_assert_msg(url != NULL && *url != '\0', "DATABASE_URL must name "
	    "the test database for this test");
	tenant_register(&t, NULL);
	cus = fx_customer_new(t.sk_test, "pm_card_visa", NULL);
	plan = fx_plan_new(t.sk_test, "\"amount\":100,\"interval\":\"month\"");
	r = sub_post(t.sk_test, cus, plan, "");
	assert_status(r, 201);
	inv = strdup(jstr(r->json, "latest_invoice_id"));
	resp_free(r);

	c = PQconnectdb(url);
	ck_assert_msg(PQstatus(c) == CONNECTION_OK, "cannot connect: %s",
	    PQerrorMessage(c));
	p[0] = t.id;
	p[1] = "false";
	res = PQexecParams(c, "SELECT set_config('app.tenant_id', $1, false), "
	    "set_config('app.livemode', $2, false)", 2, NULL, p, NULL, NULL,
	    0);
	ck_assert(PQresultStatus(res) == PGRES_TUPLES_OK);
	PQclear(res);
	res = PQexec(c, "SET ROLE billow_app");
	ck_assert(PQresultStatus(res) == PGRES_COMMAND_OK);
	PQclear(res);

	p[0] = inv;
	p[1] = "in_dup_cycle";
	p[2] = "subscription_cycle";
	res = PQexecParams(c, sql, 3, NULL, p, NULL, NULL, 0);
	ck_assert_msg(PQresultStatus(res) == PGRES_FATAL_ERROR &&
	    strcmp(PQresultErrorField(res, PG_DIAG_SQLSTATE), "23505") == 0,
	    "duplicate period accepted: %s", PQerrorMessage(c));
	PQclear(res);
	/* Manual invoices for the subscription are not plan periods. */
	p[1] = "in_dup_manual";
	p[2] = "manual";
	res = PQexecParams(c, sql, 3, NULL, p, NULL, NULL, 0);
	ck_assert_msg(PQresultStatus(res) == PGRES_COMMAND_OK, "manual: %s",
	    PQerrorMessage(c));
	PQclear(res);
	PQfinish(c);

	free(cus);
	free(plan);
	free(inv);
	tenant_free(&t);
}
END_TEST

/* Advances CLOCK to the RFC 3339 time TO. */
static void
clock_to(const char *auth, const char *clock, const char *to)
{
	struct resp	*r;
	char		 path[200], body[128];

	snprintf(path, sizeof(path), "/api/v1/test_clocks/%s/advance", clock);
	snprintf(body, sizeof(body), "{\"frozen_time\":\"%s\"}", to);
	r = api_post(path, auth, body, NULL);
	assert_status(r, 200);
	resp_free(r);
}

/* DELETE /customers/CUS (caller frees). */
static struct resp *
cus_delete(const char *auth, const char *cus)
{
	char	path[200];

	snprintf(path, sizeof(path), "/api/v1/customers/%s", cus);
	return api_delete(path, auth, NULL);
}

/* POST /subscriptions/SUB/cancel with BODY. */
static struct resp *
sub_cancel(const char *auth, const char *sub, const char *body)
{
	char	path[200];

	snprintf(path, sizeof(path), SUBS "/%s/cancel", sub);
	return api_post(path, auth, body, NULL);
}

/* The customer's balance. */
static long long
cus_balance(const char *auth, const char *cus)
{
	struct resp	*r;
	long long	 b;

	r = get_path(auth, "/api/v1/customers/%s", cus);
	assert_status(r, 200);
	b = fx_int(r->json, "balance");
	resp_free(r);
	return b;
}

/* GET /invoices?subscription_id=SUB (caller frees). */
static struct resp *
sub_invoices(const char *auth, const char *sub)
{
	return get_path(auth, "/api/v1/invoices?subscription_id=%s&limit=100",
	    sub);
}

/*
 * Cancel now with prorate, on a clock: [Jan 31, Feb 29) is 2,505,600 s,
 * Feb 15 leaves 1,209,600 s: -round(3000 × 1209600 / 2505600) =
 * -round(1448.27...) = -1448, a final invoice paid by the credit, which
 * becomes customer balance.
 */
START_TEST(subs_cancel_prorate)
{
	struct tenant	 t;
	struct resp	*r;
	json_t		*o, *e, *v, *fin = NULL;
	char		*clock, *cus, *plan, *sub, *first;
	size_t		 i;

	tenant_register(&t, NULL);
	clock = fx_clock_new(t.sk_test, CLOCK_TIME);
	cus = fx_customer_new(t.sk_test, "pm_card_visa", clock);
	plan = fx_plan_new(t.sk_test, "\"amount\":3000,\"interval\":\"month\"");
	r = sub_post(t.sk_test, cus, plan, "");
	assert_status(r, 201);
	assert_jstr(r->json, "status", "active");
	sub = strdup(jstr(r->json, "id"));
	first = strdup(jstr(r->json, "latest_invoice_id"));
	resp_free(r);
	clock_to(t.sk_test, clock, "2028-02-15T00:00:00Z");

	r = sub_cancel(t.sk_test, sub, "{\"prorate\":true}");
	assert_status(r, 200);
	o = r->json;
	assert_jstr(o, "id", sub);
	assert_jstr(o, "status", "canceled");
	assert_jstr(o, "canceled_at", "2028-02-15T00:00:00Z");
	ck_assert(json_is_false(jget(o, "cancel_at_period_end")));
	assert_jstr(o, "current_period_start", CLOCK_TIME);
	assert_jstr(o, "current_period_end", "2028-02-29T00:00:00Z");
	ck_assert(strcmp(jstr(o, "latest_invoice_id"), first) != 0);
	resp_free(r);

	r = sub_invoices(t.sk_test, sub);
	assert_status(r, 200);
	ck_assert_int_eq(list_size(r), 2);
	json_array_foreach(json_object_get(r->json, "data"), i, v)
		if (strcmp(jstr(v, "id"), first) != 0)
			fin = json_incref(v);
	resp_free(r);
	ck_assert_ptr_nonnull(fin);
	/* billing_reason "subscription_cancel" is not in the object. */
	assert_jstr(fin, "subscription_id", sub);
	assert_jstr(fin, "status", "paid");
	ck_assert_int_eq(fx_int(fin, "subtotal"), -1448);
	ck_assert_int_eq(fx_int(fin, "total"), -1448);
	ck_assert_int_eq(fx_int(fin, "amount_due"), 0);
	ck_assert_int_eq(fx_int(fin, "amount_paid"), 0);
	ck_assert_int_eq(fx_int(fin, "attempt_count"), 0);
	ck_assert_int_eq(fx_int(fin, "starting_balance"), 0);
	ck_assert_int_eq(fx_int(fin, "ending_balance"), -1448);
	ck_assert(fx_is_null(fin, "next_payment_attempt"));
	ck_assert_int_eq(json_array_size(jget(fin, "lines")), 1);
	assert_jstr(fin, "lines.0.kind", "proration");
	ck_assert_int_eq(fx_int(fin, "lines.0.amount"), -1448);
	ck_assert_int_eq(fx_int(fin, "lines.0.unit_amount"), 3000);
	ck_assert_int_eq(fx_int(fin, "lines.0.quantity"), 1);
	assert_jstr(fin, "lines.0.period_start", "2028-02-15T00:00:00Z");
	assert_jstr(fin, "lines.0.period_end", "2028-02-29T00:00:00Z");
	assert_jstr(fin, "lines.0.description",
	    "Unused time on Pro \xc3\x97 1");
	json_decref(fin);
	ck_assert_int_eq(cus_balance(t.sk_test, cus), -1448);

	e = event_for(t.sk_test, "subscription.canceled", sub);
	ck_assert_ptr_nonnull(e);
	assert_jstr(e, "data.object.status", "canceled");
	json_decref(e);

	/* Twice: 409. */
	r = sub_cancel(t.sk_test, sub, "{}");
	assert_error(r, 409, "invalid_request_error", "invalid_state", NULL);
	resp_free(r);
	r = sub_cancel(t.sk_test, sub, "{\"at_period_end\":true}");
	assert_error(r, 409, "invalid_request_error", "invalid_state", NULL);
	resp_free(r);

	free(clock);
	free(cus);
	free(plan);
	free(sub);
	free(first);
	tenant_free(&t);
}
END_TEST

/*
 * Half-up on the exact value: 3 × 1 at half of [Jan 31, Feb 29) (Feb 14
 * 12:00) is 1.5, a credit of -2 (never round(-1.5) = -1).
 */
START_TEST(subs_cancel_prorate_half)
{
	struct tenant	 t;
	struct resp	*r;
	char		*clock, *cus, *plan, *sub;

	tenant_register(&t, NULL);
	clock = fx_clock_new(t.sk_test, CLOCK_TIME);
	cus = fx_customer_new(t.sk_test, "pm_card_visa", clock);
	plan = fx_plan_new(t.sk_test, "\"amount\":3,\"interval\":\"month\"");
	sub = fx_sub_new(t.sk_test, cus, plan, "");
	clock_to(t.sk_test, clock, "2028-02-14T12:00:00Z");
	r = sub_cancel(t.sk_test, sub, "{\"prorate\":true}");
	assert_status(r, 200);
	assert_jstr(r->json, "canceled_at", "2028-02-14T12:00:00Z");
	resp_free(r);
	r = get_path(t.sk_test, "/api/v1/invoices?subscription_id=%s&"
	    "limit=1", sub);
	assert_status(r, 200);
	ck_assert_int_eq(list_size(r), 1);
	assert_jstr(r->json, "data.0.lines.0.kind", "proration");
	ck_assert_int_eq(fx_int(r->json, "data.0.total"), -2);
	ck_assert_int_eq(fx_int(r->json, "data.0.lines.0.amount"), -2);
	resp_free(r);
	ck_assert_int_eq(cus_balance(t.sk_test, cus), -2);

	free(clock);
	free(cus);
	free(plan);
	free(sub);
	tenant_free(&t);
}
END_TEST

/* Without prorate, or during a trial: no final invoice, balance as was. */
START_TEST(subs_cancel_no_invoice)
{
	struct tenant	 t;
	struct resp	*r;
	char		*clock, *cus, *plan, *sub, *first, *trial;

	tenant_register(&t, NULL);
	clock = fx_clock_new(t.sk_test, CLOCK_TIME);
	cus = fx_customer_new(t.sk_test, "pm_card_visa", clock);
	plan = fx_plan_new(t.sk_test, "\"amount\":3000,\"interval\":\"month\"");
	r = sub_post(t.sk_test, cus, plan, "");
	assert_status(r, 201);
	sub = strdup(jstr(r->json, "id"));
	first = strdup(jstr(r->json, "latest_invoice_id"));
	resp_free(r);
	clock_to(t.sk_test, clock, "2028-02-15T00:00:00Z");

	/* No body at all is an empty object: cancel now, no prorate. */
	r = sub_cancel(t.sk_test, sub, NULL);
	assert_status(r, 200);
	assert_jstr(r->json, "status", "canceled");
	assert_jstr(r->json, "canceled_at", "2028-02-15T00:00:00Z");
	assert_jstr(r->json, "latest_invoice_id", first);
	resp_free(r);
	r = sub_invoices(t.sk_test, sub);
	assert_status(r, 200);
	ck_assert_int_eq(list_size(r), 1);
	assert_jstr(r->json, "data.0.id", first);
	resp_free(r);
	ck_assert_int_eq(cus_balance(t.sk_test, cus), 0);

	/* A trial: nothing was billed, nothing to credit. */
	trial = fx_sub_new(t.sk_test, cus, plan, "\"trial_period_days\":14");
	clock_to(t.sk_test, clock, "2028-02-20T00:00:00Z");
	r = sub_cancel(t.sk_test, trial, "{\"prorate\":true}");
	assert_status(r, 200);
	assert_jstr(r->json, "status", "canceled");
	assert_jstr(r->json, "canceled_at", "2028-02-20T00:00:00Z");
	ck_assert(fx_is_null(r->json, "latest_invoice_id"));
	resp_free(r);
	r = sub_invoices(t.sk_test, trial);
	assert_status(r, 200);
	ck_assert_int_eq(list_size(r), 0);
	resp_free(r);
	ck_assert_int_eq(cus_balance(t.sk_test, cus), 0);

	free(clock);
	free(cus);
	free(plan);
	free(sub);
	free(first);
	free(trial);
	tenant_free(&t);
}
END_TEST

/* at_period_end: only the flag; subscription.updated; validation, 404s. */
START_TEST(subs_cancel_at_period_end)
{
	struct tenant	 t, o;
	struct resp	*r;
	json_t		*e;
	char		*cus, *plan, *sub;

	tenant_register(&t, NULL);
	tenant_register(&o, NULL);
	cus = fx_customer_new(t.sk_test, "pm_card_visa", NULL);
	plan = fx_plan_new(t.sk_test, "\"amount\":3000,\"interval\":\"month\"");
	sub = fx_sub_new(t.sk_test, cus, plan, "");

	r = sub_cancel(t.sk_test, sub, "{\"at_period_end\":true,\"x\":1}");
	assert_error(r, 400, "invalid_request_error", NULL, NULL);
	resp_free(r);
	r = sub_cancel(t.sk_test, sub, "{\"prorate\":\"yes\"}");
	assert_error(r, 400, "invalid_request_error", NULL, "prorate");
	resp_free(r);
	r = sub_cancel(o.sk_test, sub, "{}");
	assert_status(r, 404);
	resp_free(r);
	r = sub_cancel(t.sk_live, sub, "{}");
	assert_status(r, 404);
	resp_free(r);
	r = sub_cancel(t.sk_test, "sub_nope", "{}");
	assert_status(r, 404);
	resp_free(r);

	r = sub_cancel(t.sk_test, sub, "{\"at_period_end\":true}");
	assert_status(r, 200);
	assert_jstr(r->json, "status", "active");
	ck_assert(json_is_true(jget(r->json, "cancel_at_period_end")));
	ck_assert(fx_is_null(r->json, "canceled_at"));
	resp_free(r);
	r = get_path(t.sk_test, SUBS "/%s", sub);
	assert_status(r, 200);
	assert_jstr(r->json, "status", "active");
	ck_assert(json_is_true(jget(r->json, "cancel_at_period_end")));
	resp_free(r);
	e = event_for(t.sk_test, "subscription.updated", sub);
	ck_assert_ptr_nonnull(e);
	ck_assert(json_is_true(jget(e, "data.object.cancel_at_period_end")));
	ck_assert(json_is_false(jget(e,
	    "data.previous_attributes.cancel_at_period_end")));
	json_decref(e);
	ck_assert_ptr_null(event_for(t.sk_test, "subscription.canceled",
	    sub));

	/* A waiting cancel can still be made immediate. */
	r = sub_cancel(t.sk_test, sub, "{\"at_period_end\":false}");
	assert_status(r, 200);
	assert_jstr(r->json, "status", "canceled");
	ck_assert(json_is_false(jget(r->json, "cancel_at_period_end")));
	ck_assert_ptr_nonnull(jstr(r->json, "canceled_at"));
	resp_free(r);
	r = sub_cancel(t.sk_test, sub, "{}");
	assert_error(r, 409, "invalid_request_error", "invalid_state", NULL);
	resp_free(r);

	free(cus);
	free(plan);
	free(sub);
	tenant_free(&t);
	tenant_free(&o);
}
END_TEST

/* A past_due subscription's open invoice leaves dunning when canceled. */
START_TEST(subs_cancel_stops_dunning)
{
	struct tenant	 t;
	struct resp	*r;
	char		*clock, *cus, *plan, *sub, *inv;

	tenant_register(&t, NULL);
	clock = fx_clock_new(t.sk_test, CLOCK_TIME);
	cus = fx_customer_new(t.sk_test, "pm_card_chargeDeclined", clock);
	plan = fx_plan_new(t.sk_test, "\"amount\":3000,\"interval\":\"month\"");
	r = sub_post(t.sk_test, cus, plan, "");
	assert_status(r, 201);
	assert_jstr(r->json, "status", "past_due");
	sub = strdup(jstr(r->json, "id"));
	inv = strdup(jstr(r->json, "latest_invoice_id"));
	resp_free(r);
	r = get_path(t.sk_test, "/api/v1/invoices/%s", inv);
	assert_status(r, 200);
	ck_assert_ptr_nonnull(jstr(r->json, "next_payment_attempt"));
	resp_free(r);

	r = sub_cancel(t.sk_test, sub, "{}");
	assert_status(r, 200);
	assert_jstr(r->json, "status", "canceled");
	resp_free(r);
	r = get_path(t.sk_test, "/api/v1/invoices/%s", inv);
	assert_status(r, 200);
	assert_jstr(r->json, "status", "open");
	ck_assert(fx_is_null(r->json, "next_payment_attempt"));
	resp_free(r);

	free(clock);
	free(cus);
	free(plan);
	free(sub);
	free(inv);
	tenant_free(&t);
}
END_TEST

/* DELETE /customers/{id} cancels its subscriptions now, without prorate. */
START_TEST(subs_customer_delete_cancels)
{
	struct tenant	 t;
	struct resp	*r;
	json_t		*e;
	char		*clock, *cus, *plan, *a, *b, *c;

	tenant_register(&t, NULL);
	clock = fx_clock_new(t.sk_test, CLOCK_TIME);
	cus = fx_customer_new(t.sk_test, "pm_card_visa", clock);
	plan = fx_plan_new(t.sk_test, "\"amount\":3000,\"interval\":\"month\"");
	a = fx_sub_new(t.sk_test, cus, plan, "");
	b = fx_sub_new(t.sk_test, cus, plan, "\"trial_period_days\":7");
	c = fx_sub_new(t.sk_test, cus, plan, "");
	r = sub_cancel(t.sk_test, c, "{}");
	assert_status(r, 200);
	resp_free(r);
	clock_to(t.sk_test, clock, "2028-02-15T00:00:00Z");

	r = cus_delete(t.sk_test, cus);
	assert_status(r, 200);
	resp_free(r);
	r = get_path(t.sk_test, SUBS "/%s", a);
	assert_status(r, 200);
	assert_jstr(r->json, "status", "canceled");
	assert_jstr(r->json, "canceled_at", "2028-02-15T00:00:00Z");
	resp_free(r);
	r = get_path(t.sk_test, SUBS "/%s", b);
	assert_status(r, 200);
	assert_jstr(r->json, "status", "canceled");
	resp_free(r);
	/* The one canceled before keeps its canceled_at. */
	r = get_path(t.sk_test, SUBS "/%s", c);
	assert_status(r, 200);
	assert_jstr(r->json, "canceled_at", CLOCK_TIME);
	resp_free(r);
	e = event_for(t.sk_test, "subscription.canceled", a);
	ck_assert_ptr_nonnull(e);
	json_decref(e);
	e = event_for(t.sk_test, "subscription.canceled", b);
	ck_assert_ptr_nonnull(e);
	json_decref(e);
	/* No prorate: no final invoice, no balance. */
	r = sub_invoices(t.sk_test, a);
	assert_status(r, 200);
	ck_assert_int_eq(list_size(r), 1);
	resp_free(r);
	r = cus_delete(t.sk_test, cus);
	assert_status(r, 404);
	resp_free(r);

	free(clock);
	free(cus);
	free(plan);
	free(a);
	free(b);
	free(c);
	tenant_free(&t);
}
END_TEST

/* POST /subscriptions/SUB/ACTION (pause, resume) with BODY. */
static struct resp *
sub_action(const char *auth, const char *sub, const char *action,
    const char *body)
{
	char	path[200];

	snprintf(path, sizeof(path), SUBS "/%s/%s", sub, action);
	return api_post(path, auth, body, NULL);
}

/*
 * Pause and resume on a clock. [Jan 31, Feb 29) is 29 days, 2,505,600 s;
 * a pause on Feb 15 leaves 14 days, 1,209,600 s: 3000 × 1209600 / 2505600
 * = 3000 × 14 / 29 = 42000 / 29 = 1448.27..., a pending credit of
 * -round(1448.27...) = -1448. A resume on Mar 10 starts [Mar 10, Apr 10)
 * and invoices the plan line, 3000, with the credit: 3000 - 1448 = 1552.
 */
START_TEST(subs_pause_resume)
{
	struct tenant	 t, o;
	struct resp	*r, *g;
	json_t		*e, *inv;
	char		*clock, *cus, *plan, *sub, *trial, *waiting, *first;

	tenant_register(&t, NULL);
	tenant_register(&o, NULL);
	clock = fx_clock_new(t.sk_test, CLOCK_TIME);
	cus = fx_customer_new(t.sk_test, "pm_card_visa", clock);
	plan = fx_plan_new(t.sk_test, "\"amount\":3000,\"interval\":\"month\"");
	r = sub_post(t.sk_test, cus, plan, "");
	assert_status(r, 201);
	assert_jstr(r->json, "status", "active");
	sub = strdup(jstr(r->json, "id"));
	first = strdup(jstr(r->json, "latest_invoice_id"));
	resp_free(r);
	clock_to(t.sk_test, clock, "2028-02-15T00:00:00Z");

	r = sub_action(t.sk_test, sub, "pause", "{\"x\":1}");
	assert_error(r, 400, "invalid_request_error", NULL, NULL);
	resp_free(r);
	r = sub_action(o.sk_test, sub, "pause", "{}");
	assert_status(r, 404);
	resp_free(r);
	r = sub_action(t.sk_test, "sub_nope", "resume", NULL);
	assert_status(r, 404);
	resp_free(r);
	r = sub_action(t.sk_test, sub, "resume", "{}");
	assert_error(r, 409, "invalid_request_error", "invalid_state", NULL);
	resp_free(r);

	r = sub_action(t.sk_test, sub, "pause", "{}");
	assert_status(r, 200);
	assert_jstr(r->json, "status", "paused");
	assert_jstr(r->json, "paused_at", "2028-02-15T00:00:00Z");
	assert_jstr(r->json, "current_period_start", CLOCK_TIME);
	assert_jstr(r->json, "current_period_end", "2028-02-29T00:00:00Z");
	assert_jstr(r->json, "latest_invoice_id", first);
	resp_free(r);
	e = event_for(t.sk_test, "subscription.paused", sub);
	ck_assert_ptr_nonnull(e);
	assert_jstr(e, "data.object.status", "paused");
	json_decref(e);
	/* No invoice while paused; pausing again is 409. */
	r = sub_invoices(t.sk_test, sub);
	assert_status(r, 200);
	ck_assert_int_eq(list_size(r), 1);
	resp_free(r);
	r = sub_action(t.sk_test, sub, "pause", NULL);
	assert_error(r, 409, "invalid_request_error", "invalid_state", NULL);
	resp_free(r);

	clock_to(t.sk_test, clock, "2028-03-10T00:00:00Z");
	r = sub_action(t.sk_test, sub, "resume", NULL);
	assert_status(r, 200);
	assert_jstr(r->json, "status", "active");
	ck_assert(fx_is_null(r->json, "paused_at"));
	assert_jstr(r->json, "current_period_start", "2028-03-10T00:00:00Z");
	assert_jstr(r->json, "current_period_end", "2028-04-10T00:00:00Z");
	assert_jstr(r->json, "billing_cycle_anchor", "2028-03-10T00:00:00Z");
	ck_assert(strcmp(jstr(r->json, "latest_invoice_id"), first) != 0);
	g = get_path(t.sk_test, "/api/v1/invoices/%s",
	    jstr(r->json, "latest_invoice_id"));
	resp_free(r);
	assert_status(g, 200);
	inv = json_incref(g->json);
	resp_free(g);
	assert_jstr(inv, "subscription_id", sub);
	assert_jstr(inv, "status", "paid");
	ck_assert_int_eq(fx_int(inv, "subtotal"), 1552);
	ck_assert_int_eq(fx_int(inv, "total"), 1552);
	ck_assert_int_eq(fx_int(inv, "amount_due"), 1552);
	ck_assert_int_eq(fx_int(inv, "amount_paid"), 1552);
	ck_assert_int_eq(fx_int(inv, "attempt_count"), 1);
	ck_assert(fx_is_null(inv, "next_payment_attempt"));
	assert_jstr(inv, "period_start", "2028-02-15T00:00:00Z");
	assert_jstr(inv, "period_end", "2028-04-10T00:00:00Z");
	ck_assert_int_eq(json_array_size(jget(inv, "lines")), 2);
	assert_jstr(inv, "lines.0.kind", "plan");
	ck_assert_int_eq(fx_int(inv, "lines.0.amount"), 3000);
	ck_assert_int_eq(fx_int(inv, "lines.0.unit_amount"), 3000);
	assert_jstr(inv, "lines.0.period_start", "2028-03-10T00:00:00Z");
	assert_jstr(inv, "lines.0.period_end", "2028-04-10T00:00:00Z");
	assert_jstr(inv, "lines.1.kind", "proration");
	ck_assert_int_eq(fx_int(inv, "lines.1.amount"), -1448);
	ck_assert_int_eq(fx_int(inv, "lines.1.unit_amount"), 3000);
	ck_assert_int_eq(fx_int(inv, "lines.1.quantity"), 1);
	assert_jstr(inv, "lines.1.period_start", "2028-02-15T00:00:00Z");
	assert_jstr(inv, "lines.1.period_end", "2028-02-29T00:00:00Z");
	assert_jstr(inv, "lines.1.description",
	    "Unused time on Pro \xc3\x97 1");
	json_decref(inv);
	ck_assert_int_eq(cus_balance(t.sk_test, cus), 0);
	e = event_for(t.sk_test, "subscription.resumed", sub);
	ck_assert_ptr_nonnull(e);
	assert_jstr(e, "data.object.status", "active");
	json_decref(e);
	r = sub_action(t.sk_test, sub, "resume", "{}");
	assert_error(r, 409, "invalid_request_error", "invalid_state", NULL);
	resp_free(r);

	/* A trial, and a waiting cancel, cannot be paused. */
	trial = fx_sub_new(t.sk_test, cus, plan, "\"trial_period_days\":14");
	r = sub_action(t.sk_test, trial, "pause", "{}");
	assert_error(r, 409, "invalid_request_error", "invalid_state", NULL);
	resp_free(r);
	waiting = fx_sub_new(t.sk_test, cus, plan, "");
	r = sub_cancel(t.sk_test, waiting, "{\"at_period_end\":true}");
	assert_status(r, 200);
	resp_free(r);
	r = sub_action(t.sk_test, waiting, "pause", "{}");
	assert_error(r, 409, "invalid_request_error", "invalid_state", NULL);
	resp_free(r);

	free(clock);
	free(cus);
	free(plan);
	free(sub);
	free(trial);
	free(waiting);
	free(first);
	tenant_free(&t);
	tenant_free(&o);
}
END_TEST

/*
 * Pause on Feb 15 (a pending -1448, as above), then cancel now with
 * prorate: the final invoice carries the pending item and no second
 * credit; the customer's balance is -1448.
 */
START_TEST(subs_pause_cancel)
{
	struct tenant	 t;
	struct resp	*r;
	json_t		*v, *fin = NULL;
	char		*clock, *cus, *plan, *sub, *first;
	size_t		 i;

	tenant_register(&t, NULL);
	clock = fx_clock_new(t.sk_test, CLOCK_TIME);
	cus = fx_customer_new(t.sk_test, "pm_card_visa", clock);
	plan = fx_plan_new(t.sk_test, "\"amount\":3000,\"interval\":\"month\"");
	r = sub_post(t.sk_test, cus, plan, "");
	assert_status(r, 201);
	sub = strdup(jstr(r->json, "id"));
	first = strdup(jstr(r->json, "latest_invoice_id"));
	resp_free(r);
	clock_to(t.sk_test, clock, "2028-02-15T00:00:00Z");
	r = sub_action(t.sk_test, sub, "pause", "{}");
	assert_status(r, 200);
	resp_free(r);
	clock_to(t.sk_test, clock, "2028-02-20T00:00:00Z");

	r = sub_cancel(t.sk_test, sub, "{\"prorate\":true}");
	assert_status(r, 200);
	assert_jstr(r->json, "status", "canceled");
	assert_jstr(r->json, "canceled_at", "2028-02-20T00:00:00Z");
	ck_assert(strcmp(jstr(r->json, "latest_invoice_id"), first) != 0);
	resp_free(r);
	r = sub_invoices(t.sk_test, sub);
	assert_status(r, 200);
	ck_assert_int_eq(list_size(r), 2);
	json_array_foreach(json_object_get(r->json, "data"), i, v)
		if (strcmp(jstr(v, "id"), first) != 0)
			fin = json_incref(v);
	resp_free(r);
	ck_assert_ptr_nonnull(fin);
	assert_jstr(fin, "status", "paid");
	ck_assert_int_eq(fx_int(fin, "total"), -1448);
	ck_assert_int_eq(fx_int(fin, "amount_due"), 0);
	ck_assert_int_eq(fx_int(fin, "ending_balance"), -1448);
	ck_assert_int_eq(json_array_size(jget(fin, "lines")), 1);
	assert_jstr(fin, "lines.0.kind", "proration");
	ck_assert_int_eq(fx_int(fin, "lines.0.amount"), -1448);
	assert_jstr(fin, "lines.0.period_start", "2028-02-15T00:00:00Z");
	assert_jstr(fin, "lines.0.period_end", "2028-02-29T00:00:00Z");
	json_decref(fin);
	ck_assert_int_eq(cus_balance(t.sk_test, cus), -1448);

	free(clock);
	free(cus);
	free(plan);
	free(sub);
	free(first);
	tenant_free(&t);
}
END_TEST

Suite *
suite_subscriptions(void)
{
	Suite	*s;
	TCase	*tc;

	s = suite_create("subscriptions");
	tc = api_tcase("subscriptions");
	tcase_add_test(tc, subs_create_monthly_clock);
	tcase_add_test(tc, subs_trial);
	tcase_add_test(tc, subs_declined_past_due);
	tcase_add_test(tc, subs_free_plan);
	tcase_add_test(tc, subs_create_validation);
	tcase_add_test(tc, subs_list_filters);
	tcase_add_test(tc, subs_isolation);
	tcase_add_test(tc, subs_period_billed_once);
	tcase_add_test(tc, subs_deadlock_is_429);
	tcase_add_test(tc, subs_cancel_prorate);
	tcase_add_test(tc, subs_cancel_prorate_half);
	tcase_add_test(tc, subs_cancel_no_invoice);
	tcase_add_test(tc, subs_cancel_at_period_end);
	tcase_add_test(tc, subs_cancel_stops_dunning);
	tcase_add_test(tc, subs_customer_delete_cancels);
	tcase_add_test(tc, subs_pause_resume);
	tcase_add_test(tc, subs_pause_cancel);
	suite_add_tcase(s, tc);
	return s;
}
