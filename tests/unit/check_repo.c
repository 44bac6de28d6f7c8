/*
 * check_repo.c - unit tests for the git repository wrapper
 * (include/cairn/repo.h, src/repo.c).
 *
 * Each test builds its own repository with the git program in a fresh
 * temporary directory (several authors, tags, branches) and checks what
 * libcairn reads from it: discovery, revision forms, ref names, commit
 * records, the dirty state and ancestry, and the errors for things that
 * are not there.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cairn/error.h"
#include "cairn/repo.h"
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
