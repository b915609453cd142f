-- The billing scheduler (DESIGN.md "Billing rules"; BILLING.md "Periods",
-- "Collection and dunning", "Usage").
--
-- Billing time. Work done for a test clock happens at the clock's time,
-- not the wall clock's: the billing core sets app.now (transaction-local)
-- to the instant it is working at, and the rows it writes take their
-- created/finalized/paid times from billow_now(). Outside that, it is now().

CREATE FUNCTION billow_now() RETURNS timestamptz
	LANGUAGE sql STABLE
	AS $$ SELECT coalesce(nullif(current_setting('app.now', true), '')::
	    timestamptz, now()) $$;

ALTER TABLE invoices ALTER COLUMN created SET DEFAULT billow_now();
ALTER TABLE payments ALTER COLUMN created SET DEFAULT billow_now();
ALTER TABLE refunds ALTER COLUMN created SET DEFAULT billow_now();
ALTER TABLE subscriptions ALTER COLUMN created SET DEFAULT billow_now();
ALTER TABLE subscription_pending_items ALTER COLUMN created
	SET DEFAULT billow_now();
ALTER TABLE events ALTER COLUMN created SET DEFAULT billow_now();

-- Dunning: retries are offsets from the first failed attempt.
ALTER TABLE invoices ADD COLUMN first_failed_at timestamptz;

-- Subscriptions: when the first period (or trial) started, how far usage
-- has been invoiced (events before it are period_invoiced), and whether
-- trial_will_end was sent.
ALTER TABLE subscriptions ADD COLUMN started_at timestamptz;
ALTER TABLE subscriptions ADD COLUMN usage_billed_until timestamptz;
ALTER TABLE subscriptions ADD COLUMN trial_notice_sent boolean NOT NULL
	DEFAULT false;
-- The customer's test clock, copied at creation (a customer's clock never
-- changes): the scheduler's scan skips clock subscriptions by index.
ALTER TABLE subscriptions ADD COLUMN test_clock_id text;
UPDATE subscriptions s SET started_at = s.current_period_start,
	usage_billed_until = s.current_period_start,
	test_clock_id = (SELECT c.test_clock_id FROM customers c WHERE
	c.tenant_id = s.tenant_id AND c.id = s.customer_id);
ALTER TABLE subscriptions ALTER COLUMN started_at SET NOT NULL;
ALTER TABLE subscriptions ALTER COLUMN usage_billed_until SET NOT NULL;

-- Usage pending items (a pause's usage of [s, t)) may carry a decimal
-- unit price, as their invoice lines do.
ALTER TABLE subscription_pending_items ADD COLUMN unit_amount_decimal text;

-- Due work, found by index: period ends, notices, retries.
CREATE INDEX subscriptions_period_due ON subscriptions (current_period_end)
	WHERE status IN ('trial', 'active', 'past_due') AND
	test_clock_id IS NULL;
CREATE INDEX subscriptions_notice_due ON subscriptions (trial_end)
	WHERE status = 'trial' AND NOT trial_notice_sent AND
	test_clock_id IS NULL;
CREATE INDEX subscriptions_clock ON subscriptions (tenant_id, test_clock_id)
	WHERE test_clock_id IS NOT NULL AND status <> 'canceled';
CREATE INDEX invoices_retry_due ON invoices (next_payment_attempt)
	WHERE status = 'open' AND next_payment_attempt IS NOT NULL;
CREATE INDEX invoices_subscription ON invoices (tenant_id, subscription_id,
	created) WHERE subscription_id IS NOT NULL;
-- A subscription's own retries (its due time, its step), whatever the
-- backlog of other tenants' dunning.
CREATE INDEX invoices_subscription_retry ON invoices (tenant_id,
	subscription_id, next_payment_attempt) WHERE status = 'open' AND
	next_payment_attempt IS NOT NULL;

-- When a subscription next has work (BILLING.md "Periods": retries, the
-- period end, the trial_will_end notice, three days before the trial
-- ends, or at its start for a shorter trial). Used inside a tenant
-- transaction, so RLS applies as usual.
CREATE FUNCTION billow_subscription_due(s subscriptions)
	RETURNS timestamptz LANGUAGE plpgsql STABLE AS $$
-- PL/pgSQL, not SQL: its query plan is cached for the session, where a
-- SQL function taking a row would be planned again at every call.
DECLARE
	retry	timestamptz;
BEGIN
	IF s.status = 'canceled' THEN
		RETURN NULL;
	END IF;
	SELECT min(i.next_payment_attempt) INTO retry FROM invoices i
	WHERE i.tenant_id = s.tenant_id AND i.subscription_id = s.id
	AND i.status = 'open' AND i.next_payment_attempt IS NOT NULL;
	RETURN least(
	    CASE WHEN s.status IN ('trial', 'active', 'past_due')
		THEN s.current_period_end END,
	    CASE WHEN s.status = 'trial' AND NOT s.trial_notice_sent
		THEN greatest(s.trial_end - interval '3 days', s.started_at)
		END,
	    retry);
END
$$;

-- The scheduler's scan over every tenant: subscriptions with work due by
-- now, whose customer is on no test clock (a clock's work runs when the
-- clock is advanced), soonest first, then in id order. It returns only
-- where to look; the worker then opens that tenant's transaction, locks
-- the subscription (FOR UPDATE SKIP LOCKED) and checks again.
CREATE FUNCTION billow_due_subscriptions(lim integer)
	RETURNS TABLE (tenant_id text, livemode boolean, id text,
	    due timestamptz)
	LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public AS $$
	SELECT s.tenant_id, s.livemode, s.id, min(d.due) AS due
	FROM (
		SELECT x.tenant_id, x.id, x.current_period_end AS due
		FROM subscriptions x
		WHERE x.status IN ('trial', 'active', 'past_due')
		AND x.test_clock_id IS NULL
		AND x.current_period_end <= now()
		UNION ALL
		SELECT x.tenant_id, x.id, greatest(x.trial_end -
		    interval '3 days', x.started_at)
		FROM subscriptions x
		WHERE x.status = 'trial' AND NOT x.trial_notice_sent
		AND x.test_clock_id IS NULL
		AND x.trial_end <= now() + interval '3 days'
		UNION ALL
		SELECT i.tenant_id, i.subscription_id, i.next_payment_attempt
		FROM invoices i
		WHERE i.status = 'open' AND i.next_payment_attempt IS NOT NULL
		AND i.next_payment_attempt <= now()
		AND i.subscription_id IS NOT NULL
	) d
	JOIN subscriptions s ON s.tenant_id = d.tenant_id AND s.id = d.id
	JOIN tenants t ON t.id = s.tenant_id
	WHERE s.test_clock_id IS NULL AND s.status <> 'canceled'
	AND t.is_active
	GROUP BY s.tenant_id, s.livemode, s.id
	HAVING min(d.due) <= now()
	ORDER BY min(d.due), s.id
	LIMIT lim
$$;
REVOKE ALL ON FUNCTION billow_due_subscriptions(integer) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION billow_due_subscriptions(integer) TO billow_app;
