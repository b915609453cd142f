/*
 * Proration arithmetic of the proration plugin (prorate.h; BILLING.md
 * "Changes mid-period"): 128-bit products, half-up rounding on the exact
 * value, and the credit/charge lines of one change. Pure: it reads and
 * writes only the context it is given.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "prorate.h"

#define PRORATE_UNIT_MAX	99999999LL	/* BILLING.md "Money" */
#define PRORATE_QUANTITY_MAX	1000000LL

int
prorate_round(int64_t amount, int64_t quantity, int64_t remaining,
    int64_t period, int64_t *out)
{
	unsigned __int128	num, q, r, d;

	if (amount < 0 || quantity < 0 || remaining < 0 || period <= 0 ||
	    remaining > period)
		return BILLOW_ERROR;
	/*
	 * Each factor is below 2^63, so amount × quantity fits in 126 bits;
	 * times remaining it may not. The BILLING.md bounds (amount <= 10^8,
	 * quantity <= 10^6, a period of at most a year, ~2^25 s) keep the
	 * product under 2^73, but the check keeps any input honest.
	 */
	num = (unsigned __int128)amount * (unsigned __int128)quantity;
	if (remaining != 0 && num > ~(unsigned __int128)0 /
	    (unsigned __int128)remaining)
		return BILLOW_ERROR;
	num *= (unsigned __int128)remaining;
	d = (unsigned __int128)period;
	q = num / d;
	r = num % d;
	/* Half-up: a remainder of at least half the divisor rounds up. */
	if (2 * r >= d)
		q++;
	if (q > (unsigned __int128)INT64_MAX)
		return BILLOW_ERROR;
	*out = (int64_t)q;
	return BILLOW_OK;
}

/* Appends one proration line for the rest of the period, [t, e), to CTX. */
static void
prorate_add(struct billow_change_ctx *ctx, const char *what,
    const char *plan_name, int64_t unit_amount, int64_t quantity,
    int64_t amount)
{
	struct billow_line	*l = &ctx->lines[ctx->nlines++];

	memset(l, 0, sizeof(*l));
	snprintf(l->kind, sizeof(l->kind), "proration");
	/* "× " is U+00D7, as the plan lines have it. */
	snprintf(l->description, sizeof(l->description), "%s time on %s "
	    "\xc3\x97 %lld", what, plan_name != NULL ? plan_name : "",
	    (long long)quantity);
	l->amount = amount;
	l->unit_amount = unit_amount;
	l->quantity = quantity;
	l->period_start = ctx->at > ctx->period_start ? ctx->at :
	    ctx->period_start;
	l->period_end = ctx->period_end;
}

int
prorate_lines(struct billow_change_ctx *ctx)
{
	int64_t	period, remaining, credit, charge;
	int	need, none;

	none = ctx->proration_behavior != NULL &&
	    strcmp(ctx->proration_behavior, "none") == 0;
	/* BILLING.md: an interval change credits whatever the behavior. */
	if (none && !ctx->interval_changed)
		return BILLOW_OK;
	if (ctx->old_unit_amount < 0 || ctx->old_unit_amount >
	    PRORATE_UNIT_MAX || ctx->new_unit_amount < 0 ||
	    ctx->new_unit_amount > PRORATE_UNIT_MAX ||
	    ctx->old_quantity < 1 || ctx->old_quantity > PRORATE_QUANTITY_MAX ||
	    ctx->new_quantity < 1 || ctx->new_quantity > PRORATE_QUANTITY_MAX)
		return BILLOW_ERROR;
	period = ctx->period_end - ctx->period_start;
	if (period <= 0)
		return BILLOW_ERROR;
	/* Nothing of [s, e) is left at or after e. */
	if (ctx->at >= ctx->period_end)
		return BILLOW_OK;
	remaining = ctx->at < ctx->period_start ? period :
	    ctx->period_end - ctx->at;
	need = ctx->interval_changed ? 1 : 2;
	if (ctx->nlines < 0 || ctx->nlines + need > BILLOW_LINES_MAX)
		return BILLOW_ERROR;

	/* A credit is the negation of a rounded positive value. */
	if (prorate_round(ctx->old_unit_amount, ctx->old_quantity, remaining,
	    period, &credit) != BILLOW_OK)
		return BILLOW_ERROR;
	charge = 0;
	if (!ctx->interval_changed && prorate_round(ctx->new_unit_amount,
	    ctx->new_quantity, remaining, period, &charge) != BILLOW_OK)
		return BILLOW_ERROR;
	prorate_add(ctx, "Unused", ctx->old_plan_name, ctx->old_unit_amount,
	    ctx->old_quantity, -credit);
	if (!ctx->interval_changed)
		prorate_add(ctx, "Remaining", ctx->new_plan_name,
		    ctx->new_unit_amount, ctx->new_quantity, charge);
	return BILLOW_OK;
}
