/*
 * Subscription operations shared by the subscriptions, customers and
 * invoices APIs, the test clocks and the scheduler: the subscription
 * object, subscription invoices (plan, usage and pending-item lines),
 * settling them (finalize, collect, dunning), the status rule and the
 * life-cycle steps. Runs on task threads and in the background worker,
 * always inside the caller's tenant transaction (RLS confines rows).
 */
#ifndef BW_BILLING_SUBSCRIPTION_H
#define BW_BILLING_SUBSCRIPTION_H

#include <stdint.h>

#include <jansson.h>
#include <libpq-fe.h>

#include "auth/crypto.h"

struct bw_req;
struct bw_db;

#define BW_SQL_EPOCH(col) \
	"floor(extract(epoch FROM " col "))::bigint"

/* The subscriptions columns bw_subscription_json() reads. */
#define BW_SUB_COLUMNS \
	"id, livemode, customer_id, plan_id, status, quantity, " \
	BW_SQL_EPOCH("current_period_start") " AS current_period_start, " \
	BW_SQL_EPOCH("current_period_end") " AS current_period_end, " \
	BW_SQL_EPOCH("trial_end") " AS trial_end, cancel_at_period_end, " \
	BW_SQL_EPOCH("canceled_at") " AS canceled_at, " \
	BW_SQL_EPOCH("paused_at") " AS paused_at, " \
	BW_SQL_EPOCH("billing_cycle_anchor") " AS billing_cycle_anchor, " \
	"latest_invoice_id, metadata::text AS metadata, " \
	BW_SQL_EPOCH("created") " AS created"

/*
 * BILLING.md "Collection and dunning": the status of a subscription s
 * that is active or past_due: past_due while any of its invoices is open
 * after a failed attempt (final invoices aside), else active.
 */
#define BW_SQL_STATUS_RULE \
	"CASE WHEN EXISTS (SELECT 1 FROM invoices i WHERE i.tenant_id = " \
	"s.tenant_id AND i.subscription_id = s.id AND i.status = 'open' AND " \
	"i.attempt_count > 0 AND i.billing_reason <> 'subscription_cancel') " \
	"THEN 'past_due' ELSE 'active' END"

/* A subscriptions row (BW_SUB_COLUMNS) as the contract's subscription. */
json_t	*bw_subscription_json(const PGresult *, int row);

/* Subscription ID in *OUT: BW_OK, BW_DECLINED (none) or BW_ERROR. */
int	bw_subscription_get(struct bw_req *, const char *id, json_t **out);

/*
 * Billing time (migration 0007): rows written later in this transaction
 * take T as their created/finalized/paid time (billow_now()), and so do
 * the dunning offsets. The billing core sets it to the instant it works
 * at: a test clock's time, or a due time the scheduler catches up on.
 */
int	bw_billing_set_now(struct bw_req *, int64_t t);

/*
 * The time a customer's billing happens at: its test clock's frozen_time,
 * else the transaction's now(), in whole seconds; the customer row is
 * locked. BW_DECLINED when there is no such customer.
 */
int	bw_billing_customer_now(struct bw_req *, const char *customer_id,
	    int64_t *now, int *deleted);

/* One invoice line of a subscription invoice. */
struct bw_sub_line {
	const char	*kind;		/* plan, usage, proration */
	const char	*description;
	int64_t		 amount;	/* the line total */
	const char	*unit_amount;	/* decimal string, or NULL */
	const char	*unit_amount_decimal;	/* or NULL */
	int64_t		 quantity;
	int64_t		 start;
	int64_t		 end;
};

/*
 * A subscription invoice to create: LINES first (the plan line, usage),
 * then the pending items ITEMS (bw_sub_pending; NULL: none), then TAIL
 * (a cancel's credit). Usage and proration lines of amount 0 are left
 * out (BILLING.md "Invoices"); a plan line is always there.
 */
struct bw_sub_invoice {
	const char			*id;
	const char			*customer_id;
	const char			*sub_id;
	const char			*currency;
	const char			*reason;	/* billing_reason */
	const struct bw_sub_line	*lines;
	int				 nlines;
	PGresult			*items;
	const struct bw_sub_line	*tail;
	int				 ntail;
};

/* The unbilled pending items of SUB_ID, oldest first, locked (PQclear). */
int	bw_sub_pending(struct bw_req *, const char *sub_id, PGresult **out);

/*
 * The usage lines of [FROM, TO) (bw_usage_lines) for PLAN_ID's charges
 * and CUSTOMER_ID's events, as invoice lines in req->arena; none when the
 * span is empty. Zero amounts are included (invoices leave them out).
 */
int	bw_sub_usage_lines(struct bw_req *, const char *plan_id,
	    const char *customer_id, int64_t from, int64_t to,
	    struct bw_sub_line **out, int *n);

/* A line a plugin handed over (checked by the caller) into *L. */
struct billow_line;
void	bw_sub_line_from_plugin(struct bw_req *, const struct billow_line *b,
	    struct bw_sub_line *l);

/*
 * Line I of the invoice-to-be SI into *L, in order: its lines, its pending
 * items, its tail. 0 past the last line.
 */
int	bw_sub_line_at(const struct bw_sub_invoice *si, int i,
	    struct bw_sub_line *l);

/*
 * The invoice.lines filter for the invoice SI would be (PREVIEW: the
 * upcoming-invoice preview): the lines plugins add, in req->arena.
 */
int	bw_sub_invoice_extra(struct bw_req *, const struct bw_sub_invoice *si,
	    int preview, struct bw_sub_line **out, int *n);

/*
 * Creates draft invoice SI->id (subtotal and total the sum of its lines,
 * its period spanning them), with the lines the invoice.lines filter adds
 * after the core's, marks the pending items billed by it and
 * emits invoice.created. BW_DECLINED, creating nothing, when no line
 * would be billed (nothing but zero amounts and no plan line).
 */
int	bw_sub_invoice_create(struct bw_req *, const struct bw_sub_invoice *);

/*
 * Finalizes subscription invoice INV_ID with the balance rules and, when
 * something is due, collects it once at the billing time. A declined
 * attempt of an invoice that can enter dunning starts it (bw_invoice_
 * collect schedules the retries); *FAILED is then 1.
 */
int	bw_sub_invoice_settle(struct bw_req *, const char *inv_id,
	    int *failed);

/*
 * BILLING.md "Collection and dunning": a subscription that is not
 * canceled (nor trialing or paused) is past_due while any of its invoices
 * is open after a failed attempt, else active. Sets the status; with EMIT
 * a change emits subscription.updated. *BEFORE (may be NULL) gets the
 * status it had ("" when unchanged).
 */
int	bw_sub_sync_status(struct bw_req *, const char *sub_id, int emit,
	    char before[16]);

/*
 * Cancels subscription ID now (BILLING.md "Ending, pausing, resuming") at
 * time AT (< 0: the customer's test-clock time, else now): status
 * canceled, canceled_at set, cancel_at_period_end false, open invoices of
 * the subscription out of dunning. With PRORATE (and not in a trial), a
 * final invoice credits the unused plan time; pending items and usage of
 * [s, t) ride it too. Emits the invoice events and subscription.canceled.
 * BW_OK with the subscription in *OUT (may be NULL; caller decrefs),
 * BW_DECLINED when there is no such subscription in the tenant and mode,
 * BW_ERROR with the request's error set (409 invalid_state when it is
 * already canceled) or on a database failure.
 */
int	bw_subscription_cancel_now(struct bw_req *, const char *id,
	    int prorate, int64_t at, json_t **out);

/*
 * The scheduler's unit of work (BILLING.md "Periods"): locks subscription
 * ID (with SKIP_LOCKED, a row another transaction holds is left alone:
 * *DID 0) and, when its next due time is <= LIMIT (< 0: the database's
 * now()), runs everything due at
 * that one instant, in order: payment retries due (oldest invoice first;
 * a cancellation stops the rest), the period end (cancel at period end,
 * trial end or renewal), then the trial_will_end notice. *DID is 1 when
 * it ran, *DUE the instant it ran at. BW_ERROR on a database failure.
 */
int	bw_billing_step(struct bw_req *, const char *id, int64_t limit,
	    int skip_locked, int *did, int64_t *due);

/*
 * Test clocks: runs everything due in (its current time, TO] for the
 * customers on clock CLOCK_ID, in time order (subscriptions due at one
 * instant in id order), through bw_billing_step. *STEPS counts them.
 */
int	bw_billing_advance_clock(struct bw_req *, const char *clock_id,
	    int64_t to, long *steps);

/*
 * One pass of the background scheduler on DB: up to LIMIT subscriptions
 * with work due by now, each in its own tenant transaction. Returns the
 * number of steps run, or -1 when the database is unavailable.
 */
int	bw_billing_run_due(struct bw_db *, int limit);

#endif
