/*
 * Plans (API.md "Plans"): create with amount or amount_decimal in each
 * currency's exponent, interval limits, usage charges and their
 * validation, list, get, update with previous_attributes, delete, and who
 * may see what (publishable keys, roles, other tenants and modes).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"

#define PLANS	"/api/v1/plans"

#define MONTHLY	"\"name\":\"Pro\",\"currency\":\"usd\",\"interval\":\"month\""

/* Creates a plan with BODY using AUTH; asserts 201 and returns its id. */
static char *
plan_create(const char *auth, const char *body)
{
	struct resp	*r;
	char		*id;

	r = api_post(PLANS, auth, body, NULL);
	assert_status(r, 201);
	assert_jstr(r->json, "object", "plan");
	ck_assert_ptr_nonnull(jstr(r->json, "id"));
	ck_assert(strncmp(jstr(r->json, "id"), "plan_", 5) == 0);
	id = strdup(jstr(r->json, "id"));
	resp_free(r);
	return id;
}

static struct resp *
plan_get(const char *auth, const char *id)
{
	char	path[200];

	snprintf(path, sizeof(path), PLANS "/%s", id);
	return api_get(path, auth, NULL);
}

static struct resp *
plan_patch(const char *auth, const char *id, const char *body)
{
	char	path[200];

	snprintf(path, sizeof(path), PLANS "/%s", id);
	return api_patch(path, auth, body, NULL);
}

/* POSTs BODY and asserts a 400 with CODE and PARAM (NULL: unchecked). */
static void
plan_reject(const char *auth, const char *body, const char *code,
    const char *param)
{
	struct resp	*r;

	r = api_post(PLANS, auth, body, NULL);
	ck_assert_msg(r->status == 400, "body %s: expected 400, got %ld: %s",
	    body, r->status, r->body);
	assert_error(r, 400, "invalid_request_error", code, param);
	resp_free(r);
}

/* A one-charge plan body around CHARGE (a JSON object text). */
static void
plan_reject_charge(const char *auth, const char *charge, const char *code,
    const char *param)
{
	char	body[1024];

	snprintf(body, sizeof(body), "{" MONTHLY ",\"amount\":100,"
	    "\"charges\":[%s]}", charge);
	plan_reject(auth, body, code, param);
}

static size_t
list_len(const struct resp *r)
{
	return json_array_size(json_object_get(r->json, "data"));
}

static int
list_has(const struct resp *r, const char *id)
{
	json_t	*v;
	size_t	 i;

	json_array_foreach(json_object_get(r->json, "data"), i, v)
		if (jstr(v, "id") != NULL && strcmp(jstr(v, "id"), id) == 0)
			return 1;
	return 0;
}

static long long
jint(json_t *j, const char *path)
{
	json_t	*v = jget(j, path);

	ck_assert_msg(json_is_integer(v), "%s is not an integer", path);
	return json_integer_value(v);
}

START_TEST(plans_create_recurring)
{
	struct tenant	 t;
	struct resp	*r;

	tenant_register(&t, NULL);
	r = api_post(PLANS, t.sk_test, "{\"name\":\"Pro\",\"amount_decimal\":"
	    "\"29.99\",\"currency\":\"usd\",\"interval\":\"month\","
	    "\"metadata\":{\"tier\":\"pro\"}}", NULL);
	assert_status(r, 201);
	assert_jstr(r->json, "object", "plan");
	ck_assert(strncmp(jstr(r->json, "id"), "plan_", 5) == 0);
	ck_assert(json_is_false(jget(r->json, "livemode")));
	ck_assert_ptr_nonnull(jstr(r->json, "created"));
	ck_assert(strchr(jstr(r->json, "created"), 'T') != NULL);
	assert_jstr(r->json, "name", "Pro");
	assert_jstr(r->json, "type", "recurring");
	ck_assert_int_eq(jint(r->json, "amount"), 2999);
	assert_jstr(r->json, "amount_decimal", "29.99");
	assert_jstr(r->json, "currency", "USD");
	assert_jstr(r->json, "interval", "month");
	ck_assert_int_eq(jint(r->json, "interval_count"), 1);
	ck_assert_int_eq(jint(r->json, "trial_period_days"), 0);
	ck_assert(json_is_true(jget(r->json, "is_active")));
	ck_assert(json_is_array(jget(r->json, "charges")));
	ck_assert_int_eq(json_array_size(jget(r->json, "charges")), 0);
	assert_jstr(r->json, "metadata.tier", "pro");
	resp_free(r);

	/* An integer amount gets its decimal form; counts and trials. */
	r = api_post(PLANS, t.sk_test, "{\"name\":\"Weekly\",\"amount\":2999,"
	    "\"currency\":\"USD\",\"interval\":\"week\",\"interval_count\":52,"
	    "\"trial_period_days\":730}", NULL);
	assert_status(r, 201);
	assert_jstr(r->json, "amount_decimal", "29.99");
	ck_assert_int_eq(jint(r->json, "interval_count"), 52);
	ck_assert_int_eq(jint(r->json, "trial_period_days"), 730);
	resp_free(r);
	r = api_post(PLANS, t.sk_test, "{\"name\":\"Yearly\",\"amount\":0,"
	    "\"currency\":\"eur\",\"interval\":\"year\",\"interval_count\":1}",
	    NULL);
	assert_status(r, 201);
	assert_jstr(r->json, "amount_decimal", "0.00");
	assert_jstr(r->json, "currency", "EUR");
	resp_free(r);
	r = api_post(PLANS, t.sk_test, "{\"name\":\"Daily\",\"amount\":5,"
	    "\"currency\":\"usd\",\"interval\":\"day\",\"interval_count\":365}",
	    NULL);
	assert_status(r, 201);
	assert_jstr(r->json, "amount_decimal", "0.05");
	resp_free(r);
	tenant_free(&t);
}
END_TEST

START_TEST(plans_create_one_time)
{
	struct tenant	 t;
	struct resp	*r;

	tenant_register(&t, NULL);
	r = api_post(PLANS, t.sk_test, "{\"name\":\"Setup\",\"type\":"
	    "\"one_time\",\"amount\":500,\"currency\":\"usd\"}", NULL);
	assert_status(r, 201);
	assert_jstr(r->json, "type", "one_time");
	ck_assert(json_is_null(jget(r->json, "interval")));
	ck_assert_int_eq(jint(r->json, "interval_count"), 1);
	ck_assert_int_eq(jint(r->json, "amount"), 500);
	assert_jstr(r->json, "amount_decimal", "5.00");
	assert_jstr(r->json, "currency", "USD");
	ck_assert(json_is_object(jget(r->json, "metadata")));
	resp_free(r);
	tenant_free(&t);
}
END_TEST

START_TEST(plans_currency_exponents)
{
	struct tenant	 t;
	struct resp	*r;

	tenant_register(&t, NULL);
	r = api_post(PLANS, t.sk_test, "{\"name\":\"Yen\",\"amount_decimal\":"
	    "\"500\",\"currency\":\"jpy\",\"interval\":\"month\"}", NULL);
	assert_status(r, 201);
	ck_assert_int_eq(jint(r->json, "amount"), 500);
	assert_jstr(r->json, "amount_decimal", "500");
	assert_jstr(r->json, "currency", "JPY");
	resp_free(r);
	r = api_post(PLANS, t.sk_test, "{\"name\":\"Yen int\",\"amount\":500,"
	    "\"currency\":\"JPY\",\"interval\":\"month\"}", NULL);
	assert_status(r, 201);
	assert_jstr(r->json, "amount_decimal", "500");
	resp_free(r);
	r = api_post(PLANS, t.sk_test, "{\"name\":\"Dinar\",\"amount_decimal\":"
	    "\"1.234\",\"currency\":\"KwD\",\"interval\":\"month\"}", NULL);
	assert_status(r, 201);
	ck_assert_int_eq(jint(r->json, "amount"), 1234);
	assert_jstr(r->json, "amount_decimal", "1.234");
	assert_jstr(r->json, "currency", "KWD");
	resp_free(r);
	r = api_post(PLANS, t.sk_test, "{\"name\":\"Dinar int\",\"amount\":1000,"
	    "\"currency\":\"kwd\",\"interval\":\"month\"}", NULL);
	assert_status(r, 201);
	assert_jstr(r->json, "amount_decimal", "1.000");
	resp_free(r);
	tenant_free(&t);
}
END_TEST

START_TEST(plans_create_errors)
{
	struct tenant	 t;

	tenant_register(&t, NULL);
	plan_reject(t.sk_test, "{" MONTHLY ",\"amount\":12.5}",
	    "parameter_invalid", "amount");
	plan_reject(t.sk_test, "{" MONTHLY ",\"amount\":\"100\"}",
	    "parameter_invalid", "amount");
	plan_reject(t.sk_test, "{" MONTHLY ",\"amount\":-1}",
	    "parameter_invalid", "amount");
	plan_reject(t.sk_test, "{" MONTHLY ",\"amount\":100000000}",
	    "parameter_invalid", "amount");
	plan_reject(t.sk_test, "{" MONTHLY ",\"amount_decimal\":\"29.999\"}",
	    "parameter_invalid", "amount_decimal");
	plan_reject(t.sk_test, "{" MONTHLY ",\"amount_decimal\":29.99}",
	    "parameter_invalid", "amount_decimal");
	plan_reject(t.sk_test, "{\"name\":\"Y\",\"currency\":\"jpy\","
	    "\"interval\":\"month\",\"amount_decimal\":\"1.5\"}",
	    "parameter_invalid", "amount_decimal");
	plan_reject(t.sk_test, "{" MONTHLY ",\"amount\":2999,"
	    "\"amount_decimal\":\"29.99\"}", "parameter_invalid", NULL);
	plan_reject(t.sk_test, "{" MONTHLY "}", "parameter_missing", "amount");
	plan_reject(t.sk_test, "{\"name\":\"X\",\"amount\":1,\"currency\":"
	    "\"xyz\",\"interval\":\"month\"}", "parameter_invalid",
	    "currency");
	plan_reject(t.sk_test, "{\"name\":\"X\",\"amount\":1,"
	    "\"interval\":\"month\"}", "parameter_missing", "currency");
	plan_reject(t.sk_test, "{\"amount\":1,\"currency\":\"usd\","
	    "\"interval\":\"month\"}", "parameter_missing", "name");
	plan_reject(t.sk_test, "{\"name\":\"X\",\"amount\":1,\"currency\":"
	    "\"usd\"}", "parameter_missing", "interval");
	plan_reject(t.sk_test, "{\"name\":\"X\",\"amount\":1,\"currency\":"
	    "\"usd\",\"interval\":\"fortnight\"}", "parameter_invalid",
	    "interval");
	plan_reject(t.sk_test, "{" MONTHLY ",\"amount\":1,"
	    "\"interval_count\":13}", "parameter_invalid", "interval_count");
	plan_reject(t.sk_test, "{\"name\":\"X\",\"amount\":1,\"currency\":"
	    "\"usd\",\"interval\":\"week\",\"interval_count\":53}",
	    "parameter_invalid", "interval_count");
	plan_reject(t.sk_test, "{\"name\":\"X\",\"amount\":1,\"currency\":"
	    "\"usd\",\"interval\":\"day\",\"interval_count\":366}",
	    "parameter_invalid", "interval_count");
	plan_reject(t.sk_test, "{\"name\":\"X\",\"amount\":1,\"currency\":"
	    "\"usd\",\"interval\":\"year\",\"interval_count\":2}",
	    "parameter_invalid", "interval_count");
	plan_reject(t.sk_test, "{" MONTHLY ",\"amount\":1,"
	    "\"interval_count\":0}", "parameter_invalid", "interval_count");
	plan_reject(t.sk_test, "{\"name\":\"X\",\"type\":\"one_time\","
	    "\"amount\":1,\"currency\":\"usd\",\"interval\":\"month\"}",
	    "parameter_invalid", "interval");
	plan_reject(t.sk_test, "{\"name\":\"X\",\"type\":\"weekly\","
	    "\"amount\":1,\"currency\":\"usd\",\"interval\":\"month\"}",
	    "parameter_invalid", "type");
	plan_reject(t.sk_test, "{" MONTHLY ",\"amount\":1,"
	    "\"trial_period_days\":731}", "parameter_invalid",
	    "trial_period_days");
	plan_reject(t.sk_test, "{" MONTHLY ",\"amount\":1,"
	    "\"trial_period_days\":-1}", "parameter_invalid",
	    "trial_period_days");
	plan_reject(t.sk_test, "{" MONTHLY ",\"amount\":1,\"colour\":\"red\"}",
	    "parameter_unknown", "colour");
	plan_reject(t.sk_test, "{" MONTHLY ",\"amount\":1,\"metadata\":"
	    "{\"k\":1}}", "parameter_invalid", "metadata");
	plan_reject(t.sk_test, "{" MONTHLY ",\"amount\":1,\"charges\":{}}",
	    "parameter_invalid", "charges");
	tenant_free(&t);
}
END_TEST

START_TEST(plans_charge_errors)
{
	struct tenant	 t;
	char		 body[4096], *o;
	int		 i;

	tenant_register(&t, NULL);
	plan_reject_charge(t.sk_test, "{\"meter_id\":\"mtr_1\","
	    "\"unit_amount\":5}", "parameter_missing", "charges[0].model");
	plan_reject_charge(t.sk_test, "{\"model\":\"standard\","
	    "\"unit_amount\":5}", "parameter_missing", "charges[0].meter_id");
	plan_reject_charge(t.sk_test, "{\"meter_id\":\"cus_1\",\"model\":"
	    "\"standard\",\"unit_amount\":5}", "parameter_invalid",
	    "charges[0].meter_id");
	plan_reject_charge(t.sk_test, "{\"meter_id\":\"mtr_1\",\"model\":"
	    "\"tiered\",\"unit_amount\":5}", "parameter_invalid",
	    "charges[0].model");
	plan_reject_charge(t.sk_test, "{\"meter_id\":\"mtr_1\",\"model\":"
	    "\"graduated\"}", "parameter_missing", "charges[0].tiers");
	plan_reject_charge(t.sk_test, "{\"meter_id\":\"mtr_1\",\"model\":"
	    "\"volume\",\"tiers\":[]}", "parameter_invalid",
	    "charges[0].tiers");
	plan_reject_charge(t.sk_test, "{\"meter_id\":\"mtr_1\",\"model\":"
	    "\"graduated\",\"tiers\":[{\"up_to\":10,\"unit_amount\":5},"
	    "{\"up_to\":10,\"unit_amount\":4},{\"up_to\":null,"
	    "\"unit_amount\":3}]}", "parameter_invalid",
	    "charges[0].tiers[1].up_to");
	plan_reject_charge(t.sk_test, "{\"meter_id\":\"mtr_1\",\"model\":"
	    "\"graduated\",\"tiers\":[{\"up_to\":null,\"unit_amount\":5},"
	    "{\"up_to\":100,\"unit_amount\":4}]}", "parameter_invalid",
	    "charges[0].tiers[0].up_to");
	plan_reject_charge(t.sk_test, "{\"meter_id\":\"mtr_1\",\"model\":"
	    "\"volume\",\"tiers\":[{\"up_to\":10,\"unit_amount\":5},"
	    "{\"up_to\":100,\"unit_amount\":4}]}", "parameter_invalid",
	    "charges[0].tiers[1].up_to");
	plan_reject_charge(t.sk_test, "{\"meter_id\":\"mtr_1\",\"model\":"
	    "\"volume\",\"tiers\":[{\"up_to\":0,\"unit_amount\":5},"
	    "{\"up_to\":null,\"unit_amount\":4}]}", "parameter_invalid",
	    "charges[0].tiers[0].up_to");
	plan_reject_charge(t.sk_test, "{\"meter_id\":\"mtr_1\",\"model\":"
	    "\"volume\",\"tiers\":[{\"up_to\":null}]}", "parameter_missing",
	    "charges[0].tiers[0].unit_amount");
	plan_reject_charge(t.sk_test, "{\"meter_id\":\"mtr_1\",\"model\":"
	    "\"volume\",\"tiers\":[{\"up_to\":null,\"unit_amount\":1,"
	    "\"flat_amount\":-1}]}", "parameter_invalid",
	    "charges[0].tiers[0].flat_amount");
	plan_reject_charge(t.sk_test, "{\"meter_id\":\"mtr_1\",\"model\":"
	    "\"volume\",\"tiers\":[{\"up_to\":null,\"unit_amount\":1,"
	    "\"cap\":5}]}", "parameter_unknown", "charges[0].tiers[0].cap");
	plan_reject_charge(t.sk_test, "{\"meter_id\":\"mtr_1\",\"model\":"
	    "\"graduated\",\"unit_amount\":5,\"tiers\":[{\"up_to\":null,"
	    "\"unit_amount\":1}]}", "parameter_invalid",
	    "charges[0].unit_amount");
	plan_reject_charge(t.sk_test, "{\"meter_id\":\"mtr_1\",\"model\":"
	    "\"package\",\"unit_amount\":5}", "parameter_missing",
	    "charges[0].package_size");
	plan_reject_charge(t.sk_test, "{\"meter_id\":\"mtr_1\",\"model\":"
	    "\"package\",\"unit_amount\":5,\"package_size\":0}",
	    "parameter_invalid", "charges[0].package_size");
	plan_reject_charge(t.sk_test, "{\"meter_id\":\"mtr_1\",\"model\":"
	    "\"standard\",\"unit_amount\":5,\"unit_amount_decimal\":\"5\"}",
	    "parameter_invalid", NULL);
	plan_reject_charge(t.sk_test, "{\"meter_id\":\"mtr_1\",\"model\":"
	    "\"standard\"}", "parameter_missing", "charges[0].unit_amount");
	plan_reject_charge(t.sk_test, "{\"meter_id\":\"mtr_1\",\"model\":"
	    "\"standard\",\"unit_amount_decimal\":\"0.0000000000001\"}",
	    "parameter_invalid", "charges[0].unit_amount_decimal");
	plan_reject_charge(t.sk_test, "{\"meter_id\":\"mtr_1\",\"model\":"
	    "\"standard\",\"unit_amount\":1.5}", "parameter_invalid",
	    "charges[0].unit_amount");
	plan_reject_charge(t.sk_test, "{\"meter_id\":\"mtr_1\",\"model\":"
	    "\"standard\",\"unit_amount\":1,\"free_units\":-1}",
	    "parameter_invalid", "charges[0].free_units");
	plan_reject_charge(t.sk_test, "{\"meter_id\":\"mtr_1\",\"model\":"
	    "\"standard\",\"unit_amount\":1,\"foo\":1}", "parameter_unknown",
	    "charges[0].foo");
	plan_reject_charge(t.sk_test, "\"mtr_1\"", "parameter_invalid",
	    "charges[0]");
	/* The second charge is named by its index. */
	plan_reject_charge(t.sk_test, "{\"meter_id\":\"mtr_1\",\"model\":"
	    "\"standard\",\"unit_amount\":1},{\"meter_id\":\"mtr_2\","
	    "\"model\":\"standard\",\"unit_amount\":1,\"bar\":2}",
	    "parameter_unknown", "charges[1].bar");

	/* At most 20 charges. */
	o = body + snprintf(body, sizeof(body), "{" MONTHLY ",\"amount\":1,"
	    "\"charges\":[");
	for (i = 0; i < 21; i++)
		o += snprintf(o, sizeof(body) - (size_t)(o - body),
		    "%s{\"meter_id\":\"mtr_%d\",\"model\":\"standard\","
		    "\"unit_amount\":1}", i > 0 ? "," : "", i);
	snprintf(o, sizeof(body) - (size_t)(o - body), "]}");
	plan_reject(t.sk_test, body, "parameter_invalid", "charges");
	tenant_free(&t);
}
END_TEST

START_TEST(plans_charges_round_trip)
{
	struct tenant	 t;
	struct resp	*r;
	json_t		*c;
	char		*id, *s, body[1024], mtr[3][64];
	static const char *const codes[] = { "api", "storage", "seats" };
	int		 i;

	tenant_register(&t, NULL);
	/* Charges name existing meters (400 resource_missing otherwise). */
	for (i = 0; i < 3; i++) {
		snprintf(body, sizeof(body), "{\"code\":\"%s\",\"name\":"
		    "\"%s\",\"aggregation\":\"count\"}", codes[i], codes[i]);
		r = api_post("/api/v1/meters", t.sk_test, body, NULL);
		assert_status(r, 201);
		snprintf(mtr[i], sizeof(mtr[i]), "%s", jstr(r->json, "id"));
		resp_free(r);
	}
	snprintf(body, sizeof(body), "{" MONTHLY ",\"amount\":1000,"
	    "\"charges\":[{\"meter_id\":\"%s\",\"model\":\"graduated\","
	    "\"free_units\":100,\"tiers\":[{\"up_to\":1000,\"unit_amount\":5},"
	    "{\"up_to\":10000,\"unit_amount\":3,\"flat_amount\":200},"
	    "{\"up_to\":null,\"unit_amount\":1}]},"
	    "{\"meter_id\":\"%s\",\"model\":\"standard\","
	    "\"unit_amount_decimal\":\"0.035\"},"
	    "{\"meter_id\":\"%s\",\"model\":\"package\","
	    "\"unit_amount\":500,\"package_size\":10,\"tiers\":null}]}",
	    mtr[0], mtr[1], mtr[2]);
	r = api_post(PLANS, t.sk_test, body, NULL);
	assert_status(r, 201);
	id = strdup(jstr(r->json, "id"));
	resp_free(r);

	r = plan_get(t.sk_test, id);
	assert_status(r, 200);
	ck_assert_int_eq(json_array_size(jget(r->json, "charges")), 3);
	c = jget(r->json, "charges.0");
	assert_jstr(c, "meter_id", mtr[0]);
	assert_jstr(c, "model", "graduated");
	ck_assert_int_eq(jint(c, "free_units"), 100);
	ck_assert(json_is_null(jget(c, "unit_amount")));
	ck_assert(json_is_null(jget(c, "package_size")));
	ck_assert_int_eq(json_array_size(jget(c, "tiers")), 3);
	ck_assert_int_eq(jint(c, "tiers.0.up_to"), 1000);
	ck_assert_int_eq(jint(c, "tiers.0.unit_amount"), 5);
	ck_assert_int_eq(jint(c, "tiers.0.flat_amount"), 0);
	ck_assert_int_eq(jint(c, "tiers.1.up_to"), 10000);
	ck_assert_int_eq(jint(c, "tiers.1.flat_amount"), 200);
	ck_assert(json_is_null(jget(c, "tiers.2.up_to")));
	ck_assert_int_eq(jint(c, "tiers.2.unit_amount"), 1);
	c = jget(r->json, "charges.1");
	assert_jstr(c, "model", "standard");
	assert_jstr(c, "unit_amount_decimal", "0.035");
	ck_assert(json_is_null(jget(c, "unit_amount")));
	ck_assert(json_is_null(jget(c, "tiers")));
	ck_assert_int_eq(jint(c, "free_units"), 0);
	c = jget(r->json, "charges.2");
	assert_jstr(c, "model", "package");
	ck_assert_int_eq(jint(c, "unit_amount"), 500);
	ck_assert_int_eq(jint(c, "package_size"), 10);
	resp_free(r);

	/* The normalised charges are accepted back as they were returned. */
	r = plan_get(t.sk_test, id);
	c = json_pack("{s:O}", "charges", jget(r->json, "charges"));
	resp_free(r);
	s = json_dumps(c, JSON_COMPACT);
	r = plan_patch(t.sk_test, id, s);
	free(s);
	assert_status(r, 200);
	ck_assert(json_equal(jget(r->json, "charges"), jget(c, "charges")));
	resp_free(r);
	json_decref(c);
	free(id);
	tenant_free(&t);
}
END_TEST

START_TEST(plans_created_event)
{
	struct tenant	 t;
	struct resp	*r;
	char		*id;

	tenant_register(&t, NULL);
	id = plan_create(t.sk_test, "{" MONTHLY ",\"amount\":1500}");
	r = api_get("/api/v1/events?type=plan.created", t.sk_test, NULL);
	assert_status(r, 200);
	ck_assert_int_eq(list_len(r), 1);
	assert_jstr(r->json, "data.0.type", "plan.created");
	assert_jstr(r->json, "data.0.data.object.id", id);
	assert_jstr(r->json, "data.0.data.object.object", "plan");
	assert_jstr(r->json, "data.0.data.object.amount_decimal", "15.00");
	resp_free(r);
	free(id);
	tenant_free(&t);
}
END_TEST

START_TEST(plans_list_filter_pagination)
{
	struct tenant	 t;
	struct resp	*r;
	char		*ids[5], path[300];
	int		 i;

	tenant_register(&t, NULL);
	for (i = 0; i < 5; i++)
		ids[i] = plan_create(t.sk_test, "{" MONTHLY ",\"amount\":100}");
	r = plan_patch(t.sk_test, ids[1], "{\"is_active\":false}");
	assert_status(r, 200);
	ck_assert(json_is_false(jget(r->json, "is_active")));
	resp_free(r);

	r = api_get(PLANS, t.sk_test, NULL);
	assert_status(r, 200);
	assert_jstr(r->json, "object", "list");
	assert_jstr(r->json, "url", PLANS);
	ck_assert_int_eq(list_len(r), 5);
	/* Newest first. */
	assert_jstr(r->json, "data.0.id", ids[4]);
	assert_jstr(r->json, "data.4.id", ids[0]);
	ck_assert(json_is_false(jget(r->json, "has_more")));
	resp_free(r);

	r = api_get(PLANS "?is_active=false", t.sk_test, NULL);
	assert_status(r, 200);
	ck_assert_int_eq(list_len(r), 1);
	assert_jstr(r->json, "data.0.id", ids[1]);
	resp_free(r);
	r = api_get(PLANS "?is_active=true", t.sk_test, NULL);
	assert_status(r, 200);
	ck_assert_int_eq(list_len(r), 4);
	ck_assert(!list_has(r, ids[1]));
	resp_free(r);
	r = api_get(PLANS "?is_active=yes", t.sk_test, NULL);
	assert_error(r, 400, "invalid_request_error", "parameter_invalid",
	    "is_active");
	resp_free(r);

	r = api_get(PLANS "?limit=2", t.sk_test, NULL);
	assert_status(r, 200);
	ck_assert_int_eq(list_len(r), 2);
	ck_assert(json_is_true(jget(r->json, "has_more")));
	assert_jstr(r->json, "data.0.id", ids[4]);
	assert_jstr(r->json, "data.1.id", ids[3]);
	resp_free(r);
	snprintf(path, sizeof(path), PLANS "?limit=2&starting_after=%s",
	    ids[3]);
	r = api_get(path, t.sk_test, NULL);
	assert_status(r, 200);
	ck_assert_int_eq(list_len(r), 2);
	assert_jstr(r->json, "data.0.id", ids[2]);
	assert_jstr(r->json, "data.1.id", ids[1]);
	ck_assert(json_is_true(jget(r->json, "has_more")));
	resp_free(r);
	snprintf(path, sizeof(path), PLANS "?limit=3&starting_after=%s",
	    ids[1]);
	r = api_get(path, t.sk_test, NULL);
	ck_assert_int_eq(list_len(r), 1);
	assert_jstr(r->json, "data.0.id", ids[0]);
	ck_assert(json_is_false(jget(r->json, "has_more")));
	resp_free(r);
	snprintf(path, sizeof(path), PLANS "?limit=2&ending_before=%s",
	    ids[0]);
	r = api_get(path, t.sk_test, NULL);
	ck_assert_int_eq(list_len(r), 2);
	assert_jstr(r->json, "data.0.id", ids[2]);
	assert_jstr(r->json, "data.1.id", ids[1]);
	resp_free(r);
	snprintf(path, sizeof(path), PLANS "?is_active=true&limit=2&"
	    "starting_after=%s", ids[3]);
	r = api_get(path, t.sk_test, NULL);
	ck_assert_int_eq(list_len(r), 2);
	assert_jstr(r->json, "data.0.id", ids[2]);
	assert_jstr(r->json, "data.1.id", ids[0]);
	resp_free(r);
	r = api_get(PLANS "?starting_after=cus_123", t.sk_test, NULL);
	assert_error(r, 400, NULL, "parameter_invalid", "starting_after");
	resp_free(r);
	r = api_get(PLANS "?limit=0", t.sk_test, NULL);
	assert_error(r, 400, NULL, "parameter_invalid", "limit");
	resp_free(r);
	/* A trailing slash works too. */
	r = api_get(PLANS "/", t.sk_test, NULL);
	assert_status(r, 200);
	resp_free(r);
	for (i = 0; i < 5; i++)
		free(ids[i]);
	tenant_free(&t);
}
END_TEST

START_TEST(plans_publishable_key)
{
	struct tenant	 t;
	struct resp	*r;
	char		*on, *off, path[200];

	tenant_register(&t, NULL);
	on = plan_create(t.sk_test, "{" MONTHLY ",\"amount\":100}");
	off = plan_create(t.sk_test, "{" MONTHLY ",\"amount\":200}");

	r = plan_get(t.pk_test, off);
	assert_status(r, 200);
	resp_free(r);
	r = plan_patch(t.sk_test, off, "{\"is_active\":false}");
	assert_status(r, 200);
	resp_free(r);

	r = plan_get(t.pk_test, off);
	assert_error(r, 404, "invalid_request_error", NULL, NULL);
	resp_free(r);
	r = plan_get(t.sk_test, off);
	assert_status(r, 200);
	resp_free(r);
	r = plan_get(t.pk_test, on);
	assert_status(r, 200);
	assert_jstr(r->json, "id", on);
	resp_free(r);
	r = api_get(PLANS, t.pk_test, NULL);
	assert_status(r, 200);
	ck_assert_int_eq(list_len(r), 1);
	ck_assert(list_has(r, on));
	ck_assert(!list_has(r, off));
	resp_free(r);
	r = api_get(PLANS "?is_active=false", t.pk_test, NULL);
	assert_status(r, 200);
	ck_assert_int_eq(list_len(r), 0);
	resp_free(r);

	/* Publishable keys read only. */
	r = api_post(PLANS, t.pk_test, "{" MONTHLY ",\"amount\":100}", NULL);
	assert_error(r, 403, "permission_error", NULL, NULL);
	resp_free(r);
	r = plan_patch(t.pk_test, on, "{\"name\":\"x\"}");
	assert_error(r, 403, "permission_error", NULL, NULL);
	resp_free(r);
	snprintf(path, sizeof(path), PLANS "/%s", on);
	r = api_delete(path, t.pk_test, NULL);
	assert_error(r, 403, "permission_error", NULL, NULL);
	resp_free(r);
	/* The live publishable key sees the live mode: nothing. */
	r = plan_get(t.pk_live, on);
	assert_error(r, 404, NULL, NULL, NULL);
	resp_free(r);
	free(on);
	free(off);
	tenant_free(&t);
}
END_TEST

START_TEST(plans_update)
{
	struct tenant	 t;
	struct resp	*r;
	json_t		*prev;
	char		*id;

	tenant_register(&t, NULL);
	id = plan_create(t.sk_test, "{" MONTHLY ",\"amount\":1000,"
	    "\"metadata\":{\"a\":\"1\",\"b\":\"2\"}}");
	r = plan_patch(t.sk_test, id, "{\"name\":\"Pro Plus\","
	    "\"amount_decimal\":\"12.50\",\"trial_period_days\":14,"
	    "\"metadata\":{\"b\":\"\",\"c\":\"3\"}}");
	assert_status(r, 200);
	assert_jstr(r->json, "name", "Pro Plus");
	ck_assert_int_eq(jint(r->json, "amount"), 1250);
	assert_jstr(r->json, "amount_decimal", "12.50");
	ck_assert_int_eq(jint(r->json, "trial_period_days"), 14);
	assert_jstr(r->json, "metadata.a", "1");
	ck_assert_ptr_null(jget(r->json, "metadata.b"));
	assert_jstr(r->json, "metadata.c", "3");
	assert_jstr(r->json, "interval", "month");
	resp_free(r);

	r = api_get("/api/v1/events?type=plan.updated", t.sk_test, NULL);
	assert_status(r, 200);
	ck_assert_int_eq(list_len(r), 1);
	assert_jstr(r->json, "data.0.data.object.id", id);
	assert_jstr(r->json, "data.0.data.object.name", "Pro Plus");
	prev = jget(r->json, "data.0.data.previous_attributes");
	ck_assert(json_is_object(prev));
	assert_jstr(prev, "name", "Pro");
	ck_assert_int_eq(jint(prev, "amount"), 1000);
	assert_jstr(prev, "amount_decimal", "10.00");
	ck_assert_int_eq(jint(prev, "trial_period_days"), 0);
	assert_jstr(prev, "metadata.b", "2");
	/* Only changed fields. */
	ck_assert_ptr_null(jget(prev, "currency"));
	ck_assert_ptr_null(jget(prev, "interval"));
	ck_assert_ptr_null(jget(prev, "is_active"));
	ck_assert_ptr_null(jget(prev, "id"));
	resp_free(r);

	/* Interval changes are checked against the resulting pair. */
	r = plan_patch(t.sk_test, id, "{\"interval_count\":3}");
	assert_status(r, 200);
	ck_assert_int_eq(jint(r->json, "interval_count"), 3);
	resp_free(r);
	r = plan_patch(t.sk_test, id, "{\"interval\":\"year\"}");
	assert_error(r, 400, NULL, "parameter_invalid", "interval_count");
	resp_free(r);
	r = plan_patch(t.sk_test, id, "{\"interval\":\"week\","
	    "\"interval_count\":2,\"currency\":\"jpy\"}");
	assert_status(r, 200);
	assert_jstr(r->json, "interval", "week");
	ck_assert_int_eq(jint(r->json, "interval_count"), 2);
	assert_jstr(r->json, "currency", "JPY");
	ck_assert_int_eq(jint(r->json, "amount"), 1250);
	assert_jstr(r->json, "amount_decimal", "1250");
	resp_free(r);
	r = plan_patch(t.sk_test, id, "{\"interval_count\":53}");
	assert_error(r, 400, NULL, "parameter_invalid", "interval_count");
	resp_free(r);
	r = plan_patch(t.sk_test, id, "{\"amount_decimal\":\"1.5\"}");
	assert_error(r, 400, NULL, "parameter_invalid", "amount_decimal");
	resp_free(r);
	r = plan_patch(t.sk_test, id, "{\"amount\":1,\"amount_decimal\":"
	    "\"1\"}");
	assert_error(r, 400, NULL, "parameter_invalid", NULL);
	resp_free(r);
	r = plan_patch(t.sk_test, id, "{\"trial_period_days\":731}");
	assert_error(r, 400, NULL, "parameter_invalid", "trial_period_days");
	resp_free(r);
	r = plan_patch(t.sk_test, id, "{\"type\":\"one_time\"}");
	assert_error(r, 400, NULL, "parameter_unknown", "type");
	resp_free(r);
	r = plan_patch(t.sk_test, id, "{\"name\":\"\"}");
	assert_error(r, 400, NULL, "parameter_invalid", "name");
	resp_free(r);
	r = plan_patch(t.sk_test, id, "{\"charges\":[{\"meter_id\":\"mtr_1\","
	    "\"model\":\"standard\"}]}");
	assert_error(r, 400, NULL, "parameter_missing",
	    "charges[0].unit_amount");
	resp_free(r);
	r = plan_patch(t.sk_test, "plan_doesnotexist", "{\"name\":\"x\"}");
	assert_error(r, 404, NULL, NULL, NULL);
	resp_free(r);

	/* A no-op update writes no event. */
	r = plan_patch(t.sk_test, id, "{\"name\":\"Pro Plus\"}");
	assert_status(r, 200);
	resp_free(r);
	r = api_get("/api/v1/events?type=plan.updated", t.sk_test, NULL);
	ck_assert_int_eq(list_len(r), 3);
	resp_free(r);
	free(id);
	tenant_free(&t);
}
END_TEST

START_TEST(plans_update_one_time)
{
	struct tenant	 t;
	struct resp	*r;
	char		*id;

	tenant_register(&t, NULL);
	id = plan_create(t.sk_test, "{\"name\":\"Setup\",\"type\":"
	    "\"one_time\",\"amount\":500,\"currency\":\"usd\"}");
	r = plan_patch(t.sk_test, id, "{\"interval\":\"month\"}");
	assert_error(r, 400, NULL, "parameter_invalid", "interval");
	resp_free(r);
	r = plan_patch(t.sk_test, id, "{\"amount\":700}");
	assert_status(r, 200);
	ck_assert_int_eq(jint(r->json, "amount"), 700);
	ck_assert(json_is_null(jget(r->json, "interval")));
	resp_free(r);
	free(id);
	tenant_free(&t);
}
END_TEST

START_TEST(plans_delete)
{
	struct tenant	 t;
	struct resp	*r;
	char		*id, path[200];

	tenant_register(&t, NULL);
	id = plan_create(t.sk_test, "{" MONTHLY ",\"amount\":100}");
	snprintf(path, sizeof(path), PLANS "/%s", id);
	r = api_delete(path, t.sk_test, NULL);
	assert_status(r, 200);
	assert_jstr(r->json, "id", id);
	assert_jstr(r->json, "object", "plan");
	ck_assert(json_is_true(jget(r->json, "deleted")));
	resp_free(r);
	r = plan_get(t.sk_test, id);
	assert_error(r, 404, "invalid_request_error", NULL, NULL);
	resp_free(r);
	r = api_delete(path, t.sk_test, NULL);
	assert_error(r, 404, NULL, NULL, NULL);
	resp_free(r);
	r = api_get(PLANS, t.sk_test, NULL);
	ck_assert(!list_has(r, id));
	resp_free(r);
	free(id);
	tenant_free(&t);
}
END_TEST

/* A plan a subscription uses (API.md "Plans"): plan_in_use, archive. */
START_TEST(plans_in_use)
{
	struct tenant	 t;
	struct resp	*r;
	char		 body[256], path[200], *id, *cus, *sub;

	tenant_register(&t, NULL);
	id = plan_create(t.sk_test, "{" MONTHLY ",\"amount\":1000}");
	snprintf(path, sizeof(path), PLANS "/%s", id);

	/* Unused: anything may change. */
	r = plan_patch(t.sk_test, id, "{\"amount\":1200}");
	assert_status(r, 200);
	ck_assert_int_eq(jint(r->json, "amount"), 1200);
	resp_free(r);

	r = api_post("/api/v1/customers", t.sk_test, "{\"email\":"
	    "\"p@example.test\",\"payment_method\":\"pm_card_visa\"}", NULL);
	assert_status(r, 201);
	cus = strdup(jstr(r->json, "id"));
	resp_free(r);
	snprintf(body, sizeof(body), "{\"customer_id\":\"%s\","
	    "\"plan_id\":\"%s\"}", cus, id);
	r = api_post("/api/v1/subscriptions", t.sk_test, body, NULL);
	assert_status(r, 201);
	sub = strdup(jstr(r->json, "id"));
	resp_free(r);

	/* In use: the billing terms are frozen... */
	r = plan_patch(t.sk_test, id, "{\"amount\":1500}");
	assert_error(r, 400, "invalid_request_error", "plan_in_use", "amount");
	resp_free(r);
	r = plan_patch(t.sk_test, id, "{\"amount_decimal\":\"15.00\"}");
	assert_error(r, 400, "invalid_request_error", "plan_in_use",
	    "amount_decimal");
	resp_free(r);
	r = plan_patch(t.sk_test, id, "{\"currency\":\"eur\"}");
	assert_error(r, 400, "invalid_request_error", "plan_in_use",
	    "currency");
	resp_free(r);
	r = plan_patch(t.sk_test, id, "{\"interval\":\"year\"}");
	assert_error(r, 400, "invalid_request_error", "plan_in_use",
	    "interval");
	resp_free(r);
	r = plan_patch(t.sk_test, id, "{\"interval_count\":3}");
	assert_error(r, 400, "invalid_request_error", "plan_in_use",
	    "interval_count");
	resp_free(r);
	r = plan_patch(t.sk_test, id, "{\"name\":\"X\",\"charges\":"
	    "[{\"meter_id\":\"mtr_1\",\"model\":\"standard\","
	    "\"unit_amount\":5}]}");
	assert_error(r, 400, "invalid_request_error", "plan_in_use",
	    "charges");
	resp_free(r);
	r = plan_get(t.sk_test, id);
	assert_status(r, 200);
	ck_assert_int_eq(jint(r->json, "amount"), 1200);
	assert_jstr(r->json, "currency", "USD");
	assert_jstr(r->json, "name", "Pro");
	resp_free(r);

	/* ...the same values are no change, and the rest stays editable. */
	r = plan_patch(t.sk_test, id, "{\"amount\":1200,\"currency\":"
	    "\"usd\",\"interval\":\"month\",\"interval_count\":1,"
	    "\"charges\":[]}");
	assert_status(r, 200);
	ck_assert_int_eq(jint(r->json, "amount"), 1200);
	resp_free(r);
	r = plan_patch(t.sk_test, id, "{\"amount_decimal\":\"12.00\"}");
	assert_status(r, 200);
	resp_free(r);
	r = plan_patch(t.sk_test, id, "{\"name\":\"Pro 2\",\"metadata\":"
	    "{\"k\":\"v\"},\"trial_period_days\":7}");
	assert_status(r, 200);
	assert_jstr(r->json, "name", "Pro 2");
	assert_jstr(r->json, "metadata.k", "v");
	ck_assert_int_eq(jint(r->json, "trial_period_days"), 7);
	resp_free(r);

	/* DELETE archives it; it stays readable. */
	r = api_delete(path, t.sk_test, NULL);
	assert_status(r, 200);
	assert_jstr(r->json, "object", "plan");
	assert_jstr(r->json, "id", id);
	ck_assert(json_is_false(jget(r->json, "is_active")));
	ck_assert_ptr_null(jget(r->json, "deleted"));
	resp_free(r);
	r = plan_get(t.sk_test, id);
	assert_status(r, 200);
	ck_assert(json_is_false(jget(r->json, "is_active")));
	resp_free(r);
	r = api_get("/api/v1/events?type=plan.updated&limit=100", t.sk_test,
	    NULL);
	assert_status(r, 200);
	assert_jstr(r->json, "data.0.data.object.id", id);
	ck_assert(json_is_false(jget(r->json, "data.0.data.object.is_active")));
	ck_assert(json_is_true(jget(r->json,
	    "data.0.data.previous_attributes.is_active")));
	resp_free(r);
	r = api_delete(path, t.sk_test, NULL);
	assert_status(r, 200);
	ck_assert(json_is_false(jget(r->json, "is_active")));
	resp_free(r);
	/* An archived plan may be reactivated. */
	r = plan_patch(t.sk_test, id, "{\"is_active\":true}");
	assert_status(r, 200);
	ck_assert(json_is_true(jget(r->json, "is_active")));
	resp_free(r);
	free(sub);
	free(cus);
	free(id);

	/* A plan without subscriptions is still deleted. */
	id = plan_create(t.sk_test, "{" MONTHLY ",\"amount\":100}");
	snprintf(path, sizeof(path), PLANS "/%s", id);
	r = api_delete(path, t.sk_test, NULL);
	assert_status(r, 200);
	ck_assert(json_is_true(jget(r->json, "deleted")));
	resp_free(r);
	r = plan_get(t.sk_test, id);
	assert_error(r, 404, NULL, NULL, NULL);
	resp_free(r);
	free(id);
	tenant_free(&t);
}
END_TEST

START_TEST(plans_isolation)
{
	struct tenant	 a, b;
	struct resp	*r;
	char		*id, *live, path[200];

	tenant_register(&a, NULL);
	tenant_register(&b, NULL);
	id = plan_create(a.sk_test, "{" MONTHLY ",\"amount\":100}");
	snprintf(path, sizeof(path), PLANS "/%s", id);

	/* Another tenant. */
	r = plan_get(b.sk_test, id);
	assert_error(r, 404, NULL, NULL, NULL);
	resp_free(r);
	r = plan_get(b.pk_test, id);
	assert_error(r, 404, NULL, NULL, NULL);
	resp_free(r);
	r = plan_patch(b.sk_test, id, "{\"name\":\"stolen\"}");
	assert_error(r, 404, NULL, NULL, NULL);
	resp_free(r);
	r = api_delete(path, b.sk_test, NULL);
	assert_error(r, 404, NULL, NULL, NULL);
	resp_free(r);
	r = api_get(PLANS, b.sk_test, NULL);
	ck_assert_int_eq(list_len(r), 0);
	resp_free(r);

	/* The other mode. */
	r = plan_get(a.sk_live, id);
	assert_error(r, 404, NULL, NULL, NULL);
	resp_free(r);
	r = plan_patch(a.sk_live, id, "{\"name\":\"live\"}");
	assert_error(r, 404, NULL, NULL, NULL);
	resp_free(r);
	r = api_delete(path, a.sk_live, NULL);
	assert_error(r, 404, NULL, NULL, NULL);
	resp_free(r);
	live = plan_create(a.sk_live, "{" MONTHLY ",\"amount\":100}");
	r = plan_get(a.sk_live, live);
	assert_status(r, 200);
	ck_assert(json_is_true(jget(r->json, "livemode")));
	resp_free(r);
	r = api_get(PLANS, a.sk_live, NULL);
	ck_assert_int_eq(list_len(r), 1);
	ck_assert(list_has(r, live));
	resp_free(r);
	r = plan_get(a.sk_test, live);
	assert_error(r, 404, NULL, NULL, NULL);
	resp_free(r);

	/* Still there for its owner. */
	r = plan_get(a.sk_test, id);
	assert_status(r, 200);
	assert_jstr(r->json, "name", "Pro");
	resp_free(r);
	free(id);
	free(live);
	tenant_free(&a);
	tenant_free(&b);
}
END_TEST

START_TEST(plans_roles)
{
	struct tenant	 t;
	struct resp	*r;
	char		 email[128], *dev, *adm, *tok, *id, path[200];

	tenant_register(&t, NULL);
	id = plan_create(t.sk_test, "{" MONTHLY ",\"amount\":100}");
	snprintf(path, sizeof(path), PLANS "/%s", id);

	dev = team_add(t.access, "developer", email, sizeof(email),
	    "dev-pass-1234");
	tok = login_access(email, "dev-pass-1234");
	r = plan_get(tok, id);
	assert_status(r, 200);
	resp_free(r);
	r = api_get(PLANS, tok, NULL);
	assert_status(r, 200);
	ck_assert(list_has(r, id));
	resp_free(r);
	r = api_post(PLANS, tok, "{" MONTHLY ",\"amount\":100}", NULL);
	assert_error(r, 403, "permission_error", NULL, NULL);
	resp_free(r);
	r = plan_patch(tok, id, "{\"name\":\"dev\"}");
	assert_error(r, 403, "permission_error", NULL, NULL);
	resp_free(r);
	r = api_delete(path, tok, NULL);
	assert_error(r, 403, "permission_error", NULL, NULL);
	resp_free(r);
	free(tok);

	/* Admins and owners write; a JWT follows Billow-Mode. */
	adm = team_add(t.access, "admin", email, sizeof(email),
	    "admin-pass-123");
	tok = login_access(email, "admin-pass-123");
	r = plan_patch(tok, id, "{\"name\":\"By admin\"}");
	assert_status(r, 200);
	assert_jstr(r->json, "name", "By admin");
	resp_free(r);
	r = api_post(PLANS, t.access, "{" MONTHLY ",\"amount\":100}",
	    (const char *[]){ "Billow-Mode: live", NULL });
	assert_status(r, 201);
	ck_assert(json_is_true(jget(r->json, "livemode")));
	resp_free(r);
	r = api_get(PLANS, NULL, NULL);
	assert_error(r, 401, "authentication_error", NULL, NULL);
	resp_free(r);
	free(tok);
	free(adm);
	free(dev);
	free(id);
	tenant_free(&t);
}
END_TEST

Suite *
suite_plans(void)
{
	Suite	*s;
	TCase	*tc;

	s = suite_create("plans");
	tc = api_tcase("create");
	tcase_add_test(tc, plans_create_recurring);
	tcase_add_test(tc, plans_create_one_time);
	tcase_add_test(tc, plans_currency_exponents);
	tcase_add_test(tc, plans_create_errors);
	tcase_add_test(tc, plans_charge_errors);
	tcase_add_test(tc, plans_charges_round_trip);
	tcase_add_test(tc, plans_created_event);
	suite_add_tcase(s, tc);
	tc = api_tcase("manage");
	tcase_add_test(tc, plans_list_filter_pagination);
	tcase_add_test(tc, plans_publishable_key);
	tcase_add_test(tc, plans_update);
	tcase_add_test(tc, plans_update_one_time);
	tcase_add_test(tc, plans_delete);
	tcase_add_test(tc, plans_in_use);
	suite_add_tcase(s, tc);
	tc = api_tcase("access");
	tcase_add_test(tc, plans_isolation);
	tcase_add_test(tc, plans_roles);
	suite_add_tcase(s, tc);
	return s;
}
