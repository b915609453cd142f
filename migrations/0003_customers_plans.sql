-- Customers and plans (API.md "Customers", "Plans"). Amounts are bigint
-- minor units; currencies upper-case ISO 4217 codes checked by the server.

CREATE TABLE customers (
	tenant_id	text NOT NULL REFERENCES tenants (id),
	livemode	boolean NOT NULL,
	id		text NOT NULL,
	email		text NOT NULL,
	name		text,
	external_id	text,
	description	text,
	phone		text,
	metadata	jsonb NOT NULL DEFAULT '{}',
	payment_method	text,
	test_clock_id	text,
	-- <= 0: a credit owed to the customer (BILLING.md "Customer balance").
	balance		bigint NOT NULL DEFAULT 0 CHECK (balance <= 0),
	deleted		boolean NOT NULL DEFAULT false,
	created		timestamptz NOT NULL DEFAULT now(),
	PRIMARY KEY (tenant_id, id)
);
-- external_id is unique per tenant and mode among live (undeleted) rows.
CREATE UNIQUE INDEX customers_external_id ON customers
	(tenant_id, livemode, external_id)
	WHERE external_id IS NOT NULL AND NOT deleted;
CREATE INDEX customers_list ON customers (tenant_id, livemode, id DESC);
CREATE INDEX customers_email ON customers (tenant_id, livemode, lower(email));
ALTER TABLE customers ENABLE ROW LEVEL SECURITY;
ALTER TABLE customers FORCE ROW LEVEL SECURITY;
CREATE POLICY customers_tenant ON customers
	USING (tenant_id = billow_tenant() AND livemode = billow_livemode())
	WITH CHECK (tenant_id = billow_tenant() AND livemode = billow_livemode());

CREATE TABLE plans (
	tenant_id		text NOT NULL REFERENCES tenants (id),
	livemode		boolean NOT NULL,
	id			text NOT NULL,
	name			text NOT NULL,
	type			text NOT NULL CHECK (type IN ('recurring', 'one_time')),
	amount			bigint NOT NULL CHECK (amount BETWEEN 0 AND 99999999),
	currency		text NOT NULL,
	interval		text CHECK (interval IN ('day', 'week', 'month', 'year')),
	interval_count		integer NOT NULL DEFAULT 1,
	trial_period_days	integer NOT NULL DEFAULT 0
				CHECK (trial_period_days BETWEEN 0 AND 730),
	is_active		boolean NOT NULL DEFAULT true,
	charges			jsonb NOT NULL DEFAULT '[]',
	metadata		jsonb NOT NULL DEFAULT '{}',
	created			timestamptz NOT NULL DEFAULT now(),
	PRIMARY KEY (tenant_id, id),
	CHECK ((type = 'recurring') = (interval IS NOT NULL))
);
CREATE INDEX plans_list ON plans (tenant_id, livemode, id DESC);
ALTER TABLE plans ENABLE ROW LEVEL SECURITY;
ALTER TABLE plans FORCE ROW LEVEL SECURITY;
CREATE POLICY plans_tenant ON plans
	USING (tenant_id = billow_tenant() AND livemode = billow_livemode())
	WITH CHECK (tenant_id = billow_tenant() AND livemode = billow_livemode());

GRANT SELECT, INSERT, UPDATE, DELETE ON customers, plans TO billow_app;
