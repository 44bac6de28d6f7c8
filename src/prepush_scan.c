/*
 * prepush_scan.c - the highest version of the up files at a commit (and,
 * when asked, how many there are), read from tree entries alone.  The
 * fast path compares the pushed versions with the base's highest
 * (src/prepush_fast.c); finding the base weighs several boundaries by
 * how many migrations each holds (src/prepush_base.c).
 *
 * No blob is read and nothing is allocated per entry: the migrations
 * subtree is found through libgit2, then its tree objects are read raw
 * (src/rawodb.c) and only the names are looked at, skipping what loading
 * skips (hidden names, the ignore globs; see ignored() in
 * src/migration.c).  scan_raw() keeps aside the names with the highest
 * leading digits and checks them closely only at the end of a tree.
 * When the raw reading trips on anything, the same scan runs again
 * through libgit2's trees (scan_versions()).
 */
#include <fnmatch.h>
#include <string.h>

#include <git2.h>

#include "prepush_internal.h"
#include "util/buf.h"
#include "util/error.h"
#include "migration_internal.h"
#include "repo_internal.h"
#include "util/util.h"

#define MAX_DEPTH 64

void cairn_prepush__normalize(version_t out, const char *digits, size_t len)
{
	while (len > 1 && *digits == '0') {
		digits++;
		len--;
	}
	memcpy(out, digits, len);
	out[len] = '\0';
}

/* What loading skips: see ignored() in src/migration.c. */
bool cairn_prepush__skipped(const cairn_prepush_options *opts, const char *rel,
			    const char *base)
{
	size_t i;

	if (base[0] == '.')
		return true;
	for (i = 0; i < opts->ignore_count; i++) {
		const char *g = opts->ignore[i];

		if (g && *g && (fnmatch(g, base, 0) == 0 ||
				fnmatch(g, rel, 0) == 0))
			return true;
	}
	return false;
}

/* Takes the version of an up file base (rel below the dir) if higher. */
static void take_version(struct vmax *v, const char *rel, const char *base,
			 const cairn_prepush_options *opts)
{
	size_t vlen;
	bool down;
	version_t ver;

	if (cairn_prepush__skipped(opts, rel, base) ||
	    !cairn_migration_parse_filename(base, &vlen, NULL, NULL, &down) ||
	    down)
		return;
	cairn_prepush__normalize(ver, base, vlen);
	v->count++;
	if (!v->max[0] || cairn__version_cmp(ver, v->max) > 0)
		memcpy(v->max, ver, sizeof(v->max));
}

/*
 * The slow way, through libgit2's trees: what the raw scan below falls
 * back to when it cannot read the trees itself.
 */
static int scan_versions(struct vmax *v, git_repository *git,
			 const git_tree *tree, cairn_buf *rel,
			 const cairn_prepush_options *opts, unsigned depth)
{
	size_t i, n = git_tree_entrycount(tree), keep = rel->size;
	int rc = 0;

	for (i = 0; i < n && rc == 0; i++) {
		const git_tree_entry *e = git_tree_entry_byindex(tree, i);
		const char *base = git_tree_entry_name(e);
		git_filemode_t mode = git_tree_entry_filemode(e);

		cairn_buf_truncate(rel, keep);
		if ((keep && cairn_buf_putc(rel, '/') < 0) ||
		    cairn_buf_puts(rel, base) < 0)
			return CAIRN_ERROR;
		if (mode == GIT_FILEMODE_TREE && depth < MAX_DEPTH) {
			git_tree *sub = NULL;

			if (cairn_prepush__skipped(opts, rel->ptr, base))
				continue;
			if (git_tree_lookup(&sub, git, git_tree_entry_id(e)) < 0)
				return cairn_repo__error("cannot read tree "
							 "'%s'", rel->ptr);
			rc = scan_versions(v, git, sub, rel, opts, depth + 1);
			git_tree_free(sub);
			continue;
		}
		if (mode == GIT_FILEMODE_BLOB ||
		    mode == GIT_FILEMODE_BLOB_EXECUTABLE)
			take_version(v, rel->ptr, base, opts);
	}
	cairn_buf_truncate(rel, keep);
	return rc;
}

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

/* The leading digits of a name, without leading zeros: 0 when none or
 * too many for a version (cairn_migration_parse_filename() fails then). */
static size_t digits_of(const char **out, const char *name, size_t len)
{
	size_t n = 0, z = 0;

	while (n < len && name[n] >= '0' && name[n] <= '9')
		n++;
	if (n < 1 || n > 20)
		return 0;
	while (z + 1 < n && name[z] == '0')
		z++;
	*out = name + z;
	return n - z;
}

/* Numeric order of normalized digit strings of lengths la and lb. */
static int digits_cmp(const char *a, size_t la, const char *b, size_t lb)
{
	if (la != lb)
		return la < lb ? -1 : 1;
	return memcmp(a, b, la);
}

/* How many names sharing the highest leading digits are kept aside. */
#define MAX_TIES 8

/* The names of one tree with the highest leading digits, unchecked. */
struct pending {
	const char *names[MAX_TIES];
	size_t count;
	const char *top;      /* the highest leading digits seen */
	size_t toplen;
	bool overflow;        /* more ties than MAX_TIES */
};

/* Keeps name aside if its leading digits d are the tree's highest yet. */
static void keep_aside(struct pending *pd, const char *name, const char *d,
		       size_t dl)
{
	int c = pd->top ? digits_cmp(d, dl, pd->top, pd->toplen) : 1;

	if (c < 0)
		return;
	if (c > 0) {
		pd->top = d;
		pd->toplen = dl;
		pd->count = 0;
		pd->overflow = false;
	}
	if (pd->count == MAX_TIES)
		pd->overflow = true;
	else
		pd->names[pd->count++] = name;
}

/* Whether v's highest version is below the digits d (dl of them). */
static bool below(const struct vmax *v, const char *d, size_t dl)
{
	return !v->max[0] || digits_cmp(d, dl, v->max, strlen(v->max)) > 0;
}

/*
 * scan_versions() on raw tree objects.  Checking a name closely (ignore
 * globs, the whole name) costs more than reading it, and in a tree
 * sorted by name nearly every name raises the highest version so far; so
 * the names with the highest leading digits are kept aside, checked once
 * the tree has been read, and only when none of them is an up file that
 * loading keeps is the tree read again checking every name that could
 * raise the answer.  When counting, every name is checked.
 */
static int scan_raw(struct vmax *v, cairn_rawodb *raw, const git_oid *id,
		    cairn_buf *rel, const cairn_prepush_options *opts,
		    unsigned depth)
{
	cairn_rawobj *obj = NULL;
	const unsigned char *p, *end;
	size_t keep = rel->size, i;
	struct pending pd;
	cairn_tree_entry e;
	bool again = false;
	int rc;

	memset(&pd, 0, sizeof(pd));
	if ((rc = cairn_repo__rawodb_read(&obj, raw, id)) < 0)
		return rc;
	if (obj->type != GIT_OBJECT_TREE) {
		cairn_repo__rawobj_free(obj);
		return cairn_error__set(CAIRN_ERRCLASS_GIT, "not a tree");
	}
	end = obj->data + obj->len;
scan:
	p = obj->data;
	while (rc == 0 && p < end) {
		const char *d;
		size_t dl;
		unsigned mode;

		if ((rc = cairn_repo__tree_entry(&e, &p, end)) < 0)
			break;
		mode = normalize_mode(e.mode);
		if (mode == GIT_FILEMODE_TREE) {
			if (again || depth >= MAX_DEPTH)
				continue;
		} else if ((mode != GIT_FILEMODE_BLOB &&
			    mode != GIT_FILEMODE_BLOB_EXECUTABLE) ||
			   !(dl = digits_of(&d, e.name, e.len)) ||
			   (!v->counting && !below(v, d, dl))) {
			continue;
		} else if (!v->counting && !again) {
			keep_aside(&pd, e.name, d, dl);
			continue;
		}
		cairn_buf_truncate(rel, keep);
		if ((keep && cairn_buf_putc(rel, '/') < 0) ||
		    cairn_buf_put(rel, e.name, e.len) < 0) {
			rc = CAIRN_ERROR;
			break;
		}
		if (mode == GIT_FILEMODE_TREE) {
			git_oid sub;

			if (cairn_prepush__skipped(opts, rel->ptr, e.name))
				continue;
			git_oid_fromraw(&sub, e.id);
			rc = scan_raw(v, raw, &sub, rel, opts, depth + 1);
		} else {
			take_version(v, rel->ptr, e.name, opts);
		}
	}
	if (rc == 0 && !again && pd.top) {
		for (i = 0; rc == 0 && i < pd.count; i++) {
			cairn_buf_truncate(rel, keep);
			if ((keep && cairn_buf_putc(rel, '/') < 0) ||
			    cairn_buf_puts(rel, pd.names[i]) < 0)
				rc = CAIRN_ERROR;
			else
				take_version(v, rel->ptr, pd.names[i], opts);
		}
		if (rc == 0 && (pd.overflow || below(v, pd.top, pd.toplen))) {
			again = true;
			goto scan;
		}
	}
	cairn_buf_truncate(rel, keep);
	cairn_repo__rawobj_free(obj);
	return rc;
}

/* The migrations subtree of a commit (NULL when it has none). */
static int subtree_at(git_tree **out, cairn_repo *repo, const char *commit,
		      const char *dir)
{
	git_commit *c = NULL;
	git_tree *root = NULL;
	git_tree_entry *e = NULL;
	int rc;

	*out = NULL;
	if ((rc = cairn_repo__lookup_commit(&c, repo, commit)) < 0)
		return rc;
	if (git_commit_tree(&root, c) < 0) {
		rc = cairn_repo__error("cannot read the tree of %s", commit);
		goto out;
	}
	if (!*dir) {
		*out = root;
		root = NULL;
		goto out;
	}
	rc = git_tree_entry_bypath(&e, root, dir);
	if (rc == GIT_ENOTFOUND) {
		git_error_clear();
		rc = 0;
		goto out;
	}
	if (rc < 0) {
		rc = cairn_repo__error("cannot read '%s' at %s", dir, commit);
		goto out;
	}
	if (git_tree_entry_type(e) == GIT_OBJECT_TREE &&
	    git_tree_lookup(out, cairn_repo__git(repo),
			    git_tree_entry_id(e)) < 0)
		rc = cairn_repo__error("cannot read '%s' at %s", dir, commit);
out:
	git_tree_entry_free(e);
	git_tree_free(root);
	git_commit_free(c);
	return rc;
}

/* The id of the migrations subtree of a commit; zero when it has none. */
static int subtree_id_at(git_oid *out, cairn_repo *repo, const char *commit,
			 const char *dir)
{
	git_commit *c = NULL;
	git_tree *root = NULL;
	git_tree_entry *e = NULL;
	int rc;

	memset(out, 0, sizeof(*out));
	if ((rc = cairn_repo__lookup_commit(&c, repo, commit)) < 0)
		return rc;
	if (git_commit_tree(&root, c) < 0) {
		rc = cairn_repo__error("cannot read the tree of %s", commit);
		goto out;
	}
	if (!*dir) {
		git_oid_cpy(out, git_tree_id(root));
		goto out;
	}
	rc = git_tree_entry_bypath(&e, root, dir);
	if (rc == GIT_ENOTFOUND) {
		git_error_clear();
		rc = 0;
	} else if (rc < 0) {
		rc = cairn_repo__error("cannot read '%s' at %s", dir, commit);
	} else if (git_tree_entry_type(e) == GIT_OBJECT_TREE) {
		git_oid_cpy(out, git_tree_entry_id(e));
	}
out:
	git_tree_entry_free(e);
	git_tree_free(root);
	git_commit_free(c);
	return rc;
}

/*
 * The highest version of the up files at a commit, skipping what loading
 * skips.  Reads raw tree entries (no blob, no allocation per entry);
 * libgit2's trees when the raw reading trips on anything.
 */
int cairn_prepush__versions_at(struct vmax *v, cairn_repo *repo,
			       const char *commit, const char *dir,
			       const cairn_prepush_options *opts)
{
	cairn_buf rel = CAIRN_BUF_INIT;
	cairn_rawodb *raw = NULL;
	git_tree *tree = NULL;
	git_oid id;
	bool counting = v->counting;
	int rc;

	memset(v, 0, sizeof(*v));
	v->counting = counting;
	if ((rc = subtree_id_at(&id, repo, commit, dir)) < 0 ||
	    git_oid_is_zero(&id))
		return rc;
	rc = cairn_repo__rawodb_new(&raw, repo, 0);
	if (rc == 0)
		rc = scan_raw(v, raw, &id, &rel, opts, 0);
	cairn_repo__rawodb_free(raw);
	if (rc < 0) {
		cairn_error_clear();
		memset(v, 0, sizeof(*v));
		v->counting = counting;
		cairn_buf_clear(&rel);
		if ((rc = subtree_at(&tree, repo, commit, dir)) == 0 && tree)
			rc = scan_versions(v, cairn_repo__git(repo), tree,
					   &rel, opts, 0);
		git_tree_free(tree);
	}
	cairn_buf_dispose(&rel);
	return rc;
}
