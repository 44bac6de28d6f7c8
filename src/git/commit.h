/*
 * git/commit.h (internal) - the one parser of commit headers and
 * signature lines (git/commit.c), for every reader of history (see
 * git/git.h).  libgit2 refuses a commit whose author line it cannot
 * split; git does not, and neither does cairn: commits are read raw and
 * only what cairn needs is parsed.
 */
#ifndef CAIRN_SRC_GIT_COMMIT_H
#define CAIRN_SRC_GIT_COMMIT_H

#include "util/attrs.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <git2.h>

#include "git/odb.h"

/*
 * The header of a raw commit object, as pointers into its bytes (nothing
 * is copied or terminated).  Only the fields cairn reads are kept; every
 * other header line (gpgsig, mergetag, ...) is skipped.  Absent fields
 * are NULL with length 0.
 */
typedef struct cairn_git_commit {
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
} cairn_git_commit;

/*
 * Parses a raw commit object.  Returns 0, or CAIRN_ERROR (a
 * CAIRN_ERRCLASS_GIT error) when the tree or parent lines, which git
 * itself requires, are malformed.  Author and committer lines are not
 * judged here: see cairn_git__signature_parse().
 */
CAIRN_WARN_UNUSED int cairn_git__commit_parse(cairn_git_commit *out,
					      const unsigned char *data,
					      size_t len);
/* The i-th parent (i < nparents) of a parsed commit. */
void cairn_git__commit_parent(git_oid *out, const cairn_git_commit *c,
			      size_t i);

/*
 * Reads commit id through db and parses it: *obj holds the bytes *c
 * points into (release it with cairn_git__obj_free()).  A missing commit
 * is CAIRN_ENOTFOUND; an object of another type or a corrupt header is
 * CAIRN_ERROR naming the commit.
 */
CAIRN_WARN_UNUSED int cairn_git__commit_read(cairn_git_obj **obj,
					     cairn_git_commit *c,
					     cairn_git_odb *db,
					     const git_oid *id);

/*
 * A signature line ("Name <email> 1700000000 +0100") split the way git
 * does it, leniently: a line git itself could not split is kept whole as
 * the name with malformed set (as `git log` shows it), never an error.
 */
typedef struct cairn_git_sig {
	const char *name;
	size_t name_len;
	const char *email;
	size_t email_len;
	int64_t time;
	int offset;            /* minutes east of UTC */
	bool malformed;
} cairn_git_sig;

void cairn_git__signature_parse(cairn_git_sig *out, const char *s,
				size_t len);

/* The committer time of a parsed commit (0 when git could not read it). */
int64_t cairn_git__commit_time(const cairn_git_commit *c);

#endif
