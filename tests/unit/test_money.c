/*
 * Unit tests for src/billing/money.c: currencies, amount_decimal, half-up
 * rounding, proration, fees, decimal unit prices and the usage models.
 * Every expected value is worked out by hand in the comment beside it.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "core/core.h"
#include "billing/money.h"
#include "test_list.h"

START_TEST(currency_lookup_any_case)
{
	char	up[4];
	int	e;

	ck_assert_int_eq(bw_money_currency("usd", up, &e), BW_OK);
	ck_assert_str_eq(up, "USD");
	ck_assert_int_eq(e, 2);
	ck_assert_int_eq(bw_money_currency("jpy", up, &e), BW_OK);
	ck_assert_str_eq(up, "JPY");
	ck_assert_int_eq(e, 0);
	ck_assert_int_eq(bw_money_currency("KwD", up, &e), BW_OK);
	ck_assert_str_eq(up, "KWD");
	ck_assert_int_eq(e, 3);
	ck_assert_int_eq(bw_money_currency("clf", up, &e), BW_OK);
	ck_assert_int_eq(e, 4);
	ck_assert_int_eq(bw_money_currency("EUR", NULL, NULL), BW_OK);
}
END_TEST

START_TEST(currency_rejects_unknown_and_malformed)
{
	char	up[4] = "zzz";
	int	e = 99;

	ck_assert_int_eq(bw_money_currency("ABC", up, &e), BW_ERROR);
	ck_assert_int_eq(bw_money_currency("US", up, &e), BW_ERROR);
	ck_assert_int_eq(bw_money_currency("usdd", up, &e), BW_ERROR);
	ck_assert_int_eq(bw_money_currency("U$D", up, &e), BW_ERROR);
	ck_assert_int_eq(bw_money_currency("", up, &e), BW_ERROR);
	ck_assert_int_eq(bw_money_currency(" usd", up, &e), BW_ERROR);
	ck_assert_int_eq(bw_money_currency(NULL, up, &e), BW_ERROR);
	/* Withdrawn (HRK 2023) and no minor unit (XAU gold, XXX). */
	ck_assert_int_eq(bw_money_currency("HRK", up, &e), BW_ERROR);
	ck_assert_int_eq(bw_money_currency("XAU", up, &e), BW_ERROR);
	ck_assert_int_eq(bw_money_currency("XXX", up, &e), BW_ERROR);
	/* Outputs untouched on failure. */
	ck_assert_str_eq(up, "zzz");
	ck_assert_int_eq(e, 99);
}
END_TEST

/*
 * ISO 4217 list one, code and exponent, typed from the standard (not from
 * the table): every one must be found, which also proves the table sorted
 * for bsearch from end to end.
 */
static const char *iso_codes =
    "AED2 AFN2 ALL2 AMD2 ANG2 AOA2 ARS2 AUD2 AWG2 AZN2 BAM2 BBD2 BDT2 BGN2 "
    "BHD3 BIF0 BMD2 BND2 BOB2 BOV2 BRL2 BSD2 BTN2 BWP2 BYN2 BZD2 CAD2 CDF2 "
    "CHE2 CHF2 CHW2 CLF4 CLP0 CNY2 COP2 COU2 CRC2 CUP2 CVE2 CZK2 DJF0 DKK2 "
    "DOP2 DZD2 EGP2 ERN2 ETB2 EUR2 FJD2 FKP2 GBP2 GEL2 GHS2 GIP2 GMD2 GNF0 "
    "GTQ2 GYD2 HKD2 HNL2 HTG2 HUF2 IDR2 ILS2 INR2 IQD3 IRR2 ISK0 JMD2 JOD3 "
    "JPY0 KES2 KGS2 KHR2 KMF0 KPW2 KRW0 KWD3 KYD2 KZT2 LAK2 LBP2 LKR2 LRD2 "
    "LSL2 LYD3 MAD2 MDL2 MGA2 MKD2 MMK2 MNT2 MOP2 MRU2 MUR2 MVR2 MWK2 MXN2 "
    "MXV2 MYR2 MZN2 NAD2 NGN2 NIO2 NOK2 NPR2 NZD2 OMR3 PAB2 PEN2 PGK2 PHP2 "
    "PKR2 PLN2 PYG0 QAR2 RON2 RSD2 RUB2 RWF0 SAR2 SBD2 SCR2 SDG2 SEK2 SGD2 "
    "SHP2 SLE2 SOS2 SRD2 SSP2 STN2 SVC2 SYP2 SZL2 THB2 TJS2 TMT2 TND3 TOP2 "
    "TRY2 TTD2 TWD2 TZS2 UAH2 UGX0 USD2 USN2 UYI0 UYU2 UYW4 UZS2 VED2 VES2 "
    "VND0 VUV0 WST2 XAD2 XAF0 XCD2 XCG2 XOF0 XPF0 YER2 ZAR2 ZMW2 ZWG2";

START_TEST(currency_table_holds_every_iso_code)
{
	const char	*p;
	char		 code[4], up[4];
	int		 e, n = 0;

	for (p = iso_codes; *p != '\0'; p += (p[4] == ' ') ? 5 : 4) {
		memcpy(code, p, 3);
		code[3] = '\0';
		ck_assert_msg(bw_money_currency(code, up, &e) == BW_OK,
		    "%s not found", code);
		ck_assert_msg(e == p[3] - '0', "%s exponent %d", code, e);
		n++;
	}
	/* 11 full rows of 14 codes + 13 in the last = 167. */
	ck_assert_int_eq(n, 167);
}
END_TEST

struct parse_case {
	const char	*s;
	int		 exponent;
	int		 allow_negative;
	int		 rc;
	int64_t		 want;
};

START_TEST(parse_decimal_table)
{
	static const struct parse_case cases[] = {
		/* 29.99 USD = 29 × 100 + 99 = 2999 cents. */
		{ "29.99", 2, 0, BW_OK, 2999 },
		/* One decimal is fine: 29.9 = 2990 cents. */
		{ "29.9", 2, 0, BW_OK, 2990 },
		{ "29", 2, 0, BW_OK, 2900 },
		{ "500", 0, 0, BW_OK, 500 },
		/* KWD has 3 decimals: 1.234 = 1234 fils. */
		{ "1.234", 3, 0, BW_OK, 1234 },
		{ "1.2345", 4, 0, BW_OK, 12345 },
		{ "007.50", 2, 0, BW_OK, 750 },
		{ "0", 2, 0, BW_OK, 0 },
		{ "0.05", 2, 0, BW_OK, 5 },
		{ "000000000000000000000001", 0, 0, BW_OK, 1 },
		{ "-1.25", 2, 1, BW_OK, -125 },
		{ "-0", 2, 1, BW_OK, 0 },
		/* The limit: 999,999,999,999.99 = 99,999,999,999,999 cents. */
		{ "999999999999.99", 2, 0, BW_OK, 99999999999999LL },
		{ "-999999999999.99", 2, 1, BW_OK, -99999999999999LL },
		{ "99999999999999", 0, 0, BW_OK, 99999999999999LL },
		/* More decimals than the currency has: 400. */
		{ "29.999", 2, 0, BW_ERROR, 0 },
		{ "29.990", 2, 0, BW_ERROR, 0 },
		{ "1.5", 0, 0, BW_ERROR, 0 },
		{ "1.0", 0, 0, BW_ERROR, 0 },
		{ "1.50", 0, 0, BW_ERROR, 0 },
		{ "1.2345", 3, 0, BW_ERROR, 0 },
		/* Shapes that are not amount_decimal. */
		{ "", 2, 0, BW_ERROR, 0 },
		{ "1.", 2, 0, BW_ERROR, 0 },
		{ ".5", 2, 0, BW_ERROR, 0 },
		{ "+1", 2, 0, BW_ERROR, 0 },
		{ " 1", 2, 0, BW_ERROR, 0 },
		{ "1 ", 2, 0, BW_ERROR, 0 },
		{ "1e2", 2, 0, BW_ERROR, 0 },
		{ "1..2", 2, 0, BW_ERROR, 0 },
		{ "1,00", 2, 0, BW_ERROR, 0 },
		{ "0x10", 2, 0, BW_ERROR, 0 },
		{ "-", 2, 1, BW_ERROR, 0 },
		{ "--1", 2, 1, BW_ERROR, 0 },
		{ "-.5", 2, 1, BW_ERROR, 0 },
		/* Negatives only when allowed. */
		{ "-1.25", 2, 0, BW_ERROR, 0 },
		/* 1,000,000,000,000.00 = 10^14 cents, one past the limit. */
		{ "1000000000000.00", 2, 0, BW_ERROR, 0 },
		{ "1000000000000", 2, 0, BW_ERROR, 0 },
		{ "100000000000000", 0, 0, BW_ERROR, 0 },
		/* Past int64_t altogether. */
		{ "99999999999999999999999", 0, 0, BW_ERROR, 0 },
	};
	size_t	i;
	int64_t	v;

	for (i = 0; i < BW_NELEM(cases); i++) {
		v = 424242;
		ck_assert_msg(bw_money_parse_decimal(cases[i].s,
		    cases[i].exponent, cases[i].allow_negative, &v) ==
		    cases[i].rc, "case \"%s\" exp %d", cases[i].s,
		    cases[i].exponent);
		if (cases[i].rc == BW_OK)
			ck_assert_msg(v == cases[i].want, "\"%s\" gave %lld",
			    cases[i].s, (long long)v);
		else
			ck_assert_int_eq(v, 424242);
	}
	/* An exponent outside ISO's 0..4 is a caller bug. */
	ck_assert_int_eq(bw_money_parse_decimal("1", 5, 0, &v), BW_ERROR);
	ck_assert_int_eq(bw_money_parse_decimal("1", -1, 0, &v), BW_ERROR);
	ck_assert_int_eq(bw_money_parse_decimal(NULL, 2, 0, &v), BW_ERROR);
}
END_TEST

START_TEST(format_decimal_and_round_trip)
{
	static const int64_t	 values[] = { 0, 1, 5, 99, 100, 2999, 12345,
	    -1, -125, 99999999999999LL, -99999999999999LL };
	char			 out[BW_MONEY_DECIMAL_MAX], small[3];
	size_t			 i;
	int			 e;
	int64_t			 back;

	bw_money_format_decimal(2999, 2, out, sizeof(out));
	ck_assert_str_eq(out, "29.99");
	bw_money_format_decimal(500, 0, out, sizeof(out));
	ck_assert_str_eq(out, "500");
	bw_money_format_decimal(5, 2, out, sizeof(out));
	ck_assert_str_eq(out, "0.05");
	bw_money_format_decimal(-125, 2, out, sizeof(out));
	ck_assert_str_eq(out, "-1.25");
	bw_money_format_decimal(-5, 2, out, sizeof(out));
	ck_assert_str_eq(out, "-0.05");
	bw_money_format_decimal(1000, 3, out, sizeof(out));
	ck_assert_str_eq(out, "1.000");
	bw_money_format_decimal(0, 2, out, sizeof(out));
	ck_assert_str_eq(out, "0.00");
	bw_money_format_decimal(12345, 4, out, sizeof(out));
	ck_assert_str_eq(out, "1.2345");
	bw_money_format_decimal(0, 0, out, sizeof(out));
	ck_assert_str_eq(out, "0");
	bw_money_format_decimal(INT64_MIN, 0, out, sizeof(out));
	ck_assert_str_eq(out, "-9223372036854775808");
	/* Truncated to the buffer, still terminated. */
	bw_money_format_decimal(2999, 2, small, sizeof(small));
	ck_assert_str_eq(small, "29");

	/* format then parse gives the same minor units, every exponent. */
	for (e = 0; e <= BW_MONEY_EXPONENT_MAX; e++) {
		for (i = 0; i < BW_NELEM(values); i++) {
			bw_money_format_decimal(values[i], e, out, sizeof(out));
			ck_assert_int_eq(bw_money_parse_decimal(out, e, 1,
			    &back), BW_OK);
			ck_assert_int_eq(back, values[i]);
		}
	}
}
END_TEST

START_TEST(round_half_up_at_exactly_half)
{
	int64_t	v;

	/* 5 / 2 = 2.5 → 3; 7 / 2 = 3.5 → 4 (half-up, not to even). */
	ck_assert_int_eq(bw_money_mul_div_round(5, 1, 1, 2, &v), BW_OK);
	ck_assert_int_eq(v, 3);
	ck_assert_int_eq(bw_money_mul_div_round(7, 1, 1, 2, &v), BW_OK);
	ck_assert_int_eq(v, 4);
	/* 1 / 3 = 0.33 → 0; 2 / 3 = 0.67 → 1. */
	ck_assert_int_eq(bw_money_mul_div_round(1, 1, 1, 3, &v), BW_OK);
	ck_assert_int_eq(v, 0);
	ck_assert_int_eq(bw_money_mul_div_round(2, 1, 1, 3, &v), BW_OK);
	ck_assert_int_eq(v, 1);
	/* 2 × 3 × 5 / 4 = 30 / 4 = 7.5 → 8. */
	ck_assert_int_eq(bw_money_mul_div_round(2, 3, 5, 4, &v), BW_OK);
	ck_assert_int_eq(v, 8);
	/* Zero numerator is 0. */
	ck_assert_int_eq(bw_money_mul_div_round(0, 3, 5, 4, &v), BW_OK);
	ck_assert_int_eq(v, 0);
	/* Negative inputs and d <= 0 are refused. */
	ck_assert_int_eq(bw_money_mul_div_round(-1, 1, 1, 2, &v), BW_ERROR);
	ck_assert_int_eq(bw_money_mul_div_round(1, -1, 1, 2, &v), BW_ERROR);
	ck_assert_int_eq(bw_money_mul_div_round(1, 1, -1, 2, &v), BW_ERROR);
	ck_assert_int_eq(bw_money_mul_div_round(1, 1, 1, 0, &v), BW_ERROR);
	ck_assert_int_eq(bw_money_mul_div_round(1, 1, 1, -2, &v), BW_ERROR);
}
END_TEST

START_TEST(fee_rounds_half_up)
{
	int64_t	fee;

	/* 2999 × 15% = 2999 × 1500 / 10000 = 4,498,500 / 10000 = 449.85 → 450. */
	ck_assert_int_eq(bw_money_fee(2999, 1500, &fee), BW_OK);
	ck_assert_int_eq(fee, 450);
	/* 1001 × 1500 / 10000 = 1,501,500 / 10000 = 150.15 → 150. */
	ck_assert_int_eq(bw_money_fee(1001, 1500, &fee), BW_OK);
	ck_assert_int_eq(fee, 150);
	/* 3 × 5000 / 10000 = 1.5 → 2. */
	ck_assert_int_eq(bw_money_fee(3, 5000, &fee), BW_OK);
	ck_assert_int_eq(fee, 2);
	/* 1 × 5000 / 10000 = 0.5 → 1; 1 × 4999 / 10000 = 0.4999 → 0. */
	ck_assert_int_eq(bw_money_fee(1, 5000, &fee), BW_OK);
	ck_assert_int_eq(fee, 1);
	ck_assert_int_eq(bw_money_fee(1, 4999, &fee), BW_OK);
	ck_assert_int_eq(fee, 0);
	/* 0% is 0, 100% is the whole amount. */
	ck_assert_int_eq(bw_money_fee(2999, 0, &fee), BW_OK);
	ck_assert_int_eq(fee, 0);
	ck_assert_int_eq(bw_money_fee(2999, 10000, &fee), BW_OK);
	ck_assert_int_eq(fee, 2999);
	ck_assert_int_eq(bw_money_fee(-1, 1500, &fee), BW_ERROR);
	ck_assert_int_eq(bw_money_fee(100, 10001, &fee), BW_ERROR);
	ck_assert_int_eq(bw_money_fee(100, -1, &fee), BW_ERROR);
}
END_TEST

START_TEST(fee_percentage_parses_to_basis_points)
{
	int64_t	bps, fee;

	/* "15.00" with two decimals is 1500 bps; "2.5" is 250 bps. */
	ck_assert_int_eq(bw_money_parse_decimal("15.00", 2, 0, &bps), BW_OK);
	ck_assert_int_eq(bps, 1500);
	ck_assert_int_eq(bw_money_parse_decimal("2.5", 2, 0, &bps), BW_OK);
	ck_assert_int_eq(bps, 250);
	/* 1000 × 2.5% = 1000 × 250 / 10000 = 25 exactly. */
	ck_assert_int_eq(bw_money_fee(1000, bps, &fee), BW_OK);
	ck_assert_int_eq(fee, 25);
}
END_TEST

START_TEST(prorate_thirty_day_month_half_rounds_up)
{
	int64_t	v;

	/*
	 * 30 days = 30 × 86,400 = 2,592,000 s; half left = 1,296,000 s.
	 * 2999 × 1 × 1,296,000 / 2,592,000 = 2999 / 2 = 1499.5 → 1500.
	 */
	ck_assert_int_eq(bw_money_prorate(2999, 1, 1296000, 2592000, &v),
	    BW_OK);
	ck_assert_int_eq(v, 1500);
	/* The credit is -round(1499.5) = -1500, not round(-1499.5). */
	ck_assert_int_eq(bw_money_credit(2999, 1, 1296000, 2592000, &v),
	    BW_OK);
	ck_assert_int_eq(v, -1500);
}
END_TEST

START_TEST(prorate_one_second_left_of_31_days)
{
	int64_t	v;

	/*
	 * 31 days = 31 × 86,400 = 2,678,400 s. 10,000 × 3 × 1 / 2,678,400
	 * = 30,000 / 2,678,400 = 0.0112 → 0.
	 */
	ck_assert_int_eq(bw_money_prorate(10000, 3, 1, 2678400, &v), BW_OK);
	ck_assert_int_eq(v, 0);
	/* -round(0.0112) = -0, which is 0: no credit line. */
	ck_assert_int_eq(bw_money_credit(10000, 3, 1, 2678400, &v), BW_OK);
	ck_assert_int_eq(v, 0);
	/* The whole period left is the whole amount: 10,000 × 3 = 30,000. */
	ck_assert_int_eq(bw_money_prorate(10000, 3, 2678400, 2678400, &v),
	    BW_OK);
	ck_assert_int_eq(v, 30000);
	/* Nothing left is 0; more left than the period, or no period, fails. */
	ck_assert_int_eq(bw_money_prorate(10000, 3, 0, 2678400, &v), BW_OK);
	ck_assert_int_eq(v, 0);
	ck_assert_int_eq(bw_money_prorate(10000, 3, 2678401, 2678400, &v),
	    BW_ERROR);
	ck_assert_int_eq(bw_money_prorate(10000, 3, 0, 0, &v), BW_ERROR);
	ck_assert_int_eq(bw_money_credit(10000, 3, -1, 2678400, &v),
	    BW_ERROR);
}
END_TEST

START_TEST(prorate_needs_128_bit_intermediates)
{
	int64_t	v;

	/*
	 * Leap year = 366 × 86,400 = 31,622,400 s. The largest unit amount
	 * and quantity: 99,999,999 × 1,000,000 = 99,999,999,000,000, times
	 * 31,622,400 ≈ 3.16 × 10^21 > 2^63 ≈ 9.22 × 10^18, so 64 bits would
	 * overflow; the exact result is 99,999,999,000,000.
	 */
	ck_assert_int_eq(bw_money_prorate(99999999, 1000000, 31622400,
	    31622400, &v), BW_OK);
	ck_assert_int_eq(v, 99999999000000LL);
	/* Half the year: 99,999,999,000,000 / 2 = 49,999,999,500,000. */
	ck_assert_int_eq(bw_money_prorate(99999999, 1000000, 15811200,
	    31622400, &v), BW_OK);
	ck_assert_int_eq(v, 49999999500000LL);
	/*
	 * One second left: 31,622,400 × 3,162,315 = 99,999,989,856,000, so
	 * 99,999,999,000,000 / 31,622,400 = 3,162,315 remainder 9,144,000,
	 * under half of 31,622,400 (15,811,200): rounds down to 3,162,315.
	 */
	ck_assert_int_eq(bw_money_prorate(99999999, 1000000, 1, 31622400,
	    &v), BW_OK);
	ck_assert_int_eq(v, 3162315);
	ck_assert_int_eq(bw_money_credit(99999999, 1000000, 1, 31622400,
	    &v), BW_OK);
	ck_assert_int_eq(v, -3162315);
}
END_TEST

START_TEST(mul_div_round_overflow_fails)
{
	int64_t	v;

	/* (2^63 - 1)^3 is past 2^128: refused, not wrapped. */
	ck_assert_int_eq(bw_money_mul_div_round(INT64_MAX, INT64_MAX,
	    INT64_MAX, 1, &v), BW_ERROR);
	/* (2^63 - 1) × 2 = 2^64 - 2 fits 128 bits but not int64_t. */
	ck_assert_int_eq(bw_money_mul_div_round(INT64_MAX, 2, 1, 1, &v),
	    BW_ERROR);
	/* ... and divided by 2 again it is exactly INT64_MAX. */
	ck_assert_int_eq(bw_money_mul_div_round(INT64_MAX, 2, 1, 2, &v),
	    BW_OK);
	ck_assert_int_eq(v, INT64_MAX);
	/* (2^63 - 1)^2 / (2^63 - 1) = 2^63 - 1, exact in 128 bits. */
	ck_assert_int_eq(bw_money_mul_div_round(INT64_MAX, INT64_MAX, 1,
	    INT64_MAX, &v), BW_OK);
	ck_assert_int_eq(v, INT64_MAX);
}
END_TEST

START_TEST(unit_decimal_rounds_once_per_line)
{
	struct bw_unit_price	p;
	int64_t			v;

	/* 0.035 × 1000 = 35 exactly. */
	ck_assert_int_eq(bw_money_parse_unit_decimal("0.035", &p), BW_OK);
	ck_assert_int_eq(bw_money_unit_total(&p, 1000, &v), BW_OK);
	ck_assert_int_eq(v, 35);
	/* 0.035 × 15 = 0.525 → 1. */
	ck_assert_int_eq(bw_money_unit_total(&p, 15, &v), BW_OK);
	ck_assert_int_eq(v, 1);
	/* 0.035 × 0 = 0. */
	ck_assert_int_eq(bw_money_unit_total(&p, 0, &v), BW_OK);
	ck_assert_int_eq(v, 0);
	/* 0.0049 × 100 = 0.49 → 0. */
	ck_assert_int_eq(bw_money_parse_unit_decimal("0.0049", &p), BW_OK);
	ck_assert_int_eq(bw_money_unit_total(&p, 100, &v), BW_OK);
	ck_assert_int_eq(v, 0);
	/* 12.5 × 3 = 37.5 → 38. */
	ck_assert_int_eq(bw_money_parse_unit_decimal("12.5", &p), BW_OK);
	ck_assert_int_eq(bw_money_unit_total(&p, 3, &v), BW_OK);
	ck_assert_int_eq(v, 38);
	/* 12 decimals: 10^-12 × 5 × 10^11 = 0.5 → 1, × (5 × 10^11 - 1) → 0. */
	ck_assert_int_eq(bw_money_parse_unit_decimal("0.000000000001", &p),
	    BW_OK);
	ck_assert_int_eq(bw_money_unit_total(&p, 500000000000LL, &v), BW_OK);
	ck_assert_int_eq(v, 1);
	ck_assert_int_eq(bw_money_unit_total(&p, 499999999999LL, &v), BW_OK);
	ck_assert_int_eq(v, 0);
	/* 7 (no decimals) × 6 = 42. */
	ck_assert_int_eq(bw_money_parse_unit_decimal("7", &p), BW_OK);
	ck_assert_int_eq(bw_money_unit_total(&p, 6, &v), BW_OK);
	ck_assert_int_eq(v, 42);
	/* The largest price × the largest quantity: 99,999,999,000,000. */
	ck_assert_int_eq(bw_money_parse_unit_decimal("99999999", &p), BW_OK);
	ck_assert_int_eq(bw_money_unit_total(&p, 1000000, &v), BW_OK);
	ck_assert_int_eq(v, 99999999000000LL);
	/* 99,999,999 × (2^63 - 1) is past int64_t; negative q is refused. */
	ck_assert_int_eq(bw_money_unit_total(&p, INT64_MAX, &v), BW_ERROR);
	ck_assert_int_eq(bw_money_unit_total(&p, -1, &v), BW_ERROR);
	/* 99,999,998.999999999999 × 10^6 = 99,999,998,999,999.999999 → */
	/* 99,999,999,000,000 (the .999999 rounds up). */
	ck_assert_int_eq(bw_money_parse_unit_decimal(
	    "99999998.999999999999", &p), BW_OK);
	ck_assert_int_eq(bw_money_unit_total(&p, 1000000, &v), BW_OK);
	ck_assert_int_eq(v, 99999999000000LL);
}
END_TEST

START_TEST(unit_decimal_parse_rejects_bad_shapes)
{
	static const char	*bad[] = {
		"", ".5", "1.", "-1", "+1", "1e3", " 1", "1 ", "0x1", "1..2",
		"0.0000000000001",		/* 13 decimals */
		"100000000",			/* past 99,999,999 */
		"99999999.5",			/* past 99,999,999 too */
		"99999999.000000000001",
		"999999999999999999999999",
	};
	struct bw_unit_price	 p = { 1, 2, 3 };
	size_t			 i;

	for (i = 0; i < BW_NELEM(bad); i++)
		ck_assert_msg(bw_money_parse_unit_decimal(bad[i], &p) ==
		    BW_ERROR, "\"%s\" accepted", bad[i]);
	ck_assert_int_eq(p.whole, 1);
	ck_assert_int_eq(p.frac, 2);
	ck_assert_int_eq(p.decimals, 3);
	ck_assert_int_eq(bw_money_parse_unit_decimal(NULL, &p), BW_ERROR);
	/* The edge itself is fine: 99,999,999.000 and 0. */
	ck_assert_int_eq(bw_money_parse_unit_decimal("99999999.000", &p),
	    BW_OK);
	ck_assert_int_eq(bw_money_parse_unit_decimal("0", &p), BW_OK);
}
END_TEST

START_TEST(unit_decimal_formats_as_given)
{
	static const char	*same[] = { "0.035", "12.5", "7", "0",
	    "0.000000000001", "99999998.999999999990", "1.50", "0.100" };
	struct bw_unit_price	 p;
	char			 out[BW_MONEY_DECIMAL_MAX];
	size_t			 i;

	for (i = 0; i < BW_NELEM(same); i++) {
		ck_assert_int_eq(bw_money_parse_unit_decimal(same[i], &p),
		    BW_OK);
		bw_money_format_unit_decimal(&p, out, sizeof(out));
		ck_assert_str_eq(out, same[i]);
	}
	/* Leading zeros go: "007.50" is 7.50 with its two decimals. */
	ck_assert_int_eq(bw_money_parse_unit_decimal("007.50", &p), BW_OK);
	bw_money_format_unit_decimal(&p, out, sizeof(out));
	ck_assert_str_eq(out, "7.50");
	/* 0.035 is whole 0, frac 0.035 × 10^12 = 35,000,000,000. */
	ck_assert_int_eq(bw_money_parse_unit_decimal("0.035", &p), BW_OK);
	ck_assert_int_eq(p.whole, 0);
	ck_assert_int_eq(p.frac, 35000000000LL);
	ck_assert_int_eq(p.decimals, 3);
}
END_TEST

/* Tiers used in the examples: 1..100 @ 10 + 500, 101..1000 @ 8, rest @ 5. */
static const struct bw_tier tiers[] = {
	{ .up_to = 100, .unit_amount = 10, .flat_amount = 500 },
	{ .up_to = 1000, .unit_amount = 8, .flat_amount = 0 },
	{ .up_to = BW_TIER_INF, .unit_amount = 5, .flat_amount = 0 },
};

static int64_t
usage(enum bw_charge_model model, int64_t units)
{
	struct bw_charge	c;
	int64_t			v = -4242;

	memset(&c, 0, sizeof(c));
	c.model = model;
	c.tiers = tiers;
	c.ntiers = BW_NELEM(tiers);
	ck_assert_int_eq(bw_money_usage(&c, units, &v), BW_OK);
	return v;
}

START_TEST(usage_graduated_sums_each_tier)
{
	/* 150 = 100 in tier 1 + 50 in tier 2: 100×10 + 500 + 50×8 = 1900. */
	ck_assert_int_eq(usage(BW_CHARGE_GRADUATED, 150), 1900);
	/* 100 fills tier 1 only: 100×10 + 500 = 1500. */
	ck_assert_int_eq(usage(BW_CHARGE_GRADUATED, 100), 1500);
	/* 1: 1×10 + 500 = 510. */
	ck_assert_int_eq(usage(BW_CHARGE_GRADUATED, 1), 510);
	/* 1500: 100×10 + 500 + 900×8 + 500×5 = 1000+500+7200+2500 = 11200. */
	ck_assert_int_eq(usage(BW_CHARGE_GRADUATED, 1500), 11200);
}
END_TEST

START_TEST(usage_graduated_flat_only_when_a_unit_falls_in)
{
	static const struct bw_tier	flat[] = {
		{ .up_to = 100, .unit_amount = 10, .flat_amount = 500 },
		{ .up_to = BW_TIER_INF, .unit_amount = 8, .flat_amount = 300 },
	};
	struct bw_charge		c;
	int64_t				v;

	memset(&c, 0, sizeof(c));
	c.model = BW_CHARGE_GRADUATED;
	c.tiers = flat;
	c.ntiers = BW_NELEM(flat);
	/* 100: tier 2 holds no unit, so no 300: 100×10 + 500 = 1500. */
	ck_assert_int_eq(bw_money_usage(&c, 100, &v), BW_OK);
	ck_assert_int_eq(v, 1500);
	/* 101: 100×10 + 500 + 1×8 + 300 = 1808. */
	ck_assert_int_eq(bw_money_usage(&c, 101, &v), BW_OK);
	ck_assert_int_eq(v, 1808);
}
END_TEST

START_TEST(usage_volume_prices_all_units_at_one_tier)
{
	/* 150 is in tier 2: 150×8 + 0 = 1200. */
	ck_assert_int_eq(usage(BW_CHARGE_VOLUME, 150), 1200);
	/* 100 is in tier 1 (inclusive up_to): 100×10 + 500 = 1500. */
	ck_assert_int_eq(usage(BW_CHARGE_VOLUME, 100), 1500);
	/* 101 is in tier 2: 101×8 = 808. */
	ck_assert_int_eq(usage(BW_CHARGE_VOLUME, 101), 808);
	/* 1001 is in the last tier: 1001×5 = 5005. */
	ck_assert_int_eq(usage(BW_CHARGE_VOLUME, 1001), 5005);
	/* 1: 1×10 + 500 = 510. */
	ck_assert_int_eq(usage(BW_CHARGE_VOLUME, 1), 510);
}
END_TEST

START_TEST(usage_package_rounds_packages_up)
{
	struct bw_charge	c;
	int64_t			v;

	memset(&c, 0, sizeof(c));
	c.model = BW_CHARGE_PACKAGE;
	c.package_size = 100;
	c.unit_amount = 500;
	/* 201 units = ceil(2.01) = 3 packages × 500 = 1500. */
	ck_assert_int_eq(bw_money_usage(&c, 201, &v), BW_OK);
	ck_assert_int_eq(v, 1500);
	/* 200 = exactly 2 packages = 1000; 1 = 1 package = 500. */
	ck_assert_int_eq(bw_money_usage(&c, 200, &v), BW_OK);
	ck_assert_int_eq(v, 1000);
	ck_assert_int_eq(bw_money_usage(&c, 1, &v), BW_OK);
	ck_assert_int_eq(v, 500);
	/* A decimal package price: 25 units / 10 = 3 packages × 0.5 = 1.5 → 2. */
	c.package_size = 10;
	c.has_decimal = 1;
	ck_assert_int_eq(bw_money_parse_unit_decimal("0.5", &c.unit_decimal),
	    BW_OK);
	ck_assert_int_eq(bw_money_usage(&c, 25, &v), BW_OK);
	ck_assert_int_eq(v, 2);
	/* INT64_MAX units in packages of INT64_MAX: exactly 1 × 7 = 7. */
	c.has_decimal = 0;
	c.package_size = INT64_MAX;
	c.unit_amount = 7;
	ck_assert_int_eq(bw_money_usage(&c, INT64_MAX, &v), BW_OK);
	ck_assert_int_eq(v, 7);
	c.package_size = 0;
	ck_assert_int_eq(bw_money_usage(&c, 5, &v), BW_ERROR);
}
END_TEST

START_TEST(usage_standard_integer_and_decimal)
{
	struct bw_charge	c;
	int64_t			v;

	memset(&c, 0, sizeof(c));
	c.model = BW_CHARGE_STANDARD;
	c.unit_amount = 10;
	/* 30 × 10 = 300. */
	ck_assert_int_eq(bw_money_usage(&c, 30, &v), BW_OK);
	ck_assert_int_eq(v, 300);
	/* Decimal price rounded once: 0.035 × 15 = 0.525 → 1. */
	c.has_decimal = 1;
	ck_assert_int_eq(bw_money_parse_unit_decimal("0.035", &c.unit_decimal),
	    BW_OK);
	ck_assert_int_eq(bw_money_usage(&c, 15, &v), BW_OK);
	ck_assert_int_eq(v, 1);
	/* 0.035 × 1000 = 35. */
	ck_assert_int_eq(bw_money_usage(&c, 1000, &v), BW_OK);
	ck_assert_int_eq(v, 35);
}
END_TEST

START_TEST(usage_zero_units_cost_nothing)
{
	struct bw_charge	c;
	int64_t			v;

	/* Graduated and volume tier 1 carry flat 500: still 0 at q = 0. */
	ck_assert_int_eq(usage(BW_CHARGE_GRADUATED, 0), 0);
	ck_assert_int_eq(usage(BW_CHARGE_VOLUME, 0), 0);
	memset(&c, 0, sizeof(c));
	c.model = BW_CHARGE_STANDARD;
	c.unit_amount = 10;
	v = -1;
	ck_assert_int_eq(bw_money_usage(&c, 0, &v), BW_OK);
	ck_assert_int_eq(v, 0);
	c.model = BW_CHARGE_PACKAGE;
	c.package_size = 100;
	v = -1;
	ck_assert_int_eq(bw_money_usage(&c, 0, &v), BW_OK);
	ck_assert_int_eq(v, 0);
	/* A negative aggregate bills nothing either. */
	v = -1;
	ck_assert_int_eq(bw_money_usage(&c, -5, &v), BW_OK);
	ck_assert_int_eq(v, 0);
}
END_TEST

START_TEST(usage_free_units_come_off_first)
{
	struct bw_charge	c;
	int64_t			v, q;

	memset(&c, 0, sizeof(c));
	c.model = BW_CHARGE_STANDARD;
	c.unit_amount = 10;
	c.free_units = 50;
	/* 30 - 50 is below 0, so 0 units: 0. */
	ck_assert_int_eq(bw_money_billable_units(&c, 30, &q), BW_OK);
	ck_assert_int_eq(q, 0);
	ck_assert_int_eq(bw_money_usage(&c, 30, &v), BW_OK);
	ck_assert_int_eq(v, 0);
	/* 80 - 50 = 30 units × 10 = 300; the line's quantity is 30. */
	ck_assert_int_eq(bw_money_billable_units(&c, 80, &q), BW_OK);
	ck_assert_int_eq(q, 30);
	ck_assert_int_eq(bw_money_usage(&c, 80, &v), BW_OK);
	ck_assert_int_eq(v, 300);
	/* Graduated after 50 free: 200 - 50 = 150 → 1900 as above. */
	c.model = BW_CHARGE_GRADUATED;
	c.tiers = tiers;
	c.ntiers = BW_NELEM(tiers);
	ck_assert_int_eq(bw_money_usage(&c, 200, &v), BW_OK);
	ck_assert_int_eq(v, 1900);
	c.free_units = -1;
	ck_assert_int_eq(bw_money_usage(&c, 200, &v), BW_ERROR);
}
END_TEST

START_TEST(usage_overflow_fails)
{
	static const struct bw_tier	big[] = {
		{ .up_to = 10, .unit_amount = 1, .flat_amount = INT64_MAX - 5 },
		{ .up_to = BW_TIER_INF, .unit_amount = 99999999,
		  .flat_amount = 0 },
	};
	struct bw_charge		c;
	int64_t				v;

	memset(&c, 0, sizeof(c));
	c.model = BW_CHARGE_STANDARD;
	c.unit_amount = 99999999;
	/* 99,999,999 × (2^63 - 1) does not fit. */
	ck_assert_int_eq(bw_money_usage(&c, INT64_MAX, &v), BW_ERROR);
	c.model = BW_CHARGE_PACKAGE;
	c.package_size = 1;
	ck_assert_int_eq(bw_money_usage(&c, INT64_MAX, &v), BW_ERROR);

	c.model = BW_CHARGE_GRADUATED;
	c.tiers = big;
	c.ntiers = BW_NELEM(big);
	/* 5 units: 5×1 + (2^63 - 1 - 5) = 2^63 - 1, just fits. */
	ck_assert_int_eq(bw_money_usage(&c, 5, &v), BW_OK);
	ck_assert_int_eq(v, INT64_MAX);
	/* 6 units: one past it. */
	ck_assert_int_eq(bw_money_usage(&c, 6, &v), BW_ERROR);
	/* 11 units: tier 2's 1 × 99,999,999 on top of ~2^63. */
	ck_assert_int_eq(bw_money_usage(&c, 11, &v), BW_ERROR);
	c.model = BW_CHARGE_VOLUME;
	ck_assert_int_eq(bw_money_usage(&c, 6, &v), BW_ERROR);
	ck_assert_int_eq(bw_money_usage(&c, INT64_MAX, &v), BW_ERROR);
}
END_TEST

START_TEST(usage_rejects_bad_charges)
{
	static const struct bw_tier	unsorted[] = {
		{ .up_to = 100, .unit_amount = 1, .flat_amount = 0 },
		{ .up_to = 100, .unit_amount = 1, .flat_amount = 0 },
		{ .up_to = BW_TIER_INF, .unit_amount = 1, .flat_amount = 0 },
	};
	static const struct bw_tier	inf_first[] = {
		{ .up_to = BW_TIER_INF, .unit_amount = 1, .flat_amount = 0 },
		{ .up_to = 100, .unit_amount = 1, .flat_amount = 0 },
	};
	static const struct bw_tier	short_tiers[] = {
		{ .up_to = 100, .unit_amount = 1, .flat_amount = 0 },
		{ .up_to = 1000, .unit_amount = 2, .flat_amount = 0 },
	};
	static const struct bw_tier	negative[] = {
		{ .up_to = BW_TIER_INF, .unit_amount = -1, .flat_amount = 0 },
	};
	struct bw_charge		c;
	int64_t				v;

	memset(&c, 0, sizeof(c));
	c.model = BW_CHARGE_GRADUATED;
	ck_assert_int_eq(bw_money_usage(&c, 1, &v), BW_ERROR);	/* none */
	c.tiers = unsorted;
	c.ntiers = BW_NELEM(unsorted);
	ck_assert_int_eq(bw_money_usage(&c, 1, &v), BW_ERROR);
	c.tiers = inf_first;
	c.ntiers = BW_NELEM(inf_first);
	ck_assert_int_eq(bw_money_usage(&c, 1, &v), BW_ERROR);
	c.tiers = negative;
	c.ntiers = BW_NELEM(negative);
	ck_assert_int_eq(bw_money_usage(&c, 1, &v), BW_ERROR);
	/* Tiers that stop at 1000: 1000 is billed, 1001 is not. */
	c.tiers = short_tiers;
	c.ntiers = BW_NELEM(short_tiers);
	/* 1000: 100×1 + 900×2 = 1900. */
	ck_assert_int_eq(bw_money_usage(&c, 1000, &v), BW_OK);
	ck_assert_int_eq(v, 1900);
	ck_assert_int_eq(bw_money_usage(&c, 1001, &v), BW_ERROR);
	c.model = BW_CHARGE_VOLUME;
	ck_assert_int_eq(bw_money_usage(&c, 1001, &v), BW_ERROR);
	c.model = BW_CHARGE_STANDARD;
	c.unit_amount = -1;
	ck_assert_int_eq(bw_money_usage(&c, 1, &v), BW_ERROR);
	c.model = (enum bw_charge_model)42;
	ck_assert_int_eq(bw_money_usage(&c, 1, &v), BW_ERROR);
}
END_TEST

Suite *
suite_money(void)
{
	Suite	*s = suite_create("money");
	TCase	*tc = tcase_create("money");

	tcase_add_test(tc, currency_lookup_any_case);
	tcase_add_test(tc, currency_rejects_unknown_and_malformed);
	tcase_add_test(tc, currency_table_holds_every_iso_code);
	tcase_add_test(tc, parse_decimal_table);
	tcase_add_test(tc, format_decimal_and_round_trip);
	tcase_add_test(tc, round_half_up_at_exactly_half);
	tcase_add_test(tc, fee_rounds_half_up);
	tcase_add_test(tc, fee_percentage_parses_to_basis_points);
	tcase_add_test(tc, prorate_thirty_day_month_half_rounds_up);
	tcase_add_test(tc, prorate_one_second_left_of_31_days);
	tcase_add_test(tc, prorate_needs_128_bit_intermediates);
	tcase_add_test(tc, mul_div_round_overflow_fails);
	tcase_add_test(tc, unit_decimal_rounds_once_per_line);
	tcase_add_test(tc, unit_decimal_parse_rejects_bad_shapes);
	tcase_add_test(tc, unit_decimal_formats_as_given);
	tcase_add_test(tc, usage_graduated_sums_each_tier);
	tcase_add_test(tc, usage_graduated_flat_only_when_a_unit_falls_in);
	tcase_add_test(tc, usage_volume_prices_all_units_at_one_tier);
	tcase_add_test(tc, usage_package_rounds_packages_up);
	tcase_add_test(tc, usage_standard_integer_and_decimal);
	tcase_add_test(tc, usage_zero_units_cost_nothing);
	tcase_add_test(tc, usage_free_units_come_off_first);
	tcase_add_test(tc, usage_overflow_fails);
	tcase_add_test(tc, usage_rejects_bad_charges);
	suite_add_tcase(s, tc);
	return s;
}
