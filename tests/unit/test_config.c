/*
 * Unit tests for src/core/config.c: the block grammar (one-line and
 * multi-line forms, quoting), every error class with its FILE:LINE,
 * plugin blocks, defaults, environment overrides and validation.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/config.h"
#include "core/core.h"
#include "test_list.h"

/* 48 bytes, long enough for bw_config_validate. */
#define TEST_SECRET	"0123456789abcdef0123456789abcdef0123456789abcdef"

static const char *const env_vars[] = {
	"DATABASE_URL", "REDIS_URL", "BILLOW_PORT", "BILLOW_JWT_SECRET",
	"BILLOW_RATE_LIMIT_TEST_RPS", "BILLOW_RATE_LIMIT_LIVE_RPS",
	"BILLOW_AUTH_RATE_PER_MIN", "BILLOW_WEBHOOK_RETRY_BASE_S",
	"BILLOW_WEBHOOK_ALLOW_LOOPBACK"
};

static void
env_clear(void)
{
	size_t	i;

	for (i = 0; i < BW_NELEM(env_vars); i++)
		unsetenv(env_vars[i]);
}

static void
parse_ok(struct bw_config *cfg, const char *text)
{
	char	err[512];
	int	r;

	r = bw_config_parse(cfg, "t.conf", text, err, sizeof(err));
	ck_assert_msg(r == BW_OK, "parse failed: %s", err);
}

static void
assert_defaults(const struct bw_config *cfg)
{
	ck_assert_str_eq(cfg->bind_addr, "127.0.0.1");
	ck_assert_int_eq(cfg->port, 8080);
	ck_assert_int_eq(cfg->workers, 0);
	ck_assert_int_eq(cfg->task_threads, 4);
	ck_assert_int_eq(cfg->background, 1);
	ck_assert_int_eq(cfg->scheduler, 1);
	ck_assert_uint_eq(cfg->body_max, 1048576);
	ck_assert_ptr_null(cfg->database_url);
	ck_assert_int_eq(cfg->statement_timeout_ms, 5000);
	ck_assert_ptr_null(cfg->redis_url);
	ck_assert_int_eq(cfg->redis_timeout_ms, 200);
	ck_assert_ptr_null(cfg->jwt_secret);
	ck_assert_int_eq(cfg->access_ttl_s, 3600);
	ck_assert_int_eq(cfg->refresh_ttl_s, 604800);
	ck_assert_int_eq(cfg->rate_test_rps, 25);
	ck_assert_int_eq(cfg->rate_live_rps, 100);
	ck_assert_int_eq(cfg->auth_rate_per_min, 10);
	ck_assert_int_eq(cfg->login_lockout_failures, 5);
	ck_assert_int_eq(cfg->login_lockout_s, 900);
	ck_assert_int_eq(cfg->webhook_retry_base_s, 60);
	ck_assert_int_eq(cfg->webhook_allow_loopback, 0);
	ck_assert_str_eq(cfg->var_dir, "var");
	ck_assert_str_eq(cfg->assets_dir, "assets");
	ck_assert_str_eq(cfg->lua_dir, "lua");
	ck_assert_str_eq(cfg->migrations_dir, "migrations");
	ck_assert_uint_eq(cfg->nplugins, 0);
}

START_TEST(defaults_are_documented_values)
{
	struct bw_config	cfg;

	bw_config_defaults(&cfg);
	assert_defaults(&cfg);
	bw_config_free(&cfg);

	/* An empty file, or only comments, is all defaults. */
	parse_ok(&cfg, "");
	assert_defaults(&cfg);
	ck_assert_str_eq(cfg.path, "t.conf");
	bw_config_free(&cfg);
	parse_ok(&cfg, "# nothing\n\n   # here either\n");
	assert_defaults(&cfg);
	bw_config_free(&cfg);
	/* Blocks present but empty keep the defaults too. */
	parse_ok(&cfg, "server { }\nauth {\n}\n");
	assert_defaults(&cfg);
	bw_config_free(&cfg);
}
END_TEST

START_TEST(one_line_blocks_with_semicolons)
{
	struct bw_config	cfg;

	parse_ok(&cfg,
	    "server { bind 127.0.0.1 8080; workers 2; task_threads 4 }\n"
	    "database { url \"postgresql://billow@127.0.0.1:54329/billow\" }\n"
	    "redis { url redis://127.0.0.1:63799/0; timeout_ms 150; }\n"
	    "webhooks { retry_base_s 1; allow_loopback yes }\n");
	ck_assert_str_eq(cfg.bind_addr, "127.0.0.1");
	ck_assert_int_eq(cfg.port, 8080);
	ck_assert_int_eq(cfg.workers, 2);
	ck_assert_int_eq(cfg.task_threads, 4);
	ck_assert_int_eq(cfg.background, 1);
	ck_assert_str_eq(cfg.database_url,
	    "postgresql://billow@127.0.0.1:54329/billow");
	ck_assert_str_eq(cfg.redis_url, "redis://127.0.0.1:63799/0");
	ck_assert_int_eq(cfg.redis_timeout_ms, 150);
	ck_assert_int_eq(cfg.webhook_retry_base_s, 1);
	ck_assert_int_eq(cfg.webhook_allow_loopback, 1);
	bw_config_free(&cfg);

	/* Several blocks on one line, and a line with no final newline. */
	parse_ok(&cfg, "server { workers 3 } paths { var /tmp/v; lua l }");
	ck_assert_int_eq(cfg.workers, 3);
	ck_assert_str_eq(cfg.var_dir, "/tmp/v");
	ck_assert_str_eq(cfg.lua_dir, "l");
	bw_config_free(&cfg);
}
END_TEST

START_TEST(multi_line_blocks_with_comments)
{
	struct bw_config	cfg;

	parse_ok(&cfg,
	    "# Billow\n"
	    "server {\n"
	    "\tbind 0.0.0.0 9090\t# all interfaces\n"
	    "\tworkers 8\n"
	    "\ttask_threads 16\r\n"
	    "\tbackground 0\n"
	    "\tscheduler no\n"
	    "\tbody_max 2097152\n"
	    "}\n"
	    "\n"
	    "database\n"
	    "{\n"
	    "\turl postgresql://db/billow\n"
	    "\tstatement_timeout_ms 250\n"
	    "}\n"
	    "auth {\n"
	    "\tjwt_secret " TEST_SECRET "\n"
	    "\taccess_ttl 60\n"
	    "\trefresh_ttl 120\n"
	    "\trate_limit_test_rps 0\n"
	    "\trate_limit_live_rps 7\n"
	    "\tauth_rate_per_min 0\n"
	    "\tlockout_failures 3\n"
	    "\tlockout_seconds 30\n"
	    "}\n"
	    "webhooks {\n\tallow_loopback no\n}\n"
	    "paths {\n"
	    "\tvar v\n\tassets a\n\tlua l\n\tmigrations m\n"
	    "}\n");
	ck_assert_str_eq(cfg.bind_addr, "0.0.0.0");
	ck_assert_int_eq(cfg.port, 9090);
	ck_assert_int_eq(cfg.workers, 8);
	ck_assert_int_eq(cfg.task_threads, 16);
	ck_assert_int_eq(cfg.background, 0);
	ck_assert_int_eq(cfg.scheduler, 0);
	ck_assert_uint_eq(cfg.body_max, 2097152);
	ck_assert_str_eq(cfg.database_url, "postgresql://db/billow");
	ck_assert_int_eq(cfg.statement_timeout_ms, 250);
	ck_assert_str_eq(cfg.jwt_secret, TEST_SECRET);
	ck_assert_int_eq(cfg.access_ttl_s, 60);
	ck_assert_int_eq(cfg.refresh_ttl_s, 120);
	ck_assert_int_eq(cfg.rate_test_rps, 0);
	ck_assert_int_eq(cfg.rate_live_rps, 7);
	ck_assert_int_eq(cfg.auth_rate_per_min, 0);
	ck_assert_int_eq(cfg.login_lockout_failures, 3);
	ck_assert_int_eq(cfg.login_lockout_s, 30);
	ck_assert_int_eq(cfg.webhook_allow_loopback, 0);
	ck_assert_int_eq(cfg.webhook_retry_base_s, 60);
	ck_assert_str_eq(cfg.var_dir, "v");
	ck_assert_str_eq(cfg.assets_dir, "a");
	ck_assert_str_eq(cfg.lua_dir, "l");
	ck_assert_str_eq(cfg.migrations_dir, "m");
	bw_config_free(&cfg);
}
END_TEST

START_TEST(quoted_strings_and_escapes)
{
	struct bw_config	cfg;

	parse_ok(&cfg,
	    "auth { jwt_secret \"a \\\"quoted\\\" back\\\\slash; {not} "
	    "#no comment\" }\n"
	    "paths { var \"dir with spaces\"; lua \"\" }\n"
	    "redis { url redis://h/0#frag }\n"
	    "database { url \"x\"# a comment right after a string\n}\n");
	ck_assert_str_eq(cfg.jwt_secret,
	    "a \"quoted\" back\\slash; {not} #no comment");
	ck_assert_str_eq(cfg.var_dir, "dir with spaces");
	ck_assert_str_eq(cfg.lua_dir, "");
	ck_assert_str_eq(cfg.redis_url, "redis://h/0#frag");
	ck_assert_str_eq(cfg.database_url, "x");
	bw_config_free(&cfg);
}
END_TEST

START_TEST(plugin_blocks_keep_settings_in_order)
{
	struct bw_config		 cfg;
	const struct bw_config_plugin	*pl;

	parse_ok(&cfg,
	    "plugin stripe {\n"
	    "\tpath build/plugins/stripe.so\n"
	    "\tapi_base http://127.0.0.1:12111\n"
	    "\tnote \"two words\" and more\n"
	    "\tmode test\n"
	    "}\n"
	    "plugin \"audit-log\" { path a.so; level 2 }\n"
	    "plugin bare { path \"with space.so\" }\n");
	ck_assert_uint_eq(cfg.nplugins, 3);

	pl = &cfg.plugins[0];
	ck_assert_str_eq(pl->name, "stripe");
	ck_assert_str_eq(pl->path, "build/plugins/stripe.so");
	ck_assert_int_eq(pl->line, 1);
	ck_assert_uint_eq(pl->nsettings, 3);
	ck_assert_str_eq(pl->settings[0].key, "api_base");
	ck_assert_str_eq(pl->settings[0].value, "http://127.0.0.1:12111");
	ck_assert_int_eq(pl->settings[0].line, 3);
	ck_assert_str_eq(pl->settings[1].key, "note");
	ck_assert_str_eq(pl->settings[1].value, "two words and more");
	ck_assert_str_eq(pl->settings[2].key, "mode");
	ck_assert_str_eq(bw_config_plugin_get(pl, "mode"), "test");
	ck_assert_str_eq(bw_config_plugin_get(pl, "path"),
	    "build/plugins/stripe.so");
	ck_assert_ptr_null(bw_config_plugin_get(pl, "missing"));
	ck_assert_ptr_null(bw_config_plugin_get(NULL, "mode"));

	pl = &cfg.plugins[1];
	ck_assert_str_eq(pl->name, "audit-log");
	ck_assert_str_eq(pl->path, "a.so");
	ck_assert_str_eq(bw_config_plugin_get(pl, "level"), "2");
	ck_assert_int_eq(pl->line, 7);

	pl = &cfg.plugins[2];
	ck_assert_str_eq(pl->path, "with space.so");
	ck_assert_uint_eq(pl->nsettings, 0);
	bw_config_free(&cfg);
}
END_TEST

/* Each error class: the text, and what the message must contain. */
static const struct {
	const char	*text;
	const char	*want;
} bad_configs[] = {
	/* Unknown blocks and keys. */
	{ "# c\nsrv { }\n", "t.conf:2: unknown block \"srv\"" },
	{ "server {\n\tbind 127.0.0.1 80\n\n\n\n\twokers 2\n}\n",
	  "t.conf:6: unknown key \"wokers\" in server block" },
	{ "redis { url r; jwt_secret x }", "t.conf:1: unknown key "
	  "\"jwt_secret\" in redis block" },
	{ "workers 2\n", "t.conf:1: unknown block \"workers\"" },
	/* Missing and extra values. */
	{ "server {\n\tworkers\n}\n",
	  "t.conf:2: missing value for \"workers\" in server block" },
	{ "server { workers; }", "t.conf:1: missing value for \"workers\"" },
	{ "server {\n bind 127.0.0.1\n}",
	  "t.conf:2: \"bind\" in server block takes an address and a port" },
	{ "server { workers 2 3 }",
	  "t.conf:1: too many values for \"workers\" in server block" },
	{ "database {\n url a b\n}", "t.conf:2: too many values for \"url\"" },
	/* Bad integers and ranges. */
	{ "server {\n workers two\n}",
	  "t.conf:2: bad value for \"workers\" in server block: expected an "
	  "integer from 0 to 256, got \"two\"" },
	{ "server { workers 2x }", "t.conf:1: bad value for \"workers\"" },
	{ "server { workers 257 }", "t.conf:1: bad value for \"workers\"" },
	{ "server { workers -1 }", "t.conf:1: bad value for \"workers\"" },
	{ "server { workers \"\" }", "t.conf:1: bad value for \"workers\"" },
	{ "server { workers 99999999999999999999999 }",
	  "t.conf:1: bad value for \"workers\"" },
	{ "server { task_threads 0 }",
	  "t.conf:1: bad value for \"task_threads\"" },
	{ "server { task_threads 65 }",
	  "t.conf:1: bad value for \"task_threads\"" },
	{ "server { background 65 }",
	  "t.conf:1: bad value for \"background\"" },
	{ "server { bind 127.0.0.1 0 }", "t.conf:1: bad port for \"bind\"" },
	{ "server { bind 127.0.0.1 65536 }",
	  "t.conf:1: bad port for \"bind\"" },
	{ "server { bind \"\" 80 }", "t.conf:1: empty address" },
	{ "redis { timeout_ms 201 }", "t.conf:1: bad value for "
	  "\"timeout_ms\" in redis block: expected an integer from 1 to 200" },
	{ "auth { rate_limit_test_rps -1 }",
	  "t.conf:1: bad value for \"rate_limit_test_rps\"" },
	{ "auth { auth_rate_per_min 1.5 }",
	  "t.conf:1: bad value for \"auth_rate_per_min\"" },
	{ "server { scheduler maybe }",
	  "t.conf:1: bad value for \"scheduler\" in server block: expected "
	  "yes or no" },
	{ "webhooks { allow_loopback 1 }",
	  "t.conf:1: bad value for \"allow_loopback\"" },
	/* Unbalanced braces. */
	{ "\nserver {\n workers 2\n", "t.conf:2: server block is not closed" },
	{ "server { workers 2", "t.conf:1: server block is not closed" },
	{ "server { }\n}\n", "t.conf:2: unexpected \"}\" with no block open" },
	{ "{ }", "t.conf:1: unexpected \"{\" outside a block" },
	{ "server {\n auth {\n}\n}", "t.conf:2: unexpected \"{\" after "
	  "\"auth\" in server block" },
	{ "server {\n {\n}", "t.conf:2: unexpected \"{\" in server block" },
	{ "server\n", "t.conf:1: expected \"{\" to open server block" },
	{ "server workers 2 }", "t.conf:1: expected \"{\" to open server" },
	/* Duplicates. */
	{ "server {\n workers 1\n workers 2\n}",
	  "t.conf:3: duplicate key \"workers\" in server block (first at "
	  "line 2)" },
	{ "server { }\nserver { }", "t.conf:2: duplicate server block "
	  "(first at line 1)" },
	/* Strings. */
	{ "auth {\n jwt_secret \"abc\n}\n", "t.conf:2: unterminated string" },
	{ "auth { jwt_secret \"abc", "t.conf:1: unterminated string" },
	{ "auth { jwt_secret \"abc\\", "t.conf:1: unterminated string" },
	{ "auth { jwt_secret \"a\\nb\" }", "t.conf:1: unknown escape \"\\n\"" },
	{ "auth { jwt_secret \"a\"b }",
	  "t.conf:1: unexpected text right after a quoted string" },
	{ "auth { jwt_secret a\"b\" }", "t.conf:1: unexpected '\"' inside" },
	{ "\"server\" { }", "t.conf:1: expected a block name, got a quoted" },
	{ "server { \"workers\" 2 }", "t.conf:1: expected a key in server "
	  "block, got a quoted string" },
	/* Plugins. */
	{ "plugin {\n path x.so\n}", "t.conf:1: plugin block needs a name" },
	{ "plugin\n", "t.conf:1: plugin block needs a name" },
	{ "plugin a/b { path x }", "t.conf:1: bad plugin name \"a/b\"" },
	{ "\nplugin p {\n mode x\n}", "t.conf:2: plugin \"p\" has no path" },
	{ "plugin p { path a }\nplugin p { path b }",
	  "t.conf:2: duplicate plugin \"p\" (first at line 1)" },
	{ "plugin p {\n path a\n path b\n}", "t.conf:3: duplicate key \"path\" "
	  "in plugin \"p\" block (first at line 2)" },
	{ "plugin p {\n path a\n k 1\n k 2\n}", "t.conf:4: duplicate key "
	  "\"k\" in plugin \"p\" block (first at line 3)" },
	{ "plugin p {\n path a\n k\n}", "t.conf:3: missing value for \"k\" in "
	  "plugin \"p\" block" },
	{ "plugin p { path }", "t.conf:1: missing value for \"path\"" },
	{ "plugin p { path a b }", "t.conf:1: too many values for \"path\"" },
	{ "plugin p { path \"\" }", "t.conf:1: empty path" },
	{ "plugin p { path a", "t.conf:1: plugin \"p\" block is not closed" },
};

START_TEST(errors_name_file_and_line)
{
	struct bw_config	cfg;
	char			err[512];
	int			r;

	r = bw_config_parse(&cfg, "t.conf", bad_configs[_i].text, err,
	    sizeof(err));
	ck_assert_msg(r == BW_ERROR, "case %d parsed: %s", _i,
	    bad_configs[_i].text);
	ck_assert_msg(strstr(err, bad_configs[_i].want) != NULL,
	    "case %d: want \"%s\" in \"%s\"", _i, bad_configs[_i].want, err);
	/* A failed parse leaves nothing to free, and freeing is harmless. */
	ck_assert_ptr_null(cfg.path);
	ck_assert_ptr_null(cfg.plugins);
	bw_config_free(&cfg);
}
END_TEST

START_TEST(error_message_is_truncated_safely)
{
	struct bw_config	cfg;
	char			err[8];

	ck_assert_int_eq(bw_config_parse(&cfg, "long-name.conf", "x { }",
	    err, sizeof(err)), BW_ERROR);
	ck_assert_str_eq(err, "long-na");
	ck_assert_int_eq(bw_config_parse(&cfg, "t.conf", "x { }", NULL, 0),
	    BW_ERROR);
}
END_TEST

START_TEST(env_overrides_apply)
{
	struct bw_config	cfg;
	char			err[256];

	env_clear();
	parse_ok(&cfg, "database { url file-db }\nredis { url file-redis }\n");
	setenv("DATABASE_URL", "postgresql://env/db", 1);
	setenv("REDIS_URL", "redis://env/1", 1);
	setenv("BILLOW_PORT", "18081", 1);
	setenv("BILLOW_JWT_SECRET", TEST_SECRET, 1);
	setenv("BILLOW_RATE_LIMIT_TEST_RPS", "0", 1);
	setenv("BILLOW_RATE_LIMIT_LIVE_RPS", "1000", 1);
	setenv("BILLOW_AUTH_RATE_PER_MIN", "0", 1);
	setenv("BILLOW_WEBHOOK_RETRY_BASE_S", "1", 1);
	setenv("BILLOW_WEBHOOK_ALLOW_LOOPBACK", "yes", 1);
	ck_assert_msg(bw_config_env(&cfg, err, sizeof(err)) == BW_OK,
	    "env: %s", err);
	ck_assert_str_eq(cfg.database_url, "postgresql://env/db");
	ck_assert_str_eq(cfg.redis_url, "redis://env/1");
	ck_assert_int_eq(cfg.port, 18081);
	ck_assert_str_eq(cfg.bind_addr, "127.0.0.1");
	ck_assert_str_eq(cfg.jwt_secret, TEST_SECRET);
	ck_assert_int_eq(cfg.rate_test_rps, 0);
	ck_assert_int_eq(cfg.rate_live_rps, 1000);
	ck_assert_int_eq(cfg.auth_rate_per_min, 0);
	ck_assert_int_eq(cfg.webhook_retry_base_s, 1);
	ck_assert_int_eq(cfg.webhook_allow_loopback, 1);
	ck_assert_int_eq(bw_config_validate(&cfg, err, sizeof(err)), BW_OK);
	env_clear();
	bw_config_free(&cfg);
}
END_TEST

START_TEST(env_unset_or_empty_changes_nothing)
{
	struct bw_config	cfg;
	char			err[256];

	env_clear();
	parse_ok(&cfg, "database { url d }\nserver { bind 127.0.0.1 81 }");
	setenv("DATABASE_URL", "", 1);
	setenv("BILLOW_PORT", "", 1);
	ck_assert_int_eq(bw_config_env(&cfg, err, sizeof(err)), BW_OK);
	ck_assert_str_eq(cfg.database_url, "d");
	ck_assert_int_eq(cfg.port, 81);
	ck_assert_ptr_null(cfg.redis_url);
	ck_assert_int_eq(cfg.rate_test_rps, 25);
	env_clear();
	bw_config_free(&cfg);
}
END_TEST

static const struct {
	const char	*value;
	int		 want;
} loopback_values[] = {
	{ "1", 1 }, { "yes", 1 }, { "true", 1 }, { "TRUE", 1 },
	{ "0", 0 }, { "no", 0 }, { "false", 0 }, { "No", 0 },
};

START_TEST(env_loopback_accepts_booleans)
{
	struct bw_config	cfg;
	char			err[256];

	env_clear();
	parse_ok(&cfg, "webhooks { allow_loopback yes }");
	cfg.webhook_allow_loopback = !loopback_values[_i].want;
	setenv("BILLOW_WEBHOOK_ALLOW_LOOPBACK", loopback_values[_i].value, 1);
	ck_assert_int_eq(bw_config_env(&cfg, err, sizeof(err)), BW_OK);
	ck_assert_int_eq(cfg.webhook_allow_loopback, loopback_values[_i].want);
	env_clear();
	bw_config_free(&cfg);
}
END_TEST

static const struct {
	const char	*name;
	const char	*value;
} bad_env[] = {
	{ "BILLOW_PORT", "http" },
	{ "BILLOW_PORT", "0" },
	{ "BILLOW_PORT", "65536" },
	{ "BILLOW_PORT", " 8080" },
	{ "BILLOW_PORT", "8080 " },
	{ "BILLOW_RATE_LIMIT_TEST_RPS", "-1" },
	{ "BILLOW_RATE_LIMIT_LIVE_RPS", "ten" },
	{ "BILLOW_AUTH_RATE_PER_MIN", "99999999999999999999" },
	{ "BILLOW_WEBHOOK_RETRY_BASE_S", "0" },
	{ "BILLOW_WEBHOOK_RETRY_BASE_S", "1s" },
	{ "BILLOW_WEBHOOK_ALLOW_LOOPBACK", "on" },
	{ "BILLOW_WEBHOOK_ALLOW_LOOPBACK", "2" },
};

START_TEST(env_malformed_is_an_error_naming_the_variable)
{
	struct bw_config	cfg;
	char			err[256];

	env_clear();
	parse_ok(&cfg, "");
	/* A valid override alongside: nothing applies when one is bad. */
	setenv("DATABASE_URL", "postgresql://env/db", 1);
	setenv("BILLOW_RATE_LIMIT_LIVE_RPS", "5", 1);
	setenv(bad_env[_i].name, bad_env[_i].value, 1);
	ck_assert_int_eq(bw_config_env(&cfg, err, sizeof(err)), BW_ERROR);
	ck_assert_msg(strncmp(err, bad_env[_i].name,
	    strlen(bad_env[_i].name)) == 0, "case %d: %s", _i, err);
	ck_assert_ptr_null(cfg.database_url);
	ck_assert_int_eq(cfg.port, 8080);
	ck_assert_int_eq(cfg.webhook_allow_loopback, 0);
	if (strcmp(bad_env[_i].name, "BILLOW_RATE_LIMIT_LIVE_RPS") != 0)
		ck_assert_int_eq(cfg.rate_live_rps, 100);
	env_clear();
	bw_config_free(&cfg);
}
END_TEST

START_TEST(validate_requires_secret_and_services)
{
	struct bw_config	cfg;
	char			err[256];

	parse_ok(&cfg, "redis { url r }\nauth { jwt_secret " TEST_SECRET " }");
	ck_assert_int_eq(bw_config_validate(&cfg, err, sizeof(err)), BW_ERROR);
	ck_assert_msg(strstr(err, "database url is not set") != NULL &&
	    strstr(err, "DATABASE_URL") != NULL, "%s", err);
	ck_assert(strncmp(err, "t.conf: ", 8) == 0);
	bw_config_free(&cfg);

	parse_ok(&cfg, "database { url d }\nauth { jwt_secret " TEST_SECRET
	    " }");
	ck_assert_int_eq(bw_config_validate(&cfg, err, sizeof(err)), BW_ERROR);
	ck_assert_msg(strstr(err, "redis url is not set") != NULL, "%s", err);
	bw_config_free(&cfg);

	parse_ok(&cfg, "database { url d }\nredis { url r }");
	ck_assert_int_eq(bw_config_validate(&cfg, err, sizeof(err)), BW_ERROR);
	ck_assert_msg(strstr(err, "jwt_secret is not set") != NULL, "%s", err);
	bw_config_free(&cfg);

	/* 31 bytes: one short. The secret itself is never echoed. */
	parse_ok(&cfg, "database { url d }\nredis { url r }\n"
	    "auth { jwt_secret 0123456789012345678901234567890 }");
	ck_assert_int_eq(bw_config_validate(&cfg, err, sizeof(err)), BW_ERROR);
	ck_assert_msg(strstr(err, "31 bytes") != NULL, "%s", err);
	ck_assert(strstr(err, "0123456789") == NULL);
	bw_config_free(&cfg);

	parse_ok(&cfg, "database { url d }\nredis { url r }\n"
	    "auth { jwt_secret " TEST_SECRET "; access_ttl 600; "
	    "refresh_ttl 60 }");
	ck_assert_int_eq(bw_config_validate(&cfg, err, sizeof(err)), BW_ERROR);
	ck_assert_msg(strstr(err, "refresh_ttl") != NULL, "%s", err);
	bw_config_free(&cfg);

	parse_ok(&cfg, "database { url d }\nredis { url r }\n"
	    "auth { jwt_secret " TEST_SECRET " }");
	ck_assert_int_eq(bw_config_validate(&cfg, err, sizeof(err)), BW_OK);
	/* Fields changed after parsing are range-checked again. */
	cfg.port = 70000;
	ck_assert_int_eq(bw_config_validate(&cfg, err, sizeof(err)), BW_ERROR);
	ck_assert_msg(strstr(err, "server port is 70000") != NULL, "%s", err);
	cfg.port = 80;
	cfg.redis_timeout_ms = 1000;
	ck_assert_int_eq(bw_config_validate(&cfg, err, sizeof(err)), BW_ERROR);
	ck_assert_msg(strstr(err, "redis timeout_ms") != NULL, "%s", err);
	bw_config_free(&cfg);
}
END_TEST

START_TEST(load_reads_a_file)
{
	struct bw_config	cfg;
	char			path[] = "/tmp/billow-test-config-XXXXXX";
	char			err[512];
	FILE			*fp;
	int			fd;

	fd = mkstemp(path);
	ck_assert_int_ge(fd, 0);
	fp = fdopen(fd, "w");
	ck_assert_ptr_nonnull(fp);
	fputs("server { workers 5 }\n\nserver { }\n", fp);
	fclose(fp);
	ck_assert_int_eq(bw_config_load(&cfg, path, err, sizeof(err)),
	    BW_ERROR);
	/* The message starts with the file's own name and the line. */
	ck_assert_msg(strncmp(err, path, strlen(path)) == 0 &&
	    strncmp(err + strlen(path), ":3: duplicate server block ",
	    27) == 0,
	    "%s", err);

	fp = fopen(path, "w");
	ck_assert_ptr_nonnull(fp);
	fputs("server { workers 5 }\n", fp);
	fclose(fp);
	ck_assert_msg(bw_config_load(&cfg, path, err, sizeof(err)) == BW_OK,
	    "%s", err);
	ck_assert_int_eq(cfg.workers, 5);
	ck_assert_str_eq(cfg.path, path);
	bw_config_free(&cfg);

	/* The parser would stop at a NUL; the loader refuses the file. */
	fp = fopen(path, "w");
	ck_assert_ptr_nonnull(fp);
	fwrite("server { }\n\0x", 1, 14, fp);
	fclose(fp);
	ck_assert_int_eq(bw_config_load(&cfg, path, err, sizeof(err)),
	    BW_ERROR);
	ck_assert_msg(strstr(err, ":2: NUL byte") != NULL, "%s", err);
	unlink(path);

	ck_assert_int_eq(bw_config_load(&cfg, path, err, sizeof(err)),
	    BW_ERROR);
	ck_assert_msg(strncmp(err, path, strlen(path)) == 0 &&
	    strstr(err, "cannot open") != NULL, "%s", err);
	bw_config_free(&cfg);
}
END_TEST

/* The checked-in configurations parse and validate (run from the root). */
START_TEST(shipped_configs_are_valid)
{
	static const char *const files[] = {
		"conf/billow.conf", "conf/billow.test.conf"
	};
	struct bw_config	cfg;
	char			err[512];
	size_t			i;

	env_clear();
	for (i = 0; i < BW_NELEM(files); i++) {
		ck_assert_msg(bw_config_load(&cfg, files[i], err,
		    sizeof(err)) == BW_OK, "%s", err);
		ck_assert_msg(bw_config_validate(&cfg, err, sizeof(err)) ==
		    BW_OK, "%s", err);
		ck_assert_int_eq(cfg.webhook_allow_loopback, 1);
		ck_assert_uint_eq(strlen(cfg.jwt_secret), 48);
		bw_config_free(&cfg);
	}
	ck_assert_int_eq(bw_config_load(&cfg, files[1], err, sizeof(err)),
	    BW_OK);
	ck_assert_int_eq(cfg.port, 18080);
	ck_assert_int_eq(cfg.webhook_retry_base_s, 1);
	bw_config_free(&cfg);
}
END_TEST

Suite *
suite_config(void)
{
	Suite	*s = suite_create("config");
	TCase	*tc = tcase_create("config");

	tcase_add_test(tc, defaults_are_documented_values);
	tcase_add_test(tc, one_line_blocks_with_semicolons);
	tcase_add_test(tc, multi_line_blocks_with_comments);
	tcase_add_test(tc, quoted_strings_and_escapes);
	tcase_add_test(tc, plugin_blocks_keep_settings_in_order);
	tcase_add_loop_test(tc, errors_name_file_and_line, 0,
	    BW_NELEM(bad_configs));
	tcase_add_test(tc, error_message_is_truncated_safely);
	tcase_add_test(tc, env_overrides_apply);
	tcase_add_test(tc, env_unset_or_empty_changes_nothing);
	tcase_add_loop_test(tc, env_loopback_accepts_booleans, 0,
	    BW_NELEM(loopback_values));
	tcase_add_loop_test(tc, env_malformed_is_an_error_naming_the_variable,
	    0, BW_NELEM(bad_env));
	tcase_add_test(tc, validate_requires_secret_and_services);
	tcase_add_test(tc, load_reads_a_file);
	tcase_add_test(tc, shipped_configs_are_valid);
	suite_add_tcase(s, tc);
	return s;
}
