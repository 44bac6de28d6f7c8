/*
 * prepush_internal.h - what the pre-push files share.
 *
 * The checks behind cairn's git hooks (include/cairn/prepush.h) are cut
 * along their seams: git's input (src/prepush_input.c), the versions at
 * a commit read from tree entries (src/prepush_scan.c), the fast path
 * (src/prepush_fast.c), finding the base of a new ref
 * (src/prepush_base.c), the checks themselves and blame
 * (src/prepush_check.c), and the database checks (src/prepush_db.c).
 */
#ifndef CAIRN_SRC_PREPUSH_INTERNAL_H
#define CAIRN_SRC_PREPUSH_INTERNAL_H

#include "util/attrs.h"

#include <stdbool.h>
#include <stddef.h>

#include "cairn/prepush.h"
#include "cairn/repo.h"

typedef char version_t[21]; /* normalized: 1-20 digits */

/* The up files of a tree: the highest version ("" when none), and when
 * `counting`, how many there are. */
struct vmax {
	version_t max;
	size_t count;
	bool counting;
};

/* Copies the digits of a version into out without leading zeros. */
void cairn_prepush__normalize(version_t out, const char *digits,
			      size_t len);

/* What loading skips: see ignored() in src/migration.c. */
bool cairn_prepush__skipped(const cairn_prepush_options *opts,
			    const char *rel, const char *base);

/*
 * The highest version of the up files at a commit (and how many, when
 * v->counting is set), skipping what loading skips.  Reads raw tree
 * entries (no blob, no allocation per entry); libgit2's trees when the
 * raw reading trips on anything.
 */
CAIRN_WARN_UNUSED int cairn_prepush__versions_at(struct vmax *v,
						 cairn_repo *repo,
						 const char *commit,
						 const char *dir,
						 const cairn_prepush_options *opts);

/*
 * The fast path.  Returns 1 when it decided the update (r->set is a
 * partial set then, or r->unchanged is set), 0 when the general path
 * must run (nothing is kept then), or an error.
 */
CAIRN_WARN_UNUSED int cairn_prepush__fast_check(cairn_prepush_result *r,
						cairn_repo *repo,
						const cairn_push_update *u,
						const cairn_prepush_options *opts,
						const char *dir);

/*
 * The base of a ref the remote does not have (or has at a commit we do
 * not know): the boundary of the remote-tracking refs' history.  Sets
 * r->base_kind, r->base and r->hidden.
 */
CAIRN_WARN_UNUSED int cairn_prepush__tracking_base(cairn_prepush_result *r,
						   cairn_repo *repo,
						   const cairn_push_update *u,
						   const cairn_prepush_options *opts,
						   const char *dir);

/* Loads the whole migration set at rev, as opts describe it. */
CAIRN_WARN_UNUSED int cairn_prepush__load_set(cairn_migration_set **out,
					      cairn_repo *repo,
					      const char *rev,
					      const cairn_prepush_options *opts);

#endif
