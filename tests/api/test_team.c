/*
 * Team management and roles: owner/admin/developer permissions, the last
 * owner rule, removal, cross-tenant ids and the audit log with its
 * pagination (API.md "Tenants and team", "Conventions").
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"

#define USERS	"/api/v1/auth/tenants/users"
#define DETAILS	"/api/v1/auth/tenants/details"
#define AUDIT	"/api/v1/audit_logs"

static struct resp *
user_patch(const char *access, const char *id, const char *json)
{
	char		 path[200];

	snprintf(path, sizeof(path), USERS "/%s", id);
	return api_patch(path, access, json, NULL);
}

static struct resp *
user_delete(const char *access, const char *id)
{
	char		 path[200];

	snprintf(path, sizeof(path), USERS "/%s", id);
	return api_delete(path, access, NULL);
}

static int
list_has(json_t *list, const char *id)
{
	json_t	*v;
	size_t	 i;

	json_array_foreach(json_object_get(list, "data"), i, v)
		if (strcmp(jstr(v, "id") ? jstr(v, "id") : "", id) == 0)
			return 1;
	return 0;
}

START_TEST(team_create_and_list)
{
	struct tenant	 t;
	struct resp	*r;
	char		 e1[128], e2[128], *admin, *dev;

	tenant_register(&t, NULL);
	admin = team_add(t.access, "admin", e1, sizeof(e1), "admin-pass-123");
	dev = team_add(t.access, "developer", e2, sizeof(e2), "dev-pass-1234");
	r = api_get(USERS, t.access, NULL);
	assert_status(r, 200);
	assert_jstr(r->json, "object", "list");
	ck_assert_int_eq(json_array_size(json_object_get(r->json, "data")), 3);
	ck_assert(list_has(r->json, admin));
	ck_assert(list_has(r->json, dev));
	ck_assert(list_has(r->json, t.user_id));
	ck_assert(json_is_false(json_object_get(r->json, "has_more")));
	ck_assert_ptr_null(strstr(r->body, "password"));
	resp_free(r);
	/* Bad role and an email already in use. */
	r = api_post(USERS, t.access, "{\"email\":\"r@example.test\","
	    "\"password\":\"long-password\",\"role\":\"owner\"}", NULL);
	assert_error(r, 400, "invalid_request_error", "parameter_invalid",
	    "role");
	resp_free(r);
	{
		char	body[300];

		snprintf(body, sizeof(body), "{\"email\":\"%s\",\"password\":"
		    "\"long-password\",\"role\":\"admin\"}", t.email);
		r = api_post(USERS, t.access, body, NULL);
		assert_error(r, 409, NULL, NULL, NULL);
		resp_free(r);
	}
	free(admin);
	free(dev);
	tenant_free(&t);
}
END_TEST

START_TEST(team_developer_reads_only)
{
	struct tenant	 t;
	struct resp	*r;
	char		 email[128], *dev, *tok;

	tenant_register(&t, NULL);
	dev = team_add(t.access, "developer", email, sizeof(email),
	    "dev-pass-1234");
	tok = login_access(email, "dev-pass-1234");
	r = api_get(DETAILS, tok, NULL);
	assert_status(r, 200);
	assert_jstr(r->json, "id", t.id);
	resp_free(r);
	r = api_patch(DETAILS, tok, "{\"company_name\":\"Dev Was Here\"}",
	    NULL);
	assert_error(r, 403, "permission_error", NULL, NULL);
	resp_free(r);
	r = api_get(USERS, tok, NULL);
	assert_error(r, 403, "permission_error", NULL, NULL);
	resp_free(r);
	r = api_get(DETAILS, t.access, NULL);
	assert_jstr(r->json, "company_name", t.company);
	resp_free(r);
	free(tok);
	free(dev);
	tenant_free(&t);
}
END_TEST

START_TEST(team_admin_limits)
{
	struct tenant	 t;
	struct resp	*r;
	char		 email[128], *adm, *tok;

	tenant_register(&t, NULL);
	adm = team_add(t.access, "admin", email, sizeof(email),
	    "admin-pass-123");
	tok = login_access(email, "admin-pass-123");
	r = api_patch(DETAILS, tok, "{\"company_name\":\"Renamed By Admin\"}",
	    NULL);
	assert_status(r, 200);
	assert_jstr(r->json, "company_name", "Renamed By Admin");
	resp_free(r);
	r = api_get(USERS, tok, NULL);
	assert_error(r, 403, "permission_error", NULL, NULL);
	resp_free(r);
	r = api_post(USERS, tok, "{\"email\":\"adm2@example.test\","
	    "\"password\":\"long-password\",\"role\":\"admin\"}", NULL);
	assert_error(r, 403, "permission_error", NULL, NULL);
	resp_free(r);
	r = user_patch(tok, adm, "{\"role\":\"owner\"}");
	assert_error(r, 403, "permission_error", NULL, NULL);
	resp_free(r);
	r = api_post("/api/v1/auth/tenants/api-keys/roll", tok,
	    "{\"type\":\"secret\",\"mode\":\"test\"}", NULL);
	assert_error(r, 403, "permission_error", NULL, NULL);
	resp_free(r);
	r = api_get(AUDIT, tok, NULL);
	assert_status(r, 200);
	resp_free(r);
	free(tok);
	free(adm);
	tenant_free(&t);
}
END_TEST

START_TEST(team_last_owner)
{
	struct tenant	 t;
	struct resp	*r;
	char		 email[128], *adm, *tok;

	tenant_register(&t, NULL);
	r = user_patch(t.access, t.user_id, "{\"role\":\"admin\"}");
	assert_error(r, 409, "invalid_request_error", "last_owner", NULL);
	resp_free(r);
	r = user_delete(t.access, t.user_id);
	assert_error(r, 409, "invalid_request_error", "last_owner", NULL);
	resp_free(r);
	r = api_get("/api/v1/auth/tenants/me", t.access, NULL);
	assert_jstr(r->json, "user.role", "owner");
	resp_free(r);

	/* With a second owner, the first may step down. */
	adm = team_add(t.access, "admin", email, sizeof(email),
	    "admin-pass-123");
	r = user_patch(t.access, adm, "{\"role\":\"owner\"}");
	assert_status(r, 200);
	assert_jstr(r->json, "role", "owner");
	resp_free(r);
	r = user_patch(t.access, t.user_id, "{\"role\":\"admin\"}");
	assert_status(r, 200);
	assert_jstr(r->json, "role", "admin");
	resp_free(r);
	/* The old token now carries the new role. */
	r = api_get(USERS, t.access, NULL);
	assert_error(r, 403, "permission_error", NULL, NULL);
	resp_free(r);
	/* The new owner is the last one now. */
	tok = login_access(email, "admin-pass-123");
	r = user_patch(tok, adm, "{\"role\":\"developer\"}");
	assert_error(r, 409, "invalid_request_error", "last_owner", NULL);
	resp_free(r);
	r = api_get(USERS, tok, NULL);
	assert_status(r, 200);
	resp_free(r);
	free(tok);
	free(adm);
	tenant_free(&t);
}
END_TEST

START_TEST(team_delete_user)
{
	struct tenant	 t;
	struct resp	*r;
	char		 email[128], *dev, *tok;

	tenant_register(&t, NULL);
	dev = team_add(t.access, "developer", email, sizeof(email),
	    "dev-pass-1234");
	tok = login_access(email, "dev-pass-1234");
	r = user_delete(t.access, dev);
	assert_status(r, 200);
	ck_assert(json_is_true(json_object_get(r->json, "deleted")));
	assert_jstr(r->json, "id", dev);
	resp_free(r);
	r = api_login(email, "dev-pass-1234");
	assert_error(r, 401, "authentication_error", "invalid_credentials",
	    NULL);
	resp_free(r);
	/* Their access token stops working too. */
	r = api_get(DETAILS, tok, NULL);
	assert_error(r, 401, "authentication_error", NULL, NULL);
	resp_free(r);
	r = user_delete(t.access, dev);
	assert_error(r, 404, "invalid_request_error", NULL, NULL);
	resp_free(r);
	r = api_get(USERS, t.access, NULL);
	ck_assert(!list_has(r->json, dev));
	resp_free(r);
	free(tok);
	free(dev);
	tenant_free(&t);
}
END_TEST

START_TEST(team_other_tenant_404)
{
	struct tenant	 a, b;
	struct resp	*r;
	char		 email[128], *bdev;

	tenant_register(&a, NULL);
	tenant_register(&b, NULL);
	bdev = team_add(b.access, "developer", email, sizeof(email),
	    "dev-pass-1234");
	r = user_patch(a.access, bdev, "{\"role\":\"admin\"}");
	assert_error(r, 404, "invalid_request_error", NULL, NULL);
	resp_free(r);
	r = user_delete(a.access, bdev);
	assert_error(r, 404, "invalid_request_error", NULL, NULL);
	resp_free(r);
	r = user_delete(a.access, b.user_id);
	assert_error(r, 404, "invalid_request_error", NULL, NULL);
	resp_free(r);
	r = api_get(USERS, a.access, NULL);
	ck_assert(!list_has(r->json, bdev));
	ck_assert(!list_has(r->json, b.user_id));
	resp_free(r);
	/* B's user is untouched and can still log in. */
	r = api_login(email, "dev-pass-1234");
	assert_status(r, 200);
	assert_jstr(r->json, "user.role", "developer");
	resp_free(r);
	free(bdev);
	tenant_free(&a);
	tenant_free(&b);
}
END_TEST

START_TEST(audit_log_pagination)
{
	struct tenant	 t;
	struct resp	*r, *all;
	json_t		*data;
	char		 email[128], path[256], *u1, *u2;
	const char	*id0, *id1;
	size_t		 n;

	tenant_register(&t, NULL);
	u1 = team_add(t.access, "admin", email, sizeof(email),
	    "admin-pass-123");
	u2 = team_add(t.access, "developer", email, sizeof(email),
	    "dev-pass-1234");
	r = api_post("/api/v1/auth/tenants/api-keys/roll", t.access,
	    "{\"type\":\"secret\",\"mode\":\"live\"}", NULL);
	ck_assert_msg(r->status == 200 || r->status == 201, "roll: %ld",
	    r->status);
	resp_free(r);

	all = api_get(AUDIT "?limit=100", t.access, NULL);
	assert_status(all, 200);
	assert_jstr(all->json, "object", "list");
	ck_assert(json_is_false(json_object_get(all->json, "has_more")));
	data = json_object_get(all->json, "data");
	n = json_array_size(data);
	ck_assert_msg(n >= 3, "only %zu audit entries", n);
	/* Newest first: the roll, then the two team changes. */
	assert_jstr(data, "0.action", "api_key.rolled");
	assert_jstr(data, "1.action", "team.user_added");
	assert_jstr(data, "1.target", u2);
	assert_jstr(data, "2.action", "team.user_added");
	assert_jstr(data, "2.target", u1);
	assert_jstr(data, "0.actor_id", t.user_id);
	assert_jstr(data, "0.object", "audit_log");
	id0 = jstr(data, "0.id");
	id1 = jstr(data, "1.id");
	ck_assert(id0 != NULL && id1 != NULL);

	r = api_get(AUDIT "?limit=1", t.access, NULL);
	assert_status(r, 200);
	ck_assert_int_eq(json_array_size(json_object_get(r->json, "data")), 1);
	assert_jstr(r->json, "data.0.id", id0);
	ck_assert(json_is_true(json_object_get(r->json, "has_more")));
	resp_free(r);

	snprintf(path, sizeof(path), AUDIT "?limit=1&starting_after=%s", id0);
	r = api_get(path, t.access, NULL);
	assert_status(r, 200);
	ck_assert_int_eq(json_array_size(json_object_get(r->json, "data")), 1);
	assert_jstr(r->json, "data.0.id", id1);
	ck_assert(json_is_true(json_object_get(r->json, "has_more")));
	resp_free(r);

	/* After the second-to-last entry there is exactly one more. */
	snprintf(path, sizeof(path), AUDIT "?limit=1&starting_after=%s",
	    jstr(json_array_get(data, n - 2), "id"));
	r = api_get(path, t.access, NULL);
	assert_status(r, 200);
	ck_assert_int_eq(json_array_size(json_object_get(r->json, "data")), 1);
	assert_jstr(r->json, "data.0.id", jstr(json_array_get(data, n - 1),
	    "id"));
	ck_assert(json_is_false(json_object_get(r->json, "has_more")));
	resp_free(r);

	/* ending_before: the page just newer than the cursor, newest first. */
	ck_assert_msg(n >= 4, "expected 4 audit entries, got %zu", n);
	snprintf(path, sizeof(path), AUDIT "?limit=2&ending_before=%s",
	    jstr(json_array_get(data, n - 1), "id"));
	r = api_get(path, t.access, NULL);
	assert_status(r, 200);
	ck_assert_int_eq(json_array_size(json_object_get(r->json, "data")), 2);
	assert_jstr(r->json, "data.0.id", jstr(json_array_get(data, n - 3),
	    "id"));
	assert_jstr(r->json, "data.1.id", jstr(json_array_get(data, n - 2),
	    "id"));
	ck_assert(json_is_true(json_object_get(r->json, "has_more")));
	resp_free(r);
	snprintf(path, sizeof(path), AUDIT "?limit=5&ending_before=%s", id1);
	r = api_get(path, t.access, NULL);
	assert_status(r, 200);
	ck_assert_int_eq(json_array_size(json_object_get(r->json, "data")), 1);
	assert_jstr(r->json, "data.0.id", id0);
	ck_assert(json_is_false(json_object_get(r->json, "has_more")));
	resp_free(r);

	r = api_get(AUDIT "?limit=0", t.access, NULL);
	assert_error(r, 400, "invalid_request_error", "parameter_invalid",
	    "limit");
	resp_free(r);
	r = api_get(AUDIT "?limit=101", t.access, NULL);
	assert_error(r, 400, "invalid_request_error", "parameter_invalid",
	    "limit");
	resp_free(r);
	r = api_get(AUDIT "?limit=abc", t.access, NULL);
	assert_error(r, 400, "invalid_request_error", NULL, NULL);
	resp_free(r);
	resp_free(all);
	free(u1);
	free(u2);
	tenant_free(&t);
}
END_TEST

START_TEST(audit_log_isolated)
{
	struct tenant	 a, b;
	struct resp	*r;
	char		 email[128], *u;
	json_t		*v;
	size_t		 i;

	tenant_register(&a, NULL);
	tenant_register(&b, NULL);
	u = team_add(b.access, "developer", email, sizeof(email),
	    "dev-pass-1234");
	r = api_get(AUDIT "?limit=100", a.access, NULL);
	assert_status(r, 200);
	json_array_foreach(json_object_get(r->json, "data"), i, v) {
		ck_assert_msg(jstr(v, "target") == NULL ||
		    strcmp(jstr(v, "target"), u) != 0, "B's entry in A's "
		    "audit log");
		ck_assert_msg(jstr(v, "actor_id") == NULL ||
		    strcmp(jstr(v, "actor_id"), b.user_id) != 0, "B's actor "
		    "in A's audit log");
	}
	ck_assert_ptr_null(strstr(r->body, b.id));
	resp_free(r);
	free(u);
	tenant_free(&a);
	tenant_free(&b);
}
END_TEST

Suite *
suite_team(void)
{
	Suite	*s;
	TCase	*tc;

	s = suite_create("team");
	tc = api_tcase("roles");
	tcase_add_test(tc, team_create_and_list);
	tcase_add_test(tc, team_developer_reads_only);
	tcase_add_test(tc, team_admin_limits);
	tcase_add_test(tc, team_last_owner);
	tcase_add_test(tc, team_delete_user);
	tcase_add_test(tc, team_other_tenant_404);
	suite_add_tcase(s, tc);
	tc = api_tcase("audit");
	tcase_add_test(tc, audit_log_pagination);
	tcase_add_test(tc, audit_log_isolated);
	suite_add_tcase(s, tc);
	return s;
}
