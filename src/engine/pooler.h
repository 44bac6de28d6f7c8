/*
 * pooler.h (internal) - whether a connection that goes through a pooler
 * keeps its server backend for the session (see pooler.c).
 */
#ifndef CAIRN_SRC_ENGINE_POOLER_H
#define CAIRN_SRC_ENGINE_POOLER_H

#include <signal.h>

#include "cairn/db.h"
#include "util/attrs.h"

/*
 * For a connection behind a pooler (cairn_db__behind_pooler): 0 when the
 * pooler keeps one backend for the session, so a session-level advisory
 * lock holds; otherwise CAIRN_ERROR with class CAIRN_ERRCLASS_DB and a
 * message saying why the deploy lock cannot work there and what to do.
 */
CAIRN_WARN_UNUSED int cairn_pooler__check_session(cairn_db *db,
						  volatile sig_atomic_t *cancel);

#endif
