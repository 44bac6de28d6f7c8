/*
 * prepush_fast.c - the fast path of the pre-push check: a push that only
 * adds new migrations is checked by reading only what it adds.
 *
 * cairn_range_diff() compares the two migrations subtrees (ids first,
 * then only differing subtrees); equal ids end the check.  When every
 * difference is a well-named file added with a version the base lacks
 * and above its highest (versions are read from the base's tree entries,
 * src/prepush_scan.c), a set holding only those migrations is built here
 * (partial_set()) and only their files are read.  With 10,000
 * migrations, listing two whole sets costs ~35 ms; this costs the two
 * tree reads.
 *
 * Anything the fast path is unsure of (a deletion, an edit, a rename, a
 * bad name, a duplicate, an ignored or hidden path, a down file for an
 * older migration, an out-of-order version) sends the update down the
 * general path (src/prepush_check.c), so the findings always come from
 * one place.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <git2.h>

#include "cairn/range.h"
#include "prepush_internal.h"
#include "util/buf.h"
#include "util/error.h"
#include "migration_internal.h"
#include "repo_internal.h"
#include "util/util.h"

/* As src/migration.c: the default cap on a migration file. */
#define DEFAULT_MAX_FILE_SIZE ((size_t)64 * 1024 * 1024)
/* Bigger pushes take the general path; it costs the same then. */
#define FAST_MAX_CHANGES 512

/*
 * A set that holds only some migrations of a commit, built here instead
 * of by cairn_migration_set_load() so that a push of 10 migrations into
 * a project of 10,000 does not list 10,000 files.  It has everything
 * cairn_migration_load_content() and cairn_migration_set_free() use (see
 * migration_internal.h); fields it does not fill stay zero.
 */
static int partial_set(cairn_migration_set **out, cairn_repo *repo,
		       const char *commit, const char *dir)
{
	cairn_migration_set *set;

	*out = NULL;
	set = cairn__calloc(1, sizeof(*set));
	if (!set)
		return CAIRN_ERROR;
	git_libgit2_init(); /* cairn_migration_set_free() shuts it down */
	set->dir = cairn__strdup(dir);
	snprintf(set->commit, sizeof(set->commit), "%s", commit);
	set->max_file_size = DEFAULT_MAX_FILE_SIZE;
	if (!set->dir) {
		cairn_migration_set_free(set);
		return CAIRN_ERROR;
	}
	if (git_repository_odb(&set->odb, cairn_repo__git(repo)) < 0) {
		cairn_migration_set_free(set);
		return cairn_repo__error("cannot open the object database");
	}
	*out = set;
	return 0;
}

static int migration_cmp(const void *a, const void *b)
{
	return cairn__version_cmp(((const cairn_migration *)a)->version,
				  ((const cairn_migration *)b)->version);
}

/* One added file of the diff, split into its parts. */
struct added {
	const cairn_range_file *f;
	const char *rel;      /* below the directory */
	const char *base;     /* the file name */
	version_t version;
	size_t vlen;
	const char *name;
	size_t nlen;
	bool down;
	size_t sublen;        /* length of the subdirectory part of rel */
};

/* Whether a path the push added is a plain, well-named migration file. */
static bool plain_addition(struct added *a, const cairn_range_file *f,
			   size_t dirlen, const cairn_prepush_options *opts)
{
	cairn_buf prefix = CAIRN_BUF_INIT;
	const char *p, *slash;
	bool ok = true;

	if (f->first_kind != CAIRN_RANGE_ADDED ||
	    (f->mode != GIT_FILEMODE_BLOB &&
	     f->mode != GIT_FILEMODE_BLOB_EXECUTABLE))
		return false;
	a->f = f;
	a->rel = f->path + dirlen;
	p = strrchr(a->rel, '/');
	a->base = p ? p + 1 : a->rel;
	a->sublen = p ? (size_t)(p - a->rel) : 0;
	if (!cairn_migration_parse_filename(a->base, &a->vlen, &a->name,
					    &a->nlen, &a->down))
		return false;
	cairn_prepush__normalize(a->version, a->base, a->vlen);
	/* every directory on the way, and the file, must be read by loading */
	for (p = a->rel; ok && (slash = strchr(p, '/')); p = slash + 1) {
		char *comp = cairn__strndup(p, (size_t)(slash - p));

		cairn_buf_clear(&prefix);
		ok = comp && cairn_buf_put(&prefix, a->rel,
					   (size_t)(slash - a->rel)) == 0 &&
		     !cairn_prepush__skipped(opts, prefix.ptr, comp);
		free(comp);
	}
	cairn_buf_dispose(&prefix);
	if (!ok)
		cairn_error_clear();
	return ok && !cairn_prepush__skipped(opts, a->rel, a->base);
}

static bool same_migration(const struct added *up, const struct added *d)
{
	return !strcmp(up->version, d->version) && up->nlen == d->nlen &&
	       !memcmp(up->name, d->name, up->nlen) &&
	       up->sublen == d->sublen &&
	       !memcmp(up->rel, d->rel, up->sublen);
}

static int fill_migration(cairn_migration *m, const struct added *up,
			  const struct added *down)
{
	m->version = cairn__strdup(up->version);
	m->version_text = cairn__strndup(up->base, up->vlen);
	m->name = cairn__strndup(up->name, up->nlen);
	m->subdir = cairn__strndup(up->rel, up->sublen);
	m->up_path = cairn__strdup(up->f->path);
	snprintf(m->up_blob, sizeof(m->up_blob), "%s", up->f->blob);
	if (down) {
		m->down_path = cairn__strdup(down->f->path);
		snprintf(m->down_blob, sizeof(m->down_blob), "%s",
			 down->f->blob);
	}
	if (!m->version || !m->version_text || !m->name || !m->subdir ||
	    !m->up_path || (down && !m->down_path))
		return CAIRN_ERROR;
	return 0;
}

/*
 * The fast path (see prepush.h).  Returns 1 when it decided the update,
 * 0 when the general path must run (nothing is kept then), or an error.
 */
int cairn_prepush__fast_check(cairn_prepush_result *r, cairn_repo *repo,
			      const cairn_push_update *u,
			      const cairn_prepush_options *opts,
			      const char *dir)
{
	cairn_range_options ro = CAIRN_RANGE_OPTIONS_INIT;
	cairn_range diff = CAIRN_RANGE_INIT;
	struct vmax base = { "", 0, false };
	struct added *adds = NULL;
	cairn_migration_set *set = NULL;
	size_t i, j, nup = 0, dirlen = *dir ? strlen(dir) + 1 : 0;
	int rc;

	ro.dir = dir;
	if ((rc = cairn_range_diff(&diff, repo, r->base, u->local_sha,
				   &ro)) < 0)
		return rc;
	if ((rc = partial_set(&set, repo, u->local_sha, dir)) < 0)
		goto out;
	if (!diff.diffed) {
		r->unchanged = true;
		rc = 1;
		goto out;
	}
	rc = 0;
	if (!diff.count || diff.count > FAST_MAX_CHANGES)
		goto out;
	adds = cairn__calloc(diff.count, sizeof(*adds));
	if (!adds) {
		rc = CAIRN_ERROR;
		goto out;
	}
	for (i = 0; i < diff.count; i++) {
		if (!plain_addition(&adds[i], &diff.files[i], dirlen, opts))
			goto out;
		nup += !adds[i].down;
	}
	if ((rc = cairn_prepush__versions_at(&base, repo, r->base, dir,
					     opts)) < 0)
		goto out;
	/* new versions only, each once, above the base's highest */
	for (i = 0; i < diff.count; i++) {
		if (adds[i].down)
			continue;
		if (base.max[0] &&
		    cairn__version_cmp(adds[i].version, base.max) <= 0)
			goto out;
		for (j = 0; j < i; j++)
			if (!adds[j].down &&
			    !strcmp(adds[j].version, adds[i].version))
				goto out;
	}
	set->items = cairn__calloc(nup ? nup : 1, sizeof(*set->items));
	if (!set->items) {
		rc = CAIRN_ERROR;
		goto out;
	}
	/* every down file pairs with an added up file */
	for (i = 0; i < diff.count; i++) {
		const struct added *down = NULL;

		if (adds[i].down) {
			for (j = 0; j < diff.count; j++)
				if (!adds[j].down &&
				    same_migration(&adds[j], &adds[i]))
					break;
			if (j == diff.count)
				goto out;
			continue;
		}
		for (j = 0; j < diff.count && !down; j++)
			if (adds[j].down && same_migration(&adds[i], &adds[j]))
				down = &adds[j];
		if ((rc = fill_migration(&set->items[set->count++], &adds[i],
					 down)) < 0)
			goto out;
	}
	qsort(set->items, set->count, sizeof(*set->items), migration_cmp);
	rc = 1;
out:
	if (rc == 1) {
		r->set = set;
		r->partial = true;
		set = NULL;
	}
	cairn_migration_set_free(set);
	free(adds);
	cairn_range_dispose(&diff);
	return rc;
}
