/*
 * git/diff.c - the one tree diff (git/diff.h).
 *
 * Two trees are compared by a merge of their entries in git's tree
 * order that descends only into subtrees whose ids differ.  Within one
 * tree the common head and tail of the two raw objects are skipped with
 * memcmp (when one was built from a delta against the other, the delta
 * already says how much of them agrees), and only the entries in between
 * are compared.  Each tree keeps the offsets of its entries (in the tree
 * cache, git/tree_cache.c), carried over from the neighbour it was
 * compared with, so a commit that adds one file to a directory of 10,000
 * compares a handful of entries.
 */
#include <stdlib.h>
#include <string.h>

#include "git/diff.h"
#include "util/error.h"
#include "util/util.h"

struct diff {
	cairn_git_trees *c;
	cairn_buf *path;
	cairn_git_diff_fn fn;
	void *ctx;
};

/* Entry i of an indexed tree (validated when the index was built). */
static void entry_at(const cairn_git_tree *t, size_t i, cairn_git_entry *e)
{
	const unsigned char *p = t->data + t->offs[i];

	if (cairn_git__entry_parse(e, &p, t->data + t->len) < 0)
		memset(e, 0, sizeof(*e)); /* not reached: validated */
	e->mode = cairn_git__mode_normalize(e->mode);
}

static int offs_push(cairn_git_tree *t, size_t *alloc, size_t off)
{
	if (cairn__grow_array((void **)&t->offs, alloc, t->n + 2,
			      sizeof(*t->offs)) < 0)
		return CAIRN_ERROR;
	t->offs[t->n++] = (uint32_t)off;
	return 0;
}

/* Forgets a partial index; returns CAIRN_ERROR. */
static int index_drop(cairn_git_tree *t)
{
	free(t->offs);
	t->offs = NULL;
	t->n = 0;
	return CAIRN_ERROR;
}

/* Ends an index with the length (offs[n] == len). */
static int index_end(cairn_git_tree *t, size_t *alloc)
{
	if (offs_push(t, alloc, t->len) < 0)
		return index_drop(t);
	t->n--;
	return 0;
}

/* Indexes t by parsing it whole. */
static int index_full(cairn_git_tree *t)
{
	const unsigned char *p = t->data, *end = t->data + t->len;
	size_t alloc = 0;
	cairn_git_entry e;

	if (t->len > UINT32_MAX)
		return cairn_error__set(CAIRN_ERRCLASS_GIT,
					"cannot read a tree of %zu bytes",
					t->len);
	t->n = 0;
	while (p < end) {
		if (offs_push(t, &alloc, (size_t)(p - t->data)) < 0 ||
		    cairn_git__entry_parse(&e, &p, end) < 0)
			return index_drop(t);
	}
	return index_end(t, &alloc);
}

/* The largest i <= n with offs[i] <= x (offs[0] == 0). */
static size_t index_floor(const cairn_git_tree *t, size_t x)
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
static bool index_find(const cairn_git_tree *t, size_t from, size_t x,
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
static int index_sync(cairn_git_tree *t, const cairn_git_tree *h, size_t pre,
		      size_t suf)
{
	const unsigned char *end = t->data + t->len;
	size_t i0 = index_floor(h, pre), alloc = 0, p, j;
	int64_t shift = (int64_t)t->len - (int64_t)h->len;
	cairn_git_entry e;

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
				return index_drop(t);
			for (k = 0; k < rest; k++)
				t->offs[t->n + k] = (uint32_t)(
					(int64_t)h->offs[j + k] + shift);
			t->n += rest;
			break;
		}
		if (offs_push(t, &alloc, p) < 0)
			return index_drop(t);
		{
			const unsigned char *next = t->data + p;

			if (cairn_git__entry_parse(&e, &next, end) < 0)
				return index_drop(t);
			p = (size_t)(next - t->data);
		}
	}
	return index_end(t, &alloc);
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

static int diff_trees(struct diff *d, const git_oid *a, const git_oid *b);

/* An entry present on one side only (a whole subtree when a tree). */
static int diff_side(struct diff *d, const cairn_git_entry *e,
		     cairn_git_change what)
{
	size_t len = d->path->size;
	int rc;

	rc = cairn_buf_put(d->path, e->name, e->len);
	if (rc == 0 && e->mode == GIT_FILEMODE_TREE) {
		git_oid id, zero;

		memset(&zero, 0, sizeof(zero));
		git_oid_fromraw(&id, e->id);
		rc = cairn_buf_putc(d->path, '/');
		if (rc == 0)
			rc = what == CAIRN_GIT_ADDED
				     ? diff_trees(d, &zero, &id)
				     : diff_trees(d, &id, &zero);
	} else if (rc == 0) {
		rc = d->fn(d->ctx, d->path, what,
			   what == CAIRN_GIT_ADDED ? NULL : e,
			   what == CAIRN_GIT_ADDED ? e : NULL);
	}
	cairn_buf_truncate(d->path, len);
	return rc;
}

/* The change between entry ea of a and entry eb of b (same name). */
static int diff_pair(struct diff *d, const cairn_git_entry *ea,
		     const cairn_git_entry *eb)
{
	size_t len = d->path->size;
	int rc;

	if (ea->mode == eb->mode && !memcmp(ea->id, eb->id, GIT_OID_RAWSZ))
		return 0;
	rc = cairn_buf_put(d->path, ea->name, ea->len);
	if (rc == 0 && ea->mode == GIT_FILEMODE_TREE) {
		git_oid oa, ob;

		git_oid_fromraw(&oa, ea->id);
		git_oid_fromraw(&ob, eb->id);
		rc = cairn_buf_putc(d->path, '/');
		if (rc == 0)
			rc = diff_trees(d, &oa, &ob);
	} else if (rc == 0) {
		rc = d->fn(d->ctx, d->path, CAIRN_GIT_MODIFIED, ea, eb);
	}
	cairn_buf_truncate(d->path, len);
	return rc;
}

/*
 * How much of the heads and tails of two trees agree at least, when one
 * was built from a delta against the other.
 */
static void delta_hint(const cairn_git_tree *ta, const cairn_git_tree *tb,
		       size_t *head, size_t *tail)
{
	*head = *tail = 0;
	if (!ta->obj || !tb->obj || !tb->obj->key || !ta->obj->key)
		return;
	if (tb->obj->base_key == ta->obj->key) {
		*head = tb->obj->same_head;
		*tail = tb->obj->same_tail;
	} else if (ta->obj->base_key == tb->obj->key) {
		*head = ta->obj->same_head;
		*tail = ta->obj->same_tail;
	}
}

/* Compares the entries [ia, ja) of ta with [ib, jb) of tb. */
static int merge_entries(struct diff *d, const cairn_git_tree *ta,
			 size_t ia, size_t ja, const cairn_git_tree *tb,
			 size_t ib, size_t jb)
{
	int rc = 0;

	while (rc == 0 && (ia < ja || ib < jb)) {
		cairn_git_entry ea, eb;
		int c;

		if (ia < ja)
			entry_at(ta, ia, &ea);
		if (ib < jb)
			entry_at(tb, ib, &eb);
		c = ia >= ja   ? 1
		    : ib >= jb ? -1
			       : cairn_git__entry_cmp(&ea, &eb);
		if (c < 0) {
			rc = diff_side(d, &ea, CAIRN_GIT_DELETED);
			ia++;
		} else if (c > 0) {
			rc = diff_side(d, &eb, CAIRN_GIT_ADDED);
			ib++;
		} else {
			rc = diff_pair(d, &ea, &eb);
			ia++;
			ib++;
		}
	}
	return rc;
}

static int diff_trees(struct diff *d, const git_oid *a, const git_oid *b)
{
	cairn_git_tree *ta = NULL, *tb = NULL;
	size_t pre, suf, i0, ja, jb, head, tail, n;
	int64_t shift;
	int rc;

	if (git_oid_equal(a, b))
		return 0;
	rc = cairn_git__trees_get(&ta, d->c, a);
	if (rc == 0)
		rc = cairn_git__trees_get(&tb, d->c, b);
	if (rc < 0)
		goto out;
	delta_hint(ta, tb, &head, &tail);
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
	rc = merge_entries(d, ta, i0, ja, tb, i0, jb);
out:
	cairn_git__tree_put(ta);
	cairn_git__tree_put(tb);
	return rc;
}

int cairn_git__diff_trees(cairn_git_trees *c, cairn_buf *path,
			  const git_oid *a, const git_oid *b,
			  cairn_git_diff_fn fn, void *ctx)
{
	struct diff d = { c, path, fn, ctx };
	size_t len = path->size;
	int rc = diff_trees(&d, a, b);

	cairn_buf_truncate(path, len);
	return rc;
}
