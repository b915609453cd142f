/*
 * The server's shared state and request pipeline: the route table, the
 * dispatcher that authenticates, rate-limits, applies idempotency and runs
 * a handler inside its tenant transaction, and the metrics shared by all
 * Kore workers. The dispatcher runs on task threads; routing and metrics
 * also run in the event loop.
 */
#ifndef BW_SERVER_H
#define BW_SERVER_H

#include <stdatomic.h>
#include <stdint.h>

#include "core/config.h"
#include "server/http.h"

/* Latency histogram buckets, in milliseconds (Prometheus `le`). */
#define BW_LAT_BUCKETS	12
#define BW_METRIC_ROUTES	256
#define BW_METRIC_STATUSES	16

/*
 * Counters live in one MAP_SHARED mapping made by the parent before Kore
 * forks its workers, so /metrics on any worker sees every worker's counts.
 */
struct bw_metrics {
	_Atomic uint64_t	requests[BW_METRIC_ROUTES][BW_METRIC_STATUSES];
	_Atomic uint64_t	latency[BW_LAT_BUCKETS + 1];
	_Atomic uint64_t	latency_sum_us;
	_Atomic uint64_t	latency_count;
	_Atomic uint64_t	db_conns_open;
	_Atomic uint64_t	db_conns_busy;
	_Atomic uint64_t	db_errors;
	_Atomic uint64_t	redis_errors;
	_Atomic uint64_t	rate_limit_fail_open;
	_Atomic uint64_t	rate_limited;
	/* Bumped when keys or tenants change (auth cache invalidation). */
	_Atomic uint64_t	authgen_local;
	_Atomic uint64_t	fast_path;
};

struct bw_server {
	struct bw_config	*cfg;
	struct bw_metrics	*metrics;
};

extern struct bw_server	bw_server;

/* Shared-memory metrics: call once in the parent before workers fork. */
void	bw_metrics_init(void);
/* Records one answered request. ROUTE_IDX -1 is "unmatched". */
void	bw_metrics_record(int route_idx, int status, int64_t dur_us);
/* Renders the Prometheus text exposition into OUT. */
void	bw_metrics_render(struct bw_buf *out);

/* Route table: core resources register theirs at start-up. */
void	bw_router_add(const struct bw_route *routes, size_t n);
void	bw_router_clear(void);
void	bw_routes_init(void);

#define BW_MATCH_OK		0
#define BW_MATCH_NOT_FOUND	1
#define BW_MATCH_METHOD		2

/*
 * Matches PATH (a trailing slash is optional) and METHOD. On BW_MATCH_OK
 * sets req->route and req->params (arena copies). On BW_MATCH_METHOD sets
 * *ALLOW to the methods the path accepts.
 */
int	bw_router_match(struct bw_req *req, int *allow);
/* Index of the route for metrics, or -1. */
int	bw_router_index(const struct bw_route *);
/* Pattern of route IDX, for metrics labels. */
const char	*bw_router_pattern(int idx);
int		 bw_router_count(void);

/* Runs a matched request to completion, on a task thread. */
void	bw_dispatch(struct bw_req *req);
/*
 * In the event loop: answers a BW_ROUTE_FAST route whose API key is in
 * the recently confirmed cache, with no Redis or database call. Returns 1
 * when answered, 0 when the request must go to a task.
 */
int	bw_dispatch_fast(struct bw_req *req);

/* Per-thread database and Redis handles, created on first use. */
struct bw_thread_ctx {
	struct bw_db	*db;
	struct bw_redis	*redis;
};
struct bw_thread_ctx	*bw_thread_ctx(void);
/* Closes every thread's handles (module unload). */
void	bw_thread_ctx_close_all(void);

/* Answers requests that need no task: health, 404/405. Returns 1 if done. */
int	bw_answer_inline(struct bw_req *req);

#endif
