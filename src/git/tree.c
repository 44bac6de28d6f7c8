/*
 * git/tree.c - tree entries (git/tree.h): the parser of raw tree
 * entries, mode normalisation, git's tree order, the iterator over a
 * tree's entries and path lookups.  Trees are read through the cache of
 * git/tree_cache.c.
 */
#include <string.h>

#include "git/tree.h"
#include "util/error.h"

int cairn_git__entry_parse(cairn_git_entry *e, const unsigned char **pp,
			   const unsigned char *end)
{
	const unsigned char *p = *pp, *nul;
	unsigned mode = 0;

	while (p < end && *p >= '0' && *p <= '7' && mode < 01000000)
		mode = mode * 8 + (unsigned)(*p++ - '0');
	if (p >= end || *p != ' ' || p == *pp)
		goto corrupt;
	p++;
	nul = memchr(p, '\0', (size_t)(end - p));
	if (!nul || nul == p || (size_t)(end - nul) < GIT_OID_RAWSZ + 1)
		goto corrupt;
	/*
	 * A name is one path component: git never writes '/', "." or ".."
	 * and refuses them on checkout; a crafted tree could otherwise name
	 * a path outside the directory it is listed in.
	 */
	if (memchr(p, '/', (size_t)(nul - p)) ||
	    !strcmp((const char *)p, ".") || !strcmp((const char *)p, ".."))
		return cairn_error__set(CAIRN_ERRCLASS_GIT,
					"cannot read a tree object with an "
					"entry named '%s'", (const char *)p);
	e->name = (const char *)p;
	e->len = (size_t)(nul - p);
	e->mode = mode;
	e->id = nul + 1;
	*pp = nul + 1 + GIT_OID_RAWSZ;
	return 0;
corrupt:
	return cairn_error__set(CAIRN_ERRCLASS_GIT,
				"cannot read a corrupt tree object");
}

/* As git's canon_mode() and libgit2's git_tree_entry_filemode(). */
unsigned cairn_git__mode_normalize(unsigned mode)
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

int cairn_git__entry_cmp(const cairn_git_entry *a, const cairn_git_entry *b)
{
	size_t n = a->len < b->len ? a->len : b->len;
	int c = memcmp(a->name, b->name, n);
	unsigned ca, cb;

	if (c)
		return c;
	ca = a->len > n ? (unsigned char)a->name[n] :
			  (cairn_git__mode_is_tree(a->mode) ? '/' : 0);
	cb = b->len > n ? (unsigned char)b->name[n] :
			  (cairn_git__mode_is_tree(b->mode) ? '/' : 0);
	return ca < cb ? -1 : ca > cb;
}

/* ---- the iterator ---- */

int cairn_git__tree_open(cairn_git_treeiter *it, cairn_git_trees *c,
			 const git_oid *id)
{
	int rc;

	memset(it, 0, sizeof(*it));
	rc = cairn_git__trees_get(&it->t, c, id);
	if (rc < 0)
		return rc;
	it->start = it->p = it->t->data;
	it->end = it->p + it->t->len;
	return 0;
}

void cairn_git__tree_open_bytes(cairn_git_treeiter *it,
				const unsigned char *data, size_t len)
{
	memset(it, 0, sizeof(*it));
	it->start = it->p = data;
	it->end = data + len;
}

int cairn_git__tree_next(cairn_git_treeiter *it, cairn_git_entry *e)
{
	if (!it->p || it->p >= it->end)
		return 0;
	if (cairn_git__entry_parse(e, &it->p, it->end) < 0) {
		it->p = it->end;
		return CAIRN_ERROR;
	}
	return 1;
}

void cairn_git__tree_rewind(cairn_git_treeiter *it)
{
	it->p = it->start;
}

void cairn_git__tree_close(cairn_git_treeiter *it)
{
	cairn_git__tree_put(it->t);
	memset(it, 0, sizeof(*it));
}

/* ---- lookups ---- */

int cairn_git__tree_child(git_oid *id, unsigned *mode, cairn_git_trees *c,
			  const git_oid *tree, const char *name, size_t n)
{
	cairn_git_treeiter it;
	cairn_git_entry e;
	int rc;

	memset(id, 0, sizeof(*id));
	*mode = 0;
	rc = cairn_git__tree_open(&it, c, tree);
	while (rc == 0) {
		int more = cairn_git__tree_next(&it, &e);

		if (more <= 0) {
			rc = more;
			break;
		}
		if (e.len == n && !memcmp(e.name, name, n)) {
			git_oid_fromraw(id, e.id);
			*mode = e.mode;
			break;
		}
	}
	cairn_git__tree_close(&it);
	return rc;
}

int cairn_git__tree_bypath(git_oid *id, unsigned *mode, cairn_git_trees *c,
			   const git_oid *tree, const char *path)
{
	const char *p = path;
	git_oid cur = *tree;
	unsigned m = GIT_FILEMODE_TREE;
	int rc;

	while (*p) {
		const char *slash = strchr(p, '/');
		size_t n = slash ? (size_t)(slash - p) : strlen(p);
		git_oid next;

		if (!cairn_git__mode_is_tree(m) || git_oid_is_zero(&cur)) {
			memset(&cur, 0, sizeof(cur));
			m = 0;
			break;
		}
		rc = cairn_git__tree_child(&next, &m, c, &cur, p, n);
		if (rc < 0)
			return rc;
		cur = next;
		if (!m)
			break;
		p = slash ? slash + 1 : p + n;
	}
	*id = cur;
	*mode = m;
	return 0;
}
