/*
 * db.h (internal) - what library modules use of a cairn_db: the libpq
 * connection, the quoted schema identifier, and query helpers that turn
 * libpq failures into cairn errors (class DB when the connection is gone,
 * SQL when a statement failed, with the server's message, SQLSTATE and
 * position as detail).
 */
#ifndef CAIRN_SRC_DB_H
#define CAIRN_SRC_DB_H

#include "util/attrs.h"

#include <libpq-fe.h>

#include "util/buf.h"
#include "cairn/db.h"

PGconn *cairn_db__conn(cairn_db *db);
/* The schema as a quoted identifier, ready to paste: "cairn" */
const char *cairn_db__schema_ident(const cairn_db *db);

/* pg_backend_pid() as the server answered it at connect time. */
int cairn_db__server_pid(const cairn_db *db);
/*
 * True when the backend that answered at connect time is not the one
 * libpq was told about at login: a pooler stands in between.
 */
bool cairn_db__behind_pooler(cairn_db *db);

/*
 * Runs sql with text parameters ($1..$n, NULL = SQL NULL).  On success
 * *out (may be NULL to discard) holds the result; caller PQclear()s it.
 */
CAIRN_WARN_UNUSED int cairn_db__query(cairn_db *db, PGresult **out, const char *sql,
		    int nparams, const char *const *params);

/*
 * PQexec / PQexecParams (text parameters) with a deadline: the answer
 * must come within the answer timeout (cairn_db__set_answer_timeout;
 * default 60 s), else the connection is shut down and NULL returned
 * with the error set (class DB: "the server did not answer within N s";
 * cairn_db__error() then says so again).  NULL also when the connection
 * is gone.  Results are read as PQexec reads them (the last kept).
 */
PGresult *cairn_db__exec(cairn_db *db, const char *sql);
PGresult *cairn_db__exec_params(cairn_db *db, const char *sql, int nparams,
				const char *const *params);
/*
 * PQgetResult() for what the caller sent itself (single-row mode): the
 * next result must come within the answer timeout, else as above.
 */
PGresult *cairn_db__next_result(cairn_db *db);
/*
 * The same deadline wait for another connection of cairn's own (the
 * pooler check's second connection): true once conn's next result can
 * be read without blocking (or the connection broke, which PQgetResult
 * reports), false when deadline (cairn__now_ms() clock) passed first.
 */
bool cairn_db__conn_answer_in_time(PGconn *conn, int64_t deadline);
/*
 * Sets the error of a server that did not answer within the answer
 * timeout (class DB, exit 3), `what` starting the message.  Returns
 * CAIRN_ERROR.
 */
int cairn_db__unanswered_error(const cairn_db *db, const char *what);
/* The deadline for each of cairn's own statements; 0: the default. */
void cairn_db__set_answer_timeout(cairn_db *db, uint64_t ms);
uint64_t cairn_db__answer_timeout_ms(const cairn_db *db);

/*
 * Sets the error object from a failed result (or the connection when res
 * is NULL).  Returns CAIRN_ERROR.  `what` starts the message ("cannot
 * create the cairn schema").
 */
int cairn_db__error(cairn_db *db, const PGresult *res, const char *what);

/*
 * Appends a SQL string literal to b, read alike whether
 * standard_conforming_strings is on or off ('...', or E'...' when s
 * holds a backslash).
 */
int cairn_db__literal(cairn_buf *b, const char *s);
/* Appends a literal or NULL. */
int cairn_db__literal_or_null(cairn_buf *b, const char *s);

/* The lock_timeout (ms) the session started with: a role's, database's
 * or the server's; 0 = none. */
uint64_t cairn_db__server_lock_timeout_ms(const cairn_db *db);

/*
 * Runs a read-only query on the monitor, a second connection to the same
 * database opened on first use (db.c); waits at most timeout_ms for the
 * answer.  Sets no error: CAIRN_ERROR means "no answer" (the monitor
 * could not connect, the query failed, or the server was silent, which
 * closes the monitor for good).  Caller PQclear()s *out.
 */
CAIRN_WARN_UNUSED int cairn_db__monitor_query(cairn_db *db, PGresult **out,
					      const char *sql, int nparams,
					      const char *const *params,
					      uint64_t timeout_ms);

#endif
