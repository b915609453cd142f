/*
 * Unit tests for the analytics plugin's money arithmetic (plugins/
 * analytics/mrr.c, API.md "Analytics"): a plan's MRR as one exact fraction
 * rounded half-up once, half-up division, and four-place rate strings.
 * Every expected value is worked out by hand in the comment beside it.
 */
#include <stdint.h>
#include <string.h>

#include "../../plugins/analytics/analytics.h"
#include "test_list.h"

static int64_t
mrr(int64_t amount, int64_t quantity, const char *interval, int64_t count)
{
	int64_t	v = -1;

	ck_assert_int_eq(mrr_monthly(amount, quantity, interval, count, &v),
	    BILLOW_OK);
	return v;
}

/* A month is itself: 2999 × 1 = 2999; × 4 = 11,996. */
START_TEST(mrr_month_is_the_amount)
{
	ck_assert_int_eq(mrr(2999, 1, "month", 1), 2999);
	ck_assert_int_eq(mrr(2999, 4, "month", 1), 11996);
}
END_TEST

/*
 * Year ÷ 12: 10,000 / 12 = 833.33… → 833; × 2: 20,000 / 12 = 1666.66… →
 * 1667; 1014 / 12 = 84.5 exactly → 85 (half-up).
 */
START_TEST(mrr_year_divides_by_twelve)
{
	ck_assert_int_eq(mrr(10000, 1, "year", 1), 833);
	ck_assert_int_eq(mrr(10000, 2, "year", 1), 1667);
	ck_assert_int_eq(mrr(1014, 1, "year", 1), 85);
}
END_TEST

/*
 * Week × 52 ÷ 12: 1000 × 52 = 52,000; / 12 = 4333.33… → 4333. Day × 365
 * ÷ 12: 100 × 365 = 36,500; / 12 = 3041.66… → 3042. One fraction, rounded
 * once: 3 × 7 weekly (21 × 52 = 1092; / 12 = 91 exactly), where rounding
 * each unit first would give 3 × round(7 × 52 / 12 = 30.33) = 90.
 */
START_TEST(mrr_week_and_day)
{
	ck_assert_int_eq(mrr(1000, 1, "week", 1), 4333);
	ck_assert_int_eq(mrr(100, 1, "day", 1), 3042);
	ck_assert_int_eq(mrr(7, 3, "week", 1), 91);
}
END_TEST

/*
 * ÷ interval_count: 2000 every 3 months = 666.66… → 667; 12,000 every 2
 * years = 12,000 / 24 = 500; 1000 every 2 weeks = 52,000 / 24 = 2166.66…
 * → 2167.
 */
START_TEST(mrr_interval_count)
{
	ck_assert_int_eq(mrr(2000, 1, "month", 3), 667);
	ck_assert_int_eq(mrr(12000, 1, "year", 2), 500);
	ck_assert_int_eq(mrr(1000, 1, "week", 2), 2167);
}
END_TEST

/* Bad input is an error, never a guess; the result must fit int64_t. */
START_TEST(mrr_rejects_bad_input)
{
	int64_t	v;

	ck_assert_int_eq(mrr_monthly(1000, 1, "fortnight", 1, &v),
	    BILLOW_ERROR);
	ck_assert_int_eq(mrr_monthly(1000, 0, "month", 1, &v), BILLOW_ERROR);
	ck_assert_int_eq(mrr_monthly(1000, 1, "month", 0, &v), BILLOW_ERROR);
	ck_assert_int_eq(mrr_monthly(-1, 1, "month", 1, &v), BILLOW_ERROR);
	/* INT64_MAX × 365 / 12 is about 2.8e20: beyond int64_t. */
	ck_assert_int_eq(mrr_monthly(INT64_MAX, 1, "day", 1, &v),
	    BILLOW_ERROR);
	/* 0 is a price too: a free plan has no MRR. */
	ck_assert_int_eq(mrr(0, 5, "year", 1), 0);
}
END_TEST

/* 5 / 2 = 2.5 → 3; 7 / 3 = 2.33… → 2; 8 / 3 = 2.66… → 3; 0 / 5 = 0. */
START_TEST(mrr_div_round_half_up)
{
	ck_assert_int_eq(mrr_div_round(5, 2), 3);
	ck_assert_int_eq(mrr_div_round(7, 3), 2);
	ck_assert_int_eq(mrr_div_round(8, 3), 3);
	ck_assert_int_eq(mrr_div_round(0, 5), 0);
}
END_TEST

/*
 * Four places, half-up: 1/40 = 0.025 → "0.0250"; 1/3 = 0.33333… →
 * "0.3333"; 2/3 = 0.66666… → "0.6667"; 1/20,000 = 0.00005 → "0.0001";
 * 3/3 → "1.0000"; a zero base → "0.0000".
 */
START_TEST(mrr_rate_strings)
{
	char	buf[32];

	mrr_rate_format(1, 40, buf, sizeof(buf));
	ck_assert_str_eq(buf, "0.0250");
	mrr_rate_format(1, 3, buf, sizeof(buf));
	ck_assert_str_eq(buf, "0.3333");
	mrr_rate_format(2, 3, buf, sizeof(buf));
	ck_assert_str_eq(buf, "0.6667");
	mrr_rate_format(1, 20000, buf, sizeof(buf));
	ck_assert_str_eq(buf, "0.0001");
	mrr_rate_format(3, 3, buf, sizeof(buf));
	ck_assert_str_eq(buf, "1.0000");
	mrr_rate_format(1, 0, buf, sizeof(buf));
	ck_assert_str_eq(buf, "0.0000");
}
END_TEST

Suite *
suite_mrr(void)
{
	Suite	*s = suite_create("mrr");
	TCase	*tc = tcase_create("mrr");

	tcase_add_test(tc, mrr_month_is_the_amount);
	tcase_add_test(tc, mrr_year_divides_by_twelve);
	tcase_add_test(tc, mrr_week_and_day);
	tcase_add_test(tc, mrr_interval_count);
	tcase_add_test(tc, mrr_rejects_bad_input);
	tcase_add_test(tc, mrr_div_round_half_up);
	tcase_add_test(tc, mrr_rate_strings);
	suite_add_tcase(s, tc);
	return s;
}
