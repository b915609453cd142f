/*
 * Period arithmetic for subscriptions (BILLING.md "Periods"): its own civil
 * calendar on int64 UTC seconds, so no result depends on TZ or on libc's
 * time functions. Pure functions, safe in any process or thread.
 */
#include <stdio.h>
#include <string.h>

#include "core/core.h"
#include "billing/period.h"

#define PERIOD_DAY	((int64_t)86400)
#define PERIOD_WEEK	((int64_t)604800)
/* Months from year 0 to December 9999, the last month we handle. */
#define PERIOD_MONTH_MAX	((int64_t)9999 * 12 + 11)

/* A UTC time split into a proleptic Gregorian date and a time of day. */
struct period_civil {
	int64_t	year;
	int64_t	month;		/* 1..12 */
	int64_t	day;		/* 1..31 */
	int64_t	tod;		/* seconds since midnight, 0..86399 */
};

static const char *const period_names[] = {
	[BW_INTERVAL_DAY] = "day",
	[BW_INTERVAL_WEEK] = "week",
	[BW_INTERVAL_MONTH] = "month",
	[BW_INTERVAL_YEAR] = "year",
};

static int
period_in_range(int64_t t)
{
	return t >= BW_PERIOD_TIME_MIN && t <= BW_PERIOD_TIME_MAX;
}

/*
 * Days since 1970-01-01 of a proleptic Gregorian date: Howard Hinnant's
 * days_from_civil, with March-based years so the leap day comes last.
 */
static int64_t
period_days_from_civil(int64_t y, int64_t m, int64_t d)
{
	int64_t	era, yoe, doy, doe;

	if (m <= 2)
		y--;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

/* The inverse: the date of day z since 1970-01-01 (civil_from_days). */
static void
period_civil_from_days(int64_t z, int64_t *y, int64_t *m, int64_t *d)
{
	int64_t	era, doe, yoe, doy, mp;

	z += 719468;
	era = (z >= 0 ? z : z - 146096) / 146097;
	doe = z - era * 146097;
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	*d = doy - (153 * mp + 2) / 5 + 1;
	*m = mp < 10 ? mp + 3 : mp - 9;
	*y = yoe + era * 400 + (*m <= 2);
}

/* Splits an in-range time (t >= 0, so plain division floors). */
static void
period_split(int64_t t, struct period_civil *c)
{
	period_civil_from_days(t / PERIOD_DAY, &c->year, &c->month, &c->day);
	c->tod = t % PERIOD_DAY;
}

static int64_t
period_days_in_month(int64_t y, int64_t m)
{
	static const int64_t	days[12] = {
		31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31
	};

	if (m == 2 && (y % 4 == 0 && (y % 100 != 0 || y % 400 == 0)))
		return 29;
	return days[m - 1];
}

/* Months in one period: interval_count multiplies (BILLING.md "Periods"). */
static int64_t
period_months(enum bw_interval iv, int count)
{
	return (int64_t)count * (iv == BW_INTERVAL_YEAR ? 12 : 1);
}

/* Seconds in one day or week period: days are 86400 s, there are no leaps. */
static int64_t
period_seconds(enum bw_interval iv, int count)
{
	return (int64_t)count * (iv == BW_INTERVAL_WEEK ? PERIOD_WEEK :
	    PERIOD_DAY);
}

int
bw_period_interval_parse(const char *s, enum bw_interval *out)
{
	size_t	i;

	if (s == NULL)
		return BW_ERROR;
	for (i = 0; i < BW_NELEM(period_names); i++) {
		/* Exact names only: "Month" and "months" are not intervals. */
		if (strcmp(s, period_names[i]) == 0) {
			*out = (enum bw_interval)i;
			return BW_OK;
		}
	}
	return BW_ERROR;
}

const char *
bw_period_interval_name(enum bw_interval iv)
{
	if ((size_t)iv >= BW_NELEM(period_names))
		return "";
	return period_names[iv];
}

int
bw_period_count_valid(enum bw_interval iv, int count)
{
	/* At most one year in total (BILLING.md "Periods", API.md "Plans"). */
	switch (iv) {
	case BW_INTERVAL_DAY:
		return count >= 1 && count <= 365;
	case BW_INTERVAL_WEEK:
		return count >= 1 && count <= 52;
	case BW_INTERVAL_MONTH:
		return count >= 1 && count <= 12;
	case BW_INTERVAL_YEAR:
		return count == 1;
	}
	return 0;
}

int
bw_period_add(int64_t anchor, enum bw_interval iv, int count, int n,
    int64_t *out)
{
	struct period_civil	c;
	int64_t			step, idx, y, m, d;

	if (!bw_period_count_valid(iv, count) || n < 0 ||
	    !period_in_range(anchor))
		return BW_ERROR;

	if (iv == BW_INTERVAL_DAY || iv == BW_INTERVAL_WEEK) {
		/* Fixed lengths: day = 86400 s, week = 604800 s. */
		step = period_seconds(iv, count);
		if ((int64_t)n > (BW_PERIOD_TIME_MAX - anchor) / step)
			return BW_ERROR;
		*out = anchor + (int64_t)n * step;
		return BW_OK;
	}

	/*
	 * Month and year periods keep the anchor's day and time of day and
	 * clamp to the month's end (BILLING.md "Periods"). The target month
	 * is counted from the anchor, never from an earlier clamped end, so
	 * Jan 31 gives Feb 28 and then Mar 31 again.
	 */
	period_split(anchor, &c);
	idx = c.year * 12 + (c.month - 1) + (int64_t)n * period_months(iv,
	    count);
	if (idx > PERIOD_MONTH_MAX)
		return BW_ERROR;
	y = idx / 12;
	m = idx % 12 + 1;
	d = c.day;
	if (d > period_days_in_month(y, m))
		d = period_days_in_month(y, m);
	*out = period_days_from_civil(y, m, d) * PERIOD_DAY + c.tod;
	return BW_OK;
}

int
bw_period_containing(int64_t anchor, enum bw_interval iv, int count,
    int64_t t, int64_t *start, int64_t *end)
{
	struct period_civil	a, c;
	int64_t			step, k, s, e;

	if (!bw_period_count_valid(iv, count) || !period_in_range(anchor) ||
	    !period_in_range(t) || t < anchor)
		return BW_ERROR;

	if (iv == BW_INTERVAL_DAY || iv == BW_INTERVAL_WEEK) {
		step = period_seconds(iv, count);
		s = anchor + (t - anchor) / step * step;
		if (s > BW_PERIOD_TIME_MAX - step)
			return BW_ERROR;
		*start = s;
		*end = s + step;
		return BW_OK;
	}

	/*
	 * Guess the period from whole months between the anchor and t. The
	 * guess k starts in t's month or before, and period k + 1 starts in a
	 * later month than t; only when period k starts later in t's month
	 * than t (a clamped or later day, or a later time) is it one too far.
	 * Periods are [start, end): a boundary opens the next period.
	 */
	period_split(anchor, &a);
	period_split(t, &c);
	k = ((c.year * 12 + c.month) - (a.year * 12 + a.month)) /
	    period_months(iv, count);
	for (;;) {
		if (k < 0 || k > INT32_MAX - 1)
			return BW_ERROR;
		if (bw_period_add(anchor, iv, count, (int)k, &s) != BW_OK ||
		    bw_period_add(anchor, iv, count, (int)k + 1, &e) != BW_OK)
			return BW_ERROR;
		if (s > t)
			k--;
		else if (e <= t)
			k++;
		else
			break;
	}
	*start = s;
	*end = e;
	return BW_OK;
}

int64_t
bw_period_trial_end(int64_t start, int trial_days)
{
	/* A trial exists only when its days are > 0 (BILLING.md "Periods"). */
	if (trial_days <= 0)
		return start;
	return start + (int64_t)trial_days * PERIOD_DAY;
}

int
bw_period_fraction(int64_t s, int64_t e, int64_t t, int64_t *num,
    int64_t *den)
{
	/*
	 * A change at t in [s, e) prorates by (e - t)/(e - s), in seconds
	 * (BILLING.md "Changes mid-period"); the caller multiplies first and
	 * rounds once, in 128 bits.
	 */
	if (e <= s || t < s || t >= e)
		return BW_ERROR;
	*num = e - t;
	*den = e - s;
	return BW_OK;
}

void
bw_period_rfc3339(int64_t t, char *out, size_t len)
{
	struct period_civil	c;

	if (len == 0)
		return;
	if (!period_in_range(t)) {
		out[0] = '\0';
		return;
	}
	period_split(t, &c);
	(void)snprintf(out, len, "%04lld-%02lld-%02lldT%02lld:%02lld:%02lldZ",
	    (long long)c.year, (long long)c.month, (long long)c.day,
	    (long long)(c.tod / 3600), (long long)(c.tod / 60 % 60),
	    (long long)(c.tod % 60));
}
