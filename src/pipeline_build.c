/*
 * pipeline_build.c - from cairn.yaml's hook entries to a pipeline
 * (include/cairn/hooks_config.h).
 *
 * One table maps each hook kind to the function that registers it; a
 * new kind is one function and one row.  exec and sql are implemented in
 * hook_exec.c and hook_sql.c.  builtin looks the name up in the table the
 * program passed in and calls its init with a plugin API table, exactly
 * as a dlopen'd plugin would be called; this file knows no builtin by
 * name.  webhook and plugin are not built yet and say so.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/buf.h"
#include "cairn/hooks_config.h"
#include "util/error.h"
#include "hook_kinds.h"
#include "hook_kinds_ext.h"
#include "util/util.h"
#include "version_check.h"

typedef struct {
	const cairn_hooks_build_options *opts;
	const char *file; /* for messages */
	const cairn_config *cfg;
} build_ctx;

typedef int (*build_fn)(cairn_pipeline *p, const cairn_hook_spec *spec,
			const build_ctx *b);

static int build_exec(cairn_pipeline *p, const cairn_hook_spec *spec,
		      const build_ctx *b)
{
	return cairn_hook__add_exec(p, spec, b->opts->workdir, b->file,
				    b->cfg);
}

static int build_sql(cairn_pipeline *p, const cairn_hook_spec *spec,
		     const build_ctx *b)
{
	return cairn_hook__add_sql(p, spec, b->opts->workdir, b->file);
}

/* Prefixes "file:line:col: " to the error a kind set (keeps detail/hint). */
static int at_spec(const cairn_hook_spec *spec, const build_ctx *b)
{
	cairn_error_saved saved;

	cairn_error__save(&saved);
	cairn_error__set(saved.klass ? saved.klass : CAIRN_ERRCLASS_CONFIG,
			 "%s:%u:%u: %s", b->file, spec->line, spec->column,
			 saved.message ? saved.message : "cannot set up hook");
	if (saved.detail)
		cairn_error__detail("%s", saved.detail);
	if (saved.hint)
		cairn_error__hint("%s", saved.hint);
	cairn_error__saved_dispose(&saved);
	return CAIRN_ERROR;
}

static int build_webhook(cairn_pipeline *p, const cairn_hook_spec *spec,
			 const build_ctx *b)
{
	if (cairn_hook__register_webhook(p, spec, b->opts->workdir) < 0)
		return at_spec(spec, b);
	return 0;
}

static int build_plugin(cairn_pipeline *p, const cairn_hook_spec *spec,
			const build_ctx *b)
{
	if (cairn_hook__register_plugin(p, spec, b->opts->workdir) < 0)
		return at_spec(spec, b);
	return 0;
}

static int unknown_builtin(const cairn_hook_spec *spec, const build_ctx *b)
{
	cairn_buf names = CAIRN_BUF_INIT;
	size_t i;

	for (i = 0; i < b->opts->builtins_count; i++)
		cairn_buf_printf(&names, "%s%s", i ? ", " : "",
				 b->opts->builtins[i].name);
	cairn_error__set(CAIRN_ERRCLASS_CONFIG,
			 "%s:%u:%u: unknown builtin '%s'", b->file, spec->line,
			 spec->column, spec->builtin);
	if (names.size)
		cairn_error__hint("known builtins: %s", names.ptr);
	else
		cairn_error__hint("this program offers no builtins");
	cairn_buf_dispose(&names);
	return CAIRN_ERROR;
}

static int build_builtin(cairn_pipeline *p, const cairn_hook_spec *spec,
			 const build_ctx *b)
{
	const cairn_builtin *bi = NULL;
	cairn_plugin_api api;
	cairn_kv opts[4];
	cairn_buf refs = CAIRN_BUF_INIT;
	size_t i, n = 0;
	int rc = CAIRN_ERROR;

	for (i = 0; i < b->opts->builtins_count && spec->builtin; i++)
		if (!strcmp(b->opts->builtins[i].name, spec->builtin))
			bi = &b->opts->builtins[i];
	if (!bi)
		return unknown_builtin(spec, b);

	if (spec->metrics_file)
		opts[n++] = (cairn_kv){ "metrics_file", spec->metrics_file };
	if (spec->path)
		opts[n++] = (cairn_kv){ "path", spec->path };
	if (spec->refs_count) {
		for (i = 0; i < spec->refs_count; i++)
			if (cairn_buf_printf(&refs, "%s%s", i ? "," : "",
					     spec->refs[i]) < 0)
				goto out;
		opts[n++] = (cairn_kv){ "refs", refs.ptr };
	}
	if (b->opts->workdir)
		opts[n++] = (cairn_kv){ "workdir", (char *)b->opts->workdir };

	cairn_plugin_api_init(&api, p, spec, opts, n);
	api.config = b->cfg;
	cairn_error_clear();
	if (bi->init(&api) != 0) {
		cairn_error_saved saved;

		cairn_error__save(&saved);
		cairn_error__set(CAIRN_ERRCLASS_CONFIG,
				 "%s:%u:%u: cannot set up builtin '%s': %s",
				 b->file, spec->line, spec->column, bi->name,
				 saved.message ? saved.message
					       : "its init returned an error");
		if (saved.detail)
			cairn_error__detail("%s", saved.detail);
		if (saved.hint)
			cairn_error__hint("%s", saved.hint);
		cairn_error__saved_dispose(&saved);
		goto out;
	}
	rc = 0;
out:
	cairn_buf_dispose(&refs);
	return rc;
}

/* One row per hook kind (cairn_hook_kind). */
static const struct {
	cairn_hook_kind kind;
	build_fn build;
} kinds[] = {
	{ CAIRN_HOOK_EXEC, build_exec },
	{ CAIRN_HOOK_SQL, build_sql },
	{ CAIRN_HOOK_WEBHOOK, build_webhook },
	{ CAIRN_HOOK_BUILTIN, build_builtin },
	{ CAIRN_HOOK_PLUGIN, build_plugin },
};

int cairn_hooks_build(cairn_pipeline *p, const cairn_config *cfg,
		      const cairn_hooks_build_options *opts)
{
	static const cairn_hooks_build_options defaults =
		CAIRN_HOOKS_BUILD_OPTIONS_INIT;
	build_ctx b;
	size_t i, k;

	if (!opts)
		opts = &defaults;
	CAIRN__CHECK_VERSION(opts, CAIRN_HOOKS_BUILD_OPTIONS_VERSION,
			     "cairn_hooks_build_options");
	b.opts = opts;
	b.file = cfg->path ? cfg->path : "cairn.yaml";
	b.cfg = cfg;
	for (i = 0; i < cfg->hooks_count; i++) {
		const cairn_hook_spec *spec = &cfg->hooks[i];

		for (k = 0; k < CAIRN_ARRAY_SIZE(kinds); k++)
			if (kinds[k].kind == spec->kind)
				break;
		if (k == CAIRN_ARRAY_SIZE(kinds))
			return cairn_error__set(CAIRN_ERRCLASS_CONFIG,
				"%s:%u:%u: hook '%s' has an unknown kind %d",
				b.file, spec->line, spec->column,
				spec->name ? spec->name : "?",
				(int)spec->kind);
		if (kinds[k].build(p, spec, &b) < 0)
			return CAIRN_ERROR;
	}
	return 0;
}
