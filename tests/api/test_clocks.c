/*
 * Test clocks (API.md "Test clocks"): create, get, list, advance and its
 * event, delete, test mode only, customers on a clock, tenant isolation.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"

#define CLOCKS		"/api/v1/test_clocks"
#define CUSTOMERS	"/api/v1/customers"
#define EVENTS		"/api/v1/events"

/* Creates a clock with BODY using AUTH; returns its id (strdup'd). */
static char *
clock_create(const char *auth, const char *body)
{
	struct resp	*r;
	char		*id;

	r = api_post(CLOCKS, auth, body, NULL);
	assert_status(r, 201);
	assert_jstr(r->json, "object", "test_clock");
	ck_assert(strncmp(jstr(r->json, "id"), "clock_", 6) == 0);
	id = strdup(jstr(r->json, "id"));
	resp_free(r);
	return id;
}

static struct resp *
clock_get(const char *auth, const char *id)
{
	char	path[200];

	snprintf(path, sizeof(path), CLOCKS "/%s", id);
	return api_get(path, auth, NULL);
}

static struct resp *
clock_delete(const char *auth, const char *id)
{
	char	path[200];

	snprintf(path, sizeof(path), CLOCKS "/%s", id);
	return api_delete(path, auth, NULL);
}

static struct resp *
clock_advance(const char *auth, const char *id, const char *json,
    const char *const *extra)
{
	char	path[200];

	snprintf(path, sizeof(path), CLOCKS "/%s/advance", id);
	return api_post(path, auth, json, extra);
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
 * The test_clock.advanced events whose data.object.id is ID, newest
 * first, as a new array (caller json_decref()s).
 */
static json_t *
advanced_events(const char *auth, const char *id)
{
	struct resp	*r;
	json_t		*v, *out;
	size_t		 i;

	r = api_get(EVENTS "?type=test_clock.advanced&limit=100", auth,
	    NULL);
	assert_status(r, 200);
	out = json_array();
	json_array_foreach(json_object_get(r->json, "data"), i, v) {
		assert_jstr(v, "type", "test_clock.advanced");
		if (jstr(v, "data.object.id") != NULL &&
		    strcmp(jstr(v, "data.object.id"), id) == 0)
			json_array_append(out, v);
	}
	resp_free(r);
	return out;
}

START_TEST(clocks_create_get_list)
{
	struct tenant	 t;
	struct resp	*r;
	char		*a, *b, path[200];

	tenant_register(&t, NULL);
	r = api_post(CLOCKS, t.sk_test, "{\"frozen_time\":"
	    "\"2026-01-31T00:00:00Z\",\"name\":\"Annual renewals\"}", NULL);
	assert_status(r, 201);
	assert_jstr(r->json, "object", "test_clock");
	ck_assert(strncmp(jstr(r->json, "id"), "clock_", 6) == 0);
	ck_assert(json_is_false(json_object_get(r->json, "livemode")));
	ck_assert(jstr(r->json, "created") != NULL);
	assert_jstr(r->json, "name", "Annual renewals");
	assert_jstr(r->json, "frozen_time", "2026-01-31T00:00:00Z");
	assert_jstr(r->json, "status", "ready");
	a = strdup(jstr(r->json, "id"));
	resp_free(r);

	/* An offset is normalised to UTC; the name is optional. */
	r = api_post(CLOCKS, t.sk_test, "{\"frozen_time\":"
	    "\"2026-03-01T02:00:00+02:00\"}", NULL);
	assert_status(r, 201);
	assert_jstr(r->json, "frozen_time", "2026-03-01T00:00:00Z");
	ck_assert(json_is_null(json_object_get(r->json, "name")));
	b = strdup(jstr(r->json, "id"));
	resp_free(r);

	r = clock_get(t.sk_test, a);
	assert_status(r, 200);
	assert_jstr(r->json, "id", a);
	assert_jstr(r->json, "object", "test_clock");
	assert_jstr(r->json, "name", "Annual renewals");
	assert_jstr(r->json, "frozen_time", "2026-01-31T00:00:00Z");
	assert_jstr(r->json, "status", "ready");
	resp_free(r);

	/* Newest first, with the contract's list shape and cursors. */
	r = api_get(CLOCKS, t.sk_test, NULL);
	assert_status(r, 200);
	assert_jstr(r->json, "object", "list");
	assert_jstr(r->json, "url", CLOCKS);
	ck_assert_int_eq(list_len(r), 2);
	ck_assert_str_eq(list_id(r, 0), b);
	ck_assert_str_eq(list_id(r, 1), a);
	ck_assert(json_is_false(json_object_get(r->json, "has_more")));
	resp_free(r);
	r = api_get(CLOCKS "/?limit=1", t.sk_test, NULL);
	assert_status(r, 200);
	ck_assert_int_eq(list_len(r), 1);
	ck_assert_str_eq(list_id(r, 0), b);
	ck_assert(json_is_true(json_object_get(r->json, "has_more")));
	resp_free(r);
	snprintf(path, sizeof(path), CLOCKS "?starting_after=%s", b);
	r = api_get(path, t.sk_test, NULL);
	assert_status(r, 200);
	ck_assert_int_eq(list_len(r), 1);
	ck_assert_str_eq(list_id(r, 0), a);
	resp_free(r);
	r = api_get(CLOCKS "?starting_after=cus_1", t.sk_test, NULL);
	assert_error(r, 400, NULL, "parameter_invalid", "starting_after");
	resp_free(r);

	r = clock_get(t.sk_test, "clock_doesnotexist");
	assert_error(r, 404, "invalid_request_error", "resource_missing",
	    NULL);
	resp_free(r);
	free(a);
	free(b);
	tenant_free(&t);
}
END_TEST

START_TEST(clocks_create_errors)
{
	struct tenant	 t;
	struct resp	*r;
	char		 body[400];

	tenant_register(&t, NULL);
	r = api_post(CLOCKS, t.sk_test, "{\"name\":\"x\"}", NULL);
	assert_error(r, 400, "invalid_request_error", "parameter_missing",
	    "frozen_time");
	resp_free(r);
	r = api_post(CLOCKS, t.sk_test, "{\"frozen_time\":\"tomorrow\"}",
	    NULL);
	assert_error(r, 400, "invalid_request_error", "parameter_invalid",
	    "frozen_time");
	resp_free(r);
	r = api_post(CLOCKS, t.sk_test, "{\"frozen_time\":"
	    "\"2026-02-30T00:00:00Z\"}", NULL);
	assert_error(r, 400, NULL, "parameter_invalid", "frozen_time");
	resp_free(r);
	r = api_post(CLOCKS, t.sk_test, "{\"frozen_time\":"
	    "\"2026-01-31 00:00:00\"}", NULL);
	assert_error(r, 400, NULL, "parameter_invalid", "frozen_time");
	resp_free(r);
	/* Wrong JSON types are rejected, never coerced. */
	r = api_post(CLOCKS, t.sk_test, "{\"frozen_time\":1769817600}", NULL);
	assert_error(r, 400, NULL, "parameter_invalid", "frozen_time");
	resp_free(r);
	r = api_post(CLOCKS, t.sk_test, "{\"frozen_time\":"
	    "\"2026-01-31T00:00:00Z\",\"name\":7}", NULL);
	assert_error(r, 400, NULL, "parameter_invalid", "name");
	resp_free(r);
	snprintf(body, sizeof(body), "{\"frozen_time\":"
	    "\"2026-01-31T00:00:00Z\",\"name\":\"%0257d\"}", 0);
	r = api_post(CLOCKS, t.sk_test, body, NULL);
	assert_error(r, 400, NULL, "parameter_invalid", "name");
	resp_free(r);
	r = api_post(CLOCKS, t.sk_test, "{\"frozen_time\":"
	    "\"2026-01-31T00:00:00Z\",\"status\":\"advancing\"}", NULL);
	assert_error(r, 400, NULL, "parameter_unknown", "status");
	resp_free(r);
	r = api_get(CLOCKS, t.sk_test, NULL);
	assert_status(r, 200);
	ck_assert_int_eq(list_len(r), 0);
	resp_free(r);
	tenant_free(&t);
}
END_TEST

START_TEST(clocks_advance)
{
	struct tenant	 t;
	struct resp	*r;
	json_t		*evs, *e;
	char		*id;

	tenant_register(&t, NULL);
	id = clock_create(t.sk_test, "{\"frozen_time\":"
	    "\"2026-01-31T00:00:00Z\",\"name\":\"c\"}");

	r = clock_advance(t.sk_test, id, "{\"frozen_time\":"
	    "\"2026-03-01T12:00:00Z\"}", NULL);
	assert_status(r, 200);
	assert_jstr(r->json, "id", id);
	assert_jstr(r->json, "object", "test_clock");
	assert_jstr(r->json, "frozen_time", "2026-03-01T12:00:00Z");
	assert_jstr(r->json, "status", "ready");
	assert_jstr(r->json, "name", "c");
	resp_free(r);
	r = clock_get(t.sk_test, id);
	assert_jstr(r->json, "frozen_time", "2026-03-01T12:00:00Z");
	resp_free(r);

	/* The event, with the advanced clock as its object. */
	evs = advanced_events(t.sk_test, id);
	ck_assert_int_eq(json_array_size(evs), 1);
	e = json_array_get(evs, 0);
	ck_assert(strncmp(jstr(e, "id"), "evt_", 4) == 0);
	ck_assert(json_is_false(json_object_get(e, "livemode")));
	assert_jstr(e, "data.object.object", "test_clock");
	assert_jstr(e, "data.object.frozen_time", "2026-03-01T12:00:00Z");
	assert_jstr(e, "data.object.status", "ready");
	json_decref(evs);

	/* Time never moves back; the clock and the events stay as they were. */
	r = clock_advance(t.sk_test, id, "{\"frozen_time\":"
	    "\"2026-03-01T11:59:59Z\"}", NULL);
	assert_error(r, 400, "invalid_request_error", "parameter_invalid",
	    "frozen_time");
	resp_free(r);
	r = clock_get(t.sk_test, id);
	assert_jstr(r->json, "frozen_time", "2026-03-01T12:00:00Z");
	resp_free(r);
	evs = advanced_events(t.sk_test, id);
	ck_assert_int_eq(json_array_size(evs), 1);
	json_decref(evs);

	/* Advancing to the current time is allowed (nothing moves back). */
	r = clock_advance(t.sk_test, id, "{\"frozen_time\":"
	    "\"2026-03-01T12:00:00Z\"}", NULL);
	assert_status(r, 200);
	resp_free(r);

	/* A second forward advance; its event is the newest. */
	r = clock_advance(t.sk_test, id, "{\"frozen_time\":"
	    "\"2027-01-01T00:00:00Z\"}", NULL);
	assert_status(r, 200);
	assert_jstr(r->json, "frozen_time", "2027-01-01T00:00:00Z");
	resp_free(r);
	evs = advanced_events(t.sk_test, id);
	ck_assert_int_eq(json_array_size(evs), 3);
	assert_jstr(json_array_get(evs, 0), "data.object.frozen_time",
	    "2027-01-01T00:00:00Z");
	json_decref(evs);

	/* Bad input. */
	r = clock_advance(t.sk_test, id, "{\"frozen_time\":\"soon\"}", NULL);
	assert_error(r, 400, NULL, "parameter_invalid", "frozen_time");
	resp_free(r);
	r = clock_advance(t.sk_test, id, "{}", NULL);
	assert_error(r, 400, NULL, "parameter_missing", "frozen_time");
	resp_free(r);
	r = clock_advance(t.sk_test, id, "{\"frozen_time\":"
	    "\"2028-01-01T00:00:00Z\",\"name\":\"x\"}", NULL);
	assert_error(r, 400, NULL, "parameter_unknown", "name");
	resp_free(r);
	r = clock_advance(t.sk_test, "clock_doesnotexist", "{\"frozen_time\":"
	    "\"2028-01-01T00:00:00Z\"}", NULL);
	assert_error(r, 404, NULL, "resource_missing", NULL);
	resp_free(r);
	r = clock_get(t.sk_test, id);
	assert_jstr(r->json, "frozen_time", "2027-01-01T00:00:00Z");
	resp_free(r);
	free(id);
	tenant_free(&t);
}
END_TEST

START_TEST(clocks_live_mode)
{
	struct tenant		 t;
	struct resp		*r;
	const char *const	 live[] = { "Billow-Mode: live", NULL };
	const char *const	 test[] = { "Billow-Mode: test", NULL };
	char			*id, path[200];

	tenant_register(&t, NULL);
	id = clock_create(t.sk_test, "{\"frozen_time\":"
	    "\"2026-01-31T00:00:00Z\"}");

	/* Every route refuses live mode, whether the clock exists or not. */
	r = api_post(CLOCKS, t.sk_live, "{\"frozen_time\":"
	    "\"2026-01-31T00:00:00Z\"}", NULL);
	assert_error(r, 400, "invalid_request_error", "livemode_not_allowed",
	    NULL);
	resp_free(r);
	r = api_get(CLOCKS, t.sk_live, NULL);
	assert_error(r, 400, NULL, "livemode_not_allowed", NULL);
	resp_free(r);
	r = clock_get(t.sk_live, id);
	assert_error(r, 400, NULL, "livemode_not_allowed", NULL);
	resp_free(r);
	r = clock_get(t.sk_live, "clock_doesnotexist");
	assert_error(r, 400, NULL, "livemode_not_allowed", NULL);
	resp_free(r);
	r = clock_advance(t.sk_live, id, "{\"frozen_time\":"
	    "\"2026-02-01T00:00:00Z\"}", NULL);
	assert_error(r, 400, NULL, "livemode_not_allowed", NULL);
	resp_free(r);
	r = clock_delete(t.sk_live, id);
	assert_error(r, 400, NULL, "livemode_not_allowed", NULL);
	resp_free(r);

	/* A dashboard token follows Billow-Mode. */
	r = api_post(CLOCKS, t.access, "{\"frozen_time\":"
	    "\"2026-01-31T00:00:00Z\"}", live);
	assert_error(r, 400, NULL, "livemode_not_allowed", NULL);
	resp_free(r);
	r = api_post(CLOCKS, t.access, "{\"frozen_time\":"
	    "\"2026-01-31T00:00:00Z\"}", test);
	assert_status(r, 201);
	ck_assert(json_is_false(json_object_get(r->json, "livemode")));
	resp_free(r);
	snprintf(path, sizeof(path), CLOCKS "/%s", id);
	r = api_get(path, t.access, test);
	assert_status(r, 200);
	resp_free(r);

	/* Publishable keys may not call test clocks at all. */
	r = api_get(CLOCKS, t.pk_test, NULL);
	assert_error(r, 403, "permission_error", NULL, NULL);
	resp_free(r);

	/* Nothing moved. */
	r = clock_get(t.sk_test, id);
	assert_jstr(r->json, "frozen_time", "2026-01-31T00:00:00Z");
	resp_free(r);
	free(id);
	tenant_free(&t);
}
END_TEST

START_TEST(clocks_customers)
{
	struct tenant	 t;
	struct resp	*r;
	char		*clock, *other, *cus, body[300], path[200];

	tenant_register(&t, NULL);
	clock = clock_create(t.sk_test, "{\"frozen_time\":"
	    "\"2026-01-31T00:00:00Z\"}");
	other = clock_create(t.sk_test, "{\"frozen_time\":"
	    "\"2026-01-31T00:00:00Z\"}");

	/* A customer on the clock: stored and returned. */
	snprintf(body, sizeof(body), "{\"email\":\"c@example.test\","
	    "\"test_clock_id\":\"%s\"}", clock);
	r = api_post(CUSTOMERS, t.sk_test, body, NULL);
	assert_status(r, 201);
	assert_jstr(r->json, "test_clock_id", clock);
	cus = strdup(jstr(r->json, "id"));
	resp_free(r);
	snprintf(path, sizeof(path), CUSTOMERS "/%s", cus);
	r = api_get(path, t.sk_test, NULL);
	assert_status(r, 200);
	assert_jstr(r->json, "test_clock_id", clock);
	resp_free(r);

	/* An unknown clock, and a clock in live mode. */
	r = api_post(CUSTOMERS, t.sk_test, "{\"email\":\"u@example.test\","
	    "\"test_clock_id\":\"clock_doesnotexist\"}", NULL);
	assert_error(r, 400, "invalid_request_error", "parameter_invalid",
	    "test_clock_id");
	resp_free(r);
	r = api_post(CUSTOMERS, t.sk_live, body, NULL);
	assert_error(r, 400, "invalid_request_error", "parameter_invalid",
	    "test_clock_id");
	resp_free(r);
	/* null means no clock, in either mode. */
	r = api_post(CUSTOMERS, t.sk_live, "{\"email\":\"l@example.test\","
	    "\"test_clock_id\":null}", NULL);
	assert_status(r, 201);
	ck_assert(json_is_null(json_object_get(r->json, "test_clock_id")));
	resp_free(r);

	/* The clock is set on create only. */
	snprintf(body, sizeof(body), "{\"test_clock_id\":\"%s\"}", other);
	r = api_patch(path, t.sk_test, body, NULL);
	assert_error(r, 400, NULL, "parameter_invalid", "test_clock_id");
	resp_free(r);

	/* A clock with a customer on it can't be deleted. */
	r = clock_delete(t.sk_test, clock);
	assert_error(r, 409, "invalid_request_error", "invalid_state", NULL);
	resp_free(r);
	r = clock_get(t.sk_test, clock);
	assert_status(r, 200);
	resp_free(r);

	/* One without customers can. */
	r = clock_delete(t.sk_test, other);
	assert_status(r, 200);
	assert_jstr(r->json, "id", other);
	assert_jstr(r->json, "object", "test_clock");
	ck_assert(json_is_true(json_object_get(r->json, "deleted")));
	resp_free(r);
	r = clock_get(t.sk_test, other);
	assert_error(r, 404, NULL, "resource_missing", NULL);
	resp_free(r);
	r = clock_delete(t.sk_test, other);
	assert_error(r, 404, NULL, "resource_missing", NULL);
	resp_free(r);

	/* Once its customer is deleted, the clock can go too. */
	r = api_delete(path, t.sk_test, NULL);
	assert_status(r, 200);
	resp_free(r);
	r = clock_delete(t.sk_test, clock);
	assert_status(r, 200);
	resp_free(r);
	r = api_get(CLOCKS, t.sk_test, NULL);
	ck_assert_int_eq(list_len(r), 0);
	resp_free(r);
	free(cus);
	free(other);
	free(clock);
	tenant_free(&t);
}
END_TEST

START_TEST(clocks_other_tenant)
{
	struct tenant	 a, b;
	struct resp	*r;
	char		*clock, body[300];

	tenant_register(&a, NULL);
	tenant_register(&b, NULL);
	clock = clock_create(a.sk_test, "{\"frozen_time\":"
	    "\"2026-01-31T00:00:00Z\"}");

	/* Another tenant's clock is unknown: 404, never 403. */
	r = clock_get(b.sk_test, clock);
	assert_error(r, 404, "invalid_request_error", "resource_missing",
	    NULL);
	resp_free(r);
	r = clock_advance(b.sk_test, clock, "{\"frozen_time\":"
	    "\"2026-02-01T00:00:00Z\"}", NULL);
	assert_error(r, 404, NULL, "resource_missing", NULL);
	resp_free(r);
	r = clock_delete(b.sk_test, clock);
	assert_error(r, 404, NULL, "resource_missing", NULL);
	resp_free(r);
	r = api_get(CLOCKS, b.sk_test, NULL);
	assert_status(r, 200);
	ck_assert_int_eq(list_len(r), 0);
	resp_free(r);
	snprintf(body, sizeof(body), "{\"email\":\"x@example.test\","
	    "\"test_clock_id\":\"%s\"}", clock);
	r = api_post(CUSTOMERS, b.sk_test, body, NULL);
	assert_error(r, 400, NULL, "parameter_invalid", "test_clock_id");
	resp_free(r);

	/* Untouched for its owner. */
	r = clock_get(a.sk_test, clock);
	assert_status(r, 200);
	assert_jstr(r->json, "frozen_time", "2026-01-31T00:00:00Z");
	resp_free(r);
	free(clock);
	tenant_free(&a);
	tenant_free(&b);
}
END_TEST

START_TEST(clocks_roles)
{
	struct tenant	 t;
	struct resp	*r;
	char		*dev, *tok, *id, email[128];

	tenant_register(&t, NULL);
	id = clock_create(t.sk_test, "{\"frozen_time\":"
	    "\"2026-01-31T00:00:00Z\"}");
	dev = team_add(t.access, "developer", email, sizeof(email),
	    "dev-pass-1234");
	tok = login_access(email, "dev-pass-1234");
	r = clock_get(tok, id);
	assert_status(r, 200);
	resp_free(r);
	r = api_post(CLOCKS, tok, "{\"frozen_time\":"
	    "\"2026-01-31T00:00:00Z\"}", NULL);
	assert_error(r, 403, "permission_error", NULL, NULL);
	resp_free(r);
	r = clock_advance(tok, id, "{\"frozen_time\":"
	    "\"2026-02-01T00:00:00Z\"}", NULL);
	assert_error(r, 403, "permission_error", NULL, NULL);
	resp_free(r);
	r = clock_delete(tok, id);
	assert_error(r, 403, "permission_error", NULL, NULL);
	resp_free(r);
	free(tok);
	free(dev);
	free(id);
	tenant_free(&t);
}
END_TEST

Suite *
suite_test_clocks(void)
{
	Suite	*s;
	TCase	*tc;

	s = suite_create("test_clocks");
	tc = api_tcase("test_clocks");
	tcase_add_test(tc, clocks_create_get_list);
	tcase_add_test(tc, clocks_create_errors);
	tcase_add_test(tc, clocks_advance);
	tcase_add_test(tc, clocks_live_mode);
	tcase_add_test(tc, clocks_customers);
	tcase_add_test(tc, clocks_other_tenant);
	tcase_add_test(tc, clocks_roles);
	suite_add_tcase(s, tc);
	return s;
}
