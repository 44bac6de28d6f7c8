/*
 * hook_plugin.c - the plugin hook kind: `plugin: path.so` in cairn.yaml
 * (the contract for plugin authors is include/cairn/plugin.h).
 *
 * Loading, in order, each step a configuration error naming the file
 * when it fails (dlerror()'s text goes into the detail):
 *
 *  1. the path is taken relative to the repository work dir (an absolute
 *     path as it is); a path always contains a '/' by then, so dlopen
 *     never searches the library path for it;
 *  2. dlopen(RTLD_NOW | RTLD_LOCAL): every symbol resolved now, none
 *     leaking into other plugins;
 *  3. the data symbol cairn_plugin_api_version must exist and be from 1
 *     to this cairn's CAIRN_PLUGIN_API_VERSION - checked before any
 *     plugin code runs.  The table only grows at its end, so a plugin
 *     built for an older version reads a prefix of it that means what it
 *     meant then; one built for a newer version would read past its end
 *     and is refused;
 *  4. the init function (spec->symbol, default cairn_plugin_init) is
 *     called with the API table of cairn_plugin_api_init(), options
 *     "workdir" (when known) and "plugin" (the resolved path), and
 *     api_version set to the version the plugin declared.
 *
 * The table itself (cairn_plugin_api_init) lives here too: built-ins get
 * the same one, and use nothing else, so a plugin can do what they do.
 *
 * Unloading: the shared object must stay mapped as long as any hook it
 * registered can be called or freed, and the pipeline frees hooks in an
 * order of its own.  So the API table given to the plugin has its own
 * add_hook/add_object, which register each hook wrapped: the pipeline
 * calls a small trampoline whose payload holds the plugin's callback,
 * payload and free_payload and a reference on the loaded library.  When
 * the pipeline frees a wrapped hook, the plugin's free_payload runs, then
 * the reference is dropped; the last one dlclose()s.  The trampoline is
 * one more indirect call per hook call.  While init runs, the library
 * being loaded is found through a thread-local pointer (the table's
 * functions get only the pipeline).  If init fails, the hooks it managed
 * to register are removed again and the library is closed.
 */
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/buf.h"
#include "cairn/finding.h"
#include "cairn/lint.h"
#include "cairn/plugin.h"
#include "cairn/refs.h"
#include "cairn/repo.h"
#include "util/error.h"
#include "hook_kinds_ext.h"
#include "util/util.h"

typedef struct {
	void *handle;
	unsigned refs;   /* one per registered hook, one during init */
	int *ids;        /* what init registered, to undo a failed init */
	size_t ids_count, ids_alloc;
} plugin_lib;

typedef struct {
	plugin_lib *lib;
	cairn_hook_fn fn;
	cairn_hook_fn before, after, on_error;
	void *payload;
	void (*free_payload)(void *payload);
} wrapped;

/* The library whose init is running on this thread. */
static _Thread_local plugin_lib *loading;

static void lib_unref(plugin_lib *lib)
{
	if (!lib || --lib->refs)
		return;
	dlclose(lib->handle);
	free(lib->ids);
	free(lib);
}

static int call_fn(const cairn_hook_context *ctx, void *payload)
{
	const wrapped *w = payload;

	return w->fn(ctx, w->payload);
}

static int call_before(const cairn_hook_context *ctx, void *payload)
{
	const wrapped *w = payload;

	return w->before(ctx, w->payload);
}

static int call_after(const cairn_hook_context *ctx, void *payload)
{
	const wrapped *w = payload;

	return w->after(ctx, w->payload);
}

static int call_on_error(const cairn_hook_context *ctx, void *payload)
{
	const wrapped *w = payload;

	return w->on_error(ctx, w->payload);
}

static void wrapped_free(void *payload)
{
	wrapped *w = payload;

	if (w->free_payload)
		w->free_payload(w->payload);
	lib_unref(w->lib);
	free(w);
}

/* Makes room to remember one more id, so that no failure follows add. */
static wrapped *wrap_begin(plugin_lib *lib)
{
	wrapped *w;

	if (cairn__grow_array((void **)&lib->ids, &lib->ids_alloc,
			      lib->ids_count + 1, sizeof(int)) < 0)
		return NULL;
	w = cairn__calloc(1, sizeof(*w));
	if (w)
		w->lib = lib;
	return w;
}

static void wrap_commit(plugin_lib *lib, int id, int *id_out)
{
	lib->refs++;
	lib->ids[lib->ids_count++] = id;
	if (id_out)
		*id_out = id;
}

static int plugin_add_hook(cairn_pipeline *p, const cairn_hook *hook,
			   int *id_out)
{
	plugin_lib *lib = loading;
	cairn_hook copy;
	wrapped *w;
	int id;

	/* outside init, or nothing to wrap: the pipeline as it is */
	if (!lib || !hook || !hook->fn)
		return cairn_pipeline_add(p, hook, id_out);
	w = wrap_begin(lib);
	if (!w)
		return CAIRN_ERROR;
	w->fn = hook->fn;
	w->payload = hook->payload;
	w->free_payload = hook->free_payload;
	copy = *hook;
	copy.kind = hook->kind ? hook->kind : "plugin";
	copy.fn = call_fn;
	copy.payload = w;
	copy.free_payload = wrapped_free;
	if (cairn_pipeline_add(p, &copy, &id) < 0) {
		free(w);
		return CAIRN_ERROR;
	}
	wrap_commit(lib, id, id_out);
	return 0;
}

static int plugin_add_object(cairn_pipeline *p, const cairn_hook_object *obj,
			     int *id_out)
{
	plugin_lib *lib = loading;
	cairn_hook_object copy;
	wrapped *w;
	int id;

	if (!lib || !obj)
		return cairn_pipeline_add_object(p, obj, id_out);
	w = wrap_begin(lib);
	if (!w)
		return CAIRN_ERROR;
	w->before = obj->before;
	w->after = obj->after;
	w->on_error = obj->on_error;
	w->payload = obj->payload;
	w->free_payload = obj->free_payload;
	copy = *obj;
	copy.before = obj->before ? call_before : NULL;
	copy.after = obj->after ? call_after : NULL;
	copy.on_error = obj->on_error ? call_on_error : NULL;
	copy.payload = w;
	copy.free_payload = wrapped_free;
	if (cairn_pipeline_add_object(p, &copy, &id) < 0) {
		free(w);
		return CAIRN_ERROR;
	}
	wrap_commit(lib, id, id_out);
	return 0;
}

/* spec->plugin against workdir; always with a '/' (see above). */
static char *resolve(const char *path, const char *workdir)
{
	cairn_buf b = CAIRN_BUF_INIT;
	size_t n;

	if (path[0] == '/')
		return cairn__strdup(path);
	if (!workdir || !*workdir)
		workdir = ".";
	n = strlen(workdir);
	if (cairn_buf_printf(&b, "%s%s%s", workdir,
			     workdir[n - 1] == '/' ? "" : "/", path) < 0)
		return NULL;
	return cairn_buf_detach(&b);
}

static int load_error(const char *name, const char *what)
{
	const char *why = dlerror();

	cairn_error__set(CAIRN_ERRCLASS_CONFIG, "cannot load plugin '%s': %s",
			 name, what);
	if (why)
		cairn_error__detail("%s", why);
	return CAIRN_ERROR;
}

/* Steps 2 and 3: the library, with a version we understand. */
static int open_checked(void **out, unsigned int *declared,
			const char *path, const char *name)
{
	const unsigned int *version;
	void *handle;

	*out = NULL;
	dlerror();
	handle = dlopen(path, RTLD_NOW | RTLD_LOCAL);
	if (!handle) {
		load_error(name, "dlopen failed");
		cairn_error__hint("check the path in plugin: (relative paths "
				  "are relative to the repository root) and "
				  "that it is a shared object built with "
				  "-shared -fPIC");
		return CAIRN_ERROR;
	}
	dlerror();
	version = dlsym(handle, CAIRN_PLUGIN_API_VERSION_SYMBOL);
	if (!version) {
		load_error(name, "it does not say which plugin API version "
			   "it was built for");
		cairn_error__hint("define it with "
				  "CAIRN_PLUGIN_DECLARE_API_VERSION; from "
				  "<cairn/plugin.h> and rebuild the plugin "
				  "against this cairn's headers (plugin API "
				  "version %u)", CAIRN_PLUGIN_API_VERSION);
		dlclose(handle);
		return CAIRN_ERROR;
	}
	if (*version < 1 || *version > CAIRN_PLUGIN_API_VERSION) {
		cairn_error__set(CAIRN_ERRCLASS_CONFIG,
				 "cannot load plugin '%s': plugin API version "
				 "%u is not supported (1..%u)", name, *version,
				 CAIRN_PLUGIN_API_VERSION);
		cairn_error__detail("The plugin's %s is %u; this cairn %s "
				    "provides version %u and loads plugins "
				    "built for versions 1 to %u.",
				    CAIRN_PLUGIN_API_VERSION_SYMBOL, *version,
				    CAIRN_VERSION, CAIRN_PLUGIN_API_VERSION,
				    CAIRN_PLUGIN_API_VERSION);
		cairn_error__hint("rebuild the plugin against the headers of "
				  "this cairn (include/cairn/plugin.h), or "
				  "use the cairn it was built for");
		dlclose(handle);
		return CAIRN_ERROR;
	}
	*declared = *version;
	*out = handle;
	return 0;
}

/* Step 4 failed: undo what init registered, explain. */
static void init_failed(cairn_pipeline *p, plugin_lib *lib, const char *name,
			const char *symbol)
{
	cairn_error_saved saved;

	cairn_error__save(&saved);
	for (size_t i = lib->ids_count; i > 0; i--)
		cairn_pipeline_remove(p, lib->ids[i - 1]);
	lib->ids_count = 0;
	cairn_error__set(CAIRN_ERRCLASS_CONFIG,
			 "plugin '%s' failed to set up: %s", name,
			 saved.message ? saved.message :
			 "its init function returned an error");
	if (saved.detail)
		cairn_error__detail("%s", saved.detail);
	else
		cairn_error__detail("%s() returned non-zero.", symbol);
	if (saved.hint)
		cairn_error__hint("%s", saved.hint);
	cairn_error__saved_dispose(&saved);
}

int cairn_hook__register_plugin(cairn_pipeline *p,
				const cairn_hook_spec *spec,
				const char *workdir)
{
	const char *name = spec->plugin;
	const char *symbol = spec->symbol && *spec->symbol ?
		spec->symbol : CAIRN_PLUGIN_DEFAULT_SYMBOL;
	cairn_plugin_init_fn init;
	cairn_plugin_api api;
	plugin_lib *lib = NULL, *outer;
	cairn_kv opts[2];
	void *handle = NULL, *sym;
	char *path = NULL;
	unsigned int declared = 0;
	size_t n = 0;
	int rc = CAIRN_ERROR;

	if (!name || !*name) {
		cairn_error__set(CAIRN_ERRCLASS_CONFIG,
				 "plugin hook '%s' names no shared object",
				 spec->name ? spec->name : "plugin");
		cairn_error__hint("write plugin: path/to/plugin.so");
		return CAIRN_ERROR;
	}
	path = resolve(name, workdir);
	if (!path || open_checked(&handle, &declared, path, name) < 0)
		goto out;
	dlerror();
	sym = dlsym(handle, symbol);
	if (!sym) {
		const char *why = dlerror();

		cairn_error__set(CAIRN_ERRCLASS_CONFIG,
				 "cannot load plugin '%s': it has no init "
				 "function '%s'", name, symbol);
		if (why)
			cairn_error__detail("%s", why);
		cairn_error__hint("set symbol: to the name of the plugin's "
				  "init function (default %s)",
				  CAIRN_PLUGIN_DEFAULT_SYMBOL);
		goto out;
	}
	/* POSIX allows this conversion; ISO C does not say */
	memcpy(&init, &sym, sizeof(init));
	lib = cairn__calloc(1, sizeof(*lib));
	if (!lib)
		goto out;
	lib->handle = handle;
	lib->refs = 1;
	handle = NULL;

	if (workdir && *workdir)
		opts[n++] = (cairn_kv){ "workdir", (char *)workdir };
	opts[n++] = (cairn_kv){ "plugin", path };
	cairn_plugin_api_init(&api, p, spec, opts, n);
	api.add_hook = plugin_add_hook;
	api.add_object = plugin_add_object;
	api.api_version = declared;

	outer = loading;
	loading = lib;
	cairn_error_clear();
	rc = init(&api) == 0 ? 0 : CAIRN_ERROR;
	loading = outer;
	if (rc < 0)
		init_failed(p, lib, name, symbol);
	lib->ids_count = 0;
out:
	lib_unref(lib); /* the init reference; closes if no hook holds one */
	if (handle)
		dlclose(handle);
	free(path);
	return rc;
}

/* ------------------------------------------------------------------ */
/* The table given to plugins and built-ins                            */

const char *cairn_plugin_option(const cairn_plugin_api *api, const char *key)
{
	size_t i;

	if (!api || !key)
		return NULL;
	for (i = 0; i < api->options_count; i++)
		if (api->options[i].key && !strcmp(api->options[i].key, key))
			return api->options[i].value;
	return NULL;
}

/* True when a relative path has a ".." component. */
static bool climbs(const char *path)
{
	for (const char *p = path; *p; ) {
		size_t n = strcspn(p, "/");

		if (n == 2 && p[0] == '.' && p[1] == '.')
			return true;
		p += n;
		p += strspn(p, "/");
	}
	return false;
}

static int api_resolve_path(char **out, const cairn_plugin_api *api,
			    const char *path)
{
	*out = NULL;
	if (!path || !*path) {
		cairn_error__set(CAIRN_ERRCLASS_CONFIG, "empty path");
		return CAIRN_ERROR;
	}
	if (path[0] != '/' && climbs(path)) {
		cairn_error__set(CAIRN_ERRCLASS_CONFIG,
				 "path '%s' leaves the work tree", path);
		cairn_error__detail("A relative path is taken below the "
				    "repository's work tree and may not "
				    "contain '..'.");
		cairn_error__hint("write a path inside the repository, or an "
				  "absolute path");
		return CAIRN_ERROR;
	}
	*out = resolve(path, cairn_plugin_option(api, "workdir"));
	return *out ? 0 : CAIRN_ERROR;
}

void cairn_plugin_api_init(cairn_plugin_api *api, cairn_pipeline *p,
			   const cairn_hook_spec *spec, const cairn_kv *options,
			   size_t options_count)
{
	memset(api, 0, sizeof(*api));
	api->api_version = CAIRN_PLUGIN_API_VERSION;
	api->cairn_version = CAIRN_VERSION;
	api->pipeline = p;
	api->options = options;
	api->options_count = options_count;
	api->spec = spec;
	api->add_hook = cairn_pipeline_add;
	api->add_object = cairn_pipeline_add_object;
	api->sql = cairn_hook_sql;
	api->context_to_json = cairn_hook_context_to_json;
	api->set_error = cairn_error_set;
	api->log = cairn_hook_log;
	api->event_name = cairn_event_name;
	/* version 2 */
	api->size = sizeof(*api);
	api->option = cairn_plugin_option;
	api->hook_from_spec = cairn_hook_from_spec;
	api->set_error_detail = cairn_error_set_detail;
	api->set_error_hint = cairn_error_set_hint;
	api->last_error = cairn_error_last;
	api->resolve_path = api_resolve_path;
	api->repo_open = cairn_repo_open;
	api->repo_free = cairn_repo_free;
	api->repo_is_dirty = cairn_repo_is_dirty;
	api->repo_resolve = cairn_repo_resolve;
	api->repo_reachable_from = cairn_repo_reachable_from;
	api->lint_migration = cairn_lint_migration;
	api->findings_count = cairn_findings_count;
	api->findings_dispose = cairn_findings_dispose;
	api->severity_name = cairn_severity_name;
	/* version 3 (config: set by whoever has one) */
	api->lint_options_from_config = cairn_lint_options_from_config;
	api->lint_options_dup = cairn_lint_options_dup;
	api->lint_options_free = cairn_lint_options_free;
}
