/*
 * Request and response helpers: headers, query strings, errors and JSON
 * bodies. Runs on Kore task threads (and in the event loop for answers
 * that need no database); touches only the request it is given.
 */
#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "server/http.h"

void
bw_req_init(struct bw_req *req)
{
	memset(req, 0, sizeof(*req));
	bw_arena_init(&req->arena);
	bw_buf_init(&req->out);
	req->status = 200;
	req->task_retry_ms = -1;
}

void
bw_req_free(struct bw_req *req)
{
	if (req->json != NULL)
		json_decref(req->json);
	req->json = NULL;
	bw_buf_free(&req->out);
	bw_arena_free(&req->arena);
}

const char *
bw_req_header(const struct bw_req *req, const char *name)
{
	size_t	i;

	for (i = 0; i < req->nheaders; i++) {
		if (strcasecmp(req->headers[i].name, name) == 0)
			return req->headers[i].value;
	}
	return NULL;
}

static int
hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = tolower(c);
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/* Percent-decodes [s, s+n) into arena memory; '+' is a space in queries. */
static char *
query_decode(struct bw_arena *a, const char *s, size_t n)
{
	char	*out, *o;
	size_t	 i;
	int	 hi, lo;

	out = o = bw_arena_alloc(a, n + 1);
	for (i = 0; i < n; i++) {
		if (s[i] == '+') {
			*o++ = ' ';
		} else if (s[i] == '%' && i + 2 < n &&
		    (hi = hexval((unsigned char)s[i + 1])) >= 0 &&
		    (lo = hexval((unsigned char)s[i + 2])) >= 0 &&
		    (hi | lo) != 0) {
			/* %00 stays literal: a NUL would cut the C string. */
			*o++ = (char)(hi * 16 + lo);
			i += 2;
		} else {
			*o++ = s[i];
		}
	}
	*o = '\0';
	return out;
}

const char *
bw_req_query(struct bw_req *req, const char *name)
{
	const char	*p, *amp, *eq;
	size_t		 klen, nlen;
	char		*key;

	if (req->query == NULL)
		return NULL;
	nlen = strlen(name);
	for (p = req->query; *p != '\0'; p = *amp ? amp + 1 : amp) {
		amp = strchrnul(p, '&');
		eq = memchr(p, '=', (size_t)(amp - p));
		klen = (size_t)((eq != NULL ? eq : amp) - p);
		key = query_decode(&req->arena, p, klen);
		if (strlen(key) == nlen && memcmp(key, name, nlen) == 0) {
			if (eq == NULL)
				return "";
			return query_decode(&req->arena, eq + 1,
			    (size_t)(amp - eq - 1));
		}
	}
	return NULL;
}

const char *
bw_req_param(const struct bw_req *req, size_t n)
{
	if (n >= req->nparams)
		return NULL;
	return req->params[n];
}

void
bw_req_set_header(struct bw_req *req, const char *name, const char *value)
{
	struct bw_header	*h;

	if (req->nresp_headers >= BW_MAX_RESP_HEADERS)
		return;
	h = &req->resp_headers[req->nresp_headers++];
	h->name = bw_arena_strdup(&req->arena, name);
	h->value = bw_arena_strdup(&req->arena, value);
}

static int
req_errorv(struct bw_req *req, int status, const char *type,
    const char *code, const char *param, const char *fmt, va_list ap)
{
	struct bw_error	*e = &req->err;

	memset(e, 0, sizeof(*e));
	e->status = status;
	snprintf(e->type, sizeof(e->type), "%s", type);
	snprintf(e->code, sizeof(e->code), "%s", code);
	if (param != NULL)
		snprintf(e->param, sizeof(e->param), "%s", param);
	vsnprintf(e->message, sizeof(e->message), fmt, ap);
	req->failed = 1;
	return BW_ERROR;
}

int
bw_req_error(struct bw_req *req, int status, const char *type,
    const char *code, const char *param, const char *fmt, ...)
{
	va_list	ap;
	int	rc;

	va_start(ap, fmt);
	rc = req_errorv(req, status, type, code, param, fmt, ap);
	va_end(ap);
	return rc;
}

int
bw_err_invalid(struct bw_req *req, const char *param, const char *fmt, ...)
{
	va_list	ap;
	int	rc;

	va_start(ap, fmt);
	rc = req_errorv(req, 400, "invalid_request_error",
	    "parameter_invalid", param, fmt, ap);
	va_end(ap);
	return rc;
}

int
bw_err_missing(struct bw_req *req, const char *param)
{
	return bw_req_error(req, 400, "invalid_request_error",
	    "parameter_missing", param, "Missing required parameter: %s.",
	    param);
}

int
bw_err_not_found(struct bw_req *req, const char *what)
{
	return bw_req_error(req, 404, "invalid_request_error",
	    "resource_missing", NULL, "No such %s.", what);
}

int
bw_err_internal(struct bw_req *req)
{
	return bw_req_error(req, 500, "api_error", "internal_error", NULL,
	    "An internal error occurred. Request %s.", req->request_id);
}

int
bw_err_unavailable(struct bw_req *req)
{
	bw_req_error(req, 503, "api_error", "service_unavailable", NULL,
	    "The service is temporarily unavailable; retry shortly.");
	req->err.retry_after = 1;
	return BW_ERROR;
}

int
bw_req_json(struct bw_req *req, int status, json_t *value)
{
	char	*s;

	req->status = status;
	req->content_type = "application/json; charset=utf-8";
	bw_buf_reset(&req->out);
	s = json_dumps(value, JSON_COMPACT | JSON_PRESERVE_ORDER);
	json_decref(value);
	if (s == NULL)
		return bw_err_internal(req);
	bw_buf_appends(&req->out, s);
	free(s);
	return BW_OK;
}

void
bw_req_render_error(struct bw_req *req)
{
	struct bw_error	*e = &req->err;
	json_t		*inner;
	char		 ra[16];

	inner = json_object();
	json_object_set_new(inner, "type", json_string(e->type));
	json_object_set_new(inner, "code", json_string(e->code));
	json_object_set_new(inner, "message", json_string(e->message));
	if (e->param[0] != '\0')
		json_object_set_new(inner, "param", json_string(e->param));
	if (e->retry_after > 0) {
		snprintf(ra, sizeof(ra), "%d", e->retry_after);
		bw_req_set_header(req, "Retry-After", ra);
	}
	bw_req_json(req, e->status, json_pack("{so}", "error", inner));
	req->status = e->status;
}

const char *
bw_http_status_text(int status)
{
	switch (status) {
	case 200: return "OK";
	case 201: return "Created";
	case 202: return "Accepted";
	case 204: return "No Content";
	case 400: return "Bad Request";
	case 401: return "Unauthorized";
	case 402: return "Payment Required";
	case 403: return "Forbidden";
	case 404: return "Not Found";
	case 405: return "Method Not Allowed";
	case 408: return "Request Timeout";
	case 409: return "Conflict";
	case 413: return "Payload Too Large";
	case 415: return "Unsupported Media Type";
	case 429: return "Too Many Requests";
	case 500: return "Internal Server Error";
	case 503: return "Service Unavailable";
	default: return "Unknown";
	}
}

static const struct {
	int		 method;
	const char	*name;
} methods[] = {
	{ BW_GET, "GET" }, { BW_POST, "POST" }, { BW_PATCH, "PATCH" },
	{ BW_DELETE, "DELETE" }, { BW_PUT, "PUT" }, { BW_HEAD, "HEAD" },
	{ BW_OPTIONS, "OPTIONS" },
};

const char *
bw_http_method_name(int m)
{
	size_t	i;

	for (i = 0; i < BW_NELEM(methods); i++)
		if (methods[i].method == m)
			return methods[i].name;
	return "?";
}

int
bw_http_method_parse(const char *s)
{
	size_t	i;

	for (i = 0; i < BW_NELEM(methods); i++)
		if (strcmp(methods[i].name, s) == 0)
			return methods[i].method;
	return 0;
}
