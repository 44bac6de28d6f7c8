/*
 * range.c - which commits of a range changed which migration files; see
 * include/cairn/range.h.
 *
 * Everything goes through the git object layer (src/git/).  The walk is
 * its history walk (src/git/walk.c) over the commits of `git rev-list
 * TIP ^HIDE...`, in topological order, newest first; commits are read
 * raw (their tree and parents only), so a commit whose author line
 * libgit2 cannot parse is walked as git log walks it.  The migrations
 * subtree of each commit is looked up by path;
 * and when its id equals a parent's, the commit changed nothing below
 * the directory (TREESAME, as git log says) and is skipped; otherwise
 * the two subtrees are compared by the one tree diff (src/git/diff.c).
 * No blob is ever read.  When reading trips on anything, the whole
 * answer is computed again with libgit2 alone reading the objects.
 *
 * For a merge the comparison is made against the first parent, and a
 * path is kept only when its entry differs from the merge's in every
 * other parent too; so a file that came in from the merged branch is
 * attributed to that branch's commits, which the walk also visits when
 * they belong to the range.
 *
 * Files are kept in an array with a string hash index while walking (an
 * initial push can touch every one of 10,000 migrations) and sorted by
 * path at the end, for cairn_range_find().  Newest first means the first
 * commit seen for a path is its `last`, and each later one overwrites
 * `first`.
 */
#include <stdlib.h>
#include <string.h>

#include <git2.h>

#include "cairn/range.h"
#include "util/buf.h"
#include "util/error.h"
#include "migration_internal.h"
#include "repo_internal.h"
#include "util/util.h"
#include "version_check.h"

/*
 * What the raw reader keeps of the objects it builds: the subtrees
 * compared are usually deltas in one chain, so the second is built from
 * the first (or from their common base) instead of anew.
 */
#define RAW_BUDGET ((size_t)8 * 1024 * 1024)

struct walk {
	git_repository *git;
	char *dir;               /* normalized; "" = the root */
	cairn_range *out;
	size_t alloc;
	int32_t *index;          /* file index + 1; 0 = empty */
	size_t nindex;
	cairn_buf path;
	cairn_buf rel;           /* the diff's paths, below the dir */
	const git_oid *commit;   /* the commit being recorded */
	git_oid *others;         /* a merge's other parents' subtrees */
	size_t nothers;
	cairn_git_odb *odb;
	cairn_git_trees trees;
	cairn_git_graph g;       /* the commits of the range */
};

static uint32_t str_hash(const char *s)
{
	uint32_t h = 2166136261u;

	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 16777619u;
	return h;
}

static int index_grow(struct walk *w)
{
	size_t n = w->nindex ? w->nindex * 2 : 256, i;
	int32_t *idx = cairn__calloc(n, sizeof(*idx));

	if (!idx)
		return CAIRN_ERROR;
	for (i = 0; i < w->out->count; i++) {
		size_t j = str_hash(w->out->files[i].path) & (n - 1);

		while (idx[j])
			j = (j + 1) & (n - 1);
		idx[j] = (int32_t)i + 1;
	}
	free(w->index);
	w->index = idx;
	w->nindex = n;
	return 0;
}

/* The file for path, created when absent. */
static int file_get(cairn_range_file **out, struct walk *w, const char *path)
{
	cairn_range *r = w->out;
	size_t j;

	if ((r->count + 1) * 2 > w->nindex && index_grow(w) < 0)
		return CAIRN_ERROR;
	j = str_hash(path) & (w->nindex - 1);
	while (w->index[j]) {
		cairn_range_file *f = &r->files[w->index[j] - 1];

		if (!strcmp(f->path, path)) {
			*out = f;
			return 0;
		}
		j = (j + 1) & (w->nindex - 1);
	}
	if (cairn__grow_array((void **)&r->files, &w->alloc, r->count + 1,
			      sizeof(*r->files)) < 0)
		return CAIRN_ERROR;
	memset(&r->files[r->count], 0, sizeof(r->files[0]));
	r->files[r->count].path = cairn__strdup(path);
	if (!r->files[r->count].path)
		return CAIRN_ERROR;
	w->index[j] = (int32_t)r->count + 1;
	*out = &r->files[r->count++];
	return 0;
}

/* The id of the entry at rel (below the subtree) in tree; zero if none. */
static int entry_at(git_oid *out, struct walk *w, const git_oid *tree,
		    const char *rel)
{
	unsigned mode;

	return cairn_git__tree_bypath(out, &mode, &w->trees, tree, rel);
}

/* Records that the current commit did `kind` to rel (below the dir). */
static int record(struct walk *w, const char *rel, cairn_range_kind kind,
		  const git_oid *id, unsigned mode)
{
	cairn_range_file *f = NULL;
	size_t base;
	size_t i;
	int rc;

	/* a merge: keep only what differs from every other parent */
	for (i = 0; i < w->nothers; i++) {
		git_oid other;

		rc = entry_at(&other, w, &w->others[i], rel);
		if (rc < 0)
			return rc;
		if (kind == CAIRN_RANGE_DELETED ? git_oid_is_zero(&other)
						: git_oid_equal(&other, id))
			return 0;
	}
	base = w->path.size;
	if (*w->dir) {
		rc = cairn_buf_puts(&w->path, w->dir);
		if (rc == 0)
			rc = cairn_buf_putc(&w->path, '/');
	} else {
		rc = 0;
	}
	if (rc == 0)
		rc = cairn_buf_puts(&w->path, rel);
	if (rc == 0)
		rc = file_get(&f, w, w->path.ptr + base);
	cairn_buf_truncate(&w->path, base);
	if (rc < 0)
		return rc;
	if (!f->commits) {
		git_oid_tostr(f->last, sizeof(f->last), w->commit);
		f->last_kind = kind;
		if (kind != CAIRN_RANGE_DELETED) {
			f->mode = mode;
			git_oid_tostr(f->blob, sizeof(f->blob), id);
		}
	}
	git_oid_tostr(f->first, sizeof(f->first), w->commit);
	f->first_kind = kind;
	f->commits++;
	return 0;
}

/* What the one tree diff reports: a file the current commit changed. */
static int on_change(void *ctx, const cairn_buf *path, cairn_git_change what,
		     const cairn_git_entry *a, const cairn_git_entry *b)
{
	const cairn_git_entry *e = b ? b : a;
	git_oid id;

	git_oid_fromraw(&id, e->id);
	return record(ctx, path->ptr,
		      what == CAIRN_GIT_ADDED ? CAIRN_RANGE_ADDED :
		      what == CAIRN_GIT_DELETED ? CAIRN_RANGE_DELETED :
						  CAIRN_RANGE_MODIFIED,
		      &id, e->mode);
}

/* Compares two subtrees (zero ids are empty trees). */
static int diff_trees(struct walk *w, const git_oid *a, const git_oid *b)
{
	int rc = cairn_git__diff_trees(&w->trees, &w->rel, a, b, on_change,
				       w);

	cairn_buf_clear(&w->rel);
	return rc;
}

/* The migrations subtree id of a commit; zero when it has none. */
static int subtree_of(git_oid *out, struct walk *w, const git_oid *commit,
		      const git_oid *tree)
{
	unsigned mode;
	int rc;

	rc = cairn_git__tree_bypath(out, &mode, &w->trees, tree, w->dir);
	if (rc < 0)
		cairn_error__detail("Reading '%s' in commit %s.", w->dir,
				    git_oid_tostr_s(commit));
	else if (!cairn_git__mode_is_tree(mode))
		memset(out, 0, sizeof(*out));
	return rc;
}

/* The subtree of node p; zero at the edge of a shallow clone. */
static int parent_subtree(git_oid *out, struct walk *w, uint32_t p)
{
	int rc = cairn_git__graph_parse(&w->g, p);

	memset(out, 0, sizeof(*out));
	if (rc == CAIRN_ENOTFOUND) {
		cairn_error_clear();
		git_error_clear();
		return 0;
	}
	if (rc < 0 || (w->g.nodes[p].flags & CAIRN_GIT_MISSING))
		return rc;
	return subtree_of(out, w, &w->g.nodes[p].oid, &w->g.nodes[p].tree);
}

/* Records what one commit of the range (a parsed node) changed. */
static int visit(struct walk *w, uint32_t x)
{
	uint32_t np = w->g.nodes[x].nparents, i;
	git_oid sub, psub, first, id = w->g.nodes[x].oid;
	int rc;

	rc = subtree_of(&sub, w, &id, &w->g.nodes[x].tree);
	if (rc < 0)
		return rc;
	memset(&first, 0, sizeof(first));
	for (i = 0; i < np; i++) {
		rc = parent_subtree(&psub, w,
				    cairn_git__graph_parent(&w->g, x, i));
		if (rc < 0)
			return rc;
		if (git_oid_equal(&psub, &sub))
			return 0; /* TREESAME */
		if (i == 0)
			first = psub;
	}
	w->out->diffed++;
	w->commit = &id;
	if (np > 1) {
		w->others = cairn__calloc(np - 1, sizeof(*w->others));
		if (!w->others)
			return CAIRN_ERROR;
		for (i = 1; i < np; i++) {
			uint32_t p = cairn_git__graph_parent(&w->g, x, i);

			rc = parent_subtree(&w->others[w->nothers++], w, p);
			if (rc < 0)
				goto out;
		}
	}
	rc = diff_trees(w, &first, &sub);
out:
	free(w->others);
	w->others = NULL;
	w->nothers = 0;
	w->commit = NULL;
	return rc;
}

static int file_cmp(const void *a, const void *b)
{
	return strcmp(((const cairn_range_file *)a)->path,
		      ((const cairn_range_file *)b)->path);
}

static int resolve(git_oid *out, cairn_repo *repo, const char *rev)
{
	git_oid tree;

	return cairn_repo__resolve_commit(out, &tree, repo, rev);
}

/* Sets up a walk filling out, reading objects the way mode says. */
static int walk_init(struct walk *w, cairn_range *out, cairn_repo *repo,
		     const cairn_range_options *opts, cairn_git_odb_mode mode)
{
	memset(out, 0, sizeof(*out));
	memset(w, 0, sizeof(*w));
	w->git = cairn_repo__git(repo);
	w->out = out;
	cairn_buf_init(&w->path, CAIRN_BUF_DEFAULT_MAX);
	cairn_buf_init(&w->rel, CAIRN_BUF_DEFAULT_MAX);
	w->dir = cairn_migration__normalize_dir(opts && opts->dir ?
						opts->dir : "db/migrations");
	if (!w->dir)
		return CAIRN_ERROR;
	if (cairn_git__odb_new(&w->odb, repo->git, repo->path, RAW_BUDGET, mode) < 0)
		return CAIRN_ERROR;
	cairn_git__trees_init(&w->trees, w->odb);
	cairn_git__graph_init(&w->g, w->odb,
			      git_repository_is_shallow(w->git) == 1);
	return 0;
}

/* Frees a walk; out too when rc says it failed. */
static int walk_done(struct walk *w, int rc)
{
	if (rc == 0 && w->out->count)
		qsort(w->out->files, w->out->count, sizeof(*w->out->files),
		      file_cmp);
	cairn_git__graph_dispose(&w->g);
	cairn_git__trees_dispose(&w->trees);
	cairn_git__odb_free(w->odb);
	free(w->index);
	free(w->dir);
	cairn_buf_dispose(&w->path);
	cairn_buf_dispose(&w->rel);
	if (rc < 0)
		cairn_range_dispose(w->out);
	return rc;
}

/* The node of revision rev. */
static int node_of(uint32_t *out, struct walk *w, cairn_repo *repo,
		   const char *rev)
{
	git_oid id;
	int rc = resolve(&id, repo, rev);

	return rc < 0 ? rc : cairn_git__graph_node(out, &w->g, &id);
}

/*
 * The commits of `git rev-list TIP ^HIDE...`, newest first and in
 * topological order (the one history walk, src/git/walk.c); *list is
 * the caller's to free.
 */
static int range_commits(uint32_t **list, size_t *n, struct walk *w,
			 cairn_repo *repo, const char *tip,
			 const cairn_range_options *opts)
{
	uint32_t start, *hidden = NULL;
	size_t i;
	int rc;

	*list = NULL;
	*n = 0;
	if ((rc = node_of(&start, w, repo, tip)) < 0)
		return rc;
	if (opts->hide_count) {
		hidden = cairn__calloc(opts->hide_count, sizeof(*hidden));
		if (!hidden)
			return CAIRN_ERROR;
	}
	for (i = 0; i < opts->hide_count && rc == 0; i++)
		rc = node_of(&hidden[i], w, repo, opts->hide[i]);
	if (rc == 0)
		rc = cairn_git__graph_range(&w->g, start, hidden,
					    opts->hide_count, list, n);
	if (rc < 0 && rc != CAIRN_ENOTFOUND)
		cairn_error__detail("Walking the history of '%s'.", tip);
	free(hidden);
	return rc;
}

static int changes(cairn_range *out, cairn_repo *repo, const char *tip,
		   const cairn_range_options *opts, cairn_git_odb_mode mode)
{
	uint32_t *list = NULL;
	struct walk w;
	size_t n = 0, i;
	int rc;

	if ((rc = walk_init(&w, out, repo, opts, mode)) < 0 ||
	    (rc = range_commits(&list, &n, &w, repo, tip, opts)) < 0)
		goto out;
	for (i = 0; i < n && rc == 0; i++) {
		if (w.g.nodes[list[i]].flags & CAIRN_GIT_MISSING)
			continue; /* beyond the edge of a shallow clone */
		if (opts->max_commits && out->commits >= opts->max_commits) {
			out->truncated = true;
			break;
		}
		out->commits++;
		rc = visit(&w, list[i]);
	}
out:
	free(list);
	return walk_done(&w, rc);
}

int cairn_range_changes(cairn_range *out, cairn_repo *repo, const char *tip,
			const cairn_range_options *opts)
{
	cairn_range_options defaults = CAIRN_RANGE_OPTIONS_INIT;
	int rc;

	memset(out, 0, sizeof(*out));
	if (!opts)
		opts = &defaults;
	CAIRN__CHECK_VERSION(opts, CAIRN_RANGE_OPTIONS_VERSION,
			     "cairn_range_options");
	rc = changes(out, repo, tip, opts, CAIRN_GIT_ODB_FAST);
	if (rc < 0 && rc != CAIRN_ENOTFOUND) {
		/* anything the raw reading trips on: libgit2 says */
		cairn_error_clear();
		rc = changes(out, repo, tip, opts, CAIRN_GIT_ODB_LIBGIT2);
	}
	return rc;
}

static int diff(cairn_range *out, cairn_repo *repo, const char *from,
		const char *to, const cairn_range_options *opts,
		cairn_git_odb_mode mode)
{
	git_oid a, b, ta, tb, sa, sb;
	struct walk w;
	int rc;

	if ((rc = walk_init(&w, out, repo, opts, mode)) < 0 ||
	    (rc = cairn_repo__resolve_commit(&a, &ta, repo, from)) < 0 ||
	    (rc = cairn_repo__resolve_commit(&b, &tb, repo, to)) < 0 ||
	    (rc = subtree_of(&sa, &w, &a, &ta)) < 0 ||
	    (rc = subtree_of(&sb, &w, &b, &tb)) < 0)
		goto out;
	w.commit = &b;
	if (!git_oid_equal(&sa, &sb)) {
		out->diffed = 1;
		rc = diff_trees(&w, &sa, &sb);
	}
out:
	return walk_done(&w, rc);
}

int cairn_range_diff(cairn_range *out, cairn_repo *repo, const char *from,
		     const char *to, const cairn_range_options *opts)
{
	int rc;

	memset(out, 0, sizeof(*out));
	CAIRN__CHECK_VERSION(opts, CAIRN_RANGE_OPTIONS_VERSION,
			     "cairn_range_options");
	rc = diff(out, repo, from, to, opts, CAIRN_GIT_ODB_FAST);
	if (rc < 0 && rc != CAIRN_ENOTFOUND) {
		/* anything the raw reading trips on: libgit2 says */
		cairn_error_clear();
		rc = diff(out, repo, from, to, opts, CAIRN_GIT_ODB_LIBGIT2);
	}
	return rc;
}

const cairn_range_file *cairn_range_find(const cairn_range *range,
					 const char *path)
{
	size_t lo = 0, hi;

	if (!range || !path)
		return NULL;
	hi = range->count;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = strcmp(range->files[mid].path, path);

		if (c == 0)
			return &range->files[mid];
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

void cairn_range_dispose(cairn_range *range)
{
	size_t i;

	if (!range)
		return;
	for (i = 0; i < range->count; i++)
		free(range->files[i].path);
	free(range->files);
	memset(range, 0, sizeof(*range));
}
