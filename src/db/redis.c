/*
 * hiredis wrapper with bounded waits. One struct bw_redis per thread;
 * after a failure the context is dropped and not retried for a second,
 * so callers fail fast (rate limits fail open) while Redis is away.
 */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>

#include "core/core.h"
#include "db/redis.h"

struct bw_redis {
	redisContext	*ctx;
	char		*host;
	int		 port;
	int		 db;
	char		*password;
	int		 timeout_ms;
	int64_t		 retry_at_us;
	int		 ok;
};

/* Parses redis://[:password@]host[:port][/db]. */
static void
redis_parse_url(struct bw_redis *r, const char *url)
{
	const char	*p, *at, *slash, *colon;
	char		*hostport;

	r->host = bw_strdup("127.0.0.1");
	r->port = 6379;
	r->db = 0;
	p = url;
	if (strncmp(p, "redis://", 8) == 0)
		p += 8;
	if ((at = strchr(p, '@')) != NULL) {
		colon = memchr(p, ':', (size_t)(at - p));
		if (colon != NULL)
			r->password = bw_strndup(colon + 1,
			    (size_t)(at - colon - 1));
		p = at + 1;
	}
	slash = strchr(p, '/');
	hostport = bw_strndup(p, slash ? (size_t)(slash - p) : strlen(p));
	if ((colon = strrchr(hostport, ':')) != NULL) {
		r->port = atoi(colon + 1);
		hostport[colon - hostport] = '\0';
	}
	if (hostport[0] != '\0') {
		free(r->host);
		r->host = hostport;
	} else {
		free(hostport);
	}
	if (slash != NULL)
		r->db = atoi(slash + 1);
}

struct bw_redis *
bw_redis_new(const char *url, int timeout_ms)
{
	struct bw_redis	*r;

	r = bw_calloc(1, sizeof(*r));
	r->timeout_ms = timeout_ms > 0 && timeout_ms <= 200 ? timeout_ms : 200;
	redis_parse_url(r, url);
	return r;
}

void
bw_redis_free(struct bw_redis *r)
{
	if (r == NULL)
		return;
	if (r->ctx != NULL)
		redisFree(r->ctx);
	free(r->host);
	free(r->password);
	free(r);
}

static void
redis_drop(struct bw_redis *r)
{
	if (r->ctx != NULL)
		redisFree(r->ctx);
	r->ctx = NULL;
	r->ok = 0;
	r->retry_at_us = bw_mono_us() + 1000000;
}

static int
redis_connect(struct bw_redis *r)
{
	struct timeval	 tv;
	redisReply	*rep;

	if (r->ctx != NULL)
		return BW_OK;
	if (bw_mono_us() < r->retry_at_us)
		return BW_ERROR;
	tv.tv_sec = r->timeout_ms / 1000;
	tv.tv_usec = (r->timeout_ms % 1000) * 1000;
	r->ctx = redisConnectWithTimeout(r->host, r->port, tv);
	if (r->ctx == NULL || r->ctx->err) {
		redis_drop(r);
		return BW_ERROR;
	}
	redisSetTimeout(r->ctx, tv);
	if (r->password != NULL) {
		rep = redisCommand(r->ctx, "AUTH %s", r->password);
		if (rep == NULL || rep->type == REDIS_REPLY_ERROR) {
			if (rep != NULL)
				freeReplyObject(rep);
			redis_drop(r);
			return BW_ERROR;
		}
		freeReplyObject(rep);
	}
	if (r->db != 0) {
		rep = redisCommand(r->ctx, "SELECT %d", r->db);
		if (rep == NULL || rep->type == REDIS_REPLY_ERROR) {
			if (rep != NULL)
				freeReplyObject(rep);
			redis_drop(r);
			return BW_ERROR;
		}
		freeReplyObject(rep);
	}
	return BW_OK;
}

redisReply *
bw_redis_cmd(struct bw_redis *r, const char *fmt, ...)
{
	va_list		 ap;
	redisReply	*rep;

	if (redis_connect(r) != BW_OK)
		return NULL;
	va_start(ap, fmt);
	rep = redisvCommand(r->ctx, fmt, ap);
	va_end(ap);
	if (rep == NULL) {
		redis_drop(r);
		return NULL;
	}
	if (rep->type == REDIS_REPLY_ERROR) {
		freeReplyObject(rep);
		r->ok = 1;
		return NULL;
	}
	r->ok = 1;
	return rep;
}

int
bw_redis_pipeline(struct bw_redis *r, int n, int *argc, const char ***argv,
    redisReply **replies)
{
	void	*rep;
	int	 i;

	for (i = 0; i < n; i++)
		replies[i] = NULL;
	if (redis_connect(r) != BW_OK)
		return BW_ERROR;
	for (i = 0; i < n; i++)
		redisAppendCommandArgv(r->ctx, argc[i], argv[i], NULL);
	for (i = 0; i < n; i++) {
		if (redisGetReply(r->ctx, &rep) != REDIS_OK) {
			while (--i >= 0) {
				freeReplyObject(replies[i]);
				replies[i] = NULL;
			}
			redis_drop(r);
			return BW_ERROR;
		}
		replies[i] = rep;
	}
	r->ok = 1;
	return BW_OK;
}

int
bw_redis_ok(const struct bw_redis *r)
{
	return r->ok;
}
