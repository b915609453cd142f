/*
 * Rate limits and the login lockout (API.md "Authentication"), run only
 * against a server with the default limits (scripts/test.sh starts one:
 * 25 req/s per test key, 10 register/login per minute per address, 5
 * failed logins lock an email for 15 minutes). `api_tests limits`.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "harness.h"

static void
assert_429(struct resp *r, const char *code)
{
	const char	*ra;

	ck_assert_msg(r->status == 429, "expected 429, got %ld: %s",
	    r->status, r->body != NULL ? r->body : "");
	ck_assert_str_eq(jstr(r->json, "error.type"), "rate_limit_error");
	ck_assert_str_eq(jstr(r->json, "error.code"), code);
	ra = resp_header(r, "Retry-After");
	ck_assert_msg(ra != NULL && atoi(ra) >= 1, "Retry-After missing");
}

/*
 * One tenant for the whole suite: registrations count against the
 * address's 10 per minute, which a later test spends on purpose.
 */
static struct tenant	shared;
static int		registered;

static struct tenant *
limits_tenant(void)
{
	if (!registered) {
		tenant_register(&shared, NULL);
		registered = 1;
	}
	return &shared;
}

START_TEST(key_over_its_rate_gets_429_with_retry_after)
{
	struct tenant	*t = limits_tenant();
	struct resp	*r;
	struct timespec	 t0, t1;
	long		 secs;
	int		 i, ok = 0, limited = 0;

	/*
	 * Back to back until the limit bites (at most 400 requests). Per-second
	 * windows: however slow this machine, no more than 25 may succeed in
	 * any one second, so at most 25 x (whole seconds touched) overall.
	 */
	clock_gettime(CLOCK_REALTIME, &t0);
	for (i = 0; i < 400 && limited < 5; i++) {
		r = api_get("/api/v1/auth/tenants/details", t->sk_test, NULL);
		if (r->status == 200) {
			ok++;
		} else {
			assert_429(r, "rate_limited");
			limited++;
		}
		resp_free(r);
	}
	clock_gettime(CLOCK_REALTIME, &t1);
	secs = (long)t1.tv_sec - (long)t0.tv_sec + 1;
	ck_assert_msg(limited >= 1, "no 429 in %d requests", i);
	ck_assert_msg(ok <= 25 * secs, "%d answered over %ld second windows",
	    ok, secs);
}
END_TEST

START_TEST(failed_logins_lock_the_email)
{
	struct tenant	*t = limits_tenant();
	struct resp	*r;
	int		 i;

	for (i = 0; i < 5; i++) {
		r = api_login(t->email, "not the password at all");
		ck_assert_int_eq(r->status, 401);
		resp_free(r);
	}
	/* Locked now, even with the right password. */
	r = api_login(t->email, t->password);
	assert_429(r, "account_locked");
	resp_free(r);
}
END_TEST

START_TEST(registrations_per_address_are_limited)
{
	struct resp	*r;
	int		 i, limited = 0;

	limits_tenant();
	/*
	 * Bad bodies still count (the limit comes first), so nothing is
	 * created while the address spends its 10 a minute. Up to 40 tries:
	 * even split across two minute windows, 20 of them must be refused.
	 */
	for (i = 0; i < 40 && limited < 2; i++) {
		r = api_post("/api/v1/auth/tenants/register", NULL,
		    "{\"company_name\":\"x\"}", NULL);
		if (r->status == 429) {
			assert_429(r, "rate_limited");
			limited++;
		} else {
			ck_assert_int_eq(r->status, 400);
		}
		resp_free(r);
	}
	ck_assert_msg(limited >= 2, "only %d limited", limited);
}
END_TEST

Suite *
suite_limits(void)
{
	Suite	*s = suite_create("limits");
	TCase	*tc = tcase_create("limits");

	/* In order, in one process: they share the address's budget. */
	tcase_add_test(tc, key_over_its_rate_gets_429_with_retry_after);
	tcase_add_test(tc, failed_logins_lock_the_email);
	tcase_add_test(tc, registrations_per_address_are_limited);
	suite_add_tcase(s, tc);
	return s;
}
