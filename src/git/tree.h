/*
 * git/tree.h (internal) - tree objects for every reader of history (see
 * git/git.h): the parser of raw tree entries, the one definition of mode
 * normalisation and of git's tree order, the one iterator over a tree's
 * entries, path lookups, and a small cache of trees for walks that read
 * the same trees again (git/tree.c, git/tree_cache.c).
 */
#ifndef CAIRN_SRC_GIT_TREE_H
#define CAIRN_SRC_GIT_TREE_H

#include "util/attrs.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <git2.h>

#include "git/odb.h"

/* One entry of a raw tree object. */
typedef struct cairn_git_entry {
	const char *name;         /* len bytes, NUL-terminated in the object */
	size_t len;
	unsigned mode;            /* as written: 040000, 0100644, 0120000 ... */
	const unsigned char *id;  /* GIT_OID_RAWSZ bytes */
} cairn_git_entry;

/*
 * Parses the tree entry at *p (before end) and moves *p past it.
 * Returns 0, or CAIRN_ERROR (a CAIRN_ERRCLASS_GIT error) when the bytes
 * are not a tree entry, or name a path component git never writes ('/',
 * "." or "..").
 */
CAIRN_WARN_UNUSED int cairn_git__entry_parse(cairn_git_entry *e,
					     const unsigned char **p,
					     const unsigned char *end);

/*
 * What git (and git_tree_entry_filemode()) makes of a mode as written:
 * one of GIT_FILEMODE_TREE, _BLOB, _BLOB_EXECUTABLE, _LINK, _COMMIT.
 * Every comparison of modes in cairn goes through this.
 */
unsigned cairn_git__mode_normalize(unsigned mode);

static inline bool cairn_git__mode_is_tree(unsigned mode)
{
	return (mode & 0170000u) == 040000u;
}

/* Whether an entry of this mode is a file (a blob, executable or not). */
static inline bool cairn_git__mode_is_file(unsigned mode)
{
	return (mode & 0170000u) == 0100000u;
}

/*
 * git's tree order: names compared as bytes, a tree's name as if it
 * ended in '/' ("a" < "a.sql" < "a/" when a/ is a tree).
 */
int cairn_git__entry_cmp(const cairn_git_entry *a, const cairn_git_entry *b);

/* ---- the tree cache (git/tree_cache.c) ---- */

#define CAIRN_GIT_TREE_CACHE 16

/*
 * A tree kept in a cache, with the offsets of its entries once the diff
 * needed them (offs[n] is the length).  Counted references: the cache
 * holds one and every user holds one.
 */
typedef struct cairn_git_tree {
	git_oid oid;
	cairn_git_obj *obj;
	const unsigned char *data;
	size_t len;
	uint32_t *offs;
	size_t n;
	unsigned refs;
	bool is_static;
	uint64_t used;
} cairn_git_tree;

/*
 * A small LRU of trees read through db, so a tree read as one commit's
 * "old" side is reused as its parent's "new" side, with its offsets.
 */
typedef struct cairn_git_trees {
	cairn_git_odb *db;        /* borrowed */
	cairn_git_tree *lru[CAIRN_GIT_TREE_CACHE];
	uint64_t clock;
	cairn_git_tree empty;     /* the empty tree (a zero id) */
	uint32_t empty_offs[1];
} cairn_git_trees;

void cairn_git__trees_init(cairn_git_trees *c, cairn_git_odb *db);
void cairn_git__trees_dispose(cairn_git_trees *c);
/* A tree from the cache (or read); *out is a new reference. */
CAIRN_WARN_UNUSED int cairn_git__trees_get(cairn_git_tree **out,
					   cairn_git_trees *c,
					   const git_oid *id);
/* Drops a reference to a tree (NULL is fine). */
void cairn_git__tree_put(cairn_git_tree *t);

/*
 * The one iterator over a tree's entries.  Open it on an id through a
 * cache (zero: the empty tree) or on the bytes of a tree already read.
 */
typedef struct cairn_git_treeiter {
	cairn_git_tree *t;        /* held while iterating, NULL for bytes */
	const unsigned char *start;
	const unsigned char *p;
	const unsigned char *end;
} cairn_git_treeiter;

CAIRN_WARN_UNUSED int cairn_git__tree_open(cairn_git_treeiter *it,
					   cairn_git_trees *c,
					   const git_oid *id);
void cairn_git__tree_open_bytes(cairn_git_treeiter *it,
				const unsigned char *data, size_t len);
/* 1: an entry in *e, 0: the end, CAIRN_ERROR: a corrupt tree. */
CAIRN_WARN_UNUSED int cairn_git__tree_next(cairn_git_treeiter *it,
					   cairn_git_entry *e);
/* Back to the first entry. */
void cairn_git__tree_rewind(cairn_git_treeiter *it);
void cairn_git__tree_close(cairn_git_treeiter *it);

/*
 * The entry called name (n bytes) in tree `tree`: *id and *mode, or a
 * zero id and mode 0 when absent (a zero tree id is the empty tree).
 */
CAIRN_WARN_UNUSED int cairn_git__tree_child(git_oid *id, unsigned *mode,
					    cairn_git_trees *c,
					    const git_oid *tree,
					    const char *name, size_t n);
/*
 * The entry at path ("a/b/c", no leading or trailing '/') below tree:
 * its id and mode, or a zero id and mode 0 when absent or when a
 * component before the last is not a tree.  An empty path is the tree
 * itself (mode 040000).
 */
CAIRN_WARN_UNUSED int cairn_git__tree_bypath(git_oid *id, unsigned *mode,
					     cairn_git_trees *c,
					     const git_oid *tree,
					     const char *path);

#endif
