/*
 * example_plugin.c - a cairn plugin that writes down every event it sees.
 *
 * It shows everything a plugin needs and nothing more: it includes only
 * <cairn/hook.h> and <cairn/plugin.h>, declares the plugin API version
 * it was built against, and registers one hook per event through the API
 * table cairn hands to cairn_plugin_init (a plugin calls cairn only
 * through that table).
 *
 * Each hook appends one line, "<event> <version>_<name>" (or
 * "<event> -" for run-level events), to the file named by the
 * environment variable CAIRN_EXAMPLE_PLUGIN_LOG, read once at load time;
 * without it the plugin registers nothing.  A relative name is taken
 * below the repository's work tree (api->resolve_path, which also
 * refuses a name with ".." in it).  The hooks take their name,
 * on_failure, timeout and only: filters from the cairn.yaml entry that
 * loaded the plugin (api->hook_from_spec), so the user's settings apply
 * to them.
 *
 * Compatibility: it needs plugin API version 2 or later (it declares the
 * version of the headers it was built with) and tests with
 * CAIRN_PLUGIN_API_HAS that the host's table has the members it uses, so
 * it keeps loading in a newer cairn whose table has grown.
 *
 *   hooks:
 *     post_complete:
 *       - plugin: build/plugins/example_plugin.so
 *         on_failure: warn
 *
 * Build: make plugins (build/plugins/example_plugin.so), or
 *   cc -shared -fPIC -Iinclude -o example_plugin.so example_plugin.c
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cairn/hook.h>
#include <cairn/plugin.h>

CAIRN_PLUGIN_DECLARE_API_VERSION;

typedef struct {
	char *path;                        /* the log file */
	const char *(*event_name)(cairn_event event);
	int (*set_error)(cairn_error_class klass, const char *fmt, ...);
} example_hook;

static void example_free(void *payload)
{
	example_hook *h = payload;

	free(h->path);
	free(h);
}

static int example_run(const cairn_hook_context *ctx, void *payload)
{
	const example_hook *h = payload;
	const cairn_migration *m = ctx->migration;
	FILE *f = fopen(h->path, "a");
	int rc;

	if (!f)
		return h->set_error(CAIRN_ERRCLASS_HOOK,
				    "example plugin cannot open '%s'",
				    h->path);
	if (m)
		rc = fprintf(f, "%s %s_%s\n", h->event_name(ctx->event),
			     m->version_text, m->name);
	else
		rc = fprintf(f, "%s -\n", h->event_name(ctx->event));
	if (fclose(f) != 0 || rc < 0)
		return h->set_error(CAIRN_ERRCLASS_HOOK,
				    "example plugin cannot write '%s'",
				    h->path);
	return 0;
}

/* One hook at one event, logging to path (copied). */
static int add_one(const cairn_plugin_api *api, cairn_event ev,
		   const char *path)
{
	cairn_hook hook = CAIRN_HOOK_INIT;
	example_hook *h = calloc(1, sizeof(*h));
	size_t len = strlen(path) + 1;

	if (!h || !(h->path = malloc(len))) {
		free(h);
		return api->set_error(CAIRN_ERRCLASS_NOMEMORY, "out of memory");
	}
	memcpy(h->path, path, len);
	h->event_name = api->event_name;
	h->set_error = api->set_error;
	if (api->spec)
		api->hook_from_spec(&hook, api->spec);
	if (!hook.name)
		hook.name = "example_plugin";
	hook.kind = "plugin";
	hook.description = "appends each event to $CAIRN_EXAMPLE_PLUGIN_LOG";
	hook.event = ev;
	hook.fn = example_run;
	hook.payload = h;
	hook.free_payload = example_free;
	if (api->add_hook(api->pipeline, &hook, NULL) != 0) {
		example_free(h);
		return -1;
	}
	return 0;
}

int cairn_plugin_init(const cairn_plugin_api *api)
{
	const char *name = getenv("CAIRN_EXAMPLE_PLUGIN_LOG");
	char *path = NULL;
	unsigned ev;
	int rc = 0;

	if (!CAIRN_PLUGIN_API_HAS(api, resolve_path) ||
	    !CAIRN_PLUGIN_API_HAS(api, hook_from_spec))
		return api->set_error(CAIRN_ERRCLASS_CONFIG,
				      "example plugin needs plugin API 2 or "
				      "later, this cairn gives %u",
				      api->api_version);
	if (!name || !*name)
		return 0;
	if (api->resolve_path(&path, api, name) != 0)
		return -1;
	for (ev = 0; ev < CAIRN_EVENT__COUNT && rc == 0; ev++)
		rc = add_one(api, (cairn_event)ev, path);
	free(path);
	return rc;
}
