-- As the core's migration 0010: the plugin's per-request tables do not
-- reference tenants(id). Each referential check shares a lock on the
-- tenant's one row, which concurrent writes of one tenant turn into a
-- slow MultiXact; tenants are never deleted and row-level security's WITH
-- CHECK already confines tenant_id to the authenticated tenant.
ALTER TABLE analytics_events
	DROP CONSTRAINT IF EXISTS analytics_events_tenant_id_fkey;
ALTER TABLE analytics_mrr_movements
	DROP CONSTRAINT IF EXISTS analytics_mrr_movements_tenant_id_fkey;
