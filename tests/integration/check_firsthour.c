/*
 * check_firsthour.c - issue 13's "first hour": what a new user meets
 * when following the README literally.  The README's tour is run as
 * written, in a fresh directory, on the built-in development database;
 * the template `cairn new` writes is an empty migration (validate warns,
 * migrate refuses it unless `-- cairn: allow empty`, rolling back an
 * empty down file warns); `init` writes no metrics hook; `audit log` has
 * a header; `cairn help --man` works from the build tree; the bash and
 * zsh completions complete, and `make install` installs them.
 */
#include <check.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"

/* The ```sh block of README's "## A tour" (caller frees). */
static char *tour_block(void)
{
	char *readme = tu_read(getenv("CAIRN_SRCDIR"), "README.md");
	const char *start, *end;
	char *block;

	ck_assert_ptr_nonnull(readme);
	start = strstr(readme, "\n## A tour\n");
	ck_assert_ptr_nonnull(start);
	start = strstr(start, "```sh\n");
	ck_assert_ptr_nonnull(start);
	start += strlen("```sh\n");
	end = strstr(start, "```\n");
	ck_assert_ptr_nonnull(end);
	block = strndup(start, (size_t)(end - start));
	free(readme);
	return block;
}

START_TEST(test_readme_tour_runs_as_written)
{
	char *dir = tu_mkdtemp(), *block = tour_block(), *bin, *out;
	char script[16384];
	int rc;

	bin = strdup(tu_cairn_bin());
	snprintf(script, sizeof(script),
		 "set -e\n"
		 "export PATH='%s':\"$PATH\"\n"
		 "export GIT_AUTHOR_NAME='Nora New' GIT_AUTHOR_EMAIL=nora@example.com\n"
		 "export GIT_COMMITTER_NAME='Nora New' GIT_COMMITTER_EMAIL=nora@example.com\n"
		 "git config --global init.defaultBranch main 2>/dev/null || true\n"
		 "%s", dirname(bin), block);
	tu_write(dir, "tour.sh", script);
	tu_sh(NULL, "chmod 755 '%s'", dir);
	rc = tu_sh(dir, "HOME='%s' bash -x tour.sh > tour.out 2>&1", dir);
	out = tu_read(dir, "tour.out");
	/* whatever happened, no server is left behind */
	tu_sh(dir, "PATH='%s':\"$PATH\" cairn -C shop -q dev-db stop >/dev/null 2>&1 || true", dirname(bin));
	ck_assert_msg(rc == 0, "the tour failed:\n%s", out);
	/* the first migrate up says it started the development database */
	ck_assert_msg(tu_contains(out, "started the built-in development database") &&
		      tu_contains(out, "cairn dev-db stop"), "%s", out);
	/* plan v1.2..v1.3 found the tags the tour made, and the second migration */
	ck_assert_msg(tu_contains(out, "add_user_names") && tu_contains(out, "Nora New"), "%s", out);
	/* audit log's header */
	ck_assert_msg(tu_contains(out, "outcome      event"), "%s", out);
	/* init wrote no metrics hook: no metrics summary line in the run */
	ck_assert_msg(!tu_contains(out, "[metrics]"), "%s", out);
	free(out);
	free(block);
	free(bin);
	tu_rmrf(dir);
	free(dir);
}
END_TEST

static char *project(char **url)
{
	char *dir = tu_git_repo(), yaml[1024];

	*url = tu_db_create("first");
	snprintf(yaml, sizeof(yaml),
		 "environments:\n  development:\n    database_url: \"%s\"\nhooks: {}\n",
		 *url);
	tu_write(dir, "cairn.yaml", yaml);
	return dir;
}

START_TEST(test_empty_migration)
{
	char *url, *dir = project(&url), *v;
	tu_result r;

	tu_cairn(&r, dir, "new", "placeholder", NULL);
	ck_assert_msg(r.status == 0, "%s%s", r.out, r.err);
	tu_result_dispose(&r);
	free(tu_git_commit(dir, "Nora", "nora@example.com", 1700000000, "template"));

	/* validate: a warning, not an error */
	tu_cairn(&r, dir, "validate", "--no-db", NULL);
	ck_assert_msg(r.status == 0, "%s%s", r.out, r.err);
	ck_assert_msg(tu_contains(r.out, "0001_placeholder has no SQL statement") &&
		      tu_contains(r.out, "warning"), "%s%s", r.out, r.err);
	tu_result_dispose(&r);

	/* migrate: refused before anything runs */
	tu_cairn(&r, dir, "migrate", "up", NULL);
	ck_assert_int_eq(r.status, 1);
	ck_assert_msg(tu_contains(r.out, "empty-migration") &&
		      tu_contains(r.out, "allow empty"), "%s%s", r.out, r.err);
	tu_result_dispose(&r);
	v = tu_db_value(url, "SELECT count(*) FROM cairn.migrations");
	ck_assert_str_eq(v, "0");
	free(v);

	/* marked as meant to be empty: applied; rolling it back warns */
	tu_write(dir, "db/migrations/0001_placeholder.up.sql",
		 "-- cairn: allow empty\n-- reserved for the billing team\n");
	free(tu_git_commit(dir, "Nora", "nora@example.com", 1700000100, "allow"));
	tu_cairn(&r, dir, "validate", "--no-db", NULL);
	ck_assert_msg(r.status == 0 && !tu_contains(r.out, "no SQL statement"), "%s%s", r.out, r.err);
	tu_result_dispose(&r);
	tu_cairn(&r, dir, "migrate", "up", NULL);
	ck_assert_msg(r.status == 0, "%s%s", r.out, r.err);
	tu_result_dispose(&r);
	tu_cairn(&r, dir, "migrate", "down", NULL);
	ck_assert_msg(r.status == 0, "%s%s", r.out, r.err);
	ck_assert_msg(tu_contains(r.err, "the down file of 0001_placeholder has no SQL statement"),
		      "%s%s", r.out, r.err);
	tu_result_dispose(&r);
	tu_rmrf(dir);
	free(dir);
	free(url);
}
END_TEST

START_TEST(test_init_writes_no_metrics_hook)
{
	char *dir = tu_git_repo(), *yaml;
	tu_result r;

	tu_cairn(&r, dir, "init", NULL);
	ck_assert_msg(r.status == 0, "%s", r.err);
	tu_result_dispose(&r);
	yaml = tu_read(dir, "cairn.yaml");
	ck_assert_msg(!tu_contains(yaml, "\n    - builtin: metrics"), "%s", yaml);
	ck_assert_msg(tu_contains(yaml, "#   - builtin: metrics"), "%s", yaml);
	free(yaml);
	tu_rmrf(dir);
	free(dir);
}
END_TEST

START_TEST(test_man_from_build_tree)
{
	tu_result r;
	const char *env[] = { "MANPAGER=cat", "PAGER=cat", "MANWIDTH=80", NULL };

	if (tu_sh(NULL, "command -v man >/dev/null 2>&1") != 0) {
		fprintf(stderr, "check_firsthour: man is not installed; skipped\n");
		return;
	}
	tu_cairn_env(&r, NULL, env, NULL, "help", "--man", NULL);
	ck_assert_msg(r.status == 0, "%s%s", r.out, r.err);
	/* this tree's page: it documents commands an older one lacks */
	ck_assert_msg(tu_contains(r.out, "CAIRN(1)") && tu_contains(r.out, "baseline"),
		      "%.400s%s", r.out, r.err);
	tu_result_dispose(&r);
}
END_TEST

/* Runs bash completion for the words; returns COMPREPLY joined by ' '. */
static char *bash_complete(const char *words, int cword)
{
	char *bin = strdup(tu_cairn_bin()), *out;

	out = tu_sh_out(NULL,
		"PATH='%s':\"$PATH\" bash -c 'source \"$CAIRN_SRCDIR/completions/cairn.bash\"; "
		"COMP_WORDS=(%s); COMP_CWORD=%d; _cairn; echo \"${COMPREPLY[*]}\"'",
		dirname(bin), words, cword);
	free(bin);
	return out;
}

START_TEST(test_bash_completion)
{
	char *out;

	out = bash_complete("cairn mi", 1);
	ck_assert_str_eq(out, "migrate");
	free(out);
	out = bash_complete("cairn ba", 1);
	ck_assert_str_eq(out, "baseline");
	free(out);
	out = bash_complete("cairn migrate --as", 2);
	ck_assert_str_eq(out, "--as-far-as-possible");
	free(out);
	out = bash_complete("cairn --env dev import \"\"", 4);
	ck_assert_str_eq(out, "golang-migrate dbmate flyway sqitch");
	free(out);
	out = bash_complete("cairn audit v", 2);
	ck_assert_str_eq(out, "verify");
	free(out);
}
END_TEST

START_TEST(test_zsh_completion)
{
	char *bin = strdup(tu_cairn_bin()), *out;

	if (tu_sh(NULL, "command -v zsh >/dev/null 2>&1") != 0) {
		fprintf(stderr, "check_firsthour: zsh is not installed; skipped\n");
		free(bin);
		return;
	}
	/* compadd stands in for the completion system: it prints the candidates */
	out = tu_sh_out(NULL,
		"PATH='%s':\"$PATH\" zsh -fc 'fpath=(\"$CAIRN_SRCDIR/completions\" $fpath); "
		"autoload -Uz _cairn; compadd() { [[ $1 == -- ]] && shift; print -rl -- \"$@\"; }; "
		"words=(cairn mi); CURRENT=2; _cairn; print -- ---; "
		"words=(cairn migrate --as); CURRENT=3; _cairn; print -- ---; "
		"words=(cairn import \"\"); CURRENT=3; _cairn'", dirname(bin));
	ck_assert_msg(tu_contains(out, "\nmigrate\n") && tu_contains(out, "\nbaseline\n"), "%s", out);
	ck_assert_msg(tu_contains(out, "--as-far-as-possible"), "%s", out);
	ck_assert_msg(tu_contains(out, "---\ngolang-migrate\ndbmate\nflyway\nsqitch"), "%s", out);
	free(out);
	free(bin);
}
END_TEST

START_TEST(test_make_install_installs_completions)
{
	char *out = tu_sh_out(getenv("CAIRN_SRCDIR"),
		"make -s -n install DESTDIR=/nonexistent/stage PREFIX=/usr BUILD='%s' 2>&1",
		getenv("CAIRN_BUILD"));

	ck_assert_msg(tu_contains(out, "completions/cairn.bash /nonexistent/stage/usr/share/bash-completion/completions/cairn"),
		      "%s", out);
	ck_assert_msg(tu_contains(out, "completions/_cairn /nonexistent/stage/usr/share/zsh/site-functions/_cairn"),
		      "%s", out);
	free(out);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("firsthour");
	TCase *tc = tcase_create("firsthour");

	tcase_set_timeout(tc, 240);
	tcase_add_test(tc, test_readme_tour_runs_as_written);
	tcase_add_test(tc, test_empty_migration);
	tcase_add_test(tc, test_init_writes_no_metrics_hook);
	tcase_add_test(tc, test_man_from_build_tree);
	tcase_add_test(tc, test_bash_completion);
	tcase_add_test(tc, test_zsh_completion);
	tcase_add_test(tc, test_make_install_installs_completions);
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
