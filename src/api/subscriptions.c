/*
 * Subscriptions (API.md "Subscriptions"; BILLING.md "Periods", "Invoices",
 * "Collection and dunning", "Ending, pausing, resuming"): create (trial, or
 * the first invoice collected at once), list with filters, get, a
 * customer's subscriptions, update (plan and quantity changes with their
 * prorations, BILLING.md "Changes mid-period"), cancel (now, with an
 * optional final invoice, or at the period end), pause (the unused time
 * becomes a pending item) and resume (a new period, invoiced at once with
 * the pending items). Runs on task threads inside the tenant transaction
 * (RLS confines rows).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/api.h"
#include "auth/crypto.h"
#include "billing/invoice.h"
#include "billing/money.h"
#include "billing/period.h"
#include "billing/rules.h"
#include "billing/subscription.h"
#include "billing/usage.h"
#include "db/db.h"
#include "plugin/plugin.h"

#define SUB_QUANTITY_MAX	1000000LL
#define SUB_TRIAL_DAYS_MAX	730
#define SUB_DAY			86400LL

#define SQL_SUBS_SELECT \
	"SELECT " BW_SUB_COLUMNS " FROM subscriptions"

#define SQL_SUB_PLAN \
	"SELECT name, type, amount, currency, interval, interval_count, " \
	"trial_period_days, is_active FROM plans WHERE id = $1"

#define SQL_SUB_INSERT \
	"INSERT INTO subscriptions (tenant_id, livemode, id, customer_id, " \
	"plan_id, status, quantity, current_period_start, " \
	"current_period_end, trial_end, billing_cycle_anchor, " \
	"latest_invoice_id, metadata, started_at, usage_billed_until, " \
	"test_clock_id) VALUES (current_setting('app.tenant_id'), " \
	"current_setting('app.livemode')::boolean, $1, $2, $3, $4, " \
	"$5::bigint, to_timestamp($6::bigint), to_timestamp($7::bigint), " \
	"to_timestamp($8::bigint), to_timestamp($9::bigint), $10, " \
	"$11::jsonb, to_timestamp($6::bigint), to_timestamp($6::bigint), " \
	"(SELECT c.test_clock_id FROM customers c WHERE c.id = $2))"

#define SQL_SUB_SET_STATUS \
	"UPDATE subscriptions SET status = $2 WHERE id = $1"

#define SQL_SUB_PENDING_INSERT \
	"INSERT INTO subscription_pending_items (tenant_id, livemode, id, " \
	"subscription_id, kind, description, amount, unit_amount, quantity, " \
	"period_start, period_end, unit_amount_decimal) VALUES " \
	"(current_setting('app.tenant_id'), " \
	"current_setting('app.livemode')::boolean, $1, $2, $9, $3, " \
	"$4::bigint, $5::bigint, $6::bigint, to_timestamp($7::bigint), " \
	"to_timestamp($8::bigint), $10)"

/* A pause at $2: usage before it is now billed (as a pending item). */
#define SQL_SUB_BILLED_UNTIL \
	"UPDATE subscriptions SET usage_billed_until = greatest(" \
	"usage_billed_until, to_timestamp($2::bigint)) WHERE id = $1"

/*
 * Cancel (BILLING.md "Ending, pausing, resuming"). The subscription and
 * its plan price, the subscription locked first: then its open invoices,
 * then the customer (the usual order, invoice then customer).
 */
#define SQL_SUB_CANCEL_LOCK \
	"SELECT s.status, s.customer_id, s.quantity, s.cancel_at_period_end, " \
	BW_SQL_EPOCH("s.current_period_start") " AS period_start, " \
	BW_SQL_EPOCH("s.current_period_end") " AS period_end, " \
	BW_SQL_EPOCH("s.usage_billed_until") " AS billed_until, " \
	"s.plan_id, p.name, p.amount, p.currency, p.interval, " \
	"p.interval_count FROM subscriptions s JOIN plans p ON " \
	"p.tenant_id = s.tenant_id AND p.id = s.plan_id WHERE s.id = $1 " \
	"FOR UPDATE OF s"

#define SQL_SUB_AT_PERIOD_END \
	"UPDATE subscriptions SET cancel_at_period_end = true WHERE id = $1"

#define SQL_SUB_PAUSED \
	"UPDATE subscriptions SET status = 'paused', paused_at = " \
	"to_timestamp($2::bigint) WHERE id = $1"

/* A resume at $2: a new period [$2, $3) anchored at $2. */
#define SQL_SUB_RESUMED \
	"UPDATE subscriptions SET status = 'active', paused_at = NULL, " \
	"current_period_start = to_timestamp($2::bigint), " \
	"current_period_end = to_timestamp($3::bigint), " \
	"billing_cycle_anchor = to_timestamp($2::bigint), " \
	"latest_invoice_id = $4 WHERE id = $1"

/* PATCH: the fields it sets ($2..$5) and the invoice it made ($6). */
#define SQL_SUB_CHANGED \
	"UPDATE subscriptions SET plan_id = $2, quantity = $3::bigint, " \
	"cancel_at_period_end = $4::boolean, metadata = $5::jsonb, " \
	"latest_invoice_id = coalesce($6, latest_invoice_id) WHERE id = $1"

/*
 * An interval change at $2: a new period [$2, $3) anchored at $2, and the
 * usage before $2 billed by the change's invoice.
 */
#define SQL_SUB_NEW_PERIOD \
	"UPDATE subscriptions SET current_period_start = " \
	"to_timestamp($2::bigint), current_period_end = " \
	"to_timestamp($3::bigint), billing_cycle_anchor = " \
	"to_timestamp($2::bigint), usage_billed_until = " \
	"greatest(usage_billed_until, to_timestamp($2::bigint)) WHERE id = $1"

static const char *const sub_statuses[] = { "trial", "active", "past_due",
    "paused", "canceled", NULL };

/* What POST /subscriptions works out before it writes anything. */
struct sub_new {
	const char	*customer_id;
	const char	*plan_id;
	const char	*plan_name;
	const char	*currency;
	enum bw_interval interval;
	int		 interval_count;
	int64_t		 unit_amount;
	int64_t		 quantity;
	int64_t		 trial_days;
	int64_t		 now;
};

/* Runs SQL with P for its effect only. */
static int
sub_exec(struct bw_req *req, const char *sql, int n, const char **p)
{
	PGresult	*res;

	if ((res = bw_db_query(req->db, sql, n, p)) == NULL)
		return BW_ERROR;
	PQclear(res);
	return BW_OK;
}

static const char *
sub_int(struct bw_req *req, int64_t v)
{
	return bw_arena_printf(&req->arena, "%lld", (long long)v);
}

/*
 * The customer (live, not deleted; 400 resource_missing otherwise, as a
 * parameter that names nothing) and the subscription's start time.
 */
static int
sub_customer(struct bw_req *req, struct sub_new *sn)
{
	int	deleted = 0, rc;

	rc = bw_billing_customer_now(req, sn->customer_id, &sn->now, &deleted);
	if (rc == BW_ERROR)
		return BW_ERROR;
	if (rc == BW_DECLINED || deleted)
		return bw_req_error(req, 400, "invalid_request_error",
		    "resource_missing", "customer_id", "No such customer: "
		    "'%.64s'.", sn->customer_id);
	/* Rows written from here on carry the customer's billing time. */
	return bw_billing_set_now(req, sn->now);
}

/* The plan: it must exist (400 resource_missing), be recurring and active. */
static int
sub_plan(struct bw_req *req, struct sub_new *sn, int has_trial)
{
	const char	*p[1] = { sn->plan_id };
	PGresult	*res;

	if ((res = bw_db_query(req->db, SQL_SUB_PLAN, 1, p)) == NULL)
		return BW_ERROR;
	if (PQntuples(res) != 1) {
		PQclear(res);
		return bw_req_error(req, 400, "invalid_request_error",
		    "resource_missing", "plan_id", "No such plan: '%.64s'.",
		    sn->plan_id);
	}
	if (strcmp(bw_db_val(res, 0, "type"), "recurring") != 0 ||
	    strcmp(bw_db_val(res, 0, "is_active"), "t") != 0 ||
	    bw_period_interval_parse(bw_db_val(res, 0, "interval"),
	    &sn->interval) != BW_OK) {
		PQclear(res);
		return bw_err_invalid(req, "plan_id", "plan_id must name an "
		    "active recurring plan.");
	}
	sn->interval_count = (int)bw_db_int(res, 0, "interval_count");
	sn->unit_amount = bw_db_int(res, 0, "amount");
	sn->plan_name = bw_arena_strdup(&req->arena, bw_db_val(res, 0,
	    "name"));
	sn->currency = bw_arena_strdup(&req->arena, bw_db_val(res, 0,
	    "currency"));
	if (!has_trial)
		sn->trial_days = bw_db_int(res, 0, "trial_period_days");
	PQclear(res);
	return BW_OK;
}

/*
 * The first invoice (BILLING.md "Invoices"), and a resume's: one plan line
 * for [start, end), billed in advance, then the pending items ITEMS (NULL:
 * none), billing_reason REASON; finalized with the balance rules and, when
 * something is due, collected once. *FAILED is 1 after a declined attempt,
 * which starts dunning (bw_invoice_collect schedules the retries).
 */
static int
sub_first_invoice(struct bw_req *req, const struct sub_new *sn,
    const char *sub_id, const char *inv_id, int64_t start, int64_t end,
    const char *reason, PGresult *items, int *failed)
{
	struct bw_sub_invoice	 si;
	struct bw_sub_line	 plan;
	int64_t			 amount;

	*failed = 0;
	/* <= 99,999,999 x 1,000,000 fits, but the check costs nothing. */
	if (__builtin_mul_overflow(sn->unit_amount, sn->quantity, &amount) ||
	    amount > BW_MONEY_AMOUNT_MAX)
		return bw_err_invalid(req, "quantity", "The invoice total is "
		    "too large.");
	/* The plan line's description: "<plan name> × <quantity>". */
	plan.kind = "plan";
	plan.description = bw_arena_printf(&req->arena, "%s \xc3\x97 %lld",
	    sn->plan_name, (long long)sn->quantity);
	plan.amount = amount;
	plan.unit_amount = sub_int(req, sn->unit_amount);
	plan.unit_amount_decimal = NULL;
	plan.quantity = sn->quantity;
	plan.start = start;
	plan.end = end;
	memset(&si, 0, sizeof(si));
	si.id = inv_id;
	si.customer_id = sn->customer_id;
	si.sub_id = sub_id;
	si.currency = sn->currency;
	si.reason = reason;
	si.lines = &plan;
	si.nlines = 1;
	si.items = items;
	if (bw_sub_invoice_create(req, &si) != BW_OK)
		return BW_ERROR;
	return bw_sub_invoice_settle(req, inv_id, failed);
}

/*
 * POST /subscriptions. A trial starts now and ends trial_days later with
 * no invoice; otherwise the first period starts now and its invoice is
 * created and collected at once. A declined card still answers 201, with
 * status past_due, as Stripe's allow_incomplete does: the failure shows
 * on the invoice named by latest_invoice_id.
 * subscription.created carries the subscription as the response does.
 */
static int
subscriptions_create(struct bw_req *req)
{
	static const char *const allowed[] = { "customer_id", "plan_id",
	    "quantity", "trial_period_days", "metadata", NULL };
	struct sub_new	 sn;
	const char	*p[11];
	char		 id[BW_ID_MAX], inv_id[BW_ID_MAX], *meta_s;
	int64_t		 start, end, anchor;
	json_t		*sub;
	int		 rc_t, failed, trial;

	memset(&sn, 0, sizeof(sn));
	sn.quantity = 1;
	if (bw_body_object(req) != BW_OK ||
	    bw_params_only(req, req->json, allowed) != BW_OK ||
	    bw_param_str(req, req->json, "customer_id", BW_P_REQUIRED, 255,
	    &sn.customer_id) != BW_OK ||
	    bw_param_str(req, req->json, "plan_id", BW_P_REQUIRED, 255,
	    &sn.plan_id) != BW_OK ||
	    bw_param_int(req, req->json, "quantity", BW_P_OPTIONAL, 1,
	    SUB_QUANTITY_MAX, &sn.quantity) == BW_ERROR ||
	    (rc_t = bw_param_int(req, req->json, "trial_period_days",
	    BW_P_OPTIONAL, 0, SUB_TRIAL_DAYS_MAX, &sn.trial_days)) ==
	    BW_ERROR)
		return BW_ERROR;
	if (sub_customer(req, &sn) != BW_OK ||
	    sub_plan(req, &sn, rc_t == BW_OK) != BW_OK)
		return BW_ERROR;

	/* BILLING.md "Periods": [now, trial_end) or the first interval. */
	start = sn.now;
	trial = sn.trial_days > 0;
	if (trial) {
		end = bw_period_trial_end(start, (int)sn.trial_days);
		anchor = end;
	} else {
		anchor = start;
		if (bw_period_add(anchor, sn.interval, sn.interval_count, 1,
		    &end) != BW_OK)
			return bw_err_internal(req);
	}
	if ((meta_s = bw_param_metadata_new(req)) == NULL)
		return BW_ERROR;

	bw_id_new("sub", id);
	bw_id_new("in", inv_id);
	p[0] = id;
	p[1] = sn.customer_id;
	p[2] = sn.plan_id;
	p[3] = trial ? "trial" : "active";
	p[4] = sub_int(req, sn.quantity);
	p[5] = sub_int(req, start);
	p[6] = sub_int(req, end);
	p[7] = trial ? sub_int(req, end) : NULL;
	p[8] = sub_int(req, anchor);
	p[9] = trial ? NULL : inv_id;
	p[10] = meta_s;
	rc_t = sub_exec(req, SQL_SUB_INSERT, 11, p);
	free(meta_s);
	if (rc_t != BW_OK)
		return BW_ERROR;

	if (!trial) {
		if (sub_first_invoice(req, &sn, id, inv_id, start, end,
		    "subscription_create", NULL, &failed) != BW_OK)
			return BW_ERROR;
		/* BILLING.md: past_due while an invoice is open, failed. */
		if (failed) {
			p[0] = id;
			p[1] = "past_due";
			if (sub_exec(req, SQL_SUB_SET_STATUS, 2, p) != BW_OK)
				return BW_ERROR;
		}
	}

	if (bw_subscription_get(req, id, &sub) != BW_OK)
		return BW_ERROR;
	if (bw_event_emit_json(req, "subscription.created", json_pack("{s:O}",
	    "object", sub)) != BW_OK) {
		json_decref(sub);
		return BW_ERROR;
	}
	return bw_req_json(req, 201, sub);
}

/* Lists the page with the filters (NULL: any) into a paged response. */
static int
sub_list(struct bw_req *req, const char *customer_id, const char *url)
{
	struct bw_page	 page;
	struct bw_list	 l;
	const char	*status;
	json_t		*items;
	PGresult	*res;
	size_t		 i;
	int		 row;

	if (bw_page_parse(req, "sub", &page) != BW_OK)
		return BW_ERROR;
	status = bw_req_query(req, "status");
	if (status != NULL) {
		for (i = 0; sub_statuses[i] != NULL; i++)
			if (strcmp(sub_statuses[i], status) == 0)
				break;
		if (sub_statuses[i] == NULL)
			return bw_err_invalid(req, "status", "status must be "
			    "one of trial, active, past_due, paused, "
			    "canceled.");
	}
	bw_list_init(req, &l, SQL_SUBS_SELECT);
	bw_list_filter(&l, "status = $%d", status);
	bw_list_filter(&l, "customer_id = $%d", customer_id != NULL ?
	    customer_id : bw_req_query(req, "customer_id"));
	bw_list_filter(&l, "plan_id = $%d", bw_req_query(req, "plan_id"));
	res = bw_list_query(&l, &page, "id");
	if (res == NULL)
		return BW_ERROR;
	items = json_array();
	for (row = 0; row < PQntuples(res); row++)
		json_array_append_new(items, bw_subscription_json(res, row));
	PQclear(res);
	return bw_page_respond(req, &page, items, url);
}

static int
subscriptions_list(struct bw_req *req)
{
	return sub_list(req, NULL, "/api/v1/subscriptions");
}

/*
 * GET /customers/{id}/subscriptions: 404 for a customer of another tenant
 * or mode (existence never leaks); a deleted customer's still list.
 */
static int
subscriptions_of_customer(struct bw_req *req)
{
	const char	*p[1] = { bw_req_param(req, 0) };
	PGresult	*res;
	int		 found;

	if ((res = bw_db_query(req->db, "SELECT 1 FROM customers WHERE id = $1",
	    1, p)) == NULL)
		return BW_ERROR;
	found = PQntuples(res) == 1;
	PQclear(res);
	if (!found)
		return bw_err_not_found(req, "customer");
	return sub_list(req, p[0], bw_arena_printf(&req->arena,
	    "/api/v1/customers/%s/subscriptions", p[0]));
}

static int
subscriptions_get(struct bw_req *req)
{
	json_t	*sub;
	int	 rc;

	rc = bw_subscription_get(req, bw_req_param(req, 0), &sub);
	if (rc == BW_DECLINED)
		return bw_err_not_found(req, "subscription");
	if (rc != BW_OK)
		return BW_ERROR;
	return bw_req_json(req, 200, sub);
}

/*
 * Cancel at the period end: only the flag, the subscription otherwise
 * stays as it is (canceled_at null). Carrying it out at current_period_end
 * (no renewal, a final usage invoice) is the scheduler's (cycle.c).
 */
static int
sub_cancel_at_period_end(struct bw_req *req, const char *id)
{
	const char	*p[1] = { id };
	PGresult	*res;
	json_t		*sub;
	int		 canceled, already;

	if ((res = bw_db_query(req->db, SQL_SUB_CANCEL_LOCK, 1, p)) == NULL)
		return BW_ERROR;
	if (PQntuples(res) != 1) {
		PQclear(res);
		return bw_err_not_found(req, "subscription");
	}
	canceled = strcmp(bw_db_val(res, 0, "status"), "canceled") == 0;
	already = strcmp(bw_db_val(res, 0, "cancel_at_period_end"), "t") == 0;
	PQclear(res);
	if (canceled)
		return bw_req_error(req, 409, "invalid_request_error",
		    "invalid_state", NULL, "This subscription is already "
		    "canceled.");
	if (!already && sub_exec(req, SQL_SUB_AT_PERIOD_END, 1, p) != BW_OK)
		return BW_ERROR;
	if (bw_subscription_get(req, id, &sub) != BW_OK)
		return BW_ERROR;
	/* Nothing changed, nothing to tell. */
	if (!already && bw_event_emit_json(req, "subscription.updated",
	    json_pack("{s:O, s:{s:b}}", "object", sub, "previous_attributes",
	    "cancel_at_period_end", 0)) != BW_OK) {
		json_decref(sub);
		return BW_ERROR;
	}
	return bw_req_json(req, 200, sub);
}

/* POST /subscriptions/{id}/cancel {at_period_end?, prorate?}. */
static int
subscriptions_cancel(struct bw_req *req)
{
	static const char *const allowed[] = { "at_period_end", "prorate",
	    NULL };
	const char	*id = bw_req_param(req, 0);
	json_t		*sub;
	int		 at_end = 0, prorate = 0, rc;

	if (bw_body_object(req) != BW_OK ||
	    bw_params_only(req, req->json, allowed) != BW_OK ||
	    bw_param_bool(req, req->json, "at_period_end", BW_P_OPTIONAL,
	    &at_end) == BW_ERROR ||
	    bw_param_bool(req, req->json, "prorate", BW_P_OPTIONAL,
	    &prorate) == BW_ERROR)
		return BW_ERROR;
	if (at_end)
		return sub_cancel_at_period_end(req, id);
	if ((rc = bw_subscription_cancel_now(req, id, prorate, -1, &sub)) ==
	    BW_DECLINED)
		return bw_err_not_found(req, "subscription");
	if (rc != BW_OK)
		return BW_ERROR;
	return bw_req_json(req, 200, sub);
}

/* What pause and resume read from the locked subscription. */
struct sub_held {
	struct sub_new	 sn;	/* customer, plan, quantity, now */
	const char	*status;
	int		 cancel_waiting;
	int64_t		 start;
	int64_t		 end;
	int64_t		 billed_until;
};

/*
 * Locks subscription ID (SQL_SUB_CANCEL_LOCK, then the customer as cancel
 * does) into *SH, the time at the customer's test clock, else now.
 * BW_ERROR with 404 set when there is no such subscription.
 */
static int
sub_hold(struct bw_req *req, const char *id, struct sub_held *sh)
{
	const char	*p[1] = { id };
	PGresult	*res;
	int		 ok, rc;

	memset(sh, 0, sizeof(*sh));
	if ((res = bw_db_query(req->db, SQL_SUB_CANCEL_LOCK, 1, p)) == NULL)
		return BW_ERROR;
	if (PQntuples(res) != 1) {
		PQclear(res);
		return bw_err_not_found(req, "subscription");
	}
	sh->status = bw_arena_strdup(&req->arena, bw_db_val(res, 0,
	    "status"));
	sh->cancel_waiting = strcmp(bw_db_val(res, 0,
	    "cancel_at_period_end"), "t") == 0;
	sh->sn.customer_id = bw_arena_strdup(&req->arena, bw_db_val(res, 0,
	    "customer_id"));
	sh->sn.plan_id = bw_arena_strdup(&req->arena, bw_db_val(res, 0,
	    "plan_id"));
	sh->sn.plan_name = bw_arena_strdup(&req->arena, bw_db_val(res, 0,
	    "name"));
	sh->sn.currency = bw_arena_strdup(&req->arena, bw_db_val(res, 0,
	    "currency"));
	sh->sn.unit_amount = bw_db_int(res, 0, "amount");
	sh->sn.quantity = bw_db_int(res, 0, "quantity");
	sh->sn.interval_count = (int)bw_db_int(res, 0, "interval_count");
	ok = bw_period_interval_parse(bw_db_val(res, 0, "interval"),
	    &sh->sn.interval) == BW_OK;
	sh->start = bw_db_int(res, 0, "period_start");
	sh->end = bw_db_int(res, 0, "period_end");
	sh->billed_until = bw_db_int(res, 0, "billed_until");
	PQclear(res);
	if (!ok)
		return bw_err_internal(req);

	if ((rc = bw_billing_customer_now(req, sh->sn.customer_id,
	    &sh->sn.now, NULL)) == BW_DECLINED)
		return bw_err_internal(req);
	if (rc != BW_OK)
		return BW_ERROR;
	return bw_billing_set_now(req, sh->sn.now);
}

/* The empty (or {}) body pause and resume take. */
static int
sub_empty_body(struct bw_req *req)
{
	static const char *const allowed[] = { NULL };

	if (bw_body_object(req) != BW_OK ||
	    bw_params_only(req, req->json, allowed) != BW_OK)
		return BW_ERROR;
	return BW_OK;
}

/* Emits TYPE with {"object": the subscription} and answers it, 200. */
static int
sub_respond_event(struct bw_req *req, const char *id, const char *type)
{
	json_t	*sub;

	if (bw_subscription_get(req, id, &sub) != BW_OK)
		return BW_ERROR;
	if (bw_event_emit_json(req, type, json_pack("{s:O}", "object",
	    sub)) != BW_OK) {
		json_decref(sub);
		return BW_ERROR;
	}
	return bw_req_json(req, 200, sub);
}

/* Subscription ID owes line L (a KIND pending item) to its next invoice. */
static int
sub_pending_add(struct bw_req *req, const char *id, const char *kind,
    const struct bw_sub_line *l)
{
	const char	*p[10];
	char		 pid[BW_ID_MAX];

	bw_id_new("pi", pid);
	p[0] = pid;
	p[1] = id;
	p[2] = l->description;
	p[3] = sub_int(req, l->amount);
	p[4] = l->unit_amount;
	p[5] = sub_int(req, l->quantity);
	p[6] = sub_int(req, l->start);
	p[7] = sub_int(req, l->end);
	p[8] = kind;
	p[9] = l->unit_amount_decimal;
	return sub_exec(req, SQL_SUB_PENDING_INSERT, 10, p);
}

/*
 * POST /subscriptions/{id}/pause (BILLING.md "Ending, pausing, resuming"):
 * only from active with no cancel waiting. At t: paused, paused_at t, the
 * period fields unchanged; the unused plan time of [t, e) becomes a
 * pending proration item (when t is in [s, e) and the credit is not 0).
 */
static int
subscriptions_pause(struct bw_req *req)
{
	struct sub_held		 sh;
	struct bw_sub_line	 credit, *usage;
	const char		*id = bw_req_param(req, 0);
	const char		*p[2];
	int64_t			 from;
	int			 i, nusage;

	if (sub_empty_body(req) != BW_OK)
		return BW_ERROR;
	if (sub_hold(req, id, &sh) != BW_OK)
		return BW_ERROR;
	if (strcmp(sh.status, "active") != 0 || sh.cancel_waiting)
		return bw_req_error(req, 409, "invalid_request_error",
		    "invalid_state", NULL, "Only an active subscription with "
		    "no cancel waiting can be paused.");

	/* Usage of [s, t) not yet billed rides the next invoice. */
	from = sh.billed_until > sh.start ? sh.billed_until : sh.start;
	if (bw_sub_usage_lines(req, sh.sn.plan_id, sh.sn.customer_id, from,
	    sh.sn.now, &usage, &nusage) != BW_OK)
		return BW_ERROR;
	for (i = 0; i < nusage; i++)
		if (usage[i].amount != 0 && sub_pending_add(req, id, "usage",
		    &usage[i]) != BW_OK)
			return BW_ERROR;
	if (sh.sn.now >= sh.start && sh.sn.now < sh.end) {
		if (bw_money_credit(sh.sn.unit_amount, sh.sn.quantity,
		    sh.end - sh.sn.now, sh.end - sh.start, &credit.amount) !=
		    BW_OK)
			return bw_err_internal(req);
		credit.description = bw_arena_printf(&req->arena, "Unused "
		    "time on %s \xc3\x97 %lld", sh.sn.plan_name,
		    (long long)sh.sn.quantity);
		credit.unit_amount = sub_int(req, sh.sn.unit_amount);
		credit.unit_amount_decimal = NULL;
		credit.quantity = sh.sn.quantity;
		credit.start = sh.sn.now;
		credit.end = sh.end;
		if (credit.amount != 0 && sub_pending_add(req, id, "proration",
		    &credit) != BW_OK)
			return BW_ERROR;
	}
	p[0] = id;
	p[1] = sub_int(req, sh.sn.now);
	if (sub_exec(req, SQL_SUB_BILLED_UNTIL, 2, p) != BW_OK)
		return BW_ERROR;
	p[0] = id;
	p[1] = sub_int(req, sh.sn.now);
	if (sub_exec(req, SQL_SUB_PAUSED, 2, p) != BW_OK)
		return BW_ERROR;
	return sub_respond_event(req, id, "subscription.paused");
}

/*
 * POST /subscriptions/{id}/resume: only from paused. At r: a new period
 * [r, r + interval) anchored at r, paused_at null, and an invoice with the
 * plan line and the pending items, collected at once as a first invoice
 * is: paid, active; declined, past_due and dunning.
 */
static int
subscriptions_resume(struct bw_req *req)
{
	struct sub_held	 sh;
	const char	*id = bw_req_param(req, 0);
	const char	*p[4];
	char		 inv_id[BW_ID_MAX];
	PGresult	*items;
	int64_t		 end;
	int		 rc, failed;

	if (sub_empty_body(req) != BW_OK)
		return BW_ERROR;
	if (sub_hold(req, id, &sh) != BW_OK)
		return BW_ERROR;
	if (strcmp(sh.status, "paused") != 0)
		return bw_req_error(req, 409, "invalid_request_error",
		    "invalid_state", NULL, "Only a paused subscription can be "
		    "resumed.");
	if (bw_period_add(sh.sn.now, sh.sn.interval, sh.sn.interval_count, 1,
	    &end) != BW_OK)
		return bw_err_internal(req);

	bw_id_new("in", inv_id);
	p[0] = id;
	p[1] = sub_int(req, sh.sn.now);
	p[2] = sub_int(req, end);
	p[3] = inv_id;
	if (sub_exec(req, SQL_SUB_RESUMED, 4, p) != BW_OK)
		return BW_ERROR;
	if (bw_sub_pending(req, id, &items) != BW_OK)
		return BW_ERROR;
	rc = sub_first_invoice(req, &sh.sn, id, inv_id, sh.sn.now, end,
	    "subscription_resume", items, &failed);
	PQclear(items);
	if (rc != BW_OK)
		return BW_ERROR;
	/* BILLING.md: past_due while an invoice is open, failed. */
	if (failed) {
		p[0] = id;
		p[1] = "past_due";
		if (sub_exec(req, SQL_SUB_SET_STATUS, 2, p) != BW_OK)
			return BW_ERROR;
	}
	return sub_respond_event(req, id, "subscription.resumed");
}

/* ---- PATCH /subscriptions/{id}: changes mid-period ------------------- */

static const char *const sub_behaviors[] = { "create_prorations",
    "always_invoice", "none", NULL };

/* What PATCH asks for, read before anything is locked. */
struct sub_patch {
	const char	*plan_id;	/* NULL: keep */
	int64_t		 quantity;	/* 0: keep */
	const char	*behavior;
	int		 cancel_at_end;	/* -1: keep */
	json_t		*meta;		/* borrowed; NULL: keep */
};

int
bw_sub_change_lines(struct bw_req *req, struct billow_change_ctx *ctx,
    struct bw_sub_line **out, int *n)
{
	struct bw_sub_line	*x;
	char			 who[64];
	int			 i;

	*out = NULL;
	*n = 0;
	ctx->req = (struct billow_req *)req;
	ctx->nlines = 0;
	if (bw_hook_action(BILLOW_HOOK_SUBSCRIPTION_CHANGED, ctx, who,
	    sizeof(who)) != BW_OK) {
		bw_log(BW_LOG_ERROR, "subscription.changed handler of plugin "
		    "%s failed", who);
		return req->failed ? BW_ERROR : bw_err_internal(req);
	}
	if (ctx->nlines <= 0)
		return BW_OK;
	if (ctx->nlines > BILLOW_LINES_MAX)
		return bw_err_internal(req);
	x = bw_arena_alloc(&req->arena, sizeof(*x) * (size_t)ctx->nlines);
	for (i = 0; i < ctx->nlines; i++) {
		const struct billow_line	*b = &ctx->lines[i];

		/*
		 * A change owes prorations, nothing else: they may become
		 * pending items, whose kinds are proration and usage.
		 */
		if (strncmp(b->kind, "proration", sizeof(b->kind)) != 0 ||
		    b->quantity < 1 || b->amount > BW_MONEY_AMOUNT_MAX ||
		    b->amount < -BW_MONEY_AMOUNT_MAX ||
		    b->period_start > b->period_end) {
			bw_log(BW_LOG_ERROR, "subscription.changed: a plugin "
			    "added an invalid line (kind %.16s)", b->kind);
			return bw_err_internal(req);
		}
		bw_sub_line_from_plugin(req, b, &x[i]);
	}
	*out = x;
	*n = ctx->nlines;
	return BW_OK;
}

/*
 * The subscription.changed context for a change of the locked
 * subscription SH to NP's plan and quantity at SH's billing time.
 */
static void
sub_change_ctx(const char *id, const struct sub_held *sh,
    const struct sub_new *np, const char *behavior, int interval_changed,
    struct billow_change_ctx *ctx)
{
	memset(ctx, 0, sizeof(*ctx));
	ctx->subscription_id = id;
	ctx->currency = sh->sn.currency;
	ctx->proration_behavior = behavior;
	ctx->preview = 0;
	ctx->interval_changed = interval_changed;
	ctx->at = sh->sn.now;
	ctx->period_start = sh->start;
	ctx->period_end = sh->end;
	ctx->old_plan_name = sh->sn.plan_name;
	ctx->old_unit_amount = sh->sn.unit_amount;
	ctx->old_quantity = sh->sn.quantity;
	ctx->new_plan_name = np->plan_name;
	ctx->new_unit_amount = np->unit_amount;
	ctx->new_quantity = np->quantity;
}

/*
 * A change within the same interval (BILLING.md "Changes mid-period"):
 * the prorations become pending items (create_prorations), or an invoice
 * now with the pending items (always_invoice, when it has a non-zero
 * line: INV_ID is then set, else ""), or nothing (none).
 */
static int
sub_change_prorate(struct bw_req *req, const char *id,
    const struct sub_held *sh, const struct sub_new *np,
    const char *behavior, char inv_id[BW_ID_MAX])
{
	struct billow_change_ctx	 ctx;
	struct bw_sub_invoice		 si;
	struct bw_sub_line		*lines;
	PGresult			*items;
	int				 i, n, rc;

	inv_id[0] = '\0';
	sub_change_ctx(id, sh, np, behavior, 0, &ctx);
	if (bw_sub_change_lines(req, &ctx, &lines, &n) != BW_OK)
		return BW_ERROR;
	if (strcmp(behavior, "none") == 0)
		return BW_OK;	/* the new price from the next invoice */
	if (strcmp(behavior, "create_prorations") == 0) {
		for (i = 0; i < n; i++)
			if (lines[i].amount != 0 && sub_pending_add(req, id,
			    "proration", &lines[i]) != BW_OK)
				return BW_ERROR;
		return BW_OK;
	}

	/* always_invoice: the older pending items first, then the lines. */
	if (bw_sub_pending(req, id, &items) != BW_OK)
		return BW_ERROR;
	bw_id_new("in", inv_id);
	memset(&si, 0, sizeof(si));
	si.id = inv_id;
	si.customer_id = sh->sn.customer_id;
	si.sub_id = id;
	si.currency = sh->sn.currency;
	si.reason = "subscription_update";
	si.items = items;
	si.tail = lines;
	si.ntail = n;
	rc = bw_sub_invoice_create(req, &si);
	PQclear(items);
	if (rc == BW_DECLINED)
		inv_id[0] = '\0';	/* nothing but zeros: no invoice */
	return rc == BW_ERROR ? BW_ERROR : BW_OK;
}

/*
 * A change to another (interval, interval_count) at t (BILLING.md
 * "Changes mid-period"): whatever proration_behavior says, the unused
 * time of the old plan is credited and a new period [t, t + interval)
 * anchored at t is invoiced at once: its plan line, the credit, the
 * usage of [max(s, usage_billed_until), t) at the old plan's prices and
 * the pending items. INV_ID gets the invoice.
 */
static int
sub_change_interval(struct bw_req *req, const char *id,
    const struct sub_held *sh, const struct sub_new *np,
    const char *behavior, char inv_id[BW_ID_MAX])
{
	struct billow_change_ctx	 ctx;
	struct bw_sub_invoice		 si;
	struct bw_sub_line		*credit, *usage, *lines;
	const char			*p[3];
	PGresult			*items;
	int64_t				 t = sh->sn.now, end, amount;
	int				 ncredit, nusage, rc;

	if (bw_period_add(t, np->interval, np->interval_count, 1, &end) !=
	    BW_OK)
		return bw_err_internal(req);
	/* <= 99,999,999 x 1,000,000 fits, but the check costs nothing. */
	if (__builtin_mul_overflow(np->unit_amount, np->quantity, &amount) ||
	    amount > BW_MONEY_AMOUNT_MAX)
		return bw_err_invalid(req, "quantity", "The invoice total is "
		    "too large.");
	sub_change_ctx(id, sh, np, behavior, 1, &ctx);
	if (bw_sub_change_lines(req, &ctx, &credit, &ncredit) != BW_OK)
		return BW_ERROR;
	if (bw_sub_usage_lines(req, sh->sn.plan_id, sh->sn.customer_id,
	    bw_rule_usage_from(sh->start, sh->billed_until), t, &usage,
	    &nusage) != BW_OK)
		return BW_ERROR;

	/* The plan line, the credit, the usage; then the pending items. */
	lines = bw_arena_alloc(&req->arena, sizeof(*lines) *
	    (size_t)(1 + ncredit + nusage));
	lines[0].kind = "plan";
	lines[0].description = bw_arena_printf(&req->arena, "%s \xc3\x97 "
	    "%lld", np->plan_name, (long long)np->quantity);
	lines[0].amount = amount;
	lines[0].unit_amount = sub_int(req, np->unit_amount);
	lines[0].unit_amount_decimal = NULL;
	lines[0].quantity = np->quantity;
	lines[0].start = t;
	lines[0].end = end;
	if (ncredit > 0)
		memcpy(&lines[1], credit, sizeof(*credit) * (size_t)ncredit);
	if (nusage > 0)
		memcpy(&lines[1 + ncredit], usage, sizeof(*usage) *
		    (size_t)nusage);
	if (bw_sub_pending(req, id, &items) != BW_OK)
		return BW_ERROR;
	bw_id_new("in", inv_id);
	memset(&si, 0, sizeof(si));
	si.id = inv_id;
	si.customer_id = sh->sn.customer_id;
	si.sub_id = id;
	si.currency = sh->sn.currency;
	si.reason = "subscription_update";
	si.lines = lines;
	si.nlines = 1 + ncredit + nusage;
	si.items = items;
	rc = bw_sub_invoice_create(req, &si);
	PQclear(items);
	if (rc != BW_OK)
		return BW_ERROR;	/* a plan line: never declined */

	p[0] = id;
	p[1] = sub_int(req, t);
	p[2] = sub_int(req, end);
	return sub_exec(req, SQL_SUB_NEW_PERIOD, 3, p);
}

/*
 * Stripe's metadata update: keys given are set, a key set to "" is
 * removed, others keep their value; null clears every key. The merged
 * object as JSON text (caller frees), or NULL with the error set.
 */
static char *
sub_meta_merge(struct bw_req *req, json_t *old, json_t *patch)
{
	const char	*k;
	json_t		*m, *v;
	char		*s;

	m = json_is_null(patch) || !json_is_object(old) ? json_object() :
	    json_deep_copy(old);
	if (!json_is_null(patch))
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
	s = json_dumps(m, JSON_COMPACT);
	json_decref(m);
	if (s == NULL)
		bw_err_internal(req);
	return s;
}

/*
 * previous_attributes of subscription.updated: the old value of each
 * field that changed; for metadata, as customers do, only the keys that
 * changed, null for a key that was added.
 */
static json_t *
sub_changes(json_t *old, json_t *now)
{
	static const char *const fields[] = { "plan_id", "quantity",
	    "status", "current_period_start", "current_period_end",
	    "billing_cycle_anchor", "latest_invoice_id",
	    "cancel_at_period_end", NULL };
	const char	*k;
	json_t		*prev, *om, *nm, *m, *v;
	size_t		 i;

	prev = json_object();
	for (i = 0; fields[i] != NULL; i++) {
		v = json_object_get(old, fields[i]);
		if (!json_equal(v, json_object_get(now, fields[i])))
			json_object_set(prev, fields[i], v);
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

/* The PATCH body into *SP: strict, as every endpoint (API.md). */
static int
sub_patch_read(struct bw_req *req, struct sub_patch *sp)
{
	static const char *const allowed[] = { "plan_id", "quantity",
	    "proration_behavior", "cancel_at_period_end", "metadata", NULL };
	json_t	*m;
	int	 cancel = 0, rc;

	memset(sp, 0, sizeof(*sp));
	if (bw_body_object(req) != BW_OK ||
	    bw_params_only(req, req->json, allowed) != BW_OK ||
	    bw_param_str(req, req->json, "plan_id", BW_P_OPTIONAL, 255,
	    &sp->plan_id) == BW_ERROR ||
	    bw_param_int(req, req->json, "quantity", BW_P_OPTIONAL, 1,
	    SUB_QUANTITY_MAX, &sp->quantity) == BW_ERROR ||
	    bw_param_enum(req, req->json, "proration_behavior", BW_P_OPTIONAL,
	    sub_behaviors, &sp->behavior) == BW_ERROR)
		return BW_ERROR;
	rc = bw_param_bool(req, req->json, "cancel_at_period_end",
	    BW_P_OPTIONAL, &cancel);
	if (rc == BW_ERROR)
		return BW_ERROR;
	sp->cancel_at_end = rc == BW_OK ? cancel : -1;
	if (json_object_get(req->json, "plan_id") == NULL)
		sp->plan_id = NULL;
	if (json_object_get(req->json, "quantity") == NULL)
		sp->quantity = 0;
	if (json_object_get(req->json, "proration_behavior") == NULL)
		sp->behavior = "create_prorations";
	/* metadata: null clears it, as on customers. */
	m = json_object_get(req->json, "metadata");
	if (m != NULL && !json_is_null(m) && bw_param_metadata(req,
	    req->json, "metadata", &m) == BW_ERROR)
		return BW_ERROR;
	sp->meta = m;
	return BW_OK;
}

/*
 * The plan a PATCH names (BILLING.md "Changes mid-period"): it must exist
 * (400 resource_missing), be recurring and active, and bill in the
 * subscription's currency (400 currency_mismatch).
 */
static int
sub_patch_plan(struct bw_req *req, const struct sub_held *sh,
    struct sub_new *np)
{
	if (sub_plan(req, np, 1) != BW_OK)
		return BW_ERROR;
	if (strcmp(np->currency, sh->sn.currency) != 0)
		return bw_req_error(req, 400, "invalid_request_error",
		    "currency_mismatch", "plan_id", "The plan bills in %s; "
		    "the subscription bills in %s.", np->currency,
		    sh->sn.currency);
	return BW_OK;
}

/*
 * PATCH /subscriptions/{id} {plan_id?, quantity?, proration_behavior?,
 * cancel_at_period_end?, metadata?} (API.md "Subscriptions", BILLING.md
 * "Changes mid-period"). A plan or quantity change at the customer's
 * billing time t prorates through the subscription.changed hook (the
 * proration plugin) as proration_behavior says; during a trial nothing
 * was billed, so it only changes the plan; a paused subscription cannot
 * change plan or quantity, a canceled one nothing (409 invalid_state).
 * One subscription.updated names the old value of every changed field;
 * a PATCH that changes nothing writes no event.
 */
static int
subscriptions_update(struct bw_req *req)
{
	struct sub_patch	 sp;
	struct sub_held		 sh;
	struct sub_new		 np;
	const char		*id = bw_req_param(req, 0);
	const char		*p[6];
	char			 inv_id[BW_ID_MAX], *meta_s;
	json_t			*old, *sub, *prev;
	int			 changed, billed, interval_changed, failed;
	int			 rc;

	if (sub_patch_read(req, &sp) != BW_OK)
		return BW_ERROR;
	if (sub_hold(req, id, &sh) != BW_OK)
		return BW_ERROR;
	if (strcmp(sh.status, "canceled") == 0)
		return bw_req_error(req, 409, "invalid_request_error",
		    "invalid_state", NULL, "A canceled subscription cannot be "
		    "updated.");
	np = sh.sn;
	if (sp.plan_id != NULL && strcmp(sp.plan_id, sh.sn.plan_id) != 0) {
		np.plan_id = sp.plan_id;
		if (sub_patch_plan(req, &sh, &np) != BW_OK)
			return BW_ERROR;
	}
	if (sp.quantity > 0)
		np.quantity = sp.quantity;
	changed = strcmp(np.plan_id, sh.sn.plan_id) != 0 ||
	    np.quantity != sh.sn.quantity;
	if (changed && strcmp(sh.status, "paused") == 0)
		return bw_req_error(req, 409, "invalid_request_error",
		    "invalid_state", NULL, "A paused subscription cannot "
		    "change plan or quantity; resume it first.");
	if (bw_subscription_get(req, id, &old) != BW_OK)
		return BW_ERROR;

	/* A trial billed nothing yet: no prorations, the plan just changes. */
	inv_id[0] = '\0';
	interval_changed = np.interval != sh.sn.interval ||
	    np.interval_count != sh.sn.interval_count;
	billed = changed && strcmp(sh.status, "trial") != 0;
	if (billed && interval_changed)
		rc = sub_change_interval(req, id, &sh, &np, sp.behavior,
		    inv_id);
	else if (billed)
		rc = sub_change_prorate(req, id, &sh, &np, sp.behavior,
		    inv_id);
	else
		rc = BW_OK;
	if (rc != BW_OK) {
		json_decref(old);
		return BW_ERROR;
	}

	meta_s = NULL;
	if (sp.meta != NULL && (meta_s = sub_meta_merge(req,
	    json_object_get(old, "metadata"), sp.meta)) == NULL) {
		json_decref(old);
		return BW_ERROR;
	}
	p[0] = id;
	p[1] = np.plan_id;
	p[2] = sub_int(req, np.quantity);
	p[3] = sp.cancel_at_end < 0 ? (json_is_true(json_object_get(old,
	    "cancel_at_period_end")) ? "true" : "false") :
	    (sp.cancel_at_end ? "true" : "false");
	p[4] = meta_s;
	if (p[4] == NULL) {
		meta_s = json_dumps(json_object_get(old, "metadata"),
		    JSON_COMPACT);
		p[4] = meta_s;
	}
	p[5] = inv_id[0] != '\0' ? inv_id : NULL;
	rc = sub_exec(req, SQL_SUB_CHANGED, 6, p);
	free(meta_s);
	if (rc != BW_OK) {
		json_decref(old);
		return BW_ERROR;
	}

	/*
	 * The change's invoice is collected at once; a declined card starts
	 * dunning and makes the subscription past_due (BILLING.md).
	 */
	if (inv_id[0] != '\0' && (bw_sub_invoice_settle(req, inv_id,
	    &failed) != BW_OK || bw_sub_sync_status(req, id, 0, NULL) !=
	    BW_OK)) {
		json_decref(old);
		return BW_ERROR;
	}

	if (bw_subscription_get(req, id, &sub) != BW_OK) {
		json_decref(old);
		return BW_ERROR;
	}
	prev = sub_changes(old, sub);
	json_decref(old);
	if (json_object_size(prev) == 0) {
		json_decref(prev);
		return bw_req_json(req, 200, sub);
	}
	if (bw_event_emit_json(req, "subscription.updated", json_pack(
	    "{s:O, s:o}", "object", sub, "previous_attributes", prev)) !=
	    BW_OK) {
		json_decref(sub);
		return BW_ERROR;
	}
	return bw_req_json(req, 200, sub);
}

static const struct bw_route subscription_routes[] = {
	{ .method = BW_GET, .pattern = "/api/v1/customers/{id}/subscriptions",
	  .auth = BW_AUTH_TENANT, .handler = subscriptions_of_customer },
	{ .method = BW_GET, .pattern = "/api/v1/subscriptions",
	  .auth = BW_AUTH_TENANT, .handler = subscriptions_list },
	{ .method = BW_POST, .pattern = "/api/v1/subscriptions",
	  .auth = BW_AUTH_TENANT, .role = BW_ROLE_ADMIN,
	  .handler = subscriptions_create },
	{ .method = BW_GET, .pattern = "/api/v1/subscriptions/{id}",
	  .auth = BW_AUTH_TENANT, .handler = subscriptions_get },
	{ .method = BW_PATCH, .pattern = "/api/v1/subscriptions/{id}",
	  .auth = BW_AUTH_TENANT, .role = BW_ROLE_ADMIN,
	  .handler = subscriptions_update },
	{ .method = BW_POST, .pattern = "/api/v1/subscriptions/{id}/cancel",
	  .auth = BW_AUTH_TENANT, .role = BW_ROLE_ADMIN,
	  .handler = subscriptions_cancel },
	{ .method = BW_POST, .pattern = "/api/v1/subscriptions/{id}/pause",
	  .auth = BW_AUTH_TENANT, .role = BW_ROLE_ADMIN,
	  .handler = subscriptions_pause },
	{ .method = BW_POST, .pattern = "/api/v1/subscriptions/{id}/resume",
	  .auth = BW_AUTH_TENANT, .role = BW_ROLE_ADMIN,
	  .handler = subscriptions_resume },
};

BW_ROUTE_TABLE(bw_api_subscriptions, subscription_routes);
