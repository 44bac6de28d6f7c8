/*
 * prepush_check.c - the checks behind cairn's git hooks; see
 * include/cairn/prepush.h for what is checked and against which base.
 *
 * cairn_validate_run() reads every file of a set; a pre-push check must
 * cost what the push changes, so these files run the same checks (same
 * codes and hints) on the migrations that are new or changed since the
 * base only:
 *
 *   1. the ids pushed are peeled to commits, and the base is the remote's
 *      id or, for a new ref, found from the remote-tracking refs
 *      (src/prepush_base.c);
 *   2. the fast path (src/prepush_fast.c) decides a push that only adds
 *      new migrations, reading only what it adds;
 *   3. otherwise (the general path) both sets are listed by name (no
 *      contents); a migration is "touched" when its version is new or
 *      its up or down blob differs, a repeatable when its name is new or
 *      its blob differs; touched migrations are read (size,
 *      NULs, UTF-8, directives); the set's findings are kept, less those
 *      the base set has too; deletions, edits, renames and out-of-order
 *      versions are found by comparing versions and blob ids with the
 *      base set.
 *
 * cairn_prepush_blame() then names the commit that introduced each
 * finding's file, walking no further than the push.  The database checks
 * are in src/prepush_db.c, git's input in src/prepush_input.c.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <git2.h>

#include "cairn/prepush.h"
#include "cairn/range.h"
#include "cairn/repeatable.h"
#include "prepush_internal.h"
#include "util/error.h"
#include "migration_internal.h"
#include "repo_internal.h"
#include "util/util.h"
#include "version_check.h"

/* How many commits blame walks without a base (a first push). */
#define BLAME_MAX_COMMITS 50000

int cairn_prepush__load_set(cairn_migration_set **out, cairn_repo *repo,
			    const char *rev, const cairn_prepush_options *opts)
{
	cairn_load_options lo = CAIRN_LOAD_OPTIONS_INIT;

	lo.rev = rev;
	lo.dir = opts->dir;
	lo.ignore = opts->ignore;
	lo.ignore_count = opts->ignore_count;
	if (opts->version >= 2) {
		lo.layout = opts->layout;
		lo.dialect = opts->dialect;
	}
	return cairn_migration_set_load(out, repo, &lo);
}

static bool same_finding(const cairn_finding *a, const cairn_finding *b)
{
	return !strcmp(a->code, b->code) &&
	       !strcmp(a->file ? a->file : "", b->file ? b->file : "") &&
	       !strcmp(a->message, b->message);
}

/* The set's findings, less those the base already had. */
static int copy_new_findings(cairn_prepush_result *r)
{
	const cairn_findings *now = cairn_migration_set_findings(r->set);
	const cairn_findings *before =
		r->base_set ? cairn_migration_set_findings(r->base_set) : NULL;
	size_t i, j;

	for (i = 0; i < now->count; i++) {
		const cairn_finding *f = &now->items[i];
		bool old = false;

		for (j = 0; before && j < before->count && !old; j++)
			old = same_finding(f, &before->items[j]);
		if (old)
			continue;
		if (cairn_findings_add(&r->findings, f->code, f->severity,
				       f->file, f->line, f->version, f->hint,
				       f->commit, "%s", f->message) < 0)
			return CAIRN_ERROR;
	}
	return 0;
}

/*
 * The touched migrations: versioned ones first (new version or another
 * up or down blob), then repeatables (new name or another blob), so the
 * lint rules run on both.
 */
static int find_touched(cairn_prepush_result *r)
{
	size_t i, n = cairn_migration_set_count(r->set);
	size_t nr = cairn_migration_set_repeatable_count(r->set);

	r->touched = cairn__calloc(n + nr + 1, sizeof(*r->touched));
	if (!r->touched)
		return CAIRN_ERROR;
	for (i = 0; i < n; i++) {
		cairn_migration *m = cairn_migration_set_get(r->set, i);
		cairn_migration *b = r->base_set ?
			cairn_migration_set_find(r->base_set, m->version) : NULL;

		if (b && !strcmp(b->up_blob, m->up_blob) &&
		    !strcmp(b->down_blob, m->down_blob))
			continue;
		r->touched[r->touched_count++] = m;
	}
	for (i = 0; i < nr; i++) {
		cairn_migration *m = cairn_migration_set_repeatable(r->set, i);
		cairn_migration *b = r->base_set ?
			cairn_migration_set_find_repeatable(r->base_set,
							    m->name) : NULL;

		if (b && !strcmp(b->up_blob, m->up_blob))
			continue;
		r->touched[r->touched_count++] = m;
	}
	return 0;
}

/* The comparison with the base, as in src/validate.c. */
static int check_base(cairn_prepush_result *r,
		      const cairn_prepush_options *opts)
{
	cairn_migration_set *base = r->base_set, *set = r->set;
	const char *base_max = cairn_migration_set_max_version(base);
	char base_name[64];
	size_t i, n;
	int rc = 0;

	snprintf(base_name, sizeof(base_name), "it was pushed (%.12s)",
		 r->base);
	n = cairn_migration_set_count(base);
	for (i = 0; i < n && rc == 0; i++) {
		cairn_migration *b = cairn_migration_set_get(base, i);
		cairn_migration *m = cairn_migration_set_find(set, b->version);

		if (!m) {
			rc = cairn_findings_add(&r->findings,
				"deleted-after-push", CAIRN_SEVERITY_ERROR,
				b->up_path, 0, b->version,
				"migrations that may have been applied must stay; restore the file and add a new migration that undoes it instead",
				NULL, "migration %s_%s was deleted after %s",
				b->version_text, b->name, base_name);
		} else if (strcmp(m->up_blob, b->up_blob) && m->up_blob[0] &&
			   b->up_blob[0]) {
			rc = cairn_findings_add(&r->findings,
				"edited-after-push", CAIRN_SEVERITY_ERROR,
				m->up_path, 0, m->version,
				"restore the file as it was (git checkout <base> -- <file>), put the change in a new migration (cairn new NAME), and amend or rebase the commits you push",
				NULL, "migration %s_%s was edited after %s",
				m->version_text, m->name, base_name);
		} else if (strcmp(m->up_path, b->up_path)) {
			rc = cairn_findings_add(&r->findings,
				"renamed-after-push", CAIRN_SEVERITY_WARNING,
				m->up_path, 0, m->version, NULL, NULL,
				"migration %s was renamed after %s",
				m->version_text, base_name);
		}
	}
	if (rc < 0 || !base_max)
		return rc;
	for (i = 0; i < r->touched_count && rc == 0; i++) {
		cairn_migration *m = r->touched[i];

		if (m->repeatable ||
		    cairn_migration_set_find(base, m->version) ||
		    cairn__version_cmp(m->version, base_max) >= 0)
			continue;
		rc = cairn_findings_add(&r->findings, "out-of-order",
			opts->allow_out_of_order ? CAIRN_SEVERITY_WARNING
						 : CAIRN_SEVERITY_ERROR,
			m->up_path, 0, m->version,
			"renumber it above the highest version (cairn new gives the next one), or set allow_out_of_order for the environment",
			NULL,
			"new migration %s_%s is numbered below %s, the highest the remote has (%.12s)",
			m->version_text, m->name, base_max, r->base);
	}
	return rc;
}

/*
 * The commit an id names, peeling tags (a pushed annotated tag names a
 * tag object); false when the object is absent or peels to no commit.
 */
static bool peel_commit(char out[CAIRN_OID_HEXSZ], cairn_repo *repo,
			const char *hex)
{
	git_object *obj = NULL, *peeled = NULL;
	git_oid id;
	bool ok;

	if (git_oid_fromstr(&id, hex) < 0 ||
	    git_object_lookup(&obj, cairn_repo__git(repo), &id,
			      GIT_OBJECT_ANY) < 0) {
		git_error_clear();
		return false;
	}
	ok = git_object_peel(&peeled, obj, GIT_OBJECT_COMMIT) == 0;
	if (ok)
		git_oid_tostr(out, CAIRN_OID_HEXSZ, git_object_id(peeled));
	else
		git_error_clear();
	git_object_free(peeled);
	git_object_free(obj);
	return ok;
}

static bool object_exists(cairn_repo *repo, const char *hex)
{
	git_object *obj = NULL;
	git_oid id;

	if (git_oid_fromstr(&id, hex) < 0 ||
	    git_object_lookup(&obj, cairn_repo__git(repo), &id,
			      GIT_OBJECT_ANY) < 0) {
		git_error_clear();
		return false;
	}
	git_object_free(obj);
	return true;
}

int cairn_prepush_check(cairn_prepush_result *out, cairn_repo *repo,
			const cairn_push_update *u,
			const cairn_prepush_options *opts)
{
	cairn_prepush_options defaults = CAIRN_PREPUSH_OPTIONS_INIT;
	cairn_push_update peeled;
	char *dir = NULL;
	size_t i;
	int rc;

	memset(out, 0, sizeof(*out));
	if (!opts)
		opts = &defaults;
	CAIRN__CHECK_VERSION(opts, CAIRN_PREPUSH_OPTIONS_VERSION,
			     "cairn_prepush_options");
	if (cairn_oid_hex_is_zero(u->local_sha)) {
		out->base_kind = CAIRN_PREPUSH_DELETE;
		return 0;
	}
	dir = cairn_migration__normalize_dir(opts->dir ? opts->dir
						       : "db/migrations");
	if (!dir)
		return CAIRN_ERROR;
	/* from here on the ids name commits: tags are peeled */
	peeled = *u;
	if (!peel_commit(peeled.local_sha, repo, u->local_sha)) {
		if (object_exists(repo, u->local_sha)) {
			/* a tag of a tree or a blob: no migrations */
			out->base_kind = CAIRN_PREPUSH_NOT_COMMIT;
			rc = 0;
			goto out;
		}
		cairn_error__set(CAIRN_ERRCLASS_GIT,
				 "cannot find commit %s, which git is pushing",
				 u->local_sha);
		rc = CAIRN_ENOTFOUND;
		goto out;
	}
	if (!cairn_oid_hex_is_zero(u->remote_sha) &&
	    !peel_commit(peeled.remote_sha, repo, u->remote_sha)) {
		out->remote_unknown = !object_exists(repo, u->remote_sha);
		memset(peeled.remote_sha, '0', strlen(u->remote_sha));
	}
	u = &peeled;
	if (!cairn_oid_hex_is_zero(u->remote_sha)) {
		out->base_kind = CAIRN_PREPUSH_REMOTE;
		memcpy(out->base, u->remote_sha, sizeof(out->base));
		out->base[sizeof(out->base) - 1] = '\0';
		out->hidden = cairn__calloc(2, sizeof(*out->hidden));
		if (!out->hidden ||
		    !(out->hidden[0] = cairn__strdup(u->remote_sha))) {
			rc = CAIRN_ERROR;
			goto out;
		}
		out->hidden_count = 1;
	} else if ((rc = cairn_prepush__tracking_base(out, repo, u, opts,
						      dir)) < 0) {
		goto out;
	}
	/* the fast path knows cairn's own file names only */
	rc = out->base[0] && (opts->version < 2 ||
			      opts->layout == CAIRN_LAYOUT_CAIRN)
		     ? cairn_prepush__fast_check(out, repo, u, opts, dir)
		     : 0;
	if (rc < 0)
		goto out;
	if (rc == 0) {
		/* the general path */
		if ((rc = cairn_prepush__load_set(&out->set, repo, u->local_sha,
						  opts)) < 0)
			goto out;
		if (out->base[0] &&
		    (rc = cairn_prepush__load_set(&out->base_set, repo,
						  out->base, opts)) < 0)
			goto out;
		if (out->base_set &&
		    !strcmp(cairn_migration_set_tree(out->set),
			    cairn_migration_set_tree(out->base_set))) {
			out->unchanged = true;
			goto out;
		}
	} else if (out->unchanged) {
		rc = 0;
		goto out;
	}
	if ((rc = find_touched(out)) < 0)
		goto out;
	for (i = 0; i < out->touched_count; i++)
		if ((rc = cairn_migration_load_content(out->set,
						       out->touched[i])) < 0)
			goto out;
	if ((rc = copy_new_findings(out)) < 0)
		goto out;
	for (i = 0; opts->require_down && i < out->touched_count; i++) {
		cairn_migration *m = out->touched[i];

		if (m->down_path || m->repeatable)
			continue;
		rc = cairn_findings_add(&out->findings, "missing-down",
			CAIRN_SEVERITY_ERROR, m->up_path, 0, m->version,
			"add the down file next to the up file, or drop require_down from the environment",
			NULL, "migration %s_%s has no down file",
			m->version_text, m->name);
		if (rc < 0)
			goto out;
	}
	rc = out->base_set ? check_base(out, opts) : 0;
out:
	free(dir);
	if (rc < 0) {
		cairn_error_saved saved;

		cairn_error__save(&saved);
		cairn_prepush_result_dispose(out);
		cairn_error__restore(&saved);
	}
	return rc;
}

int cairn_prepush_blame(cairn_prepush_result *r, cairn_repo *repo,
			const cairn_prepush_options *opts)
{
	cairn_range_options ro = CAIRN_RANGE_OPTIONS_INIT;
	cairn_range range = CAIRN_RANGE_INIT;
	bool need = false;
	size_t i;
	int rc;

	CAIRN__CHECK_VERSION(opts, CAIRN_PREPUSH_OPTIONS_VERSION,
			     "cairn_prepush_options");
	if (!r->set)
		return 0;
	for (i = 0; i < r->findings.count && !need; i++)
		need = r->findings.items[i].file && !r->findings.items[i].commit;
	if (!need)
		return 0;
	ro.dir = opts ? opts->dir : NULL;
	ro.hide = (const char *const *)r->hidden;
	ro.hide_count = r->hidden_count;
	ro.max_commits = r->hidden_count ? 0 : BLAME_MAX_COMMITS;
	rc = cairn_range_changes(&range, repo, cairn_migration_set_commit(r->set),
				 &ro);
	for (i = 0; rc == 0 && i < r->findings.count; i++) {
		cairn_finding *f = &r->findings.items[i];
		const cairn_range_file *rf;

		if (!f->file || f->commit)
			continue;
		rf = cairn_range_find(&range, f->file);
		if (rf && !(f->commit = cairn__strdup(rf->first)))
			rc = CAIRN_ERROR;
	}
	cairn_range_dispose(&range);
	return rc;
}

void cairn_prepush_result_dispose(cairn_prepush_result *r)
{
	size_t i;

	if (!r)
		return;
	cairn_migration_set_free(r->set);
	cairn_migration_set_free(r->base_set);
	free(r->touched);
	cairn_findings_dispose(&r->findings);
	for (i = 0; i < r->hidden_count; i++)
		free(r->hidden[i]);
	free(r->hidden);
	memset(r, 0, sizeof(*r));
}
