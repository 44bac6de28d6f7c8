/*
 * repeatable.h - repeatable migrations: files without a version that
 * `migrate up` applies again whenever their content changes (views,
 * functions, grants), after every versioned migration of the run.
 *
 * Names in the migrations directory (any subdirectory):
 *  - layout cairn:  <name>.repeatable.sql   (name: letters, digits, '_',
 *                                           '-', '.'; not starting or
 *                                           ending with '.')
 *  - layout flyway: R__<name>.sql           (Flyway's repeatables)
 * The golang-migrate and dbmate layouts have none (those tools have no
 * such thing).  A repeatable is known by its name alone: two files with
 * the same name (in two subdirectories) are a "duplicate-repeatable"
 * finding and neither is applied.
 *
 * A repeatable is a cairn_migration with `repeatable` set, `version` and
 * `version_text` "" (it has no version) and no down file; contents,
 * checksum (SHA-256 of the file) and directives load as for any
 * migration (cairn_migration_load_content()).
 *
 * The database side is the table <schema>.repeatables (schema version 4):
 *   name           text primary key
 *   checksum       text not null          SHA-256 of the file applied, hex
 *   blob           text                   its git blob id
 *   file           text                   repository-relative path
 *   no_transaction boolean not null default false
 *   commit_sha     text                   the commit that last changed it
 *   author_name, author_email text, authored_at timestamptz
 *   deploy_rev, deploy_ref text
 *   applied_by     text                   the actor
 *   applied_at     timestamptz not null default now()
 *   duration_ms    bigint
 *   run_id         text                   the run that applied it
 *   cairn_version  text
 *   imported_checksum text                Flyway's CRC32 when imported
 * One row per name: applying again replaces the row.  A row whose file
 * is gone stays (status reports it "deleted"); cairn never drops what a
 * repeatable created.
 */
#ifndef CAIRN_REPEATABLE_H
#define CAIRN_REPEATABLE_H

#include "common.h"
#include "db.h"
#include "migration.h"
#include "repo.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The repeatables of a set, sorted by name. */
CAIRN_EXTERN(size_t) cairn_migration_set_repeatable_count(
	const cairn_migration_set *set);
CAIRN_EXTERN(cairn_migration *) cairn_migration_set_repeatable(
	const cairn_migration_set *set, size_t i);
/* By name; NULL when absent. */
CAIRN_EXTERN(cairn_migration *) cairn_migration_set_find_repeatable(
	const cairn_migration_set *set, const char *name);

/* cairn_migration_load_content() for every repeatable of the set. */
CAIRN_EXTERN(int) cairn_repeatable_load_contents(cairn_migration_set *set);

/*
 * Fills introduced/changed of repeatable m with the commit that last
 * changed its file at the set's revision (the content that would be
 * applied; both fields hold it).  Nothing in worktree mode.
 */
CAIRN_EXTERN(int) cairn_repeatable_provenance(cairn_migration_set *set,
					      cairn_repo *repo,
					      cairn_migration *m);

typedef enum cairn_repeatable_state {
	CAIRN_REPEATABLE_CURRENT = 0, /* applied with the file's checksum */
	CAIRN_REPEATABLE_NEW,         /* never applied */
	CAIRN_REPEATABLE_CHANGED,     /* applied with another checksum */
	CAIRN_REPEATABLE_DELETED      /* recorded, no file at the revision */
} cairn_repeatable_state;

/* "current", "pending", "changed", "deleted" */
CAIRN_EXTERN(const char *) cairn_repeatable_state_name(
	cairn_repeatable_state s);

/* One row of <schema>.repeatables (strings "" when NULL). */
typedef struct cairn_repeatable_row {
	char *name;
	char *checksum;
	char *file;
	char *commit_sha;
	char *author_name;
	char *author_email;
	char *applied_at;   /* ISO 8601, UTC */
	char *applied_by;
	char *run_id;
	int64_t duration_ms;
} cairn_repeatable_row;

typedef struct cairn_repeatable_entry {
	cairn_migration *migration;       /* NULL when deleted */
	const cairn_repeatable_row *row;  /* NULL when new */
	cairn_repeatable_state state;
} cairn_repeatable_entry;

typedef struct cairn_repeatable_status {
	cairn_repeatable_row *rows;
	size_t nrows;
	cairn_repeatable_entry *items;    /* sorted by name */
	size_t count;
} cairn_repeatable_status;

/*
 * Reads <schema>.repeatables (never writes: no table is an empty list)
 * and joins it with the set's repeatables, whose contents it loads to
 * compare checksums.  Rows without a file come last as DELETED.
 */
CAIRN_EXTERN(int) cairn_repeatable_status_load(cairn_repeatable_status *out,
					       cairn_migration_set *set,
					       cairn_db *db);
CAIRN_EXTERN(void) cairn_repeatable_status_dispose(
	cairn_repeatable_status *st);

/* Whether the entry would be applied by the next `migrate up`. */
CAIRN_EXTERN(bool) cairn_repeatable_entry_is_due(
	const cairn_repeatable_entry *e);

/* ---- taking over Flyway's repeatables (cairn import flyway) ---------- */

/*
 * Flyway's checksum of a file: CRC-32 over its lines without their line
 * terminators (\n, \r\n, \r), a leading UTF-8 byte order mark left
 * out, as a signed 32-bit number (what flyway_schema_history.checksum
 * holds).
 */
CAIRN_EXTERN(int32_t) cairn_flyway_checksum(const char *data, size_t len);

/* One repeatable of flyway_schema_history (its latest successful run). */
typedef struct cairn_imported_repeatable {
	char *script;           /* Flyway's script, e.g. "R__views.sql" */
	char *description;
	bool has_checksum;
	int32_t flyway_checksum;
	cairn_migration *migration; /* the file at the revision; NULL: none */
	int32_t file_checksum;  /* cairn_flyway_checksum() of that file */
	/* recorded as applied (checksums equal); else left pending, so the
	 * next `migrate up` applies it again */
	bool applied;
	char *installed_by;
	char *installed_on;     /* ISO 8601, UTC */
} cairn_imported_repeatable;

typedef struct cairn_imported_repeatables {
	cairn_imported_repeatable *items;   /* in installed_rank order */
	size_t count;
} cairn_imported_repeatables;

/*
 * Reads the repeatables of flyway_schema_history (rows with no version,
 * type SQL; the latest successful run of each script) and matches them
 * to the set's repeatables by file name.  Never writes; no table is an
 * empty list.  `cairn import flyway` records those marked applied in
 * <schema>.repeatables, audited as `imported` (cairn_import()).
 */
CAIRN_EXTERN(int) cairn_import_flyway_repeatables(
	cairn_imported_repeatables *out, cairn_migration_set *set,
	cairn_db *db);
CAIRN_EXTERN(void) cairn_imported_repeatables_dispose(
	cairn_imported_repeatables *list);

#ifdef __cplusplus
}
#endif

#endif
