/*
 * Customers (API.md "Customers", "Events and webhooks"): create with its
 * validation, list filters and pagination, get/update/delete, Stripe's
 * metadata merge, the customer.* events, tenant and mode isolation, roles.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"

#define CUSTOMERS	"/api/v1/customers"
#define EVENTS		"/api/v1/events"

/* Creates a customer with BODY using AUTH; returns its id (strdup'd). */
static char *
cus_create(const char *auth, const char *body)
{
	struct resp	*r;
	char		*id;

	r = api_post(CUSTOMERS, auth, body, NULL);
	assert_status(r, 201);
	assert_jstr(r->json, "object", "customer");
	ck_assert(strncmp(jstr(r->json, "id"), "cus_", 4) == 0);
	id = strdup(jstr(r->json, "id"));
	resp_free(r);
	return id;
}

static struct resp *
cus_get(const char *auth, const char *id)
{
	char	path[200];

	snprintf(path, sizeof(path), CUSTOMERS "/%s", id);
	return api_get(path, auth, NULL);
}

static struct resp *
cus_patch(const char *auth, const char *id, const char *json)
{
	char	path[200];

	snprintf(path, sizeof(path), CUSTOMERS "/%s", id);
	return api_patch(path, auth, json, NULL);
}

static struct resp *
cus_delete(const char *auth, const char *id)
{
	char	path[200];

	snprintf(path, sizeof(path), CUSTOMERS "/%s", id);
	return api_delete(path, auth, NULL);
}

/* GET CUSTOMERS?QUERY with AUTH; asserts 200 and a list. */
static struct resp *
cus_list(const char *auth, const char *query)
{
	struct resp	*r;
	char		 path[600];

	snprintf(path, sizeof(path), CUSTOMERS "%s%s", query != NULL ? "?" :
	    "", query != NULL ? query : "");
	r = api_get(path, auth, NULL);
	assert_status(r, 200);
	assert_jstr(r->json, "object", "list");
	assert_jstr(r->json, "url", CUSTOMERS);
	ck_assert(json_is_array(json_object_get(r->json, "data")));
	return r;
}

static size_t
list_len(const struct resp *r)
{
	return json_array_size(json_object_get(r->json, "data"));
}

static const char *
list_id(const struct resp *r, size_t i)
{
	return jstr(json_array_get(json_object_get(r->json, "data"), i),
	    "id");
}

/*
 * The newest event of TYPE whose data.object.id is ID, or NULL; the
 * caller json_decref()s it.
 */
static json_t *
event_for(const char *auth, const char *type, const char *id)
{
	struct resp	*r;
	char		 path[200];
	json_t		*v, *e = NULL;
	size_t		 i;

	snprintf(path, sizeof(path), EVENTS "?type=%s&limit=100", type);
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

static int
is_null(json_t *j, const char *path)
{
	json_t	*v = jget(j, path);

	return v != NULL && json_is_null(v);
}

START_TEST(customers_create)
{
	struct tenant	 t;
	struct resp	*r;
	json_t		*o, *e;
	char		*id;

	tenant_register(&t, NULL);
	r = api_post(CUSTOMERS, t.sk_test, "{\"email\":\"Ann@Example.test\","
	    "\"name\":\"Ann\",\"external_id\":\"u-1\",\"description\":\"VIP\","
	    "\"phone\":\"+1 555 0100\",\"metadata\":{\"plan\":\"gold\"},"
	    "\"payment_method\":\"pm_card_visa\"}", NULL);
	assert_status(r, 201);
	o = r->json;
	assert_jstr(o, "object", "customer");
	ck_assert(strncmp(jstr(o, "id"), "cus_", 4) == 0);
	ck_assert(json_is_false(json_object_get(o, "livemode")));
	ck_assert_int_eq(strlen(jstr(o, "created")), 20);
	ck_assert(jstr(o, "created")[19] == 'Z');
	assert_jstr(o, "email", "Ann@Example.test");
	assert_jstr(o, "name", "Ann");
	assert_jstr(o, "external_id", "u-1");
	assert_jstr(o, "description", "VIP");
	assert_jstr(o, "phone", "+1 555 0100");
	assert_jstr(o, "metadata.plan", "gold");
	assert_jstr(o, "payment_method", "pm_card_visa");
	ck_assert(is_null(o, "test_clock_id"));
	ck_assert(json_is_integer(json_object_get(o, "balance")));
	ck_assert_int_eq(json_integer_value(json_object_get(o, "balance")), 0);
	ck_assert(json_is_false(json_object_get(o, "deleted")));
	id = strdup(jstr(o, "id"));
	resp_free(r);

	/* The event, in the same transaction. */
	e = event_for(t.sk_test, "customer.created", id);
	ck_assert_msg(e != NULL, "no customer.created event for %s", id);
	assert_jstr(e, "type", "customer.created");
	assert_jstr(e, "data.object.email", "Ann@Example.test");
	assert_jstr(e, "data.object.object", "customer");
	ck_assert(jget(e, "data.previous_attributes") == NULL);
	json_decref(e);
	free(id);

	/* Only the email: nulls, an empty metadata object. */
	r = api_post(CUSTOMERS "/", t.sk_test, "{\"email\":\"b@example.test\","
	    "\"name\":null}", NULL);
	assert_status(r, 201);
	ck_assert(is_null(r->json, "name"));
	ck_assert(is_null(r->json, "external_id"));
	ck_assert(is_null(r->json, "description"));
	ck_assert(is_null(r->json, "phone"));
	ck_assert(is_null(r->json, "payment_method"));
	ck_assert(json_is_object(json_object_get(r->json, "metadata")));
	ck_assert_int_eq(json_object_size(json_object_get(r->json,
	    "metadata")), 0);
	resp_free(r);

	/* The owner's dashboard token works on the tenant's (test) mode. */
	id = cus_create(t.access, "{\"email\":\"c@example.test\"}");
	r = cus_get(t.sk_test, id);
	assert_status(r, 200);
	ck_assert(json_is_false(json_object_get(r->json, "livemode")));
	resp_free(r);
	free(id);
	tenant_free(&t);
}
END_TEST

START_TEST(customers_create_errors)
{
	struct tenant	 t;
	struct resp	*r;
	char		*body, *p, *a, *b;
	int		 i;

	tenant_register(&t, NULL);
	r = api_post(CUSTOMERS, t.sk_test, "{\"name\":\"No Email\"}", NULL);
	assert_error(r, 400, "invalid_request_error", "parameter_missing",
	    "email");
	resp_free(r);
	r = api_post(CUSTOMERS, t.sk_test, "{\"email\":null}", NULL);
	assert_error(r, 400, "invalid_request_error", "parameter_missing",
	    "email");
	resp_free(r);
	r = api_post(CUSTOMERS, t.sk_test, "{\"email\":\"not-an-email\"}",
	    NULL);
	assert_error(r, 400, "invalid_request_error", "parameter_invalid",
	    "email");
	resp_free(r);
	r = api_post(CUSTOMERS, t.sk_test, "{\"email\":\"a@b\"}", NULL);
	assert_error(r, 400, NULL, "parameter_invalid", "email");
	resp_free(r);
	/* Test mode takes the test cards only. */
	r = api_post(CUSTOMERS, t.sk_test, "{\"email\":\"x@example.test\","
	    "\"payment_method\":\"pm_1Nabcdef\"}", NULL);
	assert_error(r, 400, "invalid_request_error", "parameter_invalid",
	    "payment_method");
	resp_free(r);
	/* test_clock_id must name an existing clock (test_clocks.c). */
	r = api_post(CUSTOMERS, t.sk_test, "{\"email\":\"x@example.test\","
	    "\"test_clock_id\":\"clock_123\"}", NULL);
	assert_error(r, 400, "invalid_request_error", "parameter_invalid",
	    "test_clock_id");
	resp_free(r);
	r = api_post(CUSTOMERS, t.sk_test, "{\"email\":\"x@example.test\","
	    "\"nickname\":\"x\"}", NULL);
	assert_error(r, 400, "invalid_request_error", "parameter_unknown",
	    "nickname");
	resp_free(r);
	r = api_post(CUSTOMERS, t.sk_test, "{\"email\":\"x@example.test\","
	    "\"deleted\":true}", NULL);
	assert_error(r, 400, NULL, "parameter_unknown", "deleted");
	resp_free(r);
	/* Wrong JSON types are rejected, never coerced. */
	r = api_post(CUSTOMERS, t.sk_test, "{\"email\":42}", NULL);
	assert_error(r, 400, NULL, "parameter_invalid", "email");
	resp_free(r);
	r = api_post(CUSTOMERS, t.sk_test, "{\"email\":\"x@example.test\","
	    "\"name\":123}", NULL);
	assert_error(r, 400, NULL, "parameter_invalid", "name");
	resp_free(r);
	r = api_post(CUSTOMERS, t.sk_test, "{\"email\":\"x@example.test\","
	    "\"external_id\":[\"a\"]}", NULL);
	assert_error(r, 400, NULL, "parameter_invalid", "external_id");
	resp_free(r);
	r = api_post(CUSTOMERS, t.sk_test, "{\"email\":\"x@example.test\","
	    "\"metadata\":\"gold\"}", NULL);
	assert_error(r, 400, NULL, "parameter_invalid", "metadata");
	resp_free(r);
	r = api_post(CUSTOMERS, t.sk_test, "{\"email\":\"x@example.test\","
	    "\"metadata\":{\"n\":1}}", NULL);
	assert_error(r, 400, NULL, "parameter_invalid", "metadata");
	resp_free(r);
	r = api_post(CUSTOMERS, t.sk_test, "[1]", NULL);
	assert_error(r, 400, NULL, "invalid_json", NULL);
	resp_free(r);
	/* Lengths. */
	body = malloc(4096);
	p = malloc(1100);
	memset(p, 'n', 257);
	p[257] = '\0';
	snprintf(body, 4096, "{\"email\":\"x@example.test\",\"name\":\"%s\"}",
	    p);
	r = api_post(CUSTOMERS, t.sk_test, body, NULL);
	assert_error(r, 400, NULL, "parameter_invalid", "name");
	resp_free(r);
	memset(p, 'd', 1001);
	p[1001] = '\0';
	snprintf(body, 4096, "{\"email\":\"x@example.test\","
	    "\"description\":\"%s\"}", p);
	r = api_post(CUSTOMERS, t.sk_test, body, NULL);
	assert_error(r, 400, NULL, "parameter_invalid", "description");
	resp_free(r);
	r = api_post(CUSTOMERS, t.sk_test, "{\"email\":\"x@example.test\","
	    "\"phone\":\"01234567890123456789012345678901234567890\"}", NULL);
	assert_error(r, 400, NULL, "parameter_invalid", "phone");
	resp_free(r);
	/* metadata limits: 50 keys, key <= 40, value <= 500. */
	strcpy(body, "{\"email\":\"x@example.test\",\"metadata\":{");
	for (i = 0; i < 51; i++)
		snprintf(body + strlen(body), 4096 - strlen(body),
		    "%s\"k%d\":\"v\"", i > 0 ? "," : "", i);
	strcat(body, "}}");
	r = api_post(CUSTOMERS, t.sk_test, body, NULL);
	assert_error(r, 400, NULL, "parameter_invalid", "metadata");
	resp_free(r);
	r = api_post(CUSTOMERS, t.sk_test, "{\"email\":\"x@example.test\","
	    "\"metadata\":{\"kkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkk\":"
	    "\"v\"}}", NULL);
	assert_error(r, 400, NULL, "parameter_invalid", "metadata");
	resp_free(r);
	memset(p, 'v', 501);
	p[501] = '\0';
	snprintf(body, 4096, "{\"email\":\"x@example.test\",\"metadata\":"
	    "{\"k\":\"%s\"}}", p);
	r = api_post(CUSTOMERS, t.sk_test, body, NULL);
	assert_error(r, 400, NULL, "parameter_invalid", "metadata");
	resp_free(r);
	free(body);
	free(p);

	/* Nothing invalid was stored, and no event was written. */
	r = cus_list(t.sk_test, "limit=100");
	ck_assert_int_eq(list_len(r), 0);
	resp_free(r);
	r = api_get(EVENTS "?type=customer.created", t.sk_test, NULL);
	assert_status(r, 200);
	ck_assert_int_eq(json_array_size(json_object_get(r->json, "data")),
	    0);
	resp_free(r);

	/* external_id is unique among undeleted customers of the mode. */
	a = cus_create(t.sk_test, "{\"email\":\"a@example.test\","
	    "\"external_id\":\"ext-1\"}");
	r = api_post(CUSTOMERS, t.sk_test, "{\"email\":\"b@example.test\","
	    "\"external_id\":\"ext-1\"}", NULL);
	assert_error(r, 409, "invalid_request_error",
	    "resource_already_exists", "external_id");
	resp_free(r);
	/* ... per mode: live mode has its own. */
	b = cus_create(t.sk_live, "{\"email\":\"b@example.test\","
	    "\"external_id\":\"ext-1\"}");
	free(b);
	r = cus_delete(t.sk_test, a);
	assert_status(r, 200);
	resp_free(r);
	b = cus_create(t.sk_test, "{\"email\":\"b@example.test\","
	    "\"external_id\":\"ext-1\"}");
	r = cus_list(t.sk_test, "external_id=ext-1");
	ck_assert_int_eq(list_len(r), 1);
	assert_jstr(r->json, "data.0.id", b);
	resp_free(r);
	free(a);
	free(b);
	tenant_free(&t);
}
END_TEST

START_TEST(customers_list_filters)
{
	struct tenant	 t;
	struct resp	*r;
	char		*a, *b, *c, *d, q[300];

	tenant_register(&t, NULL);
	a = cus_create(t.sk_test, "{\"email\":\"Alice@Example.test\","
	    "\"external_id\":\"ext-a\"}");
	b = cus_create(t.sk_test, "{\"email\":\"bob@example.test\"}");
	c = cus_create(t.sk_test, "{\"email\":\"alice@example.test\","
	    "\"external_id\":\"ext-c\"}");
	d = cus_create(t.sk_test, "{\"email\":\"dora@example.test\"}");

	/* Newest first. */
	r = cus_list(t.sk_test, NULL);
	ck_assert_int_eq(list_len(r), 4);
	assert_jstr(r->json, "data.0.id", d);
	assert_jstr(r->json, "data.3.id", a);
	assert_jstr(r->json, "data.3.object", "customer");
	ck_assert(json_is_false(json_object_get(r->json, "has_more")));
	resp_free(r);

	/* email is exact but case-insensitive. */
	r = cus_list(t.sk_test, "email=ALICE%40example.test");
	ck_assert_int_eq(list_len(r), 2);
	assert_jstr(r->json, "data.0.id", c);
	assert_jstr(r->json, "data.1.id", a);
	resp_free(r);
	r = cus_list(t.sk_test, "email=alice");
	ck_assert_int_eq(list_len(r), 0);
	resp_free(r);
	r = cus_list(t.sk_test, "external_id=ext-c");
	ck_assert_int_eq(list_len(r), 1);
	assert_jstr(r->json, "data.0.id", c);
	resp_free(r);
	r = cus_list(t.sk_test, "email=alice%40example.test&external_id=ext-a");
	ck_assert_int_eq(list_len(r), 1);
	assert_jstr(r->json, "data.0.id", a);
	resp_free(r);

	/* Pagination. */
	r = cus_list(t.sk_test, "limit=1");
	ck_assert_int_eq(list_len(r), 1);
	assert_jstr(r->json, "data.0.id", d);
	ck_assert(json_is_true(json_object_get(r->json, "has_more")));
	resp_free(r);
	snprintf(q, sizeof(q), "limit=2&starting_after=%s", d);
	r = cus_list(t.sk_test, q);
	ck_assert_int_eq(list_len(r), 2);
	assert_jstr(r->json, "data.0.id", c);
	assert_jstr(r->json, "data.1.id", b);
	ck_assert(json_is_true(json_object_get(r->json, "has_more")));
	resp_free(r);
	snprintf(q, sizeof(q), "limit=2&starting_after=%s", b);
	r = cus_list(t.sk_test, q);
	ck_assert_int_eq(list_len(r), 1);
	assert_jstr(r->json, "data.0.id", a);
	ck_assert(json_is_false(json_object_get(r->json, "has_more")));
	resp_free(r);
	snprintf(q, sizeof(q), "limit=2&ending_before=%s", a);
	r = cus_list(t.sk_test, q);
	ck_assert_int_eq(list_len(r), 2);
	assert_jstr(r->json, "data.0.id", c);
	assert_jstr(r->json, "data.1.id", b);
	ck_assert(json_is_true(json_object_get(r->json, "has_more")));
	resp_free(r);
	snprintf(q, sizeof(q), "limit=1&email=alice%%40example.test&"
	    "starting_after=%s", c);
	r = cus_list(t.sk_test, q);
	ck_assert_int_eq(list_len(r), 1);
	assert_jstr(r->json, "data.0.id", a);
	ck_assert(json_is_false(json_object_get(r->json, "has_more")));
	resp_free(r);

	/* Bad list parameters. */
	r = api_get(CUSTOMERS "?limit=0", t.sk_test, NULL);
	assert_error(r, 400, NULL, "parameter_invalid", "limit");
	resp_free(r);
	r = api_get(CUSTOMERS "?starting_after=evt_123", t.sk_test, NULL);
	assert_error(r, 400, NULL, "parameter_invalid", "starting_after");
	resp_free(r);

	/* Deleted customers leave the list. */
	r = cus_delete(t.sk_test, b);
	assert_status(r, 200);
	resp_free(r);
	r = cus_list(t.sk_test, NULL);
	ck_assert_int_eq(list_len(r), 3);
	ck_assert_str_ne(list_id(r, 0), b);
	ck_assert_str_ne(list_id(r, 1), b);
	ck_assert_str_ne(list_id(r, 2), b);
	resp_free(r);
	free(a);
	free(b);
	free(c);
	free(d);
	tenant_free(&t);
}
END_TEST

START_TEST(customers_get_update_delete)
{
	struct tenant	 t;
	struct resp	*r;
	json_t		*e;
	char		*id;

	tenant_register(&t, NULL);
	id = cus_create(t.sk_test, "{\"email\":\"ann@example.test\","
	    "\"name\":\"Ann\",\"description\":\"first\",\"metadata\":"
	    "{\"a\":\"1\",\"b\":\"2\"}}");
	r = cus_get(t.sk_test, id);
	assert_status(r, 200);
	assert_jstr(r->json, "id", id);
	assert_jstr(r->json, "name", "Ann");
	ck_assert(json_is_false(json_object_get(r->json, "deleted")));
	resp_free(r);
	r = api_get(CUSTOMERS "/cus_doesnotexist", t.sk_test, NULL);
	assert_error(r, 404, "invalid_request_error", "resource_missing",
	    NULL);
	resp_free(r);

	/* Update: set, clear with null, leave the rest. */
	r = cus_patch(t.sk_test, id, "{\"email\":\"ann2@example.test\","
	    "\"phone\":\"555\",\"description\":null,\"payment_method\":"
	    "\"pm_card_chargeDeclined\"}");
	assert_status(r, 200);
	assert_jstr(r->json, "email", "ann2@example.test");
	assert_jstr(r->json, "phone", "555");
	ck_assert(is_null(r->json, "description"));
	assert_jstr(r->json, "name", "Ann");
	assert_jstr(r->json, "payment_method", "pm_card_chargeDeclined");
	assert_jstr(r->json, "metadata.a", "1");
	resp_free(r);
	e = event_for(t.sk_test, "customer.updated", id);
	ck_assert_msg(e != NULL, "no customer.updated event");
	assert_jstr(e, "data.object.email", "ann2@example.test");
	assert_jstr(e, "data.previous_attributes.email", "ann@example.test");
	ck_assert(is_null(e, "data.previous_attributes.phone"));
	ck_assert(is_null(e, "data.previous_attributes.payment_method"));
	assert_jstr(e, "data.previous_attributes.description", "first");
	/* Only what changed. */
	ck_assert(jget(e, "data.previous_attributes.name") == NULL);
	ck_assert(jget(e, "data.previous_attributes.metadata") == NULL);
	ck_assert_int_eq(json_object_size(jget(e,
	    "data.previous_attributes")), 4);
	json_decref(e);

	/* Stripe's metadata merge: set, add, "" removes, others stay. */
	r = cus_patch(t.sk_test, id, "{\"metadata\":{\"a\":\"10\","
	    "\"b\":\"\",\"c\":\"3\"}}");
	assert_status(r, 200);
	assert_jstr(r->json, "metadata.a", "10");
	assert_jstr(r->json, "metadata.c", "3");
	ck_assert(jget(r->json, "metadata.b") == NULL);
	ck_assert_int_eq(json_object_size(json_object_get(r->json,
	    "metadata")), 2);
	resp_free(r);
	e = event_for(t.sk_test, "customer.updated", id);
	ck_assert(e != NULL);
	assert_jstr(e, "data.previous_attributes.metadata.a", "1");
	assert_jstr(e, "data.previous_attributes.metadata.b", "2");
	ck_assert(is_null(e, "data.previous_attributes.metadata.c"));
	ck_assert_int_eq(json_object_size(jget(e,
	    "data.previous_attributes")), 1);
	json_decref(e);
	r = cus_patch(t.sk_test, id, "{\"metadata\":{\"d\":\"4\"}}");
	assert_status(r, 200);
	ck_assert_int_eq(json_object_size(json_object_get(r->json,
	    "metadata")), 3);
	resp_free(r);

	/* Update errors. */
	r = cus_patch(t.sk_test, id, "{\"balance\":-500}");
	assert_error(r, 400, NULL, "parameter_unknown", "balance");
	resp_free(r);
	r = cus_patch(t.sk_test, id, "{\"email\":\"nope\"}");
	assert_error(r, 400, NULL, "parameter_invalid", "email");
	resp_free(r);
	r = cus_patch(t.sk_test, id, "{\"email\":null}");
	assert_error(r, 400, NULL, "parameter_invalid", "email");
	resp_free(r);
	r = cus_patch(t.sk_test, id, "{\"payment_method\":\"pm_card_amex\"}");
	assert_error(r, 400, NULL, "parameter_invalid", "payment_method");
	resp_free(r);
	/* The clock is set on create only, as Stripe's test_clock. */
	r = cus_patch(t.sk_test, id, "{\"test_clock_id\":\"clock_1\"}");
	assert_error(r, 400, NULL, "parameter_invalid", "test_clock_id");
	resp_free(r);
	r = cus_patch(t.sk_test, id, "{\"name\":false}");
	assert_error(r, 400, NULL, "parameter_invalid", "name");
	resp_free(r);
	r = api_patch(CUSTOMERS "/cus_doesnotexist", t.sk_test,
	    "{\"name\":\"x\"}", NULL);
	assert_error(r, 404, NULL, "resource_missing", NULL);
	resp_free(r);
	r = cus_get(t.sk_test, id);
	assert_jstr(r->json, "email", "ann2@example.test");
	ck_assert_int_eq(json_integer_value(json_object_get(r->json,
	    "balance")), 0);
	resp_free(r);

	/* Delete: Stripe's deleted shape, then 404 for writes. */
	r = cus_delete(t.sk_test, id);
	assert_status(r, 200);
	assert_jstr(r->json, "id", id);
	assert_jstr(r->json, "object", "customer");
	ck_assert(json_is_true(json_object_get(r->json, "deleted")));
	ck_assert_int_eq(json_object_size(r->json), 3);
	resp_free(r);
	e = event_for(t.sk_test, "customer.deleted", id);
	ck_assert_msg(e != NULL, "no customer.deleted event");
	ck_assert(json_is_true(jget(e, "data.object.deleted")));
	assert_jstr(e, "data.object.email", "ann2@example.test");
	json_decref(e);
	r = cus_get(t.sk_test, id);
	assert_status(r, 200);
	ck_assert(json_is_true(json_object_get(r->json, "deleted")));
	assert_jstr(r->json, "object", "customer");
	ck_assert(jget(r->json, "email") == NULL);
	resp_free(r);
	r = cus_patch(t.sk_test, id, "{\"name\":\"Ghost\"}");
	assert_error(r, 404, NULL, "resource_missing", NULL);
	resp_free(r);
	r = cus_delete(t.sk_test, id);
	assert_error(r, 404, NULL, "resource_missing", NULL);
	resp_free(r);
	free(id);
	tenant_free(&t);
}
END_TEST

START_TEST(customers_other_tenant)
{
	struct tenant	 t, u;
	struct resp	*r;
	char		*id;

	tenant_register(&t, NULL);
	tenant_register(&u, NULL);
	id = cus_create(t.sk_test, "{\"email\":\"mine@example.test\"}");
	r = cus_get(u.sk_test, id);
	assert_error(r, 404, NULL, "resource_missing", NULL);
	resp_free(r);
	r = cus_get(u.access, id);
	assert_error(r, 404, NULL, "resource_missing", NULL);
	resp_free(r);
	r = cus_patch(u.sk_test, id, "{\"name\":\"Stolen\"}");
	assert_error(r, 404, NULL, "resource_missing", NULL);
	resp_free(r);
	r = cus_delete(u.sk_test, id);
	assert_error(r, 404, NULL, "resource_missing", NULL);
	resp_free(r);
	r = cus_list(u.sk_test, "email=mine%40example.test");
	ck_assert_int_eq(list_len(r), 0);
	resp_free(r);
	/* Untouched. */
	r = cus_get(t.sk_test, id);
	assert_status(r, 200);
	ck_assert(is_null(r->json, "name"));
	ck_assert(json_is_false(json_object_get(r->json, "deleted")));
	resp_free(r);
	free(id);
	tenant_free(&t);
	tenant_free(&u);
}
END_TEST

START_TEST(customers_modes)
{
	struct tenant	 t;
	struct resp	*r;
	char		*test, *live;

	tenant_register(&t, NULL);
	test = cus_create(t.sk_test, "{\"email\":\"t@example.test\"}");
	r = cus_get(t.sk_live, test);
	assert_error(r, 404, NULL, "resource_missing", NULL);
	resp_free(r);
	r = cus_patch(t.sk_live, test, "{\"name\":\"x\"}");
	assert_error(r, 404, NULL, "resource_missing", NULL);
	resp_free(r);
	r = cus_delete(t.sk_live, test);
	assert_error(r, 404, NULL, "resource_missing", NULL);
	resp_free(r);

	/* Live mode takes any PaymentMethod id, but not the test cards' rule. */
	r = api_post(CUSTOMERS, t.sk_live, "{\"email\":\"l@example.test\","
	    "\"payment_method\":\"pm_1Q2w3E4r5T6y\"}", NULL);
	assert_status(r, 201);
	ck_assert(json_is_true(json_object_get(r->json, "livemode")));
	assert_jstr(r->json, "payment_method", "pm_1Q2w3E4r5T6y");
	live = strdup(jstr(r->json, "id"));
	resp_free(r);
	r = api_post(CUSTOMERS, t.sk_live, "{\"email\":\"l@example.test\","
	    "\"payment_method\":\"card_123\"}", NULL);
	assert_error(r, 400, NULL, "parameter_invalid", "payment_method");
	resp_free(r);

	r = cus_list(t.sk_live, NULL);
	ck_assert_int_eq(list_len(r), 1);
	assert_jstr(r->json, "data.0.id", live);
	resp_free(r);
	r = cus_list(t.sk_test, NULL);
	ck_assert_int_eq(list_len(r), 1);
	assert_jstr(r->json, "data.0.id", test);
	resp_free(r);
	r = cus_get(t.sk_test, live);
	assert_error(r, 404, NULL, "resource_missing", NULL);
	resp_free(r);
	/* A dashboard token with Billow-Mode: live sees the live one. */
	{
		const char *const live_hdr[] = { "Billow-Mode: live", NULL };
		char	path[200];

		snprintf(path, sizeof(path), CUSTOMERS "/%s", live);
		r = api_get(path, t.access, live_hdr);
		assert_status(r, 200);
		assert_jstr(r->json, "id", live);
		resp_free(r);
	}
	free(test);
	free(live);
	tenant_free(&t);
}
END_TEST

START_TEST(customers_credentials)
{
	struct tenant	 t;
	struct resp	*r;
	char		 email[128], aemail[128], *dev, *adm, *tok, *atok, *id;

	tenant_register(&t, NULL);
	id = cus_create(t.sk_test, "{\"email\":\"c@example.test\"}");
	r = api_get(CUSTOMERS, NULL, NULL);
	assert_error(r, 401, "authentication_error", NULL, NULL);
	resp_free(r);
	r = api_get(CUSTOMERS, t.pk_test, NULL);
	assert_error(r, 403, "permission_error", NULL, NULL);
	resp_free(r);
	r = api_post(CUSTOMERS, t.pk_test, "{\"email\":\"p@example.test\"}",
	    NULL);
	assert_error(r, 403, "permission_error", NULL, NULL);
	resp_free(r);
	r = cus_get(t.pk_test, id);
	assert_error(r, 403, "permission_error", NULL, NULL);
	resp_free(r);

	/* Developers read; writes need admin. */
	dev = team_add(t.access, "developer", email, sizeof(email),
	    "dev-pass-1234");
	tok = login_access(email, "dev-pass-1234");
	r = cus_list(tok, NULL);
	ck_assert_int_eq(list_len(r), 1);
	resp_free(r);
	r = cus_get(tok, id);
	assert_status(r, 200);
	resp_free(r);
	r = api_post(CUSTOMERS, tok, "{\"email\":\"d@example.test\"}", NULL);
	assert_error(r, 403, "permission_error", NULL, NULL);
	resp_free(r);
	r = cus_patch(tok, id, "{\"name\":\"Dev\"}");
	assert_error(r, 403, "permission_error", NULL, NULL);
	resp_free(r);
	r = cus_delete(tok, id);
	assert_error(r, 403, "permission_error", NULL, NULL);
	resp_free(r);

	adm = team_add(t.access, "admin", aemail, sizeof(aemail),
	    "admin-pass-123");
	atok = login_access(aemail, "admin-pass-123");
	free(cus_create(atok, "{\"email\":\"a@example.test\"}"));
	r = cus_patch(atok, id, "{\"name\":\"By Admin\"}");
	assert_status(r, 200);
	assert_jstr(r->json, "name", "By Admin");
	resp_free(r);
	r = cus_list(t.sk_test, NULL);
	ck_assert_int_eq(list_len(r), 2);
	resp_free(r);
	free(atok);
	free(adm);
	free(tok);
	free(dev);
	free(id);
	tenant_free(&t);
}
END_TEST

Suite *
suite_customers(void)
{
	Suite	*s;
	TCase	*tc;

	s = suite_create("customers");
	tc = api_tcase("customers");
	tcase_add_test(tc, customers_create);
	tcase_add_test(tc, customers_create_errors);
	tcase_add_test(tc, customers_list_filters);
	tcase_add_test(tc, customers_get_update_delete);
	tcase_add_test(tc, customers_other_tenant);
	tcase_add_test(tc, customers_modes);
	tcase_add_test(tc, customers_credentials);
	suite_add_tcase(s, tc);
	return s;
}
