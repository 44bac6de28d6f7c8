/*
 * lock.c - the deploy lock: one cairn run at a time per database and
 * schema.
 *
 * A session-level advisory lock whose 64-bit key is an FNV-1a hash of
 * "cairn.deploy:" and the schema name.  The lock is released explicitly,
 * and by the server if the connection dies.
 *
 * Waiting holds no snapshot and no transaction.  A blocking
 * pg_advisory_lock() would: its statement keeps a snapshot for as long as
 * it waits, and a CREATE INDEX CONCURRENTLY run by the holder waits for
 * every older snapshot in the database before it finishes, so the two
 * wait for each other until the server's deadlock detector kills one.  So
 * the lock is polled with pg_try_advisory_lock(), each try a statement of
 * its own outside any transaction block, and between tries the session is
 * idle.  The pauses start short (a lock held for a moment is taken almost
 * at once), double up to a cap, and carry jitter so that several waiters
 * do not poll in step.  The session's settings are not touched (a role's
 * or database's lock_timeout stays in force for the migrations), the
 * deadline is kept on the client's monotonic clock, and a cancel flag set
 * by a signal handler ends the wait between tries (a signal also
 * interrupts the pause).
 *
 * When the lock is busy, the holder is looked up in pg_locks and
 * pg_stat_activity, in this database only (advisory locks are per
 * database; a session holding the same key elsewhere is not in the way),
 * and the caller is told.  cairn sets application_name, so this says who.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cairn/engine.h"
#include "db.h"
#include "pooler.h"
#include "util/error.h"
#include "util/util.h"

/* Pauses between tries: the first, the cap, in milliseconds. */
#define WAIT_FIRST_MS 10
#define WAIT_MAX_MS 500

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

/* Who holds the key in this database, or NULL when unknown. */
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
		"AND l.database = (SELECT oid FROM pg_database "
		"WHERE datname = current_database()) "
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

static int interrupted(void)
{
	return cairn_error__set(CAIRN_ERRCLASS_INTERRUPTED,
				"interrupted while waiting for the deploy lock");
}

/*
 * One pg_try_advisory_lock(): a statement of its own, no transaction.  A
 * try cut short by the signal handler's PQcancel counts as interrupted.
 */
static int try_lock(bool *got, cairn_db *db, const char *keytxt,
		    volatile sig_atomic_t *cancel)
{
	const char *params[1] = { keytxt };
	PGresult *res = NULL;

	*got = false;
	if (cairn_db__query(db, &res, "SELECT pg_try_advisory_lock($1::bigint)",
			    1, params) < 0) {
		if (cancel && *cancel && cairn_db_is_ok(db)) {
			cairn_error_clear();
			return interrupted();
		}
		return CAIRN_ERROR;
	}
	*got = PQntuples(res) == 1 && !strcmp(PQgetvalue(res, 0, 0), "t");
	PQclear(res);
	return 0;
}

/* A small generator for the jitter (xorshift64). */
static uint64_t next_random(uint64_t *state)
{
	uint64_t x = *state;

	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	*state = x;
	return x;
}

/* The pause before the next try: step +/- a quarter, at most `left`. */
static int64_t pause_ms(int64_t step, int64_t left, uint64_t *rnd)
{
	int64_t spread = step / 2 + 1;
	int64_t ms = step - step / 4 + (int64_t)(next_random(rnd) % (uint64_t)spread);

	if (ms < 1)
		ms = 1;
	return ms < left ? ms : left;
}

/* Sleeps ms, or less when a signal arrives (the caller checks why). */
static void pause_for(int64_t ms)
{
	struct timespec ts;

	ts.tv_sec = (time_t)(ms / 1000);
	ts.tv_nsec = (long)(ms % 1000) * 1000000L;
	(void)nanosleep(&ts, NULL);
}

static int timed_out(cairn_db *db, int64_t key, uint64_t timeout_ms,
		     const char *first_holder)
{
	/* who holds it now, at the end of the wait */
	char *who = holder_of(db, key);
	const char *named = who ? who : first_holder;

	cairn_error__set(CAIRN_ERRCLASS_LOCK,
			 "the deploy lock was not acquired within %llu ms",
			 (unsigned long long)timeout_ms);
	cairn_error__detail("The lock is held by %s.",
			    named ? named : "another session");
	cairn_error__hint("wait for the other run to finish, or raise --lock-timeout");
	free(who);
	return CAIRN_ELOCKED;
}

/* Polls until the lock is taken, the deadline passes or *cancel is set. */
static int wait_for_lock(cairn_db *db, int64_t key, const char *keytxt,
			 uint64_t timeout_ms, const char *holder,
			 volatile sig_atomic_t *cancel)
{
	int64_t deadline = cairn__now_ms() + (int64_t)timeout_ms;
	int64_t step = WAIT_FIRST_MS;
	uint64_t rnd = ((uint64_t)cairn__now_us() << 16) ^ (uint64_t)getpid();
	bool got = false;

	if (!rnd)
		rnd = 1;
	for (;;) {
		int64_t left = deadline - cairn__now_ms();

		if (cancel && *cancel)
			return interrupted();
		if (left <= 0)
			return timed_out(db, key, timeout_ms, holder);
		pause_for(pause_ms(step, left, &rnd));
		if (cancel && *cancel)
			return interrupted();
		if (try_lock(&got, db, keytxt, cancel) < 0)
			return CAIRN_ERROR;
		if (got)
			return 0;
		step = step * 2 < WAIT_MAX_MS ? step * 2 : WAIT_MAX_MS;
	}
}

int cairn_lock_acquire(cairn_db *db, uint64_t timeout_ms,
		       void (*wait)(const char *holder, void *p),
		       void *payload, volatile sig_atomic_t *cancel)
{
	int64_t key = lock_key(db);
	char keytxt[32];
	bool got;
	char *who;
	int rc;

	if (!timeout_ms)
		timeout_ms = 60000;
	if (PQtransactionStatus(cairn_db__conn(db)) != PQTRANS_IDLE)
		return cairn_error__set(CAIRN_ERRCLASS_USAGE,
			"cannot wait for the deploy lock inside a transaction block");
	/* behind a pooler, the lock holds only if it keeps the session */
	if (cairn_db__behind_pooler(db) &&
	    cairn_pooler__check_session(db, cancel) < 0)
		return CAIRN_ERROR;
	snprintf(keytxt, sizeof(keytxt), "%" PRId64, key);
	if (try_lock(&got, db, keytxt, cancel) < 0)
		return CAIRN_ERROR;
	if (got)
		return 0;

	who = holder_of(db, key);
	if (wait)
		wait(who ? who : "another session", payload);
	rc = wait_for_lock(db, key, keytxt, timeout_ms, who, cancel);
	free(who);
	return rc;
}

int cairn_lock_release(cairn_db *db)
{
	char keytxt[32];
	const char *params[1] = { keytxt };

	snprintf(keytxt, sizeof(keytxt), "%" PRId64, lock_key(db));
	return cairn_db__query(db, NULL, "SELECT pg_advisory_unlock($1::bigint)",
			       1, params);
}
