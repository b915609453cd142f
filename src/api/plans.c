/*
 * Plans (API.md "Plans"): create, list, get, update and delete, with their
 * usage charges. Runs on task threads inside the tenant transaction, tenant
 * and mode confined by RLS; publishable keys read active plans only.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/api.h"
#include "auth/crypto.h"
#include "billing/money.h"
#include "billing/period.h"
#include "db/db.h"
#include "plugin/plugin.h"

#define PLAN_NAME_MAX		256
#define PLAN_TRIAL_DAYS_MAX	730
#define PLAN_CHARGES_MAX	20
#define PLAN_TIERS_MAX		20
#define PLAN_PACKAGE_MAX	1000000000LL
#define PLAN_UNITS_MAX		1000000000000LL

#define SQL_PLAN_COLUMNS \
	"id, livemode, name, type, amount, currency, interval, " \
	"interval_count, trial_period_days, is_active, charges::text AS " \
	"charges, metadata::text AS metadata, " \
	"floor(extract(epoch FROM created))::bigint AS created"

#define SQL_PLAN_INSERT \
	"INSERT INTO plans (tenant_id, livemode, id, name, type, amount, " \
	"currency, interval, interval_count, trial_period_days, charges, " \
	"metadata) VALUES (current_setting('app.tenant_id'), " \
	"current_setting('app.livemode')::boolean, $1, $2, $3, $4::bigint, " \
	"$5, $6, $7::int, $8::int, $9::jsonb, $10::jsonb) RETURNING " \
	SQL_PLAN_COLUMNS

#define SQL_PLANS_SELECT \
	"SELECT " SQL_PLAN_COLUMNS " FROM plans"

#define SQL_PLAN_GET \
	"SELECT " SQL_PLAN_COLUMNS " FROM plans WHERE id = $1 " \
	"AND (NOT $2::boolean OR is_active)"

#define SQL_PLAN_LOCK \
	"SELECT " SQL_PLAN_COLUMNS " FROM plans WHERE id = $1 FOR UPDATE"

#define SQL_PLAN_UPDATE \
	"UPDATE plans SET name = $2, amount = $3::bigint, currency = $4, " \
	"interval = $5, interval_count = $6::int, trial_period_days = " \
	"$7::int, is_active = $8::boolean, charges = $9::jsonb, metadata = " \
	"$10::jsonb WHERE id = $1 RETURNING " SQL_PLAN_COLUMNS

#define SQL_PLAN_DELETE \
	"DELETE FROM plans WHERE id = $1 RETURNING id"

/* Any subscription, whatever its status; RLS confines it to the tenant. */
#define SQL_PLAN_IN_USE \
	"SELECT EXISTS (SELECT 1 FROM subscriptions WHERE plan_id = $1)"

/*
 * The first charge of $1 (a charges array) whose meter_id names no meter
 * of this tenant and mode (RLS confines meters to them).
 */
#define SQL_PLAN_METER_MISSING \
	"SELECT c.v ->> 'meter_id' AS meter_id FROM jsonb_array_elements(" \
	"$1::jsonb) WITH ORDINALITY AS c(v, n) WHERE NOT EXISTS (SELECT 1 " \
	"FROM meters m WHERE m.id = c.v ->> 'meter_id') ORDER BY c.n LIMIT 1"

#define SQL_PLAN_ARCHIVE \
	"UPDATE plans SET is_active = false WHERE id = $1 RETURNING " \
	SQL_PLAN_COLUMNS

static const char *const plan_types[] = { "recurring", "one_time", NULL };
static const char *const charge_models[] = { "standard", "graduated",
    "volume", "package", NULL };
static const char *const charge_keys[] = { "meter_id", "model",
    "unit_amount", "unit_amount_decimal", "tiers", "package_size",
    "free_units", NULL };
static const char *const tier_keys[] = { "up_to", "unit_amount",
    "flat_amount", NULL };

/* A plan row (SQL_PLAN_COLUMNS) as the contract's plan object. */
static json_t *
plan_json(const PGresult *res, int row)
{
	char		 created[32], dec[BW_MONEY_DECIMAL_MAX];
	const char	*cur = bw_db_val(res, row, "currency");
	json_t		*charges, *meta, *iv;
	int		 expo;

	/* Stored codes were checked on write; 2 only guards a bad row. */
	if (bw_money_currency(cur, NULL, &expo) != BW_OK)
		expo = 2;
	bw_money_format_decimal(bw_db_int(res, row, "amount"), expo, dec,
	    sizeof(dec));
	bw_time_rfc3339(bw_db_int(res, row, "created"), created,
	    sizeof(created));
	if ((charges = json_loads(bw_db_val(res, row, "charges"), 0,
	    NULL)) == NULL)
		charges = json_array();
	if ((meta = json_loads(bw_db_val(res, row, "metadata"), 0,
	    NULL)) == NULL)
		meta = json_object();
	iv = bw_db_isnull(res, row, "interval") ? json_null() :
	    json_string(bw_db_val(res, row, "interval"));
	return json_pack("{s:s, s:s, s:b, s:s, s:s, s:s, s:I, s:s, s:s, "
	    "s:o, s:I, s:I, s:b, s:o, s:o}",
	    "object", "plan",
	    "id", bw_db_val(res, row, "id"),
	    "livemode", strcmp(bw_db_val(res, row, "livemode"), "t") == 0,
	    "created", created,
	    "name", bw_db_val(res, row, "name"),
	    "type", bw_db_val(res, row, "type"),
	    "amount", (json_int_t)bw_db_int(res, row, "amount"),
	    "amount_decimal", dec,
	    "currency", cur,
	    "interval", iv,
	    "interval_count", (json_int_t)bw_db_int(res, row,
	    "interval_count"),
	    "trial_period_days", (json_int_t)bw_db_int(res, row,
	    "trial_period_days"),
	    "is_active", strcmp(bw_db_val(res, row, "is_active"), "t") == 0,
	    "charges", charges,
	    "metadata", meta);
}

static int
plan_publishable(const struct bw_req *req)
{
	return req->who.kind == BW_PRINCIPAL_KEY && req->who.publishable;
}

/*
 * Nested parameters ("charges[0].tiers[1].up_to"): the error names the
 * whole path. bw_params_only and bw_param_* name the bare key, so charges
 * and tiers use these instead.
 */
static void
plan_path(char *out, size_t len, const char *path, const char *key)
{
	if ((size_t)snprintf(out, len, "%s.%s", path, key) >= len)
		out[0] = '\0';
}

static int
plan_nested_only(struct bw_req *req, json_t *obj, const char *path,
    const char *const *allowed)
{
	const char	*key;
	char		 param[64];
	json_t		*v;
	size_t		 i;

	json_object_foreach(obj, key, v) {
		for (i = 0; allowed[i] != NULL; i++)
			if (strcmp(allowed[i], key) == 0)
				break;
		if (allowed[i] != NULL)
			continue;
		plan_path(param, sizeof(param), path, key);
		return bw_req_error(req, 400, "invalid_request_error",
		    "parameter_unknown", param[0] != '\0' ? param : NULL,
		    "Received unknown parameter: %s.%.60s.", path, key);
	}
	return BW_OK;
}

static int
plan_nested_missing(struct bw_req *req, const char *path, const char *key)
{
	char	param[64];

	plan_path(param, sizeof(param), path, key);
	return bw_err_missing(req, param);
}

/*
 * An integer KEY of OBJ: BW_OK, BW_DECLINED when absent or null (charges
 * read back from a plan carry nulls for the fields their model does not
 * use), or BW_ERROR.
 */
static int
plan_nested_int(struct bw_req *req, json_t *obj, const char *path,
    const char *key, int64_t min, int64_t max, int64_t *out)
{
	char	 param[64];
	json_t	*v;

	if ((v = json_object_get(obj, key)) == NULL || json_is_null(v))
		return BW_DECLINED;
	plan_path(param, sizeof(param), path, key);
	if (!json_is_integer(v))
		return bw_err_invalid(req, param, "%s must be an integer.",
		    param);
	if (json_integer_value(v) < min || json_integer_value(v) > max)
		return bw_err_invalid(req, param,
		    "%s must be between %lld and %lld.", param, (long long)min,
		    (long long)max);
	*out = json_integer_value(v);
	return BW_OK;
}

static int
plan_nested_str(struct bw_req *req, json_t *obj, const char *path,
    const char *key, size_t maxlen, const char **out)
{
	char	 param[64];
	json_t	*v;

	*out = NULL;
	if ((v = json_object_get(obj, key)) == NULL || json_is_null(v))
		return BW_DECLINED;
	plan_path(param, sizeof(param), path, key);
	if (!json_is_string(v))
		return bw_err_invalid(req, param, "%s must be a string.", param);
	if (json_string_length(v) == 0 || json_string_length(v) > maxlen)
		return bw_err_invalid(req, param,
		    "%s must be 1 to %zu characters.", param, maxlen);
	*out = json_string_value(v);
	return BW_OK;
}

/*
 * The shape of a meter id; that it names one of the tenant's meters in
 * this mode is plan_meters_exist's check, once every charge is valid.
 */
static int
plan_meter_id_ok(const char *s)
{
	size_t	i, n = strlen(s);

	if (n < 5 || n > 64 || strncmp(s, "mtr_", 4) != 0)
		return 0;
	for (i = 4; i < n; i++)
		if (!((s[i] >= '0' && s[i] <= '9') ||
		    (s[i] >= 'a' && s[i] <= 'z') ||
		    (s[i] >= 'A' && s[i] <= 'Z')))
			return 0;
	return 1;
}

/*
 * Tiers of a graduated or volume charge: 1..20, up_to strictly increasing,
 * and only the last one unbounded (null), so every quantity has a tier
 * (Stripe's rule; bw_money_usage refuses a quantity past the last tier).
 */
static int
plan_tiers(struct bw_req *req, json_t *arr, const char *path, json_t **out)
{
	char		 tpath[64], param[64];
	json_t		*t, *v, *up_json;
	int64_t		 up, prev = 0, unit, flat;
	size_t		 i, n;
	int		 rc;

	*out = NULL;
	plan_path(param, sizeof(param), path, "tiers");
	if (!json_is_array(arr))
		return bw_err_invalid(req, param, "%s must be an array.",
		    param);
	n = json_array_size(arr);
	if (n < 1 || n > PLAN_TIERS_MAX)
		return bw_err_invalid(req, param,
		    "%s must have 1 to %d tiers.", param, PLAN_TIERS_MAX);
	*out = json_array();
	json_array_foreach(arr, i, t) {
		snprintf(tpath, sizeof(tpath), "%s.tiers[%d]", path, (int)i);
		if (!json_is_object(t)) {
			bw_err_invalid(req, tpath, "%s must be an object.",
			    tpath);
			goto fail;
		}
		if (plan_nested_only(req, t, tpath, tier_keys) != BW_OK)
			goto fail;
		plan_path(param, sizeof(param), tpath, "up_to");
		if ((v = json_object_get(t, "up_to")) == NULL) {
			bw_err_missing(req, param);
			goto fail;
		}
		if (json_is_null(v)) {
			if (i != n - 1) {
				bw_err_invalid(req, param, "Only the last "
				    "tier may have up_to null.");
				goto fail;
			}
			up_json = json_null();
		} else {
			if (plan_nested_int(req, t, tpath, "up_to", 1,
			    PLAN_UNITS_MAX, &up) != BW_OK)
				goto fail;
			if (up <= prev) {
				bw_err_invalid(req, param, "Tier up_to values "
				    "must be strictly increasing.");
				goto fail;
			}
			if (i == n - 1) {
				bw_err_invalid(req, param, "The last tier's "
				    "up_to must be null (no upper bound).");
				goto fail;
			}
			prev = up;
			up_json = json_integer(up);
		}
		if ((rc = plan_nested_int(req, t, tpath, "unit_amount", 0,
		    BW_MONEY_UNIT_MAX, &unit)) != BW_OK) {
			if (rc == BW_DECLINED)
				plan_nested_missing(req, tpath, "unit_amount");
			json_decref(up_json);
			goto fail;
		}
		flat = 0;
		if (plan_nested_int(req, t, tpath, "flat_amount", 0,
		    BW_MONEY_UNIT_MAX, &flat) == BW_ERROR) {
			json_decref(up_json);
			goto fail;
		}
		json_array_append_new(*out, json_pack("{s:o, s:I, s:I}",
		    "up_to", up_json, "unit_amount", (json_int_t)unit,
		    "flat_amount", (json_int_t)flat));
	}
	return BW_OK;
fail:
	json_decref(*out);
	*out = NULL;
	return BW_ERROR;
}

/* charges[I], normalised: every key present, null where unused. */
static int
plan_charge(struct bw_req *req, json_t *c, size_t idx, json_t **out)
{
	struct bw_unit_price	 price;
	const char		*meter, *model, *dec;
	char			 path[32], param[64];
	char			 decbuf[BW_MONEY_DECIMAL_MAX];
	json_t			*tiers = NULL, *jt;
	int64_t			 unit = 0, psize = 0, free_units = 0;
	int			 rc, has_unit, has_dec, has_psize, tiered, i;

	*out = NULL;
	snprintf(path, sizeof(path), "charges[%d]", (int)idx);
	if (!json_is_object(c))
		return bw_err_invalid(req, path, "%s must be an object.", path);
	if (plan_nested_only(req, c, path, charge_keys) != BW_OK)
		return BW_ERROR;
	if ((rc = plan_nested_str(req, c, path, "meter_id", 64, &meter)) !=
	    BW_OK)
		return rc == BW_DECLINED ? plan_nested_missing(req, path,
		    "meter_id") : BW_ERROR;
	if (!plan_meter_id_ok(meter)) {
		plan_path(param, sizeof(param), path, "meter_id");
		return bw_err_invalid(req, param, "%s must be a meter id "
		    "(mtr_...).", param);
	}
	if ((rc = plan_nested_str(req, c, path, "model", 16, &model)) !=
	    BW_OK)
		return rc == BW_DECLINED ? plan_nested_missing(req, path,
		    "model") : BW_ERROR;
	for (i = 0; charge_models[i] != NULL; i++)
		if (strcmp(charge_models[i], model) == 0)
			break;
	if (charge_models[i] == NULL) {
		plan_path(param, sizeof(param), path, "model");
		return bw_err_invalid(req, param, "%s must be one of standard, "
		    "graduated, volume or package.", param);
	}
	tiered = strcmp(model, "graduated") == 0 ||
	    strcmp(model, "volume") == 0;

	if ((has_unit = plan_nested_int(req, c, path, "unit_amount", 0,
	    BW_MONEY_UNIT_MAX, &unit)) == BW_ERROR)
		return BW_ERROR;
	if ((has_dec = plan_nested_str(req, c, path, "unit_amount_decimal",
	    64, &dec)) == BW_ERROR)
		return BW_ERROR;
	if (has_dec == BW_OK &&
	    bw_money_parse_unit_decimal(dec, &price) != BW_OK) {
		plan_path(param, sizeof(param), path, "unit_amount_decimal");
		return bw_err_invalid(req, param, "%s must be a decimal string "
		    "of minor units with at most %d decimals, at most %lld.",
		    param, BW_MONEY_UNIT_DECIMALS,
		    (long long)BW_MONEY_UNIT_MAX);
	}
	if ((has_psize = plan_nested_int(req, c, path, "package_size", 1,
	    PLAN_PACKAGE_MAX, &psize)) == BW_ERROR)
		return BW_ERROR;
	if (plan_nested_int(req, c, path, "free_units", 0, PLAN_UNITS_MAX,
	    &free_units) == BW_ERROR)
		return BW_ERROR;
	jt = json_object_get(c, "tiers");
	if (jt != NULL && json_is_null(jt))
		jt = NULL;

	if (tiered) {
		if (has_unit == BW_OK || has_dec == BW_OK) {
			plan_path(param, sizeof(param), path, has_unit ==
			    BW_OK ? "unit_amount" : "unit_amount_decimal");
			return bw_err_invalid(req, param, "%s: a %s charge is "
			    "priced by its tiers.", param, model);
		}
		if (has_psize == BW_OK) {
			plan_path(param, sizeof(param), path, "package_size");
			return bw_err_invalid(req, param, "%s applies to "
			    "package charges only.", param);
		}
		if (jt == NULL)
			return plan_nested_missing(req, path, "tiers");
		if (plan_tiers(req, jt, path, &tiers) != BW_OK)
			return BW_ERROR;
	} else {
		if (has_unit == BW_OK && has_dec == BW_OK) {
			plan_path(param, sizeof(param), path,
			    "unit_amount_decimal");
			return bw_err_invalid(req, param, "Pass unit_amount or "
			    "unit_amount_decimal, not both.");
		}
		if (has_unit != BW_OK && has_dec != BW_OK)
			return plan_nested_missing(req, path, "unit_amount");
		if (jt != NULL) {
			plan_path(param, sizeof(param), path, "tiers");
			return bw_err_invalid(req, param, "%s applies to "
			    "graduated and volume charges only.", param);
		}
		if (strcmp(model, "package") == 0 && has_psize != BW_OK)
			return plan_nested_missing(req, path, "package_size");
		if (strcmp(model, "standard") == 0 && has_psize == BW_OK) {
			plan_path(param, sizeof(param), path, "package_size");
			return bw_err_invalid(req, param, "%s applies to "
			    "package charges only.", param);
		}
	}
	if (has_dec == BW_OK)
		bw_money_format_unit_decimal(&price, decbuf, sizeof(decbuf));
	*out = json_pack("{s:s, s:s, s:o, s:o, s:o, s:o, s:I}",
	    "meter_id", meter,
	    "model", model,
	    "unit_amount", has_unit == BW_OK ? json_integer(unit) :
	    json_null(),
	    "unit_amount_decimal", has_dec == BW_OK ? json_string(decbuf) :
	    json_null(),
	    "tiers", tiers != NULL ? tiers : json_null(),
	    "package_size", has_psize == BW_OK ? json_integer(psize) :
	    json_null(),
	    "free_units", (json_int_t)free_units);
	return BW_OK;
}

/*
 * Each charge's meter_id names an existing meter of the tenant and mode:
 * otherwise 400 resource_missing on charges, as Stripe answers a price
 * naming a missing meter. CHARGES_S is the charges array as JSON text.
 */
static int
plan_meters_exist(struct bw_req *req, const char *charges_s)
{
	const char	*p[1] = { charges_s };
	PGresult	*res;

	if ((res = bw_db_query(req->db, SQL_PLAN_METER_MISSING, 1, p)) ==
	    NULL)
		return BW_ERROR;
	if (PQntuples(res) == 1) {
		bw_req_error(req, 400, "invalid_request_error",
		    "resource_missing", "charges", "No such meter: '%.64s'.",
		    bw_db_val(res, 0, "meter_id"));
		PQclear(res);
		return BW_ERROR;
	}
	PQclear(res);
	return BW_OK;
}

/* charges: BW_OK with *OUT (new reference), BW_DECLINED when absent. */
static int
plan_charges(struct bw_req *req, json_t *obj, json_t **out)
{
	json_t	*arr, *c, *n;
	size_t	 i;

	*out = NULL;
	if ((arr = json_object_get(obj, "charges")) == NULL)
		return BW_DECLINED;
	if (!json_is_array(arr))
		return bw_err_invalid(req, "charges", "charges must be an "
		    "array.");
	if (json_array_size(arr) > PLAN_CHARGES_MAX)
		return bw_err_invalid(req, "charges", "A plan may have at most "
		    "%d charges.", PLAN_CHARGES_MAX);
	*out = json_array();
	json_array_foreach(arr, i, c) {
		if (plan_charge(req, c, i, &n) != BW_OK) {
			json_decref(*out);
			*out = NULL;
			return BW_ERROR;
		}
		json_array_append_new(*out, n);
	}
	return BW_OK;
}

/*
 * currency: BW_OK with the upper-case code and its exponent, BW_DECLINED
 * when absent.
 */
static int
plan_currency(struct bw_req *req, json_t *obj, int flags, char upper[4],
    int *exponent)
{
	const char	*s;
	int		 rc;

	if ((rc = bw_param_str(req, obj, "currency", flags, 8, &s)) != BW_OK)
		return rc;
	if (bw_money_currency(s, upper, exponent) != BW_OK)
		return bw_err_invalid(req, "currency", "currency must be an "
		    "ISO 4217 currency code.");
	return BW_OK;
}

/*
 * amount or amount_decimal, exactly one (API.md "Conventions"): BW_OK,
 * BW_DECLINED when neither is given, BW_ERROR.
 */
static int
plan_amount(struct bw_req *req, json_t *obj, const char *currency,
    int exponent, int64_t *amount)
{
	const char	*dec;
	int64_t		 v;
	int		 rc_a, rc_d;

	if ((rc_a = bw_param_int(req, obj, "amount", BW_P_OPTIONAL, 0,
	    BW_MONEY_UNIT_MAX, amount)) == BW_ERROR)
		return BW_ERROR;
	if ((rc_d = bw_param_str(req, obj, "amount_decimal", BW_P_OPTIONAL,
	    64, &dec)) == BW_ERROR)
		return BW_ERROR;
	if (rc_a == BW_OK && rc_d == BW_OK)
		return bw_err_invalid(req, "amount_decimal", "Pass amount or "
		    "amount_decimal, not both.");
	if (rc_d != BW_OK)
		return rc_a;
	if (bw_money_parse_decimal(dec, exponent, 0, &v) != BW_OK)
		return bw_err_invalid(req, "amount_decimal", "amount_decimal "
		    "must be a decimal string with at most %d decimal places "
		    "for %s.", exponent, currency);
	if (v > BW_MONEY_UNIT_MAX)
		return bw_err_invalid(req, "amount_decimal", "amount_decimal "
		    "must be at most %lld minor units.",
		    (long long)BW_MONEY_UNIT_MAX);
	*amount = v;
	return BW_OK;
}

/*
 * interval and interval_count for a plan of type RECURRING; *IV and
 * *COUNT come in as the current values (create: month, 1) and leave as
 * the new ones. A recurring plan's count is at most one year in total
 * (BILLING.md "Periods"); a one-time plan has no interval and a count of 1.
 */
static int
plan_interval(struct bw_req *req, json_t *obj, int recurring, int create,
    enum bw_interval *iv, int64_t *count)
{
	const char	*s;
	int		 rc;

	if (!recurring) {
		if ((rc = bw_param_str(req, obj, "interval", BW_P_NULLABLE, 16,
		    &s)) == BW_ERROR)
			return BW_ERROR;
		if (rc == BW_OK)
			return bw_err_invalid(req, "interval", "one_time plans "
			    "have no interval.");
		if ((rc = bw_param_int(req, obj, "interval_count",
		    BW_P_OPTIONAL, 1, 1, count)) == BW_ERROR)
			return bw_err_invalid(req, "interval_count", "one_time "
			    "plans have no interval_count.");
		return BW_OK;
	}
	if ((rc = bw_param_str(req, obj, "interval", create ? BW_P_REQUIRED :
	    BW_P_OPTIONAL, 16, &s)) == BW_ERROR)
		return BW_ERROR;
	if (rc == BW_OK && bw_period_interval_parse(s, iv) != BW_OK)
		return bw_err_invalid(req, "interval", "interval must be one of "
		    "day, week, month or year.");
	if (bw_param_int(req, obj, "interval_count", BW_P_OPTIONAL, 1, 365,
	    count) == BW_ERROR)
		return BW_ERROR;
	if (!bw_period_count_valid(*iv, (int)*count))
		return bw_err_invalid(req, "interval_count", "interval_count "
		    "%lld is too long for interval %s: at most one year in "
		    "total (day 1..365, week 1..52, month 1..12, year 1).",
		    (long long)*count, bw_period_interval_name(*iv));
	return BW_OK;
}

/* metadata merged into BASE (stolen): "" removes a key (Stripe). */
static int
plan_metadata(struct bw_req *req, json_t *obj, json_t *base, json_t **out)
{
	const char	*k;
	json_t		*m, *v;
	int		 rc;

	*out = base;
	if ((rc = bw_param_metadata(req, obj, "metadata", &m)) != BW_OK)
		return rc == BW_ERROR ? BW_ERROR : BW_OK;
	json_object_foreach(m, k, v) {
		if (json_string_length(v) == 0)
			json_object_del(base, k);
		else
			json_object_set(base, k, v);
	}
	if (json_object_size(base) > 50)
		return bw_err_invalid(req, "metadata", "metadata may have at "
		    "most 50 keys.");
	return BW_OK;
}

static int
plans_create(struct bw_req *req)
{
	static const char *const allowed[] = { "name", "type", "amount",
	    "amount_decimal", "currency", "interval", "interval_count",
	    "trial_period_days", "metadata", "charges", NULL };
	enum bw_interval	 iv = BW_INTERVAL_MONTH;
	const char		*name, *type = "recurring", *p[10];
	char			 id[BW_ID_MAX], cur[4], amount_s[24];
	char			 count_s[16], trial_s[16];
	char			*charges_s = NULL, *meta_s = NULL;
	int64_t			 amount, count = 1, trial = 0;
	json_t			*meta, *charges = NULL, *plan;
	PGresult		*res;
	int			 expo, recurring, rc;

	if (bw_body_object(req) != BW_OK ||
	    bw_params_only(req, req->json, allowed) != BW_OK ||
	    bw_param_str(req, req->json, "name", BW_P_REQUIRED, PLAN_NAME_MAX,
	    &name) != BW_OK ||
	    bw_param_enum(req, req->json, "type", BW_P_OPTIONAL, plan_types,
	    &type) == BW_ERROR ||
	    plan_currency(req, req->json, BW_P_REQUIRED, cur, &expo) != BW_OK)
		return BW_ERROR;
	if (type == NULL)
		type = "recurring";
	recurring = strcmp(type, "recurring") == 0;
	if ((rc = plan_amount(req, req->json, cur, expo, &amount)) != BW_OK)
		return rc == BW_DECLINED ? bw_err_missing(req, "amount") :
		    BW_ERROR;
	if (plan_interval(req, req->json, recurring, 1, &iv, &count) !=
	    BW_OK ||
	    bw_param_int(req, req->json, "trial_period_days", BW_P_OPTIONAL,
	    0, PLAN_TRIAL_DAYS_MAX, &trial) == BW_ERROR)
		return BW_ERROR;
	if (plan_metadata(req, req->json, json_object(), &meta) != BW_OK ||
	    plan_charges(req, req->json, &charges) == BW_ERROR) {
		json_decref(meta);
		return BW_ERROR;
	}
	if (charges == NULL)
		charges = json_array();
	charges_s = json_dumps(charges, JSON_COMPACT);
	meta_s = json_dumps(meta, JSON_COMPACT);
	json_decref(meta);
	if (json_array_size(charges) > 0 &&
	    plan_meters_exist(req, charges_s) != BW_OK) {
		json_decref(charges);
		free(charges_s);
		free(meta_s);
		return BW_ERROR;
	}
	json_decref(charges);

	bw_id_new("plan", id);
	snprintf(amount_s, sizeof(amount_s), "%lld", (long long)amount);
	snprintf(count_s, sizeof(count_s), "%lld", (long long)count);
	snprintf(trial_s, sizeof(trial_s), "%lld", (long long)trial);
	p[0] = id;
	p[1] = name;
	p[2] = type;
	p[3] = amount_s;
	p[4] = cur;
	p[5] = recurring ? bw_period_interval_name(iv) : NULL;
	p[6] = count_s;
	p[7] = trial_s;
	p[8] = charges_s;
	p[9] = meta_s;
	res = bw_db_query(req->db, SQL_PLAN_INSERT, 10, p);
	free(charges_s);
	free(meta_s);
	if (res == NULL)
		return BW_ERROR;
	plan = plan_json(res, 0);
	PQclear(res);
	if (bw_event_emit_json(req, "plan.created", json_pack("{s:O}", "object",
	    plan)) != BW_OK ||
	    bw_audit(req, "plan.created", id, json_pack("{s:b, s:s}",
	    "livemode", req->who.livemode, "name", name)) != BW_OK) {
		json_decref(plan);
		return BW_ERROR;
	}
	return bw_req_json(req, 201, plan);
}

static int
plans_list(struct bw_req *req)
{
	struct bw_page	 page;
	struct bw_list	 l;
	const char	*active;
	PGresult	*res;
	json_t		*items;
	int		 i;

	if (bw_page_parse(req, "plan", &page) != BW_OK)
		return BW_ERROR;
	if ((active = bw_req_query(req, "is_active")) != NULL &&
	    strcmp(active, "true") != 0 && strcmp(active, "false") != 0)
		return bw_err_invalid(req, "is_active", "is_active must be "
		    "true or false.");
	bw_list_init(req, &l, SQL_PLANS_SELECT);
	bw_list_filter(&l, "is_active = $%d::boolean", active);
	/* Publishable keys see active plans only. */
	if (plan_publishable(req))
		bw_list_where(&l, "is_active");
	res = bw_list_query(&l, &page, "id");
	if (res == NULL)
		return BW_ERROR;
	items = json_array();
	for (i = 0; i < PQntuples(res); i++)
		json_array_append_new(items, plan_json(res, i));
	PQclear(res);
	return bw_page_respond(req, &page, items, "/api/v1/plans");
}

static int
plans_get(struct bw_req *req)
{
	const char	*p[2];
	PGresult	*res;
	json_t		*plan;

	p[0] = bw_req_param(req, 0);
	p[1] = plan_publishable(req) ? "true" : "false";
	if ((res = bw_db_query(req->db, SQL_PLAN_GET, 2, p)) == NULL)
		return BW_ERROR;
	if (PQntuples(res) != 1) {
		PQclear(res);
		return bw_err_not_found(req, "plan");
	}
	plan = plan_json(res, 0);
	PQclear(res);
	return bw_req_json(req, 200, plan);
}

/* Whether a subscription uses plan ID: 1, 0, or -1 on a database error. */
static int
plan_in_use(struct bw_req *req, const char *id)
{
	const char	*p[1] = { id };
	PGresult	*res;
	int		 used;

	if ((res = bw_db_query(req->db, SQL_PLAN_IN_USE, 1, p)) == NULL)
		return -1;
	used = PQntuples(res) == 1 &&
	    strcmp(PQgetvalue(res, 0, 0), "t") == 0;
	PQclear(res);
	return used;
}

/* The fields of NEW whose value differs in OLD, with OLD's values. */
static json_t *
plan_previous(json_t *old, json_t *new)
{
	const char	*k;
	json_t		*prev, *v, *o;

	prev = json_object();
	json_object_foreach(new, k, v) {
		if ((o = json_object_get(old, k)) != NULL && !json_equal(o, v))
			json_object_set(prev, k, o);
	}
	return prev;
}

static int
plans_update(struct bw_req *req)
{
	static const char *const allowed[] = { "name", "metadata",
	    "is_active", "trial_period_days", "amount", "amount_decimal",
	    "currency", "interval", "interval_count", "charges", NULL };
	enum bw_interval	 iv = BW_INTERVAL_MONTH;
	const char		*p[10], *name, *s, *changed;
	char			 cur[4], amount_s[24], count_s[16], trial_s[16];
	char			*charges_s, *meta_s;
	int64_t			 amount, count, trial;
	json_t			*old, *plan, *meta, *charges = NULL, *prev;
	PGresult		*res;
	int			 expo, recurring, active, rc, used;

	if (bw_body_object(req) != BW_OK ||
	    bw_params_only(req, req->json, allowed) != BW_OK)
		return BW_ERROR;
	p[0] = bw_req_param(req, 0);
	if ((res = bw_db_query(req->db, SQL_PLAN_LOCK, 1, p)) == NULL)
		return BW_ERROR;
	if (PQntuples(res) != 1) {
		PQclear(res);
		return bw_err_not_found(req, "plan");
	}
	old = plan_json(res, 0);
	PQclear(res);

	/* Current values, then the request's changes over them. */
	name = json_string_value(json_object_get(old, "name"));
	amount = json_integer_value(json_object_get(old, "amount"));
	snprintf(cur, sizeof(cur), "%s",
	    json_string_value(json_object_get(old, "currency")));
	recurring = strcmp(json_string_value(json_object_get(old, "type")),
	    "recurring") == 0;
	if ((s = json_string_value(json_object_get(old, "interval"))) != NULL)
		(void)bw_period_interval_parse(s, &iv);
	count = json_integer_value(json_object_get(old, "interval_count"));
	trial = json_integer_value(json_object_get(old,
	    "trial_period_days"));
	active = json_is_true(json_object_get(old, "is_active"));
	if (bw_money_currency(cur, NULL, &expo) != BW_OK)
		expo = 2;

	/*
	 * API.md: amount, currency, interval, interval_count and charges
	 * are immutable once a subscription uses the plan (400
	 * plan_in_use); checked below, once the new values are parsed.
	 */
	if ((rc = bw_param_str(req, req->json, "name", BW_P_OPTIONAL,
	    PLAN_NAME_MAX, &s)) == BW_ERROR)
		goto fail;
	if (rc == BW_OK) {
		if (*s == '\0') {
			bw_err_invalid(req, "name", "name may not be empty.");
			goto fail;
		}
		name = s;
	}
	if (plan_currency(req, req->json, BW_P_OPTIONAL, cur, &expo) ==
	    BW_ERROR ||
	    plan_amount(req, req->json, cur, expo, &amount) == BW_ERROR ||
	    plan_interval(req, req->json, recurring, 0, &iv, &count) !=
	    BW_OK ||
	    bw_param_int(req, req->json, "trial_period_days", BW_P_OPTIONAL,
	    0, PLAN_TRIAL_DAYS_MAX, &trial) == BW_ERROR ||
	    bw_param_bool(req, req->json, "is_active", BW_P_OPTIONAL,
	    &active) == BW_ERROR)
		goto fail;
	if (plan_metadata(req, req->json, json_deep_copy(json_object_get(old,
	    "metadata")), &meta) != BW_OK) {
		json_decref(meta);
		goto fail;
	}
	if ((rc = plan_charges(req, req->json, &charges)) == BW_ERROR) {
		json_decref(meta);
		goto fail;
	}
	if (rc == BW_DECLINED)
		charges = json_incref(json_object_get(old, "charges"));

	/*
	 * plan_in_use: the first immutable field the request would change
	 * on a plan any subscription (any status) uses. Sending the current
	 * value is no change. The plan row is locked FOR UPDATE, which
	 * holds off a subscription being created on it meanwhile.
	 */
	changed = NULL;
	if (json_object_get(req->json, "amount") != NULL &&
	    amount != json_integer_value(json_object_get(old, "amount")))
		changed = "amount";
	else if (json_object_get(req->json, "amount_decimal") != NULL &&
	    amount != json_integer_value(json_object_get(old, "amount")))
		changed = "amount_decimal";
	else if (json_object_get(req->json, "currency") != NULL &&
	    strcmp(cur, json_string_value(json_object_get(old,
	    "currency"))) != 0)
		changed = "currency";
	else if (recurring && json_object_get(req->json, "interval") !=
	    NULL && ((s = json_string_value(json_object_get(old,
	    "interval"))) == NULL || strcmp(bw_period_interval_name(iv),
	    s) != 0))
		changed = "interval";
	else if (json_object_get(req->json, "interval_count") != NULL &&
	    count != json_integer_value(json_object_get(old,
	    "interval_count")))
		changed = "interval_count";
	else if (json_object_get(req->json, "charges") != NULL &&
	    !json_equal(charges, json_object_get(old, "charges")))
		changed = "charges";
	if (changed != NULL) {
		if ((used = plan_in_use(req, p[0])) != 0) {
			if (used == 1)
				bw_req_error(req, 400, "invalid_request_error",
				    "plan_in_use", changed, "%s cannot be "
				    "changed: a subscription uses this plan.",
				    changed);
			json_decref(charges);
			json_decref(meta);
			goto fail;
		}
	}
	charges_s = json_dumps(charges, JSON_COMPACT);
	meta_s = json_dumps(meta, JSON_COMPACT);
	json_decref(meta);
	/* New charges only: a stored plan keeps the meters it had. */
	if (json_object_get(req->json, "charges") != NULL &&
	    json_array_size(charges) > 0 &&
	    plan_meters_exist(req, charges_s) != BW_OK) {
		json_decref(charges);
		free(charges_s);
		free(meta_s);
		goto fail;
	}
	json_decref(charges);

	snprintf(amount_s, sizeof(amount_s), "%lld", (long long)amount);
	snprintf(count_s, sizeof(count_s), "%lld", (long long)count);
	snprintf(trial_s, sizeof(trial_s), "%lld", (long long)trial);
	p[1] = name;
	p[2] = amount_s;
	p[3] = cur;
	p[4] = recurring ? bw_period_interval_name(iv) : NULL;
	p[5] = count_s;
	p[6] = trial_s;
	p[7] = active ? "true" : "false";
	p[8] = charges_s;
	p[9] = meta_s;
	res = bw_db_query(req->db, SQL_PLAN_UPDATE, 10, p);
	free(charges_s);
	free(meta_s);
	if (res == NULL)
		goto fail;
	plan = plan_json(res, 0);
	PQclear(res);

	/* No change, no event (API.md: every state change writes one). */
	prev = plan_previous(old, plan);
	json_decref(old);
	if (json_object_size(prev) == 0) {
		json_decref(prev);
		return bw_req_json(req, 200, plan);
	}
	rc = bw_audit(req, "plan.updated", p[0], json_pack("{s:b, s:O}",
	    "livemode", req->who.livemode, "previous_attributes", prev));
	if (rc == BW_OK)
		rc = bw_event_emit_json(req, "plan.updated", json_pack("{s:O, s:O}",
		    "object", plan, "previous_attributes", prev));
	json_decref(prev);
	if (rc != BW_OK) {
		json_decref(plan);
		return BW_ERROR;
	}
	return bw_req_json(req, 200, plan);
fail:
	json_decref(old);
	return BW_ERROR;
}

static int
plans_delete(struct bw_req *req)
{
	const char	*p[1] = { bw_req_param(req, 0) };
	PGresult	*res;
	json_t		*plan, *prev;
	int		 n, used, rc;

	/*
	 * A plan no subscription uses is deleted; a plan in use (any
	 * subscription status) is archived instead: is_active false, the
	 * plan object returned (API.md "Plans"). API.md lists no
	 * plan.deleted event, so a delete writes none; an archive is a
	 * plan.updated. The row lock holds off new subscriptions on it.
	 */
	if ((res = bw_db_query(req->db, SQL_PLAN_LOCK, 1, p)) == NULL)
		return BW_ERROR;
	n = PQntuples(res);
	if (n != 1) {
		PQclear(res);
		return bw_err_not_found(req, "plan");
	}
	plan = plan_json(res, 0);
	PQclear(res);
	if ((used = plan_in_use(req, p[0])) < 0) {
		json_decref(plan);
		return BW_ERROR;
	}
	if (used) {
		if (!json_is_true(json_object_get(plan, "is_active")))
			return bw_req_json(req, 200, plan);
		json_decref(plan);
		if ((res = bw_db_query(req->db, SQL_PLAN_ARCHIVE, 1, p)) ==
		    NULL)
			return BW_ERROR;
		plan = plan_json(res, 0);
		PQclear(res);
		prev = json_pack("{s:b}", "is_active", 1);
		rc = bw_audit(req, "plan.updated", p[0], json_pack("{s:b, "
		    "s:O}", "livemode", req->who.livemode,
		    "previous_attributes", prev));
		if (rc == BW_OK)
			rc = bw_event_emit_json(req, "plan.updated",
			    json_pack("{s:O, s:O}", "object", plan,
			    "previous_attributes", prev));
		json_decref(prev);
		if (rc != BW_OK) {
			json_decref(plan);
			return BW_ERROR;
		}
		return bw_req_json(req, 200, plan);
	}
	json_decref(plan);
	if ((res = bw_db_query(req->db, SQL_PLAN_DELETE, 1, p)) == NULL)
		return BW_ERROR;
	n = PQntuples(res);
	PQclear(res);
	if (n != 1)
		return bw_err_not_found(req, "plan");
	if (bw_audit(req, "plan.deleted", p[0], json_pack("{s:b}",
	    "livemode", req->who.livemode)) != BW_OK)
		return BW_ERROR;
	return bw_req_json(req, 200, json_pack("{s:s, s:s, s:b}", "id", p[0],
	    "object", "plan", "deleted", 1));
}

static const struct bw_route plan_routes[] = {
	{ .method = BW_GET, .pattern = "/api/v1/plans",
	  .auth = BW_AUTH_TENANT | BW_AUTH_PUBLISHABLE,
	  .handler = plans_list },
	{ .method = BW_POST, .pattern = "/api/v1/plans",
	  .auth = BW_AUTH_TENANT, .role = BW_ROLE_ADMIN,
	  .handler = plans_create },
	{ .method = BW_GET, .pattern = "/api/v1/plans/{id}",
	  .auth = BW_AUTH_TENANT | BW_AUTH_PUBLISHABLE,
	  .handler = plans_get },
	{ .method = BW_PATCH, .pattern = "/api/v1/plans/{id}",
	  .auth = BW_AUTH_TENANT, .role = BW_ROLE_ADMIN,
	  .handler = plans_update },
	{ .method = BW_DELETE, .pattern = "/api/v1/plans/{id}",
	  .auth = BW_AUTH_TENANT, .role = BW_ROLE_ADMIN,
	  .handler = plans_delete },
};

BW_ROUTE_TABLE(bw_api_plans, plan_routes);
