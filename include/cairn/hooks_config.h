/*
 * hooks_config.h - building the hook pipeline from cairn.yaml.
 *
 * cairn_hooks_build() walks the configuration's hooks in order and
 * registers each one with the pipeline: exec and sql hooks are
 * implemented by the library; builtin hooks are looked up by name in the
 * table the program hands over (the library itself names no built-in:
 * the program passes them in the way a plugin registers itself) and
 * registered through their cairn_plugin_init_fn with an API table from
 * cairn_plugin_api_init().
 *
 * A builtin's init receives these options (cairn_plugin_option()):
 *
 *   metrics_file  the spec's metrics_file, when set
 *   path          the spec's path, when set
 *   refs          the spec's refs joined with ',' (glob patterns cannot
 *                 usefully contain a comma in a ref name), when set
 *   workdir       the repository work dir (options->workdir), when set
 *
 * and api->spec, whose event, name, on_failure, timeout and only: filters
 * it should honour (cairn_hook_from_spec()).
 */
#ifndef CAIRN_HOOKS_CONFIG_H
#define CAIRN_HOOKS_CONFIG_H

#include "common.h"
#include "config.h"
#include "hook.h"

#ifdef __cplusplus
extern "C" {
#endif

/* A hook the program ships: `builtin: NAME` in cairn.yaml. */
typedef struct cairn_builtin {
	const char *name;          /* "log" */
	const char *description;   /* one line for listings */
	cairn_plugin_init_fn init; /* registers the builtin's hooks */
} cairn_builtin;

typedef struct cairn_hooks_build_options {
	unsigned int version;
	const cairn_builtin *builtins; /* what `builtin:` may name */
	size_t builtins_count;
	/*
	 * The repository work dir: exec hooks start there and resolve
	 * relative programs against it, sql_file is read relative to it.
	 * NULL: the current directory.
	 */
	const char *workdir;
} cairn_hooks_build_options;

#define CAIRN_HOOKS_BUILD_OPTIONS_VERSION 1
#define CAIRN_HOOKS_BUILD_OPTIONS_INIT \
	{ CAIRN_HOOKS_BUILD_OPTIONS_VERSION, NULL, 0, NULL }

/*
 * Registers cfg's hooks with p, in configuration order.  Errors have
 * class CAIRN_ERRCLASS_CONFIG and name the file, line and column of the
 * hook ("cairn.yaml:12:7: unknown builtin 'lgo'", with the known names
 * as a hint).  On failure the pipeline may hold the hooks registered
 * before the one that failed; callers free it.
 */
CAIRN_EXTERN(int) cairn_hooks_build(cairn_pipeline *p, const cairn_config *cfg,
				    const cairn_hooks_build_options *opts);

#ifdef __cplusplus
}
#endif

#endif
