/*
 * check_gitlayer.c - unit tests for the git object layer (src/git/): the
 * one tree diff, tree order and mode normalisation, the object reader
 * (raw pack reader and libgit2 behind one interface) and its check of
 * the repository's object format.
 *
 * Every test builds a real repository with the git program.  The diff
 * is checked against `git diff-tree -r` on the same two trees, in both
 * directions, over every kind of change (added, deleted, modified, mode
 * 100644 -> 100755, symlinks, a file replaced by a directory and back, a
 * submodule entry, names that sort differently as a tree and as a blob).
 * The reader must give the same bytes through the pack reader and
 * through libgit2, for loose and packed objects; and a repository whose
 * configuration says its object format is sha256 must make the pack
 * reader step aside with a clear error instead of reading it as sha1.
 * The history walk must visit what `git rev-list --date-order` visits,
 * in the same order, with and without hidden revisions.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cairn/error.h"
#include "cairn/migration.h"
#include "cairn/range.h"
#include "cairn/repo.h"
#include "repo_internal.h"
#include "testutil.h"

#if defined(__SANITIZE_ADDRESS__)
#include <sanitizer/lsan_interface.h>
#define LEAKS_IGNORED_BEGIN() __lsan_disable()
#define LEAKS_IGNORED_END() __lsan_enable()
#else
#define LEAKS_IGNORED_BEGIN() ((void)0)
#define LEAKS_IGNORED_END() ((void)0)
#endif

/*
 * Opening a repository whose extensions libgit2 refuses.  libgit2 1.5
 * leaks its regex match data when it refuses one (a plain
 * git_repository_open() shows it under LeakSanitizer), so what it
 * allocates here is not counted as ours.
 */
static int open_refused(cairn_repo **out, const char *dir)
{
	int rc;

	LEAKS_IGNORED_BEGIN();
	rc = cairn_repo_open(out, dir);
	LEAKS_IGNORED_END();
	return rc;
}

static cairn_repo *open_repo(const char *dir)
{
	cairn_repo *repo = NULL;

	if (cairn_repo_open(&repo, dir) != 0)
		ck_abort_msg("open %s: %s", dir, cairn_error_last()->message);
	return repo;
}

static git_oid oid_of(const char *dir, const char *rev)
{
	char *hex = tu_sh_out(dir, "git rev-parse '%s'", rev);
	git_oid id;

	hex[strcspn(hex, "\n")] = '\0';
	ck_assert_int_eq(git_oid_fromstr(&id, hex), 0);
	free(hex);
	return id;
}

/* ---- the diff against git diff-tree ---- */

/* Lines "K OLDMODE NEWMODE PATH\n", appended by the diff callback. */
static int collect(void *ctx, const cairn_buf *path, cairn_git_change what,
		   const cairn_git_entry *a, const cairn_git_entry *b)
{
	cairn_buf *out = ctx;

	return cairn_buf_printf(out, "%c %06o %06o %s\n",
				what == CAIRN_GIT_ADDED ? 'A' :
				what == CAIRN_GIT_DELETED ? 'D' : 'M',
				a ? a->mode : 0, b ? b->mode : 0, path->ptr);
}

static int line_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The lines of s sorted, as one string (caller frees). */
static char *sorted_lines(const char *s)
{
	char *copy = strdup(s), *p = copy, **v = NULL, *out;
	size_t n = 0, i, len = 0;

	while (p && *p) {
		char *nl = strchr(p, '\n');

		v = realloc(v, (n + 1) * sizeof(*v));
		v[n++] = p;
		if (!nl)
			break;
		*nl = '\0';
		p = nl + 1;
	}
	qsort(v, n, sizeof(*v), line_cmp);
	for (i = 0; i < n; i++)
		len += strlen(v[i]) + 1;
	out = calloc(1, len + 1);
	for (i = 0; i < n; i++) {
		strcat(out, v[i]);
		strcat(out, "\n");
	}
	free(v);
	free(copy);
	return out;
}

/* Our diff of the trees of revisions a and b, sorted. */
static char *our_diff(const char *dir, const char *a, const char *b,
		      cairn_git_odb_mode mode)
{
	cairn_repo *repo = open_repo(dir);
	cairn_git_odb *db = NULL;
	cairn_git_trees trees;
	cairn_buf path = CAIRN_BUF_INIT, out = CAIRN_BUF_INIT;
	char ra[64], rb[64], *s;
	git_oid ta, tb;

	snprintf(ra, sizeof(ra), "%s^{tree}", a);
	snprintf(rb, sizeof(rb), "%s^{tree}", b);
	ta = oid_of(dir, ra);
	tb = oid_of(dir, rb);
	ck_assert_int_eq(cairn_git__odb_new(&db, cairn_repo__git(repo), "repo", 1 << 20, mode), 0);
	cairn_git__trees_init(&trees, db);
	ck_assert_int_eq(cairn_git__diff_trees(&trees, &path, &ta, &tb,
					       collect, &out), 0);
	ck_assert_uint_eq(path.size, 0);
	cairn_git__trees_dispose(&trees);
	cairn_git__odb_free(db);
	cairn_repo_free(repo);
	s = sorted_lines(out.size ? out.ptr : "");
	cairn_buf_dispose(&path);
	cairn_buf_dispose(&out);
	return s;
}

/* git diff-tree -r in the same format (T, a change of type, is M). */
static char *git_cli_diff(const char *dir, const char *a, const char *b)
{
	char *raw = tu_sh_out(dir,
		"git diff-tree -r --no-renames '%s' '%s' | "
		"sed 's/^:\\([0-7]*\\) \\([0-7]*\\) [0-9a-f]* [0-9a-f]* "
		"\\([ADMT]\\)\t/\\3 \\1 \\2 /; s/^T /M /'",
		a, b);
	char *s = sorted_lines(raw);

	free(raw);
	return s;
}

static void same_as_git(const char *dir, const char *a, const char *b)
{
	char *ours = our_diff(dir, a, b, CAIRN_GIT_ODB_FAST);
	char *lg2 = our_diff(dir, a, b, CAIRN_GIT_ODB_LIBGIT2);
	char *git = git_cli_diff(dir, a, b);

	ck_assert_msg(strcmp(ours, git) == 0, "%s..%s\nours:\n%sgit:\n%s", a,
		      b, ours, git);
	ck_assert_str_eq(lg2, ours);
	ck_assert_msg(strlen(ours) > 0, "no changes between %s and %s", a, b);
	free(ours);
	free(lg2);
	free(git);
}

START_TEST(test_diff_matches_git)
{
	char *dir = tu_git_repo(), *sub = tu_git_repo(), *subsha, *ours;

	tu_write(sub, "s.txt", "s\n");
	subsha = tu_git_commit(sub, "S", "s@example.com", 1600000000, "s");
	/* the old tree */
	tu_write(dir, "kept.sql", "same\n");
	tu_write(dir, "gone.sql", "bye\n");
	tu_write(dir, "edited.sql", "v1\n");
	tu_write(dir, "run.sh", "echo\n");
	tu_write(dir, "f2d", "a file that becomes a directory\n");
	tu_write(dir, "d2f/x.sql", "a directory that becomes a file\n");
	tu_write(dir, "a.sql", "a.sql v1\n");
	tu_write(dir, "a/inner.sql", "a tree named a\n");
	tu_write(dir, "deep/er/still.sql", "deep\n");
	tu_write(dir, "tolink", "a file that becomes a symlink\n");
	ck_assert_int_eq(tu_sh(dir, "mkdir mod && ln -s kept.sql link && "
				    "git update-index --add --cacheinfo "
				    "160000,%s,mod", subsha), 0);
	free(tu_git_commit(dir, "A", "a@example.com", 1600000001, "old"));
	ck_assert_int_eq(tu_sh(dir, "git tag old"), 0);
	/* the new tree */
	ck_assert_int_eq(tu_sh(dir, "rm gone.sql f2d && rm -r d2f a && "
				    "chmod +x run.sh && rm link tolink && "
				    "ln -s edited.sql link && "
				    "ln -s kept.sql tolink"), 0);
	tu_write(dir, "edited.sql", "v2\n");
	tu_write(dir, "added.sql", "new\n");
	tu_write(dir, "f2d/y.sql", "now a directory\n");
	tu_write(dir, "d2f", "now a file\n");
	tu_write(dir, "a", "a blob named a\n");
	tu_write(dir, "a.sql", "a.sql v2\n");
	tu_write(dir, "deep/er/still.sql", "deeper\n");
	tu_write(sub, "s.txt", "t\n");
	free(subsha);
	subsha = tu_git_commit(sub, "S", "s@example.com", 1600000002, "t");
	ck_assert_int_eq(tu_sh(dir, "git update-index --cacheinfo "
				    "160000,%s,mod", subsha), 0);
	free(tu_git_commit(dir, "A", "a@example.com", 1600000003, "new"));
	/* loose objects, both directions */
	same_as_git(dir, "old", "HEAD");
	ours = our_diff(dir, "old", "HEAD", CAIRN_GIT_ODB_FAST);
	ck_assert_str_eq(ours, "A 000000 100644 a\n"
			       "A 000000 100644 added.sql\n"
			       "A 000000 100644 d2f\n"
			       "A 000000 100644 f2d/y.sql\n"
			       "D 100644 000000 a/inner.sql\n"
			       "D 100644 000000 d2f/x.sql\n"
			       "D 100644 000000 f2d\n"
			       "D 100644 000000 gone.sql\n"
			       "M 100644 100644 a.sql\n"
			       "M 100644 100644 deep/er/still.sql\n"
			       "M 100644 100644 edited.sql\n"
			       "M 100644 100755 run.sh\n"
			       "M 100644 120000 tolink\n"
			       "M 120000 120000 link\n"
			       "M 160000 160000 mod\n");
	free(ours);
	same_as_git(dir, "HEAD", "old");
	/* packed */
	ck_assert_int_eq(tu_sh(dir, "git gc -q"), 0);
	same_as_git(dir, "old", "HEAD");
	same_as_git(dir, "HEAD", "old");
	free(subsha);
	tu_rmrf(sub);
	tu_rmrf(dir);
	free(sub);
	free(dir);
}
END_TEST

/* What the diff names, spelled out for the cases git orders oddly. */
START_TEST(test_diff_kinds)
{
	char *dir = tu_git_repo();
	char *ours;

	tu_write(dir, "a.sql", "1\n");
	tu_write(dir, "a/x.sql", "1\n");
	tu_write(dir, "m.sql", "1\n");
	free(tu_git_commit(dir, "A", "a@example.com", 1600000001, "1"));
	ck_assert_int_eq(tu_sh(dir, "git tag one && rm -r a && "
				    "chmod +x m.sql"), 0);
	tu_write(dir, "a", "now a blob\n");
	free(tu_git_commit(dir, "A", "a@example.com", 1600000002, "2"));
	ours = our_diff(dir, "one", "HEAD", CAIRN_GIT_ODB_FAST);
	ck_assert_str_eq(ours, "A 000000 100644 a\n"
			       "D 100644 000000 a/x.sql\n"
			       "M 100644 100755 m.sql\n");
	free(ours);
	tu_rmrf(dir);
	free(dir);
}
END_TEST

/* git's tree order and the one mode normalisation. */
START_TEST(test_tree_order_and_modes)
{
	cairn_git_entry blob = { "a", 1, 0100644, NULL };
	cairn_git_entry sql = { "a.sql", 5, 0100644, NULL };
	cairn_git_entry tree = { "a", 1, 040000, NULL };
	cairn_git_entry dash = { "a-b", 3, 040000, NULL };

	ck_assert_int_lt(cairn_git__entry_cmp(&blob, &sql), 0);
	ck_assert_int_lt(cairn_git__entry_cmp(&sql, &tree), 0);
	ck_assert_int_lt(cairn_git__entry_cmp(&blob, &tree), 0);
	ck_assert_int_gt(cairn_git__entry_cmp(&tree, &dash), 0);
	ck_assert_int_eq(cairn_git__entry_cmp(&tree, &tree), 0);
	ck_assert_uint_eq(cairn_git__mode_normalize(0100644), 0100644);
	ck_assert_uint_eq(cairn_git__mode_normalize(0100664), 0100644);
	ck_assert_uint_eq(cairn_git__mode_normalize(0100755), 0100755);
	ck_assert_uint_eq(cairn_git__mode_normalize(0100700), 0100755);
	ck_assert_uint_eq(cairn_git__mode_normalize(0120000), 0120000);
	ck_assert_uint_eq(cairn_git__mode_normalize(0160000), 0160000);
	ck_assert_uint_eq(cairn_git__mode_normalize(040000), 040000);
}
END_TEST

/* ---- the reader: the pack reader and libgit2 give the same objects ---- */

static void same_objects(const char *dir, bool packed)
{
	cairn_repo *repo = open_repo(dir);
	cairn_git_odb *fast = NULL, *lg2 = NULL;
	char *list = tu_sh_out(dir, "git cat-file --batch-all-objects "
				    "--batch-check='%%(objectname)'");
	char *line = list, *nl;
	size_t n = 0, p, f;

	ck_assert_int_eq(cairn_git__odb_new(&fast, cairn_repo__git(repo), "repo", 1 << 20,
					    CAIRN_GIT_ODB_FAST), 0);
	ck_assert_int_eq(cairn_git__odb_new(&lg2, cairn_repo__git(repo), "repo", 0,
					    CAIRN_GIT_ODB_LIBGIT2), 0);
	for (; line && *line; line = nl ? nl + 1 : NULL) {
		cairn_git_obj *a = NULL, *b = NULL;
		git_oid id;

		nl = strchr(line, '\n');
		if (nl)
			*nl = '\0';
		ck_assert_int_eq(git_oid_fromstr(&id, line), 0);
		ck_assert_int_eq(cairn_git__odb_read(&a, fast, &id), 0);
		ck_assert_int_eq(cairn_git__odb_read(&b, lg2, &id), 0);
		ck_assert_int_eq(a->type, b->type);
		ck_assert_uint_eq(a->len, b->len);
		ck_assert(memcmp(a->data, b->data, a->len) == 0);
		cairn_git__obj_free(a);
		cairn_git__obj_free(b);
		n++;
	}
	ck_assert_uint_gt(n, 5);
	cairn_git__odb_stats(fast, &p, &f);
	ck_assert_uint_eq(p + f, n);
	ck_assert_uint_eq(packed ? f : p, 0);
	cairn_git__odb_stats(lg2, &p, &f);
	ck_assert_uint_eq(p, 0);
	ck_assert_uint_eq(f, n);
	cairn_git__odb_free(fast);
	cairn_git__odb_free(lg2);
	cairn_repo_free(repo);
	free(list);
}

START_TEST(test_reader_loose_and_packed)
{
	char *dir = tu_git_repo();
	int i;

	for (i = 0; i < 6; i++) {
		char name[32], body[64];

		snprintf(name, sizeof(name), "db/%04d_m.up.sql", i);
		snprintf(body, sizeof(body), "SELECT %d;\n", i);
		tu_write(dir, name, body);
		free(tu_git_commit(dir, "A", "a@example.com", 1600000000 + i,
				   "m"));
	}
	same_objects(dir, false);
	ck_assert_int_eq(tu_sh(dir, "git gc -q --aggressive"), 0);
	same_objects(dir, true);
	tu_rmrf(dir);
	free(dir);
}
END_TEST

/* ---- the object format ---- */

static void set_format(const char *dir, int version, const char *format)
{
	/* -f: git itself refuses to run in some of these repositories */
	ck_assert_int_eq(tu_sh(dir, "git config -f .git/config "
				    "core.repositoryformatversion %d && "
				    "git config -f .git/config "
				    "extensions.objectformat %s",
			       version, format), 0);
}

START_TEST(test_sha256_config_steps_aside)
{
	char *dir = tu_git_repo();
	cairn_load_options lo = CAIRN_LOAD_OPTIONS_INIT;
	cairn_migration_set *set = NULL;
	cairn_git_odb *db = NULL;
	const cairn_error *err;
	cairn_repo *repo, *again = NULL;
	char fmt[32];

	tu_write(dir, "db/migrations/0001_a.up.sql", "SELECT 1;\n");
	free(tu_git_commit(dir, "A", "a@example.com", 1600000000, "a"));
	ck_assert_int_eq(tu_sh(dir, "git gc -q"), 0);
	repo = open_repo(dir);
	ck_assert_int_eq(cairn_git__object_format(fmt, sizeof(fmt),
						  cairn_repo_commondir(repo)),
			 0);
	ck_assert_str_eq(fmt, "sha1");
	/* a repository that says its objects are sha256 */
	set_format(dir, 1, "sha256");
	ck_assert_int_eq(cairn_git__object_format(fmt, sizeof(fmt),
						  cairn_repo_commondir(repo)),
			 0);
	ck_assert_str_eq(fmt, "sha256");
	ck_assert_int_eq(cairn_git__odb_new(&db, cairn_repo__git(repo), "repo", 1 << 20,
					    CAIRN_GIT_ODB_FAST), CAIRN_ERROR);
	ck_assert_ptr_null(db);
	err = cairn_error_last();
	ck_assert_ptr_nonnull(err);
	ck_assert_int_eq(err->klass, CAIRN_ERRCLASS_GIT);
	ck_assert_ptr_nonnull(strstr(err->message, "object format"));
	ck_assert_ptr_nonnull(strstr(err->message, "sha256"));
	/* and so does everything that reads objects through the layer */
	lo.rev = "HEAD";
	ck_assert_int_ne(cairn_migration_set_load(&set, repo, &lo), 0);
	ck_assert_ptr_nonnull(strstr(cairn_error_last()->message, "sha256"));
	/* a fresh open is refused by libgit2, with an error too */
	ck_assert_int_ne(open_refused(&again, dir), 0);
	ck_assert_ptr_nonnull(cairn_error_last());
	/* format version 0 ignores extensions, as git does */
	set_format(dir, 0, "sha256");
	ck_assert_int_eq(cairn_git__odb_new(&db, cairn_repo__git(repo), "repo", 1 << 20,
					    CAIRN_GIT_ODB_FAST), 0);
	cairn_git__odb_free(db);
	/* an explicit sha1 keeps the pack reader */
	set_format(dir, 1, "sha1");
	ck_assert_int_eq(cairn_git__object_format(fmt, sizeof(fmt),
						  cairn_repo_commondir(repo)),
			 0);
	ck_assert_str_eq(fmt, "sha1");
	ck_assert_int_eq(cairn_migration_set_load(&set, repo, &lo), 0);
	ck_assert_uint_eq(cairn_migration_set_count(set), 1);
	cairn_migration_set_free(set);
	cairn_repo_free(repo);
	tu_rmrf(dir);
	free(dir);
}
END_TEST

/* A repository git made with --object-format=sha256 is refused clearly. */
START_TEST(test_real_sha256_repository)
{
	char *dir = tu_mkdtemp();
	cairn_repo *repo = NULL;

	if (tu_sh(dir, "git init -q --object-format=sha256 . 2>/dev/null") !=
	    0) {
		tu_rmrf(dir);
		free(dir);
		return; /* a git without sha256 */
	}
	ck_assert_int_eq(tu_sh(dir, "echo a > a && git add a && "
				    "git -c user.name=A -c user.email=a@b "
				    "commit -qm a && git gc -q"), 0);
	ck_assert_int_ne(open_refused(&repo, dir), 0);
	ck_assert_ptr_null(repo);
	ck_assert_ptr_nonnull(cairn_error_last());
	ck_assert_int_eq(cairn_error_last()->klass, CAIRN_ERRCLASS_GIT);
	tu_rmrf(dir);
	free(dir);
}
END_TEST

/* ---- commit headers ---- */

/* A commit libgit2 refuses (author without '<') is read raw. */
START_TEST(test_commit_header_lenient)
{
	char *dir = tu_git_repo(), *hex;
	cairn_repo *repo;
	cairn_git_odb *db = NULL;
	cairn_git_obj *obj = NULL;
	cairn_git_commit c;
	cairn_git_sig sig;
	git_oid id, parent;

	tu_write(dir, "a", "a\n");
	free(tu_git_commit(dir, "A", "a@example.com", 1600000000, "a"));
	hex = tu_sh_out(dir,
		"t=$(git rev-parse HEAD^{tree}) && p=$(git rev-parse HEAD) && "
		"printf 'tree %%s\\nparent %%s\\nauthor no email here "
		"1600000001 +0000\\ncommitter C <c@d> 1600000002 +0130\\n"
		"\\nodd\\n' $t $p | git hash-object -t commit -w --stdin "
		"--literally");
	hex[strcspn(hex, "\n")] = '\0';
	ck_assert_int_eq(git_oid_fromstr(&id, hex), 0);
	repo = open_repo(dir);
	ck_assert_int_eq(cairn_git__odb_new(&db, cairn_repo__git(repo), "repo", 0, CAIRN_GIT_ODB_FAST),
			 0);
	ck_assert_int_eq(cairn_git__commit_read(&obj, &c, db, &id), 0);
	ck_assert_uint_eq(c.nparents, 1);
	cairn_git__commit_parent(&parent, &c, 0);
	ck_assert(git_oid_equal(&parent, &(git_oid){ { 0 } }) == 0);
	ck_assert_int_eq(cairn_git__commit_time(&c), 1600000002);
	cairn_git__signature_parse(&sig, c.author, c.author_len);
	ck_assert(sig.malformed);
	cairn_git__signature_parse(&sig, c.committer, c.committer_len);
	ck_assert_int_eq(sig.offset, 90);
	cairn_git__obj_free(obj);
	/* a tree is not a commit */
	id = oid_of(dir, "HEAD^{tree}");
	ck_assert_int_eq(cairn_git__commit_read(&obj, &c, db, &id),
			 CAIRN_ERROR);
	ck_assert_ptr_null(obj);
	cairn_git__odb_free(db);
	cairn_repo_free(repo);
	free(hex);
	tu_rmrf(dir);
	free(dir);
}
END_TEST

/* ---- path lookups ---- */

START_TEST(test_tree_bypath)
{
	char *dir = tu_git_repo();
	cairn_repo *repo;
	cairn_git_odb *db = NULL;
	cairn_git_trees trees;
	git_oid root, id;
	unsigned mode;

	tu_write(dir, "db/migrations/0001_a.up.sql", "SELECT 1;\n");
	tu_write(dir, "db/file", "x\n");
	free(tu_git_commit(dir, "A", "a@example.com", 1600000000, "a"));
	root = oid_of(dir, "HEAD^{tree}");
	repo = open_repo(dir);
	ck_assert_int_eq(cairn_git__odb_new(&db, cairn_repo__git(repo), "repo", 0, CAIRN_GIT_ODB_FAST),
			 0);
	cairn_git__trees_init(&trees, db);
	ck_assert_int_eq(cairn_git__tree_bypath(&id, &mode, &trees, &root,
						"db/migrations"), 0);
	ck_assert_uint_eq(mode, 040000);
	ck_assert(git_oid_equal(&id, &(git_oid){ { 0 } }) == 0);
	ck_assert_int_eq(cairn_git__tree_bypath(&id, &mode, &trees, &root,
					"db/migrations/0001_a.up.sql"), 0);
	ck_assert_uint_eq(mode, 0100644);
	/* absent, and below a file */
	ck_assert_int_eq(cairn_git__tree_bypath(&id, &mode, &trees, &root,
						"db/nope"), 0);
	ck_assert_uint_eq(mode, 0);
	ck_assert(git_oid_is_zero(&id));
	ck_assert_int_eq(cairn_git__tree_bypath(&id, &mode, &trees, &root,
						"db/file/x"), 0);
	ck_assert_uint_eq(mode, 0);
	ck_assert(git_oid_is_zero(&id));
	/* the empty path is the tree itself */
	ck_assert_int_eq(cairn_git__tree_bypath(&id, &mode, &trees, &root, ""),
			 0);
	ck_assert(git_oid_equal(&id, &root));
	cairn_git__trees_dispose(&trees);
	cairn_git__odb_free(db);
	cairn_repo_free(repo);
	tu_rmrf(dir);
	free(dir);
}
END_TEST

/* ---- the history walk against git rev-list ---- */

/* Our range as lines of ids, in our order. */
static char *our_range(cairn_git_graph *g, const char *dir, const char *tip,
		       const char *const *hide, size_t nhide)
{
	uint32_t start, hidden[8], *list = NULL;
	cairn_buf out = CAIRN_BUF_INIT;
	size_t n = 0, i;
	git_oid id;
	char *s;

	id = oid_of(dir, tip);
	ck_assert_int_eq(cairn_git__graph_node(&start, g, &id), 0);
	for (i = 0; i < nhide; i++) {
		id = oid_of(dir, hide[i]);
		ck_assert_int_eq(cairn_git__graph_node(&hidden[i], g, &id), 0);
	}
	ck_assert_int_eq(cairn_git__graph_range(g, start, hidden, nhide,
						&list, &n), 0);
	for (i = 0; i < n; i++) {
		char hex[GIT_OID_HEXSZ + 1];

		ck_assert(g->nodes[list[i]].flags & CAIRN_GIT_RANGE);
		git_oid_tostr(hex, sizeof(hex), &g->nodes[list[i]].oid);
		ck_assert_int_eq(cairn_buf_printf(&out, "%s\n", hex), 0);
	}
	free(list);
	s = strdup(out.size ? out.ptr : "");
	cairn_buf_dispose(&out);
	return s;
}

static void range_as_git(const char *dir, const char *tip,
			 const char *const *hide, size_t nhide)
{
	cairn_repo *repo = open_repo(dir);
	cairn_git_odb *db = NULL;
	cairn_git_graph g;
	cairn_buf args = CAIRN_BUF_INIT;
	char *ours, *git;
	size_t i;

	for (i = 0; i < nhide; i++)
		ck_assert_int_eq(cairn_buf_printf(&args, " ^%s", hide[i]), 0);
	git = tu_sh_out(dir, "git rev-list --date-order %s%s", tip,
			args.size ? args.ptr : "");
	ck_assert_int_eq(cairn_git__odb_new(&db, cairn_repo__git(repo), "repo", 0, CAIRN_GIT_ODB_FAST),
			 0);
	/* a fresh graph: a range walk leaves its flags on the nodes */
	cairn_git__graph_init(&g, db, false);
	ours = our_range(&g, dir, tip, hide, nhide);
	/* tu_sh_out() drops the last newline */
	if (*ours)
		ours[strlen(ours) - 1] = '\0';
	ck_assert_msg(strcmp(ours, git) == 0, "%s%s\nours:\n%sgit:\n%s", tip,
		      args.size ? args.ptr : "", ours, git);
	free(ours);
	cairn_git__graph_dispose(&g);
	cairn_git__odb_free(db);
	cairn_repo_free(repo);
	cairn_buf_dispose(&args);
	free(git);
}

START_TEST(test_walk_matches_rev_list)
{
	char *dir = tu_git_repo();
	static const char *const two[] = { "c2" };
	static const char *const side[] = { "side" };
	static const char *const both[] = { "c3", "s1" };
	static const char *const head[] = { "HEAD" };
	cairn_repo *repo;
	cairn_git_odb *db = NULL;
	cairn_git_graph g;
	uint32_t a, b;
	git_oid id;
	bool yes;

	tu_write(dir, "f", "1\n");
	free(tu_git_commit(dir, "A", "a@example.com", 1600000001, "c1"));
	tu_write(dir, "f", "2\n");
	free(tu_git_commit(dir, "A", "a@example.com", 1600000002, "c2"));
	ck_assert_int_eq(tu_sh(dir, "git tag c2 && git checkout -q -b side"),
			 0);
	tu_write(dir, "s", "1\n");
	free(tu_git_commit(dir, "A", "a@example.com", 1600000003, "s1"));
	ck_assert_int_eq(tu_sh(dir, "git tag s1"), 0);
	tu_write(dir, "s", "2\n");
	free(tu_git_commit(dir, "A", "a@example.com", 1600000005, "s2"));
	ck_assert_int_eq(tu_sh(dir, "git checkout -q main"), 0);
	tu_write(dir, "f", "3\n");
	free(tu_git_commit(dir, "A", "a@example.com", 1600000004, "c3"));
	ck_assert_int_eq(tu_sh(dir, "git tag c3 && "
				    "GIT_AUTHOR_DATE=@1600000006 "
				    "GIT_COMMITTER_DATE=@1600000006 "
				    "git merge -q --no-ff side -m merge"), 0);
	tu_write(dir, "f", "4\n");
	free(tu_git_commit(dir, "A", "a@example.com", 1600000007, "c4"));
	range_as_git(dir, "HEAD", NULL, 0);
	range_as_git(dir, "HEAD", two, 1);
	range_as_git(dir, "HEAD", side, 1);
	range_as_git(dir, "HEAD", both, 2);
	range_as_git(dir, "c2", head, 1);
	range_as_git(dir, "side", two, 1);
	/* ancestry */
	repo = open_repo(dir);
	ck_assert_int_eq(cairn_git__odb_new(&db, cairn_repo__git(repo), "repo", 0, CAIRN_GIT_ODB_FAST),
			 0);
	cairn_git__graph_init(&g, db, false);
	id = oid_of(dir, "HEAD");
	ck_assert_int_eq(cairn_git__graph_node(&a, &g, &id), 0);
	id = oid_of(dir, "s1");
	ck_assert_int_eq(cairn_git__graph_node(&b, &g, &id), 0);
	ck_assert_int_eq(cairn_git__graph_is_ancestor(&yes, &g, a, b), 0);
	ck_assert(yes);
	ck_assert_int_eq(cairn_git__graph_is_ancestor(&yes, &g, b, a), 0);
	ck_assert(!yes);
	cairn_git__graph_dispose(&g);
	cairn_git__odb_free(db);
	cairn_repo_free(repo);
	tu_rmrf(dir);
	free(dir);
}
END_TEST

/* ---- range over the one walk: merges and shallow clones ---- */

/* dir + "/s" into out (strlen(dir) + 3 bytes). */
static void join_s(char *out, const char *dir)
{
	size_t n = strlen(dir);

	memcpy(out, dir, n);
	memcpy(out + n, "/s", 3);
}

static size_t rev_count(const char *dir, const char *args)
{
	char *out = tu_sh_out(dir, "git rev-list --count %s", args);
	size_t n = strtoul(out, NULL, 10);

	free(out);
	return n;
}

static char *hex_of(const char *dir, const char *rev)
{
	git_oid id = oid_of(dir, rev);
	char *hex = malloc(GIT_OID_HEXSZ + 1);

	git_oid_tostr(hex, GIT_OID_HEXSZ + 1, &id);
	return hex;
}

START_TEST(test_range_merge_and_shallow)
{
	char *dir = tu_git_repo(), *shallow = tu_mkdtemp(), *h;
	cairn_range_options opts = CAIRN_RANGE_OPTIONS_INIT;
	const char *hide[] = { "c2" };
	cairn_range r = CAIRN_RANGE_INIT;
	const cairn_range_file *f;
	cairn_repo *repo;

	tu_write(dir, "db/migrations/0001_a.up.sql", "1\n");
	free(tu_git_commit(dir, "A", "a@example.com", 1600000001, "c1"));
	tu_write(dir, "db/migrations/0002_b.up.sql", "2\n");
	free(tu_git_commit(dir, "A", "a@example.com", 1600000002, "c2"));
	ck_assert_int_eq(tu_sh(dir, "git tag c2 && git checkout -q -b side"),
			 0);
	tu_write(dir, "db/migrations/0001_a.up.sql", "1 edited\n");
	free(tu_git_commit(dir, "A", "a@example.com", 1600000003, "s1"));
	ck_assert_int_eq(tu_sh(dir, "git tag s1 && git checkout -q main"), 0);
	tu_write(dir, "db/migrations/0003_c.up.sql", "3\n");
	free(tu_git_commit(dir, "A", "a@example.com", 1600000004, "c3"));
	ck_assert_int_eq(tu_sh(dir, "git tag c3 && "
				    "GIT_AUTHOR_DATE=@1600000005 "
				    "GIT_COMMITTER_DATE=@1600000005 "
				    "git merge -q --no-ff side -m merge"), 0);
	tu_write(dir, "db/migrations/0002_b.up.sql", "2 edited\n");
	free(tu_git_commit(dir, "A", "a@example.com", 1600000006, "c4"));
	repo = open_repo(dir);
	opts.hide = hide;
	opts.hide_count = 1;
	ck_assert_int_eq(cairn_range_changes(&r, repo, "HEAD", &opts), 0);
	ck_assert_uint_eq(r.commits, rev_count(dir, "HEAD ^c2"));
	ck_assert_uint_eq(r.count, 3);
	/* the merge brought s1's edit: attributed to s1, not the merge */
	f = cairn_range_find(&r, "db/migrations/0001_a.up.sql");
	ck_assert_ptr_nonnull(f);
	h = hex_of(dir, "s1");
	ck_assert_str_eq(f->first, h);
	ck_assert_str_eq(f->last, h);
	ck_assert_uint_eq(f->commits, 1);
	free(h);
	f = cairn_range_find(&r, "db/migrations/0003_c.up.sql");
	h = hex_of(dir, "c3");
	ck_assert_str_eq(f->first, h);
	ck_assert_int_eq(f->first_kind, CAIRN_RANGE_ADDED);
	free(h);
	f = cairn_range_find(&r, "db/migrations/0002_b.up.sql");
	h = hex_of(dir, "HEAD");
	ck_assert_str_eq(f->last, h);
	ck_assert_int_eq(f->last_kind, CAIRN_RANGE_MODIFIED);
	free(h);
	cairn_range_dispose(&r);
	cairn_repo_free(repo);
	/* a shallow clone: the walk stops at its edge, as git's does */
	ck_assert_int_eq(tu_sh(shallow, "git clone -q --depth 2 file://%s s",
			       dir), 0);
	h = malloc(strlen(shallow) + 3);
	join_s(h, shallow);
	repo = open_repo(h);
	ck_assert_int_eq(cairn_range_changes(&r, repo, "HEAD", NULL), 0);
	ck_assert_uint_eq(r.commits, rev_count(h, "HEAD"));
	ck_assert_uint_eq(r.commits, 2);
	/* the merge at the edge has no parents here: it added everything */
	ck_assert_uint_eq(r.count, 3);
	f = cairn_range_find(&r, "db/migrations/0003_c.up.sql");
	ck_assert_ptr_nonnull(f);
	ck_assert_int_eq(f->first_kind, CAIRN_RANGE_ADDED);
	cairn_range_dispose(&r);
	cairn_repo_free(repo);
	free(h);
	tu_rmrf(shallow);
	free(shallow);
	tu_rmrf(dir);
	free(dir);
}
END_TEST

static Suite *gitlayer_suite(void)
{
	Suite *s = suite_create("gitlayer");
	TCase *tc = tcase_create("core");

	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_diff_matches_git);
	tcase_add_test(tc, test_diff_kinds);
	tcase_add_test(tc, test_tree_order_and_modes);
	tcase_add_test(tc, test_reader_loose_and_packed);
	tcase_add_test(tc, test_sha256_config_steps_aside);
	tcase_add_test(tc, test_real_sha256_repository);
	tcase_add_test(tc, test_commit_header_lenient);
	tcase_add_test(tc, test_tree_bypath);
	tcase_add_test(tc, test_walk_matches_rev_list);
	tcase_add_test(tc, test_range_merge_and_shallow);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(gitlayer_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
