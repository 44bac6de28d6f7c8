/*
 * lint.h - lint rules for migration files (DESIGN section 6).
 *
 * The linter reads the up file of each migration (down files exist to
 * undo, so destructive statements there are expected), splits it into
 * statements and tokens (cairn/sqlsplit.h) and reports what would hurt
 * in production as findings coded "lint/<rule>":
 *
 *   rule                      severity  what
 *   destructive               error     DROP TABLE, ALTER TABLE ... DROP
 *                                       [COLUMN], DROP SCHEMA, DROP
 *                                       DATABASE, TRUNCATE
 *   transaction-control       error     BEGIN, COMMIT, ROLLBACK, END,
 *                                       SAVEPOINT, ... in a migration
 *   needs-no-transaction      error     a statement that cannot run in a
 *                                       transaction block, in a file
 *                                       without '-- cairn: no-transaction'
 *   no-transaction-multiple   error     a no-transaction file with more
 *                                       than one statement
 *   unterminated              error     the file ends inside a string,
 *                                       quoted identifier, dollar quote
 *                                       or comment
 *   index-not-concurrent      warning   CREATE INDEX without CONCURRENTLY
 *                                       on a table the file did not create
 *   not-null-without-default  warning   ALTER TABLE ... ADD COLUMN ... NOT
 *                                       NULL without DEFAULT on a table
 *                                       the file did not create
 *
 * Errors are statements that fail or lose data; warnings are statements
 * that work but may lock a busy table or fail on a table with rows.
 * Tables the same file created earlier (CREATE TABLE, CREATE
 * MATERIALIZED VIEW) are new and empty: indexing, dropping or adding
 * NOT NULL columns to them is not reported.
 *
 * `-- cairn: allow <rule>` at the top of an up file switches one rule off
 * for that file (`allow all` every rule); the finding's hint says so.
 */
#ifndef CAIRN_LINT_H
#define CAIRN_LINT_H

#include "common.h"
#include "finding.h"
#include "migration.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct cairn_lint_rule {
	const char *name;        /* "destructive": what `allow` takes */
	const char *code;        /* "lint/destructive": the finding code */
	cairn_severity severity;
	const char *description; /* one line, for `cairn lint --list-rules` */
} cairn_lint_rule;

typedef struct cairn_lint_options {
	unsigned int version;
	/* Rules switched off everywhere (names, with or without "lint/"). */
	const char *const *disable;
	size_t disable_count;
} cairn_lint_options;

#define CAIRN_LINT_OPTIONS_VERSION 1
#define CAIRN_LINT_OPTIONS_INIT { CAIRN_LINT_OPTIONS_VERSION, NULL, 0 }

/* The rules, in the order above; *count receives their number. */
CAIRN_EXTERN(const cairn_lint_rule *) cairn_lint_rules(size_t *count);

/* The rule called name ("destructive" or "lint/destructive"), or NULL. */
CAIRN_EXTERN(const cairn_lint_rule *) cairn_lint_rule_find(const char *name);

/*
 * Lints the up file of one migration and appends the findings to out
 * (file: m->up_path, line: the statement's, version: m->version).  A
 * migration whose content is not loaded, or whose up file is not text
 * (binary, not UTF-8: loading reported that already), gives nothing.
 * opts may be NULL.  Fails only when out of memory.
 */
CAIRN_EXTERN(int) cairn_lint_migration(cairn_findings *out,
				       const cairn_migration *m,
				       const cairn_lint_options *opts);

/*
 * Loads the content of every migration of the set (problems loading
 * finds stay findings of the set) and lints each one.  Fails when a file
 * cannot be read at all or memory runs out.
 */
CAIRN_EXTERN(int) cairn_lint_set(cairn_findings *out, cairn_migration_set *set,
				 const cairn_lint_options *opts);

#ifdef __cplusplus
}
#endif

#endif
