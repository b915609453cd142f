/*
 * Input validation helpers: wrong JSON types are rejected, never coerced
 * (API.md "Conventions"), and every failure names its parameter.
 * Runs on Kore task threads; memory stays with the request.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "db/db.h"
#include "server/params.h"

/*
 * Nesting depth of a JSON text, counted outside strings, so that a deep
 * document is refused before jansson recurses into it.
 */
static int
json_depth_ok(const char *s, size_t n)
{
	size_t	i;
	int	depth = 0, instr = 0;

	for (i = 0; i < n; i++) {
		if (instr) {
			if (s[i] == '\\')
				i++;
			else if (s[i] == '"')
				instr = 0;
			continue;
		}
		switch (s[i]) {
		case '"':
			instr = 1;
			break;
		case '{':
		case '[':
			if (++depth > BW_JSON_MAX_DEPTH)
				return 0;
			break;
		case '}':
		case ']':
			depth--;
			break;
		}
	}
	return 1;
}

static int
content_type_json(const char *ct)
{
	size_t	n = strlen("application/json");

	if (ct == NULL)
		return 0;
	while (*ct == ' ')
		ct++;
	if (strncasecmp(ct, "application/json", n) != 0)
		return 0;
	return ct[n] == '\0' || ct[n] == ';' || ct[n] == ' ';
}

int
bw_body_object(struct bw_req *req)
{
	json_error_t	 jerr;
	json_t		*v;

	if (req->json != NULL)
		return BW_OK;
	if (req->body_len == 0) {
		req->json = json_object();
		return BW_OK;
	}
	if (!content_type_json(bw_req_header(req, "content-type")))
		return bw_req_error(req, 415, "invalid_request_error",
		    "unsupported_media_type", NULL,
		    "Request bodies must be JSON (Content-Type: "
		    "application/json).");
	if (!json_depth_ok(req->body, req->body_len))
		return bw_req_error(req, 400, "invalid_request_error",
		    "invalid_json", NULL,
		    "JSON nesting is deeper than %d levels.",
		    BW_JSON_MAX_DEPTH);
	v = json_loadb(req->body, req->body_len,
	    JSON_REJECT_DUPLICATES, &jerr);
	if (v == NULL)
		return bw_req_error(req, 400, "invalid_request_error",
		    "invalid_json", NULL,
		    "The request body is not valid JSON (line %d, column %d).",
		    jerr.line, jerr.column);
	if (!json_is_object(v)) {
		json_decref(v);
		return bw_req_error(req, 400, "invalid_request_error",
		    "invalid_json", NULL,
		    "The request body must be a JSON object.");
	}
	req->json = v;
	return BW_OK;
}

int
bw_params_only(struct bw_req *req, json_t *obj, const char *const *allowed)
{
	const char	*key;
	json_t		*v;
	size_t		 i;

	json_object_foreach(obj, key, v) {
		for (i = 0; allowed[i] != NULL; i++)
			if (strcmp(allowed[i], key) == 0)
				break;
		if (allowed[i] == NULL)
			return bw_req_error(req, 400, "invalid_request_error",
			    "parameter_unknown", bw_utf8_len(key) <= 60 ?
			    key : NULL, "Received unknown parameter: %.60s.",
			    key);
	}
	return BW_OK;
}

size_t
bw_utf8_len(const char *s)
{
	size_t	n = 0;

	for (; *s != '\0'; s++)
		if (((unsigned char)*s & 0xc0) != 0x80)
			n++;
	return n;
}

/* Looks KEY up: BW_DECLINED when absent or allowed null, else BW_OK. */
static int
param_get(struct bw_req *req, json_t *obj, const char *key, int flags,
    json_t **v)
{
	*v = json_object_get(obj, key);
	if (*v == NULL) {
		if (flags & BW_P_REQUIRED)
			return bw_err_missing(req, key);
		return BW_DECLINED;
	}
	if (json_is_null(*v)) {
		if (flags & BW_P_NULLABLE)
			return BW_DECLINED;
		if (flags & BW_P_REQUIRED)
			return bw_err_missing(req, key);
		return bw_err_invalid(req, key, "%s may not be null.", key);
	}
	return BW_OK;
}

int
bw_param_str(struct bw_req *req, json_t *obj, const char *key, int flags,
    size_t maxlen, const char **out)
{
	json_t	*v;
	int	 rc;

	*out = NULL;
	if ((rc = param_get(req, obj, key, flags, &v)) != BW_OK)
		return rc;
	if (!json_is_string(v))
		return bw_err_invalid(req, key, "%s must be a string.", key);
	if (maxlen > 0 && bw_utf8_len(json_string_value(v)) > maxlen)
		return bw_err_invalid(req, key,
		    "%s must be at most %zu characters.", key, maxlen);
	if ((flags & BW_P_REQUIRED) && json_string_length(v) == 0)
		return bw_err_invalid(req, key, "%s may not be empty.", key);
	*out = json_string_value(v);
	return BW_OK;
}

int
bw_param_int(struct bw_req *req, json_t *obj, const char *key, int flags,
    int64_t min, int64_t max, int64_t *out)
{
	json_t	*v;
	int	 rc;

	if ((rc = param_get(req, obj, key, flags, &v)) != BW_OK)
		return rc;
	if (!json_is_integer(v))
		return bw_err_invalid(req, key, "%s must be an integer.", key);
	if (json_integer_value(v) < min || json_integer_value(v) > max)
		return bw_err_invalid(req, key,
		    "%s must be between %lld and %lld.", key, (long long)min,
		    (long long)max);
	*out = json_integer_value(v);
	return BW_OK;
}

int
bw_param_bool(struct bw_req *req, json_t *obj, const char *key, int flags,
    int *out)
{
	json_t	*v;
	int	 rc;

	if ((rc = param_get(req, obj, key, flags, &v)) != BW_OK)
		return rc;
	if (!json_is_boolean(v))
		return bw_err_invalid(req, key, "%s must be a boolean.", key);
	*out = json_is_true(v);
	return BW_OK;
}

int
bw_param_enum(struct bw_req *req, json_t *obj, const char *key, int flags,
    const char *const *choices, const char **out)
{
	size_t	i;
	int	rc;

	if ((rc = bw_param_str(req, obj, key, flags, 64, out)) != BW_OK)
		return rc;
	for (i = 0; choices[i] != NULL; i++)
		if (strcmp(choices[i], *out) == 0)
			return BW_OK;
	return bw_err_invalid(req, key, "%s has an unsupported value.", key);
}

int
bw_email_valid(const char *s)
{
	const char	*at, *dot, *p;

	if (strlen(s) > 254 || (at = strchr(s, '@')) == NULL || at == s)
		return 0;
	if (strchr(at + 1, '@') != NULL)
		return 0;
	for (p = s; *p != '\0'; p++)
		if ((unsigned char)*p <= ' ' || *p == '<' || *p == '>' ||
		    *p == ',' || *p == ';' || *p == '"' || *p == '\\' ||
		    (unsigned char)*p == 0x7f)
			return 0;
	dot = strrchr(at, '.');
	if (dot == NULL || dot == at + 1 || dot[1] == '\0')
		return 0;
	if (strstr(at, "..") != NULL)
		return 0;
	return 1;
}

int
bw_param_email(struct bw_req *req, json_t *obj, const char *key, int flags,
    const char **out)
{
	int	rc;

	if ((rc = bw_param_str(req, obj, key, flags, 254, out)) != BW_OK)
		return rc;
	if (!bw_email_valid(*out))
		return bw_err_invalid(req, key, "%s is not a valid email "
		    "address.", key);
	return BW_OK;
}

int
bw_param_object(struct bw_req *req, json_t *obj, const char *key, int flags,
    json_t **out)
{
	json_t	*v;
	int	 rc;

	*out = NULL;
	if ((rc = param_get(req, obj, key, flags, &v)) != BW_OK)
		return rc;
	if (!json_is_object(v))
		return bw_err_invalid(req, key, "%s must be an object.", key);
	*out = v;
	return BW_OK;
}

int
bw_param_metadata(struct bw_req *req, json_t *obj, const char *key,
    json_t **out)
{
	const char	*k;
	json_t		*v;
	int		 rc;

	if ((rc = bw_param_object(req, obj, key, BW_P_OPTIONAL, out)) != BW_OK)
		return rc;
	if (json_object_size(*out) > 50)
		return bw_err_invalid(req, key, "metadata may have at most 50 "
		    "keys.");
	json_object_foreach(*out, k, v) {
		if (bw_utf8_len(k) == 0 || bw_utf8_len(k) > 40)
			return bw_err_invalid(req, key, "metadata keys must be "
			    "1 to 40 characters.");
		if (!json_is_string(v))
			return bw_err_invalid(req, key, "metadata values must "
			    "be strings.");
		if (bw_utf8_len(json_string_value(v)) > 500)
			return bw_err_invalid(req, key, "metadata values must "
			    "be at most 500 characters.");
	}
	return BW_OK;
}

char *
bw_param_metadata_new(struct bw_req *req)
{
	const char	*k;
	json_t		*m, *v, *out;
	char		*s;
	int		 rc;

	if ((rc = bw_param_metadata(req, req->json, "metadata", &m)) ==
	    BW_ERROR)
		return NULL;
	out = json_object();
	if (rc == BW_OK)
		json_object_foreach(m, k, v)
			if (json_string_length(v) > 0)
				json_object_set(out, k, v);
	s = json_dumps(out, JSON_COMPACT);
	json_decref(out);
	return s;
}

static int
page_id(struct bw_req *req, const char *name, const char *prefix,
    const char **out)
{
	const char	*v;
	size_t		 i, plen = strlen(prefix);

	*out = NULL;
	if ((v = bw_req_query(req, name)) == NULL)
		return BW_OK;
	if (strncmp(v, prefix, plen) != 0 || v[plen] != '_' ||
	    v[plen + 1] == '\0' || strlen(v) > 64)
		return bw_err_invalid(req, name, "%s must be an id.", name);
	for (i = plen + 1; v[i] != '\0'; i++)
		if (!isalnum((unsigned char)v[i]))
			return bw_err_invalid(req, name, "%s must be an id.",
			    name);
	*out = v;
	return BW_OK;
}

int
bw_page_parse(struct bw_req *req, const char *prefix, struct bw_page *page)
{
	const char	*v;
	char		*end;
	long		 n;

	page->limit = 10;
	if ((v = bw_req_query(req, "limit")) != NULL) {
		n = strtol(v, &end, 10);
		if (*v < '0' || *v > '9' || *end != '\0' || n < 1 || n > 100)
			return bw_err_invalid(req, "limit",
			    "limit must be an integer between 1 and 100.");
		page->limit = (int)n;
	}
	if (page_id(req, "starting_after", prefix, &page->starting_after) !=
	    BW_OK || page_id(req, "ending_before", prefix,
	    &page->ending_before) != BW_OK)
		return BW_ERROR;
	if (page->starting_after != NULL && page->ending_before != NULL)
		return bw_err_invalid(req, "ending_before", "starting_after "
		    "and ending_before cannot be used together.");
	return BW_OK;
}

int
bw_page_respond(struct bw_req *req, const struct bw_page *page,
    json_t *items, const char *url)
{
	json_t	*data;
	size_t	 n, i;
	int	 has_more;

	n = json_array_size(items);
	has_more = n > (size_t)page->limit;
	if (has_more)
		json_array_remove(items, (size_t)page->limit);
	if (page->ending_before != NULL) {
		data = json_array();
		for (i = json_array_size(items); i > 0; i--)
			json_array_append(data, json_array_get(items, i - 1));
		json_decref(items);
		items = data;
	}
	return bw_req_json(req, 200, json_pack("{s:s, s:o, s:b, s:s}",
	    "object", "list", "data", items, "has_more", has_more,
	    "url", url));
}

void
bw_time_rfc3339(int64_t t, char *out, size_t len)
{
	struct tm	tm;
	time_t		tt = (time_t)t;

	gmtime_r(&tt, &tm);
	strftime(out, len, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/* N decimal digits at S into *OUT; 1 when they are all digits. */
static int
digits(const char *s, int n, int *out)
{
	int	i, v = 0;

	for (i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return 0;
		v = v * 10 + (s[i] - '0');
	}
	*out = v;
	return 1;
}

static int
days_in_month(int y, int m)
{
	static const int	days[] = { 31, 28, 31, 30, 31, 30, 31, 31, 30,
				    31, 30, 31 };

	if (m == 2 && ((y % 4 == 0 && y % 100 != 0) || y % 400 == 0))
		return 29;
	return days[m - 1];
}

/*
 * RFC 3339 date-time, strictly: YYYY-MM-DDTHH:MM:SS[.frac](Z|+HH:MM|-HH:MM)
 * with every field its full width and the date one that exists.
 */
int
bw_time_parse(const char *s, int64_t *out)
{
	struct tm	tm;
	int		y, mo, d, h, mi, sec, oh, om, off = 0;
	const char	*p;

	if (strlen(s) < 20 || !digits(s, 4, &y) || s[4] != '-' ||
	    !digits(s + 5, 2, &mo) || s[7] != '-' || !digits(s + 8, 2, &d) ||
	    (s[10] != 'T' && s[10] != 't') || !digits(s + 11, 2, &h) ||
	    s[13] != ':' || !digits(s + 14, 2, &mi) || s[16] != ':' ||
	    !digits(s + 17, 2, &sec))
		return BW_ERROR;
	if (y < 1970 || mo < 1 || mo > 12 || d < 1 ||
	    d > days_in_month(y, mo) || h > 23 || mi > 59 || sec > 59)
		return BW_ERROR;
	p = s + 19;
	if (*p == '.') {
		p++;
		if (*p < '0' || *p > '9')
			return BW_ERROR;
		while (*p >= '0' && *p <= '9')
			p++;
	}
	if (*p == 'Z' || *p == 'z') {
		p++;
	} else if (*p == '+' || *p == '-') {
		if (!digits(p + 1, 2, &oh) || p[3] != ':' ||
		    !digits(p + 4, 2, &om) || oh > 23 || om > 59)
			return BW_ERROR;
		off = (oh * 3600 + om * 60) * (*p == '-' ? -1 : 1);
		p += 6;
	} else {
		return BW_ERROR;
	}
	if (*p != '\0')
		return BW_ERROR;
	memset(&tm, 0, sizeof(tm));
	tm.tm_year = y - 1900;
	tm.tm_mon = mo - 1;
	tm.tm_mday = d;
	tm.tm_hour = h;
	tm.tm_min = mi;
	tm.tm_sec = sec;
	*out = (int64_t)timegm(&tm) - off;
	return BW_OK;
}

void
bw_list_init(struct bw_req *req, struct bw_list *l, const char *select_from)
{
	memset(l, 0, sizeof(*l));
	l->req = req;
	l->sql = bw_arena_strdup(&req->arena, select_from);
}

void
bw_list_where(struct bw_list *l, const char *cond)
{
	l->sql = bw_arena_printf(&l->req->arena, "%s %s %s", l->sql,
	    l->nconds++ == 0 ? "WHERE" : "AND", cond);
}

void
bw_list_filter(struct bw_list *l, const char *fmt, const char *value)
{
	char	*cond;

	if (value == NULL)
		return;
	if (l->n >= BW_LIST_PARAMS_MAX)
		abort();	/* a programming error, never input */
	l->p[l->n++] = value;
	/* FMT is a constant of the caller with one %d: never input. */
	cond = bw_arena_printf(&l->req->arena, fmt, l->n);
	bw_list_where(l, cond);
}

PGresult *
bw_list_query(struct bw_list *l, const struct bw_page *page, const char *id)
{
	char	cond[96];

	if (page->starting_after != NULL) {
		snprintf(cond, sizeof(cond), "%s < $%%d", id);
		bw_list_filter(l, cond, page->starting_after);
	}
	if (page->ending_before != NULL) {
		snprintf(cond, sizeof(cond), "%s > $%%d", id);
		bw_list_filter(l, cond, page->ending_before);
	}
	l->sql = bw_arena_printf(&l->req->arena, "%s ORDER BY %s %s LIMIT %d",
	    l->sql, id, page->ending_before != NULL ? "ASC" : "DESC",
	    page->limit + 1);
	return bw_db_query(l->req->db, l->sql, l->n, l->n > 0 ? l->p : NULL);
}

PGresult *
bw_page_query(struct bw_req *req, const struct bw_page *page,
    const char *select_from, const char *id)
{
	struct bw_list	l;

	bw_list_init(req, &l, select_from);
	return bw_list_query(&l, page, id);
}
