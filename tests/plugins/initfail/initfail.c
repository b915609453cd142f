/*
 * A test plugin whose init fails: start-up must stop with its name.
 */
#include "billow/plugin.h"

static int
initfail_init(const struct billow_host *h, struct billow_plugin_handle *hd)
{
	h->log(hd, BILLOW_LOG_ERROR, "refusing to start (as tests want)");
	return BILLOW_ERROR;
}

BILLOW_PLUGIN(
	.name = "initfail",
	.version = "1",
	.init = initfail_init,
);
