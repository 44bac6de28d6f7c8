/*
 * fleet.h - one run across many databases (README "Fleets").
 *
 * An environment's targets come from `targets:`, `targets_file:` or
 * `targets_command:` in cairn.yaml; cairn_fleet_targets() turns any of
 * them into one list.  cairn_fleet_run() then calls the caller's
 * function once per target from up to `parallel` threads, in two waves
 * when `canary` is set (the canaries first, the rest only if they all
 * succeed), and stops starting targets after the first failure unless
 * keep_going.  What a target's work is (a child `cairn migrate up`, a
 * status query) is the caller's: each call must use its own connection.
 */
#ifndef CAIRN_FLEET_H
#define CAIRN_FLEET_H

#include <signal.h>

#include "common.h"
#include "config.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct cairn_fleet_targets_options {
	unsigned int version;
	const char *workdir;      /* targets_file and targets_command are
				   * relative to it; NULL: the current dir */
	uint64_t command_timeout_ms; /* 0: 30 s */
	size_t max_output;        /* 0: 1 MiB, for the file and the command */
} cairn_fleet_targets_options;

#define CAIRN_FLEET_TARGETS_OPTIONS_VERSION 1
#define CAIRN_FLEET_TARGETS_OPTIONS_INIT { CAIRN_FLEET_TARGETS_OPTIONS_VERSION, NULL, 0, 0 }

/*
 * The environment's targets, copied (the caller frees them with
 * cairn_fleet_targets_free).  A file or the command's output holds one
 * "name url [schema]" per line; blank lines and lines starting with '#'
 * are skipped.  Mistakes are errors naming "FILE:LINE" (or the command
 * and the line of its output); an environment without targets is an
 * error of class CAIRN_ERRCLASS_CONFIG.
 */
CAIRN_EXTERN(int) cairn_fleet_targets(cairn_target **out, size_t *count,
				      const cairn_environment *env,
				      const cairn_fleet_targets_options *opts);
CAIRN_EXTERN(void) cairn_fleet_targets_free(cairn_target *t, size_t count);

typedef enum {
	CAIRN_FLEET_NOT_STARTED = 0, /* a failure stopped the run first */
	CAIRN_FLEET_OK,
	CAIRN_FLEET_FAILED
} cairn_fleet_outcome;

/*
 * The work for one target: returns 0 when it succeeded,
 * CAIRN_FLEET_BUSY when it did nothing because the target's server had
 * no connection slot free (SQLSTATE 53300), anything else when it
 * failed.  Called from a worker thread; index is the target's place in
 * the list.  A busy target runs again later, and the worker that saw it
 * stops (unless it is the last), so a run never holds more connections
 * than the server gives it; after CAIRN_FLEET_BUSY_TRIES busy answers
 * for one target it counts as failed.
 */
#define CAIRN_FLEET_BUSY 75
#define CAIRN_FLEET_BUSY_TRIES 8
typedef int (*cairn_fleet_fn)(size_t index, void *payload);

typedef struct cairn_fleet_options {
	unsigned int version;
	size_t count;             /* targets */
	unsigned parallel;        /* workers; 0: 4; never more than count */
	size_t canary;            /* first wave; 0: no waves */
	bool keep_going;          /* a failure does not stop new targets */
	volatile sig_atomic_t *cancel;     /* when non-zero, start no more targets */
	cairn_fleet_fn fn;
	void *payload;
} cairn_fleet_options;

#define CAIRN_FLEET_OPTIONS_VERSION 1
#define CAIRN_FLEET_OPTIONS_INIT { CAIRN_FLEET_OPTIONS_VERSION, 0, 0, 0, false, NULL, NULL, NULL }

/*
 * Runs fn over the targets; outcomes[count] (the caller's) says what
 * happened to each.  Returns 0 when every call ran (whatever they
 * returned), CAIRN_ERROR when the workers could not be started.
 */
CAIRN_EXTERN(int) cairn_fleet_run(cairn_fleet_outcome *outcomes,
				  const cairn_fleet_options *opts);

#ifdef __cplusplus
}
#endif

#endif
