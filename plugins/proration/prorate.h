/*
 * The proration plugin's arithmetic (BILLING.md "Changes mid-period"), kept
 * free of the host table so the unit tests link it straight in
 * (tests/unit/test_proration.c). Pure integer code, no state: safe on any
 * thread.
 */
#ifndef BILLOW_PRORATE_H
#define BILLOW_PRORATE_H

#include <stdint.h>

#include "billow/plugin.h"

/*
 * round(AMOUNT × QUANTITY × REMAINING / PERIOD), half-up on the exact
 * rational value, with the product taken in 128 bits (99,999,999 ×
 * 1,000,000 × a year of seconds does not fit in 64). AMOUNT, QUANTITY and
 * REMAINING >= 0, PERIOD > 0, REMAINING <= PERIOD; BILLOW_ERROR otherwise
 * or when the result does not fit in int64_t.
 */
int	prorate_round(int64_t amount, int64_t quantity, int64_t remaining,
	    int64_t period, int64_t *out);

/*
 * Appends to CTX->lines what the change CTX owes: the credit for the unused
 * time of the old price, -round(old × (e-t)/(e-s)), then the charge for
 * the remaining time at the new price, round(new × (e-t)/(e-s)). With
 * interval_changed only the credit (the core bills the new period itself),
 * and it is owed whatever proration_behavior says; otherwise "none" owes
 * nothing. A change at or after e owes nothing; one before s prorates the
 * whole period. BILLOW_ERROR (nothing appended) on bad amounts or when
 * CTX->lines has no room for the lines.
 */
int	prorate_lines(struct billow_change_ctx *ctx);

#endif
