/*
 * require_clean_tree.c - the `require-clean-tree` built-in: refuse to run
 * when the work tree or the index differs from HEAD.
 *
 *   pre_validate:
 *     - builtin: require-clean-tree
 *
 * Written against the plugin API table only (cairn/hook.h), as a plugin
 * would be (the repository calls are api->repo_*).  The repository is found from the
 * `path` option when the host passes one, else from the work dir the host
 * names (`workdir`), else from the current directory; it is opened at the
 * first event (so listing hooks outside a repository works) and kept for
 * the next ones.  Untracked files do not count (api->repo_is_dirty); a
 * modified, staged or deleted tracked file does, and the failure names
 * the first of them: "the working tree has uncommitted changes:
 * 'db/migrations/0002_x.up.sql' modified (and 2 more)".  Any event works;
 * pre_validate stops a run before anything is loaded.
 */
#include <stdlib.h>
#include <string.h>

#include "cairn/hook.h"
#include "guards.h"

typedef struct {
	/* what the event needs from the table (valid only during init) */
	int (*set_error)(cairn_error_class klass, const char *fmt, ...);
	void (*set_error_hint)(const char *fmt, ...);
	int (*repo_open)(cairn_repo **out, const char *path);
	void (*repo_free)(cairn_repo *repo);
	int (*repo_is_dirty)(bool *out, char **detail, cairn_repo *repo);
	char *path;       /* where to look for the repository */
	cairn_repo *repo; /* opened at the first event */
} clean_hook;

static void clean_hook_free(void *payload)
{
	clean_hook *h = payload;

	if (!h)
		return;
	if (h->repo)
		h->repo_free(h->repo);
	free(h->path);
	free(h);
}

static int clean_event(const cairn_hook_context *ctx, void *payload)
{
	clean_hook *h = payload;
	char *detail = NULL;
	bool dirty = false;

	(void)ctx;
	if (!h->repo && h->repo_open(&h->repo, h->path) != 0)
		return -1;
	if (h->repo_is_dirty(&dirty, &detail, h->repo) != 0)
		return -1;
	if (!dirty)
		return 0;
	h->set_error(CAIRN_ERRCLASS_HOOK,
		     "the working tree has uncommitted changes: %s",
		     detail ? detail : "a tracked file differs from HEAD");
	h->set_error_hint("commit or stash the changes, or deploy from a "
			  "clean checkout");
	free(detail);
	return -1;
}

int cairn_builtin_require_clean_tree_init(const cairn_plugin_api *api)
{
	const char *path;
	cairn_hook hook;
	clean_hook *h;

	if (!CAIRN_PLUGIN_API_HAS(api, repo_is_dirty) || !api->spec)
		return api->set_error(CAIRN_ERRCLASS_USAGE,
				      "require-clean-tree: unsupported plugin "
				      "API");
	path = api->option(api, "path");
	if (!path || !*path)
		path = api->option(api, "workdir");
	if (!path || !*path)
		path = ".";
	h = calloc(1, sizeof(*h));
	if (!h || !(h->path = strdup(path))) {
		clean_hook_free(h);
		return api->set_error(CAIRN_ERRCLASS_NOMEMORY, "out of memory");
	}
	h->set_error = api->set_error;
	h->set_error_hint = api->set_error_hint;
	h->repo_open = api->repo_open;
	h->repo_free = api->repo_free;
	h->repo_is_dirty = api->repo_is_dirty;
	api->hook_from_spec(&hook, api->spec);
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
