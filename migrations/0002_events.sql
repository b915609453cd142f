-- The events outbox (DESIGN.md "Events, queue, retries"): every state
-- change writes its event in the same transaction. relayed_at is set by the
-- relay that moves events to the queue (webhooks issue).

CREATE TABLE events (
	tenant_id	text NOT NULL REFERENCES tenants (id),
	livemode	boolean NOT NULL,
	id		text NOT NULL,
	type		text NOT NULL,
	data		jsonb NOT NULL,
	created		timestamptz NOT NULL DEFAULT now(),
	relayed_at	timestamptz,
	PRIMARY KEY (tenant_id, id)
);
CREATE INDEX events_list ON events (tenant_id, livemode, id DESC);
CREATE INDEX events_unrelayed ON events (created) WHERE relayed_at IS NULL;
ALTER TABLE events ENABLE ROW LEVEL SECURITY;
ALTER TABLE events FORCE ROW LEVEL SECURITY;
CREATE POLICY events_tenant ON events
	USING (tenant_id = billow_tenant() AND livemode = billow_livemode())
	WITH CHECK (tenant_id = billow_tenant() AND livemode = billow_livemode());
GRANT SELECT, INSERT, UPDATE ON events TO billow_app;
