/*
 * repo_internal.h - what the rest of the library may know about a
 * cairn_repo: the libgit2 handle inside it and a few helpers that turn
 * libgit2 results into cairn errors and commit records.
 *
 * Included by the library's git-reading code (repo, refs, range,
 * prepush, the migration and provenance files, and the git object layer
 * under src/git/); the public interface is include/cairn/repo.h.  It
 * brings in src/git/git.h, the object layer they share.
 */
#ifndef CAIRN_SRC_REPO_INTERNAL_H
#define CAIRN_SRC_REPO_INTERNAL_H

#include "util/attrs.h"

#include <git2.h>

#include "cairn/repo.h"
#include "git/git.h"

struct cairn_repo {
	git_repository *git;
	char *path;      /* what the caller passed, for messages */
	char *workdir;   /* with a trailing '/', NULL when bare */
	char *gitdir;
	char *commondir;
};

/* The libgit2 repository of repo (borrowed). */
git_repository *cairn_repo__git(cairn_repo *repo);

/* A git error with libgit2's last message: cairn_git__error (git/git.h). */
#define cairn_repo__error cairn_git__error

/*
 * Resolves rev to a commit.  Unknown revisions set a CAIRN_ERRCLASS_GIT
 * error and return CAIRN_ENOTFOUND.  Caller frees *out.
 */
CAIRN_WARN_UNUSED int cairn_repo__lookup_commit(git_commit **out, cairn_repo *repo,
			      const char *rev);

/*
 * Fills info from a commit object read raw, never refusing it over its
 * metadata: author name and e-mail and the summary are decoded from the
 * commit's `encoding` header (UTF-8 when absent) into valid UTF-8, bytes
 * that cannot be decoded becoming U+FFFD; an author line git cannot split
 * is kept whole as the name with malformed_author set.  CAIRN_ERROR only
 * when the object cannot be read or is not a commit.
 */
CAIRN_WARN_UNUSED int cairn_repo__commit_info_read(cairn_commit_info *out, git_repository *git,
				 const git_oid *id);
/* The same from the bytes of a commit object already read. */
CAIRN_WARN_UNUSED int cairn_repo__commit_info_raw(cairn_commit_info *out, const git_oid *id,
				const unsigned char *data, size_t len);

/*
 * Copies len bytes of text in charset enc (NULL or "UTF-8": UTF-8) to a
 * new string of valid UTF-8 without NULs; what cannot be decoded becomes
 * U+FFFD.  NULL when out of memory.
 */
char *cairn_repo__to_utf8(const char *s, size_t len, const char *enc,
			  size_t enclen);

/*
 * Resolves rev to a commit id and its tree id.  Unlike
 * cairn_repo__lookup_commit() it also finds a commit libgit2 refuses to
 * parse (a malformed author line) when rev is a reference or a full id.
 * Errors as cairn_repo__lookup_commit().
 */
CAIRN_WARN_UNUSED int cairn_repo__resolve_commit(git_oid *id, git_oid *tree, cairn_repo *repo,
			       const char *rev);

#endif
