/*
 * PostgreSQL connection and tenant transactions. One struct bw_db belongs
 * to one thread: a Kore task thread or a `billow worker`. Every tenant
 * transaction sets app.tenant_id and app.livemode with set_config(.., true)
 * so row-level security confines it; the context dies with the transaction.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/core.h"
#include "db/db.h"

#define DB_QUEUE_MAX	48
#define DB_QUEUE_PARAMS	16

struct db_queued {
	const char	*sql;
	int		 n;
	char		*params[DB_QUEUE_PARAMS];
};

/*
 * Named prepared statements, per connection: planning the RLS-wrapped
 * queries costs more than running them (1.5 ms per subquery measured), so
 * every statement is prepared once and then only bound and executed.
 */
#define DB_STMT_SLOTS	512
/* Results in one pipeline: each statement may add a PREPARE. */
#define DB_PIPE_MAX	(2 * DB_QUEUE_MAX + 16)

struct db_stmt {
	uint64_t	 hash;
	char		*sql;
	int		 prepared;	/* exists on the server */
	int		 fresh;		/* prepared in the pipeline in flight */
};

struct bw_db {
	struct db_queued	 queue[DB_QUEUE_MAX];
	int			 nqueue;
	struct db_stmt		 stmts[DB_STMT_SLOTS];
	int			 nstmts;
	int			 ro;	/* per-statement context, no BEGIN */
	PGconn	*conn;
	char	*url;
	char	 options[128];
	int	 in_tx;
	int	 pending_begin;
	int	 pending_admin;
	char	 tenant_id[64];
	int	 livemode;
	int	 lost;
	char	 sqlstate[6];
	char	 constraint[64];
	char	 errmsg[256];
};

static void	db_queue_clear(struct bw_db *);
static void	stmt_clear(struct bw_db *);

#define SQL_CONTEXT \
	"SELECT set_config('app.tenant_id', $1, true), " \
	"set_config('app.livemode', $2, true)"
#define SQL_ADMIN \
	"SELECT set_config('app.platform_admin', 'on', true)"

struct bw_db *
bw_db_new(const char *url, int statement_timeout_ms)
{
	struct bw_db	*db;

	db = bw_calloc(1, sizeof(*db));
	db->url = bw_strdup(url);
	/*
	 * The server runs as billow_app, which owns no table, so row-level
	 * security applies to every statement (DESIGN.md "Data").
	 */
	snprintf(db->options, sizeof(db->options),
	    "-c statement_timeout=%d -c role=" BW_DB_APP_ROLE,
	    statement_timeout_ms);
	return db;
}

struct bw_db *
bw_db_new_owner(const char *url)
{
	struct bw_db	*db;

	db = bw_calloc(1, sizeof(*db));
	db->url = bw_strdup(url);
	snprintf(db->options, sizeof(db->options), "-c statement_timeout=0");
	return db;
}

PGconn *
bw_db_conn(struct bw_db *db)
{
	return db->conn;
}

void
bw_db_free(struct bw_db *db)
{
	if (db == NULL)
		return;
	db_queue_clear(db);
	stmt_clear(db);
	if (db->conn != NULL)
		PQfinish(db->conn);
	free(db->url);
	free(db);
}

static void
db_clear_error(struct bw_db *db)
{
	db->sqlstate[0] = '\0';
	db->constraint[0] = '\0';
	db->errmsg[0] = '\0';
	db->lost = 0;
}

static void
db_set_error(struct bw_db *db, const PGresult *res)
{
	const char	*s;

	if (db->sqlstate[0] != '\0')
		return;		/* keep the first error of a pipeline */
	if (res != NULL) {
		s = PQresultErrorField(res, PG_DIAG_SQLSTATE);
		snprintf(db->sqlstate, sizeof(db->sqlstate), "%s",
		    s != NULL ? s : "XX000");
		s = PQresultErrorField(res, PG_DIAG_CONSTRAINT_NAME);
		snprintf(db->constraint, sizeof(db->constraint), "%s",
		    s != NULL ? s : "");
		snprintf(db->errmsg, sizeof(db->errmsg), "%s",
		    PQresultErrorMessage(res));
	} else {
		snprintf(db->sqlstate, sizeof(db->sqlstate), "08006");
		snprintf(db->errmsg, sizeof(db->errmsg), "%s",
		    db->conn != NULL ? PQerrorMessage(db->conn) : "no connection");
	}
	/*
	 * A connection failure, the server shutting down (57P01..57P03) or a
	 * client-side error with no SQLSTATE means the database went away:
	 * callers answer 503, and the connection is dropped so the next
	 * statement reconnects.
	 */
	if (db->conn == NULL || PQstatus(db->conn) != CONNECTION_OK ||
	    (res != NULL && PQresultErrorField(res, PG_DIAG_SQLSTATE) == NULL) ||
	    strncmp(db->sqlstate, "08", 2) == 0 ||
	    strncmp(db->sqlstate, "57P", 3) == 0) {
		db->lost = 1;
		snprintf(db->sqlstate, sizeof(db->sqlstate), "08006");
	}
}

/* After a lost connection: forget it and the transaction on it. */
static void
db_drop_if_lost(struct bw_db *db)
{
	if (!db->lost || db->conn == NULL)
		return;
	PQfinish(db->conn);
	db->conn = NULL;
	stmt_clear(db);
	db->in_tx = 0;
	db->pending_begin = 0;
}

int
bw_db_ensure(struct bw_db *db)
{
	const char	*keys[] = { "dbname", "options", "gssencmode",
			    "connect_timeout", "application_name", NULL };
	const char	*vals[] = { db->url, db->options, "disable", "2",
			    "billow", NULL };

	if (db->conn != NULL && PQstatus(db->conn) == CONNECTION_OK)
		return BW_OK;
	if (db->conn != NULL) {
		PQfinish(db->conn);
		db->conn = NULL;
	}
	db->in_tx = 0;
	db->pending_begin = 0;
	stmt_clear(db);
	db->conn = PQconnectdbParams(keys, vals, 1);
	if (PQstatus(db->conn) != CONNECTION_OK) {
		db_clear_error(db);
		db->lost = 1;
		snprintf(db->sqlstate, sizeof(db->sqlstate), "08006");
		snprintf(db->errmsg, sizeof(db->errmsg), "%s",
		    PQerrorMessage(db->conn));
		PQfinish(db->conn);
		db->conn = NULL;
		return BW_ERROR;
	}
	return BW_OK;
}

int
bw_db_conn_lost(const struct bw_db *db)
{
	return db->lost;
}

int
bw_db_begin(struct bw_db *db, const char *tenant_id, int livemode)
{
	db_clear_error(db);
	if (bw_db_ensure(db) != BW_OK)
		return BW_ERROR;
	snprintf(db->tenant_id, sizeof(db->tenant_id), "%s",
	    tenant_id != NULL ? tenant_id : "");
	db->livemode = livemode;
	db->pending_begin = 1;
	db->pending_admin = 0;
	db->ro = 0;
	db_queue_clear(db);
	db->in_tx = 1;
	return BW_OK;
}

int
bw_db_begin_ro(struct bw_db *db, const char *tenant_id, int livemode,
    int admin)
{
	if (bw_db_begin(db, tenant_id, livemode) != BW_OK)
		return BW_ERROR;
	db->pending_begin = 0;
	db->pending_admin = admin;
	db->ro = 1;
	return BW_OK;
}

int
bw_db_begin_admin(struct bw_db *db)
{
	if (bw_db_begin(db, NULL, 0) != BW_OK)
		return BW_ERROR;
	db->pending_admin = 1;
	return BW_OK;
}

int
bw_db_in_tx(const struct bw_db *db)
{
	return db->in_tx;
}

static void
db_queue_clear(struct bw_db *db)
{
	int	i, j;

	for (i = 0; i < db->nqueue; i++)
		for (j = 0; j < db->queue[i].n; j++) {
			free(db->queue[i].params[j]);
			db->queue[i].params[j] = NULL;
		}
	db->nqueue = 0;
}

int
bw_db_queue(struct bw_db *db, const char *sql, int n,
    const char *const *params)
{
	struct db_queued	*q;
	PGresult		*res;
	int			 i;

	if (n > DB_QUEUE_PARAMS)
		return BW_ERROR;
	if (db->nqueue >= DB_QUEUE_MAX) {
		/* Full: send what is queued now, in one round trip. */
		if ((res = bw_db_query(db, "SELECT 1", 0, NULL)) == NULL)
			return BW_ERROR;
		PQclear(res);
	}
	q = &db->queue[db->nqueue++];
	q->sql = sql;
	q->n = n;
	for (i = 0; i < n; i++)
		q->params[i] = params[i] != NULL ? bw_strdup(params[i]) : NULL;
	return BW_OK;
}

static uint64_t
stmt_hash(const char *sql)
{
	uint64_t	h = 1469598103934665603ULL;

	for (; *sql != '\0'; sql++) {
		h ^= (unsigned char)*sql;
		h *= 1099511628211ULL;
	}
	return h;
}

static void
stmt_clear(struct bw_db *db)
{
	int	i;

	for (i = 0; i < DB_STMT_SLOTS; i++) {
		free(db->stmts[i].sql);
		db->stmts[i].sql = NULL;
		db->stmts[i].hash = 0;
		db->stmts[i].prepared = 0;
		db->stmts[i].fresh = 0;
	}
	db->nstmts = 0;
}

/*
 * After a pipeline: a PREPARE whose result was never read (the connection
 * broke) is unknown; it is prepared again next time. Slots stay in the
 * table, so probe chains stay intact.
 */
static void
stmt_settle(struct bw_db *db, int ok)
{
	int	i;

	for (i = 0; i < DB_STMT_SLOTS; i++) {
		if (!db->stmts[i].fresh)
			continue;
		db->stmts[i].fresh = 0;
		db->stmts[i].prepared = ok;
	}
}

/*
 * Queues SQL on the pipeline, preparing it first if this connection has
 * not seen it. Returns the number of results it will produce (1 or 2), or
 * -1 when libpq refused to queue.
 */
static int
db_send(struct bw_db *db, const char *sql, int n, const char *const *params,
    int *prep_slot)
{
	struct db_stmt	*st = NULL;
	uint64_t	 h;
	char		 name[24];
	int		 i, slot, out = 1;

	*prep_slot = -1;
	h = stmt_hash(sql);
	for (i = 0; i < DB_STMT_SLOTS; i++) {
		slot = (int)((h + (uint64_t)i) % DB_STMT_SLOTS);
		if (db->stmts[slot].sql == NULL) {
			if (db->nstmts < DB_STMT_SLOTS * 3 / 4)
				st = &db->stmts[slot];
			break;
		}
		if (db->stmts[slot].hash == h &&
		    strcmp(db->stmts[slot].sql, sql) == 0) {
			st = &db->stmts[slot];
			break;
		}
	}
	if (st == NULL) {
		/* Table full: run unprepared rather than fail. */
		return PQsendQueryParams(db->conn, sql, n, NULL, params, NULL,
		    NULL, 0) ? 1 : -1;
	}
	snprintf(name, sizeof(name), "bw%016llx", (unsigned long long)h);
	if (st->sql == NULL) {
		st->sql = bw_strdup(sql);
		st->hash = h;
		db->nstmts++;
	}
	if (!st->prepared && !st->fresh) {
		if (!PQsendPrepare(db->conn, name, sql, n, NULL))
			return -1;
		st->fresh = 1;
		*prep_slot = (int)(st - db->stmts);
		out = 2;
	}
	if (!PQsendQueryPrepared(db->conn, name, n, params, NULL, NULL, 0))
		return -1;
	return out;
}

/*
 * Sends one pipeline: the transaction's opening (BEGIN and the tenant
 * context) if still pending, or the context alone in read-only mode,
 * then the queued statements, SQL, and COMMIT if asked; reads the results
 * back in order. Returns SQL's result or NULL.
 */
static PGresult *
db_pipeline(struct bw_db *db, const char *sql, int n,
    const char *const *params, int commit)
{
	const char	*ctx[2];
	PGresult	*res, *want = NULL;
	int		 i, k, nsent = 0, target = -1, failed = 0, ps;
	int		 pslot[DB_PIPE_MAX];
	ExecStatusType	 st;

	for (i = 0; i < DB_PIPE_MAX; i++)
		pslot[i] = -1;

	if (!PQenterPipelineMode(db->conn))
		goto lost;
	if (db->pending_begin || db->ro) {
		ctx[0] = db->tenant_id;
		ctx[1] = db->livemode ? "true" : "false";
		if (!db->ro) {
			if (!PQsendQueryParams(db->conn, "BEGIN", 0, NULL, NULL,
			    NULL, NULL, 0))
				goto lost;
			nsent++;
		}
		if ((k = db_send(db, SQL_CONTEXT, 2, ctx, &ps)) < 0)
			goto lost;
		if (ps >= 0)
			pslot[nsent] = ps;
		nsent += k;
		if (db->pending_admin) {
			if ((k = db_send(db, SQL_ADMIN, 0, NULL, &ps)) < 0)
				goto lost;
			if (ps >= 0)
				pslot[nsent] = ps;
			nsent += k;
		}
		db->pending_begin = 0;
	}
	for (i = 0; i < db->nqueue; i++) {
		if ((k = db_send(db, db->queue[i].sql, db->queue[i].n,
		    (const char *const *)db->queue[i].params, &ps)) < 0)
			goto lost;
		if (ps >= 0)
			pslot[nsent] = ps;
		nsent += k;
	}
	db_queue_clear(db);
	if ((k = db_send(db, sql, n, params, &ps)) < 0)
		goto lost;
	if (ps >= 0)
		pslot[nsent] = ps;
	nsent += k;
	target = nsent - 1;
	if (commit) {
		if (!PQsendQueryParams(db->conn, "COMMIT", 0, NULL, NULL, NULL,
		    NULL, 0))
			goto lost;
		nsent++;
	}
	if (!PQpipelineSync(db->conn))
		goto lost;

	for (i = 0; i < nsent; i++) {
		if ((res = PQgetResult(db->conn)) == NULL)
			goto lost;
		st = PQresultStatus(res);
		if (i < DB_PIPE_MAX && pslot[i] >= 0) {
			/* Known to exist on the server only when it worked. */
			db->stmts[pslot[i]].prepared = st == PGRES_COMMAND_OK;
			db->stmts[pslot[i]].fresh = 0;
		}
		if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) {
			if (st != PGRES_PIPELINE_ABORTED)
				db_set_error(db, res);
			failed = 1;
		}
		if (i == target && !failed)
			want = res;
		else
			PQclear(res);
		/* Each statement's results end with a NULL. */
		while ((res = PQgetResult(db->conn)) != NULL)
			PQclear(res);
	}
	/* Then the sync point. */
	while ((res = PQgetResult(db->conn)) != NULL) {
		st = PQresultStatus(res);
		PQclear(res);
		if (st == PGRES_PIPELINE_SYNC)
			break;
	}
	if (!PQexitPipelineMode(db->conn))
		goto lost;
	stmt_settle(db, 0);
	if (failed) {
		if (want != NULL)
			PQclear(want);
		db_drop_if_lost(db);
		return NULL;
	}
	if (commit)
		db->in_tx = 0;
	return want;

lost:
	db_queue_clear(db);
	if (want != NULL)
		PQclear(want);
	db_set_error(db, NULL);
	db->lost = 1;
	PQfinish(db->conn);
	db->conn = NULL;
	stmt_clear(db);
	db->in_tx = 0;
	db->pending_begin = 0;
	return NULL;
}

static PGresult *
db_run(struct bw_db *db, const char *sql, int n, const char *const *params,
    int commit)
{
	if (!db->in_tx)
		db_clear_error(db);
	if (db->in_tx && db->sqlstate[0] != '\0')
		return NULL;	/* the transaction already failed */
	if (bw_db_ensure(db) != BW_OK)
		return NULL;
	/*
	 * On failure an explicit transaction stays open and aborted until
	 * the caller's commit (which rolls back) or rollback.
	 */
	return db_pipeline(db, sql, n, params, commit && !db->ro);
}

PGresult *
bw_db_query(struct bw_db *db, const char *sql, int n,
    const char *const *params)
{
	return db_run(db, sql, n, params, 0);
}

PGresult *
bw_db_query_commit(struct bw_db *db, const char *sql, int n,
    const char *const *params)
{
	if (!db->in_tx)
		return db_run(db, sql, n, params, 0);
	return db_run(db, sql, n, params, 1);
}

int
bw_db_commit(struct bw_db *db)
{
	PGresult	*res;
	int		 ok;

	if (!db->in_tx)
		return BW_OK;
	if (db->ro) {
		db->in_tx = 0;
		db->ro = 0;
		return db->sqlstate[0] == '\0' ? BW_OK : BW_ERROR;
	}
	if (db->nqueue > 0 && db->sqlstate[0] == '\0') {
		/* Queued statements travel with the COMMIT. */
		if ((res = db_pipeline(db, "SELECT 1", 0, NULL, 1)) == NULL) {
			bw_db_rollback(db);
			return BW_ERROR;
		}
		PQclear(res);
		return BW_OK;
	}
	if (db->pending_begin) {
		/* Nothing was sent: nothing to commit. */
		db->pending_begin = 0;
		db->in_tx = 0;
		return BW_OK;
	}
	if (db->sqlstate[0] != '\0') {
		bw_db_rollback(db);
		return BW_ERROR;
	}
	res = PQexec(db->conn, "COMMIT");
	ok = PQresultStatus(res) == PGRES_COMMAND_OK;
	if (!ok)
		db_set_error(db, res);
	PQclear(res);
	db->in_tx = 0;
	return ok ? BW_OK : BW_ERROR;
}

void
bw_db_rollback(struct bw_db *db)
{
	PGresult	*res;

	/* What was queued never runs. */
	db_queue_clear(db);
	if (!db->in_tx)
		return;
	db->in_tx = 0;
	if (db->ro) {
		db->ro = 0;
		return;
	}
	if (db->pending_begin) {
		db->pending_begin = 0;
		return;
	}
	if (db->conn == NULL || PQstatus(db->conn) != CONNECTION_OK)
		return;
	res = PQexec(db->conn, "ROLLBACK");
	PQclear(res);
}

const char *
bw_db_sqlstate(const struct bw_db *db)
{
	return db->sqlstate;
}

const char *
bw_db_error(const struct bw_db *db)
{
	return db->errmsg;
}

const char *
bw_db_constraint(const struct bw_db *db)
{
	return db->constraint;
}

const char *
bw_db_val(const PGresult *res, int row, const char *col)
{
	int	c;

	if ((c = PQfnumber(res, col)) < 0 || row >= PQntuples(res))
		return NULL;
	if (PQgetisnull(res, row, c))
		return NULL;
	return PQgetvalue(res, row, c);
}

int
bw_db_isnull(const PGresult *res, int row, const char *col)
{
	int	c;

	if ((c = PQfnumber(res, col)) < 0 || row >= PQntuples(res))
		return 1;
	return PQgetisnull(res, row, c);
}

long long
bw_db_int(const PGresult *res, int row, const char *col)
{
	const char	*v;

	if ((v = bw_db_val(res, row, col)) == NULL)
		return 0;
	return strtoll(v, NULL, 10);
}
