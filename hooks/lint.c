/*
 * lint.c - the `lint` built-in: a migration with lint errors does not run.
 *
 *   pre_execute:
 *     - builtin: lint
 *
 * Written against the plugin API table only (cairn/hook.h), as a plugin
 * would be (the lint calls are api->lint_migration and api->findings_*).  The hook context carries one
 * migration, not the whole set, so the hook belongs at pre_execute: for
 * each migration about to be applied it lints the up file
 * (api->lint_migration) and fails, vetoing that migration and the rest,
 * when there is an error; the primary message counts the errors, the
 * detail lists them one per line ("file:line: message [code]") and the
 * hint is the first error's.  The `lint:` section of cairn.yaml applies
 * (api->config and the lint options calls, API version 3): a rule it
 * disables, allows for that version or turns off does not veto.
 * Warnings go to the run's log and never
 * fail.  Everywhere else there is nothing to lint and the hook passes: at
 * run-level events (no migration in the context), at pre/post_rollback
 * (down files exist to undo; destructive statements there are expected),
 * and for a migration whose content is not loaded.  `cairn validate` and
 * `cairn lint` check the whole set before any of this.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cairn/hook.h"
#include "guards.h"

typedef struct {
	int (*set_error)(cairn_error_class klass, const char *fmt, ...);
	void (*log)(const cairn_hook_context *ctx, const char *source,
		    const char *text);
	void (*set_error_detail)(const char *fmt, ...);
	void (*set_error_hint)(const char *fmt, ...);
	int (*lint_migration)(cairn_findings *out, const cairn_migration *m,
			      const cairn_lint_options *opts);
	size_t (*findings_count)(const cairn_findings *list,
				 cairn_severity severity);
	void (*findings_dispose)(cairn_findings *list);
	const char *(*severity_name)(cairn_severity severity);
	/* the `lint:` section of cairn.yaml (an owned copy), or NULL */
	cairn_lint_options *opts;
	void (*options_free)(cairn_lint_options *opts);
	char *name;
} lint_hook;

static void lint_hook_free(void *payload)
{
	lint_hook *h = payload;

	if (!h)
		return;
	if (h->opts)
		h->options_free(h->opts);
	free(h->name);
	free(h);
}

static void log_warnings(const lint_hook *h, const cairn_hook_context *ctx,
			 const cairn_findings *fs)
{
	for (size_t i = 0; i < fs->count; i++) {
		const cairn_finding *f = &fs->items[i];
		char *line = NULL;

		if (f->severity == CAIRN_SEVERITY_ERROR)
			continue;
		if (asprintf(&line, "%s:%u: %s: %s [%s]", f->file, f->line,
			     h->severity_name(f->severity), f->message,
			     f->code) < 0)
			continue;
		h->log(ctx, h->name, line);
		free(line);
	}
}

/* The error findings, one "file:line: message [code]" per line. */
static char *error_lines(const cairn_findings *fs)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);
	bool first = true;

	if (!f)
		return NULL;
	for (size_t i = 0; i < fs->count; i++) {
		const cairn_finding *x = &fs->items[i];

		if (x->severity != CAIRN_SEVERITY_ERROR)
			continue;
		fprintf(f, "%s%s:%u: %s [%s]", first ? "" : "\n", x->file,
			x->line, x->message, x->code);
		first = false;
	}
	if (fclose(f) != 0) {
		free(text);
		return NULL;
	}
	return text;
}

static int lint_event(const cairn_hook_context *ctx, void *payload)
{
	lint_hook *h = payload;
	const cairn_migration *m = ctx->migration;
	cairn_findings fs = CAIRN_FINDINGS_INIT;
	const char *hint = NULL;
	size_t errors;
	char *detail;
	int rc = 0;

	if (!m || ctx->event == CAIRN_EVENT_PRE_ROLLBACK ||
	    ctx->event == CAIRN_EVENT_POST_ROLLBACK ||
	    (ctx->direction && !strcmp(ctx->direction, "down")))
		return 0;
	if (!m->content_loaded || !m->up_sql)
		return 0;
	if (h->lint_migration(&fs, m, h->opts) < 0)
		return -1;
	log_warnings(h, ctx, &fs);
	errors = h->findings_count(&fs, CAIRN_SEVERITY_ERROR);
	if (!errors)
		goto out;
	for (size_t i = 0; i < fs.count && !hint; i++)
		if (fs.items[i].severity == CAIRN_SEVERITY_ERROR)
			hint = fs.items[i].hint;
	detail = error_lines(&fs);
	rc = h->set_error(CAIRN_ERRCLASS_VALIDATION,
			  "'%s' has %zu lint error%s", m->up_path, errors,
			  errors == 1 ? "" : "s");
	if (detail)
		h->set_error_detail("%s", detail);
	if (hint)
		h->set_error_hint("%s", hint);
	free(detail);
out:
	h->findings_dispose(&fs);
	return rc;
}

/*
 * Keeps a copy of the configuration's `lint:` section (disabled rules,
 * rules allowed for a version, severity overrides), which the table
 * offers from version 3 on; an older host or no configuration: the
 * defaults.
 */
static int keep_config(lint_hook *h, const cairn_plugin_api *api)
{
	cairn_lint_options lo = CAIRN_LINT_OPTIONS_INIT;

	if (!CAIRN_PLUGIN_API_HAS(api, lint_options_free) || !api->config)
		return 0;
	api->lint_options_from_config(&lo, api->config);
	h->options_free = api->lint_options_free;
	return api->lint_options_dup(&h->opts, &lo);
}

int cairn_builtin_lint_init(const cairn_plugin_api *api)
{
	cairn_hook hook;
	lint_hook *h;

	if (!CAIRN_PLUGIN_API_HAS(api, severity_name) || !api->spec)
		return api->set_error(CAIRN_ERRCLASS_USAGE,
				      "lint: unsupported plugin API");
	h = calloc(1, sizeof(*h));
	if (!h || !(h->name = strdup(api->spec->name ? api->spec->name
						     : "builtin:lint"))) {
		lint_hook_free(h);
		return api->set_error(CAIRN_ERRCLASS_NOMEMORY, "out of memory");
	}
	h->set_error = api->set_error;
	h->log = api->log;
	h->set_error_detail = api->set_error_detail;
	h->set_error_hint = api->set_error_hint;
	h->lint_migration = api->lint_migration;
	h->findings_count = api->findings_count;
	h->findings_dispose = api->findings_dispose;
	h->severity_name = api->severity_name;
	if (keep_config(h, api) < 0) {
		lint_hook_free(h);
		return -1;
	}
	api->hook_from_spec(&hook, api->spec);
	hook.kind = "builtin";
	hook.description = "vetoes a migration whose up file has lint errors";
	hook.fn = lint_event;
	hook.payload = h;
	hook.free_payload = lint_hook_free;
	if (api->add_hook(api->pipeline, &hook, NULL) != 0) {
		lint_hook_free(h);
		return -1;
	}
	return 0;
}
