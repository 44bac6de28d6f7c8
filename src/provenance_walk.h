/*
 * provenance_walk.h (internal) - the state of one provenance computation
 * (struct walk) and what the provenance files share; the design is in
 * the comment at the top of src/provenance.c.
 *
 *   provenance.c         the entry point: cache entries, then the walk
 *   provenance_walk.c    the simplified history walk over the commit graph
 *                        (src/git/walk.c), migrations subtrees
 *   provenance_track.c   the paths followed, what a commit did to them
 *                        (from the one tree diff, src/git/diff.c),
 *                        renames
 *   provenance_result.c  commit records and the answers: from the walk or
 *                        a cache entry, to the migrations and the cache
 *
 * Functions return 0 or a negative cairn error code with the error set,
 * unless they say otherwise.
 */
#ifndef CAIRN_SRC_PROVENANCE_WALK_H
#define CAIRN_SRC_PROVENANCE_WALK_H

#include "util/attrs.h"

#include <stdbool.h>
#include <stdint.h>

#include <git2.h>

#include "cairn/migration.h"
#include "util/buf.h"
#include "util/oidmap.h"
#include "git/git.h"
#include "provenance_internal.h"
#include "util/util.h"

/*
 * Node flags of the provenance walk's own, beside the commit graph's
 * (src/git/walk.h).  Once F_SUB is set, a node's `tree` holds its
 * migrations subtree (zero when absent) instead of its root tree.
 */
#define F_SUB CAIRN_GIT_USER             /* the subtree is known */
#define F_QUEUED (CAIRN_GIT_USER << 1)   /* pushed by the simplified walk */

struct track {
	char *path;       /* current path below the directory */
	char *orig;       /* path at the start commit */
	char *version;    /* normalized version of path */
	git_oid blob;     /* at the start commit */
	git_oid intro;
	git_oid changed;
	bool has_intro;
	bool has_changed;
	bool active;      /* part of the current walk */
	uint32_t stamp;
	uint32_t hits;
	uint32_t adds;
	int32_t next;     /* path bucket chain */
};

struct removed {
	char *path;
	char *version;
};

struct walk {
	cairn_layout layout;   /* how the set's files are named */
	const char *dialect;
	git_repository *git;
	cairn_git_odb *odb;
	cairn_git_trees trees; /* the trees read, with their entry offsets */
	cairn_git_graph g;     /* the commits read */
	const char *dir;
	const char *scope;    /* what cache entries are for: the dir, and
			       * the naming when not the default (see
			       * cache_scope() in src/provenance.c) */
	cairn_strvec comps;   /* dir split at '/' */

	/* per dir component: tree -> index in subs */
	struct cairn_oidmap *level;
	git_oid *subs;
	size_t nsubs, asubs;

	struct track *tracks;
	size_t ntracks, atracks;
	int32_t *buckets;
	size_t nbuckets;
	size_t unresolved;

	uint32_t stamp;
	uint32_t cur_parent;
	uint32_t *touched;
	size_t ntouched, atouched;
	struct removed *removed;
	size_t nremoved, aremoved;
	cairn_buf path;

	uint32_t *boundary;   /* hidden commits the range walk reached */
	size_t nboundary, aboundary;
};

/* The commit records of one computation, each looked up once. */
struct infos {
	struct cairn_oidmap index;
	cairn_commit_info *items;
	size_t count, alloc;
};

/* ---- provenance_walk.c ---- */

CAIRN_WARN_UNUSED int cairn_prov__walk_init(struct walk *w, cairn_repo *repo, const char *dir);
void cairn_prov__walk_dispose(struct walk *w);
/* Resolves a node's migrations subtree id (parsing it first). */
CAIRN_WARN_UNUSED int cairn_prov__ensure_sub(struct walk *w, uint32_t idx);
/*
 * The simplified walk from start, newest first, until every active track
 * is resolved.  limited: stay inside the F_RANGE commits.
 */
CAIRN_WARN_UNUSED int cairn_prov__walk_history(struct walk *w, uint32_t start, bool limited);
/* Looks up path below a commit's migrations tree: its blob, or zero. */
CAIRN_WARN_UNUSED int cairn_prov__blob_at(git_oid *out, struct walk *w, uint32_t commit,
			const char *path);

/* ---- provenance_track.c ---- */

/* Starts following path (an up file) whose blob at the start is blob. */
CAIRN_WARN_UNUSED int cairn_prov__add_track(struct walk *w, const char *path,
			  const git_oid *blob);
/* Every up file below the start commit's migrations tree. */
CAIRN_WARN_UNUSED int cairn_prov__enumerate(struct walk *w, const git_oid *tree);
/* Puts the active, unresolved tracks into the path index. */
CAIRN_WARN_UNUSED int cairn_prov__index_tracks(struct walk *w);
/* Starts a track over from its original path (for a full re-walk). */
CAIRN_WARN_UNUSED int cairn_prov__reset_track(const struct walk *w,
						 struct track *t);
void cairn_prov__clear_removed(struct walk *w);
/*
 * Diffs commit x against each parent (a root commit against the empty
 * tree) and records what it introduced and changed.
 */
CAIRN_WARN_UNUSED int cairn_prov__process(struct walk *w, uint32_t x);

/* ---- provenance_result.c ---- */

void cairn_prov__infos_dispose(struct infos *in);
void cairn_prov__clear_provenance(cairn_migration *m);
/*
 * Fills the migrations from a cache entry, each claim checked against
 * the object database first; *complete is false when the entry cannot be
 * used.
 */
CAIRN_WARN_UNUSED int cairn_prov__use_cache(cairn_migration_set *set, cairn_migration **want,
			  size_t nwant, const cairn_provcache *c,
			  struct walk *w, struct infos *in, bool *complete);
/* Writes the complete result of the walk as the entry of commit. */
CAIRN_WARN_UNUSED int cairn_prov__write_cache(struct walk *w, struct infos *in,
			    const char *cachedir, const char *commit);
/* Fills m from its track (NULL or unresolved: no provenance). */
CAIRN_WARN_UNUSED int cairn_prov__fill_from_track(cairn_migration *m, struct infos *in,
				struct walk *w, const struct track *t);
/* qsort order of tracks by original path, for cairn_prov__find_track. */
CAIRN_WARN_UNUSED int cairn_prov__track_cmp(const void *pa, const void *pb);
const struct track *cairn_prov__find_track(const struct walk *w,
					   const char *orig);
/*
 * Gives the tracks a limited walk left unresolved the answer of the
 * ancestor's entry c where it can be trusted; *refill when some cannot.
 */
CAIRN_WARN_UNUSED int cairn_prov__fill_from_ancestor(struct walk *w,
				   const cairn_provcache *c, uint32_t hidden,
				   bool *refill);

#endif
