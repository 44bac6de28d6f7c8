/*
 * pgbouncer.h - a pgbouncer in front of the test server, for the suites
 * that check how cairn behaves behind a connection pooler.
 *
 * It listens on a unix socket in a directory of its own (no TCP port to
 * collide with), forwards every database name to the server of
 * CAIRN_TEST_DB_URL, trusts every client (auth_type = any, connecting
 * to the server as the user of CAIRN_TEST_DB_URL) and runs as a child
 * of the process that starts it (pgchild.h), so it never outlives the
 * test.
 */
#ifndef CAIRN_TEST_PGBOUNCER_H
#define CAIRN_TEST_PGBOUNCER_H

#include <stdbool.h>
#include <sys/types.h>

#define TU_PGBOUNCER_BIN "/usr/sbin/pgbouncer"

typedef struct {
	char *dir;  /* its socket directory, config and log */
	pid_t pid;
	int port;   /* names the socket: dir/.s.PGSQL.<port> */
} tu_pgbouncer;

/*
 * Starts pgbouncer with pool_mode `mode` ("session", "transaction") and
 * waits until it accepts connections.  Returns false, with the reason
 * on stderr, when it cannot (the binary is missing: scripts/install-deps
 * installs it).
 */
bool tu_pgbouncer_start(tu_pgbouncer *pb, const char *mode);

/* A URL for database `dbname` through the pooler.  Caller frees. */
char *tu_pgbouncer_url(const tu_pgbouncer *pb, const char *dbname);

/* The name of the database in a URL made by tu_db_create().  Caller frees. */
char *tu_db_name(const char *url);

/* Stops it and removes its directory. */
void tu_pgbouncer_stop(tu_pgbouncer *pb);

#endif
