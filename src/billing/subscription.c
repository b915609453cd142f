/*
 * Subscription building blocks shared by the API and the scheduler
 * (BILLING.md "Invoices", "Collection and dunning", "Ending, pausing,
 * resuming"): the subscription object, billing time, subscription
 * invoices with their pending items, settling them, the past_due rule and
 * cancel now. Runs inside the caller's tenant transaction (task thread or
 * background worker); RLS confines every statement to tenant and mode.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/api.h"
#include "billing/invoice.h"
#include "billing/money.h"
#include "billing/rules.h"
#include "billing/subscription.h"
#include "billing/usage.h"
#include "db/db.h"
#include "plugin/plugin.h"

#define SQL_SUB_GET \
	"SELECT " BW_SUB_COLUMNS " FROM subscriptions WHERE id = $1"

/* Transaction-local: gone at COMMIT or ROLLBACK. */
#define SQL_SET_NOW \
	"SELECT set_config('app.now', to_timestamp($1::bigint)::text, true)"

/*
 * The customer's billing time: its test clock's frozen_time, else now().
 * Lock order everywhere: subscription, invoice, customer.
 */
#define SQL_CUSTOMER_NOW \
	"SELECT c.deleted, coalesce((SELECT " BW_SQL_EPOCH("k.frozen_time") \
	" FROM test_clocks k WHERE k.id = c.test_clock_id), " \
	BW_SQL_EPOCH("now()") ") AS now FROM customers c WHERE c.id = $1 " \
	"FOR UPDATE OF c"

#define SQL_INVOICE_INSERT \
	"INSERT INTO invoices (tenant_id, livemode, id, customer_id, " \
	"subscription_id, currency, subtotal, total, billing_reason, " \
	"period_start, period_end, plan_period_start) VALUES " \
	"(current_setting('app.tenant_id'), " \
	"current_setting('app.livemode')::boolean, $1, $2, $3, $4, " \
	"$5::bigint, $5::bigint, $6, to_timestamp($7::bigint), " \
	"to_timestamp($8::bigint), to_timestamp($9::bigint))"

#define SQL_LINE_INSERT \
	"INSERT INTO invoice_lines (tenant_id, livemode, id, invoice_id, " \
	"position, kind, description, amount, unit_amount, " \
	"unit_amount_decimal, quantity, period_start, period_end) VALUES " \
	"(current_setting('app.tenant_id'), " \
	"current_setting('app.livemode')::boolean, $1, $2, $3::int, $4, " \
	"$5, $6::bigint, $7::bigint, $8, $9::bigint, " \
	"to_timestamp($10::bigint), to_timestamp($11::bigint))"

#define SQL_PENDING_UNBILLED \
	"SELECT id, kind, description, amount, unit_amount, " \
	"unit_amount_decimal, quantity, " \
	BW_SQL_EPOCH("period_start") " AS period_start, " \
	BW_SQL_EPOCH("period_end") " AS period_end FROM " \
	"subscription_pending_items WHERE subscription_id = $1 AND " \
	"invoice_id IS NULL ORDER BY created, id FOR UPDATE"

#define SQL_PENDING_BILLED \
	"UPDATE subscription_pending_items SET invoice_id = $2 WHERE " \
	"subscription_id = $1 AND id = ANY ($3::text[])"

/* BILLING.md: past_due while an invoice is open after a failed attempt. */
#define SQL_SYNC_STATUS \
	"WITH old AS (SELECT status FROM subscriptions WHERE id = $1 FOR " \
	"UPDATE) UPDATE subscriptions s SET status = " BW_SQL_STATUS_RULE \
	" FROM old WHERE s.id = $1 AND s.status IN ('active', 'past_due') " \
	"RETURNING old.status AS before, s.status AS after"

/*
 * Cancel: the subscription and its plan, the subscription locked first
 * (then its invoices, then the customer).
 */
#define SQL_CANCEL_LOCK \
	"SELECT s.status, s.customer_id, s.quantity, " \
	BW_SQL_EPOCH("s.current_period_start") " AS period_start, " \
	BW_SQL_EPOCH("s.current_period_end") " AS period_end, " \
	BW_SQL_EPOCH("s.usage_billed_until") " AS billed_until, " \
	"s.plan_id, p.name, p.amount, p.currency FROM subscriptions s " \
	"JOIN plans p ON p.tenant_id = s.tenant_id AND p.id = s.plan_id " \
	"WHERE s.id = $1 FOR UPDATE OF s"

/* No more retries of the subscription's open invoices. */
#define SQL_STOP_DUNNING \
	"UPDATE invoices SET next_payment_attempt = NULL WHERE " \
	"subscription_id = $1 AND status = 'open' AND " \
	"next_payment_attempt IS NOT NULL"

#define SQL_CANCELED \
	"UPDATE subscriptions SET status = 'canceled', canceled_at = " \
	"to_timestamp($2::bigint), cancel_at_period_end = false, " \
	"usage_billed_until = greatest(usage_billed_until, " \
	"to_timestamp($2::bigint)), latest_invoice_id = " \
	"coalesce($3, latest_invoice_id) WHERE id = $1"

static const char *
sub_int(struct bw_req *req, int64_t v)
{
	return bw_arena_printf(&req->arena, "%lld", (long long)v);
}

static json_t *
sub_time(const PGresult *res, int row, const char *col)
{
	char	buf[32];

	if (bw_db_isnull(res, row, col))
		return json_null();
	bw_time_rfc3339(bw_db_int(res, row, col), buf, sizeof(buf));
	return json_string(buf);
}

static json_t *
sub_str(const PGresult *res, int row, const char *col)
{
	if (bw_db_isnull(res, row, col))
		return json_null();
	return json_string(bw_db_val(res, row, col));
}

json_t *
bw_subscription_json(const PGresult *res, int row)
{
	json_t	*meta;

	if ((meta = json_loads(bw_db_val(res, row, "metadata"), 0,
	    NULL)) == NULL)
		meta = json_object();
	return json_pack("{s:s, s:s, s:b, s:o, s:s, s:s, s:s, s:I, s:o, "
	    "s:o, s:o, s:b, s:o, s:o, s:o, s:o, s:o}",
	    "object", "subscription",
	    "id", bw_db_val(res, row, "id"),
	    "livemode", strcmp(bw_db_val(res, row, "livemode"), "t") == 0,
	    "created", sub_time(res, row, "created"),
	    "customer_id", bw_db_val(res, row, "customer_id"),
	    "plan_id", bw_db_val(res, row, "plan_id"),
	    "status", bw_db_val(res, row, "status"),
	    "quantity", (json_int_t)bw_db_int(res, row, "quantity"),
	    "current_period_start", sub_time(res, row,
	    "current_period_start"),
	    "current_period_end", sub_time(res, row, "current_period_end"),
	    "trial_end", sub_time(res, row, "trial_end"),
	    "cancel_at_period_end", strcmp(bw_db_val(res, row,
	    "cancel_at_period_end"), "t") == 0,
	    "canceled_at", sub_time(res, row, "canceled_at"),
	    "paused_at", sub_time(res, row, "paused_at"),
	    "billing_cycle_anchor", sub_time(res, row,
	    "billing_cycle_anchor"),
	    "latest_invoice_id", sub_str(res, row, "latest_invoice_id"),
	    "metadata", meta);
}

int
bw_subscription_get(struct bw_req *req, const char *id, json_t **out)
{
	const char	*p[1] = { id };
	PGresult	*res;

	*out = NULL;
	if ((res = bw_db_query(req->db, SQL_SUB_GET, 1, p)) == NULL)
		return BW_ERROR;
	if (PQntuples(res) != 1) {
		PQclear(res);
		return BW_DECLINED;
	}
	*out = bw_subscription_json(res, 0);
	PQclear(res);
	return BW_OK;
}

int
bw_billing_set_now(struct bw_req *req, int64_t t)
{
	const char	*p[1];

	p[0] = sub_int(req, t);
	/* Travels ahead of the next statement: no round trip of its own. */
	return bw_db_queue(req->db, SQL_SET_NOW, 1, p) == BW_OK ? BW_OK :
	    BW_ERROR;
}

int
bw_billing_customer_now(struct bw_req *req, const char *customer_id,
    int64_t *now, int *deleted)
{
	const char	*p[1] = { customer_id };
	PGresult	*res;

	if ((res = bw_db_query(req->db, SQL_CUSTOMER_NOW, 1, p)) == NULL)
		return BW_ERROR;
	if (PQntuples(res) != 1) {
		PQclear(res);
		return BW_DECLINED;
	}
	*now = bw_db_int(res, 0, "now");
	if (deleted != NULL)
		*deleted = strcmp(bw_db_val(res, 0, "deleted"), "t") == 0;
	PQclear(res);
	return BW_OK;
}

int
bw_sub_pending(struct bw_req *req, const char *sub_id, PGresult **out)
{
	const char	*p[1] = { sub_id };

	if ((*out = bw_db_query(req->db, SQL_PENDING_UNBILLED, 1, p)) ==
	    NULL)
		return BW_ERROR;
	return BW_OK;
}

int
bw_sub_line_at(const struct bw_sub_invoice *si, int i, struct bw_sub_line *l)
{
	int	nitems = si->items != NULL ? PQntuples(si->items) : 0;

	if (i < si->nlines) {
		*l = si->lines[i];
		return 1;
	}
	i -= si->nlines;
	if (i < nitems) {
		l->kind = bw_db_val(si->items, i, "kind");
		l->description = bw_db_val(si->items, i, "description");
		l->amount = bw_db_int(si->items, i, "amount");
		l->unit_amount = bw_db_isnull(si->items, i, "unit_amount") ?
		    NULL : bw_db_val(si->items, i, "unit_amount");
		l->unit_amount_decimal = bw_db_isnull(si->items, i,
		    "unit_amount_decimal") ? NULL : bw_db_val(si->items, i,
		    "unit_amount_decimal");
		l->quantity = bw_db_int(si->items, i, "quantity");
		l->start = bw_db_int(si->items, i, "period_start");
		l->end = bw_db_int(si->items, i, "period_end");
		return 1;
	}
	i -= nitems;
	if (i < si->ntail) {
		*l = si->tail[i];
		return 1;
	}
	return 0;
}

/* BILLING.md "Invoices": a plan line always; others only when not 0. */
static int
sub_line_billed(const struct bw_sub_line *l)
{
	return strcmp(l->kind, "plan") == 0 || l->amount != 0;
}

void
bw_sub_line_from_plugin(struct bw_req *req, const struct billow_line *b,
    struct bw_sub_line *l)
{
	l->kind = bw_arena_strndup(&req->arena, b->kind, strnlen(b->kind,
	    sizeof(b->kind)));
	l->description = bw_arena_strndup(&req->arena, b->description,
	    strnlen(b->description, sizeof(b->description)));
	l->amount = b->amount;
	l->unit_amount = b->unit_amount >= 0 ? sub_int(req, b->unit_amount) :
	    NULL;
	l->unit_amount_decimal = NULL;
	l->quantity = b->quantity;
	l->start = b->period_start;
	l->end = b->period_end;
}

int
bw_sub_invoice_extra(struct bw_req *req, const struct bw_sub_invoice *si,
    int preview, struct bw_sub_line **out, int *n)
{
	struct billow_invoice_lines_ctx	 ctx;
	struct bw_sub_line		 l, *x;
	char				 who[64];
	int				 i;

	*out = NULL;
	*n = 0;
	memset(&ctx, 0, sizeof(ctx));
	ctx.req = (struct billow_req *)req;
	ctx.invoice_id = preview ? NULL : si->id;
	ctx.customer_id = si->customer_id;
	ctx.subscription_id = si->sub_id;
	ctx.currency = si->currency;
	ctx.billing_reason = si->reason;
	ctx.preview = preview;
	for (i = 0; bw_sub_line_at(si, i, &l); i++)
		ctx.core_lines++;
	if (bw_hook_filter(BILLOW_HOOK_INVOICE_LINES, &ctx, who,
	    sizeof(who)) != BW_OK) {
		bw_log(BW_LOG_ERROR, "invoice.lines handler of plugin %s "
		    "failed", who);
		return req->failed ? BW_ERROR : bw_err_internal(req);
	}
	if (ctx.nlines <= 0)
		return BW_OK;
	if (ctx.nlines > BILLOW_LINES_MAX)
		return bw_err_internal(req);
	x = bw_arena_alloc(&req->arena, sizeof(*x) * (size_t)ctx.nlines);
	for (i = 0; i < ctx.nlines; i++) {
		const struct billow_line	*b = &ctx.lines[i];

		/* A plugin adds adjustments and prorations, nothing else. */
		if ((strcmp(b->kind, "adjustment") != 0 &&
		    strcmp(b->kind, "proration") != 0) || b->quantity < 1 ||
		    b->amount > BW_MONEY_AMOUNT_MAX ||
		    b->amount < -BW_MONEY_AMOUNT_MAX) {
			bw_log(BW_LOG_ERROR, "invoice.lines: a plugin added an "
			    "invalid line (kind %.16s)", b->kind);
			return bw_err_internal(req);
		}
		bw_sub_line_from_plugin(req, b, &x[i]);
	}
	*out = x;
	*n = ctx.nlines;
	return BW_OK;
}

int
bw_sub_invoice_create(struct bw_req *req, const struct bw_sub_invoice *in)
{
	struct bw_sub_invoice	 all, *si = &all;
	struct bw_sub_line	 l, *extra, *tail;
	const char		*p[11];
	char			 lid[BW_ID_MAX];
	json_t			*inv;
	int64_t			 total = 0, start = 0, end = 0;
	int64_t			 plan_start = -1;
	int			 i, n = 0, nitems, nextra, rc;

	/* Plugins' lines (invoice.lines) go after the core's. */
	all = *in;
	if (bw_sub_invoice_extra(req, in, 0, &extra, &nextra) != BW_OK)
		return BW_ERROR;
	if (nextra > 0) {
		tail = bw_arena_alloc(&req->arena, sizeof(*tail) *
		    (size_t)(in->ntail + nextra));
		if (in->ntail > 0)
			memcpy(tail, in->tail, sizeof(*tail) *
			    (size_t)in->ntail);
		memcpy(tail + in->ntail, extra, sizeof(*tail) *
		    (size_t)nextra);
		all.tail = tail;
		all.ntail = in->ntail + nextra;
	}

	/* The totals first: the invoice row goes in before its lines. */
	for (i = 0; bw_sub_line_at(si, i, &l); i++) {
		if (!sub_line_billed(&l))
			continue;
		if (__builtin_add_overflow(total, l.amount, &total) ||
		    total > BW_MONEY_AMOUNT_MAX ||
		    total < -BW_MONEY_AMOUNT_MAX)
			return bw_err_invalid(req, "quantity", "The invoice "
			    "total is too large.");
		if (n == 0 || l.start < start)
			start = l.start;
		if (n == 0 || l.end > end)
			end = l.end;
		if (plan_start < 0 && strcmp(l.kind, "plan") == 0)
			plan_start = l.start;
		n++;
	}
	if (n == 0)
		return BW_DECLINED;
	p[0] = si->id;
	p[1] = si->customer_id;
	p[2] = si->sub_id;
	p[3] = si->currency;
	p[4] = sub_int(req, total);
	p[5] = si->reason;
	p[6] = sub_int(req, start);
	p[7] = sub_int(req, end);
	/* The no-double-billing index keys on the plan line's period. */
	p[8] = plan_start >= 0 ? sub_int(req, plan_start) : NULL;
	if (bw_db_queue(req->db, SQL_INVOICE_INSERT, 9, p) != BW_OK)
		return BW_ERROR;

	/* The lines travel in the same pipeline: no round trip each. */
	n = 0;
	for (i = 0; bw_sub_line_at(si, i, &l); i++) {
		if (!sub_line_billed(&l))
			continue;
		bw_id_new("il", lid);
		p[0] = lid;
		p[1] = si->id;
		p[2] = sub_int(req, n++);
		p[3] = l.kind;
		p[4] = l.description;
		p[5] = sub_int(req, l.amount);
		p[6] = l.unit_amount;
		p[7] = l.unit_amount_decimal;
		p[8] = sub_int(req, l.quantity);
		p[9] = sub_int(req, l.start);
		p[10] = sub_int(req, l.end);
		if (bw_db_queue(req->db, SQL_LINE_INSERT, 11, p) != BW_OK)
			return BW_ERROR;
	}
	/* The items this invoice read (locked, oldest first) are billed. */
	nitems = si->items != NULL ? PQntuples(si->items) : 0;
	if (nitems > 0) {
		struct bw_buf	ids;

		bw_buf_init(&ids);
		bw_buf_append(&ids, "{", 1);
		for (i = 0; i < nitems; i++) {
			if (i > 0)
				bw_buf_append(&ids, ",", 1);
			bw_buf_appendf(&ids, "%s", bw_db_val(si->items, i,
			    "id"));
		}
		bw_buf_append(&ids, "}", 1);
		p[0] = si->sub_id;
		p[1] = si->id;
		p[2] = bw_arena_strndup(&req->arena, ids.data, ids.len);
		bw_buf_free(&ids);
		if (bw_db_queue(req->db, SQL_PENDING_BILLED, 3, p) != BW_OK)
			return BW_ERROR;
	}
	if (bw_invoice_get(req, si->id, &inv) != BW_OK)
		return BW_ERROR;
	rc = bw_invoice_emit(req, "invoice.created", inv);
	json_decref(inv);
	return rc;
}

int
bw_sub_invoice_settle(struct bw_req *req, const char *inv_id, int *failed)
{
	struct bw_invoice_attempt	 at;
	json_t				*inv;
	int				 open;

	*failed = 0;
	if (bw_invoice_finalize(req, inv_id, &inv) != BW_OK)
		return BW_ERROR;
	open = strcmp(json_string_value(json_object_get(inv, "status")),
	    "open") == 0;
	json_decref(inv);
	if (!open)
		return BW_OK;	/* the balance covered it: paid at once */
	if (bw_invoice_collect(req, inv_id, &at, NULL) != BW_OK)
		return BW_ERROR;
	*failed = !at.succeeded;
	return BW_OK;
}

int
bw_sub_sync_status(struct bw_req *req, const char *sub_id, int emit,
    char before[16])
{
	const char	*p[1] = { sub_id };
	char		 old[16];
	PGresult	*res;
	json_t		*sub;
	int		 changed;

	if (before != NULL)
		before[0] = '\0';
	if ((res = bw_db_query(req->db, SQL_SYNC_STATUS, 1, p)) == NULL)
		return BW_ERROR;
	changed = PQntuples(res) == 1 && strcmp(bw_db_val(res, 0, "before"),
	    bw_db_val(res, 0, "after")) != 0;
	if (changed)
		snprintf(old, sizeof(old), "%s", bw_db_val(res, 0, "before"));
	PQclear(res);
	if (!changed)
		return BW_OK;
	if (before != NULL)
		snprintf(before, 16, "%s", old);
	if (!emit)
		return BW_OK;
	if (bw_subscription_get(req, sub_id, &sub) != BW_OK)
		return BW_ERROR;
	return bw_event_emit_json(req, "subscription.updated", json_pack(
	    "{s:o, s:{s:s}}", "object", sub, "previous_attributes", "status",
	    old));
}

/* What a cancel now works out from the locked subscription. */
struct sub_cancel {
	const char	*id;
	const char	*customer_id;
	const char	*plan_id;
	const char	*plan_name;
	const char	*currency;
	const char	*status;
	int64_t		 unit_amount;
	int64_t		 quantity;
	int64_t		 start;
	int64_t		 end;
	int64_t		 billed_until;
	int64_t		 now;
};

/*
 * The usage lines of [FROM, TO) for the subscription's plan and customer
 * (none for an empty span) as invoice lines in *OUT, *N of them.
 */
static int
sub_usage(struct bw_req *req, const char *plan_id, const char *customer_id,
    int64_t from, int64_t to, struct bw_sub_line **out, int *n)
{
	struct bw_usage_line	*u;
	struct bw_sub_line	*l;
	int			 i, nu;

	*out = NULL;
	*n = 0;
	if (from >= to)
		return BW_OK;
	if (bw_usage_lines(req, plan_id, customer_id, from, to, &u, &nu) !=
	    BW_OK)
		return BW_ERROR;
	if (nu == 0)
		return BW_OK;
	l = bw_arena_alloc(&req->arena, sizeof(*l) * (size_t)nu);
	for (i = 0; i < nu; i++) {
		l[i].kind = "usage";
		l[i].description = u[i].description;
		l[i].amount = u[i].amount;
		l[i].unit_amount = u[i].unit_amount;
		l[i].unit_amount_decimal = u[i].unit_amount_decimal;
		l[i].quantity = u[i].quantity;
		l[i].start = u[i].start;
		l[i].end = u[i].end;
	}
	*out = l;
	*n = nu;
	return BW_OK;
}

int
bw_sub_usage_lines(struct bw_req *req, const char *plan_id,
    const char *customer_id, int64_t from, int64_t to,
    struct bw_sub_line **out, int *n)
{
	return sub_usage(req, plan_id, customer_id, from, to, out, n);
}

/*
 * The final invoice of a cancel at SC->now (BILLING.md "Ending, pausing,
 * resuming"): usage of [s, now) not yet billed (none in a trial), the
 * pending items, then, with CREDIT, one proration line crediting the
 * unused plan time [now, end). Created only when it has a non-zero line
 * (*INV_ID is then set, else ""). Finalized with the balance rules (a
 * credit becomes customer balance and nothing is due), collected once
 * when something is due, and never dunned (billing_reason
 * subscription_cancel keeps it out of dunning).
 */
static int
sub_final_invoice(struct bw_req *req, const struct sub_cancel *sc,
    int credit, char inv_id[BW_ID_MAX])
{
	struct bw_sub_invoice	 si;
	struct bw_sub_line	 cl, *usage;
	PGresult		*items;
	int64_t			 amount = 0, from;
	int			 rc, nusage, failed;

	inv_id[0] = '\0';
	if (credit && bw_money_credit(sc->unit_amount, sc->quantity,
	    sc->end - sc->now, sc->end - sc->start, &amount) != BW_OK)
		return bw_err_internal(req);
	from = bw_rule_usage_from(sc->start, sc->billed_until);
	nusage = 0;
	usage = NULL;
	if (strcmp(sc->status, "trial") != 0 && strcmp(sc->status,
	    "paused") != 0 && sub_usage(req, sc->plan_id, sc->customer_id,
	    from, sc->now, &usage, &nusage) != BW_OK)
		return BW_ERROR;
	if (bw_sub_pending(req, sc->id, &items) != BW_OK)
		return BW_ERROR;

	bw_id_new("in", inv_id);
	cl.kind = "proration";
	cl.description = bw_arena_printf(&req->arena, "Unused time on %s "
	    "\xc3\x97 %lld", sc->plan_name, (long long)sc->quantity);
	cl.amount = amount;
	cl.unit_amount = sub_int(req, sc->unit_amount);
	cl.unit_amount_decimal = NULL;
	cl.quantity = sc->quantity;
	cl.start = sc->now;
	cl.end = sc->end;
	memset(&si, 0, sizeof(si));
	si.id = inv_id;
	si.customer_id = sc->customer_id;
	si.sub_id = sc->id;
	si.currency = sc->currency;
	si.reason = "subscription_cancel";
	si.lines = usage;
	si.nlines = nusage;
	si.items = items;
	si.tail = &cl;
	si.ntail = 1;
	rc = bw_sub_invoice_create(req, &si);
	PQclear(items);
	if (rc == BW_DECLINED) {
		inv_id[0] = '\0';	/* lines of 0 are left out: none */
		return BW_OK;
	}
	if (rc != BW_OK)
		return BW_ERROR;
	return bw_sub_invoice_settle(req, inv_id, &failed);
}

int
bw_subscription_cancel_now(struct bw_req *req, const char *id, int prorate,
    int64_t at, json_t **out)
{
	struct sub_cancel	 sc;
	const char		*p[3];
	char			 inv_id[BW_ID_MAX];
	json_t			*sub;
	PGresult		*res;
	int			 credit, rc;

	if (out != NULL)
		*out = NULL;
	memset(&sc, 0, sizeof(sc));
	sc.id = id;
	p[0] = id;
	if ((res = bw_db_query(req->db, SQL_CANCEL_LOCK, 1, p)) == NULL)
		return BW_ERROR;
	if (PQntuples(res) != 1) {
		PQclear(res);
		return BW_DECLINED;
	}
	sc.status = bw_arena_strdup(&req->arena, bw_db_val(res, 0, "status"));
	sc.customer_id = bw_arena_strdup(&req->arena, bw_db_val(res, 0,
	    "customer_id"));
	sc.plan_id = bw_arena_strdup(&req->arena, bw_db_val(res, 0,
	    "plan_id"));
	sc.plan_name = bw_arena_strdup(&req->arena, bw_db_val(res, 0, "name"));
	sc.currency = bw_arena_strdup(&req->arena, bw_db_val(res, 0,
	    "currency"));
	sc.unit_amount = bw_db_int(res, 0, "amount");
	sc.quantity = bw_db_int(res, 0, "quantity");
	sc.start = bw_db_int(res, 0, "period_start");
	sc.end = bw_db_int(res, 0, "period_end");
	sc.billed_until = bw_db_int(res, 0, "billed_until");
	PQclear(res);
	if (strcmp(sc.status, "canceled") == 0)
		return bw_req_error(req, 409, "invalid_request_error",
		    "invalid_state", NULL, "This subscription is already "
		    "canceled.");

	/* Its open invoices get no more retries (before the customer lock). */
	if (bw_billing_exec(req, SQL_STOP_DUNNING, 1, p) != BW_OK)
		return BW_ERROR;

	/* The time: given, else the customer's test clock, else now. */
	if (at >= 0) {
		sc.now = at;
	} else {
		rc = bw_billing_customer_now(req, sc.customer_id, &sc.now,
		    NULL);
		if (rc == BW_DECLINED)
			return bw_err_internal(req);
		if (rc != BW_OK)
			return BW_ERROR;
		if (bw_billing_set_now(req, sc.now) != BW_OK)
			return BW_ERROR;
	}

	/*
	 * The credit for the unused plan time: none during a trial (nothing
	 * was billed) nor while paused (pausing already made it a pending
	 * item), nor outside [start, end). The pending items ride the final
	 * invoice whatever PRORATE says.
	 */
	credit = prorate && strcmp(sc.status, "trial") != 0 &&
	    strcmp(sc.status, "paused") != 0 && sc.now >= sc.start &&
	    sc.now < sc.end;
	if (sub_final_invoice(req, &sc, credit, inv_id) != BW_OK)
		return BW_ERROR;

	p[0] = id;
	p[1] = sub_int(req, sc.now);
	p[2] = inv_id[0] != '\0' ? inv_id : NULL;
	if (bw_billing_exec(req, SQL_CANCELED, 3, p) != BW_OK)
		return BW_ERROR;
	if (bw_subscription_get(req, id, &sub) != BW_OK)
		return BW_ERROR;
	if (bw_event_emit_json(req, "subscription.canceled", json_pack(
	    "{s:O, s:{s:s}}", "object", sub, "previous_attributes", "status",
	    sc.status)) != BW_OK) {
		json_decref(sub);
		return BW_ERROR;
	}
	if (out != NULL)
		*out = sub;
	else
		json_decref(sub);
	return BW_OK;
}
