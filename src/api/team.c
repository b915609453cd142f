/*
 * Team users: list, invite (with a password), change role or name, remove
 * (API.md "Tenants and team"; owner only). The last owner can be neither
 * removed nor demoted. Runs on task threads inside the tenant transaction.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/api.h"
#include "api/tenant.h"
#include "auth/crypto.h"
#include "db/db.h"

#define SQL_USERS \
	"SELECT id, email, first_name, last_name, role, " \
	"extract(epoch FROM created)::bigint AS created FROM users"

static int
team_list(struct bw_req *req)
{
	struct bw_page	 page;
	PGresult	*res;
	json_t		*items;
	int		 i;

	if (bw_page_parse(req, "usr", &page) != BW_OK)
		return BW_ERROR;
	if ((res = bw_page_query(req, &page, SQL_USERS, "id")) == NULL)
		return BW_ERROR;
	items = json_array();
	for (i = 0; i < PQntuples(res); i++)
		json_array_append_new(items, bw_user_json(res, i));
	PQclear(res);
	return bw_page_respond(req, &page, items, "/api/v1/auth/tenants/users");
}

static int
team_create(struct bw_req *req)
{
	static const char *const allowed[] = { "email", "password", "role",
	    "first_name", "last_name", NULL };
	static const char *const roles[] = { "admin", "developer", NULL };
	const char	*email, *password, *role, *first = NULL, *last = NULL;
	const char	*p[6];
	char		 id[BW_ID_MAX], *hash;
	PGresult	*res;
	json_t		*u;

	if (bw_body_object(req) != BW_OK ||
	    bw_params_only(req, req->json, allowed) != BW_OK ||
	    bw_param_email(req, req->json, "email", BW_P_REQUIRED, &email) !=
	    BW_OK ||
	    bw_param_str(req, req->json, "password", BW_P_REQUIRED, 256,
	    &password) != BW_OK ||
	    bw_param_enum(req, req->json, "role", BW_P_REQUIRED, roles,
	    &role) != BW_OK ||
	    bw_param_str(req, req->json, "first_name", BW_P_NULLABLE, 100,
	    &first) == BW_ERROR ||
	    bw_param_str(req, req->json, "last_name", BW_P_NULLABLE, 100,
	    &last) == BW_ERROR)
		return BW_ERROR;
	if (bw_utf8_len(password) < 10)
		return bw_err_invalid(req, "password", "password must be at "
		    "least 10 characters.");
	bw_id_new("usr", id);
	hash = bw_password_hash(password);
	p[0] = id;
	p[1] = email;
	p[2] = hash;
	p[3] = first != NULL ? first : "";
	p[4] = last != NULL ? last : "";
	p[5] = role;
	res = bw_db_query(req->db, "INSERT INTO users (tenant_id, id, email, "
	    "password_hash, first_name, last_name, role) VALUES "
	    "(current_setting('app.tenant_id'), $1, lower($2), $3, $4, $5, $6) "
	    "RETURNING id, email, first_name, last_name, role, "
	    "extract(epoch FROM created)::bigint AS created", 6, p);
	free(hash);
	if (res == NULL) {
		if (strcmp(bw_db_sqlstate(req->db), "23505") == 0)
			return bw_req_error(req, 409, "invalid_request_error",
			    "email_taken", "email", "An account with this "
			    "email already exists.");
		return BW_ERROR;
	}
	u = bw_user_json(res, 0);
	PQclear(res);
	if (bw_audit(req, "team.user_added", id, json_pack("{s:s, s:s}",
	    "email", email, "role", role)) != BW_OK) {
		json_decref(u);
		return BW_ERROR;
	}
	return bw_req_json(req, 201, u);
}

/* Owners other than USER_ID; locks the owner rows against a race. */
static int
team_other_owners(struct bw_req *req, const char *user_id, long long *n)
{
	const char	*p[1] = { user_id };
	PGresult	*res;

	if ((res = bw_db_query(req->db, "SELECT count(*) AS n FROM (SELECT 1 "
	    "FROM users WHERE role = 'owner' AND id <> $1 FOR UPDATE) o", 1,
	    p)) == NULL)
		return BW_ERROR;
	*n = bw_db_int(res, 0, "n");
	PQclear(res);
	return BW_OK;
}

static int
team_update(struct bw_req *req)
{
	static const char *const allowed[] = { "role", "first_name",
	    "last_name", NULL };
	static const char *const roles[] = { "owner", "admin", "developer",
	    NULL };
	const char	*role = NULL, *first = NULL, *last = NULL, *p[4];
	long long	 owners;
	PGresult	*res;
	json_t		*u;

	if (bw_body_object(req) != BW_OK ||
	    bw_params_only(req, req->json, allowed) != BW_OK ||
	    bw_param_enum(req, req->json, "role", BW_P_OPTIONAL, roles,
	    &role) == BW_ERROR ||
	    bw_param_str(req, req->json, "first_name", BW_P_OPTIONAL, 100,
	    &first) == BW_ERROR ||
	    bw_param_str(req, req->json, "last_name", BW_P_OPTIONAL, 100,
	    &last) == BW_ERROR)
		return BW_ERROR;
	p[0] = bw_req_param(req, 0);
	if ((res = bw_db_query(req->db, "SELECT role FROM users WHERE id = $1 "
	    "FOR UPDATE", 1, p)) == NULL)
		return BW_ERROR;
	if (PQntuples(res) != 1) {
		PQclear(res);
		return bw_err_not_found(req, "user");
	}
	if (role != NULL && strcmp(role, "owner") != 0 &&
	    strcmp(bw_db_val(res, 0, "role"), "owner") == 0) {
		PQclear(res);
		if (team_other_owners(req, p[0], &owners) != BW_OK)
			return BW_ERROR;
		if (owners == 0)
			return bw_req_error(req, 409, "invalid_request_error",
			    "last_owner", "role", "The last owner cannot be "
			    "demoted.");
	} else {
		PQclear(res);
	}
	p[1] = role;
	p[2] = first;
	p[3] = last;
	if ((res = bw_db_query(req->db, "UPDATE users SET role = coalesce($2, "
	    "role), first_name = coalesce($3, first_name), last_name = "
	    "coalesce($4, last_name) WHERE id = $1 RETURNING id, email, "
	    "first_name, last_name, role, extract(epoch FROM created)::bigint "
	    "AS created", 4, p)) == NULL)
		return BW_ERROR;
	u = bw_user_json(res, 0);
	PQclear(res);
	if (bw_audit(req, "team.user_updated", p[0],
	    json_deep_copy(req->json)) != BW_OK) {
		json_decref(u);
		return BW_ERROR;
	}
	return bw_req_json(req, 200, u);
}

static int
team_delete(struct bw_req *req)
{
	const char	*p[1] = { bw_req_param(req, 0) };
	long long	 owners;
	PGresult	*res;
	int		 owner;

	if ((res = bw_db_query(req->db, "SELECT role FROM users WHERE id = $1 "
	    "FOR UPDATE", 1, p)) == NULL)
		return BW_ERROR;
	if (PQntuples(res) != 1) {
		PQclear(res);
		return bw_err_not_found(req, "user");
	}
	owner = strcmp(bw_db_val(res, 0, "role"), "owner") == 0;
	PQclear(res);
	if (owner) {
		if (team_other_owners(req, p[0], &owners) != BW_OK)
			return BW_ERROR;
		if (owners == 0)
			return bw_req_error(req, 409, "invalid_request_error",
			    "last_owner", NULL, "The last owner cannot be "
			    "removed.");
	}
	/* Refresh tokens go with the user (ON DELETE CASCADE). */
	if ((res = bw_db_query(req->db, "DELETE FROM users WHERE id = $1", 1,
	    p)) == NULL)
		return BW_ERROR;
	PQclear(res);
	if (bw_audit(req, "team.user_removed", p[0], NULL) != BW_OK)
		return BW_ERROR;
	return bw_req_json(req, 200, json_pack("{s:s, s:s, s:b}", "id", p[0],
	    "object", "user", "deleted", 1));
}

static const struct bw_route team_routes[] = {
	{ .method = BW_GET, .pattern = "/api/v1/auth/tenants/users",
	  .auth = BW_AUTH_JWT, .role = BW_ROLE_OWNER, .handler = team_list },
	{ .method = BW_POST, .pattern = "/api/v1/auth/tenants/users",
	  .auth = BW_AUTH_JWT, .role = BW_ROLE_OWNER, .handler = team_create },
	{ .method = BW_PATCH, .pattern = "/api/v1/auth/tenants/users/{id}",
	  .auth = BW_AUTH_JWT, .role = BW_ROLE_OWNER, .handler = team_update },
	{ .method = BW_DELETE, .pattern = "/api/v1/auth/tenants/users/{id}",
	  .auth = BW_AUTH_JWT, .role = BW_ROLE_OWNER, .handler = team_delete },
};

BW_ROUTE_TABLE(bw_api_team, team_routes);
