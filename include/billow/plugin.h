/*
 * billow/plugin.h: the plugin ABI, and the only Billow header a plugin
 * includes. A plugin is a shared object exporting one symbol,
 * `billow_plugin`; it reaches the server only through the host table
 * handed to its init function (as Redis modules do), never by calling core
 * symbols. Build plugins with -fvisibility=hidden (BILLOW_PLUGIN exports
 * the one symbol that must be seen).
 *
 * Versioning: a minor version only appends functions to the end of
 * struct billow_host and adds hooks; a plugin built for minor M runs on a
 * host with minor >= M. Anything else (a changed signature, a removed or
 * reordered member, a changed context struct) is a new major, and the host
 * refuses plugins of another major.
 */
#ifndef BILLOW_PLUGIN_H
#define BILLOW_PLUGIN_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define BILLOW_ABI_MAJOR	1
#define BILLOW_ABI_MINOR	2

/* Result codes, the same everywhere (handlers, hooks, host calls). */
#define BILLOW_OK		0
#define BILLOW_ERROR		-1
#define BILLOW_DECLINED		-5	/* a hook handler passes */

/* HTTP methods for routes. */
#define BILLOW_GET		0x01
#define BILLOW_POST		0x02
#define BILLOW_PATCH		0x04
#define BILLOW_DELETE		0x08

/* Who may call a route (any combination). */
#define BILLOW_AUTH_PUBLIC	0x01	/* no credentials */
#define BILLOW_AUTH_SECRET	0x02	/* sk_test_ / sk_live_ keys */
#define BILLOW_AUTH_PUBLISHABLE	0x04	/* pk_ keys */
#define BILLOW_AUTH_JWT		0x08	/* dashboard tokens */
#define BILLOW_AUTH_TENANT	(BILLOW_AUTH_SECRET | BILLOW_AUTH_JWT)

/* Least dashboard role for a route; developers only read unless SELF. */
#define BILLOW_ROLE_ANY		0
#define BILLOW_ROLE_DEVELOPER	1
#define BILLOW_ROLE_ADMIN	2
#define BILLOW_ROLE_OWNER	3

/* Log levels. */
#define BILLOW_LOG_DEBUG	0
#define BILLOW_LOG_INFO		1
#define BILLOW_LOG_WARN		2
#define BILLOW_LOG_ERROR	3

/* Opaque handles. */
struct billow_req;		/* one HTTP request, or a task's context */
struct billow_result;		/* rows of one SQL statement */
struct billow_plugin_handle;	/* the host's record of this plugin */
struct json_t;			/* jansson's json_t (include <jansson.h>) */

/* A route handler: answers with respond/error; returns BILLOW_OK/ERROR. */
typedef int	(*billow_route_fn)(struct billow_req *req);

/*
 * A hook handler. CTX is the hook's context struct (below); UD the
 * pointer given at registration. Actions: return BILLOW_OK or
 * BILLOW_DECLINED to go on, BILLOW_ERROR to fail (http.request: reject
 * the request with the error the handler set). Filters: transform the
 * value inside CTX in place; BILLOW_ERROR stops the chain.
 */
typedef int	(*billow_hook_fn)(void *ctx, void *ud);

/*
 * A background task handler; PAYLOAD is the JSON text given to enqueue.
 * Since ABI 1.2 tasks are durable: task_enqueue writes the task in the
 * enqueuing transaction, the relay moves it to the Redis queue after the
 * commit, and a `billow worker` runs it at least once (so handlers must
 * be idempotent), in its own transaction in the enqueuer's tenant and
 * mode. Return BILLOW_OK: done, the handler's writes commit. BILLOW_ERROR:
 * the writes roll back and the task runs again after a backoff, up to
 * the queue's maximum attempts, then goes to the dead letter. A handler
 * that called task_retry_in() returns BILLOW_DECLINED: its writes commit
 * and the task runs again after that delay (the handler decides when to
 * give up, with task_attempt()).
 */
typedef int	(*billow_task_fn)(struct billow_req *req, const char *payload);

/*
 * Hooks. Each name is fixed with its kind and context type.
 *
 * "http.request" (action), struct billow_http_ctx: before a route's
 *   handler, after authentication; a handler may reject the request by
 *   setting an error on REQ and returning BILLOW_ERROR.
 * "event.created" (action), struct billow_event_ctx: an event was written
 *   in the current transaction (it commits with the request).
 * "event.relayed" (action, ABI 1.2), struct billow_event_ctx: a committed
 *   event, after the relay moved it to the queue: fired by a `billow
 *   worker` in its own transaction in the event's tenant and mode, at
 *   least once per event (handlers must be idempotent). Where fan-out
 *   belongs (webhook deliveries): off the request's path, and an error
 *   rolls the handlers' writes back and runs the event again later.
 * "tenant.registered" (action), struct billow_tenant_ctx: a new tenant,
 *   inside the registration transaction.
 * "test.filter" (filter), struct billow_filter_ctx: exists so plugin
 *   authors and the test suite can exercise filter ordering.
 * Billing hooks (ABI 1.1), each inside the transaction that makes the
 * invoice or the change (nothing a handler reads or writes outlives a
 * rollback):
 * "subscription.changed" (action), struct billow_change_ctx: a plan or
 *   quantity change of a subscription at AT inside its period [s, e), or
 *   its preview (PREVIEW 1: the upcoming-invoice preview; write nothing).
 *   Handlers append the lines the change owes (prorations) to LINES; the
 *   core then makes them pending items, invoices them or, with
 *   proration_behavior none, drops them, as BILLING.md says.
 * "invoice.lines" (filter), struct billow_invoice_lines_ctx: a draft
 *   subscription invoice about to be written; handlers may append
 *   lines (adjustments). Runs on the upcoming-invoice preview too.
 * "payment.collect" (filter), struct billow_payment_ctx: one collection
 *   attempt; the first handler that sets HANDLED decides the outcome
 *   (a live payment processor). Unhandled test-mode attempts go to the
 *   built-in simulator; unhandled live ones fail (no_payment_processor).
 */
#define BILLOW_HOOK_HTTP_REQUEST	"http.request"
#define BILLOW_HOOK_EVENT_CREATED	"event.created"
#define BILLOW_HOOK_EVENT_RELAYED	"event.relayed"
#define BILLOW_HOOK_TENANT_REGISTERED	"tenant.registered"
#define BILLOW_HOOK_TEST_FILTER		"test.filter"
#define BILLOW_HOOK_SUBSCRIPTION_CHANGED	"subscription.changed"
#define BILLOW_HOOK_INVOICE_LINES	"invoice.lines"
#define BILLOW_HOOK_PAYMENT_COLLECT	"payment.collect"

struct billow_http_ctx {
	struct billow_req	*req;
	const char		*method;	/* "GET", "POST", ... */
	const char		*path;
	const char		*tenant_id;	/* "" when not authenticated */
};

struct billow_event_ctx {
	struct billow_req	*req;
	const char		*tenant_id;
	int			 livemode;
	const char		*event_id;
	const char		*type;		/* "customer.created", ... */
	const char		*data_json;	/* {"object": ...} */
};

struct billow_tenant_ctx {
	struct billow_req	*req;
	const char		*tenant_id;
	const char		*company_name;
	const char		*email;
};

struct billow_filter_ctx {
	struct billow_req	*req;		/* may be NULL */
	int64_t			 value;		/* transformed in place */
	char			 trace[256];	/* handlers may append */
};

/* An invoice line a billing hook adds. Amounts in minor units. */
struct billow_line {
	char		kind[16];	/* "proration" or "adjustment" */
	char		description[256];
	int64_t		amount;		/* the line total, rounded once */
	int64_t		unit_amount;	/* the price it is based on, or -1 */
	int64_t		quantity;	/* >= 1 */
	int64_t		period_start;	/* UNIX seconds */
	int64_t		period_end;
};

#define BILLOW_LINES_MAX	16

struct billow_change_ctx {
	struct billow_req	*req;
	const char		*subscription_id;
	const char		*currency;	/* "USD" */
	/* create_prorations, always_invoice or none (BILLING.md). */
	const char		*proration_behavior;
	int			 preview;	/* 1: write nothing */
	int			 interval_changed; /* a new period starts */
	int64_t			 at;		/* the change time t */
	int64_t			 period_start;	/* [s, e) holding t */
	int64_t			 period_end;
	const char		*old_plan_name;
	int64_t			 old_unit_amount;
	int64_t			 old_quantity;
	const char		*new_plan_name;
	int64_t			 new_unit_amount;
	int64_t			 new_quantity;
	/* Out: the lines the change owes, in order. */
	struct billow_line	 lines[BILLOW_LINES_MAX];
	int			 nlines;
};

struct billow_invoice_lines_ctx {
	struct billow_req	*req;
	const char		*invoice_id;	/* NULL on a preview */
	const char		*customer_id;
	const char		*subscription_id;
	const char		*currency;
	const char		*billing_reason;
	int			 preview;
	/* In: how many lines the core has; out: room for more. */
	int			 core_lines;
	struct billow_line	 lines[BILLOW_LINES_MAX];
	int			 nlines;
};

struct billow_payment_ctx {
	struct billow_req	*req;
	const char		*invoice_id;
	const char		*customer_id;
	const char		*payment_method;	/* NULL: none */
	const char		*currency;
	int64_t			 amount;
	int64_t			 application_fee_amount;
	int			 livemode;
	/* Out. */
	int			 handled;
	int			 succeeded;
	char			 provider[16];		/* "stripe" */
	char			 provider_payment_id[128];
	char			 failure_code[48];
	char			 failure_reason[160];
};

/*
 * The host table. Every function taking a REQ works on the request's own
 * tenant transaction (row-level security confines it to the caller's
 * tenant and mode); strings returned stay valid until the request ends.
 */
struct billow_host {
	unsigned	abi_major;
	unsigned	abi_minor;
	size_t		size;		/* sizeof(struct billow_host) */

	/* Registration: call from init only. */
	int	(*hook_add)(struct billow_plugin_handle *, const char *hook,
		    int priority, billow_hook_fn fn, void *ud);
	/* PATTERN must start with "/api/v1/"; "{name}" matches a segment. */
	int	(*route_add)(struct billow_plugin_handle *, int method,
		    const char *pattern, int auth, int role,
		    billow_route_fn fn);
	int	(*task_register)(struct billow_plugin_handle *,
		    const char *type, billow_task_fn fn);

	/* This plugin's configuration block: value of KEY or NULL. */
	const char	*(*config_get)(struct billow_plugin_handle *,
			    const char *key);
	/* Logs one line prefixed with the plugin's name. */
	void	(*log)(struct billow_plugin_handle *, int level,
		    const char *fmt, ...)
		    __attribute__((format(printf, 3, 4)));

	/* The request. */
	const char	*(*req_param)(struct billow_req *, size_t n);
	const char	*(*req_query)(struct billow_req *, const char *name);
	const char	*(*req_header)(struct billow_req *, const char *name);
	const char	*(*req_tenant)(struct billow_req *);
	int		 (*req_livemode)(struct billow_req *);
	/*
	 * The JSON body as an object (borrowed; NULL after an error, which is
	 * then already set): 415, invalid_json and depth limits applied.
	 */
	struct json_t	*(*req_body)(struct billow_req *);

	/*
	 * Validation, in the contract's error shape (see API.md). FLAGS is
	 * 0 (optional), BILLOW_PARAM_REQUIRED and/or BILLOW_PARAM_NULLABLE
	 * (JSON null then reads as absent). Returns BILLOW_OK when present,
	 * BILLOW_DECLINED when absent, BILLOW_ERROR (error set) when invalid.
	 */
	int	(*params_only)(struct billow_req *, struct json_t *obj,
		    const char *const *allowed);
	int	(*param_str)(struct billow_req *, struct json_t *obj,
		    const char *key, int flags, size_t maxlen,
		    const char **out);
	int	(*param_object)(struct billow_req *, struct json_t *obj,
		    const char *key, int flags, struct json_t **out);

	/* Answers. respond_json steals VALUE. error always returns ERROR. */
	int	(*respond_json)(struct billow_req *, int status,
		    struct json_t *value);
	int	(*error)(struct billow_req *, int status, const char *type,
		    const char *code, const char *param, const char *message);
	int	(*error_not_found)(struct billow_req *, const char *what);

	/*
	 * Lists: parses limit/starting_after/ending_before for ids with
	 * PREFIX; list_sql_order is "DESC" (or "ASC" with ending_before) and
	 * list_respond trims the extra row and answers (steals ITEMS).
	 */
	int		 (*list_parse)(struct billow_req *, const char *prefix,
			    int *limit, const char **starting_after,
			    const char **ending_before);
	int		 (*list_respond)(struct billow_req *,
			    struct json_t *items, const char *url);

	/*
	 * SQL with $n text parameters in the request's transaction. Returns
	 * BILLOW_OK with *OUT (free with result_free) or BILLOW_ERROR (the
	 * request then fails with 500 or 503; the plugin just returns).
	 */
	int		 (*sql)(struct billow_req *, const char *sql, int n,
			    const char *const *params,
			    struct billow_result **out);
	int		 (*result_rows)(const struct billow_result *);
	const char	*(*result_value)(const struct billow_result *, int row,
			    const char *column);	/* NULL for SQL NULL */
	void		 (*result_free)(struct billow_result *);
	/* SQLSTATE of the last failed statement ("23505", ...). */
	const char	*(*sql_state)(struct billow_req *);

	/* Ids ("ae" -> "ae_01h..."), out of BILLOW_ID_MAX bytes; times. */
	void		 (*id_new)(const char *prefix, char *out);
	int64_t		 (*now)(void);			/* UNIX seconds */
	void		 (*time_format)(int64_t t, char *out, size_t len);
	int		 (*time_parse)(const char *s, int64_t *out);

	/*
	 * Writes an event in the request's transaction and fires
	 * event.created. DATA_JSON is the event's data object.
	 */
	int	(*event_emit)(struct billow_req *, const char *type,
		    const char *data_json);
	/*
	 * Queues a task of TYPE (registered by any plugin) with a JSON
	 * payload, to run after the request commits. Until the Redis queue
	 * arrives the task runs inline once the transaction committed.
	 */
	int	(*task_enqueue)(struct billow_req *, const char *type,
		    const char *payload_json);

	/* More validation (same rules as param_str). */
	int	(*param_int)(struct billow_req *, struct json_t *obj,
		    const char *key, int flags, int64_t min, int64_t max,
		    int64_t *out);
	int	(*param_bool)(struct billow_req *, struct json_t *obj,
		    const char *key, int flags, int *out);
	/* metadata: at most 50 keys, key <= 40 chars, string values <= 500. */
	int	(*param_metadata)(struct billow_req *, struct json_t *obj,
		    const char *key, struct json_t **out);
	/*
	 * A timestamp query parameter (RFC 3339, e.g. "created[gte]"):
	 * BILLOW_OK with *OUT, BILLOW_DECLINED when absent, BILLOW_ERROR
	 * (400 naming the parameter) when malformed.
	 */
	int	(*query_time)(struct billow_req *, const char *name,
		    int64_t *out);

	/* ABI 1.2: tasks on the queue (see billow_task_fn). */
	/* The run of the current task: 1 the first time. 0 outside a task. */
	int	(*task_attempt)(struct billow_req *);
	/*
	 * Asks for the current task to run again after DELAY_MS; the
	 * handler then returns BILLOW_DECLINED. BILLOW_ERROR outside a task.
	 */
	int	(*task_retry_in)(struct billow_req *, int64_t delay_ms);
	/*
	 * A core setting, after its environment override, as text; NULL
	 * for an unknown NAME. "webhooks.retry_base_s" (seconds),
	 * "webhooks.allow_loopback" ("yes" or "no").
	 */
	const char	*(*core_setting)(const char *name);
};

#define BILLOW_PARAM_REQUIRED	0x01
#define BILLOW_PARAM_NULLABLE	0x02

#define BILLOW_ID_MAX	48

struct billow_plugin {
	unsigned	 abi_major;	/* BILLOW_ABI_MAJOR when built */
	unsigned	 abi_minor;
	const char	*name;		/* must match the config block's name */
	const char	*version;
	/* Registers routes, hooks and tasks; BILLOW_ERROR stops start-up. */
	int		(*init)(const struct billow_host *,
			    struct billow_plugin_handle *);
	/* Releases what init made; called before the plugin is closed. */
	void		(*fini)(void);
};

/* Declares the exported entry point. */
#define BILLOW_PLUGIN(...)						\
	__attribute__((visibility("default")))				\
	const struct billow_plugin billow_plugin = {			\
		.abi_major = BILLOW_ABI_MAJOR,				\
		.abi_minor = BILLOW_ABI_MINOR,				\
		__VA_ARGS__						\
	}

#ifdef __cplusplus
}
#endif

#endif
