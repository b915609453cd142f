/*
 * The analytics plugin's events (API.md "Analytics": POST and GET
 * /analytics/events, the seed's AnalyticsEvent): create, list with its
 * filters and pagination, get by id, isolation between tenants and between
 * test and live mode, credentials and roles, and input validation. Needs a
 * server with the analytics plugin loaded and its migration applied.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "harness.h"

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
	return s;
}
