/*
 * require_clean_tree.c - the `require-clean-tree` built-in: refuse to run
 * when the work tree or the index differs from HEAD.
 *
 *   pre_validate:
 *     - builtin: require-clean-tree
 *
 * Written against the public interfaces only (cairn/hook.h and
 * cairn/repo.h), as a plugin would be.  The repository is found from the
 * `path` option when the host passes one, else from the work dir the host
 * names (`workdir`), else from the current directory; it is opened at the
 * first event (so listing hooks outside a repository works) and kept for
 * the next ones.  Untracked files do not count (cairn_repo_is_dirty); a
 * modified, staged or deleted tracked file does, and the failure names
 * the first of them: "the working tree has uncommitted changes:
 * 'db/migrations/0002_x.up.sql' modified (and 2 more)".  Any event works;
 * pre_validate stops a run before anything is loaded.
 */
#include <stdlib.h>
#include <string.h>

#include "cairn/hook.h"
#include "cairn/repo.h"
#include "guards.h"

typedef struct {
	int (*set_error)(cairn_error_class klass, const char *fmt, ...);
	char *path;       /* where to look for the repository */
	cairn_repo *repo; /* opened at the first event */
} clean_hook;

static void clean_hook_free(void *payload)
{
	clean_hook *h = payload;

	if (!h)
		return;
	cairn_repo_free(h->repo);
	free(h->path);
	free(h);
}

static int clean_event(const cairn_hook_context *ctx, void *payload)
{
	clean_hook *h = payload;
	char *detail = NULL;
	bool dirty = false;

	(void)ctx;
	if (!h->repo && cairn_repo_open(&h->repo, h->path) != 0)
		return -1;
	if (cairn_repo_is_dirty(&dirty, &detail, h->repo) != 0)
		return -1;
	if (!dirty)
		return 0;
	h->set_error(CAIRN_ERRCLASS_HOOK,
		     "the working tree has uncommitted changes: %s",
		     detail ? detail : "a tracked file differs from HEAD");
	cairn_error_set_hint("commit or stash the changes, or deploy from a "
			     "clean checkout");
	free(detail);
	return -1;
}

int cairn_builtin_require_clean_tree_init(const cairn_plugin_api *api)
{
	const char *path = cairn_plugin_option(api, "path");
	cairn_hook hook;
	clean_hook *h;

	if (api->api_version < CAIRN_PLUGIN_API_VERSION || !api->spec)
		return api->set_error(CAIRN_ERRCLASS_USAGE,
				      "require-clean-tree: unsupported plugin "
				      "API");
	if (!path || !*path)
		path = cairn_plugin_option(api, "workdir");
	if (!path || !*path)
		path = ".";
	h = calloc(1, sizeof(*h));
	if (!h || !(h->path = strdup(path))) {
		clean_hook_free(h);
		return api->set_error(CAIRN_ERRCLASS_NOMEMORY, "out of memory");
	}
	h->set_error = api->set_error;
	cairn_hook_from_spec(&hook, api->spec);
	hook.kind = "builtin";
	hook.description = "refuses a work tree or index that differs from "
			   "HEAD";
	hook.fn = clean_event;
	hook.payload = h;
	hook.free_payload = clean_hook_free;
	if (api->add_hook(api->pipeline, &hook, NULL) != 0) {
		clean_hook_free(h);
		return -1;
	}
	return 0;
}
