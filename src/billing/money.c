/*
 * Money: the ISO 4217 table, exact decimal parsing and formatting, and the
 * rounding rules of BILLING.md (half-up on the exact rational value, once
 * per line). Integers only, no state: runs on any thread.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/core.h"
#include "billing/money.h"

typedef unsigned __int128 money_u128;

#define MONEY_U128_MAX	(~(money_u128)0)

struct money_currency {
	char	code[4];
	int	exponent;
};

/*
 * The active codes of ISO 4217 list one (2026-01-01 edition) that have a
 * minor unit, sorted for bsearch. Left out: the units with no minor unit
 * (precious metals XAU XAG XPD XPT, bond units XBA..XBD, XDR, XSU, XUA,
 * XTS, XXX). Kept for one more year because the replacement is recent and
 * Stripe still accepts them: ANG (replaced by XCG in 2025) and BGN
 * (replaced by EUR in 2026).
 */
static const struct money_currency money_currencies[] = {
	{ "AED", 2 }, { "AFN", 2 }, { "ALL", 2 }, { "AMD", 2 },
	{ "ANG", 2 }, { "AOA", 2 }, { "ARS", 2 }, { "AUD", 2 },
	{ "AWG", 2 }, { "AZN", 2 }, { "BAM", 2 }, { "BBD", 2 },
	{ "BDT", 2 }, { "BGN", 2 }, { "BHD", 3 }, { "BIF", 0 },
	{ "BMD", 2 }, { "BND", 2 }, { "BOB", 2 }, { "BOV", 2 },
	{ "BRL", 2 }, { "BSD", 2 }, { "BTN", 2 }, { "BWP", 2 },
	{ "BYN", 2 }, { "BZD", 2 }, { "CAD", 2 }, { "CDF", 2 },
	{ "CHE", 2 }, { "CHF", 2 }, { "CHW", 2 }, { "CLF", 4 },
	{ "CLP", 0 }, { "CNY", 2 }, { "COP", 2 }, { "COU", 2 },
	{ "CRC", 2 }, { "CUP", 2 }, { "CVE", 2 }, { "CZK", 2 },
	{ "DJF", 0 }, { "DKK", 2 }, { "DOP", 2 }, { "DZD", 2 },
	{ "EGP", 2 }, { "ERN", 2 }, { "ETB", 2 }, { "EUR", 2 },
	{ "FJD", 2 }, { "FKP", 2 }, { "GBP", 2 }, { "GEL", 2 },
	{ "GHS", 2 }, { "GIP", 2 }, { "GMD", 2 }, { "GNF", 0 },
	{ "GTQ", 2 }, { "GYD", 2 }, { "HKD", 2 }, { "HNL", 2 },
	{ "HTG", 2 }, { "HUF", 2 }, { "IDR", 2 }, { "ILS", 2 },
	{ "INR", 2 }, { "IQD", 3 }, { "IRR", 2 }, { "ISK", 0 },
	{ "JMD", 2 }, { "JOD", 3 }, { "JPY", 0 }, { "KES", 2 },
	{ "KGS", 2 }, { "KHR", 2 }, { "KMF", 0 }, { "KPW", 2 },
	{ "KRW", 0 }, { "KWD", 3 }, { "KYD", 2 }, { "KZT", 2 },
	{ "LAK", 2 }, { "LBP", 2 }, { "LKR", 2 }, { "LRD", 2 },
	{ "LSL", 2 }, { "LYD", 3 }, { "MAD", 2 }, { "MDL", 2 },
	{ "MGA", 2 }, { "MKD", 2 }, { "MMK", 2 }, { "MNT", 2 },
	{ "MOP", 2 }, { "MRU", 2 }, { "MUR", 2 }, { "MVR", 2 },
	{ "MWK", 2 }, { "MXN", 2 }, { "MXV", 2 }, { "MYR", 2 },
	{ "MZN", 2 }, { "NAD", 2 }, { "NGN", 2 }, { "NIO", 2 },
	{ "NOK", 2 }, { "NPR", 2 }, { "NZD", 2 }, { "OMR", 3 },
	{ "PAB", 2 }, { "PEN", 2 }, { "PGK", 2 }, { "PHP", 2 },
	{ "PKR", 2 }, { "PLN", 2 }, { "PYG", 0 }, { "QAR", 2 },
	{ "RON", 2 }, { "RSD", 2 }, { "RUB", 2 }, { "RWF", 0 },
	{ "SAR", 2 }, { "SBD", 2 }, { "SCR", 2 }, { "SDG", 2 },
	{ "SEK", 2 }, { "SGD", 2 }, { "SHP", 2 }, { "SLE", 2 },
	{ "SOS", 2 }, { "SRD", 2 }, { "SSP", 2 }, { "STN", 2 },
	{ "SVC", 2 }, { "SYP", 2 }, { "SZL", 2 }, { "THB", 2 },
	{ "TJS", 2 }, { "TMT", 2 }, { "TND", 3 }, { "TOP", 2 },
	{ "TRY", 2 }, { "TTD", 2 }, { "TWD", 2 }, { "TZS", 2 },
	{ "UAH", 2 }, { "UGX", 0 }, { "USD", 2 }, { "USN", 2 },
	{ "UYI", 0 }, { "UYU", 2 }, { "UYW", 4 }, { "UZS", 2 },
	{ "VED", 2 }, { "VES", 2 }, { "VND", 0 }, { "VUV", 0 },
	{ "WST", 2 }, { "XAD", 2 }, { "XAF", 0 }, { "XCD", 2 },
	{ "XCG", 2 }, { "XOF", 0 }, { "XPF", 0 }, { "YER", 2 },
	{ "ZAR", 2 }, { "ZMW", 2 }, { "ZWG", 2 },
};

static const int64_t money_pow10[] = {
	1LL, 10LL, 100LL, 1000LL, 10000LL, 100000LL, 1000000LL, 10000000LL,
	100000000LL, 1000000000LL, 10000000000LL, 100000000000LL,
	1000000000000LL, 10000000000000LL, 100000000000000LL,
	1000000000000000LL, 10000000000000000LL, 100000000000000000LL,
	1000000000000000000LL
};

static int	money_is_digit(char);
static int	money_currency_cmp(const void *, const void *);
static void	money_format(uint64_t, int, int, char *, size_t);
static int	money_tiers_valid(const struct bw_charge *);
static int	money_graduated(const struct bw_charge *, int64_t, int64_t *);
static int	money_volume(const struct bw_charge *, int64_t, int64_t *);
static int	money_times(int64_t, int64_t, int64_t *);

/* ASCII only: isdigit() would follow the locale. */
static int
money_is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static int
money_currency_cmp(const void *key, const void *elem)
{
	const struct money_currency	*cur = elem;

	return memcmp(key, cur->code, 3);
}

int
bw_money_currency(const char *code, char out_upper[4], int *exponent)
{
	const struct money_currency	*cur;
	char				 up[4];
	int				 i;

	if (code == NULL)
		return BW_ERROR;
	for (i = 0; i < 3; i++) {
		if (code[i] >= 'a' && code[i] <= 'z')
			up[i] = (char)(code[i] - 'a' + 'A');
		else if (code[i] >= 'A' && code[i] <= 'Z')
			up[i] = code[i];
		else
			return BW_ERROR;	/* also a NUL: too short */
	}
	if (code[3] != '\0')
		return BW_ERROR;
	up[3] = '\0';

	cur = bsearch(up, money_currencies, BW_NELEM(money_currencies),
	    sizeof(money_currencies[0]), money_currency_cmp);
	if (cur == NULL)
		return BW_ERROR;
	if (out_upper != NULL)
		memcpy(out_upper, cur->code, 4);
	if (exponent != NULL)
		*exponent = cur->exponent;
	return BW_OK;
}

int
bw_money_parse_decimal(const char *s, int exponent, int allow_negative,
    int64_t *minor)
{
	const char	*p = s;
	int64_t		 v = 0;
	int		 neg = 0, ndec = 0;

	if (s == NULL || exponent < 0 || exponent > BW_MONEY_EXPONENT_MAX)
		return BW_ERROR;
	if (*p == '-') {
		if (!allow_negative)
			return BW_ERROR;
		neg = 1;
		p++;
	}
	if (!money_is_digit(*p))
		return BW_ERROR;
	/*
	 * Digits only ever grow V, and scaling by 10^(exponent - ndec) only
	 * grows it further, so checking the limit per digit stops overflow
	 * early and leading zeros cost nothing.
	 */
	for (; money_is_digit(*p); p++) {
		v = v * 10 + (*p - '0');
		if (v > BW_MONEY_AMOUNT_MAX)
			return BW_ERROR;
	}
	if (*p == '.') {
		p++;
		if (!money_is_digit(*p))
			return BW_ERROR;
		for (; money_is_digit(*p); p++) {
			/* More decimals than the currency has: 400 (API.md). */
			if (++ndec > exponent)
				return BW_ERROR;
			v = v * 10 + (*p - '0');
			if (v > BW_MONEY_AMOUNT_MAX)
				return BW_ERROR;
		}
	}
	if (*p != '\0')
		return BW_ERROR;
	v *= money_pow10[exponent - ndec];
	if (v > BW_MONEY_AMOUNT_MAX)
		return BW_ERROR;
	*minor = neg ? -v : v;
	return BW_OK;
}

/*
 * MAG with DECIMALS digits after the point (none when 0), '-' first when
 * NEG. The digits are built backwards in a local buffer, then copied.
 */
static void
money_format(uint64_t mag, int decimals, int neg, char *out, size_t len)
{
	char	tmp[BW_MONEY_DECIMAL_MAX];
	size_t	i = sizeof(tmp);
	int	n = 0;

	tmp[--i] = '\0';
	do {
		if (decimals > 0 && n == decimals)
			tmp[--i] = '.';
		tmp[--i] = (char)('0' + mag % 10);
		mag /= 10;
		n++;
	} while (mag != 0 || n <= decimals);
	if (neg)
		tmp[--i] = '-';
	snprintf(out, len, "%s", tmp + i);
}

void
bw_money_format_decimal(int64_t minor, int exponent, char *out, size_t len)
{
	uint64_t	mag;

	if (len == 0)
		return;
	if (exponent < 0 || exponent > 18) {
		out[0] = '\0';
		return;
	}
	/* Unsigned negation: INT64_MIN has no positive int64_t. */
	mag = minor < 0 ? 0 - (uint64_t)minor : (uint64_t)minor;
	money_format(mag, exponent, minor < 0, out, len);
}

int
bw_money_mul_div_round(int64_t a, int64_t b, int64_t c, int64_t d,
    int64_t *out)
{
	money_u128	n, q, r;

	if (a < 0 || b < 0 || c < 0 || d <= 0)
		return BW_ERROR;
	/* a × b < 2^126 always fits; × c may not, then neither does q. */
	n = (money_u128)(uint64_t)a * (uint64_t)b;
	if (c != 0 && n > MONEY_U128_MAX / (uint64_t)c)
		return BW_ERROR;
	n *= (uint64_t)c;
	q = n / (uint64_t)d;
	r = n % (uint64_t)d;
	/* Half-up on the exact rational (BILLING.md): 2r >= d rounds up. */
	if (r >= (uint64_t)d - r)
		q++;
	if (q > INT64_MAX)
		return BW_ERROR;
	*out = (int64_t)q;
	return BW_OK;
}

int
bw_money_prorate(int64_t amount, int64_t quantity, int64_t remaining,
    int64_t period, int64_t *out)
{
	/* t is in [s, e): 0 < e - t <= e - s. 0 is allowed: nothing left. */
	if (period <= 0 || remaining < 0 || remaining > period)
		return BW_ERROR;
	return bw_money_mul_div_round(amount, quantity, remaining, period,
	    out);
}

int
bw_money_credit(int64_t amount, int64_t quantity, int64_t remaining,
    int64_t period, int64_t *out)
{
	int64_t	v;

	/* -round(x), BILLING.md: round the positive value, then negate. */
	if (bw_money_prorate(amount, quantity, remaining, period, &v) != BW_OK)
		return BW_ERROR;
	*out = -v;
	return BW_OK;
}

int
bw_money_fee(int64_t amount, int64_t fee_bps, int64_t *fee)
{
	/* round(amount × pct / 100) with pct = bps / 100. */
	if (fee_bps < 0 || fee_bps > 10000)
		return BW_ERROR;
	return bw_money_mul_div_round(amount, fee_bps, 1, 10000, fee);
}

int
bw_money_parse_unit_decimal(const char *s, struct bw_unit_price *p)
{
	const char	*c = s;
	int64_t		 whole = 0, frac = 0;
	int		 ndec = 0;

	if (s == NULL || !money_is_digit(*c))
		return BW_ERROR;
	for (; money_is_digit(*c); c++) {
		whole = whole * 10 + (*c - '0');
		if (whole > BW_MONEY_UNIT_MAX)
			return BW_ERROR;
	}
	if (*c == '.') {
		c++;
		if (!money_is_digit(*c))
			return BW_ERROR;
		for (; money_is_digit(*c); c++) {
			/* Up to 12 decimals (API.md "Plans"). */
			if (++ndec > BW_MONEY_UNIT_DECIMALS)
				return BW_ERROR;
			frac = frac * 10 + (*c - '0');
		}
	}
	if (*c != '\0')
		return BW_ERROR;
	frac *= money_pow10[BW_MONEY_UNIT_DECIMALS - ndec];
	/* A unit amount is at most 99,999,999 minor units (BILLING.md). */
	if (whole == BW_MONEY_UNIT_MAX && frac != 0)
		return BW_ERROR;
	p->whole = whole;
	p->frac = frac;
	p->decimals = ndec;
	return BW_OK;
}

void
bw_money_format_unit_decimal(const struct bw_unit_price *p, char *out,
    size_t len)
{
	int	d;

	if (len == 0)
		return;
	d = p->decimals;
	if (d < 0 || d > BW_MONEY_UNIT_DECIMALS || p->whole < 0 ||
	    p->whole > BW_MONEY_UNIT_MAX || p->frac < 0 ||
	    p->frac >= BW_MONEY_UNIT_SCALE) {
		out[0] = '\0';
		return;
	}
	if (d == 0)
		snprintf(out, len, "%lld", (long long)p->whole);
	else	/* the first D fraction digits, zero-padded: "0.035" */
		snprintf(out, len, "%lld.%0*lld", (long long)p->whole, d,
		    (long long)(p->frac /
		    money_pow10[BW_MONEY_UNIT_DECIMALS - d]));
}

int
bw_money_unit_total(const struct bw_unit_price *p, int64_t quantity,
    int64_t *out)
{
	money_u128	whole, frac, q;

	if (quantity < 0 || p->whole < 0 || p->whole > BW_MONEY_UNIT_MAX ||
	    p->frac < 0 || p->frac >= BW_MONEY_UNIT_SCALE)
		return BW_ERROR;
	/*
	 * price × q = whole × q + frac × q / 10^12. whole × q is an integer,
	 * so rounding the sum once is rounding the fractional product alone.
	 * Both products are < 2^104.
	 */
	whole = (money_u128)(uint64_t)p->whole * (uint64_t)quantity;
	frac = (money_u128)(uint64_t)p->frac * (uint64_t)quantity;
	q = frac / BW_MONEY_UNIT_SCALE;
	if (frac % BW_MONEY_UNIT_SCALE >= BW_MONEY_UNIT_SCALE / 2)
		q++;
	q += whole;
	if (q > INT64_MAX)
		return BW_ERROR;
	*out = (int64_t)q;
	return BW_OK;
}

int
bw_money_billable_units(const struct bw_charge *c, int64_t units,
    int64_t *billable)
{
	if (c->free_units < 0)
		return BW_ERROR;
	/* free_units first, not below 0 (BILLING.md "Usage"). */
	if (units <= c->free_units)
		*billable = 0;
	else
		*billable = units - c->free_units;
	return BW_OK;
}

/* N × PRICE for a non-negative integer price, BW_ERROR on overflow. */
static int
money_times(int64_t n, int64_t price, int64_t *out)
{
	if (price < 0 || __builtin_mul_overflow(n, price, out))
		return BW_ERROR;
	return BW_OK;
}

/* Increasing up_to, BW_TIER_INF only last, no negative prices. */
static int
money_tiers_valid(const struct bw_charge *c)
{
	int64_t	prev = 0;
	size_t	i;

	if (c->tiers == NULL || c->ntiers == 0)
		return 0;
	for (i = 0; i < c->ntiers; i++) {
		if (c->tiers[i].unit_amount < 0 || c->tiers[i].flat_amount < 0)
			return 0;
		if (c->tiers[i].up_to == BW_TIER_INF) {
			if (i != c->ntiers - 1)
				return 0;
			continue;
		}
		if (c->tiers[i].up_to <= prev)
			return 0;
		prev = c->tiers[i].up_to;
	}
	return 1;
}

static int
money_graduated(const struct bw_charge *c, int64_t q, int64_t *amount)
{
	const struct bw_tier	*t;
	int64_t			 prev = 0, hi, line, total = 0;
	size_t			 i;

	for (i = 0; i < c->ntiers; i++) {
		t = &c->tiers[i];
		hi = (t->up_to == BW_TIER_INF || q < t->up_to) ? q : t->up_to;
		/* Units prev+1 .. hi fall in this tier. */
		if (hi > prev) {
			if (money_times(hi - prev, t->unit_amount, &line) !=
			    BW_OK ||
			    __builtin_add_overflow(line, t->flat_amount,
			    &line) ||
			    __builtin_add_overflow(total, line, &total))
				return BW_ERROR;
		}
		if (t->up_to == BW_TIER_INF || q <= t->up_to) {
			*amount = total;
			return BW_OK;
		}
		prev = t->up_to;
	}
	return BW_ERROR;	/* the tiers end before q */
}

static int
money_volume(const struct bw_charge *c, int64_t q, int64_t *amount)
{
	const struct bw_tier	*t;
	int64_t			 line;
	size_t			 i;

	for (i = 0; i < c->ntiers; i++) {
		t = &c->tiers[i];
		if (t->up_to != BW_TIER_INF && q > t->up_to)
			continue;
		if (money_times(q, t->unit_amount, &line) != BW_OK ||
		    __builtin_add_overflow(line, t->flat_amount, &line))
			return BW_ERROR;
		*amount = line;
		return BW_OK;
	}
	return BW_ERROR;
}

int
bw_money_usage(const struct bw_charge *c, int64_t units, int64_t *amount)
{
	int64_t	q, packages;

	if (bw_money_billable_units(c, units, &q) != BW_OK)
		return BW_ERROR;
	/* Validate before the zero shortcut so a bad charge always shows. */
	switch (c->model) {
	case BW_CHARGE_STANDARD:
	case BW_CHARGE_PACKAGE:
		if (!c->has_decimal && c->unit_amount < 0)
			return BW_ERROR;
		if (c->model == BW_CHARGE_PACKAGE && c->package_size < 1)
			return BW_ERROR;
		break;
	case BW_CHARGE_GRADUATED:
	case BW_CHARGE_VOLUME:
		if (!money_tiers_valid(c))
			return BW_ERROR;
		break;
	default:
		return BW_ERROR;
	}
	/* Zero units cost 0 (BILLING.md), flat amounts included. */
	if (q == 0) {
		*amount = 0;
		return BW_OK;
	}

	switch (c->model) {
	case BW_CHARGE_STANDARD:
		if (c->has_decimal)
			return bw_money_unit_total(&c->unit_decimal, q, amount);
		return money_times(q, c->unit_amount, amount);
	case BW_CHARGE_PACKAGE:
		/* ceil(q / size) without q + size - 1 overflowing. */
		packages = q / c->package_size + (q % c->package_size != 0);
		if (c->has_decimal)
			return bw_money_unit_total(&c->unit_decimal, packages,
			    amount);
		return money_times(packages, c->unit_amount, amount);
	case BW_CHARGE_GRADUATED:
		return money_graduated(c, q, amount);
	case BW_CHARGE_VOLUME:
		return money_volume(c, q, amount);
	}
	return BW_ERROR;
}
