/*
 * Request authentication and rate limits, on Kore task threads.
 * API keys are hashed (SHA-256) before anything else; the hash is what the
 * database, the cache and Redis see. Key lookups go through a SECURITY
 * DEFINER function because no tenant context exists yet.
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
#include "server/server.h"

#define KEY_CACHE_SLOTS		1024
#define KEY_CACHE_TTL_US	(60 * 1000000LL)
/* Without Redis the generation is unknown: trust entries only briefly. */
#define KEY_CACHE_BLIND_US	(2 * 1000000LL)
/*
 * The event-loop fast path trusts an entry whose generation Redis
 * confirmed within this window: a key revoked through another server is
 * refused there at most this late (this server's own changes apply at
 * once through the shared local generation).
 */
#define KEY_CACHE_FAST_US	(1 * 1000000LL)

/* The Redis generation this process saw last. */
static _Atomic long long	last_redis_gen = -1;

struct key_entry {
	char		hash[65];
	char		tenant_id[48];
	char		key_id[48];
	char		company_name[208];
	char		slug[64];
	int		livemode;
	int		publishable;
	long long	gen;
	uint64_t	local_gen;
	int64_t		stored_us;
	int64_t		checked_us;	/* gen last confirmed in Redis */
	int64_t		expires_us;	/* wall clock; 0 = never (rolled keys) */
};

static pthread_mutex_t	 cache_lock = PTHREAD_MUTEX_INITIALIZER;
static struct key_entry	 cache[KEY_CACHE_SLOTS];

static unsigned
cache_slot(const char *hash)
{
	return (unsigned)strtoul((char[9]){ hash[0], hash[1], hash[2],
	    hash[3], hash[4], hash[5], hash[6], hash[7], 0 }, NULL, 16) %
	    KEY_CACHE_SLOTS;
}

static uint64_t
local_gen(void)
{
	return bw_server.metrics != NULL ?
	    atomic_load(&bw_server.metrics->authgen_local) : 0;
}

static int
cache_get(const char *hash, long long gen, struct key_entry *out)
{
	struct key_entry	*e;
	int64_t			 age, now = bw_mono_us();
	int			 hit = 0;

	pthread_mutex_lock(&cache_lock);
	e = &cache[cache_slot(hash)];
	if (strcmp(e->hash, hash) == 0 && e->local_gen == local_gen() &&
	    (e->expires_us == 0 || bw_time_us() < e->expires_us)) {
		age = now - e->stored_us;
		if (gen >= 0)
			hit = e->gen == gen && age < KEY_CACHE_TTL_US;
		else
			hit = age < KEY_CACHE_BLIND_US;
		if (hit) {
			if (gen >= 0)
				e->checked_us = now;
			*out = *e;
		}
	}
	pthread_mutex_unlock(&cache_lock);
	return hit;
}

/* The fast path's look-up: no Redis, so only recently confirmed entries. */
static int
cache_get_fast(const char *hash, struct key_entry *out)
{
	struct key_entry	*e;
	int			 hit = 0;

	pthread_mutex_lock(&cache_lock);
	e = &cache[cache_slot(hash)];
	if (strcmp(e->hash, hash) == 0 && e->local_gen == local_gen() &&
	    (e->expires_us == 0 || bw_time_us() < e->expires_us) &&
	    e->gen >= 0 && e->gen == atomic_load(&last_redis_gen) &&
	    bw_mono_us() - e->checked_us < KEY_CACHE_FAST_US) {
		hit = 1;
		*out = *e;
	}
	pthread_mutex_unlock(&cache_lock);
	return hit;
}

static void
cache_put(const struct key_entry *in)
{
	pthread_mutex_lock(&cache_lock);
	cache[cache_slot(in->hash)] = *in;
	pthread_mutex_unlock(&cache_lock);
}

static int
auth_fail(struct bw_req *req)
{
	memset(&req->who, 0, sizeof(req->who));
	return bw_req_error(req, 401, "authentication_error",
	    "invalid_credentials", NULL, "Invalid API key or token.");
}

/*
 * One Redis round trip for a key request: the per-second counter for the
 * rate limit and the cache generation. Fails open (counted in /metrics).
 */
static long long
auth_key_redis(struct bw_req *req, const char *hash, int livemode)
{
	struct bw_config	*cfg = bw_server.cfg;
	redisReply		*rep[3];
	const char		*a0[] = { "INCR", NULL };
	const char		*a1[] = { "EXPIRE", NULL, "2" };
	const char		*a2[] = { "GET", "billow:authgen" };
	const char		**argv[3] = { a0, a1, a2 };
	int			 argc[3] = { 2, 3, 2 };
	char			 rlkey[64];
	long long		 gen = -1;
	int			 limit;

	limit = livemode ? cfg->rate_live_rps : cfg->rate_test_rps;
	snprintf(rlkey, sizeof(rlkey), "billow:rl:%.16s:%lld", hash,
	    (long long)(bw_time_us() / 1000000));
	a0[1] = rlkey;
	a1[1] = rlkey;
	if (limit <= 0) {
		argv[0] = a2;
		argc[0] = 2;
		if (bw_redis_pipeline(req->redis, 1, argc, argv, rep) !=
		    BW_OK) {
			atomic_fetch_add(&bw_server.metrics->redis_errors, 1);
			return -1;
		}
		if (rep[0]->type == REDIS_REPLY_STRING)
			gen = strtoll(rep[0]->str, NULL, 10);
		else
			gen = 0;
		freeReplyObject(rep[0]);
		return gen;
	}
	if (bw_redis_pipeline(req->redis, 3, argc, argv, rep) != BW_OK) {
		atomic_fetch_add(&bw_server.metrics->redis_errors, 1);
		atomic_fetch_add(&bw_server.metrics->rate_limit_fail_open, 1);
		return -1;
	}
	if (rep[0]->type == REDIS_REPLY_INTEGER)
		req->rate_count = rep[0]->integer;
	req->rate_limit = limit;
	if (rep[2]->type == REDIS_REPLY_STRING)
		gen = strtoll(rep[2]->str, NULL, 10);
	else
		gen = 0;
	freeReplyObject(rep[0]);
	freeReplyObject(rep[1]);
	freeReplyObject(rep[2]);
	return gen;
}

#define SQL_AUTH_KEY \
	"SELECT key_id, tenant_id, livemode, publishable, company_name, " \
	"slug, expires_at " \
	"FROM billow_auth_key($1)"

static void
key_principal(struct bw_req *req, const struct key_entry *ep)
{
	const struct key_entry	e = *ep;

	req->who.kind = BW_PRINCIPAL_KEY;
	snprintf(req->who.tenant_id, sizeof(req->who.tenant_id), "%s",
	    e.tenant_id);
	snprintf(req->who.key_id, sizeof(req->who.key_id), "%s", e.key_id);
	snprintf(req->who.tenant_name, sizeof(req->who.tenant_name), "%s",
	    e.company_name);
	snprintf(req->who.tenant_slug, sizeof(req->who.tenant_slug), "%s",
	    e.slug);
	req->who.livemode = e.livemode;
	req->who.publishable = e.publishable;
}

int
bw_auth_key_fast(struct bw_req *req, const char *key)
{
	struct bw_config	*cfg = bw_server.cfg;
	enum bw_key_type	 type;
	struct key_entry	 e;
	char			 hash[65];
	int			 livemode;

	if (bw_apikey_parse(key, &type, &livemode) != BW_OK)
		return BW_DECLINED;
	/* A per-key limit needs Redis: the task path counts it. */
	if ((livemode ? cfg->rate_live_rps : cfg->rate_test_rps) > 0)
		return BW_DECLINED;
	bw_sha256_hex(key, strlen(key), hash);
	if (!cache_get_fast(hash, &e))
		return BW_DECLINED;
	key_principal(req, &e);
	return BW_OK;
}

int
bw_auth_key(struct bw_req *req, const char *key)
{
	enum bw_key_type	 type;
	struct key_entry	 e;
	const char		*params[1];
	char			 hash[65];
	long long		 gen;
	int			 livemode;
	PGresult		*res;

	if (bw_apikey_parse(key, &type, &livemode) != BW_OK)
		return auth_fail(req);
	bw_sha256_hex(key, strlen(key), hash);
	gen = auth_key_redis(req, hash, livemode);
	if (gen >= 0)
		atomic_store(&last_redis_gen, gen);

	if (!cache_get(hash, gen, &e)) {
		params[0] = hash;
		if ((res = bw_db_query(req->db, SQL_AUTH_KEY, 1, params)) ==
		    NULL) {
			if (bw_db_conn_lost(req->db))
				return bw_err_unavailable(req);
			bw_log(BW_LOG_ERROR, "key lookup failed: %s",
			    bw_db_error(req->db));
			return bw_err_internal(req);
		}
		if (PQntuples(res) != 1) {
			PQclear(res);
			return auth_fail(req);
		}
		memset(&e, 0, sizeof(e));
		snprintf(e.hash, sizeof(e.hash), "%s", hash);
		snprintf(e.key_id, sizeof(e.key_id), "%s",
		    bw_db_val(res, 0, "key_id"));
		snprintf(e.tenant_id, sizeof(e.tenant_id), "%s",
		    bw_db_val(res, 0, "tenant_id"));
		snprintf(e.company_name, sizeof(e.company_name), "%s",
		    bw_db_val(res, 0, "company_name"));
		snprintf(e.slug, sizeof(e.slug), "%s",
		    bw_db_val(res, 0, "slug"));
		e.livemode = strcmp(bw_db_val(res, 0, "livemode"), "t") == 0;
		e.expires_us = bw_db_int(res, 0, "expires_at") * 1000000LL;
		e.publishable =
		    strcmp(bw_db_val(res, 0, "publishable"), "t") == 0;
		e.gen = gen;
		e.local_gen = local_gen();
		e.stored_us = bw_mono_us();
		e.checked_us = e.stored_us;
		PQclear(res);
		cache_put(&e);
	}
	key_principal(req, &e);
	return BW_OK;
}

#define SQL_AUTH_SESSION \
	"SELECT role, is_test_mode FROM billow_auth_session($1, $2)"
#define SQL_AUTH_ADMIN \
	"SELECT id FROM billow_auth_admin_id($1)"

int
bw_auth_jwt(struct bw_req *req, const char *token)
{
	struct bw_jwt_claims	 c;
	const char		*params[2], *mode;
	PGresult		*res;
	int			 admin;

	if (bw_jwt_verify(token, bw_server.cfg->jwt_secret,
	    bw_time_us() / 1000000, &c) != BW_OK)
		return auth_fail(req);
	if (strcmp(c.typ, "access") == 0)
		admin = 0;
	else if (strcmp(c.typ, "admin") == 0)
		admin = 1;
	else
		return auth_fail(req);

	params[0] = c.sub;
	params[1] = c.tenant_id;
	res = bw_db_query(req->db, admin ? SQL_AUTH_ADMIN : SQL_AUTH_SESSION,
	    admin ? 1 : 2, params);
	if (res == NULL) {
		if (bw_db_conn_lost(req->db))
			return bw_err_unavailable(req);
		return bw_err_internal(req);
	}
	if (PQntuples(res) != 1) {
		PQclear(res);
		return auth_fail(req);
	}
	memset(&req->who, 0, sizeof(req->who));
	snprintf(req->who.user_id, sizeof(req->who.user_id), "%s", c.sub);
	snprintf(req->who.email, sizeof(req->who.email), "%s", c.email);
	if (admin) {
		req->who.kind = BW_PRINCIPAL_ADMIN;
		PQclear(res);
		return BW_OK;
	}
	req->who.kind = BW_PRINCIPAL_JWT;
	snprintf(req->who.tenant_id, sizeof(req->who.tenant_id), "%s",
	    c.tenant_id);
	/* The role as it is now, not as it was when the token was made. */
	req->who.role = bw_role_parse(bw_db_val(res, 0, "role"));
	req->who.livemode = strcmp(bw_db_val(res, 0, "is_test_mode"), "t") != 0;
	PQclear(res);

	if ((mode = bw_req_header(req, "billow-mode")) != NULL) {
		if (strcmp(mode, "test") == 0)
			req->who.livemode = 0;
		else if (strcmp(mode, "live") == 0)
			req->who.livemode = 1;
		else
			return bw_req_error(req, 400, "invalid_request_error",
			    "parameter_invalid", "Billow-Mode", "Billow-Mode "
			    "must be test or live.");
	}
	return BW_OK;
}

int
bw_auth_rate_limit(struct bw_req *req)
{
	if (req->who.kind != BW_PRINCIPAL_KEY || req->rate_limit <= 0 ||
	    (req->route->flags & BW_ROUTE_NO_RATE))
		return BW_OK;
	if (req->rate_count <= req->rate_limit)
		return BW_OK;
	atomic_fetch_add(&bw_server.metrics->rate_limited, 1);
	bw_req_error(req, 429, "rate_limit_error", "rate_limited", NULL,
	    "Too many requests for this API key; retry after a second.");
	req->err.retry_after = 1;
	return BW_ERROR;
}

int
bw_auth_ip_limit(struct bw_req *req, const char *scope)
{
	redisReply	*rep;
	char		 key[160];
	long long	 n, minute;
	int		 limit = bw_server.cfg->auth_rate_per_min;

	if (limit <= 0)
		return BW_OK;
	minute = bw_time_us() / 60000000;
	snprintf(key, sizeof(key), "billow:ip:%s:%s:%lld", scope,
	    req->client_ip, minute);
	if ((rep = bw_redis_cmd(req->redis, "INCR %s", key)) == NULL) {
		atomic_fetch_add(&bw_server.metrics->rate_limit_fail_open, 1);
		return BW_OK;
	}
	n = rep->type == REDIS_REPLY_INTEGER ? rep->integer : 0;
	freeReplyObject(rep);
	if (n == 1 && (rep = bw_redis_cmd(req->redis, "EXPIRE %s 61",
	    key)) != NULL)
		freeReplyObject(rep);
	if (n <= limit)
		return BW_OK;
	atomic_fetch_add(&bw_server.metrics->rate_limited, 1);
	bw_req_error(req, 429, "rate_limit_error", "rate_limited", NULL,
	    "Too many attempts from this address; retry in a minute.");
	req->err.retry_after = (int)(60 - (bw_time_us() / 1000000) % 60);
	return BW_ERROR;
}

static void
lockout_key(const char *email, char *out, size_t len)
{
	char	 hash[65], lower[320];
	size_t	 i;

	for (i = 0; email[i] != '\0' && i < sizeof(lower) - 1; i++)
		lower[i] = (char)((email[i] >= 'A' && email[i] <= 'Z') ?
		    email[i] + 32 : email[i]);
	lower[i] = '\0';
	bw_sha256_hex(lower, i, hash);
	snprintf(out, len, "billow:lock:%.32s", hash);
}

int
bw_auth_lockout_check(struct bw_req *req, const char *email)
{
	redisReply	*rep;
	char		 key[64];
	long long	 n = 0, ttl = 0;

	lockout_key(email, key, sizeof(key));
	if ((rep = bw_redis_cmd(req->redis, "GET %s", key)) == NULL)
		return BW_OK;
	if (rep->type == REDIS_REPLY_STRING)
		n = strtoll(rep->str, NULL, 10);
	freeReplyObject(rep);
	if (n < bw_server.cfg->login_lockout_failures)
		return BW_OK;
	if ((rep = bw_redis_cmd(req->redis, "TTL %s", key)) != NULL) {
		if (rep->type == REDIS_REPLY_INTEGER)
			ttl = rep->integer;
		freeReplyObject(rep);
	}
	bw_req_error(req, 429, "rate_limit_error", "account_locked", NULL,
	    "Too many failed logins for this account; try again later.");
	req->err.retry_after = ttl > 0 ? (int)ttl :
	    bw_server.cfg->login_lockout_s;
	return BW_ERROR;
}

void
bw_auth_lockout_fail(struct bw_req *req, const char *email)
{
	redisReply	*rep;
	char		 key[64];

	lockout_key(email, key, sizeof(key));
	if ((rep = bw_redis_cmd(req->redis, "INCR %s", key)) == NULL)
		return;
	freeReplyObject(rep);
	if ((rep = bw_redis_cmd(req->redis, "EXPIRE %s %d", key,
	    bw_server.cfg->login_lockout_s)) != NULL)
		freeReplyObject(rep);
}

void
bw_auth_lockout_clear(struct bw_req *req, const char *email)
{
	redisReply	*rep;
	char		 key[64];

	lockout_key(email, key, sizeof(key));
	if ((rep = bw_redis_cmd(req->redis, "DEL %s", key)) != NULL)
		freeReplyObject(rep);
}

void
bw_auth_invalidate(struct bw_req *req)
{
	redisReply	*rep;

	/* This server's workers see the change at once... */
	if (bw_server.metrics != NULL)
		atomic_fetch_add(&bw_server.metrics->authgen_local, 1);
	/* ...other servers through Redis. */
	if ((rep = bw_redis_cmd(req->redis, "INCR billow:authgen")) != NULL)
		freeReplyObject(rep);
}

enum bw_role
bw_role_parse(const char *s)
{
	if (s == NULL)
		return BW_ROLE_NONE;
	if (strcmp(s, "owner") == 0)
		return BW_ROLE_OWNER;
	if (strcmp(s, "admin") == 0)
		return BW_ROLE_ADMIN;
	if (strcmp(s, "developer") == 0)
		return BW_ROLE_DEVELOPER;
	return BW_ROLE_NONE;
}

const char *
bw_role_name(enum bw_role r)
{
	switch (r) {
	case BW_ROLE_OWNER:
		return "owner";
	case BW_ROLE_ADMIN:
		return "admin";
	case BW_ROLE_DEVELOPER:
		return "developer";
	default:
		return "none";
	}
}
