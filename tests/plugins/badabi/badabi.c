/*
 * A test plugin built as if for plugin ABI 99: the host must refuse it,
 * naming it, at start-up and in check-config.
 */
#include "billow/plugin.h"

static int
badabi_init(const struct billow_host *h, struct billow_plugin_handle *hd)
{
	(void)h;
	(void)hd;
	return BILLOW_OK;
}

__attribute__((visibility("default")))
const struct billow_plugin billow_plugin = {
	.abi_major = 99,
	.abi_minor = 0,
	.name = "badabi",
	.version = "1",
	.init = badabi_init,
};
