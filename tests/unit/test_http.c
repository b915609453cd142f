/*
 * Unit tests for src/server/{router,http,params}.c: routing, query strings,
 * headers, JSON bodies, field validation, pagination, timestamps and the
 * error body. No server and no database: requests are built by hand.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/core.h"
#include "server/http.h"
#include "server/params.h"
#include "server/server.h"
#include "test_list.h"

static int
dummy_handler(struct bw_req *req)
{
	(void)req;
	return BW_OK;
}

static const struct bw_route test_routes[] = {
	{ BW_GET, "/", BW_AUTH_PUBLIC, 0, dummy_handler, 0 },
	{ BW_GET, "/api/v1/customers", BW_AUTH_TENANT, 0, dummy_handler, 0 },
	{ BW_POST, "/api/v1/customers", BW_AUTH_TENANT, 0, dummy_handler, 0 },
	{ BW_GET, "/api/v1/customers/{id}", BW_AUTH_TENANT, 0,
	    dummy_handler, 0 },
	{ BW_POST, "/api/v1/customers/{id}", BW_AUTH_TENANT, 0,
	    dummy_handler, 0 },
	{ BW_DELETE, "/api/v1/customers/{id}", BW_AUTH_TENANT, 0,
	    dummy_handler, 0 },
	{ BW_GET, "/api/v1/customers/{id}/invoices/{invoice}",
	    BW_AUTH_TENANT, 0, dummy_handler, 0 },
	{ BW_POST, "/a/{id}/b", BW_AUTH_TENANT, 0, dummy_handler, 0 },
};

static void
routes_setup(void)
{
	bw_router_clear();
	bw_router_add(test_routes, BW_NELEM(test_routes));
}

static void
routes_teardown(void)
{
	bw_router_clear();
}

/* Matches METHOD PATH on a fresh REQ (the caller frees it). */
static int
match(struct bw_req *req, int method, const char *path, int *allow)
{
	bw_req_init(req);
	req->method = method;
	req->path = bw_arena_strdup(&req->arena, path);
	return bw_router_match(req, allow);
}

START_TEST(router_exact_match)
{
	struct bw_req	req;
	int		allow;

	ck_assert_int_eq(bw_router_count(), (int)BW_NELEM(test_routes));
	ck_assert_int_eq(match(&req, BW_GET, "/api/v1/customers", &allow),
	    BW_MATCH_OK);
	ck_assert_ptr_eq(req.route, &test_routes[1]);
	ck_assert_uint_eq(req.nparams, 0);
	ck_assert_int_eq(bw_router_index(req.route), 1);
	ck_assert_str_eq(bw_router_pattern(1), "/api/v1/customers");
	bw_req_free(&req);

	ck_assert_int_eq(match(&req, BW_POST, "/api/v1/customers", &allow),
	    BW_MATCH_OK);
	ck_assert_ptr_eq(req.route, &test_routes[2]);
	bw_req_free(&req);
}
END_TEST

START_TEST(router_captures_one_param)
{
	struct bw_req	req;
	int		allow;

	ck_assert_int_eq(match(&req, BW_DELETE, "/api/v1/customers/cus_123",
	    &allow), BW_MATCH_OK);
	ck_assert_ptr_eq(req.route, &test_routes[5]);
	ck_assert_uint_eq(req.nparams, 1);
	ck_assert_str_eq(bw_req_param(&req, 0), "cus_123");
	ck_assert_ptr_null(bw_req_param(&req, 1));
	bw_req_free(&req);
}
END_TEST

START_TEST(router_captures_two_params)
{
	struct bw_req	req;
	int		allow;

	ck_assert_int_eq(match(&req, BW_GET,
	    "/api/v1/customers/cus_1/invoices/in_2", &allow), BW_MATCH_OK);
	ck_assert_ptr_eq(req.route, &test_routes[6]);
	ck_assert_uint_eq(req.nparams, 2);
	ck_assert_str_eq(bw_req_param(&req, 0), "cus_1");
	ck_assert_str_eq(bw_req_param(&req, 1), "in_2");
	ck_assert_ptr_null(bw_req_param(&req, 2));
	bw_req_free(&req);
}
END_TEST

START_TEST(router_trailing_slash_is_optional)
{
	struct bw_req	req;
	int		allow;

	ck_assert_int_eq(match(&req, BW_GET, "/api/v1/customers/", &allow),
	    BW_MATCH_OK);
	ck_assert_ptr_eq(req.route, &test_routes[1]);
	bw_req_free(&req);

	/* The slash is not part of the capture. */
	ck_assert_int_eq(match(&req, BW_GET, "/api/v1/customers/cus_9/",
	    &allow), BW_MATCH_OK);
	ck_assert_ptr_eq(req.route, &test_routes[3]);
	ck_assert_str_eq(bw_req_param(&req, 0), "cus_9");
	bw_req_free(&req);

	ck_assert_int_eq(match(&req, BW_POST, "/a/x/b/", &allow),
	    BW_MATCH_OK);
	ck_assert_ptr_eq(req.route, &test_routes[7]);
	ck_assert_str_eq(bw_req_param(&req, 0), "x");
	bw_req_free(&req);

	/* Only one trailing slash is optional. */
	ck_assert_int_eq(match(&req, BW_GET, "/api/v1/customers//", &allow),
	    BW_MATCH_NOT_FOUND);
	bw_req_free(&req);
}
END_TEST

START_TEST(router_root)
{
	struct bw_req	req;
	int		allow;

	ck_assert_int_eq(match(&req, BW_GET, "/", &allow), BW_MATCH_OK);
	ck_assert_ptr_eq(req.route, &test_routes[0]);
	ck_assert_uint_eq(req.nparams, 0);
	bw_req_free(&req);

	/* "//" is the root plus its optional trailing slash. */
	ck_assert_int_eq(match(&req, BW_GET, "//", &allow), BW_MATCH_OK);
	ck_assert_ptr_eq(req.route, &test_routes[0]);
	bw_req_free(&req);
	ck_assert_int_eq(match(&req, BW_GET, "///", &allow),
	    BW_MATCH_NOT_FOUND);
	bw_req_free(&req);
}
END_TEST

START_TEST(router_not_found)
{
	struct bw_req	req;
	int		allow;

	ck_assert_int_eq(match(&req, BW_GET, "/api/v1/plans", &allow),
	    BW_MATCH_NOT_FOUND);
	ck_assert_ptr_null(req.route);
	ck_assert_int_eq(allow, 0);
	bw_req_free(&req);

	ck_assert_int_eq(match(&req, BW_GET,
	    "/api/v1/customers/cus_1/extra", &allow), BW_MATCH_NOT_FOUND);
	bw_req_free(&req);

	ck_assert_int_eq(match(&req, BW_GET, "", &allow), BW_MATCH_NOT_FOUND);
	bw_req_free(&req);
}
END_TEST

START_TEST(router_wrong_method_reports_allow)
{
	struct bw_req	req;
	int		allow;

	ck_assert_int_eq(match(&req, BW_PATCH, "/api/v1/customers/cus_1",
	    &allow), BW_MATCH_METHOD);
	ck_assert_ptr_null(req.route);
	ck_assert_int_eq(allow & (BW_GET | BW_POST | BW_DELETE),
	    BW_GET | BW_POST | BW_DELETE);
	ck_assert_int_eq(allow & (BW_PATCH | BW_PUT), 0);
	bw_req_free(&req);

	ck_assert_int_eq(match(&req, BW_DELETE, "/api/v1/customers", &allow),
	    BW_MATCH_METHOD);
	ck_assert_int_eq(allow & (BW_GET | BW_POST), BW_GET | BW_POST);
	ck_assert_int_eq(allow & BW_DELETE, 0);
	bw_req_free(&req);

	ck_assert_int_eq(match(&req, BW_GET, "/a/x/b", &allow),
	    BW_MATCH_METHOD);
	ck_assert_int_eq(allow & BW_POST, BW_POST);
	ck_assert_int_eq(allow & BW_GET, 0);
	bw_req_free(&req);
}
END_TEST

START_TEST(router_empty_segment_is_not_a_capture)
{
	struct bw_req	req;
	int		allow;

	ck_assert_int_eq(match(&req, BW_POST, "/a//b", &allow),
	    BW_MATCH_NOT_FOUND);
	ck_assert_ptr_null(req.route);
	bw_req_free(&req);

	/* "/api/v1/customers//" is the list with two slashes, not {id}="". */
	ck_assert_int_eq(match(&req, BW_DELETE, "/api/v1/customers//",
	    &allow), BW_MATCH_NOT_FOUND);
	bw_req_free(&req);
}
END_TEST

START_TEST(router_prefix_does_not_match)
{
	struct bw_req	req;
	int		allow;

	ck_assert_int_eq(match(&req, BW_GET, "/api/v1/customer", &allow),
	    BW_MATCH_NOT_FOUND);
	bw_req_free(&req);
	ck_assert_int_eq(match(&req, BW_GET, "/api/v1/customersx", &allow),
	    BW_MATCH_NOT_FOUND);
	bw_req_free(&req);
	ck_assert_int_eq(match(&req, BW_GET, "/api/v1", &allow),
	    BW_MATCH_NOT_FOUND);
	bw_req_free(&req);
	ck_assert_int_eq(match(&req, BW_POST, "/a/x", &allow),
	    BW_MATCH_NOT_FOUND);
	bw_req_free(&req);
}
END_TEST

START_TEST(router_head_matches_get)
{
	struct bw_req	req;
	int		allow;

	ck_assert_int_eq(match(&req, BW_HEAD, "/api/v1/customers/cus_1",
	    &allow), BW_MATCH_OK);
	ck_assert_ptr_eq(req.route, &test_routes[3]);
	ck_assert_str_eq(bw_req_param(&req, 0), "cus_1");
	bw_req_free(&req);

	/* A POST-only path does not answer HEAD. */
	ck_assert_int_eq(match(&req, BW_HEAD, "/a/x/b", &allow),
	    BW_MATCH_METHOD);
	bw_req_free(&req);
}
END_TEST

START_TEST(router_unknown_index_is_unmatched)
{
	ck_assert_int_eq(bw_router_index(NULL), -1);
	ck_assert_str_eq(bw_router_pattern(-1), "unmatched");
	ck_assert_str_eq(bw_router_pattern(1000), "unmatched");
}
END_TEST

/* A fresh request with QUERY (may be NULL). */
static void
query_req(struct bw_req *req, const char *query)
{
	bw_req_init(req);
	if (query != NULL)
		req->query = bw_arena_strdup(&req->arena, query);
}

START_TEST(query_percent_decoding)
{
	struct bw_req	req;

	query_req(&req, "name=J%C3%BCrgen+M%c3%bcller&plus=%2B&email=a%40b.co"
	    "&starting%5Fafter=cus_1");
	ck_assert_str_eq(bw_req_query(&req, "name"),
	    "J\xc3\xbcrgen M\xc3\xbcller");
	ck_assert_str_eq(bw_req_query(&req, "plus"), "+");
	ck_assert_str_eq(bw_req_query(&req, "email"), "a@b.co");
	ck_assert_str_eq(bw_req_query(&req, "starting_after"), "cus_1");
	bw_req_free(&req);
}
END_TEST

START_TEST(query_missing_and_bare_keys)
{
	struct bw_req	req;

	query_req(&req, NULL);
	ck_assert_ptr_null(bw_req_query(&req, "a"));
	bw_req_free(&req);

	query_req(&req, "");
	ck_assert_ptr_null(bw_req_query(&req, "a"));
	bw_req_free(&req);

	query_req(&req, "a=1&flag&empty=");
	ck_assert_str_eq(bw_req_query(&req, "a"), "1");
	ck_assert_str_eq(bw_req_query(&req, "flag"), "");
	ck_assert_str_eq(bw_req_query(&req, "empty"), "");
	ck_assert_ptr_null(bw_req_query(&req, "b"));
	ck_assert_ptr_null(bw_req_query(&req, "1"));
	bw_req_free(&req);
}
END_TEST

START_TEST(query_first_value_wins)
{
	struct bw_req	req;

	query_req(&req, "limit=1&limit=2&limit=3");
	ck_assert_str_eq(bw_req_query(&req, "limit"), "1");
	bw_req_free(&req);
}
END_TEST

START_TEST(query_truncated_escape_kept)
{
	struct bw_req	req;

	query_req(&req, "a=%4&b=%4g&c=100%&d=%&e=%41");
	ck_assert_str_eq(bw_req_query(&req, "a"), "%4");
	ck_assert_str_eq(bw_req_query(&req, "b"), "%4g");
	ck_assert_str_eq(bw_req_query(&req, "c"), "100%");
	ck_assert_str_eq(bw_req_query(&req, "d"), "%");
	ck_assert_str_eq(bw_req_query(&req, "e"), "A");
	bw_req_free(&req);
}
END_TEST

START_TEST(query_key_prefixes_are_distinct)
{
	struct bw_req	req;

	query_req(&req, "lim=5&limit=10&limited=x");
	ck_assert_str_eq(bw_req_query(&req, "limit"), "10");
	ck_assert_str_eq(bw_req_query(&req, "lim"), "5");
	ck_assert_str_eq(bw_req_query(&req, "limited"), "x");
	ck_assert_ptr_null(bw_req_query(&req, "li"));
	bw_req_free(&req);

	query_req(&req, "limit=10");
	ck_assert_ptr_null(bw_req_query(&req, "lim"));
	ck_assert_ptr_null(bw_req_query(&req, "limits"));
	bw_req_free(&req);
}
END_TEST

START_TEST(header_lookup_is_case_insensitive)
{
	struct bw_req		req;
	struct bw_header	h[2];

	bw_req_init(&req);
	h[0].name = bw_arena_strdup(&req.arena, "Content-Type");
	h[0].value = bw_arena_strdup(&req.arena, "application/json");
	h[1].name = bw_arena_strdup(&req.arena, "X-API-Key");
	h[1].value = bw_arena_strdup(&req.arena, "sk_test_x");
	req.headers = h;
	req.nheaders = 2;
	ck_assert_str_eq(bw_req_header(&req, "content-type"),
	    "application/json");
	ck_assert_str_eq(bw_req_header(&req, "CONTENT-TYPE"),
	    "application/json");
	ck_assert_str_eq(bw_req_header(&req, "x-api-key"), "sk_test_x");
	ck_assert_ptr_null(bw_req_header(&req, "content-length"));
	ck_assert_ptr_null(bw_req_header(&req, "x-api"));
	bw_req_free(&req);
}
END_TEST

/*
 * A request with BODY (LEN bytes, copied into an exactly sized heap block
 * so that an over-read trips ASan) and Content-Type CT (NULL: none).
 */
struct body_req {
	struct bw_req		req;
	struct bw_header	h;
};

static int
body_parse(struct body_req *b, const char *ct, const char *body, size_t len)
{
	bw_req_init(&b->req);
	if (ct != NULL) {
		b->h.name = bw_arena_strdup(&b->req.arena, "Content-Type");
		b->h.value = bw_arena_strdup(&b->req.arena, ct);
		b->req.headers = &b->h;
		b->req.nheaders = 1;
	}
	if (len > 0) {
		b->req.body = malloc(len);
		ck_assert_ptr_nonnull(b->req.body);
		memcpy(b->req.body, body, len);
	}
	b->req.body_len = len;
	return bw_body_object(&b->req);
}

static void
body_free(struct body_req *b)
{
	free(b->req.body);
	bw_req_free(&b->req);
}

static void
assert_invalid_json(struct body_req *b, const char *ct, const char *body,
    size_t len)
{
	int	rc;

	rc = body_parse(b, ct, body, len);
	ck_assert_msg(rc == BW_ERROR, "accepted: %.*s", (int)len, body);
	ck_assert_int_eq(b->req.failed, 1);
	ck_assert_int_eq(b->req.err.status, 400);
	ck_assert_str_eq(b->req.err.type, "invalid_request_error");
	ck_assert_str_eq(b->req.err.code, "invalid_json");
	ck_assert_ptr_null(b->req.json);
	body_free(b);
}

#define JSON_CT	"application/json"
#define S(x)	(x), (sizeof(x) - 1)

START_TEST(body_valid_object)
{
	struct body_req	b;

	ck_assert_int_eq(body_parse(&b, JSON_CT, S("{\"name\":\"x\",\"n\":1}")),
	    BW_OK);
	ck_assert_int_eq(b.req.failed, 0);
	ck_assert(json_is_object(b.req.json));
	ck_assert_str_eq(json_string_value(json_object_get(b.req.json,
	    "name")), "x");
	/* A second call keeps the parsed body. */
	ck_assert_int_eq(bw_body_object(&b.req), BW_OK);
	body_free(&b);
}
END_TEST

START_TEST(body_empty_is_empty_object)
{
	struct body_req	b;

	ck_assert_int_eq(body_parse(&b, JSON_CT, "", 0), BW_OK);
	ck_assert(json_is_object(b.req.json));
	ck_assert_uint_eq(json_object_size(b.req.json), 0);
	ck_assert_int_eq(b.req.failed, 0);
	body_free(&b);

	/* With no body there is nothing to mistype. */
	ck_assert_int_eq(body_parse(&b, NULL, "", 0), BW_OK);
	ck_assert(json_is_object(b.req.json));
	body_free(&b);
}
END_TEST

START_TEST(body_wrong_content_type_is_415)
{
	static const char *const cts[] = {
		"text/plain", "application/x-www-form-urlencoded",
		"application/jsonp", "application/json-patch+json", "",
	};
	struct body_req	b;
	size_t		i;

	for (i = 0; i < BW_NELEM(cts); i++) {
		ck_assert_int_eq(body_parse(&b, cts[i], S("{}")), BW_ERROR);
		ck_assert_int_eq(b.req.failed, 1);
		ck_assert_int_eq(b.req.err.status, 415);
		ck_assert_str_eq(b.req.err.type, "invalid_request_error");
		ck_assert_str_eq(b.req.err.code, "unsupported_media_type");
		ck_assert_ptr_null(b.req.json);
		body_free(&b);
	}
	/* A body without any Content-Type. */
	ck_assert_int_eq(body_parse(&b, NULL, S("{}")), BW_ERROR);
	ck_assert_int_eq(b.req.err.status, 415);
	body_free(&b);
}
END_TEST

START_TEST(body_json_with_parameters_accepted)
{
	static const char *const cts[] = {
		"application/json; charset=utf-8",
		"application/json;charset=UTF-8",
		"Application/JSON", "application/json",
	};
	struct body_req	b;
	size_t		i;

	for (i = 0; i < BW_NELEM(cts); i++) {
		ck_assert_msg(body_parse(&b, cts[i], S("{\"a\":1}")) == BW_OK,
		    "refused %s", cts[i]);
		ck_assert(json_is_object(b.req.json));
		body_free(&b);
	}
}
END_TEST

START_TEST(body_malformed_is_invalid_json)
{
	struct body_req	b;

	assert_invalid_json(&b, JSON_CT, S("{"));
	assert_invalid_json(&b, JSON_CT, S("{\"a\":}"));
	assert_invalid_json(&b, JSON_CT, S("{\"a\":1,}"));
	assert_invalid_json(&b, JSON_CT, S("{'a':1}"));
	assert_invalid_json(&b, JSON_CT, S("{\"a\":1} x"));
	assert_invalid_json(&b, JSON_CT, S(" "));
}
END_TEST

START_TEST(body_non_object_is_invalid_json)
{
	struct body_req	b;

	assert_invalid_json(&b, JSON_CT, S("[]"));
	assert_invalid_json(&b, JSON_CT, S("[{\"a\":1}]"));
	assert_invalid_json(&b, JSON_CT, S("\"x\""));
	assert_invalid_json(&b, JSON_CT, S("1"));
	assert_invalid_json(&b, JSON_CT, S("null"));
}
END_TEST

/* {"a":{"a":...1...}} nested DEPTH deep (objects, or arrays inside). */
static char *
nested(int depth, int arrays)
{
	struct bw_buf	b;
	int		i;

	bw_buf_init(&b);
	bw_buf_appends(&b, "{\"a\":");
	for (i = 1; i < depth; i++)
		bw_buf_appends(&b, arrays ? "[" : "{\"a\":");
	bw_buf_appends(&b, "1");
	for (i = 1; i < depth; i++)
		bw_buf_appends(&b, arrays ? "]" : "}");
	bw_buf_appends(&b, "}");
	return bw_buf_release(&b);
}

START_TEST(body_depth_limit)
{
	struct body_req	 b;
	char		*s;
	int		 arrays;

	for (arrays = 0; arrays <= 1; arrays++) {
		s = nested(32, arrays);
		ck_assert_msg(body_parse(&b, JSON_CT, s, strlen(s)) == BW_OK,
		    "depth 32 refused (arrays %d)", arrays);
		body_free(&b);
		free(s);

		s = nested(33, arrays);
		assert_invalid_json(&b, JSON_CT, s, strlen(s));
		free(s);
	}

	/* Brackets inside strings are not nesting. */
	ck_assert_int_eq(body_parse(&b, JSON_CT,
	    S("{\"a\":\"{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{[[[[[[[[[[\","
	    "\"b\":\"\\\"{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{\"}")), BW_OK);
	body_free(&b);
}
END_TEST

START_TEST(body_duplicate_keys_are_invalid_json)
{
	struct body_req	b;

	assert_invalid_json(&b, JSON_CT, S("{\"a\":1,\"a\":2}"));
	assert_invalid_json(&b, JSON_CT,
	    S("{\"m\":{\"k\":\"x\",\"k\":\"y\"}}"));
}
END_TEST

START_TEST(body_invalid_utf8_is_invalid_json)
{
	struct body_req	b;

	assert_invalid_json(&b, JSON_CT, S("{\"a\":\"\xff\"}"));
	assert_invalid_json(&b, JSON_CT, S("{\"a\":\"\xc0\xaf\"}"));
	assert_invalid_json(&b, JSON_CT, S("{\"a\":\"\xed\xa0\x80\"}"));
	assert_invalid_json(&b, JSON_CT, S("{\"\xe2\x82\":1}"));
	/* Valid multibyte text is fine. */
	ck_assert_int_eq(body_parse(&b, JSON_CT,
	    S("{\"a\":\"\xe2\x82\xac \xf0\x9f\x98\x80\"}")), BW_OK);
	body_free(&b);
}
END_TEST

START_TEST(body_nul_escape_is_invalid_json)
{
	struct body_req	b;

	assert_invalid_json(&b, JSON_CT, S("{\"a\":\"x\\u0000y\"}"));
	assert_invalid_json(&b, JSON_CT, S("{\"a\\u0000\":1}"));
	/* A raw NUL byte in the body. */
	assert_invalid_json(&b, JSON_CT, "{\"a\":\"x\0\"}", 9);
}
END_TEST

/* Parses a JSON literal (test input, must be valid). */
static json_t *
jlit(const char *s)
{
	json_error_t	 e;
	json_t		*v;

	v = json_loads(s, 0, &e);
	ck_assert_msg(v != NULL, "bad test JSON: %s", e.text);
	return v;
}

static void
assert_err(const struct bw_req *req, const char *code, const char *param)
{
	ck_assert_int_eq(req->failed, 1);
	ck_assert_int_eq(req->err.status, 400);
	ck_assert_str_eq(req->err.type, "invalid_request_error");
	ck_assert_str_eq(req->err.code, code);
	ck_assert_str_eq(req->err.param, param);
	ck_assert(req->err.message[0] != '\0');
}

START_TEST(params_only_rejects_unknown)
{
	static const char *const allowed[] = { "name", "email", NULL };
	struct bw_req	 req;
	json_t		*o;

	bw_req_init(&req);
	o = jlit("{\"name\":\"x\",\"email\":\"a@b.co\"}");
	ck_assert_int_eq(bw_params_only(&req, o, allowed), BW_OK);
	ck_assert_int_eq(req.failed, 0);
	json_decref(o);

	o = jlit("{}");
	ck_assert_int_eq(bw_params_only(&req, o, allowed), BW_OK);
	json_decref(o);

	o = jlit("{\"name\":\"x\",\"bogus\":1}");
	ck_assert_int_eq(bw_params_only(&req, o, allowed), BW_ERROR);
	assert_err(&req, "parameter_unknown", "bogus");
	json_decref(o);
	bw_req_free(&req);
}
END_TEST

START_TEST(param_str_counts_code_points)
{
	struct bw_req	 req;
	json_t		*o;
	const char	*s;

	bw_req_init(&req);
	/* Three characters, nine bytes. */
	o = jlit("{\"a\":\"\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e\","
	    "\"b\":\"\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e\xe3\x81\xa0\","
	    "\"n\":5,\"z\":null,\"e\":\"\"}");
	ck_assert_int_eq(bw_param_str(&req, o, "a", BW_P_REQUIRED, 3, &s),
	    BW_OK);
	ck_assert_str_eq(s, "\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e");
	ck_assert_int_eq(req.failed, 0);

	ck_assert_int_eq(bw_param_str(&req, o, "b", 0, 3, &s), BW_ERROR);
	assert_err(&req, "parameter_invalid", "b");
	ck_assert_ptr_null(s);

	bw_req_free(&req);
	bw_req_init(&req);
	ck_assert_int_eq(bw_param_str(&req, o, "n", 0, 10, &s), BW_ERROR);
	assert_err(&req, "parameter_invalid", "n");

	ck_assert_int_eq(bw_param_str(&req, o, "missing", 0, 10, &s),
	    BW_DECLINED);
	ck_assert_ptr_null(s);
	ck_assert_int_eq(bw_param_str(&req, o, "z", BW_P_NULLABLE, 10, &s),
	    BW_DECLINED);
	ck_assert_ptr_null(s);

	bw_req_free(&req);
	bw_req_init(&req);
	ck_assert_int_eq(bw_param_str(&req, o, "z", 0, 10, &s), BW_ERROR);
	assert_err(&req, "parameter_invalid", "z");

	ck_assert_int_eq(bw_param_str(&req, o, "e", BW_P_REQUIRED, 10, &s),
	    BW_ERROR);
	assert_err(&req, "parameter_invalid", "e");
	json_decref(o);
	bw_req_free(&req);
}
END_TEST

START_TEST(param_int_is_strict)
{
	struct bw_req	 req;
	json_t		*o;
	int64_t		 v = -7;

	bw_req_init(&req);
	o = jlit("{\"frac\":1.5,\"str\":\"5\",\"big\":101,\"neg\":-1,"
	    "\"ok\":100,\"lo\":0,\"bool\":true}");
	ck_assert_int_eq(bw_param_int(&req, o, "ok", 0, 0, 100, &v), BW_OK);
	ck_assert_int_eq(v, 100);
	ck_assert_int_eq(bw_param_int(&req, o, "lo", 0, 0, 100, &v), BW_OK);
	ck_assert_int_eq(v, 0);
	ck_assert_int_eq(req.failed, 0);

	ck_assert_int_eq(bw_param_int(&req, o, "frac", 0, 0, 100, &v),
	    BW_ERROR);
	assert_err(&req, "parameter_invalid", "frac");
	ck_assert_int_eq(bw_param_int(&req, o, "str", 0, 0, 100, &v),
	    BW_ERROR);
	assert_err(&req, "parameter_invalid", "str");
	ck_assert_int_eq(bw_param_int(&req, o, "big", 0, 0, 100, &v),
	    BW_ERROR);
	assert_err(&req, "parameter_invalid", "big");
	ck_assert_int_eq(bw_param_int(&req, o, "neg", 0, 0, 100, &v),
	    BW_ERROR);
	assert_err(&req, "parameter_invalid", "neg");
	ck_assert_int_eq(bw_param_int(&req, o, "bool", 0, 0, 100, &v),
	    BW_ERROR);
	assert_err(&req, "parameter_invalid", "bool");
	ck_assert_int_eq(v, 0);	/* untouched by the failures */

	bw_req_free(&req);
	bw_req_init(&req);
	ck_assert_int_eq(bw_param_int(&req, o, "absent", 0, 0, 100, &v),
	    BW_DECLINED);
	ck_assert_int_eq(req.failed, 0);
	ck_assert_int_eq(bw_param_int(&req, o, "absent", BW_P_REQUIRED, 0,
	    100, &v), BW_ERROR);
	assert_err(&req, "parameter_missing", "absent");
	json_decref(o);
	bw_req_free(&req);
}
END_TEST

START_TEST(param_bool_is_strict)
{
	struct bw_req	 req;
	json_t		*o;
	int		 v = -1;

	bw_req_init(&req);
	o = jlit("{\"t\":true,\"f\":false,\"one\":1,\"s\":\"true\"}");
	ck_assert_int_eq(bw_param_bool(&req, o, "t", 0, &v), BW_OK);
	ck_assert_int_eq(v, 1);
	ck_assert_int_eq(bw_param_bool(&req, o, "f", 0, &v), BW_OK);
	ck_assert_int_eq(v, 0);
	ck_assert_int_eq(bw_param_bool(&req, o, "one", 0, &v), BW_ERROR);
	assert_err(&req, "parameter_invalid", "one");
	ck_assert_int_eq(bw_param_bool(&req, o, "s", 0, &v), BW_ERROR);
	assert_err(&req, "parameter_invalid", "s");
	ck_assert_int_eq(bw_param_bool(&req, o, "x", 0, &v), BW_DECLINED);
	json_decref(o);
	bw_req_free(&req);
}
END_TEST

START_TEST(param_enum_choices)
{
	static const char *const iv[] = { "day", "week", "month", NULL };
	struct bw_req	 req;
	json_t		*o;
	const char	*s;

	bw_req_init(&req);
	o = jlit("{\"i\":\"week\",\"bad\":\"year\",\"num\":7,\"pre\":\"wee\"}");
	ck_assert_int_eq(bw_param_enum(&req, o, "i", 0, iv, &s), BW_OK);
	ck_assert_str_eq(s, "week");
	ck_assert_int_eq(bw_param_enum(&req, o, "bad", 0, iv, &s), BW_ERROR);
	assert_err(&req, "parameter_invalid", "bad");
	ck_assert_int_eq(bw_param_enum(&req, o, "num", 0, iv, &s), BW_ERROR);
	assert_err(&req, "parameter_invalid", "num");
	ck_assert_int_eq(bw_param_enum(&req, o, "pre", 0, iv, &s), BW_ERROR);
	assert_err(&req, "parameter_invalid", "pre");
	ck_assert_int_eq(bw_param_enum(&req, o, "x", 0, iv, &s), BW_DECLINED);
	json_decref(o);
	bw_req_free(&req);
}
END_TEST

/* {"metadata": {...}} with N keys "k0".. of value VAL. */
static json_t *
metadata_doc(int n, json_t *val)
{
	json_t	*m, *o;
	char	 k[16];
	int	 i;

	m = json_object();
	for (i = 0; i < n; i++) {
		snprintf(k, sizeof(k), "k%d", i);
		json_object_set(m, k, val);
	}
	json_decref(val);
	o = json_object();
	json_object_set_new(o, "metadata", m);
	return o;
}

static int
metadata_check(json_t *doc, struct bw_req *req)
{
	json_t	*out;
	int	 rc;

	bw_req_init(req);
	rc = bw_param_metadata(req, doc, "metadata", &out);
	json_decref(doc);
	return rc;
}

static char *
repeat(const char *unit, int n)
{
	struct bw_buf	b;
	int		i;

	bw_buf_init(&b);
	for (i = 0; i < n; i++)
		bw_buf_appends(&b, unit);
	return bw_buf_release(&b);
}

START_TEST(param_metadata_limits)
{
	struct bw_req	 req;
	json_t		*doc, *m, *out;
	char		*s;

	ck_assert_int_eq(metadata_check(metadata_doc(50, json_string("v")),
	    &req), BW_OK);
	bw_req_free(&req);
	ck_assert_int_eq(metadata_check(metadata_doc(51, json_string("v")),
	    &req), BW_ERROR);
	assert_err(&req, "parameter_invalid", "metadata");
	bw_req_free(&req);

	/* Key lengths count characters: 40 two-byte characters pass. */
	s = repeat("\xc3\xa9", 40);
	doc = metadata_doc(0, json_null());
	m = json_object_get(doc, "metadata");
	json_object_set_new(m, s, json_string("v"));
	free(s);
	ck_assert_int_eq(metadata_check(doc, &req), BW_OK);
	bw_req_free(&req);

	s = repeat("k", 41);
	doc = metadata_doc(0, json_null());
	json_object_set_new(json_object_get(doc, "metadata"), s,
	    json_string("v"));
	free(s);
	ck_assert_int_eq(metadata_check(doc, &req), BW_ERROR);
	assert_err(&req, "parameter_invalid", "metadata");
	bw_req_free(&req);

	ck_assert_int_eq(metadata_check(metadata_doc(1, json_integer(1)),
	    &req), BW_ERROR);
	assert_err(&req, "parameter_invalid", "metadata");
	bw_req_free(&req);
	ck_assert_int_eq(metadata_check(metadata_doc(1, json_object()),
	    &req), BW_ERROR);
	assert_err(&req, "parameter_invalid", "metadata");
	bw_req_free(&req);

	s = repeat("\xe2\x82\xac", 500);
	ck_assert_int_eq(metadata_check(metadata_doc(1, json_string(s)),
	    &req), BW_OK);
	bw_req_free(&req);
	free(s);
	s = repeat("v", 501);
	ck_assert_int_eq(metadata_check(metadata_doc(1, json_string(s)),
	    &req), BW_ERROR);
	assert_err(&req, "parameter_invalid", "metadata");
	bw_req_free(&req);
	free(s);

	/* Not an object at all; absent. */
	doc = jlit("{\"metadata\":\"x\"}");
	ck_assert_int_eq(metadata_check(doc, &req), BW_ERROR);
	assert_err(&req, "parameter_invalid", "metadata");
	bw_req_free(&req);
	bw_req_init(&req);
	doc = jlit("{}");
	ck_assert_int_eq(bw_param_metadata(&req, doc, "metadata", &out),
	    BW_DECLINED);
	json_decref(doc);
	bw_req_free(&req);
}
END_TEST

START_TEST(email_shapes)
{
	static const char *const good[] = {
		"a@b.co", "first.last+tag@sub.example.org", "x_y-z@a-b.io",
	};
	static const char *const bad[] = {
		"", "a", "@b.co", "a@b", "a@@b.co", "a b@c.co", "a@b..co",
		"a@.co", "a@b.", "a@b.co ", "<a@b.co>", "a@b@c.co", "a\t@b.co",
	};
	char	long_addr[256];
	size_t	i;

	for (i = 0; i < BW_NELEM(good); i++)
		ck_assert_msg(bw_email_valid(good[i]), "refused %s", good[i]);
	for (i = 0; i < BW_NELEM(bad); i++)
		ck_assert_msg(!bw_email_valid(bad[i]), "accepted '%s'", bad[i]);

	/* 254 bytes pass, 255 do not. */
	memset(long_addr, 'a', sizeof(long_addr));
	memcpy(long_addr + 254 - strlen("@b.co"), "@b.co", 5);
	long_addr[254] = '\0';
	ck_assert_uint_eq(strlen(long_addr), 254);
	ck_assert(bw_email_valid(long_addr));
	memset(long_addr, 'a', sizeof(long_addr));
	memcpy(long_addr + 255 - strlen("@b.co"), "@b.co", 5);
	long_addr[255] = '\0';
	ck_assert_uint_eq(strlen(long_addr), 255);
	ck_assert(!bw_email_valid(long_addr));
}
END_TEST

static int
page(struct bw_req *req, const char *query, struct bw_page *pg)
{
	query_req(req, query);
	return bw_page_parse(req, "cus", pg);
}

START_TEST(page_defaults_and_limits)
{
	static const char *const bad[] = {
		"limit=0", "limit=101", "limit=abc", "limit=10x", "limit=",
		"limit=-5", "limit", "limit=99999999999999999999",
	};
	struct bw_req	req;
	struct bw_page	pg;
	size_t		i;

	ck_assert_int_eq(page(&req, NULL, &pg), BW_OK);
	ck_assert_int_eq(pg.limit, 10);
	ck_assert_ptr_null(pg.starting_after);
	ck_assert_ptr_null(pg.ending_before);
	bw_req_free(&req);

	ck_assert_int_eq(page(&req, "limit=1", &pg), BW_OK);
	ck_assert_int_eq(pg.limit, 1);
	bw_req_free(&req);
	ck_assert_int_eq(page(&req, "limit=100", &pg), BW_OK);
	ck_assert_int_eq(pg.limit, 100);
	bw_req_free(&req);

	for (i = 0; i < BW_NELEM(bad); i++) {
		ck_assert_msg(page(&req, bad[i], &pg) == BW_ERROR,
		    "accepted %s", bad[i]);
		assert_err(&req, "parameter_invalid", "limit");
		bw_req_free(&req);
	}
}
END_TEST

START_TEST(page_cursors)
{
	struct bw_req	req;
	struct bw_page	pg;

	ck_assert_int_eq(page(&req, "starting_after=cus_abc123&limit=3", &pg),
	    BW_OK);
	ck_assert_str_eq(pg.starting_after, "cus_abc123");
	ck_assert_ptr_null(pg.ending_before);
	ck_assert_int_eq(pg.limit, 3);
	bw_req_free(&req);

	ck_assert_int_eq(page(&req, "ending_before=cus_Z9", &pg), BW_OK);
	ck_assert_str_eq(pg.ending_before, "cus_Z9");
	ck_assert_ptr_null(pg.starting_after);
	bw_req_free(&req);

	ck_assert_int_eq(page(&req,
	    "starting_after=cus_a&ending_before=cus_b", &pg), BW_ERROR);
	ck_assert_int_eq(req.failed, 1);
	ck_assert_int_eq(req.err.status, 400);
	ck_assert_str_eq(req.err.code, "parameter_invalid");
	bw_req_free(&req);

	ck_assert_int_eq(page(&req, "starting_after=in_abc", &pg), BW_ERROR);
	assert_err(&req, "parameter_invalid", "starting_after");
	bw_req_free(&req);
	ck_assert_int_eq(page(&req, "ending_before=cust_abc", &pg), BW_ERROR);
	assert_err(&req, "parameter_invalid", "ending_before");
	bw_req_free(&req);
	ck_assert_int_eq(page(&req, "starting_after=cus_a'b", &pg), BW_ERROR);
	assert_err(&req, "parameter_invalid", "starting_after");
	bw_req_free(&req);
}
END_TEST

#define T_2026_01_31	1769817600LL

START_TEST(time_round_trip)
{
	char	out[32];
	int64_t	t = 0;

	ck_assert_int_eq(bw_time_parse("2026-01-31T00:00:00Z", &t), BW_OK);
	ck_assert_int_eq(t, T_2026_01_31);
	bw_time_rfc3339(t, out, sizeof(out));
	ck_assert_str_eq(out, "2026-01-31T00:00:00Z");

	bw_time_rfc3339(0, out, sizeof(out));
	ck_assert_str_eq(out, "1970-01-01T00:00:00Z");
	bw_time_rfc3339(T_2026_01_31 + 86399, out, sizeof(out));
	ck_assert_str_eq(out, "2026-01-31T23:59:59Z");
}
END_TEST

START_TEST(time_offsets_and_fractions)
{
	int64_t	t = 0;

	ck_assert_int_eq(bw_time_parse("2026-01-31T02:00:00+02:00", &t),
	    BW_OK);
	ck_assert_int_eq(t, T_2026_01_31);
	ck_assert_int_eq(bw_time_parse("2026-01-30T18:30:00-05:30", &t),
	    BW_OK);
	ck_assert_int_eq(t, T_2026_01_31);
	ck_assert_int_eq(bw_time_parse("2026-01-31T00:00:00+00:00", &t),
	    BW_OK);
	ck_assert_int_eq(t, T_2026_01_31);
	ck_assert_int_eq(bw_time_parse("2026-01-31T00:00:00.123456Z", &t),
	    BW_OK);
	ck_assert_int_eq(t, T_2026_01_31);
	ck_assert_int_eq(bw_time_parse("2026-01-31T01:00:00.5+01:00", &t),
	    BW_OK);
	ck_assert_int_eq(t, T_2026_01_31);
}
END_TEST

START_TEST(time_invalid_strings)
{
	static const char *const bad[] = {
		"", "2026-01-31", "2026-01-31T00:00:00", "2026-13-01T00:00:00Z",
		"2026-01-32T00:00:00Z", "2026-01-31T24:00:00Z",
		"2026-01-31T00:60:00Z", "2026-01-31 00:00:00Z",
		"2026-01-31T00:00:00.Z", "2026-01-31T00:00:00ZZ",
		"2026-01-31T00:00:00+0200", "2026-01-31T00:00:00+02",
		"2026-01-31T00:00:00+24:00", "2026-01-31T00:00:00+02:60",
		"2026-01-31T00:00:00+02:00x", "yesterday", "1769817600",
	};
	size_t	i;
	int64_t	t;

	for (i = 0; i < BW_NELEM(bad); i++)
		ck_assert_msg(bw_time_parse(bad[i], &t) == BW_ERROR,
		    "accepted '%s'", bad[i]);
}
END_TEST

START_TEST(time_leap_day)
{
	char	out[32];
	int64_t	t = 0;

	ck_assert_int_eq(bw_time_parse("2028-02-29T12:00:00Z", &t), BW_OK);
	bw_time_rfc3339(t, out, sizeof(out));
	ck_assert_str_eq(out, "2028-02-29T12:00:00Z");
	ck_assert_int_eq(bw_time_parse("2028-03-01T00:00:00Z", &t), BW_OK);
	bw_time_rfc3339(t - 1, out, sizeof(out));
	ck_assert_str_eq(out, "2028-02-29T23:59:59Z");
}
END_TEST

/*
 * RFC 3339 dates are fixed-width and must exist: strptime(3) alone takes
 * day 31 in any month (timegm then rolls it into the next month), one-digit
 * fields and leading blanks, and sscanf's %2d takes " 1" and "-1".
 */
START_TEST(time_rejects_impossible_and_loose_forms)
{
	static const char *const bad[] = {
		"2026-02-29T00:00:00Z",	/* 2026 is no leap year */
		"2026-02-30T00:00:00Z",
		"2026-04-31T00:00:00Z",
		"2100-02-29T00:00:00Z",
		"2026-1-5T00:00:00Z",
		"2026-01-31T0:0:0Z",
		" 2026-01-31T00:00:00Z",
		"2026-01-31T00:00:61Z",
		"2026-01-31T00:00:00+-1:00",
		"2026-01-31T00:00:00+ 1:00",
		"2026-01-31T00:00:00+2:000",
	};
	char	failures[1024];
	size_t	i, n = 0;
	int64_t	t;

	failures[0] = '\0';
	for (i = 0; i < BW_NELEM(bad); i++)
		if (bw_time_parse(bad[i], &t) != BW_ERROR)
			n += (size_t)snprintf(failures + n,
			    n < sizeof(failures) ? sizeof(failures) - n : 0,
			    " '%s'", bad[i]);
	ck_assert_msg(n == 0, "bw_time_parse accepted:%s", failures);
}
END_TEST

/* Renders REQ's error and parses the body back. */
static json_t *
render(struct bw_req *req)
{
	json_error_t	 e;
	json_t		*v;

	bw_req_render_error(req);
	v = json_loadb(req->out.data, req->out.len, 0, &e);
	ck_assert_msg(v != NULL, "error body is not JSON: %s", e.text);
	ck_assert_str_eq(req->content_type, "application/json; charset=utf-8");
	ck_assert_uint_eq(json_object_size(v), 1);
	return v;
}

static const char *
resp_header(const struct bw_req *req, const char *name)
{
	size_t	i;

	for (i = 0; i < req->nresp_headers; i++)
		if (strcasecmp(req->resp_headers[i].name, name) == 0)
			return req->resp_headers[i].value;
	return NULL;
}

START_TEST(error_body_without_param)
{
	struct bw_req	 req;
	json_t		*v, *e;

	bw_req_init(&req);
	ck_assert_int_eq(bw_req_error(&req, 404, "invalid_request_error",
	    "resource_missing", NULL, "No such %s: %s.", "customer", "cus_1"),
	    BW_ERROR);
	ck_assert_int_eq(req.failed, 1);
	v = render(&req);
	ck_assert_int_eq(req.status, 404);
	e = json_object_get(v, "error");
	ck_assert(json_is_object(e));
	ck_assert_str_eq(json_string_value(json_object_get(e, "type")),
	    "invalid_request_error");
	ck_assert_str_eq(json_string_value(json_object_get(e, "code")),
	    "resource_missing");
	ck_assert_str_eq(json_string_value(json_object_get(e, "message")),
	    "No such customer: cus_1.");
	ck_assert_ptr_null(json_object_get(e, "param"));
	ck_assert_uint_eq(json_object_size(e), 3);
	ck_assert_ptr_null(resp_header(&req, "Retry-After"));
	json_decref(v);
	bw_req_free(&req);
}
END_TEST

START_TEST(error_body_with_param)
{
	struct bw_req	 req;
	json_t		*v, *e;

	bw_req_init(&req);
	ck_assert_int_eq(bw_err_invalid(&req, "email", "%s is bad.", "email"),
	    BW_ERROR);
	v = render(&req);
	ck_assert_int_eq(req.status, 400);
	e = json_object_get(v, "error");
	ck_assert_str_eq(json_string_value(json_object_get(e, "code")),
	    "parameter_invalid");
	ck_assert_str_eq(json_string_value(json_object_get(e, "param")),
	    "email");
	ck_assert_str_eq(json_string_value(json_object_get(e, "message")),
	    "email is bad.");
	json_decref(v);
	bw_req_free(&req);

	bw_req_init(&req);
	bw_err_missing(&req, "name");
	v = render(&req);
	e = json_object_get(v, "error");
	ck_assert_str_eq(json_string_value(json_object_get(e, "code")),
	    "parameter_missing");
	ck_assert_str_eq(json_string_value(json_object_get(e, "param")),
	    "name");
	json_decref(v);
	bw_req_free(&req);
}
END_TEST

START_TEST(error_retry_after_header)
{
	struct bw_req	 req;
	json_t		*v, *e;

	bw_req_init(&req);
	bw_req_error(&req, 429, "rate_limit_error", "rate_limited", NULL,
	    "Too many requests.");
	req.err.retry_after = 3;
	v = render(&req);
	ck_assert_int_eq(req.status, 429);
	ck_assert_str_eq(resp_header(&req, "Retry-After"), "3");
	e = json_object_get(v, "error");
	ck_assert_str_eq(json_string_value(json_object_get(e, "type")),
	    "rate_limit_error");
	json_decref(v);
	bw_req_free(&req);

	bw_req_init(&req);
	ck_assert_int_eq(bw_err_unavailable(&req), BW_ERROR);
	v = render(&req);
	ck_assert_int_eq(req.status, 503);
	ck_assert_str_eq(resp_header(&req, "Retry-After"), "1");
	json_decref(v);
	bw_req_free(&req);
}
END_TEST

START_TEST(error_internal_hides_details)
{
	struct bw_req	 req;
	json_t		*v, *e;

	bw_req_init(&req);
	snprintf(req.request_id, sizeof(req.request_id), "req_abc");
	bw_err_internal(&req);
	v = render(&req);
	ck_assert_int_eq(req.status, 500);
	e = json_object_get(v, "error");
	ck_assert_str_eq(json_string_value(json_object_get(e, "type")),
	    "api_error");
	ck_assert_ptr_nonnull(strstr(json_string_value(json_object_get(e,
	    "message")), "req_abc"));
	json_decref(v);
	bw_req_free(&req);
}
END_TEST

START_TEST(method_names)
{
	ck_assert_int_eq(bw_http_method_parse("GET"), BW_GET);
	ck_assert_int_eq(bw_http_method_parse("DELETE"), BW_DELETE);
	ck_assert_int_eq(bw_http_method_parse("get"), 0);
	ck_assert_int_eq(bw_http_method_parse("TRACE"), 0);
	ck_assert_str_eq(bw_http_method_name(BW_PATCH), "PATCH");
	ck_assert_str_eq(bw_http_status_text(415), "Unsupported Media Type");
	ck_assert_str_eq(bw_http_status_text(429), "Too Many Requests");
}
END_TEST

Suite *
suite_http(void)
{
	Suite	*s = suite_create("http");
	TCase	*tc;

	tc = tcase_create("router");
	tcase_add_checked_fixture(tc, routes_setup, routes_teardown);
	tcase_add_test(tc, router_exact_match);
	tcase_add_test(tc, router_captures_one_param);
	tcase_add_test(tc, router_captures_two_params);
	tcase_add_test(tc, router_trailing_slash_is_optional);
	tcase_add_test(tc, router_root);
	tcase_add_test(tc, router_not_found);
	tcase_add_test(tc, router_wrong_method_reports_allow);
	tcase_add_test(tc, router_empty_segment_is_not_a_capture);
	tcase_add_test(tc, router_prefix_does_not_match);
	tcase_add_test(tc, router_head_matches_get);
	tcase_add_test(tc, router_unknown_index_is_unmatched);
	suite_add_tcase(s, tc);

	tc = tcase_create("request");
	tcase_add_test(tc, query_percent_decoding);
	tcase_add_test(tc, query_missing_and_bare_keys);
	tcase_add_test(tc, query_first_value_wins);
	tcase_add_test(tc, query_truncated_escape_kept);
	tcase_add_test(tc, query_key_prefixes_are_distinct);
	tcase_add_test(tc, header_lookup_is_case_insensitive);
	tcase_add_test(tc, method_names);
	suite_add_tcase(s, tc);

	tc = tcase_create("body");
	tcase_add_test(tc, body_valid_object);
	tcase_add_test(tc, body_empty_is_empty_object);
	tcase_add_test(tc, body_wrong_content_type_is_415);
	tcase_add_test(tc, body_json_with_parameters_accepted);
	tcase_add_test(tc, body_malformed_is_invalid_json);
	tcase_add_test(tc, body_non_object_is_invalid_json);
	tcase_add_test(tc, body_depth_limit);
	tcase_add_test(tc, body_duplicate_keys_are_invalid_json);
	tcase_add_test(tc, body_invalid_utf8_is_invalid_json);
	tcase_add_test(tc, body_nul_escape_is_invalid_json);
	suite_add_tcase(s, tc);

	tc = tcase_create("params");
	tcase_add_test(tc, params_only_rejects_unknown);
	tcase_add_test(tc, param_str_counts_code_points);
	tcase_add_test(tc, param_int_is_strict);
	tcase_add_test(tc, param_bool_is_strict);
	tcase_add_test(tc, param_enum_choices);
	tcase_add_test(tc, param_metadata_limits);
	tcase_add_test(tc, email_shapes);
	tcase_add_test(tc, page_defaults_and_limits);
	tcase_add_test(tc, page_cursors);
	suite_add_tcase(s, tc);

	tc = tcase_create("time");
	tcase_add_test(tc, time_round_trip);
	tcase_add_test(tc, time_offsets_and_fractions);
	tcase_add_test(tc, time_invalid_strings);
	tcase_add_test(tc, time_leap_day);
	tcase_add_test(tc, time_rejects_impossible_and_loose_forms);
	suite_add_tcase(s, tc);

	tc = tcase_create("errors");
	tcase_add_test(tc, error_body_without_param);
	tcase_add_test(tc, error_body_with_param);
	tcase_add_test(tc, error_retry_after_header);
	tcase_add_test(tc, error_internal_hides_details);
	suite_add_tcase(s, tc);
	return s;
}
