/*
 * Platform admin (API.md "Platform admin"): login, token scope, tenant
 * list/get/patch (fee, activation) and platform metrics. The admin account
 * comes from BILLOW_ADMIN_EMAIL / BILLOW_ADMIN_PASSWORD (made by the test
 * script with `billow admin create`); nothing is created here.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"

#define ADMIN_TENANTS	"/api/v1/admin/tenants"

static const char *
admin_env(const char *name)
{
	const char	*v = getenv(name);

	ck_assert_msg(v != NULL && *v != '\0', "%s is not set: the admin "
	    "tests need a platform admin made with `billow admin create`",
	    name);
	return v;
}

static struct resp *
admin_login_resp(const char *email, const char *password)
{
	struct resp	*r;
	json_t		*b;
	char		*s;

	b = json_pack("{s:s, s:s}", "email", email, "password", password);
	s = json_dumps(b, JSON_COMPACT);
	json_decref(b);
	r = api_post("/api/v1/admin/login", NULL, s, NULL);
	free(s);
	return r;
}

static char *
admin_token(void)
{
	struct resp	*r;
	char		*tok;

	r = admin_login_resp(admin_env("BILLOW_ADMIN_EMAIL"),
	    admin_env("BILLOW_ADMIN_PASSWORD"));
	assert_status(r, 200);
	ck_assert_ptr_nonnull(jstr(r->json, "tokens.access"));
	tok = strdup(jstr(r->json, "tokens.access"));
	resp_free(r);
	return tok;
}

static struct resp *
admin_patch(const char *tok, const char *tenant, const char *json)
{
	char	path[200];

	snprintf(path, sizeof(path), ADMIN_TENANTS "/%s", tenant);
	return api_patch(path, tok, json, NULL);
}

START_TEST(admin_wrong_password)
{
	struct resp	*r, *r2;
	char		 email[128];

	r = admin_login_resp(admin_env("BILLOW_ADMIN_EMAIL"),
	    "not-the-admin-password");
	assert_error(r, 401, "authentication_error", "invalid_credentials",
	    NULL);
	ck_assert_ptr_null(jget(r->json, "tokens"));
	unique_email(email, sizeof(email), "noadmin");
	r2 = admin_login_resp(email, "not-the-admin-password");
	assert_error(r2, 401, "authentication_error", "invalid_credentials",
	    NULL);
	ck_assert(json_equal(r->json, r2->json));
	resp_free(r);
	resp_free(r2);
	/* A tenant owner is not a platform admin. */
	{
		struct tenant	t;

		tenant_register(&t, NULL);
		r = admin_login_resp(t.email, t.password);
		assert_error(r, 401, "authentication_error", NULL, NULL);
		resp_free(r);
		tenant_free(&t);
	}
	/* The right password still works (and clears the failure count). */
	free(admin_token());
}
END_TEST

START_TEST(admin_token_scope)
{
	struct tenant	 t;
	struct resp	*r;
	char		*tok;

	tenant_register(&t, NULL);
	tok = admin_token();
	r = api_get(ADMIN_TENANTS, t.access, NULL);
	assert_error(r, 403, "permission_error", NULL, NULL);
	resp_free(r);
	r = api_get(ADMIN_TENANTS, t.sk_live, NULL);
	assert_error(r, 403, "permission_error", NULL, NULL);
	resp_free(r);
	r = api_get(ADMIN_TENANTS, NULL, NULL);
	assert_error(r, 401, "authentication_error", NULL, NULL);
	resp_free(r);
	r = api_get("/api/v1/auth/tenants/details", tok, NULL);
	assert_error(r, 403, "permission_error", NULL, NULL);
	resp_free(r);
	r = api_get("/api/v1/auth/tenants/users", tok, NULL);
	assert_error(r, 403, "permission_error", NULL, NULL);
	resp_free(r);
	free(tok);
	tenant_free(&t);
}
END_TEST

START_TEST(admin_list_and_get)
{
	struct tenant	 t;
	struct resp	*r;
	json_t		*v;
	size_t		 i;
	char		 path[200], *tok;
	int		 found = 0;

	tenant_register(&t, NULL);
	tok = admin_token();
	r = api_get(ADMIN_TENANTS "?limit=100", tok, NULL);
	assert_status(r, 200);
	assert_jstr(r->json, "object", "list");
	json_array_foreach(json_object_get(r->json, "data"), i, v)
		if (jstr(v, "id") != NULL && strcmp(jstr(v, "id"), t.id) == 0)
			found = 1;
	ck_assert_msg(found, "new tenant %s not in the admin list", t.id);
	ck_assert_ptr_null(strstr(r->body, t.sk_live));
	ck_assert_ptr_null(strstr(r->body, t.sk_test));
	ck_assert_ptr_null(strstr(r->body, t.webhook_secret));
	resp_free(r);

	snprintf(path, sizeof(path), ADMIN_TENANTS "/%s", t.id);
	r = api_get(path, tok, NULL);
	assert_status(r, 200);
	assert_jstr(r->json, "id", t.id);
	assert_jstr(r->json, "email", t.email);
	assert_jstr(r->json, "platform_fee_percentage", "15.00");
	ck_assert_ptr_null(strstr(r->body, "sk_live_"));
	ck_assert_ptr_null(strstr(r->body, "sk_test_"));
	resp_free(r);

	r = api_get(ADMIN_TENANTS "/ten_doesnotexist000000000000", tok, NULL);
	assert_error(r, 404, "invalid_request_error", NULL, NULL);
	resp_free(r);
	r = api_get(ADMIN_TENANTS "?limit=0", tok, NULL);
	assert_error(r, 400, "invalid_request_error", NULL, "limit");
	resp_free(r);
	free(tok);
	tenant_free(&t);
}
END_TEST

START_TEST(admin_patch_fee)
{
	static const char *const bad[] = {
		"{\"platform_fee_percentage\":\"101\"}",
		"{\"platform_fee_percentage\":\"12.345\"}",
		"{\"platform_fee_percentage\":\"-1\"}",
		"{\"platform_fee_percentage\":\"abc\"}",
		"{\"platform_fee_percentage\":\"\"}",
		"{\"platform_fee_percentage\":12.5}",
		"{\"is_active\":\"no\"}",
		"{\"owner\":\"me\"}",
	};
	struct tenant	 t;
	struct resp	*r;
	char		*tok;
	size_t		 i;

	tenant_register(&t, NULL);
	tok = admin_token();
	r = admin_patch(tok, t.id, "{\"platform_fee_percentage\":\"12.50\"}");
	assert_status(r, 200);
	assert_jstr(r->json, "platform_fee_percentage", "12.50");
	resp_free(r);
	r = api_get("/api/v1/auth/tenants/details", t.access, NULL);
	assert_status(r, 200);
	assert_jstr(r->json, "platform_fee_percentage", "12.50");
	resp_free(r);
	r = admin_patch(tok, t.id, "{\"platform_fee_percentage\":\"7.5\"}");
	assert_status(r, 200);
	assert_jstr(r->json, "platform_fee_percentage", "7.50");
	resp_free(r);

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		r = admin_patch(tok, t.id, bad[i]);
		ck_assert_msg(r->status == 400, "PATCH %s: expected 400, got "
		    "%ld: %s", bad[i], r->status, r->body);
		assert_error(r, 400, "invalid_request_error", NULL, NULL);
		resp_free(r);
	}
	r = api_get("/api/v1/auth/tenants/details", t.sk_test, NULL);
	assert_jstr(r->json, "platform_fee_percentage", "7.50");
	resp_free(r);

	r = admin_patch(tok, "ten_doesnotexist000000000000",
	    "{\"platform_fee_percentage\":\"1\"}");
	assert_error(r, 404, "invalid_request_error", NULL, NULL);
	resp_free(r);
	free(tok);
	tenant_free(&t);
}
END_TEST

static long
status_of(struct resp *r)
{
	long	st = r->status;

	resp_free(r);
	return st;
}

START_TEST(admin_deactivate)
{
	struct tenant	 t;
	struct resp	*r;
	char		*tok;

	tenant_register(&t, NULL);
	tok = admin_token();
	/* Warm every cache with the credentials first. */
	ck_assert_int_eq(status_of(api_get("/api/v1/auth/tenants/verify",
	    t.sk_test, NULL)), 200);
	ck_assert_int_eq(status_of(api_get("/api/v1/auth/tenants/verify",
	    t.pk_live, NULL)), 200);
	ck_assert_int_eq(status_of(api_get("/api/v1/auth/tenants/details",
	    t.access, NULL)), 200);

	r = admin_patch(tok, t.id, "{\"is_active\":false}");
	assert_status(r, 200);
	ck_assert(json_is_false(json_object_get(r->json, "is_active")));
	resp_free(r);
	r = api_get("/api/v1/auth/tenants/verify", t.sk_test, NULL);
	assert_error(r, 401, "authentication_error", NULL, NULL);
	resp_free(r);
	r = api_get("/api/v1/auth/tenants/verify", t.pk_live, NULL);
	assert_error(r, 401, "authentication_error", NULL, NULL);
	resp_free(r);
	r = api_get("/api/v1/auth/tenants/details", t.access, NULL);
	assert_error(r, 401, "authentication_error", NULL, NULL);
	resp_free(r);
	r = api_login(t.email, t.password);
	assert_status(r, 401);
	resp_free(r);
	{
		char	*body;

		if (asprintf(&body, "{\"refresh\":\"%s\"}", t.refresh) == -1)
			ck_abort_msg("out of memory");
		r = api_post("/api/v1/auth/tenants/token/refresh", NULL, body,
		    NULL);
		free(body);
		assert_error(r, 401, "authentication_error", NULL, NULL);
		resp_free(r);
	}

	r = admin_patch(tok, t.id, "{\"is_active\":true}");
	assert_status(r, 200);
	ck_assert(json_is_true(json_object_get(r->json, "is_active")));
	resp_free(r);
	ck_assert_int_eq(status_of(api_get("/api/v1/auth/tenants/verify",
	    t.sk_test, NULL)), 200);
	ck_assert_int_eq(status_of(api_get("/api/v1/auth/tenants/details",
	    t.access, NULL)), 200);
	ck_assert_int_eq(status_of(api_login(t.email, t.password)), 200);
	free(tok);
	tenant_free(&t);
}
END_TEST

START_TEST(admin_metrics)
{
	struct tenant	 t;
	struct resp	*r;
	char		*tok;
	json_t		*n;

	tenant_register(&t, NULL);
	tok = admin_token();
	r = api_get("/api/v1/admin/metrics", tok, NULL);
	assert_status(r, 200);
	n = json_object_get(r->json, "tenants");
	ck_assert_msg(json_is_integer(n) && json_integer_value(n) >= 1,
	    "tenants: %s", r->body);
	resp_free(r);
	r = api_get("/api/v1/admin/metrics", t.access, NULL);
	assert_error(r, 403, "permission_error", NULL, NULL);
	resp_free(r);
	free(tok);
	tenant_free(&t);
}
END_TEST

Suite *
suite_admin(void)
{
	Suite	*s;
	TCase	*tc;

	s = suite_create("admin");
	tc = api_tcase("admin");
	tcase_add_test(tc, admin_wrong_password);
	tcase_add_test(tc, admin_token_scope);
	tcase_add_test(tc, admin_list_and_get);
	tcase_add_test(tc, admin_patch_fee);
	tcase_add_test(tc, admin_deactivate);
	tcase_add_test(tc, admin_metrics);
	suite_add_tcase(s, tc);
	return s;
}
