/*
 * The background worker loop. Each pass is one short transaction, so a
 * worker killed at any point leaves nothing half-done; several workers may
 * run at once. The billing scheduler runs what subscriptions have due
 * (src/billing/cycle.c), one subscription and instant per transaction,
 * rows claimed with FOR UPDATE SKIP LOCKED. Housekeeping removes
 * idempotency records older than 24 h and expired refresh tokens
 * (billow_gc, a SECURITY DEFINER function). The outbox relay and the
 * queue consumers (relay.c) run every pass, and the loop naps only when
 * none of them had work.
 */
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/core.h"
#include "db/db.h"
#include "db/redis.h"
#include "billing/subscription.h"
#include "plugin/plugin.h"
#include "worker/worker.h"

/* Subscriptions one scheduler pass takes on. */
#define WORKER_SCHED_BATCH	200
/* Outbox rows one relay pass moves, queued items one consumer pass runs. */
#define WORKER_RELAY_BATCH	500
#define WORKER_CONSUME_BATCH	64
/* The nap when idle: the added latency of an event, at most. */
#define WORKER_IDLE_MS		20
/* How often an idle scheduler looks for due work. */
#define WORKER_SCHED_EVERY_US	200000LL

static volatile sig_atomic_t	worker_quit, worker_hup;

static void
worker_on_signal(int sig)
{
	if (sig == SIGTERM || sig == SIGINT)
		worker_quit = 1;
	else if (sig == SIGHUP)
		worker_hup = 1;
}

/* Sleeps up to MS milliseconds, waking early on a signal. */
static void
worker_nap(int ms)
{
	struct timespec	ts;

	ts.tv_sec = ms / 1000;
	ts.tv_nsec = (long)(ms % 1000) * 1000000L;
	nanosleep(&ts, NULL);
}

int
bw_worker_main(const struct bw_config *cfg)
{
	struct sigaction	 sa;
	struct bw_db		*db;
	struct bw_redis		*redis;
	PGresult		*res;
	int64_t			 next_gc = 0, next_sched = 0, next_queue = 0;
	int			 n, c, busy;
	char			 err[512], consumer[96], host[64];

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = worker_on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);

	if (cfg->nplugins > 0 &&
	    bw_plugins_load(cfg, err, sizeof(err)) != BW_OK) {
		bw_log(BW_LOG_ERROR, "%s", err);
		return BW_ERROR;
	}
	db = bw_db_new(cfg->database_url, cfg->statement_timeout_ms);
	redis = bw_redis_new(cfg->redis_url, cfg->redis_timeout_ms);
	if (gethostname(host, sizeof(host)) != 0)
		snprintf(host, sizeof(host), "host");
	host[sizeof(host) - 1] = '\0';
	snprintf(consumer, sizeof(consumer), "%s-%d", host, (int)getpid());
	bw_log(BW_LOG_INFO, "worker %d started", (int)getpid());
	while (!worker_quit) {
		if (worker_hup) {
			/* SIGHUP: rebuilt plugins take effect (each pass is
			 * short, so nothing of theirs is running now). */
			worker_hup = 0;
			bw_plugins_unload();
			if (cfg->nplugins > 0 &&
			    bw_plugins_load(cfg, err, sizeof(err)) != BW_OK)
				bw_log(BW_LOG_ERROR, "%s; running without "
				    "plugins", err);
			else
				bw_log(BW_LOG_INFO, "worker %d reloaded %d "
				    "plugins", (int)getpid(),
				    bw_plugins_loaded());
		}
		if (bw_mono_us() >= next_gc) {
			res = bw_db_query(db, "SELECT billow_gc() AS n", 0,
			    NULL);
			if (res != NULL) {
				if (bw_db_int(res, 0, "n") > 0)
					bw_log(BW_LOG_INFO, "housekeeping "
					    "removed %lld expired rows",
					    bw_db_int(res, 0, "n"));
				PQclear(res);
				next_gc = bw_mono_us() + 60 * 1000000LL;
			} else {
				/* Database away: try again shortly. */
				next_gc = bw_mono_us() + 2 * 1000000LL;
			}
		}
		/*
		 * The outbox relay, then the consumers. Redis or the
		 * database away: events wait in the outbox; look again in a
		 * second (the Redis client refuses to reconnect sooner).
		 */
		busy = 0;
		if (bw_mono_us() >= next_queue) {
			n = bw_relay_pass(db, redis, WORKER_RELAY_BATCH);
			c = n < 0 ? -1 : bw_consume_pass(db, redis, consumer,
			    WORKER_CONSUME_BATCH);
			busy = n > 0 || c > 0;
			next_queue = n < 0 || c < 0 ? bw_mono_us() + 1000000LL :
			    0;
		}
		/*
		 * The billing scheduler: a full batch means more may be
		 * due, so go again at once; otherwise look again shortly.
		 */
		if (cfg->scheduler && bw_mono_us() >= next_sched) {
			n = bw_billing_run_due(db, WORKER_SCHED_BATCH);
			if (n > 0)
				bw_log(BW_LOG_INFO, "scheduler: %d "
				    "subscription steps", n);
			busy |= n >= WORKER_SCHED_BATCH;
			/* Database away: try again a little later. */
			next_sched = bw_mono_us() + (n < 0 ? 2000000LL :
			    n >= WORKER_SCHED_BATCH ? 0 :
			    WORKER_SCHED_EVERY_US);
		}
		if (!busy)
			worker_nap(WORKER_IDLE_MS);
	}
	bw_redis_free(redis);
	bw_db_free(db);
	bw_plugins_unload();
	bw_log(BW_LOG_INFO, "worker %d stopped", (int)getpid());
	return BW_OK;
}
