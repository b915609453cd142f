-- Foundation: the application role, tenants, users, API keys, refresh
-- tokens, audit log, idempotency records and platform admins.
--
-- Row-level security (DESIGN.md "Data"): every tenant table is keyed by
-- (tenant_id, id), RLS is forced, and policies compare with the
-- transaction-local settings app.tenant_id / app.livemode. The server
-- connects as billow_app, which owns nothing, so a query with no tenant set
-- sees no rows even when its SQL forgets the WHERE clause.

DO $$
BEGIN
	IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'billow_app') THEN
		CREATE ROLE billow_app NOLOGIN NOSUPERUSER NOBYPASSRLS;
	END IF;
END
$$;
GRANT billow_app TO CURRENT_USER;
GRANT USAGE ON SCHEMA public TO billow_app;

-- The current tenant and mode, NULL when unset (so comparisons fail).
CREATE FUNCTION billow_tenant() RETURNS text
	LANGUAGE sql STABLE AS
	$$ SELECT nullif(current_setting('app.tenant_id', true), '') $$;
CREATE FUNCTION billow_livemode() RETURNS boolean
	LANGUAGE sql STABLE AS
	$$ SELECT nullif(current_setting('app.livemode', true), '')::boolean $$;
CREATE FUNCTION billow_is_platform_admin() RETURNS boolean
	LANGUAGE sql STABLE AS
	$$ SELECT coalesce(current_setting('app.platform_admin', true), '') = 'on' $$;

CREATE TABLE tenants (
	id			text PRIMARY KEY,
	company_name		text NOT NULL,
	slug			text NOT NULL UNIQUE,
	email			text NOT NULL,
	domain			text,
	webhook_url		text,
	-- Needed in clear to sign deliveries; never logged or listed.
	webhook_secret		text NOT NULL,
	platform_fee_bps	integer NOT NULL DEFAULT 1500
				CHECK (platform_fee_bps BETWEEN 0 AND 10000),
	subscription_tier	text NOT NULL DEFAULT 'free',
	is_test_mode		boolean NOT NULL DEFAULT true,
	is_active		boolean NOT NULL DEFAULT true,
	stripe_connect_status	text NOT NULL DEFAULT 'pending',
	stripe_account_id	text,
	branding_json		jsonb NOT NULL DEFAULT '{}',
	dunning_retry_days	integer[] NOT NULL DEFAULT '{1,3,5,7}',
	dunning_final_action	text NOT NULL DEFAULT 'cancel'
				CHECK (dunning_final_action IN ('cancel', 'unpaid')),
	created			timestamptz NOT NULL DEFAULT now()
);
ALTER TABLE tenants ENABLE ROW LEVEL SECURITY;
ALTER TABLE tenants FORCE ROW LEVEL SECURITY;
CREATE POLICY tenants_own ON tenants
	USING (id = billow_tenant() OR billow_is_platform_admin())
	WITH CHECK (id = billow_tenant() OR billow_is_platform_admin());

CREATE TABLE users (
	tenant_id	text NOT NULL REFERENCES tenants (id),
	id		text NOT NULL,
	email		text NOT NULL,
	password_hash	text NOT NULL,
	first_name	text NOT NULL DEFAULT '',
	last_name	text NOT NULL DEFAULT '',
	role		text NOT NULL CHECK (role IN ('owner', 'admin', 'developer')),
	created		timestamptz NOT NULL DEFAULT now(),
	PRIMARY KEY (tenant_id, id)
);
-- Logins are by email across tenants, so an email belongs to one user.
CREATE UNIQUE INDEX users_email ON users (lower(email));
ALTER TABLE users ENABLE ROW LEVEL SECURITY;
ALTER TABLE users FORCE ROW LEVEL SECURITY;
CREATE POLICY users_tenant ON users
	USING (tenant_id = billow_tenant())
	WITH CHECK (tenant_id = billow_tenant());

CREATE TABLE api_keys (
	tenant_id	text NOT NULL REFERENCES tenants (id),
	id		text NOT NULL,
	livemode	boolean NOT NULL,
	publishable	boolean NOT NULL,
	key_hash	text NOT NULL UNIQUE,	-- SHA-256 hex of the key
	last4		text NOT NULL,
	-- Publishable keys are public by design and shown in full.
	public_key	text,
	created		timestamptz NOT NULL DEFAULT now(),
	expires_at	timestamptz,
	PRIMARY KEY (tenant_id, id)
);
CREATE INDEX api_keys_current ON api_keys (tenant_id, livemode, publishable)
	WHERE expires_at IS NULL;
ALTER TABLE api_keys ENABLE ROW LEVEL SECURITY;
ALTER TABLE api_keys FORCE ROW LEVEL SECURITY;
-- Keys are managed per tenant across both modes (the owner rolls both).
CREATE POLICY api_keys_tenant ON api_keys
	USING (tenant_id = billow_tenant())
	WITH CHECK (tenant_id = billow_tenant());

CREATE TABLE refresh_tokens (
	tenant_id	text NOT NULL REFERENCES tenants (id),
	jti		text NOT NULL,
	user_id		text NOT NULL,
	expires_at	timestamptz NOT NULL,
	revoked_at	timestamptz,
	created		timestamptz NOT NULL DEFAULT now(),
	PRIMARY KEY (tenant_id, jti),
	FOREIGN KEY (tenant_id, user_id) REFERENCES users (tenant_id, id)
		ON DELETE CASCADE
);
CREATE INDEX refresh_tokens_user ON refresh_tokens (tenant_id, user_id);
ALTER TABLE refresh_tokens ENABLE ROW LEVEL SECURITY;
ALTER TABLE refresh_tokens FORCE ROW LEVEL SECURITY;
CREATE POLICY refresh_tokens_tenant ON refresh_tokens
	USING (tenant_id = billow_tenant())
	WITH CHECK (tenant_id = billow_tenant());

CREATE TABLE audit_logs (
	tenant_id	text NOT NULL REFERENCES tenants (id),
	id		text NOT NULL,
	actor_type	text NOT NULL,	-- user | api_key | admin | system
	actor_id	text NOT NULL,
	actor_email	text,
	action		text NOT NULL,
	target		text,
	details		jsonb NOT NULL DEFAULT '{}',
	created		timestamptz NOT NULL DEFAULT now(),
	PRIMARY KEY (tenant_id, id)
);
ALTER TABLE audit_logs ENABLE ROW LEVEL SECURITY;
ALTER TABLE audit_logs FORCE ROW LEVEL SECURITY;
CREATE POLICY audit_logs_tenant ON audit_logs
	USING (tenant_id = billow_tenant())
	WITH CHECK (tenant_id = billow_tenant());

-- Idempotency records: written in the request's own transaction.
CREATE TABLE idempotency_keys (
	tenant_id	text NOT NULL REFERENCES tenants (id),
	livemode	boolean NOT NULL,
	key		text NOT NULL,
	request_hash	text NOT NULL,
	status		integer NOT NULL,
	body		text NOT NULL,
	created		timestamptz NOT NULL DEFAULT now(),
	PRIMARY KEY (tenant_id, livemode, key)
);
CREATE INDEX idempotency_keys_created ON idempotency_keys (created);
ALTER TABLE idempotency_keys ENABLE ROW LEVEL SECURITY;
ALTER TABLE idempotency_keys FORCE ROW LEVEL SECURITY;
CREATE POLICY idempotency_keys_tenant ON idempotency_keys
	USING (tenant_id = billow_tenant() AND livemode = billow_livemode())
	WITH CHECK (tenant_id = billow_tenant() AND livemode = billow_livemode());

-- Platform admins: not tenant data; reachable only through the functions
-- below and in admin transactions.
CREATE TABLE platform_admins (
	id		text PRIMARY KEY,
	email		text NOT NULL UNIQUE,
	password_hash	text NOT NULL,
	created		timestamptz NOT NULL DEFAULT now()
);
ALTER TABLE platform_admins ENABLE ROW LEVEL SECURITY;
ALTER TABLE platform_admins FORCE ROW LEVEL SECURITY;
CREATE POLICY platform_admins_admin ON platform_admins
	USING (billow_is_platform_admin());

-- Look-ups that must happen before a tenant is known. SECURITY DEFINER
-- runs them as the owner; each returns only what authentication needs.
CREATE FUNCTION billow_auth_key(p_hash text)
	RETURNS TABLE (key_id text, tenant_id text, livemode boolean,
	    publishable boolean, company_name text, slug text,
	    expires_at bigint)
	LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public AS $$
	SELECT k.id, k.tenant_id, k.livemode, k.publishable, t.company_name,
	    t.slug, extract(epoch FROM k.expires_at)::bigint
	FROM api_keys k JOIN tenants t ON t.id = k.tenant_id
	WHERE k.key_hash = p_hash AND t.is_active
	    AND (k.expires_at IS NULL OR k.expires_at > now())
$$;

CREATE FUNCTION billow_auth_session(p_user text, p_tenant text)
	RETURNS TABLE (role text, is_test_mode boolean)
	LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public AS $$
	SELECT u.role, t.is_test_mode
	FROM users u JOIN tenants t ON t.id = u.tenant_id
	WHERE u.id = p_user AND u.tenant_id = p_tenant AND t.is_active
$$;

CREATE FUNCTION billow_auth_login(p_email text)
	RETURNS TABLE (user_id text, tenant_id text, password_hash text,
	    tenant_active boolean)
	LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public AS $$
	SELECT u.id, u.tenant_id, u.password_hash, t.is_active
	FROM users u JOIN tenants t ON t.id = u.tenant_id
	WHERE lower(u.email) = lower(p_email)
$$;

CREATE FUNCTION billow_auth_admin_login(p_email text)
	RETURNS TABLE (id text, password_hash text)
	LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public AS $$
	SELECT a.id, a.password_hash FROM platform_admins a
	WHERE a.email = lower(p_email)
$$;

CREATE FUNCTION billow_auth_admin_id(p_id text)
	RETURNS TABLE (id text)
	LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public AS $$
	SELECT a.id FROM platform_admins a WHERE a.id = p_id
$$;

-- The first free slug for BASE: BASE, BASE-2, BASE-3, ...
CREATE FUNCTION billow_free_slug(p_base text) RETURNS text
	LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = public AS $$
DECLARE
	n integer := 1;
	candidate text := p_base;
BEGIN
	WHILE EXISTS (SELECT 1 FROM tenants WHERE slug = candidate) LOOP
		n := n + 1;
		candidate := p_base || '-' || n;
	END LOOP;
	RETURN candidate;
END
$$;

-- Raises BW409 when another transaction holds the same idempotency key.
CREATE FUNCTION billow_idem_lock(p_key text) RETURNS void
	LANGUAGE plpgsql AS $$
BEGIN
	IF NOT pg_try_advisory_xact_lock(hashtextextended(p_key, 7)) THEN
		RAISE EXCEPTION 'idempotency key in use' USING ERRCODE = 'BW409';
	END IF;
END
$$;

-- Housekeeping for `billow worker`: expired idempotency records and
-- refresh tokens, across tenants. Returns the rows removed.
CREATE FUNCTION billow_gc() RETURNS bigint
	LANGUAGE plpgsql SECURITY DEFINER SET search_path = public AS $$
DECLARE
	a bigint;
	b bigint;
BEGIN
	DELETE FROM idempotency_keys WHERE created < now() - interval '24 hours';
	GET DIAGNOSTICS a = ROW_COUNT;
	DELETE FROM refresh_tokens WHERE expires_at < now() - interval '1 day';
	GET DIAGNOSTICS b = ROW_COUNT;
	RETURN a + b;
END
$$;

GRANT SELECT, INSERT, UPDATE, DELETE ON tenants, users, api_keys,
	refresh_tokens, audit_logs, idempotency_keys, platform_admins
	TO billow_app;
REVOKE ALL ON FUNCTION billow_gc() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION billow_gc() TO billow_app;
