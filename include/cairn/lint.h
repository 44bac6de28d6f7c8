/*
 * lint.h - lint rules for migration files (DESIGN section 6).
 *
 * The linter reads the up file of each migration (down files exist to
 * undo, so destructive statements there are expected) with PostgreSQL's
 * own parser (libpg_query, src/pgparse.h) and looks at each statement's
 * parse tree.  Every rule has a name ("index-not-concurrent"), a finding
 * code ("lint/index-not-concurrent"), a severity, the lock it is about,
 * a one-line description (`cairn lint --list-rules`), a paragraph of
 * explanation (`cairn lint --explain RULE`) and a hint with the safe
 * rewrite.  Errors are statements that fail or lose data; warnings are
 * statements that work but lock a busy table, rewrite it, scan it or
 * break the running application.  Style rules (prefer-bigint, ...) are
 * off unless enabled.
 *
 * History decides what is dangerous.  A table created earlier in the same
 * migration (CREATE TABLE, with or without IF NOT EXISTS, CREATE TABLE AS,
 * CREATE MATERIALIZED VIEW) or in an earlier migration of the same run
 * (options.earlier: the pending migrations before this one) is new: no
 * rule about locks, rewrites, renames or drops fires for it.  A table
 * emptied just before (TRUNCATE t, DELETE FROM t without WHERE) has no
 * rows: rules about rewrites and scans do not fire for it.
 *
 * Suppression: `-- cairn: allow RULE` at the top of the file (the whole
 * file) or on the comment lines right above a statement (that statement);
 * options.disable / options.severity ("off"); options.allow: a rule
 * accepted for one version, so applied files need not change.  A file
 * the grammar rejects gives one finding, "syntax-error" (or
 * lint/unterminated for a string, identifier, dollar quote or comment
 * left open), with the parser's message, line and column.
 */
#ifndef CAIRN_LINT_H
#define CAIRN_LINT_H

#include "common.h"
#include "config.h"
#include "finding.h"
#include "lockplan.h"
#include "migration.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct cairn_lint_rule {
	const char *name;        /* "destructive": what `allow` takes */
	const char *code;        /* "lint/destructive": the finding code */
	cairn_severity severity;
	const char *description; /* one line, for `cairn lint --list-rules` */
	const char *lock;        /* the lock it is about ("ACCESS EXCLUSIVE
				  * on the table"), "" when none */
	const char *explanation; /* a paragraph, for `cairn lint --explain` */
	const char *hint;        /* the safe rewrite */
	bool style;              /* a style rule: off unless enabled */
} cairn_lint_rule;

typedef struct cairn_lint_options {
	unsigned int version;
	/* Rules switched off everywhere (names, with or without "lint/"). */
	const char *const *disable;
	size_t disable_count;
	/* Version 2. */
	/* Style rules switched on. */
	const char *const *enable;
	size_t enable_count;
	/* Rules accepted for one migration: key = version ("42" or
	 * "0042"), value = rule name or "all". */
	const cairn_kv *allow;
	size_t allow_count;
	/* Severity overrides: key = rule, value = "error", "warning",
	 * "notice" or "off". */
	const cairn_kv *severity;
	size_t severity_count;
	/* The migrations that run before this one in the same run (pending,
	 * in order): tables they create are new here too. */
	const cairn_migration *const *earlier;
	size_t earlier_count;
	/* Do not report syntax errors (validate reported them already). */
	bool skip_syntax;
} cairn_lint_options;

#define CAIRN_LINT_OPTIONS_VERSION 2
#define CAIRN_LINT_OPTIONS_INIT \
	{ CAIRN_LINT_OPTIONS_VERSION, NULL, 0, NULL, 0, NULL, 0, NULL, 0, \
	  NULL, 0, false }

/*
 * Fills the rule lists of opts from the `lint:` section of cfg (the
 * pointers borrow from cfg); opts must be initialized.  cfg may be NULL.
 */
CAIRN_EXTERN(void) cairn_lint_options_from_config(cairn_lint_options *opts,
						  const cairn_config *cfg);

/*
 * An owned copy of opts (NULL: the defaults) whose rule lists and
 * key/value pairs no longer borrow from anything, for a hook that keeps
 * the `lint:` section of cairn.yaml past its init call; `earlier` is not
 * copied (it is empty).  Free it with cairn_lint_options_free().
 * Fails when out of memory or opts has a newer version.
 */
CAIRN_EXTERN(int) cairn_lint_options_dup(cairn_lint_options **out,
					 const cairn_lint_options *opts);
CAIRN_EXTERN(void) cairn_lint_options_free(cairn_lint_options *opts);

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
 * cairn_lint_migration() that also gives the lock analysis of the same
 * up file (cairn/lockplan.h), from the same parse: each statement's lock
 * mode, tables and whether it rewrites them.  locks must be initialized
 * (CAIRN_LOCK_PLAN_INIT) and may be NULL; what it held is replaced.  A
 * syntax error is locks->error; content not loaded or not text gives an
 * empty plan whose error says so.  The caller disposes of locks.  Fails
 * only when out of memory.
 */
CAIRN_EXTERN(int) cairn_lint_migration_locks(cairn_findings *out,
					     const cairn_migration *m,
					     const cairn_lint_options *opts,
					     cairn_lock_plan *locks);

/*
 * Loads the content of every migration of the set (problems loading
 * finds stay findings of the set) and lints each one.  Fails when a file
 * cannot be read at all or memory runs out.
 */
CAIRN_EXTERN(int) cairn_lint_set(cairn_findings *out, cairn_migration_set *set,
				 const cairn_lint_options *opts);

/*
 * Parses the up and the down file of m with PostgreSQL's parser and adds
 * a "syntax-error" finding (file, line, the parser's message with the
 * column) for each one the grammar rejects.  Content not loaded or not
 * text gives nothing.  Fails only when out of memory.
 */
CAIRN_EXTERN(int) cairn_lint_syntax(cairn_findings *out,
				    const cairn_migration *m);

#ifdef __cplusplus
}
#endif

#endif
