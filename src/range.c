/*
 * range.c - which commits of a range changed which migration files; see
 * include/cairn/range.h.
 *
 * The walk is libgit2's revwalk (topological, newest first) with the tip
 * pushed and every hidden revision hidden, so it visits exactly the
 * commits of `git rev-list TIP ^HIDE...` and stops where the hidden
 * history begins.  Commits are read raw (their tree and parents only), so
 * a commit whose author line libgit2 cannot parse is walked as git log
 * walks it.  For each commit the id of the migrations subtree is
 * found with git_tree_entry_bypath() (libgit2's object cache keeps the
 * root and intermediate trees a parent shares with its child).  When the
 * id equals a parent's, the commit changed nothing below the directory
 * (TREESAME, as git log says) and is skipped; otherwise the two subtrees
 * are compared by a merge of their sorted entries that descends only into
 * subtrees whose ids differ.  No blob is ever read.
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
 * What cairn_range_diff()'s raw reader keeps of the objects it builds:
 * the two subtrees are usually deltas in one chain, so the second is
 * built from the first (or from their common base) instead of anew.
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
	const git_oid *commit;   /* the commit being recorded */
	git_tree **others;       /* a merge's other parents' subtrees */
	size_t nothers;
	cairn_rawodb *raw;       /* cairn_range_diff(): raw tree reads */
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
static int entry_at(git_oid *out, git_tree *tree, const char *rel)
{
	git_tree_entry *e = NULL;
	int rc;

	memset(out, 0, sizeof(*out));
	if (!tree)
		return 0;
	rc = git_tree_entry_bypath(&e, tree, rel);
	if (rc == GIT_ENOTFOUND) {
		git_error_clear();
		return 0;
	}
	if (rc < 0)
		return cairn_repo__error("cannot read '%s'", rel);
	git_oid_cpy(out, git_tree_entry_id(e));
	git_tree_entry_free(e);
	return 0;
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

		rc = entry_at(&other, w->others[i], rel);
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

static bool is_tree_mode(git_filemode_t mode)
{
	return mode == GIT_FILEMODE_TREE;
}

/* git's tree order: a directory sorts as if its name ended in '/'. */
static int entry_cmp(const git_tree_entry *a, const git_tree_entry *b)
{
	const char *na = git_tree_entry_name(a), *nb = git_tree_entry_name(b);
	size_t la = strlen(na), lb = strlen(nb), n = la < lb ? la : lb;
	int c = memcmp(na, nb, n);
	unsigned ca, cb;

	if (c)
		return c;
	ca = la > n ? (unsigned char)na[n] :
		      (is_tree_mode(git_tree_entry_filemode(a)) ? '/' : 0);
	cb = lb > n ? (unsigned char)nb[n] :
		      (is_tree_mode(git_tree_entry_filemode(b)) ? '/' : 0);
	return ca < cb ? -1 : ca > cb;
}

static int diff_trees(struct walk *w, const git_oid *a, const git_oid *b,
		      const char *prefix);

/* Every file below one entry, as added or deleted. */
static int whole(struct walk *w, const git_tree_entry *e, const char *prefix,
		 cairn_range_kind kind)
{
	cairn_buf rel = CAIRN_BUF_INIT;
	git_oid zero;
	int rc;

	rc = cairn_buf_printf(&rel, "%s%s", prefix, git_tree_entry_name(e));
	if (rc < 0)
		return rc;
	if (is_tree_mode(git_tree_entry_filemode(e))) {
		memset(&zero, 0, sizeof(zero));
		rc = cairn_buf_putc(&rel, '/');
		if (rc == 0)
			rc = kind == CAIRN_RANGE_ADDED ?
				diff_trees(w, &zero, git_tree_entry_id(e),
					   rel.ptr) :
				diff_trees(w, git_tree_entry_id(e), &zero,
					   rel.ptr);
	} else {
		rc = record(w, rel.ptr, kind, git_tree_entry_id(e),
			    (unsigned)git_tree_entry_filemode(e));
	}
	cairn_buf_dispose(&rel);
	return rc;
}

static int lookup_tree(git_tree **out, struct walk *w, const git_oid *id)
{
	*out = NULL;
	if (git_oid_is_zero(id))
		return 0;
	if (git_tree_lookup(out, w->git, id) < 0)
		return cairn_repo__error("cannot read tree %s",
					 git_oid_tostr_s(id));
	return 0;
}

/* Compares two trees (zero ids are empty trees); prefix ends in '/'. */
static int diff_trees(struct walk *w, const git_oid *a, const git_oid *b,
		      const char *prefix)
{
	git_tree *ta = NULL, *tb = NULL;
	size_t i = 0, j = 0, na, nb;
	cairn_buf rel = CAIRN_BUF_INIT;
	int rc;

	if ((rc = lookup_tree(&ta, w, a)) < 0 ||
	    (rc = lookup_tree(&tb, w, b)) < 0)
		goto out;
	na = ta ? git_tree_entrycount(ta) : 0;
	nb = tb ? git_tree_entrycount(tb) : 0;
	while (rc == 0 && (i < na || j < nb)) {
		const git_tree_entry *ea = i < na ? git_tree_entry_byindex(ta, i)
						  : NULL;
		const git_tree_entry *eb = j < nb ? git_tree_entry_byindex(tb, j)
						  : NULL;
		int c = !ea ? 1 : !eb ? -1 : entry_cmp(ea, eb);

		if (c < 0) {
			rc = whole(w, ea, prefix, CAIRN_RANGE_DELETED);
			i++;
			continue;
		}
		if (c > 0) {
			rc = whole(w, eb, prefix, CAIRN_RANGE_ADDED);
			j++;
			continue;
		}
		i++;
		j++;
		if (git_oid_equal(git_tree_entry_id(ea), git_tree_entry_id(eb)) &&
		    git_tree_entry_filemode(ea) == git_tree_entry_filemode(eb))
			continue;
		cairn_buf_clear(&rel);
		rc = cairn_buf_printf(&rel, "%s%s", prefix,
				      git_tree_entry_name(ea));
		if (rc < 0)
			break;
		if (is_tree_mode(git_tree_entry_filemode(ea))) {
			rc = cairn_buf_putc(&rel, '/');
			if (rc == 0)
				rc = diff_trees(w, git_tree_entry_id(ea),
						git_tree_entry_id(eb), rel.ptr);
		} else {
			rc = record(w, rel.ptr, CAIRN_RANGE_MODIFIED,
				    git_tree_entry_id(eb),
				    (unsigned)git_tree_entry_filemode(eb));
		}
	}
out:
	cairn_buf_dispose(&rel);
	git_tree_free(ta);
	git_tree_free(tb);
	return rc;
}

/* ---- comparing raw tree objects (cairn_range_diff) -------------------- */

/* What git_tree_entry_filemode() makes of a raw mode (libgit2's tree.c). */
static unsigned normalize_mode(unsigned mode)
{
	if ((mode & 0170000u) == GIT_FILEMODE_TREE)
		return GIT_FILEMODE_TREE;
	if (mode & 0111u)
		return GIT_FILEMODE_BLOB_EXECUTABLE;
	if ((mode & 0170000u) == GIT_FILEMODE_COMMIT)
		return GIT_FILEMODE_COMMIT;
	if ((mode & 0170000u) == GIT_FILEMODE_LINK)
		return GIT_FILEMODE_LINK;
	return GIT_FILEMODE_BLOB;
}

/* entry_cmp() on raw entries whose modes are normalized. */
static int raw_cmp(const cairn_tree_entry *a, const cairn_tree_entry *b)
{
	size_t n = a->len < b->len ? a->len : b->len;
	int c = memcmp(a->name, b->name, n);
	unsigned ca, cb;

	if (c)
		return c;
	ca = a->len > n ? (unsigned char)a->name[n] :
			  (a->mode == GIT_FILEMODE_TREE ? '/' : 0);
	cb = b->len > n ? (unsigned char)b->name[n] :
			  (b->mode == GIT_FILEMODE_TREE ? '/' : 0);
	return ca < cb ? -1 : ca > cb;
}

/* The next entry of a raw tree, its mode normalized: 1, 0 (end), error. */
static int raw_next(cairn_tree_entry *e, const unsigned char **p,
		    const unsigned char *end)
{
	if (*p >= end)
		return 0;
	if (cairn_repo__tree_entry(e, p, end) < 0)
		return CAIRN_ERROR;
	e->mode = normalize_mode(e->mode);
	return 1;
}

static int raw_diff(struct walk *w, const git_oid *a, const git_oid *b,
		    cairn_buf *rel);

/*
 * One entry present on one side only, or changed (a: the old entry,
 * NULL when added; b: the new one, NULL when deleted).  rel holds the
 * path of the directory, ending in '/' (or empty).
 */
static int raw_change(struct walk *w, const cairn_tree_entry *a,
		      const cairn_tree_entry *b, cairn_buf *rel)
{
	const cairn_tree_entry *e = b ? b : a;
	size_t keep = rel->size;
	git_oid ia, ib;
	int rc;

	memset(&ia, 0, sizeof(ia));
	memset(&ib, 0, sizeof(ib));
	if (a)
		git_oid_fromraw(&ia, a->id);
	if (b)
		git_oid_fromraw(&ib, b->id);
	rc = cairn_buf_put(rel, e->name, e->len);
	if (rc == 0 && e->mode == GIT_FILEMODE_TREE) {
		rc = cairn_buf_putc(rel, '/');
		if (rc == 0)
			rc = raw_diff(w, &ia, &ib, rel);
	} else if (rc == 0) {
		rc = record(w, rel->ptr,
			    !a ? CAIRN_RANGE_ADDED :
			    !b ? CAIRN_RANGE_DELETED : CAIRN_RANGE_MODIFIED,
			    b ? &ib : &ia, e->mode);
	}
	cairn_buf_truncate(rel, keep);
	return rc;
}

static int raw_tree(cairn_rawobj **out, struct walk *w, const git_oid *id)
{
	*out = NULL;
	if (git_oid_is_zero(id))
		return 0;
	if (cairn_repo__rawodb_read(out, w->raw, id) < 0)
		return CAIRN_ERROR;
	if ((*out)->type != GIT_OBJECT_TREE)
		return cairn_error__set(CAIRN_ERRCLASS_GIT,
					"cannot read tree %s: not a tree",
					git_oid_tostr_s(id));
	return 0;
}

/*
 * diff_trees() on raw tree objects (zero ids are empty trees).  The
 * entries inside the longest common head of the two objects are the same
 * on both sides and are only stepped over; once the two sides are at
 * entry starts with as many bytes left, all inside the common tail, the
 * rest is the same too.  A push that adds ten files to a directory of
 * 10,000 compares a handful of entries.
 */
static int raw_diff(struct walk *w, const git_oid *a, const git_oid *b,
		    cairn_buf *rel)
{
	cairn_rawobj *oa = NULL, *ob = NULL;
	const unsigned char *pa, *pb, *ea, *eb, *sa, *sb;
	size_t la, lb, n, pre = 0, suf = 0;
	cairn_tree_entry xa, xb;
	int ma = 0, mb = 0, rc;

	if ((rc = raw_tree(&oa, w, a)) < 0 || (rc = raw_tree(&ob, w, b)) < 0)
		goto out;
	pa = oa ? oa->data : NULL;
	la = oa ? oa->len : 0;
	pb = ob ? ob->data : NULL;
	lb = ob ? ob->len : 0;
	ea = pa + la;
	eb = pb + lb;
	n = la < lb ? la : lb;
	if (n) {
		while (pre + 64 <= n && !memcmp(pa + pre, pb + pre, 64))
			pre += 64;
		while (pre < n && pa[pre] == pb[pre])
			pre++;
		while (suf + 64 <= n - pre &&
		       !memcmp(ea - suf - 64, eb - suf - 64, 64))
			suf += 64;
		while (suf < n - pre && *(ea - suf - 1) == *(eb - suf - 1))
			suf++;
	}
	/* step over the entries that end inside the common head */
	for (;;) {
		const unsigned char *q = pa;

		if ((ma = raw_next(&xa, &q, ea)) <= 0 ||
		    (size_t)(q - oa->data) > pre)
			break;
		pa = q;
		pb = ob->data + (pa - oa->data);
	}
	sa = pa;
	sb = pb;
	ma = raw_next(&xa, &pa, ea);
	mb = raw_next(&xb, &pb, eb);
	while (ma > 0 || mb > 0) {
		int c;

		if (ma < 0 || mb < 0) {
			rc = CAIRN_ERROR;
			goto out;
		}
		/* as many bytes left, all in the common tail: the same rest */
		if (ma > 0 && mb > 0 && ea - sa == eb - sb &&
		    (size_t)(ea - sa) <= suf)
			break;
		c = ma <= 0 ? 1 : mb <= 0 ? -1 : raw_cmp(&xa, &xb);
		if (c < 0)
			rc = raw_change(w, &xa, NULL, rel);
		else if (c > 0)
			rc = raw_change(w, NULL, &xb, rel);
		else if (xa.mode != xb.mode ||
			 memcmp(xa.id, xb.id, GIT_OID_RAWSZ))
			rc = raw_change(w, &xa, &xb, rel);
		if (rc < 0)
			goto out;
		if (c <= 0) {
			sa = pa;
			ma = raw_next(&xa, &pa, ea);
		}
		if (c >= 0) {
			sb = pb;
			mb = raw_next(&xb, &pb, eb);
		}
	}
	if (ma < 0 || mb < 0)
		rc = CAIRN_ERROR;
out:
	cairn_repo__rawobj_free(oa);
	cairn_repo__rawobj_free(ob);
	return rc;
}

/*
 * A commit's tree and parents (parents may be NULL), read raw: libgit2
 * refuses a commit whose author line it cannot split, git does not.
 * CAIRN_ENOTFOUND when the commit is absent (the edge of a shallow
 * clone).  Caller frees *parents.
 */
static int read_commit(git_oid *tree, git_oid **parents, size_t *np,
		       struct walk *w, const git_oid *id)
{
	git_odb *odb = NULL;
	git_odb_object *obj = NULL;
	cairn_rawcommit c;
	size_t i;
	int rc;

	if (parents) {
		*parents = NULL;
		*np = 0;
	}
	if (git_repository_odb(&odb, w->git) < 0)
		return cairn_repo__error("cannot open the object database");
	rc = git_odb_read(&obj, odb, id);
	if (rc < 0) {
		rc = rc == GIT_ENOTFOUND ? CAIRN_ENOTFOUND : CAIRN_ERROR;
		cairn_repo__error("cannot read commit %s", git_oid_tostr_s(id));
		goto out;
	}
	if (git_odb_object_type(obj) != GIT_OBJECT_COMMIT) {
		rc = cairn_error__set(CAIRN_ERRCLASS_GIT, "%s is not a commit",
				      git_oid_tostr_s(id));
		goto out;
	}
	rc = cairn_repo__commit_parse(&c, git_odb_object_data(obj),
				      git_odb_object_size(obj));
	if (rc < 0)
		goto out;
	*tree = c.tree;
	if (parents && c.nparents) {
		*parents = cairn__calloc(c.nparents, sizeof(**parents));
		if (!*parents) {
			rc = CAIRN_ERROR;
			goto out;
		}
		for (i = 0; i < c.nparents; i++)
			cairn_repo__commit_parent(&(*parents)[i], &c, i);
		*np = c.nparents;
	}
out:
	git_odb_object_free(obj);
	git_odb_free(odb);
	return rc;
}

/* The migrations subtree id of a commit; zero when it has none. */
static int subtree_of(git_oid *out, struct walk *w, const git_oid *commit,
		      const git_oid *tree)
{
	git_tree *root = NULL;
	git_tree_entry *e = NULL;
	int rc = 0;

	memset(out, 0, sizeof(*out));
	if (!*w->dir) {
		git_oid_cpy(out, tree);
		return 0;
	}
	if (git_tree_lookup(&root, w->git, tree) < 0)
		return cairn_repo__error("cannot read the tree of commit %s",
					 git_oid_tostr_s(commit));
	rc = git_tree_entry_bypath(&e, root, w->dir);
	if (rc == GIT_ENOTFOUND) {
		git_error_clear();
		rc = 0;
	} else if (rc < 0) {
		rc = cairn_repo__error("cannot read '%s' in commit %s", w->dir,
				       git_oid_tostr_s(commit));
	} else if (git_tree_entry_type(e) == GIT_OBJECT_TREE) {
		git_oid_cpy(out, git_tree_entry_id(e));
	}
	git_tree_entry_free(e);
	git_tree_free(root);
	return rc;
}

/* The subtree of parent p; zero at the edge of a shallow clone. */
static int parent_subtree(git_oid *out, struct walk *w, const git_oid *p)
{
	git_oid tree;
	int rc = read_commit(&tree, NULL, NULL, w, p);

	if (rc == CAIRN_ENOTFOUND) {
		cairn_error_clear();
		git_error_clear();
		memset(out, 0, sizeof(*out));
		return 0;
	}
	return rc < 0 ? rc : subtree_of(out, w, p, &tree);
}

/* Records what one commit of the range changed. */
static int visit(struct walk *w, const git_oid *id)
{
	git_oid tree, sub, psub, first, *parents = NULL;
	size_t np, i;
	int rc;

	rc = read_commit(&tree, &parents, &np, w, id);
	if (rc < 0)
		return rc;
	rc = subtree_of(&sub, w, id, &tree);
	if (rc < 0)
		goto out;
	memset(&first, 0, sizeof(first));
	for (i = 0; i < np; i++) {
		rc = parent_subtree(&psub, w, &parents[i]);
		if (rc < 0)
			goto out;
		if (git_oid_equal(&psub, &sub))
			goto out; /* TREESAME */
		if (i == 0)
			first = psub;
	}
	w->out->diffed++;
	w->commit = id;
	if (np > 1) {
		w->others = cairn__calloc(np - 1, sizeof(*w->others));
		if (!w->others) {
			rc = CAIRN_ERROR;
			goto out;
		}
		for (i = 1; i < np; i++) {
			rc = parent_subtree(&psub, w, &parents[i]);
			if (rc == 0)
				rc = lookup_tree(&w->others[w->nothers++], w,
						 &psub);
			if (rc < 0)
				goto out;
		}
	}
	rc = diff_trees(w, &first, &sub, "");
out:
	for (i = 0; i < w->nothers; i++)
		git_tree_free(w->others[i]);
	free(w->others);
	w->others = NULL;
	w->nothers = 0;
	free(parents);
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

int cairn_range_changes(cairn_range *out, cairn_repo *repo, const char *tip,
			const cairn_range_options *opts)
{
	cairn_range_options defaults = CAIRN_RANGE_OPTIONS_INIT;
	git_revwalk *rw = NULL;
	struct walk w;
	git_oid id;
	size_t i;
	int rc;

	memset(out, 0, sizeof(*out));
	memset(&w, 0, sizeof(w));
	if (!opts)
		opts = &defaults;
	CAIRN__CHECK_VERSION(opts, CAIRN_RANGE_OPTIONS_VERSION,
			     "cairn_range_options");
	w.git = cairn_repo__git(repo);
	w.out = out;
	cairn_buf_init(&w.path, CAIRN_BUF_DEFAULT_MAX);
	w.dir = cairn_migration__normalize_dir(opts->dir ? opts->dir
							 : "db/migrations");
	if (!w.dir)
		return CAIRN_ERROR;
	if (git_revwalk_new(&rw, w.git) < 0) {
		rc = cairn_repo__error("cannot walk the history");
		goto out;
	}
	git_revwalk_sorting(rw, GIT_SORT_TOPOLOGICAL | GIT_SORT_TIME);
	if ((rc = resolve(&id, repo, tip)) < 0)
		goto out;
	if (git_revwalk_push(rw, &id) < 0) {
		rc = cairn_repo__error("cannot walk from '%s'", tip);
		goto out;
	}
	for (i = 0; i < opts->hide_count; i++) {
		if ((rc = resolve(&id, repo, opts->hide[i])) < 0)
			goto out;
		if (git_revwalk_hide(rw, &id) < 0) {
			rc = cairn_repo__error("cannot hide '%s'",
					       opts->hide[i]);
			goto out;
		}
	}
	for (;;) {
		rc = git_revwalk_next(&id, rw);
		if (rc == GIT_ITEROVER) {
			rc = 0;
			git_error_clear();
			break;
		}
		if (rc < 0) {
			rc = cairn_repo__error("cannot walk the history of "
					       "'%s'", tip);
			goto out;
		}
		if (opts->max_commits && out->commits >= opts->max_commits) {
			out->truncated = true;
			break;
		}
		out->commits++;
		if ((rc = visit(&w, &id)) < 0)
			goto out;
	}
	if (out->count)
		qsort(out->files, out->count, sizeof(*out->files), file_cmp);
out:
	git_revwalk_free(rw);
	free(w.index);
	free(w.dir);
	cairn_buf_dispose(&w.path);
	if (rc < 0)
		cairn_range_dispose(out);
	return rc;
}

/* Forgets what a failed comparison recorded. */
static void range_reset(struct walk *w)
{
	cairn_range_dispose(w->out);
	free(w->index);
	w->index = NULL;
	w->nindex = 0;
	w->alloc = 0;
}

/* raw_diff() of two subtrees, with a reader of its own. */
static int diff_raw(struct walk *w, cairn_repo *repo, const git_oid *a,
		    const git_oid *b)
{
	cairn_buf rel = CAIRN_BUF_INIT;
	int rc;

	if ((rc = cairn_repo__rawodb_new(&w->raw, repo, RAW_BUDGET)) < 0)
		return rc;
	rc = raw_diff(w, a, b, &rel);
	cairn_buf_dispose(&rel);
	cairn_repo__rawodb_free(w->raw);
	w->raw = NULL;
	return rc;
}

int cairn_range_diff(cairn_range *out, cairn_repo *repo, const char *from,
		     const char *to, const cairn_range_options *opts)
{
	git_oid a, b, ta, tb, sa, sb;
	struct walk w;
	int rc;

	memset(out, 0, sizeof(*out));
	memset(&w, 0, sizeof(w));
	CAIRN__CHECK_VERSION(opts, CAIRN_RANGE_OPTIONS_VERSION,
			     "cairn_range_options");
	w.git = cairn_repo__git(repo);
	w.out = out;
	cairn_buf_init(&w.path, CAIRN_BUF_DEFAULT_MAX);
	w.dir = cairn_migration__normalize_dir(opts && opts->dir ?
					       opts->dir : "db/migrations");
	if (!w.dir)
		return CAIRN_ERROR;
	if ((rc = cairn_repo__resolve_commit(&a, &ta, repo, from)) < 0 ||
	    (rc = cairn_repo__resolve_commit(&b, &tb, repo, to)) < 0 ||
	    (rc = subtree_of(&sa, &w, &a, &ta)) < 0 ||
	    (rc = subtree_of(&sb, &w, &b, &tb)) < 0)
		goto out;
	w.commit = &b;
	if (!git_oid_equal(&sa, &sb)) {
		out->diffed = 1;
		rc = diff_raw(&w, repo, &sa, &sb);
		if (rc < 0) {
			/* anything the raw reading trips on: libgit2 says */
			cairn_error_clear();
			range_reset(&w);
			out->diffed = 1;
			rc = diff_trees(&w, &sa, &sb, "");
		}
	}
	if (rc == 0 && out->count)
		qsort(out->files, out->count, sizeof(*out->files), file_cmp);
out:
	free(w.index);
	free(w.dir);
	cairn_buf_dispose(&w.path);
	if (rc < 0)
		cairn_range_dispose(out);
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
