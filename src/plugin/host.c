/*
 * The host table plugins call (include/billow/plugin.h), events and
 * plugin tasks. Runs wherever the request runs: Kore task threads, the
 * event loop (never: plugin routes always take a task) and `billow
 * worker`. struct billow_req is struct bw_req seen through an opaque name.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auth/crypto.h"
#include "core/core.h"
#include "db/db.h"
#include "plugin/plugin.h"
#include "server/params.h"
#include "server/server.h"

#define REQ(r)	((struct bw_req *)(r))

static void
host_log(struct billow_plugin_handle *h, int level, const char *fmt, ...)
{
	va_list	ap;
	char	line[1024];

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	if (level < BILLOW_LOG_DEBUG || level > BILLOW_LOG_ERROR)
		level = BILLOW_LOG_INFO;
	bw_log((enum bw_log_level)level, "plugin %s: %s", plugin_name(h),
	    line);
}

static const char *
host_req_param(struct billow_req *r, size_t n)
{
	return bw_req_param(REQ(r), n);
}

static const char *
host_req_query(struct billow_req *r, const char *name)
{
	return bw_req_query(REQ(r), name);
}

static const char *
host_req_header(struct billow_req *r, const char *name)
{
	return bw_req_header(REQ(r), name);
}

static const char *
host_req_tenant(struct billow_req *r)
{
	return REQ(r)->who.tenant_id;
}

static int
host_req_livemode(struct billow_req *r)
{
	return REQ(r)->who.livemode;
}

static struct json_t *
host_req_body(struct billow_req *r)
{
	if (bw_body_object(REQ(r)) != BW_OK)
		return NULL;
	return REQ(r)->json;
}

static int
host_params_only(struct billow_req *r, struct json_t *obj,
    const char *const *allowed)
{
	return bw_params_only(REQ(r), obj, allowed);
}

/* The ABI's flags are the core's BW_P_* values. */
static int
param_flags(int flags)
{
	return (flags & BILLOW_PARAM_REQUIRED ? BW_P_REQUIRED : 0) |
	    (flags & BILLOW_PARAM_NULLABLE ? BW_P_NULLABLE : 0);
}

static int
host_param_str(struct billow_req *r, struct json_t *obj, const char *key,
    int flags, size_t maxlen, const char **out)
{
	return bw_param_str(REQ(r), obj, key, param_flags(flags), maxlen, out);
}

static int
host_param_object(struct billow_req *r, struct json_t *obj, const char *key,
    int flags, struct json_t **out)
{
	return bw_param_object(REQ(r), obj, key, param_flags(flags), out);
}

static int
host_param_int(struct billow_req *r, struct json_t *obj, const char *key,
    int flags, int64_t min, int64_t max, int64_t *out)
{
	return bw_param_int(REQ(r), obj, key, param_flags(flags), min, max,
	    out);
}

static int
host_param_bool(struct billow_req *r, struct json_t *obj, const char *key,
    int flags, int *out)
{
	return bw_param_bool(REQ(r), obj, key, param_flags(flags), out);
}

static int
host_param_metadata(struct billow_req *r, struct json_t *obj,
    const char *key, struct json_t **out)
{
	return bw_param_metadata(REQ(r), obj, key, out);
}

static int
host_query_time(struct billow_req *r, const char *name, int64_t *out)
{
	const char	*v;

	if ((v = bw_req_query(REQ(r), name)) == NULL)
		return BW_DECLINED;
	if (bw_time_parse(v, out) != BW_OK)
		return bw_err_invalid(REQ(r), name, "%s must be an RFC 3339 "
		    "time such as 2026-01-31T00:00:00Z.", name);
	return BW_OK;
}

static int
host_respond_json(struct billow_req *r, int status, struct json_t *value)
{
	if (value == NULL)
		return bw_err_internal(REQ(r));
	return bw_req_json(REQ(r), status, value);
}

static int
host_error(struct billow_req *r, int status, const char *type,
    const char *code, const char *param, const char *message)
{
	if (status < 400 || status > 599)
		status = 500;
	return bw_req_error(REQ(r), status, type != NULL ? type :
	    "invalid_request_error", code != NULL ? code : "error", param,
	    "%s", message != NULL ? message : "");
}

static int
host_error_not_found(struct billow_req *r, const char *what)
{
	return bw_err_not_found(REQ(r), what);
}

static int
host_list_parse(struct billow_req *r, const char *prefix, int *limit,
    const char **after, const char **before)
{
	struct bw_page	*page;

	page = bw_arena_alloc(&REQ(r)->arena, sizeof(*page));
	if (bw_page_parse(REQ(r), prefix, page) != BW_OK)
		return BW_ERROR;
	REQ(r)->page = page;
	*limit = page->limit;
	*after = page->starting_after;
	*before = page->ending_before;
	return BW_OK;
}

static int
host_list_respond(struct billow_req *r, struct json_t *items,
    const char *url)
{
	struct bw_page	none = { .limit = 100 };

	return bw_page_respond(REQ(r), REQ(r)->page != NULL ?
	    (struct bw_page *)REQ(r)->page : &none, items, url);
}

static int
host_sql(struct billow_req *r, const char *sql, int n,
    const char *const *params, struct billow_result **out)
{
	PGresult	*res;

	*out = NULL;
	if (REQ(r)->db == NULL)
		return BW_ERROR;
	if ((res = bw_db_query(REQ(r)->db, sql, n, params)) == NULL)
		return BW_ERROR;
	*out = (struct billow_result *)res;
	return BW_OK;
}

static int
host_result_rows(const struct billow_result *res)
{
	return PQntuples((const PGresult *)res);
}

static const char *
host_result_value(const struct billow_result *res, int row, const char *col)
{
	return bw_db_val((const PGresult *)res, row, col);
}

static void
host_result_free(struct billow_result *res)
{
	PQclear((PGresult *)res);
}

static const char *
host_sql_state(struct billow_req *r)
{
	return REQ(r)->db != NULL ? bw_db_sqlstate(REQ(r)->db) : "";
}

static int64_t
host_now(void)
{
	return bw_time_us() / 1000000;
}

static int
host_event_emit(struct billow_req *r, const char *type, const char *data)
{
	return bw_event_emit(REQ(r), type, data);
}

/*
 * A task goes into the outbox in the enqueuing transaction: it exists
 * exactly when the transaction commits, and the relay takes it to the
 * queue from there (worker/relay.c).
 */
#define SQL_TASK_INSERT \
	"INSERT INTO tasks (tenant_id, livemode, id, type, payload) VALUES " \
	"(current_setting('app.tenant_id'), " \
	"current_setting('app.livemode')::boolean, $1, $2, $3)"

static int
host_task_enqueue(struct billow_req *r, const char *type, const char *payload)
{
	struct bw_req	*req = REQ(r);
	const char	*p[3];
	char		 id[BW_ID_MAX];

	if (bw_plugin_task(type) == NULL)
		return bw_req_error(req, 500, "api_error", "internal_error",
		    NULL, "No handler for this background task.");
	bw_id_new("tsk", id);
	p[0] = id;
	p[1] = type;
	p[2] = payload != NULL ? payload : "{}";
	return bw_db_queue(req->db, SQL_TASK_INSERT, 3, p);
}

static int
host_task_attempt(struct billow_req *r)
{
	return REQ(r)->task_attempt;
}

static int
host_task_retry_in(struct billow_req *r, int64_t delay_ms)
{
	struct bw_req	*req = REQ(r);

	if (req->task_attempt < 1 || delay_ms < 0)
		return BILLOW_ERROR;
	req->task_retry_ms = delay_ms;
	return BILLOW_OK;
}

const struct billow_host	bw_plugin_host = {
	.abi_major = BILLOW_ABI_MAJOR,
	.abi_minor = BILLOW_ABI_MINOR,
	.size = sizeof(struct billow_host),
	.hook_add = plugin_hook_add,
	.route_add = plugin_route_add,
	.task_register = plugin_task_register,
	.config_get = plugin_config_get,
	.log = host_log,
	.req_param = host_req_param,
	.req_query = host_req_query,
	.req_header = host_req_header,
	.req_tenant = host_req_tenant,
	.req_livemode = host_req_livemode,
	.req_body = host_req_body,
	.params_only = host_params_only,
	.param_str = host_param_str,
	.param_object = host_param_object,
	.respond_json = host_respond_json,
	.error = host_error,
	.error_not_found = host_error_not_found,
	.list_parse = host_list_parse,
	.list_respond = host_list_respond,
	.sql = host_sql,
	.result_rows = host_result_rows,
	.result_value = host_result_value,
	.result_free = host_result_free,
	.sql_state = host_sql_state,
	.id_new = bw_id_new,
	.now = host_now,
	.time_format = bw_time_rfc3339,
	.time_parse = bw_time_parse,
	.event_emit = host_event_emit,
	.task_enqueue = host_task_enqueue,
	.param_int = host_param_int,
	.param_bool = host_param_bool,
	.param_metadata = host_param_metadata,
	.query_time = host_query_time,
	.task_attempt = host_task_attempt,
	.task_retry_in = host_task_retry_in,
	.core_setting = plugin_core_setting,
};

#define SQL_EVENT_INSERT \
	"INSERT INTO events (tenant_id, livemode, id, type, data) VALUES " \
	"(current_setting('app.tenant_id'), " \
	"current_setting('app.livemode')::boolean, $1, $2, $3::jsonb)"

int
bw_event_emit(struct bw_req *req, const char *type, const char *data)
{
	struct billow_event_ctx	 ctx;
	const char		*p[3];
	char			 id[BW_ID_MAX], who[64];

	if (req->db == NULL || req->who.tenant_id[0] == '\0')
		return BW_ERROR;
	bw_id_new("evt", id);
	p[0] = id;
	p[1] = type;
	p[2] = data != NULL ? data : "{}";
	/*
	 * Queued: the insert travels with the next statement (or the
	 * COMMIT), in order, and a failure still fails the transaction.
	 */
	if (bw_db_queue(req->db, SQL_EVENT_INSERT, 3, p) != BW_OK)
		return bw_err_internal(req);
	memset(&ctx, 0, sizeof(ctx));
	ctx.req = (struct billow_req *)req;
	ctx.tenant_id = req->who.tenant_id;
	ctx.livemode = req->who.livemode;
	ctx.event_id = id;
	ctx.type = type;
	ctx.data_json = p[2];
	if (bw_hook_action(BILLOW_HOOK_EVENT_CREATED, &ctx, who,
	    sizeof(who)) != BW_OK) {
		bw_log(BW_LOG_ERROR, "event.created handler of plugin %s "
		    "failed for %s", who, id);
		if (!req->failed)
			bw_err_internal(req);
		return BW_ERROR;
	}
	return BW_OK;
}

int
bw_event_emit_json(struct bw_req *req, const char *type, json_t *data)
{
	char	*s;
	int	 rc;

	s = data != NULL ? json_dumps(data, JSON_COMPACT) : NULL;
	json_decref(data);
	if (s == NULL)
		return bw_err_internal(req);
	rc = bw_event_emit(req, type, s);
	free(s);
	return rc;
}

