/*
 * The proration plugin (BILLING.md "Changes mid-period"): a
 * `subscription.changed` action handler that appends the lines a plan or
 * quantity change owes, a credit for the unused time of the old price and
 * a charge for the rest of the period at the new one (prorate.c does the
 * arithmetic). The core decides what becomes of them: pending items, an
 * invoice now, or nothing (proration_behavior none). Runs in whichever
 * process fires the hook, inside its transaction; it reads and writes no
 * rows, so a preview (ctx->preview 1) is handled the same way.
 */
#include <stddef.h>

#include "billow/plugin.h"
#include "prorate.h"

/* Before other handlers of the hook: theirs may read the prorations. */
#define PRORATION_PRIORITY	100

static const struct billow_host		*host;
static struct billow_plugin_handle	*self;

static int
proration_changed(void *arg, void *ud)
{
	struct billow_change_ctx	*ctx = arg;

	(void)ud;
	if (prorate_lines(ctx) != BILLOW_OK) {
		/* The change then fails as a whole (500), never half-billed. */
		host->log(self, BILLOW_LOG_ERROR, "cannot prorate the change "
		    "of %s (amounts %lld/%lld, quantities %lld/%lld, %d lines)",
		    ctx->subscription_id != NULL ? ctx->subscription_id : "?",
		    (long long)ctx->old_unit_amount,
		    (long long)ctx->new_unit_amount,
		    (long long)ctx->old_quantity,
		    (long long)ctx->new_quantity, ctx->nlines);
		return BILLOW_ERROR;
	}
	return BILLOW_OK;
}

static int
proration_init(const struct billow_host *h, struct billow_plugin_handle *me)
{
	host = h;
	self = me;
	return host->hook_add(self, BILLOW_HOOK_SUBSCRIPTION_CHANGED,
	    PRORATION_PRIORITY, proration_changed, NULL);
}

BILLOW_PLUGIN(.name = "proration", .version = "1.0.0",
    .init = proration_init);
