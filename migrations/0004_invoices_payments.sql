-- Test clocks, invoices with lines, gapless invoice numbers, payments and
-- refunds (API.md "Invoices, payments, refunds", "Test clocks"; BILLING.md
-- "Invoices", "Collection and dunning"). Money is bigint minor units.

CREATE TABLE test_clocks (
	tenant_id	text NOT NULL REFERENCES tenants (id),
	livemode	boolean NOT NULL CHECK (NOT livemode),
	id		text NOT NULL,
	name		text,
	frozen_time	timestamptz NOT NULL,
	status		text NOT NULL DEFAULT 'ready',
	created		timestamptz NOT NULL DEFAULT now(),
	PRIMARY KEY (tenant_id, id)
);

CREATE TABLE invoices (
	tenant_id		text NOT NULL,
	livemode		boolean NOT NULL,
	id			text NOT NULL,
	number			text,
	customer_id		text NOT NULL,
	subscription_id		text,
	status			text NOT NULL DEFAULT 'draft' CHECK (status IN
				('draft', 'open', 'paid', 'void', 'uncollectible')),
	currency		text NOT NULL,
	subtotal		bigint NOT NULL DEFAULT 0,
	total			bigint NOT NULL DEFAULT 0,
	starting_balance	bigint NOT NULL DEFAULT 0,
	ending_balance		bigint NOT NULL DEFAULT 0,
	amount_due		bigint NOT NULL DEFAULT 0,
	amount_paid		bigint NOT NULL DEFAULT 0,
	period_start		timestamptz,
	period_end		timestamptz,
	attempt_count		integer NOT NULL DEFAULT 0,
	next_payment_attempt	timestamptz,
	script_error		text,
	billing_reason		text NOT NULL DEFAULT 'manual',
	metadata		jsonb NOT NULL DEFAULT '{}',
	created			timestamptz NOT NULL DEFAULT now(),
	finalized_at		timestamptz,
	paid_at			timestamptz,
	PRIMARY KEY (tenant_id, id),
	FOREIGN KEY (tenant_id, customer_id) REFERENCES customers (tenant_id, id)
);
-- Gapless per tenant and mode: assigned at finalization from the counter
-- below, in the finalizing transaction.
CREATE UNIQUE INDEX invoices_number ON invoices (tenant_id, livemode, number)
	WHERE number IS NOT NULL;
CREATE INDEX invoices_list ON invoices (tenant_id, livemode, id DESC);
CREATE INDEX invoices_customer ON invoices (tenant_id, livemode, customer_id, id DESC);

CREATE TABLE invoice_numbers (
	tenant_id	text NOT NULL REFERENCES tenants (id),
	livemode	boolean NOT NULL,
	last		bigint NOT NULL DEFAULT 0,
	PRIMARY KEY (tenant_id, livemode)
);

CREATE TABLE invoice_lines (
	tenant_id		text NOT NULL,
	livemode		boolean NOT NULL,
	id			text NOT NULL,
	invoice_id		text NOT NULL,
	position		integer NOT NULL,
	kind			text NOT NULL CHECK (kind IN ('plan', 'usage',
				'proration', 'adjustment', 'one_time')),
	description		text NOT NULL,
	amount			bigint NOT NULL,
	unit_amount		bigint,
	unit_amount_decimal	text,
	quantity		bigint NOT NULL DEFAULT 1,
	period_start		timestamptz,
	period_end		timestamptz,
	PRIMARY KEY (tenant_id, id),
	FOREIGN KEY (tenant_id, invoice_id) REFERENCES invoices (tenant_id, id)
		ON DELETE CASCADE
);
CREATE INDEX invoice_lines_invoice ON invoice_lines (tenant_id, invoice_id, position);

CREATE TABLE payments (
	tenant_id		text NOT NULL,
	livemode		boolean NOT NULL,
	id			text NOT NULL,
	invoice_id		text NOT NULL,
	subscription_id		text,
	customer_id		text NOT NULL,
	amount			bigint NOT NULL CHECK (amount > 0),
	currency		text NOT NULL,
	status			text NOT NULL CHECK (status IN ('pending',
				'succeeded', 'failed', 'refunded',
				'partially_refunded')),
	application_fee_amount	bigint NOT NULL DEFAULT 0,
	net_amount		bigint NOT NULL DEFAULT 0,
	amount_refunded		bigint NOT NULL DEFAULT 0,
	payment_method		text,
	provider		text NOT NULL DEFAULT 'simulator',
	provider_payment_id	text,
	failure_code		text,
	failure_reason		text,
	created			timestamptz NOT NULL DEFAULT now(),
	PRIMARY KEY (tenant_id, id),
	FOREIGN KEY (tenant_id, invoice_id) REFERENCES invoices (tenant_id, id),
	CHECK (amount_refunded BETWEEN 0 AND amount)
);
CREATE INDEX payments_list ON payments (tenant_id, livemode, id DESC);
CREATE INDEX payments_invoice ON payments (tenant_id, invoice_id);

CREATE TABLE refunds (
	tenant_id	text NOT NULL,
	livemode	boolean NOT NULL,
	id		text NOT NULL,
	payment_id	text NOT NULL,
	amount		bigint NOT NULL CHECK (amount > 0),
	status		text NOT NULL DEFAULT 'succeeded',
	reason		text,
	created		timestamptz NOT NULL DEFAULT now(),
	PRIMARY KEY (tenant_id, id),
	FOREIGN KEY (tenant_id, payment_id) REFERENCES payments (tenant_id, id)
);

DO $$
DECLARE
	t text;
BEGIN
	FOREACH t IN ARRAY ARRAY['test_clocks', 'invoices', 'invoice_numbers',
	    'invoice_lines', 'payments', 'refunds'] LOOP
		EXECUTE format('ALTER TABLE %I ENABLE ROW LEVEL SECURITY', t);
		EXECUTE format('ALTER TABLE %I FORCE ROW LEVEL SECURITY', t);
		EXECUTE format('CREATE POLICY %I ON %I USING (tenant_id = '
		    'billow_tenant() AND livemode = billow_livemode()) WITH CHECK '
		    '(tenant_id = billow_tenant() AND livemode = '
		    'billow_livemode())', t || '_tenant', t);
		EXECUTE format('GRANT SELECT, INSERT, UPDATE, DELETE ON %I TO '
		    'billow_app', t);
	END LOOP;
END
$$;
