-- Subscriptions (API.md "Subscriptions"; BILLING.md "Periods", "Collection
-- and dunning"), and the rule that no subscription period is billed twice.
-- Times are timestamptz; the billing core works in whole UNIX seconds.

CREATE TABLE subscriptions (
	tenant_id		text NOT NULL REFERENCES tenants (id),
	livemode		boolean NOT NULL,
	id			text NOT NULL,
	customer_id		text NOT NULL,
	plan_id			text NOT NULL,
	status			text NOT NULL CHECK (status IN ('trial',
				'active', 'past_due', 'paused', 'canceled')),
	quantity		bigint NOT NULL DEFAULT 1
				CHECK (quantity BETWEEN 1 AND 1000000),
	current_period_start	timestamptz NOT NULL,
	current_period_end	timestamptz NOT NULL,
	trial_end		timestamptz,
	cancel_at_period_end	boolean NOT NULL DEFAULT false,
	canceled_at		timestamptz,
	paused_at		timestamptz,
	billing_cycle_anchor	timestamptz NOT NULL,
	latest_invoice_id	text,
	metadata		jsonb NOT NULL DEFAULT '{}',
	created			timestamptz NOT NULL DEFAULT now(),
	PRIMARY KEY (tenant_id, id),
	FOREIGN KEY (tenant_id, customer_id)
		REFERENCES customers (tenant_id, id),
	FOREIGN KEY (tenant_id, plan_id) REFERENCES plans (tenant_id, id),
	CHECK (current_period_start < current_period_end)
);
CREATE INDEX subscriptions_list ON subscriptions (tenant_id, livemode, id DESC);
CREATE INDEX subscriptions_customer ON subscriptions
	(tenant_id, livemode, customer_id, id DESC);
CREATE INDEX subscriptions_plan ON subscriptions
	(tenant_id, livemode, plan_id, id DESC);

-- DESIGN: no period is billed twice. A subscription's plan invoice for a
-- period (the first one or a renewal) exists at most once, whoever creates
-- it (the API, the scheduler, a retried job).
CREATE UNIQUE INDEX invoices_subscription_period ON invoices
	(tenant_id, subscription_id, period_start)
	WHERE subscription_id IS NOT NULL AND billing_reason IN
	('subscription_create', 'subscription_cycle');

ALTER TABLE subscriptions ENABLE ROW LEVEL SECURITY;
ALTER TABLE subscriptions FORCE ROW LEVEL SECURITY;
CREATE POLICY subscriptions_tenant ON subscriptions
	USING (tenant_id = billow_tenant() AND livemode = billow_livemode())
	WITH CHECK (tenant_id = billow_tenant() AND livemode = billow_livemode());
GRANT SELECT, INSERT, UPDATE, DELETE ON subscriptions TO billow_app;
