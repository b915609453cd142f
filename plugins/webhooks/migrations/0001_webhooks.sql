-- Webhook endpoints and deliveries (API.md "Events and webhooks"; the
-- webhooks plugin, plugins/webhooks/). Tenant data like any other: keyed
-- by (tenant_id, id), split by mode, row-level security forced. As the
-- core's migration 0010, no foreign key to tenants(id); the keys between
-- these two tables include tenant_id.

CREATE TABLE webhook_endpoints (
	tenant_id	text NOT NULL,
	livemode	boolean NOT NULL,
	id		text NOT NULL,
	url		text NOT NULL CHECK (length(url) <= 2048),
	description	text,
	-- ["*"] or a non-empty list of event types, as the API took them.
	enabled_events	text[] NOT NULL CHECK (cardinality(enabled_events) > 0),
	-- Signs every delivery (HMAC-SHA256). Stored in plain text because
	-- signing needs it; shown only on create and roll, never logged.
	-- Encrypting it at rest needs a host encryption call (README.md).
	secret		text NOT NULL,
	status		text NOT NULL DEFAULT 'enabled'
			CHECK (status IN ('enabled', 'disabled')),
	-- Made from the tenant's registration webhook_url.
	registration	boolean NOT NULL DEFAULT false,
	created		timestamptz NOT NULL DEFAULT now(),
	PRIMARY KEY (tenant_id, id)
);
-- Listing newest first; fan-out reads every endpoint of a tenant and mode.
CREATE INDEX webhook_endpoints_list
	ON webhook_endpoints (tenant_id, livemode, id DESC);
ALTER TABLE webhook_endpoints ENABLE ROW LEVEL SECURITY;
ALTER TABLE webhook_endpoints FORCE ROW LEVEL SECURITY;
CREATE POLICY webhook_endpoints_tenant ON webhook_endpoints
	USING (tenant_id = billow_tenant() AND livemode = billow_livemode())
	WITH CHECK (tenant_id = billow_tenant() AND livemode = billow_livemode());
GRANT SELECT, INSERT, UPDATE, DELETE ON webhook_endpoints TO billow_app;

-- One row per (endpoint, event): the fan-out inserts it at most once
-- however often the event is relayed (at-least-once upstream). Each send
-- updates it; generation counts manual retries, so a task of an older
-- run finds itself stale and stops.
CREATE TABLE webhook_deliveries (
	tenant_id		text NOT NULL,
	livemode		boolean NOT NULL,
	id			text NOT NULL,
	endpoint_id		text NOT NULL,
	event_id		text NOT NULL,
	event_type		text NOT NULL,
	status			text NOT NULL DEFAULT 'pending'
				CHECK (status IN ('pending', 'delivered',
				'failed')),
	attempt_count		integer NOT NULL DEFAULT 0,
	last_response_status	integer,
	-- At most 64 KiB of the last answer's body.
	last_response_body	text,
	last_error		text,
	next_attempt_at		timestamptz,
	delivered_at		timestamptz,
	generation		integer NOT NULL DEFAULT 1,
	created			timestamptz NOT NULL DEFAULT now(),
	PRIMARY KEY (tenant_id, id),
	UNIQUE (tenant_id, endpoint_id, event_id),
	FOREIGN KEY (tenant_id, endpoint_id)
		REFERENCES webhook_endpoints (tenant_id, id) ON DELETE CASCADE
);
-- An endpoint's deliveries, newest first.
CREATE INDEX webhook_deliveries_endpoint
	ON webhook_deliveries (tenant_id, endpoint_id, id DESC);
ALTER TABLE webhook_deliveries ENABLE ROW LEVEL SECURITY;
ALTER TABLE webhook_deliveries FORCE ROW LEVEL SECURITY;
CREATE POLICY webhook_deliveries_tenant ON webhook_deliveries
	USING (tenant_id = billow_tenant() AND livemode = billow_livemode())
	WITH CHECK (tenant_id = billow_tenant() AND livemode = billow_livemode());
GRANT SELECT, INSERT, UPDATE, DELETE ON webhook_deliveries TO billow_app;
