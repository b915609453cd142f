/*
 * The webhooks plugin (API.md "Events and webhooks"): its entry point, its
 * configuration and the webhook endpoint resource:
 *
 *   POST   /api/v1/webhook_endpoints                  create (secret once)
 *   GET    /api/v1/webhook_endpoints                  list, newest first
 *   GET    /api/v1/webhook_endpoints/{id}             one
 *   PATCH  /api/v1/webhook_endpoints/{id}             url, events, ...
 *   DELETE /api/v1/webhook_endpoints/{id}             with its deliveries
 *   POST   /api/v1/webhook_endpoints/{id}/roll_secret new secret, once
 *
 * and the endpoint a tenant's registration webhook_url makes (the
 * tenant.registered hook). Deliveries are deliver.c. Routes run in the
 * request's tenant transaction, so row-level security confines every
 * statement to the caller's tenant and mode. Secrets are never logged and
 * never returned but by create and roll.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <curl/curl.h>
#include <jansson.h>

#include "webhooks.h"

#define WE_PREFIX	"we"
#define WE_URL		"/api/v1/webhook_endpoints"
#define WE_DESC_MAX	500
#define WE_EVENTS_MAX	64

struct wh_config			 wh_conf;
static const struct billow_host		*host;
static struct billow_plugin_handle	*self;

#define WE_COLUMNS							\
	"id, livemode::text AS livemode, url, description, "		\
	"to_jsonb(enabled_events)::text AS enabled_events, status, "	\
	"floor(extract(epoch FROM created))::bigint AS created"

#define SQL_INSERT							\
	"INSERT INTO webhook_endpoints (tenant_id, livemode, id, url, "	\
	"description, enabled_events, secret, registration) VALUES ("	\
	"current_setting('app.tenant_id'), "				\
	"current_setting('app.livemode')::boolean, $1, $2, $3, "	\
	"ARRAY(SELECT jsonb_array_elements_text($4::jsonb)), $5, "	\
	"$6::boolean) RETURNING " WE_COLUMNS

#define SQL_GET	"SELECT " WE_COLUMNS " FROM webhook_endpoints WHERE id = $1"

/* $2..$5 NULL: unchanged. $5 is "enabled" or "disabled". */
#define SQL_UPDATE							\
	"UPDATE webhook_endpoints SET url = coalesce($2, url), "	\
	"description = CASE WHEN $6::boolean THEN $3 ELSE description END, " \
	"enabled_events = CASE WHEN $4::jsonb IS NULL THEN "		\
	"enabled_events ELSE ARRAY(SELECT "				\
	"jsonb_array_elements_text($4::jsonb)) END, "			\
	"status = coalesce($5, status) WHERE id = $1 RETURNING " WE_COLUMNS

#define SQL_ROLL							\
	"UPDATE webhook_endpoints SET secret = $2 WHERE id = $1 "	\
	"RETURNING " WE_COLUMNS

#define SQL_DELETE	"DELETE FROM webhook_endpoints WHERE id = $1 RETURNING id"

/* $1 starting_after, $2 ending_before, $3 limit + 1. */
#define SQL_LIST_WHERE							\
	"SELECT " WE_COLUMNS " FROM webhook_endpoints "			\
	"WHERE ($1::text IS NULL OR id < $1) "				\
	"AND ($2::text IS NULL OR id > $2) "
#define SQL_LIST_DESC	SQL_LIST_WHERE "ORDER BY id DESC LIMIT $3::int"
#define SQL_LIST_ASC	SQL_LIST_WHERE "ORDER BY id ASC LIMIT $3::int"

/* The registration's tenant row: its transaction runs in test mode. */
#define SQL_TENANT_HOOK							\
	"SELECT webhook_url, webhook_secret FROM tenants "		\
	"WHERE id = current_setting('app.tenant_id')"

static json_t *
str_or_null(const char *s)
{
	return s != NULL ? json_string(s) : json_null();
}

/* Row ROW of RES as a webhook_endpoint (NULL: out of memory). */
static json_t *
we_object(const struct billow_result *res, int row)
{
	const char	*v;
	json_t		*events;
	char		 created[40];

	v = host->result_value(res, row, "created");
	host->time_format(v != NULL ? strtoll(v, NULL, 10) : 0, created,
	    sizeof(created));
	events = NULL;
	if ((v = host->result_value(res, row, "enabled_events")) != NULL)
		events = json_loads(v, 0, NULL);
	if (events == NULL)
		events = json_array();
	v = host->result_value(res, row, "livemode");
	return json_pack("{s:s, s:s?, s:b, s:s?, s:o, s:o, s:s?, s:s}",
	    "object", "webhook_endpoint",
	    "id", host->result_value(res, row, "id"),
	    "livemode", v != NULL && strcmp(v, "true") == 0,
	    "url", host->result_value(res, row, "url"),
	    "description", str_or_null(host->result_value(res, row,
	    "description")),
	    "enabled_events", events,
	    "status", host->result_value(res, row, "status"),
	    "created", created);
}

/* Answers STATUS with the single row of RES (freed), adding SECRET. */
static int
we_respond(struct billow_req *req, int status, struct billow_result *res,
    const char *secret)
{
	json_t	*out;

	if (host->result_rows(res) != 1) {
		host->result_free(res);
		return host->error_not_found(req, "webhook endpoint");
	}
	out = we_object(res, 0);
	host->result_free(res);
	if (out == NULL)
		return BILLOW_ERROR;
	if (secret != NULL)
		json_object_set_new(out, "secret", json_string(secret));
	return host->respond_json(req, status, out);
}

static int
bad(struct billow_req *req, const char *param, const char *msg)
{
	return host->error(req, 400, "invalid_request_error",
	    "parameter_invalid", param, msg);
}

/*
 * enabled_events of BODY, required or not: ["*"] or a non-empty list of
 * API.md's types, without repeats. *OUT is its JSON text (free it), NULL
 * when absent. BILLOW_ERROR: answered.
 */
static int
we_events(struct billow_req *req, json_t *body, int required, char **out)
{
	json_t	*v, *e, *f;
	size_t	 i, j;
	char	 msg[160];

	*out = NULL;
	v = json_object_get(body, "enabled_events");
	if (v == NULL || (!required && json_is_null(v))) {
		if (!required)
			return BILLOW_OK;
		return host->error(req, 400, "invalid_request_error",
		    "parameter_missing", "enabled_events", "enabled_events "
		    "is required: [\"*\"] or a list of event types.");
	}
	if (!json_is_array(v) || json_array_size(v) == 0 ||
	    json_array_size(v) > WE_EVENTS_MAX)
		return bad(req, "enabled_events", "enabled_events must be "
		    "[\"*\"] or a non-empty list of event types.");
	json_array_foreach(v, i, e) {
		if (!json_is_string(e))
			return bad(req, "enabled_events", "enabled_events "
			    "must be a list of strings.");
		if (strcmp(json_string_value(e), "*") == 0) {
			if (json_array_size(v) != 1)
				return bad(req, "enabled_events", "\"*\" "
				    "stands alone: [\"*\"] enables every "
				    "event.");
			continue;
		}
		if (!wh_event_type_known(json_string_value(e))) {
			snprintf(msg, sizeof(msg), "Unknown event type "
			    "\"%.60s\" in enabled_events.",
			    json_string_value(e));
			return bad(req, "enabled_events", msg);
		}
		for (j = 0; j < i; j++) {
			f = json_array_get(v, j);
			if (strcmp(json_string_value(f),
			    json_string_value(e)) == 0)
				return bad(req, "enabled_events", "Each event "
				    "type may appear once in enabled_events.");
		}
	}
	if ((*out = json_dumps(v, JSON_COMPACT)) == NULL)
		return BILLOW_ERROR;
	return BILLOW_OK;
}

/* url of BODY checked for the request's mode; BILLOW_DECLINED absent. */
static int
we_url(struct billow_req *req, json_t *body, int flags, const char **out)
{
	char	why[160];
	int	rc;

	if ((rc = host->param_str(req, body, "url", flags, WH_URL_MAX, out)) !=
	    BILLOW_OK)
		return rc;
	if (wh_url_check(*out, host->req_livemode(req), wh_conf.allow_loopback,
	    why, sizeof(why)) != BILLOW_OK)
		return bad(req, "url", why);
	return BILLOW_OK;
}

static int
we_create(struct billow_req *req)
{
	static const char *const allowed[] = { "url", "enabled_events",
	    "description", NULL };
	struct billow_result	*res;
	const char		*p[6], *desc = NULL;
	json_t			*body;
	char			 id[BILLOW_ID_MAX], secret[WH_SECRET_MAX];
	char			*events;
	int			 rc;

	if ((body = host->req_body(req)) == NULL ||
	    host->params_only(req, body, allowed) != BILLOW_OK ||
	    we_url(req, body, BILLOW_PARAM_REQUIRED, &p[1]) != BILLOW_OK ||
	    host->param_str(req, body, "description", BILLOW_PARAM_NULLABLE,
	    WE_DESC_MAX, &desc) == BILLOW_ERROR ||
	    we_events(req, body, 1, &events) != BILLOW_OK)
		return BILLOW_ERROR;
	if (wh_secret_new(secret) != BILLOW_OK) {
		free(events);
		return host->error(req, 500, "api_error", "internal_error",
		    NULL, "No randomness for a secret.");
	}
	host->id_new(WE_PREFIX, id);
	p[0] = id;
	p[2] = desc;
	p[3] = events;
	p[4] = secret;
	p[5] = "false";
	rc = host->sql(req, SQL_INSERT, 6, p, &res);
	free(events);
	if (rc != BILLOW_OK)
		return BILLOW_ERROR;
	return we_respond(req, 201, res, secret);
}

/* The {id} of the route, or NULL (then answered 404). */
static const char *
we_id(struct billow_req *req)
{
	const char	*id = host->req_param(req, 0);

	if (id == NULL || strncmp(id, WE_PREFIX "_", 3) != 0) {
		host->error_not_found(req, "webhook endpoint");
		return NULL;
	}
	return id;
}

static int
we_get(struct billow_req *req)
{
	struct billow_result	*res;
	const char		*p[1];

	if ((p[0] = we_id(req)) == NULL)
		return BILLOW_ERROR;
	if (host->sql(req, SQL_GET, 1, p, &res) != BILLOW_OK)
		return BILLOW_ERROR;
	return we_respond(req, 200, res, NULL);
}

static int
we_list(struct billow_req *req)
{
	struct billow_result	*res;
	const char		*p[3], *before;
	char			 limit[16];
	json_t			*items, *o;
	int			 n, i;

	if (host->list_parse(req, WE_PREFIX, &n, &p[0], &before) != BILLOW_OK)
		return BILLOW_ERROR;
	p[1] = before;
	snprintf(limit, sizeof(limit), "%d", n + 1);
	p[2] = limit;
	if (host->sql(req, before != NULL ? SQL_LIST_ASC : SQL_LIST_DESC, 3,
	    p, &res) != BILLOW_OK)
		return BILLOW_ERROR;
	items = json_array();
	for (i = 0; i < host->result_rows(res); i++) {
		if ((o = we_object(res, i)) == NULL ||
		    json_array_append_new(items, o) != 0) {
			host->result_free(res);
			json_decref(items);
			return BILLOW_ERROR;
		}
	}
	host->result_free(res);
	return host->list_respond(req, items, WE_URL);
}

static int
we_update(struct billow_req *req)
{
	static const char *const allowed[] = { "url", "enabled_events",
	    "description", "disabled", NULL };
	struct billow_result	*res;
	const char		*p[6];
	json_t			*body;
	char			*events;
	int			 disabled, rc;

	if ((p[0] = we_id(req)) == NULL)
		return BILLOW_ERROR;
	p[1] = p[2] = p[4] = NULL;
	if ((body = host->req_body(req)) == NULL ||
	    host->params_only(req, body, allowed) != BILLOW_OK ||
	    we_url(req, body, 0, &p[1]) == BILLOW_ERROR ||
	    host->param_str(req, body, "description", BILLOW_PARAM_NULLABLE,
	    WE_DESC_MAX, &p[2]) == BILLOW_ERROR ||
	    (rc = host->param_bool(req, body, "disabled", 0, &disabled)) ==
	    BILLOW_ERROR)
		return BILLOW_ERROR;
	if (rc == BILLOW_OK)
		p[4] = disabled ? "disabled" : "enabled";
	if (we_events(req, body, 0, &events) != BILLOW_OK)
		return BILLOW_ERROR;
	p[3] = events;
	/* description: null clears it, absent keeps it. */
	p[5] = json_object_get(body, "description") != NULL ? "true" :
	    "false";
	rc = host->sql(req, SQL_UPDATE, 6, p, &res);
	free(events);
	if (rc != BILLOW_OK)
		return BILLOW_ERROR;
	return we_respond(req, 200, res, NULL);
}

static int
we_delete(struct billow_req *req)
{
	struct billow_result	*res;
	const char		*p[1];
	int			 n;

	if ((p[0] = we_id(req)) == NULL)
		return BILLOW_ERROR;
	if (host->sql(req, SQL_DELETE, 1, p, &res) != BILLOW_OK)
		return BILLOW_ERROR;
	n = host->result_rows(res);
	host->result_free(res);
	if (n != 1)
		return host->error_not_found(req, "webhook endpoint");
	return host->respond_json(req, 200, json_pack("{s:s, s:s, s:b}",
	    "id", p[0], "object", "webhook_endpoint", "deleted", 1));
}

/*
 * A new secret, shown once; the old one stops signing at once (a
 * delivery already in flight finishes with the secret it read).
 */
static int
we_roll(struct billow_req *req)
{
	static const char *const allowed[] = { NULL };
	struct billow_result	*res;
	const char		*p[2];
	char			 secret[WH_SECRET_MAX];
	json_t			*body;

	if ((p[0] = we_id(req)) == NULL)
		return BILLOW_ERROR;
	/* No body, or an empty object: roll takes no parameters. */
	if ((body = host->req_body(req)) == NULL ||
	    host->params_only(req, body, allowed) != BILLOW_OK)
		return BILLOW_ERROR;
	if (wh_secret_new(secret) != BILLOW_OK)
		return host->error(req, 500, "api_error", "internal_error",
		    NULL, "No randomness for a secret.");
	p[1] = secret;
	if (host->sql(req, SQL_ROLL, 2, p, &res) != BILLOW_OK)
		return BILLOW_ERROR;
	return we_respond(req, 200, res, secret);
}

/*
 * API.md: a registration webhook_url is an endpoint for all events,
 * signed with the tenant's webhook_secret. The registration transaction
 * runs in test mode (tenants start with is_test_mode true), so the
 * endpoint is a test-mode one; live events need an endpoint made with a
 * live key (docs/webhooks.md).
 */
static int
we_registered(void *vctx, void *ud)
{
	struct billow_tenant_ctx	*ctx = vctx;
	struct billow_result		*res;
	const char			*p[6];
	char				 id[BILLOW_ID_MAX], why[160];
	char				*url = NULL, *secret = NULL;
	int				 rc;

	(void)ud;
	if (host->sql(ctx->req, SQL_TENANT_HOOK, 0, NULL, &res) != BILLOW_OK)
		return BILLOW_ERROR;
	if (host->result_rows(res) == 1 &&
	    host->result_value(res, 0, "webhook_url") != NULL &&
	    host->result_value(res, 0, "webhook_secret") != NULL) {
		url = strdup(host->result_value(res, 0, "webhook_url"));
		secret = strdup(host->result_value(res, 0, "webhook_secret"));
	}
	host->result_free(res);
	if (url == NULL || secret == NULL || url[0] == '\0') {
		free(url);
		free(secret);
		return BILLOW_DECLINED;
	}
	/*
	 * The core accepted any http(s) URL; one these rules refuse (a
	 * private address, credentials) gets no endpoint, and says so.
	 */
	if (wh_url_check(url, 0, wh_conf.allow_loopback, why, sizeof(why)) !=
	    BILLOW_OK) {
		host->log(self, BILLOW_LOG_WARN, "tenant %s: no endpoint for "
		    "the registration webhook_url: %s", ctx->tenant_id, why);
		free(url);
		free(secret);
		return BILLOW_DECLINED;
	}
	host->id_new(WE_PREFIX, id);
	p[0] = id;
	p[1] = url;
	p[2] = "Registration webhook_url";
	p[3] = "[\"*\"]";
	p[4] = secret;
	p[5] = "true";
	rc = host->sql(ctx->req, SQL_INSERT, 6, p, &res);
	free(url);
	free(secret);
	if (rc != BILLOW_OK)
		return BILLOW_ERROR;
	host->result_free(res);
	return BILLOW_OK;
}

/* The plugin's block: retry_base_ms N; allow_loopback yes|no. */
static int
wh_configure(void)
{
	const char	*v;
	char		*end;
	long long	 n;

	/*
	 * The core's webhooks settings (DESIGN.md "Setup": the config's
	 * webhooks block, BILLOW_WEBHOOK_RETRY_BASE_S and
	 * BILLOW_WEBHOOK_ALLOW_LOOPBACK) are the defaults; the plugin's
	 * own block may set them finer (tests use milliseconds).
	 */
	wh_conf.retry_base_ms = WH_RETRY_BASE_MS;
	wh_conf.allow_loopback = 0;
	if ((v = host->core_setting("webhooks.retry_base_s")) != NULL &&
	    (n = strtoll(v, &end, 10)) >= 1 && *end == '\0')
		wh_conf.retry_base_ms = n * 1000;
	if ((v = host->core_setting("webhooks.allow_loopback")) != NULL)
		wh_conf.allow_loopback = strcmp(v, "yes") == 0;
	if ((v = host->config_get(self, "retry_base_ms")) != NULL) {
		n = strtoll(v, &end, 10);
		if (end == v || *end != '\0' || n < 1 || n > 86400000LL) {
			host->log(self, BILLOW_LOG_ERROR, "retry_base_ms must "
			    "be an integer from 1 to 86400000, not \"%s\"", v);
			return BILLOW_ERROR;
		}
		wh_conf.retry_base_ms = n;
	}
	if ((v = host->config_get(self, "allow_loopback")) != NULL) {
		if (strcasecmp(v, "yes") == 0 || strcasecmp(v, "true") == 0 ||
		    strcmp(v, "1") == 0)
			wh_conf.allow_loopback = 1;
		else if (strcasecmp(v, "no") != 0 &&
		    strcasecmp(v, "false") != 0 && strcmp(v, "0") != 0) {
			host->log(self, BILLOW_LOG_ERROR, "allow_loopback must "
			    "be yes or no, not \"%s\"", v);
			return BILLOW_ERROR;
		}
	}
	return BILLOW_OK;
}

static int
webhooks_init(const struct billow_host *h, struct billow_plugin_handle *hd)
{
	host = h;
	self = hd;
	if (wh_configure() != BILLOW_OK)
		return BILLOW_ERROR;
	/* Thread-safe since libcurl 7.84; counted, so fini can undo it. */
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
		host->log(self, BILLOW_LOG_ERROR, "libcurl failed to start");
		return BILLOW_ERROR;
	}
	if (host->route_add(self, BILLOW_POST, WE_URL, BILLOW_AUTH_TENANT,
	    BILLOW_ROLE_ADMIN, we_create) != BILLOW_OK ||
	    host->route_add(self, BILLOW_GET, WE_URL, BILLOW_AUTH_TENANT,
	    BILLOW_ROLE_ANY, we_list) != BILLOW_OK ||
	    host->route_add(self, BILLOW_GET, WE_URL "/{id}",
	    BILLOW_AUTH_TENANT, BILLOW_ROLE_ANY, we_get) != BILLOW_OK ||
	    host->route_add(self, BILLOW_PATCH, WE_URL "/{id}",
	    BILLOW_AUTH_TENANT, BILLOW_ROLE_ADMIN, we_update) != BILLOW_OK ||
	    host->route_add(self, BILLOW_DELETE, WE_URL "/{id}",
	    BILLOW_AUTH_TENANT, BILLOW_ROLE_ADMIN, we_delete) != BILLOW_OK ||
	    host->route_add(self, BILLOW_POST, WE_URL "/{id}/roll_secret",
	    BILLOW_AUTH_TENANT, BILLOW_ROLE_ADMIN, we_roll) != BILLOW_OK ||
	    host->hook_add(self, BILLOW_HOOK_TENANT_REGISTERED, 0,
	    we_registered, NULL) != BILLOW_OK ||
	    deliver_init(h, hd) != BILLOW_OK)
		return BILLOW_ERROR;
	return BILLOW_OK;
}

static void
webhooks_fini(void)
{
	curl_global_cleanup();
	host = NULL;
	self = NULL;
}

BILLOW_PLUGIN(
	.name = "webhooks",
	.version = "1.0.0",
	.init = webhooks_init,
	.fini = webhooks_fini,
);
