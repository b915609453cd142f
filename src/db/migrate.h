/*
 * Schema migrations and operator commands that run as the database URL's
 * own role (not billow_app): `billow migrate` and `billow admin create`.
 * Runs in the CLI process only.
 */
#ifndef BW_MIGRATE_H
#define BW_MIGRATE_H

#include "core/config.h"

/*
 * Applies migrations/NNNN_name.sql in order, each once, each in its own
 * transaction, recorded in schema_migrations. Concurrent runs serialise on
 * an advisory lock. Prints one line per applied file.
 */
int	bw_migrate_run(const struct bw_config *);

/* Creates the platform admin EMAIL, or sets its password if it exists. */
int	bw_migrate_admin_upsert(const struct bw_config *, const char *email,
	    const char *password);

#endif
