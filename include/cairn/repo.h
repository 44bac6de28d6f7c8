/*
 * repo.h - the git repository cairn reads migrations from (libgit2).
 *
 * A cairn_repo wraps a libgit2 repository found from a path (the path may
 * be anywhere inside the work tree, as with `git -C`).  Revisions are any
 * rev-parse expression: a branch, a tag, a SHA, HEAD~3, v1^{commit}.
 */
#ifndef CAIRN_REPO_H
#define CAIRN_REPO_H

#include "common.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct cairn_repo cairn_repo;

/* Information about one commit: who wrote it and when. */
typedef struct cairn_commit_info {
	char sha[CAIRN_OID_HEXSZ]; /* "" when unknown */
	char *author_name;
	char *author_email;
	int64_t author_time;   /* seconds since the epoch */
	int author_offset;     /* minutes east of UTC */
	char *summary;         /* first line of the message */
	/*
	 * The author line could not be split into name, e-mail and date
	 * (as `git log` does, the name then holds the line as written).
	 * Names, e-mails and summaries are always valid UTF-8: decoded
	 * from the commit's encoding, undecodable bytes as U+FFFD.
	 */
	bool malformed_author;
} cairn_commit_info;

/*
 * Opens the repository containing path (discovering upwards).  Fails with
 * class CAIRN_ERRCLASS_GIT and CAIRN_ENOTFOUND when there is none.
 */
CAIRN_EXTERN(int) cairn_repo_open(cairn_repo **out, const char *path);
CAIRN_EXTERN(void) cairn_repo_free(cairn_repo *repo);

/* The work tree ("/path/to/repo/", with a trailing slash), or NULL if bare. */
CAIRN_EXTERN(const char *) cairn_repo_workdir(const cairn_repo *repo);
/* The git directory (".git/" or the worktree's own git dir). */
CAIRN_EXTERN(const char *) cairn_repo_gitdir(const cairn_repo *repo);
/* The common git directory (shared by linked worktrees). */
CAIRN_EXTERN(const char *) cairn_repo_commondir(const cairn_repo *repo);

/*
 * Resolves rev to a commit id in hex.  Unknown revisions fail with class
 * CAIRN_ERRCLASS_GIT and CAIRN_ENOTFOUND.
 */
CAIRN_EXTERN(int) cairn_repo_resolve(char out[CAIRN_OID_HEXSZ],
				     cairn_repo *repo, const char *rev);

/*
 * The full ref name rev names ("refs/heads/main"), when it names one;
 * for HEAD, the branch HEAD points at.  *out is NULL for a detached or
 * raw SHA revision.  Caller frees *out.
 */
CAIRN_EXTERN(int) cairn_repo_ref_name(char **out, cairn_repo *repo,
				      const char *rev);

/* Looks a commit up; caller disposes *out with cairn_commit_info_dispose. */
CAIRN_EXTERN(int) cairn_repo_commit_info(cairn_commit_info *out,
					 cairn_repo *repo, const char *rev);
CAIRN_EXTERN(void) cairn_commit_info_dispose(cairn_commit_info *info);
CAIRN_EXTERN(int) cairn_commit_info_copy(cairn_commit_info *out,
					 const cairn_commit_info *src);

/*
 * True when the working tree or index differs from HEAD (untracked files
 * are ignored).  *detail receives a short description of the first
 * difference, or NULL; caller frees.
 */
CAIRN_EXTERN(int) cairn_repo_is_dirty(bool *out, char **detail,
				      cairn_repo *repo);

/* True when commit `ancestor` is reachable from (or equal to) `descendant`. */
CAIRN_EXTERN(int) cairn_repo_is_ancestor(bool *out, cairn_repo *repo,
					 const char *ancestor,
					 const char *descendant);

/* Reads a value from git config ("user.name"); *out NULL when unset. */
CAIRN_EXTERN(int) cairn_repo_config_string(char **out, cairn_repo *repo,
					   const char *key);

#ifdef __cplusplus
}
#endif

#endif
