/*
 * The migrations runner. Runs in `billow migrate` as the owner role: each
 * file is applied in one transaction together with its schema_migrations
 * row, so a failure leaves the schema as it was before that file.
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auth/crypto.h"
#include "core/core.h"
#include "db/db.h"
#include "db/migrate.h"
#include "server/params.h"

#define MIGRATE_LOCK	"SELECT pg_advisory_lock(4242424242)"

static int
name_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int
migration_name_ok(const char *n)
{
	size_t	len = strlen(n);
	int	i;

	if (len < 10 || strcmp(n + len - 4, ".sql") != 0 || n[4] != '_')
		return 0;
	for (i = 0; i < 4; i++)
		if (n[i] < '0' || n[i] > '9')
			return 0;
	return 1;
}

static char *
read_file(const char *path)
{
	struct bw_buf	 b;
	FILE		*fp;
	char		 chunk[8192];
	size_t		 n;

	if ((fp = fopen(path, "r")) == NULL)
		return NULL;
	bw_buf_init(&b);
	while ((n = fread(chunk, 1, sizeof(chunk), fp)) > 0)
		bw_buf_append(&b, chunk, n);
	fclose(fp);
	return bw_buf_release(&b);
}

static int
exec_ok(PGconn *conn, const char *sql)
{
	PGresult	*res;
	int		 ok;

	res = PQexec(conn, sql);
	ok = PQresultStatus(res) == PGRES_COMMAND_OK ||
	    PQresultStatus(res) == PGRES_TUPLES_OK;
	if (!ok)
		fprintf(stderr, "billow migrate: %s", PQresultErrorMessage(res));
	PQclear(res);
	return ok;
}

static int
applied(PGconn *conn, const char *version)
{
	const char	*p[1] = { version };
	PGresult	*res;
	int		 yes;

	res = PQexecParams(conn, "SELECT 1 FROM schema_migrations WHERE "
	    "version = $1", 1, NULL, p, NULL, NULL, 0);
	yes = PQresultStatus(res) == PGRES_TUPLES_OK && PQntuples(res) == 1;
	PQclear(res);
	return yes;
}

static int
apply_one(PGconn *conn, const char *dir, const char *name,
    const char *version)
{
	const char	*p[1] = { version };
	char		 path[1024], *sql;
	PGresult	*res;
	int		 ok;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	if ((sql = read_file(path)) == NULL) {
		fprintf(stderr, "billow migrate: cannot read %s\n", path);
		return BW_ERROR;
	}
	if (!exec_ok(conn, "BEGIN")) {
		free(sql);
		return BW_ERROR;
	}
	ok = exec_ok(conn, sql);
	free(sql);
	if (ok) {
		res = PQexecParams(conn, "INSERT INTO schema_migrations "
		    "(version) VALUES ($1)", 1, NULL, p, NULL, NULL, 0);
		ok = PQresultStatus(res) == PGRES_COMMAND_OK;
		PQclear(res);
	}
	if (!ok) {
		exec_ok(conn, "ROLLBACK");
		fprintf(stderr, "billow migrate: %s failed; nothing of it was "
		    "applied\n", version);
		return BW_ERROR;
	}
	if (!exec_ok(conn, "COMMIT"))
		return BW_ERROR;
	printf("billow migrate: applied %s\n", version);
	return BW_OK;
}

/*
 * Applies DIR's NNNN_name.sql files in order, each once, recorded as
 * PREFIX + file name. A missing directory is fine when OPTIONAL.
 */
static int
apply_dir(PGconn *conn, const char *dir, const char *prefix, int optional,
    size_t *done)
{
	struct dirent	 *de;
	DIR		 *d;
	char		**names = NULL, version[512];
	size_t		  n = 0, i;
	int		  rc = BW_OK;

	if ((d = opendir(dir)) == NULL) {
		if (optional)
			return BW_OK;
		fprintf(stderr, "billow migrate: cannot open %s\n", dir);
		return BW_ERROR;
	}
	while ((de = readdir(d)) != NULL) {
		if (!migration_name_ok(de->d_name))
			continue;
		names = bw_realloc(names, (n + 1) * sizeof(*names));
		names[n++] = bw_strdup(de->d_name);
	}
	closedir(d);
	qsort(names, n, sizeof(*names), name_cmp);
	for (i = 0; i < n && rc == BW_OK; i++) {
		snprintf(version, sizeof(version), "%s%s", prefix, names[i]);
		if (applied(conn, version))
			continue;
		rc = apply_one(conn, dir, names[i], version);
		(*done)++;
	}
	for (i = 0; i < n; i++)
		free(names[i]);
	free(names);
	return rc;
}

int
bw_migrate_run(const struct bw_config *cfg)
{
	struct bw_db	*db;
	PGconn		*conn;
	const char	*pdir;
	char		 dir[1024], prefix[96];
	size_t		 i, done = 0;
	int		 rc;

	db = bw_db_new_owner(cfg->database_url);
	if (bw_db_ensure(db) != BW_OK) {
		fprintf(stderr, "billow migrate: cannot connect to the "
		    "database: %s", bw_db_error(db));
		bw_db_free(db);
		return BW_ERROR;
	}
	conn = bw_db_conn(db);
	if (!exec_ok(conn, "SET client_min_messages = warning") ||
	    !exec_ok(conn, MIGRATE_LOCK) ||
	    !exec_ok(conn, "CREATE TABLE IF NOT EXISTS schema_migrations ("
	    "version text PRIMARY KEY, applied_at timestamptz NOT NULL "
	    "DEFAULT now())")) {
		bw_db_free(db);
		return BW_ERROR;
	}
	rc = apply_dir(conn, cfg->migrations_dir, "", 0, &done);
	/*
	 * Then each configured plugin's own migrations, recorded per plugin
	 * ("analytics:0001_x.sql"), after the core's so they can reference
	 * its tables and functions (billow_tenant(), ...).
	 */
	for (i = 0; i < cfg->nplugins && rc == BW_OK; i++) {
		pdir = bw_config_plugin_get(&cfg->plugins[i], "migrations");
		if (pdir != NULL)
			snprintf(dir, sizeof(dir), "%s", pdir);
		else
			snprintf(dir, sizeof(dir), "plugins/%s/migrations",
			    cfg->plugins[i].name);
		snprintf(prefix, sizeof(prefix), "%s:", cfg->plugins[i].name);
		rc = apply_dir(conn, dir, prefix, pdir == NULL, &done);
	}
	if (rc == BW_OK)
		printf("billow migrate: %zu applied, schema up to date\n",
		    done);
	bw_db_free(db);
	return rc;
}

int
bw_migrate_admin_upsert(const struct bw_config *cfg, const char *email,
    const char *password)
{
	struct bw_db	*db;
	PGresult	*res;
	const char	*p[3];
	char		 id[BW_ID_MAX], *hash;
	int		 ok;

	if (!bw_email_valid(email)) {
		fprintf(stderr, "billow admin: %s is not a valid email\n",
		    email);
		return BW_ERROR;
	}
	if (strlen(password) < 10) {
		fprintf(stderr, "billow admin: the password must have at "
		    "least 10 characters\n");
		return BW_ERROR;
	}
	db = bw_db_new_owner(cfg->database_url);
	if (bw_db_ensure(db) != BW_OK) {
		fprintf(stderr, "billow admin: cannot connect to the "
		    "database: %s", bw_db_error(db));
		bw_db_free(db);
		return BW_ERROR;
	}
	bw_id_new("usr", id);
	hash = bw_password_hash(password);
	p[0] = id;
	p[1] = email;
	p[2] = hash;
	res = PQexecParams(bw_db_conn(db), "INSERT INTO platform_admins "
	    "(id, email, password_hash) VALUES ($1, lower($2), $3) "
	    "ON CONFLICT (email) DO UPDATE SET password_hash = "
	    "excluded.password_hash", 3, NULL, p, NULL, NULL, 0);
	ok = PQresultStatus(res) == PGRES_COMMAND_OK;
	if (!ok)
		fprintf(stderr, "billow admin: %s",
		    PQresultErrorMessage(res));
	PQclear(res);
	free(hash);
	bw_db_free(db);
	return ok ? BW_OK : BW_ERROR;
}
