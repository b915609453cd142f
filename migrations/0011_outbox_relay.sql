-- The outbox relay (DESIGN.md "Events, queue, retries"; docs/queue.md).
--
-- Committed events and plugin tasks wait here until the relay in `billow
-- worker` has added them to the Redis queue; it marks them relayed in the
-- same transaction that claimed them, after the queue accepted them. So
-- Redis being down delays them and loses nothing, and several relays
-- share the work (FOR UPDATE SKIP LOCKED).

-- Events relay in id order (ids grow with real time; created is the
-- billing time, a test clock's for clock customers).
DROP INDEX events_unrelayed;
CREATE INDEX events_unrelayed ON events (id) WHERE relayed_at IS NULL;

-- Plugin tasks (host task_enqueue), written in the enqueuing transaction.
CREATE TABLE tasks (
	tenant_id	text NOT NULL,
	livemode	boolean NOT NULL,
	id		text NOT NULL,
	type		text NOT NULL,
	payload		text NOT NULL,
	created		timestamptz NOT NULL DEFAULT now(),
	relayed_at	timestamptz,
	PRIMARY KEY (tenant_id, id)
);
CREATE INDEX tasks_unrelayed ON tasks (id) WHERE relayed_at IS NULL;
ALTER TABLE tasks ENABLE ROW LEVEL SECURITY;
ALTER TABLE tasks FORCE ROW LEVEL SECURITY;
CREATE POLICY tasks_tenant ON tasks
	USING (tenant_id = billow_tenant() AND livemode = billow_livemode())
	WITH CHECK (tenant_id = billow_tenant() AND livemode = billow_livemode());
GRANT SELECT, INSERT ON tasks TO billow_app;

-- The relay works across tenants: it claims the oldest unrelayed rows of
-- both tables (locked until its transaction ends) and, once they are in
-- the queue, marks them. Only these two functions see across tenants.
CREATE FUNCTION billow_outbox_claim(lim integer)
	RETURNS TABLE (kind text, tenant_id text, livemode boolean, id text,
	    type text, payload text)
	LANGUAGE sql VOLATILE SECURITY DEFINER SET search_path = public AS $$
	WITH e AS (SELECT x.tenant_id, x.livemode, x.id, x.type FROM events x
	    WHERE x.relayed_at IS NULL ORDER BY x.id LIMIT lim
	    FOR UPDATE SKIP LOCKED),
	t AS (SELECT x.tenant_id, x.livemode, x.id, x.type, x.payload
	    FROM tasks x WHERE x.relayed_at IS NULL ORDER BY x.id LIMIT lim
	    FOR UPDATE SKIP LOCKED)
	SELECT 'event', e.tenant_id, e.livemode, e.id, e.type, NULL FROM e
	UNION ALL
	SELECT 'task', t.tenant_id, t.livemode, t.id, t.type, t.payload FROM t
$$;
CREATE FUNCTION billow_outbox_mark(event_tenants text[], event_ids text[],
    task_tenants text[], task_ids text[])
	RETURNS void
	LANGUAGE sql VOLATILE SECURITY DEFINER SET search_path = public AS $$
	UPDATE events e SET relayed_at = now()
	    FROM unnest(event_tenants, event_ids) AS k(tenant_id, id)
	    WHERE e.tenant_id = k.tenant_id AND e.id = k.id;
	UPDATE tasks t SET relayed_at = now()
	    FROM unnest(task_tenants, task_ids) AS k(tenant_id, id)
	    WHERE t.tenant_id = k.tenant_id AND t.id = k.id;
$$;
REVOKE ALL ON FUNCTION billow_outbox_claim(integer) FROM PUBLIC;
REVOKE ALL ON FUNCTION billow_outbox_mark(text[], text[], text[], text[])
	FROM PUBLIC;
GRANT EXECUTE ON FUNCTION billow_outbox_claim(integer) TO billow_app;
GRANT EXECUTE ON FUNCTION billow_outbox_mark(text[], text[], text[], text[])
	TO billow_app;
