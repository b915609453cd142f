-- MRR history (API.md "Analytics"): one row each time a subscription's
-- MRR or its counting as active changes, written by the plugin's
-- event.created hook in the transaction that changed the subscription.
-- `at` is the billing time (billow_now(): a test clock's time while it
-- advances), so the history follows the clock. Summary and metrics derive
-- every figure (MRR at an instant, new / expansion / contraction / churn /
-- reactivation per customer and currency) from these rows.

CREATE TABLE analytics_mrr_movements (
	tenant_id	text NOT NULL REFERENCES tenants (id),
	livemode	boolean NOT NULL,
	id		text NOT NULL,
	subscription_id	text NOT NULL,
	customer_id	text NOT NULL,
	currency	text NOT NULL,
	at		timestamptz NOT NULL DEFAULT billow_now(),
	-- The subscription's status after the change, and the event that
	-- carried it (evt_...).
	status		text NOT NULL,
	event_id	text,
	-- Per subscription, each row's *_before is the previous row's
	-- *_after (0 / false for the first), so summing
	-- mrr_after - mrr_before up to an instant gives the MRR then.
	mrr_before	bigint NOT NULL CHECK (mrr_before >= 0),
	mrr_after	bigint NOT NULL CHECK (mrr_after >= 0),
	active_before	boolean NOT NULL,
	active_after	boolean NOT NULL,
	PRIMARY KEY (tenant_id, id)
);
-- The hook's look-up of a subscription's latest row.
CREATE INDEX analytics_mrr_movements_subscription
	ON analytics_mrr_movements (tenant_id, livemode, subscription_id,
	id DESC);
-- Reports read a tenant's history by time.
CREATE INDEX analytics_mrr_movements_at
	ON analytics_mrr_movements (tenant_id, livemode, at);
ALTER TABLE analytics_mrr_movements ENABLE ROW LEVEL SECURITY;
ALTER TABLE analytics_mrr_movements FORCE ROW LEVEL SECURITY;
CREATE POLICY analytics_mrr_movements_tenant ON analytics_mrr_movements
	USING (tenant_id = billow_tenant() AND livemode = billow_livemode())
	WITH CHECK (tenant_id = billow_tenant() AND livemode = billow_livemode());

-- History is append-only: no UPDATE or DELETE for the application.
GRANT SELECT, INSERT ON analytics_mrr_movements TO billow_app;

-- Subscriptions that existed before this migration start their history
-- here, at their creation time, in their current state (an approximation:
-- their earlier changes were never recorded). Same rule as the plugin's
-- mrr_monthly(): amount × quantity × mul / (div × interval_count),
-- rounded half-up once, in exact numeric arithmetic. Seed ids sort before
-- every generated one ("amv_00..." < "amv_01..."), and the hook takes a
-- subscription's latest row by id. The migration runs as
-- the owner; where row-level security hides the rows from it, nothing is
-- seeded and history starts with each subscription's next change.
INSERT INTO analytics_mrr_movements (tenant_id, livemode, id,
	subscription_id, customer_id, currency, at, status, event_id,
	mrr_before, mrr_after, active_before, active_after)
SELECT s.tenant_id, s.livemode, 'amv_00seed_' || s.id, s.id, s.customer_id,
	p.currency, s.created, s.status, NULL, 0,
	CASE WHEN s.status IN ('active', 'past_due') THEN
	    div(2 * p.amount::numeric * s.quantity * m.mul +
	    m.dv * p.interval_count, 2 * m.dv * p.interval_count)::bigint
	ELSE 0 END,
	false, s.status IN ('active', 'past_due')
FROM subscriptions s
JOIN plans p ON p.tenant_id = s.tenant_id AND p.id = s.plan_id
JOIN (VALUES ('day', 365, 12), ('week', 52, 12), ('month', 1, 1),
    ('year', 1, 12)) AS m (interval, mul, dv) ON m.interval = p.interval
WHERE s.status <> 'canceled';
