/*
 * The subscription life cycle over time (BILLING.md "Periods", "Invoices",
 * "Collection and dunning", "Ending, pausing, resuming"), driven through
 * test clocks: renewals across month ends and a leap year, trials that
 * convert with their trial_will_end notice, dunning retries and the final
 * action, recovery by a new card or a manual payment, cancel at period
 * end carried out, the same-instant order, and several billow worker
 * processes billing due subscriptions exactly once.
 *
 * Every expected value is worked out by hand in the comments.
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

#define DAY	86400LL

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

/* Owner JWT PATCH of the tenant's dunning settings. */
static void
dunning_set(struct tenant *t, const char *json)
{
	struct resp	*r;

	r = api_patch("/api/v1/auth/tenants/details", t->access, json, NULL);
	assert_status(r, 200);
	resp_free(r);
}

/*
 * A monthly plan started on Jan 31 2024 10:00 keeps the anchor's day and
 * time, clamped to each month's end: Feb 29 (2024 is a leap year), Mar 31,
 * Apr 30, May 31. Each renewal bills the plan in advance for the new
 * period and is paid by the card; nothing happens a second early.
 */
START_TEST(bill_leap_year_renewals)
{
	struct tenant	 t;
	json_t		*sub, *invs, *inv, *pays, *evs;
	char		*clock, *cus, *plan, *id, num[160];
	size_t		 i;

	tenant_register(&t, NULL);
	clock = fx_clock_new(t.sk_test, "2024-01-31T10:00:00Z");
	cus = fx_customer_new(t.sk_test, "pm_card_visa", clock);
	plan = fx_plan_new(t.sk_test, "\"amount\":1000,\"interval\":\"month\"");
	id = fx_sub_new(t.sk_test, cus, plan, "");
	sub = sub_get(t.sk_test, id);
	ck_assert_int_eq(fx_time(sub, "current_period_end"),
	    ts("2024-02-29T10:00:00Z"));
	json_decref(sub);

	/* One second early: nothing is due yet. */
	fx_clock_to(t.sk_test, clock, ts("2024-02-29T09:59:59Z"));
	invs = fx_sub_invoices(t.sk_test, id);
	ck_assert_int_eq(json_array_size(invs), 1);
	json_decref(invs);

	fx_clock_to(t.sk_test, clock, ts("2024-02-29T10:00:00Z"));
	invs = fx_sub_invoices(t.sk_test, id);
	ck_assert_int_eq(json_array_size(invs), 2);
	inv = json_array_get(invs, 1);
	assert_jstr(inv, "status", "paid");
	ck_assert_int_eq(fx_int(inv, "amount_paid"), 1000);
	ck_assert_int_eq(fx_int(inv, "total"), 1000);
	ck_assert_int_eq(fx_time(inv, "period_start"),
	    ts("2024-02-29T10:00:00Z"));
	ck_assert_int_eq(fx_time(inv, "period_end"),
	    ts("2024-03-31T10:00:00Z"));
	/* Billing time: created at the clock's time, not the wall's. */
	ck_assert_int_eq(fx_time(inv, "created"), ts("2024-02-29T10:00:00Z"));
	ck_assert_int_eq(json_array_size(json_object_get(inv, "lines")), 1);
	assert_jstr(inv, "lines.0.kind", "plan");
	ck_assert_int_eq(fx_int(inv, "lines.0.amount"), 1000);
	sub = sub_get(t.sk_test, id);
	assert_jstr(sub, "status", "active");
	assert_jstr(sub, "latest_invoice_id", jstr(inv, "id"));
	ck_assert_int_eq(fx_time(sub, "current_period_start"),
	    ts("2024-02-29T10:00:00Z"));
	ck_assert_int_eq(fx_time(sub, "current_period_end"),
	    ts("2024-03-31T10:00:00Z"));
	json_decref(sub);
	json_decref(invs);

	/* Two renewals in one advance, in time order: Mar 31, Apr 30. */
	fx_clock_to(t.sk_test, clock, ts("2024-04-30T10:00:00Z"));
	invs = fx_sub_invoices(t.sk_test, id);
	ck_assert_int_eq(json_array_size(invs), 4);
	ck_assert_int_eq(fx_time(json_array_get(invs, 2), "period_start"),
	    ts("2024-03-31T10:00:00Z"));
	ck_assert_int_eq(fx_time(json_array_get(invs, 2), "period_end"),
	    ts("2024-04-30T10:00:00Z"));
	ck_assert_int_eq(fx_time(json_array_get(invs, 3), "period_start"),
	    ts("2024-04-30T10:00:00Z"));
	ck_assert_int_eq(fx_time(json_array_get(invs, 3), "period_end"),
	    ts("2024-05-31T10:00:00Z"));
	/* Gapless numbers in the order the invoices were finalized. */
	json_array_foreach(invs, i, inv) {
		snprintf(num, sizeof(num), "%s-%04zu", t.slug, i + 1);
		for (char *c = num; *c != '\0'; c++)
			if (*c >= 'a' && *c <= 'z')
				*c = (char)(*c - 'a' + 'A');
		assert_jstr(inv, "number", num);
	}
	json_decref(invs);

	/* Four payments of 1000, each with the 15.00% fee: 150, net 850. */
	pays = fx_get(t.sk_test, "/api/v1/payments?subscription_id=%s", id);
	ck_assert_int_eq(json_array_size(json_object_get(pays, "data")), 4);
	json_array_foreach(json_object_get(pays, "data"), i, inv) {
		assert_jstr(inv, "status", "succeeded");
		ck_assert_int_eq(fx_int(inv, "amount"), 1000);
		ck_assert_int_eq(fx_int(inv, "application_fee_amount"), 150);
		ck_assert_int_eq(fx_int(inv, "net_amount"), 850);
	}
	json_decref(pays);

	/* One subscription.updated per renewal, with the old period. */
	evs = fx_events(t.sk_test, "subscription.updated", id);
	ck_assert_int_eq(json_array_size(evs), 3);
	ck_assert_int_eq(fx_time(json_array_get(evs, 0),
	    "data.previous_attributes.current_period_end"),
	    ts("2024-02-29T10:00:00Z"));
	json_decref(evs);

	free(clock);
	free(cus);
	free(plan);
	free(id);
	tenant_free(&t);
}
END_TEST

/*
 * A 10-day trial from Mar 1 2024 00:00 ends Mar 11. trial_will_end is due
 * three days before, Mar 8 00:00; at Mar 11 the trial converts: the first
 * invoice bills the plan for [Mar 11, Apr 11) and the subscription is
 * active. Renewal on Apr 11.
 */
START_TEST(bill_trial_converts)
{
	struct tenant	 t;
	json_t		*sub, *invs, *inv, *evs;
	char		*clock, *cus, *plan, *id;

	tenant_register(&t, NULL);
	clock = fx_clock_new(t.sk_test, "2024-03-01T00:00:00Z");
	cus = fx_customer_new(t.sk_test, "pm_card_visa", clock);
	plan = fx_plan_new(t.sk_test, "\"amount\":2500,\"interval\":\"month\","
	    "\"trial_period_days\":10");
	id = fx_sub_new(t.sk_test, cus, plan, "");
	sub = sub_get(t.sk_test, id);
	assert_jstr(sub, "status", "trial");
	ck_assert_int_eq(fx_time(sub, "trial_end"), ts("2024-03-11T00:00:00Z"));
	json_decref(sub);

	fx_clock_to(t.sk_test, clock, ts("2024-03-07T23:59:59Z"));
	evs = fx_events(t.sk_test, "subscription.trial_will_end", id);
	ck_assert_int_eq(json_array_size(evs), 0);
	json_decref(evs);
	fx_clock_to(t.sk_test, clock, ts("2024-03-08T00:00:00Z"));
	evs = fx_events(t.sk_test, "subscription.trial_will_end", id);
	ck_assert_int_eq(json_array_size(evs), 1);
	assert_jstr(json_array_get(evs, 0), "data.object.status", "trial");
	ck_assert_int_eq(fx_time(json_array_get(evs, 0), "created"),
	    ts("2024-03-08T00:00:00Z"));
	json_decref(evs);
	invs = fx_sub_invoices(t.sk_test, id);
	ck_assert_int_eq(json_array_size(invs), 0);
	json_decref(invs);

	fx_clock_to(t.sk_test, clock, ts("2024-03-11T00:00:00Z"));
	sub = sub_get(t.sk_test, id);
	assert_jstr(sub, "status", "active");
	ck_assert_int_eq(fx_time(sub, "current_period_start"),
	    ts("2024-03-11T00:00:00Z"));
	ck_assert_int_eq(fx_time(sub, "current_period_end"),
	    ts("2024-04-11T00:00:00Z"));
	json_decref(sub);
	invs = fx_sub_invoices(t.sk_test, id);
	ck_assert_int_eq(json_array_size(invs), 1);
	inv = json_array_get(invs, 0);
	assert_jstr(inv, "status", "paid");
	ck_assert_int_eq(fx_int(inv, "amount_paid"), 2500);
	ck_assert_int_eq(fx_time(inv, "period_start"),
	    ts("2024-03-11T00:00:00Z"));
	json_decref(invs);
	evs = fx_events(t.sk_test, "subscription.updated", id);
	ck_assert_int_eq(json_array_size(evs), 1);
	assert_jstr(json_array_get(evs, 0), "data.previous_attributes.status",
	    "trial");
	json_decref(evs);

	/* No second notice; the next renewal a month later. */
	fx_clock_to(t.sk_test, clock, ts("2024-04-11T00:00:00Z"));
	evs = fx_events(t.sk_test, "subscription.trial_will_end", id);
	ck_assert_int_eq(json_array_size(evs), 1);
	json_decref(evs);
	invs = fx_sub_invoices(t.sk_test, id);
	ck_assert_int_eq(json_array_size(invs), 2);
	json_decref(invs);

	free(clock);
	free(cus);
	free(plan);
	free(id);
	tenant_free(&t);
}
END_TEST

/*
 * A declining card at T0 = May 1 2024 12:00: the first attempt fails,
 * retries at T0 + 1, 3, 5 and 7 days (the default schedule) fail too, and
 * at T0 + 7d the default final action cancels the subscription; the
 * invoice stays open with no further retry.
 */
START_TEST(bill_dunning_cancels)
{
	struct tenant	 t;
	json_t		*sub, *inv, *pays, *p;
	char		*clock, *cus, *plan, *id, *inv_id;
	long long	 t0 = ts("2024-05-01T12:00:00Z");
	size_t		 i;

	tenant_register(&t, NULL);
	clock = fx_clock_new(t.sk_test, "2024-05-01T12:00:00Z");
	cus = fx_customer_new(t.sk_test, "pm_card_chargeDeclined", clock);
	plan = fx_plan_new(t.sk_test, "\"amount\":2000,\"interval\":\"month\"");
	id = fx_sub_new(t.sk_test, cus, plan, "");
	sub = sub_get(t.sk_test, id);
	assert_jstr(sub, "status", "past_due");
	inv_id = strdup(jstr(sub, "latest_invoice_id"));
	json_decref(sub);
	inv = fx_get(t.sk_test, "/api/v1/invoices/%s", inv_id);
	ck_assert_int_eq(fx_int(inv, "attempt_count"), 1);
	ck_assert_int_eq(fx_time(inv, "next_payment_attempt"), t0 + DAY);
	json_decref(inv);

	fx_clock_to(t.sk_test, clock, t0 + DAY);
	inv = fx_get(t.sk_test, "/api/v1/invoices/%s", inv_id);
	ck_assert_int_eq(fx_int(inv, "attempt_count"), 2);
	ck_assert_int_eq(fx_time(inv, "next_payment_attempt"), t0 + 3 * DAY);
	json_decref(inv);

	/* Two retries in one advance: T0 + 3d and T0 + 5d. */
	fx_clock_to(t.sk_test, clock, t0 + 6 * DAY);
	inv = fx_get(t.sk_test, "/api/v1/invoices/%s", inv_id);
	ck_assert_int_eq(fx_int(inv, "attempt_count"), 4);
	ck_assert_int_eq(fx_time(inv, "next_payment_attempt"), t0 + 7 * DAY);
	json_decref(inv);
	sub = sub_get(t.sk_test, id);
	assert_jstr(sub, "status", "past_due");
	json_decref(sub);

	fx_clock_to(t.sk_test, clock, t0 + 7 * DAY);
	sub = sub_get(t.sk_test, id);
	assert_jstr(sub, "status", "canceled");
	ck_assert_int_eq(fx_time(sub, "canceled_at"), t0 + 7 * DAY);
	json_decref(sub);
	inv = fx_get(t.sk_test, "/api/v1/invoices/%s", inv_id);
	assert_jstr(inv, "status", "open");
	ck_assert_int_eq(fx_int(inv, "attempt_count"), 5);
	ck_assert(fx_is_null(inv, "next_payment_attempt"));
	json_decref(inv);

	/* Five failed payments; nothing more happens later. */
	fx_clock_to(t.sk_test, clock, t0 + 40 * DAY);
	pays = fx_get(t.sk_test, "/api/v1/payments?invoice_id=%s", inv_id);
	ck_assert_int_eq(json_array_size(json_object_get(pays, "data")), 5);
	json_array_foreach(json_object_get(pays, "data"), i, p) {
		assert_jstr(p, "status", "failed");
		assert_jstr(p, "failure_code", "card_declined");
	}
	json_decref(pays);
	inv = fx_sub_invoices(t.sk_test, id);
	ck_assert_int_eq(json_array_size(inv), 1);
	json_decref(inv);

	free(clock);
	free(cus);
	free(plan);
	free(id);
	free(inv_id);
	tenant_free(&t);
}
END_TEST

/*
 * The tenant's schedule [2, 4] with final action unpaid, T0 = Jun 1 2024.
 * One advance to T0 + 40 d = Jul 11: the first invoice is tried at T0,
 * Jun 3, Jun 5 (3 attempts) and then left open; the subscription stays
 * past_due and still renews on Jul 1, whose invoice is tried Jul 1, 3, 5.
 */
START_TEST(bill_dunning_unpaid_keeps_renewing)
{
	struct tenant	 t;
	json_t		*sub, *invs, *inv;
	char		*clock, *cus, *plan, *id;
	size_t		 i;

	tenant_register(&t, NULL);
	dunning_set(&t, "{\"dunning_retry_days\":[2,4],"
	    "\"dunning_final_action\":\"unpaid\"}");
	clock = fx_clock_new(t.sk_test, "2024-06-01T00:00:00Z");
	cus = fx_customer_new(t.sk_test, "pm_card_insufficientFunds", clock);
	plan = fx_plan_new(t.sk_test, "\"amount\":1500,\"interval\":\"month\"");
	id = fx_sub_new(t.sk_test, cus, plan, "");
	fx_clock_to(t.sk_test, clock, ts("2024-07-11T00:00:00Z"));

	sub = sub_get(t.sk_test, id);
	assert_jstr(sub, "status", "past_due");
	json_decref(sub);
	invs = fx_sub_invoices(t.sk_test, id);
	ck_assert_int_eq(json_array_size(invs), 2);
	json_array_foreach(invs, i, inv) {
		assert_jstr(inv, "status", "open");
		ck_assert_int_eq(fx_int(inv, "attempt_count"), 3);
		ck_assert(fx_is_null(inv, "next_payment_attempt"));
	}
	ck_assert_int_eq(fx_time(json_array_get(invs, 1), "period_start"),
	    ts("2024-07-01T00:00:00Z"));
	json_decref(invs);

	free(clock);
	free(cus);
	free(plan);
	free(id);
	tenant_free(&t);
}
END_TEST

/*
 * A new card is used by the next scheduled retry (not at once): after the
 * decline at T0 the customer's card becomes a good one; at T0 + 1 d the
 * retry succeeds, the invoice is paid with 2 attempts and the
 * subscription is active again (subscription.updated from past_due).
 */
START_TEST(bill_retry_recovers)
{
	struct tenant	 t;
	struct resp	*r;
	json_t		*sub, *inv, *evs;
	char		*clock, *cus, *plan, *id, *inv_id, path[128];
	long long	 t0 = ts("2024-02-10T08:30:00Z");

	tenant_register(&t, NULL);
	clock = fx_clock_new(t.sk_test, "2024-02-10T08:30:00Z");
	cus = fx_customer_new(t.sk_test, "pm_card_expired", clock);
	plan = fx_plan_new(t.sk_test, "\"amount\":990,\"interval\":\"month\"");
	id = fx_sub_new(t.sk_test, cus, plan, "");
	sub = sub_get(t.sk_test, id);
	inv_id = strdup(jstr(sub, "latest_invoice_id"));
	json_decref(sub);

	snprintf(path, sizeof(path), "/api/v1/customers/%s", cus);
	r = api_patch(path, t.sk_test, "{\"payment_method\":\"pm_card_visa\"}",
	    NULL);
	assert_status(r, 200);
	resp_free(r);
	/* Not retried at once. */
	inv = fx_get(t.sk_test, "/api/v1/invoices/%s", inv_id);
	ck_assert_int_eq(fx_int(inv, "attempt_count"), 1);
	json_decref(inv);

	fx_clock_to(t.sk_test, clock, t0 + DAY);
	inv = fx_get(t.sk_test, "/api/v1/invoices/%s", inv_id);
	assert_jstr(inv, "status", "paid");
	ck_assert_int_eq(fx_int(inv, "attempt_count"), 2);
	ck_assert_int_eq(fx_int(inv, "amount_paid"), 990);
	ck_assert(fx_is_null(inv, "next_payment_attempt"));
	json_decref(inv);
	sub = sub_get(t.sk_test, id);
	assert_jstr(sub, "status", "active");
	json_decref(sub);
	evs = fx_events(t.sk_test, "subscription.updated", id);
	ck_assert_int_eq(json_array_size(evs), 1);
	assert_jstr(json_array_get(evs, 0), "data.previous_attributes.status",
	    "past_due");
	assert_jstr(json_array_get(evs, 0), "data.object.status", "active");
	json_decref(evs);

	free(clock);
	free(cus);
	free(plan);
	free(id);
	free(inv_id);
	tenant_free(&t);
}
END_TEST

/*
 * POST /invoices/{id}/pay attempts at once: a failure is 402 with the
 * failure code and leaves the retry schedule as it was; after a card
 * change it pays, and the subscription is active again.
 */
START_TEST(bill_manual_pay_recovers)
{
	struct tenant	 t;
	struct resp	*r;
	json_t		*sub, *inv;
	char		*clock, *cus, *plan, *id, *inv_id, path[128];
	long long	 t0 = ts("2024-08-01T00:00:00Z");

	tenant_register(&t, NULL);
	clock = fx_clock_new(t.sk_test, "2024-08-01T00:00:00Z");
	cus = fx_customer_new(t.sk_test, "pm_card_chargeDeclined", clock);
	plan = fx_plan_new(t.sk_test, "\"amount\":500,\"interval\":\"month\"");
	id = fx_sub_new(t.sk_test, cus, plan, "");
	sub = sub_get(t.sk_test, id);
	inv_id = strdup(jstr(sub, "latest_invoice_id"));
	json_decref(sub);

	snprintf(path, sizeof(path), "/api/v1/invoices/%s/pay", inv_id);
	r = api_post(path, t.sk_test, "{}", NULL);
	assert_error(r, 402, "card_error", "card_declined", NULL);
	resp_free(r);
	inv = fx_get(t.sk_test, "/api/v1/invoices/%s", inv_id);
	ck_assert_int_eq(fx_int(inv, "attempt_count"), 2);
	ck_assert_int_eq(fx_time(inv, "next_payment_attempt"), t0 + DAY);
	json_decref(inv);

	snprintf(path, sizeof(path), "/api/v1/customers/%s", cus);
	r = api_patch(path, t.sk_test, "{\"payment_method\":"
	    "\"pm_card_mastercard\"}", NULL);
	assert_status(r, 200);
	resp_free(r);
	snprintf(path, sizeof(path), "/api/v1/invoices/%s/pay", inv_id);
	r = api_post(path, t.sk_test, "{}", NULL);
	assert_status(r, 200);
	assert_jstr(r->json, "status", "paid");
	ck_assert_int_eq(fx_int(r->json, "amount_paid"), 500);
	resp_free(r);
	sub = sub_get(t.sk_test, id);
	assert_jstr(sub, "status", "active");
	json_decref(sub);

	/* Paid: the retry that was due does nothing. */
	fx_clock_to(t.sk_test, clock, t0 + 2 * DAY);
	inv = fx_get(t.sk_test, "/api/v1/invoices/%s", inv_id);
	ck_assert_int_eq(fx_int(inv, "attempt_count"), 3);
	json_decref(inv);

	free(clock);
	free(cus);
	free(plan);
	free(id);
	free(inv_id);
	tenant_free(&t);
}
END_TEST

/*
 * Cancel at period end, carried out: started Jan 15 2024, flagged, at Feb
 * 15 it is canceled at exactly the period end with no renewal and no
 * final invoice (no usage, no pending items: nothing non-zero to bill).
 */
START_TEST(bill_cancel_at_period_end_runs)
{
	struct tenant	 t;
	struct resp	*r;
	json_t		*sub, *invs, *evs;
	char		*clock, *cus, *plan, *id, path[128];

	tenant_register(&t, NULL);
	clock = fx_clock_new(t.sk_test, "2024-01-15T00:00:00Z");
	cus = fx_customer_new(t.sk_test, "pm_card_visa", clock);
	plan = fx_plan_new(t.sk_test, "\"amount\":1200,\"interval\":\"month\"");
	id = fx_sub_new(t.sk_test, cus, plan, "");
	snprintf(path, sizeof(path), "/api/v1/subscriptions/%s/cancel", id);
	r = api_post(path, t.sk_test, "{\"at_period_end\":true}", NULL);
	assert_status(r, 200);
	resp_free(r);

	fx_clock_to(t.sk_test, clock, ts("2024-02-14T23:59:59Z"));
	sub = sub_get(t.sk_test, id);
	assert_jstr(sub, "status", "active");
	json_decref(sub);

	fx_clock_to(t.sk_test, clock, ts("2024-03-20T00:00:00Z"));
	sub = sub_get(t.sk_test, id);
	assert_jstr(sub, "status", "canceled");
	ck_assert_int_eq(fx_time(sub, "canceled_at"),
	    ts("2024-02-15T00:00:00Z"));
	ck_assert(json_is_false(json_object_get(sub, "cancel_at_period_end")));
	/* Period fields keep their last values. */
	ck_assert_int_eq(fx_time(sub, "current_period_end"),
	    ts("2024-02-15T00:00:00Z"));
	json_decref(sub);
	invs = fx_sub_invoices(t.sk_test, id);
	ck_assert_int_eq(json_array_size(invs), 1);
	json_decref(invs);
	evs = fx_events(t.sk_test, "subscription.canceled", id);
	ck_assert_int_eq(json_array_size(evs), 1);
	json_decref(evs);

	free(clock);
	free(cus);
	free(plan);
	free(id);
	tenant_free(&t);
}
END_TEST

/*
 * Same instant, several subscriptions: they run in id order, so the
 * renewal invoices of A (created first, the smaller id) and B are
 * numbered in that order: with the two first invoices 0001 (A) and 0002
 * (B), the renewals are 0003 (A) and 0004 (B).
 */
START_TEST(bill_same_instant_id_order)
{
	struct tenant	 t;
	json_t		*ia, *ib;
	char		*clock, *ca, *cb, *plan, *a, *b;
	const char	*na, *nb;

	tenant_register(&t, NULL);
	clock = fx_clock_new(t.sk_test, "2024-09-01T00:00:00Z");
	ca = fx_customer_new(t.sk_test, "pm_card_visa", clock);
	cb = fx_customer_new(t.sk_test, "pm_card_visa", clock);
	plan = fx_plan_new(t.sk_test, "\"amount\":100,\"interval\":\"week\"");
	a = fx_sub_new(t.sk_test, ca, plan, "");
	b = fx_sub_new(t.sk_test, cb, plan, "");
	ck_assert(strcmp(a, b) < 0);
	fx_clock_to(t.sk_test, clock, ts("2024-09-08T00:00:00Z"));
	ia = fx_sub_invoices(t.sk_test, a);
	ib = fx_sub_invoices(t.sk_test, b);
	ck_assert_int_eq(json_array_size(ia), 2);
	ck_assert_int_eq(json_array_size(ib), 2);
	na = jstr(json_array_get(ia, 1), "number");
	nb = jstr(json_array_get(ib, 1), "number");
	ck_assert_ptr_nonnull(na);
	ck_assert_ptr_nonnull(nb);
	ck_assert_str_eq(na + strlen(na) - 4, "0003");
	ck_assert_str_eq(nb + strlen(nb) - 4, "0004");
	json_decref(ia);
	json_decref(ib);

	free(clock);
	free(ca);
	free(cb);
	free(plan);
	free(a);
	free(b);
	tenant_free(&t);
}
END_TEST

/*
 * At one instant retries come before the period end, and a cancellation
 * stops the rest: with the schedule [30] a monthly subscription started
 * Apr 1 2024 (a 30-day April) has its only retry at May 1 00:00, the same
 * instant as its period end. The retry fails, the final action cancels at
 * May 1, and no renewal is invoiced.
 */
START_TEST(bill_retry_before_period_end)
{
	struct tenant	 t;
	json_t		*sub, *invs;
	char		*clock, *cus, *plan, *id;

	tenant_register(&t, NULL);
	dunning_set(&t, "{\"dunning_retry_days\":[30]}");
	clock = fx_clock_new(t.sk_test, "2024-04-01T00:00:00Z");
	cus = fx_customer_new(t.sk_test, "pm_card_chargeDeclined", clock);
	plan = fx_plan_new(t.sk_test, "\"amount\":700,\"interval\":\"month\"");
	id = fx_sub_new(t.sk_test, cus, plan, "");
	fx_clock_to(t.sk_test, clock, ts("2024-05-02T00:00:00Z"));
	sub = sub_get(t.sk_test, id);
	assert_jstr(sub, "status", "canceled");
	ck_assert_int_eq(fx_time(sub, "canceled_at"),
	    ts("2024-05-01T00:00:00Z"));
	json_decref(sub);
	invs = fx_sub_invoices(t.sk_test, id);
	ck_assert_int_eq(json_array_size(invs), 1);
	ck_assert_int_eq(fx_int(json_array_get(invs, 0), "attempt_count"), 2);
	json_decref(invs);

	free(clock);
	free(cus);
	free(plan);
	free(id);
	tenant_free(&t);
}
END_TEST

/* An owner connection to the server's database (DATABASE_URL). */
static PGconn *
db_connect(void)
{
	const char	*url = getenv("DATABASE_URL");
	PGconn		*c;

	ck_assert_msg(url != NULL && *url != '\0', "DATABASE_URL must name "
	    "the test database for this test");
	c = PQconnectdb(url);
	ck_assert_msg(PQstatus(c) == CONNECTION_OK, "cannot connect: %s",
	    PQerrorMessage(c));
	return c;
}

static long long
db_count(PGconn *c, const char *sql, const char *tenant)
{
	const char	*p[1] = { tenant };
	PGresult	*res;
	long long	 n;

	res = PQexecParams(c, sql, 1, NULL, p, NULL, NULL, 0);
	ck_assert_msg(PQresultStatus(res) == PGRES_TUPLES_OK, "%s: %s", sql,
	    PQerrorMessage(c));
	n = atoll(PQgetvalue(res, 0, 0));
	PQclear(res);
	return n;
}

/* Starts `billow worker` (BILLOW_BIN) on the test configuration. */
static pid_t
worker_start(void)
{
	const char	*bin = getenv("BILLOW_BIN"), *dir = getenv(
	    "BILLOW_TEST_DIR");
	char		 conf[1024];
	pid_t		 pid;

	ck_assert_msg(bin != NULL && dir != NULL, "BILLOW_BIN and "
	    "BILLOW_TEST_DIR must be set (scripts/test.sh sets them)");
	snprintf(conf, sizeof(conf), "%s/billow.test.conf", dir);
	pid = fork();
	ck_assert(pid >= 0);
	if (pid == 0) {
		execl(bin, bin, "worker", "-c", conf, (char *)NULL);
		_exit(127);
	}
	return pid;
}

#define BILL_ONCE_SUBS	40

/*
 * DESIGN "Billing rules": several workers share the due work and bill
 * each subscription exactly once. 40 subscriptions (no test clock) are
 * made due at once, straight in the database, while two extra billow
 * worker processes run beside the server's own; when the scan finds
 * nothing due any more, each has exactly one renewal invoice (40 in all,
 * 80 invoices with the first ones) and its period moved by one month.
 */
START_TEST(bill_workers_bill_once)
{
	static const char *const due_sql = "UPDATE subscriptions SET "
	    "current_period_start = date_trunc('second', now()) - "
	    "interval '1 month' - interval '1 minute', current_period_end = "
	    "date_trunc('second', now()) - interval '1 minute', "
	    "billing_cycle_anchor = date_trunc('second', now()) - "
	    "interval '1 minute', usage_billed_until = date_trunc('second', "
	    "now()) - interval '1 month' - interval '1 minute' "
	    "WHERE tenant_id = $1";
	struct tenant	 t;
	PGconn		*c;
	PGresult	*res;
	const char	*p[1];
	char		*cus, *plan, *id;
	pid_t		 w[2];
	long long	 renewals = 0, left = 1;
	int		 i, status;
	time_t		 deadline;

	tenant_register(&t, NULL);
	plan = fx_plan_new(t.sk_test, "\"amount\":321,\"interval\":\"month\"");
	for (i = 0; i < BILL_ONCE_SUBS; i++) {
		cus = fx_customer_new(t.sk_test, "pm_card_visa", NULL);
		id = fx_sub_new(t.sk_test, cus, plan, "");
		free(cus);
		free(id);
	}
	w[0] = worker_start();
	w[1] = worker_start();

	c = db_connect();
	p[0] = t.id;
	res = PQexecParams(c, due_sql, 1, NULL, p, NULL, NULL, 0);
	ck_assert_msg(PQresultStatus(res) == PGRES_COMMAND_OK, "%s",
	    PQerrorMessage(c));
	ck_assert_int_eq(atoi(PQcmdTuples(res)), BILL_ONCE_SUBS);
	PQclear(res);

	/* Wait for the condition: nothing of this tenant due any more. */
	deadline = time(NULL) + 120;
	while (time(NULL) < deadline) {
		left = db_count(c, "SELECT count(*) FROM "
		    "billow_due_subscriptions(100000) WHERE tenant_id = $1",
		    t.id);
		renewals = db_count(c, "SELECT count(*) FROM invoices WHERE "
		    "tenant_id = $1 AND billing_reason = 'subscription_cycle'",
		    t.id);
		if (left == 0 && renewals == BILL_ONCE_SUBS)
			break;
		usleep(50000);
	}
	for (i = 0; i < 2; i++) {
		kill(w[i], SIGTERM);
		waitpid(w[i], &status, 0);
	}
	ck_assert_int_eq(left, 0);
	ck_assert_int_eq(renewals, BILL_ONCE_SUBS);
	ck_assert_int_eq(db_count(c, "SELECT count(*) FROM invoices WHERE "
	    "tenant_id = $1", t.id), 2 * BILL_ONCE_SUBS);
	/* Every subscription exactly once: two invoices each. */
	ck_assert_int_eq(db_count(c, "SELECT count(*) FROM (SELECT "
	    "subscription_id FROM invoices WHERE tenant_id = $1 GROUP BY 1 "
	    "HAVING count(*) <> 2) x", t.id), 0);
	ck_assert_int_eq(db_count(c, "SELECT count(*) FROM subscriptions "
	    "WHERE tenant_id = $1 AND current_period_start = "
	    "billing_cycle_anchor AND current_period_end = "
	    "billing_cycle_anchor + interval '1 month' AND status = 'active'",
	    t.id), BILL_ONCE_SUBS);
	ck_assert_int_eq(db_count(c, "SELECT count(*) FROM payments WHERE "
	    "tenant_id = $1 AND status = 'succeeded'", t.id),
	    2 * BILL_ONCE_SUBS);
	PQfinish(c);
	free(plan);
	tenant_free(&t);
}
END_TEST

Suite *
suite_billing(void)
{
	Suite	*s = suite_create("billing");
	TCase	*tc = tcase_create("life cycle");

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, bill_leap_year_renewals);
	tcase_add_test(tc, bill_trial_converts);
	tcase_add_test(tc, bill_dunning_cancels);
	tcase_add_test(tc, bill_dunning_unpaid_keeps_renewing);
	tcase_add_test(tc, bill_retry_recovers);
	tcase_add_test(tc, bill_manual_pay_recovers);
	tcase_add_test(tc, bill_cancel_at_period_end_runs);
	tcase_add_test(tc, bill_same_instant_id_order);
	tcase_add_test(tc, bill_retry_before_period_end);
	suite_add_tcase(s, tc);
	tc = tcase_create("workers");
	tcase_set_timeout(tc, 180);
	tcase_add_test(tc, bill_workers_bill_once);
	suite_add_tcase(s, tc);
	return s;
}
