/*
 * GET /invoices/upcoming (API.md "Invoices"): the next invoice a
 * subscription will create, with an optional plan, quantity and
 * proration_behavior change previewed, computed and not saved. Runs on a
 * task thread in a GET's read-only unit of work: SELECTs only (RLS
 * confines them to the caller's tenant and mode), and the billing hooks
 * run with preview 1, so plugins write nothing either.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/api.h"
#include "billing/invoice.h"
#include "billing/money.h"
#include "billing/period.h"
#include "billing/rules.h"
#include "billing/subscription.h"
#include "db/db.h"
#include "plugin/plugin.h"

#define UP_QUANTITY_MAX		1000000LL

/*
 * The subscription, its plan, and its customer's balance and billing time
 * (the test clock's frozen_time, else now()), in one read. No row is
 * locked: a preview changes nothing.
 */
#define SQL_UP_SUB \
	"SELECT s.status, s.customer_id, s.plan_id, s.quantity, " \
	"s.cancel_at_period_end, " \
	BW_SQL_EPOCH("s.current_period_start") " AS period_start, " \
	BW_SQL_EPOCH("s.current_period_end") " AS period_end, " \
	BW_SQL_EPOCH("s.billing_cycle_anchor") " AS anchor, " \
	BW_SQL_EPOCH("s.usage_billed_until") " AS billed_until, " \
	"p.name, p.amount, p.currency, p.interval, p.interval_count, " \
	"c.balance, coalesce((SELECT " BW_SQL_EPOCH("k.frozen_time") \
	" FROM test_clocks k WHERE k.id = c.test_clock_id), " \
	BW_SQL_EPOCH("now()") ") AS now FROM subscriptions s " \
	"JOIN plans p ON p.tenant_id = s.tenant_id AND p.id = s.plan_id " \
	"JOIN customers c ON c.tenant_id = s.tenant_id AND " \
	"c.id = s.customer_id WHERE s.id = $1 AND " \
	"c.id = (SELECT customer_id FROM subscriptions WHERE id = $1)"

#define SQL_UP_PLAN \
	"SELECT name, type, amount, currency, interval, interval_count, " \
	"is_active FROM plans WHERE id = $1"

/* bw_sub_pending's columns and order, without its lock. */
#define SQL_UP_PENDING \
	"SELECT id, kind, description, amount, unit_amount, " \
	"unit_amount_decimal, quantity, " \
	BW_SQL_EPOCH("period_start") " AS period_start, " \
	BW_SQL_EPOCH("period_end") " AS period_end FROM " \
	"subscription_pending_items WHERE subscription_id = $1 AND " \
	"invoice_id IS NULL ORDER BY created, id"

static const char *const up_behaviors[] = { "create_prorations",
    "always_invoice", "none", NULL };

/* A plan and a quantity: the subscription's, or the previewed ones. */
struct up_plan {
	const char	*id;
	const char	*name;
	const char	*currency;
	enum bw_interval interval;
	int		 interval_count;
	int64_t		 unit_amount;
	int64_t		 quantity;
};

/* What the preview reads. */
struct up_sub {
	const char	*id;
	const char	*status;
	const char	*customer_id;
	int		 cancel_at_end;
	int64_t		 start;
	int64_t		 end;
	int64_t		 anchor;
	int64_t		 billed_until;
	int64_t		 balance;
	int64_t		 now;
	struct up_plan	 plan;
};

/* The invoice being previewed, in bw_sub_invoice's order. */
struct up_invoice {
	struct bw_sub_invoice	 si;
	int64_t			 created;
};

static const char *
up_int(struct bw_req *req, int64_t v)
{
	return bw_arena_printf(&req->arena, "%lld", (long long)v);
}

static json_t *
up_time(int64_t t)
{
	char	buf[32];

	bw_time_rfc3339(t, buf, sizeof(buf));
	return json_string(buf);
}

/* Loads subscription US->id. BW_DECLINED when there is no such one. */
static int
up_sub_load(struct bw_req *req, struct up_sub *us)
{
	const char	*p[1] = { us->id };
	struct bw_arena	*a = &req->arena;
	PGresult	*res;
	int		 ok;

	if ((res = bw_db_query(req->db, SQL_UP_SUB, 1, p)) == NULL)
		return BW_ERROR;
	if (PQntuples(res) != 1) {
		PQclear(res);
		return BW_DECLINED;
	}
	us->status = bw_arena_strdup(a, bw_db_val(res, 0, "status"));
	us->customer_id = bw_arena_strdup(a, bw_db_val(res, 0,
	    "customer_id"));
	us->cancel_at_end = strcmp(bw_db_val(res, 0, "cancel_at_period_end"),
	    "t") == 0;
	us->start = bw_db_int(res, 0, "period_start");
	us->end = bw_db_int(res, 0, "period_end");
	us->anchor = bw_db_int(res, 0, "anchor");
	us->billed_until = bw_db_int(res, 0, "billed_until");
	us->balance = bw_db_int(res, 0, "balance");
	us->now = bw_db_int(res, 0, "now");
	us->plan.id = bw_arena_strdup(a, bw_db_val(res, 0, "plan_id"));
	us->plan.name = bw_arena_strdup(a, bw_db_val(res, 0, "name"));
	us->plan.currency = bw_arena_strdup(a, bw_db_val(res, 0, "currency"));
	us->plan.unit_amount = bw_db_int(res, 0, "amount");
	us->plan.quantity = bw_db_int(res, 0, "quantity");
	us->plan.interval_count = (int)bw_db_int(res, 0, "interval_count");
	ok = bw_period_interval_parse(bw_db_val(res, 0, "interval"),
	    &us->plan.interval) == BW_OK;
	PQclear(res);
	return ok ? BW_OK : bw_err_internal(req);
}

/*
 * The previewed plan NP->id, with PATCH's rules: it must exist (400
 * resource_missing), be recurring and active, and bill in the
 * subscription's currency (400 currency_mismatch).
 */
static int
up_plan_load(struct bw_req *req, const struct up_sub *us, struct up_plan *np)
{
	const char	*p[1] = { np->id };
	PGresult	*res;
	int		 ok;

	if ((res = bw_db_query(req->db, SQL_UP_PLAN, 1, p)) == NULL)
		return BW_ERROR;
	if (PQntuples(res) != 1) {
		PQclear(res);
		return bw_req_error(req, 400, "invalid_request_error",
		    "resource_missing", "plan_id", "No such plan: '%.64s'.",
		    np->id);
	}
	ok = strcmp(bw_db_val(res, 0, "type"), "recurring") == 0 &&
	    strcmp(bw_db_val(res, 0, "is_active"), "t") == 0 &&
	    bw_period_interval_parse(bw_db_val(res, 0, "interval"),
	    &np->interval) == BW_OK;
	np->interval_count = (int)bw_db_int(res, 0, "interval_count");
	np->unit_amount = bw_db_int(res, 0, "amount");
	np->name = bw_arena_strdup(&req->arena, bw_db_val(res, 0, "name"));
	np->currency = bw_arena_strdup(&req->arena, bw_db_val(res, 0,
	    "currency"));
	PQclear(res);
	if (!ok)
		return bw_err_invalid(req, "plan_id", "plan_id must name an "
		    "active recurring plan.");
	if (strcmp(np->currency, us->plan.currency) != 0)
		return bw_req_error(req, 400, "invalid_request_error",
		    "currency_mismatch", "plan_id", "The plan bills in %s; "
		    "the subscription bills in %s.", np->currency,
		    us->plan.currency);
	return BW_OK;
}

/* quantity=N of the query: 1..1,000,000 in plain digits. */
static int
up_quantity(struct bw_req *req, const char *s, int64_t *out)
{
	const char	*c;
	int64_t		 v = 0;

	if (*s == '\0' || strlen(s) > 7)
		return bw_err_invalid(req, "quantity", "quantity must be an "
		    "integer from 1 to 1000000.");
	for (c = s; *c != '\0'; c++) {
		if (*c < '0' || *c > '9')
			return bw_err_invalid(req, "quantity", "quantity must "
			    "be an integer from 1 to 1000000.");
		v = v * 10 + (*c - '0');
	}
	if (v < 1 || v > UP_QUANTITY_MAX)
		return bw_err_invalid(req, "quantity", "quantity must be an "
		    "integer from 1 to 1000000.");
	*out = v;
	return BW_OK;
}

/* The plan line for NP over [START, END), as every subscription bills it. */
static int
up_plan_line(struct bw_req *req, const struct up_plan *np, int64_t start,
    int64_t end, struct bw_sub_line *l)
{
	int64_t	amount;

	if (__builtin_mul_overflow(np->unit_amount, np->quantity, &amount) ||
	    amount > BW_MONEY_AMOUNT_MAX)
		return bw_err_invalid(req, "quantity", "The invoice total is "
		    "too large.");
	l->kind = "plan";
	l->description = bw_arena_printf(&req->arena, "%s \xc3\x97 %lld",
	    np->name, (long long)np->quantity);
	l->amount = amount;
	l->unit_amount = up_int(req, np->unit_amount);
	l->unit_amount_decimal = NULL;
	l->quantity = np->quantity;
	l->start = start;
	l->end = end;
	return BW_OK;
}

/*
 * The prorations the previewed change owes now (the subscription.changed
 * hook with preview 1), the lines of 0 left out as PATCH leaves them out
 * of pending items.
 */
static int
up_prorations(struct bw_req *req, const struct up_sub *us,
    const struct up_plan *np, const char *behavior, int interval_changed,
    struct bw_sub_line **out, int *n)
{
	struct billow_change_ctx	 ctx;
	struct bw_sub_line		*l;
	int				 i, k, nl;

	memset(&ctx, 0, sizeof(ctx));
	ctx.subscription_id = us->id;
	ctx.currency = us->plan.currency;
	ctx.proration_behavior = behavior;
	ctx.preview = 1;
	ctx.interval_changed = interval_changed;
	ctx.at = us->now;
	ctx.period_start = us->start;
	ctx.period_end = us->end;
	ctx.old_plan_name = us->plan.name;
	ctx.old_unit_amount = us->plan.unit_amount;
	ctx.old_quantity = us->plan.quantity;
	ctx.new_plan_name = np->name;
	ctx.new_unit_amount = np->unit_amount;
	ctx.new_quantity = np->quantity;
	if (bw_sub_change_lines(req, &ctx, &l, &nl) != BW_OK)
		return BW_ERROR;
	for (i = k = 0; i < nl; i++)
		if (l[i].amount != 0)
			l[k++] = l[i];
	*out = l;
	*n = k;
	return BW_OK;
}

/* 1 when ITEMS or the N LINES hold an amount that is not 0. */
static int
up_has_amount(PGresult *items, const struct bw_sub_line *lines, int n)
{
	int	i;

	for (i = 0; i < n; i++)
		if (lines[i].amount != 0)
			return 1;
	for (i = 0; items != NULL && i < PQntuples(items); i++)
		if (bw_db_int(items, i, "amount") != 0)
			return 1;
	return 0;
}

/* One line as the contract's invoice line, with no id yet. */
static json_t *
up_line_json(const struct bw_sub_line *l, const char *currency)
{
	json_t	*j;

	j = json_pack("{s:n, s:s, s:s, s:I, s:o, s:o, s:I, s:o, s:o}",
	    "id",
	    "kind", l->kind,
	    "description", l->description,
	    "amount", (json_int_t)l->amount,
	    "amount_decimal", bw_amount_decimal_json(l->amount, currency),
	    "unit_amount", l->unit_amount != NULL ?
	    json_integer(strtoll(l->unit_amount, NULL, 10)) : json_null(),
	    "quantity", (json_int_t)l->quantity,
	    "period_start", up_time(l->start),
	    "period_end", up_time(l->end));
	if (j != NULL && l->unit_amount_decimal != NULL)
		json_object_set_new(j, "unit_amount_decimal",
		    json_string(l->unit_amount_decimal));
	return j;
}

/*
 * The invoice UI as bw_sub_invoice_create would write it and
 * finalization would settle it: the invoice.lines filter's lines after
 * the core's, lines of 0 left out but a plan line, subtotal = total, the
 * period spanning the lines, and the customer's current BALANCE applied
 * (BILLING.md "Invoices"). BW_DECLINED when no line would be billed (the
 * subscription would create no such invoice).
 */
static int
up_invoice_json(struct bw_req *req, const struct up_sub *us,
    struct up_invoice *ui, json_t **out)
{
	struct bw_sub_line	 l, *extra;
	json_t			*lines;
	int64_t			 total = 0, start = 0, end = 0;
	int64_t			 due, ending;
	int			 i, n = 0, ncore, nextra;

	*out = NULL;
	if (bw_sub_invoice_extra(req, &ui->si, 1, &extra, &nextra) != BW_OK)
		return BW_ERROR;
	ncore = ui->si.nlines + ui->si.ntail + (ui->si.items != NULL ?
	    PQntuples(ui->si.items) : 0);
	lines = json_array();
	for (i = 0; i < ncore + nextra; i++) {
		if (i >= ncore)
			l = extra[i - ncore];
		else if (!bw_sub_line_at(&ui->si, i, &l))
			break;
		if (strcmp(l.kind, "plan") != 0 && l.amount == 0)
			continue;
		if (__builtin_add_overflow(total, l.amount, &total) ||
		    total > BW_MONEY_AMOUNT_MAX ||
		    total < -BW_MONEY_AMOUNT_MAX) {
			json_decref(lines);
			return bw_err_invalid(req, "quantity", "The invoice "
			    "total is too large.");
		}
		if (n == 0 || l.start < start)
			start = l.start;
		if (n == 0 || l.end > end)
			end = l.end;
		n++;
		json_array_append_new(lines, up_line_json(&l,
		    us->plan.currency));
	}
	if (n == 0) {
		json_decref(lines);
		return BW_DECLINED;
	}
	if (bw_rule_balance(total, us->balance, &due, &ending) != BW_OK) {
		json_decref(lines);
		return bw_err_internal(req);
	}
	*out = json_pack("{s:s, s:n, s:b, s:o, s:n, s:s, s:s, s:s, s:s, "
	    "s:o, s:I, s:I, s:I, s:I, s:I, s:I, s:o, s:o, s:I, s:n, s:n, "
	    "s:o}",
	    "object", "invoice",
	    "id",
	    "livemode", req->who.livemode,
	    "created", up_time(ui->created),
	    "number",
	    "customer_id", us->customer_id,
	    "subscription_id", us->id,
	    "status", "draft",
	    "currency", us->plan.currency,
	    "lines", lines,
	    "subtotal", (json_int_t)total,
	    "total", (json_int_t)total,
	    "starting_balance", (json_int_t)us->balance,
	    "ending_balance", (json_int_t)ending,
	    "amount_due", (json_int_t)due,
	    "amount_paid", (json_int_t)0,
	    "period_start", up_time(start),
	    "period_end", up_time(end),
	    "attempt_count", (json_int_t)0,
	    "next_payment_attempt",
	    "script_error",
	    "metadata", json_object());
	return *out != NULL ? BW_OK : bw_err_internal(req);
}

/*
 * An interval change previewed at t: the invoice PATCH would create at
 * once (BILLING.md "Changes mid-period"): the new period's plan line, the
 * credit for the unused old plan, usage of [max(s, usage_billed_until),
 * t) at the old plan's prices, and the pending items.
 */
static int
up_interval_change(struct bw_req *req, const struct up_sub *us,
    const struct up_plan *np, const char *behavior, PGresult *items,
    struct up_invoice *ui)
{
	struct bw_sub_line	*credit, *usage, *lines;
	int64_t			 end;
	int			 ncredit, nusage;

	if (bw_period_add(us->now, np->interval, np->interval_count, 1,
	    &end) != BW_OK)
		return bw_err_internal(req);
	if (up_prorations(req, us, np, behavior, 1, &credit, &ncredit) !=
	    BW_OK)
		return BW_ERROR;
	if (bw_sub_usage_lines(req, us->plan.id, us->customer_id,
	    bw_rule_usage_from(us->start, us->billed_until), us->now, &usage,
	    &nusage) != BW_OK)
		return BW_ERROR;
	lines = bw_arena_alloc(&req->arena, sizeof(*lines) *
	    (size_t)(1 + ncredit + nusage));
	if (up_plan_line(req, np, us->now, end, &lines[0]) != BW_OK)
		return BW_ERROR;
	if (ncredit > 0)
		memcpy(&lines[1], credit, sizeof(*credit) * (size_t)ncredit);
	if (nusage > 0)
		memcpy(&lines[1 + ncredit], usage, sizeof(*usage) *
		    (size_t)nusage);
	ui->si.reason = "subscription_update";
	ui->si.lines = lines;
	ui->si.nlines = 1 + ncredit + nusage;
	ui->si.items = items;
	ui->created = us->now;
	return BW_OK;
}

/*
 * The invoice at the period end e: a renewal (or a trial's end) bills the
 * plan NP for [e, e') in advance, the usage so far of [max(s,
 * usage_billed_until), min(now, e)) (none in a trial) and the pending
 * items, then PRORATIONS (the previewed change's pending items to be); a
 * cancel waiting at e makes it the final invoice instead, with no plan
 * line.
 */
static int
up_period_end(struct bw_req *req, const struct up_sub *us,
    const struct up_plan *np, PGresult *items, struct bw_sub_line *pro,
    int npro, struct up_invoice *ui)
{
	struct bw_sub_line	*usage, *lines;
	int64_t			 next_start, next_end, to;
	int			 nusage, plan, trial;

	trial = strcmp(us->status, "trial") == 0;
	plan = !us->cancel_at_end;
	usage = NULL;
	nusage = 0;
	to = us->now < us->end ? us->now : us->end;
	if (!trial && bw_sub_usage_lines(req, np->id, us->customer_id,
	    bw_rule_usage_from(us->start, us->billed_until), to, &usage,
	    &nusage) != BW_OK)
		return BW_ERROR;
	lines = bw_arena_alloc(&req->arena, sizeof(*lines) *
	    (size_t)(1 + nusage));
	if (plan) {
		if (bw_period_containing(us->anchor, np->interval,
		    np->interval_count, us->end, &next_start, &next_end) !=
		    BW_OK || next_start != us->end)
			return bw_err_internal(req);
		if (up_plan_line(req, np, next_start, next_end, &lines[0]) !=
		    BW_OK)
			return BW_ERROR;
	}
	if (nusage > 0)
		memcpy(&lines[plan], usage, sizeof(*usage) * (size_t)nusage);
	ui->si.reason = plan ? "subscription_cycle" : "subscription_cancel";
	ui->si.lines = lines;
	ui->si.nlines = plan + nusage;
	ui->si.items = items;
	ui->si.tail = pro;
	ui->si.ntail = npro;
	ui->created = us->end;
	return BW_OK;
}

/*
 * GET /invoices/upcoming?subscription_id=…[&plan_id=…&quantity=…
 * &proration_behavior=…]. 404 for an unknown subscription (another
 * tenant's too), 409 invalid_state for a canceled or paused one: neither
 * will invoice until something else happens. The answer is the invoice
 * object with id, number and line ids null and status draft.
 */
static int
upcoming_get(struct bw_req *req)
{
	struct up_sub		 us;
	struct up_plan		 np;
	struct up_invoice	 ui;
	struct bw_sub_line	*pro;
	const char		*plan_id, *q, *behavior, *p[1];
	PGresult		*items;
	json_t			*inv;
	int			 rc, changed, trial, interval_changed, npro;
	size_t			 i;

	memset(&us, 0, sizeof(us));
	us.id = bw_req_query(req, "subscription_id");
	if (us.id == NULL || *us.id == '\0')
		return bw_err_missing(req, "subscription_id");
	plan_id = bw_req_query(req, "plan_id");
	behavior = bw_req_query(req, "proration_behavior");
	if (behavior == NULL)
		behavior = "create_prorations";
	for (i = 0; up_behaviors[i] != NULL; i++)
		if (strcmp(up_behaviors[i], behavior) == 0)
			break;
	if (up_behaviors[i] == NULL)
		return bw_err_invalid(req, "proration_behavior",
		    "proration_behavior must be one of create_prorations, "
		    "always_invoice, none.");
	if ((rc = up_sub_load(req, &us)) == BW_DECLINED)
		return bw_err_not_found(req, "subscription");
	if (rc != BW_OK)
		return BW_ERROR;
	if (strcmp(us.status, "canceled") == 0 || strcmp(us.status,
	    "paused") == 0)
		return bw_req_error(req, 409, "invalid_request_error",
		    "invalid_state", NULL, "A %s subscription has no upcoming "
		    "invoice.", us.status);
	np = us.plan;
	if (plan_id != NULL && strcmp(plan_id, us.plan.id) != 0) {
		np.id = plan_id;
		if (up_plan_load(req, &us, &np) != BW_OK)
			return BW_ERROR;
	}
	if ((q = bw_req_query(req, "quantity")) != NULL &&
	    up_quantity(req, q, &np.quantity) != BW_OK)
		return BW_ERROR;

	p[0] = us.id;
	if ((items = bw_db_query(req->db, SQL_UP_PENDING, 1, p)) == NULL)
		return BW_ERROR;
	changed = strcmp(np.id, us.plan.id) != 0 ||
	    np.quantity != us.plan.quantity;
	trial = strcmp(us.status, "trial") == 0;
	interval_changed = np.interval != us.plan.interval ||
	    np.interval_count != us.plan.interval_count;
	memset(&ui, 0, sizeof(ui));
	ui.si.customer_id = us.customer_id;
	ui.si.sub_id = us.id;
	ui.si.currency = us.plan.currency;
	pro = NULL;
	npro = 0;
	if (changed && !trial && interval_changed) {
		rc = up_interval_change(req, &us, &np, behavior, items, &ui);
	} else {
		/* A trial billed nothing: its change owes no prorations. */
		if (changed && !trial && strcmp(behavior, "none") != 0 &&
		    up_prorations(req, &us, &np, behavior, 0, &pro, &npro) !=
		    BW_OK) {
			PQclear(items);
			return BW_ERROR;
		}
		if (changed && !trial && strcmp(behavior, "always_invoice") ==
		    0 && up_has_amount(items, pro, npro)) {
			/* PATCH would invoice these now: that comes next. */
			ui.si.reason = "subscription_update";
			ui.si.items = items;
			ui.si.tail = pro;
			ui.si.ntail = npro;
			ui.created = us.now;
			rc = BW_OK;
		} else {
			if (strcmp(behavior, "create_prorations") != 0)
				npro = 0;
			rc = up_period_end(req, &us, &np, items, pro, npro,
			    &ui);
		}
	}
	if (rc == BW_OK)
		rc = up_invoice_json(req, &us, &ui, &inv);
	PQclear(items);
	if (rc == BW_DECLINED)
		return bw_req_error(req, 409, "invalid_request_error",
		    "invalid_state", NULL, "This subscription ends at its "
		    "period end with nothing to invoice: no upcoming invoice.");
	if (rc != BW_OK)
		return BW_ERROR;
	return bw_req_json(req, 200, inv);
}

static const struct bw_route upcoming_routes[] = {
	/* Listed before the invoices' /invoices/{id}: the literal wins. */
	{ .method = BW_GET, .pattern = "/api/v1/invoices/upcoming",
	  .auth = BW_AUTH_TENANT, .handler = upcoming_get },
};

BW_ROUTE_TABLE(bw_api_upcoming, upcoming_routes);
