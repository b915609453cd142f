/*
 * Usage lines and meter aggregations (usage.h; BILLING.md "Usage"). Reads
 * a plan's stored charges and the customer's usage events, and prices them
 * with the money module. Runs on task threads and in the background
 * worker, inside the caller's tenant transaction (RLS confines every row).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "billing/money.h"
#include "billing/usage.h"
#include "db/db.h"
#include "server/http.h"

/*
 * The aggregate of each meter in $2 (a JSON array of meter ids) over
 * customer $1's events with timestamp in [$3, $4) ($4 NULL: no end), by
 * the meter's aggregation. CASE runs only the branch that applies, each
 * one an index range scan of usage_events_aggregate. sum is clamped to
 * bigint (a numeric in PostgreSQL); `last` is the value of the latest
 * timestamp, ties going to the event received last (the higher id).
 */
#define USAGE_EVENTS_IN \
	"FROM usage_events e WHERE e.customer_id = $1 AND e.meter_id = m.id " \
	"AND e.\"timestamp\" >= to_timestamp($3::bigint) AND ($4::bigint IS " \
	"NULL OR e.\"timestamp\" < to_timestamp($4::bigint))"

#define SQL_USAGE_AGGREGATE \
	"SELECT m.id, m.name, CASE m.aggregation " \
	"WHEN 'count' THEN (SELECT count(*) " USAGE_EVENTS_IN ") " \
	"WHEN 'sum' THEN (SELECT least(greatest(coalesce(sum(e.value), 0), " \
	"-9223372036854775808), 9223372036854775807) " USAGE_EVENTS_IN ") " \
	"WHEN 'max' THEN (SELECT coalesce(max(e.value), 0) " \
	USAGE_EVENTS_IN ") " \
	"WHEN 'unique_count' THEN (SELECT count(DISTINCT e.properties ->> " \
	"m.field) " USAGE_EVENTS_IN ") " \
	"WHEN 'last' THEN coalesce((SELECT e.value " USAGE_EVENTS_IN \
	" ORDER BY e.\"timestamp\" DESC, e.id DESC LIMIT 1), 0) " \
	"END::bigint AS value FROM meters m WHERE m.id IN " \
	"(SELECT jsonb_array_elements_text($2::jsonb))"

#define SQL_USAGE_PLAN \
	"SELECT charges::text AS charges FROM plans WHERE id = $1"

/* A stored charge's integer KEY (plans.c wrote it): absent or null is 0. */
static int
usage_charge_int(json_t *c, const char *key, int64_t *out, int *present)
{
	json_t	*v = json_object_get(c, key);

	*out = 0;
	if (present != NULL)
		*present = 0;
	if (v == NULL || json_is_null(v))
		return BW_OK;
	if (!json_is_integer(v))
		return BW_ERROR;
	*out = json_integer_value(v);
	if (present != NULL)
		*present = 1;
	return BW_OK;
}

/*
 * One charge as plans.c stores it (normalised and validated on write:
 * every key present, null where the model does not use it) as the money
 * module's struct bw_charge; tiers and strings live in ARENA. *DEC is the
 * stored unit_amount_decimal string, or NULL. BW_ERROR on a charge that
 * is not what plans.c writes.
 */
static int
usage_charge(struct bw_arena *arena, json_t *c, struct bw_charge *out,
    const char **meter_id, const char **dec)
{
	static const struct {
		const char		*name;
		enum bw_charge_model	 model;
	} models[] = {
		{ "standard", BW_CHARGE_STANDARD },
		{ "package", BW_CHARGE_PACKAGE },
		{ "graduated", BW_CHARGE_GRADUATED },
		{ "volume", BW_CHARGE_VOLUME },
	};
	struct bw_tier	*tiers;
	const char	*model;
	json_t		*jt, *t;
	size_t		 i;
	int		 has_unit;

	memset(out, 0, sizeof(*out));
	*dec = NULL;
	if (!json_is_object(c) ||
	    (*meter_id = json_string_value(json_object_get(c, "meter_id"))) ==
	    NULL ||
	    (model = json_string_value(json_object_get(c, "model"))) == NULL)
		return BW_ERROR;
	for (i = 0; i < BW_NELEM(models); i++)
		if (strcmp(models[i].name, model) == 0)
			break;
	if (i == BW_NELEM(models))
		return BW_ERROR;
	out->model = models[i].model;
	if (usage_charge_int(c, "unit_amount", &out->unit_amount,
	    &has_unit) != BW_OK ||
	    usage_charge_int(c, "package_size", &out->package_size,
	    NULL) != BW_OK ||
	    usage_charge_int(c, "free_units", &out->free_units, NULL) != BW_OK)
		return BW_ERROR;
	if ((*dec = json_string_value(json_object_get(c,
	    "unit_amount_decimal"))) != NULL) {
		if (bw_money_parse_unit_decimal(*dec, &out->unit_decimal) !=
		    BW_OK)
			return BW_ERROR;
		out->has_decimal = 1;
		*dec = bw_arena_strdup(arena, *dec);
	}
	if (out->model == BW_CHARGE_STANDARD ||
	    out->model == BW_CHARGE_PACKAGE)
		return has_unit || out->has_decimal ? BW_OK : BW_ERROR;

	if (!json_is_array(jt = json_object_get(c, "tiers")) ||
	    json_array_size(jt) == 0)
		return BW_ERROR;
	tiers = bw_arena_alloc(arena, sizeof(*tiers) * json_array_size(jt));
	json_array_foreach(jt, i, t) {
		if (json_is_null(json_object_get(t, "up_to")))
			tiers[i].up_to = BW_TIER_INF;
		else if (usage_charge_int(t, "up_to", &tiers[i].up_to, NULL) !=
		    BW_OK)
			return BW_ERROR;
		if (usage_charge_int(t, "unit_amount", &tiers[i].unit_amount,
		    NULL) != BW_OK ||
		    usage_charge_int(t, "flat_amount", &tiers[i].flat_amount,
		    NULL) != BW_OK)
			return BW_ERROR;
	}
	out->tiers = tiers;
	out->ntiers = json_array_size(jt);
	return BW_OK;
}

/*
 * Runs SQL_USAGE_AGGREGATE for the meter ids in IDS (a JSON array text).
 * The result (caller PQclear()s) or NULL on a database error.
 */
static PGresult *
usage_aggregate(struct bw_req *req, const char *ids, const char *customer_id,
    int64_t from, int64_t to)
{
	const char	*p[4];
	char		 from_s[24], to_s[24];

	snprintf(from_s, sizeof(from_s), "%lld", (long long)from);
	snprintf(to_s, sizeof(to_s), "%lld", (long long)to);
	p[0] = customer_id;
	p[1] = ids;
	p[2] = from_s;
	p[3] = to < 0 ? NULL : to_s;
	return bw_db_query(req->db, SQL_USAGE_AGGREGATE, 4, p);
}

int
bw_usage_value(struct bw_req *req, const char *meter_id,
    const char *customer_id, int64_t from, int64_t to, int64_t *value)
{
	PGresult	*res;
	json_t		*ids;
	char		*ids_s;

	ids = json_pack("[s]", meter_id);
	ids_s = json_dumps(ids, JSON_COMPACT);
	json_decref(ids);
	res = usage_aggregate(req, ids_s, customer_id, from, to);
	free(ids_s);
	if (res == NULL)
		return BW_ERROR;
	*value = PQntuples(res) == 1 ? bw_db_int(res, 0, "value") : 0;
	PQclear(res);
	return BW_OK;
}

/* The aggregate row of meter ID in RES, or -1 (the meter is gone). */
static int
usage_row(const PGresult *res, const char *id)
{
	int	i;

	for (i = 0; i < PQntuples(res); i++)
		if (strcmp(PQgetvalue(res, i, 0), id) == 0)
			return i;
	return -1;
}

/*
 * A usage line shows its unit price only where there is one per unit
 * (BILLING.md "Invoices"): a standard charge's integer unit_amount, or
 * its unit_amount_decimal. Package and tiered lines show neither.
 */
static void
usage_line_price(struct bw_req *req, const struct bw_charge *c,
    const char *dec, struct bw_usage_line *l)
{
	l->unit_amount = NULL;
	l->unit_amount_decimal = NULL;
	if (c->model != BW_CHARGE_STANDARD)
		return;
	if (c->has_decimal)
		l->unit_amount_decimal = dec;
	else
		l->unit_amount = bw_arena_printf(&req->arena, "%lld",
		    (long long)c->unit_amount);
}

int
bw_usage_lines(struct bw_req *req, const char *plan_id,
    const char *customer_id, int64_t start, int64_t end,
    struct bw_usage_line **out, int *n)
{
	struct bw_charge	*charges;
	struct bw_usage_line	*lines;
	const char		*p[1] = { plan_id }, **meters, **decs;
	PGresult		*res;
	json_t			*arr, *c, *ids;
	char			*ids_s;
	int64_t			 units;
	size_t			 i, nc;
	int			 row;

	*out = NULL;
	*n = 0;
	if ((res = bw_db_query(req->db, SQL_USAGE_PLAN, 1, p)) == NULL)
		return BW_ERROR;
	arr = PQntuples(res) == 1 ? json_loads(bw_db_val(res, 0, "charges"),
	    0, NULL) : NULL;
	PQclear(res);
	if (arr == NULL || !json_is_array(arr) ||
	    (nc = json_array_size(arr)) == 0) {
		json_decref(arr);
		return BW_OK;
	}

	charges = bw_arena_alloc(&req->arena, sizeof(*charges) * nc);
	meters = bw_arena_alloc(&req->arena, sizeof(*meters) * nc);
	decs = bw_arena_alloc(&req->arena, sizeof(*decs) * nc);
	ids = json_array();
	json_array_foreach(arr, i, c) {
		if (usage_charge(&req->arena, c, &charges[i], &meters[i],
		    &decs[i]) != BW_OK) {
			bw_log(BW_LOG_ERROR, "usage: plan %s: charge %zu is "
			    "invalid", plan_id, i);
			json_decref(ids);
			json_decref(arr);
			return bw_err_internal(req);
		}
		meters[i] = bw_arena_strdup(&req->arena, meters[i]);
		json_array_append_new(ids, json_string(meters[i]));
	}
	json_decref(arr);
	ids_s = json_dumps(ids, JSON_COMPACT);
	json_decref(ids);

	/* One aggregate query for all the charges. */
	res = usage_aggregate(req, ids_s, customer_id, start, end);
	free(ids_s);
	if (res == NULL)
		return BW_ERROR;
	lines = bw_arena_alloc(&req->arena, sizeof(*lines) * nc);
	for (i = 0; i < nc; i++) {
		/*
		 * A charge whose meter is gone (plans made before meters
		 * were checked) has no events: a zero line under its id.
		 */
		row = usage_row(res, meters[i]);
		units = row < 0 ? 0 : bw_db_int(res, row, "value");
		lines[i].description = bw_arena_strdup(&req->arena, row < 0 ?
		    meters[i] : bw_db_val(res, row, "name"));
		lines[i].start = start;
		lines[i].end = end;
		usage_line_price(req, &charges[i], decs[i], &lines[i]);
		if (bw_money_billable_units(&charges[i], units,
		    &lines[i].quantity) != BW_OK ||
		    bw_money_usage(&charges[i], units, &lines[i].amount) !=
		    BW_OK) {
			bw_log(BW_LOG_ERROR, "usage: plan %s: charge %zu "
			    "cannot price %lld units", plan_id, i,
			    (long long)units);
			PQclear(res);
			return bw_err_internal(req);
		}
	}
	PQclear(res);
	*out = lines;
	*n = (int)nc;
	return BW_OK;
}
