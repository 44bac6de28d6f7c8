/*
 * git/odb.h (internal) - reading git objects, for every reader of
 * history (see git/git.h).
 *
 * One interface, two engines: libgit2 answers every read, and the raw
 * pack reader (git/odb_raw.c) answers first when it can, for history
 * walks that read thousands of related trees.  The raw reader never
 * changes an answer, only how fast it comes.  It reads sha1 repositories
 * only: cairn_git__odb_new() checks the repository's object format
 * (core.repositoryformatversion, extensions.objectformat) and for any
 * other format the raw reader steps aside, so libgit2 answers, or, when
 * this libgit2 cannot read the format either, opening fails with an
 * error that says so.
 */
#ifndef CAIRN_SRC_GIT_ODB_H
#define CAIRN_SRC_GIT_ODB_H

#include "util/attrs.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <git2.h>

#include "cairn/repo.h"

/*
 * An object read.  Objects are counted references: release each with
 * cairn_git__obj_free().
 */
typedef struct cairn_git_obj {
	const unsigned char *data; /* len bytes, then a NUL */
	size_t len;
	git_object_t type;
	/*
	 * Where the object is in the packs (0: not from a pack), and, when
	 * it was built from a delta, its base's place and how many leading
	 * and trailing bytes it shares with the base at least.
	 */
	uint64_t key;
	uint64_t base_key;
	size_t same_head;
	size_t same_tail;

	/* private to src/git/odb_raw.c */
	unsigned refs;
	unsigned char *buf;
	git_odb_object *gobj;
	bool cached;
	struct cairn_git_obj *hnext, *prev, *next;
} cairn_git_obj;

typedef struct cairn_git_odb cairn_git_odb;

/* How cairn_git__odb_new() reads. */
typedef enum cairn_git_odb_mode {
	CAIRN_GIT_ODB_FAST,    /* the raw pack reader first, then libgit2 */
	CAIRN_GIT_ODB_LIBGIT2, /* libgit2 only (a second opinion) */
} cairn_git_odb_mode;

/*
 * git: the repository's libgit2 handle; shown: its path, for messages.
 * cache_budget: bytes of built objects to keep for later reads (0 for a
 * reader that reads a few unrelated objects).  Fails (CAIRN_ERRCLASS_GIT)
 * when the object database cannot be opened or its object format is one
 * neither reader can read.
 */
CAIRN_WARN_UNUSED int cairn_git__odb_new(cairn_git_odb **out,
					 git_repository *git,
					 const char *shown,
					 size_t cache_budget,
					 cairn_git_odb_mode mode);
void cairn_git__odb_free(cairn_git_odb *db);
/*
 * Reads an object.  A missing object is CAIRN_ENOTFOUND with a
 * CAIRN_ERRCLASS_GIT error set.
 */
CAIRN_WARN_UNUSED int cairn_git__odb_read(cairn_git_obj **out,
					  cairn_git_odb *db,
					  const git_oid *id);
/* The same, failing (CAIRN_ERRCLASS_GIT) unless the object is a `want`. */
CAIRN_WARN_UNUSED int cairn_git__odb_read_type(cairn_git_obj **out,
					       cairn_git_odb *db,
					       const git_oid *id,
					       git_object_t want);
void cairn_git__obj_free(cairn_git_obj *obj);

/* How many objects came from the packs and from libgit2 (for tests). */
void cairn_git__odb_stats(const cairn_git_odb *db, size_t *packed,
			  size_t *fallback);

/*
 * The repository's object format, as git reads it: "sha1" unless
 * core.repositoryformatversion is 1 or more and extensions.objectformat
 * names another.  Writes the lower-cased name into out (size n).
 * Returns 0, or CAIRN_ERROR when the configuration cannot be read.
 */
CAIRN_WARN_UNUSED int cairn_git__object_format(char *out, size_t n,
					       const char *commondir);

#endif
