/*
 * refs.h - which refs a commit is reachable from (allowed_refs).
 */
#ifndef CAIRN_REFS_H
#define CAIRN_REFS_H

#include "common.h"
#include "repo.h"

#ifdef __cplusplus
extern "C" {
#endif

/*
 * Sets *out when commit (hex sha) is reachable from, or equal to, the tip
 * of a ref whose full name matches one of the fnmatch globs.  A glob
 * without "refs/" also tries refs/heads/ and refs/tags/ ("main",
 * "v*").  *matched (may be NULL) receives the first matching ref's name;
 * caller frees.
 */
CAIRN_EXTERN(int) cairn_repo_reachable_from(bool *out, char **matched,
					    cairn_repo *repo,
					    const char *commit,
					    const char *const *globs,
					    size_t count);

#ifdef __cplusplus
}
#endif

#endif
