/*
 * Registration, login, verify, me, details (views and PATCH), refresh
 * rotation with reuse detection, logout and change-password
 * (API.md "Authentication", "Tenants and team").
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"

#define REGISTER	"/api/v1/auth/tenants/register"
#define DETAILS		"/api/v1/auth/tenants/details"
#define REFRESH		"/api/v1/auth/tenants/token/refresh"

static char *
refresh_body(const char *token)
{
	char	*s;

	if (asprintf(&s, "{\"refresh\":\"%s\"}", token) == -1)
		ck_abort_msg("out of memory");
	return s;
}

static struct resp *
do_refresh(const char *token)
{
	struct resp	*r;
	char		*s = refresh_body(token);

	r = api_post(REFRESH, NULL, s, NULL);
	free(s);
	return r;
}

static struct resp *
register_json(const char *fmt, const char *email)
{
	struct resp	*r;
	char		*s;

	if (asprintf(&s, fmt, email) == -1)
		ck_abort_msg("out of memory");
	r = api_post(REGISTER, NULL, s, NULL);
	free(s);
	return r;
}

START_TEST(register_success_shape)
{
	struct tenant	 t;
	json_t		*tn, *u;

	tenant_register(&t, NULL);
	assert_jstr(t.reg, "message", "Tenant registered successfully");
	tn = json_object_get(t.reg, "tenant");
	ck_assert(json_is_object(tn));
	ck_assert(strncmp(t.id, "ten_", 4) == 0);
	assert_jstr(tn, "company_name", t.company);
	assert_jstr(tn, "email", t.email);
	ck_assert(json_object_get(tn, "domain") != NULL);
	ck_assert(strncmp(t.pk_live, "pk_live_", 8) == 0);
	ck_assert(strncmp(t.sk_live, "sk_live_", 8) == 0);
	ck_assert(strncmp(t.pk_test, "pk_test_", 8) == 0);
	ck_assert(strncmp(t.sk_test, "sk_test_", 8) == 0);
	ck_assert(strncmp(t.webhook_secret, "whsec_", 6) == 0);
	assert_jstr(tn, "platform_fee_percentage", "15.00");
	assert_jstr(tn, "subscription_tier", "free");
	ck_assert(json_is_true(json_object_get(tn, "is_test_mode")));
	ck_assert(json_is_true(json_object_get(tn, "is_active")));
	assert_jstr(tn, "stripe_connect_status", "pending");
	ck_assert(json_is_object(json_object_get(tn, "branding_json")));
	ck_assert_uint_eq(json_object_size(json_object_get(tn,
	    "branding_json")), 0);
	ck_assert(t.slug[0] != '\0');

	u = json_object_get(t.reg, "user");
	ck_assert(strncmp(t.user_id, "usr_", 4) == 0);
	assert_jstr(u, "email", t.email);
	assert_jstr(u, "first_name", "Olive");
	assert_jstr(u, "last_name", "Owner");
	assert_jstr(u, "role", "owner");
	ck_assert(strncmp(t.access, "eyJ", 3) == 0);
	ck_assert(strncmp(t.refresh, "eyJ", 3) == 0);
	ck_assert_str_ne(t.access, t.refresh);
	tenant_free(&t);
}
END_TEST

START_TEST(register_password_short)
{
	struct resp	*r;
	char		 email[128];

	unique_email(email, sizeof(email), "short");
	r = register_json("{\"company_name\":\"Shorty\",\"email\":\"%s\","
	    "\"password\":\"123456789\"}", email);
	assert_error(r, 400, "invalid_request_error", "parameter_invalid",
	    "password");
	resp_free(r);
	/* Nothing was created: the email is still free. */
	r = register_json("{\"company_name\":\"Shorty\",\"email\":\"%s\","
	    "\"password\":\"1234567890\"}", email);
	assert_status(r, 201);
	resp_free(r);
}
END_TEST

START_TEST(register_missing_email)
{
	struct resp	*r;

	r = api_post(REGISTER, NULL, "{\"company_name\":\"No Email\","
	    "\"password\":\"long-enough-password\"}", NULL);
	assert_error(r, 400, "invalid_request_error", "parameter_missing",
	    "email");
	resp_free(r);
}
END_TEST

START_TEST(register_invalid_email)
{
	struct resp	*r;

	r = api_post(REGISTER, NULL, "{\"company_name\":\"Bad Email\","
	    "\"email\":\"not-an-email\",\"password\":\"long-enough-pw\"}",
	    NULL);
	assert_error(r, 400, "invalid_request_error", "parameter_invalid",
	    "email");
	resp_free(r);
}
END_TEST

START_TEST(register_email_taken)
{
	struct tenant	 t;
	struct resp	*r;
	char		 upper[128];
	size_t		 i;

	tenant_register(&t, NULL);
	r = register_json("{\"company_name\":\"Other Co\",\"email\":\"%s\","
	    "\"password\":\"long-enough-pw\"}", t.email);
	assert_error(r, 409, "invalid_request_error", NULL, NULL);
	resp_free(r);
	/* Emails compare without case. */
	for (i = 0; t.email[i] != '\0' && i + 1 < sizeof(upper); i++)
		upper[i] = (char)(t.email[i] >= 'a' && t.email[i] <= 'z' ?
		    t.email[i] - 32 : t.email[i]);
	upper[i] = '\0';
	r = register_json("{\"company_name\":\"Other Co\",\"email\":\"%s\","
	    "\"password\":\"long-enough-pw\"}", upper);
	assert_error(r, 409, "invalid_request_error", NULL, NULL);
	resp_free(r);
	tenant_free(&t);
}
END_TEST

START_TEST(register_slug_suffix)
{
	struct tenant	 a, b, c;
	char		 company[64], rnd[11], want[128];

	random_hex(rnd, 10);
	snprintf(company, sizeof(company), "Slug Co %s", rnd);
	tenant_register(&a, company);
	tenant_register(&b, company);
	tenant_register(&c, company);
	snprintf(want, sizeof(want), "slug-co-%s", rnd);
	ck_assert_str_eq(a.slug, want);
	snprintf(want, sizeof(want), "slug-co-%s-2", rnd);
	ck_assert_str_eq(b.slug, want);
	snprintf(want, sizeof(want), "slug-co-%s-3", rnd);
	ck_assert_str_eq(c.slug, want);
	tenant_free(&a);
	tenant_free(&b);
	tenant_free(&c);
}
END_TEST

START_TEST(register_unknown_field)
{
	struct resp	*r;
	char		 email[128];

	unique_email(email, sizeof(email), "unknown");
	r = register_json("{\"company_name\":\"U Co\",\"email\":\"%s\","
	    "\"password\":\"long-enough-pw\",\"plan\":\"gold\"}", email);
	assert_error(r, 400, "invalid_request_error", "parameter_unknown",
	    "plan");
	resp_free(r);
}
END_TEST

START_TEST(register_wrong_type)
{
	struct resp	*r;
	char		 email[128];

	unique_email(email, sizeof(email), "wrongtype");
	r = register_json("{\"company_name\":5,\"email\":\"%s\","
	    "\"password\":\"long-enough-pw\"}", email);
	assert_error(r, 400, "invalid_request_error", "parameter_invalid",
	    "company_name");
	resp_free(r);
	/* A number where a string is due is never coerced, nor is a bool. */
	r = register_json("{\"company_name\":\"T Co\",\"email\":\"%s\","
	    "\"password\":1234567890123}", email);
	assert_error(r, 400, "invalid_request_error", "parameter_invalid",
	    "password");
	resp_free(r);
}
END_TEST

START_TEST(login_success_shape)
{
	struct tenant	 t;
	struct resp	*r;

	tenant_register(&t, NULL);
	r = api_login(t.email, t.password);
	assert_status(r, 200);
	assert_jstr(r->json, "user.id", t.user_id);
	assert_jstr(r->json, "user.role", "owner");
	assert_jstr(r->json, "user.email", t.email);
	assert_jstr(r->json, "tenant.id", t.id);
	ck_assert_ptr_nonnull(jstr(r->json, "tokens.access"));
	ck_assert_ptr_nonnull(jstr(r->json, "tokens.refresh"));
	/* Secrets are shown in full only when created. */
	ck_assert_ptr_null(strstr(r->body, t.sk_test));
	ck_assert_ptr_null(strstr(r->body, t.sk_live));
	ck_assert_ptr_null(strstr(r->body, t.webhook_secret));
	ck_assert_ptr_null(strstr(r->body, "password"));
	resp_free(r);
	tenant_free(&t);
}
END_TEST

START_TEST(login_failures_identical)
{
	struct tenant	 t;
	struct resp	*r1, *r2;
	char		 email[128];

	tenant_register(&t, NULL);
	unique_email(email, sizeof(email), "nobody");
	r1 = api_login(t.email, "wrong-password-123");
	r2 = api_login(email, "wrong-password-123");
	assert_error(r1, 401, "authentication_error", "invalid_credentials",
	    NULL);
	assert_error(r2, 401, "authentication_error", "invalid_credentials",
	    NULL);
	ck_assert_msg(json_equal(r1->json, r2->json), "wrong password and "
	    "unknown email differ: %s vs %s", r1->body, r2->body);
	resp_free(r1);
	resp_free(r2);
	tenant_free(&t);
}
END_TEST

static void
check_verify(const char *key, const struct tenant *t, const char *mode,
    const char *type)
{
	struct resp	*r;

	r = api_get("/api/v1/auth/tenants/verify", key, NULL);
	assert_status(r, 200);
	ck_assert(json_is_true(json_object_get(r->json, "valid")));
	assert_jstr(r->json, "tenant.id", t->id);
	assert_jstr(r->json, "tenant.slug", t->slug);
	assert_jstr(r->json, "tenant.company_name", t->company);
	assert_jstr(r->json, "mode", mode);
	assert_jstr(r->json, "key_type", type);
	resp_free(r);
}

START_TEST(verify_keys)
{
	struct tenant	 t;
	struct resp	*r;
	char		 hdr[200];
	const char	*extra[2] = { hdr, NULL };

	tenant_register(&t, NULL);
	check_verify(t.sk_test, &t, "test", "secret");
	check_verify(t.pk_test, &t, "test", "publishable");
	check_verify(t.sk_live, &t, "live", "secret");
	check_verify(t.pk_live, &t, "live", "publishable");
	/* X-API-Key works as well as Authorization: Bearer. */
	snprintf(hdr, sizeof(hdr), "X-API-Key: %s", t.sk_live);
	r = api_get("/api/v1/auth/tenants/verify", NULL, extra);
	assert_status(r, 200);
	assert_jstr(r->json, "mode", "live");
	resp_free(r);
	tenant_free(&t);
}
END_TEST

START_TEST(verify_bogus_and_missing)
{
	struct resp	*r;

	r = api_get("/api/v1/auth/tenants/verify",
	    "sk_test_0000000000000000000000000000bogus", NULL);
	assert_error(r, 401, "authentication_error", NULL, NULL);
	resp_free(r);
	r = api_get("/api/v1/auth/tenants/verify", "eyJnot.a.jwt", NULL);
	assert_error(r, 401, "authentication_error", NULL, NULL);
	resp_free(r);
	r = api_get("/api/v1/auth/tenants/verify", NULL, NULL);
	assert_error(r, 401, "authentication_error", NULL, NULL);
	resp_free(r);
	r = api_get(DETAILS, NULL, NULL);
	assert_error(r, 401, "authentication_error", NULL, NULL);
	resp_free(r);
}
END_TEST

START_TEST(me_with_jwt)
{
	struct tenant	 t;
	struct resp	*r;

	tenant_register(&t, NULL);
	r = api_get("/api/v1/auth/tenants/me", t.access, NULL);
	assert_status(r, 200);
	assert_jstr(r->json, "user.id", t.user_id);
	assert_jstr(r->json, "user.email", t.email);
	assert_jstr(r->json, "user.role", "owner");
	assert_jstr(r->json, "tenant.id", t.id);
	ck_assert_ptr_null(strstr(r->body, "sk_test_"));
	ck_assert_ptr_null(strstr(r->body, "sk_live_"));
	resp_free(r);
	/* me is for dashboard users; an API key is refused. */
	r = api_get("/api/v1/auth/tenants/me", t.sk_test, NULL);
	ck_assert_msg(r->status == 403 || r->status == 401, "me with a key: "
	    "%ld", r->status);
	resp_free(r);
	tenant_free(&t);
}
END_TEST

static void
assert_no_secrets(const struct resp *r, const struct tenant *t)
{
	ck_assert_msg(strstr(r->body, "sk_test_") == NULL &&
	    strstr(r->body, "sk_live_") == NULL, "secret key in %s",
	    r->body);
	ck_assert_msg(strstr(r->body, t->sk_test) == NULL &&
	    strstr(r->body, t->sk_live) == NULL &&
	    strstr(r->body, t->webhook_secret) == NULL, "secret in %s",
	    r->body);
	ck_assert_ptr_null(json_object_get(r->json, "api_key_secret"));
	ck_assert_ptr_null(json_object_get(r->json, "api_key_test_secret"));
	ck_assert_ptr_null(json_object_get(r->json, "webhook_secret"));
}

START_TEST(details_publishable)
{
	struct tenant	 t;
	struct resp	*r;

	tenant_register(&t, NULL);
	r = api_get(DETAILS, t.pk_test, NULL);
	assert_status(r, 200);
	assert_jstr(r->json, "id", t.id);
	assert_jstr(r->json, "company_name", t.company);
	assert_no_secrets(r, &t);
	ck_assert_ptr_null(json_object_get(r->json, "email"));
	ck_assert_msg(strstr(r->body, t.email) == NULL, "owner email leaked "
	    "to a publishable key: %s", r->body);
	ck_assert_msg(strstr(r->body, "last4") == NULL, "secret last4 shown "
	    "to a publishable key: %s", r->body);
	ck_assert_ptr_null(json_object_get(r->json, "platform_fee_percentage"));
	resp_free(r);
	tenant_free(&t);
}
END_TEST

START_TEST(details_secret)
{
	struct tenant	 t;
	struct resp	*r;
	const char	*l4;

	tenant_register(&t, NULL);
	r = api_get(DETAILS, t.sk_test, NULL);
	assert_status(r, 200);
	assert_jstr(r->json, "id", t.id);
	assert_jstr(r->json, "email", t.email);
	assert_no_secrets(r, &t);
	l4 = jstr(r->json, "api_key_secret_last4");
	ck_assert_msg(l4 != NULL && strlen(l4) == 4 &&
	    strcmp(l4, t.sk_live + strlen(t.sk_live) - 4) == 0,
	    "api_key_secret_last4 %s", l4 != NULL ? l4 : "(missing)");
	assert_jstr(r->json, "platform_fee_percentage", "15.00");
	resp_free(r);
	tenant_free(&t);
}
END_TEST

START_TEST(details_jwt)
{
	struct tenant	 t;
	struct resp	*r;

	tenant_register(&t, NULL);
	r = api_get(DETAILS, t.access, NULL);
	assert_status(r, 200);
	assert_jstr(r->json, "id", t.id);
	assert_jstr(r->json, "email", t.email);
	assert_jstr(r->json, "slug", t.slug);
	assert_no_secrets(r, &t);
	ck_assert_ptr_nonnull(jstr(r->json, "api_key_secret_last4"));
	resp_free(r);
	tenant_free(&t);
}
END_TEST

START_TEST(details_patch_owner)
{
	struct tenant	 t;
	struct resp	*r;
	json_t		*d;

	tenant_register(&t, NULL);
	r = api_patch(DETAILS, t.access, "{\"dunning_retry_days\":[2,4,8],"
	    "\"dunning_final_action\":\"unpaid\",\"is_test_mode\":false,"
	    "\"branding_json\":{\"color\":\"#112233\",\"logo\":\"x.png\"}}",
	    NULL);
	assert_status(r, 200);
	d = json_object_get(r->json, "dunning_retry_days");
	ck_assert(json_is_array(d) && json_array_size(d) == 3);
	ck_assert_int_eq(json_integer_value(json_array_get(d, 0)), 2);
	ck_assert_int_eq(json_integer_value(json_array_get(d, 2)), 8);
	assert_jstr(r->json, "dunning_final_action", "unpaid");
	ck_assert(json_is_false(json_object_get(r->json, "is_test_mode")));
	assert_jstr(r->json, "branding_json.color", "#112233");
	resp_free(r);
	/* A fresh read shows the stored values. */
	r = api_get(DETAILS, t.access, NULL);
	assert_status(r, 200);
	assert_jstr(r->json, "dunning_final_action", "unpaid");
	ck_assert(json_is_false(json_object_get(r->json, "is_test_mode")));
	assert_jstr(r->json, "branding_json.logo", "x.png");
	ck_assert_int_eq(json_integer_value(jget(r->json,
	    "dunning_retry_days.1")), 4);
	resp_free(r);
	tenant_free(&t);
}
END_TEST

START_TEST(details_patch_bad_values)
{
	static const char *const bad[] = {
		"{\"dunning_retry_days\":[3,2]}",
		"{\"dunning_retry_days\":[1,1]}",
		"{\"dunning_retry_days\":[0]}",
		"{\"dunning_retry_days\":[61]}",
		"{\"dunning_retry_days\":[1,2,3,4,5]}",
		"{\"dunning_retry_days\":[]}",
		"{\"dunning_retry_days\":[1.5]}",
		"{\"dunning_retry_days\":\"1,2\"}",
		"{\"dunning_final_action\":\"explode\"}",
		"{\"is_test_mode\":\"yes\"}",
		"{\"branding_json\":\"red\"}",
		"{\"webhook_url\":\"ftp://example.test/hook\"}",
		"{\"nope\":1}",
	};
	struct tenant	 t;
	struct resp	*r;
	size_t		 i;

	tenant_register(&t, NULL);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		r = api_patch(DETAILS, t.access, bad[i], NULL);
		ck_assert_msg(r->status == 400, "PATCH %s: expected 400, got "
		    "%ld: %s", bad[i], r->status, r->body);
		assert_error(r, 400, "invalid_request_error", NULL, NULL);
		resp_free(r);
	}
	/* Nothing changed. */
	r = api_get(DETAILS, t.access, NULL);
	assert_status(r, 200);
	assert_jstr(r->json, "dunning_final_action", "cancel");
	ck_assert_int_eq(json_array_size(json_object_get(r->json,
	    "dunning_retry_days")), 4);
	resp_free(r);
	tenant_free(&t);
}
END_TEST

START_TEST(details_patch_with_key)
{
	struct tenant	 t;
	struct resp	*r;

	tenant_register(&t, NULL);
	r = api_patch(DETAILS, t.sk_test, "{\"company_name\":\"Hacked\"}",
	    NULL);
	assert_error(r, 403, "permission_error", NULL, NULL);
	resp_free(r);
	r = api_get(DETAILS, t.access, NULL);
	assert_jstr(r->json, "company_name", t.company);
	resp_free(r);
	tenant_free(&t);
}
END_TEST

START_TEST(refresh_rotation_and_reuse)
{
	struct tenant	 t;
	struct resp	*r;
	char		*r2, *a2;

	tenant_register(&t, NULL);
	r = do_refresh(t.refresh);
	assert_status(r, 200);
	ck_assert_ptr_nonnull(jstr(r->json, "access"));
	ck_assert_ptr_nonnull(jstr(r->json, "refresh"));
	r2 = strdup(jstr(r->json, "refresh"));
	a2 = strdup(jstr(r->json, "access"));
	ck_assert_str_ne(r2, t.refresh);
	resp_free(r);
	/* The new access token works. */
	r = api_get("/api/v1/auth/tenants/me", a2, NULL);
	assert_status(r, 200);
	resp_free(r);
	/* The old refresh token was revoked by the rotation... */
	r = do_refresh(t.refresh);
	assert_error(r, 401, "authentication_error", NULL, NULL);
	resp_free(r);
	/* ...and presenting it again revoked the new one too. */
	r = do_refresh(r2);
	assert_error(r, 401, "authentication_error", NULL, NULL);
	resp_free(r);
	/* A refresh token is not an access token. */
	r = api_get("/api/v1/auth/tenants/me", t.refresh, NULL);
	assert_error(r, 401, "authentication_error", NULL, NULL);
	resp_free(r);
	/* An access token is not a refresh token. */
	r = do_refresh(a2);
	assert_error(r, 401, "authentication_error", NULL, NULL);
	resp_free(r);
	free(r2);
	free(a2);
	tenant_free(&t);
}
END_TEST

START_TEST(logout_revokes)
{
	struct tenant	 t;
	struct resp	*r;
	char		*s;

	tenant_register(&t, NULL);
	s = refresh_body(t.refresh);
	r = api_post("/api/v1/auth/tenants/logout", t.access, s, NULL);
	free(s);
	assert_status(r, 200);
	resp_free(r);
	r = do_refresh(t.refresh);
	assert_error(r, 401, "authentication_error", NULL, NULL);
	resp_free(r);
	tenant_free(&t);
}
END_TEST

START_TEST(change_password)
{
	struct tenant	 t;
	struct resp	*r;
	char		*s;
	const char	*newpw = "a-brand-new-password-42";

	tenant_register(&t, NULL);
	r = api_post("/api/v1/auth/tenants/change-password", t.access,
	    "{\"old_password\":\"definitely-wrong\","
	    "\"new_password\":\"another-long-password\"}", NULL);
	assert_error(r, 400, "invalid_request_error", NULL, "old_password");
	resp_free(r);
	/* The wrong attempt changed nothing. */
	r = api_login(t.email, t.password);
	assert_status(r, 200);
	resp_free(r);

	if (asprintf(&s, "{\"old_password\":\"%s\",\"new_password\":\"%s\"}",
	    t.password, newpw) == -1)
		ck_abort_msg("out of memory");
	r = api_post("/api/v1/auth/tenants/change-password", t.access, s,
	    NULL);
	free(s);
	assert_status(r, 200);
	ck_assert_ptr_nonnull(jstr(r->json, "message"));
	resp_free(r);

	r = api_login(t.email, t.password);
	assert_error(r, 401, "authentication_error", "invalid_credentials",
	    NULL);
	resp_free(r);
	r = api_login(t.email, newpw);
	assert_status(r, 200);
	resp_free(r);
	/* Refresh tokens issued before the change are revoked. */
	r = do_refresh(t.refresh);
	assert_error(r, 401, "authentication_error", NULL, NULL);
	resp_free(r);
	tenant_free(&t);
}
END_TEST

Suite *
suite_auth(void)
{
	Suite	*s;
	TCase	*tc;

	s = suite_create("auth");
	tc = api_tcase("register");
	tcase_add_test(tc, register_success_shape);
	tcase_add_test(tc, register_password_short);
	tcase_add_test(tc, register_missing_email);
	tcase_add_test(tc, register_invalid_email);
	tcase_add_test(tc, register_email_taken);
	tcase_add_test(tc, register_slug_suffix);
	tcase_add_test(tc, register_unknown_field);
	tcase_add_test(tc, register_wrong_type);
	suite_add_tcase(s, tc);

	tc = api_tcase("login");
	tcase_add_test(tc, login_success_shape);
	tcase_add_test(tc, login_failures_identical);
	tcase_add_test(tc, verify_keys);
	tcase_add_test(tc, verify_bogus_and_missing);
	tcase_add_test(tc, me_with_jwt);
	suite_add_tcase(s, tc);

	tc = api_tcase("details");
	tcase_add_test(tc, details_publishable);
	tcase_add_test(tc, details_secret);
	tcase_add_test(tc, details_jwt);
	tcase_add_test(tc, details_patch_owner);
	tcase_add_test(tc, details_patch_bad_values);
	tcase_add_test(tc, details_patch_with_key);
	suite_add_tcase(s, tc);

	tc = api_tcase("sessions");
	tcase_add_test(tc, refresh_rotation_and_reuse);
	tcase_add_test(tc, logout_revokes);
	tcase_add_test(tc, change_password);
	suite_add_tcase(s, tc);
	return s;
}
