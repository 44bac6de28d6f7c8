/*
 * lockplan_db.c - the sizes of the relations a lock plan names, and how
 * many other sessions are using them right now.
 *
 * Two queries per relation.  The first takes no lock: it resolves the
 * name through the connection's search_path (to_regclass on the quoted
 * name, so case and odd characters survive), finds an index's table,
 * and counts the other backends that hold or wait for a lock on the
 * relation or on that table in pg_locks (a session in the middle of a
 * transaction that touched the table, a long report, autovacuum).  The
 * second reads pg_total_relation_size (table, indexes and TOAST), which
 * opens the relation and so needs ACCESS SHARE: under a short
 * lock_timeout, so that a relation held ACCESS EXCLUSIVE by someone
 * else gives "size unknown" (-1) instead of a plan that hangs.  The
 * session's lock_timeout is put back afterwards.
 */
#include <stdlib.h>
#include <string.h>

#include "cairn/lockplan.h"
#include "db.h"
#include "util/error.h"
#include "util/util.h"

#define RESOLVE_SQL \
	"SELECT c.oid::pg_catalog.text," \
	" (SELECT pg_catalog.count(DISTINCT l.pid) FROM pg_catalog.pg_locks l" \
	"   WHERE l.locktype = 'relation'" \
	"     AND l.database = (SELECT d.oid FROM pg_catalog.pg_database d" \
	"                        WHERE d.datname = pg_catalog.current_database())" \
	"     AND l.relation IN (c.oid, COALESCE(i.indrelid, c.oid))" \
	"     AND l.pid <> pg_catalog.pg_backend_pid())," \
	" CASE WHEN i.indrelid IS NOT NULL" \
	"      THEN i.indrelid::pg_catalog.regclass::pg_catalog.text END" \
	" FROM pg_catalog.pg_class c" \
	" LEFT JOIN pg_catalog.pg_index i ON i.indexrelid = c.oid" \
	" WHERE c.oid = pg_catalog.to_regclass(CASE WHEN $1::pg_catalog.text IS NULL" \
	"   THEN pg_catalog.quote_ident($2)" \
	"   ELSE pg_catalog.quote_ident($1) || '.' || pg_catalog.quote_ident($2) END)"

#define SIZE_SQL \
	"SELECT pg_catalog.pg_total_relation_size($1::pg_catalog.oid)," \
	" pg_catalog.pg_size_pretty(pg_catalog.pg_total_relation_size($1::pg_catalog.oid))"

/* How long to wait for ACCESS SHARE before calling the size unknown. */
#define SIZE_LOCK_TIMEOUT "2s"

static int set_lock_timeout(cairn_db *db, const char *value, char **old)
{
	const char *params[1] = { value };
	PGresult *res;

	if (old) {
		if (cairn_db__query(db, &res, "SELECT pg_catalog.current_setting('lock_timeout')",
				    0, NULL) < 0)
			return CAIRN_ERROR;
		*old = cairn__strdup(PQgetvalue(res, 0, 0));
		PQclear(res);
		if (!*old)
			return CAIRN_ERROR;
	}
	return cairn_db__query(db, NULL,
			       "SELECT pg_catalog.set_config('lock_timeout', $1, false)",
			       1, params);
}

static int64_t to_int64(const char *s)
{
	char *end;
	long long v = strtoll(s, &end, 10);

	return *s && !*end ? (int64_t)v : 0;
}

/* The size, or -1 when the relation stays locked past the timeout. */
static int read_size(cairn_db *db, const char *oid, cairn_lock_target *t)
{
	const char *params[1] = { oid };
	const cairn_error *e;
	PGresult *res;

	if (cairn_db__query(db, &res, SIZE_SQL, 1, params) < 0) {
		e = cairn_error_last();
		if (!e || !e->sqlstate || strcmp(e->sqlstate, "55P03"))
			return CAIRN_ERROR;
		cairn_error_clear();
		t->size_bytes = -1;
		return 0;
	}
	t->size_bytes = to_int64(PQgetvalue(res, 0, 0));
	t->size_text = cairn__strdup(PQgetvalue(res, 0, 1));
	PQclear(res);
	return t->size_text ? 0 : CAIRN_ERROR;
}

static int target_stats(cairn_db *db, cairn_lock_target *t)
{
	const char *params[2] = { t->schema, t->name };
	PGresult *res;
	char *oid;
	int rc;

	if (cairn_db__query(db, &res, RESOLVE_SQL, 2, params) < 0)
		return CAIRN_ERROR;
	if (PQntuples(res) != 1) {
		PQclear(res); /* not there (yet): no figures */
		return 0;
	}
	t->has_stats = true;
	t->sessions = to_int64(PQgetvalue(res, 0, 1));
	if (!PQgetisnull(res, 0, 2) &&
	    !(t->table = cairn__strdup(PQgetvalue(res, 0, 2)))) {
		PQclear(res);
		return CAIRN_ERROR;
	}
	oid = cairn__strdup(PQgetvalue(res, 0, 0));
	PQclear(res);
	if (!oid)
		return CAIRN_ERROR;
	rc = read_size(db, oid, t);
	free(oid);
	return rc;
}

int cairn_lock_plan_stats(cairn_lock_plan *plan, cairn_db *db)
{
	char *old = NULL;
	int rc = 0;

	if (!plan || !db)
		return 0;
	if (set_lock_timeout(db, SIZE_LOCK_TIMEOUT, &old) < 0)
		return CAIRN_ERROR;
	for (size_t i = 0; i < plan->count && !rc; i++) {
		cairn_lock_statement *st = &plan->items[i];

		for (size_t j = 0; j < st->target_count && !rc; j++)
			if (!st->targets[j].created)
				rc = target_stats(db, &st->targets[j]);
	}
	if (rc < 0) {
		cairn_error_saved saved;

		cairn_error__save(&saved);
		(void)set_lock_timeout(db, old, NULL);
		cairn_error__restore(&saved);
	} else {
		rc = set_lock_timeout(db, old, NULL);
	}
	free(old);
	return rc < 0 ? CAIRN_ERROR : 0;
}
