/*
 * Test clocks (API.md "Test clocks"): create, list, get, delete and advance.
 * Test mode only: every route refuses live mode (livemode_not_allowed, as
 * Stripe does). Runs on task threads; tenant and mode are confined by RLS.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/api.h"
#include "auth/crypto.h"
#include "billing/subscription.h"
#include "db/db.h"
#include "plugin/plugin.h"

#define CLOCK_NAME_MAX	256
#define CLOCK_TIME_MAX	64	/* RFC 3339, fractions included */

#define SQL_CLOCK_COLUMNS \
	"id, livemode, name, status, " \
	"floor(extract(epoch FROM frozen_time))::bigint AS frozen_time, " \
	"floor(extract(epoch FROM created))::bigint AS created"

#define SQL_CLOCK_SELECT \
	"SELECT " SQL_CLOCK_COLUMNS " FROM test_clocks"

#define SQL_CLOCK_GET \
	SQL_CLOCK_SELECT " WHERE id = $1"

#define SQL_CLOCK_INSERT \
	"INSERT INTO test_clocks (tenant_id, livemode, id, name, " \
	"frozen_time) VALUES (current_setting('app.tenant_id'), " \
	"current_setting('app.livemode')::boolean, $1, $2, " \
	"to_timestamp($3::bigint)) RETURNING " SQL_CLOCK_COLUMNS

#define SQL_CLOCK_ADVANCE \
	"UPDATE test_clocks SET frozen_time = to_timestamp($2::bigint), " \
	"status = 'ready' WHERE id = $1 RETURNING " SQL_CLOCK_COLUMNS

/* Deleted customers keep their row (and test_clock_id) but no longer count. */
#define SQL_CLOCK_IN_USE \
	"SELECT EXISTS (SELECT 1 FROM customers WHERE test_clock_id = $1 " \
	"AND NOT deleted) AS in_use"

#define SQL_CLOCK_DELETE \
	"DELETE FROM test_clocks WHERE id = $1"

static const char *const clock_create_fields[] = { "frozen_time", "name",
    NULL };
static const char *const clock_advance_fields[] = { "frozen_time", NULL };

/* A test_clocks row (SQL_CLOCK_COLUMNS) as the contract's test_clock. */
static json_t *
clock_json(const PGresult *res, int row)
{
	char	 created[32], frozen[32];

	bw_time_rfc3339(bw_db_int(res, row, "created"), created,
	    sizeof(created));
	bw_time_rfc3339(bw_db_int(res, row, "frozen_time"), frozen,
	    sizeof(frozen));
	return json_pack("{s:s, s:s, s:b, s:s, s:o, s:s, s:s}",
	    "object", "test_clock",
	    "id", bw_db_val(res, row, "id"),
	    "livemode", strcmp(bw_db_val(res, row, "livemode"), "t") == 0,
	    "created", created,
	    "name", bw_db_isnull(res, row, "name") ? json_null() :
	    json_string(bw_db_val(res, row, "name")),
	    "frozen_time", frozen,
	    "status", bw_db_val(res, row, "status"));
}

/*
 * Test clocks exist in test mode only (API.md). Live mode is refused on
 * every route, reads included, before anything else is looked at: a live
 * key never learns whether a clock id exists.
 */
static int
clock_test_mode(struct bw_req *req)
{
	if (!req->who.livemode)
		return BW_OK;
	return bw_req_error(req, 400, "invalid_request_error",
	    "livemode_not_allowed", NULL, "Test clocks exist in test mode "
	    "only: use a test key or send Billow-Mode: test.");
}

/* Reads the body's required frozen_time into *T (UNIX seconds). */
static int
clock_read_time(struct bw_req *req, int64_t *t)
{
	const char	*s;

	if (bw_param_str(req, req->json, "frozen_time", BW_P_REQUIRED,
	    CLOCK_TIME_MAX, &s) != BW_OK)
		return BW_ERROR;
	if (bw_time_parse(s, t) != BW_OK)
		return bw_err_invalid(req, "frozen_time", "frozen_time must be "
		    "an RFC 3339 time such as 2026-01-31T00:00:00Z.");
	return BW_OK;
}

static int
clocks_create(struct bw_req *req)
{
	const char	*p[3], *name;
	char		 id[BW_ID_MAX], t_s[24];
	int64_t		 t;
	PGresult	*res;
	json_t		*c;

	if (clock_test_mode(req) != BW_OK ||
	    bw_body_object(req) != BW_OK ||
	    bw_params_only(req, req->json, clock_create_fields) != BW_OK ||
	    clock_read_time(req, &t) != BW_OK)
		return BW_ERROR;
	name = NULL;
	if (bw_param_str(req, req->json, "name", BW_P_NULLABLE,
	    CLOCK_NAME_MAX, &name) == BW_ERROR)
		return BW_ERROR;
	/* An empty name is no name, as for customers' optional strings. */
	if (name != NULL && *name == '\0')
		name = NULL;
	bw_id_new("clock", id);
	snprintf(t_s, sizeof(t_s), "%lld", (long long)t);
	p[0] = id;
	p[1] = name;
	p[2] = t_s;
	if ((res = bw_db_query(req->db, SQL_CLOCK_INSERT, 3, p)) == NULL)
		return BW_ERROR;
	c = clock_json(res, 0);
	PQclear(res);
	return bw_req_json(req, 201, c);
}

static int
clocks_list(struct bw_req *req)
{
	struct bw_page	 page;
	PGresult	*res;
	json_t		*items;
	int		 i;

	if (clock_test_mode(req) != BW_OK ||
	    bw_page_parse(req, "clock", &page) != BW_OK)
		return BW_ERROR;
	if ((res = bw_page_query(req, &page, SQL_CLOCK_SELECT, "id")) == NULL)
		return BW_ERROR;
	items = json_array();
	for (i = 0; i < PQntuples(res); i++)
		json_array_append_new(items, clock_json(res, i));
	PQclear(res);
	return bw_page_respond(req, &page, items, "/api/v1/test_clocks");
}

static int
clocks_get(struct bw_req *req)
{
	const char	*p[1] = { bw_req_param(req, 0) };
	PGresult	*res;
	json_t		*c;

	if (clock_test_mode(req) != BW_OK)
		return BW_ERROR;
	if ((res = bw_db_query(req->db, SQL_CLOCK_GET, 1, p)) == NULL)
		return BW_ERROR;
	if (PQntuples(res) != 1) {
		PQclear(res);
		return bw_err_not_found(req, "test clock");
	}
	c = clock_json(res, 0);
	PQclear(res);
	return bw_req_json(req, 200, c);
}

/*
 * Stripe deletes a clock together with its customers; Billow refuses
 * instead while a customer not deleted still lives on it (409). The row
 * lock makes a concurrent customer create (which takes FOR KEY SHARE on
 * the clock) either finish first and be seen, or find no clock.
 */
static int
clocks_delete(struct bw_req *req)
{
	const char	*p[1] = { bw_req_param(req, 0) };
	PGresult	*res;
	int		 in_use;

	if (clock_test_mode(req) != BW_OK)
		return BW_ERROR;
	if ((res = bw_db_query(req->db, SQL_CLOCK_GET " FOR UPDATE", 1,
	    p)) == NULL)
		return BW_ERROR;
	if (PQntuples(res) != 1) {
		PQclear(res);
		return bw_err_not_found(req, "test clock");
	}
	PQclear(res);
	if ((res = bw_db_query(req->db, SQL_CLOCK_IN_USE, 1, p)) == NULL)
		return BW_ERROR;
	in_use = strcmp(bw_db_val(res, 0, "in_use"), "t") == 0;
	PQclear(res);
	if (in_use)
		return bw_req_error(req, 409, "invalid_request_error",
		    "invalid_state", NULL, "This test clock still has "
		    "customers; delete them first.");
	if ((res = bw_db_query(req->db, SQL_CLOCK_DELETE, 1, p)) == NULL)
		return BW_ERROR;
	PQclear(res);
	return bw_req_json(req, 200, json_pack("{s:s, s:s, s:b}", "id", p[0],
	    "object", "test_clock", "deleted", 1));
}

static int
clocks_advance(struct bw_req *req)
{
	const char	*p[2];
	char		 t_s[24];
	int64_t		 t, now;
	long		 steps;
	PGresult	*res;
	json_t		*c;

	if (clock_test_mode(req) != BW_OK ||
	    bw_body_object(req) != BW_OK ||
	    bw_params_only(req, req->json, clock_advance_fields) != BW_OK ||
	    clock_read_time(req, &t) != BW_OK)
		return BW_ERROR;
	p[0] = bw_req_param(req, 0);
	/* The lock serialises advances of one clock. */
	if ((res = bw_db_query(req->db, SQL_CLOCK_GET " FOR UPDATE", 1,
	    p)) == NULL)
		return BW_ERROR;
	if (PQntuples(res) != 1) {
		PQclear(res);
		return bw_err_not_found(req, "test clock");
	}
	now = bw_db_int(res, 0, "frozen_time");
	PQclear(res);
	/* API.md: time never moves back. The same time is a no-op advance. */
	if (t < now)
		return bw_err_invalid(req, "frozen_time", "frozen_time cannot "
		    "be earlier than the clock's current frozen_time.");

	/*
	 * Everything due in (now, t] for this clock's customers, in time
	 * order, each step at its own instant, through the scheduler's own
	 * unit of work (API.md "Test clocks"). A failure fails the request:
	 * the transaction rolls back and the clock does not move.
	 */
	if (bw_billing_advance_clock(req, p[0], t, &steps) != BW_OK)
		return BW_ERROR;

	snprintf(t_s, sizeof(t_s), "%lld", (long long)t);
	p[1] = t_s;
	if ((res = bw_db_query(req->db, SQL_CLOCK_ADVANCE, 2, p)) == NULL)
		return BW_ERROR;
	c = clock_json(res, 0);
	PQclear(res);
	if (bw_event_emit_json(req, "test_clock.advanced",
	    json_pack("{s:O}", "object", c)) != BW_OK) {
		json_decref(c);
		return BW_ERROR;
	}
	return bw_req_json(req, 200, c);
}

static const struct bw_route clock_routes[] = {
	{ .method = BW_GET, .pattern = "/api/v1/test_clocks",
	  .auth = BW_AUTH_TENANT, .handler = clocks_list },
	{ .method = BW_POST, .pattern = "/api/v1/test_clocks",
	  .auth = BW_AUTH_TENANT, .role = BW_ROLE_ADMIN,
	  .handler = clocks_create },
	{ .method = BW_GET, .pattern = "/api/v1/test_clocks/{id}",
	  .auth = BW_AUTH_TENANT, .handler = clocks_get },
	{ .method = BW_DELETE, .pattern = "/api/v1/test_clocks/{id}",
	  .auth = BW_AUTH_TENANT, .role = BW_ROLE_ADMIN,
	  .handler = clocks_delete },
	{ .method = BW_POST, .pattern = "/api/v1/test_clocks/{id}/advance",
	  .auth = BW_AUTH_TENANT, .role = BW_ROLE_ADMIN,
	  .handler = clocks_advance },
};

BW_ROUTE_TABLE(bw_api_test_clocks, clock_routes);
