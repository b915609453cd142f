/*
 * Usage metering (API.md "Usage metering", BILLING.md "Usage"; the rules
 * and choices are docs/usage.md): meters, usage event ingest with its
 * per-event dedupe and rejection order, and the usage summary. Runs on
 * task threads inside the tenant transaction; RLS confines every row to
 * the caller's tenant and mode, so another tenant's customer or meter
 * reads as absent.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/api.h"
#include "auth/crypto.h"
#include "billing/usage.h"
#include "db/db.h"

#define METER_CODE_MAX		100
#define METER_NAME_MAX		256
#define METER_FIELD_MAX		100
#define USAGE_ID_MAX		255
#define USAGE_BATCH_MAX		1000
/* BILLING.md "Usage": more than 5 minutes ahead of now is the future. */
#define USAGE_FUTURE_S		300
/* |value| bound: sums of many events stay far inside bigint. */
#define USAGE_VALUE_MAX		1000000000000000LL

#define SQL_METER_COLUMNS \
	"id, livemode, code, name, aggregation, field, " \
	"floor(extract(epoch FROM created))::bigint AS created"

#define SQL_METER_INSERT \
	"INSERT INTO meters (tenant_id, livemode, id, code, name, " \
	"aggregation, field) VALUES (current_setting('app.tenant_id'), " \
	"current_setting('app.livemode')::boolean, $1, $2, $3, $4, $5) " \
	"RETURNING " SQL_METER_COLUMNS

#define SQL_METER_GET \
	"SELECT " SQL_METER_COLUMNS " FROM meters WHERE id = $1"

/*
 * Ingest, step zero: the running subscriptions of the batch's customers,
 * locked FOR SHARE in id order (subscription before customer, the
 * billing core's lock order). A renewal, pause or cancel of one of them
 * either committed before (the next statement sees its
 * usage_billed_until and paused_at) or waits for this request to commit
 * (and then bills the events accepted here): no accepted event falls into
 * a period already invoiced, and none is left out of one.
 */
#define SQL_USAGE_LOCK \
	"WITH x AS (SELECT * FROM jsonb_to_recordset($1::jsonb) AS x(" \
	"customer_id text, external_customer_id text)), " \
	"c AS (SELECT k.id FROM customers k JOIN x ON k.id = x.customer_id " \
	"UNION SELECT k.id FROM customers k JOIN x ON x.customer_id IS NULL " \
	"AND k.external_id = x.external_customer_id AND NOT k.deleted) " \
	"SELECT b.id FROM subscriptions b WHERE b.customer_id IN (SELECT id " \
	"FROM c) AND b.status <> 'canceled' ORDER BY b.id FOR SHARE OF b"

/*
 * Ingest, step one: every event of the batch ($1, a JSON array in input
 * order) classified in one statement. The customer (by id, or by
 * external_id among live customers), its billing time (the test clock's
 * frozen_time, else now()), the meter by code, the timestamp (omitted:
 * that time), then the first rejection reason in BILLING.md's order. A
 * subscription covers an event when it is the customer's, its plan has a
 * charge on the meter, and started_at <= ts < canceled_at (if any).
 * duplicate: the event_id was accepted before, or an earlier occurrence
 * in this batch is accepted (no reason), whatever this one's reason.
 */
#define SQL_USAGE_COVERS \
	"SELECT 1 FROM subscriptions b JOIN plans p ON p.tenant_id = " \
	"b.tenant_id AND p.id = b.plan_id WHERE b.customer_id = " \
	"r.customer_id AND p.charges @> jsonb_build_array(" \
	"jsonb_build_object('meter_id', r.meter_id)) AND b.started_at <= " \
	"to_timestamp(r.ts) AND (b.canceled_at IS NULL OR to_timestamp(r.ts) " \
	"< b.canceled_at)"

#define SQL_USAGE_CLASSIFY \
	"WITH x AS (SELECT * FROM jsonb_to_recordset($1::jsonb) AS x(i int, " \
	"event_id text, customer_id text, external_customer_id text, " \
	"meter text, ts bigint)), " \
	"r AS (SELECT x.i, x.event_id, c.id AS customer_id, m.id AS " \
	"meter_id, m.field, m.aggregation, coalesce(x.ts, c.now) AS ts, " \
	"c.now, EXISTS (SELECT 1 FROM usage_events u WHERE u.event_id = " \
	"x.event_id) AS seen FROM x LEFT JOIN LATERAL (SELECT k.id, " \
	"coalesce((SELECT floor(extract(epoch FROM t.frozen_time))::bigint " \
	"FROM test_clocks t WHERE t.id = k.test_clock_id), " \
	"floor(extract(epoch FROM now()))::bigint) AS now FROM (" \
	"SELECT id, test_clock_id FROM customers WHERE id = x.customer_id " \
	"AND NOT deleted UNION ALL SELECT id, test_clock_id FROM customers " \
	"WHERE x.customer_id IS NULL AND external_id = " \
	"x.external_customer_id AND NOT deleted LIMIT 1) k) c ON true " \
	"LEFT JOIN meters m ON m.code = x.meter), " \
	"s AS (SELECT r.*, CASE WHEN r.customer_id IS NULL THEN " \
	"'customer_not_found' WHEN r.meter_id IS NULL THEN " \
	"'meter_not_found' WHEN r.ts > r.now + $2::bigint THEN " \
	"'timestamp_in_future' WHEN EXISTS (" SQL_USAGE_COVERS " AND " \
	"to_timestamp(r.ts) < b.usage_billed_until) THEN 'period_invoiced' " \
	"WHEN EXISTS (" SQL_USAGE_COVERS " AND b.status = 'paused' AND " \
	"to_timestamp(r.ts) >= b.paused_at) THEN 'subscription_paused' END " \
	"AS reason FROM r) " \
	"SELECT s.i, s.customer_id, s.meter_id, s.field, s.aggregation, " \
	"s.ts, s.reason, s.seen OR coalesce(bool_or(s.reason IS NULL) OVER " \
	"(PARTITION BY s.event_id ORDER BY s.i ROWS BETWEEN UNBOUNDED " \
	"PRECEDING AND 1 PRECEDING), false) AS duplicate FROM s ORDER BY s.i"

/*
 * Step two: the accepted events. Their ids are drawn in input order (the
 * order received, the `last` tie break), and rows are inserted in
 * event_id order, so two batches sharing event_ids take their index
 * locks in the same order and never deadlock. The unique index decides a
 * race with a concurrent request for the same event_id: the loser
 * inserts nothing for it and counts it as a duplicate.
 */
#define SQL_USAGE_INSERT \
	"WITH x AS MATERIALIZED (SELECT x.*, nextval('usage_events_id_seq') " \
	"AS id FROM jsonb_to_recordset($1::jsonb) AS x(i int, event_id text, " \
	"customer_id text, meter_id text, ts bigint, properties jsonb, value " \
	"bigint) ORDER BY x.i) " \
	"INSERT INTO usage_events (tenant_id, livemode, id, event_id, " \
	"customer_id, meter_id, \"timestamp\", properties, value) SELECT " \
	"current_setting('app.tenant_id'), " \
	"current_setting('app.livemode')::boolean, x.id, x.event_id, " \
	"x.customer_id, x.meter_id, to_timestamp(x.ts), x.properties, " \
	"x.value FROM x ORDER BY x.event_id COLLATE \"C\" ON CONFLICT " \
	"(tenant_id, livemode, event_id) DO NOTHING RETURNING event_id"

/* Summary: the customer by id (deleted too: its events remain). */
#define SQL_SUMMARY_CUSTOMER \
	"SELECT id FROM customers WHERE ($1::text IS NOT NULL AND id = $1) " \
	"OR ($1::text IS NULL AND external_id = $2 AND NOT deleted)"

/* Summary: the meter by code, as events name it, else by id. */
#define SQL_SUMMARY_METER \
	"(SELECT id, code FROM meters WHERE code = $1 UNION ALL " \
	"SELECT id, code FROM meters WHERE id = $1) LIMIT 1"

static const char *const meter_aggregations[] = { "count", "sum", "max",
    "unique_count", "last", NULL };
static const char *const meter_fields[] = { "code", "name", "aggregation",
    "field", NULL };
static const char *const usage_event_keys[] = { "event_id", "customer_id",
    "external_customer_id", "meter", "timestamp", "properties", NULL };
static const char *const usage_batch_keys[] = { "events", NULL };

/* One event of an ingest request, as parsed. */
struct usage_event {
	char		 path[32];	/* "events[7]"; "" when alone */
	const char	*event_id;
	const char	*customer_id;
	const char	*external_id;
	const char	*meter;
	int64_t		 ts;
	int		 has_ts;
	json_t		*properties;	/* borrowed, NULL if absent */
};

/* A meters row (SQL_METER_COLUMNS) as the contract's meter object. */
static json_t *
meter_json(const PGresult *res, int row)
{
	char	created[32];

	bw_time_rfc3339(bw_db_int(res, row, "created"), created,
	    sizeof(created));
	return json_pack("{s:s, s:s, s:b, s:s, s:s, s:s, s:s, s:o}",
	    "object", "meter",
	    "id", bw_db_val(res, row, "id"),
	    "livemode", strcmp(bw_db_val(res, row, "livemode"), "t") == 0,
	    "created", created,
	    "code", bw_db_val(res, row, "code"),
	    "name", bw_db_val(res, row, "name"),
	    "aggregation", bw_db_val(res, row, "aggregation"),
	    "field", bw_db_isnull(res, row, "field") ? json_null() :
	    json_string(bw_db_val(res, row, "field")));
}

/*
 * A code names the meter in events and query strings: letters, digits
 * and "_-.:" only, so it reads the same everywhere.
 */
static int
meter_code_ok(const char *s)
{
	for (; *s != '\0'; s++)
		if (!((*s >= '0' && *s <= '9') || (*s >= 'a' && *s <= 'z') ||
		    (*s >= 'A' && *s <= 'Z') || strchr("_-.:", *s) != NULL))
			return 0;
	return 1;
}

/* A required or optional non-empty string of at most MAXLEN characters. */
static int
meter_str(struct bw_req *req, const char *key, int flags, size_t maxlen,
    const char **out)
{
	int	rc;

	*out = NULL;
	if ((rc = bw_param_str(req, req->json, key, flags | BW_P_NULLABLE,
	    maxlen, out)) != BW_OK) {
		if (rc == BW_DECLINED && (flags & BW_P_REQUIRED))
			return bw_err_missing(req, key);
		return rc;
	}
	if (**out == '\0')
		return bw_err_invalid(req, key, "%s may not be empty.", key);
	return BW_OK;
}

static int
meters_create(struct bw_req *req)
{
	const char	*code, *name, *agg, *field, *p[5];
	char		 id[BW_ID_MAX];
	PGresult	*res;
	json_t		*m;
	int		 rc;

	if (bw_body_object(req) != BW_OK ||
	    bw_params_only(req, req->json, meter_fields) != BW_OK ||
	    meter_str(req, "code", BW_P_REQUIRED, METER_CODE_MAX, &code) !=
	    BW_OK ||
	    meter_str(req, "name", BW_P_REQUIRED, METER_NAME_MAX, &name) !=
	    BW_OK)
		return BW_ERROR;
	if (!meter_code_ok(code))
		return bw_err_invalid(req, "code", "code may contain only "
		    "letters, digits and the characters _ - . :");
	if ((rc = bw_param_enum(req, req->json, "aggregation", BW_P_REQUIRED,
	    meter_aggregations, &agg)) != BW_OK)
		return rc == BW_DECLINED ? bw_err_missing(req, "aggregation") :
		    BW_ERROR;
	if ((rc = meter_str(req, "field", BW_P_OPTIONAL, METER_FIELD_MAX,
	    &field)) == BW_ERROR)
		return BW_ERROR;
	/* Every aggregation but count reads the value of a property. */
	if (field == NULL && strcmp(agg, "count") != 0)
		return bw_req_error(req, 400, "invalid_request_error",
		    "parameter_missing", "field", "A %s meter needs field, "
		    "the event property it aggregates.", agg);

	bw_id_new("mtr", id);
	p[0] = id;
	p[1] = code;
	p[2] = name;
	p[3] = agg;
	p[4] = field;
	if ((res = bw_db_query(req->db, SQL_METER_INSERT, 5, p)) == NULL) {
		if (strcmp(bw_db_sqlstate(req->db), "23505") == 0 &&
		    strcmp(bw_db_constraint(req->db), "meters_code") == 0)
			return bw_req_error(req, 409, "invalid_request_error",
			    "resource_already_exists", "code", "A meter with "
			    "this code already exists.");
		return BW_ERROR;
	}
	m = meter_json(res, 0);
	PQclear(res);
	return bw_req_json(req, 201, m);
}

static int
meters_list(struct bw_req *req)
{
	struct bw_page	 page;
	PGresult	*res;
	json_t		*items;
	int		 i;

	if (bw_page_parse(req, "mtr", &page) != BW_OK)
		return BW_ERROR;
	if ((res = bw_page_query(req, &page, "SELECT " SQL_METER_COLUMNS
	    " FROM meters", "id")) == NULL)
		return BW_ERROR;
	items = json_array();
	for (i = 0; i < PQntuples(res); i++)
		json_array_append_new(items, meter_json(res, i));
	PQclear(res);
	return bw_page_respond(req, &page, items, "/api/v1/meters");
}

static int
meters_get(struct bw_req *req)
{
	const char	*p[1] = { bw_req_param(req, 0) };
	PGresult	*res;
	json_t		*m;

	if ((res = bw_db_query(req->db, SQL_METER_GET, 1, p)) == NULL)
		return BW_ERROR;
	if (PQntuples(res) != 1) {
		PQclear(res);
		return bw_err_not_found(req, "meter");
	}
	m = meter_json(res, 0);
	PQclear(res);
	return bw_req_json(req, 200, m);
}

/*
 * "events[3].meter" for a batch event, "meter" for a lone one: the param
 * an error names.
 */
static const char *
usage_param(struct bw_req *req, const struct usage_event *ev,
    const char *key)
{
	if (ev->path[0] == '\0')
		return bw_arena_strdup(&req->arena, key);
	return bw_arena_printf(&req->arena, "%s.%s", ev->path, key);
}

/*
 * An optional string KEY of event OBJ: BW_OK, BW_DECLINED when absent or
 * null, BW_ERROR for another type, "" or more than MAXLEN characters.
 */
static int
usage_str(struct bw_req *req, const struct usage_event *ev, json_t *obj,
    const char *key, size_t maxlen, const char **out)
{
	const char	*param;
	json_t		*v;

	*out = NULL;
	if ((v = json_object_get(obj, key)) == NULL || json_is_null(v))
		return BW_DECLINED;
	param = usage_param(req, ev, key);
	if (!json_is_string(v))
		return bw_err_invalid(req, param, "%s must be a string.",
		    param);
	if (json_string_length(v) == 0 ||
	    bw_utf8_len(json_string_value(v)) > maxlen)
		return bw_err_invalid(req, param,
		    "%s must be 1 to %zu characters.", param, maxlen);
	*out = json_string_value(v);
	return BW_OK;
}

/*
 * One event's shape (API.md "Usage metering"): the whole request is a 400
 * when any event is malformed, before anything is looked up.
 */
static int
usage_event_parse(struct bw_req *req, json_t *obj, struct usage_event *ev)
{
	const char	*key, *ts;
	json_t		*v;
	size_t		 i;
	int		 rc;

	if (!json_is_object(obj))
		return bw_err_invalid(req, ev->path, "%s must be an object.",
		    ev->path);
	json_object_foreach(obj, key, v) {
		for (i = 0; usage_event_keys[i] != NULL; i++)
			if (strcmp(usage_event_keys[i], key) == 0)
				break;
		if (usage_event_keys[i] == NULL)
			return bw_req_error(req, 400, "invalid_request_error",
			    "parameter_unknown", strlen(key) <= 32 ?
			    usage_param(req, ev, key) : NULL,
			    "Received unknown parameter: %s%s%.60s.",
			    ev->path, ev->path[0] != '\0' ? "." : "", key);
	}
	if ((rc = usage_str(req, ev, obj, "event_id", USAGE_ID_MAX,
	    &ev->event_id)) != BW_OK)
		return rc == BW_DECLINED ? bw_err_missing(req,
		    usage_param(req, ev, "event_id")) : BW_ERROR;
	if (usage_str(req, ev, obj, "customer_id", USAGE_ID_MAX,
	    &ev->customer_id) == BW_ERROR ||
	    usage_str(req, ev, obj, "external_customer_id", USAGE_ID_MAX,
	    &ev->external_id) == BW_ERROR)
		return BW_ERROR;
	if (ev->customer_id == NULL && ev->external_id == NULL)
		return bw_err_missing(req, usage_param(req, ev, "customer_id"));
	if (ev->customer_id != NULL && ev->external_id != NULL)
		return bw_err_invalid(req, usage_param(req, ev,
		    "external_customer_id"), "Pass customer_id or "
		    "external_customer_id, not both.");
	if ((rc = usage_str(req, ev, obj, "meter", METER_CODE_MAX,
	    &ev->meter)) != BW_OK)
		return rc == BW_DECLINED ? bw_err_missing(req,
		    usage_param(req, ev, "meter")) : BW_ERROR;
	if ((rc = usage_str(req, ev, obj, "timestamp", 64, &ts)) ==
	    BW_ERROR)
		return BW_ERROR;
	if ((ev->has_ts = rc == BW_OK) &&
	    (bw_time_parse(ts, &ev->ts) != BW_OK || ev->ts < 0))
		return bw_err_invalid(req, usage_param(req, ev, "timestamp"),
		    "%s must be an RFC 3339 time (2026-01-31T00:00:00Z).",
		    usage_param(req, ev, "timestamp"));
	ev->properties = json_object_get(obj, "properties");
	if (ev->properties != NULL && json_is_null(ev->properties))
		ev->properties = NULL;
	if (ev->properties != NULL && !json_is_object(ev->properties))
		return bw_err_invalid(req, usage_param(req, ev, "properties"),
		    "%s must be an object.", usage_param(req, ev,
		    "properties"));
	return BW_OK;
}

/* The request's events: {events:[...]} (1..1000) or one lone event. */
static int
usage_events_parse(struct bw_req *req, struct usage_event **out, size_t *n)
{
	struct usage_event	*evs;
	json_t			*arr, *v;
	size_t			 i;

	if ((arr = json_object_get(req->json, "events")) == NULL) {
		evs = bw_arena_alloc(&req->arena, sizeof(*evs));
		memset(evs, 0, sizeof(*evs));
		if (usage_event_parse(req, req->json, evs) != BW_OK)
			return BW_ERROR;
		*out = evs;
		*n = 1;
		return BW_OK;
	}
	if (bw_params_only(req, req->json, usage_batch_keys) != BW_OK)
		return BW_ERROR;
	if (!json_is_array(arr))
		return bw_err_invalid(req, "events", "events must be an "
		    "array.");
	if (json_array_size(arr) < 1 || json_array_size(arr) >
	    USAGE_BATCH_MAX)
		return bw_err_invalid(req, "events", "events must hold 1 to %d "
		    "events.", USAGE_BATCH_MAX);
	*n = json_array_size(arr);
	evs = bw_arena_alloc(&req->arena, sizeof(*evs) * *n);
	memset(evs, 0, sizeof(*evs) * *n);
	json_array_foreach(arr, i, v) {
		snprintf(evs[i].path, sizeof(evs[i].path), "events[%zu]", i);
		if (usage_event_parse(req, v, &evs[i]) != BW_OK)
			return BW_ERROR;
	}
	*out = evs;
	return BW_OK;
}

/*
 * The value an event carries for its meter (docs/usage.md): the meter's
 * field must hold a JSON integer for sum, max and last, and be present
 * (any JSON value but null) for unique_count; count reads nothing. A
 * request with an event that breaks this and would otherwise be accepted
 * (not a duplicate, no rejection reason) is a 400 for the whole request:
 * nothing is recorded.
 * *VALUE is the integer when there is one, else NULL (json_null()).
 */
static int
usage_value(struct bw_req *req, const struct usage_event *ev,
    const char *agg, const char *field, json_t **value)
{
	const char	*param;
	json_t		*v;
	int		 numeric;

	*value = json_null();
	if (field == NULL)
		return BW_OK;
	v = ev->properties != NULL ? json_object_get(ev->properties, field) :
	    NULL;
	if (v != NULL && json_is_integer(v) &&
	    json_integer_value(v) >= -USAGE_VALUE_MAX &&
	    json_integer_value(v) <= USAGE_VALUE_MAX) {
		json_decref(*value);
		*value = json_integer(json_integer_value(v));
		return BW_OK;
	}
	if (strcmp(agg, "count") == 0)
		return BW_OK;
	numeric = strcmp(agg, "unique_count") != 0;
	param = usage_param(req, ev, "properties");
	if (v == NULL || json_is_null(v))
		return bw_req_error(req, 400, "invalid_request_error",
		    "parameter_missing", param, "%s.%.100s is required by the "
		    "meter's %s aggregation.", param, field, agg);
	if (numeric)
		return bw_err_invalid(req, param, "%s.%.100s must be an "
		    "integer between %lld and %lld for the meter's %s "
		    "aggregation.", param, field, -USAGE_VALUE_MAX,
		    USAGE_VALUE_MAX, agg);
	return BW_OK;
}

/* The events as step one's input: a JSON array text (caller frees). */
static char *
usage_classify_input(const struct usage_event *evs, size_t n)
{
	json_t	*arr;
	char	*s;
	size_t	 i;

	arr = json_array();
	for (i = 0; i < n; i++)
		json_array_append_new(arr, json_pack("{s:I, s:s, s:s?, s:s?, "
		    "s:s, s:o}", "i", (json_int_t)i,
		    "event_id", evs[i].event_id,
		    "customer_id", evs[i].customer_id,
		    "external_customer_id", evs[i].external_id,
		    "meter", evs[i].meter,
		    "ts", evs[i].has_ts ? json_integer(evs[i].ts) :
		    json_null()));
	s = json_dumps(arr, JSON_COMPACT);
	json_decref(arr);
	return s;
}

/*
 * POST /usage/events (BILLING.md "Usage", ingest order): three statements
 * whatever the batch size: lock the customers' subscriptions, classify
 * every event, insert the accepted ones.
 */
static int
usage_ingest(struct bw_req *req)
{
	struct usage_event	*evs = NULL;
	const char		*p[2], *agg, *field;
	char			*s, future[16];
	json_t			*ins, *rejected, *value;
	PGresult		*res;
	size_t			 n = 0, i, nins;
	long long		 accepted, dups = 0;

	if (bw_body_object(req) != BW_OK ||
	    usage_events_parse(req, &evs, &n) != BW_OK)
		return BW_ERROR;

	s = usage_classify_input(evs, n);
	p[0] = s;
	if ((res = bw_db_query(req->db, SQL_USAGE_LOCK, 1, p)) == NULL) {
		free(s);
		return BW_ERROR;
	}
	PQclear(res);
	snprintf(future, sizeof(future), "%d", USAGE_FUTURE_S);
	p[1] = future;
	res = bw_db_query(req->db, SQL_USAGE_CLASSIFY, 2, p);
	free(s);
	if (res == NULL)
		return BW_ERROR;
	if ((size_t)PQntuples(res) != n) {
		PQclear(res);
		return bw_err_internal(req);
	}

	ins = json_array();
	rejected = json_array();
	for (i = 0; i < n; i++) {
		/* Rows come back in input order (ORDER BY i). */
		if (strcmp(bw_db_val(res, (int)i, "duplicate"), "t") == 0) {
			dups++;
			continue;
		}
		if (!bw_db_isnull(res, (int)i, "reason")) {
			json_array_append_new(rejected, json_pack("{s:s, s:s}",
			    "event_id", evs[i].event_id,
			    "reason", bw_db_val(res, (int)i, "reason")));
			continue;
		}
		agg = bw_db_val(res, (int)i, "aggregation");
		field = bw_db_isnull(res, (int)i, "field") ? NULL :
		    bw_db_val(res, (int)i, "field");
		if (usage_value(req, &evs[i], agg, field, &value) != BW_OK) {
			json_decref(value);
			goto fail;
		}
		json_array_append_new(ins, json_pack("{s:I, s:s, s:s, s:s, "
		    "s:I, s:o, s:o}", "i", (json_int_t)i,
		    "event_id", evs[i].event_id,
		    "customer_id", bw_db_val(res, (int)i, "customer_id"),
		    "meter_id", bw_db_val(res, (int)i, "meter_id"),
		    "ts", (json_int_t)bw_db_int(res, (int)i, "ts"),
		    "properties", evs[i].properties != NULL ?
		    json_incref(evs[i].properties) : json_object(),
		    "value", value));
	}
	PQclear(res);
	res = NULL;

	accepted = 0;
	if ((nins = json_array_size(ins)) > 0) {
		s = json_dumps(ins, JSON_COMPACT);
		p[0] = s;
		res = bw_db_query(req->db, SQL_USAGE_INSERT, 1, p);
		free(s);
		if (res == NULL)
			goto fail;
		accepted = PQntuples(res);
		PQclear(res);
		res = NULL;
		/* Lost a race with a concurrent ingest: duplicates. */
		dups += (long long)nins - accepted;
	}
	json_decref(ins);
	return bw_req_json(req, 202, json_pack("{s:I, s:I, s:o}",
	    "accepted", (json_int_t)accepted, "duplicates", (json_int_t)dups,
	    "rejected", rejected));
fail:
	if (res != NULL)
		PQclear(res);
	json_decref(ins);
	json_decref(rejected);
	return BW_ERROR;
}

/* An optional RFC 3339 query parameter: BW_OK, BW_DECLINED or BW_ERROR. */
static int
usage_query_time(struct bw_req *req, const char *key, int64_t *t)
{
	const char	*s;

	if ((s = bw_req_query(req, key)) == NULL || *s == '\0')
		return BW_DECLINED;
	if (bw_time_parse(s, t) != BW_OK || *t < 0)
		return bw_err_invalid(req, key, "%s must be an RFC 3339 time "
		    "(2026-01-31T00:00:00Z).", key);
	return BW_OK;
}

/*
 * GET /usage/summary?customer_id=|external_customer_id=&meter=&from=&to=:
 * the meter's aggregation over [from, to); from defaults to the epoch,
 * and without to there is no end (docs/usage.md). The answer names the
 * meter by its code.
 */
static int
usage_summary(struct bw_req *req)
{
	const char	*p[2], *cus, *ext, *code;
	char		 from_s[32], to_s[32], *cus_id, *meter_id;
	int64_t		 from = 0, to = -1, value;
	PGresult	*res;
	int		 rc;

	cus = bw_req_query(req, "customer_id");
	ext = bw_req_query(req, "external_customer_id");
	if (cus != NULL && *cus == '\0')
		cus = NULL;
	if (ext != NULL && *ext == '\0')
		ext = NULL;
	if (cus == NULL && ext == NULL)
		return bw_err_missing(req, "customer_id");
	if (cus != NULL && ext != NULL)
		return bw_err_invalid(req, "external_customer_id", "Pass "
		    "customer_id or external_customer_id, not both.");
	if ((code = bw_req_query(req, "meter")) == NULL || *code == '\0')
		return bw_err_missing(req, "meter");
	if (usage_query_time(req, "from", &from) == BW_ERROR ||
	    (rc = usage_query_time(req, "to", &to)) == BW_ERROR)
		return BW_ERROR;
	if (rc == BW_OK && to < from)
		return bw_err_invalid(req, "to", "to must not be before from.");

	p[0] = cus;
	p[1] = ext;
	if ((res = bw_db_query(req->db, SQL_SUMMARY_CUSTOMER, 2, p)) == NULL)
		return BW_ERROR;
	if (PQntuples(res) != 1) {
		PQclear(res);
		return bw_req_error(req, 404, "invalid_request_error",
		    "resource_missing", cus != NULL ? "customer_id" :
		    "external_customer_id", "No such customer.");
	}
	cus_id = bw_arena_strdup(&req->arena, bw_db_val(res, 0, "id"));
	PQclear(res);
	p[0] = code;
	if ((res = bw_db_query(req->db, SQL_SUMMARY_METER, 1, p)) == NULL)
		return BW_ERROR;
	if (PQntuples(res) != 1) {
		PQclear(res);
		return bw_req_error(req, 404, "invalid_request_error",
		    "resource_missing", "meter", "No such meter: '%.100s'.",
		    code);
	}
	meter_id = bw_arena_strdup(&req->arena, bw_db_val(res, 0, "id"));
	code = bw_arena_strdup(&req->arena, bw_db_val(res, 0, "code"));
	PQclear(res);

	if (bw_usage_value(req, meter_id, cus_id, from, to, &value) != BW_OK)
		return BW_ERROR;
	bw_time_rfc3339(from, from_s, sizeof(from_s));
	if (to >= 0)
		bw_time_rfc3339(to, to_s, sizeof(to_s));
	return bw_req_json(req, 200, json_pack("{s:s, s:b, s:s, s:s, s:s, "
	    "s:o, s:I}", "object", "usage_summary",
	    "livemode", req->who.livemode,
	    "customer_id", cus_id,
	    "meter", code,
	    "from", from_s,
	    "to", to >= 0 ? json_string(to_s) : json_null(),
	    "value", (json_int_t)value));
}

static const struct bw_route meter_routes[] = {
	{ .method = BW_GET, .pattern = "/api/v1/meters",
	  .auth = BW_AUTH_TENANT, .handler = meters_list },
	{ .method = BW_POST, .pattern = "/api/v1/meters",
	  .auth = BW_AUTH_TENANT, .role = BW_ROLE_ADMIN,
	  .handler = meters_create },
	{ .method = BW_GET, .pattern = "/api/v1/meters/{id}",
	  .auth = BW_AUTH_TENANT, .handler = meters_get },
	{ .method = BW_POST, .pattern = "/api/v1/usage/events",
	  .auth = BW_AUTH_TENANT, .role = BW_ROLE_ADMIN,
	  .handler = usage_ingest },
	{ .method = BW_GET, .pattern = "/api/v1/usage/summary",
	  .auth = BW_AUTH_TENANT, .handler = usage_summary },
};

BW_ROUTE_TABLE(bw_api_meters, meter_routes);
