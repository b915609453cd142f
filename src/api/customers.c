/*
 * Customers (API.md "Customers"): create, list with email and external_id
 * filters, get, update with Stripe's metadata merge, delete. Every write
 * emits its customer.* event in the request's transaction. Runs on task
 * threads; tenant and mode are confined by row-level security.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/api.h"
#include "auth/crypto.h"
#include "billing/subscription.h"
#include "db/db.h"
#include "plugin/plugin.h"

#define SQL_CUSTOMER_GET \
	"SELECT " BW_CUSTOMER_COLUMNS " FROM customers WHERE id = $1"

/* Deleted customers stay as rows (events and invoices point at them). */
#define SQL_CUSTOMERS_SELECT \
	"SELECT " BW_CUSTOMER_COLUMNS " FROM customers"

#define SQL_CUSTOMER_INSERT \
	"INSERT INTO customers (tenant_id, livemode, id, email, name, " \
	"external_id, description, phone, payment_method, metadata, " \
	"test_clock_id) VALUES (current_setting('app.tenant_id'), " \
	"current_setting('app.livemode')::boolean, $1, $2, $3, $4, $5, $6, " \
	"$7, $8::jsonb, $9) RETURNING " BW_CUSTOMER_COLUMNS

/*
 * The clock a new customer lives on; KEY SHARE holds off a concurrent
 * DELETE of the clock (test_clocks.c) until this request ends.
 */
#define SQL_CUSTOMER_CLOCK \
	"SELECT id FROM test_clocks WHERE id = $1 FOR KEY SHARE"

#define SQL_CUSTOMER_UPDATE \
	"UPDATE customers SET email = $2, name = $3, external_id = $4, " \
	"description = $5, phone = $6, payment_method = $7, " \
	"metadata = $8::jsonb WHERE id = $1 RETURNING " BW_CUSTOMER_COLUMNS

/*
 * The customer's subscriptions still running, locked (subscription before
 * customer, as a cancel locks them); a concurrent cancel drops out.
 */
#define SQL_CUSTOMER_SUBS_LIVE \
	"SELECT id FROM subscriptions WHERE customer_id = $1 AND " \
	"status <> 'canceled' ORDER BY id FOR UPDATE"

#define SQL_CUSTOMER_DELETE \
	"UPDATE customers SET deleted = true WHERE id = $1 AND NOT deleted " \
	"RETURNING " BW_CUSTOMER_COLUMNS

/*
 * The optional strings, in the order of their SQL parameters ($3..$7):
 * field, longest value in characters.
 */
static const struct {
	const char	*key;
	size_t		 maxlen;
} customer_strs[] = {
	{ "name", 256 },
	{ "external_id", 255 },
	{ "description", 1000 },
	{ "phone", 40 },
	{ "payment_method", 255 },
};

#define CUSTOMER_NSTRS	(sizeof(customer_strs) / sizeof(customer_strs[0]))
#define CUSTOMER_PM	4	/* payment_method in customer_strs */

/* The fields a customer.updated event may list in previous_attributes. */
static const char *const customer_mutable[] = { "email", "name",
    "external_id", "description", "phone", "payment_method", NULL };

static const char *const customer_fields[] = { "email", "name",
    "external_id", "description", "phone", "metadata", "payment_method",
    "test_clock_id", NULL };

/* The test-mode payment methods (API.md); charging them is billing's. */
static const char *const customer_test_pms[] = { "pm_card_visa",
    "pm_card_mastercard", "pm_card_chargeDeclined",
    "pm_card_insufficientFunds", "pm_card_expired", NULL };

static json_t *
customer_str(const PGresult *res, int row, const char *col)
{
	if (bw_db_isnull(res, row, col))
		return json_null();
	return json_string(bw_db_val(res, row, col));
}

/* A customers row (BW_CUSTOMER_COLUMNS) as the contract's customer object. */
json_t *
bw_customer_json(const PGresult *res, int row)
{
	char	 created[32];
	json_t	*meta;

	bw_time_rfc3339(bw_db_int(res, row, "created"), created,
	    sizeof(created));
	if ((meta = json_loads(bw_db_val(res, row, "metadata"), 0,
	    NULL)) == NULL)
		meta = json_object();
	return json_pack("{s:s, s:s, s:b, s:s, s:s, s:o, s:o, s:o, s:o, "
	    "s:o, s:o, s:o, s:I, s:b}",
	    "object", "customer",
	    "id", bw_db_val(res, row, "id"),
	    "livemode", strcmp(bw_db_val(res, row, "livemode"), "t") == 0,
	    "created", created,
	    "email", bw_db_val(res, row, "email"),
	    "name", customer_str(res, row, "name"),
	    "external_id", customer_str(res, row, "external_id"),
	    "description", customer_str(res, row, "description"),
	    "phone", customer_str(res, row, "phone"),
	    "metadata", meta,
	    "payment_method", customer_str(res, row, "payment_method"),
	    "test_clock_id", customer_str(res, row, "test_clock_id"),
	    "balance", (json_int_t)bw_db_int(res, row, "balance"),
	    "deleted", strcmp(bw_db_val(res, row, "deleted"), "t") == 0);
}

/* What GET and DELETE answer for a deleted customer (Stripe's shape). */
static json_t *
customer_deleted_json(const char *id)
{
	return json_pack("{s:s, s:s, s:b}", "id", id, "object", "customer",
	    "deleted", 1);
}

/*
 * payment_method: in test mode one of the test cards (API.md); in live
 * mode a Stripe PaymentMethod id, checked by the stripe-connect plugin
 * when it is charged.
 */
static int
customer_pm_check(struct bw_req *req, const char *pm)
{
	size_t	i;

	if (req->who.livemode) {
		if (strncmp(pm, "pm_", 3) != 0 || pm[3] == '\0')
			return bw_err_invalid(req, "payment_method",
			    "payment_method must be a PaymentMethod id "
			    "(pm_...).");
		return BW_OK;
	}
	for (i = 0; customer_test_pms[i] != NULL; i++)
		if (strcmp(customer_test_pms[i], pm) == 0)
			return BW_OK;
	return bw_err_invalid(req, "payment_method", "In test mode "
	    "payment_method must be one of pm_card_visa, pm_card_mastercard, "
	    "pm_card_chargeDeclined, pm_card_insufficientFunds, "
	    "pm_card_expired.");
}

/*
 * test_clock_id on create: an existing clock of this tenant (API.md "Test
 * clocks"), so test mode only. Absent, null or "" means none (*CLOCK NULL).
 */
static int
customer_clock_read(struct bw_req *req, const char **clock)
{
	PGresult	*res;
	int		 n;

	*clock = NULL;
	if (bw_param_str(req, req->json, "test_clock_id", BW_P_NULLABLE, 255,
	    clock) == BW_ERROR)
		return BW_ERROR;
	if (*clock == NULL || **clock == '\0') {
		*clock = NULL;
		return BW_OK;
	}
	if (req->who.livemode)
		return bw_err_invalid(req, "test_clock_id", "Test clocks exist "
		    "in test mode only.");
	if ((res = bw_db_query(req->db, SQL_CUSTOMER_CLOCK, 1, clock)) ==
	    NULL)
		return BW_ERROR;
	n = PQntuples(res);
	PQclear(res);
	if (n != 1)
		return bw_err_invalid(req, "test_clock_id", "No such test "
		    "clock: '%.64s'.", *clock);
	return BW_OK;
}

/*
 * As Stripe's test_clock, a customer's clock is set when it is created
 * and never changes: PATCH refuses the field.
 */
static int
customer_clock_fixed(struct bw_req *req)
{
	if (json_object_get(req->json, "test_clock_id") == NULL)
		return BW_OK;
	return bw_err_invalid(req, "test_clock_id", "test_clock_id can only "
	    "be set when the customer is created.");
}

/*
 * Reads the body's optional strings into OUT (indexes as customer_strs).
 * Absent or null leaves NULL; an empty string unsets, as Stripe's empty
 * value does.
 */
static int
customer_read_strs(struct bw_req *req, const char **out)
{
	size_t	i;

	for (i = 0; i < CUSTOMER_NSTRS; i++) {
		if (bw_param_str(req, req->json, customer_strs[i].key,
		    BW_P_NULLABLE, customer_strs[i].maxlen, &out[i]) ==
		    BW_ERROR)
			return BW_ERROR;
		if (out[i] != NULL && *out[i] == '\0')
			out[i] = NULL;
	}
	if (out[CUSTOMER_PM] != NULL &&
	    customer_pm_check(req, out[CUSTOMER_PM]) != BW_OK)
		return BW_ERROR;
	return BW_OK;
}

/*
 * metadata as given (borrowed), or NULL when absent; null reads as an
 * empty object (on update: clear every key).
 */
static int
customer_read_meta(struct bw_req *req, json_t **meta)
{
	*meta = json_object_get(req->json, "metadata");
	if (*meta == NULL || json_is_null(*meta))
		return BW_OK;
	return bw_param_metadata(req, req->json, "metadata", meta) ==
	    BW_ERROR ? BW_ERROR : BW_OK;
}

/* Maps a failed insert or update; external_id is unique among live rows. */
static int
customer_db_failure(struct bw_req *req)
{
	if (strcmp(bw_db_sqlstate(req->db), "23505") == 0 &&
	    strcmp(bw_db_constraint(req->db), "customers_external_id") == 0)
		return bw_req_error(req, 409, "invalid_request_error",
		    "resource_already_exists", "external_id", "A customer "
		    "with this external_id already exists.");
	return BW_ERROR;
}

/*
 * Stripe's metadata update: keys in PATCH are set, a key set to "" is
 * removed, keys not named keep their value. NULL or null clears all.
 * Returns the merged object (caller decrefs) or NULL with the error set.
 */
static json_t *
customer_meta_merge(struct bw_req *req, const char *old_s, json_t *patch)
{
	const char	*k;
	json_t		*m, *v;

	if (patch == NULL || json_is_null(patch))
		return json_object();
	if ((m = json_loads(old_s, 0, NULL)) == NULL || !json_is_object(m)) {
		json_decref(m);
		m = json_object();
	}
	json_object_foreach(patch, k, v) {
		if (json_string_length(v) == 0)
			json_object_del(m, k);
		else
			json_object_set(m, k, v);
	}
	if (json_object_size(m) > 50) {
		json_decref(m);
		bw_err_invalid(req, "metadata", "metadata may have at most 50 "
		    "keys.");
		return NULL;
	}
	return m;
}

static int
customers_create(struct bw_req *req)
{
	const char	*email, *p[9];
	char		 id[BW_ID_MAX], *meta_s;
	json_t		*meta, *c;
	PGresult	*res;

	if (bw_body_object(req) != BW_OK ||
	    bw_params_only(req, req->json, customer_fields) != BW_OK ||
	    bw_param_email(req, req->json, "email", BW_P_REQUIRED, &email) !=
	    BW_OK ||
	    customer_read_strs(req, &p[2]) != BW_OK ||
	    customer_read_meta(req, &meta) != BW_OK ||
	    customer_clock_read(req, &p[8]) != BW_OK)
		return BW_ERROR;
	/* Keys set to "" would unset: on create they are simply left out. */
	if ((meta = customer_meta_merge(req, "{}", meta)) == NULL)
		return BW_ERROR;
	meta_s = json_dumps(meta, JSON_COMPACT);
	json_decref(meta);
	bw_id_new("cus", id);
	p[0] = id;
	p[1] = email;
	p[7] = meta_s;
	res = bw_db_query(req->db, SQL_CUSTOMER_INSERT, 9, p);
	free(meta_s);
	if (res == NULL)
		return customer_db_failure(req);
	c = bw_customer_json(res, 0);
	PQclear(res);
	if (bw_event_emit_json(req, "customer.created", json_pack("{s:O}",
	    "object", c)) != BW_OK) {
		json_decref(c);
		return BW_ERROR;
	}
	return bw_req_json(req, 201, c);
}

static int
customers_list(struct bw_req *req)
{
	struct bw_page	 page;
	struct bw_list	 l;
	PGresult	*res;
	json_t		*items;
	int		 i;

	if (bw_page_parse(req, "cus", &page) != BW_OK)
		return BW_ERROR;
	bw_list_init(req, &l, SQL_CUSTOMERS_SELECT);
	bw_list_where(&l, "NOT deleted");
	bw_list_filter(&l, "lower(email) = lower($%d)",
	    bw_req_query(req, "email"));
	bw_list_filter(&l, "external_id = $%d",
	    bw_req_query(req, "external_id"));
	res = bw_list_query(&l, &page, "id");
	if (res == NULL)
		return BW_ERROR;
	items = json_array();
	for (i = 0; i < PQntuples(res); i++)
		json_array_append_new(items, bw_customer_json(res, i));
	PQclear(res);
	return bw_page_respond(req, &page, items, "/api/v1/customers");
}

static int
customers_get(struct bw_req *req)
{
	const char	*p[1] = { bw_req_param(req, 0) };
	PGresult	*res;
	json_t		*c;

	if ((res = bw_db_query(req->db, SQL_CUSTOMER_GET, 1, p)) == NULL)
		return BW_ERROR;
	if (PQntuples(res) != 1) {
		PQclear(res);
		return bw_err_not_found(req, "customer");
	}
	if (strcmp(bw_db_val(res, 0, "deleted"), "t") == 0)
		c = customer_deleted_json(p[0]);
	else
		c = bw_customer_json(res, 0);
	PQclear(res);
	return bw_req_json(req, 200, c);
}

/*
 * previous_attributes of customer.updated: the old value of each field
 * that changed. For metadata, as Stripe does for hashes, only the keys
 * that changed, with null for a key that was added.
 */
static json_t *
customer_changes(json_t *old, json_t *now)
{
	const char	*k;
	json_t		*prev, *om, *nm, *m, *v;
	size_t		 i;

	prev = json_object();
	for (i = 0; customer_mutable[i] != NULL; i++) {
		v = json_object_get(old, customer_mutable[i]);
		if (!json_equal(v, json_object_get(now, customer_mutable[i])))
			json_object_set(prev, customer_mutable[i], v);
	}
	om = json_object_get(old, "metadata");
	nm = json_object_get(now, "metadata");
	if (json_equal(om, nm))
		return prev;
	m = json_object();
	json_object_foreach(om, k, v)
		if (!json_equal(v, json_object_get(nm, k)))
			json_object_set(m, k, v);
	json_object_foreach(nm, k, v)
		if (json_object_get(om, k) == NULL)
			json_object_set_new(m, k, json_null());
	json_object_set_new(prev, "metadata", m);
	return prev;
}

static int
customers_update(struct bw_req *req)
{
	const char	*email, *p[8], *col;
	char		*meta_s;
	json_t		*meta, *old, *c, *prev;
	PGresult	*res, *cur;
	size_t		 i;

	if (bw_body_object(req) != BW_OK ||
	    bw_params_only(req, req->json, customer_fields) != BW_OK ||
	    bw_param_email(req, req->json, "email", BW_P_OPTIONAL, &email) ==
	    BW_ERROR ||
	    customer_read_strs(req, &p[2]) != BW_OK ||
	    customer_read_meta(req, &meta) != BW_OK ||
	    customer_clock_fixed(req) != BW_OK)
		return BW_ERROR;
	p[0] = bw_req_param(req, 0);
	if ((cur = bw_db_query(req->db, SQL_CUSTOMER_GET " FOR UPDATE", 1,
	    p)) == NULL)
		return BW_ERROR;
	if (PQntuples(cur) != 1 ||
	    strcmp(bw_db_val(cur, 0, "deleted"), "t") == 0) {
		PQclear(cur);
		return bw_err_not_found(req, "customer");
	}
	/* Absent fields keep their value; present ones (null too) replace. */
	p[1] = email != NULL ? email : bw_db_val(cur, 0, "email");
	for (i = 0; i < CUSTOMER_NSTRS; i++) {
		col = customer_strs[i].key;
		if (json_object_get(req->json, col) == NULL)
			p[2 + i] = bw_db_isnull(cur, 0, col) ? NULL :
			    bw_db_val(cur, 0, col);
	}
	if (meta != NULL) {
		if ((meta = customer_meta_merge(req, bw_db_val(cur, 0,
		    "metadata"), meta)) == NULL) {
			PQclear(cur);
			return BW_ERROR;
		}
		meta_s = json_dumps(meta, JSON_COMPACT);
		json_decref(meta);
	} else
		meta_s = bw_strdup(bw_db_val(cur, 0, "metadata"));
	p[7] = meta_s;
	res = bw_db_query(req->db, SQL_CUSTOMER_UPDATE, 8, p);
	free(meta_s);
	old = bw_customer_json(cur, 0);
	PQclear(cur);
	if (res == NULL) {
		json_decref(old);
		return customer_db_failure(req);
	}
	c = bw_customer_json(res, 0);
	PQclear(res);

	prev = customer_changes(old, c);
	json_decref(old);
	/* Stripe writes no event for an update that changed nothing. */
	if (json_object_size(prev) == 0) {
		json_decref(prev);
		return bw_req_json(req, 200, c);
	}
	if (bw_event_emit_json(req, "customer.updated", json_pack("{s:O, s:o}",
	    "object", c, "previous_attributes", prev)) != BW_OK) {
		json_decref(c);
		return BW_ERROR;
	}
	return bw_req_json(req, 200, c);
}

static int
customers_delete(struct bw_req *req)
{
	const char	*p[1] = { bw_req_param(req, 0) };
	PGresult	*res;
	json_t		*c;
	int		 i, n, gone, rc;

	/* 404 for a deleted customer or one of another tenant or mode. */
	if ((res = bw_db_query(req->db, "SELECT deleted FROM customers WHERE "
	    "id = $1", 1, p)) == NULL)
		return BW_ERROR;
	gone = PQntuples(res) != 1 ||
	    strcmp(bw_db_val(res, 0, "deleted"), "t") == 0;
	PQclear(res);
	if (gone)
		return bw_err_not_found(req, "customer");

	/*
	 * API.md: DELETE also cancels the customer's subscriptions now,
	 * without prorating, each with its subscription.canceled event.
	 */
	if ((res = bw_db_query(req->db, SQL_CUSTOMER_SUBS_LIVE, 1, p)) == NULL)
		return BW_ERROR;
	n = PQntuples(res);
	for (i = 0; i < n; i++) {
		rc = bw_subscription_cancel_now(req, PQgetvalue(res, i, 0), 0,
		    -1, NULL);
		if (rc != BW_OK && rc != BW_DECLINED) {
			PQclear(res);
			return BW_ERROR;
		}
	}
	PQclear(res);

	if ((res = bw_db_query(req->db, SQL_CUSTOMER_DELETE, 1, p)) == NULL)
		return BW_ERROR;
	if (PQntuples(res) != 1) {
		PQclear(res);
		return bw_err_not_found(req, "customer");
	}
	c = bw_customer_json(res, 0);
	PQclear(res);
	if (bw_event_emit_json(req, "customer.deleted", json_pack("{s:o}",
	    "object", c)) != BW_OK)
		return BW_ERROR;
	return bw_req_json(req, 200, customer_deleted_json(p[0]));
}

static const struct bw_route customer_routes[] = {
	{ .method = BW_GET, .pattern = "/api/v1/customers",
	  .auth = BW_AUTH_TENANT, .handler = customers_list },
	{ .method = BW_POST, .pattern = "/api/v1/customers",
	  .auth = BW_AUTH_TENANT, .role = BW_ROLE_ADMIN,
	  .handler = customers_create },
	{ .method = BW_GET, .pattern = "/api/v1/customers/{id}",
	  .auth = BW_AUTH_TENANT, .handler = customers_get },
	{ .method = BW_PATCH, .pattern = "/api/v1/customers/{id}",
	  .auth = BW_AUTH_TENANT, .role = BW_ROLE_ADMIN,
	  .handler = customers_update },
	{ .method = BW_DELETE, .pattern = "/api/v1/customers/{id}",
	  .auth = BW_AUTH_TENANT, .role = BW_ROLE_ADMIN,
	  .handler = customers_delete },
};

BW_ROUTE_TABLE(bw_api_customers, customer_routes);
