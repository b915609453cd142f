/*
 * Input validation shared by every endpoint: the JSON body, unknown and
 * wrongly typed fields, strings, integers, booleans, metadata, and list
 * pagination. Each helper sets the request's error itself (STYLE.md: no
 * handler writes an error body by hand). Runs on task threads.
 */
#ifndef BW_SERVER_PARAMS_H
#define BW_SERVER_PARAMS_H

#include <jansson.h>
#include <stdint.h>

#include "server/http.h"

#define BW_P_OPTIONAL	0x00
#define BW_P_REQUIRED	0x01
#define BW_P_NULLABLE	0x02	/* JSON null is accepted (and reported) */

#define BW_JSON_MAX_DEPTH	32

/*
 * Parses the request body as a JSON object into req->json (an empty body
 * is an empty object). 415 for another content type, 400 invalid_json for
 * malformed JSON, nesting deeper than 32 or a non-object.
 */
int	bw_body_object(struct bw_req *req);

/* Rejects any key of OBJ not in ALLOWED (NULL-terminated): 400 unknown. */
int	bw_params_only(struct bw_req *, json_t *obj, const char *const *allowed);

/*
 * Field readers. Return BW_OK when present and valid, BW_DECLINED when
 * absent (or null with BW_P_NULLABLE: then *OUT is NULL / *ISNULL is 1),
 * BW_ERROR with the error set. Strings come back as pointers into OBJ.
 * MAXLEN counts characters (code points).
 */
int	bw_param_str(struct bw_req *, json_t *obj, const char *key, int flags,
	    size_t maxlen, const char **out);
int	bw_param_int(struct bw_req *, json_t *obj, const char *key, int flags,
	    int64_t min, int64_t max, int64_t *out);
int	bw_param_bool(struct bw_req *, json_t *obj, const char *key, int flags,
	    int *out);
/* One of the NULL-terminated CHOICES. */
int	bw_param_enum(struct bw_req *, json_t *obj, const char *key, int flags,
	    const char *const *choices, const char **out);
int	bw_param_email(struct bw_req *, json_t *obj, const char *key,
	    int flags, const char **out);
/* A JSON object, returned borrowed. */
int	bw_param_object(struct bw_req *, json_t *obj, const char *key,
	    int flags, json_t **out);
/* metadata: at most 50 keys, key <= 40 chars, values strings <= 500. */
int	bw_param_metadata(struct bw_req *, json_t *obj, const char *key,
	    json_t **out);

/*
 * metadata of a new object as JSON text (caller frees): keys set to ""
 * are left out (Stripe's unset), "{}" when absent; NULL on a bad value
 * (the error is set).
 */
char	*bw_param_metadata_new(struct bw_req *);

/* Character count of valid UTF-8 S. */
size_t	bw_utf8_len(const char *s);
/* Light email shape check: local@domain.tld, no spaces, <= 254 bytes. */
int	bw_email_valid(const char *s);

/* Pagination: limit 1..100 (default 10), starting_after, ending_before. */
struct bw_page {
	int		 limit;
	const char	*starting_after;
	const char	*ending_before;
};

int	bw_page_parse(struct bw_req *, const char *id_prefix,
	    struct bw_page *page);
/*
 * Builds the list response from ITEMS (fetched with LIMIT limit+1, ordered
 * newest first, or oldest first when ending_before was given): trims the
 * extra row into has_more and restores newest-first order. Steals ITEMS.
 */
int	bw_page_respond(struct bw_req *, const struct bw_page *, json_t *items,
	    const char *url);

/*
 * A list query built from the filters a request uses, so that its text
 * holds no "$n IS NULL OR ..." for absent ones and its LIMIT is a
 * literal: each combination is then a plain prepared statement whose
 * generic plan PostgreSQL reuses, where the catch-all form was re-planned
 * on every call (planning cost more than running it). Only constant SQL
 * goes into the text; values are parameters.
 */
#define BW_LIST_PARAMS_MAX	12

struct bw_list {
	struct bw_req	*req;
	char		*sql;		/* req's arena */
	int		 nconds;
	int		 n;
	const char	*p[BW_LIST_PARAMS_MAX];
};

/* SELECT_FROM: "SELECT cols FROM table [alias]", no WHERE. */
void	bw_list_init(struct bw_req *, struct bw_list *,
	    const char *select_from);
/* A constant condition ("NOT deleted"). */
void	bw_list_where(struct bw_list *, const char *cond);
/*
 * A condition on VALUE when it is not NULL: FMT holds one %d, the
 * parameter's number ("customer_id = $%d", "created >=
 * to_timestamp($%d::bigint)").
 */
void	bw_list_filter(struct bw_list *, const char *fmt, const char *value);
/*
 * Adds the page's cursor conditions on column ID, its order and LIMIT
 * limit+1, and runs the query. The result (caller PQclear()s) or NULL on
 * a database error.
 */
struct pg_result;
struct pg_result	*bw_list_query(struct bw_list *, const struct bw_page *,
			    const char *id);

/* A list with no filters: SELECT_FROM, the page, ordered by ID. */
struct pg_result	*bw_page_query(struct bw_req *, const struct bw_page *,
			    const char *select_from, const char *id);

/* Formats a UNIX time (seconds) as RFC 3339 UTC. OUT >= 32 bytes. */
void	bw_time_rfc3339(int64_t t, char *out, size_t len);
/* Parses RFC 3339 (UTC 'Z' or an offset); BW_OK or BW_ERROR. */
int	bw_time_parse(const char *s, int64_t *out);

#endif
