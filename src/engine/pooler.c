/*
 * pooler.c - refusing to take the deploy lock through a connection pooler
 * that does not keep a server backend for the session.
 *
 * The deploy lock (lock.c) is a session-level advisory lock: it belongs
 * to the server backend that took it.  A pooler in transaction (or
 * statement) mode gives that backend to other clients between
 * transactions, so the lock no longer excludes anyone: every deployer
 * that lands on the backend "holds" it, migrations run elsewhere, and
 * the lock stays behind on an idle pooled connection.
 *
 * Whether a pooler stands in between is known for free: the backend pid
 * read at connect time (db.c) is not the pid libpq was given at login,
 * because a pooler hands out cancel keys of its own.  Only then is the
 * question asked that tells session pooling from transaction pooling,
 * and it is asked so that only a positive proof lets the deploy go on:
 *
 *   1. this connection LISTENs on a fresh channel and reads its backend
 *      pid (one statement);
 *   2. a second connection, made with the same parameters, reads its own
 *      backend pid and NOTIFYs the channel (one statement);
 *   3. the notification must reach this connection within PROBE_WAIT_MS
 *      while it sends nothing.
 *
 * Under session pooling the second connection always gets another
 * backend, and this session's backend stays linked to it, so the
 * notification arrives at once.  Under transaction pooling this client
 * has no backend while it is idle: a notification for the backend that
 * listened can never reach it (the pooler drops it or passes it to
 * whichever client uses that backend), and the second connection is
 * often served by this session's very backend, which settles it at
 * once.  A wait that runs out therefore refuses, which is the safe side.
 *
 * No wait here is unbounded: the second connection is made with this
 * one's parameters (connect_timeout included), must be served within
 * PROBE_WAIT_MS, and once served the rest of its answer comes within the
 * answer timeout of every statement of cairn's own (db.c; a silent
 * server: exit 3).  A second connection that cannot be made or is not
 * served proves nothing either way (a full pool, a server that does not
 * answer): cairn refuses, saying it could not check, not that the
 * pooler is in transaction mode.
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "db.h"
#include "pooler.h"
#include "util/error.h"
#include "util/util.h"

/* How long the notification and the second connection's answer may take. */
#define PROBE_WAIT_MS 5000

/* The server's notices to the second connection are not cairn's to print. */
static void notice_ignore(void *arg, const char *message)
{
	(void)arg;
	(void)message;
}

/* A second connection with the same parameters (no dbname expansion). */
static PGconn *connect_twin(cairn_db *db)
{
	PQconninfoOption *opts = PQconninfo(cairn_db__conn(db));
	const char **keys = NULL, **vals = NULL;
	PGconn *twin = NULL;
	size_t n = 0, k = 0;

	if (!opts)
		return NULL;
	for (PQconninfoOption *o = opts; o->keyword; o++)
		n++;
	keys = calloc(n + 1, sizeof(*keys));
	vals = calloc(n + 1, sizeof(*vals));
	if (keys && vals) {
		for (PQconninfoOption *o = opts; o->keyword; o++) {
			if (!o->val || !*o->val)
				continue;
			keys[k] = o->keyword;
			vals[k++] = o->val;
		}
		twin = PQconnectdbParams(keys, vals, 0);
		if (twin)
			PQsetNoticeProcessor(twin, notice_ignore, NULL);
	}
	free(keys);
	free(vals);
	PQconninfoFree(opts);
	return twin;
}

/* Waits until conn's socket is readable or ms pass; false on timeout. */
static bool wait_readable(PGconn *conn, int64_t deadline,
			  volatile sig_atomic_t *cancel)
{
	for (;;) {
		struct pollfd p = { PQsocket(conn), POLLIN, 0 };
		int64_t left = deadline - cairn__now_ms();
		int rc;

		if (left <= 0 || (cancel && *cancel))
			return false;
		rc = poll(&p, 1, (int)(left < 100 ? left : 100));
		if (rc > 0)
			return true;
		if (rc < 0 && errno != EINTR)
			return false;
	}
}

/* The first line of conn's error message, into why. */
static void twin_failed(char *why, size_t len, PGconn *twin,
			const PGresult *res)
{
	const char *m = res ? PQresultErrorMessage(res) : PQerrorMessage(twin);

	if (!m || !*m)
		m = "no answer";
	snprintf(why, len, "a second connection failed (%.*s)",
		 (int)strcspn(m, "\n"), m);
}

/*
 * The twin's answer to `SELECT pg_backend_pid(), pg_notify(chan, '')`:
 * its pid; 0 when it was not served within PROBE_WAIT_MS or failed (why
 * says which; nothing when interrupted); -1 (error set, class DB) when,
 * once served, the rest of its answer did not come within the answer
 * timeout, as any wait on a statement of cairn's own (db.c): the twin
 * is closed and never waited for again.
 */
static int twin_notify(cairn_db *db, PGconn *twin, const char *chan,
		       volatile sig_atomic_t *cancel, char *why, size_t len)
{
	const char *params[1] = { chan };
	int64_t deadline = cairn__now_ms() + PROBE_WAIT_MS;
	PGresult *res;
	int pid = 0;

	snprintf(why, len, "a second connection was not served within %d ms",
		 PROBE_WAIT_MS);
	if (!PQsendQueryParams(twin, "SELECT pg_backend_pid(), pg_notify($1, '')",
			       1, NULL, params, NULL, NULL, 0)) {
		twin_failed(why, len, twin, NULL);
		return 0;
	}
	while (PQisBusy(twin)) {
		if (!wait_readable(twin, deadline, cancel))
			return 0;
		if (!PQconsumeInput(twin)) {
			twin_failed(why, len, twin, NULL);
			return 0;
		}
	}
	/* served: each further result within the answer timeout */
	for (;;) {
		deadline = cairn__now_ms() +
			   (int64_t)cairn_db__answer_timeout_ms(db);
		if (!cairn_db__conn_answer_in_time(twin, deadline)) {
			shutdown(PQsocket(twin), SHUT_RDWR);
			return cairn_db__unanswered_error(db,
				"checking the connection pooler (a second connection)");
		}
		if (!(res = PQgetResult(twin)))
			break;
		if (PQresultStatus(res) == PGRES_TUPLES_OK && PQntuples(res) == 1)
			pid = (int)strtol(PQgetvalue(res, 0, 0), NULL, 10);
		else if (PQresultStatus(res) != PGRES_TUPLES_OK)
			twin_failed(why, len, twin, res);
		PQclear(res);
	}
	if (!pid && PQstatus(twin) != CONNECTION_OK)
		twin_failed(why, len, twin, NULL);
	return pid;
}

/* True when a notification on chan reaches conn before the deadline. */
static bool notified(PGconn *conn, const char *chan,
		     volatile sig_atomic_t *cancel)
{
	int64_t deadline = cairn__now_ms() + PROBE_WAIT_MS;

	for (;;) {
		PGnotify *n;

		if (!PQconsumeInput(conn))
			return false;
		while ((n = PQnotifies(conn)) != NULL) {
			bool ours = !strcmp(n->relname, chan);

			PQfreemem(n);
			if (ours)
				return true;
		}
		if (!wait_readable(conn, deadline, cancel))
			return false;
	}
}

static int refuse(cairn_db *db, const char *why)
{
	cairn_error__set(CAIRN_ERRCLASS_DB,
			 "refusing to take the deploy lock through a connection pooler in transaction mode");
	cairn_error__detail("The connection to %s goes through a pooler (the backend that answers, pid %d, is not the pid %d given at login) that does not keep a server backend for the session: %s. cairn's deploy lock is a session-level advisory lock; a pooler in transaction or statement mode (pgbouncer pool_mode=transaction) hands the backend holding it to other clients between transactions, so two deployers could apply the same migration at once and the lock would stay behind on a pooled connection. Nothing was run and no hook fired.",
			    cairn_db_description(db), cairn_db__server_pid(db),
			    PQbackendPID(cairn_db__conn(db)), why);
	cairn_error__hint("give cairn a direct connection to PostgreSQL, or one through a pool in session mode: set direct_database_url for this environment in cairn.yaml (migrate, repair and audit anchor use it; the application and hooks keep database_url), or pass --db");
	return CAIRN_ERROR;
}

/*
 * The second connection got no answer, or none could be made: no proof
 * either way, so no deploy lock, but not the claim of a transaction
 * pooler either (a full pool or a server that does not answer look the
 * same from here).
 */
static int cannot_check(cairn_db *db, const char *why)
{
	cairn_error__set(CAIRN_ERRCLASS_DB,
			 "cannot check the connection pooler before taking the deploy lock: %s",
			 why);
	cairn_error__detail("The connection to %s goes through a pooler (the backend that answers, pid %d, is not the pid %d given at login). cairn's deploy lock is a session-level advisory lock, so before taking it cairn proves, with a second connection, that the pooler keeps a server backend for the session; that connection could not be made or got no answer (a pool with no free server connection for it, a server that does not answer: stopped, hung or overloaded), so nothing is proven either way. Nothing was run and no hook fired.",
			    cairn_db_description(db), cairn_db__server_pid(db),
			    PQbackendPID(cairn_db__conn(db)));
	cairn_error__hint("check the server and the pooler (its pool size must leave room for a second connection), then run the command again; or give cairn a direct connection with direct_database_url for this environment in cairn.yaml, or --db");
	return CAIRN_ERROR;
}

int cairn_pooler__check_session(cairn_db *db, volatile sig_atomic_t *cancel)
{
	PGconn *conn = cairn_db__conn(db), *twin = NULL;
	PGresult *res = NULL;
	char chan[64], sql[128], why[400];
	int mine = 0, theirs, rc = 0;

	snprintf(chan, sizeof(chan), "cairn_pooler_probe_%ld_%lld",
		 (long)getpid(), (long long)cairn__now_us());
	snprintf(sql, sizeof(sql), "LISTEN %s; SELECT pg_backend_pid()", chan);
	if (cairn_db__query(db, &res, sql, 0, NULL) < 0)
		return CAIRN_ERROR;
	if (PQntuples(res) == 1)
		mine = (int)strtol(PQgetvalue(res, 0, 0), NULL, 10);
	PQclear(res);

	twin = connect_twin(db);
	if (!twin || PQstatus(twin) != CONNECTION_OK) {
		const char *m = twin ? PQerrorMessage(twin) : "out of memory";

		snprintf(why, sizeof(why),
			 "a second connection could not be made (%.*s)",
			 (int)strcspn(m, "\n"), m);
		rc = cannot_check(db, why);
		goto out;
	}
	theirs = twin_notify(db, twin, chan, cancel, why, sizeof(why));
	if (theirs < 0) {
		rc = CAIRN_ERROR;
		goto out;
	}
	if (!theirs) {
		/* interrupted: said below */
		if (!(cancel && *cancel)) {
			rc = cannot_check(db, why);
			goto out;
		}
	} else if (theirs == mine)
		snprintf(why, sizeof(why),
			 "a second connection was served by this session's backend (pid %d)",
			 mine);
	else if (!notified(conn, chan, cancel))
		snprintf(why, sizeof(why),
			 "a notification sent to this session's backend (pid %d) did not reach it within %d ms",
			 mine, PROBE_WAIT_MS);
	else
		goto out;
	if (cancel && *cancel)
		rc = cairn_error__set(CAIRN_ERRCLASS_INTERRUPTED,
				      "interrupted while checking the connection pooler");
	else
		rc = refuse(db, why);
out:
	PQfinish(twin);
	snprintf(sql, sizeof(sql), "UNLISTEN %s", chan);
	if (cairn_db_is_ok(db))
		PQclear(cairn_db__exec(db, sql));
	return rc;
}
