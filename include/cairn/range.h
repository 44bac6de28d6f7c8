/*
 * range.h - which commits of a range changed which migration files.
 *
 * cairn_range_changes() walks the commits reachable from a tip and not
 * from any of the hidden revisions (`git rev-list TIP ^HIDE...`) and
 * tells, for every file below the migrations directory that one of them
 * added, modified or deleted, the oldest and the newest commit of the
 * range that did so.  The pre-push check uses it to name the commit that
 * edited an already-pushed migration, or that added a migration with a
 * bad name.
 *
 * Only the range is walked, never the history beyond it, and only the
 * commits whose migrations subtree id differs from their parents' are
 * diffed; the diff descends only into subtrees whose ids differ and
 * reads no blob.  A merge changes a file only when the file differs from
 * every parent (git's combined-diff rule): what a merge brings from its
 * other side is attributed to the commits of that side.
 */
#ifndef CAIRN_RANGE_H
#define CAIRN_RANGE_H

#include "common.h"
#include "repo.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum {
	CAIRN_RANGE_ADDED = 'A',
	CAIRN_RANGE_MODIFIED = 'M',
	CAIRN_RANGE_DELETED = 'D'
} cairn_range_kind;

typedef struct cairn_range_file {
	char *path;                   /* repository-relative */
	cairn_range_kind first_kind;  /* what the oldest commit did to it */
	cairn_range_kind last_kind;   /* what the newest commit did to it */
	char first[CAIRN_OID_HEXSZ];  /* oldest commit of the range changing it */
	char last[CAIRN_OID_HEXSZ];   /* newest commit of the range changing it */
	unsigned commits;             /* how many commits of the range did */
	unsigned mode;                /* git file mode after the newest
				       * change (0100644, 0120000 ...); 0
				       * when that change deleted it */
	char blob[CAIRN_OID_HEXSZ];   /* its object id then; "" if deleted */
} cairn_range_file;

typedef struct cairn_range {
	cairn_range_file *files; /* sorted by path (strcmp) */
	size_t count;
	size_t commits;          /* commits walked */
	size_t diffed;           /* of those, commits whose subtree changed */
	bool truncated;          /* stopped at max_commits */
} cairn_range;

#define CAIRN_RANGE_INIT { NULL, 0, 0, 0, false }

typedef struct cairn_range_options {
	unsigned int version;
	const char *dir;           /* default "db/migrations"; "" = the root */
	const char *const *hide;   /* revisions whose history is left out */
	size_t hide_count;
	size_t max_commits;        /* 0: no limit */
} cairn_range_options;

#define CAIRN_RANGE_OPTIONS_VERSION 1
#define CAIRN_RANGE_OPTIONS_INIT { CAIRN_RANGE_OPTIONS_VERSION, NULL, NULL, \
				   0, 0 }

/*
 * Fills *out with the files the commits of tip ^hide... changed below
 * opts->dir.  Unknown revisions fail with class CAIRN_ERRCLASS_GIT and
 * CAIRN_ENOTFOUND.  Dispose *out with cairn_range_dispose().
 */
CAIRN_EXTERN(int) cairn_range_changes(cairn_range *out, cairn_repo *repo,
				      const char *tip,
				      const cairn_range_options *opts);

/*
 * The files that differ below opts->dir between two commits, as `git
 * diff --no-renames FROM TO -- DIR` lists them, without walking the
 * commits in between: one comparison of the two subtrees that descends
 * only where ids differ.  Each file's first and last are `to`, its kinds
 * say what happened from `from` to `to`.  opts->hide and max_commits are
 * not used.
 */
CAIRN_EXTERN(int) cairn_range_diff(cairn_range *out, cairn_repo *repo,
				   const char *from, const char *to,
				   const cairn_range_options *opts);

/* The entry for a repository-relative path, or NULL. */
CAIRN_EXTERN(const cairn_range_file *) cairn_range_find(
	const cairn_range *range, const char *path);

CAIRN_EXTERN(void) cairn_range_dispose(cairn_range *range);

#ifdef __cplusplus
}
#endif

#endif
