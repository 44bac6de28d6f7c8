/*
 * lint_internal.h - what the lint files share: the rule numbers, the
 * state of one linted file (and of the run it belongs to) and the
 * reporting function.
 *
 *   lint.c        the rule table, options, suppression, files and sets
 *   lint_rules.c  the rules: one function per statement kind
 *   lint_history.c what the run has created or emptied so far
 */
#ifndef CAIRN_SRC_LINT_INTERNAL_H
#define CAIRN_SRC_LINT_INTERNAL_H

#include "cairn/lint.h"
#include "pgparse.h"
#include "util/attrs.h"

enum {
	R_DESTRUCTIVE = 0,
	R_TX_CONTROL,
	R_NEEDS_NO_TX,
	R_NO_TX_MULTIPLE,
	R_UNTERMINATED,
	R_INDEX,
	R_NOT_NULL,
	R_DROP_INDEX,
	R_REINDEX,
	R_COLUMN_TYPE,
	R_RENAME_COLUMN,
	R_RENAME_TABLE,
	R_NOT_VALID,
	R_VALIDATE_SAME_TX,
	R_SET_NOT_NULL,
	R_UNIQUE,
	R_VOLATILE_DEFAULT,
	R_ADD_COLUMN_REWRITE,
	R_ENUM_VALUE,
	R_VACUUM_FULL,
	R_CLUSTER,
	R_SET_LOGGED,
	R_LOCK_TABLE,
	R_BACKFILL,
	R_BIGINT,
	R_TIMESTAMPTZ,
	R_TEXT,
	R__COUNT
};

/* What the run knows about a relation or index name. */
enum {
	H_NEW = 1,       /* created in this run: no one uses it yet */
	H_EMPTY = 2,     /* emptied (TRUNCATE, DELETE without WHERE) */
	H_CHECKED = 4,   /* a constraint on it was validated */
	H_INDEX = 8,     /* the name is an index's */
	H_NOT_VALID = 16 /* a constraint of that name was added NOT VALID */
};

typedef struct lint_name {
	char *schema; /* NULL when not qualified */
	char *name;
	unsigned flags;
} lint_name;

typedef struct lint_history {
	lint_name *items;
	size_t count;
	size_t alloc;
} lint_history;

typedef struct lint_file {
	const cairn_migration *m;
	cairn_findings *out;
	const char *sql;
	size_t len;
	bool enabled[R__COUNT];
	cairn_severity severity[R__COUNT];
	bool transactional;   /* not a no-transaction file */
	const cairn_pg_stmt *st; /* the statement being linted */
	size_t index;          /* its number in the file */
	size_t count;          /* statements in the file */
	lint_history *hist;
} lint_file;

/* Reports rule for the current statement unless it is allowed there. */
CAIRN_WARN_UNUSED int cairn_lint__report(lint_file *lf, int rule,
					 const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Runs every rule on lf->st, then records what it changes in history. */
CAIRN_WARN_UNUSED int cairn_lint__statement(lint_file *lf);

/* Records what a statement creates or empties (no findings). */
CAIRN_WARN_UNUSED int cairn_lint__record(lint_history *h,
					 const cairn_pg_stmt *st);

/* The flags history holds for a RangeVar ({"relname":..}), 0 if none. */
unsigned cairn_lint__flags(const lint_history *h, json_t *rangevar);
unsigned cairn_lint__flags_name(const lint_history *h, const char *schema,
				const char *name);
CAIRN_WARN_UNUSED int cairn_lint__mark(lint_history *h, const char *schema,
				       const char *name, unsigned flags);
void cairn_lint__history_dispose(lint_history *h);

#endif
