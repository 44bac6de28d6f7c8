/*
 * check_cli.c - the cairn program as a user meets it without a database:
 * init, new, plan across tags, validate (with --base and every format),
 * hooks list, help and version, and bad input of every kind getting its
 * exit code and a clear message.  Real git repositories, several authors.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "testutil.h"

/*
 * Two authors across two tags:
 *   v1: 0001 (Ann), 0002 (Bob)
 *   v2: 0003 (Carol, on a branch merged into main), 0004 (Bob),
 *       0002 edited by Dan after v1
 */
static char *history(char **c_ann, char **c_carol, char **c_edit)
{
	char *d = tu_git_repo();

	tu_write(d, "db/migrations/0001_users.up.sql", "CREATE TABLE users (id int);\n");
	*c_ann = tu_git_commit(d, "Ann Author", "ann@example.com", 1700000000, "users");
	tu_write(d, "db/migrations/0002_orders.up.sql", "CREATE TABLE orders (id int);\n");
	free(tu_git_commit(d, "Bob Builder", "bob@example.com", 1700000100, "orders"));
	ck_assert_int_eq(tu_sh(d, "git tag v1"), 0);
	ck_assert_int_eq(tu_sh(d, "git checkout -q -b feature"), 0);
	tu_write(d, "db/migrations/0003_items.up.sql", "CREATE TABLE items (id int);\n");
	*c_carol = tu_git_commit(d, "Carol Coder", "carol@example.com", 1700000200, "items");
	ck_assert_int_eq(tu_sh(d, "git checkout -q main"), 0);
	tu_write(d, "db/migrations/0004_prices.up.sql", "CREATE TABLE prices (id int);\n");
	free(tu_git_commit(d, "Bob Builder", "bob@example.com", 1700000300, "prices"));
	ck_assert_int_eq(tu_sh(d, "GIT_AUTHOR_DATE='@1700000400 +0000' GIT_COMMITTER_DATE='@1700000400 +0000' git merge -q --no-ff -m merge feature"), 0);
	tu_write(d, "db/migrations/0002_orders.up.sql", "CREATE TABLE orders (id int, total int);\n");
	*c_edit = tu_git_commit(d, "Dan Editor", "dan@example.com", 1700000500, "edit orders");
	ck_assert_int_eq(tu_sh(d, "git tag v2"), 0);
	return d;
}

START_TEST(test_plan_between_tags_names_commits_and_authors)
{
	char *ann, *carol, *edit, *d = history(&ann, &carol, &edit);
	tu_result r;

	tu_cairn(&r, d, "plan", "v1..v2", "--format", "json", NULL);
	ck_assert_msg(r.status == 0, "%s", r.err);
	/* 0003 came from Carol's branch commit, not from the merge */
	ck_assert_msg(tu_contains(r.out, carol), "%s", r.out);
	ck_assert(tu_contains(r.out, "Carol Coder"));
	ck_assert(tu_contains(r.out, "\"change\": \"added\""));
	ck_assert(tu_contains(r.out, "\"change\": \"changed\""));
	ck_assert(tu_contains(r.out, edit));
	ck_assert(tu_contains(r.out, "Dan Editor"));
	ck_assert(!tu_contains(r.out, "\"name\": \"users\""));
	tu_result_dispose(&r);

	tu_cairn(&r, d, "plan", "v1..v2", "--format", "markdown", NULL);
	ck_assert_int_eq(r.status, 0);
	ck_assert(tu_contains(r.out, "| 0003 | items | Carol Coder |"));
	ck_assert(tu_contains(r.out, "changed `0002_orders`"));
	tu_result_dispose(&r);

	tu_cairn(&r, d, "plan", "v1..v2", NULL);
	ck_assert_int_eq(r.status, 0);
	ck_assert(tu_contains(r.out, "Bob Builder"));
	tu_result_dispose(&r);
	free(ann);
	free(carol);
	free(edit);
	tu_rmrf(d);
	free(d);
}
END_TEST

START_TEST(test_validate_base_names_edited_migration)
{
	char *ann, *carol, *edit, *d = history(&ann, &carol, &edit);
	tu_result r;

	tu_cairn(&r, d, "validate", "--base", "v1", "--no-db", NULL);
	ck_assert_int_eq(r.status, 1);
	ck_assert_msg(tu_contains(r.out, "0002_orders") &&
		      tu_contains(r.out, "edited-after-push"), "%s", r.out);
	tu_result_dispose(&r);

	tu_cairn(&r, d, "validate", "--no-db", NULL);
	ck_assert_msg(r.status == 0, "%s%s", r.out, r.err);
	tu_result_dispose(&r);

	tu_cairn(&r, d, "validate", "--base", "v1", "--no-db", "--format", "json", NULL);
	ck_assert_int_eq(r.status, 1);
	ck_assert(tu_contains(r.out, "\"code\": \"edited-after-push\""));
	ck_assert(tu_contains(r.out, "\"ok\": false"));
	tu_result_dispose(&r);

	tu_cairn(&r, d, "validate", "--base", "v1", "--no-db", "--format", "junit", NULL);
	ck_assert_int_eq(r.status, 1);
	ck_assert(tu_contains(r.out, "<testsuites"));
	ck_assert(tu_contains(r.out, "<failure type=\"edited-after-push\""));
	tu_result_dispose(&r);

	tu_cairn(&r, d, "validate", "--base", "v1", "--no-db", "--format", "github", NULL);
	ck_assert_int_eq(r.status, 1);
	ck_assert(tu_contains(r.out, "::error file=db/migrations/0002_orders.up.sql,"));
	tu_result_dispose(&r);

	/* deleting an already-tagged migration, and an out-of-order one */
	ck_assert_int_eq(tu_sh(d, "git rm -q db/migrations/0001_users.up.sql"), 0);
	tu_write(d, "db/migrations/0000_early.up.sql", "SELECT 1;\n");
	free(tu_git_commit(d, "Eve", "eve@example.com", 1700000600, "bad"));
	tu_cairn(&r, d, "validate", "--base", "v2", "--no-db", NULL);
	ck_assert_int_eq(r.status, 1);
	ck_assert(tu_contains(r.out, "deleted-after-push"));
	ck_assert(tu_contains(r.out, "out-of-order"));
	tu_result_dispose(&r);
	free(ann);
	free(carol);
	free(edit);
	tu_rmrf(d);
	free(d);
}
END_TEST

START_TEST(test_init_and_new)
{
	char *d = tu_git_repo();
	tu_result r;
	char *up;

	tu_cairn(&r, d, "init", NULL);
	ck_assert_msg(r.status == 0, "%s", r.err);
	tu_result_dispose(&r);
	up = tu_read(d, "cairn.yaml");
	ck_assert_ptr_nonnull(up);
	free(up);
	tu_cairn(&r, d, "init", NULL);
	ck_assert_int_eq(r.status, 1);
	ck_assert(tu_contains(r.err, "already exists"));
	tu_result_dispose(&r);

	tu_cairn(&r, d, "new", "create_users", NULL);
	ck_assert_msg(r.status == 0, "%s", r.err);
	ck_assert(tu_contains(r.out, "db/migrations/0001_create_users.up.sql"));
	tu_result_dispose(&r);
	tu_cairn(&r, d, "new", "add_orders", NULL);
	ck_assert(tu_contains(r.out, "0002_add_orders.up.sql"));
	tu_result_dispose(&r);
	up = tu_read(d, "db/migrations/0002_add_orders.down.sql");
	ck_assert_ptr_nonnull(up);
	free(up);
	tu_cairn(&r, d, "new", "bad name", NULL);
	ck_assert_int_eq(r.status, 2);
	tu_result_dispose(&r);
	/* the fresh files validate (working tree) */
	tu_cairn(&r, d, "--worktree", "validate", "--no-db", NULL);
	ck_assert_msg(r.status == 0, "%s%s", r.out, r.err);
	tu_result_dispose(&r);
	tu_rmrf(d);
	free(d);
}
END_TEST

START_TEST(test_bad_config_reports_line_and_column)
{
	char *d = tu_git_repo();
	tu_result r;

	tu_write(d, "cairn.yaml", "migrations_dir: db/migrations\nhooks:\n  pre_execute:\n    - run: [a, b\n");
	tu_cairn(&r, d, "hooks", "list", NULL);
	ck_assert_int_eq(r.status, 2);
	ck_assert_msg(tu_contains(r.err, "cairn.yaml:"), "%s", r.err);
	tu_result_dispose(&r);

	tu_write(d, "cairn.yaml", "migrations_dir: db/migrations\nhooks:\n  pre_execute:\n    - run: [a]\n      on_failur: warn\n");
	tu_cairn(&r, d, "hooks", "list", NULL);
	ck_assert_int_eq(r.status, 2);
	ck_assert_msg(tu_contains(r.err, "cairn.yaml:5:7") &&
		      tu_contains(r.err, "on_failur") &&
		      tu_contains(r.err, "on_failure"), "%s", r.err);
	tu_result_dispose(&r);

	tu_write(d, "cairn.yaml", "migration_dir: db\n");
	tu_cairn(&r, d, "validate", NULL);
	ck_assert_int_eq(r.status, 2);
	ck_assert_msg(tu_contains(r.err, "migrations_dir"), "%s", r.err);
	tu_result_dispose(&r);

	tu_write(d, "cairn.yaml",
		 "environments:\n  development: {}\n  production: {}\nhooks:\n  post_complete:\n    - builtin: metrics\n  pre_execute:\n"
		 "    - run: [echo, hi]\n      on_failure: warn\n      timeout: 10s\n"
		 "      only: { environments: [production], migrations: [\"*users*\"] }\n");
	tu_cairn(&r, d, "hooks", "list", NULL);
	ck_assert_msg(r.status == 0, "%s", r.err);
	ck_assert(tu_contains(r.out, "pre_execute:"));
	ck_assert(tu_contains(r.out, "on_failure=warn"));
	ck_assert(tu_contains(r.out, "timeout=10s"));
	tu_result_dispose(&r);
	tu_rmrf(d);
	free(d);
}
END_TEST

START_TEST(test_odd_files_are_findings_not_crashes)
{
	char *d = tu_git_repo();
	tu_result r;
	char pwned[128];

	snprintf(pwned, sizeof(pwned), "/tmp/cairn-cli-pwned-%d", (int)getpid());
	tu_write(d, "db/migrations/0001_ok.up.sql", "SELECT 1;\n");
	tu_write(d, "db/migrations/0002 with space.up.sql", "SELECT 1;\n");
	tu_write(d, "db/migrations/0003_quote'\".up.sql", "SELECT 1;\n");
	{
		char name[256];

		snprintf(name, sizeof(name), "db/migrations/0004_$(touch %s).up.sql", pwned);
		tu_write(d, name, "SELECT 1;\n");
	}
	tu_write(d, "db/migrations/0005_new\nline.up.sql", "SELECT 1;\n");
	tu_write(d, "db/migrations/0006_bad\xff\xfe.up.sql", "SELECT 1;\n");
	tu_write_bytes(d, "db/migrations/0007_binary.up.sql", "SELECT\0\x01\x02", 9);
	tu_write(d, "db/migrations/0008_latin1.up.sql", "SELECT 'caf\xe9';\n");
	tu_write(d, "db/migrations/0009_directive.up.sql", "-- cairn: no-such-directive\nSELECT 1;\n");
	tu_write(d, "db/migrations/0010_dup.up.sql", "SELECT 1;\n");
	tu_write(d, "db/migrations/010_dup_again.up.sql", "SELECT 1;\n");
	tu_write(d, "db/migrations/0011_orphan.down.sql", "SELECT 1;\n");
	tu_write(d, "db/migrations/README.md", "docs are fine\n");
	ck_assert_int_eq(tu_sh(d, "ln -s 0001_ok.up.sql db/migrations/0012_link.up.sql"), 0);
	free(tu_git_commit(d, "Ann", "ann@example.com", 1700000000, "odd"));
	/* a submodule (gitlink) inside the migrations directory */
	ck_assert_int_eq(tu_sh(d, "git update-index --add --cacheinfo 160000,$(git rev-parse HEAD),db/migrations/0013_sub && git commit -q -m sub"), 0);

	tu_cairn(&r, d, "validate", "--no-db", "--format", "json", NULL);
	ck_assert_int_eq(r.status, 1);
	ck_assert_msg(tu_contains(r.out, "\"bad-name\""), "%s", r.out);
	ck_assert(tu_contains(r.out, "\"binary\""));
	ck_assert(tu_contains(r.out, "\"not-utf8\""));
	ck_assert(tu_contains(r.out, "\"unknown-directive\""));
	ck_assert(tu_contains(r.out, "\"duplicate-version\""));
	ck_assert(tu_contains(r.out, "\"missing-up\""));
	ck_assert(tu_contains(r.out, "\"symlink\""));
	ck_assert(tu_contains(r.out, "\"submodule\""));
	ck_assert(!tu_contains(r.out, "README"));
	tu_result_dispose(&r);
	tu_cairn(&r, d, "validate", "--no-db", NULL);
	ck_assert_int_eq(r.status, 1);
	ck_assert_msg(!tu_contains(r.out, "\n\n"), "a raw newline from a file name reached the terminal");
	tu_result_dispose(&r);
	ck_assert_msg(access(pwned, F_OK) != 0, "a file name was run as a command");
	tu_rmrf(d);
	free(d);
}
END_TEST

START_TEST(test_git_errors_exit_5)
{
	char *d = tu_git_repo();
	char *plain = tu_mkdtemp();
	tu_result r;

	tu_write(d, "db/migrations/0001_a.up.sql", "SELECT 1;\n");
	free(tu_git_commit(d, "Ann", "ann@example.com", 1700000000, "a"));
	tu_cairn(&r, d, "--rev", "does-not-exist", "validate", "--no-db", NULL);
	ck_assert_int_eq(r.status, 5);
	ck_assert(tu_contains(r.err, "does-not-exist"));
	tu_result_dispose(&r);
	tu_cairn(&r, d, "plan", "v9..v10", NULL);
	ck_assert_int_eq(r.status, 5);
	tu_result_dispose(&r);
	tu_cairn(&r, plain, "validate", NULL);
	ck_assert_int_eq(r.status, 5);
	ck_assert_msg(tu_contains(r.err, "repository"), "%s", r.err);
	tu_result_dispose(&r);
	tu_rmrf(d);
	tu_rmrf(plain);
	free(d);
	free(plain);
}
END_TEST

START_TEST(test_help_version_usage)
{
	tu_result r;

	tu_cairn(&r, "/", "--version", NULL);
	ck_assert_int_eq(r.status, 0);
	ck_assert(tu_contains(r.out, "cairn "));
	tu_result_dispose(&r);
	tu_cairn(&r, "/", "--help", NULL);
	ck_assert_int_eq(r.status, 0);
	ck_assert(tu_contains(r.out, "migrate"));
	ck_assert(tu_contains(r.out, "Exit codes"));
	tu_result_dispose(&r);
	tu_cairn(&r, "/", "migrate", "--help", NULL);
	ck_assert_int_eq(r.status, 0);
	ck_assert(tu_contains(r.out, "--single-transaction"));
	tu_result_dispose(&r);
	tu_cairn(&r, "/", "help", "plan", NULL);
	ck_assert_int_eq(r.status, 0);
	ck_assert(tu_contains(r.out, "markdown"));
	tu_result_dispose(&r);
	tu_cairn(&r, "/", "frobnicate", NULL);
	ck_assert_int_eq(r.status, 2);
	ck_assert(tu_contains(r.err, "not a cairn command"));
	tu_result_dispose(&r);
	tu_cairn(&r, "/", "validate", "--bogus", NULL);
	ck_assert_int_eq(r.status, 2);
	tu_result_dispose(&r);
	tu_cairn(&r, "/", "--format", "yaml", "validate", NULL);
	ck_assert_int_eq(r.status, 2);
	tu_result_dispose(&r);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("cli");
	TCase *tc = tcase_create("cli");

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_plan_between_tags_names_commits_and_authors);
	tcase_add_test(tc, test_validate_base_names_edited_migration);
	tcase_add_test(tc, test_init_and_new);
	tcase_add_test(tc, test_bad_config_reports_line_and_column);
	tcase_add_test(tc, test_odd_files_are_findings_not_crashes);
	tcase_add_test(tc, test_git_errors_exit_5);
	tcase_add_test(tc, test_help_version_usage);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
