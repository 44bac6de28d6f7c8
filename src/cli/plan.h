/*
 * plan.h - what the files of `cairn plan` share: its options, the
 * pending-migration plan (plan_db.c) and the lock report of
 * `plan --locks` (plan_locks.c).
 */
#ifndef CAIRN_CLI_PLAN_H
#define CAIRN_CLI_PLAN_H

#include <jansson.h>
#include <stdbool.h>

#include "cairn/db.h"
#include "cairn/lockplan.h"
#include "cairn/migration.h"
#include "cli.h"

struct plan_opts {
	bool locks;   /* --locks: each statement's locks */
	bool no_db;   /* --no-db: no database (no sizes, every migration) */
};

/* `cairn plan` without a range (plan_db.c). */
int cli_plan_db(struct cli *cli, const struct plan_opts *po);

/*
 * The lock plan of m's up file into out, with sizes and sessions from db
 * when db is not NULL.  Returns 0 or an exit code (after reporting).
 * A file that does not parse is not a failure: out->error says why.
 */
int cli_locks_analyse(struct cli *cli, cairn_migration_set *set,
		      cairn_migration *m, cairn_db *db, cairn_lock_plan *out);

/*
 * Prints the statements of p under a migration's line (text: indented
 * sentences, "rewrites orders (41 GB, 3 sessions) under ACCESS
 * EXCLUSIVE"; markdown: a table).  with_db says whether figures were
 * asked for (a relation without them is then not in the database).
 */
void cli_locks_print(struct cli *cli, const cairn_lock_plan *p, bool with_db);

/* p as {"statements": [...], "error": ...}. */
json_t *cli_locks_json(const cairn_lock_plan *p, bool with_db);

#endif
