/*
 * Black-box API test harness: HTTP helpers over libcurl, JSON helpers over
 * jansson and fixtures (a freshly registered tenant with unique emails).
 * Every test runs in its own forked Check process and talks to the server
 * named by BILLOW_URL.
 */
#ifndef BILLOW_TESTS_API_HARNESS_H
#define BILLOW_TESTS_API_HARNESS_H

#include <stddef.h>

#include <check.h>
#include <jansson.h>

#define API_MAX_HEADERS	64

/* One HTTP response; body is always NUL-terminated, json NULL if not JSON. */
struct resp {
	long	 status;
	json_t	*json;
	char	*body;
	size_t	 body_len;
	char	*hdr_name[API_MAX_HEADERS];
	char	*hdr_value[API_MAX_HEADERS];
	int	 nhdr;
};

/* A registered tenant and its owner, as the register response gave them. */
struct tenant {
	char	 company[128];
	char	 email[128];
	char	 password[64];
	char	 id[64];
	char	 slug[128];
	char	 user_id[64];
	char	*access;
	char	*refresh;
	char	 sk_test[128];
	char	 pk_test[128];
	char	 sk_live[128];
	char	 pk_live[128];
	char	 webhook_secret[128];
	json_t	*reg;		/* the whole register response */
};

extern const char	*api_base;

void		 api_init(void);
void		 api_cleanup(void);

/*
 * METHOD PATH with AUTH sent as "Authorization: Bearer AUTH" (no header
 * when NULL), BODY (NULL: none) of content type CT (NULL: no header) and
 * EXTRA, a NULL-terminated list of "Name: value" lines (may be NULL).
 * Never returns NULL; a transport failure fails the running test.
 */
struct resp	*api_request(const char *method, const char *path,
		    const char *auth, const char *body, size_t body_len,
		    const char *ct, const char *const *extra);
struct resp	*api_get(const char *path, const char *auth,
		    const char *const *extra);
struct resp	*api_post(const char *path, const char *auth,
		    const char *json, const char *const *extra);
struct resp	*api_patch(const char *path, const char *auth,
		    const char *json, const char *const *extra);
struct resp	*api_delete(const char *path, const char *auth,
		    const char *const *extra);
struct resp	*api_post_raw(const char *path, const char *auth,
		    const char *body, size_t len, const char *ct,
		    const char *const *extra);
void		 resp_free(struct resp *);

/* Response header value (case-insensitive name), or NULL. */
const char	*resp_header(const struct resp *, const char *name);

/* Dotted-path lookups into a JSON value ("tenant.id", "data.0.id"). */
json_t		*jget(json_t *, const char *path);
const char	*jstr(json_t *, const char *path);

/* A unique email under example.test, starting with PREFIX. */
void		 unique_email(char *out, size_t len, const char *prefix);
/* A random lower-case hex string of N characters. */
void		 random_hex(char *out, size_t n);

/* Registers a fresh tenant (COMPANY NULL: a unique name); fails the test. */
void		 tenant_register(struct tenant *, const char *company);
void		 tenant_free(struct tenant *);

/* Logs in; returns the response (caller frees). */
struct resp	*api_login(const char *email, const char *password);
/* Logs in and returns a strdup'd access token; fails the test otherwise. */
char		*login_access(const char *email, const char *password);

/*
 * Adds a team user of ROLE with a unique email (written to EMAIL) and
 * PASSWORD; returns the user id (strdup'd). Fails the test otherwise.
 */
char		*team_add(const char *owner_access, const char *role,
		    char *email, size_t emaillen, const char *password);

/*
 * Asserts an error response: STATUS, error.type TYPE and error.code CODE
 * (either NULL: not checked), error.param PARAM (NULL: not checked).
 */
#define assert_error(r, st, type, code, param)				\
	assert_error_at((r), (st), (type), (code), (param), __FILE__,	\
	    __LINE__)
void		 assert_error_at(const struct resp *, long, const char *,
		    const char *, const char *, const char *, int);

#define assert_status(r, st)						\
	ck_assert_msg((r)->status == (st),				\
	    "expected HTTP %ld, got %ld: %.600s", (long)(st),		\
	    (r)->status, (r)->body)

#define assert_jstr(j, path, want)					\
	do {								\
		const char *got_ = jstr((j), (path));			\
		ck_assert_msg(got_ != NULL && strcmp(got_, (want)) == 0,\
		    "%s: expected \"%s\", got \"%s\"", (path), (want),	\
		    got_ != NULL ? got_ : "(missing)");			\
	} while (0)

/* Test case with a generous timeout (argon2 hashing takes a while). */
TCase		*api_tcase(const char *name);

Suite		*suite_auth(void);
Suite		*suite_keys(void);
Suite		*suite_team(void);
Suite		*suite_http(void);
Suite		*suite_rls(void);
Suite		*suite_admin(void);
Suite		*suite_analytics(void);
Suite		*suite_customers(void);
Suite		*suite_plans(void);
Suite		*suite_test_clocks(void);
Suite		*suite_invoices(void);
Suite		*suite_subscriptions(void);
Suite		*suite_billing(void);
Suite		*suite_changes(void);
Suite		*suite_property(void);
Suite		*suite_final(void);
Suite		*suite_usage(void);
Suite		*suite_webhooks(void);
Suite	*suite_limits(void);

#endif
