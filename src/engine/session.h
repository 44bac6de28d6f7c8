/*
 * session.h (internal) - what the engine shares with hook kinds while a
 * run is under way: the database connection migrations run on, and the
 * facts exec hooks pass on as PG* variables.
 */
#ifndef CAIRN_SRC_SESSION_H
#define CAIRN_SRC_SESSION_H

#include <signal.h>

#include "cairn/db.h"
#include "cairn/hook.h"

struct cairn_session {
	cairn_db *db;          /* NULL in dry runs and `hooks run` without db */
	const char *repo_workdir; /* for relative paths in hook config */
	volatile sig_atomic_t *cancel;  /* non-zero when the run is being interrupted */
};

#endif
