/*
 * provenance_walk.c - the commits of the provenance walk and the walks
 * over them; see src/provenance_walk.h and, for the design, the comment
 * in src/provenance.c.
 *
 * Commits are read raw and only their tree, parents and committer time
 * are parsed, into nodes indexed by id.  A node's migrations subtree is
 * found by descending from the root tree one path component at a time,
 * with a cache per level (tree id -> child id).  Both walks are priority
 * queues ordered by committer time, newest first, ties in discovery
 * order (the order of `git log`):
 *
 *  - the simplified walk follows only a TREESAME parent when a commit
 *    has one, and otherwise hands the commit to cairn_prov__process()
 *    (src/provenance_track.c) and follows every parent, until every
 *    followed path is resolved;
 *  - the range computation marks the commits of REV that are not in an
 *    ancestor B's history, like `git rev-list B..REV` with git's
 *    "everybody uninteresting" stop after SLOP rounds.
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
#define SLOP 5

/* ---- commits ---------------------------------------------------------- */

int cairn_prov__node_get(uint32_t *out, struct walk *w, const git_oid *id)
{
	struct node *n;

	if (cairn_oidmap__get(&w->node_index, id, out))
		return 0;
	if (cairn__grow_array((void **)&w->nodes, &w->anodes, w->nnodes + 1,
			      sizeof(*w->nodes)) < 0)
		return CAIRN_ERROR;
	n = &w->nodes[w->nnodes];
	memset(n, 0, sizeof(*n));
	n->oid = *id;
	*out = (uint32_t)w->nnodes;
	if (cairn_oidmap__put(&w->node_index, id, *out) < 0)
		return CAIRN_ERROR;
	w->nnodes++;
	return 0;
}

/* Reads a commit's tree, parents and committer time. */
static int parse_commit(struct walk *w, uint32_t idx)
{
	cairn_git_obj *obj = NULL;
	cairn_git_commit c;
	uint32_t first = (uint32_t)w->npool;
	size_t i;
	int rc;

	if (w->nodes[idx].flags & (F_PARSED | F_MISSING))
		return 0;
	rc = cairn_git__commit_read(&obj, &c, w->odb, &w->nodes[idx].oid);
	if (rc == CAIRN_ENOTFOUND && w->shallow) {
		/* the edge of a shallow clone: behaves as absent */
		cairn_error_clear();
		w->nodes[idx].flags |= F_MISSING | F_PARSED | F_SUB;
		return 0;
	}
	if (rc < 0)
		return rc;
	for (i = 0; i < c.nparents; i++) {
		git_oid parent;
		uint32_t pi;

		cairn_git__commit_parent(&parent, &c, i);
		rc = cairn_prov__node_get(&pi, w, &parent);
		if (rc == 0)
			rc = cairn__grow_array((void **)&w->pool, &w->apool,
					       w->npool + 1, sizeof(*w->pool));
		if (rc < 0)
			goto out;
		w->pool[w->npool++] = pi;
	}
	/* cairn_prov__node_get may have moved the array: index again */
	w->nodes[idx].parents = first;
	w->nodes[idx].nparents = (uint32_t)c.nparents;
	w->nodes[idx].time = cairn_git__commit_time(&c);
	w->nodes[idx].flags |= F_PARSED;
	/* keep the root tree in sub until cairn_prov__ensure_sub resolves it */
	w->nodes[idx].sub = c.tree;
	rc = 0;
out:
	cairn_git__obj_free(obj);
	return rc;
}

#define SKEW ((int64_t)24 * 3600)

int cairn_prov__is_ancestor(bool *out, struct walk *w, uint32_t start,
			    uint32_t anc)
{
	uint32_t *stack = NULL, *seen = NULL;
	size_t n = 0, astack = 0, nseen = 0, aseen = 0, i;
	int64_t floor;
	int rc;

	*out = false;
	rc = parse_commit(w, anc);
	if (rc < 0 || (w->nodes[anc].flags & F_MISSING))
		return rc;
	floor = w->nodes[anc].time - SKEW;
	rc = cairn__grow_array((void **)&stack, &astack, 1, sizeof(*stack));
	if (rc == 0)
		stack[n++] = start;
	while (rc == 0 && n && !*out) {
		uint32_t x = stack[--n], k;

		if (w->nodes[x].flags & F_ANC)
			continue;
		rc = cairn__grow_array((void **)&seen, &aseen, nseen + 1,
				       sizeof(*seen));
		if (rc < 0)
			break;
		seen[nseen++] = x;
		w->nodes[x].flags |= F_ANC;
		if (x == anc) {
			*out = true;
			break;
		}
		rc = parse_commit(w, x);
		if (rc < 0 || (w->nodes[x].flags & F_MISSING) ||
		    w->nodes[x].time < floor)
			continue;
		for (k = 0; k < w->nodes[x].nparents && rc == 0; k++) {
			rc = cairn__grow_array((void **)&stack, &astack, n + 1,
					       sizeof(*stack));
			if (rc == 0)
				stack[n++] =
					w->pool[w->nodes[x].parents + k];
		}
	}
	for (i = 0; i < nseen; i++)
		w->nodes[seen[i]].flags &= ~(uint32_t)F_ANC;
	free(stack);
	free(seen);
	return rc;
}

/* Resolves a node's migrations subtree id (parsing it first). */
int cairn_prov__ensure_sub(struct walk *w, uint32_t idx)
{
	git_oid cur;
	size_t i;
	int rc;

	rc = parse_commit(w, idx);
	if (rc < 0 || (w->nodes[idx].flags & F_SUB))
		return rc;
	cur = w->nodes[idx].sub; /* the root tree */
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
	w->nodes[idx].sub = cur;
	w->nodes[idx].flags |= F_SUB;
	return 0;
}

/* ---- the priority queue ----------------------------------------------- */

static bool newer(const struct walk *w, uint32_t a, uint32_t b)
{
	const struct node *x = &w->nodes[a], *y = &w->nodes[b];

	if (x->time != y->time)
		return x->time > y->time;
	return x->seq < y->seq;
}

static int heap_push(struct walk *w, uint32_t idx)
{
	size_t i;

	if (cairn__grow_array((void **)&w->heap, &w->aheap, w->nheap + 1,
			      sizeof(*w->heap)) < 0)
		return CAIRN_ERROR;
	w->nodes[idx].seq = w->seq++;
	i = w->nheap++;
	while (i > 0) {
		size_t parent = (i - 1) / 2;

		if (!newer(w, idx, w->heap[parent]))
			break;
		w->heap[i] = w->heap[parent];
		i = parent;
	}
	w->heap[i] = idx;
	return 0;
}

static uint32_t heap_pop(struct walk *w)
{
	uint32_t top = w->heap[0], last = w->heap[--w->nheap];
	size_t i = 0;

	for (;;) {
		size_t l = 2 * i + 1, r = l + 1, best;

		if (l >= w->nheap)
			break;
		best = r < w->nheap && newer(w, w->heap[r], w->heap[l]) ? r
									  : l;
		if (!newer(w, w->heap[best], last))
			break;
		w->heap[i] = w->heap[best];
		i = best;
	}
	if (w->nheap)
		w->heap[i] = last;
	return top;
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
	if (limited && !(w->nodes[p].flags & F_RANGE))
		return add_boundary(w, p);
	if (w->nodes[p].flags & (F_QUEUED | F_MISSING))
		return 0;
	w->nodes[p].flags |= F_QUEUED;
	return heap_push(w, p);
}

/*
 * The simplified walk from start, newest first, until every active track
 * is resolved.  limited: stay inside the F_RANGE commits.
 */
int cairn_prov__walk_history(struct walk *w, uint32_t start, bool limited)
{
	size_t i;
	int rc;

	for (i = 0; i < w->nnodes; i++)
		w->nodes[i].flags &= ~(uint32_t)F_QUEUED;
	w->nheap = 0;
	w->nboundary = 0;
	rc = cairn_prov__ensure_sub(w, start);
	if (rc < 0)
		return rc;
	if (limited && !(w->nodes[start].flags & F_RANGE))
		return add_boundary(w, start);
	w->nodes[start].flags |= F_QUEUED;
	rc = heap_push(w, start);
	while (rc == 0 && w->nheap && w->unresolved) {
		uint32_t x = heap_pop(w), np, same = UINT32_MAX;

		np = w->nodes[x].nparents;
		for (i = 0; i < np && rc == 0; i++)
			rc = cairn_prov__ensure_sub(
				w, w->pool[w->nodes[x].parents + i]);
		if (rc < 0)
			break;
		for (i = 0; i < np; i++) {
			const struct node *p =
				&w->nodes[w->pool[w->nodes[x].parents + i]];

			if (!(p->flags & F_MISSING) &&
			    git_oid_equal(&p->sub, &w->nodes[x].sub)) {
				same = w->pool[w->nodes[x].parents + i];
				break;
			}
		}
		if (same != UINT32_MAX) {
			rc = follow(w, same, limited);
			continue;
		}
		rc = cairn_prov__process(w, x);
		for (i = 0; i < np && rc == 0; i++)
			rc = follow(w, w->pool[w->nodes[x].parents + i],
				    limited);
	}
	return rc;
}

/* Marks idx and its known ancestors as reachable from the hidden commit. */
static int mark_unint(struct walk *w, uint32_t idx)
{
	uint32_t *stack = NULL;
	size_t n = 0, alloc = 0;

	if (w->nodes[idx].flags & F_UNINT)
		return 0;
	if (cairn__grow_array((void **)&stack, &alloc, 1, sizeof(*stack)) < 0)
		return CAIRN_ERROR;
	w->nodes[idx].flags |= F_UNINT;
	stack[n++] = idx;
	while (n) {
		struct node *c = &w->nodes[stack[--n]];
		uint32_t i;

		if (c->flags & F_COUNTED) {
			c->flags &= ~(uint32_t)F_COUNTED;
			w->interesting--;
		}
		if (!(c->flags & F_PARSED))
			continue;
		for (i = 0; i < c->nparents; i++) {
			uint32_t p = w->pool[c->parents + i];

			if (w->nodes[p].flags & F_UNINT)
				continue;
			if (cairn__grow_array((void **)&stack, &alloc, n + 1,
					      sizeof(*stack)) < 0) {
				free(stack);
				return CAIRN_ERROR;
			}
			w->nodes[p].flags |= F_UNINT;
			stack[n++] = p;
		}
	}
	free(stack);
	return 0;
}

/*
 * Marks the commits of start that are not in hidden's history with
 * F_RANGE (git rev-list hidden..start): a time-ordered walk of both,
 * stopped when only uninteresting commits are left for SLOP rounds.
 */
int cairn_prov__compute_range(struct walk *w, uint32_t start,
			      uint32_t hidden)
{
	uint32_t *out = NULL;
	size_t nout = 0, aout = 0, i;
	int slop = SLOP, rc;

	w->nheap = 0;
	w->interesting = 0;
	rc = mark_unint(w, hidden);
	w->nodes[hidden].flags |= F_SEEN;
	if (rc == 0)
		rc = heap_push(w, hidden);
	if (rc == 0 && !(w->nodes[start].flags & F_SEEN)) {
		w->nodes[start].flags |= F_SEEN | F_COUNTED;
		w->interesting++;
		rc = heap_push(w, start);
	}
	while (rc == 0 && w->nheap) {
		uint32_t c = heap_pop(w);
		bool unint;

		if (w->nodes[c].flags & F_COUNTED) {
			w->nodes[c].flags &= ~(uint32_t)F_COUNTED;
			w->interesting--;
		}
		rc = parse_commit(w, c);
		if (rc < 0)
			break;
		unint = w->nodes[c].flags & F_UNINT;
		for (i = 0; i < w->nodes[c].nparents && rc == 0; i++) {
			uint32_t p = w->pool[w->nodes[c].parents + i];

			if (unint && mark_unint(w, p) < 0) {
				rc = CAIRN_ERROR;
				break;
			}
			if (w->nodes[p].flags & F_SEEN)
				continue;
			w->nodes[p].flags |= F_SEEN;
			if (!(w->nodes[p].flags & F_UNINT)) {
				w->nodes[p].flags |= F_COUNTED;
				w->interesting++;
			}
			rc = heap_push(w, p);
		}
		if (rc < 0)
			break;
		if (!unint) {
			rc = cairn__grow_array((void **)&out, &aout, nout + 1,
					       sizeof(*out));
			if (rc < 0)
				break;
			out[nout++] = c;
		}
		if (w->interesting == 0) {
			if (--slop <= 0)
				break;
		} else {
			slop = SLOP;
		}
	}
	for (i = 0; i < nout && rc == 0; i++)
		if (!(w->nodes[out[i]].flags & F_UNINT))
			w->nodes[out[i]].flags |= F_RANGE;
	free(out);
	w->nheap = 0;
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
	w->shallow = git_repository_is_shallow(w->git) == 1;
	if (cairn_git__odb_new(&w->odb, repo, RAW_CACHE,
			       CAIRN_GIT_ODB_FAST) < 0)
		return CAIRN_ERROR;
	cairn_git__trees_init(&w->trees, w->odb);
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
	free(w->heap);
	free(w->pool);
	free(w->nodes);
	free(w->subs);
	free(w->boundary);
	cairn_oidmap__dispose(&w->node_index);
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
	if (rc < 0 || (w->nodes[commit].flags & F_MISSING))
		return rc;
	rc = cairn_git__tree_bypath(out, &mode, &w->trees,
				    &w->nodes[commit].sub, path);
	if (rc == 0 && (!mode || cairn_git__mode_is_tree(mode)))
		memset(out, 0, sizeof(*out));
	return rc;
}
