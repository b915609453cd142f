/*
 * Row-level security, checked straight in PostgreSQL: as billow_app, with
 * no tenant set nothing is visible; with tenant A set only A's rows are,
 * even without a WHERE clause; writes into B fail; idempotency records are
 * split by mode. Needs DATABASE_URL (an owner connection of the server's
 * database); tenants are created through the API first.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libpq-fe.h>

#include "harness.h"

static PGconn *
db_connect(void)
{
	const char	*url = getenv("DATABASE_URL");
	PGconn		*c;
	PGresult	*res;

	ck_assert_msg(url != NULL && *url != '\0', "DATABASE_URL is not set: "
	    "the RLS tests need the server's database");
	c = PQconnectdb(url);
	ck_assert_msg(PQstatus(c) == CONNECTION_OK, "cannot connect to %s: %s",
	    url, PQerrorMessage(c));
	res = PQexec(c, "SET ROLE billow_app");
	ck_assert_msg(PQresultStatus(res) == PGRES_COMMAND_OK, "SET ROLE: %s",
	    PQerrorMessage(c));
	PQclear(res);
	return c;
}

static void
db_exec(PGconn *c, const char *sql)
{
	PGresult	*res;

	res = PQexec(c, sql);
	ck_assert_msg(PQresultStatus(res) == PGRES_COMMAND_OK ||
	    PQresultStatus(res) == PGRES_TUPLES_OK, "%s: %s", sql,
	    PQerrorMessage(c));
	PQclear(res);
}

/* Sets the tenant (and mode, if not NULL) for the open transaction. */
static void
db_tenant(PGconn *c, const char *tenant, const char *livemode)
{
	const char	*p[2] = { tenant, livemode };
	PGresult	*res;

	res = PQexecParams(c, livemode != NULL ?
	    "SELECT set_config('app.tenant_id', $1, true), "
	    "set_config('app.livemode', $2, true)" :
	    "SELECT set_config('app.tenant_id', $1, true)",
	    livemode != NULL ? 2 : 1, NULL, p, NULL, NULL, 0);
	ck_assert_msg(PQresultStatus(res) == PGRES_TUPLES_OK, "set_config: %s",
	    PQerrorMessage(c));
	PQclear(res);
}

static long long
db_count(PGconn *c, const char *sql, const char *param)
{
	const char	*p[1] = { param };
	PGresult	*res;
	long long	 n;

	res = PQexecParams(c, sql, param != NULL ? 1 : 0, NULL, p, NULL, NULL,
	    0);
	ck_assert_msg(PQresultStatus(res) == PGRES_TUPLES_OK &&
	    PQntuples(res) == 1, "%s: %s", sql, PQerrorMessage(c));
	n = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
	PQclear(res);
	return n;
}

START_TEST(rls_no_tenant_sees_nothing)
{
	struct tenant	 t;
	PGconn		*c;

	tenant_register(&t, NULL);
	c = db_connect();
	ck_assert_int_eq(db_count(c, "SELECT count(*) FROM users", NULL), 0);
	ck_assert_int_eq(db_count(c, "SELECT count(*) FROM tenants", NULL), 0);
	ck_assert_int_eq(db_count(c, "SELECT count(*) FROM api_keys", NULL),
	    0);
	ck_assert_int_eq(db_count(c, "SELECT count(*) FROM refresh_tokens",
	    NULL), 0);
	ck_assert_int_eq(db_count(c, "SELECT count(*) FROM audit_logs", NULL),
	    0);
	ck_assert_int_eq(db_count(c, "SELECT count(*) FROM platform_admins",
	    NULL), 0);
	/* Even asking for the tenant by id finds nothing. */
	ck_assert_int_eq(db_count(c, "SELECT count(*) FROM tenants WHERE "
	    "id = $1", t.id), 0);
	/* An empty setting is the same as none. */
	db_exec(c, "BEGIN");
	db_exec(c, "SELECT set_config('app.tenant_id', '', true)");
	ck_assert_int_eq(db_count(c, "SELECT count(*) FROM users", NULL), 0);
	db_exec(c, "ROLLBACK");
	PQfinish(c);
	tenant_free(&t);
}
END_TEST

START_TEST(rls_tenant_sees_only_own)
{
	struct tenant	 a, b;
	PGconn		*c;
	char		 email[128], *u;

	tenant_register(&a, NULL);
	tenant_register(&b, NULL);
	u = team_add(a.access, "developer", email, sizeof(email),
	    "dev-pass-1234");
	free(u);
	u = team_add(b.access, "developer", email, sizeof(email),
	    "dev-pass-1234");
	free(u);
	u = team_add(b.access, "admin", email, sizeof(email),
	    "adm-pass-1234");
	free(u);
	c = db_connect();
	db_exec(c, "BEGIN");
	db_tenant(c, a.id, "false");
	ck_assert_int_eq(db_count(c, "SELECT count(*) FROM users", NULL), 2);
	ck_assert_int_eq(db_count(c, "SELECT count(*) FROM users WHERE "
	    "tenant_id = $1", b.id), 0);
	ck_assert_int_eq(db_count(c, "SELECT count(*) FROM users WHERE "
	    "tenant_id <> $1", a.id), 0);
	ck_assert_int_eq(db_count(c, "SELECT count(*) FROM tenants", NULL), 1);
	ck_assert_int_eq(db_count(c, "SELECT count(*) FROM tenants WHERE "
	    "id = $1", b.id), 0);
	ck_assert_int_eq(db_count(c, "SELECT count(*) FROM api_keys WHERE "
	    "tenant_id <> $1", a.id), 0);
	ck_assert_int_ge(db_count(c, "SELECT count(*) FROM api_keys", NULL),
	    4);
	/* Writes to B's rows touch nothing. */
	ck_assert_int_eq(db_count(c, "WITH u AS (UPDATE tenants SET "
	    "company_name = 'pwned' WHERE id = $1 RETURNING 1) SELECT count(*) "
	    "FROM u", b.id), 0);
	ck_assert_int_eq(db_count(c, "WITH d AS (DELETE FROM users WHERE "
	    "tenant_id = $1 RETURNING 1) SELECT count(*) FROM d", b.id), 0);
	db_exec(c, "ROLLBACK");

	/* And the other way round. */
	db_exec(c, "BEGIN");
	db_tenant(c, b.id, "false");
	ck_assert_int_eq(db_count(c, "SELECT count(*) FROM users", NULL), 3);
	db_exec(c, "ROLLBACK");
	PQfinish(c);
	tenant_free(&a);
	tenant_free(&b);
}
END_TEST

START_TEST(rls_insert_other_tenant)
{
	struct tenant	 a, b;
	PGconn		*c;
	PGresult	*res;
	const char	*p[3];
	char		 email[128], id[40], rnd[17];
	const char	*state;

	tenant_register(&a, NULL);
	tenant_register(&b, NULL);
	unique_email(email, sizeof(email), "rls");
	random_hex(rnd, 16);
	snprintf(id, sizeof(id), "usr_rls%s", rnd);
	c = db_connect();
	db_exec(c, "BEGIN");
	db_tenant(c, a.id, "false");
	p[0] = b.id;
	p[1] = email;
	p[2] = id;
	res = PQexecParams(c, "INSERT INTO users (tenant_id, id, email, "
	    "password_hash, role) VALUES ($1, $3, $2, 'x', 'owner')", 3,
	    NULL, p, NULL, NULL, 0);
	state = PQresultErrorField(res, PG_DIAG_SQLSTATE);
	ck_assert_msg(PQresultStatus(res) == PGRES_FATAL_ERROR &&
	    state != NULL && strcmp(state, "42501") == 0, "INSERT into B as A: "
	    "status %s, SQLSTATE %s", PQresStatus(PQresultStatus(res)),
	    state != NULL ? state : "(none)");
	PQclear(res);
	db_exec(c, "ROLLBACK");
	/* No tenant at all: also refused. */
	db_exec(c, "BEGIN");
	res = PQexecParams(c, "INSERT INTO users (tenant_id, id, email, "
	    "password_hash, role) VALUES ($1, $3, $2, 'x', 'owner')", 3,
	    NULL, p, NULL, NULL, 0);
	state = PQresultErrorField(res, PG_DIAG_SQLSTATE);
	ck_assert_msg(PQresultStatus(res) == PGRES_FATAL_ERROR &&
	    state != NULL && strcmp(state, "42501") == 0, "INSERT with no "
	    "tenant: SQLSTATE %s", state != NULL ? state : "(none)");
	PQclear(res);
	db_exec(c, "ROLLBACK");
	PQfinish(c);
	tenant_free(&a);
	tenant_free(&b);
}
END_TEST

START_TEST(rls_idempotency_mode)
{
	struct tenant	 a;
	struct resp	*r;
	PGconn		*c;
	char		 email[128], body[300], hdr[80], rnd[17];
	const char	*extra[2] = { hdr, NULL };

	tenant_register(&a, NULL);
	random_hex(rnd, 16);
	snprintf(hdr, sizeof(hdr), "Idempotency-Key: rls-%s", rnd);
	unique_email(email, sizeof(email), "rlsidem");
	snprintf(body, sizeof(body), "{\"email\":\"%s\",\"password\":"
	    "\"long-password-1\",\"role\":\"developer\"}", email);
	/* A new tenant is in test mode: the record has livemode false. */
	r = api_post("/api/v1/auth/tenants/users", a.access, body, extra);
	assert_status(r, 201);
	resp_free(r);

	c = db_connect();
	db_exec(c, "BEGIN");
	db_tenant(c, a.id, "true");
	ck_assert_int_eq(db_count(c, "SELECT count(*) FROM idempotency_keys",
	    NULL), 0);
	db_exec(c, "ROLLBACK");
	db_exec(c, "BEGIN");
	db_tenant(c, a.id, "false");
	ck_assert_int_eq(db_count(c, "SELECT count(*) FROM idempotency_keys",
	    NULL), 1);
	db_exec(c, "ROLLBACK");
	/* Tenant set, mode not set: nothing. */
	db_exec(c, "BEGIN");
	db_tenant(c, a.id, NULL);
	ck_assert_int_eq(db_count(c, "SELECT count(*) FROM idempotency_keys",
	    NULL), 0);
	db_exec(c, "ROLLBACK");
	PQfinish(c);
	tenant_free(&a);
}
END_TEST

/*
 * Secret keys are stored hashed (API.md "Authentication"): a key roll
 * sent with an Idempotency-Key must not leave the new key in clear in
 * the stored idempotency record.
 */
START_TEST(db_no_clear_secret_after_roll)
{
	struct tenant	 a;
	struct resp	*r;
	PGconn		*c;
	char		 hdr[80], rnd[17], *key;
	const char	*extra[2] = { hdr, NULL };

	tenant_register(&a, NULL);
	random_hex(rnd, 16);
	snprintf(hdr, sizeof(hdr), "Idempotency-Key: roll-%s", rnd);
	r = api_post("/api/v1/auth/tenants/api-keys/roll", a.access,
	    "{\"type\":\"secret\",\"mode\":\"test\"}", extra);
	ck_assert_msg(r->status == 200 || r->status == 201, "roll: %ld %s",
	    r->status, r->body);
	ck_assert_ptr_nonnull(jstr(r->json, "key"));
	key = strdup(jstr(r->json, "key"));
	resp_free(r);

	c = db_connect();
	db_exec(c, "BEGIN");
	db_tenant(c, a.id, "false");
	ck_assert_msg(db_count(c, "SELECT count(*) FROM idempotency_keys "
	    "WHERE strpos(body, $1) > 0", key) == 0, "the rolled secret key "
	    "is stored in clear in idempotency_keys.body");
	ck_assert_int_eq(db_count(c, "SELECT count(*) FROM api_keys WHERE "
	    "strpos(coalesce(public_key, '') || key_hash || last4, $1) > 0",
	    key), 0);
	db_exec(c, "ROLLBACK");
	PQfinish(c);
	free(key);
	tenant_free(&a);
}
END_TEST

Suite *
suite_rls(void)
{
	Suite	*s;
	TCase	*tc;

	s = suite_create("rls");
	tc = api_tcase("rls");
	tcase_add_test(tc, rls_no_tenant_sees_nothing);
	tcase_add_test(tc, rls_tenant_sees_only_own);
	tcase_add_test(tc, rls_insert_other_tenant);
	tcase_add_test(tc, rls_idempotency_mode);
	tcase_add_test(tc, db_no_clear_secret_after_roll);
	suite_add_tcase(s, tc);
	return s;
}
