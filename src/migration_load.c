/*
 * migration_load.c - loading the set of migrations at one git revision
 * (or in the working tree): cairn_migration_set_load().
 *
 * Loading walks the migrations directory recursively, from the commit's
 * tree (through the git object layer, src/git/) or from the
 * working tree with lstat(2), and sorts every entry into one of three
 * piles:
 *
 *  - skipped: dotfiles and dot-directories, README* files, another
 *    dialect's files (`dialect:`, e.g. x.mysql.up.sql), and anything
 *    an ignore glob matches (fnmatch(3) against the base name and against
 *    the path below the migrations directory; a matching directory is
 *    skipped whole);
 *  - findings: a name that is not a migration file name in the layout
 *    (`<version>_<name>.(up|down).sql` in cairn's; cairn_layout in
 *    include/cairn/migration.h) ("bad-name"), a symbolic link ("symlink"), a submodule ("submodule"),
 *    something that is not a regular file ("unreadable");
 *  - migration files, which are then paired into migrations
 *    (src/migration_pair.c).
 *
 * No file content is read while loading (src/migration_content.c reads
 * it on demand).
 *
 * A configured directory that does not exist is a "missing-dir" finding
 * (a misspelled migrations_dir must not read as "nothing to apply").
 * In the working tree, every path component is opened with
 * O_NOFOLLOW|O_DIRECTORY relative to its parent's descriptor, so a
 * symbolic link on the way to or inside the directory cannot make cairn
 * read migrations from outside the repository; tree entries whose names
 * hold '/' are refused by the tree parser (src/git/tree.c).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cairn/migration.h"
#include "util/buf.h"
#include "util/error.h"
#include "migration_internal.h"
#include "migration_load.h"
#include "repo_internal.h"
#include "util/util.h"
#include "version_check.h"

#define DEFAULT_MAX_FILE_SIZE ((size_t)64 * 1024 * 1024)
#define MAX_DEPTH 64

/* What file names look like in each layout (cairn.yaml's layout:). */
static const char *name_hint(cairn_layout layout)
{
	switch (layout) {
	case CAIRN_LAYOUT_GOLANG_MIGRATE:
		return "in the golang-migrate layout migration files are named "
		       "<version>_<name>.up.sql and <version>_<name>.down.sql "
		       "(version: 1-20 digits), e.g. 0001_create_users.up.sql; "
		       "list other files under 'ignore:' in cairn.yaml";
	case CAIRN_LAYOUT_DBMATE:
		return "in the dbmate layout each migration is one file "
		       "<version>_<name>.sql (version: 1-20 digits) with "
		       "'-- migrate:up' and '-- migrate:down' sections; list "
		       "other files under 'ignore:' in cairn.yaml";
	case CAIRN_LAYOUT_FLYWAY:
		return "in the flyway layout migration files are named "
		       "V<version>__<description>.sql, with undo files "
		       "U<version>__<description>.sql (version: numbers of 1-20 "
		       "digits joined by '.' or '_'), e.g. V1__create_users.sql "
		       "or V1.2__add_email.sql; list other files under "
		       "'ignore:' in cairn.yaml";
	case CAIRN_LAYOUT_CAIRN:
	default:
		return "migration files are named <version>_<name>.up.sql and "
		       "<version>_<name>.down.sql (version: 1-20 digits, or "
		       "numbers joined by '.' as 1.2; name: "
		       "letters, digits, '_', '-' and '.'), e.g. "
		       "0001_create_users.up.sql; list other files under "
		       "'ignore:' in cairn.yaml (another tool's folder: set "
		       "'layout:')";
	}
}

enum kind { K_FILE, K_DIR, K_LINK, K_SUBMODULE, K_OTHER };

/* ---- scanning --------------------------------------------------------- */

static bool ignored(const cairn_load_options *opts, const char *rel,
		    const char *base)
{
	size_t i;

	for (i = 0; i < opts->ignore_count; i++) {
		const char *g = opts->ignore[i];

		if (!g || !*g)
			continue;
		if (fnmatch(g, base, 0) == 0 || fnmatch(g, rel, 0) == 0)
			return true;
	}
	return false;
}

static void file_dispose(struct file *f)
{
	/* a kept up file's strings belong to its migration now */
	if (f->kept)
		return;
	free(f->path);
	free(f->subdir);
	free(f->version);
	free(f->version_text);
	free(f->name);
}

char *cairn_migration__file_version(cairn_layout layout, const char *dir,
				    size_t dlen, const char *base,
				    const struct cairn_name_parts *np)
{
	cairn_buf b = CAIRN_BUF_INIT;
	char *v;

	if (!(layout & CAIRN_LAYOUT_PER_DIRECTORY) || !dlen)
		return cairn__version_normalize(base + np->vstart, np->vlen);
	if (cairn_buf_printf(&b, "%.*s/%.*s", (int)dlen, dir, (int)np->vlen,
			     base + np->vstart) < 0) {
		cairn_buf_dispose(&b);
		return NULL;
	}
	v = cairn__version_normalize(b.ptr, b.size);
	cairn_buf_dispose(&b);
	return v;
}

/*
 * The version as written, with its directory when per-directory; a '_'
 * between parts (Flyway's V1_2__x.sql) reads '.', as Flyway shows it,
 * so that a "<version>_<name>" label ends its version at the first '_'.
 */
static char *file_version_text(const struct loader *ld, const char *subdir,
			       const char *base,
			       const struct cairn_name_parts *np)
{
	cairn_buf b = CAIRN_BUF_INIT;
	size_t start;

	if ((ld->layout & CAIRN_LAYOUT_PER_DIRECTORY) && *subdir &&
	    cairn_buf_printf(&b, "%s/", subdir) < 0)
		goto fail;
	start = b.size;
	if (cairn_buf_put(&b, base + np->vstart, np->vlen) < 0)
		goto fail;
	for (size_t i = start; i < b.size; i++)
		if (b.ptr[i] == '_')
			b.ptr[i] = '.';
	return cairn_buf_detach(&b);
fail:
	cairn_buf_dispose(&b);
	return NULL;
}

/* Takes *path and *version over (sets them NULL) when it succeeds. */
static int add_file(struct loader *ld, char **path, char **version,
		    const char *subdir, const char *base, const char *blob)
{
	struct cairn_name_parts np;
	struct file *f;
	bool is_down;

	is_down = cairn_migration__parse_name(ld->layout, ld->dialect, base,
					      &np) == CAIRN_NAME_DOWN;
	if (cairn__grow_array((void **)&ld->files, &ld->afiles,
			      ld->nfiles + 1, sizeof(*f)) < 0)
		return CAIRN_ERROR;
	f = &ld->files[ld->nfiles];
	memset(f, 0, sizeof(*f));
	f->path = *path;
	f->version = *version;
	f->subdir = cairn__strdup(subdir);
	f->version_text = file_version_text(ld, subdir, base, &np);
	f->name = cairn__strndup(base + np.nstart, np.nlen);
	f->is_down = is_down;
	if (blob)
		memcpy(f->blob, blob, sizeof(f->blob));
	if (!f->subdir || !f->version_text || !f->name) {
		f->path = NULL; /* still the caller's */
		f->version = NULL;
		file_dispose(f);
		return CAIRN_ERROR;
	}
	*path = NULL;
	*version = NULL;
	ld->nfiles++;
	return 0;
}

/*
 * Decides what one directory entry is.  Sets *descend for directories to
 * read.  subdir is the directory below the migrations directory ("" at
 * the top).
 */
static int entry(struct loader *ld, const char *subdir, const char *base,
		 enum kind kind, const char *blob, unsigned depth,
		 bool *descend)
{
	cairn_findings *fl = &ld->set->findings;
	char *rel = NULL, *path = NULL, *version = NULL;
	struct cairn_name_parts np;
	enum cairn_name_kind nk;
	bool taken;
	int rc = 0;

	*descend = false;
	if (base[0] == '.')
		return 0;
	rel = cairn_migration__join(subdir, base);
	if (!rel)
		return CAIRN_ERROR;
	path = cairn_migration__join(ld->set->dir, rel);
	if (!path) {
		rc = CAIRN_ERROR;
		goto out;
	}
	if (ignored(ld->opts, rel, base))
		goto out;
	if (kind == K_FILE && strncasecmp(base, "readme", 6) == 0)
		goto out;
	if ((rc = cairn_repeatable__entry(ld, subdir, base, path,
					  kind == K_FILE, blob, &taken)) < 0 ||
	    taken)
		goto out;
	nk = cairn_migration__parse_name(ld->layout, ld->dialect, base, &np);
	if (kind == K_FILE && nk == CAIRN_NAME_SKIP)
		goto out; /* another dialect's file */
	if (kind == K_FILE && (nk == CAIRN_NAME_UP || nk == CAIRN_NAME_DOWN) &&
	    (ld->layout & CAIRN_LAYOUT_PER_DIRECTORY) && *subdir &&
	    !cairn__version_dir_valid(subdir, strlen(subdir))) {
		rc = cairn_migration__file_finding(
			fl, "bad-name", path, 0, NULL,
			"with 'versions: per-directory' the directory names "
			"are part of the versions: use letters, digits, '-' "
			"and '.'", "'", subdir,
			"' cannot be part of a version");
		goto out;
	}
	if (nk == CAIRN_NAME_UP || nk == CAIRN_NAME_DOWN) {
		version = cairn_migration__file_version(ld->layout, subdir,
							 strlen(subdir), base, &np);
		if (!version) {
			rc = CAIRN_ERROR;
			goto out;
		}
	}
	switch (kind) {
	case K_DIR:
		if (depth >= MAX_DEPTH) {
			rc = cairn_migration__file_finding(
				fl, "bad-name", path, 0, NULL,
				name_hint(ld->layout), "directory '", base,
				"' is nested too deeply");
			goto out;
		}
		*descend = true;
		break;
	case K_LINK:
		rc = cairn_migration__file_finding(
			fl, "symlink", path, 0, version,
			"migrations must be regular files in the repository; "
			"replace the link with the file it points to",
			"'", base, "' is a symbolic link");
		break;
	case K_SUBMODULE:
		rc = cairn_migration__file_finding(
			fl, "submodule", path, 0, version,
			"a migrations directory cannot contain a submodule; "
			"move it elsewhere or list it under 'ignore:' in "
			"cairn.yaml",
			"'", base, "' is a submodule");
		break;
	case K_OTHER:
		rc = cairn_migration__file_finding(
			fl, "unreadable", path, 0, version,
			"migrations must be regular files", "'", base,
			"' is not a regular file");
		break;
	case K_FILE:
		if (!version) {
			size_t n = strlen(base);
			bool sql = n >= 4 && !strcmp(base + n - 4, ".sql");

			rc = cairn_migration__file_finding(
				fl, "bad-name", path, 0, NULL,
				name_hint(ld->layout),
				sql ? "'" : "unexpected file '", base,
				np.why ? np.why
				: sql ? "' is not a valid migration file name"
				      : "' in the migrations directory");
			break;
		}
		rc = add_file(ld, &path, &version, subdir, base, blob);
		break;
	}
out:
	free(rel);
	free(path);
	free(version);
	return rc;
}

static enum kind kind_of(unsigned mode)
{
	switch (mode & 0170000u) {
	case 0040000u:
		return K_DIR;
	case 0100000u:
		return K_FILE;
	case 0120000u:
		return K_LINK;
	case 0160000u:
		return K_SUBMODULE;
	}
	return K_OTHER;
}

/* Lists a tree read from the object database, recursively. */
static int scan_tree(struct loader *ld, const git_oid *id, const char *subdir,
		     unsigned depth)
{
	cairn_git_treeiter it;
	cairn_git_entry e;
	int rc, more;

	rc = cairn_git__tree_open(&it, &ld->trees, id);
	while (rc == 0 && (more = cairn_git__tree_next(&it, &e)) != 0) {
		char blob[CAIRN_OID_HEXSZ];
		git_oid oid;
		bool descend;

		if (more < 0) {
			rc = more;
			break;
		}
		git_oid_fromraw(&oid, e.id);
		git_oid_tostr(blob, sizeof(blob), &oid);
		rc = entry(ld, subdir, e.name, kind_of(e.mode), blob, depth,
			   &descend);
		if (rc == 0 && descend) {
			char *rel = cairn_migration__join(subdir, e.name);

			rc = rel ? scan_tree(ld, &oid, rel, depth + 1)
				 : CAIRN_ERROR;
			free(rel);
		}
	}
	cairn_git__tree_close(&it);
	return rc;
}

/*
 * Descends from a root tree to the directory `dir`.  *found is false
 * when it does not exist; a file in its place is an error.
 */
static int find_dir(git_oid *out, bool *found, struct loader *ld,
		    const git_oid *root, const char *dir, const char *rev)
{
	const char *comp = dir;

	*out = *root;
	*found = true;
	ld->stop = 0;
	while (*comp) {
		const char *slash = strchr(comp, '/');
		size_t n = slash ? (size_t)(slash - comp) : strlen(comp);
		git_oid child;
		unsigned mode;
		bool hit;
		int rc;

		rc = cairn_git__tree_child(&child, &mode, &ld->trees, out, comp,
					   n);
		if (rc < 0)
			return rc;
		hit = mode != 0;
		if (hit && kind_of(mode) != K_DIR) {
			rc = cairn_error__set(CAIRN_ERRCLASS_GIT,
				"cannot read migrations from '%s' at "
				"'%s': not a directory", dir, rev);
			cairn_error__hint("set migrations_dir in cairn.yaml to "
					  "the directory that holds the "
					  "migrations");
			return rc;
		}
		if (hit)
			*out = child;
		if (!hit) {
			/* *out is the deepest tree that exists */
			*found = false;
			ld->stop = (size_t)(comp - dir);
			return 0;
		}
		comp = slash ? slash + 1 : comp + n;
	}
	return 0;
}

static int name_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* What a directory entry of the working tree is, without following it. */
static enum kind kind_at(int dfd, const char *base)
{
	struct stat st;
	int fd;

	if (fstatat(dfd, base, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return K_OTHER;
	if (S_ISLNK(st.st_mode))
		return K_LINK;
	if (S_ISREG(st.st_mode))
		return K_FILE;
	if (!S_ISDIR(st.st_mode))
		return K_OTHER;
	fd = openat(dfd, base, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
				       O_CLOEXEC);
	if (fd < 0)
		return K_OTHER;
	/* a directory with .git in it is a submodule */
	st.st_mode = 0;
	fstatat(fd, ".git", &st, AT_SYMLINK_NOFOLLOW);
	close(fd);
	return st.st_mode ? K_SUBMODULE : K_DIR;
}

/*
 * Lists the working-tree directory open at dfd (which it closes),
 * recursively.  Everything is opened relative to a directory descriptor
 * and without following links, so no link leads the scan out.
 */
static int scan_dir(struct loader *ld, int dfd, const char *full,
		    const char *subdir, unsigned depth)
{
	cairn_strvec names = CAIRN_STRVEC_INIT;
	struct dirent *de;
	DIR *d;
	size_t i;
	int rc = 0;

	d = fdopendir(dfd);
	if (!d) {
		rc = cairn_error__set(CAIRN_ERRCLASS_OS,
				      "cannot read directory '%s': %s", full,
				      strerror(errno));
		close(dfd);
		return rc;
	}
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		if (cairn_strvec_push(&names, de->d_name) < 0) {
			rc = CAIRN_ERROR;
			goto out;
		}
	}
	if (names.count > 1)
		qsort(names.items, names.count, sizeof(char *), name_cmp);
	for (i = 0; i < names.count && rc == 0; i++) {
		const char *base = names.items[i];
		bool descend;

		rc = entry(ld, subdir, base, kind_at(dirfd(d), base), NULL,
			   depth, &descend);
		if (rc == 0 && descend) {
			char *rel = cairn_migration__join(subdir, base);
			char *path = cairn_migration__join(full, base);
			int fd = openat(dirfd(d), base,
					O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
						O_CLOEXEC);

			if (!rel || !path) {
				rc = CAIRN_ERROR;
				if (fd >= 0)
					close(fd);
			} else if (fd < 0)
				rc = cairn_error__set(
					CAIRN_ERRCLASS_OS,
					"cannot read directory '%s': %s",
					path, strerror(errno));
			else
				rc = scan_dir(ld, fd, path, rel, depth + 1);
			free(rel);
			free(path);
		}
	}
out:
	closedir(d);
	cairn_strvec_dispose(&names);
	return rc;
}

/*
 * Opens migrations_dir in the working tree one component at a time with
 * O_NOFOLLOW|O_DIRECTORY, so that a symbolic link on the way (or the
 * directory itself being one) cannot lead outside the repository.
 * *fd is -1 when the directory does not exist.
 */
static int open_worktree_dir(int *fd, struct loader *ld, const char *wd)
{
	const char *dir = ld->set->dir, *comp = dir;
	int cur;

	*fd = -1;
	cur = open(wd, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (cur < 0)
		return cairn_error__set(CAIRN_ERRCLASS_OS,
					"cannot read directory '%s': %s", wd,
					strerror(errno));
	while (*comp) {
		const char *slash = strchr(comp, '/');
		size_t n = slash ? (size_t)(slash - comp) : strlen(comp);
		char *name = cairn__strndup(comp, n);
		int next, err;

		if (!name) {
			close(cur);
			return CAIRN_ERROR;
		}
		next = openat(cur, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
						 O_CLOEXEC);
		err = errno;
		if (next < 0 && (err == ELOOP || err == ENOTDIR) &&
		    kind_at(cur, name) == K_LINK) {
			cairn_error__set(CAIRN_ERRCLASS_VALIDATION,
					 "cannot read migrations from '%s': "
					 "'%.*s' is a symbolic link", dir,
					 (int)(comp - dir + n), dir);
			cairn_error__detail("In the working tree cairn reads "
					    "only what is inside the "
					    "repository; a link may lead "
					    "anywhere.");
			cairn_error__hint("replace the link with the directory "
					  "it points to, or read a revision "
					  "instead of the working tree");
		} else if (next < 0 && err != ENOENT) {
			cairn_error__set(CAIRN_ERRCLASS_OS,
					 "cannot read migrations from '%s': "
					 "'%.*s': %s", dir,
					 (int)(comp - dir + n), dir,
					 strerror(err));
		}
		free(name);
		close(cur);
		if (next < 0) {
			if (err == ENOENT) {
				ld->stop = (size_t)(comp - dir);
				return 0;
			}
			return CAIRN_ERROR;
		}
		cur = next;
		comp = slash ? slash + 1 : comp + n;
	}
	*fd = cur;
	return 0;
}

/* ---- a migrations directory that is not there ------------------------- */

/* Appends the names of up to five directories in a raw tree, quoted. */
static int list_subdirs(cairn_buf *out, struct loader *ld, const git_oid *id)
{
	cairn_git_treeiter it;
	cairn_git_entry e;
	size_t n = 0;
	int rc, more;

	rc = cairn_git__tree_open(&it, &ld->trees, id);
	while (rc == 0 && n < 5 &&
	       (more = cairn_git__tree_next(&it, &e)) != 0) {
		if (more < 0) {
			rc = more;
			break;
		}
		if (kind_of(e.mode) != K_DIR || e.name[0] == '.')
			continue;
		rc = cairn_buf_puts(out, n++ ? ", '" : "'");
		if (rc == 0)
			rc = cairn_migration__quote(out, e.name, e.len);
		if (rc == 0)
			rc = cairn_buf_putc(out, '\'');
	}
	cairn_git__tree_close(&it);
	return rc;
}

/*
 * The "missing-dir" finding: the configured directory does not exist at
 * the revision (or in the working tree).  A misspelled migrations_dir
 * would otherwise read as an empty, valid set: "nothing to apply".
 * where: the deepest existing tree (git mode), NULL otherwise.
 */
static int missing_dir(struct loader *ld, const char *rev,
		       const git_oid *where)
{
	cairn_migration_set *set = ld->set;
	cairn_buf at = CAIRN_BUF_INIT, hint = CAIRN_BUF_INIT;
	cairn_buf dirs = CAIRN_BUF_INIT;
	int rc;

	if (set->worktree)
		rc = cairn_buf_puts(&at, "in the working tree");
	else
		rc = cairn_buf_printf(&at, "at revision '%s' (%.10s)", rev,
				      set->commit);
	if (rc == 0)
		rc = cairn_buf_puts(&hint, "check migrations_dir in cairn.yaml");
	if (rc == 0 && where)
		rc = list_subdirs(&dirs, ld, where);
	if (rc == 0 && dirs.size)
		rc = cairn_buf_printf(&hint, "; directories in '%.*s': %s",
				      ld->stop ? (int)ld->stop - 1 : 1,
				      ld->stop ? set->dir : ".", dirs.ptr);
	if (rc == 0)
		rc = cairn_buf_puts(&hint, "; a project without migrations "
				    "yet creates it with 'cairn new NAME'");
	if (rc == 0)
		rc = cairn_findings_add(&set->findings, "missing-dir",
					CAIRN_SEVERITY_ERROR, set->dir, 0,
					NULL, hint.ptr,
					set->worktree ? NULL : set->commit,
					"migrations directory '%s' does not "
					"exist %s", set->dir, at.ptr);
	cairn_buf_dispose(&at);
	cairn_buf_dispose(&hint);
	cairn_buf_dispose(&dirs);
	return rc;
}

/* ---- loading ---------------------------------------------------------- */

static int load_git(struct loader *ld, cairn_repo *repo, const char *rev)
{
	cairn_migration_set *set = ld->set;
	git_oid id, root, tree;
	bool found;
	int rc;

	rc = cairn_repo__resolve_commit(&id, &root, repo, rev);
	if (rc < 0)
		return rc;
	git_oid_tostr(set->commit, sizeof(set->commit), &id);
	rc = cairn_git__odb_new(&ld->odb, repo->git, repo->path, 0, CAIRN_GIT_ODB_FAST);
	if (rc == 0)
		cairn_git__trees_init(&ld->trees, ld->odb);
	if (rc == 0)
		rc = find_dir(&tree, &found, ld, &root, set->dir, rev);
	if (rc == 0 && found) {
		git_oid_tostr(set->tree, sizeof(set->tree), &tree);
		rc = scan_tree(ld, &tree, "", 0);
	} else if (rc == 0) {
		rc = missing_dir(ld, rev, &tree);
	}
	cairn_git__trees_dispose(&ld->trees);
	cairn_git__odb_free(ld->odb);
	ld->odb = NULL;
	return rc;
}

static int load_worktree(struct loader *ld, cairn_repo *repo)
{
	cairn_migration_set *set = ld->set;
	const char *wd = cairn_repo_workdir(repo);
	char *full;
	int fd, rc;

	if (!wd) {
		cairn_error__set(CAIRN_ERRCLASS_USAGE,
				 "cannot read the working tree of bare "
				 "repository '%s'", cairn_repo_gitdir(repo));
		cairn_error__hint("read a revision instead of the working "
				  "tree");
		return CAIRN_ERROR;
	}
	set->workdir = cairn__strdup(wd);
	if (!set->workdir)
		return CAIRN_ERROR;
	rc = open_worktree_dir(&fd, ld, wd);
	if (rc < 0)
		return rc;
	if (fd < 0)
		return missing_dir(ld, "", NULL);
	full = cairn_migration__join(wd, set->dir);
	if (!full) {
		close(fd);
		return CAIRN_ERROR;
	}
	rc = scan_dir(ld, fd, full, "", 0);
	free(full);
	return rc;
}

int cairn_migration_set_load(cairn_migration_set **out, cairn_repo *repo,
			     const cairn_load_options *opts)
{
	cairn_load_options defaults = CAIRN_LOAD_OPTIONS_INIT;
	struct loader ld;
	cairn_migration_set *set;
	size_t i;
	int rc;

	*out = NULL;
	if (!opts)
		opts = &defaults;
	CAIRN__CHECK_VERSION(opts, CAIRN_LOAD_OPTIONS_VERSION,
			     "cairn_load_options");
	set = cairn__calloc(1, sizeof(*set));
	if (!set)
		return CAIRN_ERROR;
	git_libgit2_init();
	memset(&ld, 0, sizeof(ld));
	ld.set = set;
	ld.opts = opts;
	ld.git = cairn_repo__git(repo);
	set->worktree = opts->worktree;
	if (opts->version >= 2) {
		ld.layout = opts->layout;
		ld.dialect = opts->dialect;
	}
	set->layout = ld.layout;
	if ((unsigned)CAIRN_LAYOUT_KIND(ld.layout) > CAIRN_LAYOUT_FLYWAY ||
	    ((unsigned)ld.layout & ~(0xffu | CAIRN_LAYOUT_PER_DIRECTORY))) {
		rc = cairn_error__set(CAIRN_ERRCLASS_USAGE,
				      "unknown migration layout %d",
				      (int)ld.layout);
		goto out;
	}
	if (ld.dialect && *ld.dialect &&
	    !(set->dialect = cairn__strdup(ld.dialect))) {
		rc = CAIRN_ERROR;
		goto out;
	}
	set->max_file_size = opts->max_file_size ? opts->max_file_size
						 : DEFAULT_MAX_FILE_SIZE;
	set->dir = cairn_migration__normalize_dir(opts->dir);
	if (!set->dir) {
		rc = CAIRN_ERROR;
		goto out;
	}
	if (git_repository_odb(&set->odb, ld.git) < 0) {
		rc = cairn_repo__error("cannot open the object database of "
				       "'%s'", cairn_repo_gitdir(repo));
		goto out;
	}
	if (opts->worktree)
		rc = load_worktree(&ld, repo);
	else
		rc = load_git(&ld, repo, opts->rev ? opts->rev : "HEAD");
	if (rc == 0)
		rc = cairn_migration__pair(&ld);
	if (rc == 0)
		rc = cairn_repeatable__finish(&ld);
out:
	for (i = 0; i < ld.nfiles; i++)
		file_dispose(&ld.files[i]);
	free(ld.files);
	if (rc < 0) {
		cairn_migration_set_free(set);
		return rc;
	}
	*out = set;
	return 0;
}
