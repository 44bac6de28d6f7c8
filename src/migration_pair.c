/*
 * migration_pair.c - turning the migration files a load found into the
 * migrations of the set; see src/migration_load.h.
 *
 * Up files are sorted by version (cairn__version_cmp(): numbers part by
 * part); two with the same version are "duplicate-version" (the first by
 * path stays in the set so later checks still see it).  Each down file
 * is attached to the up file with the same version, name and
 * subdirectory (in the flyway layout, an undo file to the up file of its
 * version, whatever its description) ("missing-up" when there is none;
 * a second down file for one migration is "duplicate-version" too).
 */
#include <stdlib.h>
#include <string.h>

#include "cairn/migration.h"
#include "util/buf.h"
#include "util/error.h"
#include "migration_internal.h"
#include "migration_load.h"
#include "util/util.h"

static int file_order(const void *pa, const void *pb)
{
	const struct file *a = pa, *b = pb;
	int c;

	if (a->is_down != b->is_down)
		return a->is_down ? 1 : -1;
	c = cairn_migration__vcmp(a->version, b->version);
	if (c)
		return c;
	return strcmp(a->path, b->path);
}

static int dup_finding(cairn_migration_set *set, const struct file *f,
		       const struct file *other)
{
	cairn_buf msg = CAIRN_BUF_INIT;
	int rc;

	rc = cairn_buf_printf(&msg, "version %s of '", f->version);
	if (rc == 0)
		rc = cairn_migration__quote(&msg, f->path, strlen(f->path));
	if (rc == 0)
		rc = cairn_buf_puts(&msg, "' is also used by '");
	if (rc == 0)
		rc = cairn_migration__quote(&msg, other->path,
					    strlen(other->path));
	if (rc == 0)
		rc = cairn_findings_add(&set->findings, "duplicate-version",
					CAIRN_SEVERITY_ERROR, f->path, 0,
					f->version,
					"versions are compared as numbers, "
					"part by part (0042 is 42, 1.0 is "
					"1); give each migration its own "
					"version",
					NULL, "%s'", msg.ptr);
	cairn_buf_dispose(&msg);
	return rc;
}

static bool in_order(const struct file *f, size_t n)
{
	for (size_t i = 1; i < n; i++)
		if (file_order(&f[i - 1], &f[i]) > 0)
			return false;
	return true;
}

/*
 * Puts the files in file_order.  A git tree lists names in byte order,
 * which for zero-padded versions is already version order with down
 * files interleaved: a stable split into up and down files usually
 * leaves both halves sorted, and then no sort is needed (10,000 files
 * cost one pass instead of n log n comparisons).
 */
static int order_files(struct loader *ld)
{
	struct file *tmp;
	size_t nup = 0, k = 0;

	if (ld->nfiles < 2)
		return 0;
	for (size_t i = 0; i < ld->nfiles; i++)
		if (!ld->files[i].is_down)
			nup++;
	tmp = malloc(ld->nfiles * sizeof(*tmp));
	if (!tmp)
		return cairn_error__oom();
	for (size_t i = 0; i < ld->nfiles; i++)
		if (!ld->files[i].is_down)
			tmp[k++] = ld->files[i];
	for (size_t i = 0; i < ld->nfiles; i++)
		if (ld->files[i].is_down)
			tmp[k++] = ld->files[i];
	memcpy(ld->files, tmp, ld->nfiles * sizeof(*tmp));
	free(tmp);
	if (!in_order(ld->files, nup))
		qsort(ld->files, nup, sizeof(*ld->files), file_order);
	if (!in_order(ld->files + nup, ld->nfiles - nup))
		qsort(ld->files + nup, ld->nfiles - nup, sizeof(*ld->files),
		      file_order);
	return 0;
}

int cairn_migration__pair(struct loader *ld)
{
	cairn_migration_set *set = ld->set;
	size_t i, j, nup = 0;
	bool by_version;
	int rc = 0;

	if (order_files(ld) < 0)
		return CAIRN_ERROR;
	while (nup < ld->nfiles && !ld->files[nup].is_down)
		nup++;
	set->items = cairn__calloc(nup ? nup : 1, sizeof(*set->items));
	if (!set->items)
		return CAIRN_ERROR;

	/* up files: one migration per version */
	for (i = 0; i < nup; i = j) {
		struct file *f = &ld->files[i];
		cairn_migration *m;

		for (j = i + 1; j < nup; j++)
			if (cairn_migration__vcmp(ld->files[j].version,
						  f->version) != 0)
				break;
		if (j - i > 1) {
			for (size_t k = i; k < j; k++) {
				size_t other = k == i ? i + 1 : i;

				rc = dup_finding(set, &ld->files[k],
						 &ld->files[other]);
				if (rc < 0)
					return rc;
			}
		}
		m = &set->items[set->count];
		f->kept = true;
		f->index = set->count++;
		memcpy(m->up_blob, f->blob, sizeof(m->up_blob));
		/*
		 * The migration takes the file's strings over (a kept file
		 * frees nothing: see file_dispose), so 10,000 migrations do
		 * not cost 50,000 more copies.
		 */
		m->version = f->version;
		m->version_text = f->version_text;
		m->name = f->name;
		m->subdir = f->subdir;
		m->up_path = f->path;
		if (CAIRN_LAYOUT_KIND(set->layout) == CAIRN_LAYOUT_DBMATE) {
			/* one file: its -- migrate:down section is the down */
			m->down_path = cairn__strdup(f->path);
			if (!m->down_path)
				return CAIRN_ERROR;
			memcpy(m->down_blob, f->blob, sizeof(m->down_blob));
		}
	}

	/*
	 * down files: attach to the up file of the same version and name
	 * (Flyway's undo files: of the same version, as Flyway does)
	 */
	by_version = CAIRN_LAYOUT_KIND(set->layout) == CAIRN_LAYOUT_FLYWAY;
	for (i = nup; i < ld->nfiles; i++) {
		struct file *d = &ld->files[i];
		struct file *up = NULL;
		cairn_migration *m;

		/* the up files are sorted by version: find the group */
		{
			size_t lo = 0, hi = nup;

			while (lo < hi) {
				size_t mid = lo + (hi - lo) / 2;

				if (cairn_migration__vcmp(
					    ld->files[mid].version,
					    d->version) < 0)
					lo = mid + 1;
				else
					hi = mid;
			}
			for (j = lo; j < nup && !up; j++) {
				struct file *u = &ld->files[j];

				if (cairn_migration__vcmp(u->version,
							  d->version) != 0)
					break;
				if (by_version || (!strcmp(u->name, d->name) &&
						   !strcmp(u->subdir, d->subdir)))
					up = u;
			}
		}
		if (!up) {
			cairn_buf hint = CAIRN_BUF_INIT;

			bool fw = by_version;

			rc = cairn_buf_printf(&hint, fw ? "add 'V%s__" : "add '%s_",
					      d->version_text);
			if (rc == 0)
				rc = cairn_migration__quote(&hint, d->name,
							    strlen(d->name));
			if (rc == 0)
				rc = cairn_buf_puts(&hint, fw ? ".sql' next to "
						    "it, or remove the undo file"
						    : ".up.sql' next to it, or "
						    "remove the down file");
			if (rc == 0)
				rc = cairn_findings_add(
					&set->findings, "missing-up",
					CAIRN_SEVERITY_ERROR, d->path, 0,
					d->version, hint.ptr, NULL,
					"down file of version %s has no up "
					"file", d->version);
			cairn_buf_dispose(&hint);
			if (rc < 0)
				return rc;
			continue;
		}
		if (!up->kept)
			continue; /* its up file is a reported duplicate */
		m = &set->items[up->index];
		if (m->down_path) {
			struct file other = *d;

			other.path = m->down_path;
			rc = dup_finding(set, d, &other);
			if (rc < 0)
				return rc;
			continue;
		}
		memcpy(m->down_blob, d->blob, sizeof(m->down_blob));
		m->down_path = d->path;
		d->path = NULL;
	}
	return 0;
}
