/*
 * Billing fixtures for the API tests (fixtures.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "fixtures.h"

long long
fx_int(json_t *j, const char *path)
{
	json_t	*v = jget(j, path);

	ck_assert_msg(json_is_integer(v), "%s: not an integer", path);
	return json_integer_value(v);
}

int
fx_is_null(json_t *j, const char *path)
{
	json_t	*v = jget(j, path);

	return v != NULL && json_is_null(v);
}

long long
fx_time(json_t *j, const char *path)
{
	const char	*s = jstr(j, path);
	struct tm	 tm;
	char		*end;

	ck_assert_msg(s != NULL, "%s: not a string", path);
	memset(&tm, 0, sizeof(tm));
	end = strptime(s, "%Y-%m-%dT%H:%M:%SZ", &tm);
	ck_assert_msg(end != NULL && *end == '\0', "%s: %s is not RFC 3339 "
	    "UTC", path, s);
	return (long long)timegm(&tm);
}

const char *
fx_rfc3339(long long t, char *buf)
{
	time_t		tt = (time_t)t;
	struct tm	tm;

	gmtime_r(&tt, &tm);
	strftime(buf, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
	return buf;
}

char *
fx_clock_new(const char *auth, const char *at)
{
	struct resp	*r;
	char		 body[128], *id;

	snprintf(body, sizeof(body), "{\"frozen_time\":\"%s\"}", at);
	r = api_post("/api/v1/test_clocks", auth, body, NULL);
	assert_status(r, 201);
	id = strdup(jstr(r->json, "id"));
	resp_free(r);
	return id;
}

void
fx_clock_to(const char *auth, const char *clock, long long t)
{
	struct resp	*r;
	char		 path[200], body[128], ts[32];

	snprintf(path, sizeof(path), "/api/v1/test_clocks/%s/advance", clock);
	snprintf(body, sizeof(body), "{\"frozen_time\":\"%s\"}",
	    fx_rfc3339(t, ts));
	r = api_post(path, auth, body, NULL);
	assert_status(r, 200);
	ck_assert_int_eq(fx_time(r->json, "frozen_time"), t);
	resp_free(r);
}

char *
fx_customer_new(const char *auth, const char *pm, const char *clock)
{
	struct resp	*r;
	char		 body[512], *id;
	int		 n;

	n = snprintf(body, sizeof(body), "{\"email\":\"b@example.test\"");
	if (pm != NULL)
		n += snprintf(body + n, sizeof(body) - (size_t)n,
		    ",\"payment_method\":\"%s\"", pm);
	if (clock != NULL)
		n += snprintf(body + n, sizeof(body) - (size_t)n,
		    ",\"test_clock_id\":\"%s\"", clock);
	snprintf(body + n, sizeof(body) - (size_t)n, "}");
	r = api_post("/api/v1/customers", auth, body, NULL);
	assert_status(r, 201);
	id = strdup(jstr(r->json, "id"));
	resp_free(r);
	return id;
}

char *
fx_plan_new(const char *auth, const char *extra)
{
	struct resp	*r;
	char		 body[2048], *id;

	snprintf(body, sizeof(body), "{\"name\":\"Pro\",\"currency\":\"usd\","
	    "%s}", extra);
	r = api_post("/api/v1/plans", auth, body, NULL);
	assert_status(r, 201);
	id = strdup(jstr(r->json, "id"));
	resp_free(r);
	return id;
}

char *
fx_sub_new(const char *auth, const char *cus, const char *plan,
    const char *extra)
{
	struct resp	*r;
	char		 body[512], *id;

	snprintf(body, sizeof(body), "{\"customer_id\":\"%s\","
	    "\"plan_id\":\"%s\"%s%s}", cus, plan, *extra ? "," : "", extra);
	r = api_post("/api/v1/subscriptions", auth, body, NULL);
	assert_status(r, 201);
	id = strdup(jstr(r->json, "id"));
	resp_free(r);
	return id;
}

json_t *
fx_get(const char *auth, const char *fmt, const char *id)
{
	struct resp	*r;
	char		 path[512];
	json_t		*j;

	snprintf(path, sizeof(path), fmt, id);
	r = api_get(path, auth, NULL);
	assert_status(r, 200);
	j = json_incref(r->json);
	resp_free(r);
	return j;
}

/* DATA of a list response reversed: oldest first. */
static json_t *
fx_oldest_first(json_t *list)
{
	json_t	*out = json_array(), *data = json_object_get(list, "data");
	size_t	 i;

	ck_assert_msg(json_is_false(json_object_get(list, "has_more")),
	    "more than one page");
	for (i = json_array_size(data); i > 0; i--)
		json_array_append(out, json_array_get(data, i - 1));
	return out;
}

json_t *
fx_sub_invoices(const char *auth, const char *sub)
{
	json_t	*l, *out;

	l = fx_get(auth, "/api/v1/invoices?subscription_id=%s&limit=100",
	    sub);
	out = fx_oldest_first(l);
	json_decref(l);
	return out;
}

json_t *
fx_events(const char *auth, const char *type, const char *id)
{
	json_t	*l, *all, *out, *v;
	size_t	 i;

	l = fx_get(auth, "/api/v1/events?type=%s&limit=100", type);
	all = fx_oldest_first(l);
	json_decref(l);
	out = json_array();
	json_array_foreach(all, i, v)
		if (jstr(v, "data.object.id") != NULL &&
		    strcmp(jstr(v, "data.object.id"), id) == 0)
			json_array_append(out, v);
	json_decref(all);
	return out;
}
