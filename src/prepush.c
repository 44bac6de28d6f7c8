/*
 * prepush.c - the checks behind cairn's git hooks; see
 * include/cairn/prepush.h for what is checked and against which base.
 *
 * Input.  git's hook input is read strictly, line by line, with a cap on
 * the length of a line: fields are separated by exactly one space, ids
 * are 40 or 64 hex digits (stored lowercase), a CR before the LF is
 * dropped and an empty line is skipped.  Anything else is an error whose
 * message gives the line number and quotes (escaped, shortened) the
 * offending field, so a hook that is fed garbage says so instead of
 * letting a push through unchecked.
 *
 * Checks.  cairn_validate_run() reads every file of a set; a pre-push
 * check must cost what the push changes, so this file runs the same
 * checks (same codes and hints) on the migrations that are new or changed
 * since the base only:
 *
 *   1. the two migrations subtrees are compared (cairn_range_diff(): ids
 *      first, then only differing subtrees): equal ids end the check;
 *   2. the fast path: when every difference is a well-named file added
 *      with a version the base lacks and above its highest (versions are
 *      read from the base's tree entries, no allocation per entry), a
 *      set holding only those migrations is built here (partial_set())
 *      and only their files are read.  With 10,000 migrations, listing
 *      two whole sets costs ~35 ms; this costs the two tree reads;
 *   3. otherwise both sets are listed by name (no contents); a migration
 *      is "touched" when its version is new or its up or down blob
 *      differs; touched migrations are read (size, NULs, UTF-8,
 *      directives); the set's findings are kept, less those the base set
 *      has too; deletions, edits, renames and out-of-order versions are
 *      found by comparing versions and blob ids with the base set.
 *
 * Anything the fast path is unsure of (a deletion, an edit, a rename, a
 * bad name, a duplicate, an ignored or hidden path, a down file for an
 * older migration, an out-of-order version) sends the update down the
 * general path, so the findings always come from one place.
 *
 * Finding the base of a new ref walks from the pushed commit with every
 * remote-tracking ref of the remote hidden (libgit2's revwalk stops where
 * their histories begin); the parents of walked commits that were not
 * walked themselves are the boundary, the newest commits the remote is
 * known to have.
 *
 * The database checks use the tracking table only when it exists (a hook
 * never creates cairn's schema) and reuse cairn_status_compute(), which
 * reads a file only when its blob differs from the applied one.
 */
#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <git2.h>

#include "cairn/prepush.h"
#include "cairn/range.h"
#include "buf.h"
#include "db.h"
#include "error.h"
#include "migration_internal.h"
#include "repo_internal.h"
#include "util.h"
#include "version_check.h"

/* How many commits blame walks without a base (a first push). */
#define BLAME_MAX_COMMITS 50000

/* ---- input ------------------------------------------------------------ */

bool cairn_oid_hex_is_zero(const char *hex)
{
	if (!hex || !*hex)
		return true;
	for (; *hex; hex++)
		if (*hex != '0')
			return false;
	return true;
}

/* Quotes a field for a message: escaped, at most 60 bytes of it. */
static int quote_field(cairn_buf *out, const char *s, size_t len)
{
	bool cut = len > 60;

	if (cairn_buf_putc(out, '\'') < 0 ||
	    cairn_migration__quote(out, s, cut ? 60 : len) < 0 ||
	    (cut && cairn_buf_puts(out, "...") < 0))
		return CAIRN_ERROR;
	return cairn_buf_putc(out, '\'');
}

static int input_error(const char *what, unsigned line, const char *reason,
		       const char *field, size_t field_len, const char *format)
{
	cairn_buf q = CAIRN_BUF_INIT;

	if (field && quote_field(&q, field, field_len) < 0)
		return CAIRN_ERROR;
	if (field)
		cairn_error__set(CAIRN_ERRCLASS_USAGE,
				 "malformed %s input on line %u: %s %s", what,
				 line, q.ptr, reason);
	else
		cairn_error__set(CAIRN_ERRCLASS_USAGE,
				 "malformed %s input on line %u: %s", what,
				 line, reason);
	cairn_error__detail("git writes one line per ref: '%s'.", format);
	cairn_buf_dispose(&q);
	return CAIRN_ERROR;
}

static bool is_hex_id(const char *s, size_t len)
{
	size_t i;

	if (len != 40 && len != 64)
		return false;
	for (i = 0; i < len; i++) {
		char c = s[i];

		if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') ||
		      (c >= 'A' && c <= 'F')))
			return false;
	}
	return true;
}

/* git refuses control characters in ref names (git check-ref-format). */
static bool has_control(const char *s, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++)
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
			return true;
	return false;
}

static void copy_id(char out[CAIRN_OID_HEXSZ], const char *s, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++)
		out[i] = (s[i] >= 'A' && s[i] <= 'F') ? (char)(s[i] + 32) : s[i];
	out[len] = '\0';
}

struct field {
	const char *p;
	size_t len;
};

struct line_reader {
	const char *data;
	size_t len;
	size_t pos;
	unsigned line;
	const char *what;
	const char *format;
};

/*
 * The next non-empty line without its LF (and CR): 1, 0 at the end, or
 * CAIRN_ERROR for a line that is too long or holds a NUL byte.
 */
static int next_line(struct line_reader *r, const char **p, size_t *n)
{
	while (r->pos < r->len) {
		const char *s = r->data + r->pos;
		const char *nl = memchr(s, '\n', r->len - r->pos);
		size_t l = nl ? (size_t)(nl - s) : r->len - r->pos;

		r->line++;
		r->pos += l + (nl ? 1 : 0);
		if (l && s[l - 1] == '\r')
			l--;
		if (l > CAIRN_PREPUSH_MAX_LINE) {
			char reason[64];

			snprintf(reason, sizeof(reason),
				 "the line is longer than %d bytes",
				 CAIRN_PREPUSH_MAX_LINE);
			return input_error(r->what, r->line, reason, NULL, 0,
					   r->format);
		}
		if (memchr(s, '\0', l))
			return input_error(r->what, r->line,
					   "the line contains a NUL byte", NULL,
					   0, r->format);
		if (!l)
			continue;
		*p = s;
		*n = l;
		return 1;
	}
	return 0;
}

/* Splits at single spaces; at most max fields, the last takes the rest. */
static int split(struct field *f, size_t max, const char *p, size_t n,
		 size_t *count)
{
	size_t k = 0;

	while (k < max) {
		const char *sp = k + 1 < max ? memchr(p, ' ', n) : NULL;
		size_t l = sp ? (size_t)(sp - p) : n;

		f[k].p = p;
		f[k].len = l;
		k++;
		if (!sp)
			break;
		p = sp + 1;
		n -= l + 1;
	}
	*count = k;
	for (size_t i = 0; i < k; i++)
		if (!f[i].len)
			return -1;
	return 0;
}

int cairn_prepush_parse(cairn_push_updates *out, const char *data,
			size_t len)
{
	static const char format[] =
		"<local ref> <local sha> <remote ref> <remote sha>";
	struct line_reader r = { data, len, 0, 0, "pre-push", format };
	const char *p;
	size_t n;
	int rc;

	while ((rc = next_line(&r, &p, &n)) == 1) {
		struct field f[5];
		cairn_push_update *u;
		size_t count;

		if (split(f, 5, p, n, &count) < 0 || count != 4)
			return input_error(r.what, r.line, count > 4 ?
				"expected 4 fields separated by single spaces, found more" :
				"expected 4 fields separated by single spaces",
				NULL, 0, format);
		if (has_control(f[0].p, f[0].len))
			return input_error(r.what, r.line,
				"is not a ref name (it holds a control character)",
				f[0].p, f[0].len, format);
		if (has_control(f[2].p, f[2].len))
			return input_error(r.what, r.line,
				"is not a ref name (it holds a control character)",
				f[2].p, f[2].len, format);
		if (!is_hex_id(f[1].p, f[1].len))
			return input_error(r.what, r.line,
				"is not an object id (40 or 64 hexadecimal digits)",
				f[1].p, f[1].len, format);
		if (!is_hex_id(f[3].p, f[3].len))
			return input_error(r.what, r.line,
				"is not an object id (40 or 64 hexadecimal digits)",
				f[3].p, f[3].len, format);
		if (f[1].len != f[3].len)
			return input_error(r.what, r.line,
				"the two object ids differ in length", NULL, 0,
				format);
		if (cairn__grow_array((void **)&out->items, &out->alloc,
				      out->count + 1, sizeof(*out->items)) < 0)
			return CAIRN_ERROR;
		u = &out->items[out->count];
		memset(u, 0, sizeof(*u));
		u->local_ref = cairn__strndup(f[0].p, f[0].len);
		u->remote_ref = cairn__strndup(f[2].p, f[2].len);
		if (!u->local_ref || !u->remote_ref) {
			free(u->local_ref);
			free(u->remote_ref);
			return CAIRN_ERROR;
		}
		copy_id(u->local_sha, f[1].p, f[1].len);
		copy_id(u->remote_sha, f[3].p, f[3].len);
		u->line = r.line;
		out->count++;
	}
	return rc;
}

void cairn_push_updates_dispose(cairn_push_updates *u)
{
	size_t i;

	if (!u)
		return;
	for (i = 0; i < u->count; i++) {
		free(u->items[i].local_ref);
		free(u->items[i].remote_ref);
	}
	free(u->items);
	memset(u, 0, sizeof(*u));
}

int cairn_rewrite_parse(cairn_rewrites *out, const char *data, size_t len)
{
	static const char format[] = "<old sha> <new sha> [<extra info>]";
	struct line_reader r = { data, len, 0, 0, "post-rewrite", format };
	const char *p;
	size_t n;
	int rc;

	while ((rc = next_line(&r, &p, &n)) == 1) {
		struct field f[3];
		cairn_rewrite *w;
		size_t count;

		if (split(f, 3, p, n, &count) < 0 || count < 2)
			return input_error(r.what, r.line,
				"expected two object ids separated by a space",
				NULL, 0, format);
		if (!is_hex_id(f[0].p, f[0].len))
			return input_error(r.what, r.line,
				"is not an object id (40 or 64 hexadecimal digits)",
				f[0].p, f[0].len, format);
		if (!is_hex_id(f[1].p, f[1].len))
			return input_error(r.what, r.line,
				"is not an object id (40 or 64 hexadecimal digits)",
				f[1].p, f[1].len, format);
		if (cairn__grow_array((void **)&out->items, &out->alloc,
				      out->count + 1, sizeof(*out->items)) < 0)
			return CAIRN_ERROR;
		w = &out->items[out->count++];
		copy_id(w->old_sha, f[0].p, f[0].len);
		copy_id(w->new_sha, f[1].p, f[1].len);
	}
	return rc;
}

void cairn_rewrites_dispose(cairn_rewrites *r)
{
	if (!r)
		return;
	free(r->items);
	memset(r, 0, sizeof(*r));
}

/* ---- versions from tree entries ------------------------------------- */

/* As src/migration.c: the default cap on a migration file. */
#define DEFAULT_MAX_FILE_SIZE ((size_t)64 * 1024 * 1024)
/* Bigger pushes take the general path; it costs the same then. */
#define FAST_MAX_CHANGES 512
#define MAX_DEPTH 64

typedef char version_t[21]; /* normalized: 1-20 digits */

/* The up files of a tree: the highest version ("" when none), and when
 * `counting`, how many there are. */
struct vmax {
	version_t max;
	size_t count;
	bool counting;
};

static void normalize(version_t out, const char *digits, size_t len)
{
	while (len > 1 && *digits == '0') {
		digits++;
		len--;
	}
	memcpy(out, digits, len);
	out[len] = '\0';
}

/* What loading skips: see ignored() in src/migration.c. */
static bool skipped(const cairn_prepush_options *opts, const char *rel,
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

	if (skipped(opts, rel, base) ||
	    !cairn_migration_parse_filename(base, &vlen, NULL, NULL, &down) ||
	    down)
		return;
	normalize(ver, base, vlen);
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

			if (skipped(opts, rel->ptr, base))
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

			if (skipped(opts, rel->ptr, e.name))
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
static int versions_at(struct vmax *v, cairn_repo *repo, const char *commit,
		       const char *dir, const cairn_prepush_options *opts)
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

/* ---- the fast path ---------------------------------------------------- */

/*
 * A set that holds only some migrations of a commit, built here instead
 * of by cairn_migration_set_load() so that a push of 10 migrations into
 * a project of 10,000 does not list 10,000 files.  It has everything
 * cairn_migration_load_content() and cairn_migration_set_free() use (see
 * migration_internal.h); fields it does not fill stay zero.
 */
static int partial_set(cairn_migration_set **out, cairn_repo *repo,
		       const char *commit, const char *dir)
{
	cairn_migration_set *set;

	*out = NULL;
	set = cairn__calloc(1, sizeof(*set));
	if (!set)
		return CAIRN_ERROR;
	git_libgit2_init(); /* cairn_migration_set_free() shuts it down */
	set->dir = cairn__strdup(dir);
	snprintf(set->commit, sizeof(set->commit), "%s", commit);
	set->max_file_size = DEFAULT_MAX_FILE_SIZE;
	if (!set->dir) {
		cairn_migration_set_free(set);
		return CAIRN_ERROR;
	}
	if (git_repository_odb(&set->odb, cairn_repo__git(repo)) < 0) {
		cairn_migration_set_free(set);
		return cairn_repo__error("cannot open the object database");
	}
	*out = set;
	return 0;
}

static int migration_cmp(const void *a, const void *b)
{
	return cairn__version_cmp(((const cairn_migration *)a)->version,
				  ((const cairn_migration *)b)->version);
}

/* One added file of the diff, split into its parts. */
struct added {
	const cairn_range_file *f;
	const char *rel;      /* below the directory */
	const char *base;     /* the file name */
	version_t version;
	size_t vlen;
	const char *name;
	size_t nlen;
	bool down;
	size_t sublen;        /* length of the subdirectory part of rel */
};

/* Whether a path the push added is a plain, well-named migration file. */
static bool plain_addition(struct added *a, const cairn_range_file *f,
			   size_t dirlen, const cairn_prepush_options *opts)
{
	cairn_buf prefix = CAIRN_BUF_INIT;
	const char *p, *slash;
	bool ok = true;

	if (f->first_kind != CAIRN_RANGE_ADDED ||
	    (f->mode != GIT_FILEMODE_BLOB &&
	     f->mode != GIT_FILEMODE_BLOB_EXECUTABLE))
		return false;
	a->f = f;
	a->rel = f->path + dirlen;
	p = strrchr(a->rel, '/');
	a->base = p ? p + 1 : a->rel;
	a->sublen = p ? (size_t)(p - a->rel) : 0;
	if (!cairn_migration_parse_filename(a->base, &a->vlen, &a->name,
					    &a->nlen, &a->down))
		return false;
	normalize(a->version, a->base, a->vlen);
	/* every directory on the way, and the file, must be read by loading */
	for (p = a->rel; ok && (slash = strchr(p, '/')); p = slash + 1) {
		char *comp = cairn__strndup(p, (size_t)(slash - p));

		cairn_buf_clear(&prefix);
		ok = comp && cairn_buf_put(&prefix, a->rel,
					   (size_t)(slash - a->rel)) == 0 &&
		     !skipped(opts, prefix.ptr, comp);
		free(comp);
	}
	cairn_buf_dispose(&prefix);
	if (!ok)
		cairn_error_clear();
	return ok && !skipped(opts, a->rel, a->base);
}

static bool same_migration(const struct added *up, const struct added *d)
{
	return !strcmp(up->version, d->version) && up->nlen == d->nlen &&
	       !memcmp(up->name, d->name, up->nlen) &&
	       up->sublen == d->sublen &&
	       !memcmp(up->rel, d->rel, up->sublen);
}

static int fill_migration(cairn_migration *m, const struct added *up,
			  const struct added *down)
{
	m->version = cairn__strdup(up->version);
	m->version_text = cairn__strndup(up->base, up->vlen);
	m->name = cairn__strndup(up->name, up->nlen);
	m->subdir = cairn__strndup(up->rel, up->sublen);
	m->up_path = cairn__strdup(up->f->path);
	snprintf(m->up_blob, sizeof(m->up_blob), "%s", up->f->blob);
	if (down) {
		m->down_path = cairn__strdup(down->f->path);
		snprintf(m->down_blob, sizeof(m->down_blob), "%s",
			 down->f->blob);
	}
	if (!m->version || !m->version_text || !m->name || !m->subdir ||
	    !m->up_path || (down && !m->down_path))
		return CAIRN_ERROR;
	return 0;
}

/*
 * The fast path (see prepush.h).  Returns 1 when it decided the update,
 * 0 when the general path must run (nothing is kept then), or an error.
 */
static int fast_check(cairn_prepush_result *r, cairn_repo *repo,
		      const cairn_push_update *u,
		      const cairn_prepush_options *opts, const char *dir)
{
	cairn_range_options ro = CAIRN_RANGE_OPTIONS_INIT;
	cairn_range diff = CAIRN_RANGE_INIT;
	struct vmax base = { "", 0, false };
	struct added *adds = NULL;
	cairn_migration_set *set = NULL;
	size_t i, j, nup = 0, dirlen = *dir ? strlen(dir) + 1 : 0;
	int rc;

	ro.dir = dir;
	if ((rc = cairn_range_diff(&diff, repo, r->base, u->local_sha,
				   &ro)) < 0)
		return rc;
	if ((rc = partial_set(&set, repo, u->local_sha, dir)) < 0)
		goto out;
	if (!diff.diffed) {
		r->unchanged = true;
		rc = 1;
		goto out;
	}
	rc = 0;
	if (!diff.count || diff.count > FAST_MAX_CHANGES)
		goto out;
	adds = cairn__calloc(diff.count, sizeof(*adds));
	if (!adds) {
		rc = CAIRN_ERROR;
		goto out;
	}
	for (i = 0; i < diff.count; i++) {
		if (!plain_addition(&adds[i], &diff.files[i], dirlen, opts))
			goto out;
		nup += !adds[i].down;
	}
	if ((rc = versions_at(&base, repo, r->base, dir, opts)) < 0)
		goto out;
	/* new versions only, each once, above the base's highest */
	for (i = 0; i < diff.count; i++) {
		if (adds[i].down)
			continue;
		if (base.max[0] &&
		    cairn__version_cmp(adds[i].version, base.max) <= 0)
			goto out;
		for (j = 0; j < i; j++)
			if (!adds[j].down &&
			    !strcmp(adds[j].version, adds[i].version))
				goto out;
	}
	set->items = cairn__calloc(nup ? nup : 1, sizeof(*set->items));
	if (!set->items) {
		rc = CAIRN_ERROR;
		goto out;
	}
	/* every down file pairs with an added up file */
	for (i = 0; i < diff.count; i++) {
		const struct added *down = NULL;

		if (adds[i].down) {
			for (j = 0; j < diff.count; j++)
				if (!adds[j].down &&
				    same_migration(&adds[j], &adds[i]))
					break;
			if (j == diff.count)
				goto out;
			continue;
		}
		for (j = 0; j < diff.count && !down; j++)
			if (adds[j].down && same_migration(&adds[i], &adds[j]))
				down = &adds[j];
		if ((rc = fill_migration(&set->items[set->count++], &adds[i],
					 down)) < 0)
			goto out;
	}
	qsort(set->items, set->count, sizeof(*set->items), migration_cmp);
	rc = 1;
out:
	if (rc == 1) {
		r->set = set;
		r->partial = true;
		set = NULL;
	}
	cairn_migration_set_free(set);
	free(adds);
	cairn_range_dispose(&diff);
	return rc;
}

/* ---- finding the base ------------------------------------------------- */

/*
 * The commit an id names, peeling tags (a pushed annotated tag names a
 * tag object); false when the object is absent or peels to no commit.
 */
static bool peel_commit(char out[CAIRN_OID_HEXSZ], cairn_repo *repo,
			const char *hex)
{
	git_object *obj = NULL, *peeled = NULL;
	git_oid id;
	bool ok;

	if (git_oid_fromstr(&id, hex) < 0 ||
	    git_object_lookup(&obj, cairn_repo__git(repo), &id,
			      GIT_OBJECT_ANY) < 0) {
		git_error_clear();
		return false;
	}
	ok = git_object_peel(&peeled, obj, GIT_OBJECT_COMMIT) == 0;
	if (ok)
		git_oid_tostr(out, CAIRN_OID_HEXSZ, git_object_id(peeled));
	else
		git_error_clear();
	git_object_free(peeled);
	git_object_free(obj);
	return ok;
}

static bool object_exists(cairn_repo *repo, const char *hex)
{
	git_object *obj = NULL;
	git_oid id;

	if (git_oid_fromstr(&id, hex) < 0 ||
	    git_object_lookup(&obj, cairn_repo__git(repo), &id,
			      GIT_OBJECT_ANY) < 0) {
		git_error_clear();
		return false;
	}
	git_object_free(obj);
	return true;
}

static int oid_cmp(const void *a, const void *b)
{
	return git_oid_cmp(a, b);
}

struct oids {
	git_oid *items;
	size_t count, alloc;
};

static int oids_add(struct oids *v, const git_oid *id)
{
	if (cairn__grow_array((void **)&v->items, &v->alloc, v->count + 1,
			      sizeof(*v->items)) < 0)
		return CAIRN_ERROR;
	git_oid_cpy(&v->items[v->count++], id);
	return 0;
}

static bool oids_has_sorted(const struct oids *v, const git_oid *id)
{
	return v->count &&
	       bsearch(id, v->items, v->count, sizeof(*id), oid_cmp) != NULL;
}

/* refs/remotes/<remote>/ as a glob, with the remote's name escaped. */
static int tracking_glob(cairn_buf *out, const char *remote)
{
	const char *p;

	if (cairn_buf_puts(out, "refs/remotes/") < 0)
		return CAIRN_ERROR;
	for (p = remote; *p; p++) {
		if (strchr("*?[]\\", *p) && cairn_buf_putc(out, '\\') < 0)
			return CAIRN_ERROR;
		if (cairn_buf_putc(out, *p) < 0)
			return CAIRN_ERROR;
	}
	return cairn_buf_puts(out, "/*");
}

/* The commits the remote-tracking refs of remote point at. */
static int tracking_tips(struct oids *out, cairn_repo *repo,
			 const char *remote)
{
	git_repository *git = cairn_repo__git(repo);
	git_reference_iterator *it = NULL;
	git_reference *ref = NULL;
	cairn_buf glob = CAIRN_BUF_INIT;
	int rc;

	if (!remote || !*remote)
		return 0;
	if (tracking_glob(&glob, remote) < 0)
		return CAIRN_ERROR;
	if (git_reference_iterator_glob_new(&it, git, glob.ptr) < 0) {
		rc = cairn_repo__error("cannot list the refs of remote '%s'",
				       remote);
		goto out;
	}
	while ((rc = git_reference_next(&ref, it)) == 0) {
		git_object *obj = NULL;

		if (git_reference_type(ref) == GIT_REFERENCE_DIRECT &&
		    git_reference_peel(&obj, ref, GIT_OBJECT_COMMIT) == 0) {
			rc = oids_add(out, git_object_id(obj));
			git_object_free(obj);
			if (rc < 0) {
				git_reference_free(ref);
				goto out;
			}
		}
		git_error_clear();
		git_reference_free(ref);
		ref = NULL;
	}
	if (rc != GIT_ITEROVER) {
		rc = cairn_repo__error("cannot list the refs of remote '%s'",
				       remote);
		goto out;
	}
	git_error_clear();
	rc = 0;
out:
	git_reference_iterator_free(it);
	cairn_buf_dispose(&glob);
	return rc;
}

static int load_set(cairn_migration_set **out, cairn_repo *repo,
		    const char *rev, const cairn_prepush_options *opts)
{
	cairn_load_options lo = CAIRN_LOAD_OPTIONS_INIT;

	lo.rev = rev;
	lo.dir = opts->dir;
	lo.ignore = opts->ignore;
	lo.ignore_count = opts->ignore_count;
	return cairn_migration_set_load(out, repo, &lo);
}

static int set_hidden(cairn_prepush_result *r, const struct oids *tips)
{
	size_t i;

	r->hidden = cairn__calloc(tips->count + 1, sizeof(*r->hidden));
	if (!r->hidden)
		return CAIRN_ERROR;
	for (i = 0; i < tips->count; i++) {
		r->hidden[i] = cairn__calloc(1, GIT_OID_HEXSZ + 1);
		if (!r->hidden[i])
			return CAIRN_ERROR;
		git_oid_tostr(r->hidden[i], GIT_OID_HEXSZ + 1,
			      &tips->items[i]);
		r->hidden_count++;
	}
	return 0;
}

/*
 * The base of a ref the remote does not have (or has at a commit we do
 * not know): the boundary of the remote-tracking refs' history.
 */
static int tracking_base(cairn_prepush_result *r, cairn_repo *repo,
			 const cairn_push_update *u,
			 const cairn_prepush_options *opts, const char *dir)
{
	git_repository *git = cairn_repo__git(repo);
	struct oids tips = { NULL, 0, 0 }, walked = { NULL, 0, 0 };
	struct oids boundary = { NULL, 0, 0 };
	git_revwalk *rw = NULL;
	git_oid id;
	size_t i, best_count = 0;
	int64_t best_time = 0;
	int rc;

	r->base_kind = CAIRN_PREPUSH_NO_BASE;
	if ((rc = tracking_tips(&tips, repo, opts->remote)) < 0 || !tips.count)
		goto out;
	if ((rc = set_hidden(r, &tips)) < 0)
		goto out;
	if (git_revwalk_new(&rw, git) < 0 ||
	    git_oid_fromstr(&id, u->local_sha) < 0 ||
	    git_revwalk_push(rw, &id) < 0) {
		rc = cairn_repo__error("cannot walk from %s", u->local_sha);
		goto out;
	}
	for (i = 0; i < tips.count; i++) {
		if (git_revwalk_hide(rw, &tips.items[i]) < 0) {
			rc = cairn_repo__error("cannot walk the history of "
					       "remote '%s'", opts->remote);
			goto out;
		}
	}
	while ((rc = git_revwalk_next(&id, rw)) == 0)
		if ((rc = oids_add(&walked, &id)) < 0)
			goto out;
	if (rc != GIT_ITEROVER) {
		rc = cairn_repo__error("cannot walk from %s", u->local_sha);
		goto out;
	}
	git_error_clear();
	rc = 0;
	if (!walked.count) {
		/* the remote already has the pushed commit */
		r->base_kind = CAIRN_PREPUSH_TRACKING;
		snprintf(r->base, sizeof(r->base), "%s", u->local_sha);
		goto out;
	}
	qsort(walked.items, walked.count, sizeof(*walked.items), oid_cmp);
	for (i = 0; i < walked.count; i++) {
		git_commit *c = NULL;
		unsigned k, np;

		if (git_commit_lookup(&c, git, &walked.items[i]) < 0) {
			rc = cairn_repo__error("cannot read commit %s",
				git_oid_tostr_s(&walked.items[i]));
			goto out;
		}
		np = git_commit_parentcount(c);
		for (k = 0; k < np && rc == 0; k++) {
			const git_oid *p = git_commit_parent_id(c, k);
			size_t j;
			bool dup = false;

			if (oids_has_sorted(&walked, p))
				continue;
			for (j = 0; j < boundary.count && !dup; j++)
				dup = git_oid_equal(&boundary.items[j], p);
			if (!dup)
				rc = oids_add(&boundary, p);
		}
		git_commit_free(c);
		if (rc < 0)
			goto out;
	}
	/*
	 * several boundaries: the one with the most migrations (counted from
	 * tree entries), then the newest
	 */
	for (i = 0; i < boundary.count; i++) {
		struct vmax v = { "", 0, true };
		git_commit *c = NULL;
		char hex[CAIRN_OID_HEXSZ];
		int64_t when = 0;

		git_oid_tostr(hex, sizeof(hex), &boundary.items[i]);
		if (git_commit_lookup(&c, git, &boundary.items[i]) < 0) {
			git_error_clear();
			continue; /* the edge of a shallow clone */
		}
		when = git_commit_time(c);
		git_commit_free(c);
		if (boundary.count > 1 &&
		    (rc = versions_at(&v, repo, hex, dir, opts)) < 0)
			goto out;
		if (!r->base[0] || v.count > best_count ||
		    (v.count == best_count && when > best_time)) {
			best_count = v.count;
			best_time = when;
			snprintf(r->base, sizeof(r->base), "%s", hex);
		}
	}
	if (r->base[0])
		r->base_kind = CAIRN_PREPUSH_TRACKING;
out:
	git_revwalk_free(rw);
	free(tips.items);
	free(walked.items);
	free(boundary.items);
	return rc;
}

/* ---- the checks ------------------------------------------------------- */

static bool same_finding(const cairn_finding *a, const cairn_finding *b)
{
	return !strcmp(a->code, b->code) &&
	       !strcmp(a->file ? a->file : "", b->file ? b->file : "") &&
	       !strcmp(a->message, b->message);
}

/* The set's findings, less those the base already had. */
static int copy_new_findings(cairn_prepush_result *r)
{
	const cairn_findings *now = cairn_migration_set_findings(r->set);
	const cairn_findings *before =
		r->base_set ? cairn_migration_set_findings(r->base_set) : NULL;
	size_t i, j;

	for (i = 0; i < now->count; i++) {
		const cairn_finding *f = &now->items[i];
		bool old = false;

		for (j = 0; before && j < before->count && !old; j++)
			old = same_finding(f, &before->items[j]);
		if (old)
			continue;
		if (cairn_findings_add(&r->findings, f->code, f->severity,
				       f->file, f->line, f->version, f->hint,
				       f->commit, "%s", f->message) < 0)
			return CAIRN_ERROR;
	}
	return 0;
}

static int find_touched(cairn_prepush_result *r)
{
	size_t i, n = cairn_migration_set_count(r->set);

	r->touched = cairn__calloc(n + 1, sizeof(*r->touched));
	if (!r->touched)
		return CAIRN_ERROR;
	for (i = 0; i < n; i++) {
		cairn_migration *m = cairn_migration_set_get(r->set, i);
		cairn_migration *b = r->base_set ?
			cairn_migration_set_find(r->base_set, m->version) : NULL;

		if (b && !strcmp(b->up_blob, m->up_blob) &&
		    !strcmp(b->down_blob, m->down_blob))
			continue;
		r->touched[r->touched_count++] = m;
	}
	return 0;
}

/* The comparison with the base, as in src/validate.c. */
static int check_base(cairn_prepush_result *r,
		      const cairn_prepush_options *opts)
{
	cairn_migration_set *base = r->base_set, *set = r->set;
	const char *base_max = cairn_migration_set_max_version(base);
	char base_name[64];
	size_t i, n;
	int rc = 0;

	snprintf(base_name, sizeof(base_name), "it was pushed (%.12s)",
		 r->base);
	n = cairn_migration_set_count(base);
	for (i = 0; i < n && rc == 0; i++) {
		cairn_migration *b = cairn_migration_set_get(base, i);
		cairn_migration *m = cairn_migration_set_find(set, b->version);

		if (!m) {
			rc = cairn_findings_add(&r->findings,
				"deleted-after-push", CAIRN_SEVERITY_ERROR,
				b->up_path, 0, b->version,
				"migrations that may have been applied must stay; restore the file and add a new migration that undoes it instead",
				NULL, "migration %s_%s was deleted after %s",
				b->version_text, b->name, base_name);
		} else if (strcmp(m->up_blob, b->up_blob) && m->up_blob[0] &&
			   b->up_blob[0]) {
			rc = cairn_findings_add(&r->findings,
				"edited-after-push", CAIRN_SEVERITY_ERROR,
				m->up_path, 0, m->version,
				"restore the file as it was (git checkout <base> -- <file>), put the change in a new migration (cairn new NAME), and amend or rebase the commits you push",
				NULL, "migration %s_%s was edited after %s",
				m->version_text, m->name, base_name);
		} else if (strcmp(m->up_path, b->up_path)) {
			rc = cairn_findings_add(&r->findings,
				"renamed-after-push", CAIRN_SEVERITY_WARNING,
				m->up_path, 0, m->version, NULL, NULL,
				"migration %s was renamed after %s",
				m->version_text, base_name);
		}
	}
	if (rc < 0 || !base_max)
		return rc;
	for (i = 0; i < r->touched_count && rc == 0; i++) {
		cairn_migration *m = r->touched[i];

		if (cairn_migration_set_find(base, m->version) ||
		    cairn__version_cmp(m->version, base_max) >= 0)
			continue;
		rc = cairn_findings_add(&r->findings, "out-of-order",
			opts->allow_out_of_order ? CAIRN_SEVERITY_WARNING
						 : CAIRN_SEVERITY_ERROR,
			m->up_path, 0, m->version,
			"renumber it above the highest version (cairn new gives the next one), or set allow_out_of_order for the environment",
			NULL,
			"new migration %s_%s is numbered below %s, the highest the remote has (%.12s)",
			m->version_text, m->name, base_max, r->base);
	}
	return rc;
}

int cairn_prepush_check(cairn_prepush_result *out, cairn_repo *repo,
			const cairn_push_update *u,
			const cairn_prepush_options *opts)
{
	cairn_prepush_options defaults = CAIRN_PREPUSH_OPTIONS_INIT;
	cairn_push_update peeled;
	char *dir = NULL;
	size_t i;
	int rc;

	memset(out, 0, sizeof(*out));
	if (!opts)
		opts = &defaults;
	CAIRN__CHECK_VERSION(opts, CAIRN_PREPUSH_OPTIONS_VERSION,
			     "cairn_prepush_options");
	if (cairn_oid_hex_is_zero(u->local_sha)) {
		out->base_kind = CAIRN_PREPUSH_DELETE;
		return 0;
	}
	dir = cairn_migration__normalize_dir(opts->dir ? opts->dir
						       : "db/migrations");
	if (!dir)
		return CAIRN_ERROR;
	/* from here on the ids name commits: tags are peeled */
	peeled = *u;
	if (!peel_commit(peeled.local_sha, repo, u->local_sha)) {
		if (object_exists(repo, u->local_sha)) {
			/* a tag of a tree or a blob: no migrations */
			out->base_kind = CAIRN_PREPUSH_NOT_COMMIT;
			rc = 0;
			goto out;
		}
		cairn_error__set(CAIRN_ERRCLASS_GIT,
				 "cannot find commit %s, which git is pushing",
				 u->local_sha);
		rc = CAIRN_ENOTFOUND;
		goto out;
	}
	if (!cairn_oid_hex_is_zero(u->remote_sha) &&
	    !peel_commit(peeled.remote_sha, repo, u->remote_sha)) {
		out->remote_unknown = !object_exists(repo, u->remote_sha);
		memset(peeled.remote_sha, '0', strlen(u->remote_sha));
	}
	u = &peeled;
	if (!cairn_oid_hex_is_zero(u->remote_sha)) {
		out->base_kind = CAIRN_PREPUSH_REMOTE;
		memcpy(out->base, u->remote_sha, sizeof(out->base));
		out->base[sizeof(out->base) - 1] = '\0';
		out->hidden = cairn__calloc(2, sizeof(*out->hidden));
		if (!out->hidden ||
		    !(out->hidden[0] = cairn__strdup(u->remote_sha))) {
			rc = CAIRN_ERROR;
			goto out;
		}
		out->hidden_count = 1;
	} else if ((rc = tracking_base(out, repo, u, opts, dir)) < 0) {
		goto out;
	}
	rc = out->base[0] ? fast_check(out, repo, u, opts, dir) : 0;
	if (rc < 0)
		goto out;
	if (rc == 0) {
		/* the general path */
		if ((rc = load_set(&out->set, repo, u->local_sha, opts)) < 0)
			goto out;
		if (out->base[0] && (rc = load_set(&out->base_set, repo,
						   out->base, opts)) < 0)
			goto out;
		if (out->base_set &&
		    !strcmp(cairn_migration_set_tree(out->set),
			    cairn_migration_set_tree(out->base_set))) {
			out->unchanged = true;
			goto out;
		}
	} else if (out->unchanged) {
		rc = 0;
		goto out;
	}
	if ((rc = find_touched(out)) < 0)
		goto out;
	for (i = 0; i < out->touched_count; i++)
		if ((rc = cairn_migration_load_content(out->set,
						       out->touched[i])) < 0)
			goto out;
	if ((rc = copy_new_findings(out)) < 0)
		goto out;
	for (i = 0; opts->require_down && i < out->touched_count; i++) {
		cairn_migration *m = out->touched[i];

		if (m->down_path)
			continue;
		rc = cairn_findings_add(&out->findings, "missing-down",
			CAIRN_SEVERITY_ERROR, m->up_path, 0, m->version,
			"add the down file next to the up file, or drop require_down from the environment",
			NULL, "migration %s_%s has no down file",
			m->version_text, m->name);
		if (rc < 0)
			goto out;
	}
	rc = out->base_set ? check_base(out, opts) : 0;
out:
	free(dir);
	if (rc < 0) {
		cairn_error_saved saved;

		cairn_error__save(&saved);
		cairn_prepush_result_dispose(out);
		cairn_error__restore(&saved);
	}
	return rc;
}

int cairn_prepush_blame(cairn_prepush_result *r, cairn_repo *repo,
			const cairn_prepush_options *opts)
{
	cairn_range_options ro = CAIRN_RANGE_OPTIONS_INIT;
	cairn_range range = CAIRN_RANGE_INIT;
	bool need = false;
	size_t i;
	int rc;

	CAIRN__CHECK_VERSION(opts, CAIRN_PREPUSH_OPTIONS_VERSION,
			     "cairn_prepush_options");
	if (!r->set)
		return 0;
	for (i = 0; i < r->findings.count && !need; i++)
		need = r->findings.items[i].file && !r->findings.items[i].commit;
	if (!need)
		return 0;
	ro.dir = opts ? opts->dir : NULL;
	ro.hide = (const char *const *)r->hidden;
	ro.hide_count = r->hidden_count;
	ro.max_commits = r->hidden_count ? 0 : BLAME_MAX_COMMITS;
	rc = cairn_range_changes(&range, repo, cairn_migration_set_commit(r->set),
				 &ro);
	for (i = 0; rc == 0 && i < r->findings.count; i++) {
		cairn_finding *f = &r->findings.items[i];
		const cairn_range_file *rf;

		if (!f->file || f->commit)
			continue;
		rf = cairn_range_find(&range, f->file);
		if (rf && !(f->commit = cairn__strdup(rf->first)))
			rc = CAIRN_ERROR;
	}
	cairn_range_dispose(&range);
	return rc;
}

/* ---- the database ----------------------------------------------------- */

static bool has_finding(const cairn_findings *fs, const char *code,
			const char *file)
{
	size_t i;

	for (i = 0; i < fs->count; i++)
		if (!strcmp(fs->items[i].code, code) && fs->items[i].file &&
		    file && !strcmp(fs->items[i].file, file))
			return true;
	return false;
}

static bool is_touched(const cairn_prepush_result *r,
		       const cairn_migration *m)
{
	size_t i;

	for (i = 0; i < r->touched_count; i++)
		if (!strcmp(r->touched[i]->version, m->version))
			return true;
	return false;
}

int cairn_prepush_check_applied(cairn_prepush_result *r, cairn_repo *repo,
				const cairn_prepush_options *opts,
				const cairn_applied_list *applied,
				const char *env)
{
	cairn_prepush_options defaults = CAIRN_PREPUSH_OPTIONS_INIT;
	cairn_migration_set *full = NULL, *set;
	cairn_status_entry *e = NULL;
	const char *max_applied = NULL;
	size_t n = 0, i;
	int rc = 0;

	CAIRN__CHECK_VERSION(opts, CAIRN_PREPUSH_OPTIONS_VERSION,
			     "cairn_prepush_options");
	if (!r->set)
		return 0;
	if (!opts)
		opts = &defaults;
	if (!env)
		env = "the database";
	set = r->set;
	if (r->partial) {
		/* every migration of the pushed commit is compared here */
		if (load_set(&full, repo, cairn_migration_set_commit(r->set),
			     opts) < 0)
			return CAIRN_ERROR;
		set = full;
	}
	if (cairn_status_compute(&e, &n, set, applied) < 0) {
		cairn_migration_set_free(full);
		return CAIRN_ERROR;
	}
	for (i = 0; i < applied->count; i++)
		if (!max_applied || cairn__version_cmp(applied->items[i].version,
						       max_applied) > 0)
			max_applied = applied->items[i].version;
	for (i = 0; i < n && rc == 0; i++) {
		const cairn_migration *m = e[i].migration;
		const cairn_applied *a = e[i].applied;

		switch (e[i].state) {
		case CAIRN_STATE_DRIFTED:
			rc = cairn_findings_add(&r->findings, "drift",
				CAIRN_SEVERITY_ERROR, m->up_path, 0, m->version,
				"restore the file as it was applied; if the edit is intended, record it with cairn repair --accept VERSION on that environment",
				NULL,
				"migration %s_%s differs from the one applied to %s (applied checksum %.12s)",
				m->version_text, m->name, env, a->checksum);
			break;
		case CAIRN_STATE_MISSING:
			rc = cairn_findings_add(&r->findings, "missing",
				CAIRN_SEVERITY_WARNING, NULL, 0, a->version,
				"merge or rebase onto the branch that added it before deploying from this one",
				a->commit_sha[0] ? a->commit_sha : NULL,
				"migration %s_%s is applied to %s but absent from the pushed commit",
				a->version, a->name, env);
			break;
		case CAIRN_STATE_PENDING:
			if (!e[i].out_of_order || !is_touched(r, m) ||
			    has_finding(&r->findings, "out-of-order",
					m->up_path))
				break;
			rc = cairn_findings_add(&r->findings, "out-of-order",
				opts->allow_out_of_order ? CAIRN_SEVERITY_WARNING
							 : CAIRN_SEVERITY_ERROR,
				m->up_path, 0, m->version,
				"renumber it above the highest applied version (cairn new gives the next one), or set allow_out_of_order for the environment",
				NULL,
				"new migration %s_%s is numbered below %s, the highest applied to %s",
				m->version_text, m->name,
				max_applied ? max_applied : "?", env);
			break;
		default:
			break;
		}
	}
	free(e);
	cairn_migration_set_free(full);
	return rc;
}

int cairn_prepush_applied_load(cairn_applied_list *out, bool *exists,
			       cairn_db *db)
{
	cairn_buf name = CAIRN_BUF_INIT;
	const char *params[1];
	PGresult *res = NULL;
	int rc;

	memset(out, 0, sizeof(*out));
	*exists = false;
	if (cairn_buf_printf(&name, "%s.migrations",
			     cairn_db__schema_ident(db)) < 0)
		return CAIRN_ERROR;
	params[0] = name.ptr;
	rc = cairn_db__query(db, &res,
			     "SELECT to_regclass($1) IS NOT NULL", 1, params);
	cairn_buf_dispose(&name);
	if (rc < 0)
		return rc;
	*exists = PQntuples(res) == 1 && PQgetvalue(res, 0, 0)[0] == 't';
	PQclear(res);
	if (!*exists)
		return 0;
	return cairn_applied_load_brief(out, db);
}

void cairn_prepush_result_dispose(cairn_prepush_result *r)
{
	size_t i;

	if (!r)
		return;
	cairn_migration_set_free(r->set);
	cairn_migration_set_free(r->base_set);
	free(r->touched);
	cairn_findings_dispose(&r->findings);
	for (i = 0; i < r->hidden_count; i++)
		free(r->hidden[i]);
	free(r->hidden);
	memset(r, 0, sizeof(*r));
}
