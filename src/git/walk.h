/*
 * git/walk.h (internal) - the commit graph and the history walks over it
 * (git/walk.c), for every reader of history (see git/git.h): provenance
 * (src/provenance_walk.c builds its simplified walk on the queue below),
 * range (src/range.c) and finding a pushed branch's base
 * (src/prepush_base.c).
 *
 * Commits are read raw (git/commit.h) and only their tree, parents and
 * committer time are kept, in nodes indexed by id; so a commit whose
 * author line libgit2 cannot parse is walked as git walks it.  The queue
 * orders commits by committer time, newest first, ties in the order they
 * were queued (the order of `git log`).  In a shallow clone a commit
 * whose object is absent is a node flagged CAIRN_GIT_MISSING.
 */
#ifndef CAIRN_SRC_GIT_WALK_H
#define CAIRN_SRC_GIT_WALK_H

#include "util/attrs.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <git2.h>

#include "git/odb.h"
#include "util/oidmap.h"

/* Node flags the graph's own walks use. */
#define CAIRN_GIT_PARSED 0x01
#define CAIRN_GIT_MISSING 0x02   /* absent from a shallow clone */
#define CAIRN_GIT_SEEN 0x04      /* pushed by the range walk */
#define CAIRN_GIT_UNINT 0x08     /* reachable from a hidden commit */
#define CAIRN_GIT_COUNTED 0x10   /* queued and counted as interesting */
#define CAIRN_GIT_RANGE 0x20     /* in the range: not in hidden history */
#define CAIRN_GIT_ANC 0x40       /* seen by cairn_git__graph_is_ancestor */
/* Bits from here up are free for the caller's own walks. */
#define CAIRN_GIT_USER 0x100

typedef struct cairn_git_node {
	git_oid oid;
	/*
	 * The commit's root tree once parsed.  A walk that follows one
	 * directory may replace it with that directory's tree (provenance
	 * does, and says so with a flag of its own).
	 */
	git_oid tree;
	int64_t time;        /* committer time */
	uint32_t parents;    /* index into pool */
	uint32_t nparents;
	uint32_t seq;        /* when it was last queued */
	uint32_t flags;
} cairn_git_node;

typedef struct cairn_git_graph {
	cairn_git_odb *odb;  /* borrowed */
	bool shallow;
	cairn_git_node *nodes;
	size_t nnodes, anodes;
	struct cairn_oidmap index;
	uint32_t *pool;      /* parents, nparents per node */
	size_t npool, apool;
	uint32_t seq;
	uint32_t *heap;      /* the queue */
	size_t nheap, aheap;
	size_t interesting;  /* CAIRN_GIT_COUNTED nodes in the queue */
} cairn_git_graph;

/* shallow: whether the repository is a shallow clone. */
void cairn_git__graph_init(cairn_git_graph *g, cairn_git_odb *odb,
			   bool shallow);
void cairn_git__graph_dispose(cairn_git_graph *g);

/* The node of commit id, added (unparsed) when new. */
CAIRN_WARN_UNUSED int cairn_git__graph_node(uint32_t *out, cairn_git_graph *g,
					    const git_oid *id);
/*
 * Reads a node's commit: tree, parents, time.  CAIRN_ENOTFOUND when the
 * commit is absent (in a shallow clone it is flagged CAIRN_GIT_MISSING
 * and 0 is returned).
 */
CAIRN_WARN_UNUSED int cairn_git__graph_parse(cairn_git_graph *g,
					     uint32_t idx);

/* The i-th parent of a parsed node. */
static inline uint32_t cairn_git__graph_parent(const cairn_git_graph *g,
					       uint32_t idx, uint32_t i)
{
	return g->pool[g->nodes[idx].parents + i];
}

/* The queue: newest committer time first, ties in queueing order. */
CAIRN_WARN_UNUSED int cairn_git__graph_push(cairn_git_graph *g,
					    uint32_t idx);
uint32_t cairn_git__graph_pop(cairn_git_graph *g);

/*
 * `git rev-list START ^HIDDEN...`: flags CAIRN_GIT_RANGE on the commits
 * of start that are not in any hidden commit's history, walking both in
 * time order and stopping, as git does, when only uninteresting commits
 * have been left for a few rounds.  When out is not NULL, *out gets the
 * range's commits in topological order, newest first (a commit before
 * its parents; of the commits that may come next, the newest), *n how
 * many; the caller frees *out.  Commits absent from a shallow clone
 * are in the range, flagged CAIRN_GIT_MISSING.  Once per graph: the
 * walk leaves its flags on the nodes.
 */
CAIRN_WARN_UNUSED int cairn_git__graph_range(cairn_git_graph *g,
					     uint32_t start,
					     const uint32_t *hidden,
					     size_t nhidden, uint32_t **out,
					     size_t *n);

/*
 * Whether commit anc is start or one of its ancestors, by a walk over
 * parents read raw.  Commits older than anc by more than a day of clock
 * skew are not followed, as git's own walks stop on dates.
 */
CAIRN_WARN_UNUSED int cairn_git__graph_is_ancestor(bool *out,
						   cairn_git_graph *g,
						   uint32_t start,
						   uint32_t anc);

#endif
