/*
 * provenance_walk.c - the provenance walk over the commit graph; see
 * src/provenance_walk.h and, for the design, the comment in
 * src/provenance.c.
 *
 * Commits are nodes of the git object layer's commit graph
 * (src/git/walk.c: read raw, tree, parents and committer time).  A
 * node's migrations subtree is found by descending from the root tree
 * one path component at a time, with a cache per level (tree id -> child
 * id).  The simplified walk runs on the graph's queue (committer time,
 * newest first, ties in discovery order: the order of `git log`): it
 * follows only a TREESAME parent when a commit has one, and otherwise
 * hands the commit to cairn_prov__process() (src/provenance_track.c)
 * and follows every parent, until every followed path is resolved.  A
 * limited walk stays inside the commits the graph's range computation
 * flagged (`git rev-list B..REV`).
 *
 * The file also sets up and frees the walk context, and looks a path up
 * at a commit for the cache checks (cairn_prov__blob_at).
 */
#include <stdlib.h>
#include <string.h>

#include "util/error.h"
#include "provenance_walk.h"
#include "repo_internal.h"
#include "util/util.h"

#define RAW_CACHE ((size_t)64 * 1024 * 1024)

/* Resolves a node's migrations subtree id (parsing it first). */
int cairn_prov__ensure_sub(struct walk *w, uint32_t idx)
{
	git_oid cur;
	size_t i;
	int rc;

	rc = cairn_git__graph_parse(&w->g, idx);
	if (rc < 0 || (w->g.nodes[idx].flags & F_SUB))
		return rc;
	cur = w->g.nodes[idx].tree; /* the root tree */
	for (i = 0; i < w->comps.count && !git_oid_is_zero(&cur); i++) {
		uint32_t slot;
		git_oid next;

		if (cairn_oidmap__get(&w->level[i], &cur, &slot)) {
			next = w->subs[slot];
		} else {
			unsigned mode;

			rc = cairn_git__tree_child(&next, &mode, &w->trees,
						   &cur, w->comps.items[i],
						   strlen(w->comps.items[i]));
			if (rc == 0 && !cairn_git__mode_is_tree(mode))
				memset(&next, 0, sizeof(next));
			if (rc == 0)
				rc = cairn__grow_array((void **)&w->subs,
						       &w->asubs, w->nsubs + 1,
						       sizeof(*w->subs));
			if (rc == 0)
				rc = cairn_oidmap__put(&w->level[i], &cur,
						       (uint32_t)w->nsubs);
			if (rc < 0)
				return rc;
			w->subs[w->nsubs++] = next;
		}
		cur = next;
	}
	w->g.nodes[idx].tree = cur;
	w->g.nodes[idx].flags |= F_SUB;
	return 0;
}

/* ---- walking ---------------------------------------------------------- */

static int add_boundary(struct walk *w, uint32_t idx)
{
	size_t i;

	for (i = 0; i < w->nboundary; i++)
		if (w->boundary[i] == idx)
			return 0;
	if (cairn__grow_array((void **)&w->boundary, &w->aboundary,
			      w->nboundary + 1, sizeof(*w->boundary)) < 0)
		return CAIRN_ERROR;
	w->boundary[w->nboundary++] = idx;
	return 0;
}

static int follow(struct walk *w, uint32_t p, bool limited)
{
	if (limited && !(w->g.nodes[p].flags & CAIRN_GIT_RANGE))
		return add_boundary(w, p);
	if (w->g.nodes[p].flags & (F_QUEUED | CAIRN_GIT_MISSING))
		return 0;
	w->g.nodes[p].flags |= F_QUEUED;
	return cairn_git__graph_push(&w->g, p);
}

/*
 * The simplified walk from start, newest first, until every active track
 * is resolved.  limited: stay inside the CAIRN_GIT_RANGE commits.
 */
int cairn_prov__walk_history(struct walk *w, uint32_t start, bool limited)
{
	size_t i;
	int rc;

	for (i = 0; i < w->g.nnodes; i++)
		w->g.nodes[i].flags &= ~(uint32_t)F_QUEUED;
	w->g.nheap = 0;
	w->nboundary = 0;
	rc = cairn_prov__ensure_sub(w, start);
	if (rc < 0)
		return rc;
	if (limited && !(w->g.nodes[start].flags & CAIRN_GIT_RANGE))
		return add_boundary(w, start);
	w->g.nodes[start].flags |= F_QUEUED;
	rc = cairn_git__graph_push(&w->g, start);
	while (rc == 0 && w->g.nheap && w->unresolved) {
		uint32_t x = cairn_git__graph_pop(&w->g), np, same = UINT32_MAX;

		np = w->g.nodes[x].nparents;
		for (i = 0; i < np && rc == 0; i++)
			rc = cairn_prov__ensure_sub(
				w, w->g.pool[w->g.nodes[x].parents + i]);
		if (rc < 0)
			break;
		for (i = 0; i < np; i++) {
			const cairn_git_node *p = &w->g.nodes[
				cairn_git__graph_parent(&w->g, x, i)];

			if (!(p->flags & CAIRN_GIT_MISSING) &&
			    git_oid_equal(&p->tree, &w->g.nodes[x].tree)) {
				same = w->g.pool[w->g.nodes[x].parents + i];
				break;
			}
		}
		if (same != UINT32_MAX) {
			rc = follow(w, same, limited);
			continue;
		}
		rc = cairn_prov__process(w, x);
		for (i = 0; i < np && rc == 0; i++)
			rc = follow(w, w->g.pool[w->g.nodes[x].parents + i],
				    limited);
	}
	return rc;
}

/* ---- the walk context ------------------------------------------------- */

int cairn_prov__walk_init(struct walk *w, cairn_repo *repo, const char *dir)
{
	const char *p = dir;

	memset(w, 0, sizeof(*w));
	cairn_buf_init(&w->path, 0);
	w->git = cairn_repo__git(repo);
	w->dir = dir;
	if (cairn_git__odb_new(&w->odb, repo->git, repo->path, RAW_CACHE,
			       CAIRN_GIT_ODB_FAST) < 0)
		return CAIRN_ERROR;
	cairn_git__trees_init(&w->trees, w->odb);
	cairn_git__graph_init(&w->g, w->odb,
			      git_repository_is_shallow(w->git) == 1);
	while (*p) {
		const char *s = p;

		while (*p && *p != '/')
			p++;
		if (cairn_strvec_push_owned(&w->comps,
					    cairn__strndup(s,
							   (size_t)(p - s))) <
		    0)
			return CAIRN_ERROR;
		if (*p)
			p++;
	}
	w->level = cairn__calloc(w->comps.count + 1, sizeof(*w->level));
	if (!w->level)
		return CAIRN_ERROR;
	return 0;
}

void cairn_prov__walk_dispose(struct walk *w)
{
	size_t i;

	cairn_git__trees_dispose(&w->trees);
	for (i = 0; i < w->ntracks; i++) {
		free(w->tracks[i].path);
		free(w->tracks[i].orig);
		free(w->tracks[i].version);
	}
	free(w->tracks);
	free(w->buckets);
	cairn_prov__clear_removed(w);
	free(w->removed);
	free(w->touched);
	cairn_git__graph_dispose(&w->g);
	free(w->subs);
	free(w->boundary);
	if (w->level) {
		for (i = 0; i < w->comps.count; i++)
			cairn_oidmap__dispose(&w->level[i]);
		free(w->level);
	}
	cairn_strvec_dispose(&w->comps);
	cairn_buf_dispose(&w->path);
	cairn_git__odb_free(w->odb);
	memset(w, 0, sizeof(*w));
}

/* Looks up path below a commit's migrations tree: its blob, or zero. */
int cairn_prov__blob_at(git_oid *out, struct walk *w, uint32_t commit,
			const char *path)
{
	unsigned mode;
	int rc;

	memset(out, 0, sizeof(*out));
	rc = cairn_prov__ensure_sub(w, commit);
	if (rc < 0 || (w->g.nodes[commit].flags & CAIRN_GIT_MISSING))
		return rc;
	rc = cairn_git__tree_bypath(out, &mode, &w->trees,
				    &w->g.nodes[commit].tree, path);
	if (rc == 0 && (!mode || cairn_git__mode_is_tree(mode)))
		memset(out, 0, sizeof(*out));
	return rc;
}
