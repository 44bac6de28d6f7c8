/*
 * repo_internal.h - what the rest of the library may know about a
 * cairn_repo: the libgit2 handle inside it and a few helpers that turn
 * libgit2 results into cairn errors and commit records.
 *
 * Included by the library's git-reading code (repo, rawodb, refs, range,
 * prepush, the migration and provenance files); the public interface is
 * include/cairn/repo.h.  It brings in src/rawodb.h, the raw object
 * reader that several of them share.
 */
#ifndef CAIRN_SRC_REPO_INTERNAL_H
#define CAIRN_SRC_REPO_INTERNAL_H

#include <git2.h>

#include "cairn/repo.h"
#include "rawodb.h"

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

#endif
