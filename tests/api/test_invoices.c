/*
 * Invoices, payments and refunds (API.md "Invoices, payments, refunds";
 * BILLING.md "Invoices", "Collection and dunning"): drafts, validation,
 * balance rules, gapless numbers, the card simulator, fees and refunds.
 */
#include <sys/wait.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "harness.h"

#include <ctype.h>

/* Invoice numbers are the tenant's slug upper-cased: "ACME-INC-0001". */
static const char *
upper_slug(const struct tenant *t)
{
	static char	buf[128];
	size_t		i;

	for (i = 0; t->slug[i] != '\0' && i < sizeof(buf) - 1; i++)
		buf[i] = (char)toupper((unsigned char)t->slug[i]);
	buf[i] = '\0';
	return buf;
}

#define INVOICES	"/api/v1/invoices"
#define PAYMENTS	"/api/v1/payments"

static long long
jint(json_t *j, const char *path)
{
	json_t	*v = jget(j, path);

	ck_assert_msg(json_is_integer(v), "%s: not an integer", path);
	return json_integer_value(v);
}

static int
is_null(json_t *j, const char *path)
{
	json_t	*v = jget(j, path);

	return v != NULL && json_is_null(v);
}

/* A customer with payment method PM (NULL: none); returns its id. */
static char *
customer_new(const char *auth, const char *pm)
{
	struct resp	*r;
	char		 body[256], *id;

	if (pm != NULL)
		snprintf(body, sizeof(body), "{\"email\":\"a@example.test\","
		    "\"payment_method\":\"%s\"}", pm);
	else
		snprintf(body, sizeof(body), "{\"email\":\"a@example.test\"}");
	r = api_post("/api/v1/customers", auth, body, NULL);
	assert_status(r, 201);
	id = strdup(jstr(r->json, "id"));
	resp_free(r);
	return id;
}

/* A draft for CUS with one line of AMOUNT (USD); returns its id. */
static char *
draft_new(const char *auth, const char *cus, long long amount)
{
	struct resp	*r;
	char		 body[512], *id;

	snprintf(body, sizeof(body), "{\"customer_id\":\"%s\","
	    "\"currency\":\"usd\",\"lines\":[{\"description\":\"Work\","
	    "\"amount\":%lld}]}", cus, amount);
	r = api_post(INVOICES, auth, body, NULL);
	assert_status(r, 201);
	id = strdup(jstr(r->json, "id"));
	resp_free(r);
	return id;
}

/* POST /invoices/ID/ACTION with an empty object. */
static struct resp *
inv_action(const char *auth, const char *id, const char *action,
    const char *const *extra)
{
	char	path[256];

	snprintf(path, sizeof(path), INVOICES "/%s/%s", id, action);
	return api_post(path, auth, "{}", extra);
}

static struct resp *
get_path(const char *auth, const char *fmt, const char *id)
{
	char	path[512];

	snprintf(path, sizeof(path), fmt, id);
	return api_get(path, auth, NULL);
}

/* A finalized (open) invoice of AMOUNT for CUS; returns its id. */
static char *
open_new(const char *auth, const char *cus, long long amount)
{
	struct resp	*r;
	char		*id;

	id = draft_new(auth, cus, amount);
	r = inv_action(auth, id, "finalize", NULL);
	assert_status(r, 200);
	assert_jstr(r->json, "status", "open");
	resp_free(r);
	return id;
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

/* The payments of invoice ID, newest first (caller frees). */
static struct resp *
payments_of(const char *auth, const char *id)
{
	struct resp	*r;

	r = get_path(auth, PAYMENTS "?invoice_id=%s", id);
	assert_status(r, 200);
	assert_jstr(r->json, "object", "list");
	return r;
}

START_TEST(invoices_create_lines)
{
	struct tenant	 t;
	struct resp	*r, *g;
	json_t		*o, *e;
	char		*cus, body[512];

	tenant_register(&t, NULL);
	cus = customer_new(t.sk_test, NULL);
	snprintf(body, sizeof(body), "{\"customer_id\":\"%s\","
	    "\"currency\":\"uSd\",\"metadata\":{\"po\":\"42\"},\"lines\":["
	    "{\"description\":\"Setup\",\"amount\":1000},"
	    "{\"description\":\"Seats\",\"unit_amount\":250,\"quantity\":3},"
	    "{\"description\":\"Goodwill\",\"amount\":-200},"
	    "{\"description\":\"Extra\",\"amount_decimal\":\"0.05\"}]}", cus);
	r = api_post(INVOICES, t.sk_test, body, NULL);
	assert_status(r, 201);
	o = r->json;
	assert_jstr(o, "object", "invoice");
	ck_assert(strncmp(jstr(o, "id"), "in_", 3) == 0);
	ck_assert(json_is_false(json_object_get(o, "livemode")));
	ck_assert(is_null(o, "number"));
	assert_jstr(o, "customer_id", cus);
	ck_assert(is_null(o, "subscription_id"));
	assert_jstr(o, "status", "draft");
	assert_jstr(o, "currency", "USD");
	assert_jstr(o, "metadata.po", "42");
	ck_assert_int_eq(json_array_size(json_object_get(o, "lines")), 4);
	ck_assert(strncmp(jstr(o, "lines.0.id"), "il_", 3) == 0);
	assert_jstr(o, "lines.0.kind", "one_time");
	assert_jstr(o, "lines.0.description", "Setup");
	ck_assert_int_eq(jint(o, "lines.0.amount"), 1000);
	ck_assert(is_null(o, "lines.0.unit_amount"));
	ck_assert_int_eq(jint(o, "lines.0.quantity"), 1);
	ck_assert(is_null(o, "lines.0.period_start"));
	ck_assert(is_null(o, "lines.0.period_end"));
	ck_assert_int_eq(jint(o, "lines.1.amount"), 750);
	ck_assert_int_eq(jint(o, "lines.1.unit_amount"), 250);
	ck_assert_int_eq(jint(o, "lines.1.quantity"), 3);
	assert_jstr(o, "lines.2.kind", "adjustment");
	ck_assert_int_eq(jint(o, "lines.2.amount"), -200);
	ck_assert_int_eq(jint(o, "lines.3.amount"), 5);
	ck_assert_int_eq(jint(o, "subtotal"), 1555);
	ck_assert_int_eq(jint(o, "total"), 1555);
	ck_assert_int_eq(jint(o, "amount_due"), 0);
	ck_assert_int_eq(jint(o, "amount_paid"), 0);
	ck_assert_int_eq(jint(o, "attempt_count"), 0);
	ck_assert(is_null(o, "period_start"));
	ck_assert(is_null(o, "period_end"));
	ck_assert(is_null(o, "next_payment_attempt"));
	ck_assert(is_null(o, "script_error"));
	ck_assert_int_eq(strlen(jstr(o, "created")), 20);

	g = get_path(t.sk_test, INVOICES "/%s", jstr(o, "id"));
	assert_status(g, 200);
	ck_assert(json_equal(g->json, o));
	resp_free(g);

	e = event_for(t.sk_test, "invoice.created", jstr(o, "id"));
	ck_assert_msg(e != NULL, "no invoice.created event");
	assert_jstr(e, "data.object.status", "draft");
	json_decref(e);

	g = get_path(t.sk_test, INVOICES "?customer_id=%s", cus);
	assert_status(g, 200);
	assert_jstr(g->json, "url", INVOICES);
	assert_jstr(g->json, "data.0.id", jstr(o, "id"));
	resp_free(g);
	g = get_path(t.sk_test, INVOICES "?status=%s", "open");
	assert_status(g, 200);
	ck_assert_int_eq(json_array_size(json_object_get(g->json, "data")), 0);
	resp_free(g);
	g = get_path(t.sk_test, INVOICES "?status=%s", "bogus");
	assert_error(g, 400, "invalid_request_error", "parameter_invalid",
	    "status");
	resp_free(g);
	resp_free(r);
	free(cus);
	tenant_free(&t);
}
END_TEST

START_TEST(invoices_create_plan)
{
	struct tenant	 t;
	struct resp	*r;
	char		*cus, plan[64], rec[64], body[512];

	tenant_register(&t, NULL);
	cus = customer_new(t.sk_test, NULL);
	r = api_post("/api/v1/plans", t.sk_test, "{\"name\":\"Install\","
	    "\"type\":\"one_time\",\"amount\":4900,\"currency\":\"eur\"}",
	    NULL);
	assert_status(r, 201);
	snprintf(plan, sizeof(plan), "%s", jstr(r->json, "id"));
	resp_free(r);
	r = api_post("/api/v1/plans", t.sk_test, "{\"name\":\"Monthly\","
	    "\"amount\":900,\"currency\":\"eur\",\"interval\":\"month\"}",
	    NULL);
	assert_status(r, 201);
	snprintf(rec, sizeof(rec), "%s", jstr(r->json, "id"));
	resp_free(r);

	snprintf(body, sizeof(body), "{\"customer_id\":\"%s\","
	    "\"plan_id\":\"%s\"}", cus, plan);
	r = api_post(INVOICES, t.sk_test, body, NULL);
	assert_status(r, 201);
	assert_jstr(r->json, "currency", "EUR");
	ck_assert_int_eq(json_array_size(json_object_get(r->json, "lines")),
	    1);
	assert_jstr(r->json, "lines.0.kind", "one_time");
	assert_jstr(r->json, "lines.0.description", "Install");
	ck_assert_int_eq(jint(r->json, "lines.0.amount"), 4900);
	ck_assert_int_eq(jint(r->json, "lines.0.unit_amount"), 4900);
	ck_assert_int_eq(jint(r->json, "lines.0.quantity"), 1);
	ck_assert_int_eq(jint(r->json, "total"), 4900);
	resp_free(r);

	snprintf(body, sizeof(body), "{\"customer_id\":\"%s\","
	    "\"plan_id\":\"%s\"}", cus, rec);
	r = api_post(INVOICES, t.sk_test, body, NULL);
	assert_error(r, 400, "invalid_request_error", "parameter_invalid",
	    "plan_id");
	resp_free(r);
	snprintf(body, sizeof(body), "{\"customer_id\":\"%s\","
	    "\"plan_id\":\"plan_nope\"}", cus);
	r = api_post(INVOICES, t.sk_test, body, NULL);
	assert_error(r, 400, "invalid_request_error", "resource_missing",
	    "plan_id");
	resp_free(r);
	snprintf(body, sizeof(body), "{\"customer_id\":\"%s\","
	    "\"plan_id\":\"%s\",\"currency\":\"usd\",\"lines\":[{"
	    "\"description\":\"x\",\"amount\":1}]}", cus, plan);
	r = api_post(INVOICES, t.sk_test, body, NULL);
	assert_error(r, 400, "invalid_request_error", "parameter_invalid",
	    "plan_id");
	resp_free(r);
	free(cus);
	tenant_free(&t);
}
END_TEST

/* POST /invoices with BODY (%s is the customer id) must answer 400. */
static void
create_fails(const char *auth, const char *cus, const char *fmt,
    const char *code, const char *param)
{
	struct resp	*r;
	char		 body[8192];

	snprintf(body, sizeof(body), fmt, cus);
	r = api_post(INVOICES, auth, body, NULL);
	assert_error(r, 400, "invalid_request_error", code, param);
	resp_free(r);
}

START_TEST(invoices_create_validation)
{
	struct tenant	 t;
	struct resp	*r;
	char		*cus, many[8192];
	size_t		 i, n;

	tenant_register(&t, NULL);
	cus = customer_new(t.sk_test, NULL);
	r = api_post(INVOICES, t.sk_test, "{\"currency\":\"usd\",\"lines\":"
	    "[{\"description\":\"x\",\"amount\":1}]}", NULL);
	assert_error(r, 400, "invalid_request_error", "parameter_missing",
	    "customer_id");
	resp_free(r);
	create_fails(t.sk_test, "cus_nope", "{\"customer_id\":\"%s\","
	    "\"currency\":\"usd\",\"lines\":[{\"description\":\"x\","
	    "\"amount\":1}]}", "resource_missing", "customer_id");
	create_fails(t.sk_test, cus, "{\"customer_id\":\"%s\",\"lines\":[{"
	    "\"description\":\"x\",\"amount\":1}]}", "parameter_missing",
	    "currency");
	create_fails(t.sk_test, cus, "{\"customer_id\":\"%s\","
	    "\"currency\":\"xyz\",\"lines\":[{\"description\":\"x\","
	    "\"amount\":1}]}", "parameter_invalid", "currency");
	create_fails(t.sk_test, cus, "{\"customer_id\":\"%s\","
	    "\"currency\":\"usd\"}", "parameter_missing", "lines");
	create_fails(t.sk_test, cus, "{\"customer_id\":\"%s\","
	    "\"currency\":\"usd\",\"lines\":[]}", "parameter_invalid",
	    "lines");
	create_fails(t.sk_test, cus, "{\"customer_id\":\"%s\","
	    "\"currency\":\"usd\",\"lines\":[{\"description\":\"x\","
	    "\"unit_amount\":100000000,\"quantity\":1}]}",
	    "parameter_invalid", "lines[0].unit_amount");
	create_fails(t.sk_test, cus, "{\"customer_id\":\"%s\","
	    "\"currency\":\"usd\",\"lines\":[{\"description\":\"x\","
	    "\"unit_amount\":1,\"quantity\":0}]}", "parameter_invalid",
	    "lines[0].quantity");
	create_fails(t.sk_test, cus, "{\"customer_id\":\"%s\","
	    "\"currency\":\"usd\",\"lines\":[{\"description\":\"x\","
	    "\"unit_amount\":1,\"quantity\":1000001}]}", "parameter_invalid",
	    "lines[0].quantity");
	create_fails(t.sk_test, cus, "{\"customer_id\":\"%s\","
	    "\"currency\":\"usd\",\"lines\":[{\"description\":\"x\","
	    "\"amount\":1.5}]}", "parameter_invalid", "lines[0].amount");
	create_fails(t.sk_test, cus, "{\"customer_id\":\"%s\","
	    "\"currency\":\"usd\",\"lines\":[{\"description\":\"x\","
	    "\"amount\":\"15\"}]}", "parameter_invalid", "lines[0].amount");
	create_fails(t.sk_test, cus, "{\"customer_id\":\"%s\","
	    "\"currency\":\"usd\",\"lines\":[{\"description\":\"x\","
	    "\"amount_decimal\":\"1.234\"}]}", "parameter_invalid",
	    "lines[0].amount_decimal");
	create_fails(t.sk_test, cus, "{\"customer_id\":\"%s\","
	    "\"currency\":\"usd\",\"lines\":[{\"description\":\"x\","
	    "\"amount\":5,\"unit_amount\":5}]}", "parameter_invalid",
	    "lines[0].unit_amount");
	create_fails(t.sk_test, cus, "{\"customer_id\":\"%s\","
	    "\"currency\":\"usd\",\"lines\":[{\"description\":\"x\"}]}",
	    "parameter_missing", "lines[0].amount");
	create_fails(t.sk_test, cus, "{\"customer_id\":\"%s\","
	    "\"currency\":\"usd\",\"lines\":[{\"amount\":5}]}",
	    "parameter_missing", "lines[0].description");
	create_fails(t.sk_test, cus, "{\"customer_id\":\"%s\","
	    "\"currency\":\"usd\",\"lines\":[{\"description\":\"x\","
	    "\"amount\":5,\"tax\":1}]}", "parameter_unknown",
	    "lines[0].tax");
	create_fails(t.sk_test, cus, "{\"customer_id\":\"%s\","
	    "\"currency\":\"usd\",\"auto_advance\":true,\"lines\":[{"
	    "\"description\":\"x\",\"amount\":5}]}", "parameter_unknown",
	    "auto_advance");
	/* 101 lines. */
	n = (size_t)snprintf(many, sizeof(many), "{\"customer_id\":\"%%s\","
	    "\"currency\":\"usd\",\"lines\":[");
	for (i = 0; i < 101; i++)
		n += (size_t)snprintf(many + n, sizeof(many) - n,
		    "%s{\"description\":\"l\",\"amount\":1}", i ? "," : "");
	snprintf(many + n, sizeof(many) - n, "]}");
	create_fails(t.sk_test, cus, many, "parameter_invalid", "lines");

	/* A deleted customer is gone. */
	{
		char	path[128];

		snprintf(path, sizeof(path), "/api/v1/customers/%s", cus);
		r = api_delete(path, t.sk_test, NULL);
		assert_status(r, 200);
		resp_free(r);
	}
	create_fails(t.sk_test, cus, "{\"customer_id\":\"%s\","
	    "\"currency\":\"usd\",\"lines\":[{\"description\":\"x\","
	    "\"amount\":1}]}", "resource_missing", "customer_id");
	free(cus);
	tenant_free(&t);
}
END_TEST

/* API.md "Conventions": lines carry amount_decimal in the currency. */
START_TEST(invoices_line_amount_decimal)
{
	struct tenant	 t;
	struct resp	*r;
	char		*cus, *id, body[512];

	tenant_register(&t, NULL);
	cus = customer_new(t.sk_test, NULL);
	snprintf(body, sizeof(body), "{\"customer_id\":\"%s\","
	    "\"currency\":\"usd\",\"lines\":["
	    "{\"description\":\"Work\",\"amount\":5000},"
	    "{\"description\":\"Goodwill\",\"amount\":-500}]}", cus);
	r = api_post(INVOICES, t.sk_test, body, NULL);
	assert_status(r, 201);
	assert_jstr(r->json, "lines.0.amount_decimal", "50.00");
	assert_jstr(r->json, "lines.1.kind", "adjustment");
	assert_jstr(r->json, "lines.1.amount_decimal", "-5.00");
	id = strdup(jstr(r->json, "id"));
	resp_free(r);
	r = get_path(t.sk_test, INVOICES "/%s", id);
	assert_status(r, 200);
	assert_jstr(r->json, "lines.0.amount_decimal", "50.00");
	assert_jstr(r->json, "lines.1.amount_decimal", "-5.00");
	resp_free(r);
	free(id);

	snprintf(body, sizeof(body), "{\"customer_id\":\"%s\","
	    "\"currency\":\"jpy\",\"lines\":["
	    "{\"description\":\"Work\",\"amount\":500}]}", cus);
	r = api_post(INVOICES, t.sk_test, body, NULL);
	assert_status(r, 201);
	assert_jstr(r->json, "currency", "JPY");
	assert_jstr(r->json, "lines.0.amount_decimal", "500");
	resp_free(r);
	free(cus);
	tenant_free(&t);
}
END_TEST

START_TEST(invoices_finalize_balance)
{
	struct tenant	 t;
	struct resp	*r;
	char		*cus, *a, *b, *c, want[160];
	json_t		*e;

	tenant_register(&t, NULL);
	cus = customer_new(t.sk_test, "pm_card_chargeDeclined");

	a = draft_new(t.sk_test, cus, 2999);
	r = inv_action(t.sk_test, a, "finalize", NULL);
	assert_status(r, 200);
	assert_jstr(r->json, "status", "open");
	snprintf(want, sizeof(want), "%s-0001", upper_slug(&t));
	assert_jstr(r->json, "number", want);
	ck_assert_int_eq(jint(r->json, "amount_due"), 2999);
	ck_assert_int_eq(jint(r->json, "starting_balance"), 0);
	ck_assert_int_eq(jint(r->json, "ending_balance"), 0);
	ck_assert_int_eq(jint(r->json, "attempt_count"), 0);
	resp_free(r);
	e = event_for(t.sk_test, "invoice.finalized", a);
	ck_assert_msg(e != NULL, "no invoice.finalized event");
	json_decref(e);
	r = inv_action(t.sk_test, a, "finalize", NULL);
	assert_error(r, 409, "invalid_request_error", "invalid_state", NULL);
	resp_free(r);

	/* T <= 0: nothing due, paid at once even with a declining card. */
	b = draft_new(t.sk_test, cus, -500);
	r = inv_action(t.sk_test, b, "finalize", NULL);
	assert_status(r, 200);
	assert_jstr(r->json, "status", "paid");
	snprintf(want, sizeof(want), "%s-0002", upper_slug(&t));
	assert_jstr(r->json, "number", want);
	ck_assert_int_eq(jint(r->json, "amount_due"), 0);
	ck_assert_int_eq(jint(r->json, "amount_paid"), 0);
	ck_assert_int_eq(jint(r->json, "attempt_count"), 0);
	ck_assert_int_eq(jint(r->json, "starting_balance"), 0);
	ck_assert_int_eq(jint(r->json, "ending_balance"), -500);
	resp_free(r);
	e = event_for(t.sk_test, "invoice.paid", b);
	ck_assert_msg(e != NULL, "no invoice.paid event");
	json_decref(e);
	r = payments_of(t.sk_test, b);
	ck_assert_int_eq(json_array_size(json_object_get(r->json, "data")), 0);
	resp_free(r);
	r = get_path(t.sk_test, "/api/v1/customers/%s", cus);
	ck_assert_int_eq(jint(r->json, "balance"), -500);
	resp_free(r);
	/* BILLING.md "Customer balance": the change is customer.updated. */
	e = event_for(t.sk_test, "customer.updated", cus);
	ck_assert_msg(e != NULL, "no customer.updated event");
	ck_assert_int_eq(jint(e, "data.previous_attributes.balance"), 0);
	ck_assert_int_eq(jint(e, "data.object.balance"), -500);
	json_decref(e);

	/* T > 0 with credit: the credit is used first. */
	c = draft_new(t.sk_test, cus, 1200);
	r = inv_action(t.sk_test, c, "finalize", NULL);
	assert_status(r, 200);
	assert_jstr(r->json, "status", "open");
	ck_assert_int_eq(jint(r->json, "starting_balance"), -500);
	ck_assert_int_eq(jint(r->json, "amount_due"), 700);
	ck_assert_int_eq(jint(r->json, "ending_balance"), 0);
	ck_assert_int_eq(jint(r->json, "total"), 1200);
	snprintf(want, sizeof(want), "%s-0003", upper_slug(&t));
	assert_jstr(r->json, "number", want);
	resp_free(r);
	r = get_path(t.sk_test, "/api/v1/customers/%s", cus);
	ck_assert_int_eq(jint(r->json, "balance"), 0);
	resp_free(r);

	r = inv_action(t.sk_test, "in_nope", "finalize", NULL);
	assert_error(r, 404, "invalid_request_error", "resource_missing",
	    NULL);
	resp_free(r);
	free(a);
	free(b);
	free(c);
	free(cus);
	tenant_free(&t);
}
END_TEST

#define CONCURRENT	8

START_TEST(invoices_numbers_concurrent)
{
	struct tenant	 t;
	struct resp	*r;
	char		*cus, *ids[CONCURRENT], want[160];
	pid_t		 pids[CONCURRENT];
	int		 i, st, seen[CONCURRENT + 1];
	const char	*num;
	size_t		 k;
	json_t		*v;

	tenant_register(&t, NULL);
	cus = customer_new(t.sk_test, NULL);
	for (i = 0; i < CONCURRENT; i++)
		ids[i] = draft_new(t.sk_test, cus, 100 + i);
	for (i = 0; i < CONCURRENT; i++) {
		if ((pids[i] = fork()) == 0) {
			r = inv_action(t.sk_test, ids[i], "finalize", NULL);
			_exit(r->status == 200 ? 0 : 1);
		}
		ck_assert(pids[i] > 0);
	}
	for (i = 0; i < CONCURRENT; i++) {
		ck_assert(waitpid(pids[i], &st, 0) == pids[i]);
		ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 0,
		    "finalization %d failed", i);
	}
	memset(seen, 0, sizeof(seen));
	r = get_path(t.sk_test, INVOICES "?limit=100&customer_id=%s", cus);
	assert_status(r, 200);
	ck_assert_int_eq(json_array_size(json_object_get(r->json, "data")),
	    CONCURRENT);
	json_array_foreach(json_object_get(r->json, "data"), k, v) {
		num = jstr(v, "number");
		ck_assert(num != NULL);
		ck_assert(strncmp(num, upper_slug(&t), strlen(t.slug)) == 0);
		i = atoi(num + strlen(t.slug) + 1);
		ck_assert(i >= 1 && i <= CONCURRENT);
		ck_assert_msg(!seen[i], "number %s twice", num);
		seen[i] = 1;
		ck_assert_int_eq(strlen(num), strlen(t.slug) + 5);
	}
	resp_free(r);
	/* The next one continues the sequence. */
	free(open_new(t.sk_test, cus, 5));
	r = get_path(t.sk_test, INVOICES "?limit=1&customer_id=%s", cus);
	snprintf(want, sizeof(want), "%s-0009", upper_slug(&t));
	assert_jstr(r->json, "data.0.number", want);
	resp_free(r);
	for (i = 0; i < CONCURRENT; i++)
		free(ids[i]);
	free(cus);
	tenant_free(&t);
}
END_TEST

START_TEST(invoices_pay_fees)
{
	struct tenant	 t;
	struct resp	*r;
	char		*cus, *a, *b, *d;
	json_t		*e;

	tenant_register(&t, NULL);
	cus = customer_new(t.sk_test, "pm_card_visa");
	a = open_new(t.sk_test, cus, 2999);
	r = inv_action(t.sk_test, a, "pay", NULL);
	assert_status(r, 200);
	assert_jstr(r->json, "status", "paid");
	ck_assert_int_eq(jint(r->json, "amount_paid"), 2999);
	ck_assert_int_eq(jint(r->json, "attempt_count"), 1);
	resp_free(r);
	r = payments_of(t.sk_test, a);
	ck_assert_int_eq(json_array_size(json_object_get(r->json, "data")), 1);
	ck_assert(strncmp(jstr(r->json, "data.0.id"), "pay_", 4) == 0);
	assert_jstr(r->json, "data.0.object", "payment");
	assert_jstr(r->json, "data.0.status", "succeeded");
	assert_jstr(r->json, "data.0.invoice_id", a);
	assert_jstr(r->json, "data.0.customer_id", cus);
	assert_jstr(r->json, "data.0.currency", "USD");
	assert_jstr(r->json, "data.0.provider", "simulator");
	assert_jstr(r->json, "data.0.payment_method", "pm_card_visa");
	ck_assert(strncmp(jstr(r->json, "data.0.provider_payment_id"), "sim_",
	    4) == 0);
	ck_assert_int_eq(jint(r->json, "data.0.amount"), 2999);
	/* 15.00% of 2999 = 449.85 -> 450 (half-up). */
	ck_assert_int_eq(jint(r->json, "data.0.application_fee_amount"), 450);
	ck_assert_int_eq(jint(r->json, "data.0.net_amount"), 2549);
	ck_assert_int_eq(jint(r->json, "data.0.amount_refunded"), 0);
	ck_assert(is_null(r->json, "data.0.failure_code"));
	ck_assert(is_null(r->json, "data.0.failure_reason"));
	e = event_for(t.sk_test, "payment.succeeded", jstr(r->json,
	    "data.0.id"));
	ck_assert_msg(e != NULL, "no payment.succeeded event");
	json_decref(e);
	resp_free(r);
	e = event_for(t.sk_test, "invoice.paid", a);
	ck_assert_msg(e != NULL, "no invoice.paid event");
	json_decref(e);
	r = inv_action(t.sk_test, a, "pay", NULL);
	assert_error(r, 409, "invalid_request_error", "invalid_state", NULL);
	resp_free(r);

	/* 15.00% of 1001 = 150.15 -> 150. */
	b = open_new(t.sk_test, cus, 1001);
	r = inv_action(t.sk_test, b, "pay", NULL);
	assert_status(r, 200);
	resp_free(r);
	r = payments_of(t.sk_test, b);
	ck_assert_int_eq(jint(r->json, "data.0.application_fee_amount"), 150);
	ck_assert_int_eq(jint(r->json, "data.0.net_amount"), 851);
	resp_free(r);

	d = draft_new(t.sk_test, cus, 10);
	r = inv_action(t.sk_test, d, "pay", NULL);
	assert_error(r, 409, "invalid_request_error", "invalid_state", NULL);
	resp_free(r);
	free(d);
	free(a);
	free(b);
	free(cus);
	tenant_free(&t);
}
END_TEST

START_TEST(invoices_pay_declined_then_visa)
{
	struct tenant	 t;
	struct resp	*r;
	char		*cus, *a, path[128], pay_id[64];
	json_t		*e;

	tenant_register(&t, NULL);
	cus = customer_new(t.sk_test, "pm_card_chargeDeclined");
	a = open_new(t.sk_test, cus, 2999);
	r = inv_action(t.sk_test, a, "pay", NULL);
	assert_error(r, 402, "card_error", "card_declined", NULL);
	resp_free(r);
	r = get_path(t.sk_test, INVOICES "/%s", a);
	assert_jstr(r->json, "status", "open");
	ck_assert_int_eq(jint(r->json, "attempt_count"), 1);
	ck_assert_int_eq(jint(r->json, "amount_paid"), 0);
	resp_free(r);
	r = payments_of(t.sk_test, a);
	ck_assert_int_eq(json_array_size(json_object_get(r->json, "data")), 1);
	assert_jstr(r->json, "data.0.status", "failed");
	assert_jstr(r->json, "data.0.failure_code", "card_declined");
	ck_assert(jstr(r->json, "data.0.failure_reason") != NULL);
	ck_assert(is_null(r->json, "data.0.provider_payment_id"));
	snprintf(pay_id, sizeof(pay_id), "%s", jstr(r->json, "data.0.id"));
	resp_free(r);
	e = event_for(t.sk_test, "payment.failed", pay_id);
	ck_assert_msg(e != NULL, "no payment.failed event");
	json_decref(e);
	e = event_for(t.sk_test, "invoice.payment_failed", a);
	ck_assert_msg(e != NULL, "no invoice.payment_failed event");
	json_decref(e);

	/* A failed payment cannot be refunded. */
	snprintf(path, sizeof(path), PAYMENTS "/%s/refund", pay_id);
	r = api_post(path, t.sk_test, "{}", NULL);
	assert_error(r, 400, "invalid_request_error", "parameter_invalid",
	    NULL);
	resp_free(r);

	snprintf(path, sizeof(path), "/api/v1/customers/%s", cus);
	r = api_patch(path, t.sk_test, "{\"payment_method\":\"pm_card_visa\"}",
	    NULL);
	assert_status(r, 200);
	resp_free(r);
	r = inv_action(t.sk_test, a, "pay", NULL);
	assert_status(r, 200);
	assert_jstr(r->json, "status", "paid");
	ck_assert_int_eq(jint(r->json, "attempt_count"), 2);
	ck_assert_int_eq(jint(r->json, "amount_paid"), 2999);
	resp_free(r);
	r = payments_of(t.sk_test, a);
	ck_assert_int_eq(json_array_size(json_object_get(r->json, "data")), 2);
	assert_jstr(r->json, "data.0.status", "succeeded");
	resp_free(r);
	r = get_path(t.sk_test, PAYMENTS "?status=failed&customer_id=%s", cus);
	ck_assert_int_eq(json_array_size(json_object_get(r->json, "data")), 1);
	resp_free(r);
	free(a);
	free(cus);
	tenant_free(&t);
}
END_TEST

/* Each test card's failure_code, and no payment method at all. */
START_TEST(invoices_pay_failure_codes)
{
	static const struct {
		const char	*pm;
		const char	*code;
	} cases[] = {
		{ "pm_card_insufficientFunds", "insufficient_funds" },
		{ "pm_card_expired", "expired_card" },
		{ NULL, "no_payment_method" },
	};
	struct tenant	 t;
	struct resp	*r;
	char		*cus, *a;
	size_t		 i;

	tenant_register(&t, NULL);
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		cus = customer_new(t.sk_test, cases[i].pm);
		a = open_new(t.sk_test, cus, 500);
		r = inv_action(t.sk_test, a, "pay", NULL);
		assert_error(r, 402, "card_error", cases[i].code, NULL);
		resp_free(r);
		r = payments_of(t.sk_test, a);
		assert_jstr(r->json, "data.0.failure_code", cases[i].code);
		resp_free(r);
		free(a);
		free(cus);
	}
	tenant_free(&t);
}
END_TEST

START_TEST(invoices_pay_idempotent_402)
{
	static const char *const key[] = { "Idempotency-Key: pay-once-1",
	    NULL };
	struct tenant	 t;
	struct resp	*r1, *r2;
	char		*cus, *a;

	tenant_register(&t, NULL);
	cus = customer_new(t.sk_test, "pm_card_chargeDeclined");
	a = open_new(t.sk_test, cus, 700);
	r1 = inv_action(t.sk_test, a, "pay", key);
	assert_error(r1, 402, "card_error", "card_declined", NULL);
	r2 = inv_action(t.sk_test, a, "pay", key);
	assert_error(r2, 402, "card_error", "card_declined", NULL);
	ck_assert(resp_header(r2, "Idempotent-Replayed") != NULL);
	ck_assert_str_eq(resp_header(r2, "Idempotent-Replayed"), "true");
	ck_assert(json_equal(r1->json, r2->json));
	resp_free(r1);
	resp_free(r2);
	r1 = get_path(t.sk_test, INVOICES "/%s", a);
	ck_assert_int_eq(jint(r1->json, "attempt_count"), 1);
	resp_free(r1);
	r1 = payments_of(t.sk_test, a);
	ck_assert_int_eq(json_array_size(json_object_get(r1->json, "data")),
	    1);
	resp_free(r1);
	free(a);
	free(cus);
	tenant_free(&t);
}
END_TEST

START_TEST(invoices_void_uncollectible)
{
	struct tenant	 t;
	struct resp	*r;
	char		*cus, *d, *a, *b;
	json_t		*e;

	tenant_register(&t, NULL);
	cus = customer_new(t.sk_test, "pm_card_visa");
	d = draft_new(t.sk_test, cus, 100);
	r = inv_action(t.sk_test, d, "void", NULL);
	assert_error(r, 409, "invalid_request_error", "invalid_state", NULL);
	resp_free(r);
	r = inv_action(t.sk_test, d, "mark_uncollectible", NULL);
	assert_error(r, 409, "invalid_request_error", "invalid_state", NULL);
	resp_free(r);

	a = open_new(t.sk_test, cus, 100);
	r = inv_action(t.sk_test, a, "void", NULL);
	assert_status(r, 200);
	assert_jstr(r->json, "status", "void");
	resp_free(r);
	e = event_for(t.sk_test, "invoice.voided", a);
	ck_assert_msg(e != NULL, "no invoice.voided event");
	json_decref(e);
	r = inv_action(t.sk_test, a, "void", NULL);
	assert_error(r, 409, "invalid_request_error", "invalid_state", NULL);
	resp_free(r);
	r = inv_action(t.sk_test, a, "pay", NULL);
	assert_error(r, 409, "invalid_request_error", "invalid_state", NULL);
	resp_free(r);

	b = open_new(t.sk_test, cus, 100);
	r = inv_action(t.sk_test, b, "mark_uncollectible", NULL);
	assert_status(r, 200);
	assert_jstr(r->json, "status", "uncollectible");
	resp_free(r);
	e = event_for(t.sk_test, "invoice.marked_uncollectible", b);
	ck_assert_msg(e != NULL, "no invoice.marked_uncollectible event");
	json_decref(e);
	r = inv_action(t.sk_test, b, "void", NULL);
	assert_error(r, 409, "invalid_request_error", "invalid_state", NULL);
	resp_free(r);
	r = inv_action(t.sk_test, b, "finalize", NULL);
	assert_error(r, 409, "invalid_request_error", "invalid_state", NULL);
	resp_free(r);
	r = inv_action(t.sk_test, "in_nope", "void", NULL);
	assert_error(r, 404, "invalid_request_error", "resource_missing",
	    NULL);
	resp_free(r);
	free(d);
	free(a);
	free(b);
	free(cus);
	tenant_free(&t);
}
END_TEST

START_TEST(payments_refunds)
{
	struct tenant	 t;
	struct resp	*r;
	char		*cus, *a, pay[64], path[128];
	json_t		*e;

	tenant_register(&t, NULL);
	cus = customer_new(t.sk_test, "pm_card_visa");
	a = open_new(t.sk_test, cus, 2999);
	r = inv_action(t.sk_test, a, "pay", NULL);
	assert_status(r, 200);
	resp_free(r);
	r = payments_of(t.sk_test, a);
	snprintf(pay, sizeof(pay), "%s", jstr(r->json, "data.0.id"));
	resp_free(r);
	snprintf(path, sizeof(path), PAYMENTS "/%s/refund", pay);

	r = api_post(path, t.sk_test, "{\"amount\":1000,"
	    "\"reason\":\"requested_by_customer\"}", NULL);
	assert_status(r, 201);
	assert_jstr(r->json, "object", "refund");
	ck_assert(strncmp(jstr(r->json, "id"), "re_", 3) == 0);
	assert_jstr(r->json, "payment_id", pay);
	ck_assert_int_eq(jint(r->json, "amount"), 1000);
	assert_jstr(r->json, "amount_decimal", "10.00");
	assert_jstr(r->json, "status", "succeeded");
	assert_jstr(r->json, "reason", "requested_by_customer");
	ck_assert(json_is_false(json_object_get(r->json, "livemode")));
	resp_free(r);
	r = get_path(t.sk_test, PAYMENTS "/%s", pay);
	assert_status(r, 200);
	assert_jstr(r->json, "status", "partially_refunded");
	ck_assert_int_eq(jint(r->json, "amount_refunded"), 1000);
	ck_assert_int_eq(jint(r->json, "application_fee_amount"), 450);
	ck_assert_int_eq(jint(r->json, "net_amount"), 2549);
	resp_free(r);
	e = event_for(t.sk_test, "payment.refunded", pay);
	ck_assert_msg(e != NULL, "no payment.refunded event");
	ck_assert_int_eq(jint(e, "data.object.amount_refunded"), 1000);
	json_decref(e);

	r = api_post(path, t.sk_test, "{\"amount\":2000}", NULL);
	assert_error(r, 400, "invalid_request_error", "parameter_invalid",
	    "amount");
	resp_free(r);
	r = api_post(path, t.sk_test, "{\"amount\":0}", NULL);
	assert_error(r, 400, "invalid_request_error", "parameter_invalid",
	    "amount");
	resp_free(r);
	r = api_post(path, t.sk_test, "{}", NULL);
	assert_status(r, 201);
	ck_assert_int_eq(jint(r->json, "amount"), 1999);
	assert_jstr(r->json, "amount_decimal", "19.99");
	ck_assert(is_null(r->json, "reason"));
	resp_free(r);
	r = get_path(t.sk_test, PAYMENTS "/%s", pay);
	assert_jstr(r->json, "status", "refunded");
	ck_assert_int_eq(jint(r->json, "amount_refunded"), 2999);
	ck_assert_int_eq(jint(r->json, "application_fee_amount"), 450);
	ck_assert_int_eq(jint(r->json, "net_amount"), 2549);
	resp_free(r);
	r = api_post(path, t.sk_test, "{\"amount\":1}", NULL);
	assert_error(r, 400, "invalid_request_error", "parameter_invalid",
	    NULL);
	resp_free(r);
	r = get_path(t.sk_test, INVOICES "/%s", a);
	assert_jstr(r->json, "status", "paid");
	ck_assert_int_eq(jint(r->json, "amount_paid"), 2999);
	resp_free(r);
	r = get_path(t.sk_test, PAYMENTS "/%s/refund", "pay_nope");
	ck_assert(r->status == 405 || r->status == 404);
	resp_free(r);
	r = api_post(PAYMENTS "/pay_nope/refund", t.sk_test, "{}", NULL);
	assert_error(r, 404, "invalid_request_error", "resource_missing",
	    NULL);
	resp_free(r);
	r = get_path(t.sk_test, PAYMENTS "?status=%s", "refunded");
	assert_status(r, 200);
	assert_jstr(r->json, "url", PAYMENTS);
	assert_jstr(r->json, "data.0.id", pay);
	resp_free(r);
	free(a);
	free(cus);
	tenant_free(&t);
}
END_TEST

START_TEST(invoices_isolation)
{
	struct tenant	 t, o;
	struct resp	*r;
	char		*cus, *a, *lcus, *l, pay[64], path[256];

	tenant_register(&t, NULL);
	tenant_register(&o, NULL);
	cus = customer_new(t.sk_test, "pm_card_visa");
	a = open_new(t.sk_test, cus, 300);
	r = inv_action(t.sk_test, a, "pay", NULL);
	assert_status(r, 200);
	resp_free(r);
	r = payments_of(t.sk_test, a);
	snprintf(pay, sizeof(pay), "%s", jstr(r->json, "data.0.id"));
	resp_free(r);

	/* Another tenant, and the other mode, see nothing. */
	r = get_path(o.sk_test, INVOICES "/%s", a);
	assert_error(r, 404, "invalid_request_error", "resource_missing",
	    NULL);
	resp_free(r);
	r = get_path(t.sk_live, INVOICES "/%s", a);
	assert_error(r, 404, "invalid_request_error", "resource_missing",
	    NULL);
	resp_free(r);
	r = inv_action(o.sk_test, a, "void", NULL);
	assert_status(r, 404);
	resp_free(r);
	r = get_path(o.sk_test, PAYMENTS "/%s", pay);
	assert_status(r, 404);
	resp_free(r);
	r = get_path(t.sk_live, PAYMENTS "/%s", pay);
	assert_status(r, 404);
	resp_free(r);
	snprintf(path, sizeof(path), PAYMENTS "/%s/refund", pay);
	r = api_post(path, o.sk_test, "{}", NULL);
	assert_status(r, 404);
	resp_free(r);
	r = api_get(INVOICES, o.sk_test, NULL);
	ck_assert_int_eq(json_array_size(json_object_get(r->json, "data")), 0);
	resp_free(r);
	r = api_get(PAYMENTS, t.sk_live, NULL);
	ck_assert_int_eq(json_array_size(json_object_get(r->json, "data")), 0);
	resp_free(r);
	/* A test customer cannot be invoiced in live mode. */
	snprintf(path, sizeof(path), "{\"customer_id\":\"%s\","
	    "\"currency\":\"usd\",\"lines\":[{\"description\":\"x\","
	    "\"amount\":1}]}", cus);
	r = api_post(INVOICES, t.sk_live, path, NULL);
	assert_error(r, 400, "invalid_request_error", "resource_missing",
	    "customer_id");
	resp_free(r);

	/* Live mode: numbered on its own; no live provider yet. */
	lcus = customer_new(t.sk_live, "pm_1Live");
	l = open_new(t.sk_live, lcus, 300);
	r = get_path(t.sk_live, INVOICES "/%s", l);
	ck_assert(json_is_true(json_object_get(r->json, "livemode")));
	snprintf(path, sizeof(path), "%s-0001", upper_slug(&t));
	assert_jstr(r->json, "number", path);
	resp_free(r);
	r = inv_action(t.sk_live, l, "pay", NULL);
	assert_error(r, 402, "card_error", "provider_unavailable", NULL);
	resp_free(r);

	r = api_get(INVOICES, t.pk_test, NULL);
	ck_assert(r->status == 401 || r->status == 403);
	resp_free(r);
	free(a);
	free(l);
	free(lcus);
	free(cus);
	tenant_free(&t);
	tenant_free(&o);
}
END_TEST

START_TEST(invoices_listed_per_customer)
{
	struct tenant	 t, other;
	struct resp	*r;
	char		*cus, *cus2, *a, *b;

	tenant_register(&t, NULL);
	tenant_register(&other, NULL);
	cus = customer_new(t.sk_test, "pm_card_visa");
	cus2 = customer_new(t.sk_test, "pm_card_visa");
	a = open_new(t.sk_test, cus, 100);
	b = open_new(t.sk_test, cus, 200);
	free(open_new(t.sk_test, cus2, 300));
	/* Only this customer's two, newest first. */
	r = get_path(t.sk_test, "/api/v1/customers/%s/invoices", cus);
	assert_status(r, 200);
	ck_assert_int_eq(json_array_size(json_object_get(r->json, "data")), 2);
	assert_jstr(r->json, "data.0.id", b);
	assert_jstr(r->json, "data.1.id", a);
	resp_free(r);
	/* Another tenant, or the other mode, can't see the customer. */
	r = get_path(other.sk_test, "/api/v1/customers/%s/invoices", cus);
	assert_status(r, 404);
	resp_free(r);
	r = get_path(t.sk_live, "/api/v1/customers/%s/invoices", cus);
	assert_status(r, 404);
	resp_free(r);
	free(a);
	free(b);
	free(cus);
	free(cus2);
	tenant_free(&t);
	tenant_free(&other);
}
END_TEST

Suite *
suite_invoices(void)
{
	Suite	*s;
	TCase	*tc;

	s = suite_create("invoices");
	tc = api_tcase("invoices");
	tcase_add_test(tc, invoices_create_lines);
	tcase_add_test(tc, invoices_listed_per_customer);
	tcase_add_test(tc, invoices_create_plan);
	tcase_add_test(tc, invoices_create_validation);
	tcase_add_test(tc, invoices_line_amount_decimal);
	tcase_add_test(tc, invoices_finalize_balance);
	tcase_add_test(tc, invoices_numbers_concurrent);
	tcase_add_test(tc, invoices_pay_fees);
	tcase_add_test(tc, invoices_pay_declined_then_visa);
	tcase_add_test(tc, invoices_pay_failure_codes);
	tcase_add_test(tc, invoices_pay_idempotent_402);
	tcase_add_test(tc, invoices_void_uncollectible);
	tcase_add_test(tc, payments_refunds);
	tcase_add_test(tc, invoices_isolation);
	suite_add_tcase(s, tc);
	return s;
}
