/*
 * allowed_refs.c - the `allowed-refs` built-in: deploy only commits that
 * are on an allowed branch or tag.
 *
 *   pre_validate:
 *     - builtin: allowed-refs
 *       refs: [main, "release-*", "refs/tags/v*"]
 *
 * Written against the plugin API table only (cairn/hook.h), as a plugin
 * would be (the repository calls are api->repo_*).  The patterns come
 * from the entry's `refs:` list (api->spec->refs), or from the "refs"
 * option (comma-separated) a host may pass instead; an entry with
 * neither is a configuration error.  They are fnmatch globs on full ref names; a
 * pattern without "refs/" also matches under refs/heads/ and refs/tags/
 * (api->repo_reachable_from).  At each event the context's deploy_rev is
 * resolved in the repository (found as require-clean-tree finds it:
 * `path`, `workdir`, the current directory; opened once) and must be the
 * tip of a matching ref or one of its ancestors.  Deploying the working
 * tree (deploy_rev "worktree" or empty) has no commit to check and is
 * refused.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cairn/hook.h"
#include "guards.h"

typedef struct {
	/* what the events need from the table (valid only during init) */
	int (*set_error)(cairn_error_class klass, const char *fmt, ...);
	void (*set_error_hint)(const char *fmt, ...);
	int (*repo_open)(cairn_repo **out, const char *path);
	void (*repo_free)(cairn_repo *repo);
	int (*repo_resolve)(char out[CAIRN_OID_HEXSZ], cairn_repo *repo,
			    const char *rev);
	int (*repo_reachable_from)(bool *out, char **matched,
				   cairn_repo *repo, const char *commit,
				   const char *const *globs, size_t count);
	char **globs;
	size_t count;
	char *list;       /* the globs joined with ", ", for messages */
	char *path;
	cairn_repo *repo;
} refs_hook;

static void refs_hook_free(void *payload)
{
	refs_hook *h = payload;

	if (!h)
		return;
	for (size_t i = 0; i < h->count; i++)
		free(h->globs[i]);
	free(h->globs);
	free(h->list);
	free(h->path);
	if (h->repo)
		h->repo_free(h->repo);
	free(h);
}

static int refs_event(const cairn_hook_context *ctx, void *payload)
{
	refs_hook *h = payload;
	const char *rev = ctx->deploy_rev;
	char sha[CAIRN_OID_HEXSZ], *matched = NULL;
	bool ok = false;

	if (!rev || !*rev || !strcmp(rev, "worktree")) {
		h->set_error(CAIRN_ERRCLASS_HOOK,
			     "deploying the working tree is not allowed: "
			     "allowed-refs needs a commit on %s", h->list);
		h->set_error_hint("commit the changes and deploy the "
				  "commit (without --worktree)");
		return -1;
	}
	if (!h->repo && h->repo_open(&h->repo, h->path) != 0)
		return -1;
	if (h->repo_resolve(sha, h->repo, rev) != 0)
		return -1;
	if (h->repo_reachable_from(&ok, &matched, h->repo, sha,
				   (const char *const *)h->globs,
				   h->count) != 0)
		return -1;
	free(matched);
	if (ok)
		return 0;
	h->set_error(CAIRN_ERRCLASS_HOOK,
		     "commit %.12s is not on an allowed ref (%s)", sha,
		     h->list);
	h->set_error_hint("deploy a commit from one of those branches or "
			  "tags, or add its ref to 'refs:'");
	return -1;
}

static int add_glob(refs_hook *h, const char *s, size_t len)
{
	char **g;

	while (len && (*s == ' ' || *s == '\t')) {
		s++;
		len--;
	}
	while (len && (s[len - 1] == ' ' || s[len - 1] == '\t'))
		len--;
	if (!len)
		return 0;
	g = realloc(h->globs, (h->count + 1) * sizeof(*g));
	if (!g)
		return -1;
	h->globs = g;
	if (!(g[h->count] = strndup(s, len)))
		return -1;
	h->count++;
	return 0;
}

/* The globs from the spec's refs: list, else the "refs" option. */
static int collect_globs(refs_hook *h, const cairn_plugin_api *api)
{
	const char *opt = api->option(api, "refs");
	size_t total = 1;

	if (api->spec->refs_count) {
		for (size_t i = 0; i < api->spec->refs_count; i++)
			if (add_glob(h, api->spec->refs[i],
				     strlen(api->spec->refs[i])) < 0)
				return -1;
	} else if (opt) {
		for (const char *p = opt;; ) {
			const char *c = strchr(p, ',');
			size_t n = c ? (size_t)(c - p) : strlen(p);

			if (add_glob(h, p, n) < 0)
				return -1;
			if (!c)
				break;
			p = c + 1;
		}
	}
	for (size_t i = 0; i < h->count; i++)
		total += strlen(h->globs[i]) + 2;
	if (!(h->list = malloc(total)))
		return -1;
	h->list[0] = '\0';
	for (size_t i = 0, o = 0; i < h->count; i++)
		o += (size_t)snprintf(h->list + o, total - o, "%s%s",
				      i ? ", " : "", h->globs[i]);
	return 0;
}

int cairn_builtin_allowed_refs_init(const cairn_plugin_api *api)
{
	const char *path;
	cairn_hook hook;
	refs_hook *h;

	if (!CAIRN_PLUGIN_API_HAS(api, repo_reachable_from) || !api->spec)
		return api->set_error(CAIRN_ERRCLASS_USAGE,
				      "allowed-refs: unsupported plugin API");
	path = api->option(api, "path");
	if (!path || !*path)
		path = api->option(api, "workdir");
	if (!path || !*path)
		path = ".";
	h = calloc(1, sizeof(*h));
	if (!h || !(h->path = strdup(path)) || collect_globs(h, api) < 0) {
		refs_hook_free(h);
		return api->set_error(CAIRN_ERRCLASS_NOMEMORY, "out of memory");
	}
	if (!h->count) {
		refs_hook_free(h);
		api->set_error(CAIRN_ERRCLASS_CONFIG,
			       "allowed-refs needs a 'refs:' list of branches "
			       "or tags");
		api->set_error_hint("for example: refs: [main, \"v*\"]");
		return -1;
	}
	h->set_error = api->set_error;
	h->set_error_hint = api->set_error_hint;
	h->repo_open = api->repo_open;
	h->repo_free = api->repo_free;
	h->repo_resolve = api->repo_resolve;
	h->repo_reachable_from = api->repo_reachable_from;
	api->hook_from_spec(&hook, api->spec);
	hook.kind = "builtin";
	hook.description = "the deployed commit must be on an allowed ref";
	hook.fn = refs_event;
	hook.payload = h;
	hook.free_payload = refs_hook_free;
	if (api->add_hook(api->pipeline, &hook, NULL) != 0) {
		refs_hook_free(h);
		return -1;
	}
	return 0;
}
