/*
 * The Kore glue: Billow's core as a Kore 4.1 application module. The parent
 * reads the configuration before forking; each worker installs the seccomp
 * filter KORE.md measured, a 1 s timer (so Kore enforces its timeouts),
 * and answers every request through billow_http, which routes in the event
 * loop and runs the endpoint on a task thread. Endpoint code never sees
 * Kore: this is the only file that includes its headers.
 */
#include <sys/types.h>
#include <sys/socket.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <errno.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <kore/kore.h>
#include <kore/http.h>
#include <kore/hooks.h>
#include <kore/seccomp.h>
#include <kore/tasks.h>

#include "plugin/plugin.h"
#include "server/server.h"

int	billow_http(struct http_request *);
int	billow_onload(int);

/*
 * Kore 4.1.0's stock filter predates Debian 12's glibc (KORE.md "The
 * sandbox"): libpq needs newfstatat and getdents64, threads need rseq and
 * must fall back from clone3 to clone, libcurl needs getpeername and any
 * host-name lookup uname.
 */
KORE_SECCOMP_FILTER("billow",
	KORE_SYSCALL_ALLOW(newfstatat),
	KORE_SYSCALL_ALLOW(getdents64),
	KORE_SYSCALL_ALLOW(rseq),
	KORE_SYSCALL_DENY(clone3, ENOSYS),
	KORE_SYSCALL_ALLOW(getpeername),
	KORE_SYSCALL_ALLOW(uname),
	KORE_SYSCALL_ALLOW(sched_getaffinity),
	KORE_SYSCALL_ALLOW(sched_yield),
	KORE_SYSCALL_ALLOW(prlimit64),
	KORE_SYSCALL_ALLOW(getrusage),
	KORE_SYSCALL_ALLOW(gettid),
	KORE_SYSCALL_ALLOW(getsockopt),
	KORE_SYSCALL_ALLOW(getsockname),
	KORE_SYSCALL_ALLOW(pipe2),
	KORE_SYSCALL_ALLOW(dup),
	KORE_SYSCALL_ALLOW(mremap),
	KORE_SYSCALL_ALLOW(sysinfo),
	KORE_SYSCALL_ALLOW(gettimeofday)
);

/* One request in flight: lives in hdlr_extra, freed by Kore. */
struct glue_call {
	struct kore_task	task;
	struct bw_req		req;
	int			started;
	int			route_idx;
};

static void
glue_log_sink(enum bw_log_level level, const char *line)
{
	kore_log(level >= BW_LOG_ERROR ? LOG_ERR : level == BW_LOG_WARN ?
	    LOG_WARNING : LOG_NOTICE, "%s", line);
}

static int
glue_load_config(void)
{
	struct bw_config	*cfg;
	const char		*path;
	char			 err[512];

	if (bw_server.cfg != NULL)
		return BW_OK;
	if ((path = getenv("BILLOW_CONFIG")) == NULL)
		path = "conf/billow.conf";
	cfg = bw_calloc(1, sizeof(*cfg));
	if (bw_config_load(cfg, path, err, sizeof(err)) != BW_OK ||
	    bw_config_env(cfg, err, sizeof(err)) != BW_OK ||
	    bw_config_validate(cfg, err, sizeof(err)) != BW_OK) {
		kore_log(LOG_ERR, "billow: %s", err);
		bw_config_free(cfg);
		free(cfg);
		return BW_ERROR;
	}
	bw_server.cfg = cfg;
	return BW_OK;
}

/* Tasks created and not yet finished, in this worker. */
static _Atomic int	glue_inflight;

/*
 * Plugins load in the parent before the sandbox (workers inherit them);
 * a plugin that fails stops start-up with its name and the reason.
 */
static void
glue_plugins_or_die(void)
{
	char	err[512];

	if (bw_server.cfg->nplugins == 0 || bw_plugins_loaded())
		return;
	if (bw_plugins_load(bw_server.cfg, err, sizeof(err)) != BW_OK)
		fatal("billow: %s", err);
}

/*
 * SIGHUP: swap plugins in place. Kore would also reload this module, but
 * requests in flight hold pointers into it (task callbacks, onfree,
 * hdlr_extra), so the core stays mapped and only the plugins, which are
 * reached through tables the core rebuilds, are closed and reopened from
 * disk, together with the configuration. New tasks can't start while
 * this runs in the event loop; the ones queued or running finish first.
 */
static void
glue_reload_plugins(void)
{
	struct bw_config	*old;
	int64_t			 deadline;
	char			 err[512];

	deadline = bw_mono_us() + 10 * 1000000LL;
	while (atomic_load(&glue_inflight) > 0 && bw_mono_us() < deadline)
		usleep(1000);
	if (atomic_load(&glue_inflight) > 0) {
		kore_log(LOG_ERR, "billow: tasks still running; plugins not "
		    "reloaded");
		return;
	}
	bw_plugins_unload();
	old = bw_server.cfg;
	bw_server.cfg = NULL;
	if (glue_load_config() != BW_OK) {
		kore_log(LOG_ERR, "billow: configuration invalid; keeping the "
		    "previous one");
		bw_server.cfg = old;
	} else {
		bw_thread_ctx_close_all();
		bw_config_free(old);
		free(old);
	}
	if (bw_server.cfg->nplugins > 0 &&
	    bw_plugins_load(bw_server.cfg, err, sizeof(err)) != BW_OK)
		kore_log(LOG_ERR, "billow: %s; serving without plugins", err);
	bw_routes_init();
	kore_log(LOG_NOTICE, "billow: configuration and %d plugin%s reloaded",
	    bw_plugins_loaded(), bw_plugins_loaded() == 1 ? "" : "s");
}

void
kore_parent_configure(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	/*
	 * With -f Kore logs to stdout. Flush what Kore already buffered (or
	 * every forked worker would print it again), then keep lines whole
	 * and timely.
	 */
	fflush(stdout);
	setvbuf(stdout, NULL, _IOLBF, 0);
	bw_log_set_sink(glue_log_sink);
	if (glue_load_config() != BW_OK)
		fatal("billow: cannot load the configuration");
	bw_metrics_init();
	glue_plugins_or_die();
}

/* Kore enforces request timeouts only when something wakes its loop. */
static void
glue_tick(void *arg, u_int64_t now)
{
	(void)arg;
	(void)now;
}

void
kore_worker_configure(void)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	kore_timer_add(glue_tick, 1000, NULL, 0);
}

/*
 * A worker leaving its loop (SIGTERM, or the parent gone). Kore would
 * next call exit(), whose library destructors can deadlock: p11-kit's
 * (pulled in by libpq's TLS stack) takes the locale lock in freelocale
 * and hung workers forever, measured under load. Nothing of Billow's
 * needs an orderly exit (a task still running may own a connection, so
 * none is closed here: the kernel closes the sockets), so leave now.
 */
void
kore_worker_teardown(void)
{
	fflush(stdout);
	fflush(stderr);
	_exit(0);
}

int
billow_onload(int action)
{
	char	err[512];

	if (action == KORE_MODULE_UNLOAD) {
		glue_reload_plugins();
		/* Keep this module mapped: Kore logs "forced no reloaded". */
		return KORE_RESULT_ERROR;
	}
	bw_log_set_sink(glue_log_sink);
	if (glue_load_config() != BW_OK)
		return KORE_RESULT_ERROR;
	bw_metrics_init();
	/* A worker forked after a parent reload inherits no plugins. */
	if (bw_server.cfg->nplugins > 0 && !bw_plugins_loaded() &&
	    bw_plugins_load(bw_server.cfg, err, sizeof(err)) != BW_OK) {
		kore_log(LOG_ERR, "billow: %s", err);
		return KORE_RESULT_ERROR;
	}
	bw_routes_init();
	return KORE_RESULT_OK;
}

static int
glue_method(int kore_method)
{
	switch (kore_method) {
	case HTTP_METHOD_GET:
		return BW_GET;
	case HTTP_METHOD_POST:
		return BW_POST;
	case HTTP_METHOD_PATCH:
		return BW_PATCH;
	case HTTP_METHOD_DELETE:
		return BW_DELETE;
	case HTTP_METHOD_PUT:
		return BW_PUT;
	case HTTP_METHOD_HEAD:
		return BW_HEAD;
	case HTTP_METHOD_OPTIONS:
		return BW_OPTIONS;
	}
	return 0;
}

/* Copies what the endpoint needs out of Kore's request. */
static int
glue_copy_request(struct http_request *hreq, struct bw_req *req)
{
	struct http_header	*h;
	struct connection	*c = hreq->owner;
	size_t			 n = 0;
	ssize_t			 r;
	u_int8_t		 rnd[8];

	req->method = glue_method(hreq->method);
	req->path = bw_arena_strdup(&req->arena, hreq->path);
	if (hreq->query_string != NULL)
		req->query = bw_arena_strdup(&req->arena, hreq->query_string);
	TAILQ_FOREACH(h, &hreq->req_headers, list)
		n++;
	req->headers = bw_arena_alloc(&req->arena,
	    (n + 1) * sizeof(*req->headers));
	n = 0;
	TAILQ_FOREACH(h, &hreq->req_headers, list) {
		req->headers[n].name = bw_arena_strdup(&req->arena, h->header);
		req->headers[n].value = bw_arena_strdup(&req->arena, h->value);
		n++;
	}
	req->nheaders = n;

	if (c->family == AF_INET)
		inet_ntop(AF_INET, &c->addr.ipv4.sin_addr, req->client_ip,
		    sizeof(req->client_ip));
	else if (c->family == AF_INET6)
		inet_ntop(AF_INET6, &c->addr.ipv6.sin6_addr, req->client_ip,
		    sizeof(req->client_ip));
	else
		snprintf(req->client_ip, sizeof(req->client_ip), "unix");

	bw_random_bytes(rnd, sizeof(rnd));
	snprintf(req->request_id, sizeof(req->request_id),
	    "req_%02x%02x%02x%02x%02x%02x%02x%02x", rnd[0], rnd[1], rnd[2],
	    rnd[3], rnd[4], rnd[5], rnd[6], rnd[7]);
	req->start_us = bw_mono_us();

	if (hreq->http_body_length > 0) {
		req->body = bw_arena_alloc(&req->arena,
		    hreq->http_body_length + 1);
		if (http_body_rewind(hreq) != KORE_RESULT_OK)
			return BW_ERROR;
		n = 0;
		while (n < hreq->http_body_length) {
			r = http_body_read(hreq, req->body + n,
			    hreq->http_body_length - n);
			if (r <= 0)
				break;
			n += (size_t)r;
		}
		req->body[n] = '\0';
		req->body_len = n;
	}
	return BW_OK;
}

static int
glue_task(struct kore_task *t)
{
	struct glue_call	*call = (struct glue_call *)t;

	bw_dispatch(&call->req);
	atomic_fetch_sub(&glue_inflight, 1);
	return KORE_RESULT_OK;
}

static void
glue_access_log(struct glue_call *call)
{
	struct bw_req	*req = &call->req;
	int64_t		 dur = bw_mono_us() - req->start_us;

	bw_metrics_record(call->route_idx, req->status, dur);
	/* The path only: query strings may carry cursors or emails. */
	kore_log(LOG_INFO, "access %s %s %d %.3fms %s tenant=%s",
	    bw_http_method_name(req->method), req->path, req->status,
	    (double)dur / 1000.0, req->request_id,
	    req->who.tenant_id[0] != '\0' ? req->who.tenant_id : "-");
}

static void
glue_respond(struct http_request *hreq, struct glue_call *call)
{
	struct bw_req	*req = &call->req;
	size_t		 i;

	http_response_header(hreq, "Request-Id", req->request_id);
	if (req->content_type != NULL)
		http_response_header(hreq, "Content-Type", req->content_type);
	for (i = 0; i < req->nresp_headers; i++)
		http_response_header(hreq, req->resp_headers[i].name,
		    req->resp_headers[i].value);
	http_response(hreq, req->status, req->out.data, req->out.len);
	glue_access_log(call);
	bw_req_free(req);
}

/* Frees a call whose client went away while its task still ran. */
static void
glue_onfree(struct http_request *hreq)
{
	struct glue_call	*call = hreq->hdlr_extra;

	if (call == NULL || !call->started)
		return;
	if (kore_task_state(&call->task) != KORE_TASK_STATE_FINISHED)
		return;
	bw_req_free(&call->req);
	call->started = 0;
}

int
billow_http(struct http_request *hreq)
{
	struct glue_call	*call = hreq->hdlr_extra;

	if (call == NULL) {
		call = kore_calloc(1, sizeof(*call));
		hreq->hdlr_extra = call;
		bw_req_init(&call->req);
		call->req.server = &bw_server;
		if (glue_copy_request(hreq, &call->req) != BW_OK) {
			bw_req_error(&call->req, 400, "invalid_request_error",
			    "invalid_body", NULL, "The request body could not "
			    "be read.");
			bw_req_render_error(&call->req);
			call->route_idx = -1;
			glue_respond(hreq, call);
			return KORE_RESULT_OK;
		}
		if (bw_answer_inline(&call->req)) {
			call->route_idx = call->req.route != NULL ?
			    bw_router_index(call->req.route) : -1;
			glue_respond(hreq, call);
			return KORE_RESULT_OK;
		}
		call->route_idx = bw_router_index(call->req.route);
		call->started = 1;
		hreq->onfree = glue_onfree;
		atomic_fetch_add(&glue_inflight, 1);
		kore_task_create(&call->task, glue_task);
		kore_task_bind_request(&call->task, hreq);
		kore_task_run(&call->task);
		return KORE_RESULT_RETRY;
	}
	if (kore_task_state(&call->task) != KORE_TASK_STATE_FINISHED) {
		http_request_sleep(hreq);
		return KORE_RESULT_RETRY;
	}
	call->started = 0;
	glue_respond(hreq, call);
	return KORE_RESULT_OK;
}
