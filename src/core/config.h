/*
 * The parsed configuration (conf/billow.conf, grammar in docs/config.md).
 * Read by the parent (`billow serve`, `check-config`), by `billow worker`
 * and, before the sandbox, by the Kore module's parent-configure hook.
 */
#ifndef BW_CONFIG_H
#define BW_CONFIG_H

#include <stddef.h>

/* One `key value...` setting inside a plugin block. */
struct bw_config_kv {
	char	*key;
	char	*value;		/* the rest of the line, trimmed */
	int	 line;
};

struct bw_config_plugin {
	char			*name;
	char			*path;
	struct bw_config_kv	*settings;
	size_t			 nsettings;
	int			 line;
};

struct bw_config {
	char		*path;		/* the file it came from */

	/* server { bind ADDR PORT; workers N; task_threads N; background N } */
	char		*bind_addr;
	int		 port;
	int		 workers;	/* 0 = one per core */
	int		 task_threads;
	int		 background;	/* `billow worker` processes */
	int		 scheduler;	/* run the billing scheduler: 1/0 */
	size_t		 body_max;	/* bytes */

	/* database { url URL; statement_timeout_ms N } */
	char		*database_url;
	int		 statement_timeout_ms;

	/* redis { url URL; timeout_ms N } */
	char		*redis_url;
	int		 redis_timeout_ms;

	/* auth { jwt_secret S; access_ttl S; refresh_ttl S; rate_test N; ... } */
	char		*jwt_secret;
	int		 access_ttl_s;
	int		 refresh_ttl_s;
	int		 rate_test_rps;
	int		 rate_live_rps;
	int		 auth_rate_per_min;
	int		 login_lockout_failures;
	int		 login_lockout_s;

	/* webhooks { retry_base_s N; allow_loopback yes|no } */
	int		 webhook_retry_base_s;
	int		 webhook_allow_loopback;

	/* paths { var DIR; assets DIR; lua DIR; migrations DIR } */
	char		*var_dir;
	char		*assets_dir;
	char		*lua_dir;
	char		*migrations_dir;

	struct bw_config_plugin	*plugins;
	size_t			 nplugins;
};

/*
 * Parses FILE into CFG (defaults first, then the file). On failure returns
 * BW_ERROR and writes "FILE:LINE: reason" into ERR (size ERRLEN).
 * The caller owns CFG and releases it with bw_config_free().
 */
int	bw_config_load(struct bw_config *cfg, const char *file, char *err,
	    size_t errlen);

/* Parses configuration text (NAME is used in messages). Same contract. */
int	bw_config_parse(struct bw_config *cfg, const char *name,
	    const char *text, char *err, size_t errlen);

/*
 * Applies the environment overrides of DESIGN.md "Setup": DATABASE_URL,
 * REDIS_URL, BILLOW_PORT, BILLOW_JWT_SECRET, BILLOW_RATE_LIMIT_TEST_RPS,
 * BILLOW_RATE_LIMIT_LIVE_RPS, BILLOW_AUTH_RATE_PER_MIN,
 * BILLOW_WEBHOOK_RETRY_BASE_S, BILLOW_WEBHOOK_ALLOW_LOOPBACK.
 * Returns BW_ERROR with a reason in ERR when a value is malformed.
 */
int	bw_config_env(struct bw_config *cfg, char *err, size_t errlen);

/* Checks cross-field rules (a JWT secret of 32+ bytes, ports in range...). */
int	bw_config_validate(const struct bw_config *cfg, char *err,
	    size_t errlen);

void	bw_config_defaults(struct bw_config *cfg);
void	bw_config_free(struct bw_config *cfg);

/* Settings of plugin NAME: value of KEY, or NULL. */
const char	*bw_config_plugin_get(const struct bw_config_plugin *,
		    const char *key);

#endif
