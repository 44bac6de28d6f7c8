/*
 * spawn.h (internal) - the library's one way to run a program.
 *
 * Exec hooks, the development database and git hook chaining all run
 * programs through cairn_spawn_run().  It never goes through /bin/sh: the
 * argument vector reaches the program as data, whatever it contains.  A
 * caller who wants a shell passes {"/bin/sh", "-c", string} on purpose.
 *
 * Outcome reporting.  cairn_spawn_run() returns 0 whenever the program was
 * started or at least tried: its exit status, a timeout, a signal and even
 * a program that could not be executed at all are facts about the child,
 * reported in the result, not errors of the library.  A program that
 * cannot be executed (not found, not executable, bad cwd) gives
 * exec_failed = true, status 127 (not found) or 126 (any other reason),
 * exec_errno, and result.message = "cannot run 'x': No such file or
 * directory" for the caller to report as it sees fit.  The error object
 * is only used when cairn could not do its own part (bad options, out of
 * memory, pipe or fork failing): CAIRN_ERROR, class CAIRN_ERRCLASS_OS or
 * CAIRN_ERRCLASS_USAGE.  When options.cancel fires, the child group is
 * stopped like on a timeout and the call returns CAIRN_EINTERRUPTED (class
 * CAIRN_ERRCLASS_INTERRUPTED) with the result filled in.  The result is
 * initialised in every case, so cairn_spawn_result_dispose() is always
 * safe to call.
 *
 * Timeouts and cancellation send SIGTERM to the child's process group
 * (new_process_group, the default, makes the child the leader of a group
 * of its own, so grandchildren go too), then SIGKILL after kill_grace_ms
 * (default 2000; 0 sends SIGKILL at once).  status is then 128+signal.
 */
#ifndef CAIRN_SRC_SPAWN_H
#define CAIRN_SRC_SPAWN_H

#include "attrs.h"

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "util.h"

#define CAIRN_SPAWN_OPTIONS_VERSION 1

/* Default cap on each captured stream. */
#define CAIRN_SPAWN_DEFAULT_MAX_OUTPUT ((size_t)1024 * 1024)

typedef struct {
	unsigned version;
	/*
	 * The program and its arguments, NULL-terminated.  argv[0] without a
	 * slash is looked up in the PATH of the child's environment (before
	 * fork; "/usr/local/bin:/usr/bin:/bin" when there is none), trying
	 * each regular file of that name in order as execvp does; with a
	 * slash it is used as is, relative to cwd.
	 */
	const char *const *argv;
	/* The child's whole environment ("K=V", NULL-terminated); NULL: ours */
	const char *const *env;
	/*
	 * Entries applied on top of env (or of ours): "K=V" sets K, replacing
	 * any K already there; a bare "K" removes K.
	 */
	const char *const *env_add;
	/* Directory the child starts in; NULL: ours. */
	const char *cwd;
	/*
	 * Fed to the child's standard input, which is then closed.  NULL:
	 * stdin is /dev/null.  stdin_len 0 means strlen(stdin_data).
	 */
	const char *stdin_data;
	size_t stdin_len;
	/* Stop the child after this long; 0: no limit. */
	uint64_t timeout_ms;
	/* Between SIGTERM and SIGKILL on timeout or cancel; 0: SIGKILL. */
	uint64_t kill_grace_ms;
	/*
	 * Cap on each captured stream (0: CAIRN_SPAWN_DEFAULT_MAX_OUTPUT).
	 * Output past it is read and dropped, and *_truncated is set.
	 */
	size_t max_output;
	/* The child's stderr goes where its stdout goes. */
	bool merge_stderr;
	/*
	 * The child writes to our own stdout and stderr; nothing is
	 * captured (the CLI running a user's git hook, say).
	 */
	bool inherit_output;
	/* Make the child a process-group leader; timeouts kill the group. */
	bool new_process_group;
	/*
	 * When not NULL and *cancel becomes non-zero (a signal handler sets
	 * it), the child group is stopped as on a timeout.  Checked at least
	 * every 50 ms.
	 */
	volatile sig_atomic_t *cancel;
	/*
	 * Descriptors (3 or above) the child keeps open under the same
	 * numbers; every other descriptor we hold is closed at exec.  An exec
	 * hook's private password file reaches it this way, as /dev/fd/N.
	 */
	const int *keep_fds;
	size_t keep_fds_count;
} cairn_spawn_options;

#define CAIRN_SPAWN_OPTIONS_INIT                                               \
	{                                                                      \
		.version = CAIRN_SPAWN_OPTIONS_VERSION, .kill_grace_ms = 2000, \
		.max_output = CAIRN_SPAWN_DEFAULT_MAX_OUTPUT,                  \
		.new_process_group = true,                                     \
	}

typedef struct {
	/*
	 * Exit code; 128+signal when a signal ended the child; 127 or 126
	 * when it could not be executed; -1 when unknown (someone else
	 * reaped the child).
	 */
	int status;
	bool timed_out;
	bool cancelled;
	bool exec_failed;
	int exec_errno; /* errno of the failed chdir/execve, else 0 */
	/*
	 * One line saying what went wrong, NULL when the program ran and
	 * exited 0: "cannot run 'x': No such file or directory", "'x' exited
	 * with status 3", "'x' was killed by signal 9 (Killed)", "'x' timed
	 * out after 30000 ms", "'x' was cancelled".
	 */
	char *message;
	cairn_buf out; /* captured stdout (and stderr when merged) */
	cairn_buf err; /* captured stderr */
	bool out_truncated;
	bool err_truncated;
	int64_t duration_ms;
} cairn_spawn_result;

/*
 * Runs opts->argv and waits for it.  See the top of this file for what
 * is returned and when.
 */
CAIRN_WARN_UNUSED int cairn_spawn_run(cairn_spawn_result *out, const cairn_spawn_options *opts);

/* Frees what a result holds (safe on a zeroed or disposed result). */
void cairn_spawn_result_dispose(cairn_spawn_result *r);

/*
 * Builds an environment: base (NULL: our environ) with add applied on
 * top ("K=V" replaces K, a bare "K" removes it).  *out is appended to;
 * it ends NULL-terminated and can be passed as cairn_spawn_options.env.
 */
CAIRN_WARN_UNUSED int cairn_spawn_env_build(cairn_strvec *out, const char *const *base,
			  const char *const *add);

#endif
