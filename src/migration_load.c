/*
 * migration_load.c - loading the set of migrations at one git revision
 * (or in the working tree): cairn_migration_set_load().
 *
 * Loading walks the migrations directory recursively, from the commit's
 * tree (raw tree objects through cairn_rawodb, src/rawodb.c) or from the
 * working tree with lstat(2), and sorts every entry into one of three
 * piles:
 *
 *  - skipped: dotfiles and dot-directories, README* files, and anything
 *    an ignore glob matches (fnmatch(3) against the base name and against
 *    the path below the migrations directory; a matching directory is
 *    skipped whole);
 *  - findings: a name that is not `<version>_<name>.(up|down).sql`
 *    ("bad-name"), a symbolic link ("symlink"), a submodule ("submodule"),
 *    something that is not a regular file ("unreadable");
 *  - migration files, which are then paired into migrations
 *    (src/migration_pair.c).
 *
 * No file content is read while loading (src/migration_content.c reads
 * it on demand).
 */
#include <dirent.h>
#include <errno.h>
#include <fnmatch.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "cairn/migration.h"
#include "buf.h"
#include "error.h"
#include "migration_internal.h"
#include "migration_load.h"
#include "repo_internal.h"
#include "util.h"
#include "version_check.h"

#define DEFAULT_MAX_FILE_SIZE ((size_t)64 * 1024 * 1024)
#define MAX_DEPTH 64

#define NAME_HINT                                                          \
	"migration files are named <version>_<name>.up.sql and "           \
	"<version>_<name>.down.sql (version: 1-20 digits; name: letters, " \
	"digits, '_' and '-'), e.g. 0001_create_users.up.sql; list other " \
	"files under 'ignore:' in cairn.yaml"

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

/* Takes *path and *version over (sets them NULL) when it succeeds. */
static int add_file(struct loader *ld, char **path, char **version,
		    const char *subdir, const char *base, const char *blob)
{
	struct file *f;
	size_t vlen, nlen;
	const char *name;
	bool is_down;

	cairn_migration_parse_filename(base, &vlen, &name, &nlen, &is_down);
	if (cairn__grow_array((void **)&ld->files, &ld->afiles,
			      ld->nfiles + 1, sizeof(*f)) < 0)
		return CAIRN_ERROR;
	f = &ld->files[ld->nfiles];
	memset(f, 0, sizeof(*f));
	f->path = *path;
	f->version = *version;
	f->subdir = cairn__strdup(subdir);
	f->version_text = cairn__strndup(base, vlen);
	f->name = cairn__strndup(name, nlen);
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
	size_t vlen = 0;
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
	if (cairn_migration_parse_filename(base, &vlen, NULL, NULL, NULL)) {
		version = cairn__version_normalize(base, vlen);
		if (!version) {
			rc = CAIRN_ERROR;
			goto out;
		}
	}
	switch (kind) {
	case K_DIR:
		if (depth >= MAX_DEPTH) {
			rc = cairn_migration__file_finding(
				fl, "bad-name", path, 0, NULL, NAME_HINT,
				"directory '", base, "' is nested too deeply");
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
				fl, "bad-name", path, 0, NULL, NAME_HINT,
				sql ? "'" : "unexpected file '", base,
				sql ? "' is not a valid migration file name"
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

static int read_tree(cairn_rawobj **out, struct loader *ld, const git_oid *id)
{
	int rc = cairn_repo__rawodb_read(out, ld->raw, id);

	if (rc < 0)
		return rc;
	if ((*out)->type == GIT_OBJECT_TREE)
		return 0;
	cairn_repo__rawobj_free(*out);
	*out = NULL;
	return cairn_error__set(CAIRN_ERRCLASS_GIT, "cannot read tree %s: "
				"not a tree", git_oid_tostr_s(id));
}

/* Lists a tree read raw from the object database, recursively. */
static int scan_tree(struct loader *ld, const git_oid *id, const char *subdir,
		     unsigned depth)
{
	cairn_rawobj *obj = NULL;
	const unsigned char *p, *end;
	int rc;

	rc = read_tree(&obj, ld, id);
	if (rc < 0)
		return rc;
	p = obj->data;
	end = p + obj->len;
	while (p < end && rc == 0) {
		cairn_tree_entry e;
		char blob[CAIRN_OID_HEXSZ];
		git_oid oid;
		bool descend;

		rc = cairn_repo__tree_entry(&e, &p, end);
		if (rc < 0)
			break;
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
	cairn_repo__rawobj_free(obj);
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
	while (*comp) {
		const char *slash = strchr(comp, '/');
		size_t n = slash ? (size_t)(slash - comp) : strlen(comp);
		cairn_rawobj *obj = NULL;
		const unsigned char *p, *end;
		bool hit = false;
		int rc;

		rc = read_tree(&obj, ld, out);
		if (rc < 0)
			return rc;
		p = obj->data;
		end = p + obj->len;
		while (p < end) {
			cairn_tree_entry e;

			rc = cairn_repo__tree_entry(&e, &p, end);
			if (rc < 0)
				break;
			if (e.len != n || memcmp(e.name, comp, n) != 0)
				continue;
			hit = true;
			if (kind_of(e.mode) != K_DIR) {
				rc = cairn_error__set(CAIRN_ERRCLASS_GIT,
					"cannot read migrations from '%s' at "
					"'%s': not a directory", dir, rev);
				cairn_error__hint("set migrations_dir in "
						  "cairn.yaml to the directory "
						  "that holds the migrations");
			} else {
				git_oid_fromraw(out, e.id);
			}
			break;
		}
		cairn_repo__rawobj_free(obj);
		if (rc < 0)
			return rc;
		if (!hit) {
			*found = false;
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

static int scan_dir(struct loader *ld, const char *full, const char *subdir,
		    unsigned depth)
{
	cairn_strvec names = CAIRN_STRVEC_INIT;
	struct dirent *de;
	DIR *d;
	size_t i;
	int rc = 0;

	d = opendir(full);
	if (!d) {
		if (depth == 0 && (errno == ENOENT || errno == ENOTDIR))
			return 0;
		return cairn_error__set(CAIRN_ERRCLASS_OS,
					"cannot read directory '%s': %s", full,
					strerror(errno));
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
		char *path = NULL, *gitpath = NULL;
		enum kind kind;
		struct stat st;
		bool descend;

		path = cairn_migration__join(full, base);
		if (!path) {
			rc = CAIRN_ERROR;
			break;
		}
		if (lstat(path, &st) < 0) {
			free(path);
			continue; /* vanished while we looked */
		}
		if (S_ISLNK(st.st_mode)) {
			kind = K_LINK;
		} else if (S_ISDIR(st.st_mode)) {
			struct stat gst;

			gitpath = cairn_migration__join(path, ".git");
			kind = gitpath && lstat(gitpath, &gst) == 0 ?
				       K_SUBMODULE : K_DIR;
			free(gitpath);
		} else if (S_ISREG(st.st_mode)) {
			kind = K_FILE;
		} else {
			kind = K_OTHER;
		}
		rc = entry(ld, subdir, base, kind, NULL, depth, &descend);
		if (rc == 0 && descend) {
			char *rel = cairn_migration__join(subdir, base);

			rc = rel ? scan_dir(ld, path, rel, depth + 1)
				 : CAIRN_ERROR;
			free(rel);
		}
		free(path);
	}
out:
	closedir(d);
	cairn_strvec_dispose(&names);
	return rc;
}

/* ---- loading ---------------------------------------------------------- */

static int load_git(struct loader *ld, cairn_repo *repo, const char *rev)
{
	cairn_migration_set *set = ld->set;
	git_commit *commit = NULL;
	git_oid tree;
	bool found;
	int rc;

	rc = cairn_repo__lookup_commit(&commit, repo, rev);
	if (rc < 0)
		return rc;
	git_oid_tostr(set->commit, sizeof(set->commit), git_commit_id(commit));
	rc = cairn_repo__rawodb_new(&ld->raw, repo, 0);
	if (rc == 0)
		rc = find_dir(&tree, &found, ld, git_commit_tree_id(commit),
			      set->dir, rev);
	if (rc == 0 && found) {
		git_oid_tostr(set->tree, sizeof(set->tree), &tree);
		rc = scan_tree(ld, &tree, "", 0);
	}
	cairn_repo__rawodb_free(ld->raw);
	ld->raw = NULL;
	git_commit_free(commit);
	return rc;
}

static int load_worktree(struct loader *ld, cairn_repo *repo)
{
	cairn_migration_set *set = ld->set;
	const char *wd = cairn_repo_workdir(repo);
	char *full;
	int rc;

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
	full = cairn__calloc(1, strlen(wd) + strlen(set->dir) + 2);
	if (!full)
		return CAIRN_ERROR;
	memcpy(full, wd, strlen(wd));
	memcpy(full + strlen(wd), set->dir, strlen(set->dir));
	rc = scan_dir(ld, full, "", 0);
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
