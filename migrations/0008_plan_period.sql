-- DESIGN: no period is billed twice, keyed on the plan line's period.
--
-- 0005 keyed the guard on invoices.period_start, which is the earliest
-- line's start. A renewal that also carries a proration or usage line
-- starting earlier than its plan period (a change made in the period's
-- first second, usage from the previous period) would then collide with
-- the period's first invoice although it bills a different plan period.
-- plan_period_start is the start of the invoice's plan line (NULL when it
-- has none), so the guard says exactly "one plan invoice per period".
ALTER TABLE invoices ADD COLUMN plan_period_start timestamptz;
UPDATE invoices i SET plan_period_start = (SELECT min(l.period_start)
	FROM invoice_lines l WHERE l.tenant_id = i.tenant_id AND
	l.invoice_id = i.id AND l.kind = 'plan')
	WHERE i.subscription_id IS NOT NULL AND i.billing_reason IN
	('subscription_create', 'subscription_cycle');
DROP INDEX invoices_subscription_period;
CREATE UNIQUE INDEX invoices_subscription_plan_period ON invoices
	(tenant_id, subscription_id, plan_period_start)
	WHERE subscription_id IS NOT NULL AND billing_reason IN
	('subscription_create', 'subscription_cycle');
