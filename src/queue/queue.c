/*
 * The Redis task queue: a stream per queue read through one consumer
 * group, a sorted set of delayed retries and a dead-letter stream
 * (docs/queue.md). Runs on Kore task threads and in `billow worker`, each
 * thread with its own struct bw_redis. Every step that moves a task
 * between keys is one Lua script, so a crash between steps can neither
 * lose nor duplicate it; payloads are opaque here (never logged).
 */
#include <ctype.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "core/core.h"
#include "queue/queue.h"

/* One group for every consumer: a task goes to exactly one of them. */
#define QUEUE_GROUP		"billow"
/* Due retries moved back to the stream per reserve. */
#define QUEUE_PROMOTE_MAX	"100"
/* "billow:q:" + name + ":delayed" + NUL, with room to spare. */
#define QUEUE_KEY_MAX		(BW_QUEUE_NAME_MAX + 32)
#define QUEUE_ARGV_MAX		16

struct queue_keys {
	char	stream[QUEUE_KEY_MAX];
	char	delayed[QUEUE_KEY_MAX];
	char	dead[QUEUE_KEY_MAX];
	char	stats[QUEUE_KEY_MAX];
};

struct queue_script {
	const char	*name;
	const char	*text;
	char		 sha[41];
};

/*
 * Shared Lua: KEYS are always stream, delayed, dead, stats. now_ms()
 * takes the injected clock (ARGV named by the caller) or Redis' TIME, so
 * every process agrees on due times whatever its own clock says.
 * bury() copies an entry's fields to the dead letter with a reason.
 */
#define QUEUE_LUA_COMMON						\
	"local function now_ms(arg)\n"					\
	"  local n = tonumber(arg)\n"					\
	"  if n ~= nil and n > 0 then return n end\n"			\
	"  local t = redis.call('TIME')\n"				\
	"  return tonumber(t[1]) * 1000 +\n"				\
	"    math.floor(tonumber(t[2]) / 1000)\n"			\
	"end\n"								\
	"local function bury(kv, reason, id)\n"				\
	"  local a = {'XADD', KEYS[3], '*'}\n"				\
	"  for i = 1, #kv do a[#a + 1] = kv[i] end\n"			\
	"  a[#a + 1] = 'reason'; a[#a + 1] = reason\n"			\
	"  a[#a + 1] = 'id'; a[#a + 1] = id\n"				\
	"  redis.call(unpack(a))\n"					\
	"end\n"								\
	"local function wellformed(f)\n"				\
	"  return type(f.type) == 'string' and\n"			\
	"    type(f.payload) == 'string' and\n"				\
	"    type(f.attempts) == 'string' and\n"			\
	"    string.match(f.attempts, '^%d%d?%d?%d?%d?%d?%d?%d?%d?$')\n" \
	"    ~= nil\n"							\
	"end\n"

/*
 * Before a read: create the group (from the start of the stream, so tasks
 * enqueued before any consumer existed are delivered), promote due
 * retries, and claim tasks idle for the visibility timeout. A task
 * delivered too often goes to the dead letter rather than back out.
 * ARGV: group, consumer, visibility_ms, now_ms, promote max, claim count,
 * max deliveries. Returns { promoted, claimed entries }.
 */
static struct queue_script queue_prepare = {
	.name = "prepare",
	.text = QUEUE_LUA_COMMON
	"local g = redis.pcall('XGROUP', 'CREATE', KEYS[1], ARGV[1], '0',\n"
	"  'MKSTREAM')\n"
	"if type(g) == 'table' and g.err ~= nil and\n"
	"  string.find(g.err, 'BUSYGROUP', 1, true) == nil then\n"
	"  return redis.error_reply(g.err)\n"
	"end\n"
	"local due = redis.call('ZRANGEBYSCORE', KEYS[2], '-inf',\n"
	"  now_ms(ARGV[4]), 'LIMIT', 0, tonumber(ARGV[5]))\n"
	"for _, m in ipairs(due) do\n"
	"  local ok, t = pcall(cjson.decode, m)\n"
	"  if ok and type(t) == 'table' and type(t.type) == 'string' and\n"
	"    type(t.payload) == 'string' and type(t.attempts) == 'number'\n"
	"    and t.attempts >= 0 and t.attempts < 1e9 then\n"
	"    local key = t.key\n"
	"    if type(key) ~= 'string' then key = '' end\n"
	"    redis.call('XADD', KEYS[1], '*', 'type', t.type, 'payload',\n"
	"      t.payload, 'attempts', string.format('%d', t.attempts),\n"
	"      'key', key)\n"
	"  else\n"
	"    bury({'member', m}, 'malformed', '')\n"
	"  end\n"
	"  redis.call('ZREM', KEYS[2], m)\n"
	"end\n"
	"local r = redis.call('XAUTOCLAIM', KEYS[1], ARGV[1], ARGV[2],\n"
	"  ARGV[3], '0-0', 'COUNT', ARGV[6])\n"
	"local out = {}\n"
	"local max = tonumber(ARGV[7])\n"
	"for _, e in ipairs(r[2]) do\n"
	"  local p = redis.call('XPENDING', KEYS[1], ARGV[1], e[1], e[1], 1)\n"
	"  if p[1] ~= nil and p[1][4] > max then\n"
	"    redis.call('XACK', KEYS[1], ARGV[1], e[1])\n"
	"    bury(e[2] or {}, 'redelivered', e[1])\n"
	"    redis.call('XDEL', KEYS[1], e[1])\n"
	"  else\n"
	"    out[#out + 1] = e\n"
	"  end\n"
	"end\n"
	"if #r[2] > 0 then\n"
	"  redis.call('HINCRBY', KEYS[4], 'reclaimed', #r[2])\n"
	"end\n"
	"return {#due, out}\n"
};

/* Done: XACK + XDEL together. ARGV: group, id. */
static struct queue_script queue_ackscript = {
	.name = "ack",
	.text =
	"local n = redis.call('XACK', KEYS[1], ARGV[1], ARGV[2])\n"
	"redis.call('XDEL', KEYS[1], ARGV[2])\n"
	"return n\n"
};

/*
 * Failed: the entry is read back from the stream (attempts as Redis holds
 * them, not as the caller remembers), counted, then delayed or buried,
 * and removed — all or nothing. A task no longer pending (acked, failed
 * or buried already) is left alone, so a late or repeated fail never
 * resurrects it. ARGV: group, id, max_attempts, delay_ms, reason, now_ms.
 * Returns 0 not pending, 1 delayed, 2 dead, 3 malformed.
 */
static struct queue_script queue_failscript = {
	.name = "fail",
	.text = QUEUE_LUA_COMMON
	"if redis.call('XACK', KEYS[1], ARGV[1], ARGV[2]) == 0 then\n"
	"  return 0\n"
	"end\n"
	"local e = redis.call('XRANGE', KEYS[1], ARGV[2], ARGV[2])\n"
	"redis.call('XDEL', KEYS[1], ARGV[2])\n"
	"if #e == 0 then return 0 end\n"
	"local kv = e[1][2]\n"
	"local f = {}\n"
	"for i = 1, #kv - 1, 2 do f[kv[i]] = kv[i + 1] end\n"
	"if not wellformed(f) then\n"
	"  bury(kv, 'malformed', ARGV[2])\n"
	"  return 3\n"
	"end\n"
	"local att = tonumber(f.attempts) + 1\n"
	"local key = f.key or ''\n"
	"if att >= tonumber(ARGV[3]) then\n"
	"  bury({'type', f.type, 'payload', f.payload, 'attempts',\n"
	"    string.format('%d', att), 'key', key}, ARGV[5], ARGV[2])\n"
	"  return 2\n"
	"end\n"
	/* The original id keeps two equal tasks two members of the set. */
	"redis.call('ZADD', KEYS[2], now_ms(ARGV[6]) + tonumber(ARGV[4]),\n"
	"  cjson.encode({id = ARGV[2], type = f.type, payload = f.payload,\n"
	"  attempts = att, key = key}))\n"
	"redis.call('HINCRBY', KEYS[4], 'retried', 1)\n"
	"return 1\n"
};

static struct queue_script *const queue_scripts[] = {
	&queue_prepare, &queue_ackscript, &queue_failscript
};

static pthread_once_t	  queue_once = PTHREAD_ONCE_INIT;
static int64_t		(*queue_clock)(void);

/* EVALSHA needs each script's SHA-1, fixed by its text. */
static void
queue_init(void)
{
	unsigned char	md[EVP_MAX_MD_SIZE];
	unsigned int	mdlen, i;
	size_t		s;

	for (s = 0; s < BW_NELEM(queue_scripts); s++) {
		if (EVP_Digest(queue_scripts[s]->text,
		    strlen(queue_scripts[s]->text), md, &mdlen, EVP_sha1(),
		    NULL) != 1 || mdlen != 20)
			abort();
		for (i = 0; i < mdlen; i++)
			snprintf(queue_scripts[s]->sha + 2 * i, 3, "%02x",
			    md[i]);
	}
}

void
bw_queue_set_clock(int64_t (*now_ms)(void))
{
	queue_clock = now_ms;
}

/* The clock argument of a script: "0" means Redis' TIME. */
static void
queue_now_arg(char *buf, size_t len)
{
	snprintf(buf, len, "%lld",
	    queue_clock != NULL ? (long long)queue_clock() : 0LL);
}

static int
queue_keys(const char *queue, struct queue_keys *k)
{
	size_t	i, len;

	if (queue == NULL || (len = strlen(queue)) == 0 ||
	    len > BW_QUEUE_NAME_MAX)
		return BW_ERROR;
	for (i = 0; i < len; i++)
		if (!isalnum((unsigned char)queue[i]) && queue[i] != '_' &&
		    queue[i] != '-' && queue[i] != '.')
			return BW_ERROR;
	snprintf(k->stream, sizeof(k->stream), "billow:q:%s", queue);
	snprintf(k->delayed, sizeof(k->delayed), "billow:q:%s:delayed", queue);
	snprintf(k->dead, sizeof(k->dead), "billow:q:%s:dead", queue);
	snprintf(k->stats, sizeof(k->stats), "billow:q:%s:stats", queue);
	return BW_OK;
}

/*
 * One command through bw_redis_pipeline, which (unlike bw_redis_cmd)
 * hands back error replies: NOSCRIPT must be told from Redis being away.
 * Returns the reply, error replies included, or NULL when Redis is down.
 */
static redisReply *
queue_call(struct bw_redis *r, int argc, const char **argv)
{
	redisReply	*rep;

	if (bw_redis_pipeline(r, 1, &argc, &argv, &rep) != BW_OK)
		return NULL;
	return rep;
}

/*
 * Runs script S over the queue's four keys with ARGS. Returns the reply,
 * or NULL when Redis is down or the script failed (logged: that is a bug
 * or a foreign value in our keys, never a normal condition).
 */
static redisReply *
queue_eval(struct bw_redis *r, struct queue_script *s,
    const struct queue_keys *k, int nargs, const char **args)
{
	const char	*argv[QUEUE_ARGV_MAX];
	redisReply	*rep;
	int		 argc, i;

	pthread_once(&queue_once, queue_init);
	argc = 0;
	argv[argc++] = "EVALSHA";
	argv[argc++] = s->sha;
	argv[argc++] = "4";
	argv[argc++] = k->stream;
	argv[argc++] = k->delayed;
	argv[argc++] = k->dead;
	argv[argc++] = k->stats;
	for (i = 0; i < nargs && argc < QUEUE_ARGV_MAX; i++)
		argv[argc++] = args[i];
	if ((rep = queue_call(r, argc, argv)) == NULL)
		return NULL;
	/* First use on this server (or after a restart): send the text. */
	if (rep->type == REDIS_REPLY_ERROR &&
	    strncmp(rep->str, "NOSCRIPT", 8) == 0) {
		freeReplyObject(rep);
		argv[0] = "EVAL";
		argv[1] = s->text;
		if ((rep = queue_call(r, argc, argv)) == NULL)
			return NULL;
	}
	if (rep->type == REDIS_REPLY_ERROR) {
		bw_log(BW_LOG_ERROR, "queue %s script on %s: %s", s->name,
		    k->stream, rep->str);
		freeReplyObject(rep);
		return NULL;
	}
	return rep;
}

int
bw_queue_enqueue(struct bw_redis *r, const char *queue, const char *type,
    const char *payload, const char *key, char *id_out)
{
	struct queue_keys	 k;
	const char		*argv[11];
	redisReply		*rep;
	int			 rc = BW_ERROR;

	if (id_out != NULL)
		id_out[0] = '\0';
	if (queue_keys(queue, &k) != BW_OK || type == NULL || *type == '\0' ||
	    payload == NULL)
		return BW_ERROR;
	argv[0] = "XADD";
	argv[1] = k.stream;
	argv[2] = "*";
	argv[3] = "type";
	argv[4] = type;
	argv[5] = "payload";
	argv[6] = payload;
	argv[7] = "attempts";
	argv[8] = "0";
	argv[9] = "key";
	argv[10] = key != NULL ? key : "";
	if ((rep = queue_call(r, 11, argv)) == NULL)
		return BW_ERROR;
	if (rep->type == REDIS_REPLY_STRING && rep->len < BW_QUEUE_ID_MAX) {
		if (id_out != NULL)
			memcpy(id_out, rep->str, rep->len + 1);
		rc = BW_OK;
	} else if (rep->type == REDIS_REPLY_ERROR) {
		bw_log(BW_LOG_ERROR, "queue enqueue on %s: %s", k.stream,
		    rep->str);
	}
	freeReplyObject(rep);
	return rc;
}

static const redisReply *
queue_field(const redisReply *kv, const char *name)
{
	size_t	i;

	for (i = 0; i + 1 < kv->elements; i += 2)
		if (kv->element[i]->type == REDIS_REPLY_STRING &&
		    strcmp(kv->element[i]->str, name) == 0 &&
		    kv->element[i + 1]->type == REDIS_REPLY_STRING)
			return kv->element[i + 1];
	return NULL;
}

/* The same rule as wellformed() in the scripts: 1 to 9 digits. */
static int
queue_attempts(const redisReply *v, int *out)
{
	size_t	i;

	if (v == NULL || v->len == 0 || v->len > 9)
		return BW_ERROR;
	for (i = 0; i < v->len; i++)
		if (!isdigit((unsigned char)v->str[i]))
			return BW_ERROR;
	*out = atoi(v->str);
	return BW_OK;
}

/*
 * Entry E ({id, {field, value, ...}}) into T. Returns BW_OK, or BW_ERROR
 * for an entry that is not a task; ID is set whenever the entry had one.
 */
static int
queue_entry(const redisReply *e, struct bw_queue_task *t, char *id)
{
	const redisReply	*kv, *type, *payload, *key;
	int			 attempts;

	id[0] = '\0';
	if (e->type != REDIS_REPLY_ARRAY || e->elements != 2 ||
	    e->element[0]->type != REDIS_REPLY_STRING ||
	    e->element[0]->len >= BW_QUEUE_ID_MAX)
		return BW_ERROR;
	memcpy(id, e->element[0]->str, e->element[0]->len + 1);
	kv = e->element[1];
	if (kv->type != REDIS_REPLY_ARRAY)
		return BW_ERROR;
	type = queue_field(kv, "type");
	payload = queue_field(kv, "payload");
	key = queue_field(kv, "key");
	if (type == NULL || payload == NULL ||
	    queue_attempts(queue_field(kv, "attempts"), &attempts) != BW_OK)
		return BW_ERROR;
	memcpy(t->id, id, strlen(id) + 1);
	t->type = bw_strndup(type->str, type->len);
	t->payload = bw_strndup(payload->str, payload->len);
	t->key = key != NULL ? bw_strndup(key->str, key->len) : bw_strdup("");
	t->attempts = attempts;
	return BW_OK;
}

/* An entry that is not a task can never succeed: straight to the dead. */
static void
queue_bury(struct bw_redis *r, const struct queue_keys *k, const char *id)
{
	const char	*args[6];
	char		 now[32];
	redisReply	*rep;

	queue_now_arg(now, sizeof(now));
	args[0] = QUEUE_GROUP;
	args[1] = id;
	args[2] = "0";
	args[3] = "0";
	args[4] = "malformed";
	args[5] = now;
	if ((rep = queue_eval(r, &queue_failscript, k, 6, args)) != NULL)
		freeReplyObject(rep);
	bw_log(BW_LOG_WARN, "queue %s: malformed entry %s dead-lettered",
	    k->stream, id);
}

/* Appends the tasks among ENTRIES to TASKS, burying malformed entries. */
static void
queue_take(struct bw_redis *r, const struct queue_keys *k,
    const redisReply *entries, struct bw_queue_task *tasks, int count, int *n)
{
	char	id[BW_QUEUE_ID_MAX];
	size_t	i;

	if (entries->type != REDIS_REPLY_ARRAY)
		return;
	for (i = 0; i < entries->elements && *n < count; i++) {
		memset(&tasks[*n], 0, sizeof(tasks[*n]));
		if (queue_entry(entries->element[i], &tasks[*n], id) == BW_OK)
			(*n)++;
		else if (id[0] != '\0')
			queue_bury(r, k, id);
	}
}

int
bw_queue_reserve(struct bw_redis *r, const char *queue, const char *consumer,
    int visibility_ms, int block_ms, struct bw_queue_task *tasks, int count,
    int *n)
{
	struct queue_keys	 k;
	const char		*args[7], *argv[12];
	char			 vis[16], now[32], cnt[16], blk[16], maxd[16];
	redisReply		*rep;
	const redisReply	*s;
	int			 argc, want;
	size_t			 i;

	*n = 0;
	if (queue_keys(queue, &k) != BW_OK || consumer == NULL ||
	    *consumer == '\0' || count < 1 || visibility_ms < 1)
		return BW_ERROR;
	snprintf(vis, sizeof(vis), "%d", visibility_ms);
	snprintf(cnt, sizeof(cnt), "%d", count);
	snprintf(maxd, sizeof(maxd), "%d", BW_QUEUE_MAX_DELIVERIES);
	queue_now_arg(now, sizeof(now));
	args[0] = QUEUE_GROUP;
	args[1] = consumer;
	args[2] = vis;
	args[3] = now;
	args[4] = QUEUE_PROMOTE_MAX;
	args[5] = cnt;
	args[6] = maxd;
	if ((rep = queue_eval(r, &queue_prepare, &k, 7, args)) == NULL)
		return BW_ERROR;
	if (rep->type == REDIS_REPLY_ARRAY && rep->elements == 2)
		queue_take(r, &k, rep->element[1], tasks, count, n);
	freeReplyObject(rep);
	if (*n == count)
		return BW_OK;

	/* Wait for new tasks only when there was nothing to reclaim. */
	want = count - *n;
	snprintf(cnt, sizeof(cnt), "%d", want);
	argc = 0;
	argv[argc++] = "XREADGROUP";
	argv[argc++] = "GROUP";
	argv[argc++] = QUEUE_GROUP;
	argv[argc++] = consumer;
	argv[argc++] = "COUNT";
	argv[argc++] = cnt;
	if (*n == 0 && block_ms > 0) {
		snprintf(blk, sizeof(blk), "%d", block_ms <
		    BW_QUEUE_BLOCK_MAX_MS ? block_ms : BW_QUEUE_BLOCK_MAX_MS);
		argv[argc++] = "BLOCK";
		argv[argc++] = blk;
	}
	argv[argc++] = "STREAMS";
	argv[argc++] = k.stream;
	argv[argc++] = ">";
	if ((rep = queue_call(r, argc, argv)) == NULL)
		/* Reclaimed tasks are ours already: hand them out. */
		return *n > 0 ? BW_OK : BW_ERROR;
	if (rep->type == REDIS_REPLY_ERROR) {
		bw_log(BW_LOG_ERROR, "queue read on %s: %s", k.stream,
		    rep->str);
		freeReplyObject(rep);
		return *n > 0 ? BW_OK : BW_ERROR;
	}
	/* Nil when BLOCK ran out; else {{stream, {entry, ...}}}. */
	if (rep->type == REDIS_REPLY_ARRAY) {
		for (i = 0; i < rep->elements; i++) {
			s = rep->element[i];
			if (s->type == REDIS_REPLY_ARRAY && s->elements == 2)
				queue_take(r, &k, s->element[1], tasks, count,
				    n);
		}
	}
	freeReplyObject(rep);
	return BW_OK;
}

int
bw_queue_ack(struct bw_redis *r, const char *queue,
    const struct bw_queue_task *task)
{
	struct queue_keys	 k;
	const char		*args[2];
	redisReply		*rep;

	if (queue_keys(queue, &k) != BW_OK || task == NULL ||
	    task->id[0] == '\0')
		return BW_ERROR;
	args[0] = QUEUE_GROUP;
	args[1] = task->id;
	if ((rep = queue_eval(r, &queue_ackscript, &k, 2, args)) == NULL)
		return BW_ERROR;
	freeReplyObject(rep);
	return BW_OK;
}

int
bw_queue_fail(struct bw_redis *r, const char *queue,
    const struct bw_queue_task *task, int max_attempts, int delay_ms,
    const char *reason)
{
	struct queue_keys	 k;
	const char		*args[6];
	char			 maxa[16], delay[16], now[32];
	redisReply		*rep;

	if (queue_keys(queue, &k) != BW_OK || task == NULL ||
	    task->id[0] == '\0')
		return BW_ERROR;
	snprintf(maxa, sizeof(maxa), "%d", max_attempts);
	snprintf(delay, sizeof(delay), "%d", delay_ms > 0 ? delay_ms : 0);
	queue_now_arg(now, sizeof(now));
	args[0] = QUEUE_GROUP;
	args[1] = task->id;
	args[2] = maxa;
	args[3] = delay;
	args[4] = reason != NULL && *reason != '\0' ? reason : "failed";
	args[5] = now;
	if ((rep = queue_eval(r, &queue_failscript, &k, 6, args)) == NULL)
		return BW_ERROR;
	freeReplyObject(rep);
	return BW_OK;
}

static int64_t
queue_int(const redisReply *rep)
{
	if (rep == NULL)
		return 0;
	if (rep->type == REDIS_REPLY_INTEGER)
		return rep->integer;
	if (rep->type == REDIS_REPLY_STRING)
		return strtoll(rep->str, NULL, 10);
	return 0;
}

int
bw_queue_stats(struct bw_redis *r, const char *queue,
    struct bw_queue_stats *st)
{
	struct queue_keys	 k;
	const char		*a0[2], *a1[3], *a2[2], *a3[2], *a4[4];
	const char		**argv[5];
	int			 argc[5] = { 2, 3, 2, 2, 4 };
	redisReply		*rep[5];
	int			 i;

	memset(st, 0, sizeof(*st));
	if (queue_keys(queue, &k) != BW_OK)
		return BW_ERROR;
	a0[0] = "XLEN";
	a0[1] = k.stream;
	a1[0] = "XPENDING";
	a1[1] = k.stream;
	a1[2] = QUEUE_GROUP;
	a2[0] = "ZCARD";
	a2[1] = k.delayed;
	a3[0] = "XLEN";
	a3[1] = k.dead;
	a4[0] = "HMGET";
	a4[1] = k.stats;
	a4[2] = "reclaimed";
	a4[3] = "retried";
	argv[0] = a0;
	argv[1] = a1;
	argv[2] = a2;
	argv[3] = a3;
	argv[4] = a4;
	if (bw_redis_pipeline(r, 5, argc, argv, rep) != BW_OK)
		return BW_ERROR;
	st->depth = queue_int(rep[0]);
	/* {count, min id, max id, consumers}; NOGROUP before first reserve. */
	if (rep[1]->type == REDIS_REPLY_ARRAY && rep[1]->elements >= 1)
		st->pending = queue_int(rep[1]->element[0]);
	st->delayed = queue_int(rep[2]);
	st->dead = queue_int(rep[3]);
	if (rep[4]->type == REDIS_REPLY_ARRAY && rep[4]->elements == 2) {
		st->reclaimed = queue_int(rep[4]->element[0]);
		st->retried = queue_int(rep[4]->element[1]);
	}
	for (i = 0; i < 5; i++)
		freeReplyObject(rep[i]);
	return BW_OK;
}

void
bw_queue_task_clear(struct bw_queue_task *t)
{
	free(t->type);
	free(t->payload);
	free(t->key);
	memset(t, 0, sizeof(*t));
}
