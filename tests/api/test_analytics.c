/*
 * The analytics plugin (API.md "Analytics"). Events (POST and GET
 * /analytics/events, the seed's AnalyticsEvent): create, list with its
 * filters and pagination, get by id, isolation between tenants and between
 * test and live mode, credentials and roles, and input validation.
 * Reports (GET /analytics/summary and /analytics/metrics): exact MRR per
 * plan interval and currency, movements through a test clock, churn
 * rates and LTV, revenue, refunds and fees from real payments, parameter
 * validation and isolation. Needs a server with the analytics plugin
 * loaded and its migrations applied.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "fixtures.h"

#define EVENTS	"/api/v1/analytics/events"

/* Records an event with BODY using AUTH; returns the response's id. */
static char *
event_create(const char *auth, const char *body)
{
	struct resp	*r;
	char		*id;

	r = api_post(EVENTS, auth, body, NULL);
	assert_status(r, 201);
	assert_jstr(r->json, "object", "analytics_event");
	ck_assert_ptr_nonnull(jstr(r->json, "id"));
	ck_assert(strncmp(jstr(r->json, "id"), "ae_", 3) == 0);
	id = strdup(jstr(r->json, "id"));
	resp_free(r);
	return id;
}

static struct resp *
event_get(const char *auth, const char *id)
{
	char	path[200];

	snprintf(path, sizeof(path), EVENTS "/%s", id);
	return api_get(path, auth, NULL);
}

/* GET EVENTS?QUERY with AUTH; asserts 200 and a list. */
static struct resp *
event_list(const char *auth, const char *query)
{
	struct resp	*r;
	char		 path[600];

	snprintf(path, sizeof(path), EVENTS "%s%s", query != NULL ? "?" : "",
	    query != NULL ? query : "");
	r = api_get(path, auth, NULL);
	assert_status(r, 200);
	assert_jstr(r->json, "object", "list");
	assert_jstr(r->json, "url", EVENTS);
	ck_assert(json_is_array(json_object_get(r->json, "data")));
	return r;
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

/* Id of the list's item I. */
static const char *
list_id(const struct resp *r, size_t i)
{
	return jstr(json_array_get(json_object_get(r->json, "data"), i),
	    "id");
}

START_TEST(analytics_create_and_list)
{
	struct tenant	 t;
	struct resp	*r;
	char		*a, *b;
	json_t		*o;

	tenant_register(&t, NULL);
	r = api_post(EVENTS, t.sk_test, "{\"event_name\":\"page_view\","
	    "\"event_data\":{\"path\":\"/pricing\",\"n\":3,\"nested\":"
	    "{\"ok\":true}},\"user_id\":\"u_1\",\"session_id\":\"s_1\"}",
	    NULL);
	assert_status(r, 201);
	o = r->json;
	assert_jstr(o, "object", "analytics_event");
	ck_assert(strncmp(jstr(o, "id"), "ae_", 3) == 0);
	ck_assert(json_is_false(json_object_get(o, "livemode")));
	ck_assert_ptr_nonnull(jstr(o, "created"));
	ck_assert_int_eq(strlen(jstr(o, "created")), 20);
	ck_assert(jstr(o, "created")[19] == 'Z');
	assert_jstr(o, "event_name", "page_view");
	assert_jstr(o, "event_data.path", "/pricing");
	ck_assert_int_eq(json_integer_value(jget(o, "event_data.n")), 3);
	ck_assert(json_is_true(jget(o, "event_data.nested.ok")));
	assert_jstr(o, "user_id", "u_1");
	assert_jstr(o, "session_id", "s_1");
	a = strdup(jstr(o, "id"));
	resp_free(r);

	/* Optional fields absent (or null): {} and nulls. */
	r = api_post(EVENTS, t.sk_test, "{\"event_name\":\"signup\","
	    "\"user_id\":null}", NULL);
	assert_status(r, 201);
	ck_assert(json_is_object(json_object_get(r->json, "event_data")));
	ck_assert_int_eq(json_object_size(json_object_get(r->json,
	    "event_data")), 0);
	ck_assert(json_is_null(json_object_get(r->json, "user_id")));
	ck_assert(json_is_null(json_object_get(r->json, "session_id")));
	b = strdup(jstr(r->json, "id"));
	resp_free(r);

	/* Newest first. */
	r = event_list(t.sk_test, NULL);
	ck_assert_int_eq(list_len(r), 2);
	assert_jstr(r->json, "data.0.id", b);
	assert_jstr(r->json, "data.1.id", a);
	assert_jstr(r->json, "data.1.event_data.path", "/pricing");
	assert_jstr(r->json, "data.1.object", "analytics_event");
	ck_assert(json_is_false(json_object_get(r->json, "has_more")));
	resp_free(r);

	/* The owner's dashboard token (test mode) sees them too. */
	r = event_list(t.access, NULL);
	ck_assert_int_eq(list_len(r), 2);
	resp_free(r);
	/* Trailing slash. */
	r = api_get(EVENTS "/", t.sk_test, NULL);
	assert_status(r, 200);
	ck_assert_int_eq(list_len(r), 2);
	resp_free(r);
	free(a);
	free(b);
	tenant_free(&t);
}
END_TEST

START_TEST(analytics_filters)
{
	struct tenant	 t;
	struct resp	*r;
	char		*a, *b, *c, q[300], first[40], second[40];

	tenant_register(&t, NULL);
	r = api_post(EVENTS, t.sk_test, "{\"event_name\":\"click\","
	    "\"user_id\":\"alice\"}", NULL);
	assert_status(r, 201);
	a = strdup(jstr(r->json, "id"));
	snprintf(first, sizeof(first), "%s", jstr(r->json, "created"));
	resp_free(r);
	/*
	 * The next ones must land in a later second: wait (bounded) until the
	 * clock, which the server shares, has passed the first one's second.
	 */
	{
		struct tm	tm;
		time_t		first_t;
		int		n;

		memset(&tm, 0, sizeof(tm));
		ck_assert_ptr_nonnull(strptime(first, "%Y-%m-%dT%H:%M:%SZ",
		    &tm));
		first_t = timegm(&tm);
		for (n = 0; n < 300 && time(NULL) <= first_t; n++)
			usleep(10 * 1000);
		ck_assert(time(NULL) > first_t);
	}
	r = api_post(EVENTS, t.sk_test, "{\"event_name\":\"view\","
	    "\"user_id\":\"alice\"}", NULL);
	assert_status(r, 201);
	b = strdup(jstr(r->json, "id"));
	snprintf(second, sizeof(second), "%s", jstr(r->json, "created"));
	resp_free(r);
	c = event_create(t.sk_test, "{\"event_name\":\"click\","
	    "\"user_id\":\"bob\"}");
	ck_assert_str_ne(first, second);

	r = event_list(t.sk_test, "event_name=click");
	ck_assert_int_eq(list_len(r), 2);
	assert_jstr(r->json, "data.0.id", c);
	assert_jstr(r->json, "data.1.id", a);
	resp_free(r);
	r = event_list(t.sk_test, "user_id=alice");
	ck_assert_int_eq(list_len(r), 2);
	assert_jstr(r->json, "data.0.id", b);
	assert_jstr(r->json, "data.1.id", a);
	resp_free(r);
	r = event_list(t.sk_test, "event_name=click&user_id=bob");
	ck_assert_int_eq(list_len(r), 1);
	assert_jstr(r->json, "data.0.id", c);
	resp_free(r);
	r = event_list(t.sk_test, "event_name=nothing");
	ck_assert_int_eq(list_len(r), 0);
	ck_assert(json_is_false(json_object_get(r->json, "has_more")));
	resp_free(r);

	/* created[gte] includes its own second, created[lt] excludes it. */
	snprintf(q, sizeof(q), "created%%5Bgte%%5D=%s", first);
	r = event_list(t.sk_test, q);
	ck_assert_int_eq(list_len(r), 3);
	resp_free(r);
	snprintf(q, sizeof(q), "created[gte]=%s", second);
	r = event_list(t.sk_test, q);
	ck_assert_int_eq(list_len(r), 2);
	ck_assert(list_has(r, b));
	ck_assert(list_has(r, c));
	resp_free(r);
	snprintf(q, sizeof(q), "created[lt]=%s", second);
	r = event_list(t.sk_test, q);
	ck_assert_int_eq(list_len(r), 1);
	assert_jstr(r->json, "data.0.id", a);
	resp_free(r);
	snprintf(q, sizeof(q), "created[lt]=%s", first);
	r = event_list(t.sk_test, q);
	ck_assert_int_eq(list_len(r), 0);
	resp_free(r);
	snprintf(q, sizeof(q), "created[gte]=%s&created[lt]=%s&"
	    "event_name=click", first, second);
	r = event_list(t.sk_test, q);
	ck_assert_int_eq(list_len(r), 1);
	assert_jstr(r->json, "data.0.id", a);
	resp_free(r);
	r = event_list(t.sk_test, "created[gte]=2000-01-01T00:00:00Z&"
	    "created[lt]=2000-01-02T00:00:00%2B00:00");
	ck_assert_int_eq(list_len(r), 0);
	resp_free(r);

	/* Bad timestamps name their parameter. */
	r = api_get(EVENTS "?created[gte]=yesterday", t.sk_test, NULL);
	assert_error(r, 400, "invalid_request_error", "parameter_invalid",
	    "created[gte]");
	resp_free(r);
	r = api_get(EVENTS "?created%5Blt%5D=2026-13-45", t.sk_test, NULL);
	assert_error(r, 400, "invalid_request_error", "parameter_invalid",
	    "created[lt]");
	resp_free(r);
	free(a);
	free(b);
	free(c);
	tenant_free(&t);
}
END_TEST

START_TEST(analytics_pagination)
{
	struct tenant	 t;
	struct resp	*r;
	char		*id[3], q[200];
	int		 i;

	tenant_register(&t, NULL);
	for (i = 0; i < 3; i++)
		id[i] = event_create(t.sk_test, "{\"event_name\":\"tick\"}");

	r = event_list(t.sk_test, "limit=1");
	ck_assert_int_eq(list_len(r), 1);
	assert_jstr(r->json, "data.0.id", id[2]);
	ck_assert(json_is_true(json_object_get(r->json, "has_more")));
	resp_free(r);
	snprintf(q, sizeof(q), "limit=1&starting_after=%s", id[2]);
	r = event_list(t.sk_test, q);
	ck_assert_int_eq(list_len(r), 1);
	assert_jstr(r->json, "data.0.id", id[1]);
	ck_assert(json_is_true(json_object_get(r->json, "has_more")));
	resp_free(r);
	snprintf(q, sizeof(q), "limit=1&starting_after=%s", id[1]);
	r = event_list(t.sk_test, q);
	ck_assert_int_eq(list_len(r), 1);
	assert_jstr(r->json, "data.0.id", id[0]);
	ck_assert(json_is_false(json_object_get(r->json, "has_more")));
	resp_free(r);
	snprintf(q, sizeof(q), "limit=2&starting_after=%s", id[2]);
	r = event_list(t.sk_test, q);
	ck_assert_int_eq(list_len(r), 2);
	ck_assert_str_eq(list_id(r, 0), id[1]);
	ck_assert_str_eq(list_id(r, 1), id[0]);
	ck_assert(json_is_false(json_object_get(r->json, "has_more")));
	resp_free(r);

	/* ending_before: the page just newer, still newest first. */
	snprintf(q, sizeof(q), "limit=1&ending_before=%s", id[0]);
	r = event_list(t.sk_test, q);
	ck_assert_int_eq(list_len(r), 1);
	assert_jstr(r->json, "data.0.id", id[1]);
	ck_assert(json_is_true(json_object_get(r->json, "has_more")));
	resp_free(r);
	snprintf(q, sizeof(q), "ending_before=%s", id[0]);
	r = event_list(t.sk_test, q);
	ck_assert_int_eq(list_len(r), 2);
	ck_assert_str_eq(list_id(r, 0), id[2]);
	ck_assert_str_eq(list_id(r, 1), id[1]);
	ck_assert(json_is_false(json_object_get(r->json, "has_more")));
	resp_free(r);

	/* Bad limits and cursors. */
	r = api_get(EVENTS "?limit=0", t.sk_test, NULL);
	assert_error(r, 400, "invalid_request_error", "parameter_invalid",
	    "limit");
	resp_free(r);
	r = api_get(EVENTS "?limit=101", t.sk_test, NULL);
	assert_error(r, 400, NULL, "parameter_invalid", "limit");
	resp_free(r);
	r = api_get(EVENTS "?starting_after=cus_123", t.sk_test, NULL);
	assert_error(r, 400, NULL, "parameter_invalid", "starting_after");
	resp_free(r);
	for (i = 0; i < 3; i++)
		free(id[i]);
	tenant_free(&t);
}
END_TEST

START_TEST(analytics_get_by_id)
{
	struct tenant	 t;
	struct resp	*r;
	char		*id;

	tenant_register(&t, NULL);
	id = event_create(t.sk_test, "{\"event_name\":\"checkout\","
	    "\"event_data\":{\"plan\":\"pro\"},\"session_id\":\"sess\"}");
	r = event_get(t.sk_test, id);
	assert_status(r, 200);
	assert_jstr(r->json, "object", "analytics_event");
	assert_jstr(r->json, "id", id);
	assert_jstr(r->json, "event_name", "checkout");
	assert_jstr(r->json, "event_data.plan", "pro");
	assert_jstr(r->json, "session_id", "sess");
	ck_assert(json_is_null(json_object_get(r->json, "user_id")));
	ck_assert(json_is_false(json_object_get(r->json, "livemode")));
	resp_free(r);
	r = event_get(t.access, id);
	assert_status(r, 200);
	resp_free(r);

	r = event_get(t.sk_test, "ae_00000000000000000000000000");
	assert_error(r, 404, "invalid_request_error", NULL, NULL);
	resp_free(r);
	r = event_get(t.sk_test, "cus_123");
	assert_error(r, 404, NULL, NULL, NULL);
	resp_free(r);
	free(id);
	tenant_free(&t);
}
END_TEST

START_TEST(analytics_other_tenant)
{
	struct tenant	 a, b;
	struct resp	*r;
	char		*ida, *idb;

	tenant_register(&a, NULL);
	tenant_register(&b, NULL);
	ida = event_create(a.sk_test, "{\"event_name\":\"shared_name\","
	    "\"user_id\":\"same\"}");
	idb = event_create(b.sk_test, "{\"event_name\":\"shared_name\","
	    "\"user_id\":\"same\"}");

	r = event_get(b.sk_test, ida);
	assert_error(r, 404, NULL, NULL, NULL);
	resp_free(r);
	r = event_get(b.access, ida);
	assert_error(r, 404, NULL, NULL, NULL);
	resp_free(r);
	r = event_get(a.sk_test, idb);
	assert_error(r, 404, NULL, NULL, NULL);
	resp_free(r);

	r = event_list(b.sk_test, NULL);
	ck_assert_int_eq(list_len(r), 1);
	ck_assert(list_has(r, idb));
	ck_assert_ptr_null(strstr(r->body, ida));
	resp_free(r);
	r = event_list(b.sk_test, "event_name=shared_name&user_id=same");
	ck_assert_int_eq(list_len(r), 1);
	ck_assert_ptr_null(strstr(r->body, ida));
	resp_free(r);
	r = event_list(a.access, "limit=100");
	ck_assert_int_eq(list_len(r), 1);
	ck_assert(list_has(r, ida));
	ck_assert_ptr_null(strstr(r->body, idb));
	resp_free(r);
	/* Another tenant's id as a cursor leaks nothing either. */
	{
		char	q[200];

		snprintf(q, sizeof(q), "starting_after=%s", ida);
		r = event_list(b.sk_test, q);
		ck_assert_ptr_null(strstr(r->body, ida));
		resp_free(r);
	}
	free(ida);
	free(idb);
	tenant_free(&a);
	tenant_free(&b);
}
END_TEST

START_TEST(analytics_modes)
{
	struct tenant	 t;
	struct resp	*r;
	char		*test, *live;

	tenant_register(&t, NULL);
	test = event_create(t.sk_test, "{\"event_name\":\"in_test\"}");
	r = api_post(EVENTS, t.sk_live, "{\"event_name\":\"in_live\"}", NULL);
	assert_status(r, 201);
	ck_assert(json_is_true(json_object_get(r->json, "livemode")));
	live = strdup(jstr(r->json, "id"));
	resp_free(r);

	r = event_list(t.sk_live, NULL);
	ck_assert_int_eq(list_len(r), 1);
	ck_assert(list_has(r, live));
	ck_assert_ptr_null(strstr(r->body, test));
	resp_free(r);
	r = event_list(t.sk_test, NULL);
	ck_assert_int_eq(list_len(r), 1);
	ck_assert(list_has(r, test));
	ck_assert_ptr_null(strstr(r->body, live));
	resp_free(r);
	r = event_get(t.sk_live, test);
	assert_error(r, 404, NULL, NULL, NULL);
	resp_free(r);
	r = event_get(t.sk_test, live);
	assert_error(r, 404, NULL, NULL, NULL);
	resp_free(r);
	/* A dashboard token follows Billow-Mode. */
	r = api_get(EVENTS, t.access, (const char *[]){ "Billow-Mode: live",
	    NULL });
	assert_status(r, 200);
	ck_assert_int_eq(list_len(r), 1);
	ck_assert(list_has(r, live));
	resp_free(r);
	free(test);
	free(live);
	tenant_free(&t);
}
END_TEST

START_TEST(analytics_credentials)
{
	struct tenant	 t;
	struct resp	*r;
	char		 email[128], *dev, *adm, *tok, *id;

	tenant_register(&t, NULL);
	id = event_create(t.sk_test, "{\"event_name\":\"seen\"}");

	/* Publishable keys and no credentials. */
	r = api_post(EVENTS, t.pk_test, "{\"event_name\":\"x\"}", NULL);
	assert_error(r, 403, "permission_error", NULL, NULL);
	resp_free(r);
	r = api_get(EVENTS, t.pk_test, NULL);
	assert_error(r, 403, "permission_error", NULL, NULL);
	resp_free(r);
	r = event_get(t.pk_live, id);
	assert_error(r, 403, "permission_error", NULL, NULL);
	resp_free(r);
	r = api_get(EVENTS, NULL, NULL);
	assert_error(r, 401, "authentication_error", NULL, NULL);
	resp_free(r);
	r = api_post(EVENTS, NULL, "{\"event_name\":\"x\"}", NULL);
	assert_error(r, 401, "authentication_error", NULL, NULL);
	resp_free(r);

	/* A developer reads but does not write. */
	dev = team_add(t.access, "developer", email, sizeof(email),
	    "dev-pass-1234");
	tok = login_access(email, "dev-pass-1234");
	r = event_list(tok, NULL);
	ck_assert(list_has(r, id));
	resp_free(r);
	r = event_get(tok, id);
	assert_status(r, 200);
	resp_free(r);
	r = api_post(EVENTS, tok, "{\"event_name\":\"dev_write\"}", NULL);
	assert_error(r, 403, "permission_error", NULL, NULL);
	resp_free(r);
	free(tok);
	free(dev);

	/* An admin writes. */
	adm = team_add(t.access, "admin", email, sizeof(email),
	    "admin-pass-123");
	tok = login_access(email, "admin-pass-123");
	free(event_create(tok, "{\"event_name\":\"admin_write\"}"));
	free(tok);
	free(adm);

	r = event_list(t.sk_test, NULL);
	ck_assert_int_eq(list_len(r), 2);
	ck_assert_ptr_null(strstr(r->body, "dev_write"));
	resp_free(r);
	free(id);
	tenant_free(&t);
}
END_TEST

START_TEST(analytics_bad_input)
{
	struct tenant	 t;
	struct resp	*r;
	char		*big, *body;
	size_t		 i;

	tenant_register(&t, NULL);
	r = api_post(EVENTS, t.sk_test, "{}", NULL);
	assert_error(r, 400, "invalid_request_error", "parameter_missing",
	    "event_name");
	resp_free(r);
	r = api_post(EVENTS, t.sk_test, "{\"event_data\":{}}", NULL);
	assert_error(r, 400, NULL, "parameter_missing", "event_name");
	resp_free(r);
	r = api_post(EVENTS, t.sk_test, "{\"event_name\":5}", NULL);
	assert_error(r, 400, "invalid_request_error", "parameter_invalid",
	    "event_name");
	resp_free(r);
	r = api_post(EVENTS, t.sk_test, "{\"event_name\":\"\"}", NULL);
	assert_error(r, 400, NULL, "parameter_invalid", "event_name");
	resp_free(r);
	r = api_post(EVENTS, t.sk_test, "{\"event_name\":\"a\","
	    "\"event_data\":\"x\"}", NULL);
	assert_error(r, 400, NULL, "parameter_invalid", "event_data");
	resp_free(r);
	r = api_post(EVENTS, t.sk_test, "{\"event_name\":\"a\","
	    "\"event_data\":[1,2]}", NULL);
	assert_error(r, 400, NULL, "parameter_invalid", "event_data");
	resp_free(r);
	r = api_post(EVENTS, t.sk_test, "{\"event_name\":\"a\","
	    "\"user_id\":7}", NULL);
	assert_error(r, 400, NULL, "parameter_invalid", "user_id");
	resp_free(r);
	r = api_post(EVENTS, t.sk_test, "{\"event_name\":\"a\","
	    "\"session_id\":{}}", NULL);
	assert_error(r, 400, NULL, "parameter_invalid", "session_id");
	resp_free(r);
	/* PostgreSQL cannot store NUL: refused, never a 500. */
	r = api_post(EVENTS, t.sk_test, "{\"event_name\":\"a\","
	    "\"event_data\":{\"s\":\"nul\\u0000here\"}}", NULL);
	assert_error(r, 400, "invalid_request_error", NULL, NULL);
	resp_free(r);
	r = api_post(EVENTS, t.sk_test, "{\"event_name\":\"a\","
	    "\"colour\":\"blue\"}", NULL);
	assert_error(r, 400, "invalid_request_error", "parameter_unknown",
	    "colour");
	resp_free(r);
	r = api_post_raw(EVENTS, t.sk_test, "{\"event_name\":", 14,
	    "application/json", NULL);
	assert_error(r, 400, "invalid_request_error", "invalid_json", NULL);
	resp_free(r);
	r = api_post_raw(EVENTS, t.sk_test, "event_name=a", 12,
	    "application/x-www-form-urlencoded", NULL);
	assert_status(r, 415);
	resp_free(r);

	/* Lengths: 200 characters pass, 201 do not. */
	big = malloc(20000);
	body = malloc(20100);
	memset(big, 'n', 201);
	big[201] = '\0';
	snprintf(body, 20100, "{\"event_name\":\"%s\"}", big);
	r = api_post(EVENTS, t.sk_test, body, NULL);
	assert_error(r, 400, NULL, "parameter_invalid", "event_name");
	resp_free(r);
	big[200] = '\0';
	snprintf(body, 20100, "{\"event_name\":\"%s\"}", big);
	free(event_create(t.sk_test, body));
	memset(big, 'u', 201);
	snprintf(body, 20100, "{\"event_name\":\"a\",\"user_id\":\"%s\"}",
	    big);
	r = api_post(EVENTS, t.sk_test, body, NULL);
	assert_error(r, 400, NULL, "parameter_invalid", "user_id");
	resp_free(r);

	/* event_data: 16 KiB serialized passes, one byte more does not. */
	for (i = 0; i < 16384 - 8; i++)
		big[i] = 'd';
	big[i] = '\0';		/* {"k":"..."} is 8 bytes around it */
	snprintf(body, 20100, "{\"event_name\":\"a\",\"event_data\":"
	    "{\"k\":\"%s\"}}", big);
	free(event_create(t.sk_test, body));
	big[i] = 'd';
	big[i + 1] = '\0';
	snprintf(body, 20100, "{\"event_name\":\"a\",\"event_data\":"
	    "{\"k\":\"%s\"}}", big);
	r = api_post(EVENTS, t.sk_test, body, NULL);
	assert_error(r, 400, NULL, "parameter_invalid", "event_data");
	resp_free(r);
	free(big);
	free(body);

	/* Nothing invalid was stored. */
	r = event_list(t.sk_test, "limit=100");
	ck_assert_int_eq(list_len(r), 2);
	resp_free(r);
	tenant_free(&t);
}
END_TEST

/*
 * Reports: GET /analytics/summary and /analytics/metrics (API.md
 * "Analytics"). MRR rule: amount × quantity normalised to a month (year
 * ÷ 12, week × 52 ÷ 12, day × 365 ÷ 12, then ÷ interval_count), one exact
 * fraction rounded half-up per subscription; active and past_due count,
 * trial, paused and canceled count 0. Every expected value below is
 * worked out by hand in the comments.
 */
#define SUMMARY	"/api/v1/analytics/summary"
#define METRICS	"/api/v1/analytics/metrics"

/* A recurring plan; its id (free it). */
static char *
plan_new(const char *auth, long long amount, const char *currency,
    const char *interval, int count)
{
	char	extra[256];

	/* fx_plan_new writes "usd"; a second key would be ambiguous. */
	if (strcmp(currency, "usd") == 0)
		snprintf(extra, sizeof(extra), "\"amount\":%lld,"
		    "\"interval\":\"%s\",\"interval_count\":%d", amount,
		    interval, count);
	else {
		struct resp	*r;
		char		 body[512], *id;

		snprintf(body, sizeof(body), "{\"name\":\"Pro\",\"currency\":"
		    "\"%s\",\"amount\":%lld,\"interval\":\"%s\","
		    "\"interval_count\":%d}", currency, amount, interval,
		    count);
		r = api_post("/api/v1/plans", auth, body, NULL);
		assert_status(r, 201);
		id = strdup(jstr(r->json, "id"));
		resp_free(r);
		return id;
	}
	return fx_plan_new(auth, extra);
}

/* A customer with a succeeding card (on CLOCK unless NULL). */
static char *
payer_new(const char *auth, const char *clock)
{
	return fx_customer_new(auth, "pm_card_visa", clock);
}

static struct resp *
summary_get(const char *auth)
{
	struct resp	*r = api_get(SUMMARY, auth, NULL);

	assert_status(r, 200);
	ck_assert(json_is_object(r->json));
	return r;
}

/* GET METRICS?QUERY, asserting 200 and the envelope. */
static struct resp *
metrics_get(const char *auth, const char *query)
{
	struct resp	*r;
	char		 path[512];

	snprintf(path, sizeof(path), METRICS "?%s", query);
	r = api_get(path, auth, NULL);
	assert_status(r, 200);
	assert_jstr(r->json, "object", "analytics_metrics");
	ck_assert(json_is_array(json_object_get(r->json, "data")));
	return r;
}

/* The metrics point of bucket START in CURRENCY (asserted to exist). */
static json_t *
point(const struct resp *r, const char *start, const char *currency)
{
	json_t	*v;
	size_t	 i;

	json_array_foreach(json_object_get(r->json, "data"), i, v)
		if (strcmp(jstr(v, "start"), start) == 0 &&
		    strcmp(jstr(v, "currency"), currency) == 0)
			return v;
	ck_abort_msg("no point %s %s in %.600s", start, currency, r->body);
	return NULL;
}

/*
 * Asserts a point's movements and levels: mrr, new, expansion,
 * contraction, churned, reactivation, active_subscriptions.
 */
static void
assert_moves(json_t *p, long long mrr, long long nw, long long exp,
    long long con, long long churn, long long react, long long active)
{
	const char	*at = jstr(p, "start");

	ck_assert_msg(fx_int(p, "mrr") == mrr, "%s mrr %lld != %lld", at,
	    fx_int(p, "mrr"), mrr);
	ck_assert_msg(fx_int(p, "new_mrr") == nw, "%s new %lld != %lld", at,
	    fx_int(p, "new_mrr"), nw);
	ck_assert_msg(fx_int(p, "expansion_mrr") == exp, "%s expansion "
	    "%lld != %lld", at, fx_int(p, "expansion_mrr"), exp);
	ck_assert_msg(fx_int(p, "contraction_mrr") == con, "%s contraction "
	    "%lld != %lld", at, fx_int(p, "contraction_mrr"), con);
	ck_assert_msg(fx_int(p, "churned_mrr") == churn, "%s churned %lld "
	    "!= %lld", at, fx_int(p, "churned_mrr"), churn);
	ck_assert_msg(fx_int(p, "reactivation_mrr") == react, "%s "
	    "reactivation %lld != %lld", at, fx_int(p, "reactivation_mrr"),
	    react);
	ck_assert_msg(fx_int(p, "active_subscriptions") == active, "%s "
	    "active %lld != %lld", at, fx_int(p, "active_subscriptions"),
	    active);
}

static void
sub_post(const char *auth, const char *sub, const char *action,
    const char *body)
{
	struct resp	*r;
	char		 path[200];

	snprintf(path, sizeof(path), "/api/v1/subscriptions/%s/%s", sub,
	    action);
	r = api_post(path, auth, body, NULL);
	assert_status(r, 200);
	resp_free(r);
}

static void
sub_patch_ok(const char *auth, const char *sub, const char *body)
{
	struct resp	*r;
	char		 path[200];

	snprintf(path, sizeof(path), "/api/v1/subscriptions/%s", sub);
	r = api_patch(path, auth, body, NULL);
	assert_status(r, 200);
	resp_free(r);
}

/* The id of the subscription's only payment (asserted: one). */
static char *
sub_payment(const char *auth, const char *sub)
{
	json_t	*l;
	char	*id;

	l = fx_get(auth, "/api/v1/payments?subscription_id=%s", sub);
	ck_assert_int_eq(json_array_size(json_object_get(l, "data")), 1);
	id = strdup(jstr(l, "data.0.id"));
	json_decref(l);
	return id;
}

START_TEST(analytics_summary_mrr)
{
	struct tenant	 t;
	struct resp	*r;
	char		*c[7], *p[7], *s[8];
	int		 i;

	tenant_register(&t, NULL);
	for (i = 0; i < 7; i++)
		c[i] = payer_new(t.sk_test, NULL);
	/*
	 * USD, each worked out as one fraction rounded half-up:
	 *   p0 month 2999               -> 2999
	 *   p1 year 10000: 10000/12     =  833.33 -> 833
	 *   p2 week 1000: 1000×52/12    = 4333.33 -> 4333
	 *   p3 day 100: 100×365/12      = 3041.67 -> 3042
	 *   p4 month ×3, 1000, qty 2: 2000/3 = 666.67 -> 667
	 *   p5 year 1014: 1014/12       =   84.5  -> 85 (half-up)
	 * EUR:
	 *   p6 month 500, qty 4         -> 2000
	 */
	p[0] = plan_new(t.sk_test, 2999, "usd", "month", 1);
	p[1] = plan_new(t.sk_test, 10000, "usd", "year", 1);
	p[2] = plan_new(t.sk_test, 1000, "usd", "week", 1);
	p[3] = plan_new(t.sk_test, 100, "usd", "day", 1);
	p[4] = plan_new(t.sk_test, 1000, "usd", "month", 3);
	p[5] = plan_new(t.sk_test, 1014, "usd", "year", 1);
	p[6] = plan_new(t.sk_test, 500, "eur", "month", 1);
	/* c0 holds two subscriptions; c5 only a trial; c6 pays in EUR. */
	s[0] = fx_sub_new(t.sk_test, c[0], p[0], "");
	s[1] = fx_sub_new(t.sk_test, c[0], p[1], "");
	s[2] = fx_sub_new(t.sk_test, c[1], p[2], "");
	s[3] = fx_sub_new(t.sk_test, c[2], p[3], "");
	s[4] = fx_sub_new(t.sk_test, c[3], p[4], "\"quantity\":2");
	s[5] = fx_sub_new(t.sk_test, c[4], p[5], "");
	s[6] = fx_sub_new(t.sk_test, c[5], p[0], "\"trial_period_days\":14");
	s[7] = fx_sub_new(t.sk_test, c[6], p[6], "\"quantity\":4");

	r = summary_get(t.sk_test);
	/* Only currency codes at the top level (API.md's shape). */
	ck_assert_int_eq(json_object_size(r->json), 2);
	/*
	 * USD MRR = 2999 + 833 + 4333 + 3042 + 667 + 85 = 11959; the trial
	 * counts 0. ARR = 12 × 11959 = 143508. Paying customers c0..c4 = 5:
	 * ARPU = 11959 / 5 = 2391.8 -> 2392. Six active, one trialing.
	 */
	ck_assert_int_eq(fx_int(r->json, "USD.mrr"), 11959);
	ck_assert_int_eq(fx_int(r->json, "USD.arr"), 143508);
	ck_assert_int_eq(fx_int(r->json, "USD.active_subscriptions"), 6);
	ck_assert_int_eq(fx_int(r->json, "USD.trialing_subscriptions"), 1);
	ck_assert_int_eq(fx_int(r->json, "USD.arpu"), 2392);
	/* Nobody paid 30 days ago and nobody churned: rates 0, no LTV. */
	assert_jstr(r->json, "USD.customer_churn_rate", "0.0000");
	assert_jstr(r->json, "USD.revenue_churn_rate", "0.0000");
	ck_assert(fx_is_null(r->json, "USD.ltv"));
	/* EUR apart, never added to USD: 500 × 4 = 2000, ARR 24000. */
	ck_assert_int_eq(fx_int(r->json, "EUR.mrr"), 2000);
	ck_assert_int_eq(fx_int(r->json, "EUR.arr"), 24000);
	ck_assert_int_eq(fx_int(r->json, "EUR.active_subscriptions"), 1);
	ck_assert_int_eq(fx_int(r->json, "EUR.trialing_subscriptions"), 0);
	ck_assert_int_eq(fx_int(r->json, "EUR.arpu"), 2000);
	resp_free(r);

	/* A dashboard token reads the same; a publishable key may not. */
	r = summary_get(t.access);
	ck_assert_int_eq(fx_int(r->json, "USD.mrr"), 11959);
	resp_free(r);
	r = api_get(SUMMARY, t.pk_test, NULL);
	assert_error(r, 403, "permission_error", NULL, NULL);
	resp_free(r);
	r = api_get(SUMMARY, NULL, NULL);
	assert_error(r, 401, "authentication_error", NULL, NULL);
	resp_free(r);

	/*
	 * Canceling c0's yearly subscription takes 833 off: USD MRR 11126,
	 * five active; c0 still pays (2999), so ARPU = 11126 / 5 = 2225.2
	 * -> 2225.
	 */
	sub_post(t.sk_test, s[1], "cancel", "{}");
	r = summary_get(t.sk_test);
	ck_assert_int_eq(fx_int(r->json, "USD.mrr"), 11126);
	ck_assert_int_eq(fx_int(r->json, "USD.active_subscriptions"), 5);
	ck_assert_int_eq(fx_int(r->json, "USD.arpu"), 2225);
	ck_assert_int_eq(fx_int(r->json, "EUR.mrr"), 2000);
	resp_free(r);
	for (i = 0; i < 7; i++) {
		free(c[i]);
		free(p[i]);
	}
	for (i = 0; i < 8; i++)
		free(s[i]);
	tenant_free(&t);
}
END_TEST

/*
 * Movements through a test clock, weekly buckets from Monday 2025-03-03
 * (T0 = 1740960000). History rows take the clock's time, whether a
 * request or the clock's own steps (a trial ending) make them.
 *   plans: M USD month 2000; Y USD year 12000 (MRR 1000); Y2 USD year
 *   6000 (MRR 500); E EUR month 900.
 *   week 1 [03-03, 03-10):
 *     03-03 A subscribes to M: new 2000, pays 2000 (fee 15% = 300)
 *           B subscribes to Y: new 1000, pays 12000 (fee 1800)
 *           E subscribes to E: EUR new 900, pays 900 (fee 135)
 *           T starts a 7-day trial of M: MRR 0
 *     03-05 A's quantity 1 -> 3 (no proration): expansion 4000
 *     end: USD MRR 6000 + 1000 = 7000, active 2 (the trial does not
 *     count); EUR 900, active 1.
 *   week 2 [03-10, 03-17):
 *     03-10 T's trial ends (the clock's step), T pays 2000 (fee 300):
 *           new 2000
 *     03-11 B moves to Y2 (no proration): contraction 500
 *           A cancels now: churned 6000
 *     end: USD 500 + 2000 = 2500, active 2 (B, T).
 *   week 3 [03-17, 03-24):
 *     03-18 A subscribes again to M: reactivation 2000, pays 2000
 *           B pauses: churned 500
 *     end: USD 2000 + 2000 = 4000, active 2 (T, A's new one).
 *   week 4 [03-24, 03-31):
 *     03-25 B resumes: reactivation 500
 *           customer E is deleted, which cancels E: EUR churned 900
 *     end: USD 4500, active 3; EUR 0, active 0.
 */
START_TEST(analytics_movements)
{
	struct tenant	 t;
	struct resp	*r;
	const long long	 t0 = 1740960000LL, day = 86400;
	char		*clock, *m, *y, *y2, *e, *ca, *cb, *ce, *ct;
	char		*sa, *sb, *se, *st, *sa2, body[200], path[200];
	json_t		*pt;

	tenant_register(&t, NULL);
	clock = fx_clock_new(t.sk_test, "2025-03-03T00:00:00Z");
	m = plan_new(t.sk_test, 2000, "usd", "month", 1);
	y = plan_new(t.sk_test, 12000, "usd", "year", 1);
	y2 = plan_new(t.sk_test, 6000, "usd", "year", 1);
	e = plan_new(t.sk_test, 900, "eur", "month", 1);
	ca = payer_new(t.sk_test, clock);
	cb = payer_new(t.sk_test, clock);
	ce = payer_new(t.sk_test, clock);
	ct = payer_new(t.sk_test, clock);

	sa = fx_sub_new(t.sk_test, ca, m, "");
	sb = fx_sub_new(t.sk_test, cb, y, "");
	se = fx_sub_new(t.sk_test, ce, e, "");
	st = fx_sub_new(t.sk_test, ct, m, "\"trial_period_days\":7");
	fx_clock_to(t.sk_test, clock, t0 + 2 * day);
	sub_patch_ok(t.sk_test, sa, "{\"quantity\":3,"
	    "\"proration_behavior\":\"none\"}");

	fx_clock_to(t.sk_test, clock, t0 + 8 * day);
	snprintf(body, sizeof(body), "{\"plan_id\":\"%s\","
	    "\"proration_behavior\":\"none\"}", y2);
	sub_patch_ok(t.sk_test, sb, body);
	sub_post(t.sk_test, sa, "cancel", "{}");

	fx_clock_to(t.sk_test, clock, t0 + 15 * day);
	sa2 = fx_sub_new(t.sk_test, ca, m, "");
	sub_post(t.sk_test, sb, "pause", "{}");

	fx_clock_to(t.sk_test, clock, t0 + 22 * day);
	sub_post(t.sk_test, sb, "resume", "{}");
	snprintf(path, sizeof(path), "/api/v1/customers/%s", ce);
	r = api_delete(path, t.sk_test, NULL);
	assert_status(r, 200);
	resp_free(r);

	r = metrics_get(t.sk_test, "interval=week&"
	    "from=2025-03-03T00:00:00Z&to=2025-03-31T00:00:00Z");
	assert_jstr(r->json, "interval", "week");
	assert_jstr(r->json, "from", "2025-03-03T00:00:00Z");
	assert_jstr(r->json, "to", "2025-03-31T00:00:00Z");
	ck_assert(json_is_false(json_object_get(r->json, "livemode")));
	/* 4 weeks × 2 currencies, oldest first, EUR before USD. */
	ck_assert_int_eq(json_array_size(json_object_get(r->json, "data")),
	    8);
	assert_jstr(r->json, "data.0.start", "2025-03-03T00:00:00Z");
	assert_jstr(r->json, "data.0.end", "2025-03-10T00:00:00Z");
	assert_jstr(r->json, "data.0.currency", "EUR");
	assert_jstr(r->json, "data.1.currency", "USD");
	assert_jstr(r->json, "data.7.start", "2025-03-24T00:00:00Z");

	/*                        mrr   new  exp  con  churn react active */
	pt = point(r, "2025-03-03T00:00:00Z", "USD");
	assert_moves(pt,          7000, 3000, 4000, 0, 0,    0,    2);
	ck_assert_int_eq(fx_int(pt, "revenue"), 14000);
	ck_assert_int_eq(fx_int(pt, "platform_fees"), 2100);
	ck_assert_int_eq(fx_int(pt, "refunds"), 0);
	pt = point(r, "2025-03-10T00:00:00Z", "USD");
	assert_moves(pt,          2500, 2000, 0,   500, 6000, 0,    2);
	ck_assert_int_eq(fx_int(pt, "revenue"), 2000);
	ck_assert_int_eq(fx_int(pt, "platform_fees"), 300);
	pt = point(r, "2025-03-17T00:00:00Z", "USD");
	assert_moves(pt,          4000, 0,    0,   0,   500,  2000, 2);
	ck_assert_int_eq(fx_int(pt, "revenue"), 2000);
	pt = point(r, "2025-03-24T00:00:00Z", "USD");
	assert_moves(pt,          4500, 0,    0,   0,   0,    500,  3);

	pt = point(r, "2025-03-03T00:00:00Z", "EUR");
	assert_moves(pt,          900,  900,  0,   0,   0,    0,    1);
	ck_assert_int_eq(fx_int(pt, "revenue"), 900);
	ck_assert_int_eq(fx_int(pt, "platform_fees"), 135);
	pt = point(r, "2025-03-10T00:00:00Z", "EUR");
	assert_moves(pt,          900,  0,    0,   0,   0,    0,    1);
	ck_assert_int_eq(fx_int(pt, "revenue"), 0);
	pt = point(r, "2025-03-24T00:00:00Z", "EUR");
	assert_moves(pt,          0,    0,    0,   0,   900,  0,    0);
	resp_free(r);

	/*
	 * The same month in one bucket: new 3000 + 2000 = 5000, expansion
	 * 4000, contraction 500, churned 6000 + 500 = 6500, reactivation
	 * 2000 + 500 = 2500; 0 + 5000 + 4000 - 500 - 6500 + 2500 = 4500.
	 * A from inside the month still starts the bucket on the 1st.
	 */
	r = metrics_get(t.sk_test, "interval=month&"
	    "from=2025-03-15T10:00:00Z&to=2025-04-01T00:00:00Z");
	assert_jstr(r->json, "from", "2025-03-01T00:00:00Z");
	assert_jstr(r->json, "to", "2025-04-01T00:00:00Z");
	ck_assert_int_eq(json_array_size(json_object_get(r->json, "data")),
	    2);
	pt = point(r, "2025-03-01T00:00:00Z", "USD");
	assert_jstr(pt, "end", "2025-04-01T00:00:00Z");
	assert_moves(pt,          4500, 5000, 4000, 500, 6500, 2500, 3);
	resp_free(r);

	/*
	 * Now (2026, long after): USD MRR 4500 from T 2000, A 2000, B 500;
	 * ARPU 4500 / 3 = 1500. Nothing moved in the last 30 days, so the
	 * rates are 0 and LTV null. EUR remains, at 0.
	 */
	r = summary_get(t.sk_test);
	ck_assert_int_eq(fx_int(r->json, "USD.mrr"), 4500);
	ck_assert_int_eq(fx_int(r->json, "USD.active_subscriptions"), 3);
	ck_assert_int_eq(fx_int(r->json, "USD.arpu"), 1500);
	assert_jstr(r->json, "USD.customer_churn_rate", "0.0000");
	ck_assert(fx_is_null(r->json, "USD.ltv"));
	ck_assert_int_eq(fx_int(r->json, "EUR.mrr"), 0);
	ck_assert_int_eq(fx_int(r->json, "EUR.active_subscriptions"), 0);
	resp_free(r);

	free(clock);
	free(m);
	free(y);
	free(y2);
	free(e);
	free(ca);
	free(cb);
	free(ce);
	free(ct);
	free(sa);
	free(sb);
	free(se);
	free(st);
	free(sa2);
	tenant_free(&t);
}
END_TEST

/*
 * Churn over the last 30 days, with a clock started 40 days ago: three
 * customers pay 1000, 2000 and 3000 a month from then; 5 days ago the
 * first cancels.
 *   MRR now 5000, ARR 60000, 2 paying: ARPU 2500.
 *   30 days ago: 3 paying, MRR 6000. Churned since: 1 customer, 1000.
 *   customer_churn_rate = 1/3 = 0.33333 -> "0.3333"
 *   revenue_churn_rate = 1000/6000 = 0.16667 -> "0.1667"
 *   ltv = ARPU / (1/3) = 2500 × 3 / 1 = 7500 (the exact rate, not the
 *   rounded string: 2500 / 0.3333 would be 7500.75).
 */
START_TEST(analytics_churn_rates)
{
	struct tenant	 t;
	struct resp	*r;
	long long	 now = (long long)time(NULL), start;
	char		 at[32], *clock, *p[3], *c[3], *s[3];
	int		 i;

	tenant_register(&t, NULL);
	start = now - 40 * 86400LL;
	clock = fx_clock_new(t.sk_test, fx_rfc3339(start, at));
	for (i = 0; i < 3; i++) {
		p[i] = plan_new(t.sk_test, 1000LL * (i + 1), "usd", "month",
		    1);
		c[i] = payer_new(t.sk_test, clock);
		s[i] = fx_sub_new(t.sk_test, c[i], p[i], "");
	}
	/* The renewals ~30 days in change no MRR. */
	fx_clock_to(t.sk_test, clock, now - 5 * 86400LL);
	sub_post(t.sk_test, s[0], "cancel", "{}");

	r = summary_get(t.sk_test);
	ck_assert_int_eq(fx_int(r->json, "USD.mrr"), 5000);
	ck_assert_int_eq(fx_int(r->json, "USD.arr"), 60000);
	ck_assert_int_eq(fx_int(r->json, "USD.active_subscriptions"), 2);
	ck_assert_int_eq(fx_int(r->json, "USD.arpu"), 2500);
	assert_jstr(r->json, "USD.customer_churn_rate", "0.3333");
	assert_jstr(r->json, "USD.revenue_churn_rate", "0.1667");
	ck_assert_int_eq(fx_int(r->json, "USD.ltv"), 7500);
	resp_free(r);
	for (i = 0; i < 3; i++) {
		free(p[i]);
		free(c[i]);
		free(s[i]);
	}
	free(clock);
	tenant_free(&t);
}
END_TEST

/*
 * Revenue, refunds and platform fees per currency (tenant fee 15.00%):
 *   USD 2999 paid: fee 2999 × 0.15 = 449.85 -> 450; refunded 1000
 *       (partially_refunded: still revenue).
 *   USD 1500 paid: fee 225; refunded in full (refunded: still revenue).
 *   USD 2999 declined: a failed payment is no revenue, but the
 *       subscription is past_due and its MRR counts.
 *   JPY 500 paid: fee 75.
 *   USD revenue 2999 + 1500 = 4499, fees 675, refunds 2500;
 *   MRR 2999 + 1500 + 2999 = 7498, new 7498, active 3.
 * Payments and refunds happen now: the day buckets from yesterday to
 * tomorrow hold them, summed over the buckets (midnight may fall
 * between two requests).
 */
START_TEST(analytics_revenue)
{
	struct tenant	 t;
	struct resp	*r;
	long long	 now = (long long)time(NULL);
	long long	 rev, fees, refunds, newm, mrr, n;
	char		 q[200], a[32], b[32], path[200];
	char		*p1, *p2, *pj, *c[4], *s[4], *pay;
	json_t		*v;
	size_t		 i;

	tenant_register(&t, NULL);
	p1 = plan_new(t.sk_test, 2999, "usd", "month", 1);
	p2 = plan_new(t.sk_test, 1500, "usd", "month", 1);
	pj = plan_new(t.sk_test, 500, "jpy", "month", 1);
	c[0] = payer_new(t.sk_test, NULL);
	c[1] = payer_new(t.sk_test, NULL);
	c[2] = fx_customer_new(t.sk_test, "pm_card_chargeDeclined", NULL);
	c[3] = payer_new(t.sk_test, NULL);
	s[0] = fx_sub_new(t.sk_test, c[0], p1, "");
	s[1] = fx_sub_new(t.sk_test, c[1], p2, "");
	s[2] = fx_sub_new(t.sk_test, c[2], p1, "");
	s[3] = fx_sub_new(t.sk_test, c[3], pj, "");

	pay = sub_payment(t.sk_test, s[0]);
	snprintf(path, sizeof(path), "/api/v1/payments/%s/refund", pay);
	r = api_post(path, t.sk_test, "{\"amount\":1000}", NULL);
	assert_status(r, 201);
	resp_free(r);
	free(pay);
	pay = sub_payment(t.sk_test, s[1]);
	snprintf(path, sizeof(path), "/api/v1/payments/%s/refund", pay);
	r = api_post(path, t.sk_test, "{}", NULL);
	assert_status(r, 201);
	resp_free(r);
	free(pay);

	snprintf(q, sizeof(q), "interval=day&from=%s&to=%s",
	    fx_rfc3339(now - 86400, a), fx_rfc3339(now + 86400, b));
	r = metrics_get(t.sk_test, q);
	rev = fees = refunds = newm = n = 0;
	mrr = -1;
	json_array_foreach(json_object_get(r->json, "data"), i, v) {
		if (strcmp(jstr(v, "currency"), "USD") != 0)
			continue;
		n++;
		rev += fx_int(v, "revenue");
		fees += fx_int(v, "platform_fees");
		refunds += fx_int(v, "refunds");
		newm += fx_int(v, "new_mrr");
		mrr = fx_int(v, "mrr");	/* the last bucket's end: now */
		ck_assert_int_eq(fx_int(v, "churned_mrr"), 0);
	}
	/* Yesterday, today, tomorrow; two days when now is a midnight. */
	ck_assert(n == 2 || n == 3);
	ck_assert_int_eq(rev, 4499);
	ck_assert_int_eq(fees, 675);
	ck_assert_int_eq(refunds, 2500);
	ck_assert_int_eq(newm, 7498);
	ck_assert_int_eq(mrr, 7498);
	json_array_foreach(json_object_get(r->json, "data"), i, v) {
		if (strcmp(jstr(v, "currency"), "JPY") != 0)
			continue;
		mrr = fx_int(v, "mrr");
		if (fx_int(v, "revenue") != 0) {
			ck_assert_int_eq(fx_int(v, "revenue"), 500);
			ck_assert_int_eq(fx_int(v, "platform_fees"), 75);
			ck_assert_int_eq(fx_int(v, "refunds"), 0);
		}
	}
	ck_assert_int_eq(mrr, 500);
	resp_free(r);

	/* The declined subscription is past_due and counts as active. */
	r = summary_get(t.sk_test);
	ck_assert_int_eq(fx_int(r->json, "USD.mrr"), 7498);
	ck_assert_int_eq(fx_int(r->json, "USD.active_subscriptions"), 3);
	ck_assert_int_eq(fx_int(r->json, "JPY.mrr"), 500);
	resp_free(r);
	free(p1);
	free(p2);
	free(pj);
	for (i = 0; i < 4; i++) {
		free(c[i]);
		free(s[i]);
	}
	tenant_free(&t);
}
END_TEST

START_TEST(analytics_metrics_params)
{
	struct tenant	 t;
	struct resp	*r;
	char		*p, *c, *s;
	long long	 from, to, n;

	tenant_register(&t, NULL);
	p = plan_new(t.sk_test, 1000, "usd", "month", 1);
	c = payer_new(t.sk_test, NULL);
	s = fx_sub_new(t.sk_test, c, p, "");

	r = api_get(METRICS "?interval=year", t.sk_test, NULL);
	assert_error(r, 400, "invalid_request_error", "parameter_invalid",
	    "interval");
	resp_free(r);
	r = api_get(METRICS "?from=yesterday", t.sk_test, NULL);
	assert_error(r, 400, "invalid_request_error", "parameter_invalid",
	    "from");
	resp_free(r);
	r = api_get(METRICS "?to=2025-13-01T00:00:00Z", t.sk_test, NULL);
	assert_error(r, 400, NULL, "parameter_invalid", "to");
	resp_free(r);
	/* to must be after from: equal and earlier are refused. */
	r = api_get(METRICS "?from=2025-01-01T00:00:00Z&"
	    "to=2025-01-01T00:00:00Z", t.sk_test, NULL);
	assert_error(r, 400, NULL, "parameter_invalid", "to");
	resp_free(r);
	r = api_get(METRICS "?from=2025-01-02T00:00:00Z&"
	    "to=2025-01-01T00:00:00Z", t.sk_test, NULL);
	assert_error(r, 400, NULL, "parameter_invalid", "to");
	resp_free(r);
	/*
	 * At most 366 buckets: 2025-01-01 to 2026-01-02 is 365 + 1 = 366
	 * days; one more day is 367.
	 */
	r = metrics_get(t.sk_test, "from=2025-01-01T00:00:00Z&"
	    "to=2026-01-02T00:00:00Z");
	ck_assert_int_eq(json_array_size(json_object_get(r->json, "data")),
	    366);
	assert_jstr(r->json, "data.365.start", "2026-01-01T00:00:00Z");
	/* Before the subscription existed: MRR 0. */
	ck_assert_int_eq(fx_int(r->json, "data.0.mrr"), 0);
	resp_free(r);
	r = api_get(METRICS "?from=2025-01-01T00:00:00Z&"
	    "to=2026-01-03T00:00:00Z", t.sk_test, NULL);
	assert_error(r, 400, "invalid_request_error", "parameter_invalid",
	    "from");
	resp_free(r);
	r = api_get(METRICS "?interval=week&from=2000-01-01T00:00:00Z&"
	    "to=2026-01-01T00:00:00Z", t.sk_test, NULL);
	assert_error(r, 400, NULL, "parameter_invalid", "from");
	resp_free(r);

	/*
	 * A Wednesday noon to the next midnight: one ISO week, Monday
	 * 2025-03-03 to Monday 2025-03-10. %2B is a '+' offset.
	 */
	r = metrics_get(t.sk_test, "interval=week&"
	    "from=2025-03-05T12:00:00%2B00:00&to=2025-03-06T00:00:00Z");
	assert_jstr(r->json, "from", "2025-03-03T00:00:00Z");
	assert_jstr(r->json, "to", "2025-03-10T00:00:00Z");
	ck_assert_int_eq(json_array_size(json_object_get(r->json, "data")),
	    1);
	resp_free(r);

	/*
	 * Defaults: interval day, to now, from 30 days before; buckets
	 * whole UTC days covering them, one point per day for USD, and the
	 * last one holds the subscription made just now: MRR 1000.
	 */
	r = metrics_get(t.sk_test, "");
	assert_jstr(r->json, "interval", "day");
	from = fx_time(r->json, "from");
	to = fx_time(r->json, "to");
	ck_assert_int_eq(from % 86400, 0);
	ck_assert_int_eq(to % 86400, 0);
	n = (to - from) / 86400;
	ck_assert(n == 30 || n == 31);
	ck_assert_int_eq((long long)json_array_size(json_object_get(r->json,
	    "data")), n);
	ck_assert_int_eq(fx_int(json_array_get(json_object_get(r->json,
	    "data"), (size_t)n - 1), "mrr"), 1000);
	resp_free(r);

	r = api_get(METRICS, t.pk_test, NULL);
	assert_error(r, 403, "permission_error", NULL, NULL);
	resp_free(r);
	r = api_get(METRICS, NULL, NULL);
	assert_error(r, 401, "authentication_error", NULL, NULL);
	resp_free(r);
	free(p);
	free(c);
	free(s);
	tenant_free(&t);
}
END_TEST

/*
 * Dunning through the clock's scheduler steps. Monday 2025-05-05: a
 * customer whose card declines subscribes to a 3000 USD monthly plan. The
 * first payment fails, the subscription is past_due and its MRR counts:
 * new 3000 on 05-05, no revenue. Retries 1, 3, 5 and 7 days after the
 * first failure fail too; the last, on 05-12, cancels it (the default
 * final action), at the clock's time: churned 3000 in the 05-12 bucket.
 * MRR at the end of 05-11 is 3000, at the end of 05-12 0.
 */
START_TEST(analytics_dunning_churn)
{
	struct tenant	 t;
	struct resp	*r;
	char		*clock, *plan, *cus, *sub;
	json_t		*pt, *s;

	tenant_register(&t, NULL);
	clock = fx_clock_new(t.sk_test, "2025-05-05T00:00:00Z");
	plan = plan_new(t.sk_test, 3000, "usd", "month", 1);
	cus = fx_customer_new(t.sk_test, "pm_card_chargeDeclined", clock);
	sub = fx_sub_new(t.sk_test, cus, plan, "");
	/* 2025-05-13T00:00:00Z: 1746057600 (05-01) + 12 days. */
	fx_clock_to(t.sk_test, clock, 1746057600LL + 12 * 86400LL);
	s = fx_get(t.sk_test, "/api/v1/subscriptions/%s", sub);
	assert_jstr(s, "status", "canceled");
	json_decref(s);

	r = metrics_get(t.sk_test, "interval=day&"
	    "from=2025-05-05T00:00:00Z&to=2025-05-13T00:00:00Z");
	ck_assert_int_eq(json_array_size(json_object_get(r->json, "data")),
	    8);
	/*                               mrr  new   exp con churn react act */
	pt = point(r, "2025-05-05T00:00:00Z", "USD");
	assert_moves(pt,                 3000, 3000, 0, 0,  0,    0,    1);
	ck_assert_int_eq(fx_int(pt, "revenue"), 0);
	pt = point(r, "2025-05-11T00:00:00Z", "USD");
	assert_moves(pt,                 3000, 0,    0, 0,  0,    0,    1);
	pt = point(r, "2025-05-12T00:00:00Z", "USD");
	assert_moves(pt,                 0,    0,    0, 0,  3000, 0,    0);
	ck_assert_int_eq(fx_int(pt, "revenue"), 0);
	ck_assert_int_eq(fx_int(pt, "platform_fees"), 0);
	resp_free(r);
	free(clock);
	free(plan);
	free(cus);
	free(sub);
	tenant_free(&t);
}
END_TEST

/* Another tenant, and the other mode, see none of it. */
START_TEST(analytics_reports_isolated)
{
	struct tenant	 a, b;
	struct resp	*r;
	char		*p, *c, *s;

	tenant_register(&a, NULL);
	tenant_register(&b, NULL);
	p = plan_new(a.sk_test, 4200, "usd", "month", 1);
	c = payer_new(a.sk_test, NULL);
	s = fx_sub_new(a.sk_test, c, p, "");

	r = summary_get(a.sk_test);
	ck_assert_int_eq(fx_int(r->json, "USD.mrr"), 4200);
	resp_free(r);
	r = summary_get(b.sk_test);
	ck_assert_int_eq(json_object_size(r->json), 0);
	resp_free(r);
	r = summary_get(b.access);
	ck_assert_int_eq(json_object_size(r->json), 0);
	resp_free(r);
	r = summary_get(a.sk_live);
	ck_assert_int_eq(json_object_size(r->json), 0);
	resp_free(r);
	r = metrics_get(b.sk_test, "interval=month");
	ck_assert_int_eq(json_array_size(json_object_get(r->json, "data")),
	    0);
	resp_free(r);
	r = metrics_get(a.sk_live, "interval=month");
	ck_assert_int_eq(json_array_size(json_object_get(r->json, "data")),
	    0);
	ck_assert(json_is_true(json_object_get(r->json, "livemode")));
	resp_free(r);
	r = metrics_get(a.sk_test, "interval=month");
	ck_assert(json_array_size(json_object_get(r->json, "data")) > 0);
	resp_free(r);
	free(p);
	free(c);
	free(s);
	tenant_free(&a);
	tenant_free(&b);
}
END_TEST

Suite *
suite_analytics(void)
{
	Suite	*s;
	TCase	*tc;

	s = suite_create("analytics");
	tc = api_tcase("events");
	tcase_add_test(tc, analytics_create_and_list);
	tcase_add_test(tc, analytics_filters);
	tcase_add_test(tc, analytics_pagination);
	tcase_add_test(tc, analytics_get_by_id);
	tcase_add_test(tc, analytics_other_tenant);
	tcase_add_test(tc, analytics_modes);
	tcase_add_test(tc, analytics_credentials);
	tcase_add_test(tc, analytics_bad_input);
	suite_add_tcase(s, tc);
	tc = api_tcase("reports");
	tcase_add_test(tc, analytics_summary_mrr);
	tcase_add_test(tc, analytics_movements);
	tcase_add_test(tc, analytics_churn_rates);
	tcase_add_test(tc, analytics_dunning_churn);
	tcase_add_test(tc, analytics_revenue);
	tcase_add_test(tc, analytics_metrics_params);
	tcase_add_test(tc, analytics_reports_isolated);
	suite_add_tcase(s, tc);
	return s;
}
