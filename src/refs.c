/*
 * refs.c - is a commit reachable from an allowed ref?  (allowed_refs)
 *
 * Iterates the repository's refs once, keeps those whose names match a
 * glob, peels each to a commit and asks libgit2's graph code whether the
 * deploy commit is that commit or one of its ancestors.
 */
#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cairn/refs.h"
#include "util/error.h"
#include "repo_internal.h"
#include "util/util.h"

static bool name_matches(const char *name, const char *const *globs,
			 size_t count)
{
	char buf[1024];

	for (size_t i = 0; i < count; i++) {
		const char *g = globs[i];

		if (!fnmatch(g, name, 0))
			return true;
		if (strncmp(g, "refs/", 5)) {
			snprintf(buf, sizeof(buf), "refs/heads/%s", g);
			if (!fnmatch(buf, name, 0))
				return true;
			snprintf(buf, sizeof(buf), "refs/tags/%s", g);
			if (!fnmatch(buf, name, 0))
				return true;
		}
	}
	return false;
}

int cairn_repo_reachable_from(bool *out, char **matched, cairn_repo *repo,
			      const char *commit, const char *const *globs,
			      size_t count)
{
	git_repository *git = cairn_repo__git(repo);
	git_reference_iterator *it = NULL;
	git_reference *ref;
	git_oid target;
	int rc = 0;

	*out = false;
	if (matched)
		*matched = NULL;
	if (git_oid_fromstr(&target, commit) < 0)
		return cairn_repo__error("bad commit id '%s'", commit);
	if (git_reference_iterator_new(&it, git) < 0)
		return cairn_repo__error("cannot list the references");
	while (!*out && git_reference_next(&ref, it) == 0) {
		const char *name = git_reference_name(ref);
		git_object *peeled = NULL;

		if (name_matches(name, globs, count) &&
		    git_reference_peel(&peeled, ref, GIT_OBJECT_COMMIT) == 0) {
			const git_oid *tip = git_object_id(peeled);

			if (git_oid_equal(tip, &target) ||
			    git_graph_descendant_of(git, tip, &target) == 1) {
				*out = true;
				if (matched)
					*matched = cairn__strdup(name);
			}
			git_object_free(peeled);
		}
		git_reference_free(ref);
	}
	git_error_clear();
	git_reference_iterator_free(it);
	return rc;
}
