/*
 * lint_options.c - owned copies of lint options (cairn/lint.h:
 * cairn_lint_options_dup, cairn_lint_options_free).
 *
 * cairn_lint_options_from_config() fills options that borrow from the
 * configuration, which a hook cannot keep past its init call (the
 * plugin API table, its options and the configuration it points at are
 * valid only then).  The lint hook keeps a copy instead: every rule list
 * and key/value pair copied into one block the copy owns.  `earlier` is
 * a run's state, not configuration: the copy leaves it empty.
 */
#include <stdlib.h>
#include <string.h>

#include "cairn/lint.h"
#include "util/error.h"
#include "util/util.h"
#include "version_check.h"

typedef struct owned_options {
	cairn_lint_options o; /* first: the pointer handed out */
	char **disable;
	char **enable;
	cairn_kv *allow;
	cairn_kv *severity;
} owned_options;

static int dup_names(char ***out, const char *const *names, size_t n)
{
	*out = NULL;
	if (!n)
		return 0;
	if (!(*out = calloc(n, sizeof(**out))))
		return -1;
	for (size_t i = 0; i < n; i++)
		if (names[i] && !((*out)[i] = cairn__strdup(names[i])))
			return -1;
	return 0;
}

static int dup_kvs(cairn_kv **out, const cairn_kv *kv, size_t n)
{
	*out = NULL;
	if (!n)
		return 0;
	if (!(*out = calloc(n, sizeof(**out))))
		return -1;
	for (size_t i = 0; i < n; i++) {
		if (kv[i].key && !((*out)[i].key = cairn__strdup(kv[i].key)))
			return -1;
		if (kv[i].value &&
		    !((*out)[i].value = cairn__strdup(kv[i].value)))
			return -1;
	}
	return 0;
}

void cairn_lint_options_free(cairn_lint_options *opts)
{
	owned_options *w = (owned_options *)opts;

	if (!w)
		return;
	for (size_t i = 0; w->disable && i < w->o.disable_count; i++)
		free(w->disable[i]);
	for (size_t i = 0; w->enable && i < w->o.enable_count; i++)
		free(w->enable[i]);
	for (size_t i = 0; w->allow && i < w->o.allow_count; i++) {
		free(w->allow[i].key);
		free(w->allow[i].value);
	}
	for (size_t i = 0; w->severity && i < w->o.severity_count; i++) {
		free(w->severity[i].key);
		free(w->severity[i].value);
	}
	free(w->disable);
	free(w->enable);
	free(w->allow);
	free(w->severity);
	free(w);
}

int cairn_lint_options_dup(cairn_lint_options **out,
			   const cairn_lint_options *opts)
{
	cairn_lint_options init = CAIRN_LINT_OPTIONS_INIT;
	owned_options *w;

	CAIRN__CHECK_VERSION(opts, CAIRN_LINT_OPTIONS_VERSION,
			     "cairn_lint_options");
	*out = NULL;
	if (!(w = calloc(1, sizeof(*w))))
		return cairn_error__oom();
	w->o = init;
	if (!opts) {
		*out = &w->o;
		return 0;
	}
	/* counts first: free() walks them */
	w->o.disable_count = opts->disable_count;
	w->o.skip_syntax = opts->version >= 2 && opts->skip_syntax;
	if (opts->version >= 2) {
		w->o.enable_count = opts->enable_count;
		w->o.allow_count = opts->allow_count;
		w->o.severity_count = opts->severity_count;
	}
	if (dup_names(&w->disable, opts->disable, w->o.disable_count) < 0 ||
	    (opts->version >= 2 &&
	     (dup_names(&w->enable, opts->enable, w->o.enable_count) < 0 ||
	      dup_kvs(&w->allow, opts->allow, w->o.allow_count) < 0 ||
	      dup_kvs(&w->severity, opts->severity, w->o.severity_count) < 0))) {
		cairn_lint_options_free(&w->o);
		return cairn_error__oom();
	}
	w->o.disable = (const char *const *)w->disable;
	w->o.enable = (const char *const *)w->enable;
	w->o.allow = w->allow;
	w->o.severity = w->severity;
	*out = &w->o;
	return 0;
}
