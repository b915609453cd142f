/*
 * Payments and refunds (API.md "Invoices, payments, refunds"): list, get
 * and refund. Payments are made by billing/invoice.c; refunds never touch
 * the fee, net_amount or the invoice. Runs on task threads in the tenant
 * transaction, tenant and mode confined by RLS.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/api.h"
#include "auth/crypto.h"
#include "billing/invoice.h"
#include "billing/money.h"
#include "db/db.h"

#define REFUND_REASON_MAX	500

#define SQL_PAYMENTS_SELECT \
	"SELECT " BW_PAYMENT_COLUMNS " FROM payments"

#define SQL_PAYMENT_GET \
	"SELECT " BW_PAYMENT_COLUMNS " FROM payments WHERE id = $1"

/* A refund's currency is its payment's. */
#define SQL_REFUND_INSERT \
	"INSERT INTO refunds (tenant_id, livemode, id, payment_id, amount, " \
	"reason) VALUES (current_setting('app.tenant_id'), " \
	"current_setting('app.livemode')::boolean, $1, $2, $3::bigint, $4) " \
	"RETURNING id, livemode, payment_id, amount, status, reason, " \
	"floor(extract(epoch FROM created))::bigint AS created, " \
	"(SELECT p.currency FROM payments p WHERE " \
	"p.id = refunds.payment_id) AS currency"

#define SQL_PAYMENT_REFUNDED \
	"UPDATE payments SET amount_refunded = amount_refunded + $2::bigint, " \
	"status = CASE WHEN amount_refunded + $2::bigint = amount THEN " \
	"'refunded' ELSE 'partially_refunded' END WHERE id = $1 " \
	"RETURNING " BW_PAYMENT_COLUMNS

static const char *const payment_statuses[] = { "pending", "succeeded",
    "failed", "refunded", "partially_refunded", NULL };

/* API.md "Conventions": amount_decimal in the payment's currency. */
/* A refunds row (SQL_REFUND_INSERT's RETURNING) as the contract has it. */
static json_t *
refund_json(const PGresult *res, int row)
{
	char	created[32];

	bw_time_rfc3339(bw_db_int(res, row, "created"), created,
	    sizeof(created));
	return json_pack("{s:s, s:s, s:s, s:I, s:o, s:s, s:o, s:s, s:b}",
	    "object", "refund",
	    "id", bw_db_val(res, row, "id"),
	    "payment_id", bw_db_val(res, row, "payment_id"),
	    "amount", (json_int_t)bw_db_int(res, row, "amount"),
	    "amount_decimal", bw_amount_decimal_json(bw_db_int(res, row,
	    "amount"), bw_db_val(res, row, "currency")),
	    "status", bw_db_val(res, row, "status"),
	    "reason", bw_db_isnull(res, row, "reason") ? json_null() :
	    json_string(bw_db_val(res, row, "reason")),
	    "created", created,
	    "livemode", strcmp(bw_db_val(res, row, "livemode"), "t") == 0);
}

static int
payments_list(struct bw_req *req)
{
	struct bw_page	 page;
	struct bw_list	 l;
	const char	*status;
	PGresult	*res;
	json_t		*items;
	int		 i;

	if (bw_page_parse(req, "pay", &page) != BW_OK)
		return BW_ERROR;
	if ((status = bw_req_query(req, "status")) != NULL) {
		for (i = 0; payment_statuses[i] != NULL; i++)
			if (strcmp(payment_statuses[i], status) == 0)
				break;
		if (payment_statuses[i] == NULL)
			return bw_err_invalid(req, "status", "status must be "
			    "one of pending, succeeded, failed, refunded, "
			    "partially_refunded.");
	}
	bw_list_init(req, &l, SQL_PAYMENTS_SELECT);
	bw_list_filter(&l, "customer_id = $%d",
	    bw_req_query(req, "customer_id"));
	bw_list_filter(&l, "invoice_id = $%d", bw_req_query(req, "invoice_id"));
	bw_list_filter(&l, "subscription_id = $%d",
	    bw_req_query(req, "subscription_id"));
	bw_list_filter(&l, "status = $%d", status);
	res = bw_list_query(&l, &page, "id");
	if (res == NULL)
		return BW_ERROR;
	items = json_array();
	for (i = 0; i < PQntuples(res); i++)
		json_array_append_new(items, bw_payment_json(res, i));
	PQclear(res);
	return bw_page_respond(req, &page, items, "/api/v1/payments");
}

static int
payments_get(struct bw_req *req)
{
	const char	*p[1] = { bw_req_param(req, 0) };
	PGresult	*res;
	json_t		*pay;

	if ((res = bw_db_query(req->db, SQL_PAYMENT_GET, 1, p)) == NULL)
		return BW_ERROR;
	if (PQntuples(res) != 1) {
		PQclear(res);
		return bw_err_not_found(req, "payment");
	}
	pay = bw_payment_json(res, 0);
	PQclear(res);
	return bw_req_json(req, 200, pay);
}

/*
 * The refund's amount: amount or amount_decimal (API.md "Conventions"),
 * 1..REMAIN; absent means all that remains. BW_OK or BW_ERROR.
 */
static int
refund_amount(struct bw_req *req, const char *currency, int64_t remain,
    int64_t *amount)
{
	const char	*dec;
	int		 expo, rc_a, rc_d;

	if ((rc_a = bw_param_int(req, req->json, "amount", BW_P_OPTIONAL, 1,
	    BW_MONEY_AMOUNT_MAX, amount)) == BW_ERROR ||
	    (rc_d = bw_param_str(req, req->json, "amount_decimal",
	    BW_P_OPTIONAL, 64, &dec)) == BW_ERROR)
		return BW_ERROR;
	if (rc_a == BW_OK && rc_d == BW_OK)
		return bw_err_invalid(req, "amount_decimal", "Pass amount or "
		    "amount_decimal, not both.");
	if (rc_d == BW_OK) {
		if (bw_money_currency(currency, NULL, &expo) != BW_OK)
			expo = 2;
		if (bw_money_parse_decimal(dec, expo, 0, amount) != BW_OK ||
		    *amount <= 0)
			return bw_err_invalid(req, "amount_decimal",
			    "amount_decimal must be a positive decimal string "
			    "with at most %d decimal places for %s.", expo,
			    currency);
	} else if (rc_a != BW_OK)
		*amount = remain;
	if (remain <= 0)
		return bw_err_invalid(req, NULL, "This payment has already "
		    "been refunded in full.");
	if (*amount > remain)
		return bw_err_invalid(req, rc_d == BW_OK ? "amount_decimal" :
		    "amount", "Refund amount (%lld) is greater than the amount "
		    "that remains to be refunded (%lld).", (long long)*amount,
		    (long long)remain);
	return BW_OK;
}

static int
payments_refund(struct bw_req *req)
{
	static const char *const allowed[] = { "amount", "amount_decimal",
	    "reason", NULL };
	const char	*p[4], *reason, *status;
	char		 id[BW_ID_MAX], amount_s[24];
	int64_t		 amount, remain;
	PGresult	*res;
	json_t		*refund, *pay;

	if (bw_body_object(req) != BW_OK ||
	    bw_params_only(req, req->json, allowed) != BW_OK ||
	    bw_param_str(req, req->json, "reason", BW_P_NULLABLE,
	    REFUND_REASON_MAX, &reason) == BW_ERROR)
		return BW_ERROR;
	p[0] = bw_req_param(req, 0);
	if ((res = bw_db_query(req->db, SQL_PAYMENT_GET " FOR UPDATE", 1,
	    p)) == NULL)
		return BW_ERROR;
	if (PQntuples(res) != 1) {
		PQclear(res);
		return bw_err_not_found(req, "payment");
	}
	status = bw_db_val(res, 0, "status");
	if (strcmp(status, "succeeded") != 0 &&
	    strcmp(status, "partially_refunded") != 0 &&
	    strcmp(status, "refunded") != 0) {
		bw_err_invalid(req, NULL, "Only a succeeded payment can be "
		    "refunded; this one is %s.", status);
		PQclear(res);
		return BW_ERROR;
	}
	remain = bw_db_int(res, 0, "amount") - bw_db_int(res, 0,
	    "amount_refunded");
	if (refund_amount(req, bw_db_val(res, 0, "currency"), remain,
	    &amount) != BW_OK) {
		PQclear(res);
		return BW_ERROR;
	}
	PQclear(res);

	bw_id_new("re", id);
	snprintf(amount_s, sizeof(amount_s), "%lld", (long long)amount);
	p[0] = id;
	p[1] = bw_req_param(req, 0);
	p[2] = amount_s;
	p[3] = reason != NULL && *reason != '\0' ? reason : NULL;
	if ((res = bw_db_query(req->db, SQL_REFUND_INSERT, 4, p)) == NULL)
		return BW_ERROR;
	refund = refund_json(res, 0);
	PQclear(res);

	p[0] = bw_req_param(req, 0);
	p[1] = amount_s;
	if ((res = bw_db_query(req->db, SQL_PAYMENT_REFUNDED, 2, p)) == NULL) {
		json_decref(refund);
		return BW_ERROR;
	}
	pay = bw_payment_json(res, 0);
	PQclear(res);
	if (bw_invoice_emit(req, "payment.refunded", pay) != BW_OK ||
	    bw_audit(req, "payment.refunded", p[0], json_pack("{s:b, s:s, "
	    "s:I}", "livemode", req->who.livemode, "refund_id", id, "amount",
	    (json_int_t)amount)) != BW_OK) {
		json_decref(pay);
		json_decref(refund);
		return BW_ERROR;
	}
	json_decref(pay);
	return bw_req_json(req, 201, refund);
}

static const struct bw_route payment_routes[] = {
	{ .method = BW_GET, .pattern = "/api/v1/payments",
	  .auth = BW_AUTH_TENANT, .handler = payments_list },
	{ .method = BW_GET, .pattern = "/api/v1/payments/{id}",
	  .auth = BW_AUTH_TENANT, .handler = payments_get },
	{ .method = BW_POST, .pattern = "/api/v1/payments/{id}/refund",
	  .auth = BW_AUTH_TENANT, .role = BW_ROLE_ADMIN,
	  .handler = payments_refund },
};

BW_ROUTE_TABLE(bw_api_payments, payment_routes);
