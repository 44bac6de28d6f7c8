/*
 * standby.h - a primary PostgreSQL server and a real hot standby of it,
 * both private to one test suite.
 *
 * The primary is a fresh cluster (initdb) rather than the shared test
 * server: pg_basebackup copies a whole cluster, and the shared server
 * holds every database the suites before made.  The standby is made
 * with pg_basebackup -R (streaming replication) and is in recovery for
 * its whole life.  Both listen on unix sockets in directories of their
 * own and run as children of the process that starts them (pgchild.h).
 */
#ifndef CAIRN_TEST_STANDBY_H
#define CAIRN_TEST_STANDBY_H

#include <stdbool.h>
#include <sys/types.h>

typedef struct {
	char *primary_dir;  /* data/ and the socket */
	char *standby_dir;
	pid_t primary_pid;
	pid_t standby_pid;
} tu_standby;

/* Starts both and waits until the standby is in recovery.  false on failure. */
bool tu_standby_start(tu_standby *s);

/* URL of database dbname on the primary / the standby.  Caller frees. */
char *tu_standby_primary_url(const tu_standby *s, const char *dbname);
char *tu_standby_url(const tu_standby *s, const char *dbname);

/*
 * Waits until the standby has replayed everything the primary has
 * written so far (its replay position reaches the primary's WAL
 * position at the time of the call).
 */
bool tu_standby_catch_up(const tu_standby *s, int timeout_ms);

/* Stops both servers and removes their directories. */
void tu_standby_stop(tu_standby *s);

#endif
