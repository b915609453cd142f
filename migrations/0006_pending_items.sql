-- Pending items (BILLING.md "Changes mid-period", "Ending, pausing,
-- resuming"): prorations and usage owed by or to a subscription that ride
-- the next invoice it creates (renewal, resume, always_invoice or final).
-- invoice_id is set when an invoice bills the item; NULL means unbilled.

CREATE TABLE subscription_pending_items (
	tenant_id		text NOT NULL REFERENCES tenants (id),
	livemode		boolean NOT NULL,
	id			text NOT NULL,
	subscription_id		text NOT NULL,
	kind			text NOT NULL CHECK (kind IN ('proration',
				'usage')),
	description		text NOT NULL,
	amount			bigint NOT NULL,
	unit_amount		bigint,
	quantity		bigint NOT NULL DEFAULT 1,
	period_start		timestamptz NOT NULL,
	period_end		timestamptz NOT NULL,
	invoice_id		text,
	created			timestamptz NOT NULL DEFAULT now(),
	PRIMARY KEY (tenant_id, id),
	FOREIGN KEY (tenant_id, subscription_id)
		REFERENCES subscriptions (tenant_id, id),
	CHECK (period_start <= period_end)
);
CREATE INDEX subscription_pending_items_unbilled ON
	subscription_pending_items (tenant_id, subscription_id, id)
	WHERE invoice_id IS NULL;

ALTER TABLE subscription_pending_items ENABLE ROW LEVEL SECURITY;
ALTER TABLE subscription_pending_items FORCE ROW LEVEL SECURITY;
CREATE POLICY subscription_pending_items_tenant ON subscription_pending_items
	USING (tenant_id = billow_tenant() AND livemode = billow_livemode())
	WITH CHECK (tenant_id = billow_tenant() AND livemode = billow_livemode());
GRANT SELECT, INSERT, UPDATE, DELETE ON subscription_pending_items TO
	billow_app;
