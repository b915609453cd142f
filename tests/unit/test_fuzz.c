/*
 * The in-tree robustness check: seeded random and mutated inputs into the
 * parsers that see untrusted bytes (config, router, query strings, JSON
 * bodies, timestamps, email addresses), run under ASan/UBSan by `make test`.
 * Each test asserts only documented return codes and invariants; a failure
 * names its seed and iteration, so it reproduces. Coverage-guided fuzzing
 * harnesses (libFuzzer) are separate and come with `make fuzz`.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/config.h"
#include "core/core.h"
#include "server/http.h"
#include "server/params.h"
#include "server/server.h"
#include "test_list.h"

/* xorshift64*: small, fast and the same sequence on every platform. */
static uint64_t
rng_next(uint64_t *s)
{
	*s ^= *s >> 12;
	*s ^= *s << 25;
	*s ^= *s >> 27;
	return *s * 0x2545F4914F6CDD1DULL;
}

static size_t
rng_below(uint64_t *s, size_t n)
{
	return n == 0 ? 0 : (size_t)(rng_next(s) % n);
}

/* A copy of S[0..N) in an exactly sized heap block, NUL-terminated. */
static char *
heap_copy(const char *s, size_t n)
{
	char	*p;

	p = malloc(n + 1);
	ck_assert_ptr_nonnull(p);
	memcpy(p, s, n);
	p[n] = '\0';
	return p;
}

/*
 * Applies one random edit to BUF (LEN bytes, CAP capacity): overwrite,
 * insert or delete a byte, duplicate or drop a span, or truncate. New bytes
 * come from DICT half the time, else any byte but NUL. Returns the new
 * length.
 */
static size_t
mutate(uint64_t *rng, char *buf, size_t len, size_t cap, const char *dict)
{
	size_t	pos, n, dlen = strlen(dict);
	char	c;

	c = rng_below(rng, 2) ? dict[rng_below(rng, dlen)] :
	    (char)(1 + rng_below(rng, 255));
	pos = rng_below(rng, len + 1);
	switch (rng_below(rng, 6)) {
	case 0:
		if (pos < len)
			buf[pos] = c;
		break;
	case 1:
		if (len < cap) {
			memmove(buf + pos + 1, buf + pos, len - pos);
			buf[pos] = c;
			len++;
		}
		break;
	case 2:
		if (pos < len) {
			memmove(buf + pos, buf + pos + 1, len - pos - 1);
			len--;
		}
		break;
	case 3:
		n = rng_below(rng, 16);
		if (pos + n <= len && len + n <= cap) {
			memmove(buf + pos + n, buf + pos, len - pos);
			len += n;
		}
		break;
	case 4:
		n = rng_below(rng, 16);
		if (pos + n <= len) {
			memmove(buf + pos, buf + pos + n, len - pos - n);
			len -= n;
		}
		break;
	default:
		len = pos;
		break;
	}
	return len;
}

/* LEN random bytes, from DICT with probability 1/2 (never NUL if TEXT). */
static size_t
random_bytes(uint64_t *rng, char *buf, size_t cap, const char *dict,
    int text)
{
	size_t	i, len, dlen = strlen(dict);

	len = rng_below(rng, cap + 1);
	for (i = 0; i < len; i++) {
		if (rng_below(rng, 2))
			buf[i] = dict[rng_below(rng, dlen)];
		else
			buf[i] = (char)(text ? 1 + rng_below(rng, 255) :
			    rng_below(rng, 256));
	}
	return len;
}

/*
 * Config text.
 */
static const char conf_seed[] =
	"# comment\n"
	"server { bind 127.0.0.1 8080; workers 2; task_threads 4; "
	"background 1 }\n"
	"database { url \"postgresql://billow@127.0.0.1:54329/billow\" }\n"
	"redis {\n\turl \"redis://127.0.0.1:63799/0\"\n\ttimeout_ms 200\n}\n"
	"auth {\n"
	"\tjwt_secret \"0123456789abcdef0123456789abcdef\\\"x\"\n"
	"\taccess_ttl 3600; rate_limit_test_rps 25\n"
	"}\n"
	"webhooks { retry_base_s 60; allow_loopback yes }\n"
	"paths { var var; assets assets; lua lua; migrations migrations }\n"
	"plugin stripe {\n\tpath build/plugins/stripe.so\n"
	"\tapi_key \"sk_x\"\n}\n";

static const char *const conf_tokens[] = {
	"server", "database", "redis", "auth", "webhooks", "paths", "plugin",
	"bind", "workers", "url", "jwt_secret", "path", "allow_loopback",
	"{", "}", ";", "\n", "\"", "#", " ", "\t", "\\", "\\\"", "yes", "no",
	"8080", "-1", "0", "99999999999999999999", "x", "127.0.0.1",
};

static int
config_check(const char *text, uint64_t seed, int iter)
{
	struct bw_config	cfg;
	char			err[256];
	int			rc, line;

	memset(&cfg, 0, sizeof(cfg));
	rc = bw_config_parse(&cfg, "fuzz.conf", text, err, sizeof(err));
	ck_assert_msg(rc == BW_OK || rc == BW_ERROR,
	    "seed %llu iter %d: rc %d", (unsigned long long)seed, iter, rc);
	if (rc == BW_OK) {
		ck_assert_msg(cfg.bind_addr != NULL && cfg.var_dir != NULL,
		    "seed %llu iter %d: parsed config lacks defaults",
		    (unsigned long long)seed, iter);
	} else {
		ck_assert_msg(sscanf(err, "fuzz.conf:%d: ", &line) == 1 &&
		    line >= 1, "seed %llu iter %d: error not FILE:LINE: '%s'",
		    (unsigned long long)seed, iter, err);
	}
	bw_config_free(&cfg);
	bw_config_free(&cfg);	/* documented as safe */
	return rc;
}

START_TEST(fuzz_config_random)
{
	uint64_t	 seed = 0x6b696c6c6f770001ULL, rng = seed;
	struct bw_buf	 b;
	char		 raw[512], *text;
	size_t		 len, n, i;
	int		 iter;

	for (iter = 0; iter < 1500; iter++) {
		if (iter % 2 == 0) {
			len = random_bytes(&rng, raw, sizeof(raw) - 1,
			    "{};\"\n #", 1);
			text = heap_copy(raw, len);
		} else {
			/* A stream of grammar tokens, mostly well-formed. */
			bw_buf_init(&b);
			n = rng_below(&rng, 40);
			for (i = 0; i < n; i++)
				bw_buf_appends(&b, conf_tokens[rng_below(&rng,
				    BW_NELEM(conf_tokens))]);
			text = heap_copy(b.data != NULL ? b.data : "", b.len);
			bw_buf_free(&b);
		}
		config_check(text, seed, iter);
		free(text);
	}
}
END_TEST

START_TEST(fuzz_config_mutated)
{
	uint64_t		 seed = 0x6b696c6c6f770002ULL, rng = seed;
	struct bw_config	 cfg;
	char			 buf[sizeof(conf_seed) + 256], *text;
	char			 err[256];
	size_t			 len, k, nmut;
	int			 iter, nok = 0;

	/* The unmutated seed parses: otherwise every mutation is noise. */
	memset(&cfg, 0, sizeof(cfg));
	ck_assert_msg(bw_config_parse(&cfg, "seed.conf", conf_seed, err,
	    sizeof(err)) == BW_OK, "seed config: %s", err);
	ck_assert_uint_eq(cfg.nplugins, 1);
	bw_config_free(&cfg);
	for (iter = 0; iter < 2000; iter++) {
		len = sizeof(conf_seed) - 1;
		memcpy(buf, conf_seed, len);
		nmut = 1 + rng_below(&rng, 6);
		for (k = 0; k < nmut; k++)
			len = mutate(&rng, buf, len, sizeof(buf) - 1,
			    "{};\"\\\n #0-x");
		text = heap_copy(buf, len);
		if (config_check(text, seed, iter) == BW_OK)
			nok++;
		free(text);
	}
	/* The mutations reach both outcomes, or the test proves little. */
	ck_assert_msg(nok > 0 && nok < iter, "%d of %d parsed", nok, iter);
}
END_TEST

/*
 * Router.
 */
static int
fuzz_handler(struct bw_req *req)
{
	(void)req;
	return BW_OK;
}

static const struct bw_route fuzz_routes[] = {
	{ BW_GET, "/", BW_AUTH_PUBLIC, 0, fuzz_handler, 0 },
	{ BW_GET, "/api/v1/customers", BW_AUTH_TENANT, 0, fuzz_handler, 0 },
	{ BW_POST, "/api/v1/customers", BW_AUTH_TENANT, 0, fuzz_handler, 0 },
	{ BW_GET, "/api/v1/customers/{id}", BW_AUTH_TENANT, 0,
	    fuzz_handler, 0 },
	{ BW_DELETE, "/api/v1/customers/{id}", BW_AUTH_TENANT, 0,
	    fuzz_handler, 0 },
	{ BW_GET, "/api/v1/customers/{id}/invoices/{invoice}",
	    BW_AUTH_TENANT, 0, fuzz_handler, 0 },
	{ BW_PATCH, "/{a}/{b}/{c}/{d}", BW_AUTH_TENANT, 0, fuzz_handler, 0 },
};

static void
fuzz_routes_setup(void)
{
	bw_router_clear();
	bw_router_add(fuzz_routes, BW_NELEM(fuzz_routes));
}

static void
fuzz_routes_teardown(void)
{
	bw_router_clear();
}

static const char *const path_segs[] = {
	"/", "api", "v1", "customers", "invoices", "cus_1", "in_2", "{id}",
	"{", "}", "%", "%2F", "\x80", "\xff\xfe", "a", "", "//",
};

static const int methods[] = {
	BW_GET, BW_POST, BW_PATCH, BW_DELETE, BW_PUT, BW_HEAD, BW_OPTIONS,
};

static size_t
count_char(const char *s, int c)
{
	size_t	n = 0;

	for (; *s != '\0'; s++)
		if (*s == c)
			n++;
	return n;
}

START_TEST(fuzz_router_paths)
{
	uint64_t	 seed = 0x6b696c6c6f770003ULL, rng = seed;
	struct bw_req	 req;
	struct bw_buf	 b;
	char		 raw[96], *path;
	size_t		 len, n, i, seen[3] = { 0, 0, 0 };
	int		 iter, rc, allow, method;

	for (iter = 0; iter < 4000; iter++) {
		if (iter % 2 == 0) {
			len = random_bytes(&rng, raw, sizeof(raw) - 1,
			    "/{}abc%\x80\xff", 1);
			path = heap_copy(raw, len);
		} else {
			bw_buf_init(&b);
			bw_buf_appends(&b, "/");
			n = rng_below(&rng, 10);
			for (i = 0; i < n; i++)
				bw_buf_appends(&b, path_segs[rng_below(&rng,
				    BW_NELEM(path_segs))]);
			path = heap_copy(b.data, b.len);
			bw_buf_free(&b);
		}
		method = methods[rng_below(&rng, BW_NELEM(methods))];

		bw_req_init(&req);
		req.method = method;
		req.path = path;
		allow = -1;
		rc = bw_router_match(&req, &allow);
		if (rc >= 0 && rc < 3)
			seen[rc]++;
		switch (rc) {
		case BW_MATCH_OK:
			ck_assert_msg(req.route != NULL &&
			    bw_router_index(req.route) >= 0,
			    "seed %llu iter %d: no route",
			    (unsigned long long)seed, iter);
			ck_assert(req.route->method == method ||
			    (method == BW_HEAD && req.route->method == BW_GET));
			ck_assert_uint_eq(req.nparams,
			    count_char(req.route->pattern, '{'));
			for (i = 0; i < req.nparams; i++) {
				ck_assert(req.params[i][0] != '\0');
				ck_assert_ptr_null(strchr(req.params[i], '/'));
			}
			break;
		case BW_MATCH_METHOD:
			ck_assert_msg(allow != 0 && (allow & method) == 0,
			    "seed %llu iter %d: allow %#x for method %#x",
			    (unsigned long long)seed, iter, allow, method);
			ck_assert_ptr_null(req.route);
			break;
		case BW_MATCH_NOT_FOUND:
			ck_assert_int_eq(allow, 0);
			ck_assert_ptr_null(req.route);
			break;
		default:
			ck_abort_msg("seed %llu iter %d: rc %d",
			    (unsigned long long)seed, iter, rc);
		}
		bw_req_free(&req);
		free(path);
	}
	ck_assert_msg(seen[BW_MATCH_OK] > 0 && seen[BW_MATCH_METHOD] > 0 &&
	    seen[BW_MATCH_NOT_FOUND] > 0, "outcomes %zu/%zu/%zu",
	    seen[BW_MATCH_OK], seen[BW_MATCH_METHOD],
	    seen[BW_MATCH_NOT_FOUND]);
}
END_TEST

/*
 * Query strings.
 */
static const char *const query_names[] = {
	"a", "b", "ab", "limit", "lim", "starting_after", "ending_before", "",
	"%41", " ",
};

START_TEST(fuzz_query_strings)
{
	uint64_t	 seed = 0x6b696c6c6f770004ULL, rng = seed;
	struct bw_req	 req;
	struct bw_page	 pg;
	char		 raw[128], *q;
	const char	*v;
	size_t		 len, k;
	int		 iter, rc;

	for (iter = 0; iter < 2000; iter++) {
		len = random_bytes(&rng, raw, sizeof(raw) - 1,
		    "ab=&%+0123456789AFaf_limt\x80\xff", 1);
		q = heap_copy(raw, len);
		bw_req_init(&req);
		req.query = q;
		for (k = 0; k < BW_NELEM(query_names); k++) {
			v = bw_req_query(&req, query_names[k]);
			/* Decoding never grows the text. */
			if (v != NULL)
				ck_assert_msg(strlen(v) <= len,
				    "seed %llu iter %d: '%s' from '%s'",
				    (unsigned long long)seed, iter, v, q);
		}
		rc = bw_page_parse(&req, "cus", &pg);
		if (rc == BW_OK) {
			ck_assert(pg.limit >= 1 && pg.limit <= 100);
			ck_assert(pg.starting_after == NULL ||
			    strncmp(pg.starting_after, "cus_", 4) == 0);
			ck_assert(pg.ending_before == NULL ||
			    strncmp(pg.ending_before, "cus_", 4) == 0);
			ck_assert(pg.starting_after == NULL ||
			    pg.ending_before == NULL);
		} else {
			ck_assert_int_eq(rc, BW_ERROR);
			ck_assert_int_eq(req.err.status, 400);
			ck_assert_str_eq(req.err.code, "parameter_invalid");
		}
		bw_req_free(&req);
		free(q);
	}
}
END_TEST

/*
 * JSON bodies.
 */
static const char *const json_seeds[] = {
	"{}",
	"{\"name\":\"Jane\",\"email\":\"jane@example.com\",\"metadata\":"
	    "{\"k\":\"v\",\"n\":\"1\"}}",
	"{\"a\":[1,2.5,-3e10,true,false,null,\"\\u00e9\\n\\\"\"],"
	    "\"b\":{\"c\":{\"d\":[[],{}]}}}",
	"{\"amount\":2999,\"currency\":\"usd\",\"interval\":\"month\"}",
	"{\"\xe2\x82\xac\":\"\xf0\x9f\x98\x80\",\"s\":\"\\ud83d\\ude00\"}",
};

static int
body_check(const char *body, size_t len, uint64_t seed, int iter)
{
	struct bw_req		 req;
	struct bw_header	 h;
	json_t			*md;
	char			*copy = NULL;
	int			 rc;

	bw_req_init(&req);
	h.name = bw_arena_strdup(&req.arena, "Content-Type");
	h.value = bw_arena_strdup(&req.arena, "application/json");
	req.headers = &h;
	req.nheaders = 1;
	if (len > 0) {
		/* Exactly LEN bytes, no terminator: over-reads trip ASan. */
		copy = malloc(len);
		ck_assert_ptr_nonnull(copy);
		memcpy(copy, body, len);
	}
	req.body = copy;
	req.body_len = len;
	rc = bw_body_object(&req);
	if (rc == BW_OK) {
		ck_assert_msg(json_is_object(req.json) && !req.failed,
		    "seed %llu iter %d: OK without an object",
		    (unsigned long long)seed, iter);
		rc = bw_param_metadata(&req, req.json, "metadata", &md);
		ck_assert(rc == BW_OK || rc == BW_DECLINED || rc == BW_ERROR);
	} else {
		ck_assert_msg(rc == BW_ERROR, "seed %llu iter %d: rc %d",
		    (unsigned long long)seed, iter, rc);
		ck_assert_int_eq(req.failed, 1);
		ck_assert_int_eq(req.err.status, 400);
		ck_assert_str_eq(req.err.code, "invalid_json");
		ck_assert_ptr_null(req.json);
	}
	bw_req_free(&req);
	free(copy);
	return rc;
}

START_TEST(fuzz_body_random)
{
	uint64_t	seed = 0x6b696c6c6f770005ULL, rng = seed;
	char		raw[256];
	size_t		len;
	int		iter;

	for (iter = 0; iter < 1500; iter++) {
		len = random_bytes(&rng, raw, sizeof(raw), "{}[]\":,\\ 0ae",
		    0);
		body_check(raw, len, seed, iter);
	}
}
END_TEST

START_TEST(fuzz_body_mutated)
{
	uint64_t	 seed = 0x6b696c6c6f770006ULL, rng = seed;
	char		 buf[512];
	const char	*s;
	size_t		 len, k, nmut;
	int		 iter, nok = 0;

	for (iter = 0; iter < 2000; iter++) {
		s = json_seeds[rng_below(&rng, BW_NELEM(json_seeds))];
		len = strlen(s);
		memcpy(buf, s, len);
		nmut = 1 + rng_below(&rng, 2);
		for (k = 0; k < nmut; k++)
			len = mutate(&rng, buf, len, sizeof(buf),
			    "{}[]\":,\\u0\xc3\xff");
		if (body_check(buf, len, seed, iter) == BW_OK)
			nok++;
	}
	ck_assert_msg(nok > 0 && nok < iter, "%d of %d parsed", nok, iter);
}
END_TEST

/* Well-formed documents of random depth: accepted exactly up to 32. */
START_TEST(fuzz_body_depth)
{
	uint64_t	 seed = 0x6b696c6c6f770007ULL, rng = seed;
	struct bw_req	 req;
	struct bw_header h;
	struct bw_buf	 b;
	char		 closers[64];
	int		 iter, depth, i, rc;

	for (iter = 0; iter < 400; iter++) {
		depth = 1 + (int)rng_below(&rng, 40);
		bw_buf_init(&b);
		bw_buf_appends(&b, "{\"s\":\"[{\\\"\",\"k\":");
		closers[0] = '}';
		for (i = 1; i < depth; i++) {
			if (rng_below(&rng, 2)) {
				bw_buf_appends(&b, "[\"]\",");
				closers[i] = ']';
			} else {
				bw_buf_appends(&b, "{\"}\":0,\"k\":");
				closers[i] = '}';
			}
		}
		bw_buf_appends(&b, "1");
		for (i = depth - 1; i >= 0; i--)
			bw_buf_append(&b, &closers[i], 1);

		bw_req_init(&req);
		h.name = bw_arena_strdup(&req.arena, "content-type");
		h.value = bw_arena_strdup(&req.arena, "application/json");
		req.headers = &h;
		req.nheaders = 1;
		req.body = b.data;
		req.body_len = b.len;
		rc = bw_body_object(&req);
		ck_assert_msg(rc == (depth <= BW_JSON_MAX_DEPTH ? BW_OK :
		    BW_ERROR), "seed %llu iter %d: depth %d rc %d: %s",
		    (unsigned long long)seed, iter, depth, rc, b.data);
		bw_req_free(&req);
		bw_buf_free(&b);
	}
}
END_TEST

/*
 * Timestamps and email addresses.
 */
static const char *const time_seeds[] = {
	"2026-01-31T00:00:00Z", "2028-02-29T23:59:59.999+05:30",
	"1970-01-01T00:00:00-00:00", "9999-12-31T23:59:59Z",
};

START_TEST(fuzz_time_parse)
{
	uint64_t	 seed = 0x6b696c6c6f770008ULL, rng = seed;
	char		 buf[64], out[32], *s;
	const char	*t0;
	size_t		 len, k, nmut;
	int64_t		 t, t2;
	int		 iter, rc, nok = 0;

	for (iter = 0; iter < 4000; iter++) {
		if (iter % 3 == 0) {
			len = random_bytes(&rng, buf, 40, "0123456789-:TZ+.",
			    1);
		} else {
			t0 = time_seeds[rng_below(&rng, BW_NELEM(time_seeds))];
			len = strlen(t0);
			memcpy(buf, t0, len);
			nmut = 1 + rng_below(&rng, 3);
			for (k = 0; k < nmut; k++)
				len = mutate(&rng, buf, len, 40,
				    "0123456789-:TZ+. ");
		}
		s = heap_copy(buf, len);
		rc = bw_time_parse(s, &t);
		ck_assert_msg(rc == BW_OK || rc == BW_ERROR,
		    "seed %llu iter %d: rc %d", (unsigned long long)seed,
		    iter, rc);
		/* What parses formats back to a string that parses the same. */
		if (rc == BW_OK)
			nok++;
		if (rc == BW_OK && t >= 0 && t <= 253402300799LL) {
			bw_time_rfc3339(t, out, sizeof(out));
			ck_assert_uint_eq(strlen(out), 20);
			ck_assert_msg(bw_time_parse(out, &t2) == BW_OK &&
			    t2 == t,
			    "seed %llu iter %d: '%s' -> '%s'",
			    (unsigned long long)seed, iter, s, out);
		}
		free(s);
	}
	ck_assert_msg(nok > 0 && nok < iter, "%d of %d parsed", nok, iter);
}
END_TEST

/* The documented shape: one '@' not first, a dotted domain, no blanks. */
static int
email_shape_ok(const char *s)
{
	const char	*at = strchr(s, '@'), *dot, *p;

	if (strlen(s) > 254 || at == NULL || at == s ||
	    strchr(at + 1, '@') != NULL)
		return 0;
	for (p = s; *p != '\0'; p++)
		if ((unsigned char)*p <= ' ')
			return 0;
	dot = strrchr(at, '.');
	return dot != NULL && dot > at + 1 && dot[1] != '\0' &&
	    strstr(at, "..") == NULL;
}

START_TEST(fuzz_email_valid)
{
	uint64_t	 seed = 0x6b696c6c6f770009ULL, rng = seed;
	char		 buf[300], *s;
	size_t		 len, k;
	int		 iter, rc, nok = 0;

	for (iter = 0; iter < 4000; iter++) {
		if (iter % 2 == 0) {
			len = random_bytes(&rng, buf, iter % 50 == 0 ?
			    sizeof(buf) - 1 : 24, "ab.@ +-_\"<\x80", 1);
		} else {
			len = strlen("first.last+tag@sub.example.org");
			memcpy(buf, "first.last+tag@sub.example.org", len);
			for (k = 0; k < 2; k++)
				len = mutate(&rng, buf, len, sizeof(buf) - 1,
				    ".@ -");
		}
		s = heap_copy(buf, len);
		rc = bw_email_valid(s);
		ck_assert_msg(rc == 0 || rc == 1, "seed %llu iter %d: rc %d",
		    (unsigned long long)seed, iter, rc);
		nok += rc;
		if (rc == 1)
			ck_assert_msg(email_shape_ok(s),
			    "seed %llu iter %d: accepted '%s'",
			    (unsigned long long)seed, iter, s);
		free(s);
	}
	ck_assert_msg(nok > 0 && nok < iter, "%d of %d valid", nok, iter);
}
END_TEST

Suite *
suite_fuzz(void)
{
	Suite	*s = suite_create("fuzz");
	TCase	*tc;

	tc = tcase_create("config");
	tcase_add_test(tc, fuzz_config_random);
	tcase_add_test(tc, fuzz_config_mutated);
	suite_add_tcase(s, tc);

	tc = tcase_create("router");
	tcase_add_checked_fixture(tc, fuzz_routes_setup, fuzz_routes_teardown);
	tcase_add_test(tc, fuzz_router_paths);
	suite_add_tcase(s, tc);

	tc = tcase_create("request");
	tcase_add_test(tc, fuzz_query_strings);
	tcase_add_test(tc, fuzz_body_random);
	tcase_add_test(tc, fuzz_body_mutated);
	tcase_add_test(tc, fuzz_body_depth);
	tcase_add_test(tc, fuzz_time_parse);
	tcase_add_test(tc, fuzz_email_valid);
	suite_add_tcase(s, tc);
	return s;
}
