/*
 * Subscription operations shared by the subscriptions and customers APIs.
 * Runs on task threads inside the tenant transaction (RLS confines rows).
 */
#ifndef BW_BILLING_SUBSCRIPTION_H
#define BW_BILLING_SUBSCRIPTION_H

#include <jansson.h>

struct bw_req;

/*
 * Cancels subscription ID now (BILLING.md "Ending, pausing, resuming") at
 * the customer's test-clock time, else now: status canceled, canceled_at
 * set, cancel_at_period_end false, open invoices of the subscription out
 * of dunning. With PRORATE (and not in a trial), a final invoice credits
 * the unused plan time. Emits the invoice events and subscription.canceled.
 * BW_OK with the subscription in *OUT (may be NULL; caller decrefs),
 * BW_DECLINED when there is no such subscription in the tenant and mode,
 * BW_ERROR with the request's error set (409 invalid_state when it is
 * already canceled) or on a database failure.
 */
int	bw_subscription_cancel_now(struct bw_req *, const char *id,
	    int prorate, json_t **out);

#endif
