/*
 * Invoice logic shared by the invoice API and the billing core: the invoice
 * and payment objects, finalization with the customer balance and gapless
 * numbers, and one collection attempt through the test-mode simulator.
 * Runs inside the caller's tenant transaction (task thread or background
 * worker); row-level security confines every statement to tenant and mode.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/api.h"
#include "billing/invoice.h"
#include "billing/money.h"
#include "billing/rules.h"
#include "db/db.h"
#include "plugin/plugin.h"
#include "server/http.h"
#include "server/params.h"

#define SQL_EPOCH(col) \
	"floor(extract(epoch FROM " col "))::bigint"

/* Lines travel with the invoice as one JSON array, in position order. */
#define SQL_INVOICE_COLUMNS \
	"i.id, i.livemode, i.number, i.customer_id, i.subscription_id, " \
	"i.status, i.currency, i.subtotal, i.total, i.starting_balance, " \
	"i.ending_balance, i.amount_due, i.amount_paid, " \
	SQL_EPOCH("i.period_start") " AS period_start, " \
	SQL_EPOCH("i.period_end") " AS period_end, i.attempt_count, " \
	SQL_EPOCH("i.next_payment_attempt") " AS next_payment_attempt, " \
	"i.script_error, i.metadata::text AS metadata, " \
	SQL_EPOCH("i.created") " AS created, " \
	"(SELECT coalesce(json_agg(json_build_object('id', l.id, 'kind', " \
	"l.kind, 'description', l.description, 'amount', l.amount, " \
	"'amount_decimal', NULL::text, 'unit_amount', l.unit_amount, " \
	"'unit_amount_decimal', l.unit_amount_decimal, 'quantity', " \
	"l.quantity, 'period_start', " \
	SQL_EPOCH("l.period_start") ", 'period_end', " \
	SQL_EPOCH("l.period_end") ") ORDER BY l.position), '[]') " \
	"FROM invoice_lines l WHERE l.invoice_id = i.id)::text AS lines"

#define SQL_INVOICE_GET \
	"SELECT " SQL_INVOICE_COLUMNS " FROM invoices i WHERE i.id = $1"

#define SQL_INVOICES_SELECT \
	"SELECT " SQL_INVOICE_COLUMNS " FROM invoices i"

/*
 * Lock order, for every writer of these rows: invoice, then customer, then
 * the tenant's invoice_numbers row. The counter's row lock is held until
 * commit, so concurrent finalizations take numbers one after the other and
 * a rolled-back finalization gives its number back: gapless.
 */
/*
 * The customer's key comes from an init plan, not only the join: with
 * statistics that predate a tenant's rows (a new tenant, an import, a
 * long clock advance) the planner estimates one customer per tenant and
 * picks a nested loop that scans every customer of the tenant for each
 * invoice. A constant key leaves it one index probe.
 */
#define SQL_CUSTOMER_OF_INVOICE \
	"c.id = (SELECT customer_id FROM invoices WHERE id = $1)"

#define SQL_INVOICE_LOCK \
	"SELECT i.status, i.customer_id, i.total, c.balance FROM invoices i " \
	"JOIN customers c ON c.tenant_id = i.tenant_id AND c.id = " \
	"i.customer_id WHERE i.id = $1 AND " SQL_CUSTOMER_OF_INVOICE \
	" FOR UPDATE OF i, c"

/* The customer as it is after, for its customer.updated event. */
#define SQL_CUSTOMER_BALANCE \
	"UPDATE customers SET balance = $2::bigint WHERE id = $1 " \
	"RETURNING " BW_CUSTOMER_COLUMNS

/*
 * Finalization with the next invoice number (BILLING.md): the tenant's
 * slug, '-', 4+ digits, from the counter row of the tenant and mode.
 */
#define SQL_INVOICE_FINALIZE \
	"WITH n AS (INSERT INTO invoice_numbers (tenant_id, livemode, last) " \
	"VALUES (current_setting('app.tenant_id'), " \
	"current_setting('app.livemode')::boolean, 1) ON CONFLICT " \
	"(tenant_id, livemode) DO UPDATE SET last = invoice_numbers.last + 1 " \
	"RETURNING last) UPDATE invoices SET status = 'open', number = " \
	"(SELECT upper(t.slug) || '-' || lpad(n.last::text, greatest(4, " \
	"length(n.last::text)), '0') FROM n, tenants t WHERE t.id = " \
	"current_setting('app.tenant_id')), starting_balance = $2::bigint, " \
	"ending_balance = $3::bigint, amount_due = $4::bigint, " \
	"amount_paid = 0, finalized_at = billow_now() WHERE id = $1"

#define SQL_INVOICE_PAID_NOW \
	"UPDATE invoices SET status = 'paid', paid_at = billow_now(), " \
	"next_payment_attempt = NULL WHERE id = $1"

#define SQL_COLLECT_CONTEXT \
	"SELECT i.status, i.amount_due, i.currency, i.customer_id, " \
	"i.subscription_id, c.payment_method, t.platform_fee_bps, " \
	"i.billing_reason, t.dunning_retry_days::text AS retry_days, " \
	SQL_EPOCH("i.first_failed_at") " AS first_failed, " \
	SQL_EPOCH("billow_now()") " AS now, (SELECT s.status FROM " \
	"subscriptions s WHERE s.id = i.subscription_id) AS sub_status " \
	"FROM invoices i JOIN customers c ON c.tenant_id = i.tenant_id AND " \
	"c.id = i.customer_id, tenants t WHERE i.id = $1 AND " \
	SQL_CUSTOMER_OF_INVOICE " AND " \
	"t.id = current_setting('app.tenant_id') FOR UPDATE OF i"

#define SQL_PAYMENT_INSERT \
	"INSERT INTO payments (tenant_id, livemode, id, invoice_id, " \
	"subscription_id, customer_id, amount, currency, status, " \
	"application_fee_amount, net_amount, payment_method, provider, " \
	"provider_payment_id, failure_code, failure_reason) VALUES " \
	"(current_setting('app.tenant_id'), " \
	"current_setting('app.livemode')::boolean, $1, $2, $3, $4, " \
	"$5::bigint, $6, $7, $8::bigint, $9::bigint, $10, $11, $12, $13, " \
	"$14) RETURNING " BW_PAYMENT_COLUMNS

/* amount_paid: the sum of the payments whose attempt succeeded. */
#define SQL_INVOICE_ATTEMPT_PAID \
	"UPDATE invoices SET attempt_count = attempt_count + 1, " \
	"status = 'paid', paid_at = billow_now(), next_payment_attempt = NULL, " \
	"amount_paid = (SELECT coalesce(sum(amount), 0) FROM payments " \
	"WHERE invoice_id = $1 AND status <> 'failed' AND status <> " \
	"'pending') WHERE id = $1"

/*
 * A failed attempt: $2 the first failure, $3 the next retry (NULL: none;
 * see invoice_next_retry).
 */
#define SQL_INVOICE_ATTEMPT_FAILED \
	"UPDATE invoices SET attempt_count = attempt_count + 1, " \
	"first_failed_at = to_timestamp($2::bigint), next_payment_attempt = " \
	"to_timestamp($3::bigint) WHERE id = $1"

static json_t *
invoice_time(const PGresult *res, int row, const char *col)
{
	char	buf[32];

	if (bw_db_isnull(res, row, col))
		return json_null();
	bw_time_rfc3339(bw_db_int(res, row, col), buf, sizeof(buf));
	return json_string(buf);
}

static json_t *
invoice_str(const PGresult *res, int row, const char *col)
{
	if (bw_db_isnull(res, row, col))
		return json_null();
	return json_string(bw_db_val(res, row, col));
}

/* An epoch-seconds JSON value (or null) as an RFC 3339 string (or null). */
static json_t *
invoice_line_time(json_t *v)
{
	char	buf[32];

	if (!json_is_integer(v))
		return json_null();
	bw_time_rfc3339(json_integer_value(v), buf, sizeof(buf));
	return json_string(buf);
}

/* API.md "Conventions": responses carry amount_decimal beside amount. */
json_t *
bw_amount_decimal_json(long long amount, const char *currency)
{
	char	up[4], buf[48];
	int	exp;

	if (bw_money_currency(currency, up, &exp) != BW_OK)
		return json_null();
	bw_money_format_decimal(amount, exp, buf, sizeof(buf));
	return json_string(buf);
}

/*
 * The lines as the contract has them: timestamps in RFC 3339,
 * amount_decimal in the invoice's CURRENCY, and unit_amount_decimal only
 * on the usage lines priced with it.
 */
static json_t *
invoice_lines(const char *s, const char *currency)
{
	json_t	*lines, *l;
	size_t	 i;

	if ((lines = json_loads(s, 0, NULL)) == NULL || !json_is_array(lines)) {
		json_decref(lines);
		return json_array();
	}
	json_array_foreach(lines, i, l) {
		json_object_set_new(l, "amount_decimal", bw_amount_decimal_json(
		    json_integer_value(json_object_get(l, "amount")),
		    currency));
		json_object_set_new(l, "period_start",
		    invoice_line_time(json_object_get(l, "period_start")));
		json_object_set_new(l, "period_end",
		    invoice_line_time(json_object_get(l, "period_end")));
		if (json_is_null(json_object_get(l, "unit_amount_decimal")))
			json_object_del(l, "unit_amount_decimal");
	}
	return lines;
}

/* An invoices row (SQL_INVOICE_COLUMNS) as the contract's invoice. */
static json_t *
invoice_json(const PGresult *res, int row)
{
	json_t	*meta;

	if ((meta = json_loads(bw_db_val(res, row, "metadata"), 0,
	    NULL)) == NULL)
		meta = json_object();
	return json_pack("{s:s, s:s, s:b, s:o, s:o, s:s, s:o, s:s, s:s, "
	    "s:o, s:I, s:I, s:I, s:I, s:I, s:I, s:o, s:o, s:I, s:o, s:o, "
	    "s:o}",
	    "object", "invoice",
	    "id", bw_db_val(res, row, "id"),
	    "livemode", strcmp(bw_db_val(res, row, "livemode"), "t") == 0,
	    "created", invoice_time(res, row, "created"),
	    "number", invoice_str(res, row, "number"),
	    "customer_id", bw_db_val(res, row, "customer_id"),
	    "subscription_id", invoice_str(res, row, "subscription_id"),
	    "status", bw_db_val(res, row, "status"),
	    "currency", bw_db_val(res, row, "currency"),
	    "lines", invoice_lines(bw_db_val(res, row, "lines"),
	    bw_db_val(res, row, "currency")),
	    "subtotal", (json_int_t)bw_db_int(res, row, "subtotal"),
	    "total", (json_int_t)bw_db_int(res, row, "total"),
	    "starting_balance", (json_int_t)bw_db_int(res, row,
	    "starting_balance"),
	    "ending_balance", (json_int_t)bw_db_int(res, row,
	    "ending_balance"),
	    "amount_due", (json_int_t)bw_db_int(res, row, "amount_due"),
	    "amount_paid", (json_int_t)bw_db_int(res, row, "amount_paid"),
	    "period_start", invoice_time(res, row, "period_start"),
	    "period_end", invoice_time(res, row, "period_end"),
	    "attempt_count", (json_int_t)bw_db_int(res, row, "attempt_count"),
	    "next_payment_attempt", invoice_time(res, row,
	    "next_payment_attempt"),
	    "script_error", invoice_str(res, row, "script_error"),
	    "metadata", meta);
}

json_t *
bw_payment_json(const PGresult *res, int row)
{
	return json_pack("{s:s, s:s, s:b, s:o, s:s, s:o, s:s, s:I, s:o, s:s, "
	    "s:s, s:I, s:I, s:I, s:o, s:s, s:o, s:o, s:o}",
	    "object", "payment",
	    "id", bw_db_val(res, row, "id"),
	    "livemode", strcmp(bw_db_val(res, row, "livemode"), "t") == 0,
	    "created", invoice_time(res, row, "created"),
	    "invoice_id", bw_db_val(res, row, "invoice_id"),
	    "subscription_id", invoice_str(res, row, "subscription_id"),
	    "customer_id", bw_db_val(res, row, "customer_id"),
	    "amount", (json_int_t)bw_db_int(res, row, "amount"),
	    "amount_decimal", bw_amount_decimal_json(bw_db_int(res, row,
	    "amount"),
	    bw_db_val(res, row, "currency")),
	    "currency", bw_db_val(res, row, "currency"),
	    "status", bw_db_val(res, row, "status"),
	    "application_fee_amount", (json_int_t)bw_db_int(res, row,
	    "application_fee_amount"),
	    "net_amount", (json_int_t)bw_db_int(res, row, "net_amount"),
	    "amount_refunded", (json_int_t)bw_db_int(res, row,
	    "amount_refunded"),
	    "payment_method", invoice_str(res, row, "payment_method"),
	    "provider", bw_db_val(res, row, "provider"),
	    "provider_payment_id", invoice_str(res, row,
	    "provider_payment_id"),
	    "failure_code", invoice_str(res, row, "failure_code"),
	    "failure_reason", invoice_str(res, row, "failure_reason"));
}

int
bw_invoice_get(struct bw_req *req, const char *id, json_t **out)
{
	const char	*p[1] = { id };
	PGresult	*res;

	*out = NULL;
	if ((res = bw_db_query(req->db, SQL_INVOICE_GET, 1, p)) == NULL)
		return BW_ERROR;
	if (PQntuples(res) != 1) {
		PQclear(res);
		return BW_DECLINED;
	}
	*out = invoice_json(res, 0);
	PQclear(res);
	return BW_OK;
}

int
bw_invoice_list(struct bw_req *req, const struct bw_page *page,
    const char *customer_id, const char *subscription_id,
    const char *status, json_t **out)
{
	struct bw_list	 l;
	PGresult	*res;
	int		 i;

	bw_list_init(req, &l, SQL_INVOICES_SELECT);
	bw_list_filter(&l, "i.customer_id = $%d", customer_id);
	bw_list_filter(&l, "i.subscription_id = $%d", subscription_id);
	bw_list_filter(&l, "i.status = $%d", status);
	res = bw_list_query(&l, page, "i.id");
	if (res == NULL)
		return BW_ERROR;
	*out = json_array();
	for (i = 0; i < PQntuples(res); i++)
		json_array_append_new(*out, invoice_json(res, i));
	PQclear(res);
	return BW_OK;
}

int
bw_invoice_emit(struct bw_req *req, const char *type, json_t *obj)
{
	return bw_event_emit_json(req, type, json_pack("{s:O}", "object",
	    obj));
}

int
bw_billing_exec(struct bw_req *req, const char *sql, int n, const char **p)
{
	/* No rows wanted: it travels with the next statement, in order. */
	return bw_db_queue(req->db, sql, n, p) == BW_OK ? BW_OK :
	    bw_err_internal(req);
}

/* Emits TYPE with the invoice as it is now; hands it to *OUT or drops it. */
static int
invoice_emit_current(struct bw_req *req, const char *id, const char *type,
    json_t **out)
{
	json_t	*inv;
	int	 rc;

	if (bw_invoice_get(req, id, &inv) != BW_OK)
		return BW_ERROR;
	rc = bw_invoice_emit(req, type, inv);
	if (rc == BW_OK && out != NULL) {
		json_decref(*out);
		*out = inv;
	} else
		json_decref(inv);
	return rc;
}

int
bw_invoice_finalize(struct bw_req *req, const char *id, json_t **out)
{
	const char	*p[5];
	char		 start_s[24], end_s[24], due_s[24];
	int64_t		 total, balance, due, ending;
	PGresult	*res;
	json_t		*cus;

	if (out != NULL)
		*out = NULL;
	p[0] = id;
	if ((res = bw_db_query(req->db, SQL_INVOICE_LOCK, 1, p)) == NULL)
		return BW_ERROR;
	if (PQntuples(res) != 1) {
		PQclear(res);
		return BW_DECLINED;
	}
	if (strcmp(bw_db_val(res, 0, "status"), "draft") != 0) {
		bw_req_error(req, 409, "invalid_request_error",
		    "invalid_state", NULL, "This invoice is %s; only a draft "
		    "invoice can be finalized.", bw_db_val(res, 0, "status"));
		PQclear(res);
		return BW_ERROR;
	}
	total = bw_db_int(res, 0, "total");
	balance = bw_db_int(res, 0, "balance");
	p[1] = bw_arena_strdup(&req->arena, bw_db_val(res, 0, "customer_id"));
	PQclear(res);

	if (bw_rule_balance(total, balance, &due, &ending) != BW_OK)
		return bw_err_internal(req);
	if (ending != balance) {
		snprintf(end_s, sizeof(end_s), "%lld", (long long)ending);
		p[0] = p[1];
		p[1] = end_s;
		if ((res = bw_db_query(req->db, SQL_CUSTOMER_BALANCE, 2, p)) ==
		    NULL)
			return BW_ERROR;
		if (PQntuples(res) != 1) {
			PQclear(res);
			return BW_ERROR;
		}
		cus = bw_customer_json(res, 0);
		PQclear(res);
		/* BILLING.md "Customer balance": the change is an update. */
		if (bw_event_emit_json(req, "customer.updated", json_pack(
		    "{s:o, s:{s:I}}", "object", cus, "previous_attributes",
		    "balance", (json_int_t)balance)) != BW_OK)
			return BW_ERROR;
	}

	snprintf(start_s, sizeof(start_s), "%lld", (long long)balance);
	snprintf(end_s, sizeof(end_s), "%lld", (long long)ending);
	snprintf(due_s, sizeof(due_s), "%lld", (long long)due);
	p[0] = id;
	p[1] = start_s;
	p[2] = end_s;
	p[3] = due_s;
	if (bw_billing_exec(req, SQL_INVOICE_FINALIZE, 4, p) != BW_OK ||
	    invoice_emit_current(req, id, "invoice.finalized", out) != BW_OK)
		return BW_ERROR;
	if (due > 0)
		return BW_OK;
	/* Nothing due: paid at once, no payment object (BILLING.md). */
	if (bw_billing_exec(req, SQL_INVOICE_PAID_NOW, 1, p) != BW_OK ||
	    invoice_emit_current(req, id, "invoice.paid", out) != BW_OK)
		return BW_ERROR;
	return BW_OK;
}

/* The test cards of API.md "Customers" and what charging them does. */
static const struct {
	const char	*pm;
	const char	*code;		/* NULL: the charge succeeds */
	const char	*reason;
} invoice_cards[] = {
	{ "pm_card_visa", NULL, NULL },
	{ "pm_card_mastercard", NULL, NULL },
	{ "pm_card_chargeDeclined", "card_declined",
	  "Your card was declined." },
	{ "pm_card_insufficientFunds", "insufficient_funds",
	  "Your card has insufficient funds." },
	{ "pm_card_expired", "expired_card", "Your card has expired." },
};

int
bw_invoice_simulate(const char *pm, int livemode, const char **code,
    const char **reason)
{
	size_t	i;

	if (pm == NULL || *pm == '\0') {
		*code = "no_payment_method";
		*reason = "The customer has no payment method.";
		return 0;
	}
	/*
	 * Live mode charges through the stripe-connect plugin; until it is
	 * installed no live charge can be made.
	 */
	if (livemode) {
		*code = "provider_unavailable";
		*reason = "No payment provider is available for live mode.";
		return 0;
	}
	for (i = 0; i < sizeof(invoice_cards) / sizeof(invoice_cards[0]); i++) {
		if (strcmp(invoice_cards[i].pm, pm) != 0)
			continue;
		if (invoice_cards[i].code == NULL)
			return 1;
		*code = invoice_cards[i].code;
		*reason = invoice_cards[i].reason;
		return 0;
	}
	/* Customers refuse other test-mode methods; decline if one slipped by. */
	*code = "card_declined";
	*reason = "Your card was declined.";
	return 0;
}

int
bw_invoice_collect(struct bw_req *req, const char *id,
    struct bw_invoice_attempt *attempt, json_t **out)
{
	struct billow_payment_ctx	 pc;
	const char	*p[14], *code = NULL, *reason = NULL, *pm;
	const char	*provider, *prov_ref;
	char		 pay_id[BW_ID_MAX], prov_id[BW_ID_MAX], who[64];
	char		 amount_s[24], fee_s[24], net_s[24];
	int64_t		 amount, fee, now, first, next;
	int		 days[BW_DUNNING_MAX_RETRIES], ndays;
	json_t		*pay;
	PGresult	*res, *ins;
	int		 ok;

	memset(attempt, 0, sizeof(*attempt));
	if (out != NULL)
		*out = NULL;
	p[0] = id;
	if ((res = bw_db_query(req->db, SQL_COLLECT_CONTEXT, 1, p)) == NULL)
		return BW_ERROR;
	if (PQntuples(res) != 1) {
		PQclear(res);
		return BW_DECLINED;
	}
	if (strcmp(bw_db_val(res, 0, "status"), "open") != 0) {
		bw_req_error(req, 409, "invalid_request_error",
		    "invalid_state", NULL, "This invoice is %s; only an open "
		    "invoice can be paid.", bw_db_val(res, 0, "status"));
		PQclear(res);
		return BW_ERROR;
	}
	amount = bw_db_int(res, 0, "amount_due");
	if (amount <= 0) {
		/* Not reachable through finalize; settles without a charge. */
		PQclear(res);
		attempt->succeeded = 1;
		if (bw_billing_exec(req, SQL_INVOICE_PAID_NOW, 1, p) != BW_OK)
			return BW_ERROR;
		return invoice_emit_current(req, id, "invoice.paid", out);
	}
	if (bw_money_fee(amount, bw_db_int(res, 0, "platform_fee_bps"),
	    &fee) != BW_OK) {
		PQclear(res);
		return BW_ERROR;
	}
	pm = bw_db_isnull(res, 0, "payment_method") ? NULL :
	    bw_db_val(res, 0, "payment_method");

	/*
	 * The "payment.collect" filter: a payment plugin (stripe-connect)
	 * that handles the attempt decides it; otherwise the built-in
	 * simulator does (test mode), or it fails (live mode, no provider).
	 */
	memset(&pc, 0, sizeof(pc));
	pc.req = (struct billow_req *)req;
	pc.invoice_id = id;
	pc.customer_id = bw_db_val(res, 0, "customer_id");
	pc.payment_method = pm;
	pc.currency = bw_db_val(res, 0, "currency");
	pc.amount = amount;
	pc.application_fee_amount = fee;
	pc.livemode = req->who.livemode;
	if (bw_hook_filter(BILLOW_HOOK_PAYMENT_COLLECT, &pc, who,
	    sizeof(who)) != BW_OK) {
		PQclear(res);
		bw_log(BW_LOG_ERROR, "payment.collect handler of plugin %s "
		    "failed for %s", who, id);
		return req->failed ? BW_ERROR : bw_err_internal(req);
	}
	if (pc.handled) {
		ok = pc.succeeded;
		code = pc.failure_code[0] != '\0' ? pc.failure_code :
		    "processing_error";
		reason = pc.failure_reason[0] != '\0' ? pc.failure_reason :
		    "The payment could not be processed.";
		provider = pc.provider[0] != '\0' ? pc.provider : "plugin";
		prov_ref = pc.provider_payment_id[0] != '\0' ?
		    pc.provider_payment_id : NULL;
	} else {
		ok = bw_invoice_simulate(pm, req->who.livemode, &code,
		    &reason);
		provider = req->who.livemode ? "stripe" : "simulator";
		bw_id_new("sim", prov_id);
		prov_ref = prov_id;
	}

	bw_id_new("pay", pay_id);
	snprintf(amount_s, sizeof(amount_s), "%lld", (long long)amount);
	/*
	 * BILLING.md: application_fee_amount = round(amount x pct / 100) and
	 * net_amount = amount - fee, for every attempt, failed ones too.
	 */
	snprintf(fee_s, sizeof(fee_s), "%lld", (long long)fee);
	snprintf(net_s, sizeof(net_s), "%lld", (long long)(amount - fee));
	p[0] = pay_id;
	p[1] = id;
	p[2] = bw_db_isnull(res, 0, "subscription_id") ? NULL :
	    bw_db_val(res, 0, "subscription_id");
	p[3] = bw_db_val(res, 0, "customer_id");
	p[4] = amount_s;
	p[5] = bw_db_val(res, 0, "currency");
	p[6] = ok ? "succeeded" : "failed";
	p[7] = fee_s;
	p[8] = net_s;
	p[9] = pm;
	p[10] = provider;
	p[11] = ok ? prov_ref : NULL;
	p[12] = ok ? NULL : code;
	p[13] = ok ? NULL : reason;
	/*
	 * Dunning (BILLING.md "Collection and dunning"): a subscription
	 * invoice other than a final one (billing_reason
	 * subscription_cancel), of a subscription not canceled, retries at
	 * the tenant's offsets from its first failure; a manual attempt in
	 * between leaves that schedule as it was.
	 */
	now = bw_db_int(res, 0, "now");
	first = bw_db_isnull(res, 0, "first_failed") ? now :
	    bw_db_int(res, 0, "first_failed");
	next = -1;
	if (!ok && p[2] != NULL && strcmp(bw_db_val(res, 0,
	    "billing_reason"), "subscription_cancel") != 0 &&
	    strcmp(bw_db_val(res, 0, "sub_status"), "canceled") != 0) {
		if (bw_rule_parse_days(bw_db_val(res, 0, "retry_days"), days,
		    &ndays) != BW_OK) {
			PQclear(res);
			return bw_err_internal(req);
		}
		next = bw_rule_next_retry(first, days, ndays, now);
	}
	ins = bw_db_query(req->db, SQL_PAYMENT_INSERT, 14, p);
	PQclear(res);
	if (ins == NULL)
		return BW_ERROR;
	pay = bw_payment_json(ins, 0);
	PQclear(ins);

	attempt->succeeded = ok;
	snprintf(attempt->payment_id, sizeof(attempt->payment_id), "%s",
	    pay_id);
	if (!ok) {
		snprintf(attempt->failure_code, sizeof(attempt->failure_code),
		    "%s", code);
		snprintf(attempt->failure_reason,
		    sizeof(attempt->failure_reason), "%s", reason);
	}
	p[0] = id;
	if (!ok) {
		p[1] = bw_arena_printf(&req->arena, "%lld", (long long)first);
		p[2] = next >= 0 ? bw_arena_printf(&req->arena, "%lld",
		    (long long)next) : NULL;
	}
	if (bw_billing_exec(req, ok ? SQL_INVOICE_ATTEMPT_PAID :
	    SQL_INVOICE_ATTEMPT_FAILED, ok ? 1 : 3, p) != BW_OK ||
	    bw_invoice_emit(req, ok ? "payment.succeeded" : "payment.failed",
	    pay) != BW_OK) {
		json_decref(pay);
		return BW_ERROR;
	}
	json_decref(pay);
	return invoice_emit_current(req, id, ok ? "invoice.paid" :
	    "invoice.payment_failed", out);
}
