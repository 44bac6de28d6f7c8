/*
 * git/walk.c - the commit graph and its history walks (git/walk.h):
 * nodes read raw, the time-ordered queue, the range of a revision with
 * hidden ones (`git rev-list START ^HIDDEN...`) in topological order,
 * and ancestry.
 */
#include <stdlib.h>
#include <string.h>

#include "git/commit.h"
#include "git/walk.h"
#include "util/error.h"
#include "util/util.h"

/* Rounds with nothing interesting left before the range walk stops. */
#define SLOP 5
/* How far back in time an ancestry walk looks past the ancestor. */
#define SKEW ((int64_t)24 * 3600)

void cairn_git__graph_init(cairn_git_graph *g, cairn_git_odb *odb,
			   bool shallow)
{
	memset(g, 0, sizeof(*g));
	g->odb = odb;
	g->shallow = shallow;
}

void cairn_git__graph_dispose(cairn_git_graph *g)
{
	free(g->nodes);
	free(g->pool);
	free(g->heap);
	cairn_oidmap__dispose(&g->index);
	memset(g, 0, sizeof(*g));
}

int cairn_git__graph_node(uint32_t *out, cairn_git_graph *g, const git_oid *id)
{
	cairn_git_node *n;

	if (cairn_oidmap__get(&g->index, id, out))
		return 0;
	if (cairn__grow_array((void **)&g->nodes, &g->anodes, g->nnodes + 1,
			      sizeof(*g->nodes)) < 0)
		return CAIRN_ERROR;
	n = &g->nodes[g->nnodes];
	memset(n, 0, sizeof(*n));
	n->oid = *id;
	*out = (uint32_t)g->nnodes;
	if (cairn_oidmap__put(&g->index, id, *out) < 0)
		return CAIRN_ERROR;
	g->nnodes++;
	return 0;
}

int cairn_git__graph_parse(cairn_git_graph *g, uint32_t idx)
{
	cairn_git_obj *obj = NULL;
	cairn_git_commit c;
	uint32_t first = (uint32_t)g->npool;
	size_t i;
	int rc;

	if (g->nodes[idx].flags & (CAIRN_GIT_PARSED | CAIRN_GIT_MISSING))
		return 0;
	rc = cairn_git__commit_read(&obj, &c, g->odb, &g->nodes[idx].oid);
	if (rc == CAIRN_ENOTFOUND && g->shallow) {
		/* the edge of a shallow clone: behaves as absent */
		cairn_error_clear();
		g->nodes[idx].flags |= CAIRN_GIT_MISSING | CAIRN_GIT_PARSED;
		return 0;
	}
	if (rc < 0)
		return rc;
	for (i = 0; i < c.nparents; i++) {
		git_oid parent;
		uint32_t pi;

		cairn_git__commit_parent(&parent, &c, i);
		rc = cairn_git__graph_node(&pi, g, &parent);
		if (rc == 0)
			rc = cairn__grow_array((void **)&g->pool, &g->apool,
					       g->npool + 1, sizeof(*g->pool));
		if (rc < 0)
			goto out;
		g->pool[g->npool++] = pi;
	}
	/* cairn_git__graph_node may have moved the array: index again */
	g->nodes[idx].parents = first;
	g->nodes[idx].nparents = (uint32_t)c.nparents;
	g->nodes[idx].time = cairn_git__commit_time(&c);
	g->nodes[idx].tree = c.tree;
	g->nodes[idx].flags |= CAIRN_GIT_PARSED;
out:
	cairn_git__obj_free(obj);
	return rc;
}

/* ---- the queue ---- */

static bool newer(const cairn_git_graph *g, uint32_t a, uint32_t b)
{
	const cairn_git_node *x = &g->nodes[a], *y = &g->nodes[b];

	if (x->time != y->time)
		return x->time > y->time;
	return x->seq < y->seq;
}

int cairn_git__graph_push(cairn_git_graph *g, uint32_t idx)
{
	size_t i;

	if (cairn__grow_array((void **)&g->heap, &g->aheap, g->nheap + 1,
			      sizeof(*g->heap)) < 0)
		return CAIRN_ERROR;
	g->nodes[idx].seq = g->seq++;
	i = g->nheap++;
	while (i > 0) {
		size_t parent = (i - 1) / 2;

		if (!newer(g, idx, g->heap[parent]))
			break;
		g->heap[i] = g->heap[parent];
		i = parent;
	}
	g->heap[i] = idx;
	return 0;
}

uint32_t cairn_git__graph_pop(cairn_git_graph *g)
{
	uint32_t top = g->heap[0], last = g->heap[--g->nheap];
	size_t i = 0;

	for (;;) {
		size_t l = 2 * i + 1, r = l + 1, best;

		if (l >= g->nheap)
			break;
		best = r < g->nheap && newer(g, g->heap[r], g->heap[l]) ? r : l;
		if (!newer(g, g->heap[best], last))
			break;
		g->heap[i] = g->heap[best];
		i = best;
	}
	if (g->nheap)
		g->heap[i] = last;
	return top;
}

/* ---- the range ---- */

/* Marks idx and its known ancestors as reachable from a hidden commit. */
static int mark_unint(cairn_git_graph *g, uint32_t idx)
{
	uint32_t *stack = NULL;
	size_t n = 0, alloc = 0;

	if (g->nodes[idx].flags & CAIRN_GIT_UNINT)
		return 0;
	if (cairn__grow_array((void **)&stack, &alloc, 1, sizeof(*stack)) < 0)
		return CAIRN_ERROR;
	g->nodes[idx].flags |= CAIRN_GIT_UNINT;
	stack[n++] = idx;
	while (n) {
		cairn_git_node *c = &g->nodes[stack[--n]];
		uint32_t i;

		if (c->flags & CAIRN_GIT_COUNTED) {
			c->flags &= ~(uint32_t)CAIRN_GIT_COUNTED;
			g->interesting--;
		}
		if (!(c->flags & CAIRN_GIT_PARSED))
			continue;
		for (i = 0; i < c->nparents; i++) {
			uint32_t p = g->pool[c->parents + i];

			if (g->nodes[p].flags & CAIRN_GIT_UNINT)
				continue;
			if (cairn__grow_array((void **)&stack, &alloc, n + 1,
					      sizeof(*stack)) < 0) {
				free(stack);
				return CAIRN_ERROR;
			}
			g->nodes[p].flags |= CAIRN_GIT_UNINT;
			stack[n++] = p;
		}
	}
	free(stack);
	return 0;
}

/* Queues the starting points of a range walk. */
static int range_start(cairn_git_graph *g, uint32_t start,
		       const uint32_t *hidden, size_t nhidden)
{
	size_t i;
	int rc = 0;

	g->nheap = 0;
	g->interesting = 0;
	for (i = 0; i < nhidden && rc == 0; i++) {
		rc = mark_unint(g, hidden[i]);
		if (rc == 0 && !(g->nodes[hidden[i]].flags & CAIRN_GIT_SEEN)) {
			g->nodes[hidden[i]].flags |= CAIRN_GIT_SEEN;
			rc = cairn_git__graph_push(g, hidden[i]);
		}
	}
	if (rc == 0 && !(g->nodes[start].flags & CAIRN_GIT_SEEN)) {
		g->nodes[start].flags |= CAIRN_GIT_SEEN | CAIRN_GIT_COUNTED;
		g->interesting++;
		rc = cairn_git__graph_push(g, start);
	}
	return rc;
}

/* Queues the parents of c not seen yet (hidden ones when c is). */
static int range_parents(cairn_git_graph *g, uint32_t c, bool unint)
{
	uint32_t i;
	int rc = 0;

	for (i = 0; i < g->nodes[c].nparents && rc == 0; i++) {
		uint32_t p = cairn_git__graph_parent(g, c, i);

		if (unint && mark_unint(g, p) < 0)
			return CAIRN_ERROR;
		if (g->nodes[p].flags & CAIRN_GIT_SEEN)
			continue;
		g->nodes[p].flags |= CAIRN_GIT_SEEN;
		if (!(g->nodes[p].flags & CAIRN_GIT_UNINT)) {
			g->nodes[p].flags |= CAIRN_GIT_COUNTED;
			g->interesting++;
		}
		rc = cairn_git__graph_push(g, p);
	}
	return rc;
}

/* Orders the range's commits: Kahn's algorithm, newest first. */
static int topo_order(cairn_git_graph *g, uint32_t *list, size_t n)
{
	uint32_t *indeg = cairn__calloc(g->nnodes ? g->nnodes : 1,
					sizeof(*indeg));
	size_t i, k = 0;
	uint32_t j;
	int rc = 0;

	if (!indeg)
		return CAIRN_ERROR;
	for (i = 0; i < n; i++)
		for (j = 0; j < g->nodes[list[i]].nparents; j++)
			indeg[cairn_git__graph_parent(g, list[i], j)]++;
	g->nheap = 0;
	for (i = 0; i < n && rc == 0; i++)
		if (!indeg[list[i]])
			rc = cairn_git__graph_push(g, list[i]);
	while (rc == 0 && g->nheap) {
		uint32_t c = cairn_git__graph_pop(g);

		list[k++] = c;
		for (j = 0; j < g->nodes[c].nparents && rc == 0; j++) {
			uint32_t p = cairn_git__graph_parent(g, c, j);

			if ((g->nodes[p].flags & CAIRN_GIT_RANGE) &&
			    --indeg[p] == 0)
				rc = cairn_git__graph_push(g, p);
		}
	}
	free(indeg);
	return rc;
}

int cairn_git__graph_range(cairn_git_graph *g, uint32_t start,
			   const uint32_t *hidden, size_t nhidden,
			   uint32_t **out, size_t *n)
{
	uint32_t *list = NULL;
	size_t nlist = 0, alist = 0, i, k;
	int slop = SLOP, rc;

	rc = range_start(g, start, hidden, nhidden);
	while (rc == 0 && g->nheap) {
		uint32_t c = cairn_git__graph_pop(g);
		bool unint;

		if (g->nodes[c].flags & CAIRN_GIT_COUNTED) {
			g->nodes[c].flags &= ~(uint32_t)CAIRN_GIT_COUNTED;
			g->interesting--;
		}
		if ((rc = cairn_git__graph_parse(g, c)) < 0)
			break;
		unint = g->nodes[c].flags & CAIRN_GIT_UNINT;
		if ((rc = range_parents(g, c, unint)) < 0)
			break;
		if (!unint) {
			rc = cairn__grow_array((void **)&list, &alist,
					       nlist + 1, sizeof(*list));
			if (rc < 0)
				break;
			list[nlist++] = c;
		}
		if (g->interesting == 0) {
			if (--slop <= 0)
				break;
		} else {
			slop = SLOP;
		}
	}
	/* what a hidden commit reached after it was taken is not in it */
	for (i = k = 0; i < nlist && rc == 0; i++) {
		if (g->nodes[list[i]].flags & CAIRN_GIT_UNINT)
			continue;
		g->nodes[list[i]].flags |= CAIRN_GIT_RANGE;
		list[k++] = list[i];
	}
	nlist = k;
	if (rc == 0 && out)
		rc = topo_order(g, list, nlist);
	g->nheap = 0;
	if (rc < 0 || !out) {
		free(list);
		list = NULL;
		nlist = 0;
	}
	if (out) {
		*out = list;
		*n = nlist;
	}
	return rc;
}

/* ---- ancestry ---- */

int cairn_git__graph_is_ancestor(bool *out, cairn_git_graph *g, uint32_t start,
				 uint32_t anc)
{
	uint32_t *stack = NULL, *seen = NULL;
	size_t n = 0, astack = 0, nseen = 0, aseen = 0, i;
	int64_t floor;
	int rc;

	*out = false;
	rc = cairn_git__graph_parse(g, anc);
	if (rc < 0 || (g->nodes[anc].flags & CAIRN_GIT_MISSING))
		return rc;
	floor = g->nodes[anc].time - SKEW;
	rc = cairn__grow_array((void **)&stack, &astack, 1, sizeof(*stack));
	if (rc == 0)
		stack[n++] = start;
	while (rc == 0 && n && !*out) {
		uint32_t x = stack[--n], k;

		if (g->nodes[x].flags & CAIRN_GIT_ANC)
			continue;
		rc = cairn__grow_array((void **)&seen, &aseen, nseen + 1,
				       sizeof(*seen));
		if (rc < 0)
			break;
		seen[nseen++] = x;
		g->nodes[x].flags |= CAIRN_GIT_ANC;
		if (x == anc) {
			*out = true;
			break;
		}
		rc = cairn_git__graph_parse(g, x);
		if (rc < 0 || (g->nodes[x].flags & CAIRN_GIT_MISSING) ||
		    g->nodes[x].time < floor)
			continue;
		for (k = 0; k < g->nodes[x].nparents && rc == 0; k++) {
			rc = cairn__grow_array((void **)&stack, &astack, n + 1,
					       sizeof(*stack));
			if (rc == 0)
				stack[n++] = cairn_git__graph_parent(g, x, k);
		}
	}
	for (i = 0; i < nseen; i++)
		g->nodes[seen[i]].flags &= ~(uint32_t)CAIRN_GIT_ANC;
	free(stack);
	free(seen);
	return rc;
}
