/*
 * `billow worker`: the background process. It runs housekeeping now and
 * hosts the outbox relay, queue consumers and billing scheduler as they
 * arrive. Runs outside Kore, one process per configured `background`.
 */
#ifndef BW_WORKER_H
#define BW_WORKER_H

#include "core/config.h"

struct bw_db;
struct bw_redis;

/* Runs until SIGTERM or SIGINT; SIGHUP reloads the plugins. */
int	bw_worker_main(const struct bw_config *);

/*
 * One relay pass (relay.c): up to LIMIT unrelayed events and as many
 * plugin tasks moved from the outbox to the queue. How many, or -1 when
 * PostgreSQL or Redis failed (nothing was marked).
 */
int	bw_relay_pass(struct bw_db *, struct bw_redis *, int limit);
/*
 * One consumer pass: up to MAX queued events (event.relayed) and as many
 * tasks run, each in its own transaction. How many ran, -1 when Redis
 * failed.
 */
int	bw_consume_pass(struct bw_db *, struct bw_redis *,
	    const char *consumer, int max);

#endif
