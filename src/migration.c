/*
 * migration.c - the set of migrations at one git revision (or in the
 * working tree); see include/cairn/migration.h.
 *
 * Loading walks the migrations directory recursively, from the commit's
 * tree (raw tree objects through cairn_rawodb, src/repo.c) or from the
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
 *  - migration files, which are then paired: up files sorted by numeric
 *    version (two with the same number are "duplicate-version"; the
 *    first by path stays in the set so later checks still see it), each
 *    down file attached to the up file with the same version, name and
 *    subdirectory ("missing-up" when there is none).
 *
 * No file content is read while loading.  cairn_migration_load_content()
 * reads one migration on demand: sizes are checked first
 * (git_odb_read_header or fstat, so a 1 GB blob is never inflated), then
 * NUL bytes ("binary"), UTF-8 ("not-utf8", with the line of the first bad
 * byte), and finally the `-- cairn:` directives (src/directive.c).
 *
 * File names are arbitrary bytes.  Findings keep them as they are in the
 * `file` field (the command line escapes what it prints); messages and
 * hints quote them through cairn_migration__quote(), so a name with a
 * newline or invalid UTF-8 never breaks a one-line message.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cairn/migration.h"
#include "buf.h"
#include "error.h"
#include "migration_internal.h"
#include "repo_internal.h"
#include "util.h"

#define DEFAULT_DIR "db/migrations"
#define DEFAULT_MAX_FILE_SIZE ((size_t)64 * 1024 * 1024)
#define MAX_DEPTH 64

#define NAME_HINT                                                          \
	"migration files are named <version>_<name>.up.sql and "           \
	"<version>_<name>.down.sql (version: 1-20 digits; name: letters, " \
	"digits, '_' and '-'), e.g. 0001_create_users.up.sql; list other " \
	"files under 'ignore:' in cairn.yaml"

enum kind { K_FILE, K_DIR, K_LINK, K_SUBMODULE, K_OTHER };

struct file {
	char *path;         /* repository-relative */
	char *subdir;       /* below the migrations directory */
	char *version;      /* normalized */
	char *version_text;
	char *name;
	bool is_down;
	bool kept;          /* an up file that made it into the set */
	size_t index;       /* its migration, when kept */
	char blob[CAIRN_OID_HEXSZ];
};

struct loader {
	cairn_migration_set *set;
	const cairn_load_options *opts;
	git_repository *git;
	cairn_rawodb *raw;
	struct file *files;
	size_t nfiles;
	size_t afiles;
};

/* ---- small helpers ---------------------------------------------------- */

int cairn_migration__quote(cairn_buf *out, const char *s, size_t len)
{
	static const char hex[] = "0123456789abcdef";

	while (len) {
		size_t bad = 0, n, i;
		bool ok = cairn__utf8_valid(s, len, &bad);

		n = ok ? len : bad;
		for (i = 0; i < n; i++) {
			unsigned char c = (unsigned char)s[i];
			char esc[4] = { '\\', 0, 0, 0 };
			int rc;

			if (c == '\n')
				esc[1] = 'n';
			else if (c == '\t')
				esc[1] = 't';
			else if (c == '\r')
				esc[1] = 'r';
			else if (c == '\\')
				esc[1] = '\\';
			if (esc[1]) {
				rc = cairn_buf_put(out, esc, 2);
			} else if (c < 0x20 || c == 0x7f) {
				esc[1] = 'x';
				esc[2] = hex[c >> 4];
				rc = cairn_buf_put(out, esc, 3);
				if (rc == 0)
					rc = cairn_buf_putc(out, hex[c & 15]);
			} else {
				rc = cairn_buf_putc(out, (char)c);
			}
			if (rc < 0)
				return rc;
		}
		if (ok)
			break;
		{
			unsigned char c = (unsigned char)s[n];
			char esc[4] = { '\\', 'x', hex[c >> 4], hex[c & 15] };

			if (cairn_buf_put(out, esc, 4) < 0)
				return CAIRN_ERROR;
		}
		s += n + 1;
		len -= n + 1;
	}
	return 0;
}

char *cairn_migration__normalize_dir(const char *dir)
{
	cairn_buf out = CAIRN_BUF_INIT;
	const char *p = dir;

	if (!dir)
		dir = p = DEFAULT_DIR;
	if (*p == '/') {
		cairn_error__set(CAIRN_ERRCLASS_USAGE,
				 "migrations directory '%s' must be relative "
				 "to the repository root", dir);
		return NULL;
	}
	while (*p) {
		const char *s = p;
		size_t n;

		while (*p && *p != '/')
			p++;
		n = (size_t)(p - s);
		if (*p)
			p++;
		if (n == 0 || (n == 1 && s[0] == '.'))
			continue;
		if (n == 2 && s[0] == '.' && s[1] == '.') {
			cairn_buf_dispose(&out);
			cairn_error__set(CAIRN_ERRCLASS_USAGE,
					 "migrations directory '%s' must not "
					 "contain '..'", dir);
			return NULL;
		}
		if ((out.size && cairn_buf_putc(&out, '/') < 0) ||
		    cairn_buf_put(&out, s, n) < 0) {
			cairn_buf_dispose(&out);
			return NULL;
		}
	}
	{
		char *r = cairn_buf_detach(&out);

		if (!r)
			cairn_error__oom();
		return r;
	}
}

const char *cairn_migration__rel_up(const cairn_migration_set *set,
				    const cairn_migration *m)
{
	size_t n = strlen(set->dir);

	return n ? m->up_path + n + 1 : m->up_path;
}

bool cairn_migration_parse_filename(const char *base, size_t *version_len,
				    const char **name, size_t *name_len,
				    bool *is_down)
{
	const char *p = base, *n;
	size_t vlen;

	if (!base)
		return false;
	while (*p >= '0' && *p <= '9')
		p++;
	vlen = (size_t)(p - base);
	if (vlen < 1 || vlen > 20 || *p != '_')
		return false;
	n = ++p;
	while ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
	       (*p >= '0' && *p <= '9') || *p == '_' || *p == '-')
		p++;
	if (p == n)
		return false;
	if (!strcmp(p, ".up.sql")) {
		if (is_down)
			*is_down = false;
	} else if (!strcmp(p, ".down.sql")) {
		if (is_down)
			*is_down = true;
	} else {
		return false;
	}
	if (version_len)
		*version_len = vlen;
	if (name)
		*name = n;
	if (name_len)
		*name_len = (size_t)(p - n);
	return true;
}

/* Numeric order of normalized versions: shorter is smaller. */
static int vcmp(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);

	if (la != lb)
		return la < lb ? -1 : 1;
	return strcmp(a, b);
}

static char *join(const char *a, const char *b)
{
	cairn_buf out = CAIRN_BUF_INIT;
	char *r;

	if (*a && (cairn_buf_puts(&out, a) < 0 ||
		   (a[strlen(a) - 1] != '/' && cairn_buf_putc(&out, '/') < 0)))
		goto fail;
	if (cairn_buf_puts(&out, b) < 0)
		goto fail;
	r = cairn_buf_detach(&out);
	if (!r)
		cairn_error__oom();
	return r;
fail:
	cairn_buf_dispose(&out);
	return NULL;
}

/*
 * Adds a finding about one file; the message is prefix + the quoted name
 * + suffix.
 */
static int file_finding(cairn_findings *list, const char *code,
			const char *path, unsigned line, const char *version,
			const char *hint, const char *prefix, const char *name,
			const char *suffix)
{
	cairn_buf q = CAIRN_BUF_INIT;
	int rc;

	rc = cairn_migration__quote(&q, name, strlen(name));
	if (rc == 0)
		rc = cairn_findings_add(list, code, CAIRN_SEVERITY_ERROR,
					path, line, version, hint, NULL,
					"%s%s%s", prefix, q.ptr, suffix);
	cairn_buf_dispose(&q);
	return rc;
}

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
	free(f->path);
	free(f->subdir);
	free(f->version);
	free(f->version_text);
	free(f->name);
}

static int add_file(struct loader *ld, const char *path, const char *subdir,
		    const char *base, const char *blob)
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
	f->path = cairn__strdup(path);
	f->subdir = cairn__strdup(subdir);
	f->version = cairn__version_normalize(base, vlen);
	f->version_text = cairn__strndup(base, vlen);
	f->name = cairn__strndup(name, nlen);
	f->is_down = is_down;
	if (blob)
		memcpy(f->blob, blob, sizeof(f->blob));
	if (!f->path || !f->subdir || !f->version || !f->version_text ||
	    !f->name) {
		file_dispose(f);
		return CAIRN_ERROR;
	}
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
	rel = join(subdir, base);
	if (!rel)
		return CAIRN_ERROR;
	path = join(ld->set->dir, rel);
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
			rc = file_finding(fl, "bad-name", path, 0, NULL,
					  NAME_HINT, "directory '", base,
					  "' is nested too deeply");
			goto out;
		}
		*descend = true;
		break;
	case K_LINK:
		rc = file_finding(fl, "symlink", path, 0, version,
				  "migrations must be regular files in the "
				  "repository; replace the link with the "
				  "file it points to",
				  "'", base, "' is a symbolic link");
		break;
	case K_SUBMODULE:
		rc = file_finding(fl, "submodule", path, 0, version,
				  "a migrations directory cannot contain a "
				  "submodule; move it elsewhere or list it "
				  "under 'ignore:' in cairn.yaml",
				  "'", base, "' is a submodule");
		break;
	case K_OTHER:
		rc = file_finding(fl, "unreadable", path, 0, version,
				  "migrations must be regular files",
				  "'", base, "' is not a regular file");
		break;
	case K_FILE:
		if (!version) {
			size_t n = strlen(base);
			bool sql = n >= 4 && !strcmp(base + n - 4, ".sql");

			rc = file_finding(fl, "bad-name", path, 0, NULL,
					  NAME_HINT,
					  sql ? "'" : "unexpected file '",
					  base,
					  sql ? "' is not a valid migration "
						"file name" :
						"' in the migrations "
						"directory");
			break;
		}
		rc = add_file(ld, path, subdir, base, blob);
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
			char *rel = join(subdir, e.name);

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

		path = join(full, base);
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

			gitpath = join(path, ".git");
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
			char *rel = join(subdir, base);

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

/* ---- pairing ---------------------------------------------------------- */

static int file_order(const void *pa, const void *pb)
{
	const struct file *a = pa, *b = pb;
	int c;

	if (a->is_down != b->is_down)
		return a->is_down ? 1 : -1;
	c = vcmp(a->version, b->version);
	if (c)
		return c;
	return strcmp(a->path, b->path);
}

static int dup_finding(cairn_migration_set *set, const struct file *f,
		       const struct file *other)
{
	cairn_buf msg = CAIRN_BUF_INIT;
	int rc;

	rc = cairn_buf_printf(&msg, "version %s of '", f->version);
	if (rc == 0)
		rc = cairn_migration__quote(&msg, f->path, strlen(f->path));
	if (rc == 0)
		rc = cairn_buf_puts(&msg, "' is also used by '");
	if (rc == 0)
		rc = cairn_migration__quote(&msg, other->path,
					    strlen(other->path));
	if (rc == 0)
		rc = cairn_findings_add(&set->findings, "duplicate-version",
					CAIRN_SEVERITY_ERROR, f->path, 0,
					f->version,
					"versions are compared as numbers "
					"(0042 is 42); give each migration "
					"its own version",
					NULL, "%s'", msg.ptr);
	cairn_buf_dispose(&msg);
	return rc;
}

static int pair(struct loader *ld)
{
	cairn_migration_set *set = ld->set;
	size_t i, j, nup = 0;
	int rc = 0;

	if (ld->nfiles > 1)
		qsort(ld->files, ld->nfiles, sizeof(*ld->files), file_order);
	while (nup < ld->nfiles && !ld->files[nup].is_down)
		nup++;
	set->items = cairn__calloc(nup ? nup : 1, sizeof(*set->items));
	if (!set->items)
		return CAIRN_ERROR;

	/* up files: one migration per version */
	for (i = 0; i < nup; i = j) {
		struct file *f = &ld->files[i];
		cairn_migration *m;

		for (j = i + 1; j < nup; j++)
			if (vcmp(ld->files[j].version, f->version) != 0)
				break;
		if (j - i > 1) {
			for (size_t k = i; k < j; k++) {
				size_t other = k == i ? i + 1 : i;

				rc = dup_finding(set, &ld->files[k],
						 &ld->files[other]);
				if (rc < 0)
					return rc;
			}
		}
		m = &set->items[set->count];
		f->kept = true;
		f->index = set->count++;
		memcpy(m->up_blob, f->blob, sizeof(m->up_blob));
		m->version = cairn__strdup(f->version);
		m->version_text = cairn__strdup(f->version_text);
		m->name = cairn__strdup(f->name);
		m->subdir = cairn__strdup(f->subdir);
		m->up_path = cairn__strdup(f->path);
		if (!m->version || !m->version_text || !m->name ||
		    !m->subdir || !m->up_path)
			return CAIRN_ERROR;
	}

	/* down files: attach to the up file of the same version and name */
	for (i = nup; i < ld->nfiles; i++) {
		struct file *d = &ld->files[i];
		struct file *up = NULL;
		cairn_migration *m;

		/* the up files are sorted by version: find the group */
		{
			size_t lo = 0, hi = nup;

			while (lo < hi) {
				size_t mid = lo + (hi - lo) / 2;

				if (vcmp(ld->files[mid].version,
					 d->version) < 0)
					lo = mid + 1;
				else
					hi = mid;
			}
			for (j = lo; j < nup && !up; j++) {
				struct file *u = &ld->files[j];

				if (vcmp(u->version, d->version) != 0)
					break;
				if (!strcmp(u->name, d->name) &&
				    !strcmp(u->subdir, d->subdir))
					up = u;
			}
		}
		if (!up) {
			cairn_buf hint = CAIRN_BUF_INIT;

			rc = cairn_buf_printf(&hint, "add '%s_",
					      d->version_text);
			if (rc == 0)
				rc = cairn_migration__quote(&hint, d->name,
							    strlen(d->name));
			if (rc == 0)
				rc = cairn_buf_puts(&hint,
						    ".up.sql' next to it, or "
						    "remove the down file");
			if (rc == 0)
				rc = cairn_findings_add(
					&set->findings, "missing-up",
					CAIRN_SEVERITY_ERROR, d->path, 0,
					d->version, hint.ptr, NULL,
					"down file of version %s has no up "
					"file", d->version);
			cairn_buf_dispose(&hint);
			if (rc < 0)
				return rc;
			continue;
		}
		if (!up->kept)
			continue; /* its up file is a reported duplicate */
		m = &set->items[up->index];
		if (m->down_path) {
			struct file other = *d;

			other.path = m->down_path;
			rc = dup_finding(set, d, &other);
			if (rc < 0)
				return rc;
			continue;
		}
		memcpy(m->down_blob, d->blob, sizeof(m->down_blob));
		m->down_path = d->path;
		d->path = NULL;
	}
	return 0;
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
	if (opts->version != CAIRN_LOAD_OPTIONS_VERSION)
		return cairn_error__set(CAIRN_ERRCLASS_USAGE,
					"unsupported load options version %u",
					opts->version);
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
		rc = pair(&ld);
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

static void migration_dispose(cairn_migration *m)
{
	free(m->version);
	free(m->version_text);
	free(m->name);
	free(m->subdir);
	free(m->up_path);
	free(m->down_path);
	free(m->up_sql);
	free(m->down_sql);
	cairn_directives_dispose(&m->up_directives);
	cairn_directives_dispose(&m->down_directives);
	cairn_commit_info_dispose(&m->introduced);
	cairn_commit_info_dispose(&m->changed);
}

void cairn_migration_set_free(cairn_migration_set *set)
{
	size_t i;

	if (!set)
		return;
	for (i = 0; i < set->count; i++)
		migration_dispose(&set->items[i]);
	free(set->items);
	cairn_findings_dispose(&set->findings);
	free(set->dir);
	free(set->workdir);
	git_odb_free(set->odb);
	free(set);
	git_libgit2_shutdown();
}

size_t cairn_migration_set_count(const cairn_migration_set *set)
{
	return set ? set->count : 0;
}

cairn_migration *cairn_migration_set_get(const cairn_migration_set *set,
					 size_t i)
{
	return set && i < set->count ? &set->items[i] : NULL;
}

cairn_migration *cairn_migration_set_find(const cairn_migration_set *set,
					  const char *version)
{
	size_t lo = 0, hi, len;
	const char *v = version;

	if (!set || !version)
		return NULL;
	for (len = 0; v[len]; len++)
		if (v[len] < '0' || v[len] > '9')
			return NULL;
	if (len == 0)
		return NULL;
	while (len > 1 && *v == '0') {
		v++;
		len--;
	}
	hi = set->count;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = vcmp(set->items[mid].version, v);

		if (c == 0)
			return &set->items[mid];
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

const char *cairn_migration_set_max_version(const cairn_migration_set *set)
{
	return set && set->count ? set->items[set->count - 1].version : NULL;
}

const char *cairn_migration_set_commit(const cairn_migration_set *set)
{
	return set->commit;
}

const char *cairn_migration_set_dir(const cairn_migration_set *set)
{
	return set->dir;
}

const char *cairn_migration_set_tree(const cairn_migration_set *set)
{
	return set->tree;
}

bool cairn_migration_set_is_worktree(const cairn_migration_set *set)
{
	return set->worktree;
}

const cairn_findings *cairn_migration_set_findings(
	const cairn_migration_set *set)
{
	return &set->findings;
}

/* ---- contents --------------------------------------------------------- */

/*
 * Reads one file into a NUL-terminated buffer.  Problems with the file
 * itself become findings and leave *data NULL; only a failure to read
 * the object database is an error.
 */
static int read_git(cairn_migration_set *set, const cairn_migration *m,
		    const char *path, const char *blob, char **data,
		    size_t *len)
{
	git_odb_object *obj = NULL;
	git_object_t type;
	git_oid oid;
	size_t size;
	char *buf;

	if (git_oid_fromstr(&oid, blob) < 0 ||
	    git_odb_read_header(&size, &type, set->odb, &oid) < 0)
		return cairn_repo__error("cannot read '%s' (blob %s)", path,
					 blob);
	if (type != GIT_OBJECT_BLOB)
		return file_finding(&set->findings, "unreadable", path, 0,
				    m->version, NULL, "'", path,
				    "' is not a blob");
	if (size > set->max_file_size) {
		char sfx[96];

		snprintf(sfx, sizeof(sfx), "' is %zu bytes, over the limit "
			 "of %zu", size, set->max_file_size);
		return file_finding(&set->findings, "too-large", path, 0,
				    m->version,
				    "split the migration into smaller ones "
				    "or raise the size limit",
				    "'", path, sfx);
	}
	if (git_odb_read(&obj, set->odb, &oid) < 0)
		return cairn_repo__error("cannot read '%s' (blob %s)", path,
					 blob);
	size = git_odb_object_size(obj);
	buf = malloc(size + 1);
	if (!buf) {
		git_odb_object_free(obj);
		return cairn_error__oom();
	}
	memcpy(buf, git_odb_object_data(obj), size);
	buf[size] = '\0';
	git_odb_object_free(obj);
	*data = buf;
	*len = size;
	return 0;
}

static int unreadable(cairn_migration_set *set, const cairn_migration *m,
		      const char *path, int err)
{
	char sfx[160];

	snprintf(sfx, sizeof(sfx), "': %s", strerror(err));
	return file_finding(&set->findings, "unreadable", path, 0,
			    m->version, NULL, "cannot read '", path, sfx);
}

static int read_worktree(cairn_migration_set *set, const cairn_migration *m,
			 const char *path, char **data, size_t *len)
{
	cairn_buf buf = CAIRN_BUF_INIT;
	struct stat st;
	char *full;
	int fd, rc = 0;

	full = join(set->workdir, path);
	if (!full)
		return CAIRN_ERROR;
	fd = open(full, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	free(full);
	if (fd < 0)
		return unreadable(set, m, path, errno);
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		rc = unreadable(set, m, path, S_ISREG(st.st_mode) ? errno
								 : EINVAL);
		goto out;
	}
	if ((uint64_t)st.st_size > set->max_file_size) {
		char sfx[96];

		snprintf(sfx, sizeof(sfx), "' is %jd bytes, over the limit "
			 "of %zu", (intmax_t)st.st_size, set->max_file_size);
		rc = file_finding(&set->findings, "too-large", path, 0,
				  m->version,
				  "split the migration into smaller ones or "
				  "raise the size limit",
				  "'", path, sfx);
		goto out;
	}
	cairn_buf_init(&buf, set->max_file_size + 65536 + 1);
	for (;;) {
		ssize_t n;

		if (buf.size > set->max_file_size) {
			rc = file_finding(&set->findings, "too-large", path, 0,
					  m->version,
					  "split the migration into smaller "
					  "ones or raise the size limit",
					  "'", path, "' grew over the size "
					  "limit while being read");
			goto out;
		}
		if (cairn_buf_grow(&buf, 65536) < 0) {
			rc = CAIRN_ERROR;
			goto out;
		}
		n = read(fd, buf.ptr + buf.size, 65536);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			rc = unreadable(set, m, path, errno);
			goto out;
		}
		if (n == 0)
			break;
		buf.size += (size_t)n;
		buf.ptr[buf.size] = '\0';
	}
	*len = buf.size;
	*data = buf.size ? cairn_buf_detach(&buf) : cairn__strdup("");
	if (!*data)
		rc = cairn_error__oom();
out:
	cairn_buf_dispose(&buf);
	close(fd);
	return rc;
}

/* Checks bytes are text; adds a finding and returns false when not. */
static int check_text(cairn_migration_set *set, const cairn_migration *m,
		      const char *path, const char *data, size_t len,
		      bool *ok)
{
	size_t bad = 0, i;
	unsigned line = 1;

	*ok = false;
	if (memchr(data, '\0', len))
		return file_finding(&set->findings, "binary", path, 0,
				    m->version,
				    "migrations must be UTF-8 text files",
				    "'", path, "' contains NUL bytes (binary "
				    "file?)");
	if (!cairn__utf8_valid(data, len, &bad)) {
		char sfx[64];

		for (i = 0; i < bad; i++)
			if (data[i] == '\n')
				line++;
		snprintf(sfx, sizeof(sfx), "' is not valid UTF-8 (line %u)",
			 line);
		return file_finding(&set->findings, "not-utf8", path, line,
				    m->version,
				    "save the file as UTF-8", "'", path, sfx);
	}
	*ok = true;
	return 0;
}

static int load_one(cairn_migration_set *set, cairn_migration *m,
		    const char *path, const char *blob, char **data,
		    size_t *len, cairn_directives *dirs, bool *ok)
{
	size_t before = set->findings.count, i;
	bool text;
	int rc;

	*data = NULL;
	*len = 0;
	*ok = false;
	if (set->worktree)
		rc = read_worktree(set, m, path, data, len);
	else
		rc = read_git(set, m, path, blob, data, len);
	if (rc < 0 || !*data)
		return rc;
	rc = check_text(set, m, path, *data, *len, &text);
	if (rc < 0 || !text)
		return rc;
	rc = cairn_directives_parse(dirs, *data, *len, path, &set->findings);
	if (rc < 0)
		return rc;
	for (i = before; i < set->findings.count; i++) {
		cairn_finding *f = &set->findings.items[i];

		if (!f->version) {
			f->version = cairn__strdup(m->version);
			if (!f->version)
				return CAIRN_ERROR;
		}
	}
	*ok = set->findings.count == before;
	return 0;
}

int cairn_migration_load_content(cairn_migration_set *set,
				 cairn_migration *m)
{
	bool up_ok = false, down_ok = true;
	int rc;

	if (m->content_loaded)
		return 0;
	rc = load_one(set, m, m->up_path, m->up_blob, &m->up_sql, &m->up_len,
		      &m->up_directives, &up_ok);
	if (rc < 0)
		goto fail;
	if (m->up_sql) {
		rc = cairn__sha256_hex(m->checksum, m->up_sql, m->up_len);
		if (rc < 0)
			goto fail;
	}
	if (m->down_path) {
		rc = load_one(set, m, m->down_path, m->down_blob, &m->down_sql,
			      &m->down_len, &m->down_directives, &down_ok);
		if (rc < 0)
			goto fail;
	}
	m->content_loaded = true;
	m->content_ok = up_ok && down_ok;
	return 0;
fail:
	free(m->up_sql);
	free(m->down_sql);
	m->up_sql = m->down_sql = NULL;
	m->up_len = m->down_len = 0;
	m->checksum[0] = '\0';
	cairn_directives_dispose(&m->up_directives);
	cairn_directives_dispose(&m->down_directives);
	return rc;
}

int cairn_migration_set_load_contents(cairn_migration_set *set)
{
	size_t i;
	int rc;

	for (i = 0; i < set->count; i++) {
		rc = cairn_migration_load_content(set, &set->items[i]);
		if (rc < 0)
			return rc;
	}
	return 0;
}
