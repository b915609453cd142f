/*
 * A test plugin: GET /api/v1/crashy/ok answers, GET /api/v1/crashy/boom
 * dereferences NULL to prove a plugin crash costs one Kore worker, which
 * Kore replaces, and nothing else. Its "version" setting shows in answers
 * so a reload test can tell a rebuilt plugin from the old one.
 */
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

static int
crashy_init(const struct billow_host *h, struct billow_plugin_handle *hd)
{
	host = h;
	self = hd;
	if (host->route_add(self, BILLOW_GET, "/api/v1/crashy/ok",
	    BILLOW_AUTH_TENANT, BILLOW_ROLE_ANY, crashy_ok) != BILLOW_OK ||
	    host->route_add(self, BILLOW_GET, "/api/v1/crashy/boom",
	    BILLOW_AUTH_TENANT, BILLOW_ROLE_ANY, crashy_boom) != BILLOW_OK)
		return BILLOW_ERROR;
	return BILLOW_OK;
}

BILLOW_PLUGIN(
	.name = "crashy",
	.version = "1",
	.init = crashy_init,
);
