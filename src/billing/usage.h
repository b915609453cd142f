/*
 * Usage lines of a subscription invoice (BILLING.md "Usage"): the plan's
 * usage charges priced on the customer's metered events of a period, and
 * the meter aggregations they are priced on.
 */
#ifndef BW_BILLING_USAGE_H
#define BW_BILLING_USAGE_H

#include <stdint.h>

struct bw_req;

struct bw_usage_line {
	const char	*description;		/* the meter's name; arena */
	int64_t		 amount;		/* the line total, rounded once */
	int64_t		 quantity;		/* units after free_units */
	const char	*unit_amount;		/* standard integer price, else NULL */
	const char	*unit_amount_decimal;	/* the decimal price, else NULL */
	int64_t		 start, end;		/* the period [start, end) */
};

/*
 * The usage lines of plan PLAN_ID's charges for CUSTOMER_ID's usage events
 * in [START, END) (BILLING.md "Usage"): one per charge, in the plan's charge
 * order, zero amounts included (the caller leaves them out). Lines live in
 * req->arena. BW_OK with *OUT and *N set (N may be 0), BW_ERROR on a database
 * failure or an invalid charge (bw_err_internal set).
 */
int	bw_usage_lines(struct bw_req *, const char *plan_id,
	    const char *customer_id, int64_t start, int64_t end,
	    struct bw_usage_line **out, int *n);

/*
 * The aggregate of meter METER_ID over CUSTOMER_ID's events with timestamp
 * in [FROM, TO), TO < 0 meaning no end: the meter's aggregation, 0 when
 * there are none (BILLING.md "Usage"; docs/usage.md). The one definition
 * GET /usage/summary and bw_usage_lines share. BW_OK, or BW_ERROR on a
 * database failure.
 */
int	bw_usage_value(struct bw_req *, const char *meter_id,
	    const char *customer_id, int64_t from, int64_t to, int64_t *value);

#endif
