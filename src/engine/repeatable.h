/*
 * repeatable.h (internal) - repeatable migrations in a `migrate up` run
 * (repeatable.c) and in `cairn import flyway` (import_repeatable.c).
 */
#ifndef CAIRN_SRC_ENGINE_REPEATABLE_H
#define CAIRN_SRC_ENGINE_REPEATABLE_H

#include "util/attrs.h"

#include "cairn/adopt.h"
#include "cairn/repeatable.h"
#include "run.h"

/*
 * Appends to *plan (n entries, reallocated) the repeatables the run
 * applies after its versioned migrations: those never applied or whose
 * checksum differs from the one recorded, in name order.  None with
 * --to (a notice finding says so) nor with --single-transaction (the
 * same).  Reads <schema>.repeatables under the deploy lock, so of two
 * deployers only the first applies a changed file.
 */
CAIRN_WARN_UNUSED int run__repeatable_plan(run *r, cairn_migration ***plan,
					   size_t *n);

/* Applies one repeatable (d->one of migrate up for a repeatable). */
CAIRN_WARN_UNUSED int run__repeatable_apply(run *r, cairn_migration *m);

/* The values of one row of <schema>.repeatables. */
typedef struct {
	const cairn_migration *m;
	const char *applied_by;        /* not NULL */
	const char *applied_at;        /* timestamptz text; NULL: now() */
	const char *duration_sql;      /* SQL expression */
	const char *deploy_rev;
	const char *deploy_ref;
	const char *run_id;
	const char *imported_checksum; /* NULL when applied by cairn */
} repeatable_row;

/*
 * Appends the INSERT ... ON CONFLICT (name) DO UPDATE of a row (the one
 * builder: apply and import).  Unchecked appends (buf.h).
 */
void repeatable__row_sql(cairn_buf *b, cairn_db *db, const repeatable_row *row);

/*
 * After `cairn import flyway` recorded the versioned migrations (done):
 * records Flyway's repeatables whose file is the one Flyway ran
 * (import_repeatable.c).  Nothing on a dry run.
 */
CAIRN_WARN_UNUSED int import__flyway_repeatables(const cairn_adopt_result *done,
						 const cairn_run_options *o);

#endif
