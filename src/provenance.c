/*
 * provenance.c - which commit introduced each migration, and which last
 * changed it; see cairn_migration_set_provenance() in
 * include/cairn/migration.h and DESIGN.md sections 2 and 10.
 *
 * The question is the one `git log --diff-filter=A -- db/migrations`
 * answers, and the walk copies git's own history simplification, but it
 * is built to be several times faster on large histories:
 *
 *  - Commits are read raw and only their tree, parents and committer
 *    time are parsed.  The walk is a priority queue ordered by committer
 *    time (newest first; ties in discovery order), the order of `git
 *    log`.  Objects come through the git object layer (src/git/odb.h),
 *    whose raw pack reader builds each version of a delta-compressed
 *    tree once, from its neighbour.
 *
 *  - For each commit we need only the id of its migrations subtree.  It
 *    is found by descending from the root tree one path component at a
 *    time, with a cache per level (tree id -> child id), so the thousands
 *    of commits that share a `db` tree cost one root-tree read each.
 *
 *  - A commit whose migrations subtree equals one of its parents' is
 *    TREESAME: it changed nothing we care about and the walk follows only
 *    that parent (for a merge, the branch that brought nothing is never
 *    walked at all).  Only the other commits are diffed.
 *
 *  - The diff is the one tree diff of the git object layer
 *    (src/git/diff.c): a comparison of raw tree objects that descends
 *    only into subtrees whose ids differ.  Within one tree the common
 *    head and tail of the two objects are skipped with memcmp and only
 *    the entries in between are compared; each tree keeps the offsets of
 *    its entries, carried over from the neighbour it was compared with,
 *    so a commit that adds one file to a directory of 10,000 compares a
 *    handful of entries.  Raw trees stay in a small LRU, so the tree
 *    read as a commit's "old" side is reused as its parent's "new" side.
 *
 * A commit introduces path f when f exists in it and in none of its
 * parents (a root commit introduces everything), and changes f when f's
 * blob differs from f's blob in every parent.  Walking newest first, the
 * first introducing commit is introduced_by and the first changing one
 * is `changed`.  A commit that adds up file P while removing an up file
 * of the same version is a rename: it counts as a change, and the walk
 * goes on following the old path, so introduced_by is the original
 * addition.  A migration deleted and added again was introduced by the
 * re-addition.  The walk stops as soon as every path it follows is
 * resolved.
 *
 * The cache (src/provenance_cache.c) stores the complete answer for a
 * commit: every up file under the directory.  A request for REV first
 * looks for REV's entry (the warm path: no history is read at all).
 * Failing that, when an entry exists for an ancestor B of REV, the walk
 * covers only the commits of REV that are not in B's history (computed
 * like `git rev-list B..REV`, with git's "everybody uninteresting" stop)
 * and every file not resolved there takes B's answer for the path it was
 * followed to.  Should the walk leave the range through some other
 * ancestor of B whose copy of the file differs from B's, the cache is not
 * trusted for that file and it is walked in full.  Entries are written
 * after every complete computation.  A partial request (some versions
 * only) with no usable entry walks just those files and writes nothing.
 * Which files are migrations and which changes are renames depend on how
 * files are named (layout, dialect, per-directory versions), so entries
 * are kept per directory and naming (cache_scope()).
 *
 * This file holds the entry point, which tries the cache entries and
 * runs the walk.  The rest is split by job (src/provenance_walk.h lists
 * the files): the commits and the walks over them, the tracked paths and
 * renames, and the answers; objects, trees, the diff and commit headers
 * are the git object layer's (src/git/).
 */
#include <stdlib.h>
#include <string.h>

#include "cairn/migration.h"
#include "util/buf.h"
#include "util/error.h"
#include "migration_internal.h"
#include "provenance_internal.h"
#include "provenance_walk.h"
#include "repo_internal.h"
#include "util/util.h"

#define MAX_CANDIDATES 4

/* ---- the entry point -------------------------------------------------- */

/*
 * What the cache entries of set are for: its directory and, when it is
 * not cairn's default, the naming of its files.  An answer computed
 * under one naming is never served under another (with per-directory
 * versions a/1_x.up.sql removed and b/1_y.up.sql added is no rename);
 * the default keeps the bare directory, the key entries always had.
 */
static int cache_scope(cairn_buf *out, const cairn_migration_set *set)
{
	if (set->layout == CAIRN_LAYOUT_CAIRN && !set->dialect)
		return cairn_buf_puts(out, set->dir);
	return cairn_buf_printf(
		out, "%s\tlayout=%s%s%s%s", set->dir,
		cairn_layout_name(CAIRN_LAYOUT_KIND(set->layout)),
		(set->layout & CAIRN_LAYOUT_PER_DIRECTORY)
			? "\tversions=per-directory" : "",
		set->dialect ? "\tdialect=" : "",
		set->dialect ? set->dialect : "");
}

/*
 * Finds a cache entry for an ancestor of start; *hidden is its node.
 * Returns 0 with out->data NULL when there is none.
 */
static int find_ancestor_entry(cairn_provcache *out, uint32_t *hidden,
			       struct walk *w, const char *cachedir,
			       const git_oid *start)
{
	cairn_strvec cands = CAIRN_STRVEC_INIT;
	size_t i;
	int rc;

	memset(out, 0, sizeof(*out));
	rc = cairn_provcache__candidates(&cands, cachedir, w->scope,
					 MAX_CANDIDATES);
	for (i = 0; rc == 0 && i < cands.count; i++) {
		uint32_t si, ai;
		git_oid id;
		bool yes;

		if (git_oid_fromstr(&id, cands.items[i]) < 0 ||
		    git_oid_equal(&id, start))
			continue;
		rc = cairn_git__graph_node(&si, &w->g, start);
		if (rc == 0)
			rc = cairn_git__graph_node(&ai, &w->g, &id);
		if (rc == 0)
			rc = cairn_git__graph_is_ancestor(&yes, &w->g, si, ai);
		if (rc == CAIRN_ENOTFOUND) {
			/* an entry for a commit we do not have */
			cairn_error_clear();
			rc = 0;
			continue;
		}
		if (rc < 0 || !yes)
			continue;
		if (cairn_provcache__load(out, cachedir, w->scope,
					  cands.items[i]) < 0)
			continue;
		*hidden = ai;
		break;
	}
	cairn_strvec_dispose(&cands);
	if (rc < 0)
		cairn_provcache__dispose(out);
	return rc;
}

int cairn_migration_set_provenance(cairn_migration_set *set, cairn_repo *repo,
				   const char *const *versions, size_t count)
{
	cairn_migration **want = NULL;
	size_t nwant = 0, i;
	cairn_provcache cache, anc;
	cairn_buf cachedir = CAIRN_BUF_INIT, scope = CAIRN_BUF_INIT;
	struct walk w;
	struct infos in;
	git_oid start;
	char sha[CAIRN_OID_HEXSZ];
	uint32_t sidx, hidden = 0;
	bool all = versions == NULL, complete, use_anc = false;
	int rc;

	memset(&cache, 0, sizeof(cache));
	memset(&anc, 0, sizeof(anc));
	memset(&in, 0, sizeof(in));
	memset(&w, 0, sizeof(w));

	/* which migrations */
	want = cairn__calloc(set->count ? set->count : 1, sizeof(*want));
	if (!want)
		return CAIRN_ERROR;
	if (all) {
		for (i = 0; i < set->count; i++)
			want[nwant++] = &set->items[i];
	} else {
		for (i = 0; i < count; i++) {
			cairn_migration *m =
				cairn_migration_set_find(set, versions[i]);
			size_t j;

			for (j = 0; m && j < nwant; j++)
				if (want[j] == m)
					m = NULL;
			if (m)
				want[nwant++] = m;
		}
		all = nwant == set->count;
	}
	rc = 0;
	if (!nwant)
		goto out;

	/* from which commit */
	if (set->worktree) {
		git_oid root;

		rc = cairn_repo__resolve_commit(&start, &root, repo, "HEAD");
		if (rc < 0) {
			/* no commits yet: nothing has provenance */
			cairn_error_clear();
			for (i = 0; i < nwant; i++)
				cairn_prov__clear_provenance(want[i]);
			rc = 0;
			goto out;
		}
	} else if (git_oid_fromstr(&start, set->commit) < 0) {
		rc = cairn_error__set(CAIRN_ERRCLASS_USAGE,
				      "cannot find the commit of the set");
		goto out;
	}
	git_oid_tostr(sha, sizeof(sha), &start);
	rc = cairn_buf_printf(&cachedir, "%scairn",
			      cairn_repo_commondir(repo));
	if (rc == 0)
		rc = cache_scope(&scope, set);
	if (rc < 0)
		goto out;

	rc = cairn_prov__walk_init(&w, repo, set->dir);
	w.layout = set->layout;
	w.dialect = set->dialect;
	w.scope = scope.ptr;
	if (rc < 0)
		goto out;

	/* the warm path: this commit's own entry, its claims checked */
	if (cairn_provcache__load(&cache, cachedir.ptr, w.scope, sha) == 0) {
		rc = cairn_prov__use_cache(set, want, nwant, &cache, &w, &in,
					   &complete);
		if (rc < 0 || complete)
			goto out;
	}
	rc = cairn_git__graph_node(&sidx, &w.g, &start);
	if (rc == 0)
		rc = cairn_prov__ensure_sub(&w, sidx);
	if (rc < 0)
		goto out;
	rc = find_ancestor_entry(&anc, &hidden, &w, cachedir.ptr, &start);
	if (rc < 0)
		goto out;
	use_anc = anc.data != NULL;

	/* what to follow: every up file, or only those asked for */
	if (all || use_anc || set->worktree) {
		cairn_buf_clear(&w.path);
		rc = cairn_prov__enumerate(&w, &w.g.nodes[sidx].tree);
	} else {
		for (i = 0; i < nwant && rc == 0; i++) {
			git_oid blob;

			if (git_oid_fromstr(&blob, want[i]->up_blob) < 0)
				memset(&blob, 0, sizeof(blob));
			rc = cairn_prov__add_track(
				&w, cairn_migration__rel_up(set, want[i]),
				&blob);
		}
	}
	if (rc < 0)
		goto out;
	rc = cairn_prov__index_tracks(&w);
	if (rc < 0)
		goto out;

	if (use_anc) {
		bool refill;

		rc = cairn_git__graph_range(&w.g, sidx, &hidden, 1, NULL,
					    NULL);
		if (rc == 0)
			rc = cairn_prov__walk_history(&w, sidx, true);
		if (rc == 0)
			rc = cairn_prov__fill_from_ancestor(&w, &anc,
							    hidden, &refill);
		if (rc == 0 && refill) {
			rc = cairn_prov__index_tracks(&w);
			if (rc == 0)
				rc = cairn_prov__walk_history(&w, sidx, false);
		}
	} else {
		rc = cairn_prov__walk_history(&w, sidx, false);
	}
	if (rc < 0)
		goto out;

	if (all || use_anc || set->worktree) {
		/* a complete answer: keep it (a failure only costs speed) */
		if (cairn_prov__write_cache(&w, &in, cachedir.ptr, sha) < 0)
			cairn_error_clear();
	}
	qsort(w.tracks, w.ntracks, sizeof(*w.tracks), cairn_prov__track_cmp);
	for (i = 0; i < nwant && rc == 0; i++)
		rc = cairn_prov__fill_from_track(
			want[i], &in, &w,
			cairn_prov__find_track(
				&w, cairn_migration__rel_up(set, want[i])));
out:
	cairn_provcache__dispose(&cache);
	cairn_provcache__dispose(&anc);
	cairn_prov__walk_dispose(&w);
	cairn_prov__infos_dispose(&in);
	cairn_buf_dispose(&cachedir);
	cairn_buf_dispose(&scope);
	free(want);
	return rc;
}
