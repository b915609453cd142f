/*
 * The analytics plugin's reports (API.md "Analytics"):
 *
 *   GET /api/v1/analytics/summary   MRR, ARR, counts, ARPU, churn, LTV
 *                                   per currency, now
 *   GET /api/v1/analytics/metrics   a series of buckets (day, ISO week,
 *                                   calendar month; UTC) per currency
 *
 * Read-only, on Kore task threads in the request's tenant transaction:
 * row-level security confines every statement to the caller's tenant and
 * mode. Figures come from analytics_mrr_movements (history.c), the
 * subscriptions, payments and refunds tables, in a few set-based
 * statements; money stays in integers (bigint in SQL, int64 here).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "analytics.h"

#define REPORT_BUCKETS_MAX	366
#define REPORT_DAY		86400LL
#define REPORT_WEEK		(7 * REPORT_DAY)
/* 1970-01-01 was a Thursday; ISO weeks start on Monday 1970-01-05. */
#define REPORT_MONDAY		(4 * REPORT_DAY)
/* Churn looks back this far (API.md "Analytics": "the last 30 days"). */
#define REPORT_CHURN_WINDOW	"30 days"

static const struct billow_host		*host;
static struct billow_plugin_handle	*self;

#define SQL_EPOCH(x)	"floor(extract(epoch FROM " x "))::bigint"

/*
 * Customer movements, per customer and currency, from the per-subscription
 * history (ChartMogul's and Baremetrics' rules). Changes of one customer
 * at one instant are netted first (a customer deleted with two
 * subscriptions churns once, for both). Then, with before/after the
 * customer's MRR in that currency around the instant:
 *   0 -> x: "new" the first time, "reactivation" if it ever had MRR;
 *   x -> y > x: "expansion"; x -> 0 < y < x: "contraction";
 *   x -> 0: "churned".
 * amount is the size of the movement, always positive.
 */
#define SQL_KINDS							\
	"cust AS (SELECT customer_id, currency, at, "			\
	"sum(mrr_after - mrr_before) AS d FROM analytics_mrr_movements " \
	"GROUP BY customer_id, currency, at), "				\
	"run AS (SELECT customer_id, currency, at, d, sum(d) OVER "	\
	"(PARTITION BY customer_id, currency ORDER BY at) AS after "	\
	"FROM cust), "							\
	"moves AS (SELECT customer_id, currency, at, after - d AS "	\
	"before, after, coalesce(bool_or(after > 0) OVER (PARTITION BY " \
	"customer_id, currency ORDER BY at ROWS BETWEEN UNBOUNDED "	\
	"PRECEDING AND 1 PRECEDING), false) AS had FROM run "		\
	"WHERE d <> 0), "						\
	"kinds AS (SELECT customer_id, currency, at, CASE "		\
	"WHEN before = 0 AND NOT had THEN 'new' "			\
	"WHEN before = 0 THEN 'reactivation' "				\
	"WHEN after = 0 THEN 'churned' "				\
	"WHEN after > before THEN 'expansion' "				\
	"ELSE 'contraction' END AS kind, abs(after - before) AS amount " \
	"FROM moves)"

/*
 * The summary, one row per currency the tenant has billed subscriptions
 * in. MRR now: every subscription's latest row. Thirty days ago: the
 * rows before then. Counts: the subscriptions table as it is.
 */
#define SQL_SUMMARY							\
	"WITH " SQL_KINDS ", "						\
	"t0 AS (SELECT now() - interval '" REPORT_CHURN_WINDOW "' AS t), " \
	"cur AS (SELECT p.currency FROM subscriptions s JOIN plans p ON " \
	"p.tenant_id = s.tenant_id AND p.id = s.plan_id UNION "		\
	"SELECT currency FROM analytics_mrr_movements), "		\
	"subs AS (SELECT p.currency, count(*) FILTER (WHERE s.status IN " \
	"('active', 'past_due')) AS active, count(*) FILTER (WHERE "	\
	"s.status = 'trial') AS trialing FROM subscriptions s JOIN "	\
	"plans p ON p.tenant_id = s.tenant_id AND p.id = s.plan_id "	\
	"GROUP BY p.currency), "					\
	"nowc AS (SELECT currency, customer_id, sum(mrr_after - "	\
	"mrr_before) AS mrr FROM analytics_mrr_movements GROUP BY 1, 2), " \
	"thenc AS (SELECT m.currency, m.customer_id, sum(m.mrr_after - " \
	"m.mrr_before) AS mrr FROM analytics_mrr_movements m, t0 WHERE " \
	"m.at < t0.t GROUP BY 1, 2), "					\
	"n AS (SELECT currency, sum(mrr) AS mrr, count(*) FILTER (WHERE " \
	"mrr > 0) AS paying FROM nowc GROUP BY 1), "			\
	"o AS (SELECT currency, sum(mrr) AS mrr, count(*) FILTER (WHERE " \
	"mrr > 0) AS paying FROM thenc GROUP BY 1), "			\
	"ch AS (SELECT k.currency, count(DISTINCT k.customer_id) AS "	\
	"customers, sum(k.amount) AS mrr FROM kinds k, t0 WHERE "	\
	"k.kind = 'churned' AND k.at >= t0.t GROUP BY 1) "		\
	"SELECT c.currency, coalesce(n.mrr, 0)::bigint AS mrr, "	\
	"coalesce(n.paying, 0)::bigint AS paying, "			\
	"coalesce(o.mrr, 0)::bigint AS mrr_then, "			\
	"coalesce(o.paying, 0)::bigint AS paying_then, "		\
	"coalesce(ch.customers, 0)::bigint AS churned_customers, "	\
	"coalesce(ch.mrr, 0)::bigint AS churned_mrr, "			\
	"coalesce(subs.active, 0)::bigint AS active, "			\
	"coalesce(subs.trialing, 0)::bigint AS trialing "		\
	"FROM cur c LEFT JOIN n ON n.currency = c.currency "		\
	"LEFT JOIN o ON o.currency = c.currency "			\
	"LEFT JOIN ch ON ch.currency = c.currency "			\
	"LEFT JOIN subs ON subs.currency = c.currency "			\
	"ORDER BY c.currency"

/*
 * The series: $1 the interval ("day", "week", "month"), $2 the first
 * bucket's start (UNIX seconds, aligned), $3 the number of buckets. One
 * row per bucket and currency (every currency the tenant has MRR history
 * or payments in), oldest first. mrr and active_subscriptions are the
 * state at the bucket's end (history rows before it); movements, revenue,
 * refunds and fees are what happened in [start, end).
 */
#define SQL_METRICS							\
	"WITH b AS (SELECT i, (f.t + i * u.iv) AT TIME ZONE 'UTC' AS "	\
	"start, (f.t + (i + 1) * u.iv) AT TIME ZONE 'UTC' AS fin FROM "	\
	"(SELECT to_timestamp($2::bigint) AT TIME ZONE 'UTC' AS t) f, "	\
	"(SELECT ('1 ' || $1)::interval AS iv) u, "			\
	"generate_series(0, $3::int - 1) i), "				\
	"lo AS (SELECT min(start) AS t FROM b), "			\
	SQL_KINDS ", "							\
	"cur AS (SELECT currency FROM analytics_mrr_movements UNION "	\
	"SELECT currency FROM payments), "				\
	"lvl AS (SELECT b.i, m.currency, sum(m.mrr_after - "		\
	"m.mrr_before) AS d, sum(m.active_after::int - "		\
	"m.active_before::int) AS a FROM b JOIN analytics_mrr_movements " \
	"m ON m.at >= b.start AND m.at < b.fin GROUP BY 1, 2), "	\
	"base AS (SELECT m.currency, sum(m.mrr_after - m.mrr_before) AS " \
	"d, sum(m.active_after::int - m.active_before::int) AS a FROM "	\
	"analytics_mrr_movements m, lo WHERE m.at < lo.t GROUP BY 1), "	\
	"mv AS (SELECT b.i, k.currency, "				\
	"sum(k.amount) FILTER (WHERE k.kind = 'new') AS new, "		\
	"sum(k.amount) FILTER (WHERE k.kind = 'expansion') AS expansion, " \
	"sum(k.amount) FILTER (WHERE k.kind = 'contraction') AS "	\
	"contraction, "							\
	"sum(k.amount) FILTER (WHERE k.kind = 'churned') AS churned, "	\
	"sum(k.amount) FILTER (WHERE k.kind = 'reactivation') AS "	\
	"reactivation FROM b JOIN kinds k ON k.at >= b.start AND "	\
	"k.at < b.fin GROUP BY 1, 2), "					\
	"pay AS (SELECT b.i, p.currency, sum(p.amount) AS revenue, "	\
	"sum(p.application_fee_amount) AS fees FROM b JOIN payments p "	\
	"ON p.created >= b.start AND p.created < b.fin WHERE p.status "	\
	"IN ('succeeded', 'refunded', 'partially_refunded') "		\
	"GROUP BY 1, 2), "						\
	"ref AS (SELECT b.i, p.currency, sum(r.amount) AS refunds FROM " \
	"b JOIN refunds r ON r.created >= b.start AND r.created < b.fin " \
	"JOIN payments p ON p.tenant_id = r.tenant_id AND "		\
	"p.id = r.payment_id GROUP BY 1, 2) "				\
	"SELECT " SQL_EPOCH("b.start") " AS start, "			\
	SQL_EPOCH("b.fin") " AS fin, c.currency, "			\
	"(coalesce(base.d, 0) + sum(coalesce(lvl.d, 0)) OVER w)::bigint " \
	"AS mrr, "							\
	"coalesce(mv.new, 0)::bigint AS new_mrr, "			\
	"coalesce(mv.expansion, 0)::bigint AS expansion_mrr, "		\
	"coalesce(mv.contraction, 0)::bigint AS contraction_mrr, "	\
	"coalesce(mv.churned, 0)::bigint AS churned_mrr, "		\
	"coalesce(mv.reactivation, 0)::bigint AS reactivation_mrr, "	\
	"coalesce(pay.revenue, 0)::bigint AS revenue, "			\
	"coalesce(ref.refunds, 0)::bigint AS refunds, "			\
	"coalesce(pay.fees, 0)::bigint AS platform_fees, "		\
	"(coalesce(base.a, 0) + sum(coalesce(lvl.a, 0)) OVER w)::bigint " \
	"AS active_subscriptions "					\
	"FROM b CROSS JOIN cur c "					\
	"LEFT JOIN lvl ON lvl.i = b.i AND lvl.currency = c.currency "	\
	"LEFT JOIN base ON base.currency = c.currency "			\
	"LEFT JOIN mv ON mv.i = b.i AND mv.currency = c.currency "	\
	"LEFT JOIN pay ON pay.i = b.i AND pay.currency = c.currency "	\
	"LEFT JOIN ref ON ref.i = b.i AND ref.currency = c.currency "	\
	"WINDOW w AS (PARTITION BY c.currency ORDER BY b.i) "		\
	"ORDER BY b.i, c.currency"

/* The integer in column COL of ROW (0 for NULL). */
static int64_t
report_int(const struct billow_result *res, int row, const char *col)
{
	const char	*v = host->result_value(res, row, col);

	return v != NULL ? strtoll(v, NULL, 10) : 0;
}

/* One currency's summary from a SQL_SUMMARY row. */
static json_t *
report_currency(const struct billow_result *res, int row)
{
	int64_t	mrr, paying, mrr_then, paying_then, churned, churned_mrr;
	int64_t	arpu;
	char	cust_rate[32], rev_rate[32];
	json_t	*ltv;

	mrr = report_int(res, row, "mrr");
	paying = report_int(res, row, "paying");
	mrr_then = report_int(res, row, "mrr_then");
	paying_then = report_int(res, row, "paying_then");
	churned = report_int(res, row, "churned_customers");
	churned_mrr = report_int(res, row, "churned_mrr");

	/* ARPU: MRR over paying customers, half-up; 0 with none. */
	arpu = paying > 0 ? mrr_div_round(mrr, paying) : 0;
	/*
	 * Rates over the last 30 days: customers churned over customers
	 * paying 30 days ago; churned MRR over MRR 30 days ago. Four places,
	 * half-up; "0.0000" when there was no base.
	 */
	mrr_rate_format(churned, paying_then, cust_rate, sizeof(cust_rate));
	mrr_rate_format(churned_mrr, mrr_then, rev_rate, sizeof(rev_rate));
	/*
	 * LTV = ARPU / customer churn rate, from the exact rate
	 * (churned / paying_then), rounded once: ARPU × paying_then /
	 * churned. null while nobody churned: the lifetime is unbounded.
	 */
	ltv = json_null();
	if (churned > 0 && paying_then > 0) {
		json_decref(ltv);
		ltv = json_integer((json_int_t)mrr_div_round(arpu *
		    paying_then, churned));
	}
	return json_pack("{s:I, s:I, s:I, s:I, s:I, s:s, s:s, s:o}",
	    "mrr", (json_int_t)mrr,
	    "arr", (json_int_t)(12 * mrr),
	    "active_subscriptions", (json_int_t)report_int(res, row,
	    "active"),
	    "trialing_subscriptions", (json_int_t)report_int(res, row,
	    "trialing"),
	    "arpu", (json_int_t)arpu,
	    "customer_churn_rate", cust_rate,
	    "revenue_churn_rate", rev_rate,
	    "ltv", ltv);
}

/*
 * GET /analytics/summary: API.md's shape literally, {currency: {...}},
 * the currency codes as the only top-level keys (docs/api.md).
 */
static int
report_summary(struct billow_req *req)
{
	struct billow_result	*res;
	json_t			*out, *cur;
	int			 i;

	if (host->sql(req, SQL_SUMMARY, 0, NULL, &res) != BILLOW_OK)
		return BILLOW_ERROR;
	out = json_object();
	for (i = 0; i < host->result_rows(res); i++) {
		if ((cur = report_currency(res, i)) == NULL ||
		    json_object_set_new(out, host->result_value(res, i,
		    "currency"), cur) != 0) {
			host->result_free(res);
			json_decref(out);
			return BILLOW_ERROR;
		}
	}
	host->result_free(res);
	return host->respond_json(req, 200, out);
}

/* floor(A / B) for B > 0, whatever A's sign. */
static int64_t
report_floor_div(int64_t a, int64_t b)
{
	int64_t	q = a / b;

	return (a % b != 0 && a < 0) ? q - 1 : q;
}

/* The start of the UTC month holding T, and its year × 12 + month. */
static int
report_month(int64_t t, int64_t *start, int64_t *index)
{
	time_t		tt = (time_t)t;
	struct tm	tm;

	if (gmtime_r(&tt, &tm) == NULL)
		return BILLOW_ERROR;
	*index = (int64_t)(tm.tm_year + 1900) * 12 + tm.tm_mon;
	tm.tm_mday = 1;
	tm.tm_hour = tm.tm_min = tm.tm_sec = 0;
	*start = (int64_t)timegm(&tm);
	return BILLOW_OK;
}

/*
 * The buckets of INTERVAL that cover [FROM, TO): the first one's start
 * (*START), the last one's end (*END) and how many (*N). Buckets are UTC
 * days, ISO weeks (Monday 00:00) and calendar months.
 */
static int
report_buckets(const char *interval, int64_t from, int64_t to,
    int64_t *start, int64_t *end, int64_t *n)
{
	int64_t	last, i0, i1, s1;

	if (strcmp(interval, "month") == 0) {
		if (report_month(from, start, &i0) != BILLOW_OK ||
		    report_month(to - 1, &s1, &i1) != BILLOW_OK)
			return BILLOW_ERROR;
		*n = i1 - i0 + 1;
		/* The month after the last: day 1 of the next one. */
		if (report_month(s1 + 32 * REPORT_DAY, end, &i1) != BILLOW_OK)
			return BILLOW_ERROR;
		return BILLOW_OK;
	}
	if (strcmp(interval, "week") == 0) {
		*start = report_floor_div(from - REPORT_MONDAY, REPORT_WEEK) *
		    REPORT_WEEK + REPORT_MONDAY;
		last = report_floor_div(to - 1 - REPORT_MONDAY, REPORT_WEEK) *
		    REPORT_WEEK + REPORT_MONDAY;
		*n = (last - *start) / REPORT_WEEK + 1;
		*end = last + REPORT_WEEK;
		return BILLOW_OK;
	}
	*start = report_floor_div(from, REPORT_DAY) * REPORT_DAY;
	last = report_floor_div(to - 1, REPORT_DAY) * REPORT_DAY;
	*n = (last - *start) / REPORT_DAY + 1;
	*end = last + REPORT_DAY;
	return BILLOW_OK;
}

/* A SQL_METRICS row as one point of the series. */
static json_t *
report_point(const struct billow_result *res, int row)
{
	char	start[40], end[40];

	host->time_format(report_int(res, row, "start"), start,
	    sizeof(start));
	host->time_format(report_int(res, row, "fin"), end, sizeof(end));
	return json_pack("{s:s, s:s, s:s, s:I, s:I, s:I, s:I, s:I, s:I, "
	    "s:I, s:I, s:I, s:I}",
	    "start", start,
	    "end", end,
	    "currency", host->result_value(res, row, "currency"),
	    "mrr", (json_int_t)report_int(res, row, "mrr"),
	    "new_mrr", (json_int_t)report_int(res, row, "new_mrr"),
	    "expansion_mrr", (json_int_t)report_int(res, row,
	    "expansion_mrr"),
	    "contraction_mrr", (json_int_t)report_int(res, row,
	    "contraction_mrr"),
	    "churned_mrr", (json_int_t)report_int(res, row, "churned_mrr"),
	    "reactivation_mrr", (json_int_t)report_int(res, row,
	    "reactivation_mrr"),
	    "revenue", (json_int_t)report_int(res, row, "revenue"),
	    "refunds", (json_int_t)report_int(res, row, "refunds"),
	    "platform_fees", (json_int_t)report_int(res, row,
	    "platform_fees"),
	    "active_subscriptions", (json_int_t)report_int(res, row,
	    "active_subscriptions"));
}

/*
 * GET /analytics/metrics?from=&to=&interval=: interval day (default),
 * week or month; to defaults to now, from to 30 days, 12 weeks or 365
 * days before to. Both RFC 3339; to must be after from, and the range
 * at most 366 buckets.
 */
static int
report_metrics(struct billow_req *req)
{
	struct billow_result	*res;
	const char		*interval, *p[3];
	char			 s_start[24], s_n[24], t_from[40], t_to[40];
	char			 msg[160];
	int64_t			 from, to, start, end, n;
	json_t			*data, *pt;
	int			 rc, i;

	interval = host->req_query(req, "interval");
	if (interval == NULL)
		interval = "day";
	if (strcmp(interval, "day") != 0 && strcmp(interval, "week") != 0 &&
	    strcmp(interval, "month") != 0)
		return host->error(req, 400, "invalid_request_error",
		    "parameter_invalid", "interval", "interval must be one of "
		    "day, week, month.");
	if ((rc = host->query_time(req, "to", &to)) == BILLOW_ERROR)
		return BILLOW_ERROR;
	if (rc == BILLOW_DECLINED)
		to = host->now();
	if ((rc = host->query_time(req, "from", &from)) == BILLOW_ERROR)
		return BILLOW_ERROR;
	if (rc == BILLOW_DECLINED)
		from = to - (strcmp(interval, "day") == 0 ? 30 * REPORT_DAY :
		    strcmp(interval, "week") == 0 ? 12 * REPORT_WEEK :
		    365 * REPORT_DAY);
	if (to <= from)
		return host->error(req, 400, "invalid_request_error",
		    "parameter_invalid", "to", "to must be after from.");
	if (report_buckets(interval, from, to, &start, &end, &n) !=
	    BILLOW_OK)
		return host->error(req, 400, "invalid_request_error",
		    "parameter_invalid", "from", "from and to must be times "
		    "the server can represent.");
	if (n > REPORT_BUCKETS_MAX) {
		snprintf(msg, sizeof(msg), "from and to span %lld buckets of "
		    "a %s; at most %d are allowed.", (long long)n, interval,
		    REPORT_BUCKETS_MAX);
		return host->error(req, 400, "invalid_request_error",
		    "parameter_invalid", "from", msg);
	}

	snprintf(s_start, sizeof(s_start), "%lld", (long long)start);
	snprintf(s_n, sizeof(s_n), "%lld", (long long)n);
	p[0] = interval;
	p[1] = s_start;
	p[2] = s_n;
	if (host->sql(req, SQL_METRICS, 3, p, &res) != BILLOW_OK)
		return BILLOW_ERROR;
	data = json_array();
	for (i = 0; i < host->result_rows(res); i++) {
		if ((pt = report_point(res, i)) == NULL ||
		    json_array_append_new(data, pt) != 0) {
			host->result_free(res);
			json_decref(data);
			return BILLOW_ERROR;
		}
	}
	host->result_free(res);
	host->time_format(start, t_from, sizeof(t_from));
	host->time_format(end, t_to, sizeof(t_to));
	return host->respond_json(req, 200, json_pack("{s:s, s:b, s:s, s:s, "
	    "s:s, s:o}",
	    "object", "analytics_metrics",
	    "livemode", host->req_livemode(req),
	    "interval", interval,
	    "from", t_from,
	    "to", t_to,
	    "data", data));
}

int
report_init(const struct billow_host *h, struct billow_plugin_handle *me)
{
	host = h;
	self = me;
	/* Any dashboard role may read (developers included), as for events. */
	if (host->route_add(self, BILLOW_GET, "/api/v1/analytics/summary",
	    BILLOW_AUTH_TENANT, BILLOW_ROLE_ANY, report_summary) !=
	    BILLOW_OK ||
	    host->route_add(self, BILLOW_GET, "/api/v1/analytics/metrics",
	    BILLOW_AUTH_TENANT, BILLOW_ROLE_ANY, report_metrics) !=
	    BILLOW_OK)
		return BILLOW_ERROR;
	return BILLOW_OK;
}
