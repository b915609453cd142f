/*
 * Redis access for one thread: a hiredis context with connect and command
 * timeouts of at most 200 ms (DESIGN.md "Faults"), reconnecting at most
 * once a second after a failure so a frozen Redis never stalls requests.
 */
#ifndef BW_REDIS_H
#define BW_REDIS_H

#include <hiredis/hiredis.h>

struct bw_redis;

struct bw_redis	*bw_redis_new(const char *url, int timeout_ms);
void		 bw_redis_free(struct bw_redis *);

/*
 * Runs a command (hiredis printf-style format). Returns the reply, which
 * the caller frees with freeReplyObject(), or NULL when Redis is down,
 * slow or answered with an error.
 */
redisReply	*bw_redis_cmd(struct bw_redis *, const char *fmt, ...);

/*
 * Pipelines N commands given as argv arrays; fills REPLIES (caller frees
 * each). Returns BW_OK or BW_ERROR (all replies NULL then).
 */
int		 bw_redis_pipeline(struct bw_redis *, int n, int *argc,
		    const char ***argv, redisReply **replies);

/* 1 when the last call reached Redis. */
int		 bw_redis_ok(const struct bw_redis *);

#endif
