/*
 * migration.h - the set of migrations at one git revision.
 *
 * Loading is in two steps so that commands pay only for what they use:
 *
 *  1. cairn_migration_set_load() lists the migrations directory of a
 *     commit's tree (recursively: subdirectories group migrations) and
 *     parses file names.  It reads no file contents: each migration knows
 *     its version, name, paths and git blob ids.  A no-op `migrate up`
 *     compares blob ids with the tracking table and never inflates a blob.
 *  2. cairn_migration_load_content() reads one migration's files: checks
 *     size, NUL bytes and UTF-8, computes the SHA-256 checksum of the up
 *     file and parses the leading `-- cairn:` directives.
 *
 * Problems with file names (bad name, duplicate version, a down file
 * without an up file, symlinks, submodules, unknown files) are not load
 * errors: they become findings of the set, so `validate` can report all of
 * them at once.  Load errors are for things that stop everything: an
 * unknown revision, an unreadable object.
 *
 * Provenance (which commit added each up file, which last changed it) is
 * filled in by cairn_migration_set_provenance(), which walks history from
 * the set's commit and diffs only commits whose migrations subtree id
 * changed; see src/provenance.c.
 *
 * Versions are dotted numbers, each part 1-20 digits compared as a
 * number ("1.10" > "1.9"; a plain "42" is a one-part version), with a
 * directory part in front when each subdirectory numbers its own
 * migrations (CAIRN_LAYOUT_PER_DIRECTORY: "billing/3", ordered by
 * directory, then number).  `version` holds the normalized form (no
 * leading zeros in a part, no trailing ".0" parts: V1.0 and V1 are one
 * version), `version_text` the version as written in the file name (with
 * its directory in front when per-directory; Flyway's V1_2 reads "1.2",
 * as Flyway shows it).  cairn_version_compare()
 * (common.h) orders them.
 */
#ifndef CAIRN_MIGRATION_H
#define CAIRN_MIGRATION_H

#include "common.h"
#include "finding.h"
#include "repo.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct cairn_migration_set cairn_migration_set;

typedef struct cairn_directives {
	bool no_transaction;
	char *statement_timeout; /* as written ("5min"), NULL when unset */
	char *lock_timeout;
	uint64_t statement_timeout_ms;
	uint64_t lock_timeout_ms;
	char **allow;            /* NULL-terminated list of allowed rules */
	size_t allow_count;
} cairn_directives;

typedef struct cairn_migration {
	char *version;      /* normalized: "42" */
	char *version_text; /* as written: "0042" */
	char *name;         /* "create_users" */
	char *subdir;       /* below migrations_dir: "" or "billing" */
	char *up_path;      /* repository-relative: "db/migrations/0042_x.up.sql" */
	char *down_path;    /* NULL when there is no down file */
	char up_blob[CAIRN_OID_HEXSZ];   /* git blob id ("" in worktree mode) */
	char down_blob[CAIRN_OID_HEXSZ]; /* "" when there is no down file */

	/* Filled by cairn_migration_load_content(). */
	bool content_loaded;
	bool content_ok;    /* false when the files failed a check */
	char checksum[CAIRN_SHA256_HEXSZ]; /* SHA-256 of the up file, hex */
	char *up_sql;       /* NUL-terminated; up_len bytes */
	size_t up_len;
	char *down_sql;     /* NULL when no down file */
	size_t down_len;
	cairn_directives up_directives;
	cairn_directives down_directives;

	/* Filled by cairn_migration_set_provenance(). */
	bool has_provenance;
	cairn_commit_info introduced; /* commit that added the up file */
	cairn_commit_info changed;    /* last commit that changed it */

	/* A repeatable migration (include/cairn/repeatable.h): no version
	 * ("" in version and version_text), no down file. */
	bool repeatable;
} cairn_migration;

/*
 * How migration files are named (`layout:` in cairn.yaml):
 *  - CAIRN_LAYOUT_CAIRN: <version>_<name>.up.sql / .down.sql, the name
 *    made of letters, digits, '_', '-' and '.';
 *  - CAIRN_LAYOUT_GOLANG_MIGRATE: the same pattern, any name;
 *  - CAIRN_LAYOUT_DBMATE: one <version>_<name>.sql per migration with
 *    `-- migrate:up [transaction:false]` and `-- migrate:down` sections;
 *  - CAIRN_LAYOUT_FLYWAY: V<version>__<desc>.sql, U<version>__<desc>.sql
 *    undo files as down files; the version may be dotted (V1.2.3__x.sql,
 *    or V1_2__x.sql as Flyway reads '_' as '.').
 * The cairn layout takes dotted versions too (1.2_x.up.sql); the
 * golang-migrate and dbmate layouts whole numbers only, as those tools.
 * In the cairn and golang-migrate layouts, a dialect (`dialect:`) selects
 * files whose name ends in `.<dialect>` before `.up.sql` (Kratos'
 * `x.postgres.up.sql`) and skips other known dialects' files.
 */
typedef enum cairn_layout {
	CAIRN_LAYOUT_CAIRN = 0,
	CAIRN_LAYOUT_GOLANG_MIGRATE,
	CAIRN_LAYOUT_DBMATE,
	CAIRN_LAYOUT_FLYWAY
} cairn_layout;

/*
 * Or'ed into a layout (`versions: per-directory`): each subdirectory of
 * the migrations directory is its own sequence (migrations/0/01_x.up.sql,
 * migrations/1/01_y.up.sql) and a migration's version is
 * "<subdirectory>/<number>".  Without it, every subdirectory shares one
 * sequence and the same number twice is a duplicate.
 * CAIRN_LAYOUT_KIND() takes the flag off.
 */
#define CAIRN_LAYOUT_PER_DIRECTORY 0x100
#define CAIRN_LAYOUT_KIND(l) ((cairn_layout)((unsigned)(l) & 0xffu))

/* "global" or "per-directory" (`versions:`); false when unknown. */
CAIRN_EXTERN(bool) cairn_versions_parse(const char *name,
					bool *per_directory);

/* Whether s is a migration version, as written or normalized. */
CAIRN_EXTERN(bool) cairn_version_is_valid(const char *s);

/* "cairn", "golang-migrate", "dbmate", "flyway"; false when unknown. */
CAIRN_EXTERN(bool) cairn_layout_parse(const char *name, cairn_layout *out);
CAIRN_EXTERN(const char *) cairn_layout_name(cairn_layout layout);

typedef struct cairn_load_options {
	unsigned int version;
	const char *rev;            /* default "HEAD" */
	const char *dir;            /* default "db/migrations" */
	bool worktree;              /* read the working tree instead of rev */
	const char *const *ignore;  /* fnmatch globs of files to skip */
	size_t ignore_count;
	size_t max_file_size;       /* default 64 MiB */
	/* version 2 */
	cairn_layout layout;        /* default CAIRN_LAYOUT_CAIRN; may
				     * carry CAIRN_LAYOUT_PER_DIRECTORY */
	const char *dialect;        /* "postgres"; NULL: no dialect infix */
} cairn_load_options;

#define CAIRN_LOAD_OPTIONS_VERSION 2
#define CAIRN_LOAD_OPTIONS_INIT { CAIRN_LOAD_OPTIONS_VERSION, NULL, NULL, \
				  false, NULL, 0, 0, CAIRN_LAYOUT_CAIRN, \
				  NULL }

/*
 * Lists the migrations at opts->rev (or the working tree).  A missing
 * migrations directory gives an empty set with a "missing-dir" finding
 * (see cairn_migration_set_check_dir()).  In the working tree, a
 * symbolic link on the way to the directory is an error
 * (CAIRN_ERRCLASS_VALIDATION); tree entries whose names hold '/' are
 * git errors.
 */
CAIRN_EXTERN(int) cairn_migration_set_load(cairn_migration_set **out,
					   cairn_repo *repo,
					   const cairn_load_options *opts);
CAIRN_EXTERN(void) cairn_migration_set_free(cairn_migration_set *set);

/* Migrations sorted by version (ascending). */
CAIRN_EXTERN(size_t) cairn_migration_set_count(const cairn_migration_set *set);
CAIRN_EXTERN(cairn_migration *) cairn_migration_set_get(
	const cairn_migration_set *set, size_t i);
/* Finds by version (any spelling: "0042" finds "42"); NULL if absent. */
CAIRN_EXTERN(cairn_migration *) cairn_migration_set_find(
	const cairn_migration_set *set, const char *version);
/* The highest version, or NULL when the set is empty. */
CAIRN_EXTERN(const char *) cairn_migration_set_max_version(
	const cairn_migration_set *set);

/* The commit the set was read from ("" in worktree mode). */
CAIRN_EXTERN(const char *) cairn_migration_set_commit(
	const cairn_migration_set *set);
/* The migrations directory as configured ("db/migrations"). */
CAIRN_EXTERN(const char *) cairn_migration_set_dir(
	const cairn_migration_set *set);
/* The git tree id of the migrations directory ("" if absent/worktree). */
CAIRN_EXTERN(const char *) cairn_migration_set_tree(
	const cairn_migration_set *set);
CAIRN_EXTERN(bool) cairn_migration_set_is_worktree(
	const cairn_migration_set *set);

/*
 * 0 when the migrations directory exists at the set's revision (or in
 * the working tree).  Otherwise sets a CAIRN_ERRCLASS_VALIDATION error
 * naming the directory and the revision, with a hint, and returns
 * CAIRN_ENOTFOUND: for commands that do not report findings.
 */
CAIRN_EXTERN(int) cairn_migration_set_check_dir(
	const cairn_migration_set *set);

/* Findings about file names and contents gathered while loading. */
CAIRN_EXTERN(const cairn_findings *) cairn_migration_set_findings(
	const cairn_migration_set *set);

/*
 * Reads and checks one migration's files (idempotent).  Content problems
 * (too large, binary, non-UTF-8, unknown directive) become findings of the
 * set and leave m->content_ok false; the return value is an error only
 * when the object could not be read at all.
 */
CAIRN_EXTERN(int) cairn_migration_load_content(cairn_migration_set *set,
					       cairn_migration *m);
/* cairn_migration_load_content() for every migration of the set. */
CAIRN_EXTERN(int) cairn_migration_set_load_contents(cairn_migration_set *set);

/*
 * Fills introduced/changed for the migrations whose versions are listed
 * (NULL: all of them).  Walks history from the set's commit; stops as
 * soon as every asked-for migration is resolved.  May read and write a
 * cache under the git directory (cairn/), which never changes an answer.
 * In worktree mode, migrations not yet committed get no provenance.
 * Versions that are not in the set are ignored.  The repository must be
 * the one the set was loaded from.
 */
CAIRN_EXTERN(int) cairn_migration_set_provenance(cairn_migration_set *set,
						 cairn_repo *repo,
						 const char *const *versions,
						 size_t count);

/*
 * Parses `-- cairn:` directives at the top of sql.  Findings (unknown
 * directive, bad value) are added to findings with the given file name.
 */
CAIRN_EXTERN(int) cairn_directives_parse(cairn_directives *out,
					 const char *sql, size_t len,
					 const char *file,
					 cairn_findings *findings);
CAIRN_EXTERN(void) cairn_directives_dispose(cairn_directives *d);
/* True when `-- cairn: allow RULE` (or allow all) is present. */
CAIRN_EXTERN(bool) cairn_directives_allows(const cairn_directives *d,
					   const char *rule);

/*
 * Parses a migration file name (the base name, no directory).  Returns
 * true and fills the parts when it is `<digits>_<name>.(up|down).sql`
 * (a whole-number version: a dotted one gives false).
 * version_len and name_len receive the lengths of the parts within base.
 */
CAIRN_EXTERN(bool) cairn_migration_parse_filename(const char *base,
						  size_t *version_len,
						  const char **name,
						  size_t *name_len,
						  bool *is_down);

#ifdef __cplusplus
}
#endif

#endif
