/*
 * git/diff.h (internal) - the one tree diff (git/diff.c), for every
 * reader of history (see git/git.h): provenance, range and pre-push.
 *
 * It compares two trees read through a tree cache and reports every
 * entry that is not a tree and differs: added, deleted, or modified
 * (another id or another mode, modes compared normalised, see
 * cairn_git__mode_normalize()).  Entries are matched in git's tree
 * order, so a file replaced by a directory of the same name is the file
 * deleted and the directory's files added.  Only subtrees whose ids
 * differ are descended into, and within one tree only the entries
 * between the two objects' longest common head and tail are compared.
 */
#ifndef CAIRN_SRC_GIT_DIFF_H
#define CAIRN_SRC_GIT_DIFF_H

#include "util/attrs.h"

#include <git2.h>

#include "git/tree.h"
#include "util/buf.h"

typedef enum cairn_git_change {
	CAIRN_GIT_ADDED,
	CAIRN_GIT_MODIFIED,
	CAIRN_GIT_DELETED,
} cairn_git_change;

/*
 * Called for every differing entry that is not a tree: path holds its
 * path (the prefix the diff was given, then the path below the trees
 * compared); a is the old entry (NULL when added), b the new one (NULL
 * when deleted), their modes normalised.  A negative return stops the
 * diff and is returned by it.
 */
typedef int (*cairn_git_diff_fn)(void *ctx, const cairn_buf *path,
				 cairn_git_change what,
				 const cairn_git_entry *a,
				 const cairn_git_entry *b);

/*
 * Compares trees a and b (zero ids are empty trees).  path holds the
 * prefix of the reported paths (empty, or ending in '/'); it is left as
 * it was.
 */
CAIRN_WARN_UNUSED int cairn_git__diff_trees(cairn_git_trees *c, cairn_buf *path,
					    const git_oid *a, const git_oid *b,
					    cairn_git_diff_fn fn, void *ctx);

#endif
