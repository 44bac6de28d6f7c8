/*
 * migration_load.h (internal) - the state of one cairn_migration_set_load()
 * call, shared by src/migration_load.c (which lists the migrations
 * directory into files) and src/migration_pair.c (which pairs the files
 * into the set's migrations).
 */
#ifndef CAIRN_SRC_MIGRATION_LOAD_H
#define CAIRN_SRC_MIGRATION_LOAD_H

#include "util/attrs.h"

#include <stdbool.h>
#include <stddef.h>

#include <git2.h>

#include "cairn/migration.h"
#include "git/git.h"

/* One migration file found by the listing. */
struct file {
	char *path;         /* repository-relative */
	char *subdir;       /* below the migrations directory */
	char *version;      /* normalized */
	char *version_text;
	char *name;
	bool is_down;
	bool kept;          /* an up file that made it into the set */
	size_t index;       /* its migration, when kept */
	char blob[CAIRN_OID_HEXSZ];
};

/* One load: the set being built and the files found so far. */
struct loader {
	cairn_migration_set *set;
	const cairn_load_options *opts;
	cairn_layout layout;    /* opts->layout (version 2) */
	const char *dialect;
	git_repository *git;
	cairn_git_odb *odb;
	cairn_git_trees trees;  /* the trees read (src/git/) */
	struct file *files;
	size_t nfiles;
	size_t afiles;
	size_t stop;    /* where a missing migrations_dir stops existing */
};

/*
 * Sorts ld's files and builds the set's migrations from them, adding the
 * findings about duplicates and down files without an up file.
 */
CAIRN_WARN_UNUSED int cairn_migration__pair(struct loader *ld);

/*
 * Repeatable migrations (src/migration_repeatable.c): entry() takes a
 * directory entry whose name is a repeatable's in the layout (*taken);
 * finish() sorts them and refuses duplicate names.
 */
CAIRN_WARN_UNUSED int cairn_repeatable__entry(struct loader *ld,
					      const char *subdir,
					      const char *base,
					      const char *path, bool is_file,
					      const char *blob, bool *taken);
CAIRN_WARN_UNUSED int cairn_repeatable__finish(struct loader *ld);

#endif
