/*
 * Plugin loading and the hook registry. Plugins are opened with Billow's
 * own dlopen(RTLD_NOW | RTLD_LOCAL), never by Kore (which opens modules
 * RTLD_GLOBAL and resolves names by first match, KORE.md), so a plugin's
 * symbols can't shadow the core's. Registration happens only while
 * loading, in one thread; afterwards the tables are read-only, so the
 * event loop and task threads read them without locks.
 */
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/core.h"
#include "plugin/plugin.h"
#include "server/server.h"

#define MAX_PLUGINS	32
#define MAX_HOOKS	256
#define MAX_PROUTES	128
#define MAX_TASKS	64

struct billow_plugin_handle {
	char				*name;
	char				*path;
	void				*dl;
	const struct billow_plugin	*def;
	const struct bw_config_plugin	*cfg;
	int				 inited;
};

struct hook_entry {
	char		*name;
	char		*owner;
	int		 priority;
	unsigned	 seq;		/* registration order breaks ties */
	billow_hook_fn	 fn;
	void		*ud;
};

/* A plugin route: the core's route plus the plugin's handler. */
struct plugin_route {
	struct bw_route		 route;
	billow_route_fn		 fn;
	char			*pattern;
};

struct task_entry {
	char		*type;
	billow_task_fn	 fn;
};

static struct billow_plugin_handle	 plugins[MAX_PLUGINS];
static int				 nplugins;
static struct hook_entry		 hooks[MAX_HOOKS];
static int				 nhooks;
static unsigned				 hook_seq;
static struct plugin_route		 proutes[MAX_PROUTES];
static int				 nproutes;
static struct task_entry		 tasks[MAX_TASKS];
static int				 ntasks;
static int				 loading;	/* registration allowed */

int
bw_plugins_loaded(void)
{
	return nplugins;
}

int
bw_hook_register(const char *owner, const char *name, int priority,
    billow_hook_fn fn, void *ud)
{
	struct hook_entry	 e;
	int			 i;

	if (nhooks >= MAX_HOOKS || fn == NULL || name == NULL)
		return BW_ERROR;
	e.name = bw_strdup(name);
	e.owner = bw_strdup(owner != NULL ? owner : "core");
	e.priority = priority;
	e.seq = hook_seq++;
	e.fn = fn;
	e.ud = ud;
	/* Keep the table ordered by (name, priority, seq). */
	for (i = nhooks; i > 0; i--) {
		struct hook_entry *p = &hooks[i - 1];
		int c = strcmp(p->name, e.name);

		if (c < 0 || (c == 0 && p->priority <= e.priority))
			break;
		hooks[i] = *p;
	}
	hooks[i] = e;
	nhooks++;
	return BW_OK;
}

void
bw_hook_clear(void)
{
	int	i;

	for (i = 0; i < nhooks; i++) {
		free(hooks[i].name);
		free(hooks[i].owner);
	}
	nhooks = 0;
}

static int
hook_run(const char *name, void *ctx, char *who, size_t wholen)
{
	int	i, rc;

	for (i = 0; i < nhooks; i++) {
		if (strcmp(hooks[i].name, name) != 0)
			continue;
		rc = hooks[i].fn(ctx, hooks[i].ud);
		if (rc == BW_OK || rc == BW_DECLINED)
			continue;
		if (who != NULL)
			snprintf(who, wholen, "%s", hooks[i].owner);
		return BW_ERROR;
	}
	return BW_OK;
}

int
bw_hook_has(const char *name)
{
	int	i;

	for (i = 0; i < nhooks; i++)
		if (strcmp(hooks[i].name, name) == 0)
			return 1;
	return 0;
}

int
bw_hook_action(const char *name, void *ctx, char *who, size_t wholen)
{
	return hook_run(name, ctx, who, wholen);
}

int
bw_hook_filter(const char *name, void *ctx, char *who, size_t wholen)
{
	/* Same walk: a filter handler edits CTX in place. */
	return hook_run(name, ctx, who, wholen);
}

/* ---- registration through the host table ---------------------------- */

int
plugin_hook_add(struct billow_plugin_handle *h, const char *hook,
    int priority, billow_hook_fn fn, void *ud)
{
	if (!loading)
		return BW_ERROR;
	return bw_hook_register(h->name, hook, priority, fn, ud);
}

static int
proute_handler(struct bw_req *req)
{
	const struct plugin_route	*pr;

	/* The route struct is the first member of plugin_route. */
	pr = (const struct plugin_route *)req->route;
	return pr->fn((struct billow_req *)req);
}

int
plugin_route_add(struct billow_plugin_handle *h, int method,
    const char *pattern, int auth, int role, billow_route_fn fn)
{
	struct plugin_route	*pr;

	if (!loading || nproutes >= MAX_PROUTES || fn == NULL ||
	    pattern == NULL || strncmp(pattern, "/api/v1/", 8) != 0 ||
	    (method != BW_GET && method != BW_POST && method != BW_PATCH &&
	    method != BW_DELETE) || auth == 0 || role < 0 ||
	    role > BW_ROLE_OWNER) {
		bw_log(BW_LOG_ERROR, "plugin %s: refused route %s", h->name,
		    pattern != NULL ? pattern : "(null)");
		return BW_ERROR;
	}
	pr = &proutes[nproutes++];
	memset(pr, 0, sizeof(*pr));
	pr->pattern = bw_strdup(pattern);
	pr->fn = fn;
	pr->route.method = method;
	pr->route.pattern = pr->pattern;
	pr->route.auth = auth;
	pr->route.role = (enum bw_role)role;
	pr->route.handler = proute_handler;
	return BW_OK;
}

int
plugin_task_register(struct billow_plugin_handle *h, const char *type,
    billow_task_fn fn)
{
	if (!loading || ntasks >= MAX_TASKS || fn == NULL || type == NULL ||
	    bw_plugin_task(type) != NULL) {
		bw_log(BW_LOG_ERROR, "plugin %s: refused task type %s",
		    h->name, type != NULL ? type : "(null)");
		return BW_ERROR;
	}
	tasks[ntasks].type = bw_strdup(type);
	tasks[ntasks].fn = fn;
	ntasks++;
	return BW_OK;
}

/* The core settings plugins may read, as text, fixed at load time. */
static char	core_retry_base_s[16];
static char	core_allow_loopback[4];

const char *
plugin_core_setting(const char *name)
{
	if (name == NULL)
		return NULL;
	if (strcmp(name, "webhooks.retry_base_s") == 0)
		return core_retry_base_s;
	if (strcmp(name, "webhooks.allow_loopback") == 0)
		return core_allow_loopback;
	return NULL;
}

const char *
plugin_config_get(struct billow_plugin_handle *h, const char *key)
{
	return h->cfg != NULL ? bw_config_plugin_get(h->cfg, key) : NULL;
}

const char *
plugin_name(struct billow_plugin_handle *h)
{
	return h->name;
}

billow_task_fn
bw_plugin_task(const char *type)
{
	int	i;

	for (i = 0; i < ntasks; i++)
		if (strcmp(tasks[i].type, type) == 0)
			return tasks[i].fn;
	return NULL;
}

void
bw_plugin_routes_register(void)
{
	int	i;

	for (i = 0; i < nproutes; i++)
		bw_router_add(&proutes[i].route, 1);
}

/* ---- loading ---------------------------------------------------------- */

/*
 * Loads since start-up. glibc finds an already-loaded object by the name
 * it was opened with, and keeps an object loaded (NODELETE) once some of
 * its code has run in this process (measured: the first request through a
 * plugin route pins it). So each reload opens the file under a name not
 * used before ("dir/./name.so", "dir/././name.so", ...): a rebuilt file (a
 * new inode) is then really loaded, and an unchanged one is found again by
 * its inode.
 */
static unsigned	load_generation;

static char *
plugin_dl_name(const char *path)
{
	const char	*slash = strrchr(path, '/');
	struct bw_buf	 b;
	unsigned	 i;

	bw_buf_init(&b);
	if (slash == NULL)
		bw_buf_appends(&b, ".");
	else
		bw_buf_append(&b, path, (size_t)(slash - path));
	for (i = 0; i < load_generation; i++)
		bw_buf_appends(&b, "/.");
	bw_buf_appendf(&b, "/%s", slash != NULL ? slash + 1 : path);
	return bw_buf_release(&b);
}

static int
plugin_open(struct billow_plugin_handle *h, char *err, size_t errlen)
{
	const struct billow_plugin	*def;
	char				*name;

	name = plugin_dl_name(h->path);
	h->dl = dlopen(name, RTLD_NOW | RTLD_LOCAL);
	free(name);
	if (h->dl == NULL) {
		snprintf(err, errlen, "plugin %s (%s): cannot open: %s",
		    h->name, h->path, dlerror());
		return BW_ERROR;
	}
	if ((def = dlsym(h->dl, "billow_plugin")) == NULL) {
		snprintf(err, errlen, "plugin %s (%s): no billow_plugin symbol "
		    "(declare it with BILLOW_PLUGIN)", h->name, h->path);
		return BW_ERROR;
	}
	if (def->abi_major != BILLOW_ABI_MAJOR) {
		snprintf(err, errlen, "plugin %s (%s): built for plugin ABI "
		    "%u.%u, this server has %d.%d (major versions must match)",
		    h->name, h->path, def->abi_major, def->abi_minor,
		    BILLOW_ABI_MAJOR, BILLOW_ABI_MINOR);
		return BW_ERROR;
	}
	if (def->abi_minor > BILLOW_ABI_MINOR) {
		snprintf(err, errlen, "plugin %s (%s): needs plugin ABI %u.%u, "
		    "this server has %d.%d", h->name, h->path, def->abi_major,
		    def->abi_minor, BILLOW_ABI_MAJOR, BILLOW_ABI_MINOR);
		return BW_ERROR;
	}
	if (def->name == NULL || strcmp(def->name, h->name) != 0) {
		snprintf(err, errlen, "plugin %s (%s): the file declares the "
		    "name \"%s\"", h->name, h->path,
		    def->name != NULL ? def->name : "");
		return BW_ERROR;
	}
	if (def->init == NULL) {
		snprintf(err, errlen, "plugin %s (%s): no init function",
		    h->name, h->path);
		return BW_ERROR;
	}
	h->def = def;
	return BW_OK;
}

int
bw_plugins_load(const struct bw_config *cfg, char *err, size_t errlen)
{
	struct billow_plugin_handle	*h;
	size_t				 i;

	if (nplugins > 0)
		bw_plugins_unload();
	snprintf(core_retry_base_s, sizeof(core_retry_base_s), "%d",
	    cfg->webhook_retry_base_s);
	snprintf(core_allow_loopback, sizeof(core_allow_loopback), "%s",
	    cfg->webhook_allow_loopback ? "yes" : "no");
	loading = 1;
	load_generation++;
	for (i = 0; i < cfg->nplugins && nplugins < MAX_PLUGINS; i++) {
		h = &plugins[nplugins++];
		memset(h, 0, sizeof(*h));
		h->name = bw_strdup(cfg->plugins[i].name);
		h->path = bw_strdup(cfg->plugins[i].path);
		h->cfg = &cfg->plugins[i];
		if (plugin_open(h, err, errlen) != BW_OK)
			goto fail;
		if (h->def->init(&bw_plugin_host, h) != BILLOW_OK) {
			snprintf(err, errlen, "plugin %s (%s): init failed",
			    h->name, h->path);
			goto fail;
		}
		h->inited = 1;
		bw_log(BW_LOG_INFO, "plugin %s %s loaded from %s", h->name,
		    h->def->version != NULL ? h->def->version : "", h->path);
	}
	loading = 0;
	return BW_OK;
fail:
	loading = 0;
	bw_plugins_unload();
	return BW_ERROR;
}

void
bw_plugins_unload(void)
{
	int	i;

	for (i = nplugins - 1; i >= 0; i--) {
		if (plugins[i].inited && plugins[i].def->fini != NULL)
			plugins[i].def->fini();
	}
	/* Nothing may point into a plugin once it is closed. */
	bw_hook_clear();
	for (i = 0; i < nproutes; i++)
		free(proutes[i].pattern);
	nproutes = 0;
	for (i = 0; i < ntasks; i++)
		free(tasks[i].type);
	ntasks = 0;
	for (i = nplugins - 1; i >= 0; i--) {
		if (plugins[i].dl != NULL)
			dlclose(plugins[i].dl);
		free(plugins[i].name);
		free(plugins[i].path);
	}
	nplugins = 0;
}
