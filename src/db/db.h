/*
 * PostgreSQL access: one connection per task thread (or per background
 * worker), transactions that carry the tenant's row-level security context,
 * and libpq pipelining so BEGIN, the context and the first statement cost
 * one round trip. SQL is always parameterised; nothing here logs values.
 */
#ifndef BW_DB_H
#define BW_DB_H

#include <libpq-fe.h>

struct bw_db;

/* Connects lazily; URL gets gssencmode=disable (KORE.md). */
struct bw_db	*bw_db_new(const char *url, int statement_timeout_ms);
/* A connection as the URL's own role (migrations, admin CLI). */
struct bw_db	*bw_db_new_owner(const char *url);
void		 bw_db_free(struct bw_db *);
/* The raw connection (after bw_db_ensure), for migrations only. */
PGconn		*bw_db_conn(struct bw_db *);

#define BW_DB_APP_ROLE	"billow_app"

/*
 * Makes sure the connection is up, reconnecting when it broke.
 * BW_ERROR when the database cannot be reached (callers answer 503).
 */
int		 bw_db_ensure(struct bw_db *);
/* 1 when the last failure was a lost connection rather than bad SQL. */
int		 bw_db_conn_lost(const struct bw_db *);

/*
 * Opens a transaction in TENANT_ID's context (NULL: no tenant, so every
 * tenant table reads as empty) and LIVEMODE. Nothing is sent until the
 * first statement, which travels with BEGIN and the context in one
 * pipeline. ADMIN sets app.platform_admin for the tenants table only.
 */
int		 bw_db_begin(struct bw_db *, const char *tenant_id,
		    int livemode);
int		 bw_db_begin_admin(struct bw_db *);
/*
 * A read-only unit of work: no BEGIN/COMMIT; every statement travels in
 * its own pipeline with the context, as one implicit transaction (each
 * statement sees a fresh snapshot, as under READ COMMITTED anyway). For
 * GET requests: one round trip per statement. ADMIN as bw_db_begin_admin.
 */
int		 bw_db_begin_ro(struct bw_db *, const char *tenant_id,
		    int livemode, int admin);

/*
 * Runs SQL with text parameters (NULL = SQL NULL). Returns the result,
 * which the caller PQclear()s, or NULL on any error (the transaction is
 * then aborted; bw_db_error() tells why). Inside a transaction opened by
 * bw_db_begin; outside one it autocommits.
 */
PGresult	*bw_db_query(struct bw_db *, const char *sql, int nparams,
		    const char *const *params);

/*
 * Same, and commits in the same round trip when the statement succeeds.
 * Used as a transaction's last statement.
 */
PGresult	*bw_db_query_commit(struct bw_db *, const char *sql,
		    int nparams, const char *const *params);

/*
 * Queues a statement to travel ahead of the next one in the same pipeline;
 * its rows are discarded, but its failure fails the transaction (the next
 * statement then returns NULL with this one's SQLSTATE). Params are copied.
 */
int		 bw_db_queue(struct bw_db *, const char *sql, int nparams,
		    const char *const *params);

int		 bw_db_commit(struct bw_db *);
void		 bw_db_rollback(struct bw_db *);
/* 1 while a transaction is open (begun and not yet ended). */
int		 bw_db_in_tx(const struct bw_db *);

/* SQLSTATE of the last failed statement ("" if none), e.g. "23505". */
const char	*bw_db_sqlstate(const struct bw_db *);
/* The last error's message, for logs only (never sent to clients). */
const char	*bw_db_error(const struct bw_db *);
/* Name of the constraint the last failure violated, or "". */
const char	*bw_db_constraint(const struct bw_db *);

/* Helpers over a result. */
const char	*bw_db_val(const PGresult *, int row, const char *col);
int		 bw_db_isnull(const PGresult *, int row, const char *col);
long long	 bw_db_int(const PGresult *, int row, const char *col);

#endif
