/*
 * Money arithmetic of the analytics plugin (analytics.h): a plan's MRR,
 * half-up division and four-place rates. Integers only, 128-bit
 * intermediates, no state: safe on any thread. No floating point touches
 * money here (DESIGN.md "Data").
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "analytics.h"

/*
 * How a plan's interval becomes a month, as the fraction MUL / DIV
 * (API.md "Analytics"): a year is 12 months, a week 52/12 of one, a day
 * 365/12.
 */
static const struct {
	const char	*name;
	int64_t		 mul;
	int64_t		 div;
} mrr_intervals[] = {
	{ "day",	365,	12 },
	{ "week",	52,	12 },
	{ "month",	1,	1 },
	{ "year",	1,	12 },
};

/* round(NUM / DEN) half-up on the exact value; NUM >= 0, DEN > 0. */
static unsigned __int128
mrr_round128(unsigned __int128 num, unsigned __int128 den)
{
	unsigned __int128	q = num / den, r = num % den;

	/* A remainder of at least half the divisor rounds up: 2.5 -> 3. */
	if (2 * r >= den)
		q++;
	return q;
}

int
mrr_monthly(int64_t amount, int64_t quantity, const char *interval,
    int64_t interval_count, int64_t *out)
{
	unsigned __int128	num, den, q;
	size_t			i;

	if (interval == NULL || amount < 0 || quantity < 1 ||
	    interval_count < 1)
		return BILLOW_ERROR;
	for (i = 0; i < sizeof(mrr_intervals) / sizeof(mrr_intervals[0]); i++)
		if (strcmp(interval, mrr_intervals[i].name) == 0)
			break;
	if (i == sizeof(mrr_intervals) / sizeof(mrr_intervals[0]))
		return BILLOW_ERROR;
	/*
	 * One fraction, rounded once: amount × quantity × mul over
	 * div × interval_count. Each factor is below 2^63 and mul below
	 * 2^9, so the numerator fits in 128 bits for any int64 input.
	 */
	num = (unsigned __int128)amount * (unsigned __int128)quantity *
	    (unsigned __int128)mrr_intervals[i].mul;
	den = (unsigned __int128)mrr_intervals[i].div *
	    (unsigned __int128)interval_count;
	q = mrr_round128(num, den);
	if (q > (unsigned __int128)INT64_MAX)
		return BILLOW_ERROR;
	*out = (int64_t)q;
	return BILLOW_OK;
}

int64_t
mrr_div_round(int64_t num, int64_t den)
{
	if (num < 0 || den <= 0)
		return 0;
	return (int64_t)mrr_round128((unsigned __int128)num,
	    (unsigned __int128)den);
}

void
mrr_rate_format(int64_t num, int64_t den, char *out, size_t len)
{
	unsigned __int128	q;

	if (num < 0 || den <= 0) {
		snprintf(out, len, "0.0000");
		return;
	}
	/* Ten-thousandths, rounded once: 1/3 -> 3333, 1/6 -> 1667. */
	q = mrr_round128((unsigned __int128)num * 10000,
	    (unsigned __int128)den);
	snprintf(out, len, "%llu.%04llu", (unsigned long long)(q / 10000),
	    (unsigned long long)(q % 10000));
}
