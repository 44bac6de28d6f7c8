/*
 * check_audit_outcomes.c - every outcome of `cairn migrate` leaves its
 * audit row, with the event it happened at (issue 9, item 11), and
 * on_failure: ignore is silent (item 13).
 *
 * The real cairn binary on real git repositories made here and a fresh
 * database per test on tests/run's throwaway server.  Covered: a hook
 * failing after COMMIT (an exec hook and the audit-file built-in writing
 * to a path that cannot be opened, both at post_execute); an in-
 * transaction sql hook vetoing at pre_execute (row says pre_execute, not
 * post_execute); a veto at post_validate; refusals by validation (drift,
 * out-of-order, a badly named file) written under the deploy lock; and
 * refusals by the environment's guards (allowed_refs, require_clean_tree,
 * confirm without a terminal, and the validation of confirm's dry run),
 * written before any lock is taken.  Each time the chain still verifies.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <signal.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "testutil.h"

typedef struct {
	char *dir;
	char *url;
} project;

/* A repository whose development environment uses a fresh database. */
static void project_init(project *p, const char *hooks_yaml,
			 const char *env_extra)
{
	char yaml[8192];

	p->url = tu_db_create("aout");
	p->dir = tu_git_repo();
	snprintf(yaml, sizeof(yaml),
		 "migrations_dir: db/migrations\n"
		 "environments:\n"
		 "  development:\n"
		 "    database_url: \"%s\"\n"
		 "%s"
		 "hooks:\n%s",
		 p->url, env_extra ? env_extra : "",
		 hooks_yaml ? hooks_yaml : "  pre_validate: []\n");
	tu_write(p->dir, "cairn.yaml", yaml);
}

static void project_dispose(project *p)
{
	tu_rmrf(p->dir);
	free(p->dir);
	free(p->url);
}

static void commit(project *p, const char *msg)
{
	free(tu_git_commit(p->dir, "Ann Author", "ann@example.com",
			   1700000000, msg));
}

static long count_of(project *p, const char *sql)
{
	char *v = tu_db_value(p->url, sql);
	long n = v ? strtol(v, NULL, 10) : -1;

	free(v);
	return n;
}

/* "event|outcome|hook|version" of the newest audit row. */
static char *last_row(project *p)
{
	return tu_db_value(p->url,
			   "SELECT event || '|' || outcome || '|' || "
			   "coalesce(detail->>'hook', '-') || '|' || "
			   "coalesce(version::text, '-') FROM cairn.audit "
			   "ORDER BY id DESC LIMIT 1");
}

static void assert_last_row(project *p, const char *want)
{
	char *v = last_row(p);

	ck_assert_msg(v && !strcmp(v, want), "newest audit row: %s, want %s",
		      v ? v : "(none)", want);
	free(v);
}

static void verify_ok(project *p)
{
	tu_result r;

	tu_cairn(&r, p->dir, "audit", "verify", NULL);
	ck_assert_msg(r.status == 0, "verify: %d\n%s%s", r.status, r.out, r.err);
	tu_result_dispose(&r);
}

static void migrate_fails(project *p, int want)
{
	tu_result r;

	tu_cairn(&r, p->dir, "migrate", "up", NULL);
	ck_assert_msg(r.status == want, "migrate up: %d (want %d)\n%s%s",
		      r.status, want, r.out, r.err);
	tu_result_dispose(&r);
}

START_TEST(test_exec_hook_failing_after_commit_is_audited)
{
	project p;

	project_init(&p, "  post_execute:\n"
			 "    - { run: [\"false\"], name: after-commit }\n", NULL);
	tu_write(p.dir, "db/migrations/0001_a.up.sql", "CREATE TABLE a (x int);\n");
	tu_write(p.dir, "db/migrations/0002_b.up.sql", "CREATE TABLE b (x int);\n");
	commit(&p, "a b");
	migrate_fails(&p, 1);
	/* 1 committed, then its post_execute hook stopped the run */
	ck_assert_int_eq(count_of(&p, "SELECT count(*) FROM cairn.migrations"), 1);
	assert_last_row(&p, "post_execute|vetoed|after-commit|1");
	ck_assert_int_eq(count_of(&p, "SELECT count(*) FROM cairn.audit "
				  "WHERE detail->'error'->>'message' LIKE '%after-commit%'"), 1);
	verify_ok(&p);
	project_dispose(&p);
}
END_TEST

START_TEST(test_audit_file_unwritable_is_audited)
{
	project p;

	project_init(&p, "  post_execute:\n"
			 "    - builtin: audit-file\n"
			 "      name: mirror\n"
			 "      path: no/such/dir/audit.jsonl\n", NULL);
	tu_write(p.dir, "db/migrations/0001_a.up.sql", "CREATE TABLE a (x int);\n");
	commit(&p, "a");
	migrate_fails(&p, 1);
	ck_assert_int_eq(count_of(&p, "SELECT count(*) FROM cairn.migrations"), 1);
	assert_last_row(&p, "post_execute|vetoed|mirror|1");
	verify_ok(&p);
	project_dispose(&p);
}
END_TEST

START_TEST(test_pre_execute_sql_veto_has_its_event)
{
	project p;

	project_init(&p, "  pre_execute:\n"
			 "    - { sql: \"SELECT 1\", expect: 0, name: gate }\n", NULL);
	tu_write(p.dir, "db/migrations/0001_a.up.sql", "CREATE TABLE a (x int);\n");
	commit(&p, "a");
	migrate_fails(&p, 1);
	ck_assert_int_eq(count_of(&p, "SELECT count(*) FROM cairn.migrations"), 0);
	assert_last_row(&p, "pre_execute|vetoed|gate|1");
	ck_assert_int_eq(count_of(&p, "SELECT count(*) FROM cairn.audit "
				  "WHERE event = 'post_execute'"), 0);
	verify_ok(&p);
	project_dispose(&p);
}
END_TEST

START_TEST(test_post_validate_veto_is_audited)
{
	project p;

	project_init(&p, "  post_validate:\n"
			 "    - { run: [\"false\"], name: release-window }\n", NULL);
	tu_write(p.dir, "db/migrations/0001_a.up.sql", "CREATE TABLE a (x int);\n");
	commit(&p, "a");
	migrate_fails(&p, 1);
	assert_last_row(&p, "post_validate|vetoed|release-window|-");
	ck_assert_int_eq(count_of(&p, "SELECT count(*) FROM cairn.audit"), 1);
	verify_ok(&p);
	project_dispose(&p);
}
END_TEST

/* The newest row is a refusal whose findings include code. */
static void assert_refused(project *p, const char *by, const char *code)
{
	char sql[512];

	assert_last_row(p, "pre_validate|refused|-|-");
	snprintf(sql, sizeof(sql),
		 "SELECT count(*) FROM cairn.audit WHERE id = (SELECT max(id) "
		 "FROM cairn.audit) AND detail->>'refused_by' = '%s'%s%s%s",
		 by, code ? " AND detail->'findings' @> '[{\"code\": \"" : "",
		 code ? code : "", code ? "\"}]'" : "");
	ck_assert_msg(count_of(p, sql) == 1, "no refusal by %s (%s)", by,
		      code ? code : "-");
}

START_TEST(test_validation_refusals_are_audited)
{
	project p;
	tu_result r;

	project_init(&p, NULL, NULL);
	tu_write(p.dir, "db/migrations/0001_a.up.sql", "CREATE TABLE a (x int);\n");
	tu_write(p.dir, "db/migrations/0003_c.up.sql", "CREATE TABLE c (x int);\n");
	commit(&p, "a c");
	tu_cairn(&r, p.dir, "migrate", "up", NULL);
	ck_assert_msg(r.status == 0, "%s%s", r.out, r.err);
	tu_result_dispose(&r);

	/* out of order */
	tu_write(p.dir, "db/migrations/0002_b.up.sql", "CREATE TABLE b (x int);\n");
	commit(&p, "b");
	migrate_fails(&p, 1);
	assert_refused(&p, "validation", "out-of-order");
	tu_sh(p.dir, "git rm -q db/migrations/0002_b.up.sql");
	commit(&p, "no b");

	/* drift */
	tu_write(p.dir, "db/migrations/0001_a.up.sql", "CREATE TABLE a (x bigint);\n");
	commit(&p, "edit a");
	migrate_fails(&p, 1);
	assert_refused(&p, "validation", "drift");
	ck_assert_int_eq(tu_sh(p.dir, "git revert --no-edit HEAD >/dev/null"), 0);

	/* a file that is not a migration */
	tu_write(p.dir, "db/migrations/4_bad name.up.sql", "SELECT 1;\n");
	commit(&p, "bad name");
	migrate_fails(&p, 1);
	assert_last_row(&p, "pre_validate|refused|-|-");
	ck_assert_int_eq(count_of(&p, "SELECT count(*) FROM cairn.audit WHERE outcome = 'refused'"), 3);
	ck_assert_int_eq(count_of(&p, "SELECT count(*) FROM cairn.migrations"), 2);
	verify_ok(&p);
	project_dispose(&p);
}
END_TEST

START_TEST(test_guard_refusals_are_audited)
{
	project p;
	tu_result r;

	project_init(&p, NULL, "    allowed_refs: [refs/heads/main]\n"
			       "    require_clean_tree: true\n"
			       "    confirm: true\n");
	tu_write(p.dir, "db/migrations/0001_a.up.sql", "CREATE TABLE a (x int);\n");
	commit(&p, "a");
	ck_assert_int_eq(tu_sh(p.dir, "git checkout -q -b feature"), 0);
	tu_write(p.dir, "db/migrations/0002_b.up.sql", "CREATE TABLE b (x int);\n");
	commit(&p, "b");

	/* not on main: refused before any lock, still audited */
	tu_cairn(&r, p.dir, "migrate", "up", "--yes", NULL);
	ck_assert_msg(r.status == 1, "%d %s", r.status, r.err);
	tu_result_dispose(&r);
	assert_refused(&p, "allowed_refs", NULL);
	ck_assert_int_eq(tu_sh(p.dir, "git checkout -q main"), 0);

	/* a dirty tree */
	tu_write(p.dir, "db/migrations/0001_a.up.sql", "CREATE TABLE a (x bigint);\n");
	tu_cairn(&r, p.dir, "migrate", "up", "--yes", NULL);
	ck_assert_msg(r.status == 1, "%d %s", r.status, r.err);
	tu_result_dispose(&r);
	assert_refused(&p, "require_clean_tree", NULL);
	ck_assert_int_eq(tu_sh(p.dir, "git checkout -q -- ."), 0);

	/* confirmation needed, no terminal */
	tu_cairn(&r, p.dir, "migrate", "up", NULL);
	ck_assert_msg(r.status == 2, "%d %s", r.status, r.err);
	tu_result_dispose(&r);
	assert_refused(&p, "confirm", NULL);
	ck_assert_int_eq(count_of(&p, "SELECT count(*) FROM cairn.migrations"), 0);

	/* the confirmation's dry run finds a bad file: refused by validation */
	tu_write(p.dir, "db/migrations/notes.txt", "x\n");
	commit(&p, "notes");
	tu_cairn(&r, p.dir, "migrate", "up", NULL);
	ck_assert_msg(r.status == 1, "%d %s%s", r.status, r.out, r.err);
	tu_result_dispose(&r);
	assert_last_row(&p, "pre_validate|refused|-|-");
	ck_assert_int_eq(count_of(&p, "SELECT count(*) FROM cairn.audit WHERE outcome = 'refused'"), 4);
	verify_ok(&p);
	project_dispose(&p);
}
END_TEST

/* Polls sql until it yields want (up to 60 s); true when it did. */
static bool wait_for_count(project *p, const char *sql, long want)
{
	struct timespec pause = { 0, 50 * 1000 * 1000 };

	for (int i = 0; i < 1200; i++) {
		if (count_of(p, sql) == want)
			return true;
		nanosleep(&pause, NULL);
	}
	return false;
}

static bool wait_for_exit(pid_t pid)
{
	struct timespec pause = { 0, 50 * 1000 * 1000 };

	for (int i = 0; i < 1200; i++) {
		if (kill(pid, 0) < 0)
			return true;
		nanosleep(&pause, NULL);
	}
	return false;
}

START_TEST(test_lock_timeout_is_audited)
{
	project p;
	tu_result r;
	char *pid;

	project_init(&p, NULL, NULL);
	tu_write(p.dir, "db/migrations/0001_slow.up.sql", "SELECT pg_sleep(4);\n");
	commit(&p, "slow");
	pid = tu_sh_out(p.dir, "\"%s\" migrate up >slow.out 2>&1 & echo $!",
			tu_cairn_bin());
	ck_assert_msg(wait_for_count(&p,
		"SELECT count(*) FROM pg_stat_activity WHERE datname = "
		"current_database() AND pid <> pg_backend_pid() AND query LIKE "
		"'%pg_sleep(4)%'", 1), "the slow migration never started");
	tu_cairn(&r, p.dir, "migrate", "up", "--lock-timeout", "300ms", NULL);
	ck_assert_msg(r.status == 4, "%d %s", r.status, r.err);
	tu_result_dispose(&r);
	ck_assert(wait_for_exit((pid_t)strtol(pid, NULL, 10)));
	free(pid);
	ck_assert_int_eq(count_of(&p, "SELECT count(*) FROM cairn.migrations"), 1);
	ck_assert_int_eq(count_of(&p, "SELECT count(*) FROM cairn.audit WHERE "
				  "outcome = 'refused' AND event = 'pre_validate' "
				  "AND detail->>'refused_by' = 'deploy_lock'"), 1);
	verify_ok(&p);
	project_dispose(&p);
}
END_TEST

START_TEST(test_ignore_is_silent)
{
	project p;
	tu_result r;

	project_init(&p, "  pre_execute:\n"
			 "    - { run: [\"false\"], on_failure: ignore, name: hushed }\n"
			 "  post_complete:\n"
			 "    - { run: [\"false\"], on_failure: ignore, name: hushed2 }\n",
		     NULL);
	tu_write(p.dir, "db/migrations/0001_a.up.sql", "CREATE TABLE a (x int);\n");
	commit(&p, "a");
	tu_cairn(&r, p.dir, "migrate", "up", NULL);
	ck_assert_msg(r.status == 0, "%s%s", r.out, r.err);
	ck_assert_msg(!tu_contains(r.err, "hushed") && !tu_contains(r.out, "hushed"),
		      "ignore printed:\n%s%s", r.out, r.err);
	tu_result_dispose(&r);
	ck_assert_int_eq(count_of(&p, "SELECT count(*) FROM cairn.migrations"), 1);
	project_dispose(&p);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("audit_outcomes");
	TCase *tc = tcase_create("outcomes");

	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_exec_hook_failing_after_commit_is_audited);
	tcase_add_test(tc, test_audit_file_unwritable_is_audited);
	tcase_add_test(tc, test_pre_execute_sql_veto_has_its_event);
	tcase_add_test(tc, test_post_validate_veto_is_audited);
	tcase_add_test(tc, test_validation_refusals_are_audited);
	tcase_add_test(tc, test_guard_refusals_are_audited);
	tcase_add_test(tc, test_lock_timeout_is_audited);
	tcase_add_test(tc, test_ignore_is_silent);
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
