/*
 * The outbox relay and the queue consumers of `billow worker` (DESIGN.md
 * "Events, queue, retries"; docs/queue.md).
 *
 * The relay claims the oldest unrelayed events and plugin tasks (FOR
 * UPDATE SKIP LOCKED, so several workers share them), adds each to its
 * Redis queue and marks them relayed in the same transaction, only after
 * Redis accepted all of them: an event is either still in the outbox or
 * in the queue. A crash between the XADD and the commit relays it again;
 * consumers are at-least-once anyway.
 *
 * The consumers take events and tasks from the queues and run each in its
 * own transaction in its tenant and mode: an event fires the
 * event.relayed hook, a task its plugin's handler. Success acks it; a
 * failure rolls back and retries after a backoff, then dead-letters.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "core/core.h"
#include "db/db.h"
#include "plugin/plugin.h"
#include "queue/queue.h"
#include "server/http.h"
#include "worker/worker.h"

#define RELAY_EVENTS		"events"
#define RELAY_TASKS		"tasks"

/*
 * A consumer that holds an item this long without an answer is dead and
 * the item goes to another (DESIGN.md "Faults": deliveries resume within
 * 30 s). A consumer therefore takes at most RELAY_TASKS_AT_ONCE tasks at
 * a time: two webhook deliveries of 10 s each fit well inside it.
 */
#define RELAY_VISIBILITY_MS	25000
#define RELAY_TASKS_AT_ONCE	2
/* Failed runs before the dead letter; a task's own retries count too. */
#define RELAY_EVENT_ATTEMPTS	8
#define RELAY_TASK_ATTEMPTS	8
#define RELAY_TASK_RETRIES_MAX	100
#define RELAY_BACKOFF_MS	1000
#define RELAY_BACKOFF_MAX_MS	(15 * 60 * 1000)

#define SQL_CLAIM \
	"SELECT kind, tenant_id, livemode, id, type, payload FROM " \
	"billow_outbox_claim($1::int)"

#define SQL_MARK \
	"SELECT billow_outbox_mark($1::text[], $2::text[], $3::text[], " \
	"$4::text[])"

#define SQL_EVENT_DATA \
	"SELECT type, data::text AS data FROM events WHERE id = $1"

/* "{a,b}" of the column values of ROWS; IDs is freed by the caller. */
static void
relay_array(struct bw_buf *b, PGresult *res, const int *rows, int n,
    const char *col)
{
	int	i;

	bw_buf_append(b, "{", 1);
	for (i = 0; i < n; i++) {
		if (i > 0)
			bw_buf_append(b, ",", 1);
		/* Ids and tenant ids are [a-z0-9_]: no quoting needed. */
		bw_buf_appends(b, bw_db_val(res, rows[i], col));
	}
	bw_buf_append(b, "}", 1);
}

int
bw_relay_pass(struct bw_db *db, struct bw_redis *redis, int limit)
{
	struct bw_buf	 arr[4];
	const char	*p[4];
	char		 lim[16], qid[BW_QUEUE_ID_MAX];
	PGresult	*res, *mark;
	json_t		*j;
	char		*payload;
	int		*ev, *tk, nev = 0, ntk = 0, i, n, rc = 0;

	if (bw_db_begin(db, NULL, 0) != BW_OK)
		return -1;
	snprintf(lim, sizeof(lim), "%d", limit);
	p[0] = lim;
	if ((res = bw_db_query(db, SQL_CLAIM, 1, p)) == NULL) {
		bw_db_rollback(db);
		return -1;
	}
	n = PQntuples(res);
	if (n == 0) {
		PQclear(res);
		bw_db_rollback(db);
		return 0;
	}
	ev = calloc((size_t)n, sizeof(*ev));
	tk = calloc((size_t)n, sizeof(*tk));
	if (ev == NULL || tk == NULL)
		goto fail;
	for (i = 0; i < n; i++) {
		int	 event = strcmp(bw_db_val(res, i, "kind"), "event") == 0;

		/*
		 * What a consumer needs to run it in the right tenant; the
		 * event's data stays in PostgreSQL, read when it runs.
		 */
		j = json_pack("{s:s, s:b, s:s, s:s}", "tenant_id",
		    bw_db_val(res, i, "tenant_id"), "livemode",
		    strcmp(bw_db_val(res, i, "livemode"), "t") == 0, "id",
		    bw_db_val(res, i, "id"), "type", bw_db_val(res, i, "type"));
		if (j == NULL)
			goto fail;
		if (!event)
			json_object_set_new(j, "payload", json_string(
			    bw_db_val(res, i, "payload")));
		payload = json_dumps(j, JSON_COMPACT);
		json_decref(j);
		if (payload == NULL)
			goto fail;
		rc = bw_queue_enqueue(redis, event ? RELAY_EVENTS : RELAY_TASKS,
		    bw_db_val(res, i, "type"), payload, bw_db_val(res, i, "id"),
		    qid);
		free(payload);
		if (rc != BW_OK)
			goto fail;	/* Redis away: they wait in the outbox */
		if (event)
			ev[nev++] = i;
		else
			tk[ntk++] = i;
	}
	for (i = 0; i < 4; i++)
		bw_buf_init(&arr[i]);
	relay_array(&arr[0], res, ev, nev, "tenant_id");
	relay_array(&arr[1], res, ev, nev, "id");
	relay_array(&arr[2], res, tk, ntk, "tenant_id");
	relay_array(&arr[3], res, tk, ntk, "id");
	for (i = 0; i < 4; i++)
		p[i] = arr[i].data;
	mark = bw_db_query_commit(db, SQL_MARK, 4, p);
	for (i = 0; i < 4; i++)
		bw_buf_free(&arr[i]);
	free(ev);
	free(tk);
	PQclear(res);
	if (mark == NULL) {
		bw_db_rollback(db);
		return -1;
	}
	PQclear(mark);
	return n;
fail:
	free(ev);
	free(tk);
	PQclear(res);
	bw_db_rollback(db);
	return -1;
}

/* Backoff of a failed run: 1 s, 2 s, 4 s ... up to 15 minutes. */
static int
relay_backoff(int attempts)
{
	int64_t	ms = RELAY_BACKOFF_MS;

	while (attempts-- > 0 && ms < RELAY_BACKOFF_MAX_MS)
		ms *= 2;
	return (int)(ms < RELAY_BACKOFF_MAX_MS ? ms : RELAY_BACKOFF_MAX_MS);
}

/*
 * Runs one reserved event or task in its tenant's transaction. BW_OK
 * (done: ack), BW_DECLINED (the task asked to run again after
 * req->task_retry_ms, its writes committed), BW_ERROR (rolled back).
 */
static int
relay_run(struct bw_db *db, struct bw_redis *redis, int event,
    const struct bw_queue_task *t, int64_t *retry_ms, char *why,
    size_t whylen)
{
	struct billow_event_ctx	 ctx;
	struct bw_req		 req;
	billow_task_fn		 fn = NULL;
	json_t			*j;
	const char		*tenant, *id, *p[1];
	char			 who[64];
	PGresult		*res = NULL;
	int			 rc = BW_ERROR;

	*retry_ms = -1;
	snprintf(why, whylen, "failed");
	if ((j = json_loads(t->payload, 0, NULL)) == NULL ||
	    (tenant = json_string_value(json_object_get(j, "tenant_id"))) ==
	    NULL || (id = json_string_value(json_object_get(j, "id"))) ==
	    NULL || !json_is_boolean(json_object_get(j, "livemode"))) {
		json_decref(j);
		snprintf(why, whylen, "malformed");
		return BW_ERROR;
	}
	/* No plugin listens: the event is done without a transaction. */
	if (event && !bw_hook_has(BILLOW_HOOK_EVENT_RELAYED)) {
		json_decref(j);
		return BW_OK;
	}
	if (!event && (fn = bw_plugin_task(t->type)) == NULL) {
		json_decref(j);
		snprintf(why, whylen, "no handler for task type %.40s",
		    t->type);
		return BW_ERROR;
	}
	bw_req_init(&req);
	req.db = db;
	req.redis = redis;
	snprintf(req.who.tenant_id, sizeof(req.who.tenant_id), "%s", tenant);
	req.who.livemode = json_is_true(json_object_get(j, "livemode"));
	snprintf(req.request_id, sizeof(req.request_id), "%s", id);
	req.path = bw_arena_strdup(&req.arena, "");
	req.task_attempt = t->attempts + 1;
	if (bw_db_begin(db, tenant, req.who.livemode) != BW_OK)
		goto done;
	if (event) {
		p[0] = id;
		if ((res = bw_db_query(db, SQL_EVENT_DATA, 1, p)) == NULL)
			goto done;
		if (PQntuples(res) != 1) {
			/* Not visible: never committed. Nothing to run. */
			rc = BW_OK;
			goto done;
		}
		memset(&ctx, 0, sizeof(ctx));
		ctx.req = (struct billow_req *)&req;
		ctx.tenant_id = tenant;
		ctx.livemode = req.who.livemode;
		ctx.event_id = id;
		ctx.type = bw_db_val(res, 0, "type");
		ctx.data_json = bw_db_val(res, 0, "data");
		rc = bw_hook_action(BILLOW_HOOK_EVENT_RELAYED, &ctx, who,
		    sizeof(who));
		if (rc != BW_OK)
			snprintf(why, whylen, "event.relayed handler of "
			    "plugin %s failed", who);
	} else {
		rc = fn((struct billow_req *)&req, json_string_value(
		    json_object_get(j, "payload")) != NULL ?
		    json_string_value(json_object_get(j, "payload")) : "{}");
		if (rc == BILLOW_DECLINED && req.task_retry_ms >= 0)
			*retry_ms = req.task_retry_ms;
		else if (rc == BILLOW_DECLINED)
			rc = BW_OK;	/* declined without a retry: done */
		else if (rc != BW_OK)
			snprintf(why, whylen, "task handler failed");
	}
	if (rc == BW_ERROR || req.failed) {
		if (req.failed)
			snprintf(why, whylen, "%.200s", req.err.message);
		rc = BW_ERROR;
	} else if (bw_db_commit(db) != BW_OK) {
		snprintf(why, whylen, "commit failed");
		rc = BW_ERROR;
	} else if (*retry_ms >= 0)
		rc = BW_DECLINED;
done:
	if (rc == BW_ERROR || (rc == BW_OK && bw_db_in_tx(db)))
		bw_db_rollback(db);
	PQclear(res);
	bw_req_free(&req);
	json_decref(j);
	return rc;
}

/* Runs and settles the N reserved items of queue Q. */
static void
relay_settle(struct bw_db *db, struct bw_redis *redis, const char *q,
    int event, struct bw_queue_task *tasks, int n)
{
	char	 why[256];
	int64_t	 retry_ms;
	int	 i, rc;

	for (i = 0; i < n; i++) {
		rc = relay_run(db, redis, event, &tasks[i], &retry_ms, why,
		    sizeof(why));
		if (rc == BW_OK)
			bw_queue_ack(redis, q, &tasks[i]);
		else if (rc == BW_DECLINED)
			bw_queue_fail(redis, q, &tasks[i],
			    RELAY_TASK_RETRIES_MAX, (int)retry_ms,
			    "retry requested");
		else {
			bw_log(BW_LOG_ERROR, "%s %s (run %d): %s", event ?
			    "event" : "task", tasks[i].type,
			    tasks[i].attempts + 1, why);
			bw_queue_fail(redis, q, &tasks[i], event ?
			    RELAY_EVENT_ATTEMPTS : RELAY_TASK_ATTEMPTS,
			    relay_backoff(tasks[i].attempts), why);
		}
		bw_queue_task_clear(&tasks[i]);
	}
}

int
bw_consume_pass(struct bw_db *db, struct bw_redis *redis,
    const char *consumer, int max)
{
	struct bw_queue_task	 tasks[64];
	int			 n, total;

	if (max > (int)BW_NELEM(tasks))
		max = (int)BW_NELEM(tasks);
	if (bw_queue_reserve(redis, RELAY_EVENTS, consumer,
	    RELAY_VISIBILITY_MS, 0, tasks, max, &n) != BW_OK)
		return -1;
	relay_settle(db, redis, RELAY_EVENTS, 1, tasks, n);
	total = n;
	/*
	 * Tasks a few at a time, each handful inside the visibility
	 * timeout, until MAX ran or the queue has none ready.
	 */
	do {
		if (bw_queue_reserve(redis, RELAY_TASKS, consumer,
		    RELAY_VISIBILITY_MS, 0, tasks, RELAY_TASKS_AT_ONCE, &n) !=
		    BW_OK)
			return -1;
		relay_settle(db, redis, RELAY_TASKS, 0, tasks, n);
		total += n;
	} while (n == RELAY_TASKS_AT_ONCE && total < 2 * max);
	return total;
}
