/*
 * A test plugin: GET /api/v1/crashy/ok answers, GET /api/v1/crashy/boom
 * dereferences NULL to prove a plugin crash costs one Kore worker, which
 * Kore replaces, and nothing else. Its "version" setting shows in answers
 * so a reload test can tell a rebuilt plugin from the old one.
 */
#include <stdio.h>
#include <string.h>

#include <jansson.h>

#include "billow/plugin.h"

#ifndef CRASHY_ANSWER
#define CRASHY_ANSWER "one"
#endif

static const struct billow_host	*host;
static struct billow_plugin_handle	*self;

static int
crashy_ok(struct billow_req *req)
{
	const char	*v = host->config_get(self, "answer");

	return host->respond_json(req, 200, json_pack("{s:s}", "answer",
	    v != NULL ? v : CRASHY_ANSWER));
}

static int
crashy_boom(struct billow_req *req)
{
	volatile int	*p = NULL;

	(void)req;
	return *p;
}

/*
 * http.request: rejects any request carrying "X-Crashy-Reject", so the
 * tests can see a plugin veto a request before its handler.
 */
static int
crashy_gate(void *ctx, void *ud)
{
	struct billow_http_ctx	*h = ctx;

	(void)ud;
	if (host->req_header(h->req, "x-crashy-reject") == NULL)
		return BILLOW_DECLINED;
	return host->error(h->req, 403, "permission_error", "crashy_rejected",
	    NULL, "Rejected by the crashy test plugin.");
}

/* event.created: remembers, per thread, the last event of this request. */
static __thread const struct billow_req	*seen_req;
static __thread char			 seen_type[64];

static int
crashy_saw_event(void *ctx, void *ud)
{
	struct billow_event_ctx	*e = ctx;

	(void)ud;
	seen_req = e->req;
	snprintf(seen_type, sizeof(seen_type), "%s", e->type);
	return BILLOW_OK;
}

/* POST /api/v1/crashy/emit: writes an event and says whether the hook saw it. */
static int
crashy_emit(struct billow_req *req)
{
	seen_req = NULL;
	if (host->event_emit(req, "crashy.emitted",
	    "{\"object\":{\"object\":\"crashy\"}}") != BILLOW_OK)
		return BILLOW_ERROR;
	return host->respond_json(req, 201, json_pack("{s:b, s:s}",
	    "hook_saw_it", seen_req == req, "type", seen_type));
}

/*
 * A background task: its first run records a retry and asks to run again
 * in 100 ms (its writes commit); the second records that it ran, with its
 * attempt number, as an event of its own.
 */
static int
crashy_note(struct billow_req *req, const char *payload)
{
	char	data[512];
	int	attempt = host->task_attempt(req);

	snprintf(data, sizeof(data), "{\"object\":%s,\"attempt\":%d}",
	    payload, attempt);
	if (attempt == 1) {
		if (host->event_emit(req, "crashy.task_retry", data) !=
		    BILLOW_OK || host->task_retry_in(req, 100) != BILLOW_OK)
			return BILLOW_ERROR;
		return BILLOW_DECLINED;
	}
	return host->event_emit(req, "crashy.task_ran", data);
}

/* event.relayed: a committed crashy.emitted event comes back once. */
static int
crashy_relayed(void *ctx, void *ud)
{
	struct billow_event_ctx	*e = ctx;
	char			 data[256];

	(void)ud;
	if (strcmp(e->type, "crashy.emitted") != 0)
		return BILLOW_OK;
	snprintf(data, sizeof(data), "{\"object\":{\"event_id\":\"%s\"}}",
	    e->event_id);
	return host->event_emit(e->req, "crashy.relayed", data);
}

/* POST /api/v1/crashy/task: queues crashy.note and answers 202 at once. */
static int
crashy_task(struct billow_req *req)
{
	if (host->task_enqueue(req, "crashy.note",
	    "{\"object\":\"note\"}") != BILLOW_OK)
		return BILLOW_ERROR;
	return host->respond_json(req, 202, json_pack("{s:b}", "queued", 1));
}

static int
crashy_init(const struct billow_host *h, struct billow_plugin_handle *hd)
{
	host = h;
	self = hd;
	if (host->route_add(self, BILLOW_GET, "/api/v1/crashy/ok",
	    BILLOW_AUTH_TENANT, BILLOW_ROLE_ANY, crashy_ok) != BILLOW_OK ||
	    host->route_add(self, BILLOW_GET, "/api/v1/crashy/boom",
	    BILLOW_AUTH_TENANT, BILLOW_ROLE_ANY, crashy_boom) != BILLOW_OK ||
	    host->route_add(self, BILLOW_POST, "/api/v1/crashy/emit",
	    BILLOW_AUTH_TENANT, BILLOW_ROLE_ADMIN, crashy_emit) != BILLOW_OK ||
	    host->route_add(self, BILLOW_POST, "/api/v1/crashy/task",
	    BILLOW_AUTH_TENANT, BILLOW_ROLE_ADMIN, crashy_task) != BILLOW_OK ||
	    host->task_register(self, "crashy.note", crashy_note) != BILLOW_OK ||
	    host->hook_add(self, BILLOW_HOOK_HTTP_REQUEST, 0, crashy_gate,
	    NULL) != BILLOW_OK ||
	    host->hook_add(self, BILLOW_HOOK_EVENT_CREATED, 0,
	    crashy_saw_event, NULL) != BILLOW_OK ||
	    host->hook_add(self, BILLOW_HOOK_EVENT_RELAYED, 0,
	    crashy_relayed, NULL) != BILLOW_OK)
		return BILLOW_ERROR;
	return BILLOW_OK;
}

BILLOW_PLUGIN(
	.name = "crashy",
	.version = "1",
	.init = crashy_init,
);
