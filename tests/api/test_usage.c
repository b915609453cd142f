/*
 * Usage metering (API.md "Usage metering", BILLING.md "Usage",
 * docs/usage.md): meters and their validation, ingest with its request
 * shape errors, dedupe and the exact rejection order, batches with
 * repeated event_ids, concurrent ingests of one event_id, the summary of
 * every aggregation, external_customer_id, tenant and mode isolation,
 * test-clock time, and usage billed on a renewal invoice.
 *
 * Every expected value is worked out by hand in the comments.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "fixtures.h"

#define METERS	"/api/v1/meters"
#define EVENTS	"/api/v1/usage/events"
#define DAY	86400LL
#define NONE	(-1LL)

/* UNIX seconds of the RFC 3339 UTC time S. */
static long long
ts(const char *s)
{
	json_t		*j = json_pack("{s:s}", "t", s);
	long long	 t = fx_time(j, "t");

	json_decref(j);
	return t;
}

/* POST /meters with BODY, asserting 201; the meter's id (free it). */
static char *
meter_new(const char *auth, const char *body)
{
	struct resp	*r;
	char		*id;

	r = api_post(METERS, auth, body, NULL);
	assert_status(r, 201);
	assert_jstr(r->json, "object", "meter");
	ck_assert(strncmp(jstr(r->json, "id"), "mtr_", 4) == 0);
	id = strdup(jstr(r->json, "id"));
	resp_free(r);
	return id;
}

/*
 * One event: EID, the customer CUS (an "ext:" prefix sends it as
 * external_customer_id), METER's code, TS (NONE: omitted) and PROPS (JSON
 * object text, NULL: omitted).
 */
static json_t *
ev(const char *eid, const char *cus, const char *meter, long long t,
    const char *props)
{
	json_t	*e;
	char	 buf[32];

	e = json_pack("{s:s, s:s}", "event_id", eid, "meter", meter);
	if (strncmp(cus, "ext:", 4) == 0)
		json_object_set_new(e, "external_customer_id",
		    json_string(cus + 4));
	else
		json_object_set_new(e, "customer_id", json_string(cus));
	if (t != NONE)
		json_object_set_new(e, "timestamp",
		    json_string(fx_rfc3339(t, buf)));
	if (props != NULL)
		json_object_set_new(e, "properties", json_loads(props, 0,
		    NULL));
	return e;
}

/* POST /usage/events with BODY (stolen), asserting 202; the answer. */
static json_t *
ingest(const char *auth, json_t *body)
{
	struct resp	*r;
	json_t		*j;
	char		*s;

	s = json_dumps(body, JSON_COMPACT);
	json_decref(body);
	r = api_post(EVENTS, auth, s, NULL);
	free(s);
	assert_status(r, 202);
	ck_assert(json_is_array(jget(r->json, "rejected")));
	j = json_incref(r->json);
	resp_free(r);
	return j;
}

/* A batch {events:[...]} of the N events that follow (stolen). */
static json_t *
batch(int n, ...)
{
	va_list	 ap;
	json_t	*arr = json_array();
	int	 i;

	va_start(ap, n);
	for (i = 0; i < n; i++)
		json_array_append_new(arr, va_arg(ap, json_t *));
	va_end(ap);
	return json_pack("{s:o}", "events", arr);
}

/* Asserts the ingest answer's counts, then frees it. */
static void
counts(json_t *j, long long accepted, long long dups, size_t nrejected)
{
	ck_assert_int_eq(fx_int(j, "accepted"), accepted);
	ck_assert_int_eq(fx_int(j, "duplicates"), dups);
	ck_assert_msg(json_array_size(jget(j, "rejected")) == nrejected,
	    "rejected: expected %zu, got %zu", nrejected,
	    json_array_size(jget(j, "rejected")));
}

/* Asserts rejected[I] is {event_id EID, reason REASON}. */
static void
rejected_is(json_t *j, size_t i, const char *eid, const char *reason)
{
	json_t	*r = json_array_get(jget(j, "rejected"), i);

	ck_assert_msg(r != NULL, "no rejected[%zu]", i);
	assert_jstr(r, "event_id", eid);
	assert_jstr(r, "reason", reason);
}

/* One event alone, expecting REASON (NULL: accepted). */
static void
one(const char *auth, json_t *e, const char *reason)
{
	char	 eid[300];
	json_t	*j;

	snprintf(eid, sizeof(eid), "%s", jstr(e, "event_id"));
	j = ingest(auth, e);
	if (reason == NULL)
		counts(j, 1, 0, 0);
	else {
		counts(j, 0, 0, 1);
		rejected_is(j, 0, eid, reason);
	}
	json_decref(j);
}

/* POST /usage/events with the raw JSON BODY; the response (free it). */
static struct resp *
ingest_raw(const char *auth, const char *body)
{
	return api_post(EVENTS, auth, body, NULL);
}

/* POST /usage/events with BODY (stolen); the response (free it). */
static struct resp *
ingest_json(const char *auth, json_t *body)
{
	struct resp	*r;
	char		*s;

	s = json_dumps(body, JSON_COMPACT);
	json_decref(body);
	r = api_post(EVENTS, auth, s, NULL);
	free(s);
	return r;
}

/* GET /usage/summary?QUERY, asserting 200; the answer (decref). */
static json_t *
summary_q(const char *auth, const char *query)
{
	struct resp	*r;
	char		 path[800];
	json_t		*j;

	snprintf(path, sizeof(path), "/api/v1/usage/summary?%s", query);
	r = api_get(path, auth, NULL);
	assert_status(r, 200);
	assert_jstr(r->json, "object", "usage_summary");
	j = json_incref(r->json);
	resp_free(r);
	return j;
}

/* The summary value of CUS's METER over [FROM, TO) (NONE: left out). */
static long long
summary(const char *auth, const char *cus, const char *meter,
    long long from, long long to)
{
	char		 q[600], a[32], b[32];
	json_t		*j;
	long long	 v;
	int		 n;

	n = snprintf(q, sizeof(q), "customer_id=%s&meter=%s", cus, meter);
	if (from != NONE)
		n += snprintf(q + n, sizeof(q) - (size_t)n, "&from=%s",
		    fx_rfc3339(from, a));
	if (to != NONE)
		snprintf(q + n, sizeof(q) - (size_t)n, "&to=%s",
		    fx_rfc3339(to, b));
	j = summary_q(auth, q);
	assert_jstr(j, "customer_id", cus);
	assert_jstr(j, "meter", meter);
	v = fx_int(j, "value");
	json_decref(j);
	return v;
}

static struct resp *
customer_delete(const char *auth, const char *id)
{
	char	path[200];

	snprintf(path, sizeof(path), "/api/v1/customers/%s", id);
	return api_delete(path, auth, NULL);
}

/* The line of INV whose description is DESC, or NULL. */
static json_t *
line_of(json_t *inv, const char *desc)
{
	json_t	*l;
	size_t	 i;

	json_array_foreach(json_object_get(inv, "lines"), i, l)
		if (jstr(l, "description") != NULL &&
		    strcmp(jstr(l, "description"), desc) == 0)
			return l;
	return NULL;
}

START_TEST(usage_meters_crud)
{
	struct tenant	 t, u;
	struct resp	*r;
	char		*m1, *m2, *ml, path[200];

	tenant_register(&t, NULL);
	r = api_post(METERS, t.sk_test, "{\"code\":\"api_calls\",\"name\":"
	    "\"API calls\",\"aggregation\":\"count\"}", NULL);
	assert_status(r, 201);
	assert_jstr(r->json, "object", "meter");
	ck_assert(json_is_false(jget(r->json, "livemode")));
	assert_jstr(r->json, "code", "api_calls");
	assert_jstr(r->json, "name", "API calls");
	assert_jstr(r->json, "aggregation", "count");
	ck_assert(fx_is_null(r->json, "field"));
	ck_assert_int_eq(strlen(jstr(r->json, "created")), 20);
	m1 = strdup(jstr(r->json, "id"));
	resp_free(r);
	m2 = meter_new(t.sk_test, "{\"code\":\"storage.gb\",\"name\":"
	    "\"Storage\",\"aggregation\":\"sum\",\"field\":\"gb\"}");

	/* Newest first, paged. */
	r = api_get(METERS, t.sk_test, NULL);
	assert_status(r, 200);
	assert_jstr(r->json, "object", "list");
	assert_jstr(r->json, "url", METERS);
	ck_assert_int_eq(json_array_size(jget(r->json, "data")), 2);
	assert_jstr(r->json, "data.0.id", m2);
	assert_jstr(r->json, "data.0.field", "gb");
	assert_jstr(r->json, "data.1.id", m1);
	ck_assert(json_is_false(jget(r->json, "has_more")));
	resp_free(r);
	r = api_get(METERS "?limit=1", t.sk_test, NULL);
	assert_status(r, 200);
	ck_assert_int_eq(json_array_size(jget(r->json, "data")), 1);
	ck_assert(json_is_true(jget(r->json, "has_more")));
	resp_free(r);

	snprintf(path, sizeof(path), METERS "/%s", m2);
	r = api_get(path, t.sk_test, NULL);
	assert_status(r, 200);
	assert_jstr(r->json, "id", m2);
	assert_jstr(r->json, "aggregation", "sum");
	resp_free(r);
	r = api_get(METERS "/mtr_doesnotexist", t.sk_test, NULL);
	assert_error(r, 404, "invalid_request_error", "resource_missing",
	    NULL);
	resp_free(r);

	/* A code is unique per tenant and mode. */
	r = api_post(METERS, t.sk_test, "{\"code\":\"api_calls\",\"name\":"
	    "\"Again\",\"aggregation\":\"sum\",\"field\":\"n\"}", NULL);
	assert_error(r, 409, "invalid_request_error",
	    "resource_already_exists", "code");
	resp_free(r);
	ml = meter_new(t.sk_live, "{\"code\":\"api_calls\",\"name\":"
	    "\"Live calls\",\"aggregation\":\"count\"}");
	r = api_get(METERS, t.sk_live, NULL);
	assert_status(r, 200);
	ck_assert_int_eq(json_array_size(jget(r->json, "data")), 1);
	assert_jstr(r->json, "data.0.id", ml);
	ck_assert(json_is_true(jget(r->json, "data.0.livemode")));
	resp_free(r);
	snprintf(path, sizeof(path), METERS "/%s", ml);
	r = api_get(path, t.sk_test, NULL);
	assert_error(r, 404, NULL, "resource_missing", NULL);
	resp_free(r);

	/* Another tenant sees none of them. */
	tenant_register(&u, NULL);
	snprintf(path, sizeof(path), METERS "/%s", m1);
	r = api_get(path, u.sk_test, NULL);
	assert_error(r, 404, NULL, "resource_missing", NULL);
	resp_free(r);
	r = api_get(METERS, u.sk_test, NULL);
	assert_status(r, 200);
	ck_assert_int_eq(json_array_size(jget(r->json, "data")), 0);
	resp_free(r);
	free(m1);
	free(m2);
	free(ml);
	tenant_free(&t);
	tenant_free(&u);
}
END_TEST

START_TEST(usage_meters_validation)
{
	static const char *const needs_field[] = { "sum", "max",
	    "unique_count", "last", NULL };
	struct tenant	 t;
	struct resp	*r;
	char		 body[200];
	size_t		 i;

	tenant_register(&t, NULL);
	r = api_post(METERS, t.sk_test, "{\"name\":\"x\",\"aggregation\":"
	    "\"count\"}", NULL);
	assert_error(r, 400, "invalid_request_error", "parameter_missing",
	    "code");
	resp_free(r);
	r = api_post(METERS, t.sk_test, "{\"code\":\"\",\"name\":\"x\","
	    "\"aggregation\":\"count\"}", NULL);
	assert_error(r, 400, NULL, "parameter_invalid", "code");
	resp_free(r);
	r = api_post(METERS, t.sk_test, "{\"code\":\"a b\",\"name\":\"x\","
	    "\"aggregation\":\"count\"}", NULL);
	assert_error(r, 400, NULL, "parameter_invalid", "code");
	resp_free(r);
	r = api_post(METERS, t.sk_test, "{\"code\":7,\"name\":\"x\","
	    "\"aggregation\":\"count\"}", NULL);
	assert_error(r, 400, NULL, "parameter_invalid", "code");
	resp_free(r);
	r = api_post(METERS, t.sk_test, "{\"code\":\"c\",\"aggregation\":"
	    "\"count\"}", NULL);
	assert_error(r, 400, NULL, "parameter_missing", "name");
	resp_free(r);
	r = api_post(METERS, t.sk_test, "{\"code\":\"c\",\"name\":\"x\"}",
	    NULL);
	assert_error(r, 400, NULL, "parameter_missing", "aggregation");
	resp_free(r);
	r = api_post(METERS, t.sk_test, "{\"code\":\"c\",\"name\":\"x\","
	    "\"aggregation\":\"avg\",\"field\":\"v\"}", NULL);
	assert_error(r, 400, NULL, "parameter_invalid", "aggregation");
	resp_free(r);
	for (i = 0; needs_field[i] != NULL; i++) {
		snprintf(body, sizeof(body), "{\"code\":\"c\",\"name\":\"x\","
		    "\"aggregation\":\"%s\"}", needs_field[i]);
		r = api_post(METERS, t.sk_test, body, NULL);
		assert_error(r, 400, NULL, "parameter_missing", "field");
		resp_free(r);
	}
	r = api_post(METERS, t.sk_test, "{\"code\":\"c\",\"name\":\"x\","
	    "\"aggregation\":\"sum\",\"field\":\"\"}", NULL);
	assert_error(r, 400, NULL, "parameter_invalid", "field");
	resp_free(r);
	r = api_post(METERS, t.sk_test, "{\"code\":\"c\",\"name\":\"x\","
	    "\"aggregation\":\"count\",\"color\":\"red\"}", NULL);
	assert_error(r, 400, NULL, "parameter_unknown", "color");
	resp_free(r);

	/* Nothing above was created; a count meter may name a field. */
	r = api_get(METERS, t.sk_test, NULL);
	assert_status(r, 200);
	ck_assert_int_eq(json_array_size(jget(r->json, "data")), 0);
	resp_free(r);
	r = api_post(METERS, t.sk_test, "{\"code\":\"c\",\"name\":\"x\","
	    "\"aggregation\":\"count\",\"field\":\"v\"}", NULL);
	assert_status(r, 201);
	assert_jstr(r->json, "field", "v");
	resp_free(r);
	tenant_free(&t);
}
END_TEST

START_TEST(usage_ingest_shape)
{
	struct tenant	 t;
	struct resp	*r;
	char		*m, *c, body[600], *big;
	size_t		 i, n;

	tenant_register(&t, NULL);
	m = meter_new(t.sk_test, "{\"code\":\"calls\",\"name\":\"Calls\","
	    "\"aggregation\":\"count\"}");
	c = fx_customer_new(t.sk_test, NULL, NULL);

#define SHAPE(code, param, ...) do {					\
		snprintf(body, sizeof(body), __VA_ARGS__);		\
		r = ingest_raw(t.sk_test, body);			\
		assert_error(r, 400, "invalid_request_error", code,	\
		    param);						\
		resp_free(r);						\
	} while (0)
#define EV_C	"\"customer_id\":\"%s\""

	SHAPE("parameter_missing", "event_id",
	    "{" EV_C ",\"meter\":\"calls\"}", c);
	SHAPE("parameter_invalid", "event_id",
	    "{\"event_id\":5," EV_C ",\"meter\":\"calls\"}", c);
	SHAPE("parameter_invalid", "event_id",
	    "{\"event_id\":\"\"," EV_C ",\"meter\":\"calls\"}", c);
	SHAPE("parameter_missing", "customer_id",
	    "{\"event_id\":\"a\",\"meter\":\"calls\"}");
	SHAPE("parameter_invalid", "external_customer_id",
	    "{\"event_id\":\"a\"," EV_C ",\"external_customer_id\":\"x\","
	    "\"meter\":\"calls\"}", c);
	SHAPE("parameter_invalid", "customer_id",
	    "{\"event_id\":\"a\",\"customer_id\":[\"%s\"],"
	    "\"meter\":\"calls\"}", c);
	SHAPE("parameter_missing", "meter", "{\"event_id\":\"a\"," EV_C "}",
	    c);
	SHAPE("parameter_invalid", "timestamp", "{\"event_id\":\"a\"," EV_C
	    ",\"meter\":\"calls\",\"timestamp\":\"yesterday\"}", c);
	/* RFC 3339 strings only, never coerced from a number. */
	SHAPE("parameter_invalid", "timestamp", "{\"event_id\":\"a\"," EV_C
	    ",\"meter\":\"calls\",\"timestamp\":1767225600}", c);
	SHAPE("parameter_invalid", "timestamp", "{\"event_id\":\"a\"," EV_C
	    ",\"meter\":\"calls\",\"timestamp\":\"2026-02-30T00:00:00Z\"}",
	    c);
	SHAPE("parameter_invalid", "properties", "{\"event_id\":\"a\"," EV_C
	    ",\"meter\":\"calls\",\"properties\":[1]}", c);
	SHAPE("parameter_unknown", "value", "{\"event_id\":\"a\"," EV_C
	    ",\"meter\":\"calls\",\"value\":1}", c);
	SHAPE("parameter_invalid", "events", "{\"events\":[]}");
	SHAPE("parameter_invalid", "events", "{\"events\":{}}");
	SHAPE("parameter_unknown", "event_id",
	    "{\"events\":[],\"event_id\":\"a\"}");
	/* A batch names the event at fault; nothing of it is recorded. */
	SHAPE("parameter_missing", "events[1].meter",
	    "{\"events\":[{\"event_id\":\"ok\"," EV_C ",\"meter\":"
	    "\"calls\"},{\"event_id\":\"b\"," EV_C "}]}", c, c);
	SHAPE("parameter_invalid", "events[1]",
	    "{\"events\":[{\"event_id\":\"ok\"," EV_C ",\"meter\":"
	    "\"calls\"},\"x\"]}", c);
	SHAPE("parameter_unknown", "events[0].extra",
	    "{\"events\":[{\"event_id\":\"ok\"," EV_C ",\"meter\":"
	    "\"calls\",\"extra\":true}]}", c);
#undef EV_C
#undef SHAPE
	/* "ok" was never recorded: it is accepted now, not a duplicate. */
	one(t.sk_test, ev("ok", c, "calls", NONE, NULL), NULL);

	/* 1..1000 events: 1001 is a 400 (and so nothing recorded). */
	n = 1001;
	big = malloc(n * 120 + 32);
	strcpy(big, "{\"events\":[");
	for (i = 0; i < n; i++)
		sprintf(big + strlen(big), "%s{\"event_id\":\"big%zu\","
		    "\"customer_id\":\"%s\",\"meter\":\"calls\"}",
		    i > 0 ? "," : "", i, c);
	strcat(big, "]}");
	r = ingest_raw(t.sk_test, big);
	assert_error(r, 400, NULL, "parameter_invalid", "events");
	resp_free(r);
	free(big);
	ck_assert_int_eq(summary(t.sk_test, c, "calls", NONE, NONE), 1);
	free(m);
	free(c);
	tenant_free(&t);
}
END_TEST

/*
 * The meter's field must hold an integer for sum, max and last, and be
 * there for unique_count (docs/usage.md): a 400 for the whole request,
 * but only for an event that would be accepted.
 */
START_TEST(usage_ingest_values)
{
	struct tenant	 t;
	struct resp	*r;
	json_t		*j;
	char		*m1, *m2, *c;

	tenant_register(&t, NULL);
	m1 = meter_new(t.sk_test, "{\"code\":\"gb\",\"name\":\"GB\","
	    "\"aggregation\":\"sum\",\"field\":\"gb\"}");
	m2 = meter_new(t.sk_test, "{\"code\":\"users\",\"name\":\"Users\","
	    "\"aggregation\":\"unique_count\",\"field\":\"user\"}");
	c = fx_customer_new(t.sk_test, NULL, NULL);

	/* Rejected (customer_not_found) before the value matters. */
	one(t.sk_test, ev("v1", "cus_x", "gb", NONE, NULL),
	    "customer_not_found");

	r = ingest_json(t.sk_test, ev("v1", c, "gb", NONE, "{\"gb\":\"5\"}"));
	assert_error(r, 400, "invalid_request_error", "parameter_invalid",
	    "properties");
	resp_free(r);
	r = ingest_json(t.sk_test, batch(2,
	    ev("v0", c, "gb", NONE, "{\"gb\":1}"),
	    ev("v1", c, "gb", NONE, "{\"gb\":1.5}")));
	assert_error(r, 400, NULL, "parameter_invalid", "events[1].properties");
	resp_free(r);
	r = ingest_json(t.sk_test, ev("v1", c, "gb", NONE, NULL));
	assert_error(r, 400, NULL, "parameter_missing", "properties");
	resp_free(r);
	r = ingest_json(t.sk_test, ev("v1", c, "gb", NONE,
	    "{\"gb\":1000000000000001}"));
	assert_error(r, 400, NULL, "parameter_invalid", "properties");
	resp_free(r);
	r = ingest_json(t.sk_test, ev("u1", c, "users", NONE,
	    "{\"user\":null}"));
	assert_error(r, 400, NULL, "parameter_missing", "properties");
	resp_free(r);

	/* Nothing recorded so far (v0 neither); then 5 + (-3) = 2. */
	ck_assert_int_eq(summary(t.sk_test, c, "gb", NONE, NONE), 0);
	one(t.sk_test, ev("v1", c, "gb", NONE, "{\"gb\":5}"), NULL);
	one(t.sk_test, ev("v2", c, "gb", NONE, "{\"gb\":-3}"), NULL);
	ck_assert_int_eq(summary(t.sk_test, c, "gb", NONE, NONE), 2);
	/* A duplicate wins over a bad value. */
	j = ingest(t.sk_test, ev("v1", c, "gb", NONE, "{\"gb\":\"x\"}"));
	counts(j, 0, 1, 0);
	json_decref(j);
	free(m1);
	free(m2);
	free(c);
	tenant_free(&t);
}
END_TEST

/*
 * BILLING.md "Usage": a duplicate before anything else, then
 * customer_not_found, meter_not_found, timestamp_in_future, the first
 * that applies named; rejected events are not recorded.
 */
START_TEST(usage_ingest_order)
{
	struct tenant	 t;
	struct resp	*r;
	json_t		*j;
	char		*m, *c, *d;
	long long	 now = (long long)time(NULL), old;

	tenant_register(&t, NULL);
	m = meter_new(t.sk_test, "{\"code\":\"calls\",\"name\":\"Calls\","
	    "\"aggregation\":\"count\"}");
	c = fx_customer_new(t.sk_test, NULL, NULL);
	d = fx_customer_new(t.sk_test, NULL, NULL);
	r = customer_delete(t.sk_test, d);
	assert_status(r, 200);
	resp_free(r);
	old = ts("2024-01-01T00:00:00Z");

	j = ingest(t.sk_test, batch(6,
	    ev("ok1", c, "calls", NONE, NULL),
	    /* all three apply: the customer is named */
	    ev("nc", "cus_doesnotexist", "nope", now + DAY, NULL),
	    /* a deleted customer is no customer */
	    ev("del", d, "calls", NONE, NULL),
	    /* meter and future apply: the meter is named */
	    ev("nm", c, "nope", now + DAY, NULL),
	    /* an hour ahead of the database's now */
	    ev("fut", c, "calls", now + 3600, NULL),
	    /* the past is fine with no subscription covering it */
	    ev("old", c, "calls", old, NULL)));
	counts(j, 2, 0, 4);
	rejected_is(j, 0, "nc", "customer_not_found");
	rejected_is(j, 1, "del", "customer_not_found");
	rejected_is(j, 2, "nm", "meter_not_found");
	rejected_is(j, 3, "fut", "timestamp_in_future");
	json_decref(j);

	/* Duplicates win over every reason, whatever their fields. */
	j = ingest(t.sk_test, batch(2,
	    ev("ok1", "cus_doesnotexist", "nope", now + DAY, NULL),
	    ev("old", c, "calls", now + 3600, NULL)));
	counts(j, 0, 2, 0);
	json_decref(j);

	/* A rejected event_id was not recorded: it can be sent again. */
	one(t.sk_test, ev("fut", c, "calls", NONE, NULL), NULL);
	/* ok1, old and fut. */
	ck_assert_int_eq(summary(t.sk_test, c, "calls", NONE, NONE), 3);
	free(m);
	free(c);
	free(d);
	tenant_free(&t);
}
END_TEST

/*
 * Within a batch the second occurrence of an accepted event_id is a
 * duplicate; an occurrence after a rejected one is looked at afresh.
 */
START_TEST(usage_batch_repeats)
{
	struct tenant	 t;
	json_t		*j, *arr;
	char		*m, *c, eid[32];
	int		 i;

	tenant_register(&t, NULL);
	m = meter_new(t.sk_test, "{\"code\":\"calls\",\"name\":\"Calls\","
	    "\"aggregation\":\"count\"}");
	c = fx_customer_new(t.sk_test, NULL, NULL);
	j = ingest(t.sk_test, batch(6,
	    ev("a", c, "calls", NONE, NULL),
	    ev("a", c, "calls", NONE, NULL),
	    ev("b", c, "calls", NONE, NULL),
	    ev("a", "cus_doesnotexist", "nope", NONE, NULL),
	    ev("c", "cus_doesnotexist", "calls", NONE, NULL),
	    ev("c", c, "calls", NONE, NULL)));
	/* a, b and the second c: 3; the second and third a: 2. */
	counts(j, 3, 2, 1);
	rejected_is(j, 0, "c", "customer_not_found");
	json_decref(j);
	ck_assert_int_eq(summary(t.sk_test, c, "calls", NONE, NONE), 3);

	/* 1000 events in one request, all accepted. */
	arr = json_array();
	for (i = 0; i < 1000; i++) {
		snprintf(eid, sizeof(eid), "k%d", i);
		json_array_append_new(arr, ev(eid, c, "calls", NONE, NULL));
	}
	j = ingest(t.sk_test, json_pack("{s:o}", "events", arr));
	counts(j, 1000, 0, 0);
	json_decref(j);
	ck_assert_int_eq(summary(t.sk_test, c, "calls", NONE, NONE), 1003);
	free(m);
	free(c);
	tenant_free(&t);
}
END_TEST

/*
 * Two requests race with the same 200 event_ids: the unique index
 * decides, so between them 200 are accepted and 200 are duplicates.
 */
START_TEST(usage_concurrent_dedupe)
{
	struct tenant	 t;
	json_t		*arr, *body, *j;
	char		*m, *c, eid[32], *s;
	long long	 got[2];
	int		 fds[2], i, status;
	pid_t		 pid;

	tenant_register(&t, NULL);
	m = meter_new(t.sk_test, "{\"code\":\"calls\",\"name\":\"Calls\","
	    "\"aggregation\":\"count\"}");
	c = fx_customer_new(t.sk_test, NULL, NULL);
	arr = json_array();
	for (i = 0; i < 200; i++) {
		snprintf(eid, sizeof(eid), "race%d", i);
		json_array_append_new(arr, ev(eid, c, "calls", NONE, NULL));
	}
	body = json_pack("{s:o}", "events", arr);
	ck_assert(pipe(fds) == 0);
	if ((pid = fork()) == 0) {
		struct resp	*r;

		s = json_dumps(body, JSON_COMPACT);
		r = api_post(EVENTS, t.sk_test, s, NULL);
		got[0] = r->status == 202 ? fx_int(r->json, "accepted") : -1;
		got[1] = r->status == 202 ? fx_int(r->json, "duplicates") : -1;
		if (write(fds[1], got, sizeof(got)) != sizeof(got))
			_exit(1);
		_exit(0);
	}
	ck_assert(pid > 0);
	j = ingest(t.sk_test, json_incref(body));
	ck_assert(read(fds[0], got, sizeof(got)) == sizeof(got));
	ck_assert(waitpid(pid, &status, 0) == pid);
	ck_assert_int_ge(got[0], 0);
	ck_assert_int_eq(fx_int(j, "accepted") + got[0], 200);
	ck_assert_int_eq(fx_int(j, "duplicates") + got[1], 200);
	json_decref(j);
	json_decref(body);
	close(fds[0]);
	close(fds[1]);
	ck_assert_int_eq(summary(t.sk_test, c, "calls", NONE, NONE), 200);
	free(m);
	free(c);
	tenant_free(&t);
}
END_TEST

/* Each aggregation over [from, to), values worked out by hand. */
START_TEST(usage_summary_aggregations)
{
	struct tenant	 t;
	struct resp	*r;
	json_t		*j;
	char		*c, *c2, *mbytes, q[400], a[32];
	long long	 t0 = ts("2025-03-01T00:00:00Z");

	tenant_register(&t, NULL);
	free(meter_new(t.sk_test, "{\"code\":\"n\",\"name\":\"N\","
	    "\"aggregation\":\"count\"}"));
	mbytes = meter_new(t.sk_test, "{\"code\":\"bytes\",\"name\":"
	    "\"Bytes\",\"aggregation\":\"sum\",\"field\":\"bytes\"}");
	free(meter_new(t.sk_test, "{\"code\":\"peak\",\"name\":\"Peak\","
	    "\"aggregation\":\"max\",\"field\":\"v\"}"));
	free(meter_new(t.sk_test, "{\"code\":\"users\",\"name\":\"Users\","
	    "\"aggregation\":\"unique_count\",\"field\":\"user\"}"));
	free(meter_new(t.sk_test, "{\"code\":\"level\",\"name\":\"Level\","
	    "\"aggregation\":\"last\",\"field\":\"v\"}"));
	c = fx_customer_new(t.sk_test, NULL, NULL);
	c2 = fx_customer_new(t.sk_test, NULL, NULL);

	j = ingest(t.sk_test, batch(20,
	    ev("n1", c, "n", t0, NULL),
	    ev("n2", c, "n", t0 + 1, NULL),
	    ev("n3", c, "n", t0 + 2, NULL),
	    ev("b1", c, "bytes", t0, "{\"bytes\":10}"),
	    ev("b2", c, "bytes", t0 + 60, "{\"bytes\":20}"),
	    ev("b3", c, "bytes", t0 + 120, "{\"bytes\":-5}"),
	    ev("b4", c, "bytes", t0 + 3600, "{\"bytes\":100}"),
	    ev("p1", c, "peak", t0, "{\"v\":7}"),
	    ev("p2", c, "peak", t0 + 10, "{\"v\":42}"),
	    ev("p3", c, "peak", t0 + 20, "{\"v\":13}"),
	    ev("u1", c, "users", t0, "{\"user\":\"ann\"}"),
	    ev("u2", c, "users", t0 + 1, "{\"user\":\"bob\"}"),
	    ev("u3", c, "users", t0 + 2, "{\"user\":\"ann\"}"),
	    ev("u4", c, "users", t0 + 3, "{\"user\":7}"),
	    ev("u5", c, "users", t0 + 4, "{\"user\":\"7\"}"),
	    ev("l1", c, "level", t0 + 100, "{\"v\":5}"),
	    ev("l2", c, "level", t0 + 200, "{\"v\":9}"),
	    /* same time as l2 but received after it: l3 is the last */
	    ev("l3", c, "level", t0 + 200, "{\"v\":4}"),
	    /* received last, but its timestamp is earlier */
	    ev("l4", c, "level", t0 + 50, "{\"v\":1}"),
	    ev("other", c2, "n", t0, NULL)));
	counts(j, 20, 0, 0);
	json_decref(j);

	/* count: n1, n2, n3 = 3; [t0, t0+2) holds n1 and n2 = 2. */
	ck_assert_int_eq(summary(t.sk_test, c, "n", NONE, NONE), 3);
	ck_assert_int_eq(summary(t.sk_test, c, "n", t0, t0 + 2), 2);
	ck_assert_int_eq(summary(t.sk_test, c, "n", t0 + 1, NONE), 2);
	/*
	 * sum: 10 + 20 - 5 + 100 = 125; before t0+3600: 10 + 20 - 5 = 25;
	 * [t0+60, t0+120): 20; an empty window: 0.
	 */
	ck_assert_int_eq(summary(t.sk_test, c, "bytes", NONE, NONE), 125);
	ck_assert_int_eq(summary(t.sk_test, c, "bytes", t0, t0 + 3600), 25);
	ck_assert_int_eq(summary(t.sk_test, c, "bytes", t0 + 60, t0 + 120),
	    20);
	ck_assert_int_eq(summary(t.sk_test, c, "bytes", t0 + 60, t0 + 60), 0);
	/* max: 42; from t0+20 only 13; nothing from t0+30: 0. */
	ck_assert_int_eq(summary(t.sk_test, c, "peak", NONE, NONE), 42);
	ck_assert_int_eq(summary(t.sk_test, c, "peak", t0 + 20, NONE), 13);
	ck_assert_int_eq(summary(t.sk_test, c, "peak", t0 + 30, NONE), 0);
	/* unique_count as text: ann, bob, "7" (7 and "7" are one) = 3. */
	ck_assert_int_eq(summary(t.sk_test, c, "users", NONE, NONE), 3);
	ck_assert_int_eq(summary(t.sk_test, c, "users", t0, t0 + 2), 2);
	/* last: the latest timestamp t0+200, ties to l3 (4). */
	ck_assert_int_eq(summary(t.sk_test, c, "level", NONE, NONE), 4);
	/* before t0+200: l1 at t0+100 (5) beats l4 at t0+50. */
	ck_assert_int_eq(summary(t.sk_test, c, "level", NONE, t0 + 200), 5);
	/* A later request at the same time is received later still: 8. */
	one(t.sk_test, ev("l5", c, "level", t0 + 200, "{\"v\":8}"), NULL);
	ck_assert_int_eq(summary(t.sk_test, c, "level", NONE, NONE), 8);
	/* No events: 0 for every aggregation. */
	ck_assert_int_eq(summary(t.sk_test, c2, "bytes", NONE, NONE), 0);
	ck_assert_int_eq(summary(t.sk_test, c2, "level", NONE, NONE), 0);
	ck_assert_int_eq(summary(t.sk_test, c2, "users", NONE, NONE), 0);
	ck_assert_int_eq(summary(t.sk_test, c2, "n", NONE, NONE), 1);

	/* The answer's window. */
	snprintf(q, sizeof(q), "customer_id=%s&meter=n&to=%s", c,
	    fx_rfc3339(t0 + 2, a));
	j = summary_q(t.sk_test, q);
	assert_jstr(j, "from", "1970-01-01T00:00:00Z");
	assert_jstr(j, "to", "2025-03-01T00:00:02Z");
	ck_assert(json_is_false(jget(j, "livemode")));
	ck_assert_int_eq(fx_int(j, "value"), 2);
	json_decref(j);
	snprintf(q, sizeof(q), "customer_id=%s&meter=n", c);
	j = summary_q(t.sk_test, q);
	ck_assert(fx_is_null(j, "to"));
	json_decref(j);
	/* The meter's id works too; the answer names its code. */
	snprintf(q, sizeof(q), "customer_id=%s&meter=%s", c, mbytes);
	j = summary_q(t.sk_test, q);
	assert_jstr(j, "meter", "bytes");
	ck_assert_int_eq(fx_int(j, "value"), 125);
	json_decref(j);

	/* Errors. */
	r = api_get("/api/v1/usage/summary?meter=n", t.sk_test, NULL);
	assert_error(r, 400, NULL, "parameter_missing", "customer_id");
	resp_free(r);
	snprintf(q, sizeof(q), "/api/v1/usage/summary?customer_id=%s", c);
	r = api_get(q, t.sk_test, NULL);
	assert_error(r, 400, NULL, "parameter_missing", "meter");
	resp_free(r);
	snprintf(q, sizeof(q), "/api/v1/usage/summary?customer_id=%s"
	    "&meter=nope", c);
	r = api_get(q, t.sk_test, NULL);
	assert_error(r, 404, NULL, "resource_missing", "meter");
	resp_free(r);
	r = api_get("/api/v1/usage/summary?customer_id=cus_nope&meter=n",
	    t.sk_test, NULL);
	assert_error(r, 404, NULL, "resource_missing", "customer_id");
	resp_free(r);
	snprintf(q, sizeof(q), "/api/v1/usage/summary?customer_id=%s"
	    "&meter=n&from=soon", c);
	r = api_get(q, t.sk_test, NULL);
	assert_error(r, 400, NULL, "parameter_invalid", "from");
	resp_free(r);
	snprintf(q, sizeof(q), "/api/v1/usage/summary?customer_id=%s"
	    "&meter=n&from=2025-03-02T00:00:00Z&to=2025-03-01T00:00:00Z", c);
	r = api_get(q, t.sk_test, NULL);
	assert_error(r, 400, NULL, "parameter_invalid", "to");
	resp_free(r);
	free(c);
	free(c2);
	free(mbytes);
	tenant_free(&t);
}
END_TEST

START_TEST(usage_external_customer)
{
	struct tenant	 t;
	struct resp	*r;
	json_t		*j;
	char		*c, *c2;

	tenant_register(&t, NULL);
	free(meter_new(t.sk_test, "{\"code\":\"calls\",\"name\":\"Calls\","
	    "\"aggregation\":\"count\"}"));
	r = api_post("/api/v1/customers", t.sk_test, "{\"email\":"
	    "\"x@example.test\",\"external_id\":\"acct-42\"}", NULL);
	assert_status(r, 201);
	c = strdup(jstr(r->json, "id"));
	resp_free(r);

	one(t.sk_test, ev("x1", "ext:acct-42", "calls", NONE, NULL), NULL);
	one(t.sk_test, ev("x2", "ext:acct-41", "calls", NONE, NULL),
	    "customer_not_found");
	ck_assert_int_eq(summary(t.sk_test, c, "calls", NONE, NONE), 1);
	j = summary_q(t.sk_test, "external_customer_id=acct-42&meter=calls");
	assert_jstr(j, "customer_id", c);
	ck_assert_int_eq(fx_int(j, "value"), 1);
	json_decref(j);

	/* A deleted customer's external_id names nobody... */
	r = customer_delete(t.sk_test, c);
	assert_status(r, 200);
	resp_free(r);
	one(t.sk_test, ev("x3", "ext:acct-42", "calls", NONE, NULL),
	    "customer_not_found");
	/* ...until a new customer takes it. */
	r = api_post("/api/v1/customers", t.sk_test, "{\"email\":"
	    "\"y@example.test\",\"external_id\":\"acct-42\"}", NULL);
	assert_status(r, 201);
	c2 = strdup(jstr(r->json, "id"));
	resp_free(r);
	one(t.sk_test, ev("x3", "ext:acct-42", "calls", NONE, NULL), NULL);
	ck_assert_int_eq(summary(t.sk_test, c2, "calls", NONE, NONE), 1);
	/* The deleted customer's events remain. */
	ck_assert_int_eq(summary(t.sk_test, c, "calls", NONE, NONE), 1);
	free(c);
	free(c2);
	tenant_free(&t);
}
END_TEST

/* RLS: another tenant's or mode's customer and meter do not exist. */
START_TEST(usage_isolation)
{
	struct tenant	 a, b;
	struct resp	*r;
	char		*ca, *cb, *cl, q[300];

	tenant_register(&a, NULL);
	tenant_register(&b, NULL);
	free(meter_new(a.sk_test, "{\"code\":\"calls\",\"name\":\"Calls\","
	    "\"aggregation\":\"count\"}"));
	free(meter_new(b.sk_test, "{\"code\":\"calls\",\"name\":\"Calls\","
	    "\"aggregation\":\"count\"}"));
	free(meter_new(b.sk_test, "{\"code\":\"b_only\",\"name\":\"B\","
	    "\"aggregation\":\"count\"}"));
	ca = fx_customer_new(a.sk_test, NULL, NULL);
	cb = fx_customer_new(b.sk_test, NULL, NULL);

	one(a.sk_test, ev("i1", cb, "calls", NONE, NULL),
	    "customer_not_found");
	one(a.sk_test, ev("i2", ca, "b_only", NONE, NULL), "meter_not_found");
	/* Test data is invisible to live keys. */
	one(a.sk_live, ev("i3", ca, "calls", NONE, NULL),
	    "customer_not_found");

	/* event_id dedupes per tenant and mode. */
	one(a.sk_test, ev("shared", ca, "calls", NONE, NULL), NULL);
	one(b.sk_test, ev("shared", cb, "calls", NONE, NULL), NULL);
	free(meter_new(a.sk_live, "{\"code\":\"calls\",\"name\":\"Calls\","
	    "\"aggregation\":\"count\"}"));
	r = api_post("/api/v1/customers", a.sk_live, "{\"email\":"
	    "\"l@example.test\"}", NULL);
	assert_status(r, 201);
	cl = strdup(jstr(r->json, "id"));
	resp_free(r);
	one(a.sk_live, ev("shared", cl, "calls", NONE, NULL), NULL);
	ck_assert_int_eq(summary(a.sk_live, cl, "calls", NONE, NONE), 1);

	snprintf(q, sizeof(q), "/api/v1/usage/summary?customer_id=%s"
	    "&meter=calls", ca);
	r = api_get(q, b.sk_test, NULL);
	assert_error(r, 404, NULL, "resource_missing", "customer_id");
	resp_free(r);
	/* Publishable keys neither send usage nor read it. */
	r = ingest_json(a.pk_test, ev("pk", ca, "calls", NONE, NULL));
	assert_error(r, 403, "permission_error", NULL, NULL);
	resp_free(r);
	r = api_get(q, a.pk_test, NULL);
	assert_error(r, 403, "permission_error", NULL, NULL);
	resp_free(r);
	free(ca);
	free(cb);
	free(cl);
	tenant_free(&a);
	tenant_free(&b);
}
END_TEST

/* A customer on a test clock lives at the clock's time. */
START_TEST(usage_test_clock_now)
{
	struct tenant	 t;
	char		*clock, *k, *c;
	long long	 t0 = ts("2025-06-01T12:00:00Z");

	tenant_register(&t, NULL);
	free(meter_new(t.sk_test, "{\"code\":\"calls\",\"name\":\"Calls\","
	    "\"aggregation\":\"count\"}"));
	clock = fx_clock_new(t.sk_test, "2025-06-01T12:00:00Z");
	k = fx_customer_new(t.sk_test, NULL, clock);
	c = fx_customer_new(t.sk_test, NULL, NULL);

	/* 300 s ahead is not "more than 5 minutes"; 301 s is. */
	one(t.sk_test, ev("k1", k, "calls", t0 + 300, NULL), NULL);
	one(t.sk_test, ev("k2", k, "calls", t0 + 301, NULL),
	    "timestamp_in_future");
	/* A day after the clock, long past for the wall clock. */
	one(t.sk_test, ev("k3", k, "calls", t0 + DAY, NULL),
	    "timestamp_in_future");
	one(t.sk_test, ev("c1", c, "calls", t0 + DAY, NULL), NULL);
	/* No timestamp: the clock's time, so in [t0, t0 + 1). */
	one(t.sk_test, ev("k4", k, "calls", NONE, NULL), NULL);
	ck_assert_int_eq(summary(t.sk_test, k, "calls", t0, t0 + 1), 1);

	fx_clock_to(t.sk_test, clock, t0 + DAY);
	one(t.sk_test, ev("k3", k, "calls", t0 + DAY, NULL), NULL);
	/* k1, k4 and k3. */
	ck_assert_int_eq(summary(t.sk_test, k, "calls", NONE, NONE), 3);
	free(clock);
	free(k);
	free(c);
	tenant_free(&t);
}
END_TEST

/*
 * A renewal bills the period's usage in arrears; events of an invoiced
 * period are then rejected (period_invoiced).
 *
 * Plan: 1000 a month; charges, in order:
 *   gb (sum), standard 25 per unit, 2 free units
 *   calls (count), graduated: units 1-2 at 100, then 10 each + 50 flat
 *   seats (max), standard 999 (no events: a zero line, left out)
 *   tokens (sum), standard at "0.035" per unit
 * Period [Jan 1, Feb 1) 2025. Events: gb 3 + 4 = 7, less 2 free = 5
 * units, 5 × 25 = 125. calls: 4 events = 4 units, 2 × 100 + 2 × 10 + 50
 * = 270. tokens: 1000 + 300 = 1300 units × 0.035 = 45.5, rounded half up
 * once for the line = 46. The renewal on Feb 1: 1000 + 125 + 270 + 46 =
 * 1441.
 */
START_TEST(usage_renewal_bills_usage)
{
	struct tenant	 t;
	struct resp	*r;
	json_t		*j, *invs, *inv, *l;
	char		*clock, *cus, *plan, *sub, *mgb, *mcalls, *mseats, *mtok;
	char		 body[1200], path[200];
	long long	 jan1 = ts("2025-01-01T00:00:00Z");
	long long	 feb1 = ts("2025-02-01T00:00:00Z");

	tenant_register(&t, NULL);
	mgb = meter_new(t.sk_test, "{\"code\":\"gb\",\"name\":\"Storage\","
	    "\"aggregation\":\"sum\",\"field\":\"gb\"}");
	mcalls = meter_new(t.sk_test, "{\"code\":\"calls\",\"name\":"
	    "\"API calls\",\"aggregation\":\"count\"}");
	mseats = meter_new(t.sk_test, "{\"code\":\"seats\",\"name\":\"Seats\","
	    "\"aggregation\":\"max\",\"field\":\"n\"}");
	mtok = meter_new(t.sk_test, "{\"code\":\"tokens\",\"name\":"
	    "\"Tokens\",\"aggregation\":\"sum\",\"field\":\"n\"}");
	free(meter_new(t.sk_test, "{\"code\":\"other\",\"name\":\"Other\","
	    "\"aggregation\":\"count\"}"));
	snprintf(body, sizeof(body), "\"amount\":1000,\"interval\":\"month\","
	    "\"charges\":[{\"meter_id\":\"%s\",\"model\":\"standard\","
	    "\"unit_amount\":25,\"free_units\":2},{\"meter_id\":\"%s\","
	    "\"model\":\"graduated\",\"tiers\":[{\"up_to\":2,\"unit_amount\":"
	    "100},{\"up_to\":null,\"unit_amount\":10,\"flat_amount\":50}]},"
	    "{\"meter_id\":\"%s\",\"model\":\"standard\",\"unit_amount\":999},"
	    "{\"meter_id\":\"%s\",\"model\":\"standard\","
	    "\"unit_amount_decimal\":\"0.035\"}]", mgb, mcalls, mseats, mtok);
	plan = fx_plan_new(t.sk_test, body);
	clock = fx_clock_new(t.sk_test, "2025-01-01T00:00:00Z");
	cus = fx_customer_new(t.sk_test, "pm_card_visa", clock);
	sub = fx_sub_new(t.sk_test, cus, plan, "");

	fx_clock_to(t.sk_test, clock, jan1 + 9 * DAY);
	j = ingest(t.sk_test, batch(9,
	    ev("g1", cus, "gb", jan1 + DAY, "{\"gb\":3}"),
	    ev("t1", cus, "tokens", jan1 + DAY, "{\"n\":1000}"),
	    ev("t2", cus, "tokens", jan1 + 8 * DAY, "{\"n\":300}"),
	    ev("g2", cus, "gb", jan1 + 2 * DAY, "{\"gb\":4}"),
	    ev("c1", cus, "calls", jan1 + 4 * DAY, NULL),
	    ev("c2", cus, "calls", jan1 + 4 * DAY, NULL),
	    ev("c3", cus, "calls", jan1 + 4 * DAY, NULL),
	    ev("c4", cus, "calls", jan1 + 4 * DAY, NULL),
	    /* before the subscription started: covered by none, kept */
	    ev("g0", cus, "gb", jan1 - DAY, "{\"gb\":50}")));
	counts(j, 9, 0, 0);
	json_decref(j);

	/* The preview on Jan 10 bills the usage so far: 1441. */
	snprintf(path, sizeof(path), "/api/v1/invoices/upcoming?"
	    "subscription_id=%s", sub);
	r = api_get(path, t.sk_test, NULL);
	assert_status(r, 200);
	ck_assert_int_eq(fx_int(r->json, "total"), 1441);
	ck_assert((l = line_of(r->json, "Storage")) != NULL);
	ck_assert_int_eq(fx_int(l, "amount"), 125);
	ck_assert((l = line_of(r->json, "Tokens")) != NULL);
	ck_assert_int_eq(fx_int(l, "amount"), 46);
	resp_free(r);

	fx_clock_to(t.sk_test, clock, feb1);
	invs = fx_sub_invoices(t.sk_test, sub);
	ck_assert_int_eq(json_array_size(invs), 2);
	inv = json_array_get(invs, 1);
	ck_assert_int_eq(fx_int(inv, "total"), 1441);
	assert_jstr(inv, "status", "paid");
	ck_assert_int_eq(json_array_size(jget(inv, "lines")), 4);
	/* The plan line, then one usage line per charge in charge order. */
	assert_jstr(inv, "lines.0.kind", "plan");
	assert_jstr(inv, "lines.1.description", "Storage");
	assert_jstr(inv, "lines.2.description", "API calls");
	assert_jstr(inv, "lines.3.description", "Tokens");
	ck_assert((l = line_of(inv, "Storage")) != NULL);
	assert_jstr(l, "kind", "usage");
	ck_assert_int_eq(fx_int(l, "amount"), 125);
	ck_assert_int_eq(fx_int(l, "quantity"), 5);
	ck_assert_int_eq(fx_int(l, "unit_amount"), 25);
	ck_assert_int_eq(fx_time(l, "period_start"), jan1);
	ck_assert_int_eq(fx_time(l, "period_end"), feb1);
	ck_assert((l = line_of(inv, "API calls")) != NULL);
	assert_jstr(l, "kind", "usage");
	ck_assert_int_eq(fx_int(l, "amount"), 270);
	ck_assert_int_eq(fx_int(l, "quantity"), 4);
	ck_assert(fx_is_null(l, "unit_amount"));
	ck_assert(jget(l, "unit_amount_decimal") == NULL ||
	    fx_is_null(l, "unit_amount_decimal"));
	ck_assert((l = line_of(inv, "Tokens")) != NULL);
	ck_assert_int_eq(fx_int(l, "amount"), 46);
	ck_assert_int_eq(fx_int(l, "quantity"), 1300);
	ck_assert(fx_is_null(l, "unit_amount"));
	assert_jstr(l, "unit_amount_decimal", "0.035");
	ck_assert(line_of(inv, "Seats") == NULL);
	json_decref(invs);

	j = ingest(t.sk_test, batch(6,
	    /* in the invoiced period */
	    ev("late", cus, "gb", jan1 + 14 * DAY, "{\"gb\":1}"),
	    /* its meter is not the plan's: no subscription covers it */
	    ev("o1", cus, "other", jan1 + 14 * DAY, NULL),
	    /* the new period starts at usage_billed_until, Feb 1 */
	    ev("new", cus, "gb", feb1, "{\"gb\":1}"),
	    /* unknown meter beats period_invoiced */
	    ev("nm", cus, "nope", jan1 + 14 * DAY, NULL),
	    /* a duplicate of an invoiced event stays a duplicate */
	    ev("g1", cus, "gb", jan1 + DAY, "{\"gb\":3}"),
	    /* before started_at: never covered */
	    ev("g00", cus, "gb", jan1 - 2 * DAY, "{\"gb\":1}")));
	counts(j, 3, 1, 2);
	rejected_is(j, 0, "late", "period_invoiced");
	rejected_is(j, 1, "nm", "meter_not_found");
	json_decref(j);
	free(clock);
	free(cus);
	free(plan);
	free(sub);
	free(mgb);
	free(mcalls);
	free(mseats);
	free(mtok);
	tenant_free(&t);
}
END_TEST

/*
 * A pause at t bills usage up to t (period_invoiced before it) and
 * rejects usage from t on while paused (subscription_paused); the future
 * is named first. Meters the plan does not charge stay open.
 */
START_TEST(usage_paused)
{
	struct tenant	 t;
	struct resp	*r;
	json_t		*j;
	char		*clock, *cus, *plan, *sub, *mcalls;
	char		 body[400], path[200];
	long long	 mar1 = ts("2025-03-01T00:00:00Z"), p;

	tenant_register(&t, NULL);
	mcalls = meter_new(t.sk_test, "{\"code\":\"calls\",\"name\":"
	    "\"Calls\",\"aggregation\":\"count\"}");
	free(meter_new(t.sk_test, "{\"code\":\"other\",\"name\":\"Other\","
	    "\"aggregation\":\"count\"}"));
	snprintf(body, sizeof(body), "\"amount\":1000,\"interval\":\"month\","
	    "\"charges\":[{\"meter_id\":\"%s\",\"model\":\"standard\","
	    "\"unit_amount\":10}]", mcalls);
	plan = fx_plan_new(t.sk_test, body);
	clock = fx_clock_new(t.sk_test, "2025-03-01T00:00:00Z");
	cus = fx_customer_new(t.sk_test, "pm_card_visa", clock);
	sub = fx_sub_new(t.sk_test, cus, plan, "");
	p = mar1 + 9 * DAY;
	fx_clock_to(t.sk_test, clock, p);
	one(t.sk_test, ev("a", cus, "calls", mar1 + 4 * DAY, NULL), NULL);

	snprintf(path, sizeof(path), "/api/v1/subscriptions/%s/pause", sub);
	r = api_post(path, t.sk_test, "{}", NULL);
	assert_status(r, 200);
	assert_jstr(r->json, "status", "paused");
	ck_assert_int_eq(fx_time(r->json, "paused_at"), p);
	resp_free(r);

	j = ingest(t.sk_test, batch(6,
	    /* no timestamp: the clock's time, the pause's instant */
	    ev("b", cus, "calls", NONE, NULL),
	    /* before the pause: billed by it */
	    ev("c", cus, "calls", p - 1, NULL),
	    ev("d", cus, "other", p, NULL),
	    /* paused and too far ahead: the future is named */
	    ev("e", cus, "calls", p + 301, NULL),
	    ev("f", cus, "calls", p + 300, NULL),
	    /* a duplicate, whatever the pause */
	    ev("a", cus, "calls", p, NULL)));
	counts(j, 1, 1, 4);
	rejected_is(j, 0, "b", "subscription_paused");
	rejected_is(j, 1, "c", "period_invoiced");
	rejected_is(j, 2, "e", "timestamp_in_future");
	rejected_is(j, 3, "f", "subscription_paused");
	json_decref(j);

	/* Resumed, usage is accepted again. */
	fx_clock_to(t.sk_test, clock, p + DAY);
	snprintf(path, sizeof(path), "/api/v1/subscriptions/%s/resume", sub);
	r = api_post(path, t.sk_test, "{}", NULL);
	assert_status(r, 200);
	assert_jstr(r->json, "status", "active");
	resp_free(r);
	one(t.sk_test, ev("g", cus, "calls", NONE, NULL), NULL);
	free(clock);
	free(cus);
	free(plan);
	free(sub);
	free(mcalls);
	tenant_free(&t);
}
END_TEST

/*
 * Events in a trial are accepted (and free); after a cancel, events
 * from canceled_at on are covered by no subscription and kept.
 */
START_TEST(usage_trial_and_canceled)
{
	struct tenant	 t;
	struct resp	*r;
	char		*clock, *cus, *plan, *sub, *mcalls;
	char		 body[400], path[200];
	long long	 t0 = ts("2025-05-01T00:00:00Z");

	tenant_register(&t, NULL);
	mcalls = meter_new(t.sk_test, "{\"code\":\"calls\",\"name\":"
	    "\"Calls\",\"aggregation\":\"count\"}");
	snprintf(body, sizeof(body), "\"amount\":1000,\"interval\":\"month\","
	    "\"trial_period_days\":14,\"charges\":[{\"meter_id\":\"%s\","
	    "\"model\":\"standard\",\"unit_amount\":10}]", mcalls);
	plan = fx_plan_new(t.sk_test, body);
	clock = fx_clock_new(t.sk_test, "2025-05-01T00:00:00Z");
	cus = fx_customer_new(t.sk_test, "pm_card_visa", clock);
	sub = fx_sub_new(t.sk_test, cus, plan, "");
	fx_clock_to(t.sk_test, clock, t0 + 2 * DAY);
	one(t.sk_test, ev("t1", cus, "calls", t0 + DAY, NULL), NULL);
	one(t.sk_test, ev("t2", cus, "calls", NONE, NULL), NULL);

	snprintf(path, sizeof(path), "/api/v1/subscriptions/%s/cancel", sub);
	r = api_post(path, t.sk_test, "{}", NULL);
	assert_status(r, 200);
	assert_jstr(r->json, "status", "canceled");
	resp_free(r);
	fx_clock_to(t.sk_test, clock, t0 + 3 * DAY);
	one(t.sk_test, ev("t3", cus, "calls", t0 + 2 * DAY, NULL), NULL);
	one(t.sk_test, ev("t4", cus, "calls", NONE, NULL), NULL);
	ck_assert_int_eq(summary(t.sk_test, cus, "calls", NONE, NONE), 4);
	free(clock);
	free(cus);
	free(plan);
	free(sub);
	free(mcalls);
	tenant_free(&t);
}
END_TEST

/* A plan's charges name meters of the tenant and mode (plans.c). */
START_TEST(usage_plan_meter_exists)
{
	struct tenant	 t, u;
	struct resp	*r;
	char		*m, *mu, *plan, body[600], path[200];

	tenant_register(&t, NULL);
	tenant_register(&u, NULL);
	m = meter_new(t.sk_test, "{\"code\":\"calls\",\"name\":\"Calls\","
	    "\"aggregation\":\"count\"}");
	mu = meter_new(u.sk_test, "{\"code\":\"calls\",\"name\":\"Calls\","
	    "\"aggregation\":\"count\"}");

#define PLAN_BODY "{\"name\":\"P\",\"currency\":\"usd\",\"amount\":100," \
	"\"interval\":\"month\",\"charges\":[{\"meter_id\":\"%s\"," \
	"\"model\":\"standard\",\"unit_amount\":1}]}"
	snprintf(body, sizeof(body), PLAN_BODY, "mtr_doesnotexist");
	r = api_post("/api/v1/plans", t.sk_test, body, NULL);
	assert_error(r, 400, "invalid_request_error", "resource_missing",
	    "charges");
	resp_free(r);
	snprintf(body, sizeof(body), PLAN_BODY, mu);
	r = api_post("/api/v1/plans", t.sk_test, body, NULL);
	assert_error(r, 400, NULL, "resource_missing", "charges");
	resp_free(r);
	/* A test meter is not a live one. */
	snprintf(body, sizeof(body), PLAN_BODY, m);
	r = api_post("/api/v1/plans", t.sk_live, body, NULL);
	assert_error(r, 400, NULL, "resource_missing", "charges");
	resp_free(r);
	r = api_post("/api/v1/plans", t.sk_test, body, NULL);
	assert_status(r, 201);
	plan = strdup(jstr(r->json, "id"));
	resp_free(r);

	snprintf(path, sizeof(path), "/api/v1/plans/%s", plan);
	snprintf(body, sizeof(body), "{\"charges\":[{\"meter_id\":\"%s\","
	    "\"model\":\"standard\",\"unit_amount\":2}]}", mu);
	r = api_patch(path, t.sk_test, body, NULL);
	assert_error(r, 400, NULL, "resource_missing", "charges");
	resp_free(r);
	snprintf(body, sizeof(body), "{\"charges\":[{\"meter_id\":\"%s\","
	    "\"model\":\"standard\",\"unit_amount\":2}]}", m);
	r = api_patch(path, t.sk_test, body, NULL);
	assert_status(r, 200);
	ck_assert_int_eq(fx_int(r->json, "charges.0.unit_amount"), 2);
	resp_free(r);
#undef PLAN_BODY
	free(m);
	free(mu);
	free(plan);
	tenant_free(&t);
	tenant_free(&u);
}
END_TEST

Suite *
suite_usage(void)
{
	Suite	*s = suite_create("usage");
	TCase	*tc = api_tcase("meters");

	tcase_add_test(tc, usage_meters_crud);
	tcase_add_test(tc, usage_meters_validation);
	tcase_add_test(tc, usage_plan_meter_exists);
	suite_add_tcase(s, tc);
	tc = api_tcase("ingest");
	tcase_add_test(tc, usage_ingest_shape);
	tcase_add_test(tc, usage_ingest_values);
	tcase_add_test(tc, usage_ingest_order);
	tcase_add_test(tc, usage_batch_repeats);
	tcase_add_test(tc, usage_concurrent_dedupe);
	tcase_add_test(tc, usage_external_customer);
	tcase_add_test(tc, usage_isolation);
	tcase_add_test(tc, usage_test_clock_now);
	suite_add_tcase(s, tc);
	tc = api_tcase("summary");
	tcase_add_test(tc, usage_summary_aggregations);
	suite_add_tcase(s, tc);
	tc = api_tcase("billing");
	tcase_add_test(tc, usage_renewal_bills_usage);
	tcase_add_test(tc, usage_paused);
	tcase_add_test(tc, usage_trial_and_canceled);
	suite_add_tcase(s, tc);
	return s;
}
