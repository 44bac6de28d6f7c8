/*
 * prepush_db.c - the pre-push checks against a database: drift, applied
 * migrations the pushed commit lacks, and versions below the highest
 * applied one; see include/cairn/prepush.h.
 *
 * The tracking table is used only when it exists (a hook never creates
 * cairn's schema), and the comparison reuses cairn_status_compute(),
 * which reads a file only when its blob differs from the applied one.
 * After the fast path (a partial set) every migration of the pushed
 * commit is listed here, since any of them may have drifted.
 */
#include <stdlib.h>
#include <string.h>

#include "cairn/prepush.h"
#include "cairn/schema.h"
#include "prepush_internal.h"
#include "engine/applied.h"
#include "util/buf.h"
#include "db.h"
#include "util/error.h"
#include "migration_internal.h"
#include "util/util.h"
#include "version_check.h"

static bool has_finding(const cairn_findings *fs, const char *code,
			const char *file)
{
	size_t i;

	for (i = 0; i < fs->count; i++)
		if (!strcmp(fs->items[i].code, code) && fs->items[i].file &&
		    file && !strcmp(fs->items[i].file, file))
			return true;
	return false;
}

static bool is_touched(const cairn_prepush_result *r,
		       const cairn_migration *m)
{
	size_t i;

	for (i = 0; i < r->touched_count; i++)
		if (!strcmp(r->touched[i]->version, m->version))
			return true;
	return false;
}

int cairn_prepush_check_applied(cairn_prepush_result *r, cairn_repo *repo,
				const cairn_prepush_options *opts,
				const cairn_applied_list *applied,
				const char *env)
{
	cairn_prepush_options defaults = CAIRN_PREPUSH_OPTIONS_INIT;
	cairn_migration_set *full = NULL, *set;
	cairn_status_entry *e = NULL;
	const char *max_applied = NULL;
	size_t n = 0, i;
	int rc = 0;

	CAIRN__CHECK_VERSION(opts, CAIRN_PREPUSH_OPTIONS_VERSION,
			     "cairn_prepush_options");
	if (!r->set)
		return 0;
	if (!opts)
		opts = &defaults;
	if (!env)
		env = "the database";
	set = r->set;
	if (r->partial) {
		/* every migration of the pushed commit is compared here */
		if (cairn_prepush__load_set(&full, repo,
					    cairn_migration_set_commit(r->set),
					    opts) < 0)
			return CAIRN_ERROR;
		set = full;
	}
	if (cairn_status_compute(&e, &n, set, applied) < 0) {
		cairn_migration_set_free(full);
		return CAIRN_ERROR;
	}
	for (i = 0; i < applied->count; i++)
		if (!max_applied || cairn__version_cmp(applied->items[i].version,
						       max_applied) > 0)
			max_applied = applied->items[i].version;
	for (i = 0; i < n && rc == 0; i++) {
		const cairn_migration *m = e[i].migration;
		const cairn_applied *a = e[i].applied;

		switch (e[i].state) {
		case CAIRN_STATE_DRIFTED:
			rc = cairn_findings_add(&r->findings, "drift",
				CAIRN_SEVERITY_ERROR, m->up_path, 0, m->version,
				"restore the file as it was applied; if the edit is intended, record it with cairn repair --accept VERSION on that environment",
				NULL,
				"migration %s_%s differs from the one applied to %s (applied checksum %.12s)",
				m->version_text, m->name, env, a->checksum);
			break;
		case CAIRN_STATE_MISSING:
			rc = cairn_findings_add(&r->findings, "missing",
				CAIRN_SEVERITY_WARNING, NULL, 0, a->version,
				"merge or rebase onto the branch that added it before deploying from this one",
				a->commit_sha[0] ? a->commit_sha : NULL,
				"migration %s_%s is applied to %s but absent from the pushed commit",
				a->version, a->name, env);
			break;
		case CAIRN_STATE_PENDING:
			if (!e[i].out_of_order || !is_touched(r, m) ||
			    has_finding(&r->findings, "out-of-order",
					m->up_path))
				break;
			rc = cairn_findings_add(&r->findings, "out-of-order",
				opts->allow_out_of_order ? CAIRN_SEVERITY_WARNING
							 : CAIRN_SEVERITY_ERROR,
				m->up_path, 0, m->version,
				"renumber it above the highest applied version (cairn new gives the next one), or set allow_out_of_order for the environment",
				NULL,
				"new migration %s_%s is numbered below %s, the highest applied to %s",
				m->version_text, m->name,
				max_applied ? max_applied : "?", env);
			break;
		default:
			break;
		}
	}
	free(e);
	cairn_migration_set_free(full);
	return rc;
}

int cairn_prepush_applied_load(cairn_applied_list *out, bool *exists,
			       cairn_db *db)
{
	memset(out, 0, sizeof(*out));
	if (cairn_schema_exists(exists, db) < 0)
		return CAIRN_ERROR;
	if (!*exists)
		return 0;
	return cairn_applied__load_brief_known(out, db);
}
