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
 *    log`.  Objects come through cairn_rawodb (src/repo.c), which builds
 *    each version of a delta-compressed tree once, from its neighbour.
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
 *  - The diff is our own comparison of raw tree objects that descends
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
 */
#include <stdlib.h>
#include <string.h>

#include "cairn/migration.h"
#include "buf.h"
#include "error.h"
#include "migration_internal.h"
#include "provenance_internal.h"
#include "repo_internal.h"
#include "util.h"

#define RAWSZ GIT_OID_RAWSZ
#define LRU_SIZE 16
#define RAW_CACHE ((size_t)64 * 1024 * 1024)
#define SLOP 5
#define MAX_CANDIDATES 4

/* node flags */
#define F_PARSED 0x01
#define F_SUB 0x02        /* sub is known */
#define F_QUEUED 0x04     /* pushed by the simplified walk */
#define F_SEEN 0x08       /* pushed by the range computation */
#define F_UNINT 0x10      /* reachable from the hidden commit */
#define F_COUNTED 0x20    /* queued and counted as interesting */
#define F_RANGE 0x40      /* in REV but not in the hidden commit's history */
#define F_MISSING 0x80    /* absent from a shallow clone */

struct node {
	git_oid oid;
	git_oid sub;      /* migrations subtree; zero when absent */
	int64_t time;
	uint32_t parents; /* index into walk.pool */
	uint32_t nparents;
	uint32_t seq;
	uint32_t flags;
};

/* oid -> uint32 open-addressing map */
struct oidmap {
	git_oid *keys;
	uint32_t *vals;
	uint8_t *used;
	size_t cap;
	size_t count;
};

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

/*
 * A raw tree object kept in the LRU, with the offsets of its entries once
 * something needed them (offs[n] is the length).  Counted references:
 * the LRU holds one and every user holds one.
 */
struct ctree {
	git_oid oid;
	cairn_rawobj *obj;
	const unsigned char *data;
	size_t len;
	uint32_t *offs;
	size_t n;
	unsigned refs;
	bool is_static;
	uint64_t used;
};

struct walk {
	git_repository *git;
	cairn_rawodb *raw;
	bool shallow;
	const char *dir;
	cairn_strvec comps;   /* dir split at '/' */

	struct node *nodes;
	size_t nnodes, anodes;
	struct oidmap node_index;
	uint32_t *pool;
	size_t npool, apool;
	uint32_t seq;

	struct oidmap *level; /* per dir component: tree -> index in subs */
	git_oid *subs;
	size_t nsubs, asubs;

	uint32_t *heap;
	size_t nheap, aheap;
	size_t interesting;   /* F_COUNTED nodes in the heap */

	struct ctree *lru[LRU_SIZE];
	uint64_t lru_clock;
	struct ctree empty;   /* the empty tree (a zero id) */
	uint32_t empty_offs[1];

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

/* ---- maps ------------------------------------------------------------- */

static size_t oid_hash(const git_oid *id)
{
	size_t h;

	memcpy(&h, id->id, sizeof(h));
	return h;
}

static int oidmap_grow(struct oidmap *m)
{
	struct oidmap n;
	size_t i;

	n.cap = m->cap ? m->cap * 2 : 1024;
	n.count = 0;
	n.keys = malloc(n.cap * sizeof(*n.keys));
	n.vals = malloc(n.cap * sizeof(*n.vals));
	n.used = calloc(n.cap, 1);
	if (!n.keys || !n.vals || !n.used) {
		free(n.keys);
		free(n.vals);
		free(n.used);
		return cairn_error__oom();
	}
	for (i = 0; i < m->cap; i++) {
		size_t j;

		if (!m->used[i])
			continue;
		j = oid_hash(&m->keys[i]) & (n.cap - 1);
		while (n.used[j])
			j = (j + 1) & (n.cap - 1);
		n.used[j] = 1;
		n.keys[j] = m->keys[i];
		n.vals[j] = m->vals[i];
		n.count++;
	}
	free(m->keys);
	free(m->vals);
	free(m->used);
	*m = n;
	return 0;
}

static bool oidmap_get(const struct oidmap *m, const git_oid *id,
		       uint32_t *out)
{
	size_t j;

	if (!m->cap)
		return false;
	j = oid_hash(id) & (m->cap - 1);
	while (m->used[j]) {
		if (!memcmp(m->keys[j].id, id->id, RAWSZ)) {
			*out = m->vals[j];
			return true;
		}
		j = (j + 1) & (m->cap - 1);
	}
	return false;
}

static int oidmap_put(struct oidmap *m, const git_oid *id, uint32_t v)
{
	size_t j;

	if ((m->count + 1) * 2 > m->cap && oidmap_grow(m) < 0)
		return CAIRN_ERROR;
	j = oid_hash(id) & (m->cap - 1);
	while (m->used[j]) {
		if (!memcmp(m->keys[j].id, id->id, RAWSZ)) {
			m->vals[j] = v;
			return 0;
		}
		j = (j + 1) & (m->cap - 1);
	}
	m->used[j] = 1;
	m->keys[j] = *id;
	m->vals[j] = v;
	m->count++;
	return 0;
}

static void oidmap_dispose(struct oidmap *m)
{
	free(m->keys);
	free(m->vals);
	free(m->used);
	memset(m, 0, sizeof(*m));
}

static uint32_t str_hash(const char *s, size_t n)
{
	uint32_t h = 2166136261u;
	size_t i;

	for (i = 0; i < n; i++)
		h = (h ^ (unsigned char)s[i]) * 16777619u;
	return h;
}

/* ---- raw objects ------------------------------------------------------ */

static int read_object(cairn_rawobj **out, struct walk *w, const git_oid *id,
		       git_object_t want)
{
	char hex[GIT_OID_HEXSZ + 1];
	int rc;

	rc = cairn_repo__rawodb_read(out, w->raw, id);
	if (rc < 0)
		return rc;
	if ((*out)->type == want)
		return 0;
	cairn_repo__rawobj_free(*out);
	*out = NULL;
	git_oid_tostr(hex, sizeof(hex), id);
	return cairn_error__set(CAIRN_ERRCLASS_GIT,
				"cannot read object %s: not a %s", hex,
				git_object_type2string(want));
}

static void ctree_put(struct ctree *t)
{
	if (!t || t->is_static || --t->refs)
		return;
	cairn_repo__rawobj_free(t->obj);
	free(t->offs);
	free(t);
}

/* A tree from the LRU (or read); *out is a new reference. */
static int tree_get(struct ctree **out, struct walk *w, const git_oid *id)
{
	cairn_rawobj *obj = NULL;
	struct ctree *t;
	size_t i, victim = 0;
	int rc;

	if (git_oid_is_zero(id)) {
		*out = &w->empty;
		return 0;
	}
	for (i = 0; i < LRU_SIZE; i++) {
		t = w->lru[i];
		if (!t) {
			victim = i;
			break;
		}
		if (git_oid_equal(&t->oid, id)) {
			t->used = ++w->lru_clock;
			t->refs++;
			*out = t;
			return 0;
		}
		if (t->used < w->lru[victim]->used)
			victim = i;
	}
	rc = read_object(&obj, w, id, GIT_OBJECT_TREE);
	if (rc < 0)
		return rc;
	t = calloc(1, sizeof(*t));
	if (!t) {
		cairn_repo__rawobj_free(obj);
		return cairn_error__oom();
	}
	t->oid = *id;
	t->obj = obj;
	t->data = obj->data;
	t->len = obj->len;
	t->refs = 2;
	t->used = ++w->lru_clock;
	ctree_put(w->lru[victim]);
	w->lru[victim] = t;
	*out = t;
	return 0;
}

#define MODE_TREE 040000u

static int parse_entry(const unsigned char *p, const unsigned char *end,
		       cairn_tree_entry *e, const unsigned char **next)
{
	*next = p;
	return cairn_repo__tree_entry(e, next, end);
}

/* Entry i of an indexed tree (validated when the index was built). */
static void entry_at(const struct ctree *t, size_t i, cairn_tree_entry *e)
{
	const unsigned char *next;

	parse_entry(t->data + t->offs[i], t->data + t->len, e, &next);
}

static int offs_push(struct ctree *t, size_t *alloc, size_t off)
{
	if (cairn__grow_array((void **)&t->offs, alloc, t->n + 2,
			      sizeof(*t->offs)) < 0)
		return CAIRN_ERROR;
	t->offs[t->n++] = (uint32_t)off;
	return 0;
}

/* Indexes t by parsing it whole. */
static int index_full(struct ctree *t)
{
	const unsigned char *p = t->data, *end = t->data + t->len;
	size_t alloc = 0;
	cairn_tree_entry e;

	if (t->len > UINT32_MAX)
		return cairn_error__set(CAIRN_ERRCLASS_GIT,
					"cannot read a tree of %zu bytes",
					t->len);
	t->n = 0;
	while (p < end) {
		if (offs_push(t, &alloc, (size_t)(p - t->data)) < 0 ||
		    parse_entry(p, end, &e, &p) < 0)
			goto fail;
	}
	if (offs_push(t, &alloc, t->len) < 0)
		goto fail;
	t->n--;
	return 0;
fail:
	free(t->offs);
	t->offs = NULL;
	t->n = 0;
	return CAIRN_ERROR;
}

/* The largest i <= n with offs[i] <= x (offs[0] == 0). */
static size_t index_floor(const struct ctree *t, size_t x)
{
	size_t lo = 0, hi = t->n + 1;

	while (hi - lo > 1) {
		size_t mid = lo + (hi - lo) / 2;

		if (t->offs[mid] <= x)
			lo = mid;
		else
			hi = mid;
	}
	return lo;
}

/* Whether x is the start of an entry (or the end) of t, at or after i. */
static bool index_find(const struct ctree *t, size_t from, size_t x,
		       size_t *out)
{
	size_t i = index_floor(t, x);

	if (i < from || t->offs[i] != x)
		return false;
	*out = i;
	return true;
}

/*
 * Indexes t from h, an indexed tree that shares its first `pre` and last
 * `suf` bytes: entries inside the shared head have the same offsets, the
 * middle is parsed, and as soon as the parse reaches an entry start in
 * the shared tail that is also one in h, the rest is h's offsets shifted.
 */
static int index_sync(struct ctree *t, const struct ctree *h, size_t pre,
		      size_t suf)
{
	const unsigned char *end = t->data + t->len;
	size_t i0 = index_floor(h, pre), alloc = 0, p, j;
	int64_t shift = (int64_t)t->len - (int64_t)h->len;
	cairn_tree_entry e;

	if (t->len > UINT32_MAX)
		return index_full(t);
	if (cairn__grow_array((void **)&t->offs, &alloc, i0 + 2,
			      sizeof(*t->offs)) < 0)
		return CAIRN_ERROR;
	memcpy(t->offs, h->offs, i0 * sizeof(*t->offs));
	t->n = i0;
	p = h->offs[i0];
	while (p < t->len) {
		if (p >= t->len - suf &&
		    index_find(h, i0, (size_t)((int64_t)p - shift), &j)) {
			size_t k, rest = h->n - j;

			if (cairn__grow_array((void **)&t->offs, &alloc,
					      t->n + rest + 2,
					      sizeof(*t->offs)) < 0)
				goto fail;
			for (k = 0; k < rest; k++)
				t->offs[t->n + k] = (uint32_t)(
					(int64_t)h->offs[j + k] + shift);
			t->n += rest;
			break;
		}
		if (offs_push(t, &alloc, p) < 0)
			goto fail;
		{
			const unsigned char *next;

			if (parse_entry(t->data + p, end, &e, &next) < 0)
				goto fail;
			p = (size_t)(next - t->data);
		}
	}
	if (offs_push(t, &alloc, t->len) < 0)
		goto fail;
	t->n--;
	return 0;
fail:
	free(t->offs);
	t->offs = NULL;
	t->n = 0;
	return CAIRN_ERROR;
}

/* Length of the common head of a and b (n bytes at most), from i on. */
static size_t common_prefix(const unsigned char *a, const unsigned char *b,
			    size_t n, size_t i)
{

	while (i + 4096 <= n && !memcmp(a + i, b + i, 4096))
		i += 4096;
	while (i + 64 <= n && !memcmp(a + i, b + i, 64))
		i += 64;
	while (i < n && a[i] == b[i])
		i++;
	return i;
}

/* Length of the common tail of a (la bytes) and b (lb bytes), from i. */
static size_t common_suffix(const unsigned char *a, size_t la,
			    const unsigned char *b, size_t lb, size_t i)
{
	size_t n = la < lb ? la : lb;

	if (i > n)
		i = n;

	while (i + 4096 <= n &&
	       !memcmp(a + la - i - 4096, b + lb - i - 4096, 4096))
		i += 4096;
	while (i + 64 <= n && !memcmp(a + la - i - 64, b + lb - i - 64, 64))
		i += 64;
	while (i < n && a[la - i - 1] == b[lb - i - 1])
		i++;
	return i;
}

/* Sequential reading of a tree, for lookups and listing. */
struct rtree {
	const unsigned char *p;
	const unsigned char *end;
	struct ctree *t;
};

static int rtree_open(struct rtree *t, struct walk *w, const git_oid *id)
{
	int rc;

	memset(t, 0, sizeof(*t));
	rc = tree_get(&t->t, w, id);
	if (rc < 0)
		return rc;
	t->p = t->t->data;
	t->end = t->p + t->t->len;
	return 0;
}

static void rtree_close(struct rtree *t)
{
	ctree_put(t->t);
	memset(t, 0, sizeof(*t));
}

/* 1: an entry, 0: the end, CAIRN_ERROR: a corrupt tree. */
static int rtree_next(struct rtree *t, cairn_tree_entry *e)
{
	if (!t->p || t->p >= t->end)
		return 0;
	if (parse_entry(t->p, t->end, e, &t->p) < 0) {
		t->p = t->end;
		return CAIRN_ERROR;
	}
	return 1;
}

static bool is_tree(unsigned mode)
{
	return (mode & 0170000u) == MODE_TREE;
}

/* git's tree order: a directory sorts as if its name ended in '/'. */
static int entry_cmp(const cairn_tree_entry *a, const cairn_tree_entry *b)
{
	size_t n = a->len < b->len ? a->len : b->len;
	int c = memcmp(a->name, b->name, n);
	unsigned ca, cb;

	if (c)
		return c;
	ca = a->len > n ? (unsigned char)a->name[n] :
			  (is_tree(a->mode) ? '/' : 0);
	cb = b->len > n ? (unsigned char)b->name[n] :
			  (is_tree(b->mode) ? '/' : 0);
	return ca < cb ? -1 : ca > cb;
}

/* ---- commits ---------------------------------------------------------- */

static int node_get(uint32_t *out, struct walk *w, const git_oid *id)
{
	struct node *n;

	if (oidmap_get(&w->node_index, id, out))
		return 0;
	if (cairn__grow_array((void **)&w->nodes, &w->anodes, w->nnodes + 1,
			      sizeof(*w->nodes)) < 0)
		return CAIRN_ERROR;
	n = &w->nodes[w->nnodes];
	memset(n, 0, sizeof(*n));
	n->oid = *id;
	*out = (uint32_t)w->nnodes;
	if (oidmap_put(&w->node_index, id, *out) < 0)
		return CAIRN_ERROR;
	w->nnodes++;
	return 0;
}

static bool hex_oid(git_oid *out, const char *p, const char *end)
{
	return end - p >= GIT_OID_HEXSZ &&
	       git_oid_fromstrn(out, p, GIT_OID_HEXSZ) == 0;
}

/* Reads a commit's tree, parents and committer time. */
static int parse_commit(struct walk *w, uint32_t idx)
{
	cairn_rawobj *obj = NULL;
	const char *p, *end, *line;
	git_oid tree, parent;
	uint32_t first = (uint32_t)w->npool, count = 0;
	int64_t when = 0;
	int rc;

	if (w->nodes[idx].flags & (F_PARSED | F_MISSING))
		return 0;
	rc = read_object(&obj, w, &w->nodes[idx].oid, GIT_OBJECT_COMMIT);
	if (rc == CAIRN_ENOTFOUND && w->shallow) {
		/* the edge of a shallow clone: behaves as absent */
		cairn_error_clear();
		w->nodes[idx].flags |= F_MISSING | F_PARSED | F_SUB;
		return 0;
	}
	if (rc < 0)
		return rc;
	p = (const char *)obj->data;
	end = p + obj->len;
	if (end - p < 5 || memcmp(p, "tree ", 5) != 0 ||
	    !hex_oid(&tree, p + 5, end))
		goto corrupt;
	p += 5 + GIT_OID_HEXSZ + 1;
	while (end - p > 7 && !memcmp(p, "parent ", 7)) {
		uint32_t pi;

		if (!hex_oid(&parent, p + 7, end))
			goto corrupt;
		p += 7 + GIT_OID_HEXSZ + 1;
		rc = node_get(&pi, w, &parent);
		if (rc == 0)
			rc = cairn__grow_array((void **)&w->pool, &w->apool,
					       w->npool + 1, sizeof(*w->pool));
		if (rc < 0)
			goto out;
		w->pool[w->npool++] = pi;
		count++;
	}
	/* committer time: the number after the last '>' of its line */
	for (line = p; line < end;) {
		const char *nl = memchr(line, '\n', (size_t)(end - line));
		const char *le = nl ? nl : end;

		if (le == line)
			break; /* end of the header */
		if (le - line > 10 && !memcmp(line, "committer ", 10)) {
			const char *gt = NULL, *q;

			for (q = line; q < le; q++)
				if (*q == '>')
					gt = q;
			if (gt) {
				q = gt + 1;
				while (q < le && *q == ' ')
					q++;
				while (q < le && *q >= '0' && *q <= '9' &&
				       when < INT64_MAX / 10 - 9)
					when = when * 10 + (*q++ - '0');
			}
			break;
		}
		line = nl ? nl + 1 : end;
	}
	/* node_get may have moved the array: index again */
	w->nodes[idx].parents = first;
	w->nodes[idx].nparents = count;
	w->nodes[idx].time = when;
	w->nodes[idx].flags |= F_PARSED;
	/* keep the root tree in sub until ensure_sub resolves it */
	w->nodes[idx].sub = tree;
	rc = 0;
	goto out;
corrupt:
	{
		char hex[GIT_OID_HEXSZ + 1];

		git_oid_tostr(hex, sizeof(hex), &w->nodes[idx].oid);
		rc = cairn_error__set(CAIRN_ERRCLASS_GIT,
				      "cannot parse commit %s", hex);
	}
out:
	cairn_repo__rawobj_free(obj);
	return rc;
}

/* Finds the child `name` of a raw tree; zero when absent or no tree. */
static int tree_child(git_oid *out, struct walk *w, const git_oid *tree,
		      const char *name)
{
	struct rtree t;
	cairn_tree_entry e;
	size_t n = strlen(name);
	int rc;

	memset(out, 0, sizeof(*out));
	rc = rtree_open(&t, w, tree);
	while (rc == 0) {
		int more = rtree_next(&t, &e);

		if (more <= 0) {
			rc = more;
			break;
		}
		if (e.len == n && !memcmp(e.name, name, n)) {
			if (is_tree(e.mode))
				git_oid_fromraw(out, e.id);
			break;
		}
	}
	rtree_close(&t);
	return rc;
}

/* Resolves a node's migrations subtree id (parsing it first). */
static int ensure_sub(struct walk *w, uint32_t idx)
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

		if (oidmap_get(&w->level[i], &cur, &slot)) {
			next = w->subs[slot];
		} else {
			rc = tree_child(&next, w, &cur, w->comps.items[i]);
			if (rc == 0)
				rc = cairn__grow_array((void **)&w->subs,
						       &w->asubs, w->nsubs + 1,
						       sizeof(*w->subs));
			if (rc == 0)
				rc = oidmap_put(&w->level[i], &cur,
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

/* ---- tracked paths ---------------------------------------------------- */

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
static int index_tracks(struct walk *w)
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

static int add_track(struct walk *w, const char *path, const git_oid *blob)
{
	struct track *t;
	const char *base = strrchr(path, '/');
	size_t vlen;

	base = base ? base + 1 : path;
	if (!cairn_migration_parse_filename(base, &vlen, NULL, NULL, NULL))
		return 0;
	if (cairn__grow_array((void **)&w->tracks, &w->atracks,
			      w->ntracks + 1, sizeof(*w->tracks)) < 0)
		return CAIRN_ERROR;
	t = &w->tracks[w->ntracks];
	memset(t, 0, sizeof(*t));
	t->path = cairn__strdup(path);
	t->orig = cairn__strdup(path);
	t->version = cairn__version_normalize(base, vlen);
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

/* Starts a track over from its original path (for a full re-walk). */
static int reset_track(struct track *t)
{
	const char *base = strrchr(t->orig, '/');
	size_t vlen = 0;
	char *p, *v;

	base = base ? base + 1 : t->orig;
	cairn_migration_parse_filename(base, &vlen, NULL, NULL, NULL);
	p = cairn__strdup(t->orig);
	v = cairn__version_normalize(base, vlen);
	if (!p || !v) {
		free(p);
		free(v);
		return CAIRN_ERROR;
	}
	free(t->path);
	free(t->version);
	t->path = p;
	t->version = v;
	t->has_intro = t->has_changed = false;
	return 0;
}

/* Every up file below the start commit's migrations tree. */
static int enumerate(struct walk *w, const git_oid *tree)
{
	struct rtree t;
	cairn_tree_entry e;
	size_t len = w->path.size;
	int rc;

	rc = rtree_open(&t, w, tree);
	while (rc == 0) {
		int more = rtree_next(&t, &e);

		if (more <= 0) {
			rc = more;
			break;
		}
		if (e.name[0] == '.')
			continue;
		rc = cairn_buf_put(&w->path, e.name, e.len);
		if (rc < 0)
			break;
		if (is_tree(e.mode)) {
			git_oid sub;

			git_oid_fromraw(&sub, e.id);
			rc = cairn_buf_putc(&w->path, '/');
			if (rc == 0)
				rc = enumerate(w, &sub);
		} else if ((e.mode & 0170000u) == 0100000u) {
			git_oid blob;

			git_oid_fromraw(&blob, e.id);
			rc = add_track(w, w->path.ptr, &blob);
		}
		cairn_buf_truncate(&w->path, len);
	}
	rtree_close(&t);
	return rc;
}

/* ---- diffing ---------------------------------------------------------- */

enum change { ADDED, MODIFIED, REMOVED };

static int on_change(struct walk *w, enum change what)
{
	const char *path = w->path.ptr;
	size_t len = w->path.size;

	if (what == REMOVED) {
		const char *base = memrchr(path, '/', len);
		size_t vlen;
		bool is_down;
		struct removed *r;

		base = base ? base + 1 : path;
		if (!cairn_migration_parse_filename(base, &vlen, NULL, NULL,
						    &is_down) || is_down)
			return 0;
		if (cairn__grow_array((void **)&w->removed, &w->aremoved,
				      w->nremoved + 1, sizeof(*r)) < 0)
			return CAIRN_ERROR;
		r = &w->removed[w->nremoved];
		r->path = cairn__strdup(path);
		r->version = cairn__version_normalize(base, vlen);
		if (!r->path || !r->version) {
			free(r->path);
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
				t->adds = what == ADDED;
			} else if (t->stamp == w->stamp &&
				   t->hits == w->cur_parent) {
				t->hits++;
				t->adds += what == ADDED;
			}
		}
	}
	return 0;
}

static int diff_side(struct walk *w, const cairn_tree_entry *e,
		     enum change what);
static int diff_trees(struct walk *w, const git_oid *a, const git_oid *b);

/* The change between entry ea of a and entry eb of b (same name). */
static int diff_pair(struct walk *w, const cairn_tree_entry *ea,
		     const cairn_tree_entry *eb)
{
	size_t len = w->path.size;
	int rc;

	if (ea->mode == eb->mode && !memcmp(ea->id, eb->id, RAWSZ))
		return 0;
	rc = cairn_buf_put(&w->path, ea->name, ea->len);
	if (rc == 0 && is_tree(ea->mode)) {
		git_oid oa, ob;

		git_oid_fromraw(&oa, ea->id);
		git_oid_fromraw(&ob, eb->id);
		rc = cairn_buf_putc(&w->path, '/');
		if (rc == 0)
			rc = diff_trees(w, &oa, &ob);
	} else if (rc == 0) {
		rc = on_change(w, MODIFIED);
	}
	cairn_buf_truncate(&w->path, len);
	return rc;
}

/*
 * Compares two trees (zero ids are empty trees) below w->path.  Only the
 * entries between the longest common head and tail of the two raw
 * objects are compared: a commit that adds one file to a directory of
 * 10,000 compares a handful of entries.
 */
static int diff_trees(struct walk *w, const git_oid *a, const git_oid *b)
{
	struct ctree *ta = NULL, *tb = NULL;
	size_t pre, suf, i0, ia, ib, ja, jb, head, tail, n;
	int64_t shift;
	int rc;

	if (git_oid_equal(a, b))
		return 0;
	rc = tree_get(&ta, w, a);
	if (rc == 0)
		rc = tree_get(&tb, w, b);
	if (rc < 0)
		goto out;
	/*
	 * When one side was built from a delta against the other, the delta
	 * already says how much of their heads and tails agree.
	 */
	head = tail = 0;
	if (ta->obj && tb->obj && tb->obj->key && ta->obj->key) {
		if (tb->obj->base_key == ta->obj->key) {
			head = tb->obj->same_head;
			tail = tb->obj->same_tail;
		} else if (ta->obj->base_key == tb->obj->key) {
			head = ta->obj->same_head;
			tail = ta->obj->same_tail;
		}
	}
	n = ta->len < tb->len ? ta->len : tb->len;
	pre = common_prefix(ta->data, tb->data, n, head < n ? head : n);
	suf = common_suffix(ta->data + pre, ta->len - pre, tb->data + pre,
			    tb->len - pre, tail);
	if (!ta->offs && !tb->offs)
		rc = index_full(tb);
	if (rc == 0 && !ta->offs)
		rc = index_sync(ta, tb, pre, suf);
	if (rc == 0 && !tb->offs)
		rc = index_sync(tb, ta, pre, suf);
	if (rc < 0)
		goto out;

	/* entries wholly inside the common head are the same in both */
	i0 = index_floor(ta, pre);
	if (i0 > tb->n || tb->offs[i0] != ta->offs[i0]) {
		rc = cairn_error__set(CAIRN_ERRCLASS_GIT,
				      "cannot compare corrupt tree objects");
		goto out;
	}
	/* and so are those from the first shared start in the tail */
	shift = (int64_t)tb->len - (int64_t)ta->len;
	ja = index_floor(ta, ta->len - suf);
	if (ja < i0 || ta->offs[ja] < ta->len - suf)
		ja++;
	if (ja < i0)
		ja = i0;
	while (ja < ta->n &&
	       !index_find(tb, i0, (size_t)((int64_t)ta->offs[ja] + shift),
			   &jb))
		ja++;
	if (ja >= ta->n) {
		ja = ta->n;
		jb = tb->n;
	}

	ia = ib = i0;
	while (ia < ja || ib < jb) {
		cairn_tree_entry ea, eb;
		int c;

		if (ia < ja)
			entry_at(ta, ia, &ea);
		if (ib < jb)
			entry_at(tb, ib, &eb);
		c = ia >= ja ? 1 : ib >= jb ? -1 : entry_cmp(&ea, &eb);
		if (c < 0) {
			rc = diff_side(w, &ea, REMOVED);
			ia++;
		} else if (c > 0) {
			rc = diff_side(w, &eb, ADDED);
			ib++;
		} else {
			rc = diff_pair(w, &ea, &eb);
			ia++;
			ib++;
		}
		if (rc < 0)
			goto out;
	}
out:
	ctree_put(ta);
	ctree_put(tb);
	return rc;
}

/* An entry present on one side only (a whole subtree when a tree). */
static int diff_side(struct walk *w, const cairn_tree_entry *e,
		     enum change what)
{
	size_t len = w->path.size;
	int rc;

	rc = cairn_buf_put(&w->path, e->name, e->len);
	if (rc == 0 && is_tree(e->mode)) {
		git_oid id, zero;

		memset(&zero, 0, sizeof(zero));
		git_oid_fromraw(&id, e->id);
		rc = cairn_buf_putc(&w->path, '/');
		if (rc == 0)
			rc = what == ADDED ? diff_trees(w, &zero, &id)
					   : diff_trees(w, &id, &zero);
	} else if (rc == 0) {
		rc = on_change(w, what);
	}
	cairn_buf_truncate(&w->path, len);
	return rc;
}

static void clear_removed(struct walk *w)
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
static int process(struct walk *w, uint32_t x)
{
	const struct node *n = &w->nodes[x];
	uint32_t np = n->nparents, i;
	git_oid zero, xsub = n->sub;
	size_t k;
	int rc = 0;

	memset(&zero, 0, sizeof(zero));
	w->stamp++;
	w->ntouched = 0;
	clear_removed(w);
	for (i = 0; i < (np ? np : 1); i++) {
		const git_oid *psub = &zero;

		if (np) {
			const struct node *p =
				&w->nodes[w->pool[w->nodes[x].parents + i]];

			if (!(p->flags & F_MISSING))
				psub = &p->sub;
		}
		w->cur_parent = i;
		cairn_buf_clear(&w->path);
		rc = diff_trees(w, psub, &xsub);
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
			t->changed = w->nodes[x].oid;
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
		t->intro = w->nodes[x].oid;
		t->has_intro = true;
		bucket_unlink(w, ti);
		w->unresolved--;
	}
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
static int walk_history(struct walk *w, uint32_t start, bool limited)
{
	size_t i;
	int rc;

	for (i = 0; i < w->nnodes; i++)
		w->nodes[i].flags &= ~(uint32_t)F_QUEUED;
	w->nheap = 0;
	w->nboundary = 0;
	rc = ensure_sub(w, start);
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
			rc = ensure_sub(w, w->pool[w->nodes[x].parents + i]);
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
		rc = process(w, x);
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
static int compute_range(struct walk *w, uint32_t start, uint32_t hidden)
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

static int walk_init(struct walk *w, cairn_repo *repo, const char *dir)
{
	const char *p = dir;

	memset(w, 0, sizeof(*w));
	cairn_buf_init(&w->path, 0);
	w->git = cairn_repo__git(repo);
	w->dir = dir;
	w->shallow = git_repository_is_shallow(w->git) == 1;
	if (cairn_repo__rawodb_new(&w->raw, repo, RAW_CACHE) < 0)
		return CAIRN_ERROR;
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
	w->empty.is_static = true;
	w->empty.offs = w->empty_offs;
	w->empty.data = (const unsigned char *)"";
	return 0;
}

static void walk_dispose(struct walk *w)
{
	size_t i;

	for (i = 0; i < LRU_SIZE; i++)
		ctree_put(w->lru[i]);
	for (i = 0; i < w->ntracks; i++) {
		free(w->tracks[i].path);
		free(w->tracks[i].orig);
		free(w->tracks[i].version);
	}
	free(w->tracks);
	free(w->buckets);
	clear_removed(w);
	free(w->removed);
	free(w->touched);
	free(w->heap);
	free(w->pool);
	free(w->nodes);
	free(w->subs);
	free(w->boundary);
	oidmap_dispose(&w->node_index);
	if (w->level) {
		for (i = 0; i < w->comps.count; i++)
			oidmap_dispose(&w->level[i]);
		free(w->level);
	}
	cairn_strvec_dispose(&w->comps);
	cairn_buf_dispose(&w->path);
	cairn_repo__rawodb_free(w->raw);
	memset(w, 0, sizeof(*w));
}

/* Looks up path below a commit's migrations tree: its blob, or zero. */
static int blob_at(git_oid *out, struct walk *w, uint32_t commit,
		   const char *path)
{
	git_oid cur;
	const char *p = path;
	int rc;

	memset(out, 0, sizeof(*out));
	rc = ensure_sub(w, commit);
	if (rc < 0 || (w->nodes[commit].flags & F_MISSING))
		return rc;
	cur = w->nodes[commit].sub;
	while (!git_oid_is_zero(&cur)) {
		const char *slash = strchr(p, '/');
		size_t n = slash ? (size_t)(slash - p) : strlen(p);
		struct rtree t;
		cairn_tree_entry e;
		git_oid next;

		memset(&next, 0, sizeof(next));
		rc = rtree_open(&t, w, &cur);
		while (rc == 0) {
			int more = rtree_next(&t, &e);

			if (more <= 0) {
				rc = more;
				break;
			}
			if (e.len == n && !memcmp(e.name, p, n)) {
				if (is_tree(e.mode) == (slash != NULL))
					git_oid_fromraw(&next, e.id);
				break;
			}
		}
		rtree_close(&t);
		if (rc < 0)
			return rc;
		if (!slash) {
			*out = next;
			return 0;
		}
		cur = next;
		p = slash + 1;
	}
	return 0;
}

/* ---- results ---------------------------------------------------------- */

struct infos {
	struct oidmap index;
	cairn_commit_info *items;
	size_t count, alloc;
};

/* The commit info of id, looked up once per call. */
static int info_get(const cairn_commit_info **out, struct infos *in,
		    struct walk *w, const git_oid *id)
{
	git_commit *c = NULL;
	uint32_t i;
	int rc;

	if (oidmap_get(&in->index, id, &i)) {
		*out = &in->items[i];
		return 0;
	}
	if (git_commit_lookup(&c, w->git, id) < 0)
		return cairn_repo__error("cannot read commit %s",
					 git_oid_tostr_s(id));
	rc = cairn__grow_array((void **)&in->items, &in->alloc, in->count + 1,
			       sizeof(*in->items));
	if (rc == 0)
		rc = cairn_repo__commit_info_fill(&in->items[in->count], c);
	git_commit_free(c);
	if (rc < 0)
		return rc;
	rc = oidmap_put(&in->index, id, (uint32_t)in->count);
	if (rc < 0) {
		cairn_commit_info_dispose(&in->items[in->count]);
		return rc;
	}
	*out = &in->items[in->count++];
	return 0;
}

static void infos_dispose(struct infos *in)
{
	size_t i;

	for (i = 0; i < in->count; i++)
		cairn_commit_info_dispose(&in->items[i]);
	free(in->items);
	oidmap_dispose(&in->index);
}

/* Adds a commit known from a cache entry, unless it is known already. */
static int info_seed(struct infos *in, const cairn_provcache_commit *k)
{
	cairn_commit_info src, *dst;
	git_oid id;
	uint32_t i;

	if (git_oid_fromstr(&id, k->sha) < 0)
		return cairn_repo__error("cannot parse a cached id");
	if (oidmap_get(&in->index, &id, &i))
		return 0;
	if (cairn__grow_array((void **)&in->items, &in->alloc, in->count + 1,
			      sizeof(*in->items)) < 0)
		return CAIRN_ERROR;
	memset(&src, 0, sizeof(src));
	git_oid_tostr(src.sha, sizeof(src.sha), &id);
	src.author_name = (char *)k->name;
	src.author_email = (char *)k->email;
	src.summary = (char *)k->summary;
	src.author_time = k->time;
	src.author_offset = k->offset;
	dst = &in->items[in->count];
	if (cairn_commit_info_copy(dst, &src) < 0)
		return CAIRN_ERROR;
	if (oidmap_put(&in->index, &id, (uint32_t)in->count) < 0) {
		cairn_commit_info_dispose(dst);
		return CAIRN_ERROR;
	}
	in->count++;
	return 0;
}

static int set_info(cairn_commit_info *dst, const cairn_commit_info *src)
{
	cairn_commit_info tmp;

	if (cairn_commit_info_copy(&tmp, src) < 0)
		return CAIRN_ERROR;
	cairn_commit_info_dispose(dst);
	*dst = tmp;
	return 0;
}

static int fill_from_cache(cairn_migration *m, const cairn_provcache *c,
			   const cairn_provcache_file *f)
{
	const cairn_provcache_commit *k[2];
	cairn_commit_info *dst[2] = { &m->introduced, &m->changed };
	int i;

	k[0] = &c->commits[f->intro];
	k[1] = &c->commits[f->changed];
	for (i = 0; i < 2; i++) {
		cairn_commit_info src;

		memset(&src, 0, sizeof(src));
		memcpy(src.sha, k[i]->sha, 40);
		src.sha[40] = '\0';
		src.author_name = (char *)k[i]->name;
		src.author_email = (char *)k[i]->email;
		src.summary = (char *)k[i]->summary;
		src.author_time = k[i]->time;
		src.author_offset = k[i]->offset;
		if (set_info(dst[i], &src) < 0)
			return CAIRN_ERROR;
	}
	m->has_provenance = true;
	return 0;
}

static void clear_provenance(cairn_migration *m)
{
	cairn_commit_info_dispose(&m->introduced);
	cairn_commit_info_dispose(&m->changed);
	m->has_provenance = false;
}

/*
 * Fills the migrations from a cache entry.  *complete is false when a
 * migration that the entry should know (git mode) is missing or has
 * another blob: the entry is then not used at all.
 */
static int use_cache(cairn_migration_set *set, cairn_migration **want,
		     size_t nwant, const cairn_provcache *c, bool *complete)
{
	const cairn_provcache_file **found;
	size_t i;
	int rc = 0;

	*complete = false;
	found = cairn__calloc(nwant, sizeof(*found));
	if (!found)
		return CAIRN_ERROR;
	for (i = 0; i < nwant; i++) {
		found[i] = cairn_provcache__find(
			c, cairn_migration__rel_up(set, want[i]));
		if (set->worktree)
			continue;
		if (!found[i] || found[i]->intro < 0 ||
		    strcmp(found[i]->blob, want[i]->up_blob) != 0)
			goto out;
	}
	*complete = true;
	for (i = 0; i < nwant && rc == 0; i++) {
		clear_provenance(want[i]);
		if (found[i] && found[i]->intro >= 0)
			rc = fill_from_cache(want[i], c, found[i]);
	}
out:
	free(found);
	return rc;
}

/* Writes the complete result of the walk as the entry of commit. */
static int write_cache(struct walk *w, struct infos *in, const char *cachedir,
		       const char *commit)
{
	cairn_provcache_commit *commits = NULL;
	cairn_provcache_file *files = NULL;
	char (*blobs)[GIT_OID_HEXSZ + 1] = NULL;
	size_t i;
	int rc = 0;

	files = calloc(w->ntracks ? w->ntracks : 1, sizeof(*files));
	blobs = calloc(w->ntracks ? w->ntracks : 1, sizeof(*blobs));
	if (!files || !blobs) {
		rc = CAIRN_ERROR;
		goto out;
	}
	for (i = 0; i < w->ntracks && rc == 0; i++) {
		const struct track *t = &w->tracks[i];
		const cairn_commit_info *ci;
		uint32_t a, b;

		files[i].path = t->orig;
		git_oid_tostr(blobs[i], sizeof(blobs[i]), &t->blob);
		files[i].blob = blobs[i];
		files[i].intro = files[i].changed = -1;
		if (!t->has_intro)
			continue;
		rc = info_get(&ci, in, w, &t->intro);
		if (rc == 0)
			rc = info_get(&ci, in, w, &t->changed);
		if (rc < 0)
			break;
		oidmap_get(&in->index, &t->intro, &a);
		oidmap_get(&in->index, &t->changed, &b);
		files[i].intro = (int32_t)a;
		files[i].changed = (int32_t)b;
	}
	if (rc < 0)
		goto out;
	commits = calloc(in->count ? in->count : 1, sizeof(*commits));
	if (!commits) {
		rc = CAIRN_ERROR;
		goto out;
	}
	for (i = 0; i < in->count; i++) {
		commits[i].sha = in->items[i].sha;
		commits[i].name = in->items[i].author_name;
		commits[i].email = in->items[i].author_email;
		commits[i].summary = in->items[i].summary;
		commits[i].time = in->items[i].author_time;
		commits[i].offset = in->items[i].author_offset;
	}
	rc = cairn_provcache__write(cachedir, w->dir, commit, commits,
				    in->count, files, w->ntracks);
out:
	free(commits);
	free(files);
	free(blobs);
	return rc;
}

static int fill_from_track(cairn_migration *m, struct infos *in,
			   struct walk *w, const struct track *t)
{
	const cairn_commit_info *ci;
	int rc;

	clear_provenance(m);
	if (!t || !t->has_intro)
		return 0;
	rc = info_get(&ci, in, w, &t->intro);
	if (rc == 0)
		rc = set_info(&m->introduced, ci);
	if (rc == 0)
		rc = info_get(&ci, in, w, t->has_changed ? &t->changed
							 : &t->intro);
	if (rc == 0)
		rc = set_info(&m->changed, ci);
	if (rc == 0)
		m->has_provenance = true;
	return rc;
}

static int track_cmp(const void *pa, const void *pb)
{
	return strcmp(((const struct track *)pa)->orig,
		      ((const struct track *)pb)->orig);
}

static const struct track *find_track(const struct walk *w, const char *orig)
{
	size_t lo = 0, hi = w->ntracks;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = strcmp(w->tracks[mid].orig, orig);

		if (c == 0)
			return &w->tracks[mid];
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

/*
 * Gives the tracks the walk left unresolved B's answer, where B's entry
 * can be trusted for them; the others are marked active for a full walk.
 * Sets *refill when some are.
 */
static int fill_from_ancestor(struct walk *w, struct infos *in,
			      const cairn_provcache *c, uint32_t hidden,
			      bool *refill)
{
	size_t i, j;
	int rc;

	*refill = false;
	for (i = 0; i < w->ntracks; i++) {
		struct track *t = &w->tracks[i];
		const cairn_provcache_file *f;
		bool ok;

		t->active = false;
		if (t->has_intro)
			continue;
		f = cairn_provcache__find(c, t->path);
		ok = f && f->intro >= 0;
		for (j = 0; ok && j < w->nboundary; j++) {
			git_oid blob;
			char hex[GIT_OID_HEXSZ + 1];

			if (w->boundary[j] == hidden)
				continue;
			rc = blob_at(&blob, w, w->boundary[j], t->path);
			if (rc < 0)
				return rc;
			git_oid_tostr(hex, sizeof(hex), &blob);
			if (!git_oid_is_zero(&blob) && strcmp(hex, f->blob))
				ok = false;
		}
		if (!ok) {
			rc = reset_track(t);
			if (rc < 0)
				return rc;
			t->active = true;
			*refill = true;
			continue;
		}
		rc = info_seed(in, &c->commits[f->intro]);
		if (rc == 0 && !t->has_changed)
			rc = info_seed(in, &c->commits[f->changed]);
		if (rc < 0)
			return rc;
		if (git_oid_fromstr(&t->intro, c->commits[f->intro].sha) < 0)
			return cairn_repo__error("cannot parse a cached id");
		if (!t->has_changed &&
		    git_oid_fromstr(&t->changed,
				    c->commits[f->changed].sha) < 0)
			return cairn_repo__error("cannot parse a cached id");
		t->has_changed = true;
		t->has_intro = true;
	}
	return 0;
}

/* ---- the entry point -------------------------------------------------- */

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
	rc = cairn_provcache__candidates(&cands, cachedir, w->dir,
					 MAX_CANDIDATES);
	for (i = 0; rc == 0 && i < cands.count; i++) {
		git_oid id;
		int d;

		if (git_oid_fromstr(&id, cands.items[i]) < 0 ||
		    git_oid_equal(&id, start))
			continue;
		d = git_graph_descendant_of(w->git, start, &id);
		if (d != 1) {
			git_error_clear();
			continue;
		}
		if (cairn_provcache__load(out, cachedir, w->dir,
					  cands.items[i]) < 0)
			continue;
		rc = node_get(hidden, w, &id);
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
	cairn_buf cachedir = CAIRN_BUF_INIT;
	struct walk w;
	struct infos in;
	git_commit *head = NULL;
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
		rc = cairn_repo__lookup_commit(&head, repo, "HEAD");
		if (rc < 0) {
			/* no commits yet: nothing has provenance */
			cairn_error_clear();
			for (i = 0; i < nwant; i++)
				clear_provenance(want[i]);
			rc = 0;
			goto out;
		}
		start = *git_commit_id(head);
	} else if (git_oid_fromstr(&start, set->commit) < 0) {
		rc = cairn_error__set(CAIRN_ERRCLASS_USAGE,
				      "cannot find the commit of the set");
		goto out;
	}
	git_oid_tostr(sha, sizeof(sha), &start);
	rc = cairn_buf_printf(&cachedir, "%scairn",
			      cairn_repo_commondir(repo));
	if (rc < 0)
		goto out;

	/* the warm path: this commit's own entry */
	if (cairn_provcache__load(&cache, cachedir.ptr, set->dir, sha) == 0) {
		rc = use_cache(set, want, nwant, &cache, &complete);
		if (rc < 0 || complete)
			goto out;
	}

	rc = walk_init(&w, repo, set->dir);
	if (rc < 0)
		goto out;
	rc = node_get(&sidx, &w, &start);
	if (rc == 0)
		rc = ensure_sub(&w, sidx);
	if (rc < 0)
		goto out;
	rc = find_ancestor_entry(&anc, &hidden, &w, cachedir.ptr, &start);
	if (rc < 0)
		goto out;
	use_anc = anc.data != NULL;

	/* what to follow: every up file, or only those asked for */
	if (all || use_anc || set->worktree) {
		cairn_buf_clear(&w.path);
		rc = enumerate(&w, &w.nodes[sidx].sub);
	} else {
		for (i = 0; i < nwant && rc == 0; i++) {
			git_oid blob;

			if (git_oid_fromstr(&blob, want[i]->up_blob) < 0)
				memset(&blob, 0, sizeof(blob));
			rc = add_track(&w, cairn_migration__rel_up(set,
								   want[i]),
				       &blob);
		}
	}
	if (rc < 0)
		goto out;
	rc = index_tracks(&w);
	if (rc < 0)
		goto out;

	if (use_anc) {
		bool refill;

		rc = compute_range(&w, sidx, hidden);
		if (rc == 0)
			rc = walk_history(&w, sidx, true);
		if (rc == 0)
			rc = fill_from_ancestor(&w, &in, &anc, hidden,
						&refill);
		if (rc == 0 && refill) {
			rc = index_tracks(&w);
			if (rc == 0)
				rc = walk_history(&w, sidx, false);
		}
	} else {
		rc = walk_history(&w, sidx, false);
	}
	if (rc < 0)
		goto out;

	if (all || use_anc || set->worktree) {
		/* a complete answer: keep it (a failure only costs speed) */
		if (write_cache(&w, &in, cachedir.ptr, sha) < 0)
			cairn_error_clear();
	}
	qsort(w.tracks, w.ntracks, sizeof(*w.tracks), track_cmp);
	for (i = 0; i < nwant && rc == 0; i++)
		rc = fill_from_track(want[i], &in, &w,
				     find_track(&w, cairn_migration__rel_up(
							    set, want[i])));
out:
	git_commit_free(head);
	cairn_provcache__dispose(&cache);
	cairn_provcache__dispose(&anc);
	walk_dispose(&w);
	infos_dispose(&in);
	cairn_buf_dispose(&cachedir);
	free(want);
	return rc;
}
