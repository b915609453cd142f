/*
 * Configuration: defaults, the grammar of docs/config.md, environment
 * overrides and validation. Runs at start-up in the parent, `billow worker`
 * and Kore's parent-configure hook; secrets never go into error messages.
 */
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/config.h"
#include "core/core.h"

/* A config file is a few hundred bytes; anything huge is a wrong path. */
#define CONF_MAX_FILE		(1024 * 1024)
/* Words in one setting: the key and its values. */
#define CONF_MAX_WORDS		32
#define CONF_MAX_PLUGIN_NAME	64
/* DESIGN.md "Faults": every Redis call times out within 200 ms. */
#define CONF_REDIS_TIMEOUT_MAX	200
/* The auth block's secret signs every JWT; short ones can be brute-forced. */
#define CONF_JWT_SECRET_MIN	32

enum conf_type {
	CONF_INT,
	CONF_SIZE,
	CONF_BOOL,
	CONF_STR,
	CONF_BIND		/* ADDR PORT: bind_addr and port */
};

/*
 * One known key of a built-in block. MIN and MAX bound integers (and the
 * port of `bind`); ENV names the variable that overrides it, if any.
 */
struct conf_key {
	const char	*block;
	const char	*key;
	enum conf_type	 type;
	size_t		 off;
	long long	 min;
	long long	 max;
	const char	*env;
};

#define CONF_OFF(f)	offsetof(struct bw_config, f)

static const struct conf_key conf_keys[] = {
	{ .block = "server", .key = "bind", .type = CONF_BIND,
	  .off = CONF_OFF(bind_addr), .min = 1, .max = 65535,
	  .env = "BILLOW_PORT" },
	{ .block = "server", .key = "workers", .type = CONF_INT,
	  .off = CONF_OFF(workers), .min = 0, .max = 256 },
	{ .block = "server", .key = "task_threads", .type = CONF_INT,
	  .off = CONF_OFF(task_threads), .min = 1, .max = 64 },
	{ .block = "server", .key = "background", .type = CONF_INT,
	  .off = CONF_OFF(background), .min = 0, .max = 64 },
	{ .block = "server", .key = "scheduler", .type = CONF_BOOL,
	  .off = CONF_OFF(scheduler), .min = 0, .max = 1 },
	{ .block = "server", .key = "body_max", .type = CONF_SIZE,
	  .off = CONF_OFF(body_max), .min = 1024, .max = 1073741824 },

	{ .block = "database", .key = "url", .type = CONF_STR,
	  .off = CONF_OFF(database_url), .env = "DATABASE_URL" },
	{ .block = "database", .key = "statement_timeout_ms",
	  .type = CONF_INT, .off = CONF_OFF(statement_timeout_ms),
	  .min = 1, .max = 3600000 },

	{ .block = "redis", .key = "url", .type = CONF_STR,
	  .off = CONF_OFF(redis_url), .env = "REDIS_URL" },
	{ .block = "redis", .key = "timeout_ms", .type = CONF_INT,
	  .off = CONF_OFF(redis_timeout_ms), .min = 1,
	  .max = CONF_REDIS_TIMEOUT_MAX },

	{ .block = "auth", .key = "jwt_secret", .type = CONF_STR,
	  .off = CONF_OFF(jwt_secret), .env = "BILLOW_JWT_SECRET" },
	{ .block = "auth", .key = "access_ttl", .type = CONF_INT,
	  .off = CONF_OFF(access_ttl_s), .min = 1, .max = 86400 },
	{ .block = "auth", .key = "refresh_ttl", .type = CONF_INT,
	  .off = CONF_OFF(refresh_ttl_s), .min = 1, .max = 31536000 },
	{ .block = "auth", .key = "rate_limit_test_rps", .type = CONF_INT,
	  .off = CONF_OFF(rate_test_rps), .min = 0, .max = 1000000,
	  .env = "BILLOW_RATE_LIMIT_TEST_RPS" },
	{ .block = "auth", .key = "rate_limit_live_rps", .type = CONF_INT,
	  .off = CONF_OFF(rate_live_rps), .min = 0, .max = 1000000,
	  .env = "BILLOW_RATE_LIMIT_LIVE_RPS" },
	{ .block = "auth", .key = "auth_rate_per_min", .type = CONF_INT,
	  .off = CONF_OFF(auth_rate_per_min), .min = 0, .max = 1000000,
	  .env = "BILLOW_AUTH_RATE_PER_MIN" },
	{ .block = "auth", .key = "lockout_failures", .type = CONF_INT,
	  .off = CONF_OFF(login_lockout_failures), .min = 0, .max = 1000 },
	{ .block = "auth", .key = "lockout_seconds", .type = CONF_INT,
	  .off = CONF_OFF(login_lockout_s), .min = 0, .max = 604800 },

	{ .block = "webhooks", .key = "retry_base_s", .type = CONF_INT,
	  .off = CONF_OFF(webhook_retry_base_s), .min = 1, .max = 86400,
	  .env = "BILLOW_WEBHOOK_RETRY_BASE_S" },
	{ .block = "webhooks", .key = "allow_loopback", .type = CONF_BOOL,
	  .off = CONF_OFF(webhook_allow_loopback), .min = 0, .max = 1,
	  .env = "BILLOW_WEBHOOK_ALLOW_LOOPBACK" },

	{ .block = "paths", .key = "var", .type = CONF_STR,
	  .off = CONF_OFF(var_dir) },
	{ .block = "paths", .key = "assets", .type = CONF_STR,
	  .off = CONF_OFF(assets_dir) },
	{ .block = "paths", .key = "lua", .type = CONF_STR,
	  .off = CONF_OFF(lua_dir) },
	{ .block = "paths", .key = "migrations", .type = CONF_STR,
	  .off = CONF_OFF(migrations_dir) },
};

static const char *const conf_blocks[] = {
	"server", "database", "redis", "auth", "webhooks", "paths"
};

enum conf_tok {
	CONF_TOK_EOF,
	CONF_TOK_END,		/* a newline or ';': ends a setting */
	CONF_TOK_OPEN,
	CONF_TOK_CLOSE,
	CONF_TOK_WORD,
	CONF_TOK_STRING
};

struct conf_token {
	enum conf_tok	 type;
	int		 line;
	char		*text;		/* WORD and STRING only */
};

struct conf_parser {
	struct bw_config	*cfg;
	const char		*name;
	const char		*p;
	int			 line;
	struct conf_token	 tok;
	int			 pushed;	/* return tok again */
	int			 block_line[BW_NELEM(conf_blocks)];
	char			*err;
	size_t			 errlen;
};

/* One setting: its key in word[0], then the values. */
struct conf_stmt {
	int	 line;
	char	*word[CONF_MAX_WORDS];
	size_t	 n;
};

static int	conf_error(struct conf_parser *, int, const char *, ...)
		    __attribute__((format(printf, 3, 4)));
static void	conf_seterr(char *, size_t, const char *, const char *, ...)
		    __attribute__((format(printf, 4, 5)));

static void
conf_seterr(char *err, size_t errlen, const char *prefix, const char *fmt,
    ...)
{
	va_list	ap;
	int	n = 0;

	if (err == NULL || errlen == 0)
		return;
	if (prefix != NULL) {
		n = snprintf(err, errlen, "%s", prefix);
		if (n < 0)
			n = 0;
		if ((size_t)n >= errlen)
			return;
	}
	va_start(ap, fmt);
	vsnprintf(err + n, errlen - n, fmt, ap);
	va_end(ap);
}

/* Every parse error is "FILE:LINE: reason" so editors can jump to it. */
static int
conf_error(struct conf_parser *ps, int line, const char *fmt, ...)
{
	va_list	ap;
	int	n;

	if (ps->err == NULL || ps->errlen == 0)
		return BW_ERROR;
	n = snprintf(ps->err, ps->errlen, "%s:%d: ", ps->name, line);
	if (n < 0 || (size_t)n >= ps->errlen)
		return BW_ERROR;
	va_start(ap, fmt);
	vsnprintf(ps->err + n, ps->errlen - n, fmt, ap);
	va_end(ap);
	return BW_ERROR;
}

/*
 * strtoll with every check: the whole string is a base-10 number (no
 * leading blanks, no trailing garbage), no overflow, within [MIN, MAX].
 */
static int
conf_int(const char *s, long long min, long long max, long long *out)
{
	char		*end;
	long long	 v;

	if (*s == '\0' || !((*s >= '0' && *s <= '9') || *s == '-' ||
	    *s == '+'))
		return BW_ERROR;
	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0' || v < min || v > max)
		return BW_ERROR;
	*out = v;
	return BW_OK;
}

static const struct conf_key *
conf_key_find(const char *block, const char *key, size_t *idx)
{
	size_t	i;

	for (i = 0; i < BW_NELEM(conf_keys); i++) {
		if (strcmp(conf_keys[i].block, block) == 0 &&
		    strcmp(conf_keys[i].key, key) == 0) {
			if (idx != NULL)
				*idx = i;
			return &conf_keys[i];
		}
	}
	return NULL;
}

static char **
conf_strp(struct bw_config *cfg, const struct conf_key *k)
{
	return (char **)((char *)cfg + k->off);
}

static void
conf_store_str(struct bw_config *cfg, const struct conf_key *k,
    const char *s)
{
	char	**pp = conf_strp(cfg, k);

	free(*pp);
	*pp = bw_strdup(s);
}

static void
conf_store_int(struct bw_config *cfg, const struct conf_key *k, long long v)
{
	char	*base = (char *)cfg;

	switch (k->type) {
	case CONF_INT:
	case CONF_BOOL:
		*(int *)(base + k->off) = (int)v;
		break;
	case CONF_SIZE:
		*(size_t *)(base + k->off) = (size_t)v;
		break;
	case CONF_BIND:
		/* Only the port is numeric; the address is a string. */
		cfg->port = (int)v;
		break;
	case CONF_STR:
		break;
	}
}

static long long
conf_load_int(const struct bw_config *cfg, const struct conf_key *k)
{
	const char	*base = (const char *)cfg;

	switch (k->type) {
	case CONF_INT:
	case CONF_BOOL:
		return *(const int *)(base + k->off);
	case CONF_SIZE:
		return (long long)*(const size_t *)(base + k->off);
	case CONF_BIND:
		return cfg->port;
	case CONF_STR:
		break;
	}
	return 0;
}

void
bw_config_defaults(struct bw_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->bind_addr = bw_strdup("127.0.0.1");
	cfg->port = 8080;
	cfg->workers = 0;
	cfg->task_threads = 4;
	cfg->background = 1;
	cfg->scheduler = 1;
	cfg->body_max = 1048576;

	cfg->statement_timeout_ms = 5000;
	cfg->redis_timeout_ms = CONF_REDIS_TIMEOUT_MAX;

	/* DESIGN.md "Setup": 25 / 100 per key, 10 logins per IP a minute. */
	cfg->access_ttl_s = 3600;
	cfg->refresh_ttl_s = 604800;
	cfg->rate_test_rps = 25;
	cfg->rate_live_rps = 100;
	cfg->auth_rate_per_min = 10;
	cfg->login_lockout_failures = 5;
	cfg->login_lockout_s = 900;

	/* Loopback targets are an SSRF hole in production: off by default. */
	cfg->webhook_retry_base_s = 60;
	cfg->webhook_allow_loopback = 0;

	cfg->var_dir = bw_strdup("var");
	cfg->assets_dir = bw_strdup("assets");
	cfg->lua_dir = bw_strdup("lua");
	cfg->migrations_dir = bw_strdup("migrations");
}

void
bw_config_free(struct bw_config *cfg)
{
	size_t			 i, j;
	struct bw_config_plugin	*pl;

	if (cfg == NULL)
		return;
	free(cfg->path);
	free(cfg->bind_addr);
	free(cfg->database_url);
	free(cfg->redis_url);
	if (cfg->jwt_secret != NULL) {
		/* Don't leave the signing key lying around in freed memory. */
		memset(cfg->jwt_secret, 0, strlen(cfg->jwt_secret));
		free(cfg->jwt_secret);
	}
	free(cfg->var_dir);
	free(cfg->assets_dir);
	free(cfg->lua_dir);
	free(cfg->migrations_dir);
	for (i = 0; i < cfg->nplugins; i++) {
		pl = &cfg->plugins[i];
		free(pl->name);
		free(pl->path);
		for (j = 0; j < pl->nsettings; j++) {
			free(pl->settings[j].key);
			free(pl->settings[j].value);
		}
		free(pl->settings);
	}
	free(cfg->plugins);
	/* Zeroed, so a second free (or a free after a failed parse) is safe. */
	memset(cfg, 0, sizeof(*cfg));
}

const char *
bw_config_plugin_get(const struct bw_config_plugin *pl, const char *key)
{
	size_t	i;

	if (pl == NULL || key == NULL)
		return NULL;
	if (strcmp(key, "path") == 0)
		return pl->path;
	for (i = 0; i < pl->nsettings; i++)
		if (strcmp(pl->settings[i].key, key) == 0)
			return pl->settings[i].value;
	return NULL;
}

/* Lexer. */

/* Ends a bare word. '#' does not: `redis://h/0#x` stays one word. */
static int
conf_is_delim(char c)
{
	return c == '\0' || c == ' ' || c == '\t' || c == '\r' ||
	    c == '\f' || c == '\v' || c == '\n' || c == ';' || c == '{' ||
	    c == '}';
}

static int
conf_lex_string(struct conf_parser *ps)
{
	struct bw_buf	 b;
	const char	*p = ps->p + 1;
	int		 line = ps->line;

	bw_buf_init(&b);
	for (;;) {
		if (*p == '\0' || *p == '\n') {
			bw_buf_free(&b);
			return conf_error(ps, line, "unterminated string "
			    "(a closing '\"' is missing on this line)");
		}
		if (*p == '"')
			break;
		if (*p == '\\') {
			if (p[1] == '"' || p[1] == '\\') {
				bw_buf_append(&b, p + 1, 1);
				p += 2;
				continue;
			}
			if (p[1] == '\0' || p[1] == '\n') {
				p++;	/* reported as unterminated */
				continue;
			}
			bw_buf_free(&b);
			return conf_error(ps, line, "unknown escape \"\\%c\" "
			    "in string (only \\\" and \\\\ are allowed)", p[1]);
		}
		bw_buf_append(&b, p, 1);
		p++;
	}
	p++;
	/* `"a"b` is almost always a typo; don't split it silently. */
	if (!conf_is_delim(*p) && *p != '#') {
		bw_buf_free(&b);
		return conf_error(ps, line, "unexpected text right after a "
		    "quoted string");
	}
	ps->tok.type = CONF_TOK_STRING;
	ps->tok.text = bw_buf_release(&b);
	ps->p = p;
	return BW_OK;
}

/* Reads the next token into ps->tok; the previous text is freed. */
static int
conf_next(struct conf_parser *ps)
{
	const char	*p, *start;

	if (ps->pushed) {
		ps->pushed = 0;
		return BW_OK;
	}
	free(ps->tok.text);
	ps->tok.text = NULL;

	p = ps->p;
	while (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\f' ||
	    *p == '\v')
		p++;
	/* A comment starts where a token could: `a#b` is one word. */
	if (*p == '#')
		while (*p != '\0' && *p != '\n')
			p++;
	ps->tok.line = ps->line;
	ps->p = p;

	switch (*p) {
	case '\0':
		ps->tok.type = CONF_TOK_EOF;
		return BW_OK;
	case '\n':
		ps->line++;
		ps->tok.type = CONF_TOK_END;
		break;
	case ';':
		ps->tok.type = CONF_TOK_END;
		break;
	case '{':
		ps->tok.type = CONF_TOK_OPEN;
		break;
	case '}':
		ps->tok.type = CONF_TOK_CLOSE;
		break;
	case '"':
		return conf_lex_string(ps);
	default:
		start = p;
		while (!conf_is_delim(*p)) {
			if (*p == '"')
				return conf_error(ps, ps->line, "unexpected "
				    "'\"' inside a word (quote the whole "
				    "value)");
			p++;
		}
		ps->tok.type = CONF_TOK_WORD;
		ps->tok.text = bw_strndup(start, p - start);
		ps->p = p;
		return BW_OK;
	}
	ps->p = p + 1;
	return BW_OK;
}

/* Parser. */

static void
conf_stmt_free(struct conf_stmt *st)
{
	size_t	i;

	for (i = 0; i < st->n; i++)
		free(st->word[i]);
	st->n = 0;
}

/* Takes ownership of the current token's text. */
static void
conf_stmt_take(struct conf_parser *ps, struct conf_stmt *st)
{
	st->word[st->n++] = ps->tok.text;
	ps->tok.text = NULL;
}

/*
 * Reads one setting of the block named LABEL (opened on OPEN_LINE). A
 * setting ends at a newline, a ';' or the block's '}'. On BW_OK with
 * st->n == 0 the block has been closed.
 */
static int
conf_stmt_read(struct conf_parser *ps, const char *label, int open_line,
    struct conf_stmt *st)
{
	memset(st, 0, sizeof(*st));
	do {
		if (conf_next(ps) == BW_ERROR)
			return BW_ERROR;
	} while (ps->tok.type == CONF_TOK_END);

	switch (ps->tok.type) {
	case CONF_TOK_EOF:
		return conf_error(ps, open_line, "%s is not closed "
		    "(missing \"}\")", label);
	case CONF_TOK_CLOSE:
		return BW_OK;
	case CONF_TOK_OPEN:
		return conf_error(ps, ps->tok.line, "unexpected \"{\" in %s "
		    "(blocks do not nest)", label);
	case CONF_TOK_STRING:
		return conf_error(ps, ps->tok.line, "expected a key in %s, "
		    "got a quoted string", label);
	default:
		break;
	}
	st->line = ps->tok.line;
	conf_stmt_take(ps, st);

	for (;;) {
		if (conf_next(ps) == BW_ERROR) {
			conf_stmt_free(st);
			return BW_ERROR;
		}
		switch (ps->tok.type) {
		case CONF_TOK_END:
			return BW_OK;
		case CONF_TOK_CLOSE:
		case CONF_TOK_EOF:
			/* `workers 2 }`: the block ends with the setting. */
			ps->pushed = 1;
			return BW_OK;
		case CONF_TOK_OPEN:
			conf_error(ps, ps->tok.line, "unexpected \"{\" after "
			    "\"%s\" in %s (blocks do not nest)", st->word[0],
			    label);
			conf_stmt_free(st);
			return BW_ERROR;
		default:
			break;
		}
		if (st->n == CONF_MAX_WORDS) {
			conf_error(ps, st->line, "too many values for \"%s\" "
			    "in %s", st->word[0], label);
			conf_stmt_free(st);
			return BW_ERROR;
		}
		conf_stmt_take(ps, st);
	}
}

/* Expects the '{' that opens a block, possibly on a following line. */
static int
conf_open(struct conf_parser *ps, const char *label, int line)
{
	do {
		if (conf_next(ps) == BW_ERROR)
			return BW_ERROR;
	} while (ps->tok.type == CONF_TOK_END);
	if (ps->tok.type != CONF_TOK_OPEN)
		return conf_error(ps, line, "expected \"{\" to open %s",
		    label);
	return BW_OK;
}

/* Applies one value of a known key; the value is not echoed for secrets. */
static int
conf_apply(struct conf_parser *ps, const struct conf_key *k,
    struct conf_stmt *st, const char *label)
{
	const char	*v = st->word[st->n - 1];
	long long	 n;

	switch (k->type) {
	case CONF_STR:
		conf_store_str(ps->cfg, k, v);
		return BW_OK;
	case CONF_BOOL:
		if (strcmp(v, "yes") == 0)
			n = 1;
		else if (strcmp(v, "no") == 0)
			n = 0;
		else
			return conf_error(ps, st->line, "bad value for \"%s\" "
			    "in %s: expected yes or no, got \"%s\"", k->key,
			    label, v);
		conf_store_int(ps->cfg, k, n);
		return BW_OK;
	case CONF_BIND:
		if (conf_int(v, k->min, k->max, &n) == BW_ERROR)
			return conf_error(ps, st->line, "bad port for \"bind\" "
			    "in %s: expected an integer from %lld to %lld, "
			    "got \"%s\"", label, k->min, k->max, v);
		if (*st->word[1] == '\0')
			return conf_error(ps, st->line, "empty address for "
			    "\"bind\" in %s", label);
		free(ps->cfg->bind_addr);
		ps->cfg->bind_addr = bw_strdup(st->word[1]);
		conf_store_int(ps->cfg, k, n);
		return BW_OK;
	case CONF_INT:
	case CONF_SIZE:
		if (conf_int(v, k->min, k->max, &n) == BW_ERROR)
			return conf_error(ps, st->line, "bad value for \"%s\" "
			    "in %s: expected an integer from %lld to %lld, "
			    "got \"%s\"", k->key, label, k->min, k->max, v);
		conf_store_int(ps->cfg, k, n);
		return BW_OK;
	}
	return BW_ERROR;
}

static int
conf_parse_block(struct conf_parser *ps)
{
	const struct conf_key	*k;
	struct conf_stmt	 st;
	char			 label[64];
	int			 seen[BW_NELEM(conf_keys)];
	int			 line = ps->tok.line, r;
	size_t			 b, i, want;

	for (b = 0; b < BW_NELEM(conf_blocks); b++)
		if (strcmp(conf_blocks[b], ps->tok.text) == 0)
			break;
	if (b == BW_NELEM(conf_blocks))
		return conf_error(ps, line, "unknown block \"%s\" (expected "
		    "server, database, redis, auth, webhooks, paths or "
		    "plugin NAME)", ps->tok.text);
	/* One block of each kind: a second one would silently override. */
	if (ps->block_line[b] != 0)
		return conf_error(ps, line, "duplicate %s block (first at "
		    "line %d)", conf_blocks[b], ps->block_line[b]);
	ps->block_line[b] = line;
	snprintf(label, sizeof(label), "%s block", conf_blocks[b]);
	if (conf_open(ps, label, line) == BW_ERROR)
		return BW_ERROR;

	memset(seen, 0, sizeof(seen));
	for (;;) {
		if (conf_stmt_read(ps, label, line, &st) == BW_ERROR)
			return BW_ERROR;
		if (st.n == 0)
			return BW_OK;
		k = conf_key_find(conf_blocks[b], st.word[0], &i);
		want = (k != NULL && k->type == CONF_BIND) ? 2 : 1;
		if (k == NULL)
			r = conf_error(ps, st.line, "unknown key \"%s\" in %s",
			    st.word[0], label);
		else if (seen[i] != 0)
			r = conf_error(ps, st.line, "duplicate key \"%s\" in "
			    "%s (first at line %d)", st.word[0], label,
			    seen[i]);
		else if (st.n == 1)
			r = conf_error(ps, st.line, "missing value for \"%s\" "
			    "in %s", st.word[0], label);
		else if (k->type == CONF_BIND && st.n != 3)
			r = conf_error(ps, st.line, "\"bind\" in %s takes an "
			    "address and a port: bind ADDR PORT", label);
		else if (st.n - 1 > want)
			r = conf_error(ps, st.line, "too many values for "
			    "\"%s\" in %s (quote a value that contains spaces)",
			    st.word[0], label);
		else {
			seen[i] = st.line;
			r = conf_apply(ps, k, &st, label);
		}
		conf_stmt_free(&st);
		if (r == BW_ERROR)
			return BW_ERROR;
	}
}

static int
conf_plugin_name_ok(const char *s)
{
	size_t	n = 0;

	for (; *s != '\0'; s++, n++) {
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
		    (*s >= '0' && *s <= '9') || *s == '_' || *s == '-' ||
		    *s == '.'))
			return 0;
	}
	return n > 0 && n <= CONF_MAX_PLUGIN_NAME;
}

/* Joins the values of a plugin setting with single spaces. */
static char *
conf_stmt_value(const struct conf_stmt *st)
{
	struct bw_buf	b;
	size_t		i;

	bw_buf_init(&b);
	for (i = 1; i < st->n; i++) {
		if (i > 1)
			bw_buf_append(&b, " ", 1);
		bw_buf_appends(&b, st->word[i]);
	}
	return bw_buf_release(&b);
}

static int
conf_parse_plugin(struct conf_parser *ps)
{
	struct bw_config	*cfg = ps->cfg;
	struct bw_config_plugin	*pl;
	struct bw_config_kv	*kv;
	struct conf_stmt	 st;
	char			 label[CONF_MAX_PLUGIN_NAME + 32];
	int			 line = ps->tok.line, path_line = 0, r;
	size_t			 i;

	if (conf_next(ps) == BW_ERROR)
		return BW_ERROR;
	if (ps->tok.type != CONF_TOK_WORD && ps->tok.type != CONF_TOK_STRING)
		return conf_error(ps, line, "plugin block needs a name: "
		    "plugin NAME { path FILE }");
	if (!conf_plugin_name_ok(ps->tok.text))
		return conf_error(ps, line, "bad plugin name \"%.*s\": use up "
		    "to %d letters, digits, '_', '-' or '.'",
		    CONF_MAX_PLUGIN_NAME, ps->tok.text, CONF_MAX_PLUGIN_NAME);
	for (i = 0; i < cfg->nplugins; i++)
		if (strcmp(cfg->plugins[i].name, ps->tok.text) == 0)
			return conf_error(ps, line, "duplicate plugin \"%s\" "
			    "(first at line %d)", ps->tok.text,
			    cfg->plugins[i].line);

	/* Appended now so a later error still frees it with the config. */
	cfg->plugins = bw_realloc(cfg->plugins,
	    (cfg->nplugins + 1) * sizeof(*cfg->plugins));
	pl = &cfg->plugins[cfg->nplugins++];
	memset(pl, 0, sizeof(*pl));
	pl->name = bw_strdup(ps->tok.text);
	pl->line = line;
	snprintf(label, sizeof(label), "plugin \"%s\" block", pl->name);
	if (conf_open(ps, label, line) == BW_ERROR)
		return BW_ERROR;

	for (;;) {
		if (conf_stmt_read(ps, label, line, &st) == BW_ERROR)
			return BW_ERROR;
		if (st.n == 0)
			break;
		r = BW_OK;
		if (st.n == 1) {
			r = conf_error(ps, st.line, "missing value for \"%s\" "
			    "in %s", st.word[0], label);
		} else if (strcmp(st.word[0], "path") == 0) {
			if (pl->path != NULL)
				r = conf_error(ps, st.line, "duplicate key "
				    "\"path\" in %s (first at line %d)", label,
				    path_line);
			else if (st.n != 2)
				r = conf_error(ps, st.line, "too many values "
				    "for \"path\" in %s (quote a path that "
				    "contains spaces)", label);
			else if (*st.word[1] == '\0')
				r = conf_error(ps, st.line, "empty path in %s",
				    label);
			else {
				pl->path = st.word[1];
				st.word[1] = NULL;
				path_line = st.line;
			}
		} else {
			for (i = 0; i < pl->nsettings; i++) {
				if (strcmp(pl->settings[i].key,
				    st.word[0]) == 0) {
					r = conf_error(ps, st.line, "duplicate "
					    "key \"%s\" in %s (first at line "
					    "%d)", st.word[0], label,
					    pl->settings[i].line);
					break;
				}
			}
			if (r == BW_OK) {
				pl->settings = bw_realloc(pl->settings,
				    (pl->nsettings + 1) *
				    sizeof(*pl->settings));
				kv = &pl->settings[pl->nsettings++];
				kv->key = st.word[0];
				st.word[0] = NULL;
				kv->value = conf_stmt_value(&st);
				kv->line = st.line;
			}
		}
		conf_stmt_free(&st);
		if (r == BW_ERROR)
			return BW_ERROR;
	}
	if (pl->path == NULL)
		return conf_error(ps, line, "plugin \"%s\" has no path "
		    "(add: path FILE)", pl->name);
	return BW_OK;
}

static int
conf_parse_top(struct conf_parser *ps)
{
	int	r;

	for (;;) {
		if (conf_next(ps) == BW_ERROR)
			return BW_ERROR;
		switch (ps->tok.type) {
		case CONF_TOK_EOF:
			return BW_OK;
		case CONF_TOK_END:
			continue;
		case CONF_TOK_OPEN:
			return conf_error(ps, ps->tok.line, "unexpected \"{\" "
			    "outside a block (a block starts with its name)");
		case CONF_TOK_CLOSE:
			return conf_error(ps, ps->tok.line, "unexpected \"}\" "
			    "with no block open");
		case CONF_TOK_STRING:
			return conf_error(ps, ps->tok.line, "expected a block "
			    "name, got a quoted string");
		case CONF_TOK_WORD:
			break;
		}
		if (strcmp(ps->tok.text, "plugin") == 0)
			r = conf_parse_plugin(ps);
		else
			r = conf_parse_block(ps);
		if (r == BW_ERROR)
			return BW_ERROR;
	}
}

int
bw_config_parse(struct bw_config *cfg, const char *name, const char *text,
    char *err, size_t errlen)
{
	struct conf_parser	ps;
	int			r;

	if (name == NULL)
		name = "<config>";
	if (err != NULL && errlen > 0)
		err[0] = '\0';
	bw_config_defaults(cfg);
	cfg->path = bw_strdup(name);

	memset(&ps, 0, sizeof(ps));
	ps.cfg = cfg;
	ps.name = name;
	ps.p = text != NULL ? text : "";
	ps.line = 1;
	ps.err = err;
	ps.errlen = errlen;
	r = conf_parse_top(&ps);
	free(ps.tok.text);
	if (r != BW_OK) {
		/* Nothing half-parsed escapes; CFG is zeroed and freeable. */
		bw_config_free(cfg);
		return BW_ERROR;
	}
	return BW_OK;
}

int
bw_config_load(struct bw_config *cfg, const char *file, char *err,
    size_t errlen)
{
	struct bw_buf	 b;
	FILE		*fp;
	char		 chunk[4096];
	size_t		 n, i;
	int		 line, r;

	memset(cfg, 0, sizeof(*cfg));
	if (err != NULL && errlen > 0)
		err[0] = '\0';
	if ((fp = fopen(file, "r")) == NULL) {
		conf_seterr(err, errlen, NULL, "%s: cannot open: %s", file,
		    strerror(errno));
		return BW_ERROR;
	}
	bw_buf_init(&b);
	while ((n = fread(chunk, 1, sizeof(chunk), fp)) > 0) {
		bw_buf_append(&b, chunk, n);
		if (b.len > CONF_MAX_FILE)
			break;
	}
	if (ferror(fp)) {
		conf_seterr(err, errlen, NULL, "%s: cannot read: %s", file,
		    strerror(errno));
		fclose(fp);
		bw_buf_free(&b);
		return BW_ERROR;
	}
	fclose(fp);
	if (b.len > CONF_MAX_FILE) {
		conf_seterr(err, errlen, NULL, "%s: larger than %d bytes; is "
		    "this the config file?", file, CONF_MAX_FILE);
		bw_buf_free(&b);
		return BW_ERROR;
	}
	/* The parser stops at a NUL byte; say so instead of ignoring text. */
	if (b.data != NULL && strlen(b.data) != b.len) {
		line = 1;
		for (i = 0; b.data[i] != '\0'; i++)
			if (b.data[i] == '\n')
				line++;
		conf_seterr(err, errlen, NULL, "%s:%d: NUL byte in the file",
		    file, line);
		bw_buf_free(&b);
		return BW_ERROR;
	}
	r = bw_config_parse(cfg, file, b.data != NULL ? b.data : "", err,
	    errlen);
	bw_buf_free(&b);
	return r;
}

static int
conf_env_bool(const char *s, long long *out)
{
	static const char *const yes[] = { "1", "yes", "true" };
	static const char *const no[] = { "0", "no", "false" };
	size_t			 i;

	for (i = 0; i < BW_NELEM(yes); i++) {
		if (strcasecmp(s, yes[i]) == 0) {
			*out = 1;
			return BW_OK;
		}
		if (strcasecmp(s, no[i]) == 0) {
			*out = 0;
			return BW_OK;
		}
	}
	return BW_ERROR;
}

/*
 * All variables are checked before any is applied, so a malformed one
 * leaves CFG as it was. An empty variable counts as unset (compose files
 * and CI often export VAR= to mean "not given").
 */
int
bw_config_env(struct bw_config *cfg, char *err, size_t errlen)
{
	const struct conf_key	*k;
	const char		*v;
	long long		 n[BW_NELEM(conf_keys)] = { 0 };
	size_t			 i;

	if (err != NULL && errlen > 0)
		err[0] = '\0';
	for (i = 0; i < BW_NELEM(conf_keys); i++) {
		k = &conf_keys[i];
		if (k->env == NULL || k->type == CONF_STR)
			continue;
		if ((v = getenv(k->env)) == NULL || *v == '\0')
			continue;
		if (k->type == CONF_BOOL) {
			if (conf_env_bool(v, &n[i]) == BW_ERROR) {
				conf_seterr(err, errlen, NULL, "%s: expected "
				    "1, 0, yes, no, true or false, got \"%s\"",
				    k->env, v);
				return BW_ERROR;
			}
		} else if (conf_int(v, k->min, k->max, &n[i]) == BW_ERROR) {
			conf_seterr(err, errlen, NULL, "%s: expected an "
			    "integer from %lld to %lld, got \"%s\"", k->env,
			    k->min, k->max, v);
			return BW_ERROR;
		}
	}
	for (i = 0; i < BW_NELEM(conf_keys); i++) {
		k = &conf_keys[i];
		if (k->env == NULL)
			continue;
		if ((v = getenv(k->env)) == NULL || *v == '\0')
			continue;
		if (k->type == CONF_STR)
			conf_store_str(cfg, k, v);
		else
			conf_store_int(cfg, k, n[i]);
	}
	return BW_OK;
}

int
bw_config_validate(const struct bw_config *cfg, char *err, size_t errlen)
{
	const struct conf_key	*k;
	const char		*pfx = NULL;
	char			 prefix[512];
	char			*const *sp;
	long long		 v;
	size_t			 i, len;

	if (err != NULL && errlen > 0)
		err[0] = '\0';
	if (cfg->path != NULL) {
		snprintf(prefix, sizeof(prefix), "%s: ", cfg->path);
		pfx = prefix;
	}
	/* Ranges again: the caller may have set fields after parsing. */
	for (i = 0; i < BW_NELEM(conf_keys); i++) {
		k = &conf_keys[i];
		if (k->type == CONF_STR) {
			sp = (char *const *)((const char *)cfg + k->off);
			if (*sp != NULL && **sp != '\0')
				continue;
			if (k->off == CONF_OFF(jwt_secret))
				continue;	/* its own message below */
			if (k->env != NULL)
				conf_seterr(err, errlen, pfx, "%s %s is not "
				    "set (set it in the %s block or %s)",
				    k->block, k->key, k->block, k->env);
			else
				conf_seterr(err, errlen, pfx, "%s %s is empty",
				    k->block, k->key);
			return BW_ERROR;
		}
		v = conf_load_int(cfg, k);
		if (v < k->min || v > k->max) {
			conf_seterr(err, errlen, pfx, "%s %s is %lld, outside "
			    "%lld..%lld", k->block, k->type == CONF_BIND ?
			    "port" : k->key, v, k->min, k->max);
			return BW_ERROR;
		}
	}
	if (cfg->bind_addr == NULL || *cfg->bind_addr == '\0') {
		conf_seterr(err, errlen, pfx, "server bind has no address");
		return BW_ERROR;
	}
	if (cfg->jwt_secret == NULL || *cfg->jwt_secret == '\0') {
		conf_seterr(err, errlen, pfx, "auth jwt_secret is not set (set "
		    "it in the auth block or BILLOW_JWT_SECRET)");
		return BW_ERROR;
	}
	if ((len = strlen(cfg->jwt_secret)) < CONF_JWT_SECRET_MIN) {
		conf_seterr(err, errlen, pfx, "auth jwt_secret is %zu bytes; "
		    "at least %d are required", len, CONF_JWT_SECRET_MIN);
		return BW_ERROR;
	}
	/* A refresh token that dies before its access token is useless. */
	if (cfg->refresh_ttl_s < cfg->access_ttl_s) {
		conf_seterr(err, errlen, pfx, "auth refresh_ttl (%d) is "
		    "shorter than access_ttl (%d)", cfg->refresh_ttl_s,
		    cfg->access_ttl_s);
		return BW_ERROR;
	}
	for (i = 0; i < cfg->nplugins; i++) {
		if (cfg->plugins[i].name == NULL ||
		    cfg->plugins[i].path == NULL) {
			conf_seterr(err, errlen, pfx, "plugin %zu has no %s", i,
			    cfg->plugins[i].name == NULL ? "name" : "path");
			return BW_ERROR;
		}
	}
	return BW_OK;
}
