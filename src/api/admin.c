/*
 * Platform administration (API.md "Platform admin"): admin login, tenant
 * list/get/patch and platform metrics. Admin transactions set
 * app.platform_admin, which only the tenants and platform_admins policies
 * honour; no tenant's billing data is reachable from here.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/api.h"
#include "api/tenant.h"
#include "auth/auth.h"
#include "auth/crypto.h"
#include "db/db.h"
#include "server/server.h"

static int
admin_login(struct bw_req *req)
{
	static const char *const allowed[] = { "email", "password", NULL };
	struct bw_jwt_claims	 c;
	const char		*email, *password, *p[1];
	char			*token, id[BW_ID_MAX];
	PGresult		*res;
	int			 ok;

	if (bw_auth_ip_limit(req, "login") != BW_OK ||
	    bw_body_object(req) != BW_OK ||
	    bw_params_only(req, req->json, allowed) != BW_OK ||
	    bw_param_str(req, req->json, "email", BW_P_REQUIRED, 254,
	    &email) != BW_OK ||
	    bw_param_str(req, req->json, "password", BW_P_REQUIRED, 256,
	    &password) != BW_OK ||
	    bw_auth_lockout_check(req, email) != BW_OK)
		return BW_ERROR;
	p[0] = email;
	if ((res = bw_db_query(req->db, "SELECT * FROM "
	    "billow_auth_admin_login($1)", 1, p)) == NULL)
		return BW_ERROR;
	if (PQntuples(res) == 1) {
		ok = bw_password_verify(bw_db_val(res, 0, "password_hash"),
		    password) == BW_OK;
		snprintf(id, sizeof(id), "%s", bw_db_val(res, 0, "id"));
	} else {
		bw_password_burn(password);
		ok = 0;
	}
	PQclear(res);
	if (!ok) {
		bw_auth_lockout_fail(req, email);
		return bw_req_error(req, 401, "authentication_error",
		    "invalid_credentials", NULL, "Invalid email or password.");
	}
	bw_auth_lockout_clear(req, email);
	memset(&c, 0, sizeof(c));
	snprintf(c.sub, sizeof(c.sub), "%s", id);
	snprintf(c.email, sizeof(c.email), "%s", email);
	snprintf(c.role, sizeof(c.role), "platform_admin");
	snprintf(c.typ, sizeof(c.typ), "admin");
	bw_id_new("jti", c.jti);
	c.iat = bw_time_us() / 1000000;
	c.exp = c.iat + bw_server.cfg->access_ttl_s;
	if ((token = bw_jwt_sign(&c, bw_server.cfg->jwt_secret)) == NULL)
		return bw_err_internal(req);
	res = NULL;
	bw_req_json(req, 200, json_pack("{s:{s:s, s:s, s:s}, s:{s:s}}",
	    "admin", "object", "platform_admin", "id", id, "email", email,
	    "tokens", "access", token));
	free(token);
	return BW_OK;
}

static int
admin_tenants_list(struct bw_req *req)
{
	struct bw_page	 page;
	PGresult	*res;
	json_t		*items;
	int		 i;

	if (bw_page_parse(req, "ten", &page) != BW_OK)
		return BW_ERROR;
	if ((res = bw_page_query(req, &page, bw_sql_tenant_select,
	    "t.id")) == NULL)
		return BW_ERROR;
	items = json_array();
	for (i = 0; i < PQntuples(res); i++)
		json_array_append_new(items, bw_tenant_json(res, i,
		    BW_TENANT_LAST4));
	PQclear(res);
	return bw_page_respond(req, &page, items, "/api/v1/admin/tenants");
}

static int
admin_tenant_respond(struct bw_req *req, int status)
{
	const char	*p[1] = { bw_req_param(req, 0) };
	char		*sql;
	PGresult	*res;
	json_t		*t;

	sql = bw_arena_printf(&req->arena, "%sWHERE t.id = $1",
	    bw_sql_tenant_select);
	if ((res = bw_db_query(req->db, sql, 1, p)) == NULL)
		return BW_ERROR;
	if (PQntuples(res) != 1) {
		PQclear(res);
		return bw_err_not_found(req, "tenant");
	}
	t = bw_tenant_json(res, 0, BW_TENANT_LAST4);
	PQclear(res);
	return bw_req_json(req, status, t);
}

static int
admin_tenant_get(struct bw_req *req)
{
	return admin_tenant_respond(req, 200);
}

/* "12.5", "12.50", "7" -> basis points; at most two decimals, 0..100. */
static int
fee_parse(const char *s, long long *bps)
{
	long long	whole = 0, frac = 0;
	int		digits = 0, fd = 0;

	for (; *s >= '0' && *s <= '9'; s++, digits++)
		if ((whole = whole * 10 + (*s - '0')) > 100)
			return BW_ERROR;
	if (digits == 0)
		return BW_ERROR;
	if (*s == '.') {
		for (s++; *s >= '0' && *s <= '9'; s++, fd++) {
			if (fd >= 2)
				return BW_ERROR;
			frac = frac * 10 + (*s - '0');
		}
		if (fd == 0)
			return BW_ERROR;
		if (fd == 1)
			frac *= 10;
	}
	if (*s != '\0')
		return BW_ERROR;
	*bps = whole * 100 + frac;
	return *bps <= 10000 ? BW_OK : BW_ERROR;
}

static int
admin_tenant_patch(struct bw_req *req)
{
	static const char *const allowed[] = { "is_active",
	    "platform_fee_percentage", "subscription_tier", NULL };
	const char	*fee = NULL, *tier = NULL, *p[4];
	char		 bps_s[16];
	long long	 bps;
	int		 active = -1;
	PGresult	*res;

	if (bw_body_object(req) != BW_OK ||
	    bw_params_only(req, req->json, allowed) != BW_OK ||
	    bw_param_bool(req, req->json, "is_active", BW_P_OPTIONAL,
	    &active) == BW_ERROR ||
	    bw_param_str(req, req->json, "platform_fee_percentage",
	    BW_P_OPTIONAL, 8, &fee) == BW_ERROR ||
	    bw_param_str(req, req->json, "subscription_tier", BW_P_OPTIONAL,
	    32, &tier) == BW_ERROR)
		return BW_ERROR;
	if (fee != NULL && fee_parse(fee, &bps) != BW_OK)
		return bw_err_invalid(req, "platform_fee_percentage",
		    "platform_fee_percentage must be a decimal string from "
		    "\"0\" to \"100\" with at most two decimals.");
	if (tier != NULL && *tier == '\0')
		return bw_err_invalid(req, "subscription_tier",
		    "subscription_tier may not be empty.");
	if (fee != NULL)
		snprintf(bps_s, sizeof(bps_s), "%lld", bps);
	p[0] = bw_req_param(req, 0);
	p[1] = active < 0 ? NULL : active ? "t" : "f";
	p[2] = fee != NULL ? bps_s : NULL;
	p[3] = tier;
	if ((res = bw_db_query(req->db, "UPDATE tenants SET is_active = "
	    "coalesce($2::boolean, is_active), platform_fee_bps = "
	    "coalesce($3::int, platform_fee_bps), subscription_tier = "
	    "coalesce($4, subscription_tier) WHERE id = $1", 4, p)) == NULL)
		return BW_ERROR;
	if (strcmp(PQcmdTuples(res), "0") == 0) {
		PQclear(res);
		return bw_err_not_found(req, "tenant");
	}
	PQclear(res);
	/* A deactivated tenant's cached keys must stop working at once. */
	if (active >= 0)
		req->after_commit = bw_auth_invalidate;
	return admin_tenant_respond(req, 200);
}

static int
admin_metrics(struct bw_req *req)
{
	PGresult	*res;
	json_t		*out;

	if ((res = bw_db_query(req->db, "SELECT count(*) AS tenants, "
	    "count(*) FILTER (WHERE is_active) AS active, "
	    "count(*) FILTER (WHERE stripe_connect_status = 'active') AS "
	    "connected FROM tenants", 0, NULL)) == NULL)
		return BW_ERROR;
	out = json_pack("{s:s, s:I, s:I, s:I}", "object", "platform_metrics",
	    "tenants", (json_int_t)bw_db_int(res, 0, "tenants"),
	    "active_tenants", (json_int_t)bw_db_int(res, 0, "active"),
	    "connected_tenants", (json_int_t)bw_db_int(res, 0, "connected"));
	PQclear(res);
	return bw_req_json(req, 200, out);
}

static const struct bw_route admin_routes[] = {
	{ .method = BW_POST, .pattern = "/api/v1/admin/login",
	  .auth = BW_AUTH_PUBLIC, .handler = admin_login,
	  .flags = BW_ROUTE_NO_TX },
	{ .method = BW_GET, .pattern = "/api/v1/admin/tenants",
	  .auth = BW_AUTH_ADMIN, .handler = admin_tenants_list },
	{ .method = BW_GET, .pattern = "/api/v1/admin/tenants/{id}",
	  .auth = BW_AUTH_ADMIN, .handler = admin_tenant_get },
	{ .method = BW_PATCH, .pattern = "/api/v1/admin/tenants/{id}",
	  .auth = BW_AUTH_ADMIN, .handler = admin_tenant_patch },
	{ .method = BW_GET, .pattern = "/api/v1/admin/metrics",
	  .auth = BW_AUTH_ADMIN, .handler = admin_metrics },
};

BW_ROUTE_TABLE(bw_api_admin, admin_routes);
