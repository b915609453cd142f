/*
 * API keys: rolling (immediate and delayed expiry, who may roll), what a
 * publishable key may call, key modes and the Billow-Mode header
 * (API.md "Authentication", "Tenants and team").
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"

#define ROLL	"/api/v1/auth/tenants/api-keys/roll"
#define VERIFY	"/api/v1/auth/tenants/verify"

/* Rolls a key as ACCESS; returns the new key (strdup'd). */
static char *
roll(const char *access, const char *type, const char *mode, int expire)
{
	struct resp	*r;
	char		*body, *key, prefix[16];

	if (expire >= 0) {
		if (asprintf(&body, "{\"type\":\"%s\",\"mode\":\"%s\","
		    "\"expire_old_in_seconds\":%d}", type, mode, expire) == -1)
			ck_abort_msg("out of memory");
	} else if (asprintf(&body, "{\"type\":\"%s\",\"mode\":\"%s\"}", type,
	    mode) == -1)
		ck_abort_msg("out of memory");
	r = api_post(ROLL, access, body, NULL);
	free(body);
	ck_assert_msg(r->status == 200 || r->status == 201, "roll: %ld %s",
	    r->status, r->body);
	snprintf(prefix, sizeof(prefix), "%s_%s_",
	    strcmp(type, "secret") == 0 ? "sk" : "pk", mode);
	ck_assert_ptr_nonnull(jstr(r->json, "key"));
	ck_assert_msg(strncmp(jstr(r->json, "key"), prefix,
	    strlen(prefix)) == 0, "rolled key %s lacks prefix %s",
	    jstr(r->json, "key"), prefix);
	key = strdup(jstr(r->json, "key"));
	resp_free(r);
	return key;
}

static long
verify_status(const char *key)
{
	struct resp	*r;
	long		 st;

	r = api_get(VERIFY, key, NULL);
	st = r->status;
	if (st != 200 && st != 401)
		ck_abort_msg("verify: unexpected %ld %s", st, r->body);
	resp_free(r);
	return st;
}

START_TEST(roll_secret_immediate)
{
	struct tenant	 t;
	struct resp	*r;
	char		*k;

	tenant_register(&t, NULL);
	/* Warm any key cache with the old key first. */
	ck_assert_int_eq(verify_status(t.sk_test), 200);
	k = roll(t.access, "secret", "test", 0);
	ck_assert_str_ne(k, t.sk_test);
	ck_assert_int_eq(verify_status(t.sk_test), 401);
	ck_assert_int_eq(verify_status(k), 200);
	/* The other keys are untouched. */
	ck_assert_int_eq(verify_status(t.sk_live), 200);
	ck_assert_int_eq(verify_status(t.pk_test), 200);
	/* Details show the new key's last four. */
	r = api_get("/api/v1/auth/tenants/details", t.access, NULL);
	assert_jstr(r->json, "api_key_test_secret_last4", k + strlen(k) - 4);
	resp_free(r);
	free(k);
	tenant_free(&t);
}
END_TEST

START_TEST(roll_secret_delayed)
{
	struct tenant	 t;
	char		*k;

	tenant_register(&t, NULL);
	k = roll(t.access, "secret", "live", 3600);
	ck_assert_int_eq(verify_status(t.sk_live), 200);
	ck_assert_int_eq(verify_status(k), 200);
	free(k);
	tenant_free(&t);
}
END_TEST

START_TEST(roll_publishable)
{
	struct tenant	 t;
	struct resp	*r;
	char		*k;

	tenant_register(&t, NULL);
	k = roll(t.access, "publishable", "test", 0);
	ck_assert_int_eq(verify_status(t.pk_test), 401);
	ck_assert_int_eq(verify_status(k), 200);
	r = api_get("/api/v1/auth/tenants/details", k, NULL);
	assert_status(r, 200);
	assert_jstr(r->json, "api_key_test_public", k);
	resp_free(r);
	free(k);
	tenant_free(&t);
}
END_TEST

START_TEST(roll_bad_params)
{
	struct tenant	 t;
	struct resp	*r;

	tenant_register(&t, NULL);
	r = api_post(ROLL, t.access, "{\"type\":\"secret\",\"mode\":\"test\","
	    "\"expire_old_in_seconds\":604801}", NULL);
	assert_error(r, 400, "invalid_request_error", "parameter_invalid",
	    "expire_old_in_seconds");
	resp_free(r);
	r = api_post(ROLL, t.access, "{\"type\":\"master\",\"mode\":\"test\"}",
	    NULL);
	assert_error(r, 400, "invalid_request_error", "parameter_invalid",
	    "type");
	resp_free(r);
	r = api_post(ROLL, t.access, "{\"type\":\"secret\"}", NULL);
	assert_error(r, 400, "invalid_request_error", "parameter_missing",
	    "mode");
	resp_free(r);
	/* None of it rolled anything. */
	ck_assert_int_eq(verify_status(t.sk_test), 200);
	tenant_free(&t);
}
END_TEST

START_TEST(roll_forbidden)
{
	struct tenant	 t;
	struct resp	*r;
	char		 email[128], *uid, *admin;
	const char	*body = "{\"type\":\"secret\",\"mode\":\"test\","
			    "\"expire_old_in_seconds\":0}";

	tenant_register(&t, NULL);
	uid = team_add(t.access, "admin", email, sizeof(email),
	    "admin-password-1");
	admin = login_access(email, "admin-password-1");
	r = api_post(ROLL, admin, body, NULL);
	assert_error(r, 403, "permission_error", NULL, NULL);
	resp_free(r);
	r = api_post(ROLL, t.sk_test, body, NULL);
	assert_error(r, 403, "permission_error", NULL, NULL);
	resp_free(r);
	r = api_post(ROLL, t.pk_test, body, NULL);
	assert_error(r, 403, "permission_error", NULL, NULL);
	resp_free(r);
	/* The key still works: nothing was rolled. */
	ck_assert_int_eq(verify_status(t.sk_test), 200);
	free(admin);
	free(uid);
	tenant_free(&t);
}
END_TEST

START_TEST(publishable_limits)
{
	struct tenant	 t;
	struct resp	*r;

	tenant_register(&t, NULL);
	r = api_patch("/api/v1/auth/tenants/details", t.pk_test,
	    "{\"company_name\":\"Nope\"}", NULL);
	assert_error(r, 403, "permission_error", NULL, NULL);
	resp_free(r);
	r = api_get("/api/v1/auth/tenants/users", t.pk_live, NULL);
	assert_error(r, 403, "permission_error", NULL, NULL);
	resp_free(r);
	r = api_post("/api/v1/auth/tenants/users", t.pk_test,
	    "{\"email\":\"x@example.test\",\"password\":\"long-password\","
	    "\"role\":\"admin\"}", NULL);
	assert_error(r, 403, "permission_error", NULL, NULL);
	resp_free(r);
	r = api_get("/api/v1/audit_logs", t.pk_test, NULL);
	assert_error(r, 403, "permission_error", NULL, NULL);
	resp_free(r);
	/* Secret keys may not manage the team or read the audit log. */
	r = api_get("/api/v1/auth/tenants/users", t.sk_test, NULL);
	assert_error(r, 403, "permission_error", NULL, NULL);
	resp_free(r);
	r = api_get("/api/v1/audit_logs", t.sk_live, NULL);
	assert_error(r, 403, "permission_error", NULL, NULL);
	resp_free(r);
	tenant_free(&t);
}
END_TEST

START_TEST(key_modes)
{
	struct tenant	 t;
	struct resp	*r;

	tenant_register(&t, NULL);
	r = api_get(VERIFY, t.sk_test, NULL);
	assert_jstr(r->json, "mode", "test");
	resp_free(r);
	r = api_get(VERIFY, t.sk_live, NULL);
	assert_jstr(r->json, "mode", "live");
	resp_free(r);
	/* Billow-Mode does not override an API key's own mode. */
	r = api_get(VERIFY, t.sk_test, (const char *[]){ "Billow-Mode: live",
	    NULL });
	ck_assert_msg(r->status != 200 || strcmp(jstr(r->json, "mode"),
	    "test") == 0, "a test key became live: %s", r->body);
	resp_free(r);
	tenant_free(&t);
}
END_TEST

START_TEST(jwt_billow_mode)
{
	struct tenant	 t;
	struct resp	*r;
	char		 email[128], body[400], idem[80], rnd[17];
	const char	*live[3] = { "Billow-Mode: live", idem, NULL };
	const char	*test[3] = { "Billow-Mode: test", idem, NULL };
	const char	*bogus[2] = { "Billow-Mode: bogus", NULL };

	tenant_register(&t, NULL);
	r = api_get("/api/v1/auth/tenants/details", t.access, live);
	assert_status(r, 200);
	resp_free(r);
	r = api_get("/api/v1/auth/tenants/details", t.access, bogus);
	assert_error(r, 400, "invalid_request_error", NULL, NULL);
	resp_free(r);

	/*
	 * Idempotency keys are kept per mode, so the mode a JWT request
	 * runs in is observable: one key, two different bodies, test then
	 * live, both succeed; the same key and a new body in test again is
	 * a conflict.
	 */
	random_hex(rnd, 16);
	snprintf(idem, sizeof(idem), "Idempotency-Key: mode-%s", rnd);
	unique_email(email, sizeof(email), "mode");
	snprintf(body, sizeof(body), "{\"email\":\"%s\",\"password\":"
	    "\"long-password-1\",\"role\":\"developer\"}", email);
	r = api_post("/api/v1/auth/tenants/users", t.access, body, test);
	assert_status(r, 201);
	resp_free(r);
	unique_email(email, sizeof(email), "mode");
	snprintf(body, sizeof(body), "{\"email\":\"%s\",\"password\":"
	    "\"long-password-1\",\"role\":\"developer\"}", email);
	r = api_post("/api/v1/auth/tenants/users", t.access, body, live);
	assert_status(r, 201);
	ck_assert_ptr_null(resp_header(r, "Idempotent-Replayed"));
	resp_free(r);
	unique_email(email, sizeof(email), "mode");
	snprintf(body, sizeof(body), "{\"email\":\"%s\",\"password\":"
	    "\"long-password-1\",\"role\":\"developer\"}", email);
	r = api_post("/api/v1/auth/tenants/users", t.access, body, test);
	assert_error(r, 400, "idempotency_error", NULL, NULL);
	resp_free(r);
	tenant_free(&t);
}
END_TEST

/* verify answers from the key cache: a rename must show at once. */
START_TEST(verify_after_rename)
{
	struct tenant	 t;
	struct resp	*r;
	char		 name[64], rnd[11];

	tenant_register(&t, NULL);
	r = api_get(VERIFY, t.sk_test, NULL);
	assert_jstr(r->json, "tenant.company_name", t.company);
	resp_free(r);
	random_hex(rnd, 10);
	snprintf(name, sizeof(name), "Renamed %s", rnd);
	{
		char	body[128];

		snprintf(body, sizeof(body), "{\"company_name\":\"%s\"}",
		    name);
		r = api_patch("/api/v1/auth/tenants/details", t.access, body,
		    NULL);
	}
	assert_status(r, 200);
	assert_jstr(r->json, "company_name", name);
	resp_free(r);
	r = api_get(VERIFY, t.sk_test, NULL);
	assert_status(r, 200);
	assert_jstr(r->json, "tenant.company_name", name);
	resp_free(r);
	r = api_get(VERIFY, t.pk_live, NULL);
	assert_jstr(r->json, "tenant.company_name", name);
	resp_free(r);
	tenant_free(&t);
}
END_TEST

Suite *
suite_keys(void)
{
	Suite	*s;
	TCase	*tc;

	s = suite_create("keys");
	tc = api_tcase("roll");
	tcase_add_test(tc, roll_secret_immediate);
	tcase_add_test(tc, roll_secret_delayed);
	tcase_add_test(tc, roll_publishable);
	tcase_add_test(tc, roll_bad_params);
	tcase_add_test(tc, roll_forbidden);
	suite_add_tcase(s, tc);
	tc = api_tcase("access");
	tcase_add_test(tc, publishable_limits);
	tcase_add_test(tc, key_modes);
	tcase_add_test(tc, verify_after_rename);
	tcase_add_test(tc, jwt_billow_mode);
	suite_add_tcase(s, tc);
	return s;
}
