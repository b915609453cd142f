/*
 * The billing scheduler (DESIGN.md "Billing rules"; BILLING.md "Periods",
 * "Collection and dunning", "Ending, pausing, resuming"): the unit of work
 * that runs what a subscription has due at one instant, the test-clock
 * advance that runs those in time order, and the background pass over
 * every tenant. One unit of work is one transaction: a crash leaves
 * nothing half-done, and the unique (subscription, plan period) index on
 * plan invoices makes billing a period twice impossible.
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

/* The subscription, its plan and its next due time, locked. */
#define SQL_STEP_LOCK(skip) \
	"SELECT s.status, s.customer_id, s.plan_id, s.quantity, " \
	"s.cancel_at_period_end, s.trial_notice_sent, " \
	BW_SQL_EPOCH("s.current_period_start") " AS period_start, " \
	BW_SQL_EPOCH("s.current_period_end") " AS period_end, " \
	BW_SQL_EPOCH("s.trial_end") " AS trial_end, " \
	BW_SQL_EPOCH("s.started_at") " AS started_at, " \
	BW_SQL_EPOCH("s.usage_billed_until") " AS billed_until, " \
	BW_SQL_EPOCH("s.billing_cycle_anchor") " AS anchor, " \
	BW_SQL_EPOCH("d.due") " AS due, " \
	BW_SQL_EPOCH("now()") " AS db_now, " \
	"(SELECT array_agg(i.id ORDER BY i.created, i.id) FROM invoices i " \
	"WHERE i.tenant_id = s.tenant_id AND i.subscription_id = s.id AND " \
	"i.status = 'open' AND i.next_payment_attempt <= d.due)::text AS " \
	"retry_ids, EXISTS (SELECT 1 " \
	"FROM subscription_pending_items x WHERE x.tenant_id = s.tenant_id " \
	"AND x.subscription_id = s.id AND x.invoice_id IS NULL) AS " \
	"has_pending, jsonb_array_length(p.charges) > 0 AS has_charges, " \
	"s.latest_invoice_id, p.name, p.amount, p.currency, p.interval, " \
	"p.interval_count, t.dunning_final_action FROM subscriptions s " \
	"CROSS JOIN LATERAL (SELECT billow_subscription_due(s) AS due) d " \
	"JOIN plans p ON p.tenant_id = s.tenant_id AND p.id = s.plan_id " \
	"JOIN tenants t ON t.id = s.tenant_id WHERE s.id = $1 " \
	"FOR UPDATE OF s" skip

/* A renewal (or trial end): the new period [$2, $3). */
#define SQL_RENEWED \
	"UPDATE subscriptions SET current_period_start = " \
	"to_timestamp($2::bigint), current_period_end = " \
	"to_timestamp($3::bigint), usage_billed_until = " \
	"to_timestamp($2::bigint), latest_invoice_id = $4, status = CASE " \
	"WHEN status = 'trial' THEN 'active' ELSE status END WHERE id = $1"

/* BILLING.md: past_due while an invoice is open after a failed attempt. */
#define SQL_STATUS_RULE \
	"UPDATE subscriptions s SET status = " BW_SQL_STATUS_RULE " WHERE " \
	"s.id = $1 AND s.status IN ('active', 'past_due')"

#define SQL_NOTICE_SENT \
	"UPDATE subscriptions SET trial_notice_sent = true WHERE id = $1"

/*
 * The clock's subscriptions with work due by $2, soonest first, then in
 * id order (BILLING.md: subscriptions due at one instant run in id order).
 */
#define SQL_CLOCK_DUE \
	"SELECT s.id, " BW_SQL_EPOCH("billow_subscription_due(s)") " AS due " \
	"FROM subscriptions s WHERE s.test_clock_id = $1 AND " \
	"s.status <> 'canceled' AND billow_subscription_due(s) <= " \
	"to_timestamp($2::bigint) ORDER BY 2, 1"

#define SQL_DUE_SCAN \
	"SELECT tenant_id, livemode, id FROM billow_due_subscriptions($1::int)"

/* What a step reads from the locked subscription. */
struct cycle_sub {
	const char	*id;
	const char	*status;
	const char	*customer_id;
	const char	*plan_id;
	const char	*plan_name;
	const char	*currency;
	const char	*final_action;
	const char	*latest_invoice_id;
	enum bw_interval interval;
	int		 interval_count;
	int		 cancel_at_end;
	int		 notice_sent;
	int64_t		 unit_amount;
	int64_t		 quantity;
	int64_t		 start;
	int64_t		 end;
	int64_t		 trial_end;	/* -1: none */
	int64_t		 started_at;
	int64_t		 billed_until;
	int64_t		 anchor;
	int64_t		 due;		/* -1: nothing due */
	int64_t		 db_now;	/* the database's now() */
	char		**retry_ids;	/* open invoices due a retry */
	int		 nretry;
	int		 has_pending;	/* unbilled pending items */
	int		 has_charges;	/* the plan has usage charges */
};

static const char *
cycle_int(struct bw_req *req, int64_t v)
{
	return bw_arena_printf(&req->arena, "%lld", (long long)v);
}

/* "{in_a,in_b}" (ids need no quoting) into CS->retry_ids. */
static void
cycle_split_ids(struct bw_req *req, const char *arr, struct cycle_sub *cs)
{
	const char	*p, *q;
	int		 n = 1;

	for (p = arr; *p != '\0'; p++)
		n += *p == ',';
	cs->retry_ids = bw_arena_alloc(&req->arena, sizeof(char *) *
	    (size_t)n);
	cs->nretry = 0;
	for (p = arr + 1; *p != '\0' && *p != '}'; p = *q == ',' ? q + 1 : q) {
		q = p + strcspn(p, ",}");
		if (q > p)
			cs->retry_ids[cs->nretry++] = bw_arena_strndup(
			    &req->arena, p, (size_t)(q - p));
	}
}

/* Locks ID into *CS. BW_DECLINED when it is gone or (SKIP) held. */
static int
cycle_lock(struct bw_req *req, const char *id, int skip, struct cycle_sub *cs)
{
	const char	*p[1] = { id };
	PGresult	*res;
	struct bw_arena	*a = &req->arena;
	int		 ok;

	memset(cs, 0, sizeof(*cs));
	res = bw_db_query(req->db, skip ? SQL_STEP_LOCK(" SKIP LOCKED") :
	    SQL_STEP_LOCK(""), 1, p);
	if (res == NULL)
		return BW_ERROR;
	if (PQntuples(res) != 1) {
		PQclear(res);
		return BW_DECLINED;
	}
	cs->id = id;
	cs->status = bw_arena_strdup(a, bw_db_val(res, 0, "status"));
	cs->customer_id = bw_arena_strdup(a, bw_db_val(res, 0, "customer_id"));
	cs->plan_id = bw_arena_strdup(a, bw_db_val(res, 0, "plan_id"));
	cs->plan_name = bw_arena_strdup(a, bw_db_val(res, 0, "name"));
	cs->currency = bw_arena_strdup(a, bw_db_val(res, 0, "currency"));
	cs->final_action = bw_arena_strdup(a, bw_db_val(res, 0,
	    "dunning_final_action"));
	cs->latest_invoice_id = bw_db_isnull(res, 0, "latest_invoice_id") ?
	    NULL : bw_arena_strdup(a, bw_db_val(res, 0, "latest_invoice_id"));
	ok = bw_period_interval_parse(bw_db_val(res, 0, "interval"),
	    &cs->interval) == BW_OK;
	cs->interval_count = (int)bw_db_int(res, 0, "interval_count");
	cs->cancel_at_end = strcmp(bw_db_val(res, 0, "cancel_at_period_end"),
	    "t") == 0;
	cs->notice_sent = strcmp(bw_db_val(res, 0, "trial_notice_sent"),
	    "t") == 0;
	cs->unit_amount = bw_db_int(res, 0, "amount");
	cs->quantity = bw_db_int(res, 0, "quantity");
	cs->start = bw_db_int(res, 0, "period_start");
	cs->end = bw_db_int(res, 0, "period_end");
	cs->trial_end = bw_db_isnull(res, 0, "trial_end") ? -1 :
	    bw_db_int(res, 0, "trial_end");
	cs->started_at = bw_db_int(res, 0, "started_at");
	cs->billed_until = bw_db_int(res, 0, "billed_until");
	cs->anchor = bw_db_int(res, 0, "anchor");
	cs->due = bw_db_isnull(res, 0, "due") ? -1 : bw_db_int(res, 0, "due");
	cs->db_now = bw_db_int(res, 0, "db_now");
	cs->has_pending = strcmp(bw_db_val(res, 0, "has_pending"), "t") == 0;
	cs->has_charges = strcmp(bw_db_val(res, 0, "has_charges"), "t") == 0;
	if (!bw_db_isnull(res, 0, "retry_ids"))
		cycle_split_ids(req, bw_db_val(res, 0, "retry_ids"), cs);
	PQclear(res);
	if (!ok)
		return bw_err_internal(req);
	return BW_OK;
}

/*
 * Payment retries due at AT, oldest invoice first (BILLING.md "Collection
 * and dunning"). A failure that leaves no retry applies the tenant's final
 * action: cancel (now, without prorate, at AT; the rest is not retried,
 * *CANCELED 1) or unpaid (the subscription stays past_due).
 */
static int
cycle_retries(struct bw_req *req, struct cycle_sub *cs, int64_t at,
    int *canceled)
{
	struct bw_invoice_attempt	 att;
	json_t				*inv;
	int				 i, rc, last;

	*canceled = 0;
	if (cs->nretry == 0)
		return BW_OK;
	for (i = 0; i < cs->nretry; i++) {
		inv = NULL;
		if (bw_invoice_collect(req, cs->retry_ids[i], &att, &inv) !=
		    BW_OK)
			return BW_ERROR;
		last = !att.succeeded && inv != NULL &&
		    json_is_null(json_object_get(inv, "next_payment_attempt"));
		json_decref(inv);
		if (!last || strcmp(cs->final_action, "cancel") != 0)
			continue;
		rc = bw_subscription_cancel_now(req, cs->id, 0, at, NULL);
		if (rc != BW_OK)
			return BW_ERROR;
		*canceled = 1;
		return BW_OK;
	}
	return bw_sub_sync_status(req, cs->id, 1, NULL);
}

/*
 * The period end at CS->end (BILLING.md "Invoices"): a renewal, or a
 * trial's end, bills the plan in advance for the new period [e, e'), the
 * usage of the period that ended in arrears (none for a trial: usage in a
 * trial is free) and the pending items, then collects it; a failure
 * starts dunning. One subscription.updated tells what changed.
 */
static int
cycle_renew(struct bw_req *req, struct cycle_sub *cs)
{
	struct bw_sub_invoice	 si;
	struct bw_sub_line	*lines, *usage;
	const char		*p[4];
	char			 inv_id[BW_ID_MAX];
	char			 old_start[32], old_end[32];
	PGresult		*items;
	json_t			*sub, *prev;
	int64_t			 next_start, next_end, amount, from;
	int			 nusage, failed, rc, trial;

	trial = strcmp(cs->status, "trial") == 0;
	if (bw_period_containing(cs->anchor, cs->interval, cs->interval_count,
	    cs->end, &next_start, &next_end) != BW_OK ||
	    next_start != cs->end)
		return bw_err_internal(req);

	usage = NULL;
	nusage = 0;
	from = bw_rule_usage_from(cs->start, cs->billed_until);
	if (!trial && cs->has_charges && bw_sub_usage_lines(req, cs->plan_id,
	    cs->customer_id, from, cs->end, &usage, &nusage) != BW_OK)
		return BW_ERROR;
	lines = bw_arena_alloc(&req->arena, sizeof(*lines) *
	    (size_t)(nusage + 1));
	/* <= 99,999,999 x 1,000,000 fits; the check costs nothing. */
	if (__builtin_mul_overflow(cs->unit_amount, cs->quantity, &amount) ||
	    amount > BW_MONEY_AMOUNT_MAX)
		return bw_err_internal(req);
	lines[0].kind = "plan";
	lines[0].description = bw_arena_printf(&req->arena, "%s \xc3\x97 %lld",
	    cs->plan_name, (long long)cs->quantity);
	lines[0].amount = amount;
	lines[0].unit_amount = cycle_int(req, cs->unit_amount);
	lines[0].unit_amount_decimal = NULL;
	lines[0].quantity = cs->quantity;
	lines[0].start = next_start;
	lines[0].end = next_end;
	if (nusage > 0)
		memcpy(&lines[1], usage, sizeof(*usage) * (size_t)nusage);
	items = NULL;
	if (cs->has_pending && bw_sub_pending(req, cs->id, &items) != BW_OK)
		return BW_ERROR;

	bw_id_new("in", inv_id);
	memset(&si, 0, sizeof(si));
	si.id = inv_id;
	si.customer_id = cs->customer_id;
	si.sub_id = cs->id;
	si.currency = cs->currency;
	si.reason = "subscription_cycle";
	si.lines = lines;
	si.nlines = nusage + 1;
	si.items = items;
	rc = bw_sub_invoice_create(req, &si);
	PQclear(items);
	if (rc != BW_OK)
		return BW_ERROR;

	p[0] = cs->id;
	p[1] = cycle_int(req, next_start);
	p[2] = cycle_int(req, next_end);
	p[3] = inv_id;
	if (bw_billing_exec(req, SQL_RENEWED, 4, p) != BW_OK)
		return BW_ERROR;
	if (bw_sub_invoice_settle(req, inv_id, &failed) != BW_OK)
		return BW_ERROR;
	/* The status rule, queued: the read below sees its result. */
	p[0] = cs->id;
	if (bw_billing_exec(req, SQL_STATUS_RULE, 1, p) != BW_OK)
		return BW_ERROR;

	bw_time_rfc3339(cs->start, old_start, sizeof(old_start));
	bw_time_rfc3339(cs->end, old_end, sizeof(old_end));
	prev = json_pack("{s:s, s:s, s:o}", "current_period_start",
	    old_start, "current_period_end", old_end, "latest_invoice_id",
	    cs->latest_invoice_id != NULL ?
	    json_string(cs->latest_invoice_id) : json_null());
	if (bw_subscription_get(req, cs->id, &sub) != BW_OK) {
		json_decref(prev);
		return BW_ERROR;
	}
	if (strcmp(json_string_value(json_object_get(sub, "status")),
	    cs->status) != 0)
		json_object_set_new(prev, "status", json_string(cs->status));
	return bw_event_emit_json(req, "subscription.updated", json_pack(
	    "{s:o, s:o}", "object", sub, "previous_attributes", prev));
}

/* trial_will_end, three days before the trial ends (or at its start). */
static int
cycle_notice(struct bw_req *req, struct cycle_sub *cs, int64_t at)
{
	const char	*p[1] = { cs->id };
	json_t		*sub;
	int64_t		 when;

	if (strcmp(cs->status, "trial") != 0 || cs->notice_sent ||
	    cs->trial_end < 0)
		return BW_OK;
	when = bw_rule_trial_notice(cs->trial_end, cs->started_at);
	if (when > at)
		return BW_OK;
	if (bw_billing_exec(req, SQL_NOTICE_SENT, 1, p) != BW_OK)
		return BW_ERROR;
	if (bw_subscription_get(req, cs->id, &sub) != BW_OK)
		return BW_ERROR;
	return bw_event_emit_json(req, "subscription.trial_will_end",
	    json_pack("{s:o}", "object", sub));
}

int
bw_billing_step(struct bw_req *req, const char *id, int64_t limit,
    int skip_locked, int *did, int64_t *due)
{
	struct cycle_sub	 cs;
	int64_t			 at;
	int			 rc, canceled;

	*did = 0;
	if ((rc = cycle_lock(req, id, skip_locked, &cs)) == BW_DECLINED)
		return BW_OK;
	if (rc != BW_OK)
		return BW_ERROR;
	/* The scan's pick may be stale: due by now, checked under the lock. */
	if (limit < 0)
		limit = cs.db_now;
	if (cs.due < 0 || cs.due > limit || strcmp(cs.status, "canceled") == 0)
		return BW_OK;
	at = cs.due;
	*did = 1;
	if (due != NULL)
		*due = at;
	if (bw_billing_set_now(req, at) != BW_OK)
		return BW_ERROR;

	/* 1. Payment retries due. */
	if (cycle_retries(req, &cs, at, &canceled) != BW_OK)
		return BW_ERROR;
	if (canceled)
		return BW_OK;

	/* 2. The period end: cancel at period end, or renew. */
	if ((strcmp(cs.status, "trial") == 0 || strcmp(cs.status, "active") ==
	    0 || strcmp(cs.status, "past_due") == 0) && cs.end <= at) {
		if (cs.cancel_at_end)
			/* A cancel at e: no credit, usage of [s, e). */
			return bw_subscription_cancel_now(req, id, 0, cs.end,
			    NULL);
		if (cycle_renew(req, &cs) != BW_OK)
			return BW_ERROR;
		return BW_OK;	/* no longer a trial: no notice */
	}

	/* 3. Notices. */
	return cycle_notice(req, &cs, at);
}

/*
 * One step of a long advance on an arena of its own, so a clock with a
 * hundred thousand subscriptions does not hold every step's strings
 * until the request ends. Nothing a step allocates outlives it: queued
 * statements and plugin tasks copy what they keep.
 */
static int
cycle_step_scoped(struct bw_req *req, const char *id, int64_t instant,
    int *did)
{
	struct bw_arena	 outer = req->arena;
	int		 rc;

	bw_arena_init(&req->arena);
	rc = bw_billing_step(req, id, instant, 0, did, NULL);
	bw_arena_free(&req->arena);
	req->arena = outer;
	return rc;
}

int
bw_billing_advance_clock(struct bw_req *req, const char *clock_id,
    int64_t to, long *steps)
{
	const char	*p[2];
	char		**ids;
	PGresult	*res;
	int64_t		 instant;
	int		 i, n, did;

	*steps = 0;
	p[0] = clock_id;
	p[1] = cycle_int(req, to);
	for (;;) {
		if ((res = bw_db_query(req->db, SQL_CLOCK_DUE, 2, p)) == NULL)
			return BW_ERROR;
		n = PQntuples(res);
		if (n == 0) {
			PQclear(res);
			return BW_OK;
		}
		/* The soonest instant only: its work may make more work. */
		instant = bw_db_int(res, 0, "due");
		ids = malloc(sizeof(*ids) * (size_t)n);
		if (ids == NULL) {
			PQclear(res);
			return bw_err_internal(req);
		}
		for (i = 0; i < n && bw_db_int(res, i, "due") == instant; i++)
			ids[i] = strdup(bw_db_val(res, i, "id"));
		n = i;
		PQclear(res);
		for (i = 0; i < n; i++) {
			if (ids[i] == NULL || cycle_step_scoped(req, ids[i],
			    instant, &did) != BW_OK)
				break;
			*steps += did;
		}
		did = i == n;
		for (i = 0; i < n; i++)
			free(ids[i]);
		free(ids);
		if (!did)
			return req->failed ? BW_ERROR : bw_err_internal(req);
	}
}

/* One subscription's due work, in its own tenant transaction. */
static int
cycle_run_one(struct bw_db *db, const char *tenant_id, int livemode,
    const char *id)
{
	struct bw_req	 req;
	int		 did = 0, rc;

	bw_req_init(&req);
	req.db = db;
	snprintf(req.who.tenant_id, sizeof(req.who.tenant_id), "%s",
	    tenant_id);
	req.who.livemode = livemode;
	if (bw_db_begin(db, tenant_id, livemode) != BW_OK) {
		bw_req_free(&req);
		return -1;
	}
	rc = bw_billing_step(&req, id, -1, 1, &did, NULL);
	if (rc != BW_OK || req.failed || bw_db_commit(db) != BW_OK) {
		bw_db_rollback(db);
		bw_log(BW_LOG_ERROR, "scheduler: subscription %s of %s: %s",
		    id, tenant_id, req.failed ? req.err.message :
		    bw_db_error(db));
		did = bw_db_conn_lost(db) ? -1 : 0;
	}
	bw_req_free(&req);
	return did;
}

int
bw_billing_run_due(struct bw_db *db, int limit)
{
	const char	*p[1];
	char		 lim[16];
	PGresult	*res;
	int		 i, n, did, total = 0;

	snprintf(lim, sizeof(lim), "%d", limit);
	p[0] = lim;
	if ((res = bw_db_query(db, SQL_DUE_SCAN, 1, p)) == NULL)
		return -1;
	n = PQntuples(res);
	for (i = 0; i < n; i++) {
		did = cycle_run_one(db, bw_db_val(res, i, "tenant_id"),
		    strcmp(bw_db_val(res, i, "livemode"), "t") == 0,
		    bw_db_val(res, i, "id"));
		if (did < 0) {
			total = total > 0 ? total : -1;
			break;
		}
		total += did;
	}
	PQclear(res);
	return total;
}
