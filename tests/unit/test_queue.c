/*
 * Unit tests for src/queue/queue.c against the real Redis named by
 * REDIS_URL (scripts/test.sh exports it; without it every test fails and
 * says so). Each test uses its own queue name and deletes its keys, so
 * runs never see each other's tasks. Waits poll a condition, bounded by a
 * deadline; retry delays run on an injected clock instead of sleeping.
 */
#include <sys/socket.h>
#include <sys/wait.h>

#include <netinet/in.h>
#include <arpa/inet.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/core.h"
#include "queue/queue.h"
#include "test_list.h"

#define TEST_Q_MAX	BW_QUEUE_NAME_MAX

static struct bw_redis *
test_redis(void)
{
	const char	*url = getenv("REDIS_URL");
	struct bw_redis	*r;
	redisReply	*rep;

	ck_assert_msg(url != NULL && *url != '\0', "REDIS_URL is not set: "
	    "the queue tests need a running Redis 7 (scripts/test.sh "
	    "exports it; e.g. REDIS_URL=redis://127.0.0.1:6379/0)");
	r = bw_redis_new(url, 200);
	rep = bw_redis_cmd(r, "PING");
	ck_assert_msg(rep != NULL, "cannot reach Redis at %s", url);
	freeReplyObject(rep);
	return r;
}

/* A queue name no other test or run uses: tag, pid and microseconds. */
static void
test_qname(char *buf, const char *tag)
{
	snprintf(buf, TEST_Q_MAX, "t.%s.%d.%lld", tag, (int)getpid(),
	    (long long)(bw_time_us() % 1000000000000LL));
}

static void
test_done(struct bw_redis *r, const char *q)
{
	redisReply	*rep;

	rep = bw_redis_cmd(r, "DEL billow:q:%s billow:q:%s:delayed "
	    "billow:q:%s:dead billow:q:%s:stats", q, q, q, q);
	if (rep != NULL)
		freeReplyObject(rep);
	bw_redis_free(r);
}

/* An integer reply of a raw command (XLEN, ZCARD ...), -1 on error. */
static long long
test_int(struct bw_redis *r, const char *fmt, const char *q)
{
	redisReply	*rep;
	long long	 v = -1;

	rep = bw_redis_cmd(r, fmt, q);
	if (rep != NULL && rep->type == REDIS_REPLY_INTEGER)
		v = rep->integer;
	if (rep != NULL)
		freeReplyObject(rep);
	return v;
}

static struct bw_queue_stats
test_stats(struct bw_redis *r, const char *q)
{
	struct bw_queue_stats	st;

	ck_assert_int_eq(bw_queue_stats(r, q, &st), BW_OK);
	return st;
}

/* Field NAME of the dead letter number I (0 = oldest); caller frees. */
static char *
test_dead_field(struct bw_redis *r, const char *q, size_t i, const char *name)
{
	redisReply	*rep, *kv;
	char		*v = NULL;
	size_t		 j;

	rep = bw_redis_cmd(r, "XRANGE billow:q:%s:dead - +", q);
	ck_assert_ptr_nonnull(rep);
	ck_assert_uint_gt(rep->elements, i);
	kv = rep->element[i]->element[1];
	for (j = 0; j + 1 < kv->elements; j += 2)
		if (strcmp(kv->element[j]->str, name) == 0)
			v = bw_strdup(kv->element[j + 1]->str);
	freeReplyObject(rep);
	ck_assert_msg(v != NULL, "dead letter %zu has no field %s", i, name);
	return v;
}

static void
test_dead_field_is(struct bw_redis *r, const char *q, size_t i,
    const char *name, const char *want)
{
	char	*v = test_dead_field(r, q, i, name);

	ck_assert_str_eq(v, want);
	free(v);
}

static void
test_clear(struct bw_queue_task *t, int n)
{
	int	i;

	for (i = 0; i < n; i++)
		bw_queue_task_clear(&t[i]);
}

/* The injected clock: tests move it by hand. */
static int64_t	test_now_ms;

static int64_t
test_clock(void)
{
	return test_now_ms;
}

START_TEST(enqueue_reserve_ack_empties_stream)
{
	struct bw_redis		*r = test_redis();
	struct bw_queue_task	 t[4];
	struct bw_queue_stats	 st;
	redisReply		*rep;
	char			 q[TEST_Q_MAX], id[BW_QUEUE_ID_MAX];
	int			 n;

	test_qname(q, "basic");
	ck_assert_int_eq(bw_queue_enqueue(r, q, "email.send", "{\"n\":1}",
	    "evt_1:we_1", id), BW_OK);
	/* Stream ids are "<ms>-<seq>". */
	ck_assert_ptr_nonnull(strchr(id, '-'));
	ck_assert_int_eq(test_int(r, "XLEN billow:q:%s", q), 1);

	ck_assert_int_eq(bw_queue_reserve(r, q, "c1", 30000, 0, t, 4, &n),
	    BW_OK);
	ck_assert_int_eq(n, 1);
	ck_assert_str_eq(t[0].id, id);
	ck_assert_str_eq(t[0].type, "email.send");
	ck_assert_str_eq(t[0].payload, "{\"n\":1}");
	ck_assert_str_eq(t[0].key, "evt_1:we_1");
	ck_assert_int_eq(t[0].attempts, 0);
	st = test_stats(r, q);
	ck_assert_int_eq(st.depth, 1);
	ck_assert_int_eq(st.pending, 1);

	/*
	 * A restarted Redis has forgotten the scripts: EVALSHA answers
	 * NOSCRIPT and the queue sends the text again.
	 */
	rep = bw_redis_cmd(r, "SCRIPT FLUSH");
	ck_assert_ptr_nonnull(rep);
	freeReplyObject(rep);
	ck_assert_int_eq(bw_queue_ack(r, q, &t[0]), BW_OK);
	/* XACK + XDEL: the stream does not keep finished tasks. */
	ck_assert_int_eq(test_int(r, "XLEN billow:q:%s", q), 0);
	st = test_stats(r, q);
	ck_assert_int_eq(st.depth, 0);
	ck_assert_int_eq(st.pending, 0);
	/* Acking twice is harmless. */
	ck_assert_int_eq(bw_queue_ack(r, q, &t[0]), BW_OK);
	test_clear(t, n);

	ck_assert_int_eq(bw_queue_reserve(r, q, "c1", 30000, 0, t, 4, &n),
	    BW_OK);
	ck_assert_int_eq(n, 0);

	/* A NULL key reads back as "". */
	ck_assert_int_eq(bw_queue_enqueue(r, q, "x", "{}", NULL, NULL), BW_OK);
	ck_assert_int_eq(bw_queue_reserve(r, q, "c1", 30000, 0, t, 4, &n),
	    BW_OK);
	ck_assert_int_eq(n, 1);
	ck_assert_str_eq(t[0].key, "");
	ck_assert_int_eq(bw_queue_ack(r, q, &t[0]), BW_OK);
	test_clear(t, n);
	test_done(r, q);
}
END_TEST

START_TEST(tasks_enqueued_before_the_group_exist_are_delivered)
{
	struct bw_redis		*r = test_redis();
	struct bw_queue_task	 t[2];
	char			 q[TEST_Q_MAX];
	int			 n;

	/*
	 * The group is created on the first reserve, after these XADDs: it
	 * must start at the stream's beginning ("0"), not at "$".
	 */
	test_qname(q, "early");
	ck_assert_int_eq(bw_queue_enqueue(r, q, "a", "{}", "k", NULL), BW_OK);
	ck_assert_int_eq(bw_queue_reserve(r, q, "c1", 30000, 0, t, 2, &n),
	    BW_OK);
	ck_assert_int_eq(n, 1);
	ck_assert_int_eq(bw_queue_ack(r, q, &t[0]), BW_OK);
	test_clear(t, n);
	test_done(r, q);
}
END_TEST

START_TEST(single_consumer_gets_fifo_order)
{
	struct bw_redis		*r = test_redis();
	struct bw_queue_task	 t[4];
	char			 q[TEST_Q_MAX], want[32];
	int			 i, n, next = 0;

	test_qname(q, "fifo");
	for (i = 0; i < 10; i++) {
		snprintf(want, sizeof(want), "{\"i\":%d}", i);
		ck_assert_int_eq(bw_queue_enqueue(r, q, "t", want, NULL, NULL),
		    BW_OK);
	}
	/* Batches of 4, 4, 2 then 0: payloads 0..9 in order. */
	do {
		ck_assert_int_eq(bw_queue_reserve(r, q, "c1", 30000, 0, t, 4,
		    &n), BW_OK);
		for (i = 0; i < n; i++) {
			snprintf(want, sizeof(want), "{\"i\":%d}", next++);
			ck_assert_str_eq(t[i].payload, want);
			ck_assert_int_eq(bw_queue_ack(r, q, &t[i]), BW_OK);
		}
		test_clear(t, n);
	} while (n > 0);
	ck_assert_int_eq(next, 10);
	test_done(r, q);
}
END_TEST

/*
 * Two processes reserve and ack concurrently from one queue of 200 tasks;
 * each reports the indexes it got through a pipe. Every index must come
 * back exactly once: no task to both, none lost.
 */
#define SHARE_TASKS	200

static void
share_consumer(const char *q, const char *name, int fd)
{
	struct bw_redis		*r = bw_redis_new(getenv("REDIS_URL"), 200);
	struct bw_queue_task	 t[3];
	int			 i, n, idx, idle = 0;

	/* Stop after a few empty reads in a row: the queue is drained. */
	while (idle < 3) {
		if (bw_queue_reserve(r, q, name, 60000, 20, t, 3, &n) !=
		    BW_OK)
			_exit(2);
		idle = n == 0 ? idle + 1 : 0;
		for (i = 0; i < n; i++) {
			idx = atoi(t[i].payload);
			if (write(fd, &idx, sizeof(idx)) != sizeof(idx) ||
			    bw_queue_ack(r, q, &t[i]) != BW_OK)
				_exit(3);
		}
		test_clear(t, n);
	}
	bw_redis_free(r);
	_exit(0);
}

START_TEST(two_consumers_never_get_the_same_task)
{
	struct bw_redis	*r = test_redis();
	char		 q[TEST_Q_MAX], payload[16];
	int		 seen[SHARE_TASKS] = { 0 };
	int		 fds[2], i, idx, status, total = 0;
	pid_t		 pid[2];

	test_qname(q, "share");
	for (i = 0; i < SHARE_TASKS; i++) {
		snprintf(payload, sizeof(payload), "%d", i);
		ck_assert_int_eq(bw_queue_enqueue(r, q, "t", payload, NULL,
		    NULL), BW_OK);
	}
	ck_assert_int_eq(pipe(fds), 0);
	for (i = 0; i < 2; i++) {
		pid[i] = fork();
		ck_assert_int_ge(pid[i], 0);
		if (pid[i] == 0) {
			close(fds[0]);
			share_consumer(q, i == 0 ? "a" : "b", fds[1]);
		}
	}
	close(fds[1]);
	while (read(fds[0], &idx, sizeof(idx)) == sizeof(idx)) {
		ck_assert(idx >= 0 && idx < SHARE_TASKS);
		ck_assert_msg(seen[idx] == 0, "task %d delivered twice", idx);
		seen[idx] = 1;
		total++;
	}
	close(fds[0]);
	for (i = 0; i < 2; i++) {
		ck_assert_int_eq(waitpid(pid[i], &status, 0), pid[i]);
		ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0,
		    "consumer %d failed (status %d)", i, status);
	}
	ck_assert_int_eq(total, SHARE_TASKS);
	ck_assert_int_eq(test_int(r, "XLEN billow:q:%s", q), 0);
	test_done(r, q);
}
END_TEST

/*
 * Consumer A takes a task and goes silent. B asks again and again (each
 * empty ask blocks 20 ms): B must not get it before the 300 ms visibility
 * timeout has passed since A took it, and must get it after. A's late
 * ack then removes it, and B's fail finds it gone and does not bring it
 * back as a retry.
 */
START_TEST(silent_consumer_task_reclaimed_after_visibility_timeout)
{
	struct bw_redis		*r = test_redis();
	struct bw_queue_task	 a[1], b[1];
	struct bw_queue_stats	 st;
	char			 q[TEST_Q_MAX];
	int64_t			 t0, waited;
	int			 n, m;

	test_qname(q, "reclaim");
	ck_assert_int_eq(bw_queue_enqueue(r, q, "t", "{}", "k1", NULL), BW_OK);
	t0 = bw_mono_us();
	ck_assert_int_eq(bw_queue_reserve(r, q, "a", 300, 0, a, 1, &n), BW_OK);
	ck_assert_int_eq(n, 1);
	for (;;) {
		ck_assert_int_eq(bw_queue_reserve(r, q, "b", 300, 20, b, 1,
		    &m), BW_OK);
		waited = (bw_mono_us() - t0) / 1000;
		if (m == 1)
			break;
		ck_assert_msg(waited < 3000, "not reclaimed after %lld ms",
		    (long long)waited);
	}
	/* Idle time counts from A's read, which came after t0. */
	ck_assert_msg(waited >= 300, "reclaimed after only %lld ms",
	    (long long)waited);
	ck_assert_str_eq(b[0].id, a[0].id);
	ck_assert_str_eq(b[0].key, "k1");
	ck_assert_int_eq(b[0].attempts, 0);
	st = test_stats(r, q);
	ck_assert_int_eq(st.reclaimed, 1);
	ck_assert_int_eq(st.pending, 1);

	ck_assert_int_eq(bw_queue_ack(r, q, &a[0]), BW_OK);
	ck_assert_int_eq(bw_queue_fail(r, q, &b[0], 5, 1000, "late"), BW_OK);
	st = test_stats(r, q);
	ck_assert_int_eq(st.depth, 0);
	ck_assert_int_eq(st.pending, 0);
	ck_assert_int_eq(st.delayed, 0);
	ck_assert_int_eq(st.dead, 0);
	test_clear(a, n);
	test_clear(b, m);
	test_done(r, q);
}
END_TEST

/*
 * max_attempts 3, delay 200 ms, clock at T = 10^12 ms:
 *   run 1 fails at T      -> attempts 1, due T + 200
 *   at T + 199 nothing is due; at T + 200 it is back
 *   run 2 fails at T + 200 -> attempts 2, due T + 400
 *   run 3 fails at T + 400 -> attempts 3 >= 3: dead letter, reason kept.
 */
START_TEST(failed_task_is_delayed_then_promoted_then_dead)
{
	struct bw_redis		*r = test_redis();
	struct bw_queue_task	 t[2];
	struct bw_queue_stats	 st;
	char			 q[TEST_Q_MAX], first[BW_QUEUE_ID_MAX];
	int			 n;

	test_qname(q, "retry");
	test_now_ms = 1000000000000LL;
	bw_queue_set_clock(test_clock);
	ck_assert_int_eq(bw_queue_enqueue(r, q, "hook", "{\"e\":\"evt_9\"}",
	    "evt_9:we_2", first), BW_OK);
	ck_assert_int_eq(bw_queue_reserve(r, q, "c", 30000, 0, t, 2, &n),
	    BW_OK);
	ck_assert_int_eq(n, 1);
	ck_assert_int_eq(bw_queue_fail(r, q, &t[0], 3, 200, "HTTP 500"), BW_OK);
	test_clear(t, n);
	st = test_stats(r, q);
	ck_assert_int_eq(st.depth, 0);
	ck_assert_int_eq(st.pending, 0);
	ck_assert_int_eq(st.delayed, 1);
	ck_assert_int_eq(st.retried, 1);
	/* Failing the same (no longer pending) task again changes nothing. */
	memcpy(t[0].id, first, sizeof(first));
	ck_assert_int_eq(bw_queue_fail(r, q, &t[0], 3, 200, "x"), BW_OK);
	ck_assert_int_eq(test_stats(r, q).delayed, 1);

	test_now_ms += 199;
	ck_assert_int_eq(bw_queue_reserve(r, q, "c", 30000, 0, t, 2, &n),
	    BW_OK);
	ck_assert_int_eq(n, 0);
	ck_assert_int_eq(test_stats(r, q).delayed, 1);

	test_now_ms += 1;
	ck_assert_int_eq(bw_queue_reserve(r, q, "c", 30000, 0, t, 2, &n),
	    BW_OK);
	ck_assert_int_eq(n, 1);
	ck_assert_int_eq(t[0].attempts, 1);
	ck_assert_str_eq(t[0].type, "hook");
	ck_assert_str_eq(t[0].payload, "{\"e\":\"evt_9\"}");
	ck_assert_str_eq(t[0].key, "evt_9:we_2");
	/* A retry is a new entry at the end of the stream. */
	ck_assert_str_ne(t[0].id, first);
	ck_assert_int_eq(test_stats(r, q).delayed, 0);
	ck_assert_int_eq(bw_queue_fail(r, q, &t[0], 3, 200, "HTTP 500"), BW_OK);
	test_clear(t, n);

	test_now_ms += 200;
	ck_assert_int_eq(bw_queue_reserve(r, q, "c", 30000, 0, t, 2, &n),
	    BW_OK);
	ck_assert_int_eq(n, 1);
	ck_assert_int_eq(t[0].attempts, 2);
	ck_assert_int_eq(bw_queue_fail(r, q, &t[0], 3, 200, "timeout"), BW_OK);
	test_clear(t, n);

	st = test_stats(r, q);
	ck_assert_int_eq(st.depth, 0);
	ck_assert_int_eq(st.pending, 0);
	ck_assert_int_eq(st.delayed, 0);
	ck_assert_int_eq(st.dead, 1);
	ck_assert_int_eq(st.retried, 2);
	test_dead_field_is(r, q, 0, "reason", "timeout");
	test_dead_field_is(r, q, 0, "attempts", "3");
	test_dead_field_is(r, q, 0, "type", "hook");
	test_dead_field_is(r, q, 0, "payload", "{\"e\":\"evt_9\"}");
	test_dead_field_is(r, q, 0, "key", "evt_9:we_2");

	/* Nothing comes back from the dead, whatever the clock says. */
	test_now_ms += 1000000;
	ck_assert_int_eq(bw_queue_reserve(r, q, "c", 30000, 0, t, 2, &n),
	    BW_OK);
	ck_assert_int_eq(n, 0);
	bw_queue_set_clock(NULL);
	test_done(r, q);
}
END_TEST

/* Redis' own clock: a 150 ms delay is not due at once, and is later. */
START_TEST(delay_follows_redis_time)
{
	struct bw_redis		*r = test_redis();
	struct bw_queue_task	 t[1];
	char			 q[TEST_Q_MAX];
	int64_t			 t0, waited;
	int			 n;

	test_qname(q, "rtime");
	ck_assert_int_eq(bw_queue_enqueue(r, q, "t", "{}", NULL, NULL), BW_OK);
	ck_assert_int_eq(bw_queue_reserve(r, q, "c", 30000, 0, t, 1, &n),
	    BW_OK);
	ck_assert_int_eq(n, 1);
	t0 = bw_mono_us();
	ck_assert_int_eq(bw_queue_fail(r, q, &t[0], 5, 150, "x"), BW_OK);
	test_clear(t, n);
	for (;;) {
		ck_assert_int_eq(bw_queue_reserve(r, q, "c", 30000, 20, t, 1,
		    &n), BW_OK);
		waited = (bw_mono_us() - t0) / 1000;
		if (n == 1)
			break;
		ck_assert_msg(waited < 3000, "retry not due after %lld ms",
		    (long long)waited);
	}
	/* Due time is set inside the fail, after t0. */
	ck_assert_msg(waited >= 150, "retry came after %lld ms",
	    (long long)waited);
	ck_assert_int_eq(t[0].attempts, 1);
	ck_assert_int_eq(bw_queue_ack(r, q, &t[0]), BW_OK);
	test_clear(t, n);
	test_done(r, q);
}
END_TEST

START_TEST(max_attempts_one_goes_straight_to_dead_letter)
{
	struct bw_redis		*r = test_redis();
	struct bw_queue_task	 t[1];
	struct bw_queue_stats	 st;
	char			 q[TEST_Q_MAX], id[BW_QUEUE_ID_MAX];
	int			 n;

	test_qname(q, "dead1");
	ck_assert_int_eq(bw_queue_enqueue(r, q, "t", "[1]", "k", id), BW_OK);
	ck_assert_int_eq(bw_queue_reserve(r, q, "c", 30000, 0, t, 1, &n),
	    BW_OK);
	ck_assert_int_eq(n, 1);
	ck_assert_int_eq(bw_queue_fail(r, q, &t[0], 1, 1000, "bad request"),
	    BW_OK);
	test_clear(t, n);
	st = test_stats(r, q);
	ck_assert_int_eq(st.dead, 1);
	ck_assert_int_eq(st.delayed, 0);
	ck_assert_int_eq(st.depth, 0);
	ck_assert_int_eq(st.retried, 0);
	test_dead_field_is(r, q, 0, "reason", "bad request");
	test_dead_field_is(r, q, 0, "attempts", "1");
	test_dead_field_is(r, q, 0, "id", id);
	test_done(r, q);
}
END_TEST

/*
 * Entries written behind the queue's back: no type, attempts not a
 * number, and a delayed member that is not JSON. None reaches a consumer,
 * each ends in the dead letter with reason "malformed", and the good task
 * between them still comes through.
 */
START_TEST(malformed_entries_go_to_dead_letter)
{
	struct bw_redis		*r = test_redis();
	struct bw_queue_task	 t[8];
	struct bw_queue_stats	 st;
	redisReply		*rep;
	char			 q[TEST_Q_MAX];
	int			 n;

	test_qname(q, "bad");
	rep = bw_redis_cmd(r, "XADD billow:q:%s * payload {} attempts 0", q);
	ck_assert_ptr_nonnull(rep);
	freeReplyObject(rep);
	ck_assert_int_eq(bw_queue_enqueue(r, q, "good", "{}", NULL, NULL),
	    BW_OK);
	rep = bw_redis_cmd(r, "XADD billow:q:%s * type t payload {} "
	    "attempts x1", q);
	ck_assert_ptr_nonnull(rep);
	freeReplyObject(rep);
	rep = bw_redis_cmd(r, "ZADD billow:q:%s:delayed 0 not-json", q);
	ck_assert_ptr_nonnull(rep);
	freeReplyObject(rep);

	ck_assert_int_eq(bw_queue_reserve(r, q, "c", 30000, 0, t, 8, &n),
	    BW_OK);
	ck_assert_int_eq(n, 1);
	ck_assert_str_eq(t[0].type, "good");
	ck_assert_int_eq(bw_queue_ack(r, q, &t[0]), BW_OK);
	test_clear(t, n);

	st = test_stats(r, q);
	ck_assert_int_eq(st.dead, 3);
	ck_assert_int_eq(st.depth, 0);
	ck_assert_int_eq(st.pending, 0);
	ck_assert_int_eq(st.delayed, 0);
	/* Promotion runs first (the zset member), then the two entries. */
	test_dead_field_is(r, q, 0, "reason", "malformed");
	test_dead_field_is(r, q, 0, "member", "not-json");
	test_dead_field_is(r, q, 1, "reason", "malformed");
	test_dead_field_is(r, q, 2, "reason", "malformed");
	test_dead_field_is(r, q, 2, "attempts", "x1");
	test_done(r, q);
}
END_TEST

/*
 * 4 enqueued, 3 reserved:          depth 4, pending 3
 * 1 acked:                         depth 3, pending 2
 * 1 failed (max 5, delay 60 s):    depth 2, pending 1, delayed 1
 * 1 failed (max 1):                depth 1, pending 0, dead 1
 */
START_TEST(stats_count_each_state)
{
	struct bw_redis		*r = test_redis();
	struct bw_queue_task	 t[3];
	struct bw_queue_stats	 st;
	char			 q[TEST_Q_MAX];
	int			 i, n;

	test_qname(q, "stats");
	st = test_stats(r, q);
	/* No keys and no group yet: all zero, not an error. */
	ck_assert_int_eq(st.depth + st.pending + st.delayed + st.dead, 0);
	for (i = 0; i < 4; i++)
		ck_assert_int_eq(bw_queue_enqueue(r, q, "t", "{}", NULL, NULL),
		    BW_OK);
	ck_assert_int_eq(bw_queue_reserve(r, q, "c", 30000, 0, t, 3, &n),
	    BW_OK);
	ck_assert_int_eq(n, 3);
	st = test_stats(r, q);
	ck_assert_int_eq(st.depth, 4);
	ck_assert_int_eq(st.pending, 3);
	ck_assert_int_eq(bw_queue_ack(r, q, &t[0]), BW_OK);
	st = test_stats(r, q);
	ck_assert_int_eq(st.depth, 3);
	ck_assert_int_eq(st.pending, 2);
	ck_assert_int_eq(bw_queue_fail(r, q, &t[1], 5, 60000, "x"), BW_OK);
	st = test_stats(r, q);
	ck_assert_int_eq(st.depth, 2);
	ck_assert_int_eq(st.pending, 1);
	ck_assert_int_eq(st.delayed, 1);
	ck_assert_int_eq(bw_queue_fail(r, q, &t[2], 1, 0, "y"), BW_OK);
	st = test_stats(r, q);
	ck_assert_int_eq(st.depth, 1);
	ck_assert_int_eq(st.pending, 0);
	ck_assert_int_eq(st.delayed, 1);
	ck_assert_int_eq(st.dead, 1);
	ck_assert_int_eq(st.retried, 1);
	ck_assert_int_eq(st.reclaimed, 0);
	test_clear(t, n);
	test_done(r, q);
}
END_TEST

/*
 * A task that kills every consumer taking it (visibility 1 ms, so each
 * ask reclaims it) is handed out BW_QUEUE_MAX_DELIVERIES times, then
 * buried with reason "redelivered".
 */
START_TEST(task_redelivered_too_often_goes_to_dead_letter)
{
	struct bw_redis		*r = test_redis();
	struct bw_queue_task	 t[1];
	char			 q[TEST_Q_MAX];
	int64_t			 t0 = bw_mono_us();
	int			 n, handed = 0;

	test_qname(q, "poison");
	ck_assert_int_eq(bw_queue_enqueue(r, q, "t", "{}", NULL, NULL), BW_OK);
	while (test_stats(r, q).dead == 0) {
		ck_assert_int_eq(bw_queue_reserve(r, q, "c", 1, 5, t, 1, &n),
		    BW_OK);
		handed += n;
		test_clear(t, n);
		ck_assert_msg(bw_mono_us() - t0 < 3000000, "not buried, %d "
		    "deliveries", handed);
	}
	ck_assert_int_eq(handed, BW_QUEUE_MAX_DELIVERIES);
	test_dead_field_is(r, q, 0, "reason", "redelivered");
	test_dead_field_is(r, q, 0, "type", "t");
	ck_assert_int_eq(test_stats(r, q).depth, 0);
	ck_assert_int_eq(test_stats(r, q).pending, 0);
	test_done(r, q);
}
END_TEST

/*
 * An empty queue: a 5 s block is cut to BW_QUEUE_BLOCK_MAX_MS (50), which
 * Redis ends on its next 100 ms cron tick: 50..150 ms, always under the
 * 200 ms command timeout, so the connection is not dropped.
 */
START_TEST(reserve_block_stays_under_the_redis_timeout)
{
	struct bw_redis		*r = test_redis();
	struct bw_queue_task	 t[1];
	char			 q[TEST_Q_MAX];
	int64_t			 t0, ms;
	int			 n;

	test_qname(q, "block");
	t0 = bw_mono_us();
	ck_assert_int_eq(bw_queue_reserve(r, q, "c", 30000, 5000, t, 1, &n),
	    BW_OK);
	ms = (bw_mono_us() - t0) / 1000;
	ck_assert_int_eq(n, 0);
	ck_assert_msg(ms >= BW_QUEUE_BLOCK_MAX_MS - 5 && ms < 190,
	    "blocked %lld ms", (long long)ms);
	/* The connection survived: the next call works at once. */
	ck_assert_int_eq(bw_queue_enqueue(r, q, "t", "{}", NULL, NULL), BW_OK);
	ck_assert_int_eq(bw_queue_reserve(r, q, "c", 30000, 5000, t, 1, &n),
	    BW_OK);
	ck_assert_int_eq(n, 1);
	ck_assert_int_eq(bw_queue_ack(r, q, &t[0]), BW_OK);
	test_clear(t, n);
	test_done(r, q);
}
END_TEST

START_TEST(bad_arguments_are_errors)
{
	struct bw_redis		*r = test_redis();
	struct bw_queue_task	 t[1];
	struct bw_queue_stats	 st;
	char			 q[TEST_Q_MAX], longname[BW_QUEUE_NAME_MAX + 2];
	int			 n = 7;

	test_qname(q, "args");
	memset(longname, 'a', sizeof(longname) - 1);
	longname[sizeof(longname) - 1] = '\0';
	ck_assert_int_eq(bw_queue_enqueue(r, "", "t", "{}", NULL, NULL),
	    BW_ERROR);
	ck_assert_int_eq(bw_queue_enqueue(r, "a b", "t", "{}", NULL, NULL),
	    BW_ERROR);
	ck_assert_int_eq(bw_queue_enqueue(r, "a:b", "t", "{}", NULL, NULL),
	    BW_ERROR);
	ck_assert_int_eq(bw_queue_enqueue(r, longname, "t", "{}", NULL, NULL),
	    BW_ERROR);
	ck_assert_int_eq(bw_queue_enqueue(r, q, "", "{}", NULL, NULL),
	    BW_ERROR);
	ck_assert_int_eq(bw_queue_enqueue(r, q, "t", NULL, NULL, NULL),
	    BW_ERROR);
	ck_assert_int_eq(bw_queue_reserve(r, q, "", 1000, 0, t, 1, &n),
	    BW_ERROR);
	ck_assert_int_eq(n, 0);
	ck_assert_int_eq(bw_queue_reserve(r, q, "c", 0, 0, t, 1, &n),
	    BW_ERROR);
	ck_assert_int_eq(bw_queue_reserve(r, q, "c", 1000, 0, t, 0, &n),
	    BW_ERROR);
	ck_assert_int_eq(bw_queue_stats(r, "bad name", &st), BW_ERROR);
	/* Nothing was written by any of them. */
	ck_assert_int_eq(test_int(r, "EXISTS billow:q:%s", q), 0);
	test_done(r, q);
}
END_TEST

/* Every call on R fails, each within TIMEOUT_MS plus slack. */
static void
all_calls_fail_fast(struct bw_redis *r, int64_t limit_ms)
{
	struct bw_queue_task	 t[1];
	struct bw_queue_stats	 st;
	int64_t			 t0, ms;
	int			 n = 7;

	memset(t, 0, sizeof(t));
	snprintf(t[0].id, sizeof(t[0].id), "1-0");
	t0 = bw_mono_us();
	ck_assert_int_eq(bw_queue_enqueue(r, "q", "t", "{}", NULL, NULL),
	    BW_ERROR);
	ck_assert_int_eq(bw_queue_reserve(r, "q", "c", 1000, 100, t, 1, &n),
	    BW_ERROR);
	ck_assert_int_eq(n, 0);
	ck_assert_int_eq(bw_queue_ack(r, "q", &t[0]), BW_ERROR);
	ck_assert_int_eq(bw_queue_fail(r, "q", &t[0], 3, 10, "x"), BW_ERROR);
	ck_assert_int_eq(bw_queue_stats(r, "q", &st), BW_ERROR);
	ms = (bw_mono_us() - t0) / 1000;
	ck_assert_msg(ms < limit_ms, "five failing calls took %lld ms",
	    (long long)ms);
}

/* A port nothing listens on: bound, then closed. */
START_TEST(redis_unreachable_fails_fast)
{
	struct sockaddr_in	 sin;
	socklen_t		 len = sizeof(sin);
	struct bw_redis		*r;
	char			 url[64];
	int			 fd;

	fd = socket(AF_INET, SOCK_STREAM, 0);
	ck_assert_int_ge(fd, 0);
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ck_assert_int_eq(bind(fd, (struct sockaddr *)&sin, sizeof(sin)), 0);
	ck_assert_int_eq(getsockname(fd, (struct sockaddr *)&sin, &len), 0);
	close(fd);
	snprintf(url, sizeof(url), "redis://127.0.0.1:%d/0",
	    ntohs(sin.sin_port));
	r = bw_redis_new(url, 200);
	/* Refused at once; then the wrapper does not retry for a second. */
	all_calls_fail_fast(r, 500);
	bw_redis_free(r);
}
END_TEST

/*
 * A frozen Redis: a socket that listens but never accepts or answers (the
 * kernel completes the handshake from the backlog). The first call waits
 * out the 200 ms timeout; the rest fail at once.
 */
START_TEST(frozen_redis_fails_within_the_timeout)
{
	struct sockaddr_in	 sin;
	socklen_t		 len = sizeof(sin);
	struct bw_redis		*r;
	char			 url[64];
	int			 fd;

	fd = socket(AF_INET, SOCK_STREAM, 0);
	ck_assert_int_ge(fd, 0);
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ck_assert_int_eq(bind(fd, (struct sockaddr *)&sin, sizeof(sin)), 0);
	ck_assert_int_eq(listen(fd, 16), 0);
	ck_assert_int_eq(getsockname(fd, (struct sockaddr *)&sin, &len), 0);
	snprintf(url, sizeof(url), "redis://127.0.0.1:%d/0",
	    ntohs(sin.sin_port));
	r = bw_redis_new(url, 200);
	/* 200 ms for the first call, ~0 for the other four. */
	all_calls_fail_fast(r, 600);
	bw_redis_free(r);
	close(fd);
}
END_TEST

Suite *
suite_queue(void)
{
	Suite	*s = suite_create("queue");
	TCase	*tc = tcase_create("queue");

	tcase_set_timeout(tc, 20);
	tcase_add_test(tc, enqueue_reserve_ack_empties_stream);
	tcase_add_test(tc, tasks_enqueued_before_the_group_exist_are_delivered);
	tcase_add_test(tc, single_consumer_gets_fifo_order);
	tcase_add_test(tc, two_consumers_never_get_the_same_task);
	tcase_add_test(tc,
	    silent_consumer_task_reclaimed_after_visibility_timeout);
	tcase_add_test(tc, failed_task_is_delayed_then_promoted_then_dead);
	tcase_add_test(tc, delay_follows_redis_time);
	tcase_add_test(tc, max_attempts_one_goes_straight_to_dead_letter);
	tcase_add_test(tc, malformed_entries_go_to_dead_letter);
	tcase_add_test(tc, stats_count_each_state);
	tcase_add_test(tc, task_redelivered_too_often_goes_to_dead_letter);
	tcase_add_test(tc, reserve_block_stays_under_the_redis_timeout);
	tcase_add_test(tc, bad_arguments_are_errors);
	tcase_add_test(tc, redis_unreachable_fails_fast);
	tcase_add_test(tc, frozen_redis_fails_within_the_timeout);
	suite_add_tcase(s, tc);
	return s;
}
