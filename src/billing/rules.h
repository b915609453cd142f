/*
 * BILLING.md's small decision rules as pure functions, so each has a Check
 * test with a worked example (tests/unit/test_rules.c) and the billing
 * code calls the same function the tests check. Times are UNIX seconds;
 * money is integer minor units.
 */
#ifndef BW_BILLING_RULES_H
#define BW_BILLING_RULES_H

#include <stdint.h>

#define BW_DUNNING_MAX_RETRIES	4
#define BW_DAY_SECONDS		86400LL

/*
 * BILLING.md "Invoices", customer balance (<= 0 is a credit owed to the
 * customer): finalizing total T with balance B. T <= 0: nothing is due
 * and the balance becomes B + T. T > 0: the credit used is min(-B, T),
 * amount_due = T - used, the balance becomes B + used. BW_ERROR when
 * B > 0 (a balance is never a debt) or on overflow.
 */
int	bw_rule_balance(int64_t total, int64_t balance, int64_t *due,
	    int64_t *ending);

/*
 * BILLING.md "Collection and dunning": retries run at the offsets DAYS[0..N)
 * (days, strictly increasing) from the first failure FIRST. The next retry
 * after a failed attempt at NOW is the first first + d·86400 > NOW; -1
 * when none is left (the final action then applies).
 */
int64_t	bw_rule_next_retry(int64_t first, const int *days, int n, int64_t now);

/*
 * The tenant's dunning_retry_days as PostgreSQL prints an integer array
 * ("{1,3,5,7}") into DAYS (at most BW_DUNNING_MAX_RETRIES). BW_ERROR on
 * anything else.
 */
int	bw_rule_parse_days(const char *text, int *days, int *n);

/*
 * BILLING.md "Periods": trial_will_end is sent three days before the
 * trial ends, or at the subscription's start when the trial is shorter.
 */
int64_t	bw_rule_trial_notice(int64_t trial_end, int64_t started_at);

/*
 * BILLING.md "Usage": the span whose usage an invoice bills when the
 * period [start, end) ends: from the later of start and BILLED_UNTIL (what
 * earlier invoices or a pause already billed) to END; empty when FROM >=
 * TO.
 */
int64_t	bw_rule_usage_from(int64_t start, int64_t billed_until);

#endif
