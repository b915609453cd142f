/*
 * Prometheus metrics shared by every Kore worker: counters in one
 * MAP_SHARED mapping made by the parent before the workers fork, updated
 * with atomics from the event loop and task threads.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "server/server.h"

/* Upper bounds of the latency buckets, milliseconds. */
static const double	lat_bounds[BW_LAT_BUCKETS] = {
	0.5, 1, 2.5, 5, 10, 25, 50, 100, 250, 500, 1000, 5000
};

static const int	statuses[BW_METRIC_STATUSES] = {
	200, 201, 202, 400, 401, 402, 403, 404, 405, 409, 413, 415, 429,
	500, 503, 0
};

#define METRICS_ENV	"BILLOW_METRICS_SHM"

void
bw_metrics_init(void)
{
	const char	*env;
	void		*p;
	char		 addr[32];

	if (bw_server.metrics != NULL)
		return;
	/* A reloaded module finds the parent's mapping through the env. */
	if ((env = getenv(METRICS_ENV)) != NULL) {
		bw_server.metrics = (struct bw_metrics *)strtoull(env, NULL, 16);
		return;
	}
	p = mmap(NULL, sizeof(struct bw_metrics), PROT_READ | PROT_WRITE,
	    MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		p = bw_calloc(1, sizeof(struct bw_metrics));
	bw_server.metrics = p;
	snprintf(addr, sizeof(addr), "%llx", (unsigned long long)(uintptr_t)p);
	setenv(METRICS_ENV, addr, 1);
}

static int
status_slot(int status)
{
	int	i;

	for (i = 0; i < BW_METRIC_STATUSES - 1; i++)
		if (statuses[i] == status)
			return i;
	return BW_METRIC_STATUSES - 1;
}

void
bw_metrics_record(int route_idx, int status, int64_t dur_us)
{
	struct bw_metrics	*m = bw_server.metrics;
	int			 i, r;

	if (m == NULL)
		return;
	r = route_idx < 0 || route_idx >= BW_METRIC_ROUTES - 1 ?
	    BW_METRIC_ROUTES - 1 : route_idx;
	atomic_fetch_add(&m->requests[r][status_slot(status)], 1);
	for (i = 0; i < BW_LAT_BUCKETS; i++)
		if ((double)dur_us / 1000.0 <= lat_bounds[i])
			break;
	atomic_fetch_add(&m->latency[i], 1);
	atomic_fetch_add(&m->latency_sum_us, (uint64_t)dur_us);
	atomic_fetch_add(&m->latency_count, 1);
}

void
bw_metrics_render(struct bw_buf *out)
{
	struct bw_metrics	*m = bw_server.metrics;
	uint64_t		 n, cum = 0;
	int			 r, s, i;

	if (m == NULL)
		return;
	bw_buf_appends(out, "# HELP billow_http_requests_total HTTP requests "
	    "by route and status.\n# TYPE billow_http_requests_total "
	    "counter\n");
	for (r = 0; r < BW_METRIC_ROUTES; r++) {
		for (s = 0; s < BW_METRIC_STATUSES; s++) {
			if ((n = atomic_load(&m->requests[r][s])) == 0)
				continue;
			bw_buf_appendf(out, "billow_http_requests_total{route=\""
			    "%s\",status=\"%d\"} %llu\n",
			    r == BW_METRIC_ROUTES - 1 ? "unmatched" :
			    bw_router_pattern(r), statuses[s] != 0 ?
			    statuses[s] : 999, (unsigned long long)n);
		}
	}
	bw_buf_appends(out, "# HELP billow_http_request_duration_seconds "
	    "Request latency.\n# TYPE billow_http_request_duration_seconds "
	    "histogram\n");
	for (i = 0; i < BW_LAT_BUCKETS; i++) {
		cum += atomic_load(&m->latency[i]);
		bw_buf_appendf(out, "billow_http_request_duration_seconds_bucket"
		    "{le=\"%g\"} %llu\n", lat_bounds[i] / 1000.0,
		    (unsigned long long)cum);
	}
	cum += atomic_load(&m->latency[BW_LAT_BUCKETS]);
	bw_buf_appendf(out, "billow_http_request_duration_seconds_bucket"
	    "{le=\"+Inf\"} %llu\n", (unsigned long long)cum);
	bw_buf_appendf(out, "billow_http_request_duration_seconds_sum %.6f\n",
	    (double)atomic_load(&m->latency_sum_us) / 1e6);
	bw_buf_appendf(out, "billow_http_request_duration_seconds_count %llu\n",
	    (unsigned long long)atomic_load(&m->latency_count));
	bw_buf_appendf(out,
	    "# TYPE billow_db_connections gauge\n"
	    "billow_db_connections{state=\"open\"} %llu\n"
	    "billow_db_connections{state=\"busy\"} %llu\n"
	    "# TYPE billow_db_errors_total counter\n"
	    "billow_db_errors_total %llu\n"
	    "# TYPE billow_redis_errors_total counter\n"
	    "billow_redis_errors_total %llu\n"
	    "# TYPE billow_rate_limit_fail_open_total counter\n"
	    "billow_rate_limit_fail_open_total %llu\n"
	    "# TYPE billow_rate_limited_total counter\n"
	    "billow_rate_limited_total %llu\n"
	    "# TYPE billow_auth_fast_path_total counter\n"
	    "billow_auth_fast_path_total %llu\n",
	    (unsigned long long)atomic_load(&m->db_conns_open),
	    (unsigned long long)atomic_load(&m->db_conns_busy),
	    (unsigned long long)atomic_load(&m->db_errors),
	    (unsigned long long)atomic_load(&m->redis_errors),
	    (unsigned long long)atomic_load(&m->rate_limit_fail_open),
	    (unsigned long long)atomic_load(&m->rate_limited),
	    (unsigned long long)atomic_load(&m->fast_path));
}
