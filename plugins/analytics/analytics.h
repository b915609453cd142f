/*
 * The analytics plugin's parts, seen by each other (never by the core:
 * the plugin is built with -fvisibility=hidden, so only billow_plugin is
 * exported). analytics.c owns init and the events routes; mrr.c the
 * money arithmetic (pure, no host calls); history.c the MRR history that
 * the event.created hook writes; report.c the summary and metrics routes.
 */
#ifndef BILLOW_ANALYTICS_H
#define BILLOW_ANALYTICS_H

#include <stddef.h>
#include <stdint.h>

#include "billow/plugin.h"

/*
 * MRR of AMOUNT × QUANTITY billed every INTERVAL_COUNT INTERVALs ("day",
 * "week", "month", "year"), normalised to a month (API.md "Analytics":
 * year ÷ 12, week × 52 ÷ 12, day × 365 ÷ 12, then ÷ interval_count), as
 * one exact fraction rounded half-up once to the minor unit. BILLOW_ERROR
 * for an unknown interval, a negative amount, a quantity or count below 1,
 * or a result beyond int64_t.
 */
int	mrr_monthly(int64_t amount, int64_t quantity, const char *interval,
	    int64_t interval_count, int64_t *out);

/* round(NUM / DEN) half-up, NUM >= 0, DEN > 0, in 128 bits. */
int64_t	mrr_div_round(int64_t num, int64_t den);

/*
 * NUM / DEN as a decimal string with four places, rounded half-up
 * ("0.0250"), into OUT; "0.0000" when DEN is 0 (no base to churn from).
 * NUM >= 0.
 */
void	mrr_rate_format(int64_t num, int64_t den, char *out, size_t len);

/* Registers the event.created hook (history.c). */
int	history_init(const struct billow_host *, struct billow_plugin_handle *);
/* Registers GET /analytics/summary and /analytics/metrics (report.c). */
int	report_init(const struct billow_host *, struct billow_plugin_handle *);

#endif
