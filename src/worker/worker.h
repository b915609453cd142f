/*
 * `billow worker`: the background process. It runs housekeeping now and
 * hosts the outbox relay, queue consumers and billing scheduler as they
 * arrive. Runs outside Kore, one process per configured `background`.
 */
#ifndef BW_WORKER_H
#define BW_WORKER_H

#include "core/config.h"

/* Runs until SIGTERM or SIGINT; SIGHUP re-reads nothing yet but logs. */
int	bw_worker_main(const struct bw_config *);

#endif
