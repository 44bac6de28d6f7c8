/*
 * validate.c - static checks of a migration set (include/cairn/validate.h).
 *
 * Content is read once per migration (cairn_migration_load_content adds
 * its findings to the set), then the set's findings are copied out, then
 * every up and down file goes through PostgreSQL's parser
 * (cairn_lint_syntax: a "syntax-error" finding with line and column for
 * a file the grammar rejects), then
 * the checks that compare with the base revision run on blob ids alone:
 * an edit is a different up-file blob for the same version, so nothing is
 * inflated twice.
 */
#include <string.h>

#include "cairn/lint.h"
#include "cairn/repeatable.h"
#include "cairn/validate.h"
#include "migration_empty.h"
#include "util/error.h"
#include "util/util.h"
#include "version_check.h"

int cairn_findings_append(cairn_findings *dst, const cairn_findings *src)
{
	for (size_t i = 0; i < src->count; i++) {
		const cairn_finding *f = &src->items[i];

		if (cairn_findings_add(dst, f->code, f->severity, f->file,
				       f->line, f->version, f->hint, f->commit,
				       "%s", f->message) < 0)
			return CAIRN_ERROR;
	}
	return 0;
}

static int check_against_base(cairn_findings *out, cairn_migration_set *set,
			      const cairn_validate_options *opts)
{
	cairn_migration_set *base = opts->base;
	const char *base_name = opts->base_rev ? opts->base_rev : "the base";
	const char *base_max = cairn_migration_set_max_version(base);
	size_t i, n;
	int rc;

	n = cairn_migration_set_count(base);
	for (i = 0; i < n; i++) {
		cairn_migration *b = cairn_migration_set_get(base, i);
		cairn_migration *m = cairn_migration_set_find(set, b->version);

		if (!m) {
			rc = cairn_findings_add(out, "deleted-after-push",
				CAIRN_SEVERITY_ERROR, b->up_path, 0, b->version,
				"migrations that may have been applied must stay; add a new migration that undoes it instead",
				NULL, "migration %s_%s was deleted after %s",
				b->version_text, b->name, base_name);
		} else if (strcmp(m->up_blob, b->up_blob) &&
			   m->up_blob[0] && b->up_blob[0]) {
			rc = cairn_findings_add(out, "edited-after-push",
				CAIRN_SEVERITY_ERROR, m->up_path, 0, m->version,
				"restore the file as it was and put the change in a new migration (cairn new NAME)",
				NULL, "migration %s_%s was edited after %s",
				m->version_text, m->name, base_name);
		} else if (strcmp(m->up_path, b->up_path)) {
			rc = cairn_findings_add(out, "renamed-after-push",
				CAIRN_SEVERITY_WARNING, m->up_path, 0,
				m->version, NULL, NULL,
				"migration %s was renamed after %s (was '%s')",
				m->version_text, base_name, b->up_path);
		} else {
			rc = 0;
		}
		if (rc < 0)
			return rc;
	}
	if (!base_max)
		return 0;
	n = cairn_migration_set_count(set);
	for (i = 0; i < n; i++) {
		cairn_migration *m = cairn_migration_set_get(set, i);

		if (cairn_migration_set_find(base, m->version))
			continue;
		if (cairn__version_cmp(m->version, base_max) >= 0)
			continue;
		rc = cairn_findings_add(out, "out-of-order",
			opts->allow_out_of_order ? CAIRN_SEVERITY_WARNING
						 : CAIRN_SEVERITY_ERROR,
			m->up_path, 0, m->version,
			"renumber it above the highest version (cairn new gives the next one), or set allow_out_of_order for the environment",
			NULL,
			"new migration %s_%s is numbered below %s, the highest at %s",
			m->version_text, m->name, base_max, base_name);
		if (rc < 0)
			return rc;
	}
	return 0;
}

int cairn_validate_run(cairn_findings *out, cairn_migration_set *set,
		       const cairn_validate_options *opts)
{
	cairn_validate_options defaults = CAIRN_VALIDATE_OPTIONS_INIT;
	size_t i, n;

	if (!opts)
		opts = &defaults;
	CAIRN__CHECK_VERSION(opts, CAIRN_VALIDATE_OPTIONS_VERSION,
			     "cairn_validate_options");
	if (cairn_migration_set_load_contents(set) < 0 ||
	    cairn_repeatable_load_contents(set) < 0)
		return CAIRN_ERROR;
	if (cairn_findings_append(out, cairn_migration_set_findings(set)) < 0 ||
	    cairn_migration__empty_findings(out, set) < 0)
		return CAIRN_ERROR;
	n = cairn_migration_set_count(set);
	/* PostgreSQL's grammar over every up and down file, no database */
	for (i = 0; i < n; i++)
		if (cairn_lint_syntax(out, cairn_migration_set_get(set, i)) < 0)
			return CAIRN_ERROR;
	/* and over every repeatable migration; an empty one is warned of */
	for (i = 0; i < cairn_migration_set_repeatable_count(set); i++) {
		cairn_migration *r = cairn_migration_set_repeatable(set, i);
		bool empty = false;

		if (cairn_lint_syntax(out, r) < 0 ||
		    cairn_migration__up_is_empty(&empty, r) < 0)
			return CAIRN_ERROR;
		if (empty && r->content_ok &&
		    cairn_findings_add(out, "empty-migration",
				CAIRN_SEVERITY_WARNING, r->up_path, 0, NULL,
				"write the SQL in the file, or add '-- cairn: allow empty' if it is meant to do nothing (migrate refuses it otherwise)",
				NULL, "repeatable migration %s has no SQL statement (only comments)",
				r->name) < 0)
			return CAIRN_ERROR;
	}
	for (i = 0; opts->require_down && i < n; i++) {
		cairn_migration *m = cairn_migration_set_get(set, i);

		if (m->down_path)
			continue;
		if (cairn_findings_add(out, "missing-down",
				CAIRN_SEVERITY_ERROR, m->up_path, 0, m->version,
				"add the down file next to the up file, or drop require_down from the environment",
				NULL, "migration %s_%s has no down file",
				m->version_text, m->name) < 0)
			return CAIRN_ERROR;
	}
	if (opts->base && check_against_base(out, set, opts) < 0)
		return CAIRN_ERROR;
	return 0;
}
