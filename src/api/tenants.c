/*
 * Tenants and sessions: register, login, verify, me, details, token
 * refresh with rotation and reuse detection, change-password, logout, API
 * key roll and the audit log (API.md "Authentication", "Tenants and team").
 * Runs on task threads. Secret keys exist in clear only in the response
 * that creates them; passwords only as argon2id hashes.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/api.h"
#include "api/tenant.h"
#include "auth/auth.h"
#include "auth/crypto.h"
#include "db/db.h"
#include "plugin/plugin.h"
#include "server/server.h"

#define PASSWORD_MIN	10
#define PASSWORD_MAX	256

#define SQL_TENANT_SELECT \
	"SELECT t.id, t.company_name, t.slug, t.email, t.domain, " \
	"t.webhook_url, t.platform_fee_bps, t.subscription_tier, " \
	"t.is_test_mode, t.is_active, t.stripe_connect_status, " \
	"t.branding_json::text AS branding_json, " \
	"array_to_json(t.dunning_retry_days)::text AS dunning_retry_days, " \
	"t.dunning_final_action, extract(epoch FROM t.created)::bigint " \
	"AS created, right(t.webhook_secret, 4) AS webhook_secret_last4, " \
	"(SELECT public_key FROM api_keys k WHERE k.tenant_id = t.id AND " \
	" k.livemode AND k.publishable AND k.expires_at IS NULL " \
	" ORDER BY k.id DESC LIMIT 1) AS pk_live, " \
	"(SELECT public_key FROM api_keys k WHERE k.tenant_id = t.id AND " \
	" NOT k.livemode AND k.publishable AND k.expires_at IS NULL " \
	" ORDER BY k.id DESC LIMIT 1) AS pk_test, " \
	"(SELECT last4 FROM api_keys k WHERE k.tenant_id = t.id AND " \
	" k.livemode AND NOT k.publishable AND k.expires_at IS NULL " \
	" ORDER BY k.id DESC LIMIT 1) AS sk_live_last4, " \
	"(SELECT last4 FROM api_keys k WHERE k.tenant_id = t.id AND " \
	" NOT k.livemode AND NOT k.publishable AND k.expires_at IS NULL " \
	" ORDER BY k.id DESC LIMIT 1) AS sk_test_last4 " \
	"FROM tenants t "

const char	bw_sql_tenant_select[] = SQL_TENANT_SELECT;

static json_t *
json_str_or_null(const char *s)
{
	return s != NULL ? json_string(s) : json_null();
}

static json_t *
json_parse_or(const char *s, json_t *fallback)
{
	json_t	*v;

	if (s == NULL || (v = json_loads(s, 0, NULL)) == NULL)
		return fallback;
	json_decref(fallback);
	return v;
}

void
bw_tenant_fee_string(long long bps, char *out, size_t len)
{
	snprintf(out, len, "%lld.%02lld", bps / 100, bps % 100);
}

json_t *
bw_tenant_json(const PGresult *res, int row, enum bw_tenant_view view)
{
	json_t		*t;
	char		 created[32], fee[16];
	int		 test;

	test = strcmp(bw_db_val(res, row, "is_test_mode"), "t") == 0;
	bw_time_rfc3339(bw_db_int(res, row, "created"), created,
	    sizeof(created));
	t = json_object();
	json_object_set_new(t, "object", json_string("tenant"));
	json_object_set_new(t, "id", json_string(bw_db_val(res, row, "id")));
	json_object_set_new(t, "company_name",
	    json_string(bw_db_val(res, row, "company_name")));
	json_object_set_new(t, "slug", json_string(bw_db_val(res, row, "slug")));
	json_object_set_new(t, "domain",
	    json_str_or_null(bw_db_val(res, row, "domain")));
	json_object_set_new(t, "branding_json", json_parse_or(
	    bw_db_val(res, row, "branding_json"), json_object()));
	if (view == BW_TENANT_PUBLIC) {
		json_object_set_new(t, "api_key_public",
		    json_str_or_null(bw_db_val(res, row, "pk_live")));
		json_object_set_new(t, "api_key_test_public",
		    json_str_or_null(bw_db_val(res, row, "pk_test")));
		return t;
	}
	json_object_set_new(t, "email", json_string(bw_db_val(res, row,
	    "email")));
	json_object_set_new(t, "livemode", json_boolean(!test));
	json_object_set_new(t, "created", json_string(created));
	json_object_set_new(t, "webhook_url",
	    json_str_or_null(bw_db_val(res, row, "webhook_url")));
	json_object_set_new(t, "api_key_public",
	    json_str_or_null(bw_db_val(res, row, "pk_live")));
	json_object_set_new(t, "api_key_test_public",
	    json_str_or_null(bw_db_val(res, row, "pk_test")));
	if (view == BW_TENANT_LAST4) {
		json_object_set_new(t, "api_key_secret_last4",
		    json_str_or_null(bw_db_val(res, row, "sk_live_last4")));
		json_object_set_new(t, "api_key_test_secret_last4",
		    json_str_or_null(bw_db_val(res, row, "sk_test_last4")));
		json_object_set_new(t, "webhook_secret_last4",
		    json_str_or_null(bw_db_val(res, row,
		    "webhook_secret_last4")));
	}
	bw_tenant_fee_string(bw_db_int(res, row, "platform_fee_bps"), fee,
	    sizeof(fee));
	json_object_set_new(t, "platform_fee_percentage", json_string(fee));
	json_object_set_new(t, "subscription_tier",
	    json_string(bw_db_val(res, row, "subscription_tier")));
	json_object_set_new(t, "is_test_mode", json_boolean(test));
	json_object_set_new(t, "is_active", json_boolean(strcmp(
	    bw_db_val(res, row, "is_active"), "t") == 0));
	json_object_set_new(t, "stripe_connect_status",
	    json_string(bw_db_val(res, row, "stripe_connect_status")));
	json_object_set_new(t, "dunning_retry_days", json_parse_or(
	    bw_db_val(res, row, "dunning_retry_days"), json_array()));
	json_object_set_new(t, "dunning_final_action",
	    json_string(bw_db_val(res, row, "dunning_final_action")));
	return t;
}

/* Loads the current tenant (by RLS context) into a JSON object. */
static json_t *
tenant_load(struct bw_req *req, enum bw_tenant_view view)
{
	const char	*p[1] = { req->who.tenant_id };
	PGresult	*res;
	json_t		*t;

	res = bw_db_query(req->db, SQL_TENANT_SELECT "WHERE t.id = $1", 1, p);
	if (res == NULL)
		return NULL;
	if (PQntuples(res) != 1) {
		PQclear(res);
		bw_err_not_found(req, "tenant");
		return NULL;
	}
	t = bw_tenant_json(res, 0, view);
	PQclear(res);
	return t;
}

#define SQL_USER_SELECT \
	"SELECT id, email, first_name, last_name, role, " \
	"extract(epoch FROM created)::bigint AS created FROM users "

json_t *
bw_user_json(const PGresult *res, int row)
{
	char	created[32];

	bw_time_rfc3339(bw_db_int(res, row, "created"), created,
	    sizeof(created));
	return json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s}",
	    "object", "user", "id", bw_db_val(res, row, "id"),
	    "email", bw_db_val(res, row, "email"),
	    "first_name", bw_db_val(res, row, "first_name"),
	    "last_name", bw_db_val(res, row, "last_name"),
	    "role", bw_db_val(res, row, "role"), "created", created);
}

static json_t *
user_load(struct bw_req *req, const char *user_id)
{
	const char	*p[1] = { user_id };
	PGresult	*res;
	json_t		*u;

	res = bw_db_query(req->db, SQL_USER_SELECT "WHERE id = $1", 1, p);
	if (res == NULL)
		return NULL;
	if (PQntuples(res) != 1) {
		PQclear(res);
		bw_err_not_found(req, "user");
		return NULL;
	}
	u = bw_user_json(res, 0);
	PQclear(res);
	return u;
}

#define SQL_REFRESH_INSERT \
	"INSERT INTO refresh_tokens (tenant_id, jti, user_id, expires_at) " \
	"VALUES (current_setting('app.tenant_id'), $1, $2, " \
	"to_timestamp($3::bigint))"

/*
 * Issues an access and a refresh token for USER; the refresh token's jti
 * is recorded in the current transaction. Returns {access, refresh}.
 */
static json_t *
tokens_issue(struct bw_req *req, const char *tenant_id, const char *user_id,
    const char *role, const char *email)
{
	struct bw_jwt_claims	 c;
	struct bw_config	*cfg = bw_server.cfg;
	const char		*p[3];
	char			*access, *refresh, exp[24];
	int64_t			 now = bw_time_us() / 1000000;
	PGresult		*res;
	json_t			*out;

	memset(&c, 0, sizeof(c));
	snprintf(c.sub, sizeof(c.sub), "%s", user_id);
	snprintf(c.tenant_id, sizeof(c.tenant_id), "%s", tenant_id);
	snprintf(c.role, sizeof(c.role), "%s", role);
	snprintf(c.email, sizeof(c.email), "%s", email);
	c.iat = now;
	c.exp = now + cfg->access_ttl_s;
	snprintf(c.typ, sizeof(c.typ), "access");
	bw_id_new("jti", c.jti);
	access = bw_jwt_sign(&c, cfg->jwt_secret);
	c.exp = now + cfg->refresh_ttl_s;
	snprintf(c.typ, sizeof(c.typ), "refresh");
	bw_id_new("jti", c.jti);
	refresh = bw_jwt_sign(&c, cfg->jwt_secret);
	if (access == NULL || refresh == NULL) {
		free(access);
		free(refresh);
		bw_err_internal(req);
		return NULL;
	}
	snprintf(exp, sizeof(exp), "%lld", (long long)c.exp);
	p[0] = c.jti;
	p[1] = user_id;
	p[2] = exp;
	if ((res = bw_db_query(req->db, SQL_REFRESH_INSERT, 3, p)) == NULL) {
		free(access);
		free(refresh);
		return NULL;
	}
	PQclear(res);
	out = json_pack("{s:s, s:s}", "access", access, "refresh", refresh);
	free(access);
	free(refresh);
	return out;
}

/* "Acme, Inc." -> "acme-inc" (at most 48 characters, never empty). */
static void
slugify(const char *name, char *out, size_t len)
{
	size_t	o = 0;
	int	dash = 0;

	for (; *name != '\0' && o + 1 < len && o < 48; name++) {
		if (isalnum((unsigned char)*name) &&
		    !((unsigned char)*name & 0x80)) {
			if (dash && o > 0)
				out[o++] = '-';
			dash = 0;
			if (o + 1 < len)
				out[o++] = (char)tolower((unsigned char)*name);
		} else {
			dash = 1;
		}
	}
	out[o] = '\0';
	if (o == 0)
		snprintf(out, len, "tenant");
}

static int
url_valid(const char *u)
{
	if (strncmp(u, "https://", 8) != 0 && strncmp(u, "http://", 7) != 0)
		return 0;
	for (; *u != '\0'; u++)
		if ((unsigned char)*u <= ' ' || (unsigned char)*u == 0x7f)
			return 0;
	return 1;
}

static int
tenants_registered_hook(struct bw_req *req, const char *tid,
    const char *company, const char *email)
{
	struct billow_tenant_ctx	ctx;
	char				who[64];

	ctx.req = (struct billow_req *)req;
	ctx.tenant_id = tid;
	ctx.company_name = company;
	ctx.email = email;
	if (bw_hook_action(BILLOW_HOOK_TENANT_REGISTERED, &ctx, who,
	    sizeof(who)) == BW_OK)
		return BW_OK;
	bw_log(BW_LOG_ERROR, "tenant.registered handler of plugin %s failed",
	    who);
	if (!req->failed)
		bw_err_internal(req);
	return BW_ERROR;
}

/*
 * One statement creates the tenant, its owner, its four keys and the
 * audit entry, so a crash leaves either all of it or nothing.
 */
#define SQL_REGISTER \
	"WITH t AS (INSERT INTO tenants (id, company_name, slug, email, " \
	" domain, webhook_url, webhook_secret) VALUES ($1, $2, " \
	" billow_free_slug($3), lower($4), $5, $6, $7) RETURNING id), " \
	"u AS (INSERT INTO users (tenant_id, id, email, password_hash, " \
	" first_name, last_name, role) SELECT t.id, $8, lower($4), $9, $10, " \
	" $11, 'owner' FROM t RETURNING id), " \
	"k AS (INSERT INTO api_keys (tenant_id, id, livemode, publishable, " \
	" key_hash, last4, public_key) SELECT t.id, v.id, v.live, v.pub, " \
	" v.hash, v.last4, v.pk FROM t, (VALUES " \
	" ($12, true, true, $13, right($14, 4), $14), " \
	" ($15, true, false, $16, $17, NULL), " \
	" ($18, false, true, $19, right($20, 4), $20), " \
	" ($21, false, false, $22, $23, NULL)) " \
	" AS v(id, live, pub, hash, last4, pk) RETURNING 1) " \
	"SELECT (SELECT count(*) FROM k) AS keys, (SELECT id FROM u) AS uid"

static int
tenants_register(struct bw_req *req)
{
	static const char *const allowed[] = { "company_name", "email",
	    "password", "first_name", "last_name", "domain", "webhook_url",
	    NULL };
	const char	*company, *email, *password, *first = NULL;
	const char	*last = NULL, *domain = NULL, *webhook = NULL;
	char		 tid[BW_ID_MAX], uid[BW_ID_MAX], slug[64];
	char		 kid[4][BW_ID_MAX], key[4][BW_APIKEY_MAX];
	char		 hash[4][65], whsec[BW_APIKEY_MAX], *pwhash;
	const char	*p[23];
	PGresult	*res;
	json_t		*tenant, *user, *tokens;
	int		 i;

	if (bw_auth_ip_limit(req, "register") != BW_OK ||
	    bw_body_object(req) != BW_OK ||
	    bw_params_only(req, req->json, allowed) != BW_OK ||
	    bw_param_str(req, req->json, "company_name", BW_P_REQUIRED, 200,
	    &company) != BW_OK ||
	    bw_param_email(req, req->json, "email", BW_P_REQUIRED, &email) !=
	    BW_OK ||
	    bw_param_str(req, req->json, "password", BW_P_REQUIRED,
	    PASSWORD_MAX, &password) == BW_ERROR ||
	    bw_param_str(req, req->json, "first_name", BW_P_NULLABLE, 100,
	    &first) == BW_ERROR ||
	    bw_param_str(req, req->json, "last_name", BW_P_NULLABLE, 100,
	    &last) == BW_ERROR ||
	    bw_param_str(req, req->json, "domain", BW_P_NULLABLE, 253,
	    &domain) == BW_ERROR ||
	    bw_param_str(req, req->json, "webhook_url", BW_P_NULLABLE, 2048,
	    &webhook) == BW_ERROR)
		return BW_ERROR;
	if (bw_utf8_len(password) < PASSWORD_MIN)
		return bw_err_invalid(req, "password", "password must be at "
		    "least %d characters.", PASSWORD_MIN);
	if (webhook != NULL && !url_valid(webhook))
		return bw_err_invalid(req, "webhook_url", "webhook_url must be "
		    "an http:// or https:// URL.");

	bw_id_new("ten", tid);
	bw_id_new("usr", uid);
	slugify(company, slug, sizeof(slug));
	bw_apikey_new(BW_KEY_PUBLISHABLE, 1, key[0]);
	bw_apikey_new(BW_KEY_SECRET, 1, key[1]);
	bw_apikey_new(BW_KEY_PUBLISHABLE, 0, key[2]);
	bw_apikey_new(BW_KEY_SECRET, 0, key[3]);
	for (i = 0; i < 4; i++) {
		bw_id_new("key", kid[i]);
		bw_sha256_hex(key[i], strlen(key[i]), hash[i]);
	}
	bw_webhook_secret_new(whsec);
	pwhash = bw_password_hash(password);

	p[0] = tid;
	p[1] = company;
	p[2] = slug;
	p[3] = email;
	p[4] = domain;
	p[5] = webhook;
	p[6] = whsec;
	p[7] = uid;
	p[8] = pwhash;
	p[9] = first != NULL ? first : "";
	p[10] = last != NULL ? last : "";
	p[11] = kid[0]; p[12] = hash[0]; p[13] = key[0];
	p[14] = kid[1]; p[15] = hash[1]; p[16] = key[1] + strlen(key[1]) - 4;
	p[17] = kid[2]; p[18] = hash[2]; p[19] = key[2];
	p[20] = kid[3]; p[21] = hash[3]; p[22] = key[3] + strlen(key[3]) - 4;

	if (bw_db_begin(req->db, tid, 0) != BW_OK) {
		free(pwhash);
		return BW_ERROR;
	}
	res = bw_db_query(req->db, SQL_REGISTER, 23, p);
	free(pwhash);
	if (res == NULL) {
		if (strcmp(bw_db_sqlstate(req->db), "23505") == 0 &&
		    strcmp(bw_db_constraint(req->db), "users_email") == 0)
			return bw_req_error(req, 409, "invalid_request_error",
			    "email_taken", "email", "An account with this "
			    "email already exists.");
		if (strcmp(bw_db_sqlstate(req->db), "23505") == 0)
			return bw_req_error(req, 409, "invalid_request_error",
			    "conflict", NULL, "A concurrent registration took "
			    "this name; retry.");
		return BW_ERROR;
	}
	PQclear(res);
	snprintf(req->who.tenant_id, sizeof(req->who.tenant_id), "%s", tid);
	req->who.kind = BW_PRINCIPAL_JWT;
	snprintf(req->who.user_id, sizeof(req->who.user_id), "%s", uid);
	req->who.role = BW_ROLE_OWNER;
	if (bw_audit(req, "tenant.registered", tid, NULL) != BW_OK)
		return BW_ERROR;
	if (tenants_registered_hook(req, tid, company, email) != BW_OK)
		return BW_ERROR;
	if ((tenant = tenant_load(req, BW_TENANT_FULL)) == NULL)
		return BW_ERROR;
	json_object_set_new(tenant, "api_key_secret", json_string(key[1]));
	json_object_set_new(tenant, "api_key_test_secret", json_string(key[3]));
	json_object_set_new(tenant, "webhook_secret", json_string(whsec));
	if ((user = user_load(req, uid)) == NULL) {
		json_decref(tenant);
		return BW_ERROR;
	}
	if ((tokens = tokens_issue(req, tid, uid, "owner", email)) == NULL) {
		json_decref(tenant);
		json_decref(user);
		return BW_ERROR;
	}
	return bw_req_json(req, 201, json_pack("{s:s, s:o, s:o, s:o}",
	    "message", "Tenant registered successfully", "tenant", tenant,
	    "user", user, "tokens", tokens));
}

static int
tenants_login(struct bw_req *req)
{
	static const char *const allowed[] = { "email", "password", NULL };
	const char	*email, *password, *p[1];
	char		 uid[BW_ID_MAX], tid[BW_ID_MAX];
	PGresult	*res;
	json_t		*tenant, *user, *tokens;
	int		 ok;

	if (bw_auth_ip_limit(req, "login") != BW_OK ||
	    bw_body_object(req) != BW_OK ||
	    bw_params_only(req, req->json, allowed) != BW_OK ||
	    bw_param_str(req, req->json, "email", BW_P_REQUIRED, 254,
	    &email) != BW_OK ||
	    bw_param_str(req, req->json, "password", BW_P_REQUIRED,
	    PASSWORD_MAX, &password) != BW_OK)
		return BW_ERROR;
	if (bw_auth_lockout_check(req, email) != BW_OK)
		return BW_ERROR;

	p[0] = email;
	if ((res = bw_db_query(req->db, "SELECT * FROM billow_auth_login($1)",
	    1, p)) == NULL)
		return BW_ERROR;
	if (PQntuples(res) != 1) {
		PQclear(res);
		bw_password_burn(password);
		bw_auth_lockout_fail(req, email);
		return bw_req_error(req, 401, "authentication_error",
		    "invalid_credentials", NULL, "Invalid email or password.");
	}
	ok = bw_password_verify(bw_db_val(res, 0, "password_hash"),
	    password) == BW_OK;
	ok = ok && strcmp(bw_db_val(res, 0, "tenant_active"), "t") == 0;
	snprintf(uid, sizeof(uid), "%s", bw_db_val(res, 0, "user_id"));
	snprintf(tid, sizeof(tid), "%s", bw_db_val(res, 0, "tenant_id"));
	PQclear(res);
	if (!ok) {
		bw_auth_lockout_fail(req, email);
		return bw_req_error(req, 401, "authentication_error",
		    "invalid_credentials", NULL, "Invalid email or password.");
	}
	bw_auth_lockout_clear(req, email);

	snprintf(req->who.tenant_id, sizeof(req->who.tenant_id), "%s", tid);
	if (bw_db_begin(req->db, tid, 0) != BW_OK)
		return BW_ERROR;
	if ((user = user_load(req, uid)) == NULL)
		return BW_ERROR;
	if ((tenant = tenant_load(req, BW_TENANT_LAST4)) == NULL) {
		json_decref(user);
		return BW_ERROR;
	}
	tokens = tokens_issue(req, tid, uid,
	    json_string_value(json_object_get(user, "role")),
	    json_string_value(json_object_get(user, "email")));
	if (tokens == NULL) {
		json_decref(user);
		json_decref(tenant);
		return BW_ERROR;
	}
	return bw_req_json(req, 200, json_pack("{s:o, s:o, s:o}", "user",
	    user, "tenant", tenant, "tokens", tokens));
}

/*
 * Answered from the authenticated key alone (no transaction): the key
 * lookup already proved the tenant active and carries its name and slug,
 * and any change to them bumps the cache generation.
 */
static int
tenants_verify(struct bw_req *req)
{
	json_t	*t;

	t = json_pack("{s:s, s:s, s:s}", "id", req->who.tenant_id,
	    "company_name", req->who.tenant_name, "slug",
	    req->who.tenant_slug);
	return bw_req_json(req, 200, json_pack("{s:b, s:o, s:s, s:s}",
	    "valid", 1, "tenant", t, "mode", req->who.livemode ? "live" :
	    "test", "key_type", req->who.publishable ? "publishable" :
	    "secret"));
}

static int
tenants_me(struct bw_req *req)
{
	json_t	*user, *tenant;

	if ((user = user_load(req, req->who.user_id)) == NULL)
		return BW_ERROR;
	if ((tenant = tenant_load(req, BW_TENANT_LAST4)) == NULL) {
		json_decref(user);
		return BW_ERROR;
	}
	return bw_req_json(req, 200, json_pack("{s:o, s:o}", "user", user,
	    "tenant", tenant));
}

static int
tenants_details(struct bw_req *req)
{
	json_t	*t;

	t = tenant_load(req, req->who.publishable ? BW_TENANT_PUBLIC :
	    BW_TENANT_LAST4);
	if (t == NULL)
		return BW_ERROR;
	return bw_req_json(req, 200, t);
}

/* dunning_retry_days: 1 to 4 strictly increasing integers in 1..60. */
static int
retry_days_parse(struct bw_req *req, json_t *v, char *out, size_t len)
{
	size_t	i, o = 0;
	int64_t	prev = 0, d;

	if (!json_is_array(v) || json_array_size(v) < 1 ||
	    json_array_size(v) > 4)
		return bw_err_invalid(req, "dunning_retry_days",
		    "dunning_retry_days must be an array of 1 to 4 integers.");
	o += (size_t)snprintf(out, len, "{");
	for (i = 0; i < json_array_size(v); i++) {
		if (!json_is_integer(json_array_get(v, i)))
			return bw_err_invalid(req, "dunning_retry_days",
			    "dunning_retry_days must contain integers.");
		d = json_integer_value(json_array_get(v, i));
		if (d < 1 || d > 60 || d <= prev)
			return bw_err_invalid(req, "dunning_retry_days",
			    "dunning_retry_days must be strictly increasing "
			    "days between 1 and 60.");
		prev = d;
		o += (size_t)snprintf(out + o, len - o, "%s%lld",
		    i > 0 ? "," : "", (long long)d);
	}
	snprintf(out + o, len - o, "}");
	return BW_OK;
}

#define SQL_TENANT_PATCH \
	"UPDATE tenants SET " \
	"company_name = coalesce($2, company_name), " \
	"domain = CASE WHEN $3::boolean THEN $4 ELSE domain END, " \
	"webhook_url = CASE WHEN $5::boolean THEN $6 ELSE webhook_url END, " \
	"branding_json = coalesce($7::jsonb, branding_json), " \
	"is_test_mode = coalesce($8::boolean, is_test_mode), " \
	"dunning_retry_days = coalesce($9::integer[], dunning_retry_days), " \
	"dunning_final_action = coalesce($10, dunning_final_action) " \
	"WHERE id = $1"

static int
tenants_patch(struct bw_req *req)
{
	static const char *const allowed[] = { "company_name", "domain",
	    "webhook_url", "branding_json", "is_test_mode",
	    "dunning_retry_days", "dunning_final_action", NULL };
	static const char *const actions[] = { "cancel", "unpaid", NULL };
	const char	*company = NULL, *domain = NULL, *webhook = NULL;
	const char	*action = NULL, *p[10];
	char		*branding = NULL, days[64];
	json_t		*bj = NULL, *v, *t;
	int		 test = -1, rc;
	PGresult	*res;

	if (bw_body_object(req) != BW_OK ||
	    bw_params_only(req, req->json, allowed) != BW_OK ||
	    bw_param_str(req, req->json, "company_name", BW_P_OPTIONAL, 200,
	    &company) == BW_ERROR ||
	    bw_param_str(req, req->json, "domain", BW_P_NULLABLE, 253,
	    &domain) == BW_ERROR ||
	    bw_param_str(req, req->json, "webhook_url", BW_P_NULLABLE, 2048,
	    &webhook) == BW_ERROR ||
	    bw_param_object(req, req->json, "branding_json", BW_P_OPTIONAL,
	    &bj) == BW_ERROR ||
	    bw_param_bool(req, req->json, "is_test_mode", BW_P_OPTIONAL,
	    &test) == BW_ERROR ||
	    bw_param_enum(req, req->json, "dunning_final_action",
	    BW_P_OPTIONAL, actions, &action) == BW_ERROR)
		return BW_ERROR;
	if (company != NULL && *company == '\0')
		return bw_err_invalid(req, "company_name", "company_name may "
		    "not be empty.");
	if (webhook != NULL && !url_valid(webhook))
		return bw_err_invalid(req, "webhook_url", "webhook_url must be "
		    "an http:// or https:// URL.");
	days[0] = '\0';
	if ((v = json_object_get(req->json, "dunning_retry_days")) != NULL &&
	    retry_days_parse(req, v, days, sizeof(days)) != BW_OK)
		return BW_ERROR;
	if (bj != NULL) {
		branding = json_dumps(bj, JSON_COMPACT);
		if (branding == NULL || strlen(branding) > 16384) {
			free(branding);
			return bw_err_invalid(req, "branding_json",
			    "branding_json must be at most 16 KiB.");
		}
	}
	p[0] = req->who.tenant_id;
	p[1] = company;
	p[2] = json_object_get(req->json, "domain") != NULL ? "t" : "f";
	p[3] = domain;
	p[4] = json_object_get(req->json, "webhook_url") != NULL ? "t" : "f";
	p[5] = webhook;
	p[6] = branding;
	p[7] = test < 0 ? NULL : test ? "t" : "f";
	p[8] = days[0] != '\0' ? days : NULL;
	p[9] = action;
	res = bw_db_query(req->db, SQL_TENANT_PATCH, 10, p);
	free(branding);
	if (res == NULL)
		return BW_ERROR;
	PQclear(res);
	rc = bw_audit(req, "tenant.updated", req->who.tenant_id,
	    json_deep_copy(req->json));
	/* Cached key look-ups carry the company name. */
	if (company != NULL)
		req->after_commit = bw_auth_invalidate;
	if (rc != BW_OK || (t = tenant_load(req, BW_TENANT_LAST4)) == NULL)
		return BW_ERROR;
	return bw_req_json(req, 200, t);
}

#define SQL_REFRESH_USE \
	"UPDATE refresh_tokens SET revoked_at = now() WHERE jti = $1 AND " \
	"user_id = $2 AND revoked_at IS NULL AND expires_at > now() " \
	"RETURNING (SELECT role FROM users WHERE id = $2) AS role, " \
	"(SELECT email FROM users WHERE id = $2) AS email"
#define SQL_REFRESH_REVOKE_ALL \
	"UPDATE refresh_tokens SET revoked_at = now() WHERE user_id = $1 " \
	"AND revoked_at IS NULL"

static int
tenants_refresh(struct bw_req *req)
{
	static const char *const allowed[] = { "refresh", NULL };
	struct bw_jwt_claims	 c;
	const char		*token, *p[2];
	char			 role[16], email[320];
	PGresult		*res;
	json_t			*tokens;

	if (bw_body_object(req) != BW_OK ||
	    bw_params_only(req, req->json, allowed) != BW_OK ||
	    bw_param_str(req, req->json, "refresh", BW_P_REQUIRED, 8192,
	    &token) != BW_OK)
		return BW_ERROR;
	if (bw_jwt_verify(token, bw_server.cfg->jwt_secret,
	    bw_time_us() / 1000000, &c) != BW_OK ||
	    strcmp(c.typ, "refresh") != 0 || c.tenant_id[0] == '\0')
		return bw_req_error(req, 401, "authentication_error",
		    "invalid_token", "refresh", "The refresh token is invalid "
		    "or expired.");
	/* The session check runs before the tenant context exists. */
	p[0] = c.sub;
	p[1] = c.tenant_id;
	if ((res = bw_db_query(req->db, "SELECT role FROM "
	    "billow_auth_session($1, $2)", 2, p)) == NULL)
		return BW_ERROR;
	if (PQntuples(res) != 1) {
		PQclear(res);
		return bw_req_error(req, 401, "authentication_error",
		    "invalid_token", "refresh", "The refresh token is invalid "
		    "or expired.");
	}
	PQclear(res);

	snprintf(req->who.tenant_id, sizeof(req->who.tenant_id), "%s",
	    c.tenant_id);
	if (bw_db_begin(req->db, c.tenant_id, 0) != BW_OK)
		return BW_ERROR;
	p[0] = c.jti;
	p[1] = c.sub;
	if ((res = bw_db_query(req->db, SQL_REFRESH_USE, 2, p)) == NULL)
		return BW_ERROR;
	if (PQntuples(res) != 1) {
		/*
		 * A revoked (or unknown) token presented again: someone may
		 * hold a stolen copy, so every session of the user ends. The
		 * revocation commits even though the answer is 401.
		 */
		PQclear(res);
		p[0] = c.sub;
		if ((res = bw_db_query_commit(req->db,
		    SQL_REFRESH_REVOKE_ALL, 1, p)) == NULL)
			return BW_ERROR;
		PQclear(res);
		bw_log(BW_LOG_WARN, "refresh token reuse for user %s; all "
		    "sessions revoked", c.sub);
		return bw_req_error(req, 401, "authentication_error",
		    "token_revoked", "refresh", "This refresh token was "
		    "already used; all sessions were signed out.");
	}
	snprintf(role, sizeof(role), "%s", bw_db_val(res, 0, "role"));
	snprintf(email, sizeof(email), "%s", bw_db_val(res, 0, "email"));
	PQclear(res);
	if ((tokens = tokens_issue(req, c.tenant_id, c.sub, role, email)) ==
	    NULL)
		return BW_ERROR;
	if (bw_db_commit(req->db) != BW_OK) {
		json_decref(tokens);
		return BW_ERROR;
	}
	return bw_req_json(req, 200, tokens);
}

static int
tenants_change_password(struct bw_req *req)
{
	static const char *const allowed[] = { "old_password", "new_password",
	    NULL };
	const char	*oldpw, *newpw, *p[2];
	char		*hash;
	PGresult	*res;
	int		 ok;

	if (bw_body_object(req) != BW_OK ||
	    bw_params_only(req, req->json, allowed) != BW_OK ||
	    bw_param_str(req, req->json, "old_password", BW_P_REQUIRED,
	    PASSWORD_MAX, &oldpw) != BW_OK ||
	    bw_param_str(req, req->json, "new_password", BW_P_REQUIRED,
	    PASSWORD_MAX, &newpw) != BW_OK)
		return BW_ERROR;
	if (bw_utf8_len(newpw) < PASSWORD_MIN)
		return bw_err_invalid(req, "new_password", "new_password must "
		    "be at least %d characters.", PASSWORD_MIN);
	p[0] = req->who.user_id;
	if ((res = bw_db_query(req->db, "SELECT password_hash FROM users "
	    "WHERE id = $1", 1, p)) == NULL)
		return BW_ERROR;
	ok = PQntuples(res) == 1 && bw_password_verify(bw_db_val(res, 0,
	    "password_hash"), oldpw) == BW_OK;
	PQclear(res);
	if (!ok)
		return bw_req_error(req, 400, "invalid_request_error",
		    "incorrect_password", "old_password", "The current "
		    "password is incorrect.");
	hash = bw_password_hash(newpw);
	p[1] = hash;
	res = bw_db_query(req->db, "UPDATE users SET password_hash = $2 "
	    "WHERE id = $1", 2, p);
	free(hash);
	if (res == NULL)
		return BW_ERROR;
	PQclear(res);
	if ((res = bw_db_query(req->db, SQL_REFRESH_REVOKE_ALL, 1, p)) == NULL)
		return BW_ERROR;
	PQclear(res);
	if (bw_audit(req, "user.password_changed", req->who.user_id, NULL) !=
	    BW_OK)
		return BW_ERROR;
	return bw_req_json(req, 200, json_pack("{s:s}", "message",
	    "Password changed; other sessions were signed out."));
}

static int
tenants_logout(struct bw_req *req)
{
	static const char *const allowed[] = { "refresh", NULL };
	struct bw_jwt_claims	 c;
	const char		*token, *p[2];
	PGresult		*res;

	if (bw_body_object(req) != BW_OK ||
	    bw_params_only(req, req->json, allowed) != BW_OK ||
	    bw_param_str(req, req->json, "refresh", BW_P_REQUIRED, 8192,
	    &token) != BW_OK)
		return BW_ERROR;
	if (bw_jwt_verify(token, bw_server.cfg->jwt_secret,
	    bw_time_us() / 1000000, &c) != BW_OK ||
	    strcmp(c.typ, "refresh") != 0 ||
	    strcmp(c.sub, req->who.user_id) != 0)
		return bw_err_invalid(req, "refresh", "refresh is not a valid "
		    "refresh token of this user.");
	p[0] = c.jti;
	p[1] = c.sub;
	if ((res = bw_db_query(req->db, "UPDATE refresh_tokens SET "
	    "revoked_at = coalesce(revoked_at, now()) WHERE jti = $1 AND "
	    "user_id = $2", 2, p)) == NULL)
		return BW_ERROR;
	PQclear(res);
	return bw_req_json(req, 200, json_pack("{s:s}", "message",
	    "Logged out."));
}

#define SQL_KEY_ROLL \
	"WITH old AS (UPDATE api_keys SET expires_at = now() + " \
	" make_interval(secs => $6::int) WHERE livemode = $2::boolean AND " \
	" publishable = $3::boolean AND (expires_at IS NULL OR expires_at > " \
	" now() + make_interval(secs => $6::int)) RETURNING id) " \
	"INSERT INTO api_keys (tenant_id, id, livemode, publishable, " \
	" key_hash, last4, public_key) VALUES (current_setting(" \
	" 'app.tenant_id'), $1, $2::boolean, $3::boolean, $4, $5, " \
	" CASE WHEN $3::boolean THEN $7 END) " \
	"RETURNING extract(epoch FROM created)::bigint AS created, " \
	" extract(epoch FROM now() + make_interval(secs => $6::int))::bigint " \
	" AS old_expires, (SELECT count(*) FROM old) AS rolled"

static int
tenants_roll_key(struct bw_req *req)
{
	static const char *const allowed[] = { "type", "mode",
	    "expire_old_in_seconds", NULL };
	static const char *const types[] = { "secret", "publishable", NULL };
	static const char *const modes[] = { "test", "live", NULL };
	const char	*type, *mode, *p[7];
	char		 id[BW_ID_MAX], key[BW_APIKEY_MAX], hash[65];
	char		 delay[24], created[32], expires[32];
	int64_t		 secs = 0;
	int		 pub, live;
	PGresult	*res;
	json_t		*out;

	if (bw_body_object(req) != BW_OK ||
	    bw_params_only(req, req->json, allowed) != BW_OK ||
	    bw_param_enum(req, req->json, "type", BW_P_REQUIRED, types,
	    &type) != BW_OK ||
	    bw_param_enum(req, req->json, "mode", BW_P_REQUIRED, modes,
	    &mode) != BW_OK ||
	    bw_param_int(req, req->json, "expire_old_in_seconds",
	    BW_P_OPTIONAL, 0, 604800, &secs) == BW_ERROR)
		return BW_ERROR;
	pub = strcmp(type, "publishable") == 0;
	live = strcmp(mode, "live") == 0;
	bw_id_new("key", id);
	bw_apikey_new(pub ? BW_KEY_PUBLISHABLE : BW_KEY_SECRET, live, key);
	bw_sha256_hex(key, strlen(key), hash);
	snprintf(delay, sizeof(delay), "%lld", (long long)secs);
	p[0] = id;
	p[1] = live ? "t" : "f";
	p[2] = pub ? "t" : "f";
	p[3] = hash;
	p[4] = key + strlen(key) - 4;
	p[5] = delay;
	p[6] = key;
	if ((res = bw_db_query(req->db, SQL_KEY_ROLL, 7, p)) == NULL)
		return BW_ERROR;
	bw_time_rfc3339(bw_db_int(res, 0, "created"), created,
	    sizeof(created));
	bw_time_rfc3339(bw_db_int(res, 0, "old_expires"), expires,
	    sizeof(expires));
	out = json_pack("{s:s, s:s, s:s, s:s, s:s, s:b, s:s, s:s}",
	    "object", "api_key", "id", id, "type", type, "mode", mode,
	    "key", key, "livemode", live, "created", created,
	    "old_key_expires_at", expires);
	PQclear(res);
	if (bw_audit(req, "api_key.rolled", id, json_pack("{s:s, s:s, s:I}",
	    "type", type, "mode", mode, "expire_old_in_seconds",
	    (json_int_t)secs)) != BW_OK) {
		json_decref(out);
		return BW_ERROR;
	}
	/* Once committed, no worker may keep trusting a cached old key. */
	req->after_commit = bw_auth_invalidate;
	return bw_req_json(req, 201, out);
}

#define SQL_AUDIT_LIST \
	"SELECT id, actor_type, actor_id, actor_email, action, target, " \
	"details::text AS details, extract(epoch FROM created)::bigint AS " \
	"created FROM audit_logs"

static int
tenants_audit_logs(struct bw_req *req)
{
	struct bw_page	 page;
	char		 created[32];
	PGresult	*res;
	json_t		*items, *details;
	int		 i;

	if (bw_page_parse(req, "aud", &page) != BW_OK)
		return BW_ERROR;
	if ((res = bw_page_query(req, &page, SQL_AUDIT_LIST, "id")) == NULL)
		return BW_ERROR;
	items = json_array();
	for (i = 0; i < PQntuples(res); i++) {
		bw_time_rfc3339(bw_db_int(res, i, "created"), created,
		    sizeof(created));
		details = json_parse_or(bw_db_val(res, i, "details"),
		    json_object());
		json_array_append_new(items, json_pack("{s:s, s:s, s:s, s:s, "
		    "s:o, s:s, s:o, s:o, s:s}", "object", "audit_log",
		    "id", bw_db_val(res, i, "id"),
		    "actor_type", bw_db_val(res, i, "actor_type"),
		    "actor_id", bw_db_val(res, i, "actor_id"),
		    "actor_email", json_str_or_null(bw_db_val(res, i,
		    "actor_email")),
		    "action", bw_db_val(res, i, "action"),
		    "target", json_str_or_null(bw_db_val(res, i, "target")),
		    "details", details, "created", created));
	}
	PQclear(res);
	return bw_page_respond(req, &page, items, "/api/v1/audit_logs");
}

int
bw_audit(struct bw_req *req, const char *action, const char *target,
    json_t *details)
{
	const char	*p[6];
	char		 id[BW_ID_MAX], *d;
	PGresult	*res;

	bw_id_new("aud", id);
	d = details != NULL ? json_dumps(details, JSON_COMPACT) : NULL;
	if (details != NULL)
		json_decref(details);
	p[0] = id;
	switch (req->who.kind) {
	case BW_PRINCIPAL_KEY:
		p[1] = "api_key";
		p[2] = req->who.key_id;
		p[3] = NULL;
		break;
	case BW_PRINCIPAL_ADMIN:
		p[1] = "admin";
		p[2] = req->who.user_id;
		p[3] = req->who.email[0] ? req->who.email : NULL;
		break;
	default:
		p[1] = "user";
		p[2] = req->who.user_id[0] ? req->who.user_id : "system";
		p[3] = req->who.email[0] ? req->who.email : NULL;
		break;
	}
	p[4] = action;
	p[5] = target;
	res = bw_db_query(req->db, d != NULL ?
	    "INSERT INTO audit_logs (tenant_id, id, actor_type, actor_id, "
	    "actor_email, action, target, details) VALUES "
	    "(current_setting('app.tenant_id'), $1, $2, $3, $4, $5, $6, $7)" :
	    "INSERT INTO audit_logs (tenant_id, id, actor_type, actor_id, "
	    "actor_email, action, target) VALUES "
	    "(current_setting('app.tenant_id'), $1, $2, $3, $4, $5, $6)",
	    d != NULL ? 7 : 6, (const char *[]){ p[0], p[1], p[2], p[3], p[4],
	    p[5], d });
	free(d);
	if (res == NULL)
		return BW_ERROR;
	PQclear(res);
	return BW_OK;
}

static const struct bw_route tenant_routes[] = {
	{ .method = BW_POST, .pattern = "/api/v1/auth/tenants/register",
	  .auth = BW_AUTH_PUBLIC, .handler = tenants_register,
	  .flags = BW_ROUTE_NO_TX },
	{ .method = BW_POST, .pattern = "/api/v1/auth/tenants/login",
	  .auth = BW_AUTH_PUBLIC, .handler = tenants_login,
	  .flags = BW_ROUTE_NO_TX },
	{ .method = BW_GET, .pattern = "/api/v1/auth/tenants/verify",
	  .auth = BW_AUTH_SECRET | BW_AUTH_PUBLISHABLE,
	  .handler = tenants_verify,
	  .flags = BW_ROUTE_NO_TX | BW_ROUTE_FAST },
	{ .method = BW_GET, .pattern = "/api/v1/auth/tenants/me",
	  .auth = BW_AUTH_JWT, .handler = tenants_me },
	{ .method = BW_GET, .pattern = "/api/v1/auth/tenants/details",
	  .auth = BW_AUTH_SECRET | BW_AUTH_PUBLISHABLE | BW_AUTH_JWT,
	  .handler = tenants_details },
	{ .method = BW_PATCH, .pattern = "/api/v1/auth/tenants/details",
	  .auth = BW_AUTH_JWT, .role = BW_ROLE_ADMIN,
	  .handler = tenants_patch },
	{ .method = BW_POST, .pattern = "/api/v1/auth/tenants/token/refresh",
	  .auth = BW_AUTH_PUBLIC, .handler = tenants_refresh,
	  .flags = BW_ROUTE_NO_TX },
	{ .method = BW_POST, .pattern = "/api/v1/auth/tenants/change-password",
	  .auth = BW_AUTH_JWT, .role = BW_ROLE_DEVELOPER,
	  .handler = tenants_change_password,
	  .flags = BW_ROUTE_NO_IDEM | BW_ROUTE_SELF },
	{ .method = BW_POST, .pattern = "/api/v1/auth/tenants/logout",
	  .auth = BW_AUTH_JWT, .role = BW_ROLE_DEVELOPER,
	  .handler = tenants_logout,
	  .flags = BW_ROUTE_NO_IDEM | BW_ROUTE_SELF },
	{ .method = BW_POST, .pattern = "/api/v1/auth/tenants/api-keys/roll",
	  .auth = BW_AUTH_JWT, .role = BW_ROLE_OWNER,
	  /* A stored replay would keep the new secret in clear for 24 h. */
	  .handler = tenants_roll_key, .flags = BW_ROUTE_NO_IDEM },
	{ .method = BW_GET, .pattern = "/api/v1/audit_logs",
	  .auth = BW_AUTH_JWT, .role = BW_ROLE_ADMIN,
	  .handler = tenants_audit_logs },
};

BW_ROUTE_TABLE(bw_api_tenants, tenant_routes);
