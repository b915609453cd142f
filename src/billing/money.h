/*
 * Money: ISO 4217 currencies, exact decimal amounts, half-up rounding,
 * proration, fees and the usage pricing models of BILLING.md. Pure integer
 * arithmetic (no floating point), no state: safe on any thread.
 */
#ifndef BW_BILLING_MONEY_H
#define BW_BILLING_MONEY_H

#include <stddef.h>
#include <stdint.h>

/* Largest |amount| an amount_decimal may carry, in minor units. */
#define BW_MONEY_AMOUNT_MAX	99999999999999LL
/* A unit amount is 0..99,999,999 minor units (BILLING.md "Money"). */
#define BW_MONEY_UNIT_MAX	99999999LL
/* ISO 4217 minor-unit exponents go up to 4 (CLF, UYW). */
#define BW_MONEY_EXPONENT_MAX	4
/* Bytes that hold any formatted amount or unit price, with the NUL. */
#define BW_MONEY_DECIMAL_MAX	48

/*
 * Looks CODE up among the active ISO 4217 codes, in any case (API.md).
 * On BW_OK, OUT_UPPER (if not NULL) holds the upper-case code and EXPONENT
 * (if not NULL) its minor-unit exponent. BW_ERROR when CODE is not three
 * ASCII letters or is not an active code.
 */
int	bw_money_currency(const char *code, char out_upper[4], int *exponent);

/*
 * amount_decimal (API.md "Conventions"): "29.99" with EXPONENT 2 is 2999.
 * Digits, then optionally '.' and 1..EXPONENT digits; a leading '-' only
 * when ALLOW_NEGATIVE. More decimals than the currency has is an error,
 * even trailing zeros ("29.990" USD, "1.0" JPY). No '+', spaces, exponent
 * notation, "1." or ".5"; leading zeros are fine. |result| is at most
 * BW_MONEY_AMOUNT_MAX. Returns BW_OK or BW_ERROR (MINOR untouched).
 */
int	bw_money_parse_decimal(const char *s, int exponent, int allow_negative,
	    int64_t *minor);

/*
 * The amount_decimal of MINOR: 2999 / 2 is "29.99", 500 / 0 is "500",
 * 5 / 2 is "0.05", -125 / 2 is "-1.25", 1000 / 3 is "1.000". OUT holds
 * BW_MONEY_DECIMAL_MAX bytes; a shorter OUT is truncated, always
 * terminated. An EXPONENT outside 0..18 gives "".
 */
void	bw_money_format_decimal(int64_t minor, int exponent, char *out,
	    size_t len);

/*
 * round_half_up(A × B × C / D), exact: the product is taken in 128 bits
 * (BILLING.md: amount × quantity × seconds does not fit in 64). A, B, C
 * must be >= 0 and D > 0; BW_ERROR otherwise or when the result does not
 * fit in int64_t.
 */
int	bw_money_mul_div_round(int64_t a, int64_t b, int64_t c, int64_t d,
	    int64_t *out);

/*
 * Proration (BILLING.md "Changes mid-period"): for a change at t in
 * [s, e), REMAINING = e - t and PERIOD = e - s seconds.
 * bw_money_prorate: round(amount × quantity × remaining / period), the
 * charge for the new price. bw_money_credit: -round(...) of the same, the
 * credit for the old price. A credit is the negation of a rounded positive
 * value, so 1499.5 credits -1500 (never round(-1499.5) = -1499).
 * BW_ERROR on negative inputs, PERIOD <= 0, REMAINING > PERIOD or overflow.
 */
int	bw_money_prorate(int64_t amount, int64_t quantity, int64_t remaining,
	    int64_t period, int64_t *out);
int	bw_money_credit(int64_t amount, int64_t quantity, int64_t remaining,
	    int64_t period, int64_t *out);

/*
 * application_fee_amount = round(AMOUNT × FEE_BPS / 10000) (BILLING.md
 * "Collection"); platform_fee_percentage "15.00" is 1500 basis points,
 * i.e. bw_money_parse_decimal(s, 2, 0, &bps). AMOUNT >= 0, FEE_BPS in
 * 0..10000, else BW_ERROR.
 */
int	bw_money_fee(int64_t amount, int64_t fee_bps, int64_t *fee);

/*
 * unit_amount_decimal (API.md "Plans"): a price in minor units with up to
 * 12 decimals, held exactly as WHOLE + FRAC / 10^12. DECIMALS is how many
 * digits followed the '.', so the price formats back as it was given.
 */
#define BW_MONEY_UNIT_DECIMALS	12
#define BW_MONEY_UNIT_SCALE	1000000000000LL

struct bw_unit_price {
	int64_t	whole;		/* 0..BW_MONEY_UNIT_MAX */
	int64_t	frac;		/* 0..BW_MONEY_UNIT_SCALE - 1 */
	int	decimals;	/* 0..BW_MONEY_UNIT_DECIMALS */
};

/*
 * Digits, then optionally '.' and 1..12 digits ("0.035", "12.5", "7").
 * No sign, no exponent, no "1." or ".5". The value is at most
 * BW_MONEY_UNIT_MAX (so "99999999.5" is refused). Returns BW_OK or
 * BW_ERROR (P untouched).
 */
int	bw_money_parse_unit_decimal(const char *s, struct bw_unit_price *p);
/* P as a string with its original number of decimals, like format_decimal. */
void	bw_money_format_unit_decimal(const struct bw_unit_price *p, char *out,
	    size_t len);
/*
 * A line's amount at a decimal price: round_half_up(price × QUANTITY),
 * rounded once per line (BILLING.md). QUANTITY >= 0; BW_ERROR on a bad
 * price or when the result does not fit in int64_t.
 */
int	bw_money_unit_total(const struct bw_unit_price *p, int64_t quantity,
	    int64_t *out);

/*
 * Usage charges (BILLING.md "Usage"). Tiers are in increasing up_to order;
 * up_to is the last unit the tier holds (inclusive, as Stripe's), and
 * BW_TIER_INF (only on the last tier) holds all the rest.
 */
#define BW_TIER_INF	(-1)

struct bw_tier {
	int64_t	up_to;		/* > previous up_to, or BW_TIER_INF */
	int64_t	unit_amount;	/* >= 0 */
	int64_t	flat_amount;	/* >= 0 */
};

enum bw_charge_model {
	BW_CHARGE_STANDARD,
	BW_CHARGE_PACKAGE,
	BW_CHARGE_GRADUATED,
	BW_CHARGE_VOLUME
};

struct bw_charge {
	enum bw_charge_model	 model;
	int64_t			 unit_amount;	/* standard, package */
	int			 has_decimal;	/* unit_decimal replaces it */
	struct bw_unit_price	 unit_decimal;
	int64_t			 package_size;	/* package: >= 1 */
	int64_t			 free_units;	/* >= 0 */
	const struct bw_tier	*tiers;		/* graduated, volume */
	size_t			 ntiers;
};

/*
 * The units a usage line bills: UNITS less the charge's free_units, not
 * below 0 (a negative aggregate also bills 0). This is the line's
 * quantity. BW_ERROR when free_units < 0.
 */
int	bw_money_billable_units(const struct bw_charge *c, int64_t units,
	    int64_t *billable);
/*
 * The amount of a usage line for UNITS, the meter's aggregate for the
 * period BEFORE free_units: this function subtracts them itself (through
 * bw_money_billable_units), so callers pass the raw aggregate.
 *   standard   q × unit_amount, or the decimal price × q rounded once
 *   package    ceil(q / package_size) × unit_amount (or decimal price)
 *   graduated  each tier: its units × its unit_amount, + its flat_amount
 *              when at least one unit falls in it
 *   volume     the tier holding q: q × its unit_amount + its flat_amount
 * Zero billable units cost 0 in every model (no flat amounts). BW_ERROR on
 * an invalid charge (negative prices, bad tiers, tiers that do not reach
 * q, package_size < 1) or an amount beyond int64_t.
 */
int	bw_money_usage(const struct bw_charge *c, int64_t units,
	    int64_t *amount);

#endif
