/*
 * Events (API.md "Events and webhooks"): GET /events with type and created
 * filters, GET /events/{id}. Rows come from the outbox table that every
 * state change writes in its own transaction (plugin/host.c
 * bw_event_emit). Runs on task threads, tenant and mode confined by RLS.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/api.h"
#include "db/db.h"

#define SQL_EVENT_COLUMNS \
	"SELECT id, type, livemode, data::text AS data, " \
	"floor(extract(epoch FROM created))::bigint AS created FROM events"

json_t *
bw_event_json(const PGresult *res, int row)
{
	char	 created[32];
	json_t	*data;

	bw_time_rfc3339(bw_db_int(res, row, "created"), created,
	    sizeof(created));
	if ((data = json_loads(bw_db_val(res, row, "data"), 0, NULL)) == NULL)
		data = json_object();
	return json_pack("{s:s, s:s, s:s, s:s, s:b, s:o}", "object", "event",
	    "id", bw_db_val(res, row, "id"), "type", bw_db_val(res, row,
	    "type"), "created", created, "livemode",
	    strcmp(bw_db_val(res, row, "livemode"), "t") == 0, "data", data);
}

/* An RFC 3339 query parameter as epoch seconds text, or NULL if absent. */
static int
events_time_param(struct bw_req *req, const char *name, char *out,
    size_t len, const char **param)
{
	const char	*v;
	int64_t		 t;

	*param = NULL;
	if ((v = bw_req_query(req, name)) == NULL)
		return BW_OK;
	if (bw_time_parse(v, &t) != BW_OK)
		return bw_err_invalid(req, name, "%s must be an RFC 3339 time "
		    "such as 2026-01-31T00:00:00Z.", name);
	snprintf(out, len, "%lld", (long long)t);
	*param = out;
	return BW_OK;
}


static int
events_list(struct bw_req *req)
{
	struct bw_page	 page;
	struct bw_list	 l;
	const char	*gte, *lt;
	char		 gte_s[24], lt_s[24];
	PGresult	*res;
	json_t		*items;
	int		 i;

	if (bw_page_parse(req, "evt", &page) != BW_OK ||
	    events_time_param(req, "created[gte]", gte_s, sizeof(gte_s),
	    &gte) != BW_OK ||
	    events_time_param(req, "created[lt]", lt_s, sizeof(lt_s), &lt) !=
	    BW_OK)
		return BW_ERROR;
	bw_list_init(req, &l, SQL_EVENT_COLUMNS);
	bw_list_filter(&l, "type = $%d", bw_req_query(req, "type"));
	bw_list_filter(&l, "created >= to_timestamp($%d::bigint)", gte);
	bw_list_filter(&l, "created < to_timestamp($%d::bigint)", lt);
	res = bw_list_query(&l, &page, "id");
	if (res == NULL)
		return BW_ERROR;
	items = json_array();
	for (i = 0; i < PQntuples(res); i++)
		json_array_append_new(items, bw_event_json(res, i));
	PQclear(res);
	return bw_page_respond(req, &page, items, "/api/v1/events");
}

static int
events_get(struct bw_req *req)
{
	const char	*p[1] = { bw_req_param(req, 0) };
	PGresult	*res;
	json_t		*e;

	if ((res = bw_db_query(req->db, SQL_EVENT_COLUMNS " WHERE id = $1", 1,
	    p)) == NULL)
		return BW_ERROR;
	if (PQntuples(res) != 1) {
		PQclear(res);
		return bw_err_not_found(req, "event");
	}
	e = bw_event_json(res, 0);
	PQclear(res);
	return bw_req_json(req, 200, e);
}

static const struct bw_route event_routes[] = {
	{ .method = BW_GET, .pattern = "/api/v1/events",
	  .auth = BW_AUTH_TENANT, .handler = events_list },
	{ .method = BW_GET, .pattern = "/api/v1/events/{id}",
	  .auth = BW_AUTH_TENANT, .handler = events_get },
};

BW_ROUTE_TABLE(bw_api_events, event_routes);
