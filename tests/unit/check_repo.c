/*
 * check_repo.c - unit tests for the git repository wrapper
 * (include/cairn/repo.h, src/repo.c).
 *
 * Each test builds its own repository with the git program in a fresh
 * temporary directory (several authors, tags, branches) and checks what
 * libcairn reads from it: discovery, revision forms, ref names, commit
 * records, the dirty state and ancestry, and the errors for things that
 * are not there.  The raw object reader (src/git/odb_raw.c) is checked against
 * the object ids themselves: every object of packed repositories, with
 * delta chains running either way, must hash to its id.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "cairn/error.h"
#include "cairn/repo.h"
#include "repo_internal.h"
#include "testutil.h"

static cairn_repo *open_repo(const char *dir)
{
	cairn_repo *repo = NULL;

	if (cairn_repo_open(&repo, dir) != 0)
		ck_abort_msg("open %s: %s", dir, cairn_error_last()->message);
	return repo;
}

/* A repository with three commits by two authors, a tag and a branch. */
static char *fixture(char **shas)
{
	char *dir = tu_git_repo();

	tu_write(dir, "a.txt", "one\n");
	shas[0] = tu_git_commit(dir, "Ada Lovelace", "ada@example.com",
				1600000000, "first commit\n\nwith a body\n");
	tu_write(dir, "a.txt", "two\n");
	shas[1] = tu_git_commit(dir, "Grace Hopper", "grace@example.com",
				1600000100, "second");
	tu_sh(dir, "git tag v1 && git tag -a -m annotated v1-ann");
	tu_write(dir, "b.txt", "three\n");
	shas[2] = tu_git_commit(dir, "Ada Lovelace", "ada@example.com",
				1600000200, "third");
	tu_sh(dir, "git branch feature %s", shas[0]);
	return dir;
}

static void free_fixture(char *dir, char **shas)
{
	tu_rmrf(dir);
	free(dir);
	free(shas[0]);
	free(shas[1]);
	free(shas[2]);
}

START_TEST(test_open_and_dirs)
{
	char *shas[3], *dir = fixture(shas), sub[4096], *real;
	cairn_repo *repo;

	snprintf(sub, sizeof(sub), "%s/deep/er", dir);
	tu_sh(dir, "mkdir -p deep/er");
	repo = open_repo(sub);
	real = tu_sh_out(dir, "pwd -P");
	ck_assert(!strncmp(cairn_repo_workdir(repo), real, strlen(real)));
	ck_assert_str_eq(cairn_repo_workdir(repo) + strlen(real), "/");
	ck_assert(tu_contains(cairn_repo_gitdir(repo), "/.git/"));
	ck_assert(tu_contains(cairn_repo_commondir(repo), "/.git/"));
	free(real);
	cairn_repo_free(repo);
	cairn_repo_free(NULL);
	free_fixture(dir, shas);
}
END_TEST

START_TEST(test_not_a_repository)
{
	char *dir = tu_mkdtemp(), missing[4096];
	cairn_repo *repo = (cairn_repo *)1;
	const cairn_error *e;

	ck_assert_int_eq(cairn_repo_open(&repo, dir), CAIRN_ENOTFOUND);
	ck_assert_ptr_null(repo);
	e = cairn_error_last();
	ck_assert_int_eq(e->klass, CAIRN_ERRCLASS_GIT);
	ck_assert(tu_contains(e->message, dir));
	ck_assert(!strchr(e->message, '\n'));
	ck_assert_ptr_nonnull(e->hint);
	snprintf(missing, sizeof(missing), "%s/does/not/exist", dir);
	ck_assert_int_lt(cairn_repo_open(&repo, missing), 0);
	ck_assert_int_eq(cairn_error_last()->klass, CAIRN_ERRCLASS_GIT);
	tu_rmrf(dir);
	free(dir);
}
END_TEST

START_TEST(test_resolve)
{
	char *shas[3], *dir = fixture(shas), out[CAIRN_OID_HEXSZ];
	char shortsha[13];
	cairn_repo *repo = open_repo(dir);

	ck_assert_int_eq(cairn_repo_resolve(out, repo, "HEAD"), 0);
	ck_assert_str_eq(out, shas[2]);
	ck_assert_int_eq(cairn_repo_resolve(out, repo, NULL), 0);
	ck_assert_str_eq(out, shas[2]);
	ck_assert_int_eq(cairn_repo_resolve(out, repo, "HEAD~1"), 0);
	ck_assert_str_eq(out, shas[1]);
	ck_assert_int_eq(cairn_repo_resolve(out, repo, "v1"), 0);
	ck_assert_str_eq(out, shas[1]);
	ck_assert_int_eq(cairn_repo_resolve(out, repo, "v1-ann"), 0);
	ck_assert_str_eq(out, shas[1]);
	ck_assert_int_eq(cairn_repo_resolve(out, repo, "v1-ann^{commit}"), 0);
	ck_assert_str_eq(out, shas[1]);
	ck_assert_int_eq(cairn_repo_resolve(out, repo, "feature"), 0);
	ck_assert_str_eq(out, shas[0]);
	ck_assert_int_eq(cairn_repo_resolve(out, repo, "main"), 0);
	ck_assert_str_eq(out, shas[2]);
	ck_assert_int_eq(cairn_repo_resolve(out, repo, shas[0]), 0);
	ck_assert_str_eq(out, shas[0]);
	snprintf(shortsha, sizeof(shortsha), "%.12s", shas[1]);
	ck_assert_int_eq(cairn_repo_resolve(out, repo, shortsha), 0);
	ck_assert_str_eq(out, shas[1]);

	ck_assert_int_eq(cairn_repo_resolve(out, repo, "nope"),
			 CAIRN_ENOTFOUND);
	ck_assert_str_eq(out, "");
	ck_assert_int_eq(cairn_error_last()->klass, CAIRN_ERRCLASS_GIT);
	ck_assert(tu_contains(cairn_error_last()->message, "'nope'"));
	ck_assert_ptr_nonnull(cairn_error_last()->hint);
	ck_assert_int_eq(cairn_repo_resolve(out, repo, "HEAD~10"),
			 CAIRN_ENOTFOUND);
	ck_assert_int_eq(cairn_repo_resolve(out, repo, "v1..v2..v3"),
			 CAIRN_ENOTFOUND);
	ck_assert_int_eq(cairn_error_last()->klass, CAIRN_ERRCLASS_GIT);
	/* a tree is not a commit */
	ck_assert_int_lt(cairn_repo_resolve(out, repo, "HEAD^{tree}"), 0);
	ck_assert_int_eq(cairn_error_last()->klass, CAIRN_ERRCLASS_GIT);
	cairn_repo_free(repo);
	free_fixture(dir, shas);
}
END_TEST

START_TEST(test_ref_name)
{
	char *shas[3], *dir = fixture(shas), *name;
	cairn_repo *repo = open_repo(dir);

	ck_assert_int_eq(cairn_repo_ref_name(&name, repo, "HEAD"), 0);
	ck_assert_str_eq(name, "refs/heads/main");
	free(name);
	ck_assert_int_eq(cairn_repo_ref_name(&name, repo, NULL), 0);
	ck_assert_str_eq(name, "refs/heads/main");
	free(name);
	ck_assert_int_eq(cairn_repo_ref_name(&name, repo, "feature"), 0);
	ck_assert_str_eq(name, "refs/heads/feature");
	free(name);
	ck_assert_int_eq(cairn_repo_ref_name(&name, repo, "v1"), 0);
	ck_assert_str_eq(name, "refs/tags/v1");
	free(name);
	ck_assert_int_eq(cairn_repo_ref_name(&name, repo, "HEAD~1"), 0);
	ck_assert_ptr_null(name);
	ck_assert_int_eq(cairn_repo_ref_name(&name, repo, shas[0]), 0);
	ck_assert_ptr_null(name);
	ck_assert_int_eq(cairn_repo_ref_name(&name, repo, "nope"),
			 CAIRN_ENOTFOUND);
	ck_assert_ptr_null(name);

	tu_sh(dir, "git checkout -q --detach HEAD");
	ck_assert_int_eq(cairn_repo_ref_name(&name, repo, "HEAD"), 0);
	ck_assert_ptr_null(name);
	cairn_repo_free(repo);
	free_fixture(dir, shas);
}
END_TEST

START_TEST(test_commit_info)
{
	char *shas[3], *dir = fixture(shas);
	cairn_repo *repo = open_repo(dir);
	cairn_commit_info info, copy;

	ck_assert_int_eq(cairn_repo_commit_info(&info, repo, "HEAD~2"), 0);
	ck_assert_str_eq(info.sha, shas[0]);
	ck_assert_str_eq(info.author_name, "Ada Lovelace");
	ck_assert_str_eq(info.author_email, "ada@example.com");
	ck_assert_int_eq(info.author_time, 1600000000);
	ck_assert_int_eq(info.author_offset, 0);
	ck_assert_str_eq(info.summary, "first commit");
	ck_assert_int_eq(cairn_commit_info_copy(&copy, &info), 0);
	cairn_commit_info_dispose(&info);
	ck_assert_ptr_null(info.author_name);
	ck_assert_str_eq(copy.sha, shas[0]);
	ck_assert_str_eq(copy.author_name, "Ada Lovelace");
	ck_assert_str_eq(copy.summary, "first commit");
	cairn_commit_info_dispose(&copy);
	cairn_commit_info_dispose(NULL);

	ck_assert_int_eq(cairn_repo_commit_info(&info, repo, "v1"), 0);
	ck_assert_str_eq(info.author_name, "Grace Hopper");
	ck_assert_str_eq(info.summary, "second");
	cairn_commit_info_dispose(&info);
	ck_assert_int_eq(cairn_repo_commit_info(&info, repo, "nope"),
			 CAIRN_ENOTFOUND);
	ck_assert_ptr_null(info.author_name);
	cairn_repo_free(repo);
	free_fixture(dir, shas);
}
END_TEST

START_TEST(test_dirty)
{
	char *shas[3], *dir = fixture(shas), *detail = NULL;
	cairn_repo *repo = open_repo(dir);
	bool dirty = true;

	ck_assert_int_eq(cairn_repo_is_dirty(&dirty, &detail, repo), 0);
	ck_assert(!dirty);
	ck_assert_ptr_null(detail);

	tu_write(dir, "untracked.txt", "x\n");
	ck_assert_int_eq(cairn_repo_is_dirty(&dirty, &detail, repo), 0);
	ck_assert(!dirty);

	tu_write(dir, "a.txt", "changed\n");
	ck_assert_int_eq(cairn_repo_is_dirty(&dirty, &detail, repo), 0);
	ck_assert(dirty);
	ck_assert(tu_contains(detail, "'a.txt'"));
	free(detail);
	ck_assert_int_eq(cairn_repo_is_dirty(&dirty, NULL, repo), 0);
	ck_assert(dirty);

	tu_sh(dir, "git checkout -q a.txt && git add untracked.txt");
	ck_assert_int_eq(cairn_repo_is_dirty(&dirty, &detail, repo), 0);
	ck_assert(dirty);
	ck_assert(tu_contains(detail, "untracked.txt"));
	free(detail);
	cairn_repo_free(repo);
	free_fixture(dir, shas);
}
END_TEST

START_TEST(test_ancestor)
{
	char *shas[3], *dir = fixture(shas);
	cairn_repo *repo = open_repo(dir);
	bool yes = false;

	ck_assert_int_eq(cairn_repo_is_ancestor(&yes, repo, "v1", "HEAD"), 0);
	ck_assert(yes);
	ck_assert_int_eq(cairn_repo_is_ancestor(&yes, repo, "HEAD", "v1"), 0);
	ck_assert(!yes);
	ck_assert_int_eq(cairn_repo_is_ancestor(&yes, repo, "HEAD", "HEAD"),
			 0);
	ck_assert(yes);
	ck_assert_int_eq(cairn_repo_is_ancestor(&yes, repo, shas[0], "main"),
			 0);
	ck_assert(yes);

	/* a side branch is no ancestor of main */
	tu_sh(dir, "git checkout -q -b side feature");
	tu_write(dir, "c.txt", "side\n");
	free(tu_git_commit(dir, "Linus", "l@example.com", 1600000300, "side"));
	ck_assert_int_eq(cairn_repo_is_ancestor(&yes, repo, "side", "main"),
			 0);
	ck_assert(!yes);
	ck_assert_int_eq(cairn_repo_is_ancestor(&yes, repo, "feature", "side"),
			 0);
	ck_assert(yes);
	ck_assert_int_eq(cairn_repo_is_ancestor(&yes, repo, "nope", "side"),
			 CAIRN_ENOTFOUND);
	cairn_repo_free(repo);
	free_fixture(dir, shas);
}
END_TEST

START_TEST(test_config_string)
{
	char *shas[3], *dir = fixture(shas), *value;
	cairn_repo *repo = open_repo(dir);

	ck_assert_int_eq(cairn_repo_config_string(&value, repo, "user.name"),
			 0);
	ck_assert_str_eq(value, "Test User");
	free(value);
	ck_assert_int_eq(cairn_repo_config_string(&value, repo,
						  "cairn.nothing"), 0);
	ck_assert_ptr_null(value);
	cairn_repo_free(repo);
	free_fixture(dir, shas);
}
END_TEST

START_TEST(test_empty_repository)
{
	char *dir = tu_git_repo(), out[CAIRN_OID_HEXSZ], *name;
	cairn_repo *repo = open_repo(dir);
	bool dirty;

	ck_assert_int_eq(cairn_repo_resolve(out, repo, "HEAD"),
			 CAIRN_ENOTFOUND);
	ck_assert_int_eq(cairn_error_last()->klass, CAIRN_ERRCLASS_GIT);
	ck_assert(tu_contains(cairn_error_last()->hint, "no commits"));
	ck_assert_int_eq(cairn_repo_ref_name(&name, repo, "HEAD"),
			 CAIRN_ENOTFOUND);
	ck_assert_int_eq(cairn_repo_is_dirty(&dirty, NULL, repo), 0);
	ck_assert(!dirty);
	cairn_repo_free(repo);
	tu_rmrf(dir);
	free(dir);
}
END_TEST

START_TEST(test_bare_and_worktree)
{
	char *shas[3], *dir = fixture(shas), bare[4096], wt[4096];
	cairn_repo *repo;
	char out[CAIRN_OID_HEXSZ];
	bool dirty = true;

	snprintf(bare, sizeof(bare), "%s/bare.git", dir);
	tu_sh(dir, "git clone -q --bare . bare.git");
	repo = open_repo(bare);
	ck_assert_ptr_null(cairn_repo_workdir(repo));
	ck_assert_int_eq(cairn_repo_resolve(out, repo, "v1"), 0);
	ck_assert_str_eq(out, shas[1]);
	ck_assert_int_eq(cairn_repo_is_dirty(&dirty, NULL, repo), 0);
	ck_assert(!dirty);
	cairn_repo_free(repo);

	/* a linked worktree shares the common directory */
	snprintf(wt, sizeof(wt), "%s/wt", dir);
	tu_sh(dir, "git worktree add -q wt feature 2>/dev/null");
	repo = open_repo(wt);
	ck_assert(tu_contains(cairn_repo_gitdir(repo), "worktrees/wt"));
	ck_assert(!tu_contains(cairn_repo_commondir(repo), "worktrees"));
	ck_assert_int_eq(cairn_repo_resolve(out, repo, "HEAD"), 0);
	ck_assert_str_eq(out, shas[0]);
	cairn_repo_free(repo);
	free_fixture(dir, shas);
}
END_TEST


/* The next non-empty line of a buffer, NUL-terminated in place. */
static char *next_line(char **cur)
{
	char *s = *cur, *nl;

	while (*s == '\n')
		s++;
	if (!*s)
		return NULL;
	nl = strchr(s, '\n');
	if (nl) {
		*nl = '\0';
		*cur = nl + 1;
	} else {
		*cur = s + strlen(s);
	}
	return s;
}

/*
 * A history written by git fast-import: its trees are delta chains that
 * run forward in time (the opposite of what `git gc` writes).
 */
static char *fast_import_repo(int commits)
{
	char *dir = tu_git_repo();

	ck_assert_int_eq(tu_sh(dir,
		"i=1; while [ $i -le %d ]; do "
		"printf 'commit refs/heads/main\\nmark :%%d\\n' $i; "
		"printf 'committer C <c@example.com> %%d +0000\\n' "
		"$((1600000000 + i)); "
		"printf 'data 2\\nc\\n'; "
		"[ $i -gt 1 ] && printf 'from :%%d\\n' $((i - 1)); "
		"printf 'M 100644 inline db/migrations/%%04d_m.up.sql\\n' $i; "
		"printf 'data 11\\nSELECT %%02d;\\n\\n' $((i %% 100)); "
		"printf 'M 100644 inline src/f.txt\\ndata 4\\n%%03d\\n\\n' "
		"$((i %% 1000)); "
		"i=$((i + 1)); done | git fast-import --quiet && "
		"git reset -q --hard", commits), 0);
	return dir;
}

/* Reads every object through the raw reader and checks its hash. */
static void check_all_objects(const char *dir, bool expect_packed)
{
	cairn_repo *repo = open_repo(dir);
	cairn_git_odb *db;
	char *list = tu_sh_out(dir, "git cat-file --batch-all-objects "
				    "--batch-check='%%(objectname)'");
	char *line, *cur = list;
	size_t n = 0, packed, fallback;

	ck_assert_int_eq(cairn_git__odb_new(&db, cairn_repo__git(repo), "repo", 1 << 20,
					    CAIRN_GIT_ODB_FAST), 0);
	while ((line = next_line(&cur)) != NULL) {
		static const char *const types[] = { "", "commit", "tree",
						     "blob", "tag" };
		unsigned char md[EVP_MAX_MD_SIZE];
		unsigned int mdlen = 0;
		cairn_git_obj *o = NULL;
		char hdr[64], hex[41];
		EVP_MD_CTX *ctx = EVP_MD_CTX_new();
		git_oid id, got;
		int hl;

		ck_assert_int_eq(git_oid_fromstr(&id, line), 0);
		ck_assert_int_eq(cairn_git__odb_read(&o, db, &id), 0);
		ck_assert(o->type >= 1 && o->type <= 4);
		ck_assert_int_eq(o->data[o->len], '\0');
		hl = snprintf(hdr, sizeof(hdr), "%s %zu", types[o->type],
			      o->len);
		EVP_DigestInit_ex(ctx, EVP_sha1(), NULL);
		EVP_DigestUpdate(ctx, hdr, (size_t)hl + 1);
		EVP_DigestUpdate(ctx, o->data, o->len);
		EVP_DigestFinal_ex(ctx, md, &mdlen);
		EVP_MD_CTX_free(ctx);
		git_oid_fromraw(&got, md);
		git_oid_tostr(hex, sizeof(hex), &got);
		ck_assert_str_eq(hex, line);
		cairn_git__obj_free(o);
		n++;
	}
	cairn_git__odb_stats(db, &packed, &fallback);
	ck_assert_uint_eq(packed + fallback, n);
	if (expect_packed)
		ck_assert_uint_eq(fallback, 0);
	else
		ck_assert_uint_eq(packed, 0);
	cairn_git__odb_free(db);
	cairn_repo_free(repo);
	free(list);
}

START_TEST(test_raw_reader)
{
	char *dir = fast_import_repo(120), *loose;

	/* forward chains, as fast-import wrote them */
	check_all_objects(dir, true);
	/* backward chains, as git gc writes them, deep and shallow */
	tu_sh(dir, "git repack -q -a -d -f --depth=50 --window=50");
	check_all_objects(dir, true);
	tu_sh(dir, "git repack -q -a -d -f --depth=3");
	check_all_objects(dir, true);
	/* loose objects only: everything goes through libgit2 */
	loose = tu_git_repo();
	tu_write(loose, "a.txt", "a\n");
	free(tu_git_commit(loose, "A", "a@example.com", 1600000000, "a"));
	check_all_objects(loose, false);
	tu_rmrf(loose);
	free(loose);
	tu_rmrf(dir);
	free(dir);
}
END_TEST

START_TEST(test_raw_reader_corrupt_pack)
{
	char *dir = fast_import_repo(30), *list, *line, *cur;
	cairn_repo *repo;
	cairn_git_odb *db;

	/* damage the middle of the pack; reads fail or succeed, never crash */
	ck_assert_int_eq(tu_sh(dir, "p=$(ls .git/objects/pack/*.pack) && "
				    "chmod u+w $p && s=$(wc -c < $p) && "
				    "printf 'XXXXXXXXXXXXXXXX' | dd of=$p bs=1 "
				    "seek=$((s / 2)) conv=notrunc 2>/dev/null"),
			 0);
	list = tu_sh_out(dir, "git show-index < $(ls .git/objects/pack/*.idx) "
			      "| cut -d' ' -f2");
	repo = open_repo(dir);
	ck_assert_int_eq(cairn_git__odb_new(&db, cairn_repo__git(repo), "repo", 1 << 20,
					    CAIRN_GIT_ODB_FAST), 0);
	cur = list;
	while ((line = next_line(&cur)) != NULL) {
		cairn_git_obj *o = NULL;
		git_oid id;

		ck_assert_int_eq(git_oid_fromstr(&id, line), 0);
		if (cairn_git__odb_read(&o, db, &id) == 0)
			cairn_git__obj_free(o);
		else
			ck_assert_ptr_nonnull(cairn_error_last());
	}
	cairn_git__odb_free(db);
	cairn_repo_free(repo);
	free(list);
	tu_rmrf(dir);
	free(dir);
}
END_TEST

static Suite *repo_suite(void)
{
	Suite *s = suite_create("repo");
	TCase *tc = tcase_create("core");

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_open_and_dirs);
	tcase_add_test(tc, test_not_a_repository);
	tcase_add_test(tc, test_resolve);
	tcase_add_test(tc, test_ref_name);
	tcase_add_test(tc, test_commit_info);
	tcase_add_test(tc, test_dirty);
	tcase_add_test(tc, test_ancestor);
	tcase_add_test(tc, test_config_string);
	tcase_add_test(tc, test_empty_repository);
	tcase_add_test(tc, test_bare_and_worktree);
	tcase_add_test(tc, test_raw_reader);
	tcase_add_test(tc, test_raw_reader_corrupt_pack);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(repo_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
