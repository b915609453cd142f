-- Analytics events (the seed's AnalyticsEvent): free-form product events a
-- tenant records against its own users and sessions. Tenant data like any
-- other: keyed by (tenant_id, id), split by mode, row-level security forced.

CREATE TABLE analytics_events (
	tenant_id	text NOT NULL REFERENCES tenants (id),
	livemode	boolean NOT NULL,
	id		text NOT NULL,
	event_name	text NOT NULL,
	event_data	jsonb NOT NULL DEFAULT '{}',
	user_id		text,
	session_id	text,
	created		timestamptz NOT NULL DEFAULT now(),
	PRIMARY KEY (tenant_id, id)
);
-- Listing, newest first, and listing one event name.
CREATE INDEX analytics_events_list
	ON analytics_events (tenant_id, livemode, id DESC);
CREATE INDEX analytics_events_name
	ON analytics_events (tenant_id, livemode, event_name, id DESC);
ALTER TABLE analytics_events ENABLE ROW LEVEL SECURITY;
ALTER TABLE analytics_events FORCE ROW LEVEL SECURITY;
CREATE POLICY analytics_events_tenant ON analytics_events
	USING (tenant_id = billow_tenant() AND livemode = billow_livemode())
	WITH CHECK (tenant_id = billow_tenant() AND livemode = billow_livemode());

-- Events are append-only: no UPDATE or DELETE for the application.
GRANT SELECT, INSERT ON analytics_events TO billow_app;
