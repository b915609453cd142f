/*
 * Black-box API test harness: libcurl requests, response headers, JSON
 * path lookups and tenant/team fixtures. No server code is linked; every
 * check goes over HTTP to BILLOW_URL.
 */
#include <ctype.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <curl/curl.h>

#include "harness.h"

const char	*api_base = "http://127.0.0.1:18080";

void
api_init(void)
{
	const char	*u;

	if ((u = getenv("BILLOW_URL")) != NULL && *u != '\0')
		api_base = u;
	curl_global_init(CURL_GLOBAL_DEFAULT);
}

void
api_cleanup(void)
{
	curl_global_cleanup();
}

TCase *
api_tcase(const char *name)
{
	TCase	*tc;

	tc = tcase_create(name);
	tcase_set_timeout(tc, 120);
	return tc;
}

static size_t
body_cb(char *ptr, size_t size, size_t nmemb, void *arg)
{
	struct resp	*r = arg;
	size_t		 n = size * nmemb;
	char		*nb;

	if ((nb = realloc(r->body, r->body_len + n + 1)) == NULL)
		return 0;
	r->body = nb;
	memcpy(r->body + r->body_len, ptr, n);
	r->body_len += n;
	r->body[r->body_len] = '\0';
	return n;
}

static size_t
header_cb(char *ptr, size_t size, size_t nmemb, void *arg)
{
	struct resp	*r = arg;
	size_t		 n = size * nmemb, nl, vl;
	char		*colon;

	colon = memchr(ptr, ':', n);
	if (colon == NULL) {
		/* A status line: a new header block (after 100-continue). */
		if (n >= 5 && strncmp(ptr, "HTTP/", 5) == 0) {
			while (r->nhdr > 0) {
				r->nhdr--;
				free(r->hdr_name[r->nhdr]);
				free(r->hdr_value[r->nhdr]);
			}
		}
		return n;
	}
	if (r->nhdr >= API_MAX_HEADERS)
		return n;
	nl = (size_t)(colon - ptr);
	colon++;
	vl = n - nl - 1;
	while (vl > 0 && (*colon == ' ' || *colon == '\t')) {
		colon++;
		vl--;
	}
	while (vl > 0 && (colon[vl - 1] == '\r' || colon[vl - 1] == '\n' ||
	    colon[vl - 1] == ' '))
		vl--;
	r->hdr_name[r->nhdr] = strndup(ptr, nl);
	r->hdr_value[r->nhdr] = strndup(colon, vl);
	r->nhdr++;
	return n;
}

struct resp *
api_request(const char *method, const char *path, const char *auth,
    const char *body, size_t body_len, const char *ct,
    const char *const *extra)
{
	struct curl_slist	*hl = NULL;
	struct resp		*r;
	CURL			*c;
	CURLcode		 rc;
	char			*url, *line;
	size_t			 i;

	if ((r = calloc(1, sizeof(*r))) == NULL)
		ck_abort_msg("out of memory");
	if (asprintf(&url, "%s%s", api_base, path) == -1)
		ck_abort_msg("out of memory");
	if ((c = curl_easy_init()) == NULL)
		ck_abort_msg("curl_easy_init failed");
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, body_cb);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, r);
	curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, header_cb);
	curl_easy_setopt(c, CURLOPT_HEADERDATA, r);
	curl_easy_setopt(c, CURLOPT_TIMEOUT, 60L);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	if (strcmp(method, "HEAD") == 0)
		curl_easy_setopt(c, CURLOPT_NOBODY, 1L);
	/*
	 * No "Expect: 100-continue" round trip for large bodies, unless the
	 * test asks for one (to read a 413 sent before the body).
	 */
	for (i = 0; extra != NULL && extra[i] != NULL; i++)
		if (strncasecmp(extra[i], "Expect:", 7) == 0)
			break;
	if (extra == NULL || extra[i] == NULL)
		hl = curl_slist_append(hl, "Expect:");
	if (auth != NULL) {
		if (asprintf(&line, "Authorization: Bearer %s", auth) == -1)
			ck_abort_msg("out of memory");
		hl = curl_slist_append(hl, line);
		free(line);
	}
	if (ct != NULL) {
		if (asprintf(&line, "Content-Type: %s", ct) == -1)
			ck_abort_msg("out of memory");
		hl = curl_slist_append(hl, line);
		free(line);
	}
	for (i = 0; extra != NULL && extra[i] != NULL; i++)
		hl = curl_slist_append(hl, extra[i]);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, hl);
	if (body != NULL) {
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
		curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE,
		    (curl_off_t)body_len);
	}
	rc = curl_easy_perform(c);
	/* The server may close early on a refused large body. */
	if (rc != CURLE_OK && !(rc == CURLE_SEND_ERROR ||
	    rc == CURLE_RECV_ERROR)) {
		ck_abort_msg("%s %s: %s", method, url,
		    curl_easy_strerror(rc));
	}
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &r->status);
	curl_slist_free_all(hl);
	curl_easy_cleanup(c);
	free(url);
	if (r->body == NULL) {
		r->body = strdup("");
		r->body_len = 0;
	}
	if (r->body_len > 0)
		r->json = json_loadb(r->body, r->body_len, 0, NULL);
	return r;
}

struct resp *
api_get(const char *path, const char *auth, const char *const *extra)
{
	return api_request("GET", path, auth, NULL, 0, NULL, extra);
}

struct resp *
api_post(const char *path, const char *auth, const char *json,
    const char *const *extra)
{
	return api_request("POST", path, auth, json != NULL ? json : "",
	    json != NULL ? strlen(json) : 0,
	    json != NULL ? "application/json; charset=utf-8" : NULL, extra);
}

struct resp *
api_patch(const char *path, const char *auth, const char *json,
    const char *const *extra)
{
	return api_request("PATCH", path, auth, json != NULL ? json : "",
	    json != NULL ? strlen(json) : 0,
	    json != NULL ? "application/json; charset=utf-8" : NULL, extra);
}

struct resp *
api_delete(const char *path, const char *auth, const char *const *extra)
{
	return api_request("DELETE", path, auth, NULL, 0, NULL, extra);
}

struct resp *
api_post_raw(const char *path, const char *auth, const char *body,
    size_t len, const char *ct, const char *const *extra)
{
	return api_request("POST", path, auth, body, len, ct, extra);
}

void
resp_free(struct resp *r)
{
	int	i;

	if (r == NULL)
		return;
	for (i = 0; i < r->nhdr; i++) {
		free(r->hdr_name[i]);
		free(r->hdr_value[i]);
	}
	json_decref(r->json);
	free(r->body);
	free(r);
}

const char *
resp_header(const struct resp *r, const char *name)
{
	int	i;

	for (i = 0; i < r->nhdr; i++)
		if (strcasecmp(r->hdr_name[i], name) == 0)
			return r->hdr_value[i];
	return NULL;
}

json_t *
jget(json_t *j, const char *path)
{
	char	 part[128];
	char	*end;
	size_t	 n;
	long	 idx;

	while (j != NULL && *path != '\0') {
		n = strcspn(path, ".");
		if (n >= sizeof(part))
			return NULL;
		memcpy(part, path, n);
		part[n] = '\0';
		path += n;
		if (*path == '.')
			path++;
		if (json_is_array(j)) {
			idx = strtol(part, &end, 10);
			if (*end != '\0' || idx < 0)
				return NULL;
			j = json_array_get(j, (size_t)idx);
		} else if (json_is_object(j)) {
			j = json_object_get(j, part);
		} else {
			return NULL;
		}
	}
	return j;
}

const char *
jstr(json_t *j, const char *path)
{
	return json_string_value(jget(j, path));
}

void
random_hex(char *out, size_t n)
{
	static const char	 hex[] = "0123456789abcdef";
	unsigned char		 b[64];
	size_t			 i;
	int			 fd;

	if (n > sizeof(b))
		ck_abort_msg("random_hex: too long");
	if ((fd = open("/dev/urandom", O_RDONLY)) == -1 ||
	    read(fd, b, n) != (ssize_t)n)
		ck_abort_msg("cannot read /dev/urandom");
	close(fd);
	for (i = 0; i < n; i++)
		out[i] = hex[b[i] & 0xf];
	out[n] = '\0';
}

void
unique_email(char *out, size_t len, const char *prefix)
{
	char	rnd[17];

	random_hex(rnd, 16);
	snprintf(out, len, "%s-%s@example.test", prefix, rnd);
}

void
assert_error_at(const struct resp *r, long status, const char *type,
    const char *code, const char *param, const char *file, int line)
{
	json_t		*err;
	const char	*s;

	ck_assert_msg(r->status == status, "%s:%d: expected HTTP %ld, got "
	    "%ld: %.600s", file, line, status, r->status, r->body);
	err = json_object_get(r->json, "error");
	ck_assert_msg(json_is_object(err), "%s:%d: no error object in %.600s",
	    file, line, r->body);
	s = json_string_value(json_object_get(err, "message"));
	ck_assert_msg(s != NULL && *s != '\0', "%s:%d: error without a "
	    "message: %.600s", file, line, r->body);
	s = json_string_value(json_object_get(err, "type"));
	ck_assert_msg(s != NULL, "%s:%d: error without a type: %.600s",
	    file, line, r->body);
	if (type != NULL)
		ck_assert_msg(strcmp(s, type) == 0, "%s:%d: expected type %s, "
		    "got %s", file, line, type, s);
	s = json_string_value(json_object_get(err, "code"));
	if (code != NULL)
		ck_assert_msg(s != NULL && strcmp(s, code) == 0, "%s:%d: "
		    "expected code %s, got %s", file, line, code,
		    s != NULL ? s : "(none)");
	s = json_string_value(json_object_get(err, "param"));
	if (param != NULL)
		ck_assert_msg(s != NULL && strcmp(s, param) == 0, "%s:%d: "
		    "expected param %s, got %s", file, line, param,
		    s != NULL ? s : "(none)");
}

static void
copy_str(char *dst, size_t len, json_t *j, const char *path)
{
	const char	*s = jstr(j, path);

	ck_assert_msg(s != NULL, "register response lacks %s", path);
	snprintf(dst, len, "%s", s);
}

void
tenant_register(struct tenant *t, const char *company)
{
	struct resp	*r;
	json_t		*body;
	char		*s, rnd[13];

	memset(t, 0, sizeof(*t));
	random_hex(rnd, 12);
	if (company != NULL)
		snprintf(t->company, sizeof(t->company), "%s", company);
	else
		snprintf(t->company, sizeof(t->company), "Test Co %s", rnd);
	unique_email(t->email, sizeof(t->email), "owner");
	snprintf(t->password, sizeof(t->password), "pw-%s-long", rnd);
	body = json_pack("{s:s, s:s, s:s, s:s, s:s}", "company_name",
	    t->company, "email", t->email, "password", t->password,
	    "first_name", "Olive", "last_name", "Owner");
	s = json_dumps(body, JSON_COMPACT);
	json_decref(body);
	r = api_post("/api/v1/auth/tenants/register", NULL, s, NULL);
	free(s);
	assert_status(r, 201);
	copy_str(t->id, sizeof(t->id), r->json, "tenant.id");
	copy_str(t->slug, sizeof(t->slug), r->json, "tenant.slug");
	copy_str(t->user_id, sizeof(t->user_id), r->json, "user.id");
	copy_str(t->sk_test, sizeof(t->sk_test), r->json,
	    "tenant.api_key_test_secret");
	copy_str(t->pk_test, sizeof(t->pk_test), r->json,
	    "tenant.api_key_test_public");
	copy_str(t->sk_live, sizeof(t->sk_live), r->json,
	    "tenant.api_key_secret");
	copy_str(t->pk_live, sizeof(t->pk_live), r->json,
	    "tenant.api_key_public");
	copy_str(t->webhook_secret, sizeof(t->webhook_secret), r->json,
	    "tenant.webhook_secret");
	ck_assert_ptr_nonnull(jstr(r->json, "tokens.access"));
	ck_assert_ptr_nonnull(jstr(r->json, "tokens.refresh"));
	t->access = strdup(jstr(r->json, "tokens.access"));
	t->refresh = strdup(jstr(r->json, "tokens.refresh"));
	t->reg = json_incref(r->json);
	resp_free(r);
}

void
tenant_free(struct tenant *t)
{
	free(t->access);
	free(t->refresh);
	json_decref(t->reg);
	t->access = t->refresh = NULL;
	t->reg = NULL;
}

struct resp *
api_login(const char *email, const char *password)
{
	struct resp	*r;
	json_t		*body;
	char		*s;

	body = json_pack("{s:s, s:s}", "email", email, "password", password);
	s = json_dumps(body, JSON_COMPACT);
	json_decref(body);
	r = api_post("/api/v1/auth/tenants/login", NULL, s, NULL);
	free(s);
	return r;
}

char *
login_access(const char *email, const char *password)
{
	struct resp	*r;
	char		*tok;

	r = api_login(email, password);
	assert_status(r, 200);
	ck_assert_ptr_nonnull(jstr(r->json, "tokens.access"));
	tok = strdup(jstr(r->json, "tokens.access"));
	resp_free(r);
	return tok;
}

char *
team_add(const char *owner_access, const char *role, char *email,
    size_t emaillen, const char *password)
{
	struct resp	*r;
	json_t		*body;
	char		*s, *id;

	unique_email(email, emaillen, role);
	body = json_pack("{s:s, s:s, s:s, s:s}", "email", email, "password",
	    password, "role", role, "first_name", "Team");
	s = json_dumps(body, JSON_COMPACT);
	json_decref(body);
	r = api_post("/api/v1/auth/tenants/users", owner_access, s, NULL);
	free(s);
	assert_status(r, 201);
	assert_jstr(r->json, "role", role);
	assert_jstr(r->json, "email", email);
	ck_assert_ptr_nonnull(jstr(r->json, "id"));
	id = strdup(jstr(r->json, "id"));
	resp_free(r);
	return id;
}
