/*
 * pgchild.h - server processes a test starts (pgbouncer, a PostgreSQL
 * primary or standby of its own), as children that cannot outlive it.
 *
 * A child runs in the foreground (never daemonized), as the postgres
 * system user when the test runs as root (servers refuse root), with
 * PR_SET_PDEATHSIG set after the change of user, so it is signalled when
 * the process that started it ends, even when a test fails or aborts.
 * tu_child_stop() signals it and reaps it.
 */
#ifndef CAIRN_TEST_PGCHILD_H
#define CAIRN_TEST_PGCHILD_H

#include <stdbool.h>
#include <sys/types.h>

/*
 * Starts argv[0] (a full path) with argv; stdout and stderr go to
 * log_path.  `death_sig` is what the child gets when its parent dies
 * (SIGINT stops PostgreSQL fast, SIGTERM pgbouncer).  Returns the pid,
 * or -1 with a message on stderr.
 */
pid_t tu_child_start(const char *const *argv, const char *log_path,
		     int death_sig);

/* Sends sig, waits up to timeout_ms, then SIGKILLs; always reaps. */
void tu_child_stop(pid_t pid, int sig, int timeout_ms);

/* Makes path (a directory) owned by the user children run as. */
void tu_child_own(const char *path);

/* The newest PostgreSQL server bindir ("/usr/lib/postgresql/15/bin"). */
char *tu_pg_bindir(void);

/*
 * Waits until a server answers on conninfo (PQping says it accepts
 * connections), up to timeout_ms.
 */
bool tu_pg_wait_ready(const char *conninfo, int timeout_ms);

#endif
