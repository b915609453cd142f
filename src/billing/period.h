/*
 * Billing periods: interval names, period boundaries with month-end clamping,
 * trial ends, proration fractions and RFC 3339 formatting (BILLING.md
 * "Periods"). Pure arithmetic on UTC UNIX seconds; any process may call it.
 */
#ifndef BW_PERIOD_H
#define BW_PERIOD_H

#include <stddef.h>
#include <stdint.h>

enum bw_interval {
	BW_INTERVAL_DAY,
	BW_INTERVAL_WEEK,
	BW_INTERVAL_MONTH,
	BW_INTERVAL_YEAR
};

/* Times handled here: 1970-01-01T00:00:00Z .. 9999-12-31T23:59:59Z. */
#define BW_PERIOD_TIME_MIN	((int64_t)0)
#define BW_PERIOD_TIME_MAX	((int64_t)253402300799)

/* "day", "week", "month" or "year", exactly (API.md "Plans"). */
int		 bw_period_interval_parse(const char *, enum bw_interval *);
/* The API name of an interval; "" for a value outside the enum. */
const char	*bw_period_interval_name(enum bw_interval);

/*
 * A predicate, not a result code: 1 when interval_count is allowed for the
 * interval (day 1..365, week 1..52, month 1..12, year 1), else 0.
 */
int		 bw_period_count_valid(enum bw_interval, int);

/*
 * bw_period_add(anchor, iv, count, n, &out): the end of the n-th period of
 * count intervals from anchor, i.e. anchor + n * count intervals. Month and
 * year periods keep the anchor's day and time of day and clamp to the
 * month's end, computed from the anchor each time (Jan 31, Feb 28, Mar 31).
 * n = 0 gives the anchor. BW_ERROR on a bad count, n < 0, or a time outside
 * BW_PERIOD_TIME_MIN..MAX.
 */
int		 bw_period_add(int64_t, enum bw_interval, int, int, int64_t *);

/*
 * bw_period_containing(anchor, iv, count, t, &start, &end): the period
 * [start, end) anchored at anchor that holds t >= anchor; a boundary belongs
 * to the period it starts. BW_ERROR when t < anchor or out of range.
 */
int		 bw_period_containing(int64_t, enum bw_interval, int, int64_t,
		    int64_t *, int64_t *);

/* start + trial_days whole days; trial_days <= 0 means no trial: start. */
int64_t		 bw_period_trial_end(int64_t, int);

/*
 * bw_period_fraction(s, e, t, &num, &den): the unused share of [s, e) at a
 * change at t, num/den = (e - t)/(e - s). BW_ERROR unless s <= t < e.
 */
int		 bw_period_fraction(int64_t, int64_t, int64_t, int64_t *,
		    int64_t *);

/*
 * Writes t as YYYY-MM-DDTHH:MM:SSZ (20 characters and a NUL, so len >= 21;
 * shorter output is truncated). A time out of range writes "".
 */
void		 bw_period_rfc3339(int64_t, char *, size_t);

#endif
