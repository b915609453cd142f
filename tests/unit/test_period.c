/*
 * Unit tests for src/billing/period.c: month-end clamping, interval counts,
 * containing periods, trial ends and proration fractions (BILLING.md
 * "Periods"). Expected values are worked out by hand in the comments.
 *
 * Reference days, counted from 1970-01-01 (day 0); a year Y adds 365 days
 * plus one when Y is a leap year:
 *   2026-01-01 = 56 * 365 + 14 leap days (1972..2024) = 20454 days
 *              = 1767225600 s
 *   2028-01-01 = 20454 + 365 (2026) + 365 (2027) = 21184 days = 1830297600 s
 * Days before the first of a month in a common year: Jan 0, Feb 31, Mar 59,
 * Apr 90, May 120, Jun 151, Jul 181, Aug 212, Sep 243, Oct 273, Nov 304,
 * Dec 334 (one more from March on in a leap year).
 */
#include <string.h>

#include "core/core.h"
#include "billing/period.h"
#include "test_list.h"

/* 2026-01-31T00:00:00Z = (20454 + 30) * 86400, a well-known value. */
#define T_2026_01_31	((int64_t)1769817600)
/* 2026-01-30T00:00:00Z = 1769817600 - 86400. */
#define T_2026_01_30	((int64_t)1769731200)
/* 2028-01-01T00:00:00Z = 21184 * 86400. */
#define T_2028_01_01	((int64_t)1830297600)
/* 2028-01-31T10:20:30Z = (21184 + 30) * 86400 + 10*3600 + 20*60 + 30
 *                      = 1832889600 + 37230. */
#define T_2028_01_31_102030	((int64_t)1832926830)
/* 2028-02-29T00:00:00Z = (21184 + 31 + 28) * 86400 = 21243 * 86400. */
#define T_2028_02_29	((int64_t)1835395200)
/* 2026-11-30T00:00:00Z = (20454 + 304 + 29) * 86400 = 20787 * 86400. */
#define T_2026_11_30	((int64_t)1795996800)
/* 2026-12-15T08:00:00Z = (20454 + 334 + 14) * 86400 + 8 * 3600
 *                      = 20802 * 86400 + 28800 = 1797292800 + 28800. */
#define T_2026_12_15_08	((int64_t)1797321600)
/* 2026-03-31T23:59:59Z = (20454 + 59 + 30) * 86400 + 86399
 *                      = 20543 * 86400 + 86399 = 1774915200 + 86399. */
#define T_2026_03_31_235959	((int64_t)1775001599)
/* 2026-02-28T00:00:00Z = 1769817600 + 28 * 86400 = 1769817600 + 2419200. */
#define T_2026_02_28	((int64_t)1772236800)

/* bw_period_add, formatted, must equal the RFC 3339 string expected. */
static void
check_add(int64_t anchor, enum bw_interval iv, int count, int n,
    const char *want)
{
	char	buf[32];
	int64_t	out;

	ck_assert_int_eq(bw_period_add(anchor, iv, count, n, &out), BW_OK);
	bw_period_rfc3339(out, buf, sizeof(buf));
	ck_assert_str_eq(buf, want);
}

static void
check_fmt(int64_t t, const char *want)
{
	char	buf[32];

	bw_period_rfc3339(t, buf, sizeof(buf));
	ck_assert_str_eq(buf, want);
}

/*
 * The formatter against hand-computed times: 0 is the epoch; 2000-01-01 is
 * day 30 * 365 + 7 leap days (1972..1996) = 10957, so 2000-02-29 (a leap
 * day: 2000 is divisible by 400) is day 10957 + 31 + 28 = 11016 =
 * 951782400 s and 2000-03-01 is 11017 * 86400 = 951868800 s;
 * BW_PERIOD_TIME_MAX = 2932897 * 86400 - 1 = 253402300799 is the last second
 * of 9999 (2932897 days to 10000-01-01, see the naive walk below).
 */
START_TEST(rfc3339_formats_known_times)
{
	char	small[8];

	check_fmt(0, "1970-01-01T00:00:00Z");
	check_fmt(T_2026_01_31, "2026-01-31T00:00:00Z");
	check_fmt(T_2028_01_31_102030, "2028-01-31T10:20:30Z");
	check_fmt(951782400, "2000-02-29T00:00:00Z");
	check_fmt(951868800, "2000-03-01T00:00:00Z");
	check_fmt(BW_PERIOD_TIME_MAX, "9999-12-31T23:59:59Z");
	/* Out of range: nothing rather than a wrong date. */
	check_fmt(-1, "");
	check_fmt(BW_PERIOD_TIME_MAX + 1, "");
	/* A short buffer is truncated and still terminated. */
	bw_period_rfc3339(0, small, sizeof(small));
	ck_assert_str_eq(small, "1970-01");
}
END_TEST

/*
 * The calendar against a naive one: walking month by month from 1970-01
 * and adding each month's length (28/29/30/31, leap years by the 4/100/400
 * rule), the first of every month up to 9999-12 must be
 * bw_period_add(epoch, month, 1, k). Month-end clamping and leap days are
 * then checked against the same walk for an anchor on the 31st.
 */
START_TEST(calendar_matches_naive_walk)
{
	static const int	mdays[12] = {
		31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31
	};
	int64_t			days = 0, out, want;
	int			y, m, k = 0, len, leap, bad = 0;

	/* Count mismatches: one ck_assert per month would be slow. */
	for (y = 1970; y <= 9999; y++) {
		leap = y % 4 == 0 && (y % 100 != 0 || y % 400 == 0);
		for (m = 0; m < 12; m++, k++) {
			len = mdays[m] + (m == 1 && leap);
			if (bw_period_add(0, BW_INTERVAL_MONTH, 1, k,
			    &out) != BW_OK || out != days * 86400)
				bad++;
			/* Anchor 1970-01-31: the month's last day, or 31. */
			want = (days + (len < 31 ? len : 31) - 1) * 86400;
			if (bw_period_add(30 * 86400, BW_INTERVAL_MONTH, 1, k,
			    &out) != BW_OK || out != want)
				bad++;
			days += len;
		}
	}
	ck_assert_int_eq(bad, 0);
	/* 1970..9999 ends on day 2932897, one past BW_PERIOD_TIME_MAX. */
	ck_assert_int_eq(days * 86400 - 1, BW_PERIOD_TIME_MAX);
}
END_TEST

/*
 * Leap year, anchor 2028-01-31T10:20:30Z, monthly: Feb 2028 has 29 days so
 * the 31st clamps to 02-29; March has 31 so the anchor day comes back;
 * April has 30 (clamp); May has 31 again.
 */
START_TEST(month_end_clamps_leap_year)
{
	check_add(T_2028_01_31_102030, BW_INTERVAL_MONTH, 1, 1,
	    "2028-02-29T10:20:30Z");
	check_add(T_2028_01_31_102030, BW_INTERVAL_MONTH, 1, 2,
	    "2028-03-31T10:20:30Z");
	check_add(T_2028_01_31_102030, BW_INTERVAL_MONTH, 1, 3,
	    "2028-04-30T10:20:30Z");
	check_add(T_2028_01_31_102030, BW_INTERVAL_MONTH, 1, 4,
	    "2028-05-31T10:20:30Z");
}
END_TEST

/*
 * Common year, anchor 2026-01-31T00:00:00Z = 1769817600: Feb 2026 has 28
 * days, so period 1 ends 2026-02-28 = 1769817600 + 28 * 86400 = 1772236800,
 * and period 2 ends 2026-03-31 = 1772236800 + 31 * 86400 = 1774915200 —
 * 31 days after Feb 28, counted from the anchor, not Mar 28.
 */
START_TEST(month_end_clamps_common_year)
{
	int64_t	out;

	ck_assert_int_eq(bw_period_add(T_2026_01_31, BW_INTERVAL_MONTH, 1, 1,
	    &out), BW_OK);
	ck_assert_int_eq(out, 1772236800);
	ck_assert_int_eq(bw_period_add(T_2026_01_31, BW_INTERVAL_MONTH, 1, 2,
	    &out), BW_OK);
	ck_assert_int_eq(out, 1774915200);
	check_add(T_2026_01_31, BW_INTERVAL_MONTH, 1, 2,
	    "2026-03-31T00:00:00Z");
	/* n = 0 is the anchor itself. */
	check_add(T_2026_01_31, BW_INTERVAL_MONTH, 1, 0,
	    "2026-01-31T00:00:00Z");
}
END_TEST

/* Anchor on the 30th (2026-01-30): Feb clamps to 28, March keeps the 30th. */
START_TEST(month_anchor_30th)
{
	check_add(T_2026_01_30, BW_INTERVAL_MONTH, 1, 1,
	    "2026-02-28T00:00:00Z");
	check_add(T_2026_01_30, BW_INTERVAL_MONTH, 1, 2,
	    "2026-03-30T00:00:00Z");
}
END_TEST

/*
 * Yearly from 2028-02-29: 2029 and 2030 are common years (clamp to 02-28),
 * 2031 too, and 2032 is a leap year, so the anchor's 29th comes back.
 */
START_TEST(year_from_leap_day)
{
	check_add(T_2028_02_29, BW_INTERVAL_YEAR, 1, 1,
	    "2029-02-28T00:00:00Z");
	check_add(T_2028_02_29, BW_INTERVAL_YEAR, 1, 2,
	    "2030-02-28T00:00:00Z");
	check_add(T_2028_02_29, BW_INTERVAL_YEAR, 1, 3,
	    "2031-02-28T00:00:00Z");
	check_add(T_2028_02_29, BW_INTERVAL_YEAR, 1, 4,
	    "2032-02-29T00:00:00Z");
}
END_TEST

/*
 * interval_count 3 from 2026-11-30: Nov + 3 = Feb 2027 (28 days, clamp to
 * 02-28), Nov + 6 = May 2027 (31 days, the 30th again).
 */
START_TEST(month_count_three)
{
	check_add(T_2026_11_30, BW_INTERVAL_MONTH, 3, 1,
	    "2027-02-28T00:00:00Z");
	check_add(T_2026_11_30, BW_INTERVAL_MONTH, 3, 2,
	    "2027-05-30T00:00:00Z");
}
END_TEST

/*
 * 12 months is one year, period after period: from 2028-02-29 both give
 * 2029-02-28 and, four periods on, 2032-02-29.
 */
START_TEST(twelve_months_is_a_year)
{
	int64_t	a, b;
	int	n;

	for (n = 1; n <= 8; n++) {
		ck_assert_int_eq(bw_period_add(T_2028_02_29, BW_INTERVAL_MONTH,
		    12, n, &a), BW_OK);
		ck_assert_int_eq(bw_period_add(T_2028_02_29, BW_INTERVAL_YEAR,
		    1, n, &b), BW_OK);
		ck_assert_int_eq(a, b);
	}
	check_add(T_2028_02_29, BW_INTERVAL_MONTH, 12, 1,
	    "2029-02-28T00:00:00Z");
	check_add(T_2028_02_29, BW_INTERVAL_MONTH, 12, 4,
	    "2032-02-29T00:00:00Z");
}
END_TEST

/*
 * Two-week periods from 2026-01-31 (1769817600): one period is
 * 2 * 604800 = 1209600 s, ending 1771027200 = 2026-02-14; two end 28 days
 * on, 2026-02-28 (no month clamping for weeks).
 */
START_TEST(week_count_two)
{
	int64_t	out;

	ck_assert_int_eq(bw_period_add(T_2026_01_31, BW_INTERVAL_WEEK, 2, 1,
	    &out), BW_OK);
	ck_assert_int_eq(out, 1771027200);
	check_add(T_2026_01_31, BW_INTERVAL_WEEK, 2, 1,
	    "2026-02-14T00:00:00Z");
	check_add(T_2026_01_31, BW_INTERVAL_WEEK, 2, 2,
	    "2026-02-28T00:00:00Z");
}
END_TEST

/*
 * 365 days from 2028-01-01: 2028 is a leap year of 366 days, so it ends on
 * 2028-12-31, not 2029-01-01: 1830297600 + 365 * 86400 = 1861833600.
 */
START_TEST(day_365_across_leap_year)
{
	int64_t	out;

	ck_assert_int_eq(bw_period_add(T_2028_01_01, BW_INTERVAL_DAY, 365, 1,
	    &out), BW_OK);
	ck_assert_int_eq(out, 1861833600);
	check_add(T_2028_01_01, BW_INTERVAL_DAY, 365, 1,
	    "2028-12-31T00:00:00Z");
	check_add(T_2028_01_01, BW_INTERVAL_DAY, 1, 1,
	    "2028-01-02T00:00:00Z");
}
END_TEST

/* December to January: 2026-12-15T08:00:00Z + 1 month = 2027-01-15T08:00. */
START_TEST(december_rolls_into_january)
{
	check_add(T_2026_12_15_08, BW_INTERVAL_MONTH, 1, 1,
	    "2027-01-15T08:00:00Z");
	check_add(T_2026_12_15_08, BW_INTERVAL_MONTH, 1, 2,
	    "2027-02-15T08:00:00Z");
}
END_TEST

/*
 * The time of day survives clamping: 2026-03-31T23:59:59Z monthly ends
 * 2026-04-30T23:59:59Z (30 days, clamp) and 2026-05-31T23:59:59Z, never
 * spilling into the next day.
 */
START_TEST(last_second_of_31st_keeps_time)
{
	check_add(T_2026_03_31_235959, BW_INTERVAL_MONTH, 1, 1,
	    "2026-04-30T23:59:59Z");
	check_add(T_2026_03_31_235959, BW_INTERVAL_MONTH, 1, 2,
	    "2026-05-31T23:59:59Z");
	check_add(T_2026_03_31_235959, BW_INTERVAL_MONTH, 1, 11,
	    "2027-02-28T23:59:59Z");
}
END_TEST

/*
 * Monthly from 2026-01-31: the first boundary is 2026-02-28 (1772236800).
 * A time one second before it is in [01-31, 02-28); the boundary itself
 * opens [02-28, 03-31) because periods are [start, end).
 */
START_TEST(containing_boundary_goes_to_next)
{
	int64_t	s, e;

	ck_assert_int_eq(bw_period_containing(T_2026_01_31, BW_INTERVAL_MONTH,
	    1, T_2026_02_28 - 1, &s, &e), BW_OK);
	ck_assert_int_eq(s, T_2026_01_31);
	ck_assert_int_eq(e, T_2026_02_28);

	ck_assert_int_eq(bw_period_containing(T_2026_01_31, BW_INTERVAL_MONTH,
	    1, T_2026_02_28, &s, &e), BW_OK);
	ck_assert_int_eq(s, T_2026_02_28);
	ck_assert_int_eq(e, 1774915200);	/* 2026-03-31, see above */

	/* The anchor itself starts period 1. */
	ck_assert_int_eq(bw_period_containing(T_2026_01_31, BW_INTERVAL_MONTH,
	    1, T_2026_01_31, &s, &e), BW_OK);
	ck_assert_int_eq(s, T_2026_01_31);
	ck_assert_int_eq(e, T_2026_02_28);

	/* Before the anchor there is no period. */
	ck_assert_int_eq(bw_period_containing(T_2026_01_31, BW_INTERVAL_MONTH,
	    1, T_2026_01_31 - 1, &s, &e), BW_ERROR);

	/*
	 * Weekly from 2026-01-31: 2026-02-07 (+604800) is a boundary and
	 * opens [02-07, 02-14).
	 */
	ck_assert_int_eq(bw_period_containing(T_2026_01_31, BW_INTERVAL_WEEK,
	    1, T_2026_01_31 + 604800, &s, &e), BW_OK);
	ck_assert_int_eq(s, T_2026_01_31 + 604800);
	ck_assert_int_eq(e, T_2026_01_31 + 2 * 604800);
}
END_TEST

/*
 * Containing, far from the anchor and inside a clamped month. Monthly from
 * 2028-01-31T10:20:30Z: 2028-02-29T10:20:29Z is the last second of the first
 * period; 2028-02-29T10:20:30Z opens the second. Ten years on,
 * 2038-02-28T12:00:00Z is after that month's clamped boundary
 * 2038-02-28T10:20:30Z, so its period is [2038-02-28T10:20:30Z,
 * 2038-03-31T10:20:30Z); 2038-02-28T09:00:00Z is still in the January one.
 */
START_TEST(containing_far_and_clamped)
{
	char	bs[32], be[32];
	int64_t	s, e, t;

	/* 2028-02-29T10:20:30Z = 1835395200 + 37230 = 1835432430. */
	t = T_2028_02_29 + 37230;
	ck_assert_int_eq(bw_period_containing(T_2028_01_31_102030,
	    BW_INTERVAL_MONTH, 1, t - 1, &s, &e), BW_OK);
	ck_assert_int_eq(s, T_2028_01_31_102030);
	ck_assert_int_eq(e, t);
	ck_assert_int_eq(bw_period_containing(T_2028_01_31_102030,
	    BW_INTERVAL_MONTH, 1, t, &s, &e), BW_OK);
	ck_assert_int_eq(s, t);

	/*
	 * 2038-02-28T00:00:00Z: 2028-01-01 is day 21184; 2028..2037 are ten
	 * years with leap years 2028, 2032, 2036: 3650 + 3 = 3653 days, so
	 * 2038-01-01 = day 24837 and 2038-02-28 = 24837 + 31 + 27 = 24895,
	 * 24895 * 86400 = 2150928000.
	 */
	t = (int64_t)2150928000 + 12 * 3600;
	ck_assert_int_eq(bw_period_containing(T_2028_01_31_102030,
	    BW_INTERVAL_MONTH, 1, t, &s, &e), BW_OK);
	bw_period_rfc3339(s, bs, sizeof(bs));
	bw_period_rfc3339(e, be, sizeof(be));
	ck_assert_str_eq(bs, "2038-02-28T10:20:30Z");
	ck_assert_str_eq(be, "2038-03-31T10:20:30Z");

	t = (int64_t)2150928000 + 9 * 3600;
	ck_assert_int_eq(bw_period_containing(T_2028_01_31_102030,
	    BW_INTERVAL_MONTH, 1, t, &s, &e), BW_OK);
	bw_period_rfc3339(s, bs, sizeof(bs));
	bw_period_rfc3339(e, be, sizeof(be));
	ck_assert_str_eq(bs, "2038-01-31T10:20:30Z");
	ck_assert_str_eq(be, "2038-02-28T10:20:30Z");

	/* Quarterly from 2026-11-30, 2027-03-01: [2027-02-28, 2027-05-30). */
	/* 2027-03-01 = 2027-01-01 (20454 + 365 = 20819) + 59 = 20878 days. */
	ck_assert_int_eq(bw_period_containing(T_2026_11_30, BW_INTERVAL_MONTH,
	    3, (int64_t)20878 * 86400, &s, &e), BW_OK);
	bw_period_rfc3339(s, bs, sizeof(bs));
	bw_period_rfc3339(e, be, sizeof(be));
	ck_assert_str_eq(bs, "2027-02-28T00:00:00Z");
	ck_assert_str_eq(be, "2027-05-30T00:00:00Z");
}
END_TEST

/* Every containing period is one of the add() periods and holds t. */
START_TEST(containing_agrees_with_add)
{
	int64_t	s = 0, e = 0, t, ps = 0, pe = 0;
	int	n, bad = 0;

	for (t = T_2028_01_31_102030; t < T_2028_01_31_102030 +
	    (int64_t)800 * 86400; t += 86400 / 2 + 7) {
		if (bw_period_containing(T_2028_01_31_102030,
		    BW_INTERVAL_MONTH, 1, t, &s, &e) != BW_OK)
			bad++;
		/* The naive way: walk the periods from the anchor. */
		for (n = 0; n < 30; n++) {
			if (bw_period_add(T_2028_01_31_102030,
			    BW_INTERVAL_MONTH, 1, n, &ps) != BW_OK ||
			    bw_period_add(T_2028_01_31_102030,
			    BW_INTERVAL_MONTH, 1, n + 1, &pe) != BW_OK)
				bad++;
			if (ps <= t && t < pe)
				break;
		}
		if (n == 30 || s != ps || e != pe || !(s <= t && t < e))
			bad++;
	}
	ck_assert_int_eq(bad, 0);
}
END_TEST

/* interval_count: at most one year in total (BILLING.md "Periods"). */
START_TEST(count_limits)
{
	ck_assert_int_eq(bw_period_count_valid(BW_INTERVAL_DAY, 1), 1);
	ck_assert_int_eq(bw_period_count_valid(BW_INTERVAL_DAY, 365), 1);
	ck_assert_int_eq(bw_period_count_valid(BW_INTERVAL_DAY, 366), 0);
	ck_assert_int_eq(bw_period_count_valid(BW_INTERVAL_DAY, 0), 0);
	ck_assert_int_eq(bw_period_count_valid(BW_INTERVAL_WEEK, 52), 1);
	ck_assert_int_eq(bw_period_count_valid(BW_INTERVAL_WEEK, 53), 0);
	ck_assert_int_eq(bw_period_count_valid(BW_INTERVAL_MONTH, 12), 1);
	ck_assert_int_eq(bw_period_count_valid(BW_INTERVAL_MONTH, 13), 0);
	ck_assert_int_eq(bw_period_count_valid(BW_INTERVAL_MONTH, -1), 0);
	ck_assert_int_eq(bw_period_count_valid(BW_INTERVAL_YEAR, 1), 1);
	ck_assert_int_eq(bw_period_count_valid(BW_INTERVAL_YEAR, 2), 0);
	ck_assert_int_eq(bw_period_count_valid((enum bw_interval)7, 1), 0);
}
END_TEST

START_TEST(interval_parse_exact_names)
{
	enum bw_interval	iv;

	ck_assert_int_eq(bw_period_interval_parse("day", &iv), BW_OK);
	ck_assert_int_eq(iv, BW_INTERVAL_DAY);
	ck_assert_int_eq(bw_period_interval_parse("week", &iv), BW_OK);
	ck_assert_int_eq(iv, BW_INTERVAL_WEEK);
	ck_assert_int_eq(bw_period_interval_parse("month", &iv), BW_OK);
	ck_assert_int_eq(iv, BW_INTERVAL_MONTH);
	ck_assert_int_eq(bw_period_interval_parse("year", &iv), BW_OK);
	ck_assert_int_eq(iv, BW_INTERVAL_YEAR);
	ck_assert_int_eq(bw_period_interval_parse("Month", &iv), BW_ERROR);
	ck_assert_int_eq(bw_period_interval_parse("months", &iv), BW_ERROR);
	ck_assert_int_eq(bw_period_interval_parse("", &iv), BW_ERROR);
	ck_assert_int_eq(bw_period_interval_parse(NULL, &iv), BW_ERROR);
	ck_assert_str_eq(bw_period_interval_name(BW_INTERVAL_WEEK), "week");
	ck_assert_str_eq(bw_period_interval_name((enum bw_interval)9), "");
}
END_TEST

/*
 * Out of range or malformed: 9999-12-01T00:00:00Z = (2932897 - 31) * 86400
 * = 253399622400 plus one month is year 10000; a day count that would pass
 * 9999; bad counts, n < 0 and times before 1970.
 */
START_TEST(add_rejects_out_of_range)
{
	int64_t	out, s, e;

	ck_assert_int_eq(bw_period_add(253399622400, BW_INTERVAL_MONTH, 1, 1,
	    &out), BW_ERROR);
	ck_assert_int_eq(bw_period_add(253399622400, BW_INTERVAL_DAY, 30, 1,
	    &out), BW_OK);
	ck_assert_int_eq(out, 253399622400 + 30 * 86400);	/* 12-31 */
	ck_assert_int_eq(bw_period_add(253399622400, BW_INTERVAL_DAY, 31, 1,
	    &out), BW_ERROR);
	ck_assert_int_eq(bw_period_add(0, BW_INTERVAL_WEEK, 52, 2147483647,
	    &out), BW_ERROR);
	ck_assert_int_eq(bw_period_add(0, BW_INTERVAL_YEAR, 1, 2147483647,
	    &out), BW_ERROR);
	ck_assert_int_eq(bw_period_add(0, BW_INTERVAL_YEAR, 2, 1, &out),
	    BW_ERROR);
	ck_assert_int_eq(bw_period_add(0, BW_INTERVAL_MONTH, 1, -1, &out),
	    BW_ERROR);
	ck_assert_int_eq(bw_period_add(-1, BW_INTERVAL_DAY, 1, 1, &out),
	    BW_ERROR);
	/* The period holding the last second would end in year 10000. */
	ck_assert_int_eq(bw_period_containing(0, BW_INTERVAL_MONTH, 1,
	    BW_PERIOD_TIME_MAX, &s, &e), BW_ERROR);
	ck_assert_int_eq(bw_period_containing(0, BW_INTERVAL_MONTH, 1,
	    BW_PERIOD_TIME_MAX + 1, &s, &e), BW_ERROR);
}
END_TEST

/*
 * Trial: 14 days from 2026-01-31 = 1769817600 + 14 * 86400 = 1769817600 +
 * 1209600 = 1771027200 (2026-02-14); 0 days is no trial.
 */
START_TEST(trial_end_adds_days)
{
	ck_assert_int_eq(bw_period_trial_end(T_2026_01_31, 14), 1771027200);
	ck_assert_int_eq(bw_period_trial_end(T_2026_01_31, 0), T_2026_01_31);
	/* 730 days, the API maximum: 730 * 86400 = 63072000. */
	ck_assert_int_eq(bw_period_trial_end(T_2026_01_31, 730),
	    T_2026_01_31 + 63072000);
}
END_TEST

/*
 * Fractions: [0, 100) changed at 25 leaves 75/100. A February 2026 month
 * [02-28, 03-31) is 31 * 86400 = 2678400 s; a change 10 days in leaves
 * 21 * 86400 = 1814400 s of it. t = s is the whole period, t = e none
 * (an error: the period is over).
 */
START_TEST(fraction_unused_share)
{
	int64_t	num, den;

	ck_assert_int_eq(bw_period_fraction(0, 100, 25, &num, &den), BW_OK);
	ck_assert_int_eq(num, 75);
	ck_assert_int_eq(den, 100);

	ck_assert_int_eq(bw_period_fraction(T_2026_02_28, 1774915200,
	    T_2026_02_28 + 10 * 86400, &num, &den), BW_OK);
	ck_assert_int_eq(num, 1814400);
	ck_assert_int_eq(den, 2678400);

	ck_assert_int_eq(bw_period_fraction(10, 20, 10, &num, &den), BW_OK);
	ck_assert_int_eq(num, 10);
	ck_assert_int_eq(den, 10);
	ck_assert_int_eq(bw_period_fraction(10, 20, 20, &num, &den),
	    BW_ERROR);
	ck_assert_int_eq(bw_period_fraction(10, 20, 9, &num, &den), BW_ERROR);
	ck_assert_int_eq(bw_period_fraction(20, 20, 20, &num, &den),
	    BW_ERROR);
	ck_assert_int_eq(bw_period_fraction(20, 10, 15, &num, &den),
	    BW_ERROR);
}
END_TEST

Suite *
suite_period(void)
{
	Suite	*s = suite_create("period");
	TCase	*tc = tcase_create("period");

	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, rfc3339_formats_known_times);
	tcase_add_test(tc, calendar_matches_naive_walk);
	tcase_add_test(tc, month_end_clamps_leap_year);
	tcase_add_test(tc, month_end_clamps_common_year);
	tcase_add_test(tc, month_anchor_30th);
	tcase_add_test(tc, year_from_leap_day);
	tcase_add_test(tc, month_count_three);
	tcase_add_test(tc, twelve_months_is_a_year);
	tcase_add_test(tc, week_count_two);
	tcase_add_test(tc, day_365_across_leap_year);
	tcase_add_test(tc, december_rolls_into_january);
	tcase_add_test(tc, last_second_of_31st_keeps_time);
	tcase_add_test(tc, containing_boundary_goes_to_next);
	tcase_add_test(tc, containing_far_and_clamped);
	tcase_add_test(tc, containing_agrees_with_add);
	tcase_add_test(tc, count_limits);
	tcase_add_test(tc, interval_parse_exact_names);
	tcase_add_test(tc, add_rejects_out_of_range);
	tcase_add_test(tc, trial_end_adds_days);
	tcase_add_test(tc, fraction_unused_share);
	suite_add_tcase(s, tc);
	return s;
}
