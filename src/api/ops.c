/*
 * Operations endpoints: /healthz and /metrics are answered in the event
 * loop (server.c); /readyz needs the database and Redis, so it runs on a
 * task thread like any endpoint, without a tenant transaction.
 */
#include "api/api.h"
#include "db/db.h"
#include "db/redis.h"

static int
ops_readyz(struct bw_req *req)
{
	PGresult	*res;
	redisReply	*rep;
	int		 db_ok, redis_ok;

	res = bw_db_query(req->db, "SELECT 1", 0, NULL);
	db_ok = res != NULL;
	if (res != NULL)
		PQclear(res);
	rep = bw_redis_cmd(req->redis, "PING");
	redis_ok = rep != NULL;
	if (rep != NULL)
		freeReplyObject(rep);
	if (!db_ok || !redis_ok)
		bw_req_set_header(req, "Retry-After", "1");
	return bw_req_json(req, db_ok && redis_ok ? 200 : 503,
	    json_pack("{s:s, s:s, s:s}", "status", db_ok && redis_ok ?
	    "ready" : "unavailable", "database", db_ok ? "ok" : "down",
	    "redis", redis_ok ? "ok" : "down"));
}

static int
ops_unreachable(struct bw_req *req)
{
	/* /healthz and /metrics never reach a task (server.c). */
	return bw_err_internal(req);
}

static const struct bw_route ops_routes[] = {
	{ .method = BW_GET, .pattern = "/healthz", .auth = BW_AUTH_PUBLIC,
	  .handler = ops_unreachable, .flags = BW_ROUTE_NO_TX },
	{ .method = BW_GET, .pattern = "/metrics", .auth = BW_AUTH_PUBLIC,
	  .handler = ops_unreachable, .flags = BW_ROUTE_NO_TX },
	{ .method = BW_GET, .pattern = "/readyz", .auth = BW_AUTH_PUBLIC,
	  .handler = ops_readyz, .flags = BW_ROUTE_NO_TX },
};

BW_ROUTE_TABLE(bw_api_ops, ops_routes);
