/*
 * BILLING.md's small decision rules (rules.h).
 */
#include <stdlib.h>
#include <string.h>

#include "billing/rules.h"
#include "core/core.h"

int
bw_rule_balance(int64_t total, int64_t balance, int64_t *due,
    int64_t *ending)
{
	int64_t	used;

	if (balance > 0)
		return BW_ERROR;
	if (total <= 0) {
		*due = 0;
		if (__builtin_add_overflow(balance, total, ending))
			return BW_ERROR;
		return BW_OK;
	}
	/* -balance cannot overflow: balance > INT64_MIN is checked here. */
	if (balance == INT64_MIN)
		return BW_ERROR;
	used = -balance < total ? -balance : total;
	*due = total - used;
	*ending = balance + used;
	return BW_OK;
}

int64_t
bw_rule_next_retry(int64_t first, const int *days, int n, int64_t now)
{
	int64_t	t;
	int	i;

	for (i = 0; i < n; i++) {
		t = first + (int64_t)days[i] * BW_DAY_SECONDS;
		if (t > now)
			return t;
	}
	return -1;
}

int
bw_rule_parse_days(const char *s, int *days, int *n)
{
	long	v;
	char	*end;

	*n = 0;
	if (s == NULL || *s++ != '{')
		return BW_ERROR;
	if (*s == '}')
		return s[1] == '\0' ? BW_OK : BW_ERROR;
	for (;;) {
		if (*s < '0' || *s > '9' || *n >= BW_DUNNING_MAX_RETRIES)
			return BW_ERROR;
		v = strtol(s, &end, 10);
		if (v < 1 || v > 60 || (*n > 0 && v <= days[*n - 1]))
			return BW_ERROR;
		days[(*n)++] = (int)v;
		s = end;
		if (*s == '}')
			return s[1] == '\0' ? BW_OK : BW_ERROR;
		if (*s++ != ',')
			return BW_ERROR;
	}
}

int64_t
bw_rule_trial_notice(int64_t trial_end, int64_t started_at)
{
	int64_t	t = trial_end - 3 * BW_DAY_SECONDS;

	return t < started_at ? started_at : t;
}

int64_t
bw_rule_usage_from(int64_t start, int64_t billed_until)
{
	return billed_until > start ? billed_until : start;
}
