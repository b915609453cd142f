/*
 * Authentication and limits for the request pipeline: API keys (looked up
 * by SHA-256 hash, cached briefly per process and invalidated through a
 * Redis generation counter), JWTs, per-key and per-IP rate limits and the
 * login lockout. Runs on task threads.
 */
#ifndef BW_AUTH_H
#define BW_AUTH_H

#include "server/http.h"

/* Fills req->who from an API key, or sets a 401. */
int	bw_auth_key(struct bw_req *, const char *key);
/*
 * The event loop's fast path: fills req->who from a recently confirmed
 * cache entry without touching Redis or the database. BW_DECLINED when
 * the request must take the task path (cache miss, a rate limit to count).
 */
int	bw_auth_key_fast(struct bw_req *, const char *key);
/* Fills req->who from a JWT access or admin token, or sets a 401. */
int	bw_auth_jwt(struct bw_req *, const char *token);
/* Per-key limit (API.md "Authentication"): 429 with Retry-After. */
int	bw_auth_rate_limit(struct bw_req *);
/* Per-client-IP limit for SCOPE ("register", "login"): 429. */
int	bw_auth_ip_limit(struct bw_req *, const char *scope);
/* Login lockout: BW_ERROR (429) while EMAIL is locked. */
int	bw_auth_lockout_check(struct bw_req *, const char *email);
void	bw_auth_lockout_fail(struct bw_req *, const char *email);
void	bw_auth_lockout_clear(struct bw_req *, const char *email);
/*
 * Tells every worker that cached key lookups are stale (key roll, tenant
 * deactivation). Best effort: with Redis down the cache expires anyway.
 */
void	bw_auth_invalidate(struct bw_req *);

enum bw_role	bw_role_parse(const char *);
const char	*bw_role_name(enum bw_role);

#endif
