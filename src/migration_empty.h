/*
 * migration_empty.h (internal) - is a migration file empty, that is,
 * without a single SQL statement (only blanks, comments, directives and
 * semicolons)?  `cairn new` writes such templates; applying one records
 * a migration that changed nothing, so validate warns, migrate refuses
 * it unless the file says `-- cairn: allow empty`, and rolling back an
 * empty down file is warned about.
 */
#ifndef CAIRN_SRC_MIGRATION_EMPTY_H
#define CAIRN_SRC_MIGRATION_EMPTY_H

#include "util/attrs.h"

#include "cairn/migration.h"

/* The directive rule that allows an empty file: `-- cairn: allow empty`. */
#define CAIRN_ALLOW_EMPTY "empty"

/* *out: sql (len bytes) holds no statement.  Fails only out of memory. */
CAIRN_WARN_UNUSED int cairn_migration__sql_is_empty(bool *out,
						    const char *sql,
						    size_t len);

/*
 * The up file of m (content loaded) is empty and does not say
 * `allow empty`.  *out false when the content is not loaded.
 */
CAIRN_WARN_UNUSED int cairn_migration__up_is_empty(bool *out,
						   const cairn_migration *m);
/* The same for the down file (false when there is none). */
CAIRN_WARN_UNUSED int cairn_migration__down_is_empty(bool *out,
						     const cairn_migration *m);

/*
 * validate's warning: one `empty-migration` finding in out for each
 * migration of set (contents loaded) whose up file is empty.
 */
CAIRN_WARN_UNUSED int cairn_migration__empty_findings(cairn_findings *out,
						      cairn_migration_set *set);

#endif
