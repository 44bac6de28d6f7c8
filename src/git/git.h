/*
 * git/git.h (internal) - cairn's git object layer: everything that reads
 * history, in one place.
 *
 * Why a directory.  Provenance, range, pre-push and migration loading
 * all read the same things: objects (through libgit2, with a raw pack
 * reader in front of it for speed), tree entries in git's tree order,
 * the differences between two trees, commit headers, and walks over the
 * commit graph.  Each used to carry its own copy of some of these, and
 * the copies drifted apart (mode normalisation, tree order, what counts
 * as a change).  The object layer is one subsystem every reader of
 * history shares, so it lives in its own directory, like src/util and
 * src/engine, with one definition of each:
 *
 *   git/odb.h      reading objects: libgit2, with the raw pack reader
 *                  (git/odb_raw.c) as an accelerator behind the same
 *                  interface; the repository's object format is checked
 *   git/tree.h     tree entries: parsing, mode normalisation, git's tree
 *                  order, one iterator, path lookups, a small tree cache
 *   git/diff.h     the one tree diff (git/diff.c)
 *   git/commit.h   the one commit-header and signature parser
 *   git/walk.h     the commit graph and its history walks
 *
 * Files under src/git/ include only util headers, the public headers
 * and each other (make check-layering): they take libgit2's repository
 * handle, never a cairn_repo, so the layer sits below everything that
 * knows what a migration is.
 */
#ifndef CAIRN_SRC_GIT_GIT_H
#define CAIRN_SRC_GIT_GIT_H

#include "git/commit.h"
#include "git/diff.h"
#include "git/odb.h"
#include "git/tree.h"
#include "git/walk.h"

/*
 * Sets a CAIRN_ERRCLASS_GIT error with the printf-style message and
 * libgit2's last error (if any) as the detail.  Returns CAIRN_ERROR.
 */
int cairn_git__error(const char *fmt, ...)
	__attribute__((format(printf, 1, 2)));

#endif
