/*
 * The request pipeline after routing, on a Kore task thread: authenticate
 * (API key hash or JWT), rate-limit in Redis (failing open), apply the
 * Idempotency-Key rules, then run the handler inside the tenant's
 * transaction and commit only what should be kept. Security: secrets are
 * hashed before any lookup and never logged; keys compare in SQL by hash.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "auth/auth.h"
#include "auth/crypto.h"
#include "db/db.h"
#include "db/redis.h"
#include "plugin/plugin.h"
#include "server/params.h"
#include "server/server.h"

/* Per-thread handles, listed so that a module unload can close them. */
struct thread_ctx_node {
	struct bw_thread_ctx	 ctx;
	struct thread_ctx_node	*next;
};

static pthread_mutex_t		 ctx_lock = PTHREAD_MUTEX_INITIALIZER;
static struct thread_ctx_node	*ctx_list;
/* Bumped by close_all: a thread's pointer from before it is dangling. */
static _Atomic unsigned		 ctx_generation;
static __thread struct thread_ctx_node	*ctx_mine;
static __thread unsigned		 ctx_mine_generation;

struct bw_thread_ctx *
bw_thread_ctx(void)
{
	struct bw_config	*cfg = bw_server.cfg;

	if (ctx_mine != NULL &&
	    ctx_mine_generation == atomic_load(&ctx_generation))
		return &ctx_mine->ctx;
	ctx_mine_generation = atomic_load(&ctx_generation);
	ctx_mine = bw_calloc(1, sizeof(*ctx_mine));
	ctx_mine->ctx.db = bw_db_new(cfg->database_url,
	    cfg->statement_timeout_ms);
	ctx_mine->ctx.redis = bw_redis_new(cfg->redis_url,
	    cfg->redis_timeout_ms);
	pthread_mutex_lock(&ctx_lock);
	ctx_mine->next = ctx_list;
	ctx_list = ctx_mine;
	pthread_mutex_unlock(&ctx_lock);
	/* One connection per task thread: the pool's size. */
	atomic_fetch_add(&bw_server.metrics->db_conns_open, 1);
	return &ctx_mine->ctx;
}

void
bw_thread_ctx_close_all(void)
{
	struct thread_ctx_node	*n, *next;

	pthread_mutex_lock(&ctx_lock);
	atomic_fetch_add(&ctx_generation, 1);
	for (n = ctx_list; n != NULL; n = next) {
		next = n->next;
		atomic_fetch_sub(&bw_server.metrics->db_conns_open, 1);
		bw_db_free(n->ctx.db);
		bw_redis_free(n->ctx.redis);
		free(n);
	}
	ctx_list = NULL;
	pthread_mutex_unlock(&ctx_lock);
}

/* Credentials from Authorization: Bearer or X-API-Key. */
static const char *
dispatch_credential(struct bw_req *req)
{
	const char	*h;

	if ((h = bw_req_header(req, "authorization")) != NULL) {
		if (strncasecmp(h, "Bearer ", 7) != 0)
			return "";
		h += 7;
		while (*h == ' ')
			h++;
		return h;
	}
	return bw_req_header(req, "x-api-key");
}

static int	dispatch_permit(struct bw_req *);

static int
dispatch_authenticate(struct bw_req *req)
{
	const struct bw_route	*r = req->route;
	const char		*cred;
	int			 rc;

	cred = dispatch_credential(req);
	if (cred == NULL || *cred == '\0') {
		if (r->auth & BW_AUTH_PUBLIC)
			return BW_OK;
		return bw_req_error(req, 401, "authentication_error",
		    "missing_credentials", NULL, "No API key or token was "
		    "provided. Use Authorization: Bearer <key>.");
	}
	if (r->auth == BW_AUTH_PUBLIC)
		return BW_OK;	/* public routes ignore credentials */

	if (strncmp(cred, "sk_", 3) == 0 || strncmp(cred, "pk_", 3) == 0)
		rc = bw_auth_key(req, cred);
	else
		rc = bw_auth_jwt(req, cred);
	if (rc != BW_OK)
		return BW_ERROR;
	return dispatch_permit(req);
}

/* Whether the authenticated principal may call the route. */
static int
dispatch_permit(struct bw_req *req)
{
	const struct bw_route	*r = req->route;

	switch (req->who.kind) {
	case BW_PRINCIPAL_KEY:
		if (req->who.publishable) {
			if (!(r->auth & BW_AUTH_PUBLISHABLE))
				return bw_req_error(req, 403,
				    "permission_error", "publishable_key",
				    NULL, "Publishable keys cannot call this "
				    "endpoint; use a secret key.");
		} else if (!(r->auth & BW_AUTH_SECRET)) {
			return bw_req_error(req, 403, "permission_error",
			    "secret_key_not_allowed", NULL, "This endpoint "
			    "needs a dashboard login, not an API key.");
		}
		break;
	case BW_PRINCIPAL_JWT:
		if (!(r->auth & BW_AUTH_JWT))
			return bw_req_error(req, 403, "permission_error",
			    "forbidden", NULL, r->auth & BW_AUTH_ADMIN ?
			    "Platform administrators only." :
			    "This endpoint needs an API key.");
		/* Developers read; writes need the route's role. */
		if (req->who.role == BW_ROLE_DEVELOPER &&
		    req->method != BW_GET && req->method != BW_HEAD &&
		    !(r->flags & BW_ROUTE_SELF))
			return bw_req_error(req, 403, "permission_error",
			    "insufficient_role", NULL, "Your role may only "
			    "read.");
		if (req->who.role < r->role)
			return bw_req_error(req, 403, "permission_error",
			    "insufficient_role", NULL, "Your role does not "
			    "allow this action.");
		break;
	case BW_PRINCIPAL_ADMIN:
		if (!(r->auth & BW_AUTH_ADMIN))
			return bw_req_error(req, 403, "permission_error",
			    "forbidden", NULL, "Platform administrator tokens "
			    "can only call /api/v1/admin endpoints.");
		break;
	case BW_PRINCIPAL_NONE:
		return bw_req_error(req, 401, "authentication_error",
		    "invalid_credentials", NULL, "Invalid credentials.");
	}
	return BW_OK;
}

/*
 * Idempotency (API.md "Conventions"): one advisory lock per tenant, mode
 * and key makes a concurrent duplicate answer 409 at once; the stored
 * response is read in the next statement (a fresh snapshot, so a request
 * that just committed is seen).
 */
#define SQL_IDEM_LOCK \
	"SELECT billow_idem_lock($1)"
#define SQL_IDEM_GET \
	"SELECT request_hash, status, body FROM idempotency_keys " \
	"WHERE key = $1 AND created > now() - interval '24 hours'"
#define SQL_IDEM_PUT \
	"INSERT INTO idempotency_keys (tenant_id, livemode, key, " \
	"request_hash, status, body) VALUES " \
	"(current_setting('app.tenant_id'), " \
	"current_setting('app.livemode')::boolean, $1, $2, $3::int, $4) " \
	"ON CONFLICT (tenant_id, livemode, key) DO UPDATE SET " \
	"request_hash = excluded.request_hash, status = excluded.status, " \
	"body = excluded.body, created = now()"

static int
idem_applies(const struct bw_req *req)
{
	return req->method == BW_POST && req->who.tenant_id[0] != '\0' &&
	    !(req->route->flags & (BW_ROUTE_NO_IDEM | BW_ROUTE_NO_TX));
}

/* Returns BW_OK to run the handler, BW_DECLINED when replayed. */
static int
idem_check(struct bw_req *req)
{
	const char	*key, *params[1];
	char		 lockkey[400], hash[65];
	struct bw_buf	 fp;
	PGresult	*res;

	if ((key = bw_req_header(req, "idempotency-key")) == NULL)
		return BW_OK;
	if (*key == '\0' || strlen(key) > 255)
		return bw_req_error(req, 400, "invalid_request_error",
		    "parameter_invalid", "Idempotency-Key", "Idempotency-Key "
		    "must be 1 to 255 characters.");
	req->idem_key = bw_arena_strdup(&req->arena, key);
	bw_buf_init(&fp);
	bw_buf_appendf(&fp, "%s %s\n", bw_http_method_name(req->method),
	    req->path);
	bw_buf_append(&fp, req->body != NULL ? req->body : "", req->body_len);
	bw_sha256_hex(fp.data, fp.len, hash);
	bw_buf_free(&fp);
	req->idem_hash = bw_arena_strdup(&req->arena, hash);

	snprintf(lockkey, sizeof(lockkey), "%s:%d:%s", req->who.tenant_id,
	    req->who.livemode, key);
	params[0] = lockkey;
	bw_db_queue(req->db, SQL_IDEM_LOCK, 1, params);
	params[0] = key;
	res = bw_db_query(req->db, SQL_IDEM_GET, 1, params);
	if (res == NULL) {
		if (strcmp(bw_db_sqlstate(req->db), "BW409") == 0)
			return bw_req_error(req, 409, "idempotency_error",
			    "idempotency_key_in_use", NULL, "A request with "
			    "this Idempotency-Key is still being processed; "
			    "retry later.");
		return BW_ERROR;
	}
	if (PQntuples(res) == 0) {
		PQclear(res);
		return BW_OK;
	}
	if (strcmp(bw_db_val(res, 0, "request_hash"), hash) != 0) {
		PQclear(res);
		return bw_req_error(req, 400, "idempotency_error",
		    "idempotency_key_reused", NULL, "This Idempotency-Key was "
		    "used with a different request.");
	}
	req->status = (int)bw_db_int(res, 0, "status");
	req->content_type = "application/json; charset=utf-8";
	bw_buf_reset(&req->out);
	bw_buf_appends(&req->out, bw_db_val(res, 0, "body"));
	bw_req_set_header(req, "Idempotent-Replayed", "true");
	PQclear(res);
	return BW_DECLINED;
}

static int
idem_store_commit(struct bw_req *req)
{
	const char	*params[4];
	char		 status[8];
	PGresult	*res;

	snprintf(status, sizeof(status), "%d", req->status);
	params[0] = req->idem_key;
	params[1] = req->idem_hash;
	params[2] = status;
	params[3] = req->out.data != NULL ? req->out.data : "";
	if ((res = bw_db_query_commit(req->db, SQL_IDEM_PUT, 4, params)) ==
	    NULL)
		return BW_ERROR;
	PQclear(res);
	return BW_OK;
}

/*
 * Lock contention the database resolved by aborting this transaction: a
 * deadlock, a serialization failure, a lock not available. Nothing was
 * written and a retry will succeed, so the client is told to retry
 * (Stripe's 429 lock_timeout), never given a 500.
 */
static int
dispatch_contention(const char *sqlstate)
{
	return strcmp(sqlstate, "40P01") == 0 ||
	    strcmp(sqlstate, "40001") == 0 || strcmp(sqlstate, "55P03") == 0;
}

/*
 * A database failure becomes 429 (contention, even when the handler
 * already called it internal), 503 (connection) or 500 (anything else).
 */
static void
dispatch_db_failure(struct bw_req *req)
{
	if (dispatch_contention(bw_db_sqlstate(req->db)) && (!req->failed ||
	    req->err.status == 500)) {
		bw_log(BW_LOG_INFO, "request %s: lock contention (%s), "
		    "answered 429", req->request_id, bw_db_sqlstate(req->db));
		bw_req_error(req, 429, "invalid_request_error",
		    "lock_timeout", NULL, "This object is being changed by "
		    "another request; retry shortly.");
		req->err.retry_after = 1;
		return;
	}
	if (req->failed)
		return;
	if (bw_db_conn_lost(req->db)) {
		bw_err_unavailable(req);
	} else {
		bw_log(BW_LOG_ERROR, "request %s: database error %s: %s",
		    req->request_id, bw_db_sqlstate(req->db),
		    bw_db_error(req->db));
		bw_err_internal(req);
	}
	atomic_fetch_add(&bw_server.metrics->db_errors, 1);
}

/* The http.request hook: plugins may reject a request before its handler. */
static int
dispatch_http_hook(struct bw_req *req)
{
	struct billow_http_ctx	ctx;
	char			who[64];

	ctx.req = (struct billow_req *)req;
	ctx.method = bw_http_method_name(req->method);
	ctx.path = req->path;
	ctx.tenant_id = req->who.tenant_id;
	if (bw_hook_action(BILLOW_HOOK_HTTP_REQUEST, &ctx, who,
	    sizeof(who)) == BW_OK)
		return BW_OK;
	if (!req->failed)
		bw_req_error(req, 403, "permission_error", "rejected", NULL,
		    "The request was rejected by the %s plugin.", who);
	return BW_ERROR;
}

/* Keeps the effect: 2xx, and 402 card_error (its failed attempt). */
static int
dispatch_keep(const struct bw_req *req)
{
	if (!req->failed)
		return req->status >= 200 && req->status < 300;
	return req->err.status == 402;
}

int
bw_dispatch_fast(struct bw_req *req)
{
	const char	*cred;

	if (!(req->route->flags & BW_ROUTE_FAST))
		return 0;
	cred = dispatch_credential(req);
	if (cred == NULL || (strncmp(cred, "sk_", 3) != 0 &&
	    strncmp(cred, "pk_", 3) != 0))
		return 0;
	if (bw_auth_key_fast(req, cred) != BW_OK) {
		memset(&req->who, 0, sizeof(req->who));
		return 0;
	}
	req->server = &bw_server;
	atomic_fetch_add(&bw_server.metrics->fast_path, 1);
	if (dispatch_permit(req) == BW_OK)
		(void)req->route->handler(req);
	if (req->failed)
		bw_req_render_error(req);
	return 1;
}

void
bw_dispatch(struct bw_req *req)
{
	struct bw_thread_ctx	*ctx;
	int			 rc, tx;

	ctx = bw_thread_ctx();
	atomic_fetch_add(&bw_server.metrics->db_conns_busy, 1);
	req->db = ctx->db;
	req->redis = ctx->redis;
	req->server = &bw_server;

	if (dispatch_authenticate(req) != BW_OK)
		goto done;
	if (bw_auth_rate_limit(req) != BW_OK)
		goto done;
	if (dispatch_http_hook(req) != BW_OK)
		goto done;

	tx = !(req->route->flags & BW_ROUTE_NO_TX);
	if (tx) {
		if (req->method == BW_GET || req->method == BW_HEAD)
			rc = bw_db_begin_ro(req->db, req->who.tenant_id[0] ?
			    req->who.tenant_id : NULL, req->who.livemode,
			    req->who.kind == BW_PRINCIPAL_ADMIN);
		else if (req->who.kind == BW_PRINCIPAL_ADMIN)
			rc = bw_db_begin_admin(req->db);
		else
			rc = bw_db_begin(req->db, req->who.tenant_id[0] ?
			    req->who.tenant_id : NULL, req->who.livemode);
		if (rc != BW_OK) {
			dispatch_db_failure(req);
			goto done;
		}
	}
	if (idem_applies(req)) {
		rc = idem_check(req);
		if (rc == BW_DECLINED) {
			bw_db_rollback(req->db);
			goto done;
		}
		if (rc != BW_OK) {
			if (!req->failed)
				dispatch_db_failure(req);
			bw_db_rollback(req->db);
			goto done;
		}
	}

	rc = req->route->handler(req);
	if (rc != BW_OK && (!req->failed || req->err.status == 500))
		dispatch_db_failure(req);

	if (bw_db_in_tx(req->db)) {
		if (!dispatch_keep(req)) {
			bw_db_rollback(req->db);
		} else {
			if (req->failed)
				bw_req_render_error(req);
			if (req->idem_key != NULL)
				rc = idem_store_commit(req);
			else
				rc = bw_db_commit(req->db);
			if (rc != BW_OK) {
				bw_db_rollback(req->db);
				req->failed = 0;
				dispatch_db_failure(req);
			} else {
				if (req->after_commit != NULL)
					req->after_commit(req);
			}
		}
	}
done:
	if (req->failed)
		bw_req_render_error(req);
	atomic_fetch_sub(&bw_server.metrics->db_conns_busy, 1);
}
