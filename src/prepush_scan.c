/*
 * prepush_scan.c - the highest version of the up files at a commit (and,
 * when asked, how many there are), read from tree entries alone.  The
 * fast path compares the pushed versions with the base's highest
 * (src/prepush_fast.c); finding the base weighs several boundaries by
 * how many migrations each holds (src/prepush_base.c).
 *
 * No blob is read and nothing is allocated per entry: tree objects are
 * read through the git object layer (src/git/, raw from the packs where
 * it can) and only the names are looked at, skipping what loading skips
 * (hidden names, the ignore globs; see ignored() in src/migration.c).
 * Names are read in the configured layout: another tool's up files
 * (golang-migrate, dbmate, Flyway's V<version>__) count as migrations
 * when a boundary is weighed.
 * scan_tree() keeps aside the names with the highest leading digits and
 * checks them closely only at the end of a tree.  When the reading trips
 * on anything, the same scan runs again with libgit2 alone reading the
 * objects.
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

/* The layout the options name (cairn's own before version 2). */
static cairn_layout layout_of(const cairn_prepush_options *opts)
{
	return opts->version >= 2 ? CAIRN_LAYOUT_KIND(opts->layout)
				  : CAIRN_LAYOUT_CAIRN;
}

/*
 * Counts an up file of another tool's layout (golang-migrate, dbmate,
 * flyway) and takes the highest possible version: only the count serves
 * there (the fast path, which compares versions, runs in cairn's layout
 * alone).
 */
static void take_other_layout(struct vmax *v, const char *base,
			      const cairn_prepush_options *opts)
{
	if (cairn_migration__parse_name(opts->layout, opts->dialect, base,
					NULL) != CAIRN_NAME_UP)
		return;
	v->count++;
	memset(v->max, '9', sizeof(v->max) - 1);
	v->max[sizeof(v->max) - 1] = '\0';
}

/* Takes the version of an up file base (rel below the dir) if higher. */
static void take_version(struct vmax *v, const char *rel, const char *base,
			 const cairn_prepush_options *opts)
{
	size_t vlen;
	bool down;
	version_t ver;

	if (cairn_prepush__skipped(opts, rel, base))
		return;
	if (layout_of(opts) != CAIRN_LAYOUT_CAIRN) {
		take_other_layout(v, base, opts);
		return;
	}
	if (!cairn_migration_parse_filename(base, &vlen, NULL, NULL, &down)) {
		/* a dotted version: the highest possible, so that the
		 * fast path leaves every addition to the general one */
		if (cairn_migration__parse_name(CAIRN_LAYOUT_CAIRN, NULL, base,
						NULL) == CAIRN_NAME_UP) {
			v->count++;
			memset(v->max, '9', sizeof(v->max) - 1);
			v->max[sizeof(v->max) - 1] = '\0';
		}
		return;
	}
	if (down)
		return;
	cairn_prepush__normalize(ver, base, vlen);
	v->count++;
	if (!v->max[0] || cairn__version_cmp(ver, v->max) > 0)
		memcpy(v->max, ver, sizeof(v->max));
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
 * The highest version below one tree.  Checking a name closely (ignore
 * globs, the whole name) costs more than reading it, and in a tree
 * sorted by name nearly every name raises the highest version so far; so
 * the names with the highest leading digits are kept aside, checked once
 * the tree has been read, and only when none of them is an up file that
 * loading keeps is the tree read again checking every name that could
 * raise the answer.  When counting, every name is checked.
 */
static int scan_tree(struct vmax *v, cairn_git_trees *trees,
		     const git_oid *id, cairn_buf *rel,
		     const cairn_prepush_options *opts, unsigned depth)
{
	cairn_git_treeiter it;
	size_t keep = rel->size, i;
	struct pending pd;
	cairn_git_entry e;
	bool again = false;
	int rc, more;

	memset(&pd, 0, sizeof(pd));
	if ((rc = cairn_git__tree_open(&it, trees, id)) < 0)
		return rc;
scan:
	cairn_git__tree_rewind(&it);
	while (rc == 0 && (more = cairn_git__tree_next(&it, &e)) != 0) {
		const char *d;
		size_t dl;
		unsigned mode;

		if (more < 0) {
			rc = more;
			break;
		}
		mode = cairn_git__mode_normalize(e.mode);
		if (mode == GIT_FILEMODE_TREE) {
			if (again || depth >= MAX_DEPTH)
				continue;
		} else if (mode != GIT_FILEMODE_BLOB &&
			   mode != GIT_FILEMODE_BLOB_EXECUTABLE) {
			continue;
		} else if (v->counting) {
			/* every name is checked (Flyway's start with V) */
		} else if (!(dl = digits_of(&d, e.name, e.len)) ||
			   !below(v, d, dl)) {
			continue;
		} else if (!again) {
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
			rc = scan_tree(v, trees, &sub, rel, opts, depth + 1);
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
	cairn_git__tree_close(&it);
	return rc;
}

/* The id of the migrations subtree of a commit; zero when it has none. */
static int subtree_id_at(git_oid *out, cairn_git_trees *trees,
			 cairn_repo *repo, const char *commit, const char *dir)
{
	git_oid id, root;
	unsigned mode;
	int rc;

	memset(out, 0, sizeof(*out));
	if ((rc = cairn_repo__resolve_commit(&id, &root, repo, commit)) < 0)
		return rc;
	rc = cairn_git__tree_bypath(out, &mode, trees, &root, dir);
	if (rc < 0)
		cairn_error__detail("Reading '%s' at %s.", dir, commit);
	else if (!cairn_git__mode_is_tree(mode))
		memset(out, 0, sizeof(*out));
	return rc;
}

/* The scan of one commit with a reader of its own (see odb.h's modes). */
static int versions_with(struct vmax *v, cairn_repo *repo, const char *commit,
			 const char *dir, const cairn_prepush_options *opts,
			 cairn_git_odb_mode mode)
{
	cairn_buf rel = CAIRN_BUF_INIT;
	cairn_git_odb *odb = NULL;
	cairn_git_trees trees;
	bool counting = v->counting;
	git_oid id;
	int rc;

	memset(v, 0, sizeof(*v));
	v->counting = counting;
	if ((rc = cairn_git__odb_new(&odb, repo->git, repo->path, 0, mode)) < 0)
		return rc;
	cairn_git__trees_init(&trees, odb);
	rc = subtree_id_at(&id, &trees, repo, commit, dir);
	if (rc == 0 && !git_oid_is_zero(&id))
		rc = scan_tree(v, &trees, &id, &rel, opts, 0);
	cairn_git__trees_dispose(&trees);
	cairn_git__odb_free(odb);
	cairn_buf_dispose(&rel);
	return rc;
}

/*
 * The highest version of the up files at a commit, skipping what loading
 * skips.  Reads raw tree entries (no blob, no allocation per entry);
 * when that trips on anything, the same scan again with libgit2 alone
 * reading the objects, which reports what is wrong.
 */
int cairn_prepush__versions_at(struct vmax *v, cairn_repo *repo,
			       const char *commit, const char *dir,
			       const cairn_prepush_options *opts)
{
	int rc = versions_with(v, repo, commit, dir, opts, CAIRN_GIT_ODB_FAST);

	if (rc < 0 && rc != CAIRN_ENOTFOUND) {
		cairn_error_clear();
		rc = versions_with(v, repo, commit, dir, opts,
				   CAIRN_GIT_ODB_LIBGIT2);
	}
	return rc;
}
