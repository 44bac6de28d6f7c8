/*
 * testutil.h - helpers for cairn's Check suites: temporary directories,
 * files, real git repositories (through the git program, as a user would
 * make them), and running the real cairn binary with captured output.
 *
 * tests/run exports CAIRN_BIN (the binary under test), CAIRN_TEST_DB_URL
 * (a scripts/pg-ephemeral server) and CAIRN_SRCDIR (the source tree).
 */
#ifndef CAIRN_TESTUTIL_H
#define CAIRN_TESTUTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

typedef struct {
	int status;   /* exit code, or 128+signal */
	char *out;    /* captured stdout (NUL-terminated) */
	char *err;    /* captured stderr */
} tu_result;

/* A fresh directory under /tmp; abort()s on failure.  Caller frees. */
char *tu_mkdtemp(void);
/* rm -rf */
void tu_rmrf(const char *path);
/* Writes content to dir/rel, creating parent directories. */
void tu_write(const char *dir, const char *rel, const char *content);
void tu_write_bytes(const char *dir, const char *rel, const void *data,
		    size_t len);
/* Reads dir/rel; NULL when absent.  Caller frees. */
char *tu_read(const char *dir, const char *rel);

/*
 * Runs a shell command (written by the test itself) in dir; returns its
 * exit status.  Output goes to the test log.
 */
int tu_sh(const char *dir, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* The same, capturing stdout (trailing newline removed).  Caller frees. */
char *tu_sh_out(const char *dir, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/*
 * Runs argv in dir with extra environment entries ("K=V", NULL-terminated,
 * may be NULL) and stdin_data on standard input (may be NULL).
 */
void tu_run(tu_result *r, const char *dir, const char *const *argv,
	    const char *const *env, const char *stdin_data);
/* Runs $CAIRN_BIN with the NULL-terminated arguments in dir. */
void tu_cairn(tu_result *r, const char *dir, ...) __attribute__((sentinel));
/* tu_cairn with environment entries and stdin. */
void tu_cairn_env(tu_result *r, const char *dir, const char *const *env,
		  const char *stdin_data, ...) __attribute__((sentinel));
void tu_result_dispose(tu_result *r);
/*
 * Starts $CAIRN_BIN with args (NULL-terminated) in dir without waiting,
 * extra environment entries (may be NULL), standard output and error
 * into outdir/stdout and outdir/stderr; returns its pid (-1 when fork
 * fails).
 */
pid_t tu_cairn_start(const char *dir, const char *outdir,
		     const char *const *env, const char *const *args);

/* git init with a fixed default branch (main) and identity. */
char *tu_git_repo(void);
/*
 * git add -A && git commit as the given author (name, email), with the
 * author/committer date set to `when` (seconds since the epoch).
 * Returns the new commit's sha (caller frees).
 */
char *tu_git_commit(const char *dir, const char *name, const char *email,
		    long when, const char *msg);

/* The test database URL, or NULL. */
const char *tu_db_url(void);
/* Path of the cairn binary under test. */
const char *tu_cairn_bin(void);

/*
 * Creates a fresh database on the test server and returns its URL
 * (caller frees).  Names are made unique per process.
 */
char *tu_db_create(const char *prefix);
/* Runs sql on url; returns the first column of the first row or NULL.
 * Caller frees.  abort()s on a connection failure; on an SQL error
 * returns NULL and prints the error. */
char *tu_db_value(const char *url, const char *sql);
/* Runs sql on url; returns 0 or -1 (error printed). */
int tu_db_exec(const char *url, const char *sql);

/*
 * Waiting for a condition instead of sleeping a fixed time: a fixed sleep
 * either wastes time or flakes on a loaded machine.  TU_WAIT_MS is the
 * generous upper bound tests use unless they have a reason not to.
 */
#define TU_WAIT_MS 30000

typedef bool (*tu_cond_fn)(void *payload);

/*
 * Calls cond(payload) until it returns true (then returns true) or
 * timeout_ms has passed (then returns false).  Polls every millisecond
 * at first, backing off to every 50 ms.
 */
bool tu_wait_until(tu_cond_fn cond, void *payload, int timeout_ms);

/*
 * Waits until sql, run on url (one connection for the whole wait), gives
 * a first value of "t": e.g. "SELECT count(*) = 2 FROM pg_stat_activity
 * WHERE ...".  An SQL error is printed and ends the wait (false).
 */
bool tu_db_wait(const char *url, const char *sql, int timeout_ms);

/*
 * Waits until the server backend `pid` is seen in pg_stat_activity with
 * wait_event_type `wait_event_type` (e.g. "Lock"; NULL: any), or, with
 * gone true, until no backend with that pid is left.
 */
bool tu_db_wait_backend(const char *url, int pid, const char *wait_event_type,
			bool gone, int timeout_ms);

/* True when haystack contains needle (NULL-safe). */
bool tu_contains(const char *haystack, const char *needle);

#endif
