/*
 * Webhook deliveries (API.md "Events and webhooks"): the fan-out of each
 * committed event to the endpoints that want it, the "webhooks.deliver"
 * task that POSTs it with retries, and the delivery routes:
 *
 *   GET  /api/v1/webhook_endpoints/{id}/deliveries   newest first
 *   POST /api/v1/webhook_deliveries/{id}/retry       send again now
 *
 * The fan-out is an event.relayed hook and the task a queue task, both
 * run by a `billow worker` in the event's tenant and mode, at least once:
 * a delivery row is unique per (endpoint, event) and written with its task
 * in one transaction, and a task whose delivery is already settled, or
 * belongs to an older run (generation), does nothing. The row is locked
 * while its POST is in flight, so two runs of one delivery never send at
 * the same time.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>
#include <openssl/rand.h>

#include "webhooks.h"

#define WD_PREFIX	"whd"

static const struct billow_host		*host;
static struct billow_plugin_handle	*self;

#define SQL_MATCH							\
	"SELECT id FROM webhook_endpoints WHERE status = 'enabled' "	\
	"AND ('*' = ANY (enabled_events) OR $1 = ANY (enabled_events)) " \
	"ORDER BY id"

#define SQL_FAN_OUT							\
	"INSERT INTO webhook_deliveries (tenant_id, livemode, id, "	\
	"endpoint_id, event_id, event_type, next_attempt_at) VALUES ("	\
	"current_setting('app.tenant_id'), "				\
	"current_setting('app.livemode')::boolean, $1, $2, $3, $4, "	\
	"now()) ON CONFLICT (tenant_id, endpoint_id, event_id) DO NOTHING " \
	"RETURNING id, generation"

#define WD_COLUMNS							\
	"d.id, d.livemode::text AS livemode, d.endpoint_id, d.event_id, " \
	"d.event_type, d.status, d.attempt_count, "			\
	"d.last_response_status, d.last_response_body, d.last_error, "	\
	"floor(extract(epoch FROM d.next_attempt_at))::bigint "	\
	"AS next_attempt_at, "						\
	"floor(extract(epoch FROM d.delivered_at))::bigint "		\
	"AS delivered_at, "						\
	"floor(extract(epoch FROM d.created))::bigint AS created"

/*
 * The delivery, its endpoint and its event, the delivery locked; a row
 * another run holds is skipped (that run settles it).
 */
#define SQL_LOAD							\
	"SELECT d.status, d.generation, d.event_id, d.event_type, "	\
	"e.url, e.secret, e.status AS endpoint_status, ev.type, "	\
	"ev.data::text AS data, ev.livemode::text AS livemode, "	\
	"floor(extract(epoch FROM ev.created))::bigint AS created "	\
	"FROM webhook_deliveries d JOIN webhook_endpoints e ON "	\
	"e.tenant_id = d.tenant_id AND e.id = d.endpoint_id "		\
	"LEFT JOIN events ev ON ev.tenant_id = d.tenant_id AND "	\
	"ev.id = d.event_id WHERE d.id = $1 FOR UPDATE OF d SKIP LOCKED"

/*
 * One attempt's outcome: $5 the new status, $6 the retry delay in ms
 * (NULL: none). clock_timestamp(), not now(): the transaction began
 * before the POST.
 */
#define SQL_RESULT							\
	"UPDATE webhook_deliveries SET attempt_count = attempt_count + 1, " \
	"last_response_status = $2::int, last_response_body = $3, "	\
	"last_error = $4, status = $5, next_attempt_at = CASE WHEN "	\
	"$6::bigint IS NULL THEN NULL ELSE clock_timestamp() + "	\
	"$6::bigint * interval '1 millisecond' END, delivered_at = "	\
	"CASE WHEN $5 = 'delivered' THEN clock_timestamp() END "	\
	"WHERE id = $1"

/* Settled without a POST (the endpoint disabled, the event gone). */
#define SQL_GIVE_UP							\
	"UPDATE webhook_deliveries SET status = 'failed', last_error = $2, " \
	"next_attempt_at = NULL WHERE id = $1"

#define SQL_ENDPOINT	"SELECT id FROM webhook_endpoints WHERE id = $1"

/* $1 endpoint, $2 starting_after, $3 ending_before, $4 status, $5 limit. */
#define SQL_LIST_WHERE							\
	"SELECT " WD_COLUMNS " FROM webhook_deliveries d "		\
	"WHERE d.endpoint_id = $1 "					\
	"AND ($2::text IS NULL OR d.id < $2) "				\
	"AND ($3::text IS NULL OR d.id > $3) "				\
	"AND ($4::text IS NULL OR d.status = $4) "
#define SQL_LIST_DESC	SQL_LIST_WHERE "ORDER BY d.id DESC LIMIT $5::int"
#define SQL_LIST_ASC	SQL_LIST_WHERE "ORDER BY d.id ASC LIMIT $5::int"

/* A manual retry: a new run (generation) starts now. */
#define SQL_RETRY							\
	"UPDATE webhook_deliveries d SET status = 'pending', "		\
	"generation = generation + 1, next_attempt_at = now(), "	\
	"delivered_at = NULL WHERE id = $1 RETURNING d.generation, "	\
	WD_COLUMNS

static json_t *
time_or_null(const char *v)
{
	char	buf[40];

	if (v == NULL)
		return json_null();
	host->time_format(strtoll(v, NULL, 10), buf, sizeof(buf));
	return json_string(buf);
}

static json_t *
int_or_null(const char *v)
{
	return v != NULL ? json_integer(strtoll(v, NULL, 10)) : json_null();
}

static json_t *
str_or_null(const char *v)
{
	return v != NULL ? json_string(v) : json_null();
}

/* Row ROW of RES as a webhook_delivery (NULL: out of memory). */
static json_t *
wd_object(const struct billow_result *res, int row)
{
	const char	*v;

#define V(c)	host->result_value(res, row, (c))
	v = V("livemode");
	return json_pack("{s:s, s:s?, s:b, s:s?, s:s?, s:s?, s:s?, s:o, "
	    "s:o, s:o, s:o, s:o, s:o, s:o}",
	    "object", "webhook_delivery",
	    "id", V("id"),
	    "livemode", v != NULL && strcmp(v, "true") == 0,
	    "endpoint_id", V("endpoint_id"),
	    "event_id", V("event_id"),
	    "event_type", V("event_type"),
	    "status", V("status"),
	    "attempt_count", int_or_null(V("attempt_count")),
	    "last_response_status", int_or_null(V("last_response_status")),
	    "last_response_body", str_or_null(V("last_response_body")),
	    "last_error", str_or_null(V("last_error")),
	    "next_attempt_at", time_or_null(V("next_attempt_at")),
	    "delivered_at", time_or_null(V("delivered_at")),
	    "created", time_or_null(V("created")));
#undef V
}

/* Queues the POST of delivery ID, run GENERATION. */
static int
wd_enqueue(struct billow_req *req, const char *id, const char *generation)
{
	json_t	*j;
	char	*s;
	int	 rc;

	j = json_pack("{s:s, s:I}", "delivery_id", id, "generation",
	    (json_int_t)strtoll(generation, NULL, 10));
	if (j == NULL || (s = json_dumps(j, JSON_COMPACT)) == NULL) {
		json_decref(j);
		return BILLOW_ERROR;
	}
	json_decref(j);
	rc = host->task_enqueue(req, "webhooks.deliver", s);
	free(s);
	return rc;
}

/*
 * event.relayed: one delivery per enabled endpoint whose enabled_events
 * match, and its task, in this transaction. Run again for the same event,
 * it finds the rows there and queues nothing new.
 */
static int
wd_fan_out(void *vctx, void *ud)
{
	struct billow_event_ctx	*ctx = vctx;
	struct billow_result	*eps, *res;
	const char		*p[4];
	char			 id[BILLOW_ID_MAX];
	int			 i, rc = BILLOW_OK;

	(void)ud;
	if (ctx->type == NULL || ctx->event_id == NULL)
		return BILLOW_DECLINED;
	p[0] = ctx->type;
	if (host->sql(ctx->req, SQL_MATCH, 1, p, &eps) != BILLOW_OK)
		return BILLOW_ERROR;
	for (i = 0; rc == BILLOW_OK && i < host->result_rows(eps); i++) {
		host->id_new(WD_PREFIX, id);
		p[0] = id;
		p[1] = host->result_value(eps, i, "id");
		p[2] = ctx->event_id;
		p[3] = ctx->type;
		if (host->sql(ctx->req, SQL_FAN_OUT, 4, p, &res) !=
		    BILLOW_OK) {
			rc = BILLOW_ERROR;
			break;
		}
		if (host->result_rows(res) == 1)
			rc = wd_enqueue(ctx->req, host->result_value(res, 0,
			    "id"), host->result_value(res, 0, "generation"));
		host->result_free(res);
	}
	host->result_free(eps);
	return rc;
}

/* The event as GET /events/{id} shows it, compact (malloc'd). */
static char *
wd_event_body(const struct billow_result *res)
{
	const char	*v;
	json_t		*data, *ev;
	char		 created[40], *s;

	v = host->result_value(res, 0, "created");
	host->time_format(v != NULL ? strtoll(v, NULL, 10) : 0, created,
	    sizeof(created));
	if ((data = json_loads(host->result_value(res, 0, "data"), 0,
	    NULL)) == NULL)
		return NULL;
	v = host->result_value(res, 0, "livemode");
	ev = json_pack("{s:s, s:s?, s:s?, s:s, s:b, s:o}", "object", "event",
	    "id", host->result_value(res, 0, "event_id"),
	    "type", host->result_value(res, 0, "type"),
	    "created", created,
	    "livemode", v != NULL && strcmp(v, "true") == 0,
	    "data", data);
	if (ev == NULL)
		return NULL;
	s = json_dumps(ev, JSON_COMPACT);
	json_decref(ev);
	return s;
}

static int
wd_give_up(struct billow_req *req, const char *id, const char *why)
{
	struct billow_result	*res;
	const char		*p[2] = { id, why };

	if (host->sql(req, SQL_GIVE_UP, 2, p, &res) != BILLOW_OK)
		return BILLOW_ERROR;
	host->result_free(res);
	return BILLOW_OK;
}

/*
 * The "webhooks.deliver" task: one POST of one delivery. 2xx: delivered.
 * Otherwise retried after wh_backoff_ms until WH_ATTEMPTS_MAX attempts of
 * this run, then failed. Every outcome is written and commits (the
 * handler never returns BILLOW_ERROR for the receiver's faults, only for
 * the database's).
 */
static int
wd_deliver(struct billow_req *req, const char *payload)
{
	struct wh_send_result	 out;
	struct wh_send_req	 in;
	struct billow_result	*res;
	const char		*p[6], *id;
	json_t			*j;
	char			 gen[24], status_s[24], delay_s[24], err[300];
	char			*body;
	int64_t			 delay = 0;
	unsigned		 rnd;
	int			 attempt, rc, retry;

	if ((j = json_loads(payload, 0, NULL)) == NULL ||
	    (id = json_string_value(json_object_get(j, "delivery_id"))) ==
	    NULL) {
		host->log(self, BILLOW_LOG_ERROR, "webhooks.deliver: a payload "
		    "without delivery_id");
		json_decref(j);
		return BILLOW_OK;	/* running it again cannot help */
	}
	snprintf(gen, sizeof(gen), "%lld", (long long)json_integer_value(
	    json_object_get(j, "generation")));
	p[0] = id;
	if (host->sql(req, SQL_LOAD, 1, p, &res) != BILLOW_OK) {
		json_decref(j);
		return BILLOW_ERROR;
	}
	/*
	 * Gone (endpoint deleted), held by another run, settled, or a
	 * manual retry started a newer run: nothing to do.
	 */
	if (host->result_rows(res) != 1 ||
	    strcmp(host->result_value(res, 0, "status"), "pending") != 0 ||
	    strcmp(host->result_value(res, 0, "generation"), gen) != 0) {
		host->result_free(res);
		json_decref(j);
		return BILLOW_OK;
	}
	if (strcmp(host->result_value(res, 0, "endpoint_status"),
	    "enabled") != 0 || host->result_value(res, 0, "type") == NULL) {
		rc = wd_give_up(req, id, host->result_value(res, 0, "type") ==
		    NULL ? "the event no longer exists" :
		    "the endpoint is disabled");
		host->result_free(res);
		json_decref(j);
		return rc;
	}
	if ((body = wd_event_body(res)) == NULL) {
		host->result_free(res);
		json_decref(j);
		return BILLOW_ERROR;
	}

	memset(&in, 0, sizeof(in));
	in.url = host->result_value(res, 0, "url");
	in.secret = host->result_value(res, 0, "secret");
	in.event_id = host->result_value(res, 0, "event_id");
	in.event_type = host->result_value(res, 0, "type");
	in.body = body;
	in.livemode = host->req_livemode(req);
	/* API.md: only test mode may reach loopback, and only if allowed. */
	in.allow_loopback = !in.livemode && wh_conf.allow_loopback;
	in.now = (int64_t)time(NULL);
	wh_send(&in, &out);
	free(body);
	host->result_free(res);

	if ((attempt = host->task_attempt(req)) < 1)
		attempt = 1;
	retry = 0;
	status_s[0] = '\0';
	if (out.status > 0)
		snprintf(status_s, sizeof(status_s), "%ld", out.status);
	if (out.status >= 200 && out.status <= 299)
		err[0] = '\0';
	else if (out.status >= 300 && out.status <= 399)
		snprintf(err, sizeof(err), "HTTP %ld: redirects are not "
		    "followed", out.status);
	else if (out.status > 0)
		snprintf(err, sizeof(err), "HTTP %ld", out.status);
	else
		snprintf(err, sizeof(err), "%s", out.error);
	p[0] = id;
	p[1] = status_s[0] != '\0' ? status_s : NULL;
	p[2] = out.status > 0 ? out.body : NULL;
	p[3] = err[0] != '\0' ? err : NULL;
	p[5] = NULL;
	/*
	 * A refused address is the endpoint's configuration, not a passing
	 * fault: fail at once (a manual retry sends again once it is fixed).
	 */
	if (out.status >= 200 && out.status <= 299)
		p[4] = "delivered";
	else if (attempt < WH_ATTEMPTS_MAX && !out.refused) {
		p[4] = "pending";
		if (RAND_bytes((unsigned char *)&rnd, sizeof(rnd)) != 1)
			rnd = 500;	/* no jitter beats no retry */
		delay = wh_backoff_ms(wh_conf.retry_base_ms, attempt, rnd);
		snprintf(delay_s, sizeof(delay_s), "%lld", (long long)delay);
		p[5] = delay_s;
		retry = 1;
	} else
		p[4] = "failed";
	rc = host->sql(req, SQL_RESULT, 6, p, &res);
	wh_send_result_free(&out);
	json_decref(j);
	if (rc != BILLOW_OK)
		return BILLOW_ERROR;
	host->result_free(res);
	if (retry) {
		if (host->task_retry_in(req, delay) != BILLOW_OK)
			return BILLOW_ERROR;
		return BILLOW_DECLINED;
	}
	return BILLOW_OK;
}

static int
wd_list(struct billow_req *req)
{
	struct billow_result	*res;
	const char		*p[5], *before, *st;
	char			 limit[16], url[160];
	json_t			*items, *o;
	int			 n, i;

	p[0] = host->req_param(req, 0);
	if (p[0] == NULL || strncmp(p[0], "we_", 3) != 0)
		return host->error_not_found(req, "webhook endpoint");
	if (host->sql(req, SQL_ENDPOINT, 1, p, &res) != BILLOW_OK)
		return BILLOW_ERROR;
	n = host->result_rows(res);
	host->result_free(res);
	if (n != 1)
		return host->error_not_found(req, "webhook endpoint");
	if (host->list_parse(req, WD_PREFIX, &n, &p[1], &before) != BILLOW_OK)
		return BILLOW_ERROR;
	p[2] = before;
	st = host->req_query(req, "status");
	if (st != NULL && strcmp(st, "pending") != 0 &&
	    strcmp(st, "delivered") != 0 && strcmp(st, "failed") != 0)
		return host->error(req, 400, "invalid_request_error",
		    "parameter_invalid", "status", "status must be pending, "
		    "delivered or failed.");
	p[3] = st;
	snprintf(limit, sizeof(limit), "%d", n + 1);
	p[4] = limit;
	if (host->sql(req, before != NULL ? SQL_LIST_ASC : SQL_LIST_DESC, 5,
	    p, &res) != BILLOW_OK)
		return BILLOW_ERROR;
	items = json_array();
	for (i = 0; i < host->result_rows(res); i++) {
		if ((o = wd_object(res, i)) == NULL ||
		    json_array_append_new(items, o) != 0) {
			host->result_free(res);
			json_decref(items);
			return BILLOW_ERROR;
		}
	}
	host->result_free(res);
	snprintf(url, sizeof(url), "/api/v1/webhook_endpoints/%s/deliveries",
	    p[0]);
	return host->list_respond(req, items, url);
}

/*
 * Sends the delivery again now, whatever its status, as a new run with
 * the full retry schedule; a run still pending stops (its generation is
 * old). 404 for another tenant's or mode's delivery, as everywhere.
 */
static int
wd_retry(struct billow_req *req)
{
	static const char *const allowed[] = { NULL };
	struct billow_result	*res;
	const char		*p[1];
	json_t			*body, *out;

	p[0] = host->req_param(req, 0);
	if (p[0] == NULL || strncmp(p[0], WD_PREFIX "_", 4) != 0)
		return host->error_not_found(req, "webhook delivery");
	if ((body = host->req_body(req)) == NULL ||
	    host->params_only(req, body, allowed) != BILLOW_OK)
		return BILLOW_ERROR;
	if (host->sql(req, SQL_RETRY, 1, p, &res) != BILLOW_OK)
		return BILLOW_ERROR;
	if (host->result_rows(res) != 1) {
		host->result_free(res);
		return host->error_not_found(req, "webhook delivery");
	}
	if (wd_enqueue(req, p[0], host->result_value(res, 0, "generation")) !=
	    BILLOW_OK) {
		host->result_free(res);
		return BILLOW_ERROR;
	}
	out = wd_object(res, 0);
	host->result_free(res);
	if (out == NULL)
		return BILLOW_ERROR;
	return host->respond_json(req, 200, out);
}

int
deliver_init(const struct billow_host *h, struct billow_plugin_handle *me)
{
	host = h;
	self = me;
	if (host->hook_add(self, BILLOW_HOOK_EVENT_RELAYED, 0, wd_fan_out,
	    NULL) != BILLOW_OK ||
	    host->task_register(self, "webhooks.deliver", wd_deliver) !=
	    BILLOW_OK ||
	    host->route_add(self, BILLOW_GET,
	    "/api/v1/webhook_endpoints/{id}/deliveries", BILLOW_AUTH_TENANT,
	    BILLOW_ROLE_ANY, wd_list) != BILLOW_OK ||
	    host->route_add(self, BILLOW_POST,
	    "/api/v1/webhook_deliveries/{id}/retry", BILLOW_AUTH_TENANT,
	    BILLOW_ROLE_ADMIN, wd_retry) != BILLOW_OK)
		return BILLOW_ERROR;
	return BILLOW_OK;
}
