/*
 * repo_internal.h - what the rest of the library may know about a
 * cairn_repo: the libgit2 handle inside it and a few helpers that turn
 * libgit2 results into cairn errors and commit records.
 *
 * Only src/repo.c, src/migration.c and src/provenance.c include this; the
 * public interface is include/cairn/repo.h.
 */
#ifndef CAIRN_SRC_REPO_INTERNAL_H
#define CAIRN_SRC_REPO_INTERNAL_H

#include <git2.h>

#include "cairn/repo.h"

struct cairn_repo {
	git_repository *git;
	char *path;      /* what the caller passed, for messages */
	char *workdir;   /* with a trailing '/', NULL when bare */
	char *gitdir;
	char *commondir;
};

/* The libgit2 repository of repo (borrowed). */
git_repository *cairn_repo__git(cairn_repo *repo);

/*
 * Sets a CAIRN_ERRCLASS_GIT error with the printf-style message and
 * libgit2's last error (if any) as the detail.  Returns CAIRN_ERROR.
 */
int cairn_repo__error(const char *fmt, ...)
	__attribute__((format(printf, 1, 2)));

/*
 * Resolves rev to a commit.  Unknown revisions set a CAIRN_ERRCLASS_GIT
 * error and return CAIRN_ENOTFOUND.  Caller frees *out.
 */
int cairn_repo__lookup_commit(git_commit **out, cairn_repo *repo,
			      const char *rev);

/* Fills info from a commit (author, time, summary); 0 or CAIRN_ERROR. */
int cairn_repo__commit_info_fill(cairn_commit_info *out,
				 const git_commit *commit);

/*
 * A raw object reader for history walks that read thousands of related
 * trees (see the comment in src/repo.c).  Objects are counted
 * references: release each with cairn_repo__rawobj_free().
 */
typedef struct cairn_rawobj {
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

	/* private to src/repo.c */
	unsigned refs;
	unsigned char *buf;
	git_odb_object *gobj;
	bool cached;
	struct cairn_rawobj *hnext, *prev, *next;
} cairn_rawobj;

typedef struct cairn_rawodb cairn_rawodb;

/*
 * cache_budget: bytes of built objects to keep for later reads (0 for a
 * reader that reads a few unrelated objects).
 */
int cairn_repo__rawodb_new(cairn_rawodb **out, cairn_repo *repo,
			   size_t cache_budget);
void cairn_repo__rawodb_free(cairn_rawodb *db);
/*
 * Reads an object.  A missing object is CAIRN_ENOTFOUND with a
 * CAIRN_ERRCLASS_GIT error set.
 */
int cairn_repo__rawodb_read(cairn_rawobj **out, cairn_rawodb *db,
			    const git_oid *id);
void cairn_repo__rawobj_free(cairn_rawobj *obj);
/* One entry of a raw tree object. */
typedef struct cairn_tree_entry {
	const char *name;         /* len bytes, NUL-terminated in the object */
	size_t len;
	unsigned mode;            /* 040000 for a tree, 0100644, 0120000 ... */
	const unsigned char *id;  /* GIT_OID_RAWSZ bytes */
} cairn_tree_entry;

/*
 * Parses the tree entry at *p (before end) and moves *p past it.
 * Returns 0, or CAIRN_ERROR (a CAIRN_ERRCLASS_GIT error) when the bytes
 * are not a tree entry.
 */
int cairn_repo__tree_entry(cairn_tree_entry *e, const unsigned char **p,
			   const unsigned char *end);

/* How many objects came from the packs and from libgit2 (for tests). */
void cairn_repo__rawodb_stats(const cairn_rawodb *db, size_t *packed,
			      size_t *fallback);

#endif
