/*
 * The Redis task queue (docs/queue.md): one stream per queue read through
 * one consumer group, a sorted set of delayed retries and a dead-letter
 * stream. Used from Kore task threads and `billow worker`, each thread with
 * its own struct bw_redis, so every call is bounded by that context's
 * timeout (at most 200 ms, DESIGN.md "Faults").
 */
#ifndef BW_QUEUE_H
#define BW_QUEUE_H

#include <stdint.h>

#include "db/redis.h"

/* Stream entry ids ("1700000000000-0") fit with room to spare. */
#define BW_QUEUE_ID_MAX		48
/* Queue names: 1..64 of [A-Za-z0-9_.-], so key names stay predictable. */
#define BW_QUEUE_NAME_MAX	64
/*
 * The longest XREADGROUP block. Redis ends a block only on its next cron
 * tick (every 100 ms at the default hz 10: BLOCK 10 measured 91-95 ms,
 * BLOCK 100 193-195 ms), so a block of B ms may last B + 100 ms. Capped
 * so that stays well under the 200 ms command timeout and an idle queue
 * is never taken for a frozen Redis (which drops the connection for a
 * second). A new task wakes a blocked reader at once whatever the cap;
 * longer waits are a loop of reserves.
 */
#define BW_QUEUE_BLOCK_MAX_MS	50
/*
 * A task reclaimed this many times without an ack or a fail has crashed
 * (or outlived) every consumer that took it: it goes to the dead letter
 * with reason "redelivered" instead of killing consumers for ever.
 */
#define BW_QUEUE_MAX_DELIVERIES	10

/*
 * One reserved task. The strings are malloc'd by bw_queue_reserve and
 * freed by bw_queue_task_clear; TYPE and PAYLOAD are never NULL, KEY is ""
 * when the task has none.
 */
struct bw_queue_task {
	char	 id[BW_QUEUE_ID_MAX];	/* stream entry id: ack/fail by it */
	char	*type;
	char	*payload;		/* JSON text, as enqueued */
	char	*key;			/* idempotency key of the task */
	int	 attempts;		/* failed runs so far */
};

struct bw_queue_stats {
	int64_t	depth;		/* XLEN: waiting and in-flight tasks */
	int64_t	pending;	/* reserved, not yet acked or failed */
	int64_t	delayed;	/* retries waiting for their due time */
	int64_t	dead;		/* dead letters kept for inspection */
	int64_t	reclaimed;	/* tasks taken back from silent consumers */
	int64_t	retried;	/* fails that scheduled a retry */
};

/*
 * Appends a task to QUEUE with attempts 0. KEY (may be NULL) is the
 * task's idempotency key: the queue delivers at least once, handlers use
 * the key to make a second delivery harmless. ID_OUT (BW_QUEUE_ID_MAX
 * bytes, may be NULL) receives the entry id. Returns BW_OK or BW_ERROR.
 */
int	bw_queue_enqueue(struct bw_redis *, const char *queue, const char *type,
	    const char *payload, const char *key, char *id_out);

/*
 * Reserves up to COUNT tasks for CONSUMER into TASKS and sets *N. First
 * moves due delayed retries back to the stream and reclaims tasks other
 * consumers left idle for VISIBILITY_MS or more, then reads new ones,
 * waiting up to BLOCK_MS (capped at BW_QUEUE_BLOCK_MAX_MS; 0 = no wait)
 * when there is nothing to reclaim. Creates the consumer group on first
 * use. Malformed entries go to the dead letter and are not returned.
 * Returns BW_OK (possibly with *N = 0) or BW_ERROR (Redis down or slow;
 * *N = 0). The caller clears each returned task.
 */
int	bw_queue_reserve(struct bw_redis *, const char *queue,
	    const char *consumer, int visibility_ms, int block_ms,
	    struct bw_queue_task *tasks, int count, int *n);

/*
 * Done with TASK: removes it from the group's pending list and from the
 * stream, atomically. Acking a task already acked is harmless.
 */
int	bw_queue_ack(struct bw_redis *, const char *queue,
	    const struct bw_queue_task *task);

/*
 * TASK failed: counts the attempt and, in one atomic step, either delays
 * a retry by DELAY_MS or, once attempts reach MAX_ATTEMPTS, moves it to
 * the dead letter with REASON. Does nothing (BW_OK) when the task is no
 * longer pending: another consumer reclaimed and finished it.
 */
int	bw_queue_fail(struct bw_redis *, const char *queue,
	    const struct bw_queue_task *task, int max_attempts, int delay_ms,
	    const char *reason);

/* Queue sizes and counters for /metrics. */
int	bw_queue_stats(struct bw_redis *, const char *queue,
	    struct bw_queue_stats *);

void	bw_queue_task_clear(struct bw_queue_task *);

/*
 * Tests only: replaces Redis' clock (TIME) for due times of retries, so a
 * test can move time instead of sleeping. NULL restores Redis' clock.
 * Visibility timeouts always follow Redis' own clock.
 */
void	bw_queue_set_clock(int64_t (*now_ms)(void));

#endif
