/*
 * lock.c - the deploy lock: one cairn run at a time per database and
 * schema.
 *
 * A session-level advisory lock whose 64-bit key is an FNV-1a hash of
 * "cairn.deploy:" and the schema name.  Acquiring first tries
 * pg_try_advisory_lock (one round trip when nobody holds it).  When it is
 * busy, the holder is looked up in pg_locks/pg_stat_activity (cairn sets
 * application_name so this says who), the caller is told, and the lock is
 * awaited with pg_advisory_lock under lock_timeout, so the wait costs no
 * polling and a SIGINT (PQcancel) ends it.  The lock is released
 * explicitly, and by the server if the connection dies.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cairn/engine.h"
#include "db.h"
#include "error.h"
#include "util.h"

static int64_t lock_key(cairn_db *db)
{
	const char *prefix = "cairn.deploy:";
	const char *schema = cairn_db_schema(db);
	uint64_t h = 14695981039346656037ULL;

	for (const char *p = prefix; *p; p++)
		h = (h ^ (unsigned char)*p) * 1099511628211ULL;
	for (const char *p = schema; *p; p++)
		h = (h ^ (unsigned char)*p) * 1099511628211ULL;
	return (int64_t)h;
}

static char *holder_of(cairn_db *db, int64_t key)
{
	char classid[32], objid[32];
	const char *params[2] = { classid, objid };
	PGresult *res = NULL;
	char *who = NULL;

	snprintf(classid, sizeof(classid), "%" PRIu64,
		 ((uint64_t)key >> 32) & 0xffffffffu);
	snprintf(objid, sizeof(objid), "%" PRIu64, (uint64_t)key & 0xffffffffu);
	if (cairn_db__query(db, &res,
		"SELECT coalesce(a.application_name, ''), coalesce(a.usename::text, ''), "
		"a.pid, coalesce(to_char(a.backend_start, 'YYYY-MM-DD HH24:MI:SS'), '') "
		"FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid "
		"WHERE l.locktype = 'advisory' AND l.granted "
		"AND l.classid = $1::bigint::oid AND l.objid = $2::bigint::oid "
		"AND l.objsubid = 1 LIMIT 1", 2, params) < 0) {
		cairn_error_clear();
		return NULL;
	}
	if (PQntuples(res) == 1) {
		cairn_buf b = CAIRN_BUF_INIT;

		cairn_buf_printf(&b, "%s (database user %s, pid %s, since %s)",
				 *PQgetvalue(res, 0, 0) ? PQgetvalue(res, 0, 0) : "a session",
				 PQgetvalue(res, 0, 1), PQgetvalue(res, 0, 2),
				 PQgetvalue(res, 0, 3));
		who = cairn_buf_detach(&b);
	}
	PQclear(res);
	return who;
}

int cairn_lock_acquire(cairn_db *db, uint64_t timeout_ms,
		       void (*wait)(const char *holder, void *p),
		       void *payload, volatile sig_atomic_t *cancel)
{
	int64_t key = lock_key(db);
	char keytxt[32], sql[160];
	const char *params[1] = { keytxt };
	PGresult *res = NULL;
	bool got;
	char *who;
	int rc;

	if (!timeout_ms)
		timeout_ms = 60000;
	snprintf(keytxt, sizeof(keytxt), "%" PRId64, key);
	if (cairn_db__query(db, &res, "SELECT pg_try_advisory_lock($1::bigint)",
			    1, params) < 0)
		return CAIRN_ERROR;
	got = !strcmp(PQgetvalue(res, 0, 0), "t");
	PQclear(res);
	if (got)
		return 0;

	who = holder_of(db, key);
	if (wait)
		wait(who ? who : "another session", payload);
	snprintf(sql, sizeof(sql), "SET lock_timeout = '%llums'",
		 (unsigned long long)timeout_ms);
	if (cairn_db_exec(db, sql) < 0)
		goto fail;
	rc = cairn_db__query(db, NULL, "SELECT pg_advisory_lock($1::bigint)",
			     1, params);
	if (rc < 0) {
		const cairn_error *e = cairn_error_last();
		bool timed_out = e && e->sqlstate &&
				 !strcmp(e->sqlstate, "55P03");
		bool cancelled = cancel && *cancel;

		if (!cairn_db_is_ok(db))
			goto fail;
		cairn_db_exec(db, "SET lock_timeout = 0");
		if (cancelled) {
			cairn_error__set(CAIRN_ERRCLASS_INTERRUPTED,
				"interrupted while waiting for the deploy lock");
		} else if (timed_out) {
			cairn_error__set(CAIRN_ERRCLASS_LOCK,
				"the deploy lock was not acquired within %llu ms",
				(unsigned long long)timeout_ms);
			cairn_error__detail("The lock is held by %s.",
					    who ? who : "another session");
			cairn_error__hint("wait for the other run to finish, or raise --lock-timeout");
		}
		free(who);
		return timed_out ? CAIRN_ELOCKED : CAIRN_ERROR;
	}
	free(who);
	return cairn_db_exec(db, "SET lock_timeout = 0");
fail:
	free(who);
	return CAIRN_ERROR;
}

int cairn_lock_release(cairn_db *db)
{
	char keytxt[32];
	const char *params[1] = { keytxt };

	snprintf(keytxt, sizeof(keytxt), "%" PRId64, lock_key(db));
	return cairn_db__query(db, NULL, "SELECT pg_advisory_unlock($1::bigint)",
			       1, params);
}
