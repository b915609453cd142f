/*
 * The analytics plugin (API.md "Analytics"): its entry point, and the
 * seed's AnalyticsEvent. Tenants record free-form product events and read
 * them back:
 *
 *   POST /api/v1/analytics/events       record one (secret key or admin+)
 *   GET  /api/v1/analytics/events       list, newest first, with filters
 *   GET  /api/v1/analytics/events/{id}  one event
 *
 * The MRR history is history.c, the summary and metrics report.c.
 * Everything runs in the request's tenant transaction, so row-level
 * security confines reads and writes to the caller's tenant and mode; the
 * SQL names no tenant itself. Table: migrations/0001_analytics_events.sql.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "analytics.h"

#define AE_PREFIX		"ae"
#define AE_URL			"/api/v1/analytics/events"
#define AE_STR_MAX		200
#define AE_DATA_MAX		(16 * 1024)	/* event_data, serialized */

static const struct billow_host		*host;
static struct billow_plugin_handle	*self;

/* The columns every statement returns, in the shape ae_object reads. */
#define AE_COLUMNS							\
	"id, livemode::text AS livemode, event_name, "			\
	"event_data::text AS event_data, user_id, session_id, "		\
	"floor(extract(epoch FROM created))::bigint AS created"

#define SQL_INSERT							\
	"INSERT INTO analytics_events (tenant_id, livemode, id, "	\
	"event_name, event_data, user_id, session_id) VALUES "		\
	"(current_setting('app.tenant_id'), "				\
	"current_setting('app.livemode')::boolean, $1, $2, $3::jsonb, "	\
	"$4, $5) RETURNING " AE_COLUMNS

#define SQL_GET								\
	"SELECT " AE_COLUMNS " FROM analytics_events WHERE id = $1"

/*
 * $1 starting_after, $2 ending_before, $3 event_name, $4 user_id,
 * $5 created[gte], $6 created[lt] (UNIX seconds), $7 limit + 1.
 */
#define SQL_LIST_WHERE							\
	"SELECT " AE_COLUMNS " FROM analytics_events "			\
	"WHERE ($1::text IS NULL OR id < $1) "				\
	"AND ($2::text IS NULL OR id > $2) "				\
	"AND ($3::text IS NULL OR event_name = $3) "			\
	"AND ($4::text IS NULL OR user_id = $4) "			\
	"AND ($5::bigint IS NULL OR created >= to_timestamp($5::bigint)) " \
	"AND ($6::bigint IS NULL OR created < to_timestamp($6::bigint)) "
#define SQL_LIST_DESC	SQL_LIST_WHERE "ORDER BY id DESC LIMIT $7::int"
#define SQL_LIST_ASC	SQL_LIST_WHERE "ORDER BY id ASC LIMIT $7::int"

static json_t *
str_or_null(const char *s)
{
	return s != NULL ? json_string(s) : json_null();
}

/* Row ROW of RES as an analytics_event object (NULL: out of memory). */
static json_t *
ae_object(const struct billow_result *res, int row)
{
	const char	*v;
	json_t		*data;
	char		 created[40];

	v = host->result_value(res, row, "created");
	host->time_format(v != NULL ? strtoll(v, NULL, 10) : 0, created,
	    sizeof(created));
	data = NULL;
	if ((v = host->result_value(res, row, "event_data")) != NULL)
		data = json_loads(v, 0, NULL);
	if (data == NULL)
		data = json_object();
	v = host->result_value(res, row, "livemode");
	return json_pack("{s:s, s:s?, s:b, s:s, s:s?, s:o, s:o, s:o}",
	    "object", "analytics_event",
	    "id", host->result_value(res, row, "id"),
	    "livemode", v != NULL && strcmp(v, "true") == 0,
	    "created", created,
	    "event_name", host->result_value(res, row, "event_name"),
	    "event_data", data,
	    "user_id", str_or_null(host->result_value(res, row, "user_id")),
	    "session_id", str_or_null(host->result_value(res, row,
	    "session_id")));
}

/* 1 if any string or key inside V holds a NUL (PostgreSQL refuses it). */
static int
has_nul(json_t *v)
{
	const char	*k;
	json_t		*e;
	size_t		 i;

	switch (json_typeof(v)) {
	case JSON_STRING:
		return json_string_length(v) != strlen(json_string_value(v));
	case JSON_OBJECT:
		json_object_foreach(v, k, e)
			if (has_nul(e))
				return 1;
		/* Keys with a NUL are cut by jansson's own object API. */
		return 0;
	case JSON_ARRAY:
		json_array_foreach(v, i, e)
			if (has_nul(e))
				return 1;
		return 0;
	default:
		return 0;
	}
}

/*
 * An optional string field: null counts as absent. BILLOW_OK with *OUT
 * set, BILLOW_DECLINED absent, BILLOW_ERROR (already answered) invalid.
 */
static int
opt_str(struct billow_req *req, json_t *body, const char *key,
    const char **out)
{
	json_t	*v;
	int	 rc;

	*out = NULL;
	v = json_object_get(body, key);
	if (v != NULL && json_is_null(v))
		return BILLOW_DECLINED;
	if ((rc = host->param_str(req, body, key, 0, AE_STR_MAX, out)) !=
	    BILLOW_OK)
		return rc;
	if (has_nul(v))
		return host->error(req, 400, "invalid_request_error",
		    "parameter_invalid", key, "Strings may not contain NUL "
		    "characters.");
	return BILLOW_OK;
}

static int
ae_create(struct billow_req *req)
{
	static const char *const allowed[] = { "event_name", "event_data",
	    "user_id", "session_id", NULL };
	struct billow_result	*res;
	const char		*p[5];
	json_t			*body, *data, *out;
	char			 id[BILLOW_ID_MAX], *dump;
	int			 rc;

	if ((body = host->req_body(req)) == NULL)
		return BILLOW_ERROR;
	if (host->params_only(req, body, allowed) != BILLOW_OK)
		return BILLOW_ERROR;
	if (host->param_str(req, body, "event_name", 1, AE_STR_MAX,
	    &p[1]) != BILLOW_OK)
		return BILLOW_ERROR;
	if (has_nul(json_object_get(body, "event_name")))
		return host->error(req, 400, "invalid_request_error",
		    "parameter_invalid", "event_name", "Strings may not "
		    "contain NUL characters.");
	data = NULL;
	if (!json_is_null(json_object_get(body, "event_data")) &&
	    host->param_object(req, body, "event_data", 0, &data) ==
	    BILLOW_ERROR)
		return BILLOW_ERROR;
	if (data != NULL && has_nul(data))
		return host->error(req, 400, "invalid_request_error",
		    "parameter_invalid", "event_data", "event_data may not "
		    "contain NUL characters.");
	if (opt_str(req, body, "user_id", &p[3]) == BILLOW_ERROR ||
	    opt_str(req, body, "session_id", &p[4]) == BILLOW_ERROR)
		return BILLOW_ERROR;

	dump = data != NULL ? json_dumps(data, JSON_COMPACT) : strdup("{}");
	if (dump == NULL)
		return BILLOW_ERROR;
	if (strlen(dump) > AE_DATA_MAX) {
		free(dump);
		return host->error(req, 400, "invalid_request_error",
		    "parameter_invalid", "event_data", "event_data must be "
		    "at most 16384 bytes once serialized.");
	}
	host->id_new(AE_PREFIX, id);
	p[0] = id;
	p[2] = dump;
	rc = host->sql(req, SQL_INSERT, 5, p, &res);
	free(dump);
	if (rc != BILLOW_OK)
		return BILLOW_ERROR;
	out = host->result_rows(res) == 1 ? ae_object(res, 0) : NULL;
	host->result_free(res);
	if (out == NULL)
		return BILLOW_ERROR;
	return host->respond_json(req, 201, out);
}

/* Query parameter NAME as UNIX seconds into BUF, or NULL when absent. */
static int
created_param(struct billow_req *req, const char *name, char *buf,
    size_t len, const char **out)
{
	const char	*v;
	int64_t		 t;
	char		 msg[120];

	*out = NULL;
	if ((v = host->req_query(req, name)) == NULL)
		return BILLOW_OK;
	if (host->time_parse(v, &t) != BILLOW_OK) {
		snprintf(msg, sizeof(msg), "%s must be an RFC 3339 timestamp "
		    "(2026-01-31T00:00:00Z).", name);
		return host->error(req, 400, "invalid_request_error",
		    "parameter_invalid", name, msg);
	}
	snprintf(buf, len, "%lld", (long long)t);
	*out = buf;
	return BILLOW_OK;
}

static int
ae_list(struct billow_req *req)
{
	struct billow_result	*res;
	const char		*p[7], *before;
	char			 gte[32], lt[32], limit[16];
	json_t			*items, *o;
	int			 n, i;

	if (host->list_parse(req, AE_PREFIX, &n, &p[0], &before) !=
	    BILLOW_OK)
		return BILLOW_ERROR;
	p[1] = before;
	p[2] = host->req_query(req, "event_name");
	p[3] = host->req_query(req, "user_id");
	if (created_param(req, "created[gte]", gte, sizeof(gte), &p[4]) !=
	    BILLOW_OK || created_param(req, "created[lt]", lt, sizeof(lt),
	    &p[5]) != BILLOW_OK)
		return BILLOW_ERROR;
	snprintf(limit, sizeof(limit), "%d", n + 1);
	p[6] = limit;
	if (host->sql(req, before != NULL ? SQL_LIST_ASC : SQL_LIST_DESC, 7,
	    p, &res) != BILLOW_OK)
		return BILLOW_ERROR;
	items = json_array();
	for (i = 0; i < host->result_rows(res); i++) {
		if ((o = ae_object(res, i)) == NULL ||
		    json_array_append_new(items, o) != 0) {
			host->result_free(res);
			json_decref(items);
			return BILLOW_ERROR;
		}
	}
	host->result_free(res);
	return host->list_respond(req, items, AE_URL);
}

static int
ae_get(struct billow_req *req)
{
	struct billow_result	*res;
	const char		*p[1];
	json_t			*out;

	p[0] = host->req_param(req, 0);
	if (p[0] == NULL || strncmp(p[0], AE_PREFIX "_", 3) != 0)
		return host->error_not_found(req, "analytics event");
	if (host->sql(req, SQL_GET, 1, p, &res) != BILLOW_OK)
		return BILLOW_ERROR;
	if (host->result_rows(res) != 1) {
		host->result_free(res);
		return host->error_not_found(req, "analytics event");
	}
	out = ae_object(res, 0);
	host->result_free(res);
	if (out == NULL)
		return BILLOW_ERROR;
	return host->respond_json(req, 200, out);
}

static int
analytics_init(const struct billow_host *h, struct billow_plugin_handle *hd)
{
	host = h;
	self = hd;
	if (host->route_add(self, BILLOW_POST, AE_URL, BILLOW_AUTH_TENANT,
	    BILLOW_ROLE_ADMIN, ae_create) != BILLOW_OK ||
	    host->route_add(self, BILLOW_GET, AE_URL, BILLOW_AUTH_TENANT,
	    BILLOW_ROLE_ANY, ae_list) != BILLOW_OK ||
	    host->route_add(self, BILLOW_GET, AE_URL "/{id}",
	    BILLOW_AUTH_TENANT, BILLOW_ROLE_ANY, ae_get) != BILLOW_OK)
		return BILLOW_ERROR;
	if (history_init(h, hd) != BILLOW_OK || report_init(h, hd) !=
	    BILLOW_OK)
		return BILLOW_ERROR;
	return BILLOW_OK;
}

static void
analytics_fini(void)
{
	host = NULL;
	self = NULL;
}

BILLOW_PLUGIN(
	.name = "analytics",
	.version = "0.2.0",
	.init = analytics_init,
	.fini = analytics_fini,
);
