/*
 * db.h - cairn's connection to PostgreSQL (libpq).
 *
 * A cairn_db is one connection plus the schema where cairn keeps its
 * tables.  Connecting never puts a password into an error message or
 * description: cairn_db_description() names user, host, port and
 * database only.  Connection failures have class CAIRN_ERRCLASS_DB (exit
 * 3); failed statements CAIRN_ERRCLASS_SQL with the server's message as
 * detail and its SQLSTATE.
 */
#ifndef CAIRN_DB_H
#define CAIRN_DB_H

#include "common.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct cairn_db cairn_db;

typedef struct cairn_db_options {
	unsigned int version;
	const char *conninfo;         /* URL or key=value; NULL/"" = libpq defaults */
	const char *schema;           /* default "cairn" */
	const char *application_name; /* shown to other sessions */
	uint64_t connect_timeout_ms;  /* default 10s */
	uint64_t answer_timeout_ms;   /* each of cairn's own statements
				       * (not migrations); default 60s */
} cairn_db_options;

#define CAIRN_DB_OPTIONS_VERSION 2 /* 2: answer_timeout_ms */
#define CAIRN_DB_OPTIONS_INIT { CAIRN_DB_OPTIONS_VERSION, NULL, NULL, NULL, 0, 0 }

CAIRN_EXTERN(int) cairn_db_connect(cairn_db **out, const cairn_db_options *opts);
CAIRN_EXTERN(void) cairn_db_free(cairn_db *db);

/* "postgres@/tmp/x:5432/postgres" (never a password). */
CAIRN_EXTERN(const char *) cairn_db_description(const cairn_db *db);
/* The schema name as configured ("cairn"). */
CAIRN_EXTERN(const char *) cairn_db_schema(const cairn_db *db);

/* Runs SQL text (one or more statements) and discards the results. */
CAIRN_EXTERN(int) cairn_db_exec(cairn_db *db, const char *sql);

/*
 * Removes the password from a connection string or URL, for messages.
 * Caller frees *out.
 */
CAIRN_EXTERN(int) cairn_db_redact(char **out, const char *conninfo);

/*
 * Asks the server to cancel the statement running on db.  Safe to call
 * from a signal handler (it uses PQcancel).
 */
CAIRN_EXTERN(void) cairn_db_cancel(cairn_db *db);

/*
 * The same connection string pointed at another database (key=value
 * form, values quoted).  Caller frees *out.
 */
CAIRN_EXTERN(int) cairn_db_conninfo_with_dbname(char **out,
						const char *conninfo,
						const char *dbname);

/*
 * Refuses work that writes (`what`: "apply migrations") on a server
 * that cannot take it, as seen when the connection was opened: a
 * standby in recovery, or a session whose transactions default to
 * read-only.  Costs no round trip.  Class CAIRN_ERRCLASS_DB (exit 3).
 */
CAIRN_EXTERN(int) cairn_db_check_writable(cairn_db *db, const char *what);

/* True when the connection is still usable. */
CAIRN_EXTERN(bool) cairn_db_is_ok(const cairn_db *db);

#ifdef __cplusplus
}
#endif

#endif
