/*
 * Unit tests for the proration plugin's arithmetic (plugins/proration/
 * prorate.c, BILLING.md "Changes mid-period"): half-up rounding on the
 * exact value, a credit as the negation of a rounded positive value,
 * 128-bit intermediates, and the lines one change owes. Every expected
 * value is worked out by hand in the comment beside it.
 */
#include <stdint.h>
#include <string.h>

#include "../../plugins/proration/prorate.h"
#include "test_list.h"

#define DAY		86400LL
#define MONTH31		(31 * DAY)	/* 2,678,400 s */
#define YEAR365		(365 * DAY)	/* 31,536,000 s */
#define YEAR366		(366 * DAY)	/* 31,622,400 s */

/* A change context of Basic (1000 × 3) to Pro (2999 × 5) in [s, e). */
static void
ctx_init(struct billow_change_ctx *c, const char *behavior, int64_t s,
    int64_t e, int64_t t)
{
	memset(c, 0, sizeof(*c));
	c->subscription_id = "sub_test";
	c->currency = "USD";
	c->proration_behavior = behavior;
	c->at = t;
	c->period_start = s;
	c->period_end = e;
	c->old_plan_name = "Basic";
	c->old_unit_amount = 1000;
	c->old_quantity = 3;
	c->new_plan_name = "Pro";
	c->new_unit_amount = 2999;
	c->new_quantity = 5;
}

/* 2999 × 1 × 1 / 2 = 1499.5 exactly: half-up gives 1500. */
START_TEST(round_exact_half_goes_up)
{
	int64_t	v = -1;

	ck_assert_int_eq(prorate_round(2999, 1, 1, 2, &v), BILLOW_OK);
	ck_assert_int_eq(v, 1500);
	/* 1 × 1 × 1 / 2 = 0.5 → 1; 1 × 1 × 1 / 3 = 0.333… → 0. */
	ck_assert_int_eq(prorate_round(1, 1, 1, 2, &v), BILLOW_OK);
	ck_assert_int_eq(v, 1);
	ck_assert_int_eq(prorate_round(1, 1, 1, 3, &v), BILLOW_OK);
	ck_assert_int_eq(v, 0);
	/* 1000 × 1 × 2 / 3 = 666.666… → 667 (above half). */
	ck_assert_int_eq(prorate_round(1000, 1, 2, 3, &v), BILLOW_OK);
	ck_assert_int_eq(v, 667);
}
END_TEST

/*
 * An odd case over a 31-day month: 1999 × 3 = 5997, 1,234,567 s of
 * 2,678,400 left. 5997 × 1,234,567 = 7,403,698,299; 2,678,400 × 2764 =
 * 7,403,097,600, remainder 600,699 < 1,339,200 (half the divisor): 2764.
 */
START_TEST(round_odd_month)
{
	int64_t	v = -1;

	ck_assert_int_eq(prorate_round(1999, 3, 1234567, MONTH31, &v),
	    BILLOW_OK);
	ck_assert_int_eq(v, 2764);
	/* The whole period is the whole amount; none of it is 0. */
	ck_assert_int_eq(prorate_round(1999, 3, MONTH31, MONTH31, &v),
	    BILLOW_OK);
	ck_assert_int_eq(v, 5997);
	ck_assert_int_eq(prorate_round(1999, 3, 0, MONTH31, &v), BILLOW_OK);
	ck_assert_int_eq(v, 0);
}
END_TEST

/*
 * 99,999,999 × 1,000,000 × 31,535,999 = 3,153,599,868,464,001,000,000,
 * about 3.2 × 10^21, beyond 2^64 ≈ 1.8 × 10^19: only a 128-bit product
 * gets it right. Divided by 31,536,000 it is 99,999,999,000,000 −
 * 99,999,999,000,000 / 31,536,000 = 99,999,999,000,000 − 3,170,979.1666…
 * = 99,999,995,829,020.8333… → 99,999,995,829,021.
 */
START_TEST(round_needs_128_bits)
{
	int64_t	v = -1;

	ck_assert_int_eq(prorate_round(99999999, 1000000, YEAR365 - 1,
	    YEAR365, &v), BILLOW_OK);
	ck_assert_int_eq(v, 99999995829021LL);
	/* Half a leap year, 15,811,200 of 31,622,400 s: 49,999,999,500,000. */
	ck_assert_int_eq(prorate_round(99999999, 1000000, YEAR366 / 2,
	    YEAR366, &v), BILLOW_OK);
	ck_assert_int_eq(v, 49999999500000LL);
	/*
	 * One second of a leap year: 99,999,999,000,000 / 31,622,400 =
	 * 3,162,315.289… (31,622,400 × 3,162,315 = 99,999,989,856,000,
	 * remainder 9,144,000 < 15,811,200) → 3,162,315.
	 */
	ck_assert_int_eq(prorate_round(99999999, 1000000, 1, YEAR366, &v),
	    BILLOW_OK);
	ck_assert_int_eq(v, 3162315);
}
END_TEST

START_TEST(round_rejects_bad_input)
{
	int64_t	v = 42;

	ck_assert_int_eq(prorate_round(-1, 1, 1, 2, &v), BILLOW_ERROR);
	ck_assert_int_eq(prorate_round(1, -1, 1, 2, &v), BILLOW_ERROR);
	ck_assert_int_eq(prorate_round(1, 1, -1, 2, &v), BILLOW_ERROR);
	ck_assert_int_eq(prorate_round(1, 1, 1, 0, &v), BILLOW_ERROR);
	/* More time left than the period has. */
	ck_assert_int_eq(prorate_round(1, 1, 3, 2, &v), BILLOW_ERROR);
	/* A result beyond int64_t: (2^62)² × 1 / 1. */
	ck_assert_int_eq(prorate_round(INT64_C(1) << 62, INT64_C(1) << 62, 1,
	    1, &v), BILLOW_ERROR);
	ck_assert_int_eq(v, 42);
}
END_TEST

/*
 * Credit versus charge rounding at an exact half: old 2999 × 1, new
 * 1001 × 1, 1 s left of 2. The credit is -round(1499.5) = -1500 (not
 * round(-1499.5) = -1499); the charge round(500.5) = 501.
 */
START_TEST(lines_credit_negates_rounded_value)
{
	struct billow_change_ctx	c;

	ctx_init(&c, "create_prorations", 100, 102, 101);
	c.old_unit_amount = 2999;
	c.old_quantity = 1;
	c.new_unit_amount = 1001;
	c.new_quantity = 1;
	ck_assert_int_eq(prorate_lines(&c), BILLOW_OK);
	ck_assert_int_eq(c.nlines, 2);
	ck_assert_int_eq(c.lines[0].amount, -1500);
	ck_assert_int_eq(c.lines[1].amount, 501);
}
END_TEST

/*
 * An upgrade 12,345 s into a 31-day month starting at s = 1,704,067,200
 * (2024-01-01T00:00:00Z): 2,666,055 s left of 2,678,400.
 * Credit: 1000 × 3 = 3000; 3000 × 2,666,055 = 7,998,165,000; / 2,678,400
 * = 2986.17… (2,678,400 × 2986 = 7,997,702,400, remainder 462,600 <
 * 1,339,200) → -2986.
 * Charge: 2999 × 5 = 14,995; 14,995 × 2,666,055 = 39,977,494,725;
 * 2,678,400 × 14,926 = 39,977,798,400 is too much, × 14,925 =
 * 39,975,120,000, remainder 2,374,725 >= 1,339,200 (half) → 14,926.
 */
START_TEST(lines_upgrade_in_order)
{
	struct billow_change_ctx	c;
	int64_t				s = 1704067200, t = s + 12345;

	ctx_init(&c, "create_prorations", s, s + MONTH31, t);
	ck_assert_int_eq(prorate_lines(&c), BILLOW_OK);
	ck_assert_int_eq(c.nlines, 2);
	ck_assert_str_eq(c.lines[0].kind, "proration");
	ck_assert_str_eq(c.lines[0].description,
	    "Unused time on Basic \xc3\x97 3");
	ck_assert_int_eq(c.lines[0].amount, -2986);
	ck_assert_int_eq(c.lines[0].unit_amount, 1000);
	ck_assert_int_eq(c.lines[0].quantity, 3);
	ck_assert_int_eq(c.lines[0].period_start, t);
	ck_assert_int_eq(c.lines[0].period_end, s + MONTH31);
	ck_assert_str_eq(c.lines[1].kind, "proration");
	ck_assert_str_eq(c.lines[1].description,
	    "Remaining time on Pro \xc3\x97 5");
	ck_assert_int_eq(c.lines[1].amount, 14926);
	ck_assert_int_eq(c.lines[1].unit_amount, 2999);
	ck_assert_int_eq(c.lines[1].quantity, 5);
	ck_assert_int_eq(c.lines[1].period_start, t);
	ck_assert_int_eq(c.lines[1].period_end, s + MONTH31);
}
END_TEST

/* Lines already there (another handler's) are kept; ours follow. */
START_TEST(lines_append_after_others)
{
	struct billow_change_ctx	c;

	ctx_init(&c, "always_invoice", 0, 2, 1);
	c.nlines = 1;
	c.lines[0].amount = 7;
	ck_assert_int_eq(prorate_lines(&c), BILLOW_OK);
	ck_assert_int_eq(c.nlines, 3);
	ck_assert_int_eq(c.lines[0].amount, 7);
	/* 3000 × 1/2 = 1500; 14,995 × 1/2 = 7497.5 → 7498. */
	ck_assert_int_eq(c.lines[1].amount, -1500);
	ck_assert_int_eq(c.lines[2].amount, 7498);

	/* No room for two more: nothing is appended. */
	ctx_init(&c, "create_prorations", 0, 2, 1);
	c.nlines = BILLOW_LINES_MAX - 1;
	ck_assert_int_eq(prorate_lines(&c), BILLOW_ERROR);
	ck_assert_int_eq(c.nlines, BILLOW_LINES_MAX - 1);
}
END_TEST

/* none: the new price from the next period on, no lines. */
START_TEST(lines_none_owes_nothing)
{
	struct billow_change_ctx	c;

	ctx_init(&c, "none", 0, MONTH31, DAY);
	ck_assert_int_eq(prorate_lines(&c), BILLOW_OK);
	ck_assert_int_eq(c.nlines, 0);
}
END_TEST

/*
 * Another interval: only the credit, and whatever the behavior says
 * (BILLING.md). 10 days left of 31: 3000 × 10 / 31 = 967.74… → -968.
 */
START_TEST(lines_interval_change_credits_only)
{
	struct billow_change_ctx	c;
	const char			*behaviors[] = { "create_prorations",
	    "always_invoice", "none" };
	size_t				i;

	for (i = 0; i < 3; i++) {
		ctx_init(&c, behaviors[i], 0, MONTH31, 21 * DAY);
		c.interval_changed = 1;
		ck_assert_int_eq(prorate_lines(&c), BILLOW_OK);
		ck_assert_int_eq(c.nlines, 1);
		ck_assert_str_eq(c.lines[0].description,
		    "Unused time on Basic \xc3\x97 3");
		ck_assert_int_eq(c.lines[0].amount, -968);
		ck_assert_int_eq(c.lines[0].period_start, 21 * DAY);
	}
}
END_TEST

/* At or after e nothing of the period is left; before s all of it. */
START_TEST(lines_outside_the_period)
{
	struct billow_change_ctx	c;

	ctx_init(&c, "create_prorations", 1000, 2000, 2000);
	ck_assert_int_eq(prorate_lines(&c), BILLOW_OK);
	ck_assert_int_eq(c.nlines, 0);
	ctx_init(&c, "create_prorations", 1000, 2000, 500);
	ck_assert_int_eq(prorate_lines(&c), BILLOW_OK);
	ck_assert_int_eq(c.nlines, 2);
	/* The whole 3000 and 14,995, over [s, e). */
	ck_assert_int_eq(c.lines[0].amount, -3000);
	ck_assert_int_eq(c.lines[1].amount, 14995);
	ck_assert_int_eq(c.lines[0].period_start, 1000);
}
END_TEST

/* Amounts and quantities outside BILLING.md's bounds are refused. */
START_TEST(lines_reject_bad_amounts)
{
	struct billow_change_ctx	c;

	ctx_init(&c, "create_prorations", 0, 10, 5);
	c.new_unit_amount = 100000000;	/* one more than 99,999,999 */
	ck_assert_int_eq(prorate_lines(&c), BILLOW_ERROR);
	ctx_init(&c, "create_prorations", 0, 10, 5);
	c.old_quantity = 0;
	ck_assert_int_eq(prorate_lines(&c), BILLOW_ERROR);
	ctx_init(&c, "create_prorations", 10, 10, 10);	/* empty period */
	ck_assert_int_eq(prorate_lines(&c), BILLOW_ERROR);
	ck_assert_int_eq(c.nlines, 0);
}
END_TEST

Suite *
suite_proration(void)
{
	Suite	*s = suite_create("proration");
	TCase	*tc = tcase_create("arithmetic");

	tcase_add_test(tc, round_exact_half_goes_up);
	tcase_add_test(tc, round_odd_month);
	tcase_add_test(tc, round_needs_128_bits);
	tcase_add_test(tc, round_rejects_bad_input);
	suite_add_tcase(s, tc);
	tc = tcase_create("lines");
	tcase_add_test(tc, lines_credit_negates_rounded_value);
	tcase_add_test(tc, lines_upgrade_in_order);
	tcase_add_test(tc, lines_append_after_others);
	tcase_add_test(tc, lines_none_owes_nothing);
	tcase_add_test(tc, lines_interval_change_credits_only);
	tcase_add_test(tc, lines_outside_the_period);
	tcase_add_test(tc, lines_reject_bad_amounts);
	suite_add_tcase(s, tc);
	return s;
}
