/*
 * The webhooks plugin (API.md "Events and webhooks"): endpoint CRUD and
 * validation, the secret shown once and rolled, roles, tenant and mode
 * isolation, live-mode URL rules, and real deliveries to a local receiver
 * (receiver.c): headers and a signature checked with HMAC computed here,
 * retries until delivered, failure after 5 attempts, enabled_events
 * filtering, the manual retry, and the registration webhook_url.
 *
 * Needs a server with the plugin loaded, its migration applied, a small
 * retry base and loopback allowed:
 *   plugin webhooks { path build/plugins/webhooks.so; retry_base_ms 200;
 *       allow_loopback yes }
 * (another base: tell the tests with WEBHOOKS_RETRY_BASE_MS=N).
 * and its `billow worker` running (the relay and the task consumer).
 * Receivers listen on 127.0.0.1:18174-18179, each URL with a random path
 * so a stray delivery of an earlier run is never counted.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "harness.h"
#include "receiver.h"

#define ENDPOINTS	"/api/v1/webhook_endpoints"
/*
 * How long to wait for a delivery to settle: 5 attempts wait 1+4+16+64 =
 * 85 bases, 102 with +20 % jitter (base 200 ms: 20.4 s), plus 30 s for a
 * loaded machine. Check's 120 s per test caps the base near 800 ms.
 */
#define WAIT_MS		((int)(30000 + 102 * retry_base_ms()))
#define PORT_SIG	18174
#define PORT_RETRY	18175
#define PORT_FAIL	18176
#define PORT_FILTER	18177
#define PORT_REG	18178
#define PORT_LIVE	18179

/*
 * The server's retry_base_ms, as WEBHOOKS_RETRY_BASE_MS tells this
 * process (default 200, the suite's configuration).
 */
static long long
retry_base_ms(void)
{
	const char	*v = getenv("WEBHOOKS_RETRY_BASE_MS");

	return v != NULL && atoll(v) > 0 ? atoll(v) : 200;
}

/* A fresh path "/wh/<hex>" and its URL on PORT. */
static void
hook_url(int port, char *path, size_t plen, char *url, size_t ulen)
{
	char	rnd[17];

	random_hex(rnd, 16);
	snprintf(path, plen, "/wh/%s", rnd);
	snprintf(url, ulen, "http://127.0.0.1:%d%s", port, path);
}

/* POST /webhook_endpoints {url, enabled_events: EVENTS}; asserts 201. */
static json_t *
we_create(const char *auth, const char *url, const char *events)
{
	struct resp	*r;
	json_t		*o;
	char		 body[2600];

	snprintf(body, sizeof(body), "{\"url\":\"%s\",\"enabled_events\":%s}",
	    url, events);
	r = api_post(ENDPOINTS, auth, body, NULL);
	assert_status(r, 201);
	o = json_incref(r->json);
	resp_free(r);
	return o;
}

static struct resp *
we_req(const char *method, const char *auth, const char *id,
    const char *suffix, const char *body)
{
	char	path[300];

	snprintf(path, sizeof(path), ENDPOINTS "/%s%s", id, suffix != NULL ?
	    suffix : "");
	if (strcmp(method, "GET") == 0)
		return api_get(path, auth, NULL);
	if (strcmp(method, "DELETE") == 0)
		return api_delete(path, auth, NULL);
	if (strcmp(method, "PATCH") == 0)
		return api_patch(path, auth, body, NULL);
	return api_post(path, auth, body, NULL);
}

/* Creates a customer with a unique email (a customer.created event). */
static char *
customer_new(const char *auth)
{
	struct resp	*r;
	char		 email[128], body[200], *id;

	unique_email(email, sizeof(email), "whcus");
	snprintf(body, sizeof(body), "{\"email\":\"%s\"}", email);
	r = api_post("/api/v1/customers", auth, body, NULL);
	assert_status(r, 201);
	id = strdup(jstr(r->json, "id"));
	resp_free(r);
	return id;
}

/* The deliveries of endpoint ID (newest first); decref. */
static json_t *
deliveries(const char *auth, const char *id)
{
	struct resp	*r;
	json_t		*d;

	r = we_req("GET", auth, id, "/deliveries?limit=100", NULL);
	assert_status(r, 200);
	assert_jstr(r->json, "object", "list");
	d = json_incref(json_object_get(r->json, "data"));
	resp_free(r);
	return d;
}

static void
nap_ms(long ms)
{
	struct timespec	ts = { ms / 1000, (ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

/*
 * Polls endpoint ID until its newest delivery has STATUS (deadline
 * WAIT_MS); returns that delivery (decref). Fails the test otherwise.
 */
static json_t *
wait_delivery(const char *auth, const char *id, const char *status)
{
	struct timespec	 t0, t;
	json_t		*d, *first;
	long		 ms;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (;;) {
		d = deliveries(auth, id);
		first = json_array_get(d, 0);
		if (first != NULL && jstr(first, "status") != NULL &&
		    strcmp(jstr(first, "status"), status) == 0) {
			json_incref(first);
			json_decref(d);
			return first;
		}
		clock_gettime(CLOCK_MONOTONIC, &t);
		ms = (t.tv_sec - t0.tv_sec) * 1000 + (t.tv_nsec - t0.tv_nsec) /
		    1000000;
		ck_assert_msg(ms < WAIT_MS, "delivery of %s never became %s: "
		    "%s", id, status, first != NULL ? json_dumps(first, 0) :
		    "(none)");
		json_decref(d);
		nap_ms(50);
	}
}

/*
 * Whether SIG ("t=T,v1=HEX") signs BODY with SECRET: HMAC-SHA256 of
 * "T.BODY" computed here, compared in constant time. *T gets T.
 */
static int
sig_ok(const char *secret, const char *sig, const char *body, long long *t)
{
	unsigned char	 mac[EVP_MAX_MD_SIZE];
	unsigned int	 maclen = 0, i;
	char		 hex[2 * EVP_MAX_MD_SIZE + 1], *msg;
	const char	*v1;
	int		 n;

	if (sig == NULL || sscanf(sig, "t=%lld,", t) != 1 ||
	    (v1 = strstr(sig, ",v1=")) == NULL)
		return 0;
	v1 += 4;
	n = asprintf(&msg, "%lld.%s", *t, body);
	ck_assert_int_gt(n, 0);
	HMAC(EVP_sha256(), secret, (int)strlen(secret), (unsigned char *)msg,
	    (size_t)n, mac, &maclen);
	free(msg);
	for (i = 0; i < maclen; i++)
		snprintf(hex + 2 * i, 3, "%02x", mac[i]);
	return strlen(v1) == 2 * maclen && CRYPTO_memcmp(hex, v1, 2 * maclen)
	    == 0;
}

/* The id of the tenant's newest event of TYPE (strdup'd). */
static char *
newest_event(const char *auth, const char *type)
{
	struct resp	*r;
	char		 path[200], *id;

	snprintf(path, sizeof(path), "/api/v1/events?type=%s&limit=1", type);
	r = api_get(path, auth, NULL);
	assert_status(r, 200);
	ck_assert_ptr_nonnull(jstr(r->json, "data.0.id"));
	id = strdup(jstr(r->json, "data.0.id"));
	resp_free(r);
	return id;
}

START_TEST(webhooks_crud)
{
	struct tenant	 t;
	struct resp	*r;
	json_t		*o;
	const char	*secret;
	char		*id;
	size_t		 i;

	tenant_register(&t, NULL);
	r = api_post(ENDPOINTS, t.sk_test, "{\"url\":\"https://example.com/"
	    "hooks\",\"enabled_events\":[\"customer.created\","
	    "\"invoice.paid\"],\"description\":\"Main\"}", NULL);
	assert_status(r, 201);
	o = r->json;
	assert_jstr(o, "object", "webhook_endpoint");
	ck_assert(strncmp(jstr(o, "id"), "we_", 3) == 0);
	ck_assert(json_is_false(json_object_get(o, "livemode")));
	assert_jstr(o, "url", "https://example.com/hooks");
	assert_jstr(o, "description", "Main");
	assert_jstr(o, "enabled_events.0", "customer.created");
	assert_jstr(o, "enabled_events.1", "invoice.paid");
	ck_assert_int_eq(json_array_size(json_object_get(o,
	    "enabled_events")), 2);
	assert_jstr(o, "status", "enabled");
	ck_assert_int_eq(strlen(jstr(o, "created")), 20);
	/* whsec_ and 32 random bytes in hex: 6 + 64 characters. */
	secret = jstr(o, "secret");
	ck_assert_ptr_nonnull(secret);
	ck_assert_int_eq(strlen(secret), 70);
	ck_assert(strncmp(secret, "whsec_", 6) == 0);
	for (i = 6; i < 70; i++)
		ck_assert(strchr("0123456789abcdef", secret[i]) != NULL);
	id = strdup(jstr(o, "id"));
	resp_free(r);

	/* Shown once: neither get nor list carries it. */
	r = we_req("GET", t.sk_test, id, NULL, NULL);
	assert_status(r, 200);
	assert_jstr(r->json, "id", id);
	assert_jstr(r->json, "description", "Main");
	ck_assert_ptr_null(json_object_get(r->json, "secret"));
	resp_free(r);
	r = api_get(ENDPOINTS, t.sk_test, NULL);
	assert_status(r, 200);
	assert_jstr(r->json, "object", "list");
	assert_jstr(r->json, "url", ENDPOINTS);
	ck_assert_int_eq(json_array_size(json_object_get(r->json, "data")), 1);
	assert_jstr(r->json, "data.0.id", id);
	ck_assert_ptr_null(jget(r->json, "data.0.secret"));
	resp_free(r);

	/* PATCH: each field; description null clears it; disabled. */
	r = we_req("PATCH", t.sk_test, id, NULL, "{\"url\":\"https://example."
	    "org/h2\",\"enabled_events\":[\"*\"],\"disabled\":true}");
	assert_status(r, 200);
	assert_jstr(r->json, "url", "https://example.org/h2");
	assert_jstr(r->json, "enabled_events.0", "*");
	ck_assert_int_eq(json_array_size(json_object_get(r->json,
	    "enabled_events")), 1);
	assert_jstr(r->json, "status", "disabled");
	assert_jstr(r->json, "description", "Main");
	ck_assert_ptr_null(json_object_get(r->json, "secret"));
	resp_free(r);
	r = we_req("PATCH", t.sk_test, id, NULL, "{\"description\":null,"
	    "\"disabled\":false}");
	assert_status(r, 200);
	ck_assert(json_is_null(json_object_get(r->json, "description")));
	assert_jstr(r->json, "status", "enabled");
	assert_jstr(r->json, "url", "https://example.org/h2");
	resp_free(r);

	/* Pagination: three endpoints, two a page, newest first. */
	json_decref(we_create(t.sk_test, "https://example.com/b", "[\"*\"]"));
	json_decref(we_create(t.sk_test, "https://example.com/c", "[\"*\"]"));
	r = api_get(ENDPOINTS "?limit=2", t.sk_test, NULL);
	assert_status(r, 200);
	ck_assert(json_is_true(json_object_get(r->json, "has_more")));
	assert_jstr(r->json, "data.0.url", "https://example.com/c");
	assert_jstr(r->json, "data.1.url", "https://example.com/b");
	resp_free(r);

	/* DELETE, then it is gone. */
	r = we_req("DELETE", t.sk_test, id, NULL, NULL);
	assert_status(r, 200);
	assert_jstr(r->json, "id", id);
	ck_assert(json_is_true(json_object_get(r->json, "deleted")));
	resp_free(r);
	r = we_req("GET", t.sk_test, id, NULL, NULL);
	assert_error(r, 404, "invalid_request_error", NULL, NULL);
	resp_free(r);
	r = we_req("DELETE", t.sk_test, id, NULL, NULL);
	assert_error(r, 404, "invalid_request_error", NULL, NULL);
	resp_free(r);
	free(id);
	tenant_free(&t);
}
END_TEST

START_TEST(webhooks_validation)
{
	static const struct {
		const char	*body;
		const char	*code;
		const char	*param;
	} bad[] = {
		{ "{\"enabled_events\":[\"*\"]}", "parameter_missing", "url" },
		{ "{\"url\":\"https://example.com/\"}", "parameter_missing",
		  "enabled_events" },
		{ "{\"url\":\"ftp://example.com/\",\"enabled_events\":[\"*\"]}",
		  "parameter_invalid", "url" },
		{ "{\"url\":\"example.com\",\"enabled_events\":[\"*\"]}",
		  "parameter_invalid", "url" },
		{ "{\"url\":\"http://\",\"enabled_events\":[\"*\"]}",
		  "parameter_invalid", "url" },
		{ "{\"url\":\"https://a b.com/\",\"enabled_events\":[\"*\"]}",
		  "parameter_invalid", "url" },
		{ "{\"url\":\"https://u:p@example.com/\",\"enabled_events\":"
		  "[\"*\"]}", "parameter_invalid", "url" },
		{ "{\"url\":7,\"enabled_events\":[\"*\"]}", "parameter_invalid",
		  "url" },
		/* Private and link-local literals, refused in either mode. */
		{ "{\"url\":\"http://10.1.2.3/\",\"enabled_events\":[\"*\"]}",
		  "parameter_invalid", "url" },
		{ "{\"url\":\"http://192.168.0.1/\",\"enabled_events\":"
		  "[\"*\"]}", "parameter_invalid", "url" },
		{ "{\"url\":\"http://169.254.169.254/latest\","
		  "\"enabled_events\":[\"*\"]}", "parameter_invalid", "url" },
		{ "{\"url\":\"http://[fe80::1]/\",\"enabled_events\":[\"*\"]}",
		  "parameter_invalid", "url" },
		{ "{\"url\":\"https://example.com/\",\"enabled_events\":[]}",
		  "parameter_invalid", "enabled_events" },
		{ "{\"url\":\"https://example.com/\",\"enabled_events\":\"*\"}",
		  "parameter_invalid", "enabled_events" },
		{ "{\"url\":\"https://example.com/\",\"enabled_events\":[1]}",
		  "parameter_invalid", "enabled_events" },
		{ "{\"url\":\"https://example.com/\",\"enabled_events\":"
		  "[\"customer.exploded\"]}", "parameter_invalid",
		  "enabled_events" },
		{ "{\"url\":\"https://example.com/\",\"enabled_events\":"
		  "[\"*\",\"customer.created\"]}", "parameter_invalid",
		  "enabled_events" },
		{ "{\"url\":\"https://example.com/\",\"enabled_events\":"
		  "[\"plan.created\",\"plan.created\"]}", "parameter_invalid",
		  "enabled_events" },
		{ "{\"url\":\"https://example.com/\",\"enabled_events\":[\"*\"],"
		  "\"secret\":\"whsec_mine\"}", "parameter_unknown", "secret" },
	};
	struct tenant	 t;
	struct resp	*r;
	json_t		*o;
	char		*body, *url;
	size_t		 i;

	tenant_register(&t, NULL);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		r = api_post(ENDPOINTS, t.sk_test, bad[i].body, NULL);
		ck_assert_msg(r->status == 400, "%s: got %ld", bad[i].body,
		    r->status);
		assert_error(r, 400, "invalid_request_error", bad[i].code,
		    bad[i].param);
		resp_free(r);
	}
	/* url: 2048 characters are fine, 2049 are not. */
	url = malloc(2050);
	memcpy(url, "https://example.com/", 20);
	memset(url + 20, 'a', 2028);
	url[2048] = '\0';
	ck_assert_int_ge(asprintf(&body, "{\"url\":\"%s\",\"enabled_events\":"
	    "[\"*\"]}", url), 0);
	r = api_post(ENDPOINTS, t.sk_test, body, NULL);
	assert_status(r, 201);
	resp_free(r);
	free(body);
	url[2048] = 'a';
	url[2049] = '\0';
	ck_assert_int_ge(asprintf(&body, "{\"url\":\"%s\",\"enabled_events\":"
	    "[\"*\"]}", url), 0);
	r = api_post(ENDPOINTS, t.sk_test, body, NULL);
	assert_error(r, 400, "invalid_request_error", "parameter_invalid",
	    "url");
	resp_free(r);
	free(body);
	free(url);

	/* Test mode takes http:// and, with allow_loopback, loopback. */
	o = we_create(t.sk_test, "http://127.0.0.1:18179/x", "[\"*\"]");
	assert_jstr(o, "url", "http://127.0.0.1:18179/x");
	/* PATCH validates the same way and changes nothing on error. */
	r = we_req("PATCH", t.sk_test, jstr(o, "id"), NULL,
	    "{\"url\":\"gopher://x/\"}");
	assert_error(r, 400, "invalid_request_error", "parameter_invalid",
	    "url");
	resp_free(r);
	r = we_req("PATCH", t.sk_test, jstr(o, "id"), NULL,
	    "{\"enabled_events\":[]}");
	assert_error(r, 400, "invalid_request_error", "parameter_invalid",
	    "enabled_events");
	resp_free(r);
	r = we_req("PATCH", t.sk_test, jstr(o, "id"), NULL,
	    "{\"status\":\"disabled\"}");
	assert_error(r, 400, "invalid_request_error", "parameter_unknown",
	    "status");
	resp_free(r);
	r = we_req("GET", t.sk_test, jstr(o, "id"), NULL, NULL);
	assert_status(r, 200);
	assert_jstr(r->json, "url", "http://127.0.0.1:18179/x");
	assert_jstr(r->json, "enabled_events.0", "*");
	resp_free(r);
	json_decref(o);
	tenant_free(&t);
}
END_TEST

START_TEST(webhooks_roles)
{
	struct tenant	 t;
	struct resp	*r;
	json_t		*o;
	char		 email[128], *dev, *uid;

	tenant_register(&t, NULL);
	o = we_create(t.sk_test, "https://example.com/r", "[\"*\"]");
	uid = team_add(t.access, "developer", email, sizeof(email),
	    "developer-pass-1");
	dev = login_access(email, "developer-pass-1");
	/* Developers read; only admins and owners (or secret keys) write. */
	r = we_req("GET", dev, jstr(o, "id"), NULL, NULL);
	assert_status(r, 200);
	resp_free(r);
	r = api_get(ENDPOINTS, dev, NULL);
	assert_status(r, 200);
	resp_free(r);
	r = api_post(ENDPOINTS, dev, "{\"url\":\"https://example.com/d\","
	    "\"enabled_events\":[\"*\"]}", NULL);
	assert_error(r, 403, "permission_error", NULL, NULL);
	resp_free(r);
	r = we_req("POST", dev, jstr(o, "id"), "/roll_secret", NULL);
	assert_error(r, 403, "permission_error", NULL, NULL);
	resp_free(r);
	r = we_req("DELETE", dev, jstr(o, "id"), NULL, NULL);
	assert_error(r, 403, "permission_error", NULL, NULL);
	resp_free(r);
	/* The owner's token writes. */
	r = we_req("PATCH", t.access, jstr(o, "id"), NULL,
	    "{\"description\":\"by owner\"}");
	assert_status(r, 200);
	assert_jstr(r->json, "description", "by owner");
	resp_free(r);
	/* Publishable keys reach nothing here. */
	r = api_get(ENDPOINTS, t.pk_test, NULL);
	assert_error(r, 403, NULL, NULL, NULL);
	resp_free(r);
	r = api_get(ENDPOINTS, NULL, NULL);
	assert_error(r, 401, "authentication_error", NULL, NULL);
	resp_free(r);
	free(dev);
	free(uid);
	json_decref(o);
	tenant_free(&t);
}
END_TEST

START_TEST(webhooks_isolation)
{
	struct tenant	 a, b;
	struct resp	*r;
	json_t		*o;
	const char	*id;

	tenant_register(&a, NULL);
	tenant_register(&b, NULL);
	o = we_create(a.sk_test, "https://example.com/a", "[\"*\"]");
	id = jstr(o, "id");
	/* Another tenant, and the other mode of the same one: 404. */
	r = we_req("GET", b.sk_test, id, NULL, NULL);
	assert_error(r, 404, "invalid_request_error", NULL, NULL);
	resp_free(r);
	r = we_req("GET", a.sk_live, id, NULL, NULL);
	assert_error(r, 404, "invalid_request_error", NULL, NULL);
	resp_free(r);
	r = we_req("PATCH", b.sk_test, id, NULL, "{\"description\":\"x\"}");
	assert_error(r, 404, "invalid_request_error", NULL, NULL);
	resp_free(r);
	r = we_req("POST", b.sk_test, id, "/roll_secret", NULL);
	assert_error(r, 404, "invalid_request_error", NULL, NULL);
	resp_free(r);
	r = we_req("GET", b.sk_test, id, "/deliveries", NULL);
	assert_error(r, 404, "invalid_request_error", NULL, NULL);
	resp_free(r);
	r = we_req("DELETE", b.sk_test, id, NULL, NULL);
	assert_error(r, 404, "invalid_request_error", NULL, NULL);
	resp_free(r);
	r = api_get(ENDPOINTS, b.sk_test, NULL);
	assert_status(r, 200);
	ck_assert_int_eq(json_array_size(json_object_get(r->json, "data")), 0);
	resp_free(r);
	r = api_get(ENDPOINTS, a.sk_live, NULL);
	assert_status(r, 200);
	ck_assert_int_eq(json_array_size(json_object_get(r->json, "data")), 0);
	resp_free(r);
	/* A's endpoint survived all that. */
	r = we_req("GET", a.sk_test, id, NULL, NULL);
	assert_status(r, 200);
	ck_assert(json_is_null(json_object_get(r->json, "description")));
	resp_free(r);
	r = api_post("/api/v1/webhook_deliveries/whd_01nosuchdelivery0000000/"
	    "retry", a.sk_test, NULL, NULL);
	assert_error(r, 404, "invalid_request_error", NULL, NULL);
	resp_free(r);
	json_decref(o);
	tenant_free(&a);
	tenant_free(&b);
}
END_TEST

/*
 * Live mode: https only; loopback refused, at create for a literal
 * address and at send time for a name (localhost resolves to loopback).
 */
START_TEST(webhooks_live_url_rules)
{
	struct tenant	 t;
	struct resp	*r;
	json_t		*o, *d;
	char		 url[200], path[64], *cus;

	tenant_register(&t, NULL);
	r = api_post(ENDPOINTS, t.sk_live, "{\"url\":\"http://example.com/\","
	    "\"enabled_events\":[\"*\"]}", NULL);
	assert_error(r, 400, "invalid_request_error", "parameter_invalid",
	    "url");
	resp_free(r);
	r = api_post(ENDPOINTS, t.sk_live, "{\"url\":\"https://127.0.0.1:"
	    "18179/\",\"enabled_events\":[\"*\"]}", NULL);
	assert_error(r, 400, "invalid_request_error", "parameter_invalid",
	    "url");
	resp_free(r);
	r = api_post(ENDPOINTS, t.sk_live, "{\"url\":\"https://[::1]/\","
	    "\"enabled_events\":[\"*\"]}", NULL);
	assert_error(r, 400, "invalid_request_error", "parameter_invalid",
	    "url");
	resp_free(r);

	random_hex(path, 16);
	snprintf(url, sizeof(url), "https://localhost:%d/wh/%s", PORT_LIVE,
	    path);
	o = we_create(t.sk_live, url, "[\"customer.created\"]");
	ck_assert(json_is_true(json_object_get(o, "livemode")));
	cus = customer_new(t.sk_live);
	/* Refused before connecting, once: no retry can change that. */
	d = wait_delivery(t.sk_live, jstr(o, "id"), "failed");
	ck_assert_int_eq(json_integer_value(json_object_get(d,
	    "attempt_count")), 1);
	ck_assert(json_is_null(json_object_get(d, "last_response_status")));
	ck_assert_ptr_nonnull(jstr(d, "last_error"));
	ck_assert_msg(strstr(jstr(d, "last_error"), "refused") != NULL &&
	    strstr(jstr(d, "last_error"), "loopback") != NULL,
	    "last_error: %s", jstr(d, "last_error"));
	ck_assert(json_is_true(json_object_get(d, "livemode")));
	json_decref(d);
	json_decref(o);
	free(cus);
	tenant_free(&t);
}
END_TEST

/*
 * A delivery as API.md specifies it, then a rolled secret signs the next
 * one and the old secret no longer verifies.
 */
START_TEST(webhooks_signature_and_roll)
{
	struct receiver			*rc;
	const struct rcv_request	*q;
	struct tenant			 t;
	struct resp			*r;
	json_t				*o, *ev, *d;
	char				 url[200], path[64], *old, *cus, *evt;
	long long			 ts;

	tenant_register(&t, NULL);
	rc = receiver_start(PORT_SIG, "200");
	hook_url(PORT_SIG, path, sizeof(path), url, sizeof(url));
	o = we_create(t.sk_test, url, "[\"*\"]");
	old = strdup(jstr(o, "secret"));
	cus = customer_new(t.sk_test);
	ck_assert_int_eq(receiver_wait(rc, path, 1, WAIT_MS), 1);
	evt = newest_event(t.sk_test, "customer.created");
	q = receiver_get(rc, path, 0);
	ck_assert_str_eq(q->method, "POST");
	ck_assert_str_eq(rcv_header(q, "Content-Type"), "application/json");
	ck_assert_str_eq(rcv_header(q, "Billow-Event-Id"), evt);
	ck_assert_str_eq(rcv_header(q, "Billow-Event-Type"),
	    "customer.created");
	ck_assert_msg(sig_ok(old, rcv_header(q, "Billow-Signature"), q->body,
	    &ts), "signature %s does not verify", rcv_header(q,
	    "Billow-Signature"));
	/* t is the sending time: within the 5-minute tolerance of now. */
	ck_assert(llabs(ts - (long long)time(NULL)) < 300);
	/* The body is the event as GET /events/{id} shows it. */
	ev = json_loads(q->body, 0, NULL);
	ck_assert_ptr_nonnull(ev);
	assert_jstr(ev, "object", "event");
	assert_jstr(ev, "id", evt);
	assert_jstr(ev, "type", "customer.created");
	ck_assert(json_is_false(json_object_get(ev, "livemode")));
	assert_jstr(ev, "data.object.id", cus);
	assert_jstr(ev, "data.object.object", "customer");
	ck_assert_ptr_nonnull(jstr(ev, "created"));
	json_decref(ev);
	d = wait_delivery(t.sk_test, jstr(o, "id"), "delivered");
	assert_jstr(d, "object", "webhook_delivery");
	ck_assert(strncmp(jstr(d, "id"), "whd_", 4) == 0);
	assert_jstr(d, "event_id", evt);
	assert_jstr(d, "endpoint_id", jstr(o, "id"));
	ck_assert_int_eq(json_integer_value(json_object_get(d,
	    "attempt_count")), 1);
	ck_assert_int_eq(json_integer_value(json_object_get(d,
	    "last_response_status")), 200);
	ck_assert(json_is_null(json_object_get(d, "last_error")));
	ck_assert(json_is_null(json_object_get(d, "next_attempt_at")));
	ck_assert_ptr_nonnull(jstr(d, "delivered_at"));
	json_decref(d);
	free(cus);
	free(evt);

	/* Roll: a new secret, shown once, signs from now on. */
	r = we_req("POST", t.sk_test, jstr(o, "id"), "/roll_secret", NULL);
	assert_status(r, 200);
	assert_jstr(r->json, "id", jstr(o, "id"));
	ck_assert(strncmp(jstr(r->json, "secret"), "whsec_", 6) == 0);
	ck_assert_str_ne(jstr(r->json, "secret"), old);
	json_object_set(o, "secret", json_object_get(r->json, "secret"));
	resp_free(r);
	r = we_req("GET", t.sk_test, jstr(o, "id"), NULL, NULL);
	ck_assert_ptr_null(json_object_get(r->json, "secret"));
	resp_free(r);
	cus = customer_new(t.sk_test);
	ck_assert_int_eq(receiver_wait(rc, path, 2, WAIT_MS), 2);
	q = receiver_get(rc, path, 1);
	ck_assert(sig_ok(jstr(o, "secret"), rcv_header(q, "Billow-Signature"),
	    q->body, &ts));
	ck_assert(!sig_ok(old, rcv_header(q, "Billow-Signature"), q->body,
	    &ts));
	/* A changed body no longer verifies. */
	ck_assert(!sig_ok(jstr(o, "secret"), rcv_header(q,
	    "Billow-Signature"), "{}", &ts));
	receiver_stop(rc);
	free(cus);
	free(old);
	json_decref(o);
	tenant_free(&t);
}
END_TEST

/* 500, 500, 200: three attempts, the gaps growing, then delivered. */
START_TEST(webhooks_retry_until_delivered)
{
	struct receiver			*rc;
	const struct rcv_request	*q[3];
	struct tenant			 t;
	json_t				*o, *d;
	char				 url[200], path[64], *cus;
	long long			 gap1, gap2, base;

	base = retry_base_ms();
	tenant_register(&t, NULL);
	rc = receiver_start(PORT_RETRY, "500,500,200");
	hook_url(PORT_RETRY, path, sizeof(path), url, sizeof(url));
	o = we_create(t.sk_test, url, "[\"customer.created\"]");
	cus = customer_new(t.sk_test);
	ck_assert_int_eq(receiver_wait(rc, path, 3, WAIT_MS), 3);
	d = wait_delivery(t.sk_test, jstr(o, "id"), "delivered");
	ck_assert_int_eq(json_integer_value(json_object_get(d,
	    "attempt_count")), 3);
	ck_assert_int_eq(json_integer_value(json_object_get(d,
	    "last_response_status")), 200);
	ck_assert(json_is_null(json_object_get(d, "last_error")));
	json_decref(d);
	q[0] = receiver_get(rc, path, 0);
	q[1] = receiver_get(rc, path, 1);
	q[2] = receiver_get(rc, path, 2);
	/* One event, sent three times: receivers dedupe by its id. */
	ck_assert_str_eq(rcv_header(q[0], "Billow-Event-Id"),
	    rcv_header(q[2], "Billow-Event-Id"));
	ck_assert_str_eq(q[0]->body, q[1]->body);
	ck_assert_str_eq(q[0]->body, q[2]->body);
	/*
	 * The retry after attempt n waits at least 0.8 × base × 4^(n-1)
	 * (±20 % jitter; load only adds). Base 200 ms: >= 160 ms, then
	 * >= 640 ms.
	 */
	gap1 = q[1]->at_ms - q[0]->at_ms;
	gap2 = q[2]->at_ms - q[1]->at_ms;
	ck_assert_msg(gap1 >= base * 8 / 10 && gap2 >= base * 32 / 10,
	    "gaps %lld ms then %lld ms for a base of %lld ms", gap1, gap2,
	    base);
	ck_assert_int_eq(receiver_count(rc, path), 3);
	receiver_stop(rc);
	free(cus);
	json_decref(o);
	tenant_free(&t);
}
END_TEST

/*
 * Always 500: failed after 5 attempts in all (API.md). Then the manual
 * retry sends it again at once and, answered 200, it is delivered.
 */
START_TEST(webhooks_fail_then_manual_retry)
{
	struct receiver	*rc;
	struct tenant	 t, other;
	struct resp	*r;
	json_t		*o, *d;
	char		 url[200], path[300], hpath[64], *cus, *did;

	tenant_register(&t, NULL);
	tenant_register(&other, NULL);
	rc = receiver_start(PORT_FAIL, "500");
	hook_url(PORT_FAIL, hpath, sizeof(hpath), url, sizeof(url));
	o = we_create(t.sk_test, url, "[\"customer.created\"]");
	cus = customer_new(t.sk_test);
	d = wait_delivery(t.sk_test, jstr(o, "id"), "failed");
	ck_assert_int_eq(json_integer_value(json_object_get(d,
	    "attempt_count")), 5);
	ck_assert_int_eq(json_integer_value(json_object_get(d,
	    "last_response_status")), 500);
	assert_jstr(d, "last_error", "HTTP 500");
	ck_assert(json_is_null(json_object_get(d, "next_attempt_at")));
	ck_assert(json_is_null(json_object_get(d, "delivered_at")));
	ck_assert_int_eq(receiver_count(rc, hpath), 5);
	did = strdup(jstr(d, "id"));
	json_decref(d);

	/* Another tenant cannot retry it. */
	snprintf(path, sizeof(path), "/api/v1/webhook_deliveries/%s/retry",
	    did);
	r = api_post(path, other.sk_test, NULL, NULL);
	assert_error(r, 404, "invalid_request_error", NULL, NULL);
	resp_free(r);
	r = api_post(path, t.sk_live, NULL, NULL);
	assert_error(r, 404, "invalid_request_error", NULL, NULL);
	resp_free(r);
	ck_assert_int_eq(receiver_count(rc, hpath), 5);

	receiver_script(rc, "200");
	r = api_post(path, t.sk_test, NULL, NULL);
	assert_status(r, 200);
	assert_jstr(r->json, "id", did);
	assert_jstr(r->json, "status", "pending");
	resp_free(r);
	ck_assert_int_eq(receiver_wait(rc, hpath, 6, WAIT_MS), 6);
	d = wait_delivery(t.sk_test, jstr(o, "id"), "delivered");
	assert_jstr(d, "id", did);
	/* 5 automatic attempts and the manual one. */
	ck_assert_int_eq(json_integer_value(json_object_get(d,
	    "attempt_count")), 6);
	ck_assert_int_eq(json_integer_value(json_object_get(d,
	    "last_response_status")), 200);
	json_decref(d);
	receiver_stop(rc);
	free(did);
	free(cus);
	json_decref(o);
	tenant_free(&t);
	tenant_free(&other);
}
END_TEST

/* enabled_events picks the events; a disabled endpoint gets none. */
START_TEST(webhooks_enabled_events)
{
	struct receiver	*rc;
	struct tenant	 t;
	struct resp	*r;
	json_t		*plans, *custs, *all, *off, *d;
	char		 pp[64], cp[64], ap[64], op[64], url[200], *cus;

	tenant_register(&t, NULL);
	rc = receiver_start(PORT_FILTER, "200");
	hook_url(PORT_FILTER, pp, sizeof(pp), url, sizeof(url));
	plans = we_create(t.sk_test, url, "[\"plan.created\"]");
	hook_url(PORT_FILTER, cp, sizeof(cp), url, sizeof(url));
	custs = we_create(t.sk_test, url, "[\"customer.created\","
	    "\"customer.deleted\"]");
	hook_url(PORT_FILTER, ap, sizeof(ap), url, sizeof(url));
	all = we_create(t.sk_test, url, "[\"*\"]");
	hook_url(PORT_FILTER, op, sizeof(op), url, sizeof(url));
	off = we_create(t.sk_test, url, "[\"*\"]");
	r = we_req("PATCH", t.sk_test, jstr(off, "id"), NULL,
	    "{\"disabled\":true}");
	assert_status(r, 200);
	resp_free(r);

	cus = customer_new(t.sk_test);
	r = api_post("/api/v1/plans", t.sk_test, "{\"name\":\"Basic\","
	    "\"amount\":1000,\"currency\":\"usd\",\"interval\":\"month\"}",
	    NULL);
	assert_status(r, 201);
	resp_free(r);
	/* Events relay in order: the plan's coming means both fanned out. */
	ck_assert_int_eq(receiver_wait(rc, pp, 1, WAIT_MS), 1);
	ck_assert_int_eq(receiver_wait(rc, cp, 1, WAIT_MS), 1);
	ck_assert_int_eq(receiver_wait(rc, ap, 2, WAIT_MS), 2);
	ck_assert_str_eq(rcv_header(receiver_get(rc, pp, 0),
	    "Billow-Event-Type"), "plan.created");
	ck_assert_str_eq(rcv_header(receiver_get(rc, cp, 0),
	    "Billow-Event-Type"), "customer.created");
	d = deliveries(t.sk_test, jstr(plans, "id"));
	ck_assert_int_eq(json_array_size(d), 1);
	assert_jstr(d, "0.event_type", "plan.created");
	json_decref(d);
	d = deliveries(t.sk_test, jstr(custs, "id"));
	ck_assert_int_eq(json_array_size(d), 1);
	assert_jstr(d, "0.event_type", "customer.created");
	json_decref(d);
	d = deliveries(t.sk_test, jstr(all, "id"));
	ck_assert_int_eq(json_array_size(d), 2);
	json_decref(d);
	d = deliveries(t.sk_test, jstr(off, "id"));
	ck_assert_int_eq(json_array_size(d), 0);
	json_decref(d);
	ck_assert_int_eq(receiver_count(rc, op), 0);
	ck_assert_int_eq(receiver_count(rc, pp), 1);
	ck_assert_int_eq(receiver_count(rc, cp), 1);
	/* The status filter of the deliveries list. */
	r = we_req("GET", t.sk_test, jstr(all, "id"),
	    "/deliveries?status=failed", NULL);
	assert_status(r, 200);
	ck_assert_int_eq(json_array_size(json_object_get(r->json, "data")), 0);
	resp_free(r);
	r = we_req("GET", t.sk_test, jstr(all, "id"),
	    "/deliveries?status=bogus", NULL);
	assert_error(r, 400, "invalid_request_error", "parameter_invalid",
	    "status");
	resp_free(r);
	receiver_stop(rc);
	free(cus);
	json_decref(plans);
	json_decref(custs);
	json_decref(all);
	json_decref(off);
	tenant_free(&t);
}
END_TEST

/*
 * API.md: a registration webhook_url is an endpoint for all events,
 * signed with the tenant's webhook_secret (test mode).
 */
START_TEST(webhooks_registration_url)
{
	struct receiver			*rc;
	const struct rcv_request	*q;
	struct resp			*r;
	json_t				*body;
	char				 url[200], path[64], email[128];
	char				*s, *sk, *whsec, *cus;
	long long			 ts;

	rc = receiver_start(PORT_REG, "200");
	hook_url(PORT_REG, path, sizeof(path), url, sizeof(url));
	unique_email(email, sizeof(email), "whreg");
	body = json_pack("{s:s, s:s, s:s, s:s}", "company_name", "Hooked Co",
	    "email", email, "password", "long-enough-pw", "webhook_url",
	    url);
	s = json_dumps(body, JSON_COMPACT);
	json_decref(body);
	r = api_post("/api/v1/auth/tenants/register", NULL, s, NULL);
	free(s);
	assert_status(r, 201);
	sk = strdup(jstr(r->json, "tenant.api_key_test_secret"));
	whsec = strdup(jstr(r->json, "tenant.webhook_secret"));
	resp_free(r);

	r = api_get(ENDPOINTS, sk, NULL);
	assert_status(r, 200);
	ck_assert_int_eq(json_array_size(json_object_get(r->json, "data")), 1);
	assert_jstr(r->json, "data.0.url", url);
	assert_jstr(r->json, "data.0.enabled_events.0", "*");
	ck_assert(json_is_false(jget(r->json, "data.0.livemode")));
	ck_assert_ptr_null(jget(r->json, "data.0.secret"));
	resp_free(r);

	cus = customer_new(sk);
	ck_assert_int_eq(receiver_wait(rc, path, 1, WAIT_MS), 1);
	q = receiver_get(rc, path, 0);
	ck_assert_str_eq(rcv_header(q, "Billow-Event-Type"),
	    "customer.created");
	ck_assert_msg(sig_ok(whsec, rcv_header(q, "Billow-Signature"),
	    q->body, &ts), "not signed with the tenant's webhook_secret");
	receiver_stop(rc);
	free(cus);
	free(sk);
	free(whsec);
}
END_TEST

Suite *
suite_webhooks(void)
{
	Suite	*s;
	TCase	*tc;

	s = suite_create("webhooks");
	tc = api_tcase("webhooks");
	tcase_add_test(tc, webhooks_crud);
	tcase_add_test(tc, webhooks_validation);
	tcase_add_test(tc, webhooks_roles);
	tcase_add_test(tc, webhooks_isolation);
	tcase_add_test(tc, webhooks_live_url_rules);
	tcase_add_test(tc, webhooks_signature_and_roll);
	tcase_add_test(tc, webhooks_retry_until_delivered);
	tcase_add_test(tc, webhooks_fail_then_manual_retry);
	tcase_add_test(tc, webhooks_enabled_events);
	tcase_add_test(tc, webhooks_registration_url);
	suite_add_tcase(s, tc);
	return s;
}
