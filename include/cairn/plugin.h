/*
 * plugin.h - how to write a cairn plugin (`plugin: path.so` in cairn.yaml).
 *
 * A plugin is a shared object built against cairn's public headers.  It
 * exports two symbols:
 *
 *  1. the plugin API version it was compiled against, as a data symbol:
 *
 *         CAIRN_PLUGIN_DECLARE_API_VERSION;
 *
 *     which expands to
 *
 *         const unsigned int cairn_plugin_api_version =
 *                 CAIRN_PLUGIN_API_VERSION;
 *
 *     cairn reads it before calling anything in the plugin.  It loads a
 *     plugin built for any version from 1 to its own
 *     CAIRN_PLUGIN_API_VERSION, and refuses one that declares a newer
 *     version (or 0), or that lacks the symbol, with a configuration
 *     error ("plugin API version N is not supported (1..M)"): the fix is
 *     to rebuild the plugin against the headers of the cairn that loads
 *     it.
 *
 *  2. an init function of type cairn_plugin_init_fn (hook.h), by default
 *     named cairn_plugin_init (`symbol:` in cairn.yaml picks another).  It
 *     is called once with a cairn_plugin_api table (api->api_version is
 *     the version the plugin declared; CAIRN_PLUGIN_API_HAS tells which
 *     later members the host has), registers its hooks with
 *     api->add_hook or api->add_object, and returns 0 (or sets an error with
 *     api->set_error and returns non-zero: cairn then removes the hooks
 *     it registered and unloads it).
 *
 * Rules:
 *  - Call cairn only through the api table: the cairn program exports
 *    no symbols, so a plugin naming a library function fails to load.
 *  - Register hooks during the init call only.  cairn unloads the plugin
 *    (dlclose) when the last hook it registered is removed from the
 *    pipeline, after that hook's free_payload ran.
 *  - The api table, its options and spec are valid only during init.
 *  - Options: "workdir" (the repository work dir, when known) and
 *    "plugin" (the path the plugin was loaded from).
 *
 * Build with -fPIC -shared; when building with -fvisibility=hidden the
 * CAIRN_PLUGIN_EXPORT on the declarations below keeps both symbols
 * visible (an init function under another name needs it too).  See
 * examples/plugin/.
 */
#ifndef CAIRN_PLUGIN_H
#define CAIRN_PLUGIN_H

#include "hook.h"

#ifdef __cplusplus
extern "C" {
#endif

#if defined(__GNUC__)
#define CAIRN_PLUGIN_EXPORT __attribute__((visibility("default")))
#else
#define CAIRN_PLUGIN_EXPORT
#endif

/* The name of the data symbol that carries the version. */
#define CAIRN_PLUGIN_API_VERSION_SYMBOL "cairn_plugin_api_version"
/* The init function cairn looks for when `symbol:` is not given. */
#define CAIRN_PLUGIN_DEFAULT_SYMBOL "cairn_plugin_init"

CAIRN_PLUGIN_EXPORT extern const unsigned int cairn_plugin_api_version;
CAIRN_PLUGIN_EXPORT int cairn_plugin_init(const cairn_plugin_api *api);

/* Write this once, at file scope, in one source file of the plugin. */
#define CAIRN_PLUGIN_DECLARE_API_VERSION \
	CAIRN_PLUGIN_EXPORT const unsigned int cairn_plugin_api_version = \
		CAIRN_PLUGIN_API_VERSION

#ifdef __cplusplus
}
#endif

#endif
