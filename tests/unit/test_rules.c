/*
 * Unit tests for src/billing/rules.c: BILLING.md's customer balance rule,
 * the dunning retry schedule, the trial_will_end time and the usage span
 * of an invoice. Every expected value is worked out by hand beside it.
 */
#include <stdint.h>

#include "billing/rules.h"
#include "core/core.h"
#include "test_list.h"

#define D	86400LL

/*
 * Balance -500 (a 5.00 credit), total 2999: used = min(500, 2999) = 500,
 * due = 2999 - 500 = 2499, ending = -500 + 500 = 0.
 */
START_TEST(balance_credit_partly_covers)
{
	int64_t	due, end;

	ck_assert_int_eq(bw_rule_balance(2999, -500, &due, &end), BW_OK);
	ck_assert_int_eq(due, 2499);
	ck_assert_int_eq(end, 0);
}
END_TEST

/*
 * Balance -5000, total 2999: used = min(5000, 2999) = 2999, due 0,
 * ending = -5000 + 2999 = -2001 (credit left over).
 */
START_TEST(balance_credit_covers_all)
{
	int64_t	due, end;

	ck_assert_int_eq(bw_rule_balance(2999, -5000, &due, &end), BW_OK);
	ck_assert_int_eq(due, 0);
	ck_assert_int_eq(end, -2001);
}
END_TEST

/*
 * A negative total -1448 (a downgrade's credit) with balance -100: due 0,
 * ending = -100 + -1448 = -1548. A zero total changes nothing.
 */
START_TEST(balance_negative_total_becomes_credit)
{
	int64_t	due, end;

	ck_assert_int_eq(bw_rule_balance(-1448, -100, &due, &end), BW_OK);
	ck_assert_int_eq(due, 0);
	ck_assert_int_eq(end, -1548);
	ck_assert_int_eq(bw_rule_balance(0, -7, &due, &end), BW_OK);
	ck_assert_int_eq(due, 0);
	ck_assert_int_eq(end, -7);
}
END_TEST

/* No credit: balance 0, total 1000: used 0, due 1000, ending 0. */
START_TEST(balance_none)
{
	int64_t	due, end;

	ck_assert_int_eq(bw_rule_balance(1000, 0, &due, &end), BW_OK);
	ck_assert_int_eq(due, 1000);
	ck_assert_int_eq(end, 0);
}
END_TEST

/* A positive balance (a debt) never exists; overflow is refused. */
START_TEST(balance_rejects_debt_and_overflow)
{
	int64_t	due, end;

	ck_assert_int_eq(bw_rule_balance(100, 1, &due, &end), BW_ERROR);
	ck_assert_int_eq(bw_rule_balance(INT64_MIN, -1, &due, &end),
	    BW_ERROR);
	ck_assert_int_eq(bw_rule_balance(5, INT64_MIN, &due, &end), BW_ERROR);
}
END_TEST

/*
 * Default schedule {1,3,5,7} from a first failure at F = 1,714,564,800
 * (2024-05-01T12:00:00Z): after the first attempt (now = F) the next is
 * F + 1 d = 1,714,651,200; after the retry at F + 1 d it is F + 3 d =
 * 1,714,824,000; after the one at F + 7 d none is left (-1).
 */
START_TEST(retry_schedule_default)
{
	static const int	days[] = { 1, 3, 5, 7 };
	const int64_t		f = 1714564800;

	ck_assert_int_eq(bw_rule_next_retry(f, days, 4, f), 1714651200);
	ck_assert_int_eq(bw_rule_next_retry(f, days, 4, f + D), 1714824000);
	ck_assert_int_eq(bw_rule_next_retry(f, days, 4, f + 5 * D),
	    f + 7 * D);
	ck_assert_int_eq(bw_rule_next_retry(f, days, 4, f + 7 * D), -1);
}
END_TEST

/*
 * Offsets are from the first failure, not from the last attempt: a
 * manual attempt at F + 2 d + 5 h leaves the next retry at F + 3 d. With
 * no retries configured there is never a next one.
 */
START_TEST(retry_schedule_fixed_offsets)
{
	static const int	days[] = { 2, 4 };
	const int64_t		f = 1000000;

	ck_assert_int_eq(bw_rule_next_retry(f, days, 2, f + 2 * D + 5 * 3600),
	    f + 4 * D);
	ck_assert_int_eq(bw_rule_next_retry(f, days, 2, f + D), f + 2 * D);
	ck_assert_int_eq(bw_rule_next_retry(f, days, 0, f), -1);
}
END_TEST

START_TEST(retry_days_parse)
{
	int	d[BW_DUNNING_MAX_RETRIES], n;

	ck_assert_int_eq(bw_rule_parse_days("{1,3,5,7}", d, &n), BW_OK);
	ck_assert_int_eq(n, 4);
	ck_assert_int_eq(d[0], 1);
	ck_assert_int_eq(d[3], 7);
	ck_assert_int_eq(bw_rule_parse_days("{60}", d, &n), BW_OK);
	ck_assert_int_eq(n, 1);
	ck_assert_int_eq(d[0], 60);
	ck_assert_int_eq(bw_rule_parse_days("{}", d, &n), BW_OK);
	ck_assert_int_eq(n, 0);
	/* Not increasing, out of 1..60, too many, malformed. */
	ck_assert_int_eq(bw_rule_parse_days("{3,3}", d, &n), BW_ERROR);
	ck_assert_int_eq(bw_rule_parse_days("{0}", d, &n), BW_ERROR);
	ck_assert_int_eq(bw_rule_parse_days("{61}", d, &n), BW_ERROR);
	ck_assert_int_eq(bw_rule_parse_days("{1,2,3,4,5}", d, &n), BW_ERROR);
	ck_assert_int_eq(bw_rule_parse_days("{1,}", d, &n), BW_ERROR);
	ck_assert_int_eq(bw_rule_parse_days("1,2", d, &n), BW_ERROR);
	ck_assert_int_eq(bw_rule_parse_days("{1} ", d, &n), BW_ERROR);
	ck_assert_int_eq(bw_rule_parse_days(NULL, d, &n), BW_ERROR);
}
END_TEST

/*
 * A 10-day trial from S = 1,709,251,200 (2024-03-01) ends S + 10 d; the
 * notice is due 3 days before: S + 7 d = 1,709,856,000 (2024-03-08). A
 * 2-day trial's notice would fall before its start: it is due at S.
 */
START_TEST(trial_notice_time)
{
	const int64_t	s = 1709251200;

	ck_assert_int_eq(bw_rule_trial_notice(s + 10 * D, s), 1709856000);
	ck_assert_int_eq(bw_rule_trial_notice(s + 2 * D, s), s);
	ck_assert_int_eq(bw_rule_trial_notice(s + 3 * D, s), s);
}
END_TEST

/*
 * A period [1000, 5000): usage from 1000 when nothing was billed yet
 * (billed_until 1000, or older: 400); from 2500 after a pause at 2500
 * moved [1000, 2500) into pending items.
 */
START_TEST(usage_span_from)
{
	ck_assert_int_eq(bw_rule_usage_from(1000, 1000), 1000);
	ck_assert_int_eq(bw_rule_usage_from(1000, 400), 1000);
	ck_assert_int_eq(bw_rule_usage_from(1000, 2500), 2500);
}
END_TEST

Suite *
suite_rules(void)
{
	Suite	*s = suite_create("rules");
	TCase	*tc = tcase_create("rules");

	tcase_add_test(tc, balance_credit_partly_covers);
	tcase_add_test(tc, balance_credit_covers_all);
	tcase_add_test(tc, balance_negative_total_becomes_credit);
	tcase_add_test(tc, balance_none);
	tcase_add_test(tc, balance_rejects_debt_and_overflow);
	tcase_add_test(tc, retry_schedule_default);
	tcase_add_test(tc, retry_schedule_fixed_offsets);
	tcase_add_test(tc, retry_days_parse);
	tcase_add_test(tc, trial_notice_time);
	tcase_add_test(tc, usage_span_from);
	suite_add_tcase(s, tc);
	return s;
}
