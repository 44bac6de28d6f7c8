/*
 * check_config_rev.c - which configuration and which hooks a command
 * really uses (issue 9, items 25 and 27).
 *
 *  - cairn.yaml is read at the revision the migrations come from: with
 *    `--rev v1`, v1's hooks run, not the working tree's; `--worktree` and
 *    `--config FILE` choose otherwise; -v and the audit row say which one
 *    was used; a revision without cairn.yaml while the working tree has
 *    one is an error with a hint; a repository with none keeps defaults.
 *  - `validate` goes through the pipeline: pre_validate fires before the
 *    checks and may veto (exit 1), post_validate fires only when they
 *    passed.  `hooks list` builds the pipeline as migrate does: plugins
 *    are loaded (their hooks listed) and a `symbol:` that cannot be
 *    resolved is the same error, exit 2.
 *
 * Hooks write to files under .git/ (outside the work tree, so the tree
 * stays clean); each test makes its own repository and database.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "testutil.h"

/* A repository with two migrations and the given cairn.yaml, committed. */
static char *repo_with(const char *config)
{
	char *d = tu_git_repo();

	tu_write(d, "db/migrations/0001_one.up.sql",
		 "CREATE TABLE cfg_one (id int);\n");
	tu_write(d, "db/migrations/0002_two.up.sql",
		 "CREATE TABLE cfg_two (id int);\n");
	if (config)
		tu_write(d, "cairn.yaml", config);
	free(tu_git_commit(d, "Ann Author", "ann@example.com", 1714564800,
			   "two tables"));
	return d;
}

/* The contents of .git/<name> in d ("" when absent); caller frees. */
static char *git_file(const char *d, const char *name)
{
	char *rel, *s;

	if (asprintf(&rel, ".git/%s", name) < 0)
		abort();
	s = tu_read(d, rel);
	free(rel);
	return s ? s : strdup("");
}

#define VALIDATE_HOOKS(pre_exit, post_exit)                                  \
	"hooks:\n"                                                           \
	"  pre_validate:\n"                                                  \
	"    - name: gate-in\n"                                              \
	"      run: [sh, -c, \"echo pre >> .git/events.log; exit " pre_exit "\"]\n" \
	"  post_validate:\n"                                                 \
	"    - name: gate-out\n"                                             \
	"      run: [sh, -c, \"echo post >> .git/events.log; exit " post_exit "\"]\n"

START_TEST(test_validate_fires_pre_and_post_validate)
{
	/* a deploy-time webhook whose secret a CI gate does not have */
	char *d = repo_with(VALIDATE_HOOKS("0", "0")
			    "  post_complete:\n"
			    "    - webhook: http://127.0.0.1:9/never\n"
			    "      secret_env: CAIRN_TEST_SECRET_NOT_SET\n");
	char *log;
	tu_result r;

	tu_cairn(&r, d, "validate", "--no-db", NULL);
	ck_assert_msg(r.status == 0, "validate %d: %s%s", r.status, r.out, r.err);
	tu_result_dispose(&r);
	log = git_file(d, "events.log");
	ck_assert_str_eq(log, "pre\npost\n");
	free(log);

	/* validation fails: pre fires, post does not */
	tu_sh(d, "rm -f .git/events.log");
	tu_write(d, "db/migrations/0003-bad.up.sql", "SELECT 1;\n");
	free(tu_git_commit(d, "Ann Author", "ann@example.com", 1714568400,
			   "bad name"));
	tu_cairn(&r, d, "validate", "--no-db", NULL);
	ck_assert_msg(r.status == 1, "validate %d: %s%s", r.status, r.out, r.err);
	ck_assert_msg(tu_contains(r.out, "bad-name"), "%s", r.out);
	tu_result_dispose(&r);
	log = git_file(d, "events.log");
	ck_assert_str_eq(log, "pre\n");
	free(log);
	tu_rmrf(d);
	free(d);
}
END_TEST

START_TEST(test_validate_hook_veto_fails_validate)
{
	char *d = repo_with(VALIDATE_HOOKS("3", "0"));
	char *log;
	tu_result r;

	/* pre_validate vetoes: exit 1, nothing checked, post not fired */
	tu_cairn(&r, d, "validate", "--no-db", NULL);
	ck_assert_msg(r.status == 1, "validate %d: %s%s", r.status, r.out, r.err);
	ck_assert_msg(tu_contains(r.err, "gate-in"), "%s", r.err);
	ck_assert_msg(!tu_contains(r.err, "migrations checked"), "%s", r.err);
	tu_result_dispose(&r);
	log = git_file(d, "events.log");
	ck_assert_str_eq(log, "pre\n");
	free(log);

	/* post_validate vetoes a clean validation: exit 1 */
	tu_sh(d, "rm -f .git/events.log");
	tu_write(d, "cairn.yaml", VALIDATE_HOOKS("0", "4"));
	free(tu_git_commit(d, "Ann Author", "ann@example.com", 1714568400,
			   "post gate"));
	tu_cairn(&r, d, "validate", "--no-db", NULL);
	ck_assert_msg(r.status == 1, "validate %d: %s%s", r.status, r.out, r.err);
	ck_assert_msg(tu_contains(r.err, "gate-out"), "%s", r.err);
	tu_result_dispose(&r);
	log = git_file(d, "events.log");
	ck_assert_str_eq(log, "pre\npost\n");
	free(log);
	tu_rmrf(d);
	free(d);
}
END_TEST

static char *plugin_path(void)
{
	const char *b = getenv("CAIRN_BUILD");
	char *p;

	if (asprintf(&p, "%s/plugins/example_plugin.so", b ? b : "build") < 0)
		abort();
	return p;
}

START_TEST(test_hooks_list_loads_plugins)
{
	char *so = plugin_path(), yaml[2048], *d, *url, *db_arg, *logenv;
	const char *env[2];
	tu_result r, m;

	ck_assert_msg(access(so, R_OK) == 0, "%s not built", so);
	snprintf(yaml, sizeof(yaml),
		 "hooks:\n  post_complete:\n    - name: example\n      plugin: %s\n",
		 so);
	d = repo_with(yaml);
	if (asprintf(&logenv, "CAIRN_EXAMPLE_PLUGIN_LOG=%s/.git/plugin.log", d) < 0)
		abort();
	env[0] = logenv;
	env[1] = NULL;
	/* the plugin registers one hook per event: all are listed */
	tu_cairn_env(&r, d, env, NULL, "hooks", "list", NULL);
	ck_assert_msg(r.status == 0, "hooks list %d: %s", r.status, r.err);
	ck_assert_msg(tu_contains(r.out, "pre_execute:\n  1. example  [plugin") &&
		      tu_contains(r.out, "on_error:\n  1. example  [plugin"),
		      "%s", r.out);
	tu_result_dispose(&r);

	/* a symbol that cannot be resolved: the error migrate gives, exit 2 */
	snprintf(yaml, sizeof(yaml),
		 "hooks:\n  post_complete:\n    - name: example\n      plugin: %s\n"
		 "      symbol: no_such_init\n", so);
	tu_write(d, "cairn.yaml", yaml);
	free(tu_git_commit(d, "Ann Author", "ann@example.com", 1714568400,
			   "bad symbol"));
	url = tu_db_create("cfgrev");
	ck_assert_ptr_nonnull(url);
	if (asprintf(&db_arg, "--db=%s", url) < 0)
		abort();
	tu_cairn_env(&m, d, env, NULL, db_arg, "migrate", "up", NULL);
	ck_assert_msg(m.status == 2, "migrate %d: %s", m.status, m.err);
	ck_assert_msg(tu_contains(m.err, "no_such_init"), "%s", m.err);
	tu_cairn_env(&r, d, env, NULL, "hooks", "list", NULL);
	ck_assert_msg(r.status == 2, "hooks list %d: %s%s", r.status, r.out, r.err);
	ck_assert_str_eq(r.err, m.err);
	tu_result_dispose(&r);
	tu_result_dispose(&m);
	free(db_arg);
	free(url);
	free(logenv);
	free(so);
	tu_rmrf(d);
	free(d);
}
END_TEST


#define WHICH_HOOK(tag)                                                      \
	"hooks:\n"                                                          \
	"  post_complete:\n"                                                \
	"    - name: which-" tag "\n"                                       \
	"      run: [sh, -c, \"echo " tag " >> .git/which.log\"]\n"

/* v1 commits one hook; the working tree's cairn.yaml has another. */
START_TEST(test_migrate_rev_runs_that_revisions_hooks)
{
	char *d = repo_with(WHICH_HOOK("v1")), *url, *db_arg, *log, *cfg;
	char *sha, *want;
	tu_result r;

	ck_assert_int_eq(tu_sh(d, "git tag v1"), 0);
	sha = tu_sh_out(d, "git rev-parse --short=12 v1");
	tu_write(d, "cairn.yaml", WHICH_HOOK("worktree"));
	url = tu_db_create("cfgrev");
	ck_assert_ptr_nonnull(url);
	if (asprintf(&db_arg, "--db=%s", url) < 0)
		abort();

	tu_cairn(&r, d, db_arg, "-v", "--rev", "v1", "migrate", "up", NULL);
	ck_assert_msg(r.status == 0, "migrate %d: %s%s", r.status, r.out, r.err);
	if (asprintf(&want, "config: cairn.yaml at v1 (%s)", sha) < 0)
		abort();
	ck_assert_msg(tu_contains(r.err, want), "want '%s' in: %s", want, r.err);
	tu_result_dispose(&r);
	log = git_file(d, "which.log");
	ck_assert_str_eq(log, "v1\n");
	free(log);
	/* the audit row says which configuration the run used */
	cfg = tu_db_value(url, "SELECT detail->>'config' FROM cairn.audit "
			       "WHERE outcome = 'applied' ORDER BY id DESC LIMIT 1");
	ck_assert_ptr_nonnull(cfg);
	ck_assert_msg(!strncmp(cfg, want + strlen("config: "), strlen(cfg)) &&
		      strlen(cfg) == strlen(want + strlen("config: ")),
		      "audit detail.config: %s", cfg);
	free(cfg);

	/* --worktree: the working tree's hook */
	tu_cairn(&r, d, db_arg, "-v", "--worktree", "hooks", "run",
		 "post_complete", NULL);
	ck_assert_msg(r.status == 0, "hooks run %d: %s%s", r.status, r.out, r.err);
	ck_assert_msg(tu_contains(r.err, "config: cairn.yaml in the working tree"),
		      "%s", r.err);
	tu_result_dispose(&r);
	log = git_file(d, "which.log");
	ck_assert_str_eq(log, "v1\nworktree\n");
	free(log);

	/* --config FILE: that file, with the migrations at --rev */
	tu_cairn(&r, d, db_arg, "-v", "--rev", "v1", "--config", "cairn.yaml",
		 "hooks", "run", "post_complete", NULL);
	ck_assert_msg(r.status == 0, "hooks run %d: %s%s", r.status, r.out, r.err);
	ck_assert_msg(tu_contains(r.err, "config: cairn.yaml (--config)"),
		      "%s", r.err);
	tu_result_dispose(&r);
	log = git_file(d, "which.log");
	ck_assert_str_eq(log, "v1\nworktree\nworktree\n");
	free(log);

	/* hooks list at v1 shows v1's hook */
	tu_cairn(&r, d, "--rev", "v1", "hooks", "list", NULL);
	ck_assert_msg(r.status == 0 && tu_contains(r.out, "which-v1") &&
		      !tu_contains(r.out, "which-worktree"), "%s%s", r.out, r.err);
	tu_result_dispose(&r);
	free(want);
	free(sha);
	free(db_arg);
	free(url);
	tu_rmrf(d);
	free(d);
}
END_TEST

/*
 * An sql hook's sql_file comes from the same revision as cairn.yaml: the
 * gate committed at v1 passes (expect: true); today's working-tree copy
 * would veto.  A file the revision lacks is a configuration error.
 */
START_TEST(test_sql_file_read_at_revision)
{
	char *d, *url, *db_arg, *n;
	tu_result r;

	d = tu_git_repo();
	tu_write(d, "db/migrations/0001_one.up.sql",
		 "CREATE TABLE cfg_one (id int);\n");
	tu_write(d, "checks/gate.sql", "SELECT true\n");
	tu_write(d, "cairn.yaml",
		 "hooks:\n"
		 "  post_execute:\n"
		 "    - name: gate\n"
		 "      sql_file: ./checks/gate.sql\n"
		 "      expect: true\n");
	free(tu_git_commit(d, "Ann Author", "ann@example.com", 1714564800,
			   "gate"));
	ck_assert_int_eq(tu_sh(d, "git tag v1"), 0);
	tu_write(d, "checks/gate.sql", "SELECT false\n");
	url = tu_db_create("cfgsql");
	ck_assert_ptr_nonnull(url);
	if (asprintf(&db_arg, "--db=%s", url) < 0)
		abort();

	/* the working tree's gate vetoes (on a database of its own)... */
	{
		char *url2 = tu_db_create("cfgsqlwt"), *arg2;

		ck_assert_ptr_nonnull(url2);
		if (asprintf(&arg2, "--db=%s", url2) < 0)
			abort();
		tu_cairn(&r, d, arg2, "--worktree", "migrate", "up", NULL);
		ck_assert_msg(r.status == 1, "worktree migrate %d: %s%s",
			      r.status, r.out, r.err);
		tu_result_dispose(&r);
		free(arg2);
		free(url2);
	}
	/* ...but v1 runs v1's gate */
	tu_cairn(&r, d, db_arg, "--rev", "v1", "migrate", "up", NULL);
	ck_assert_msg(r.status == 0, "migrate %d: %s%s", r.status, r.out, r.err);
	tu_result_dispose(&r);
	n = tu_db_value(url, "SELECT count(*) FROM cairn.migrations "
			     "WHERE status = 'applied'");
	ck_assert_str_eq(n, "1");
	free(n);

	/* a revision whose sql_file is missing: exit 2, named */
	tu_write(d, "cairn.yaml",
		 "hooks:\n"
		 "  post_execute:\n"
		 "    - name: gate\n"
		 "      sql_file: checks/missing.sql\n");
	free(tu_git_commit(d, "Ann Author", "ann@example.com", 1714568400,
			   "missing gate"));
	tu_cairn(&r, d, db_arg, "hooks", "list", NULL);
	ck_assert_msg(r.status == 2, "hooks list %d: %s%s", r.status, r.out, r.err);
	ck_assert_msg(tu_contains(r.err, "checks/missing.sql") &&
		      tu_contains(r.err, "not in revision"), "%s", r.err);
	tu_result_dispose(&r);
	free(db_arg);
	free(url);
	tu_rmrf(d);
	free(d);
}
END_TEST

START_TEST(test_revision_without_config)
{
	char *d = repo_with(NULL);
	tu_result r;

	/* no cairn.yaml anywhere: the defaults, as before */
	tu_cairn(&r, d, "-v", "validate", "--no-db", NULL);
	ck_assert_msg(r.status == 0, "validate %d: %s%s", r.status, r.out, r.err);
	ck_assert_msg(tu_contains(r.err, "config: built-in defaults"), "%s", r.err);
	tu_result_dispose(&r);

	/* only the working tree has one: an error that says so, with a hint */
	tu_write(d, "cairn.yaml", WHICH_HOOK("worktree"));
	tu_cairn(&r, d, "validate", "--no-db", NULL);
	ck_assert_msg(r.status == 2, "validate %d: %s%s", r.status, r.out, r.err);
	ck_assert_msg(tu_contains(r.err, "no cairn.yaml at revision 'HEAD'") &&
		      tu_contains(r.err, "--worktree") &&
		      tu_contains(r.err, "--config"), "%s", r.err);
	tu_result_dispose(&r);
	tu_cairn(&r, d, "--worktree", "validate", "--no-db", NULL);
	ck_assert_msg(r.status == 0, "validate --worktree %d: %s", r.status, r.err);
	tu_result_dispose(&r);

	/* a committed cairn.yaml that is a symlink is refused, not followed */
	tu_sh(d, "rm cairn.yaml && ln -s /etc/hostname cairn.yaml");
	free(tu_git_commit(d, "Ann Author", "ann@example.com", 1714568400,
			   "link"));
	tu_cairn(&r, d, "validate", "--no-db", NULL);
	ck_assert_msg(r.status == 2, "validate %d: %s%s", r.status, r.out, r.err);
	ck_assert_msg(tu_contains(r.err, "HEAD:cairn.yaml' is not a regular file"),
		      "%s", r.err);
	tu_result_dispose(&r);
	tu_rmrf(d);
	free(d);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("config_rev");
	TCase *tc = tcase_create("config_rev");

	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_validate_fires_pre_and_post_validate);
	tcase_add_test(tc, test_validate_hook_veto_fails_validate);
	tcase_add_test(tc, test_hooks_list_loads_plugins);
	tcase_add_test(tc, test_migrate_rev_runs_that_revisions_hooks);
	tcase_add_test(tc, test_revision_without_config);
	tcase_add_test(tc, test_sql_file_read_at_revision);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(suite());
	int failed;

	if (!tu_db_url()) {
		fprintf(stderr, "check_config_rev: CAIRN_TEST_DB_URL is not set "
				"(run through tests/run)\n");
		return EXIT_FAILURE;
	}
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
