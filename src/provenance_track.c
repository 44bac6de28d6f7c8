/*
 * provenance_track.c - the paths the provenance walk follows, and what
 * each commit did to them; see src/provenance_walk.h.
 *
 * A track is one up file of the start commit: the path it is followed
 * by (which changes at a rename), its original path, its version, and
 * the commits found to have introduced and last changed it.  Unresolved
 * tracks sit in a hash index by path, so each change the one tree diff
 * (src/git/diff.c) reports is matched to its track at once.
 *
 * A commit introduces path f when f exists in it and in none of its
 * parents (a root commit introduces everything), and changes f when f's
 * blob differs from f's blob in every parent: cairn_prov__process()
 * diffs the commit against each parent in turn and counts, per track,
 * the parents f differs from (hits) and is absent from (adds).  A commit
 * that adds up file P while removing an up file of the same version is a
 * rename: it counts as a change, and the track goes on following the old
 * path, so introduced_by is the original addition.  "The same version"
 * is the version loading gives a file (src/migration_load.c): normalized
 * (1.2 = 1.2.0 = 1_2), and with `versions: per-directory` the directory
 * is part of it, so a/3_x.up.sql removed and b/3_y.up.sql added are two
 * migrations, not one renamed.
 */
#include <stdlib.h>
#include <string.h>

#include "util/error.h"
#include "migration_internal.h"
#include "provenance_walk.h"
#include "util/util.h"

static uint32_t str_hash(const char *s, size_t n)
{
	uint32_t h = 2166136261u;
	size_t i;

	for (i = 0; i < n; i++)
		h = (h ^ (unsigned char)s[i]) * 16777619u;
	return h;
}

static void bucket_unlink(struct walk *w, int32_t ti)
{
	struct track *t = &w->tracks[ti];
	size_t b = str_hash(t->path, strlen(t->path)) & (w->nbuckets - 1);
	int32_t *pp = &w->buckets[b];

	while (*pp >= 0) {
		if (*pp == ti) {
			*pp = t->next;
			t->next = -1;
			return;
		}
		pp = &w->tracks[*pp].next;
	}
}

static void bucket_link(struct walk *w, int32_t ti)
{
	struct track *t = &w->tracks[ti];
	size_t b = str_hash(t->path, strlen(t->path)) & (w->nbuckets - 1);

	t->next = w->buckets[b];
	w->buckets[b] = ti;
}

/* Puts the active, unresolved tracks into the path index. */
int cairn_prov__index_tracks(struct walk *w)
{
	size_t n = 64, i;

	while (n < w->ntracks * 2)
		n *= 2;
	free(w->buckets);
	w->buckets = malloc(n * sizeof(*w->buckets));
	if (!w->buckets)
		return cairn_error__oom();
	w->nbuckets = n;
	for (i = 0; i < n; i++)
		w->buckets[i] = -1;
	w->unresolved = 0;
	for (i = 0; i < w->ntracks; i++) {
		w->tracks[i].next = -1;
		w->tracks[i].stamp = 0;
		if (w->tracks[i].active && !w->tracks[i].has_intro) {
			bucket_link(w, (int32_t)i);
			w->unresolved++;
		}
	}
	return 0;
}

/*
 * The version of the migration file at path (below the migrations
 * directory, NUL-terminated) as loading gives it: the normalized
 * number, with the directory in front when each directory numbers its
 * own (CAIRN_LAYOUT_PER_DIRECTORY; cairn_migration__file_version(), as
 * the loader).  *out is NULL when path is not an up or down
 * file of the walk's layout, or cannot have a version (a directory name
 * loading reports as a bad name); *is_down says which it is.
 */
static int path_version(char **out, const struct walk *w, const char *path,
			bool *is_down)
{
	const char *slash = strrchr(path, '/');
	const char *base = slash ? slash + 1 : path;
	size_t dlen = slash ? (size_t)(slash - path) : 0;
	struct cairn_name_parts np;
	enum cairn_name_kind k;

	*out = NULL;
	k = cairn_migration__parse_name(w->layout, w->dialect, base, &np);
	if (k != CAIRN_NAME_UP && k != CAIRN_NAME_DOWN)
		return 0;
	if (is_down)
		*is_down = k == CAIRN_NAME_DOWN;
	if ((w->layout & CAIRN_LAYOUT_PER_DIRECTORY) && dlen &&
	    !cairn__version_dir_valid(path, dlen))
		return 0;
	*out = cairn_migration__file_version(w->layout, path, dlen, base, &np);
	if (!*out)
		return CAIRN_ERROR;
	if ((w->layout & CAIRN_LAYOUT_PER_DIRECTORY) && dlen &&
	    !cairn__version_valid_n(*out, strlen(*out))) {
		free(*out);
		*out = NULL;
	}
	return 0;
}

int cairn_prov__add_track(struct walk *w, const char *path,
			  const git_oid *blob)
{
	struct track *t;
	char *version;
	int rc = path_version(&version, w, path, NULL);

	if (rc < 0 || !version)
		return rc;
	if (cairn__grow_array((void **)&w->tracks, &w->atracks,
			      w->ntracks + 1, sizeof(*w->tracks)) < 0) {
		free(version);
		return CAIRN_ERROR;
	}
	t = &w->tracks[w->ntracks];
	memset(t, 0, sizeof(*t));
	t->path = cairn__strdup(path);
	t->orig = cairn__strdup(path);
	t->version = version;
	t->next = -1;
	t->active = true;
	if (blob)
		t->blob = *blob;
	if (!t->path || !t->orig || !t->version) {
		free(t->path);
		free(t->orig);
		free(t->version);
		return CAIRN_ERROR;
	}
	w->ntracks++;
	return 0;
}

/*
 * Starts a track over from its original path (for a full re-walk); its
 * version, taken from that path, stays.
 */
int cairn_prov__reset_track(const struct walk *w, struct track *t)
{
	char *p = cairn__strdup(t->orig);

	(void)w;
	if (!p)
		return CAIRN_ERROR;
	free(t->path);
	t->path = p;
	t->has_intro = t->has_changed = false;
	return 0;
}

/* Every up file below the start commit's migrations tree. */
int cairn_prov__enumerate(struct walk *w, const git_oid *tree)
{
	cairn_git_treeiter t;
	cairn_git_entry e;
	size_t len = w->path.size;
	int rc;

	rc = cairn_git__tree_open(&t, &w->trees, tree);
	while (rc == 0) {
		int more = cairn_git__tree_next(&t, &e);

		if (more <= 0) {
			rc = more;
			break;
		}
		if (e.name[0] == '.')
			continue;
		rc = cairn_buf_put(&w->path, e.name, e.len);
		if (rc < 0)
			break;
		if (cairn_git__mode_is_tree(e.mode)) {
			git_oid sub;

			git_oid_fromraw(&sub, e.id);
			rc = cairn_buf_putc(&w->path, '/');
			if (rc == 0)
				rc = cairn_prov__enumerate(w, &sub);
		} else if (cairn_git__mode_is_file(e.mode)) {
			git_oid blob;

			git_oid_fromraw(&blob, e.id);
			rc = cairn_prov__add_track(w, w->path.ptr, &blob);
		}
		cairn_buf_truncate(&w->path, len);
	}
	cairn_git__tree_close(&t);
	return rc;
}

/*
 * What the diff reports (src/git/diff.c): the file at w->path changed
 * against the current parent.
 */
static int on_change(void *ctx, const cairn_buf *changed,
		     cairn_git_change what, const cairn_git_entry *old,
		     const cairn_git_entry *new_)
{
	struct walk *w = ctx;
	const char *path = changed->ptr;
	size_t len = changed->size;

	(void)old;
	(void)new_;
	if (what == CAIRN_GIT_DELETED) {
		bool is_down = false;
		struct removed *r;
		char *version;
		int rc = path_version(&version, w, path, &is_down);

		if (rc < 0 || !version || is_down) {
			free(version);
			return rc;
		}
		if (cairn__grow_array((void **)&w->removed, &w->aremoved,
				      w->nremoved + 1, sizeof(*r)) < 0) {
			free(version);
			return CAIRN_ERROR;
		}
		r = &w->removed[w->nremoved];
		r->version = version;
		r->path = cairn__strdup(path);
		if (!r->path) {
			free(r->version);
			return CAIRN_ERROR;
		}
		w->nremoved++;
		return 0;
	}
	{
		size_t b = str_hash(path, len) & (w->nbuckets - 1);
		int32_t ti;

		for (ti = w->buckets[b]; ti >= 0; ti = w->tracks[ti].next) {
			struct track *t = &w->tracks[ti];

			if (strcmp(t->path, path) != 0)
				continue;
			if (w->cur_parent == 0) {
				if (cairn__grow_array(
					    (void **)&w->touched,
					    &w->atouched, w->ntouched + 1,
					    sizeof(*w->touched)) < 0)
					return CAIRN_ERROR;
				w->touched[w->ntouched++] = (uint32_t)ti;
				t->stamp = w->stamp;
				t->hits = 1;
				t->adds = what == CAIRN_GIT_ADDED;
			} else if (t->stamp == w->stamp &&
				   t->hits == w->cur_parent) {
				t->hits++;
				t->adds += what == CAIRN_GIT_ADDED;
			}
		}
	}
	return 0;
}

void cairn_prov__clear_removed(struct walk *w)
{
	size_t i;

	for (i = 0; i < w->nremoved; i++) {
		free(w->removed[i].path);
		free(w->removed[i].version);
	}
	w->nremoved = 0;
}

/* Moves a track to the path it had before a rename. */
static int retrack(struct walk *w, int32_t ti, const char *path)
{
	char *p = cairn__strdup(path);

	if (!p)
		return CAIRN_ERROR;
	bucket_unlink(w, ti);
	free(w->tracks[ti].path);
	w->tracks[ti].path = p;
	bucket_link(w, ti);
	return 0;
}

/*
 * Diffs commit x against each parent (a root commit against the empty
 * tree) and records what it introduced and changed.
 */
int cairn_prov__process(struct walk *w, uint32_t x)
{
	const cairn_git_node *n = &w->g.nodes[x];
	uint32_t np = n->nparents, i;
	git_oid zero, xsub = n->tree;
	size_t k;
	int rc = 0;

	memset(&zero, 0, sizeof(zero));
	w->stamp++;
	w->ntouched = 0;
	cairn_prov__clear_removed(w);
	for (i = 0; i < (np ? np : 1); i++) {
		const git_oid *psub = &zero;

		if (np) {
			const cairn_git_node *p = &w->g.nodes[
				cairn_git__graph_parent(&w->g, x, i)];

			if (!(p->flags & CAIRN_GIT_MISSING))
				psub = &p->tree;
		}
		w->cur_parent = i;
		cairn_buf_clear(&w->path);
		rc = cairn_git__diff_trees(&w->trees, &w->path, psub, &xsub,
					   on_change, w);
		if (rc < 0)
			return rc;
	}
	if (!np)
		np = 1;
	for (k = 0; k < w->ntouched; k++) {
		int32_t ti = (int32_t)w->touched[k];
		struct track *t = &w->tracks[ti];
		const char *from = NULL;
		size_t r;

		if (t->stamp != w->stamp || t->hits != np || t->has_intro)
			continue;
		if (!t->has_changed) {
			t->changed = w->g.nodes[x].oid;
			t->has_changed = true;
		}
		if (t->adds != np)
			continue;
		for (r = 0; r < w->nremoved && !from; r++)
			if (!strcmp(w->removed[r].version, t->version) &&
			    strcmp(w->removed[r].path, t->path) != 0)
				from = w->removed[r].path;
		if (from) {
			rc = retrack(w, ti, from);
			if (rc < 0)
				return rc;
			continue;
		}
		t->intro = w->g.nodes[x].oid;
		t->has_intro = true;
		bucket_unlink(w, ti);
		w->unresolved--;
	}
	return 0;
}
