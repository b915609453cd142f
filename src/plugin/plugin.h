/*
 * The plugin host inside the core: loading plugins (dlopen, RTLD_LOCAL),
 * the hook registry, plugin routes and task handlers, and the host table
 * of include/billow/plugin.h. Loaded in the Kore parent before the sandbox
 * (workers inherit it), again on SIGHUP, and in `billow worker`.
 */
#ifndef BW_PLUGIN_H
#define BW_PLUGIN_H

#include <stddef.h>

#include <jansson.h>

#include "billow/plugin.h"
#include "core/config.h"
#include "server/http.h"

/*
 * Opens, checks and initialises every plugin CFG names. On failure
 * unloads whatever was loaded and writes "plugin NAME (PATH): reason"
 * into ERR. Returns BW_OK or BW_ERROR.
 */
int	bw_plugins_load(const struct bw_config *cfg, char *err, size_t errlen);
/* Runs every plugin's fini, closes them and forgets their registrations. */
void	bw_plugins_unload(void);
int	bw_plugins_loaded(void);

/* Adds every plugin route to the router (after the core's). */
void	bw_plugin_routes_register(void);

/*
 * Runs action hook NAME: every handler in priority order (lowest first).
 * A handler's BW_ERROR stops the run and is returned; its plugin's name
 * goes to WHO (may be NULL).
 */
int	bw_hook_action(const char *name, void *ctx, char *who, size_t wholen);
/* Whether any loaded plugin handles hook NAME. */
int	bw_hook_has(const char *name);
/* Runs filter hook NAME: each handler transforms CTX in turn; same rules. */
int	bw_hook_filter(const char *name, void *ctx, char *who, size_t wholen);
/* Registers a handler as OWNER (used by plugins through the host table). */
int	bw_hook_register(const char *owner, const char *name, int priority,
	    billow_hook_fn fn, void *ud);
/* Forgets every hook (unit tests; unload). */
void	bw_hook_clear(void);

/* A core setting for plugins (host table core_setting). */
const char	*plugin_core_setting(const char *name);

/* The handler for task TYPE, or NULL. */
billow_task_fn	bw_plugin_task(const char *type);

/* Registration entry points behind the host table (host.c). */
int		 plugin_hook_add(struct billow_plugin_handle *, const char *,
		    int, billow_hook_fn, void *);
int		 plugin_route_add(struct billow_plugin_handle *, int,
		    const char *, int, int, billow_route_fn);
int		 plugin_task_register(struct billow_plugin_handle *,
		    const char *, billow_task_fn);
const char	*plugin_config_get(struct billow_plugin_handle *,
		    const char *);
const char	*plugin_name(struct billow_plugin_handle *);

/* The host table handed to plugins. */
extern const struct billow_host	bw_plugin_host;

/* Writes an event in REQ's transaction and fires event.created. */
int	bw_event_emit(struct bw_req *, const char *type, const char *data_json);
/* The same with DATA as JSON (the event's data object; stolen). */
int	bw_event_emit_json(struct bw_req *, const char *type, json_t *data);

#endif
