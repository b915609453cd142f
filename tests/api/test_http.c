/*
 * HTTP conventions: Request-Id, 404/405, trailing slashes, content types,
 * JSON parsing limits, body size, operations endpoints and Idempotency-Key
 * (API.md "Conventions", "Operations").
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"

#define REGISTER	"/api/v1/auth/tenants/register"
#define USERS		"/api/v1/auth/tenants/users"
#define JSON_CT		"application/json"

static void
assert_request_id(const struct resp *r)
{
	const char	*id = resp_header(r, "Request-Id");

	ck_assert_msg(id != NULL && strncmp(id, "req_", 4) == 0 &&
	    strlen(id) > 4, "Request-Id missing or malformed on a %ld: %s",
	    r->status, id != NULL ? id : "(none)");
}

START_TEST(request_id_everywhere)
{
	struct resp	*r, *r2;
	struct tenant	 t;

	tenant_register(&t, NULL);
	r = api_get("/healthz", NULL, NULL);
	assert_status(r, 200);
	assert_request_id(r);
	r2 = api_get("/healthz", NULL, NULL);
	assert_request_id(r2);
	ck_assert_str_ne(resp_header(r, "Request-Id"),
	    resp_header(r2, "Request-Id"));
	resp_free(r);
	resp_free(r2);
	r = api_get("/api/v1/auth/tenants/details", t.access, NULL);
	assert_status(r, 200);
	assert_request_id(r);
	resp_free(r);
	r = api_get("/api/v1/auth/tenants/details", NULL, NULL);
	assert_status(r, 401);
	assert_request_id(r);
	resp_free(r);
	r = api_get("/api/v1/no/such/thing", NULL, NULL);
	assert_request_id(r);
	resp_free(r);
	r = api_delete("/healthz", NULL, NULL);
	assert_status(r, 405);
	assert_request_id(r);
	resp_free(r);
	r = api_post(REGISTER, NULL, "{", NULL);
	assert_status(r, 400);
	assert_request_id(r);
	resp_free(r);
	tenant_free(&t);
}
END_TEST

START_TEST(unknown_path_404)
{
	struct resp	*r;

	r = api_get("/api/v1/definitely/not/here", NULL, NULL);
	assert_error(r, 404, "invalid_request_error", NULL, NULL);
	ck_assert_msg(strstr(resp_header(r, "Content-Type") ?
	    resp_header(r, "Content-Type") : "", "application/json") != NULL,
	    "404 content type");
	resp_free(r);
	r = api_get("/api/v1/auth/tenants/verifyx", NULL, NULL);
	assert_error(r, 404, "invalid_request_error", NULL, NULL);
	resp_free(r);
}
END_TEST

START_TEST(wrong_method_405)
{
	struct resp	*r;
	const char	*allow;

	r = api_delete("/api/v1/auth/tenants/register", NULL, NULL);
	assert_error(r, 405, "invalid_request_error", NULL, NULL);
	allow = resp_header(r, "Allow");
	ck_assert_msg(allow != NULL && strstr(allow, "POST") != NULL,
	    "Allow: %s", allow != NULL ? allow : "(none)");
	resp_free(r);
	r = api_request("PUT", "/api/v1/auth/tenants/details", NULL, "{}", 2,
	    JSON_CT, NULL);
	assert_error(r, 405, "invalid_request_error", NULL, NULL);
	allow = resp_header(r, "Allow");
	ck_assert_msg(allow != NULL && strstr(allow, "GET") != NULL &&
	    strstr(allow, "PATCH") != NULL, "Allow: %s",
	    allow != NULL ? allow : "(none)");
	resp_free(r);
}
END_TEST

START_TEST(trailing_slash)
{
	struct tenant	 t;
	struct resp	*r;

	tenant_register(&t, NULL);
	r = api_get("/api/v1/auth/tenants/verify/", t.sk_test, NULL);
	assert_status(r, 200);
	assert_jstr(r->json, "tenant.id", t.id);
	resp_free(r);
	r = api_get("/api/v1/auth/tenants/details/", t.access, NULL);
	assert_status(r, 200);
	resp_free(r);
	tenant_free(&t);
}
END_TEST

START_TEST(content_type_415)
{
	struct resp	*r;
	char		 email[128], body[300];

	unique_email(email, sizeof(email), "ctype");
	snprintf(body, sizeof(body), "{\"company_name\":\"CT Co\",\"email\":"
	    "\"%s\",\"password\":\"long-enough-pw\"}", email);
	r = api_post_raw(REGISTER, NULL, body, strlen(body), "text/plain",
	    NULL);
	assert_error(r, 415, "invalid_request_error", NULL, NULL);
	resp_free(r);
	r = api_post_raw(REGISTER, NULL, body, strlen(body),
	    "application/x-www-form-urlencoded", NULL);
	assert_status(r, 415);
	resp_free(r);
	/* Nothing was registered: the same body as JSON succeeds. */
	r = api_post_raw(REGISTER, NULL, body, strlen(body), JSON_CT, NULL);
	assert_status(r, 201);
	resp_free(r);
}
END_TEST

static void
post_expect_invalid_json(const char *body, size_t len)
{
	struct resp	*r;

	r = api_post_raw(REGISTER, NULL, body, len, JSON_CT, NULL);
	assert_error(r, 400, "invalid_request_error", "invalid_json", NULL);
	resp_free(r);
}

START_TEST(malformed_json)
{
	post_expect_invalid_json("{\"company_name\": ", 17);
	post_expect_invalid_json("{'a':1}", 7);
	post_expect_invalid_json("[{\"company_name\":\"x\"}]", 23);
	post_expect_invalid_json("\"just a string\"", 15);
	post_expect_invalid_json("{} {}", 5);
}
END_TEST

START_TEST(json_too_deep)
{
	char	 body[256];
	size_t	 o = 0;
	int	 i;

	o += (size_t)snprintf(body, sizeof(body), "{\"company_name\":");
	for (i = 0; i < 39; i++)
		body[o++] = '[';
	for (i = 0; i < 39; i++)
		body[o++] = ']';
	body[o++] = '}';
	body[o] = '\0';
	post_expect_invalid_json(body, o);
}
END_TEST

START_TEST(json_duplicate_keys)
{
	struct resp	*r;
	char		 email[128], body[400];

	unique_email(email, sizeof(email), "dup");
	snprintf(body, sizeof(body), "{\"company_name\":\"Dup Co\",\"email\":"
	    "\"%s\",\"password\":\"long-enough-pw\",\"password\":\"short\"}",
	    email);
	r = api_post_raw(REGISTER, NULL, body, strlen(body), JSON_CT, NULL);
	assert_error(r, 400, "invalid_request_error", NULL, NULL);
	resp_free(r);
}
END_TEST

START_TEST(json_invalid_utf8)
{
	static const char body[] = "{\"company_name\":\"bad \xff\xfe bytes\","
	    "\"email\":\"utf8@example.test\",\"password\":\"long-enough-pw\"}";

	post_expect_invalid_json(body, sizeof(body) - 1);
}
END_TEST

START_TEST(json_nul_escape)
{
	struct resp	*r;
	char		 email[128], body[300];

	unique_email(email, sizeof(email), "nul");
	snprintf(body, sizeof(body), "{\"company_name\":\"nul\\u0000co\","
	    "\"email\":\"%s\",\"password\":\"long-enough-pw\"}", email);
	r = api_post_raw(REGISTER, NULL, body, strlen(body), JSON_CT, NULL);
	assert_error(r, 400, "invalid_request_error", NULL, NULL);
	resp_free(r);
}
END_TEST

START_TEST(body_too_large)
{
	struct resp	*r;
	size_t		 n = 2 * 1024 * 1024, o;
	char		*body;

	if ((body = malloc(n + 1)) == NULL)
		ck_abort_msg("out of memory");
	o = (size_t)snprintf(body, n, "{\"company_name\":\"");
	memset(body + o, 'a', n - o - 2);
	body[n - 2] = '"';
	body[n - 1] = '}';
	body[n] = '\0';
	/*
	 * With Expect: 100-continue the client waits for the server's word
	 * before sending the body, so the 413 (sent on the headers alone) is
	 * always read instead of racing a connection reset.
	 */
	r = api_post_raw(REGISTER, NULL, body, n, JSON_CT,
	    (const char *const[]){ "Expect: 100-continue", NULL });
	free(body);
	assert_status(r, 413);
	resp_free(r);
	/* Still serving. */
	r = api_get("/healthz", NULL, NULL);
	assert_status(r, 200);
	resp_free(r);
}
END_TEST

START_TEST(long_string_param)
{
	struct resp	*r;
	char		 email[128], *body, *name;

	unique_email(email, sizeof(email), "long");
	if ((name = malloc(10001)) == NULL)
		ck_abort_msg("out of memory");
	memset(name, 'x', 10000);
	name[10000] = '\0';
	if (asprintf(&body, "{\"company_name\":\"%s\",\"email\":\"%s\","
	    "\"password\":\"long-enough-pw\"}", name, email) == -1)
		ck_abort_msg("out of memory");
	free(name);
	r = api_post_raw(REGISTER, NULL, body, strlen(body), JSON_CT, NULL);
	free(body);
	assert_error(r, 400, "invalid_request_error", "parameter_invalid",
	    "company_name");
	resp_free(r);
}
END_TEST

START_TEST(ops_endpoints)
{
	struct resp	*r;

	r = api_get("/healthz", NULL, NULL);
	assert_status(r, 200);
	resp_free(r);
	r = api_get("/readyz", NULL, NULL);
	assert_status(r, 200);
	assert_jstr(r->json, "database", "ok");
	assert_jstr(r->json, "redis", "ok");
	resp_free(r);
	r = api_get("/metrics", NULL, NULL);
	assert_status(r, 200);
	ck_assert_msg(strstr(r->body, "billow_http_requests_total") != NULL,
	    "no billow_http_requests_total in /metrics");
	ck_assert_msg(strstr(r->body,
	    "billow_http_request_duration_seconds_bucket") != NULL,
	    "no billow_http_request_duration_seconds_bucket in /metrics");
	resp_free(r);
}
END_TEST

static char *
user_body(const char *password)
{
	char	 email[128], *s;

	unique_email(email, sizeof(email), "idem");
	if (asprintf(&s, "{\"email\":\"%s\",\"password\":\"%s\","
	    "\"role\":\"developer\"}", email, password) == -1)
		ck_abort_msg("out of memory");
	return s;
}

static size_t
team_size(const char *access)
{
	struct resp	*r;
	size_t		 n;

	r = api_get(USERS "?limit=100", access, NULL);
	assert_status(r, 200);
	n = json_array_size(json_object_get(r->json, "data"));
	resp_free(r);
	return n;
}

START_TEST(idempotency_replay)
{
	struct tenant	 t;
	struct resp	*r1, *r2;
	char		 hdr[100], rnd[25], *body;
	const char	*extra[2] = { hdr, NULL };
	const char	*rep;

	tenant_register(&t, NULL);
	random_hex(rnd, 24);
	snprintf(hdr, sizeof(hdr), "Idempotency-Key: %s", rnd);
	body = user_body("long-password-1");
	r1 = api_post(USERS, t.access, body, extra);
	assert_status(r1, 201);
	ck_assert_ptr_null(resp_header(r1, "Idempotent-Replayed"));
	r2 = api_post(USERS, t.access, body, extra);
	assert_status(r2, 201);
	rep = resp_header(r2, "Idempotent-Replayed");
	ck_assert_msg(rep != NULL && strcmp(rep, "true") == 0,
	    "Idempotent-Replayed: %s", rep != NULL ? rep : "(none)");
	ck_assert_str_eq(r1->body, r2->body);
	resp_free(r1);
	resp_free(r2);
	/* The user was created once. */
	ck_assert_uint_eq(team_size(t.access), 2);
	free(body);

	/* Same key, different body. */
	body = user_body("long-password-2");
	r1 = api_post(USERS, t.access, body, extra);
	assert_error(r1, 400, "idempotency_error", NULL, NULL);
	resp_free(r1);
	free(body);
	ck_assert_uint_eq(team_size(t.access), 2);
	tenant_free(&t);
}
END_TEST

START_TEST(idempotency_key_length)
{
	struct tenant	 t;
	struct resp	*r;
	char		 hdr[300], *body;
	const char	*extra[2] = { hdr, NULL };

	tenant_register(&t, NULL);
	body = user_body("long-password-1");
	snprintf(hdr, sizeof(hdr), "Idempotency-Key: ");
	random_hex(hdr + strlen(hdr), 64);
	memset(hdr + strlen(hdr), 'k', 256 - 64);
	hdr[strlen("Idempotency-Key: ") + 256] = '\0';
	ck_assert_uint_eq(strlen(hdr), strlen("Idempotency-Key: ") + 256);
	r = api_post(USERS, t.access, body, extra);
	assert_status(r, 400);
	resp_free(r);
	ck_assert_uint_eq(team_size(t.access), 1);
	/* 255 characters are fine. */
	hdr[strlen(hdr) - 1] = '\0';
	r = api_post(USERS, t.access, body, extra);
	assert_status(r, 201);
	resp_free(r);
	free(body);
	tenant_free(&t);
}
END_TEST

START_TEST(idempotency_failure_not_stored)
{
	struct tenant	 t;
	struct resp	*r;
	char		 hdr[100], rnd[25], *bad, *good;
	const char	*extra[2] = { hdr, NULL };

	tenant_register(&t, NULL);
	random_hex(rnd, 24);
	snprintf(hdr, sizeof(hdr), "Idempotency-Key: %s", rnd);
	bad = user_body("short");
	r = api_post(USERS, t.access, bad, extra);
	assert_error(r, 400, "invalid_request_error", "parameter_invalid",
	    "password");
	resp_free(r);
	/* The same failing request runs afresh (no replay header). */
	r = api_post(USERS, t.access, bad, extra);
	assert_error(r, 400, "invalid_request_error", "parameter_invalid",
	    "password");
	ck_assert_ptr_null(resp_header(r, "Idempotent-Replayed"));
	resp_free(r);
	/* A corrected body under the same key succeeds. */
	good = user_body("long-password-1");
	r = api_post(USERS, t.access, good, extra);
	assert_status(r, 201);
	ck_assert_ptr_null(resp_header(r, "Idempotent-Replayed"));
	resp_free(r);
	ck_assert_uint_eq(team_size(t.access), 2);
	free(bad);
	free(good);
	tenant_free(&t);
}
END_TEST

START_TEST(idempotency_per_tenant)
{
	struct tenant	 a, b;
	struct resp	*r;
	char		 hdr[100], rnd[25], *body;
	const char	*extra[2] = { hdr, NULL };

	tenant_register(&a, NULL);
	tenant_register(&b, NULL);
	random_hex(rnd, 24);
	snprintf(hdr, sizeof(hdr), "Idempotency-Key: %s", rnd);
	body = user_body("long-password-1");
	r = api_post(USERS, a.access, body, extra);
	assert_status(r, 201);
	resp_free(r);
	free(body);
	/* Another tenant's use of the same key is independent. */
	body = user_body("long-password-1");
	r = api_post(USERS, b.access, body, extra);
	assert_status(r, 201);
	ck_assert_ptr_null(resp_header(r, "Idempotent-Replayed"));
	resp_free(r);
	free(body);
	ck_assert_uint_eq(team_size(b.access), 2);
	tenant_free(&a);
	tenant_free(&b);
}
END_TEST

START_TEST(server_still_up)
{
	struct resp	*r;

	r = api_get("/healthz", NULL, NULL);
	assert_status(r, 200);
	assert_jstr(r->json, "status", "ok");
	resp_free(r);
	r = api_get("/readyz", NULL, NULL);
	assert_status(r, 200);
	resp_free(r);
}
END_TEST

Suite *
suite_http(void)
{
	Suite	*s;
	TCase	*tc;

	s = suite_create("http");
	tc = api_tcase("conventions");
	tcase_add_test(tc, request_id_everywhere);
	tcase_add_test(tc, unknown_path_404);
	tcase_add_test(tc, wrong_method_405);
	tcase_add_test(tc, trailing_slash);
	tcase_add_test(tc, content_type_415);
	tcase_add_test(tc, ops_endpoints);
	suite_add_tcase(s, tc);
	tc = api_tcase("json");
	tcase_add_test(tc, malformed_json);
	tcase_add_test(tc, json_too_deep);
	tcase_add_test(tc, json_duplicate_keys);
	tcase_add_test(tc, json_invalid_utf8);
	tcase_add_test(tc, json_nul_escape);
	tcase_add_test(tc, body_too_large);
	tcase_add_test(tc, long_string_param);
	suite_add_tcase(s, tc);
	tc = api_tcase("idempotency");
	tcase_add_test(tc, idempotency_replay);
	tcase_add_test(tc, idempotency_key_length);
	tcase_add_test(tc, idempotency_failure_not_stored);
	tcase_add_test(tc, idempotency_per_tenant);
	suite_add_tcase(s, tc);
	return s;
}

/* Runs last: the server survived everything above. */
Suite *
suite_final(void)
{
	Suite	*s;
	TCase	*tc;

	s = suite_create("final");
	tc = api_tcase("alive");
	tcase_add_test(tc, server_still_up);
	suite_add_tcase(s, tc);
	return s;
}
