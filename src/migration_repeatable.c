/*
 * migration_repeatable.c - finding repeatable migrations while a set is
 * loaded, and what the set answers about them
 * (include/cairn/repeatable.h).
 *
 * The loader (src/migration_load.c) offers every directory entry to
 * cairn_repeatable__entry() before it parses it as a versioned file.
 * A name in the layout's repeatable pattern is taken: a regular file
 * becomes one of the set's repeatables (a cairn_migration with
 * `repeatable` set and an empty version), a bad name a "bad-name"
 * finding.  Links, submodules and the like are left to the loader, which
 * reports them as it does for any migration file.  Once the directory is
 * read, cairn_repeatable__finish() sorts them by name and refuses
 * duplicates ("duplicate-repeatable": every file of that name is left
 * out, so none of them is applied by accident).
 *
 * Provenance of a repeatable is the commit that last changed its file,
 * found by walking history newest first from the set's commit (libgit2's
 * revwalk): the first commit whose copy of the file is the current blob
 * while no parent's copy is.  It is asked only for the repeatables a run
 * is about to apply, whose last change is normally recent.
 */
#include <stdlib.h>
#include <string.h>

#include "cairn/repeatable.h"
#include "migration_internal.h"
#include "migration_load.h"
#include "repo_internal.h"
#include "util/error.h"
#include "util/util.h"

#define CAIRN_SUFFIX ".repeatable.sql"
/* commits a provenance walk reads at most */
#define MAX_WALK 200000

static bool name_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c >= '0' && c <= '9') || c == '_' || c == '-' || c == '.';
}

/*
 * Whether base is a repeatable's name in the layout: 1 with the name's
 * place (*start, *len) and *why NULL when it is valid, or a reason;
 * 0 when the pattern does not apply.
 */
static int match(cairn_layout layout, const char *base, size_t *start,
		 size_t *len, const char **why)
{
	size_t n = strlen(base), k = strlen(CAIRN_SUFFIX);

	*why = NULL;
	layout = CAIRN_LAYOUT_KIND(layout);   /* per-directory or not */
	if (layout == CAIRN_LAYOUT_CAIRN) {
		if (n < k || strcmp(base + n - k, CAIRN_SUFFIX))
			return 0;
		*start = 0;
		*len = n - k;
	} else if (layout == CAIRN_LAYOUT_FLYWAY) {
		if (n < 7 || strncmp(base, "R__", 3) ||
		    strcmp(base + n - 4, ".sql"))
			return 0;
		*start = 3;
		*len = n - 7;
	} else {
		return 0;
	}
	if (*len == 0) {
		*why = "' has no name before the suffix";
		return 1;
	}
	for (size_t i = *start; i < *start + *len; i++) {
		if (!name_char(base[i])) {
			*why = "' is not a valid repeatable migration name "
			       "(letters, digits, '_', '-' and '.')";
			return 1;
		}
	}
	if (base[*start] == '.' || base[*start + *len - 1] == '.')
		*why = "' is not a valid repeatable migration name (it may "
		       "not start or end with '.')";
	return 1;
}

static const char *name_hint(cairn_layout layout)
{
	return CAIRN_LAYOUT_KIND(layout) == CAIRN_LAYOUT_FLYWAY
		? "repeatable migrations are named R__<name>.sql, e.g. "
		  "R__views.sql (name: letters, digits, '_', '-', '.')"
		: "repeatable migrations are named <name>.repeatable.sql, "
		  "e.g. views.repeatable.sql (name: letters, digits, '_', "
		  "'-', '.')";
}

static int add(struct loader *ld, const char *subdir, const char *base,
	       size_t start, size_t len, const char *path, const char *blob)
{
	cairn_migration_set *set = ld->set;
	cairn_migration *m;

	if (cairn__grow_array((void **)&set->repeatables, &set->arepeatables,
			      set->nrepeatables + 1, sizeof(*m)) < 0)
		return CAIRN_ERROR;
	m = &set->repeatables[set->nrepeatables];
	memset(m, 0, sizeof(*m));
	m->repeatable = true;
	m->version = cairn__strdup("");
	m->version_text = cairn__strdup("");
	m->name = cairn__strndup(base + start, len);
	m->subdir = cairn__strdup(subdir);
	m->up_path = cairn__strdup(path);
	if (blob)
		memcpy(m->up_blob, blob, sizeof(m->up_blob));
	if (!m->version || !m->version_text || !m->name || !m->subdir ||
	    !m->up_path) {
		cairn_migration__dispose(m);
		return CAIRN_ERROR;
	}
	set->nrepeatables++;
	return 0;
}

int cairn_repeatable__entry(struct loader *ld, const char *subdir,
			    const char *base, const char *path, bool is_file,
			    const char *blob, bool *taken)
{
	size_t start, len;
	const char *why;

	*taken = false;
	if (!is_file || !match(ld->layout, base, &start, &len, &why))
		return 0;
	*taken = true;
	if (why)
		return cairn_migration__file_finding(
			&ld->set->findings, "bad-name", path, 0, NULL,
			name_hint(ld->layout), "'", base, why);
	return add(ld, subdir, base, start, len, path, blob);
}

static int by_name(const void *a, const void *b)
{
	const cairn_migration *x = a, *y = b;
	int c = strcmp(x->name, y->name);

	return c ? c : strcmp(x->up_path, y->up_path);
}

/* Drops items [from, to) of the set's repeatables. */
static void drop(cairn_migration_set *set, size_t from, size_t to)
{
	for (size_t i = from; i < to; i++)
		cairn_migration__dispose(&set->repeatables[i]);
	memmove(&set->repeatables[from], &set->repeatables[to],
		(set->nrepeatables - to) * sizeof(*set->repeatables));
	set->nrepeatables -= to - from;
}

int cairn_repeatable__finish(struct loader *ld)
{
	cairn_migration_set *set = ld->set;
	size_t i = 0;

	if (set->nrepeatables > 1)
		qsort(set->repeatables, set->nrepeatables,
		      sizeof(*set->repeatables), by_name);
	while (i < set->nrepeatables) {
		size_t j = i + 1;

		while (j < set->nrepeatables &&
		       !strcmp(set->repeatables[j].name,
			       set->repeatables[i].name))
			j++;
		if (j == i + 1) {
			i++;
			continue;
		}
		for (size_t k = i + 1; k < j; k++) {
			cairn_buf q = CAIRN_BUF_INIT;
			const char *nm = set->repeatables[i].name;
			int rc;

			rc = cairn_migration__quote(&q, nm, strlen(nm));
			if (rc == 0)
				rc = cairn_findings_add(
					&set->findings, "duplicate-repeatable",
					CAIRN_SEVERITY_ERROR,
					set->repeatables[k].up_path, 0, NULL,
					"a repeatable migration is known by its name alone: rename or remove one of the files",
					NULL,
					"repeatable migration '%s' is defined twice: '%s' and '%s'; neither is applied",
					q.ptr, set->repeatables[i].up_path,
					set->repeatables[k].up_path);
			cairn_buf_dispose(&q);
			if (rc < 0)
				return rc;
		}
		drop(set, i, j);
	}
	return 0;
}

size_t cairn_migration_set_repeatable_count(const cairn_migration_set *set)
{
	return set ? set->nrepeatables : 0;
}

cairn_migration *cairn_migration_set_repeatable(const cairn_migration_set *set,
						size_t i)
{
	return set && i < set->nrepeatables ? &set->repeatables[i] : NULL;
}

cairn_migration *cairn_migration_set_find_repeatable(
	const cairn_migration_set *set, const char *name)
{
	for (size_t i = 0; set && name && i < set->nrepeatables; i++)
		if (!strcmp(set->repeatables[i].name, name))
			return &set->repeatables[i];
	return NULL;
}

int cairn_repeatable_load_contents(cairn_migration_set *set)
{
	for (size_t i = 0; i < set->nrepeatables; i++)
		if (cairn_migration_load_content(set, &set->repeatables[i]) < 0)
			return CAIRN_ERROR;
	return 0;
}

/* ---- provenance ------------------------------------------------------- */

/* The blob at path in commit c: 1 found (*out), 0 absent, <0 error. */
static int blob_at(git_oid *out, git_commit *c, const char *path)
{
	git_tree *tree = NULL;
	git_tree_entry *e = NULL;
	int rc;

	if (git_commit_tree(&tree, c) < 0)
		return CAIRN_ERROR;
	rc = git_tree_entry_bypath(&e, tree, path);
	if (rc == GIT_ENOTFOUND) {
		rc = 0;
	} else if (rc == 0) {
		*out = *git_tree_entry_id(e);
		rc = git_tree_entry_type(e) == GIT_OBJECT_BLOB;
	} else {
		rc = CAIRN_ERROR;
	}
	git_tree_entry_free(e);
	git_tree_free(tree);
	return rc;
}

/* Whether c changed path to blob: c has it, no parent has. */
static int changes_to(bool *out, git_commit *c, const char *path,
		      const git_oid *blob)
{
	unsigned np = git_commit_parentcount(c);
	git_oid id;
	int rc;

	*out = false;
	if ((rc = blob_at(&id, c, path)) <= 0)
		return rc;
	if (!git_oid_equal(&id, blob))
		return 0;
	for (unsigned i = 0; i < np; i++) {
		git_commit *p = NULL;

		if (git_commit_parent(&p, c, i) < 0)
			return CAIRN_ERROR;
		rc = blob_at(&id, p, path);
		git_commit_free(p);
		if (rc < 0)
			return rc;
		if (rc == 1 && git_oid_equal(&id, blob))
			return 0;
	}
	*out = true;
	return 0;
}

int cairn_repeatable_provenance(cairn_migration_set *set, cairn_repo *repo,
				cairn_migration *m)
{
	git_repository *g = cairn_repo__git(repo);
	git_revwalk *walk = NULL;
	git_oid start, blob, id;
	unsigned seen = 0;
	int rc = CAIRN_ERROR;

	if (!m || !m->repeatable || m->has_provenance || set->worktree ||
	    !m->up_blob[0])
		return 0;
	if (git_oid_fromstr(&start, set->commit) < 0 ||
	    git_oid_fromstr(&blob, m->up_blob) < 0 ||
	    git_revwalk_new(&walk, g) < 0 ||
	    git_revwalk_sorting(walk, GIT_SORT_TIME) < 0 ||
	    git_revwalk_push(walk, &start) < 0) {
		rc = cairn_repo__error("cannot walk the history of '%s'",
				       m->up_path);
		goto out;
	}
	while (seen++ < MAX_WALK && git_revwalk_next(&id, walk) == 0) {
		git_commit *c = NULL;
		bool hit;

		if (git_commit_lookup(&c, g, &id) < 0) {
			rc = cairn_repo__error("cannot read a commit of the history of '%s'",
					       m->up_path);
			goto out;
		}
		rc = changes_to(&hit, c, m->up_path, &blob);
		git_commit_free(c);
		if (rc < 0) {
			rc = cairn_repo__error("cannot read the history of '%s'",
					       m->up_path);
			goto out;
		}
		if (!hit)
			continue;
		if ((rc = cairn_repo__commit_info_read(&m->changed, g, &id)) < 0 ||
		    (rc = cairn_commit_info_copy(&m->introduced, &m->changed)) < 0)
			goto out;
		m->has_provenance = true;
		break;
	}
	rc = 0;
out:
	git_revwalk_free(walk);
	return rc;
}
