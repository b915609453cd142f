/*
 * The request context endpoint code sees: parsed request, authenticated
 * principal, the thread's database and Redis handles, and the response.
 * Built by the Kore glue in the event loop, then handled on a task thread;
 * endpoint code never sees Kore. Errors are values rendered in one place.
 */
#ifndef BW_SERVER_HTTP_H
#define BW_SERVER_HTTP_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "core/core.h"

#define BW_GET		0x01
#define BW_POST		0x02
#define BW_PATCH	0x04
#define BW_DELETE	0x08
#define BW_PUT		0x10
#define BW_HEAD		0x20
#define BW_OPTIONS	0x40

/* Who may call a route: any combination. */
#define BW_AUTH_PUBLIC		0x01	/* no credentials */
#define BW_AUTH_SECRET		0x02	/* sk_test_ / sk_live_ */
#define BW_AUTH_PUBLISHABLE	0x04	/* pk_test_ / pk_live_ */
#define BW_AUTH_JWT		0x08	/* dashboard access token */
#define BW_AUTH_ADMIN		0x10	/* platform admin token */
#define BW_AUTH_TENANT		(BW_AUTH_SECRET | BW_AUTH_JWT)

/* Dashboard roles, most powerful first. */
enum bw_role {
	BW_ROLE_NONE = 0,
	BW_ROLE_DEVELOPER = 1,
	BW_ROLE_ADMIN = 2,
	BW_ROLE_OWNER = 3
};

/* Route flags. */
#define BW_ROUTE_NO_TX		0x01	/* the handler opens its own transactions */
#define BW_ROUTE_NO_IDEM	0x02	/* Idempotency-Key does not apply */
#define BW_ROUTE_NO_RATE	0x04	/* per-key rate limit does not apply */
#define BW_ROUTE_SELF		0x08	/* a write on the caller's own account:
					   developers may call it too */
#define BW_ROUTE_FAST		0x10	/* may answer in the event loop from
					   the key cache: the handler uses
					   neither db nor redis */

struct bw_req;
typedef int	(*bw_handler_fn)(struct bw_req *);

struct bw_route {
	int		 method;
	const char	*pattern;	/* "/api/v1/customers/{id}" */
	int		 auth;		/* BW_AUTH_* */
	enum bw_role	 role;		/* least JWT role (writes); 0 = any */
	bw_handler_fn	 handler;
	int		 flags;		/* BW_ROUTE_* */
};

struct bw_header {
	char	*name;
	char	*value;
};

/* The authenticated caller. */
enum bw_principal_kind {
	BW_PRINCIPAL_NONE,
	BW_PRINCIPAL_KEY,
	BW_PRINCIPAL_JWT,
	BW_PRINCIPAL_ADMIN
};

struct bw_principal {
	enum bw_principal_kind	 kind;
	char			 tenant_id[48];
	int			 livemode;
	int			 publishable;	/* key principals */
	char			 key_id[48];
	char			 tenant_name[208];	/* key principals */
	char			 tenant_slug[64];
	char			 user_id[48];	/* JWT and admin principals */
	enum bw_role		 role;
	char			 email[320];
};

/* A user-facing failure, rendered as the contract's error body. */
struct bw_error {
	int	 status;
	char	 type[32];
	char	 code[48];
	char	 message[256];
	char	 param[64];
	int	 retry_after;	/* seconds, 0 = no header */
};

#define BW_MAX_PARAMS	4
#define BW_MAX_RESP_HEADERS	8

struct bw_db;
struct bw_redis;
struct bw_server;

struct bw_req {
	struct bw_arena		 arena;
	int			 method;
	char			*path;
	char			*query;		/* without '?', may be NULL */
	struct bw_header	*headers;
	size_t			 nheaders;
	char			*body;
	size_t			 body_len;
	char			 client_ip[64];
	char			 request_id[40];
	int64_t			 start_us;

	const struct bw_route	*route;
	char			*params[BW_MAX_PARAMS];
	size_t			 nparams;

	struct bw_principal	 who;
	struct bw_db		*db;
	struct bw_redis		*redis;
	struct bw_server	*server;	/* configuration and shared state */

	long long		 rate_count;	/* this second's requests for the key */
	int			 rate_limit;	/* the key's limit, 0 = none */

	json_t			*json;		/* parsed body, owned by the request */
	/* Inside a queued task (worker/relay.c): its run, 1 the first. */
	int			 task_attempt;
	/* The task asked to run again after this many ms (-1: no). */
	int64_t			 task_retry_ms;
	/* A plugin's list parameters (host table list_parse). */
	void			*page;
	/* Runs once the request's transaction committed (cache flushes). */
	void			(*after_commit)(struct bw_req *);
	char			*idem_key;
	char			*idem_hash;

	/* Response. */
	int			 status;
	struct bw_buf		 out;
	const char		*content_type;
	struct bw_header	 resp_headers[BW_MAX_RESP_HEADERS];
	size_t			 nresp_headers;
	struct bw_error		 err;
	int			 failed;	/* err is set */
};

void	 bw_req_init(struct bw_req *);
void	 bw_req_free(struct bw_req *);

/* Case-insensitive request header lookup; NULL when absent. */
const char	*bw_req_header(const struct bw_req *, const char *);
/* Query parameter (decoded, arena memory); NULL when absent. */
const char	*bw_req_query(struct bw_req *, const char *);
/* Route parameter N ({id} captures, in order). */
const char	*bw_req_param(const struct bw_req *, size_t);

/* Adds a response header (name and value copied into the arena). */
void	 bw_req_set_header(struct bw_req *, const char *, const char *);

/*
 * Sets the request's error; always returns BW_ERROR so handlers can write
 * `return bw_req_error(...)`. PARAM may be NULL.
 */
int	 bw_req_error(struct bw_req *, int status, const char *type,
	    const char *code, const char *param, const char *fmt, ...)
	    __attribute__((format(printf, 6, 7)));
/* Shorthands for the common errors. */
int	 bw_err_invalid(struct bw_req *, const char *param, const char *fmt, ...)
	    __attribute__((format(printf, 3, 4)));
int	 bw_err_missing(struct bw_req *, const char *param);
int	 bw_err_not_found(struct bw_req *, const char *what);
int	 bw_err_internal(struct bw_req *);
int	 bw_err_unavailable(struct bw_req *);

/* Sets a JSON response; steals the reference to VALUE. Returns BW_OK. */
int	 bw_req_json(struct bw_req *, int status, json_t *value);
/* Renders req->err into the response body. */
void	 bw_req_render_error(struct bw_req *);

/* Status text for the access log and errors. */
const char	*bw_http_status_text(int);
const char	*bw_http_method_name(int);
int		 bw_http_method_parse(const char *);

#endif
