/*
 * rawodb.h (internal) - a reader of raw git objects straight from the
 * repository's pack files, for history walks that read thousands of
 * related trees, and a parser of raw tree entries.  Why it exists and
 * how it stays correct: the comment at the top of src/rawodb.c.
 *
 * Used by src/migration_load.c (listing a migrations tree) and the
 * provenance walk (src/provenance_*.c); repo_internal.h includes it.
 */
#ifndef CAIRN_SRC_RAWODB_H
#define CAIRN_SRC_RAWODB_H

#include "util/attrs.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <git2.h>

#include "cairn/repo.h"

/*
 * An object read raw.  Objects are counted references: release each with
 * cairn_repo__rawobj_free().
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

	/* private to src/rawodb.c */
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
CAIRN_WARN_UNUSED int cairn_repo__rawodb_new(cairn_rawodb **out, cairn_repo *repo,
			   size_t cache_budget);
void cairn_repo__rawodb_free(cairn_rawodb *db);
/*
 * Reads an object.  A missing object is CAIRN_ENOTFOUND with a
 * CAIRN_ERRCLASS_GIT error set.
 */
CAIRN_WARN_UNUSED int cairn_repo__rawodb_read(cairn_rawobj **out, cairn_rawodb *db,
			    const git_oid *id);
void cairn_repo__rawobj_free(cairn_rawobj *obj);

/* How many objects came from the packs and from libgit2 (for tests). */
void cairn_repo__rawodb_stats(const cairn_rawodb *db, size_t *packed,
			      size_t *fallback);

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
CAIRN_WARN_UNUSED int cairn_repo__tree_entry(cairn_tree_entry *e, const unsigned char **p,
			   const unsigned char *end);

/*
 * The header of a raw commit object, as pointers into its bytes (nothing
 * is copied or terminated).  Only the fields cairn reads are kept; every
 * other header line (gpgsig, mergetag, ...) is skipped.  Absent fields
 * are NULL with length 0.
 */
typedef struct cairn_rawcommit {
	git_oid tree;
	const char *parents;   /* the first "parent " line, NULL when none */
	size_t nparents;       /* consecutive lines, 48 bytes each */
	const char *author;    /* the value after "author " */
	size_t author_len;
	const char *committer; /* the value after "committer " */
	size_t committer_len;
	const char *encoding;  /* the value after "encoding " */
	size_t encoding_len;
	const char *message;   /* after the blank line */
	size_t message_len;
} cairn_rawcommit;

/*
 * Parses a raw commit object.  Returns 0, or CAIRN_ERROR (a
 * CAIRN_ERRCLASS_GIT error) when the tree or parent lines, which git
 * itself requires, are malformed.  Author and committer lines are not
 * judged here: see cairn_repo__signature_parse().
 */
CAIRN_WARN_UNUSED int cairn_repo__commit_parse(cairn_rawcommit *out, const unsigned char *data,
			     size_t len);
/* The i-th parent (i < nparents) of a parsed commit. */
void cairn_repo__commit_parent(git_oid *out, const cairn_rawcommit *c,
			       size_t i);

/*
 * A signature line ("Name <email> 1700000000 +0100") split the way git
 * does it, leniently: a line git itself could not split is kept whole as
 * the name with malformed set (as `git log` shows it), never an error.
 */
typedef struct cairn_rawsig {
	const char *name;
	size_t name_len;
	const char *email;
	size_t email_len;
	int64_t time;
	int offset;            /* minutes east of UTC */
	bool malformed;
} cairn_rawsig;

void cairn_repo__signature_parse(cairn_rawsig *out, const char *s, size_t len);

#endif
