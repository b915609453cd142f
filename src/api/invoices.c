/*
 * Invoices (API.md "Invoices, payments, refunds"): one-off drafts, list,
 * get, finalize, pay, void and mark_uncollectible; the money rules live in
 * billing/invoice.c. Runs on task threads inside the tenant transaction.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/api.h"
#include "auth/crypto.h"
#include "billing/invoice.h"
#include "billing/money.h"
#include "billing/subscription.h"
#include "db/db.h"

#define INVOICE_LINES_MAX	100
#define INVOICE_DESC_MAX	500
#define INVOICE_QUANTITY_MAX	1000000LL

#define SQL_CUSTOMER_LIVE \
	"SELECT id FROM customers WHERE id = $1 AND NOT deleted"

#define SQL_PLAN_GET \
	"SELECT name, type, amount, currency, is_active FROM plans " \
	"WHERE id = $1"

#define SQL_INVOICE_INSERT \
	"INSERT INTO invoices (tenant_id, livemode, id, customer_id, " \
	"currency, subtotal, total, billing_reason, metadata) VALUES " \
	"(current_setting('app.tenant_id'), " \
	"current_setting('app.livemode')::boolean, $1, $2, $3, $4::bigint, " \
	"$4::bigint, 'manual', $5::jsonb)"

/* Every line in one statement: $2 is a JSON array of the lines. */
#define SQL_LINES_INSERT \
	"INSERT INTO invoice_lines (tenant_id, livemode, id, invoice_id, " \
	"position, kind, description, amount, unit_amount, quantity) " \
	"SELECT current_setting('app.tenant_id'), " \
	"current_setting('app.livemode')::boolean, x.id, $1, x.position, " \
	"x.kind, x.description, x.amount, x.unit_amount, x.quantity FROM " \
	"json_to_recordset($2::json) AS x(id text, position int, kind text, " \
	"description text, amount bigint, unit_amount bigint, quantity bigint)"

#define SQL_INVOICE_STATUS \
	"SELECT status FROM invoices WHERE id = $1 FOR UPDATE"

#define SQL_INVOICE_SET_STATUS \
	"UPDATE invoices SET status = $2, next_payment_attempt = NULL WHERE " \
	"id = $1"

static const char *const invoice_statuses[] = { "draft", "open", "paid",
    "void", "uncollectible", NULL };

struct invoice_line {
	const char	*description;
	const char	*kind;
	int64_t		 amount;
	int64_t		 unit_amount;	/* -1: none (an amount line) */
	int64_t		 quantity;
};

/* "lines[3].amount": the error names the whole path, as plans' charges. */
static const char *
invoice_param(struct bw_req *req, size_t i, const char *key)
{
	return bw_arena_printf(&req->arena, "lines[%zu].%s", i, key);
}

static int
invoice_line_int(struct bw_req *req, json_t *l, size_t i, const char *key,
    int64_t min, int64_t max, int64_t *out)
{
	const char	*param;
	json_t		*v;

	if ((v = json_object_get(l, key)) == NULL)
		return BW_DECLINED;
	param = invoice_param(req, i, key);
	if (!json_is_integer(v))
		return bw_err_invalid(req, param, "%s must be an integer.",
		    param);
	if (json_integer_value(v) < min || json_integer_value(v) > max)
		return bw_err_invalid(req, param, "%s must be between %lld "
		    "and %lld.", param, (long long)min, (long long)max);
	*out = json_integer_value(v);
	return BW_OK;
}

/*
 * One line: {description, amount | amount_decimal} (the line's total, may
 * be negative: an adjustment) or {description, unit_amount, quantity?}
 * (amount = unit_amount x quantity, BILLING.md "Money").
 */
static int
invoice_line_read(struct bw_req *req, json_t *l, size_t i, int exponent,
    struct invoice_line *out)
{
	static const char *const keys[] = { "description", "amount",
	    "amount_decimal", "unit_amount", "quantity", NULL };
	const char	*key, *param, *dec;
	json_t		*v;
	size_t		 k;
	int		 rc_a, rc_d, rc_u, rc_q;

	if (!json_is_object(l))
		return bw_err_invalid(req, "lines", "Each of lines must be an "
		    "object.");
	json_object_foreach(l, key, v) {
		for (k = 0; keys[k] != NULL; k++)
			if (strcmp(keys[k], key) == 0)
				break;
		if (keys[k] == NULL)
			return bw_req_error(req, 400, "invalid_request_error",
			    "parameter_unknown", invoice_param(req, i, key),
			    "Received unknown parameter: lines[%zu].%.40s.", i,
			    key);
	}
	param = invoice_param(req, i, "description");
	v = json_object_get(l, "description");
	if (v == NULL || json_is_null(v))
		return bw_err_missing(req, param);
	if (!json_is_string(v) || json_string_length(v) == 0 ||
	    bw_utf8_len(json_string_value(v)) > INVOICE_DESC_MAX)
		return bw_err_invalid(req, param, "%s must be a string of 1 "
		    "to %d characters.", param, INVOICE_DESC_MAX);
	out->description = json_string_value(v);

	out->unit_amount = -1;
	out->quantity = 1;
	if ((rc_a = invoice_line_int(req, l, i, "amount",
	    -BW_MONEY_AMOUNT_MAX, BW_MONEY_AMOUNT_MAX, &out->amount)) ==
	    BW_ERROR)
		return BW_ERROR;
	rc_d = BW_DECLINED;
	if ((v = json_object_get(l, "amount_decimal")) != NULL) {
		param = invoice_param(req, i, "amount_decimal");
		if (rc_a == BW_OK)
			return bw_err_invalid(req, param, "Pass amount or "
			    "amount_decimal, not both.");
		if (!json_is_string(v))
			return bw_err_invalid(req, param, "%s must be a "
			    "string.", param);
		dec = json_string_value(v);
		if (bw_money_parse_decimal(dec, exponent, 1, &out->amount) !=
		    BW_OK)
			return bw_err_invalid(req, param, "%s must be a "
			    "decimal string with at most %d decimal places.",
			    param, exponent);
		rc_d = BW_OK;
	}
	if ((rc_u = invoice_line_int(req, l, i, "unit_amount", 0,
	    BW_MONEY_UNIT_MAX, &out->unit_amount)) == BW_ERROR ||
	    (rc_q = invoice_line_int(req, l, i, "quantity", 1,
	    INVOICE_QUANTITY_MAX, &out->quantity)) == BW_ERROR)
		return BW_ERROR;
	if (rc_a == BW_OK || rc_d == BW_OK) {
		if (rc_u == BW_OK || rc_q == BW_OK)
			return bw_err_invalid(req, invoice_param(req, i,
			    rc_u == BW_OK ? "unit_amount" : "quantity"),
			    "A line has either amount (its total) or "
			    "unit_amount and quantity, not both.");
	} else if (rc_u == BW_OK)
		out->amount = out->unit_amount * out->quantity;
	else
		return bw_err_missing(req, invoice_param(req, i,
		    rc_q == BW_OK ? "unit_amount" : "amount"));
	out->kind = out->amount < 0 ? "adjustment" : "one_time";
	return BW_OK;
}

static int
invoice_currency(struct bw_req *req, char upper[4], int *exponent)
{
	const char	*s;
	int		 rc;

	if ((rc = bw_param_str(req, req->json, "currency", BW_P_OPTIONAL, 8,
	    &s)) != BW_OK)
		return rc;
	if (bw_money_currency(s, upper, exponent) != BW_OK)
		return bw_err_invalid(req, "currency", "currency must be an "
		    "ISO 4217 currency code.");
	return BW_OK;
}

/* The one line of a one_time plan's invoice; the plan gives currency. */
static int
invoice_plan_line(struct bw_req *req, const char *plan_id, int has_cur,
    char cur[4], struct invoice_line *line)
{
	const char	*p[1] = { plan_id };
	PGresult	*res;

	if ((res = bw_db_query(req->db, SQL_PLAN_GET, 1, p)) == NULL)
		return BW_ERROR;
	if (PQntuples(res) != 1) {
		PQclear(res);
		return bw_req_error(req, 400, "invalid_request_error",
		    "resource_missing", "plan_id", "No such plan: '%.64s'.",
		    plan_id);
	}
	if (strcmp(bw_db_val(res, 0, "type"), "one_time") != 0 ||
	    strcmp(bw_db_val(res, 0, "is_active"), "t") != 0) {
		PQclear(res);
		return bw_err_invalid(req, "plan_id", "plan_id must name an "
		    "active one_time plan.");
	}
	if (has_cur && strcmp(cur, bw_db_val(res, 0, "currency")) != 0) {
		PQclear(res);
		return bw_err_invalid(req, "currency", "currency must be the "
		    "plan's currency or left out.");
	}
	snprintf(cur, 4, "%s", bw_db_val(res, 0, "currency"));
	line->description = bw_arena_strdup(&req->arena, bw_db_val(res, 0,
	    "name"));
	line->kind = "one_time";
	line->unit_amount = bw_db_int(res, 0, "amount");
	line->quantity = 1;
	line->amount = line->unit_amount;
	PQclear(res);
	return BW_OK;
}

static int
invoices_create(struct bw_req *req)
{
	static const char *const allowed[] = { "customer_id", "currency",
	    "lines", "plan_id", "metadata", NULL };
	struct invoice_line	*lines;
	const char		*customer_id, *plan_id = NULL, *p[5];
	char			 id[BW_ID_MAX], lid[BW_ID_MAX], cur[4];
	char			 total_s[24], *meta_s, *lines_s;
	json_t			*jl, *inv;
	PGresult		*res;
	int64_t			 total = 0;
	size_t			 i, n;
	int			 expo = 2, rc_c, rc_p;

	if (bw_body_object(req) != BW_OK ||
	    bw_params_only(req, req->json, allowed) != BW_OK ||
	    bw_param_str(req, req->json, "customer_id", BW_P_REQUIRED, 255,
	    &customer_id) != BW_OK ||
	    (rc_c = invoice_currency(req, cur, &expo)) == BW_ERROR ||
	    (rc_p = bw_param_str(req, req->json, "plan_id", BW_P_OPTIONAL,
	    255, &plan_id)) == BW_ERROR)
		return BW_ERROR;
	jl = json_object_get(req->json, "lines");
	if (jl != NULL && rc_p == BW_OK)
		return bw_err_invalid(req, "plan_id", "Pass lines or plan_id, "
		    "not both.");
	if (jl == NULL && rc_p != BW_OK)
		return bw_err_missing(req, "lines");

	if (jl != NULL) {
		if (!json_is_array(jl) || json_array_size(jl) == 0 ||
		    json_array_size(jl) > INVOICE_LINES_MAX)
			return bw_err_invalid(req, "lines", "lines must be an "
			    "array of 1 to %d lines.", INVOICE_LINES_MAX);
		if (rc_c != BW_OK)
			return bw_err_missing(req, "currency");
		n = json_array_size(jl);
		lines = bw_arena_alloc(&req->arena, n * sizeof(*lines));
		for (i = 0; i < n; i++) {
			if (invoice_line_read(req, json_array_get(jl, i), i,
			    expo, &lines[i]) != BW_OK)
				return BW_ERROR;
			/* |amount| <= 10^14 and n <= 100: no overflow. */
			total += lines[i].amount;
		}
	} else {
		n = 1;
		lines = bw_arena_alloc(&req->arena, sizeof(*lines));
	}

	/* 400, not 404: the URL is fine, a parameter names nothing. */
	p[0] = customer_id;
	if ((res = bw_db_query(req->db, SQL_CUSTOMER_LIVE, 1, p)) == NULL)
		return BW_ERROR;
	if (PQntuples(res) != 1) {
		PQclear(res);
		return bw_req_error(req, 400, "invalid_request_error",
		    "resource_missing", "customer_id", "No such customer: "
		    "'%.64s'.", customer_id);
	}
	PQclear(res);
	if (jl == NULL) {
		if (invoice_plan_line(req, plan_id, rc_c == BW_OK, cur,
		    &lines[0]) != BW_OK)
			return BW_ERROR;
		total = lines[0].amount;
	}
	if ((meta_s = bw_param_metadata_new(req)) == NULL)
		return BW_ERROR;

	bw_id_new("in", id);
	snprintf(total_s, sizeof(total_s), "%lld", (long long)total);
	p[0] = id;
	p[1] = customer_id;
	p[2] = cur;
	p[3] = total_s;
	p[4] = meta_s;
	res = bw_db_query(req->db, SQL_INVOICE_INSERT, 5, p);
	free(meta_s);
	if (res == NULL)
		return BW_ERROR;
	PQclear(res);
	jl = json_array();
	for (i = 0; i < n; i++) {
		bw_id_new("il", lid);
		json_array_append_new(jl, json_pack("{s:s, s:I, s:s, s:s, "
		    "s:I, s:o, s:I}", "id", lid, "position", (json_int_t)i,
		    "kind", lines[i].kind, "description", lines[i].description,
		    "amount", (json_int_t)lines[i].amount, "unit_amount",
		    lines[i].unit_amount < 0 ? json_null() :
		    json_integer(lines[i].unit_amount), "quantity",
		    (json_int_t)lines[i].quantity));
	}
	lines_s = json_dumps(jl, JSON_COMPACT);
	json_decref(jl);
	if (lines_s == NULL)
		return BW_ERROR;
	p[0] = id;
	p[1] = lines_s;
	res = bw_db_query(req->db, SQL_LINES_INSERT, 2, p);
	free(lines_s);
	if (res == NULL)
		return BW_ERROR;
	PQclear(res);
	if (bw_invoice_get(req, id, &inv) != BW_OK)
		return BW_ERROR;
	if (bw_invoice_emit(req, "invoice.created", inv) != BW_OK) {
		json_decref(inv);
		return BW_ERROR;
	}
	return bw_req_json(req, 201, inv);
}

static int
invoices_list(struct bw_req *req)
{
	struct bw_page	 page;
	const char	*status;
	json_t		*items;
	size_t		 i;

	if (bw_page_parse(req, "in", &page) != BW_OK)
		return BW_ERROR;
	if ((status = bw_req_query(req, "status")) != NULL) {
		for (i = 0; invoice_statuses[i] != NULL; i++)
			if (strcmp(invoice_statuses[i], status) == 0)
				break;
		if (invoice_statuses[i] == NULL)
			return bw_err_invalid(req, "status", "status must be "
			    "one of draft, open, paid, void, uncollectible.");
	}
	if (bw_invoice_list(req, &page, bw_req_query(req, "customer_id"),
	    bw_req_query(req, "subscription_id"), status, &items) != BW_OK)
		return BW_ERROR;
	return bw_page_respond(req, &page, items, "/api/v1/invoices");
}

/*
 * GET /customers/{id}/invoices: the customer's invoices, newest first;
 * 404 for a customer of another tenant or mode (existence never leaks).
 */
static int
invoices_of_customer(struct bw_req *req)
{
	struct bw_page	 page;
	const char	*p[1] = { bw_req_param(req, 0) };
	PGresult	*res;
	json_t		*items;
	int		 found;

	if (bw_page_parse(req, "in", &page) != BW_OK)
		return BW_ERROR;
	if ((res = bw_db_query(req->db, "SELECT 1 FROM customers WHERE id = $1",
	    1, p)) == NULL)
		return BW_ERROR;
	found = PQntuples(res) == 1;
	PQclear(res);
	if (!found)
		return bw_err_not_found(req, "customer");
	if (bw_invoice_list(req, &page, p[0], NULL, NULL, &items) != BW_OK)
		return BW_ERROR;
	return bw_page_respond(req, &page, items, bw_arena_printf(&req->arena,
	    "/api/v1/customers/%s/invoices", p[0]));
}

static int
invoices_get(struct bw_req *req)
{
	json_t	*inv;
	int	 rc;

	if ((rc = bw_invoice_get(req, bw_req_param(req, 0), &inv)) ==
	    BW_DECLINED)
		return bw_err_not_found(req, "invoice");
	if (rc != BW_OK)
		return BW_ERROR;
	return bw_req_json(req, 200, inv);
}

/* The actions take no parameters; an unknown one is still a 400. */
static int
invoice_no_params(struct bw_req *req)
{
	static const char *const none[] = { NULL };

	if (bw_body_object(req) != BW_OK ||
	    bw_params_only(req, req->json, none) != BW_OK)
		return BW_ERROR;
	return BW_OK;
}

/*
 * Before an invoice changes state: its subscription's row is locked first
 * (the scheduler's lock order: subscription, invoice, customer), and a
 * test-clock customer's changes happen at the clock's time. *SUB_ID gets
 * the subscription ("" for none). BW_DECLINED when there is no invoice.
 */
#define SQL_INVOICE_HOLD \
	"SELECT i.subscription_id, k.frozen_time IS NOT NULL AS on_clock, " \
	"floor(extract(epoch FROM k.frozen_time))::bigint AS clock_now " \
	"FROM invoices i JOIN customers c ON c.tenant_id = i.tenant_id AND " \
	"c.id = i.customer_id LEFT JOIN test_clocks k ON k.tenant_id = " \
	"c.tenant_id AND k.id = c.test_clock_id WHERE i.id = $1 AND " \
	"c.id = (SELECT customer_id FROM invoices WHERE id = $1)"

#define SQL_INVOICE_SUB_LOCK \
	"SELECT 1 FROM subscriptions WHERE id = $1 FOR UPDATE"

static int
invoice_hold(struct bw_req *req, const char *id, char sub_id[BW_ID_MAX])
{
	const char	*p[1] = { id };
	PGresult	*res;
	int64_t		 clock_now = -1;

	sub_id[0] = '\0';
	if ((res = bw_db_query(req->db, SQL_INVOICE_HOLD, 1, p)) == NULL)
		return BW_ERROR;
	if (PQntuples(res) != 1) {
		PQclear(res);
		return BW_DECLINED;
	}
	if (!bw_db_isnull(res, 0, "subscription_id"))
		snprintf(sub_id, BW_ID_MAX, "%s", bw_db_val(res, 0,
		    "subscription_id"));
	if (strcmp(bw_db_val(res, 0, "on_clock"), "t") == 0)
		clock_now = bw_db_int(res, 0, "clock_now");
	PQclear(res);
	if (sub_id[0] != '\0') {
		p[0] = sub_id;
		if ((res = bw_db_query(req->db, SQL_INVOICE_SUB_LOCK, 1, p)) ==
		    NULL)
			return BW_ERROR;
		PQclear(res);
	}
	if (clock_now >= 0 && bw_billing_set_now(req, clock_now) != BW_OK)
		return BW_ERROR;
	return BW_OK;
}

/*
 * Finalize never charges: a one-off invoice is Stripe's auto_advance
 * false, so collection waits for POST /invoices/{id}/pay. An invoice with
 * nothing due is paid at once (BILLING.md).
 */
static int
invoices_finalize(struct bw_req *req)
{
	const char	*id = bw_req_param(req, 0);
	json_t		*inv;
	int		 rc;

	char		 sub_id[BW_ID_MAX];

	if (invoice_no_params(req) != BW_OK)
		return BW_ERROR;
	if ((rc = invoice_hold(req, id, sub_id)) == BW_DECLINED)
		return bw_err_not_found(req, "invoice");
	if (rc != BW_OK)
		return BW_ERROR;
	if ((rc = bw_invoice_finalize(req, id, &inv)) == BW_DECLINED)
		return bw_err_not_found(req, "invoice");
	if (rc != BW_OK)
		return BW_ERROR;
	if (bw_audit(req, "invoice.finalized", id, json_pack("{s:b, s:O}",
	    "livemode", req->who.livemode, "number", json_object_get(inv,
	    "number"))) != BW_OK) {
		json_decref(inv);
		return BW_ERROR;
	}
	return bw_req_json(req, 200, inv);
}

/*
 * One attempt now (BILLING.md "Collection and dunning"). A failed attempt
 * answers 402 card_error; the dispatcher commits it, so the failed payment
 * and attempt_count stay, and an Idempotency-Key replays the 402.
 */
static int
invoices_pay(struct bw_req *req)
{
	struct bw_invoice_attempt	 at;
	char				 sub_id[BW_ID_MAX];
	json_t				*inv;
	int				 rc;

	if (invoice_no_params(req) != BW_OK)
		return BW_ERROR;
	if ((rc = invoice_hold(req, bw_req_param(req, 0), sub_id)) ==
	    BW_DECLINED)
		return bw_err_not_found(req, "invoice");
	if (rc != BW_OK)
		return BW_ERROR;
	rc = bw_invoice_collect(req, bw_req_param(req, 0), &at, &inv);
	if (rc == BW_DECLINED)
		return bw_err_not_found(req, "invoice");
	if (rc != BW_OK)
		return BW_ERROR;
	/* Paid: its subscription may be active again (BILLING.md). */
	if (sub_id[0] != '\0' && bw_sub_sync_status(req, sub_id, 1, NULL) !=
	    BW_OK) {
		json_decref(inv);
		return BW_ERROR;
	}
	if (!at.succeeded) {
		json_decref(inv);
		return bw_req_error(req, 402, "card_error", at.failure_code,
		    NULL, "%s", at.failure_reason);
	}
	return bw_req_json(req, 200, inv);
}

/* open -> STATUS, with event TYPE; any other state is a 409. */
static int
invoice_close(struct bw_req *req, const char *status, const char *type)
{
	const char	*p[2] = { bw_req_param(req, 0), status };
	char		 sub_id[BW_ID_MAX];
	json_t		*inv;
	PGresult	*res;
	int		 rc;

	if (invoice_no_params(req) != BW_OK)
		return BW_ERROR;
	if ((rc = invoice_hold(req, p[0], sub_id)) == BW_DECLINED)
		return bw_err_not_found(req, "invoice");
	if (rc != BW_OK)
		return BW_ERROR;
	if ((res = bw_db_query(req->db, SQL_INVOICE_STATUS, 1, p)) == NULL)
		return BW_ERROR;
	if (PQntuples(res) != 1) {
		PQclear(res);
		return bw_err_not_found(req, "invoice");
	}
	if (strcmp(bw_db_val(res, 0, "status"), "open") != 0) {
		bw_req_error(req, 409, "invalid_request_error",
		    "invalid_state", NULL, "This invoice is %s; only an open "
		    "invoice can be made %s.", bw_db_val(res, 0, "status"),
		    status);
		PQclear(res);
		return BW_ERROR;
	}
	PQclear(res);
	if ((res = bw_db_query(req->db, SQL_INVOICE_SET_STATUS, 2, p)) ==
	    NULL)
		return BW_ERROR;
	PQclear(res);
	if (bw_invoice_get(req, p[0], &inv) != BW_OK)
		return BW_ERROR;
	/* BILLING.md: void or uncollectible no longer keep it past_due. */
	if (bw_invoice_emit(req, type, inv) != BW_OK ||
	    (sub_id[0] != '\0' && bw_sub_sync_status(req, sub_id, 1, NULL) !=
	    BW_OK) ||
	    bw_audit(req, type, p[0], json_pack("{s:b}", "livemode",
	    req->who.livemode)) != BW_OK) {
		json_decref(inv);
		return BW_ERROR;
	}
	return bw_req_json(req, 200, inv);
}

static int
invoices_void(struct bw_req *req)
{
	return invoice_close(req, "void", "invoice.voided");
}

static int
invoices_uncollectible(struct bw_req *req)
{
	return invoice_close(req, "uncollectible",
	    "invoice.marked_uncollectible");
}

static const struct bw_route invoice_routes[] = {
	{ .method = BW_GET, .pattern = "/api/v1/customers/{id}/invoices",
	  .auth = BW_AUTH_TENANT, .handler = invoices_of_customer },
	{ .method = BW_GET, .pattern = "/api/v1/invoices",
	  .auth = BW_AUTH_TENANT, .handler = invoices_list },
	{ .method = BW_POST, .pattern = "/api/v1/invoices",
	  .auth = BW_AUTH_TENANT, .role = BW_ROLE_ADMIN,
	  .handler = invoices_create },
	{ .method = BW_GET, .pattern = "/api/v1/invoices/{id}",
	  .auth = BW_AUTH_TENANT, .handler = invoices_get },
	{ .method = BW_POST, .pattern = "/api/v1/invoices/{id}/finalize",
	  .auth = BW_AUTH_TENANT, .role = BW_ROLE_ADMIN,
	  .handler = invoices_finalize },
	{ .method = BW_POST, .pattern = "/api/v1/invoices/{id}/pay",
	  .auth = BW_AUTH_TENANT, .role = BW_ROLE_ADMIN,
	  .handler = invoices_pay },
	{ .method = BW_POST, .pattern = "/api/v1/invoices/{id}/void",
	  .auth = BW_AUTH_TENANT, .role = BW_ROLE_ADMIN,
	  .handler = invoices_void },
	{ .method = BW_POST,
	  .pattern = "/api/v1/invoices/{id}/mark_uncollectible",
	  .auth = BW_AUTH_TENANT, .role = BW_ROLE_ADMIN,
	  .handler = invoices_uncollectible },
};

BW_ROUTE_TABLE(bw_api_invoices, invoice_routes);
